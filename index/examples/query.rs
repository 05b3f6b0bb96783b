//! Run one search repeatedly against an existing index and print its timings (for profiling).
//!
//! `cargo run --release -p registry-index --example query -- /tmp/bench-index "thuong mai" 100`

use std::time::Instant;

use registry_index::{SearchIndex, SearchRequest};

#[path = "shared/cpu.rs"]
mod cpu;
use cpu::cpu_ns;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let q = args.get(2).cloned().unwrap_or_default();
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100);
    let limit: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(10);
    let idx = SearchIndex::open_or_create(&dir).unwrap();
    let req = SearchRequest { q, limit, ..Default::default() };
    let mut times = Vec::with_capacity(n);
    let mut page = idx.search(&req).unwrap();
    let cpu_start = cpu_ns();
    for _ in 0..n {
        let t = Instant::now();
        page = idx.search(&req).unwrap();
        times.push(t.elapsed());
    }
    let cpu = std::time::Duration::from_nanos((cpu_ns() - cpu_start) / n as u64);
    times.sort();
    println!(
        "{:?}: total {} ({}), p50 {:?} p99 {:?}, mean cpu {:?}",
        req.q,
        page.total,
        page.total_relation.as_str(),
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        cpu
    );
    for h in page.hits.iter().take(5) {
        println!("  {:.4} {} {} {:?}", h.score, h.code, h.name, h.matched_terms);
    }
}
