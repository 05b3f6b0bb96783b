use clap::Parser;
use tracing_subscriber::EnvFilter;

use registry::cli;
use registry::config::{Cli, Command};

/// mimalloc instead of glibc's malloc: a bulk import spent 30 % of its own time in glibc's
/// allocator (perf at 200,000 records), and the service allocates as much per request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let args = Cli::parse();
    let filter = EnvFilter::try_new(&args.global.log).unwrap_or_else(|_| EnvFilter::new("info"));
    // Logs go to stderr: stdout carries command output (such as a new key) only.
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let result = match &args.command {
        Command::Serve(serve) => cli::serve(&args.global, serve),
        Command::Migrate => cli::migrate(&args.global),
        Command::Reindex => cli::reindex(&args.global),
        Command::Export(export) => cli::export(&args.global, export),
        Command::Import(import) => cli::import(&args.global, import),
        Command::Generate(generate) => cli::generate(generate),
        Command::Mirror(mirror) => registry::mirror::run(mirror),
        Command::Clients { command } => cli::clients(&args.global, command),
        Command::Audit(audit) => cli::audit(&args.global, audit),
        Command::Check(check) => cli::check(&args.global, check),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("registry: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
