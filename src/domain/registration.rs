//! A registration (đăng ký thành lập doanh nghiệp): the request body, checked against every rule
//! of the law at once, and the record it becomes. A registration change (PATCH) checks the patched
//! content with the same rules ([`RegistrationContent::validate_content_as_registered`]).

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::beneficial_owners::{self, BeneficialOwnerInput, BeneficialOwnership, BeneficialOwnershipInput, WhenAbsent};
use super::enterprise_type::{self, EnterpriseType, NameError};
use super::errors::{Errors, FieldError};
use super::people::{self, norm, required_text, OwnerInput, RepresentativeInput};
use super::record::{
    BusinessLine, CurrentUnits, Enterprise, EnterpriseName, HeadOffice, LegacyUnits, LegalRepresentative, Owner,
    UnitAddress,
};
use super::reference::{Reference, VsicEdition};
use super::status::Status;
use super::text;

/// The registration content: what `POST /v1/enterprises` takes (SPEC Appendix A) and what a
/// registration change patches. A missing field is reported with every other failure (422
/// `validation_failed`), not as a parse error (the fields are `Option` in the code for that).
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationContent {
    /// `llc_single`, `llc_multi`, `jsc`, `partnership` or `private_enterprise`.
    #[serde(rename = "type")]
    #[schema(value_type = EnterpriseType, required = true, example = "llc_multi")]
    pub enterprise_type: Option<String>,
    #[validate(nested)]
    #[schema(value_type = NameInput, required = true)]
    pub name: Option<NameInput>,
    #[validate(nested)]
    #[schema(value_type = HeadOfficeInput, required = true)]
    pub head_office: Option<HeadOfficeInput>,
    /// VND, a positive integer.
    #[schema(value_type = i64, required = true, minimum = 1, example = 5000000000_i64)]
    pub charter_capital_vnd: Option<i64>,
    /// Level-4 VSIC codes, exactly one of them `main`.
    #[schema(value_type = Vec<BusinessLineInput>, required = true, min_items = 1, max_items = 500)]
    pub business_lines: Option<Vec<BusinessLineInput>>,
    #[validate(nested)]
    #[schema(value_type = Vec<RepresentativeInput>, required = true, min_items = 1)]
    pub legal_representatives: Option<Vec<RepresentativeInput>>,
    /// Owners, members or founding shareholders; their capital adds up to the charter capital.
    #[validate(nested)]
    #[schema(value_type = Vec<OwnerInput>, required = true)]
    pub owners: Option<Vec<OwnerInput>>,
    /// The beneficial owners (SPEC §7): every individual holding 25 % or more directly, and
    /// whoever controls the enterprise. Not for a private enterprise; not with `exempt`.
    #[schema(value_type = Option<Vec<BeneficialOwnerInput>>, min_items = 1)]
    pub beneficial_owners: Option<Vec<BeneficialOwnerInput>>,
    /// `listed` (a listed joint-stock company) or `state_owned`: no declaration.
    #[schema(value_type = Option<beneficial_owners::ExemptReason>)]
    pub exempt: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameInput {
    /// The Vietnamese name: the type's prefix and the proper name.
    #[validate(length(max = 400, code = "too_long"))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 400, example = "Công ty TNHH Vận tải Hoàng Long Phát")]
    pub vi: Option<String>,
    /// The foreign-language name, in Latin letters.
    #[validate(length(max = 400, code = "too_long"))]
    #[schema(min_length = 1, max_length = 400)]
    pub en: Option<String>,
    #[validate(length(max = 100, code = "too_long"))]
    #[schema(min_length = 1, max_length = 100)]
    pub abbreviation: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeadOfficeInput {
    #[validate(length(max = 500, code = "too_long"))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 500)]
    pub street: Option<String>,
    /// 5-digit ward code of the 2025 units, a ward of the province.
    #[schema(value_type = String, required = true, pattern = "^[0-9]{5}$", example = "00070")]
    pub ward_code: Option<String>,
    /// 2-digit province code of the 2025 units.
    #[schema(value_type = String, required = true, pattern = "^[0-9]{2}$", example = "01")]
    pub province_code: Option<String>,
    #[validate(length(max = 30, code = "too_long"))]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
    #[validate(length(max = 254, code = "too_long"), email(code = "invalid_email"))]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessLineInput {
    /// Level-4 VSIC 2025 code.
    #[schema(value_type = String, required = true, pattern = "^[0-9]{4}$", example = "4933")]
    pub vsic: Option<String>,
    #[serde(default)]
    pub main: bool,
}

/// A registration content that satisfies every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidContent {
    pub enterprise_type: EnterpriseType,
    pub name: EnterpriseName,
    /// Tên riêng: the name without its type prefix.
    pub proper_name: String,
    pub head_office: HeadOffice,
    pub charter_capital_vnd: i64,
    pub business_lines: Vec<BusinessLine>,
    pub legal_representatives: Vec<LegalRepresentative>,
    pub owners: Vec<Owner>,
    /// The declaration (or exemption); `None` when nothing is declared.
    pub beneficial: Option<BeneficialOwnership>,
}

/// The most business lines one enterprise may list (a sanity bound, not a rule of law).
const MAX_LINES: usize = 500;

/// What a registered enterprise holds that stays valid as registered although a new registration
/// could no longer use it (SPEC §2.4): a head office in the legacy units (before 1 July 2025) and
/// business lines of VSIC 2018 (before 15 November 2025). A registration change keeps them while
/// it leaves them as they are: a line already on the record keeps its edition, an unchanged legacy
/// head office (street, ward, province) stays legacy. A new registration has none.
///
/// Beneficial owners: a record that declares none (registered before the duty of 1 July 2025, or
/// without a declaration since) keeps that standing until a change touches its type or owners,
/// which must declare them ([`WhenAbsent::for_change`]); a record that declares them carries the
/// declaration into every change, and a change that removes it is refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsRegistered<'a> {
    pub head_office: Option<&'a HeadOffice>,
    pub business_lines: &'a [BusinessLine],
    /// The record before the change, for what an absent declaration means; `None` for a new
    /// registration or an import.
    pub record: Option<&'a Enterprise>,
}

