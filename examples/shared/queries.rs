//! How people type the names they look for: the query forms of the relevance set and the search
//! benchmark (shared by `examples/relevance_set.rs`, `examples/bench_driver.rs`,
//! `examples/search_bench.rs` and `tests/search_relevance.rs`).
//!
//! Every form is deterministic from the query's index `i` and the name: choices that should be
//! spread evenly (which word, which letter) come from a small hash of `i`, choices that should
//! alternate (the kind of typo, diacritics or not) from the form's turn `i / FORMS.len()`.

use unicode_normalization::UnicodeNormalization;

pub const ABBREVIATIONS: &[(&str, &str)] = &[
    ("Thương mại", "TM"),
    ("Dịch vụ", "DV"),
    ("Xây dựng", "XD"),
    ("Vận tải", "VT"),
    ("Sản xuất", "SX"),
    ("Xuất nhập khẩu", "XNK"),
];

/// The query forms, in the order [`query`] cycles over them. A form that does not apply to a
/// name (no trade word to abbreviate, too few words) falls back to another, named as such.
pub const FORMS: &[&str] = &[
    "unaccented",
    "nfd",
    "upper",
    "reordered",
    "typo",
    "abbreviation",
    "full_name_unaccented",
    "unaccented_reordered",
    "telex",
    "vni",
    "run_together",
    "missing_word",
];

/// The forms SPEC §8 adds (typed with an input method switched off, a typo in any word, words
/// run together or left out); the others are the original relevance set's.
pub const NEW_FORMS: &[&str] = &["typo", "telex", "vni", "run_together", "missing_word"];

/// The forms whose queries carry a typing error of some kind: a search should not answer them
/// with an empty page.
pub const TYPO_FORMS: &[&str] = &["typo", "telex", "vni", "run_together"];

pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| {
            if c == 'đ' {
                'd'
            } else if c == 'Đ' {
                'D'
            } else {
                c
            }
        })
        .collect()
}

/// A small, well-spread hash of a query index and a salt (splitmix64's finaliser).
fn hash(i: usize, salt: u64) -> u64 {
    let mut z = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `hash(i, salt)` reduced to `0..n` (`n > 0`).
fn pick(i: usize, salt: u64, n: usize) -> usize {
    (hash(i, salt) % n as u64) as usize
}

/// The letters typos insert or put in place of another (Vietnamese has no f, j, w, z; keyboards do).
const LETTERS: &[char] =
    &['a', 'b', 'c', 'd', 'e', 'g', 'h', 'i', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'x', 'y'];

/// The kinds of one typo, taken in turn.
const TYPO_KINDS: [&str; 4] = ["insert", "delete", "replace", "swap"];

/// One typo in one of the words of three letters or more of `s` (picked uniformly, short
/// syllables included): a letter inserted, deleted, replaced, or two neighbours swapped
/// (`TYPO_KINDS[kind % 4]`), at a position picked uniformly. The result always differs from `s`
/// once folded (a replaced letter is another letter, not the same one without its diacritics).
/// `None` when no word has three letters.
pub fn typo_in_any_word(i: usize, s: &str, kind: usize) -> Option<String> {
    let mut words: Vec<String> = s.split(' ').map(str::to_string).collect();
    let eligible: Vec<usize> = (0..words.len()).filter(|&w| fold(&words[w]).chars().count() >= 3).collect();
    if eligible.is_empty() {
        return None;
    }
    let w = eligible[pick(i, 1, eligible.len())];
    let mut chars: Vec<char> = words[w].chars().collect();
    let folded_at = |chars: &[char], p: usize| fold(&chars[p].to_string()).to_lowercase();
    // A letter in the word's case at position `p` (upper case at the start of a capitalised word).
    let cased = |c: char, p: usize, chars: &[char]| {
        let upper = chars.get(p).or(chars.last()).is_some_and(|c| c.is_uppercase());
        if upper {
            c.to_ascii_uppercase()
        } else {
            c
        }
    };
    match TYPO_KINDS[kind % 4] {
        "insert" => {
            let p = pick(i, 2, chars.len() + 1);
            let c = LETTERS[pick(i, 3, LETTERS.len())];
            let c = cased(c, p.min(chars.len() - 1), &chars);
            chars.insert(p, c);
        }
        "delete" => {
            let p = pick(i, 2, chars.len());
            chars.remove(p);
        }
        "replace" => {
            let p = pick(i, 2, chars.len());
            let old = folded_at(&chars, p);
            let mut c = LETTERS[pick(i, 3, LETTERS.len())];
            if c.to_string() == old {
                c = LETTERS[(LETTERS.iter().position(|&l| l == c).unwrap() + 1) % LETTERS.len()];
            }
            chars[p] = cased(c, p, &chars);
        }
        _ => {
            // Two neighbours that differ once folded (swapping "oo" changes nothing).
            let start = pick(i, 2, chars.len() - 1);
            let p = (0..chars.len() - 1)
                .map(|k| (start + k) % (chars.len() - 1))
                .find(|&p| folded_at(&chars, p) != folded_at(&chars, p + 1))?;
            let (a, b) = (chars[p], chars[p + 1]);
            // The case stays where it was: "Hoàng" → "Ohàng" reads "oHàng" to no one.
            chars[p] =
                if a.is_uppercase() { b.to_uppercase().next().unwrap() } else { b.to_lowercase().next().unwrap() };
            chars[p + 1] =
                if b.is_uppercase() { a.to_uppercase().next().unwrap() } else { a.to_lowercase().next().unwrap() };
        }
    }
    words[w] = chars.into_iter().collect();
    Some(words.join(" "))
}

/// The Vietnamese input methods, as keys typed with the method switched off.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum InputMethod {
    Telex,
    Vni,
}

