//! Synthetic, realistic enterprise registration request bodies.
//!
//! Used by `registry serve --demo` (a few thousand bodies) and by
//! `registry generate --count N --seed S` (millions, NDJSON, for benchmarks).
//!
//! The generator is deterministic: the same seed and the same [`GeneratorInput`]
//! (same order of wards and codes) produce the same sequence of bodies on every
//! platform (ChaCha8 stream, integer-only sampling, no hash-map iteration).
//! It reads no files: the caller passes the reference data in.
//!
//! Every body is meant to pass the service's validation:
//! type prefix of the Vietnamese name, owners per type with capitals summing
//! exactly to the charter capital, exactly one main VSIC line, 12-digit CCCD
//! numbers consistent with birth date and sex, identities unique over the run,
//! and names unique over the run in a sense stronger than the legal
//! "confusing name" test (Law on Enterprises 2020, art. 41): the proper-name
//! core (distinctive syllables, trade words excluded, folded: lower case, no
//! tones/diacritics, đ→d, spaces removed, the tokens `tân`/`mới` dropped) never
//! repeats; English names and abbreviations never repeat (case-insensitive).
//!
//! ```text
//! let mut g = Generator::new(seed, GeneratorInput { wards, vsic4, organisation_owner_codes });
//! for _ in 0..count {
//!     let body: serde_json::Value = g.next_registration();
//!     // POST it, or write it as one NDJSON line
//! }
//! ```
//!
//! Uniqueness is only guaranteed among the bodies of one `Generator`; it does
//! not know about enterprises already in the database. Memory grows with the
//! run (a few 64-bit hashes per body: about 190 MB resident at 2 million).
//! Organisation owners use only `organisation_owner_codes` (none when empty);
//! their names are invented, not looked up.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use registry_domain::code::{EnterpriseCode, UnitCode};
use registry_domain::enterprise_type::{self, EnterpriseType};
use registry_domain::imported::{self, units_reform, vsic_2025_in_force};
use registry_domain::legal_date;
use registry_domain::name_check;
use registry_domain::record::{
    BusinessLine, Enterprise, Identity, IdentityKind, LegacyUnits, Unit, UnitAddress, UnitKind,
};
use registry_domain::reference::{Reference, VsicEdition, ROAD_TRANSPORT_VSIC};
use registry_domain::status::Status;
use registry_domain::text;

/// One 2025 commune-level unit (ward or commune) with its province.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ward {
    pub province_code: String,
    pub ward_code: String,
}

/// Reference data the generator draws from.
#[derive(Debug, Clone, Default)]
pub struct GeneratorInput {
    /// 2025 wards/communes (must not be empty).
    pub wards: Vec<Ward>,
    /// Level-4 VSIC 2025 codes (must not be empty).
    pub vsic4: Vec<String>,
    /// Enterprise codes of already registered enterprises that may appear as
    /// organisation owners (may be empty: then no organisation owners).
    pub organisation_owner_codes: Vec<String>,
}

// ---------------------------------------------------------------------------
// Static vocabulary (typed here; normalised to NFC when the generator is built)
// ---------------------------------------------------------------------------

/// Distinctive syllables of proper names. No single letters, nothing that reads
/// as a Roman numeral, no `mới`/`miền`/`và`; `Tân` is allowed but dropped from
/// the uniqueness key.
#[rustfmt::skip]
const SYLLABLES: &[&str] = &[
    "An", "Anh", "Bách", "Bảo", "Bình", "Bền", "Cát", "Châu", "Chí", "Chiến", "Cường", "Danh",
    "Dân", "Duy", "Dũng", "Dương", "Đại", "Đạt", "Đăng", "Điền", "Định", "Đoàn", "Đông", "Đô",
    "Đức", "Gia", "Giang", "Hà", "Hải", "Hạnh", "Hào", "Hằng", "Hậu", "Hiền", "Hiển", "Hiệp",
    "Hiếu", "Hoa", "Hòa", "Hoàn", "Hoàng", "Hồng", "Hợp", "Hội", "Huy", "Hưng", "Hương", "Hưởng",
    "Hữu", "Khang", "Khanh", "Khánh", "Khải", "Khoa", "Khôi", "Kiên", "Kiệt", "Kim", "Kỳ", "Lạc",
    "Lâm", "Lan", "Lập", "Liên", "Linh", "Long", "Lộc", "Lợi", "Lực", "Luân", "Mai", "Mạnh", "Minh",
    "Mỹ", "Nam", "Nga", "Ngân", "Nghĩa", "Ngọc", "Nguyên", "Nhân", "Nhật", "Nhất", "Nhơn", "Như",
    "Ninh", "Phát", "Phong", "Phú", "Phúc", "Phước", "Phương", "Quang", "Quân", "Quế", "Quốc",
    "Quý", "Quyết", "Sang", "Sáng", "Sao", "Sen", "Sơn", "Tài", "Tâm", "Tân", "Tấn", "Thái",
    "Thắng", "Thành", "Thạnh", "Thảo", "Thiên", "Thiện", "Thịnh", "Thông", "Thuận", "Thủy", "Thụy",
    "Tiến", "Tiên", "Tín", "Tinh", "Toàn", "Trang", "Trí", "Triều", "Trọng", "Trung", "Trường",
    "Tuấn", "Tuệ", "Tùng", "Tường", "Uy", "Uyên", "Vạn", "Vân", "Việt", "Vinh", "Vĩnh", "Vũ",
    "Vương", "Vượng", "Vững", "Xuân", "Yên", "Âu", "Bắc", "Hân", "Lý", "Đỉnh", "Hoài", "Khương",
    "Nhã", "Phụng",
];

/// Syllables that read well at the end of a name (prosperity words).
#[rustfmt::skip]
const ENDINGS: &[&str] = &[
    "Phát", "Thịnh", "Lộc", "Hưng", "Long", "Thành", "Đạt", "Phú", "Vượng", "Tín", "Lợi", "Khang",
    "An", "Phúc", "Việt",
];

/// Trade words: Vietnamese, English rendering, abbreviation word.
#[rustfmt::skip]
const TRADES: &[(&str, &str, &str)] = &[
    ("Thương mại", "Trading", "TRADING"), ("Dịch vụ", "Services", "SERVICES"),
    ("Xây dựng", "Construction", "CONSTRUCTION"), ("Vận tải", "Transport", "TRANSPORT"),
    ("Sản xuất", "Manufacturing", "MANUFACTURING"), ("Xuất nhập khẩu", "Import Export", "IMEX"),
    ("Đầu tư", "Investment", "INVEST"), ("Công nghệ", "Technology", "TECH"),
    ("Du lịch", "Travel", "TRAVEL"), ("Thực phẩm", "Food", "FOOD"),
    ("Kỹ thuật", "Engineering", "ENGINEERING"), ("Tư vấn", "Consulting", "CONSULTING"),
    ("Bất động sản", "Real Estate", "REAL ESTATE"), ("Nông nghiệp", "Agriculture", "AGRI"),
    ("Thủy sản", "Seafood", "SEAFOOD"), ("Giáo dục", "Education", "EDUCATION"),
    ("Y tế", "Medical", "MEDICAL"), ("Cơ khí", "Mechanical", "MECHANICAL"),
    ("Năng lượng", "Energy", "ENERGY"), ("Môi trường", "Environment", "ENVIRONMENT"),
    ("Nội thất", "Furniture", "FURNITURE"), ("Kho vận", "Logistics", "LOGISTICS"),
    ("Truyền thông", "Media", "MEDIA"), ("Khách sạn", "Hotel", "HOTEL"),
    ("Thời trang", "Fashion", "FASHION"), ("Dược phẩm", "Pharmaceutical", "PHARMA"),
    ("May mặc", "Garment", "GARMENT"), ("In ấn", "Printing", "PRINTING"),
    ("Phần mềm", "Software", "SOFTWARE"), ("Khoáng sản", "Mining", "MINING"),
];

/// Generic trade words that combine with a specific one ("Thương mại Dịch vụ").
#[rustfmt::skip]
const GENERIC_TRADES: &[&str] = &[
    "Thương mại", "Dịch vụ", "Đầu tư", "Sản xuất", "Xuất nhập khẩu",
];

/// Trade words coherent with a VSIC 2025 division (first two digits).
fn trades_for_division(div: u32) -> &'static [&'static str] {
    match div {
        1 | 2 => &["Nông nghiệp", "Sản xuất"],
        3 => &["Thủy sản", "Nông nghiệp"],
        5..=9 => &["Khoáng sản"],
        10 | 11 => &["Thực phẩm", "Sản xuất"],
        13..=15 => &["May mặc", "Thời trang", "Sản xuất"],
        18 => &["In ấn", "Sản xuất"],
        21 => &["Dược phẩm"],
        24 | 25 | 28..=30 => &["Cơ khí", "Sản xuất", "Kỹ thuật"],
        26 | 27 => &["Công nghệ", "Kỹ thuật"],
        31 => &["Nội thất", "Sản xuất"],
        12 | 16 | 17 | 19 | 20 | 22 | 23 | 32 => &["Sản xuất"],
        33 => &["Kỹ thuật", "Cơ khí"],
        35 => &["Năng lượng"],
        36..=39 => &["Môi trường"],
        41..=43 => &["Xây dựng", "Kỹ thuật"],
        46 => &["Thương mại", "Xuất nhập khẩu"],
        47 => &["Thương mại", "Dịch vụ"],
        49..=51 | 53 => &["Vận tải"],
        52 => &["Kho vận", "Vận tải"],
        55 => &["Khách sạn", "Du lịch"],
        56 => &["Dịch vụ", "Thực phẩm"],
        58..=60 | 73 => &["Truyền thông"],
        61 => &["Công nghệ"],
        62 | 63 => &["Công nghệ", "Phần mềm"],
        64..=66 => &["Đầu tư"],
        68 => &["Bất động sản", "Đầu tư"],
        69 | 70 | 74 => &["Tư vấn"],
        71 | 72 => &["Kỹ thuật", "Tư vấn"],
        79 => &["Du lịch"],
        85 => &["Giáo dục"],
        86..=88 => &["Y tế"],
        _ => &["Dịch vụ", "Thương mại"],
    }
}

/// Relative frequency of a VSIC division as the main line (spread over its codes).
fn division_weight(div: u32) -> u32 {
    match div {
        46 => 1600,
        47 => 900,
        41 => 450,
        43 => 350,
        42 => 250,
        56 => 250,
        62 => 200,
        70 => 200,
        68 => 200,
        45 => 200,
        52 => 150,
        71 | 73 => 150,
        25 | 82 | 85 => 120,
        1 | 10 | 55 => 100,
        14 => 80,
        // 49 without road transport: rail, bus, pipelines (road transport is drawn separately)
        49 => 20,
        3 | 22 | 23 | 63 | 77 | 79 | 86 => 60,
        16 | 28 | 69 | 74 | 81 | 96 => 50,
        13 | 15 | 18 | 20 | 26 | 31 | 33 | 35 | 38 | 66 | 93 | 95 => 40,
        2 | 8 | 11 | 17 | 27 | 32 | 50 | 58 | 59 | 72 | 78 => 30,
        5..=7 | 9 | 19 | 21 | 24 | 29 | 30 | 36 | 37 | 39 | 51 | 53 | 61 | 64 | 65 | 80 | 87 | 88 | 90 | 91 => 10,
        // public administration, party/associations, households, lottery, international bodies
        84 | 92 | 94 | 97..=99 => 0,
        _ => 10,
    }
}

/// Lines a road-transport enterprise typically adds.
#[rustfmt::skip]
const TRANSPORT_RELATED: &[&str] = &[
    "5210", "5224", "5225", "5229", "5231", "4663", "4730", "7710", "4520",
];

/// Weight of a 2025 province (by economic size / number of enterprises).
fn province_weight(code: &str) -> u32 {
    match code {
        "79" => 3000,
        "01" => 2000,
        "31" => 400,
        "75" => 350,
        "48" => 300,
        "24" => 280,
        "22" | "92" | "38" | "37" | "25" | "80" => 150,
        "56" | "40" | "33" | "68" => 140,
        "52" => 120,
        "66" | "19" | "86" | "91" | "82" => 100,
        "51" => 80,
        "46" => 70,
        "44" => 60,
        "42" | "15" | "96" => 50,
        "08" => 40,
        "20" | "14" => 30,
        "04" | "11" | "12" => 20,
        _ => 30,
    }
}

/// Province codes of the 63 pre-2025 provinces, used as CCCD place-of-birth codes.
#[rustfmt::skip]
const BIRTH_PROVINCES: &[u16] = &[
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37,
    38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77,
    79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
];

