//! Property tests: the parsers of untrusted input never panic and refuse what they do not
//! accept, and the domain's laws hold for every input, not only for the law's examples in the unit
//! tests. Pure: no database, no server; the default case count (256 per property).
//!
//! A failure is shrunk by proptest to a minimal case and saved in
//! `tests/properties.proptest-regressions` (commit that file: the case is replayed first on every
//! run). Each finding also gets a unit test beside its rule in `src/domain`.

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

use registry::api::feed::Cursor as FeedCursor;
use registry::domain::change::{self, apply_change, content_of, merged_content, split_patch};
use registry::domain::code::{check_digit, EnterpriseCode, UnitCode, MAX_SERIAL};
use registry::domain::enterprise_type::{self, EnterpriseType};
use registry::domain::license::LicenseRequest;
use registry::domain::name_check::{
    conflicts, keys, lookup_core_keys, NameCandidate, NameKeys, NameRule, RegisteredName,
};
use registry::domain::record::Enterprise;
use registry::domain::reference::{Reference, VsicEdition};
use registry::domain::registration::RegistrationContent;
use registry::domain::status::{check_transition, Status, TRANSITIONS};
use registry::domain::status_request::StatusRequest;
use registry::domain::verify::{verify, VerifyRequest};
use registry::domain::{text, Role};
use registry_generate::{Generator, GeneratorInput, Ward};
use registry_index::{analyzer, EnterpriseDoc, IndexError, SearchIndex, SearchRequest};

static REFERENCE: LazyLock<Arc<Reference>> = LazyLock::new(registry::domain::reference_data::reference);

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-27T03:00:00Z").unwrap().with_timezone(&Utc)
}

/// Text of every kind: any Unicode, and the characters the parsers look at most.
fn text_input() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9 .\\-]{0,20}",
        "[0-9a-zA-Z .,&+_\\-\t\u{a0}\u{0}\u{300}\u{301}\u{303}\u{309}\u{323}đĐàảãáạ]{0,24}",
        "[ -~]{0,40}",
    ]
}

// =============================================================================================
// Enterprise and unit codes (SPEC §2.1)

fn valid_code() -> impl Strategy<Value = EnterpriseCode> {
    ("[0-9]{2}", 1..=MAX_SERIAL).prop_filter_map("serial skipped (weighted sum ≡ 0 mod 11)", |(prefix, serial)| {
        EnterpriseCode::for_serial(&prefix, serial)
    })
}

/// `code` written with spaces and dots between its digits and whitespace around it, as clients
/// type it (`0100 233 488`, `01.00.233.488`).
fn spelled(digits: &str, separators: &[&'static str], padding: (&str, &str)) -> String {
    let mut out = padding.0.to_string();
    for (i, d) in digits.chars().enumerate() {
        out.push(d);
        out.push_str(separators.get(i).copied().unwrap_or(""));
    }
    out.push_str(padding.1);
    out
}

fn separators(n: usize) -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(select(vec!["", "", "", " ", ".", "  ", ". "]), n)
}

fn padding() -> impl Strategy<Value = (&'static str, &'static str)> {
    (select(vec!["", " ", "\t", "\n "]), select(vec!["", " ", " \n"]))
}

proptest! {
    /// Every serial of every prefix either has a code that parses back to itself, prefix and
    /// serial included, or is skipped because its weighted sum is a multiple of 11.
    #[test]
    fn allocated_codes_round_trip(prefix in "[0-9]{2}", serial in 1..=MAX_SERIAL) {
        let nine: [u8; 9] =
            format!("{prefix}{serial:07}").bytes().map(|b| b - b'0').collect::<Vec<_>>().try_into().unwrap();
        match EnterpriseCode::for_serial(&prefix, serial) {
            Some(code) => {
                let parsed = EnterpriseCode::parse(code.as_str()).unwrap();
                prop_assert_eq!(&parsed, &code);
                prop_assert_eq!(parsed.prefix(), prefix.as_str());
                prop_assert_eq!(parsed.serial(), serial);
                prop_assert_eq!(code.as_str().len(), 10);
                prop_assert_eq!(check_digit(&nine), Some(code.as_str().as_bytes()[9] - b'0'));
                // The allocator never skips a serial that has a code.
                prop_assert_eq!(EnterpriseCode::next_valid(&prefix, serial).map(|(s, _)| s), Some(serial));
            }
            None => {
                prop_assert_eq!(check_digit(&nine), None);
                for c in b'0'..=b'9' {
                    let text = format!("{prefix}{serial:07}{}", c as char);
                    prop_assert!(EnterpriseCode::parse(&text).is_err(), "{} accepted", text);
                }
            }
        }
    }

    /// What the check digit detects. Its weights modulo 11 are 9, 7, 1, 8, 6, 2, 7, 5, 3: none is
    /// 0, so changing any one of the first nine digits changes the remainder `r`; and `r ↦ C` is
    /// one-to-one on 1..=10, so the check digit no longer matches (or `r` becomes 0: no code).
    /// Changing the check digit itself is caught trivially. So every single-digit error, in any
    /// of the ten places, is refused.
    #[test]
    fn every_single_digit_error_is_refused(code in valid_code(), at in 0..10usize, delta in 1..=9u8) {
        let mut digits = code.as_str().as_bytes().to_vec();
        digits[at] = b'0' + (digits[at] - b'0' + delta) % 10;
        let edited = String::from_utf8(digits).unwrap();
        prop_assert!(EnterpriseCode::parse(&edited).is_err(), "{} → {} accepted", code, edited);
    }

    /// Transpositions. Two digits among the first nine swap unnoticed only when their weights are
    /// equal modulo 11: digits 2 and 7 (29 ≡ 7 ≡ 7). A digit swapped with the check digit `C`
    /// changes the sum by `w·(C − d)`; with `C = 10 − r` this lands exactly on `d` again when
    /// `w ≡ 1`, i.e. for digit 3 (23 ≡ 1), and never for the others (checked for every `r`, `d`).
    /// Every other swap of two different digits, adjacent or not, is refused.
    #[test]
    fn transpositions_are_refused_except_two(code in valid_code(), i in 0..10usize, j in 0..10usize) {
        let mut digits = code.as_str().as_bytes().to_vec();
        prop_assume!(i < j && digits[i] != digits[j]);
        digits.swap(i, j);
        let edited = String::from_utf8(digits).unwrap();
        if (i, j) != (1, 6) && (i, j) != (2, 9) {
            prop_assert!(EnterpriseCode::parse(&edited).is_err(), "{} → {} accepted", code, edited);
        }
    }

    /// Every accepted input form (spaces, dots, surrounding whitespace) gives the canonical code.
    #[test]
    fn accepted_forms_give_the_canonical_code(code in valid_code(), seps in separators(10), pad in padding()) {
        let typed = spelled(code.as_str(), &seps, pad);
        prop_assert_eq!(EnterpriseCode::parse(&typed), Ok(code.clone()), "{:?}", typed);
        // An enterprise code is not a unit code: the suffix is missing.
        prop_assert!(UnitCode::parse(&typed).is_err());
    }

    /// Unit codes: `CODE-NNN` (001–999) and `CODE-NNNNN` (locations) round-trip through their
    /// display form and through every accepted spelling.
    #[test]
    fn unit_codes_round_trip(
        code in valid_code(),
        suffix in 1..=999u16,
        location in 1..=99_999u32,
        seps in separators(15),
        hyphen in any::<bool>(),
        pad in padding(),
    ) {
        for unit in [UnitCode::dependent(&code, suffix).unwrap(), UnitCode::location(&code, location).unwrap()] {
            let shown = unit.to_string();
            prop_assert_eq!(UnitCode::parse(&shown), Ok(unit.clone()));
            prop_assert_eq!(unit.enterprise(), &code);
            let (head, tail) = shown.split_once('-').unwrap();
            let typed = format!(
                "{}{}{}",
                spelled(head, &seps[..10], (pad.0, "")),
                if hyphen { "-" } else { "" },
                spelled(tail, &seps[10..], ("", pad.1)),
            );
            prop_assert_eq!(UnitCode::parse(&typed), Ok(unit.clone()), "{:?}", typed);
            // A unit code is not an enterprise code.
            prop_assert!(EnterpriseCode::parse(&shown).is_err());
        }
    }

    /// Any text: no panic; what is accepted is canonical, holds exactly the digits typed, and
    /// parses again to itself.
    #[test]
    fn code_parsers_never_panic(input in text_input()) {
        let typed_digits: String = input.chars().filter(char::is_ascii_digit).collect();
        if let Ok(code) = EnterpriseCode::parse(&input) {
            prop_assert_eq!(code.as_str(), typed_digits.as_str());
            prop_assert_eq!(EnterpriseCode::parse(code.as_str()), Ok(code.clone()));
        }
        if let Ok(unit) = UnitCode::parse(&input) {
            prop_assert_eq!(unit.to_string().replace('-', ""), typed_digits);
            prop_assert_eq!(UnitCode::parse(&unit.to_string()), Ok(unit.clone()));
        }
    }
}

