//! Enterprise codes (mã số doanh nghiệp, which is also the tax code, MST) and the codes of
//! dependent units, Law on Enterprises art. 29 and Decree 168/2025.
//!
//! An enterprise code is `PPSSSSSSSC`: a 2-digit prefix, a 7-digit serial and a check digit.
//! Branches and representative offices get `CODE-NNN` (001–999); business locations get a 5-digit
//! location code that is not a tax code.

use std::fmt;

/// Weights of the check digit over the first nine digits.
const WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];

/// The highest serial a prefix can hold.
pub const MAX_SERIAL: u32 = 9_999_999;

/// Why a text is not a valid code. Each variant has a stable code for problem bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("the code holds characters other than digits, spaces, dots and one hyphen")]
    InvalidCharacters,
    #[error("an enterprise code has 10 digits")]
    WrongLength,
    #[error("the serial (digits 3 to 9) is all zeros")]
    ZeroSerial,
    #[error("the check digit (the 10th digit) does not match the first nine")]
    BadCheckDigit,
    #[error("no valid code exists for these nine digits (their weighted sum is a multiple of 11)")]
    ImpossibleSerial,
    #[error("a branch or representative office suffix has 3 digits from 001 to 999")]
    InvalidBranchSuffix,
    #[error("a business location code has 5 digits from 00001 to 99999")]
    InvalidLocationCode,
}

impl CodeError {
    /// Stable machine-readable code used in problem bodies.
    pub fn code(self) -> &'static str {
        match self {
            CodeError::InvalidCharacters => "invalid_characters",
            CodeError::WrongLength => "wrong_length",
            CodeError::ZeroSerial => "zero_serial",
            CodeError::BadCheckDigit => "bad_check_digit",
            CodeError::ImpossibleSerial => "impossible_serial",
            CodeError::InvalidBranchSuffix => "invalid_branch_suffix",
            CodeError::InvalidLocationCode => "invalid_location_code",
        }
    }
}

/// The check digit for nine digits, or `None` when the weighted sum is a multiple of 11 (no
/// valid code exists and the serial is skipped).
pub fn check_digit(nine: &[u8; 9]) -> Option<u8> {
    let sum: u32 = nine.iter().zip(WEIGHTS).map(|(d, w)| u32::from(*d) * w).sum();
    let r = sum % 11;
    if r == 0 {
        None
    } else {
        Some(((10 - r) % 10) as u8)
    }
}

/// A valid enterprise code in canonical form (ten bare digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnterpriseCode(String);

impl EnterpriseCode {
    /// Parses any accepted input form: digits with optional spaces or dots (`0100 233 488`,
    /// `01.00.233.488`).
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let digits = strip_separators(input, false)?;
        Self::from_digits(&digits)
    }

    fn from_digits(digits: &str) -> Result<Self, CodeError> {
        if digits.len() != 10 {
            return Err(CodeError::WrongLength);
        }
        let d: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
        if d[2..9].iter().all(|&x| x == 0) {
            return Err(CodeError::ZeroSerial);
        }
        let nine: [u8; 9] = d[..9].try_into().expect("ten digits");
        match check_digit(&nine) {
            None => Err(CodeError::ImpossibleSerial),
            Some(c) if c == d[9] => Ok(EnterpriseCode(digits.to_string())),
            Some(_) => Err(CodeError::BadCheckDigit),
        }
    }

    /// The code for `prefix` and `serial`, or `None` when that serial has no valid code (the
    /// registry skips it) or is out of range.
    pub fn for_serial(prefix: &str, serial: u32) -> Option<Self> {
        if serial == 0 || serial > MAX_SERIAL || prefix.len() != 2 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let nine = format!("{prefix}{serial:07}");
        let digits: [u8; 9] = nine.bytes().map(|b| b - b'0').collect::<Vec<_>>().try_into().expect("nine digits");
        let c = check_digit(&digits)?;
        Some(EnterpriseCode(format!("{nine}{c}")))
    }

    /// The first serial at or after `serial` that has a valid code, with that code.
    pub fn next_valid(prefix: &str, mut serial: u32) -> Option<(u32, Self)> {
        serial = serial.max(1);
        while serial <= MAX_SERIAL {
            if let Some(code) = Self::for_serial(prefix, serial) {
                return Some((serial, code));
            }
            serial += 1;
        }
        None
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn prefix(&self) -> &str {
        &self.0[..2]
    }

    pub fn serial(&self) -> u32 {
        self.0[2..9].parse().expect("seven digits")
    }
}

