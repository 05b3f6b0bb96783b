//! How Vietnamese is typed: Telex and VNI keystrokes left undecoded when the input method was off, and which letter
//! strings can be Vietnamese syllables.
//!
//! A user whose input method is switched off still types the keys of it: `hoangf` for `hoàng` (Telex), `hoa2ng`
//! (VNI). [`decode_telex`] and [`decode_vni`] turn such a word back into the syllable it stands for, and
//! [`decodings`] gives every reading of a query word. A user who types without spaces gets
//! [`two_syllable_splits`] (`hoanglong` → `hoang long`).
//!
//! # The syllable
//!
//! A syllable is an **onset** (a consonant letter group, or none) and a **rhyme**: an optional glide (`o` before
//! `a ă e`, `u` before `â ê y yê ya ơ`), a **nucleus** (one vowel, or the diphthongs `iê/yê/ia/ya`, `uô/ua`,
//! `ươ/ưa`) and an optional **coda** (`c ch m n ng nh p t`, or the semivowels `i y o u`). Each nucleus takes
//! only some codas ([`NUCLEI`], [`GLIDED`]); the spelling rules then say which onset may precede which rhyme:
//! `k`, `gh`, `ngh` before `i e ê` (and `k` before `y`), `c`, `g`, `ng` elsewhere; `qu` writes the onset with
//! its glide (`qua`, `quyên`, `quốc`); `gi` before a vowel other than `i` (`gia`, `giường`), while `gì`, `gìn`,
//! `giếng` are `g` + an `i` rhyme; `yê` without an onset or after the glide `u`, `iê` after an onset; no glide
//! after `b m p ph v` or after `c k gh ngh gi`. The loan rhymes `oong`/`ooc` (`xoong`, `boong`) are not counted,
//! so that `toong` reads as Telex for `tông`. All of this is rules written here, not a word list: the tables
//! below are the phonotactics of the language, built into the set of syllables once, on first use.
//!
//! # Decoding keystrokes
//!
//! Keys work as in the usual engines (Unikey, bogo):
//!
//! - **Telex**: `aa` `ee` `oo` → `â ê ô`, `aw` `ow` `uw` → `ă ơ ư`, a `w` after `uo` or typed as `uwow` / `uow` /
//!   `uwo` → `ươ` (`thuowng`, `nguwowif`), a lone `w` → `ư` (`nhwng`); `dd` → `đ` (only at the start: a later
//!   `d`, which some engines accept, would turn English `did` into `đi`); tones `s` sắc, `f` huyền, `r` hỏi, `x`
//!   ngã, `j` nặng, right after the vowel (`vieejt`, `hoafng`) or at the end (`vieetj`, `hoangf`); `z` removes a
//!   tone typed before it.
//! - **VNI**: digits `1`–`5` the tones (sắc, huyền, hỏi, ngã, nặng), `6` circumflex, `7` horn, `8` breve, `9`
//!   `đ`, `0` removes the tone; each digit right after its vowel (`vie65t`) or at the end (`vie6t5`, `viet65`).
//! - A vowel-mark key typed after the coda (`tienge`, `duongw`, `viet6`) marks the vowels before the coda.
//!
//! Decisions, so that a search never guesses: the result must be a well-formed syllable
//! ([`is_marked_syllable`]), otherwise the word is left raw (`None`); so are words with no key in them, words
//! that are already a plain syllable (`tan`, `long`), words with other characters (digits in Telex, marks,
//! capitals: callers lower-case first) and words with **two tone keys** (`express`, `class`; an engine would
//! replace or undo the first one, but a word typed that way is far more often English). A tripled key (`aaa`,
//! `ddd`, `uww`) undoes the mark in the engines; here it gives `None`. Short English words that happen to be keys
//! on a syllable do decode (`max` → `mã`, `as` → `á`): [`decodings`] offers readings, the caller still searches
//! the word itself.
//!
//! **Tone placement** follows the register's own names, which use the traditional style (`Hòa`, `Thủy`, `Thùy`,
//! `Biên Hòa`, `Xuân Thủy` in the generator's vocabulary): on the vowel with a mark (`ươ` → on `ơ`: `người`);
//! else on the single vowel; else, with a consonant coda, on the last vowel (`hoàng`, `huỳnh`); else on the
//! middle of three (`ngoài`, `khuỷu`) or the first of two (`hòa`, `thủy`, `khỏe`, `mùa`). Both styles are accepted
//! by [`is_marked_syllable`].

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// Onsets (with `đ`), longest first, so that a word is split at its longest onset (`gia` is `gi` + `a`, `nghe`
/// is `ngh` + `e`).
pub const ONSETS: &[&str] = &[
    "ngh", "ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr", "b", "c", "d", "đ", "g", "h", "k", "l", "m",
    "n", "p", "r", "s", "t", "v", "x", "",
];

