//! Bulk loading for `registry import`: whole batches of enterprises through `COPY` (text
//! format), each batch one transaction with its versions, units, feed events, the codes' serial
//! counters and the import's own progress, so that a batch is loaded whole or not at all and an
//! interrupted import resumes after its last committed batch.
//!
//! Feed events keep the feed's guarantee (README, "Change feed"): a batch takes its positions from
//! `feed_head` as its last statements before COMMIT, all at once, under the row lock every write
//! takes, so they are handed out in commit order like any other write's. It says so with
//! `registry.bulk_load`, which keeps the online writes' commit trigger (migration feed_at_commit)
//! from giving its versions a second event.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use diesel::pg::{CopyFormat, CopyTarget};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz};

use super::schema::{enterprise_versions, enterprises, feed_events, units};
use crate::domain::code::UnitCode;
use crate::domain::record::{Enterprise, Unit};

/// The actor of imported versions.
pub const ACTOR: &str = "import";

/// One import of one file, as remembered between runs.
#[derive(Debug, Clone, QueryableByName)]
pub struct Run {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub next_offset: i64,
    #[diesel(sql_type = BigInt)]
    pub next_line: i64,
    #[diesel(sql_type = BigInt)]
    pub enterprises: i64,
    #[diesel(sql_type = BigInt)]
    pub versions: i64,
    #[diesel(sql_type = BigInt)]
    pub refused: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub finished_at: Option<DateTime<Utc>>,
}

/// The run of the file with `file_key`: the one already started (to resume), or a new one.
pub fn start_run(conn: &mut PgConnection, file_key: &str, path: &str, size: i64) -> QueryResult<Run> {
    diesel::sql_query(
        "INSERT INTO import_runs (file_key, path, size) VALUES ($1, $2, $3) \
         ON CONFLICT (file_key) DO UPDATE SET path = EXCLUDED.path \
         RETURNING id, next_offset, next_line, enterprises, versions, refused, finished_at",
    )
    .bind::<Text, _>(file_key)
    .bind::<Text, _>(path)
    .bind::<BigInt, _>(size)
    .get_result(conn)
}

/// Marks a run done: every line was loaded or refused.
pub fn finish_run(conn: &mut PgConnection, run_id: i64) -> QueryResult<()> {
    diesel::sql_query("UPDATE import_runs SET finished_at = now(), updated_at = now() WHERE id = $1")
        .bind::<BigInt, _>(run_id)
        .execute(conn)?;
    Ok(())
}

/// The tables a bulk import fills, whose secondary indexes it may defer.
const DEFERRABLE: &[&str] = &["enterprises", "enterprise_versions", "feed_events"];

/// The tables whose foreign keys a bulk import may defer (all of them point at `enterprises` or
/// `enterprise_versions`, which the same transactions fill).
const DEFERRABLE_KEYS: &[&str] = &["enterprise_versions", "feed_events", "units", "licenses"];

/// What a bulk import left to build after its load, or built then.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Deferred {
    /// Secondary indexes.
    pub indexes: usize,
    /// Foreign keys.
    pub keys: usize,
}

