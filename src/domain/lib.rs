//! The law as pure code: no database, no HTTP, no I/O. Each file holds the rules of one part of
//! the Law on Enterprises (59/2020/QH14, as amended by 76/2025/QH15) and Decree 168/2025, with
//! unit tests built from the law's own examples.

pub mod beneficial_owners;
pub mod bods;
pub mod change;
pub mod code;
pub mod effective_date;
pub mod enterprise_type;
pub mod errors;
pub mod imported;
pub mod license;
pub mod name_check;
pub mod people;
pub mod record;
pub mod reference;
pub mod reference_data;
pub mod registration;
pub mod schedule;
pub mod status;
pub mod status_request;
pub mod text;
pub mod unit;
pub mod verify;
pub mod working_days;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A consumer's role (SPEC §1). Keys belong to clients; each client has one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The business portal's backend: registers enterprises and units, files changes.
    Portal,
    /// The transport ministry's licensing system.
    Transport,
    /// The tax agency: mirrors the register, owns the tax statuses.
    Tax,
    /// Anti-money-laundering and law-enforcement bodies: beneficial owners and who controls what
    /// (SPEC §7), every read logged.
    Authority,
    /// Operators.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Portal, Role::Transport, Role::Tax, Role::Authority, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Portal => "portal",
            Role::Transport => "transport",
            Role::Tax => "tax",
            Role::Authority => "authority",
            Role::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

/// Legal dates (registration, effective dates) are Vietnamese calendar days (UTC+7).
pub fn legal_date(at: DateTime<Utc>) -> NaiveDate {
    let offset = FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    at.with_timezone(&offset).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_dates_are_in_vietnam_time() {
        let late_evening_utc = DateTime::parse_from_rfc3339("2026-11-27T18:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(legal_date(late_evening_utc), NaiveDate::from_ymd_opt(2026, 11, 28).unwrap());
        let morning_utc = DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(legal_date(morning_utc), NaiveDate::from_ymd_opt(2026, 11, 27).unwrap());
    }
}
