//! Records loaded whole by `registry import`: full records as `GET /v1/export` writes them, from
//! another register or from before this one. Each is checked by the rules of a registration, its
//! code is kept (check digit verified), and what the law keeps valid as registered is accepted
//! (SPEC §2.4): a head office in the legacy units for an enterprise registered before 1 July
//! 2025, VSIC 2018 lines for one registered before 15 November 2025. Names, codes and the
//! derived 2025 unit are resolved from the reference data as for a registration.
//!
//! The art. 41 name test is not applied: it judges an application against the names registered
//! when it is filed, and historical registrations were judged then (before 2010 names were unique
//! within a province only). Imported names are in the name keys, so later applications are judged
//! against them.

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::Deserialize;

use super::beneficial_owners::{BeneficialOwner, BeneficialOwnerInput, BeneficialOwnership, Discrepancy, ExemptReason};
use super::code::{EnterpriseCode, UnitCode};
use super::enterprise_type::EnterpriseType;
use super::errors::{Errors, FieldError};
use super::legal_date;
use super::people::{IdentityInput, OwnerInput, RepresentativeInput};
use super::record::{
    BusinessLine, Enterprise, EnterpriseName, HeadOffice, Identity, IdentityKind, LegacyUnits, LegalRepresentative,
    License, Owner, OwnerKind, PartnerKind, ScheduledChange, Unit, UnitAddress, UnitKind,
};
use super::reference::{Reference, VsicEdition};
use super::registration::{self, AsRegistered, BusinessLineInput, HeadOfficeInput, NameInput, RegistrationContent};
use super::status::Status;
use super::text;
use super::unit::name_word;

/// The 2025 administrative units took effect (Resolution 202/2025/QH15): registrations from this
/// day use them.
pub fn units_reform() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).expect("a date")
}

/// VSIC 2025 took effect (Decision 36/2025/QĐ-TTg): registrations from this day use it.
pub fn vsic_2025_in_force() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 15).expect("a date")
}

/// The earliest registration date the register accepts: the Law on Companies and the Law on
/// Private Enterprises of 1990 took effect in 1991.
pub fn first_registration() -> NaiveDate {
    NaiveDate::from_ymd_opt(1991, 1, 1).expect("a date")
}

/// An imported line as a migrating register writes it: the full record ([`Enterprise`]), in which
/// the fields the register derives itself (SPEC §4) may be absent. Absent, they are derived from
/// the reference data and the record ([`ImportedRecord::into_record`]); present, they are checked
/// against what the register derives ([`validate_imported`]), and a contradiction refuses the line.
///
/// What is derived when absent:
/// - ward and province names (head office, units' addresses); for a head office in the legacy
///   units, its district and the 2025 unit it lies in (`head_office.legacy`);
/// - a business line's `edition` ([`derived_edition`]) and its `name` in that edition;
/// - owners' `share_percent`: of the charter capital;
/// - `version` 1 and `registration_changes` 0: a line without them is its enterprise's first
///   version here (the lines of a history give their versions: consecutive lines of one code are
///   numbered consecutively);
/// - `updated_at`: 00:00 Vietnam time on the registration day, or on the latest day the record
///   shows something done after it (a unit's registration, a licence's issue), not the time of the
///   import: the record was as it is from then on, the register claims nothing it does not know,
///   and the same file derives the same record on every run (an interrupted import resumes, a
///   second run recognises the file);
/// - a unit's `enterprise_code`: the record's code.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportedRecord {
    pub code: String,
    #[serde(rename = "type")]
    pub enterprise_type: EnterpriseType,
    pub name: EnterpriseName,
    pub status: Status,
    #[serde(default)]
    pub status_until: Option<NaiveDate>,
    pub registered_on: NaiveDate,
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default)]
    pub registration_changes: Option<i32>,
    pub head_office: ImportedHeadOffice,
    pub charter_capital_vnd: i64,
    pub business_lines: Vec<ImportedBusinessLine>,
    pub legal_representatives: Vec<LegalRepresentative>,
    #[serde(default)]
    pub owners: Option<Vec<ImportedOwner>>,
    #[serde(default)]
    pub units: Vec<ImportedUnit>,
    /// Status changes filed for a later day: kept, and applied by the register on their day.
    #[serde(default)]
    pub scheduled_changes: Vec<ScheduledChange>,
    #[serde(default)]
    pub licenses: Option<Vec<License>>,
    /// Declared beneficial owners (SPEC §7), checked as a registration's.
    #[serde(default)]
    pub beneficial_owners: Option<Vec<BeneficialOwner>>,
    #[serde(default)]
    pub exempt: Option<ExemptReason>,
    /// Derived by the register from the ownership graph after the import: what a line says is
    /// not kept.
    #[serde(default)]
    pub discrepancies: Option<Vec<Discrepancy>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// A head office ([`HeadOffice`]) whose unit names and legacy block may be absent.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportedHeadOffice {
    pub street: String,
    pub ward_code: String,
    #[serde(default)]
    pub ward_name: Option<String>,
    pub province_code: String,
    #[serde(default)]
    pub province_name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Present: the head office is in the legacy units (as [`HeadOffice::legacy`] marks it); each
    /// of its fields is derived when absent. Absent: the ward tells (a ward of the 2025 units or a
    /// legacy one).
    #[serde(default)]
    pub legacy: Option<ImportedLegacyUnits>,
}

/// [`LegacyUnits`], every field derivable.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImportedLegacyUnits {
    #[serde(default)]
    pub district_code: Option<String>,
    #[serde(default)]
    pub district_name: Option<String>,
    #[serde(default)]
    pub current: Option<ImportedCurrentUnits>,
    #[serde(default)]
    pub ambiguous: Option<bool>,
}

