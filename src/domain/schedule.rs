//! Status changes that run on time (SPEC §2.3): a change filed for a later day, a suspension that
//! ends by itself at the end of `until`, a licence that expires. The register applies each on its
//! day as a new version; this module says what is due, in which order, and what applying it does.
//! The store finds the records with something due by [`next_due`] (kept in a column) and applies
//! [`apply_next`] under the record's lock until nothing is due: whichever instance holds the lock
//! applies it, and the applied step is gone from the record, so each step is applied once.

use chrono::{Days, NaiveDate};

use crate::license;
use crate::record::{Enterprise, ScheduledChange, Unit};
use crate::status::{check_transition, check_unit_transition, Status, StatusChange};
use crate::Role;

/// A status and, for a suspension, its last day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub status: Status,
    pub until: Option<NaiveDate>,
}

/// What comes next for one enterprise or unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// A suspension ends at the end of its `until`: back to `active` the day after.
    SuspensionEnds,
    /// A filed change falls due.
    Filed(&'a ScheduledChange),
}

/// The day after a suspension's last day, when it has ended.
fn end_of(standing: Standing) -> Option<NaiveDate> {
    match standing {
        Standing { status: Status::Suspended, until: Some(until) } => until.checked_add_days(Days::new(1)),
        _ => None,
    }
}

/// The earliest step and its day, when that day is on or before `horizon`. On one day a
/// suspension's end comes before a change filed for that day (a new notice that extends it).
pub fn next_step(
    standing: Standing,
    scheduled: &[ScheduledChange],
    horizon: NaiveDate,
) -> Option<(NaiveDate, Step<'_>)> {
    let filed = scheduled.iter().min_by_key(|c| (c.effective_on, c.id)).map(|c| (c.effective_on, Step::Filed(c)));
    let end = end_of(standing).map(|day| (day, Step::SuspensionEnds));
    let first = match (end, filed) {
        (Some(e), Some(f)) => Some(if e.0 <= f.0 { e } else { f }),
        (e, f) => e.or(f),
    };
    first.filter(|(day, _)| *day <= horizon)
}

/// Where a status stands on `on` once every step due by then has been applied; a filed change
/// the table would refuse by then is passed over (it lapses when its day comes).
pub fn project(
    mut standing: Standing,
    scheduled: &[ScheduledChange],
    on: NaiveDate,
    allowed: &dyn Fn(Status, Status, Role) -> bool,
) -> Standing {
    let mut rest: Vec<ScheduledChange> = scheduled.to_vec();
    while let Some((_, step)) = next_step(standing, &rest, on) {
        match step {
            Step::SuspensionEnds => standing = Standing { status: Status::Active, until: None },
            Step::Filed(c) => {
                let id = c.id;
                if allowed(standing.status, c.status, c.filed_by) {
                    standing = Standing { status: c.status, until: c.until };
                }
                rest.retain(|c| c.id != id);
            }
        }
    }
    standing
}

fn standing_of(record: &Enterprise) -> Standing {
    Standing { status: record.status, until: record.status_until }
}

fn unit_standing(unit: &Unit) -> Standing {
    Standing { status: unit.status, until: unit.status_until }
}

/// The first day something is due for the record (its own status, a unit's, a licence's
/// expiry), or `None`: what the store keeps in `enterprises.next_due`.
pub fn next_due(record: &Enterprise) -> Option<NaiveDate> {
    if record.status == Status::Ceased {
        return None;
    }
    let own = next_step(standing_of(record), &record.scheduled_changes, NaiveDate::MAX).map(|(d, _)| d);
    let units = record
        .units
        .iter()
        .filter(|u| u.status != Status::Ceased)
        .filter_map(|u| next_step(unit_standing(u), &u.scheduled_changes, NaiveDate::MAX).map(|(d, _)| d));
    own.into_iter().chain(units).chain(license::next_expiry(record.licenses())).min()
}

/// What a step did to the record: the feed event it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppliedKind {
    StatusChanged,
    UnitChanged,
    LicenseChanged,
}

/// One applied step: the next record (its version and time still to be set by the writer), the
/// fields it changed, its legal effective date and the reason its version records.
#[derive(Debug, Clone)]
pub struct Applied {
    pub record: Enterprise,
    pub kind: AppliedKind,
    pub changed: Vec<String>,
    pub effective_on: NaiveDate,
    pub reason: Option<String>,
}

