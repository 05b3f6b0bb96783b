//! One error vocabulary for the whole API. Every problem the service can answer is declared once
//! in [`problems`] (HTTP status, stable `type` code, title); clients match on the code, never on
//! the message. Bodies are RFC 9457 `application/problem+json`.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use super::http::etag;
use crate::domain::errors::FieldError;
use crate::domain::name_check::{Conflict, NameRule};
use crate::store::enterprises::{OwnerRefusal, WriteConflict, WriteError};
use crate::store::StoreError;

/// A kind of problem: its status, stable code and title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Problem {
    pub status: u16,
    pub code: &'static str,
    pub title: &'static str,
}

macro_rules! problems {
    ($($name:ident = $status:literal, $code:literal, $title:literal;)*) => {
        /// Every problem the API answers with.
        pub mod problems {
            use super::Problem;
            $(pub const $name: Problem = Problem { status: $status, code: $code, title: $title };)*
            pub const ALL: &[Problem] = &[$($name),*];
        }
    };
}

problems! {
    MALFORMED_BODY = 400, "malformed_body", "The request body is not JSON of the expected shape";
    UNKNOWN_FIELD = 400, "unknown_field", "The request body has a field this API does not know";
    INVALID_CODE = 400, "invalid_code", "The enterprise or unit code is malformed";
    INVALID_PARAMETER = 400, "invalid_parameter", "A query parameter or header is invalid";
    INVALID_CURSOR = 400, "invalid_cursor", "The feed cursor is not one this feed handed out, or is beyond its head";
    UNAUTHORIZED = 401, "unauthorized", "A valid API key is required";
    FORBIDDEN = 403, "forbidden", "The client's role does not allow this request";
    NOT_FOUND = 404, "not_found", "Not found";
    NOT_YET_REGISTERED = 404, "not_yet_registered", "The enterprise was not registered at that time";
    METHOD_NOT_ALLOWED = 405, "method_not_allowed", "The method is not allowed on this resource";
    NAME_IDENTICAL = 409, "name_identical", "The name is identical to a registered enterprise's name (art. 41.1)";
    NAME_CONFUSING = 409, "name_confusing", "The name is confusingly similar to a registered enterprise's name (art. 41.2)";
    ILLEGAL_TRANSITION = 409, "illegal_transition", "The status table does not allow this transition";
    ENTERPRISE_CEASED = 409, "enterprise_ceased", "The enterprise has ceased and accepts no change";
    ENTERPRISE_NOT_ACTIVE = 409, "enterprise_not_active", "The enterprise's status does not allow this";
    UNIT_CEASED = 409, "unit_ceased", "The unit has ceased and accepts no change";
    UNITS_NOT_CEASED = 409, "units_not_ceased", "The enterprise's units must cease first";
    SCHEDULED_CHANGE_PENDING = 409, "scheduled_change_pending", "A status change is filed for a later day; withdraw it first";
    SCHEDULED_CHANGE_DUE = 409, "scheduled_change_due", "The scheduled change's day has come; it can no longer be withdrawn";
    NOTICE_TOO_SHORT = 422, "notice_too_short", "A suspension is notified at least 3 working days before it starts";
    STATUS_REPLACED = 422, "status_replaced", "This status is no longer one of the register's (Decree 168/2025)";
    BENEFICIAL_OWNER_MISSING = 422, "beneficial_owner_missing", "An individual holding 25 % or more of the charter capital directly is not declared as a beneficial owner";
    UNIT_LIMIT = 409, "unit_limit", "The enterprise has used every unit code";
    CODES_EXHAUSTED = 409, "codes_exhausted", "No enterprise code is left for this prefix";
    VERSION_MISMATCH = 412, "version_mismatch", "The record changed since the version this request was based on";
    PAYLOAD_TOO_LARGE = 413, "payload_too_large", "The request body is larger than 1 MiB";
    UNSUPPORTED_MEDIA_TYPE = 415, "unsupported_media_type", "The request body must be JSON";
    VALIDATION_FAILED = 422, "validation_failed", "The request breaks the register's rules";
    IDEMPOTENCY_KEY_REUSED = 422, "idempotency_key_reused", "The Idempotency-Key was already used with another request";
    UNKNOWN_ENTERPRISE = 422, "unknown_enterprise", "An owner's enterprise code is not in the register";
    PRIVATE_ENTERPRISE_OWNER = 422, "private_enterprise_owner", "A private enterprise may not own an enterprise (art. 188.4)";
    OWNER_HAS_PRIVATE_ENTERPRISE = 409, "owner_has_private_enterprise", "The owner already owns a private enterprise that has not ceased (art. 188.3)";
    LICENSE_EXISTS = 409, "license_exists", "A licence with this number is already recorded";
    LICENSE_REFUSED = 422, "license_refused", "The enterprise may not hold this licence";
    PRECONDITION_REQUIRED = 428, "precondition_required", "This write needs If-Match with the record's ETag";
    RATE_LIMITED = 429, "rate_limited", "Too many requests; retry after the time given";
    UNAVAILABLE = 503, "unavailable", "The database is unavailable; try again shortly";
    INTERNAL = 500, "internal", "Internal error";
}

