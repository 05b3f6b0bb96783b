//! A private PostgreSQL cluster that `registry serve` creates, starts and stops
//! under its own data directory when no `DATABASE_URL` is given.
//!
//! Layout (everything lives in `<data_dir>/postgres`, the PostgreSQL data
//! directory, "cluster dir"):
//!
//! * `<cluster>/server.log` – the server's log (pg_ctl `-l`), rotated to
//!   `server.log.1` at start once it exceeds 16 MiB;
//! * `<cluster>/socket/` – the directory of the server's Unix socket
//!   (`.s.PGSQL.54320`), mode 0700.  If that socket path would exceed the
//!   107-byte `sun_path` limit (or the path contains characters PostgreSQL's
//!   directory list cannot carry), `/tmp/registry-pg-<hash of cluster dir>` is
//!   used instead;
//! * `<cluster>/registry_cluster.conf` – rewritten on every start and included
//!   from `postgresql.conf`: `listen_addresses = ''` (no TCP at all, so it can
//!   never collide with a system PostgreSQL), the socket directory and the port.
//!
//! The port number ([`PRIVATE_CLUSTER_PORT`], 54320) only names the socket
//! file; it is deliberately not 5432 so that a URL that loses its `host`
//! parameter fails instead of silently reaching the system server.
//!
//! PostgreSQL refuses to run as root: when this process runs as root the
//! cluster is owned by, and `initdb`/`pg_ctl` are run as, the account
//! [`UNPRIVILEGED_USER`] (`postgres`).

use std::ffi::{CString, OsStr};
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read as _, Seek as _, Write as _};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::{Gid, Pid, Uid, User};

/// Port number of the private cluster.  No TCP is used (`listen_addresses =
/// ''`); the number only names the socket file `.s.PGSQL.54320` in the
/// cluster's own socket directory.
pub const PRIVATE_CLUSTER_PORT: u16 = 54320;

/// The account the cluster runs as when this process runs as root.
pub const UNPRIVILEGED_USER: &str = "postgres";

/// The PostgreSQL superuser created by `initdb` (and used in the URL).
pub const SUPERUSER: &str = "postgres";

/// Where Debian/Ubuntu install versioned PostgreSQL binaries (`<root>/<version>/bin`).
pub const PG_LIB_ROOT: &str = "/usr/lib/postgresql";

/// Name of the cluster directory under the data directory.
const CLUSTER_DIR_NAME: &str = "postgres";
/// Name of the temporary directory `initdb` fills before it is renamed.
const CLUSTER_INIT_DIR_NAME: &str = "postgres.initdb-tmp";
const SOCKET_DIR_NAME: &str = "socket";
const LOG_FILE_NAME: &str = "server.log";
const CONF_FILE_NAME: &str = "registry_cluster.conf";
const CONF_INCLUDE_LINE: &str = "include = 'registry_cluster.conf'";
/// `sizeof(sun_path) - 1`: the longest socket path the kernel accepts.
const MAX_SOCKET_PATH: usize = 107;
const LOG_ROTATE_BYTES: u64 = 16 * 1024 * 1024;
/// Seconds pg_ctl waits for start/stop (crash recovery may take a while).
const PG_CTL_TIMEOUT_SECS: u64 = 120;

/// Errors of the private cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found; searched: {}. \
         Install PostgreSQL (on Debian/Ubuntu: `apt-get install postgresql`), \
         or set DATABASE_URL to use an existing PostgreSQL server instead of a private cluster",
        display_paths(.searched)
    )]
    NoBinaries { searched: Vec<PathBuf> },

    #[error(
        "running as root, but PostgreSQL refuses to run as root and the unprivileged account \
         `{user}` to run the private cluster as does not exist; create it \
         (e.g. `adduser --system --group {user}`, which `apt-get install postgresql` also does), \
         run registry as a non-root user, or set DATABASE_URL"
    )]
    NoUnprivilegedUser { user: String },

    #[error("could not look up the account `{user}`: {source}")]
    UserLookup {
        user: String,
        #[source]
        source: Errno,
    },

    #[error(
        "the account `{user}` that runs the private PostgreSQL cluster cannot reach {path}{}; \
         make every parent directory searchable by it (e.g. `chmod o+x <dir>`), \
         choose another data directory, or set DATABASE_URL",
        match .blocking { Some(b) => format!(" (directory {} is not searchable by it)", b.display()), None => String::new() }
    )]
    NotTraversable { user: String, path: PathBuf, blocking: Option<PathBuf> },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    #[error("command `{command}` failed ({status}):\n{output}")]
    CommandFailed { command: String, status: String, output: String },

    #[error(
        "{} exists but is not a PostgreSQL cluster (no PG_VERSION) and is not empty; \
         move it away or remove it",
        .path.display()
    )]
    NotACluster { path: PathBuf },

    #[error(
        "the private cluster in {} was created by PostgreSQL {cluster_version}, but only \
         PostgreSQL {found_version} binaries were found (in {}); install PostgreSQL {cluster_version} \
         (e.g. `apt-get install postgresql-{cluster_version}`) or upgrade the cluster with pg_upgrade",
        .cluster_dir.display(), .bin_dir.display()
    )]
    VersionMismatch { cluster_dir: PathBuf, cluster_version: String, bin_dir: PathBuf, found_version: String },

    #[error("unsafe socket directory {}: {reason}", .path.display())]
    UnsafeSocketDir { path: PathBuf, reason: String },

    #[error("{what} (see {})", .log_file.display())]
    Timeout { what: String, log_file: PathBuf },
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "(nothing)".to_string();
    }
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Io { context, source }
}

/// The account the server processes run as, when we are root.
#[derive(Debug, Clone)]
struct RunAs {
    name: String,
    uid: Uid,
    gid: Gid,
}

/// A running private PostgreSQL cluster; stopped by [`PrivateCluster::stop`] or on drop.
#[derive(Debug)]
pub struct PrivateCluster {
    bin_dir: PathBuf,
    cluster_dir: PathBuf,
    socket_dir: PathBuf,
    /// Whether `socket_dir` is the `/tmp` fallback (removed on stop).
    socket_dir_is_fallback: bool,
    log_file: PathBuf,
    port: u16,
    run_as: Option<RunAs>,
    running: bool,
    /// Whether this start ran `initdb` (the tests look).
    #[cfg_attr(not(test), allow(dead_code))]
    newly_created: bool,
    reused_running_server: bool,
}