/// When the register holds no enterprise yet: drops the secondary indexes of the tables the
/// import fills (those that back no constraint: keys and uniqueness stay checked) and their
/// foreign keys, remembering on the run, in the same transaction, how to build them again.
/// `None` when the register holds enterprises: it keeps its indexes and keys, the service may be
/// using them.
///
/// Every row an import writes is consistent with the keys by construction (an enterprise, its
/// versions, their events, its units and licences are written by one transaction), as is every
/// write of the service meanwhile; adding the keys back checks it all again, in one join each.
pub fn defer_for_load(conn: &mut PgConnection, run_id: i64) -> QueryResult<Option<Deferred>> {
    #[derive(QueryableByName)]
    struct Def {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        definition: String,
    }
    conn.transaction(|conn| {
        let empty = !diesel::select(diesel::dsl::exists(enterprises::table.select(enterprises::code)))
            .get_result::<bool>(conn)?;
        if !empty {
            return Ok(None);
        }
        let indexes: Vec<Def> = diesel::sql_query(
            "SELECT i.tablename::text AS table_name, i.indexname::text AS name, i.indexdef AS definition \
             FROM pg_indexes i \
             JOIN pg_class c ON c.relname = i.indexname AND c.relkind = 'i' \
             JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = i.schemaname \
             WHERE i.schemaname = current_schema() AND i.tablename = ANY($1) \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid) \
             ORDER BY i.indexname",
        )
        .bind::<Array<Text>, _>(DEFERRABLE)
        .load(conn)?;
        let keys: Vec<Def> = diesel::sql_query(
            "SELECT c.conrelid::regclass::text AS table_name, c.conname::text AS name, \
                    pg_get_constraintdef(c.oid) AS definition \
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname = ANY($1) \
             ORDER BY c.conname",
        )
        .bind::<Array<Text>, _>(DEFERRABLE_KEYS)
        .load(conn)?;
        let index_statements: Vec<&str> = indexes.iter().map(|d| d.definition.as_str()).collect();
        let key_statements: Vec<String> =
            keys.iter().map(|k| add_key_statement(&k.table_name, &k.name, &k.definition)).collect();
        remember(conn, run_id, "deferred_indexes", &index_statements)?;
        remember(conn, run_id, "deferred_keys", &key_statements)?;
        for d in &indexes {
            diesel::sql_query(format!("DROP INDEX {}", quote_ident(&d.name))).execute(conn)?;
        }
        for k in &keys {
            diesel::sql_query(format!("ALTER TABLE {} DROP CONSTRAINT {}", k.table_name, quote_ident(&k.name)))
                .execute(conn)?;
        }
        Ok(Some(Deferred { indexes: indexes.len(), keys: keys.len() }))
    })
}

/// Appends `statements` to the run's list in `column` (`deferred_indexes` or `deferred_keys`).
fn remember<S: AsRef<str>>(conn: &mut PgConnection, run_id: i64, column: &str, statements: &[S]) -> QueryResult<()> {
    if statements.is_empty() {
        return Ok(());
    }
    let statements: Vec<&str> = statements.iter().map(AsRef::as_ref).collect();
    diesel::sql_query(format!("UPDATE import_runs SET {column} = {column} || $2 WHERE id = $1"))
        .bind::<BigInt, _>(run_id)
        .bind::<Array<Text>, _>(&statements)
        .execute(conn)?;
    Ok(())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A statement that adds the key `name` to `table` (as `pg_get_constraintdef` gives it) unless the
/// table has it already: safe to run twice.
fn add_key_statement(table: &str, name: &str, definition: &str) -> String {
    format!(
        "DO $deferred$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = '{}' AND conrelid = '{}'::regclass) \
         THEN ALTER TABLE {table} ADD CONSTRAINT {} {definition}; END IF; END $deferred$",
        name.replace('\'', "''"),
        table.replace('\'', "''"),
        quote_ident(name),
    )
}

/// Builds every index and adds every foreign key an import deferred (this run's or an interrupted
/// one's), indexes first, then forgets them. Returns what it built.
pub fn restore_deferred(conn: &mut PgConnection) -> QueryResult<Deferred> {
    diesel::sql_query("SET maintenance_work_mem = '512MB'").execute(conn)?;
    let indexes = run_deferred(conn, "deferred_indexes", if_not_exists);
    diesel::sql_query("RESET maintenance_work_mem").execute(conn)?;
    Ok(Deferred { indexes: indexes?, keys: run_deferred(conn, "deferred_keys", str::to_string)? })
}

/// Runs every statement remembered in `column` of every run, as `prepare` makes it safe to run
/// twice, then empties the run's list. Returns how many it ran.
fn run_deferred(conn: &mut PgConnection, column: &str, prepare: fn(&str) -> String) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Pending {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Array<Text>)]
        statements: Vec<String>,
    }
    let runs: Vec<Pending> = diesel::sql_query(format!(
        "SELECT id, {column} AS statements FROM import_runs WHERE {column} <> '{{}}' ORDER BY id"
    ))
    .load(conn)?;
    let mut done = 0;
    for run in runs {
        for statement in run.statements.iter().map(|s| prepare(s)) {
            tracing::info!(%statement, "building what a bulk import deferred");
            diesel::sql_query(statement).execute(conn)?;
            done += 1;
        }
        diesel::sql_query(format!("UPDATE import_runs SET {column} = '{{}}' WHERE id = $1"))
            .bind::<BigInt, _>(run.id)
            .execute(conn)?;
    }
    Ok(done)
}

