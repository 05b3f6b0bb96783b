//! `registry import FILE`: the command's progress bar and report around [`load::run`], which
//! loads the file.

pub mod load;

pub use load::{run, Options, Progress, Summary};

use std::time::Instant;

use diesel::PgConnection;
use indicatif::ProgressBar;

use crate::cli::config::{Global, ImportArgs};
use crate::cli::database::connect;
use crate::cli::progress;
use crate::cli::reindex::rebuild_index;
use crate::domain::reference_data;
use crate::indexer::{self, StreamBuild};
use crate::store::import::Refusal;

/// Refused lines listed in the summary at the end (all are in `import_refusals`).
const LISTED_REFUSALS: usize = 1000;

/// `registry import FILE`: loads NDJSON of full records in batches through COPY (resumable), then
/// rebuilds the search index.
pub fn import(global: &Global, args: &ImportArgs) -> anyhow::Result<()> {
    let (_db, mut conn) = connect(global)?;
    let reference = reference_data::reference();
    let bar = Bar {
        bar: progress::bar(
            0,
            "import {bar:40} {percent:>3}% {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
        ),
        started: Instant::now(),
    };
    let options = Options { file: args.file.clone(), max_errors: args.max_errors, batch: args.batch as usize };
    // The search index is built from the batches as they commit, on its own thread; when that
    // cannot stand for the register (see `StreamBuild`), it is rebuilt from PostgreSQL after.
    let stream = if args.no_index { None } else { Some(StreamBuild::start(&global.index_dir())?) };
    let indexer = stream.as_ref().map(|s| s as &dyn indexer::ImportSink);
    let summary = run(&mut conn, &reference, &options, &bar, indexer)?;
    bar.bar.finish_and_clear();
    let file = args.file.display().to_string();
    report_load(&file, &summary);
    list_refusals(&file, &summary);
    if let Some(stream) = stream.filter(|_| summary.enterprises > 0) {
        finish_index(stream, &mut conn, global)?;
    }
    println!(
        "{} enterprises ({} versions) loaded from {file} in all, {} lines refused",
        summary.total_enterprises,
        summary.total_versions,
        summary.refusals.len()
    );
    if summary.stopped {
        anyhow::bail!(
            "stopped after {} refused lines (--max-errors); run the import again to go on from line {}",
            summary.refused_now,
            summary.refusals.last().map_or(1, |r| r.line + 1)
        );
    }
    Ok(())
}

/// The import's progress on a bar: bytes of the file, enterprises loaded, lines refused.
struct Bar {
    bar: ProgressBar,
    started: Instant,
}

impl Progress for Bar {
    fn start(&self, size: u64, offset: u64) {
        self.bar.set_length(size);
        self.bar.set_position(offset);
        self.bar.reset_eta();
    }

    fn committed(&self, offset: u64, enterprises: u64, refused: u64) {
        self.bar.set_position(offset);
        let rate = enterprises as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        self.bar.set_message(format!("{enterprises} enterprises ({rate:.0}/s), {refused} refused"));
    }

    fn refused(&self, r: &Refusal) {
        self.bar.suspend(|| eprintln!("line {}: refused: {}", r.line, describe_refusal(r)));
    }
}

/// What this run loaded (or that the file was imported whole before), and the indexes and keys
/// built after the load.
fn report_load(file: &str, summary: &Summary) {
    if summary.already_done {
        eprintln!("{file} was imported whole before (run {}): nothing to do", summary.run_id);
    } else {
        let secs = summary.elapsed.as_secs_f64();
        tracing::info!(
            run = summary.run_id,
            enterprises = summary.enterprises,
            versions = summary.versions,
            refused = summary.refused_now,
            elapsed_s = secs,
            "import done"
        );
        if let Some(line) = summary.resumed_at_line {
            eprintln!("resumed an interrupted import of {file} at line {line}");
        }
        eprintln!(
            "loaded {} enterprises ({} versions) in {secs:.1} s ({:.0} enterprises/s); {} lines refused",
            summary.enterprises,
            summary.versions,
            summary.enterprises as f64 / secs.max(0.001),
            summary.refused_now
        );
    }
    let built = summary.built_after_load;
    if built != Default::default() {
        eprintln!(
            "built {} secondary indexes and added {} foreign keys deferred during the load",
            built.indexes, built.keys
        );
    }
}

/// The lines of the file refused by every run, the first [`LISTED_REFUSALS`] of them.
fn list_refusals(file: &str, summary: &Summary) {
    if summary.refusals.is_empty() {
        return;
    }
    eprintln!("refused lines of {file} (every run):");
    for r in summary.refusals.iter().take(LISTED_REFUSALS) {
        eprintln!("  line {}: {}", r.line, describe_refusal(r));
    }
    if summary.refusals.len() > LISTED_REFUSALS {
        eprintln!(
            "  … and {} more: SELECT * FROM import_refusals WHERE run_id = {}",
            summary.refusals.len() - LISTED_REFUSALS,
            summary.run_id
        );
    }
}

/// Commits the search index built during the load and swaps it in, or rebuilds it from
/// PostgreSQL when the streamed one cannot stand for the register.
fn finish_index(stream: StreamBuild, conn: &mut PgConnection, global: &Global) -> anyhow::Result<()> {
    let started = Instant::now();
    let spinner = progress::spinner("committing the search index built during the load");
    let streamed = stream.finish();
    spinner.finish_and_clear();
    match streamed? {
        Some((position, count)) => {
            tracing::info!(documents = count, position, "search index built during the import and swapped in");
            eprintln!(
                "indexed {count} enterprises at feed position {position} during the load (committed in {:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
        None => {
            let (position, count) = rebuild_index(conn, global)?;
            eprintln!(
                "indexed {count} enterprises at feed position {position} in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

fn describe_refusal(r: &Refusal) -> String {
    match &r.code {
        Some(code) => format!("{code}: {}", r.reason),
        None => r.reason.clone(),
    }
}
