//! The index an instance serves: opened from the current generation, following the change feed
//! (and keeping the record cache current on the way), switching to a rebuilt generation, and
//! warmed for serving.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::PgConnection;
use registry_index::SearchIndex;

use crate::domain::record::Enterprise;
use crate::indexer::cache::{Cached, RecordCache};
use crate::indexer::document::document;
use crate::store::{self, PgPool};

/// Events applied per index commit while catching up.
pub const BATCH: i64 = 1000;

/// The index an instance serves, and what it knows of its own lag.
pub struct Search {
    root: PathBuf,
    current: RwLock<(PathBuf, Arc<SearchIndex>)>,
    /// The feed head last seen by the follower.
    head: AtomicI64,
    /// Milliseconds since the epoch of the oldest event not yet applied (0 when caught up).
    behind_since_ms: AtomicI64,
    failing: AtomicBool,
    /// Fault injection for the fault suite (`REGISTRY_FAILPOINTS_DIR`): while the file
    /// `index-commit` exists in this directory, index commits fail as a full disk would make them.
    failpoints: Option<PathBuf>,
    /// The record cache this follower keeps current, if the service has one.
    cache: OnceLock<Arc<RecordCache>>,
}

/// What `/readyz` and `/metrics` report about the index.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct IndexStatus {
    /// The feed position the index has applied.
    pub position: i64,
    /// The feed head the follower last saw.
    pub head: i64,
    pub lag_events: i64,
    pub lag_seconds: f64,
    pub documents: u64,
    /// Whether the last attempt to apply the feed failed.
    pub failing: bool,
}

impl Search {
    /// Opens the current generation under `root` (creating a first, empty one).
    pub fn open(root: &Path) -> anyhow::Result<Arc<Search>> {
        std::fs::create_dir_all(root)?;
        let index = match registry_index::open_current(root) {
            Ok(index) => index,
            // Another process holds the index (a second `registry serve` on the same data
            // directory): replacing it would pull the index from under that process.
            Err(e) if e.is_locked_by_another_writer() => anyhow::bail!(
                "the search index under {} is in use by another process (is another `registry serve` running \
                 with the same data directory? each instance needs its own)",
                root.display()
            ),
            Err(e) => {
                // Derived data: an index that cannot be opened is replaced by an empty one, which
                // the follower fills from the feed.
                tracing::error!(error = %e, root = %root.display(), "the search index cannot be opened; starting a new one from the feed");
                let dir = registry_index::new_generation_dir(root)?;
                let index = SearchIndex::open_or_create(&dir)?;
                index.commit(0)?;
                registry_index::swap_in(root, &dir)?;
                index
            }
        };
        let dir =
            registry_index::current_dir(root)?.ok_or_else(|| anyhow::anyhow!("no current search index generation"))?;
        let search = Search {
            root: root.to_path_buf(),
            current: RwLock::new((dir, Arc::new(index))),
            head: AtomicI64::new(0),
            behind_since_ms: AtomicI64::new(0),
            failing: AtomicBool::new(false),
            cache: OnceLock::new(),
            failpoints: std::env::var_os("REGISTRY_FAILPOINTS_DIR").map(PathBuf::from),
        };
        search.remove_old_generations();
        Ok(Arc::new(search))
    }

    /// The index to answer a request with.
    pub fn index(&self) -> Arc<SearchIndex> {
        self.current.read().expect("index lock").1.clone()
    }

    pub fn status(&self) -> IndexStatus {
        let index = self.index();
        let position = index.position().unwrap_or(0) as i64;
        let head = self.head.load(Ordering::Relaxed).max(position);
        let since = self.behind_since_ms.load(Ordering::Relaxed);
        let lag_seconds = if since == 0 || head == position {
            0.0
        } else {
            ((Utc::now().timestamp_millis() - since).max(0) as f64) / 1000.0
        };
        IndexStatus {
            position,
            head,
            lag_events: head - position,
            lag_seconds,
            documents: index.num_docs(),
            failing: self.failing.load(Ordering::Relaxed),
        }
    }

    /// Keeps `cache` current from the feed as well (once; later calls are ignored).
    pub fn feed_cache(&self, cache: Arc<RecordCache>) {
        let _ = self.cache.set(cache);
    }