impl<'a> AsRegistered<'a> {
    /// What `record` holds as registered.
    pub fn of(record: &'a Enterprise) -> Self {
        AsRegistered {
            head_office: Some(&record.head_office),
            business_lines: &record.business_lines,
            record: Some(record),
        }
    }

    /// What a content without a declaration means against this record.
    fn when_absent(&self, kind: Option<EnterpriseType>, owners: &[Owner]) -> WhenAbsent {
        let Some(record) = self.record else {
            // A new registration (SPEC Appendix A declares none): accepted, and every individual
            // the register computes at 25 % or more is flagged as an undeclared discrepancy.
            return WhenAbsent::Tolerated;
        };
        if record.beneficial_owners.is_some() || record.exempt.is_some() {
            return WhenAbsent::Required;
        }
        match kind {
            Some(kind) => WhenAbsent::for_change(
                record.enterprise_type,
                record.owners.as_deref().unwrap_or_default(),
                kind,
                owners,
            ),
            None => WhenAbsent::Tolerated,
        }
    }
}

impl RegistrationContent {
    /// NFC, trimmed, whitespace collapsed, everywhere.
    pub fn normalize(&mut self) {
        self.enterprise_type = norm(self.enterprise_type.take());
        if let Some(n) = &mut self.name {
            n.vi = norm(n.vi.take());
            n.en = norm(n.en.take());
            n.abbreviation = norm(n.abbreviation.take());
        }
        if let Some(h) = &mut self.head_office {
            h.street = norm(h.street.take());
            h.ward_code = norm(h.ward_code.take());
            h.province_code = norm(h.province_code.take());
            h.phone = norm(h.phone.take());
            h.email = norm(h.email.take()).map(|e| e.to_lowercase());
        }
        for line in self.business_lines.iter_mut().flatten() {
            line.vsic = norm(line.vsic.take());
        }
        for r in self.legal_representatives.iter_mut().flatten() {
            r.normalize();
        }
        for o in self.owners.iter_mut().flatten() {
            o.normalize();
        }
        self.exempt = norm(self.exempt.take());
    }

