//! Top-k collector ordered by `(score desc, code asc)`, starting strictly after a cursor key, and
//! counting every match.
//!
//! Within a segment codes are compared by their fast-field dictionary ordinal (the dictionary is
//! sorted, so ordinal order is code order); only the per-segment top-k is resolved to strings and
//! merged across segments.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader, TantivyError};

pub(crate) struct KeysetCollector {
    /// How many hits to keep (page size + 1, to know whether there is a next page).
    pub limit: usize,
    /// Sort key of the last hit already returned.
    pub after: Option<(Score, String)>,
    pub scoring: bool,
}

/// One collected hit.
#[derive(Debug, Clone)]
pub(crate) struct Collected {
    pub score: Score,
    pub code: String,
    pub address: DocAddress,
}

pub(crate) struct KeysetFruit {
    pub hits: Vec<Collected>,
    pub total: u64,
}

/// A kept hit of a top-k heap (this collector's and `topk`'s).
#[derive(Debug)]
pub(crate) struct Entry {
    pub score: Score,
    pub ord: u64,
    pub doc: DocId,
}

// Greater = worse, so that a max-heap keeps the worst kept hit on top.
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.score.total_cmp(&self.score).then(self.ord.cmp(&other.ord)).then(self.doc.cmp(&other.doc))
    }
}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}

pub(crate) struct KeysetSegmentCollector {
    segment: SegmentOrdinal,
    codes: StrColumn,
    ords: Column<u64>,
    after_score: Option<Score>,
    /// On a score tie with the cursor, only ordinals >= this come after the cursor.
    min_ord_on_tie: u64,
    limit: usize,
    heap: BinaryHeap<Entry>,
    count: u64,
}

fn tantivy_io(e: std::io::Error) -> TantivyError {
    TantivyError::from(e)
}

impl Collector for KeysetCollector {
    type Fruit = KeysetFruit;
    type Child = KeysetSegmentCollector;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<Self::Child> {
        let codes = reader
            .fast_fields()
            .str("code")?
            .ok_or_else(|| TantivyError::SchemaError("code is not a fast field".into()))?;
        let ords = codes.ords().clone();
        let min_ord_on_tie = match &self.after {
            None => 0,
            Some((_, code)) => {
                let mut stream = codes.dictionary().range().gt(code.as_bytes()).into_stream().map_err(tantivy_io)?;
                if stream.advance() {
                    stream.term_ord()
                } else {
                    u64::MAX
                }
            }
        };
        Ok(KeysetSegmentCollector {
            segment,
            codes,
            ords,
            after_score: self.after.as_ref().map(|(s, _)| *s),
            min_ord_on_tie,
            limit: self.limit,
            heap: BinaryHeap::with_capacity(self.limit + 1),
            count: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scoring
    }

    fn merge_fruits(&self, fruits: Vec<KeysetFruit>) -> tantivy::Result<KeysetFruit> {
        let mut total = 0;
        let mut hits = Vec::new();
        for f in fruits {
            total += f.total;
            hits.extend(f.hits);
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.code.cmp(&b.code)));
        hits.truncate(self.limit);
        Ok(KeysetFruit { hits, total })
    }
}

impl SegmentCollector for KeysetSegmentCollector {
    type Fruit = KeysetFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.count += 1;
        let full = self.heap.len() >= self.limit;
        if full {
            if let Some(worst) = self.heap.peek() {
                if score < worst.score {
                    return;
                }
            }
        }
        let ord = self.ords.first(doc).unwrap_or(u64::MAX);
        if let Some(after) = self.after_score {
            match score.total_cmp(&after) {
                Ordering::Greater => return,
                Ordering::Equal if ord < self.min_ord_on_tie => return,
                _ => {}
            }
        }
        let entry = Entry { score, ord, doc };
        if full {
            if let Some(worst) = self.heap.peek() {
                if entry >= *worst {
                    return;
                }
            }
            self.heap.pop();
        }
        self.heap.push(entry);
    }

    fn harvest(self) -> KeysetFruit {
        let mut hits = Vec::with_capacity(self.heap.len());
        let mut buf = String::new();
        for e in self.heap.into_sorted_vec() {
            buf.clear();
            let code = match self.codes.ord_to_str(e.ord, &mut buf) {
                Ok(true) => buf.clone(),
                _ => String::new(),
            };
            hits.push(Collected { score: e.score, code, address: DocAddress::new(self.segment, e.doc) });
        }
        KeysetFruit { hits, total: self.count }
    }
}