/// The problem body (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemBody {
    /// Stable code: match on it.
    #[serde(rename = "type")]
    pub problem_type: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Every field that failed, with its JSON path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For `name_identical` and `name_confusing`: the registered enterprises in conflict.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
}

#[derive(Debug)]
pub struct ApiError {
    pub problem: Problem,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u32>,
    pub conflicts: Vec<Conflict>,
}

impl ApiError {
    pub fn new(problem: Problem, detail: impl Into<String>) -> Self {
        ApiError { problem, detail: detail.into(), errors: Vec::new(), retry_after: None, conflicts: Vec::new() }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// A 422 listing every failing field. When they all fail for one reason that has a problem of
    /// its own (`notice_too_short`, `unknown_enterprise`, …), that problem answers: clients match
    /// its type, and the fields are listed as always.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => format!("{}: {}", errors[0].field, errors[0].message),
            n => format!("{n} fields break the register's rules"),
        };
        let named = errors.first().map(|e| e.code.as_ref()).filter(|code| errors.iter().all(|e| e.code == *code));
        let problem = named
            .and_then(|code| problems::ALL.iter().find(|p| p.status == 422 && p.code == code))
            .copied()
            .unwrap_or(problems::VALIDATION_FAILED);
        ApiError::new(problem, detail).with_errors(errors)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(problems::NOT_FOUND, detail)
    }

    pub fn bad_parameter(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::new(problems::INVALID_PARAMETER, format!("{field}: {message}"))
            .with_errors(vec![FieldError::new(field, code, message)])
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut e = ApiError::new(problems::UNAVAILABLE, detail);
        e.retry_after = Some(2);
        e
    }

    pub fn internal() -> Self {
        ApiError::new(problems::INTERNAL, "the service failed to answer; the failure is logged")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.problem.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let body = ProblemBody {
            problem_type: self.problem.code,
            title: self.problem.title,
            status: self.problem.status,
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            conflicts: self.conflicts.clone(),
        };
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.body(serde_json::to_string(&body).unwrap_or_default())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("not found"),
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::unavailable("the database is unavailable; try again shortly")
            }
            // Two transactions waited for each other (a write and the ownership worker over a
            // cycle of cross-holdings): PostgreSQL ended this one, which wrote nothing.
            e if e.is_transient() => {
                tracing::warn!(error = %e, "a transaction was ended by PostgreSQL; the client may retry");
                ApiError::unavailable("the write met a concurrent one and was not made; try again")
            }
            e => {
                tracing::error!(error = %e, "database error");
                ApiError::internal()
            }
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::NotFound => ApiError::not_found("no enterprise has this code"),
            WriteError::Invalid(errors) => ApiError::validation(errors),
            WriteError::Conflict(conflict) => ApiError::new(conflict_problem(conflict), conflict.to_string()),
            WriteError::IdempotencyMismatch => ApiError::new(
                problems::IDEMPOTENCY_KEY_REUSED,
                "this Idempotency-Key was used with a different request; use a new key for a new request",
            ),
            WriteError::CodesExhausted(prefix) => {
                ApiError::new(problems::CODES_EXHAUSTED, format!("every code of prefix {prefix} has been allocated"))
            }
            WriteError::VersionMismatch { current } => ApiError::new(
                problems::VERSION_MISMATCH,
                format!("the enterprise is now at version {current} (ETag {}); read it again and retry", etag(current)),
            ),
            WriteError::NameConflict(conflicts) => name_conflict(conflicts),
            WriteError::OwnersRefused(refusals) => owners_refused(&refusals, owner_field),
            WriteError::IllegalTransition(detail) => ApiError::new(problems::ILLEGAL_TRANSITION, detail),
            WriteError::Forbidden(detail) => ApiError::new(problems::FORBIDDEN, detail),
            WriteError::UnitsNotCeased(units) => {
                let errors = units
                    .iter()
                    .map(|u| FieldError::new("units", "unit_not_ceased", format!("unit {u} has not ceased")))
                    .collect();
                ApiError::new(
                    problems::UNITS_NOT_CEASED,
                    format!("the enterprise ceases once its units have: {} have not", units.join(", ")),
                )
                .with_errors(errors)
            }
            e @ WriteError::ScheduledChangePending(_) => {
                ApiError::new(problems::SCHEDULED_CHANGE_PENDING, e.to_string())
            }
            e @ WriteError::ScheduledChangeDue(_) => ApiError::new(problems::SCHEDULED_CHANGE_DUE, e.to_string()),
            e @ WriteError::NoScheduledChange(_) => ApiError::not_found(e.to_string()),
            WriteError::Store(e) => e.into(),
        }
    }
}

