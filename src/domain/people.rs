//! People of an enterprise (SPEC §2.5): legal representatives (người đại diện theo pháp luật) and
//! owners, members or founding shareholders, with the member-count and capital rules of each
//! type (Law on Enterprises arts. 46, 74, 111, 177, 188).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::code::EnterpriseCode;
use super::enterprise_type::EnterpriseType;
use super::errors::Errors;
use super::record::{share_percent, Identity, IdentityKind, LegalRepresentative, Owner, OwnerKind, PartnerKind};
use super::text;

/// ISO 3166-1 alpha-2 codes.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR \
BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI \
FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS \
IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO \
MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA \
RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT \
TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

pub fn is_country(code: &str) -> bool {
    // The list is two letters and a space each: compared in place, without splitting it.
    code.len() == 2 && COUNTRIES.as_bytes().chunks(3).any(|c| &c[..2] == code.as_bytes())
}

/// Age of full civil capacity required of a legal representative (Civil Code art. 20).
const ADULT_AGE: i32 = 18;

#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityInput {
    /// `cccd` (12 digits) or `passport`.
    #[schema(value_type = IdentityKind, required = true)]
    pub kind: Option<String>,
    /// A CCCD has 12 digits; a passport number 6 to 20 letters and digits.
    #[schema(value_type = String, required = true, pattern = "^ *([0-9A-Za-z] *){6,20}$", example = "001080012345")]
    pub number: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepresentativeInput {
    #[validate(length(max = 200, code = "too_long"))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub full_name: Option<String>,
    #[validate(length(max = 200, code = "too_long"))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub position: Option<String>,
    /// At least 18 years before the registration.
    #[schema(value_type = NaiveDate, required = true)]
    pub birth_date: Option<NaiveDate>,
    /// ISO 3166-1 alpha-2.
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z]{2}$", example = "VN")]
    pub nationality: Option<String>,
    #[schema(value_type = IdentityInput, required = true)]
    pub identity: Option<IdentityInput>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerInput {
    /// `individual` or `organisation`.
    #[schema(value_type = OwnerKind, required = true)]
    pub kind: Option<String>,
    #[validate(length(max = 400, code = "too_long"))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 400)]
    pub name: Option<String>,
    /// ISO 3166-1 alpha-2: an individual's, or a foreign organisation's.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    pub nationality: Option<String>,
    /// An individual's identity document.
    pub identity: Option<IdentityInput>,
    /// A Vietnamese organisation's enterprise code.
    #[schema(value_type = Option<super::code::EnterpriseCodeInput>)]
    pub enterprise_code: Option<String>,
    /// A foreign organisation's registration number.
    #[validate(length(max = 50, code = "too_long"))]
    #[schema(max_length = 50)]
    pub foreign_registration_number: Option<String>,
    /// VND contributed, a positive integer.
    #[schema(value_type = i64, required = true, minimum = 1)]
    pub capital_vnd: Option<i64>,
    /// Partnerships only, and required there: `general` (an individual) or
    /// `capital_contributing` (an individual or an organisation).
    #[schema(value_type = Option<PartnerKind>)]
    pub partner_kind: Option<String>,
}

impl IdentityInput {
    fn normalize(&mut self) {
        self.kind = norm(self.kind.take());
        self.number = norm(self.number.take()).map(|n| n.replace(' ', "").to_uppercase());
    }
}

impl RepresentativeInput {
    pub fn normalize(&mut self) {
        self.full_name = norm(self.full_name.take());
        self.position = norm(self.position.take());
        self.nationality = norm(self.nationality.take()).map(|n| n.to_uppercase());
        if let Some(i) = &mut self.identity {
            i.normalize();
        }
    }
}

impl OwnerInput {
    pub fn normalize(&mut self) {
        self.kind = norm(self.kind.take());
        self.name = norm(self.name.take());
        self.nationality = norm(self.nationality.take()).map(|n| n.to_uppercase());
        self.enterprise_code = norm(self.enterprise_code.take());
        self.foreign_registration_number = norm(self.foreign_registration_number.take());
        self.partner_kind = norm(self.partner_kind.take());
        if let Some(i) = &mut self.identity {
            i.normalize();
        }
    }
}

/// Normalised text, or `None` for absent; an empty string stays (as empty) so it is reported.
pub fn norm(value: Option<String>) -> Option<String> {
    value.map(|v| text::normalize(&v))
}

