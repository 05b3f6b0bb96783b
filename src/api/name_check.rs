//! `GET /v1/name-check`: whether a name may be registered (art. 41), before filing.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::{owners_refused, problems, ApiError, ProblemBody};
use super::{db, AppState};
use crate::domain::code::EnterpriseCode;
use crate::domain::enterprise_type::{self, EnterpriseType};
use crate::domain::errors::FieldError;
use crate::domain::name_check::{self, Conflict, NameCandidate};
use crate::domain::text;
use crate::store::enterprises as store;
use crate::store::enterprises::OwnerRefusal;

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
    /// The applicant's owners that are enterprises in the register, for the subsidiary exception
    /// (art. 41.2, last paragraph): comma-separated `ENTERPRISE_CODE:CAPITAL_VND` pairs, the
    /// capital each contributes. An owner holding more than half of `charter_capital_vnd` is the
    /// applicant's parent, and (d)–(h) do not apply to its name. A code not in the register is
    /// refused (422 `unknown_enterprise`), as is a private enterprise (422
    /// `private_enterprise_owner`).
    #[param(
        nullable = false,
        pattern = r"^[0-9]{10}:[1-9][0-9]{0,17}(,[0-9]{10}:[1-9][0-9]{0,17})*$",
        example = "0101234567:3000000000,0100233488:2000000000"
    )]
    pub owners: Option<String>,
    /// The charter capital in VND, a positive integer: required with `owners`.
    #[param(value_type = Option<i64>, nullable = false, minimum = 1, example = 5000000000_i64)]
    pub charter_capital_vnd: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NameCheckAnswer {
    /// The name as the register would store it.
    pub name: String,
    pub proper_name: String,
    /// Whether no registered enterprise blocks the name.
    pub available: bool,
    /// The owners the applicant would be a subsidiary of (more than half of the charter capital):
    /// their names are not confusing for it (art. 41.2, last paragraph).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subsidiary_of: Vec<String>,
    pub conflicts: Vec<Conflict>,
}