/// [`CurrentUnits`], every field derivable.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImportedCurrentUnits {
    #[serde(default)]
    pub ward_code: Option<String>,
    #[serde(default)]
    pub ward_name: Option<String>,
    #[serde(default)]
    pub province_code: Option<String>,
    #[serde(default)]
    pub province_name: Option<String>,
}

/// A business line ([`BusinessLine`]) whose edition and name may be absent.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportedBusinessLine {
    pub vsic: String,
    pub main: bool,
    #[serde(default)]
    pub edition: Option<VsicEdition>,
    #[serde(default)]
    pub name: Option<String>,
}

/// An owner ([`Owner`]) whose share may be absent.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportedOwner {
    pub kind: OwnerKind,
    pub name: String,
    #[serde(default)]
    pub nationality: Option<String>,
    #[serde(default)]
    pub identity: Option<Identity>,
    #[serde(default)]
    pub enterprise_code: Option<String>,
    #[serde(default)]
    pub foreign_registration_number: Option<String>,
    pub capital_vnd: i64,
    #[serde(default)]
    pub share_percent: Option<f64>,
    /// A partnership's partners: absent in records of registers that did not keep it (then
    /// derived, [`super::people::recorded_partner_kind`]).
    #[serde(default)]
    pub partner_kind: Option<PartnerKind>,
}

/// A unit ([`Unit`]) whose enterprise code and address names may be absent.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportedUnit {
    pub unit_code: String,
    #[serde(default)]
    pub enterprise_code: Option<String>,
    pub kind: UnitKind,
    #[serde(default)]
    pub location_code: Option<String>,
    pub name: String,
    pub address: ImportedUnitAddress,
    pub status: Status,
    #[serde(default)]
    pub status_until: Option<NaiveDate>,
    pub registered_on: NaiveDate,
    #[serde(default)]
    pub scheduled_changes: Vec<ScheduledChange>,
}

/// A unit's address ([`UnitAddress`]) whose names may be absent.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportedUnitAddress {
    pub street: String,
    pub ward_code: String,
    #[serde(default)]
    pub ward_name: Option<String>,
    pub province_code: String,
    #[serde(default)]
    pub province_name: Option<String>,
}

/// The derived fields an imported line gave, to be checked against what the register derives.
#[derive(Debug, Default)]
pub struct Given {
    ward_name: Option<String>,
    province_name: Option<String>,
    legacy: Option<ImportedLegacyUnits>,
    line_names: Vec<Option<String>>,
    shares: Vec<Option<f64>>,
    unit_names: Vec<(Option<String>, Option<String>)>,
}

/// 00:00 Vietnam time (UTC+7) on `day`: the `updated_at` of a line that does not give it.
pub fn start_of_legal_day(day: NaiveDate) -> DateTime<Utc> {
    let offset = FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    day.and_time(NaiveTime::MIN)
        .and_local_timezone(offset)
        .single()
        .expect("a fixed offset has one time for each local time")
        .with_timezone(&Utc)
}

/// The VSIC edition of a line whose record does not say it (SPEC §2.4): a record registered from
/// 15 November 2025 on has VSIC 2025 lines; one registered before then kept its VSIC 2018 lines,
/// unless the code is a level-4 code of VSIC 2025 only (then only that edition can be meant).
pub fn derived_edition(reference: &Reference, code: &str, registered_on: NaiveDate) -> VsicEdition {
    if registered_on >= vsic_2025_in_force() {
        return VsicEdition::Vsic2025;
    }
    let level_4 = |edition| reference.vsic(edition, code).is_some_and(|e| e.level == 4);
    if !level_4(VsicEdition::Vsic2018) && level_4(VsicEdition::Vsic2025) {
        VsicEdition::Vsic2025
    } else {
        VsicEdition::Vsic2018
    }
}

impl ImportedRecord {
    /// The record with every absent derived field derived where it needs no check of its own
    /// (counters, `updated_at`, editions, units' enterprise code) and the names and shares left
    /// for [`validate`] to resolve, and the derived fields the line gave.
    pub fn into_record(self, reference: &Reference) -> (Enterprise, Given) {
        let registered_on = self.registered_on;
        let last_shown = self
            .units
            .iter()
            .map(|u| u.registered_on)
            .chain(self.licenses.iter().flatten().map(|l| l.issued_on))
            .fold(registered_on, NaiveDate::max);
        let ho = self.head_office;
        let mut given =
            Given { ward_name: ho.ward_name, province_name: ho.province_name, legacy: ho.legacy, ..Given::default() };
        let head_office = HeadOffice {
            street: ho.street,
            ward_code: ho.ward_code,
            ward_name: String::new(),
            province_code: ho.province_code,
            province_name: String::new(),
            phone: ho.phone,
            email: ho.email,
            // Given, it marks the head office as one in the legacy units; its content is derived.
            legacy: given.legacy.as_ref().map(|_| LegacyUnits::default()),
        };
        let business_lines = self
            .business_lines
            .into_iter()
            .map(|l| {
                given.line_names.push(l.name);
                let edition = l.edition.unwrap_or_else(|| derived_edition(reference, l.vsic.trim(), registered_on));
                BusinessLine { vsic: l.vsic, main: l.main, edition, name: String::new() }
            })
            .collect();
        let owners = self.owners.map(|owners| {
            owners
                .into_iter()
                .map(|o| {
                    given.shares.push(o.share_percent);
                    Owner {
                        kind: o.kind,
                        name: o.name,
                        nationality: o.nationality,
                        identity: o.identity,
                        enterprise_code: o.enterprise_code,
                        foreign_registration_number: o.foreign_registration_number,
                        capital_vnd: o.capital_vnd,
                        share_percent: 0.0,
                        partner_kind: o.partner_kind,
                    }
                })
                .collect()
        });
        let code = self.code;
        let units = self
            .units
            .into_iter()
            .map(|u| {
                given.unit_names.push((u.address.ward_name, u.address.province_name));
                Unit {
                    unit_code: u.unit_code,
                    enterprise_code: u.enterprise_code.unwrap_or_else(|| code.clone()),
                    kind: u.kind,
                    location_code: u.location_code,
                    name: u.name,
                    address: UnitAddress {
                        street: u.address.street,
                        ward_code: u.address.ward_code,
                        ward_name: String::new(),
                        province_code: u.address.province_code,
                        province_name: String::new(),
                    },
                    status: u.status,
                    status_until: u.status_until,
                    registered_on: u.registered_on,
                    scheduled_changes: u.scheduled_changes,
                }
            })
            .collect();
        let record = Enterprise {
            code,
            enterprise_type: self.enterprise_type,
            name: self.name,
            status: self.status,
            status_until: self.status_until,
            registered_on,
            version: self.version.unwrap_or(1),
            registration_changes: self.registration_changes.unwrap_or(0),
            head_office,
            charter_capital_vnd: self.charter_capital_vnd,
            business_lines,
            legal_representatives: self.legal_representatives,
            owners,
            units,
            scheduled_changes: self.scheduled_changes,
            licenses: self.licenses,
            beneficial_owners: self.beneficial_owners,
            exempt: self.exempt,
            discrepancies: None,
            updated_at: self.updated_at.unwrap_or_else(|| start_of_legal_day(last_shown)),
        };
        (record, given)
    }
}