/// `CREATE [UNIQUE] INDEX name ...` as `CREATE [UNIQUE] INDEX IF NOT EXISTS name ...`.
fn if_not_exists(definition: &str) -> String {
    for prefix in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = definition.strip_prefix(prefix) {
            if !rest.starts_with("IF NOT EXISTS ") {
                return format!("{prefix}IF NOT EXISTS {rest}");
            }
        }
    }
    definition.to_string()
}

/// Refreshes the planner's statistics of the tables an import filled.
pub fn analyze(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("ANALYZE enterprises, enterprise_versions, feed_events, units, licenses").execute(conn)?;
    Ok(())
}

/// A refused line, as reported and remembered.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Refusal {
    #[diesel(sql_type = BigInt)]
    pub line: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub code: Option<String>,
    #[diesel(sql_type = Text)]
    pub reason: String,
}

/// The lines a run refused, in line order.
pub fn refusals(conn: &mut PgConnection, run_id: i64) -> QueryResult<Vec<Refusal>> {
    diesel::sql_query("SELECT line, code, reason FROM import_refusals WHERE run_id = $1 ORDER BY line")
        .bind::<BigInt, _>(run_id)
        .load(conn)
}

/// One version of an enterprise, its `COPY` row parts prepared.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub line: i64,
    pub version: i32,
    /// `registered`, `changed`, `status_changed` or `unit_registered`.
    pub kind: &'static str,
    pub changed_fields: Vec<String>,
    pub recorded_at: DateTime<Utc>,
    pub effective_on: NaiveDate,
    /// The record as JSON, escaped for the `COPY` text format.
    pub record: String,
}

/// An enterprise to load: its versions in order (the last is the current record), the columns of
/// its current record and its units' rows.
#[derive(Debug, Clone)]
pub struct EnterpriseRows {
    pub code: String,
    pub versions: Vec<VersionRow>,
    /// The `enterprises` row of the current record, without its trailing newline.
    pub current: String,
    /// The `units` rows of the current record.
    pub units: String,
}

/// What a batch holds, in file order: enterprises to load and refused lines to remember.
#[derive(Debug, Clone)]
pub enum Item {
    Load(EnterpriseRows),
    Refuse(Refusal),
}

/// Where the run stands after a batch.
#[derive(Debug, Clone, Copy)]
pub struct Position {
    pub next_offset: i64,
    pub next_line: i64,
}

/// What a committed batch did.
#[derive(Debug, Default)]
pub struct Loaded {
    pub enterprises: u64,
    pub versions: u64,
    /// Lines refused in the transaction: enterprises whose code was registered meanwhile.
    pub refused: Vec<Refusal>,
    /// The feed positions the batch's events took, first and last (none without events).
    pub positions: Option<(i64, i64)>,
}

/// Takes the run's lock (a session-level advisory lock): false when another session holds it.
pub fn try_lock_run(conn: &mut PgConnection, run_id: i64) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let row: Locked = diesel::sql_query(
        "SELECT pg_try_advisory_lock(hashtextextended('registry import run ' || $1::text, 0)) AS locked",
    )
    .bind::<BigInt, _>(run_id)
    .get_result(conn)?;
    Ok(row.locked)
}

pub fn unlock_run(conn: &mut PgConnection, run_id: i64) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_unlock(hashtextextended('registry import run ' || $1::text, 0))")
        .bind::<BigInt, _>(run_id)
        .execute(conn)?;
    Ok(())
}

/// Which of `codes` are in the register.
pub fn existing_codes(conn: &mut PgConnection, codes: &[&str]) -> QueryResult<std::collections::HashSet<String>> {
    if codes.is_empty() {
        return Ok(Default::default());
    }
    Ok(diesel::sql_query("SELECT code FROM enterprises WHERE code = ANY($1)")
        .bind::<Array<Text>, _>(codes)
        .load::<Code>(conn)?
        .into_iter()
        .map(|c| c.code)
        .collect())
}

/// The `COPY` text form of a field: backslash, tab, newline and carriage return escaped.
pub fn push_copy_text(out: &mut String, value: &str) {
    let mut start = 0;
    for (i, b) in value.bytes().enumerate() {
        let escaped = match b {
            b'\\' => "\\\\",
            b'\t' => "\\t",
            b'\n' => "\\n",
            b'\r' => "\\r",
            _ => continue,
        };
        out.push_str(&value[start..i]);
        out.push_str(escaped);
        start = i + 1;
    }
    out.push_str(&value[start..]);
}

