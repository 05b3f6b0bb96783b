//! Each instance's cache of current records, kept correct by the change feed: the search index's
//! follower puts every record it reads from the feed, each write of this instance puts what it
//! wrote, and a look-up that misses puts what it read. A put never replaces a newer version.
//!
//! Look-ups are served from the cache only while the follower is keeping up (it has read the feed
//! to its head within `fresh_for`): an entry is then at most that far behind the database, as a
//! read replica would be. When the database is away, the cache still answers the look-ups it can,
//! marked stale, instead of failing them (SPEC §6).
//!
//! Past the cache, a look-up is answered from the record the search index stores with each
//! document (`registry_index::SearchIndex::record`), which the same follower keeps current, under
//! the same freshness rule. The index commits about once a second, so for a few seconds after a
//! write of this instance, the cache remembers the version written ([`RecordCache::floor`]): an
//! older version read from the index is not served then, and the database answers instead.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use quick_cache::sync::Cache;
use quick_cache::Weighter;

use crate::domain::record::{Enterprise, View};

/// One record, serialised once in each view.
#[derive(Debug)]
pub struct Cached {
    pub version: i32,
    /// The full view (transport).
    pub full: Bytes,
    /// The public view.
    pub public: Bytes,
    /// The authority view (with beneficial owners).
    pub authority: Bytes,
}

/// The three views of a record, serialised: what a look-up answers.
pub fn views(record: &Enterprise) -> registry_index::StoredRecord {
    let version = record.version.max(0) as u64;
    let authority = serde_json::to_vec(&record.clone().authority_view()).expect("records serialise");
    let full = serde_json::to_vec(&record.clone().full_view()).expect("records serialise");
    let public = serde_json::to_vec(&record.clone().public_view()).expect("records serialise");
    registry_index::StoredRecord { version, full, public, authority }
}

impl Cached {
    pub fn of(record: &Enterprise) -> Cached {
        Cached::from_views(views(record))
    }

    /// A record's views as the search index stored them.
    pub fn from_views(views: registry_index::StoredRecord) -> Cached {
        Cached {
            version: i32::try_from(views.version).unwrap_or(i32::MAX),
            full: views.full.into(),
            public: views.public.into(),
            authority: views.authority.into(),
        }
    }

    pub fn body(&self, view: View) -> Bytes {
        match view {
            View::Public => self.public.clone(),
            View::Full => self.full.clone(),
            View::Authority => self.authority.clone(),
        }
    }
}

#[derive(Clone)]
struct ByBytes;

impl Weighter<String, Arc<Cached>> for ByBytes {
    fn weight(&self, code: &String, c: &Arc<Cached>) -> u64 {
        (code.len() + c.full.len() + c.public.len() + c.authority.len() + 64) as u64
    }
}

/// How long [`RecordCache::floor`] remembers a write of this instance: well past the follower's
/// freshness limit, after which a fresh follower has the write in the index.
const WRITE_GUARD: Duration = Duration::from_secs(10);

/// The versions this instance wrote in the last [`WRITE_GUARD`].
#[derive(Default)]
struct Written {
    by_code: HashMap<String, (i32, Instant)>,
    order: VecDeque<(Instant, String)>,
}

impl Written {
    fn note(&mut self, code: &str, version: i32, now: Instant) {
        while let Some((at, _)) = self.order.front() {
            if now.duration_since(*at) < WRITE_GUARD {
                break;
            }
            let (at, old) = self.order.pop_front().expect("front exists");
            if self.by_code.get(&old).is_some_and(|(_, noted)| *noted == at) {
                self.by_code.remove(&old);
            }
        }
        let entry = self.by_code.entry(code.to_string()).or_insert((version, now));
        *entry = (entry.0.max(version), now);
        self.order.push_back((now, code.to_string()));
    }

    fn floor(&self, code: &str, now: Instant) -> Option<i32> {
        self.by_code.get(code).filter(|(_, at)| now.duration_since(*at) < WRITE_GUARD).map(|(v, _)| *v)
    }
}

pub struct RecordCache {
    entries: Option<Cache<String, Arc<Cached>, ByBytes>>,
    written: Mutex<Written>,
    /// Serialises puts, so that two puts of one code cannot interleave their version checks.
    put_lock: Mutex<()>,
    fresh_for: Duration,
    /// When the follower last read the feed to its head (ms since the epoch; 0: never).
    followed_at_ms: AtomicI64,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub stale_served: AtomicU64,
    /// Look-ups answered from the record stored in the search index.
    pub index_served: AtomicU64,
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
            written: Mutex::default(),
            put_lock: Mutex::new(()),
            fresh_for,
            followed_at_ms: AtomicI64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stale_served: AtomicU64::new(0),
            index_served: AtomicU64::new(0),
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

