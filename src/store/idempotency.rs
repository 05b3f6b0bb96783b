//! `Idempotency-Key` on POST: the first answer is stored in the same transaction as the write it
//! answers, so a retry gets that answer and never a second enterprise. A concurrent retry waits
//! on the key's row until the first commits.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::schema::idempotency_keys;

/// A request carrying an idempotency key.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    pub client_id: i64,
    pub key: String,
    /// Hash of the request (method, path and canonical body): the same key with another request
    /// is refused.
    pub request_hash: Vec<u8>,
}

impl IdempotentRequest {
    pub fn new(client_id: i64, key: String, method: &str, path: &str, body: &serde_json::Value) -> Self {
        let mut h = Sha256::new();
        h.update(method.as_bytes());
        h.update([0]);
        h.update(path.as_bytes());
        h.update([0]);
        h.update(body.to_string().as_bytes());
        IdempotentRequest { client_id, key, request_hash: h.finalize().to_vec() }
    }
}

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
}

pub enum Begin {
    /// First time: go on and call [`finish`] in the same transaction.
    Fresh,
    /// Seen before with the same request: here is the answer.
    Replay(StoredResponse),
    /// Seen before with another request.
    Mismatch,
}

/// Claims the key inside the caller's transaction.
pub fn begin(conn: &mut PgConnection, req: &IdempotentRequest) -> QueryResult<Begin> {
    let claimed = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::client_id.eq(req.client_id),
            idempotency_keys::key.eq(&req.key),
            idempotency_keys::request_hash.eq(&req.request_hash),
            idempotency_keys::status.eq(0i16),
            idempotency_keys::headers.eq(serde_json::json!([])),
            idempotency_keys::body.eq(serde_json::Value::Null),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if claimed == 1 {
        return Ok(Begin::Fresh);
    }
    let (hash, status, headers, body): (Vec<u8>, i16, serde_json::Value, serde_json::Value) = idempotency_keys::table
        .find((req.client_id, &req.key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::headers,
            idempotency_keys::body,
        ))
        .first(conn)?;
    if hash != req.request_hash {
        return Ok(Begin::Mismatch);
    }
    let headers: Vec<(String, String)> = serde_json::from_value(headers).unwrap_or_default();
    Ok(Begin::Replay(StoredResponse { status: status as u16, headers, body }))
}

/// Stores the answer for a key claimed by [`begin`] in this transaction.
pub fn finish(conn: &mut PgConnection, req: &IdempotentRequest, response: &StoredResponse) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.find((req.client_id, &req.key)))
        .set((
            idempotency_keys::status.eq(response.status as i16),
            idempotency_keys::headers.eq(serde_json::to_value(&response.headers).unwrap_or_default()),
            idempotency_keys::body.eq(&response.body),
        ))
        .execute(conn)?;
    Ok(())
}

/// The stored answer for a key, without claiming it (for a request that failed validation:
/// if its key already answered, the retry gets that answer).
pub fn lookup(conn: &mut PgConnection, req: &IdempotentRequest) -> QueryResult<Option<StoredResponse>> {
    let row: Option<(Vec<u8>, i16, serde_json::Value, serde_json::Value)> = idempotency_keys::table
        .find((req.client_id, &req.key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::headers,
            idempotency_keys::body,
        ))
        .first(conn)
        .optional()?;
    Ok(row.filter(|(hash, status, _, _)| *hash == req.request_hash && *status != 0).map(
        |(_, status, headers, body)| StoredResponse {
            status: status as u16,
            headers: serde_json::from_value(headers).unwrap_or_default(),
            body,
        },
    ))
}
