//! Road-transport licences. Recording one writes the licence row, the enterprise's next version
//! (its record lists the licence) and a `license_recorded` feed event in one transaction; changing
//! its status, the row, the next version and a `license_changed` event.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::enterprises::{
    decode, get_for_update, write_version, EventKind, WriteConflict, WriteContext, WriteError, Written,
};
use super::idempotency::{self, IdempotentRequest};
use super::schema::{enterprises, licenses};
use super::StoreError;
use crate::domain::code::EnterpriseCode;
use crate::domain::errors::FieldError;
use crate::domain::license::LicenseStatusRefusal;
use crate::domain::record::{Enterprise, License};
use crate::domain::status::Status;

/// A licence and whom it was recorded for, by whom and when.
#[derive(Debug, Clone)]
pub struct RecordedLicense {
    pub license: License,
    pub enterprise_code: String,
    pub recorded_at: DateTime<Utc>,
    /// The client that recorded it.
    pub recorded_by: String,
}

/// Records `license` for the enterprise `code`, based on version `expected` when given.
/// `eligible` judges the enterprise as it is under the row lock. Done gives the licence and the
/// enterprise's new version.
pub fn record(
    conn: &mut PgConnection,
    code: &EnterpriseCode,
    expected: Option<i32>,
    license: License,
    eligible: impl FnOnce(&Enterprise, &License) -> Vec<FieldError>,
    ctx: &WriteContext,
    idem: Option<&IdempotentRequest<(RecordedLicense, i32)>>,
) -> Result<Written<(RecordedLicense, i32)>, LicenseWriteError> {
    conn.transaction(|conn| {
        if let Some(r) = idempotency::claim(conn, idem, || WriteError::IdempotencyMismatch)? {
            return Ok(Written::Replay(r));
        }
        let mut record = get_for_update(conn, code)?.ok_or(WriteError::NotFound)?;
        if record.status == Status::Ceased {
            return Err(WriteError::from(WriteConflict::EnterpriseCeased).into());
        }
        if let Some(expected) = expected {
            if record.version != expected {
                return Err(WriteError::VersionMismatch { current: record.version }.into());
            }
        }
        let refusals = eligible(&record, &license);
        if !refusals.is_empty() {
            return Err(LicenseWriteError::NotEligible(refusals));
        }
        let inserted = diesel::insert_into(licenses::table)
            .values((
                licenses::number.eq(&license.number),
                licenses::enterprise_code.eq(code.as_str()),
                licenses::kind.eq(license.kind.as_str()),
                licenses::issued_on.eq(license.issued_on),
                licenses::expires_on.eq(license.expires_on),
                licenses::status.eq(license.status.as_str()),
                licenses::record.eq(serde_json::to_value(&license).expect("licences serialise")),
                licenses::recorded_at.eq(ctx.at),
                licenses::actor.eq(&ctx.actor),
            ))
            .execute(conn);
        match inserted {
            Ok(_) => {}
            Err(e) if super::is_unique_violation(&e) => {
                return Err(LicenseWriteError::Exists(license.number.clone()));
            }
            Err(e) => return Err(WriteError::from(e).into()),
        }
        record.licenses.get_or_insert_with(Vec::new).push(license.clone());
        record.version += 1;
        record.updated_at = ctx.at;
        write_version(conn, &record, EventKind::LicenseRecorded, &["licenses"], ctx)?;
        let recorded = RecordedLicense {
            license,
            enterprise_code: code.to_string(),
            recorded_at: ctx.at,
            recorded_by: ctx.actor.clone(),
        };
        let done = (recorded, record.version);
        idempotency::finish(conn, idem, &done)?;
        Ok(Written::Done(done))
    })
}