fn push_optional(out: &mut String, value: Option<&str>) {
    match value {
        Some(v) => push_copy_text(out, v),
        None => out.push_str("\\N"),
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The `enterprises` row of a current record (`record_json`: its JSON, escaped), with the name
/// keys of the art. 41 check and the first day something falls due for the register's schedule
/// (an imported suspension whose `until` has passed ends once the service runs).
pub fn enterprise_row(record: &Enterprise, record_json: &str) -> String {
    let (proper, keys) = super::enterprises::name_keys(record);
    let mut row = String::with_capacity(record_json.len() + 256);
    for field in [
        record.code.as_str(),
        record.enterprise_type.as_str(),
        record.status.as_str(),
        record.name.vi.as_str(),
        record.head_office.current_province_code(),
    ] {
        push_copy_text(&mut row, field);
        row.push('\t');
    }
    row.push_str(&record.registered_on.to_string());
    row.push('\t');
    row.push_str(&record.version.to_string());
    row.push('\t');
    row.push_str(record_json);
    row.push('\t');
    row.push_str(&timestamp(record.updated_at));
    for field in [Some(proper.as_str()), Some(keys.read_key.as_str()), Some(keys.core_key.as_str())]
        .into_iter()
        .chain([keys.abbreviation_key.as_deref(), keys.foreign_key.as_deref()])
    {
        row.push('\t');
        push_optional(&mut row, field);
    }
    row.push('\t');
    push_optional(&mut row, crate::domain::schedule::next_due(record).map(|d| d.to_string()).as_deref());
    row
}

/// The `units` rows of a record's units (one per line, each ending in a newline).
pub fn unit_rows(units: &[Unit]) -> String {
    let mut rows = String::new();
    for unit in units {
        let seq = match UnitCode::parse(&unit.unit_code) {
            Ok(UnitCode::Dependent { suffix, .. }) => i32::from(suffix),
            Ok(UnitCode::Location { location, .. }) => location as i32,
            Err(_) => continue, // validated before: cannot happen
        };
        let json = serde_json::to_string(unit).expect("units serialise");
        for field in [unit.unit_code.as_str(), unit.enterprise_code.as_str(), unit.kind.as_str()] {
            push_copy_text(&mut rows, field);
            rows.push('\t');
        }
        rows.push_str(&seq.to_string());
        rows.push('\t');
        push_copy_text(&mut rows, &json);
        rows.push('\t');
        rows.push_str(&unit.registered_on.to_string());
        rows.push('\n');
    }
    rows
}

fn version_row(out: &mut String, code: &str, v: &VersionRow, reason: &str) {
    push_copy_text(out, code);
    out.push('\t');
    out.push_str(&v.version.to_string());
    out.push('\t');
    out.push_str(v.kind);
    out.push('\t');
    out.push_str(&v.record);
    out.push_str("\t{");
    for (i, f) in v.changed_fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        // Field paths are letters, digits, `_` and `.`: nothing to escape inside the quotes.
        push_copy_text(out, f);
        out.push('"');
    }
    out.push_str("}\t");
    out.push_str(ACTOR);
    out.push('\t');
    out.push_str(&timestamp(v.recorded_at));
    out.push('\t');
    out.push_str(&v.effective_on.to_string());
    out.push('\t');
    push_copy_text(out, reason);
    out.push('\n');
}

fn copy_text<T, C>(conn: &mut PgConnection, table: T, columns: C, data: &str) -> QueryResult<usize>
where
    T: diesel::Table,
    C: CopyTarget<Table = T>,
{
    if data.is_empty() {
        return Ok(0);
    }
    diesel::copy_from(table)
        .from_raw_data(columns, |w: &mut dyn std::io::Write| {
            w.write_all(data.as_bytes()).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
        })
        .with_format(CopyFormat::Text)
        .execute(conn)
}

#[derive(QueryableByName)]
struct Code {
    #[diesel(sql_type = Text)]
    code: String,
}

/// Loads one batch in one transaction: every enterprise of `items` whose code is not in the
/// register yet (the others are refused), its versions, units and feed events; moves the code
/// serials past the loaded codes so that later registrations never take them; remembers the
/// refusals and the run's new position. `reason` is the reason recorded on every version.
pub fn load_batch(
    conn: &mut PgConnection,
    run_id: i64,
    items: &[Item],
    position: Position,
    reason: &str,
) -> QueryResult<Loaded> {
    conn.transaction(|conn| {
        // The batch writes its feed events itself, all at once (below): the trigger that gives
        // each online write its event at commit (migration feed_at_commit) stays out.
        diesel::sql_query("SET LOCAL registry.bulk_load = 'on'").execute(conn)?;
        let codes: Vec<&str> = items
            .iter()
            .filter_map(|i| match i {
                Item::Load(e) => Some(e.code.as_str()),
                Item::Refuse(_) => None,
            })
            .collect();
        lock_serials(conn, &codes)?;
        let existing = existing_codes(conn, &codes)?;
        let batch = BatchRows::build(items, &existing, reason);
        copy_batch(conn, &batch)?;
        let loaded_codes: Vec<&str> = codes.iter().copied().filter(|c| !existing.iter().any(|e| e == c)).collect();
        record_licenses(conn, &loaded_codes)?;
        record_ownership(conn, &loaded_codes)?;
        advance_serials(conn, batch.serials)?;
        let mut loaded = batch.loaded;
        let mut refused = batch.refused;
        refused.extend(loaded.refused.iter().cloned());
        remember_refusals(conn, run_id, &refused)?;
        diesel::sql_query(
            "UPDATE import_runs SET next_offset = $2, next_line = $3, enterprises = enterprises + $4, \
             versions = versions + $5, refused = refused + $6, updated_at = now() WHERE id = $1",
        )
        .bind::<BigInt, _>(run_id)
        .bind::<BigInt, _>(position.next_offset)
        .bind::<BigInt, _>(position.next_line)
        .bind::<BigInt, _>(loaded.enterprises as i64)
        .bind::<BigInt, _>(loaded.versions as i64)
        .bind::<BigInt, _>(refused.len() as i64)
        .execute(conn)?;
        // Last: the batch's positions, under the feed head's row lock until commit.
        loaded.positions = append_events(conn, &batch.events)?;
        Ok(loaded)
    })
}

/// Makes registrations allocating under the prefixes of `codes` wait for this batch, which moves
/// their serials at the end ([`advance_serials`]).
fn lock_serials(conn: &mut PgConnection, codes: &[&str]) -> QueryResult<()> {
    let mut prefixes: Vec<String> = codes.iter().map(|c| c[..2].to_string()).collect();
    prefixes.sort();
    prefixes.dedup();
    if prefixes.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO code_serials (prefix, next_serial) SELECT unnest($1::text[]), 1 ON CONFLICT DO NOTHING",
    )
    .bind::<Array<Text>, _>(&prefixes)
    .execute(conn)?;
    diesel::sql_query("SELECT prefix AS code FROM code_serials WHERE prefix = ANY($1) ORDER BY prefix FOR UPDATE")
        .bind::<Array<Text>, _>(&prefixes)
        .load::<Code>(conn)?;
    Ok(())
}

