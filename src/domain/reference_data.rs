//! The reference data shipped in the project's `data/` folder (sources in `data/README.md`),
//! embedded in the binary so that nothing is fetched or looked up at run time.

use std::sync::{Arc, OnceLock};

use crate::reference::{Reference, ReferenceSources};

pub const SOURCES: ReferenceSources<'static> = ReferenceSources {
    units_2025: include_str!("../../data/admin_units_2025.csv"),
    units_legacy: include_str!("../../data/admin_units_legacy.csv"),
    legacy_to_2025: include_str!("../../data/admin_units_legacy_to_2025.csv"),
    vsic_2018: include_str!("../../data/vsic_2018.csv"),
    vsic_2025: include_str!("../../data/vsic_2025.csv"),
};

/// The catalogue built from the embedded data, parsed once per process.
pub fn reference() -> Arc<Reference> {
    static CELL: OnceLock<Arc<Reference>> = OnceLock::new();
    CELL.get_or_init(|| Arc::new(Reference::parse(&SOURCES).expect("the embedded reference data parses"))).clone()
}
