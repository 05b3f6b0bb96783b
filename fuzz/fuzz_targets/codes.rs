//! Enterprise and unit codes (SPEC §2.1) from any text: never a panic; what is accepted is the
//! canonical code of exactly the digits typed, and parses again to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use registry::domain::code::{EnterpriseCode, UnitCode};

fuzz_target!(|input: &str| {
    let typed_digits: String = input.chars().filter(char::is_ascii_digit).collect();
    if let Ok(code) = EnterpriseCode::parse(input) {
        assert_eq!(code.as_str(), typed_digits);
        assert_eq!(EnterpriseCode::parse(code.as_str()), Ok(code.clone()));
        let _ = (code.prefix(), code.serial());
    }
    if let Ok(unit) = UnitCode::parse(input) {
        let shown = unit.to_string();
        assert_eq!(shown.replace('-', ""), typed_digits);
        assert_eq!(UnitCode::parse(&shown), Ok(unit));
    }
});
