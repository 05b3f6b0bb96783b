//! Road-transport licences (giấy phép kinh doanh vận tải bằng xe ô tô), recorded by the transport
//! ministry when it licenses an enterprise (Decree 158/2024/ND-CP on road-transport business,
//! which replaced Decree 10/2020). The register does not issue licences; it records them so that
//! every consumer sees which enterprises hold one, and reports an enterprise's valid licences when
//! it ceases or loses its certificate so that the ministry can act.
//!
//! The rules here: the request's own shape and dates, who may hold a licence at all (an active
//! enterprise with a road-transport business line), and which licences to report. The licence as
//! the record lists it ([`License`]) is part of the record, in [`crate::record`].

use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

use super::errors::{Errors, FieldError};
use super::record::{BusinessLine, Enterprise, License, LicenseKind, LicenseStatus};
use super::status::Status;

/// `POST /v1/enterprises/{code}/licenses`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenseRequest {
    /// 3 to 64 letters, digits, `-`, `.` or `/`, starting with a letter or digit (stored in upper
    /// case).
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9][A-Za-z0-9./-]{2,63}$", example = "GP-VT-0100000010-2026")]
    pub number: Option<String>,
    /// `road_transport_business` or `international_road_transport`.
    #[schema(value_type = LicenseKind, required = true, example = "road_transport_business")]
    pub kind: Option<String>,
    /// Not after today.
    #[schema(value_type = NaiveDate, required = true, example = "2026-11-27")]
    pub issued_on: Option<NaiveDate>,
    /// After `issued_on` and not yet past.
    #[schema(value_type = NaiveDate, required = true, example = "2036-11-25")]
    pub expires_on: Option<NaiveDate>,
    /// `valid` (default), `suspended` or `revoked`.
    #[schema(value_type = Option<RecordedLicenseStatus>, example = "valid")]
    pub status: Option<String>,
    /// Why it is recorded (kept in the enterprise's history).
    pub reason: Option<String>,
}

/// The statuses a client sends: those the ministry decides (`expired` is the register's own, from
/// the day after `expires_on`). The schema of the `status` fields of requests, which are read as
/// text so that another value is answered 422 naming these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordedLicenseStatus {
    Valid,
    Suspended,
    Revoked,
}

/// `POST /v1/licenses/{number}/status`: the transport ministry suspends, reinstates or revokes a
/// licence.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenseStatusRequest {
    /// The new status: `valid`, `suspended` or `revoked`.
    #[schema(value_type = RecordedLicenseStatus, required = true, example = "suspended")]
    pub status: Option<String>,
    /// The legal effective date: not before the licence was issued, not in the future (default:
    /// today).
    pub effective_on: Option<NaiveDate>,
    /// Why (kept in the enterprise's history).
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// The moves of a licence's status: a valid licence is suspended or revoked, a suspended one
/// reinstated or revoked (Decree 158/2024 arts. 18–19: thu hồi, tạm đình chỉ). Revoked is final,
/// and so is expired: a licence past its date is replaced by a new one, not reinstated.
pub const LICENSE_TRANSITIONS: &[(LicenseStatus, LicenseStatus)] = &[
    (LicenseStatus::Valid, LicenseStatus::Suspended),
    (LicenseStatus::Valid, LicenseStatus::Revoked),
    (LicenseStatus::Suspended, LicenseStatus::Valid),
    (LicenseStatus::Suspended, LicenseStatus::Revoked),
];

/// The statuses a licence that reads `from` may move to.
pub fn next_statuses(from: LicenseStatus) -> Vec<LicenseStatus> {
    LICENSE_TRANSITIONS.iter().filter(|(f, _)| *f == from).map(|(_, t)| *t).collect()
}

/// Why a licence's status change was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum LicenseStatusRefusal {
    /// The request's own fields (422).
    Invalid(Vec<FieldError>),
    /// The licence, reading `from`, may not become `to` (the same status again included); it may
    /// become any of `allowed` (none: `from` is final).
    Transition { from: LicenseStatus, to: LicenseStatus, allowed: Vec<LicenseStatus> },
}