/// Why an enterprise may not take a status as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusBlocked {
    /// Dissolution ends only once every unit has ceased (SPEC §2.3): these have not.
    UnitsNotCeased(Vec<String>),
}

/// The record after `change`, with the fields it changed. Ceasing from `dissolving` needs every
/// unit ceased first; ceasing from `bankruptcy` ceases the units in the same version; a ceased
/// enterprise keeps no scheduled change.
pub fn change_status(record: &Enterprise, change: &StatusChange) -> Result<(Enterprise, Vec<String>), StatusBlocked> {
    let mut next = record.clone();
    let mut changed = vec!["status".to_string()];
    if change.to == Status::Ceased {
        let open: Vec<String> =
            record.units.iter().filter(|u| u.status != Status::Ceased).map(|u| u.unit_code.clone()).collect();
        if record.status == Status::Dissolving && !open.is_empty() {
            return Err(StatusBlocked::UnitsNotCeased(open));
        }
        if !open.is_empty() {
            for unit in next.units.iter_mut().filter(|u| u.status != Status::Ceased) {
                unit.status = Status::Ceased;
                unit.status_until = None;
                unit.scheduled_changes.clear();
            }
            changed.push("units".into());
        }
        if !next.scheduled_changes.is_empty() {
            next.scheduled_changes.clear();
            changed.push("scheduled_changes".into());
        }
    }
    next.status = change.to;
    next.status_until = change.until;
    if next.status_until != record.status_until {
        changed.push("status_until".into());
    }
    Ok((next, changed))
}

/// A unit after `change`; a ceased unit keeps no scheduled change.
pub fn change_unit_status(unit: &Unit, change: &StatusChange) -> Unit {
    let mut next = unit.clone();
    next.status = change.to;
    next.status_until = change.until;
    if change.to == Status::Ceased {
        next.scheduled_changes.clear();
    }
    next
}

/// A change filed for later, as the record lists it: its id is the version that files it.
pub fn filed(change: StatusChange, id: i32, role: Role, today: NaiveDate) -> ScheduledChange {
    ScheduledChange {
        id,
        status: change.to,
        effective_on: change.effective_on,
        until: change.until,
        reason: change.reason,
        filed_by: role,
        filed_on: today,
    }
}

/// The first step due on or before `today` for the record, applied; `None` when nothing is due.
/// The enterprise's own steps come before its units' on one day, and licences last.
pub fn apply_next(record: &Enterprise, today: NaiveDate) -> Option<Applied> {
    if record.status == Status::Ceased {
        return None;
    }
    let own = next_step(standing_of(record), &record.scheduled_changes, today).map(|(d, s)| (d, 0, None, s));
    let units =
        record.units.iter().enumerate().filter(|(_, u)| u.status != Status::Ceased).filter_map(|(i, u)| {
            next_step(unit_standing(u), &u.scheduled_changes, today).map(|(d, s)| (d, 1, Some(i), s))
        });
    let step = own.into_iter().chain(units).min_by_key(|(d, order, i, _)| (*d, *order, *i));
    let expiry = license::next_expiry(record.licenses()).filter(|d| *d <= today);
    match (step, expiry) {
        (Some((day, _, unit, step)), expiry) if expiry.is_none_or(|e| day <= e) => Some(match unit {
            None => apply_own(record, day, step),
            Some(i) => apply_unit(record, i, day, step),
        }),
        (_, Some(day)) => Some(apply_expiry(record, day)),
        (_, None) => None,
    }
}

fn apply_own(record: &Enterprise, day: NaiveDate, step: Step) -> Applied {
    let lapse = |id: i32, why: String| {
        let mut next = record.clone();
        next.scheduled_changes.retain(|c| c.id != id);
        Applied {
            record: next,
            kind: AppliedKind::StatusChanged,
            changed: vec!["scheduled_changes".into()],
            effective_on: day,
            reason: Some(format!("scheduled change {id} lapsed: {why}")),
        }
    };
    match step {
        Step::SuspensionEnds => {
            let change = StatusChange { to: Status::Active, effective_on: day, reason: None, until: None };
            let (next, changed) = change_status(record, &change).expect("ending a suspension is never blocked");
            Applied {
                record: next,
                kind: AppliedKind::StatusChanged,
                changed,
                effective_on: day,
                reason: Some("the suspension ended".into()),
            }
        }
        Step::Filed(c) => {
            if let Err(e) = check_transition(record.status, c.status, c.filed_by) {
                return lapse(c.id, refusal(record.status, c.status, e));
            }
            let change = StatusChange { to: c.status, effective_on: day, reason: c.reason.clone(), until: c.until };
            match change_status(record, &change) {
                Ok((mut next, mut changed)) => {
                    if next.scheduled_changes.iter().any(|s| s.id == c.id) {
                        next.scheduled_changes.retain(|s| s.id != c.id);
                        changed.push("scheduled_changes".into());
                    }
                    Applied {
                        record: next,
                        kind: AppliedKind::StatusChanged,
                        changed,
                        effective_on: day,
                        reason: c.reason.clone(),
                    }
                }
                Err(StatusBlocked::UnitsNotCeased(open)) => {
                    lapse(c.id, format!("units {} have not ceased", open.join(", ")))
                }
            }
        }
    }
}