    /// Applies every event after the index's position, in feed order, committing each batch with
    /// its last position. Returns how many events it applied.
    pub fn catch_up(&self, conn: &mut PgConnection) -> anyhow::Result<usize> {
        self.switch_if_swapped()?;
        let index = self.index();
        let mut applied = 0;
        loop {
            let after = index.position().unwrap_or(0) as i64;
            let head = store::feed::head(conn)?;
            self.head.store(head, Ordering::Relaxed);
            // Idle polls stop at the head: nothing above it exists yet.
            let events = if head > after { store::feed::read(conn, after, BATCH)? } else { Vec::new() };
            let Some(last) = events.last().map(|e| e.position) else {
                self.behind_since_ms.store(0, Ordering::Relaxed);
                // Read to the head: every cached record is as current as the feed was just now.
                if let Some(cache) = self.cache.get() {
                    cache.followed();
                }
                return Ok(applied);
            };
            if self.behind_since_ms.load(Ordering::Relaxed) == 0 {
                self.behind_since_ms.store(events[0].recorded_at.timestamp_millis(), Ordering::Relaxed);
            }
            // The last event of each enterprise in the batch is its current state.
            let mut latest: HashMap<&str, &Enterprise> = HashMap::new();
            for e in &events {
                latest.insert(&e.code, &e.record);
            }
            let codes: Vec<String> = latest.keys().map(|c| c.to_string()).collect();
            let former = store::enterprises::former_names(conn, &codes)?;
            for (code, record) in latest {
                let doc = document(record, former.get(code).cloned().unwrap_or_default());
                index.upsert(&doc)?;
                // Every record read goes into the cache, so that a look-up racing this event (it
                // read the version before) cannot put the older version back after it: a put
                // never replaces a newer version.
                if let (Some(cache), Some(views)) = (self.cache.get(), doc.record) {
                    cache.put_cached(code, Arc::new(Cached::from_views(views)));
                }
            }
            if self.failpoints.as_ref().is_some_and(|dir| dir.join("index-commit").exists()) {
                anyhow::bail!("failpoint index-commit: the index cannot be written");
            }
            index.commit(last as u64)?;
            applied += events.len();
            let behind = events.len() as i64 == BATCH;
            self.behind_since_ms.store(
                if behind {
                    store::feed::recorded_at(conn, last + 1)?.map(|t| t.timestamp_millis()).unwrap_or(0)
                } else {
                    0
                },
                Ordering::Relaxed,
            );
            if !behind {
                if let Some(cache) = self.cache.get() {
                    cache.followed();
                }
                return Ok(applied);
            }
        }
    }

    /// If `registry reindex` swapped a new generation in, serve it from now on (after catching
    /// it up), and remove the old one once nothing reads it.
    fn switch_if_swapped(&self) -> anyhow::Result<()> {
        let Some(dir) = registry_index::current_dir(&self.root)? else { return Ok(()) };
        if self.current.read().expect("index lock").0 == dir {
            return Ok(());
        }
        let index = Arc::new(SearchIndex::open_or_create(&dir)?);
        tracing::info!(generation = %dir.display(), position = ?index.position(), "serving the rebuilt search index");
        if let Err(e) = warm_in_background(index.clone()) {
            tracing::warn!(error = %e, "the rebuilt search index is not warmed; its first reads pay");
        }
        let old = std::mem::replace(&mut *self.current.write().expect("index lock"), (dir, index));
        // The new generation may start past events the cache never saw: start it afresh.
        if let Some(cache) = self.cache.get() {
            cache.clear();
        }
        drop(old);
        self.remove_old_generations();
        Ok(())
    }

