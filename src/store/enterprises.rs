//! Enterprises, their versions and feed events. Every write runs in one transaction that
//! updates the record, appends its version and appends its feed event: all or nothing.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Integer, Nullable, Text, Timestamptz};

use super::idempotency::{self, IdempotentRequest, StoredResponse};
use super::prepared::{prepared, Prepared};
use super::schema::{code_serials, enterprise_versions, enterprises, units};
use super::StoreError;
use crate::domain::code::{EnterpriseCode, UnitCode};
use crate::domain::enterprise_type::{self, EnterpriseType};
use crate::domain::errors::FieldError;
use crate::domain::name_check::{self, Conflict, NameCandidate, RegisteredName};
use crate::domain::record::{Enterprise, EnterpriseName, Owner, OwnerKind, Unit, UnitKind};
use crate::domain::registration::ValidContent;
use crate::domain::schedule;
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
    LicenseChanged,
    /// The declaration of beneficial owners, or the discrepancies the register flags, changed.
    BeneficialOwnersChanged,
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
            EventKind::LicenseChanged => "license_changed",
            EventKind::BeneficialOwnersChanged => "beneficial_owners_changed",
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
    /// The enterprise as it is does not allow this write.
    #[error(transparent)]
    Conflict(#[from] WriteConflict),
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
    /// Owners the register refuses (SPEC §2.5), each with its place in the list.
    #[error("{} owner(s) refused", .0.len())]
    OwnersRefused(Vec<OwnerRefusal>),
    /// The status table refuses the transition.
    #[error("{0}")]
    IllegalTransition(String),
    /// The table allows the transition, but not for this role.
    #[error("{0}")]
    Forbidden(String),
    /// Dissolution ends only once every unit has ceased: these have not.
    #[error("units {} have not ceased", .0.join(", "))]
    UnitsNotCeased(Vec<String>),
    /// A status change is filed for a later day than the one asked for (its id).
    #[error("scheduled change {0} is filed for a later day; withdraw it first")]
    ScheduledChangePending(i32),
    /// The scheduled change's day has come: it is being applied, not withdrawn.
    #[error("scheduled change {0} is due and is applied by the register")]
    ScheduledChangeDue(i32),
    /// No scheduled change has this id.
    #[error("the enterprise has no scheduled change {0}")]
    NoScheduledChange(i32),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A write the enterprise as it is refuses. Each is answered with a problem of its own: the API
/// matches them exhaustively, so a new one is mapped before it compiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WriteConflict {
    /// A ceased enterprise (terminal status) accepts no change.
    #[error("the enterprise has ceased and accepts no change")]
    EnterpriseCeased,
    /// A ceased unit accepts no change.
    #[error("the unit has ceased and accepts no change")]
    UnitCeased,
    /// Units are registered for active enterprises only.
    #[error("units are registered for active enterprises; this one is {}", .0.as_str())]
    EnterpriseNotActive(Status),
    /// Every business location code (`00001` to `99999`) has been allocated.
    #[error("the enterprise has used every business location code (99999)")]
    LocationCodesExhausted,
    /// Every branch and representative office code (`001` to `999`) has been allocated.
    #[error("the enterprise has used every branch and representative office code (999)")]
    DependentCodesExhausted,
}

/// An owner the register refuses, by its index in the owners' list. The API answers each with a
/// problem of its own, matched exhaustively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerRefusal {
    /// The owner's enterprise code is not in the register (SPEC §2.2).
    UnknownEnterprise { owner: usize, code: String },
    /// Art. 188.4: a private enterprise may not own shares or contributions in an enterprise.
    PrivateEnterpriseOwner { owner: usize, code: String },
    /// Art. 188.3: the individual already owns `other`, a private enterprise that has not ceased.
    OwnerHasPrivateEnterprise { owner: usize, other: String },
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

/// A record as its row stores it: the look-up columns, the name keys and the JSON, serialised
/// once for the row and its version.
struct RecordRow<'r> {
    record: &'r Enterprise,
    proper: String,
    keys: name_check::NameKeys,
    json: String,
    changed: Vec<String>,
    next_due: Option<NaiveDate>,
}

