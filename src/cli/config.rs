//! The command line: one clap struct; every setting is a flag and an environment variable, its
//! default written once here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::domain::Role;

#[derive(Debug, Parser)]
#[command(name = "registry", version, about = "National Enterprise Registration Database service")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// PostgreSQL URL. Without it, a private cluster is created and run under the data directory.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Holds the search index and the private PostgreSQL cluster.
    #[arg(long, env = "REGISTRY_DATA_DIR", default_value = "./var", global = true)]
    pub data_dir: PathBuf,
    /// Log filter (tracing's EnvFilter syntax), e.g. `info` or `registry=debug,actix_web=info`.
    #[arg(long, env = "REGISTRY_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Where the search index lives (default: `index` under the data directory).
    #[arg(long, env = "REGISTRY_INDEX_DIR", global = true)]
    pub index_dir: Option<PathBuf>,
    /// Database connections per instance.
    #[arg(long, env = "REGISTRY_POOL_SIZE", default_value_t = 16, global = true)]
    pub pool_size: u32,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service.
    Serve(ServeArgs),
    /// Apply pending database migrations and load the reference data, then exit.
    Migrate,
    /// Rebuild the search index from the database (progress bar); a running service switches to
    /// the new index by itself.
    Reindex,
    /// Write a consistent snapshot of the register to FILE: NDJSON, a first line `{"cursor": ...}`
    /// then one record per line, as `GET /v1/export` answers.
    Export(ExportArgs),
    /// Load FILE, NDJSON of full records (as `export` or `generate` write them; consecutive lines
    /// with one code are that enterprise's versions, oldest first), through COPY in batches,
    /// building the search index as it goes. Resumable: run it again after an interruption.
    Import(ImportArgs),
    /// Write realistic synthetic full records (NDJSON, one line per version), the same for a seed.
    Generate(GenerateArgs),
    /// The reference consumer: mirror the register into another PostgreSQL database over HTTP, by
    /// an export, then by following the change feed. Restartable at any point.
    Mirror(MirrorArgs),
    /// Check the database, the change feed and the search index against each other; exits 1 when
    /// a check fails.
    Check(CheckArgs),
    /// Who read an enterprise's personal data, and when: full views, verifications, and the bulk
    /// reads (exports, change-feed pages) made since it was registered.
    Audit(AuditArgs),
    /// Manage API clients and their keys.
    Clients {
        #[command(subcommand)]
        command: ClientsCommand,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "REGISTRY_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Load demo registrations across the 34 provinces when the register is empty.
    #[arg(long, env = "REGISTRY_DEMO")]
    pub demo: bool,
    /// How many demo registrations to load.
    #[arg(long, env = "REGISTRY_DEMO_COUNT", default_value_t = 3000)]
    pub demo_count: usize,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "REGISTRY_WORKERS")]
    pub workers: Option<usize>,
    /// How often (milliseconds) the search index looks for new feed events.
    #[arg(long, env = "REGISTRY_INDEX_POLL_MS", default_value_t = 100)]
    pub index_poll_ms: u64,
    /// How often (seconds) the register's schedule looks for status changes, suspension ends and
    /// licence expiries that have fallen due (SPEC §2.3); it also looks once at start-up.
    #[arg(long, env = "REGISTRY_SCHEDULE_INTERVAL", default_value_t = 30)]
    pub schedule_interval: u64,
    /// Seconds to let requests in flight finish on shutdown.
    #[arg(long, env = "REGISTRY_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,
    /// Megabytes of current records each instance keeps in memory for look-ups (0: none). The
    /// search follower keeps them current from the change feed.
    #[arg(long, env = "REGISTRY_CACHE_MB", default_value_t = 256)]
    pub cache_mb: u64,
    /// Requests per second each API client may make (0: no limit); answered 429 beyond it.
    #[arg(long, env = "REGISTRY_RATE_CLIENT", default_value_t = 200)]
    pub rate_client: u32,
    /// Requests a client may make at once above its rate.
    #[arg(long, env = "REGISTRY_RATE_CLIENT_BURST", default_value_t = 400)]
    pub rate_client_burst: u32,
    /// Requests per second without a key from one address (0: no limit).
    #[arg(long, env = "REGISTRY_RATE_ADDRESS", default_value_t = 50)]
    pub rate_address: u32,
    /// Requests without a key one address may make at once above its rate.
    #[arg(long, env = "REGISTRY_RATE_ADDRESS_BURST", default_value_t = 100)]
    pub rate_address_burst: u32,
    /// Failed authentications per second one address may make before it is refused for a while.
    #[arg(long, env = "REGISTRY_RATE_AUTH_FAILURES", default_value_t = 2)]
    pub rate_auth_failures: u32,
}

