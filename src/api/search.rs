//! `GET /v1/search` and `GET /v1/suggest`, answered from this instance's search index (which
//! follows the change feed; `/readyz` reports how far behind it is).

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::error::{problems, ApiError, ProblemBody};
use super::AppState;
use crate::domain::enterprise_type::EnterpriseType;
use crate::domain::errors::FieldError;
use crate::domain::status::Status;
use registry_index::{IndexError, SearchRequest};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Words of the name in any order, with or without diacritics; or an enterprise or unit code
    /// (whole or a prefix of at least 4 digits).
    #[param(max_length = 500)]
    pub q: Option<String>,
    /// 2-digit province code of the 2025 units.
    #[param(pattern = "^[0-9]{2}$")]
    pub province: Option<String>,
    /// 5-digit ward code of the 2025 units.
    #[param(pattern = "^[0-9]{5}$")]
    pub ward: Option<String>,
    #[param(value_type = Option<Status>)]
    pub status: Option<String>,
    #[serde(rename = "type")]
    #[param(value_type = Option<EnterpriseType>)]
    pub enterprise_type: Option<String>,
    /// A VSIC code or a prefix of one.
    #[param(pattern = "^[0-9]{1,5}$")]
    pub vsic: Option<String>,
    pub registered_from: Option<NaiveDate>,
    /// Not before `registered_from`.
    pub registered_to: Option<NaiveDate>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// `next` of the previous page of the same search.
    #[param(pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    pub code: String,
    pub name: String,
    pub status: String,
    pub province: String,
    pub province_name: String,
    pub score: f32,
    /// Why it matched: the fields and the query words (a trailing `~` marks a match with a typo).
    pub matched: Matched,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Matched {
    pub fields: Vec<String>,
    /// The query's words that matched; one that matched only with a typo ends with `~`.
    pub words: Vec<String>,
    /// The step of the search that found the hit: `exact` (every word as typed, diacritics
    /// included), `folded` (as typed without diacritics, or read as Telex or VNI, or syllables
    /// run together), `typo`, or `partial` (one word left out). A search relaxes to typos only
    /// when nothing matches as typed, and leaves a word out only when typos find nothing either.
    #[schema(value_type = String, example = "folded")]
    pub step: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchAnswer {
    pub hits: Vec<SearchHit>,
    /// Matching enterprises in all pages.
    pub total: u64,
    /// The cursor of the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

fn index_error(e: IndexError) -> ApiError {
    match e {
        IndexError::InvalidCursor(_) => ApiError::bad_parameter(
            "cursor",
            "invalid_cursor",
            "use the `next` value of the previous page of the same search",
        ),
        IndexError::InvalidRequest(m) => ApiError::new(problems::INVALID_PARAMETER, m),
        other => {
            tracing::error!(error = %other, "search index failure");
            ApiError::internal()
        }
    }
}

/// Search the register.
///
/// Words in any order, with or without diacritics (NFC or NFD), one typo allowed in words of five
/// letters or more; codes and code prefixes find their enterprise first. Filters combine with the
/// text; without text, the matching enterprises are listed by code. Public: hits carry no
/// personal data.
#[utoipa::path(
    get, path = "/v1/search", tag = "search", params(SearchParams),
    responses((status = 200, body = SearchAnswer), (status = 400, body = ProblemBody, content_type = "application/problem+json"))
)]
pub async fn search(state: web::Data<AppState>, params: web::Query<SearchParams>) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    let mut errors = Vec::new();
    let limit = p.limit.unwrap_or(20);
    if !(1..=registry_index::MAX_LIMIT).contains(&limit) {
        errors.push(FieldError::new("limit", "out_of_range", "limit is 1 to 100"));
    }
    if let Some(s) = p.status.as_deref().filter(|s| Status::parse(s).is_none()) {
        errors.push(FieldError::new("status", "unknown_status", format!("{s:?} is not a status")));
    }
    if let Some(t) = p.enterprise_type.as_deref().filter(|t| EnterpriseType::parse(t).is_none()) {
        errors.push(FieldError::new("type", "unknown_type", format!("{t:?} is not a type")));
    }
    if let Some(pr) = p.province.as_deref().filter(|pr| state.reference.province(pr).is_none()) {
        errors.push(FieldError::new(
            "province",
            "unknown_province",
            format!("{pr:?} is not a province of the 2025 units"),
        ));
    }
    if let Some(w) = p.ward.as_deref().filter(|w| state.reference.ward(w).is_none()) {
        errors.push(FieldError::new("ward", "unknown_ward", format!("{w:?} is not a ward of the 2025 units")));
    }
    if let Some(v) = p.vsic.as_deref().filter(|v| v.is_empty() || v.len() > 5 || !v.bytes().all(|b| b.is_ascii_digit()))
    {
        errors.push(FieldError::new(
            "vsic",
            "invalid_format",
            format!("{v:?} is not a VSIC code or prefix (1 to 5 digits)"),
        ));
    }
    if let (Some(from), Some(to)) = (p.registered_from, p.registered_to) {
        if from > to {
            errors.push(FieldError::new(
                "registered_from",
                "after_registered_to",
                "registered_from is after registered_to",
            ));
        }
    }
    let q = p.q.unwrap_or_default();
    if q.chars().count() > 500 {
        errors.push(FieldError::new("q", "too_long", "at most 500 characters"));
    }
    if !errors.is_empty() {
        return Err(ApiError::new(problems::INVALID_PARAMETER, "the search cannot be run as given").with_errors(errors));
    }
    let request = SearchRequest {
        q,
        province: p.province,
        ward: p.ward,
        status: p.status,
        enterprise_type: p.enterprise_type,
        vsic: p.vsic,
        registered_from: p.registered_from,
        registered_to: p.registered_to,
        limit,
        cursor: p.cursor,
    };
    let index = state.search.index();
    let page = web::block(move || index.search(&request)).await?.map_err(index_error)?;
    let hits = page
        .hits
        .into_iter()
        .map(|h| SearchHit {
            province_name: state.reference.province(&h.province_code).map(|p| p.name.clone()).unwrap_or_default(),
            code: h.code,
            name: h.name,
            status: h.status,
            province: h.province_code,
            score: h.score,
            matched: Matched { fields: h.matched_fields, words: h.matched_terms, step: h.step.as_str() },
        })
        .collect();
    Ok(HttpResponse::Ok().json(SearchAnswer { hits, total: page.total, next: page.next_cursor }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SuggestParams {
    /// What has been typed so far: the last word is completed, earlier words match whole.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// 1 to 10 (default 10).
    #[param(minimum = 1, maximum = 10)]
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SuggestAnswer {
    pub suggestions: Vec<Suggestion>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub code: String,
    pub name: String,
}

/// Complete a name as it is typed.
#[utoipa::path(
    get, path = "/v1/suggest", tag = "search", params(SuggestParams),
    responses((status = 200, body = SuggestAnswer), (status = 400, body = ProblemBody, content_type = "application/problem+json"))
)]
pub async fn suggest(state: web::Data<AppState>, params: web::Query<SuggestParams>) -> Result<HttpResponse, ApiError> {
    let limit = params.limit.unwrap_or(registry_index::MAX_SUGGESTIONS);
    if !(1..=registry_index::MAX_SUGGESTIONS).contains(&limit) {
        return Err(ApiError::bad_parameter("limit", "out_of_range", "limit is 1 to 10"));
    }
    let q = params.q.clone().unwrap_or_default();
    if q.chars().count() > 200 {
        return Err(ApiError::bad_parameter("q", "too_long", "at most 200 characters"));
    }
    let index = state.search.index();
    let found = web::block(move || index.suggest(&q, limit)).await?.map_err(index_error)?;
    let suggestions = found.into_iter().map(|s| Suggestion { code: s.code, name: s.name }).collect();
    Ok(HttpResponse::Ok().json(SuggestAnswer { suggestions }))
}
