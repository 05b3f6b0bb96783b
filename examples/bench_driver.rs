//! The benchmark's load driver: `bench/run.sh` runs it against a running `registry serve` and the
//! same PostgreSQL database, and it prints one JSON object per measurement on standard output
//! (`bench/report.py` turns them into `BENCHMARKS.md` and the latency chart).
//!
//! ```sh
//! cargo run --release --example bench_driver -- --url http://127.0.0.1:8080 search --db postgres://…
//! ```
//!
//! Every measurement is a closed loop of real HTTP requests (keep-alive, one connection per
//! thread). Latencies are wall-clock per request as the client sees them.

#[path = "shared/queries.rs"]
#[allow(dead_code)] // shared with the relevance set and its test, which use more of it
mod queries;

use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use diesel::prelude::*;
use diesel::sql_types::{Double, Text};
use rand::{Rng, SeedableRng};
use registry::domain::enterprise_type::{self, EnterpriseType};
use serde_json::{json, Value};

#[derive(Parser)]
struct Cli {
    /// The service's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Search queries in the relevance set's forms (unaccented, NFD, upper case, reordered,
    /// abbreviated trade words, and SPEC §8's: one typo in any word, Telex, VNI, syllables run
    /// together, a word missing) built from a sample of the register's names; the same queries
    /// against the service, PostgreSQL FTS (unaccent + GIN) and pg_trgm. Per form: recall@1,
    /// recall@10, latency and the share of empty pages.
    Search {
        #[arg(long)]
        db: String,
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        /// pg_trgm is slow on common trigrams: it runs this many of the queries.
        #[arg(long, default_value_t = 200)]
        trgm_queries: usize,
        /// FTS runs this many of the queries (default: all of them; fewer for a quick trial).
        #[arg(long)]
        fts_queries: Option<usize>,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Suggest (type-ahead) and name check latencies, one request at a time; and how often a name
    /// typed whole but its last letters is among its suggestions, and first.
    Typing {
        #[arg(long)]
        db: String,
        #[arg(long, default_value_t = 2000)]
        queries: usize,
        #[arg(long, default_value_t = 11)]
        seed: u64,
        /// Also list this many of the slowest suggestions and name checks on stderr, with their
        /// text (to find and profile the tail).
        #[arg(long, default_value_t = 0)]
        slowest: usize,
    },
    /// Registrations from `writers` concurrent clients for `secs`; a sample of the accepted ones is
    /// searched for until found (time until searchable).
    Writes {
        #[arg(long, env = "BENCH_PORTAL_KEY", hide_env_values = true)]
        key: String,
        #[arg(long, default_value_t = 16)]
        writers: usize,
        #[arg(long, default_value_t = 60)]
        secs: u64,
        /// Every n-th accepted write is followed until searchable (the follower searches one
        /// code at a time: sampling more measures the follower).
        #[arg(long, default_value_t = 25)]
        sample_every: u64,
        /// `register` new enterprises, or `change` existing ones (read, then PATCH the phone with
        /// If-Match), drawn from the database `--db`.
        #[arg(long, default_value = "register")]
        mode: String,
        #[arg(long)]
        db: Option<String>,
        #[arg(long, default_value_t = 1_000_003)]
        seed: u64,
    },
    /// A consumer reading the change feed from the beginning, pages of `limit`, as fast as it can.
    Feed {
        #[arg(long, env = "BENCH_TAX_KEY", hide_env_values = true)]
        key: String,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        #[arg(long, default_value_t = 2_000_000)]
        max_events: u64,
        /// Stop after this many seconds.
        #[arg(long, default_value_t = 120)]
        secs: u64,
    },
    /// Mixed traffic (80 % look-ups, 15 % searches, 5 % registrations) at a fixed total rate,
    /// reported per window: counts, errors, p50/p99 per kind and the service's resident memory.
    Mixed {
        #[arg(long)]
        db: String,
        #[arg(long, env = "BENCH_PORTAL_KEY", hide_env_values = true)]
        key: String,
        #[arg(long, default_value_t = 1800)]
        secs: u64,
        /// Requests per second, all kinds together.
        #[arg(long, default_value_t = 500)]
        rate: u64,
        #[arg(long, default_value_t = 32)]
        conns: usize,
        /// Seconds per reported window.
        #[arg(long, default_value_t = 60)]
        window: u64,
        /// The service's process id, for its resident memory.
        #[arg(long)]
        pid: Option<u32>,
        #[arg(long, default_value_t = 5_000_011)]
        seed: u64,
    },
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client")
}

/// Latency summary in milliseconds, with the percentile curve for the chart.
fn summary(mut samples: Vec<Duration>) -> Value {
    if samples.is_empty() {
        return json!({"n": 0});
    }
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0;
    let curve: Vec<[f64; 2]> =
        [0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999]
            .iter()
            .map(|&p| [p * 100.0, at(p)])
            .collect();
    json!({
        "n": samples.len(),
        "p50_ms": at(0.5),
        "p90_ms": at(0.9),
        "p99_ms": at(0.99),
        "p999_ms": at(0.999),
        "max_ms": samples.last().unwrap().as_secs_f64() * 1000.0,
        "mean_ms": samples.iter().map(|d| d.as_secs_f64()).sum::<f64>() * 1000.0 / samples.len() as f64,
        "curve": curve,
    })
}

#[derive(QueryableByName)]
struct Sampled {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    enterprise_type: String,
    #[diesel(sql_type = Text)]
    name_vi: String,
}

/// Sampled enterprises: code, type, name, proper name.
type Sample = Vec<(String, String, String, String)>;

/// About `n` enterprises picked at random (repeatably for a seed), with their proper names.
fn sample(conn: &mut PgConnection, n: usize, seed: u64) -> anyhow::Result<Sample> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = Double)]
        n: f64,
    }
    let total = diesel::sql_query("SELECT reltuples::float8 AS n FROM pg_class WHERE relname = 'enterprises'")
        .get_result::<Count>(conn)?
        .n
        .max(1.0);
    let percent = (n as f64 * 3.0 * 100.0 / total).min(100.0);
    let rows: Vec<Sampled> = diesel::sql_query(format!(
        "SELECT code, enterprise_type, name_vi FROM enterprises TABLESAMPLE BERNOULLI ({percent}) REPEATABLE ({seed}) \
         WHERE status <> 'ceased' ORDER BY md5(code) LIMIT {n}"
    ))
    .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let kind = EnterpriseType::parse(&r.enterprise_type)?;
            let proper = enterprise_type::proper_name(kind, &r.name_vi).ok()?;
            Some((r.code, r.enterprise_type, r.name_vi, proper))
        })
        .collect())
}