/// Sets the status of licence `number`, based on version `expected` of its enterprise when given:
/// `change` judges the licence as the enterprise's record holds it, under the enterprise's row
/// lock, and gives it as it becomes. Writes the enterprise's next version (its record lists the
/// licence changed), its `license_changed` event and the licence's row, in one transaction.
/// Gives the licence and the enterprise's new record.
pub fn change_status(
    conn: &mut PgConnection,
    number: &str,
    expected: Option<i32>,
    ctx: &WriteContext,
    change: impl FnOnce(&License) -> Result<License, LicenseStatusRefusal>,
) -> Result<(RecordedLicense, Enterprise), LicenseWriteError> {
    conn.transaction(|conn| {
        let row: Option<(String, DateTime<Utc>, String, serde_json::Value)> = licenses::table
            .find(number)
            .select((licenses::enterprise_code, licenses::recorded_at, licenses::actor, licenses::record))
            .first(conn)
            .optional()?;
        let Some((enterprise_code, recorded_at, recorded_by, stored)) = row else {
            return Err(LicenseWriteError::Unknown(number.to_string()));
        };
        let code = EnterpriseCode::parse(&enterprise_code)
            .map_err(|e| StoreError::Database(diesel::result::Error::DeserializationError(Box::new(e))))?;
        let mut record = get_for_update(conn, &code)?.ok_or(WriteError::NotFound)?;
        if record.status == Status::Ceased {
            return Err(WriteError::from(WriteConflict::EnterpriseCeased).into());
        }
        if let Some(expected) = expected {
            if record.version != expected {
                return Err(WriteError::VersionMismatch { current: record.version }.into());
            }
        }
        let listed = record.licenses().iter().find(|l| l.number == number).cloned();
        let current = match listed {
            Some(l) => l,
            None => decode(stored)?,
        };
        let next = change(&current).map_err(LicenseWriteError::Status)?;
        let list = record.licenses.get_or_insert_with(Vec::new);
        match list.iter_mut().find(|l| l.number == number) {
            Some(l) => *l = next.clone(),
            None => list.push(next.clone()),
        }
        record.version += 1;
        record.updated_at = ctx.at;
        write_version(conn, &record, EventKind::LicenseChanged, &["licenses"], ctx)?;
        diesel::update(licenses::table.find(number))
            .set((
                licenses::status.eq(next.status.as_str()),
                licenses::record.eq(serde_json::to_value(&next).expect("licences serialise")),
            ))
            .execute(conn)?;
        Ok((RecordedLicense { license: next, enterprise_code, recorded_at, recorded_by }, record))
    })
}

/// Why recording a licence or changing its status failed.
#[derive(Debug, thiserror::Error)]
pub enum LicenseWriteError {
    #[error("a licence numbered {0} is already recorded")]
    Exists(String),
    #[error("the enterprise may not hold this licence")]
    NotEligible(Vec<FieldError>),
    #[error("no licence is numbered {0}")]
    Unknown(String),
    #[error("the licence's status may not change so")]
    Status(LicenseStatusRefusal),
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl From<StoreError> for LicenseWriteError {
    fn from(e: StoreError) -> Self {
        LicenseWriteError::Write(WriteError::Store(e))
    }
}

impl From<diesel::result::Error> for LicenseWriteError {
    fn from(e: diesel::result::Error) -> Self {
        LicenseWriteError::Write(e.into())
    }
}

/// A licence by number, with the current record of its enterprise.
pub fn get(conn: &mut PgConnection, number: &str) -> Result<Option<(RecordedLicense, Enterprise)>, StoreError> {
    let row: Option<(serde_json::Value, String, DateTime<Utc>, String, serde_json::Value)> = licenses::table
        .inner_join(enterprises::table)
        .filter(licenses::number.eq(number))
        .select((
            licenses::record,
            licenses::enterprise_code,
            licenses::recorded_at,
            licenses::actor,
            enterprises::record,
        ))
        .first(conn)
        .optional()?;
    let Some((license, enterprise_code, recorded_at, recorded_by, enterprise)) = row else { return Ok(None) };
    let license: License = decode(license)?;
    let enterprise: Enterprise = decode(enterprise)?;
    // The enterprise's record holds the licence as it now stands.
    let license = enterprise.licenses().iter().find(|l| l.number == license.number).cloned().unwrap_or(license);
    Ok(Some((RecordedLicense { license, enterprise_code, recorded_at, recorded_by }, enterprise)))
}