impl PrivateCluster {
    /// Creates (initdb: UTF8, locale C.UTF-8 falling back to C, `trust` on the
    /// local socket only, superuser `postgres`) the cluster in
    /// `<data_dir>/postgres` if it does not exist, else reuses it, and starts
    /// it with `pg_ctl start -w` (log in `<cluster>/server.log`).
    ///
    /// A stale `postmaster.pid` left by a crashed run is recovered from; a
    /// postmaster of this very cluster that is still running (e.g. after the
    /// service was killed with SIGKILL) is reused.  When running as root the
    /// cluster is owned by and run as [`UNPRIVILEGED_USER`].
    pub fn start(data_dir: &Path) -> Result<PrivateCluster, ClusterError> {
        let mut bin_dir = find_pg_bin_dir()?;
        let run_as = unprivileged_account()?;

        fs::create_dir_all(data_dir).map_err(io_err(format!("creating data directory {}", data_dir.display())))?;
        let data_dir =
            data_dir.canonicalize().map_err(io_err(format!("resolving data directory {}", data_dir.display())))?;
        if let Some(ra) = &run_as {
            check_traversable(&bin_dir, &data_dir, ra)?;
        }

        let cluster_dir = data_dir.join(CLUSTER_DIR_NAME);
        let newly_created = if cluster_dir.join("PG_VERSION").is_file() {
            let cluster_version = read_trimmed(&cluster_dir.join("PG_VERSION"))?;
            bin_dir = bin_dir_for_version(bin_dir, &cluster_dir, &cluster_version)?;
            if let Some(ra) = &run_as {
                ensure_tree_owner(&cluster_dir, ra)?;
            }
            set_mode(&cluster_dir, 0o700)?;
            tracing::info!(cluster_dir = %cluster_dir.display(), version = %cluster_version,
                "reusing existing private PostgreSQL cluster");
            false
        } else {
            create_cluster(&bin_dir, &data_dir, &cluster_dir, run_as.as_ref())?;
            true
        };

        let (socket_dir, socket_dir_is_fallback) =
            prepare_socket_dir(&cluster_dir, PRIVATE_CLUSTER_PORT, run_as.as_ref())?;
        write_config(&cluster_dir, &socket_dir, PRIVATE_CLUSTER_PORT, run_as.as_ref())?;

        let mut cluster = PrivateCluster {
            bin_dir,
            log_file: cluster_dir.join(LOG_FILE_NAME),
            cluster_dir,
            socket_dir,
            socket_dir_is_fallback,
            port: PRIVATE_CLUSTER_PORT,
            run_as,
            running: false,
            newly_created,
            reused_running_server: false,
        };
        // From here on, an error drops `cluster`, which stops a server we started.
        cluster.start_or_reuse()?;
        Ok(cluster)
    }

