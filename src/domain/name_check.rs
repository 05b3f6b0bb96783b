//! Names that may not be registered (Law on Enterprises 59/2020/QH14 art. 41): a name identical
//! to, or confusingly similar with (gây nhầm lẫn), the name of an enterprise that has not ceased.
//!
//! Two halves:
//! - [`conflicts`] is the legal test for one pair of names;
//! - [`keys`] gives exact-match look-up keys, stored with each registered name, and
//!   [`lookup_core_keys`] the core keys a candidate looks up (its own, and those of the other
//!   casings of its letters that (d) tells apart), so that the store can fetch, by key equality,
//!   a superset of the registered names [`conflicts`] could report, and let [`conflicts`] decide.
//!
//! (d)–(g) compare only names of the same type (art. 41.2: "doanh nghiệp cùng loại", the type
//! named in the name, art. 37.1); (a)–(c) and (h) compare names of every type.
//!
//! Tones and `đ` are never removed here: `Thành` and `Thạnh`, `đường` and `dương` are different
//! names (search folding is for finding, not for this test). Only the spelling variants that are
//! read the same are merged: the place of the tone mark (`hoà`/`hòa`) and syllable-final `i`/`y`
//! after a consonant (`quí`/`quý`, `kĩ`/`kỹ`).

use std::sync::LazyLock;

use crate::enterprise_type::EnterpriseType;
use crate::status::Status;
use crate::text;
use serde::Serialize;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// One ground for refusing a name (art. 41). Ordered from the most serious; `Identical` first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameRule {
    /// Art. 41.1: tên trùng.
    Identical,
    /// Art. 41.2(a): the Vietnamese names are read the same (đọc giống).
    ReadSame,
    /// Art. 41.2(b): the same abbreviation (tên viết tắt).
    Abbreviation,
    /// Art. 41.2(c): the same foreign-language name (tên bằng tiếng nước ngoài).
    ForeignName,
    /// Art. 41.2(d): proper names differ only by a natural number, an ordinal or a letter.
    NumberOrLetter,
    /// Art. 41.2(đ): proper names differ only by `&`/`và`, `.`, `,`, `+`, `-`, `_`.
    Conjunction,
    /// Art. 41.2(e): proper names differ only by `tân` before or `mới` before/after.
    TanMoi,
    /// Art. 41.2(g): proper names differ only by `miền Bắc/Nam/Trung/Tây/Đông`.
    Region,
    /// Art. 41.2(h): the same proper name (tên riêng), whatever the types.
    SameProperName,
}

impl NameRule {
    pub const ALL: [NameRule; 9] = [
        NameRule::Identical,
        NameRule::ReadSame,
        NameRule::Abbreviation,
        NameRule::ForeignName,
        NameRule::NumberOrLetter,
        NameRule::Conjunction,
        NameRule::TanMoi,
        NameRule::Region,
        NameRule::SameProperName,
    ];

    /// The point of art. 41.2 (`"a"` … `"h"`, with `"đ"`); `""` for [`NameRule::Identical`],
    /// which is art. 41.1 and has no letter.
    pub fn letter(self) -> &'static str {
        match self {
            NameRule::Identical => "",
            NameRule::ReadSame => "a",
            NameRule::Abbreviation => "b",
            NameRule::ForeignName => "c",
            NameRule::NumberOrLetter => "d",
            NameRule::Conjunction => "đ",
            NameRule::TanMoi => "e",
            NameRule::Region => "g",
            NameRule::SameProperName => "h",
        }
    }

    /// The refusal code: `name_identical` (art. 41.1) or `name_confusing` (art. 41.2).
    pub fn code(self) -> &'static str {
        match self {
            NameRule::Identical => "name_identical",
            _ => "name_confusing",
        }
    }

    /// One sentence naming the article, for people.
    pub fn describe(self) -> &'static str {
        match self {
            NameRule::Identical => "art. 41.1: the Vietnamese names are identical",
            NameRule::ReadSame => "art. 41.2(a): the names read the same",
            NameRule::Abbreviation => "art. 41.2(b): the abbreviations are the same",
            NameRule::ForeignName => "art. 41.2(c): the foreign-language names are the same",
            NameRule::NumberOrLetter => {
                "art. 41.2(d): the proper names differ only by a natural number, an ordinal or a letter after the name"
            }
            NameRule::Conjunction => {
                "art. 41.2(đ): the proper names differ only by \"&\", \"và\", \".\", \",\", \"+\", \"-\" or \"_\""
            }
            NameRule::TanMoi => {
                "art. 41.2(e): the proper names differ only by \"tân\" before, or \"mới\" before or after, the name"
            }
            NameRule::Region => {
                "art. 41.2(g): the proper names differ only by \"miền Bắc\", \"miền Nam\", \"miền Trung\", \"miền Tây\" or \"miền Đông\""
            }
            NameRule::SameProperName => "art. 41.2(h): the proper names are the same",
        }
    }
}

/// The name being applied for, with its type and the enterprises it will be a subsidiary of.
#[derive(Debug, Clone, Copy)]
pub struct NameCandidate<'a> {
    /// The type named in the name (art. 37.1): (d)–(g) compare only with names of the same type.
    pub enterprise_type: EnterpriseType,
    pub full_name: &'a str,
    pub proper_name: &'a str,
    pub abbreviation: Option<&'a str>,
    pub foreign_name: Option<&'a str>,
    /// Enterprise codes of the owners that hold more than half of the charter capital (the
    /// applicant will be their subsidiary, công ty con, art. 195.1(a)); see [`parent_codes`]. The
    /// caller has made sure each is in the register.
    pub parent_codes: &'a [String],
}

/// A registered enterprise's name (one that has not ceased).
#[derive(Debug, Clone, Copy)]
pub struct RegisteredName<'a> {
    pub code: &'a str,
    pub enterprise_type: EnterpriseType,
    pub full_name: &'a str,
    pub proper_name: &'a str,
    pub abbreviation: Option<&'a str>,
    pub foreign_name: Option<&'a str>,
}

/// The enterprise codes among `owners` (code, capital contributed) that hold more than 50 % of
/// the charter capital (art. 195.1(a)): the enterprises the applicant will be a subsidiary of,
/// for which (d)–(h) do not apply (art. 41.2, last paragraph). Exactly half is not control.
pub fn parent_codes<'a>(owners: impl IntoIterator<Item = (&'a str, i64)>, charter_capital_vnd: i64) -> Vec<String> {
    owners
        .into_iter()
        .filter(|(_, capital)| i128::from(*capital) * 2 > i128::from(charter_capital_vnd))
        .map(|(code, _)| code.trim().to_string())
        .collect()
}

/// "Doanh nghiệp cùng loại" (art. 41.2(d)–(g)) is the type named in the name (art. 37.1): a
/// single- and a multi-member LLC are both "Công ty TNHH", one type.
fn named_type(kind: EnterpriseType) -> EnterpriseType {
    match kind {
        EnterpriseType::LlcMulti => EnterpriseType::LlcSingle,
        other => other,
    }
}

/// Every rule under which `candidate` conflicts with `registered`, sorted, deduplicated; empty
/// means no conflict.
///
/// Each rule is tested on its own and every rule that holds is reported, so identical names give
/// `[Identical, ReadSame, …]` (identical names also read the same, and normally have the same
/// proper name). The first element is the most serious ground. (d)–(g) compare only names of the
/// same type ([`named_type`]); (a), (b), (c) and (h) compare with every type. Rules (d)–(h) are
/// skipped when `registered.code` is among `candidate.parent_codes` (art. 41.2, last paragraph: a
/// subsidiary of the registered company). Without parents the result is symmetric.
///
/// Proper names are compared as read (tone placement and `i`/`y` merged, as in (a)), so
/// `Hoà Bình` / `Hòa Bình` is (h) and `Hoà Bình 2` / `Hòa Bình` is (d). The case of each word is
/// kept beside it for (d): a Roman numeral is written in capitals (`Long VI`, not the syllable
/// `Vi`), and a letter written joined is a capital after a lower-case word (`LongA`).
pub fn conflicts(candidate: &NameCandidate, registered: &RegisteredName) -> Vec<NameRule> {
    let mut rules = Vec::new();
    if exact(candidate.full_name) == exact(registered.full_name) {
        rules.push(NameRule::Identical);
    }
    if read_key(candidate.full_name) == read_key(registered.full_name) {
        rules.push(NameRule::ReadSame);
    }
    if same_key(candidate.abbreviation, registered.abbreviation, abbreviation_key) {
        rules.push(NameRule::Abbreviation);
    }
    if same_key(candidate.foreign_name, registered.foreign_name, foreign_key) {
        rules.push(NameRule::ForeignName);
    }
    let subsidiary = candidate.parent_codes.iter().any(|parent| parent.trim() == registered.code.trim());
    let same_type = named_type(candidate.enterprise_type) == named_type(registered.enterprise_type);
    if !subsidiary {
        let mine = read_norm(candidate.proper_name);
        let theirs = read_norm(registered.proper_name);
        if mine.is_empty() || theirs.is_empty() {
            // No proper name to compare (the caller validates that there is one, art. 38).
        } else if mine == theirs {
            rules.push(NameRule::SameProperName);
        } else if same_type {
            rules.extend(similar_proper_names(&Core::of(candidate.proper_name), &Core::of(registered.proper_name)));
        }
    }
    rules.sort();
    rules.dedup();
    rules
}

