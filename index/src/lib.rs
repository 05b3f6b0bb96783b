//! Search index of the enterprise register.
//!
//! The crate takes [`EnterpriseDoc`]s and queries; it knows nothing of SQL or HTTP.
//!
//! * [`analyzer`]: the Vietnamese analysis (NFC, lower-case, folding, abbreviations, legal forms).
//! * [`SearchIndex`]: one tantivy index with its reader and writer; `Send + Sync`, share it in an
//!   `Arc`. Writes follow the change feed: [`SearchIndex::upsert`] / [`SearchIndex::delete`] in feed
//!   order, then [`SearchIndex::commit`] with the feed position, which is stored in the tantivy
//!   commit payload and read back by [`SearchIndex::position`] after a restart. Every commit reloads
//!   the reader before it returns, so the change is visible to the next search.
//! * [`swap`]: generations of the index under a root directory, and the atomic swap after a rebuild.
//! * Stored records: a document may carry its record's serialised views ([`StoredRecord`], opaque
//!   bytes to this crate), which [`SearchIndex::record`] returns by code. A serving index reads its
//!   document store with `pread` rather than a memory map (`store_dir`), so that the store, which
//!   look-ups touch whole, stays in the page cache and out of the process's resident memory.
//!
//! # Ranking
//!
//! Every query word must match (in any order), except legal-form words (`công ty`, `TNHH`, `cổ
//! phần`, …) which only add to the score when the query has other words. A word matches in:
//!
//! | field | boost | |
//! |---|---|---|
//! | proper name, exact diacritics | 3.0 | so `Đường` ranks the `Đường` name over `Dương` |
//! | proper name, folded | 2.0 | `duong` finds both |
//! | full name, exact diacritics | 1.0 | |
//! | full name, folded | 0.8 | |
//! | former names, folded | 0.6 | |
//! | English name and abbreviation, folded | 0.6 | |
//! | unit (branch, office) names, folded | 0.4 | |
//!
//! each scored by BM25 times the boost, summed. Words of 5 or more characters (after folding) also
//! match with one edit (Levenshtein distance 1, a transposition counting as one) on the folded
//! fields, with a constant score (proper 0.5, name 0.3, former 0.2, English/abbreviation 0.2, units
//! 0.1) well below an exact BM25 match; shorter words match exactly only.
//!
//! A query made only of codes (4+ digits, optionally `-` and a unit suffix) looks the codes up:
//! an exact enterprise or unit code scores 1000 (+100 as its own prefix), a code prefix 100, so
//! the enterprise comes first; ties are broken by code.

pub mod analyzer;
mod collector;
mod cursor;
mod schema;
#[cfg(test)]
mod search_tests;
mod store_dir;
mod suggest;
pub mod swap;
mod topk;
pub mod typing;

// The test generator (`tests/common`) names the crate.
#[cfg(test)]
extern crate self as registry_index;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EnableScoring, FuzzyTermQuery, Occur, Query, RangeQuery,
    TermQuery, Weight,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::collector::{Collected, KeysetCollector};
use crate::cursor::{fnv1a64, Cursor};
use crate::schema::{build_schema, days_since_epoch, to_document, Fields};

pub use crate::swap::{being_written, current_dir, new_generation_dir, open_current, remove_generation, swap_in};

/// Largest page [`SearchIndex::search`] accepts.
pub const MAX_LIMIT: usize = 100;
/// Most suggestions [`SearchIndex::suggest`] returns.
pub const MAX_SUGGESTIONS: usize = 10;
/// Most matches a multi-word suggestion ranks (in index order) before answering.
pub const SUGGEST_SCAN_BUDGET: usize = 10_000;
/// Minimum length (in characters, folded) of a query word that may match with one typo: most
/// Vietnamese syllables have two to five letters, so three (`cng` for `công`, `lomg` for `long`).
pub const FUZZY_MIN_CHARS: usize = 3;
/// Minimum length (folded) of a query word that may match with two typos.
pub const TWO_TYPOS_MIN_CHARS: usize = 8;
/// Most typo candidates a query word of fewer than five letters is looked up with: the other
/// words narrow the search down, and a short syllable has dozens of neighbours at one edit, so
/// only the Vietnamese syllables the register holds most often are tried (see [`typo_order`]).
pub const TYPO_CANDIDATES_SHORT: usize = 8;
/// Most typo candidates of a longer word.
pub const TYPO_CANDIDATES_LONG: usize = 16;
/// Most typo candidates of a word the register holds as typed (tried only when every word is
/// found but not together: a typo that made another real word).
pub const TYPO_CANDIDATES_KNOWN: usize = 4;
/// Most words the last step of a search leaves out, one at a time (the rarest first).
pub const PARTIAL_MAX_WORDS: usize = 4;
/// Added to a word typed with diacritics where it matched with them (on the unfolded name), above
/// any sum of BM25 scores: a name matching more of the marked words exactly ranks first. A word
/// typed without diacritics gets none (that a name writes it without them is chance).
pub const EXACT_BONUS: f32 = 1000.0;
/// Added for each two words of the query found next to each other in the name, in the query's
/// order.
pub const BIGRAM_BONUS: f32 = 8.0;
/// Added when the query, folded, is a whole name or proper name.
pub const WHOLE_NAME_BONUS: f32 = 40.0;
/// Score of a word typed as two syllables run together (or written with a space inside) matching
/// the name's syllables: as a folded match of the name.
const JOINED_SCORE: f32 = 2.0;
/// A text search counts its matches exactly up to this number; past it, `total` is this number
/// and [`SearchPage::total_relation`] is [`TotalRelation::Gte`] (like Elasticsearch's
/// `track_total_hits`).
pub const TOTAL_EXACT_UP_TO: u64 = 10_000;
/// The count of a relaxed step (typos, a word left out) stops here: its matches are unions of
/// candidates, costly to count, and nobody pages through thousands of near misses.
pub const RELAXED_TOTAL_UP_TO: u64 = 1_000;
/// Writer heap of a serving index (feed-following writes).
pub const WRITER_HEAP_BYTES: usize = 64 * 1024 * 1024;
/// Default writer heap of [`SearchIndex::create_for_rebuild`].
pub const BULK_WRITER_HEAP_BYTES: usize = 1024 * 1024 * 1024;

/// One enterprise as the index sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseDoc {
    /// Enterprise code (10 digits); the document key.
    pub code: String,
    /// Full Vietnamese name, legal form included.
    pub name: String,
    /// The name without its legal-form prefix (`An Phát` for `Công ty TNHH An Phát`). When empty,
    /// [`analyzer::strip_legal_form`] of `name` is used.
    pub proper_name: String,
    pub name_en: Option<String>,
    pub abbreviation: Option<String>,
    /// Names the enterprise had before; searchable at lower weight.
    pub former_names: Vec<String>,
    /// Names of its units (branches, representative offices, business locations).
    pub unit_names: Vec<String>,
    /// Codes of its units, e.g. `0100233488-001`.
    pub unit_codes: Vec<String>,
    pub province_code: String,
    pub ward_code: String,
    pub status: String,
    pub enterprise_type: String,
    pub vsic: Vec<String>,
    pub registered_on: chrono::NaiveDate,
    /// The record as the service answers a look-up by code, kept in the document store (see
    /// [`SearchIndex::record`]); `None` indexes the document for search only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<StoredRecord>,
}

