//! Enterprises, their versions and feed events. Every write runs in one transaction that
//! updates the record, appends its version and appends its feed event: all or nothing.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::idempotency::{self, IdempotentRequest, StoredResponse};
use super::schema::{code_serials, enterprise_versions, enterprises, units};
use super::StoreError;
use crate::domain::code::{EnterpriseCode, UnitCode};
use crate::domain::enterprise_type;
use crate::domain::errors::FieldError;
use crate::domain::name_check::{self, Conflict, NameCandidate, Registered};
use crate::domain::record::{Enterprise, EnterpriseName, Owner, Unit, UnitKind};
use crate::domain::registration::ValidContent;
use crate::domain::status::Status;
use crate::domain::unit::ValidUnit;

/// The kinds of feed event (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Registered,
    Changed,
    StatusChanged,
    UnitRegistered,
    UnitChanged,
    LicenseRecorded,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Registered => "registered",
            EventKind::Changed => "changed",
            EventKind::StatusChanged => "status_changed",
            EventKind::UnitRegistered => "unit_registered",
            EventKind::UnitChanged => "unit_changed",
            EventKind::LicenseRecorded => "license_recorded",
        }
    }
}

/// Who writes, when, and with what legal effect.
#[derive(Debug, Clone)]
pub struct WriteContext {
    pub actor: String,
    pub at: DateTime<Utc>,
    pub effective_on: NaiveDate,
    pub reason: Option<String>,
}

/// Why a write was refused.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("no such enterprise")]
    NotFound,
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    /// The enterprise's status does not allow this write.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("the Idempotency-Key was used with another request")]
    IdempotencyMismatch,
    #[error("every code of prefix {0} has been allocated")]
    CodesExhausted(String),
    /// The write was based on another version than the current one.
    #[error("the enterprise is at version {current}")]
    VersionMismatch { current: i32 },
    /// Art. 41: the name is identical to or confusingly similar with a registered one.
    #[error("the name conflicts with {} registered enterprise(s)", .0.len())]
    NameConflict(Vec<Conflict>),
    /// The status table refuses the transition.
    #[error("{0}")]
    IllegalTransition(String),
    /// The table allows the transition, but not for this role.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for WriteError {
    fn from(e: diesel::result::Error) -> Self {
        WriteError::Store(StoreError::Database(e))
    }
}

/// A write's result: done now, or the stored answer to an earlier identical request.
pub enum Written<T> {
    Done(T),
    Replay(StoredResponse),
}

pub fn etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// The answer stored for an idempotent registration or unit creation.
pub fn created_response(location: String, etag: String, body: serde_json::Value) -> StoredResponse {
    StoredResponse { status: 201, headers: vec![("Location".into(), location), ("ETag".into(), etag)], body }
}