/// The limits of the check digit, stated by example: the two transpositions it cannot see.
#[test]
fn check_digit_limits() {
    let swap = |code: &str, i: usize, j: usize| {
        let mut d = code.as_bytes().to_vec();
        d.swap(i, j);
        String::from_utf8(d).unwrap()
    };
    // Digits 2 and 7 weigh the same modulo 11: `0100233488` with them swapped is also valid.
    assert_eq!(swap("0100233488", 1, 6), "0300231488");
    assert!(EnterpriseCode::parse("0300231488").is_ok());
    // Digit 3 weighs 1 modulo 11: swapped with the check digit, the code stays valid whenever the
    // two differ and the new nine digits have a code.
    let code = EnterpriseCode::for_serial("01", 23_348).unwrap();
    assert_eq!(swap(code.as_str(), 2, 9), "0180233480");
    assert!(EnterpriseCode::parse("0180233480").is_ok());
    // Every other single swap of the same code is refused.
    for i in 0..10 {
        for j in i + 1..10 {
            let edited = swap(code.as_str(), i, j);
            if edited != code.as_str() && (i, j) != (1, 6) && (i, j) != (2, 9) {
                assert!(EnterpriseCode::parse(&edited).is_err(), "{edited}");
            }
        }
    }
}

// =============================================================================================
// Text normalisation (NFC, whitespace) and the search analyzer's

proptest! {
    #[test]
    fn normalisation_is_idempotent_and_canonical(input in text_input()) {
        let once = text::normalize(&input);
        prop_assert_eq!(text::normalize(&once), once.clone());
        prop_assert!(unicode_normalization::is_nfc(&once));
        prop_assert_eq!(once.trim(), once.as_str());
        prop_assert!(!once.contains("  "));
        prop_assert!(!once.chars().any(|c| c.is_whitespace() && c != ' '));
        // NFD input is the same text.
        prop_assert_eq!(text::normalize(&input.nfd().collect::<String>()), once.clone());
        let lower = text::normalize_lower(&input);
        prop_assert_eq!(text::normalize_lower(&lower), lower);
    }

    #[test]
    fn search_analyzer_is_idempotent(input in text_input()) {
        let n = analyzer::normalize(&input);
        prop_assert_eq!(analyzer::normalize(&n), n.clone());
        let f = analyzer::fold(&input);
        prop_assert_eq!(analyzer::fold(&f), f.clone());
        prop_assert_eq!(analyzer::fold(&n), f);
        // No panic on any input.
        let _ = analyzer::index_terms(&input, true);
        let _ = analyzer::index_terms(&input, false);
        let _ = analyzer::edge_terms(&input);
        let _ = analyzer::strip_legal_form(&input);
    }
}

// =============================================================================================
// Names: the type prefix (art. 37–38) and art. 41

/// Syllables and words of proper names, chosen to exercise every rule of art. 41: tone
/// placement (`hoà`/`hòa`), `i`/`y` (`quý`/`quí`), tones that differ (`Thành`/`Thạnh`), `đ`,
/// numbers, ordinals, letters, `tân`, `mới`, regions, `và`.
const WORDS: &[&str] = &[
    "Hoàng",
    "Long",
    "Phát",
    "Hoà",
    "Hòa",
    "Bình",
    "Thuỷ",
    "Thủy",
    "Tiên",
    "Quý",
    "Quí",
    "Kỹ",
    "Kĩ",
    "Thuật",
    "Thành",
    "Thạnh",
    "Đạt",
    "Đường",
    "Dương",
    "Việt",
    "Sao",
    "Mai",
    "An",
    "Khoẻ",
    "Khỏe",
    "Tai",
    "Tay",
    "Thuy",
    "Thui",
    "Sky",
    "Ski",
    "Mỹ",
    "Mĩ",
    "Lý",
    "Lí",
    "Giữ",
    "Quốc",
    "Người",
    "Khuỷu",
    "ABC",
    "G7",
    "Hy",
    "Hi",
    "Tân",
    "Mới",
    "Miền",
    "Nam",
    "Bắc",
    "Trung",
    "Tây",
    "Đông",
    "Thứ",
    "Hai",
    "Nhất",
    "A",
    "B",
    "Đ",
    "F",
    "2",
    "3",
    "365",
    "và",
    "Hòa2",
    "MớiAn",
];

const SEPARATORS: &[&str] = &[" ", " ", " ", "  ", "-", " - ", "&", " & ", " và ", ".", ". ", ",", ", ", "+", "_", ""];

const TYPE_SPELLINGS: &[&str] = &[
    "Công ty TNHH",
    "Công ty trách nhiệm hữu hạn",
    "Công ty TNHH MTV",
    "Công ty TNHH một thành viên",
    "Công ty cổ phần",
    "Công ty CP",
    "Công ty hợp danh",
    "Công ty HD",
    "Doanh nghiệp tư nhân",
    "DNTN",
    "Doanh nghiệp TN",
];

