//! Top-k evaluation of a text query, in keyset order, with block-max pruning.
//!
//! A text query is a list of words; each word is a list of leaves (one term on one field, BM25
//! times a boost, or a typo expansion with a constant score). A document matches when every
//! *required* word has at least one matching leaf; *optional* words (legal-form words such as
//! `công ty` when the query has other words) only add to the score. The score is the sum of the
//! matching leaves, always added up in the same order, so that it is bit-for-bit the same on every
//! page (the cursor compares scores exactly).
//!
//! Hits are ordered by `(score desc, code asc)`; [`top_k`] keeps the best `limit` hits strictly
//! after a cursor key. It walks the documents of the rarest required word (leap-frogging over the
//! other words) and, once it holds `limit` hits, skips every range of documents whose upper bound
//! is *below* the worst kept score: the bound of a range is the sum of the block maxima of every
//! leaf's current postings block (block-max WAND, as tantivy's `TopDocs` does for flat queries).
//! Ranges that merely *tie* the worst kept score are not skipped, since a tied document with a
//! smaller code sorts before it. Skipped documents are not counted, so the count of a pruned run
//! is a lower bound; [`count`] gives a capped exact count.
//!
//! Block maxima come from the postings' skip data, written with the *segment's* average field
//! length, while scores use the *index-wide* average. For one `(fieldnorm, tf)` pair the two
//! BM25 length factors differ by at most the ratio of the two averages, so each block maximum is
//! multiplied by `max(segment_avg / index_avg, index_avg / segment_avg)` (plus a rounding margin):
//! the bound is then a true upper bound and pruning never drops a document that belongs on the
//! page.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};

use tantivy::columnar::StrColumn;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::{InvertedIndexReader, SegmentId};
use tantivy::postings::{BlockSegmentPostings, TermInfo};
use tantivy::query::{Bm25Weight, FuzzyTermQuery, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::DocSet;
use tantivy::{
    DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader, TantivyDocument, TantivyError, Term, TERMINATED,
};

use crate::collector::{Collected, Entry};
use crate::{analyzer, IndexError};

/// Relative margin added to every block bound against floating-point rounding.
const ROUNDING_MARGIN: f32 = 1e-4;

/// One word of a text query.
#[derive(Debug, Clone)]
pub(crate) struct PlanWord {
    /// The normalised query word, as reported in `matched_terms`.
    pub word: String,
    /// A required word must match; an optional one only adds to the score.
    pub required: bool,
    pub leaves: Vec<PlanLeaf>,
    /// The folded word, when its matching leaves are exactly the folded word's (no typo
    /// expansion) and it has pair terms (see `schema::Fields::word_pairs`).
    pub pair_key: Option<String>,
    /// A word of the query, reported in `matched_terms` (not a bonus for order or a whole name).
    pub reported: bool,
}

/// One way a word may match: a term (or one of several terms) on a field.
#[derive(Debug, Clone)]
pub(crate) struct PlanLeaf {
    pub field: Field,
    /// Reported in `matched_fields`.
    pub label: &'static str,
    pub kind: LeafKind,
    /// A match found by relaxing the query (a typo): reported as such.
    pub relaxed: bool,
    /// A match of the word with its diacritics as typed (an unfolded field).
    pub accented: bool,
    /// Whether the leaf decides which documents match. A leaf whose documents are all matched by
    /// another leaf of the word (the proper name is part of the name, the unfolded name folds
    /// to the folded one) only scores; the walk over the matching documents then seeks fewer
    /// posting lists.
    pub matcher: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum LeafKind {
    /// BM25 of `text` times `boost`, plus `bonus` wherever the term is.
    Bm25 { text: String, boost: f32, bonus: f32 },
    /// This constant score when the document holds any of `texts` (typo candidates, an ordered
    /// bigram, a whole name).
    Any { texts: Vec<String>, score: f32 },
}

/// What a leaf is, for reporting why a hit matched.
#[derive(Debug, Clone)]
pub(crate) struct LeafInfo {
    /// Index of the word in the plan.
    pub word: usize,
    pub label: &'static str,
    pub fuzzy: bool,
    pub accented: bool,
}

enum PreparedKind {
    /// The term's postings per segment (segment ordinal order).
    Bm25 { per_segment: Vec<Option<TermInfo>>, weight: Bm25Weight, bonus: Score },
    /// The matching terms per segment.
    Any { per_segment: Vec<Vec<TermInfo>>, score: Score },
}

struct PreparedLeaf {
    id: usize,
    field: Field,
    matcher: bool,
    kind: PreparedKind,
}

struct PreparedWord {
    required: bool,
    leaves: Vec<PreparedLeaf>,
    /// Sum of the document frequencies of the matching leaves: the cost of walking the word.
    cost: u64,
    pair_key: Option<String>,
}

/// A plan resolved against one searcher: term statistics, BM25 weights, typo expansions.
pub(crate) struct Prepared {
    /// Required words (cheapest first), then optional words.
    words: Vec<PreparedWord>,
    /// The pair terms walked instead of the rarest word (see [`pair_leads`]).
    leads: Vec<Vec<Vec<TermInfo>>>,
    required: usize,
    /// Per leaf id.
    pub leaves: Vec<LeafInfo>,
    /// Per plan word: whether any of its leaves occurs in the index.
    pub word_found: Vec<bool>,
    /// Index-wide average field length, per field.
    averages: HashMap<Field, f32>,
    pairs: Field,
    /// Skip the blocks that cannot reach the page (false: score every match).
    prune: bool,
    /// Where the segments' dense posting lists are kept (`None`: read every list as postings).
    dense: Option<Arc<DenseLists>>,
}

impl Prepared {
    /// The same plan walked word by word, without pair terms, block-max pruning or dense lists
    /// (a reference for tests).
    pub fn without_shortcuts(mut self) -> Self {
        self.leads.clear();
        self.prune = false;
        self.dense = None;
        self
    }

    /// A required word matches nothing: so does the query.
    pub fn matches_nothing(&self) -> bool {
        self.words.iter().take(self.required).any(|w| !w.leaves.iter().any(|l| l.matcher)) || self.required == 0
    }
}

pub(crate) fn io(e: std::io::Error) -> TantivyError {
    TantivyError::from(e)
}

/// The BM25 weight of a term found in one document, per field, for the current index statistics.
/// (`Bm25Weight::for_one_term` builds a 256-entry length table; a term's weight is this one
/// scaled to its idf.)
#[derive(Default)]
pub(crate) struct Bm25Units(Mutex<HashMap<Field, (u64, u32, Bm25Weight)>>);

impl Bm25Units {
    fn unit(&self, field: Field, docs: u64, avg: f32) -> Bm25Weight {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&field) {
            Some((d, a, w)) if *d == docs && *a == avg.to_bits() => w.clone(),
            _ => {
                let w = Bm25Weight::for_one_term(1, docs, avg);
                map.insert(field, (docs, avg.to_bits(), w.clone()));
                w
            }
        }
    }
}

/// BM25 inverse document frequency, as tantivy computes it.
fn idf(doc_freq: u64, docs: u64) -> f32 {
    let x = ((docs - doc_freq.min(docs)) as f32 + 0.5) / (doc_freq as f32 + 0.5);
    (1.0 + x).ln()
}

/// A term looked up in every segment of a searcher, with the statistics its BM25 weight needs.
struct TermPostings {
    /// Per segment (segment ordinal order), the term's postings if the segment holds it.
    infos: Vec<Option<TermInfo>>,
    /// Documents holding the term, every segment together.
    doc_freq: u64,
    /// Tokens of the term's field, every segment together.
    tokens: u64,
}

/// Looks `term` up in every segment of `searcher`.
fn term_postings(searcher: &Searcher, term: &Term) -> Result<TermPostings, IndexError> {
    let readers = searcher.segment_readers();
    let mut found = TermPostings { infos: Vec::with_capacity(readers.len()), doc_freq: 0, tokens: 0 };
    for r in readers {
        let inverted = r.inverted_index(term.field())?;
        found.tokens += inverted.total_num_tokens();
        let info = inverted.get_term_info(term).map_err(io)?;
        found.doc_freq += info.as_ref().map_or(0, |i| u64::from(i.doc_freq));
        found.infos.push(info);
    }
    Ok(found)
}

/// The terms of `field` at most `edits` edits from `text` (Damerau–Levenshtein: a swap of two
/// neighbours is one edit; `text` itself excluded), with the documents holding each, every
/// segment together, in term order.
pub(crate) fn typo_terms(
    searcher: &Searcher,
    field: Field,
    text: &str,
    edits: u8,
) -> Result<Vec<(String, u64)>, IndexError> {
    let dfa = FuzzyTermQuery::new(Term::from_field_text(field, text), edits, true).automaton()?;
    let mut found: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for r in searcher.segment_readers() {
        let inverted = r.inverted_index(field)?;
        let mut stream = inverted.terms().search(&dfa).into_stream().map_err(io)?;
        while stream.advance() {
            if stream.key() != text.as_bytes() {
                *found.entry(stream.key().to_vec()).or_default() += u64::from(stream.value().doc_freq);
            }
        }
    }
    Ok(found.into_iter().filter_map(|(k, df)| String::from_utf8(k).ok().map(|k| (k, df))).collect())
}

/// Documents holding `text` on `field`, every segment together.
pub(crate) fn doc_freq(searcher: &Searcher, field: Field, text: &str) -> Result<u64, IndexError> {
    Ok(term_postings(searcher, &Term::from_field_text(field, text))?.doc_freq)
}

/// The index-wide field statistics a plan's BM25 leaves are weighted with, gathered per field on
/// first use.
struct FieldStats<'a> {
    cache: &'a Bm25Units,
    total_docs: u64,
    /// Index-wide average field length, per field.
    averages: HashMap<Field, f32>,
    /// BM25 weight of a term found in one document, per field.
    units: HashMap<Field, Bm25Weight>,
}

