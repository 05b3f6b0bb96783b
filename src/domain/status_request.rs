//! A status request (`POST /v1/enterprises/{code}/status`, `POST /v1/units/{unit_code}/status`)
//! judged against what it is about: the table of [`crate::status`], the dates, the notice a
//! suspension needs, and, for a change filed for a later day, the status it will meet then
//! ([`crate::schedule::project`]). Apart from `status.rs`, which the record and the schedule use, so
//! that no two domain files use each other.

use chrono::{Months, NaiveDate};
use serde::Deserialize;

use crate::errors::{Errors, FieldError};
use crate::record::ScheduledChange;
use crate::schedule::{self, Standing};
use crate::status::{
    check_transition, check_unit_transition, Status, StatusChange, TransitionError, CERTIFICATE_REVOKED,
};
use crate::working_days;
use crate::Role;

/// `POST /v1/enterprises/{code}/status` and `POST /v1/units/{unit_code}/status`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// The new status.
    #[schema(value_type = Status, required = true, example = "suspended")]
    pub status: Option<String>,
    /// The legal effective date (default: today). A later day schedules the change: the register
    /// applies it on that day.
    pub effective_on: Option<NaiveDate>,
    pub reason: Option<String>,
    /// End of a suspension: required for `suspended`, refused otherwise; at most one year after
    /// `effective_on`.
    pub until: Option<NaiveDate>,
}

/// What a valid request does: change the status now, or file the change for its day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusDecision {
    Now(StatusChange),
    Scheduled(StatusChange),
}

/// Why a status change was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusRefusal {
    Invalid(Vec<FieldError>),
    Transition(TransitionError),
    /// A change is already filed for a later day than this one (its id): withdraw it first.
    LaterScheduled(i32),
}

/// What a status request is about, as it stands: an enterprise or one of its units.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub unit: bool,
    pub status: Status,
    pub until: Option<NaiveDate>,
    pub registered_on: NaiveDate,
    pub scheduled: &'a [ScheduledChange],
}

impl Subject<'_> {
    /// Whether `role` may move this subject from `from` to `to` (the enterprise table, or the
    /// units' table, set by the portal).
    pub fn allows(&self, from: Status, to: Status, role: Role) -> Result<(), TransitionError> {
        if self.unit {
            check_unit_transition(from, to)
        } else {
            check_transition(from, to, role)
        }
    }
}

/// The working days of notice a suspension needs (Decree 168/2025: at least 3 working days
/// before it starts).
pub const SUSPENSION_NOTICE_WORKING_DAYS: u32 = 3;

/// The last day one notice may suspend to: one year after the start (Law on Enterprises art.
/// 206.1: one notice covers at most one year; a new notice extends it).
pub fn longest_suspension(effective_on: NaiveDate) -> NaiveDate {
    effective_on.checked_add_months(Months::new(12)).unwrap_or(NaiveDate::MAX)
}