/// Exact-match look-up keys (btree-indexable), stored beside each registered name and computed
/// for a candidate. Whenever [`conflicts`] reports a rule for a pair, a key of the candidate
/// equals the registered name's: `Identical`, (a) → `read_key`; (b) → `abbreviation_key`; (c) →
/// `foreign_key`; (d)–(h) → the registered `core_key` is among the candidate's
/// [`lookup_core_keys`]. A `None` key matches nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameKeys {
    /// The full name as read (identical, art. 41.2(a)): NFC, lower case, single spaces, tone
    /// marks in one place, `i`/`y` variants merged, the type written out in full.
    pub read_key: String,
    /// The proper name with everything (d)–(h) ignore removed, no spaces, lower case. A proper
    /// name that is nothing but such elements (`365`, `Mới`, `Miền Nam`) keeps them: it is never
    /// stripped to nothing. It depends on the case of the words (`Long II` → `long`, `Long Ii` →
    /// `longii`); [`lookup_core_keys`] gives every core a name of the same letters may have.
    pub core_key: String,
    /// The abbreviation, lower case, letters and digits only (art. 41.2(b)).
    pub abbreviation_key: Option<String>,
    /// The foreign-language name, lower case, single spaces (art. 41.2(c)).
    pub foreign_key: Option<String>,
}

/// The look-up keys of one name (see [`NameKeys`]).
pub fn keys(full_name: &str, proper_name: &str, abbreviation: Option<&str>, foreign_name: Option<&str>) -> NameKeys {
    NameKeys {
        read_key: read_key(full_name),
        core_key: Core::of(proper_name).key,
        abbreviation_key: abbreviation.and_then(abbreviation_key),
        foreign_key: foreign_name.and_then(foreign_key),
    }
}

/// How many words from the end of a proper name [`lookup_core_keys`] writes in each case: (d)
/// strips at the end only, after at most a region (2 words) and an ordinal (2 words or more).
const CASED_WORDS: usize = 6;

