//! The shortcuts of a name search (pair terms, block-max pruning) change nothing: every page
//! equals the page found by walking every word and scoring every match.

#[path = "../tests/common/mod.rs"]
mod common;

use crate::{analyzer, EnterpriseDoc, SearchIndex, SearchPage, SearchRequest};

const PLACES: &[&str] = &[
    "Hà Nội",
    "Huế",
    "Đà Nẵng",
    "Cần Thơ",
    "Hải Phòng",
    "Vinh",
    "Nha Trang",
    "Quy Nhơn",
    "Buôn Ma Thuột",
    "Đà Lạt",
    "Vũng Tàu",
    "Long Xuyên",
];

/// 4,000 enterprises over several segments, with codes in another order than the documents
/// (ties are broken by code), deletions, renames, and enterprises with too many words for their
/// pairs to be indexed.
fn corpus() -> (SearchIndex, Vec<EnterpriseDoc>) {
    let mut docs = common::generate(4000, 23);
    let n = docs.len();
    for (i, d) in docs.iter_mut().enumerate() {
        d.code = common::code_for((i * 1237) % n);
    }
    for d in docs.iter_mut().step_by(97) {
        d.unit_names = PLACES.iter().map(|p| format!("Chi nhánh {} tại {p}", d.name)).collect();
    }
    let idx = SearchIndex::in_memory().unwrap();
    common::index_docs(&idx, &docs, 700);
    for d in docs.iter().step_by(11) {
        idx.delete(&d.code).unwrap();
    }
    for d in docs.iter().skip(5).step_by(17) {
        let mut renamed = d.clone();
        renamed.name = format!("{} Mới", d.name);
        renamed.proper_name = format!("{} Mới", d.proper_name);
        renamed.former_names = vec![d.name.clone()];
        idx.upsert(&renamed).unwrap();
    }
    idx.commit(10_000).unwrap();
    assert!(idx.num_segments() > 2, "several segments");
    (idx, docs)
}

