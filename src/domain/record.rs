//! The enterprise record as the register keeps it (the full view), and the public view derived
//! from it. One struct for both: the public view is the full record with every personal field
//! (identity documents, birth dates, owners) removed, so a new personal field must be added to
//! [`Enterprise::public_view`] or it is not personal.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::beneficial_owners::{BeneficialOwner, Discrepancy, ExemptReason};
use super::enterprise_type::EnterpriseType;
use super::reference::VsicEdition;
use super::status::Status;
use super::Role;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Enterprise {
    /// Mã số doanh nghiệp (also the tax code), ten digits.
    #[schema(example = "0100233488")]
    pub code: String,
    #[serde(rename = "type")]
    pub enterprise_type: EnterpriseType,
    pub name: EnterpriseName,
    pub status: Status,
    /// End of a suspension (tạm ngừng kinh doanh đến ngày).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_until: Option<NaiveDate>,
    pub registered_on: NaiveDate,
    pub version: i32,
    /// Đăng ký thay đổi lần thứ N: changes to certificate items only.
    pub registration_changes: i32,
    pub head_office: HeadOffice,
    pub charter_capital_vnd: i64,
    pub business_lines: Vec<BusinessLine>,
    pub legal_representatives: Vec<LegalRepresentative>,
    /// Owners, members or founding shareholders: personal data, full view only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<Owner>>,
    pub units: Vec<Unit>,
    /// Status changes filed for a later day (SPEC §2.3), oldest first: the register applies each
    /// on its day as a new version. Empty when none.
    #[serde(default)]
    pub scheduled_changes: Vec<ScheduledChange>,
    /// Road-transport licences recorded by the transport ministry: full view only (SPEC §3 gives
    /// licences to callers with a key). `None` in the public view, and in stored versions that
    /// hold no licence list; [`Enterprise::licenses`] reads both as none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licenses: Option<Vec<License>>,
    /// Declared beneficial owners (SPEC §7): authority view only. `None` when nothing is declared
    /// (a private enterprise, an exempt one, or one that has not declared yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficial_owners: Option<Vec<BeneficialOwner>>,
    /// Why the enterprise declares no beneficial owners (`listed`, `state_owned`): authority view
    /// only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ExemptReason>)]
    pub exempt: Option<ExemptReason>,
    /// Where the declaration disagrees with the ownership graph the register computes (SPEC §7):
    /// flagged, never refused; authority view only, always listed there (empty when none). The
    /// register recomputes it when an owner upstream changes, as a new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discrepancies: Option<Vec<Discrepancy>>,
    /// When this version was recorded.
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnterpriseName {
    /// Tên tiếng Việt: type prefix and proper name.
    pub vi: String,
    /// Tên bằng tiếng nước ngoài.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
    /// Tên viết tắt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abbreviation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HeadOffice {
    pub street: String,
    pub ward_code: String,
    pub ward_name: String,
    pub province_code: String,
    pub province_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Set when the head office is registered in the administrative units in force before 1 July
    /// 2025 (đơn vị hành chính cũ): then `ward_code`, `province_code` and their names are those
    /// legacy units, as registered, and this says where they lie now (SPEC §2.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy: Option<LegacyUnits>,
}

/// A head office in the legacy units (63 provinces, with districts) and the 2025 unit it lies in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LegacyUnits {
    #[serde(default)]
    pub district_code: String,
    #[serde(default)]
    pub district_name: String,
    /// The 2025 ward the legacy ward became (`admin_units_legacy_to_2025.csv`).
    #[serde(default)]
    pub current: CurrentUnits,
    /// The legacy ward was split over several 2025 wards; `current` is its default one.
    #[serde(default)]
    pub ambiguous: bool,
}

/// A ward and province of the 2025 units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CurrentUnits {
    pub ward_code: String,
    pub ward_name: String,
    pub province_code: String,
    pub province_name: String,
}

impl HeadOffice {
    /// The 2025 province the head office lies in (derived for a legacy address): what filters and
    /// statistics by province use.
    pub fn current_province_code(&self) -> &str {
        self.legacy.as_ref().map_or(&self.province_code, |l| &l.current.province_code)
    }

