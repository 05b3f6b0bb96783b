//! Registration changes (`PATCH /v1/enterprises/{code}`), statuses (`POST …/status`) and history
//! (`GET …/history`). Every write names the version it is based on with `If-Match`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::{ApiError, ProblemBody};
use super::http::{etag, if_match, parse_code};
use super::permissions;
use super::{body, db, AppState};
use crate::domain::change;
use crate::domain::code::EnterpriseCodeInput;
use crate::domain::effective_date;
use crate::domain::errors::Errors;
use crate::domain::legal_date;
use crate::domain::record::Enterprise;
use crate::domain::registration::{AsRegistered, RegistrationContent};
use crate::store::enterprises::{self as store, EventKind, Modified, VersionEntry, WriteContext, WriteError};

pub(super) fn changed_response(state: &AppState, modified: Modified) -> HttpResponse {
    let (record, changed) = match modified {
        Modified::Changed(r) => (r, true),
        Modified::Unchanged(r) => (r, false),
    };
    if changed {
        tracing::info!(code = %record.code, version = record.version, "changed");
        state.cache.wrote(&record);
    }
    // Portal, tax and admin write: the authority view.
    HttpResponse::Ok().insert_header((header::ETAG, etag(record.version))).json(record.authority_view())
}

/// File a registration change.
///
/// A JSON Merge Patch (RFC 7396) of the registration content (`name`, `head_office`,
/// `charter_capital_vnd`, `business_lines`, `legal_representatives`, `owners`); lists are replaced
/// whole. Two more top-level fields describe the change itself: `effective_on` (default today)
/// and `reason`. The patched record is checked by the same rules as a registration. Changes to
/// certificate items (name, head office address, representatives, capital, owners) count in
/// `registration_changes`; a patch that changes nothing writes no version.
#[utoipa::path(
    patch, path = "/v1/enterprises/{code}", tag = "enterprises",
    params(("code" = EnterpriseCodeInput, Path),
        ("If-Match" = String, Header, pattern = r#"^"v[1-9][0-9]{0,8}"$"#, description = "ETag of the version the change is based on")),
    request_body(content = RegistrationPatch, content_type = "application/merge-patch+json",
        example = json!({"head_office": {"street": "Số 5 Nguyễn Huệ", "ward_code": "26743", "province_code": "79"}, "reason": "Chuyển trụ sở"})),
    responses(
        (status = 200, body = Enterprise, headers(("ETag" = String))),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "Name conflict (art. 41) or a ceased enterprise", body = ProblemBody, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn patch_enterprise(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::CHANGE.roles)?.clone();
    let code = parse_code(&path)?;
    let expected = if_match(&req)?;
    let (body, _): (serde_json::Value, _) =
        body::json(&req, payload, &["application/merge-patch+json", "application/json"]).await?;
    let patch = change::split_patch(body).map_err(ApiError::validation)?;
    // The patch's own shape (unknown fields, wrong types) is a 400 naming the field.
    body::parse::<RegistrationContent>(patch.content.to_string().as_bytes())?;
    let now = Utc::now();
    let today = legal_date(now);
    let ctx = WriteContext {
        actor: client.name,
        at: now,
        effective_on: patch.effective_on.unwrap_or(today),
        reason: patch.reason.clone(),
    };
    let reference = state.reference.clone();
    let modified = db(&state, move |conn| {
        let effective_on = ctx.effective_on;
        Ok(store::modify(conn, &code, expected, EventKind::Changed, &ctx, |record| {
            let mut errors = Errors::default();
            effective_date::check_effective_on(&mut errors, effective_on, record.registered_on, today);
            let merged: RegistrationContent = serde_json::from_value(change::merged_content(record, &patch.content))
                .map_err(|e| {
                    WriteError::Invalid(vec![crate::domain::errors::FieldError::new("", "invalid_type", e.to_string())])
                })?;
            // What the record holds as registered (a legacy head office, VSIC 2018 lines) stays
            // valid while the patch leaves it as it is.
            match merged.validate_content_as_registered(&reference, today, AsRegistered::of(record)) {
                Ok(valid) if errors.is_empty() => Ok(change::apply_change(record, valid, now)),
                Ok(_) => Err(WriteError::Invalid(errors.0)),
                Err(mut more) => {
                    more.extend(errors.0);
                    Err(WriteError::Invalid(more))
                }
            }
        })?)
    })
    .await?;
    Ok(changed_response(&state, modified))
}

/// The body of a registration change: a JSON Merge Patch (RFC 7396) of the registration content.
/// Objects merge field by field (`null` removes an optional one); lists are replaced whole. The
/// type, the code, the status and the other fields the register keeps are not patched here.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationPatch {
    #[schema(nullable = false)]
    pub name: Option<NamePatch>,
    #[schema(nullable = false)]
    pub head_office: Option<HeadOfficePatch>,
    #[schema(nullable = false, minimum = 1)]
    pub charter_capital_vnd: Option<i64>,
    #[schema(nullable = false, min_items = 1, max_items = 500)]
    pub business_lines: Option<Vec<crate::domain::registration::BusinessLineInput>>,
    #[schema(nullable = false, min_items = 1)]
    pub legal_representatives: Option<Vec<crate::domain::people::RepresentativeInput>>,
    #[schema(nullable = false)]
    pub owners: Option<Vec<crate::domain::people::OwnerInput>>,
    /// The declared beneficial owners (SPEC §7), replaced whole; required when the owners change.
    /// `null` with `exempt` to become exempt.
    #[schema(min_items = 1)]
    pub beneficial_owners: Option<Vec<crate::domain::beneficial_owners::BeneficialOwnerInput>>,
    /// `listed` or `state_owned`: no declaration (`null` with a declaration to end an exemption).
    #[schema(value_type = Option<crate::domain::beneficial_owners::ExemptReason>)]
    pub exempt: Option<String>,
    /// The change's legal effective date: not before the registration, not in the future
    /// (default today).
    pub effective_on: Option<chrono::NaiveDate>,
    /// Why (kept in the history).
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// A patch of the name (see `NameInput`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamePatch {
    #[schema(nullable = false, min_length = 1, max_length = 400)]
    pub vi: Option<String>,
    #[schema(min_length = 1, max_length = 400)]
    pub en: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub abbreviation: Option<String>,
}

/// A patch of the head office (see `HeadOfficeInput`); an address change uses the 2025 units.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeadOfficePatch {
    #[schema(nullable = false, min_length = 1, max_length = 500)]
    pub street: Option<String>,
    #[schema(nullable = false, pattern = "^[0-9]{5}$")]
    pub ward_code: Option<String>,
    #[schema(nullable = false, pattern = "^[0-9]{2}$")]
    pub province_code: Option<String>,
    #[schema(max_length = 30)]
    pub phone: Option<String>,
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// Versions per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next` of the previous page.
    #[param(pattern = "^v[1-9][0-9]{0,8}$")]
    pub cursor: Option<String>,
}