impl FieldStats<'_> {
    /// The BM25 weight, times `boost`, of a term of `field` found in `doc_freq` documents
    /// (`tokens`: the field's tokens, index-wide).
    fn weight(&mut self, field: Field, tokens: u64, doc_freq: u64, boost: f32) -> Bm25Weight {
        let total_docs = self.total_docs;
        let unit = match self.units.entry(field) {
            std::collections::hash_map::Entry::Occupied(slot) => slot.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let avg = if total_docs == 0 { 0.0 } else { tokens as f32 / total_docs as f32 };
                self.averages.insert(field, avg);
                slot.insert(self.cache.unit(field, total_docs, avg))
            }
        };
        let scale = idf(doc_freq, total_docs) / idf(1, total_docs);
        unit.boost_by(scale * boost)
    }
}

/// One leaf resolved against the searcher, and the documents holding it; `None` when there are
/// none.
fn prepare_leaf(
    searcher: &Searcher,
    leaf: &PlanLeaf,
    stats: &mut FieldStats,
) -> Result<Option<(PreparedKind, u64)>, IndexError> {
    match &leaf.kind {
        LeafKind::Bm25 { text, boost, bonus } => {
            let found = term_postings(searcher, &Term::from_field_text(leaf.field, text))?;
            if found.doc_freq == 0 {
                return Ok(None);
            }
            let weight = stats.weight(leaf.field, found.tokens, found.doc_freq, *boost);
            Ok(Some((PreparedKind::Bm25 { per_segment: found.infos, weight, bonus: *bonus }, found.doc_freq)))
        }
        LeafKind::Any { texts, score } => {
            let segments = searcher.segment_readers().len();
            let mut per_segment: Vec<Vec<TermInfo>> = vec![Vec::new(); segments];
            let mut df = 0;
            for text in texts {
                let found = term_postings(searcher, &Term::from_field_text(leaf.field, text))?;
                df += found.doc_freq;
                for (slot, info) in per_segment.iter_mut().zip(found.infos) {
                    slot.extend(info);
                }
            }
            Ok((df > 0).then_some((PreparedKind::Any { per_segment, score: *score }, df)))
        }
    }
}

/// Resolve `plan` against `searcher`.
pub(crate) fn prepare(
    searcher: &Searcher,
    plan: &[PlanWord],
    pairs: Field,
    cache: &Bm25Units,
    dense: &Arc<DenseLists>,
) -> Result<Prepared, IndexError> {
    let total_docs: u64 = searcher.segment_readers().iter().map(|r| u64::from(r.max_doc())).sum();
    let mut stats = FieldStats { cache, total_docs, averages: HashMap::new(), units: HashMap::new() };
    let mut leaves = Vec::new();
    let mut words = Vec::new();
    let mut word_found = Vec::with_capacity(plan.len());
    for (wi, w) in plan.iter().enumerate() {
        let mut prepared =
            PreparedWord { required: w.required, leaves: Vec::new(), cost: 0, pair_key: w.pair_key.clone() };
        for leaf in &w.leaves {
            let Some((kind, df)) = prepare_leaf(searcher, leaf, &mut stats)? else { continue };
            if leaf.matcher {
                prepared.cost += df;
            }
            let id = leaves.len();
            leaves.push(LeafInfo { word: wi, label: leaf.label, fuzzy: leaf.relaxed, accented: leaf.accented });
            prepared.leaves.push(PreparedLeaf { id, field: leaf.field, matcher: leaf.matcher, kind });
        }
        word_found.push(!prepared.leaves.is_empty());
        if prepared.required || !prepared.leaves.is_empty() {
            words.push(prepared);
        }
    }
    // Required words first, the rarest leading; optional words keep their order.
    words.sort_by_key(|w| (!w.required, if w.required { w.cost } else { 0 }));
    let required = words.iter().filter(|w| w.required).count();
    let leads = pair_leads(searcher, &words[..required], pairs)?;
    Ok(Prepared {
        words,
        required,
        leads,
        leaves,
        word_found,
        averages: stats.averages,
        pairs,
        prune: true,
        dense: Some(dense.clone()),
    })
}

/// The pair terms to walk instead of the rarest word (`words` sorted by cost): the pairs of the
/// three rarest pairable required words, each with the enterprises whose pairs are incomplete,
/// rarest first; per pair, per segment, the postings. Empty when no pair is cheaper than the
/// rarest word.
fn pair_leads(
    searcher: &Searcher,
    words: &[PreparedWord],
    pairs: Field,
) -> Result<Vec<Vec<Vec<TermInfo>>>, IndexError> {
    let mut keys: Vec<&str> = Vec::with_capacity(3);
    for k in words.iter().filter_map(|w| w.pair_key.as_deref()) {
        if !keys.contains(&k) {
            keys.push(k);
            if keys.len() == 3 {
                break;
            }
        }
    }
    let mut terms = Vec::new();
    for (i, a) in keys.iter().enumerate() {
        for b in &keys[i + 1..] {
            terms.push(Term::from_field_text(pairs, &analyzer::pair_term(a, b)));
        }
    }
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let incomplete = Term::from_field_text(pairs, analyzer::PAIRS_INCOMPLETE);
    let mut leads: Vec<(u64, Vec<Vec<TermInfo>>)> = terms.iter().map(|_| (0, Vec::new())).collect();
    for r in searcher.segment_readers() {
        let inverted = r.inverted_index(pairs)?;
        let incomplete = inverted.get_term_info(&incomplete).map_err(io)?;
        for (t, (df, per_segment)) in terms.iter().zip(&mut leads) {
            let mut infos = Vec::with_capacity(2);
            for info in [inverted.get_term_info(t).map_err(io)?, incomplete.clone()].into_iter().flatten() {
                *df += u64::from(info.doc_freq);
                infos.push(info);
            }
            per_segment.push(infos);
        }
    }
    leads.sort_by_key(|(df, _)| *df);
    let cheapest_word = words.first().map_or(u64::MAX, |w| w.cost);
    if leads[0].0 >= cheapest_word {
        return Ok(Vec::new());
    }
    Ok(leads.into_iter().map(|(_, p)| p).collect())
}

