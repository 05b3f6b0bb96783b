//! Reading the change feed: every version's event, in position order. Positions are handed out
//! in commit order (see migration `feed_order`), so a reader that has seen position P never
//! receives an event below P later: reading `position > after` is gapless.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Integer, Nullable, Text, Timestamptz};

use super::schema::feed_head;
use super::StoreError;
use crate::domain::record::{Enterprise, View, BENEFICIAL_FIELDS};

/// One event with the record at its version: decoded ([`StoredEvent`], what [`read`] gives) or
/// its stored JSON text ([`RawEvent`], what [`read_raw`] gives).
#[derive(Debug, Clone, QueryableByName)]
pub struct Event<R> {
    #[diesel(sql_type = BigInt)]
    pub position: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Integer)]
    pub version: i32,
    #[diesel(sql_type = Timestamptz)]
    pub recorded_at: DateTime<Utc>,
    #[diesel(sql_type = Date)]
    pub effective_on: NaiveDate,
    #[diesel(sql_type = Text)]
    pub actor: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    pub changed_fields: Vec<String>,
    #[diesel(sql_type = Text)]
    pub record: R,
}

pub type StoredEvent = Event<Enterprise>;
pub type RawEvent = Event<String>;

impl<R> Event<R> {
    fn with_record<T>(self, record: T) -> Event<T> {
        Event {
            position: self.position,
            kind: self.kind,
            code: self.code,
            version: self.version,
            recorded_at: self.recorded_at,
            effective_on: self.effective_on,
            actor: self.actor,
            reason: self.reason,
            changed_fields: self.changed_fields,
            record,
        }
    }
}

/// Events after position `after`, at most `limit`, in position order, each with its record's
/// stored JSON text. The page's events are found first, then their versions by key, so that the
/// planner never scans more than the page.
fn read_text(conn: &mut PgConnection, after: i64, limit: i64) -> Result<Vec<RawEvent>, StoreError> {
    Ok(diesel::sql_query(
        "SELECT e.position, e.kind, e.code, e.version, v.recorded_at, v.effective_on, v.actor, v.reason, \
                v.changed_fields, v.record::text AS record \
         FROM (SELECT position, kind, code, version FROM feed_events WHERE position > $1 ORDER BY position LIMIT $2) e \
         JOIN enterprise_versions v ON v.code = e.code AND v.version = e.version \
         ORDER BY e.position",
    )
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)?)
}

/// Events after position `after`, at most `limit`, in position order, records decoded.
pub fn read(conn: &mut PgConnection, after: i64, limit: i64) -> Result<Vec<StoredEvent>, StoreError> {
    read_text(conn, after, limit)?
        .into_iter()
        .map(|e| {
            let record: Enterprise = serde_json::from_str(&e.record)
                .map_err(|e| StoreError::Database(diesel::result::Error::DeserializationError(Box::new(e))))?;
            Ok(e.with_record(record))
        })
        .collect()
}

/// [`read`] without decoding the records: what the feed's HTTP answer passes through as it is,
/// in the consumer's `view` ([`view_text`]; `changed_fields` of that view only).
pub fn read_raw(conn: &mut PgConnection, after: i64, limit: i64, view: View) -> Result<Vec<RawEvent>, StoreError> {
    Ok(read_text(conn, after, limit)?
        .into_iter()
        .map(|mut e| {
            e.record = view_text(std::mem::take(&mut e.record), view);
            e.changed_fields.retain(|f| view.shows_change(f));
            e
        })
        .collect())
}

/// A stored version's JSON text (as serde_json wrote an [`Enterprise`]: compact, its fields in
/// the struct's order) in `view`, without decoding it: the full view lists `licenses` and leaves
/// out the beneficial-owner fields; the authority view also lists `discrepancies`. Only the
/// full and authority views are asked of the feed (the public has no feed).
///
/// The beneficial-owner fields (`beneficial_owners`, `exempt`, `discrepancies`) are written
/// together just before `updated_at`, the last field: the full view cuts them out as one slice. A
/// key with its quotes can only be the record's own (inside a string a quote is escaped, and no
/// nested object has these keys). A text in another shape is decoded and encoded again.
pub fn view_text(record: String, view: View) -> String {
    let record = full_view_text(record);
    match view {
        View::Authority => {
            if record.contains("\"discrepancies\":") {
                record
            } else {
                append_field(record, "\"discrepancies\":[]")
            }
        }
        View::Full | View::Public => {
            let start = BENEFICIAL_FIELDS.iter().filter_map(|f| record.find(&format!(",\"{f}\":"))).min();
            let Some(start) = start else { return record };
            match record[start..].find(",\"updated_at\":") {
                Some(end) => {
                    let mut out = String::with_capacity(record.len());
                    out.push_str(&record[..start]);
                    out.push_str(&record[start + end..]);
                    out
                }
                None => match serde_json::from_str::<Enterprise>(&record) {
                    Ok(decoded) => serde_json::to_string(&decoded.view(view)).expect("records serialise"),
                    Err(_) => record,
                },
            }
        }
    }
}