/// A proper name as a list of words and the separator after each.
#[derive(Debug, Clone)]
struct Proper(Vec<(&'static str, &'static str)>);

impl Proper {
    fn text(&self) -> String {
        let mut out = String::new();
        for (i, (w, s)) in self.0.iter().enumerate() {
            out.push_str(w);
            if i + 1 < self.0.len() {
                out.push_str(s);
            }
        }
        out
    }
}

fn proper_name() -> impl Strategy<Value = Proper> {
    prop::collection::vec((select(WORDS), select(SEPARATORS)), 1..5).prop_map(Proper)
}

/// What a second applicant changes in a name: the differences art. 41.2 (a), (d)–(g) name, and
/// others that make a different name.
#[derive(Debug, Clone)]
enum Edit {
    Append(&'static str),
    Prepend(&'static str),
    Separator(Index, &'static str),
    Replace(Index, &'static str),
    Remove(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let tails = vec!["2", "3", "2025", "A", "Đ", "F", "thứ hai", "thứ 3", "Mới", "miền Bắc", "miền Nam", "Anh"];
    let heads = vec!["Tân", "Mới", "Miền Nam", "2"];
    prop_oneof![
        select(tails).prop_map(Edit::Append),
        select(heads).prop_map(Edit::Prepend),
        (any::<Index>(), select(SEPARATORS)).prop_map(|(i, s)| Edit::Separator(i, s)),
        (any::<Index>(), select(WORDS)).prop_map(|(i, w)| Edit::Replace(i, w)),
        any::<Index>().prop_map(Edit::Remove),
    ]
}

fn apply_edits(proper: &Proper, edits: &[Edit]) -> Proper {
    let mut words = proper.0.clone();
    for e in edits {
        match e {
            Edit::Append(w) => words.push((w, " ")),
            Edit::Prepend(w) => words.insert(0, (w, " ")),
            Edit::Separator(i, s) => {
                let at = i.index(words.len());
                words[at].1 = s;
            }
            Edit::Replace(i, w) => {
                let at = i.index(words.len());
                words[at].0 = w;
            }
            Edit::Remove(i) if words.len() > 1 => {
                words.remove(i.index(words.len()));
            }
            Edit::Remove(_) => {}
        }
    }
    Proper(words)
}

/// How a name is typed: upper or lower case, NFD, extra whitespace. None of it makes another
/// name (art. 41.1: NFC, case and whitespace are normalised).
#[derive(Debug, Clone, Copy)]
struct Typing {
    case: u8,
    nfd: bool,
    spaces: bool,
}

fn typing() -> impl Strategy<Value = Typing> {
    (0..3u8, any::<bool>(), any::<bool>()).prop_map(|(case, nfd, spaces)| Typing { case, nfd, spaces })
}

fn typed(text: &str, t: Typing) -> String {
    let mut s = match t.case {
        0 => text.to_string(),
        1 => text.to_uppercase(),
        _ => text.to_lowercase(),
    };
    if t.spaces {
        s = format!("  {}\u{a0}", s.replace(' ', " \t "));
    }
    if t.nfd {
        s = s.nfd().collect();
    }
    s
}

#[derive(Debug, Clone)]
struct Name {
    /// The type named in the name's prefix.
    kind: EnterpriseType,
    full: String,
    proper: String,
    abbreviation: Option<String>,
    foreign: Option<String>,
}

impl Name {
    fn new(prefix: &str, proper: &str, abbreviation: Option<&str>, foreign: Option<&str>) -> Name {
        let full = format!("{prefix} {proper}");
        // The type whose prefix the name has; a single-member LLC's spelling is an LLC's too.
        let kind = EnterpriseType::ALL
            .into_iter()
            .find(|t| registry::domain::enterprise_type::proper_name(*t, &full).is_ok())
            .expect("a prefix of TYPE_SPELLINGS");
        Name {
            kind,
            full,
            proper: proper.to_string(),
            abbreviation: abbreviation.map(str::to_string),
            foreign: foreign.map(str::to_string),
        }
    }

    fn typed(&self, t: Typing) -> Name {
        Name {
            kind: self.kind,
            full: typed(&self.full, t),
            proper: typed(&self.proper, t),
            abbreviation: self.abbreviation.as_deref().map(|a| typed(a, t)),
            foreign: self.foreign.as_deref().map(|f| typed(f, t)),
        }
    }

    fn keys(&self) -> NameKeys {
        keys(&self.full, &self.proper, self.abbreviation.as_deref(), self.foreign.as_deref())
    }
}

fn check(candidate: &Name, registered: &Name, parent_codes: &[String]) -> Vec<NameRule> {
    conflicts(
        &NameCandidate {
            enterprise_type: candidate.kind,
            full_name: &candidate.full,
            proper_name: &candidate.proper,
            abbreviation: candidate.abbreviation.as_deref(),
            foreign_name: candidate.foreign.as_deref(),
            parent_codes,
        },
        &RegisteredName {
            code: "0100233488",
            enterprise_type: registered.kind,
            full_name: &registered.full,
            proper_name: &registered.proper,
            abbreviation: registered.abbreviation.as_deref(),
            foreign_name: registered.foreign.as_deref(),
        },
    )
}

/// Whether the store, looking `candidate` up, fetches `registered`: a key equal, or the
/// registered core key among the candidate's [`lookup_core_keys`].
fn found_by_key(candidate: &Name, registered: &Name) -> bool {
    let (a, b) = (candidate.keys(), registered.keys());
    let same = |x: &Option<String>, y: &Option<String>| x.is_some() && x == y;
    a.read_key == b.read_key
        || lookup_core_keys(&candidate.proper).contains(&b.core_key)
        || same(&a.abbreviation_key, &b.abbreviation_key)
        || same(&a.foreign_key, &b.foreign_key)
}

/// Whether the two names' own keys show a conflict: the full name read, the abbreviation or the
/// foreign name equal whatever the types; the core equal between names of one type (art.
/// 41.2(d)–(g): both LLCs are one type); the same proper name as read ((h), any types).
fn keys_show_a_conflict(a: &Name, b: &Name) -> bool {
    let (ka, kb) = (a.keys(), b.keys());
    let same = |x: &Option<String>, y: &Option<String>| x.is_some() && x == y;
    let named = |t: EnterpriseType| if t == EnterpriseType::LlcMulti { EnterpriseType::LlcSingle } else { t };
    let proper_read = |n: &Name| keys(&n.proper, "", None, None).read_key;
    ka.read_key == kb.read_key
        || (ka.core_key == kb.core_key && named(a.kind) == named(b.kind))
        // (h) ignores case, which the core does not (`Long II` / `Long Ii`).
        || (proper_read(a) == proper_read(b) && !proper_read(a).is_empty())
        || same(&ka.abbreviation_key, &kb.abbreviation_key)
        || same(&ka.foreign_key, &kb.foreign_key)
}

fn abbreviation() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(select(vec!["HL CO., LTD", "hl co ltd", "H.L.", "HL", "ABC JSC", "abc-jsc", " "]))
}

fn foreign_name() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(select(vec!["Hoang Long Co., Ltd", "HOANG LONG  CO., LTD", "Hoang Long Co Ltd", "Sao Mai JSC"]))
}

/// A registered name and a second applicant's name made from it by a few edits, each typed in
/// its own way.
fn name_pair() -> impl Strategy<Value = (Name, Name)> {
    (
        (select(TYPE_SPELLINGS), proper_name(), abbreviation(), foreign_name(), typing()),
        (select(TYPE_SPELLINGS), prop::collection::vec(edit(), 0..3), abbreviation(), foreign_name(), typing()),
    )
        .prop_map(|((p1, proper, a1, f1, t1), (p2, edits, a2, f2, t2))| {
            let other = apply_edits(&proper, &edits);
            (Name::new(p1, &proper.text(), a1, f1).typed(t1), Name::new(p2, &other.text(), a2, f2).typed(t2))
        })
}

/// Marks a tone on one vowel of each syllable class (`a` with each of the five tones and none).
const TONES: [&str; 6] = ["", "\u{300}", "\u{301}", "\u{303}", "\u{309}", "\u{323}"];

proptest! {
    /// The store finds art. 41 candidates by key equality, so every conflict must be found by a
    /// key, either way round (otherwise the register would accept a name the law refuses); and
    /// with non-empty proper names, two names whose own keys are equal (the core between names
    /// of one type) always conflict: the keys are exact. Only the core keys of the other ways of
    /// writing the candidate's letters (`Minh VI` for `Minh Vi`) may fetch more.
    #[test]
    fn a_conflict_is_exactly_a_shared_key((a, b) in name_pair()) {
        let rules = check(&a, &b, &[]);
        if !rules.is_empty() {
            prop_assert!(found_by_key(&a, &b) && found_by_key(&b, &a), "{:?} / {:?}: {:?}\n{:?}\n{:?}", a, b, rules, a.keys(), b.keys());
        }
        prop_assert_eq!(!rules.is_empty(), keys_show_a_conflict(&a, &b), "{:?} / {:?}: {:?}\n{:?}\n{:?}", a, b, rules, a.keys(), b.keys());
    }

    /// Without owners, every ground of art. 41 is symmetric: 41.1 and (a)–(c) compare two
    /// normalised values for equality; (d)–(g) say the proper names "differ only by" something,
    /// which does not depend on which name came first; (h) is equality of proper names. Only the
    /// subsidiary exception (last paragraph of 41.2) depends on direction: it looks at the
    /// applicant's owners (see `the_subsidiary_exception_removes_exactly_d_to_h`).
    #[test]
    fn conflicts_are_symmetric_without_owners((a, b) in name_pair()) {
        prop_assert_eq!(check(&a, &b, &[]), check(&b, &a, &[]), "{:?} / {:?}", a, b);
    }

    /// Typing (case, NFD, whitespace) never changes the keys but the core (case tells a Roman
    /// numeral or a letter written joined, art. 41.2(d)), nor the core keys the store looks up,
    /// and a name typed two ways is identical to itself (art. 41.1) and read the same (a).
    #[test]
    fn typing_does_not_make_another_name(
        prefix in select(TYPE_SPELLINGS),
        proper in proper_name(),
        abbreviation in abbreviation(),
        foreign in foreign_name(),
        t1 in typing(),
        t2 in typing(),
    ) {
        let name = Name::new(prefix, &proper.text(), abbreviation, foreign);
        let (x, y) = (name.typed(t1), name.typed(t2));
        let (kx, ky) = (x.keys(), y.keys());
        prop_assert_eq!((&kx.read_key, &kx.abbreviation_key, &kx.foreign_key), (&ky.read_key, &ky.abbreviation_key, &ky.foreign_key));
        let looked_up = |n: &Name| -> std::collections::BTreeSet<String> { lookup_core_keys(&n.proper).into_iter().collect() };
        prop_assert_eq!(looked_up(&x), looked_up(&y));
        let rules = check(&x, &y, &[]);
        prop_assert!(rules.starts_with(&[NameRule::Identical, NameRule::ReadSame]), "{:?}", rules);
    }

    /// Identical names are also read the same; the rules come sorted, most serious first, once.
    #[test]
    fn rules_are_sorted_and_identical_implies_read_same((a, b) in name_pair()) {
        let rules = check(&a, &b, &[]);
        prop_assert!(rules.windows(2).all(|w| w[0] < w[1]), "{:?}", rules);
        if rules.contains(&NameRule::Identical) {
            prop_assert!(rules.contains(&NameRule::ReadSame));
        }
    }

    /// A subsidiary (the registered enterprise is among the applicant's owners) escapes exactly
    /// (d)–(h); 41.1 and (a)–(c) still apply.
    #[test]
    fn the_subsidiary_exception_removes_exactly_d_to_h((a, b) in name_pair()) {
        let unrelated = check(&a, &b, &[]);
        let owners = ["0100233488".to_string()];
        let subsidiary = check(&a, &b, &owners);
        let kept: Vec<NameRule> = unrelated
            .iter()
            .copied()
            .filter(|r| matches!(r, NameRule::Identical | NameRule::ReadSame | NameRule::Abbreviation | NameRule::ForeignName))
            .collect();
        prop_assert_eq!(subsidiary, kept);
    }

    /// The keys are idempotent: keys computed from keys are the same keys (the store may
    /// recompute them from stored values).
    #[test]
    fn name_keys_are_idempotent(full in text_input(), proper in text_input(), abbreviation in text_input(), foreign in text_input()) {
        let k = keys(&full, &proper, Some(&abbreviation), Some(&foreign));
        let again = keys(&k.read_key, &k.core_key, k.abbreviation_key.as_deref(), k.foreign_key.as_deref());
        prop_assert_eq!(&again.read_key, &k.read_key);
        prop_assert_eq!(&again.core_key, &k.core_key);
        prop_assert_eq!(&again.abbreviation_key, &k.abbreviation_key);
        prop_assert_eq!(&again.foreign_key, &k.foreign_key);
        // NFD and spacing never change a key.
        let nfd = |s: &str| -> String { s.nfd().collect() };
        let k2 = keys(&nfd(&full), &nfd(&proper), Some(&nfd(&abbreviation)), Some(&format!(" {} ", nfd(&foreign))));
        prop_assert_eq!(k2, k);
    }

    /// Names that differ only in the tone of one syllable are not read the same (art. 41.2(a):
    /// `Thành` / `Thạnh` are different names); moving a tone within a syllable is.
    #[test]
    fn a_different_tone_is_a_different_name(
        onset in select(vec!["th", "b", "ng", "h", "kh", "m", "đ"]),
        vowel in select(vec!["a", "ă", "â", "e", "ê", "o", "ô", "ơ", "u", "ư"]),
        coda in select(vec!["", "nh", "n", "ng", "c", "t", "m"]),
        tones in (0..6usize, 0..6usize),
        rest in proper_name(),
    ) {
        prop_assume!(tones.0 != tones.1);
        let syllable = |tone: &str| -> String { format!("{onset}{vowel}{tone}{coda}").nfc().collect() };
        let (x, y) = (syllable(TONES[tones.0]), syllable(TONES[tones.1]));
        let a = Name::new("Công ty TNHH", &format!("{x} {}", rest.text()), None, None);
        let b = Name::new("Công ty TNHH", &format!("{y} {}", rest.text()), None, None);
        let rules = check(&a, &b, &[]);
        prop_assert!(!rules.contains(&NameRule::Identical) && !rules.contains(&NameRule::ReadSame), "{} / {}: {:?}", x, y, rules);
        prop_assert_ne!(a.keys().read_key, b.keys().read_key);
    }

    /// Arbitrary text for every name field: no panic, and symmetry holds for anything.
    #[test]
    fn name_checks_never_panic(a in (text_input(), text_input(), text_input()), b in (text_input(), text_input(), text_input())) {
        let kind = EnterpriseType::LlcMulti;
        let x = Name { kind, full: a.0.clone(), proper: a.1, abbreviation: Some(a.2), foreign: Some(a.0) };
        let y = Name { kind, full: b.0.clone(), proper: b.1, abbreviation: Some(b.2), foreign: Some(b.0) };
        prop_assert_eq!(check(&x, &y, &[]), check(&y, &x, &[]), "{:?} / {:?}", x, y);
        let rules = check(&x, &y, &[]);
        if !rules.is_empty() {
            prop_assert!(found_by_key(&x, &y) && found_by_key(&y, &x), "{:?} / {:?}: {:?}", x, y, rules);
        }
    }

    /// The type prefix (art. 38): every spelling of every type's prefix, typed any way, gives
    /// back the proper name; any text gives a proper name that ends the normalised name, or a
    /// refusal, never a panic.
    #[test]
    fn the_proper_name_follows_the_type_prefix(
        kind in select(EnterpriseType::ALL.to_vec()),
        proper in proper_name(),
        t in typing(),
        junk in text_input(),
    ) {
        let prefixes: &[&str] = match kind {
            EnterpriseType::LlcSingle => &["Công ty TNHH", "Công ty trách nhiệm hữu hạn", "Công ty TNHH MTV", "Công ty TNHH một thành viên"],
            EnterpriseType::LlcMulti => &["Công ty TNHH", "Công ty trách nhiệm hữu hạn"],
            EnterpriseType::Jsc => &["Công ty cổ phần", "Công ty CP"],
            EnterpriseType::Partnership => &["Công ty hợp danh", "Công ty HD"],
            EnterpriseType::PrivateEnterprise => &["Doanh nghiệp tư nhân", "DNTN", "Doanh nghiệp TN"],
        };
        for prefix in prefixes {
            let name = typed(&format!("{prefix} {}", proper.text()), t);
            let got = enterprise_type::proper_name(kind, &name);
            prop_assert_eq!(got, Ok(text::normalize(&typed(&proper.text(), t))), "{:?}", name);
        }
        for input in [junk.clone(), format!("{} {junk}", prefixes[0])] {
            if let Ok(p) = enterprise_type::proper_name(kind, &input) {
                prop_assert!(!p.is_empty());
                prop_assert!(text::normalize(&input).ends_with(&p), "{:?} → {:?}", input, p);
            }
        }
    }
}

// =============================================================================================
// Statuses (Decree 168/2025)

fn status_body() -> impl Strategy<Value = Value> {
    let status = prop_oneof![
        select(Status::ALL.map(|s| s.as_str()).to_vec()).prop_map(Value::from),
        text_input().prop_map(Value::from),
        json_value(),
    ];
    let date = prop_oneof![
        (2000..2030i32, 1..13u32, 1..29u32).prop_map(|(y, m, d)| Value::from(format!("{y:04}-{m:02}-{d:02}"))),
        json_value(),
    ];
    (prop::option::of(status), prop::option::of(date.clone()), prop::option::of(json_value()), prop::option::of(date))
        .prop_map(|(status, effective_on, reason, until)| {
            let mut m = Map::new();
            for (k, v) in [("status", status), ("effective_on", effective_on), ("reason", reason), ("until", until)] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            Value::Object(m)
        })
}

proptest! {
    /// Any status request body, from any status, by any role: no panic; an accepted change is in
    /// the transition table and allowed to that role.
    #[test]
    fn status_requests_never_panic(body in status_body(), from in select(Status::ALL.to_vec()), role in select(Role::ALL.to_vec())) {
        let Ok(request) = serde_json::from_value::<StatusRequest>(body) else { return Ok(()) };
        let registered_on = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        let subject = registry::domain::status_request::Subject { unit: false, status: from, until: None, registered_on, scheduled: &[] };
        if let Ok(decision) = request.validate(subject, role, today()) {
            let change = match decision {
                registry::domain::status_request::StatusDecision::Now(c) => c,
                registry::domain::status_request::StatusDecision::Scheduled(c) => {
                    prop_assert!(c.effective_on > today());
                    c
                }
            };
            if change.to == Status::Suspended {
                prop_assert!(registry::domain::working_days::notice_given(today(), change.effective_on, 3));
            }
            prop_assert!(TRANSITIONS.contains(&(from, change.to)));
            prop_assert_eq!(check_transition(from, change.to, role), Ok(()));
            prop_assert!(from != Status::Ceased);
            prop_assert_eq!(change.until.is_some(), change.to == Status::Suspended);
        }
    }

    /// Any licence body (transport ministry): no panic; an accepted licence has a normalised
    /// number and a reason the store can hold.
    #[test]
    fn licence_requests_never_panic(body in licence_body()) {
        let Ok(request) = serde_json::from_value::<LicenseRequest>(body) else { return Ok(()) };
        let reason = request.reason.clone();
        if let Ok(license) = request.validate(today()) {
            prop_assert_eq!(registry::domain::license::normalize_number(&license.number), Some(license.number.clone()));
            prop_assert!(license.expires_on > license.issued_on);
            prop_assert!(reason.is_none_or(|r| text::find_control(&text::normalize(&r)).is_none()));
        }
    }

    /// Any verification body, against a real record and against none: an answer, never a panic.
    #[test]
    fn verifications_never_panic(body in verify_body()) {
        let Ok(request) = serde_json::from_value::<VerifyRequest>(body) else { return Ok(()) };
        let Ok(claims) = request.validate() else { return Ok(()) };
        let record = record_of(&APPENDIX_A, claims.code.as_str()).map_err(TestCaseError::fail)?;
        let _ = verify(&claims, Some(&record));
        let _ = verify(&claims, None);
    }

    #[test]
    fn statuses_parse_only_their_own_names(input in text_input()) {
        match Status::parse(&input) {
            Some(s) => prop_assert_eq!(s.as_str(), input.as_str()),
            None => prop_assert!(Status::ALL.iter().all(|s| s.as_str() != input)),
        }
    }
}

fn object(fields: Vec<(&'static str, Option<Value>)>) -> Value {
    Value::Object(fields.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect())
}

fn date_or_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        (2000..2040i32, 1..13u32, 1..29u32).prop_map(|(y, m, d)| Value::from(format!("{y:04}-{m:02}-{d:02}"))),
        json_value(),
    ]
}

fn licence_body() -> impl Strategy<Value = Value> {
    (
        prop::option::of(prop_oneof!["[A-Za-z0-9 ./-]{0,70}".prop_map(Value::from), json_value()]),
        prop::option::of(prop_oneof![
            select(vec!["road_transport_business", "international_road_transport"]).prop_map(Value::from),
            json_value()
        ]),
        prop::option::of(date_or_json()),
        prop::option::of(date_or_json()),
        prop::option::of(prop_oneof![
            select(vec!["valid", "suspended", "revoked"]).prop_map(Value::from),
            json_value()
        ]),
        prop::option::of(text_input().prop_map(Value::from)),
    )
        .prop_map(|(number, kind, issued_on, expires_on, status, reason)| {
            object(vec![
                ("number", number),
                ("kind", kind),
                ("issued_on", issued_on),
                ("expires_on", expires_on),
                ("status", status),
                ("reason", reason),
            ])
        })
}

fn verify_body() -> impl Strategy<Value = Value> {
    let claim =
        (prop::option::of(text_input().prop_map(Value::from)), prop::option::of(text_input().prop_map(Value::from)))
            .prop_map(|(full_name, identity_number)| {
                object(vec![("full_name", full_name), ("identity_number", identity_number)])
            });
    (
        prop::option::of(prop_oneof![valid_code().prop_map(|c| Value::from(c.to_string())), json_value()]),
        prop::option::of(text_input().prop_map(Value::from)),
        prop::option::of(prop_oneof![claim, json_value()]),
        prop::option::of(prop::collection::vec(prop_oneof!["[0-9]{1,5}", text_input()], 0..4).prop_map(Value::from)),
        prop::option::of(date_or_json()),
    )
        .prop_map(|(code, name, legal_representative, vsic, as_of)| {
            object(vec![
                ("code", code),
                ("name", name),
                ("legal_representative", legal_representative),
                ("vsic", vsic),
                ("as_of", as_of),
            ])
        })
}

// =============================================================================================
// Registrations, records and merge patches

const FIELD_NAMES: &[&str] = &[
    "type",
    "name",
    "vi",
    "en",
    "abbreviation",
    "head_office",
    "street",
    "ward_code",
    "province_code",
    "phone",
    "email",
    "charter_capital_vnd",
    "business_lines",
    "vsic",
    "main",
    "legal_representatives",
    "full_name",
    "position",
    "birth_date",
    "nationality",
    "identity",
    "kind",
    "number",
    "owners",
    "capital_vnd",
    "enterprise_code",
    "foreign_registration_number",
];

/// Any JSON value, with object keys mostly drawn from the API's own field names so that the
/// validators are reached, not only the parser.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        select(vec![0i64, 1, -1, i64::MAX, i64::MIN, 5_000_000_000]).prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        text_input().prop_map(Value::String),
        select(vec![
            "cccd",
            "passport",
            "individual",
            "organisation",
            "VN",
            "llc_multi",
            "jsc",
            "4933",
            "01",
            "00070",
            "1980-04-12",
            "001080012345",
            "0100233488"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(
                (prop_oneof![4 => select(FIELD_NAMES).prop_map(str::to_string), 1 => text_input()], inner),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// SPEC Appendix A, the contract's example registration.
static APPENDIX_A: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(include_str!("common/appendix_a.json")).unwrap());

/// The generator's input over the reference data, built once.
static GENERATOR_INPUT: LazyLock<GeneratorInput> = LazyLock::new(|| {
    let reference = &**REFERENCE;
    GeneratorInput {
        wards: reference
            .all_wards()
            .map(|w| Ward { province_code: w.province_code.clone(), ward_code: w.code.clone() })
            .collect(),
        vsic4: reference.vsic_entries(VsicEdition::Vsic2025).filter(|e| e.level == 4).map(|e| e.code.clone()).collect(),
        organisation_owner_codes: Vec::new(),
    }
});

fn generator(seed: u64, with_organisations: bool) -> Generator {
    let mut input = GENERATOR_INPUT.clone();
    if with_organisations {
        input.organisation_owner_codes =
            (1..40).filter_map(|s| EnterpriseCode::for_serial("79", s)).map(|c| c.to_string()).collect();
    }
    Generator::new(seed, input)
}

/// A valid registration body (SPEC Appendix A's shape) from the generator, sometimes with a
/// foreign organisation owner and a representative with a passport, which the generator does
/// not make.
fn registration_body() -> impl Strategy<Value = Value> {
    (any::<u64>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(seed, orgs, foreign_owner, passport)| {
        let mut body = generator(seed, orgs).next_registration();
        foreignise(&mut body, foreign_owner, passport);
        body
    })
}

fn foreignise(body: &mut Value, foreign_owner: bool, passport: bool) {
    let kind = body["type"].as_str().unwrap_or_default().to_string();
    if foreign_owner && matches!(kind.as_str(), "llc_multi" | "jsc" | "llc_single") {
        let capital = body["owners"][0]["capital_vnd"].clone();
        body["owners"][0] = serde_json::json!({
            "kind": "organisation", "name": "Pacific Holdings Pte. Ltd.", "nationality": "SG",
            "foreign_registration_number": "201912345K", "capital_vnd": capital,
        });
    }
    if passport && matches!(kind.as_str(), "llc_multi" | "jsc" | "llc_single") {
        let rep = &mut body["legal_representatives"][0];
        rep["nationality"] = "JP".into();
        rep["full_name"] = "Tanaka Hiroshi".into();
        rep["identity"] = serde_json::json!({"kind": "passport", "number": "TZ1234567"});
    }
}

fn record_of(body: &Value, code: &str) -> Result<Enterprise, String> {
    let content: RegistrationContent = serde_json::from_value(body.clone()).map_err(|e| e.to_string())?;
    let valid = content.validate_content(&REFERENCE, today()).map_err(|e| format!("{e:?}"))?;
    Ok(valid.into_new_record(code.to_string(), today(), now()))
}

/// Every string in a JSON document, with its path.
fn strings<'a>(value: &'a Value, path: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::String(s) => out.push((path, s)),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| strings(v, format!("{path}[{i}]"), out)),
        Value::Object(m) => m.iter().for_each(|(k, v)| strings(v, format!("{path}.{k}"), out)),
        _ => {}
    }
}

/// Every path of a JSON document, as JSON pointers.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| pointers(v, format!("{at}/{i}"), out)),
        Value::Object(m) => m.iter().for_each(|(k, v)| pointers(v, format!("{at}/{k}"), out)),
        _ => {}
    }
}

