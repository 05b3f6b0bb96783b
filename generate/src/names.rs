//! Enterprise names: the Vietnamese name (type prefix, trade words, proper name), the English
//! name and the abbreviation, unique over a generator's run.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use registry_domain::enterprise_type::EnterpriseType;

use crate::registration::Generator;
use crate::sampling::{hash_ascii_lower, hash_str, pick};
use crate::words::nfc;

impl Generator {
    /// Trade words for a name whose main line is in the VSIC division `main_div`: none, one
    /// coherent with the division, or that one with a generic one (indices into the trades).
    pub(crate) fn trade_words(&mut self, main_div: u32) -> Vec<usize> {
        let r: u32 = self.rng.random_range(0..100);
        if r < 20 {
            return Vec::new();
        }
        let specific = *pick(&mut self.rng, &self.vocabulary.division_trades[main_div as usize % 100]);
        if r < 72 {
            return vec![specific];
        }
        let generic = *pick(&mut self.rng, &self.vocabulary.generic_trades);
        if generic == specific {
            vec![specific]
        } else if self.rng.random_bool(0.5) {
            vec![generic, specific]
        } else {
            vec![specific, generic]
        }
    }

    /// Draws distinctive syllables whose folded key was never used, and reserves it.
    pub(crate) fn proper_name(&mut self) -> Vec<usize> {
        let base = match self.rng.random_range(0..100u32) {
            0..=49 => 2,
            50..=89 => 3,
            _ => 4,
        };
        let mut key = String::with_capacity(48);
        let mut attempt = 0usize;
        loop {
            let len = base + attempt / 4;
            attempt += 1;
            let mut syl: Vec<usize> = Vec::with_capacity(len);
            while syl.len() < len {
                let s = if syl.len() + 1 == len && self.rng.random_bool(0.4) {
                    *pick(&mut self.rng, &self.vocabulary.endings)
                } else {
                    self.rng.random_range(0..self.vocabulary.syllables.len())
                };
                if !syl.contains(&s) {
                    syl.push(s);
                }
            }
            key.clear();
            for &s in &syl {
                key.push_str(&self.vocabulary.syllables[s].key);
            }
            // At least two syllables must count (so `Tân X` alone is never a name).
            let counted = syl.iter().filter(|&&s| !self.vocabulary.syllables[s].key.is_empty()).count();
            if counted >= 2 && self.name_keys.insert(hash_str(&key)) {
                return syl;
            }
        }
    }

    /// The name object of a registration: the Vietnamese name, and for some an English name and
    /// an abbreviation (each left out when it was drawn before).
    pub(crate) fn name_value(&mut self, kind: EnterpriseType, trades: &[usize], syl: &[usize]) -> Value {
        let mut name = Map::new();
        name.insert("vi".into(), Value::String(self.vietnamese_name(kind, trades, syl)));
        if self.rng.random_bool(0.60) {
            let en = self.english_name(kind, trades, syl);
            if self.en_names.insert(hash_ascii_lower(&en)) {
                name.insert("en".into(), Value::String(en));
            }
        }
        let abbreviation_odds = match kind {
            EnterpriseType::PrivateEnterprise => 0.25,
            EnterpriseType::Partnership => 0.4,
            EnterpriseType::LlcSingle | EnterpriseType::LlcMulti | EnterpriseType::Jsc => 0.55,
        };
        if self.rng.random_bool(abbreviation_odds) {
            if let Some(abbreviation) = self.abbreviation(kind, trades, syl) {
                name.insert("abbreviation".into(), Value::String(abbreviation));
            }
        }
        Value::Object(name)
    }

    /// The type's prefix (art. 38.1(a)) in one of its spellings, the trade words, the proper
    /// name; upper case for some.
    fn vietnamese_name(&mut self, kind: EnterpriseType, trades: &[usize], syl: &[usize]) -> String {
        let mut vi = self.type_prefix(kind);
        // literals and tables are NFC; joining them with ASCII spaces keeps NFC
        for &t in trades {
            vi.push(' ');
            vi.push_str(&self.vocabulary.trades[t].vi);
        }
        for &s in syl {
            vi.push(' ');
            vi.push_str(&self.vocabulary.syllables[s].text);
        }
        if self.rng.random_bool(0.10) {
            vi = nfc(&vi.to_uppercase());
        }
        vi
    }