/// A record's serialised views, opaque to the index: what a look-up by code answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRecord {
    pub version: u64,
    /// The full view (callers with a key).
    pub full: Vec<u8>,
    /// The public view.
    pub public: Vec<u8>,
    /// The authority view (with beneficial owners).
    #[serde(default)]
    pub authority: Vec<u8>,
}

/// A search: free text and/or filters, one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// Free text: name words in any order, with or without diacritics, or codes / code prefixes.
    /// Empty: list the enterprises matching the filters by code.
    pub q: String,
    pub province: Option<String>,
    pub ward: Option<String>,
    pub status: Option<String>,
    pub enterprise_type: Option<String>,
    /// A VSIC code or a prefix of one (`46` matches `4610`).
    pub vsic: Option<String>,
    /// Inclusive.
    pub registered_from: Option<chrono::NaiveDate>,
    /// Inclusive.
    pub registered_to: Option<chrono::NaiveDate>,
    /// 1..=[`MAX_LIMIT`].
    pub limit: usize,
    /// `next_cursor` of the previous page of the same request.
    pub cursor: Option<String>,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            q: String::new(),
            province: None,
            ward: None,
            status: None,
            enterprise_type: None,
            vsic: None,
            registered_from: None,
            registered_to: None,
            limit: 20,
            cursor: None,
        }
    }
}

impl SearchRequest {
    /// A text query with the default page size (20) and no filter.
    pub fn text(q: impl Into<String>) -> Self {
        SearchRequest { q: q.into(), ..Default::default() }
    }
}

/// One page of hits, ordered by score (descending) then code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchPage {
    pub hits: Vec<Hit>,
    /// Present when there may be more hits; pass it back in [`SearchRequest::cursor`].
    pub next_cursor: Option<String>,
    /// Number of matching enterprises (all pages): exact when `total_relation` is `eq`; a lower
    /// bound ([`TOTAL_EXACT_UP_TO`]) when it is `gte`. The same on every page of a search.
    pub total: u64,
    pub total_relation: TotalRelation,
}

/// How [`SearchPage::total`] relates to the true number of matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TotalRelation {
    /// `total` is the number of matches.
    Eq,
    /// There are at least `total` matches.
    Gte,
}

impl TotalRelation {
    pub fn as_str(self) -> &'static str {
        match self {
            TotalRelation::Eq => "eq",
            TotalRelation::Gte => "gte",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub code: String,
    pub name: String,
    pub status: String,
    pub province_code: String,
    /// `0` when the query has no text (listing by code).
    pub score: f32,
    /// Among `proper_name`, `name`, `former_names`, `name_en_or_abbreviation`, `unit_names`,
    /// `code`, `unit_code`, `code_prefix`.
    pub matched_fields: Vec<String>,
    /// Normalised query words (or codes) that matched; a word that matched only with a typo
    /// carries a trailing `~`.
    pub matched_terms: Vec<String>,
    /// The step of the search that found the hit.
    pub step: MatchStep,
}

/// Which step of a search found a hit. A search tries its words as typed (with their Telex or
/// VNI readings and run-together syllables) first; only when that finds nothing, with typos;
/// only when that finds nothing either, with one word left out. Within the first step a hit
/// whose every word matched with its diacritics as typed is `exact`, otherwise `folded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchStep {
    Exact,
    Folded,
    Typo,
    Partial,
}

impl MatchStep {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchStep::Exact => "exact",
            MatchStep::Folded => "folded",
            MatchStep::Typo => "typo",
            MatchStep::Partial => "partial",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub code: String,
    pub name: String,
}

/// A name-check candidate: an enterprise whose folded proper name shares words with the proposed one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub code: String,
    pub name: String,
    pub proper_name: String,
    pub status: String,
    pub score: f32,
    /// Folded words shared with the proposed proper name.
    pub shared_words: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A malformed, forged or foreign cursor (map to HTTP 400).
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// E.g. a limit outside 1..=100 (map to HTTP 400).
    #[error("invalid search request: {0}")]
    InvalidRequest(String),
    #[error("index swap: {0}")]
    Swap(String),
    #[error("commit payload is not a feed position: {0:?}")]
    BadPayload(String),
    #[error("a fresh index is required but {0} already holds one")]
    NotEmpty(PathBuf),
}

impl IndexError {
    /// Whether the index is locked by another writer (another process serving or building the
    /// same directory): the index is fine, only not this process's to open.
    pub fn is_locked_by_another_writer(&self) -> bool {
        matches!(
            self,
            IndexError::Tantivy(tantivy::TantivyError::LockFailure(tantivy::directory::error::LockError::LockBusy, _))
        )
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for IndexError {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        IndexError::Tantivy(e.into())
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    feed_position: u64,
}

/// The index: tantivy `Index`, a manually reloaded reader and one writer.
pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    position: Mutex<Option<u64>>,
    code_columns: topk::CodeColumns,
    bm25_units: topk::Bm25Units,
    dense_lists: Arc<topk::DenseLists>,
    /// The directory of an index opened from disk, for [`SearchIndex::prefetch_stores`].
    stores: Option<store_dir::PreadStores>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("num_docs", &self.num_docs()).field("position", &self.position()).finish()
    }
}

/// A leaf query kept aside to tell, per hit, which fields and words matched.
struct Probe {
    field: &'static str,
    term: String,
    fuzzy: bool,
    query: Box<dyn Query>,
}

/// Uncompressed bytes of a stored-document block. A hit reads (decompresses) its whole block;
/// tantivy's default of 16 KiB holds about a hundred enterprises, this a quarter of that, for a
/// slightly larger store.
const DOCSTORE_BLOCK_BYTES: usize = 4096;

/// The settings of a new index (an existing index keeps those it was made with).
fn settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings { docstore_blocksize: DOCSTORE_BLOCK_BYTES, ..Default::default() }
}

