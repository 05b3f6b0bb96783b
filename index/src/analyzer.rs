//! Vietnamese name analysis: normalisation, folding, tokenisation, abbreviations and legal forms.
//!
//! Every piece of text goes through the same steps:
//!
//! 1. Unicode **NFC** (decomposed NFD input, as typed on some keyboards or pasted from macOS, would
//!    otherwise split words at the combining marks or produce different terms);
//! 2. **lower-case** (`Đ` → `đ`);
//! 3. split into words: a word is a run of alphanumeric characters (combining marks stay inside
//!    the word);
//! 4. for the *folded* variant, tones and diacritics are removed and `đ` becomes `d`
//!    (`Đường` → `duong`, `Hoà`/`Hòa` → `hoa`).
//!
//! Three tantivy tokenizers are registered on every index under the names [`LOWER`], [`FOLDED`]
//! and [`EDGE`]. `LOWER` and `FOLDED` also apply the **index-time abbreviation expansion** (see
//! [`ABBREVIATIONS`]): a document containing `TNHH` also gets the terms `trách nhiệm hữu hạn`, and
//! a document containing `công ty` also gets `cty`, so a query written either way finds it with a
//! plain term look-up. Queries are *not* expanded: the document carries both forms.
//!
//! Token offsets produced by the tokenizers refer to the normalised text, not the original one
//! (the index uses no snippets, so nothing depends on them).

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Tokenizer name: NFC + lower-case words, with abbreviation expansion.
pub const LOWER: &str = "vi_lower";
/// Tokenizer name: NFC + lower-case + diacritics folded, with abbreviation expansion.
pub const FOLDED: &str = "vi_folded";
/// Tokenizer name: folded words cut into edge n-grams (prefixes of 1..=[`EDGE_MAX`] characters),
/// no abbreviation expansion. Used for as-you-type suggestions.
pub const EDGE: &str = "vi_edge";
/// Longest prefix indexed by the [`EDGE`] tokenizer; longer prefixes are truncated at query time.
pub const EDGE_MAX: usize = 20;

/// Abbreviations and their long forms (lower-case, with diacritics). Both directions are expanded
/// at index time: a name written with the abbreviation also indexes the long-form words, and a name
/// containing the long form (as consecutive words) also indexes the abbreviation.
pub const ABBREVIATIONS: &[(&str, &str)] = &[
    ("cty", "công ty"),
    ("ctcp", "công ty cổ phần"),
    ("tnhh", "trách nhiệm hữu hạn"),
    ("cp", "cổ phần"),
    ("dntn", "doanh nghiệp tư nhân"),
    ("mtv", "một thành viên"),
    ("vt", "vận tải"),
    ("xnk", "xuất nhập khẩu"),
    ("tm", "thương mại"),
    ("dv", "dịch vụ"),
    ("tmdv", "thương mại dịch vụ"),
    ("sx", "sản xuất"),
    ("xd", "xây dựng"),
    ("tp", "thành phố"),
];

/// Legal-form word sequences (folded). At query time they are optional (they only add to the
/// score) as long as the query has other words; in suggestions they are skipped at the start.
pub const LEGAL_FORMS: &[&str] = &[
    "cong ty",
    "cty",
    "ctcp",
    "tnhh",
    "trach nhiem huu han",
    "co phan",
    "cp",
    "dntn",
    "doanh nghiep tu nhan",
    "mtv",
    "mot thanh vien",
    "hop danh",
];

/// Folded words too common in enterprise names to get pair terms (see [`pairable`]): legal forms,
/// business-line words and their abbreviations, English company words, unit words. Words that
/// are also common in proper names (`Đông`, `Trang`, `Phong`, `Tài`, `Vân` …) are left out of
/// the list on purpose. The list only decides which pair terms are indexed, so it changes the
/// speed of a search, never its result; changing it needs a rebuild.
pub const UNPAIRED_WORDS: &[&str] = &[
    // legal forms
    "cong",
    "ty",
    "cty",
    "ctcp",
    "tnhh",
    "trach",
    "nhiem",
    "huu",
    "han",
    "co",
    "phan",
    "cp",
    "dntn",
    "doanh",
    "nghiep",
    "tu",
    "mtv",
    "mot",
    "vien",
    "hd",
    // business lines, abbreviations
    "thuong",
    "mai",
    "tm",
    "dich",
    "vu",
    "dv",
    "tmdv",
    "xay",
    "dung",
    "xd",
    "san",
    "xuat",
    "sx",
    "nhap",
    "khau",
    "xnk",
    "dau",
    "nghe",
    "du",
    "lich",
    "thuc",
    "pham",
    "thuat",
    "bat",
    "nong",
    "giao",
    "y",
    "te",
    "khi",
    "nang",
    "moi",
    "noi",
    "that",
    "kho",
    "truyen",
    "khach",
    "thoi",
    "duoc",
    "may",
    "mac",
    "in",
    "mem",
    "khoang",
    "vt",
    "tp",
    "pho",
    "va",
    // units
    "chi",
    "nhanh",
    "dia",
    "diem",
    "kinh",
    // English
    "trading",
    "services",
    "service",
    "construction",
    "transport",
    "manufacturing",
    "import",
    "export",
    "investment",
    "invest",
    "technology",
    "tech",
    "travel",
    "food",
    "engineering",
    "consulting",
    "real",
    "estate",
    "agriculture",
    "agri",
    "seafood",
    "education",
    "medical",
    "mechanical",
    "energy",
    "environment",
    "furniture",
    "logistics",
    "media",
    "hotel",
    "fashion",
    "pharmaceutical",
    "pharma",
    "garment",
    "printing",
    "software",
    "mining",
    "imex",
    "company",
    "limited",
    "ltd",
    "joint",
    "stock",
    "jsc",
    "one",
    "member",
    "partnership",
    "private",
    "enterprise",
    "corporation",
    "corp",
    "group",
    "and",
    "of",
    "the",
];

