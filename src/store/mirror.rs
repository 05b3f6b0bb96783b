//! The reference consumer's copy (`registry mirror`), in a database of its own: the records, and
//! the feed cursor they correspond to, always written in the same transaction, so the copy can
//! be killed at any point and resume exactly where its last commit left it.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Integer, Jsonb, Text};

/// One record of the copy.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct MirrorRecord {
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Integer)]
    pub version: i32,
    #[diesel(sql_type = Jsonb)]
    pub record: serde_json::Value,
}

/// Creates the copy's tables when missing.
pub fn prepare(conn: &mut PgConnection) -> QueryResult<()> {
    conn.batch_execute(
        "CREATE TABLE IF NOT EXISTS mirror_enterprises (
             code    text PRIMARY KEY,
             version integer NOT NULL,
             record  jsonb NOT NULL
         );
         CREATE TABLE IF NOT EXISTS mirror_state (
             id     integer PRIMARY KEY CHECK (id = 1),
             cursor text NOT NULL
         );",
    )
}

#[derive(QueryableByName)]
struct CursorRow {
    #[diesel(sql_type = Text)]
    cursor: String,
}

/// The feed cursor the copy is at; `None` before its first snapshot.
pub fn cursor(conn: &mut PgConnection) -> QueryResult<Option<String>> {
    Ok(diesel::sql_query("SELECT cursor FROM mirror_state WHERE id = 1")
        .get_result::<CursorRow>(conn)
        .optional()?
        .map(|r| r.cursor))
}

fn set_cursor(conn: &mut PgConnection, cursor: &str) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO mirror_state (id, cursor) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET cursor = EXCLUDED.cursor",
    )
    .bind::<Text, _>(cursor)
    .execute(conn)?;
    Ok(())
}

/// Writes `records` (at most one per code), keeping a newer version already in the copy.
fn upsert(conn: &mut PgConnection, records: &[MirrorRecord]) -> QueryResult<()> {
    if records.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO mirror_enterprises (code, version, record) \
         SELECT * FROM unnest($1::text[], $2::integer[], $3::jsonb[]) \
         ON CONFLICT (code) DO UPDATE SET version = EXCLUDED.version, record = EXCLUDED.record \
         WHERE mirror_enterprises.version < EXCLUDED.version",
    )
    .bind::<Array<Text>, _>(records.iter().map(|r| r.code.clone()).collect::<Vec<_>>())
    .bind::<Array<Integer>, _>(records.iter().map(|r| r.version).collect::<Vec<_>>())
    .bind::<Array<Jsonb>, _>(records.iter().map(|r| r.record.clone()).collect::<Vec<_>>())
    .execute(conn)?;
    Ok(())
}

/// Replaces the whole copy by a snapshot and its cursor, in one transaction: `records` is
/// consumed in batches (constant memory); if it fails, nothing changed.
pub fn load_snapshot<E>(
    conn: &mut PgConnection,
    cursor: &str,
    records: impl Iterator<Item = Result<MirrorRecord, E>>,
) -> Result<u64, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        conn.batch_execute("TRUNCATE mirror_enterprises")?;
        let mut batch = Vec::with_capacity(500);
        let mut n = 0u64;
        for record in records {
            batch.push(record?);
            n += 1;
            if batch.len() == 500 {
                upsert(conn, &batch)?;
                batch.clear();
            }
        }
        upsert(conn, &batch)?;
        set_cursor(conn, cursor)?;
        Ok(n)
    })
}

/// Applies one page of events (in feed order) and moves the cursor to `next`, in one transaction.
pub fn apply(conn: &mut PgConnection, events: Vec<MirrorRecord>, next: &str) -> QueryResult<()> {
    // One row per code (the latest of the page): an upsert may touch a row once per statement.
    let mut latest: std::collections::HashMap<String, MirrorRecord> = std::collections::HashMap::new();
    for e in events {
        match latest.get(&e.code) {
            Some(seen) if seen.version >= e.version => {}
            _ => {
                latest.insert(e.code.clone(), e);
            }
        }
    }
    let rows: Vec<MirrorRecord> = latest.into_values().collect();
    conn.transaction(|conn| {
        upsert(conn, &rows)?;
        set_cursor(conn, next)
    })
}

/// The whole copy, ordered by code.
pub fn records(conn: &mut PgConnection) -> QueryResult<Vec<MirrorRecord>> {
    diesel::sql_query("SELECT code, version, record FROM mirror_enterprises ORDER BY code").load(conn)
}

/// The register's own records in the same shape, ordered by code (to compare a copy with): in
/// the tax agency's view (the authority view, `discrepancies` always listed), as its feed and
/// export carry them.
pub fn register_records(conn: &mut PgConnection) -> QueryResult<Vec<MirrorRecord>> {
    diesel::sql_query(
        "SELECT code, version, CASE WHEN record ? 'discrepancies' THEN record \
                ELSE record || '{\"discrepancies\": []}'::jsonb END AS record \
         FROM enterprises ORDER BY code",
    )
    .load(conn)
}
