//! `POST /v1/enterprises` and `GET /v1/enterprises/{code}`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;

use super::auth::Caller;
use super::error::{problems, ApiError, ProblemBody};
use super::http::{etag, idempotency_key, if_none_match, parse_code, replay, Created};
use super::permissions;
use super::{body, db, AppState};
use crate::api::access_log::Action;
use crate::domain::code::EnterpriseCodeInput;
use crate::domain::legal_date;
use crate::domain::record::{Enterprise, View};
use crate::domain::registration::RegistrationContent;
use crate::indexer::cache::Cached;
use crate::store::enterprises::{self as store, AsOf, WriteContext, Written};
use crate::store::idempotency::{self, IdempotentRequest, StoredResponse};

/// A registered enterprise, as its `201 Created` answer names it.
fn registered(record: &Enterprise) -> Created {
    Created { location: format!("/v1/enterprises/{}", record.code), version: record.version }
}

/// The answer kept for the `Idempotency-Key` of a registration.
fn stored_registration(record: &Enterprise) -> StoredResponse {
    registered(record).stored(record)
}

/// Register an enterprise.
///
/// The registry allocates the code from the head office's province. With `Idempotency-Key`, a
/// retry of the same request returns the first answer and registers nothing more.
#[utoipa::path(
    post, path = "/v1/enterprises", tag = "enterprises",
    request_body(content = RegistrationContent, description = "SPEC Appendix A"),
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[!-~]{1,255}$",
        description = "Makes retries safe: 1 to 255 visible ASCII characters")),
    responses(
        (status = 201, description = "Registered", body = Enterprise,
            headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed body or unknown field", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Breaks the register's rules; every failing field is listed", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn register(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::REGISTER.roles)?.clone();
    let key = idempotency_key(&req)?;
    let (content, raw): (RegistrationContent, _) = body::json(&req, payload, &["application/json"]).await?;
    let idem = key.map(|k| IdempotentRequest::new(client.id, k, "POST", req.path(), &raw, stored_registration));
    let now = Utc::now();
    let today = legal_date(now);
    let reference = state.reference.clone();
    let ctx = WriteContext { actor: client.name.clone(), at: now, effective_on: today, reason: None };
    let written = db(&state, move |conn| {
        // A replay must not be judged again: look the key up before validating.
        let valid = content.validate_content(&reference, today);
        match valid {
            Ok(valid) => Ok(store::register(conn, valid, &ctx, idem.as_ref())?),
            Err(errors) => match idem
                .as_ref()
                .map(|i| idempotency::lookup(conn, i))
                .transpose()
                .map_err(crate::store::StoreError::from)?
            {
                Some(Some(stored)) => Ok(Written::Replay(stored)),
                _ => Err(ApiError::validation(errors)),
            },
        }
    })
    .await?;
    match written {
        Written::Done(record) => {
            tracing::info!(code = %record.code, "registered");
            state.cache.wrote(&record);
            Ok(registered(&record).answer(&record.clone().authority_view()))
        }
        Written::Replay(stored) => Ok(replay(stored)),
    }
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct GetParams {
    /// A date (`2026-01-31`: the version in force at the end of that day, by effective date) or
    /// an RFC 3339 timestamp (`2026-01-31T08:00:00Z`: the version as recorded at that moment).
    #[param(schema_with = date_or_timestamp)]
    pub as_of: Option<String>,
}

/// The schema of `as_of`: a date or an RFC 3339 timestamp ([`parse_as_of`]).
fn date_or_timestamp() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    let string =
        |format| ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(format)));
    OneOfBuilder::new().item(string(KnownFormat::Date)).item(string(KnownFormat::DateTime)).build().into()
}

/// Parses `as_of`: a date or an RFC 3339 timestamp.
pub fn parse_as_of(value: &str) -> Result<AsOf, ApiError> {
    if let Ok(d) = value.parse::<chrono::NaiveDate>() {
        return Ok(AsOf::Date(d));
    }
    chrono::DateTime::parse_from_rfc3339(value).map(|t| AsOf::Time(t.with_timezone(&Utc))).map_err(|_| {
        ApiError::bad_parameter("as_of", "invalid_as_of", "as_of is a date (YYYY-MM-DD) or an RFC 3339 timestamp")
    })
}

