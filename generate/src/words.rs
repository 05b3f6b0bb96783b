//! The generator's vocabulary as typed: syllables of proper names, trade words, people's names,
//! streets and industrial parks, phone prefixes. Typed in NFC; [`nfc`] makes sure when the
//! generator is built.

use registry_domain::text;

/// `s` in NFC, owned (the tables are typed NFC already; this makes sure).
pub(crate) fn nfc(s: &str) -> String {
    text::nfc(s).into_owned()
}

/// Distinctive syllables of proper names. No single letters, nothing that reads
/// as a Roman numeral, no `mới`/`miền`/`và`; `Tân` is allowed but dropped from
/// the uniqueness key.
#[rustfmt::skip]
pub(crate) const SYLLABLES: &[&str] = &[
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
pub(crate) const ENDINGS: &[&str] = &[
    "Phát", "Thịnh", "Lộc", "Hưng", "Long", "Thành", "Đạt", "Phú", "Vượng", "Tín", "Lợi", "Khang",
    "An", "Phúc", "Việt",
];

/// Trade words: Vietnamese, English rendering, abbreviation word.
#[rustfmt::skip]
pub(crate) const TRADES: &[(&str, &str, &str)] = &[
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
pub(crate) const GENERIC_TRADES: &[&str] = &[
    "Thương mại", "Dịch vụ", "Đầu tư", "Sản xuất", "Xuất nhập khẩu",
];

/// Trade words coherent with a VSIC 2025 division (first two digits).
pub(crate) fn trades_for_division(div: u32) -> &'static [&'static str] {
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

/// Province codes of the 63 pre-2025 provinces, used as CCCD place-of-birth codes.
#[rustfmt::skip]
pub(crate) const BIRTH_PROVINCES: &[u16] = &[
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37,
    38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77,
    79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
];

#[rustfmt::skip]
pub(crate) const SURNAMES: &[(&str, u32)] = &[
    ("Nguyễn", 380), ("Trần", 110), ("Lê", 95), ("Phạm", 70), ("Hoàng", 30), ("Huỳnh", 25),
    ("Phan", 45), ("Vũ", 25), ("Võ", 25), ("Đặng", 21), ("Bùi", 20), ("Đỗ", 14), ("Hồ", 13),
    ("Ngô", 13), ("Dương", 10), ("Lý", 5), ("Đinh", 8), ("Đoàn", 7), ("Trương", 7), ("Lương", 5),
    ("Mai", 5), ("Cao", 4), ("Lâm", 4), ("Hà", 4), ("Tạ", 3), ("Tô", 3), ("Chu", 2), ("Kiều", 2),
    ("Thái", 2), ("Triệu", 2), ("Vương", 2), ("Quách", 1), ("La", 1), ("Lục", 1), ("Tăng", 1),
];
#[rustfmt::skip]
pub(crate) const MALE_MIDDLE: &[(&str, u32)] = &[
    ("Văn", 350), ("Đức", 120), ("Minh", 120), ("Quang", 80), ("Hữu", 80), ("Công", 60),
    ("Thanh", 50), ("Quốc", 40), ("Xuân", 40), ("Đình", 30), ("Tuấn", 25), ("Hoàng", 25),
    ("Trọng", 20), ("Ngọc", 20), ("Mạnh", 15), ("Thế", 20), ("Anh", 15), ("Gia", 10), ("Bá", 10),
];
#[rustfmt::skip]
pub(crate) const FEMALE_MIDDLE: &[(&str, u32)] = &[
    ("Thị", 550), ("Ngọc", 80), ("Thu", 60), ("Thanh", 60), ("Minh", 40), ("Phương", 40),
    ("Hồng", 40), ("Kim", 40), ("Mai", 30), ("Thùy", 30), ("Bích", 20), ("Hoài", 20), ("Khánh", 20),
    ("Bảo", 20), ("Diệu", 10), ("Quỳnh", 20),
];
/// Second middle name after `Thị` ("Nguyễn Thị Thu Hà").
#[rustfmt::skip]
pub(crate) const FEMALE_MIDDLE2: &[&str] = &[
    "Thu", "Thanh", "Ngọc", "Minh", "Kim", "Hồng", "Mai", "Thùy", "Bích", "Phương",
];
#[rustfmt::skip]
pub(crate) const MALE_GIVEN: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Đức", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy",
    "Hưng", "Khang", "Khánh", "Khoa", "Kiên", "Lâm", "Long", "Lợi", "Mạnh", "Minh", "Nam", "Nghĩa",
    "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài", "Thắng", "Thành", "Thịnh", "Tiến", "Toàn",
    "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ", "Hậu", "Hiệp", "Lộc", "Phát", "Quý", "Tâm",
    "Thái", "Trí", "Tú", "Bảo", "Chiến", "Định", "Giang", "Hòa", "Kiệt", "Luân", "Nhân", "Tân",
    "Thông", "Thuận", "Trọng", "Vĩnh", "Hào", "Đông",
];
#[rustfmt::skip]
pub(crate) const FEMALE_GIVEN: &[&str] = &[
    "Anh", "Bình", "Chi", "Dung", "Duyên", "Giang", "Hà", "Hằng", "Hạnh", "Hiền", "Hoa", "Hồng",
    "Hương", "Huyền", "Lan", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc", "Nhung", "Oanh",
    "Phương", "Quyên", "Quỳnh", "Tâm", "Thảo", "Thu", "Thủy", "Trang", "Trâm", "Uyên", "Vân", "Yến",
    "Thúy", "Liên", "Nhi", "Vy", "Hậu", "Lý", "Xuân", "Diệp", "Hân",
];

/// Foreign nationalities (ISO 3166-1 alpha-2), weight, family names, given names.
#[rustfmt::skip]
pub(crate) const FOREIGNERS: &[(&str, u32, &[&str], &[&str])] = &[
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
pub(crate) const STREETS: &[&str] = &[
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
pub(crate) fn industrial_parks(province: &str) -> &'static [&'static str] {
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

pub(crate) const STREET_KINDS_NORTH: &[&str] = &["phố", "đường"];
pub(crate) const LOT_LETTERS: &[&str] = &["A", "B", "C", "D", "E", "F", "G", "H", "K", "L", "M", "N"];
pub(crate) const PASSPORT_LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVXYZ";
#[rustfmt::skip]
pub(crate) const MOBILE_PREFIXES: &[&str] = &[
    "090", "091", "093", "094", "096", "097", "098", "032", "033", "034", "035", "036", "037",
    "038", "039", "070", "076", "077", "078", "079", "081", "082", "083", "084", "085", "086",
    "088", "089", "056", "058",
];
