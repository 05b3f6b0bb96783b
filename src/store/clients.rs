//! API clients and their keys. A key is shown once when created; the database keeps only its
//! SHA-256 (a key carries 256 random bits, so a fast hash is the right one: nothing to
//! brute-force). Look-ups are by the hash through a unique index, then compared in constant time.

use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::schema::api_clients;
use super::StoreError;
use crate::domain::Role;

/// Recognisable prefix of every key, so that leaked keys can be found by secret scanners.
pub const KEY_PREFIX: &str = "nerd_";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone, Queryable)]
pub struct ClientRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub key_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub fn hash_key(key: &str) -> Vec<u8> {
    hash_key_bytes(key.as_bytes()).to_vec()
}

/// The SHA-256 of what was sent as a key, as the database stores it.
pub fn hash_key_bytes(key: &[u8]) -> [u8; 32] {
    Sha256::digest(key).into()
}

/// A new random key: the prefix and 32 random bytes in URL-safe base64.
pub fn new_key() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[derive(Debug, thiserror::Error)]
pub enum AddClientError {
    #[error("a client named {0:?} already exists")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a client and returns its key (the only time it is seen).
pub fn add(conn: &mut PgConnection, name: &str, role: Role) -> Result<String, AddClientError> {
    let key = new_key();
    let inserted = diesel::insert_into(api_clients::table)
        .values((
            api_clients::name.eq(name),
            api_clients::role.eq(role.as_str()),
            api_clients::key_hash.eq(hash_key(&key)),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(key),
        Err(e) if super::is_unique_violation(&e) => Err(AddClientError::Exists(name.to_string())),
        Err(e) => Err(AddClientError::Store(e.into())),
    }
}

pub fn list(conn: &mut PgConnection) -> Result<Vec<ClientRow>, StoreError> {
    Ok(api_clients::table.order(api_clients::name).load(conn)?)
}

/// Revokes a client's key; effective on every instance within `api::auth::KEY_TRUST` (how long
/// an instance trusts a key the database accepted). Returns false when no such active client exists.
pub fn revoke(conn: &mut PgConnection, name: &str) -> Result<bool, StoreError> {
    let n =
        diesel::update(api_clients::table.filter(api_clients::name.eq(name)).filter(api_clients::revoked_at.is_null()))
            .set(api_clients::revoked_at.eq(diesel::dsl::now))
            .execute(conn)?;
    Ok(n == 1)
}

/// The active client holding `key`, if any. Every call makes the same one look-up by the hash of
/// what was sent, well formed or not, so that timing does not tell a wrong prefix from a wrong
/// body. Records the use at most once a minute per client.
pub fn authenticate(conn: &mut PgConnection, key: &[u8]) -> Result<Option<Client>, StoreError> {
    let hash = hash_key_bytes(key).to_vec();
    let row: Option<ClientRow> = api_clients::table
        .filter(api_clients::key_hash.eq(&hash))
        .filter(api_clients::revoked_at.is_null())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let well_formed = key.starts_with(KEY_PREFIX.as_bytes()) && key.len() <= 200;
    if !bool::from(row.key_hash.as_slice().ct_eq(hash.as_slice())) || !well_formed {
        return Ok(None);
    }
    let Some(role) = Role::parse(&row.role) else { return Ok(None) };
    let stale = row.last_used_at.is_none_or(|t| Utc::now() - t > chrono::Duration::seconds(60));
    if stale {
        diesel::update(api_clients::table.find(row.id))
            .set(api_clients::last_used_at.eq(diesel::dsl::now))
            .execute(conn)?;
    }
    Ok(Some(Client { id: row.id, name: row.name, role }))
}