#[rustfmt::skip]
const SURNAMES: &[(&str, u32)] = &[
    ("Nguyễn", 380), ("Trần", 110), ("Lê", 95), ("Phạm", 70), ("Hoàng", 30), ("Huỳnh", 25),
    ("Phan", 45), ("Vũ", 25), ("Võ", 25), ("Đặng", 21), ("Bùi", 20), ("Đỗ", 14), ("Hồ", 13),
    ("Ngô", 13), ("Dương", 10), ("Lý", 5), ("Đinh", 8), ("Đoàn", 7), ("Trương", 7), ("Lương", 5),
    ("Mai", 5), ("Cao", 4), ("Lâm", 4), ("Hà", 4), ("Tạ", 3), ("Tô", 3), ("Chu", 2), ("Kiều", 2),
    ("Thái", 2), ("Triệu", 2), ("Vương", 2), ("Quách", 1), ("La", 1), ("Lục", 1), ("Tăng", 1),
];
#[rustfmt::skip]
const MALE_MIDDLE: &[(&str, u32)] = &[
    ("Văn", 350), ("Đức", 120), ("Minh", 120), ("Quang", 80), ("Hữu", 80), ("Công", 60),
    ("Thanh", 50), ("Quốc", 40), ("Xuân", 40), ("Đình", 30), ("Tuấn", 25), ("Hoàng", 25),
    ("Trọng", 20), ("Ngọc", 20), ("Mạnh", 15), ("Thế", 20), ("Anh", 15), ("Gia", 10), ("Bá", 10),
];
#[rustfmt::skip]
const FEMALE_MIDDLE: &[(&str, u32)] = &[
    ("Thị", 550), ("Ngọc", 80), ("Thu", 60), ("Thanh", 60), ("Minh", 40), ("Phương", 40),
    ("Hồng", 40), ("Kim", 40), ("Mai", 30), ("Thùy", 30), ("Bích", 20), ("Hoài", 20), ("Khánh", 20),
    ("Bảo", 20), ("Diệu", 10), ("Quỳnh", 20),
];
/// Second middle name after `Thị` ("Nguyễn Thị Thu Hà").
#[rustfmt::skip]
const FEMALE_MIDDLE2: &[&str] = &[
    "Thu", "Thanh", "Ngọc", "Minh", "Kim", "Hồng", "Mai", "Thùy", "Bích", "Phương",
];
#[rustfmt::skip]
const MALE_GIVEN: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Đức", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy",
    "Hưng", "Khang", "Khánh", "Khoa", "Kiên", "Lâm", "Long", "Lợi", "Mạnh", "Minh", "Nam", "Nghĩa",
    "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài", "Thắng", "Thành", "Thịnh", "Tiến", "Toàn",
    "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ", "Hậu", "Hiệp", "Lộc", "Phát", "Quý", "Tâm",
    "Thái", "Trí", "Tú", "Bảo", "Chiến", "Định", "Giang", "Hòa", "Kiệt", "Luân", "Nhân", "Tân",
    "Thông", "Thuận", "Trọng", "Vĩnh", "Hào", "Đông",
];
#[rustfmt::skip]
const FEMALE_GIVEN: &[&str] = &[
    "Anh", "Bình", "Chi", "Dung", "Duyên", "Giang", "Hà", "Hằng", "Hạnh", "Hiền", "Hoa", "Hồng",
    "Hương", "Huyền", "Lan", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc", "Nhung", "Oanh",
    "Phương", "Quyên", "Quỳnh", "Tâm", "Thảo", "Thu", "Thủy", "Trang", "Trâm", "Uyên", "Vân", "Yến",
    "Thúy", "Liên", "Nhi", "Vy", "Hậu", "Lý", "Xuân", "Diệp", "Hân",
];

/// Foreign nationalities (ISO 3166-1 alpha-2), weight, family names, given names.
#[rustfmt::skip]
const FOREIGNERS: &[(&str, u32, &[&str], &[&str])] = &[
    ("KR", 30, &["Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon"], &["Min Jun", "Seo Yeon", "Ji Hoon", "Hyun Woo", "So Yeon", "Dong Hyun", "Jae Sung", "Eun Ji"]),
    ("JP", 20, &["Tanaka", "Suzuki", "Sato", "Takahashi", "Watanabe", "Ito", "Yamamoto", "Nakamura"], &["Hiroshi", "Takeshi", "Kenji", "Yuki", "Akira", "Naoko", "Haruto", "Yumi"]),
    ("CN", 18, &["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao"], &["Wei", "Fang", "Jing", "Lei", "Min", "Jie", "Hao", "Xin"]),
    ("TW", 10, &["Chen", "Lin", "Huang", "Chang", "Wu", "Tsai"], &["Chih Ming", "Ya Ting", "Shu Fen", "Chun Hung", "Mei Ling"]),
    ("SG", 8, &["Tan", "Lim", "Lee", "Ng", "Ong", "Wong"], &["Wei Ming", "Hui Ling", "Jun Jie", "Kok Leong"]),
    ("US", 5, &["Smith", "Johnson", "Brown", "Miller", "Davis"], &["John", "Michael", "David", "Sarah", "Emily"]),
    ("FR", 3, &["Martin", "Dubois", "Bernard", "Laurent"], &["Pierre", "Nicolas", "Camille", "Julien"]),
    ("DE", 3, &["Müller", "Schmidt", "Schneider", "Fischer"], &["Thomas", "Andreas", "Anna", "Stefan"]),
    ("GB", 3, &["Taylor", "Wilson", "Evans", "Thomas"], &["James", "Oliver", "Emma", "Peter"]),
    ("AU", 3, &["Williams", "Jones", "White", "Harris"], &["Jack", "Lachlan", "Chloe", "Matthew"]),
    ("TH", 2, &["Saelim", "Srisuk", "Wongsa"], &["Somchai", "Niran", "Malee"]),
    ("MY", 2, &["Abdullah", "Ismail", "Lim"], &["Ahmad", "Siti", "Wei Jie"]),
];

/// Well-known street names (NFC after build).
#[rustfmt::skip]
const STREETS: &[&str] = &[
    "Nguyễn Trãi", "Lê Lợi", "Trần Hưng Đạo", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung",
    "Hùng Vương", "Điện Biên Phủ", "Nguyễn Huệ", "Lê Duẩn", "Phan Đình Phùng", "Võ Thị Sáu",
    "Cách Mạng Tháng Tám", "Nguyễn Văn Cừ", "Tôn Đức Thắng", "Hoàng Hoa Thám", "Nguyễn Du",
    "Bà Triệu", "Lê Thánh Tông", "Trần Phú", "Nguyễn Thị Minh Khai", "Phạm Văn Đồng", "Võ Văn Kiệt",
    "Lê Hồng Phong", "Nguyễn Chí Thanh", "Trường Chinh", "Giải Phóng", "Nguyễn Văn Linh",
    "Lạc Long Quân", "Âu Cơ", "Pasteur", "Nam Kỳ Khởi Nghĩa", "Ngô Quyền", "Lê Văn Sỹ",
    "Nguyễn Đình Chiểu", "Trần Quang Khải", "Xuân Thủy", "Hoàng Quốc Việt", "Phạm Ngũ Lão",
    "Bạch Đằng", "Hàng Bài", "Tràng Tiền", "Kim Mã", "Láng Hạ", "Cầu Giấy", "Tô Hiến Thành",
    "Lý Tự Trọng", "Nguyễn Tất Thành", "Chu Văn An", "Huỳnh Thúc Kháng",
];

/// A few real industrial parks per province; others get a generic name.
fn industrial_parks(province: &str) -> &'static [&'static str] {
    match province {
        "79" => &["Tân Tạo", "Tân Bình", "Hiệp Phước", "VSIP", "Mỹ Phước", "Sóng Thần", "Phú Mỹ I"],
        "01" => &["Thăng Long", "Quang Minh", "Nội Bài", "Phú Nghĩa", "Bắc Thăng Long"],
        "31" => &["Đình Vũ", "Nomura", "Tràng Duệ", "Đại An", "Nam Sách"],
        "75" => &["Amata", "Biên Hòa 2", "Nhơn Trạch 3", "Long Thành"],
        "48" => &["Hòa Khánh", "Liên Chiểu", "Điện Nam - Điện Ngọc"],
        "24" => &["Quế Võ", "Yên Phong", "VSIP Bắc Ninh", "Đình Trám"],
        "92" => &["Trà Nóc 1", "Hưng Phú"],
        "22" => &["Cái Lân", "Đông Mai"],
        "33" => &["Phố Nối A", "Thăng Long II"],
        _ => &[],
    }
}

const STREET_KINDS_NORTH: &[&str] = &["phố", "đường"];
const LOT_LETTERS: &[&str] = &["A", "B", "C", "D", "E", "F", "G", "H", "K", "L", "M", "N"];
const PASSPORT_LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVXYZ";
#[rustfmt::skip]
const MOBILE_PREFIXES: &[&str] = &[
    "090", "091", "093", "094", "096", "097", "098", "032", "033", "034", "035", "036", "037",
    "038", "039", "070", "076", "077", "078", "079", "081", "082", "083", "084", "085", "086",
    "088", "089", "056", "058",
];

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// `s` in NFC, owned (the tables are typed NFC already; this makes sure).
fn nfc(s: &str) -> String {
    text::nfc(s).into_owned()
}

/// 64-bit FNV-1a with a final mix; only used as a set key (a false match merely
/// causes a re-draw, never a duplicate).
fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix(h)
}

/// `hash_str(&s.to_ascii_lowercase())` without the copy.
fn hash_ascii_lower(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s.as_bytes() {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix(h)
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hasher for `u64` keys: one splitmix round. Deterministic, fast.
#[derive(Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = splitmix(self.0 ^ v);
    }
}

type U64Set = HashSet<u64, BuildHasherDefault<MixHasher>>;

/// Integer-weighted sampler (cumulative weights, binary search).
#[derive(Debug, Clone)]
struct Weighted {
    cum: Vec<u64>,
}

impl Weighted {
    fn new(weights: impl IntoIterator<Item = u64>) -> Weighted {
        let mut acc = 0u64;
        let cum: Vec<u64> = weights
            .into_iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        assert!(acc > 0, "weighted sampler needs a positive total weight");
        Weighted { cum }
    }
    fn sample(&self, rng: &mut ChaCha8Rng) -> usize {
        let total = *self.cum.last().expect("non-empty");
        let r = rng.random_range(0..total);
        self.cum.partition_point(|&c| c <= r)
    }
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Relative frequency of each type of enterprise among new registrations, in
/// [`EnterpriseType::ALL`] order.
const TYPE_WEIGHTS: [u64; 5] = [45, 20, 22, 3, 10];

#[derive(Debug, Clone)]
struct Syllable {
    text: String,
    /// Title-case ASCII ("Phat").
    ascii: String,
    /// Lower-case ASCII ("phat"); empty when the syllable is dropped from the key (`tân`).
    key: String,
}

#[derive(Debug, Clone)]
struct Trade {
    vi: String,
    en: &'static str,
    abbr: &'static str,
    /// initials of the folded words, for e-mail slugs ("tmdv")
    initials: String,
}

#[derive(Debug, Clone)]
struct Person {
    name: String,
    birth: NaiveDate,
    nationality: &'static str,
    id_kind: &'static str,
    id_number: String,
}

impl Person {
    fn identity(&self) -> Value {
        obj([("kind", string(self.id_kind)), ("number", string(&self.id_number))])
    }
    fn as_rep(&self, position: &str) -> Value {
        let mut birth = String::with_capacity(10);
        push_digits(&mut birth, self.birth.year() as u64, 4);
        birth.push('-');
        push_digits(&mut birth, u64::from(self.birth.month()), 2);
        birth.push('-');
        push_digits(&mut birth, u64::from(self.birth.day()), 2);
        obj([
            ("full_name", string(&self.name)),
            ("position", string(position)),
            ("birth_date", Value::String(birth)),
            ("nationality", string(self.nationality)),
            ("identity", self.identity()),
        ])
    }
    fn as_owner(&self, capital: u64) -> Value {
        obj([
            ("kind", string("individual")),
            ("name", string(&self.name)),
            ("nationality", string(self.nationality)),
            ("identity", self.identity()),
            ("capital_vnd", Value::from(capital)),
        ])
    }
}

/// A JSON object from key/value pairs (values moved in, no re-serialisation).
fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut map = Map::new();
    for (k, v) in pairs {
        map.insert(k.to_string(), v);
    }
    Value::Object(map)
}

/// Appends `v` in decimal, zero-padded to `width` digits (`v` < 10^width).
fn push_digits(buf: &mut String, v: u64, width: u32) {
    let mut div = 10u64.pow(width - 1);
    while div > 0 {
        buf.push(char::from(b'0' + ((v / div) % 10) as u8));
        div /= 10;
    }
}

fn string(s: &str) -> Value {
    Value::String(s.to_string())
}

enum Owner {
    Person(usize),
    Organisation { name: String, code: String },
}

/// Level-4 VSIC codes of one edition with what the generator samples them by: the main line by
/// division weight, secondary lines often in the main line's division, road transport drawn apart.
#[derive(Debug, Clone)]
struct VsicSet {
    codes: Vec<String>,
    line_sampler: Weighted,
    /// codes (indices) per division, road transport excluded, zero-weight divisions excluded
    division_codes: Vec<Vec<usize>>,
    road: Vec<usize>,
    transport_related: Vec<usize>,
}