impl LicenseStatusRequest {
    /// Judges the request against `license` as the record holds it, on `today`: the fields first,
    /// then the move from the status the licence reads (expired once past its date, [`expire`]).
    /// Gives the licence as it becomes.
    pub fn validate(&self, license: &License, today: NaiveDate) -> Result<License, LicenseStatusRefusal> {
        let mut errors = Errors::default();
        let to = match self.status.as_deref().map(str::trim) {
            None | Some("") => {
                errors.required("status");
                None
            }
            Some(s) => {
                let to = parse_recorded(s);
                if to.is_none() {
                    errors.add(
                        "status",
                        "unknown_status",
                        "status is valid, suspended or revoked (a licence reads expired past its date on its own)",
                    );
                }
                to
            }
        };
        if let Some(on) = self.effective_on {
            if on > today {
                errors.add(
                    "effective_on",
                    "in_future",
                    format!("a change is filed once it has effect; {on} is after today ({today})"),
                );
            } else if on < license.issued_on {
                errors.add(
                    "effective_on",
                    "before_issue",
                    format!("the licence was issued on {}, after {on}", license.issued_on),
                );
            }
        }
        if let Some(reason) = &self.reason {
            check_reason(&mut errors, reason);
        }
        let Some(to) = to.filter(|_| errors.is_empty()) else { return Err(LicenseStatusRefusal::Invalid(errors.0)) };
        let from = expire(license, today).map_or(license.status, |l| l.status);
        if !LICENSE_TRANSITIONS.contains(&(from, to)) {
            return Err(LicenseStatusRefusal::Transition { from, to, allowed: next_statuses(from) });
        }
        Ok(License { status: to, ..license.clone() })
    }
}

/// The licence as it reads on `today` when it has expired (today is after its `expires_on`) and
/// its stored status does not say so yet: then it reads `expired`. `None` otherwise, and for a
/// revoked licence, whose revocation stays what it reads.
pub fn expire(license: &License, today: NaiveDate) -> Option<License> {
    let expired =
        today > license.expires_on && !matches!(license.status, LicenseStatus::Expired | LicenseStatus::Revoked);
    expired.then(|| License { status: LicenseStatus::Expired, ..license.clone() })
}

/// The first day one of `licenses` expires on: the earliest day after an `expires_on` of a licence
/// neither expired nor revoked already. The day the register writes the expiry as a version.
pub fn next_expiry(licenses: &[License]) -> Option<NaiveDate> {
    licenses
        .iter()
        .filter(|l| !matches!(l.status, LicenseStatus::Expired | LicenseStatus::Revoked))
        .filter_map(|l| l.expires_on.succ_opt())
        .min()
}

/// A status a client may send ([`RecordedLicenseStatus`]).
fn parse_recorded(value: &str) -> Option<LicenseStatus> {
    LicenseStatus::RECORDED.into_iter().find(|s| s.as_str() == value)
}

/// The longest a number may be.
const NUMBER_MAX: usize = 64;

/// A licence number in the register's form: trimmed, upper case; letters A–Z, digits and `-./`,
/// starting with a letter or digit, 3 to 64 characters. `None` when it cannot be one.
pub fn normalize_number(input: &str) -> Option<String> {
    let number = input.trim().to_ascii_uppercase();
    let ok = (3..=NUMBER_MAX).contains(&number.len())
        && number.starts_with(|c: char| c.is_ascii_alphanumeric())
        && number.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '/'));
    ok.then_some(number)
}

impl LicenseRequest {
    /// Checks the request on its own: every field present and well formed, issued no later than
    /// `today`, expiring after it was issued and not already expired.
    pub fn validate(self, today: NaiveDate) -> Result<License, Vec<FieldError>> {
        let mut errors = Errors::default();
        let number = validate_number(&mut errors, self.number.as_deref());
        let kind = validate_kind(&mut errors, self.kind.as_deref());
        let status = validate_status(&mut errors, self.status.as_deref());
        check_dates(&mut errors, self.issued_on, self.expires_on, today);
        if let Some(reason) = &self.reason {
            check_reason(&mut errors, reason);
        }
        match (number, kind, status, self.issued_on, self.expires_on) {
            (Some(number), Some(kind), Some(status), Some(issued_on), Some(expires_on)) if errors.is_empty() => {
                Ok(License { number, kind, issued_on, expires_on, status })
            }
            _ => Err(errors.0),
        }
    }
}

/// The licence number: required, in the register's form ([`normalize_number`]).
fn validate_number(errors: &mut Errors, number: Option<&str>) -> Option<String> {
    let Some(number) = number else {
        errors.required("number");
        return None;
    };
    let normalized = normalize_number(number);
    if normalized.is_none() {
        errors.add(
            "number",
            "invalid_number",
            "a licence number is 3 to 64 letters, digits, '-', '.' or '/', such as GP-VT-0100000010-2026",
        );
    }
    normalized
}