    /// A libpq (and so diesel) connection URL for `dbname` over the Unix socket:
    /// `postgres://postgres@localhost/<dbname>?host=<socket dir>&port=54320`
    /// (database name and socket directory percent-encoded).
    pub fn database_url(&self, dbname: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost/{}?host={}&port={}",
            percent_encode(dbname.as_bytes(), false),
            percent_encode(self.socket_dir.as_os_str().as_bytes(), true),
            self.port
        )
    }

    /// Stops the server of the cluster under `data_dir` if it is running (adopting it, as
    /// [`PrivateCluster::start`] does); returns whether it was.
    pub fn stop_if_running(data_dir: &Path) -> Result<bool, ClusterError> {
        if !data_dir.join(CLUSTER_DIR_NAME).join("postmaster.pid").exists() {
            return Ok(false);
        }
        PrivateCluster::start(data_dir)?.stop()?;
        Ok(true)
    }

    /// Stops the server (`pg_ctl stop -m fast -w`).  Idempotent; also done on drop.
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        if !self.running {
            return Ok(());
        }
        self.pg_ctl_stop()?;
        self.running = false;
        if self.socket_dir_is_fallback {
            let _ = fs::remove_dir(&self.socket_dir);
        }
        tracing::info!(cluster_dir = %self.cluster_dir.display(), "private PostgreSQL cluster stopped");
        Ok(())
    }

    /// Leaves the server running when this handle is dropped: for a short command (such as
    /// `registry clients add`) that found the server already running for a `serve`.
    pub fn detach(&mut self) {
        self.running = false;
    }

    /// Whether this start found the server of this cluster already running
    /// (left by an earlier run that did not stop it) and adopted it.
    pub fn reused_running_server(&self) -> bool {
        self.reused_running_server
    }

    /// Creates database `dbname` if it does not exist (via `psql` from the
    /// bin dir).  Returns whether it was created.
    pub fn ensure_database(&self, dbname: &str) -> Result<bool, ClusterError> {
        let script = "SELECT format('CREATE DATABASE %I', :'dbname') \
                      WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'dbname') \\gexec\n";
        let exists_before = self.database_exists(dbname)?;
        let mut cmd = self.psql_with_dbname(dbname);
        run_with_stdin(&mut cmd, script.as_bytes())?;
        if !exists_before {
            tracing::info!(dbname, "created database in private PostgreSQL cluster");
        }
        Ok(!exists_before)
    }

    /// `psql` on the `postgres` database reading a script from standard input, with the psql
    /// variable `dbname` set (quoted in the script as `:'dbname'`, never spliced into SQL).
    fn psql_with_dbname(&self, dbname: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join("psql"));
        cmd.arg("-X")
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-v"])
            .arg(format!("dbname={dbname}"))
            .arg("-d")
            .arg(self.database_url("postgres"))
            .args(["-At", "-f", "-"]);
        clean_env(&mut cmd);
        cmd
    }

    fn database_exists(&self, dbname: &str) -> Result<bool, ClusterError> {
        let mut cmd = self.psql_with_dbname(dbname);
        let out = run_with_stdin(&mut cmd, b"SELECT count(*) FROM pg_database WHERE datname = :'dbname';\n")?;
        Ok(String::from_utf8_lossy(&out.stdout).trim() != "0")
    }

    /// `pg_ctl stop -m fast -w`; Ok if the server turns out not to be running.
    fn pg_ctl_stop(&self) -> Result<(), ClusterError> {
        tracing::info!(cluster_dir = %self.cluster_dir.display(), "stopping private PostgreSQL cluster");
        let mut cmd = self.pg_ctl();
        cmd.arg("stop")
            .arg("-D")
            .arg(&self.cluster_dir)
            .args(["-m", "fast", "-w", "-t"])
            .arg(PG_CTL_TIMEOUT_SECS.to_string());
        if let Err(e) = run(&mut cmd, Some(&self.log_file)) {
            if self.cluster_dir.join("postmaster.pid").exists() {
                return Err(e);
            }
            // Not running any more (stopped by someone else): nothing to do.
            tracing::warn!(cluster_dir = %self.cluster_dir.display(),
                "private PostgreSQL cluster was not running any more");
        }
        Ok(())
    }

    fn pg_ctl(&self) -> Command {
        server_command(&self.bin_dir.join("pg_ctl"), self.run_as.as_ref())
    }

    /// Starts the server, or adopts a server of this cluster that is still running.
    fn start_or_reuse(&mut self) -> Result<(), ClusterError> {
        let pid_file = self.cluster_dir.join("postmaster.pid");
        let deadline = Instant::now() + Duration::from_secs(PG_CTL_TIMEOUT_SECS);
        let mut empty_seen = false;
        while let Some(info) = read_pid_file(&pid_file)? {
            if info.pid == 0 {
                // An empty pid file: a server is starting right now, or one
                // crashed while starting (postgres refuses to start then).
                if !empty_seen {
                    empty_seen = true;
                    std::thread::sleep(Duration::from_secs(2));
                    continue;
                }
                tracing::warn!(pid_file = %pid_file.display(), "removing empty postmaster.pid left by a crashed start");
                remove_if_exists(&pid_file)?;
                break;
            }
            match classify_pid(info.pid, &self.cluster_dir) {
                PidState::Gone => {
                    // pg_ctl/postgres handle a stale pid file whose process is gone
                    // (and postgres checks the old shared memory is unused).
                    tracing::info!(pid = info.pid, "postmaster.pid is stale (process gone)");
                    break;
                }
                PidState::NotOurs => {
                    // The pid is a zombie or belongs to an unrelated process
                    // (pid reuse, e.g. after a reboot): postgres would refuse
                    // to start, so remove the stale lock once no process of
                    // this cluster is left.
                    wait_no_cluster_processes(&self.cluster_dir, &self.log_file)?;
                    tracing::warn!(pid = info.pid, pid_file = %pid_file.display(),
                        "removing stale postmaster.pid (its process is not a running postmaster of this cluster)");
                    remove_if_exists(&pid_file)?;
                    remove_socket_files(&self.socket_dir, self.port)?;
                    break;
                }
                PidState::OurPostmaster => {
                    let matches =
                        info.socket_dir.as_deref() == Some(self.socket_dir.as_path()) && info.port == Some(self.port);
                    match info.status.as_deref() {
                        Some("ready") if matches => {
                            tracing::info!(pid = info.pid, cluster_dir = %self.cluster_dir.display(),
                                socket_dir = %self.socket_dir.display(),
                                "private PostgreSQL cluster is already running (left by an earlier run); reusing it");
                            self.running = true;
                            self.reused_running_server = true;
                            return Ok(());
                        }
                        Some("ready") => {
                            tracing::info!(
                                pid = info.pid,
                                "private PostgreSQL cluster is running with other socket settings; restarting it"
                            );
                            self.pg_ctl_stop()?;
                            continue;
                        }
                        _ if Instant::now() > deadline => {
                            return Err(ClusterError::Timeout {
                                what: format!(
                                    "the running server of {} (pid {}) did not become ready",
                                    self.cluster_dir.display(),
                                    info.pid
                                ),
                                log_file: self.log_file.clone(),
                            });
                        }
                        _ => std::thread::sleep(Duration::from_millis(200)),
                    }
                }
            }
        }
        self.pg_ctl_start()
    }

    fn pg_ctl_start(&mut self) -> Result<(), ClusterError> {
        rotate_log(&self.log_file)?;
        tracing::info!(cluster_dir = %self.cluster_dir.display(), socket_dir = %self.socket_dir.display(),
            port = self.port, log_file = %self.log_file.display(), bin_dir = %self.bin_dir.display(),
            "starting private PostgreSQL cluster");
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut cmd = self.pg_ctl();
            cmd.arg("start")
                .arg("-D")
                .arg(&self.cluster_dir)
                .arg("-l")
                .arg(&self.log_file)
                .args(["-w", "-t"])
                .arg(PG_CTL_TIMEOUT_SECS.to_string());
            match run(&mut cmd, Some(&self.log_file)) {
                Ok(_) => break,
                Err(ClusterError::CommandFailed { output, .. })
                    if attempt < 10 && output.contains("pre-existing shared memory block") =>
                {
                    // Backends of a killed postmaster are still exiting.
                    tracing::info!("old server processes still exiting; retrying start");
                    std::thread::sleep(Duration::from_secs(1));
                }
                Err(e) => {
                    // pg_ctl may have given up waiting while the server goes on starting.
                    if self.cluster_dir.join("postmaster.pid").exists() {
                        self.running = true;
                    }
                    return Err(e);
                }
            }
        }
        self.running = true;
        tracing::info!(cluster_dir = %self.cluster_dir.display(), socket_dir = %self.socket_dir.display(),
            "private PostgreSQL cluster started");
        Ok(())
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::error!(error = %e, cluster_dir = %self.cluster_dir.display(),
                "could not stop private PostgreSQL cluster");
        }
    }
}

// ---------------------------------------------------------------------------
// Finding the binaries

/// Where the PostgreSQL server binaries are (a directory holding `initdb`,
/// `pg_ctl` and `postgres`): the directories of `PATH` first, then
/// `/usr/lib/postgresql/*/bin`, highest version first.  Symlinks (e.g.
/// `/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb`) are
/// resolved so the result is the real bin directory.
fn find_pg_bin_dir() -> Result<PathBuf, ClusterError> {
    let path_var = std::env::var_os("PATH");
    let candidates = pg_bin_dir_candidates(path_var.as_deref(), Path::new(PG_LIB_ROOT));
    find_pg_bin_dir_in(&candidates)
}

/// The directories [`find_pg_bin_dir`] searches, in order: those of
/// `path_var` (a `PATH` value), then `<lib_root>/<version>/bin` highest
/// version first.
fn pg_bin_dir_candidates(path_var: Option<&OsStr>, lib_root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    if let Some(p) = path_var {
        out.extend(std::env::split_paths(p).filter(|d| !d.as_os_str().is_empty()));
    }
    let mut versions: Vec<(Vec<u64>, String, PathBuf)> = Vec::new();
    if let Ok(rd) = fs::read_dir(lib_root) {
        for entry in rd.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            versions.push((version_key(&name), name, entry.path().join("bin")));
        }
    }
    // Highest version first; names that are not versions last.
    versions.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    out.extend(versions.into_iter().map(|v| v.2));
    out
}

fn version_key(name: &str) -> Vec<u64> {
    let parts: Option<Vec<u64>> = name.split('.').map(|p| p.parse().ok()).collect();
    parts.unwrap_or_default()
}

/// The first of `candidates` that holds `initdb`, `pg_ctl` and `postgres`
/// (after resolving symlinks), else [`ClusterError::NoBinaries`].
fn find_pg_bin_dir_in(candidates: &[PathBuf]) -> Result<PathBuf, ClusterError> {
    candidates
        .iter()
        .find_map(|c| bin_dir_at(c))
        .ok_or_else(|| ClusterError::NoBinaries { searched: candidates.to_vec() })
}