/// One entry of an enterprise's history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = VersionEntry)]
pub struct VersionView {
    pub version: i32,
    pub kind: String,
    pub recorded_at: chrono::DateTime<Utc>,
    pub effective_on: chrono::NaiveDate,
    pub changed_fields: Vec<String>,
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<VersionEntry> for VersionView {
    fn from(entry: VersionEntry) -> Self {
        let VersionEntry { version, kind, recorded_at, effective_on, changed_fields, actor, reason } = entry;
        VersionView { version, kind, recorded_at, effective_on, changed_fields, actor, reason }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryPage {
    pub code: String,
    /// Newest first.
    pub versions: Vec<VersionView>,
    /// The cursor of the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// An enterprise's history, newest first.
#[utoipa::path(
    get, path = "/v1/enterprises/{code}/history", tag = "enterprises",
    params(("code" = EnterpriseCodeInput, Path), HistoryParams),
    responses(
        (status = 200, body = HistoryPage),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    params: web::Query<HistoryParams>,
) -> Result<HttpResponse, ApiError> {
    let code = parse_code(&path)?;
    let limit = params.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_parameter("limit", "out_of_range", "limit is 1 to 100"));
    }
    let before = match params.cursor.as_deref() {
        None => None,
        Some(c) => {
            Some(c.strip_prefix("v").and_then(|v| v.parse::<i32>().ok()).filter(|v| *v >= 1).ok_or_else(|| {
                ApiError::bad_parameter("cursor", "invalid_cursor", "use the `next` value of the previous page")
            })?)
        }
    };
    let wanted = code.clone();
    let versions = db(&state, move |conn| Ok(store::history(conn, &wanted, before, limit)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no enterprise has code {code}")))?;
    let next =
        versions.last().filter(|v| versions.len() as i64 == limit && v.version > 1).map(|v| format!("v{}", v.version));
    // The changed fields a caller's view holds (no one without the authority view learns which
    // beneficial-owner fields changed).
    let view = caller.view();
    let versions = versions
        .into_iter()
        .map(VersionView::from)
        .map(|mut v| {
            v.changed_fields.retain(|f| view.shows_change(f));
            v
        })
        .collect();
    Ok(HttpResponse::Ok().json(HistoryPage { code: code.to_string(), versions, next }))
}