/// A batch's `COPY` data and counts, built before anything is written.
struct BatchRows<'a> {
    /// `enterprises` rows, one per line.
    current: String,
    /// `enterprise_versions` rows.
    versions: String,
    /// `units` rows.
    units: String,
    /// The feed events to append: code, version and kind of each version, in file order.
    events: Vec<(&'a str, i32, &'static str)>,
    /// Per code prefix, the serial after the highest loaded code.
    serials: std::collections::BTreeMap<&'a str, i32>,
    /// What the batch loads, with the enterprises refused because their code is registered.
    loaded: Loaded,
    /// The lines refused before the batch reached the database.
    refused: Vec<Refusal>,
}

impl<'a> BatchRows<'a> {
    /// The rows of `items`, but for enterprises whose code is in `existing` (refused instead).
    fn build(items: &'a [Item], existing: &std::collections::HashSet<String>, reason: &str) -> BatchRows<'a> {
        let mut batch = BatchRows {
            current: String::new(),
            versions: String::new(),
            units: String::new(),
            events: Vec::new(),
            serials: Default::default(),
            loaded: Loaded::default(),
            refused: Vec::new(),
        };
        for item in items {
            match item {
                Item::Refuse(r) => batch.refused.push(r.clone()),
                Item::Load(e) if existing.contains(&e.code) => {
                    for v in &e.versions {
                        batch.loaded.refused.push(Refusal {
                            line: v.line,
                            code: Some(e.code.clone()),
                            reason: format!("code: duplicate_code: {} is already in the register", e.code),
                        });
                    }
                }
                Item::Load(e) => batch.add(e, reason),
            }
        }
        batch
    }

    fn add(&mut self, e: &'a EnterpriseRows, reason: &str) {
        self.current.push_str(&e.current);
        self.current.push('\n');
        self.units.push_str(&e.units);
        for v in &e.versions {
            version_row(&mut self.versions, &e.code, v, reason);
            self.events.push((&e.code, v.version, v.kind));
        }
        let serial: i32 = e.code[2..9].parse().unwrap_or(0);
        let next = self.serials.entry(&e.code[..2]).or_insert(0);
        *next = (*next).max(serial + 1);
        self.loaded.enterprises += 1;
        self.loaded.versions += e.versions.len() as u64;
    }
}

/// Copies the batch's enterprises, versions and units.
fn copy_batch(conn: &mut PgConnection, batch: &BatchRows) -> QueryResult<()> {
    copy_text(
        conn,
        enterprises::table,
        (
            enterprises::code,
            enterprises::enterprise_type,
            enterprises::status,
            enterprises::name_vi,
            enterprises::province_code,
            enterprises::registered_on,
            enterprises::version,
            enterprises::record,
            enterprises::updated_at,
            enterprises::proper_name,
            enterprises::read_key,
            enterprises::core_key,
            enterprises::abbreviation_key,
            enterprises::foreign_key,
            enterprises::next_due,
        ),
        &batch.current,
    )?;
    copy_text(
        conn,
        enterprise_versions::table,
        (
            enterprise_versions::code,
            enterprise_versions::version,
            enterprise_versions::kind,
            enterprise_versions::record,
            enterprise_versions::changed_fields,
            enterprise_versions::actor,
            enterprise_versions::recorded_at,
            enterprise_versions::effective_on,
            enterprise_versions::reason,
        ),
        &batch.versions,
    )?;
    copy_text(
        conn,
        units::table,
        (units::unit_code, units::enterprise_code, units::kind, units::seq, units::record, units::registered_on),
        &batch.units,
    )?;
    Ok(())
}

/// Licences recorded on the records of `codes` become look-up rows too (the transport
/// ministry's numbers are unique; a number already recorded stays with its enterprise).
fn record_licenses(conn: &mut PgConnection, codes: &[&str]) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO licenses (number, enterprise_code, kind, issued_on, expires_on, status, record, recorded_at, actor) \
         SELECT l->>'number', e.code, l->>'kind', (l->>'issued_on')::date, (l->>'expires_on')::date, l->>'status', l, \
                e.updated_at, 'import' \
         FROM enterprises e, jsonb_array_elements(coalesce(e.record->'licenses', '[]'::jsonb)) AS l \
         WHERE e.code = ANY($1) ON CONFLICT (number) DO NOTHING",
    )
    .bind::<Array<Text>, _>(codes)
    .execute(conn)?;
    Ok(())
}

