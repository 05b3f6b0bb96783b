//! Dependent units (branches, representative offices) and business locations, Law on
//! Enterprises arts. 44–45 and art. 40 on their names.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::errors::{Errors, FieldError};
use super::people::{norm, required_text};
use super::record::{Enterprise, Unit, UnitAddress, UnitKind};
use super::reference::Reference;
use super::registration::validate_address;
use super::status::Status;
use super::text;

#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitRequest {
    /// `branch`, `representative_office` or `business_location`.
    #[schema(value_type = UnitKind, required = true)]
    pub kind: Option<String>,
    /// The kind's words (`Chi nhánh`, `Văn phòng đại diện`, `Địa điểm kinh doanh`), then the
    /// enterprise's name (art. 40.2).
    #[validate(length(max = 500, code = "too_long"))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 500)]
    pub name: Option<String>,
    #[validate(nested)]
    #[schema(value_type = UnitAddressInput, required = true)]
    pub address: Option<UnitAddressInput>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitAddressInput {
    #[validate(length(max = 500, code = "too_long"))]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 500)]
    pub street: Option<String>,
    /// 5-digit ward code of the 2025 units, a ward of the province.
    #[schema(value_type = String, required = true, pattern = "^[0-9]{5}$", example = "26743")]
    pub ward_code: Option<String>,
    /// 2-digit province code of the 2025 units.
    #[schema(value_type = String, required = true, pattern = "^[0-9]{2}$", example = "79")]
    pub province_code: Option<String>,
}

/// The word a unit's name starts with (art. 40.2: the unit's kind, then the enterprise's name).
pub fn name_word(kind: UnitKind) -> &'static str {
    match kind {
        UnitKind::Branch => "chi nhánh",
        UnitKind::RepresentativeOffice => "văn phòng đại diện",
        UnitKind::BusinessLocation => "địa điểm kinh doanh",
    }
}

/// A unit request that satisfies the rules; the store gives it its code.
#[derive(Debug, Clone)]
pub struct ValidUnit {
    pub kind: UnitKind,
    pub name: String,
    pub address: UnitAddress,
}

impl UnitRequest {
    pub fn validate_for(
        mut self,
        enterprise: &Enterprise,
        reference: &Reference,
    ) -> Result<ValidUnit, Vec<FieldError>> {
        self.kind = norm(self.kind.take());
        self.name = norm(self.name.take());
        if let Some(a) = &mut self.address {
            a.street = norm(a.street.take());
            a.ward_code = norm(a.ward_code.take());
            a.province_code = norm(a.province_code.take());
        }
        let mut errors = Errors::default();
        if let Err(e) = Validate::validate(&self) {
            errors.extend_validator("", &e);
        }
        let kind = match required_text(&mut errors, "kind", &self.kind) {
            Some("branch") => Some(UnitKind::Branch),
            Some("representative_office") => Some(UnitKind::RepresentativeOffice),
            Some("business_location") => Some(UnitKind::BusinessLocation),
            Some(_) => {
                errors.add(
                    "kind",
                    "unknown_unit_kind",
                    "a unit is a branch, representative_office or business_location",
                );
                None
            }
            None => None,
        };
        let name = required_text(&mut errors, "name", &self.name).map(str::to_string);
        if let (Some(kind), Some(name)) = (kind, &name) {
            let lower = name.to_lowercase();
            if !name.chars().all(text::is_name_char) {
                errors.add(
                    "name",
                    "invalid_characters",
                    "a unit's name holds Vietnamese letters, F, J, Z, W, digits and symbols",
                );
            } else if !lower.starts_with(name_word(kind))
                || !lower.contains(&text::normalize_lower(&enterprise.name.vi))
            {
                errors.add(
                    "name",
                    "unit_name",
                    format!(
                        "a {}'s name is \"{}\" followed by the enterprise's name \"{}\" (art. 40.2)",
                        kind.as_str(),
                        capitalise(name_word(kind)),
                        enterprise.name.vi
                    ),
                );
            }
        }
        let address = match &self.address {
            None => {
                errors.required("address");
                None
            }
            Some(a) => validate_address(&mut errors, "address", reference, &a.street, &a.ward_code, &a.province_code),
        };
        errors.into_result(())?;
        Ok(ValidUnit {
            kind: kind.expect("validated"),
            name: name.expect("validated"),
            address: address.expect("validated").into(),
        })
    }
}

