//! [`Generator`]: registration request bodies, each meant to pass the service's validation.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use registry_domain::enterprise_type::EnterpriseType;

use crate::json::{obj, string};
use crate::people::Person;
use crate::places::Places;
use crate::sampling::{U64Set, Weighted};
use crate::vocabulary::Vocabulary;
use crate::vsic::VsicSet;

/// One 2025 commune-level unit (ward or commune) with its province.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ward {
    pub province_code: String,
    pub ward_code: String,
}

/// Reference data the generator draws from.
#[derive(Debug, Clone, Default)]
pub struct GeneratorInput {
    /// 2025 wards/communes (must not be empty).
    pub wards: Vec<Ward>,
    /// Level-4 VSIC 2025 codes (must not be empty).
    pub vsic4: Vec<String>,
    /// Enterprise codes of already registered enterprises that may appear as
    /// organisation owners (may be empty: then no organisation owners).
    pub organisation_owner_codes: Vec<String>,
}

/// Relative frequency of each type of enterprise among new registrations, in
/// [`EnterpriseType::ALL`] order.
const TYPE_WEIGHTS: [u64; 5] = [45, 20, 22, 3, 10];

/// The youngest birth year of people drawn (adults at today's registrations).
pub(crate) const LATEST_BIRTH_YEAR: i32 = 2004;
/// The oldest birth year of Vietnamese people drawn.
pub(crate) const EARLIEST_BIRTH_YEAR: i32 = 1950;

/// How [`Generator::body`] draws a body: `None` draws as [`Generator::next_registration`] does.
pub(crate) struct BodyPlan<'a> {
    /// Province and ward codes of the head office.
    pub(crate) place: Option<(&'a str, &'a str)>,
    /// The VSIC codes (one edition) to draw the lines from.
    pub(crate) lines: Option<&'a VsicSet>,
    /// Legal representatives and owners are born in this year or before.
    pub(crate) latest_birth_year: i32,
}

/// Deterministic generator of registration bodies.
pub struct Generator {
    pub(crate) rng: ChaCha8Rng,
    pub(crate) places: Places,
    /// The VSIC codes new registrations draw from (the input's, VSIC 2025).
    pub(crate) lines: VsicSet,
    line_count_sampler: Weighted,
    pub(crate) org_codes: Vec<String>,
    pub(crate) vocabulary: Vocabulary,
    kind_sampler: Weighted,
    /// 10^(j/100) * 10^6 for j in 0..100 (log-spaced mantissas for capitals)
    mantissas: Vec<u64>,
    /// People drawn are born in this year or before ([`LATEST_BIRTH_YEAR`] unless a plan says).
    pub(crate) latest_birth_year: i32,
    // What was drawn already, kept unique over the run.
    pub(crate) name_keys: U64Set,
    pub(crate) en_names: U64Set,
    pub(crate) abbreviations: U64Set,
    pub(crate) identities: U64Set,
    /// The individual owners of the last body drawn, in owner order (`None`: an organisation).
    pub(crate) owner_persons: Vec<Option<Person>>,
}

