//! The history of a generated enterprise: content changes, units and status changes along the
//! legal transitions, up to the as-of day.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use registry_domain::code::{EnterpriseCode, UnitCode};
use registry_domain::enterprise_type::EnterpriseType;
use registry_domain::imported::{units_reform, vsic_2025_in_force};
use registry_domain::legal_date;
use registry_domain::record::{
    BusinessLine, Enterprise, Identity, IdentityKind, LegacyUnits, Unit, UnitAddress, UnitKind,
};
use registry_domain::reference::VsicEdition;
use registry_domain::status::Status;

use crate::address::mobile_phone;
use crate::records::{RecordGenerator, STATUSES, UNITS_SHARE};
use crate::sampling::{pick, Weighted};

impl RecordGenerator {
    /// The status of a current record: older enterprises have more often ceased.
    fn final_status(&mut self, registered_on: NaiveDate) -> Status {
        let age_years = ((self.as_of - registered_on).num_days() / 365) as u64;
        let rng = &mut self.inner.rng;
        if age_years == 0 {
            return STATUSES[self.status_sampler_young.sample(rng)];
        }
        let ceased = (40 + 14 * age_years).min(450);
        let weights = [600, 70, 60, 30, 15, 20, 3, ceased];
        STATUSES[Weighted::new(weights).sample(rng)]
    }

    /// The legal path from `active` to `status`.
    fn status_path(&mut self, status: Status) -> Vec<Status> {
        match status {
            Status::Active => Vec::new(),
            Status::Ceased if self.inner.rng.random_bool(0.9) => vec![Status::Dissolving, Status::Ceased],
            Status::Ceased => vec![Status::Bankruptcy, Status::Ceased],
            other => vec![other],
        }
    }

    /// Without history: the current record alone, at the version its changes would have made.
    pub(crate) fn current_only(&mut self, first: Enterprise) -> Enterprise {
        let mut record = first;
        let status = self.final_status(record.registered_on);
        let path = self.status_path(status);
        let end = self.as_of_time();
        let rng = &mut self.inner.rng;
        let extra: i32 = match rng.random_range(0..100u32) {
            0..=44 => 0,
            45..=69 => 1,
            70..=84 => 2,
            85..=94 => 3,
            _ => rng.random_range(4..=8),
        };
        let start = record.updated_at;
        let mut updated = start;
        if !path.is_empty() || extra > 0 {
            let from = if status == Status::Suspended { start.max(end - chrono::Duration::days(300)) } else { start };
            updated = random_time(rng, from, end);
        }
        let day = legal_date(updated);
        let mut units = 0;
        if rng.random_bool(UNITS_SHARE) && day > record.registered_on {
            units = rng.random_range(1..=3);
        }
        record.version = 1 + path.len() as i32 + units + extra;
        record.registration_changes = if extra > 0 { rng.random_range(0..=extra) } else { 0 };
        record.updated_at = updated;
        for _ in 0..units {
            let on = record.registered_on
                + chrono::Duration::days(self.inner.rng.random_range(0..=(day - record.registered_on).num_days()));
            self.add_unit(&mut record, on);
        }
        record.units.sort_by_key(|u| u.registered_on);
        if extra > 0 && day >= vsic_2025_in_force() && record.business_lines[0].edition == VsicEdition::Vsic2018 {
            self.add_line(&mut record, VsicEdition::Vsic2025);
        }
        self.set_status(&mut record, status, day);
        record
    }

