//! As-you-type suggestions ([`crate::SearchIndex::suggest`]).
//!
//! The typed text is folded into words; the last one is being typed (unless the text ends in a
//! space or punctuation), the earlier ones are complete. A complete word found in no name is
//! first replaced by its correction ([`correct_words`]): its Telex/VNI decoding, else the most
//! frequent name word at one edit (two for a word of [`TWO_TYPOS_MIN_CHARS`]+ letters), as a
//! name search reads its words.
//!
//! Suggestions then come in three tiers, each filling what the one before left of the `limit`
//! (an enterprise appears once, in its best tier):
//!
//! 1. **Names that continue the typed text**: the whole folded name, or the whole folded proper
//!    name, starts with it (a prefix of a `name_whole` term; legal-form words included, so
//!    `cong ty tnhh mtv nha hang tan ph` ranks `Công ty TNHH MTV Nhà hàng Tân Phúc` over `Doanh
//!    nghiệp tư nhân Nhà hàng Tân Bảo Phúc`). Shortest continuation first, then in alphabetical
//!    order. Read from the term dictionary alone, and only when at most
//!    [`CONTINUATION_MAX_TERMS`] names continue the text: a short text continued by many names
//!    goes to the next tiers, which rank them by BM25 within a scan budget.
//! 2. **The typed words in their order**: the conjunction of tier 3 plus every ordered bigram of
//!    two complete typed words (`name_bigrams`, legal-form words included: `cong ty`, `ty tnhh`).
//! 3. **The typed words in any order** (the suggestions before issue 21): the complete words
//!    other than leading legal-form words exactly in the folded name, the last word as a prefix of
//!    a word of the proper name (`proper_edge`), ranked by BM25 (shortest names first). Leading
//!    legal-form words are not required: `cong ty ph` finds proper names starting `ph` of every
//!    legal form (tiers 1 and 2 put the companies first).
//!
//! Tiers 2 and 3 are one term (block-max WAND top-k) or a conjunction
//! ([`topk::conjunction_top_k`]) over the first [`SUGGEST_SCAN_BUDGET`] matches in index order.

use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocSet, Score, Searcher, TantivyDocument, Term, TERMINATED};

use crate::schema::Fields;
use crate::{analyzer, is_mark, stored_str, topk, typing, IndexError, SearchIndex, Suggestion};
use crate::{FUZZY_MIN_CHARS, MAX_SUGGESTIONS, SUGGEST_SCAN_BUDGET, TWO_TYPOS_MIN_CHARS};

/// Most names tier 1 reads (term dictionary entries continuing the typed text, all segments
/// together); past it, the text is too short to tell and tiers 2 and 3 rank.
pub(crate) const CONTINUATION_MAX_TERMS: usize = 2048;
/// Most name words a typo correction weighs (in the order a name search tries them).
const TYPO_MAX_CANDIDATES: usize = 64;

/// What a typed text asks of the index, once folded and corrected.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SuggestPlan {
    /// Tier 1: the text a continuing name's `name_whole` term starts with (the words joined by
    /// one space, and a trailing space when the last word is complete).
    pub continuation: String,
    /// Tier 2: [`SuggestPlan::loose`] plus the ordered bigrams of the complete words; empty when
    /// there are fewer than two complete words.
    pub ordered: Vec<Term>,
    /// Tier 3: the complete words other than leading legal-form words on `name_folded`, the last
    /// word (unless complete) on `proper_edge`.
    pub loose: Vec<Term>,
}

/// The suggestions for `prefix`, at most `limit` (≤ [`MAX_SUGGESTIONS`]): see the module doc.
pub(crate) fn suggest(index: &SearchIndex, prefix: &str, limit: usize) -> Result<Vec<Suggestion>, IndexError> {
    let limit = limit.min(MAX_SUGGESTIONS);
    let searcher = index.reader.searcher();
    let Some(plan) = plan(&searcher, &index.fields, prefix)? else { return Ok(Vec::new()) };
    if limit == 0 {
        return Ok(Vec::new());
    }
    let top = ranked(index, &searcher, &plan, limit, CONTINUATION_MAX_TERMS)?;
    let f = &index.fields;
    let mut out = Vec::with_capacity(top.len());
    for addr in top {
        let doc: TantivyDocument = searcher.doc(addr)?;
        out.push(Suggestion { code: stored_str(&doc, f.code), name: stored_str(&doc, f.name) });
    }
    Ok(out)
}