fn get_json(http: &reqwest::blocking::Client, url: &str) -> anyhow::Result<(u16, Value)> {
    let res = http.get(url).send()?;
    let status = res.status().as_u16();
    let body: Value = res.json().unwrap_or(Value::Null);
    Ok((status, body))
}

fn url_with(base: &str, path: &str, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{base}{path}")).expect("a valid URL");
    url.query_pairs_mut().extend_pairs(params);
    url.into()
}

/// One query form's search results: queries, found first, found in the first ten, empty pages,
/// latencies.
#[derive(Default)]
struct FormTally {
    queries: usize,
    at1: usize,
    at10: usize,
    empty: usize,
    latency: Vec<Duration>,
}

fn search(cli: &Cli, db: &str, count: usize, trgm_count: usize, fts_count: usize, seed: u64) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(db)?;
    let picked = sample(&mut conn, count, seed)?;
    let queries: Vec<(&'static str, String, String)> = picked
        .iter()
        .enumerate()
        .map(|(i, (code, _, name, proper))| {
            let (form, q) = queries::query(i, name, proper);
            (form, q, code.clone())
        })
        .collect();
    eprintln!("search: {} queries", queries.len());
    let http = client();

    // The service, warmed on a tenth of the queries first (as are the peers).
    let ours_url = |q: &str| url_with(&cli.url, "/v1/search", &[("q", q), ("limit", "10")]);
    for (_, q, _) in queries.iter().step_by(10) {
        get_json(&http, &ours_url(q))?;
    }
    let mut ours = Vec::new();
    let mut ours_found = 0usize;
    let mut by_form: HashMap<&str, FormTally> = HashMap::new();
    let mut errors = 0usize;
    for (form, q, code) in &queries {
        let t = Instant::now();
        let (status, body) = get_json(&http, &ours_url(q))?;
        let took = t.elapsed();
        ours.push(took);
        if status != 200 {
            errors += 1;
        }
        let hits = body["hits"].as_array().map(Vec::as_slice).unwrap_or_default();
        let rank = hits.iter().position(|h| h["code"] == code.as_str());
        ours_found += usize::from(rank.is_some());
        let f = by_form.entry(form).or_default();
        f.queries += 1;
        f.at1 += usize::from(rank == Some(0));
        f.at10 += usize::from(rank.is_some());
        f.empty += usize::from(status == 200 && hits.is_empty());
        f.latency.push(took);
    }

    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        code: String,
    }
    let mut peer = |sql: &str, limit: usize| -> anyhow::Result<(Value, usize, usize)> {
        for (_, q, _) in queries.iter().take(limit).step_by(10) {
            diesel::sql_query(sql).bind::<Text, _>(q).load::<Found>(&mut conn)?;
        }
        let mut times = Vec::new();
        let mut found = 0;
        let mut n = 0;
        for (_, q, code) in queries.iter().take(limit) {
            let t = Instant::now();
            let rows = diesel::sql_query(sql).bind::<Text, _>(q).load::<Found>(&mut conn)?;
            times.push(t.elapsed());
            found += usize::from(rows.iter().any(|r| &r.code == code));
            n += 1;
        }
        Ok((summary(times), found, n))
    };
    let fts = peer(
        "SELECT code FROM bench_fts, plainto_tsquery('simple', bench_unaccent($1)) query \
         WHERE tsv @@ query ORDER BY ts_rank(tsv, query) DESC, code LIMIT 10",
        fts_count,
    )?;
    let trgm = peer(
        "SELECT code FROM bench_fts WHERE bench_unaccent(lower(name)) % bench_unaccent(lower($1)) \
         ORDER BY similarity(bench_unaccent(lower(name)), bench_unaccent(lower($1))) DESC, code LIMIT 10",
        trgm_count,
    )?;
    let n = queries.len();
    let recall10: Value =
        by_form.iter().map(|(f, t)| (f.to_string(), json!(t.at10 as f64 / t.queries as f64))).collect();
    let forms: Value = by_form
        .into_iter()
        .map(|(f, t)| {
            let share = |k: usize| k as f64 / t.queries as f64;
            let latency = summary(t.latency);
            let row = json!({
                "queries": t.queries,
                "recall1": share(t.at1),
                "recall10": share(t.at10),
                "empty": share(t.empty),
                "p50_ms": latency["p50_ms"],
                "p99_ms": latency["p99_ms"],
            });
            (f.to_string(), row)
        })
        .collect();
    let typing = queries::TYPO_FORMS.iter().filter_map(|f| forms.get(f));
    let (typed, empty) = typing.fold((0.0, 0.0), |(n, e), f| {
        let q = f["queries"].as_f64().unwrap_or(0.0);
        (n + q, e + q * f["empty"].as_f64().unwrap_or(0.0))
    });
    println!(
        "{}",
        json!({
            "measure": "search",
            "queries": n,
            "service": {
                "latency": summary(ours),
                "recall10": ours_found as f64 / n as f64,
                "errors": errors,
                // recall@10 per form (as before); `forms` has the rest.
                "by_form": recall10,
                "forms": forms,
                "typing_errors": {"forms": queries::TYPO_FORMS, "queries": typed, "empty": empty / typed.max(1.0)},
            },
            "fts": {"latency": fts.0, "recall10": fts.1 as f64 / fts.2.max(1) as f64, "queries": fts.2},
            "trgm": {"latency": trgm.0, "recall10": trgm.1 as f64 / trgm.2.max(1) as f64, "queries": trgm.2},
        })
    );
    Ok(())
}