/// A valid body with one value replaced (or removed): reaches every check of the validator.
fn mutated_body() -> impl Strategy<Value = Value> {
    (registration_body(), any::<Index>(), prop::option::of(json_value())).prop_map(|(mut body, at, replacement)| {
        let mut paths = Vec::new();
        pointers(&body, String::new(), &mut paths);
        let path = &paths[at.index(paths.len())];
        match (replacement, path.rsplit_once('/')) {
            (Some(v), _) => {
                if let Some(slot) = body.pointer_mut(path) {
                    *slot = v;
                }
            }
            (None, Some((parent, key))) => match body.pointer_mut(parent) {
                Some(Value::Object(m)) => {
                    m.remove(key);
                }
                Some(Value::Array(items)) => {
                    let i: usize = key.parse().unwrap();
                    items.remove(i);
                }
                _ => {}
            },
            (None, None) => body = Value::Null,
        }
        body
    })
}

/// RFC 7396: the merge patch that turns `from` into `to` (when `to` holds no `null`).
fn merge_diff(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = Map::new();
            for k in a.keys().filter(|k| !b.contains_key(*k)) {
                patch.insert(k.clone(), Value::Null);
            }
            for (k, v) in b {
                match a.get(k) {
                    Some(old) if old == v => {}
                    Some(old) => {
                        patch.insert(k.clone(), merge_diff(old, v));
                    }
                    None => {
                        patch.insert(k.clone(), v.clone());
                    }
                }
            }
            Value::Object(patch)
        }
        _ => to.clone(),
    }
}

