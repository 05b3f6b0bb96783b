//! The change feed (`GET /v1/changes`) and the snapshot export (`GET /v1/export`) that the tax
//! agency mirrors the register by. The guarantees and their costs are in the README, "Change
//! feed"; the ordering itself is the store's (`store::feed`).

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use futures_util::future::{FutureExt, Shared};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};

use super::auth::Caller;
use super::error::{problems, ApiError, ProblemBody};
use super::permissions;
use super::{db, AppState};
use crate::api::access_log::Action;
use crate::domain::license;
use crate::domain::record::{Enterprise, License, View};
use crate::store::enterprises::EventKind;
use crate::store::feed::{self, ExportError, Listener, RawEvent};

pub mod format;

pub use format::Cursor;
use format::{write_export, ExportWriter};

/// Wakes long polls when a writer commits. One LISTEN connection per instance (its own, not the
/// pool's), started at the first long poll, fans each notification out through a `watch`
/// channel; a waiting request holds no database connection, only a receiver. The notification is
/// only a wake-up: the woken request reads the table. While the listener is down, waiters poll
/// every 50 ms instead; while it is up, every second as a safety net.
pub struct FeedWaker {
    inner: Arc<WakerInner>,
    url: String,
}

struct WakerInner {
    tx: watch::Sender<u64>,
    started: OnceLock<()>,
    listening: AtomicBool,
}

/// How often the listener drains its socket (diesel exposes no socket to block on).
const LISTEN_TICK: Duration = Duration::from_millis(10);

impl FeedWaker {
    /// A waker for the database at `url` (nothing connects until the first long poll).
    pub fn new(url: &str) -> FeedWaker {
        FeedWaker {
            inner: Arc::new(WakerInner {
                tx: watch::channel(0).0,
                started: OnceLock::new(),
                listening: AtomicBool::new(false),
            }),
            url: url.to_string(),
        }
    }

    /// A receiver that changes after every notified commit (starts the listener if needed).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.started.get_or_init(|| {
            let inner = Arc::downgrade(&self.inner);
            let url = self.url.clone();
            let spawned = std::thread::Builder::new().name("feed-listener".into()).spawn(move || listen(inner, url));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot start the feed listener: long polls poll instead");
            }
        });
        self.inner.tx.subscribe()
    }

    /// Long polls waiting right now.
    pub fn waiting(&self) -> usize {
        self.inner.tx.receiver_count()
    }

    /// Whether the LISTEN connection is up.
    pub fn listening(&self) -> bool {
        self.inner.listening.load(Ordering::Relaxed)
    }
}

/// The listener thread: ends when its waker is dropped; reconnects when the connection fails.
fn listen(inner: Weak<WakerInner>, url: String) {
    while inner.strong_count() > 0 {
        match Listener::connect(&url) {
            Ok(listener) => {
                if !fan_out(&inner, listener) {
                    return;
                }
            }
            Err(e) => tracing::warn!(error = %e, "feed listener cannot connect; retrying"),
        }
        // Back off before reconnecting, but notice a dropped waker promptly.
        let until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < until && inner.strong_count() > 0 {
            std::thread::sleep(LISTEN_TICK * 5);
        }
    }
}

/// Wakes the waiters at each notification until the connection is lost (then `true`: reconnect)
/// or the waker is dropped (`false`).
fn fan_out(inner: &Weak<WakerInner>, mut listener: Listener) -> bool {
    let Some(strong) = inner.upgrade() else { return false };
    strong.listening.store(true, Ordering::Relaxed);
    // Commits may have happened while no one listened.
    strong.tx.send_modify(|n| *n = n.wrapping_add(1));
    drop(strong);
    tracing::debug!("feed listener connected");
    let mut checked = Instant::now();
    loop {
        std::thread::sleep(LISTEN_TICK);
        let Some(strong) = inner.upgrade() else { return false };
        let (woke, mut broken) = match listener.notified() {
            Ok(woke) => (woke, false),
            Err(_) => (false, true),
        };
        if !broken && checked.elapsed() > Duration::from_secs(5) {
            broken = !listener.is_alive();
            checked = Instant::now();
        }
        if woke || broken {
            strong.tx.send_modify(|n| *n = n.wrapping_add(1));
        }
        if broken {
            strong.listening.store(false, Ordering::Relaxed);
            tracing::warn!("feed listener lost its connection; reconnecting");
            return true;
        }
    }
}

