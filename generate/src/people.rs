//! Legal representatives and owners: Vietnamese citizens with CCCD numbers consistent with their
//! birth, foreign owners with passports, organisation owners; capitals split among owners.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use serde_json::Value;

use registry_domain::enterprise_type::EnterpriseType;

use crate::json::{obj, push_digits, string};
use crate::registration::{Generator, EARLIEST_BIRTH_YEAR, LATEST_BIRTH_YEAR};
use crate::sampling::pick;
use crate::words::{nfc, BIRTH_PROVINCES, FOREIGNERS, PASSPORT_LETTERS};

#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub(crate) name: String,
    pub(crate) birth: NaiveDate,
    pub(crate) nationality: &'static str,
    pub(crate) id_kind: &'static str,
    pub(crate) id_number: String,
}

impl Person {
    pub(crate) fn identity(&self) -> Value {
        obj([("kind", string(self.id_kind)), ("number", string(&self.id_number))])
    }
    fn as_rep(&self, position: &str) -> Value {
        let mut birth = String::with_capacity(10);
        push_digits(&mut birth, self.birth.year() as u64, 4);
        birth.push('-');
        push_digits(&mut birth, u64::from(self.birth.month()), 2);
        birth.push('-');
        push_digits(&mut birth, u64::from(self.birth.day()), 2);
        obj([
            ("full_name", string(&self.name)),
            ("position", string(position)),
            ("birth_date", Value::String(birth)),
            ("nationality", string(self.nationality)),
            ("identity", self.identity()),
        ])
    }
    fn as_owner(&self, capital: u64) -> Value {
        obj([
            ("kind", string("individual")),
            ("name", string(&self.name)),
            ("nationality", string(self.nationality)),
            ("identity", self.identity()),
            ("capital_vnd", Value::from(capital)),
        ])
    }
}

pub(crate) enum Owner {
    Person(usize),
    Organisation { name: String, code: String },
}

/// How many members a multi-member LLC has: bands of a draw per mille (below the first number),
/// each with its fewest and most members.
const LLC_MEMBERS: &[(u32, usize, usize)] =
    &[(450, 2, 2), (700, 3, 3), (820, 4, 4), (900, 5, 5), (970, 6, 10), (1000, 11, 50)];
/// How many founding shareholders a JSC has, as [`LLC_MEMBERS`].
const JSC_SHAREHOLDERS: &[(u32, usize, usize)] =
    &[(400, 3, 3), (580, 4, 4), (750, 5, 5), (830, 6, 6), (900, 7, 7), (980, 8, 15), (1000, 16, 30)];

/// The people of one registration as they are drawn: who they are, who of them own, who
/// represents the enterprise and as what.
#[derive(Default)]
struct Founders {
    persons: Vec<Person>,
    owners: Vec<Owner>,
    /// Indices into `persons`, with the position.
    representatives: Vec<(usize, &'static str)>,
}

impl Founders {
    fn representatives_json(&self) -> Vec<Value> {
        self.representatives.iter().map(|&(i, position)| self.persons[i].as_rep(position)).collect()
    }

    /// The owners, with the capitals `parts` (in owner order).
    fn owners_json(&self, parts: Vec<u64>) -> Vec<Value> {
        self.owners
            .iter()
            .zip(parts)
            .map(|(o, cap)| match o {
                Owner::Person(i) => self.persons[*i].as_owner(cap),
                Owner::Organisation { name, code } => obj([
                    ("kind", string("organisation")),
                    ("name", string(name)),
                    ("enterprise_code", string(code)),
                    ("capital_vnd", Value::from(cap)),
                ]),
            })
            .collect()
    }
}

impl Generator {
    /// The legal representatives and the owners of a registration of `kind` (art. 12 and the
    /// owners each type has), the owners' capitals summing to `capital`.
    pub(crate) fn people(&mut self, kind: EnterpriseType, capital: u64, province: &str) -> (Vec<Value>, Vec<Value>) {
        let mut founders = Founders::default();
        match kind {
            EnterpriseType::PrivateEnterprise => {
                let p = self.vn_person(province, &mut founders.persons);
                founders.owners.push(Owner::Person(p));
                founders.representatives.push((p, "Chủ doanh nghiệp"));
            }
            EnterpriseType::Partnership => self.partners(province, &mut founders),
            EnterpriseType::LlcSingle => self.single_member(province, &mut founders),
            EnterpriseType::LlcMulti | EnterpriseType::Jsc => self.members(kind, province, &mut founders),
        }
        let parts = self.split_capital(capital, founders.owners.len(), true);
        let mut owners = founders.owners_json(parts);
        // Who the individual owners are (their birth dates are not on the record): the
        // beneficial-owner declaration names them.
        self.owner_persons = founders
            .owners
            .iter()
            .map(|o| match o {
                Owner::Person(i) => Some(founders.persons[*i].clone()),
                Owner::Organisation { .. } => None,
            })
            .collect();
        if kind == EnterpriseType::Partnership {
            // Art. 177.1: the partners drawn are general partners, individuals (no draw, so the
            // sequence of every other body stays as it was).
            for owner in &mut owners {
                owner["partner_kind"] = string("general");
            }
        }
        (founders.representatives_json(), owners)
    }