fn typing(cli: &Cli, db: &str, count: usize, seed: u64, slowest: usize) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(db)?;
    let picked = sample(&mut conn, count, seed)?;
    let http = client();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // Suggest: what someone has typed so far of a proper name, unaccented or not, the last word cut.
    let mut suggest = Vec::new();
    let mut texts = Vec::new();
    let mut errors = 0usize;
    for (i, (_, _, _, proper)) in picked.iter().enumerate() {
        let text = if i % 2 == 0 { queries::fold(proper).to_lowercase() } else { proper.to_lowercase() };
        let chars: Vec<char> = text.chars().collect();
        let cut = rng.random_range(3.min(chars.len())..=chars.len());
        let typed: String = chars[..cut].iter().collect();
        let t = Instant::now();
        let (status, _) = get_json(&http, &url_with(&cli.url, "/v1/suggest", &[("q", &typed)]))?;
        suggest.push(t.elapsed());
        errors += usize::from(status != 200);
        texts.push(("suggest", typed));
    }
    // Completion: a name typed whole but its last letters, with its diacritics or without; is it
    // among the suggestions, and first?
    let mut completion = Vec::new();
    let (mut completed, mut among, mut first) = (0usize, 0usize, 0usize);
    for (i, (code, _, name, _)) in picked.iter().enumerate() {
        let Some(typed) = queries::completion_prefix(i, name) else { continue };
        let t = Instant::now();
        let (status, body) = get_json(&http, &url_with(&cli.url, "/v1/suggest", &[("q", &typed)]))?;
        completion.push(t.elapsed());
        errors += usize::from(status != 200);
        let found = body["suggestions"].as_array().map(Vec::as_slice).unwrap_or_default();
        let rank = found.iter().position(|s| s["code"] == code.as_str());
        completed += 1;
        among += usize::from(rank.is_some());
        first += usize::from(rank == Some(0));
        texts.push(("completion", typed));
    }
    // Name check: half the names as registered (conflicts found), half with a new last syllable.
    let mut check = Vec::new();
    let mut conflicts = 0usize;
    for (i, (_, kind, name, _)) in picked.iter().enumerate() {
        let name = if i % 2 == 0 { name.clone() } else { format!("{name} Thịnh Vượng") };
        let t = Instant::now();
        let (status, body) =
            get_json(&http, &url_with(&cli.url, "/v1/name-check", &[("name", &name), ("type", kind)]))?;
        check.push(t.elapsed());
        errors += usize::from(status != 200);
        conflicts += usize::from(body["available"] == false);
        texts.push(("name-check", name));
    }
    let mut timed: Vec<(Duration, &(&str, String))> =
        suggest.iter().chain(&completion).chain(&check).copied().zip(&texts).collect();
    timed.sort_by_key(|t| std::cmp::Reverse(t.0));
    for (took, (what, text)) in timed.iter().take(slowest) {
        eprintln!("{:>8.2} ms  {what}  {text}", took.as_secs_f64() * 1e3);
    }
    println!(
        "{}",
        json!({
            "measure": "typing",
            "suggest": summary(suggest),
            "completion": {
                "names": completed,
                "among": among as f64 / completed.max(1) as f64,
                "first": first as f64 / completed.max(1) as f64,
                "latency": summary(completion),
            },
            "name_check": summary(check),
            "name_check_conflicts": conflicts,
            "errors": errors,
        })
    );
    Ok(())
}