impl SearchIndex {
    /// Open the index in `dir`, creating the directory and an empty index if needed. Fails on an
    /// index with another schema (rebuild it into a new generation).
    pub fn open_or_create(dir: &Path) -> Result<Self, IndexError> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = build_schema();
        let stores = store_dir::PreadStores::open(dir)?;
        let index = Index::builder().schema(schema).settings(settings()).open_or_create(stores.clone())?;
        let mut opened = Self::from_index(index, fields, 1, WRITER_HEAP_BYTES)?;
        opened.stores = Some(stores);
        Ok(opened)
    }

    /// An index in memory, for tests.
    pub fn in_memory() -> Result<Self, IndexError> {
        let (schema, fields) = build_schema();
        Self::from_index(
            Index::builder().schema(schema).settings(settings()).create_in_ram()?,
            fields,
            1,
            WRITER_HEAP_BYTES,
        )
    }

    /// A fresh index in `dir` (which must not hold an index yet) with a big writer heap, for a
    /// rebuild: add every document with [`SearchIndex::add`], then one [`SearchIndex::commit`] with
    /// the feed position the rebuild read up to; drop it and [`swap_in`] the directory.
    /// `heap_bytes`: total writer heap (e.g. [`BULK_WRITER_HEAP_BYTES`]).
    pub fn create_for_rebuild(dir: &Path, heap_bytes: usize) -> Result<Self, IndexError> {
        std::fs::create_dir_all(dir)?;
        if dir.join("meta.json").exists() {
            return Err(IndexError::NotEmpty(dir.to_path_buf()));
        }
        let (schema, fields) = build_schema();
        let index = Index::builder().schema(schema).settings(settings()).create_in_dir(dir)?;
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 4);
        let per_thread_min = 20 * 1024 * 1024;
        let threads = threads.min((heap_bytes / per_thread_min).max(1));
        let built = Self::from_index(index, fields, threads, heap_bytes.max(per_thread_min))?;
        // Merged once, whole, at the end (see `merge_segments`), not level by level meanwhile.
        built.writer().set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        Ok(built)
    }

    fn from_index(index: Index, fields: Fields, threads: usize, heap: usize) -> Result<Self, IndexError> {
        analyzer::register(&index);
        let position = match index.load_metas()?.payload {
            None => None,
            Some(p) => {
                Some(serde_json::from_str::<Payload>(&p).map_err(|_| IndexError::BadPayload(p.clone()))?.feed_position)
            }
        };
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer = index.writer_with_num_threads(threads, heap)?;
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            fields,
            position: Mutex::new(position),
            code_columns: topk::CodeColumns::default(),
            bm25_units: topk::Bm25Units::default(),
            dense_lists: Arc::default(),
            stores: None,
        })
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replace the document with this code (or add it). Visible after the next commit.
    pub fn upsert(&self, doc: &EnterpriseDoc) -> Result<(), IndexError> {
        let w = self.writer();
        w.delete_term(Term::from_field_text(self.fields.code, &doc.code));
        w.add_document(to_document(&self.fields, doc))?;
        Ok(())
    }

    /// Add without deleting first: for a fresh index (rebuild) where codes are unique.
    pub fn add(&self, doc: &EnterpriseDoc) -> Result<(), IndexError> {
        self.writer().add_document(to_document(&self.fields, doc))?;
        Ok(())
    }

    /// Remove the enterprise with this code. Visible after the next commit.
    pub fn delete(&self, code: &str) -> Result<(), IndexError> {
        self.writer().delete_term(Term::from_field_text(self.fields.code, code));
        Ok(())
    }

    /// Commit every pending change together with the feed position they reach, then reload the
    /// reader: when this returns, searches see the changes, and [`SearchIndex::position`] (also
    /// after a reopen) is `position`.
    pub fn commit(&self, position: u64) -> Result<(), IndexError> {
        let mut w = self.writer();
        let payload = serde_json::to_string(&Payload { feed_position: position }).expect("payload serialises");
        let mut prepared = w.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        // The position is held while searches switch to the new commit, so that whoever has seen
        // a document of this commit then reads a position that includes it.
        let mut held = self.position.lock().unwrap_or_else(|e| e.into_inner());
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        self.code_columns.retain(&searcher);
        self.dense_lists.retain(&searcher);
        *held = Some(position);
        Ok(())
    }

    /// Wait for the background segment merges to finish and release the writer (and its lock on
    /// the directory). Call it at the end of a rebuild, after the final [`SearchIndex::commit`] and
    /// before [`swap_in`], so that the new generation is served fully merged. Uncommitted changes
    /// are dropped.
    pub fn close(self) -> Result<(), IndexError> {
        self.merge_segments()?;
        let writer = self.writer.into_inner().unwrap_or_else(|e| e.into_inner());
        writer.wait_merging_threads()?;
        Ok(())
    }

    /// Merge every committed segment into one and wait for it. A search opens each word's
    /// postings once per segment, so a bulk-built generation is served as one segment (at 2 M
    /// enterprises, six segments of a bulk build merge in about 15 s); changes applied later add
    /// small segments that the merge policy folds in.
    pub fn merge_segments(&self) -> Result<(), IndexError> {
        // The writer is locked only to start the merge, not while it runs.
        let merging = {
            let mut writer = self.writer();
            let ids = writer.index().searchable_segment_ids()?;
            if ids.len() < 2 {
                return Ok(());
            }
            writer.merge(&ids)
        };
        merging.wait()?;
        Ok(())
    }

    /// Drop the uncommitted changes (e.g. after a failed feed batch), back to the last commit.
    pub fn rollback(&self) -> Result<(), IndexError> {
        self.writer().rollback()?;
        Ok(())
    }

    /// Feed position of the last commit, `None` for an index never committed through this crate.
    pub fn position(&self) -> Option<u64> {
        *self.position.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The stored record of the enterprise with this code, as of the last commit: `None` when the
    /// index has no such enterprise or holds it for search only. A term look-up in each segment
    /// and one block of the document store: a few microseconds, no database.
    pub fn record(&self, code: &str) -> Result<Option<StoredRecord>, IndexError> {
        let searcher = self.reader.searcher();
        let term = Term::from_field_text(self.fields.code, code);
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let Some(mut postings) =
                segment.inverted_index(self.fields.code)?.read_postings(&term, IndexRecordOption::Basic)?
            else {
                continue;
            };
            let alive = segment.alive_bitset();
            let mut doc = postings.doc();
            while doc != tantivy::TERMINATED {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    let stored: TantivyDocument = searcher.doc(tantivy::DocAddress::new(ord as u32, doc))?;
                    return Ok(self.stored_record(&stored));
                }
                doc = postings.advance();
            }
        }
        Ok(None)
    }

    fn stored_record(&self, doc: &TantivyDocument) -> Option<StoredRecord> {
        let f = &self.fields;
        let version = doc.get_first(f.record_version).and_then(|v| v.as_u64())?;
        let full = doc.get_first(f.record_full).and_then(|v| v.as_bytes())?.to_vec();
        let public = doc.get_first(f.record_public).and_then(|v| v.as_bytes())?.to_vec();
        let authority = doc.get_first(f.record_authority).and_then(|v| v.as_bytes())?.to_vec();
        Some(StoredRecord { version, full, public, authority })
    }

    /// Number of enterprises visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Number of segments visible to searches (diagnostics).
    pub fn num_segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// One page of enterprises matching the request.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchPage, IndexError> {
        self.search_impl(req, false)
    }

    /// `reference`: see [`SearchIndex::search_words`].
    fn search_impl(&self, req: &SearchRequest, reference: bool) -> Result<SearchPage, IndexError> {
        if req.limit == 0 || req.limit > MAX_LIMIT {
            return Err(IndexError::InvalidRequest(format!("limit must be 1..={MAX_LIMIT}, got {}", req.limit)));
        }
        if let (Some(from), Some(to)) = (req.registered_from, req.registered_to) {
            if from > to {
                return Err(IndexError::InvalidRequest("registered_from is after registered_to".into()));
            }
        }
        let hash = request_hash(req);
        let after = match &req.cursor {
            Some(c) => Some(Cursor::decode(c, hash)?),
            None => None,
        };
        let after = after.map(|c| (c.score(), c.c));
        let searcher = self.reader.searcher();
        let filters = self.filters(req);
        match query_words(&req.q) {
            Some(mut words) => self.search_words(&searcher, req, hash, &mut words, filters, after, reference),
            None => self.search_exhaustive(&searcher, req, hash, filters, after),
        }
    }

    /// A name search: top-k with pruning (see [`topk`]), relaxed step by step (typos, then one
    /// word left out) only when the words as typed find nothing; `total` capped at
    /// [`TOTAL_EXACT_UP_TO`].
    ///
    /// `reference`: no pair terms, no pruning (for tests: the same hits, found the slow way).
    #[allow(clippy::too_many_arguments)]
    fn search_words(
        &self,
        searcher: &Searcher,
        req: &SearchRequest,
        hash: u64,
        words: &mut [QueryWord],
        filters: Vec<Box<dyn Query>>,
        after: Option<(f32, String)>,
        reference: bool,
    ) -> Result<SearchPage, IndexError> {
        let filters = filters
            .iter()
            .map(|f| f.weight(EnableScoring::disabled_from_searcher(searcher)))
            .collect::<Result<Vec<_>, _>>()?;
        self.read_words(searcher, words)?;
        let search = WordSearch { searcher, words, filters, limit: req.limit + 1, after, reference };
        let WordRun { plans, prepared, top, step } = self.run_steps(&search)?;
        let refs: Vec<&topk::Prepared> = prepared.iter().collect();
        let cap = if step == Step::AsTyped { TOTAL_EXACT_UP_TO } else { RELAXED_TOTAL_UP_TO };
        let (total, total_relation) = if !top.pruned || top.count >= cap {
            capped_total(top.count, cap)
        } else {
            capped_total(topk::count(searcher, &refs, &search.filters, cap)?, cap)
        };
        let mut hits = top.hits;
        let more = hits.len() > req.limit;
        hits.truncate(req.limit);
        let hit_plans = &top.plans[..hits.len()];
        // (The reference finds them the slow way, for the tests to compare.)
        let leaves: Vec<Vec<usize>> = match top.matched.filter(|_| !reference) {
            Some(masks) => masks.iter().take(req.limit).map(|m| topk::mask_ids(*m)).collect(),
            None => topk::matched_leaves(searcher, &refs, &hits, hit_plans)?,
        };
        let mut matched = Vec::with_capacity(hits.len());
        let mut steps = Vec::with_capacity(hits.len());
        for (ids, pi) in leaves.iter().zip(hit_plans) {
            let (plan, p) = (&plans[*pi], &prepared[*pi]);
            let reported = ids.iter().map(|id| &p.leaves[*id]).filter(|leaf| plan[leaf.word].reported);
            matched.push(matched_of(reported.map(|leaf| (leaf.label, &plan[leaf.word].word, leaf.fuzzy))));
            steps.push(step.of_hit(plan, &p.leaves, ids));
        }
        self.page(searcher, hash, hits, more, matched, steps, total, total_relation)
    }

    /// Looks each query word up in the register's vocabulary (the folded name terms) and finds
    /// what else it may stand for: its Telex or VNI reading when it was typed with the input method
    /// switched off, the two syllables it runs together, the word it makes with its neighbour
    /// when a space fell inside a syllable.
    fn read_words(&self, searcher: &Searcher, words: &mut [QueryWord]) -> Result<(), IndexError> {
        let vocabulary = self.fields.name_folded;
        let known = |w: &str| -> Result<bool, IndexError> { Ok(topk::doc_freq(searcher, vocabulary, w)? > 0) };
        for w in words.iter_mut() {
            w.frequency = topk::doc_freq(searcher, vocabulary, &w.folded)?;
            if !typing::is_syllable(&w.folded) {
                for d in typing::decodings(&w.lower) {
                    if known(&analyzer::fold(&d))? {
                        w.decoded.push(d);
                    }
                }
            }
            if !w.known() && w.decoded.is_empty() {
                for (a, b) in typing::two_syllable_splits(&w.folded) {
                    if w.splits.len() < 2 && known(&a)? && known(&b)? {
                        w.splits.push((a, b));
                    }
                }
            }
        }
        for i in 1..words.len() {
            let (a, b) = (&words[i - 1], &words[i]);
            let odd = |w: &QueryWord| !w.known() || !typing::is_syllable(&w.folded);
            if !(odd(a) || odd(b)) {
                continue;
            }
            let joined = format!("{}{}", a.folded, b.folded);
            if typing::is_syllable(&joined) && known(&joined)? {
                words[i - 1].merged.push(joined.clone());
                words[i].merged.push(joined);
            }
        }
        Ok(())
    }

    /// Runs a name search step by step: the words as typed; when they match nothing, with typos
    /// (first on the words found nowhere in the register, then on every word long enough: a typo
    /// may make another real word); when that matches nothing either, with one word left out, for
    /// each of the rarest [`PARTIAL_MAX_WORDS`] words in turn (walked together: their matches
    /// are disjoint, each lacking its own left-out word, since none holds every word). A run that
    /// matches nothing has skipped nothing, so the step depends on the request and the index
    /// only, never on the page: every page uses the same plans.
    fn run_steps(&self, search: &WordSearch) -> Result<WordRun, IndexError> {
        let words = search.words;
        let none = vec![None; words.len()];
        let first = self.run_plans(search, vec![self.word_plan(words, &none, None)], Step::AsTyped)?;
        if first.top.count > 0 {
            return Ok(first);
        }
        let found = first.prepared[0].word_found.clone();
        let eligible: Vec<bool> = words.iter().map(|w| w.folded.chars().count() >= FUZZY_MIN_CHARS).collect();
        let mut candidates: Vec<Option<Vec<String>>> = vec![None; words.len()];
        let mut last = first;
        let missing: Vec<bool> = (0..words.len()).map(|i| eligible[i] && !found[i]).collect();
        let rounds = [missing.clone(), eligible.clone()];
        let mut tried: Option<Vec<bool>> = None;
        for mask in rounds {
            if !mask.contains(&true) || tried.as_ref() == Some(&mask) {
                continue;
            }
            for i in 0..words.len() {
                if mask[i] && candidates[i].is_none() {
                    candidates[i] = Some(self.typo_candidates(search.searcher, &words[i], found[i])?);
                }
            }
            let typos: Vec<Option<Vec<String>>> =
                (0..words.len()).map(|i| if mask[i] { candidates[i].clone() } else { None }).collect();
            last = self.run_plans(search, vec![self.word_plan(words, &typos, None)], Step::Typos)?;
            if last.top.count > 0 {
                return Ok(last);
            }
            tried = Some(mask);
        }
        // One word left out: the words found nowhere first, then the rarest.
        let mut required: Vec<usize> = (0..words.len()).filter(|i| words[*i].required).collect();
        if required.len() < 2 {
            return Ok(last);
        }
        required.sort_by_key(|i| (found[*i], words[*i].frequency));
        // The left-out word's neighbours keep the typos of the words found nowhere only: every word
        // with typos, once per left-out word, costs too much for a step this rarely right.
        let typos: Vec<Option<Vec<String>>> =
            (0..words.len()).map(|i| if missing[i] { candidates[i].clone() } else { None }).collect();
        let plans = required.iter().take(PARTIAL_MAX_WORDS).map(|i| self.word_plan(words, &typos, Some(*i))).collect();
        self.run_plans(search, plans, Step::Partial)
    }

    /// The terms a query word may be a typo of: the name terms at one edit (two for a word of
    /// [`TWO_TYPOS_MIN_CHARS`] or more), Vietnamese syllables first, then the most frequent,
    /// at most [`TYPO_CANDIDATES_SHORT`] (or [`TYPO_CANDIDATES_LONG`]) of them.
    fn typo_candidates(&self, searcher: &Searcher, w: &QueryWord, known: bool) -> Result<Vec<String>, IndexError> {
        let chars = w.folded.chars().count();
        if chars < FUZZY_MIN_CHARS {
            return Ok(Vec::new());
        }
        let edits = if chars >= TWO_TYPOS_MIN_CHARS { 2 } else { 1 };
        let mut terms = topk::typo_terms(searcher, self.fields.name_folded, &w.folded, edits)?;
        terms.sort_by(typo_order);
        let cap = match (known, chars < 5) {
            (true, _) => TYPO_CANDIDATES_KNOWN,
            (false, true) => TYPO_CANDIDATES_SHORT,
            (false, false) => TYPO_CANDIDATES_LONG,
        };
        Ok(terms.into_iter().take(cap).map(|(t, _)| t).collect())
    }

    /// Prepares and runs the plans of one step together.
    fn run_plans(
        &self,
        search: &WordSearch,
        plans: Vec<Vec<topk::PlanWord>>,
        step: Step,
    ) -> Result<WordRun, IndexError> {
        let mut prepared = Vec::with_capacity(plans.len());
        for plan in &plans {
            let mut p =
                topk::prepare(search.searcher, plan, self.fields.word_pairs, &self.bm25_units, &self.dense_lists)?;
            if search.reference {
                p = p.without_shortcuts();
            }
            prepared.push(p);
        }
        let refs: Vec<&topk::Prepared> = prepared.iter().collect();
        let top = topk::top_k(
            search.searcher,
            &refs,
            &search.filters,
            search.limit,
            search.after.as_ref(),
            self.fields.code,
            &self.code_columns,
        )?;
        Ok(WordRun { plans, prepared, top, step })
    }

    /// Code look-ups and listings (no text, or only codes): every match is collected, `total` is
    /// exact.
    fn search_exhaustive(
        &self,
        searcher: &Searcher,
        req: &SearchRequest,
        hash: u64,
        filters: Vec<Box<dyn Query>>,
        after: Option<(f32, String)>,
    ) -> Result<SearchPage, IndexError> {
        let (text, probes) = match self.text_query(&req.q) {
            Some((q, p)) => (Some(q), p),
            None => (None, Vec::new()),
        };
        let scoring = text.is_some();
        let query: Box<dyn Query> = match (text, filters.is_empty()) {
            (None, true) => Box::new(AllQuery),
            (Some(t), true) => t,
            (t, false) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> =
                    filters.into_iter().map(|f| (Occur::Must, Box::new(ConstScoreQuery::new(f, 0.0)) as _)).collect();
                if let Some(t) = t {
                    clauses.push((Occur::Must, t));
                }
                Box::new(BooleanQuery::new(clauses))
            }
        };
        let collector = KeysetCollector { limit: req.limit + 1, after, scoring };
        let mut fruit = searcher.search(query.as_ref(), &collector)?;
        let more = fruit.hits.len() > req.limit;
        fruit.hits.truncate(req.limit);
        let matched = matches(searcher, &probes, &fruit.hits)?;
        let steps = vec![MatchStep::Exact; fruit.hits.len()];
        self.page(searcher, hash, fruit.hits, more, matched, steps, fruit.total, TotalRelation::Eq)
    }

    #[allow(clippy::too_many_arguments)]
    fn page(
        &self,
        searcher: &Searcher,
        hash: u64,
        collected: Vec<Collected>,
        more: bool,
        matched: Vec<Matched>,
        steps: Vec<MatchStep>,
        total: u64,
        total_relation: TotalRelation,
    ) -> Result<SearchPage, IndexError> {
        let f = &self.fields;
        let mut hits = Vec::with_capacity(collected.len());
        for ((c, (fields, terms)), step) in collected.into_iter().zip(matched).zip(steps) {
            let doc: TantivyDocument = searcher.doc(c.address)?;
            hits.push(Hit {
                code: stored_str(&doc, f.code),
                name: stored_str(&doc, f.name),
                status: stored_str(&doc, f.status),
                province_code: stored_str(&doc, f.province),
                score: c.score,
                matched_fields: fields,
                matched_terms: terms,
                step,
            });
        }
        let next_cursor = if more { hits.last().map(|h| Cursor::new(hash, h.score, &h.code).encode()) } else { None };
        Ok(SearchPage { hits, next_cursor, total, total_relation })
    }

    /// The words of a name search as leaves: each word (and each of its other readings) on the
    /// name fields, its run-together syllables as an ordered bigram, and its typo candidates on
    /// the folded fields where `typos[i]` holds some; the word `dropped` optional. Then, only
    /// adding to the score, the ordered bigrams of the query and the query as a whole name.
    fn word_plan(
        &self,
        words: &[QueryWord],
        typos: &[Option<Vec<String>>],
        dropped: Option<usize>,
    ) -> Vec<topk::PlanWord> {
        let f = &self.fields;
        let mut plan: Vec<topk::PlanWord> = words
            .iter()
            .zip(typos)
            .enumerate()
            .map(|(i, (w, typos))| {
                let mut leaves = Vec::with_capacity(12);
                let readings = std::iter::once(&w.lower).chain(&w.decoded);
                for (r, reading) in readings.enumerate() {
                    let folded = if r == 0 { w.folded.clone() } else { analyzer::fold(reading) };
                    // Diacritics typed (or keyed in Telex or VNI) are a preference; a word typed
                    // without them says nothing of the names written without them.
                    let marked = *reading != folded;
                    for leaf in exact_name_fields(f) {
                        leaves.push(topk::PlanLeaf {
                            field: leaf.field,
                            label: leaf.label,
                            kind: topk::LeafKind::Bm25 {
                                text: if leaf.folded { folded.clone() } else { reading.clone() },
                                boost: leaf.weight,
                                bonus: if leaf.field == f.name_lower && marked { EXACT_BONUS } else { 0.0 },
                            },
                            matcher: leaf.matcher,
                            relaxed: false,
                            accented: !leaf.folded,
                        });
                    }
                }
                if !w.splits.is_empty() {
                    let texts = w.splits.iter().map(|(a, b)| analyzer::bigram_term(a, b)).collect();
                    leaves.push(joined_leaf(f.name_bigrams, texts));
                }
                if !w.merged.is_empty() {
                    leaves.push(joined_leaf(f.name_folded, w.merged.clone()));
                }
                let typo = typos.as_ref().filter(|t| !t.is_empty());
                if let Some(candidates) = typo {
                    for leaf in typo_name_fields(f) {
                        leaves.push(topk::PlanLeaf {
                            field: leaf.field,
                            label: leaf.label,
                            kind: topk::LeafKind::Any { texts: candidates.clone(), score: leaf.weight },
                            matcher: leaf.matcher,
                            relaxed: true,
                            accented: false,
                        });
                    }
                }
                let plain = typo.is_none() && w.decoded.is_empty() && w.splits.is_empty() && w.merged.is_empty();
                let pair_key = (plain && analyzer::pairable(&w.folded)).then(|| w.folded.clone());
                topk::PlanWord {
                    word: w.lower.clone(),
                    required: w.required && dropped != Some(i),
                    leaves,
                    pair_key,
                    reported: true,
                }
            })
            .collect();
        let readings: Vec<Vec<String>> = words.iter().map(reading_of).collect();
        let sequence: Vec<String> = readings.concat();
        let bonus = |field, texts: Vec<String>, score| topk::PlanWord {
            word: texts.first().cloned().unwrap_or_default(),
            required: false,
            leaves: vec![topk::PlanLeaf {
                field,
                label: "name",
                kind: topk::LeafKind::Any { texts, score },
                matcher: true,
                relaxed: false,
                accented: false,
            }],
            pair_key: None,
            reported: false,
        };
        // Two neighbouring words in the query's order: as read, or one of them as a typo
        // candidate (so that the typo step ranks by order and proximity too).
        let mut bigrams = BTreeSet::new();
        for r in &readings {
            for pair in r.windows(2) {
                let term = analyzer::bigram_term(&pair[0], &pair[1]);
                if bigrams.insert(term.clone()) {
                    plan.push(bonus(f.name_bigrams, vec![term], BIGRAM_BONUS));
                }
            }
        }
        for i in 1..words.len() {
            let (Some(a), Some(b)) = (readings[i - 1].last(), readings[i].first()) else { continue };
            let term = analyzer::bigram_term(a, b);
            if !bigrams.insert(term.clone()) {
                continue;
            }
            let mut texts = vec![term];
            for c in typos[i - 1].iter().flatten() {
                texts.push(analyzer::bigram_term(c, b));
            }
            for c in typos[i].iter().flatten() {
                texts.push(analyzer::bigram_term(a, c));
            }
            plan.push(bonus(f.name_bigrams, texts, BIGRAM_BONUS));
        }
        if sequence.len() > 1 {
            plan.push(bonus(f.name_whole, vec![analyzer::whole_term(&sequence)], WHOLE_NAME_BONUS));
        }
        plan
    }

    /// Prepares what the first suggestions and searches would otherwise prepare on their way: the
    /// decoded lists of the words most names hold. Worth calling in the background once an index
    /// is opened (a restart); returns how many lists it built.
    pub fn warm(&self) -> Result<usize, IndexError> {
        let searcher = self.reader.searcher();
        self.dense_lists.warm(&searcher, &[self.fields.name_folded, self.fields.proper_edge, self.fields.name_bigrams])
    }

    /// Reads the document stores once, so that the kernel's page cache holds them: look-ups by
    /// code touch the whole store, and each would otherwise wait for its block to come from disk
    /// the first time (their reads are not read ahead: see `store_dir`). Takes seconds at 2 M
    /// enterprises; call it on a thread of its own. Returns the bytes read (0 for an index in
    /// memory).
    pub fn prefetch_stores(&self) -> Result<u64, IndexError> {
        Ok(match &self.stores {
            Some(stores) => stores.prefetch()?,
            None => 0,
        })
    }

    /// As-you-type completion (see the `suggest` module): names that continue the typed text, in
    /// its order and legal-form words included, first (shortest first); then names holding the
    /// typed words in their order, then in any order (BM25: shortest matching names first). The
    /// last word is completed on the words of the proper name; a `prefix` ending in a space or
    /// punctuation completes nothing. A complete word found in no name is read as its Telex/VNI
    /// decoding or its most frequent correction at one typo (two in words of 8+ letters). At most
    /// `limit` (≤ [`MAX_SUGGESTIONS`]) suggestions. With several words, only the first
    /// [`SUGGEST_SCAN_BUDGET`] matches in index order are ranked, which keeps a keystroke fast when
    /// the words are very common.
    pub fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<Suggestion>, IndexError> {
        suggest::suggest(self, prefix, limit)
    }

    /// Candidates for the legal name check: enterprises whose folded proper name shares at least
    /// one (non legal-form) word with `proper_name`, best first (more and rarer shared words).
    /// The legal rules (identical / confusingly similar) stay with the caller.
    pub fn name_candidates(&self, proper_name: &str, limit: usize) -> Result<Vec<Candidate>, IndexError> {
        let folded = analyzer::folded_words(proper_name);
        let mask = analyzer::legal_form_mask(&folded);
        let words: BTreeSet<String> = folded.into_iter().zip(mask).filter(|(_, m)| !m).map(|(w, _)| w).collect();
        if words.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let f = &self.fields;
        let clauses: Vec<(Occur, Box<dyn Query>)> = words
            .iter()
            .map(|w| {
                let q: Box<dyn Query> =
                    Box::new(TermQuery::new(Term::from_field_text(f.proper_folded, w), IndexRecordOption::WithFreqs));
                (Occur::Should, q)
            })
            .collect();
        let searcher = self.reader.searcher();
        let top = searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(limit).order_by_score())?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let proper = stored_str(&doc, f.proper_name);
            let theirs: BTreeSet<String> = analyzer::folded_words(&proper).into_iter().collect();
            out.push(Candidate {
                code: stored_str(&doc, f.code),
                name: stored_str(&doc, f.name),
                status: stored_str(&doc, f.status),
                shared_words: words.intersection(&theirs).cloned().collect(),
                proper_name: proper,
                score,
            });
        }
        Ok(out)
    }

    fn filters(&self, req: &SearchRequest) -> Vec<Box<dyn Query>> {
        let f = &self.fields;
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        let exact = [
            (f.province, &req.province),
            (f.ward, &req.ward),
            (f.status, &req.status),
            (f.enterprise_type, &req.enterprise_type),
            (f.vsic_prefix, &req.vsic),
        ];
        for (field, value) in exact {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                out.push(Box::new(TermQuery::new(Term::from_field_text(field, v), IndexRecordOption::Basic)));
            }
        }
        if req.registered_from.is_some() || req.registered_to.is_some() {
            let bound = |d: Option<chrono::NaiveDate>| match d {
                Some(d) => Bound::Included(Term::from_field_i64(f.registered, days_since_epoch(d))),
                None => Bound::Unbounded,
            };
            out.push(Box::new(RangeQuery::new(bound(req.registered_from), bound(req.registered_to))));
        }
        out
    }

    /// The text part of a search, with its probes; `None` when `q` has no word.
    fn text_query(&self, q: &str) -> Option<(Box<dyn Query>, Vec<Probe>)> {
        let mut probes = Vec::new();
        let mut top: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let tokens: Vec<&str> = q.split_whitespace().collect();
        let all_codes = !tokens.is_empty() && tokens.iter().all(|t| is_code_like(t));
        if all_codes {
            for t in &tokens {
                top.extend(self.code_clauses(t, &mut probes));
            }
        }
        let word_clauses: Vec<(Occur, Box<dyn Query>)> = distinct_words(q)
            .iter()
            .map(|w| (if w.required { Occur::Must } else { Occur::Should }, self.word_query(w, &mut probes)))
            .collect();
        if !word_clauses.is_empty() {
            top.push((Occur::Should, Box::new(BooleanQuery::new(word_clauses))));
        }
        match top.len() {
            0 => None,
            1 if !all_codes => Some((top.pop().expect("one clause").1, probes)),
            _ => Some((Box::new(BooleanQuery::new(top)), probes)),
        }
    }

    /// The two clauses of a code in a code look-up, the exact code (1000) and the code prefix
    /// (100), with their probes.
    fn code_clauses(&self, code: &str, probes: &mut Vec<Probe>) -> [(Occur, Box<dyn Query>); 2] {
        let f = &self.fields;
        let label = if code.contains('-') || code.len() > 10 { "unit_code" } else { "code" };
        let exact: Box<dyn Query> = Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(Term::from_field_text(f.code_exact, code), IndexRecordOption::Basic)),
            1000.0,
        ));
        let prefix: Box<dyn Query> = Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(Term::from_field_text(f.code_prefix, code), IndexRecordOption::Basic)),
            100.0,
        ));
        probes.push(Probe { field: label, term: code.to_string(), fuzzy: false, query: exact.box_clone() });
        probes.push(Probe { field: "code_prefix", term: code.to_string(), fuzzy: false, query: prefix.box_clone() });
        [(Occur::Should, exact), (Occur::Should, prefix)]
    }

    /// One word of the text as the boolean query of its alternatives, each with its probe: every
    /// name field exactly, and the folded ones with one typo for a word of [`FUZZY_MIN_CHARS`] or
    /// more.
    fn word_query(&self, w: &QueryWord, probes: &mut Vec<Probe>) -> Box<dyn Query> {
        let mut alts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for leaf in exact_name_fields(&self.fields) {
            let text = if leaf.folded { &w.folded } else { &w.lower };
            let term = TermQuery::new(Term::from_field_text(leaf.field, text), IndexRecordOption::WithFreqs);
            let q: Box<dyn Query> = Box::new(BoostQuery::new(Box::new(term), leaf.weight));
            probes.push(Probe { field: leaf.label, term: w.lower.clone(), fuzzy: false, query: q.box_clone() });
            alts.push((Occur::Should, q));
        }
        if w.folded.chars().count() >= FUZZY_MIN_CHARS {
            for leaf in typo_name_fields(&self.fields) {
                let typo = FuzzyTermQuery::new(Term::from_field_text(leaf.field, &w.folded), 1, true);
                let q: Box<dyn Query> = Box::new(BoostQuery::new(Box::new(typo), leaf.weight));
                probes.push(Probe { field: leaf.label, term: w.lower.clone(), fuzzy: true, query: q.box_clone() });
                alts.push((Occur::Should, q));
            }
        }
        Box::new(BooleanQuery::new(alts))
    }
}

