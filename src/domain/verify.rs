//! Verification of claims about an enterprise (`POST /v1/verify`): what a licensing officer needs
//! to confirm an application (this code, this name, this legal representative with this identity
//! number, these business lines) without seeing the register's personal data. Each claim is
//! answered `match` or `mismatch`, nothing more: the answer reveals no personal data beyond what
//! the caller already claimed.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::code::EnterpriseCode;
use super::enterprise_type;
use super::errors::{Errors, FieldError};
use super::record::Enterprise;
use super::status::Status;
use super::text;

/// `POST /v1/verify`: every claim but `code` is optional.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    #[schema(value_type = super::code::EnterpriseCodeInput, required = true, example = "0100000010")]
    pub code: Option<String>,
    /// The Vietnamese name as the application gives it; the type prefix may be written in any
    /// form the law allows (`Công ty TNHH` or `Công ty trách nhiệm hữu hạn`).
    #[schema(pattern = r"\S", max_length = 400, example = "Công ty TNHH Vận tải Hoàng Long Phát")]
    pub name: Option<String>,
    pub legal_representative: Option<RepresentativeClaim>,
    /// VSIC codes the enterprise is claimed to carry on: a 4-digit line, or a shorter group code
    /// that one of its lines belongs to.
    #[schema(value_type = Option<Vec<VsicClaim>>, max_items = 100, example = json!(["4933"]))]
    pub vsic: Option<Vec<String>>,
    /// Verify against the record in force at the end of this day (default: now).
    pub as_of: Option<NaiveDate>,
}

/// A VSIC code claimed: a business line (4 digits), or a group or division it belongs to.
#[derive(ToSchema)]
#[schema(pattern = "^[0-9]{2,4}$", example = "4933")]
pub struct VsicClaim(pub String);

/// One legal representative, as claimed.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepresentativeClaim {
    #[schema(max_length = 200, example = "Nguyễn Văn An")]
    pub full_name: Option<String>,
    /// CCCD or passport number.
    #[schema(max_length = 40, example = "001080012345")]
    pub identity_number: Option<String>,
}

/// Claims that passed their own checks.
#[derive(Debug, Clone)]
pub struct Claims {
    pub code: EnterpriseCode,
    pub name: Option<String>,
    pub representative: Option<(Option<String>, Option<String>)>,
    pub vsic: Option<Vec<String>>,
    pub as_of: Option<NaiveDate>,
}

/// The most VSIC codes one request may claim.
pub const MAX_VSIC_CLAIMS: usize = 100;

impl VerifyRequest {
    pub fn validate(self) -> Result<Claims, Vec<FieldError>> {
        let mut errors = Errors::default();
        let code = match self.code.as_deref() {
            None => {
                errors.required("code");
                None
            }
            Some(c) => {
                let code = EnterpriseCode::parse(c).ok();
                if code.is_none() {
                    errors.add("code", "invalid_code", "an enterprise code is 10 digits with a valid check digit");
                }
                code
            }
        };
        if let Some(name) = &self.name {
            if text::normalize(name).is_empty() || name.chars().count() > 400 {
                errors.add("name", "invalid_name", "a claimed name is 1 to 400 characters");
            }
        }
        let representative = self.legal_representative.map(|r| {
            let full_name = r.full_name.map(|n| text::normalize_lower(&n)).filter(|n| !n.is_empty());
            let number = r.identity_number.map(|n| normalize_identity(&n)).filter(|n| !n.is_empty());
            if full_name.is_none() && number.is_none() {
                errors.add(
                    "legal_representative",
                    "empty_claim",
                    "claim the representative's full_name, identity_number or both",
                );
            }
            if full_name.as_ref().is_some_and(|n| n.chars().count() > 200) {
                errors.add("legal_representative.full_name", "too_long", "a full name is at most 200 characters");
            }
            if number.as_ref().is_some_and(|n| n.len() > 40) {
                errors.add(
                    "legal_representative.identity_number",
                    "too_long",
                    "an identity number is at most 40 characters",
                );
            }
            (full_name, number)
        });
        if let Some(codes) = &self.vsic {
            if codes.len() > MAX_VSIC_CLAIMS {
                errors.add("vsic", "too_many", format!("at most {MAX_VSIC_CLAIMS} VSIC codes per request"));
            }
            for (i, c) in codes.iter().enumerate().take(MAX_VSIC_CLAIMS + 1) {
                if !(c.len() >= 2 && c.len() <= 4 && c.bytes().all(|b| b.is_ascii_digit())) {
                    errors.add(
                        format!("vsic[{i}]"),
                        "invalid_vsic",
                        "a VSIC claim is a code of 2 to 4 digits (a business line, or a group or division it belongs to)",
                    );
                }
            }
        }
        match code {
            Some(code) if errors.is_empty() => {
                Ok(Claims { code, name: self.name, representative, vsic: self.vsic, as_of: self.as_of })
            }
            _ => Err(errors.0),
        }
    }
}