/// Segments smaller than this read every posting list as postings.
const DENSE_MIN_SEGMENT_DOCS: u32 = if cfg!(test) { 200 } else { 65_536 };
/// A term in at least one document in this many of a segment is read as a [`DenseList`].
const DENSE_MAX_GAP: u64 = 4;
/// Memory for dense lists, all segments together: about 256 lists of a 2 M-document segment.
const DENSE_CACHE_BYTES: usize = 64 << 20;

/// A term of a suggestion's conjunction in at least one document in this many of a segment is
/// read as a [`DenseList`]: the words typed before the last one are mostly trade words
/// (`dịch vụ`, `xuất nhập khẩu`, `thương mại`), each in a tenth to a quarter of the names.
const SUGGEST_DENSE_MAX_GAP: u64 = 16;

/// Whether a term's postings are read as a [`DenseList`].
fn is_dense(info: &TermInfo, max_doc: u32) -> bool {
    dense_at(info, max_doc, DENSE_MAX_GAP)
}

fn dense_at(info: &TermInfo, max_doc: u32, gap: u64) -> bool {
    max_doc >= DENSE_MIN_SEGMENT_DOCS && u64::from(info.doc_freq) * gap >= u64::from(max_doc)
}

/// A posting list decoded into a bit set over the segment's documents.
///
/// Postings are read forward through a linear skip list, so scoring a few documents spread over
/// a segment walks the whole list of every word they are scored on: for a word in most names
/// (`công`, `ty`, `tnhh`, which a search for `Công ty TNHH …` scores on every candidate) that is
/// most of a search's time. A bit set answers "next document from here" and "term frequency
/// here" at once, from any position; it holds the same documents and frequencies, so scores are
/// the same to the bit.
pub(crate) struct DenseList {
    bits: Vec<u64>,
    /// `(doc, tf)` of the documents that hold the term more than once, by document.
    repeats: Vec<(DocId, u32)>,
    /// For the upper bound of every score of the list: the largest term frequency and the
    /// smallest field length (as a fieldnorm id).
    max_tf: u32,
    min_norm: u8,
}

impl DenseList {
    /// `freqs`: whether the postings hold term frequencies (else every frequency is 1).
    fn build(mut postings: BlockSegmentPostings, freqs: bool, norms: &FieldNormReader, max_doc: u32) -> DenseList {
        let mut list = DenseList {
            bits: vec![0; (max_doc as usize).div_ceil(64)],
            repeats: Vec::new(),
            max_tf: 0,
            min_norm: u8::MAX,
        };
        while postings.block_len() > 0 {
            // A field indexed without frequencies holds each term once per document.
            let tfs = if freqs { postings.freqs() } else { &[] };
            for (i, &doc) in postings.docs().iter().enumerate() {
                let tf = tfs.get(i).copied().unwrap_or(1);
                list.bits[doc as usize / 64] |= 1 << (doc % 64);
                if tf > 1 {
                    list.repeats.push((doc, tf));
                }
                list.max_tf = list.max_tf.max(tf);
                list.min_norm = list.min_norm.min(norms.fieldnorm_id(doc));
            }
            postings.advance();
        }
        list
    }

    /// The first document `>= target` holding the term, or `TERMINATED`.
    #[inline]
    fn next(&self, target: DocId) -> DocId {
        let mut word = target as usize / 64;
        let Some(first) = self.bits.get(word) else { return TERMINATED };
        let mut bits = first & (u64::MAX << (target % 64));
        loop {
            if bits != 0 {
                return (word * 64) as DocId + bits.trailing_zeros();
            }
            word += 1;
            match self.bits.get(word) {
                Some(b) => bits = *b,
                None => return TERMINATED,
            }
        }
    }

    /// The term frequency in `doc`, which holds the term.
    #[inline]
    fn tf(&self, doc: DocId) -> u32 {
        match self.repeats.binary_search_by_key(&doc, |(d, _)| *d) {
            Ok(i) => self.repeats[i].1,
            Err(_) => 1,
        }
    }

    fn bytes(&self) -> usize {
        self.bits.len() * 8 + self.repeats.len() * 8
    }
}

/// The dense lists of the segments being searched, built on first use and kept while their
/// segment is (see [`DenseLists::retain`]), least recently used dropped beyond
/// [`DENSE_CACHE_BYTES`].
#[derive(Default)]
pub(crate) struct DenseLists(Mutex<DenseState>);

type DenseKey = (SegmentId, Field, usize);

#[derive(Default)]
struct DenseState {
    /// By segment, field and the start of the term's postings (unique in a field's postings),
    /// with the clock of its last use.
    lists: HashMap<DenseKey, (Arc<DenseList>, u64)>,
    bytes: usize,
    /// Advanced by every look-up.
    clock: u64,
}

impl DenseState {
    /// The list kept under `key`, marked as just used.
    fn touch(&mut self, key: &DenseKey) -> Option<Arc<DenseList>> {
        self.clock += 1;
        let now = self.clock;
        let (list, used) = self.lists.get_mut(key)?;
        *used = now;
        Some(list.clone())
    }
}

impl DenseLists {
    pub(crate) fn get(
        &self,
        reader: &SegmentReader,
        field: Field,
        info: &TermInfo,
        norms: &FieldNormReader,
    ) -> Result<Arc<DenseList>, IndexError> {
        let key = (reader.segment_id(), field, info.postings_range.start);
        if let Some(list) = self.lock().touch(&key) {
            return Ok(list);
        }
        // Built outside the lock: searches of other words go on meanwhile (two searches of the
        // same new word may both build it; one copy is kept).
        let freqs =
            reader.schema().get_field_entry(field).field_type().get_index_record_option().is_some_and(|o| o.has_freq());
        let option = if freqs { IndexRecordOption::WithFreqs } else { IndexRecordOption::Basic };
        let postings = reader.inverted_index(field)?.read_block_postings_from_terminfo(info, option).map_err(io)?;
        let list = Arc::new(DenseList::build(postings, freqs, norms, reader.max_doc()));
        let mut state = self.lock();
        if let Some(kept) = state.touch(&key) {
            return Ok(kept);
        }
        state.bytes += list.bytes();
        let now = state.clock;
        state.lists.insert(key, (list.clone(), now));
        while state.bytes > DENSE_CACHE_BYTES && state.lists.len() > 1 {
            let oldest = state.lists.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| *k);
            let Some(oldest) = oldest else { break };
            if let Some((gone, _)) = state.lists.remove(&oldest) {
                state.bytes -= gone.bytes();
            }
        }
        Ok(list)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DenseState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forget the segments `searcher` no longer has.
    pub fn retain(&self, searcher: &Searcher) {
        let live: Vec<SegmentId> = searcher.segment_readers().iter().map(|r| r.segment_id()).collect();
        let mut state = self.lock();
        state.lists.retain(|(id, _, _), _| live.contains(id));
        state.bytes = state.lists.values().map(|(l, _)| l.bytes()).sum();
    }