fn bin_dir_at(candidate: &Path) -> Option<PathBuf> {
    let initdb = candidate.join("initdb");
    if !is_executable(&initdb) {
        return None;
    }
    let mut dirs = Vec::new();
    if let Some(real) = initdb.canonicalize().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
        dirs.push(real);
    }
    dirs.push(candidate.to_path_buf());
    dirs.into_iter().find(|d| ["initdb", "pg_ctl", "postgres"].iter().all(|b| is_executable(&d.join(b))))
}

fn is_executable(p: &Path) -> bool {
    fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Major version of the binaries in `bin_dir`, as PG_VERSION spells it ("15", "9.6").
fn bin_dir_version(bin_dir: &Path) -> Result<String, ClusterError> {
    let mut cmd = Command::new(bin_dir.join("pg_ctl"));
    cmd.arg("--version");
    let out = run(&mut cmd, None)?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "pg_ctl (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"
    let ver = text.split(')').nth(1).and_then(|s| s.split_whitespace().next()).unwrap_or("").to_string();
    let nums: Vec<&str> = ver.split(|c: char| !c.is_ascii_digit()).collect();
    Ok(match nums.first().and_then(|n| n.parse::<u32>().ok()) {
        Some(m) if m >= 10 => m.to_string(),
        Some(m) => format!("{m}.{}", nums.get(1).copied().unwrap_or("0")),
        None => ver,
    })
}

/// `found` if its version is `cluster_version`, else another installed bin
/// dir of that version, else [`ClusterError::VersionMismatch`].
fn bin_dir_for_version(found: PathBuf, cluster_dir: &Path, cluster_version: &str) -> Result<PathBuf, ClusterError> {
    let found_version = bin_dir_version(&found)?;
    if found_version == cluster_version {
        return Ok(found);
    }
    let path_var = std::env::var_os("PATH");
    let mut candidates = vec![Path::new(PG_LIB_ROOT).join(cluster_version).join("bin")];
    candidates.extend(pg_bin_dir_candidates(path_var.as_deref(), Path::new(PG_LIB_ROOT)));
    for c in candidates {
        if let Some(dir) = bin_dir_at(&c) {
            if bin_dir_version(&dir).ok().as_deref() == Some(cluster_version) {
                tracing::info!(bin_dir = %dir.display(), version = cluster_version,
                    "using PostgreSQL binaries matching the existing cluster");
                return Ok(dir);
            }
        }
    }
    Err(ClusterError::VersionMismatch {
        cluster_dir: cluster_dir.to_path_buf(),
        cluster_version: cluster_version.to_string(),
        bin_dir: found,
        found_version,
    })
}

// ---------------------------------------------------------------------------
// Accounts and permissions

fn unprivileged_account() -> Result<Option<RunAs>, ClusterError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match User::from_name(UNPRIVILEGED_USER) {
        Ok(Some(u)) if !u.uid.is_root() => Ok(Some(RunAs { name: u.name, uid: u.uid, gid: u.gid })),
        Ok(_) => Err(ClusterError::NoUnprivilegedUser { user: UNPRIVILEGED_USER.to_string() }),
        Err(source) => Err(ClusterError::UserLookup { user: UNPRIVILEGED_USER.to_string(), source }),
    }
}

/// Checks (for real, by starting a process as that account in `dir`) that
/// `ra` can reach `dir`; on failure names the first directory whose mode bits
/// deny it.
fn check_traversable(bin_dir: &Path, dir: &Path, ra: &RunAs) -> Result<(), ClusterError> {
    let mut cmd = server_command(&bin_dir.join("pg_ctl"), Some(ra));
    cmd.arg("--version").current_dir(dir);
    match cmd.output() {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Err(ClusterError::NotTraversable {
            user: ra.name.clone(),
            path: dir.to_path_buf(),
            blocking: first_unsearchable(dir, ra),
        }),
        Err(e) => Err(ClusterError::Io {
            context: format!("running {} as `{}` in {}", bin_dir.join("pg_ctl").display(), ra.name, dir.display()),
            source: e,
        }),
    }
}