/// The core keys that a registered proper name with the same letters, in any case, may have:
/// [`NameKeys::core_key`] depends on case (`Long II` is `long`, `Long Ii` is `longii`), and (h)
/// does not (`Long II` and `Long Ii` are the same proper name). The candidate's own core key
/// comes first. The store fetches the registered names whose `core_key` is any of them.
pub fn lookup_core_keys(proper_name: &str) -> Vec<String> {
    let mut out = vec![Core::of(proper_name).key];
    let lower = split(&exact(proper_name));
    let words = word_indices(&lower);
    let cased = &words[words.len().saturating_sub(CASED_WORDS)..];
    // Every way of writing each of the last words that (d) tells apart: lower case, capitals (a
    // Roman numeral), or a capital letter or numeral joined at its end.
    let options: Vec<Vec<String>> = cased
        .iter()
        .map(|&i| {
            let w = word(&lower, i);
            let chars: Vec<char> = w.chars().collect();
            let mut forms = vec![w.to_string()];
            if is_roman(w) {
                forms.push(w.to_uppercase());
            }
            // A capital joined at the end, or before the number joined at the end (`LongA2`).
            let digits = chars.iter().rev().take_while(|c| c.is_ascii_digit()).count();
            for end in [chars.len(), chars.len() - digits] {
                for k in 1..end {
                    let tail: String = chars[end - k..end].iter().collect();
                    let (head, rest): (String, String) =
                        (chars[..end - k].iter().collect(), chars[end..].iter().collect());
                    let form = format!("{head}{}{rest}", tail.to_uppercase());
                    if ((k == 1 && ALPHABET.contains(tail.as_str())) || is_roman(&tail)) && !forms.contains(&form) {
                        forms.push(form);
                    }
                }
            }
            forms
        })
        .collect();
    let mut choice = vec![0usize; cased.len()];
    loop {
        let mut pieces = lower.clone();
        for (n, &i) in cased.iter().enumerate() {
            if let Piece::Word(w) = &mut pieces[i] {
                w.written = options[n][choice[n]].clone();
            }
        }
        let key = Core::from_pieces(pieces, &exact(proper_name)).key;
        if !out.contains(&key) {
            out.push(key);
        }
        // The next combination (an odometer over the options).
        let Some(n) = (0..cased.len()).find(|&n| choice[n] + 1 < options[n].len()) else { break };
        choice[n] += 1;
        choice[..n].iter_mut().for_each(|c| *c = 0);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Identical (art. 41.1), abbreviation (b), foreign name (c)

/// NFC, lower case, trimmed, every run of whitespace one space: the art. 41.1 comparison.
fn exact(input: &str) -> String {
    let lower = text::nfc(input).to_lowercase();
    text::collapse_whitespace(&text::nfc(&lower)).into_owned()
}

/// (b) case-, whitespace- and punctuation-insensitive: `ABC Co., Ltd` = `abc co ltd`.
fn abbreviation_key(abbreviation: &str) -> Option<String> {
    let key: String = exact(abbreviation).chars().filter(|c| c.is_alphanumeric()).collect();
    (!key.is_empty()).then_some(key)
}

/// (c) case- and whitespace-insensitive; punctuation counts.
fn foreign_key(foreign_name: &str) -> Option<String> {
    let key = exact(foreign_name);
    (!key.is_empty()).then_some(key)
}

fn same_key(mine: Option<&str>, theirs: Option<&str>, key: fn(&str) -> Option<String>) -> bool {
    match (mine.and_then(key), theirs.and_then(key)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Read the same (art. 41.2(a))

/// The five tone marks (dấu thanh): huyền, sắc, ngã, hỏi, nặng. Circumflex, breve and horn are
/// part of the vowel letter and always kept.
const TONE_MARKS: [char; 5] = ['\u{0300}', '\u{0301}', '\u{0303}', '\u{0309}', '\u{0323}'];

/// Onsets after which syllable-final `i` and `y` are read the same (`kỹ`/`kĩ`, `quý`/`quí`,
/// `hy`/`hi`, `thy`/`thi`). Not after a vowel (`tai` ≠ `tay`, `thuy` ≠ `thui`), nor after onsets
/// that only foreign words use (`sky`, `try`).
const IY_ONSETS: [&str; 10] = ["h", "k", "l", "m", "n", "qu", "s", "t", "th", "v"];

/// The vowel groups (nuclei, with a glide) a Vietnamese syllable can have, written without
/// circumflex, breve or horn (`ươ` is `uo`, `uyê` is `uye`); the `u` of `qu` and the `i` of `gi`
/// belong to the onset. A run of letters whose vowels are not one of these is two syllables
/// written joined (`hoàan` is `hoà` + `an`), or a foreign word, and is left as written.
const NUCLEI: [&str; 37] = [
    "a", "e", "i", "o", "u", "y", "ai", "ao", "au", "ay", "eo", "eu", "ia", "ie", "iu", "oa", "oe", "oi", "oo", "ua",
    "ue", "ui", "uo", "uu", "uy", "ye", "ieu", "yeu", "oai", "oay", "oeo", "uay", "uoi", "uou", "uya", "uye", "uyu",
];

/// The ways art. 38 lets a type be written; all read as the long form. Longest first.
const TYPE_SPELLINGS: [(&str, &str); 7] = [
    ("công ty tnhh mtv", "công ty trách nhiệm hữu hạn một thành viên"),
    ("công ty trách nhiệm hữu hạn mtv", "công ty trách nhiệm hữu hạn một thành viên"),
    ("công ty tnhh", "công ty trách nhiệm hữu hạn"),
    ("công ty cp", "công ty cổ phần"),
    ("công ty hd", "công ty hợp danh"),
    ("doanh nghiệp tn", "doanh nghiệp tư nhân"),
    ("dntn", "doanh nghiệp tư nhân"),
];

/// [`TYPE_SPELLINGS`] in the form [`read_norm`] gives (`công ty` is read as `công ti`).
static TYPE_SPELLINGS_READ: LazyLock<Vec<(String, String)>> =
    LazyLock::new(|| TYPE_SPELLINGS.iter().map(|(short, long)| (read_norm(short), read_norm(long))).collect());

/// The full name as read: [`read_norm`], with the type's short spellings (`Công ty TNHH`)
/// written out (`công ti trách nhiệm hữu hạn`).
fn read_key(full_name: &str) -> String {
    let read = read_norm(full_name);
    for (short, long) in TYPE_SPELLINGS_READ.iter() {
        if let Some(rest) = strip_word_prefix(&read, short) {
            return format!("{long}{rest}");
        }
    }
    read
}

/// `text` without `word` at its start, when `word` is followed by a space or the end.
fn strip_word_prefix<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(word)?;
    (rest.is_empty() || rest.starts_with(' ')).then_some(rest)
}

/// [`exact`], then every run of letters respelt by [`respell_syllable`]; other characters kept.
fn read_norm(input: &str) -> String {
    let text = exact(input);
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars() {
        if c.is_alphabetic() || is_combining_mark(c) {
            run.push(c);
        } else {
            out.push_str(&respell_syllable(&run));
            run.clear();
            out.push(c);
        }
    }
    out.push_str(&respell_syllable(&run));
    out
}

/// A letter of a syllable, decomposed.
struct Letter {
    base: char,
    /// Circumflex, breve, horn (and anything else that is not a tone mark).
    marks: Vec<char>,
    tone: Option<char>,
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

/// One Vietnamese syllable (lower case, NFC) in a canonical spelling: the tone mark on one fixed
/// vowel, and final `i`/`y` after an [`IY_ONSETS`] onset written `i`. Anything that is not one
/// plausible syllable (two vowel groups, two tones, other scripts) is returned unchanged, so that
/// joined words like `hoàlong`/`hoalòng` are never merged.
fn respell_syllable(run: &str) -> String {
    let Some(mut letters) = syllable_letters(run) else { return run.to_string() };
    let vowels: Vec<usize> = (0..letters.len()).filter(|&i| is_vowel(letters[i].base)).collect();
    let (Some(&first), Some(&last)) = (vowels.first(), vowels.last()) else { return run.to_string() };
    if last - first + 1 != vowels.len() || letters.iter().filter(|l| l.tone.is_some()).count() > 1 {
        return run.to_string();
    }
    let tone = letters.iter_mut().find_map(|l| l.tone.take());
    let (start, end) = (nucleus_start(&letters, first, last), last + 1);
    let nucleus: String = letters[start..end].iter().map(|l| l.base).collect();
    if !NUCLEI.contains(&nucleus.as_str()) {
        return run.to_string();
    }
    let has_coda = end < letters.len();
    if !has_coda && end - start == 1 && (is_plain(&letters[start], 'i') || is_plain(&letters[start], 'y')) {
        if let Some(lead) = onset(&letters, start) {
            if IY_ONSETS.contains(&lead.as_str()) {
                letters[start].base = 'i';
            }
        }
    }
    if let Some(tone) = tone {
        let at = tone_position(&letters, start, end, has_coda);
        letters[at].tone = Some(tone);
    }
    let mut decomposed = String::new();
    for l in &letters {
        decomposed.push(l.base);
        decomposed.extend(&l.marks);
        decomposed.extend(l.tone);
    }
    decomposed.nfc().collect()
}

/// The letters of `run` with their marks and tone, or `None` when it is not written in the
/// Vietnamese alphabet (a mark with no letter, two tones on one vowel, another script).
fn syllable_letters(run: &str) -> Option<Vec<Letter>> {
    let mut letters: Vec<Letter> = Vec::new();
    for c in run.nfd() {
        if is_combining_mark(c) {
            let last = letters.last_mut()?;
            if TONE_MARKS.contains(&c) && is_vowel(last.base) {
                if last.tone.is_some() {
                    return None;
                }
                last.tone = Some(c);
            } else {
                last.marks.push(c);
            }
        } else if c.is_ascii_lowercase() || c == 'đ' {
            letters.push(Letter { base: c, marks: Vec::new(), tone: None });
        } else {
            return None;
        }
    }
    Some(letters)
}

/// Whether `letter` is `base` with no circumflex, breve or horn.
fn is_plain(letter: &Letter, base: char) -> bool {
    letter.base == base && letter.marks.is_empty()
}

/// The onset (the consonants before index `end`), when none of them carries a mark.
fn onset(letters: &[Letter], end: usize) -> Option<String> {
    letters[..end].iter().all(|l| l.marks.is_empty()).then(|| letters[..end].iter().map(|l| l.base).collect())
}

/// Where the nucleus of the vowel group `letters[first..=last]` begins. A syllable is onset ..
/// nucleus .. coda, and `u` after `q` and `i` before a vowel after `g` belong to the onset
/// (`quý`, `giữ`).
fn nucleus_start(letters: &[Letter], first: usize, last: usize) -> usize {
    if last > first {
        let lead = onset(letters, first);
        if (lead.as_deref() == Some("q") && is_plain(&letters[first], 'u'))
            || (lead.as_deref() == Some("g") && is_plain(&letters[first], 'i'))
        {
            return first + 1;
        }
    }
    first
}

/// The vowel of the nucleus `letters[start..end]` that carries the tone mark in the canonical
/// spelling: the marked vowel, else the last before a coda, else by the pair (`hoà`, `thuỷ`, but
/// `tài`, `mùa`).
fn tone_position(letters: &[Letter], start: usize, end: usize, has_coda: bool) -> usize {
    let nucleus = &letters[start..end];
    if let Some(i) = nucleus.iter().rposition(|l| !l.marks.is_empty()) {
        start + i // the vowel with a circumflex, breve or horn: `ướ`, `uyề`
    } else if nucleus.len() == 1 {
        start
    } else if has_coda {
        end - 1 // `hoán`, `tuấn`
    } else if nucleus.len() == 2 {
        match (nucleus[0].base, nucleus[1].base) {
            ('o', 'a') | ('o', 'e') | ('u', 'y') => start + 1, // `hoà`, `khoẻ`, `thuỷ`
            _ => start,                                        // `tài`, `mùa`
        }
    } else {
        start + 1 // `khoái`, `khuỷu`
    }
}

// ---------------------------------------------------------------------------------------------
// Proper names that differ only by … (art. 41.2(d)–(g))

/// The separators of art. 41.2(đ) besides `và`; whitespace is treated alike, so `Hoàng-Long`,
/// `Hoàng Long` and `HoàngLong` differ only by a separator.
const SEPARATORS: [char; 6] = ['&', '.', ',', '+', '-', '_'];
const CONJUNCTION: &str = "và";
/// Art. 41.2(d): letters of the Vietnamese alphabet, and F, J, W, Z (art. 38).
const ALPHABET: &str = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz";
/// Art. 41.2(d): words of an ordinal after `thứ` (`thứ hai`, `thứ mười một`).
const ORDINAL: &str = "thứ";
const NUMBER_WORDS: [&str; 22] = [
    "nhất", "nhì", "một", "mốt", "hai", "ba", "bốn", "tư", "năm", "lăm", "sáu", "bảy", "bẩy", "tám", "chín", "mười",
    "mươi", "linh", "lẻ", "trăm", "nghìn", "ngàn",
];
/// Art. 41.2(e).
const TAN: &str = "tân";
const MOI: &str = "mới";
/// Art. 41.2(g): `miền` followed by one of these.
const REGION: &str = "miền";
const REGIONS: [&str; 5] = ["bắc", "nam", "trung", "tây", "đông"];

/// A proper name taken apart: words and the separators between them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Word(Word),
    /// Separator characters and `và`, whitespace dropped; `" "` when only whitespace.
    Separator(String),
}

/// A word of a proper name as read ([`read_norm`]: lower case), and as written: (d) tells a Roman
/// numeral (`VI`) from a syllable (`Vi`), and a letter written joined (`LongA`) from the end of a
/// word (`Longa`), by case only.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    read: String,
    written: String,
}

impl Word {
    fn new(written: String) -> Word {
        Word { read: read_norm(&written), written }
    }

    /// Drops `n` characters from the start (`front`) or the end of the word as read, and the
    /// same from the word as written when both have as many characters (else the case is lost).
    fn drop_chars(&mut self, n: usize, front: bool) {
        let cut = |s: &str| -> String {
            let count = s.chars().count();
            if front {
                s.chars().skip(n).collect()
            } else {
                s.chars().take(count.saturating_sub(n)).collect()
            }
        };
        self.written = if self.written.chars().count() == self.read.chars().count() {
            cut(&self.written)
        } else {
            cut(&self.read)
        };
        self.read = cut(&self.read);
    }
}

/// A proper name reduced to its core, with what was removed to get there.
#[derive(Debug, Default, PartialEq, Eq)]
struct Core {
    /// The remaining words joined without spaces: `core_key`.
    key: String,
    /// Separators left between the remaining words, in order (đ).
    separators: Vec<String>,
    /// Numbers, ordinals and letters removed from the end (d).
    numbers: Vec<String>,
    /// `tân` / `mới` removed, with their side (e).
    tan_moi: Vec<&'static str>,
    /// `miền …` removed (g).
    regions: Vec<String>,
}

impl Core {
    /// The core of a proper name as written. Removes, until nothing changes: numbers, ordinals
    /// and letters at the end (d); `miền …` anywhere (g); `tân` at the start, `mới` at either
    /// end, also written joined (e). Never removes the last word.
    fn of(proper: &str) -> Core {
        let written = text::collapse_whitespace(&text::nfc(proper)).into_owned();
        Core::from_pieces(split(&written), &exact(proper))
    }

    /// [`Core::of`] for a name already split; `fallback` is the key of a name that is nothing but
    /// separators.
    fn from_pieces(mut pieces: Vec<Piece>, fallback: &str) -> Core {
        let mut core = Core::default();
        loop {
            let changed = strip_number(&mut pieces, &mut core)
                || strip_region(&mut pieces, &mut core)
                || strip_tan_moi(&mut pieces, &mut core);
            if !changed {
                break;
            }
        }
        for piece in &pieces {
            match piece {
                Piece::Word(w) => core.key.push_str(&w.read),
                Piece::Separator(s) => core.separators.push(s.clone()),
            }
        }
        // The words joined are read again as one run, as the name written joined is (`Phú Yên`
        // and `PhúYên` differ only by a space, art. 41.2(đ)); this also composes what joining
        // brings together (`d`, `+`, `◌̣` → `ḍ`), so the key is NFC like every other key.
        core.key = read_norm(&core.key);
        if core.key.is_empty() {
            // Nothing but separators: compare the name as read.
            core.key = read_norm(fallback);
        }
        core
    }
}

/// Splits at whitespace and [`SEPARATORS`]; `và` becomes a separator like `&` wherever it stands
/// (between, before or after the other words), unless it is the only word.
fn split(proper: &str) -> Vec<Piece> {
    let mut raw: Vec<Piece> = Vec::new();
    for c in proper.chars() {
        let is_sep = c.is_whitespace() || SEPARATORS.contains(&c);
        match (raw.last_mut(), is_sep) {
            (Some(Piece::Word(w)), false) => w.written.push(c),
            (Some(Piece::Separator(s)), true) => s.push(c),
            (_, false) => raw.push(Piece::Word(Word { read: String::new(), written: c.to_string() })),
            (_, true) => raw.push(Piece::Separator(c.to_string())),
        }
    }
    for piece in &mut raw {
        if let Piece::Word(w) = piece {
            *w = Word::new(std::mem::take(&mut w.written));
        }
    }
    let words = raw.iter().filter(|p| matches!(p, Piece::Word(_))).count();
    let conjunctions = raw.iter().filter(|p| matches!(p, Piece::Word(w) if w.read == CONJUNCTION)).count();
    let mut pieces: Vec<Piece> = Vec::new();
    for piece in raw {
        let piece = match piece {
            Piece::Word(w) if w.read == CONJUNCTION && conjunctions < words => Piece::Separator(w.read),
            other => other,
        };
        match (pieces.last_mut(), piece) {
            (Some(Piece::Separator(s)), Piece::Separator(t)) => s.push_str(&t),
            (_, piece) => pieces.push(piece),
        }
    }
    for piece in &mut pieces {
        if let Piece::Separator(s) = piece {
            let visible: String = s.split_whitespace().collect();
            *s = if visible.is_empty() { " ".to_string() } else { visible };
        }
    }
    pieces
}

fn word_indices(pieces: &[Piece]) -> Vec<usize> {
    (0..pieces.len()).filter(|&i| matches!(pieces[i], Piece::Word(_))).collect()
}

/// The word at `i` as read.
fn word(pieces: &[Piece], i: usize) -> &str {
    match &pieces[i] {
        Piece::Word(w) => &w.read,
        Piece::Separator(s) => s,
    }
}

/// The word at `i` as written.
fn written(pieces: &[Piece], i: usize) -> &str {
    match &pieces[i] {
        Piece::Word(w) => &w.written,
        Piece::Separator(s) => s,
    }
}

/// Removes the word at `i` with one separator beside it (the one before, else the one after).
fn remove_word(pieces: &mut Vec<Piece>, i: usize) {
    pieces.remove(i);
    if i > 0 && matches!(pieces[i - 1], Piece::Separator(_)) {
        pieces.remove(i - 1);
    } else if i < pieces.len() && matches!(pieces[i], Piece::Separator(_)) {
        pieces.remove(i);
    }
}

fn is_number(w: &str) -> bool {
    !w.is_empty() && w.chars().all(|c| c.is_ascii_digit())
}

/// The largest ordinal (d) reads as a Roman numeral: names number their series in small numerals
/// (`II`, `IV`, `XII`), and capitals such as `MIX`, `CD` or `DC` are words, not numerals.
const ROMAN_MAX: u32 = 99;

/// A Roman numeral from 1 to [`ROMAN_MAX`] in lower case, written the standard way (`iv`, not
/// `iiii`).
fn is_roman(w: &str) -> bool {
    const VALUES: [(&str, u32); 9] =
        [("xc", 90), ("l", 50), ("xl", 40), ("x", 10), ("ix", 9), ("v", 5), ("iv", 4), ("i", 1), ("c", 100)];
    let value = |c: char| VALUES.iter().find(|(s, _)| s.len() == 1 && s.starts_with(c)).map(|v| v.1);
    let Some(digits) = w.chars().map(value).collect::<Option<Vec<u32>>>() else { return false };
    let mut total: i64 = 0;
    for (i, &d) in digits.iter().enumerate() {
        if digits.get(i + 1).is_some_and(|&next| next > d) {
            total -= i64::from(d);
        } else {
            total += i64::from(d);
        }
    }
    if !(1..=i64::from(ROMAN_MAX)).contains(&total) {
        return false;
    }
    let mut rest = total as u32;
    let mut canonical = String::new();
    for (symbol, v) in VALUES[..8].iter() {
        while rest >= *v {
            canonical.push_str(symbol);
            rest -= v;
        }
    }
    canonical == w
}

/// Whether a word is written in capitals (it has a letter and no lower-case one).
fn in_capitals(w: &str) -> bool {
    w.chars().any(char::is_alphabetic) && !w.chars().any(char::is_lowercase)
}

/// The letter or Roman numeral written joined at the end of a word as a capital after lower case
/// (`LongA`, `LongII`, `HoàngLongĐ`): its length in characters. `Longa`, `LONGA`, `PetroVN` have
/// none.
fn joined_capital(written: &str) -> Option<usize> {
    let chars: Vec<char> = written.chars().collect();
    let k = chars.iter().rev().take_while(|c| c.is_uppercase()).count();
    if k == 0 || chars.len() < k + 2 || !chars[chars.len() - k - 1].is_lowercase() {
        return None;
    }
    let tail: String = chars[chars.len() - k..].iter().collect::<String>().to_lowercase();
    ((k == 1 && ALPHABET.contains(tail.as_str())) || is_roman(&tail)).then_some(k)
}

/// (d) One number, ordinal or letter at the end, written apart or joined: `ABC 2`, `ABC2`,
/// `ABC thứ hai`, `ABC thứ 2`, `ABC II`, `ABCII`, `ABC A`, `ABCA`. A letter or numeral goes only
/// while a word of two or more characters remains, so `A B C` is not reduced to `A`. A Roman
/// numeral is written in capitals in a name that is not all capitals (`Minh Vi` and `MINH VI`
/// end in a syllable); a letter written joined is a capital after lower case.
fn strip_number(pieces: &mut Vec<Piece>, core: &mut Core) -> bool {
    let words = word_indices(pieces);
    let Some(&last) = words.last() else { return false };
    if words.len() >= 2 {
        if let Some(k) = (1..words.len()).rev().find(|&k| word(pieces, words[k]) == ORDINAL) {
            let tail = &words[k + 1..];
            let ordinal = !tail.is_empty()
                && tail.iter().all(|&i| is_number(word(pieces, i)) || NUMBER_WORDS.contains(&word(pieces, i)));
            if ordinal {
                let text: Vec<&str> = words[k..].iter().map(|&i| word(pieces, i)).collect();
                core.numbers.push(text.join(" "));
                for &i in words[k..].iter().rev() {
                    remove_word(pieces, i);
                }
                return true;
            }
        }
        let w = word(pieces, last).to_string();
        if is_number(&w) {
            core.numbers.push(w);
            remove_word(pieces, last);
            return true;
        }
        let others = &words[..words.len() - 1];
        let single_letter = w.chars().count() == 1 && ALPHABET.contains(w.as_str());
        let roman = is_roman(&w)
            && in_capitals(written(pieces, last))
            && others.iter().any(|&i| written(pieces, i).chars().any(char::is_lowercase));
        let long_word_remains = others.iter().any(|&i| word(pieces, i).chars().count() >= 2);
        if (single_letter || roman) && long_word_remains {
            core.numbers.push(w);
            remove_word(pieces, last);
            return true;
        }
    }
    if let Piece::Word(w) = &mut pieces[last] {
        let digits = w.read.chars().rev().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 && digits < w.read.len() {
            core.numbers.push(w.read[w.read.len() - digits..].to_string());
            w.drop_chars(digits, false);
            return true;
        }
        if let Some(k) = joined_capital(&w.written) {
            let chars: Vec<char> = w.written.chars().collect();
            let tail: String = chars[chars.len() - k..].iter().collect();
            core.numbers.push(read_norm(&tail));
            *w = Word::new(chars[..chars.len() - k].iter().collect());
            return true;
        }
    }
    false
}

/// (g) `miền Bắc`, `miền Nam`, `miền Trung`, `miền Tây`, `miền Đông`, anywhere.
fn strip_region(pieces: &mut Vec<Piece>, core: &mut Core) -> bool {
    let words = word_indices(pieces);
    if words.len() < 3 {
        return false;
    }
    for pair in words.windows(2) {
        let (a, b) = (word(pieces, pair[0]), word(pieces, pair[1]));
        if a == REGION && REGIONS.contains(&b) {
            core.regions.push(format!("{a} {b}"));
            remove_word(pieces, pair[1]);
            remove_word(pieces, pair[0]);
            return true;
        }
    }
    false
}

/// (e) `tân` right before the name; `mới` right before or after it, apart or joined.
fn strip_tan_moi(pieces: &mut Vec<Piece>, core: &mut Core) -> bool {
    let words = word_indices(pieces);
    let (Some(&first), Some(&last)) = (words.first(), words.last()) else { return false };
    if words.len() >= 2 {
        for (i, word_text, side) in [(first, TAN, "tân …"), (first, MOI, "mới …"), (last, MOI, "… mới")] {
            if word(pieces, i) == word_text {
                core.tan_moi.push(side);
                remove_word(pieces, i);
                return true;
            }
        }
    }
    let moi = MOI.chars().count();
    if let Piece::Word(w) = &mut pieces[first] {
        if w.read.len() > MOI.len() && w.read.starts_with(MOI) {
            w.drop_chars(moi, true);
            core.tan_moi.push("mới …");
            return true;
        }
    }
    if let Piece::Word(w) = &mut pieces[last] {
        if w.read.len() > MOI.len() && w.read.ends_with(MOI) {
            w.drop_chars(moi, false);
            core.tan_moi.push("… mới");
            return true;
        }
    }
    false
}

/// (d)–(g) for two proper names that are not the same: when their cores are equal, the rules
/// whose elements differ. Elements that appear on both sides in other places (`Miền Nam ABC` /
/// `ABC miền Nam`) count for their rule; names that differ only in spacing count as (đ).
fn similar_proper_names(a: &Core, b: &Core) -> Vec<NameRule> {
    if a.key != b.key {
        return Vec::new();
    }
    let parts = [
        (NameRule::NumberOrLetter, a.numbers != b.numbers, a.numbers.len() + b.numbers.len()),
        (NameRule::Conjunction, a.separators != b.separators, 0),
        (NameRule::TanMoi, a.tan_moi != b.tan_moi, a.tan_moi.len() + b.tan_moi.len()),
        (NameRule::Region, a.regions != b.regions, a.regions.len() + b.regions.len()),
    ];
    let differing: Vec<NameRule> = parts.iter().filter(|p| p.1).map(|p| p.0).collect();
    if !differing.is_empty() {
        return differing;
    }
    let present: Vec<NameRule> = parts.iter().filter(|p| p.2 > 0).map(|p| p.0).collect();
    if !present.is_empty() {
        return present;
    }
    vec![NameRule::Conjunction]
}

/// One ground of a conflict, as answered to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RuleView {
    /// `identical` (art. 41.1) or the letter of art. 41.2: `a`, `b`, `c`, `d`, `đ`, `e`, `g`, `h`.
    #[serde(serialize_with = "serialize_ground")]
    #[schema(value_type = String)]
    pub rule: NameRule,
    /// `name_identical` or `name_confusing`.
    pub code: &'static str,
    pub description: &'static str,
}

/// A rule as clients read it: `identical`, or its letter of art. 41.2.
fn serialize_ground<S: serde::Serializer>(rule: &NameRule, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match rule {
        NameRule::Identical => "identical",
        other => other.letter(),
    })
}