/// A page of the feed ready to send: its JSON and what the access log records of it.
pub struct Page {
    body: Bytes,
    count: usize,
    first: i64,
    last: i64,
}

/// A page being read ahead: after, limit, view, when it was started, and its read.
type AheadPage = (i64, i64, View, Instant, PageFuture);

type PageFuture = Shared<Pin<Box<dyn Future<Output = Option<Arc<Page>>> + Send>>>;

/// The next page of each consumer catching up, read while the current one is on its way to it.
///
/// A consumer that reads a full page will most likely ask next for the page after it, but only
/// once it has received and handled this one: read one after the other, PostgreSQL, the service
/// and the consumer take turns and the cores idle. After answering a full page the instance starts
/// reading the next one (same `limit`, after the page's last position); the consumer's request for
/// it takes the finished page.
///
/// Only a full page is ever used. Positions are handed out in commit order, so the first `limit`
/// events after a position, once they are all visible, never change: a full page read a moment
/// ago is exactly what a new read would give. A short page may lack events committed since; it is
/// dropped and the request reads afresh. Pages are kept per instance, at most [`AHEAD_PAGES`] at
/// a time for [`AHEAD_KEEP`]: derived data that only saves work.
pub struct ReadAhead {
    pages: Mutex<Vec<AheadPage>>,
    hits: AtomicU64,
}

/// Pages read ahead at most at a time (one per consumer catching up).
const AHEAD_PAGES: usize = 4;
/// How long a page read ahead waits for its consumer.
const AHEAD_KEEP: Duration = Duration::from_secs(30);

impl Default for ReadAhead {
    fn default() -> Self {
        ReadAhead { pages: Mutex::new(Vec::new()), hits: AtomicU64::new(0) }
    }
}

impl ReadAhead {
    /// Pages answered from a read ahead, since the start.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Whether the page after `after` of `limit` events has been read ahead and waits to be taken.
    pub fn is_read(&self, after: i64, limit: i64, view: View) -> bool {
        let pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages.iter().any(|(a, l, v, _, f)| *a == after && *l == limit && *v == view && f.peek().is_some())
    }

    /// The page after `after` of `limit` events, when it was read ahead and is full.
    async fn take(&self, after: i64, limit: i64, view: View) -> Option<Arc<Page>> {
        let future = {
            let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
            let i = pages.iter().position(|(a, l, v, _, _)| *a == after && *l == limit && *v == view)?;
            pages.swap_remove(i).4
        };
        let page = future.await.filter(|p| p.count as i64 == limit)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(page)
    }

    /// Starts reading the page after `after` of `limit` events, unless it is being read already.
    fn start(&self, state: web::Data<AppState>, after: i64, limit: i64, view: View) {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages.retain(|(_, _, _, at, _)| at.elapsed() < AHEAD_KEEP);
        if pages.iter().any(|(a, l, v, _, _)| *a == after && *l == limit && *v == view) {
            return;
        }
        if pages.len() >= AHEAD_PAGES {
            // The oldest goes (its read, already spawned, finishes unused).
            drop(pages.remove(0));
        }
        let read: Pin<Box<dyn Future<Output = Option<Arc<Page>>> + Send>> =
            Box::pin(async move { read_page(&state, Cursor(after), limit, view).await.ok().map(Arc::new) });
        let future = read.shared();
        actix_web::rt::spawn(future.clone());
        pages.push((after, limit, view, Instant::now(), future));
    }
}

