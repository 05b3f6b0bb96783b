//! The ownership graph in PostgreSQL (SPEC §7): the computation of an enterprise's beneficial
//! owners through the enterprises that own it, the discrepancies it flags on the record, and the
//! recomputation of everything downstream when an owner changes.
//!
//! **Where the computation runs.** A write computes the written enterprise's own discrepancies in
//! its transaction (they are part of the version it writes): its chains of owners upwards are read
//! from the current records, one query per level, none for an enterprise owned by people only. The
//! enterprises *downstream* of a changed owner (those it holds, directly or through others) are
//! recomputed by a worker that every instance runs ([`run_in_background`]): the write queues its
//! code in `ownership_recompute` in the same transaction, so the queue holds it exactly when the
//! change committed; the worker takes it (an advisory lock per entry: one instance per entry),
//! walks `ownership_links` downwards and recomputes each enterprise there in a transaction of its
//! own, writing a new version (`beneficial_owners_changed`, actor `ownership`) only where the
//! discrepancies change. Why not in the writing transaction: a change at the top of a chain of
//! 1,000 enterprises would hold 1,000 row locks and write 1,000 versions before it answers; the
//! worker leaves the write at its usual cost and brings the chain up to date within its bound
//! (BENCHMARKS.md: the worker polls every [`POLL`] and recomputes about a thousand enterprises a
//! second). A crash loses nothing: an entry leaves the queue only once its recomputation committed.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use rayon::prelude::*;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Double, Jsonb, Text, Timestamptz};

use super::enterprises::{decode, write_version, EventKind, WriteContext};
use super::prepared::prepared;
use super::StoreError;
use crate::domain::beneficial_owners::{self, Computed, Discrepancy, Holder, Holding, MAX_DEPTH};
use crate::domain::enterprise_type::EnterpriseType;
use crate::domain::record::{Enterprise, Owner, OwnerKind};
use crate::domain::status::Status;

/// The actor of the versions the recomputation writes.
pub const ACTOR: &str = "ownership";

/// How often the worker looks at the queue when it found nothing to do.
pub const POLL: Duration = Duration::from_millis(500);

/// The longest the worker waits after failures before it tries again.
const BACKOFF_MAX: Duration = Duration::from_secs(15);

/// The most enterprises one computation reads upwards, and one downstream walk reaches: bounds on
/// the work of one entry whatever the graph (the domain's walk has its own).
const MAX_UPSTREAM: usize = 10_000;
const MAX_DOWNSTREAM: usize = 200_000;

/// Whether an enterprise of this type declares beneficial owners (legal personality).
pub fn declares(kind: EnterpriseType) -> bool {
    kind != EnterpriseType::PrivateEnterprise
}

/// The holdings of every enterprise upstream of a record with `owners` (its enterprise owners,
/// theirs, and so on), read from the current records level by level: one query per level, none
/// when the owners are people. A code the register does not hold is absent.
///
/// With `lock` (a write computing the version it writes) each enterprise read is locked `FOR
/// SHARE` until the write commits: a change of one of them then waits for the write, or the write
/// reads it changed. Either way the change's recomputation downstream, queued at its commit, finds
/// the write's edges: no enterprise keeps a computation made from an owner's state that a committed
/// change replaced.
pub fn upstream(
    conn: &mut PgConnection,
    owners: &[Owner],
    lock: bool,
) -> Result<HashMap<String, Vec<Holding>>, StoreError> {
    upstream_from(conn, enterprise_codes(owners).collect(), lock)
}

/// [`upstream`] of several records at once: `codes` are their enterprise owners.
fn upstream_from(
    conn: &mut PgConnection,
    codes: Vec<String>,
    lock: bool,
) -> Result<HashMap<String, Vec<Holding>>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        code: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<Jsonb>)]
        owners: Option<serde_json::Value>,
    }
    let mut found: HashMap<String, Vec<Holding>> = HashMap::new();
    let mut asked: HashSet<String> = HashSet::new();
    let mut frontier: Vec<String> = codes.into_iter().filter(|c| asked.insert(c.clone())).collect();
    let mut depth = 0;
    while !frontier.is_empty() && depth < MAX_DEPTH && asked.len() <= MAX_UPSTREAM {
        let query = if lock {
            prepared(
                "SELECT code, record->'owners' AS owners FROM enterprises WHERE code = ANY($1) ORDER BY code FOR SHARE",
            )
        } else {
            prepared("SELECT code, record->'owners' AS owners FROM enterprises WHERE code = ANY($1)")
        };
        let rows: Vec<Row> = query.bind::<Array<Text>, _>(&frontier).load(conn)?;
        let mut next = Vec::new();
        for row in rows {
            let owners: Vec<Owner> = row.owners.map(decode).transpose()?.unwrap_or_default();
            next.extend(enterprise_codes(&owners).filter(|c| asked.insert(c.clone())));
            found.insert(row.code, beneficial_owners::holdings(&owners));
        }
        frontier = next;
        depth += 1;
    }
    Ok(found)
}