/// A required text field: reports `required` or `empty`.
pub fn required_text<'a>(errors: &mut Errors, path: &str, value: &'a Option<String>) -> Option<&'a str> {
    match value.as_deref() {
        None => {
            errors.required(path);
            None
        }
        Some("") => {
            errors.add(path, "empty", "this field must not be empty");
            None
        }
        Some(v) => match text::find_control(v) {
            Some(c) => {
                errors.add(path, "invalid_characters", format!("control characters such as {c:?} are not allowed"));
                None
            }
            None => Some(v),
        },
    }
}

/// Validates an identity document. A CCCD has 12 digits: a 3-digit province-of-birth code
/// (001–096), a digit for century and sex, the last two digits of the birth year and six digits
/// (Circular 59/2021/TT-BCA art. 7). When a birth date is known, the century digit and year must
/// agree with it.
pub fn validate_identity(
    errors: &mut Errors,
    path: &str,
    input: &Option<IdentityInput>,
    nationality: Option<&str>,
    birth_date: Option<NaiveDate>,
) -> Option<Identity> {
    let Some(input) = input else {
        errors.required(path);
        return None;
    };
    let kind_path = format!("{path}.kind");
    let number_path = format!("{path}.number");
    let kind = match required_text(errors, &kind_path, &input.kind) {
        Some("cccd") => Some(IdentityKind::Cccd),
        Some("passport") => Some(IdentityKind::Passport),
        Some(_) => {
            errors.add(&kind_path, "unknown_identity_kind", "the identity document kind is `cccd` or `passport`");
            None
        }
        None => None,
    };
    let number = required_text(errors, &number_path, &input.number)?;
    let kind = kind?;
    match kind {
        IdentityKind::Cccd => {
            if number.len() != 12 || !number.bytes().all(|b| b.is_ascii_digit()) {
                errors.add(&number_path, "invalid_cccd", "a CCCD number has exactly 12 digits");
                return None;
            }
            let province: u32 = number[..3].parse().expect("digits");
            if !(1..=96).contains(&province) {
                errors.add(&number_path, "invalid_cccd", "a CCCD number starts with a province code from 001 to 096");
                return None;
            }
            if let Some(birth) = birth_date {
                let century_digit = u32::from(number.as_bytes()[3] - b'0');
                let year_digits: i32 = number[4..6].parse().expect("digits");
                let century = 1900 + 100 * (century_digit / 2) as i32;
                if century + year_digits != birth.year() {
                    errors.add(
                        &number_path,
                        "identity_birth_mismatch",
                        "the CCCD number's century digit and year (digits 4 to 6) do not match the birth date",
                    );
                    return None;
                }
            }
            if nationality.is_some_and(|n| n != "VN") {
                errors.add(
                    &kind_path,
                    "cccd_requires_vn",
                    "a CCCD is held by Vietnamese citizens only (nationality VN)",
                );
                return None;
            }
        }
        IdentityKind::Passport => {
            if !(6..=20).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
                errors.add(&number_path, "invalid_passport", "a passport number has 6 to 20 letters and digits");
                return None;
            }
        }
    }
    Some(Identity { kind, number: number.to_string() })
}

pub(crate) fn validate_nationality<'a>(errors: &mut Errors, path: &str, value: &'a Option<String>) -> Option<&'a str> {
    let n = required_text(errors, path, value)?;
    if is_country(n) {
        Some(n)
    } else {
        errors.add(path, "unknown_country", "nationality is an ISO 3166-1 alpha-2 country code such as VN");
        None
    }
}

pub(crate) fn validate_person_name(errors: &mut Errors, path: &str, value: &Option<String>) -> Option<String> {
    let name = required_text(errors, path, value)?;
    if !name.chars().all(text::is_person_name_char) {
        errors.add(
            path,
            "invalid_characters",
            "a person's name holds letters, spaces, apostrophes, hyphens and dots only",
        );
        return None;
    }
    Some(name.to_string())
}

