//! Branches, representative offices and business locations: `POST/GET
//! /v1/enterprises/{code}/units`, `GET /v1/units/{unit_code}`.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;

use super::auth::Caller;
use super::changes::changed_response;
use super::error::{ApiError, ProblemBody};
use super::http::{idempotency_key, if_match, invalid_code, parse_code, replay, Created};
use super::permissions;
use super::{body, db, AppState};
use crate::domain::code::{EnterpriseCodeInput, UnitCode, UnitCodeInput};
use crate::domain::legal_date;
use crate::domain::record::Enterprise;
use crate::domain::record::Unit;
use crate::domain::status::Status;
use crate::domain::unit::{self, UnitPatch, UnitRequest};
use crate::store::enterprises::{self as store, EventKind, WriteConflict, WriteContext, WriteError, Written};
use crate::store::idempotency::{IdempotentRequest, StoredResponse};

/// A registered unit, as its `201 Created` answer names it (`version`: the enterprise's new one).
fn registered(unit: &Unit, version: i32) -> Created {
    Created { location: format!("/v1/units/{}", unit.unit_code), version }
}

/// The answer kept for the `Idempotency-Key` of a unit's registration.
fn stored_registration((unit, version): &(Unit, i32)) -> StoredResponse {
    registered(unit, *version).stored(unit)
}

/// Register a unit.
///
/// Branches and representative offices get `CODE-NNN` in order (001, 002, …); business
/// locations a 5-digit location code. The enterprise gets a new version.
#[utoipa::path(
    post, path = "/v1/enterprises/{code}/units", tag = "units",
    params(("code" = EnterpriseCodeInput, Path),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Makes retries safe")),
    request_body = UnitRequest,
    responses(
        (status = 201, body = Unit, headers(("Location" = String), ("ETag" = String, description = "The enterprise's new version"))),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "The enterprise is not active", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn register_unit(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::REGISTER_UNIT.roles)?.clone();
    let code = parse_code(&path)?;
    let key = idempotency_key(&req)?;
    let (request, raw): (UnitRequest, _) = body::json(&req, payload, &["application/json"]).await?;
    let idem = key.map(|k| IdempotentRequest::new(client.id, k, "POST", req.path(), &raw, stored_registration));
    let now = Utc::now();
    let ctx = WriteContext { actor: client.name.clone(), at: now, effective_on: legal_date(now), reason: None };
    let reference = state.reference.clone();
    let written = db(&state, move |conn| {
        Ok(store::add_unit(
            conn,
            &code,
            |enterprise| request.validate_for(enterprise, &reference),
            &ctx,
            idem.as_ref(),
        )?)
    })
    .await?;
    match written {
        Written::Done((unit, version)) => {
            state.cache.invalidate(&unit.enterprise_code);
            tracing::info!(unit = %unit.unit_code, "unit registered");
            Ok(registered(&unit, version).answer(&unit))
        }
        Written::Replay(stored) => Ok(replay(stored)),
    }
}

/// List an enterprise's units.
#[utoipa::path(
    get, path = "/v1/enterprises/{code}/units", tag = "units",
    params(("code" = EnterpriseCodeInput, Path)),
    responses(
        (status = 200, body = Vec<Unit>),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn list_units(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let code = parse_code(&path)?;
    let wanted = code.clone();
    let record = db(&state, move |conn| Ok(store::get(conn, &wanted)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no enterprise has code {code}")))?;
    Ok(HttpResponse::Ok().json(record.units))
}

/// Look up one unit by its code (`CODE-NNN`, or `CODE-NNNNN` for a business location).
#[utoipa::path(
    get, path = "/v1/units/{unit_code}", tag = "units",
    params(("unit_code" = UnitCodeInput, Path, example = "0312687878-001")),
    responses(
        (status = 200, body = Unit),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn get_unit(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let code = UnitCode::parse(&path).map_err(|e| invalid_code("unit_code", "unit code", &path, e))?;
    let wanted = code.clone();
    let unit = db(&state, move |conn| Ok(store::get_unit(conn, &wanted)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no unit has code {code}")))?;
    Ok(HttpResponse::Ok().json(unit))
}

/// Change a unit's name or address.
///
/// A JSON Merge Patch (RFC 7396) of `name` and `address` (`street`, `ward_code`, `province_code`,
/// in the 2025 units), checked by the rules of a unit's registration. `If-Match` holds the
/// enterprise's ETag; the enterprise gets a new version (event `unit_changed`). A ceased unit
/// accepts nothing; a patch that changes nothing writes no version.
#[utoipa::path(
    patch, path = "/v1/units/{unit_code}", tag = "units",
    params(("unit_code" = UnitCodeInput, Path, example = "0312687878-001"),
        ("If-Match" = String, Header, pattern = r#"^"v[1-9][0-9]{0,8}"$"#, description = "ETag of the enterprise's version the change is based on")),
    request_body(content = UnitPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The enterprise, with the unit changed", body = Enterprise, headers(("ETag" = String))),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "unit_ceased or enterprise_ceased", body = ProblemBody, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn patch_unit(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::CHANGE_UNIT.roles)?.clone();
    let unit_code = UnitCode::parse(&path).map_err(|e| invalid_code("unit_code", "unit code", &path, e))?;
    let expected = if_match(&req)?;
    let (patch, _): (serde_json::Value, _) =
        body::json(&req, payload, &["application/merge-patch+json", "application/json"]).await?;
    // The patch's own shape (unknown fields, wrong types) is a 400 naming the field.
    body::parse::<UnitPatch>(patch.to_string().as_bytes())?;
    let now = Utc::now();
    let ctx = WriteContext { actor: client.name.clone(), at: now, effective_on: legal_date(now), reason: None };
    let reference = state.reference.clone();
    let wanted = unit_code.to_string();
    let code = unit_code.enterprise().clone();
    let modified = db(&state, move |conn| {
        Ok(store::modify(conn, &code, expected, EventKind::UnitChanged, &ctx, |record| {
            let index = record.units.iter().position(|u| u.unit_code == wanted).ok_or(WriteError::NotFound)?;
            let current = &record.units[index];
            if current.status == Status::Ceased {
                return Err(WriteConflict::UnitCeased.into());
            }
            let request = unit::patched(current, &patch).map_err(|e| {
                WriteError::Invalid(vec![crate::domain::errors::FieldError::new("", "invalid_type", e.to_string())])
            })?;
            let valid = request.validate_for(record, &reference).map_err(WriteError::Invalid)?;
            let changed = valid.applied_to(current);
            if &changed == current {
                return Ok(None);
            }
            let mut next = record.clone();
            next.units[index] = changed;
            next.version += 1;
            next.updated_at = now;
            Ok(Some((next, vec!["units".to_string()])))
        })?)
    })
    .await?;
    Ok(changed_response(&state, modified))
}