/// The ownership graph's edges out of the records of `codes` (their enterprise owners), and each
/// such record queued for the register to follow its chains of owners (store::ownership): the
/// import judged it on its own owners only.
fn record_ownership(conn: &mut PgConnection, codes: &[&str]) -> QueryResult<()> {
    diesel::sql_query(
        "WITH l AS (INSERT INTO ownership_links (owned_code, holder_code, share_percent) \
             SELECT e.code, o->>'enterprise_code', sum((o->>'share_percent')::double precision) \
             FROM enterprises e, jsonb_array_elements(coalesce(e.record->'owners', '[]'::jsonb)) AS o \
             WHERE e.code = ANY($1) AND o->>'enterprise_code' IS NOT NULL \
             GROUP BY 1, 2 ON CONFLICT (owned_code, holder_code) DO NOTHING RETURNING owned_code) \
         INSERT INTO ownership_recompute (code, scope) SELECT DISTINCT owned_code, 'self' FROM l \
         ON CONFLICT (code, scope) DO NOTHING",
    )
    .bind::<Array<Text>, _>(codes)
    .execute(conn)?;
    Ok(())
}

/// Moves each prefix's next serial up to at least the one given.
fn advance_serials(conn: &mut PgConnection, serials: std::collections::BTreeMap<&str, i32>) -> QueryResult<()> {
    if serials.is_empty() {
        return Ok(());
    }
    let (p, s): (Vec<&str>, Vec<i32>) = serials.into_iter().unzip();
    diesel::sql_query(
        "UPDATE code_serials c SET next_serial = greatest(c.next_serial, v.next) \
         FROM unnest($1::text[], $2::int[]) AS v(prefix, next) WHERE c.prefix = v.prefix",
    )
    .bind::<Array<Text>, _>(p)
    .bind::<Array<Integer>, _>(s)
    .execute(conn)?;
    Ok(())
}

