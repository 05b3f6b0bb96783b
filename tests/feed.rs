//! The change feed (`/v1/changes`), the snapshot export (`/v1/export`, `registry export`) and the
//! reference consumer (`registry mirror`): gapless, exactly once, resumable.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service as _, ServiceResponse};
use actix_web::test as atest;
use actix_web::web;
use chrono::Utc;
use common::cli::{registry, registry_bin, run_ok, Running};
use common::service::Service;
use common::*;
use diesel::{Connection, PgConnection, RunQueryDsl};
use registry::api::feed::Cursor;
use registry::api::{self, AppState};
use registry::domain::code::EnterpriseCode;
use registry::domain::reference::Reference;
use registry::domain::registration::RegistrationContent;
use registry::domain::{legal_date, Role};
use registry::store::enterprises::{self as enterprises, EventKind, WriteContext, WriteError, Written};
use registry::store::{self, feed};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Helpers

/// The app with its state in reach (to see how many long polls wait).
async fn app_with_state(
    db: &TestDb,
) -> (
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
    web::Data<AppState>,
) {
    let state = state_with(db, false);
    (atest::init_service(api::app(state.clone())).await, state)
}

/// Writes straight through the store, as the API does, from threads of its own.
#[derive(Clone)]
struct Writer {
    url: String,
    reference: Arc<Reference>,
}

impl Writer {
    fn new(db: &TestDb) -> Writer {
        Writer { url: db.url.clone(), reference: registry::domain::reference_data::reference() }
    }

    fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).unwrap()
    }

    fn ctx(actor: &str) -> WriteContext {
        let now = Utc::now();
        WriteContext { actor: actor.into(), at: now, effective_on: legal_date(now), reason: Some("feed test".into()) }
    }

    /// Registers `body`; `None` when the register refuses it (a generated name may conflict).
    fn register(&self, conn: &mut PgConnection, body: &Value) -> Option<String> {
        let content: RegistrationContent = serde_json::from_value(body.clone()).unwrap();
        let valid = content.validate_content(&self.reference, legal_date(Utc::now())).ok()?;
        match enterprises::register(conn, valid, &Self::ctx("writer"), None) {
            Ok(Written::Done(r)) => Some(r.code),
            Ok(Written::Replay(_)) => unreachable!("no idempotency key"),
            Err(WriteError::NameConflict(_)) | Err(WriteError::Invalid(_)) => None,
            Err(e) => panic!("registration failed: {e:?}"),
        }
    }

    /// Changes the head office's phone of `code` (whatever its version): one new version.
    fn change(&self, conn: &mut PgConnection, code: &str, n: usize) {
        let code = EnterpriseCode::parse(code).unwrap();
        loop {
            let current = enterprises::get(conn, &code).unwrap().unwrap();
            let ctx = Self::ctx("writer");
            let at = ctx.at;
            let result = enterprises::modify(conn, &code, current.version, EventKind::Changed, &ctx, |r| {
                let mut next = r.clone();
                next.version += 1;
                next.updated_at = at;
                next.head_office.phone = Some(format!("028 {:04} {:04}", n % 10_000, next.version));
                Ok(Some((next, vec!["head_office.phone".to_string()])))
            });
            match result {
                Ok(_) => return,
                Err(WriteError::VersionMismatch { .. }) => continue,
                Err(e) => panic!("change failed: {e:?}"),
            }
        }
    }
}

/// `n` generated registration bodies (distinct names, as the demo register's).
fn bodies(n: usize, seed: u64) -> Vec<Value> {
    let reference = registry::domain::reference_data::reference();
    let mut g = registry::cli::demo::generator(&reference, seed);
    (0..n).map(|_| g.next_registration()).collect()
}

fn position(cursor: &str) -> i64 {
    Cursor::decode(cursor).expect("a cursor the feed made").0
}

fn changes_path(after: Option<&str>, limit: i64, wait: u64) -> String {
    match after {
        Some(a) => format!("/v1/changes?after={a}&limit={limit}&wait={wait}"),
        None => format!("/v1/changes?limit={limit}&wait={wait}"),
    }
}

/// What a consumer has seen: each event's (position, code, version), in the order received.
#[derive(Default)]
struct Seen {
    events: Vec<(i64, String, i32)>,
}

impl Seen {
    fn take(&mut self, page: &Value) {
        for e in page["events"].as_array().unwrap() {
            let p = position(e["cursor"].as_str().unwrap());
            if let Some(last) = self.events.last() {
                assert!(p > last.0, "positions only grow: {p} after {}", last.0);
            }
            self.events.push((p, e["code"].as_str().unwrap().to_string(), e["version"].as_i64().unwrap() as i32));
        }
    }

    /// Every event exactly once, in an order consistent with each enterprise's versions, and no
    /// position skipped (no transaction of these tests rolls back after taking one).
    fn check_complete(&self, db: &TestDb) {
        let positions: Vec<i64> = self.events.iter().map(|e| e.0).collect();
        let expected: Vec<i64> = (1..=positions.len() as i64).collect();
        assert_eq!(positions, expected, "every position once, none skipped");
        assert_eq!(self.events.len() as i64, db.count("feed_events"));
        assert_eq!(self.events.len() as i64, db.count("enterprise_versions"));
        let mut versions: HashMap<&str, i32> = HashMap::new();
        for (p, code, v) in &self.events {
            let last = versions.entry(code).or_insert(0);
            assert_eq!(*v, *last + 1, "{code}: version {v} at position {p} follows version {last}");
            *last = *v;
        }
        for (code, v) in versions {
            assert_eq!(db.count(&format!("enterprises WHERE code = '{code}' AND version = {v}")), 1);
        }
    }
}