    /// Builds ahead the lists that suggestions (and name searches) read in `fields`: every term in
    /// at least 1/[`SUGGEST_DENSE_MAX_GAP`] of a large segment, the most frequent first, within
    /// half of [`DENSE_CACHE_BYTES`]. Built on first use instead, a list costs the request that
    /// meets it a walk of the whole posting list. Returns the lists built.
    pub(crate) fn warm(&self, searcher: &Searcher, fields: &[Field]) -> Result<usize, IndexError> {
        let mut candidates: Vec<(u32, usize, Field, TermInfo)> = Vec::new();
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let max_doc = reader.max_doc();
            if max_doc < DENSE_MIN_SEGMENT_DOCS {
                continue;
            }
            for &field in fields {
                let inverted = reader.inverted_index(field)?;
                let mut stream = inverted.terms().stream().map_err(io)?;
                while stream.advance() {
                    let info = stream.value();
                    if dense_at(info, max_doc, SUGGEST_DENSE_MAX_GAP) {
                        candidates.push((info.doc_freq, ord, field, info.clone()));
                    }
                }
            }
        }
        candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
        let mut built = 0;
        for (_, ord, field, info) in candidates {
            if self.lock().bytes >= DENSE_CACHE_BYTES / 2 {
                break;
            }
            let reader = &searcher.segment_readers()[ord];
            let norms = reader
                .fieldnorms_readers()
                .get_field(field)?
                .unwrap_or_else(|| FieldNormReader::constant(reader.max_doc(), 1));
            self.get(reader, field, &info, &norms)?;
            built += 1;
        }
        Ok(built)
    }

    /// Lists held and their bytes.
    #[cfg(test)]
    pub fn held(&self) -> (usize, usize) {
        let state = self.lock();
        (state.lists.len(), state.bytes)
    }
}

/// One term of [`conjunction_top_k`] in one segment: its postings, or its dense list.
enum Conjunct {
    Postings(Box<tantivy::postings::SegmentPostings>),
    Dense(Arc<DenseList>),
}

impl Conjunct {
    /// The first document `>= target` holding the term (never moves backwards).
    #[inline]
    fn seek(&mut self, target: DocId) -> DocId {
        match self {
            Conjunct::Postings(p) => {
                if p.doc() < target {
                    p.seek(target)
                } else {
                    p.doc()
                }
            }
            Conjunct::Dense(l) => l.next(target),
        }
    }
}

/// A ranked document: its score and address. Greater is worse, so that a max-heap keeps the worst
/// kept hit on top; ties go in index order.
#[derive(PartialEq)]
pub(crate) struct Ranked(pub Score, pub DocAddress);

impl Eq for Ranked {}

impl Ord for Ranked {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0).then(self.1.cmp(&o.1))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// The best `limit` documents holding every one of `terms` (each on its own field), by the sum
/// of their BM25 scores counting each term once (as term queries without frequencies score),
/// best first, ties in index order: what a boolean query of `Must` term queries with
/// `IndexRecordOption::Basic` and `TopDocs` give, except that only the first `budget` matches in
/// index order are ranked.
///
/// Leap-frogs over the terms' postings, rarest first; a term in at least one document in
/// [`SUGGEST_DENSE_MAX_GAP`] of a large segment is read from its (cached) [`DenseList`], which
/// answers "next document from here" without walking the list. Scores are added in tantivy's
/// order (terms by segment frequency, the two rarest first), so they are the same to the bit.
pub(crate) fn conjunction_top_k(
    searcher: &Searcher,
    terms: &[Term],
    limit: usize,
    budget: usize,
    dense: &DenseLists,
) -> Result<Vec<(Score, DocAddress)>, IndexError> {
    if limit == 0 || terms.is_empty() {
        return Ok(Vec::new());
    }
    let Some(weighted) = conjunction_terms(searcher, terms)? else { return Ok(Vec::new()) };
    let mut ranking = ConjunctionRanking { heap: BinaryHeap::with_capacity(limit + 1), limit, budget, visited: 0 };
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let Some(mut seg) = open_conjunction(reader, ord, terms, &weighted, dense)? else { continue };
        let alive = reader.alive_bitset();
        let scoring = &seg.scoring;
        // Ranks one document holding every term; true once the budget is spent.
        let keep = |doc: DocId| -> bool {
            if alive.is_some_and(|a| a.is_deleted(doc)) {
                return false;
            }
            ranking.keep(Ranked(conjunction_score(scoring, doc), DocAddress::new(ord as SegmentOrdinal, doc)))
        };
        let dense_only: Option<Vec<&DenseList>> = seg
            .conjuncts
            .iter()
            .map(|c| match c {
                Conjunct::Dense(l) => Some(l.as_ref()),
                Conjunct::Postings(_) => None,
            })
            .collect();
        let spent = match dense_only {
            Some(lists) => intersect_dense(&lists, reader.max_doc(), keep),
            None => leap_frog(&mut seg.conjuncts, keep),
        };
        if spent {
            break;
        }
    }
    Ok(ranking.heap.into_sorted_vec().into_iter().map(|Ranked(s, a)| (s, a)).collect())
}

/// A term of [`conjunction_top_k`]: its postings per segment and its BM25 weight.
struct ConjunctionTerm {
    infos: Vec<Option<TermInfo>>,
    weight: Bm25Weight,
}

/// Each term's postings in every segment and, from the same look-ups, its weight as
/// `Bm25Weight::for_terms` computes it over the searcher (which reads the dictionaries again);
/// `None` when a term is in no document.
fn conjunction_terms(searcher: &Searcher, terms: &[Term]) -> Result<Option<Vec<ConjunctionTerm>>, IndexError> {
    let total_docs: u64 = searcher.segment_readers().iter().map(|r| u64::from(r.max_doc())).sum();
    let mut out = Vec::with_capacity(terms.len());
    for term in terms {
        let found = term_postings(searcher, term)?;
        if found.doc_freq == 0 {
            return Ok(None);
        }
        let avg = found.tokens as Score / total_docs as Score;
        out.push(ConjunctionTerm {
            infos: found.infos,
            weight: Bm25Weight::for_one_term(found.doc_freq, total_docs, avg),
        });
    }
    Ok(Some(out))
}

/// The terms of [`conjunction_top_k`] on one segment, rarest first.
struct ConjunctionSegment {
    conjuncts: Vec<Conjunct>,
    /// Per conjunct: the term's weight and its field's lengths.
    scoring: Vec<(Bm25Weight, FieldNormReader)>,
}

/// Opens the terms on one segment, each from its dense list or its postings; `None` when the
/// segment lacks one of them.
fn open_conjunction(
    reader: &SegmentReader,
    ord: usize,
    terms: &[Term],
    weighted: &[ConjunctionTerm],
    dense: &DenseLists,
) -> Result<Option<ConjunctionSegment>, IndexError> {
    let max_doc = reader.max_doc();
    let mut found = Vec::with_capacity(terms.len());
    for (i, t) in weighted.iter().enumerate() {
        let Some(info) = t.infos[ord].clone() else { return Ok(None) };
        found.push((i, info, reader.inverted_index(terms[i].field())?));
    }
    // Tantivy's intersection orders its scorers by cost (stable) and adds their scores so.
    found.sort_by_key(|(_, info, _)| info.doc_freq);
    let mut seg =
        ConjunctionSegment { conjuncts: Vec::with_capacity(found.len()), scoring: Vec::with_capacity(found.len()) };
    for (i, info, inverted) in found {
        let field = terms[i].field();
        let norms =
            reader.fieldnorms_readers().get_field(field)?.unwrap_or_else(|| FieldNormReader::constant(max_doc, 1));
        seg.conjuncts.push(if dense_at(&info, max_doc, SUGGEST_DENSE_MAX_GAP) {
            Conjunct::Dense(dense.get(reader, field, &info, &norms)?)
        } else {
            Conjunct::Postings(Box::new(
                inverted.read_postings_from_terminfo(&info, IndexRecordOption::Basic).map_err(io)?,
            ))
        });
        seg.scoring.push((weighted[i].weight.clone(), norms));
    }
    Ok(Some(seg))
}