/// `record` (a JSON object's text) with `field` (`"key":value`) added at its end.
fn append_field(mut record: String, field: &str) -> String {
    if record.ends_with('}') {
        record.pop();
        let empty = record.trim_end().ends_with('{');
        if !empty {
            record.push(',');
        }
        record.push_str(field);
        record.push('}');
    }
    record
}

/// A stored record's JSON text in its full view: records written before licences existed get
/// `"licenses": []`, as [`Enterprise::full_view`] gives them.
///
/// The text is a JSON object as serde_json wrote it (compact). A key `"licenses":` can only be
/// the record's own: inside a string a quote is escaped, and no nested object has that key.
pub fn full_view_text(record: String) -> String {
    if record.contains("\"licenses\":") {
        record
    } else {
        append_field(record, "\"licenses\":[]")
    }
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

/// Where a consumer (a client reading `/v1/changes`) has read the feed up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerPosition {
    pub client: String,
    pub role: String,
    /// The position after the last page it was sent (its `next`).
    pub position: i64,
    pub read_at: DateTime<Utc>,
}

/// Records consumers' positions. A record replaces only an older one: instances write their
/// batches in any order.
pub fn record_positions(conn: &mut PgConnection, positions: &[ConsumerPosition]) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        for p in positions {
            super::prepared::prepared(
                "INSERT INTO feed_consumers (client, role, position, read_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (client) DO UPDATE SET role = excluded.role, position = excluded.position, \
                     read_at = excluded.read_at \
                 WHERE feed_consumers.read_at <= excluded.read_at",
            )
            .bind::<Text, _>(&p.client)
            .bind::<Text, _>(&p.role)
            .bind::<BigInt, _>(&p.position)
            .bind::<Timestamptz, _>(&p.read_at)
            .execute(conn)?;
        }
        Ok(())
    })
}

/// How far behind the feed's head one consumer is.
#[derive(Debug, Clone, QueryableByName)]
pub struct ConsumerLag {
    #[diesel(sql_type = Text)]
    pub client: String,
    /// Its position (the `next` of the last page it was sent).
    #[diesel(sql_type = BigInt)]
    pub position: i64,
    /// When it was last sent a page.
    #[diesel(sql_type = Timestamptz)]
    pub read_at: DateTime<Utc>,
    /// Positions between it and the head (events, but for the numbers of rolled-back writes).
    #[diesel(sql_type = BigInt)]
    pub behind: i64,
    /// When the oldest event it has not read was recorded; `None` when it has read everything.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub oldest_unread: Option<DateTime<Utc>>,
}

/// Every active client's position in the feed, by client name.
pub fn consumer_lags(conn: &mut PgConnection) -> Result<Vec<ConsumerLag>, StoreError> {
    Ok(super::prepared::prepared(
        "SELECT c.client, c.position, c.read_at, \
                greatest((SELECT position FROM feed_head WHERE id = 1) - c.position, 0) AS behind, \
                (SELECT e.recorded_at FROM feed_events e WHERE e.position > c.position \
                 ORDER BY e.position LIMIT 1) AS oldest_unread \
         FROM feed_consumers c JOIN api_clients a ON a.name = c.client AND a.revoked_at IS NULL \
         ORDER BY c.client",
    )
    .load(conn)?)
}

/// The channel writers notify at commit (a wake-up for long polls, never the source of truth).
pub const CHANNEL: &str = "registry_feed";

/// A connection of its own (not the pool's) that listens on [`CHANNEL`].
pub struct Listener(PgConnection);

impl Listener {
    /// Connects to the database at `url` and listens.
    pub fn connect(url: &str) -> Result<Listener, StoreError> {
        let mut conn = PgConnection::establish(url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn)?;
        Ok(Listener(conn))
    }

    /// Takes the notifications received so far without waiting: whether there was one. An error
    /// means the connection is lost.
    pub fn notified(&mut self) -> Result<bool, StoreError> {
        let mut woke = false;
        for n in self.0.notifications_iter() {
            n?;
            woke = true;
        }
        Ok(woke)
    }

    /// Whether the server still answers: a connection that receives nothing can be lost unnoticed.
    pub fn is_alive(&mut self) -> bool {
        diesel::sql_query("SELECT 1").execute(&mut self.0).is_ok()
    }
}