pub fn validate_representative(
    errors: &mut Errors,
    path: &str,
    input: &RepresentativeInput,
    on: NaiveDate,
) -> Option<LegalRepresentative> {
    let full_name = validate_person_name(errors, &format!("{path}.full_name"), &input.full_name);
    let position = required_text(errors, &format!("{path}.position"), &input.position).map(str::to_string);
    let nationality = validate_nationality(errors, &format!("{path}.nationality"), &input.nationality);
    let birth_path = format!("{path}.birth_date");
    let birth_date = match input.birth_date {
        None => {
            errors.required(&birth_path);
            None
        }
        Some(b) if b > on => {
            errors.add(&birth_path, "in_future", "the birth date is in the future");
            None
        }
        Some(b) if on.years_since(b).is_none_or(|age| (age as i32) < ADULT_AGE) => {
            errors.add(&birth_path, "under_age", "a legal representative must be at least 18 years old");
            None
        }
        Some(b) => Some(b),
    };
    let identity = validate_identity(errors, &format!("{path}.identity"), &input.identity, nationality, birth_date);
    Some(LegalRepresentative {
        full_name: full_name?,
        position: position?,
        birth_date: Some(birth_date?),
        nationality: nationality?.to_string(),
        identity: Some(identity?),
    })
}

/// An owner, member or founding shareholder: an individual or an organisation, each identified as
/// the law asks, with a positive capital contribution, and a partnership's partner kind
/// ([`validate_partner_kind`]). `None` when the owner is not valid.
pub fn validate_owner(
    errors: &mut Errors,
    path: &str,
    input: &OwnerInput,
    enterprise_type: Option<EnterpriseType>,
) -> Option<Owner> {
    let kind_path = format!("{path}.kind");
    let kind = match required_text(errors, &kind_path, &input.kind) {
        Some("individual") => Some(OwnerKind::Individual),
        Some("organisation") => Some(OwnerKind::Organisation),
        Some(_) => {
            errors.add(&kind_path, "unknown_owner_kind", "an owner is an `individual` or an `organisation`");
            None
        }
        None => None,
    };
    let capital_path = format!("{path}.capital_vnd");
    let capital = match input.capital_vnd {
        None => {
            errors.required(&capital_path);
            None
        }
        Some(c) if c <= 0 => {
            errors.add(&capital_path, "not_positive", "the capital contributed must be a positive number of VND");
            None
        }
        Some(c) => Some(c),
    };
    let partner_kind = validate_partner_kind(errors, path, input, enterprise_type, kind);
    let owner = match kind? {
        OwnerKind::Individual => validate_individual_owner(errors, path, input),
        OwnerKind::Organisation => validate_organisation_owner(errors, path, input),
    };
    Some(Owner { capital_vnd: capital?, partner_kind: partner_kind?, ..owner? })
}

/// A partnership's partner kind (SPEC §2.5, art. 177.1): required, `general` or
/// `capital_contributing`; a general partner is an individual. Other types have no partners:
/// the field is refused. `Some(None)` when the owner rightly has none; `None` when it is invalid.
/// The partner kind of an owner as a record holds it. A partnership recorded before partner kinds
/// were kept (the earlier contract took individual general partners only) reads its individuals
/// as `general` and any organisation as `capital_contributing`; other types have none.
pub fn recorded_partner_kind(kind: EnterpriseType, owner: &Owner) -> Option<PartnerKind> {
    match (kind, owner.partner_kind, owner.kind) {
        (EnterpriseType::Partnership, Some(p), _) => Some(p),
        (EnterpriseType::Partnership, None, OwnerKind::Individual) => Some(PartnerKind::General),
        (EnterpriseType::Partnership, None, OwnerKind::Organisation) => Some(PartnerKind::CapitalContributing),
        _ => None,
    }
}

fn validate_partner_kind(
    errors: &mut Errors,
    path: &str,
    input: &OwnerInput,
    enterprise_type: Option<EnterpriseType>,
    kind: Option<OwnerKind>,
) -> Option<Option<PartnerKind>> {
    let field = format!("{path}.partner_kind");
    match enterprise_type {
        Some(EnterpriseType::Partnership) => {}
        // Without a valid type the field cannot be judged; the type is reported.
        None => return Some(None),
        Some(_) => {
            if input.partner_kind.is_some() {
                errors.add(field, "not_allowed", "only a partnership's owners have a partner kind");
                return None;
            }
            return Some(None);
        }
    }
    let value = required_text(errors, &field, &input.partner_kind)?;
    let Some(partner) = PartnerKind::parse(value) else {
        errors.add(field, "unknown_partner_kind", "a partner is `general` or `capital_contributing`");
        return None;
    };
    if partner == PartnerKind::General && kind == Some(OwnerKind::Organisation) {
        errors.add(
            format!("{path}.kind"),
            "individual_required",
            "a general partner is an individual (art. 177.1(b)); an organisation may be a capital-contributing partner",
        );
        return None;
    }
    Some(Some(partner))
}