/// Checks an imported line ([`ImportedRecord`]) as [`validate`] checks a full record, with its
/// absent derived fields derived, and its present ones compared with what the register derives:
/// a name that is not the reference data's for its code (compared without regard to case and
/// spacing), a share that is not the owner's of the charter capital (to 0.005 points: a share
/// written with two decimals is the same share), a legacy block that is not the ward's.
pub fn validate_imported(
    line: ImportedRecord,
    reference: &Reference,
    now: DateTime<Utc>,
) -> Result<Enterprise, Vec<FieldError>> {
    let (record, given) = line.into_record(reference);
    let resolved = validate(&record, reference, now)?;
    let mut errors = Errors::default();
    check_given(&mut errors, &given, &resolved);
    errors.into_result(resolved)
}

/// A derived field's given value against the derived one.
fn check_derived(errors: &mut Errors, path: impl Into<String>, given: Option<&str>, derived: &str) {
    if let Some(given) = given {
        // Most given names are the reference data's to the byte: no normalisation for those.
        if given != derived && text::normalize_lower(given) != text::normalize_lower(derived) {
            errors.add(
                path,
                "derived_mismatch",
                format!("the reference data gives {derived:?}; the record says {given:?}"),
            );
        }
    }
}

/// The derived fields a line gave against `record`, the line resolved (its lists in the line's
/// order: [`validate`] keeps every item of a valid record, in order).
fn check_given(errors: &mut Errors, given: &Given, record: &Enterprise) {
    let ho = &record.head_office;
    check_derived(errors, "head_office.ward_name", given.ward_name.as_deref(), &ho.ward_name);
    check_derived(errors, "head_office.province_name", given.province_name.as_deref(), &ho.province_name);
    match (&given.legacy, &ho.legacy) {
        (Some(g), Some(l)) => {
            check_derived(errors, "head_office.legacy.district_code", g.district_code.as_deref(), &l.district_code);
            check_derived(errors, "head_office.legacy.district_name", g.district_name.as_deref(), &l.district_name);
            if let Some(c) = &g.current {
                let p = "head_office.legacy.current";
                check_derived(errors, format!("{p}.ward_code"), c.ward_code.as_deref(), &l.current.ward_code);
                check_derived(errors, format!("{p}.ward_name"), c.ward_name.as_deref(), &l.current.ward_name);
                check_derived(
                    errors,
                    format!("{p}.province_code"),
                    c.province_code.as_deref(),
                    &l.current.province_code,
                );
                check_derived(
                    errors,
                    format!("{p}.province_name"),
                    c.province_name.as_deref(),
                    &l.current.province_name,
                );
            }
            if g.ambiguous.is_some_and(|a| a != l.ambiguous) {
                errors.add(
                    "head_office.legacy.ambiguous",
                    "derived_mismatch",
                    format!("the legacy-to-2025 map gives {}; the record says {}", l.ambiguous, !l.ambiguous),
                );
            }
        }
        (Some(g), None)
            if g.district_code.is_some()
                || g.district_name.is_some()
                || g.current.is_some()
                || g.ambiguous.is_some() =>
        {
            errors.add(
                "head_office.legacy",
                "derived_mismatch",
                format!("{} is a ward of the 2025 units, not of the legacy ones", ho.ward_code),
            );
        }
        _ => {}
    }
    for (i, (name, line)) in given.line_names.iter().zip(&record.business_lines).enumerate() {
        check_derived(errors, format!("business_lines[{i}].name"), name.as_deref(), &line.name);
    }
    for (i, (share, owner)) in given.shares.iter().zip(record.owners.as_deref().unwrap_or_default()).enumerate() {
        if let Some(share) = *share {
            if !share.is_finite() || (share - owner.share_percent).abs() > 0.005 + 1e-9 {
                errors.add(
                    format!("owners[{i}].share_percent"),
                    "derived_mismatch",
                    format!(
                        "{} VND of a charter capital of {} VND is {} %; the record says {share} %",
                        owner.capital_vnd, record.charter_capital_vnd, owner.share_percent
                    ),
                );
            }
        }
    }
    for (i, ((ward, province), unit)) in given.unit_names.iter().zip(&record.units).enumerate() {
        let p = format!("units[{i}].address");
        check_derived(errors, format!("{p}.ward_name"), ward.as_deref(), &unit.address.ward_name);
        check_derived(errors, format!("{p}.province_name"), province.as_deref(), &unit.address.province_name);
    }
}

