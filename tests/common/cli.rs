//! The `registry` binary, run by the tests.

use std::process::{Command, Output};

use super::TestDb;

/// The binary with warnings-only logs and no `DATABASE_URL` of the caller's environment.
pub fn registry_bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_registry"));
    c.env("REGISTRY_LOG", "warn").env_remove("DATABASE_URL");
    c
}

/// The binary on this test's database and search index directory.
pub fn registry(db: &TestDb) -> Command {
    let mut c = registry_bin();
    c.env("DATABASE_URL", &db.url).env("REGISTRY_INDEX_DIR", db.index_dir.path());
    c
}

/// Runs `c`, which must succeed.
pub fn run_ok(mut c: Command) -> Output {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A child process killed when the test ends, whatever happens.
pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