/// Top `limit` by score among at most `budget` matching documents of `query`, visited in index
/// order: the reference for [`topk::conjunction_top_k`], through tantivy's own boolean query.
#[cfg(test)]
fn top_k_bounded(
    searcher: &Searcher,
    query: &dyn Query,
    limit: usize,
    budget: usize,
) -> Result<Vec<(f32, tantivy::DocAddress)>, IndexError> {
    use tantivy::{DocAddress, DocSet, TERMINATED};
    use topk::Ranked;
    let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
    let mut heap = std::collections::BinaryHeap::with_capacity(limit + 1);
    let mut visited = 0usize;
    'segments: for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let mut scorer = weight.scorer(reader, 1.0)?;
        let alive = reader.alive_bitset();
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                heap.push(Ranked(scorer.score(), DocAddress::new(ord as u32, doc)));
                if heap.len() > limit {
                    heap.pop();
                }
                visited += 1;
                if visited >= budget {
                    break 'segments;
                }
            }
            doc = scorer.advance();
        }
    }
    Ok(heap.into_sorted_vec().into_iter().map(|Ranked(s, a)| (s, a)).collect())
}

fn is_mark(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

/// One word of a name search.
struct QueryWord {
    /// NFC, lower-case.
    lower: String,
    folded: String,
    /// Not a legal-form word, or the query has only legal-form words.
    required: bool,
    /// Names holding the folded word (see [`SearchIndex::read_words`]).
    frequency: u64,
    /// What the word stands for when typed with Telex or VNI and the input method off (NFC,
    /// lower-case, with its marks), where the register knows it.
    decoded: Vec<String>,
    /// The two syllables a word typed run together stands for, where the register knows both.
    splits: Vec<(String, String)>,
    /// The folded word this one makes with its neighbour (a space typed inside a syllable).
    merged: Vec<String>,
}

/// The steps of a name search (see [`SearchIndex::run_steps`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    AsTyped,
    Typos,
    Partial,
}