    /// `history` changes after the registration, the last ones along the path to the final status.
    pub(crate) fn with_history(&mut self, first: Enterprise) -> Vec<Enterprise> {
        let status = self.final_status(first.registered_on);
        let mut path = self.status_path(status);
        path.truncate(self.history as usize);
        let start = first.updated_at;
        let end = self.as_of_time();
        let rng = &mut self.inner.rng;
        let mut times: Vec<DateTime<Utc>> =
            (0..self.history).map(|_| random_time(rng, start + chrono::Duration::seconds(1), end)).collect();
        times.sort();
        if path.last() == Some(&Status::Suspended) {
            // A suspension lasts at most a year: recent.
            let last = times.len() - 1;
            times[last] = times[last].max(end - chrono::Duration::days(rng.random_range(1..300)));
        }
        for i in 1..times.len() {
            if times[i] <= times[i - 1] {
                times[i] = times[i - 1] + chrono::Duration::seconds(1);
            }
        }
        let content_changes = times.len() - path.len();
        let mut versions = vec![first];
        for (i, at) in times.into_iter().enumerate() {
            let mut next = versions.last().expect("a first version").clone();
            next.version += 1;
            next.updated_at = at;
            let day = legal_date(at);
            if i < content_changes {
                if self.content_change(&mut next, day) {
                    next.registration_changes += 1;
                }
            } else {
                let s = path[i - content_changes];
                self.set_status(&mut next, s, day);
            }
            versions.push(next);
        }
        versions
    }

    fn set_status(&mut self, record: &mut Enterprise, status: Status, day: NaiveDate) {
        record.status = status;
        // A suspension still in force on the as-of day (one that had ended would read `active`):
        // it ends at least 60 days after it, within the year one notice covers (a suspension
        // starts at most 300 days before the as-of day).
        record.status_until = (status == Status::Suspended).then(|| {
            let days = self.inner.rng.random_range(90..=365i64);
            (day + chrono::Duration::days(days)).max(self.as_of + chrono::Duration::days(60 + days % 6))
        });
        if status == Status::Ceased {
            for u in &mut record.units {
                u.status = Status::Ceased;
            }
        }
    }

    /// One change of the record's content on `day`; true when it is a registration change (a
    /// certificate item).
    fn content_change(&mut self, record: &mut Enterprise, day: NaiveDate) -> bool {
        let represented_by_members =
            matches!(record.enterprise_type, EnterpriseType::PrivateEnterprise | EnterpriseType::Partnership);
        match self.inner.rng.random_range(0..100u32) {
            0..=24 => {
                record.charter_capital_vnd *= 2;
                for o in record.owners.iter_mut().flatten() {
                    o.capital_vnd *= 2;
                }
                true
            }
            25..=39 if !represented_by_members => {
                let province = record.head_office.province_code.clone();
                self.inner.latest_birth_year = day.year() - 19;
                let mut persons = Vec::new();
                let i = self.inner.vn_person(&province, &mut persons);
                let person = &persons[i];
                let rep = &mut record.legal_representatives[0];
                rep.full_name = person.name.clone();
                rep.birth_date = Some(person.birth);
                rep.nationality = "VN".into();
                rep.identity = Some(Identity { kind: IdentityKind::Cccd, number: person.id_number.clone() });
                true
            }
            40..=54 => {
                self.move_head_office(record, day);
                true
            }
            55..=69 => {
                let edition = if day >= vsic_2025_in_force() { VsicEdition::Vsic2025 } else { VsicEdition::Vsic2018 };
                self.add_line(record, edition);
                false
            }
            70..=84 | 25..=39 => {
                record.head_office.phone = Some(mobile_phone(&mut self.inner.rng));
                false
            }
            85..=96 => {
                self.add_unit(record, day);
                false
            }
            _ => {
                let kind = record.enterprise_type;
                let main_div = record.business_lines[0].vsic.get(..2).and_then(|d| d.parse().ok()).unwrap_or(0);
                let type_value = Value::String(record.enterprise_type.as_str().into());
                let name = loop {
                    let trades = self.inner.trade_words(main_div);
                    let syl = self.inner.proper_name();
                    let mut name = self.inner.name_value(kind, &trades, &syl);
                    if self.take_name(&mut name, &type_value) {
                        break name;
                    }
                };
                record.name = serde_json::from_value(name).expect("a name object");
                true
            }
        }
    }

    /// A province (an index into the generator's places) for a new address of `record`: its
    /// head office's with the odds `stay`, else one drawn by weight.
    fn province_near(&mut self, record: &Enterprise, stay: f64) -> usize {
        let rng = &mut self.inner.rng;
        let places = &self.inner.places;
        if rng.random_bool(stay) {
            places.province_index(record.head_office.current_province_code()).unwrap_or(0)
        } else {
            places.draw_province(rng)
        }
    }

