//! Road-transport licences: `POST /v1/enterprises/{code}/licenses` and
//! `POST /v1/licenses/{number}/status` (transport ministry), `GET /v1/licenses/{number}` (any
//! client with a key).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::auth::Caller;
use super::error::{problems, ApiError, ProblemBody};
use super::http::{etag, idempotency_key, if_match, parse_code, replay, Created};
use super::permissions;
use super::{body, db, AppState};
use crate::domain::code::EnterpriseCodeInput;
use crate::domain::errors::FieldError;
use crate::domain::legal_date;
use crate::domain::license::{self, LicenseRequest, LicenseStatusRefusal, LicenseStatusRequest};
use crate::domain::record::License;
use crate::domain::record::{Enterprise, EnterpriseName};
use crate::domain::status::Status;
use crate::store::enterprises::{WriteContext, Written};
use crate::store::idempotency::{IdempotentRequest, StoredResponse};
use crate::store::licenses::{self as store, LicenseWriteError, RecordedLicense};

/// A licence and whom it was recorded for, by whom and when.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = RecordedLicense)]
pub struct RecordedLicenseView {
    #[serde(flatten)]
    pub license: License,
    pub enterprise_code: String,
    pub recorded_at: DateTime<Utc>,
    /// The client that recorded it.
    pub recorded_by: String,
}

impl From<RecordedLicense> for RecordedLicenseView {
    fn from(recorded: RecordedLicense) -> Self {
        let RecordedLicense { license, enterprise_code, recorded_at, recorded_by } = recorded;
        RecordedLicenseView { license, enterprise_code, recorded_at, recorded_by }
    }
}

/// A recorded licence, as its `201 Created` answer names it (`version`: the enterprise's new one).
fn recorded(license: &License, version: i32) -> Created {
    Created { location: format!("/v1/licenses/{}", license.number), version }
}

/// The answer kept for the `Idempotency-Key` of a licence's recording.
fn stored_recording((entry, version): &(RecordedLicense, i32)) -> StoredResponse {
    recorded(&entry.license, *version).stored(&RecordedLicenseView::from(entry.clone()))
}

/// Record a road-transport licence.
///
/// The transport ministry records a licence it issued. Refused (422 `license_refused`) unless the
/// enterprise is active and has a road-transport business line (VSIC 492x, 4931, 4932, 4933).
/// The enterprise gets a new version and the feed a `license_recorded` event. `If-Match` is
/// optional: with it, the licence is recorded only on that version.
#[utoipa::path(
    post, path = "/v1/enterprises/{code}/licenses", tag = "licenses",
    params(
        ("code" = EnterpriseCodeInput, Path),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$", description = "Makes retries safe"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^"v[1-9][0-9]{0,8}"$"#, description = "Record only on this version of the enterprise"),
    ),
    request_body = LicenseRequest,
    responses(
        (status = 201, body = RecordedLicenseView, headers(("Location" = String), ("ETag" = String, description = "The enterprise's new version"))),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "license_exists, or the enterprise has ceased", body = ProblemBody, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "validation_failed (the request's own fields and dates) or license_refused (the enterprise may not hold it)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn record_license(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::RECORD_LICENSE.roles)?.clone();
    let code = parse_code(&path)?;
    let key = idempotency_key(&req)?;
    let expected = match req.headers().contains_key(header::IF_MATCH) {
        true => Some(if_match(&req)?),
        false => None,
    };
    let (request, raw): (LicenseRequest, _) = body::json(&req, payload, &["application/json"]).await?;
    let now = Utc::now();
    let today = legal_date(now);
    let reason = request.reason.clone();
    let license = request.validate(today).map_err(ApiError::validation)?;
    let idem = key.map(|k| IdempotentRequest::new(client.id, k, "POST", req.path(), &raw, stored_recording));
    let ctx = WriteContext { actor: client.name.clone(), at: now, effective_on: license.issued_on, reason };
    let written = db(&state, move |conn| {
        store::record(conn, &code, expected, license, license::eligibility, &ctx, idem.as_ref()).map_err(refused)
    })
    .await?;
    match written {
        Written::Done((entry, version)) => {
            state.cache.invalidate(&entry.enterprise_code);
            tracing::info!(license = %entry.license.number, code = %entry.enterprise_code, "licence recorded");
            Ok(recorded(&entry.license, version).answer(&RecordedLicenseView::from(entry)))
        }
        Written::Replay(stored) => Ok(replay(stored)),
    }
}