/// A registered enterprise whose name the candidate may not take, with every ground.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Conflict {
    pub code: String,
    pub name: String,
    #[schema(value_type = String)]
    pub status: Status,
    pub rules: Vec<RuleView>,
}

/// Judges the candidate against the registered names the store found by key, each with its
/// enterprise's status: the conflicts, in the order of their most serious ground.
pub fn judge(candidate: &NameCandidate, registered: &[(RegisteredName, Status)]) -> Vec<Conflict> {
    let mut out: Vec<(NameRule, Conflict)> = registered
        .iter()
        .filter_map(|(r, status)| {
            let rules = conflicts(candidate, r);
            let first = *rules.first()?;
            let views = rules
                .into_iter()
                .map(|rule| RuleView { rule, code: rule.code(), description: rule.describe() })
                .collect();
            let conflict =
                Conflict { code: r.code.to_string(), name: r.full_name.to_string(), status: *status, rules: views };
            Some((first, conflict))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.code.cmp(&b.1.code)));
    out.into_iter().map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::NameRule::*;
    use super::*;

    /// A name in the tests: type prefix and proper name, optional abbreviation and foreign name.
    #[derive(Debug, Clone, Copy)]
    struct N {
        prefix: &'static str,
        proper: &'static str,
        abbreviation: Option<&'static str>,
        foreign: Option<&'static str>,
    }

    const fn n(prefix: &'static str, proper: &'static str) -> N {
        N { prefix, proper, abbreviation: None, foreign: None }
    }

    const fn llc(proper: &'static str) -> N {
        n("Công ty TNHH", proper)
    }

    impl N {
        fn full(&self) -> String {
            format!("{} {}", self.prefix, self.proper)
        }
    }

    const REGISTERED_CODE: &str = "0101234567";

    impl N {
        /// The type named in the name's prefix (art. 37.1); LLCs written with `MTV` are single-member.
        fn kind(&self) -> EnterpriseType {
            let prefix = exact(self.prefix);
            if prefix.contains("mtv") || prefix.contains("một thành viên") {
                EnterpriseType::LlcSingle
            } else if prefix.starts_with("công ty tnhh") || prefix.starts_with("công ty trách nhiệm") {
                EnterpriseType::LlcMulti
            } else if prefix.starts_with("công ty cổ phần") || prefix.starts_with("công ty cp") {
                EnterpriseType::Jsc
            } else if prefix.starts_with("công ty hợp danh") || prefix.starts_with("công ty hd") {
                EnterpriseType::Partnership
            } else {
                EnterpriseType::PrivateEnterprise
            }
        }
    }

    fn check_with_owners(candidate: N, registered: N, parent_codes: &[String]) -> Vec<NameRule> {
        let (cf, rf) = (candidate.full(), registered.full());
        conflicts(
            &NameCandidate {
                enterprise_type: candidate.kind(),
                full_name: &cf,
                proper_name: candidate.proper,
                abbreviation: candidate.abbreviation,
                foreign_name: candidate.foreign,
                parent_codes,
            },
            &RegisteredName {
                code: REGISTERED_CODE,
                enterprise_type: registered.kind(),
                full_name: &rf,
                proper_name: registered.proper,
                abbreviation: registered.abbreviation,
                foreign_name: registered.foreign,
            },
        )
    }

    fn check(a: N, b: N) -> Vec<NameRule> {
        check_with_owners(a, b, &[])
    }

    fn keys_of(x: N) -> NameKeys {
        keys(&x.full(), x.proper, x.abbreviation, x.foreign)
    }

    /// Whether the store, looking up `candidate`'s keys, fetches `registered`.
    fn found_by_key(candidate: N, registered: N) -> bool {
        key_found(&keys_of(candidate), &lookup_core_keys(candidate.proper), &keys_of(registered))
    }

    /// [`found_by_key`] for keys already computed: `lookup` is the candidate's core keys.
    fn key_found(a: &NameKeys, lookup: &[String], b: &NameKeys) -> bool {
        a.read_key == b.read_key
            || lookup.contains(&b.core_key)
            || (a.abbreviation_key.is_some() && a.abbreviation_key == b.abbreviation_key)
            || (a.foreign_key.is_some() && a.foreign_key == b.foreign_key)
    }

    /// Asserts the rules both ways round (symmetry) and that the keys would find the pair.
    fn expect(a: N, b: N, rules: &[NameRule]) {
        assert_eq!(check(a, b), rules, "{a:?} vs {b:?}");
        assert_eq!(check(b, a), rules, "{b:?} vs {a:?} (swapped)");
        if !rules.is_empty() {
            assert!(found_by_key(a, b) && found_by_key(b, a), "no key in common: {a:?} vs {b:?}");
        }
    }

    fn none(a: N, b: N) {
        expect(a, b, &[]);
    }

    // --- art. 41.1 ---------------------------------------------------------------------------

    #[test]
    fn identical_after_nfc_case_and_whitespace() {
        let nfd = n("Co\u{0302}ng ty  TNHH", " Hoa\u{0300}ng   Long ");
        expect(llc("Hoàng Long"), nfd, &[Identical, ReadSame, SameProperName]);
        expect(llc("Hoàng Long"), n("CÔNG TY TNHH", "HOÀNG LONG"), &[Identical, ReadSame, SameProperName]);
        assert_eq!(Identical.code(), "name_identical");
        assert_eq!(Identical.letter(), "");
    }

    #[test]
    fn not_identical() {
        none(llc("Hoàng Long"), llc("Hoàng Lâm"));
        none(llc("Hoàng Long"), llc("Hoàng Lâm Phát"));
    }

    // --- (a) read the same -------------------------------------------------------------------

    #[test]
    fn a_tone_placement_and_i_y_read_the_same() {
        let pairs = [
            ("Hoà Bình", "Hòa Bình"),
            ("Thuỷ Tiên", "Thủy Tiên"),
            ("Khoẻ Đẹp", "Khỏe Đẹp"),
            ("Uý Minh", "Úy Minh"),
            ("Phú Quí", "Phú Quý"),
            ("Kĩ Thuật Số", "Kỹ Thuật Số"),
            ("Lí Gia", "Lý Gia"),
            ("Mĩ Phẩm Xanh", "Mỹ Phẩm Xanh"),
            ("Hi Vọng", "Hy Vọng"),
            ("Tí Hon", "Tý Hon"),
            ("Sĩ Lâm", "Sỹ Lâm"),
            ("Thụy Điển", "Thuỵ Điển"),
            ("Khoái Lạc", "Khóai Lạc"),
        ];
        for (x, y) in pairs {
            // Same type: the proper names are also the same as read, so (h) holds too.
            expect(llc(x), llc(y), &[ReadSame, SameProperName]);
            // A subsidiary is still refused under (a).
            let owners = [REGISTERED_CODE.to_string()];
            assert_eq!(check_with_owners(llc(x), llc(y), &owners), [ReadSame], "{x} / {y}");
        }
    }

    #[test]
    fn a_short_and_long_type_spellings_read_the_same() {
        let long = n("Công ty trách nhiệm hữu hạn", "Hoàng Long");
        expect(llc("Hoàng Long"), long, &[ReadSame, SameProperName]);
        expect(
            n("Công ty TNHH MTV", "Hoàng Long"),
            n("Công ty trách nhiệm hữu hạn một thành viên", "Hoàng Long"),
            &[ReadSame, SameProperName],
        );
        expect(n("DNTN", "Phú Quý"), n("Doanh nghiệp tư nhân", "Phú Quí"), &[ReadSame, SameProperName]);
        expect(n("Công ty CP", "Sữa Việt"), n("Công ty cổ phần", "Sữa Việt"), &[ReadSame, SameProperName]);
    }

    #[test]
    fn a_tone_differences_are_not_read_the_same() {
        expect(llc("Thành Đạt"), llc("Thạnh Đạt"), &[]);
        expect(llc("Hoàng Long"), llc("Hoáng Long"), &[]);
        expect(llc("Hòa Bình"), llc("Hóa Bình"), &[]);
    }

    #[test]
    fn a_different_letters_are_not_read_the_same() {
        none(llc("Đường Việt"), llc("Dương Việt"));
        none(llc("Đường"), llc("Dương"));
        none(llc("Đông Á"), llc("Dông Á"));
        // `ai`/`ay` and `uy`/`ui` are different vowels.
        none(llc("Tai Xanh"), llc("Tay Xanh"));
        none(llc("Thuy An"), llc("Thui An"));
        none(llc("Duy Tân"), llc("Dui Tân"));
        // Joined syllables are not respelt, so the tone cannot move between them.
        none(llc("Hoàlong"), llc("Hoalòng"));
        // Foreign-looking onsets keep their `y`.
        none(llc("Sky"), llc("Ski"));
    }

    // --- (b) abbreviation --------------------------------------------------------------------

    #[test]
    fn b_same_abbreviation() {
        let a = N { abbreviation: Some("HOANG LONG CO., LTD"), ..llc("Hoàng Long Phát") };
        let b = N { abbreviation: Some("hoang long co.,ltd"), ..n("Công ty cổ phần", "Vận tải Sao Mai") };
        expect(a, b, &[Abbreviation]);
        // Not a ground (d)–(h), so it applies to a subsidiary too.
        let owners = [REGISTERED_CODE.to_string()];
        assert_eq!(check_with_owners(a, b, &owners), [Abbreviation]);
    }

    #[test]
    fn b_different_or_missing_abbreviation() {
        let a = N { abbreviation: Some("HL CO., LTD"), ..llc("Hoàng Long Phát") };
        let b = N { abbreviation: Some("HLP CO., LTD"), ..llc("Sao Mai") };
        none(a, b);
        none(N { abbreviation: None, ..a }, N { abbreviation: None, ..b });
        none(N { abbreviation: Some(" "), ..a }, N { abbreviation: Some(". "), ..b });
    }

    // --- (c) foreign-language name -----------------------------------------------------------

    #[test]
    fn c_same_foreign_name() {
        let a = N { foreign: Some("Hoang Long Trading Company Limited"), ..llc("Hoàng Long Phát") };
        let b = N { foreign: Some("HOANG LONG  TRADING COMPANY LIMITED"), ..n("Công ty cổ phần", "Sao Mai") };
        expect(a, b, &[ForeignName]);
    }

    #[test]
    fn c_different_foreign_name() {
        let a = N { foreign: Some("Hoang Long Trading Company Limited"), ..llc("Hoàng Long Phát") };
        let b = N { foreign: Some("Hoang Long Transport Company Limited"), ..llc("Sao Mai") };
        none(a, b);
    }

    // --- (d) number, ordinal, letter ---------------------------------------------------------

    #[test]
    fn d_number_ordinal_or_letter_after_the_name() {
        let base = llc("Hoàng Long");
        for other in [
            "Hoàng Long 2",
            "Hoàng Long 1",
            "Hoàng Long 2025",
            "Hoàng Long2",
            "Hoàng Long thứ nhất",
            "Hoàng Long Thứ Hai",
            "Hoàng Long thứ mười một",
            "Hoàng Long thứ 3",
            "Hoàng Long A",
            "Hoàng Long Đ",
            "Hoàng Long Ư",
            "Hoàng Long F",
            "Hoàng Long II",
            "Hoàng Long IV",
            "Hoàng Long VI",
            "Hoàng Long XII",
            "Hoàng LongA",
            "Hoàng LongĐ",
            "Hoàng LongII",
        ] {
            expect(base, llc(other), &[NumberOrLetter]);
        }
        // The law's own list: `Long 2`, `Long2`, `Long II`, `Long A`, `LongA` each differ from
        // `Long` only by (d), and from each other.
        let forms = ["Long 2", "Long2", "Long II", "Long A", "LongA"];
        for x in forms {
            expect(llc("Long"), llc(x), &[NumberOrLetter]);
        }
        expect(llc("Long II"), llc("Long 2"), &[NumberOrLetter]);
        expect(llc("Long A"), llc("LongA"), &[NumberOrLetter]);
        // Joined to the name and to the letter: a space less is (đ) as well.
        expect(base, llc("HoàngLongA"), &[NumberOrLetter, Conjunction]);
        // Two numbered names share the core as well.
        expect(llc("Hoàng Long 2"), llc("Hoàng Long 3"), &[NumberOrLetter]);
        expect(llc("Hoàng Long 2"), llc("Hoàng Long2"), &[NumberOrLetter]);
        // A proper name that is only a number keeps it: `365` / `365 2`.
        expect(llc("365"), llc("365 2"), &[NumberOrLetter]);
    }

    #[test]
    fn d_not_only_a_number_or_letter() {
        none(llc("Hoàng Long"), llc("Hoàng Long Anh"));
        none(llc("Hoàng Long"), llc("2 Hoàng Long"));
        none(llc("Hoàng Long"), llc("Hoàng Long Hai"));
        none(llc("Hoàng Long"), llc("Hoàng Long À"));
        // Names that are only a number, or only letters, are not reduced to nothing.
        none(llc("365"), llc("366"));
        none(llc("A B C"), llc("A B D"));
        none(llc("Thứ Hai"), llc("Thứ Ba"));
        // Not a number or letter after the name, but another word.
        none(llc("Hoàng Long"), llc("Hoàng Lo"));
        none(llc("Hoàng Long"), llc("Hoàng Longa"));
        none(llc("Hoàng Long"), llc("Hoàng LONGA"));
        none(llc("Hoàng Long"), llc("Hoàng Long Anh"));
        none(llc("PetroVN"), llc("Petro"));
    }

    /// A Roman numeral is written in capitals; the syllable `Vi` (`Minh Vi`) is a word of the
    /// name, and so is `VI` in a name written all in capitals, where case says nothing.
    #[test]
    fn d_roman_numerals_are_told_from_syllables_by_case() {
        expect(llc("Minh"), llc("Minh VI"), &[NumberOrLetter]);
        expect(llc("Minh"), llc("Minh XI"), &[NumberOrLetter]);
        none(llc("Minh"), llc("Minh Vi"));
        none(llc("Minh"), llc("Minh vi"));
        none(llc("Minh"), llc("Minh Xi"));
        none(llc("MINH"), llc("MINH VI"));
        // Capitals that are not a numeral up to XCIX stay words.
        none(llc("Điện Máy"), llc("Điện Máy MIX"));
        none(llc("Điện Máy"), llc("Điện Máy IIII"));
        // `Minh VI` and `Minh Vi` are the same proper name (case does not count for (h)), and
        // the store finds the pair although their core keys differ.
        assert_ne!(keys_of(llc("Minh VI")).core_key, keys_of(llc("Minh Vi")).core_key);
        expect(llc("Minh VI"), n("Công ty cổ phần", "Minh Vi"), &[SameProperName]);
        expect(llc("LongA"), n("Công ty cổ phần", "Longa"), &[SameProperName]);
        expect(llc("Hoàng Long II miền Nam"), n("Công ty cổ phần", "Hoàng Long Ii miền Nam"), &[SameProperName]);
    }

    // --- (đ) &, và, punctuation --------------------------------------------------------------

    #[test]
    fn dd_conjunction_and_punctuation() {
        let forms = [
            "Hoàng & Long",
            "Hoàng và Long",
            "Hoàng Long",
            "Hoàng-Long",
            "Hoàng_Long",
            "Hoàng.Long",
            "Hoàng, Long",
            "Hoàng+Long",
            "HoàngLong",
            "Hoàng - Long",
        ];
        for (i, x) in forms.iter().enumerate() {
            for y in &forms[i + 1..] {
                expect(llc(x), llc(y), &[Conjunction]);
            }
        }
        expect(llc("A.B.C"), llc("ABC"), &[Conjunction]);
        expect(llc("Hoàng Long."), llc("Hoàng Long"), &[Conjunction]);
    }

    /// `và` is treated like `&`: written after or before the name it is a difference in those
    /// symbols only.
    #[test]
    fn dd_trailing_or_leading_va() {
        expect(llc("Thương mại Hưng Phát Lộc và"), llc("Thương mại Hưng Phát Lộc"), &[Conjunction]);
        expect(llc("Hưng Phát Lộc &"), llc("Hưng Phát Lộc"), &[Conjunction]);
        expect(llc("Và Hưng Phát Lộc"), llc("Hưng Phát Lộc"), &[Conjunction]);
        expect(llc("Hưng Phát Lộc và"), llc("Hưng Phát Lộc &"), &[Conjunction]);
        // A name that is only `và` keeps it.
        none(llc("Và"), llc("&"));
    }

    #[test]
    fn dd_other_symbols_and_words_count() {
        none(llc("Hoàng/Long"), llc("Hoàng Long"));
        none(llc("Hoàng Long Và Hưng"), llc("Hoàng Long"));
        none(llc("Hoàng hay Long"), llc("Hoàng Long"));
    }

    // --- (e) tân, mới ------------------------------------------------------------------------

    #[test]
    fn e_tan_before_moi_before_or_after() {
        let base = llc("Hoàng Long");
        for other in ["Tân Hoàng Long", "Hoàng Long Mới", "Mới Hoàng Long", "Hoàng LongMới", "MớiHoàng Long"]
        {
            expect(base, llc(other), &[TanMoi]);
        }
        expect(llc("Tân Hoàng Long"), llc("Hoàng Long Mới"), &[TanMoi]);
    }

    #[test]
    fn e_tan_after_or_inside_does_not_count() {
        none(llc("Hoàng Long Tân"), llc("Hoàng Long"));
        none(llc("Hoàng Tân Long"), llc("Hoàng Long"));
        none(llc("Hoàng Mới Long"), llc("Hoàng Long"));
        none(llc("Tân"), llc("Mới"));
    }

    #[test]
    fn empty_proper_names_do_not_conflict_by_themselves() {
        none(n("Công ty TNHH", ""), n("Công ty cổ phần", " "));
    }

    // --- (g) regions -------------------------------------------------------------------------

    #[test]
    fn g_region() {
        let base = llc("Hoàng Long");
        for other in [
            "Hoàng Long miền Bắc",
            "Hoàng Long Miền Nam",
            "Hoàng Long MIỀN TRUNG",
            "Hoàng Long miền Tây",
            "Hoàng Long miền Đông",
            "Miền Nam Hoàng Long",
        ] {
            expect(base, llc(other), &[Region]);
        }
        expect(llc("Hoàng Long miền Nam"), llc("Hoàng Long miền Bắc"), &[Region]);
        expect(llc("Miền Nam Hoàng Long"), llc("Hoàng Long miền Nam"), &[Region]);
    }

    #[test]
    fn g_not_a_region() {
        none(llc("Hoàng Long Bắc"), llc("Hoàng Long"));
        none(llc("Hoàng Long miền Tây Bắc"), llc("Hoàng Long"));
        none(llc("Hoàng Long Miền"), llc("Hoàng Long"));
        // A proper name that is only a region keeps it.
        none(llc("Miền Nam"), llc("Miền Bắc"));
    }

    // --- (h) same proper name ----------------------------------------------------------------

    #[test]
    fn h_same_proper_name_of_another_type() {
        expect(llc("ABC"), n("Công ty cổ phần", "ABC"), &[SameProperName]);
        expect(n("Doanh nghiệp tư nhân", "abc"), n("Công ty hợp danh", " ABC "), &[SameProperName]);
        // Written with another tone placement: still the same proper name.
        expect(llc("Hoà Bình"), n("Công ty cổ phần", "Hòa Bình"), &[SameProperName]);
    }

    #[test]
    fn h_different_proper_name() {
        none(llc("ABC"), n("Công ty cổ phần", "ABD"));
        none(llc("Thành Công"), n("Công ty cổ phần", "Thạnh Công"));
    }

    // --- same type (art. 41.2(d)–(g)) or every type (art. 41.2(a)–(c), (h)) --------------------

    /// (d), (đ), (e) and (g) compare only with an enterprise of the same type, the type named in
    /// the name (art. 37.1): a JSC's name beside an LLC's is not confusing for them.
    #[test]
    fn d_to_g_compare_only_with_the_same_type() {
        let jsc = n("Công ty cổ phần", "Hoàng Long");
        for other in
            ["Hoàng Long 2", "Hoàng LongA", "Hoàng Long II", "Hoàng-Long", "Tân Hoàng Long", "Hoàng Long miền Bắc"]
        {
            none(llc(other), jsc);
            none(n("Doanh nghiệp tư nhân", other), jsc);
            none(n("Công ty hợp danh", other), jsc);
            assert!(!check(llc(other), llc("Hoàng Long")).is_empty(), "{other}");
        }
        expect(llc("Hoàng Long 2"), n("Công ty TNHH", "Hoàng Long"), &[NumberOrLetter]);
    }

    /// `llc_single` and `llc_multi` are one type: both are named "Công ty TNHH".
    #[test]
    fn both_llcs_are_one_type() {
        let single = n("Công ty TNHH MTV", "Hoàng Long");
        expect(single, llc("Hoàng Long 2"), &[NumberOrLetter]);
        expect(n("Công ty trách nhiệm hữu hạn một thành viên", "Tân Hoàng Long"), llc("Hoàng Long"), &[TanMoi]);
        assert_eq!(named_type(EnterpriseType::LlcSingle), named_type(EnterpriseType::LlcMulti));
        assert_ne!(named_type(EnterpriseType::Jsc), named_type(EnterpriseType::LlcMulti));
    }

    /// (a), (b), (c) and (h) compare with every type.
    #[test]
    fn a_b_c_h_compare_with_every_type() {
        let jsc =
            N { abbreviation: Some("HL"), foreign: Some("Hoang Long JSC"), ..n("Công ty cổ phần", "Hoàng Long") };
        expect(llc("Hoàng Long"), jsc, &[SameProperName]);
        expect(N { abbreviation: Some("H.L."), ..llc("Sao Mai") }, jsc, &[Abbreviation]);
        expect(N { foreign: Some("HOANG LONG JSC"), ..llc("Sao Mai") }, jsc, &[ForeignName]);
        expect(n("Công ty CP", "Hoà Bình"), n("Công ty cổ phần", "Hòa Bình"), &[ReadSame, SameProperName]);
    }

    // --- combinations, subsidiaries ----------------------------------------------------------

    #[test]
    fn several_differences_report_each_rule() {
        expect(llc("Tân Hoàng Long 2"), llc("Hoàng Long"), &[NumberOrLetter, TanMoi]);
        expect(llc("Hoàng & Long miền Bắc"), llc("Hoàng Long"), &[Conjunction, Region]);
        let a = N { abbreviation: Some("HL"), ..llc("Hoàng Long 2") };
        let b = N { abbreviation: Some("H.L."), ..llc("Hoàng Long") };
        expect(a, b, &[Abbreviation, NumberOrLetter]);
    }

    #[test]
    fn subsidiary_exception_d_to_h() {
        let owners = vec!["0109999999".to_string(), REGISTERED_CODE.to_string()];
        let parent = n("Công ty TNHH MTV", "Hoàng Long");
        for (child, unrelated) in [
            (llc("Hoàng Long"), [SameProperName]),
            (llc("Hoàng Long 2"), [NumberOrLetter]),
            (llc("Hoàng-Long"), [Conjunction]),
            (llc("Tân Hoàng Long"), [TanMoi]),
            (llc("Hoàng Long miền Bắc"), [Region]),
        ] {
            assert_eq!(check_with_owners(child, parent, &owners), [], "{child:?}");
            assert_eq!(check_with_owners(child, parent, &[]), unrelated, "{child:?}");
            // Another owner's code changes nothing.
            assert_eq!(check_with_owners(child, parent, &owners[..1]), unrelated, "{child:?}");
        }
        // Identical and (a) still apply.
        let same = n("Công ty TNHH MTV", "Hoàng Long");
        assert_eq!(check_with_owners(same, parent, &owners), [Identical, ReadSame]);
    }

    /// The parent is an owner holding more than half of the charter capital; exactly half is not.
    #[test]
    fn parents_hold_more_than_half() {
        let owners = [("0101234567", 51), ("0109999999", 49)];
        assert_eq!(parent_codes(owners, 100), ["0101234567"]);
        assert!(parent_codes([("0101234567", 50), ("0109999999", 50)], 100).is_empty());
        assert_eq!(parent_codes([(" 0101234567 ", 3_000_000_001)], 6_000_000_000), ["0101234567"]);
        assert_eq!(parent_codes([("0101234567", i64::MAX)], i64::MAX), ["0101234567"]);
        assert!(parent_codes([("0101234567", i64::MAX / 2)], i64::MAX).is_empty());
    }

    // --- properties --------------------------------------------------------------------------

    fn example_names() -> Vec<N> {
        let mut names = vec![
            llc("Hoàng Long"),
            n("Công ty cổ phần", "Hoàng Long"),
            n("Công ty trách nhiệm hữu hạn", "Hoàng Long"),
            n("Co\u{0302}ng ty  TNHH", " Hoa\u{0300}ng   Long "),
            n("Công ty TNHH MTV", "Hoàng Long"),
            n("DNTN", "Phú Quý"),
            n("Doanh nghiệp tư nhân", "Phú Quí"),
            n("Doanh nghiệp TN", "Phú Quý 2"),
            N { abbreviation: Some("HL CO., LTD"), foreign: Some("Hoang Long Co., Ltd"), ..llc("Hoàng Long Phát") },
            N { abbreviation: Some("hl co ltd"), ..llc("Sao Mai") },
            N { foreign: Some("HOANG LONG CO., LTD"), ..llc("Sao Việt") },
        ];
        for proper in [
            "Hoàng Long 2",
            "Hoàng Long2",
            "Hoàng Long thứ hai",
            "Hoàng Long A",
            "Hoàng Long Đ",
            "Hoàng & Long",
            "Hoàng và Long",
            "Hoàng-Long",
            "HoàngLong",
            "Tân Hoàng Long",
            "Hoàng Long Mới",
            "Mới Hoàng Long",
            "Hoàng LongMới",
            "Hoàng Long miền Bắc",
            "Miền Nam Hoàng Long",
            "Tân Hoàng Long 2",
            "Hoà Bình",
            "Hòa Bình",
            "Thuỷ Tiên",
            "Thủy Tiên",
            "Kĩ Thuật",
            "Kỹ Thuật",
            "Thành Đạt",
            "Thạnh Đạt",
            "Đường Việt",
            "Dương Việt",
            "365",
            "365 2",
            "366",
            "A B C",
            "A B D",
            "Tân",
            "Mới",
            "Miền Nam",
            "Thứ Hai",
            "Tân A",
            "A",
            "&",
            "+",
            "Mới 2",
            "G7",
            "G",
            "Hoàng Long 2 3",
            "ABC",
            "A.B.C",
            "Sky",
            "Ski",
            "Tai",
            "Tay",
            "Quý",
            "Quí",
            "Hoàng Long II",
            "Hoàng Long Ii",
            "Hoàng LongA",
            "Hoàng Longa",
            "Hoàng LONGA",
            "Minh VI",
            "Minh Vi",
            "Minh",
            "Hưng Phát Lộc và",
            "Và Hưng Phát Lộc",
            "Hưng Phát Lộc",
            "LongII 2",
            "Longii 2",
        ] {
            names.push(llc(proper));
            names.push(n("Công ty cổ phần", proper));
        }
        names
    }

    #[test]
    fn every_conflict_is_found_by_a_key() {
        let names = example_names();
        let keys: Vec<NameKeys> = names.iter().map(|x| keys_of(*x)).collect();
        let lookups: Vec<Vec<String>> = names.iter().map(|x| lookup_core_keys(x.proper)).collect();
        for (i, a) in names.iter().enumerate() {
            for (j, b) in names.iter().enumerate() {
                if !check(*a, *b).is_empty() {
                    assert!(key_found(&keys[i], &lookups[i], &keys[j]), "no key in common: {a:?} vs {b:?}");
                }
            }
        }
    }

    #[test]
    fn conflicts_are_symmetric_without_owners() {
        let names = example_names();
        for a in &names {
            for b in &names {
                assert_eq!(check(*a, *b), check(*b, *a), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn normalising_is_idempotent() {
        for x in example_names() {
            let full = x.full();
            for f in [exact, read_norm, read_key] {
                let once = f(&full);
                assert_eq!(f(&once), once, "{full}");
                let proper = f(x.proper);
                assert_eq!(f(&proper), proper, "{}", x.proper);
            }
            let k = keys_of(x);
            assert_eq!(
                keys(&k.read_key, &k.core_key, k.abbreviation_key.as_deref(), k.foreign_key.as_deref()).read_key,
                k.read_key
            );
            assert_eq!(Core::of(&k.core_key).key, k.core_key, "{}", x.proper);
            assert_eq!(k.abbreviation_key.as_deref().and_then(abbreviation_key), k.abbreviation_key);
            assert_eq!(k.foreign_key.as_deref().and_then(foreign_key), k.foreign_key);
        }
    }

    /// A combining mark after a separator composes with the letter before the separator once the
    /// separator is dropped: the core key is NFC again, so it is its own key and `D+◌̣` conflicts
    /// with `Ḍ` under (đ).
    #[test]
    fn core_keys_are_nfc_after_separators_are_dropped() {
        let k = keys("", "D+\u{323}", None, None);
        assert_eq!(k.core_key, "\u{1e0d}");
        assert_eq!(keys("", &k.core_key, None, None).core_key, k.core_key);
        expect(llc("D+\u{323}"), llc("\u{1e0c}"), &[Conjunction]);
    }

    /// Two syllables written joined are not respelt as one even where their vowels touch
    /// (`hoàan` is not a syllable with vowels `oaa`), so `Hoà An` / `HoàAn` and `Phú Yên` /
    /// `PhúYên`, which differ only by a space, are found under (đ), and a core key is its own
    /// core key.
    #[test]
    fn names_written_joined_differ_only_by_a_space() {
        expect(llc("Hoà An"), llc("HoàAn"), &[Conjunction]);
        expect(llc("Hoà An"), llc("Hòa-An"), &[Conjunction]);
        expect(llc("Phú Yên"), llc("PhúYên"), &[Conjunction]);
        expect(llc("Hà Anh"), llc("HàAnh"), &[Conjunction]);
        // Tones on other syllables are other names.
        none(llc("Hoà An"), llc("Hoa Àn"));
        none(llc("Hà Anh"), llc("Ha Ành"));
        for proper in ["Uạ aĐ", "Hoà An", "Phú Yên", "Hò Anh", "Người Việt"] {
            let k = keys("", proper, None, None);
            assert_eq!(keys("", &k.core_key, None, None).core_key, k.core_key, "{proper}");
        }
        // Not one syllable: left as written.
        assert_eq!(read_norm("hoàan"), "hoàan");
        assert_eq!(read_norm("Toyota"), "toyota");
    }

    #[test]
    fn keys_never_fold_tones_or_dd() {
        let a = keys("Công ty TNHH Đường Thành", "Đường Thành", None, None);
        let b = keys("Công ty TNHH Dương Thạnh", "Dương Thạnh", None, None);
        assert_ne!(a.read_key, b.read_key);
        assert_ne!(a.core_key, b.core_key);
        assert!(a.read_key.contains('đ') && a.core_key.contains('đ'));
        assert_eq!(keys("x", "Hoàng Long 2", None, None).core_key, "hoànglong");
        assert_eq!(keys("x", "365", None, None).core_key, "365");
        assert_eq!(keys("x", "x", Some(" "), Some("")).abbreviation_key, None);
    }

    #[test]
    fn respelling_examples() {
        for (written, read) in [
            ("Hòa", "hoà"),
            ("hoà", "hoà"),
            ("THỦY", "thuỷ"),
            ("khỏe", "khoẻ"),
            ("úy", "uý"),
            ("Quý", "quí"),
            ("kỹ", "kĩ"),
            ("Lý", "lí"),
            ("Mỹ", "mĩ"),
            ("hy", "hi"),
            ("tai", "tai"),
            ("tay", "tay"),
            ("thuy", "thuy"),
            ("giữ", "giữ"),
            ("quốc", "quốc"),
            ("người", "người"),
            ("khuỷu", "khuỷu"),
            ("Công ty", "công ti"),
            ("Nguyễn", "nguyễn"),
        ] {
            assert_eq!(read_norm(written), read, "{written}");
        }
    }

    #[test]
    fn word_lists_are_in_read_form() {
        let words = [CONJUNCTION, ORDINAL, TAN, MOI, REGION].into_iter().chain(NUMBER_WORDS).chain(REGIONS);
        for w in words {
            assert_eq!(read_norm(w), w);
        }
    }

    #[test]
    fn rule_letters_and_codes() {
        let letters: Vec<&str> = NameRule::ALL.iter().map(|r| r.letter()).collect();
        assert_eq!(letters, ["", "a", "b", "c", "d", "đ", "e", "g", "h"]);
        for rule in NameRule::ALL {
            assert!(rule.describe().starts_with("art. 41."));
            if rule != Identical {
                assert_eq!(rule.code(), "name_confusing");
                assert!(rule.describe().contains(&format!("({})", rule.letter())));
            }
        }
        let mut sorted = NameRule::ALL;
        sorted.sort();
        assert_eq!(sorted, NameRule::ALL);
    }
}