    /// General partners, one or two of whom represent the partnership.
    fn partners(&mut self, province: &str, founders: &mut Founders) {
        let n = match self.rng.random_range(0..100u32) {
            0..=59 => 2,
            60..=84 => 3,
            85..=94 => 4,
            _ => 5,
        };
        for _ in 0..n {
            let p = self.vn_person(province, &mut founders.persons);
            founders.owners.push(Owner::Person(p));
        }
        let r = if self.rng.random_bool(0.6) { 1 } else { 2 };
        for p in 0..r {
            founders.representatives.push((p, "Thành viên hợp danh"));
        }
    }

    /// The owner of a single-member LLC (an organisation or a foreigner for a few, then with a
    /// Vietnamese director) and its director, usually the owner.
    fn single_member(&mut self, province: &str, founders: &mut Founders) {
        const DIRECTORS: &[&str] = &["Giám đốc", "Tổng Giám đốc"];
        let org = !self.org_codes.is_empty() && self.rng.random_bool(0.04);
        let foreign = !org && self.rng.random_bool(0.01);
        if org || foreign {
            let owner = if org {
                self.organisation(&founders.owners)
            } else {
                Owner::Person(self.foreign_person(&mut founders.persons))
            };
            founders.owners.push(owner);
            let p = self.vn_person(province, &mut founders.persons);
            founders.representatives.push((p, self.position(DIRECTORS, &[75, 25])));
        } else {
            let o = self.vn_person(province, &mut founders.persons);
            founders.owners.push(Owner::Person(o));
            let rep = if self.rng.random_bool(0.85) { o } else { self.vn_person(province, &mut founders.persons) };
            founders.representatives.push((rep, self.position(DIRECTORS, &[80, 20])));
        }
    }

    /// The members of a multi-member LLC or the shareholders of a JSC, and one or two
    /// representatives, usually members themselves.
    fn members(&mut self, kind: EnterpriseType, province: &str, founders: &mut Founders) {
        let n = self.member_count(kind);
        // Representatives: the first is usually a member, the second sometimes;
        // the chair of an LLC's members' council always is one.
        for (i, pos) in self.representative_positions(kind).into_iter().enumerate() {
            let member = self.rng.random_bool(if i == 0 { 0.8 } else { 0.5 }) || pos == "Chủ tịch Hội đồng thành viên";
            let p = self.vn_person(province, &mut founders.persons);
            if member {
                founders.owners.push(Owner::Person(p));
            }
            founders.representatives.push((p, pos));
        }
        while founders.owners.len() < n {
            let r: u32 = self.rng.random_range(0..1000);
            let owner = if r < 15 && self.org_codes.len() > org_count(&founders.owners) {
                self.organisation(&founders.owners)
            } else if r < 35 {
                Owner::Person(self.foreign_person(&mut founders.persons))
            } else {
                Owner::Person(self.vn_person(province, &mut founders.persons))
            };
            founders.owners.push(owner);
        }
    }