/// The addresses of the suggestions of `plan`, best first: tier 1 (when at most `max_terms`
/// names continue the text), then tier 2, then tier 3, each enterprise once.
pub(crate) fn ranked(
    index: &SearchIndex,
    searcher: &Searcher,
    plan: &SuggestPlan,
    limit: usize,
    max_terms: usize,
) -> Result<Vec<DocAddress>, IndexError> {
    let mut out: Vec<DocAddress> = Vec::with_capacity(limit);
    let add = |found: Vec<DocAddress>, out: &mut Vec<DocAddress>| {
        for a in found {
            if out.len() < limit && !out.contains(&a) {
                out.push(a);
            }
        }
    };
    if plan.continuation.contains(' ') {
        if let Some(found) = continuations(searcher, index.fields.name_whole, &plan.continuation, limit, max_terms)? {
            add(found, &mut out);
        }
    }
    for terms in [&plan.ordered, &plan.loose] {
        if out.len() >= limit || terms.is_empty() {
            continue;
        }
        let found = conjunction(index, searcher, terms, limit)?;
        add(found.into_iter().map(|(_, a)| a).collect(), &mut out);
    }
    Ok(out)
}

/// The best `limit` documents holding every one of `terms`: one term by block-max WAND (exact),
/// several by [`topk::conjunction_top_k`] within [`SUGGEST_SCAN_BUDGET`].
fn conjunction(
    index: &SearchIndex,
    searcher: &Searcher,
    terms: &[Term],
    limit: usize,
) -> Result<Vec<(Score, DocAddress)>, IndexError> {
    Ok(match terms {
        // One term: block-max WAND top-k, cheap even on a posting list of millions. It prunes
        // with each block's best term frequency and length, which a posting list read without
        // frequencies does not give: a complete word is read with them (a name holding it
        // twice ranks a little higher), an unfinished word's edge key has none to read.
        [term] => {
            searcher.search(&single_term_query(&index.fields, term), &TopDocs::with_limit(limit).order_by_score())?
        }
        _ => topk::conjunction_top_k(searcher, terms, limit, SUGGEST_SCAN_BUDGET, &index.dense_lists)?,
    })
}

/// The query of a one-term tier: a `name_folded` term read with its frequencies, others without.
pub(crate) fn single_term_query(f: &Fields, term: &Term) -> TermQuery {
    let option = if term.field() == f.name_folded { IndexRecordOption::WithFreqs } else { IndexRecordOption::Basic };
    TermQuery::new(term.clone(), option)
}

/// The plan of a typed text; `None` when it has no word.
pub(crate) fn plan(searcher: &Searcher, f: &Fields, prefix: &str) -> Result<Option<SuggestPlan>, IndexError> {
    let typed = analyzer::folded_words(prefix);
    if typed.is_empty() {
        return Ok(None);
    }
    let complete = prefix.chars().last().is_some_and(|c| !c.is_alphanumeric() && !is_mark(c));
    let words = correct_words(searcher, f, &typed, complete)?;
    let mut continuation = analyzer::whole_term(&words);
    if complete {
        continuation.push(' ');
    }
    let mask = analyzer::legal_form_mask(&words);
    let skip = mask.iter().take_while(|m| **m).count();
    let required = if skip < words.len() { &words[skip..] } else { &words[..] };
    let loose = word_terms(f, required, complete);
    let done = if complete { &words[..] } else { &words[..words.len() - 1] };
    let mut ordered = Vec::new();
    if done.len() >= 2 {
        ordered = loose.clone();
        ordered.extend(
            done.windows(2).map(|w| Term::from_field_text(f.name_bigrams, &analyzer::bigram_term(&w[0], &w[1]))),
        );
    }
    Ok(Some(SuggestPlan { continuation, ordered, loose }))
}

/// The terms a suggestion must match: the earlier words exactly (folded) in the name, the last
/// one (unless `complete`) as a prefix of a word of the proper name.
pub(crate) fn word_terms(f: &Fields, words: &[String], complete: bool) -> Vec<Term> {
    let (earlier, last) = match words.split_last() {
        Some((last, earlier)) if !complete => (earlier, Some(last)),
        _ => (words, None),
    };
    let mut terms: Vec<Term> = earlier.iter().map(|w| Term::from_field_text(f.name_folded, w)).collect();
    if let Some(last) = last {
        terms.push(Term::from_field_text(f.proper_edge, &analyzer::edge_key(last)));
    }
    terms
}