/// Look up an enterprise.
///
/// Any accepted form of the code (`0100 233 488`, `01.00.233.488`). Without a key, the public
/// view (no identity documents, birth dates or owners); with a key, the full record.
#[utoipa::path(
    get, path = "/v1/enterprises/{code}", tag = "enterprises",
    params(("code" = EnterpriseCodeInput, Path, description = "Enterprise code in any accepted form"), GetParams),
    responses(
        (status = 200, body = Enterprise, headers(("ETag" = String))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "Malformed code", body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "No such enterprise, or not yet registered at `as_of` (not_yet_registered)", body = ProblemBody, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
pub async fn get_enterprise(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<GetParams>,
) -> Result<HttpResponse, ApiError> {
    let code = parse_code(&path)?;
    let wanted = code.clone();
    if let Some(raw) = params.as_of.as_deref() {
        let at = parse_as_of(raw)?;
        let record = db(&state, move |conn| Ok(store::as_of(conn, &wanted, at)?))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no enterprise has code {code}")))?
            .ok_or_else(|| {
                ApiError::new(
                    problems::NOT_YET_REGISTERED,
                    format!("enterprise {code} was not yet registered at {raw}"),
                )
            })?;
        log_full_view(&state, &caller, &req, &record.code, Some(format!("as_of={raw}")));
        return Ok(conditional_record(&req, record, caller.view()));
    }
    if let Some(cached) = state.cache.get_fresh(code.as_str()).or_else(|| from_index(&state, code.as_str(), false)) {
        log_full_view(&state, &caller, &req, code.as_str(), None);
        return Ok(cached_record(&req, &cached, caller.view(), false));
    }
    let record = match db(&state, move |conn| Ok(store::get(conn, &wanted)?)).await {
        Ok(record) => record.ok_or_else(|| ApiError::not_found(format!("no enterprise has code {code}")))?,
        // The database is away: answer from the cache or the index when they hold the record,
        // marked stale.
        Err(e) if e.problem == problems::UNAVAILABLE => {
            let cached =
                state.cache.get_stale(code.as_str()).or_else(|| from_index(&state, code.as_str(), true)).ok_or(e)?;
            log_full_view(&state, &caller, &req, code.as_str(), Some("served stale: the database is away".into()));
            return Ok(cached_record(&req, &cached, caller.view(), true));
        }
        Err(e) => return Err(e),
    };
    log_full_view(&state, &caller, &req, &record.code, None);
    // Serialised once in both views: the answer and the cache share the bytes.
    let cached = std::sync::Arc::new(Cached::of(&record));
    state.cache.put_cached(&record.code, cached.clone());
    Ok(cached_record(&req, &cached, caller.view(), false))
}

/// The record the search index stores for `code`, when this instance may answer with it: while
/// its follower keeps up with the feed (`stale`: however far behind, for when the database is
/// away), and never older than a version this instance has just written (`RecordCache::floor`).
/// What it answers goes into the cache, which serves a record asked again faster still.
pub(super) fn from_index(state: &AppState, code: &str, stale: bool) -> Option<std::sync::Arc<Cached>> {
    let cache = &state.cache;
    if !(cache.is_fresh() || stale && cache.is_followed()) {
        return None;
    }
    let stored = match state.search.index().record(code) {
        Ok(stored) => stored?,
        Err(e) => {
            tracing::warn!(error = %e, code, "the search index could not read a stored record");
            return None;
        }
    };
    let cached = Cached::from_views(stored);
    if cache.floor(code).is_some_and(|floor| cached.version < floor) {
        return None;
    }
    let cached = std::sync::Arc::new(cached);
    cache.put_cached(code, cached.clone());
    cache.index_served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Some(cached)
}

/// Logs a read of an enterprise's personal data (any caller with a key sees the full view).
fn log_full_view(state: &AppState, caller: &Caller, req: &HttpRequest, code: &str, detail: Option<String>) {
    if let Some(client) = &caller.0 {
        let action = if caller.view().has_beneficial_owners() { Action::AuthorityView } else { Action::Enterprise };
        state.access.record(client, action, Some(code), detail, super::request_id(req));
    }
}

/// A record with its ETag, or 304 when `If-None-Match` names it.
fn conditional_record(req: &HttpRequest, record: Enterprise, view: View) -> HttpResponse {
    let tag = etag(record.version);
    if if_none_match(req, &tag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::VARY, "Authorization"))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .insert_header((header::VARY, "Authorization"))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .json(record.view(view))
}

/// A cached record with its ETag, or 304; `stale` when the database could not be asked (the
/// answer then says so in `Warning`, RFC 9111's "response is stale").
fn cached_record(req: &HttpRequest, cached: &Cached, view: View, stale: bool) -> HttpResponse {
    let tag = etag(cached.version);
    let not_modified = if_none_match(req, &tag);
    let mut res = if not_modified { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::ETAG, tag)).insert_header((header::VARY, "Authorization"));
    if stale {
        res.insert_header((header::WARNING, "110 - \"Response is Stale\""));
    }
    if not_modified {
        return res.finish();
    }
    res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .content_type("application/json")
        .body(cached.body(view))
}
