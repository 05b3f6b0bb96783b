//! The relevance set (`tests/data/relevance.tsv`, built by `cargo run --example relevance_set`):
//! every query against the same generated corpus; prints recall@1 and recall@10 per form and
//! overall, and holds recall@10 to at least 0.97.

mod common;

use std::collections::BTreeMap;

use common::*;
use registry_index::SearchRequest;

const SEED: u64 = 40_412_026;
const CORPUS: usize = 500;

#[test]
fn recall_of_the_relevance_set() {
    let db = TestDb::new();
    let pool = db.pool();
    let reference = registry::domain::reference_data::reference();
    assert_eq!(registry::cli::demo::load_seeded(&pool, &reference, CORPUS, SEED).unwrap(), CORPUS);
    let search = registry::indexer::Search::open(db.index_dir.path()).unwrap();
    search.catch_up(&mut pool.get().unwrap()).unwrap();
    let index = search.index();

    let set = include_str!("data/relevance.tsv");
    let mut by_form: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for line in set.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let mut parts = line.split('\t');
        let (form, query, target) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        let page = index.search(&SearchRequest { limit: 10, ..SearchRequest::text(query) }).unwrap();
        let rank = page.hits.iter().position(|h| h.name == target);
        let entry = by_form.entry(form).or_default();
        entry.0 += 1;
        if rank == Some(0) {
            entry.1 += 1;
        }
        if rank.is_some() {
            entry.2 += 1;
        } else {
            misses.push(format!("{form}: {query:?} → {target:?}"));
        }
    }
    let (n, at1, at10) = by_form.values().fold((0, 0, 0), |a, v| (a.0 + v.0, a.1 + v.1, a.2 + v.2));
    println!("relevance set: {n} queries over {CORPUS} generated enterprises");
    for (form, (q, a1, a10)) in &by_form {
        println!(
            "  {form:<22} {q:>4} queries  recall@1 {:.3}  recall@10 {:.3}",
            *a1 as f64 / *q as f64,
            *a10 as f64 / *q as f64
        );
    }
    let (recall1, recall10) = (at1 as f64 / n as f64, at10 as f64 / n as f64);
    println!("  {:<22} {n:>4} queries  recall@1 {recall1:.3}  recall@10 {recall10:.3}", "all");
    for m in &misses {
        println!("  missed {m}");
    }
    assert!(n >= 300, "the set has at least 300 queries");
    assert!(recall10 >= 0.97, "recall@10 {recall10:.3} < 0.97");
}