fn refused(e: LicenseWriteError) -> ApiError {
    match e {
        LicenseWriteError::Exists(number) => {
            ApiError::new(problems::LICENSE_EXISTS, format!("a licence numbered {number} is already recorded"))
                .with_errors(vec![FieldError::new("number", "license_exists", "this number is already recorded")])
        }
        LicenseWriteError::NotEligible(errors) => {
            let detail = errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ");
            ApiError::new(problems::LICENSE_REFUSED, detail).with_errors(errors)
        }
        LicenseWriteError::Unknown(number) => ApiError::not_found(format!("no licence is numbered {number}")),
        LicenseWriteError::Status(LicenseStatusRefusal::Invalid(errors)) => ApiError::validation(errors),
        LicenseWriteError::Status(LicenseStatusRefusal::Transition { from, to, allowed }) => {
            let next = match allowed.as_slice() {
                [] => format!("{} is final", from.as_str()),
                list => format!("it can become {}", list.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
            };
            let message = if from == to {
                format!("the licence is already {}; {next}", from.as_str())
            } else {
                format!("the licence is {} and cannot become {}; {next}", from.as_str(), to.as_str())
            };
            ApiError::new(problems::ILLEGAL_TRANSITION, message.clone()).with_errors(vec![FieldError::new(
                "status",
                "illegal_transition",
                message,
            )])
        }
        LicenseWriteError::Write(e) => e.into(),
    }
}

/// Change a licence's status.
///
/// The transport ministry suspends (`suspended`), reinstates (`valid`) or revokes (`revoked`) a
/// licence it recorded: valid → suspended or revoked, suspended → valid or revoked; revoked is
/// final, and so is `expired`, which a licence reads on its own once past `expires_on` (never
/// sent). A refused move, the same status again included, is 409 `illegal_transition` naming the
/// statuses allowed next. The enterprise gets a new version (its `licenses` list the change) and
/// the feed a `license_changed` event; a ceased enterprise's licences accept nothing. `If-Match`
/// (the enterprise's ETag) is optional: with it, the change is made only on that version.
#[utoipa::path(
    post, path = "/v1/licenses/{number}/status", tag = "licenses",
    params(
        ("number" = String, Path, example = "GP-VT-0100000010-2026", pattern = "^[A-Za-z0-9][A-Za-z0-9./-]{2,63}$",
            description = "3 to 64 letters, digits, '-', '.' or '/', starting with a letter or digit (case does not matter)"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^"v[1-9][0-9]{0,8}"$"#, description = "Change only on this version of the enterprise"),
    ),
    request_body = LicenseStatusRequest,
    responses(
        (status = 200, body = LicenseView, headers(("ETag" = String, description = "The enterprise's new version"))),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "illegal_transition, or the enterprise has ceased", body = ProblemBody, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_license_status(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::SET_LICENSE_STATUS.roles)?.clone();
    let number = parse_number(&path)?;
    let expected = match req.headers().contains_key(header::IF_MATCH) {
        true => Some(if_match(&req)?),
        false => None,
    };
    let (request, _): (LicenseStatusRequest, _) = body::json(&req, payload, &["application/json"]).await?;
    let now = Utc::now();
    let today = legal_date(now);
    let ctx = WriteContext {
        actor: client.name.clone(),
        at: now,
        effective_on: request.effective_on.unwrap_or(today),
        reason: request.reason.clone(),
    };
    let (recorded, enterprise) = db(&state, move |conn| {
        store::change_status(conn, &number, expected, &ctx, |l| request.validate(l, today)).map_err(refused)
    })
    .await?;
    state.cache.invalidate(&enterprise.code);
    tracing::info!(license = %recorded.license.number, status = recorded.license.status.as_str(), code = %enterprise.code, "licence status changed");
    let tag = etag(enterprise.version);
    Ok(HttpResponse::Ok().insert_header((header::ETAG, tag)).json(license_view(recorded, enterprise, today)))
}

/// The enterprise a licence belongs to, as a licensing officer needs it (no personal data).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnterpriseSummary {
    pub code: String,
    pub name: EnterpriseName,
    pub status: Status,
    /// Whether it may carry on business now.
    pub active: bool,
    pub province_code: String,
    pub province_name: String,
}

/// A licence with its enterprise.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LicenseView {
    #[serde(flatten)]
    pub license: RecordedLicenseView,
    /// Valid, and today is within its dates.
    pub in_force: bool,
    pub enterprise: EnterpriseSummary,
}

/// Look up a licence by number.
#[utoipa::path(
    get, path = "/v1/licenses/{number}", tag = "licenses",
    params(("number" = String, Path, example = "GP-VT-0100000010-2026", pattern = "^[A-Za-z0-9][A-Za-z0-9./-]{2,63}$",
        description = "3 to 64 letters, digits, '-', '.' or '/', starting with a letter or digit (case does not matter)")),
    responses(
        (status = 200, body = LicenseView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_license(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(permissions::GET_LICENSE.roles)?;
    let number = parse_number(&path)?;
    let wanted = number.clone();
    let (recorded, enterprise) = db(&state, move |conn| Ok(store::get(conn, &wanted)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no licence is numbered {number}")))?;
    Ok(HttpResponse::Ok().json(license_view(recorded, enterprise, legal_date(Utc::now()))))
}

/// A licence number in the path, in the register's form.
fn parse_number(raw: &str) -> Result<String, ApiError> {
    license::normalize_number(raw).ok_or_else(|| {
        ApiError::bad_parameter(
            "number",
            "invalid_number",
            "a licence number is 3 to 64 letters, digits, '-', '.' or '/'",
        )
    })
}

/// A licence as it reads on `today` (`expired` once past its date), with its enterprise.
fn license_view(mut recorded: RecordedLicense, enterprise: Enterprise, today: NaiveDate) -> LicenseView {
    if let Some(expired) = license::expire(&recorded.license, today) {
        recorded.license = expired;
    }
    LicenseView {
        in_force: recorded.license.in_force_on(today),
        license: recorded.into(),
        enterprise: EnterpriseSummary {
            active: enterprise.status == Status::Active,
            code: enterprise.code,
            name: enterprise.name,
            status: enterprise.status,
            province_code: enterprise.head_office.province_code,
            province_name: enterprise.head_office.province_name,
        },
    }
}