fn enterprise_codes(owners: &[Owner]) -> impl Iterator<Item = String> + '_ {
    owners.iter().filter(|o| o.kind == OwnerKind::Organisation).filter_map(|o| o.enterprise_code.clone())
}

/// Follows the ownership graph from `record` (as it is).
pub fn compute(conn: &mut PgConnection, record: &Enterprise) -> Result<Computed, StoreError> {
    compute_with(conn, record, false)
}

/// [`compute`], locking what it reads upwards when `lock` ([`upstream`]).
fn compute_with(conn: &mut PgConnection, record: &Enterprise, lock: bool) -> Result<Computed, StoreError> {
    let owners = record.owners.as_deref().unwrap_or_default();
    let graph = upstream(conn, owners, lock)?;
    Ok(beneficial_owners::computed_for(record, &graph))
}

/// The discrepancies the register flags on `record` (the version a write is about to write: what
/// it reads upwards stays locked until the write commits): none for an enterprise that declares
/// no beneficial owners by law (a private enterprise) or is exempt.
pub fn discrepancies_of(conn: &mut PgConnection, record: &Enterprise) -> Result<Option<Vec<Discrepancy>>, StoreError> {
    if !declares(record.enterprise_type) || record.exempt.is_some() {
        return Ok(None);
    }
    Ok(beneficial_owners::flagged(record, &compute_with(conn, record, true)?))
}

/// Sets the discrepancies of `next` (the version being written) and names the field in `changed`
/// when they differ from `before`'s.
pub fn refresh(
    conn: &mut PgConnection,
    before: Option<&Enterprise>,
    next: &mut Enterprise,
    changed: &mut Vec<String>,
) -> Result<(), StoreError> {
    next.discrepancies = discrepancies_of(conn, next)?;
    if before.is_some_and(|b| b.discrepancies != next.discrepancies) && !changed.iter().any(|f| f == "discrepancies") {
        changed.push("discrepancies".into());
    }
    Ok(())
}

/// Whether a change of these fields changes what the graph computes for the enterprise itself.
pub fn touches_own_computation(changed: &[String]) -> bool {
    changed
        .iter()
        .any(|f| matches!(f.as_str(), "owners" | "charter_capital_vnd" | "beneficial_owners" | "exempt" | "type"))
}

/// Whether a change of these fields changes what the graph computes downstream.
pub fn touches_downstream(changed: &[String]) -> bool {
    changed.iter().any(|f| f == "owners" || f == "charter_capital_vnd")
}

/// Writes the graph's edges out of `record` (its enterprise owners) in place of the ones it had.
pub fn sync_links(conn: &mut PgConnection, record: &Enterprise) -> QueryResult<()> {
    let mut shares: HashMap<String, f64> = HashMap::new();
    for o in record.owners.iter().flatten() {
        if let (OwnerKind::Organisation, Some(code)) = (o.kind, &o.enterprise_code) {
            *shares.entry(code.clone()).or_default() += o.share_percent;
        }
    }
    prepared("DELETE FROM ownership_links WHERE owned_code = $1").bind::<Text, _>(&record.code).execute(conn)?;
    if shares.is_empty() {
        return Ok(());
    }
    let (holders, percents): (Vec<String>, Vec<f64>) = shares.into_iter().unzip();
    prepared(
        "INSERT INTO ownership_links (owned_code, holder_code, share_percent) \
         SELECT $1, h, p FROM unnest($2::text[], $3::float8[]) AS t(h, p)",
    )
    .bind::<Text, _>(&record.code)
    .bind::<Array<Text>, _>(&holders)
    .bind::<Array<Double>, _>(&percents)
    .execute(conn)?;
    Ok(())
}

