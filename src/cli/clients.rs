//! `registry clients`: API clients and their keys.

use std::io::Write;

use crate::cli::config::{ClientsCommand, Global};
use crate::cli::database::connect;
use crate::store::clients;

/// `registry clients add|list|revoke`: adds a client (printing its new key), lists them, revokes one.
pub fn clients(global: &Global, command: &ClientsCommand) -> anyhow::Result<()> {
    let (_db, mut conn) = connect(global)?;
    let mut out = std::io::stdout().lock();
    match command {
        ClientsCommand::Add { name, role } => {
            let name = name.trim();
            anyhow::ensure!(!name.is_empty() && name.len() <= 100, "a client name has 1 to 100 characters");
            let key = clients::add(&mut conn, name, *role)?;
            writeln!(out, "{key}")?;
            tracing::info!(client = name, role = role.as_str(), "client added");
        }
        ClientsCommand::List => {
            writeln!(out, "{:<30} {:<10} {:<25} {:<25} revoked", "name", "role", "created", "last used")?;
            for c in clients::list(&mut conn)? {
                let fmt = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_else(|| "-".into())
                };
                writeln!(
                    out,
                    "{:<30} {:<10} {:<25} {:<25} {}",
                    c.name,
                    c.role,
                    fmt(Some(c.created_at)),
                    fmt(c.last_used_at),
                    fmt(c.revoked_at)
                )?;
            }
        }
        ClientsCommand::Revoke { name } => {
            anyhow::ensure!(clients::revoke(&mut conn, name)?, "no active client is named {name:?}");
            writeln!(out, "revoked {name}")?;
            tracing::info!(client = name.as_str(), "client revoked");
        }
    }
    Ok(())
}
