//! [`RecordGenerator`]: full records with their history, as `registry generate` writes them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rand::Rng;
use serde_json::{Map, Value};

use registry_domain::code::EnterpriseCode;
use registry_domain::enterprise_type::{self, EnterpriseType};
use registry_domain::imported::{units_reform, vsic_2025_in_force};
use registry_domain::name_check;
use registry_domain::record::Enterprise;
use registry_domain::reference::{Reference, VsicEdition};
use registry_domain::status::Status;

use crate::json::string;
use crate::ownership::{add, Held, Plan, CROSS_SHARE};
use crate::places::{legacy_places, LegacyPlace};
use crate::registration::{BodyPlan, Generator, GeneratorInput, Ward};
use crate::sampling::{hash_str, pick, U64Set, Weighted};
use crate::vsic::VsicSet;

/// The day generated records are "as of" unless told otherwise: fixed, so that a seed gives the
/// same file whatever the day it is run.
pub fn default_as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).expect("a date")
}

/// Share of head offices registered before the 2025 reform that are still in the legacy units.
const LEGACY_SHARE: f64 = 0.4;
/// Share of enterprises with units (branches, representative offices, business locations).
pub(crate) const UNITS_SHARE: f64 = 0.07;

/// Registrations per year (thousands, rounded, after the national statistics) from 1992: the
/// weights of registration years.
#[rustfmt::skip]
const REGISTRATIONS_PER_YEAR: &[(i32, u64)] = &[
    (1992, 5), (1993, 6), (1994, 7), (1995, 8), (1996, 8), (1997, 9), (1998, 9), (1999, 10),
    (2000, 14), (2001, 21), (2002, 22), (2003, 28), (2004, 37), (2005, 40), (2006, 46), (2007, 59),
    (2008, 65), (2009, 85), (2010, 84), (2011, 77), (2012, 69), (2013, 77), (2014, 75), (2015, 94),
    (2016, 111), (2017, 127), (2018, 131), (2019, 138), (2020, 135), (2021, 117), (2022, 149),
    (2023, 160), (2024, 157), (2025, 190), (2026, 200),
];

/// Deterministic generator of full records: the lines of `GET /v1/export` (an enterprise as the
/// register keeps it), each enterprise with `history` earlier versions before its current one.
///
/// Beyond the registration bodies of [`Generator`] (whose names, people, capitals and lines it
/// uses), it draws: registration dates from 1992 weighted by the registrations of each year;
/// codes with valid check digits under the prefix of the province registered in (serials in
/// order with gaps); head offices of enterprises registered before 1 July 2025 in a legacy ward,
/// a share of them still in the legacy units (the others in the 2025 ward the legacy ward
/// became); VSIC 2018 lines for enterprises registered before 15 November 2025, with a VSIC 2025
/// line added by some later changes; statuses in proportions that grow with age (more ceased
/// among the old); units for some; changes of capital, representatives, address, lines, contacts
/// and names, unit registrations and status changes along the legal transitions. Names are
/// unique by the art. 41 keys of [`registry_domain::name_check::keys`] among everything generated
/// (former names included), so no two generated enterprises conflict. Companies and partnerships
/// declare their beneficial owners (or are exempt) from 1 July 2025 (see `ownership`): some are
/// held 50 % or more by earlier generated enterprises, chains two to four levels deep, a few hold
/// each other.
///
/// Records come out rough (unit and ward names, VSIC names and shares left empty); [`crate::resolve`]
/// fills them in through the import's own validation, which also proves them valid.
pub struct RecordGenerator {
    pub(crate) inner: Generator,
    pub(crate) reference: Arc<Reference>,
    pub(crate) history: u32,
    pub(crate) as_of: NaiveDate,
    pub(crate) vsic_2018: VsicSet,
    /// Per 2025 province (as `inner.places.provinces`): the legacy wards that lie in it.
    pub(crate) legacy_places: Vec<Vec<LegacyPlace>>,
    serials: HashMap<String, u32>,
    years: Vec<i32>,
    year_sampler: Weighted,
    pub(crate) status_sampler_young: Weighted,
    read_keys: U64Set,
    core_keys: U64Set,
    abbreviation_keys: U64Set,
    foreign_keys: U64Set,
    /// The enterprises later ones may hold (as `inner.org_codes`), with the individuals behind.
    pub(crate) pool: Vec<Held>,
    /// The second of a cross-holding pair, returned by the next call.
    pending: Option<Vec<Enterprise>>,
}

/// The statuses drawn for a current record, by the weights' index: the fifth is the share of
/// certificates revoked on other grounds, which sends an enterprise into dissolution (the status
/// `revoked` of an earlier contract); the weights keep it apart so that a seed draws as before.
pub(crate) const STATUSES: [Status; 8] = [
    Status::Active,
    Status::Suspended,
    Status::NotAtAddress,
    Status::TaxRevoked,
    Status::Dissolving,
    Status::Dissolving,
    Status::Bankruptcy,
    Status::Ceased,
];

