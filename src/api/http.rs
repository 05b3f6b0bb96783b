//! Shared extractors and answer builders: codes in paths, `Idempotency-Key`, the ETag (written and
//! read only here), `If-Match` and `If-None-Match`, the `201 Created` answer of a write and the
//! replay of an answer kept for an idempotency key.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use super::error::{problems, ApiError};
use crate::domain::code::{CodeError, EnterpriseCode};
use crate::domain::errors::FieldError;
use crate::store::idempotency::StoredResponse;

/// Parses a code from the path in any accepted form; 400 naming why when malformed.
pub fn parse_code(raw: &str) -> Result<EnterpriseCode, ApiError> {
    EnterpriseCode::parse(raw).map_err(|e| invalid_code("code", "enterprise code", raw, e))
}

/// 400 `invalid_code` naming the path field and why the code is malformed.
pub fn invalid_code(field: &str, what: &str, raw: &str, e: CodeError) -> ApiError {
    ApiError::new(problems::INVALID_CODE, format!("{raw:?} is not a valid {what}: {e}"))
        .with_errors(vec![FieldError::new(field, e.code(), e.to_string())])
}

/// The `Idempotency-Key` header, if any: 1 to 255 visible ASCII characters.
pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(v) = req.headers().get("idempotency-key") else { return Ok(None) };
    match v.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(k.to_string())),
        _ => Err(ApiError::bad_parameter(
            "Idempotency-Key",
            "invalid_idempotency_key",
            "1 to 255 visible ASCII characters",
        )),
    }
}

/// The ETag of an enterprise's version: `"v3"` (a strong tag, quotes included).
pub fn etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// The version an ETag of [`etag`]'s form names (surrounding spaces allowed); `None` for any
/// other text or a version below 1.
pub fn etag_version(tag: &str) -> Option<i32> {
    let version = tag.trim().strip_prefix("\"v")?.strip_suffix('"')?;
    version.parse::<i32>().ok().filter(|v| *v >= 1)
}

/// The version named by `If-Match` (`"v3"`): 428 without it, 400 when malformed.
pub fn if_match(req: &HttpRequest) -> Result<i32, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Err(ApiError::new(
            problems::PRECONDITION_REQUIRED,
            "send If-Match with the ETag of the version this change is based on (GET the enterprise first)",
        ));
    };
    let malformed = || {
        ApiError::bad_parameter(
            "If-Match",
            "invalid_etag",
            format!("If-Match holds one ETag of this register, such as {}", etag(3)),
        )
    };
    value.to_str().ok().and_then(etag_version).ok_or_else(malformed)
}

/// Whether `If-None-Match` names `tag` (weak or strong) or `*`.
pub fn if_none_match(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == tag || t == "*")
}

/// What a write created, as its `201 Created` answer names it: where the new resource is found
/// (`Location`) and the version of the enterprise the write produced (`ETag`).
///
/// A write with an `Idempotency-Key` keeps its answer in the same transaction as the write (see
/// `store::idempotency`). The store does not know HTTP: the handler gives it a function that
/// renders what the write produced into that answer ([`Created::stored`]), and [`replay`]
/// answers a retry with what was kept. The first answer ([`Created::answer`]) and the kept one
/// take their status and headers from [`Created::head`], so a replay answers the same.
pub struct Created {
    pub location: String,
    pub version: i32,
}

impl Created {
    /// The status and headers of the answer, header names spelt as they are kept.
    fn head(&self) -> (StatusCode, [(&'static str, String); 2]) {
        (StatusCode::CREATED, [("Location", self.location.clone()), ("ETag", etag(self.version))])
    }

    /// The answer to the request that wrote, with `body` (what was created).
    pub fn answer(&self, body: &impl Serialize) -> HttpResponse {
        let (status, headers) = self.head();
        let mut res = HttpResponse::build(status);
        for h in headers {
            res.insert_header(h);
        }
        res.json(body)
    }

    /// The same answer, as kept for the request's idempotency key.
    pub fn stored(&self, body: &impl Serialize) -> StoredResponse {
        let (status, headers) = self.head();
        StoredResponse {
            status: status.as_u16(),
            headers: headers.into_iter().map(|(name, value)| (name.to_string(), value)).collect(),
            body: serde_json::to_value(body).expect("answers serialise"),
        }
    }
}

/// Answers with the answer kept for an idempotency key, marked `Idempotent-Replayed`.
pub fn replay(stored: StoredResponse) -> HttpResponse {
    let mut res = HttpResponse::build(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK));
    for (name, value) in stored.headers {
        res.insert_header((name, value));
    }
    res.insert_header(("Idempotent-Replayed", "true"));
    res.json(stored.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_etag_reads_back_as_its_version() {
        assert_eq!(etag(3), "\"v3\"");
        assert_eq!(etag_version(&etag(3)), Some(3));
        assert_eq!(etag_version(" \"v12\" "), Some(12));
        for wrong in ["v3", "\"3\"", "\"v0\"", "\"v-1\"", "\"vx\"", "W/\"v3\"", ""] {
            assert_eq!(etag_version(wrong), None, "{wrong}");
        }
    }

    /// The OpenAPI document spells the ETag's form again as `If-Match`'s pattern (the `utoipa`
    /// macros take only a literal there): each one accepts exactly what [`etag`] writes.
    #[test]
    fn the_documented_if_match_pattern_is_the_etag() {
        use utoipa::OpenApi;
        let doc = serde_json::to_value(super::super::ApiDoc::openapi()).unwrap();
        let patterns: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .flat_map(|op| op["parameters"].as_array().into_iter().flatten())
            .filter(|p| p["name"] == "If-Match")
            .map(|p| p["schema"]["pattern"].as_str().unwrap())
            .collect();
        assert_eq!(
            patterns.len(),
            7,
            "PATCH and status of enterprises and units, licences and their status, a withdrawal"
        );
        for pattern in patterns {
            let re = regex::Regex::new(pattern).unwrap();
            for version in [1, 42, 999_999_999] {
                assert!(re.is_match(&etag(version)), "{pattern} refuses {}", etag(version));
            }
            for wrong in ["v3", "\"v0\"", "W/\"v3\"", "\"v3\" "] {
                assert!(!re.is_match(wrong), "{pattern} accepts {wrong}");
            }
        }
    }
}
