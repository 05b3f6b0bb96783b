//! The vocabulary a generator draws from, built once from the tables of [`crate::words`]: in NFC,
//! with the folded forms names, keys and e-mail addresses are made of, and weighted samplers.

use rand_chacha::ChaCha8Rng;

use registry_domain::text;

use crate::sampling::Weighted;
use crate::words::*;

/// A distinctive syllable of proper names.
#[derive(Debug, Clone)]
pub(crate) struct Syllable {
    pub(crate) text: String,
    /// Title-case ASCII ("Phat").
    pub(crate) ascii: String,
    /// Lower-case ASCII ("phat"); empty when the syllable is dropped from the key (`tân`).
    pub(crate) key: String,
}

/// A trade word of names: Vietnamese, English and in abbreviations.
#[derive(Debug, Clone)]
pub(crate) struct Trade {
    pub(crate) vi: String,
    pub(crate) en: &'static str,
    pub(crate) abbr: &'static str,
    /// initials of the folded words, for e-mail slugs ("tmdv")
    pub(crate) initials: String,
}

/// Words drawn by weight.
#[derive(Debug, Clone)]
pub(crate) struct WeightedWords {
    words: Vec<String>,
    sampler: Weighted,
}

impl WeightedWords {
    fn new(table: &[(&str, u32)]) -> WeightedWords {
        WeightedWords {
            words: table.iter().map(|(s, _)| nfc(s)).collect(),
            sampler: Weighted::new(table.iter().map(|&(_, w)| u64::from(w))),
        }
    }

    pub(crate) fn draw(&self, rng: &mut ChaCha8Rng) -> &str {
        &self.words[self.sampler.sample(rng)]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Vocabulary {
    pub(crate) syllables: Vec<Syllable>,
    /// Syllables that read well at the end of a name (indices into `syllables`).
    pub(crate) endings: Vec<usize>,
    pub(crate) trades: Vec<Trade>,
    /// Generic trade words (indices into `trades`).
    pub(crate) generic_trades: Vec<usize>,
    /// Per VSIC division: the trade words coherent with it (indices into `trades`).
    pub(crate) division_trades: Vec<Vec<usize>>,
    pub(crate) surnames: WeightedWords,
    pub(crate) male_middle: WeightedWords,
    pub(crate) female_middle: WeightedWords,
    pub(crate) female_middle2: Vec<String>,
    pub(crate) male_given: Vec<String>,
    pub(crate) female_given: Vec<String>,
    /// Draws an entry of [`FOREIGNERS`].
    pub(crate) foreign_sampler: Weighted,
    pub(crate) streets: Vec<String>,
}

impl Vocabulary {
    pub(crate) fn new() -> Vocabulary {
        let syllables: Vec<Syllable> = SYLLABLES.iter().map(|s| syllable(s)).collect();
        let endings: Vec<usize> = ENDINGS
            .iter()
            .filter_map(|e| {
                let e = nfc(e);
                syllables.iter().position(|s| s.text == e)
            })
            .collect();
        let trades: Vec<Trade> = TRADES.iter().map(|&(vi, en, abbr)| trade(vi, en, abbr)).collect();
        let trade_index = |vi: &str| {
            let vi = nfc(vi);
            trades.iter().position(|t| t.vi == vi).expect("trade word in table")
        };
        let generic_trades: Vec<usize> = GENERIC_TRADES.iter().map(|t| trade_index(t)).collect();
        let division_trades: Vec<Vec<usize>> =
            (0..100u32).map(|d| trades_for_division(d).iter().map(|t| trade_index(t)).collect()).collect();
        let owned = |t: &[&str]| -> Vec<String> { t.iter().map(|s| nfc(s)).collect() };
        Vocabulary {
            syllables,
            endings,
            trades,
            generic_trades,
            division_trades,
            surnames: WeightedWords::new(SURNAMES),
            male_middle: WeightedWords::new(MALE_MIDDLE),
            female_middle: WeightedWords::new(FEMALE_MIDDLE),
            female_middle2: owned(FEMALE_MIDDLE2),
            male_given: owned(MALE_GIVEN),
            female_given: owned(FEMALE_GIVEN),
            foreign_sampler: Weighted::new(FOREIGNERS.iter().map(|f| u64::from(f.1))),
            streets: owned(STREETS),
        }
    }
}

fn syllable(typed: &str) -> Syllable {
    let text = nfc(typed);
    let ascii = text::strip_diacritics(&text);
    let lower = ascii.to_ascii_lowercase();
    let key = if lower == "tan" || lower == "moi" { String::new() } else { lower };
    Syllable { text, ascii, key }
}

fn trade(vi: &str, en: &'static str, abbr: &'static str) -> Trade {
    let initials = text::strip_diacritics(vi).to_ascii_lowercase().split(' ').filter_map(|w| w.get(..1)).collect();
    Trade { vi: nfc(vi), en, abbr, initials }
}