/// Reads the page after `after` and writes its JSON, on a database thread. Only an empty page
/// needs the feed's head, to refuse a cursor beyond it: events after a position prove it below.
async fn read_page(state: &AppState, after: Cursor, limit: i64, view: View) -> Result<Page, ApiError> {
    db(state, move |conn| {
        let events = feed::read_raw(conn, after.0, limit, view)?;
        if events.is_empty() && after.0 > feed::head(conn)? {
            return Err(invalid_cursor("beyond_head", "the cursor is beyond the feed's head"));
        }
        let next = events.last().map(|e| Cursor(e.position)).unwrap_or(after).encode();
        let body = page_json(&events, &next).map_err(|e| {
            tracing::error!(error = %e, "a stored record does not decode");
            ApiError::internal()
        })?;
        Ok(Page {
            body: Bytes::from(body),
            count: events.len(),
            first: events.first().map_or(0, |e| e.position),
            last: events.last().map_or(after.0, |e| e.position),
        })
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChangesParams {
    /// `next` of the previous page (or an export's cursor); absent = the beginning.
    #[param(pattern = "^[A-Za-z0-9_-]{23}$")]
    pub after: Option<String>,
    /// Events per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Seconds to wait for an event when there is none yet, 0 to 30 (default 0).
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u64>,
}

/// One event of the feed: a version of an enterprise, with the full record at that version.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedEvent<'a> {
    /// This event's position: resume after it with `?after=`.
    cursor: String,
    /// `registered`, `changed`, `status_changed`, `unit_registered`, `unit_changed`, `license_recorded`,
    /// `license_changed`, `beneficial_owners_changed`.
    kind: &'a str,
    code: &'a str,
    version: i32,
    recorded_at: DateTime<Utc>,
    effective_on: NaiveDate,
    actor: &'a str,
    changed_fields: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// For a `status_changed` event that ends the enterprise's right to operate (`ceased`,
    /// `revoked`, `tax_revoked`): its licences still in force, for the transport ministry to act on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses_in_force: Vec<License>,
    /// The record at this version, in the consumer's view (tax: the authority view, with
    /// beneficial owners; transport: the full view, without).
    // Serialised as `null`, which `page_json` replaces by the record's stored JSON text: the
    // record passes through as stored, never decoded and encoded again. Last, so that the
    // replaced `null` ends the object.
    #[schema(value_type = Enterprise)]
    record: (),
}

/// How a [`FeedEvent`] ends before its record is put in.
const RECORD_PLACEHOLDER: &[u8] = b"null}";

/// A page of the feed as JSON ([`ChangesPage`]): each event's fields, then its record's stored
/// JSON text as it is. Only an event that may end the right to operate has its record decoded,
/// for the licences still in force.
pub fn page_json(events: &[RawEvent], next: &str) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(64 + events.iter().map(|e| e.record.len() + 320).sum::<usize>());
    out.extend_from_slice(b"{\"events\":[");
    for (i, e) in events.iter().enumerate() {
        let licenses_in_force = if e.kind == EventKind::StatusChanged.as_str() {
            let record: Enterprise = serde_json::from_str(&e.record)?;
            license::to_report(record.status, e.reason.as_deref(), record.licenses(), e.effective_on)
        } else {
            Vec::new()
        };
        let event = FeedEvent {
            cursor: Cursor(e.position).encode(),
            kind: &e.kind,
            code: &e.code,
            version: e.version,
            recorded_at: e.recorded_at,
            effective_on: e.effective_on,
            actor: &e.actor,
            changed_fields: &e.changed_fields,
            reason: e.reason.as_deref(),
            licenses_in_force,
            record: (),
        };
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, &event)?;
        // The event ends in `"record":null}`: the stored record takes the place of `null`.
        debug_assert!(out.ends_with(RECORD_PLACEHOLDER));
        out.truncate(out.len() - RECORD_PLACEHOLDER.len());
        out.extend_from_slice(e.record.as_bytes());
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"next\":");
    serde_json::to_writer(&mut out, next)?;
    out.push(b'}');
    Ok(out)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangesPage<'a> {
    /// In feed order; empty when nothing is new (after `wait`).
    pub events: Vec<FeedEvent<'a>>,
    /// Where to resume: the last event's cursor, or `after` unchanged on an empty page.
    pub next: String,
}