impl VsicSet {
    fn new(codes: &[String]) -> VsicSet {
        // VSIC codes, deduplicated, input order kept.
        let mut vsic: Vec<String> = Vec::with_capacity(codes.len());
        for c in codes {
            let c = c.trim().to_string();
            if !vsic.contains(&c) {
                vsic.push(c);
            }
        }
        let division = |c: &str| c.get(..2).and_then(|d| d.parse::<u32>().ok()).unwrap_or(0);
        let road: Vec<usize> = ROAD_TRANSPORT_VSIC.iter().filter_map(|r| vsic.iter().position(|c| c == r)).collect();
        let transport_related: Vec<usize> =
            TRANSPORT_RELATED.iter().filter_map(|r| vsic.iter().position(|c| c == r)).collect();
        let mut per_div_count = [0u64; 100];
        for (i, c) in vsic.iter().enumerate() {
            if !road.contains(&i) {
                per_div_count[division(c) as usize % 100] += 1;
            }
        }
        let mut line_weights: Vec<u64> = vsic
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if road.contains(&i) {
                    return 0;
                }
                let d = division(c);
                // Scale so that a division's weight is shared by its codes.
                u64::from(division_weight(d)) * 1000 / per_div_count[d as usize % 100].max(1)
            })
            .collect();
        if line_weights.iter().all(|&w| w == 0) {
            // Degenerate input (only road transport or only zero-weight divisions).
            line_weights = vsic
                .iter()
                .enumerate()
                .map(|(i, _)| u64::from(!road.contains(&i) || road.len() == vsic.len()))
                .collect();
            if line_weights.iter().all(|&w| w == 0) {
                line_weights = vec![1; vsic.len()];
            }
        }
        let mut division_codes: Vec<Vec<usize>> = vec![Vec::new(); 100];
        for (i, c) in vsic.iter().enumerate() {
            if line_weights[i] > 0 {
                division_codes[division(c) as usize % 100].push(i);
            }
        }
        let line_sampler = Weighted::new(line_weights);
        VsicSet { codes: vsic, line_sampler, division_codes, road, transport_related }
    }
}

/// The youngest birth year of people drawn (adults at today's registrations).
const LATEST_BIRTH_YEAR: i32 = 2004;
/// The oldest birth year of Vietnamese people drawn.
const EARLIEST_BIRTH_YEAR: i32 = 1950;

/// How [`Generator::body`] draws a body: `None` draws as [`Generator::next_registration`] does.
struct BodyPlan<'a> {
    /// Province and ward codes of the head office.
    place: Option<(&'a str, &'a str)>,
    /// The VSIC codes (one edition) to draw the lines from.
    lines: Option<&'a VsicSet>,
    /// Legal representatives and owners are born in this year or before.
    latest_birth_year: i32,
}

/// Deterministic generator of registration bodies.
pub struct Generator {
    rng: ChaCha8Rng,
    // reference data
    wards: Vec<Ward>,
    province_codes: Vec<String>,
    province_wards: Vec<Vec<usize>>,
    province_sampler: Weighted,
    /// The VSIC codes new registrations draw from (the input's, VSIC 2025).
    lines: VsicSet,
    line_count_sampler: Weighted,
    org_codes: Vec<String>,
    // vocabulary
    syllables: Vec<Syllable>,
    endings: Vec<usize>,
    trades: Vec<Trade>,
    generic_trades: Vec<usize>,
    division_trades: Vec<Vec<usize>>,
    surnames: Vec<String>,
    surname_sampler: Weighted,
    male_middle: Vec<String>,
    male_middle_sampler: Weighted,
    female_middle: Vec<String>,
    female_middle_sampler: Weighted,
    female_middle2: Vec<String>,
    male_given: Vec<String>,
    female_given: Vec<String>,
    foreign_sampler: Weighted,
    streets: Vec<String>,
    kind_sampler: Weighted,
    /// 10^(j/100) * 10^6 for j in 0..100 (log-spaced mantissas for capitals)
    mantissas: Vec<u64>,
    /// People drawn are born in this year or before ([`LATEST_BIRTH_YEAR`] unless a plan says).
    latest_birth_year: i32,
    // uniqueness
    name_keys: U64Set,
    en_names: U64Set,
    abbreviations: U64Set,
    identities: U64Set,
}

