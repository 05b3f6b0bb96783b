//! The queries of `registry check` (SPEC §4): each consistency check is one set-based query that
//! counts the rows breaking it and gives the first few.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::enterprises;
use super::StoreError;

/// The rows breaking one check: how many, and the first five (codes or positions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offenders {
    pub total: i64,
    pub examples: Vec<String>,
}

#[derive(QueryableByName)]
struct Offender {
    #[diesel(sql_type = Text)]
    example: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// Runs `sql`, which selects `example` (text) and `total` (the count of all offenders, as the
/// window `count(*) OVER ()`), at most five rows.
fn offenders(conn: &mut PgConnection, sql: &str) -> Result<Offenders, StoreError> {
    let rows: Vec<Offender> = diesel::sql_query(sql).load(conn)?;
    Ok(Offenders {
        total: rows.first().map_or(0, |r| r.total),
        examples: rows.into_iter().map(|r| r.example).collect(),
    })
}

/// Enterprises whose versions are not exactly 1..version (first..version when imported without
/// their history).
pub fn version_gaps(conn: &mut PgConnection) -> Result<Offenders, StoreError> {
    offenders(
        conn,
        "SELECT e.code AS example, count(*) OVER () AS total FROM enterprises e \
         LEFT JOIN (SELECT code, count(*) AS n, max(version) AS m, min(version) AS low \
                    FROM enterprise_versions GROUP BY code) v ON v.code = e.code \
         WHERE v.code IS NULL OR v.n <> e.version - v.low + 1 OR v.m <> e.version \
            OR (v.low <> 1 AND NOT EXISTS (SELECT 1 FROM enterprise_versions f \
                                           WHERE f.code = e.code AND f.version = v.low AND f.actor = 'import')) \
         ORDER BY e.code LIMIT 5",
    )
}

/// Enterprises whose current record differs from their latest version or from its columns.
pub fn stale_current_records(conn: &mut PgConnection) -> Result<Offenders, StoreError> {
    offenders(
        conn,
        "SELECT e.code AS example, count(*) OVER () AS total FROM enterprises e \
         JOIN enterprise_versions v ON v.code = e.code AND v.version = e.version \
         WHERE v.record::jsonb <> e.record OR e.record->>'status' <> e.status OR e.record->'name'->>'vi' <> e.name_vi \
            OR (e.record->>'version')::int <> e.version ORDER BY e.code LIMIT 5",
    )
}

/// Versions without exactly one feed event (examples `code vN`).
pub fn versions_without_one_event(conn: &mut PgConnection) -> Result<Offenders, StoreError> {
    offenders(
        conn,
        "SELECT v.code || ' v' || v.version AS example, count(*) OVER () AS total FROM enterprise_versions v \
         LEFT JOIN feed_events f ON f.code = v.code AND f.version = v.version \
         GROUP BY v.code, v.version HAVING count(f.position) <> 1 ORDER BY v.code, v.version LIMIT 5",
    )
}

/// Feed events above the feed head (examples are positions).
pub fn events_above_head(conn: &mut PgConnection) -> Result<Offenders, StoreError> {
    offenders(
        conn,
        "SELECT position::text AS example, count(*) OVER () AS total FROM feed_events \
         WHERE position > (SELECT position FROM feed_head WHERE id = 1) ORDER BY position LIMIT 5",
    )
}

/// Enterprises whose record lists other units than the units table.
pub fn unit_mismatches(conn: &mut PgConnection) -> Result<Offenders, StoreError> {
    offenders(
        conn,
        "SELECT e.code AS example, count(*) OVER () AS total FROM enterprises e \
         LEFT JOIN (SELECT enterprise_code, count(*) AS n FROM units GROUP BY enterprise_code) u \
           ON u.enterprise_code = e.code \
         WHERE jsonb_array_length(e.record->'units') <> coalesce(u.n, 0) ORDER BY e.code LIMIT 5",
    )
}

/// Unit rows that differ from the unit their enterprise's record lists (a status or an address
/// changed in one and not the other; examples are unit codes).
pub fn unit_rows_out_of_step(conn: &mut PgConnection) -> Result<Offenders, StoreError> {
    offenders(
        conn,
        "SELECT u.unit_code AS example, count(*) OVER () AS total FROM units u \
         JOIN enterprises e ON e.code = u.enterprise_code \
         WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(e.record->'units') x WHERE x = u.record) \
         ORDER BY u.unit_code LIMIT 5",
    )
}

/// Suspended enterprises the register's schedule would never end: no `next_due` (SPEC §2.3).
pub fn suspensions_unscheduled(conn: &mut PgConnection) -> Result<Offenders, StoreError> {
    offenders(
        conn,
        "SELECT code AS example, count(*) OVER () AS total FROM enterprises \
         WHERE status = 'suspended' AND next_due IS NULL ORDER BY code LIMIT 5",
    )
}

/// Licences missing from their enterprise's record (examples are licence numbers).
pub fn licences_missing_from_records(conn: &mut PgConnection) -> Result<Offenders, StoreError> {
    offenders(
        conn,
        "SELECT l.number AS example, count(*) OVER () AS total FROM licenses l \
         JOIN enterprises e ON e.code = l.enterprise_code \
         WHERE NOT coalesce(e.record->'licenses', '[]'::jsonb) @> jsonb_build_array(jsonb_build_object('number', l.number)) \
         ORDER BY l.number LIMIT 5",
    )
}

/// Edges of the ownership graph (`ownership_links`) that differ from the enterprise owners the
/// records list: missing, left over, or with another share (examples are `owned<-holder`).
pub fn ownership_links_out_of_step(conn: &mut PgConnection) -> Result<Offenders, StoreError> {
    offenders(
        conn,
        "WITH expected AS (SELECT e.code AS owned_code, o->>'enterprise_code' AS holder_code, \
                  sum((o->>'share_percent')::double precision) AS share \
              FROM enterprises e, jsonb_array_elements(coalesce(e.record->'owners', '[]'::jsonb)) AS o \
              WHERE o->>'enterprise_code' IS NOT NULL GROUP BY 1, 2) \
         SELECT coalesce(x.owned_code, l.owned_code) || '<-' || coalesce(x.holder_code, l.holder_code) AS example, \
                count(*) OVER () AS total \
         FROM expected x FULL JOIN ownership_links l USING (owned_code, holder_code) \
         WHERE x.owned_code IS NULL OR l.owned_code IS NULL OR abs(x.share - l.share_percent) > 1e-6 \
         ORDER BY 1 LIMIT 5",
    )
}

/// At most `limit` enterprise codes after `after`, in order (a pass over every code in batches).
pub fn codes_after(conn: &mut PgConnection, after: &str, limit: i64) -> Result<Vec<String>, StoreError> {
    Ok(enterprises::table
        .filter(enterprises::code.gt(after))
        .order(enterprises::code)
        .select(enterprises::code)
        .limit(limit)
        .load(conn)?)
}

/// An enterprise's code and status, as stored.
#[derive(Debug, Clone, QueryableByName)]
pub struct CodeStatus {
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Text)]
    pub status: String,
}

/// A random sample of about `sample` enterprises (at most that many) out of `count`.
pub fn sample(conn: &mut PgConnection, sample: i64, count: i64) -> Result<Vec<CodeStatus>, StoreError> {
    Ok(diesel::sql_query("SELECT code, status FROM enterprises WHERE random() < $1::float8 / greatest($2, 1) LIMIT $1")
        .bind::<BigInt, _>(sample)
        .bind::<BigInt, _>(count)
        .load(conn)?)
}
