//! `Idempotency-Key` on POST: the first answer is stored in the same transaction as the write it
//! answers, so a retry gets that answer and never a second enterprise. A concurrent retry waits
//! on the key's row until the first commits.
//!
//! The answer is the caller's. It names what the write allocates (a code, a version), so it can
//! only be made inside the transaction: the request carries a function that renders it from what
//! the write produced ([`IdempotentRequest::answer`]), the write calls it before committing, and
//! the store keeps the [`StoredResponse`] verbatim and hands it back on a retry. The store builds
//! no answer; the only status it writes is 0, its mark of a key whose write has not finished.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::schema::idempotency_keys;

/// A request carrying an idempotency key, for a write that produces a `T`.
pub struct IdempotentRequest<T> {
    pub client_id: i64,
    pub key: String,
    /// Hash of the request (method, path and canonical body): the same key with another request
    /// is refused.
    pub request_hash: Vec<u8>,
    /// Renders the answer to keep for the key from what the write produced.
    pub answer: fn(&T) -> StoredResponse,
}

impl<T> IdempotentRequest<T> {
    pub fn new(
        client_id: i64,
        key: String,
        method: &str,
        path: &str,
        body: &serde_json::Value,
        answer: fn(&T) -> StoredResponse,
    ) -> Self {
        let mut h = Sha256::new();
        h.update(method.as_bytes());
        h.update([0]);
        h.update(path.as_bytes());
        h.update([0]);
        h.update(body.to_string().as_bytes());
        IdempotentRequest { client_id, key, request_hash: h.finalize().to_vec(), answer }
    }
}

/// The answer kept for a key, as the caller rendered it (`status` 0 while the key's write has
/// not finished).
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
pub fn begin<T>(conn: &mut PgConnection, req: &IdempotentRequest<T>) -> QueryResult<Begin> {
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
    // The insert conflicted, so the row exists (keys are never deleted).
    let (hash, stored) = stored(conn, req)?.ok_or(diesel::result::Error::NotFound)?;
    if hash != req.request_hash {
        return Ok(Begin::Mismatch);
    }
    Ok(Begin::Replay(stored))
}

/// The row of a key: the hash of the request it answered and the answer.
fn stored<T>(conn: &mut PgConnection, req: &IdempotentRequest<T>) -> QueryResult<Option<(Vec<u8>, StoredResponse)>> {
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
    Ok(row.map(|(hash, status, headers, body)| {
        (
            hash,
            StoredResponse {
                status: status as u16,
                headers: serde_json::from_value(headers).unwrap_or_default(),
                body,
            },
        )
    }))
}

/// Claims the key for a write in the caller's transaction: `None` to go on (then call
/// [`finish`]), or the earlier answer to return.
pub fn claim<T, E: From<diesel::result::Error>>(
    conn: &mut PgConnection,
    req: Option<&IdempotentRequest<T>>,
    mismatch: impl FnOnce() -> E,
) -> Result<Option<StoredResponse>, E> {
    let Some(req) = req else { return Ok(None) };
    match begin(conn, req)? {
        Begin::Fresh => Ok(None),
        Begin::Replay(r) => Ok(Some(r)),
        Begin::Mismatch => Err(mismatch()),
    }
}

/// Stores the answer to `written` for a key claimed by [`begin`] in this transaction; nothing
/// without a key.
pub fn finish<T>(conn: &mut PgConnection, req: Option<&IdempotentRequest<T>>, written: &T) -> QueryResult<()> {
    let Some(req) = req else { return Ok(()) };
    let response = (req.answer)(written);
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
pub fn lookup<T>(conn: &mut PgConnection, req: &IdempotentRequest<T>) -> QueryResult<Option<StoredResponse>> {
    Ok(stored(conn, req)?.filter(|(hash, r)| *hash == req.request_hash && r.status != 0).map(|(_, r)| r))
}
