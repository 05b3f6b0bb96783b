//! The effective date of a change (ngày có hiệu lực): the day a registration change or a status
//! change takes effect in law. Both kinds of change share this rule, so it sits below both.

use chrono::NaiveDate;

use crate::errors::Errors;

/// Checks a change's effective date: not before the enterprise's registration, and not in the
/// future (a change is filed once it has effect).
pub fn check_effective_on(errors: &mut Errors, effective_on: NaiveDate, registered_on: NaiveDate, today: NaiveDate) {
    if effective_on < registered_on {
        errors.add(
            "effective_on",
            "before_registration",
            format!("the change cannot take effect before the registration on {registered_on}"),
        );
    } else if effective_on > today {
        errors.add("effective_on", "in_future", "a change is filed once it has effect; the date is in the future");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        "2026-11-27".parse().unwrap()
    }

    #[test]
    fn effective_dates() {
        let mut e = Errors::default();
        check_effective_on(&mut e, "2020-01-01".parse().unwrap(), "2021-01-01".parse().unwrap(), today());
        check_effective_on(&mut e, "2027-01-01".parse().unwrap(), "2021-01-01".parse().unwrap(), today());
        check_effective_on(&mut e, today(), "2021-01-01".parse().unwrap(), today());
        let codes: Vec<_> = e.0.iter().map(|e| e.code.as_ref()).collect();
        assert_eq!(codes, ["before_registration", "in_future"]);
    }
}