/// Checks an imported full record (one version of an enterprise) and returns it resolved: canonical
/// code, normalised text, names of units and VSIC lines from the reference data, owners' shares.
/// `now` bounds the dates (nothing is registered or recorded in the future).
pub fn validate(record: &Enterprise, reference: &Reference, now: DateTime<Utc>) -> Result<Enterprise, Vec<FieldError>> {
    let mut errors = Errors::default();
    let code = match EnterpriseCode::parse(&record.code) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.add("code", e.code(), e.to_string());
            None
        }
    };
    check_counters(&mut errors, record);
    check_dates(&mut errors, record, now);
    check_status_until(&mut errors, record);
    check_licenses(&mut errors, record);
    let legacy_head_office = kept_legacy_head_office(record, reference);
    check_kept_as_registered(&mut errors, record, legacy_head_office.is_some());

    let on = legal_date(record.updated_at);
    let registered =
        AsRegistered { head_office: legacy_head_office.as_ref(), business_lines: &record.business_lines, record: None };
    let content = content_of(record).validate_content_as_registered(reference, on, registered);
    let units = code.as_ref().map(|c| validate_units(&mut errors, c, record, reference, on)).unwrap_or_default();
    let valid = match content {
        Ok(valid) => Some(valid),
        Err(more) => {
            errors.0.extend(more);
            None
        }
    };
    let (Some(code), Some(valid)) = (code, valid) else { return Err(errors.0) };
    if !errors.is_empty() {
        return Err(errors.0);
    }
    let (beneficial_owners, exempt) = BeneficialOwnership::into_fields(valid.beneficial);
    let mut imported = Enterprise {
        code: code.to_string(),
        enterprise_type: valid.enterprise_type,
        name: valid.name,
        status: record.status,
        status_until: record.status_until,
        registered_on: record.registered_on,
        version: record.version,
        registration_changes: record.registration_changes,
        head_office: valid.head_office,
        charter_capital_vnd: valid.charter_capital_vnd,
        business_lines: valid.business_lines,
        legal_representatives: valid.legal_representatives,
        owners: Some(valid.owners),
        units,
        // Filed changes are kept: the register applies them on their day.
        scheduled_changes: record.scheduled_changes.clone(),
        // Licences are the transport ministry's records, kept as exported.
        licenses: record.licenses.clone(),
        beneficial_owners,
        exempt,
        // Judged on the record's own owners here; the register follows its enterprise owners
        // after the import (store::ownership).
        discrepancies: None,
        updated_at: record.updated_at,
    };
    imported.discrepancies = super::beneficial_owners::direct_discrepancies(&imported);
    Ok(imported)
}

/// The record's counters: versions are numbered from 1, and each version after the first counts
/// at most one registration change (đăng ký thay đổi lần thứ N).
fn check_counters(errors: &mut Errors, record: &Enterprise) {
    if record.version < 1 {
        errors.add("version", "out_of_range", "versions are numbered from 1");
    }
    if record.registration_changes < 0 || record.registration_changes >= record.version.max(1) {
        errors.add(
            "registration_changes",
            "out_of_range",
            "a version counts at most one registration change per version after the first",
        );
    }
}

/// The record's dates: registered from 1991 on and not in the future; the version recorded on or
/// after the registration and not after `now`.
fn check_dates(errors: &mut Errors, record: &Enterprise, now: DateTime<Utc>) {
    if record.registered_on < first_registration() {
        errors.add("registered_on", "out_of_range", "the register holds registrations from 1991 on");
    } else if record.registered_on > legal_date(now) {
        errors.add("registered_on", "in_future", "the registration date is in the future");
    }
    if legal_date(record.updated_at) < record.registered_on {
        errors.add("updated_at", "before_registration", "a version is recorded on or after the registration date");
    } else if record.updated_at > now {
        errors.add("updated_at", "in_future", "the version's time is in the future");
    }
}

/// The end of a suspension (tạm ngừng kinh doanh): a suspended enterprise has one, not before its
/// registration; no other status has one.
fn check_status_until(errors: &mut Errors, record: &Enterprise) {
    match (record.status, record.status_until) {
        (Status::Suspended, None) => {
            errors.add("status_until", "required", "a suspension (tạm ngừng kinh doanh) has an end date")
        }
        (Status::Suspended, Some(until)) if until < record.registered_on => {
            errors.add("status_until", "before_registration", "the suspension ends before the registration date")
        }
        (Status::Suspended, Some(_)) => {}
        (_, Some(_)) => errors.add("status_until", "not_allowed", "only a suspended enterprise has an end date"),
        (_, None) => {}
    }
}

/// The licences on the record: numbers in the register's form, each listed once, expiring after
/// they are issued and issued to the registered enterprise.
fn check_licenses(errors: &mut Errors, record: &Enterprise) {
    for (i, license) in record.licenses().iter().enumerate() {
        if super::license::normalize_number(&license.number).as_deref() != Some(license.number.as_str()) {
            errors.add(
                format!("licenses[{i}].number"),
                "invalid_number",
                "a licence number is 3 to 64 upper-case letters, digits, '-', '.' or '/'",
            );
        }
        if license.expires_on <= license.issued_on {
            errors.add(format!("licenses[{i}].expires_on"), "before_issue", "a licence expires after it is issued");
        }
        if license.issued_on < record.registered_on {
            errors.add(
                format!("licenses[{i}].issued_on"),
                "before_registration",
                "a licence is issued to a registered enterprise",
            );
        }
        if record.licenses().iter().take(i).any(|l| l.number == license.number) {
            errors.add(format!("licenses[{i}].number"), "duplicate_number", "the record lists this licence twice");
        }
    }
}

