//! Who is calling: `Authorization: Bearer <key>` resolved to a client and its role. No header
//! means the public; a header with an unknown or revoked key is a 401, never the public view.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};

use super::error::{problems, ApiError};
use super::{db, AppState};
use crate::domain::Role;
use crate::store::clients::{self, Client};

/// The caller of a request: a client with a role, or the public.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Client>);

impl Caller {
    /// The client, when its role is one of `roles` (admin may do everything): 401 without a key,
    /// 403 for another role.
    pub fn require(&self, roles: &[Role]) -> Result<&Client, ApiError> {
        match &self.0 {
            None => {
                Err(ApiError::new(problems::UNAUTHORIZED, "this request needs an API key: Authorization: Bearer <key>"))
            }
            Some(c) if c.role == Role::Admin || roles.contains(&c.role) => Ok(c),
            Some(c) => Err(ApiError::new(
                problems::FORBIDDEN,
                format!(
                    "the role {} may not do this; allowed: {}",
                    c.role.as_str(),
                    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }

    /// Whether the caller sees the full view (any valid key) or the public one.
    pub fn full_view(&self) -> bool {
        self.0.is_some()
    }

    pub fn actor(&self) -> String {
        self.0.as_ref().map(|c| c.name.clone()).unwrap_or_else(|| "public".into())
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let header = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().map(str::to_owned));
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let header = match header {
                None => return Ok(Caller(None)),
                Some(Ok(h)) => h,
                Some(Err(_)) => return Err(unauthorized("the Authorization header is not valid text")),
            };
            let Some(key) = header.strip_prefix("Bearer ").map(str::trim).filter(|k| !k.is_empty()) else {
                return Err(unauthorized("the Authorization header is `Bearer <key>`"));
            };
            let state = state.ok_or_else(ApiError::internal)?;
            let key = key.to_string();
            let client = db(&state, move |conn| Ok(clients::authenticate(conn, &key)?)).await?;
            match client {
                Some(c) => {
                    tracing::Span::current().record("client", c.name.as_str());
                    Ok(Caller(Some(c)))
                }
                None => Err(unauthorized("the API key is unknown or revoked")),
            }
        })
    }
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(problems::UNAUTHORIZED, detail)
}