    /// Checks every rule and reports every failure with its field path. `on` is the legal date
    /// of the registration (for ages).
    pub fn validate_content(self, reference: &Reference, on: NaiveDate) -> Result<ValidContent, Vec<FieldError>> {
        self.validate_content_as_registered(reference, on, AsRegistered::default())
    }

    /// [`Self::validate_content`] for a change of (or the import of) a registered enterprise:
    /// what it holds as registered stays valid while unchanged, everything new must use the 2025
    /// units and VSIC 2025.
    pub fn validate_content_as_registered(
        mut self,
        reference: &Reference,
        on: NaiveDate,
        registered: AsRegistered,
    ) -> Result<ValidContent, Vec<FieldError>> {
        self.normalize();
        let mut errors = Errors::default();
        if let Err(e) = Validate::validate(&self) {
            errors.extend_validator("", &e);
        }
        let kind = validate_type(&mut errors, &self.enterprise_type);
        let (name, proper_name) = validate_name(&mut errors, kind, &self.name);
        let head_office = validate_head_office(&mut errors, reference, &self.head_office, registered.head_office);
        let capital = validate_capital(&mut errors, self.charter_capital_vnd);
        let business_lines = validate_lines(
            &mut errors,
            reference,
            &self.business_lines,
            VsicEdition::Vsic2025,
            registered.business_lines,
        );
        let reps = validate_representatives(&mut errors, &self.legal_representatives, on);
        let owners = validate_owners(&mut errors, &self.owners, kind, capital);
        if let (Some(kind), Some(reps), Some(owners)) = (kind, &reps, &owners) {
            people::check_representatives(&mut errors, kind, reps, owners);
        }
        let declaration =
            BeneficialOwnershipInput { beneficial_owners: self.beneficial_owners.clone(), exempt: self.exempt.clone() };
        let beneficial = match (kind, &owners, capital) {
            (Some(kind), Some(owners), Some(capital)) => beneficial_owners::validate_with(
                kind,
                Some(&declaration),
                owners,
                capital,
                &mut errors,
                "",
                registered.when_absent(Some(kind), owners),
            ),
            // The owners or the capital are wrong: the declaration is checked on its own (each
            // person), not against them.
            (Some(kind), _, _) => beneficial_owners::validate_with(
                kind,
                Some(&declaration),
                &[],
                0,
                &mut errors,
                "",
                WhenAbsent::Tolerated,
            ),
            (None, _, _) => None,
        };

        if !errors.is_empty() {
            return Err(errors.0);
        }
        let missing = || vec![FieldError::new("", "invalid", "the registration is incomplete")];
        Ok(ValidContent {
            enterprise_type: kind.ok_or_else(missing)?,
            name: name.ok_or_else(missing)?,
            proper_name: proper_name.ok_or_else(missing)?,
            head_office: head_office.ok_or_else(missing)?,
            charter_capital_vnd: capital.ok_or_else(missing)?,
            business_lines: business_lines.ok_or_else(missing)?,
            legal_representatives: reps.ok_or_else(missing)?,
            owners: owners.ok_or_else(missing)?,
            beneficial,
        })
    }
}

/// The enterprise type (loại hình doanh nghiệp): required, one of the five of the law.
fn validate_type(errors: &mut Errors, input: &Option<String>) -> Option<EnterpriseType> {
    let kind = EnterpriseType::parse(required_text(errors, "type", input)?);
    if kind.is_none() {
        errors.add(
            "type",
            "unknown_type",
            "the type is one of llc_single, llc_multi, jsc, partnership, private_enterprise",
        );
    }
    kind
}

/// The charter capital (vốn điều lệ): required, a positive number of VND.
fn validate_capital(errors: &mut Errors, input: Option<i64>) -> Option<i64> {
    match input {
        None => {
            errors.required("charter_capital_vnd");
            None
        }
        Some(c) if c <= 0 => {
            errors.add("charter_capital_vnd", "not_positive", "the charter capital must be a positive number of VND");
            None
        }
        Some(c) => Some(c),
    }
}

