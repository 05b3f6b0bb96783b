//! Search benchmark: the service's index beside PostgreSQL full-text search (unaccent + GIN) on
//! the same generated enterprises, in one run. Prints p50/p99 latency and recall@10 of each over
//! the same queries (the forms of the relevance set), as a Markdown table for BENCHMARKS.md.
//!
//! ```sh
//! cargo run --release --example search_bench -- 2000000 1000
//! ```
//! Arguments: enterprises (default 2,000,000), queries (default 1,000). Environment:
//! `BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/registry_search_bench`,
//! created and dropped), `BENCH_INDEX_DIR` (default `var/search-bench`).

#[path = "shared/queries.rs"]
#[allow(dead_code)] // shared with the relevance set and its test, which use more of it
mod queries;

use std::io::Write;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use registry::domain::code::EnterpriseCode;
use registry::domain::enterprise_type::{self, EnterpriseType};
use registry_index::{EnterpriseDoc, SearchIndex, SearchRequest};

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Text)]
    name: String,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2_000_000);
    let wanted_queries: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/registry_search_bench".into());
    let index_dir =
        std::path::PathBuf::from(std::env::var("BENCH_INDEX_DIR").unwrap_or_else(|_| "var/search-bench".into()));
    registry::store::ensure_database(&url)?;
    let mut conn = PgConnection::establish(&url)?;
    conn.batch_execute(
        "CREATE EXTENSION IF NOT EXISTS unaccent;
         CREATE OR REPLACE FUNCTION bench_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
             AS $$ SELECT public.unaccent('public.unaccent', $1) $$;
         DROP TABLE IF EXISTS bench_fts;
         CREATE UNLOGGED TABLE bench_fts (code text PRIMARY KEY, name text NOT NULL);",
    )?;
    let _ = std::fs::remove_dir_all(&index_dir);
    std::fs::create_dir_all(&index_dir)?;

    // Generate once; feed both engines the same names.
    let started = Instant::now();
    let reference = registry::domain::reference_data::reference();
    let mut generator = registry::cli::demo::generator(&reference, 1);
    let builder = SearchIndex::create_for_rebuild(&index_dir, registry_index::BULK_WRITER_HEAP_BYTES / 2)?;
    let tsv = index_dir.join("bench_fts.tsv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&tsv)?);
    let mut serials = std::collections::HashMap::<String, u32>::new();
    let every = (count / wanted_queries.max(1)).max(1);
    let mut queries = Vec::new();
    for i in 0..count {
        let body = generator.next_registration();
        let kind = EnterpriseType::parse(body["type"].as_str().unwrap()).unwrap();
        let name = body["name"]["vi"].as_str().unwrap().to_string();
        let proper = enterprise_type::proper_name(kind, &name).unwrap();
        let province = body["head_office"]["province_code"].as_str().unwrap().to_string();
        let serial = serials.entry(province.clone()).or_insert(0);
        let code = loop {
            *serial += 1;
            if let Some(c) = EnterpriseCode::for_serial(&province, *serial) {
                break c.to_string();
            }
        };
        writeln!(file, "{code}\t{name}")?;
        builder.add(&EnterpriseDoc {
            code,
            name: name.clone(),
            proper_name: proper.clone(),
            name_en: body["name"]["en"].as_str().map(str::to_string),
            abbreviation: body["name"]["abbreviation"].as_str().map(str::to_string),
            province_code: province,
            ward_code: body["head_office"]["ward_code"].as_str().unwrap().to_string(),
            status: "active".into(),
            enterprise_type: kind.as_str().into(),
            vsic: body["business_lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["vsic"].as_str().unwrap().to_string())
                .collect(),
            registered_on: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            ..Default::default()
        })?;
        if i % every == 0 && queries.len() < wanted_queries {
            let (form, q) = queries::query(queries.len(), &name, &proper);
            queries.push((form, q, name));
        }
    }
    file.flush()?;
    drop(file);
    builder.commit(0)?;
    builder.close()?;
    let index_build = started.elapsed();
    eprintln!("generated and indexed {count} enterprises in {index_build:.1?}");

    let started = Instant::now();
    let status = std::process::Command::new("psql")
        .arg(&url)
        .arg("-q")
        .arg("-c")
        .arg(format!("\\copy bench_fts (code, name) FROM '{}'", tsv.display()))
        .status()?;
    anyhow::ensure!(status.success(), "psql \\copy failed");
    conn.batch_execute(
        "ALTER TABLE bench_fts ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', bench_unaccent(name))) STORED;
         CREATE INDEX bench_fts_tsv ON bench_fts USING gin (tsv);",
    )?;
    conn.batch_execute("VACUUM ANALYZE bench_fts")?;
    let pg_build = started.elapsed();
    eprintln!("loaded PostgreSQL and built its GIN index in {pg_build:.1?}");

    let index = SearchIndex::open_or_create(&index_dir)?;
    let mut ours = Vec::new();
    let mut pg = Vec::new();
    let (mut our_hits, mut pg_hits) = (0, 0);
    // Warm both once, then measure.
    for (_, q, _) in queries.iter().take(50) {
        index.search(&SearchRequest { limit: 10, ..SearchRequest::text(q.as_str()) })?;
    }
    for (_, q, target) in &queries {
        let t = Instant::now();
        let page = index.search(&SearchRequest { limit: 10, ..SearchRequest::text(q.as_str()) })?;
        ours.push(t.elapsed());
        our_hits += usize::from(page.hits.iter().any(|h| &h.name == target));
    }
    let sql = "SELECT name FROM bench_fts, plainto_tsquery('simple', bench_unaccent($1)) query \
               WHERE tsv @@ query ORDER BY ts_rank(tsv, query) DESC, code LIMIT $2";
    for (_, q, _) in queries.iter().take(50) {
        diesel::sql_query(sql).bind::<Text, _>(q).bind::<Integer, _>(10).load::<Found>(&mut conn)?;
    }
    for (_, q, target) in &queries {
        let t = Instant::now();
        let found = diesel::sql_query(sql).bind::<Text, _>(q).bind::<Integer, _>(10).load::<Found>(&mut conn)?;
        pg.push(t.elapsed());
        pg_hits += usize::from(found.iter().any(|f| &f.name == target));
    }
    ours.sort();
    pg.sort();
    let n = queries.len();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("| {count} enterprises, {n} queries | p50 (ms) | p99 (ms) | recall@10 | build |");
    println!("|---|---|---|---|---|");
    println!(
        "| registry index (tantivy) | {:.2} | {:.2} | {:.3} | {:.0} s |",
        ms(percentile(&ours, 0.5)),
        ms(percentile(&ours, 0.99)),
        our_hits as f64 / n as f64,
        index_build.as_secs_f64()
    );
    println!(
        "| PostgreSQL FTS (unaccent + GIN) | {:.2} | {:.2} | {:.3} | {:.0} s |",
        ms(percentile(&pg, 0.5)),
        ms(percentile(&pg, 0.99)),
        pg_hits as f64 / n as f64,
        pg_build.as_secs_f64()
    );
    println!(
        "| ratio (PostgreSQL / index), p50 | {:.1}× | | | |",
        ms(percentile(&pg, 0.5)) / ms(percentile(&ours, 0.5))
    );
    conn.batch_execute("DROP TABLE bench_fts")?;
    let _ = std::fs::remove_dir_all(&index_dir);
    Ok(())
}