/// The kind: required, one of the licences the ministry records ([`LicenseKind`]).
fn validate_kind(errors: &mut Errors, kind: Option<&str>) -> Option<LicenseKind> {
    match kind.map(str::trim) {
        None | Some("") => {
            errors.required("kind");
            None
        }
        Some(k) => {
            let kind = LicenseKind::parse(k);
            if kind.is_none() {
                errors.add("kind", "unknown_kind", "kind is road_transport_business or international_road_transport");
            }
            kind
        }
    }
}

/// The standing: `valid` unless the ministry says otherwise ([`LicenseStatus`]).
fn validate_status(errors: &mut Errors, status: Option<&str>) -> Option<LicenseStatus> {
    let Some(s) = status.map(str::trim) else { return Some(LicenseStatus::Valid) };
    let status = parse_recorded(s);
    if status.is_none() {
        errors.add("status", "unknown_status", "status is valid, suspended or revoked");
    }
    status
}

/// The dates: both required; a licence is recorded once issued (not after `today`), while it is
/// in force (not yet expired), and expires after it is issued.
fn check_dates(errors: &mut Errors, issued_on: Option<NaiveDate>, expires_on: Option<NaiveDate>, today: NaiveDate) {
    if issued_on.is_none() {
        errors.required("issued_on");
    }
    if expires_on.is_none() {
        errors.required("expires_on");
    }
    if let Some(issued) = issued_on {
        if issued > today {
            errors.add(
                "issued_on",
                "in_future",
                format!("a licence is recorded once issued; {issued} is after today ({today})"),
            );
        }
    }
    if let Some(expires) = expires_on {
        if expires < today {
            errors.add("expires_on", "expired", format!("the licence expired on {expires}; only licences in force on the day they are recorded are accepted"));
        }
        if let Some(issued) = issued_on {
            if expires <= issued {
                errors.add("expires_on", "before_issue", format!("a licence expires after it is issued ({issued})"));
            }
        }
    }
}

/// The reason kept in the enterprise's history: at most 1000 characters, no control characters
/// (see [`super::text::find_control`]).
fn check_reason(errors: &mut Errors, reason: &str) {
    if reason.chars().count() > 1000 {
        errors.add("reason", "too_long", "reason is at most 1000 characters");
    } else if let Some(c) = super::text::find_control(&super::text::normalize(reason)) {
        errors.add("reason", "invalid_characters", format!("control characters such as {c:?} are not allowed"));
    }
}

/// VSIC lines of road transport by car that a licence covers: bus transport (492x), passenger
/// transport by road other than bus, including taxis (4931, 4932) and freight by road (4933), in
/// both editions (the codes are the same in VSIC 2018 and 2025).
pub fn is_road_transport_line(line: &BusinessLine) -> bool {
    let code = line.vsic.as_str();
    code.starts_with("492") || ["4931", "4932", "4933"].iter().any(|c| code.starts_with(c))
}

/// Why an enterprise may not hold a licence: it must be active (not suspended, not revoked, not
/// being dissolved) and have a road-transport business line. Empty when it may. Each reason is
/// named by the record field it concerns.
pub fn eligibility(record: &Enterprise, license: &License) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if record.status != Status::Active {
        errors.push(FieldError::new(
            "enterprise.status",
            "not_active",
            format!("licences are recorded for active enterprises; this one is {}", record.status.as_str()),
        ));
    }
    if !record.business_lines.iter().any(is_road_transport_line) {
        errors.push(FieldError::new(
            "enterprise.business_lines",
            "no_road_transport_line",
            "the enterprise has no road-transport business line (VSIC 492x, 4931, 4932 or 4933); it must register one first",
        ));
    }
    if license.issued_on < record.registered_on {
        errors.push(FieldError::new(
            "issued_on",
            "before_registration",
            format!("the enterprise was registered on {}, after the licence's issue date", record.registered_on),
        ));
    }
    errors
}