/// The legal representatives: at least one, each checked by
/// [`people::validate_representative`]; `None` unless every one is valid.
fn validate_representatives(
    errors: &mut Errors,
    input: &Option<Vec<RepresentativeInput>>,
    on: NaiveDate,
) -> Option<Vec<LegalRepresentative>> {
    match input {
        None => {
            errors.required("legal_representatives");
            None
        }
        Some(list) if list.is_empty() => {
            errors.add("legal_representatives", "empty", "at least one legal representative is required");
            None
        }
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(i, r)| people::validate_representative(errors, &format!("legal_representatives[{i}]"), r, on))
            // Every representative is checked (and reported) before the list is judged whole.
            .collect::<Vec<_>>()
            .into_iter()
            .collect(),
    }
}

/// The owners, members or founding shareholders: each checked by [`people::validate_owner`], then
/// together by the member-count and capital rules of the type ([`people::check_owners`]); `None`
/// unless every one is valid.
fn validate_owners(
    errors: &mut Errors,
    input: &Option<Vec<OwnerInput>>,
    kind: Option<EnterpriseType>,
    capital: Option<i64>,
) -> Option<Vec<Owner>> {
    let Some(list) = input else {
        errors.required("owners");
        return None;
    };
    let validated: Vec<Option<Owner>> = list
        .iter()
        .enumerate()
        .map(|(i, o)| people::validate_owner(errors, &format!("owners[{i}]"), o, kind))
        .collect();
    let all_valid = validated.iter().all(Option::is_some);
    let mut valid: Vec<Owner> = validated.into_iter().flatten().collect();
    if let Some(kind) = kind {
        people::check_owners(errors, kind, &mut valid, list.len(), all_valid, capital);
    }
    all_valid.then_some(valid)
}

/// The name: the Vietnamese name (the type's prefix, then a proper name in the Vietnamese
/// alphabet), and the foreign-language name and abbreviation when given (art. 39).
fn validate_name(
    errors: &mut Errors,
    kind: Option<EnterpriseType>,
    input: &Option<NameInput>,
) -> (Option<EnterpriseName>, Option<String>) {
    let Some(input) = input else {
        errors.required("name");
        return (None, None);
    };
    let vi = required_text(errors, "name.vi", &input.vi);
    let mut proper = None;
    if let Some(vi) = vi {
        if let Some(bad) = vi.chars().find(|c| !text::is_name_char(*c)) {
            errors.add(
                "name.vi",
                "invalid_characters",
                format!("a Vietnamese name holds Vietnamese letters, F, J, Z, W, digits and symbols (art. 38); {bad:?} is not one"),
            );
        } else if let Some(kind) = kind {
            match enterprise_type::proper_name(kind, vi) {
                Ok(p) => proper = Some(p),
                Err(NameError::MissingPrefix) => errors.add(
                    "name.vi",
                    "name_prefix",
                    format!("the name of a {} starts with {} (art. 38)", kind.as_str(), kind.prefixes_described()),
                ),
                Err(NameError::EmptyProperName) => {
                    errors.add("name.vi", "proper_name_missing", "the proper name after the type is missing")
                }
                Err(NameError::SingleMemberWordForMulti) => errors.add(
                    "name.vi",
                    "name_prefix",
                    "\"một thành viên\"/\"MTV\" names a single-member LLC, not a multi-member one",
                ),
            }
        }
    }
    // Art. 39: the foreign-language name is in Latin letters (diacritics included); the
    // abbreviation is taken from the Vietnamese or the foreign-language name.
    optional_name(
        errors,
        "name.en",
        &input.en,
        text::is_latin_char,
        "a foreign-language name is written in Latin letters",
    );
    optional_name(
        errors,
        "name.abbreviation",
        &input.abbreviation,
        |c| text::is_name_char(c) || text::is_latin_char(c),
        "the abbreviation holds characters outside the Vietnamese and Latin alphabets",
    );
    let name = vi.map(|vi| EnterpriseName {
        vi: vi.to_string(),
        en: input.en.clone(),
        abbreviation: input.abbreviation.clone(),
    });
    (name, proper)
}

/// An address resolved against the 2025 units: the street as given, the ward and province with
/// their names from the reference data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedAddress {
    pub street: String,
    pub ward_code: String,
    pub ward_name: String,
    pub province_code: String,
    pub province_name: String,
}