fn invalid_cursor(code: &'static str, message: &str) -> ApiError {
    ApiError::new(problems::INVALID_CURSOR, format!("after: {message}"))
        .with_errors(vec![crate::domain::errors::FieldError::new("after", code, message)])
}

/// The change feed.
///
/// Every committed version of every enterprise, in one total order that agrees with each
/// enterprise's versions, each exactly once. Follow `next`; cursors never expire. With `wait`,
/// an empty page is held up to that many seconds and answered as soon as an event commits.
#[utoipa::path(
    get, path = "/v1/changes", tag = "feed",
    params(ChangesParams),
    responses(
        (status = 200, body = ChangesPage),
        (status = 400, description = "invalid_cursor (malformed, forged, or beyond the feed's head) or invalid_parameter", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn changes(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    params: web::Query<ChangesParams>,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::CHANGES.roles)?.clone();
    // Each consumer reads its own view: tax the authority view, transport the full one.
    let view = caller.view();
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_parameter("limit", "out_of_range", "limit is 1 to 1000"));
    }
    let wait = params.wait.unwrap_or(0);
    if wait > 30 {
        return Err(ApiError::bad_parameter("wait", "out_of_range", "wait is 0 to 30 seconds"));
    }
    let after = match params.after.as_deref() {
        None => Cursor::BEGINNING,
        Some(text) => Cursor::decode(text).ok_or_else(|| {
            invalid_cursor("invalid_cursor", "not a cursor of this feed: use `next` of a page or an export's cursor")
        })?,
    };
    let deadline = Instant::now() + Duration::from_secs(wait);
    let respond = |page: &Page| {
        state.access.consumer_read(&client, page.last);
        if page.count > 0 {
            let detail = format!("feed positions {} to {} ({} events)", page.first, page.last, page.count);
            state.access.record(&client, Action::Changes, None, Some(detail), super::request_id(&req));
        }
        // A consumer catching up asks for the next page next: read it meanwhile.
        if page.count as i64 == limit {
            state.feed_ahead.start(state.clone(), page.last, limit, view);
        }
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("application/json")
            .body(page.body.clone())
    };
    if let Some(page) = state.feed_ahead.take(after.0, limit, view).await {
        return Ok(respond(&page));
    }
    // Subscribed before the first read, so a commit between the read and the wait still wakes.
    let mut wake = (wait > 0).then(|| state.feed.subscribe());
    loop {
        if let Some(rx) = wake.as_mut() {
            rx.borrow_and_update();
        }
        let page = read_page(&state, after, limit, view).await?;
        let now = Instant::now();
        let rx = match wake.as_mut() {
            Some(rx) if page.count == 0 && now < deadline => rx,
            _ => return Ok(respond(&page)),
        };
        let poll = if state.feed.listening() { Duration::from_secs(1) } else { Duration::from_millis(50) };
        let until = tokio::time::Instant::from_std(deadline.min(now + poll));
        tokio::select! {
            changed = rx.changed() => {
                if changed.is_err() {
                    tokio::time::sleep_until(until).await;
                }
            }
            _ = tokio::time::sleep_until(until) => {}
        }
    }
}

