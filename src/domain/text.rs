//! Text as the register stores it: Unicode NFC, trimmed, inner whitespace collapsed.
//!
//! Clients send names typed on every kind of keyboard; macOS and some web forms produce NFD
//! (a base letter followed by combining marks). Everything the register compares or stores goes
//! through [`normalize`] first, so that `Hoà` typed two ways is one name.

use std::borrow::Cow;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// `input` in NFC: borrowed when it is NFC already (the common case, checked without composing).
pub fn nfc(input: &str) -> Cow<'_, str> {
    match is_nfc_quick(input.chars()) {
        IsNormalized::Yes => Cow::Borrowed(input),
        _ => Cow::Owned(input.nfc().collect()),
    }
}

/// `input` with every run of whitespace (including NBSP, tabs, newlines) one space, trimmed:
/// borrowed when it is so already.
pub fn collapse_whitespace(input: &str) -> Cow<'_, str> {
    let mut previous_space = true; // a leading space is not collapsed
    let tidy = input.chars().all(|c| {
        let ok = if c == ' ' { !previous_space } else { !c.is_whitespace() };
        previous_space = c == ' ';
        ok
    }) && !input.ends_with(' ');
    if tidy {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    for word in input.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

/// NFC, trimmed, every run of whitespace (including NBSP, tabs, newlines) replaced by one space.
pub fn normalize(input: &str) -> String {
    collapse_whitespace(&nfc(input)).into_owned()
}

/// `input` without tones and diacritics, `đ` read as `d`, case kept: `Đức Phát` → `Duc Phat`.
/// Vietnamese text becomes ASCII; NFC or NFD input alike.
pub fn strip_diacritics(input: &str) -> String {
    input
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c => c,
        })
        .collect()
}

/// The first control character of `text` (C0, DEL, C1), if any. After [`normalize`] the
/// whitespace ones (tab, line feeds) are spaces; the others have no place in a name, an address or
/// a reason, and PostgreSQL cannot store U+0000 at all (in text or jsonb): free text that holds
/// one is refused as `invalid_characters`.
pub fn find_control(text: &str) -> Option<char> {
    text.chars().find(|c| c.is_control())
}

/// Lower case after [`normalize`]; used for case-insensitive comparisons of names and prefixes.
pub fn normalize_lower(input: &str) -> String {
    normalize(input).to_lowercase()
}

/// Vietnamese letters with diacritics, lower case (NFC, precomposed). With ASCII letters they
/// make up the alphabet of an enterprise name (art. 38: Vietnamese letters, F, J, Z, W, digits
/// and symbols).
const VIETNAMESE_LETTERS: &str = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ";

/// Whether `c` may appear in a Vietnamese enterprise name (art. 38.1): a Vietnamese or ASCII
/// letter, a digit, a space or a printable ASCII symbol.
pub fn is_name_char(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_control();
    }
    c.to_lowercase().all(|l| VIETNAMESE_LETTERS.contains(l))
}

/// Whether `c` may appear in a foreign-language name (art. 39: a language written in Latin
/// letters): printable ASCII (letters, digits, symbols, space) or a Latin letter with diacritics
/// (`é`, `ü`, `ß`, `ø`, `ł`, Vietnamese `ệ`, `ơ`: the Latin-1 Supplement letters, Latin Extended-A
/// and -B, Latin Extended Additional), so `Société Hoàng Long` and `Müller Việt Nam GmbH` are
/// names; Cyrillic, Greek or Han letters are not.
pub fn is_latin_char(c: char) -> bool {
    match c {
        ' '..='~' => true,
        '\u{00C0}'..='\u{00FF}' => c != '×' && c != '÷',
        '\u{0100}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}' => true,
        _ => false,
    }
}

/// Whether `c` may appear in a person's name: a letter (any script, for foreign nationals),
/// a space, an apostrophe, a hyphen or a dot.
pub fn is_person_name_char(c: char) -> bool {
    c.is_alphabetic() || c == ' ' || c == '\'' || c == '-' || c == '.'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_names_are_latin_letters_with_or_without_diacritics() {
        let latin = |s: &str| s.chars().all(is_latin_char);
        for name in
            ["Hoang Long Phat Transport Co., Ltd", "Société Hoàng Long", "Müller Việt Nam GmbH", "Straße & Søn Łódź"]
        {
            assert!(latin(name), "{name}");
        }
        for name in ["Компания Хоанг Лонг", "黄龙有限公司", "Ελληνική", "A × B", "tab\there"]
        {
            assert!(!latin(name), "{name}");
        }
    }

    #[test]
    fn nfd_becomes_nfc_and_whitespace_collapses() {
        let nfd = "Ho\u{0300}a\u{0300}ng  \t Long\u{00a0}";
        assert_eq!(normalize(nfd), "Hòàng Long");
        assert_eq!(normalize("  Công ty   TNHH\nABC "), "Công ty TNHH ABC");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn normalize_is_idempotent() {
        for s in ["  a  b ", "Thu\u{0309}y", "Đường", "x"] {
            let once = normalize(s);
            assert_eq!(normalize(&once), once);
        }
    }

    /// The composing, splitting form the fast paths stand in for.
    fn normalize_slowly(input: &str) -> String {
        let nfc: String = input.nfc().collect();
        nfc.split(char::is_whitespace).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn fast_paths_give_what_composing_and_splitting_give() {
        for s in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "a  b",
            "a\tb",
            "a\u{00a0}b",
            "a\u{3000}b",
            "Công ty TNHH Vận tải Hoàng Long",
            "Cong ty TNHH Va\u{0323}n ta\u{0309}i",
            "Thu\u{0309}y  ",
            "\nĐường",
            "A\u{0301}",
        ] {
            assert_eq!(normalize(s), normalize_slowly(s), "{s:?}");
        }
        assert!(matches!(nfc("Hoàng"), Cow::Borrowed(_)));
        assert!(matches!(nfc("Hoa\u{0300}ng"), Cow::Owned(ref o) if o == "Hoàng"));
        assert!(matches!(collapse_whitespace("Hoàng Long"), Cow::Borrowed(_)));
        assert_eq!(collapse_whitespace(" Hoàng\u{00a0} Long "), "Hoàng Long");
    }

    #[test]
    fn diacritics_stripped_case_kept() {
        for (typed, stripped) in [
            ("Đức Phát", "Duc Phat"),
            ("XUẤT NHẬP KHẨU đường", "XUAT NHAP KHAU duong"),
            ("Thu\u{0309}y", "Thuy"),
            ("Müller 2", "Muller 2"),
        ] {
            assert_eq!(strip_diacritics(typed), stripped, "{typed:?}");
        }
        assert!(strip_diacritics(VIETNAMESE_LETTERS).is_ascii());
        assert!(strip_diacritics(&VIETNAMESE_LETTERS.to_uppercase()).is_ascii());
    }

    #[test]
    fn name_alphabet() {
        assert!("Công ty TNHH Vận tải Hoàng Long Phát & Co. 2".chars().all(is_name_char));
        assert!("ĐƯỜNG".chars().all(is_name_char));
        assert!(!"公司".chars().all(is_name_char));
        assert!(!"Ñandú".chars().all(is_name_char));
        assert!(!"a\u{0007}".chars().all(is_name_char));
        assert!("Nguyễn Văn An".chars().all(is_person_name_char));
        assert!(!"R2D2".chars().all(is_person_name_char));
    }
}