impl From<ResolvedAddress> for UnitAddress {
    fn from(a: ResolvedAddress) -> Self {
        UnitAddress {
            street: a.street,
            ward_code: a.ward_code,
            ward_name: a.ward_name,
            province_code: a.province_code,
            province_name: a.province_name,
        }
    }
}

/// Resolves an address against the 2025 units: shared by head offices and units. The street is
/// required; the ward (5 digits) must be a ward of the province (2 digits).
pub fn validate_address(
    errors: &mut Errors,
    prefix: &str,
    reference: &Reference,
    street: &Option<String>,
    ward_code: &Option<String>,
    province_code: &Option<String>,
) -> Option<ResolvedAddress> {
    let street = required_text(errors, &format!("{prefix}.street"), street);
    let ward_path = format!("{prefix}.ward_code");
    let province_path = format!("{prefix}.province_code");
    let ward = required_text(errors, &ward_path, ward_code);
    let province = required_text(errors, &province_path, province_code);
    let ward_ok = ward.filter(|w| {
        let ok = w.len() == 5 && w.bytes().all(|b| b.is_ascii_digit());
        if !ok {
            errors.add(&ward_path, "invalid_format", "a ward code has 5 digits");
        }
        ok
    });
    let province_ok = province.filter(|p| {
        let ok = p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
        if !ok {
            errors.add(&province_path, "invalid_format", "a province code has 2 digits");
        }
        ok
    });
    let (ward, province) = (ward_ok?, province_ok?);
    match reference.resolve(province, ward) {
        Ok((p, w)) => Some(ResolvedAddress {
            street: street?.to_string(),
            ward_code: w.code.clone(),
            ward_name: w.name.clone(),
            province_code: p.code.clone(),
            province_name: p.name.clone(),
        }),
        Err(e) => {
            use super::reference::AddressError::*;
            let (path, message) = match e {
                UnknownProvince => (&province_path, format!("{province} is not a province of the 2025 units")),
                UnknownWard => (&ward_path, format!("{ward} is not a ward of the 2025 units")),
                WardNotInProvince => (&ward_path, format!("ward {ward} is not in province {province}")),
            };
            errors.add(path.clone(), e.code(), message);
            None
        }
    }
}

fn validate_head_office(
    errors: &mut Errors,
    reference: &Reference,
    input: &Option<HeadOfficeInput>,
    registered: Option<&HeadOffice>,
) -> Option<HeadOffice> {
    let Some(input) = input else {
        errors.required("head_office");
        return None;
    };
    if let Some(phone) = input.phone.as_deref() {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if !phone.chars().all(|c| c.is_ascii_digit() || " +.-()".contains(c)) || !(8..=15).contains(&digits) {
            errors.add(
                "head_office.phone",
                "invalid_phone",
                "a phone number has 8 to 15 digits, with spaces, dots, dashes, parentheses or a leading +",
            );
        }
    }
    if let Some(kept) = registered.filter(|h| h.legacy.is_some()) {
        let same_units = input.ward_code.as_deref() == Some(kept.ward_code.as_str())
            && input.province_code.as_deref() == Some(kept.province_code.as_str());
        if same_units && input.street.as_deref() == Some(kept.street.as_str()) {
            // Unchanged: the legacy address stays as registered.
            let Some(resolved) = legacy_head_office(reference, &kept.province_code, &kept.ward_code) else {
                errors.add(
                    "head_office.ward_code",
                    "unknown_ward",
                    format!("{} is not a ward of province {} in the legacy units", kept.ward_code, kept.province_code),
                );
                return None;
            };
            return Some(HeadOffice {
                street: kept.street.clone(),
                phone: input.phone.clone(),
                email: input.email.clone(),
                ..resolved
            });
        }
        if same_units {
            // The codes are the legacy ones (even where a 2025 ward has the same code, it is another
            // place): a new street needs the 2025 ward and province it lies in.
            errors.add(
                "head_office.ward_code",
                "legacy_units",
                "the head office is registered in the units in force before 1 July 2025; a change of address uses the 2025 units",
            );
            return None;
        }
    }
    let address =
        validate_address(errors, "head_office", reference, &input.street, &input.ward_code, &input.province_code)?;
    Some(HeadOffice {
        street: address.street,
        ward_code: address.ward_code,
        ward_name: address.ward_name,
        province_code: address.province_code,
        province_name: address.province_name,
        phone: input.phone.clone(),
        email: input.email.clone(),
        legacy: None,
    })
}