/// Nuclei without a glide (with their vowel marks, no tone) and the codas each takes; `""` is an open syllable.
/// The semivowel codas: `i` (`ai`, `ươi`), `y` (`ay`, `ây`), `o` (`ao`, `eo`), `u` (`au`, `âu`, `iêu`, `ươu`).
#[rustfmt::skip]
pub const NUCLEI: &[(&str, &[&str])] = &[
    ("a", &["", "c", "ch", "i", "m", "n", "ng", "nh", "o", "p", "t", "u", "y"]),
    ("ă", &["c", "m", "n", "ng", "p", "t"]),
    ("â", &["c", "m", "n", "ng", "p", "t", "u", "y"]),
    ("e", &["", "c", "m", "n", "ng", "o", "p", "t"]),
    ("ê", &["", "ch", "m", "n", "nh", "p", "t", "u"]),
    ("i", &["", "ch", "m", "n", "nh", "p", "t", "u"]),
    ("y", &[""]),
    ("o", &["", "c", "i", "m", "n", "ng", "p", "t"]),
    ("ô", &["", "c", "i", "m", "n", "ng", "p", "t"]),
    ("ơ", &["", "i", "m", "n", "p", "t"]),
    ("u", &["", "c", "i", "m", "n", "ng", "p", "t"]),
    ("ư", &["", "c", "i", "m", "n", "ng", "t", "u"]),
    // diphthongs: iê, uô, ươ with a coda; ia, ua, ưa open
    ("iê", &["c", "m", "n", "ng", "p", "t", "u"]),
    ("yê", &["m", "n", "ng", "t", "u"]),
    ("ia", &[""]),
    ("uô", &["c", "i", "m", "n", "ng", "t"]),
    ("ua", &[""]),
    ("ươ", &["c", "i", "m", "n", "ng", "p", "t", "u"]),
    ("ưa", &[""]),
];

/// Rhymes that start with a glide (`o` or `u`), written with it, and the codas each takes.
#[rustfmt::skip]
pub const GLIDED: &[(&str, &[&str])] = &[
    ("oa", &["", "c", "ch", "i", "m", "n", "ng", "nh", "t", "y"]),
    ("oă", &["c", "m", "n", "ng", "t"]),
    ("oe", &["", "n", "o", "t"]),
    ("uâ", &["n", "ng", "t", "y"]),
    ("uê", &["", "ch", "n", "nh", "t"]),
    ("uy", &["", "ch", "nh", "t", "u"]),
    ("uyê", &["n", "t"]),
    ("uya", &[""]),
    ("uơ", &[""]),
];

/// Onsets before which the open rhyme `y` is written (`ý`, `Hy`, `Kỳ`, `Lý`, `Mỹ`, `Sỹ`, `tỷ`, `Vy`);
/// elsewhere it is `i`.
const Y_ONSETS: &[&str] = &["", "h", "k", "l", "m", "n", "s", "t", "v"];

/// Onsets that take no glide: the labials, the spellings of /k/ (its glide is written `qu`) and `gh`, `ngh`, `gi`.
const NO_GLIDE: &[&str] = &["b", "m", "p", "ph", "v", "c", "k", "gh", "ngh", "gi"];

/// The syllables, built once from the tables.
struct Syllables {
    /// Marked syllables without tone (`đường` → `đương`) and the length of their onset in characters (the
    /// longest onset that fits).
    marked: HashMap<String, usize>,
    /// Folded syllables (ASCII).
    folded: HashSet<String>,
}

fn syllables() -> &'static Syllables {
    static SYLLABLES: OnceLock<Syllables> = OnceLock::new();
    SYLLABLES.get_or_init(|| {
        let mut rhymes: Vec<(String, bool)> = vec![];
        for (table, glided) in [(NUCLEI, false), (GLIDED, true)] {
            for (nucleus, codas) in table {
                rhymes.extend(codas.iter().map(|coda| (format!("{nucleus}{coda}"), glided)));
            }
        }
        let mut marked = HashMap::new();
        for onset in ONSETS {
            for (rhyme, glided) in &rhymes {
                if *onset == "qu" {
                    // `qu` is the onset /k/ with the glide: `qua` is `oa`, `quân` is `uân`, `quyên` is `uyên`
                    if *glided {
                        marked.entry(format!("qu{}", without_glide(rhyme))).or_insert(2);
                    }
                } else if fits(onset, rhyme, *glided) {
                    marked.entry(format!("{onset}{rhyme}")).or_insert(onset.chars().count());
                }
            }
            if *onset == "qu" {
                // `qu` + `i` is the other spelling of `quy` (`qui`, `quít`), and `quốc` has the nucleus `ô`.
                for rhyme in ["i", "ich", "inh", "it", "ôc"] {
                    marked.entry(format!("qu{rhyme}")).or_insert(2);
                }
            }
        }
        let folded = marked.keys().map(|s| crate::analyzer::fold(s)).collect();
        Syllables { marked, folded }
    })
}