fn first_unsearchable(dir: &Path, ra: &RunAs) -> Option<PathBuf> {
    let groups: Vec<Gid> = CString::new(ra.name.as_str())
        .ok()
        .and_then(|n| nix::unistd::getgrouplist(&n, ra.gid).ok())
        .unwrap_or_else(|| vec![ra.gid]);
    let mut ancestors: Vec<&Path> = dir.ancestors().collect();
    ancestors.reverse();
    for a in ancestors {
        let Ok(m) = fs::metadata(a) else { continue };
        let mode = m.mode();
        let ok = if m.uid() == ra.uid.as_raw() {
            mode & 0o100 != 0
        } else if groups.iter().any(|g| g.as_raw() == m.gid()) {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !ok {
            return Some(a.to_path_buf());
        }
    }
    None
}

fn chown_to(path: &Path, ra: Option<&RunAs>) -> Result<(), ClusterError> {
    if let Some(ra) = ra {
        std::os::unix::fs::lchown(path, Some(ra.uid.as_raw()), Some(ra.gid.as_raw())).map_err(io_err(format!(
            "changing owner of {} to {}",
            path.display(),
            ra.name
        )))?;
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), ClusterError> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(io_err(format!("setting mode {mode:o} on {}", path.display())))
}

/// Gives the whole cluster tree to `ra` if its top is owned by someone else
/// (e.g. created by an earlier non-root run).
fn ensure_tree_owner(cluster_dir: &Path, ra: &RunAs) -> Result<(), ClusterError> {
    let m = fs::symlink_metadata(cluster_dir).map_err(io_err(format!("inspecting {}", cluster_dir.display())))?;
    if m.uid() == ra.uid.as_raw() {
        return Ok(());
    }
    tracing::warn!(cluster_dir = %cluster_dir.display(), user = %ra.name,
        "cluster directory is owned by another account; changing its owner recursively");
    chown_tree(cluster_dir, ra)
}

fn chown_tree(path: &Path, ra: &RunAs) -> Result<(), ClusterError> {
    chown_to(path, Some(ra))?;
    let m = fs::symlink_metadata(path).map_err(io_err(format!("inspecting {}", path.display())))?;
    if m.is_dir() {
        let rd = fs::read_dir(path).map_err(io_err(format!("listing {}", path.display())))?;
        for entry in rd {
            let entry = entry.map_err(io_err(format!("listing {}", path.display())))?;
            chown_tree(&entry.path(), ra)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Creating the cluster

fn create_cluster(
    bin_dir: &Path,
    data_dir: &Path,
    cluster_dir: &Path,
    run_as: Option<&RunAs>,
) -> Result<(), ClusterError> {
    if let Ok(mut rd) = fs::read_dir(cluster_dir) {
        if rd.next().is_some() {
            return Err(ClusterError::NotACluster { path: cluster_dir.to_path_buf() });
        }
    }
    // initdb fills a temporary directory that is renamed into place only when
    // complete, so an interrupted initdb never leaves a half-made cluster.
    let tmp = data_dir.join(CLUSTER_INIT_DIR_NAME);
    if fs::symlink_metadata(&tmp).is_ok() {
        fs::remove_dir_all(&tmp).map_err(io_err(format!("removing leftover {}", tmp.display())))?;
    }
    tracing::info!(cluster_dir = %cluster_dir.display(), bin_dir = %bin_dir.display(),
        "creating private PostgreSQL cluster (initdb)");

    let mut last_err = None;
    for locale in ["C.UTF-8", "C"] {
        fs::DirBuilder::new().mode(0o700).create(&tmp).map_err(io_err(format!("creating {}", tmp.display())))?;
        chown_to(&tmp, run_as)?;
        set_mode(&tmp, 0o700)?;
        let mut cmd = server_command(&bin_dir.join("initdb"), run_as);
        cmd.arg("-D")
            .arg(&tmp)
            .args(["-U", SUPERUSER, "--encoding=UTF8"])
            .arg(format!("--locale={locale}"))
            .args(["--auth-local=trust", "--auth-host=reject"]);
        match run(&mut cmd, None) {
            Ok(_) => {
                last_err = None;
                break;
            }
            Err(e) => {
                tracing::warn!(locale, error = %e, "initdb failed");
                last_err = Some(e);
                if tmp.exists() {
                    fs::remove_dir_all(&tmp).map_err(io_err(format!("removing failed {}", tmp.display())))?;
                }
            }
        }
    }
    if let Some(e) = last_err {
        return Err(e);
    }

    fs::rename(&tmp, cluster_dir).map_err(io_err(format!(
        "renaming {} to {}",
        tmp.display(),
        cluster_dir.display()
    )))?;
    tracing::info!(cluster_dir = %cluster_dir.display(), "private PostgreSQL cluster created");
    Ok(())
}

fn write_config(cluster_dir: &Path, socket_dir: &Path, port: u16, run_as: Option<&RunAs>) -> Result<(), ClusterError> {
    let conf = cluster_dir.join("postgresql.conf");
    let text = fs::read_to_string(&conf).map_err(io_err(format!("reading {}", conf.display())))?;
    if !text.lines().any(|l| l.trim() == CONF_INCLUDE_LINE) {
        let mut f =
            fs::OpenOptions::new().append(true).open(&conf).map_err(io_err(format!("opening {}", conf.display())))?;
        writeln!(
            f,
            "\n# Added by registry: settings of the private cluster (rewritten on every start)\n{CONF_INCLUDE_LINE}"
        )
        .map_err(io_err(format!("writing {}", conf.display())))?;
    }

    let content = format!(
        "# Written by registry on every start of its private cluster; edits are lost.\n\
         # No TCP: the server listens only on its own Unix socket.\n\
         listen_addresses = ''\n\
         port = {port}\n\
         unix_socket_directories = '{}'\n\
         unix_socket_permissions = 0700\n",
        conf_quote(&socket_dir.to_string_lossy())
    );
    let path = cluster_dir.join(CONF_FILE_NAME);
    if fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
        fs::write(&path, content).map_err(io_err(format!("writing {}", path.display())))?;
        set_mode(&path, 0o600)?;
        chown_to(&path, run_as)?;
    }
    Ok(())
}

/// Escapes a value for a single-quoted postgresql.conf string.
fn conf_quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "''")
}

// ---------------------------------------------------------------------------
// The socket directory

fn socket_path_len(dir: &Path, port: u16) -> usize {
    dir.as_os_str().len() + format!("/.s.PGSQL.{port}").len()
}

/// Whether PostgreSQL can carry `dir` in `unix_socket_directories` as is
/// (a comma-separated list, with optional double quotes and trimmed blanks).
fn socket_dir_usable(dir: &Path, port: u16) -> bool {
    let bytes = dir.as_os_str().as_bytes();
    socket_path_len(dir, port) <= MAX_SOCKET_PATH
        && std::str::from_utf8(bytes).is_ok()
        && !bytes.iter().any(|&b| b == b',' || b == b'"' || b.is_ascii_whitespace() || b.is_ascii_control())
}

/// `/tmp/registry-pg-<16 hex digits of FNV-1a 64 of the cluster dir>`.
fn fallback_socket_dir(cluster_dir: &Path) -> PathBuf {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in cluster_dir.as_os_str().as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    PathBuf::from(format!("/tmp/registry-pg-{h:016x}"))
}

/// Chooses and prepares (owner, mode 0700) the socket directory.
fn prepare_socket_dir(cluster_dir: &Path, port: u16, run_as: Option<&RunAs>) -> Result<(PathBuf, bool), ClusterError> {
    let preferred = cluster_dir.join(SOCKET_DIR_NAME);
    if socket_dir_usable(&preferred, port) {
        match fs::DirBuilder::new().mode(0o700).create(&preferred) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err(format!("creating {}", preferred.display()))(e)),
        }
        chown_to(&preferred, run_as)?;
        set_mode(&preferred, 0o700)?;
        return Ok((preferred, false));
    }
    let dir = fallback_socket_dir(cluster_dir);
    tracing::info!(preferred = %preferred.display(), socket_dir = %dir.display(),
        "socket path under the cluster directory would be too long; using a directory under /tmp");
    let owner = run_as.map_or_else(nix::unistd::geteuid, |r| r.uid);
    match fs::symlink_metadata(&dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // mkdir is atomic: if someone else creates it first we fail and
            // inspect theirs below on the next start.
            fs::DirBuilder::new().mode(0o700).create(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
            chown_to(&dir, run_as)?;
            set_mode(&dir, 0o700)?;
        }
        Err(e) => return Err(io_err(format!("inspecting {}", dir.display()))(e)),
        Ok(m) => {
            if !m.is_dir() {
                return Err(ClusterError::UnsafeSocketDir {
                    path: dir,
                    reason: "exists and is not a directory; remove it".into(),
                });
            }
            if m.uid() != owner.as_raw() {
                return Err(ClusterError::UnsafeSocketDir {
                    path: dir,
                    reason: format!("owned by uid {} instead of uid {}; remove it", m.uid(), owner.as_raw()),
                });
            }
            if m.mode() & 0o777 != 0o700 {
                set_mode(&dir, 0o700)?;
            }
        }
    }
    Ok((dir, true))
}