impl Generator {
    /// Builds a generator. Panics if `input.wards` or `input.vsic4` is empty.
    pub fn new(seed: u64, input: GeneratorInput) -> Generator {
        assert!(!input.wards.is_empty(), "generator needs at least one ward");
        assert!(!input.vsic4.is_empty(), "generator needs at least one level-4 VSIC code");

        // Provinces in order of first appearance (deterministic for a given input).
        let mut province_codes: Vec<String> = Vec::new();
        let mut province_wards: Vec<Vec<usize>> = Vec::new();
        for (i, w) in input.wards.iter().enumerate() {
            match province_codes.iter().position(|p| *p == w.province_code) {
                Some(p) => province_wards[p].push(i),
                None => {
                    province_codes.push(w.province_code.clone());
                    province_wards.push(vec![i]);
                }
            }
        }
        let province_sampler = Weighted::new(province_codes.iter().map(|p| u64::from(province_weight(p))));

        let lines = VsicSet::new(&input.vsic4);

        // Vocabulary.
        let syllables: Vec<Syllable> = SYLLABLES
            .iter()
            .map(|s| {
                let text = nfc(s);
                let ascii = text::strip_diacritics(&text);
                let lower = ascii.to_ascii_lowercase();
                let key = if lower == "tan" || lower == "moi" { String::new() } else { lower };
                Syllable { text, ascii, key }
            })
            .collect();
        let endings: Vec<usize> = ENDINGS
            .iter()
            .filter_map(|e| {
                let e = nfc(e);
                syllables.iter().position(|s| s.text == e)
            })
            .collect();
        let trades: Vec<Trade> = TRADES
            .iter()
            .map(|&(vi, en, abbr)| Trade {
                vi: nfc(vi),
                en,
                abbr,
                initials: text::strip_diacritics(vi)
                    .to_ascii_lowercase()
                    .split(' ')
                    .filter_map(|w| w.get(..1))
                    .collect(),
            })
            .collect();
        let trade_index = |vi: &str| {
            let vi = nfc(vi);
            trades.iter().position(|t| t.vi == vi).expect("trade word in table")
        };
        let generic_trades: Vec<usize> = GENERIC_TRADES.iter().map(|t| trade_index(t)).collect();
        let division_trades: Vec<Vec<usize>> =
            (0..100u32).map(|d| trades_for_division(d).iter().map(|t| trade_index(t)).collect()).collect();

        let split = |table: &[(&str, u32)]| -> (Vec<String>, Weighted) {
            (table.iter().map(|(s, _)| nfc(s)).collect(), Weighted::new(table.iter().map(|&(_, w)| u64::from(w))))
        };
        let (surnames, surname_sampler) = split(SURNAMES);
        let (male_middle, male_middle_sampler) = split(MALE_MIDDLE);
        let (female_middle, female_middle_sampler) = split(FEMALE_MIDDLE);
        let owned = |t: &[&str]| -> Vec<String> { t.iter().map(|s| nfc(s)).collect() };

        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            wards: input.wards,
            province_codes,
            province_wards,
            province_sampler,
            lines,
            line_count_sampler: Weighted::new([20, 20, 18, 15, 14, 13]),
            org_codes: input.organisation_owner_codes,
            syllables,
            endings,
            trades,
            generic_trades,
            division_trades,
            surnames,
            surname_sampler,
            male_middle,
            male_middle_sampler,
            female_middle,
            female_middle_sampler,
            female_middle2: owned(FEMALE_MIDDLE2),
            male_given: owned(MALE_GIVEN),
            female_given: owned(FEMALE_GIVEN),
            foreign_sampler: Weighted::new(FOREIGNERS.iter().map(|f| u64::from(f.1))),
            streets: owned(STREETS),
            kind_sampler: Weighted::new(TYPE_WEIGHTS),
            mantissas: (0..100).map(|j| (10f64.powf(f64::from(j) / 100.0) * 1e6).round() as u64).collect(),
            latest_birth_year: LATEST_BIRTH_YEAR,
            name_keys: U64Set::default(),
            en_names: U64Set::default(),
            abbreviations: U64Set::default(),
            identities: U64Set::default(),
        }
    }

    /// The next registration body (same seed + input ⇒ same sequence).
    pub fn next_registration(&mut self) -> Value {
        self.body(BodyPlan { place: None, lines: None, latest_birth_year: LATEST_BIRTH_YEAR })
    }

    /// A registration body as [`Self::next_registration`] draws it, with the head office, the
    /// VSIC edition and the representatives' ages given by `plan`.
    fn body(&mut self, plan: BodyPlan) -> Value {
        let kind = EnterpriseType::ALL[self.kind_sampler.sample(&mut self.rng)];

        // Head office location.
        let (province_code, ward_code) = match plan.place {
            Some((province, ward)) => (province.to_string(), ward.to_string()),
            None => {
                let p = self.province_sampler.sample(&mut self.rng);
                let ward_idx = *pick(&mut self.rng, &self.province_wards[p]);
                (self.province_codes[p].clone(), self.wards[ward_idx].ward_code.clone())
            }
        };
        self.latest_birth_year = plan.latest_birth_year;

        // Business lines, then the name coherent with the main one.
        let set = plan.lines.unwrap_or(&self.lines);
        let lines = Self::business_lines(&mut self.rng, set, &self.line_count_sampler);
        let main_div = set.codes[lines[0]].get(..2).and_then(|d| d.parse::<u32>().ok()).unwrap_or(0);
        let line_codes: Vec<String> = lines.iter().map(|&l| set.codes[l].clone()).collect();
        let trades = self.trade_words(main_div);
        let syl = self.proper_name();

        let name = self.name_value(kind, &trades, &syl);
        let head_office = self.head_office(&province_code, &ward_code, &trades, &syl);
        let capital = self.charter_capital(kind);
        let (reps, owners) = self.people(kind, capital, &province_code);

        let business_lines: Vec<Value> = line_codes
            .iter()
            .enumerate()
            .map(|(i, code)| obj([("vsic", string(code)), ("main", Value::Bool(i == 0))]))
            .collect();

        obj([
            ("type", string(kind.as_str())),
            ("name", name),
            ("head_office", head_office),
            ("charter_capital_vnd", Value::from(capital)),
            ("business_lines", Value::Array(business_lines)),
            ("legal_representatives", Value::Array(reps)),
            ("owners", Value::Array(owners)),
        ])
    }

    // -- business lines ----------------------------------------------------

    /// Indices into `set.codes`; the first one is the main line.
    fn business_lines(rng: &mut ChaCha8Rng, set: &VsicSet, line_count_sampler: &Weighted) -> Vec<usize> {
        let n = line_count_sampler.sample(rng) + 1;
        let n = n.min(set.codes.len());
        let mut lines: Vec<usize> = Vec::with_capacity(n);
        let transport = !set.road.is_empty() && rng.random_bool(0.04);
        if transport {
            let road = *pick(rng, &set.road);
            if n == 1 || rng.random_bool(0.8) {
                lines.push(road);
            } else {
                lines.push(set.line_sampler.sample(rng));
            }
            if !lines.contains(&road) {
                lines.push(road);
            }
        } else {
            lines.push(set.line_sampler.sample(rng));
        }
        let main_div = set.codes[lines[0]].get(..2).and_then(|d| d.parse::<usize>().ok()).unwrap_or(0) % 100;
        let mut attempts = 0;
        while lines.len() < n && attempts < 60 {
            attempts += 1;
            let r: u32 = rng.random_range(0..100);
            let cand = if transport && r < 50 && !set.transport_related.is_empty() {
                *pick(rng, &set.transport_related)
            } else if !transport && r < 45 && !set.division_codes[main_div].is_empty() {
                // about half of the secondary lines stay in the main line's division
                *pick(rng, &set.division_codes[main_div])
            } else {
                set.line_sampler.sample(rng)
            };
            if !lines.contains(&cand) {
                lines.push(cand);
            }
        }
        lines
    }

    // -- names ---------------------------------------------------------------

    fn trade_words(&mut self, main_div: u32) -> Vec<usize> {
        let r: u32 = self.rng.random_range(0..100);
        if r < 20 {
            return Vec::new();
        }
        let specific = *pick(&mut self.rng, &self.division_trades[main_div as usize % 100]);
        if r < 72 {
            return vec![specific];
        }
        let generic = *pick(&mut self.rng, &self.generic_trades);
        if generic == specific {
            vec![specific]
        } else if self.rng.random_bool(0.5) {
            vec![generic, specific]
        } else {
            vec![specific, generic]
        }
    }

    /// Draws distinctive syllables whose folded key was never used, and reserves it.
    fn proper_name(&mut self) -> Vec<usize> {
        let base = match self.rng.random_range(0..100u32) {
            0..=49 => 2,
            50..=89 => 3,
            _ => 4,
        };
        let mut key = String::with_capacity(48);
        let mut attempt = 0usize;
        loop {
            let len = base + attempt / 4;
            attempt += 1;
            let mut syl: Vec<usize> = Vec::with_capacity(len);
            while syl.len() < len {
                let s = if syl.len() + 1 == len && self.rng.random_bool(0.4) {
                    *pick(&mut self.rng, &self.endings)
                } else {
                    self.rng.random_range(0..self.syllables.len())
                };
                if !syl.contains(&s) {
                    syl.push(s);
                }
            }
            key.clear();
            for &s in &syl {
                key.push_str(&self.syllables[s].key);
            }
            // At least two syllables must count (so `Tân X` alone is never a name).
            let counted = syl.iter().filter(|&&s| !self.syllables[s].key.is_empty()).count();
            if counted >= 2 && self.name_keys.insert(hash_str(&key)) {
                return syl;
            }
        }
    }

    fn name_value(&mut self, kind: EnterpriseType, trades: &[usize], syl: &[usize]) -> Value {
        let prefix = match kind {
            EnterpriseType::LlcSingle => {
                let base =
                    if self.rng.random_bool(0.85) { "Công ty TNHH" } else { "Công ty trách nhiệm hữu hạn" };
                match self.rng.random_range(0..100u32) {
                    0..=49 => base.to_string(),
                    50..=84 => format!("{base} MTV"),
                    _ => format!("{base} một thành viên"),
                }
            }
            EnterpriseType::LlcMulti => {
                if self.rng.random_bool(0.85) { "Công ty TNHH" } else { "Công ty trách nhiệm hữu hạn" }.to_string()
            }
            EnterpriseType::Jsc => {
                if self.rng.random_bool(0.85) { "Công ty cổ phần" } else { "Công ty CP" }.to_string()
            }
            EnterpriseType::Partnership => "Công ty hợp danh".to_string(),
            EnterpriseType::PrivateEnterprise => {
                if self.rng.random_bool(0.75) { "Doanh nghiệp tư nhân" } else { "DNTN" }.to_string()
            }
        };
        // literals and tables are NFC; joining them with ASCII spaces keeps NFC
        let mut vi = prefix;
        for &t in trades {
            vi.push(' ');
            vi.push_str(&self.trades[t].vi);
        }
        for &s in syl {
            vi.push(' ');
            vi.push_str(&self.syllables[s].text);
        }
        if self.rng.random_bool(0.10) {
            vi = nfc(&vi.to_uppercase());
        }

        let mut name = Map::new();
        name.insert("vi".into(), Value::String(vi));

        if self.rng.random_bool(0.60) {
            let suffix = match kind {
                EnterpriseType::LlcSingle => {
                    if self.rng.random_bool(0.3) {
                        "One Member Company Limited"
                    } else {
                        "Company Limited"
                    }
                }
                EnterpriseType::LlcMulti => "Company Limited",
                EnterpriseType::Jsc => "Joint Stock Company",
                EnterpriseType::Partnership => "Partnership",
                EnterpriseType::PrivateEnterprise => "Private Enterprise",
            };
            let mut en = self.ascii_core(syl);
            for &t in trades {
                en.push(' ');
                en.push_str(self.trades[t].en);
            }
            en.push(' ');
            en.push_str(suffix);
            if self.en_names.insert(hash_ascii_lower(&en)) {
                name.insert("en".into(), Value::String(en));
            }
        }

        let abbr_p = match kind {
            EnterpriseType::PrivateEnterprise => 0.25,
            EnterpriseType::Partnership => 0.4,
            _ => 0.55,
        };
        if self.rng.random_bool(abbr_p) {
            let initials: String = syl
                .iter()
                .filter_map(|&s| self.syllables[s].ascii.chars().next())
                .map(|c| c.to_ascii_uppercase())
                .collect();
            let full = self.ascii_core(syl).to_ascii_uppercase();
            let trade =
                if !trades.is_empty() && self.rng.random_bool(0.7) { Some(self.trades[trades[0]].abbr) } else { None };
            let build = |core: &str| -> String {
                let mut s = String::new();
                if kind == EnterpriseType::PrivateEnterprise {
                    s.push_str("DNTN ");
                }
                s.push_str(core);
                if let Some(t) = trade {
                    s.push(' ');
                    s.push_str(t);
                }
                match kind {
                    EnterpriseType::LlcSingle | EnterpriseType::LlcMulti => s.push_str(" CO., LTD"),
                    EnterpriseType::Jsc => s.push_str(" JSC"),
                    EnterpriseType::Partnership => s.push_str(" PARTNERSHIP"),
                    EnterpriseType::PrivateEnterprise => {}
                }
                s
            };
            let (first, second) = if self.rng.random_bool(0.5) {
                (build(&initials), build(&full))
            } else {
                (build(&full), build(&initials))
            };
            for cand in [first, second] {
                if self.abbreviations.insert(hash_str(&cand)) {
                    name.insert("abbreviation".into(), Value::String(cand));
                    break;
                }
            }
        }
        Value::Object(name)
    }

    /// "Hoang Long Phat"
    fn ascii_core(&self, syl: &[usize]) -> String {
        let mut core = String::with_capacity(64);
        for (i, &s) in syl.iter().enumerate() {
            if i > 0 {
                core.push(' ');
            }
            core.push_str(&self.syllables[s].ascii);
        }
        core
    }

    // -- head office ------------------------------------------------------------

    fn head_office(&mut self, province: &str, ward: &str, trades: &[usize], syl: &[usize]) -> Value {
        let pc: u32 = province.parse().unwrap_or(0);
        let south = pc >= 70;
        let north = pc < 40;
        let street = self.pick_street();
        let n: u32 = self.rng.random_range(1..=300);
        let address = match self.rng.random_range(0..100u32) {
            0..=47 => {
                let kind =
                    if north && (pc == 1 || pc == 31) { *pick(&mut self.rng, STREET_KINDS_NORTH) } else { "đường" };
                format!("Số {n} {kind} {street}")
            }
            48..=61 => {
                let m: u32 = self.rng.random_range(1..=120);
                if south {
                    format!("Số {n}/{m} đường {street}")
                } else {
                    let kind = if north { "phố" } else { "đường" };
                    format!("Số {n} ngõ {m} {kind} {street}")
                }
            }
            62..=69 => {
                let parks = industrial_parks(province);
                let park = if parks.is_empty() || self.rng.random_bool(0.3) {
                    let a = *pick(&mut self.rng, &self.endings);
                    let b = self.rng.random_range(0..self.syllables.len());
                    format!("{} {}", self.syllables[b].text, self.syllables[a].text)
                } else {
                    nfc(pick::<&str>(&mut self.rng, parks))
                };
                let letter = *pick(&mut self.rng, LOT_LETTERS);
                let lot: u32 = self.rng.random_range(1..=30);
                format!("Lô {letter}{lot} Khu công nghiệp {park}")
            }
            70..=81 => {
                let a = self.rng.random_range(0..self.syllables.len());
                let b = *pick(&mut self.rng, &self.endings);
                let hamlet = if south { "Ấp" } else { "Thôn" };
                if south && self.rng.random_bool(0.4) {
                    let k: u32 = self.rng.random_range(1..=9);
                    format!("Ấp {k}")
                } else if a == b {
                    format!("{hamlet} {}", self.syllables[a].text)
                } else {
                    format!("{hamlet} {} {}", self.syllables[a].text, self.syllables[b].text)
                }
            }
            82..=91 => {
                let t: u32 = self.rng.random_range(1..=30);
                if south {
                    let k: u32 = self.rng.random_range(1..=12);
                    format!("Số {n} đường {street}, khu phố {k}")
                } else {
                    format!("Tổ dân phố số {t}, đường {street}")
                }
            }
            _ => {
                let floor: u32 = self.rng.random_range(2..=25);
                let a = *pick(&mut self.rng, &self.endings);
                let b = self.rng.random_range(0..self.syllables.len());
                format!(
                    "Tầng {floor}, tòa nhà {} {}, số {n} đường {street}",
                    self.syllables[b].text, self.syllables[a].text
                )
            }
        };

        let mut office = Map::new();
        office.insert("street".into(), Value::String(address));
        office.insert("ward_code".into(), Value::String(ward.to_string()));
        office.insert("province_code".into(), Value::String(province.to_string()));
        if self.rng.random_bool(0.85) {
            let prefix = *pick(&mut self.rng, MOBILE_PREFIXES);
            let rest: u32 = self.rng.random_range(0..10_000_000);
            let phone = format!("{}{} {:03} {:03}", prefix, rest / 1_000_000, (rest / 1000) % 1000, rest % 1000);
            office.insert("phone".into(), Value::String(phone));
        }
        if self.rng.random_bool(0.70) {
            let mut slug = String::new();
            if !trades.is_empty() && self.rng.random_bool(0.2) {
                for &t in trades {
                    slug.push_str(&self.trades[t].initials);
                }
            }
            for &s in syl {
                slug.push_str(&self.syllables[s].ascii.to_ascii_lowercase());
            }
            let local = match self.rng.random_range(0..100u32) {
                0..=59 => "info",
                60..=74 => "contact",
                75..=89 => "lienhe",
                90..=94 => "ketoan",
                _ => "sales",
            };
            let tld = if self.rng.random_bool(0.55) { "vn" } else { "com.vn" };
            office.insert("email".into(), Value::String(format!("{local}@{slug}.{tld}")));
        }
        Value::Object(office)
    }

    fn pick_street(&mut self) -> String {
        pick(&mut self.rng, &self.streets).clone()
    }

    // -- capital -----------------------------------------------------------------

    /// Charter capital in VND: 100 million to 100 billion, log-distributed, in millions.
    /// Integer arithmetic after the uniform draw, so it is identical on every platform.
    fn charter_capital(&mut self, kind: EnterpriseType) -> u64 {
        let u: f64 = (self.rng.random::<f64>() + self.rng.random::<f64>()) / 2.0;
        // (lowest, span) in hundredths of a decade of VND
        let (lo, span) = match kind {
            EnterpriseType::Jsc => (870.0, 230.0),
            EnterpriseType::LlcMulti => (830.0, 250.0),
            EnterpriseType::PrivateEnterprise => (800.0, 200.0),
            _ => (800.0, 260.0),
        };
        let h = ((lo + span * u).floor() as u64).clamp(800, 1100);
        let (decade, frac) = (h / 100, (h % 100) as usize);
        // millions = mantissa(1..10 scaled by 10^6) * 10^decade / 10^12
        let millions = u128::from(self.mantissas[frac]) * 10u128.pow(decade as u32) / 1_000_000_000_000;
        let millions = millions as u64;
        // Round to 2 significant digits (60%) or 3.
        let sig = if self.rng.random_bool(0.6) { 2 } else { 3 };
        let digits = millions.max(1).ilog10() + 1;
        let mag = 10u64.pow(digits.saturating_sub(sig));
        let rounded = (millions + mag / 2) / mag * mag;
        rounded.clamp(100, 100_000) * 1_000_000
    }

    /// Splits `capital` (a multiple of 1,000,000) into `n` positive parts summing exactly.
    fn split_capital(&mut self, capital: u64, n: usize, major_first: bool) -> Vec<u64> {
        if n == 1 {
            return vec![capital];
        }
        let n64 = n as u64;
        let units_m = capital / 1_000_000;
        // Largest round granularity (in millions) that still leaves ~10 units per part.
        let mut g = 1u64;
        for cand in [100u64, 50, 10, 5, 1] {
            if units_m.is_multiple_of(cand) && units_m / cand >= 10 * n64 {
                g = cand;
                break;
            }
        }
        let units = units_m / g;
        // Integer weights, so the floors below are exact and never overshoot.
        let mut weights: Vec<u64> = (0..n).map(|_| self.rng.random_range(50..=1050)).collect();
        if major_first {
            weights[0] += self.rng.random_range(0..=500 * n64);
        }
        let total: u64 = weights.iter().sum();
        let spare = units - n64; // each part gets 1 unit first (units >= 10 n or >= 100 >= n)
        let mut parts: Vec<u64> =
            weights.iter().map(|&w| 1 + (u128::from(spare) * u128::from(w) / u128::from(total)) as u64).collect();
        let assigned: u64 = parts.iter().sum();
        // Give the rounding rest to the largest weight (first one on ties).
        let largest = (0..n).max_by(|&a, &b| weights[a].cmp(&weights[b]).then(b.cmp(&a))).unwrap_or(0);
        parts[largest] += units - assigned;
        parts.iter().map(|p| p * g * 1_000_000).collect()
    }

    // -- people ------------------------------------------------------------------

    fn people(&mut self, kind: EnterpriseType, capital: u64, province: &str) -> (Vec<Value>, Vec<Value>) {
        let mut persons: Vec<Person> = Vec::new();
        let mut owners: Vec<Owner> = Vec::new();
        let mut reps: Vec<(usize, &'static str)> = Vec::new();

        match kind {
            EnterpriseType::PrivateEnterprise => {
                let p = self.vn_person(province, &mut persons);
                owners.push(Owner::Person(p));
                reps.push((p, "Chủ doanh nghiệp"));
            }
            EnterpriseType::Partnership => {
                let n = match self.rng.random_range(0..100u32) {
                    0..=59 => 2,
                    60..=84 => 3,
                    85..=94 => 4,
                    _ => 5,
                };
                for _ in 0..n {
                    let p = self.vn_person(province, &mut persons);
                    owners.push(Owner::Person(p));
                }
                let r = if self.rng.random_bool(0.6) { 1 } else { 2 };
                for p in 0..r {
                    reps.push((p, "Thành viên hợp danh"));
                }
            }
            EnterpriseType::LlcSingle => {
                let org = !self.org_codes.is_empty() && self.rng.random_bool(0.04);
                let foreign = !org && self.rng.random_bool(0.01);
                if org {
                    let o = self.organisation(&owners);
                    owners.push(o);
                    let p = self.vn_person(province, &mut persons);
                    reps.push((p, self.position(&["Giám đốc", "Tổng Giám đốc"], &[75, 25])));
                } else if foreign {
                    let f = self.foreign_person(&mut persons);
                    owners.push(Owner::Person(f));
                    let p = self.vn_person(province, &mut persons);
                    reps.push((p, self.position(&["Giám đốc", "Tổng Giám đốc"], &[75, 25])));
                } else {
                    let o = self.vn_person(province, &mut persons);
                    owners.push(Owner::Person(o));
                    let rep = if self.rng.random_bool(0.85) { o } else { self.vn_person(province, &mut persons) };
                    reps.push((rep, self.position(&["Giám đốc", "Tổng Giám đốc"], &[80, 20])));
                }
            }
            EnterpriseType::LlcMulti | EnterpriseType::Jsc => {
                let n = if kind == EnterpriseType::LlcMulti {
                    match self.rng.random_range(0..1000u32) {
                        0..=449 => 2,
                        450..=699 => 3,
                        700..=819 => 4,
                        820..=899 => 5,
                        900..=969 => self.rng.random_range(6..=10),
                        _ => self.rng.random_range(11..=50),
                    }
                } else {
                    match self.rng.random_range(0..1000u32) {
                        0..=399 => 3,
                        400..=579 => 4,
                        580..=749 => 5,
                        750..=829 => 6,
                        830..=899 => 7,
                        900..=979 => self.rng.random_range(8..=15),
                        _ => self.rng.random_range(16..=30),
                    }
                };
                let two_reps = self.rng.random_bool(if kind == EnterpriseType::Jsc { 0.25 } else { 0.2 });
                let (chair, managers): (&'static str, &[&'static str]) = if kind == EnterpriseType::Jsc {
                    ("Chủ tịch Hội đồng quản trị", &["Giám đốc", "Tổng Giám đốc"])
                } else {
                    ("Chủ tịch Hội đồng thành viên", &["Giám đốc", "Tổng Giám đốc"])
                };
                let positions: Vec<&'static str> = if two_reps {
                    vec![chair, self.position(managers, &[60, 40])]
                } else if kind == EnterpriseType::Jsc {
                    vec![self.position(&[chair, "Giám đốc", "Tổng Giám đốc"], &[30, 40, 30])]
                } else {
                    vec![self.position(&[chair, "Giám đốc", "Tổng Giám đốc"], &[30, 50, 20])]
                };
                // Representatives: the first is usually a member, the second sometimes;
                // the chair of an LLC's members' council always is one.
                for (i, &pos) in positions.iter().enumerate() {
                    let member =
                        self.rng.random_bool(if i == 0 { 0.8 } else { 0.5 }) || pos == "Chủ tịch Hội đồng thành viên";
                    let p = self.vn_person(province, &mut persons);
                    if member {
                        owners.push(Owner::Person(p));
                    }
                    reps.push((p, pos));
                }
                while owners.len() < n {
                    let r: u32 = self.rng.random_range(0..1000);
                    if r < 15 && self.org_codes.len() > self.org_count(&owners) {
                        let o = self.organisation(&owners);
                        owners.push(o);
                    } else if r < 35 {
                        let f = self.foreign_person(&mut persons);
                        owners.push(Owner::Person(f));
                    } else {
                        let p = self.vn_person(province, &mut persons);
                        owners.push(Owner::Person(p));
                    }
                }
            }
        }

        let parts = self.split_capital(capital, owners.len(), true);
        let owners_json: Vec<Value> = owners
            .iter()
            .zip(parts)
            .map(|(o, cap)| match o {
                Owner::Person(i) => persons[*i].as_owner(cap),
                Owner::Organisation { name, code } => obj([
                    ("kind", string("organisation")),
                    ("name", string(name)),
                    ("enterprise_code", string(code)),
                    ("capital_vnd", Value::from(cap)),
                ]),
            })
            .collect();
        let reps_json: Vec<Value> = reps.iter().map(|&(i, pos)| persons[i].as_rep(pos)).collect();
        (reps_json, owners_json)
    }

    fn position(&mut self, options: &[&'static str], weights: &[u32]) -> &'static str {
        let total: u32 = weights.iter().sum();
        let mut r = self.rng.random_range(0..total);
        for (o, &w) in options.iter().zip(weights) {
            if r < w {
                return o;
            }
            r -= w;
        }
        options[options.len() - 1]
    }

    fn org_count(&self, owners: &[Owner]) -> usize {
        owners.iter().filter(|o| matches!(o, Owner::Organisation { .. })).count()
    }

    /// An organisation owner with a code from the caller's list not yet used in this body.
    fn organisation(&mut self, owners: &[Owner]) -> Owner {
        let code = loop {
            let c = pick(&mut self.rng, &self.org_codes).clone();
            let used = owners.iter().any(|o| matches!(o, Owner::Organisation { code, .. } if *code == c));
            if !used {
                break c;
            }
        };
        let prefix = match self.rng.random_range(0..10u32) {
            0..=5 => "Công ty cổ phần",
            6..=8 => "Công ty TNHH",
            _ => "Tổng công ty",
        };
        let t = *pick(&mut self.rng, &self.generic_trades);
        let a = self.rng.random_range(0..self.syllables.len());
        let b = *pick(&mut self.rng, &self.endings);
        let name = if a == b {
            format!("{prefix} {} {}", self.trades[t].vi, self.syllables[a].text)
        } else {
            format!("{prefix} {} {} {}", self.trades[t].vi, self.syllables[a].text, self.syllables[b].text)
        };
        Owner::Organisation { name: nfc(&name), code }
    }

    /// A Vietnamese citizen with a fresh CCCD; its name differs from the others in `persons`.
    fn vn_person(&mut self, province: &str, persons: &mut Vec<Person>) -> usize {
        let female = self.rng.random_bool(0.36);
        let name = loop {
            let mut name = String::with_capacity(40);
            name.push_str(&self.surnames[self.surname_sampler.sample(&mut self.rng)]);
            name.push(' ');
            let given: &str = if female {
                let m = &self.female_middle[self.female_middle_sampler.sample(&mut self.rng)];
                name.push_str(m);
                if m == "Thị" && self.rng.random_bool(0.2) {
                    name.push(' ');
                    name.push_str(pick::<String>(&mut self.rng, &self.female_middle2));
                }
                pick::<String>(&mut self.rng, &self.female_given)
            } else {
                name.push_str(&self.male_middle[self.male_middle_sampler.sample(&mut self.rng)]);
                pick::<String>(&mut self.rng, &self.male_given)
            };
            // no "Nguyễn Minh Minh"
            if name.ends_with(given) {
                continue;
            }
            name.push(' ');
            name.push_str(given);
            if !persons.iter().any(|p| p.name == name) {
                break name;
            }
        };
        // Birth year: triangular 1950..2005 with mode 1982.
        let u: f64 = self.rng.random();
        let (a, c, b) = (1950.0f64, 1982.0f64, 2005.0f64);
        let fc = (c - a) / (b - a);
        let y = if u < fc { a + (u * (b - a) * (c - a)).sqrt() } else { b - ((1.0 - u) * (b - a) * (b - c)).sqrt() };
        let mut year = (y.floor() as i32).clamp(EARLIEST_BIRTH_YEAR, LATEST_BIRTH_YEAR);
        if year > self.latest_birth_year {
            // Squeezed into the allowed years (no extra draw, so the stream stays the same).
            let span = (self.latest_birth_year - EARLIEST_BIRTH_YEAR).max(0);
            year =
                EARLIEST_BIRTH_YEAR + (year - EARLIEST_BIRTH_YEAR) * span / (LATEST_BIRTH_YEAR - EARLIEST_BIRTH_YEAR);
        }
        let days = if NaiveDate::from_ymd_opt(year, 2, 29).is_some() { 366 } else { 365 };
        let ordinal = self.rng.random_range(1..=days);
        let birth = NaiveDate::from_yo_opt(year, ordinal).expect("valid ordinal day");

        let birth_province: u64 = if self.rng.random_bool(0.45) {
            province.parse().unwrap_or(1)
        } else {
            u64::from(*pick(&mut self.rng, BIRTH_PROVINCES))
        };
        let century_sex: u64 = if year >= 2000 { 2 } else { 0 } + u64::from(female);
        let yy = (year % 100) as u64;
        let prefix = ((birth_province * 10 + century_sex) * 100 + yy) * 1_000_000;
        let number = loop {
            let n = prefix + self.rng.random_range(0..1_000_000u64);
            if self.identities.insert(n) {
                break n;
            }
        };
        persons.push(Person {
            name,
            birth,
            nationality: "VN",
            id_kind: "cccd",
            id_number: {
                let mut id = String::with_capacity(12);
                push_digits(&mut id, number, 12);
                id
            },
        });
        persons.len() - 1
    }

    /// A foreign owner (never a legal representative) with a fresh passport number.
    fn foreign_person(&mut self, persons: &mut Vec<Person>) -> usize {
        let (nat, _, families, givens) = FOREIGNERS[self.foreign_sampler.sample(&mut self.rng)];
        let name = loop {
            let f = pick(&mut self.rng, families);
            let g = pick(&mut self.rng, givens);
            // East Asian order (family name first) for KR, JP, CN, TW, SG.
            let name =
                if matches!(nat, "KR" | "JP" | "CN" | "TW" | "SG") { format!("{f} {g}") } else { format!("{g} {f}") };
            let name = nfc(&name);
            if !persons.iter().any(|p| p.name == name) {
                break name;
            }
        };
        let year = self.rng.random_range(1955..=2000);
        let birth = NaiveDate::from_yo_opt(year, self.rng.random_range(1..=365)).expect("valid day");
        let (letter_idx, digits) = loop {
            let l = self.rng.random_range(0..PASSPORT_LETTERS.len()) as u64;
            let d = self.rng.random_range(0..10_000_000u64);
            // Passport keys live above the CCCD range (< 10^12) in the same set.
            if self.identities.insert(1_000_000_000_000_000 + l * 10_000_000 + d) {
                break (l as usize, d);
            }
        };
        persons.push(Person {
            name,
            birth,
            nationality: nat,
            id_kind: "passport",
            id_number: format!("{}{digits:07}", PASSPORT_LETTERS[letter_idx] as char),
        });
        persons.len() - 1
    }
}

// ---------------------------------------------------------------------------
// Full records (`registry generate`)
// ---------------------------------------------------------------------------

/// The day generated records are "as of" unless told otherwise: fixed, so that a seed gives the
/// same file whatever the day it is run.
pub fn default_as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).expect("a date")
}

