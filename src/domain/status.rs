//! Statuses of an enterprise (tình trạng pháp lý, Decree 168/2025) and the transitions between
//! them. The transition table lives here and nowhere else; the README prints it.

use serde::{Deserialize, Serialize};

use chrono::NaiveDate;

use super::Role;

/// Tình trạng pháp lý của doanh nghiệp: the seven statuses of Decree 168/2025 art. 35. Units use
/// three of them (`active`, `suspended`, `ceased`).
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
    /// Đang làm thủ tục giải thể, chia, hợp nhất, sáp nhập; also after a certificate revoked on
    /// other grounds (reason `certificate_revoked`, Law on Enterprises art. 207.1(d)). Versions
    /// written before the seven statuses may hold `revoked`: they read as this.
    #[serde(alias = "revoked")]
    Dissolving,
    /// Đang làm thủ tục phá sản.
    Bankruptcy,
    /// Đã giải thể, phá sản, chấm dứt tồn tại: terminal.
    Ceased,
}

use Status::*;

/// The reason a certificate revoked on other grounds than tax enforcement gives its move to
/// `dissolving` (the status `revoked` of an earlier draft of the contract).
pub const CERTIFICATE_REVOKED: &str = "certificate_revoked";

impl Status {
    pub const ALL: [Status; 7] = [Active, Suspended, NotAtAddress, TaxRevoked, Dissolving, Bankruptcy, Ceased];

    /// The statuses of a dependent unit or business location.
    pub const UNIT: [Status; 3] = [Active, Suspended, Ceased];

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Active => "active",
            Suspended => "suspended",
            NotAtAddress => "not_at_address",
            TaxRevoked => "tax_revoked",
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
        // The tax authority clears what it set.
        (NotAtAddress, Active) | (TaxRevoked, Active) => &[Role::Tax],
        // The end of a suspension, the end of bankruptcy proceedings without bankruptcy.
        (_, Active) => &[Role::Portal],
        (_, NotAtAddress) | (_, TaxRevoked) => &[Role::Tax],
        _ => &[Role::Portal],
    }
}

/// The statuses an enterprise may go to from `from` (for messages).
pub fn next_statuses(from: Status) -> Vec<Status> {
    TRANSITIONS.iter().filter(|(f, _)| *f == from).map(|(_, t)| *t).collect()
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// Not in the table.
    Illegal,
    /// The enterprise (or unit) has ceased: it accepts no change.
    Ceased,
    /// In the table, but not for this role.
    Role { allowed: &'static [Role] },
}

/// The allowed transitions (SPEC §2.3, Decree 168/2025 art. 35); anything else is refused with
/// `illegal_transition`. The README prints this table.
pub const TRANSITIONS: &[(Status, Status)] = &[
    (Active, Suspended),
    (Active, NotAtAddress),
    (Active, TaxRevoked),
    (Active, Dissolving),
    (Active, Bankruptcy),
    // Not to not_at_address: the tax authority moves into it only from another status than
    // suspended, tax_revoked, dissolving, bankruptcy or ceased (art. 35).
    (Suspended, Active),
    (Suspended, TaxRevoked),
    (Suspended, Dissolving),
    (Suspended, Bankruptcy),
    (NotAtAddress, Active),
    (NotAtAddress, TaxRevoked),
    (NotAtAddress, Dissolving),
    (NotAtAddress, Bankruptcy),
    (TaxRevoked, Active),
    (TaxRevoked, Dissolving),
    (TaxRevoked, Bankruptcy),
    (Dissolving, Ceased),
    (Dissolving, Bankruptcy),
    (Bankruptcy, Ceased),
    (Bankruptcy, Active),
];

/// The transitions of a unit (set by the portal): a unit suspends, resumes, and ceases.
pub const UNIT_TRANSITIONS: &[(Status, Status)] =
    &[(Active, Suspended), (Active, Ceased), (Suspended, Active), (Suspended, Ceased)];

/// Returns `Ok(())` when a unit may go from `from` to `to`.
pub fn check_unit_transition(from: Status, to: Status) -> Result<(), TransitionError> {
    if from == Ceased {
        return Err(TransitionError::Ceased);
    }
    if UNIT_TRANSITIONS.contains(&(from, to)) {
        Ok(())
    } else {
        Err(TransitionError::Illegal)
    }
}

/// A status change that satisfies the table and the dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub to: Status,
    pub effective_on: NaiveDate,
    pub reason: Option<String>,
    pub until: Option<NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair of statuses, for every role: allowed exactly when SPEC §2.3's table says so.
    #[test]
    fn the_table_walked_whole() {
        let spec: &[(Status, Status, &[Role])] = &[
            (Active, Suspended, &[Role::Portal]),
            (Active, NotAtAddress, &[Role::Tax]),
            (Active, TaxRevoked, &[Role::Tax]),
            (Active, Dissolving, &[Role::Portal]),
            (Active, Bankruptcy, &[Role::Portal]),
            (Suspended, Active, &[Role::Portal]),
            (Suspended, TaxRevoked, &[Role::Tax]),
            (Suspended, Dissolving, &[Role::Portal]),
            (Suspended, Bankruptcy, &[Role::Portal]),
            (NotAtAddress, Active, &[Role::Tax]),
            (NotAtAddress, TaxRevoked, &[Role::Tax]),
            (NotAtAddress, Dissolving, &[Role::Portal]),
            (NotAtAddress, Bankruptcy, &[Role::Portal]),
            (TaxRevoked, Active, &[Role::Tax]),
            (TaxRevoked, Dissolving, &[Role::Portal]),
            (TaxRevoked, Bankruptcy, &[Role::Portal]),
            (Dissolving, Ceased, &[Role::Portal]),
            (Dissolving, Bankruptcy, &[Role::Portal]),
            (Bankruptcy, Ceased, &[Role::Portal]),
            (Bankruptcy, Active, &[Role::Portal]),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                let row = spec.iter().find(|(f, t, _)| *f == from && *t == to);
                for role in Role::ALL {
                    let got = check_transition(from, to, role);
                    match row {
                        _ if from == Ceased => assert_eq!(got, Err(TransitionError::Ceased)),
                        None => assert_eq!(got, Err(TransitionError::Illegal), "{from:?} → {to:?}"),
                        Some((_, _, roles)) if role == Role::Admin || roles.contains(&role) => {
                            assert_eq!(got, Ok(()), "{from:?} → {to:?} by {role:?}")
                        }
                        Some(_) => assert!(matches!(got, Err(TransitionError::Role { .. })), "{from:?} → {to:?}"),
                    }
                }
            }
        }
        assert_eq!(TRANSITIONS.len(), spec.len());
    }

    #[test]
    fn seven_statuses_and_revoked_reads_as_dissolving() {
        assert_eq!(Status::ALL.len(), 7);
        assert_eq!(Status::parse("revoked"), None);
        assert_eq!(serde_json::from_str::<Status>("\"revoked\"").unwrap(), Dissolving);
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn units_suspend_resume_and_cease() {
        assert_eq!(check_unit_transition(Active, Suspended), Ok(()));
        assert_eq!(check_unit_transition(Suspended, Active), Ok(()));
        assert_eq!(check_unit_transition(Suspended, Ceased), Ok(()));
        assert_eq!(check_unit_transition(Active, Dissolving), Err(TransitionError::Illegal));
        assert_eq!(check_unit_transition(Ceased, Active), Err(TransitionError::Ceased));
    }
}