/// An owner of `kind` with nothing else known yet.
fn blank_owner(kind: OwnerKind) -> Owner {
    Owner {
        kind,
        name: String::new(),
        nationality: None,
        identity: None,
        enterprise_code: None,
        foreign_registration_number: None,
        capital_vnd: 0,
        share_percent: 0.0,
        partner_kind: None,
    }
}

/// An individual owner: a person's name, a nationality and an identity document; an
/// organisation's identifiers are not allowed. The capital is left for the caller.
fn validate_individual_owner(errors: &mut Errors, path: &str, input: &OwnerInput) -> Option<Owner> {
    let name = validate_person_name(errors, &format!("{path}.name"), &input.name);
    let nationality = validate_nationality(errors, &format!("{path}.nationality"), &input.nationality);
    let identity = validate_identity(errors, &format!("{path}.identity"), &input.identity, nationality, None);
    for (field, present) in [
        ("enterprise_code", input.enterprise_code.is_some()),
        ("foreign_registration_number", input.foreign_registration_number.is_some()),
    ] {
        if present {
            errors.add(format!("{path}.{field}"), "not_allowed", "only an organisation owner has this field");
        }
    }
    Some(Owner {
        name: name?,
        nationality: Some(nationality?.to_string()),
        identity: Some(identity?),
        ..blank_owner(OwnerKind::Individual)
    })
}

/// An organisation owner: a name in the Vietnamese or Latin alphabet, no personal identity
/// document, and its registration ([`organisation_registration`]). The capital is left for the
/// caller.
fn validate_organisation_owner(errors: &mut Errors, path: &str, input: &OwnerInput) -> Option<Owner> {
    let name = required_text(errors, &format!("{path}.name"), &input.name).map(str::to_string);
    if !name.as_deref().is_none_or(|n| n.chars().all(text::is_name_char)) {
        errors.add(
            format!("{path}.name"),
            "invalid_characters",
            "the name holds characters outside the Vietnamese and Latin alphabets",
        );
    }
    if input.identity.is_some() {
        errors.add(
            format!("{path}.identity"),
            "not_allowed",
            "an organisation owner is identified by its enterprise code or foreign registration number",
        );
    }
    let mut owner = blank_owner(OwnerKind::Organisation);
    organisation_registration(errors, path, input, &mut owner);
    owner.name = name?;
    Some(owner)
}

/// How an organisation owner is identified, written on `owner`: exactly one of an enterprise code
/// (a Vietnamese organisation, nationality VN) or a foreign registration number with the country
/// of registration.
fn organisation_registration(errors: &mut Errors, path: &str, input: &OwnerInput, owner: &mut Owner) {
    match (&input.enterprise_code, &input.foreign_registration_number) {
        (Some(code), None) => match EnterpriseCode::parse(code) {
            Ok(c) => {
                owner.enterprise_code = Some(c.to_string());
                owner.nationality = Some("VN".into());
            }
            Err(e) => errors.add(format!("{path}.enterprise_code"), e.code(), e.to_string()),
        },
        (None, Some(number)) => {
            let nationality = validate_nationality(errors, &format!("{path}.nationality"), &input.nationality);
            if number.is_empty() {
                errors.add(format!("{path}.foreign_registration_number"), "empty", "this field must not be empty");
            } else if let Some(c) = text::find_control(number) {
                errors.add(
                    format!("{path}.foreign_registration_number"),
                    "invalid_characters",
                    format!("control characters such as {c:?} are not allowed"),
                );
            }
            owner.foreign_registration_number = Some(number.clone());
            owner.nationality = nationality.map(str::to_string);
        }
        (Some(_), Some(_)) => errors.add(
            format!("{path}.enterprise_code"),
            "ambiguous_organisation",
            "give either an enterprise code or a foreign registration number, not both",
        ),
        (None, None) => errors.add(
            format!("{path}.enterprise_code"),
            "required",
            "an organisation owner needs an enterprise code or a foreign registration number",
        ),
    }
}

