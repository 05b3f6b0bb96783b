//! Writes `tests/data/relevance.tsv`: search queries with known targets, built from generated
//! registrations (the demo generator, seed [`SEED`]), the way people type names: without
//! diacritics, decomposed (NFD), in upper case, reordered, with one typo, with trade words
//! abbreviated. `tests/search_relevance.rs` registers the same generated enterprises, runs every
//! query and prints recall@1 and recall@10.
//!
//! Run: `cargo run --example relevance_set`

use std::io::Write;

use unicode_normalization::UnicodeNormalization;

/// The seed of the generated corpus (shared with the test).
const SEED: u64 = 40_412_026;
/// Enterprises in the corpus.
const CORPUS: usize = 500;
/// Queries written (one per enterprise, forms in turn).
const QUERIES: usize = 360;

const ABBREVIATIONS: &[(&str, &str)] = &[
    ("Thương mại", "TM"),
    ("Dịch vụ", "DV"),
    ("Xây dựng", "XD"),
    ("Vận tải", "VT"),
    ("Sản xuất", "SX"),
    ("Xuất nhập khẩu", "XNK"),
];

fn fold(s: &str) -> String {
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
fn typo(s: &str) -> Option<String> {
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

fn main() -> std::io::Result<()> {
    let reference = registry::reference_data::reference();
    let mut generator = registry::demo::generator(&reference, SEED);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/relevance.tsv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(
        out,
        "# Built by `cargo run --example relevance_set` from the demo generator, seed {SEED}, {CORPUS} enterprises."
    )?;
    writeln!(out, "# form\tquery\ttarget (the Vietnamese name as registered)")?;
    let mut written = 0;
    for i in 0..CORPUS {
        let body = generator.next_registration();
        if written >= QUERIES {
            continue;
        }
        let kind = registry::domain::enterprise_type::EnterpriseType::parse(body["type"].as_str().unwrap()).unwrap();
        let name = body["name"]["vi"].as_str().unwrap().to_string();
        let proper = registry::domain::enterprise_type::proper_name(kind, &name).unwrap();
        let (form, query) = match i % 7 {
            0 => ("unaccented", fold(&proper).to_lowercase()),
            1 => ("nfd", proper.nfd().collect::<String>()),
            2 => ("upper", proper.to_uppercase()),
            3 => ("reordered", proper.split(' ').rev().collect::<Vec<_>>().join(" ")),
            4 => match typo(&proper) {
                Some(t) => ("typo", t),
                None => ("unaccented", fold(&proper).to_lowercase()),
            },
            5 => {
                let lower = proper.to_lowercase();
                match ABBREVIATIONS.iter().find(|(long, _)| lower.contains(&long.to_lowercase())) {
                    Some((long, short)) => ("abbreviation", lower.replacen(&long.to_lowercase(), short, 1)),
                    None => ("full_name_unaccented", fold(&name).to_lowercase()),
                }
            }
            _ => ("unaccented_reordered", fold(&proper).to_lowercase().split(' ').rev().collect::<Vec<_>>().join(" ")),
        };
        writeln!(out, "{form}\t{query}\t{name}")?;
        written += 1;
    }
    out.flush()?;
    eprintln!("wrote {written} queries to {}", path.display());
    Ok(())
}