/// The score of `doc` holding every term of a conjunction: each term's BM25 at frequency 1, added
/// in tantivy's order (the two rarest first, then the others).
#[inline]
fn conjunction_score(scoring: &[(Bm25Weight, FieldNormReader)], doc: DocId) -> Score {
    let score_of = |(w, norms): &(Bm25Weight, FieldNormReader)| w.score(norms.fieldnorm_id(doc), 1);
    let mut scores = scoring.iter().map(score_of);
    let first = scores.next().unwrap_or(0.0);
    match scores.next() {
        None => first,
        Some(second) => first + second + scores.sum::<Score>(),
    }
}

/// The best hits of [`conjunction_top_k`] so far, and how many documents it ranked of its budget.
struct ConjunctionRanking {
    heap: BinaryHeap<Ranked>,
    limit: usize,
    budget: usize,
    visited: usize,
}

impl ConjunctionRanking {
    /// Ranks one hit; true once the budget is spent.
    #[inline]
    fn keep(&mut self, hit: Ranked) -> bool {
        if self.heap.len() < self.limit {
            self.heap.push(hit);
        } else if self.heap.peek().is_some_and(|worst| hit < *worst) {
            self.heap.pop();
            self.heap.push(hit);
        }
        self.visited += 1;
        self.visited >= self.budget
    }
}

/// Calls `keep` on every document in all of `lists`, intersecting the sets 64 documents at a
/// time, until it returns true (then returns true).
#[inline]
fn intersect_dense(lists: &[&DenseList], max_doc: u32, mut keep: impl FnMut(DocId) -> bool) -> bool {
    for w in 0..(max_doc as usize).div_ceil(64) {
        let mut bits = lists.iter().fold(u64::MAX, |acc, l| acc & l.bits[w]);
        while bits != 0 {
            let doc = (w * 64) as DocId + bits.trailing_zeros();
            bits &= bits - 1;
            if keep(doc) {
                return true;
            }
        }
    }
    false
}

/// Calls `keep` on every document all of `conjuncts` hold, leap-frogging (each moves to the first
/// document >= the candidate), until it returns true (then returns true).
#[inline]
fn leap_frog(conjuncts: &mut [Conjunct], mut keep: impl FnMut(DocId) -> bool) -> bool {
    let mut target: DocId = 0;
    'docs: loop {
        for c in conjuncts.iter_mut() {
            let doc = c.seek(target);
            if doc == TERMINATED {
                return false;
            }
            if doc > target {
                target = doc;
                continue 'docs;
            }
        }
        if keep(target) {
            return true;
        }
        target += 1;
    }
}

/// A cursor over one posting list.
struct TermCursor {
    postings: BlockSegmentPostings,
    cur: usize,
    doc: DocId,
}

impl TermCursor {
    fn new(postings: BlockSegmentPostings) -> Self {
        let doc = postings.doc(0);
        TermCursor { postings, cur: 0, doc }
    }

    #[inline]
    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc < target {
            // Often the next document of the block: no skip-list walk, no block search.
            let next = self.cur + 1;
            if next < self.postings.block_len() && self.postings.doc(next) >= target {
                self.cur = next;
            } else {
                self.cur = self.postings.seek(target);
            }
            self.doc = self.postings.doc(self.cur);
        }
        self.doc
    }

    /// Last document of the current block.
    fn block_last(&self) -> DocId {
        match self.postings.block_len() {
            0 => TERMINATED,
            n => self.postings.doc(n - 1),
        }
    }
}

// The term variant is the hot one, read for every candidate document: kept inline, not boxed.
#[allow(clippy::large_enum_variant)]
enum Leaf {
    Term {
        cursor: TermCursor,
        norms: FieldNormReader,
        weight: Bm25Weight,
        margin: f32,
        bonus: Score,
    },
    /// A term found in a large share of the segment, read from its [`DenseList`].
    Dense {
        list: Arc<DenseList>,
        doc: DocId,
        norms: FieldNormReader,
        weight: Bm25Weight,
        bonus: Score,
    },
    Any {
        parts: Vec<TermCursor>,
        doc: DocId,
        score: Score,
    },
}

impl Leaf {
    #[inline]
    fn seek(&mut self, target: DocId) -> DocId {
        match self {
            Leaf::Term { cursor, .. } => cursor.seek(target),
            Leaf::Dense { list, doc, .. } => {
                if *doc < target {
                    *doc = list.next(target);
                }
                *doc
            }
            Leaf::Any { parts, doc, .. } => {
                if *doc < target {
                    *doc = parts.iter_mut().map(|p| p.seek(target)).min().unwrap_or(TERMINATED);
                }
                *doc
            }
        }
    }

    /// The document the leaf is on.
    #[inline]
    fn current(&self) -> DocId {
        match self {
            Leaf::Term { cursor, .. } => cursor.doc,
            Leaf::Dense { doc, .. } | Leaf::Any { doc, .. } => *doc,
        }
    }

    /// Score at the current document (which must match).
    #[inline]
    fn score(&self) -> Score {
        match self {
            Leaf::Term { cursor, norms, weight, bonus, .. } => {
                weight.score(norms.fieldnorm_id(cursor.doc), cursor.postings.freq(cursor.cur)) + *bonus
            }
            Leaf::Dense { list, doc, norms, weight, bonus } => {
                weight.score(norms.fieldnorm_id(*doc), list.tf(*doc)) + *bonus
            }
            Leaf::Any { score, .. } => *score,
        }
    }

    /// An upper bound of the score of every document from the current one to the returned
    /// last document (the end of the current block), and that last document.
    fn bound(&mut self) -> (Score, DocId) {
        match self {
            Leaf::Term { cursor, norms, weight, margin, bonus } => {
                let last = cursor.block_last();
                (cursor.postings.block_max_score(norms, weight) * *margin + *bonus, last)
            }
            // The weight is the index-wide one, and a score grows with the term frequency and
            // shrinks with the field length (also in f32: each step rounds monotonically).
            Leaf::Dense { list, weight, bonus, .. } => (weight.score(list.min_norm, list.max_tf) + *bonus, TERMINATED),
            Leaf::Any { score, .. } => (*score, TERMINATED),
        }
    }
}

struct Word {
    /// `(leaf id, leaf)`, the matchers first.
    leaves: Vec<(usize, Leaf)>,
    matchers: usize,
}

impl Word {
    /// First document `>= target` the word matches.
    #[inline]
    fn seek(&mut self, target: DocId) -> DocId {
        let mut min = TERMINATED;
        for (_, l) in &mut self.leaves[..self.matchers] {
            min = min.min(l.seek(target));
        }
        min
    }
}

struct Segment {
    /// The pair terms to walk, if any (the first leads, the others filter); else the first word
    /// leads.
    leads: Vec<Leaf>,
    /// Required words first (the rarest leads), then optional ones.
    words: Vec<Word>,
    required: usize,
    filters: Vec<Box<dyn Scorer>>,
    reader_alive: Option<tantivy::fastfield::AliveBitSet>,
}

impl Prepared {
    /// The leaves of every word on one segment. `None` when a required word (or a filter)
    /// matches nothing there, unless `keep_all`.
    fn open(
        &self,
        ord: usize,
        reader: &SegmentReader,
        filters: &[Box<dyn Weight>],
        keep_all: bool,
    ) -> Result<Option<Segment>, IndexError> {
        let mut words = Vec::with_capacity(self.words.len());
        for w in &self.words {
            let word = self.open_word(w, ord, reader)?;
            if w.required && word.matchers == 0 && !keep_all {
                return Ok(None);
            }
            words.push(word);
        }
        let Some(leads) = self.open_leads(ord, reader, keep_all)? else { return Ok(None) };
        let Some(filters) = open_filters(filters, reader, keep_all)? else { return Ok(None) };
        Ok(Some(Segment {
            leads,
            words,
            required: self.required,
            filters,
            reader_alive: reader.alive_bitset().cloned(),
        }))
    }

