//! The BODS 0.4 statements of `registry_domain::bods` checked by Open Ownership's own validator
//! (libcovebods, through scripts/check_bods.py): a chain through two enterprises, declared owners
//! with control, a foreign passport, exempt enterprises, all in one NDJSON file as the export
//! writes them. No database. The validator is installed by scripts/install_bods_validator.sh
//! (CI runs it); without it these tests fail and say so.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use chrono::{DateTime, Utc};
use registry_domain::beneficial_owners::{computed, holdings, Holding};
use registry_domain::bods::statements;
use registry_domain::record::Enterprise;
use serde_json::{json, Value};

const AN: &str = "001080012345";
const BINH: &str = "079085000002";
const CUONG: &str = "001075000003";

fn published() -> DateTime<Utc> {
    "2026-03-02T03:00:00Z".parse().unwrap()
}

/// A record as the register keeps it, with `owners` and its beneficial ownership
/// (`{"beneficial_owners": [...]}`, `{"exempt": "listed"}` or `{}`).
fn record(code: &str, version: i32, owners: Value, ownership: Value) -> Enterprise {
    let mut r = json!({
        "code": code, "type": "llc_multi",
        "name": {"vi": format!("Công ty TNHH Sao Mai {code}"), "en": format!("Sao Mai {code} Co., Ltd"), "abbreviation": "SAO MAI"},
        "status": "active", "registered_on": "2025-08-01", "version": version, "registration_changes": 0,
        "head_office": {"street": "12 Hàng Bài", "ward_code": "00070", "ward_name": "Phường Hoàn Kiếm",
                        "province_code": "01", "province_name": "Thành phố Hà Nội"},
        "charter_capital_vnd": 1_000_000_000i64, "business_lines": [], "legal_representatives": [],
        "owners": owners, "units": [], "updated_at": "2026-02-27T09:30:00Z",
    });
    r.as_object_mut().unwrap().extend(ownership.as_object().unwrap().clone());
    serde_json::from_value(r).unwrap()
}

fn person(name: &str, number: &str, share: f64) -> Value {
    json!({"kind": "individual", "name": name, "nationality": "VN",
           "identity": {"kind": "cccd", "number": number},
           "capital_vnd": (share * 10_000_000.0) as i64, "share_percent": share})
}

fn company(code: &str, share: f64) -> Value {
    json!({"kind": "organisation", "name": format!("Công ty TNHH Sao Mai {code}"), "enterprise_code": code,
           "capital_vnd": (share * 10_000_000.0) as i64, "share_percent": share})
}

fn declared(name: &str, number: &str, basis: &[&str], percent: Option<f64>, control: Option<&str>) -> Value {
    json!({"full_name": name, "birth_date": "1980-04-12", "nationality": "VN",
           "identity": {"kind": "cccd", "number": number}, "basis": basis,
           "ownership_percent": percent, "control": control, "contact_address": "12 Hàng Bài, Hà Nội"})
}