/// Identity numbers compare without spaces, case-insensitively (passport numbers have letters).
fn normalize_identity(number: &str) -> String {
    number.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Match,
    Mismatch,
}

impl From<bool> for Check {
    fn from(matches: bool) -> Self {
        if matches {
            Check::Match
        } else {
            Check::Mismatch
        }
    }
}

/// One answer per claim made; claims not made are left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Checks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_representative: Option<Check>,
    /// Each claimed code and its answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub vsic: Option<BTreeMap<String, Check>>,
}

/// The answer to `POST /v1/verify`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Verification {
    pub code: String,
    /// Whether the enterprise is in the register (at `as_of`, when given).
    pub exists: bool,
    /// Its status (at `as_of`); absent when it does not exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Whether it may carry on business: its status is `active`.
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<NaiveDate>,
    pub checks: Checks,
}

/// Judges the claims against the record (`None`: no such enterprise, or not yet registered at
/// `as_of`; every claim is then a mismatch).
pub fn verify(claims: &Claims, record: Option<&Enterprise>) -> Verification {
    let checks = Checks {
        name: claims.name.as_deref().map(|n| record.is_some_and(|r| same_name(n, r)).into()),
        legal_representative: claims.representative.as_ref().map(|(name, number)| {
            record.is_some_and(|r| has_representative(r, name.as_deref(), number.as_deref())).into()
        }),
        vsic: claims
            .vsic
            .as_ref()
            .map(|codes| codes.iter().map(|c| (c.clone(), record.is_some_and(|r| carries_on(r, c)).into())).collect()),
    };
    Verification {
        code: claims.code.to_string(),
        exists: record.is_some(),
        status: record.map(|r| r.status),
        active: record.is_some_and(|r| r.status == Status::Active),
        as_of: claims.as_of,
        checks,
    }
}

/// The claimed name is the enterprise's Vietnamese name: the same text up to case, spacing and
/// Unicode form, or the same proper name after any of the type's prefixes. Diacritics count:
/// `Hoàng` and `Hoang` are different names.
fn same_name(claim: &str, record: &Enterprise) -> bool {
    if text::normalize_lower(claim) == text::normalize_lower(&record.name.vi) {
        return true;
    }
    let claimed = enterprise_type::proper_name(record.enterprise_type, claim);
    let registered = enterprise_type::proper_name(record.enterprise_type, &record.name.vi);
    matches!((claimed, registered), (Ok(a), Ok(b)) if text::normalize_lower(&a) == text::normalize_lower(&b))
}

/// One legal representative has the claimed name and identity number (both, when both are
/// claimed: a name and a number of two different people do not match).
fn has_representative(record: &Enterprise, full_name: Option<&str>, number: Option<&str>) -> bool {
    record.legal_representatives.iter().any(|rep| {
        full_name.is_none_or(|n| text::normalize_lower(&rep.full_name) == n)
            && number.is_none_or(|n| rep.identity.as_ref().is_some_and(|id| normalize_identity(&id.number) == n))
    })
}