/// Check a name against the register (Law on Enterprises art. 41).
///
/// Answers the conflicts with their grounds (`identical`, or the letter of art. 41.2) and the
/// conflicting enterprises, or none. Ceased enterprises do not block names; (d)–(g) compare only
/// with enterprises of the same type; with `owners`, the names of the applicant's parents are
/// not confusing under (d)–(h).
#[utoipa::path(
    get, path = "/v1/name-check", tag = "enterprises", params(NameCheckParams),
    responses(
        (status = 200, body = NameCheckAnswer),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "An owner is not in the register (unknown_enterprise) or is a private enterprise (private_enterprise_owner)", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
pub async fn name_check(
    state: web::Data<AppState>,
    params: web::Query<NameCheckParams>,
) -> Result<HttpResponse, ApiError> {
    let Checked { name, proper_name, enterprise_type, abbreviation, foreign_name, owners, charter_capital_vnd } =
        checked(params.into_inner())?;
    let (n, p) = (name.clone(), proper_name.clone());
    let parents = name_check::parent_codes(owners.iter().map(|(c, v)| (c.as_str(), *v)), charter_capital_vnd);
    let subsidiary_of = parents.clone();
    let conflicts = db(&state, move |conn| {
        let codes: Vec<Option<&str>> = owners.iter().map(|(c, _)| Some(c.as_str())).collect();
        let refused = store::refused_owner_codes(conn, &codes)?;
        if !refused.is_empty() {
            return Err(owners_refused(&refused, owner_parameter));
        }
        let candidate = NameCandidate {
            enterprise_type,
            full_name: &n,
            proper_name: &p,
            abbreviation: abbreviation.as_deref(),
            foreign_name: foreign_name.as_deref(),
            parent_codes: &parents,
        };
        Ok(store::check_name(conn, &candidate, None, false)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(NameCheckAnswer {
        name,
        proper_name,
        available: conflicts.is_empty(),
        subsidiary_of,
        conflicts,
    }))
}

/// Where an owner refusal points among the `owners` parameter's pairs: `owners[1]`.
fn owner_parameter(refusal: &OwnerRefusal) -> String {
    match refusal {
        OwnerRefusal::UnknownEnterprise { owner, .. }
        | OwnerRefusal::PrivateEnterpriseOwner { owner, .. }
        | OwnerRefusal::OwnerHasPrivateEnterprise { owner, .. } => format!("owners[{owner}]"),
    }
}

/// The name to check, normalised, with its proper name.
struct Checked {
    name: String,
    proper_name: String,
    enterprise_type: EnterpriseType,
    abbreviation: Option<String>,
    foreign_name: Option<String>,
    /// Enterprise codes with the capital each contributes.
    owners: Vec<(String, i64)>,
    /// 0 when no owners are given.
    charter_capital_vnd: i64,
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
    let owners = params.owners.as_deref().map(|o| parse_owners(&mut errors, o)).unwrap_or_default();
    let charter_capital_vnd = match (params.charter_capital_vnd.as_deref().map(str::trim), &params.owners) {
        (None, None) => 0,
        (None, Some(_)) => {
            errors.push(FieldError::new(
                "charter_capital_vnd",
                "required",
                "the charter capital tells whether an owner holds more than half of it",
            ));
            0
        }
        (Some(c), _) => match c.parse::<i64>() {
            Ok(c) if c > 0 => c,
            _ => {
                errors.push(FieldError::new("charter_capital_vnd", "not_positive", "a positive whole number of VND"));
                0
            }
        },
    };
    match (name, proper, kind) {
        (Some(name), Some(proper_name), Some(enterprise_type)) if errors.is_empty() => {
            Ok(Checked { name, proper_name, enterprise_type, abbreviation, foreign_name, owners, charter_capital_vnd })
        }
        _ => Err(ApiError::new(problems::INVALID_PARAMETER, "the name cannot be checked as given").with_errors(errors)),
    }
}

/// The most owners the `owners` parameter may list (an LLC has at most 50 members; a JSC more).
const MAX_OWNERS: usize = 200;

/// Parses `owners`: comma-separated `ENTERPRISE_CODE:CAPITAL_VND` pairs, each code valid (check
/// digit) and listed once, each capital a positive integer. Each malformed pair is reported at
/// `owners[i]`.
fn parse_owners(errors: &mut Vec<FieldError>, value: &str) -> Vec<(String, i64)> {
    let pairs: Vec<&str> = value.split(',').map(str::trim).collect();
    if pairs.len() > MAX_OWNERS {
        errors.push(FieldError::new("owners", "too_long", format!("at most {MAX_OWNERS} owners")));
        return Vec::new();
    }
    let mut owners: Vec<(String, i64)> = Vec::with_capacity(pairs.len());
    for (i, pair) in pairs.iter().enumerate() {
        let field = format!("owners[{i}]");
        let Some((code, capital)) = pair.split_once(':') else {
            errors.push(FieldError::new(field, "invalid_owner", "an owner is written ENTERPRISE_CODE:CAPITAL_VND"));
            continue;
        };
        let code = match EnterpriseCode::parse(code.trim()) {
            Ok(c) => c.to_string(),
            Err(e) => {
                errors.push(FieldError::new(field, e.code(), e.to_string()));
                continue;
            }
        };
        let Some(capital) = capital.trim().parse::<i64>().ok().filter(|c| *c > 0) else {
            errors.push(FieldError::new(field, "invalid_owner", "the capital is a positive whole number of VND"));
            continue;
        };
        if owners.iter().any(|(c, _)| *c == code) {
            errors.push(FieldError::new(field, "duplicate_owner", "this owner is listed twice"));
            continue;
        }
        owners.push((code, capital));
    }
    owners
}