/// A head office in the legacy ward `ward_code` of legacy province `province_code`, with the 2025
/// unit it lies in (its default one when the ward was split, flagged `ambiguous`); `None` when it
/// is not a legacy ward or has no 2025 unit. The street, phone and e-mail are left empty.
pub fn legacy_head_office(reference: &Reference, province_code: &str, ward_code: &str) -> Option<HeadOffice> {
    let legacy = reference.legacy_ward(province_code, ward_code)?;
    let mapping = reference.legacy_to_2025(province_code, ward_code)?;
    let (province, ward) = reference.resolve(&mapping.province_code, &mapping.ward_code).ok()?;
    Some(HeadOffice {
        street: String::new(),
        ward_code: legacy.ward_code.clone(),
        ward_name: legacy.ward_name.clone(),
        province_code: legacy.province_code.clone(),
        province_name: legacy.province_name.clone(),
        phone: None,
        email: None,
        legacy: Some(LegacyUnits {
            district_code: legacy.district_code.clone(),
            district_name: legacy.district_name.clone(),
            current: CurrentUnits {
                ward_code: ward.code.clone(),
                ward_name: ward.name.clone(),
                province_code: province.code.clone(),
                province_name: province.name.clone(),
            },
            ambiguous: mapping.ambiguous,
        }),
    })
}

/// Business lines: level-4 codes of `edition`, no duplicates, exactly one main (SPEC §2.4). A code
/// among `registered` (the lines already on the record) keeps the edition it was registered in.
pub fn validate_lines(
    errors: &mut Errors,
    reference: &Reference,
    input: &Option<Vec<BusinessLineInput>>,
    edition: VsicEdition,
    registered: &[BusinessLine],
) -> Option<Vec<BusinessLine>> {
    let Some(lines) = input else {
        errors.required("business_lines");
        return None;
    };
    if lines.is_empty() {
        errors.add("business_lines", "empty", "at least one business line is required");
        return None;
    }
    if lines.len() > MAX_LINES {
        errors.add("business_lines", "too_long", format!("at most {MAX_LINES} business lines"));
        return None;
    }
    let before = errors.0.len();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let path = format!("business_lines[{i}].vsic");
        let Some(code) = required_text(errors, &path, &line.vsic) else { continue };
        let edition = registered.iter().find(|l| l.vsic == code).map_or(edition, |l| l.edition);
        match reference.vsic(edition, code) {
            Some(entry) if entry.level == 4 => {
                if !seen.insert(code.to_string()) {
                    errors.add(&path, "duplicate_line", format!("{code} is listed twice"));
                }
                out.push(BusinessLine { vsic: code.to_string(), main: line.main, edition, name: entry.name.clone() });
            }
            Some(_) => {
                errors.add(&path, "not_level_4", format!("{code} is not a level-4 VSIC {} code", edition.as_str()))
            }
            None => errors.add(&path, "unknown_vsic", format!("{code} is not a VSIC {} code", edition.as_str())),
        }
    }
    let mains = lines.iter().filter(|l| l.main).count();
    if mains != 1 {
        errors.add(
            "business_lines",
            "main_line_count",
            format!("exactly one business line is the main one; {mains} are marked main"),
        );
    }
    (errors.0.len() == before).then_some(out)
}

impl ValidContent {
    /// The record of a new registration, version 1.
    pub fn into_new_record(self, code: String, registered_on: NaiveDate, at: DateTime<Utc>) -> Enterprise {
        let (beneficial_owners, exempt) = BeneficialOwnership::into_fields(self.beneficial);
        Enterprise {
            code,
            enterprise_type: self.enterprise_type,
            name: self.name,
            status: Status::Active,
            status_until: None,
            registered_on,
            version: 1,
            registration_changes: 0,
            head_office: self.head_office,
            charter_capital_vnd: self.charter_capital_vnd,
            business_lines: self.business_lines,
            legal_representatives: self.legal_representatives,
            owners: Some(self.owners),
            units: Vec::new(),
            scheduled_changes: Vec::new(),
            licenses: Some(Vec::new()),
            beneficial_owners,
            exempt,
            discrepancies: None,
            updated_at: at,
        }
    }
}