/// Two valid records of the same type: the second takes some groups of fields from another
/// registration (name; head office; business lines; capital with owners and representatives,
/// which the law ties together).
fn record_pair() -> impl Strategy<Value = (Value, Value)> {
    (any::<u64>(), any::<bool>(), any::<bool>(), any::<bool>(), prop::array::uniform4(any::<bool>())).prop_map(
        |(seed, orgs, foreign_owner, passport, take)| {
            let mut g = generator(seed, orgs);
            let mut a = g.next_registration();
            foreignise(&mut a, foreign_owner, false);
            let mut b = (0..200)
                .map(|_| g.next_registration())
                .find(|b| b["type"] == a["type"])
                .expect("the generator makes every type within 200 bodies");
            foreignise(&mut b, false, passport);
            let mut target = a.clone();
            let groups: [&[&str]; 4] = [
                &["name"],
                &["head_office"],
                &["business_lines"],
                &["charter_capital_vnd", "owners", "legal_representatives"],
            ];
            for (group, take) in groups.iter().zip(take) {
                if take {
                    for field in *group {
                        target[*field] = b[*field].clone();
                    }
                }
            }
            (a, target)
        },
    )
}

proptest! {
    /// Any JSON at all, through the API's body parser and the validator: no panic.
    #[test]
    fn arbitrary_json_never_panics_the_validator(body in json_value()) {
        let bytes = body.to_string();
        if let Ok((content, _)) = registry::api::body::parse::<RegistrationContent>(bytes.as_bytes()) {
            let _ = content.validate_content(&REFERENCE, today());
        }
    }

    /// Arbitrary bytes to the body parser: an answer, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic_the_body_parser(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = registry::api::body::parse::<RegistrationContent>(&bytes);
        let _ = registry::api::body::parse::<StatusRequest>(&bytes);
    }

    /// A valid registration with any one value replaced or removed: no panic; if still accepted,
    /// every text in the record is storable (PostgreSQL refuses U+0000 in text and jsonb) and
    /// normalised.
    #[test]
    fn a_mutated_registration_never_panics_and_is_storable(body in mutated_body()) {
        let Ok(content) = serde_json::from_value::<RegistrationContent>(body) else { return Ok(()) };
        if let Ok(valid) = content.validate_content(&REFERENCE, today()) {
            let record = serde_json::to_value(valid.into_new_record("0100233488".into(), today(), now())).unwrap();
            let mut texts = Vec::new();
            strings(&record, String::new(), &mut texts);
            for (path, s) in texts {
                prop_assert!(!s.chars().any(char::is_control), "{}: {:?} holds a control character", path, s);
                prop_assert_eq!(text::normalize(s), s, "{} is not normalised", path);
            }
        }
    }

    /// Every free-text field of a valid registration set to any text (control characters
    /// included): if the register accepts it, it can store it.
    #[test]
    fn accepted_free_text_is_storable(
        body in registration_body(),
        field in select(vec![
            "/name/vi", "/name/en", "/name/abbreviation", "/head_office/street", "/head_office/phone",
            "/head_office/email", "/legal_representatives/0/full_name", "/legal_representatives/0/position",
            "/legal_representatives/0/identity/number", "/owners/0/name", "/owners/0/foreign_registration_number",
        ]),
        prefix in prop_oneof![Just(String::new()), text_input()],
        inserted in prop_oneof![text_input(), "[\u{0}-\u{1f}\u{7f}-\u{9f}]{1,3}"],
        suffix in prop_oneof![Just(String::new()), text_input()],
    ) {
        let mut body = body;
        foreignise(&mut body, true, true);
        let Some(slot) = body.pointer_mut(field) else { return Ok(()) };
        let old = slot.as_str().unwrap_or_default().to_string();
        *slot = Value::from(format!("{old}{prefix}{inserted}{suffix}"));
        let Ok(content) = serde_json::from_value::<RegistrationContent>(body) else { return Ok(()) };
        if let Ok(valid) = content.validate_content(&REFERENCE, today()) {
            let record = serde_json::to_value(valid.into_new_record("0100233488".into(), today(), now())).unwrap();
            let mut texts = Vec::new();
            strings(&record, String::new(), &mut texts);
            for (path, s) in texts {
                prop_assert!(!s.chars().any(char::is_control), "{}: {:?} holds a control character", path, s);
            }
        }
    }

    /// The generator's bodies are valid, and a record's content (what a merge patch applies to)
    /// validates back to the same record: `content_of` loses nothing.
    #[test]
    fn a_record_content_validates_back_to_the_record(body in registration_body()) {
        let record = record_of(&body, "0100233488").map_err(|e| TestCaseError::fail(format!("generated body refused: {e}\n{body}")))?;
        let again = record_of(&content_of(&record), "0100233488").map_err(TestCaseError::fail)?;
        prop_assert_eq!(again, record);
    }

    /// A merge patch computed between two records, sent as a registration change, reproduces the
    /// target: the content, the changed fields and the count of certificate changes.
    #[test]
    fn a_merge_patch_between_two_records_reproduces_the_target((a, b) in record_pair()) {
        let from = record_of(&a, "0100233488").map_err(TestCaseError::fail)?;
        let to = record_of(&b, "0100233488").map_err(TestCaseError::fail)?;
        let diff = merge_diff(&content_of(&from), &content_of(&to));
        let patch = split_patch(diff.clone()).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(&patch.content, &diff);
        let merged = merged_content(&from, &patch.content);
        prop_assert_eq!(&merged, &content_of(&to));
        let content: RegistrationContent = serde_json::from_value(merged).unwrap();
        let valid = content.validate_content(&REFERENCE, today()).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        match apply_change(&from, valid, now()) {
            None => prop_assert_eq!(content_of(&from), content_of(&to)),
            Some((next, changed)) => {
                prop_assert_eq!(content_of(&next), content_of(&to));
                prop_assert_eq!(&changed, &change::changed_fields(&from, &to));
                prop_assert_eq!(next.version, from.version + 1);
                prop_assert_eq!(next.registration_changes, from.registration_changes + i32::from(change::is_certificate_change(&changed)));
                let fields: BTreeSet<&str> = changed.iter().map(|f| f.split('.').next().unwrap()).collect();
                for f in &fields {
                    prop_assert_ne!(&from_json(&from)[*f], &from_json(&next)[*f], "{} reported changed", f);
                }
            }
        }
    }

    /// Any merge patch on a valid record: no panic on the way to a decision.
    #[test]
    fn any_merge_patch_never_panics(body in registration_body(), patch in json_value()) {
        let record = record_of(&body, "0100233488").map_err(TestCaseError::fail)?;
        if let Ok(p) = split_patch(patch) {
            let merged = merged_content(&record, &p.content);
            if let Ok(content) = serde_json::from_value::<RegistrationContent>(merged) {
                if let Ok(valid) = content.validate_content(&REFERENCE, today()) {
                    let _ = apply_change(&record, valid, now());
                }
            }
        }
    }
}

