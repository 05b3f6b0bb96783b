//! `registry export FILE`: the snapshot export written to a file.

use crate::api::feed::format::{write_export, ExportWriter};
use crate::cli::config::{ExportArgs, Global};
use crate::cli::database::connect;
use crate::cli::{output, progress};

/// `registry export FILE`: the same NDJSON as `GET /v1/export`, from one snapshot, written through
/// a temporary file beside FILE that is renamed at the end (FILE is never half written).
pub fn export(global: &Global, args: &ExportArgs) -> anyhow::Result<()> {
    let (_db, mut conn) = connect(global)?;
    let gzip = args.gzip || args.file.extension().is_some_and(|e| e == "gz");
    let bar = progress::counting("export", 0, "records");
    let exported = output::write_atomically(&args.file, |file| {
        let mut out = ExportWriter::new(file, gzip);
        let n = write_export(
            &mut conn,
            &mut out,
            true,
            |head, total| {
                bar.set_length(total.unwrap_or(0).max(0) as u64);
                tracing::info!(head, "snapshot taken");
            },
            || bar.inc(1),
        )?;
        Ok((out.finish()?, n))
    });
    let n = exported.map_err(|e| e.context(format!("exporting to {}", args.file.display())))?;
    bar.finish_and_clear();
    eprintln!("exported {n} records to {}", args.file.display());
    Ok(())
}
