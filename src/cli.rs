//! What each command does. `main` parses the command line and calls in here.

use std::io::Write;
use std::time::Duration;

use actix_web::{web, HttpServer};
use anyhow::Context;
use diesel::{Connection, PgConnection};

use crate::api::{self, AppState};
use crate::cluster::PrivateCluster;
use crate::config::{AuditArgs, CheckArgs, ClientsCommand, ExportArgs, Global, ServeArgs};
use crate::reference_data;
use crate::search::{self, Search};
use crate::store::{self, clients};

/// The database a command works on, and the private cluster that serves it when there is no
/// `DATABASE_URL` (stopped when this is dropped, unless it was already running for another
/// command).
pub struct Database {
    pub url: String,
    pub cluster: Option<PrivateCluster>,
}

/// The database named by `DATABASE_URL` (created when missing), or the private cluster's
/// `registry` database under the data directory.
pub fn open_database(global: &Global, long_running: bool) -> anyhow::Result<Database> {
    if let Some(url) = &global.database_url {
        store::ensure_database(url)?;
        return Ok(Database { url: url.clone(), cluster: None });
    }
    tracing::info!(data_dir = %global.data_dir.display(), "no DATABASE_URL: using the private PostgreSQL cluster");
    let mut cluster = PrivateCluster::start(&global.data_dir).context("starting the private PostgreSQL cluster")?;
    if cluster.reused_running_server() && !long_running {
        cluster.detach();
    }
    cluster.ensure_database("registry").context("creating the registry database")?;
    Ok(Database { url: cluster.database_url("registry"), cluster: Some(cluster) })
}

/// Migrates and loads the reference data.
pub fn prepare(url: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(url).context("connecting to the database")?;
    let applied = store::migrate(&mut conn)?;
    if applied > 0 {
        tracing::info!(applied, "migrations applied");
    }
    let loaded = store::reference::load(&mut conn, &reference_data::reference(), &reference_data::SOURCES)?;
    if loaded {
        tracing::info!("reference data loaded");
    }
    Ok(())
}

pub fn migrate(global: &Global) -> anyhow::Result<()> {
    let db = open_database(global, false)?;
    prepare(&db.url)?;
    println!("migrations applied, reference data loaded");
    Ok(())
}

pub fn serve(global: &Global, args: &ServeArgs) -> anyhow::Result<()> {
    let db = open_database(global, true)?;
    prepare(&db.url)?;
    let pool = store::pool(&db.url, global.pool_size, Duration::from_secs(5))?;
    let reference = reference_data::reference();
    if args.demo {
        crate::demo::load(&pool, &reference, args.demo_count)?;
    }
    let search = Search::open(&global.index_dir())?;
    tracing::info!(position = ?search.index().position(), documents = search.index().num_docs(), "search index opened");
    search.follow(pool.clone(), Duration::from_millis(args.index_poll_ms));
    let feed = api::feed::FeedWaker::new(&db.url);
    let state = web::Data::new(
        AppState::new(pool, reference, search, feed).with_limits(args.limits()).with_cache(args.cache_mb << 20),
    );
    let access = state.access.clone();
    let workers = args.workers.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
    let server = HttpServer::new(move || api::app(state.clone()))
        .workers(workers)
        .shutdown_timeout(args.shutdown_timeout)
        .client_request_timeout(Duration::from_secs(10))
        .client_disconnect_timeout(Duration::from_secs(5))
        .bind(&args.bind)
        .with_context(|| format!("binding {}", args.bind))?;
    for addr in server.addrs() {
        tracing::info!(%addr, "listening; API documentation at http://{addr}/docs");
    }
    actix_web::rt::System::new().block_on(server.run())?;
    // Reads logged by requests that finished during shutdown are written before the database goes.
    access.shutdown();
    tracing::info!("stopped");
    drop(db);
    Ok(())
}

pub fn clients(global: &Global, command: &ClientsCommand) -> anyhow::Result<()> {
    let db = open_database(global, false)?;
    prepare(&db.url)?;
    let mut conn = PgConnection::establish(&db.url)?;
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

/// `registry check`: database, feed and index consistency; an error (exit 1) when a check fails.
pub fn check(global: &Global, args: &CheckArgs) -> anyhow::Result<()> {
    use indicatif::{ProgressBar, ProgressStyle};
    struct Bar(ProgressBar);
    impl crate::check::Progress for Bar {
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
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let mut findings = crate::check::database(&mut conn, &Bar(bar.clone()))?;
    findings.extend(crate::check::index(&mut conn, &global.index_dir(), args.sample)?);
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

/// `registry audit CODE`: the personal-data access log of one enterprise.
pub fn audit(global: &Global, args: &AuditArgs) -> anyhow::Result<()> {
    use crate::domain::code::EnterpriseCode;
    use crate::store::{access_log, enterprises};
    let code = EnterpriseCode::parse(&args.code)
        .map_err(|e| anyhow::anyhow!("{:?} is not an enterprise code: {e}", args.code))?;
    anyhow::ensure!((1..=100_000).contains(&args.limit), "--limit is 1 to 100000");
    let db = open_database(global, false)?;
    prepare(&db.url)?;
    let mut conn = PgConnection::establish(&db.url)?;
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

/// `registry reindex`: rebuilds the search index from one snapshot of the database into a new
/// generation and swaps it in; a running service keeps serving the old one until it switches.
pub fn reindex(global: &Global) -> anyhow::Result<()> {
    let db = open_database(global, false)?;
    prepare(&db.url)?;
    let mut conn = PgConnection::establish(&db.url)?;
    struct Bar(indicatif::ProgressBar);
    impl search::Progress for Bar {
        fn total(&self, n: u64) {
            self.0.set_length(n);
        }
        fn advance(&self, n: u64) {
            self.0.inc(n);
        }
    }
    let bar = Bar(indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("reindex {bar:40} {pos}/{len} enterprises {per_sec} eta {eta}")
            .expect("valid template"),
    ));
    let started = std::time::Instant::now();
    let (position, count) = search::rebuild(&mut conn, &global.index_dir(), &bar)?;
    bar.0.finish_and_clear();
    tracing::info!(
        documents = count,
        position,
        elapsed_s = started.elapsed().as_secs_f64(),
        "search index rebuilt and swapped in"
    );
    println!("indexed {count} enterprises at feed position {position} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// `registry export FILE`: the same NDJSON as `GET /v1/export`, from one snapshot, written through
/// a temporary file beside FILE that is renamed at the end (FILE is never half written).
pub fn export(global: &Global, args: &ExportArgs) -> anyhow::Result<()> {
    use indicatif::{ProgressBar, ProgressStyle};

    let db = open_database(global, false)?;
    prepare(&db.url)?;
    let mut conn = PgConnection::establish(&db.url).context("connecting to the database")?;
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
    let mut out = api::feed::ExportWriter::new(file, gzip);
    let written = api::feed::write_export(
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
