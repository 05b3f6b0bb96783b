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
    let mut typed = raw.clone();
    integral_numbers(&mut typed);
    let value =
        serde_path_to_error::deserialize(typed).map_err(|e| {
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

/// JSON has one kind of number, and the OpenAPI document's `integer` is any number without a
/// fractional part (JSON Schema): `5000000000.0` and `5e9` are the integer 5000000000. Such
/// numbers become integers before typed parsing, up to 2^53 in magnitude (beyond it a JSON
/// number read as a double no longer names one integer); `1.5` stays a number that no integer
/// field takes.
fn integral_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < EXACT) {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers),
        _ => {}
    }
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

    #[test]
    fn integers_may_be_written_with_a_fraction_or_an_exponent() {
        let (c, raw) = parse::<RegistrationContent>(br#"{"charter_capital_vnd": 5000000000.0}"#).unwrap();
        assert_eq!(c.charter_capital_vnd, Some(5_000_000_000));
        assert_eq!(raw["charter_capital_vnd"], serde_json::json!(5000000000.0), "the raw body is kept as sent");
        let (c, _) = parse::<RegistrationContent>(br#"{"charter_capital_vnd": 5e9}"#).unwrap();
        assert_eq!(c.charter_capital_vnd, Some(5_000_000_000));
        for bad in [&br#"{"charter_capital_vnd": 1.5}"#[..], br#"{"charter_capital_vnd": 1e300}"#] {
            let e = parse::<RegistrationContent>(bad).unwrap_err();
            assert_eq!(e.errors[0].field, "charter_capital_vnd", "{}", String::from_utf8_lossy(bad));
        }
    }
}
