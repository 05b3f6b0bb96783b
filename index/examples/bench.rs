//! Timing of indexing, suggest and search on generated names.
//!
//! `cargo run --release -p registry-index --example bench -- 2000000 /tmp/bench-index`
//! (the directory must not exist; default 200000 documents in a temporary directory).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../../examples/shared/queries.rs"]
#[allow(dead_code)]
mod queries;

use std::time::{Duration, Instant};

use registry_index::{SearchIndex, SearchRequest, BULK_WRITER_HEAP_BYTES};

fn percentiles(mut v: Vec<Duration>) -> String {
    v.sort();
    let p = |q: f64| v[((v.len() - 1) as f64 * q) as usize];
    format!("p50 {:?} p99 {:?} max {:?}", p(0.5), p(0.99), v[v.len() - 1])
}

#[path = "shared/cpu.rs"]
mod cpu;
use cpu::cpu_ns;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let tmp = std::env::temp_dir().join(format!("registry-index-bench-{}", std::process::id()));
    let dir = args.get(2).map(std::path::PathBuf::from).unwrap_or(tmp);

    if dir.join("meta.json").exists() {
        println!("reusing the index in {}", dir.display());
    } else {
        let t = Instant::now();
        let docs = common::generate(n, 11);
        println!("generated {n} docs in {:?}", t.elapsed());
        let t = Instant::now();
        let idx = SearchIndex::create_for_rebuild(&dir, BULK_WRITER_HEAP_BYTES).unwrap();
        for d in &docs {
            idx.add(d).unwrap();
        }
        idx.commit(1).unwrap();
        println!("indexed {n} docs in {:?} into {}", t.elapsed(), dir.display());
        idx.close().unwrap();
        println!("merges done after {:?}", t.elapsed());
    }
    let idx = SearchIndex::open_or_create(&dir).unwrap();
    println!("{} docs in {} segments", idx.num_docs(), idx.num_segments());

    // BENCH_QUERY_SET_ONLY=1: only the query set (for profiling).
    let set_only = std::env::var_os("BENCH_QUERY_SET_ONLY").is_some();
    let prefixes = [
        "t",
        "th",
        "thuo",
        "n",
        "ng",
        "nguy",
        "an ph",
        "minh ho",
        "thuong mai hung th",
        "dai",
        "cong ty tnhh ph",
        "cong ty tnhh thuong mai dich vu",
        "xay dung vi",
        "p",
        "h",
        "d",
        "v",
        "du lich ha",
        "hung thinh p",
        // Names typed whole, legal form included (issue 21).
        "cong ty tnhh thuong mai an phat mi",
        "Công ty Cổ phần Xây dựng Minh Hoà",
        "doanh nghiep tu nhan du lich ",
        "cong ty tnhh mot thanh vien ",
        // A typo, Telex or VNI in a complete word (issue 21).
        "cong ty tnhh thuong mia an ph",
        "cong ty tnhh thuowng mai hoangf lo",
        "xay dung hoa2ng lo",
        "nguyeenx phat th",
    ];
    for p in prefixes.iter().filter(|_| !set_only) {
        idx.suggest(p, 10).unwrap(); // warm up
    }
    let mut all = Vec::new();
    for p in prefixes.iter().filter(|_| !set_only) {
        let mut times = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            let s = idx.suggest(p, 10).unwrap();
            times.push(t.elapsed());
            assert!(s.len() <= 10);
        }
        println!("suggest {p:?}: {}", percentiles(times.clone()));
        all.extend(times);
    }
    if !all.is_empty() {
        println!("suggest all: {}", percentiles(all));
    }
    if !set_only {
        whole_names_but_two_letters(&idx, n);
    }

    let singles = [
        "thuong mai",
        "nguyen phat",
        "thuong mai dich vu hung thinh",
        "cong ty",
        "nguyne phat",
        "Thương mại Đường Minh",
        "0100",
        "0100233488",
        "",
    ];
    for q in singles.iter().filter(|_| !set_only) {
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..10 {
            let t = Instant::now();
            total = idx.search(&SearchRequest { q: q.to_string(), limit: 20, ..Default::default() }).unwrap().total;
            times.push(t.elapsed());
        }
        println!("search {q:?} ({total} hits): {}", percentiles(times));
    }
    let mut times = Vec::new();
    let mut req =
        SearchRequest { q: "thuong mai".into(), province: Some("79".into()), limit: 100, ..Default::default() };
    for _ in 0..5 {
        let t = Instant::now();
        let page = idx.search(&req).unwrap();
        times.push(t.elapsed());
        req.cursor = page.next_cursor;
    }
    if !set_only {
        println!("search pages of 100 with filter: {}", percentiles(times));
    }
    // The query forms of the relevance set and the search benchmark (unaccented, NFD, upper
    // case, reordered, one typo, abbreviated trade words), for 1,000 enterprises spread over the
    // index, page of 10.
    let docs = common::generate(n, 11);
    let every = (docs.len() / 1000).max(1);
    let set: Vec<(&str, String, String)> = docs
        .iter()
        .step_by(every)
        .take(1000)
        .enumerate()
        .map(|(i, d)| {
            let (form, q) = queries::query(i, &d.name, &d.proper_name);
            (form, q, d.code.clone())
        })
        .collect();
    drop(docs);
    for (_, q, _) in set.iter().take(50) {
        idx.search(&SearchRequest { q: q.clone(), limit: 10, ..Default::default() }).unwrap();
    }
    let mut times = Vec::with_capacity(set.len());
    let mut by_form: std::collections::BTreeMap<&str, Vec<Duration>> = Default::default();
    let mut found = 0;
    let cpu = cpu_ns();
    for (form, q, code) in &set {
        let t = Instant::now();
        let page = idx.search(&SearchRequest { q: q.clone(), limit: 10, ..Default::default() }).unwrap();
        times.push(t.elapsed());
        by_form.entry(form).or_default().push(t.elapsed());
        found += usize::from(page.hits.iter().any(|h| &h.code == code));
    }
    let cpu = Duration::from_nanos((cpu_ns() - cpu) / set.len() as u64);
    for (form, times) in by_form {
        println!("  {form:<22} {:>4} queries: {}", times.len(), percentiles(times));
    }
    println!(
        "query set ({} queries, page of 10): {}, mean CPU {cpu:?}, recall@10 {:.3}",
        set.len(),
        percentiles(times),
        found as f64 / set.len() as f64
    );
    if args.get(2).is_none() {
        drop(idx);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Issue 21: 2,000 generated names spread over the index, typed whole but their last two letters
/// (every other one folded): how often the name is among the 10 suggestions and first, and the
/// time of those suggestions.
fn whole_names_but_two_letters(idx: &SearchIndex, n: usize) {
    let docs = common::generate(n, 11);
    let every = (docs.len() / 2000).max(1);
    let typed: Vec<(String, String, bool)> = docs
        .iter()
        .step_by(every)
        .take(2000)
        .enumerate()
        .map(|(i, d)| {
            let cut: String = d.name.chars().take(d.name.chars().count() - 2).collect();
            let folded = i % 2 == 1;
            (if folded { registry_index::analyzer::fold(&cut) } else { cut }, d.code.clone(), folded)
        })
        .collect();
    drop(docs);
    // The first pass builds the dense lists of the words and bigrams it meets (a served index
    // builds them ahead with `SearchIndex::warm`); the second finds them built.
    for (pass, folded_too, label) in
        [(1, false, "with diacritics"), (1, true, "folded"), (2, false, "with diacritics"), (2, true, "folded")]
    {
        let mut times = Vec::new();
        let (mut tried, mut among, mut first) = (0, 0, 0);
        for (q, code, _) in typed.iter().filter(|t| t.2 == folded_too) {
            let t = Instant::now();
            let got = idx.suggest(q, 10).unwrap();
            times.push(t.elapsed());
            tried += 1;
            among += usize::from(got.iter().any(|s| &s.code == code));
            first += usize::from(got.first().is_some_and(|s| &s.code == code));
        }
        println!(
            "suggest, pass {pass}, names typed whole but the last two letters ({label}, {tried}): among the 10 {:.2} %, first {:.2} %; {}",
            100.0 * among as f64 / tried as f64,
            100.0 * first as f64 / tried as f64,
            percentiles(times)
        );
    }
}
