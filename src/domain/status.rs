//! Statuses of an enterprise (tình trạng pháp lý, Decree 168/2025) and the transitions between
//! them. The transition table lives here and nowhere else; the README prints it.

use serde::{Deserialize, Serialize};

use chrono::NaiveDate;

use super::errors::{Errors, FieldError};
use super::Role;

/// Tình trạng pháp lý của doanh nghiệp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Đang hoạt động.
    Active,
    /// Tạm ngừng kinh doanh (until a date).
    Suspended,
    /// Không hoạt động tại địa chỉ đã đăng ký (set and cleared by the tax authority only).
    NotAtAddress,
    /// Bị thu hồi GCN do cưỡng chế về quản lý thuế.
    TaxRevoked,
    /// Bị thu hồi GCN (other grounds).
    Revoked,
    /// Đang làm thủ tục giải thể, chia, hợp nhất, sáp nhập.
    Dissolving,
    /// Đang làm thủ tục phá sản.
    Bankruptcy,
    /// Đã giải thể, phá sản, chấm dứt tồn tại: terminal.
    Ceased,
}

use Status::*;

impl Status {
    pub const ALL: [Status; 8] = [Active, Suspended, NotAtAddress, TaxRevoked, Revoked, Dissolving, Bankruptcy, Ceased];

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Active => "active",
            Suspended => "suspended",
            NotAtAddress => "not_at_address",
            TaxRevoked => "tax_revoked",
            Revoked => "revoked",
            Dissolving => "dissolving",
            Bankruptcy => "bankruptcy",
            Ceased => "ceased",
        }
    }

    /// Vietnamese label as on the register's certificate.
    pub fn label_vi(self) -> &'static str {
        match self {
            Active => "Đang hoạt động",
            Suspended => "Tạm ngừng kinh doanh",
            NotAtAddress => "Không hoạt động tại địa chỉ đã đăng ký",
            TaxRevoked => "Bị thu hồi GCN do cưỡng chế về quản lý thuế",
            Revoked => "Bị thu hồi GCN",
            Dissolving => "Đang làm thủ tục giải thể, chia, hợp nhất, sáp nhập",
            Bankruptcy => "Đang làm thủ tục phá sản",
            Ceased => "Đã giải thể, phá sản, chấm dứt tồn tại",
        }
    }

    /// A ceased enterprise (dissolved, bankrupt) no longer blocks a name (art. 41).
    pub fn blocks_names(self) -> bool {
        self != Ceased
    }
}

/// Who asks for a transition: the role, and for a restore to `active` the status being left.
/// Returns `Ok(())` when the table allows `from → to` for `role`.
pub fn check_transition(from: Status, to: Status, role: Role) -> Result<(), TransitionError> {
    if from == Ceased {
        return Err(TransitionError::Ceased);
    }
    if !TRANSITIONS.iter().any(|(f, t)| *f == from && *t == to) {
        return Err(TransitionError::Illegal);
    }
    let allowed = setter(from, to);
    if role == Role::Admin || allowed.contains(&role) {
        Ok(())
    } else {
        Err(TransitionError::Role { allowed })
    }
}

/// The roles that may move an enterprise from `from` to `to` (for a pair in [`TRANSITIONS`]).
pub fn setter(from: Status, to: Status) -> &'static [Role] {
    match (from, to) {
        // Restoring to active is done by whoever owns the status being left.
        (NotAtAddress, Active) | (TaxRevoked, Active) => &[Role::Tax],
        (_, Active) => &[Role::Portal],
        (_, NotAtAddress) | (_, TaxRevoked) => &[Role::Tax],
        _ => &[Role::Portal],
    }
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// Not in the table.
    Illegal,
    /// The enterprise has ceased: it accepts no change.
    Ceased,
    /// In the table, but not for this role.
    Role { allowed: &'static [Role] },
}