impl<'r> RecordRow<'r> {
    fn new(record: &'r Enterprise, changed: &[&str]) -> RecordRow<'r> {
        let (proper, keys) = name_keys(record);
        let json = serde_json::to_string(record).expect("records serialise");
        let next_due = schedule::next_due(record);
        RecordRow { record, proper, keys, json, changed: changed.iter().map(|s| s.to_string()).collect(), next_due }
    }
}

/// Binds the record's columns that a registration and a change both write, in the order both
/// statements list them: status, name_vi, province_code, version, record, updated_at, the name
/// keys (proper_name, read_key, core_key, abbreviation_key, foreign_key) and next_due (the first
/// day a scheduled step falls due, for the register's schedule).
fn bind_record<'a>(q: Prepared<'a>, row: &'a RecordRow<'a>) -> Prepared<'a> {
    let record = row.record;
    q.bind::<Text, _>(record.status.as_str())
        .bind::<Text, _>(&record.name.vi)
        .bind::<Text, _>(record.head_office.current_province_code())
        .bind::<Integer, _>(&record.version)
        .bind::<Text, _>(&row.json)
        .bind::<Timestamptz, _>(&record.updated_at)
        .bind::<Text, _>(&row.proper)
        .bind::<Text, _>(&row.keys.read_key)
        .bind::<Text, _>(&row.keys.core_key)
        .bind::<Nullable<Text>, _>(&row.keys.abbreviation_key)
        .bind::<Nullable<Text>, _>(&row.keys.foreign_key)
        .bind::<Nullable<Date>, _>(&row.next_due)
}

/// Binds the version row's parameters, in order. Its feed event is written at COMMIT by the
/// trigger of migration feed_at_commit, which takes the next position under the feed head's row
/// lock: positions are handed out in commit order, and the lock is held only while committing.
fn bind_version<'a>(q: Prepared<'a>, row: &'a RecordRow<'a>, kind: EventKind, ctx: &'a WriteContext) -> Prepared<'a> {
    q.bind::<Integer, _>(&row.record.version)
        .bind::<Text, _>(kind.as_str())
        .bind::<Text, _>(&row.json)
        .bind::<Array<Text>, _>(&row.changed)
        .bind::<Text, _>(&ctx.actor)
        .bind::<Timestamptz, _>(&ctx.at)
        .bind::<Date, _>(&ctx.effective_on)
        .bind::<Nullable<Text>, _>(&ctx.reason)
}

/// Inserts a new record at version 1 with its version row (its `registered` event follows at
/// COMMIT), and moves the prefix's serial past its code, in one statement (one round trip,
/// prepared once per connection). Writes nothing and returns `false` when the code is already
/// taken (an imported historical code): the caller tries the next serial.
fn insert_registered(
    conn: &mut PgConnection,
    record: &Enterprise,
    prefix: &str,
    next_serial: i32,
    ctx: &WriteContext,
) -> QueryResult<bool> {
    const SQL: &str =
        "WITH e AS (INSERT INTO enterprises (status, name_vi, province_code, version, record, updated_at, \
                        proper_name, read_key, core_key, abbreviation_key, foreign_key, next_due, \
                        code, enterprise_type, registered_on) \
                    VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                    ON CONFLICT (code) DO NOTHING RETURNING code), \
              s AS (UPDATE code_serials SET next_serial = $16 WHERE prefix = $17), \
              v AS (INSERT INTO enterprise_versions (code, version, kind, record, changed_fields, actor, recorded_at, \
                        effective_on, reason) \
                    SELECT code, $18, $19, $20::json, $21, $22, $23, $24, $25 FROM e RETURNING 1) \
         SELECT count(*) FROM v";
    let row = RecordRow::new(record, REGISTRATION_FIELDS);
    let q = bind_record(prepared(SQL), &row)
        .bind::<Text, _>(&record.code)
        .bind::<Text, _>(record.enterprise_type.as_str())
        .bind::<Date, _>(&record.registered_on)
        .bind::<Integer, _>(&next_serial)
        .bind::<Text, _>(prefix);
    Ok(written(bind_version(q, &row, EventKind::Registered, ctx), conn)? == 1)
}

