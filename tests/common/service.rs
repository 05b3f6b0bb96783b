//! The real `registry` binary, started on a free port against a test database.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::TestDb;

pub struct Service {
    pub child: Child,
    pub base: String,
    pub port: u16,
}

impl Service {
    /// Starts `registry serve` on `db` with `data_dir` and extra environment, and waits until
    /// `/readyz` answers 200.
    pub fn start_with(db_url: &str, data_dir: &std::path::Path, env: &[(&str, &str)]) -> Service {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Self::start_on(port, db_url, data_dir, env)
    }

    pub fn start_on(port: u16, db_url: &str, data_dir: &std::path::Path, env: &[(&str, &str)]) -> Service {
        let mut command = Command::new(env!("CARGO_BIN_EXE_registry"));
        command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", db_url)
            .env("REGISTRY_DATA_DIR", data_dir)
            .env("REGISTRY_LOG", "warn")
            // Tests call as fast as they can from one address.
            .env("REGISTRY_RATE_ADDRESS", "0")
            .env("REGISTRY_RATE_CLIENT", "0");
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::blocking::Client::new();
        let started = Instant::now();
        while !client.get(format!("{base}/readyz")).send().map(|r| r.status().is_success()).unwrap_or(false) {
            assert!(started.elapsed() < Duration::from_secs(60), "the service did not become ready");
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the service exited before it was ready: {status}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Service { child, base, port }
    }

    pub fn start(db: &TestDb, data_dir: &std::path::Path) -> Service {
        Self::start_with(&db.url, data_dir, &[])
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
