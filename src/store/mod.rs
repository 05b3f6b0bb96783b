//! The only place that speaks SQL: the connection pool, migrations, reference data, and the
//! transactions that write a record, its version and its feed event together.

pub mod access_log;
pub mod check;
pub mod clients;
pub mod enterprises;
pub mod feed;
pub mod idempotency;
pub mod import;
pub mod licenses;
pub mod mirror;
pub mod ownership;
pub mod prepared;
pub mod reference;
pub mod schedule;
pub mod schema;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type PgPool = Pool<ConnectionManager<PgConnection>>;
pub type Conn = PooledConnection<ConnectionManager<PgConnection>>;

/// What can go wrong below the domain: each maps to one HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The database cannot be reached (pool timeout, connection lost): try again later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

impl StoreError {
    /// Whether PostgreSQL ended the transaction for what other transactions did (a deadlock, a
    /// serialisation failure): nothing was written, and the same request may succeed again.
    pub fn is_transient(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            StoreError::Database(Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) => true,
            StoreError::Database(Error::DatabaseError(_, info)) => info.message().contains("deadlock detected"),
            _ => false,
        }
    }

    /// Whether the error says the connection is gone rather than the query was wrong.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Database(e) => is_connection_loss(e),
            _ => false,
        }
    }
}

/// What libpq and PostgreSQL say when the server is gone, shutting down or starting up (SQLSTATE
/// classes 08 and 57P0x), which diesel reports as unknown database errors.
const CONNECTION_LOSS: &[&str] = &[
    "no connection to the server",
    "server closed the connection unexpectedly",
    "terminating connection due to administrator command",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "could not connect to server",
    "connection to server",
    "SSL connection has been closed unexpectedly",
    "could not receive data from server",
    "could not send data to server",
];

/// Whether a diesel error means the connection to PostgreSQL is lost rather than the query failed.
pub fn is_connection_loss(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _) => true,
        Error::DatabaseError(_, info) => CONNECTION_LOSS.iter().any(|m| info.message().contains(m)),
        Error::BrokenTransactionManager => true,
        _ => false,
    }
}

/// A pool of `size` connections; a connection waits at most `timeout` to be handed out.
pub fn pool(url: &str, size: u32, timeout: Duration) -> Result<PgPool, StoreError> {
    let manager = ConnectionManager::<PgConnection>::new(url);
    Pool::builder()
        .max_size(size)
        .min_idle(Some(1.min(size)))
        .connection_timeout(timeout)
        .test_on_check_out(false)
        .build(manager)
        .map_err(StoreError::from)
}

/// Creates the database named in `url` when it does not exist, connecting to the server's
/// `postgres` database to do so.
pub fn ensure_database(url: &str) -> anyhow::Result<()> {
    if PgConnection::establish(url).is_ok() {
        return Ok(());
    }
    let parsed = url::Url::parse(url)?;
    let name = parsed.path().trim_start_matches('/').to_string();
    anyhow::ensure!(!name.is_empty(), "DATABASE_URL names no database");
    let mut admin_url = parsed.clone();
    admin_url.set_path("/postgres");
    let mut conn = PgConnection::establish(admin_url.as_str())
        .map_err(|e| anyhow::anyhow!("cannot connect to the PostgreSQL server to create database {name}: {e}"))?;
    let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "EXISTS (SELECT 1 FROM pg_database WHERE datname = {})",
        quote_literal(&name)
    )))
    .get_result(&mut conn)?;
    if !exists {
        match conn.batch_execute(&format!("CREATE DATABASE {}", quote_ident(&name))) {
            Ok(()) => tracing::info!(database = %name, "created the database"),
            // Another instance created it at the same moment.
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(e) if e.to_string().contains("already exists") => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Runs pending migrations under an advisory lock, so that several instances starting together
/// migrate once.
pub fn migrate(conn: &mut PgConnection) -> anyhow::Result<usize> {
    const LOCK: i64 = 0x5245_4749_5354_5259; // "REGISTRY"
    conn.batch_execute(&format!("SELECT pg_advisory_lock({LOCK})"))?;
    let result = conn.run_pending_migrations(MIGRATIONS).map(|v| v.len());
    conn.batch_execute(&format!("SELECT pg_advisory_unlock({LOCK})"))?;
    result.map_err(|e| anyhow::anyhow!("migrations failed: {e}"))
}

/// How many enterprises the register holds.
pub fn enterprise_count(conn: &mut PgConnection) -> Result<i64, StoreError> {
    Ok(schema::enterprises::table.count().get_result(conn)?)
}

/// Whether every embedded migration has been applied (for `/readyz`).
pub fn migrations_applied(conn: &mut PgConnection) -> Result<bool, StoreError> {
    conn.has_pending_migration(MIGRATIONS).map(|pending| !pending).map_err(|e| StoreError::Unavailable(e.to_string()))
}

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Whether a diesel error is a unique violation.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}
