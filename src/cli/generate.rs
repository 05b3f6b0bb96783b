//! `registry generate`: realistic full records for the benchmark and for trying an import.

use std::io::{BufWriter, Write};
use std::time::Instant;

use anyhow::Context;
use registry_generate::{write_records, RecordGenerator};

use crate::cli::config::GenerateArgs;
use crate::cli::{output, progress};
use crate::domain::{legal_date, reference_data};

/// `registry generate`: realistic full records, the same for a seed, to FILE (through a temporary
/// file renamed at the end, with a progress bar) or to standard output.
pub fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let today = legal_date(chrono::Utc::now());
    anyhow::ensure!(args.as_of <= today, "--as-of {} is after today ({today})", args.as_of);
    let mut generator = RecordGenerator::new(args.seed, reference_data::reference(), args.history, args.as_of);
    let Some(path) = &args.out else {
        let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        write_records(&mut generator, args.count, &mut out, &|_| {})?;
        out.flush()?;
        return Ok(());
    };
    let started = Instant::now();
    let bar = progress::counting("generate", args.count, "enterprises");
    output::write_atomically(path, |file| {
        let mut out = BufWriter::with_capacity(1 << 20, file);
        write_records(&mut generator, args.count, &mut out, &|n| bar.inc(n))
            .and_then(|()| Ok(out.into_inner().map_err(|e| e.into_error())?))
            .map(|file| (file, ()))
            .with_context(|| format!("generating {}", path.display()))
    })?;
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
