//! A registration change (JSON Merge Patch, RFC 7396) of the Appendix A record from any bytes:
//! never a panic; an accepted change gives a storable record whose content validates back to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use registry::domain::change::{apply_change, content_of, merged_content, split_patch};
use registry::domain::registration::RegistrationContent;
use registry_fuzz::{assert_storable, now, today, RECORD, REFERENCE};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let Ok(patch) = split_patch(body) else { return };
    let merged = merged_content(&RECORD, &patch.content);
    let Ok(content) = serde_json::from_value::<RegistrationContent>(merged) else { return };
    let Ok(valid) = content.validate_content(&REFERENCE, today()) else { return };
    if let Some((next, changed)) = apply_change(&RECORD, valid, now()) {
        assert!(!changed.is_empty());
        assert_eq!(next.version, RECORD.version + 1);
        assert_storable(&next);
        let again: RegistrationContent = serde_json::from_value(content_of(&next)).expect("content parses");
        let valid = again.validate_content(&REFERENCE, today()).expect("a record's content is valid");
        assert!(apply_change(&next, valid, now()).is_none(), "the record's own content changes it");
    }
});