impl Step {
    /// What a hit of this step reports, from the leaves (`ids`, among `leaves`) of `plan` that
    /// matched it: as typed, `exact` when every required word matched on an unfolded field.
    fn of_hit(self, plan: &[topk::PlanWord], leaves: &[topk::LeafInfo], ids: &[usize]) -> MatchStep {
        match self {
            Step::AsTyped => {
                let accented = |wi: usize| ids.iter().any(|id| leaves[*id].word == wi && leaves[*id].accented);
                let required = plan.iter().enumerate().filter(|(_, w)| w.required && w.reported);
                if required.into_iter().all(|(wi, _)| accented(wi)) {
                    MatchStep::Exact
                } else {
                    MatchStep::Folded
                }
            }
            Step::Typos => MatchStep::Typo,
            Step::Partial => MatchStep::Partial,
        }
    }
}

/// A leaf matching a word typed run together (or split) by the folded syllables it stands for.
fn joined_leaf(field: tantivy::schema::Field, texts: Vec<String>) -> topk::PlanLeaf {
    topk::PlanLeaf {
        field,
        label: "name",
        kind: topk::LeafKind::Any { texts, score: JOINED_SCORE },
        matcher: true,
        relaxed: false,
        accented: false,
    }
}

/// The folded syllables a query word stands for: the word as typed when the register knows it,
/// else its first reading (decoded, or its run-together syllables).
fn reading_of(w: &QueryWord) -> Vec<String> {
    match (w.known(), w.decoded.first(), w.splits.first()) {
        (false, Some(d), _) => vec![analyzer::fold(d)],
        (false, None, Some((a, b))) => vec![a.clone(), b.clone()],
        _ => vec![w.folded.clone()],
    }
}