/// `PATCH /v1/units/{unit_code}`: a JSON Merge Patch (RFC 7396) of a unit's name and address.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    #[schema(nullable = false, min_length = 1, max_length = 500)]
    pub name: Option<String>,
    #[schema(nullable = false)]
    pub address: Option<UnitAddressPatch>,
}

/// A patch of a unit's address: an address change uses the 2025 units.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitAddressPatch {
    #[schema(nullable = false, min_length = 1, max_length = 500)]
    pub street: Option<String>,
    #[schema(nullable = false, pattern = "^[0-9]{5}$")]
    pub ward_code: Option<String>,
    #[schema(nullable = false, pattern = "^[0-9]{2}$")]
    pub province_code: Option<String>,
}

/// The unit as a request, with `patch` merged in (RFC 7396): what the unit's rules then judge.
pub fn patched(unit: &Unit, patch: &serde_json::Value) -> Result<UnitRequest, serde_json::Error> {
    let mut current = serde_json::json!({
        "kind": unit.kind.as_str(),
        "name": unit.name,
        "address": {
            "street": unit.address.street,
            "ward_code": unit.address.ward_code,
            "province_code": unit.address.province_code,
        },
    });
    json_patch::merge(&mut current, patch);
    serde_json::from_value(current)
}

impl ValidUnit {
    /// `unit` with this name and address.
    pub fn applied_to(self, unit: &Unit) -> Unit {
        Unit { name: self.name, address: self.address, ..unit.clone() }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

impl ValidUnit {
    pub fn into_unit(
        self,
        unit_code: String,
        location_code: Option<String>,
        enterprise_code: &str,
        on: NaiveDate,
    ) -> Unit {
        Unit {
            unit_code,
            enterprise_code: enterprise_code.to_string(),
            kind: self.kind,
            location_code,
            name: self.name,
            address: self.address,
            status: Status::Active,
            status_until: None,
            registered_on: on,
            scheduled_changes: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::tests::sample;
    use crate::registration::RegistrationContent;

    fn enterprise() -> Enterprise {
        let content: RegistrationContent = serde_json::from_str(crate::registration::tests::APPENDIX_A).unwrap();
        content.validate_content(&sample(), "2026-11-27".parse().unwrap()).unwrap().into_new_record(
            "0100233488".into(),
            "2026-11-27".parse().unwrap(),
            chrono::Utc::now(),
        )
    }

    fn request(kind: &str, name: &str) -> UnitRequest {
        UnitRequest {
            kind: Some(kind.into()),
            name: Some(name.into()),
            address: Some(UnitAddressInput {
                street: Some("Số 1 Lê Lợi".into()),
                ward_code: Some("26743".into()),
                province_code: Some("79".into()),
            }),
        }
    }

    #[test]
    fn the_appendix_branch_is_valid() {
        let u = request("branch", "Chi nhánh Công ty TNHH Vận tải Hoàng Long Phát tại Hồ Chí Minh")
            .validate_for(&enterprise(), &sample())
            .unwrap();
        assert_eq!(u.kind, UnitKind::Branch);
        assert_eq!(u.address.province_code, "79");
    }

    #[test]
    fn names_must_carry_the_kind_and_the_enterprise_name() {
        for (kind, name) in [
            ("branch", "Văn phòng đại diện Công ty TNHH Vận tải Hoàng Long Phát"),
            ("representative_office", "Văn phòng Hoàng Long"),
            ("business_location", "Địa điểm kinh doanh số 2"),
        ] {
            let e = request(kind, name).validate_for(&enterprise(), &sample()).unwrap_err();
            assert_eq!(e[0].code, "unit_name", "{name}");
        }
        assert!(request("business_location", "Địa điểm kinh doanh Công ty TNHH Vận tải Hoàng Long Phát số 2")
            .validate_for(&enterprise(), &sample())
            .is_ok());
    }

    #[test]
    fn bad_units_report_every_field() {
        let e = UnitRequest { kind: Some("shop".into()), name: None, address: None }
            .validate_for(&enterprise(), &sample())
            .unwrap_err();
        let fields: Vec<_> = e.iter().map(|e| (e.field.as_str(), e.code.as_ref())).collect();
        assert_eq!(fields, [("kind", "unknown_unit_kind"), ("name", "required"), ("address", "required")]);
    }
}