/// Share of head offices registered before the 2025 reform that are still in the legacy units.
const LEGACY_SHARE: f64 = 0.4;
/// Share of enterprises with units (branches, representative offices, business locations).
const UNITS_SHARE: f64 = 0.07;

/// Registrations per year (thousands, rounded, after the national statistics) from 1992: the
/// weights of registration years.
#[rustfmt::skip]
const REGISTRATIONS_PER_YEAR: &[(i32, u64)] = &[
    (1992, 5), (1993, 6), (1994, 7), (1995, 8), (1996, 8), (1997, 9), (1998, 9), (1999, 10),
    (2000, 14), (2001, 21), (2002, 22), (2003, 28), (2004, 37), (2005, 40), (2006, 46), (2007, 59),
    (2008, 65), (2009, 85), (2010, 84), (2011, 77), (2012, 69), (2013, 77), (2014, 75), (2015, 94),
    (2016, 111), (2017, 127), (2018, 131), (2019, 138), (2020, 135), (2021, 117), (2022, 149),
    (2023, 160), (2024, 157), (2025, 190), (2026, 200),
];

/// A legacy ward (province, ward) and the 2025 ward it became.
#[derive(Debug, Clone)]
struct LegacyPlace {
    province: String,
    ward: String,
    ward_2025: String,
}

/// Deterministic generator of full records: the lines of `GET /v1/export` (an enterprise as the
/// register keeps it), each enterprise with `history` earlier versions before its current one.
///
/// Beyond the registration bodies of [`Generator`] (whose names, people, capitals and lines it
/// uses), it draws: registration dates from 1992 weighted by the registrations of each year;
/// codes with valid check digits under the prefix of the province registered in (serials in
/// order with gaps); head offices of enterprises registered before 1 July 2025 in a legacy ward,
/// a share of them still in the legacy units (the others in the 2025 ward the legacy ward
/// became); VSIC 2018 lines for enterprises registered before 15 November 2025, with a VSIC 2025
/// line added by some later changes; statuses in proportions that grow with age (more ceased
/// among the old); units for some; changes of capital, representatives, address, lines, contacts
/// and names, unit registrations and status changes along the legal transitions. Names are
/// unique by the art. 41 keys of [`registry_domain::name_check::keys`] among everything generated
/// (former names included), so no two generated enterprises conflict.
///
/// Records come out rough (unit and ward names, VSIC names and shares left empty); [`resolve`]
/// fills them in through the import's own validation, which also proves them valid.
pub struct RecordGenerator {
    inner: Generator,
    reference: Arc<Reference>,
    history: u32,
    as_of: NaiveDate,
    vsic_2018: VsicSet,
    /// Per 2025 province (as `inner.province_codes`): the legacy wards that lie in it.
    legacy_places: Vec<Vec<LegacyPlace>>,
    serials: HashMap<String, u32>,
    years: Vec<i32>,
    year_sampler: Weighted,
    status_sampler_young: Weighted,
    read_keys: U64Set,
    core_keys: U64Set,
    abbreviation_keys: U64Set,
    foreign_keys: U64Set,
}

/// The statuses drawn for a current record, in [`Status::ALL`] order.
const STATUSES: [Status; 8] = Status::ALL;