/// Whether the request accepts a gzip body.
fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers().get_all(header::ACCEPT_ENCODING).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|e| {
        let mut parts = e.split(';');
        let name = parts.next().unwrap_or("").trim();
        let refused =
            parts.any(|p| matches!(p.trim().replace(' ', "").as_str(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
        name.eq_ignore_ascii_case("gzip") && !refused
    })
}

/// How long the export waits for a client that reads nothing before it gives up.
const EXPORT_STALL: Duration = Duration::from_secs(60);
/// Hands chunks to the response body through a bounded channel: the export goes no faster than
/// the client reads, and stops when the client goes away or stalls.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    rt: tokio::runtime::Handle,
    /// Once a send failed, every later write (the buffers' flush on drop) fails at once.
    failed: bool,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.failed {
            return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the export was abandoned"));
        }
        let chunk = Bytes::copy_from_slice(buf);
        let sent = self.rt.block_on(tokio::time::timeout(EXPORT_STALL, self.tx.send(Ok(chunk))));
        self.failed = !matches!(sent, Ok(Ok(())));
        match sent {
            Ok(Ok(())) => Ok(buf.len()),
            Ok(Err(_)) => Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")),
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the client stopped reading")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A snapshot of the whole register.
///
/// NDJSON (`application/x-ndjson`): a first line `{"cursor": "..."}`, then every enterprise
/// (full view), one per line, ordered by code, all from one consistent snapshot. Following the
/// feed from that cursor yields exactly the changes after the snapshot. Streamed in constant
/// memory; gzip when the request accepts it.
#[utoipa::path(
    get, path = "/v1/export", tag = "feed",
    responses(
        (status = 200, description = "NDJSON: the cursor line, then one record per line", content_type = "application/x-ndjson", body = String),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn export(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::EXPORT.roles)?.clone();
    stream_snapshot(&state, &req, client, Action::Export, "export", |conn, out, started| {
        write_export(conn, &mut &mut *out, false, |head, _| started(head), || {})
    })
    .await
}

/// Streams an NDJSON snapshot (`GET /v1/export`, `GET /v1/beneficial-owners/export`): `produce`
/// runs on a blocking thread with a connection of its own; the answer starts once its snapshot is
/// taken (an error before then is answered as a problem), the read is access-logged as `action`
/// with the snapshot's position, and the body is gzip when the request accepts it. A failure once
/// the body is under way ends it with an error, so the client sees it cut short.
pub(crate) async fn stream_snapshot(
    state: &AppState,
    req: &HttpRequest,
    client: crate::store::clients::Client,
    action: Action,
    what: &'static str,
    produce: impl FnOnce(&mut PgConnection, &mut dyn Write, &mut dyn FnMut(i64)) -> Result<u64, ExportError>
        + Send
        + 'static,
) -> Result<HttpResponse, ApiError> {
    let access = state.access.clone();
    let mut request_id = super::request_id(req);
    let gzip = accepts_gzip(req);
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let (started_tx, started_rx) = oneshot::channel::<Result<(), ApiError>>();
    let pool = state.pool.clone();
    let rt = tokio::runtime::Handle::current();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let mut conn = match pool.get() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, what, "no database connection for an export");
                let _ = started_tx.send(Err(ApiError::unavailable("the database is unavailable; try again shortly")));
                return;
            }
        };
        let mut out = ExportWriter::new(ChannelWriter { tx: tx.clone(), rt: rt.clone(), failed: false }, gzip);
        let mut started = Some(started_tx);
        let result = produce(&mut conn, &mut out, &mut |head| {
            tracing::info!(head, gzip, what, "export started");
            access.record(&client, action, None, Some(format!("snapshot at feed position {head}")), request_id.take());
            if let Some(s) = started.take() {
                let _ = s.send(Ok(()));
            }
        })
        .and_then(|n| out.finish().map(|_| n).map_err(ExportError::from));
        match result {
            Ok(n) => tracing::info!(records = n, what, "export finished"),
            Err(e) => {
                tracing::warn!(error = %e, what, "export stopped");
                match started.take() {
                    Some(s) => {
                        let _ = s.send(Err(match e {
                            ExportError::Store(e) => e.into(),
                            ExportError::Output(_) => ApiError::internal(),
                        }));
                    }
                    // The body is under way and the database failed: end it with an error so the
                    // client sees it cut short (when the client itself failed, no one is listening).
                    None if matches!(e, ExportError::Store(_)) => {
                        let failed = tx.send(Err(std::io::Error::other("the export failed")));
                        let _ = rt.block_on(tokio::time::timeout(EXPORT_STALL, failed));
                    }
                    None => {}
                }
            }
        }
    });
    started_rx.await.map_err(|_| ApiError::internal())??;
    // Dropping the body (the client went away) drops `rx`: the next send fails and the export's
    // transaction ends.
    let body = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    let mut res = HttpResponse::Ok();
    res.content_type("application/x-ndjson")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "Accept-Encoding"));
    if gzip {
        res.insert_header((header::CONTENT_ENCODING, "gzip"));
    }
    Ok(res.streaming(body))
}
