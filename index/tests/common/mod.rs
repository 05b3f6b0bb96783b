//! Deterministic generator of realistic Vietnamese enterprise names for the tests.
#![allow(dead_code)]

use std::collections::HashSet;

use chrono::NaiveDate;
use registry_index::{analyzer, EnterpriseDoc, SearchIndex};

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

pub const LEGAL: &[(&str, &str)] = &[
    ("Công ty TNHH", "TNHH2TV"),
    ("Công ty TNHH Một thành viên", "TNHH1TV"),
    ("Công ty Cổ phần", "CP"),
    ("Doanh nghiệp tư nhân", "DNTN"),
    ("Công ty Hợp danh", "HD"),
];

pub const TRADES: &[&str] = &[
    "Thương mại",
    "Dịch vụ",
    "Xây dựng",
    "Vận tải",
    "Thương mại và Dịch vụ",
    "Xuất nhập khẩu",
    "Sản xuất",
    "Đầu tư",
    "Công nghệ",
    "Du lịch",
    "Nông nghiệp",
    "",
];

pub const SYLLABLES: &[&str] = &[
    "An",
    "Phát",
    "Đạt",
    "Minh",
    "Hoàng",
    "Thành",
    "Đường",
    "Dương",
    "Nguyễn",
    "Hưng",
    "Thịnh",
    "Phú",
    "Quý",
    "Long",
    "Bình",
    "Trường",
    "Sơn",
    "Hải",
    "Việt",
    "Nam",
    "Hòa",
    "Tiến",
    "Thắng",
    "Lộc",
    "Tài",
    "Khang",
    "Nguyên",
    "Quang",
    "Huy",
    "Đức",
    "Tâm",
    "Phương",
    "Hạnh",
    "Ngọc",
    "Kim",
    "Hồng",
    "Thủy",
    "Xuân",
    "Thái",
    "Vĩnh",
    "Trung",
    "Hiếu",
    "Nghĩa",
    "Cường",
    "Thuận",
    "Khánh",
    "Linh",
    "Tuấn",
    "Dũng",
    "Hoa",
    "Lâm",
    "Trí",
    "Sáng",
    "Triều",
    "Châu",
    "Giang",
    "Uyên",
    "Vượng",
    "Toàn",
    "Thiên",
];

pub const PROVINCES: &[&str] = &["01", "79", "48", "31", "92", "56"];
pub const STATUSES: &[&str] = &["active", "suspended", "dissolving", "dissolved"];
pub const VSIC: &[&str] = &["4610", "4659", "4933", "4101", "6201", "5510", "0111", "1079", "7110"];

pub fn code_for(i: usize) -> String {
    format!("{:010}", 100_000_000u64 + (i as u64) * 7_919)
}

/// `n` enterprises with distinct (folded) full names.
pub fn generate(n: usize, seed: u64) -> Vec<EnterpriseDoc> {
    let mut rng = Rng::new(seed);
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(n);
    let base = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    while out.len() < n {
        let (legal, etype) = *rng.pick(LEGAL);
        let trade = *rng.pick(TRADES);
        let k = 2 + rng.below(3);
        let mut sylls: Vec<&str> = Vec::new();
        while sylls.len() < k {
            let s = *rng.pick(SYLLABLES);
            if !sylls.contains(&s) {
                sylls.push(s);
            }
        }
        let mut proper = String::new();
        if !trade.is_empty() {
            proper.push_str(trade);
            proper.push(' ');
        }
        proper.push_str(&sylls.join(" "));
        let name = format!("{legal} {proper}");
        if !seen.insert(analyzer::fold(&name)) {
            continue;
        }
        let i = out.len();
        let code = code_for(i);
        let nvsic = 1 + rng.below(3);
        let mut vsic: Vec<String> = Vec::new();
        while vsic.len() < nvsic {
            let v = rng.pick(VSIC).to_string();
            if !vsic.contains(&v) {
                vsic.push(v);
            }
        }
        let province = rng.pick(PROVINCES).to_string();
        out.push(EnterpriseDoc {
            code: code.clone(),
            name,
            proper_name: proper,
            name_en: None,
            abbreviation: None,
            former_names: vec![],
            unit_names: vec![],
            unit_codes: if i % 10 == 0 { vec![format!("{code}-001")] } else { vec![] },
            ward_code: format!("{province}{:03}", rng.below(20)),
            province_code: province,
            status: rng.pick(STATUSES).to_string(),
            enterprise_type: etype.to_string(),
            vsic,
            registered_on: base + chrono::Duration::days(rng.below(9000) as i64),
            record: None,
        });
    }
    out
}

/// Index `docs` in batches (several segments), committing with increasing positions.
pub fn index_docs(idx: &SearchIndex, docs: &[EnterpriseDoc], batch: usize) {
    for (n, chunk) in docs.chunks(batch).enumerate() {
        for d in chunk {
            idx.upsert(d).unwrap();
        }
        idx.commit(n as u64 + 1).unwrap();
    }
}