/// The licences to report when an enterprise moves to `status` for `reason`: those still in force
/// on `effective_on`, when the enterprise ceases or loses its certificate (tax enforcement, or
/// revoked on other grounds: `dissolving` with reason `certificate_revoked`), so that it may no
/// longer operate.
pub fn to_report(status: Status, reason: Option<&str>, licenses: &[License], effective_on: NaiveDate) -> Vec<License> {
    let ends_operation = match status {
        Status::Ceased | Status::TaxRevoked => true,
        Status::Dissolving => reason == Some(crate::status::CERTIFICATE_REVOKED),
        _ => false,
    };
    if ends_operation {
        licenses.iter().filter(|l| l.in_force_on(effective_on)).cloned().collect()
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::VsicEdition;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn request() -> LicenseRequest {
        LicenseRequest {
            number: Some(" gp-vt-0100000010-2026 ".into()),
            kind: Some("road_transport_business".into()),
            issued_on: Some(day("2026-11-27")),
            expires_on: Some(day("2036-11-25")),
            status: None,
            reason: None,
        }
    }

    fn codes(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors.iter().map(|e| (e.field.as_str(), e.code.as_ref())).collect()
    }

    #[test]
    fn the_appendix_example_is_accepted_and_normalised() {
        let license = request().validate(day("2026-11-27")).unwrap();
        assert_eq!(license.number, "GP-VT-0100000010-2026");
        assert_eq!(license.status, LicenseStatus::Valid);
        assert!(license.in_force_on(day("2030-01-01")));
        assert!(!license.in_force_on(day("2036-11-26")));
    }

    #[test]
    fn dates_out_of_order_or_expired_are_refused() {
        let mut r = request();
        r.expires_on = Some(day("2026-01-01"));
        let errors = r.validate(day("2026-11-27")).unwrap_err();
        assert_eq!(codes(&errors), vec![("expires_on", "expired"), ("expires_on", "before_issue")]);

        let mut r = request();
        r.issued_on = Some(day("2026-12-01"));
        r.expires_on = Some(day("2026-12-01"));
        let errors = r.validate(day("2026-11-27")).unwrap_err();
        assert_eq!(codes(&errors), vec![("issued_on", "in_future"), ("expires_on", "before_issue")]);
    }

    #[test]
    fn every_missing_or_unknown_field_is_named() {
        let errors = LicenseRequest::default().validate(day("2026-11-27")).unwrap_err();
        assert_eq!(
            codes(&errors),
            vec![("number", "required"), ("kind", "required"), ("issued_on", "required"), ("expires_on", "required")]
        );
        let mut r = request();
        r.kind = Some("boat".into());
        r.status = Some("expired".into());
        r.number = Some("GP VT 1".into());
        let errors = r.validate(day("2026-11-27")).unwrap_err();
        assert_eq!(
            codes(&errors),
            vec![("number", "invalid_number"), ("kind", "unknown_kind"), ("status", "unknown_status")]
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(normalize_number("gp-vt/01.2"), Some("GP-VT/01.2".into()));
        assert_eq!(normalize_number("ab"), None);
        assert_eq!(normalize_number("-GP1"), None);
        assert_eq!(normalize_number("GP_1"), None);
        assert_eq!(normalize_number("GPĐ-1"), None);
        assert_eq!(normalize_number(&"9".repeat(65)), None);
    }

    fn line(vsic: &str) -> BusinessLine {
        BusinessLine { vsic: vsic.into(), main: false, edition: VsicEdition::Vsic2025, name: String::new() }
    }

    #[test]
    fn road_transport_lines() {
        for code in ["4921", "4922", "4929", "4931", "4932", "4933"] {
            assert!(is_road_transport_line(&line(code)), "{code}");
        }
        for code in ["4911", "4912", "4940", "5229", "5210", "4520"] {
            assert!(!is_road_transport_line(&line(code)), "{code}");
        }
    }

    #[test]
    fn only_valid_unexpired_licences_are_reported_on_ceasing_or_revocation() {
        let mut expired = request().validate(day("2026-11-27")).unwrap();
        expired.number = "OLD-1".into();
        expired.issued_on = day("2010-01-01");
        expired.expires_on = day("2020-01-01");
        let mut suspended = expired.clone();
        suspended.number = "SUS-1".into();
        suspended.expires_on = day("2030-01-01");
        suspended.status = LicenseStatus::Suspended;
        let valid = request().validate(day("2026-11-27")).unwrap();
        let all = vec![expired, suspended, valid.clone()];
        let on = day("2027-01-01");
        assert_eq!(to_report(Status::Ceased, None, &all, on), vec![valid.clone()]);
        assert_eq!(to_report(Status::TaxRevoked, None, &all, on), vec![valid.clone()]);
        assert_eq!(to_report(Status::Dissolving, Some("certificate_revoked"), &all, on), vec![valid]);
        assert!(to_report(Status::Suspended, None, &all, on).is_empty());
        assert!(to_report(Status::Dissolving, None, &all, on).is_empty());
        assert!(to_report(Status::Dissolving, Some("the members decided"), &all, on).is_empty());
    }

    fn licence(status: LicenseStatus) -> License {
        License {
            number: "GP-1".into(),
            kind: LicenseKind::RoadTransportBusiness,
            issued_on: day("2026-01-01"),
            expires_on: day("2030-12-31"),
            status,
        }
    }

    fn change(status: &str) -> LicenseStatusRequest {
        LicenseStatusRequest { status: Some(status.into()), ..LicenseStatusRequest::default() }
    }

    #[test]
    fn every_status_move_is_allowed_or_refused_by_the_table() {
        use LicenseStatus::*;
        let today = day("2026-11-27");
        let allowed = [(Valid, Suspended), (Valid, Revoked), (Suspended, Valid), (Suspended, Revoked)];
        for from in LicenseStatus::ALL {
            for to in LicenseStatus::RECORDED {
                let got = change(to.as_str()).validate(&licence(from), today);
                if allowed.contains(&(from, to)) {
                    assert_eq!(got.unwrap().status, to, "{from:?} → {to:?}");
                } else {
                    assert_eq!(
                        got.unwrap_err(),
                        LicenseStatusRefusal::Transition { from, to, allowed: next_statuses(from) },
                        "{from:?} → {to:?}"
                    );
                }
            }
        }
        assert_eq!(next_statuses(Valid), [Suspended, Revoked]);
        assert!(next_statuses(Revoked).is_empty() && next_statuses(Expired).is_empty());
    }

    #[test]
    fn a_status_change_names_its_bad_fields() {
        let today = day("2026-11-27");
        let refused = |r: LicenseStatusRequest| match r.validate(&licence(LicenseStatus::Valid), today) {
            Err(LicenseStatusRefusal::Invalid(errors)) => errors,
            other => panic!("{other:?}"),
        };
        let errors = refused(change("expired"));
        assert_eq!(codes(&errors), [("status", "unknown_status")]);
        assert!(errors[0].message.contains("valid, suspended or revoked"));
        assert_eq!(codes(&refused(LicenseStatusRequest::default())), [("status", "required")]);
        let mut r = change("suspended");
        r.effective_on = Some(day("2026-11-28"));
        assert_eq!(codes(&refused(r.clone())), [("effective_on", "in_future")]);
        r.effective_on = Some(day("2025-12-31"));
        assert_eq!(codes(&refused(r.clone())), [("effective_on", "before_issue")]);
        r.effective_on = Some(day("2026-01-01"));
        assert!(r.validate(&licence(LicenseStatus::Valid), today).is_ok());
    }

    #[test]
    fn a_licence_past_its_date_reads_expired_and_moves_no_more() {
        let valid = licence(LicenseStatus::Valid);
        assert_eq!(expire(&valid, day("2030-12-31")), None, "in force on its last day");
        let expired = expire(&valid, day("2031-01-01")).unwrap();
        assert_eq!(expired, License { status: LicenseStatus::Expired, ..valid.clone() });
        assert!(!expired.in_force_on(day("2030-06-01")));
        assert_eq!(expire(&expired, day("2031-01-01")), None, "already stored as expired");
        assert_eq!(
            expire(&licence(LicenseStatus::Suspended), day("2031-01-01")).unwrap().status,
            LicenseStatus::Expired
        );
        assert_eq!(expire(&licence(LicenseStatus::Revoked), day("2031-01-01")), None);
        let r = change("suspended").validate(&valid, day("2031-01-01"));
        assert_eq!(
            r.unwrap_err(),
            LicenseStatusRefusal::Transition {
                from: LicenseStatus::Expired,
                to: LicenseStatus::Suspended,
                allowed: vec![]
            }
        );
    }

    #[test]
    fn the_next_expiry_is_the_day_after_the_earliest_live_licence_expires() {
        let mut a = licence(LicenseStatus::Valid);
        a.expires_on = day("2029-03-31");
        let mut b = licence(LicenseStatus::Suspended);
        b.expires_on = day("2028-06-30");
        let mut revoked = licence(LicenseStatus::Revoked);
        revoked.expires_on = day("2027-01-01");
        let mut expired = licence(LicenseStatus::Expired);
        expired.expires_on = day("2026-06-01");
        assert_eq!(next_expiry(&[a.clone(), b, revoked.clone(), expired.clone()]), Some(day("2028-07-01")));
        assert_eq!(next_expiry(&[a]), Some(day("2029-04-01")));
        assert_eq!(next_expiry(&[revoked, expired]), None);
        assert_eq!(next_expiry(&[]), None);
    }

    /// The reason is written to the version and the feed event, where PostgreSQL cannot store
    /// U+0000: control characters are refused, whitespace ones are accepted.
    #[test]
    fn a_reason_with_control_characters_is_refused() {
        let mut r = request();
        r.reason = Some("Cấp\u{0}mới".into());
        assert_eq!(codes(&r.validate(day("2026-11-27")).unwrap_err()), vec![("reason", "invalid_characters")]);
        let mut r = request();
        r.reason = Some("Cấp\tmới\n".into());
        assert!(r.validate(day("2026-11-27")).is_ok());
    }
}