/// Registration bodies from the demo generator, each thread its own seed.
fn registrations(seed: u64) -> registry_generate::Generator {
    registry::cli::demo::generator(&registry::domain::reference_data::reference(), seed)
}

fn writes(
    cli: &Cli,
    key: &str,
    writers: usize,
    secs: u64,
    sample_every: u64,
    seed: u64,
    codes: Option<Arc<Sample>>,
) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel::<(String, Instant)>();
    let statuses = Arc::new(Mutex::new(HashMap::<u16, u64>::new()));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let mut threads = Vec::new();
    for w in 0..writers {
        let (stop, accepted, tx, statuses, latencies) =
            (stop.clone(), accepted.clone(), tx.clone(), statuses.clone(), latencies.clone());
        let url = format!("{}/v1/enterprises", cli.url);
        let key = key.to_string();
        let codes = codes.clone();
        threads.push(std::thread::spawn(move || {
            let http = client();
            let mut generator = registrations(seed + w as u64);
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed * 31 + w as u64);
            let mut mine = Vec::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let (t, res) = match &codes {
                    None => {
                        let body = generator.next_registration();
                        let t = Instant::now();
                        (t, http.post(&url).bearer_auth(&key).json(&body).send())
                    }
                    Some(codes) => {
                        // Read the current version, then change the phone on it.
                        let code = &codes[rng.random_range(0..codes.len())].0;
                        let target = format!("{url}/{code}");
                        let Ok(current) = http.get(&target).bearer_auth(&key).send() else { continue };
                        let etag =
                            current.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                        let _ = current.bytes();
                        let body = json!({"head_office": {"phone": format!("0243 {:03} {:04}", w % 1000, n % 10_000)}});
                        let t = Instant::now();
                        (
                            t,
                            http.patch(&target)
                                .bearer_auth(&key)
                                .header("Content-Type", "application/merge-patch+json")
                                .header("If-Match", etag)
                                .body(body.to_string())
                                .send(),
                        )
                    }
                };
                let status = match res {
                    Ok(res) => {
                        let status = res.status().as_u16();
                        let body: Value = res.json().unwrap_or(Value::Null);
                        mine.push(t.elapsed());
                        if status == 201 || status == 200 {
                            let n = accepted.fetch_add(1, Ordering::Relaxed) + 1;
                            // A change is found by its code before it is indexed: only new
                            // registrations tell when a write becomes searchable.
                            if codes.is_none() && n % sample_every == 0 {
                                if let Some(code) = body["code"].as_str() {
                                    let _ = tx.send((code.to_string(), Instant::now()));
                                }
                            }
                        }
                        status
                    }
                    Err(_) => 0,
                };
                *statuses.lock().unwrap().entry(status).or_default() += 1;
            }
            latencies.lock().unwrap().extend(mine);
        }));
    }
    drop(tx);
    // The follower: each sampled code is searched for every 10 ms until found; it returns how
    // long each took.
    let follower = {
        let base = cli.url.clone();
        std::thread::spawn(move || {
            let http = client();
            let (mut pending, mut searchable) = (Vec::<(String, Instant)>::new(), Vec::new());
            let mut open = true;
            while open || !pending.is_empty() {
                loop {
                    match rx.try_recv() {
                        Ok(item) => pending.push(item),
                        Err(mpsc::TryRecvError::Empty) => break,
                        Err(mpsc::TryRecvError::Disconnected) => {
                            open = false;
                            break;
                        }
                    }
                }
                pending.retain(|(code, at)| {
                    let found = get_json(&http, &url_with(&base, "/v1/search", &[("q", code)]))
                        .map(|(_, b)| {
                            b["hits"].as_array().is_some_and(|h| h.iter().any(|h| h["code"] == code.as_str()))
                        })
                        .unwrap_or(false);
                    if found {
                        searchable.push(at.elapsed());
                    } else if at.elapsed() >= Duration::from_secs(30) {
                        searchable.push(Duration::from_secs(30));
                    }
                    !found && at.elapsed() < Duration::from_secs(30)
                });
                std::thread::sleep(Duration::from_millis(10));
            }
            searchable
        })
    };
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let searchable = follower.join().unwrap_or_default();
    let n = accepted.load(Ordering::Relaxed);
    let statuses: Value = statuses
        .lock()
        .unwrap()
        .iter()
        .map(|(s, n)| (s.to_string(), json!(n)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let latencies = std::mem::take(&mut *latencies.lock().unwrap());
    println!(
        "{}",
        json!({
            "measure": "writes",
            "mode": if codes.is_some() { "change" } else { "register" },
            "writers": writers,
            "seconds": elapsed,
            "accepted": n,
            "accepted_per_s": n as f64 / elapsed,
            "statuses": statuses,
            "latency": summary(latencies),
            "searchable": summary(searchable),
        })
    );
    Ok(())
}

fn feed(cli: &Cli, key: &str, limit: u32, max_events: u64, secs: u64) -> anyhow::Result<()> {
    #[derive(serde::Deserialize)]
    struct Page {
        events: Vec<serde::de::IgnoredAny>,
        next: String,
    }
    let http = client();
    let mut after: Option<String> = None;
    let mut events = 0u64;
    let mut bytes = 0u64;
    let mut pages = Vec::new();
    let started = Instant::now();
    while events < max_events && started.elapsed() < Duration::from_secs(secs) {
        let limit = limit.to_string();
        let mut params = vec![("limit", limit.as_str())];
        if let Some(a) = &after {
            params.push(("after", a.as_str()));
        }
        let t = Instant::now();
        let mut res = http.get(url_with(&cli.url, "/v1/changes", &params)).bearer_auth(key).send()?;
        anyhow::ensure!(res.status().is_success(), "feed page: {}", res.status());
        let mut body = Vec::new();
        res.read_to_end(&mut body)?;
        let page: Page = serde_json::from_slice(&body)?;
        pages.push(t.elapsed());
        bytes += body.len() as u64;
        if page.events.is_empty() {
            break;
        }
        events += page.events.len() as u64;
        after = Some(page.next);
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "measure": "feed",
            "events": events,
            "seconds": elapsed,
            "events_per_s": events as f64 / elapsed,
            "mb_per_s": bytes as f64 / elapsed / 1e6,
            "page_limit": limit,
            "page": summary(pages),
        })
    );
    Ok(())
}