impl QueryWord {
    /// Whether some name holds the folded word.
    fn known(&self) -> bool {
        self.frequency > 0
    }
}

/// The order typo candidates are tried in: Vietnamese syllables first (a typo rarely makes a word
/// of another language), then the terms more names hold, then term order.
fn typo_order(a: &(String, u64), b: &(String, u64)) -> std::cmp::Ordering {
    typing::is_syllable(&b.0).cmp(&typing::is_syllable(&a.0)).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0))
}

/// What every run of one name search shares.
struct WordSearch<'a> {
    searcher: &'a Searcher,
    words: &'a [QueryWord],
    filters: Vec<Box<dyn Weight>>,
    /// Hits to find: the page size plus one, to know whether there is a next page.
    limit: usize,
    /// The cursor's key.
    after: Option<(f32, String)>,
    /// No shortcuts (see [`topk::Prepared::without_shortcuts`]).
    reference: bool,
}

/// One step of a name search: its plans, the plans resolved against the searcher, and what they
/// found together.
struct WordRun {
    plans: Vec<Vec<topk::PlanWord>>,
    prepared: Vec<topk::Prepared>,
    top: topk::TopK,
    step: Step,
}

/// The distinct words of a name search; `None` for an empty query or a query made only of codes
/// (those are looked up exhaustively, see [`SearchIndex::search_exhaustive`]).
fn query_words(q: &str) -> Option<Vec<QueryWord>> {
    let tokens: Vec<&str> = q.split_whitespace().collect();
    if tokens.iter().all(|t| is_code_like(t)) {
        return None;
    }
    let words = distinct_words(q);
    (!words.is_empty()).then_some(words)
}

