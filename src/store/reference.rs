//! Copies the embedded reference data into PostgreSQL, so that SQL consumers (reports, the
//! export, operators) see the same units and VSIC codes the service validates against. Loaded
//! at start-up when the checksum of the embedded copy differs from the loaded one.

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::{code_prefixes, legacy_wards, provinces, reference_data, vsic, wards};
use crate::domain::reference::{Reference, ReferenceSources, VsicEdition};

pub fn checksum(src: &ReferenceSources) -> String {
    let mut h = Sha256::new();
    for text in [src.units_2025, src.units_legacy, src.legacy_to_2025, src.vsic_2018, src.vsic_2025] {
        h.update(text.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// Loads the reference data when it changed; returns whether it loaded.
pub fn load(conn: &mut PgConnection, reference: &Reference, src: &ReferenceSources) -> QueryResult<bool> {
    let sum = checksum(src);
    conn.transaction(|conn| {
        diesel::sql_query("LOCK TABLE reference_data IN EXCLUSIVE MODE").execute(conn)?;
        let loaded: Option<String> =
            reference_data::table.find("units_and_vsic").select(reference_data::checksum).first(conn).optional()?;
        if loaded.as_deref() == Some(sum.as_str()) {
            return Ok(false);
        }
        load_provinces(conn, reference)?;
        load_wards(conn, reference)?;
        load_legacy_wards(conn, reference)?;
        load_vsic(conn, reference)?;
        diesel::insert_into(reference_data::table)
            .values((reference_data::name.eq("units_and_vsic"), reference_data::checksum.eq(&sum)))
            .on_conflict(reference_data::name)
            .do_update()
            .set((reference_data::checksum.eq(&sum), reference_data::loaded_at.eq(diesel::dsl::now)))
            .execute(conn)?;
        Ok(true)
    })
}

/// Rows inserted per statement.
const CHUNK: usize = 1000;

/// Every province, with its code prefix (kept when one is already set).
fn load_provinces(conn: &mut PgConnection, reference: &Reference) -> QueryResult<()> {
    for p in reference.provinces() {
        diesel::insert_into(provinces::table)
            .values((provinces::code.eq(&p.code), provinces::name.eq(&p.name)))
            .on_conflict(provinces::code)
            .do_update()
            .set(provinces::name.eq(&p.name))
            .execute(conn)?;
        diesel::insert_into(code_prefixes::table)
            .values((code_prefixes::province_code.eq(&p.code), code_prefixes::prefix.eq(&p.code)))
            .on_conflict_do_nothing()
            .execute(conn)?;
    }
    Ok(())
}

/// The wards of the 2025 units, replacing the loaded ones.
fn load_wards(conn: &mut PgConnection, reference: &Reference) -> QueryResult<()> {
    let rows: Vec<_> = reference
        .all_wards()
        .map(|w| {
            (
                wards::code.eq(&w.code),
                wards::province_code.eq(&w.province_code),
                wards::name.eq(&w.name),
                wards::kind.eq(&w.kind),
            )
        })
        .collect();
    diesel::delete(wards::table).execute(conn)?;
    for chunk in rows.chunks(CHUNK) {
        diesel::insert_into(wards::table).values(chunk).execute(conn)?;
    }
    Ok(())
}

/// The wards before the 2025 reorganisation, each with the 2025 ward it became, replacing the
/// loaded ones.
fn load_legacy_wards(conn: &mut PgConnection, reference: &Reference) -> QueryResult<()> {
    diesel::delete(legacy_wards::table).execute(conn)?;
    let rows: Vec<_> = reference
        .legacy_wards()
        .map(|w| {
            let m = reference.legacy_to_2025(&w.province_code, &w.ward_code);
            (
                legacy_wards::province_code.eq(&w.province_code),
                legacy_wards::ward_code.eq(&w.ward_code),
                legacy_wards::province_name.eq(&w.province_name),
                legacy_wards::district_code.eq(&w.district_code),
                legacy_wards::district_name.eq(&w.district_name),
                legacy_wards::ward_name.eq(&w.ward_name),
                legacy_wards::new_province_code.eq(m.map(|m| m.province_code.clone())),
                legacy_wards::new_ward_code.eq(m.map(|m| m.ward_code.clone())),
                legacy_wards::ambiguous.eq(m.is_some_and(|m| m.ambiguous)),
            )
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        diesel::insert_into(legacy_wards::table).values(chunk).execute(conn)?;
    }
    Ok(())
}

/// Both VSIC editions, replacing the loaded ones.
fn load_vsic(conn: &mut PgConnection, reference: &Reference) -> QueryResult<()> {
    diesel::delete(vsic::table).execute(conn)?;
    for edition in [VsicEdition::Vsic2018, VsicEdition::Vsic2025] {
        let rows: Vec<_> = reference
            .vsic_entries(edition)
            .map(|e| {
                (
                    vsic::edition.eq(edition.as_str()),
                    vsic::code.eq(&e.code),
                    vsic::level.eq(i16::from(e.level)),
                    vsic::name.eq(&e.name),
                    vsic::parent_code.eq(&e.parent_code),
                )
            })
            .collect();
        for chunk in rows.chunks(CHUNK) {
            diesel::insert_into(vsic::table).values(chunk).execute(conn)?;
        }
    }
    Ok(())
}

/// The prefix for codes of enterprises whose head office is in `province_code`.
pub fn code_prefix(conn: &mut PgConnection, province_code: &str) -> QueryResult<String> {
    Ok(code_prefixes::table
        .find(province_code)
        .select(code_prefixes::prefix)
        .first::<String>(conn)
        .optional()?
        .unwrap_or_else(|| province_code.to_string()))
}