fn remove_socket_files(socket_dir: &Path, port: u16) -> Result<(), ClusterError> {
    let sock = socket_dir.join(format!(".s.PGSQL.{port}"));
    remove_if_exists(&sock)?;
    remove_if_exists(&socket_dir.join(format!(".s.PGSQL.{port}.lock")))
}

fn remove_if_exists(p: &Path) -> Result<(), ClusterError> {
    match fs::remove_file(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(format!("removing {}", p.display()))(e)),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------
// postmaster.pid and processes

#[derive(Debug, Default)]
struct PidFileInfo {
    pid: i32,
    port: Option<u16>,
    socket_dir: Option<PathBuf>,
    status: Option<String>,
}

/// Parses `postmaster.pid` (line 1 pid, 4 port, 5 first socket dir, 8 status).
fn read_pid_file(path: &Path) -> Result<Option<PidFileInfo>, ClusterError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(format!("reading {}", path.display()))(e)),
    };
    let lines: Vec<&str> = text.lines().collect();
    let Some(pid) = lines.first().and_then(|l| l.trim().parse::<i32>().ok()) else {
        // Empty or being written: pid 0, handled by the caller.
        return Ok(Some(PidFileInfo::default()));
    };
    Ok(Some(PidFileInfo {
        pid,
        port: lines.get(3).and_then(|l| l.trim().parse().ok()),
        socket_dir: lines.get(4).map(|l| l.trim()).filter(|l| !l.is_empty()).map(PathBuf::from),
        status: lines.get(7).map(|l| l.trim().to_string()),
    }))
}

#[derive(Debug, PartialEq, Eq)]
enum PidState {
    /// No such process.
    Gone,
    /// A zombie, or a live process that is not a postmaster of this cluster.
    NotOurs,
    /// A live postgres process whose working directory is this cluster.
    OurPostmaster,
}

fn classify_pid(pid: i32, cluster_dir: &Path) -> PidState {
    if pid <= 0 {
        return PidState::Gone;
    }
    // EPERM means the process exists but belongs to someone else.
    if let Err(Errno::ESRCH) = kill(Pid::from_raw(pid), None) {
        return PidState::Gone;
    }
    if is_cluster_process(pid, cluster_dir) {
        PidState::OurPostmaster
    } else {
        PidState::NotOurs
    }
}

/// A live (not zombie) `postgres` process whose cwd is `cluster_dir`
/// (the postmaster and every backend chdir to the data directory).
fn is_cluster_process(pid: i32, cluster_dir: &Path) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let Ok(stat) = fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    // "pid (comm) S ..." – the state follows the last ')'.
    let state = stat.rsplit(')').next().and_then(|s| s.split_whitespace().next());
    if matches!(state, Some("Z") | Some("X") | None) {
        return false;
    }
    let comm = fs::read_to_string(proc_dir.join("comm")).unwrap_or_default();
    if !comm.trim().starts_with("postgres") && !comm.trim().starts_with("postmaster") {
        return false;
    }
    fs::read_link(proc_dir.join("cwd")).is_ok_and(|cwd| cwd == cluster_dir)
}

fn cluster_processes(cluster_dir: &Path) -> Vec<i32> {
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()))
        .filter(|&pid| is_cluster_process(pid, cluster_dir))
        .collect()
}

/// Waits (up to 30 s) until no process of the cluster is left, e.g. backends
/// of a killed postmaster, before its lock file may be removed.
fn wait_no_cluster_processes(cluster_dir: &Path, log_file: &Path) -> Result<(), ClusterError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = cluster_processes(cluster_dir);
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(ClusterError::Timeout {
                what: format!(
                    "processes of the private cluster {} are still running without their postmaster (pids {left:?})",
                    cluster_dir.display()
                ),
                log_file: log_file.to_path_buf(),
            });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

// ---------------------------------------------------------------------------
// Running commands

/// Removes environment variables that would redirect the server tools.
fn clean_env(cmd: &mut Command) {
    for v in [
        "PGDATA",
        "PGHOST",
        "PGHOSTADDR",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "PGOPTIONS",
        "PGSERVICE",
        "PGSERVICEFILE",
        "PGCTLTIMEOUT",
    ] {
        cmd.env_remove(v);
    }
}

/// A command for a server tool, run as `run_as` (when root) from `/`.
fn server_command(program: &Path, run_as: Option<&RunAs>) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir("/");
    clean_env(&mut cmd);
    if let Some(ra) = run_as {
        // std drops supplementary groups (setgroups(0)) when root changes uid.
        cmd.uid(ra.uid.as_raw()).gid(ra.gid.as_raw());
    }
    cmd
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn run(cmd: &mut Command, log_file: Option<&Path>) -> Result<Output, ClusterError> {
    cmd.stdin(Stdio::null());
    let command = describe(cmd);
    tracing::debug!(%command, "running");
    let out = cmd.output().map_err(io_err(format!("running `{command}`")))?;
    check_output(command, out, log_file)
}

fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Result<Output, ClusterError> {
    let command = describe(cmd);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io_err(format!("running `{command}`")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input).map_err(io_err(format!("writing to `{command}`")))?;
    }
    let out = child.wait_with_output().map_err(io_err(format!("running `{command}`")))?;
    check_output(command, out, None)
}

fn check_output(command: String, out: Output, log_file: Option<&Path>) -> Result<Output, ClusterError> {
    if out.status.success() {
        return Ok(out);
    }
    let mut output = String::new();
    output.push_str(String::from_utf8_lossy(&out.stdout).trim_end());
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !stderr.trim().is_empty() {
        if !output.is_empty() {
            output.push('\n');
        }
        output.push_str(stderr.trim_end());
    }
    if let Some(log) = log_file {
        if let Some(tail) = tail_of_file(log, 4096) {
            let _ = write!(output, "\n--- last lines of {} ---\n{}", log.display(), tail.trim_end());
        }
    }
    Err(ClusterError::CommandFailed { command, status: out.status.to_string(), output })
}

fn tail_of_file(path: &Path, max: u64) -> Option<String> {
    let mut f = fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(io::SeekFrom::Start(len.saturating_sub(max))).ok()?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    // Drop a partial first line.
    Some(match (len > max, text.find('\n')) {
        (true, Some(i)) => text[i + 1..].to_string(),
        _ => text,
    })
}

fn rotate_log(log_file: &Path) -> Result<(), ClusterError> {
    if fs::metadata(log_file).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES) {
        let old = log_file.with_extension("log.1");
        fs::rename(log_file, &old).map_err(io_err(format!("rotating {}", log_file.display())))?;
    }
    Ok(())
}

fn read_trimmed(path: &Path) -> Result<String, ClusterError> {
    fs::read_to_string(path).map(|s| s.trim().to_string()).map_err(io_err(format!("reading {}", path.display())))
}

