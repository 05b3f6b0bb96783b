//! Head offices: street addresses as they are written in each region, phones, e-mail addresses.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use crate::registration::Generator;
use crate::sampling::pick;
use crate::words::{industrial_parks, nfc, LOT_LETTERS, MOBILE_PREFIXES, STREET_KINDS_NORTH};

impl Generator {
    /// A head office in `ward` of `province`, with a phone and an e-mail address (made of the
    /// name's trade words and syllables) for most.
    pub(crate) fn head_office(&mut self, province: &str, ward: &str, trades: &[usize], syl: &[usize]) -> Value {
        let address = self.street_address(province);
        let mut office = Map::new();
        office.insert("street".into(), Value::String(address));
        office.insert("ward_code".into(), Value::String(ward.to_string()));
        office.insert("province_code".into(), Value::String(province.to_string()));
        if self.rng.random_bool(0.85) {
            office.insert("phone".into(), Value::String(mobile_phone(&mut self.rng)));
        }
        if self.rng.random_bool(0.70) {
            office.insert("email".into(), Value::String(self.email(trades, syl)));
        }
        Value::Object(office)
    }

    /// The street part of an address as it is written in the province's region: house numbers on
    /// streets, alleys (`ngõ` in the north, `Số 12/5` in the south), industrial parks, hamlets,
    /// residential groups, office buildings.
    fn street_address(&mut self, province: &str) -> String {
        let pc: u32 = province.parse().unwrap_or(0);
        let south = pc >= 70;
        let north = pc < 40;
        let street = pick(&mut self.rng, &self.vocabulary.streets).clone();
        let n: u32 = self.rng.random_range(1..=300);
        match self.rng.random_range(0..100u32) {
            0..=47 => {
                let kind =
                    if north && (pc == 1 || pc == 31) { *pick(&mut self.rng, STREET_KINDS_NORTH) } else { "đường" };
                format!("Số {n} {kind} {street}")
            }
            48..=61 => {
                let m: u32 = self.rng.random_range(1..=120);
                if south {
                    format!("Số {n}/{m} đường {street}")
                } else {
                    let kind = if north { "phố" } else { "đường" };
                    format!("Số {n} ngõ {m} {kind} {street}")
                }
            }
            62..=69 => {
                let parks = industrial_parks(province);
                let park = if parks.is_empty() || self.rng.random_bool(0.3) {
                    self.place_name()
                } else {
                    nfc(pick::<&str>(&mut self.rng, parks))
                };
                let letter = *pick(&mut self.rng, LOT_LETTERS);
                let lot: u32 = self.rng.random_range(1..=30);
                format!("Lô {letter}{lot} Khu công nghiệp {park}")
            }
            70..=81 => self.hamlet(south),
            82..=91 => {
                let t: u32 = self.rng.random_range(1..=30);
                if south {
                    let k: u32 = self.rng.random_range(1..=12);
                    format!("Số {n} đường {street}, khu phố {k}")
                } else {
                    format!("Tổ dân phố số {t}, đường {street}")
                }
            }
            _ => {
                let floor: u32 = self.rng.random_range(2..=25);
                let building = self.place_name();
                format!("Tầng {floor}, tòa nhà {building}, số {n} đường {street}")
            }
        }
    }

    /// A name for a park or a building: a syllable and an ending ("Minh Phát").
    fn place_name(&mut self) -> String {
        let words = &self.vocabulary;
        let ending = *pick(&mut self.rng, &words.endings);
        let first = self.rng.random_range(0..words.syllables.len());
        format!("{} {}", words.syllables[first].text, words.syllables[ending].text)
    }

    /// A hamlet: `Thôn`, or `Ấp` in the south (where some are numbered).
    fn hamlet(&mut self, south: bool) -> String {
        let words = &self.vocabulary;
        let a = self.rng.random_range(0..words.syllables.len());
        let b = *pick(&mut self.rng, &words.endings);
        let hamlet = if south { "Ấp" } else { "Thôn" };
        if south && self.rng.random_bool(0.4) {
            let k: u32 = self.rng.random_range(1..=9);
            format!("Ấp {k}")
        } else if a == b {
            format!("{hamlet} {}", words.syllables[a].text)
        } else {
            format!("{hamlet} {} {}", words.syllables[a].text, words.syllables[b].text)
        }
    }

    /// An e-mail address at a domain made of the name (`info@hoanglongphat.vn`).
    fn email(&mut self, trades: &[usize], syl: &[usize]) -> String {
        let words = &self.vocabulary;
        let mut slug = String::new();
        if !trades.is_empty() && self.rng.random_bool(0.2) {
            for &t in trades {
                slug.push_str(&words.trades[t].initials);
            }
        }
        for &s in syl {
            slug.push_str(&words.syllables[s].ascii.to_ascii_lowercase());
        }
        let local = match self.rng.random_range(0..100u32) {
            0..=59 => "info",
            60..=74 => "contact",
            75..=89 => "lienhe",
            90..=94 => "ketoan",
            _ => "sales",
        };
        let tld = if self.rng.random_bool(0.55) { "vn" } else { "com.vn" };
        format!("{local}@{slug}.{tld}")
    }
}

/// A mobile number as people write it (`0912 345 678`).
pub(crate) fn mobile_phone(rng: &mut ChaCha8Rng) -> String {
    let prefix = *pick(rng, MOBILE_PREFIXES);
    let rest: u32 = rng.random_range(0..10_000_000);
    format!("{}{} {:03} {:03}", prefix, rest / 1_000_000, (rest / 1000) % 1000, rest % 1000)
}
