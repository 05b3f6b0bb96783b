//! Each instance's buffer of personal-data reads, written to PostgreSQL in batches by one thread:
//! a read costs the request a push under a mutex, never a database round trip. The buffer is
//! flushed every `interval` or as soon as it holds `batch` entries, and on shutdown. While the
//! database is away entries wait (up to `capacity`; beyond it the oldest are dropped, counted and
//! logged, never blocking reads).
//!
//! The same thread writes where each consumer of the change feed has read up to (its latest page
//! only), for `/metrics`' consumer lag.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::Utc;

use crate::store::access_log::{self, NewEntry};
use crate::store::clients::Client;
use crate::store::feed::{self, ConsumerPosition};
use crate::store::PgPool;
use diesel::PgConnection;

pub struct AccessLog {
    inner: Arc<Inner>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct Inner {
    queue: Mutex<VecDeque<NewEntry>>,
    /// The latest feed position sent to each consumer since the last write, by client.
    positions: Mutex<HashMap<String, ConsumerPosition>>,
    wake: Condvar,
    stop: AtomicBool,
    written: AtomicU64,
    dropped: AtomicU64,
    batch: usize,
    capacity: usize,
}

/// What one read was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The full view of one enterprise (now or `as_of`).
    Enterprise,
    /// Claims about one enterprise verified.
    Verify,
    /// A snapshot export of every enterprise.
    Export,
    /// A page of the change feed (full records).
    Changes,
    /// One enterprise's record in the authority view (with beneficial owners).
    AuthorityView,
    /// One enterprise's beneficial owners, declared and computed.
    BeneficialOwners,
    /// The enterprises a person controls (the identity number in the detail).
    Control,
    /// A page of the enterprises with discrepancies.
    Discrepancies,
    /// The BODS export of the whole register.
    BodsExport,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Enterprise => "enterprise",
            Action::Verify => "verify",
            Action::Export => "export",
            Action::Changes => "changes",
            Action::AuthorityView => "authority_view",
            Action::BeneficialOwners => "beneficial_owners",
            Action::Control => "control",
            Action::Discrepancies => "discrepancies",
            Action::BodsExport => "bods_export",
        }
    }
}

impl AccessLog {
    /// Starts the writer thread.
    pub fn start(pool: PgPool, interval: Duration) -> AccessLog {
        let inner = Arc::new(Inner {
            queue: Mutex::new(VecDeque::new()),
            positions: Mutex::new(HashMap::new()),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            batch: 500,
            capacity: 200_000,
        });
        let worker = inner.clone();
        let thread = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || worker.run(&pool, interval))
            .expect("start the access-log thread");
        AccessLog { inner, thread: Mutex::new(Some(thread)) }
    }

    /// Records a read by `client` (cheap: a push onto the buffer).
    pub fn record(
        &self,
        client: &Client,
        action: Action,
        code: Option<&str>,
        detail: Option<String>,
        request_id: Option<String>,
    ) {
        let entry = NewEntry {
            read_at: Utc::now(),
            client: client.name.clone(),
            role: client.role.as_str().to_string(),
            code: code.map(str::to_string),
            action: action.as_str().to_string(),
            detail,
            request_id,
        };
        let mut queue = self.inner.queue.lock().unwrap_or_else(|p| p.into_inner());
        if queue.len() >= self.inner.capacity {
            queue.pop_front();
            self.inner.dropped.fetch_add(1, Ordering::Relaxed);
        }
        queue.push_back(entry);
        if queue.len() >= self.inner.batch {
            self.inner.wake.notify_one();
        }
    }

    /// Records that `client` was sent the feed up to `position` (cheap: an insert into a map).
    pub fn consumer_read(&self, client: &Client, position: i64) {
        let entry = ConsumerPosition {
            client: client.name.clone(),
            role: client.role.as_str().to_string(),
            position,
            read_at: Utc::now(),
        };
        self.inner.positions.lock().unwrap_or_else(|p| p.into_inner()).insert(entry.client.clone(), entry);
    }

    /// Entries waiting to be written.
    pub fn pending(&self) -> usize {
        self.inner.queue.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn written(&self) -> u64 {
        self.inner.written.load(Ordering::Relaxed)
    }

    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Writes what is buffered now (tests, and shutdown).
    pub fn flush(&self, pool: &PgPool) -> bool {
        self.inner.write_pending(pool) & self.inner.write_positions(pool)
    }

    /// Stops the thread after a last flush.
    pub fn shutdown(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        self.inner.wake.notify_one();
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl Drop for AccessLog {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Inner {
    fn run(&self, pool: &PgPool, interval: Duration) {
        loop {
            {
                let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                if queue.len() < self.batch && !self.stop.load(Ordering::SeqCst) {
                    let _ = self.wake.wait_timeout(queue, interval);
                }
            }
            let ok = self.write_pending(pool) & self.write_positions(pool);
            if self.stop.load(Ordering::SeqCst) {
                if !ok {
                    let left = self.queue.lock().unwrap_or_else(|p| p.into_inner()).len();
                    tracing::error!(entries = left, "access-log entries could not be written before shutdown");
                }
                return;
            }
            if !ok {
                // The database is away: wait before retrying, entries stay queued.
                std::thread::sleep(interval);
            }
        }
    }

    /// Writes the consumers' latest positions; on failure keeps those not superseded meanwhile.
    fn write_positions(&self, pool: &PgPool) -> bool {
        let positions: Vec<ConsumerPosition> =
            std::mem::take(&mut *self.positions.lock().unwrap_or_else(|p| p.into_inner())).into_values().collect();
        if positions.is_empty() {
            return true;
        }
        match with_conn(pool, |conn| feed::record_positions(conn, &positions)) {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, consumers = positions.len(), "feed consumers' positions not written yet; will retry");
                let mut map = self.positions.lock().unwrap_or_else(|p| p.into_inner());
                for p in positions {
                    map.entry(p.client.clone()).or_insert(p);
                }
                false
            }
        }
    }

    /// Writes everything queued; on failure puts it back at the front. True when nothing failed.
    fn write_pending(&self, pool: &PgPool) -> bool {
        let batch: Vec<NewEntry> = {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            queue.drain(..).collect()
        };
        if batch.is_empty() {
            return true;
        }
        match with_conn(pool, |conn| access_log::insert(conn, &batch)) {
            Ok(()) => {
                self.written.fetch_add(batch.len() as u64, Ordering::Relaxed);
                true
            }
            Err(error) => {
                tracing::warn!(%error, entries = batch.len(), "access log not written yet; will retry");
                let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                let room = self.capacity.saturating_sub(queue.len());
                let keep = batch.len().min(room);
                let lost = batch.len() - keep;
                if lost > 0 {
                    self.dropped.fetch_add(lost as u64, Ordering::Relaxed);
                    tracing::error!(entries = lost, "access-log buffer full: oldest entries dropped");
                }
                for entry in batch.into_iter().skip(lost).rev() {
                    queue.push_front(entry);
                }
                false
            }
        }
    }
}

/// Runs a write on a pooled connection; either failure (no connection, the write) as its message.
fn with_conn(
    pool: &PgPool,
    write: impl FnOnce(&mut PgConnection) -> Result<(), crate::store::StoreError>,
) -> Result<(), String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    write(&mut conn).map_err(|e| e.to_string())
}