/// What a queue entry asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Recompute the enterprise itself (an imported record).
    Itself,
    /// Recompute every enterprise the enterprise holds, directly or through others.
    Downstream,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Itself => "self",
            Scope::Downstream => "downstream",
        }
    }
}

/// Queues a recomputation, in the caller's transaction.
pub fn queue(conn: &mut PgConnection, code: &str, scope: Scope) -> QueryResult<()> {
    prepared(
        "INSERT INTO ownership_recompute (code, scope) VALUES ($1, $2) \
         ON CONFLICT (code, scope) DO UPDATE SET queued_at = now()",
    )
    .bind::<Text, _>(code)
    .bind::<Text, _>(scope.as_str())
    .execute(conn)?;
    Ok(())
}

/// Every enterprise the enterprises `from` hold, directly or through others, nearest first, one
/// query per level (one in all when they hold none); one of `from` is in it only when a cycle
/// leads back to it.
pub fn downstream_of(conn: &mut PgConnection, from: &[String]) -> Result<Vec<String>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        owned_code: String,
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    let mut frontier = from.to_vec();
    while !frontier.is_empty() && out.len() < MAX_DOWNSTREAM {
        let rows: Vec<Row> =
            prepared("SELECT DISTINCT owned_code FROM ownership_links WHERE holder_code = ANY($1) ORDER BY owned_code")
                .bind::<Array<Text>, _>(&frontier)
                .load(conn)?;
        frontier = rows.into_iter().map(|r| r.owned_code).filter(|c| seen.insert(c.clone())).collect();
        out.extend(frontier.iter().cloned());
    }
    out.truncate(MAX_DOWNSTREAM);
    Ok(out)
}

/// Recomputes one enterprise in a transaction of its own: a new version when its discrepancies
/// change, nothing otherwise (nor for a ceased enterprise, which accepts no change).
pub fn recompute_one(conn: &mut PgConnection, code: &str, at: DateTime<Utc>) -> Result<Option<Enterprise>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Jsonb)]
        record: serde_json::Value,
    }
    conn.transaction(|conn| {
        let row: Option<Row> = prepared("SELECT record FROM enterprises WHERE code = $1 FOR UPDATE")
            .bind::<Text, _>(code)
            .get_result(conn)
            .optional()?;
        let Some(row) = row else { return Ok(None) };
        let record: Enterprise = decode(row.record)?;
        if record.status == Status::Ceased {
            return Ok(None);
        }
        let found = discrepancies_of(conn, &record)?;
        if found == record.discrepancies {
            return Ok(None);
        }
        let mut next = record.clone();
        next.discrepancies = found;
        next.version = record.version + 1;
        next.updated_at = at;
        let ctx = WriteContext {
            actor: ACTOR.into(),
            at,
            effective_on: crate::domain::legal_date(at),
            reason: Some("the ownership graph was recomputed: an owner upstream changed".into()),
        };
        write_version(conn, &next, EventKind::BeneficialOwnersChanged, &["discrepancies"], &ctx)?;
        tracing::info!(
            code,
            version = next.version,
            discrepancies = next.discrepancies().len(),
            "recomputed the beneficial owners of an enterprise downstream of a change"
        );
        Ok(Some(next))
    })
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Queue entries done.
    pub entries: usize,
    /// Enterprises recomputed.
    pub recomputed: usize,
    /// Versions written (discrepancies that changed).
    pub written: usize,
}

