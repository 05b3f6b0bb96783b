//! Statuses of an enterprise (tình trạng pháp lý, Decree 168/2025) and the transitions between
//! them. The transition table lives here and nowhere else; the README prints it.

use serde::{Deserialize, Serialize};

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
}