/// Appends version `record.version` and its feed event.
pub(super) fn append_version(
    conn: &mut PgConnection,
    record: &Enterprise,
    kind: EventKind,
    changed: &[&str],
    ctx: &WriteContext,
) -> QueryResult<()> {
    let json = serde_json::to_value(record).expect("records serialise");
    diesel::insert_into(enterprise_versions::table)
        .values((
            enterprise_versions::code.eq(&record.code),
            enterprise_versions::version.eq(record.version),
            enterprise_versions::kind.eq(kind.as_str()),
            enterprise_versions::record.eq(&json),
            enterprise_versions::changed_fields.eq(changed.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            enterprise_versions::actor.eq(&ctx.actor),
            enterprise_versions::recorded_at.eq(ctx.at),
            enterprise_versions::effective_on.eq(ctx.effective_on),
            enterprise_versions::reason.eq(&ctx.reason),
        ))
        .execute(conn)?;
    // Last: the position, under the feed head's row lock until commit (migration feed_order),
    // the event, and a wake-up for long polls delivered at commit (never the source of truth:
    // readers read the table), in one statement: the lock is held for one round trip and the
    // commit. PostgreSQL serialises notifying commits, as the feed head already does.
    diesel::sql_query(
        "WITH head AS (UPDATE feed_head SET position = position + 1 WHERE id = 1 RETURNING position), \
              event AS (INSERT INTO feed_events (position, code, version, kind, recorded_at) \
                        SELECT position, $1, $2, $3, $4 FROM head RETURNING position) \
         SELECT pg_notify($5, '') FROM event",
    )
    .bind::<diesel::sql_types::Text, _>(&record.code)
    .bind::<diesel::sql_types::Integer, _>(record.version)
    .bind::<diesel::sql_types::Text, _>(kind.as_str())
    .bind::<diesel::sql_types::Timestamptz, _>(ctx.at)
    .bind::<diesel::sql_types::Text, _>(super::feed::CHANNEL)
    .execute(conn)?;
    Ok(())
}

/// Takes the next free serial of `prefix` under the row lock of `code_serials`, skipping serials
/// that have no valid check digit and codes already in the register (imported historical codes).
fn allocate_code(conn: &mut PgConnection, prefix: &str) -> Result<EnterpriseCode, WriteError> {
    diesel::insert_into(code_serials::table)
        .values((code_serials::prefix.eq(prefix), code_serials::next_serial.eq(1)))
        .on_conflict_do_nothing()
        .execute(conn)?;
    let mut serial: i32 =
        code_serials::table.find(prefix).select(code_serials::next_serial).for_update().first(conn)?;
    loop {
        let Some((s, code)) = EnterpriseCode::next_valid(prefix, serial as u32) else {
            return Err(WriteError::CodesExhausted(prefix.to_string()));
        };
        let taken: bool =
            diesel::select(diesel::dsl::exists(enterprises::table.find(code.as_str()))).get_result(conn)?;
        serial = s as i32 + 1;
        if !taken {
            diesel::update(code_serials::table.find(prefix)).set(code_serials::next_serial.eq(serial)).execute(conn)?;
            return Ok(code);
        }
    }
}

/// The fields a registration sets, for its version's `changed_fields`.
const REGISTRATION_FIELDS: &[&str] =
    &["type", "name", "head_office", "charter_capital_vnd", "business_lines", "legal_representatives", "owners"];

/// Registers an enterprise: allocates its code and writes the record, version 1 and the
/// `registered` event in one transaction.
pub fn register(
    conn: &mut PgConnection,
    content: ValidContent,
    ctx: &WriteContext,
    idem: Option<&IdempotentRequest>,
) -> Result<Written<Enterprise>, WriteError> {
    conn.transaction(|conn| {
        if let Some(r) = idempotency::claim(conn, idem, || WriteError::IdempotencyMismatch)? {
            return Ok(Written::Replay(r));
        }
        refuse_conflicting_name(conn, &content.name, &content.proper_name, &content.owners, None)?;
        let prefix = super::reference::code_prefix(conn, &content.head_office.province_code)?;
        let code = allocate_code(conn, &prefix)?;
        let record = content.into_new_record(code.to_string(), ctx.effective_on, ctx.at);
        insert_record(conn, &record)?;
        append_version(conn, &record, EventKind::Registered, REGISTRATION_FIELDS, ctx)?;
        if let Some(req) = idem {
            let body = serde_json::to_value(&record).expect("records serialise");
            idempotency::finish(
                conn,
                req,
                &created_response(format!("/v1/enterprises/{}", record.code), etag(record.version), body),
            )?;
        }
        Ok(Written::Done(record))
    })
}

/// The name-check look-up keys of a record (art. 41).
pub(super) fn name_keys(record: &Enterprise) -> (String, name_check::NameKeys) {
    let proper = enterprise_type::proper_name(record.enterprise_type, &record.name.vi)
        .unwrap_or_else(|_| record.name.vi.clone());
    let keys =
        name_check::keys(&record.name.vi, &proper, record.name.abbreviation.as_deref(), record.name.en.as_deref());
    (proper, keys)
}

fn insert_record(conn: &mut PgConnection, record: &Enterprise) -> QueryResult<()> {
    let (proper, keys) = name_keys(record);
    diesel::insert_into(enterprises::table)
        .values((
            enterprises::proper_name.eq(&proper),
            enterprises::read_key.eq(&keys.read_key),
            enterprises::core_key.eq(&keys.core_key),
            enterprises::abbreviation_key.eq(&keys.abbreviation_key),
            enterprises::foreign_key.eq(&keys.foreign_key),
            enterprises::code.eq(&record.code),
            enterprises::enterprise_type.eq(record.enterprise_type.as_str()),
            enterprises::status.eq(record.status.as_str()),
            enterprises::name_vi.eq(&record.name.vi),
            enterprises::province_code.eq(record.head_office.current_province_code()),
            enterprises::registered_on.eq(record.registered_on),
            enterprises::version.eq(record.version),
            enterprises::record.eq(serde_json::to_value(record).expect("records serialise")),
            enterprises::updated_at.eq(record.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces the current record after a write (the version row is appended separately).
pub(super) fn update_record(conn: &mut PgConnection, record: &Enterprise) -> QueryResult<()> {
    let (proper, keys) = name_keys(record);
    diesel::update(enterprises::table.find(&record.code))
        .set((
            enterprises::proper_name.eq(&proper),
            enterprises::read_key.eq(&keys.read_key),
            enterprises::core_key.eq(&keys.core_key),
            enterprises::abbreviation_key.eq(&keys.abbreviation_key),
            enterprises::foreign_key.eq(&keys.foreign_key),
            enterprises::status.eq(record.status.as_str()),
            enterprises::name_vi.eq(&record.name.vi),
            enterprises::province_code.eq(record.head_office.current_province_code()),
            enterprises::version.eq(record.version),
            enterprises::record.eq(serde_json::to_value(record).expect("records serialise")),
            enterprises::updated_at.eq(record.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, StoreError> {
    serde_json::from_value(value)
        .map_err(|e| StoreError::Database(diesel::result::Error::DeserializationError(Box::new(e))))
}

/// The current record.
pub fn get(conn: &mut PgConnection, code: &EnterpriseCode) -> Result<Option<Enterprise>, StoreError> {
    let value: Option<serde_json::Value> =
        enterprises::table.find(code.as_str()).select(enterprises::record).first(conn).optional()?;
    value.map(decode).transpose()
}

pub(super) fn get_for_update(conn: &mut PgConnection, code: &EnterpriseCode) -> Result<Option<Enterprise>, StoreError> {
    let value: Option<serde_json::Value> =
        enterprises::table.find(code.as_str()).select(enterprises::record).for_update().first(conn).optional()?;
    value.map(decode).transpose()
}

/// Registers a unit of an enterprise: a new unit row, the next version of the enterprise (its
/// record lists the unit) and a `unit_registered` event, in one transaction. `validate` checks
/// the request against the enterprise as it is under the lock.
pub fn add_unit(
    conn: &mut PgConnection,
    code: &EnterpriseCode,
    validate: impl FnOnce(&Enterprise) -> Result<ValidUnit, Vec<FieldError>>,
    ctx: &WriteContext,
    idem: Option<&IdempotentRequest>,
) -> Result<Written<Unit>, WriteError> {
    conn.transaction(|conn| {
        if let Some(r) = idempotency::claim(conn, idem, || WriteError::IdempotencyMismatch)? {
            return Ok(Written::Replay(r));
        }
        let mut record = get_for_update(conn, code)?.ok_or(WriteError::NotFound)?;
        match record.status {
            Status::Active => {}
            Status::Ceased => {
                return Err(WriteError::Conflict {
                    code: "enterprise_ceased",
                    detail: "the enterprise has ceased and accepts no change".into(),
                })
            }
            other => {
                return Err(WriteError::Conflict {
                    code: "enterprise_not_active",
                    detail: format!("units are registered for active enterprises; this one is {}", other.as_str()),
                })
            }
        }
        let valid = validate(&record).map_err(WriteError::Invalid)?;
        let is_location = valid.kind == UnitKind::BusinessLocation;
        let same_series =
            units::table.filter(units::enterprise_code.eq(code.as_str())).select(diesel::dsl::max(units::seq));
        let last: Option<i32> = if is_location {
            same_series.filter(units::kind.eq("business_location")).first(conn)?
        } else {
            same_series.filter(units::kind.ne("business_location")).first(conn)?
        };
        let seq = last.unwrap_or(0) + 1;
        let (unit_code, location_code) = if is_location {
            let unit = UnitCode::location(code, seq as u32).map_err(|_| WriteError::Conflict {
                code: "unit_limit",
                detail: "the enterprise has used every business location code (99999)".into(),
            })?;
            (unit.to_string(), Some(format!("{seq:05}")))
        } else {
            let unit = UnitCode::dependent(code, seq as u16).map_err(|_| WriteError::Conflict {
                code: "unit_limit",
                detail: "the enterprise has used every branch and representative office code (999)".into(),
            })?;
            (unit.to_string(), None)
        };
        let unit = valid.into_unit(unit_code, location_code, code.as_str(), ctx.effective_on);
        diesel::insert_into(units::table)
            .values((
                units::unit_code.eq(&unit.unit_code),
                units::enterprise_code.eq(code.as_str()),
                units::kind.eq(unit.kind.as_str()),
                units::seq.eq(seq),
                units::record.eq(serde_json::to_value(&unit).expect("units serialise")),
                units::registered_on.eq(unit.registered_on),
            ))
            .execute(conn)?;
        record.units.push(unit.clone());
        record.version += 1;
        record.updated_at = ctx.at;
        update_record(conn, &record)?;
        append_version(conn, &record, EventKind::UnitRegistered, &["units"], ctx)?;
        if let Some(req) = idem {
            let body = serde_json::to_value(&unit).expect("units serialise");
            idempotency::finish(
                conn,
                req,
                &created_response(format!("/v1/units/{}", unit.unit_code), etag(record.version), body),
            )?;
        }
        Ok(Written::Done(unit))
    })
}

/// One unit by its code.
pub fn get_unit(conn: &mut PgConnection, unit_code: &UnitCode) -> Result<Option<Unit>, StoreError> {
    let value: Option<serde_json::Value> =
        units::table.find(unit_code.to_string()).select(units::record).first(conn).optional()?;
    value.map(decode).transpose()
}

/// Refuses a name (with its abbreviation and foreign name) that conflicts with a registered
/// enterprise's (art. 41), judged under the name keys' locks; `owners` give the subsidiary
/// exception.
fn refuse_conflicting_name(
    conn: &mut PgConnection,
    name: &EnterpriseName,
    proper_name: &str,
    owners: &[Owner],
    exclude: Option<&str>,
) -> Result<(), WriteError> {
    let owner_codes: Vec<String> = owners.iter().filter_map(|o| o.enterprise_code.clone()).collect();
    let candidate = NameCandidate {
        full_name: &name.vi,
        proper_name,
        abbreviation: name.abbreviation.as_deref(),
        foreign_name: name.en.as_deref(),
        owner_codes: &owner_codes,
    };
    let conflicts = check_name(conn, &candidate, exclude, true)?;
    if conflicts.is_empty() {
        Ok(())
    } else {
        Err(WriteError::NameConflict(conflicts))
    }
}

/// The registered enterprises (not ceased, other than `exclude`) whose names conflict with the
/// candidate's (art. 41). With `lock`, first takes transaction-scoped advisory locks on the
/// candidate's keys, so that two registrations of one name at the same moment are judged one
/// after the other (the second sees the first).
pub fn check_name(
    conn: &mut PgConnection,
    candidate: &NameCandidate,
    exclude: Option<&str>,
    lock: bool,
) -> Result<Vec<Conflict>, StoreError> {
    let keys =
        name_check::keys(candidate.full_name, candidate.proper_name, candidate.abbreviation, candidate.foreign_name);
    if lock {
        let mut lock_keys: Vec<String> = [Some(format!("r:{}", keys.read_key)), Some(format!("c:{}", keys.core_key))]
            .into_iter()
            .chain([
                keys.abbreviation_key.as_ref().map(|k| format!("b:{k}")),
                keys.foreign_key.as_ref().map(|k| format!("f:{k}")),
            ])
            .flatten()
            .collect();
        lock_keys.sort();
        for k in lock_keys {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 41))")
                .bind::<diesel::sql_types::Text, _>(k)
                .execute(conn)?;
        }
    }
    let mut query = enterprises::table
        .filter(enterprises::status.ne("ceased"))
        .filter(
            enterprises::read_key
                .eq(&keys.read_key)
                .or(enterprises::core_key.eq(&keys.core_key))
                .or(enterprises::abbreviation_key.eq(&keys.abbreviation_key).assume_not_null())
                .or(enterprises::foreign_key.eq(&keys.foreign_key).assume_not_null()),
        )
        .select((
            enterprises::code,
            enterprises::name_vi,
            enterprises::proper_name,
            enterprises::record,
            enterprises::status,
        ))
        .order(enterprises::code)
        .limit(200)
        .into_boxed();
    if let Some(code) = exclude {
        query = query.filter(enterprises::code.ne(code));
    }
    let rows: Vec<(String, String, String, serde_json::Value, String)> = query.load(conn)?;
    let registered: Vec<Registered> = rows
        .into_iter()
        .map(|(code, full_name, proper_name, record, status)| Registered {
            code,
            full_name,
            proper_name,
            abbreviation: record["name"]["abbreviation"].as_str().map(str::to_string),
            foreign_name: record["name"]["en"].as_str().map(str::to_string),
            status,
        })
        .collect();
    Ok(name_check::judge(candidate, &registered))
}

/// The result of a change: the new version, or the record as it was when nothing changed.
pub enum Modified {
    Changed(Enterprise),
    Unchanged(Enterprise),
}

/// Changes an enterprise based on version `expected`: locks the record, refuses a ceased
/// enterprise or a stale version, lets `change` compute the next record (or nothing), re-checks
/// the name when it changed, and writes the record, its version and its event in one transaction.
pub fn modify(
    conn: &mut PgConnection,
    code: &EnterpriseCode,
    expected: i32,
    kind: EventKind,
    ctx: &WriteContext,
    change: impl FnOnce(&Enterprise) -> Result<Option<(Enterprise, Vec<String>)>, WriteError>,
) -> Result<Modified, WriteError> {
    conn.transaction(|conn| {
        let record = get_for_update(conn, code)?.ok_or(WriteError::NotFound)?;
        if record.status == Status::Ceased {
            return Err(WriteError::Conflict {
                code: "enterprise_ceased",
                detail: "the enterprise has ceased (terminal status) and accepts no change".into(),
            });
        }
        if record.version != expected {
            return Err(WriteError::VersionMismatch { current: record.version });
        }
        let Some((next, changed)) = change(&record)? else {
            return Ok(Modified::Unchanged(record));
        };
        if changed.iter().any(|f| f.starts_with("name")) {
            let (proper, _) = name_keys(&next);
            let owners = next.owners.as_deref().unwrap_or_default();
            refuse_conflicting_name(conn, &next.name, &proper, owners, Some(code.as_str()))?;
        }
        let fields: Vec<&str> = changed.iter().map(String::as_str).collect();
        update_record(conn, &next)?;
        append_version(conn, &next, kind, &fields, ctx)?;
        Ok(Modified::Changed(next))
    })
}

/// One entry of an enterprise's history.
#[derive(Debug, Clone, Queryable, serde::Serialize, utoipa::ToSchema)]
pub struct VersionEntry {
    pub version: i32,
    pub kind: String,
    pub recorded_at: DateTime<Utc>,
    pub effective_on: NaiveDate,
    pub changed_fields: Vec<String>,
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Versions older than `before` (all when `None`), newest first, at most `limit`. `None` when
/// the enterprise does not exist.
pub fn history(
    conn: &mut PgConnection,
    code: &EnterpriseCode,
    before: Option<i32>,
    limit: i64,
) -> Result<Option<Vec<VersionEntry>>, StoreError> {
    let exists: bool = diesel::select(diesel::dsl::exists(enterprises::table.find(code.as_str()))).get_result(conn)?;
    if !exists {
        return Ok(None);
    }
    let rows: Vec<VersionEntry> = enterprise_versions::table
        .filter(enterprise_versions::code.eq(code.as_str()))
        .filter(enterprise_versions::version.lt(before.unwrap_or(i32::MAX)))
        .order(enterprise_versions::version.desc())
        .limit(limit)
        .select((
            enterprise_versions::version,
            enterprise_versions::kind,
            enterprise_versions::recorded_at,
            enterprise_versions::effective_on,
            enterprise_versions::changed_fields,
            enterprise_versions::actor,
            enterprise_versions::reason,
        ))
        .load(conn)?;
    Ok(Some(rows))
}

/// A point in time to read a record at.
#[derive(Debug, Clone, Copy)]
pub enum AsOf {
    /// The version in force at the end of that day, by `effective_on`.
    Date(NaiveDate),
    /// The version as recorded at that moment.
    Time(DateTime<Utc>),
}

/// The record at `at`: `Ok(None)` when the enterprise does not exist, `Ok(Some(None))` when it
/// did not exist yet then.
pub fn as_of(
    conn: &mut PgConnection,
    code: &EnterpriseCode,
    at: AsOf,
) -> Result<Option<Option<Enterprise>>, StoreError> {
    let exists: bool = diesel::select(diesel::dsl::exists(enterprises::table.find(code.as_str()))).get_result(conn)?;
    if !exists {
        return Ok(None);
    }
    let base = enterprise_versions::table.filter(enterprise_versions::code.eq(code.as_str())).into_boxed();
    let query = match at {
        AsOf::Date(d) => base.filter(enterprise_versions::effective_on.le(d)),
        AsOf::Time(t) => base.filter(enterprise_versions::recorded_at.le(t)),
    };
    let value: Option<serde_json::Value> =
        query.order(enterprise_versions::version.desc()).select(enterprise_versions::record).first(conn).optional()?;
    Ok(Some(value.map(decode).transpose()?))
}

/// Every Vietnamese name each enterprise has had, by code.
pub type FormerNames = HashMap<String, Vec<String>>;

/// Former Vietnamese names of each enterprise (every name any version had), for search.
pub fn former_names(conn: &mut PgConnection, codes: &[String]) -> Result<FormerNames, StoreError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        code: String,
        #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
        names: Vec<String>,
    }
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT code, array_agg(DISTINCT record->'name'->>'vi') AS names FROM enterprise_versions \
         WHERE code = ANY($1) AND (kind = 'registered' OR 'name.vi' = ANY(changed_fields)) GROUP BY code",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(codes)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.code, r.names)).collect())
}

/// Reads every record from one consistent snapshot (REPEATABLE READ, read only), in code order,
/// `batch` at a time with their former names. Returns the feed position of the snapshot (every
/// event at or below it is in the snapshot, none after) and the number of records.
pub fn snapshot(
    conn: &mut PgConnection,
    batch: i64,
    on_total: &mut dyn FnMut(u64),
    on_batch: &mut dyn FnMut(&[Enterprise], &FormerNames) -> anyhow::Result<()>,
) -> anyhow::Result<(i64, u64)> {
    conn.build_transaction().repeatable_read().read_only().run(|conn| {
        let position = super::feed::head(conn)?;
        let total: i64 = enterprises::table.count().get_result(conn)?;
        on_total(total as u64);
        let mut last = String::new();
        let mut count = 0u64;
        loop {
            let rows: Vec<(String, serde_json::Value)> = enterprises::table
                .filter(enterprises::code.gt(&last))
                .order(enterprises::code)
                .limit(batch)
                .select((enterprises::code, enterprises::record))
                .load(conn)?;
            let Some((code, _)) = rows.last() else { break };
            last = code.clone();
            let records: Vec<Enterprise> = rows.into_iter().map(|(_, r)| decode(r)).collect::<Result<_, _>>()?;
            let codes: Vec<String> = records.iter().map(|r| r.code.clone()).collect();
            let former = former_names(conn, &codes)?;
            count += records.len() as u64;
            on_batch(&records, &former)?;
        }
        Ok((position, count))
    })
}
