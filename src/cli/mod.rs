//! The command line: `main` parses it with [`config::Cli`] and calls [`run`]; one module per command.

pub mod audit;
pub mod check;
pub mod clients;
pub mod cluster;
pub mod config;
pub mod database;
pub mod demo;
pub mod export;
pub mod generate;
pub mod import;
pub mod mirror;
pub mod output;
pub mod progress;
pub mod reindex;
pub mod serve;

pub use database::{open_database, prepare, Database};

use config::{Cli, Command};

/// Runs the command named on the command line.
pub fn run(args: &Cli) -> anyhow::Result<()> {
    let global = &args.global;
    match &args.command {
        Command::Serve(serve) => serve::serve(global, serve),
        Command::Migrate => database::migrate(global),
        Command::Reindex => reindex::reindex(global),
        Command::Export(export) => export::export(global, export),
        Command::Import(import) => import::import(global, import),
        Command::Generate(generate) => generate::generate(generate),
        Command::Mirror(mirror) => mirror::run(mirror),
        Command::Clients { command } => clients::clients(global, command),
        Command::Audit(audit) => audit::audit(global, audit),
        Command::Check(check) => check::check(global, check),
    }
}