    /// How many members (2 to 50) or founding shareholders (3 or more) a company has.
    fn member_count(&mut self, kind: EnterpriseType) -> usize {
        let bands = if kind == EnterpriseType::LlcMulti { LLC_MEMBERS } else { JSC_SHAREHOLDERS };
        let r = self.rng.random_range(0..1000u32);
        let &(_, fewest, most) = bands.iter().find(|band| r < band.0).expect("bands up to 1000");
        if fewest == most {
            fewest
        } else {
            self.rng.random_range(fewest..=most)
        }
    }

    /// The positions of a company's legal representatives: the chair and a director, or one of
    /// them.
    fn representative_positions(&mut self, kind: EnterpriseType) -> Vec<&'static str> {
        let jsc = kind == EnterpriseType::Jsc;
        let two_reps = self.rng.random_bool(if jsc { 0.25 } else { 0.2 });
        let chair =
            if jsc { "Chủ tịch Hội đồng quản trị" } else { "Chủ tịch Hội đồng thành viên" };
        if two_reps {
            vec![chair, self.position(&["Giám đốc", "Tổng Giám đốc"], &[60, 40])]
        } else if jsc {
            vec![self.position(&[chair, "Giám đốc", "Tổng Giám đốc"], &[30, 40, 30])]
        } else {
            vec![self.position(&[chair, "Giám đốc", "Tổng Giám đốc"], &[30, 50, 20])]
        }
    }