impl RecordGenerator {
    /// A generator over the reference data; every enterprise gets `history` earlier versions.
    pub fn new(seed: u64, reference: Arc<Reference>, history: u32, as_of: NaiveDate) -> RecordGenerator {
        let wards: Vec<Ward> = reference
            .all_wards()
            .map(|w| Ward { province_code: w.province_code.clone(), ward_code: w.code.clone() })
            .collect();
        let level4 = |edition| -> Vec<String> {
            reference.vsic_entries(edition).filter(|e| e.level == 4).map(|e| e.code.clone()).collect()
        };
        let inner = Generator::new(
            seed,
            GeneratorInput { wards, vsic4: level4(VsicEdition::Vsic2025), organisation_owner_codes: Vec::new() },
        );
        let vsic_2018 = VsicSet::new(&level4(VsicEdition::Vsic2018));
        let legacy_places = legacy_places(&reference, &inner.places);
        let years: Vec<i32> = REGISTRATIONS_PER_YEAR.iter().map(|y| y.0).filter(|&y| y <= as_of.year()).collect();
        let year_sampler = Weighted::new(REGISTRATIONS_PER_YEAR.iter().filter(|y| y.0 <= as_of.year()).map(|y| y.1));
        RecordGenerator {
            inner,
            reference,
            history,
            as_of,
            vsic_2018,
            legacy_places,
            serials: HashMap::new(),
            years,
            year_sampler,
            // active, suspended, not at address, tax revoked, revoked, dissolving, bankruptcy, ceased
            status_sampler_young: Weighted::new([940, 40, 10, 0, 0, 5, 0, 5]),
            read_keys: U64Set::default(),
            core_keys: U64Set::default(),
            abbreviation_keys: U64Set::default(),
            foreign_keys: U64Set::default(),
            pool: Vec::new(),
            pending: None,
        }
    }

    /// The moment records are "as of": 17:00 in Vietnam on the as-of day. Nothing generated is
    /// later.
    pub fn as_of_time(&self) -> DateTime<Utc> {
        self.as_of.and_hms_opt(10, 0, 0).expect("a time").and_utc()
    }

    /// The next enterprise: its versions, oldest first, the last one current (rough: see
    /// [`crate::resolve`]).
    pub fn next_enterprise(&mut self) -> Vec<Enterprise> {
        if let Some(versions) = self.pending.take() {
            return versions;
        }
        let first = self.first_version();
        let mut a = self.shape(first);
        if !Self::may_cross(&a) || !self.inner.rng.random_bool(CROSS_SHARE) {
            let (through, depth) = self.through(&a, None);
            let plan = self.plan(&a, through, depth);
            return self.finish(a.record, plan);
        }
        // A cross-holding: this one and the next hold each other (the register cuts the cycle).
        let second = self.first_version();
        let mut b = self.shape(second);
        if Self::may_cross(&b) {
            self.cross(&mut a, &mut b);
        }
        let (code_a, code_b) = (a.record.code.clone(), b.record.code.clone());
        let (mut through_a, depth_a) = self.through(&a, Some(&code_b));
        let (mut through_b, depth_b) = self.through(&b, Some(&code_a));
        let (a_in_b, b_in_a) = (Self::share_of(&b, &code_a), Self::share_of(&a, &code_b));
        let (base_a, base_b) = (through_a.clone(), through_b.clone());
        for (p, s) in &base_b {
            add(&mut through_a, p, b_in_a * s / 100.0);
        }
        for (p, s) in &base_a {
            add(&mut through_b, p, a_in_b * s / 100.0);
        }
        let plan_a = self.plan(&a, through_a, depth_a.max(depth_b));
        let plan_b = self.plan(&b, through_b, depth_a.max(depth_b));
        let versions = self.finish(a.record, plan_a);
        self.pending = Some(self.finish(b.record, plan_b));
        versions
    }

    /// The versions of an enterprise whose first version and declaration are drawn.
    fn finish(&mut self, first: Enterprise, plan: Plan) -> Vec<Enterprise> {
        let mut versions = if self.history == 0 { vec![self.current_only(first)] } else { self.with_history(first) };
        self.settle(&mut versions, plan);
        versions
    }

