//! Index N generated documents into a fresh directory and report the time (indexing cost only).
#[path = "../tests/common/mod.rs"]
mod common;
use registry_index::{SearchIndex, BULK_WRITER_HEAP_BYTES};
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args[1].parse().unwrap();
    let dir = std::path::PathBuf::from(&args[2]);
    let docs = common::generate(n, 11);
    let t = Instant::now();
    let idx = SearchIndex::create_for_rebuild(&dir, BULK_WRITER_HEAP_BYTES).unwrap();
    for d in &docs {
        idx.add(d).unwrap();
    }
    idx.commit(1).unwrap();
    idx.close().unwrap();
    println!("indexed {n} in {:?}", t.elapsed());
}
