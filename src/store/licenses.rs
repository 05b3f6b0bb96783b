//! Road-transport licences. Recording one writes the licence row, the enterprise's next version
//! (its record lists the licence) and a `license_recorded` feed event in one transaction.

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

/// Why recording a licence failed.
#[derive(Debug, thiserror::Error)]
pub enum LicenseWriteError {
    #[error("a licence numbered {0} is already recorded")]
    Exists(String),
    #[error("the enterprise may not hold this licence")]
    NotEligible(Vec<FieldError>),
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
