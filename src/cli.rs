//! What each command does. `main` parses the command line and calls in here.

use std::io::Write;
use std::time::Duration;

use actix_web::{web, HttpServer};
use anyhow::Context;
use diesel::{Connection, PgConnection};

use crate::api::{self, AppState};
use crate::cluster::PrivateCluster;
use crate::config::{AuditArgs, CheckArgs, ClientsCommand, ExportArgs, GenerateArgs, Global, ImportArgs, ServeArgs};
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
    // Prepared for serving while the service starts answering (see `search::warm_in_background`).
    crate::search::warm_in_background(search.index())?;
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
    let started = std::time::Instant::now();
    let (position, count) = rebuild_index(&mut conn, global)?;
    println!("indexed {count} enterprises at feed position {position} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Rebuilds the search index with a progress bar (`registry reindex`, and after an import).
fn rebuild_index(conn: &mut PgConnection, global: &Global) -> anyhow::Result<(i64, u64)> {
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
    let (position, count) = search::rebuild(conn, &global.index_dir(), &bar)?;
    bar.0.finish_and_clear();
    tracing::info!(
        documents = count,
        position,
        elapsed_s = started.elapsed().as_secs_f64(),
        "search index rebuilt and swapped in"
    );
    Ok((position, count))
}

/// Refused lines listed in the summary at the end (all are in `import_refusals`).
const LISTED_REFUSALS: usize = 1000;

/// `registry import FILE`: loads NDJSON of full records in batches through COPY (resumable), then
/// rebuilds the search index.
pub fn import(global: &Global, args: &ImportArgs) -> anyhow::Result<()> {
    use indicatif::{ProgressBar, ProgressStyle};

    use crate::store::import::Refusal;

    let db = open_database(global, false)?;
    prepare(&db.url)?;
    let mut conn = PgConnection::establish(&db.url).context("connecting to the database")?;
    let reference = reference_data::reference();
    struct Bar {
        bar: ProgressBar,
        started: std::time::Instant,
    }
    impl crate::import::Progress for Bar {
        fn start(&self, size: u64, offset: u64) {
            self.bar.set_length(size);
            self.bar.set_position(offset);
            self.bar.reset_eta();
        }
        fn committed(&self, offset: u64, enterprises: u64, refused: u64) {
            self.bar.set_position(offset);
            let rate = enterprises as f64 / self.started.elapsed().as_secs_f64().max(0.001);
            self.bar.set_message(format!("{enterprises} enterprises ({rate:.0}/s), {refused} refused"));
        }
        fn refused(&self, r: &Refusal) {
            self.bar.suspend(|| eprintln!("line {}: refused: {}", r.line, describe_refusal(r)));
        }
    }
    let bar = Bar {
        bar: ProgressBar::new(0).with_style(
            ProgressStyle::with_template(
                "import {bar:40} {percent:>3}% {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta} {msg}",
            )
            .expect("valid template"),
        ),
        started: std::time::Instant::now(),
    };
    let options =
        crate::import::Options { file: args.file.clone(), max_errors: args.max_errors, batch: args.batch as usize };
    // The search index is built from the batches as they commit, on its own thread; when that
    // cannot stand for the register (see `StreamBuild`), it is rebuilt from PostgreSQL after.
    let stream = if args.no_index { None } else { Some(search::StreamBuild::start(&global.index_dir())?) };
    let indexer = stream.as_ref().map(|s| s as &dyn crate::import::Indexer);
    let summary = crate::import::run(&mut conn, &reference, &options, &bar, indexer)?;
    bar.bar.finish_and_clear();
    let file = args.file.display();
    if summary.already_done {
        eprintln!("{file} was imported whole before (run {}): nothing to do", summary.run_id);
    } else {
        let secs = summary.elapsed.as_secs_f64();
        tracing::info!(
            run = summary.run_id,
            enterprises = summary.enterprises,
            versions = summary.versions,
            refused = summary.refused_now,
            elapsed_s = secs,
            "import done"
        );
        if let Some(line) = summary.resumed_at_line {
            eprintln!("resumed an interrupted import of {file} at line {line}");
        }
        eprintln!(
            "loaded {} enterprises ({} versions) in {secs:.1} s ({:.0} enterprises/s); {} lines refused",
            summary.enterprises,
            summary.versions,
            summary.enterprises as f64 / secs.max(0.001),
            summary.refused_now
        );
    }
    let built = summary.built_after_load;
    if built != Default::default() {
        eprintln!(
            "built {} secondary indexes and added {} foreign keys deferred during the load",
            built.indexes, built.keys
        );
    }
    if !summary.refusals.is_empty() {
        eprintln!("refused lines of {file} (every run):");
        for r in summary.refusals.iter().take(LISTED_REFUSALS) {
            eprintln!("  line {}: {}", r.line, describe_refusal(r));
        }
        if summary.refusals.len() > LISTED_REFUSALS {
            eprintln!(
                "  … and {} more: SELECT * FROM import_refusals WHERE run_id = {}",
                summary.refusals.len() - LISTED_REFUSALS,
                summary.run_id
            );
        }
    }
    if let Some(stream) = stream.filter(|_| summary.enterprises > 0) {
        let started = std::time::Instant::now();
        let spinner =
            indicatif::ProgressBar::new_spinner().with_message("committing the search index built during the load");
        spinner.enable_steady_tick(std::time::Duration::from_millis(200));
        let streamed = stream.finish();
        spinner.finish_and_clear();
        match streamed? {
            Some((position, count)) => {
                tracing::info!(documents = count, position, "search index built during the import and swapped in");
                eprintln!(
                    "indexed {count} enterprises at feed position {position} during the load (committed in {:.1} s)",
                    started.elapsed().as_secs_f64()
                );
            }
            None => {
                let (position, count) = rebuild_index(&mut conn, global)?;
                eprintln!(
                    "indexed {count} enterprises at feed position {position} in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    println!(
        "{} enterprises ({} versions) loaded from {file} in all, {} lines refused",
        summary.total_enterprises,
        summary.total_versions,
        summary.refusals.len()
    );
    if summary.stopped {
        anyhow::bail!(
            "stopped after {} refused lines (--max-errors); run the import again to go on from line {}",
            summary.refused_now,
            summary.refusals.last().map_or(1, |r| r.line + 1)
        );
    }
    Ok(())
}

fn describe_refusal(r: &crate::store::import::Refusal) -> String {
    match &r.code {
        Some(code) => format!("{code}: {}", r.reason),
        None => r.reason.clone(),
    }
}

/// `registry generate`: realistic full records, the same for a seed, to FILE (through a temporary
/// file renamed at the end, with a progress bar) or to standard output.
pub fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    use indicatif::{ProgressBar, ProgressStyle};
    use std::io::BufWriter;

    let today = crate::domain::legal_date(chrono::Utc::now());
    anyhow::ensure!(args.as_of <= today, "--as-of {} is after today ({today})", args.as_of);
    let mut generator =
        crate::generate::RecordGenerator::new(args.seed, reference_data::reference(), args.history, args.as_of);
    let Some(path) = &args.out else {
        let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        crate::generate::write_records(&mut generator, args.count, &mut out, &|_| {})?;
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
        crate::generate::write_records(&mut generator, args.count, &mut out, &|n| bar.inc(n)).and_then(|()| {
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