impl ServeArgs {
    /// The rate limits these flags describe.
    pub fn limits(&self) -> crate::api::limits::LimitConfig {
        use crate::api::limits::{LimitConfig, Rate};
        LimitConfig {
            client: Rate { per_second: self.rate_client, burst: self.rate_client_burst },
            address: Rate { per_second: self.rate_address, burst: self.rate_address_burst },
            auth_failures: Rate { per_second: self.rate_auth_failures, burst: self.rate_auth_failures * 10 },
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Where to write (through a temporary file beside it, renamed at the end); `.gz` compresses.
    pub file: PathBuf,
    /// Compress with gzip whatever the file's name.
    #[arg(long, env = "REGISTRY_EXPORT_GZIP")]
    pub gzip: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The NDJSON file.
    pub file: PathBuf,
    /// Stop cleanly once this many lines were refused (default: never; every refused line is
    /// reported and the rest loads).
    #[arg(long, env = "REGISTRY_IMPORT_MAX_ERRORS")]
    pub max_errors: Option<u64>,
    /// Enterprise versions per transaction.
    #[arg(long, env = "REGISTRY_IMPORT_BATCH", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch: u64,
    /// Leave the search index as it is (rebuild it later with `registry reindex`).
    #[arg(long, env = "REGISTRY_IMPORT_NO_INDEX")]
    pub no_index: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many enterprises.
    #[arg(long)]
    pub count: u64,
    /// The random seed: the same seed (with the same options) gives the same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Earlier versions of each enterprise, written before its current record.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=50))]
    pub history: u32,
    /// The day the register is "as of" (nothing is registered or changed later).
    #[arg(long, default_value_t = registry_generate::default_as_of())]
    pub as_of: chrono::NaiveDate,
    /// Where to write (a progress bar on stderr); standard output when absent.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MirrorArgs {
    /// The register's base URL.
    #[arg(long, env = "REGISTRY_MIRROR_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An API key with the tax role (or admin).
    #[arg(long, env = "REGISTRY_MIRROR_KEY", hide_env_values = true)]
    pub key: String,
    /// PostgreSQL URL of the copy (created when missing); holds `mirror_enterprises` and `mirror_state`.
    #[arg(long, env = "REGISTRY_MIRROR_TARGET_URL", hide_env_values = true)]
    pub target_url: String,
    /// Stop once caught up instead of following the feed.
    #[arg(long, env = "REGISTRY_MIRROR_ONCE")]
    pub once: bool,
    /// Seconds each long poll waits for new events (1 to 30).
    #[arg(long, env = "REGISTRY_MIRROR_WAIT", default_value_t = 25, value_parser = clap::value_parser!(u64).range(1..=30))]
    pub wait: u64,
    /// Events per page (1 to 1000).
    #[arg(long, env = "REGISTRY_MIRROR_PAGE", default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub page: i64,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Enterprises sampled at random and looked up in the search index.
    #[arg(long, default_value_t = 1000)]
    pub sample: i64,
    /// One JSON object per check instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The enterprise's code, in any accepted form.
    pub code: String,
    /// Most recent reads to show.
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Create a client; prints only its new key on stdout (shown once, stored as a hash).
    Add {
        name: String,
        #[arg(long, value_parser = role_parser())]
        role: Role,
    },
    /// List clients: name, role, created, last used, revoked (never keys).
    List,
    /// Revoke a client's key, at once on every instance.
    Revoke { name: String },
}

/// A role named on the command line: one of the domain's roles, listed in `--help`.
fn role_parser() -> impl clap::builder::TypedValueParser<Value = Role> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Role::ALL.map(Role::as_str))
        .map(|name| Role::parse(&name).expect("the parser accepts only the roles' names"))
}

impl Global {
    /// The search index's directory.
    pub fn index_dir(&self) -> PathBuf {
        self.index_dir.clone().unwrap_or_else(|| self.data_dir.join("index"))
    }
}