/// Remembers the refused lines of a run (a line remembered already stays as it is).
fn remember_refusals(conn: &mut PgConnection, run_id: i64, refused: &[Refusal]) -> QueryResult<()> {
    if refused.is_empty() {
        return Ok(());
    }
    let lines: Vec<i64> = refused.iter().map(|r| r.line).collect();
    let codes: Vec<Option<&str>> = refused.iter().map(|r| r.code.as_deref()).collect();
    let reasons: Vec<&str> = refused.iter().map(|r| r.reason.as_str()).collect();
    diesel::sql_query(
        "INSERT INTO import_refusals (run_id, line, code, reason) \
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(run_id)
    .bind::<Array<BigInt>, _>(lines)
    .bind::<Array<Nullable<Text>>, _>(codes)
    .bind::<Array<Text>, _>(reasons)
    .execute(conn)?;
    Ok(())
}

/// Appends the feed events of `events` (code, version, kind) at consecutive positions taken from
/// the feed head, whose row lock holds until commit, and wakes the feed's long polls. Returns the
/// first and last position (none without events).
fn append_events(conn: &mut PgConnection, events: &[(&str, i32, &str)]) -> QueryResult<Option<(i64, i64)>> {
    #[derive(QueryableByName)]
    struct Head {
        #[diesel(sql_type = BigInt)]
        position: i64,
    }
    if events.is_empty() {
        return Ok(None);
    }
    let head: Head = diesel::sql_query("UPDATE feed_head SET position = position + $1 WHERE id = 1 RETURNING position")
        .bind::<BigInt, _>(events.len() as i64)
        .get_result(conn)?;
    let first = head.position - events.len() as i64 + 1;
    let now = timestamp(Utc::now());
    let mut rows = String::with_capacity(events.len() * 64);
    for (i, (code, version, kind)) in events.iter().enumerate() {
        rows.push_str(&format!("{}\t{code}\t{version}\t{kind}\t{now}\n", first + i as i64));
    }
    copy_text(
        conn,
        feed_events::table,
        (feed_events::position, feed_events::code, feed_events::version, feed_events::kind, feed_events::recorded_at),
        &rows,
    )?;
    diesel::sql_query("SELECT pg_notify($1, '')").bind::<Text, _>(super::feed::CHANNEL).execute(conn)?;
    Ok(Some((first, head.position)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deferred_index_definitions_are_rebuilt_only_when_missing() {
        assert_eq!(
            if_not_exists("CREATE INDEX enterprises_province ON public.enterprises USING btree (province_code)"),
            "CREATE INDEX IF NOT EXISTS enterprises_province ON public.enterprises USING btree (province_code)"
        );
        assert_eq!(
            if_not_exists("CREATE UNIQUE INDEX u ON public.units USING btree (a)"),
            "CREATE UNIQUE INDEX IF NOT EXISTS u ON public.units USING btree (a)"
        );
        assert_eq!(if_not_exists("CREATE INDEX IF NOT EXISTS x ON t (a)"), "CREATE INDEX IF NOT EXISTS x ON t (a)");
    }

    #[test]
    fn a_deferred_key_is_added_only_when_missing() {
        assert_eq!(
            add_key_statement("units", "units_enterprise_code_fkey", "FOREIGN KEY (enterprise_code) REFERENCES enterprises(code)"),
            "DO $deferred$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'units_enterprise_code_fkey' \
             AND conrelid = 'units'::regclass) THEN ALTER TABLE units ADD CONSTRAINT \"units_enterprise_code_fkey\" \
             FOREIGN KEY (enterprise_code) REFERENCES enterprises(code); END IF; END $deferred$"
        );
        assert!(add_key_statement("t", "it's", "CHECK (true)").contains("conname = 'it''s'"));
        assert!(add_key_statement("t", "a\"b", "CHECK (true)").contains("CONSTRAINT \"a\"\"b\""));
    }

    #[test]
    fn copy_text_escapes_what_the_format_needs() {
        let mut out = String::new();
        push_copy_text(&mut out, "a\\b\tc\nd\re — Hoà");
        assert_eq!(out, "a\\\\b\\tc\\nd\\re — Hoà");
        let mut out = String::new();
        push_optional(&mut out, None);
        assert_eq!(out, "\\N");
    }
}
