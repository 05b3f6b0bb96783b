//! `registry reindex`: the search index rebuilt from the database.

use diesel::PgConnection;

use crate::cli::config::Global;
use crate::cli::database::connect;
use crate::cli::progress;
use crate::indexer;

/// `registry reindex`: rebuilds the search index from one snapshot of the database into a new
/// generation and swaps it in; a running service keeps serving the old one until it switches.
pub fn reindex(global: &Global) -> anyhow::Result<()> {
    let (_db, mut conn) = connect(global)?;
    let started = std::time::Instant::now();
    let (position, count) = rebuild_index(&mut conn, global)?;
    println!("indexed {count} enterprises at feed position {position} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Rebuilds the search index with a progress bar (`registry reindex`, and after an import).
pub(crate) fn rebuild_index(conn: &mut PgConnection, global: &Global) -> anyhow::Result<(i64, u64)> {
    struct Bar(indicatif::ProgressBar);
    impl indexer::Progress for Bar {
        fn total(&self, n: u64) {
            self.0.set_length(n);
        }
        fn advance(&self, n: u64) {
            self.0.inc(n);
        }
    }
    let bar = Bar(progress::counting("reindex", 0, "enterprises"));
    let started = std::time::Instant::now();
    let (position, count) = indexer::rebuild(conn, &global.index_dir(), &bar)?;
    bar.0.finish_and_clear();
    tracing::info!(
        documents = count,
        position,
        elapsed_s = started.elapsed().as_secs_f64(),
        "search index rebuilt and swapped in"
    );
    Ok((position, count))
}