/// What [`export`] hands its sink: first the snapshot's feed head, then every record.
#[derive(Debug)]
pub enum ExportItem {
    /// The feed head inside the snapshot: every event at or below it is in the snapshot, every
    /// later one is not. `total` is the number of records when asked for.
    Start { head: i64, total: Option<i64> },
    /// One record's JSON text, as stored (passed through without decoding).
    Record(String),
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sink refused (a client that went away, a full disk).
    #[error("writing the export: {0}")]
    Output(#[from] std::io::Error),
}

impl From<diesel::result::Error> for ExportError {
    fn from(e: diesel::result::Error) -> Self {
        ExportError::Store(e.into())
    }
}

#[derive(QueryableByName)]
struct RecordRow {
    #[diesel(sql_type = Text)]
    record: String,
}

/// Rows fetched from the server-side cursor at a time: memory stays constant whatever the size.
const EXPORT_BATCH: usize = 500;

/// Every enterprise in the authority view (the tax agency's, with beneficial owners and
/// `discrepancies` always listed), ordered by code, from one REPEATABLE READ READ ONLY snapshot, preceded by
/// the feed head read inside that snapshot (its first statement, which takes the snapshot).
///
/// Positions are taken under the `feed_head` row lock until commit, so the snapshot sees every
/// transaction whose position is at most that head, and none whose position is above it:
/// following the feed from the head yields exactly the changes after the snapshot.
///
/// Rows are fetched in batches from a server-side cursor; the sink sees them one at a time. When
/// the sink fails the transaction ends (rolled back: it wrote nothing) and the connection is free.
pub fn export(
    conn: &mut PgConnection,
    count: bool,
    mut sink: impl FnMut(ExportItem) -> std::io::Result<()>,
) -> Result<u64, ExportError> {
    conn.build_transaction().repeatable_read().read_only().run(|conn| {
        let head = head(conn)?;
        let total = if count { Some(super::enterprise_count(conn)?) } else { None };
        sink(ExportItem::Start { head, total })?;
        diesel::sql_query(
            "DECLARE registry_export NO SCROLL CURSOR FOR \
             SELECT (CASE WHEN record ? 'discrepancies' THEN record \
                          ELSE record || '{\"discrepancies\": []}'::jsonb END)::text AS record \
             FROM enterprises ORDER BY code",
        )
        .execute(conn)?;
        let mut n = 0u64;
        loop {
            let rows: Vec<RecordRow> =
                diesel::sql_query(format!("FETCH {EXPORT_BATCH} FROM registry_export")).load(conn)?;
            let last = rows.len() < EXPORT_BATCH;
            for row in rows {
                sink(ExportItem::Record(row.record))?;
                n += 1;
            }
            if last {
                break;
            }
        }
        Ok(n)
    })
}

#[cfg(test)]
mod tests {
    use super::{full_view_text, view_text};
    use crate::domain::record::View;

    #[test]
    fn each_consumer_gets_its_view_of_a_stored_version() {
        let stored = r#"{"code":"0100000010","licenses":[],"beneficial_owners":[{"full_name":"A","identity":{"kind":"cccd","number":"001080012345"}}],"discrepancies":[{"kind":"undeclared"}],"updated_at":"2026-12-01T00:00:00Z"}"#;
        let full = view_text(stored.into(), View::Full);
        assert_eq!(full, r#"{"code":"0100000010","licenses":[],"updated_at":"2026-12-01T00:00:00Z"}"#);
        assert_eq!(view_text(stored.into(), View::Authority), stored);
        let exempt = r#"{"code":"0100000010","licenses":[],"exempt":"listed","updated_at":"2026-12-01T00:00:00Z"}"#;
        assert!(!view_text(exempt.into(), View::Full).contains("exempt"));
        let authority = view_text(exempt.into(), View::Authority);
        assert!(authority.ends_with(r#","discrepancies":[]}"#), "{authority}");
        assert!(serde_json::from_str::<serde_json::Value>(&authority).is_ok());
        // A name that mentions a key is a string, its quotes escaped: nothing is cut.
        let named = r#"{"name":{"vi":"Công ty \",\"exempt\": TNHH"},"licenses":[],"updated_at":"x"}"#;
        assert_eq!(view_text(named.into(), View::Full), named);
    }

    #[test]
    fn the_full_view_lists_licences_even_when_none_were_recorded() {
        assert_eq!(
            full_view_text(r#"{"code":"0100000010","version":1}"#.into()),
            r#"{"code":"0100000010","version":1,"licenses":[]}"#
        );
        assert_eq!(full_view_text("{}".into()), r#"{"licenses":[]}"#);
        let with = r#"{"code":"0100000010","licenses":[{"number":"A1"}]}"#;
        assert_eq!(full_view_text(with.into()), with);
        // A name that mentions the key is a string, its quotes escaped: not the key.
        let named = r#"{"name":{"vi":"Công ty \"licenses\": TNHH"},"version":2}"#;
        let out = full_view_text(named.into());
        assert!(out.ends_with(r#","licenses":[]}"#), "{out}");
        assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
    }
}