    /// Puts a record this instance has just written, and remembers its version for a while (see
    /// [`RecordCache::floor`]).
    pub fn wrote(&self, record: &Enterprise) {
        self.written.lock().unwrap_or_else(|p| p.into_inner()).note(&record.code, record.version, Instant::now());
        self.put(record);
    }

    /// Forgets a code (after a write whose new record this instance did not read back); until
    /// the write has surely reached the index, no version of it is served from there.
    pub fn invalidate(&self, code: &str) {
        self.written.lock().unwrap_or_else(|p| p.into_inner()).note(code, i32::MAX, Instant::now());
        if let Some(entries) = &self.entries {
            let _guard = self.put_lock.lock().unwrap_or_else(|p| p.into_inner());
            entries.remove(code);
        }
    }

    /// The lowest version of `code` that may be served from elsewhere than the database: the
    /// last one this instance wrote in the last few seconds (`i32::MAX`: none), if any.
    pub fn floor(&self, code: &str) -> Option<i32> {
        self.written.lock().unwrap_or_else(|p| p.into_inner()).floor(code, Instant::now())
    }

    /// The follower has read the feed to its head: cached entries are current to within now.
    pub fn followed(&self) {
        self.followed_at_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// Whether a feed follower keeps this cache (it has read the feed to its head at least once).
    pub fn is_followed(&self) -> bool {
        self.followed_at_ms.load(Ordering::Relaxed) > 0
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
    use crate::domain::reference_data::reference as sample;
    use crate::domain::registration::RegistrationContent;

    /// SPEC Appendix A's registration, as the API tests send it.
    const APPENDIX_A: &str = include_str!("../../tests/common/appendix_a.json");
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
    fn a_write_of_this_instance_is_remembered_for_the_guard_period_only() {
        let mut w = Written::default();
        let t0 = Instant::now();
        w.note("0100000010", 3, t0);
        w.note("0100000011", i32::MAX, t0 + Duration::from_secs(1));
        // A later write of an older version (two requests racing) does not lower the floor.
        w.note("0100000010", 2, t0 + Duration::from_secs(2));
        assert_eq!(w.floor("0100000010", t0 + Duration::from_secs(3)), Some(3));
        assert_eq!(w.floor("0100000011", t0 + Duration::from_secs(3)), Some(i32::MAX));
        assert_eq!(w.floor("0100000012", t0), None);
        // The guard runs from the last write of a code.
        assert_eq!(w.floor("0100000010", t0 + WRITE_GUARD + Duration::from_secs(1)), Some(3));
        assert_eq!(w.floor("0100000011", t0 + WRITE_GUARD + Duration::from_secs(1)), None);
        assert_eq!(w.floor("0100000010", t0 + WRITE_GUARD + Duration::from_secs(3)), None);
        // Old writes are dropped as new ones come, however many codes were written.
        w.note("0100000013", 1, t0 + WRITE_GUARD * 2);
        assert_eq!(w.by_code.len(), 1);
        assert_eq!(w.order.len(), 1);
    }

    #[test]
    fn wrote_puts_the_record_and_sets_its_floor_and_invalidate_bars_every_version() {
        let cache = RecordCache::new(1 << 20, Duration::from_secs(2));
        cache.wrote(&record(4));
        assert_eq!(cache.get_stale("0100000010").unwrap().version, 4);
        assert_eq!(cache.floor("0100000010"), Some(4));
        cache.invalidate("0100000010");
        assert_eq!(cache.floor("0100000010"), Some(i32::MAX));
        // A disabled cache still guards: look-ups from the index rely on it.
        let disabled = RecordCache::new(0, Duration::from_secs(2));
        disabled.wrote(&record(2));
        assert_eq!(disabled.floor("0100000010"), Some(2));
    }

    #[test]
    fn views_round_trip_through_the_index_form() {
        let r = record(7);
        let c = Cached::from_views(views(&r));
        assert_eq!(c.version, 7);
        let full: serde_json::Value = serde_json::from_slice(&c.full).unwrap();
        assert_eq!(full["licenses"], serde_json::json!([]), "the full view lists licences");
        let public: serde_json::Value = serde_json::from_slice(&c.public).unwrap();
        assert!(public.get("owners").is_none() && public.get("licenses").is_none());
        assert_eq!(Cached::of(&r).full, c.full);
    }

    #[test]
    fn a_disabled_cache_holds_nothing() {
        let cache = RecordCache::disabled();
        cache.put(&record(1));
        cache.followed();
        assert!(cache.get_fresh("0100000010").is_none() && cache.get_stale("0100000010").is_none());
    }
}
