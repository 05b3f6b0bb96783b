//! `registry export FILE`: the snapshot export written to a file.

use anyhow::Context;

use crate::api::feed::format::{write_export, ExportWriter};
use crate::cli::config::{ExportArgs, Global};
use crate::cli::database::connect;

/// `registry export FILE`: the same NDJSON as `GET /v1/export`, from one snapshot, written through
/// a temporary file beside FILE that is renamed at the end (FILE is never half written).
pub fn export(global: &Global, args: &ExportArgs) -> anyhow::Result<()> {
    use indicatif::{ProgressBar, ProgressStyle};

    let (_db, mut conn) = connect(global)?;
    let gzip = args.gzip || args.file.extension().is_some_and(|e| e == "gz");
    let dir = match args.file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = args.file.file_name().context("FILE names no file")?.to_string_lossy().to_string();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let file = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("export {bar:40} {pos}/{len} records {per_sec} eta {eta}")
            .expect("valid template"),
    );
    let mut out = ExportWriter::new(file, gzip);
    let written = write_export(
        &mut conn,
        &mut out,
        true,
        |head, total| {
            bar.set_length(total.unwrap_or(0).max(0) as u64);
            tracing::info!(head, "snapshot taken");
        },
        || bar.inc(1),
    )
    .map_err(anyhow::Error::from)
    .and_then(|n| {
        let file = out.finish()?;
        file.sync_all()?;
        Ok(n)
    });
    let n = match written {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.context(format!("exporting to {}", args.file.display())));
        }
    };
    std::fs::rename(&tmp, &args.file).with_context(|| format!("renaming to {}", args.file.display()))?;
    bar.finish_and_clear();
    eprintln!("exported {n} records to {}", args.file.display());
    Ok(())
}
