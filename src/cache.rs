//! Each instance's cache of current records, kept correct by the change feed: the search index's
//! follower puts every record it reads from the feed, each write of this instance puts what it
//! wrote, and a look-up that misses puts what it read. A put never replaces a newer version.
//!
//! Look-ups are served from the cache only while the follower is keeping up (it has read the feed
//! to its head within `fresh_for`): an entry is then at most that far behind the database, as a
//! read replica would be. When the database is away, the cache still answers the look-ups it can,
//! marked stale, instead of failing them (SPEC §6).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::web::Bytes;
use quick_cache::sync::Cache;
use quick_cache::Weighter;

use crate::domain::record::Enterprise;

/// One record, serialised once in each view.
#[derive(Debug)]
pub struct Cached {
    pub version: i32,
    /// The full view (callers with a key).
    pub full: Bytes,
    /// The public view.
    pub public: Bytes,
}

impl Cached {
    pub fn of(record: &Enterprise) -> Cached {
        let mut record = record.clone();
        record = record.full_view();
        let full = serde_json::to_vec(&record).expect("records serialise");
        let version = record.version;
        let public = serde_json::to_vec(&record.public_view()).expect("records serialise");
        Cached { version, full: full.into(), public: public.into() }
    }

    pub fn body(&self, full: bool) -> Bytes {
        if full {
            self.full.clone()
        } else {
            self.public.clone()
        }
    }
}

#[derive(Clone)]
struct ByBytes;

impl Weighter<String, Arc<Cached>> for ByBytes {
    fn weight(&self, code: &String, c: &Arc<Cached>) -> u64 {
        (code.len() + c.full.len() + c.public.len() + 64) as u64
    }
}

pub struct RecordCache {
    entries: Option<Cache<String, Arc<Cached>, ByBytes>>,
    /// Serialises puts, so that two puts of one code cannot interleave their version checks.
    put_lock: Mutex<()>,
    fresh_for: Duration,
    /// When the follower last read the feed to its head (ms since the epoch; 0: never).
    followed_at_ms: AtomicI64,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub stale_served: AtomicU64,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl RecordCache {
    /// A cache of at most `capacity_bytes` of serialised records (0: no cache).
    pub fn new(capacity_bytes: u64, fresh_for: Duration) -> RecordCache {
        let entries = (capacity_bytes > 0).then(|| {
            // quick_cache wants an estimate of the number of items: records weigh ~2–4 KiB.
            let items = (capacity_bytes / 3000).max(16) as usize;
            Cache::with_weighter(items, capacity_bytes, ByBytes)
        });
        RecordCache {
            entries,
            put_lock: Mutex::new(()),
            fresh_for,
            followed_at_ms: AtomicI64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stale_served: AtomicU64::new(0),
        }
    }

    pub fn disabled() -> RecordCache {
        RecordCache::new(0, Duration::ZERO)
    }

    /// Puts `record` unless a newer version is cached.
    pub fn put(&self, record: &Enterprise) {
        if self.entries.is_some() {
            self.put_cached(&record.code, Arc::new(Cached::of(record)));
        }
    }

    /// Puts a record already serialised (a look-up that missed serves the same bytes it puts).
    pub fn put_cached(&self, code: &str, cached: Arc<Cached>) {
        let Some(entries) = &self.entries else { return };
        let _guard = self.put_lock.lock().unwrap_or_else(|p| p.into_inner());
        if entries.get(code).is_some_and(|c| c.version >= cached.version) {
            return;
        }
        entries.insert(code.to_string(), cached);
    }

    /// Forgets a code (after a write whose new record this instance did not read back).
    pub fn invalidate(&self, code: &str) {
        if let Some(entries) = &self.entries {
            let _guard = self.put_lock.lock().unwrap_or_else(|p| p.into_inner());
            entries.remove(code);
        }
    }

    /// The follower has read the feed to its head: cached entries are current to within now.
    pub fn followed(&self) {
        self.followed_at_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// Whether the follower has kept up recently enough for entries to be served as current.
    pub fn is_fresh(&self) -> bool {
        let at = self.followed_at_ms.load(Ordering::Relaxed);
        at > 0 && now_ms() - at <= self.fresh_for.as_millis() as i64
    }

    /// The cached record, when the cache is fresh.
    pub fn get_fresh(&self, code: &str) -> Option<Arc<Cached>> {
        let entries = self.entries.as_ref()?;
        if !self.is_fresh() {
            return None;
        }
        let found = entries.get(code);
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// The cached record however old (when the database cannot be asked).
    pub fn get_stale(&self, code: &str) -> Option<Arc<Cached>> {
        let found = self.entries.as_ref()?.get(code);
        if found.is_some() {
            self.stale_served.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// Forgets everything (the follower jumped to a rebuilt index's position).
    pub fn clear(&self) {
        if let Some(entries) = &self.entries {
            let _guard = self.put_lock.lock().unwrap_or_else(|p| p.into_inner());
            entries.clear();
        }
    }

    pub fn len(&self) -> usize {
        self.entries.as_ref().map(|e| e.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn weight(&self) -> u64 {
        self.entries.as_ref().map(|e| e.weight()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reference::tests::sample;
    use crate::domain::registration::{tests::APPENDIX_A, RegistrationContent};
    use chrono::Utc;

    fn record(version: i32) -> Enterprise {
        let content: RegistrationContent = serde_json::from_str(APPENDIX_A).unwrap();
        let today = "2026-11-27".parse().unwrap();
        let mut r =
            content.validate_content(&sample(), today).unwrap().into_new_record("0100000010".into(), today, Utc::now());
        r.version = version;
        r
    }

    #[test]
    fn a_put_never_replaces_a_newer_version() {
        let cache = RecordCache::new(1 << 20, Duration::from_secs(2));
        cache.put(&record(3));
        cache.put(&record(2));
        assert_eq!(cache.get_stale("0100000010").unwrap().version, 3);
        cache.put(&record(4));
        assert_eq!(cache.get_stale("0100000010").unwrap().version, 4);
        cache.invalidate("0100000010");
        assert!(cache.get_stale("0100000010").is_none());
    }

    #[test]
    fn entries_are_served_as_current_only_while_the_feed_is_followed() {
        let cache = RecordCache::new(1 << 20, Duration::from_millis(50));
        cache.put(&record(1));
        assert!(cache.get_fresh("0100000010").is_none(), "never followed");
        cache.followed();
        assert!(cache.get_fresh("0100000010").is_some());
        std::thread::sleep(Duration::from_millis(80));
        assert!(cache.get_fresh("0100000010").is_none(), "the follower fell behind");
        assert!(cache.get_stale("0100000010").is_some());
    }

    #[test]
    fn the_public_body_holds_no_personal_data() {
        let c = Cached::of(&record(1));
        let public = String::from_utf8(c.public.to_vec()).unwrap();
        assert!(!public.contains("001080012345") && !public.contains("1980-04-12") && !public.contains("owners"));
        assert!(String::from_utf8(c.full.to_vec()).unwrap().contains("001080012345"));
    }

    #[test]
    fn a_disabled_cache_holds_nothing() {
        let cache = RecordCache::disabled();
        cache.put(&record(1));
        cache.followed();
        assert!(cache.get_fresh("0100000010").is_none() && cache.get_stale("0100000010").is_none());
    }
}