impl RecordGenerator {
    /// A generator over the reference data; every enterprise gets `history` earlier versions.
    pub fn new(seed: u64, reference: Arc<Reference>, history: u32, as_of: NaiveDate) -> RecordGenerator {
        let wards: Vec<Ward> = reference
            .all_wards()
            .map(|w| Ward { province_code: w.province_code.clone(), ward_code: w.code.clone() })
            .collect();
        let level4 = |edition| -> Vec<String> {
            reference.vsic_entries(edition).filter(|e| e.level == 4).map(|e| e.code.clone()).collect()
        };
        let inner = Generator::new(
            seed,
            GeneratorInput { wards, vsic4: level4(VsicEdition::Vsic2025), organisation_owner_codes: Vec::new() },
        );
        let vsic_2018 = VsicSet::new(&level4(VsicEdition::Vsic2018));
        let mut places: Vec<(String, LegacyPlace)> = reference
            .legacy_wards()
            .filter_map(|w| {
                let m = reference.legacy_to_2025(&w.province_code, &w.ward_code)?;
                reference.resolve(&m.province_code, &m.ward_code).ok()?;
                Some((
                    m.province_code.clone(),
                    LegacyPlace {
                        province: w.province_code.clone(),
                        ward: w.ward_code.clone(),
                        ward_2025: m.ward_code.clone(),
                    },
                ))
            })
            .collect();
        // The reference keeps legacy wards in a hash map: sort for a deterministic order.
        places.sort_by(|a, b| (&a.1.province, &a.1.ward).cmp(&(&b.1.province, &b.1.ward)));
        let mut legacy_places = vec![Vec::new(); inner.province_codes.len()];
        for (province, place) in places {
            if let Some(p) = inner.province_codes.iter().position(|c| *c == province) {
                legacy_places[p].push(place);
            }
        }
        let years: Vec<i32> = REGISTRATIONS_PER_YEAR.iter().map(|y| y.0).filter(|&y| y <= as_of.year()).collect();
        let year_sampler = Weighted::new(REGISTRATIONS_PER_YEAR.iter().filter(|y| y.0 <= as_of.year()).map(|y| y.1));
        RecordGenerator {
            inner,
            reference,
            history,
            as_of,
            vsic_2018,
            legacy_places,
            serials: HashMap::new(),
            years,
            year_sampler,
            // active, suspended, not at address, tax revoked, revoked, dissolving, bankruptcy, ceased
            status_sampler_young: Weighted::new([940, 40, 10, 0, 0, 5, 0, 5]),
            read_keys: U64Set::default(),
            core_keys: U64Set::default(),
            abbreviation_keys: U64Set::default(),
            foreign_keys: U64Set::default(),
        }
    }

    /// The moment records are "as of": 17:00 in Vietnam on the as-of day. Nothing generated is
    /// later.
    pub fn as_of_time(&self) -> DateTime<Utc> {
        self.as_of.and_hms_opt(10, 0, 0).expect("a time").and_utc()
    }

    /// The next enterprise: its versions, oldest first, the last one current (rough: see
    /// [`resolve`]).
    pub fn next_enterprise(&mut self) -> Vec<Enterprise> {
        let registered_on = self.registration_date();
        let at = self.office_time(registered_on);
        let rng = &mut self.inner.rng;
        // The head office: a legacy ward (kept, or as the 2025 ward it became) before the reform.
        let p = self.inner.province_sampler.sample(rng);
        let province_2025 = self.inner.province_codes[p].clone();
        let (prefix, province, ward, legacy) = if registered_on < units_reform() && !self.legacy_places[p].is_empty() {
            let place = pick(rng, &self.legacy_places[p]).clone();
            if rng.random_bool(LEGACY_SHARE) {
                (place.province.clone(), place.province, place.ward, true)
            } else {
                (place.province, province_2025, place.ward_2025, false)
            }
        } else {
            let w = *pick(rng, &self.inner.province_wards[p]);
            (province_2025.clone(), province_2025, self.inner.wards[w].ward_code.clone(), false)
        };
        let edition = if registered_on < vsic_2025_in_force() { VsicEdition::Vsic2018 } else { VsicEdition::Vsic2025 };
        let latest_birth_year = registered_on.year() - 19;
        let body = loop {
            let mut body = self.inner.body(BodyPlan {
                place: Some((&province, &ward)),
                lines: (edition == VsicEdition::Vsic2018).then_some(&self.vsic_2018),
                latest_birth_year,
            });
            let kind = body["type"].clone();
            if self.take_name(&mut body["name"], &kind) {
                break body;
            }
        };
        let code = self.allocate(&prefix);
        let first = rough_record(body, code.clone(), registered_on, at, legacy, edition);
        let versions = if self.history == 0 { vec![self.current_only(first)] } else { self.with_history(first) };
        // Later enterprises may be owned by this one.
        let org = &mut self.inner.org_codes;
        if org.len() < 500 {
            org.push(code);
        } else {
            let i = self.inner.rng.random_range(0..org.len());
            org[i] = code;
        }
        versions
    }

    fn registration_date(&mut self) -> NaiveDate {
        let rng = &mut self.inner.rng;
        let year = self.years[self.year_sampler.sample(rng)];
        let start = NaiveDate::from_ymd_opt(year, 1, 1).expect("a date");
        let end = NaiveDate::from_ymd_opt(year, 12, 31).expect("a date").min(self.as_of);
        let days = (end - start).num_days().max(0);
        start + chrono::Duration::days(rng.random_range(0..=days))
    }

    /// A time in office hours (08:00–17:00 in Vietnam) on `day`.
    fn office_time(&mut self, day: NaiveDate) -> DateTime<Utc> {
        let seconds = self.inner.rng.random_range(3600..10 * 3600);
        day.and_hms_opt(0, 0, 0).expect("midnight").and_utc() + chrono::Duration::seconds(seconds)
    }

    /// Reserves the art. 41 keys of `name` (drops an abbreviation or foreign name that is taken);
    /// false when the name itself is taken.
    fn take_name(&mut self, name: &mut Value, kind: &Value) -> bool {
        let kind = EnterpriseType::parse(kind.as_str().unwrap_or_default()).expect("a generated type");
        let vi = name["vi"].as_str().unwrap_or_default().to_string();
        let Ok(proper) = enterprise_type::proper_name(kind, &vi) else { return false };
        let keys = name_check::keys(&vi, &proper, name["abbreviation"].as_str(), name["en"].as_str());
        let (read, core) = (hash_str(&keys.read_key), hash_str(&keys.core_key));
        if self.read_keys.contains(&read) || self.core_keys.contains(&core) {
            return false;
        }
        self.read_keys.insert(read);
        self.core_keys.insert(core);
        let map = name.as_object_mut().expect("a name object");
        if let Some(k) = &keys.abbreviation_key {
            if !self.abbreviation_keys.insert(hash_str(k)) {
                map.remove("abbreviation");
            }
        }
        if let Some(k) = &keys.foreign_key {
            if !self.foreign_keys.insert(hash_str(k)) {
                map.remove("en");
            }
        }
        true
    }

    /// The next code under `prefix`: serials in order, a few skipped (given elsewhere, refused).
    fn allocate(&mut self, prefix: &str) -> String {
        let gap = self.inner.rng.random_range(0..3u32);
        let next = self.serials.entry(prefix.to_string()).or_insert(1);
        let (serial, code) = EnterpriseCode::next_valid(prefix, *next + gap).expect("serials left under the prefix");
        *next = serial + 1;
        code.to_string()
    }

    /// The status of a current record: older enterprises have more often ceased.
    fn final_status(&mut self, registered_on: NaiveDate) -> Status {
        let age_years = ((self.as_of - registered_on).num_days() / 365) as u64;
        let rng = &mut self.inner.rng;
        if age_years == 0 {
            return STATUSES[self.status_sampler_young.sample(rng)];
        }
        let ceased = (40 + 14 * age_years).min(450);
        let weights = [600, 70, 60, 30, 15, 20, 3, ceased];
        STATUSES[Weighted::new(weights).sample(rng)]
    }

    /// The legal path from `active` to `status`.
    fn status_path(&mut self, status: Status) -> Vec<Status> {
        match status {
            Status::Active => Vec::new(),
            Status::Ceased if self.inner.rng.random_bool(0.9) => vec![Status::Dissolving, Status::Ceased],
            Status::Ceased => vec![Status::Bankruptcy, Status::Ceased],
            other => vec![other],
        }
    }

    /// Without history: the current record alone, at the version its changes would have made.
    fn current_only(&mut self, first: Enterprise) -> Enterprise {
        let mut record = first;
        let status = self.final_status(record.registered_on);
        let path = self.status_path(status);
        let end = self.as_of_time();
        let rng = &mut self.inner.rng;
        let extra: i32 = match rng.random_range(0..100u32) {
            0..=44 => 0,
            45..=69 => 1,
            70..=84 => 2,
            85..=94 => 3,
            _ => rng.random_range(4..=8),
        };
        let start = record.updated_at;
        let mut updated = start;
        if !path.is_empty() || extra > 0 {
            let from = if status == Status::Suspended { start.max(end - chrono::Duration::days(300)) } else { start };
            updated = random_time(rng, from, end);
        }
        let day = legal_date(updated);
        let mut units = 0;
        if rng.random_bool(UNITS_SHARE) && day > record.registered_on {
            units = rng.random_range(1..=3);
        }
        record.version = 1 + path.len() as i32 + units + extra;
        record.registration_changes = if extra > 0 { rng.random_range(0..=extra) } else { 0 };
        record.updated_at = updated;
        for _ in 0..units {
            let on = record.registered_on
                + chrono::Duration::days(self.inner.rng.random_range(0..=(day - record.registered_on).num_days()));
            self.add_unit(&mut record, on);
        }
        record.units.sort_by_key(|u| u.registered_on);
        if extra > 0 && day >= vsic_2025_in_force() && record.business_lines[0].edition == VsicEdition::Vsic2018 {
            self.add_line(&mut record, VsicEdition::Vsic2025);
        }
        self.set_status(&mut record, status, day);
        record
    }

    /// `history` changes after the registration, the last ones along the path to the final status.
    fn with_history(&mut self, first: Enterprise) -> Vec<Enterprise> {
        let status = self.final_status(first.registered_on);
        let mut path = self.status_path(status);
        path.truncate(self.history as usize);
        let start = first.updated_at;
        let end = self.as_of_time();
        let rng = &mut self.inner.rng;
        let mut times: Vec<DateTime<Utc>> =
            (0..self.history).map(|_| random_time(rng, start + chrono::Duration::seconds(1), end)).collect();
        times.sort();
        if path.last() == Some(&Status::Suspended) {
            // A suspension lasts at most a year: recent.
            let last = times.len() - 1;
            times[last] = times[last].max(end - chrono::Duration::days(rng.random_range(1..300)));
        }
        for i in 1..times.len() {
            if times[i] <= times[i - 1] {
                times[i] = times[i - 1] + chrono::Duration::seconds(1);
            }
        }
        let content_changes = times.len() - path.len();
        let mut versions = vec![first];
        for (i, at) in times.into_iter().enumerate() {
            let mut next = versions.last().expect("a first version").clone();
            next.version += 1;
            next.updated_at = at;
            let day = legal_date(at);
            if i < content_changes {
                if self.content_change(&mut next, day) {
                    next.registration_changes += 1;
                }
            } else {
                let s = path[i - content_changes];
                self.set_status(&mut next, s, day);
            }
            versions.push(next);
        }
        versions
    }

    fn set_status(&mut self, record: &mut Enterprise, status: Status, day: NaiveDate) {
        record.status = status;
        record.status_until =
            (status == Status::Suspended).then(|| day + chrono::Duration::days(self.inner.rng.random_range(90..=365)));
        if status == Status::Ceased {
            for u in &mut record.units {
                u.status = Status::Ceased;
            }
        }
    }

    /// One change of the record's content on `day`; true when it is a registration change (a
    /// certificate item).
    fn content_change(&mut self, record: &mut Enterprise, day: NaiveDate) -> bool {
        let represented_by_members =
            matches!(record.enterprise_type, EnterpriseType::PrivateEnterprise | EnterpriseType::Partnership);
        match self.inner.rng.random_range(0..100u32) {
            0..=24 => {
                record.charter_capital_vnd *= 2;
                for o in record.owners.iter_mut().flatten() {
                    o.capital_vnd *= 2;
                }
                true
            }
            25..=39 if !represented_by_members => {
                let province = record.head_office.province_code.clone();
                self.inner.latest_birth_year = day.year() - 19;
                let mut persons = Vec::new();
                let i = self.inner.vn_person(&province, &mut persons);
                let person = &persons[i];
                let rep = &mut record.legal_representatives[0];
                rep.full_name = person.name.clone();
                rep.birth_date = Some(person.birth);
                rep.nationality = "VN".into();
                rep.identity = Some(Identity { kind: IdentityKind::Cccd, number: person.id_number.clone() });
                true
            }
            40..=54 => {
                self.move_head_office(record, day);
                true
            }
            55..=69 => {
                let edition = if day >= vsic_2025_in_force() { VsicEdition::Vsic2025 } else { VsicEdition::Vsic2018 };
                self.add_line(record, edition);
                false
            }
            70..=84 | 25..=39 => {
                record.head_office.phone = Some(self.phone());
                false
            }
            85..=96 => {
                self.add_unit(record, day);
                false
            }
            _ => {
                let kind = record.enterprise_type;
                let main_div = record.business_lines[0].vsic.get(..2).and_then(|d| d.parse().ok()).unwrap_or(0);
                let type_value = Value::String(record.enterprise_type.as_str().into());
                let name = loop {
                    let trades = self.inner.trade_words(main_div);
                    let syl = self.inner.proper_name();
                    let mut name = self.inner.name_value(kind, &trades, &syl);
                    if self.take_name(&mut name, &type_value) {
                        break name;
                    }
                };
                record.name = serde_json::from_value(name).expect("a name object");
                true
            }
        }
    }