/// The allowed transitions (Decree 168/2025); anything else is refused with `illegal_transition`.
pub const TRANSITIONS: &[(Status, Status)] = &[
    (Active, Suspended),
    (Active, NotAtAddress),
    (Active, TaxRevoked),
    (Active, Revoked),
    (Active, Dissolving),
    (Active, Bankruptcy),
    (Suspended, Active),
    (Suspended, NotAtAddress),
    (Suspended, TaxRevoked),
    (Suspended, Revoked),
    (Suspended, Dissolving),
    (Suspended, Bankruptcy),
    (NotAtAddress, Active),
    (NotAtAddress, TaxRevoked),
    (NotAtAddress, Revoked),
    (NotAtAddress, Dissolving),
    (NotAtAddress, Bankruptcy),
    (TaxRevoked, Active),
    (TaxRevoked, Dissolving),
    (TaxRevoked, Bankruptcy),
    (Revoked, Active),
    (Revoked, Dissolving),
    (Revoked, Bankruptcy),
    (Dissolving, Ceased),
    (Dissolving, Bankruptcy),
    (Bankruptcy, Ceased),
    (Bankruptcy, Active),
];

/// `POST /v1/enterprises/{code}/status`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// The new status.
    #[schema(value_type = Status, required = true, example = "suspended")]
    pub status: Option<String>,
    /// The legal effective date (default: today).
    pub effective_on: Option<NaiveDate>,
    pub reason: Option<String>,
    /// End of a suspension: required for `suspended`, refused otherwise.
    pub until: Option<NaiveDate>,
}

/// A status change that satisfies the table and the dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub to: Status,
    pub effective_on: NaiveDate,
    pub reason: Option<String>,
    pub until: Option<NaiveDate>,
}

/// Why a status change was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusRefusal {
    Invalid(Vec<FieldError>),
    Transition(TransitionError),
}

/// The longest suspension one notice covers (Law on Enterprises art. 206: one year at a time).
const MAX_SUSPENSION_DAYS: i64 = 366;

impl StatusRequest {
    pub fn validate(
        self,
        from: Status,
        registered_on: NaiveDate,
        role: Role,
        today: NaiveDate,
    ) -> Result<StatusChange, StatusRefusal> {
        let mut errors = Errors::default();
        let to = match self.status.as_deref().map(str::trim) {
            None | Some("") => {
                errors.required("status");
                None
            }
            Some(s) => match Status::parse(s) {
                Some(to) => Some(to),
                None => {
                    errors.add(
                        "status",
                        "unknown_status",
                        format!(
                            "{s:?} is not a status; the statuses are {}",
                            Status::ALL.map(|s| s.as_str()).join(", ")
                        ),
                    );
                    None
                }
            },
        };
        let effective_on = self.effective_on.unwrap_or(today);
        super::effective_date::check_effective_on(&mut errors, effective_on, registered_on, today);
        match (to, self.until) {
            (Some(Suspended), None) => errors.add("until", "required", "a suspension says until when"),
            (Some(Suspended), Some(until)) if until <= effective_on => {
                errors.add("until", "not_after_effective_on", "a suspension ends after it starts")
            }
            (Some(Suspended), Some(until)) if (until - effective_on).num_days() > MAX_SUSPENSION_DAYS => {
                errors.add("until", "too_long", "one notice suspends business for at most one year (art. 206)")
            }
            (Some(Suspended), Some(_)) => {}
            (Some(_), Some(_)) => errors.add("until", "not_allowed", "only a suspension has an end date"),
            _ => {}
        }
        let reason = self.reason.map(|r| super::text::normalize(&r)).filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
            errors.add("reason", "too_long", "at most 1000 characters");
        } else if let Some(c) = reason.as_deref().and_then(super::text::find_control) {
            errors.add("reason", "invalid_characters", format!("control characters such as {c:?} are not allowed"));
        }
        if !errors.is_empty() {
            return Err(StatusRefusal::Invalid(errors.0));
        }
        let to = to.expect("validated");
        check_transition(from, to, role).map_err(StatusRefusal::Transition)?;
        Ok(StatusChange { to, effective_on, reason, until: self.until })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_the_decree() {
        assert!(check_transition(Active, Suspended, Role::Portal).is_ok());
        assert!(check_transition(Suspended, Active, Role::Portal).is_ok());
        assert!(check_transition(Active, NotAtAddress, Role::Tax).is_ok());
        assert!(check_transition(NotAtAddress, Active, Role::Tax).is_ok());
        assert!(check_transition(TaxRevoked, Active, Role::Tax).is_ok());
        assert!(check_transition(Revoked, Active, Role::Portal).is_ok());
        assert!(check_transition(Dissolving, Ceased, Role::Portal).is_ok());
        assert!(check_transition(Bankruptcy, Active, Role::Portal).is_ok());
    }