impl fmt::Display for EnterpriseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The code of a dependent unit: a branch or representative office (`CODE-NNN`, a tax code of
/// its own) or a business location (`CODE-NNNNN`, the enterprise code with its 5-digit location
/// code; the location code is not a tax code).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UnitCode {
    Dependent { enterprise: EnterpriseCode, suffix: u16 },
    Location { enterprise: EnterpriseCode, location: u32 },
}

impl UnitCode {
    /// Parses `0312687878-001`, `0312687878001`, `0312 687 878-001`, or a business location
    /// `0312687878-00001`.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let digits = strip_separators(input, true)?;
        match digits.len() {
            13 => {
                let enterprise = EnterpriseCode::from_digits(&digits[..10])?;
                let suffix: u16 = digits[10..].parse().map_err(|_| CodeError::InvalidBranchSuffix)?;
                if suffix == 0 {
                    return Err(CodeError::InvalidBranchSuffix);
                }
                Ok(UnitCode::Dependent { enterprise, suffix })
            }
            15 => {
                let enterprise = EnterpriseCode::from_digits(&digits[..10])?;
                let location: u32 = digits[10..].parse().map_err(|_| CodeError::InvalidLocationCode)?;
                if location == 0 {
                    return Err(CodeError::InvalidLocationCode);
                }
                Ok(UnitCode::Location { enterprise, location })
            }
            10 => Err(CodeError::InvalidBranchSuffix),
            _ => Err(CodeError::WrongLength),
        }
    }

    pub fn dependent(enterprise: &EnterpriseCode, suffix: u16) -> Result<Self, CodeError> {
        if suffix == 0 || suffix > 999 {
            return Err(CodeError::InvalidBranchSuffix);
        }
        Ok(UnitCode::Dependent { enterprise: enterprise.clone(), suffix })
    }

    pub fn location(enterprise: &EnterpriseCode, location: u32) -> Result<Self, CodeError> {
        if location == 0 || location > 99_999 {
            return Err(CodeError::InvalidLocationCode);
        }
        Ok(UnitCode::Location { enterprise: enterprise.clone(), location })
    }

    pub fn enterprise(&self) -> &EnterpriseCode {
        match self {
            UnitCode::Dependent { enterprise, .. } | UnitCode::Location { enterprise, .. } => enterprise,
        }
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitCode::Dependent { enterprise, suffix } => write!(f, "{enterprise}-{suffix:03}"),
            UnitCode::Location { enterprise, location } => write!(f, "{enterprise}-{location:05}"),
        }
    }
}

/// An enterprise code in any accepted form: 10 digits, which spaces or dots may separate
/// (`0100 233 488`, `01.00.233.488`). The 10th is a check digit, which a pattern cannot express:
/// a code of this shape with a wrong one is a 400 `invalid_code`.
// The OpenAPI schema of what `EnterpriseCode::parse` takes.
#[derive(utoipa::ToSchema)]
#[schema(pattern = r"^[ .]*([0-9][ .]*){10}$", example = "0100233488")]
pub struct EnterpriseCodeInput(pub String);

/// A unit code in any accepted form: the enterprise code, an optional hyphen, then 3 digits
/// (001–999: a branch or representative office) or 5 digits (00001–99999: a business location).
// The OpenAPI schema of what `UnitCode::parse` takes.
#[derive(utoipa::ToSchema)]
#[schema(pattern = r"^[ .]*([0-9][ .]*){10}-?[ .]*([0-9][ .]*){3}(([0-9][ .]*){2})?$", example = "0100233488-001")]
pub struct UnitCodeInput(pub String);

