//! Who is calling: `Authorization: Bearer <key>` resolved to a client and its role, once per
//! request, by the [`authenticate`] middleware, which also applies the rate limits. No header
//! means the public; a header that does not hold an active key is a 401, never the public view.
//!
//! Every failure answers the same 401 with the same words (a malformed header, another scheme,
//! an empty or oversized value, a key of the right prefix but an unknown body, a revoked key), and
//! every header costs the same one look-up by the hash of what was sent, so that neither the
//! answer nor its timing tells which part was wrong.

use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv4Addr};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};

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
    type Future = Ready<Result<Caller, ApiError>>;

    /// The caller [`authenticate`] resolved; the public when the middleware is not installed.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(req.extensions().get::<Caller>().cloned().unwrap_or(Caller(None))))
    }
}

/// The longest key header considered; longer ones are refused like any malformed header.
const MAX_HEADER: usize = 512;

/// The key in an `Authorization` header value, when it is well formed: the `Bearer` scheme (any
/// case), one space or more, and a key of visible ASCII without spaces, at most 200 characters.
pub fn bearer_key(value: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(value).ok()?;
    let (scheme, key) = text.split_once(' ')?;
    let key = key.trim_start_matches(' ');
    let ok = scheme.eq_ignore_ascii_case("bearer")
        && !key.is_empty()
        && key.len() <= 200
        && key.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(key)
}

/// Middleware: resolves the caller and applies the rate limits before any handler runs.
pub async fn authenticate<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let address = req.peer_addr().map(|a| a.ip()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let header = req.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes().to_vec());
    match resolve(state, address, header).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(e) => {
            let response = e.error_response();
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

async fn resolve(
    state: Option<web::Data<AppState>>,
    address: IpAddr,
    header: Option<Vec<u8>>,
) -> Result<Caller, ApiError> {
    let Some(state) = state else { return Ok(Caller(None)) };
    let Some(header) = header else {
        state.limits.check_address(address).map_err(too_many)?;
        return Ok(Caller(None));
    };
    if let Some(seconds) = state.limits.blocked(address) {
        return Err(too_many(seconds));
    }
    let well_formed = bearer_key(&header).is_some();
    // One look-up whatever was sent: the key, or the (bounded) header itself.
    let candidate: Vec<u8> = match bearer_key(&header) {
        Some(key) => key.as_bytes().to_vec(),
        None => header[..header.len().min(MAX_HEADER)].to_vec(),
    };
    let client = db(&state, move |conn| Ok(clients::authenticate(conn, &candidate)?)).await?;
    match client {
        Some(client) if well_formed => {
            state.limits.check_client(client.id).map_err(too_many)?;
            tracing::Span::current().record("client", client.name.as_str());
            Ok(Caller(Some(client)))
        }
        _ => {
            state.limits.record_failure(address).map_err(too_many)?;
            Err(ApiError::new(
                problems::UNAUTHORIZED,
                "a valid API key is required: Authorization: Bearer <key>; this one is not accepted",
            ))
        }
    }
}

fn too_many(seconds: u32) -> ApiError {
    let mut e =
        ApiError::new(problems::RATE_LIMITED, format!("too many requests from this client; retry in {seconds} s"));
    e.retry_after = Some(seconds);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_well_formed_bearer_header_yields_a_key() {
        assert_eq!(bearer_key(b"Bearer nerd_abc"), Some("nerd_abc"));
        assert_eq!(bearer_key(b"bearer  nerd_abc"), Some("nerd_abc"));
        assert_eq!(bearer_key(b"nerd_abc"), None);
        assert_eq!(bearer_key(b"Basic bmVyZF9hYmM="), None);
        assert_eq!(bearer_key(b"Bearer "), None);
        assert_eq!(bearer_key(b""), None);
        assert_eq!(bearer_key("Bearer nerd_ä".as_bytes()), None);
        assert_eq!(bearer_key(b"Bearer nerd abc"), None);
        assert_eq!(bearer_key(format!("Bearer {}", "a".repeat(10_000)).as_bytes()), None);
        assert_eq!(bearer_key(&[b'B', 0xff, 0xfe]), None);
    }
}
