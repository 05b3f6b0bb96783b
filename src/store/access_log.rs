//! The personal-data access log: who read which enterprise's full view, verified claims about
//! it, or read the register in bulk, and when. Entries arrive in batches from each instance's
//! buffer the API keeps (its `access_log` module), never one insert per read.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::access_log;
use super::StoreError;

/// One read of personal data.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = access_log)]
pub struct NewEntry {
    pub read_at: DateTime<Utc>,
    pub client: String,
    pub role: String,
    pub code: Option<String>,
    pub action: String,
    pub detail: Option<String>,
    pub request_id: Option<String>,
}

/// A logged read.
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct Entry {
    pub id: i64,
    pub read_at: DateTime<Utc>,
    pub client: String,
    pub role: String,
    pub code: Option<String>,
    pub action: String,
    pub detail: Option<String>,
    pub request_id: Option<String>,
}

/// Rows per INSERT statement (8 parameters each, well under PostgreSQL's 65,535).
const CHUNK: usize = 1000;

/// Writes a batch in one transaction.
pub fn insert(conn: &mut PgConnection, entries: &[NewEntry]) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        for chunk in entries.chunks(CHUNK) {
            diesel::insert_into(access_log::table).values(chunk).execute(conn)?;
        }
        Ok(())
    })
}

/// Reads of one enterprise (full views, verifications), newest first.
pub fn for_code(conn: &mut PgConnection, code: &str, limit: i64) -> Result<Vec<Entry>, StoreError> {
    Ok(access_log::table
        .filter(access_log::code.eq(code))
        .order((access_log::read_at.desc(), access_log::id.desc()))
        .limit(limit)
        .load(conn)?)
}

/// One client's bulk reads of one kind.
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct BulkReads {
    pub client: String,
    pub action: String,
    pub count: i64,
    pub last: Option<DateTime<Utc>>,
}

/// Bulk reads (export, change feed) since `since`, per client: how many and the latest.
pub fn bulk_since(conn: &mut PgConnection, since: DateTime<Utc>) -> Result<Vec<BulkReads>, StoreError> {
    use diesel::dsl::{count_star, max};
    Ok(access_log::table
        .filter(access_log::code.is_null())
        .filter(access_log::read_at.ge(since))
        .group_by((access_log::client, access_log::action))
        .select((access_log::client, access_log::action, count_star(), max(access_log::read_at)))
        .order(access_log::client)
        .load(conn)?)
}
