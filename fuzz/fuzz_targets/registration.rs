//! Request bodies from any bytes, through the API's body parser and the domain's validators: a
//! registration, a status change (from every status, by every role), a unit, a road-transport
//! licence and a verification. Never a panic; an accepted registration is storable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use registry::api::body;
use registry::domain::license::LicenseRequest;
use registry::domain::registration::RegistrationContent;
use registry::domain::status::{Status, StatusRequest};
use registry::domain::unit::UnitRequest;
use registry::domain::verify::{verify, VerifyRequest};
use registry::domain::Role;
use registry_fuzz::{assert_storable, now, today, RECORD, REFERENCE};

fuzz_target!(|data: &[u8]| {
    if let Ok((content, _)) = body::parse::<RegistrationContent>(data) {
        if let Ok(valid) = content.validate_content(&REFERENCE, today()) {
            assert_storable(&valid.into_new_record("0100233488".into(), today(), now()));
        }
    }
    if let Ok((request, _)) = body::parse::<StatusRequest>(data) {
        for from in Status::ALL {
            for role in Role::ALL {
                let _ = request.clone().validate(from, RECORD.registered_on, role, today());
            }
        }
    }
    if let Ok((request, _)) = body::parse::<UnitRequest>(data) {
        let _ = request.validate_for(&RECORD, &REFERENCE);
    }
    if let Ok((request, _)) = body::parse::<LicenseRequest>(data) {
        let _ = request.validate(today());
    }
    if let Ok((request, _)) = body::parse::<VerifyRequest>(data) {
        if let Ok(claims) = request.validate() {
            let _ = verify(&claims, Some(&RECORD));
            let _ = verify(&claims, None);
        }
    }
});