/// The record's head office resolved in the legacy units, when it is one: marked as legacy, or
/// recognisable as one (not a 2025 ward but a legacy one).
fn kept_legacy_head_office(record: &Enterprise, reference: &Reference) -> Option<HeadOffice> {
    let ho = &record.head_office;
    if ho.legacy.is_none() && reference.resolve(&ho.province_code, &ho.ward_code).is_ok() {
        return None;
    }
    registration::legacy_head_office(reference, &ho.province_code, &ho.ward_code)
        .map(|resolved| HeadOffice { street: text::normalize(&ho.street), ..resolved })
}

/// What stays valid as registered (SPEC §2.4) only for registrations before its reform: a head
/// office in the legacy units before [`units_reform`], VSIC 2018 lines before
/// [`vsic_2025_in_force`].
fn check_kept_as_registered(errors: &mut Errors, record: &Enterprise, legacy_head_office: bool) {
    if legacy_head_office && record.registered_on >= units_reform() {
        errors.add(
            "head_office.ward_code",
            "legacy_units",
            "a head office in the units in force before 1 July 2025 belongs to an enterprise registered before then",
        );
    }
    for (i, line) in record.business_lines.iter().enumerate() {
        if line.edition == VsicEdition::Vsic2018 && record.registered_on >= vsic_2025_in_force() {
            errors.add(
                format!("business_lines[{i}].edition"),
                "edition_not_in_force",
                "VSIC 2018 lines belong to enterprises registered before 15 November 2025",
            );
        }
    }
}

/// The fields a registration sets, for the `changed_fields` of an enterprise's first version.
pub const REGISTRATION_FIELDS: &[&str] =
    &["type", "name", "head_office", "charter_capital_vnd", "business_lines", "legal_representatives", "owners"];

/// What made version `next` from version `previous` of one enterprise: the kind of its feed event
/// (`unit_registered`, `status_changed` or `changed`) and the fields that differ.
pub fn version_change(previous: &Enterprise, next: &Enterprise) -> (&'static str, Vec<String>) {
    let mut changed = super::change::changed_fields(previous, next);
    if previous.status != next.status {
        changed.push("status".into());
    }
    if previous.status_until != next.status_until {
        changed.push("status_until".into());
    }
    if previous.units != next.units {
        changed.push("units".into());
    }
    let kind = if next.units.len() > previous.units.len() {
        "unit_registered"
    } else if previous.status != next.status {
        "status_changed"
    } else {
        "changed"
    };
    (kind, changed)
}

/// The registration content of a record, in the request's shape (what
/// [`RegistrationContent::validate_content_as_registered`] checks).
fn content_of(record: &Enterprise) -> RegistrationContent {
    let identity = |i: &super::record::Identity| IdentityInput {
        kind: Some(
            match i.kind {
                IdentityKind::Cccd => "cccd",
                IdentityKind::Passport => "passport",
            }
            .to_string(),
        ),
        number: Some(i.number.clone()),
    };
    RegistrationContent {
        enterprise_type: Some(record.enterprise_type.as_str().to_string()),
        name: Some(NameInput {
            vi: Some(record.name.vi.clone()),
            en: record.name.en.clone(),
            abbreviation: record.name.abbreviation.clone(),
        }),
        head_office: Some(HeadOfficeInput {
            street: Some(record.head_office.street.clone()),
            ward_code: Some(record.head_office.ward_code.clone()),
            province_code: Some(record.head_office.province_code.clone()),
            phone: record.head_office.phone.clone(),
            email: record.head_office.email.clone(),
        }),
        charter_capital_vnd: Some(record.charter_capital_vnd),
        business_lines: Some(
            record
                .business_lines
                .iter()
                .map(|l| BusinessLineInput { vsic: Some(l.vsic.clone()), main: l.main })
                .collect(),
        ),
        legal_representatives: Some(
            record
                .legal_representatives
                .iter()
                .map(|r| RepresentativeInput {
                    full_name: Some(r.full_name.clone()),
                    position: Some(r.position.clone()),
                    birth_date: r.birth_date,
                    nationality: Some(r.nationality.clone()),
                    identity: r.identity.as_ref().map(identity),
                })
                .collect(),
        ),
        owners: record.owners.as_ref().map(|owners| {
            owners
                .iter()
                .map(|o| OwnerInput {
                    kind: Some(
                        match o.kind {
                            OwnerKind::Individual => "individual",
                            OwnerKind::Organisation => "organisation",
                        }
                        .to_string(),
                    ),
                    name: Some(o.name.clone()),
                    // An organisation registered in Vietnam is Vietnamese by its code.
                    nationality: if o.kind == OwnerKind::Individual || o.foreign_registration_number.is_some() {
                        o.nationality.clone()
                    } else {
                        None
                    },
                    identity: o.identity.as_ref().map(identity),
                    enterprise_code: o.enterprise_code.clone(),
                    foreign_registration_number: o.foreign_registration_number.clone(),
                    capital_vnd: Some(o.capital_vnd),
                    partner_kind: super::people::recorded_partner_kind(record.enterprise_type, o)
                        .map(|p| p.as_str().to_string()),
                })
                .collect()
        }),
        beneficial_owners: record.beneficial_owners.as_ref().map(|list| {
            list.iter()
                .map(|b| BeneficialOwnerInput {
                    full_name: Some(b.full_name.clone()),
                    birth_date: Some(b.birth_date),
                    nationality: Some(b.nationality.clone()),
                    identity: Some(identity(&b.identity)),
                    basis: Some(b.basis.iter().map(|x| x.as_str().to_string()).collect()),
                    ownership_percent: b.ownership_percent,
                    contact_address: b.contact_address.clone(),
                    control: b.control.clone(),
                })
                .collect()
        }),
        exempt: record.exempt.map(|e| e.as_str().to_string()),
    }
}