/// One of the enterprise's business lines is the claimed code or belongs to it.
fn carries_on(record: &Enterprise, code: &str) -> bool {
    record.business_lines.iter().any(|line| line.vsic.starts_with(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::tests::sample;
    use crate::registration::{tests::APPENDIX_A, RegistrationContent};
    use chrono::Utc;

    fn record() -> Enterprise {
        let content: RegistrationContent = serde_json::from_str(APPENDIX_A).unwrap();
        let today = "2026-11-27".parse().unwrap();
        content.validate_content(&sample(), today).unwrap().into_new_record("0100000010".into(), today, Utc::now())
    }

    fn claims(json: serde_json::Value) -> Claims {
        serde_json::from_value::<VerifyRequest>(json).unwrap().validate().unwrap()
    }

    #[test]
    fn the_appendix_claims_match() {
        let c = claims(serde_json::json!({
            "code": "0100000010",
            "name": "Công ty TNHH Vận tải Hoàng Long Phát",
            "legal_representative": {"full_name": "Nguyễn Văn An", "identity_number": "001080012345"},
            "vsic": ["4933"]
        }));
        let v = verify(&c, Some(&record()));
        assert!(v.exists && v.active);
        assert_eq!(v.status, Some(Status::Active));
        assert_eq!(v.checks.name, Some(Check::Match));
        assert_eq!(v.checks.legal_representative, Some(Check::Match));
        assert_eq!(v.checks.vsic.unwrap()["4933"], Check::Match);
    }

    #[test]
    fn names_match_up_to_case_spacing_form_and_prefix_but_not_diacritics() {
        let r = record();
        assert!(same_name("  CÔNG TY TNHH   vận tải hoàng long phát ", &r));
        assert!(same_name("Công ty trách nhiệm hữu hạn Vận tải Hoàng Long Phát", &r));
        let nfd: String =
            unicode_normalization::UnicodeNormalization::nfd("Công ty TNHH Vận tải Hoàng Long Phát").collect();
        assert!(same_name(&nfd, &r));
        assert!(!same_name("Công ty TNHH Van tai Hoang Long Phat", &r));
        assert!(!same_name("Công ty TNHH Vận tải Hoàng Long", &r));
        assert!(!same_name("Công ty cổ phần Vận tải Hoàng Long Phát", &r));
    }

    #[test]
    fn a_representative_matches_only_as_one_person() {
        let r = record();
        assert!(has_representative(&r, Some("nguyễn văn an"), Some("001080012345")));
        assert!(has_representative(&r, Some("nguyễn văn an"), None));
        assert!(has_representative(&r, None, Some("001080012345")));
        assert!(!has_representative(&r, Some("nguyễn văn an"), Some("001185054321")));
        assert!(!has_representative(&r, Some("trần thị bình"), None));
    }

    #[test]
    fn vsic_claims_match_lines_and_their_groups() {
        let c = claims(serde_json::json!({"code": "0100000010", "vsic": ["4933", "493", "49", "4931", "5229"]}));
        let checks = verify(&c, Some(&record())).checks.vsic.unwrap();
        let answers: Vec<(&str, Check)> = checks.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(
            answers,
            vec![
                ("49", Check::Match),
                ("493", Check::Match),
                ("4931", Check::Mismatch),
                ("4933", Check::Match),
                ("5229", Check::Match)
            ]
        );
    }

    #[test]
    fn no_record_means_every_claim_mismatches() {
        let c = claims(serde_json::json!({"code": "0100000010", "name": "X", "vsic": ["4933"]}));
        let v = verify(&c, None);
        assert!(!v.exists && !v.active && v.status.is_none());
        assert_eq!(v.checks.name, Some(Check::Mismatch));
        assert_eq!(v.checks.legal_representative, None);
    }

    #[test]
    fn a_ceased_enterprise_exists_but_is_not_active() {
        let mut r = record();
        r.status = Status::Ceased;
        let v = verify(&claims(serde_json::json!({"code": "0100000010"})), Some(&r));
        assert!(v.exists && !v.active);
        assert_eq!(v.status, Some(Status::Ceased));
    }

    #[test]
    fn malformed_claims_are_named() {
        let errors = serde_json::from_value::<VerifyRequest>(serde_json::json!({
            "code": "0100000011", "name": " ", "legal_representative": {}, "vsic": ["49a", "4"]
        }))
        .unwrap()
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["code", "name", "legal_representative", "vsic[0]", "vsic[1]"]);
        assert!(VerifyRequest::default().validate().is_err());
    }
}
