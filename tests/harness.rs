//! The harness's own server: with no `REGISTRY_TEST_DATABASE_URL` and nothing answering, test
//! processes share one private cluster, which is stopped after the last of them.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::service::free_port;
use common::*;

/// How long the cluster outlives its test processes here.
const LINGER: Duration = Duration::from_secs(5);

/// Runs [`on_the_servers_own_database`] in a test process of its own that finds no server at a
/// free port and so uses the private cluster in `dir`; returns what it printed.
fn test_process_without_a_server(dir: &Path) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "on_the_servers_own_database", "--ignored", "--nocapture"])
        .env_remove("REGISTRY_TEST_DATABASE_URL")
        .env("REGISTRY_TEST_PG_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("REGISTRY_TEST_CLUSTER_DIR", dir)
        .env("REGISTRY_TEST_CLUSTER_LINGER", LINGER.as_secs().to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The pid of the cluster's postmaster, while it runs.
fn postmaster(cluster: &Path) -> Option<i32> {
    let pid_file = std::fs::read_to_string(cluster.join("postmaster.pid")).ok()?;
    pid_file.lines().next()?.trim().parse().ok()
}

#[test]
fn without_a_server_the_test_processes_share_one_private_cluster_stopped_after_the_last() {
    let dir = cluster_tempdir("registry-test-harness-");
    let cluster = dir.path().canonicalize().unwrap().join("postgres");

    let printed = test_process_without_a_server(dir.path());
    assert!(cluster.join("PG_VERSION").is_file(), "the cluster lives under REGISTRY_TEST_CLUSTER_DIR");
    let socket = cluster.join("socket").to_string_lossy().to_string();
    assert!(printed.contains(&format!("server postgres://postgres@localhost/postgres?host={socket}")), "{printed}");
    let first = postmaster(&cluster).expect("the cluster outlives its test process, for the next one");

    // The next test process (as cargo runs the next test binary) uses the same server.
    test_process_without_a_server(dir.path());
    assert_eq!(postmaster(&cluster), Some(first), "one server for the run");

    // After the last test process, the reaper stops it.
    let ended = Instant::now();
    while postmaster(&cluster).is_some() {
        assert!(ended.elapsed() < LINGER + Duration::from_secs(30), "the cluster was not stopped");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(ended.elapsed() >= LINGER - Duration::from_secs(1), "stopped only after lingering for the next process");
    assert!(!cluster.join("socket/.s.PGSQL.54320").exists(), "the server is gone");
}

/// What the test above runs in its own process: two threads at once, as parallel tests are, each
/// with a database of its own on the server the harness chose.
#[test]
#[ignore = "run by the test above, in a process of its own"]
fn on_the_servers_own_database() {
    let threads: Vec<_> = (0..2)
        .map(|i| {
            std::thread::spawn(move || {
                let db = TestDb::new();
                db.key(&format!("client-{i}"), registry::domain::Role::Portal);
                assert_eq!(db.count("api_clients"), 1);
                assert!(db.count("provinces") > 0, "the database is made from the migrated template");
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    println!("server {}", server_url());
}