/// Whether the spelling rules let `onset` (not `qu`) precede `rhyme`.
fn fits(onset: &str, rhyme: &str, glided: bool) -> bool {
    let first = rhyme.chars().next().unwrap_or(' ');
    let front = matches!(first, 'i' | 'y' | 'e' | 'ê');
    if glided && NO_GLIDE.contains(&onset) {
        return false;
    }
    if rhyme.starts_with("yê") {
        return onset.is_empty();
    }
    if rhyme.starts_with("iê") && onset.is_empty() {
        return false;
    }
    if rhyme == "y" && !Y_ONSETS.contains(&onset) {
        return false;
    }
    match onset {
        "k" => front,
        "c" => !front,
        "gh" | "ngh" => matches!(first, 'i' | 'e' | 'ê'),
        // `g` + `i…` is `gi` + `i…` written once (`gì`, `gìn`, `giếng`)
        "g" => !matches!(first, 'e' | 'ê' | 'y'),
        "ng" => !front,
        "gi" => !matches!(first, 'i' | 'y'),
        _ => true,
    }
}

/// A glided rhyme without its glide (`oa` → `a`).
fn without_glide(rhyme: &str) -> &str {
    let mut chars = rhyme.chars();
    chars.next();
    chars.as_str()
}

/// Whether a folded word (ASCII a–z, no marks) can be one Vietnamese syllable: a valid onset (b c ch d g gh gi h
/// k kh l m n ng ngh nh p ph qu r s t th tr v x, or none) and a valid rhyme (glide/medial o/u, nucleus, coda c ch
/// m n ng nh p t i/y o/u), with the spelling rules (k/gh/ngh before i e ê, qu, gi…). Digits or other letters →
/// false.
pub fn is_syllable(folded: &str) -> bool {
    folded.bytes().all(|b| b.is_ascii_lowercase()) && syllables().folded.contains(folded)
}

/// Whether a lower-case NFC word with its marks is a well-formed syllable: its folded letters are a syllable, the
/// vowel marks fit (â ê ô ă ơ ư in valid nuclei such as ươ, iê/yê, uô), at most one tone, and a stop coda (c ch p
/// t) takes only sắc or nặng. A syllable with a stop coda and no tone (`viet`) is therefore not one; the tone may
/// sit where either spelling style puts it (`hòa` and `hoà`).
pub fn is_marked_syllable(word: &str) -> bool {
    match split_tone(word) {
        Some((letters, tone)) => syllables().marked.contains_key(&letters) && tone_fits(&letters, tone),
        None => false,
    }
}

/// Ways to cut a folded word typed as two syllables run together (`hoanglong`, `vantai`, `thuongmai`) into two
/// syllables, each [`is_syllable`], best first: the longest left syllable first (`nguyenanh` → (`nguyen`, `anh`)).
/// Empty when there is none. Words shorter than 4 letters give none.
pub fn two_syllable_splits(folded: &str) -> Vec<(String, String)> {
    if folded.len() < 4 || !folded.bytes().all(|b| b.is_ascii_lowercase()) {
        return vec![];
    }
    (1..folded.len())
        .rev()
        .map(|cut| folded.split_at(cut))
        .filter(|(left, right)| is_syllable(left) && is_syllable(right))
        .map(|(left, right)| (left.to_owned(), right.to_owned()))
        .collect()
}