/// One round, by one instance at a time (a session advisory lock; another instance skips the
/// round): takes up to `limit` queue entries, oldest first, and recomputes their enterprises in
/// batches. A batch reads its records and everything upstream of them with one query per level,
/// computes each in memory, and writes (through [`recompute_one`], under the record's lock) only
/// those whose discrepancies change; then the entries go, unless queued again meanwhile.
pub fn recompute_round(conn: &mut PgConnection, limit: i64, at: DateTime<Utc>) -> Result<Round, StoreError> {
    #[derive(QueryableByName)]
    struct Entry {
        #[diesel(sql_type = Text)]
        code: String,
        #[diesel(sql_type = Text)]
        scope: String,
        #[diesel(sql_type = Timestamptz)]
        queued_at: DateTime<Utc>,
    }
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let locked = prepared("SELECT pg_try_advisory_lock(76, 1) AS locked").get_result::<Locked>(conn)?.locked;
    if !locked {
        return Ok(Round::default());
    }
    let result = (|| -> Result<Round, StoreError> {
        // Most changed owners hold no other enterprise: their entries go at once, in one
        // statement. (An enterprise that names one as owner in a transaction not yet committed
        // read it `FOR SHARE`, so the change it would miss committed after that transaction: see
        // `upstream`.)
        let mut round = Round::default();
        round.entries += prepared(
            "DELETE FROM ownership_recompute r WHERE r.scope = 'downstream' \
             AND NOT EXISTS (SELECT 1 FROM ownership_links l WHERE l.holder_code = r.code)",
        )
        .execute(conn)?;
        let entries: Vec<Entry> =
            prepared("SELECT code, scope, queued_at FROM ownership_recompute ORDER BY queued_at LIMIT $1")
                .bind::<diesel::sql_types::BigInt, _>(&limit)
                .load(conn)?;
        if entries.is_empty() {
            return Ok(round);
        }
        let changed: Vec<String> =
            entries.iter().filter(|e| e.scope == Scope::Downstream.as_str()).map(|e| e.code.clone()).collect();
        let mut targets: Vec<String> =
            entries.iter().filter(|e| e.scope == Scope::Itself.as_str()).map(|e| e.code.clone()).collect();
        targets.extend(downstream_of(conn, &changed)?);
        targets.sort();
        targets.dedup();
        for batch in targets.chunks(RECOMPUTE_BATCH) {
            let records = records(conn, batch)?;
            let parents: Vec<String> =
                records.iter().flat_map(|r| enterprise_codes(r.owners.as_deref().unwrap_or_default())).collect();
            let graph = upstream_from(conn, parents, false)?;
            for record in &records {
                round.recomputed += 1;
                if record.status == Status::Ceased {
                    continue;
                }
                let found = beneficial_owners::flagged(record, &beneficial_owners::computed_for(record, &graph));
                if found != record.discrepancies && recompute_one(conn, &record.code, at)?.is_some() {
                    round.written += 1;
                }
            }
        }
        let (codes, scopes, times): (Vec<String>, Vec<String>, Vec<DateTime<Utc>>) = entries
            .into_iter()
            .map(|e| (e.code, e.scope, e.queued_at))
            .fold((Vec::new(), Vec::new(), Vec::new()), |(mut c, mut s, mut t), (code, scope, at)| {
                c.push(code);
                s.push(scope);
                t.push(at);
                (c, s, t)
            });
        round.entries += prepared(
            "DELETE FROM ownership_recompute r USING unnest($1::text[], $2::text[], $3::timestamptz[]) AS e(code, scope, at) \
             WHERE r.code = e.code AND r.scope = e.scope AND r.queued_at <= e.at",
        )
        .bind::<Array<Text>, _>(&codes)
        .bind::<Array<Text>, _>(&scopes)
        .bind::<Array<Timestamptz>, _>(&times)
        .execute(conn)?;
        Ok(round)
    })();
    prepared("SELECT pg_advisory_unlock(76, 1) AS locked").execute(conn)?;
    result
}

/// Records read and computed together by the worker.
const RECOMPUTE_BATCH: usize = 500;

/// The recomputation queue, for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueState {
    pub queued: i64,
    /// Age of the oldest entry, 0 when the queue is empty.
    pub oldest_seconds: f64,
}

pub fn queue_state(conn: &mut PgConnection) -> Result<QueueState, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
        #[diesel(sql_type = Double)]
        oldest: f64,
    }
    let row: Row = prepared(
        "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(queued_at)), 0)::float8 AS oldest \
         FROM ownership_recompute",
    )
    .get_result(conn)?;
    Ok(QueueState { queued: row.n, oldest_seconds: row.oldest })
}

