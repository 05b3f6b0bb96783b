//! `registry check`: the database, the feed and the search index checked against each other
//! (SPEC §4). Every check is a set-based query or a pass over the codes; each reports how many
//! rows break it, with a few examples, so that an operator knows where to look.

use std::path::Path;

use diesel::PgConnection;

use crate::domain::code::EnterpriseCode;
use crate::store::check::{self, CodeStatus, Offenders};
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

    /// `ok` when the check's query found no offender, else `failed` with the first few.
    fn from_offenders(check: &'static str, what: &str, offenders: Offenders) -> Finding {
        if offenders.examples.is_empty() {
            Finding::ok(check, format!("no {what}"))
        } else {
            Finding::failed(check, format!("{} {what}", offenders.total), offenders.examples)
        }
    }
}

/// What the progress bar is told.
pub trait Progress {
    fn stage(&self, name: &str, total: u64);
    fn advance(&self, n: u64);
}

type Query = fn(&mut PgConnection) -> Result<Offenders, StoreError>;

/// The set-based checks of the database and the feed: name, what breaks it, the query.
const QUERIES: &[(&str, &str, Query)] = &[
    (
        "versions",
        "enterprises whose versions are not exactly 1..version (first..version when imported without their history)",
        check::version_gaps,
    ),
    (
        "current records",
        "enterprises whose current record differs from their latest version or from its columns",
        check::stale_current_records,
    ),
    ("feed events", "versions without exactly one feed event", check::versions_without_one_event),
    ("feed head", "feed events above the feed head", check::events_above_head),
    ("units", "enterprises whose record lists other units than the units table", check::unit_mismatches),
    ("unit rows", "unit rows that differ from the unit their enterprise's record lists", check::unit_rows_out_of_step),
    (
        "schedule",
        "suspended enterprises with no day on which the schedule ends the suspension",
        check::suspensions_unscheduled,
    ),
    ("licences", "licences missing from their enterprise's record", check::licences_missing_from_records),
    (
        "ownership graph",
        "edges of the ownership graph that differ from the enterprise owners the records list",
        check::ownership_links_out_of_step,
    ),
];

/// Every check of the database and the feed.
pub fn database(conn: &mut PgConnection, progress: &dyn Progress) -> Result<Vec<Finding>, StoreError> {
    progress.stage("database", 1 + QUERIES.len() as u64);
    let mut findings = vec![if store::migrations_applied(conn)? {
        Finding::ok("migrations", "every migration is applied")
    } else {
        Finding::failed("migrations", "migrations are pending: run `registry migrate`", Vec::new())
    }];
    progress.advance(1);
    for (check, what, query) in QUERIES {
        findings.push(Finding::from_offenders(check, what, query(conn)?));
        progress.advance(1);
    }
    findings.push(codes(conn, progress)?);
    Ok(findings)
}

/// Every code is canonical and has its check digit, read in batches.
fn codes(conn: &mut PgConnection, progress: &dyn Progress) -> Result<Finding, StoreError> {
    let total = store::enterprise_count(conn)?;
    progress.stage("codes", total as u64);
    let mut last = String::new();
    let mut bad = Vec::new();
    let mut bad_total = 0u64;
    loop {
        let batch = check::codes_after(conn, &last, 50_000)?;
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
    let head = store::feed::head(conn)?;
    let position = index.position().unwrap_or(0) as i64;
    let lag = head - position;
    let mut findings = vec![if lag >= 0 {
        Finding::ok(
            "index position",
            format!("at feed position {position}, {lag} behind the head (a service catches up)"),
        )
    } else {
        Finding::failed(
            "index position",
            format!("at feed position {position}, beyond the head {head}: it belongs to another database; run `registry reindex`"),
            Vec::new(),
        )
    }];
    let count = store::enterprise_count(conn)?;
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
        findings.push(index_sample(&index, &check::sample(conn, sample, count)?));
    }
    Ok(findings)
}

/// Whether the index finds each of `rows` by its code, with its status.
fn index_sample(index: &registry_index::SearchIndex, rows: &[CodeStatus]) -> Finding {
    let mut wrong = Vec::new();
    for row in rows {
        let request = registry_index::SearchRequest { q: row.code.clone(), limit: 1, ..Default::default() };
        let found = index.search(&request).ok().and_then(|page| page.hits.into_iter().next());
        if !found.is_some_and(|hit| hit.code == row.code && hit.status == row.status) {
            wrong.push(row.code.clone());
        }
    }
    if wrong.is_empty() {
        return Finding::ok(
            "index sample",
            format!("{} sampled enterprises found by code with their status", rows.len()),
        );
    }
    let n = wrong.len();
    wrong.truncate(5);
    Finding::failed(
        "index sample",
        format!("{n} of {} sampled enterprises missing or stale in the index: run `registry reindex`", rows.len()),
        wrong,
    )
}
