//! Writes `tests/data/relevance.tsv`: search queries with known targets, built from generated
//! registrations (the demo generator, seed [`SEED`]), the way people type names: without
//! diacritics, decomposed (NFD), in upper case, reordered, with one typo, with trade words
//! abbreviated. `tests/search_relevance.rs` registers the same generated enterprises, runs every
//! query and prints recall@1 and recall@10.
//!
//! Run: `cargo run --example relevance_set`

use std::io::Write;

/// The seed of the generated corpus (shared with the test).
const SEED: u64 = 40_412_026;
/// Enterprises in the corpus.
const CORPUS: usize = 500;
/// Queries written (one per enterprise, forms in turn).
const QUERIES: usize = 360;

#[path = "shared/queries.rs"]
mod queries;

fn main() -> std::io::Result<()> {
    let reference = registry::domain::reference_data::reference();
    let mut generator = registry::cli::demo::generator(&reference, SEED);
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
        let (form, query) = queries::query(i, &name, &proper);
        writeln!(out, "{form}\t{query}\t{name}")?;
        written += 1;
    }
    out.flush()?;
    eprintln!("wrote {written} queries to {}", path.display());
    Ok(())
}