/// Runs rounds for as long as the process lives, on a thread of its own: at once while the queue
/// has entries, every [`POLL`] when it is empty. Every instance runs one.
pub fn run_in_background(pool: super::PgPool) -> std::io::Result<()> {
    let mut failures: u32 = 0;
    std::thread::Builder::new().name("ownership".into()).spawn(move || loop {
        // What to do next: go on at once (entries were done), poll, or back off after a failure
        // (doubling from the poll interval up to BACKOFF_MAX, logged once per failure streak and
        // then at each doubling, not every poll while PostgreSQL is away).
        let failure = match pool.get() {
            Ok(mut conn) => match recompute_round(&mut conn, 2000, Utc::now()) {
                Ok(round) => {
                    if round.entries > 0 {
                        tracing::info!(
                            entries = round.entries,
                            recomputed = round.recomputed,
                            versions = round.written,
                            "the ownership graph was recomputed downstream of changes"
                        );
                    }
                    if failures > 0 {
                        tracing::info!("the ownership recomputation runs again");
                        failures = 0;
                    }
                    if round.entries > 0 {
                        continue;
                    }
                    None
                }
                Err(e) => Some(e.to_string()),
            },
            Err(e) => Some(format!("no database connection: {e}")),
        };
        let Some(error) = failure else {
            std::thread::sleep(POLL);
            continue;
        };
        failures += 1;
        let wait = POLL.saturating_mul(1 << failures.min(6)).min(BACKOFF_MAX);
        if failures.is_power_of_two() {
            tracing::warn!(
                error,
                failures,
                retry_in_ms = wait.as_millis() as u64,
                "the ownership recomputation failed; it is tried again"
            );
        }
        std::thread::sleep(wait);
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

/// The current records that name `identity_number` (as an owner, a legal representative or a
/// declared beneficial owner), by the `enterprises_people` index, ordered by code.
pub fn naming(conn: &mut PgConnection, identity_number: &str) -> Result<Vec<Enterprise>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Jsonb)]
        record: serde_json::Value,
    }
    // Materialised first: a person is named by a handful of records, and the planner must not
    // walk the primary key in code order looking for them.
    let rows: Vec<Row> = prepared(
        "WITH m AS MATERIALIZED (SELECT code, record FROM enterprises \
             WHERE jsonb_path_query_array(record, 'lax $.*[*].identity.number') @> jsonb_build_array($1::text)) \
         SELECT record FROM m ORDER BY code LIMIT 10000",
    )
    .bind::<Text, _>(identity_number)
    .load(conn)?;
    rows.into_iter().map(|r| decode(r.record)).collect()
}

/// The current records of `codes`, by code.
pub fn records(conn: &mut PgConnection, codes: &[String]) -> Result<Vec<Enterprise>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Jsonb)]
        record: serde_json::Value,
    }
    let rows: Vec<Row> = prepared("SELECT record FROM enterprises WHERE code = ANY($1) ORDER BY code")
        .bind::<Array<Text>, _>(codes)
        .load(conn)?;
    rows.into_iter().map(|r| decode(r.record)).collect()
}

/// One enterprise with discrepancies flagged.
#[derive(Debug, Clone)]
pub struct Flagged {
    pub code: String,
    pub name: String,
    pub status: String,
    pub discrepancies: Vec<Discrepancy>,
}

/// The enterprises with discrepancies flagged, by code after `after`, at most `limit`.
pub fn flagged(conn: &mut PgConnection, after: &str, limit: i64) -> Result<Vec<Flagged>, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        code: String,
        #[diesel(sql_type = Text)]
        name_vi: String,
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = Jsonb)]
        discrepancies: serde_json::Value,
    }
    let rows: Vec<Row> = prepared(
        "SELECT code, name_vi, status, record->'discrepancies' AS discrepancies FROM enterprises \
         WHERE record ? 'discrepancies' AND code > $1 ORDER BY code LIMIT $2",
    )
    .bind::<Text, _>(after)
    .bind::<diesel::sql_types::BigInt, _>(&limit)
    .load(conn)?;
    rows.into_iter()
        .map(|r| {
            Ok(Flagged { code: r.code, name: r.name_vi, status: r.status, discrepancies: decode(r.discrepancies)? })
        })
        .collect()
}

