//! Reference data: `GET /v1/reference/provinces`, `…/provinces/{code}/wards`, `/v1/reference/vsic`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::error::{ApiError, ProblemBody};
use super::AppState;
use crate::domain::reference::{Province, VsicEdition, VsicEntry, Ward};

/// The 34 provinces of the 2025 units.
#[utoipa::path(get, path = "/v1/reference/provinces", tag = "reference", responses((status = 200, body = Vec<Province>)))]
pub async fn provinces(state: web::Data<AppState>) -> HttpResponse {
    let list: Vec<&Province> = state.reference.provinces().collect();
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=3600")).json(list)
}

/// The wards (communes) of one province.
#[utoipa::path(
    get, path = "/v1/reference/provinces/{code}/wards", tag = "reference",
    params(("code" = String, Path, example = "01", pattern = "^[0-9]{2}$")),
    responses((status = 200, body = Vec<Ward>), (status = 404, body = ProblemBody, content_type = "application/problem+json"))
)]
pub async fn wards(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let list: Vec<&Ward> = state
        .reference
        .wards_of(&path)
        .ok_or_else(|| ApiError::not_found(format!("{:?} is not a province of the 2025 units", path.as_str())))?
        .collect();
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=3600")).json(list))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VsicParams {
    /// `2025` (default) or `2018`.
    #[param(value_type = Option<VsicEdition>)]
    pub edition: Option<String>,
    /// Only this level (1–5); level 4 is what business lines use.
    #[param(minimum = 1, maximum = 5)]
    pub level: Option<u8>,
}

/// The VSIC classification.
#[utoipa::path(
    get, path = "/v1/reference/vsic", tag = "reference", params(VsicParams),
    responses((status = 200, body = Vec<VsicEntry>), (status = 400, body = ProblemBody, content_type = "application/problem+json"))
)]
pub async fn vsic(state: web::Data<AppState>, params: web::Query<VsicParams>) -> Result<HttpResponse, ApiError> {
    let edition = match params.edition.as_deref() {
        None => VsicEdition::Vsic2025,
        Some(e) => VsicEdition::parse(e)
            .ok_or_else(|| ApiError::bad_parameter("edition", "unknown_edition", "the edition is 2018 or 2025"))?,
    };
    if let Some(level) = params.level {
        if !(1..=5).contains(&level) {
            return Err(ApiError::bad_parameter("level", "out_of_range", "VSIC levels are 1 to 5"));
        }
    }
    let list: Vec<&VsicEntry> =
        state.reference.vsic_entries(edition).filter(|e| params.level.is_none_or(|l| e.level == l)).collect();
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=3600")).json(list))
}
