//! `registry generate`: realistic full records for the benchmark and for trying an import.

use std::io::Write;

use anyhow::Context;

use crate::cli::config::GenerateArgs;
use crate::domain::reference_data;

/// `registry generate`: realistic full records, the same for a seed, to FILE (through a temporary
/// file renamed at the end, with a progress bar) or to standard output.
pub fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    use indicatif::{ProgressBar, ProgressStyle};
    use std::io::BufWriter;

    let today = crate::domain::legal_date(chrono::Utc::now());
    anyhow::ensure!(args.as_of <= today, "--as-of {} is after today ({today})", args.as_of);
    let mut generator =
        registry_generate::RecordGenerator::new(args.seed, reference_data::reference(), args.history, args.as_of);
    let Some(path) = &args.out else {
        let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        registry_generate::write_records(&mut generator, args.count, &mut out, &|_| {})?;
        out.flush()?;
        return Ok(());
    };
    let started = std::time::Instant::now();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().context("--out names no file")?.to_string_lossy().to_string();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let file = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let bar = ProgressBar::new(args.count).with_style(
        ProgressStyle::with_template("generate {bar:40} {pos}/{len} enterprises {per_sec} eta {eta}")
            .expect("valid template"),
    );
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let written =
        registry_generate::write_records(&mut generator, args.count, &mut out, &|n| bar.inc(n)).and_then(|()| {
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok(())
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("generating {}", path.display())));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    bar.finish_and_clear();
    eprintln!(
        "generated {} enterprises ({} history versions each) with seed {} in {:.1} s: {}",
        args.count,
        args.history,
        args.seed,
        started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(())
}