    /// A word's leaves on one segment, the matchers first; the leaves the segment does not hold
    /// are left out.
    fn open_word(&self, w: &PreparedWord, ord: usize, reader: &SegmentReader) -> Result<Word, IndexError> {
        let mut leaves = Vec::with_capacity(w.leaves.len());
        let mut matchers = 0;
        let ordered = w.leaves.iter().filter(|l| l.matcher).chain(w.leaves.iter().filter(|l| !l.matcher));
        for leaf in ordered {
            if let Some(l) = self.open_leaf(leaf, ord, reader)? {
                leaves.push((leaf.id, l));
                matchers += usize::from(leaf.matcher);
            }
        }
        Ok(Word { leaves, matchers })
    }

    /// One leaf on one segment: a term's dense list or postings, or the union of a typo's terms;
    /// `None` when the segment does not hold it.
    fn open_leaf(&self, leaf: &PreparedLeaf, ord: usize, reader: &SegmentReader) -> Result<Option<Leaf>, IndexError> {
        match &leaf.kind {
            PreparedKind::Bm25 { per_segment, weight, bonus } => match (&per_segment[ord], self.dense.as_deref()) {
                (None, _) => Ok(None),
                (Some(info), Some(cache)) if is_dense(info, reader.max_doc()) => {
                    let norms = reader.get_fieldnorms_reader(leaf.field)?;
                    let list = cache.get(reader, leaf.field, info, &norms)?;
                    let doc = list.next(0);
                    Ok(Some(Leaf::Dense { list, doc, norms, weight: weight.clone(), bonus: *bonus }))
                }
                (Some(info), _) => self.open_postings(leaf.field, info, weight, *bonus, reader).map(Some),
            },
            PreparedKind::Any { per_segment, score } => {
                let infos = &per_segment[ord];
                if infos.is_empty() {
                    return Ok(None);
                }
                let inverted = reader.inverted_index(leaf.field)?;
                union_leaf(&inverted, infos, *score).map(Some)
            }
        }
    }

    /// A term's postings on one segment, with the margin that makes their block maxima bound the
    /// scores computed with the index-wide average field length.
    fn open_postings(
        &self,
        field: Field,
        info: &TermInfo,
        weight: &Bm25Weight,
        bonus: Score,
        reader: &SegmentReader,
    ) -> Result<Leaf, IndexError> {
        let inverted = reader.inverted_index(field)?;
        let postings = inverted.read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs).map_err(io)?;
        let segment_avg = inverted.total_num_tokens() as f32 / reader.max_doc().max(1) as f32;
        let index_avg = self.averages.get(&field).copied().unwrap_or(segment_avg);
        let ratio = if segment_avg > 0.0 && index_avg > 0.0 {
            (segment_avg / index_avg).max(index_avg / segment_avg)
        } else {
            1.0
        };
        Ok(Leaf::Term {
            cursor: TermCursor::new(postings),
            norms: reader.get_fieldnorms_reader(field)?,
            weight: weight.clone(),
            margin: ratio * (1.0 + ROUNDING_MARGIN),
            bonus,
        })
    }

    /// The pair terms on one segment, each with the enterprises whose pairs are incomplete;
    /// `None` when one of them holds nothing there, unless `keep_all`.
    fn open_leads(&self, ord: usize, reader: &SegmentReader, keep_all: bool) -> Result<Option<Vec<Leaf>>, IndexError> {
        let mut leads = Vec::with_capacity(self.leads.len());
        for per_segment in &self.leads {
            let inverted = reader.inverted_index(self.pairs)?;
            let infos = &per_segment[ord];
            if infos.is_empty() && !keep_all {
                return Ok(None);
            }
            leads.push(union_leaf(&inverted, infos, 0.0)?);
        }
        Ok(Some(leads))
    }
}

/// The union of several terms' postings on one segment, scoring `score` wherever one of them is.
fn union_leaf(inverted: &InvertedIndexReader, infos: &[TermInfo], score: Score) -> Result<Leaf, IndexError> {
    let mut parts = Vec::with_capacity(infos.len());
    for info in infos {
        let postings = inverted.read_block_postings_from_terminfo(info, IndexRecordOption::Basic).map_err(io)?;
        parts.push(TermCursor::new(postings));
    }
    let doc = parts.iter().map(|p| p.doc).min().unwrap_or(TERMINATED);
    Ok(Leaf::Any { parts, doc, score })
}

/// The filters' scorers on one segment; `None` when one of them matches nothing there, unless
/// `keep_all`.
fn open_filters(
    filters: &[Box<dyn Weight>],
    reader: &SegmentReader,
    keep_all: bool,
) -> Result<Option<Vec<Box<dyn Scorer>>>, IndexError> {
    let mut scorers = Vec::with_capacity(filters.len());
    for f in filters {
        let s = f.scorer(reader, 1.0)?;
        if s.doc() == TERMINATED && !keep_all {
            return Ok(None);
        }
        scorers.push(s);
    }
    Ok(Some(scorers))
}

impl Segment {
    /// The first document `>= target` that every required word and every filter matches (alive
    /// or not), or `TERMINATED`.
    #[inline]
    fn align(&mut self, mut target: DocId) -> DocId {
        'candidates: loop {
            let (cand, checked) = match self.leads.first_mut() {
                Some(lead) => (lead.seek(target), 0),
                None => (self.words[0].seek(target), 1),
            };
            if cand == TERMINATED {
                return TERMINATED;
            }
            for l in self.leads.iter_mut().skip(1) {
                let d = l.seek(cand);
                if d != cand {
                    target = d;
                    continue 'candidates;
                }
            }
            for w in &mut self.words[checked..self.required] {
                let d = w.seek(cand);
                if d != cand {
                    target = d;
                    continue 'candidates;
                }
            }
            for f in &mut self.filters {
                let d = if f.doc() < cand { f.seek(cand) } else { f.doc() };
                if d != cand {
                    target = d;
                    continue 'candidates;
                }
            }
            return cand;
        }
    }

    #[inline]
    fn alive(&self, doc: DocId) -> bool {
        self.reader_alive.as_ref().is_none_or(|a| a.is_alive(doc))
    }

    /// Upper bound of the score of every document in `[doc, end]`, and `end`; seeks every leaf
    /// to `doc`. (`f32` addition is monotone: adding each leaf's bound in the order
    /// [`Segment::score`] adds its score gives a sum at least as large.)
    fn bound(&mut self, doc: DocId) -> (Score, DocId) {
        let mut ub = 0.0;
        let mut end = TERMINATED;
        for w in &mut self.words {
            for (_, l) in &mut w.leaves {
                if l.seek(doc) == TERMINATED {
                    continue;
                }
                let (b, last) = l.bound();
                ub += b;
                end = end.min(last);
            }
        }
        (ub, end.max(doc))
    }

    /// Score of `doc`, which every required word matches. Adds the leaves up in the same order
    /// as [`Segment::bound`], so that the bound is never below the score even in `f32`.
    #[inline]
    fn score(&mut self, doc: DocId) -> Score {
        let mut score = 0.0;
        for w in &mut self.words {
            for (_, l) in &mut w.leaves {
                if l.seek(doc) == doc {
                    score += l.score();
                }
            }
        }
        score
    }
}