/// The words of `q`, each once (the first time it is written), legal-form words optional when
/// `q` has other words.
fn distinct_words(q: &str) -> Vec<QueryWord> {
    let lower = analyzer::words(q);
    let folded: Vec<String> = lower.iter().map(|w| analyzer::fold(w)).collect();
    let mask = analyzer::legal_form_mask(&folded);
    let has_proper = mask.iter().any(|m| !m);
    let mut seen = BTreeSet::new();
    lower
        .into_iter()
        .zip(folded)
        .zip(mask)
        .filter(|((l, _), _)| seen.insert(l.clone()))
        .map(|((lower, folded), legal)| QueryWord {
            lower,
            folded,
            required: !(legal && has_proper),
            frequency: 0,
            decoded: Vec::new(),
            splits: Vec::new(),
            merged: Vec::new(),
        })
        .collect()
}

/// A field a name word is looked up in.
#[derive(Clone, Copy)]
struct NameField {
    field: tantivy::schema::Field,
    /// Whether the field holds folded words (else lower-case ones, with their diacritics).
    folded: bool,
    /// The boost of an exact match's BM25, or the constant score of a match with one typo.
    weight: f32,
    /// Reported in `matched_fields`.
    label: &'static str,
    /// Whether a match here decides that the word matches (see [`exact_name_fields`]).
    matcher: bool,
}

