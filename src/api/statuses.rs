//! Statuses (SPEC §2.3): `POST /v1/enterprises/{code}/status`, `POST /v1/units/{unit_code}/status`
//! and the withdrawal of a change filed for a later day. A change effective today or earlier is
//! made at once (200); one effective later is filed (201) and listed in `scheduled_changes` until
//! the register applies it on its day (`store::schedule`). Every write names the enterprise's
//! version it is based on with `If-Match`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;

use super::auth::Caller;
use super::changes::changed_response;
use super::error::{ApiError, ProblemBody};
use super::http::{etag, if_match, invalid_code, parse_code};
use super::permissions;
use super::{body, db, AppState};
use crate::domain::code::{EnterpriseCodeInput, UnitCode, UnitCodeInput};
use crate::domain::legal_date;
use crate::domain::record::{Enterprise, ScheduledChange};
use crate::domain::schedule::{self, StatusBlocked};
use crate::domain::status::{next_statuses, TransitionError, UNIT_TRANSITIONS};
use crate::domain::status_request::{StatusDecision, StatusRefusal, StatusRequest, Subject};
use crate::domain::Role;
use crate::store::enterprises::{self as store, EventKind, Modified, WriteConflict, WriteContext, WriteError};

/// Change an enterprise's status, now or on a later day.
///
/// The transitions of Decree 168/2025 art. 35 (the table is in the README); `not_at_address` and
/// `tax_revoked` are set (and cleared) by the tax authority, the others by the portal. A
/// suspension needs `until` (at most one year on) and notice of at least 3 working days
/// (`notice_too_short`). An `effective_on` after today files the change: 201, listed in
/// `scheduled_changes`, applied by the register on its day. A ceased enterprise accepts nothing.
#[utoipa::path(
    post, path = "/v1/enterprises/{code}/status", tag = "enterprises",
    params(("code" = EnterpriseCodeInput, Path),
        ("If-Match" = String, Header, pattern = r#"^"v[1-9][0-9]{0,8}"$"#, description = "ETag of the version the change is based on")),
    request_body = StatusRequest,
    responses(
        (status = 200, description = "Changed", body = Enterprise, headers(("ETag" = String))),
        (status = 201, description = "Filed for its day: listed in `scheduled_changes`", body = Enterprise,
            headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "The role may not set this status", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "illegal_transition, enterprise_ceased, units_not_ceased or scheduled_change_pending", body = ProblemBody, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid, or notice_too_short", body = ProblemBody, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_status(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::SET_STATUS.roles)?.clone();
    let code = parse_code(&path)?;
    let expected = if_match(&req)?;
    let (request, _): (StatusRequest, _) = body::json(&req, payload, &["application/json"]).await?;
    let now = Utc::now();
    let today = legal_date(now);
    let role = client.role;
    let ctx = context(client.name.clone(), now, today, &request);
    let (modified, filed) = db(&state, move |conn| {
        let mut filed = false;
        let modified = store::modify(conn, &code, expected, EventKind::StatusChanged, &ctx, |record| {
            let (next, changed, was_filed) = decide(record, None, request, role, now)?;
            filed = was_filed;
            Ok(Some((next, changed)))
        })?;
        Ok((modified, filed))
    })
    .await?;
    Ok(answer(&state, modified, filed))
}

/// Change a unit's status (`active`, `suspended`, `ceased`), now or on a later day.
///
/// The same notice and scheduling rules as an enterprise's status. A unit suspends, resumes and
/// ceases; a ceased unit accepts nothing. `If-Match` holds the enterprise's ETag; the enterprise
/// gets a new version (event `unit_changed`).
#[utoipa::path(
    post, path = "/v1/units/{unit_code}/status", tag = "units",
    params(("unit_code" = UnitCodeInput, Path, example = "0312687878-001"),
        ("If-Match" = String, Header, pattern = r#"^"v[1-9][0-9]{0,8}"$"#, description = "ETag of the enterprise's version the change is based on")),
    request_body = StatusRequest,
    responses(
        (status = 200, description = "Changed: the enterprise", body = Enterprise, headers(("ETag" = String))),
        (status = 201, description = "Filed for its day: listed in the unit's `scheduled_changes`", body = Enterprise,
            headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "illegal_transition, unit_ceased, enterprise_ceased or scheduled_change_pending", body = ProblemBody, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid, or notice_too_short", body = ProblemBody, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_unit_status(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::SET_UNIT_STATUS.roles)?.clone();
    let unit_code = UnitCode::parse(&path).map_err(|e| invalid_code("unit_code", "unit code", &path, e))?;
    let expected = if_match(&req)?;
    let (request, _): (StatusRequest, _) = body::json(&req, payload, &["application/json"]).await?;
    let now = Utc::now();
    let today = legal_date(now);
    let role = client.role;
    let ctx = context(client.name.clone(), now, today, &request);
    let wanted = unit_code.to_string();
    let (modified, filed) = db(&state, move |conn| {
        let mut filed = false;
        let code = unit_code.enterprise().clone();
        let modified = store::modify(conn, &code, expected, EventKind::UnitChanged, &ctx, |record| {
            let index = record.units.iter().position(|u| u.unit_code == wanted).ok_or(WriteError::NotFound)?;
            let (next, changed, was_filed) = decide(record, Some(index), request, role, now)?;
            filed = was_filed;
            Ok(Some((next, changed)))
        })?;
        Ok((modified, filed))
    })
    .await?;
    Ok(answer(&state, modified, filed))
}

/// Withdraw a status change filed for a later day.
///
/// By the role that filed it (or an operator), before its day. `id` is the change's `id` in the
/// record's `scheduled_changes` or in a unit's. The enterprise gets a new version.
#[utoipa::path(
    delete, path = "/v1/enterprises/{code}/scheduled-changes/{id}", tag = "enterprises",
    params(("code" = EnterpriseCodeInput, Path), ("id" = i32, Path, minimum = 1, description = "The change's id"),
        ("If-Match" = String, Header, pattern = r#"^"v[1-9][0-9]{0,8}"$"#, description = "ETag of the enterprise's version")),
    responses(
        (status = 200, description = "Withdrawn: the enterprise", body = Enterprise, headers(("ETag" = String))),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Filed by another role", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such enterprise or scheduled change", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "scheduled_change_due (its day has come) or enterprise_ceased", body = ProblemBody, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = ProblemBody, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn withdraw(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::WITHDRAW_SCHEDULED.roles)?.clone();
    let (code, id) = path.into_inner();
    let code = parse_code(&code)?;
    let id: i32 =
        id.parse().ok().filter(|id| *id >= 1).ok_or_else(|| {
            ApiError::bad_parameter("id", "invalid_id", "a scheduled change's id is a positive number")
        })?;
    let expected = if_match(&req)?;
    let now = Utc::now();
    let today = legal_date(now);
    let role = client.role;
    let ctx = WriteContext {
        actor: client.name.clone(),
        at: now,
        effective_on: today,
        reason: Some(format!("scheduled change {id} withdrawn")),
    };
    let modified = db(&state, move |conn| {
        Ok(store::modify(conn, &code, expected, EventKind::StatusChanged, &ctx, |record| {
            let mut next = record.clone();
            let (list, field): (&mut Vec<ScheduledChange>, &str) = if next.scheduled_changes.iter().any(|c| c.id == id)
            {
                (&mut next.scheduled_changes, "scheduled_changes")
            } else {
                match next.units.iter_mut().find(|u| u.scheduled_changes.iter().any(|c| c.id == id)) {
                    Some(unit) => (&mut unit.scheduled_changes, "units"),
                    None => return Err(WriteError::NoScheduledChange(id)),
                }
            };
            let change = list.iter().find(|c| c.id == id).expect("found above");
            if role != Role::Admin && change.filed_by != role {
                return Err(WriteError::Forbidden(format!(
                    "scheduled change {id} was filed by {}: only that role withdraws it",
                    change.filed_by.as_str()
                )));
            }
            if change.effective_on <= today {
                return Err(WriteError::ScheduledChangeDue(id));
            }
            list.retain(|c| c.id != id);
            next.version += 1;
            next.updated_at = now;
            Ok(Some((next, vec![field.to_string()])))
        })?)
    })
    .await?;
    Ok(changed_response(&state, modified))
}

/// What `request` does to the enterprise (`unit`: to its unit at that place): the next record
/// (its version and time set), the fields it changes, and whether the change was filed for a
/// later day rather than made now.
fn decide(
    record: &Enterprise,
    unit: Option<usize>,
    request: StatusRequest,
    role: Role,
    now: chrono::DateTime<Utc>,
) -> Result<(Enterprise, Vec<String>, bool), WriteError> {
    let today = legal_date(now);
    let subject = match unit {
        None => Subject {
            unit: false,
            status: record.status,
            until: record.status_until,
            registered_on: record.registered_on,
            scheduled: &record.scheduled_changes,
        },
        Some(i) => {
            let u = &record.units[i];
            Subject {
                unit: true,
                status: u.status,
                until: u.status_until,
                registered_on: u.registered_on,
                scheduled: &u.scheduled_changes,
            }
        }
    };
    let decision = request.validate(subject, role, today).map_err(|r| refused(subject.status, subject.unit, r))?;
    let mut next = record.clone();
    let filed = matches!(decision, StatusDecision::Scheduled(_));
    let changed = match (decision, unit) {
        (StatusDecision::Now(change), None) => {
            let changed;
            (next, changed) = schedule::change_status(record, &change).map_err(blocked)?;
            changed
        }
        (StatusDecision::Now(change), Some(i)) => {
            next.units[i] = schedule::change_unit_status(&record.units[i], &change);
            vec!["units".to_string()]
        }
        (StatusDecision::Scheduled(change), None) => {
            next.scheduled_changes.push(schedule::filed(change, record.version + 1, role, today));
            vec!["scheduled_changes".to_string()]
        }
        (StatusDecision::Scheduled(change), Some(i)) => {
            next.units[i].scheduled_changes.push(schedule::filed(change, record.version + 1, role, today));
            vec!["units".to_string()]
        }
    };
    next.version += 1;
    next.updated_at = now;
    Ok((next, changed, filed))
}

/// The context of a status request's version: a filed change's version takes effect when it is
/// filed; the change itself on its day.
fn context(
    actor: String,
    now: chrono::DateTime<Utc>,
    today: chrono::NaiveDate,
    request: &StatusRequest,
) -> WriteContext {
    let effective_on = request.effective_on.filter(|d| *d <= today).unwrap_or(today);
    WriteContext { actor, at: now, effective_on, reason: request.reason.clone() }
}

/// 200 with the record, or 201 for a filed change (its `Location` is the enterprise).
fn answer(state: &AppState, modified: Modified, filed: bool) -> HttpResponse {
    match (modified, filed) {
        (Modified::Changed(record), true) => {
            tracing::info!(code = %record.code, version = record.version, "status change filed for its day");
            state.cache.wrote(&record);
            HttpResponse::Created()
                .insert_header((header::ETAG, etag(record.version)))
                .insert_header((header::LOCATION, format!("/v1/enterprises/{}", record.code)))
                .json(record.authority_view())
        }
        (modified, _) => changed_response(state, modified),
    }
}

fn blocked(e: StatusBlocked) -> WriteError {
    match e {
        StatusBlocked::UnitsNotCeased(units) => WriteError::UnitsNotCeased(units),
    }
}

fn refused(from: crate::domain::status::Status, unit: bool, refusal: StatusRefusal) -> WriteError {
    match refusal {
        StatusRefusal::Invalid(errors) => WriteError::Invalid(errors),
        StatusRefusal::LaterScheduled(id) => WriteError::ScheduledChangePending(id),
        StatusRefusal::Transition(TransitionError::Ceased) if unit => WriteConflict::UnitCeased.into(),
        StatusRefusal::Transition(TransitionError::Ceased) => WriteConflict::EnterpriseCeased.into(),
        StatusRefusal::Transition(TransitionError::Illegal) => {
            let allowed: Vec<&str> = if unit {
                UNIT_TRANSITIONS.iter().filter(|(f, _)| *f == from).map(|(_, t)| t.as_str()).collect()
            } else {
                next_statuses(from).into_iter().map(|s| s.as_str()).collect()
            };
            WriteError::IllegalTransition(format!(
                "from {} the status can become {}",
                from.as_str(),
                if allowed.is_empty() { "nothing".to_string() } else { allowed.join(", ") }
            ))
        }
        StatusRefusal::Transition(TransitionError::Role { allowed }) => WriteError::Forbidden(format!(
            "this transition is made by {}",
            allowed.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}