impl Segment {
    /// The leaves on `doc`, just scored by [`Segment::score`] (which seeks every leaf to it), as
    /// a mask of leaf ids (all below 128).
    fn matched_mask(&self, doc: DocId) -> u128 {
        let mut mask = 0;
        for w in &self.words {
            for (id, l) in &w.leaves {
                if l.current() == doc {
                    mask |= 1u128 << id;
                }
            }
        }
        mask
    }
}

/// Result of [`top_k`].
pub(crate) struct TopK {
    /// At most `limit` hits, best first. `code` is empty: read it from the stored document.
    pub hits: Vec<Collected>,
    /// Matching documents seen (also those before the cursor). Exact unless `pruned`.
    pub count: u64,
    /// Some matching documents were skipped without being counted: `count` is a lower bound.
    pub pruned: bool,
    /// Per hit, the ids of the leaves that match it, as a mask; `None` when a plan has more
    /// than 128 leaves (then [`matched_leaves`] finds them).
    pub matched: Option<Vec<u128>>,
    /// Per hit, the plan (of those [`top_k`] walked together) that found it.
    pub plans: Vec<usize>,
}

/// A hit kept by a segment: its code is only resolved when a tie with another segment needs it.
struct Kept {
    score: Score,
    plan: usize,
    segment: usize,
    ord: u64,
    doc: DocId,
    leaves: u128,
}

impl Kept {
    fn address(&self) -> DocAddress {
        DocAddress::new(self.segment as SegmentOrdinal, self.doc)
    }
}

/// The first code ordinal of a segment that sorts after the cursor's code.
fn first_ord_after(strs: &StrColumn, code: &str) -> Result<u64, IndexError> {
    let mut stream = strs.dictionary().range().gt(code.as_bytes()).into_stream().map_err(io)?;
    Ok(if stream.advance() { stream.term_ord() } else { u64::MAX })
}

fn code_column(reader: &SegmentReader) -> Result<StrColumn, IndexError> {
    Ok(reader.fast_fields().str("code")?.ok_or_else(|| TantivyError::SchemaError("code is not a fast field".into()))?)
}

/// The code columns of the segments, opened once (opening one reads its metadata).
#[derive(Default)]
pub(crate) struct CodeColumns(Mutex<HashMap<SegmentId, StrColumn>>);

impl CodeColumns {
    fn get(&self, reader: &SegmentReader) -> Result<StrColumn, IndexError> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = map.get(&reader.segment_id()) {
            return Ok(c.clone());
        }
        let column = code_column(reader)?;
        map.insert(reader.segment_id(), column.clone());
        Ok(column)
    }

    /// Forget the segments `searcher` no longer has.
    pub fn retain(&self, searcher: &Searcher) {
        let live: Vec<SegmentId> = searcher.segment_readers().iter().map(|r| r.segment_id()).collect();
        self.0.lock().unwrap_or_else(|e| e.into_inner()).retain(|id, _| live.contains(id));
    }
}

/// The best `limit` hits strictly after `after` (score, code), in `(score desc, code asc)` order.
///
/// `code_field` is the stored code: ties between segments are ordered by the codes read from the
/// stored documents (the code column's dictionary is compressed with zstd, whose per-read set-up
/// costs more than reading a stored document).
///
/// `plans` are walked together as one query whose matches are theirs: they must match disjoint
/// sets of documents (the plans of a search's last step each leave out another word that none of
/// their matches hold), so that no document is counted or kept twice.
pub(crate) fn top_k(
    searcher: &Searcher,
    plans: &[&Prepared],
    filters: &[Box<dyn Weight>],
    limit: usize,
    after: Option<&(Score, String)>,
    code_field: Field,
    columns: &CodeColumns,
) -> Result<TopK, IndexError> {
    let mut out = TopK { hits: Vec::new(), count: 0, pruned: false, matched: None, plans: Vec::new() };
    let masks = plans.iter().all(|p| p.leaves.len() <= 128);
    if limit == 0 {
        return Ok(out);
    }
    let mut kept: Vec<Kept> = Vec::new();
    // `global_floor`: the `limit`-th best score kept by the earlier segments (a later document
    // scoring less cannot be on the page).
    let mut page = PageWalk { limit, global_floor: None, prune: true, masks };
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let strs = columns.get(reader)?;
        let mut cursor = CursorKey { key: after, strs: &strs, min_ord_on_tie: None };
        for (pi, prepared) in plans.iter().enumerate() {
            if prepared.matches_nothing() {
                continue;
            }
            let Some(mut seg) = prepared.open(ord, reader, filters, false)? else { continue };
            page.prune = prepared.prune;
            let heap = walk_segment(&mut seg, &page, &mut cursor, &mut out)?;
            kept.extend(heap.into_vec().into_iter().map(|(e, leaves)| Kept {
                score: e.score,
                plan: pi,
                segment: ord,
                ord: e.ord,
                doc: e.doc,
                leaves,
            }));
            if kept.len() >= limit {
                page.global_floor = Some(kth_best_score(&kept, limit));
            }
        }
    }
    let ordered = order_kept(searcher, kept, limit, code_field)?;
    out.plans = ordered.iter().map(|(k, _)| k.plan).collect();
    if masks {
        out.matched = Some(ordered.iter().map(|(k, _)| k.leaves).collect());
    }
    out.hits = ordered.into_iter().map(|(k, code)| Collected { score: k.score, code, address: k.address() }).collect();
    Ok(out)
}

/// How [`walk_segment`] keeps hits: how many, the floor the earlier segments set, whether it
/// skips blocks below the floor and whether it notes each hit's matching leaves.
struct PageWalk {
    limit: usize,
    global_floor: Option<Score>,
    prune: bool,
    masks: bool,
}

/// The cursor's key on one segment: a hit is kept only when it sorts strictly after it.
struct CursorKey<'a> {
    key: Option<&'a (Score, String)>,
    strs: &'a StrColumn,
    /// On a score tie with the cursor, only code ordinals >= this come after it (looked up on the
    /// first tie).
    min_ord_on_tie: Option<u64>,
}

impl CursorKey<'_> {
    /// Whether a hit of `score` whose code has ordinal `ord` sorts after the cursor.
    #[inline]
    fn admits(&mut self, score: Score, ord: u64) -> Result<bool, IndexError> {
        let Some((a, code)) = self.key else { return Ok(true) };
        Ok(match score.total_cmp(a) {
            Ordering::Greater => false,
            Ordering::Equal => {
                let min = match self.min_ord_on_tie {
                    Some(m) => m,
                    None => *self.min_ord_on_tie.insert(first_ord_after(self.strs, code)?),
                };
                ord >= min
            }
            Ordering::Less => true,
        })
    }
}

/// Walks the documents of one segment that match, counting them into `out`, and keeps the best
/// `page.limit` after the cursor, each with the mask of its matching leaves (0 unless
/// `page.masks`). Once the page is full (or the earlier segments set a floor), skips every range
/// of blocks whose bound is below the floor, noting in `out` that it did.
fn walk_segment(
    seg: &mut Segment,
    page: &PageWalk,
    cursor: &mut CursorKey,
    out: &mut TopK,
) -> Result<BinaryHeap<(Entry, u128)>, IndexError> {
    let limit = page.limit;
    let ords = cursor.strs.ords().clone();
    // Entries never tie (one per document), so the mask never decides the order.
    let mut heap: BinaryHeap<(Entry, u128)> = BinaryHeap::with_capacity(limit + 1);
    let mut target: DocId = 0;
    loop {
        let doc = seg.align(target);
        if doc == TERMINATED {
            break;
        }
        target = doc + 1;
        if !seg.alive(doc) {
            continue;
        }
        out.count += 1;
        let local = if heap.len() >= limit { heap.peek().map(|(e, _)| e.score) } else { None };
        let floor = match (local, page.global_floor) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some(floor) = floor.filter(|_| page.prune) {
            // Skip the rest of the blocks under `doc` if nothing there can reach the floor.
            let (ub, end) = seg.bound(doc);
            if ub < floor {
                if end > doc {
                    out.pruned = true;
                    if end == TERMINATED {
                        break;
                    }
                    target = end + 1;
                }
                continue;
            }
        }
        let score = seg.score(doc);
        if floor.is_some_and(|f| score < f) {
            continue;
        }
        let ord = ords.first(doc).unwrap_or(u64::MAX);
        if !cursor.admits(score, ord)? {
            continue;
        }
        let entry = Entry { score, ord, doc };
        if heap.len() >= limit {
            if heap.peek().is_some_and(|(worst, _)| entry >= *worst) {
                continue;
            }
            heap.pop();
        }
        heap.push((entry, if page.masks { seg.matched_mask(doc) } else { 0 }));
    }
    Ok(heap)
}