/// Replaces the current record with `record` (its next version) and appends its version row (its
/// feed event follows at COMMIT), in one statement (one round trip, prepared once per
/// connection). The caller holds the record's row lock.
pub(super) fn write_version(
    conn: &mut PgConnection,
    record: &Enterprise,
    kind: EventKind,
    changed: &[&str],
    ctx: &WriteContext,
) -> QueryResult<()> {
    const SQL: &str = "WITH e AS (UPDATE enterprises SET status = $1, name_vi = $2, province_code = $3, version = $4, \
                        record = $5::jsonb, updated_at = $6, proper_name = $7, read_key = $8, core_key = $9, \
                        abbreviation_key = $10, foreign_key = $11, next_due = $12 \
                    WHERE code = $13 RETURNING code), \
              v AS (INSERT INTO enterprise_versions (code, version, kind, record, changed_fields, actor, recorded_at, \
                        effective_on, reason) \
                    SELECT code, $14, $15, $16::json, $17, $18, $19, $20, $21 FROM e RETURNING 1) \
         SELECT count(*) FROM v";
    let row = RecordRow::new(record, changed);
    let q = bind_record(prepared(SQL), &row).bind::<Text, _>(&record.code);
    match written(bind_version(q, &row, kind, ctx), conn)? {
        1 => Ok(()),
        // The caller read the row under its lock: it cannot be gone.
        _ => Err(diesel::result::Error::NotFound),
    }
}

/// The number of version rows a write statement wrote (0 or 1).
fn written(q: Prepared<'_>, conn: &mut PgConnection) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    Ok(q.get_result::<Count>(conn)?.count)
}