fn refusal(from: Status, to: Status, e: crate::status::TransitionError) -> String {
    match e {
        crate::status::TransitionError::Ceased => "the enterprise has ceased".into(),
        crate::status::TransitionError::Illegal => {
            format!("from {} the status cannot become {}", from.as_str(), to.as_str())
        }
        crate::status::TransitionError::Role { .. } => {
            format!("{} → {} is not the filer's to make", from.as_str(), to.as_str())
        }
    }
}

fn apply_unit(record: &Enterprise, index: usize, day: NaiveDate, step: Step) -> Applied {
    let mut next = record.clone();
    let unit = &record.units[index];
    let reason = match step {
        Step::SuspensionEnds => {
            let change = StatusChange { to: Status::Active, effective_on: day, reason: None, until: None };
            next.units[index] = change_unit_status(unit, &change);
            Some(format!("the suspension of unit {} ended", unit.unit_code))
        }
        Step::Filed(c) => {
            let mut updated = match check_unit_transition(unit.status, c.status) {
                Ok(()) => {
                    let change =
                        StatusChange { to: c.status, effective_on: day, reason: c.reason.clone(), until: c.until };
                    change_unit_status(unit, &change)
                }
                Err(e) => {
                    next.units[index].scheduled_changes.retain(|s| s.id != c.id);
                    let why = refusal(unit.status, c.status, e);
                    return Applied {
                        record: next,
                        kind: AppliedKind::UnitChanged,
                        changed: vec!["units".into()],
                        effective_on: day,
                        reason: Some(format!("scheduled change {} of unit {} lapsed: {why}", c.id, unit.unit_code)),
                    };
                }
            };
            updated.scheduled_changes.retain(|s| s.id != c.id);
            next.units[index] = updated;
            c.reason.clone()
        }
    };
    Applied { record: next, kind: AppliedKind::UnitChanged, changed: vec!["units".into()], effective_on: day, reason }
}