/// The fields a name word is looked up in exactly, with their boosts (the table of the crate
/// documentation). The proper name is part of the name (see `schema::to_document`) and a word of
/// the name is also in the folded name, so the proper-name and unfolded-name fields only add to
/// the score: they are no matchers.
fn exact_name_fields(f: &Fields) -> [NameField; 7] {
    let field = |field, folded, weight, label, matcher| NameField { field, folded, weight, label, matcher };
    [
        field(f.proper_lower, false, 3.0, "proper_name", false),
        field(f.proper_folded, true, 2.0, "proper_name", false),
        field(f.name_lower, false, 1.0, "name", false),
        field(f.name_folded, true, 0.8, "name", true),
        field(f.former_folded, true, 0.6, "former_names", true),
        field(f.alt_folded, true, 0.6, "name_en_or_abbreviation", true),
        field(f.units_folded, true, 0.4, "unit_names", true),
    ]
}

/// The folded fields a name word of [`FUZZY_MIN_CHARS`] or more may match with one typo, with
/// their constant scores.
fn typo_name_fields(f: &Fields) -> [NameField; 5] {
    let field = |field, weight, label, matcher| NameField { field, folded: true, weight, label, matcher };
    [
        field(f.proper_folded, 0.5, "proper_name", false),
        field(f.name_folded, 0.3, "name", true),
        field(f.former_folded, 0.2, "former_names", true),
        field(f.alt_folded, 0.2, "name_en_or_abbreviation", true),
        field(f.units_folded, 0.1, "unit_names", true),
    ]
}

/// A whole code or code prefix: 4+ digits, optionally followed by `-` and digits.
fn is_code_like(t: &str) -> bool {
    let mut parts = t.splitn(2, '-');
    let head = parts.next().unwrap_or("");
    let tail = parts.next();
    head.len() >= 4
        && head.bytes().all(|b| b.is_ascii_digit())
        && tail.is_none_or(|t| t.bytes().all(|b| b.is_ascii_digit()) && head.len() == 10)
}

fn stored_str(doc: &TantivyDocument, field: tantivy::schema::Field) -> String {
    doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string()
}

fn request_hash(req: &SearchRequest) -> u64 {
    let opt = |o: &Option<String>| o.as_deref().map(str::trim).unwrap_or("").to_string();
    let date = |d: &Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let q = analyzer::words(&req.q).join(" ");
    let parts = [
        q,
        opt(&req.province),
        opt(&req.ward),
        opt(&req.status),
        opt(&req.enterprise_type),
        opt(&req.vsic),
        date(&req.registered_from),
        date(&req.registered_to),
    ];
    let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
    fnv1a64(&refs)
}

/// Matched fields and matched terms of one hit.
type Matched = (Vec<String>, Vec<String>);

/// For each hit, the fields and words that matched (in probe order, deduplicated).
fn matches(searcher: &Searcher, probes: &[Probe], hits: &[Collected]) -> Result<Vec<Matched>, IndexError> {
    let mut by_segment: BTreeMap<u32, Vec<(u32, usize)>> = BTreeMap::new();
    for (i, h) in hits.iter().enumerate() {
        by_segment.entry(h.address.segment_ord).or_default().push((h.address.doc_id, i));
    }
    for docs in by_segment.values_mut() {
        docs.sort_unstable();
    }
    // Per hit: matched probe indices.
    let mut matched: Vec<Vec<usize>> = vec![Vec::new(); hits.len()];
    for (p, probe) in probes.iter().enumerate() {
        let weight = probe.query.weight(EnableScoring::disabled_from_searcher(searcher))?;
        for (seg, docs) in &by_segment {
            let reader = searcher.segment_reader(*seg);
            let mut scorer = weight.scorer(reader, 1.0)?;
            for (doc, i) in docs {
                if scorer.doc() < *doc {
                    scorer.seek(*doc);
                }
                if scorer.doc() == *doc {
                    matched[i.to_owned()].push(p);
                }
            }
        }
    }
    Ok(matched
        .into_iter()
        .map(|ps| {
            matched_of(ps.into_iter().map(|p| {
                let probe = &probes[p];
                (probe.field, &probe.term, probe.fuzzy)
            }))
        })
        .collect())
}

/// The matched fields and terms of one hit, from what matched it as `(field, word, typo)`: the
/// fields in order, each once; the words that matched exactly, then those that matched only with
/// a typo, marked with a trailing `~`.
fn matched_of<'a>(matches: impl Iterator<Item = (&'static str, &'a String, bool)>) -> Matched {
    let mut fields: Vec<String> = Vec::new();
    let mut exact: Vec<String> = Vec::new();
    let mut typo: Vec<String> = Vec::new();
    for (field, word, fuzzy) in matches {
        if !fields.iter().any(|f| f == field) {
            fields.push(field.to_string());
        }
        let list = if fuzzy { &mut typo } else { &mut exact };
        if !list.contains(word) {
            list.push(word.clone());
        }
    }
    let mut terms = exact.clone();
    terms.extend(typo.into_iter().filter(|t| !exact.contains(t)).map(|t| format!("{t}~")));
    (fields, terms)
}

/// `total` and its relation for `n` matches counted up to `cap`.
fn capped_total(n: u64, cap: u64) -> (u64, TotalRelation) {
    if n >= cap {
        (cap, TotalRelation::Gte)
    } else {
        (n, TotalRelation::Eq)
    }
}

// Compile-time check: the index is shared across threads.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SearchIndex>();
};
