//! Writes `tests/data/relevance.tsv`: search queries with known targets, built from generated
//! registrations (the demo generator, seed [`SEED`]), the way people type names: without
//! diacritics, decomposed (NFD), in upper case, reordered, with trade words abbreviated, and as
//! SPEC §8 has them: one typo in any word, typed with Telex or VNI switched off, two syllables run
//! together, a word missing (the forms of `examples/shared/queries.rs`, in turn).
//! `tests/search_relevance.rs` registers the same generated enterprises, runs every query and
//! prints recall@1 and recall@10 per form.
//!
//! Run: `cargo run --example relevance_set`

use std::collections::BTreeMap;
use std::io::Write;

/// The seed of the generated corpus (shared with the test).
const SEED: u64 = 40_412_026;
/// Enterprises in the corpus (the test registers as many).
const CORPUS: usize = 1_500;
/// Queries written (one per enterprise, forms in turn): enough for at least 60 of every form.
const QUERIES: usize = 1_500;
/// The fewest queries of any one form.
const PER_FORM: usize = 60;

#[path = "shared/queries.rs"]
#[allow(dead_code)] // shared with the benchmark, which uses more of it
mod queries;

/// Checks that a query of a form that changes the name does change it, and as the form says.
fn check(form: &str, query: &str, proper: &str) {
    let folded = queries::fold(proper).to_lowercase();
    let folded_query = queries::fold(query).to_lowercase();
    let changed = query != proper && query.to_lowercase() != proper.to_lowercase() && folded_query != folded;
    match form {
        "typo" => {
            assert!(changed, "typo {query:?} of {proper:?}");
            let (a, b) = (folded_query.chars().count() as i64, folded.chars().count() as i64);
            assert!((a - b).abs() <= 1, "typo {query:?} of {proper:?}: one letter at most added or removed");
        }
        "telex" => {
            assert!(changed, "telex {query:?} of {proper:?}");
            assert!(!query.chars().any(|c| c as u32 > 0x7f), "telex {query:?} is plain ASCII");
        }
        "vni" => {
            assert!(changed && query.chars().any(|c| c.is_ascii_digit()), "vni {query:?} of {proper:?}");
            assert!(!query.chars().any(|c| c as u32 > 0x7f), "vni {query:?} is plain ASCII");
        }
        "run_together" => {
            assert_eq!(query.split(' ').count() + 1, proper.split(' ').count(), "run_together {query:?} of {proper:?}");
            assert_eq!(folded_query.replace(' ', ""), folded.replace(' ', ""), "run_together {query:?} of {proper:?}");
        }
        "missing_word" => {
            assert_eq!(query.split(' ').count() + 1, proper.split(' ').count(), "missing_word {query:?} of {proper:?}");
        }
        _ => {}
    }
}

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
    let mut per_form: BTreeMap<&str, usize> = BTreeMap::new();
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
        check(form, &query, &proper);
        writeln!(out, "{form}\t{query}\t{name}")?;
        *per_form.entry(form).or_default() += 1;
        written += 1;
    }
    out.flush()?;
    eprintln!("wrote {written} queries to {}: {per_form:?}", path.display());
    for form in queries::FORMS {
        let n = per_form.get(form).copied().unwrap_or(0);
        assert!(n >= PER_FORM, "only {n} queries of form {form} (at least {PER_FORM} wanted)");
    }
    Ok(())
}