/// The Vietnamese word (lower-case NFC, with its marks) that `word` (lower-case NFC, as a user typed it with
/// Telex switched off: `hoangf`, `vieejt`, `ddoong`, `thuowng`, `nguyeenx`) stands for; None when the word holds
/// no Telex keys, or does not decode to a well-formed syllable (English words such as `express`, `service`,
/// `class` stay raw), or the word is already a well-formed plain syllable (`tan`, `long`, `cong` are left alone).
pub fn decode_telex(word: &str) -> Option<String> {
    if !word.bytes().all(|b| b.is_ascii_lowercase()) || is_syllable(word) {
        return None;
    }
    let mut k = Keys::default();
    for c in word.chars() {
        match c {
            's' | 'f' | 'r' | 'x' | 'j' if k.has_vowel() => k.tone(match c {
                's' => Tone::Acute,
                'f' => Tone::Grave,
                'r' => Tone::Hook,
                'x' => Tone::Tilde,
                _ => Tone::Dot,
            })?,
            // before the vowel, `s r x` are onset letters (`sao`, `tre`, `xa`); `f j z` are not Vietnamese
            's' | 'r' | 'x' => k.letters.push(c),
            'z' => k.clear_tone()?,
            'f' | 'j' => return None,
            'd' => match k.letters.as_slice() {
                ['d'] => k.stroke()?,
                ['đ'] => return None,
                _ => k.letters.push('d'),
            },
            'a' | 'e' | 'o' => {
                let hat = circumflex(c);
                match k.letters.last() {
                    Some(&last) if last == c => k.mark_last(hat),
                    Some(&last) if last == hat => return None,
                    // after the coda: marks the vowel before it (`tienge`)
                    Some(&last) if !is_vowel(last) && k.run_has(c) => k.circumflex(&[c])?,
                    _ => k.letters.push(c),
                }
            }
            'w' => match k.letters.last() {
                Some('a') => k.mark_last('ă'),
                Some('o') => k.mark_last('ơ'),
                Some('u') => k.mark_last('ư'),
                Some('ă' | 'ơ' | 'ư') => return None,
                _ if k.has_vowel() => k.horn_or_breve()?,
                // no vowel yet: `w` is `ư` (`tw`, `nhwng`)
                _ => {
                    k.letters.push('ư');
                    k.keys += 1;
                }
            },
            _ => k.letters.push(c),
        }
    }
    k.finish()
}

/// Same for VNI (digits 1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng, 6 circumflex â ê ô, 7 horn ơ ư, 8 breve ă, 9 đ; 0 or
/// none): `hoa2ng` → `hoàng`, `vie65t` → `việt`, `d9o6ng` → `đông`, `thu7o7ng` / `thuo7ng` → `thương`. A digit
/// right after its vowel or at the end of the word (`vie6t5`, `viet65`).
pub fn decode_vni(word: &str) -> Option<String> {
    if !word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        return None;
    }
    let mut k = Keys::default();
    for c in word.chars() {
        match c {
            '1'..='5' if k.has_vowel() => k.tone(match c {
                '1' => Tone::Acute,
                '2' => Tone::Grave,
                '3' => Tone::Hook,
                '4' => Tone::Tilde,
                _ => Tone::Dot,
            })?,
            '0' => k.clear_tone()?,
            '6' => k.circumflex(&['a', 'e', 'o'])?,
            '7' => k.horn()?,
            '8' => k.breve()?,
            '9' => k.stroke()?,
            'f' | 'j' | 'w' | 'z' | '1'..='5' => return None,
            _ => k.letters.push(c),
        }
    }
    k.finish()
}

/// Every decoding of a query word (Telex, VNI), deduplicated, the word itself excluded; empty when there is none.
pub fn decodings(word: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for decoded in [decode_telex(word), decode_vni(word)].into_iter().flatten() {
        if decoded != word && !out.contains(&decoded) {
            out.push(decoded);
        }
    }
    out
}

/// The six tones; the level tone (ngang) has no mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Level,
    /// sắc
    Acute,
    /// huyền
    Grave,
    /// hỏi
    Hook,
    /// ngã
    Tilde,
    /// nặng
    Dot,
}

impl Tone {
    /// The combining mark of the tone.
    fn mark(self) -> Option<char> {
        match self {
            Tone::Level => None,
            Tone::Acute => Some('\u{301}'),
            Tone::Grave => Some('\u{300}'),
            Tone::Hook => Some('\u{309}'),
            Tone::Tilde => Some('\u{303}'),
            Tone::Dot => Some('\u{323}'),
        }
    }

    fn of_mark(c: char) -> Option<Tone> {
        [Tone::Acute, Tone::Grave, Tone::Hook, Tone::Tilde, Tone::Dot].into_iter().find(|t| t.mark() == Some(c))
    }
}

/// A word being decoded: its letters with their vowel marks; the tone is kept apart and placed at the end.
#[derive(Debug, Default)]
struct Keys {
    letters: Vec<char>,
    tone: Option<Tone>,
    /// Keystrokes that were keys, not letters.
    keys: usize,
}

impl Keys {
    fn has_vowel(&self) -> bool {
        self.letters.iter().any(|&c| is_vowel(c))
    }