    #[test]
    fn only_tax_clears_not_at_address() {
        assert!(matches!(check_transition(NotAtAddress, Active, Role::Portal), Err(TransitionError::Role { .. })));
        assert!(matches!(check_transition(Active, TaxRevoked, Role::Portal), Err(TransitionError::Role { .. })));
        assert!(matches!(check_transition(Active, Suspended, Role::Tax), Err(TransitionError::Role { .. })));
        assert!(matches!(check_transition(Revoked, Active, Role::Tax), Err(TransitionError::Role { .. })));
        assert!(matches!(check_transition(Active, Suspended, Role::Transport), Err(TransitionError::Role { .. })));
    }

    #[test]
    fn refused_transitions() {
        assert_eq!(check_transition(Active, Ceased, Role::Portal), Err(TransitionError::Illegal));
        assert_eq!(check_transition(Active, Active, Role::Portal), Err(TransitionError::Illegal));
        assert_eq!(check_transition(Dissolving, Active, Role::Portal), Err(TransitionError::Illegal));
        assert_eq!(check_transition(TaxRevoked, Suspended, Role::Portal), Err(TransitionError::Illegal));
        for to in Status::ALL {
            assert_eq!(check_transition(Ceased, to, Role::Admin), Err(TransitionError::Ceased));
        }
    }

    #[test]
    fn every_pair_in_the_table_has_a_setter() {
        for (from, to) in TRANSITIONS {
            assert!(!setter(*from, *to).is_empty());
            assert!(check_transition(*from, *to, Role::Admin).is_ok());
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    fn req(status: &str, until: Option<&str>) -> StatusRequest {
        StatusRequest {
            status: Some(status.into()),
            effective_on: None,
            reason: None,
            until: until.map(|u| u.parse().unwrap()),
        }
    }

    #[test]
    fn status_requests() {
        let reg: NaiveDate = "2020-01-01".parse().unwrap();
        let today: NaiveDate = "2026-11-27".parse().unwrap();
        let ok = req("suspended", Some("2027-06-01")).validate(Active, reg, Role::Portal, today).unwrap();
        assert_eq!((ok.to, ok.effective_on), (Suspended, today));
        let codes = |r: Result<StatusChange, StatusRefusal>| match r {
            Err(StatusRefusal::Invalid(e)) => e.into_iter().map(|e| (e.field, e.code.into_owned())).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            codes(req("suspended", None).validate(Active, reg, Role::Portal, today)),
            [("until".into(), "required".into())]
        );
        assert_eq!(
            codes(req("suspended", Some("2029-01-01")).validate(Active, reg, Role::Portal, today)),
            [("until".into(), "too_long".into())]
        );
        assert_eq!(
            codes(req("revoked", Some("2027-01-01")).validate(Active, reg, Role::Portal, today)),
            [("until".into(), "not_allowed".into())]
        );
        assert_eq!(
            codes(req("sleeping", None).validate(Active, reg, Role::Portal, today)),
            [("status".into(), "unknown_status".into())]
        );
        let early = StatusRequest { effective_on: Some("2019-01-01".parse().unwrap()), ..req("revoked", None) };
        assert_eq!(
            codes(early.validate(Active, reg, Role::Portal, today)),
            [("effective_on".into(), "before_registration".into())]
        );
        assert_eq!(
            req("ceased", None).validate(Active, reg, Role::Portal, today),
            Err(StatusRefusal::Transition(TransitionError::Illegal))
        );
    }

    /// A reason holding U+0000 is refused with a 422: PostgreSQL would refuse it at commit.
    #[test]
    fn a_reason_with_control_characters_is_refused() {
        let reg: NaiveDate = "2020-01-01".parse().unwrap();
        let today: NaiveDate = "2026-11-27".parse().unwrap();
        let r = StatusRequest { reason: Some("Theo\u{0}đơn".into()), ..req("revoked", None) };
        match r.validate(Active, reg, Role::Portal, today) {
            Err(StatusRefusal::Invalid(e)) => {
                assert_eq!((e[0].field.as_str(), e[0].code.as_ref()), ("reason", "invalid_characters"))
            }
            other => panic!("{other:?}"),
        }
        // Tabs and line feeds are whitespace: normalised to spaces, accepted.
        let r = StatusRequest { reason: Some("Theo\tđơn\r\nngày 1".into()), ..req("revoked", None) };
        assert_eq!(r.validate(Active, reg, Role::Portal, today).unwrap().reason.as_deref(), Some("Theo đơn ngày 1"));
    }
}