/// A record's units: codes of this enterprise matching their kind, names that start with the
/// kind (art. 40.2; the enterprise's name in it may be a former one), 2025 addresses, dates
/// between the registration and this version.
fn validate_units(
    errors: &mut Errors,
    code: &EnterpriseCode,
    record: &Enterprise,
    reference: &Reference,
    on: NaiveDate,
) -> Vec<Unit> {
    let mut out = Vec::with_capacity(record.units.len());
    let mut seen = HashSet::new();
    for (i, unit) in record.units.iter().enumerate() {
        let path = format!("units[{i}]");
        let before = errors.0.len();
        let unit_code = check_unit_code(errors, &path, code, unit, &mut seen);
        if EnterpriseCode::parse(&unit.enterprise_code).ok().as_ref() != Some(code) {
            errors.add(
                format!("{path}.enterprise_code"),
                "other_enterprise",
                format!("the unit's enterprise is {code}"),
            );
        }
        let name = check_unit_name(errors, &path, unit);
        if unit.registered_on < record.registered_on || unit.registered_on > on {
            errors.add(
                format!("{path}.registered_on"),
                "out_of_range",
                "a unit is registered between the enterprise's registration and this version",
            );
        }
        let a = &unit.address;
        let address = registration::validate_address(
            errors,
            &format!("{path}.address"),
            reference,
            &Some(text::normalize(&a.street)),
            &Some(a.ward_code.clone()),
            &Some(a.province_code.clone()),
        );
        if errors.0.len() > before {
            continue;
        }
        let (Some(unit_code), Some(address)) = (unit_code, address) else { continue };
        out.push(Unit {
            unit_code: unit_code.to_string(),
            enterprise_code: code.to_string(),
            kind: unit.kind,
            location_code: unit.location_code.clone(),
            name,
            address: address.into(),
            status: unit.status,
            status_until: unit.status_until,
            registered_on: unit.registered_on,
            scheduled_changes: unit.scheduled_changes.clone(),
        });
    }
    out
}

/// A unit's code: well formed, of the enterprise `code`, of the form of the unit's kind (CODE-NNN
/// for a branch or representative office, CODE-NNNNN for a business location, whose location code
/// is its last five digits), listed once (`seen` holds the codes before it).
fn check_unit_code(
    errors: &mut Errors,
    path: &str,
    code: &EnterpriseCode,
    unit: &Unit,
    seen: &mut HashSet<String>,
) -> Option<UnitCode> {
    let u = match UnitCode::parse(&unit.unit_code) {
        Ok(u) => u,
        Err(e) => {
            errors.add(format!("{path}.unit_code"), e.code(), e.to_string());
            return None;
        }
    };
    let location = match (&u, unit.kind) {
        (UnitCode::Dependent { .. }, UnitKind::Branch | UnitKind::RepresentativeOffice) => Some(None),
        (UnitCode::Location { location, .. }, UnitKind::BusinessLocation) => Some(Some(format!("{location:05}"))),
        _ => None,
    };
    if u.enterprise() != code {
        errors.add(format!("{path}.unit_code"), "other_enterprise", format!("a unit of {code} has a code {code}-…"));
    } else if location.is_none() {
        errors.add(
            format!("{path}.unit_code"),
            "kind_mismatch",
            "branches and representative offices have CODE-NNN, business locations CODE-NNNNN",
        );
    } else if location != Some(unit.location_code.clone()) {
        errors.add(
            format!("{path}.location_code"),
            "location_code_mismatch",
            "a business location's location code is the last five digits of its unit code; other units have none",
        );
    } else if !seen.insert(u.to_string()) {
        errors.add(format!("{path}.unit_code"), "duplicate_unit", "this unit is listed twice");
    }
    Some(u)
}