    /// The 2025 ward the head office lies in (derived for a legacy address).
    pub fn current_ward_code(&self) -> &str {
        self.legacy.as_ref().map_or(&self.ward_code, |l| &l.current.ward_code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BusinessLine {
    /// Level-4 VSIC code.
    pub vsic: String,
    pub main: bool,
    pub edition: VsicEdition,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LegalRepresentative {
    pub full_name: String,
    pub position: String,
    /// Personal data: full view only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    /// ISO 3166-1 alpha-2.
    pub nationality: String,
    /// Personal data: full view only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// Căn cước công dân / căn cước: 12 digits.
    Cccd,
    Passport,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Identity {
    pub kind: IdentityKind,
    pub number: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OwnerKind {
    Individual,
    Organisation,
}

/// A partner of a partnership (công ty hợp danh, art. 177): a general partner (thành viên hợp
/// danh, an individual with unlimited liability) or a capital-contributing partner (thành viên
/// góp vốn, an individual or an organisation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerKind {
    General,
    CapitalContributing,
}

impl PartnerKind {
    pub fn parse(value: &str) -> Option<PartnerKind> {
        match value {
            "general" => Some(PartnerKind::General),
            "capital_contributing" => Some(PartnerKind::CapitalContributing),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PartnerKind::General => "general",
            PartnerKind::CapitalContributing => "capital_contributing",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Owner {
    pub kind: OwnerKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// An organisation registered in Vietnam.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_code: Option<String>,
    /// An organisation registered abroad.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign_registration_number: Option<String>,
    pub capital_vnd: i64,
    /// Share of the charter capital in percent.
    pub share_percent: f64,
    /// A partnership's partners only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_kind: Option<PartnerKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// Chi nhánh.
    Branch,
    /// Văn phòng đại diện.
    RepresentativeOffice,
    /// Địa điểm kinh doanh.
    BusinessLocation,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Branch => "branch",
            UnitKind::RepresentativeOffice => "representative_office",
            UnitKind::BusinessLocation => "business_location",
        }
    }
}

/// A dependent unit (đơn vị phụ thuộc) or business location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Unit {
    /// `CODE-NNN` for a branch or representative office; `CODE-NNNNN` (the enterprise code and
    /// the location code) for a business location.
    pub unit_code: String,
    pub enterprise_code: String,
    pub kind: UnitKind,
    /// Business locations only: 5 digits, unique within the enterprise; not a tax code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_code: Option<String>,
    pub name: String,
    pub address: UnitAddress,
    /// `active`, `suspended` or `ceased`.
    pub status: Status,
    /// End of a suspension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_until: Option<NaiveDate>,
    pub registered_on: NaiveDate,
    /// Status changes filed for a later day, applied by the register on their day.
    #[serde(default)]
    pub scheduled_changes: Vec<ScheduledChange>,
}

/// A status change filed for a later day (SPEC §2.3): listed on the record until the register
/// applies it on `effective_on` (a new version by actor `schedule`), or its role withdraws it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScheduledChange {
    /// Its number within the enterprise: the version that filed it.
    pub id: i32,
    pub status: Status,
    pub effective_on: NaiveDate,
    /// The end of a scheduled suspension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The role that filed it, and the one that may withdraw it.
    pub filed_by: Role,
    pub filed_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnitAddress {
    pub street: String,
    pub ward_code: String,
    pub ward_name: String,
    pub province_code: String,
    pub province_name: String,
}

/// Kinds of licence the transport ministry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LicenseKind {
    /// Giấy phép kinh doanh vận tải bằng xe ô tô (domestic road-transport business).
    RoadTransportBusiness,
    /// Giấy phép vận tải đường bộ quốc tế (international road transport).
    InternationalRoadTransport,
}

impl LicenseKind {
    pub const ALL: [LicenseKind; 2] = [LicenseKind::RoadTransportBusiness, LicenseKind::InternationalRoadTransport];

    pub fn as_str(self) -> &'static str {
        match self {
            LicenseKind::RoadTransportBusiness => "road_transport_business",
            LicenseKind::InternationalRoadTransport => "international_road_transport",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// A licence's standing: as the ministry recorded it (`valid`, `suspended`, `revoked`), or
/// `expired` once past its `expires_on` (the register's, never a client's: see
/// [`crate::license::expire`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LicenseStatus {
    Valid,
    Suspended,
    Revoked,
    /// Hết hạn: past its expiry date.
    Expired,
}

impl LicenseStatus {
    pub const ALL: [LicenseStatus; 4] =
        [LicenseStatus::Valid, LicenseStatus::Suspended, LicenseStatus::Revoked, LicenseStatus::Expired];
    /// The statuses the transport ministry records and sets.
    pub const RECORDED: [LicenseStatus; 3] = [LicenseStatus::Valid, LicenseStatus::Suspended, LicenseStatus::Revoked];

    pub fn as_str(self) -> &'static str {
        match self {
            LicenseStatus::Valid => "valid",
            LicenseStatus::Suspended => "suspended",
            LicenseStatus::Revoked => "revoked",
            LicenseStatus::Expired => "expired",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// A licence as the enterprise's record lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct License {
    /// Unique across the register; upper case.
    #[schema(example = "GP-VT-0100000010-2026")]
    pub number: String,
    pub kind: LicenseKind,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub status: LicenseStatus,
}

impl License {
    /// Whether the licence still authorises transport on `day`: valid (not suspended, revoked or
    /// expired) and within its dates.
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.status == LicenseStatus::Valid && self.issued_on <= day && day <= self.expires_on
    }
}

/// What a caller sees of a record (SPEC §7): the one place that decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// No key: no identity documents, birth dates, owners, licences or beneficial owners.
    Public,
    /// The transport ministry: every registration field and licences; no beneficial owners.
    Full,
    /// Portal (which files them), tax, `authority` and admin: the full view with
    /// `beneficial_owners`, `exempt` and `discrepancies`.
    Authority,
}

impl View {
    pub const ALL: [View; 3] = [View::Public, View::Full, View::Authority];

    /// The view of a caller with `role` (none: no key).
    pub fn of(role: Option<Role>) -> View {
        match role {
            None => View::Public,
            Some(Role::Transport) => View::Full,
            Some(Role::Portal | Role::Tax | Role::Authority | Role::Admin) => View::Authority,
        }
    }

    /// Whether the view holds personal data (identity documents, birth dates, owners).
    pub fn is_personal(self) -> bool {
        self != View::Public
    }

    /// Whether the view holds beneficial-owner data (every read of it is access-logged).
    pub fn has_beneficial_owners(self) -> bool {
        self == View::Authority
    }

    /// Whether a field of the record (a top-level key, or a `changed_fields` path) is in the view.
    pub fn shows_field(self, field: &str) -> bool {
        let top = field.split(['.', '[']).next().unwrap_or(field);
        match self {
            View::Authority => true,
            View::Full => !BENEFICIAL_FIELDS.contains(&top),
            View::Public => !BENEFICIAL_FIELDS.contains(&top) && !PERSONAL_FIELDS.contains(&top),
        }
    }

    /// Whether a `changed_fields` entry is listed to a caller with this view: the names of
    /// changed fields are not personal, except that a change of beneficial owners is told only
    /// to the authority view.
    pub fn shows_change(self, field: &str) -> bool {
        let top = field.split(['.', '[']).next().unwrap_or(field);
        self == View::Authority || !BENEFICIAL_FIELDS.contains(&top)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            View::Public => "public",
            View::Full => "full",
            View::Authority => "authority",
        }
    }
}

/// The record's beneficial-owner fields: authority view only.
pub const BENEFICIAL_FIELDS: &[&str] = &["beneficial_owners", "exempt", "discrepancies"];

/// The record's top-level fields that are personal data as a whole (the public view leaves them
/// out; identity documents and birth dates inside representatives are removed one by one).
const PERSONAL_FIELDS: &[&str] = &["owners", "licenses"];

impl Enterprise {
    /// The public view (no key): no identity documents, no birth dates, no owners, no licences,
    /// nothing of beneficial owners.
    pub fn public_view(self) -> Enterprise {
        let mut record = self.full_view();
        record.owners = None;
        record.licenses = None;
        for rep in &mut record.legal_representatives {
            rep.birth_date = None;
            rep.identity = None;
        }
        record
    }

    /// The full view (transport): every registration field, with `licenses` always listed (empty
    /// when none); nothing of beneficial owners.
    pub fn full_view(mut self) -> Enterprise {
        self.licenses.get_or_insert_with(Vec::new);
        self.beneficial_owners = None;
        self.exempt = None;
        self.discrepancies = None;
        self
    }

    /// The authority view: the full view with the declared beneficial owners (or the exemption)
    /// and `discrepancies` always listed.
    pub fn authority_view(mut self) -> Enterprise {
        self.licenses.get_or_insert_with(Vec::new);
        self.discrepancies.get_or_insert_with(Vec::new);
        self
    }

    /// The licences recorded on the enterprise.
    pub fn licenses(&self) -> &[License] {
        self.licenses.as_deref().unwrap_or_default()
    }

    /// The discrepancies flagged on the record.
    pub fn discrepancies(&self) -> &[Discrepancy] {
        self.discrepancies.as_deref().unwrap_or_default()
    }

    /// The record in `view`.
    pub fn view(self, view: View) -> Enterprise {
        match view {
            View::Public => self.public_view(),
            View::Full => self.full_view(),
            View::Authority => self.authority_view(),
        }
    }
}

/// Share of `capital` in `total`, in percent, rounded to four decimals.
pub fn share_percent(capital: i64, total: i64) -> f64 {
    if total <= 0 {
        return 0.0;
    }
    let raw = capital as f64 * 100.0 / total as f64;
    (raw * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares() {
        assert_eq!(share_percent(3_000_000_000, 5_000_000_000), 60.0);
        assert_eq!(share_percent(1, 3), 33.3333);
        assert_eq!(share_percent(1, 0), 0.0);
    }
}