/// Most distinct pairable words of one enterprise that get pair terms; an enterprise with more
/// gets the single term [`PAIRS_INCOMPLETE`] instead (and is then a candidate of every pair).
pub const MAX_PAIRED_WORDS: usize = 16;

/// Pair term of the enterprises whose pairs were not all indexed.
pub const PAIRS_INCOMPLETE: &str = "\u{1}";

/// Whether a folded index term gets pair terms: not too common, not a lone letter or digit.
pub fn pairable(folded: &str) -> bool {
    folded.chars().nth(1).is_some() && !UNPAIRED_WORDS.contains(&folded)
}

/// The pair term of two folded words (in either order).
pub fn pair_term(a: &str, b: &str) -> String {
    if a <= b {
        format!("{a} {b}")
    } else {
        format!("{b} {a}")
    }
}

/// The term of two folded words next to each other, in this order (see
/// `schema::Fields::name_bigrams`).
pub fn bigram_term(a: &str, b: &str) -> String {
    format!("{a} {b}")
}

/// The term of a whole folded word sequence (see `schema::Fields::name_whole`).
pub fn whole_term(words: &[String]) -> String {
    words.join(" ")
}

/// NFC, then lower-case. The result is what the unfolded fields index.
pub fn normalize(s: &str) -> String {
    let lower: String = s.nfc().collect::<String>().to_lowercase();
    // Lower-casing a composed character gives a composed character, but be safe for odd input.
    lower.nfc().collect()
}

/// Remove tones and diacritics, map `đ`/`Đ` (and the look-alike `ð`/`Ð`) to `d`, lower-case.
/// Accepts NFC or NFD input.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Split already normalised text into words, with their byte offsets.
fn split_words(s: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        if is_word_char(c) {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(st) = start.take() {
            out.push((st, i, &s[st..i]));
        }
    }
    if let Some(st) = start {
        out.push((st, s.len(), &s[st..]));
    }
    out
}

/// The words of `s`, normalised (NFC + lower-case), without abbreviation expansion.
pub fn words(s: &str) -> Vec<String> {
    let n = normalize(s);
    split_words(&n).into_iter().map(|(_, _, w)| w.to_string()).collect()
}

/// The words of `s`, folded, without abbreviation expansion.
pub fn folded_words(s: &str) -> Vec<String> {
    let n = fold(s);
    split_words(&n).into_iter().map(|(_, _, w)| w.to_string()).collect()
}

/// Which words of a (folded) word sequence belong to a legal-form sequence such as `cong ty` or
/// `trach nhiem huu han`.
pub fn legal_form_mask(folded: &[String]) -> Vec<bool> {
    let mut mask = vec![false; folded.len()];
    let forms: Vec<Vec<&str>> = LEGAL_FORMS.iter().map(|f| f.split(' ').collect()).collect();
    let mut i = 0;
    while i < folded.len() {
        let mut matched = 0;
        for form in &forms {
            if form.len() > matched && starts_with(&folded[i..], form) {
                matched = form.len();
            }
        }
        if matched > 0 {
            mask[i..i + matched].iter_mut().for_each(|m| *m = true);
            i += matched;
        } else {
            i += 1;
        }
    }
    mask
}

/// True when every word of `s` is part of a legal-form sequence (e.g. `Công ty TNHH`).
pub fn is_only_legal_form(s: &str) -> bool {
    let f = folded_words(s);
    !f.is_empty() && legal_form_mask(&f).iter().all(|m| *m)
}