/// A letter's parts: its base letter, its vowel or consonant mark, its tone.
struct Letter {
    base: char,
    mark: Option<Mark>,
    tone: Option<Tone>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Circumflex,
    Breve,
    Horn,
    Stroke,
}

#[derive(Clone, Copy)]
enum Tone {
    Acute,
    Grave,
    Hook,
    Tilde,
    Dot,
}

fn letter(c: char) -> Letter {
    match c {
        'đ' => return Letter { base: 'd', mark: Some(Mark::Stroke), tone: None },
        'Đ' => return Letter { base: 'D', mark: Some(Mark::Stroke), tone: None },
        _ => {}
    }
    let mut parts = std::iter::once(c).nfd();
    let base = parts.next().unwrap_or(c);
    let (mut mark, mut tone) = (None, None);
    for m in parts {
        match m {
            '\u{302}' => mark = Some(Mark::Circumflex),
            '\u{306}' => mark = Some(Mark::Breve),
            '\u{31B}' => mark = Some(Mark::Horn),
            '\u{301}' => tone = Some(Tone::Acute),
            '\u{300}' => tone = Some(Tone::Grave),
            '\u{309}' => tone = Some(Tone::Hook),
            '\u{303}' => tone = Some(Tone::Tilde),
            '\u{323}' => tone = Some(Tone::Dot),
            _ => {}
        }
    }
    Letter { base, mark, tone }
}