impl StatusRequest {
    /// Checks the request against `subject` for `role`, on `today`.
    pub fn validate(self, subject: Subject, role: Role, today: NaiveDate) -> Result<StatusDecision, StatusRefusal> {
        let mut errors = Errors::default();
        let to = self.parse_status(&mut errors, subject.unit);
        let effective_on = self.effective_on.unwrap_or(today);
        if effective_on < subject.registered_on {
            errors.add(
                "effective_on",
                "before_registration",
                format!("the change cannot take effect before the registration on {}", subject.registered_on),
            );
        }
        match (to, self.until) {
            (Some(Status::Suspended), None) => errors.add("until", "required", "a suspension says until when"),
            (Some(Status::Suspended), Some(until)) if until <= effective_on => {
                errors.add("until", "not_after_effective_on", "a suspension ends after it starts")
            }
            (Some(Status::Suspended), Some(until)) if until > longest_suspension(effective_on) => errors.add(
                "until",
                "too_long",
                format!(
                    "one notice suspends business for at most one year (art. 206): until {} at the latest; a new notice extends it",
                    longest_suspension(effective_on)
                ),
            ),
            (Some(Status::Suspended), Some(_)) => {}
            (Some(_), Some(_)) => errors.add("until", "not_allowed", "only a suspension has an end date"),
            _ => {}
        }
        if to == Some(Status::Suspended)
            && !working_days::notice_given(today, effective_on, SUSPENSION_NOTICE_WORKING_DAYS)
        {
            errors.add(
                "effective_on",
                "notice_too_short",
                format!(
                    "a suspension is notified at least {SUSPENSION_NOTICE_WORKING_DAYS} working days before it starts: \
                     filed on {today}, it starts on {} at the earliest",
                    working_days::earliest_start(today, SUSPENSION_NOTICE_WORKING_DAYS)
                ),
            );
        }
        let reason = self.reason.map(|r| crate::text::normalize(&r)).filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
            errors.add("reason", "too_long", "at most 1000 characters");
        } else if let Some(c) = reason.as_deref().and_then(crate::text::find_control) {
            errors.add("reason", "invalid_characters", format!("control characters such as {c:?} are not allowed"));
        }
        if !errors.is_empty() {
            return Err(StatusRefusal::Invalid(errors.0));
        }
        let to = to.expect("validated");
        let change = StatusChange { to, effective_on, reason, until: self.until };
        if effective_on <= today {
            subject.allows(subject.status, to, role).map_err(StatusRefusal::Transition)?;
            return Ok(StatusDecision::Now(change));
        }
        if subject.status == Status::Ceased {
            return Err(StatusRefusal::Transition(TransitionError::Ceased));
        }
        if let Some(later) = subject.scheduled.iter().filter(|c| c.effective_on > effective_on).map(|c| c.id).max() {
            return Err(StatusRefusal::LaterScheduled(later));
        }
        let standing = Standing { status: subject.status, until: subject.until };
        let then = schedule::project(standing, subject.scheduled, effective_on, &|from, to, role| {
            subject.allows(from, to, role).is_ok()
        });
        subject.allows(then.status, to, role).map_err(StatusRefusal::Transition)?;
        Ok(StatusDecision::Scheduled(change))
    }

    fn parse_status(&self, errors: &mut Errors, unit: bool) -> Option<Status> {
        let allowed: &[Status] = if unit { &Status::UNIT } else { &Status::ALL };
        match self.status.as_deref().map(str::trim) {
            None | Some("") => {
                errors.required("status");
                None
            }
            Some("revoked") if !unit => {
                errors.add(
                    "status",
                    "status_replaced",
                    format!(
                        "\"revoked\" is not a status (Decree 168/2025 art. 35): a certificate revoked on other grounds \
                         than tax enforcement sends the enterprise into \"dissolving\" with reason \"{CERTIFICATE_REVOKED}\""
                    ),
                );
                None
            }
            Some(s) => match Status::parse(s).filter(|s| allowed.contains(s)) {
                Some(to) => Some(to),
                None => {
                    errors.add(
                        "status",
                        "unknown_status",
                        format!(
                            "{s:?} is not a status{}; the statuses are {}",
                            if unit { " of a unit" } else { "" },
                            allowed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                    );
                    None
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn req(status: &str, effective_on: Option<&str>, until: Option<&str>) -> StatusRequest {
        StatusRequest {
            status: Some(status.into()),
            effective_on: effective_on.map(d),
            reason: None,
            until: until.map(d),
        }
    }

    fn subject(status: Status, scheduled: &[ScheduledChange]) -> Subject<'_> {
        Subject { unit: false, status, until: None, registered_on: d("2020-01-01"), scheduled }
    }

    fn codes(r: Result<StatusDecision, StatusRefusal>) -> Vec<(String, String)> {
        match r {
            Err(StatusRefusal::Invalid(e)) => e.into_iter().map(|e| (e.field, e.code.into_owned())).collect(),
            other => panic!("{other:?}"),
        }
    }

    /// Monday 7 December 2026: a suspension may start on Thursday the 10th at the earliest.
    const TODAY: &str = "2026-12-07";

    #[test]
    fn a_suspension_needs_three_working_days_notice_and_lasts_a_year_at_most() {
        let today = d(TODAY);
        let ok = req("suspended", Some("2026-12-10"), Some("2027-06-01"));
        match ok.validate(subject(Active, &[]), Role::Portal, today).unwrap() {
            StatusDecision::Scheduled(c) => assert_eq!((c.to, c.effective_on), (Suspended, d("2026-12-10"))),
            other => panic!("{other:?}"),
        }
        let short = req("suspended", Some("2026-12-09"), Some("2027-06-01"));
        assert_eq!(
            codes(short.validate(subject(Active, &[]), Role::Portal, today)),
            [("effective_on".into(), "notice_too_short".into())]
        );
        // Today: no notice at all.
        assert_eq!(
            codes(req("suspended", None, Some("2027-06-01")).validate(subject(Active, &[]), Role::Portal, today)),
            [("effective_on".into(), "notice_too_short".into())]
        );
        assert_eq!(
            codes(req("suspended", Some("2026-12-10"), None).validate(subject(Active, &[]), Role::Portal, today)),
            [("until".into(), "required".into())]
        );
        // One year: to 10 December 2027 inclusive, not a day more.
        assert!(req("suspended", Some("2026-12-10"), Some("2027-12-10"))
            .validate(subject(Active, &[]), Role::Portal, today)
            .is_ok());
        assert_eq!(
            codes(req("suspended", Some("2026-12-10"), Some("2027-12-11")).validate(
                subject(Active, &[]),
                Role::Portal,
                today
            )),
            [("until".into(), "too_long".into())]
        );
    }

    #[test]
    fn revoked_is_refused_naming_its_replacement() {
        let e = codes(req("revoked", None, None).validate(subject(Active, &[]), Role::Portal, d(TODAY)));
        assert_eq!(e, [("status".into(), "status_replaced".into())]);
        assert_eq!(
            codes(req("sleeping", None, None).validate(subject(Active, &[]), Role::Portal, d(TODAY))),
            [("status".into(), "unknown_status".into())]
        );
    }

    #[test]
    fn a_change_today_or_earlier_is_made_now_a_later_one_is_filed() {
        let today = d(TODAY);
        let now = req("dissolving", Some("2026-12-01"), None).validate(subject(Active, &[]), Role::Portal, today);
        assert!(matches!(now, Ok(StatusDecision::Now(_))));
        let later = req("dissolving", Some("2027-01-04"), None).validate(subject(Active, &[]), Role::Portal, today);
        assert!(matches!(later, Ok(StatusDecision::Scheduled(_))));
        let early = req("dissolving", Some("2019-01-01"), None).validate(subject(Active, &[]), Role::Portal, today);
        assert_eq!(codes(early), [("effective_on".into(), "before_registration".into())]);
        assert_eq!(
            req("ceased", None, None).validate(subject(Active, &[]), Role::Portal, today),
            Err(StatusRefusal::Transition(TransitionError::Illegal))
        );
    }

    #[test]
    fn a_filed_change_is_judged_from_the_status_it_will_meet() {
        let today = d(TODAY);
        let filed = [ScheduledChange {
            id: 4,
            status: Dissolving,
            effective_on: d("2027-01-04"),
            until: None,
            reason: None,
            filed_by: Role::Portal,
            filed_on: today,
        }];
        // Dissolving from 4 January: ceasing on the 5th is in the table, suspending is not.
        assert!(req("ceased", Some("2027-01-05"), None).validate(subject(Active, &filed), Role::Portal, today).is_ok());
        assert_eq!(
            req("suspended", Some("2027-01-05"), Some("2027-02-01")).validate(
                subject(Active, &filed),
                Role::Portal,
                today
            ),
            Err(StatusRefusal::Transition(TransitionError::Illegal))
        );
        // Before a change filed for later: withdraw that one first.
        assert_eq!(
            req("bankruptcy", Some("2027-01-02"), None).validate(subject(Active, &filed), Role::Portal, today),
            Err(StatusRefusal::LaterScheduled(4))
        );
    }

    #[test]
    fn unit_requests_take_unit_statuses_only() {
        let unit = Subject { unit: true, status: Active, until: None, registered_on: d("2020-01-01"), scheduled: &[] };
        assert_eq!(
            codes(req("dissolving", None, None).validate(unit, Role::Portal, d(TODAY))),
            [("status".into(), "unknown_status".into())]
        );
        assert!(matches!(req("ceased", None, None).validate(unit, Role::Portal, d(TODAY)), Ok(StatusDecision::Now(_))));
    }

    /// A reason holding U+0000 is refused with a 422: PostgreSQL would refuse it at commit.
    #[test]
    fn a_reason_with_control_characters_is_refused() {
        let today = d(TODAY);
        let r = StatusRequest { reason: Some("Theo\u{0}đơn".into()), ..req("dissolving", None, None) };
        assert_eq!(
            codes(r.validate(subject(Active, &[]), Role::Portal, today)),
            [("reason".into(), "invalid_characters".into())]
        );
        let r = StatusRequest { reason: Some("Theo\tđơn\r\nngày 1".into()), ..req("dissolving", None, None) };
        match r.validate(subject(Active, &[]), Role::Portal, today).unwrap() {
            StatusDecision::Now(c) => assert_eq!(c.reason.as_deref(), Some("Theo đơn ngày 1")),
            other => panic!("{other:?}"),
        }
    }
}
