//! The database a command works on: `DATABASE_URL`, or the private cluster under the data
//! directory; migrated and loaded with the reference data before use.

use anyhow::Context;
use diesel::{Connection, PgConnection};

use crate::cli::cluster::PrivateCluster;
use crate::cli::config::Global;
use crate::domain::reference_data;
use crate::store;

/// The database a command works on, and the private cluster that serves it when there is no
/// `DATABASE_URL` (stopped when this is dropped, unless it was already running for another
/// command).
pub struct Database {
    pub url: String,
    pub cluster: Option<PrivateCluster>,
}

/// The database named by `DATABASE_URL` (created when missing), or the private cluster's
/// `registry` database under the data directory.
pub fn open_database(global: &Global, long_running: bool) -> anyhow::Result<Database> {
    if let Some(url) = &global.database_url {
        store::ensure_database(url)?;
        return Ok(Database { url: url.clone(), cluster: None });
    }
    tracing::info!(data_dir = %global.data_dir.display(), "no DATABASE_URL: using the private PostgreSQL cluster");
    let mut cluster = PrivateCluster::start(&global.data_dir).context("starting the private PostgreSQL cluster")?;
    if cluster.reused_running_server() && !long_running {
        cluster.detach();
    }
    cluster.ensure_database("registry").context("creating the registry database")?;
    Ok(Database { url: cluster.database_url("registry"), cluster: Some(cluster) })
}

/// Migrates the database at `url` and loads the reference data.
pub fn prepare(url: &str) -> anyhow::Result<()> {
    prepare_on(&mut PgConnection::establish(url).context("connecting to the database")?)
}

/// Migrates and loads the reference data over `conn`.
fn prepare_on(conn: &mut PgConnection) -> anyhow::Result<()> {
    let applied = store::migrate(conn)?;
    if applied > 0 {
        tracing::info!(applied, "migrations applied");
    }
    let loaded = store::reference::load(conn, &reference_data::reference(), &reference_data::SOURCES)?;
    if loaded {
        tracing::info!("reference data loaded");
    }
    Ok(())
}

/// The database, migrated and loaded, and one connection to it: what most commands start with.
pub fn connect(global: &Global) -> anyhow::Result<(Database, PgConnection)> {
    let db = open_database(global, false)?;
    let mut conn = PgConnection::establish(&db.url).context("connecting to the database")?;
    prepare_on(&mut conn)?;
    Ok((db, conn))
}

/// `registry migrate`.
pub fn migrate(global: &Global) -> anyhow::Result<()> {
    let db = open_database(global, false)?;
    prepare(&db.url)?;
    println!("migrations applied, reference data loaded");
    Ok(())
}