    /// Deletes generations other than the current one (left by a rebuild or a crash).
    fn remove_old_generations(&self) {
        let current = self.current.read().expect("index lock").0.clone();
        let Ok(entries) = std::fs::read_dir(&self.root) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_generation = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("gen-"));
            if is_generation && path != current {
                match registry_index::remove_generation(&self.root, &path) {
                    Ok(()) => tracing::info!(generation = %path.display(), "removed an old search index generation"),
                    Err(e) => tracing::debug!(error = %e, generation = %path.display(), "old generation kept"),
                }
            }
        }
    }

    /// Follows the feed in a thread of its own until the `Search` is dropped: applies new events
    /// every `interval` (at once when it is behind), and retries with back-off after a failure.
    pub fn follow(self: &Arc<Self>, pool: PgPool, interval: Duration) -> std::thread::JoinHandle<()> {
        let weak: Weak<Search> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("index-follower".into())
            .spawn(move || {
                let mut backoff = interval;
                loop {
                    let Some(search) = weak.upgrade() else { return };
                    let started = Instant::now();
                    let result =
                        pool.get().map_err(anyhow::Error::from).and_then(|mut conn| search.catch_up(&mut conn));
                    match result {
                        Ok(n) => {
                            if search.failing.swap(false, Ordering::Relaxed) {
                                tracing::info!("the search index follows the feed again");
                            }
                            if n > 0 {
                                tracing::debug!(
                                    events = n,
                                    elapsed_ms = started.elapsed().as_millis() as u64,
                                    "index caught up"
                                );
                            }
                            backoff = interval;
                        }
                        Err(e) => {
                            if !search.failing.swap(true, Ordering::Relaxed) {
                                tracing::warn!(error = %e, "the search index cannot follow the feed; retrying");
                            }
                            backoff = (backoff * 2).min(Duration::from_secs(5));
                        }
                    }
                    drop(search);
                    std::thread::sleep(backoff);
                }
            })
            .expect("spawn the index follower")
    }
}

/// Prepares an index for serving on a thread of its own: the dense lists of the words most names
/// hold (which the first suggestions and searches would each pay for), then the stored records
/// read into the page cache (which the first look-up of each would wait for). Run when the
/// service starts and when it switches to a rebuilt generation. The thread ends with how many
/// lists it built and how many bytes of stored records it read.
pub fn warm_in_background(index: Arc<SearchIndex>) -> std::io::Result<std::thread::JoinHandle<(usize, u64)>> {
    std::thread::Builder::new().name("index-warm".into()).spawn(move || {
        let started = Instant::now();
        let lists = match index.warm() {
            Ok(lists) => {
                tracing::info!(lists, ms = started.elapsed().as_millis() as u64, "search index warmed");
                lists
            }
            Err(e) => {
                tracing::warn!(error = %e, "the search index could not be warmed; words are decoded on first use");
                0
            }
        };
        let started = Instant::now();
        let bytes = match index.prefetch_stores() {
            Ok(bytes) => {
                tracing::info!(
                    bytes,
                    ms = started.elapsed().as_millis() as u64,
                    "the search index's stored records read into the page cache"
                );
                bytes
            }
            Err(e) => {
                tracing::warn!(error = %e, "the stored records could not be read ahead; look-ups read them on first use");
                0
            }
        };
        (lists, bytes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry_index::EnterpriseDoc;

    #[test]
    fn a_second_process_on_the_same_index_fails_instead_of_replacing_it() {
        let root = tempfile::tempdir().unwrap();
        let first = Search::open(root.path()).unwrap();
        let dir = registry_index::current_dir(root.path()).unwrap().unwrap();
        first.index().upsert(&EnterpriseDoc { code: "0100000001".into(), ..Default::default() }).unwrap();
        first.index().commit(7).unwrap();
        // The lock tantivy takes is the same across processes and within one.
        let second = Search::open(root.path());
        let message = format!("{:#}", second.err().expect("the second open fails"));
        assert!(message.contains("in use by another process"), "{message}");
        assert_eq!(registry_index::current_dir(root.path()).unwrap().unwrap(), dir, "the generation is still current");
        assert_eq!((first.index().num_docs(), first.index().position()), (1, Some(7)));
        drop(first);
        // Once the first is gone, the index opens as it was.
        let again = Search::open(root.path()).unwrap();
        assert_eq!((again.index().num_docs(), again.index().position()), (1, Some(7)));
    }

    #[test]
    fn warming_reads_the_stored_records() {
        let root = tempfile::tempdir().unwrap();
        let search = Search::open(root.path()).unwrap();
        let (_, empty) = warm_in_background(search.index()).unwrap().join().unwrap();
        let record = registry_index::StoredRecord {
            version: 1,
            full: vec![b'x'; 5000],
            public: vec![b'y'; 3000],
            authority: vec![b'z'; 6000],
        };
        let doc = EnterpriseDoc { code: "0100000001".into(), record: Some(record), ..Default::default() };
        search.index().upsert(&doc).unwrap();
        search.index().commit(1).unwrap();
        let (_, bytes) = warm_in_background(search.index()).unwrap().join().unwrap();
        assert!(bytes > empty, "the new document's store was read: {empty} then {bytes} bytes");
    }
}