/// Remove the leading legal-form words of a full name: `Công ty TNHH Một thành viên An Phát` →
/// `An Phát`. The original spelling of the remaining words is kept (NFC), words joined by a space.
/// Used when the caller has no proper name for a document.
pub fn strip_legal_form(name: &str) -> String {
    let nfc: String = name.nfc().collect();
    let parts = split_words(&nfc);
    let folded: Vec<String> = parts.iter().map(|(_, _, w)| fold(w)).collect();
    let mask = legal_form_mask(&folded);
    let skip = mask.iter().take_while(|m| **m).count();
    if skip == parts.len() {
        return String::new();
    }
    nfc[parts[skip].0..].trim().to_string()
}

fn starts_with(words: &[String], form: &[&str]) -> bool {
    words.len() >= form.len() && words.iter().zip(form).all(|(w, f)| w == f)
}

/// Tokens of `text` as the index sees them: normalised (and folded if `folded`), with both
/// directions of the abbreviation expansion. Each entry is `(position, term)`; expansion terms take
/// the position of the word they come from.
pub fn index_terms(text: &str, folded: bool) -> Vec<(usize, String)> {
    let ws = if folded { folded_words(text) } else { words(text) };
    expand(&ws, folded)
}

/// Abbreviation → long-form words.
type AbbreviationTable = Vec<(String, Vec<String>)>;

fn abbreviation_table(folded: bool) -> AbbreviationTable {
    ABBREVIATIONS
        .iter()
        .map(|(a, long)| {
            let long = if folded { fold(long) } else { normalize(long) };
            (a.to_string(), long.split(' ').map(str::to_string).collect())
        })
        .collect()
}

fn expand(ws: &[String], folded: bool) -> Vec<(usize, String)> {
    thread_local! {
        static TABLES: (AbbreviationTable, AbbreviationTable) =
            (abbreviation_table(false), abbreviation_table(true));
    }
    TABLES.with(|(lower, fold)| {
        let table = if folded { fold } else { lower };
        let mut out = Vec::with_capacity(ws.len() + 4);
        for (i, w) in ws.iter().enumerate() {
            out.push((i, w.clone()));
            for (abbr, long) in table {
                if w == abbr {
                    out.extend(long.iter().map(|l| (i, l.clone())));
                } else if ws.len() - i >= long.len() && ws[i..i + long.len()].iter().zip(long).all(|(a, b)| a == b) {
                    out.push((i, abbr.clone()));
                }
            }
        }
        out
    })
}

/// Edge n-grams of the folded words of `text`: every prefix of 1..=[`EDGE_MAX`] characters.
pub fn edge_terms(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, w) in folded_words(text).iter().enumerate() {
        let mut end = 0;
        for (n, c) in w.chars().enumerate() {
            if n >= EDGE_MAX {
                break;
            }
            end += c.len_utf8();
            out.push((i, w[..end].to_string()));
        }
    }
    out
}

/// Truncate a folded word to the longest prefix the [`EDGE`] field indexes.
pub fn edge_key(word: &str) -> String {
    word.chars().take(EDGE_MAX).collect()
}

/// The tantivy tokenizer behind [`LOWER`], [`FOLDED`] and [`EDGE`].
#[derive(Clone, Copy, Debug)]
pub struct VietnameseTokenizer {
    mode: Mode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Lower,
    Folded,
    Edge,
}

impl VietnameseTokenizer {
    /// NFC + lower-case + abbreviation expansion.
    pub fn lower() -> Self {
        VietnameseTokenizer { mode: Mode::Lower }
    }
    /// NFC + lower-case + folded + abbreviation expansion.
    pub fn folded() -> Self {
        VietnameseTokenizer { mode: Mode::Folded }
    }
    /// Folded edge n-grams.
    pub fn edge() -> Self {
        VietnameseTokenizer { mode: Mode::Edge }
    }
}

/// Token stream over a precomputed list of tokens.
pub struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for VietnameseTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let terms = match self.mode {
            Mode::Lower => index_terms(text, false),
            Mode::Folded => index_terms(text, true),
            Mode::Edge => edge_terms(text),
        };
        let tokens = terms
            .into_iter()
            .map(|(position, text)| Token { offset_from: 0, offset_to: text.len(), position, text, position_length: 1 })
            .collect();
        VecTokenStream { tokens, next: 0 }
    }
}