/// The problem that answers a write the enterprise as it is refuses.
fn conflict_problem(conflict: WriteConflict) -> Problem {
    match conflict {
        WriteConflict::EnterpriseCeased => problems::ENTERPRISE_CEASED,
        WriteConflict::UnitCeased => problems::UNIT_CEASED,
        WriteConflict::EnterpriseNotActive(_) => problems::ENTERPRISE_NOT_ACTIVE,
        WriteConflict::LocationCodesExhausted | WriteConflict::DependentCodesExhausted => problems::UNIT_LIMIT,
    }
}

/// Where an owner refusal points in a request body's `owners`.
fn owner_field(refusal: &OwnerRefusal) -> String {
    match refusal {
        OwnerRefusal::UnknownEnterprise { owner, .. } | OwnerRefusal::PrivateEnterpriseOwner { owner, .. } => {
            format!("owners[{owner}].enterprise_code")
        }
        OwnerRefusal::OwnerHasPrivateEnterprise { owner, .. } => format!("owners[{owner}].identity.number"),
    }
}

/// The problem of one owner refusal, and what it says.
fn owner_problem(refusal: &OwnerRefusal) -> (Problem, String) {
    match refusal {
        OwnerRefusal::UnknownEnterprise { code, .. } => {
            (problems::UNKNOWN_ENTERPRISE, format!("no enterprise with code {code} is in the register"))
        }
        OwnerRefusal::PrivateEnterpriseOwner { code, .. } => (
            problems::PRIVATE_ENTERPRISE_OWNER,
            format!("{code} is a private enterprise, which may not own an enterprise (art. 188.4)"),
        ),
        OwnerRefusal::OwnerHasPrivateEnterprise { other, .. } => (
            problems::OWNER_HAS_PRIVATE_ENTERPRISE,
            format!("the owner already owns private enterprise {other}, which has not ceased (art. 188.3)"),
        ),
    }
}

/// Owners the register refuses, each named at `field(refusal)`: the problem they share, or
/// `validation_failed` when they differ.
pub fn owners_refused(refusals: &[OwnerRefusal], field: impl Fn(&OwnerRefusal) -> String) -> ApiError {
    let described: Vec<(Problem, FieldError)> = refusals
        .iter()
        .map(|r| {
            let (problem, message) = owner_problem(r);
            (problem, FieldError::new(field(r), problem.code, message))
        })
        .collect();
    let problem = match described.first() {
        Some((first, _)) if described.iter().all(|(p, _)| p == first) => *first,
        _ => problems::VALIDATION_FAILED,
    };
    let detail = match described.as_slice() {
        [(_, only)] => format!("{}: {}", only.field, only.message),
        more => format!("{} owners are refused", more.len()),
    };
    ApiError::new(problem, detail).with_errors(described.into_iter().map(|(_, e)| e).collect())
}

/// A 409 naming the registered enterprises whose names conflict (art. 41).
pub fn name_conflict(conflicts: Vec<Conflict>) -> ApiError {
    let identical = conflicts.iter().any(|c| c.rules.iter().any(|r| r.rule == NameRule::Identical));
    let problem = if identical { problems::NAME_IDENTICAL } else { problems::NAME_CONFUSING };
    let first = &conflicts[0];
    let detail = format!(
        "the name conflicts with {} ({}){}: {}",
        first.name,
        first.code,
        if conflicts.len() > 1 { format!(" and {} more", conflicts.len() - 1) } else { String::new() },
        first.rules.iter().map(|r| r.description).collect::<Vec<_>>().join("; ")
    );
    let mut e = ApiError::new(problem, detail).with_errors(vec![FieldError::new(
        "name.vi",
        problem.code,
        "the name is not available",
    )]);
    e.conflicts = conflicts;
    e
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        tracing::error!("a blocking task was cancelled");
        ApiError::internal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique() {
        let mut codes: Vec<_> = problems::ALL.iter().map(|p| p.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), problems::ALL.len());
    }
}
