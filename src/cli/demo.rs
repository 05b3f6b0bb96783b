//! `registry serve --demo`: fills an empty register with realistic registrations across the 34
//! provinces, through the same validation and transactions as the API, so a newcomer can look
//! around at once.

use chrono::Utc;

use crate::cli::progress;
use crate::domain::legal_date;
use crate::domain::reference::{Reference, VsicEdition};
use crate::domain::registration::RegistrationContent;
use crate::store::enterprises::{self, WriteContext};
use crate::store::PgPool;
use registry_generate::{Generator, GeneratorInput, Ward};

/// The seed of the demo register: the same demo everywhere.
pub const DEMO_SEED: u64 = 20250701;

/// Builds a generator over the reference data.
pub fn generator(reference: &Reference, seed: u64) -> Generator {
    let wards = reference
        .all_wards()
        .map(|w| Ward { province_code: w.province_code.clone(), ward_code: w.code.clone() })
        .collect();
    let vsic4 =
        reference.vsic_entries(VsicEdition::Vsic2025).filter(|e| e.level == 4).map(|e| e.code.clone()).collect();
    Generator::new(seed, GeneratorInput { wards, vsic4, organisation_owner_codes: Vec::new() })
}

/// Registers `count` demo enterprises when the register is empty; returns how many it
/// registered.
pub fn load(pool: &PgPool, reference: &Reference, count: usize) -> anyhow::Result<usize> {
    load_seeded(pool, reference, count, DEMO_SEED)
}

/// [`load`] with another seed (tests build known corpora this way).
pub fn load_seeded(pool: &PgPool, reference: &Reference, count: usize, seed: u64) -> anyhow::Result<usize> {
    let mut conn = pool.get()?;
    let existing = crate::store::enterprise_count(&mut conn)?;
    if existing > 0 {
        tracing::info!(existing, "the register is not empty: no demo data loaded");
        return Ok(0);
    }
    let bar = progress::counting("demo", count as u64, "registrations");
    let mut generator = generator(reference, seed);
    let mut refused = 0usize;
    for _ in 0..count {
        let body = generator.next_registration();
        let content: RegistrationContent = serde_json::from_value(body)?;
        let now = Utc::now();
        let today = legal_date(now);
        match content.validate_content(reference, today) {
            Ok(valid) => {
                let ctx = WriteContext {
                    actor: "demo".into(),
                    at: now,
                    effective_on: today,
                    reason: Some("demo data".into()),
                };
                enterprises::register(&mut conn, valid, &ctx, None)?;
            }
            Err(errors) => {
                refused += 1;
                tracing::warn!(?errors, "a generated registration was refused");
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    tracing::info!(registered = count - refused, refused, "demo data loaded");
    Ok(count - refused)
}
