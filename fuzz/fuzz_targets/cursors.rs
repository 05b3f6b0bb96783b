//! Change-feed and search cursors from any text: a cursor this service made, or a refusal; never
//! a panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use registry::api::feed::Cursor;
use registry_index::{EnterpriseDoc, IndexError, SearchIndex, SearchRequest};

static INDEX: LazyLock<SearchIndex> = LazyLock::new(|| {
    let index = SearchIndex::in_memory().expect("an index in memory");
    for (i, name) in ["An Phát", "An Bình", "Phát Đạt", "Hoàng Long"].iter().enumerate() {
        index
            .upsert(&EnterpriseDoc {
                code: format!("010000{i}"),
                name: format!("Công ty TNHH {name}"),
                proper_name: name.to_string(),
                province_code: "01".into(),
                ward_code: "00070".into(),
                status: "active".into(),
                enterprise_type: "llc_multi".into(),
                registered_on: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date"),
                ..Default::default()
            })
            .expect("upsert");
    }
    index.commit(1).expect("commit");
    index
});

fuzz_target!(|input: &str| {
    if let Some(c) = Cursor::decode(input) {
        assert!(c.0 >= 0);
        assert_eq!(c.encode(), input.trim());
    }
    for q in ["", "an"] {
        let req = SearchRequest { q: q.into(), limit: 1, cursor: Some(input.to_string()), ..Default::default() };
        match INDEX.search(&req) {
            Ok(_) | Err(IndexError::InvalidCursor(_)) => {}
            Err(e) => panic!("{input:?}: {e}"),
        }
    }
});
