//! Reading the change feed: every version's event, in position order. Positions are handed out
//! in commit order (see migration `feed_order`), so a reader that has seen position P never
//! receives an event below P later: reading `position > after` is gapless.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Integer, Jsonb, Nullable, Text, Timestamptz};

use super::schema::feed_head;
use super::StoreError;
use crate::domain::record::Enterprise;

/// One event with the full record at its version.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub position: i64,
    pub kind: String,
    pub code: String,
    pub version: i32,
    pub recorded_at: DateTime<Utc>,
    pub effective_on: NaiveDate,
    pub actor: String,
    pub reason: Option<String>,
    pub changed_fields: Vec<String>,
    pub record: Enterprise,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    position: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Integer)]
    version: i32,
    #[diesel(sql_type = Timestamptz)]
    recorded_at: DateTime<Utc>,
    #[diesel(sql_type = Date)]
    effective_on: NaiveDate,
    #[diesel(sql_type = Text)]
    actor: String,
    #[diesel(sql_type = Nullable<Text>)]
    reason: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    changed_fields: Vec<String>,
    #[diesel(sql_type = Jsonb)]
    record: serde_json::Value,
}

/// Events after position `after`, at most `limit`, in position order.
pub fn read(conn: &mut PgConnection, after: i64, limit: i64) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT e.position, e.kind, e.code, e.version, v.recorded_at, v.effective_on, v.actor, v.reason, \
                v.changed_fields, v.record \
         FROM feed_events e JOIN enterprise_versions v ON v.code = e.code AND v.version = e.version \
         WHERE e.position > $1 ORDER BY e.position LIMIT $2",
    )
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)?;
    rows.into_iter()
        .map(|r| {
            let record: Enterprise = serde_json::from_value(r.record)
                .map_err(|e| StoreError::Database(diesel::result::Error::DeserializationError(Box::new(e))))?;
            Ok(StoredEvent {
                position: r.position,
                kind: r.kind,
                code: r.code,
                version: r.version,
                recorded_at: r.recorded_at,
                effective_on: r.effective_on,
                actor: r.actor,
                reason: r.reason,
                changed_fields: r.changed_fields,
                record,
            })
        })
        .collect()
}

/// The last position handed out to a committed transaction (or one that rolled back: no event
/// will ever take that number).
pub fn head(conn: &mut PgConnection) -> Result<i64, StoreError> {
    Ok(feed_head::table.find(1).select(feed_head::position).first(conn)?)
}

/// When the event at `position` was recorded, if it exists (for lag in seconds).
pub fn recorded_at(conn: &mut PgConnection, position: i64) -> Result<Option<DateTime<Utc>>, StoreError> {
    use super::schema::feed_events;
    Ok(feed_events::table.find(position).select(feed_events::recorded_at).first(conn).optional()?)
}