fn queries(docs: &[EnterpriseDoc]) -> Vec<String> {
    let mut out: Vec<String> = [
        "thuong mai",
        "cong ty tnhh",
        "minh",
        "phat dat",
        "Thương mại Minh",
        "cty tnhh thuong mai dich vu",
        "chi nhanh ha noi",
        "moi",
        "nguyne phat",
        "zzzzzz",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (i, d) in docs.iter().step_by(61).enumerate() {
        let words = analyzer::folded_words(&d.proper_name);
        out.push(match i % 6 {
            0 => words.join(" "),
            1 => d.name.clone(),
            2 => words.iter().rev().cloned().collect::<Vec<_>>().join(" "),
            3 => words.iter().skip(1).take(2).cloned().collect::<Vec<_>>().join(" "),
            4 => {
                // One substitution in the longest word.
                let mut w = words.clone();
                if let Some(long) = w.iter_mut().max_by_key(|w| w.len()) {
                    let mut c: Vec<char> = long.chars().collect();
                    let mid = c.len() / 2;
                    c[mid] = if c[mid] == 'x' { 'z' } else { 'x' };
                    *long = c.into_iter().collect();
                }
                w.join(" ")
            }
            _ => words.last().cloned().unwrap_or_default(),
        });
    }
    out
}

fn key(page: &SearchPage) -> Vec<(String, u32, Vec<String>)> {
    page.hits.iter().map(|h| (h.code.clone(), h.score.to_bits(), h.matched_terms.clone())).collect()
}

#[test]
fn shortcuts_change_no_page() {
    let (idx, docs) = corpus();
    let mut pages = 0;
    for q in queries(&docs) {
        for (limit, province) in [(1, None), (4, None), (10, None), (37, None), (10, Some("79"))] {
            let mut req =
                SearchRequest { q: q.clone(), limit, province: province.map(str::to_string), ..Default::default() };
            for _ in 0..6 {
                let fast = idx.search_impl(&req, false).unwrap();
                let slow = idx.search_impl(&req, true).unwrap();
                assert_eq!(key(&fast), key(&slow), "{q:?}, limit {limit}, cursor {:?}", req.cursor);
                assert_eq!((fast.total, fast.total_relation), (slow.total, slow.total_relation), "{q:?}");
                assert_eq!(fast.next_cursor, slow.next_cursor, "{q:?}");
                for w in fast.hits.windows(2) {
                    assert!(w[0].score > w[1].score || (w[0].score == w[1].score && w[0].code < w[1].code));
                }
                pages += 1;
                match fast.next_cursor {
                    Some(c) => req.cursor = Some(c),
                    None => break,
                }
            }
        }
    }
    assert!(pages > 500, "{pages} pages compared");
    let (lists, bytes) = idx.dense_lists.held();
    assert!(lists > 0 && bytes > 0, "the common words were read as dense lists");
}

#[test]
fn deleted_and_renamed_enterprises() {
    let (idx, docs) = corpus();
    let gone = &docs[0];
    let q = analyzer::folded_words(&gone.proper_name).join(" ");
    let page = idx.search(&SearchRequest { q, limit: 100, ..Default::default() }).unwrap();
    assert!(page.hits.iter().all(|h| h.code != gone.code), "a deleted enterprise is not found");
    let renamed = &docs[5];
    let page = idx.search(&SearchRequest { q: format!("{} moi", renamed.proper_name), ..Default::default() }).unwrap();
    assert_eq!(page.hits[0].code, renamed.code);
}

/// Warming builds ahead every dense list the suggestions read, and changes none of their answers.
#[test]
fn warming_builds_every_list_suggestions_read_and_changes_no_answer() {
    let prefixes = ["thuong mai dich v", "dich vu thuong mai ", "xay dung t", "cong ", "van tai ph", "t", "co phan "];
    let (mut idx, _) = corpus();
    let cold: Vec<_> = prefixes.iter().map(|p| idx.suggest(p, 10).unwrap()).collect();
    let (built_on_use, _) = idx.dense_lists.held();
    assert!(built_on_use > 0, "the suggestions read frequent words as dense lists");
    // The same index, its lists forgotten, then warmed.
    idx.dense_lists = Default::default();
    let built = idx.warm().unwrap();
    assert!(built >= built_on_use, "{built} lists warmed, {built_on_use} read");
    assert_eq!(idx.dense_lists.held().0, built);
    for (prefix, cold) in prefixes.iter().zip(cold) {
        assert_eq!(idx.suggest(prefix, 10).unwrap(), cold, "{prefix:?}");
    }
    // The suggestions found every list they read already built.
    assert_eq!(idx.dense_lists.held().0, built);
}

/// A suggestion's conjunction, walked over dense lists and postings, ranks exactly as tantivy's
/// boolean query of the same terms does, within the same scan budget.
#[test]
fn suggestions_rank_as_the_boolean_query() {
    use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
    use tantivy::schema::IndexRecordOption;

    let (idx, docs) = corpus();
    let searcher = idx.reader.searcher();
    let mut prefixes: Vec<String> =
        ["thuong mai dich v", "dich vu thuong mai ", "xay dung t", "van tai ph", "zzz qu", "thuong mai zzz"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    for d in docs.iter().step_by(37) {
        let words = analyzer::folded_words(&d.proper_name);
        let cut: String = words.last().map(|w| w.chars().take(2).collect()).unwrap_or_default();
        prefixes.push(format!("{} {cut}", words[..words.len() - 1].join(" ")));
    }
    let mut compared = 0;
    for prefix in &prefixes {
        let words = analyzer::folded_words(prefix);
        let complete = prefix.ends_with(' ');
        let terms = crate::suggest::word_terms(&idx.fields, &words, complete);
        if terms.len() < 2 {
            continue;
        }
        let query = BooleanQuery::new(
            terms
                .iter()
                .map(|t| (Occur::Must, Box::new(TermQuery::new(t.clone(), IndexRecordOption::Basic)) as Box<dyn Query>))
                .collect(),
        );
        for (limit, budget) in [(1, 10_000), (10, 10_000), (10, 7), (3, 60)] {
            let fast = crate::topk::conjunction_top_k(&searcher, &terms, limit, budget, &idx.dense_lists).unwrap();
            let slow = crate::top_k_bounded(&searcher, &query, limit, budget).unwrap();
            let bits = |v: &[(f32, tantivy::DocAddress)]| v.iter().map(|(s, a)| (s.to_bits(), *a)).collect::<Vec<_>>();
            assert_eq!(bits(&fast), bits(&slow), "{prefix:?}, limit {limit}, budget {budget}");
            compared += usize::from(!fast.is_empty());
        }
    }
    assert!(compared > 100, "{compared} non-empty rankings compared");
    let (lists, _) = idx.dense_lists.held();
    assert!(lists > 0, "the frequent words were read as dense lists");
}

/// The documents alive after [`corpus`]'s deletions and renames, by code.
fn final_docs(docs: &[EnterpriseDoc]) -> std::collections::HashMap<String, EnterpriseDoc> {
    let mut out: std::collections::HashMap<String, EnterpriseDoc> =
        docs.iter().map(|d| (d.code.clone(), d.clone())).collect();
    for d in docs.iter().step_by(11) {
        out.remove(&d.code);
    }
    for d in docs.iter().skip(5).step_by(17) {
        let mut renamed = d.clone();
        renamed.name = format!("{} Mới", d.name);
        renamed.proper_name = format!("{} Mới", d.proper_name);
        renamed.former_names = vec![d.name.clone()];
        out.insert(d.code.clone(), renamed);
    }
    out
}

/// Per segment, per document: whether it is alive and the whole folded names, proper name and
/// former names it holds, from its stored fields (deleted documents too: the term dictionary
/// holds their terms).
type WholeNames = Vec<Vec<(bool, Vec<String>)>>;

fn whole_names(idx: &SearchIndex, alive_docs: &std::collections::HashMap<String, EnterpriseDoc>) -> WholeNames {
    let f = &idx.fields;
    let searcher = idx.reader.searcher();
    let mut out = Vec::new();
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let mut segment = Vec::new();
        for doc in 0..reader.max_doc() {
            let stored: tantivy::TantivyDocument = searcher.doc(tantivy::DocAddress::new(ord as u32, doc)).unwrap();
            let (code, name, proper) = (
                crate::stored_str(&stored, f.code),
                crate::stored_str(&stored, f.name),
                crate::stored_str(&stored, f.proper_name),
            );
            let former =
                alive_docs.get(&code).filter(|d| d.name == name).map(|d| d.former_names.clone()).unwrap_or_default();
            let wholes = [name, proper]
                .iter()
                .chain(&former)
                .map(|t| analyzer::whole_term(&analyzer::folded_words(t)))
                .collect();
            segment.push((reader.alive_bitset().is_none_or(|a| a.is_alive(doc)), wholes));
        }
        out.push(segment);
    }
    out
}

/// The suggestions of `plan` the slow way: tier 1 from every document's whole names (deleted
/// ones counted towards `max_terms`), tiers 2 and 3 by tantivy's boolean query of `Must` term
/// queries within the same scan budget.
fn reference_suggest(
    idx: &SearchIndex,
    names: &WholeNames,
    plan: &crate::suggest::SuggestPlan,
    limit: usize,
    max_terms: usize,
) -> Vec<tantivy::DocAddress> {
    use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
    use tantivy::schema::IndexRecordOption;
    use tantivy::DocAddress;

    let f = &idx.fields;
    let searcher = idx.reader.searcher();
    let mut out: Vec<DocAddress> = Vec::new();
    if plan.continuation.contains(' ') {
        let text = plan.continuation.as_str();
        let mut terms = 0;
        let mut keyed: Vec<((usize, &String), DocAddress)> = Vec::new();
        for (ord, segment) in names.iter().enumerate() {
            let mut segment_terms = std::collections::BTreeSet::new();
            for (doc, (alive, wholes)) in segment.iter().enumerate() {
                let continuing = wholes.iter().filter(|w| w.starts_with(text));
                segment_terms.extend(continuing.clone());
                if let Some(best) = continuing.map(|w| (w.len(), w)).min().filter(|_| *alive) {
                    keyed.push((best, DocAddress::new(ord as u32, doc as u32)));
                }
            }
            terms += segment_terms.len();
        }
        if terms <= max_terms {
            keyed.sort();
            out.extend(keyed.into_iter().map(|(_, a)| a).take(limit));
        }
    }
    for terms in [&plan.ordered, &plan.loose] {
        if out.len() >= limit || terms.is_empty() {
            continue;
        }
        // One term is tantivy's own top-k (block-max WAND) in both.
        let found = if let [term] = terms.as_slice() {
            let top = tantivy::collector::TopDocs::with_limit(limit).order_by_score();
            searcher.search(&crate::suggest::single_term_query(f, term), &top).unwrap()
        } else {
            let query = BooleanQuery::new(
                terms
                    .iter()
                    .map(|t| {
                        (Occur::Must, Box::new(TermQuery::new(t.clone(), IndexRecordOption::Basic)) as Box<dyn Query>)
                    })
                    .collect(),
            );
            crate::top_k_bounded(&searcher, &query, limit, crate::SUGGEST_SCAN_BUDGET).unwrap()
        };
        for (_, a) in found {
            if out.len() < limit && !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

/// The tiers of a suggestion (names continuing the typed text from the term dictionary, the
/// typed words in order, in any order) give what the slow reference gives, whatever the cap on
/// continuing names.
#[test]
fn suggestions_rank_as_the_reference() {
    let (idx, docs) = corpus();
    let names = whole_names(&idx, &final_docs(&docs));
    let searcher = idx.reader.searcher();
    let mut prefixes: Vec<String> = [
        "cong ty tnhh t",
        "cong ty tnhh ",
        "cong ty ph",
        "doanh nghiep tu nhan thuong mai",
        "thuong mai dich v",
        "Công ty Cổ phần Xây dựng ",
        "thuong mai zzz",
        "t",
        "cong ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (i, d) in docs.iter().step_by(29).enumerate() {
        let cut = |s: &str, n: usize| -> String { s.chars().take(s.chars().count().saturating_sub(n)).collect() };
        prefixes.push(match i % 5 {
            0 => cut(&d.name, 2),
            1 => analyzer::fold(&cut(&d.name, 1)),
            2 => cut(&d.proper_name, 2),
            3 => {
                let mut w = analyzer::folded_words(&d.name);
                w.reverse();
                cut(&w.join(" "), 1)
            }
            _ => format!("{} ", d.name),
        });
    }
    let mut compared = 0;
    for prefix in &prefixes {
        let Some(plan) = crate::suggest::plan(&searcher, &idx.fields, prefix).unwrap() else { continue };
        for (limit, max_terms) in [(10, crate::suggest::CONTINUATION_MAX_TERMS), (3, 4), (10, 1)] {
            let fast = crate::suggest::ranked(&idx, &searcher, &plan, limit, max_terms).unwrap();
            let slow = reference_suggest(&idx, &names, &plan, limit, max_terms);
            assert_eq!(fast, slow, "{prefix:?}, limit {limit}, at most {max_terms} continuing names");
            compared += usize::from(!fast.is_empty());
        }
    }
    assert!(compared > 300, "{compared} non-empty rankings compared");
}
