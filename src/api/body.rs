//! Request bodies: at most 1 MiB, JSON, no unknown fields; a failure names the field's path.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::error::{problems, ApiError};
use crate::domain::errors::FieldError;

pub const MAX_BODY: usize = 1 << 20;

/// Reads the body (413 past [`MAX_BODY`]), checks its media type is one of `media_types`, and
/// parses it into `T`. Returns the parsed value and the raw JSON (for idempotency hashing).
pub async fn json<T: DeserializeOwned>(
    req: &HttpRequest,
    mut payload: web::Payload,
    media_types: &[&str],
) -> Result<(T, serde_json::Value), ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !media_types.contains(&essence.as_str()) {
        return Err(ApiError::new(
            problems::UNSUPPORTED_MEDIA_TYPE,
            format!("send the body as {} (Content-Type was {:?})", media_types.join(" or "), content_type),
        ));
    }
    if let Some(len) =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok())
    {
        if len > MAX_BODY {
            return Err(too_large());
        }
    }
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::new(problems::MALFORMED_BODY, format!("the body could not be read: {e}")))?;
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    parse(&bytes)
}

fn too_large() -> ApiError {
    ApiError::new(problems::PAYLOAD_TOO_LARGE, format!("the body is larger than {MAX_BODY} bytes"))
}

/// Parses JSON text into `T`, naming the path of the first field that does not fit.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, serde_json::Value), ApiError> {
    let raw: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(problems::MALFORMED_BODY, format!("the body is not valid JSON: {e}"))
            .with_errors(vec![FieldError::new("", "invalid_json", e.to_string())])
    })?;
    let value =
        serde_path_to_error::deserialize(raw.clone()).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            let message = e.inner().to_string();
            if let Some(field) = message.strip_prefix("unknown field `").and_then(|m| m.split('`').next()) {
                let full =
                    if path.is_empty() || path.ends_with(field) { path.clone() } else { format!("{path}.{field}") };
                ApiError::new(problems::UNKNOWN_FIELD, format!("{full}: this API has no such field"))
                    .with_errors(vec![FieldError::new(full, "unknown_field", message)])
            } else {
                ApiError::new(problems::MALFORMED_BODY, format!("{path}: {message}"))
                    .with_errors(vec![FieldError::new(path, "invalid_type", message)])
            }
        })?;
    Ok((value, raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::registration::RegistrationContent;

    #[test]
    fn unknown_and_mistyped_fields_are_named() {
        let e = parse::<RegistrationContent>(br#"{"head_office": {"street": "x", "colour": 1}}"#).unwrap_err();
        assert_eq!(e.problem.code, "unknown_field");
        assert_eq!(e.errors[0].field, "head_office.colour");
        let e = parse::<RegistrationContent>(br#"{"owners": [{"capital_vnd": "many"}]}"#).unwrap_err();
        assert_eq!(e.problem.code, "malformed_body");
        assert_eq!(e.errors[0].field, "owners[0].capital_vnd");
        let e = parse::<RegistrationContent>(b"{").unwrap_err();
        assert_eq!(e.problem.code, "malformed_body");
        let e = parse::<RegistrationContent>(b"[]").unwrap_err();
        assert_eq!(e.problem.code, "malformed_body");
    }
}