    /// The last run of vowels (start, end), without the `u` of `qu` or the `i` of an initial `gi` when another
    /// vowel follows them (in `quo` the horn goes on `o`, in `giuo` on `uo`).
    fn run(&self) -> Option<(usize, usize)> {
        let end = self.letters.iter().rposition(|&c| is_vowel(c))? + 1;
        let mut start = end - 1;
        while start > 0 && is_vowel(self.letters[start - 1]) {
            start -= 1;
        }
        if start > 0 && end - start > 1 {
            let (before, first) = (self.letters[start - 1], self.letters[start]);
            if (before == 'q' && first == 'u') || (before == 'g' && start == 1 && first == 'i') {
                start += 1;
            }
        }
        Some((start, end))
    }

    fn run_has(&self, c: char) -> bool {
        self.run().is_some_and(|(s, e)| self.letters[s..e].contains(&c))
    }

    fn mark_last(&mut self, marked: char) {
        if let Some(last) = self.letters.last_mut() {
            *last = marked;
            self.keys += 1;
        }
    }

    /// A tone key; a second tone key gives no syllable (see the module documentation).
    fn tone(&mut self, tone: Tone) -> Option<()> {
        if self.tone.is_some() {
            return None;
        }
        self.tone = Some(tone);
        self.keys += 1;
        Some(())
    }

    /// `z` / `0`: removes the tone typed before; with none, the key is a stray letter or digit.
    fn clear_tone(&mut self) -> Option<()> {
        match self.tone {
            Some(Tone::Level) | None => None,
            Some(_) => {
                self.tone = Some(Tone::Level);
                self.keys += 1;
                Some(())
            }
        }
    }

    /// `dd` / `9`: the initial `d` becomes `đ`.
    fn stroke(&mut self) -> Option<()> {
        let first = self.letters.first_mut().filter(|c| **c == 'd')?;
        *first = 'đ';
        self.keys += 1;
        Some(())
    }

    /// Circumflex on the last of `targets` in the vowel run; None when there is none (or it has one already).
    fn circumflex(&mut self, targets: &[char]) -> Option<()> {
        let (s, e) = self.run()?;
        let i = (s..e).rev().find(|&i| targets.contains(&self.letters[i]))?;
        self.letters[i] = circumflex(self.letters[i]);
        self.keys += 1;
        Some(())
    }

    /// Horn: on `uo` both (`ươ`), else on `o`, else on the first `u`.
    fn horn(&mut self) -> Option<()> {
        let (s, e) = self.run()?;
        let run = &self.letters[s..e];
        let pair = (0..run.len().saturating_sub(1)).find(|&i| {
            matches!(run[i], 'u' | 'ư') && matches!(run[i + 1], 'o' | 'ơ') && (run[i], run[i + 1]) != ('ư', 'ơ')
        });
        if let Some(i) = pair {
            self.letters[s + i] = 'ư';
            self.letters[s + i + 1] = 'ơ';
        } else if let Some(i) = run.iter().position(|&c| c == 'o').or_else(|| run.iter().position(|&c| c == 'u')) {
            self.letters[s + i] = if run[i] == 'o' { 'ơ' } else { 'ư' };
        } else {
            return None;
        }
        self.keys += 1;
        Some(())
    }

    /// Breve on the `a` of the run.
    fn breve(&mut self) -> Option<()> {
        let (s, e) = self.run()?;
        let i = (s..e).find(|&i| self.letters[i] == 'a')?;
        self.letters[i] = 'ă';
        self.keys += 1;
        Some(())
    }

    /// Telex `w` not right after its vowel: horn on `uo`, else breve on `a`, else horn.
    fn horn_or_breve(&mut self) -> Option<()> {
        let (s, e) = self.run()?;
        let run = &self.letters[s..e];
        let uo = run.windows(2).any(|w| w[0] == 'u' && w[1] == 'o');
        if !uo && run.contains(&'a') {
            self.breve()
        } else {
            self.horn()
        }
    }

    /// The decoded syllable, if the keys were used and the letters and tone make one.
    fn finish(mut self) -> Option<String> {
        if self.keys == 0 {
            return None;
        }
        self.normalise_horns();
        let letters: String = self.letters.iter().collect();
        let onset = *syllables().marked.get(&letters)?;
        let tone = self.tone.unwrap_or(Tone::Level);
        tone_fits(&letters, tone).then(|| place_tone(&letters, onset, tone))
    }

    /// Half-typed horns, as typists leave them: `ưo` and `uơ` before a coda are `ươ` (`thuwong`, `thuowng`), an
    /// open `ươ` is `uơ` (`thuở`), `uư` is `ưu` (`cuuw`). Not the `u` of `qu`.
    fn normalise_horns(&mut self) {
        let Some((s, e)) = self.run() else { return };
        for i in s..e.saturating_sub(1) {
            match (self.letters[i], self.letters[i + 1]) {
                ('u', 'ơ') | ('ư', 'o') | ('ư', 'ơ') => {
                    let open = i + 2 == self.letters.len();
                    self.letters[i] = if open { 'u' } else { 'ư' };
                    self.letters[i + 1] = 'ơ';
                }
                ('u', 'ư') => {
                    self.letters[i] = 'ư';
                    self.letters[i + 1] = 'u';
                }
                _ => {}
            }
        }
    }
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'ă' | 'â' | 'e' | 'ê' | 'i' | 'o' | 'ô' | 'ơ' | 'u' | 'ư' | 'y')
}