    fn move_head_office(&mut self, record: &mut Enterprise, day: NaiveDate) {
        let p = self.province_near(record, 0.8);
        let rng = &mut self.inner.rng;
        let (province, ward, legacy) = if day < units_reform() && !self.legacy_places[p].is_empty() {
            let place = pick(rng, &self.legacy_places[p]);
            (place.province.clone(), place.ward.clone(), true)
        } else {
            let ward = self.inner.places.draw_ward(rng, p);
            (self.inner.places.provinces[p].clone(), ward.ward_code.clone(), false)
        };
        let n: u32 = rng.random_range(1..=300);
        let street = pick(rng, &self.inner.vocabulary.streets).clone();
        let ho = &mut record.head_office;
        ho.street = format!("Số {n} đường {street}");
        ho.province_code = province;
        ho.ward_code = ward;
        ho.ward_name.clear();
        ho.province_name.clear();
        ho.legacy = legacy.then(LegacyUnits::default);
    }

    fn add_line(&mut self, record: &mut Enterprise, edition: VsicEdition) {
        let set = if edition == VsicEdition::Vsic2018 { &self.vsic_2018 } else { &self.inner.lines };
        for _ in 0..10 {
            let code = &set.codes[set.line_sampler.sample(&mut self.inner.rng)];
            if !record.business_lines.iter().any(|l| l.vsic == *code) {
                record.business_lines.push(BusinessLine {
                    vsic: code.clone(),
                    main: false,
                    edition,
                    name: String::new(),
                });
                return;
            }
        }
    }

    /// Registers a unit on `day`: a branch, a representative office or a business location in a
    /// 2025 ward, named after the enterprise (art. 40.2).
    fn add_unit(&mut self, record: &mut Enterprise, day: NaiveDate) {
        let kind = match self.inner.rng.random_range(0..100u32) {
            0..=49 => UnitKind::Branch,
            50..=64 => UnitKind::RepresentativeOffice,
            _ => UnitKind::BusinessLocation,
        };
        let p = self.province_near(record, 0.6);
        let rng = &mut self.inner.rng;
        let ward_code = self.inner.places.draw_ward(rng, p).ward_code.clone();
        let province_code = self.inner.places.provinces[p].clone();
        let n: u32 = rng.random_range(1..=300);
        let street = pick(rng, &self.inner.vocabulary.streets).clone();
        let location = kind == UnitKind::BusinessLocation;
        let seq = record.units.iter().filter(|u| (u.kind == UnitKind::BusinessLocation) == location).count() as u32 + 1;
        let code = EnterpriseCode::parse(&record.code).expect("a generated code");
        let (unit_code, location_code) = if location {
            (UnitCode::location(&code, seq).expect("few units"), Some(format!("{seq:05}")))
        } else {
            (UnitCode::dependent(&code, seq as u16).expect("few units"), None)
        };
        let place = self
            .reference
            .province(&province_code)
            .map(|p| p.name.trim_start_matches("Thành phố ").trim_start_matches("Tỉnh ").to_string())
            .unwrap_or_default();
        let word = match kind {
            UnitKind::Branch => "Chi nhánh",
            UnitKind::RepresentativeOffice => "Văn phòng đại diện",
            UnitKind::BusinessLocation => "Địa điểm kinh doanh",
        };
        let name = if location {
            format!("{word} {} số {seq}", record.name.vi)
        } else {
            format!("{word} {} tại {place}", record.name.vi)
        };
        record.units.push(Unit {
            unit_code: unit_code.to_string(),
            enterprise_code: record.code.clone(),
            kind,
            location_code,
            name,
            address: UnitAddress {
                street: format!("Số {n} đường {street}"),
                ward_code,
                ward_name: String::new(),
                province_code,
                province_name: String::new(),
            },
            status: Status::Active,
            status_until: None,
            registered_on: day,
            scheduled_changes: Vec::new(),
        });
    }
}

/// A time between `from` and `to` (inclusive, to the second); `from` when `to` is earlier.
pub(crate) fn random_time(rng: &mut ChaCha8Rng, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let span = (to - from).num_seconds();
    if span <= 0 {
        return from;
    }
    from + chrono::Duration::seconds(rng.random_range(0..=span))
}