/// Removes spaces and dots; with `allow_hyphen`, one hyphen is accepted right after the tenth
/// digit (before a unit suffix).
fn strip_separators(input: &str, allow_hyphen: bool) -> Result<String, CodeError> {
    let mut digits = String::with_capacity(16);
    let mut hyphens = 0;
    for c in input.trim().chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' => {}
            '-' if allow_hyphen && hyphens == 0 && digits.len() == 10 => hyphens += 1,
            '-' if hyphens == 0 && digits.len() == 10 => return Err(CodeError::InvalidBranchSuffix),
            _ => return Err(CodeError::InvalidCharacters),
        }
        if digits.len() > 16 {
            return Err(CodeError::WrongLength);
        }
    }
    if hyphens == 1 && digits.len() == 10 {
        return Err(CodeError::InvalidBranchSuffix);
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_published_codes_are_valid() {
        for code in ["0100233488", "0312687878", "0314409058", "0100109106", "0300588569"] {
            assert_eq!(EnterpriseCode::parse(code).unwrap().as_str(), code, "{code}");
        }
    }

    #[test]
    fn accepted_input_forms_give_the_canonical_code() {
        for form in ["0100233488", "0100 233 488", "01.00.233.488", " 0100233488 "] {
            assert_eq!(EnterpriseCode::parse(form).unwrap().as_str(), "0100233488", "{form}");
        }
    }

    #[test]
    fn refused_codes_say_why() {
        assert_eq!(EnterpriseCode::parse("0100233480"), Err(CodeError::BadCheckDigit));
        assert_eq!(EnterpriseCode::parse("0100000008"), Err(CodeError::ZeroSerial));
        assert_eq!(EnterpriseCode::parse("010023348"), Err(CodeError::WrongLength));
        assert_eq!(EnterpriseCode::parse("01002334889"), Err(CodeError::WrongLength));
        assert_eq!(EnterpriseCode::parse("01002334a8"), Err(CodeError::InvalidCharacters));
        assert_eq!(EnterpriseCode::parse(""), Err(CodeError::WrongLength));
        assert_eq!(EnterpriseCode::parse("0100233488-001"), Err(CodeError::InvalidBranchSuffix));
    }

    #[test]
    fn serials_whose_sum_is_a_multiple_of_eleven_have_no_code() {
        // Find one by brute force and check both directions of the rule.
        let (serial, _) = (1..1000).filter_map(|s| EnterpriseCode::for_serial("01", s).map(|c| (s, c))).next().unwrap();
        assert!(serial >= 1);
        let impossible = (1..10_000).find(|&s| EnterpriseCode::for_serial("01", s).is_none()).unwrap();
        let nine = format!("01{impossible:07}");
        let digits: [u8; 9] = nine.bytes().map(|b| b - b'0').collect::<Vec<_>>().try_into().unwrap();
        assert_eq!(check_digit(&digits), None);
        for c in 0..10 {
            assert_eq!(EnterpriseCode::parse(&format!("{nine}{c}")), Err(CodeError::ImpossibleSerial));
        }
        let (next, code) = EnterpriseCode::next_valid("01", impossible).unwrap();
        assert!(next > impossible);
        assert!(EnterpriseCode::parse(code.as_str()).is_ok());
    }

    #[test]
    fn allocated_codes_round_trip() {
        for prefix in ["01", "79", "96"] {
            for serial in [1, 2, 3, 17, 23_348, MAX_SERIAL] {
                if let Some(code) = EnterpriseCode::for_serial(prefix, serial) {
                    let parsed = EnterpriseCode::parse(code.as_str()).unwrap();
                    assert_eq!(parsed.prefix(), prefix);
                    assert_eq!(parsed.serial(), serial);
                }
            }
        }
        assert_eq!(EnterpriseCode::for_serial("01", 23_348).unwrap().as_str(), "0100233488");
        assert!(EnterpriseCode::for_serial("01", 0).is_none());
        assert!(EnterpriseCode::for_serial("01", MAX_SERIAL + 1).is_none());
    }

    #[test]
    fn unit_codes() {
        for form in ["0312687878-001", "0312687878001", "0312 687 878-001", "03.12.687.878-001"] {
            let unit = UnitCode::parse(form).unwrap();
            assert_eq!(unit.to_string(), "0312687878-001", "{form}");
        }
        assert_eq!(UnitCode::parse("0314409058-002").unwrap().to_string(), "0314409058-002");
        assert_eq!(UnitCode::parse("0314409058-000"), Err(CodeError::InvalidBranchSuffix));
        assert_eq!(UnitCode::parse("0314409058-"), Err(CodeError::InvalidBranchSuffix));
        assert_eq!(UnitCode::parse("0314409058"), Err(CodeError::InvalidBranchSuffix));
        assert_eq!(UnitCode::parse("0314409050-002"), Err(CodeError::BadCheckDigit));
        assert_eq!(UnitCode::parse("0314409058-0002"), Err(CodeError::WrongLength));
        assert_eq!(UnitCode::parse("0314409058--002"), Err(CodeError::InvalidCharacters));
        let loc = UnitCode::parse("0314409058-00012").unwrap();
        assert_eq!(loc.to_string(), "0314409058-00012");
        assert!(matches!(loc, UnitCode::Location { location: 12, .. }));
        assert_eq!(UnitCode::parse("0314409058-00000"), Err(CodeError::InvalidLocationCode));
        let e = EnterpriseCode::parse("0314409058").unwrap();
        assert_eq!(UnitCode::dependent(&e, 1000), Err(CodeError::InvalidBranchSuffix));
        assert_eq!(UnitCode::dependent(&e, 7).unwrap().to_string(), "0314409058-007");
    }
}
