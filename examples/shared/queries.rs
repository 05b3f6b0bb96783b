//! How people type the names they look for: the query forms of the relevance set and the search
//! benchmark (shared by `examples/relevance_set.rs` and `examples/search_bench.rs`).

use unicode_normalization::UnicodeNormalization;

pub const ABBREVIATIONS: &[(&str, &str)] = &[
    ("Thương mại", "TM"),
    ("Dịch vụ", "DV"),
    ("Xây dựng", "XD"),
    ("Vận tải", "VT"),
    ("Sản xuất", "SX"),
    ("Xuất nhập khẩu", "XNK"),
];

pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| {
            if c == 'đ' {
                'd'
            } else if c == 'Đ' {
                'D'
            } else {
                c
            }
        })
        .collect()
}

/// One substitution in the middle of the longest word of five letters or more.
pub fn typo(s: &str) -> Option<String> {
    let words: Vec<&str> = s.split(' ').collect();
    let (i, w) = words
        .iter()
        .enumerate()
        .filter(|(_, w)| fold(w).chars().count() >= 5)
        .max_by_key(|(_, w)| w.chars().count())?;
    let chars: Vec<char> = w.chars().collect();
    let mid = chars.len() / 2;
    let replacement = if fold(&chars[mid].to_string()).to_lowercase() == "x" { 'z' } else { 'x' };
    let changed: String = chars.iter().enumerate().map(|(j, c)| if j == mid { replacement } else { *c }).collect();
    let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    out[i] = changed;
    Some(out.join(" "))
}

/// The `i`-th query form for an enterprise: `(form, query)`.
pub fn query(i: usize, name: &str, proper: &str) -> (&'static str, String) {
    match i % 7 {
        0 => ("unaccented", fold(proper).to_lowercase()),
        1 => ("nfd", proper.nfd().collect::<String>()),
        2 => ("upper", proper.to_uppercase()),
        3 => ("reordered", proper.split(' ').rev().collect::<Vec<_>>().join(" ")),
        4 => match typo(proper) {
            Some(t) => ("typo", t),
            None => ("unaccented", fold(proper).to_lowercase()),
        },
        5 => {
            let lower = proper.to_lowercase();
            match ABBREVIATIONS.iter().find(|(long, _)| lower.contains(&long.to_lowercase())) {
                Some((long, short)) => ("abbreviation", lower.replacen(&long.to_lowercase(), short, 1)),
                None => ("full_name_unaccented", fold(name).to_lowercase()),
            }
        }
        _ => ("unaccented_reordered", fold(proper).to_lowercase().split(' ').rev().collect::<Vec<_>>().join(" ")),
    }
}
