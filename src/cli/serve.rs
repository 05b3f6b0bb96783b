//! `registry serve`: the HTTP service, with the search index following the feed.

use std::time::Duration;

use actix_web::{web, HttpServer};
use anyhow::Context;

use crate::api::{self, AppState};
use crate::cli::config::{Global, ServeArgs};
use crate::cli::database::{open_database, prepare};
use crate::domain::reference_data;
use crate::indexer::Search;
use crate::store;

/// `registry serve`: prepares the database (a private cluster when none is given), loads the demo
/// data when asked, opens the search index and serves until stopped.
pub fn serve(global: &Global, args: &ServeArgs) -> anyhow::Result<()> {
    let db = open_database(global, true)?;
    prepare(&db.url)?;
    let pool = store::pool(&db.url, global.pool_size, Duration::from_secs(5))?;
    let reference = reference_data::reference();
    if args.demo {
        crate::cli::demo::load(&pool, &reference, args.demo_count)?;
    }
    let search = Search::open(&global.index_dir())?;
    tracing::info!(position = ?search.index().position(), documents = search.index().num_docs(), "search index opened");
    search.follow(pool.clone(), Duration::from_millis(args.index_poll_ms));
    // Prepared for serving while the service starts answering (see `indexer::warm_in_background`).
    crate::indexer::warm_in_background(search.index())?;
    store::schedule::run_in_background(pool.clone(), Duration::from_secs(args.schedule_interval.max(1)))?;
    store::ownership::run_in_background(pool.clone())?;
    let feed = api::feed::FeedWaker::new(&db.url);
    let state = web::Data::new(
        AppState::new(pool, reference, search, feed).with_limits(args.limits()).with_cache(args.cache_mb << 20),
    );
    let access = state.access.clone();
    let workers = args.workers.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
    let server = HttpServer::new(move || api::app(state.clone()))
        .workers(workers)
        .shutdown_timeout(args.shutdown_timeout)
        .client_request_timeout(Duration::from_secs(10))
        .client_disconnect_timeout(Duration::from_secs(5))
        .bind(&args.bind)
        .with_context(|| format!("binding {}", args.bind))?;
    for addr in server.addrs() {
        tracing::info!(%addr, "listening; API documentation at http://{addr}/docs");
    }
    actix_web::rt::System::new().block_on(server.run())?;
    // Reads logged by requests that finished during shutdown are written before the database goes.
    access.shutdown();
    tracing::info!("stopped");
    drop(db);
    Ok(())
}
