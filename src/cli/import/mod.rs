//! `registry import FILE`: the command's progress bar and report around [`load::run`], which
//! loads the file.

pub mod load;

pub use load::{run, Options, Progress, Summary};

use crate::cli::config::{Global, ImportArgs};
use crate::cli::database::connect;
use crate::cli::reindex::rebuild_index;
use crate::domain::reference_data;
use crate::indexer;

/// Refused lines listed in the summary at the end (all are in `import_refusals`).
const LISTED_REFUSALS: usize = 1000;

/// `registry import FILE`: loads NDJSON of full records in batches through COPY (resumable), then
/// rebuilds the search index.
pub fn import(global: &Global, args: &ImportArgs) -> anyhow::Result<()> {
    use indicatif::{ProgressBar, ProgressStyle};

    use crate::store::import::Refusal;

    let (_db, mut conn) = connect(global)?;
    let reference = reference_data::reference();
    struct Bar {
        bar: ProgressBar,
        started: std::time::Instant,
    }
    impl crate::cli::import::Progress for Bar {
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
    let bar = Bar {
        bar: ProgressBar::new(0).with_style(
            ProgressStyle::with_template(
                "import {bar:40} {percent:>3}% {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
            )
            .expect("valid template"),
        ),
        started: std::time::Instant::now(),
    };
    let options = crate::cli::import::Options {
        file: args.file.clone(),
        max_errors: args.max_errors,
        batch: args.batch as usize,
    };
    // The search index is built from the batches as they commit, on its own thread; when that
    // cannot stand for the register (see `StreamBuild`), it is rebuilt from PostgreSQL after.
    let stream = if args.no_index { None } else { Some(indexer::StreamBuild::start(&global.index_dir())?) };
    let indexer = stream.as_ref().map(|s| s as &dyn indexer::ImportSink);
    let summary = crate::cli::import::run(&mut conn, &reference, &options, &bar, indexer)?;
    bar.bar.finish_and_clear();
    let file = args.file.display();
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
    if !summary.refusals.is_empty() {
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
    if let Some(stream) = stream.filter(|_| summary.enterprises > 0) {
        let started = std::time::Instant::now();
        let spinner =
            indicatif::ProgressBar::new_spinner().with_message("committing the search index built during the load");
        spinner.enable_steady_tick(std::time::Duration::from_millis(200));
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
                let (position, count) = rebuild_index(&mut conn, global)?;
                eprintln!(
                    "indexed {count} enterprises at feed position {position} in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
        }
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

fn describe_refusal(r: &crate::store::import::Refusal) -> String {
    match &r.code {
        Some(code) => format!("{code}: {}", r.reason),
        None => r.reason.clone(),
    }
}
