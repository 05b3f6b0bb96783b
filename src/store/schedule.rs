//! The register's schedule (SPEC §2.3): applies, on their day, the status changes filed for later,
//! the ends of suspensions and the expiries of licences, each as a new version by actor
//! `schedule` with its own effective date.
//!
//! Exactly once however many instances run: an instance takes an enterprise's row lock (skipping
//! one another instance or a writer holds), reads the record, and applies what
//! [`schedule::apply_next`] finds due until nothing is; each applied step is gone from the record
//! it writes, so the next instance to take the lock finds nothing left. After downtime the first
//! round applies whatever fell due meanwhile, in order, each with its own `effective_on`.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

use super::enterprises::{decode, sync_units, write_version, EventKind, WriteContext};
use super::prepared::prepared;
use super::schema::enterprises;
use super::StoreError;
use crate::domain::record::Enterprise;
use crate::domain::schedule::{self, AppliedKind};

/// The actor of the versions the schedule writes.
pub const ACTOR: &str = "schedule";

/// Enterprises with something due on or before `today`, the earliest first, at most `limit`.
pub fn due(conn: &mut PgConnection, today: NaiveDate, limit: i64) -> Result<Vec<String>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        code: String,
    }
    let rows: Vec<Row> = prepared("SELECT code FROM enterprises WHERE next_due <= $1 ORDER BY next_due, code LIMIT $2")
        .bind::<Date, _>(&today)
        .bind::<BigInt, _>(&limit)
        .load(conn)?;
    Ok(rows.into_iter().map(|r| r.code).collect())
}

/// Applies what is due on or before `today` for one enterprise, in one transaction: the versions
/// written, oldest first. Nothing when another transaction holds the record (it is applied by
/// whoever holds it, or in the next round).
pub fn apply_due_for(
    conn: &mut PgConnection,
    code: &str,
    today: NaiveDate,
    at: DateTime<Utc>,
) -> Result<Vec<Enterprise>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        record: serde_json::Value,
    }
    conn.transaction(|conn| {
        let row: Option<Row> = prepared("SELECT record FROM enterprises WHERE code = $1 FOR UPDATE SKIP LOCKED")
            .bind::<Text, _>(code)
            .get_result(conn)
            .optional()?;
        let Some(row) = row else { return Ok(Vec::new()) };
        let mut record: Enterprise = decode(row.record)?;
        let mut written = Vec::new();
        while let Some(applied) = schedule::apply_next(&record, today) {
            let mut next = applied.record;
            next.version = record.version + 1;
            next.updated_at = at;
            let kind = match applied.kind {
                AppliedKind::StatusChanged => EventKind::StatusChanged,
                AppliedKind::UnitChanged => EventKind::UnitChanged,
                AppliedKind::LicenseChanged => EventKind::LicenseChanged,
            };
            let ctx = WriteContext {
                actor: ACTOR.into(),
                at,
                effective_on: applied.effective_on,
                reason: applied.reason.clone(),
            };
            let fields: Vec<&str> = applied.changed.iter().map(String::as_str).collect();
            write_version(conn, &next, kind, &fields, &ctx)?;
            sync_units(conn, &record, &next)?;
            tracing::info!(
                code,
                version = next.version,
                kind = kind.as_str(),
                effective_on = %applied.effective_on,
                reason = applied.reason.as_deref().unwrap_or(""),
                "applied a scheduled step"
            );
            record = next;
            written.push(record.clone());
        }
        // A record whose column said something was due but whose steps say otherwise (written
        // by an older binary): the column is put right so that it is not read again.
        if written.is_empty() {
            diesel::update(enterprises::table.find(code))
                .set(enterprises::next_due.eq(schedule::next_due(&record)))
                .execute(conn)?;
        }
        Ok(written)
    })
}

/// One round: applies everything due on or before `today`, batch by batch, until no enterprise
/// has anything due or the only ones left are held by other transactions. Returns the versions
/// written.
pub fn apply_due(
    conn: &mut PgConnection,
    today: NaiveDate,
    at: DateTime<Utc>,
    on_written: &mut dyn FnMut(&Enterprise),
) -> Result<usize, StoreError> {
    const BATCH: i64 = 200;
    let mut count = 0;
    loop {
        let codes = due(conn, today, BATCH)?;
        let mut progressed = false;
        for code in &codes {
            let written = apply_due_for(conn, code, today, at)?;
            if let Some(last) = written.last() {
                on_written(last);
                progressed = true;
            }
            count += written.len();
        }
        if codes.len() < BATCH as usize || !progressed {
            return Ok(count);
        }
    }
}

/// Runs a round at once (what fell due while no instance ran is applied on start-up) and then
/// every `interval`, on a thread of its own, for as long as the process lives. Every instance runs
/// one: the row locks make each step apply once.
pub fn run_in_background(pool: super::PgPool, interval: std::time::Duration) -> std::io::Result<()> {
    std::thread::Builder::new().name("schedule".into()).spawn(move || loop {
        let now = Utc::now();
        let today = crate::domain::legal_date(now);
        match pool.get() {
            Ok(mut conn) => match apply_due(&mut conn, today, now, &mut |_| {}) {
                Ok(0) => {}
                Ok(n) => tracing::info!(versions = n, %today, "the schedule applied what fell due"),
                Err(e) => tracing::warn!(error = %e, "the schedule's round failed; it is tried again"),
            },
            Err(e) => tracing::warn!(error = %e, "the schedule found no database connection; it is tried again"),
        }
        std::thread::sleep(interval);
    })?;
    Ok(())
}