fn from_json(record: &Enterprise) -> Value {
    serde_json::to_value(record).unwrap()
}

// =============================================================================================
// Cursors: the change feed's and the search index's

proptest! {
    #[test]
    fn feed_cursors_round_trip(position in 0..=i64::MAX) {
        let text = FeedCursor(position).encode();
        prop_assert_eq!(FeedCursor::decode(&text), Some(FeedCursor(position)));
        prop_assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    /// Any text is a cursor this service made (and then it is exactly that cursor's text) or is
    /// refused; an edited cursor is refused.
    #[test]
    fn any_text_is_a_feed_cursor_or_refused(input in text_input(), position in 0..=i64::MAX, at in any::<Index>(), to in "[A-Za-z0-9_-]") {
        if let Some(c) = FeedCursor::decode(&input) {
            prop_assert!(c.0 >= 0);
            prop_assert_eq!(c.encode(), input.trim());
        }
        let text = FeedCursor(position).encode();
        let i = at.index(text.len());
        let edited = format!("{}{}{}", &text[..i], to, &text[i + 1..]);
        if edited != text {
            prop_assert_eq!(FeedCursor::decode(&edited), None, "{} → {}", text, edited);
        }
    }
}

/// A small index: 30 enterprises whose names share words, so that text queries give varied
/// scores and ties.
static INDEX: LazyLock<SearchIndex> = LazyLock::new(|| {
    let index = SearchIndex::in_memory().unwrap();
    let words = ["An Phát", "An Bình", "Phát Đạt", "Hoàng Long", "An Phát Long"];
    for i in 1..=30u32 {
        let code = EnterpriseCode::next_valid("01", i * 7).unwrap().1.to_string();
        let proper = format!("{} {}", words[(i % 5) as usize], i % 4);
        index
            .upsert(&EnterpriseDoc {
                code,
                name: format!("Công ty TNHH {proper}"),
                proper_name: proper,
                province_code: if i % 2 == 0 { "01".into() } else { "79".into() },
                ward_code: "00070".into(),
                status: "active".into(),
                enterprise_type: "llc_multi".into(),
                vsic: vec!["4933".into()],
                registered_on: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
                ..Default::default()
            })
            .unwrap();
    }
    index.commit(1).unwrap();
    index
});

fn search_request() -> impl Strategy<Value = SearchRequest> {
    (select(vec!["", "an", "phát", "an phát", "long", "0100", "cong ty"]), prop::option::of(select(vec!["01", "79"])))
        .prop_map(|(q, province)| SearchRequest {
            q: q.into(),
            province: province.map(Into::into),
            ..Default::default()
        })
}

proptest! {
    /// Following `next_cursor` page by page visits every hit of the one-page answer exactly once,
    /// in the same order.
    #[test]
    fn search_cursors_walk_every_hit_once(req in search_request(), limit in 1..8usize) {
        let all = INDEX.search(&SearchRequest { limit: 100, ..req.clone() }).unwrap();
        let mut walked = Vec::new();
        let mut cursor = None;
        for _ in 0..=all.hits.len() {
            let page = INDEX.search(&SearchRequest { limit, cursor: cursor.clone(), ..req.clone() }).unwrap();
            prop_assert_eq!(page.total, all.total);
            walked.extend(page.hits.into_iter().map(|h| h.code));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        prop_assert!(cursor.is_none(), "the walk did not end");
        let expected: Vec<String> = all.hits.into_iter().map(|h| h.code).collect();
        prop_assert_eq!(walked, expected);
    }

    /// Any text as a search cursor: a page or `InvalidCursor`, never a panic; a cursor of one
    /// query is refused for another; an edited cursor is refused.
    #[test]
    fn any_text_is_a_search_cursor_or_refused(req in search_request(), input in text_input(), at in any::<Index>(), to in "[A-Za-z0-9_-]") {
        match INDEX.search(&SearchRequest { limit: 2, cursor: Some(input.clone()), ..req.clone() }) {
            Ok(_) | Err(IndexError::InvalidCursor(_)) => {}
            Err(e) => prop_assert!(false, "{:?} → {}", input, e),
        }
        let first = INDEX.search(&SearchRequest { limit: 1, ..req.clone() }).unwrap();
        if let Some(next) = first.next_cursor {
            let other = SearchRequest { q: format!("{} x", req.q), limit: 1, cursor: Some(next.clone()), ..req.clone() };
            prop_assert!(matches!(INDEX.search(&other), Err(IndexError::InvalidCursor(_))));
            let i = at.index(next.len());
            let edited = format!("{}{}{}", &next[..i], to, &next[i + 1..]);
            if edited != next {
                let got = INDEX.search(&SearchRequest { limit: 1, cursor: Some(edited.clone()), ..req.clone() });
                prop_assert!(matches!(got, Err(IndexError::InvalidCursor(_))), "{} accepted", edited);
            }
        }
    }
}