/// The holdings of every enterprise that holds another (the graph's inner nodes), one row per
/// holding and in batches from a cursor: no record is decoded whole, and memory is the map alone
/// (about 200,000 enterprises at 2 M; decoding their owners' JSON at once took a gigabyte).
fn inner_nodes(conn: &mut PgConnection) -> Result<HashMap<String, Vec<Holding>>, StoreError> {
    #[derive(QueryableByName)]
    struct HoldingRow {
        #[diesel(sql_type = Text)]
        code: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        kind: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        name: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        identity_number: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        enterprise_code: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<Double>)]
        share_percent: Option<f64>,
    }
    diesel::sql_query(
        "DECLARE registry_bo_holders NO SCROLL CURSOR FOR \
         SELECT e.code, o->>'kind' AS kind, o->>'name' AS name, o->'identity'->>'number' AS identity_number, \
                o->>'enterprise_code' AS enterprise_code, (o->>'share_percent')::float8 AS share_percent \
         FROM enterprises e, jsonb_array_elements(coalesce(e.record->'owners', '[]'::jsonb)) AS o \
         WHERE e.code IN (SELECT DISTINCT holder_code FROM ownership_links)",
    )
    .execute(conn)?;
    let mut graph: HashMap<String, Vec<Holding>> = HashMap::new();
    loop {
        let rows: Vec<HoldingRow> = diesel::sql_query("FETCH 5000 FROM registry_bo_holders").load(conn)?;
        let last = rows.len() < 5000;
        for r in rows {
            let name = r.name.unwrap_or_default();
            let holder = match (r.kind.as_deref(), r.identity_number, r.enterprise_code) {
                (Some("individual"), Some(identity_number), _) => Holder::Individual { identity_number, name },
                (Some("organisation"), _, Some(code)) => Holder::Enterprise { code },
                _ => Holder::Untraceable { name },
            };
            graph.entry(r.code).or_default().push(Holding { holder, share_percent: r.share_percent.unwrap_or(0.0) });
        }
        if last {
            break;
        }
    }
    diesel::sql_query("CLOSE registry_bo_holders").execute(conn)?;
    graph.shrink_to_fit();
    Ok(graph)
}

/// What the beneficial-owner export hands its sink.
pub enum ExportItem<'a> {
    /// The snapshot is taken: the feed head inside it.
    Start { head: i64 },
    /// Enterprises with legal personality, in code order, each with what the graph computes for it.
    Batch(&'a [(Enterprise, Computed)]),
}

/// Every enterprise with legal personality, ordered by code, with its computed beneficial owners,
/// from one REPEATABLE READ READ ONLY snapshot. The holdings of every enterprise that holds
/// another are read first (the graph's inner nodes, a small part of the register), so that each
/// record's computation needs no query of its own.
pub fn export(
    conn: &mut PgConnection,
    mut sink: impl FnMut(ExportItem<'_>) -> std::io::Result<()>,
) -> Result<u64, super::feed::ExportError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        record: String,
    }
    conn.build_transaction().repeatable_read().read_only().run(|conn| {
        let head = super::feed::head(conn)?;
        sink(ExportItem::Start { head })?;
        let graph = inner_nodes(conn)?;
        diesel::sql_query(
            "DECLARE registry_bo_export NO SCROLL CURSOR FOR SELECT record::text AS record FROM enterprises \
             WHERE enterprise_type <> 'private_enterprise' ORDER BY code",
        )
        .execute(conn)?;
        // PostgreSQL reads the next rows while this thread computes and writes the last ones: a
        // reader thread fetches into a channel of two batches.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Row>, StoreError>>(2);
        let mut n = 0u64;
        std::thread::scope(|scope| -> Result<(), super::feed::ExportError> {
            let reader = scope.spawn(move || loop {
                let rows = diesel::sql_query("FETCH 1000 FROM registry_bo_export").load::<Row>(conn);
                let last = rows.as_ref().map_or(true, |r| r.len() < 1000);
                if tx.send(rows.map_err(StoreError::from)).is_err() || last {
                    return;
                }
            });
            let mut result = Ok(());
            for rows in rx.iter() {
                let step = (|| -> Result<(), super::feed::ExportError> {
                    let rows = rows?;
                    // Decoded and computed on every core; handed on in code order.
                    let batch: Vec<(Enterprise, Computed)> = rows
                        .par_iter()
                        .map(|row| {
                            let record: Enterprise = serde_json::from_str(&row.record).map_err(|e| {
                                StoreError::Database(diesel::result::Error::DeserializationError(Box::new(e)))
                            })?;
                            let computed = beneficial_owners::computed_for(&record, &graph);
                            Ok((record, computed))
                        })
                        .collect::<Result<_, StoreError>>()?;
                    n += batch.len() as u64;
                    sink(ExportItem::Batch(&batch))?;
                    Ok(())
                })();
                if step.is_err() {
                    result = step;
                    break;
                }
            }
            // Dropping the receiver ends the reader at its next send.
            drop(rx);
            let _ = reader.join();
            result
        })?;
        Ok(n)
    })
}