/// Whether a vowel carries a vowel mark (circumflex, breve or horn).
fn is_marked_vowel(c: char) -> bool {
    matches!(c, 'ă' | 'â' | 'ê' | 'ô' | 'ơ' | 'ư')
}

fn circumflex(c: char) -> char {
    match c {
        'a' => 'â',
        'e' => 'ê',
        'o' => 'ô',
        _ => c,
    }
}

/// Whether a syllable (without tone) ends in a stop: `c ch p t`.
fn stop_coda(letters: &str) -> bool {
    letters.ends_with(['c', 'p', 't']) || letters.ends_with("ch")
}

/// A stop coda takes only sắc or nặng.
fn tone_fits(letters: &str, tone: Tone) -> bool {
    !stop_coda(letters) || matches!(tone, Tone::Acute | Tone::Dot)
}

/// The word's letters with their vowel marks (NFC) and its tone; None when it has more than one tone mark or a
/// tone mark on a consonant.
fn split_tone(word: &str) -> Option<(String, Tone)> {
    let mut letters = String::with_capacity(word.len());
    let mut tone = Tone::Level;
    let mut last_base = None;
    for c in word.nfd() {
        if let Some(t) = Tone::of_mark(c) {
            if tone != Tone::Level || !last_base.is_some_and(|b: char| matches!(b, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')) {
                return None;
            }
            tone = t;
        } else {
            if !unicode_normalization::char::is_combining_mark(c) {
                last_base = Some(c);
            }
            letters.push(c);
        }
    }
    Some((letters.nfc().collect(), tone))
}

/// `letters` (a syllable without tone, onset of `onset` characters) with `tone` on the vowel the traditional
/// style puts it on (see the module documentation), in NFC.
fn place_tone(letters: &str, onset: usize, tone: Tone) -> String {
    let chars: Vec<char> = letters.chars().collect();
    let Some(mark) = tone.mark() else { return letters.to_owned() };
    let vowels: Vec<usize> = (onset..chars.len()).filter(|&i| is_vowel(chars[i])).collect();
    if vowels.is_empty() {
        return letters.to_owned();
    }
    let closed = chars.last().is_some_and(|&c| !is_vowel(c));
    let target = match vowels.iter().rev().find(|&&i| is_marked_vowel(chars[i])) {
        Some(&i) => i,
        None if vowels.len() == 1 || closed => vowels[vowels.len() - 1],
        None if vowels.len() == 3 => vowels[1],
        None => vowels[0],
    };
    let mut out = String::with_capacity(letters.len() + 2);
    for (i, &c) in chars.iter().enumerate() {
        out.push(c);
        if i == target {
            out.push(mark);
        }
    }
    out.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expected` in NFC (the literals below are typed NFC; this makes sure).
    fn nfc(s: &str) -> Option<String> {
        Some(s.nfc().collect())
    }

    #[test]
    fn telex_tone_keys() {
        for (keys, word) in [("mas", "má"), ("maf", "mà"), ("mar", "mả"), ("max", "mã"), ("maj", "mạ")] {
            assert_eq!(decode_telex(keys), nfc(word), "{keys}");
        }
        // `z` removes the tone typed before it; alone it is a stray letter
        assert_eq!(decode_telex("masz"), nfc("ma"));
        assert_eq!(decode_telex("maz"), None);
    }

    #[test]
    fn telex_vowel_marks() {
        for (keys, word) in [
            ("caan", "cân"),
            ("awn", "ăn"),
            ("leen", "lên"),
            ("coon", "côn"),
            ("mowf", "mờ"),
            ("tuw", "tư"),
            ("tw", "tư"),
            ("nhwng", "nhưng"),
            ("ddi", "đi"),
            ("ddoong", "đông"),
            // the loan rhyme `oong` is not a syllable, so `oo` is always a key
            ("xoong", "xông"),
        ] {
            assert_eq!(decode_telex(keys), nfc(word), "{keys}");
        }
    }

    #[test]
    fn telex_horn_pair_typed_every_way() {
        for keys in ["thuowng", "thuwowng", "thuwong", "thuongw"] {
            assert_eq!(decode_telex(keys), nfc("thương"), "{keys}");
        }
        assert_eq!(decode_telex("nguwowif"), nfc("người"));
        assert_eq!(decode_telex("duwowng"), nfc("dương"));
        assert_eq!(decode_telex("dduwowngf"), nfc("đường"));
        assert_eq!(decode_telex("huowu"), nfc("hươu"));
        // open: `uơ` (`thuở`), and the `u` of `qu` takes no horn
        assert_eq!(decode_telex("thuowr"), nfc("thuở"));
        assert_eq!(decode_telex("quow"), nfc("quơ"));
        assert_eq!(decode_telex("cuuws"), nfc("cứu"));
    }

    #[test]
    fn telex_tone_after_the_vowel_or_at_the_end() {
        for (a, b, word) in [
            ("vieejt", "vieetj", "việt"),
            ("hoafng", "hoangf", "hoàng"),
            ("nguyeenx", "nguyenex", "nguyễn"),
            ("quoosc", "quoocs", "quốc"),
            ("hoawjc", "hoawcj", "hoặc"),
        ] {
            assert_eq!(decode_telex(a), nfc(word), "{a}");
            assert_eq!(decode_telex(b), nfc(word), "{b}");
        }
        // marks after the coda mark the vowels before it
        assert_eq!(decode_telex("tienges"), nfc("tiếng"));
        assert_eq!(decode_telex("hoacwj"), nfc("hoặc"));
    }

    #[test]
    fn vni_tone_digits() {
        for (keys, word) in [("ma1", "má"), ("ma2", "mà"), ("ma3", "mả"), ("ma4", "mã"), ("ma5", "mạ")] {
            assert_eq!(decode_vni(keys), nfc(word), "{keys}");
        }
        assert_eq!(decode_vni("ma10"), nfc("ma"));
        assert_eq!(decode_vni("ma0"), None);
    }

    #[test]
    fn vni_vowel_marks() {
        for (keys, word) in [
            ("ca6n", "cân"),
            ("le6n", "lên"),
            ("co6n", "côn"),
            ("a8n", "ăn"),
            ("mo72", "mờ"),
            ("tu7", "tư"),
            ("d9i", "đi"),
            ("d9o6ng", "đông"),
            ("dong96", "đông"),
            ("hoa2ng", "hoàng"),
            ("thu7o7ng", "thương"),
            ("thuo7ng", "thương"),
            ("thuong7", "thương"),
            ("cuu71", "cứu"),
            ("qua6n", "quân"),
            ("quo61c", "quốc"),
        ] {
            assert_eq!(decode_vni(keys), nfc(word), "{keys}");
        }
    }

    #[test]
    fn vni_digit_after_the_vowel_or_at_the_end() {
        for keys in ["vie65t", "vie6t5", "viet65", "viet56"] {
            assert_eq!(decode_vni(keys), nfc("việt"), "{keys}");
        }
        for keys in ["nguye6n4", "nguyen64"] {
            assert_eq!(decode_vni(keys), nfc("nguyễn"), "{keys}");
        }
    }

    #[test]
    fn tone_placement_is_the_traditional_style() {
        for (keys, word) in [
            ("hoaf", "hòa"),
            ("thuyr", "thủy"),
            ("thuyf", "thùy"),
            ("khoer", "khỏe"),
            ("muaf", "mùa"),
            ("mias", "mía"),
            ("hoafn", "hoàn"),
            ("toans", "toán"),
            ("huyfnh", "huỳnh"),
            ("thuyeets", "thuyết"),
            ("ngoaif", "ngoài"),
            ("khuyur", "khuỷu"),
            ("xoays", "xoáy"),
            ("quys", "quý"),
            ("gias", "giá"),
            ("gif", "gì"),
            ("giuwax", "giữa"),
            ("muwaf", "mừa"),
            ("nguwowif", "người"),
            ("yeens", "yến"),
            ("tuaans", "tuấn"),
            ("thuees", "thuế"),
        ] {
            assert_eq!(decode_telex(keys), nfc(word), "{keys}");
        }
        // the register's names are spelt so
        assert_eq!(nfc("Hòa").map(|s| s.to_lowercase()), decode_telex("hoaf"));
    }

    #[test]
    fn ambiguous_words_stay_raw() {
        for word in [
            "express", "service", "class", "coffee", "news", "hello", "google", "free", "tan", "long", "cong", "hoa",
            "xnk", "tnhh", "mtv", "abc123", "", "việt", "Hoangf", "aaa", "ddd", "uww", "hoaff", "hoasf", "dongd",
            "vieet",
        ] {
            assert_eq!(decode_telex(word), None, "{word}");
        }
        for word in ["express", "tan", "long", "xnk", "tnhh", "mtv", "abc123", "2024", "covid19", "a66", "hoaf"] {
            assert_eq!(decode_vni(word), None, "{word}");
        }
        // not a syllable raw, but keys on one: decoded (the caller also searches the word itself)
        assert_eq!(decode_telex("as"), nfc("á"));
    }

    #[test]
    fn decodings_of_a_query_word() {
        assert_eq!(decodings("hoangf"), vec!["hoàng".to_owned()]);
        assert_eq!(decodings("hoa2ng"), vec!["hoàng".to_owned()]);
        assert!(decodings("long").is_empty());
        assert!(decodings("express").is_empty());
        assert!(decodings("").is_empty());
    }

    #[test]
    fn folded_syllables() {
        for s in [
            "nghieng", "khuya", "khuyu", "quyen", "quoc", "qui", "gi", "gin", "giuong", "gieng", "ghe", "ghi", "nghe",
            "ke", "ky", "kia", "ca", "an", "y", "yen", "uyen", "oanh", "hoac", "nguoi", "thuo", "tan", "long", "viet",
            "nguyen", "dung", "truong", "phuong", "ngoeo", "quynh", "xoay",
        ] {
            assert!(is_syllable(s), "{s}");
        }
        for s in [
            "ngi", "kan", "ka", "ci", "ce", "ge", "gha", "ngha", "ngy", "tnhh", "xnk", "abc", "mtv", "iec", "xoong",
            "boa", "cua1", "Hoa", "hòa", "", "hoangf", "str", "bank", "express", "yeu1", "ien",
        ] {
            assert!(!is_syllable(s), "{s}");
        }
    }

    #[test]
    fn marked_syllables() {
        let good =
            ["bát", "bạt", "hòa", "hoà", "thủy", "thuỷ", "người", "đường", "quốc", "việt", "khuya", "giếng", "ừ"];
        for s in good {
            assert!(is_marked_syllable(s), "{s}");
        }
        let nfd: String = "Nguyễn".to_lowercase().nfd().collect();
        assert!(is_marked_syllable(&nfd));
        // a stop coda with huyền, hỏi, ngã or no tone; two tones; a tone on a consonant; misplaced marks
        let bad_tones = ["bàt", "bảt", "bãt", "bat", "viet"];
        let bad_letters = ["hoà̀", "thươnǵ", "hươ", "thuong", "vîet", "tâ", "ă", "ơng", "ǹ", "Hòa"];
        for s in bad_tones.into_iter().chain(bad_letters) {
            assert!(!is_marked_syllable(s), "{s}");
        }
        // ư and ơ only as the nuclei ư, ươ, ưa, ơ, uơ
        assert!(is_marked_syllable("thuở"));
        assert!(!is_marked_syllable("thưở"));
    }

    #[test]
    fn splits() {
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(two_syllable_splits("hoanglong").first(), Some(&pair("hoang", "long")));
        assert_eq!(two_syllable_splits("vantai").first(), Some(&pair("van", "tai")));
        assert_eq!(two_syllable_splits("thuongmai").first(), Some(&pair("thuong", "mai")));
        assert_eq!(two_syllable_splits("nguyenanh").first(), Some(&pair("nguyen", "anh")));
        // longest left part first
        assert_eq!(two_syllable_splits("thanhan"), vec![pair("thanh", "an"), pair("than", "han"), pair("tha", "nhan")]);
        for short in ["", "a", "an", "hoa"] {
            assert!(two_syllable_splits(short).is_empty(), "{short}");
        }
        for none in ["tnhh", "express", "xnkx", "hoang1ong"] {
            assert!(two_syllable_splits(none).is_empty(), "{none}");
        }
    }

    /// Every row of the fixture made with bogo (scripts/telex_oracle.py): the decoder types what bogo types.
    /// bogo places tones in the same traditional style (`hòa`, `thủy`), so the words are compared as they are.
    #[test]
    fn fixture_agrees() {
        let mut rows = 0;
        let mut wrong = vec![];
        for line in include_str!("../tests/data/telex_vni.tsv").lines() {
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let [method, keys, expected] = cols[..] else { panic!("bad row {line:?}") };
            let got = match method {
                "telex" => decode_telex(keys),
                "vni" => decode_vni(keys),
                _ => panic!("bad method {line:?}"),
            };
            rows += 1;
            if got != nfc(expected) || !is_marked_syllable(expected) {
                wrong.push(format!("{method} {keys}: {got:?}, expected {expected}"));
            }
        }
        assert!(rows > 1000, "{rows} rows");
        assert!(wrong.is_empty(), "{} of {rows} rows differ:\n{}", wrong.len(), wrong.join("\n"));
    }
}
