//! `registry check`: the database, the feed and the search index checked against each other
//! (SPEC §4). Every check is a set-based query or a pass over the codes; each reports how many
//! rows break it, with a few examples, so that an operator knows where to look.

use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::domain::code::EnterpriseCode;
use crate::store::{self, StoreError};

/// The outcome of one check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    pub check: &'static str,
    /// `ok`, `failed` or `skipped`.
    pub outcome: &'static str,
    pub detail: String,
    /// Up to five offending codes (or positions).
    pub examples: Vec<String>,
}

impl Finding {
    fn ok(check: &'static str, detail: impl Into<String>) -> Finding {
        Finding { check, outcome: "ok", detail: detail.into(), examples: Vec::new() }
    }

    fn failed(check: &'static str, detail: impl Into<String>, examples: Vec<String>) -> Finding {
        Finding { check, outcome: "failed", detail: detail.into(), examples }
    }

    fn skipped(check: &'static str, detail: impl Into<String>) -> Finding {
        Finding { check, outcome: "skipped", detail: detail.into(), examples: Vec::new() }
    }

    pub fn is_failure(&self) -> bool {
        self.outcome == "failed"
    }
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
fn offenders(conn: &mut PgConnection, check: &'static str, what: &str, sql: &str) -> Result<Finding, StoreError> {
    let rows: Vec<Offender> = diesel::sql_query(sql).load(conn)?;
    Ok(match rows.first() {
        None => Finding::ok(check, format!("no {what}")),
        Some(first) => {
            Finding::failed(check, format!("{} {what}", first.total), rows.iter().map(|r| r.example.clone()).collect())
        }
    })
}

/// What the progress bar is told.
pub trait Progress {
    fn stage(&self, name: &str, total: u64);
    fn advance(&self, n: u64);
}

/// Every check of the database and the feed.
pub fn database(conn: &mut PgConnection, progress: &dyn Progress) -> Result<Vec<Finding>, StoreError> {
    let mut findings = Vec::new();
    progress.stage("database", 7);
    findings.push(if store::migrations_applied(conn)? {
        Finding::ok("migrations", "every migration is applied")
    } else {
        Finding::failed("migrations", "migrations are pending: run `registry migrate`", Vec::new())
    });
    progress.advance(1);
    findings.push(offenders(
        conn,
        "versions",
        "enterprises whose versions are not exactly 1..version (first..version when imported without their history)",
        "SELECT e.code AS example, count(*) OVER () AS total FROM enterprises e \
         LEFT JOIN (SELECT code, count(*) AS n, max(version) AS m, min(version) AS low \
                    FROM enterprise_versions GROUP BY code) v ON v.code = e.code \
         WHERE v.code IS NULL OR v.n <> e.version - v.low + 1 OR v.m <> e.version \
            OR (v.low <> 1 AND NOT EXISTS (SELECT 1 FROM enterprise_versions f \
                                           WHERE f.code = e.code AND f.version = v.low AND f.actor = 'import')) \
         ORDER BY e.code LIMIT 5",
    )?);
    progress.advance(1);
    findings.push(offenders(
        conn,
        "current records",
        "enterprises whose current record differs from their latest version or from its columns",
        "SELECT e.code AS example, count(*) OVER () AS total FROM enterprises e \
         JOIN enterprise_versions v ON v.code = e.code AND v.version = e.version \
         WHERE v.record::jsonb <> e.record OR e.record->>'status' <> e.status OR e.record->'name'->>'vi' <> e.name_vi \
            OR (e.record->>'version')::int <> e.version ORDER BY e.code LIMIT 5",
    )?);
    progress.advance(1);
    findings.push(offenders(
        conn,
        "feed events",
        "versions without exactly one feed event",
        "SELECT v.code || ' v' || v.version AS example, count(*) OVER () AS total FROM enterprise_versions v \
         LEFT JOIN feed_events f ON f.code = v.code AND f.version = v.version \
         GROUP BY v.code, v.version HAVING count(f.position) <> 1 ORDER BY v.code, v.version LIMIT 5",
    )?);
    progress.advance(1);
    findings.push(offenders(
        conn,
        "feed head",
        "feed events above the feed head",
        "SELECT position::text AS example, count(*) OVER () AS total FROM feed_events \
         WHERE position > (SELECT position FROM feed_head WHERE id = 1) ORDER BY position LIMIT 5",
    )?);
    progress.advance(1);
    findings.push(offenders(
        conn,
        "units",
        "enterprises whose record lists other units than the units table",
        "SELECT e.code AS example, count(*) OVER () AS total FROM enterprises e \
         LEFT JOIN (SELECT enterprise_code, count(*) AS n FROM units GROUP BY enterprise_code) u \
           ON u.enterprise_code = e.code \
         WHERE jsonb_array_length(e.record->'units') <> coalesce(u.n, 0) ORDER BY e.code LIMIT 5",
    )?);
    progress.advance(1);
    findings.push(offenders(
        conn,
        "licences",
        "licences missing from their enterprise's record",
        "SELECT l.number AS example, count(*) OVER () AS total FROM licenses l \
         JOIN enterprises e ON e.code = l.enterprise_code \
         WHERE NOT coalesce(e.record->'licenses', '[]'::jsonb) @> jsonb_build_array(jsonb_build_object('number', l.number)) \
         ORDER BY l.number LIMIT 5",
    )?);
    progress.advance(1);
    findings.push(codes(conn, progress)?);
    Ok(findings)
}

/// Every code is canonical and has its check digit, read in batches.
fn codes(conn: &mut PgConnection, progress: &dyn Progress) -> Result<Finding, StoreError> {
    use crate::store::schema::enterprises;
    let total: i64 = enterprises::table.count().get_result(conn)?;
    progress.stage("codes", total as u64);
    let mut last = String::new();
    let mut bad = Vec::new();
    let mut bad_total = 0u64;
    loop {
        let batch: Vec<String> = enterprises::table
            .filter(enterprises::code.gt(&last))
            .order(enterprises::code)
            .select(enterprises::code)
            .limit(50_000)
            .load(conn)?;
        let Some(end) = batch.last() else { break };
        last = end.clone();
        for code in &batch {
            if EnterpriseCode::parse(code).map(|c| c.as_str() != code).unwrap_or(true) {
                bad_total += 1;
                if bad.len() < 5 {
                    bad.push(code.clone());
                }
            }
        }
        progress.advance(batch.len() as u64);
    }
    Ok(if bad_total == 0 {
        Finding::ok("codes", format!("{total} codes, every check digit valid"))
    } else {
        Finding::failed("codes", format!("{bad_total} codes without a valid check digit"), bad)
    })
}

#[derive(QueryableByName)]
struct CodeStatus {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    status: String,
}

/// The search index against the database: its position, its size, and a random sample of
/// enterprises found by code with their status.
pub fn index(conn: &mut PgConnection, root: &Path, sample: i64) -> Result<Vec<Finding>, StoreError> {
    let index = match registry_index::open_current(root) {
        Ok(index) => index,
        Err(e) => {
            return Ok(vec![Finding::skipped(
                "index",
                format!("cannot open {} ({e}); a running service holds it and reports it in /readyz", root.display()),
            )])
        }
    };
    let mut findings = Vec::new();
    let head = store::feed::head(conn)?;
    let position = index.position().unwrap_or(0) as i64;
    let lag = head - position;
    findings.push(if lag >= 0 {
        Finding::ok("index position", format!("at feed position {position}, {lag} behind the head (a service catches up)"))
    } else {
        Finding::failed(
            "index position",
            format!("at feed position {position}, beyond the head {head}: it belongs to another database; run `registry reindex`"),
            Vec::new(),
        )
    });
    use crate::store::schema::enterprises;
    let count: i64 = enterprises::table.count().get_result(conn)?;
    let docs = index.num_docs() as i64;
    findings.push(if lag != 0 || docs == count {
        Finding::ok("index documents", format!("{docs} documents for {count} enterprises"))
    } else {
        Finding::failed(
            "index documents",
            format!("{docs} documents for {count} enterprises with nothing left to apply: run `registry reindex`"),
            Vec::new(),
        )
    });
    if lag == 0 {
        let rows: Vec<CodeStatus> = diesel::sql_query(
            "SELECT code, status FROM enterprises WHERE random() < $1::float8 / greatest($2, 1) LIMIT $1",
        )
        .bind::<BigInt, _>(sample)
        .bind::<BigInt, _>(count)
        .load(conn)?;
        let mut wrong = Vec::new();
        for row in &rows {
            let request = registry_index::SearchRequest { q: row.code.clone(), limit: 1, ..Default::default() };
            let found = index.search(&request).ok().and_then(|page| page.hits.into_iter().next());
            if !found.is_some_and(|hit| hit.code == row.code && hit.status == row.status) {
                wrong.push(row.code.clone());
            }
        }
        findings.push(if wrong.is_empty() {
            Finding::ok("index sample", format!("{} sampled enterprises found by code with their status", rows.len()))
        } else {
            let n = wrong.len();
            wrong.truncate(5);
            Finding::failed(
                "index sample",
                format!(
                    "{n} of {} sampled enterprises missing or stale in the index: run `registry reindex`",
                    rows.len()
                ),
                wrong,
            )
        });
    }
    Ok(findings)
}