fn resident_kb(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

#[derive(Default)]
struct Window {
    lookups: Vec<Duration>,
    searches: Vec<Duration>,
    writes: Vec<Duration>,
    errors: HashMap<String, u64>,
    late: u64,
}

#[allow(clippy::too_many_arguments)]
fn mixed(
    cli: &Cli,
    db: &str,
    key: &str,
    secs: u64,
    rate: u64,
    conns: usize,
    window: u64,
    pid: Option<u32>,
    seed: u64,
) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(db)?;
    #[derive(QueryableByName)]
    struct Code {
        #[diesel(sql_type = Text)]
        code: String,
    }
    let codes: Arc<Vec<String>> = Arc::new(
        diesel::sql_query("SELECT code FROM enterprises TABLESAMPLE BERNOULLI (5) REPEATABLE (3)")
            .load::<Code>(&mut conn)?
            .into_iter()
            .map(|c| c.code)
            .collect(),
    );
    let picked = sample(&mut conn, 2000, seed)?;
    let searches: Arc<Vec<String>> = Arc::new(
        picked.iter().enumerate().map(|(i, (_, _, name, proper))| queries::query(i, name, proper).1).collect(),
    );
    drop(conn);
    eprintln!("mixed: {} codes, {} queries, {rate} req/s for {secs} s", codes.len(), searches.len());
    let current = Arc::new(Mutex::new(Window::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let interval = Duration::from_secs_f64(conns as f64 / rate as f64);
    let mut threads = Vec::new();
    for c in 0..conns {
        let (codes, searches, current, stop) = (codes.clone(), searches.clone(), current.clone(), stop.clone());
        let base = cli.url.clone();
        let key = key.to_string();
        threads.push(std::thread::spawn(move || {
            let http = client();
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed + c as u64);
            let mut generator = registrations(seed * 7 + c as u64);
            // Open loop: request k of this thread is due at start + offset + k·interval; a request
            // that starts late is counted, and its latency is measured from when it was due.
            let mut due = started + interval.mul_f64(c as f64 / conns as f64);
            while !stop.load(Ordering::Relaxed) {
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                let late = Instant::now().saturating_duration_since(due) > Duration::from_millis(100);
                let roll = rng.random_range(0..100u32);
                let (kind, result) = if roll < 80 {
                    let code = &codes[rng.random_range(0..codes.len())];
                    ("lookup", http.get(format!("{base}/v1/enterprises/{code}")).send())
                } else if roll < 95 {
                    let q = &searches[rng.random_range(0..searches.len())];
                    ("search", http.get(url_with(&base, "/v1/search", &[("q", q)])).send())
                } else {
                    let body = generator.next_registration();
                    ("write", http.post(format!("{base}/v1/enterprises")).bearer_auth(&key).json(&body).send())
                };
                let outcome = match result {
                    Ok(res) => {
                        let status = res.status().as_u16();
                        let _ = res.bytes();
                        // A registration refused for its name (409/422) is an answer, not an error.
                        let ok = status < 300 || (kind == "write" && (status == 409 || status == 422));
                        if ok {
                            None
                        } else {
                            Some(format!("{kind} {status}"))
                        }
                    }
                    Err(e) => Some(format!("{kind} {}", if e.is_timeout() { "timeout" } else { "connection" })),
                };
                let latency = due.elapsed();
                {
                    let mut w = current.lock().unwrap();
                    match kind {
                        "lookup" => w.lookups.push(latency),
                        "search" => w.searches.push(latency),
                        _ => w.writes.push(latency),
                    }
                    if let Some(e) = outcome {
                        *w.errors.entry(e).or_default() += 1;
                    }
                    w.late += u64::from(late);
                }
                due += interval;
            }
        }));
    }
    let mut windows = Vec::new();
    let mut all = Window::default();
    let mut next = started + Duration::from_secs(window);
    while started.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        next += Duration::from_secs(window);
        let w = std::mem::take(&mut *current.lock().unwrap());
        let memory = pid.and_then(resident_kb);
        let total = w.lookups.len() + w.searches.len() + w.writes.len();
        let row = json!({
            "at_s": started.elapsed().as_secs(),
            "requests": total,
            "per_s": total as f64 / window as f64,
            "errors": w.errors,
            "late": w.late,
            "lookup": summary(w.lookups.clone()),
            "search": summary(w.searches.clone()),
            "write": summary(w.writes.clone()),
            "rss_kb": memory.map(|m| m.0),
            "hwm_kb": memory.map(|m| m.1),
        });
        eprintln!(
            "mixed t={}s {} req ({:.0}/s) errors {:?} lookup p99 {} search p99 {} write p99 {} rss {:?} kB",
            row["at_s"],
            total,
            row["per_s"].as_f64().unwrap_or(0.0),
            w.errors,
            row["lookup"]["p99_ms"],
            row["search"]["p99_ms"],
            row["write"]["p99_ms"],
            memory.map(|m| m.0)
        );
        windows.push(row);
        all.lookups.extend(w.lookups);
        all.searches.extend(w.searches);
        all.writes.extend(w.writes);
        for (k, v) in w.errors {
            *all.errors.entry(k).or_default() += v;
        }
        all.late += w.late;
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let total = all.lookups.len() + all.searches.len() + all.writes.len();
    println!(
        "{}",
        json!({
            "measure": "mixed",
            "seconds": started.elapsed().as_secs_f64(),
            "rate": rate,
            "conns": conns,
            "requests": total,
            "errors": all.errors,
            "late": all.late,
            "lookup": summary(all.lookups),
            "search": summary(all.searches),
            "write": summary(all.writes),
            "windows": windows,
        })
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Search { db, queries, trgm_queries, fts_queries, seed } => {
            search(&cli, db, *queries, *trgm_queries, fts_queries.unwrap_or(usize::MAX), *seed)
        }
        Command::Typing { db, queries, seed, slowest } => typing(&cli, db, *queries, *seed, *slowest),
        Command::Writes { key, writers, secs, sample_every, mode, db, seed } => {
            let codes = match (mode.as_str(), db) {
                ("register", _) => None,
                ("change", Some(db)) => Some(Arc::new(sample(&mut PgConnection::establish(db)?, 100_000, *seed)?)),
                _ => anyhow::bail!("--mode register, or --mode change with --db"),
            };
            writes(&cli, key, *writers, *secs, *sample_every, *seed, codes)
        }
        Command::Feed { key, limit, max_events, secs } => feed(&cli, key, *limit, *max_events, *secs),
        Command::Mixed { db, key, secs, rate, conns, window, pid, seed } => {
            mixed(&cli, db, key, *secs, *rate, *conns, *window, *pid, *seed)
        }
    }
}
