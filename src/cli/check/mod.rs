//! `registry check`: the command's progress bar and report around the [`checks`].

pub mod checks;

pub use checks::{database, index, Finding, Progress};

use std::io::Write;

use diesel::{Connection, PgConnection};

use crate::cli::config::{CheckArgs, Global};
use crate::cli::database::open_database;
use crate::cli::progress;

/// `registry check`: database, feed and index consistency; an error (exit 1) when a check fails.
pub fn check(global: &Global, args: &CheckArgs) -> anyhow::Result<()> {
    struct Bar(indicatif::ProgressBar);
    impl Progress for Bar {
        fn stage(&self, name: &str, total: u64) {
            self.0.set_position(0);
            self.0.set_length(total);
            self.0.set_message(name.to_string());
        }
        fn advance(&self, n: u64) {
            self.0.inc(n);
        }
    }
    anyhow::ensure!((0..=1_000_000).contains(&args.sample), "--sample is 0 to 1000000");
    let db = open_database(global, false)?;
    let mut conn = PgConnection::establish(&db.url)?;
    let bar = progress::bar(0, "{msg:>10} {bar:40} {pos}/{len} {per_sec} eta {eta}");
    let mut findings = database(&mut conn, &Bar(bar.clone()))?;
    findings.extend(index(&mut conn, &global.index_dir(), args.sample)?);
    bar.finish_and_clear();
    let mut out = std::io::stdout().lock();
    for f in &findings {
        if args.json {
            writeln!(out, "{}", serde_json::to_string(f)?)?;
        } else {
            let examples =
                if f.examples.is_empty() { String::new() } else { format!(" (e.g. {})", f.examples.join(", ")) };
            writeln!(out, "{:<8} {:<16} {}{examples}", f.outcome, f.check, f.detail)?;
        }
    }
    let failed = findings.iter().filter(|f| f.is_failure()).count();
    anyhow::ensure!(failed == 0, "{failed} check(s) failed");
    Ok(())
}