    /// One of the spellings of the prefix of `kind` that registrations use, the usual ones most.
    fn type_prefix(&mut self, kind: EnterpriseType) -> String {
        let llc = |rng: &mut ChaCha8Rng| {
            if rng.random_bool(0.85) {
                "Công ty TNHH"
            } else {
                "Công ty trách nhiệm hữu hạn"
            }
        };
        match kind {
            EnterpriseType::LlcSingle => {
                let base = llc(&mut self.rng);
                match self.rng.random_range(0..100u32) {
                    0..=49 => base.to_string(),
                    50..=84 => format!("{base} MTV"),
                    _ => format!("{base} một thành viên"),
                }
            }
            EnterpriseType::LlcMulti => llc(&mut self.rng).to_string(),
            EnterpriseType::Jsc => {
                if self.rng.random_bool(0.85) { "Công ty cổ phần" } else { "Công ty CP" }.to_string()
            }
            EnterpriseType::Partnership => "Công ty hợp danh".to_string(),
            EnterpriseType::PrivateEnterprise => {
                if self.rng.random_bool(0.75) { "Doanh nghiệp tư nhân" } else { "DNTN" }.to_string()
            }
        }
    }

    /// "Hoang Long Phat Transport Company Limited".
    fn english_name(&mut self, kind: EnterpriseType, trades: &[usize], syl: &[usize]) -> String {
        let suffix = match kind {
            EnterpriseType::LlcSingle => {
                if self.rng.random_bool(0.3) {
                    "One Member Company Limited"
                } else {
                    "Company Limited"
                }
            }
            EnterpriseType::LlcMulti => "Company Limited",
            EnterpriseType::Jsc => "Joint Stock Company",
            EnterpriseType::Partnership => "Partnership",
            EnterpriseType::PrivateEnterprise => "Private Enterprise",
        };
        let mut en = self.ascii_core(syl);
        for &t in trades {
            en.push(' ');
            en.push_str(self.vocabulary.trades[t].en);
        }
        en.push(' ');
        en.push_str(suffix);
        en
    }

    /// "HLP TRANSPORT CO., LTD" or "HOANG LONG PHAT CO., LTD": initials or the whole proper name
    /// (in a random order of preference), reserved; `None` when both were drawn before.
    fn abbreviation(&mut self, kind: EnterpriseType, trades: &[usize], syl: &[usize]) -> Option<String> {
        let initials: String = syl
            .iter()
            .filter_map(|&s| self.vocabulary.syllables[s].ascii.chars().next())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let full = self.ascii_core(syl).to_ascii_uppercase();
        let trade = (!trades.is_empty() && self.rng.random_bool(0.7)).then(|| self.vocabulary.trades[trades[0]].abbr);
        let build = |core: &str| -> String {
            let mut s = String::new();
            if kind == EnterpriseType::PrivateEnterprise {
                s.push_str("DNTN ");
            }
            s.push_str(core);
            if let Some(t) = trade {
                s.push(' ');
                s.push_str(t);
            }
            match kind {
                EnterpriseType::LlcSingle | EnterpriseType::LlcMulti => s.push_str(" CO., LTD"),
                EnterpriseType::Jsc => s.push_str(" JSC"),
                EnterpriseType::Partnership => s.push_str(" PARTNERSHIP"),
                EnterpriseType::PrivateEnterprise => {}
            }
            s
        };
        let (first, second) =
            if self.rng.random_bool(0.5) { (build(&initials), build(&full)) } else { (build(&full), build(&initials)) };
        [first, second].into_iter().find(|candidate| self.abbreviations.insert(hash_str(candidate)))
    }

    /// "Hoang Long Phat"
    fn ascii_core(&self, syl: &[usize]) -> String {
        let mut core = String::with_capacity(64);
        for (i, &s) in syl.iter().enumerate() {
            if i > 0 {
                core.push(' ');
            }
            core.push_str(&self.vocabulary.syllables[s].ascii);
        }
        core
    }
}