impl Generator {
    /// Builds a generator. Panics if `input.wards` or `input.vsic4` is empty.
    pub fn new(seed: u64, input: GeneratorInput) -> Generator {
        assert!(!input.wards.is_empty(), "generator needs at least one ward");
        assert!(!input.vsic4.is_empty(), "generator needs at least one level-4 VSIC code");
        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            places: Places::new(input.wards),
            lines: VsicSet::new(&input.vsic4),
            line_count_sampler: Weighted::new([20, 20, 18, 15, 14, 13]),
            org_codes: input.organisation_owner_codes,
            vocabulary: Vocabulary::new(),
            kind_sampler: Weighted::new(TYPE_WEIGHTS),
            mantissas: (0..100).map(|j| (10f64.powf(f64::from(j) / 100.0) * 1e6).round() as u64).collect(),
            latest_birth_year: LATEST_BIRTH_YEAR,
            name_keys: U64Set::default(),
            en_names: U64Set::default(),
            abbreviations: U64Set::default(),
            identities: U64Set::default(),
            owner_persons: Vec::new(),
        }
    }

    /// The next registration body (same seed + input ⇒ same sequence).
    pub fn next_registration(&mut self) -> Value {
        self.body(BodyPlan { place: None, lines: None, latest_birth_year: LATEST_BIRTH_YEAR })
    }

    /// A registration body as [`Self::next_registration`] draws it, with the head office, the
    /// VSIC edition and the representatives' ages given by `plan`.
    pub(crate) fn body(&mut self, plan: BodyPlan) -> Value {
        let kind = EnterpriseType::ALL[self.kind_sampler.sample(&mut self.rng)];

        // Head office location.
        let (province_code, ward_code) = match plan.place {
            Some((province, ward)) => (province.to_string(), ward.to_string()),
            None => {
                let p = self.places.draw_province(&mut self.rng);
                let ward = self.places.draw_ward(&mut self.rng, p);
                (self.places.provinces[p].clone(), ward.ward_code.clone())
            }
        };
        self.latest_birth_year = plan.latest_birth_year;

        // Business lines, then the name coherent with the main one.
        let set = plan.lines.unwrap_or(&self.lines);
        let lines = set.draw_lines(&mut self.rng, &self.line_count_sampler);
        let main_div = set.codes[lines[0]].get(..2).and_then(|d| d.parse::<u32>().ok()).unwrap_or(0);
        let line_codes: Vec<String> = lines.iter().map(|&l| set.codes[l].clone()).collect();
        let trades = self.trade_words(main_div);
        let syl = self.proper_name();

        let name = self.name_value(kind, &trades, &syl);
        let head_office = self.head_office(&province_code, &ward_code, &trades, &syl);
        let capital = self.charter_capital(kind);
        let (reps, owners) = self.people(kind, capital, &province_code);

        let business_lines: Vec<Value> = line_codes
            .iter()
            .enumerate()
            .map(|(i, code)| obj([("vsic", string(code)), ("main", Value::Bool(i == 0))]))
            .collect();

        obj([
            ("type", string(kind.as_str())),
            ("name", name),
            ("head_office", head_office),
            ("charter_capital_vnd", Value::from(capital)),
            ("business_lines", Value::Array(business_lines)),
            ("legal_representatives", Value::Array(reps)),
            ("owners", Value::Array(owners)),
        ])
    }

    /// Charter capital in VND: 100 million to 100 billion, log-distributed, in millions.
    /// Integer arithmetic after the uniform draw, so it is identical on every platform.
    fn charter_capital(&mut self, kind: EnterpriseType) -> u64 {
        let u: f64 = (self.rng.random::<f64>() + self.rng.random::<f64>()) / 2.0;
        // (lowest, span) in hundredths of a decade of VND
        let (lo, span) = match kind {
            EnterpriseType::Jsc => (870.0, 230.0),
            EnterpriseType::LlcMulti => (830.0, 250.0),
            EnterpriseType::PrivateEnterprise => (800.0, 200.0),
            EnterpriseType::LlcSingle | EnterpriseType::Partnership => (800.0, 260.0),
        };
        let h = ((lo + span * u).floor() as u64).clamp(800, 1100);
        let (decade, frac) = (h / 100, (h % 100) as usize);
        // millions = mantissa(1..10 scaled by 10^6) * 10^decade / 10^12
        let millions = u128::from(self.mantissas[frac]) * 10u128.pow(decade as u32) / 1_000_000_000_000;
        let millions = millions as u64;
        // Round to 2 significant digits (60%) or 3.
        let sig = if self.rng.random_bool(0.6) { 2 } else { 3 };
        let digits = millions.max(1).ilog10() + 1;
        let mag = 10u64.pow(digits.saturating_sub(sig));
        let rounded = (millions + mag / 2) / mag * mag;
        rounded.clamp(100, 100_000) * 1_000_000
    }

    /// Splits `capital` (a multiple of 1,000,000) into `n` positive parts summing exactly.
    pub(crate) fn split_capital(&mut self, capital: u64, n: usize, major_first: bool) -> Vec<u64> {
        if n == 1 {
            return vec![capital];
        }
        let n64 = n as u64;
        let units_m = capital / 1_000_000;
        // Largest round granularity (in millions) that still leaves ~10 units per part.
        let mut g = 1u64;
        for cand in [100u64, 50, 10, 5, 1] {
            if units_m.is_multiple_of(cand) && units_m / cand >= 10 * n64 {
                g = cand;
                break;
            }
        }
        let units = units_m / g;
        // Integer weights, so the floors below are exact and never overshoot.
        let mut weights: Vec<u64> = (0..n).map(|_| self.rng.random_range(50..=1050)).collect();
        if major_first {
            weights[0] += self.rng.random_range(0..=500 * n64);
        }
        let total: u64 = weights.iter().sum();
        let spare = units - n64; // each part gets 1 unit first (units >= 10 n or >= 100 >= n)
        let mut parts: Vec<u64> =
            weights.iter().map(|&w| 1 + (u128::from(spare) * u128::from(w) / u128::from(total)) as u64).collect();
        let assigned: u64 = parts.iter().sum();
        // Give the rounding rest to the largest weight (first one on ties).
        let largest = (0..n).max_by(|&a, &b| weights[a].cmp(&weights[b]).then(b.cmp(&a))).unwrap_or(0);
        parts[largest] += units - assigned;
        parts.iter().map(|p| p * g * 1_000_000).collect()
    }
}
