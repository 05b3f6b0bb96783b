//! The real `registry` binary, started on a free port against a test database.

use std::process::Child;
use std::time::{Duration, Instant};

use super::cli::registry_bin;
use super::TestDb;

/// A TCP port nothing listens on (at the moment of asking).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Service {
    pub child: Child,
    pub base: String,
    pub port: u16,
}

impl Service {
    /// Starts `registry serve` on `db` with `data_dir` and extra environment, and waits until
    /// `/readyz` answers 200.
    pub fn start_with(db_url: &str, data_dir: &std::path::Path, env: &[(&str, &str)]) -> Service {
        let port = free_port();
        let mut command = registry_bin();
        command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", db_url)
            .env("REGISTRY_DATA_DIR", data_dir)
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

    /// `/readyz`, as JSON.
    pub fn readiness(&self, client: &reqwest::blocking::Client) -> serde_json::Value {
        client.get(format!("{}/readyz", self.base)).send().unwrap().json().unwrap()
    }

    /// Waits (30 s at most) until the index holds `documents` and lags no event behind the feed.
    pub fn until_index_holds(&self, client: &reqwest::blocking::Client, documents: i64) {
        let started = Instant::now();
        loop {
            let ready = self.readiness(client);
            if ready["index"]["documents"].as_i64() == Some(documents) && ready["index"]["lag_events"] == 0 {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "the index did not catch up: {ready}");
            std::thread::sleep(Duration::from_millis(50));
        }
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
