//! What the fuzz targets share: the reference data, a registered record to patch, and the checks
//! every accepted value must pass.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, NaiveDate, Utc};
use registry::domain::record::Enterprise;
use registry::domain::reference::Reference;
use registry::domain::registration::RegistrationContent;
use registry::domain::text;

pub static REFERENCE: LazyLock<Arc<Reference>> = LazyLock::new(registry::reference_data::reference);

/// SPEC Appendix A, the contract's example registration.
pub const APPENDIX_A: &str = include_str!("../../tests/common/appendix_a.json");

/// The legal date the targets validate on (fixed, so that a crash replays).
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).expect("a date")
}

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-27T03:00:00Z").expect("a timestamp").with_timezone(&Utc)
}

/// The Appendix A registration as a record (version 1, code `0100233488`).
pub static RECORD: LazyLock<Enterprise> = LazyLock::new(|| {
    let content: RegistrationContent = serde_json::from_str(APPENDIX_A).expect("Appendix A parses");
    content.validate_content(&REFERENCE, today()).expect("Appendix A is valid").into_new_record(
        "0100233488".into(),
        today(),
        now(),
    )
});

/// A record the register accepted must be storable and normalised: PostgreSQL refuses U+0000 in
/// text and jsonb (a 500 at commit), and every text is NFC with single spaces.
pub fn assert_storable(record: &Enterprise) {
    let value = serde_json::to_value(record).expect("records serialise");
    let mut stack = vec![(String::new(), &value)];
    while let Some((path, v)) = stack.pop() {
        match v {
            serde_json::Value::String(s) => {
                assert!(!s.chars().any(char::is_control), "{path}: {s:?} holds a control character");
                assert_eq!(&text::normalize(s), s, "{path} is not normalised");
            }
            serde_json::Value::Array(items) => {
                stack.extend(items.iter().enumerate().map(|(i, v)| (format!("{path}[{i}]"), v)))
            }
            serde_json::Value::Object(m) => stack.extend(m.iter().map(|(k, v)| (format!("{path}.{k}"), v))),
            _ => {}
        }
    }
}