    /// A first version: the registration as drawn, with its code (owners not yet shaped).
    fn first_version(&mut self) -> Enterprise {
        let registered_on = self.registration_date();
        let at = self.office_time(registered_on);
        let rng = &mut self.inner.rng;
        // The head office: a legacy ward (kept, or as the 2025 ward it became) before the reform.
        let p = self.inner.places.draw_province(rng);
        let province_2025 = self.inner.places.provinces[p].clone();
        let (prefix, province, ward, legacy) = if registered_on < units_reform() && !self.legacy_places[p].is_empty() {
            let place = pick(rng, &self.legacy_places[p]).clone();
            if rng.random_bool(LEGACY_SHARE) {
                (place.province.clone(), place.province, place.ward, true)
            } else {
                (place.province, province_2025, place.ward_2025, false)
            }
        } else {
            let ward = self.inner.places.draw_ward(rng, p).ward_code.clone();
            (province_2025.clone(), province_2025, ward, false)
        };
        let edition = if registered_on < vsic_2025_in_force() { VsicEdition::Vsic2018 } else { VsicEdition::Vsic2025 };
        let latest_birth_year = registered_on.year() - 19;
        let body = loop {
            let mut body = self.inner.body(BodyPlan {
                place: Some((&province, &ward)),
                lines: (edition == VsicEdition::Vsic2018).then_some(&self.vsic_2018),
                latest_birth_year,
            });
            let kind = body["type"].clone();
            if self.take_name(&mut body["name"], &kind) {
                break body;
            }
        };
        let code = self.allocate(&prefix);
        rough_record(body, code, registered_on, at, legacy, edition)
    }

    fn registration_date(&mut self) -> NaiveDate {
        let rng = &mut self.inner.rng;
        let year = self.years[self.year_sampler.sample(rng)];
        let start = NaiveDate::from_ymd_opt(year, 1, 1).expect("a date");
        let end = NaiveDate::from_ymd_opt(year, 12, 31).expect("a date").min(self.as_of);
        let days = (end - start).num_days().max(0);
        start + chrono::Duration::days(rng.random_range(0..=days))
    }

    /// A time in office hours (08:00–17:00 in Vietnam) on `day`.
    fn office_time(&mut self, day: NaiveDate) -> DateTime<Utc> {
        let seconds = self.inner.rng.random_range(3600..10 * 3600);
        day.and_hms_opt(0, 0, 0).expect("midnight").and_utc() + chrono::Duration::seconds(seconds)
    }

    /// Reserves the art. 41 keys of `name` (drops an abbreviation or foreign name that is taken);
    /// false when the name itself is taken.
    pub(crate) fn take_name(&mut self, name: &mut Value, kind: &Value) -> bool {
        let kind = EnterpriseType::parse(kind.as_str().unwrap_or_default()).expect("a generated type");
        let vi = name["vi"].as_str().unwrap_or_default().to_string();
        let Ok(proper) = enterprise_type::proper_name(kind, &vi) else { return false };
        let keys = name_check::keys(&vi, &proper, name["abbreviation"].as_str(), name["en"].as_str());
        let (read, core) = (hash_str(&keys.read_key), hash_str(&keys.core_key));
        if self.read_keys.contains(&read) || self.core_keys.contains(&core) {
            return false;
        }
        self.read_keys.insert(read);
        self.core_keys.insert(core);
        let map = name.as_object_mut().expect("a name object");
        if let Some(k) = &keys.abbreviation_key {
            if !self.abbreviation_keys.insert(hash_str(k)) {
                map.remove("abbreviation");
            }
        }
        if let Some(k) = &keys.foreign_key {
            if !self.foreign_keys.insert(hash_str(k)) {
                map.remove("en");
            }
        }
        true
    }

    /// The next code under `prefix`: serials in order, a few skipped (given elsewhere, refused).
    fn allocate(&mut self, prefix: &str) -> String {
        let gap = self.inner.rng.random_range(0..3u32);
        let next = self.serials.entry(prefix.to_string()).or_insert(1);
        let (serial, code) = EnterpriseCode::next_valid(prefix, *next + gap).expect("serials left under the prefix");
        *next = serial + 1;
        code.to_string()
    }
}

/// Version 1 of a record from a registration body (names of places and lines, shares: empty).
fn rough_record(
    body: Value,
    code: String,
    registered_on: NaiveDate,
    at: DateTime<Utc>,
    legacy: bool,
    edition: VsicEdition,
) -> Enterprise {
    let Value::Object(mut m) = body else { unreachable!("a body is an object") };
    if let Some(Value::Object(ho)) = m.get_mut("head_office") {
        ho.insert("ward_name".into(), string(""));
        ho.insert("province_name".into(), string(""));
        if legacy {
            ho.insert("legacy".into(), Value::Object(Map::new()));
        }
    }
    for line in m.get_mut("business_lines").and_then(Value::as_array_mut).into_iter().flatten() {
        line["edition"] = string(edition.as_str());
        line["name"] = string("");
    }
    for owner in m.get_mut("owners").and_then(Value::as_array_mut).into_iter().flatten() {
        owner["share_percent"] = Value::from(0.0);
    }
    m.insert("code".into(), Value::String(code));
    m.insert("status".into(), string("active"));
    m.insert("registered_on".into(), Value::String(registered_on.to_string()));
    m.insert("version".into(), Value::from(1));
    m.insert("registration_changes".into(), Value::from(0));
    m.insert("units".into(), Value::Array(Vec::new()));
    m.insert("updated_at".into(), serde_json::to_value(at).expect("a time serialises"));
    serde_json::from_value(Value::Object(m)).expect("a generated body has the record's shape")
}