/// Tier 1: the documents whose `field` (`name_whole`) holds a term starting with `text`, the
/// shortest term first, then alphabetical, then index order; `None` when more than `max_terms`
/// terms (all segments together) start with it.
pub(crate) fn continuations(
    searcher: &Searcher,
    field: Field,
    text: &str,
    limit: usize,
    max_terms: usize,
) -> Result<Option<Vec<DocAddress>>, IndexError> {
    let mut found: Vec<(Vec<u8>, usize, tantivy::postings::TermInfo)> = Vec::new();
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let inverted = reader.inverted_index(field)?;
        let mut stream = inverted.terms().range().ge(text.as_bytes()).into_stream().map_err(topk::io)?;
        while stream.advance() {
            if !stream.key().starts_with(text.as_bytes()) {
                break;
            }
            if found.len() == max_terms {
                return Ok(None);
            }
            found.push((stream.key().to_vec(), ord, stream.value().clone()));
        }
    }
    found.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    let mut out: Vec<DocAddress> = Vec::with_capacity(limit);
    for (_, ord, info) in found {
        let reader = &searcher.segment_readers()[ord];
        let alive = reader.alive_bitset();
        let mut postings = reader
            .inverted_index(field)?
            .read_postings_from_terminfo(&info, IndexRecordOption::Basic)
            .map_err(topk::io)?;
        let mut doc = postings.doc();
        while doc != TERMINATED {
            let addr = DocAddress::new(ord as u32, doc);
            if alive.is_none_or(|a| a.is_alive(doc)) && !out.contains(&addr) {
                out.push(addr);
                if out.len() == limit {
                    return Ok(Some(out));
                }
            }
            doc = postings.advance();
        }
    }
    Ok(Some(out))
}

/// The typed words with every complete word found in no name (`name_folded`) replaced by its
/// correction (see [`correction`]); a word without one stays as typed. The last word is complete
/// only when `complete`.
pub(crate) fn correct_words(
    searcher: &Searcher,
    f: &Fields,
    words: &[String],
    complete: bool,
) -> Result<Vec<String>, IndexError> {
    let done = if complete { words.len() } else { words.len() - 1 };
    let mut out = words.to_vec();
    for i in 0..done {
        if topk::doc_freq(searcher, f.name_folded, &out[i])? == 0 {
            let next = words.get(i + 1).filter(|_| i + 1 < done).map(String::as_str);
            let previous = i.checked_sub(1).map(|p| out[p].clone());
            if let Some(c) = correction(searcher, f, &out[i], previous.as_deref(), next)? {
                out[i] = c;
            }
        }
    }
    Ok(out)
}

/// The best replacement of a complete word found in no name, between the complete words
/// `previous` and `next` (when known): its Telex/VNI decodings and, for a word of
/// [`FUZZY_MIN_CHARS`]+ letters, the name words at one edit (two for [`TWO_TYPOS_MIN_CHARS`]+
/// letters; the first [`TYPO_MAX_CANDIDATES`] a name search would try). A decoding found in a
/// name wins; among typo candidates the best is the one that some name holds next to `previous`
/// and `next` (ordered bigrams), then a Vietnamese syllable, then the most frequent. `None` when
/// there is none.
pub(crate) fn correction(
    searcher: &Searcher,
    f: &Fields,
    word: &str,
    previous: Option<&str>,
    next: Option<&str>,
) -> Result<Option<String>, IndexError> {
    let mut decoded = Vec::new();
    for d in typing::decodings(word).iter().map(|d| analyzer::fold(d)).filter(|d| d != word) {
        let df = topk::doc_freq(searcher, f.name_folded, &d)?;
        if df > 0 {
            decoded.push((df, d));
        }
    }
    if let Some((_, d)) = decoded.into_iter().max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1))) {
        return Ok(Some(d));
    }
    let chars = word.chars().count();
    if chars < FUZZY_MIN_CHARS {
        return Ok(None);
    }
    let edits = if chars >= TWO_TYPOS_MIN_CHARS { 2 } else { 1 };
    let mut candidates = topk::typo_terms(searcher, f.name_folded, word, edits)?;
    candidates.sort_by(crate::typo_order);
    candidates.truncate(TYPO_MAX_CANDIDATES);
    let bigram = |a: &str, b: &str| topk::doc_freq(searcher, f.name_bigrams, &analyzer::bigram_term(a, b));
    let mut best: Option<((usize, bool, u64), String)> = None;
    for (t, df) in candidates {
        let before = match previous {
            Some(p) => bigram(p, &t)? > 0,
            None => false,
        };
        let after = match next {
            Some(n) => bigram(&t, n)? > 0,
            None => false,
        };
        let key = (usize::from(before) + usize::from(after), typing::is_syllable(&t), df);
        // Ties go to the term first in term order, as before.
        if best.as_ref().is_none_or(|(k, b)| key > *k || (key == *k && t < *b)) {
            best = Some((key, t));
        }
    }
    Ok(best.map(|(_, t)| t))
}
