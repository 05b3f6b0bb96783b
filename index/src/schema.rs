//! The tantivy schema and the conversion of an [`EnterpriseDoc`] into a tantivy document.

use tantivy::schema::{
    BytesOptions, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED,
    STORED, STRING,
};
use tantivy::TantivyDocument;

use crate::analyzer;
use crate::EnterpriseDoc;

/// Field handles. Names are part of the on-disk format: changing them needs a rebuild.
#[derive(Clone, Debug)]
pub(crate) struct Fields {
    /// Enterprise code, raw: the delete key, sort key (fast) and stored.
    pub code: Field,
    /// Exact codes: the enterprise code and every unit code (with and without the dash).
    pub code_exact: Field,
    /// Every prefix of 4+ characters of the enterprise code and of the unit codes.
    pub code_prefix: Field,
    pub name: Field,
    pub proper_name: Field,
    pub name_lower: Field,
    pub name_folded: Field,
    pub proper_lower: Field,
    pub proper_folded: Field,
    pub proper_edge: Field,
    pub former_folded: Field,
    pub units_folded: Field,
    pub alt_folded: Field,
    pub province: Field,
    pub ward: Field,
    pub status: Field,
    pub enterprise_type: Field,
    /// Exact VSIC codes (fast, multi-valued, stored).
    pub vsic: Field,
    /// VSIC codes and all their prefixes of 2+ characters (filter: `46` matches `4610`).
    pub vsic_prefix: Field,
    /// Registration date as days since 1970-01-01.
    pub registered: Field,
    /// Every pair of distinct pairable words (see [`analyzer::pairable`]) of the folded name,
    /// former names, English name, abbreviation and unit names, as `"a b"` (`a < b`): the
    /// enterprises holding both words, for a search to walk instead of either word's longer list.
    pub word_pairs: Field,
    /// Every two adjacent words, in order, of the folded name, proper name, former names, English
    /// name, abbreviation and unit names, as `"a b"` ([`analyzer::bigram_term`]): the query's
    /// words next to each other and in its order score more, and a query word typed as two
    /// syllables run together (`hoanglong`) matches the name holding them side by side.
    pub name_bigrams: Field,
    /// The whole folded name and the whole folded proper name (and former names), words joined
    /// by one space ([`analyzer::whole_term`]): a query that is exactly a name comes first.
    pub name_whole: Field,
    /// The stored record ([`crate::StoredRecord`]): its version and both views' bytes.
    pub record_version: Field,
    pub record_full: Field,
    pub record_public: Field,
    pub record_authority: Field,
}

fn text(tokenizer: &str, record: IndexRecordOption) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(record).set_fieldnorms(true),
    )
}

/// A field of raw terms without frequencies or lengths.
fn raw_basic() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    )
}

pub(crate) fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let freqs = IndexRecordOption::WithFreqs;
    let fields = Fields {
        code: b.add_text_field("code", STRING | STORED | FAST),
        code_exact: b.add_text_field("code_exact", STRING),
        code_prefix: b.add_text_field("code_prefix", STRING),
        name: b.add_text_field("name", STORED),
        proper_name: b.add_text_field("proper_name", STORED),
        name_lower: b.add_text_field("name_lower", text(analyzer::LOWER, freqs)),
        name_folded: b.add_text_field("name_folded", text(analyzer::FOLDED, freqs)),
        proper_lower: b.add_text_field("proper_lower", text(analyzer::LOWER, freqs)),
        proper_folded: b.add_text_field("proper_folded", text(analyzer::FOLDED, freqs)),
        proper_edge: b.add_text_field("proper_edge", text(analyzer::EDGE, IndexRecordOption::Basic)),
        former_folded: b.add_text_field("former_folded", text(analyzer::FOLDED, freqs)),
        units_folded: b.add_text_field("units_folded", text(analyzer::FOLDED, freqs)),
        alt_folded: b.add_text_field("alt_folded", text(analyzer::FOLDED, freqs)),
        province: b.add_text_field("province", STRING | STORED | FAST),
        ward: b.add_text_field("ward", STRING | STORED | FAST),
        status: b.add_text_field("status", STRING | STORED | FAST),
        enterprise_type: b.add_text_field("enterprise_type", STRING | STORED | FAST),
        vsic: b.add_text_field("vsic", STRING | STORED | FAST),
        vsic_prefix: b.add_text_field("vsic_prefix", STRING),
        registered: b.add_i64_field("registered", NumericOptions::from(INDEXED | FAST | STORED)),
        word_pairs: b.add_text_field(
            "word_pairs",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("raw")
                    .set_index_option(IndexRecordOption::Basic)
                    .set_fieldnorms(false),
            ),
        ),
        name_bigrams: b.add_text_field("name_bigrams", raw_basic()),
        name_whole: b.add_text_field("name_whole", raw_basic()),
        record_version: b.add_u64_field("record_version", STORED),
        record_full: b.add_bytes_field("record_full", BytesOptions::default().set_stored()),
        record_public: b.add_bytes_field("record_public", BytesOptions::default().set_stored()),
        record_authority: b.add_bytes_field("record_authority", BytesOptions::default().set_stored()),
    };
    (b.build(), fields)
}