    fn move_head_office(&mut self, record: &mut Enterprise, day: NaiveDate) {
        let rng = &mut self.inner.rng;
        let current = record.head_office.current_province_code().to_string();
        let p = if rng.random_bool(0.8) {
            self.inner.province_codes.iter().position(|c| *c == current).unwrap_or(0)
        } else {
            self.inner.province_sampler.sample(rng)
        };
        let (province, ward, legacy) = if day < units_reform() && !self.legacy_places[p].is_empty() {
            let place = pick(rng, &self.legacy_places[p]);
            (place.province.clone(), place.ward.clone(), true)
        } else {
            let w = *pick(rng, &self.inner.province_wards[p]);
            (self.inner.province_codes[p].clone(), self.inner.wards[w].ward_code.clone(), false)
        };
        let n: u32 = rng.random_range(1..=300);
        let street = pick(rng, &self.inner.streets).clone();
        let ho = &mut record.head_office;
        ho.street = format!("Số {n} đường {street}");
        ho.province_code = province;
        ho.ward_code = ward;
        ho.ward_name.clear();
        ho.province_name.clear();
        ho.legacy = legacy.then(LegacyUnits::default);
    }

    fn add_line(&mut self, record: &mut Enterprise, edition: VsicEdition) {
        let set = if edition == VsicEdition::Vsic2018 { &self.vsic_2018 } else { &self.inner.lines };
        for _ in 0..10 {
            let code = &set.codes[set.line_sampler.sample(&mut self.inner.rng)];
            if !record.business_lines.iter().any(|l| l.vsic == *code) {
                record.business_lines.push(BusinessLine {
                    vsic: code.clone(),
                    main: false,
                    edition,
                    name: String::new(),
                });
                return;
            }
        }
    }

    fn phone(&mut self) -> String {
        let rng = &mut self.inner.rng;
        let prefix = *pick(rng, MOBILE_PREFIXES);
        let rest: u32 = rng.random_range(0..10_000_000);
        format!("{}{} {:03} {:03}", prefix, rest / 1_000_000, (rest / 1000) % 1000, rest % 1000)
    }

    /// Registers a unit on `day`: a branch, a representative office or a business location in a
    /// 2025 ward, named after the enterprise (art. 40.2).
    fn add_unit(&mut self, record: &mut Enterprise, day: NaiveDate) {
        let rng = &mut self.inner.rng;
        let kind = match rng.random_range(0..100u32) {
            0..=49 => UnitKind::Branch,
            50..=64 => UnitKind::RepresentativeOffice,
            _ => UnitKind::BusinessLocation,
        };
        let current = record.head_office.current_province_code().to_string();
        let p = if rng.random_bool(0.6) {
            self.inner.province_codes.iter().position(|c| *c == current).unwrap_or(0)
        } else {
            self.inner.province_sampler.sample(rng)
        };
        let w = *pick(rng, &self.inner.province_wards[p]);
        let province_code = self.inner.province_codes[p].clone();
        let n: u32 = rng.random_range(1..=300);
        let street = pick(rng, &self.inner.streets).clone();
        let location = kind == UnitKind::BusinessLocation;
        let seq = record.units.iter().filter(|u| (u.kind == UnitKind::BusinessLocation) == location).count() as u32 + 1;
        let code = EnterpriseCode::parse(&record.code).expect("a generated code");
        let (unit_code, location_code) = if location {
            (UnitCode::location(&code, seq).expect("few units"), Some(format!("{seq:05}")))
        } else {
            (UnitCode::dependent(&code, seq as u16).expect("few units"), None)
        };
        let place = self
            .reference
            .province(&province_code)
            .map(|p| p.name.trim_start_matches("Thành phố ").trim_start_matches("Tỉnh ").to_string())
            .unwrap_or_default();
        let word = match kind {
            UnitKind::Branch => "Chi nhánh",
            UnitKind::RepresentativeOffice => "Văn phòng đại diện",
            UnitKind::BusinessLocation => "Địa điểm kinh doanh",
        };
        let name = if location {
            format!("{word} {} số {seq}", record.name.vi)
        } else {
            format!("{word} {} tại {place}", record.name.vi)
        };
        record.units.push(Unit {
            unit_code: unit_code.to_string(),
            enterprise_code: record.code.clone(),
            kind,
            location_code,
            name,
            address: UnitAddress {
                street: format!("Số {n} đường {street}"),
                ward_code: self.inner.wards[w].ward_code.clone(),
                ward_name: String::new(),
                province_code,
                province_name: String::new(),
            },
            status: Status::Active,
            registered_on: day,
        });
    }
}

/// A time between `from` and `to` (inclusive, to the second); `from` when `to` is earlier.
fn random_time(rng: &mut ChaCha8Rng, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let span = (to - from).num_seconds();
    if span <= 0 {
        return from;
    }
    from + chrono::Duration::seconds(rng.random_range(0..=span))
}

/// Version 1 of a record from a registration body (names of places and lines, shares: empty).
fn rough_record(
    body: Value,
    code: String,
    registered_on: NaiveDate,
    at: DateTime<Utc>,
    legacy: bool,
    edition: VsicEdition,
) -> Enterprise {
    let Value::Object(mut m) = body else { unreachable!("a body is an object") };
    if let Some(Value::Object(ho)) = m.get_mut("head_office") {
        ho.insert("ward_name".into(), string(""));
        ho.insert("province_name".into(), string(""));
        if legacy {
            ho.insert("legacy".into(), Value::Object(Map::new()));
        }
    }
    for line in m.get_mut("business_lines").and_then(Value::as_array_mut).into_iter().flatten() {
        line["edition"] = string(edition.as_str());
        line["name"] = string("");
    }
    for owner in m.get_mut("owners").and_then(Value::as_array_mut).into_iter().flatten() {
        owner["share_percent"] = Value::from(0.0);
    }
    m.insert("code".into(), Value::String(code));
    m.insert("status".into(), string("active"));
    m.insert("registered_on".into(), Value::String(registered_on.to_string()));
    m.insert("version".into(), Value::from(1));
    m.insert("registration_changes".into(), Value::from(0));
    m.insert("units".into(), Value::Array(Vec::new()));
    m.insert("updated_at".into(), serde_json::to_value(at).expect("a time serialises"));
    serde_json::from_value(Value::Object(m)).expect("a generated body has the record's shape")
}

/// Resolves rough versions (see [`RecordGenerator`]) through the import's validation: names of
/// wards, provinces and VSIC lines, shares. A refusal is a bug of the generator, reported whole.
pub fn resolve(versions: &[Enterprise], reference: &Reference, now: DateTime<Utc>) -> Result<Vec<Enterprise>, String> {
    versions
        .iter()
        .map(|v| {
            imported::validate(v, reference, now).map_err(|errors| {
                let list: Vec<String> =
                    errors.iter().map(|e| format!("{} {}: {}", e.field, e.code, e.message)).collect();
                format!("generated record {} version {} is invalid: {}", v.code, v.version, list.join("; "))
            })
        })
        .collect()
}

