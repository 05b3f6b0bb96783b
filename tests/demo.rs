//! The demo register: realistic registrations, every one accepted by the register's own rules.

mod common;

use common::*;

#[test]
fn the_demo_registers_every_generated_enterprise_across_the_provinces() {
    let db = TestDb::new();
    let pool = db.pool();
    let reference = registry::domain::reference_data::reference();
    let registered = registry::cli::demo::load(&pool, &reference, 600).unwrap();
    assert_eq!(registered, 600, "every generated registration passes validation");
    assert_eq!(db.count("enterprises"), 600);
    assert!(db.count("(SELECT DISTINCT province_code FROM enterprises) p") >= 25);
    assert!(db.count("(SELECT DISTINCT enterprise_type FROM enterprises) t") == 5);
    // A second start leaves a non-empty register alone.
    assert_eq!(registry::cli::demo::load(&pool, &reference, 600).unwrap(), 0);
    assert_eq!(db.count("enterprises"), 600);
}