/// The `limit`-th best score of `kept`, which holds at least `limit` hits.
fn kth_best_score(kept: &[Kept], limit: usize) -> Score {
    let mut scores: Vec<Score> = kept.iter().map(|k| k.score).collect();
    scores.sort_unstable_by(|a, b| b.total_cmp(a));
    scores[limit - 1]
}

/// The best `limit` of the segments' kept hits in `(score desc, code asc)` order, each with its
/// code when ordering a tie between segments read it (else an empty string).
fn order_kept(
    searcher: &Searcher,
    mut kept: Vec<Kept>,
    limit: usize,
    code_field: Field,
) -> Result<Vec<(Kept, String)>, IndexError> {
    // Within a segment the code ordinal orders codes; a tie between segments needs the codes
    // themselves.
    kept.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.segment.cmp(&b.segment)).then(a.ord.cmp(&b.ord)));
    let mut ordered: Vec<(Kept, String)> = Vec::with_capacity(kept.len());
    let mut group: Vec<Kept> = Vec::new();
    let mut rest = kept.into_iter().peekable();
    while let Some(first) = rest.next() {
        if ordered.len() >= limit {
            break;
        }
        group.clear();
        group.push(first);
        while let Some(next) = rest.next_if(|k| k.score.total_cmp(&group[0].score) == Ordering::Equal) {
            group.push(next);
        }
        if group.iter().all(|k| k.segment == group[0].segment) {
            ordered.extend(group.drain(..).map(|k| (k, String::new())));
        } else {
            ordered.extend(by_stored_code(searcher, &mut group, code_field)?);
        }
    }
    ordered.truncate(limit);
    Ok(ordered)
}

/// The hits of `group` (one score, several segments), taken out of it and ordered by the codes read
/// from their stored documents.
fn by_stored_code(
    searcher: &Searcher,
    group: &mut Vec<Kept>,
    code_field: Field,
) -> Result<Vec<(Kept, String)>, IndexError> {
    let mut named = Vec::with_capacity(group.len());
    for k in group.drain(..) {
        let doc: TantivyDocument = searcher.doc(k.address())?;
        let code = doc.get_first(code_field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        named.push((k, code));
    }
    named.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(named)
}

/// Number of matching documents, counting up to `cap`.
pub(crate) fn count(
    searcher: &Searcher,
    plans: &[&Prepared],
    filters: &[Box<dyn Weight>],
    cap: u64,
) -> Result<u64, IndexError> {
    let mut n = 0;
    for prepared in plans {
        if !prepared.matches_nothing() {
            n += count_one(searcher, prepared, filters, cap - n)?;
            if n >= cap {
                break;
            }
        }
    }
    Ok(n)
}

/// Number of documents one plan matches, counting up to `cap`.
fn count_one(
    searcher: &Searcher,
    prepared: &Prepared,
    filters: &[Box<dyn Weight>],
    cap: u64,
) -> Result<u64, IndexError> {
    let mut n = 0;
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let Some(mut seg) = prepared.open(ord, reader, filters, false)? else { continue };
        let mut target = 0;
        loop {
            let doc = seg.align(target);
            if doc == TERMINATED {
                break;
            }
            if seg.alive(doc) {
                n += 1;
                if n >= cap {
                    return Ok(n);
                }
            }
            target = doc + 1;
        }
    }
    Ok(n)
}

/// The leaf ids of a mask of [`TopK::matched`], in order.
pub(crate) fn mask_ids(mut mask: u128) -> Vec<usize> {
    let mut ids = Vec::with_capacity(mask.count_ones() as usize);
    while mask != 0 {
        ids.push(mask.trailing_zeros() as usize);
        mask &= mask - 1;
    }
    ids
}

/// For each hit, the ids of the leaves (of its plan, `hit_plans[i]` among `plans`) that match it,
/// by seeking every leaf again: for plans too large for [`TopK::matched`].
pub(crate) fn matched_leaves(
    searcher: &Searcher,
    plans: &[&Prepared],
    hits: &[Collected],
    hit_plans: &[usize],
) -> Result<Vec<Vec<usize>>, IndexError> {
    let mut by_segment: BTreeMap<(u32, usize), Vec<(DocId, usize)>> = BTreeMap::new();
    for (i, (h, plan)) in hits.iter().zip(hit_plans).enumerate() {
        by_segment.entry((h.address.segment_ord, *plan)).or_default().push((h.address.doc_id, i));
    }
    let mut out = vec![Vec::new(); hits.len()];
    for ((ord, plan), mut docs) in by_segment {
        docs.sort_unstable();
        let reader = searcher.segment_reader(ord);
        let Some(mut seg) = plans[plan].open(ord as usize, reader, &[], true)? else { continue };
        for (doc, i) in docs {
            for w in &mut seg.words {
                for (id, l) in &mut w.leaves {
                    if l.seek(doc) == doc {
                        out[i].push(*id);
                    }
                }
            }
        }
    }
    for ids in &mut out {
        ids.sort_unstable();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(docs: &[(DocId, u32)], max_doc: u32) -> DenseList {
        let mut l =
            DenseList { bits: vec![0; (max_doc as usize).div_ceil(64)], repeats: Vec::new(), max_tf: 0, min_norm: 0 };
        for &(d, tf) in docs {
            l.bits[d as usize / 64] |= 1 << (d % 64);
            if tf > 1 {
                l.repeats.push((d, tf));
            }
        }
        l
    }

    #[test]
    fn a_dense_list_finds_the_next_document_across_words_and_to_the_end() {
        let l = list(&[(0, 1), (63, 2), (64, 1), (200, 7), (299, 1)], 300);
        assert_eq!(l.next(0), 0);
        assert_eq!(l.next(1), 63);
        assert_eq!(l.next(64), 64);
        assert_eq!(l.next(65), 200);
        assert_eq!(l.next(201), 299);
        assert_eq!(l.next(300), TERMINATED);
        assert_eq!(l.next(TERMINATED), TERMINATED);
        assert_eq!([l.tf(0), l.tf(63), l.tf(64), l.tf(200)], [1, 2, 1, 7]);
        let empty = list(&[], 130);
        assert_eq!(empty.next(0), TERMINATED);
    }

    #[test]
    fn only_frequent_terms_of_large_segments_are_dense() {
        let info = |df| TermInfo { doc_freq: df, postings_range: 0..0, positions_range: 0..0 };
        let gap = DENSE_MAX_GAP as u32;
        let n = DENSE_MIN_SEGMENT_DOCS.next_multiple_of(gap);
        assert!(is_dense(&info(n / gap), n));
        assert!(!is_dense(&info(n / gap - 1), n));
        assert!(!is_dense(&info(DENSE_MIN_SEGMENT_DOCS), DENSE_MIN_SEGMENT_DOCS - 1));
    }
}