impl InputMethod {
    /// The keys after a letter for its mark.
    fn mark_key(self, base: char, mark: Mark) -> &'static str {
        match (self, mark) {
            (InputMethod::Telex, Mark::Circumflex) => match base.to_ascii_lowercase() {
                'a' => "a",
                'e' => "e",
                _ => "o",
            },
            (InputMethod::Telex, Mark::Stroke) => "d",
            (InputMethod::Telex, Mark::Breve | Mark::Horn) => "w",
            (InputMethod::Vni, Mark::Circumflex) => "6",
            (InputMethod::Vni, Mark::Horn) => "7",
            (InputMethod::Vni, Mark::Breve) => "8",
            (InputMethod::Vni, Mark::Stroke) => "9",
        }
    }

    fn tone_key(self, tone: Tone) -> char {
        let keys = match self {
            InputMethod::Telex => ['s', 'f', 'r', 'x', 'j'],
            InputMethod::Vni => ['1', '2', '3', '4', '5'],
        };
        keys[tone as usize]
    }

    /// One syllable as its keys: each mark right after its letter (`ươ` as `uow`, or in VNI
    /// `uo7` or `u7o7`, as `short_horn` says), the tone key right after its vowel or at the end
    /// of the word (`tone_at_end`). Letters without marks are typed as they are.
    fn encode_word(self, word: &str, tone_at_end: bool, short_horn: bool) -> String {
        let letters: Vec<Letter> = word.chars().map(letter).collect();
        let mut out = String::new();
        let mut tone = None;
        for (k, l) in letters.iter().enumerate() {
            out.push(l.base);
            // "ươ": one horn key after the pair, when the method's shortcut is used.
            let horn_pair = l.mark == Some(Mark::Horn)
                && l.base.eq_ignore_ascii_case(&'u')
                && letters.get(k + 1).is_some_and(|n| n.mark == Some(Mark::Horn) && n.base.eq_ignore_ascii_case(&'o'));
            let shortcut = horn_pair && (self == InputMethod::Telex || short_horn);
            if let (Some(mark), false) = (l.mark, shortcut) {
                out.push_str(self.mark_key(l.base, mark));
            }
            if let Some(t) = l.tone {
                if tone_at_end {
                    tone = Some(t);
                } else {
                    out.push(self.tone_key(t));
                }
            }
        }
        if let Some(t) = tone {
            out.push(self.tone_key(t));
        }
        out
    }

    /// `text` typed with this input method switched off, word by word: the tone key after the
    /// vowel or at the end of the word, picked per word from `i`.
    pub fn encode(self, i: usize, text: &str) -> String {
        text.split(' ')
            .enumerate()
            .map(|(w, word)| {
                self.encode_word(
                    word,
                    hash(i, 10 + w as u64).is_multiple_of(2),
                    hash(i, 30 + w as u64).is_multiple_of(2),
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Two neighbouring words of `words` written as one (the pair picked uniformly from `i`).
fn run_together(i: usize, words: &[&str]) -> Option<String> {
    if words.len() < 2 {
        return None;
    }
    let p = pick(i, 20, words.len() - 1);
    let mut out: Vec<String> = words[..p].iter().map(|w| w.to_string()).collect();
    out.push(format!("{}{}", words[p], words[p + 1]));
    out.extend(words[p + 2..].iter().map(|w| w.to_string()));
    Some(out.join(" "))
}

/// `words` less one of them (picked uniformly from `i`), for names of three words or more.
fn missing_word(i: usize, words: &[&str]) -> Option<String> {
    if words.len() < 3 {
        return None;
    }
    let p = pick(i, 21, words.len());
    Some(words.iter().enumerate().filter(|(k, _)| *k != p).map(|(_, w)| *w).collect::<Vec<_>>().join(" "))
}

/// The `i`-th query form for an enterprise: `(form, query)`. Forms come in the order of
/// [`FORMS`]; `name` is the full registered name, `proper` its proper name (no legal form).
pub fn query(i: usize, name: &str, proper: &str) -> (&'static str, String) {
    let turn = i / FORMS.len();
    let unaccented = fold(proper).to_lowercase();
    let fallback = || ("unaccented", fold(proper).to_lowercase());
    // Diacritics kept on even turns, folded on odd ones.
    let folded_or_not =
        |text: &str| if turn.is_multiple_of(2) { text.to_lowercase() } else { fold(text).to_lowercase() };
    match FORMS[i % FORMS.len()] {
        "unaccented" => ("unaccented", unaccented),
        "nfd" => ("nfd", proper.nfd().collect::<String>()),
        "upper" => ("upper", proper.to_uppercase()),
        "reordered" => ("reordered", proper.split(' ').rev().collect::<Vec<_>>().join(" ")),
        "typo" => {
            // The kind in turn; diacritics kept or folded every four turns, so both meet every kind.
            let text = if (turn / 4).is_multiple_of(2) { proper.to_string() } else { unaccented.clone() };
            match typo_in_any_word(i, &text, turn) {
                Some(t) => ("typo", t),
                None => fallback(),
            }
        }
        "abbreviation" => {
            let lower = proper.to_lowercase();
            match ABBREVIATIONS.iter().find(|(long, _)| lower.contains(&long.to_lowercase())) {
                Some((long, short)) => ("abbreviation", lower.replacen(&long.to_lowercase(), short, 1)),
                None => ("full_name_unaccented", fold(name).to_lowercase()),
            }
        }
        "full_name_unaccented" => ("full_name_unaccented", fold(name).to_lowercase()),
        "unaccented_reordered" => ("unaccented_reordered", unaccented.split(' ').rev().collect::<Vec<_>>().join(" ")),
        form @ ("telex" | "vni") => {
            if fold(proper) == proper {
                return fallback();
            }
            let method = if form == "telex" { InputMethod::Telex } else { InputMethod::Vni };
            // Lower case on even turns, as registered (`Hoangf Long`) on odd ones.
            let text = if turn.is_multiple_of(2) { proper.to_lowercase() } else { proper.to_string() };
            (form, method.encode(i, &text))
        }
        "run_together" => {
            let text = folded_or_not(proper);
            match run_together(i, &text.split(' ').collect::<Vec<_>>()) {
                Some(q) => ("run_together", q),
                None => fallback(),
            }
        }
        _ => {
            let text = folded_or_not(proper);
            match missing_word(i, &text.split(' ').collect::<Vec<_>>()) {
                Some(q) => ("missing_word", q),
                None => fallback(),
            }
        }
    }
}

/// A name typed whole but for its last letters (two, or fewer when the last word is that short:
/// one letter of it stays), with its diacritics on even `i` and without on odd: what the suggest
/// measure types. `None` for a name with nothing to cut.
pub fn completion_prefix(i: usize, name: &str) -> Option<String> {
    let text = if i.is_multiple_of(2) { name.to_string() } else { fold(name) };
    let chars: Vec<char> = text.chars().collect();
    let last_word = chars.iter().rev().take_while(|c| !c.is_whitespace()).count();
    let cut = 2.min(last_word.saturating_sub(1));
    if cut == 0 {
        return None;
    }
    Some(chars[..chars.len() - cut].iter().collect())
}