/// An optional name field: absent, or not empty and made of `allowed` characters only.
fn optional_name(errors: &mut Errors, field: &str, value: &Option<String>, allowed: impl Fn(char) -> bool, why: &str) {
    match value.as_deref() {
        Some("") => errors.add(field, "empty", "leave the field out rather than send it empty"),
        Some(v) if !v.chars().all(allowed) => errors.add(field, "invalid_characters", why),
        _ => {}
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::reference::tests::sample;

    pub const APPENDIX_A: &str = r#"{
      "type": "llc_multi",
      "name": {"vi": "Công ty TNHH Vận tải Hoàng Long Phát", "en": "Hoang Long Phat Transport Company Limited", "abbreviation": "HLP TRANSPORT CO., LTD"},
      "head_office": {"street": "Số 12 phố Hàng Bài", "ward_code": "00070", "province_code": "01", "phone": "0243 826 1234", "email": "info@hoanglongphat.vn"},
      "charter_capital_vnd": 5000000000,
      "business_lines": [{"vsic": "4933", "main": true}, {"vsic": "5229", "main": false}],
      "legal_representatives": [{"full_name": "Nguyễn Văn An", "position": "Giám đốc", "birth_date": "1980-04-12", "nationality": "VN", "identity": {"kind": "cccd", "number": "001080012345"}}],
      "owners": [
        {"kind": "individual", "name": "Nguyễn Văn An", "nationality": "VN", "identity": {"kind": "cccd", "number": "001080012345"}, "capital_vnd": 3000000000},
        {"kind": "individual", "name": "Trần Thị Bình", "nationality": "VN", "identity": {"kind": "cccd", "number": "001185054321"}, "capital_vnd": 2000000000}
      ]
    }"#;

    fn today() -> NaiveDate {
        "2026-11-27".parse().unwrap()
    }

    fn content(json: &str) -> RegistrationContent {
        serde_json::from_str(json).unwrap()
    }

    fn codes(result: Result<ValidContent, Vec<FieldError>>) -> Vec<(String, String)> {
        result.unwrap_err().into_iter().map(|e| (e.field, e.code.into_owned())).collect()
    }

    #[test]
    fn the_appendix_example_is_valid() {
        let v = content(APPENDIX_A).validate_content(&sample(), today()).unwrap();
        assert_eq!(v.proper_name, "Vận tải Hoàng Long Phát");
        assert_eq!(v.head_office.ward_name, "Phường Hoàn Kiếm");
        assert_eq!(v.business_lines[0].edition, VsicEdition::Vsic2025);
        assert_eq!(v.owners[1].share_percent, 40.0);
    }

    #[test]
    fn many_errors_are_reported_at_once() {
        let mut v: serde_json::Value = serde_json::from_str(APPENDIX_A).unwrap();
        v["head_office"]["ward_code"] = "26743".into();
        v["charter_capital_vnd"] = 0.into();
        v["business_lines"] = serde_json::json!([{"vsic": "9999", "main": true}, {"vsic": "5229", "main": true}]);
        v["name"]["vi"] = "Công ty cổ phần Hoàng Long".into();
        let got = codes(serde_json::from_value::<RegistrationContent>(v).unwrap().validate_content(&sample(), today()));
        for expected in [
            ("name.vi", "name_prefix"),
            ("head_office.ward_code", "ward_not_in_province"),
            ("charter_capital_vnd", "not_positive"),
            ("business_lines[0].vsic", "unknown_vsic"),
            ("business_lines", "main_line_count"),
        ] {
            assert!(got.contains(&(expected.0.into(), expected.1.into())), "{expected:?} not in {got:?}");
        }
    }

    #[test]
    fn an_empty_body_names_every_required_field() {
        let got = codes(RegistrationContent::default().validate_content(&sample(), today()));
        let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            ["type", "name", "head_office", "charter_capital_vnd", "business_lines", "legal_representatives", "owners"]
        );
    }

    #[test]
    fn nfd_and_stray_whitespace_are_stored_as_nfc() {
        let nfd = APPENDIX_A.replace("Hoàng Long Phát", "  Hoa\u{0300}ng   Long Pha\u{0301}t ");
        let v = content(&nfd).validate_content(&sample(), today()).unwrap();
        assert_eq!(v.name.vi, "Công ty TNHH Vận tải Hoàng Long Phát");
    }

    #[test]
    fn vsic_2018_only_codes_are_refused_for_new_registrations() {
        let j = APPENDIX_A.replace("\"5229\"", "\"6201\"");
        assert_eq!(
            codes(content(&j).validate_content(&sample(), today())),
            [("business_lines[1].vsic".into(), "unknown_vsic".into())]
        );
        let j = APPENDIX_A.replace("\"5229\"", "\"4933\"");
        assert_eq!(
            codes(content(&j).validate_content(&sample(), today())),
            [("business_lines[1].vsic".into(), "duplicate_line".into())]
        );
        let j = APPENDIX_A.replace("\"5229\"", "\"493\"");
        assert_eq!(
            codes(content(&j).validate_content(&sample(), today())),
            [("business_lines[1].vsic".into(), "not_level_4".into())]
        );
    }

    #[test]
    fn a_private_enterprise_is_represented_by_its_owner() {
        let j = r#"{"type": "private_enterprise", "name": {"vi": "DNTN Phú Quý"},
          "head_office": {"street": "Thôn 3", "ward_code": "26743", "province_code": "79"},
          "charter_capital_vnd": 500000000, "business_lines": [{"vsic": "4711", "main": true}],
          "legal_representatives": [{"full_name": "Lê Văn Cường", "position": "Chủ doanh nghiệp", "birth_date": "1975-02-03", "nationality": "VN", "identity": {"kind": "cccd", "number": "079075000001"}}],
          "owners": [{"kind": "individual", "name": "Lê Văn Cường", "nationality": "VN", "identity": {"kind": "cccd", "number": "079075000002"}, "capital_vnd": 500000000}]}"#;
        assert_eq!(
            codes(content(j).validate_content(&sample(), today())),
            [("legal_representatives[0].identity.number".into(), "not_an_owner".into())]
        );
        let ok = j.replace("079075000002", "079075000001");
        assert!(content(&ok).validate_content(&sample(), today()).is_ok());
    }

    /// Free text (street, position, a foreign registration number) holding a control character
    /// is refused as `invalid_characters`: PostgreSQL cannot store U+0000 in text or jsonb, so it
    /// must never reach a commit.
    #[test]
    fn control_characters_in_free_text_are_refused() {
        let mut v: serde_json::Value = serde_json::from_str(APPENDIX_A).unwrap();
        v["head_office"]["street"] = "Số 12\u{0} phố Hàng Bài".into();
        v["legal_representatives"][0]["position"] = "Giám đốc\u{85}\u{7f}".into();
        v["owners"][1] = serde_json::json!({"kind": "organisation", "name": "Pacific Holdings", "nationality": "SG",
            "foreign_registration_number": "2019\u{1b}[31m", "capital_vnd": 2000000000});
        let got = codes(serde_json::from_value::<RegistrationContent>(v).unwrap().validate_content(&sample(), today()));
        assert_eq!(
            got,
            [
                ("head_office.street".into(), "invalid_characters".into()),
                ("legal_representatives[0].position".into(), "invalid_characters".into()),
                ("owners[1].foreign_registration_number".into(), "invalid_characters".into()),
            ]
        );
        // Whitespace controls (tab, line feed, NEL) are spaces after normalisation.
        let mut v: serde_json::Value = serde_json::from_str(APPENDIX_A).unwrap();
        v["head_office"]["street"] = "Số 12\tphố\nHàng\u{85}Bài".into();
        let ok =
            serde_json::from_value::<RegistrationContent>(v).unwrap().validate_content(&sample(), today()).unwrap();
        assert_eq!(ok.head_office.street, "Số 12 phố Hàng Bài");
    }
}
