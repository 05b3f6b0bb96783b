//! Who is calling: `Authorization: Bearer <key>` resolved to a client and its role, once per
//! request, by the [`authenticate`] middleware, which also applies the rate limits. No header
//! means the public; a header that does not hold an active key is a 401, never the public view.
//!
//! Every failure answers the same 401 with the same words (a malformed header, another scheme,
//! an empty or oversized value, a key of the right prefix but an unknown body, a revoked key), and
//! every header costs the same one look-up by the hash of what was sent, so that neither the
//! answer nor its timing tells which part was wrong.
//!
//! A key the database accepted is trusted by this instance for [`KEY_TRUST`] without asking again
//! ([`KeyCache`]): a client's requests then cost no round trip of their own. Only accepted keys
//! are kept, so every failure still costs its one look-up; a revoked key fails on every instance
//! within [`KEY_TRUST`].

use std::collections::HashMap;
use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};

use super::error::{problems, ApiError};
use super::{db, AppState};
use crate::domain::record::View;
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

    /// What the caller sees of a record (SPEC §7): public without a key, full for transport, the
    /// authority view (with beneficial owners) for portal, tax, authority and admin.
    pub fn view(&self) -> View {
        View::of(self.0.as_ref().map(|c| c.role))
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

/// How long an instance trusts a key the database accepted, without asking again: the longest a
/// revoked key keeps working.
pub const KEY_TRUST: Duration = Duration::from_secs(1);

/// The keys the database accepted in the last [`KEY_TRUST`], by the SHA-256 of the key: what this
/// instance knows is only ever a second old, and the database stays the one truth.
pub struct KeyCache {
    entries: Mutex<HashMap<[u8; 32], (Client, Instant)>>,
    trust: Duration,
}

/// Keys kept at most; the map is emptied when full (clients are few: this bounds a flood).
const KEY_CACHE_MAX: usize = 4096;

impl KeyCache {
    pub fn new(trust: Duration) -> KeyCache {
        KeyCache { entries: Mutex::new(HashMap::new()), trust }
    }

    /// The client of a key hash accepted less than the trust period ago.
    pub fn get(&self, hash: &[u8; 32]) -> Option<Client> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(hash).filter(|(_, at)| at.elapsed() < self.trust).map(|(c, _)| c.clone())
    }

    /// Remembers a key hash the database accepted just now.
    pub fn put(&self, hash: [u8; 32], client: Client) {
        if self.trust.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= KEY_CACHE_MAX {
            let trust = self.trust;
            entries.retain(|_, (_, at)| at.elapsed() < trust);
            if entries.len() >= KEY_CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(hash, (client, Instant::now()));
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
    let hash: [u8; 32] = clients::hash_key_bytes(&candidate);
    let client = match state.keys.get(&hash).filter(|_| well_formed) {
        Some(client) => Some(client),
        None => {
            let client = db(&state, move |conn| Ok(clients::authenticate(conn, &candidate)?)).await?;
            if let (Some(c), true) = (&client, well_formed) {
                state.keys.put(hash, c.clone());
            }
            client
        }
    };
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
    fn an_accepted_key_is_trusted_only_for_the_trust_period() {
        let cache = KeyCache::new(Duration::from_millis(50));
        let client = Client { id: 7, name: "portal".into(), role: Role::Portal };
        let (hash, other) = ([1u8; 32], [2u8; 32]);
        cache.put(hash, client.clone());
        assert_eq!(cache.get(&hash), Some(client));
        assert_eq!(cache.get(&other), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&hash), None, "trusted past the period");
        let off = KeyCache::new(Duration::ZERO);
        off.put(hash, Client { id: 7, name: "portal".into(), role: Role::Portal });
        assert_eq!(off.get(&hash), None);
    }

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