/// Polls `cond` every 10 ms until it holds, for at most `limit`.
fn until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Fires the transaction's deferred feed trigger now: its writes take their feed positions (and
/// the feed head's row lock) at once, instead of inside COMMIT.
fn take_position_now(conn: &mut PgConnection) {
    diesel::sql_query("SET CONSTRAINTS enterprise_versions_feed_event IMMEDIATE").execute(conn).unwrap();
}

fn lock_waiters(conn: &mut PgConnection) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .get_result::<N>(conn)
    .unwrap()
    .n
}

// ---------------------------------------------------------------------------------------------
// The feed's order

/// A transaction takes its position and holds it open while other writers try; a consumer polls
/// all the while. Then writers with randomly staggered commits (a pause between taking the
/// position and COMMIT). The consumer ends with every event exactly once, no position skipped,
/// each enterprise's versions in order.
/// `/metrics` tells how far behind each consumer is, and the slowest one's lag.
#[actix_web::test]
async fn metrics_show_each_consumers_lag() {
    let db = TestDb::new();
    let (app, state) = app_with_state(&db).await;
    let tax = db.key("tax", Role::Tax);
    let transport = db.key("transport", Role::Transport);
    let writer = Writer::new(&db);
    let mut conn = writer.conn();
    let registered = bodies(20, 5).iter().filter_map(|b| writer.register(&mut conn, b)).take(5).count();
    assert_eq!(registered, 5);
    let metric = |text: &str, name: &str| -> Option<f64> {
        text.lines().find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
    };
    // The tax agency reads two of five events; the ministry everything.
    let r = send(&app, get(&changes_path(None, 2, 0), Some(&tax))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let next = r.body["next"].as_str().unwrap().to_string();
    let r = send(&app, get(&changes_path(None, 1000, 0), Some(&transport))).await;
    assert_eq!(r.body["events"].as_array().unwrap().len(), 5);
    assert!(state.access.flush(&state.pool));
    let m = send(&app, get("/metrics", None)).await.text;
    assert_eq!(metric(&m, "registry_feed_consumer_lag_positions{client=\"tax\"}"), Some(3.0), "{m}");
    assert_eq!(metric(&m, "registry_feed_consumer_lag_positions{client=\"transport\"}"), Some(0.0), "{m}");
    assert_eq!(metric(&m, "registry_feed_consumer_lag_seconds{client=\"transport\"}"), Some(0.0), "{m}");
    let tax_lag = metric(&m, "registry_feed_consumer_lag_seconds{client=\"tax\"}").expect("the tax agency's lag");
    assert!(tax_lag > 0.0, "position 3 was recorded before now: {m}");
    assert_eq!(metric(&m, "registry_feed_slowest_consumer_lag_seconds"), Some(tax_lag));
    // Once it has read everything, nobody lags.
    let r = send(&app, get(&changes_path(Some(&next), 1000, 0), Some(&tax))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(state.access.flush(&state.pool));
    let m = send(&app, get("/metrics", None)).await.text;
    assert_eq!(metric(&m, "registry_feed_consumer_lag_positions{client=\"tax\"}"), Some(0.0), "{m}");
    assert_eq!(metric(&m, "registry_feed_slowest_consumer_lag_seconds"), Some(0.0), "{m}");
}

/// A full page makes the instance read the next one ahead; the consumer's request for it takes it.
/// Only a full page read ahead is used: a short one may lack what committed since.
#[actix_web::test]
async fn the_next_page_is_read_ahead_and_only_a_full_one_is_used() {
    let db = TestDb::new();
    let (app, state) = app_with_state(&db).await;
    let tax = db.key("tax", Role::Tax);
    let writer = Writer::new(&db);
    let mut conn = writer.conn();
    let all = bodies(40, 23);
    let registered = all[..20].iter().filter_map(|b| writer.register(&mut conn, b)).take(5).count();
    assert_eq!(registered, 5);
    let page = |after: Option<String>| {
        let path = changes_path(after.as_deref(), 2, 0);
        let tax = tax.clone();
        let app = &app;
        async move {
            let r = send(app, get(&path, Some(&tax))).await;
            assert_eq!(r.status, 200, "{}", r.text);
            let positions: Vec<i64> =
                r.body["events"].as_array().unwrap().iter().map(|e| position(e["cursor"].as_str().unwrap())).collect();
            (positions, r.body["next"].as_str().unwrap().to_string())
        }
    };
    // Waits (without blocking the runtime that runs it) until the page after `after` is read.
    let ahead_read = |after: i64| {
        let state = state.clone();
        async move {
            let start = Instant::now();
            while !state.feed_ahead.is_read(after, 2, registry::domain::record::View::Authority) {
                assert!(start.elapsed() < Duration::from_secs(10), "the page after {after} was not read ahead");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    // Positions 1-2: a full page; the instance reads 3-4 meanwhile.
    let (first, next) = page(None).await;
    assert_eq!(first, vec![1, 2]);
    ahead_read(2).await;
    let (second, next) = page(Some(next)).await;
    assert_eq!(second, vec![3, 4]);
    assert_eq!(state.feed_ahead.hits(), 1, "the second page was the one read ahead");
    // Full again: position 5 alone is read ahead, a short page.
    ahead_read(4).await;
    for body in &all[20..] {
        if writer.register(&mut conn, body).is_some() {
            break;
        }
    }
    // A short page read ahead is not used: the consumer gets 5 and the registration since.
    let (third, _) = page(Some(next)).await;
    assert_eq!(third, vec![5, 6], "a page read ahead before position 6 committed must not be served");
    assert_eq!(state.feed_ahead.hits(), 1);
}

#[actix_web::test]
async fn no_gaps_when_commits_are_staggered() {
    let db = TestDb::new();
    let (app, _state) = app_with_state(&db).await;
    let tax = db.key("tax", Role::Tax);
    let writer = Writer::new(&db);
    let all = bodies(200, 11);
    let mut conn = writer.conn();
    let mut codes: Vec<String> = all[..8].iter().filter_map(|b| writer.register(&mut conn, b)).collect();
    assert!(codes.len() >= 6);

    let mut seen = Seen::default();
    let r = send(&app, get(&changes_path(None, 1000, 0), Some(&tax))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    seen.take(&r.body);
    let mut next = r.body["next"].as_str().unwrap().to_string();

    // 1. One transaction writes, takes its position, and holds it before COMMIT.
    let (taken_tx, taken_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let held = {
        let writer = writer.clone();
        let code = codes[0].clone();
        std::thread::spawn(move || {
            let mut conn = writer.conn();
            conn.transaction::<_, diesel::result::Error, _>(|conn| {
                writer.change(conn, &code, 1);
                // A write takes its position inside COMMIT (migration feed_at_commit); taken now,
                // this is the moment between the position and the end of that COMMIT, held open.
                take_position_now(conn);
                taken_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                Ok(())
            })
            .unwrap();
        })
    };
    taken_rx.recv().unwrap();
    // Later writers (other enterprises, new registrations) now try, and wait.
    let later: Vec<_> = (0..4)
        .map(|i| {
            let writer = writer.clone();
            let code = codes[1 + i].clone();
            let body = all[20 + i].clone();
            std::thread::spawn(move || {
                let mut conn = writer.conn();
                writer.change(&mut conn, &code, 100 + i);
                writer.register(&mut conn, &body);
            })
        })
        .collect();
    let mut probe = writer.conn();
    until(Duration::from_secs(10), "the later writers to wait for the feed head", || lock_waiters(&mut probe) >= 4);
    // While the early position is open, the consumer sees nothing after it: not the later writers.
    for _ in 0..3 {
        let r = send(&app, get(&changes_path(Some(&next), 1000, 0), Some(&tax))).await;
        assert_eq!(r.body["events"], json!([]), "nothing is visible past an open position");
        assert_eq!(r.body["next"], next.as_str());
    }
    release_tx.send(()).unwrap();
    held.join().unwrap();
    for h in later {
        h.join().unwrap();
    }

    // 2. Writers with staggered commits, a consumer polling all the while.
    let done = Arc::new(AtomicUsize::new(0));
    codes.extend(all[30..60].iter().filter_map(|b| writer.register(&mut conn, b)));
    let threads = 6;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let writer = writer.clone();
            let codes = codes.clone();
            let bodies: Vec<Value> = all[60 + t * 20..60 + (t + 1) * 20].to_vec();
            let done = done.clone();
            std::thread::spawn(move || {
                let mut conn = writer.conn();
                for i in 0..40 {
                    let pause = Duration::from_millis(rand::random::<u64>() % 15);
                    conn.transaction::<_, diesel::result::Error, _>(|conn| {
                        if i % 2 == 0 {
                            writer.register(conn, &bodies[i / 2]);
                        } else {
                            writer.change(conn, &codes[(t * 7 + i) % codes.len()], t * 1000 + i);
                        }
                        // The deliberate stagger: half of them take their position now and
                        // commit later; the others pause before COMMIT, which takes it.
                        if i % 4 < 2 {
                            take_position_now(conn);
                        }
                        std::thread::sleep(pause);
                        Ok(())
                    })
                    .unwrap();
                }
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    loop {
        let finished = done.load(Ordering::SeqCst) == threads;
        let r = send(&app, get(&changes_path(Some(&next), 7, 0), Some(&tax))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        seen.take(&r.body);
        next = r.body["next"].as_str().unwrap().to_string();
        if finished && r.body["events"].as_array().unwrap().is_empty() {
            break;
        }
        actix_web::rt::task::yield_now().await;
    }
    for h in handles {
        h.join().unwrap();
    }
    seen.check_complete(&db);
    assert!(seen.events.len() > 200, "{}", seen.events.len());
}

// ---------------------------------------------------------------------------------------------
// Long polls

#[actix_web::test]
async fn a_long_poll_returns_within_100_ms_of_a_commit() {
    let db = TestDb::new();
    let (app, state) = app_with_state(&db).await;
    let tax = db.key("tax", Role::Tax);
    let writer = Writer::new(&db);
    let all = bodies(4, 21);
    let mut conn = writer.conn();
    let code = writer.register(&mut conn, &all[0]).unwrap();
    let head = Cursor(feed::head(&mut conn).unwrap()).encode();

    for round in 0..3 {
        let (tx, rx) = mpsc::channel::<Instant>();
        let w = writer.clone();
        let code = code.clone();
        let st = state.clone();
        let t = std::thread::spawn(move || {
            until(Duration::from_secs(10), "the long poll to wait", || st.feed.waiting() >= 1);
            let mut conn = w.conn();
            w.change(&mut conn, &code, round);
            tx.send(Instant::now()).unwrap();
        });
        let after = if round == 0 { head.clone() } else { String::new() };
        let after = if after.is_empty() { Cursor(feed::head(&mut conn).unwrap()).encode() } else { after };
        let r = send(&app, get(&changes_path(Some(&after), 10, 10), Some(&tax))).await;
        let returned = Instant::now();
        let committed = rx.recv().unwrap();
        t.join().unwrap();
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["events"].as_array().unwrap().len(), 1, "{}", r.text);
        if round > 0 {
            // Woken by the notification: while listening, the safety poll is a second apart.
            assert!(state.feed.listening(), "the LISTEN connection is up");
        }
        let latency = returned.saturating_duration_since(committed);
        assert!(latency < Duration::from_millis(100), "round {round}: answered {latency:?} after the commit");
    }
    assert_eq!(state.feed.waiting(), 0);
}

#[actix_web::test]
async fn an_idle_long_poll_returns_an_empty_page_after_wait() {
    let db = TestDb::new();
    let (app, state) = app_with_state(&db).await;
    let tax = db.key("tax", Role::Tax);
    let start = Instant::now();
    let r = send(&app, get(&changes_path(None, 10, 1), Some(&tax))).await;
    let took = start.elapsed();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["events"], json!([]));
    assert_eq!(r.body["next"], Cursor::BEGINNING.encode().as_str(), "an empty page keeps the cursor");
    assert!(took >= Duration::from_secs(1) && took < Duration::from_millis(1800), "{took:?}");
    assert_eq!(state.feed.waiting(), 0);
}

#[actix_web::test]
async fn a_client_that_leaves_a_long_poll_leaves_nothing_behind() {
    let db = TestDb::new();
    let (app, state) = app_with_state(&db).await;
    let tax = db.key("tax", Role::Tax);
    for _ in 0..3 {
        let req = get(&changes_path(None, 10, 30), Some(&tax)).to_request();
        let call = app.call(req);
        let gone = tokio::time::timeout(Duration::from_millis(300), call).await;
        assert!(gone.is_err(), "the poll was still waiting");
        assert_eq!(state.feed.waiting(), 0, "the dropped request holds no receiver");
    }
    // No pooled connection is held by a waiting request either.
    let pool_state = state.pool.state();
    assert_eq!(pool_state.connections, pool_state.idle_connections);
}

// ---------------------------------------------------------------------------------------------
// Cursors, parameters, roles

#[actix_web::test]
async fn cursors_are_opaque_and_checked() {
    let db = TestDb::new();
    let app = app(&db).await;
    let tax = db.key("tax", Role::Tax);
    let portal = db.key("portal", Role::Portal);
    for i in 0..3 {
        let r = send(
            &app,
            post_json(
                "/v1/enterprises",
                Some(&portal),
                &registration("jsc", ["An Phát", "Bình Minh", "Cường Thịnh"][i]),
            ),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = send(&app, get("/v1/changes?limit=2", Some(&tax))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let next = r.body["next"].as_str().unwrap().to_string();
    assert_eq!(position(&next), 2);
    let again = send(&app, get(&format!("/v1/changes?after={next}"), Some(&tax))).await;
    assert_eq!(again.body["events"].as_array().unwrap().len(), 1);
    assert_eq!(position(again.body["events"][0]["cursor"].as_str().unwrap()), 3);

    let refused = |r: &Reply, code: &str| {
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["type"], "invalid_cursor", "{}", r.text);
        assert!(r.has_error("after", code), "{}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    };
    // Malformed.
    for bad in ["abc", "2", "%20", "AAAAAAAAAAAAAAAAAAAAAAA", &next[..next.len() - 1]] {
        refused(&send(&app, get(&format!("/v1/changes?after={bad}"), Some(&tax))).await, "invalid_cursor");
    }
    // Forged: the position edited, the checksum not.
    use base64::Engine;
    let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&next).unwrap();
    bytes[8] ^= 1;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
    refused(&send(&app, get(&format!("/v1/changes?after={forged}"), Some(&tax))).await, "invalid_cursor");
    // Well formed, but beyond the head.
    let ahead = Cursor(4).encode();
    refused(&send(&app, get(&format!("/v1/changes?after={ahead}"), Some(&tax))).await, "beyond_head");
    let at_head = send(&app, get(&format!("/v1/changes?after={}", Cursor(3).encode()), Some(&tax))).await;
    assert_eq!((at_head.status, at_head.body["events"].clone()), (200, json!([])));
}

#[actix_web::test]
async fn limit_and_wait_are_bounded() {
    let db = TestDb::new();
    let app = app(&db).await;
    let tax = db.key("tax", Role::Tax);
    for (query, field) in [("limit=0", "limit"), ("limit=1001", "limit"), ("wait=31", "wait"), ("limit=-1", "limit")] {
        let r = send(&app, get(&format!("/v1/changes?{query}"), Some(&tax))).await;
        assert_eq!(r.status, 400, "{query}: {}", r.text);
        assert!(r.has_error(field, "out_of_range"), "{query}: {}", r.text);
    }
    for query in ["limit=abc", "wait=-1", "wait=x", "unknown=1"] {
        let r = send(&app, get(&format!("/v1/changes?{query}"), Some(&tax))).await;
        assert_eq!((r.status, r.body["type"].as_str()), (400, Some("invalid_parameter")), "{query}: {}", r.text);
    }
    for query in ["limit=1", "limit=1000&wait=0"] {
        let r = send(&app, get(&format!("/v1/changes?{query}"), Some(&tax))).await;
        assert_eq!(r.status, 200, "{query}: {}", r.text);
    }
}

#[actix_web::test]
async fn only_tax_and_transport_read_the_feed_and_only_tax_exports() {
    let db = TestDb::new();
    let app = app(&db).await;
    let keys: Vec<(Role, String)> = [Role::Tax, Role::Transport, Role::Portal, Role::Admin]
        .into_iter()
        .map(|r| (r, db.key(&format!("{r:?}").to_lowercase(), r)))
        .collect();
    assert_eq!(send(&app, get("/v1/changes", None)).await.status, 401);
    assert_eq!(send(&app, get("/v1/export", None)).await.status, 401);
    for (role, key) in &keys {
        let feed = send(&app, get("/v1/changes", Some(key))).await;
        let export = send(&app, get("/v1/export", Some(key))).await;
        let (want_feed, want_export) = match role {
            Role::Tax | Role::Admin => (200, 200),
            Role::Transport => (200, 403),
            _ => (403, 403),
        };
        assert_eq!((feed.status, export.status), (want_feed, want_export), "{role:?}: {} {}", feed.text, export.text);
        if feed.status == 403 {
            assert_eq!(feed.body["type"], "forbidden");
        }
    }
    let post = send(&app, post_json("/v1/changes", Some(&keys[0].1), &json!({}))).await;
    assert_eq!(post.status, 405);
    let doc = send(&app, get("/openapi.json", None)).await;
    for path in ["/v1/changes", "/v1/export"] {
        assert!(doc.body["paths"][path]["get"].is_object(), "{path} missing from the OpenAPI document");
    }
}

#[actix_web::test]
async fn events_carry_the_full_record_at_their_version() {
    let db = TestDb::new();
    let app = app(&db).await;
    let tax = db.key("tax", Role::Tax);
    let portal = db.key("portal", Role::Portal);
    let r = send(&app, post_json("/v1/enterprises", Some(&portal), &appendix_a())).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let code = r.body["code"].as_str().unwrap().to_string();
    let v1 = r.body.clone();
    let status = post_json(
        &format!("/v1/enterprises/{code}/status"),
        Some(&portal),
        &json!({"status": "suspended", "effective_on": first_suspension_day().to_string(),
            "until": (first_suspension_day() + chrono::Days::new(180)).to_string(), "reason": "Tạm ngừng kinh doanh"}),
    )
    .insert_header(("If-Match", "\"v1\""));
    let r = send(&app, status).await;
    assert_eq!(r.status, 201, "filed for its day: {}", r.text);
    let v2 = r.body.clone();

    let page = send(&app, get("/v1/changes", Some(&tax))).await;
    let events = page.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(page.body["next"], events[1]["cursor"]);
    let e = &events[0];
    assert_eq!(
        (e["kind"].as_str(), e["code"].as_str(), e["version"].as_i64()),
        (Some("registered"), Some(code.as_str()), Some(1))
    );
    assert_eq!(e["record"], v1, "the full record at version 1, owners and identities included");
    assert!(e["record"]["owners"].as_array().is_some_and(|o| !o.is_empty()));
    assert_eq!(e["actor"], "portal");
    for field in ["recorded_at", "effective_on", "changed_fields", "cursor"] {
        assert!(!e[field].is_null(), "{field}");
    }
    let e = &events[1];
    assert_eq!((e["kind"].as_str(), e["version"].as_i64()), (Some("status_changed"), Some(2)));
    assert_eq!(e["record"], v2);
    assert_eq!(e["reason"], "Tạm ngừng kinh doanh");
    assert_eq!(e["changed_fields"], json!(["scheduled_changes"]), "the suspension is filed for its day");
    assert_eq!(e["record"]["status"], "active");

    // On its day the register applies it: an ordinary event, by actor `schedule`, with the
    // suspension's own effective date.
    let day = first_suspension_day();
    assert_eq!(run_schedule(&db, day), 1);
    let page =
        send(&app, get(&format!("/v1/changes?after={}", events[1]["cursor"].as_str().unwrap()), Some(&tax))).await;
    let events = page.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{}", page.text);
    let e = &events[0];
    assert_eq!((e["kind"].as_str(), e["version"].as_i64()), (Some("status_changed"), Some(3)));
    assert_eq!((e["actor"].as_str(), e["effective_on"].as_str()), (Some("schedule"), Some(day.to_string().as_str())));
    assert_eq!(e["changed_fields"], json!(["status", "status_until", "scheduled_changes"]));
    assert_eq!(
        (e["record"]["status"].as_str(), e["record"]["scheduled_changes"].as_array().map(Vec::len)),
        (Some("suspended"), Some(0))
    );
    assert_eq!(e["reason"], "Tạm ngừng kinh doanh");
}

// ---------------------------------------------------------------------------------------------
// Export

fn ndjson(text: &str) -> (String, Vec<Value>) {
    let mut lines = text.split_terminator('\n');
    let header: Value = serde_json::from_str(lines.next().expect("a first line")).unwrap();
    let records = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    (header["cursor"].as_str().expect("the first line is the cursor").to_string(), records)
}

fn gunzip(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes).read_to_string(&mut out).unwrap();
    out
}

/// Writes race the export; following the feed from its cursor then yields exactly the changes
/// after the snapshot: for every enterprise, the versions after the exported one, and nothing of
/// what the export already holds.
#[actix_web::test]
async fn the_export_cursor_resumes_exactly_after_the_snapshot() {
    let db = TestDb::new();
    let app = app(&db).await;
    let tax = db.key("tax", Role::Tax);
    let writer = Writer::new(&db);
    let all = bodies(400, 31);
    let mut conn = writer.conn();
    let codes: Vec<String> = all[..40].iter().filter_map(|b| writer.register(&mut conn, b)).collect();

    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (writer, codes, stop, written) = (writer.clone(), codes.clone(), stop.clone(), written.clone());
            let bodies: Vec<Value> = all[40 + t * 90..40 + (t + 1) * 90].to_vec();
            std::thread::spawn(move || {
                let mut conn = writer.conn();
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) && i < 180 {
                    if i % 2 == 0 {
                        writer.register(&mut conn, &bodies[i / 2]);
                    } else {
                        writer.change(&mut conn, &codes[(t * 13 + i) % codes.len()], i);
                    }
                    written.fetch_add(1, Ordering::SeqCst);
                    i += 1;
                }
            })
        })
        .collect();
    until(Duration::from_secs(20), "writes before the export", || written.load(Ordering::SeqCst) >= 20);
    let r = send(&app, get("/v1/export", Some(&tax))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    let at_export = written.load(Ordering::SeqCst);
    until(Duration::from_secs(20), "writes after the export", || written.load(Ordering::SeqCst) >= at_export + 20);
    stop.store(true, Ordering::SeqCst);
    for h in handles {
        h.join().unwrap();
    }

    let (cursor, records) = ndjson(&r.text);
    let snapshot: BTreeMap<String, Value> =
        records.into_iter().map(|r| (r["code"].as_str().unwrap().to_string(), r)).collect();
    let codes_in_order: Vec<&String> = snapshot.keys().collect();
    assert!(codes_in_order.windows(2).all(|w| w[0] < w[1]), "ordered by code");
    // The snapshot is exactly the register as of the cursor's position.
    let head_at_export = position(&cursor);
    let mut versions_at_export: HashMap<String, i64> = HashMap::new();
    #[derive(diesel::QueryableByName)]
    struct Ev {
        #[diesel(sql_type = diesel::sql_types::Text)]
        code: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        version: i32,
    }
    let upto: Vec<Ev> = diesel::sql_query(format!(
        "SELECT code, max(version) AS version FROM feed_events WHERE position <= {head_at_export} GROUP BY code"
    ))
    .load(&mut conn)
    .unwrap();
    for e in upto {
        versions_at_export.insert(e.code, e.version as i64);
    }
    assert_eq!(snapshot.len(), versions_at_export.len());
    for (code, record) in &snapshot {
        assert_eq!(record["version"].as_i64(), versions_at_export.get(code).copied(), "{code}");
    }

    // Following the feed from the cursor: exactly the versions after the snapshot.
    let mut copy = snapshot.clone();
    let mut next = cursor.clone();
    let mut after_snapshot = 0;
    loop {
        let page = send(&app, get(&changes_path(Some(&next), 50, 0), Some(&tax))).await;
        let events = page.body["events"].as_array().unwrap().clone();
        if events.is_empty() {
            break;
        }
        for e in events {
            let code = e["code"].as_str().unwrap().to_string();
            let version = e["version"].as_i64().unwrap();
            let held = copy.get(&code).map(|r| r["version"].as_i64().unwrap()).unwrap_or(0);
            assert_eq!(version, held + 1, "{code}: the feed from the export's cursor gives the next version");
            copy.insert(code, e["record"].clone());
            after_snapshot += 1;
        }
        next = page.body["next"].as_str().unwrap().to_string();
    }
    assert!(after_snapshot >= 20, "writes raced the export: {after_snapshot}");
    let register: BTreeMap<String, Value> =
        store::mirror::register_records(&mut conn).unwrap().into_iter().map(|r| (r.code, r.record)).collect();
    assert_eq!(copy.len(), register.len());
    assert!(copy == register, "export + feed = the register");
}

#[actix_web::test]
async fn the_export_is_gzipped_when_the_client_accepts_it() {
    let db = TestDb::new();
    let app = app(&db).await;
    let tax = db.key("tax", Role::Tax);
    let writer = Writer::new(&db);
    let mut conn = writer.conn();
    let n = bodies(30, 41).iter().filter_map(|b| writer.register(&mut conn, b)).count();

    let plain = send(&app, get("/v1/export", Some(&tax))).await;
    assert_eq!(plain.header("content-encoding"), None);
    let req = get("/v1/export", Some(&tax)).insert_header(("Accept-Encoding", "br;q=0.5, gzip"));
    let res = atest::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("content-encoding").unwrap(), "gzip");
    assert_eq!(res.headers().get("content-type").unwrap(), "application/x-ndjson");
    let bytes = atest::read_body(res).await;
    let unzipped = gunzip(&bytes);
    assert_eq!(unzipped, plain.text);
    let (cursor, records) = ndjson(&unzipped);
    assert_eq!(position(&cursor), n as i64);
    assert_eq!(records.len(), n);
    assert!(records.iter().all(|r| r["owners"].is_array()), "full view");
    // gzip refused with q=0: plain.
    let req = get("/v1/export", Some(&tax)).insert_header(("Accept-Encoding", "gzip;q=0"));
    assert_eq!(send(&app, req).await.header("content-encoding"), None);
}

#[test]
fn registry_export_writes_the_snapshot_to_a_file() {
    let db = TestDb::new();
    let writer = Writer::new(&db);
    let mut conn = writer.conn();
    let n = bodies(25, 51).iter().filter_map(|b| writer.register(&mut conn, b)).count();
    let dir = tempfile::tempdir().unwrap();
    for (name, gzip) in [("register.ndjson", false), ("register.ndjson.gz", true)] {
        let file = dir.path().join(name);
        run_ok({
            let mut c = registry(&db);
            c.arg("export").arg(&file);
            c
        });
        let bytes = std::fs::read(&file).unwrap();
        let text = if gzip { gunzip(&bytes) } else { String::from_utf8(bytes).unwrap() };
        let (cursor, records) = ndjson(&text);
        assert_eq!(position(&cursor), n as i64);
        assert_eq!(records.len(), n);
        let register = store::mirror::register_records(&mut conn).unwrap();
        assert!(records.iter().zip(&register).all(|(a, b)| *a == b.record), "{name}: the register, in code order");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "no temporary file left: {left:?}");
}

// ---------------------------------------------------------------------------------------------
// The reference consumer

fn mirror(base: &str, key: &str, target: &TestDb, once: bool) -> Running {
    let mut c = registry_bin();
    c.args(["mirror", "--url", base, "--key", key, "--target-url", &target.url, "--wait", "2", "--page", "200"]);
    if once {
        c.arg("--once");
    }
    Running(c.spawn().unwrap())
}

fn mirror_cursor(target: &mut PgConnection) -> Option<i64> {
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        e: bool,
    }
    let exists = diesel::sql_query("SELECT to_regclass('mirror_state') IS NOT NULL AS e")
        .get_result::<Exists>(target)
        .unwrap()
        .e;
    if !exists {
        return None;
    }
    store::mirror::cursor(target).unwrap().map(|c| position(&c))
}

/// 8 writers make some 2,000 registrations and changes while the mirror exports, follows the
/// feed, and is killed (SIGKILL) and restarted twice; in the end its copy equals the register,
/// record for record.
#[test]
fn the_mirror_survives_kills_and_ends_equal_to_the_register() {
    let db = TestDb::new();
    let target = TestDb::new();
    let tax = db.key("tax-mirror", Role::Tax);
    let writer = Writer::new(&db);
    let all = bodies(1000, 61);
    let mut conn = writer.conn();
    // Some register to export before the writers start.
    let mut codes: Vec<String> = all[..150].iter().filter_map(|b| writer.register(&mut conn, b)).collect();
    codes.truncate(120);
    let data = tempfile::tempdir().unwrap();
    let server = Service::start(&db, data.path());
    let base = server.base.clone();

    let writers = 8;
    let per_writer = 230; // ~1,840 writes, plus the 150 above
    let finished = Arc::new(AtomicUsize::new(0));
    let written = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..writers)
        .map(|t| {
            let (writer, codes, finished, written) = (writer.clone(), codes.clone(), finished.clone(), written.clone());
            let bodies: Vec<Value> = all[150 + t * 100..150 + (t + 1) * 100].to_vec();
            std::thread::spawn(move || {
                let mut conn = writer.conn();
                let mut mine: Vec<String> = Vec::new();
                let mut next_body = 0;
                for i in 0..per_writer {
                    if i % 5 < 2 && next_body < bodies.len() {
                        if let Some(c) = writer.register(&mut conn, &bodies[next_body]) {
                            mine.push(c);
                        }
                        next_body += 1;
                    } else if i % 5 == 2 && !mine.is_empty() {
                        writer.change(&mut conn, &mine[i % mine.len()], i);
                    } else {
                        writer.change(&mut conn, &codes[(t * 31 + i * 7) % codes.len()], t * 1000 + i);
                    }
                    written.fetch_add(1, Ordering::SeqCst);
                }
                finished.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();

    let mut tconn = target.conn();
    // 1. Killed early: during (or just before) its first export.
    until(Duration::from_secs(20), "writes to begin", || written.load(Ordering::SeqCst) >= 10);
    let mut m = mirror(&base, &tax, &target, false);
    until(Duration::from_secs(20), "the mirror to create its tables", || {
        diesel::sql_query("SELECT 1 FROM pg_tables WHERE tablename = 'mirror_state'").execute(&mut tconn).unwrap() == 1
    });
    m.0.kill().unwrap();
    m.0.wait().unwrap();
    let first = mirror_cursor(&mut tconn);

    // 2. Restarted; killed again while it follows the feed.
    let m2 = mirror(&base, &tax, &target, false);
    until(Duration::from_secs(30), "the mirror to export", || mirror_cursor(&mut tconn).is_some());
    let exported_at = mirror_cursor(&mut tconn).unwrap();
    until(Duration::from_secs(30), "the mirror to follow the feed", || {
        mirror_cursor(&mut tconn).unwrap() > exported_at || finished.load(Ordering::SeqCst) == writers
    });
    drop(m2);
    let second = mirror_cursor(&mut tconn).unwrap();

    // 3. Restarted for good; the writers finish; it catches up.
    let _m3 = mirror(&base, &tax, &target, false);
    for h in handles {
        h.join().unwrap();
    }
    let took = started.elapsed();
    let head = feed::head(&mut conn).unwrap();
    until(Duration::from_secs(30), "the mirror to catch up", || mirror_cursor(&mut tconn) == Some(head));
    let copy = store::mirror::records(&mut tconn).unwrap();
    let register = store::mirror::register_records(&mut conn).unwrap();
    assert!(db.count("feed_events") >= 1800, "thousands of writes: {}", db.count("feed_events"));
    assert_eq!(copy.len(), register.len());
    for (a, b) in copy.iter().zip(&register) {
        assert_eq!(a, b, "record for record");
    }
    let writes = written.load(Ordering::SeqCst);
    eprintln!(
        "mirror: killed at cursor {first:?} and {second} (export at {exported_at}), caught up at {head}; {} records; \
         {writes} writes by {writers} writers in {took:.1?} ({:.0}/s)",
        copy.len(),
        writes as f64 / took.as_secs_f64()
    );

    // A one-shot run on the caught-up copy changes nothing and exits.
    let mut once = mirror(&base, &tax, &target, true);
    let status = once.0.wait().unwrap();
    assert!(status.success());
    assert_eq!(store::mirror::records(&mut tconn).unwrap(), copy);

    // What the register's schedule applies on its day reaches the mirror as ordinary events.
    let code = &codes[0];
    let version = stored(&db, code)["version"].as_i64().unwrap();
    let portal = db.key("portal-mirror", Role::Portal);
    let day = first_suspension_day();
    let r = reqwest::blocking::Client::new()
        .post(format!("{base}/v1/enterprises/{code}/status"))
        .bearer_auth(&portal)
        .header("If-Match", format!("\"v{version}\""))
        .json(&json!({"status": "suspended", "effective_on": day.to_string(), "until": (day + chrono::Days::new(60)).to_string()}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    run_schedule(&db, day);
    assert_eq!(stored(&db, code)["status"], "suspended");
    let mut once = mirror(&base, &tax, &target, true);
    assert!(once.0.wait().unwrap().success());
    let copy = store::mirror::records(&mut tconn).unwrap();
    assert_eq!(copy, store::mirror::register_records(&mut conn).unwrap());
    assert!(copy.iter().any(|r| r.code == *code && r.record["status"] == "suspended"));
}

/// A client that goes away mid-export ends the export's transaction and frees its connection at
/// once (the register is made large enough that the export is still under way).
#[actix_web::test]
async fn an_export_whose_client_goes_away_ends_its_transaction() {
    use futures_util::future::poll_fn;

    let db = TestDb::new();
    let (app, state) = app_with_state(&db).await;
    let tax = db.key("tax", Role::Tax);
    let writer = Writer::new(&db);
    let mut conn = writer.conn();
    assert!(bodies(3, 71).iter().filter_map(|b| writer.register(&mut conn, b)).count() > 0);
    // Copies of one record under 5,000 more codes: several MB of export.
    #[derive(diesel::QueryableByName)]
    struct Col {
        #[diesel(sql_type = diesel::sql_types::Text)]
        column_name: String,
    }
    let cols: Vec<String> = diesel::sql_query(
        "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'enterprises' ORDER BY ordinal_position",
    )
    .load::<Col>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|c| c.column_name)
    .collect();
    let select: Vec<String> = cols
        .iter()
        .map(|c| match c.as_str() {
            "code" => "'9' || lpad(g::text, 9, '0')".to_string(),
            "record" => "jsonb_set(record, '{code}', to_jsonb('9' || lpad(g::text, 9, '0')))".to_string(),
            other => other.to_string(),
        })
        .collect();
    diesel::sql_query(format!(
        "INSERT INTO enterprises ({}) SELECT {} FROM (SELECT * FROM enterprises LIMIT 1) e, generate_series(1, 5000) g",
        cols.join(", "),
        select.join(", ")
    ))
    .execute(&mut conn)
    .unwrap();

    let res = atest::call_service(&app, get("/v1/export", Some(&tax)).to_request()).await;
    assert_eq!(res.status(), 200);
    let mut body = Box::pin(res.into_body());
    let first = match poll_fn(|cx| body.as_mut().poll_next(cx)).await {
        Some(Ok(bytes)) => bytes,
        _ => panic!("the export sends a first chunk"),
    };
    assert!(first.starts_with(b"{\"cursor\":"));
    let busy = |conn: &mut PgConnection| {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        // The export's session (its last statement declared or fetched from its cursor), not
        // the access log's batch writer, which may be flushing at that moment.
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND state <> 'idle' AND query LIKE '%registry_export%'",
        )
        .get_result::<N>(conn)
        .unwrap()
        .n
    };
    assert_eq!(busy(&mut conn), 1, "the export's transaction is open while the client reads");
    drop(body);
    let start = Instant::now();
    loop {
        let pool = state.pool.state();
        if busy(&mut conn) == 0 && pool.connections == pool.idle_connections {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "the export did not stop");
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
}