/// Writes `count` enterprises of `generator` as NDJSON (one line per version, oldest first) to
/// `out`; records are resolved on every core, in order. `progress` hears of every enterprise
/// written.
pub fn write_records(
    generator: &mut RecordGenerator,
    count: u64,
    out: &mut dyn std::io::Write,
    progress: &dyn Fn(u64),
) -> anyhow::Result<()> {
    use rayon::prelude::*;
    const CHUNK: u64 = 2048;
    let reference = generator.reference.clone();
    let now = generator.as_of_time();
    let mut written = 0;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<Enterprise>>>(2);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        // Drawing is sequential (one random stream); resolving and serialising run in parallel.
        let producer = scope.spawn(move || {
            let mut left = count;
            while left > 0 {
                let n = left.min(CHUNK);
                let chunk: Vec<Vec<Enterprise>> = (0..n).map(|_| generator.next_enterprise()).collect();
                left -= n;
                if tx.send(chunk).is_err() {
                    return;
                }
            }
        });
        for chunk in rx {
            let lines: Vec<Result<String, String>> = chunk
                .par_iter()
                .map(|versions| {
                    let resolved = resolve(versions, &reference, now)?;
                    let mut text = String::with_capacity(2048 * resolved.len());
                    for v in &resolved {
                        text.push_str(&serde_json::to_string(v).map_err(|e| e.to_string())?);
                        text.push('\n');
                    }
                    Ok(text)
                })
                .collect();
            for line in lines {
                out.write_all(line.map_err(anyhow::Error::msg)?.as_bytes())?;
            }
            written += chunk.len() as u64;
            progress(chunk.len() as u64);
        }
        producer.join().map_err(|_| anyhow::anyhow!("the generator thread panicked"))?;
        anyhow::ensure!(written == count, "generated {written} of {count} enterprises");
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    use registry_domain::reference_data;
    use EnterpriseType::*;

    fn is_nfc(s: &str) -> bool {
        text::nfc(s) == s
    }

    // -- reference data ---------------------------------------------------------

    /// Every 2025 ward and level-4 VSIC 2025 code of the reference data the service ships.
    fn real_input(org_codes: Vec<String>) -> GeneratorInput {
        let reference = reference_data::reference();
        let wards: Vec<Ward> = reference
            .all_wards()
            .map(|w| Ward { province_code: w.province_code.clone(), ward_code: w.code.clone() })
            .collect();
        let vsic4: Vec<String> =
            reference.vsic_entries(VsicEdition::Vsic2025).filter(|e| e.level == 4).map(|e| e.code.clone()).collect();
        assert_eq!(wards.len(), 3321);
        assert_eq!(vsic4.len(), 495);
        GeneratorInput { wards, vsic4, organisation_owner_codes: org_codes }
    }

    fn org_codes() -> Vec<String> {
        vec!["0100233488".into(), "0300588569".into(), "0101245486".into(), "0302263678".into()]
    }

    // -- checking helpers ---------------------------------------------------------

    /// Lower case, without tones and diacritics.
    fn fold_key(s: &str) -> String {
        text::strip_diacritics(s).to_lowercase()
    }

    /// The proper name (after the type's prefix and `MTV`/`một thành viên`) by the domain's rule,
    /// lower case.
    fn proper_name(kind: EnterpriseType, vi: &str) -> String {
        enterprise_type::proper_name(kind, vi)
            .unwrap_or_else(|e| panic!("{vi:?} does not fit its type {}: {e:?}", kind.as_str()))
            .to_lowercase()
    }

    /// Strips leading trade words; returns (trade words, distinctive syllables), lower case.
    fn split_trades(proper: &str) -> (Vec<String>, Vec<String>) {
        let trades: Vec<String> = TRADES.iter().map(|t| nfc(t.0).to_lowercase()).collect();
        let mut tokens: Vec<&str> = proper.split(' ').collect();
        let mut found = Vec::new();
        'outer: loop {
            for t in &trades {
                let words: Vec<&str> = t.split(' ').collect();
                if tokens.len() > words.len() && tokens[..words.len()] == words[..] {
                    found.push(t.clone());
                    tokens.drain(..words.len());
                    continue 'outer;
                }
            }
            break;
        }
        (found, tokens.into_iter().map(String::from).collect())
    }

    /// The legal-test core: folded, `tân`/`mới` dropped, no spaces.
    fn core_key(syllables: &[String]) -> String {
        syllables.iter().map(|s| fold_key(s)).filter(|s| s != "tan" && s != "moi").collect::<Vec<_>>().concat()
    }

    fn all_strings_nfc(v: &Value) -> bool {
        match v {
            Value::String(s) => is_nfc(s),
            Value::Array(a) => a.iter().all(all_strings_nfc),
            Value::Object(o) => o.iter().all(|(k, v)| is_nfc(k) && all_strings_nfc(v)),
            _ => true,
        }
    }

    fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
        v[key].as_str().unwrap_or_else(|| panic!("missing string {key} in {v}"))
    }

    fn check_cccd(number: &str, birth: &str, full_name: &str) {
        assert_eq!(number.len(), 12, "{number}");
        assert!(number.bytes().all(|b| b.is_ascii_digit()), "{number}");
        let prov: u32 = number[..3].parse().unwrap();
        assert!((1..=96).contains(&prov), "{number}");
        assert!(BIRTH_PROVINCES.contains(&(prov as u16)), "{number}");
        let g: u32 = number[3..4].parse().unwrap();
        let year: u32 = birth[..4].parse().unwrap();
        assert!((1950..=2004).contains(&year), "{birth}");
        assert_eq!(g / 2, if year >= 2000 { 1 } else { 0 }, "{number} {birth}");
        assert_eq!(&number[4..6], &birth[2..4], "{number} {birth}");
        let female = g % 2 == 1;
        let words: Vec<&str> = full_name.split(' ').collect();
        assert!(words.len() >= 3, "{full_name}");
        let middles = &words[1..words.len() - 1];
        if middles.contains(&"Văn") {
            assert!(!female, "{full_name} {number}");
        }
        if middles.contains(&"Thị") {
            assert!(female, "{full_name} {number}");
        }
    }

    struct Checker {
        vsic: HashSet<String>,
        ward_province: HashMap<String, String>,
        org_codes: Vec<String>,
        identities: HashSet<String>,
        cores: HashSet<String>,
        propers: HashSet<String>,
        en: HashSet<String>,
        abbr: HashSet<String>,
    }

    impl Checker {
        fn new(input: &GeneratorInput) -> Checker {
            Checker {
                vsic: input.vsic4.iter().cloned().collect(),
                ward_province: input.wards.iter().map(|w| (w.ward_code.clone(), w.province_code.clone())).collect(),
                org_codes: input.organisation_owner_codes.clone(),
                identities: HashSet::new(),
                cores: HashSet::new(),
                propers: HashSet::new(),
                en: HashSet::new(),
                abbr: HashSet::new(),
            }
        }

        fn check(&mut self, b: &Value) {
            assert!(all_strings_nfc(b), "not NFC: {b}");
            let obj = b.as_object().unwrap();
            let allowed = [
                "type",
                "name",
                "head_office",
                "charter_capital_vnd",
                "business_lines",
                "legal_representatives",
                "owners",
            ];
            assert_eq!(obj.len(), allowed.len());
            assert!(obj.keys().all(|k| allowed.contains(&k.as_str())));
            let kind = EnterpriseType::parse(str_of(b, "type")).expect("a known type");

            // Name and its uniqueness.
            let vi = str_of(&b["name"], "vi");
            let proper = proper_name(kind, vi);
            let (trades, syl) = split_trades(&proper);
            assert!(trades.len() <= 2, "{vi}");
            assert!((2..=12).contains(&syl.len()), "{vi}");
            let core = core_key(&syl);
            assert!(self.cores.insert(core.clone()), "proper-name core {core:?} repeats ({vi})");
            assert!(self.propers.insert(fold_key(&proper)), "proper name repeats ({vi})");
            let name_obj = b["name"].as_object().unwrap();
            assert!(name_obj.keys().all(|k| ["vi", "en", "abbreviation"].contains(&k.as_str())));
            if let Some(en) = b["name"].get("en") {
                let en = en.as_str().unwrap();
                assert!(en.is_ascii(), "{en}");
                let suffix = match kind {
                    LlcSingle | LlcMulti => "Company Limited",
                    Jsc => "Joint Stock Company",
                    Partnership => "Partnership",
                    PrivateEnterprise => "Private Enterprise",
                };
                assert!(en.ends_with(suffix), "{en}");
                assert!(self.en.insert(en.to_lowercase()), "English name repeats: {en}");
            }
            if let Some(a) = b["name"].get("abbreviation") {
                let a = a.as_str().unwrap();
                assert!(a.is_ascii() && a == a.to_uppercase(), "{a}");
                assert!(self.abbr.insert(a.to_lowercase()), "abbreviation repeats: {a}");
            }

            // Head office.
            let ho = &b["head_office"];
            let ward = str_of(ho, "ward_code");
            let province = str_of(ho, "province_code");
            assert_eq!(self.ward_province.get(ward).map(String::as_str), Some(province), "{ho}");
            assert!(!str_of(ho, "street").is_empty());
            if let Some(phone) = ho.get("phone") {
                let digits: String = phone.as_str().unwrap().chars().filter(|c| *c != ' ').collect();
                assert!(digits.len() == 10 && digits.starts_with('0'), "{phone}");
                assert!(digits.bytes().all(|c| c.is_ascii_digit()), "{phone}");
            }
            if let Some(email) = ho.get("email") {
                let email = email.as_str().unwrap();
                assert!(email.is_ascii() && email.contains('@'), "{email}");
                assert!(email.ends_with(".vn"), "{email}");
            }

            // Capital and lines.
            let capital = b["charter_capital_vnd"].as_u64().expect("integer capital");
            assert!((100_000_000..=100_000_000_000).contains(&capital), "{capital}");
            assert_eq!(capital % 1_000_000, 0);
            let lines = b["business_lines"].as_array().unwrap();
            assert!((1..=6).contains(&lines.len()));
            assert_eq!(lines.iter().filter(|l| l["main"] == Value::Bool(true)).count(), 1);
            let codes: HashSet<&str> = lines.iter().map(|l| str_of(l, "vsic")).collect();
            assert_eq!(codes.len(), lines.len(), "duplicate line");
            assert!(codes.iter().all(|c| self.vsic.contains(*c)));

            // People.
            let reps = b["legal_representatives"].as_array().unwrap();
            let owners = b["owners"].as_array().unwrap();
            assert!((1..=2).contains(&reps.len()));
            let mut body_ids: HashMap<String, String> = HashMap::new();
            for r in reps {
                let id = &r["identity"];
                assert_eq!(str_of(id, "kind"), "cccd");
                assert_eq!(str_of(r, "nationality"), "VN");
                let number = str_of(id, "number");
                check_cccd(number, str_of(r, "birth_date"), str_of(r, "full_name"));
                let pos = str_of(r, "position");
                let ok: &[&str] = match kind {
                    PrivateEnterprise => &["Chủ doanh nghiệp"],
                    Partnership => &["Thành viên hợp danh"],
                    LlcSingle => &["Giám đốc", "Tổng Giám đốc"],
                    LlcMulti => &["Giám đốc", "Tổng Giám đốc", "Chủ tịch Hội đồng thành viên"],
                    Jsc => &["Giám đốc", "Tổng Giám đốc", "Chủ tịch Hội đồng quản trị"],
                };
                assert!(ok.contains(&pos), "{kind:?}: {pos}");
                let prev = body_ids.insert(number.to_string(), str_of(r, "full_name").to_string());
                assert!(prev.is_none(), "two representatives share an identity");
            }
            let mut sum = 0u64;
            let mut owner_ids = HashSet::new();
            let mut org_seen = HashSet::new();
            for o in owners {
                let cap = o["capital_vnd"].as_u64().expect("integer owner capital");
                assert!(cap > 0);
                sum += cap;
                match str_of(o, "kind") {
                    "individual" => {
                        let id = &o["identity"];
                        let number = str_of(id, "number").to_string();
                        match str_of(id, "kind") {
                            "cccd" => assert_eq!(str_of(o, "nationality"), "VN"),
                            "passport" => {
                                assert_ne!(str_of(o, "nationality"), "VN");
                                assert_eq!(number.len(), 8);
                            }
                            other => panic!("identity kind {other}"),
                        }
                        assert!(owner_ids.insert(number.clone()), "owner listed twice");
                        match body_ids.get(&number) {
                            // also a representative: same name
                            Some(name) => assert_eq!(name, str_of(o, "name")),
                            None => {
                                body_ids.insert(number, str_of(o, "name").to_string());
                            }
                        }
                    }
                    "organisation" => {
                        let code = str_of(o, "enterprise_code");
                        assert!(self.org_codes.iter().any(|c| c == code));
                        assert!(org_seen.insert(code.to_string()));
                        assert!(!str_of(o, "name").is_empty());
                    }
                    other => panic!("owner kind {other}"),
                }
            }
            assert_eq!(sum, capital, "owner capitals must sum to the charter capital");
            let rep_ids: Vec<&str> = reps.iter().map(|r| str_of(&r["identity"], "number")).collect();
            let individuals = owners.iter().filter(|o| o["kind"] == "individual").count();
            match kind {
                LlcSingle => assert_eq!(owners.len(), 1),
                LlcMulti => {
                    assert!((2..=50).contains(&owners.len()));
                    for r in reps {
                        if str_of(r, "position") == "Chủ tịch Hội đồng thành viên" {
                            assert!(owner_ids.contains(str_of(&r["identity"], "number")));
                        }
                    }
                }
                Jsc => assert!(owners.len() >= 3),
                Partnership => {
                    assert!(owners.len() >= 2 && individuals == owners.len());
                    assert!(rep_ids.iter().all(|id| owner_ids.contains(*id)));
                }
                PrivateEnterprise => {
                    assert_eq!(owners.len(), 1);
                    assert_eq!(individuals, 1);
                    assert_eq!(reps.len(), 1);
                    assert_eq!(str_of(&owners[0]["identity"], "number"), rep_ids[0]);
                    assert_eq!(str_of(&owners[0], "name"), str_of(&reps[0], "full_name"));
                }
            }
            // Identities unique across the run (one person per number).
            for number in body_ids.keys() {
                assert!(self.identities.insert(number.clone()), "identity {number} used by two enterprises");
            }
        }
    }

    // -- tests -----------------------------------------------------------------------

    #[test]
    fn same_seed_same_sequence_other_seed_differs() {
        let input = real_input(org_codes());
        let mut a = Generator::new(42, input.clone());
        let mut b = Generator::new(42, input.clone());
        let mut c = Generator::new(43, input);
        let mut differs = 0;
        for _ in 0..200 {
            let x = a.next_registration();
            assert_eq!(x, b.next_registration());
            if x != c.next_registration() {
                differs += 1;
            }
        }
        assert!(differs > 190, "different seeds should give different bodies");
    }

    #[test]
    fn five_thousand_bodies_satisfy_the_rules() {
        let input = real_input(org_codes());
        let mut checker = Checker::new(&input);
        let mut g = Generator::new(7, input);
        let mut types: BTreeMap<String, usize> = BTreeMap::new();
        let (mut transport, mut transport_main, mut upper, mut en, mut abbr, mut orgs, mut passports) =
            (0, 0, 0, 0, 0, 0, 0);
        let n = 5000;
        for _ in 0..n {
            let b = g.next_registration();
            checker.check(&b);
            *types.entry(str_of(&b, "type").to_string()).or_default() += 1;
            let lines = b["business_lines"].as_array().unwrap();
            if let Some(l) = lines.iter().find(|l| ROAD_TRANSPORT_VSIC.contains(&str_of(l, "vsic"))) {
                transport += 1;
                if l["main"] == Value::Bool(true) {
                    transport_main += 1;
                }
            }
            let vi = str_of(&b["name"], "vi");
            if vi == vi.to_uppercase() {
                upper += 1;
            }
            en += usize::from(b["name"].get("en").is_some());
            abbr += usize::from(b["name"].get("abbreviation").is_some());
            // bodies with at least one organisation / foreign owner
            let owners = b["owners"].as_array().unwrap();
            orgs += usize::from(owners.iter().any(|o| o["kind"] == "organisation"));
            passports += usize::from(owners.iter().any(|o| o["identity"]["kind"] == "passport"));
        }
        let share = |k: &str| *types.get(k).unwrap_or(&0) as f64 / n as f64;
        assert!((0.40..0.50).contains(&share("llc_single")), "{types:?}");
        assert!((0.16..0.24).contains(&share("llc_multi")), "{types:?}");
        assert!((0.18..0.26).contains(&share("jsc")), "{types:?}");
        assert!((0.07..0.13).contains(&share("private_enterprise")), "{types:?}");
        assert!((0.015..0.05).contains(&share("partnership")), "{types:?}");
        assert!((100..=300).contains(&transport), "transport {transport}");
        assert!(transport_main * 2 > transport, "transport mostly main");
        assert!((350..=650).contains(&upper), "upper {upper}");
        assert!((2600..=3400).contains(&en), "en {en}");
        assert!((2000..=3000).contains(&abbr), "abbr {abbr}");
        assert!((25..=300).contains(&orgs), "bodies with organisation owners: {orgs}");
        assert!((25..=300).contains(&passports), "bodies with foreign owners: {passports}");
    }

    #[test]
    fn no_organisation_owners_without_codes() {
        let input = real_input(Vec::new());
        let mut checker = Checker::new(&input);
        let mut g = Generator::new(11, input);
        for _ in 0..2000 {
            let b = g.next_registration();
            checker.check(&b);
            assert!(b["owners"].as_array().unwrap().iter().all(|o| o["kind"] == "individual"));
        }
    }

    #[test]
    fn spread_covers_all_provinces() {
        let input = real_input(Vec::new());
        let mut g = Generator::new(2025, input);
        let mut per: HashMap<String, usize> = HashMap::new();
        for _ in 0..20_000 {
            let b = g.next_registration();
            *per.entry(str_of(&b["head_office"], "province_code").to_string()).or_default() += 1;
        }
        assert_eq!(per.len(), 34, "{per:?}");
        let mut ranked: Vec<(&String, &usize)> = per.iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(a.1));
        assert_eq!(ranked[0].0, "79");
        assert_eq!(ranked[1].0, "01");
    }

    #[test]
    fn names_stay_unique_when_the_syllable_space_gets_crowded() {
        // Tiny input, many bodies: two-syllable names run out and names grow.
        let input = GeneratorInput {
            wards: vec![Ward { province_code: "01".into(), ward_code: "00070".into() }],
            vsic4: vec!["4933".into(), "4620".into(), "4101".into()],
            organisation_owner_codes: Vec::new(),
        };
        let mut checker = Checker::new(&input);
        let mut g = Generator::new(1, input);
        for _ in 0..40_000 {
            checker.check(&g.next_registration());
        }
    }

    #[test]
    fn capital_split_is_exact() {
        let mut g = Generator::new(3, real_input(Vec::new()));
        for (cap, n) in [(100_000_000u64, 50usize), (101_000_000, 7), (99_999_000_000, 3), (5_000_000_000, 2)] {
            let parts = g.split_capital(cap, n, true);
            assert_eq!(parts.len(), n);
            assert!(parts.iter().all(|&p| p > 0));
            assert_eq!(parts.iter().sum::<u64>(), cap);
        }
    }

    #[test]
    fn vocabulary_is_clean() {
        let mut folded = HashSet::new();
        for s in SYLLABLES {
            assert!(is_nfc(s), "{s}");
            let f = fold_key(s);
            assert!(f.len() >= 2, "single-letter syllable {s}");
            assert!(!["moi", "mien", "va"].contains(&f.as_str()), "{s}");
            assert!(!f.chars().all(|c| "ivxlcdm".contains(c)), "roman numeral {s}");
            assert!(folded.insert(s.to_string()), "duplicate syllable {s}");
        }
        assert!(SYLLABLES.len() >= 150);
        // no trade phrase can be read as a run of name syllables
        let syl: HashSet<String> = SYLLABLES.iter().map(|s| nfc(s).to_lowercase()).collect();
        for (t, _, _) in TRADES {
            assert!(!nfc(t).to_lowercase().split(' ').all(|w| syl.contains(w)), "{t}");
        }
    }
}