/// Register the three tokenizers on an index (they are not persisted: every open must do it).
pub fn register(index: &tantivy::Index) {
    let t = index.tokenizers();
    t.register(LOWER, tantivy::tokenizer::TextAnalyzer::builder(VietnameseTokenizer::lower()).build());
    t.register(FOLDED, tantivy::tokenizer::TextAnalyzer::builder(VietnameseTokenizer::folded()).build());
    t.register(EDGE, tantivy::tokenizer::TextAnalyzer::builder(VietnameseTokenizer::edge()).build());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str, folded: bool) -> Vec<String> {
        let mut t: Vec<String> = index_terms(text, folded).into_iter().map(|(_, t)| t).collect();
        t.sort();
        t
    }

    fn tokenize(tok: VietnameseTokenizer, text: &str) -> Vec<String> {
        let mut tok = tok;
        let mut s = tok.token_stream(text);
        let mut out = vec![];
        while s.advance() {
            out.push(s.token().text.clone());
        }
        out
    }

    #[test]
    fn nfc_and_nfd_give_the_same_tokens() {
        let nfc = "Công ty TNHH Thương mại Đường Hoà Phát Nguyễn";
        let nfd: String = nfc.nfd().collect();
        assert_ne!(nfc, nfd);
        for tok in [VietnameseTokenizer::lower(), VietnameseTokenizer::folded(), VietnameseTokenizer::edge()] {
            assert_eq!(tokenize(tok, nfc), tokenize(tok, &nfd));
        }
        assert_eq!(words(&nfd), words(nfc));
        assert_eq!(words(&nfd), vec!["công", "ty", "tnhh", "thương", "mại", "đường", "hoà", "phát", "nguyễn"]);
    }

    #[test]
    fn folding() {
        assert_eq!(fold("Đường"), "duong");
        assert_eq!(fold("Hoà"), "hoa");
        assert_eq!(fold("Hòa"), "hoa");
        assert_eq!(fold("NGUYỄN"), "nguyen");
        assert_eq!(fold(&"Đường".nfd().collect::<String>()), "duong");
        assert_eq!(fold("Ðường"), "duong"); // Icelandic eth used as a look-alike
        assert_eq!(normalize("ĐƯỜNG"), "đường");
        assert_ne!(normalize("Đường"), normalize("Dương"));
        assert_eq!(fold("Đường"), fold("Dương"));
    }

    #[test]
    fn words_split_on_punctuation() {
        assert_eq!(folded_words("Cty TNHH A&B (Việt-Nam), 36"), vec!["cty", "tnhh", "a", "b", "viet", "nam", "36"]);
    }

    #[test]
    fn abbreviations_expand_both_ways() {
        let short = terms("Cty TNHH TM DV XNK", true);
        let long = terms("Công ty Trách nhiệm hữu hạn Thương mại Dịch vụ Xuất nhập khẩu", true);
        for t in
            ["cty", "cong", "ty", "tnhh", "trach", "nhiem", "huu", "han", "tm", "thuong", "mai", "dv", "dich", "vu"]
        {
            assert!(short.contains(&t.to_string()), "{t} missing from {short:?}");
            assert!(long.contains(&t.to_string()), "{t} missing from {long:?}");
        }
        assert!(long.contains(&"xnk".to_string()) && short.contains(&"khau".to_string()));
        let lower = terms("CP Vận tải", false);
        assert!(lower.contains(&"cổ".to_string()) && lower.contains(&"vt".to_string()));
        assert!(terms("TP Hồ Chí Minh", true).contains(&"thanh".to_string()));
        assert!(terms("Thành phố Huế", true).contains(&"tp".to_string()));
        // Not a long form unless the words are consecutive.
        assert!(!terms("Vận Thương Tải", true).contains(&"vt".to_string()));
    }

    #[test]
    fn legal_forms_are_recognised_and_stripped() {
        assert_eq!(strip_legal_form("Công ty TNHH Một thành viên An Phát"), "An Phát");
        assert_eq!(strip_legal_form("CÔNG TY CỔ PHẦN Thành Công"), "Thành Công");
        assert_eq!(strip_legal_form("Doanh nghiệp tư nhân Hợp Danh Minh"), "Minh");
        assert_eq!(strip_legal_form("Cty CP Đầu tư Sông Đà"), "Đầu tư Sông Đà");
        assert!(is_only_legal_form("Công ty TNHH"));
        assert!(!is_only_legal_form("Công ty Thành Công"));
        let f = folded_words("cong ty tnhh thanh cong");
        assert_eq!(legal_form_mask(&f), vec![true, true, true, false, false]);
    }

    #[test]
    fn edge_ngrams() {
        let e: Vec<String> = edge_terms("Phát Đạt").into_iter().map(|(_, t)| t).collect();
        assert_eq!(e, vec!["p", "ph", "pha", "phat", "d", "da", "dat"]);
        assert_eq!(edge_key("abcdefghijklmnopqrstuvwxyz"), "abcdefghijklmnopqrst");
    }
}