/// The member-count rule of each type (SPEC §2.2) and the capital rule (shares add up to the
/// charter capital). `owners` are those that validated; `all_valid` says whether every owner did,
/// so that counts and sums are only judged on complete input.
pub fn check_owners(
    errors: &mut Errors,
    kind: EnterpriseType,
    owners: &mut [Owner],
    given: usize,
    all_valid: bool,
    charter_capital: Option<i64>,
) {
    let (min, max, what) = match kind {
        EnterpriseType::LlcSingle => (1, 1, "a single-member LLC has exactly one owner"),
        EnterpriseType::LlcMulti => (2, 50, "a multi-member LLC has 2 to 50 members"),
        EnterpriseType::Jsc => (3, usize::MAX, "a joint-stock company has at least 3 founding shareholders"),
        EnterpriseType::Partnership => (2, usize::MAX, "a partnership has at least 2 general partners"),
        EnterpriseType::PrivateEnterprise => (1, 1, "a private enterprise has exactly one individual owner"),
    };
    if given < min || given > max {
        errors.add("owners", "member_count", format!("{what}; {given} given"));
    }
    if kind == EnterpriseType::PrivateEnterprise {
        for (i, o) in owners.iter().enumerate() {
            if o.kind != OwnerKind::Individual {
                errors.add(
                    format!("owners[{i}].kind"),
                    "individual_required",
                    format!("{what}: owners are individuals"),
                );
            }
        }
    }
    if kind == EnterpriseType::Partnership && all_valid {
        // Art. 177.1(a): at least two general partners (capital-contributing ones may be added).
        let general = owners.iter().filter(|o| o.partner_kind == Some(PartnerKind::General)).count();
        if general < 2 {
            errors.add(
                "owners",
                "general_partner_count",
                format!("a partnership has at least 2 general partners; {general} given"),
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, o) in owners.iter().enumerate() {
        let key = o
            .identity
            .as_ref()
            .map(|id| id.number.clone())
            .or_else(|| o.enterprise_code.clone())
            .or_else(|| o.foreign_registration_number.clone());
        if let Some(key) = key {
            if !seen.insert(key) {
                errors.add(format!("owners[{i}]"), "duplicate_owner", "this owner is listed twice");
            }
        }
    }
    if all_valid {
        if let Some(total) = charter_capital {
            let sum: i128 = owners.iter().map(|o| i128::from(o.capital_vnd)).sum();
            match subscribed_capital(kind, sum, i128::from(total)) {
                Err(message) => errors.add("owners", "capital_mismatch", message),
                Ok(()) => {
                    for o in owners.iter_mut() {
                        o.share_percent = share_percent(o.capital_vnd, total);
                    }
                }
            }
        }
    }
}

/// How the owners' capital relates to the charter capital (SPEC §2.5): an LLC's members and a
/// partnership's partners contribute all of it (art. 47.1, 178.1), a private enterprise's owner
/// invests it all; a joint-stock company's founding shareholders together subscribe at least 20 %
/// and at most all of the shares it may offer at registration (art. 120.2: the rest is sold to
/// other shareholders). Each owner's share is of the charter capital either way.
pub fn subscribed_capital(kind: EnterpriseType, sum: i128, charter_capital: i128) -> Result<(), String> {
    match kind {
        EnterpriseType::Jsc if sum * 5 >= charter_capital && sum <= charter_capital => Ok(()),
        EnterpriseType::Jsc => Err(format!(
            "the founding shareholders subscribe {sum} VND: at least 20 % and at most all of the charter \
             capital of {charter_capital} VND (art. 120.2)"
        )),
        _ if sum == charter_capital => Ok(()),
        _ => Err(format!("the owners' capital adds up to {sum} VND, not the charter capital of {charter_capital} VND")),
    }
}

/// Who may represent each type (SPEC §2.5): the owner of a private enterprise, general partners of
/// a partnership.
pub fn check_representatives(
    errors: &mut Errors,
    kind: EnterpriseType,
    reps: &[LegalRepresentative],
    owners: &[Owner],
) {
    // A partnership is represented by its general partners (art. 184.1), by identity number.
    let owner_ids: Vec<&str> = owners
        .iter()
        .filter(|o| kind != EnterpriseType::Partnership || o.partner_kind == Some(PartnerKind::General))
        .filter_map(|o| o.identity.as_ref())
        .map(|i| i.number.as_str())
        .collect();
    for (i, rep) in reps.iter().enumerate() {
        let id = rep.identity.as_ref().map(|i| i.number.as_str());
        let must_be_owner = match kind {
            EnterpriseType::PrivateEnterprise => {
                Some(("not_an_owner", "the legal representative of a private enterprise is its owner"))
            }
            EnterpriseType::Partnership => {
                Some(("not_a_general_partner", "the legal representatives of a partnership are general partners"))
            }
            _ => None,
        };
        if let (Some((code, why)), Some(id)) = (must_be_owner, id) {
            if !owner_ids.contains(&id) {
                errors.add(format!("legal_representatives[{i}].identity.number"), code, why);
            }
        }
    }
    if kind == EnterpriseType::PrivateEnterprise && reps.len() > 1 {
        errors.add(
            "legal_representatives",
            "member_count",
            "a private enterprise has one legal representative, its owner",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(name: &str, birth: &str, cccd: &str) -> RepresentativeInput {
        RepresentativeInput {
            full_name: Some(name.into()),
            position: Some("Giám đốc".into()),
            birth_date: Some(birth.parse().unwrap()),
            nationality: Some("VN".into()),
            identity: Some(IdentityInput { kind: Some("cccd".into()), number: Some(cccd.into()) }),
        }
    }

    fn today() -> NaiveDate {
        "2026-11-27".parse().unwrap()
    }

    #[test]
    fn the_appendix_representative_is_valid() {
        let mut e = Errors::default();
        let r = validate_representative(
            &mut e,
            "legal_representatives[0]",
            &rep("Nguyễn Văn An", "1980-04-12", "001080012345"),
            today(),
        );
        assert!(e.is_empty(), "{:?}", e.0);
        assert_eq!(r.unwrap().identity.unwrap().number, "001080012345");
    }

    #[test]
    fn cccd_rules() {
        let cases = [
            ("00108001234", "invalid_cccd"),
            ("00108001234X", "invalid_cccd"),
            ("099080012345", "invalid_cccd"),
            ("001090012345", "identity_birth_mismatch"),
            ("001280012345", "identity_birth_mismatch"),
        ];
        for (number, code) in cases {
            let mut e = Errors::default();
            validate_representative(&mut e, "r", &rep("Nguyễn Văn An", "1980-04-12", number), today());
            assert_eq!(e.0.len(), 1, "{number}: {:?}", e.0);
            assert_eq!(e.0[0].code, code, "{number}");
            assert_eq!(e.0[0].field, "r.identity.number");
        }
        // Born in the 21st century: century digit 2 (male) or 3 (female).
        let mut e = Errors::default();
        validate_representative(&mut e, "r", &rep("Trần Thị Cúc", "2003-01-02", "001303012345"), today());
        assert!(e.is_empty(), "{:?}", e.0);
    }

    #[test]
    fn under_age_and_future_birth_dates() {
        let mut e = Errors::default();
        validate_representative(&mut e, "r", &rep("Lê Văn Bé", "2010-01-01", "001210012345"), today());
        assert_eq!(e.0[0].code, "under_age");
        let mut e = Errors::default();
        validate_representative(&mut e, "r", &rep("Lê Văn Bé", "2030-01-01", "001230012345"), today());
        assert_eq!(e.0[0].code, "in_future");
    }

    #[test]
    fn missing_fields_are_all_reported() {
        let mut e = Errors::default();
        validate_representative(&mut e, "r", &RepresentativeInput::default(), today());
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["r.full_name", "r.position", "r.nationality", "r.birth_date", "r.identity"]);
    }

    fn owner(capital: i64, cccd: &str) -> Owner {
        Owner {
            kind: OwnerKind::Individual,
            name: "A".into(),
            nationality: Some("VN".into()),
            identity: Some(Identity { kind: IdentityKind::Cccd, number: cccd.into() }),
            enterprise_code: None,
            foreign_registration_number: None,
            capital_vnd: capital,
            share_percent: 0.0,
            partner_kind: None,
        }
    }

    #[test]
    fn member_counts_per_type() {
        let cases = [
            (EnterpriseType::LlcSingle, 1, true),
            (EnterpriseType::LlcSingle, 2, false),
            (EnterpriseType::LlcMulti, 1, false),
            (EnterpriseType::LlcMulti, 2, true),
            (EnterpriseType::LlcMulti, 50, true),
            (EnterpriseType::LlcMulti, 51, false),
            (EnterpriseType::Jsc, 2, false),
            (EnterpriseType::Jsc, 3, true),
            (EnterpriseType::Partnership, 1, false),
            (EnterpriseType::Partnership, 2, true),
            (EnterpriseType::PrivateEnterprise, 1, true),
            (EnterpriseType::PrivateEnterprise, 2, false),
        ];
        for (kind, n, ok) in cases {
            let mut owners: Vec<Owner> = (0..n).map(|i| owner(10, &format!("001080{i:06}"))).collect();
            if kind == EnterpriseType::Partnership {
                owners.iter_mut().for_each(|o| o.partner_kind = Some(PartnerKind::General));
            }
            let mut e = Errors::default();
            check_owners(&mut e, kind, &mut owners, n, true, Some(10 * n as i64));
            assert_eq!(e.is_empty(), ok, "{kind:?} with {n}: {:?}", e.0);
        }
    }

    #[test]
    fn capital_must_add_up() {
        let mut owners = vec![owner(3, "001080000001"), owner(2, "001080000002")];
        let mut e = Errors::default();
        check_owners(&mut e, EnterpriseType::LlcMulti, &mut owners, 2, true, Some(6));
        assert_eq!(e.0[0].code, "capital_mismatch");
        let mut e = Errors::default();
        check_owners(&mut e, EnterpriseType::LlcMulti, &mut owners, 2, true, Some(5));
        assert!(e.is_empty());
        assert_eq!(owners[0].share_percent, 60.0);
    }

    #[test]
    fn a_jscs_founders_subscribe_between_a_fifth_and_all_of_the_charter_capital() {
        // Art. 120.2: founding shareholders together subscribe at least 20 % of the ordinary
        // shares the company may offer; the rest is sold to others. Other types contribute it all.
        let cases = [
            (EnterpriseType::Jsc, 200, 1000, true),
            (EnterpriseType::Jsc, 199, 1000, false),
            (EnterpriseType::Jsc, 1000, 1000, true),
            (EnterpriseType::Jsc, 1001, 1000, false),
            (EnterpriseType::Jsc, 0, 1000, false),
            (EnterpriseType::LlcMulti, 999, 1000, false),
            (EnterpriseType::LlcMulti, 1000, 1000, true),
            (EnterpriseType::Partnership, 200, 1000, false),
            (EnterpriseType::PrivateEnterprise, 1000, 1000, true),
        ];
        for (kind, sum, charter, lawful) in cases {
            assert_eq!(subscribed_capital(kind, sum, charter).is_ok(), lawful, "{kind:?}: {sum} of {charter}");
        }
        // Shares are of the charter capital: 300 of 1,000 subscribed by three founders.
        let mut owners = vec![owner(100, "001080000001"), owner(100, "001080000002"), owner(100, "001080000003")];
        let mut e = Errors::default();
        check_owners(&mut e, EnterpriseType::Jsc, &mut owners, 3, true, Some(1000));
        assert!(e.is_empty(), "{:?}", e.0);
        assert_eq!(owners[0].share_percent, 10.0);
    }

    fn partner(kind: &str, partner_kind: Option<&str>, id: &str) -> OwnerInput {
        let organisation = kind == "organisation";
        OwnerInput {
            kind: Some(kind.into()),
            name: Some(if organisation { "Công ty CP Sao Mai".into() } else { "Nguyễn Văn An".into() }),
            nationality: (!organisation).then(|| "VN".into()),
            identity: (!organisation).then(|| IdentityInput { kind: Some("cccd".into()), number: Some(id.into()) }),
            enterprise_code: organisation.then(|| id.into()),
            foreign_registration_number: None,
            capital_vnd: Some(100),
            partner_kind: partner_kind.map(str::to_string),
        }
    }

    /// Validates `inputs` as the owners of a partnership, as a registration does: each, then all.
    fn partnership(inputs: &[OwnerInput]) -> (Vec<Owner>, Vec<(String, String)>) {
        let mut e = Errors::default();
        let kind = Some(EnterpriseType::Partnership);
        let validated: Vec<Option<Owner>> =
            inputs.iter().enumerate().map(|(i, o)| validate_owner(&mut e, &format!("owners[{i}]"), o, kind)).collect();
        let all_valid = validated.iter().all(Option::is_some);
        let mut owners: Vec<Owner> = validated.into_iter().flatten().collect();
        let capital = 100 * inputs.len() as i64;
        check_owners(&mut e, EnterpriseType::Partnership, &mut owners, inputs.len(), all_valid, Some(capital));
        (owners, e.0.into_iter().map(|f| (f.field, f.code.into_owned())).collect())
    }

    /// Art. 177.1: two general partners or more, individuals; capital-contributing partners may be
    /// individuals or organisations.
    #[test]
    fn partnerships_have_general_and_capital_contributing_partners() {
        let (owners, errors) = partnership(&[
            partner("individual", Some("general"), "001080000001"),
            partner("individual", Some("general"), "001080000002"),
            partner("organisation", Some("capital_contributing"), "0100233488"),
            partner("individual", Some("capital_contributing"), "001080000003"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(owners[2].partner_kind, Some(PartnerKind::CapitalContributing));
        assert_eq!(owners[0].partner_kind, Some(PartnerKind::General));

        let (_, errors) = partnership(&[
            partner("individual", Some("general"), "001080000001"),
            partner("individual", Some("capital_contributing"), "001080000002"),
        ]);
        assert_eq!(errors, [("owners".to_string(), "general_partner_count".to_string())]);

        let (_, errors) = partnership(&[
            partner("individual", Some("general"), "001080000001"),
            partner("organisation", Some("general"), "0100233488"),
            partner("individual", None, "001080000002"),
            partner("individual", Some("silent"), "001080000003"),
        ]);
        assert_eq!(
            errors,
            [
                ("owners[1].kind".to_string(), "individual_required".to_string()),
                ("owners[2].partner_kind".to_string(), "required".to_string()),
                ("owners[3].partner_kind".to_string(), "unknown_partner_kind".to_string()),
            ]
        );
    }

    #[test]
    fn only_partnerships_have_partner_kinds() {
        let mut e = Errors::default();
        let input = partner("individual", Some("general"), "001080000001");
        assert!(validate_owner(&mut e, "owners[0]", &input, Some(EnterpriseType::LlcMulti)).is_none());
        assert_eq!(e.0[0].field, "owners[0].partner_kind");
        assert_eq!(e.0[0].code, "not_allowed");
        let mut e = Errors::default();
        let input = partner("individual", None, "001080000001");
        let owner = validate_owner(&mut e, "owners[0]", &input, Some(EnterpriseType::Jsc)).unwrap();
        assert!(e.is_empty() && owner.partner_kind.is_none());
    }

    /// Art. 184.1: a partnership's legal representatives are its general partners.
    #[test]
    fn a_partnership_is_represented_by_general_partners() {
        let general = Owner { partner_kind: Some(PartnerKind::General), ..owner(10, "001080012345") };
        let contributing = Owner { partner_kind: Some(PartnerKind::CapitalContributing), ..owner(10, "001080000002") };
        let rep = |id: &str| LegalRepresentative {
            full_name: "Nguyễn Văn An".into(),
            position: "Giám đốc".into(),
            birth_date: None,
            nationality: "VN".into(),
            identity: Some(Identity { kind: IdentityKind::Cccd, number: id.into() }),
        };
        let owners = [general, contributing];
        let mut e = Errors::default();
        check_representatives(&mut e, EnterpriseType::Partnership, &[rep("001080012345")], &owners);
        assert!(e.is_empty(), "{:?}", e.0);
        let mut e = Errors::default();
        check_representatives(&mut e, EnterpriseType::Partnership, &[rep("001080000002")], &owners);
        assert_eq!(e.0[0].code, "not_a_general_partner");
        assert_eq!(e.0[0].field, "legal_representatives[0].identity.number");
    }

    #[test]
    fn duplicate_owners_are_refused() {
        let mut owners = vec![owner(3, "001080000001"), owner(2, "001080000001")];
        let mut e = Errors::default();
        check_owners(&mut e, EnterpriseType::LlcMulti, &mut owners, 2, true, Some(5));
        assert_eq!(e.0[0].code, "duplicate_owner");
        assert_eq!(e.0[0].field, "owners[1]");
    }

    #[test]
    fn countries() {
        assert!(is_country("VN"));
        assert!(is_country("US"));
        assert!(!is_country("XX"));
        assert!(!is_country("vn"));
        // The list's first and last entries, and pairs that straddle two entries.
        let first = &COUNTRIES[..2];
        let last = &COUNTRIES[COUNTRIES.len() - 2..];
        assert!(is_country(first) && is_country(last));
        assert!(!is_country(&COUNTRIES[1..3]) && !is_country(&COUNTRIES[2..4]));
        assert!(!is_country("V") && !is_country("VNM"));
    }
}
