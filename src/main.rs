use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use registry::cli::{self, config::Cli};

/// mimalloc instead of glibc's malloc: a bulk import spent 30 % of its own time in glibc's
/// allocator (perf at 200,000 records), and the service allocates as much per request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let args = Cli::parse();
    let filter = EnvFilter::try_new(&args.global.log).unwrap_or_else(|_| EnvFilter::new("info"));
    // Logs go to stderr: stdout carries command output (such as a new key) only. Colours only on a
    // terminal: a log file or a pipe gets plain text.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match cli::run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("registry: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
