//! The PostgreSQL server of the tests, chosen once per test process (see the harness's module
//! doc), and the private cluster shared by every test process of a run when no server answers.
//!
//! The shared cluster lives under one directory (`REGISTRY_TEST_CLUSTER_DIR`, by default
//! `/tmp/registry-test-cluster-<checkout>`, where the `postgres` account can reach it when the
//! tests run as root): the cluster itself in `postgres/` ([`PrivateCluster`]) and three lock files
//! (`flock`, released by the kernel when their process ends, however it ends):
//!
//! * `lock`: held while a process starts the cluster or joins it, and while the reaper decides to
//!   stop it, so that the two never cross;
//! * `users`: each test process on the cluster holds it shared until it exits;
//! * `reaper`: held by the reaper, a process of its own (the test binary started again with
//!   `REGISTRY_TEST_CLUSTER_REAPER` set, see [`REAPER_ENTRY`]) that the first test process on a
//!   stopped cluster starts. It stops the cluster once no test process has held `users` for
//!   [`linger`] (a minute), long enough for cargo to reach the next test binary that needs a
//!   database; so one cluster serves the whole run and is stopped after its end, or after the run
//!   is interrupted. Its errors go to `reaper.log`.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use registry::cli::cluster::PrivateCluster;

/// Where the tests look for a server when `REGISTRY_TEST_DATABASE_URL` is unset.
const DEFAULT_ADDR: &str = "127.0.0.1:5432";
/// How long the shared cluster outlives the last test process on it, unless
/// `REGISTRY_TEST_CLUSTER_LINGER` (seconds) says otherwise: long enough for cargo to go through
/// the test binaries that need no database (the generator's, the property tests) to the next one
/// that does.
const LINGER: Duration = Duration::from_secs(60);
/// How often the reaper looks for test processes.
const POLL: Duration = Duration::from_millis(200);
/// Set (to the cluster's directory) only in the reaper's environment.
const REAPER_ENV: &str = "REGISTRY_TEST_CLUSTER_REAPER";

/// The server this process tests against, and its membership of the shared cluster (a shared
/// lock on `users`, held until the process ends).
struct Server {
    url: String,
    _membership: Option<File>,
}

/// The URL of the server's `postgres` database: `REGISTRY_TEST_DATABASE_URL`; else the server
/// that answers at `REGISTRY_TEST_PG_ADDR` (default `127.0.0.1:5432`); else the run's shared
/// private cluster, started when it is not running.
pub fn server_url() -> String {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(choose).url.clone()
}

fn choose() -> Server {
    if let Ok(url) = std::env::var("REGISTRY_TEST_DATABASE_URL") {
        return Server { url, _membership: None };
    }
    let addr = std::env::var("REGISTRY_TEST_PG_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_string());
    if answers(&addr) {
        return Server { url: format!("postgres://postgres@{addr}/postgres"), _membership: None };
    }
    let dir = shared_cluster_dir();
    match join(&dir) {
        Ok((url, membership)) => Server { url, _membership: Some(membership) },
        Err(e) => panic!(
            "no PostgreSQL server answers at {addr} and the tests' private cluster in {} did not start: {e:#}",
            dir.display()
        ),
    }
}

/// Whether something accepts a TCP connection at `addr`.
fn answers(addr: &str) -> bool {
    let Ok(addrs) = addr.to_socket_addrs() else {
        return false;
    };
    addrs.into_iter().any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

/// `REGISTRY_TEST_CLUSTER_DIR`, or a directory under `/tmp` of this checkout's own.
pub fn shared_cluster_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("REGISTRY_TEST_CLUSTER_DIR") {
        return PathBuf::from(dir);
    }
    // Not TMPDIR: it may lie where the `postgres` account cannot reach.
    PathBuf::from(format!("/tmp/registry-test-cluster-{}", super::checkout()))
}

/// Starts the shared cluster in `dir`, or joins it where it runs; returns the URL of its
/// `postgres` database and this process's membership.
fn join(dir: &Path) -> anyhow::Result<(String, File)> {
    fs::create_dir_all(dir)?;
    if fs::metadata(dir)?.permissions().mode() & 0o005 != 0o005 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    }
    let lock = lock_file(dir, "lock")?;
    lock.lock()?;
    let membership = lock_file(dir, "users")?;
    membership.lock_shared()?;
    let mut cluster = PrivateCluster::start(dir)?;
    // The reaper stops it, after the last test process of the run.
    cluster.detach();
    ensure_reaper(dir)?;
    drop(lock);
    Ok((cluster.database_url("postgres"), membership))
}

fn lock_file(dir: &Path, name: &str) -> io::Result<File> {
    OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(name))
}

/// Starts a reaper unless one holds `reaper`. (Two started at once are harmless: the second
/// finds `reaper` held and ends.)
fn ensure_reaper(dir: &Path) -> anyhow::Result<()> {
    match lock_file(dir, "reaper")?.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => return Ok(()),
        Err(fs::TryLockError::Error(e)) => return Err(e.into()),
    }
    let log = OpenOptions::new().create(true).append(true).open(dir.join("reaper.log"))?;
    Command::new(std::env::current_exe()?)
        .env(REAPER_ENV, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        // Out of the terminal's process group: an interrupted run still has its cluster stopped.
        .process_group(0)
        .spawn()?;
    Ok(())
}

/// Runs before `main` in every test binary (as a C constructor does): in a process started as a
/// reaper it reaps and exits, anywhere else it does nothing.
#[used]
#[link_section = ".init_array"]
static REAPER_ENTRY: extern "C" fn() = reaper_entry;

extern "C" fn reaper_entry() {
    if let Some(dir) = std::env::var_os(REAPER_ENV) {
        if let Err(e) = reap(Path::new(&dir)) {
            eprintln!("reaper of {}: {e:#}", Path::new(&dir).display());
        }
        std::process::exit(0);
    }
}

/// How long the reaper waits: [`LINGER`], or `REGISTRY_TEST_CLUSTER_LINGER` seconds.
fn linger() -> Duration {
    let secs = std::env::var("REGISTRY_TEST_CLUSTER_LINGER").ok().and_then(|s| s.parse().ok());
    secs.map_or(LINGER, Duration::from_secs)
}

/// Waits until no test process has been on the cluster for [`linger`], then stops it.
fn reap(dir: &Path) -> anyhow::Result<()> {
    let linger = linger();
    let watch = lock_file(dir, "reaper")?;
    if watch.try_lock().is_err() {
        // Another reaper watches.
        return Ok(());
    }
    let lock = lock_file(dir, "lock")?;
    let users = lock_file(dir, "users")?;
    let mut idle_since: Option<Instant> = None;
    loop {
        std::thread::sleep(POLL);
        lock.lock()?;
        if users.try_lock().is_ok() {
            if idle_since.get_or_insert_with(Instant::now).elapsed() >= linger {
                let stopped = PrivateCluster::stop_if_running(dir);
                // `reaper` before `lock`: a process that joins next finds no reaper and starts one.
                drop(watch);
                drop(users);
                drop(lock);
                stopped?;
                return Ok(());
            }
            users.unlock()?;
        } else {
            idle_since = None;
        }
        lock.unlock()?;
    }
}
