//! Enterprises, their versions and feed events. Every write runs in one transaction that
//! updates the record, appends its version and appends its feed event: all or nothing.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::idempotency::{self, Begin, IdempotentRequest, StoredResponse};
use super::schema::{code_serials, enterprise_versions, enterprises, feed_events, units};
use super::StoreError;
use crate::domain::code::{EnterpriseCode, UnitCode};
use crate::domain::errors::FieldError;
use crate::domain::record::{Enterprise, Unit, UnitKind};
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
fn append_version(
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
    diesel::insert_into(feed_events::table)
        .values((
            feed_events::code.eq(&record.code),
            feed_events::version.eq(record.version),
            feed_events::kind.eq(kind.as_str()),
            feed_events::recorded_at.eq(ctx.at),
        ))
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
        if let Some(req) = idem {
            match idempotency::begin(conn, req)? {
                Begin::Fresh => {}
                Begin::Replay(r) => return Ok(Written::Replay(r)),
                Begin::Mismatch => return Err(WriteError::IdempotencyMismatch),
            }
        }
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

fn insert_record(conn: &mut PgConnection, record: &Enterprise) -> QueryResult<()> {
    diesel::insert_into(enterprises::table)
        .values((
            enterprises::code.eq(&record.code),
            enterprises::enterprise_type.eq(record.enterprise_type.as_str()),
            enterprises::status.eq(record.status.as_str()),
            enterprises::name_vi.eq(&record.name.vi),
            enterprises::province_code.eq(&record.head_office.province_code),
            enterprises::registered_on.eq(record.registered_on),
            enterprises::version.eq(record.version),
            enterprises::record.eq(serde_json::to_value(record).expect("records serialise")),
            enterprises::updated_at.eq(record.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces the current record after a write (the version row is appended separately).
fn update_record(conn: &mut PgConnection, record: &Enterprise) -> QueryResult<()> {
    diesel::update(enterprises::table.find(&record.code))
        .set((
            enterprises::status.eq(record.status.as_str()),
            enterprises::name_vi.eq(&record.name.vi),
            enterprises::province_code.eq(&record.head_office.province_code),
            enterprises::version.eq(record.version),
            enterprises::record.eq(serde_json::to_value(record).expect("records serialise")),
            enterprises::updated_at.eq(record.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

fn decode(value: serde_json::Value) -> Result<Enterprise, StoreError> {
    serde_json::from_value(value)
        .map_err(|e| StoreError::Database(diesel::result::Error::DeserializationError(Box::new(e))))
}

/// The current record.
pub fn get(conn: &mut PgConnection, code: &EnterpriseCode) -> Result<Option<Enterprise>, StoreError> {
    let value: Option<serde_json::Value> =
        enterprises::table.find(code.as_str()).select(enterprises::record).first(conn).optional()?;
    value.map(decode).transpose()
}

fn get_for_update(conn: &mut PgConnection, code: &EnterpriseCode) -> Result<Option<Enterprise>, StoreError> {
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
        if let Some(req) = idem {
            match idempotency::begin(conn, req)? {
                Begin::Fresh => {}
                Begin::Replay(r) => return Ok(Written::Replay(r)),
                Begin::Mismatch => return Err(WriteError::IdempotencyMismatch),
            }
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
    value
        .map(|v| {
            serde_json::from_value(v)
                .map_err(|e| StoreError::Database(diesel::result::Error::DeserializationError(Box::new(e))))
        })
        .transpose()
}
