//! `GET /v1/name-check`: whether a name may be registered (art. 41), before filing.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::{problems, ApiError, ProblemBody};
use super::{db, AppState};
use crate::domain::enterprise_type::{self, EnterpriseType};
use crate::domain::errors::FieldError;
use crate::domain::name_check::{Conflict, NameCandidate};
use crate::domain::text;
use crate::store::enterprises as store;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NameCheckParams {
    /// The full Vietnamese name, with the type's prefix (at most 400 characters).
    #[param(
        required = true,
        nullable = false,
        pattern = r"\S",
        max_length = 400,
        example = "Công ty TNHH Vận tải Hoàng Long Phát"
    )]
    pub name: Option<String>,
    /// The enterprise type (`llc_single`, `llc_multi`, `jsc`, `partnership`, `private_enterprise`).
    #[serde(rename = "type")]
    #[param(required = true, value_type = EnterpriseType, example = "llc_multi")]
    pub enterprise_type: Option<String>,
    #[param(max_length = 400)]
    pub abbreviation: Option<String>,
    #[param(max_length = 400)]
    pub foreign_name: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NameCheckAnswer {
    /// The name as the register would store it.
    pub name: String,
    pub proper_name: String,
    /// Whether no registered enterprise blocks the name.
    pub available: bool,
    pub conflicts: Vec<Conflict>,
}

/// Check a name against the register (Law on Enterprises art. 41).
///
/// Answers the conflicts with their grounds (`identical`, or the letter of art. 41.2) and the
/// conflicting enterprises, or none. Ceased enterprises do not block names.
#[utoipa::path(
    get, path = "/v1/name-check", tag = "enterprises", params(NameCheckParams),
    responses((status = 200, body = NameCheckAnswer), (status = 400, body = ProblemBody, content_type = "application/problem+json"))
)]
pub async fn name_check(
    state: web::Data<AppState>,
    params: web::Query<NameCheckParams>,
) -> Result<HttpResponse, ApiError> {
    let Checked { name, proper_name, abbreviation, foreign_name } = checked(params.into_inner())?;
    let (n, p) = (name.clone(), proper_name.clone());
    let conflicts = db(&state, move |conn| {
        let candidate = NameCandidate {
            full_name: &n,
            proper_name: &p,
            abbreviation: abbreviation.as_deref(),
            foreign_name: foreign_name.as_deref(),
            owner_codes: &[],
        };
        Ok(store::check_name(conn, &candidate, None, false)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(NameCheckAnswer { name, proper_name, available: conflicts.is_empty(), conflicts }))
}

/// The name to check, normalised, with its proper name.
struct Checked {
    name: String,
    proper_name: String,
    abbreviation: Option<String>,
    foreign_name: Option<String>,
}

/// The parameters normalised and checked: 400 naming every one that is missing or cannot be
/// checked.
fn checked(params: NameCheckParams) -> Result<Checked, ApiError> {
    let mut errors = Vec::new();
    let name = params.name.as_deref().map(text::normalize).filter(|n| !n.is_empty());
    if name.is_none() {
        errors.push(FieldError::new("name", "required", "the name to check"));
    }
    let kind = match params.enterprise_type.as_deref() {
        None => {
            errors.push(FieldError::new("type", "required", "the type decides where the proper name starts"));
            None
        }
        Some(t) => EnterpriseType::parse(t.trim()).or_else(|| {
            errors.push(FieldError::new(
                "type",
                "unknown_type",
                "llc_single, llc_multi, jsc, partnership or private_enterprise",
            ));
            None
        }),
    };
    let mut proper = None;
    if let (Some(name), Some(kind)) = (&name, kind) {
        if name.chars().count() > 400 {
            errors.push(FieldError::new("name", "too_long", "at most 400 characters"));
        } else {
            match enterprise_type::proper_name(kind, name) {
                Ok(p) => proper = Some(p),
                Err(_) => errors.push(FieldError::new(
                    "name",
                    "name_prefix",
                    format!("the name of a {} starts with {}", kind.as_str(), kind.prefixes_described()),
                )),
            }
        }
    }
    let abbreviation = params.abbreviation.as_deref().map(text::normalize).filter(|a| !a.is_empty());
    let foreign_name = params.foreign_name.as_deref().map(text::normalize).filter(|a| !a.is_empty());
    for (field, value) in [("abbreviation", &abbreviation), ("foreign_name", &foreign_name)] {
        if value.as_ref().is_some_and(|v| v.chars().count() > 400) {
            errors.push(FieldError::new(field, "too_long", "at most 400 characters"));
        }
    }
    // PostgreSQL cannot compare text holding U+0000 (the look-up would fail with a 500).
    for (field, value) in [("name", &name), ("abbreviation", &abbreviation), ("foreign_name", &foreign_name)] {
        if let Some(c) = value.as_deref().and_then(text::find_control) {
            errors.push(FieldError::new(
                field,
                "invalid_characters",
                format!("control characters such as {c:?} are not allowed"),
            ));
        }
    }
    match (name, proper) {
        (Some(name), Some(proper_name)) if errors.is_empty() => {
            Ok(Checked { name, proper_name, abbreviation, foreign_name })
        }
        _ => Err(ApiError::new(problems::INVALID_PARAMETER, "the name cannot be checked as given").with_errors(errors)),
    }
}