/// The enterprise code and unit codes indexed for exact look-up.
fn exact_codes(doc: &EnterpriseDoc) -> Vec<String> {
    let mut out = vec![doc.code.clone()];
    for u in &doc.unit_codes {
        out.push(u.clone());
        let compact: String = u.chars().filter(|c| *c != '-').collect();
        if compact != *u {
            out.push(compact);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn prefixes(codes: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for c in codes {
        for end in 4..=c.len() {
            if c.is_char_boundary(end) {
                out.push(c[..end].to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The texts of a document's folded name fields: its name, `extra_name` (a proper name added to
/// the name fields), former names, English name, abbreviation and unit names.
fn name_texts<'a>(doc: &'a EnterpriseDoc, extra_name: Option<&'a str>) -> impl Iterator<Item = &'a str> {
    std::iter::once(doc.name.as_str())
        .chain(extra_name)
        .chain(doc.former_names.iter().map(String::as_str))
        .chain(doc.name_en.iter().map(String::as_str))
        .chain(doc.abbreviation.iter().map(String::as_str))
        .chain(doc.unit_names.iter().map(String::as_str))
}

/// The pair terms of a document (see [`Fields::word_pairs`]), from the texts of its folded name
/// fields.
fn add_word_pairs(f: &Fields, d: &mut TantivyDocument, doc: &EnterpriseDoc, extra_name: Option<&str>) {
    let mut words = std::collections::BTreeSet::new();
    for text in name_texts(doc, extra_name) {
        for (_, term) in analyzer::index_terms(text, true) {
            if analyzer::pairable(&term) {
                words.insert(term);
            }
        }
    }
    if words.len() > analyzer::MAX_PAIRED_WORDS {
        d.add_text(f.word_pairs, analyzer::PAIRS_INCOMPLETE);
        return;
    }
    let words: Vec<String> = words.into_iter().collect();
    for (i, a) in words.iter().enumerate() {
        for b in &words[i + 1..] {
            d.add_text(f.word_pairs, analyzer::pair_term(a, b));
        }
    }
}

/// The ordered bigrams and whole-name terms of a document (see [`Fields::name_bigrams`] and
/// [`Fields::name_whole`]); `extra_name` as for [`add_word_pairs`] (a proper name that is a run of
/// the name's words adds no bigram of its own).
fn add_sequences(f: &Fields, d: &mut TantivyDocument, doc: &EnterpriseDoc, proper: &str, extra_name: Option<&str>) {
    let mut bigrams = std::collections::BTreeSet::new();
    for text in name_texts(doc, extra_name) {
        let words = analyzer::folded_words(text);
        for w in words.windows(2) {
            bigrams.insert(analyzer::bigram_term(&w[0], &w[1]));
        }
    }
    for b in bigrams {
        d.add_text(f.name_bigrams, &b);
    }
    let mut wholes = std::collections::BTreeSet::new();
    for text in std::iter::once(doc.name.as_str())
        .chain(std::iter::once(proper))
        .chain(doc.former_names.iter().map(String::as_str))
    {
        let words = analyzer::folded_words(text);
        if !words.is_empty() {
            wholes.insert(analyzer::whole_term(&words));
        }
    }
    for w in wholes {
        d.add_text(f.name_whole, &w);
    }
}

/// Whether `part` occurs in `whole` as consecutive words (an empty `part` does).
fn is_run_of(part: &[String], whole: &[String]) -> bool {
    part.is_empty() || whole.windows(part.len()).any(|w| w == part)
}

pub(crate) fn days_since_epoch(d: chrono::NaiveDate) -> i64 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    (d - epoch).num_days()
}

pub(crate) fn to_document(f: &Fields, doc: &EnterpriseDoc) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    d.add_text(f.code, &doc.code);
    let exact = exact_codes(doc);
    for p in prefixes(&exact) {
        d.add_text(f.code_prefix, &p);
    }
    for c in &exact {
        d.add_text(f.code_exact, c);
    }
    d.add_text(f.name, &doc.name);
    let proper =
        if doc.proper_name.trim().is_empty() { analyzer::strip_legal_form(&doc.name) } else { doc.proper_name.clone() };
    d.add_text(f.proper_name, &proper);
    d.add_text(f.name_lower, &doc.name);
    d.add_text(f.name_folded, &doc.name);
    // Search relies on every proper-name term being a name term too (the proper-name fields only
    // add to the score). A proper name that is not a run of words of the name is added to it.
    let proper_in_name = is_run_of(&analyzer::words(&proper), &analyzer::words(&doc.name));
    if !proper_in_name {
        d.add_text(f.name_lower, &proper);
        d.add_text(f.name_folded, &proper);
    }
    d.add_text(f.proper_lower, &proper);
    d.add_text(f.proper_folded, &proper);
    d.add_text(f.proper_edge, &proper);
    for n in &doc.former_names {
        d.add_text(f.former_folded, n);
    }
    for n in &doc.unit_names {
        d.add_text(f.units_folded, n);
    }
    for n in doc.name_en.iter().chain(doc.abbreviation.iter()) {
        d.add_text(f.alt_folded, n);
    }
    let extra_name = (!proper_in_name).then_some(proper.as_str());
    add_word_pairs(f, &mut d, doc, extra_name);
    add_sequences(f, &mut d, doc, &proper, extra_name);
    d.add_text(f.province, &doc.province_code);
    d.add_text(f.ward, &doc.ward_code);
    d.add_text(f.status, &doc.status);
    d.add_text(f.enterprise_type, &doc.enterprise_type);
    let mut vp = Vec::new();
    for v in &doc.vsic {
        d.add_text(f.vsic, v);
        for end in 2..=v.len() {
            if v.is_char_boundary(end) {
                vp.push(v[..end].to_string());
            }
        }
    }
    vp.sort();
    vp.dedup();
    for v in vp {
        d.add_text(f.vsic_prefix, &v);
    }
    d.add_i64(f.registered, days_since_epoch(doc.registered_on));
    if let Some(record) = &doc.record {
        d.add_u64(f.record_version, record.version);
        d.add_bytes(f.record_full, &record.full);
        d.add_bytes(f.record_public, &record.public);
        d.add_bytes(f.record_authority, &record.authority);
    }
    d
}
