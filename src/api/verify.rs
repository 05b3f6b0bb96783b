//! `POST /v1/verify`: claims about an enterprise answered match or mismatch, revealing no
//! personal data beyond what was claimed. The rules are in `domain::verify`.

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Caller;
use super::error::{ApiError, ProblemBody};
use super::permissions;
use super::{body, db, AppState};
use crate::api::access_log::Action;
use crate::domain::verify::{self, Verification, VerifyRequest};
use crate::store::enterprises::{self as store, AsOf};

/// Verify claims about an enterprise.
///
/// For a licensing officer confirming an application: the code, the name, a legal
/// representative's name and identity number, business lines, optionally as of a date. Each claim
/// is answered `match` or `mismatch`; the answer also gives the status and whether the enterprise
/// is active. An unknown code is `exists: false` with every claim a mismatch. Verifications are
/// recorded in the personal-data access log.
#[utoipa::path(
    post, path = "/v1/verify", tag = "verify",
    request_body(content = VerifyRequest, example = json!({
        "code": "0100000010", "name": "Công ty TNHH Vận tải Hoàng Long Phát",
        "legal_representative": {"full_name": "Nguyễn Văn An", "identity_number": "001080012345"},
        "vsic": ["4933"]
    })),
    responses(
        (status = 200, body = Verification),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn verify(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::VERIFY.roles)?.clone();
    let (request, _): (VerifyRequest, _) = body::json(&req, payload, &["application/json"]).await?;
    let claims = request.validate().map_err(ApiError::validation)?;
    let code = claims.code.clone();
    let as_of = claims.as_of;
    let record = db(&state, move |conn| {
        Ok(match as_of {
            Some(day) => store::as_of(conn, &code, AsOf::Date(day))?.flatten(),
            None => store::get(conn, &code)?,
        })
    })
    .await?;
    let answer = verify::verify(&claims, record.as_ref());
    state.access.record(
        &client,
        Action::Verify,
        Some(&answer.code),
        as_of.map(|d| format!("as_of={d}")),
        super::request_id(&req),
    );
    Ok(HttpResponse::Ok().json(answer))
}
