//! The layout's rules (README, "Architecture"), checked on the source: each part uses only the
//! parts below it, the domain stays pure, the store speaks no HTTP, the index crate knows nothing
//! of the service and only the command line uses clap. A change that breaks one fails here, with
//! the file and line.

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, relative to the workspace root.
fn rust_files(dir: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join(dir), &mut out);
    out.sort();
    assert!(!out.is_empty(), "{dir} holds Rust files");
    out
}

/// The lines of the files under `dir` that use any of `forbidden`, as `file:line: text`.
fn uses(dir: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in rust_files(dir) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if forbidden.iter().any(|f| line.contains(f)) {
                let name = file.strip_prefix(root()).unwrap().display();
                found.push(format!("{name}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn src_holds_only_main_lib_and_part_folders() {
    let mut loose: Vec<String> = std::fs::read_dir(root().join("src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    loose.sort();
    assert_eq!(loose, ["lib.rs", "main.rs"], "a module belongs in the folder of its part");
}

#[test]
fn the_domain_uses_no_other_part_and_no_io_crate() {
    let found =
        uses("src/domain", &["crate::store", "crate::api", "crate::indexer", "crate::cli", "actix", "diesel", "clap"]);
    assert!(found.is_empty(), "the domain is the law as pure code:\n{}", found.join("\n"));
    let manifest = std::fs::read_to_string(root().join("src/domain/Cargo.toml")).unwrap();
    for crate_name in ["actix", "diesel", "clap", "tantivy", "registry-index"] {
        assert!(!manifest.contains(crate_name), "the domain crate depends on {crate_name}");
    }
}

#[test]
fn the_store_speaks_no_http() {
    let found = uses("src/store", &["crate::api", "crate::indexer", "crate::cli", "actix", "utoipa", "clap"]);
    assert!(found.is_empty(), "the store returns domain values and typed outcomes:\n{}", found.join("\n"));
}

#[test]
fn the_indexer_uses_neither_http_nor_the_command_line() {
    let found = uses("src/indexer", &["crate::api", "crate::cli", "actix", "clap"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_api_does_not_reach_into_the_command_line() {
    let found = uses("src/api", &["crate::cli", "clap"]);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_index_and_generator_crates_know_nothing_of_the_service() {
    let found = uses("index", &["registry::", "registry_domain", "registry_generate", "diesel", "actix"]);
    assert!(found.is_empty(), "the index crate knows nothing of HTTP, SQL or the service:\n{}", found.join("\n"));
    let found = uses("generate", &["registry::", "diesel", "actix", "clap"]);
    assert!(found.is_empty(), "the generator uses the domain only:\n{}", found.join("\n"));
}