/// Percent-encodes all but unreserved characters (and `/` when `keep_slash`).
fn percent_encode(bytes: &[u8], keep_slash: bool) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            s.push(b as char);
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the tests inspect of a started cluster.
    impl PrivateCluster {
        /// The directory of the server's Unix socket (the `host` of the URL).
        fn socket_dir(&self) -> &Path {
            &self.socket_dir
        }

        /// The cluster's data directory, `<data_dir>/postgres`.
        fn cluster_dir(&self) -> &Path {
            &self.cluster_dir
        }

        fn log_file(&self) -> &Path {
            &self.log_file
        }

        /// The directory of the PostgreSQL binaries in use (holds `psql` too, on Debian).
        fn bin_dir(&self) -> &Path {
            &self.bin_dir
        }

        /// Whether this start ran `initdb` (false when an existing cluster was reused).
        fn newly_created(&self) -> bool {
            self.newly_created
        }
    }

    /// A data directory that the unprivileged account can reach (under /tmp,
    /// mode 0755) and that stops any server left in it when dropped, even
    /// when a test fails.
    struct TestDataDir {
        dir: tempfile::TempDir,
    }

    impl TestDataDir {
        fn new() -> TestDataDir {
            Self::in_dir(Path::new("/tmp"))
        }

        fn in_dir(parent: &Path) -> TestDataDir {
            let dir = tempfile::Builder::new().prefix("registry-cluster-test-").tempdir_in(parent).expect("tempdir");
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
            TestDataDir { dir }
        }

        fn path(&self) -> &Path {
            self.dir.path()
        }
    }

    impl Drop for TestDataDir {
        fn drop(&mut self) {
            let Ok(data_dir) = self.dir.path().canonicalize() else {
                return;
            };
            let cluster_dir = data_dir.join(CLUSTER_DIR_NAME);
            if !cluster_dir.join("postmaster.pid").exists() {
                return;
            }
            if let (Ok(bin), Ok(ra)) = (find_pg_bin_dir(), unprivileged_account()) {
                let mut cmd = server_command(&bin.join("pg_ctl"), ra.as_ref());
                cmd.arg("stop").arg("-D").arg(&cluster_dir).args(["-m", "immediate", "-w"]);
                let _ = run(&mut cmd, None);
            }
            let _ = fs::remove_dir(fallback_socket_dir(&cluster_dir));
        }
    }

    /// The bin dir, or None (test skipped, loudly) where PostgreSQL is not installed.
    fn pg_available() -> Option<PathBuf> {
        match find_pg_bin_dir() {
            Ok(d) => Some(d),
            Err(e) => {
                eprintln!("SKIPPED: {e}");
                None
            }
        }
    }

    fn psql(cluster: &PrivateCluster, sql: &str) -> String {
        let out = Command::new(cluster.bin_dir().join("psql"))
            .arg("-X")
            .arg(cluster.database_url("postgres"))
            .args(["-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
            .output()
            .expect("running psql");
        assert!(
            out.status.success(),
            "psql {sql:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn postmaster_pid(cluster: &PrivateCluster) -> i32 {
        read_pid_file(&cluster.cluster_dir().join("postmaster.pid")).unwrap().expect("postmaster.pid").pid
    }

    #[test]
    fn start_query_stop_restart_reuses_cluster() {
        if pg_available().is_none() {
            return;
        }
        let data = TestDataDir::new();
        let mut cluster = PrivateCluster::start(data.path()).expect("start");
        assert!(cluster.newly_created());
        assert!(!cluster.reused_running_server());
        let data_canon = data.path().canonicalize().unwrap();
        assert_eq!(cluster.cluster_dir(), data_canon.join("postgres"));
        assert_eq!(cluster.socket_dir(), data_canon.join("postgres/socket"));
        assert!(cluster.socket_dir().join(".s.PGSQL.54320").exists());
        assert!(cluster.log_file().exists());

        assert_eq!(psql(&cluster, "select 1"), "1");
        // No TCP listener, UTF8, the expected superuser.
        assert_eq!(psql(&cluster, "show listen_addresses"), "");
        assert_eq!(psql(&cluster, "show server_encoding"), "UTF8");
        assert_eq!(psql(&cluster, "select current_user"), "postgres");
        psql(&cluster, "create table kept (v text); insert into kept values ('hello')");

        assert!(cluster.ensure_database("registry test").unwrap());
        assert!(!cluster.ensure_database("registry test").unwrap());
        let out = Command::new(cluster.bin_dir().join("psql"))
            .arg("-X")
            .arg(cluster.database_url("registry test"))
            .args(["-At", "-c", "select current_database()"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "registry test");

        cluster.stop().expect("stop");
        cluster.stop().expect("stop is idempotent");
        assert!(!cluster.cluster_dir().join("postmaster.pid").exists());
        drop(cluster);

        let cluster = PrivateCluster::start(data.path()).expect("restart");
        assert!(!cluster.newly_created(), "initdb must not run again");
        assert_eq!(psql(&cluster, "select v from kept"), "hello");
        if nix::unistd::geteuid().is_root() {
            let m = fs::metadata(cluster.cluster_dir()).unwrap();
            let pg = User::from_name(UNPRIVILEGED_USER).unwrap().unwrap();
            assert_eq!(m.uid(), pg.uid.as_raw());
            assert_eq!(m.mode() & 0o777, 0o700);
        }
        let pid_file = cluster.cluster_dir().join("postmaster.pid");
        drop(cluster); // Drop stops it.
        assert!(!pid_file.exists());
    }

    #[test]
    fn recovers_after_the_service_or_the_server_was_killed() {
        if pg_available().is_none() {
            return;
        }
        let data = TestDataDir::new();
        let cluster = PrivateCluster::start(data.path()).expect("start");
        psql(&cluster, "create table t (v int); insert into t values (42)");
        let pid = postmaster_pid(&cluster);
        // The service dies without stopping the cluster (kill -9 of registry).
        std::mem::forget(cluster);

        let cluster = PrivateCluster::start(data.path()).expect("start with server still running");
        assert!(cluster.reused_running_server());
        assert_eq!(postmaster_pid(&cluster), pid);
        assert_eq!(psql(&cluster, "select v from t"), "42");

        // Now the server itself is killed: a stale postmaster.pid is left
        // (and its pid may linger as an unreaped zombie).
        kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
        std::mem::forget(cluster);
        let deadline = Instant::now() + Duration::from_secs(10);
        while is_cluster_process(pid, &data.path().canonicalize().unwrap().join("postgres"))
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(data.path().join("postgres/postmaster.pid").exists());

        let mut cluster = PrivateCluster::start(data.path()).expect("start after kill -9 of the server");
        assert!(!cluster.reused_running_server());
        assert_ne!(postmaster_pid(&cluster), pid);
        assert_eq!(psql(&cluster, "select v from t"), "42");

        // A crash while the server was starting leaves an empty pid file.
        cluster.stop().unwrap();
        fs::write(cluster.cluster_dir().join("postmaster.pid"), "").unwrap();
        let cluster = PrivateCluster::start(data.path()).expect("start after an empty pid file");
        assert_eq!(psql(&cluster, "select v from t"), "42");
    }

    #[test]
    fn long_data_dir_uses_short_socket_dir_under_tmp() {
        if pg_available().is_none() {
            return;
        }
        let data = TestDataDir::new();
        let mut long = data.path().to_path_buf();
        for _ in 0..4 {
            long.push("a-rather-long-directory-name-to-push-the-socket-path");
            fs::create_dir(&long).unwrap();
            fs::set_permissions(&long, fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut cluster = PrivateCluster::start(&long).expect("start");
        let sock = cluster.socket_dir().to_path_buf();
        assert!(sock.starts_with("/tmp"), "{}", sock.display());
        assert_eq!(sock, fallback_socket_dir(cluster.cluster_dir()));
        let m = fs::metadata(&sock).unwrap();
        assert_eq!(m.mode() & 0o777, 0o700);
        assert_eq!(psql(&cluster, "select 1"), "1");
        cluster.stop().unwrap();
        assert!(!sock.exists(), "fallback socket dir is removed on stop");
    }

    #[test]
    fn unreachable_data_dir_is_reported() {
        if pg_available().is_none() || !nix::unistd::geteuid().is_root() {
            return;
        }
        let data = TestDataDir::new();
        let locked = data.path().join("locked");
        fs::create_dir(&locked).unwrap();
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o700)).unwrap();
        let err = PrivateCluster::start(&locked.join("data")).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ClusterError::NotTraversable { .. }), "{msg}");
        assert!(msg.contains(&locked.canonicalize().unwrap().display().to_string()), "{msg}");
    }

    #[test]
    fn no_binaries_says_what_to_install() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let searched = vec![a.path().to_path_buf(), b.path().join("15/bin")];
        let err = find_pg_bin_dir_in(&searched).unwrap_err();
        match &err {
            ClusterError::NoBinaries { searched: s } => assert_eq!(s, &searched),
            other => panic!("unexpected {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("apt-get install postgresql"), "{msg}");
        assert!(msg.contains("DATABASE_URL"), "{msg}");
        assert!(msg.contains(&a.path().display().to_string()), "{msg}");

        let candidates = pg_bin_dir_candidates(Some(a.path().as_os_str()), b.path());
        assert_eq!(candidates, vec![a.path().to_path_buf()]);
        assert!(matches!(find_pg_bin_dir_in(&candidates), Err(ClusterError::NoBinaries { .. })));
    }

    fn fake_bin_dir(dir: &Path, tools: &[&str]) {
        fs::create_dir_all(dir).unwrap();
        for t in tools {
            let p = dir.join(t);
            fs::write(&p, "#!/bin/sh\n").unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    #[test]
    fn search_order_path_first_then_highest_version() {
        let root = tempfile::tempdir().unwrap();
        let lib = root.path().join("lib");
        let all = ["initdb", "pg_ctl", "postgres"];
        for v in ["9.6", "15", "16", "notaversion"] {
            fake_bin_dir(&lib.join(v).join("bin"), &all);
        }
        fake_bin_dir(&lib.join("17").join("bin"), &["initdb", "pg_ctl"]); // incomplete
        let empty_path = root.path().join("empty");
        fs::create_dir(&empty_path).unwrap();

        let path_var = std::env::join_paths([&empty_path]).unwrap();
        let c = pg_bin_dir_candidates(Some(&path_var), &lib);
        let expect: Vec<PathBuf> = vec![
            empty_path.clone(),
            lib.join("17/bin"),
            lib.join("16/bin"),
            lib.join("15/bin"),
            lib.join("9.6/bin"),
            lib.join("notaversion/bin"),
        ];
        assert_eq!(c, expect);
        let found = find_pg_bin_dir_in(&c).unwrap();
        assert_eq!(found, lib.join("16/bin").canonicalize().unwrap());

        // A PATH directory with symlinks to the tools resolves to the real dir,
        // and PATH wins over the versioned directories.
        let links = root.path().join("links");
        fs::create_dir(&links).unwrap();
        for t in ["initdb", "pg_ctl", "postgres"] {
            std::os::unix::fs::symlink(lib.join("9.6/bin").join(t), links.join(t)).unwrap();
        }
        let path_var = std::env::join_paths([&empty_path, &links]).unwrap();
        let c = pg_bin_dir_candidates(Some(&path_var), &lib);
        assert_eq!(find_pg_bin_dir_in(&c).unwrap(), lib.join("9.6/bin").canonicalize().unwrap());
    }

    #[test]
    fn socket_dir_choice_and_url_encoding() {
        let short = Path::new("/var/lib/registry/postgres/socket");
        assert!(socket_dir_usable(short, PRIVATE_CLUSTER_PORT));
        let long = PathBuf::from(format!("/{}", "x".repeat(100)));
        assert!(!socket_dir_usable(&long, PRIVATE_CLUSTER_PORT));
        assert!(!socket_dir_usable(Path::new("/a,b/socket"), PRIVATE_CLUSTER_PORT));
        assert!(!socket_dir_usable(Path::new("/a b/socket"), PRIVATE_CLUSTER_PORT));
        let fb = fallback_socket_dir(Path::new("/some/where/postgres"));
        assert_eq!(fb, fallback_socket_dir(Path::new("/some/where/postgres")));
        assert_ne!(fb, fallback_socket_dir(Path::new("/some/where/else/postgres")));
        assert!(socket_path_len(&fb, PRIVATE_CLUSTER_PORT) <= MAX_SOCKET_PATH);
        assert_eq!(fb.to_str().unwrap().len(), "/tmp/registry-pg-".len() + 16);

        assert_eq!(percent_encode(b"/tmp/a b&c", true), "/tmp/a%20b%26c");
        assert_eq!(percent_encode(b"x/y", false), "x%2Fy");
        assert_eq!(conf_quote("it's\\"), "it''s\\\\");
        let pf = tempfile::NamedTempFile::new().unwrap();
        fs::write(pf.path(), "123\n/data\n1700000000\n54320\n/sock\n\n 1 2\nready   \n").unwrap();
        let info = read_pid_file(pf.path()).unwrap().unwrap();
        assert_eq!(info.pid, 123);
        assert_eq!(info.port, Some(54320));
        assert_eq!(info.socket_dir.as_deref(), Some(Path::new("/sock")));
        assert_eq!(info.status.as_deref(), Some("ready"));
    }
}