/// Every fixture's statements, one enterprise after another, as the export writes them.
fn export() -> Vec<Value> {
    // Cường owns A outright; A holds 60 % of B; B holds 50 % of C. Bình holds 40 % of B and
    // 50 % of C and declares 70 % of C; Cường's 30 % of C is undeclared (computed).
    let a = record("0100000001", 1, json!([person("Lê Văn Cường", CUONG, 100.0)]), json!({}));
    let b = record(
        "0100000002",
        2,
        json!([company("0100000001", 60.0), person("Trần Thị Bình", BINH, 40.0)]),
        json!({"beneficial_owners": [
            declared("Trần Thị Bình", BINH, &["ownership"], Some(40.0), None),
            declared("Lê Văn Cường", CUONG, &["ownership"], Some(60.0), None),
        ]}),
    );
    let c = record(
        "0100000003",
        4,
        json!([company("0100000002", 50.0), person("Trần Thị Bình", BINH, 50.0)]),
        json!({"beneficial_owners": [declared("Trần Thị Bình", BINH, &["ownership"], Some(70.0), None)]}),
    );
    // Declared owners with control: An owns 60 % and appoints the director; a Korean investor
    // with a passport controls by the charter without owning 25 %.
    let mut d = record(
        "0100233488",
        3,
        json!([person("Nguyễn Văn An", AN, 60.0), person("Trần Thị Bình", BINH, 40.0)]),
        json!({"beneficial_owners": [
            declared("Nguyễn Văn An", AN, &["ownership", "control"], Some(60.0), Some("appoints the director")),
            declared("Trần Thị Bình", BINH, &["ownership"], Some(40.0), None),
            declared("Kim Min Jun", "M12345678", &["control"], Some(10.0), Some("decides changes to the charter")),
        ]}),
    );
    let kim = &mut d.beneficial_owners.as_mut().unwrap()[2];
    kim.nationality = "KR".into();
    kim.identity.kind = registry_domain::record::IdentityKind::Passport;
    let listed = record("0100109106", 7, json!([]), json!({"exempt": "listed"}));
    let state_owned = record("0100100079", 1, json!([]), json!({"exempt": "state_owned"}));

    let register: HashMap<String, Vec<Holding>> =
        [&a, &b, &c, &d].iter().map(|r| (r.code.clone(), holdings(r.owners.as_deref().unwrap()))).collect();
    let graph = |code: &str| computed(code, &|c: &str| register.get(c).cloned());
    [&a, &b, &c, &d, &listed, &state_owned]
        .iter()
        .flat_map(|r| {
            let g = register.contains_key(&r.code).then(|| graph(&r.code));
            statements(r, g.as_ref(), published())
        })
        .collect()
}

/// Runs scripts/check_bods.py on `statements` written as NDJSON.
fn check(statements: &[Value]) -> Output {
    let mut file = tempfile::Builder::new().suffix(".ndjson").tempfile().unwrap();
    for s in statements {
        writeln!(file, "{s}").unwrap();
    }
    file.flush().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_bods.py");
    let out = Command::new("python3").arg(&script).arg(file.path()).output().unwrap_or_else(|e| {
        panic!("cannot run python3 for the BODS validator ({e}): run scripts/install_bods_validator.sh (CI does)")
    });
    // Exit 2: libcovebods or its org-id list is missing. Fail, never skip: CI installs them.
    assert_ne!(
        out.status.code(),
        Some(2),
        "the BODS validator is not installed: run scripts/install_bods_validator.sh (CI does)\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn report(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn the_export_passes_libcovebods_without_an_error_or_a_warning() {
    let statements = export();
    let kinds = |t: &str| statements.iter().filter(|s| s["recordType"] == t).count();
    assert_eq!((kinds("entity"), kinds("person"), kinds("relationship")), (6, 8, 10));
    let out = check(&statements);
    let report = report(&out);
    println!("{report}");
    assert!(out.status.success(), "libcovebods found problems:\n{report}");
    for line in ["schema errors: 0", "additional fields: 0", "additional checks: 0"] {
        assert!(report.contains(line), "{line}\n{report}");
    }
}

#[test]
fn a_broken_statement_fails_the_check() {
    let mut statements = export();
    // A relationship whose interested party is in no statement, an id too short for 0.4, a
    // person identifier scheme that names no country, and a field BODS does not define.
    let relationship = statements.iter().position(|s| s["recordType"] == "relationship").unwrap();
    statements[relationship]["recordDetails"]["interestedParty"] = "VN-TIN-0100000001/person/nobody".into();
    statements[relationship]["statementId"] = "too-short".into();
    let person = statements.iter().position(|s| s["recordType"] == "person").unwrap();
    statements[person]["recordDetails"]["identifiers"][0]["scheme"] = "VN-CCCD".into();
    statements[person]["ownerSince"] = "2025-08-01".into();
    let out = check(&statements);
    let report = report(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    for expected in [
        "'too-short' is too short",
        "interested_party_must_be_record_id",
        "person_identifiers_no_valid_iso_3166_1_alpha_3_code",
        "/ownerSince",
    ] {
        assert!(report.contains(expected), "{expected}\n{report}");
    }
}