/// A unit's name, normalised: not empty, in the alphabet of names, starting with the unit's kind
/// (art. 40.2). The enterprise's name that follows is not compared: it may be a former one.
fn check_unit_name(errors: &mut Errors, path: &str, unit: &Unit) -> String {
    let name = text::normalize(&unit.name);
    if name.is_empty() {
        errors.add(format!("{path}.name"), "empty", "this field must not be empty");
    } else if !name.chars().all(text::is_name_char) {
        errors.add(
            format!("{path}.name"),
            "invalid_characters",
            "a unit's name holds Vietnamese letters, F, J, Z, W, digits and symbols",
        );
    } else if !name.to_lowercase().starts_with(name_word(unit.kind)) {
        errors.add(
            format!("{path}.name"),
            "unit_name",
            format!("a {}'s name starts with \"{}\" (art. 40.2)", unit.kind.as_str(), name_word(unit.kind)),
        );
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{BusinessLine, UnitAddress};
    use crate::reference::tests::sample;
    use crate::registration::tests::APPENDIX_A;

    fn now() -> DateTime<Utc> {
        "2026-11-27T08:00:00Z".parse().unwrap()
    }

    /// Appendix A registered in 2012 at version 3, with a branch.
    fn record() -> Enterprise {
        let c: RegistrationContent = serde_json::from_str(APPENDIX_A).unwrap();
        let mut r = c.validate_content(&sample(), "2026-11-27".parse().unwrap()).unwrap().into_new_record(
            "0100233488".into(),
            "2012-03-05".parse().unwrap(),
            "2020-06-01T03:00:00Z".parse().unwrap(),
        );
        r.version = 3;
        r.registration_changes = 1;
        r.units.push(Unit {
            unit_code: "0100233488-001".into(),
            enterprise_code: "0100233488".into(),
            kind: UnitKind::Branch,
            location_code: None,
            name: "Chi nhánh Công ty TNHH Vận tải Hoàng Long Phát tại Hồ Chí Minh".into(),
            address: UnitAddress {
                street: "Số 5 Nguyễn Huệ".into(),
                ward_code: "26743".into(),
                ward_name: String::new(),
                province_code: "79".into(),
                province_name: String::new(),
            },
            status: Status::Active,
            status_until: None,
            registered_on: "2015-01-02".parse().unwrap(),
            scheduled_changes: Vec::new(),
        });
        r
    }

    fn codes(r: Result<Enterprise, Vec<FieldError>>) -> Vec<(String, String)> {
        r.unwrap_err().into_iter().map(|e| (e.field, e.code.into_owned())).collect()
    }

    #[test]
    fn a_record_is_resolved_and_its_code_kept() {
        let mut r = record();
        r.code = "01.00.233.488".into();
        let v = validate(&r, &sample(), now()).unwrap();
        assert_eq!(v.code, "0100233488");
        assert_eq!(v.units[0].address.ward_name, "Phường Bến Thành");
        assert_eq!(v.units[0].address.province_name, "Thành phố Hồ Chí Minh");
        assert_eq!((v.version, v.registration_changes), (3, 1));
        // Valid as it stands: validating again changes nothing.
        assert_eq!(validate(&v, &sample(), now()).unwrap(), v);
    }

    /// `record()` as a migrating register writes it: without any field the register derives.
    fn minimal() -> serde_json::Value {
        let mut v = serde_json::to_value(record()).unwrap();
        let o = v.as_object_mut().unwrap();
        for field in ["version", "registration_changes", "updated_at", "licenses"] {
            o.remove(field);
        }
        for field in ["ward_name", "province_name", "legacy"] {
            v["head_office"].as_object_mut().unwrap().remove(field);
        }
        for line in v["business_lines"].as_array_mut().unwrap() {
            line.as_object_mut().unwrap().remove("edition");
            line.as_object_mut().unwrap().remove("name");
        }
        for owner in v["owners"].as_array_mut().unwrap() {
            owner.as_object_mut().unwrap().remove("share_percent");
        }
        for unit in v["units"].as_array_mut().unwrap() {
            unit.as_object_mut().unwrap().remove("enterprise_code");
            unit["address"].as_object_mut().unwrap().remove("ward_name");
            unit["address"].as_object_mut().unwrap().remove("province_name");
        }
        v
    }

    fn imported(v: &serde_json::Value) -> Result<Enterprise, Vec<FieldError>> {
        validate_imported(serde_json::from_value(v.clone()).unwrap(), &sample(), now())
    }

    #[test]
    fn derived_fields_are_derived_when_absent() {
        let v = imported(&minimal()).unwrap();
        assert_eq!((v.version, v.registration_changes), (1, 0));
        // 00:00 in Vietnam on the day of the latest thing the record shows: its branch's registration.
        assert_eq!(v.updated_at, "2015-01-01T17:00:00Z".parse::<DateTime<Utc>>().unwrap());
        let mut alone = minimal();
        alone["units"] = serde_json::json!([]);
        let v_alone = imported(&alone).unwrap();
        assert_eq!(v_alone.updated_at, "2012-03-04T17:00:00Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(legal_date(v_alone.updated_at), v.registered_on);
        assert_eq!(v.head_office.ward_name, "Phường Hoàn Kiếm");
        assert_eq!(v.head_office.province_name, "Thành phố Hà Nội");
        // Registered in 2012: VSIC 2018, named in that edition.
        assert!(v.business_lines.iter().all(|l| l.edition == VsicEdition::Vsic2018), "{:?}", v.business_lines);
        assert_eq!(v.business_lines[0].name, sample().vsic(VsicEdition::Vsic2018, "4933").unwrap().name);
        let shares: Vec<f64> = v.owners.as_ref().unwrap().iter().map(|o| o.share_percent).collect();
        assert_eq!(shares, [60.0, 40.0]);
        assert_eq!(v.units[0].enterprise_code, "0100233488");
        assert_eq!(v.units[0].address.ward_name, "Phường Bến Thành");
        assert_eq!(v.licenses, None);
        // Given as derived, they are accepted: the full record is the same record.
        let mut full = serde_json::to_value(&v).unwrap();
        assert_eq!(imported(&full).unwrap(), v);
        // A share written with two decimals is the same share.
        full["owners"][0]["share_percent"] = 60.004.into();
        assert_eq!(imported(&full).unwrap(), v);
    }

    #[test]
    fn a_legacy_head_office_is_derived_whole_from_its_ward() {
        let mut m = minimal();
        m["head_office"]["ward_code"] = "00001".into();
        let v = imported(&m).unwrap();
        let legacy = v.head_office.legacy.as_ref().unwrap();
        assert_eq!(
            (v.head_office.ward_name.as_str(), legacy.district_name.as_str()),
            ("Phường Phúc Xá", "Quận Ba Đình")
        );
        assert_eq!(legacy.current.ward_code, "00097");
        m["head_office"]["legacy"] =
            serde_json::json!({"district_name": "Quận Hoàn Kiếm", "current": {"ward_code": "00097"}});
        assert_eq!(codes(imported(&m)), [("head_office.legacy.district_name".into(), "derived_mismatch".into())]);
    }

    #[test]
    fn the_edition_is_told_by_the_date_or_by_the_code() {
        let reference = sample();
        let before = "2025-11-14".parse().unwrap();
        let after = "2025-11-15".parse().unwrap();
        assert_eq!(derived_edition(&reference, "4933", before), VsicEdition::Vsic2018);
        assert_eq!(derived_edition(&reference, "4933", after), VsicEdition::Vsic2025);
        // 6219 is a VSIC 2025 code only: a record registered before VSIC 2025 that lists it
        // was registered (or changed) in that edition.
        assert!(reference.vsic(VsicEdition::Vsic2018, "6219").is_none());
        assert_eq!(derived_edition(&reference, "6219", before), VsicEdition::Vsic2025);
    }

    #[test]
    fn given_derived_fields_that_contradict_the_reference_data_are_refused() {
        let mut m = minimal();
        m["head_office"]["ward_name"] = "Phường Bến Nghé".into();
        m["business_lines"][1]["name"] = "Bán lẻ".into();
        m["owners"][1]["share_percent"] = 50.0.into();
        m["units"][0]["address"]["province_name"] = "Thành phố Hà Nội".into();
        assert_eq!(
            codes(imported(&m)),
            [
                ("head_office.ward_name".into(), "derived_mismatch".into()),
                ("business_lines[1].name".into(), "derived_mismatch".into()),
                ("owners[1].share_percent".into(), "derived_mismatch".into()),
                ("units[0].address.province_name".into(), "derived_mismatch".into()),
            ]
        );
        // Case and spacing aside, the same name.
        let mut m = minimal();
        m["head_office"]["ward_name"] = " phường  hoàn kiếm".into();
        assert!(imported(&m).is_ok());
    }

    #[test]
    fn codes_are_checked_not_reallocated() {
        let mut r = record();
        r.code = "0100233480".into();
        let got = codes(validate(&r, &sample(), now()));
        assert_eq!(got[0], ("code".into(), "bad_check_digit".into()));
        r.code = "0100000008".into();
        assert_eq!(codes(validate(&r, &sample(), now()))[0], ("code".into(), "zero_serial".into()));
    }

    #[test]
    fn a_legacy_head_office_is_kept_before_the_reform_only() {
        let mut r = record();
        r.head_office.ward_code = "00001".into(); // Phường Phúc Xá, Quận Ba Đình: now in Phường Hồng Hà
        r.head_office.ward_name = String::new();
        let v = validate(&r, &sample(), now()).unwrap();
        assert_eq!(v.head_office.ward_name, "Phường Phúc Xá");
        let legacy = v.head_office.legacy.as_ref().unwrap();
        assert_eq!(legacy.district_name, "Quận Ba Đình");
        assert_eq!(legacy.current.ward_code, "00097");
        assert_eq!(v.head_office.current_ward_code(), "00097");
        assert_eq!(validate(&v, &sample(), now()).unwrap(), v);

        r.registered_on = "2025-07-01".parse().unwrap();
        r.updated_at = "2025-07-01T03:00:00Z".parse().unwrap();
        r.units.clear();
        assert_eq!(codes(validate(&r, &sample(), now())), [("head_office.ward_code".into(), "legacy_units".into())]);
        r.head_office.ward_code = "99999".into();
        assert_eq!(codes(validate(&r, &sample(), now())), [("head_office.ward_code".into(), "unknown_ward".into())]);
    }

    #[test]
    fn vsic_2018_lines_are_kept_before_vsic_2025_only() {
        let mut r = record();
        let name = |e, c: &str| sample().vsic(e, c).unwrap().name.clone();
        r.business_lines = vec![
            BusinessLine { vsic: "4933".into(), main: true, edition: VsicEdition::Vsic2018, name: String::new() },
            BusinessLine { vsic: "6201".into(), main: false, edition: VsicEdition::Vsic2018, name: String::new() },
            BusinessLine { vsic: "6219".into(), main: false, edition: VsicEdition::Vsic2025, name: String::new() },
        ];
        let v = validate(&r, &sample(), now()).unwrap();
        assert_eq!(v.business_lines[1].name, name(VsicEdition::Vsic2018, "6201"));
        assert_eq!(v.business_lines[2].name, name(VsicEdition::Vsic2025, "6219"));
        r.business_lines[2].edition = VsicEdition::Vsic2018;
        assert_eq!(codes(validate(&r, &sample(), now())), [("business_lines[2].vsic".into(), "unknown_vsic".into())]);
        r.business_lines.pop();
        r.registered_on = "2025-11-15".parse().unwrap();
        r.units.clear();
        r.updated_at = "2025-11-20T03:00:00Z".parse().unwrap();
        let got = codes(validate(&r, &sample(), now()));
        assert!(got.contains(&("business_lines[0].edition".into(), "edition_not_in_force".into())), "{got:?}");
    }

    #[test]
    fn dates_versions_statuses_and_units_are_checked() {
        let mut r = record();
        r.registered_on = "2027-01-01".parse().unwrap();
        r.version = 0;
        r.status = Status::Suspended;
        r.units[0].unit_code = "0100233488-00001".into();
        r.units[0].name = "Cửa hàng số 1".into();
        r.updated_at = "2027-02-01T00:00:00Z".parse().unwrap();
        let got = codes(validate(&r, &sample(), now()));
        for expected in [
            ("version", "out_of_range"),
            ("registration_changes", "out_of_range"),
            ("registered_on", "in_future"),
            ("updated_at", "in_future"),
            ("status_until", "required"),
            ("units[0].unit_code", "kind_mismatch"),
            ("units[0].name", "unit_name"),
        ] {
            assert!(got.contains(&(expected.0.into(), expected.1.into())), "{expected:?} not in {got:?}");
        }
        let mut r = record();
        r.owners = None;
        assert_eq!(codes(validate(&r, &sample(), now())), [("owners".into(), "required".into())]);
        let mut r = record();
        r.units[0].unit_code = "0312687878-001".into();
        assert_eq!(codes(validate(&r, &sample(), now())), [("units[0].unit_code".into(), "other_enterprise".into())]);
    }
}