fn apply_expiry(record: &Enterprise, day: NaiveDate) -> Applied {
    let mut next = record.clone();
    let mut numbers = Vec::new();
    if let Some(licenses) = next.licenses.as_mut() {
        for l in licenses.iter_mut() {
            if let Some(expired) = license::expire(l, day) {
                numbers.push(l.number.clone());
                *l = expired;
            }
        }
    }
    Applied {
        record: next,
        kind: AppliedKind::LicenseChanged,
        changed: vec!["licenses".into()],
        effective_on: day,
        reason: Some(format!("licence {} expired", numbers.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn filed_change(id: i32, status: Status, on: &str, until: Option<&str>, by: Role) -> ScheduledChange {
        ScheduledChange {
            id,
            status,
            effective_on: d(on),
            until: until.map(d),
            reason: None,
            filed_by: by,
            filed_on: d("2026-12-01"),
        }
    }

    fn table(from: Status, to: Status, role: Role) -> bool {
        check_transition(from, to, role).is_ok()
    }

    #[test]
    fn a_suspension_ends_the_day_after_until_before_a_change_filed_for_that_day() {
        let standing = Standing { status: Status::Suspended, until: Some(d("2027-06-30")) };
        let extension = [filed_change(7, Status::Suspended, "2027-07-01", Some("2027-12-31"), Role::Portal)];
        assert_eq!(next_step(standing, &extension, d("2027-06-30")), None);
        assert_eq!(next_step(standing, &extension, d("2027-07-01")), Some((d("2027-07-01"), Step::SuspensionEnds)));
        // The extension applies from active, the suspension's end having come first.
        let then = project(standing, &extension, d("2027-07-01"), &table);
        assert_eq!(then, Standing { status: Status::Suspended, until: Some(d("2027-12-31")) });
        let after = project(standing, &extension, d("2028-01-01"), &table);
        assert_eq!(after, Standing { status: Status::Active, until: None });
    }

    /// An enterprise suspended until 30 June 2027, a branch with a suspension filed, a licence
    /// expiring on 31 December 2027.
    fn record() -> Enterprise {
        serde_json::from_value(serde_json::json!({
            "code": "0100233488", "type": "llc_single", "name": {"vi": "Công ty TNHH MTV Hoàng Long"},
            "status": "suspended", "status_until": "2027-06-30", "registered_on": "2020-01-02", "version": 5,
            "registration_changes": 0,
            "head_office": {"street": "Số 1", "ward_code": "00070", "ward_name": "", "province_code": "01", "province_name": ""},
            "charter_capital_vnd": 1000000000, "business_lines": [], "legal_representatives": [],
            "units": [{"unit_code": "0100233488-001", "enterprise_code": "0100233488", "kind": "branch", "name": "Chi nhánh",
                "address": {"street": "Số 2", "ward_code": "00070", "ward_name": "", "province_code": "01", "province_name": ""},
                "status": "active", "registered_on": "2021-01-01",
                "scheduled_changes": [{"id": 5, "status": "ceased", "effective_on": "2027-03-01", "filed_by": "portal", "filed_on": "2026-12-07"}]}],
            "scheduled_changes": [],
            "licenses": [{"number": "GP-1", "kind": "road_transport_business", "issued_on": "2021-01-01",
                "expires_on": "2027-12-31", "status": "valid"}],
            "updated_at": "2026-12-07T03:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn steps_are_applied_in_date_order_one_version_each() {
        let mut r = record();
        assert_eq!(next_due(&r), Some(d("2027-03-01")));
        assert!(apply_next(&r, d("2027-02-28")).is_none());
        let mut days = Vec::new();
        while let Some(applied) = apply_next(&r, d("2028-06-01")) {
            days.push((applied.effective_on, applied.kind));
            r = applied.record;
        }
        assert_eq!(
            days,
            [
                (d("2027-03-01"), AppliedKind::UnitChanged),
                (d("2027-07-01"), AppliedKind::StatusChanged),
                (d("2028-01-01"), AppliedKind::LicenseChanged),
            ]
        );
        assert_eq!((r.status, r.status_until, r.units[0].status), (Status::Active, None, Status::Ceased));
        assert!(r.units[0].scheduled_changes.is_empty());
        assert_eq!(next_due(&r), None, "nothing left to do");
    }

    #[test]
    fn a_change_the_table_no_longer_allows_lapses_with_its_reason() {
        let mut r = record();
        r.status = Status::Dissolving;
        r.status_until = None;
        r.scheduled_changes.push(filed_change(6, Status::Suspended, "2027-01-10", Some("2027-02-10"), Role::Portal));
        let applied = apply_next(&r, d("2027-01-10")).unwrap();
        assert_eq!(applied.record.status, Status::Dissolving);
        assert!(applied.record.scheduled_changes.is_empty());
        assert_eq!(applied.changed, ["scheduled_changes"]);
        assert!(applied.reason.unwrap().contains("lapsed"));
    }

    #[test]
    fn ceasing_from_dissolution_waits_for_the_units_bankruptcy_takes_them_along() {
        let mut r = record();
        r.status = Status::Dissolving;
        let cease = StatusChange { to: Status::Ceased, effective_on: d("2027-01-01"), reason: None, until: None };
        assert_eq!(
            change_status(&r, &cease).unwrap_err(),
            StatusBlocked::UnitsNotCeased(vec!["0100233488-001".into()])
        );
        r.status = Status::Bankruptcy;
        let (ceased, changed) = change_status(&r, &cease).unwrap();
        assert_eq!((ceased.status, ceased.units[0].status), (Status::Ceased, Status::Ceased));
        assert!(changed.contains(&"units".to_string()));
        assert_eq!(next_due(&ceased), None);
    }

    #[test]
    fn a_projection_passes_over_a_change_the_table_refuses() {
        let standing = Standing { status: Status::Active, until: None };
        let filed = [
            filed_change(3, Status::Dissolving, "2027-01-05", None, Role::Portal),
            // From dissolving, suspension is not in the table: it lapses.
            filed_change(4, Status::Suspended, "2027-02-01", Some("2027-03-01"), Role::Portal),
        ];
        let then = project(standing, &filed, d("2027-02-15"), &table);
        assert_eq!(then.status, Status::Dissolving);
    }
}