    pub(crate) fn position(&mut self, options: &[&'static str], weights: &[u32]) -> &'static str {
        let total: u32 = weights.iter().sum();
        let mut r = self.rng.random_range(0..total);
        for (o, &w) in options.iter().zip(weights) {
            if r < w {
                return o;
            }
            r -= w;
        }
        options[options.len() - 1]
    }

    /// An organisation owner with a code from the caller's list not yet used in this body.
    pub(crate) fn organisation(&mut self, owners: &[Owner]) -> Owner {
        let code = loop {
            let c = pick(&mut self.rng, &self.org_codes).clone();
            let used = owners.iter().any(|o| matches!(o, Owner::Organisation { code, .. } if *code == c));
            if !used {
                break c;
            }
        };
        Owner::Organisation { name: self.organisation_name(), code }
    }

    /// An invented name of an organisation owner.
    fn organisation_name(&mut self) -> String {
        let prefix = match self.rng.random_range(0..10u32) {
            0..=5 => "Công ty cổ phần",
            6..=8 => "Công ty TNHH",
            _ => "Tổng công ty",
        };
        let words = &self.vocabulary;
        let t = *pick(&mut self.rng, &words.generic_trades);
        let a = self.rng.random_range(0..words.syllables.len());
        let b = *pick(&mut self.rng, &words.endings);
        let (trade, first, ending) = (&words.trades[t].vi, &words.syllables[a].text, &words.syllables[b].text);
        let name =
            if a == b { format!("{prefix} {trade} {first}") } else { format!("{prefix} {trade} {first} {ending}") };
        nfc(&name)
    }

    /// A Vietnamese citizen with a fresh CCCD; its name differs from the others in `persons`.
    pub(crate) fn vn_person(&mut self, province: &str, persons: &mut Vec<Person>) -> usize {
        let female = self.rng.random_bool(0.36);
        let name = loop {
            let name = self.vn_name(female);
            if !persons.iter().any(|p| p.name == name) {
                break name;
            }
        };
        let birth = self.birth_date();
        let number = self.cccd(province, birth.year(), female);
        persons.push(Person { name, birth, nationality: "VN", id_kind: "cccd", id_number: number });
        persons.len() - 1
    }

    /// A Vietnamese full name: surname, middle name(s), given name (never "Nguyễn Minh Minh").
    fn vn_name(&mut self, female: bool) -> String {
        let words = &self.vocabulary;
        loop {
            let mut name = String::with_capacity(40);
            name.push_str(words.surnames.draw(&mut self.rng));
            name.push(' ');
            let given: &str = if female {
                let m = words.female_middle.draw(&mut self.rng);
                name.push_str(m);
                if m == "Thị" && self.rng.random_bool(0.2) {
                    name.push(' ');
                    name.push_str(pick::<String>(&mut self.rng, &words.female_middle2));
                }
                pick::<String>(&mut self.rng, &words.female_given)
            } else {
                name.push_str(words.male_middle.draw(&mut self.rng));
                pick::<String>(&mut self.rng, &words.male_given)
            };
            if !name.ends_with(given) {
                name.push(' ');
                name.push_str(given);
                return name;
            }
        }
    }

    /// A birth date: the year triangular over 1950..2005 with its mode at 1982, no later than
    /// `latest_birth_year`.
    fn birth_date(&mut self) -> NaiveDate {
        let u: f64 = self.rng.random();
        let (a, c, b) = (1950.0f64, 1982.0f64, 2005.0f64);
        let fc = (c - a) / (b - a);
        let y = if u < fc { a + (u * (b - a) * (c - a)).sqrt() } else { b - ((1.0 - u) * (b - a) * (b - c)).sqrt() };
        let mut year = (y.floor() as i32).clamp(EARLIEST_BIRTH_YEAR, LATEST_BIRTH_YEAR);
        if year > self.latest_birth_year {
            // Squeezed into the allowed years (no extra draw, so the stream stays the same).
            let span = (self.latest_birth_year - EARLIEST_BIRTH_YEAR).max(0);
            year =
                EARLIEST_BIRTH_YEAR + (year - EARLIEST_BIRTH_YEAR) * span / (LATEST_BIRTH_YEAR - EARLIEST_BIRTH_YEAR);
        }
        let days = if NaiveDate::from_ymd_opt(year, 2, 29).is_some() { 366 } else { 365 };
        let ordinal = self.rng.random_range(1..=days);
        NaiveDate::from_yo_opt(year, ordinal).expect("valid ordinal day")
    }

    /// A CCCD number not drawn before: the place of birth (the head office's province for many),
    /// the century and sex, the year of birth, six random digits.
    fn cccd(&mut self, province: &str, year: i32, female: bool) -> String {
        let birth_province: u64 = if self.rng.random_bool(0.45) {
            province.parse().unwrap_or(1)
        } else {
            u64::from(*pick(&mut self.rng, BIRTH_PROVINCES))
        };
        let century_sex: u64 = if year >= 2000 { 2 } else { 0 } + u64::from(female);
        let yy = (year % 100) as u64;
        let prefix = ((birth_province * 10 + century_sex) * 100 + yy) * 1_000_000;
        let number = loop {
            let n = prefix + self.rng.random_range(0..1_000_000u64);
            if self.identities.insert(n) {
                break n;
            }
        };
        let mut id = String::with_capacity(12);
        push_digits(&mut id, number, 12);
        id
    }

    /// A foreign owner (never a legal representative) with a fresh passport number.
    fn foreign_person(&mut self, persons: &mut Vec<Person>) -> usize {
        let (nat, _, families, givens) = FOREIGNERS[self.vocabulary.foreign_sampler.sample(&mut self.rng)];
        let name = loop {
            let f = pick(&mut self.rng, families);
            let g = pick(&mut self.rng, givens);
            // East Asian order (family name first) for KR, JP, CN, TW, SG.
            let name =
                if matches!(nat, "KR" | "JP" | "CN" | "TW" | "SG") { format!("{f} {g}") } else { format!("{g} {f}") };
            let name = nfc(&name);
            if !persons.iter().any(|p| p.name == name) {
                break name;
            }
        };
        let year = self.rng.random_range(1955..=2000);
        let birth = NaiveDate::from_yo_opt(year, self.rng.random_range(1..=365)).expect("valid day");
        let (letter_idx, digits) = loop {
            let l = self.rng.random_range(0..PASSPORT_LETTERS.len()) as u64;
            let d = self.rng.random_range(0..10_000_000u64);
            // Passport keys live above the CCCD range (< 10^12) in the same set.
            if self.identities.insert(1_000_000_000_000_000 + l * 10_000_000 + d) {
                break (l as usize, d);
            }
        };
        persons.push(Person {
            name,
            birth,
            nationality: nat,
            id_kind: "passport",
            id_number: format!("{}{digits:07}", PASSPORT_LETTERS[letter_idx] as char),
        });
        persons.len() - 1
    }
}

fn org_count(owners: &[Owner]) -> usize {
    owners.iter().filter(|o| matches!(o, Owner::Organisation { .. })).count()
}
