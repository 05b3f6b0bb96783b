//! `registry audit CODE`: who read an enterprise's personal data.

use std::io::Write;

use crate::cli::config::{AuditArgs, Global};
use crate::cli::database::connect;

/// `registry audit CODE`: the personal-data access log of one enterprise.
pub fn audit(global: &Global, args: &AuditArgs) -> anyhow::Result<()> {
    use crate::domain::code::EnterpriseCode;
    use crate::store::{access_log, enterprises};
    let code = EnterpriseCode::parse(&args.code)
        .map_err(|e| anyhow::anyhow!("{:?} is not an enterprise code: {e}", args.code))?;
    anyhow::ensure!((1..=100_000).contains(&args.limit), "--limit is 1 to 100000");
    let (_db, mut conn) = connect(global)?;
    let record = enterprises::get(&mut conn, &code)?.ok_or_else(|| anyhow::anyhow!("no enterprise has code {code}"))?;
    let reads = access_log::for_code(&mut conn, code.as_str(), args.limit)?;
    let registered =
        record.registered_on.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc() - chrono::Duration::hours(7);
    let bulk = access_log::bulk_since(&mut conn, registered)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        for r in &reads {
            writeln!(out, "{}", serde_json::to_string(r)?)?;
        }
        for b in &bulk {
            let line =
                serde_json::json!({"client": b.client, "action": b.action, "bulk_reads": b.count, "last": b.last});
            writeln!(out, "{line}")?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "{} {} ({} reads of its personal data shown, newest first)",
        record.code,
        record.name.vi,
        reads.len()
    )?;
    writeln!(out, "{:<25} {:<25} {:<10} {:<11} {:<24} request", "read at", "client", "role", "action", "detail")?;
    for r in &reads {
        writeln!(
            out,
            "{:<25} {:<25} {:<10} {:<11} {:<24} {}",
            r.read_at.format("%Y-%m-%d %H:%M:%S UTC"),
            r.client,
            r.role,
            r.action,
            r.detail.as_deref().unwrap_or("-"),
            r.request_id.as_deref().unwrap_or("-")
        )?;
    }
    if !bulk.is_empty() {
        writeln!(out, "\nBulk reads since it was registered on {} (an export holds every enterprise; a feed page, the events it lists):", record.registered_on)?;
        for b in &bulk {
            let last = b.last.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_default();
            writeln!(out, "  {:<25} {:<8} {:>8} reads, last {last}", b.client, b.action, b.count)?;
        }
    }
    Ok(())
}