/// Takes the row lock of the serial counter of the province's code prefix and reads the next
/// serial, in one round trip once the counter exists.
fn lock_serial(conn: &mut PgConnection, province_code: &str) -> QueryResult<(String, i32)> {
    #[derive(QueryableByName)]
    struct Serial {
        #[diesel(sql_type = Text)]
        prefix: String,
        #[diesel(sql_type = Integer)]
        next_serial: i32,
    }
    const SQL: &str = "SELECT prefix, next_serial FROM code_serials \
         WHERE prefix = coalesce((SELECT prefix FROM code_prefixes WHERE province_code = $1), $2) FOR UPDATE";
    let lock = |conn: &mut PgConnection| {
        prepared(SQL)
            .bind::<Text, _>(province_code)
            .bind::<Text, _>(province_code)
            .get_result::<Serial>(conn)
            .optional()
    };
    if let Some(s) = lock(conn)? {
        return Ok((s.prefix, s.next_serial));
    }
    // The prefix's first code.
    let prefix = super::reference::code_prefix(conn, province_code)?;
    diesel::insert_into(code_serials::table)
        .values((code_serials::prefix.eq(&prefix), code_serials::next_serial.eq(1)))
        .on_conflict_do_nothing()
        .execute(conn)?;
    let s = lock(conn)?.ok_or(diesel::result::Error::NotFound)?;
    Ok((s.prefix, s.next_serial))
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
    idem: Option<&IdempotentRequest<Enterprise>>,
) -> Result<Written<Enterprise>, WriteError> {
    conn.transaction(|conn| {
        if let Some(r) = idempotency::claim(conn, idem, || WriteError::IdempotencyMismatch)? {
            return Ok(Written::Replay(r));
        }
        refuse_owners(conn, content.enterprise_type, &content.owners, None)?;
        let candidate = Candidate::new(&content.name, &content.proper_name, &content.owners);
        refuse_conflicting_name(conn, content.enterprise_type, &candidate, content.charter_capital_vnd, None)?;
        // The next free serial of the prefix, under its counter's row lock: a serial without a
        // valid check digit is skipped, and so is a code already in the register (an imported
        // historical code), which the insert finds taken.
        let (prefix, mut serial) = lock_serial(conn, &content.head_office.province_code)?;
        let mut record = content.into_new_record(String::new(), ctx.effective_on, ctx.at);
        // Its chains of owners upwards: nothing can be downstream of a new enterprise yet.
        record.discrepancies = super::ownership::discrepancies_of(conn, &record)?;
        loop {
            let Some((s, code)) = EnterpriseCode::next_valid(&prefix, serial as u32) else {
                return Err(WriteError::CodesExhausted(prefix));
            };
            serial = s as i32 + 1;
            record.code = code.to_string();
            if insert_registered(conn, &record, &prefix, serial, ctx)? {
                break;
            }
        }
        super::ownership::sync_links(conn, &record)?;
        idempotency::finish(conn, idem, &record)?;
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

pub(super) fn decode<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|e| deserialization(Box::new(e)))
}

/// A status as its column stores it.
fn parse_status(value: &str) -> Result<Status, StoreError> {
    Status::parse(value).ok_or_else(|| deserialization(format!("unknown status {value:?}").into()))
}

fn deserialization(e: Box<dyn std::error::Error + Send + Sync>) -> StoreError {
    StoreError::Database(diesel::result::Error::DeserializationError(e))
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
/// the request against the enterprise as it is under the lock. Done gives the unit and the
/// enterprise's new version.
pub fn add_unit(
    conn: &mut PgConnection,
    code: &EnterpriseCode,
    validate: impl FnOnce(&Enterprise) -> Result<ValidUnit, Vec<FieldError>>,
    ctx: &WriteContext,
    idem: Option<&IdempotentRequest<(Unit, i32)>>,
) -> Result<Written<(Unit, i32)>, WriteError> {
    conn.transaction(|conn| {
        if let Some(r) = idempotency::claim(conn, idem, || WriteError::IdempotencyMismatch)? {
            return Ok(Written::Replay(r));
        }
        let mut record = get_for_update(conn, code)?.ok_or(WriteError::NotFound)?;
        match record.status {
            Status::Active => {}
            Status::Ceased => return Err(WriteConflict::EnterpriseCeased.into()),
            other => return Err(WriteConflict::EnterpriseNotActive(other).into()),
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
            let unit = UnitCode::location(code, seq as u32).map_err(|_| WriteConflict::LocationCodesExhausted)?;
            (unit.to_string(), Some(format!("{seq:05}")))
        } else {
            let unit = UnitCode::dependent(code, seq as u16).map_err(|_| WriteConflict::DependentCodesExhausted)?;
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
        write_version(conn, &record, EventKind::UnitRegistered, &["units"], ctx)?;
        let done = (unit, record.version);
        idempotency::finish(conn, idem, &done)?;
        Ok(Written::Done(done))
    })
}

/// Writes the unit rows of the units that differ between `before` and `after` (their status,
/// name or address changed): the units table keeps each unit's current record beside the
/// enterprise's.
pub(super) fn sync_units(conn: &mut PgConnection, before: &Enterprise, after: &Enterprise) -> QueryResult<()> {
    for unit in &after.units {
        if before.units.iter().any(|u| u == unit) {
            continue;
        }
        diesel::update(units::table.find(&unit.unit_code))
            .set(units::record.eq(serde_json::to_value(unit).expect("units serialise")))
            .execute(conn)?;
    }
    Ok(())
}

/// One unit by its code.
pub fn get_unit(conn: &mut PgConnection, unit_code: &UnitCode) -> Result<Option<Unit>, StoreError> {
    let value: Option<serde_json::Value> =
        units::table.find(unit_code.to_string()).select(units::record).first(conn).optional()?;
    value.map(decode).transpose()
}

/// The name an enterprise applies for, and its owners (for the subsidiary exception).
struct Candidate<'a> {
    name: &'a EnterpriseName,
    proper_name: &'a str,
    owners: &'a [Owner],
}

impl<'a> Candidate<'a> {
    fn new(name: &'a EnterpriseName, proper_name: &'a str, owners: &'a [Owner]) -> Self {
        Candidate { name, proper_name, owners }
    }
}

/// Refuses a name (with its abbreviation and foreign name) that conflicts with a registered
/// enterprise's (art. 41), judged under the name keys' locks. The owners holding more than half of
/// `charter_capital_vnd` are the parents of the subsidiary exception; the caller has checked with
/// [`refuse_owners`] that their codes are in the register.
fn refuse_conflicting_name(
    conn: &mut PgConnection,
    enterprise_type: EnterpriseType,
    candidate: &Candidate,
    charter_capital_vnd: i64,
    exclude: Option<&str>,
) -> Result<(), WriteError> {
    let owned = candidate.owners.iter().filter_map(|o| Some((o.enterprise_code.as_deref()?, o.capital_vnd)));
    let parents = name_check::parent_codes(owned, charter_capital_vnd);
    let candidate = NameCandidate {
        enterprise_type,
        full_name: &candidate.name.vi,
        proper_name: candidate.proper_name,
        abbreviation: candidate.name.abbreviation.as_deref(),
        foreign_name: candidate.name.en.as_deref(),
        parent_codes: &parents,
    };
    let conflicts = check_name(conn, &candidate, exclude, true)?;
    if conflicts.is_empty() {
        Ok(())
    } else {
        Err(WriteError::NameConflict(conflicts))
    }
}

/// Refuses owners the register does not allow (SPEC §2.5): an enterprise code that is not in the
/// register or names a private enterprise (art. 188.4), and for a private enterprise an owner who
/// already owns another one that has not ceased (art. 188.3). The latter is judged under a
/// transaction-scoped advisory lock on the owner's identity number, so two filings for one person
/// at the same moment are judged one after the other. `exclude`: the enterprise being changed.
fn refuse_owners(
    conn: &mut PgConnection,
    enterprise_type: EnterpriseType,
    owners: &[Owner],
    exclude: Option<&str>,
) -> Result<(), WriteError> {
    let codes: Vec<Option<&str>> = owners.iter().map(|o| o.enterprise_code.as_deref()).collect();
    let refused = refused_owner_codes(conn, &codes)?;
    if !refused.is_empty() {
        return Err(WriteError::OwnersRefused(refused));
    }
    if enterprise_type != EnterpriseType::PrivateEnterprise {
        return Ok(());
    }
    for (i, owner) in owners.iter().enumerate().filter(|(_, o)| o.kind == OwnerKind::Individual) {
        let Some(identity) = &owner.identity else { continue };
        if let Some(other) = private_enterprise_of(conn, &identity.number, exclude)? {
            return Err(WriteError::OwnersRefused(vec![OwnerRefusal::OwnerHasPrivateEnterprise { owner: i, other }]));
        }
    }
    Ok(())
}

/// The owners' enterprise codes (by place in the list; `None` for owners without one) that the
/// register refuses: unknown ones, and private enterprises (art. 188.4). Empty when all are fine.
pub fn refused_owner_codes(conn: &mut PgConnection, codes: &[Option<&str>]) -> Result<Vec<OwnerRefusal>, StoreError> {
    let wanted: Vec<&str> = codes.iter().flatten().copied().collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let found: HashMap<String, String> = enterprises::table
        .filter(enterprises::code.eq_any(&wanted))
        .select((enterprises::code, enterprises::enterprise_type))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let refused = codes
        .iter()
        .enumerate()
        .filter_map(|(owner, code)| {
            let code = (*code)?.to_string();
            match found.get(&code).map(String::as_str) {
                None => Some(OwnerRefusal::UnknownEnterprise { owner, code }),
                Some(t) if t == EnterpriseType::PrivateEnterprise.as_str() => {
                    Some(OwnerRefusal::PrivateEnterpriseOwner { owner, code })
                }
                Some(_) => None,
            }
        })
        .collect();
    Ok(refused)
}

/// The code of a private enterprise, not ceased and other than `exclude`, whose owner has identity
/// number `number` (art. 188.3), after taking the number's advisory lock. Indexed by migration
/// private_owner.
fn private_enterprise_of(
    conn: &mut PgConnection,
    number: &str,
    exclude: Option<&str>,
) -> Result<Option<String>, StoreError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        code: String,
    }
    prepared("SELECT pg_advisory_xact_lock(hashtextextended('p:' || $1, 188))")
        .bind::<Text, _>(number)
        .execute(conn)?;
    // No ORDER BY … LIMIT here: with it the planner walks the primary key in code order looking
    // for a match, through the whole register when there is none (seconds at 2,000,000 records,
    // under the lock above). A person owns few enterprises: all are read, the first is named.
    const SQL: &str = "SELECT code FROM enterprises \
         WHERE enterprise_type = 'private_enterprise' AND (record->'owners'->0->'identity'->>'number') = $1 \
           AND status <> 'ceased' AND code <> $2";
    let found = prepared(SQL).bind::<Text, _>(number).bind::<Text, _>(exclude.unwrap_or("")).load::<Found>(conn)?;
    Ok(found.into_iter().map(|f| f.code).min())
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
    // The core keys of every name with the same letters in any case: (h) ignores case, the
    // stored core key does not (art. 41.2(d) reads `II` as a numeral, `Ii` as a word).
    let core_keys = name_check::lookup_core_keys(candidate.proper_name);
    if lock {
        // The candidate's own core key, and the one of its name in lower case, which every name
        // with the same letters shares: two filings that could conflict share a lock.
        let lower_core = name_check::keys("", &candidate.proper_name.to_lowercase(), None, None).core_key;
        let mut lock_keys: Vec<String> = [
            Some(format!("r:{}", keys.read_key)),
            Some(format!("c:{}", keys.core_key)),
            Some(format!("c:{lower_core}")),
        ]
        .into_iter()
        .chain([
            keys.abbreviation_key.as_ref().map(|k| format!("b:{k}")),
            keys.foreign_key.as_ref().map(|k| format!("f:{k}")),
        ])
        .flatten()
        .collect();
        // In one round trip, in sorted order (unnest reads the array in order), so that two
        // writers never wait for each other's keys in opposite orders.
        lock_keys.sort();
        lock_keys.dedup();
        prepared("SELECT count(pg_advisory_xact_lock(hashtextextended(k, 41))) FROM unnest($1::text[]) AS k")
            .bind::<Array<Text>, _>(&lock_keys)
            .execute(conn)?;
    }
    let mut query = enterprises::table
        .filter(enterprises::status.ne("ceased"))
        .filter(
            enterprises::read_key
                .eq(&keys.read_key)
                .or(enterprises::core_key.eq_any(&core_keys))
                .or(enterprises::abbreviation_key.eq(&keys.abbreviation_key).assume_not_null())
                .or(enterprises::foreign_key.eq(&keys.foreign_key).assume_not_null()),
        )
        .select((
            enterprises::code,
            enterprises::enterprise_type,
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
    let rows: Vec<(String, String, String, String, serde_json::Value, String)> = query.load(conn)?;
    let registered = rows
        .iter()
        .map(|(code, enterprise_type, full_name, proper_name, record, status)| {
            let enterprise_type = EnterpriseType::parse(enterprise_type)
                .ok_or_else(|| deserialization(format!("unknown type {enterprise_type:?}").into()))?;
            let name = RegisteredName {
                code,
                enterprise_type,
                full_name,
                proper_name,
                abbreviation: record["name"]["abbreviation"].as_str(),
                foreign_name: record["name"]["en"].as_str(),
            };
            Ok((name, parse_status(status)?))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
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
            return Err(WriteConflict::EnterpriseCeased.into());
        }
        if record.version != expected {
            return Err(WriteError::VersionMismatch { current: record.version });
        }
        let Some((mut next, mut changed)) = change(&record)? else {
            return Ok(Modified::Unchanged(record));
        };
        if super::ownership::touches_own_computation(&changed) {
            super::ownership::refresh(conn, Some(&record), &mut next, &mut changed)?;
        }
        if super::ownership::touches_downstream(&changed) {
            super::ownership::sync_links(conn, &next)?;
            super::ownership::queue(conn, code.as_str(), super::ownership::Scope::Downstream)?;
        }
        // A change of the declaration alone is its own event: a notification, not a change of
        // the registration.
        let kind = if kind == EventKind::Changed && crate::domain::change::is_beneficial_owners_only(&changed) {
            EventKind::BeneficialOwnersChanged
        } else {
            kind
        };
        let owners = next.owners.as_deref().unwrap_or_default();
        if changed.iter().any(|f| f == "owners") {
            refuse_owners(conn, next.enterprise_type, owners, Some(code.as_str()))?;
        }
        if changed.iter().any(|f| f.starts_with("name")) {
            let (proper, _) = name_keys(&next);
            let candidate = Candidate::new(&next.name, &proper, owners);
            refuse_conflicting_name(
                conn,
                next.enterprise_type,
                &candidate,
                next.charter_capital_vnd,
                Some(code.as_str()),
            )?;
        }
        let fields: Vec<&str> = changed.iter().map(String::as_str).collect();
        write_version(conn, &next, kind, &fields, ctx)?;
        sync_units(conn, &record, &next)?;
        Ok(Modified::Changed(next))
    })
}

/// One entry of an enterprise's history.
#[derive(Debug, Clone, Queryable)]
pub struct VersionEntry {
    pub version: i32,
    pub kind: String,
    pub recorded_at: DateTime<Utc>,
    pub effective_on: NaiveDate,
    pub changed_fields: Vec<String>,
    pub actor: String,
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
