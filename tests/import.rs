//! `registry import`: bulk loading of full records, refused lines reported by number, resumable
//! after `kill -9`, feed events and code serials kept right, the index built.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Mutex;
use std::time::Duration;

use common::cli::{registry, run_ok};
use common::*;
use registry::cli::import::{self, Options, Progress, Summary};
use registry::domain::record::Enterprise;
use registry::domain::reference::VsicEdition;
use registry::domain::Role;
use registry::store::import::Refusal;
use registry_generate::{default_as_of, write_records, RecordGenerator};

/// `registry import PATH ARGS…`, which must succeed.
fn cli_import(db: &TestDb, path: &Path, args: &[&str]) -> Output {
    run_ok({
        let mut c = registry(db);
        c.arg("import").arg(path).args(args);
        c
    })
}

/// `count` generated enterprises (each with `history` earlier versions) as NDJSON lines.
fn generated(count: u64, seed: u64, history: u32) -> Vec<String> {
    let mut g = RecordGenerator::new(seed, registry::domain::reference_data::reference(), history, default_as_of());
    let mut out = Vec::new();
    write_records(&mut g, count, &mut out, &|_| {}).unwrap();
    String::from_utf8(out).unwrap().lines().map(str::to_string).collect()
}

fn write_file(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    for l in lines {
        f.write_all(l.as_bytes()).unwrap();
        f.write_all(b"\n").unwrap();
    }
    path
}

/// The records of an NDJSON export, by code.
fn exported(db: &TestDb, dir: &Path) -> BTreeMap<String, serde_json::Value> {
    let path = dir.join("export.ndjson");
    run_ok({
        let mut c = registry(db);
        c.args(["export", path.to_str().unwrap()]);
        c
    });
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("{\"cursor\""));
    lines
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| (v["code"].as_str().unwrap().to_string(), v))
        .collect()
}

/// The current record of each enterprise in generated lines, by code, as the register exports it
/// (the tax agency's view): with the discrepancies the register derives from the owners it lists
/// (the graph beyond them is followed after the import, by the ownership worker).
fn current_by_code(lines: &[String]) -> BTreeMap<String, serde_json::Value> {
    lines
        .iter()
        .map(|l| {
            let record: Enterprise = serde_json::from_str(l).unwrap();
            let found = registry::domain::beneficial_owners::direct_discrepancies(&record).unwrap_or_default();
            let mut v = serde_json::from_str::<serde_json::Value>(l).unwrap();
            v["discrepancies"] = serde_json::to_value(found).unwrap();
            v
        })
        .map(|v| (v["code"].as_str().unwrap().to_string(), v))
        .collect()
}

#[derive(Default)]
struct Collect(Mutex<Vec<Refusal>>);

impl Progress for Collect {
    fn start(&self, _: u64, _: u64) {}
    fn committed(&self, _: u64, _: u64, _: u64) {}
    fn refused(&self, r: &Refusal) {
        self.0.lock().unwrap().push(r.clone());
    }
}

/// Imports `path` in-process; returns the summary and the lines refused as they were reported.
fn import_file(db: &TestDb, path: &Path, max_errors: Option<u64>, batch: usize) -> (Summary, Vec<Refusal>) {
    let collect = Collect::default();
    let options = Options { file: path.to_path_buf(), max_errors, batch };
    let summary =
        import::run(&mut db.conn(), &registry::domain::reference_data::reference(), &options, &collect, None).unwrap();
    (summary, collect.0.into_inner().unwrap())
}

fn lines_of(refusals: &[Refusal]) -> Vec<i64> {
    refusals.iter().map(|r| r.line).collect()
}

#[test]
fn import_of_generated_records_then_export_gives_the_same_records() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let lines = generated(300, 21, 0);
    let path = write_file(dir.path(), "gen.ndjson", &lines);
    let out = cli_import(&db, &path, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("300 enterprises (300 versions) loaded"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("indexed 300 enterprises at feed position 300 during the load"), "{stderr}");
    assert_eq!(exported(&db, dir.path()), current_by_code(&lines));
    assert_eq!(db.count("enterprise_versions"), 300);
    assert_eq!(db.count("feed_events"), 300);
    // Records imported without their history start at their current version: still consistent.
    assert!(db.count("enterprises WHERE version > 1") > 0, "the generator writes records of later versions");
    let check = registry(&db).args(["check", "--sample", "50"]).output().unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    // The index was built in bulk: every enterprise is there and found by name.
    let search = registry::indexer::Search::open(db.index_dir.path()).unwrap();
    assert_eq!(search.index().num_docs(), 300);
    assert_eq!(search.index().num_segments(), 1, "merged into one segment while the keys were restored");
    let some: Enterprise = serde_json::from_str(&lines[17]).unwrap();
    let page = search.index().search(&registry_index::SearchRequest::text(some.name.vi.clone())).unwrap();
    assert_eq!(page.hits[0].code, some.code);

    // An export imports into another register as it is (its first line is skipped).
    let other = TestDb::new();
    let export = dir.path().join("export.ndjson");
    let (summary, refused) = import_file(&other, &export, None, 50);
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(summary.enterprises, 300);
    assert_eq!(exported(&other, dir.path()), current_by_code(&lines));
}

#[test]
fn versions_are_loaded_with_their_feed_events_in_order() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let lines = generated(80, 22, 3);
    assert_eq!(lines.len(), 320);
    let path = write_file(dir.path(), "history.ndjson", &lines);
    let head_before = registry::store::feed::head(&mut db.conn()).unwrap();
    let (summary, refused) = import_file(&db, &path, None, 37);
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!((summary.enterprises, summary.versions), (80, 320));
    assert_eq!(db.count("enterprise_versions"), 320);
    assert_eq!(exported(&db, dir.path()), current_by_code(&lines));

    // The feed has one event per version, positions in one run after the head, versions in order.
    let events = registry::store::feed::read(&mut db.conn(), head_before, 1000).unwrap();
    assert_eq!(events.len(), 320);
    assert_eq!(registry::store::feed::head(&mut db.conn()).unwrap(), head_before + 320);
    let mut last_version: BTreeMap<String, i32> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.position, head_before + 1 + i as i64);
        let previous = last_version.insert(e.code.clone(), e.version).unwrap_or(0);
        assert_eq!(e.version, previous + 1);
        let expected: Enterprise = serde_json::from_str(&lines[i]).unwrap();
        assert_eq!(e.record, expected, "the event carries the version's record");
        if e.version == 1 {
            assert_eq!(e.kind, "registered");
        } else {
            assert!(["changed", "status_changed", "unit_registered"].contains(&e.kind.as_str()), "{}", e.kind);
            assert!(!e.changed_fields.is_empty());
        }
    }
    // History and as_of answer from the imported versions.
    let code = registry::domain::code::EnterpriseCode::parse(&events[0].code).unwrap();
    let history = registry::store::enterprises::history(&mut db.conn(), &code, None, 10).unwrap().unwrap();
    assert_eq!(history.iter().map(|h| h.version).collect::<Vec<_>>(), [4, 3, 2, 1]);
    assert!(history.iter().all(|h| h.actor == "import"));
}

/// Every hit (code and score, in order of code) of `q` in the index at `dir`.
fn hits(dir: &Path, q: &str) -> Vec<(String, u32)> {
    let search = registry::indexer::Search::open(dir).unwrap();
    let request = registry_index::SearchRequest { limit: 100, ..registry_index::SearchRequest::text(q) };
    let mut hits: Vec<(String, u32)> = search
        .index()
        .search(&request)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| (h.code, (h.score * 1000.0) as u32))
        .collect();
    hits.sort();
    hits
}

#[test]
fn the_index_built_during_the_load_answers_as_a_rebuild_does() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    // With history: former names come from the earlier versions in the file.
    let lines = generated(120, 23, 3);
    let path = write_file(dir.path(), "history.ndjson", &lines);
    let out = cli_import(&db, &path, &["--batch", "50"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("indexed 120 enterprises at feed position 480 during the load"), "{stderr}");

    // The same register rebuilt from PostgreSQL into another directory.
    let rebuilt = tempfile::tempdir().unwrap();
    run_ok({
        let mut c = registry(&db);
        c.env("REGISTRY_INDEX_DIR", rebuilt.path()).arg("reindex");
        c
    });
    let records: Vec<Enterprise> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let current: BTreeMap<&str, &Enterprise> = records.iter().map(|r| (r.code.as_str(), r)).collect();
    let mut former = 0;
    let mut queries: Vec<String> = Vec::new();
    for r in &records {
        if r.name.vi != current[r.code.as_str()].name.vi {
            former += 1;
        }
        queries.push(r.name.vi.clone());
        queries.extend(r.units.iter().map(|u| u.name.clone()));
        queries.push(r.code[..6].to_string());
    }
    assert!(former > 0, "the file holds renamed enterprises");
    queries.sort();
    queries.dedup();
    for q in &queries {
        let streamed = hits(db.index_dir.path(), q);
        assert!(!streamed.is_empty(), "{q}");
        assert_eq!(streamed, hits(rebuilt.path(), q), "{q}");
    }
}

#[test]
fn an_import_into_a_register_that_holds_enterprises_rebuilds_the_index() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let lines = generated(70, 24, 0);
    let first = write_file(dir.path(), "first.ndjson", &lines[..40]);
    let (summary, _) = import_file(&db, &first, None, 1000);
    assert_eq!(summary.enterprises, 40);
    let second = write_file(dir.path(), "second.ndjson", &lines[40..]);
    let out = cli_import(&db, &second, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("indexed 70 enterprises at feed position 70 in"), "{stderr}");
    assert!(!stderr.contains("during the load"), "{stderr}");
    let search = registry::indexer::Search::open(db.index_dir.path()).unwrap();
    assert_eq!(search.index().num_docs(), 70);
}

fn doc(code: &str) -> registry_index::EnterpriseDoc {
    registry_index::EnterpriseDoc {
        code: code.into(),
        name: format!("Công ty TNHH Thử {code}"),
        registered_on: chrono::NaiveDate::from_ymd_opt(2020, 1, 2).unwrap(),
        ..Default::default()
    }
}

#[test]
fn an_index_built_during_a_load_stands_only_for_an_unbroken_run_of_feed_positions() {
    use registry::indexer::ImportSink;
    use registry::indexer::StreamBuild;
    let root = tempfile::tempdir().unwrap();
    let generations =
        || std::fs::read_dir(root.path()).unwrap().filter(|e| e.as_ref().unwrap().path().is_dir()).count();

    // Batches right after each other, from the head the import began at: committed and swapped in.
    let stream = StreamBuild::start(root.path()).unwrap();
    stream.begin(10);
    stream.loaded(vec![doc("0100000001"), doc("0100000002")], Some((11, 12)));
    stream.loaded(Vec::new(), None); // a batch of refused lines only
    stream.loaded(vec![doc("0100000003")], Some((13, 13)));
    assert_eq!(stream.finish().unwrap(), Some((13, 3)));
    let search = registry::indexer::Search::open(root.path()).unwrap();
    assert_eq!((search.status().position, search.index().num_docs()), (13, 3));
    drop(search);

    // Another write took position 14 between two batches: the generation is dropped.
    let stream = StreamBuild::start(root.path()).unwrap();
    stream.begin(13);
    stream.loaded(vec![doc("0100000004")], Some((14, 14)));
    stream.loaded(vec![doc("0100000005")], Some((16, 16)));
    assert_eq!(stream.finish().unwrap(), None);
    // Never begun (a resumed import, a register that held enterprises): dropped too.
    let stream = StreamBuild::start(root.path()).unwrap();
    stream.loaded(vec![doc("0100000006")], Some((17, 17)));
    assert_eq!(stream.finish().unwrap(), None);
    // Nor is one dropped without finishing left behind.
    let stream = StreamBuild::start(root.path()).unwrap();
    stream.begin(17);
    drop(stream);
    assert_eq!(generations(), 1, "only the swapped-in generation is left");
    let search = registry::indexer::Search::open(root.path()).unwrap();
    assert_eq!((search.status().position, search.index().num_docs()), (13, 3));
}

/// Lines of every bad kind in the middle of good ones.
fn broken_file(dir: &Path) -> (PathBuf, Vec<String>, Vec<(i64, &'static str)>) {
    let good = generated(123, 23, 0);
    let mut lines = good[..120].to_vec();
    let record = |i: usize| serde_json::from_str::<serde_json::Value>(&good[i]).unwrap();
    let mut bad_check = record(10);
    let code = bad_check["code"].as_str().unwrap().to_string();
    let wrong = format!("{}{}", &code[..9], (code.as_bytes()[9] - b'0' + 1) % 10);
    bad_check["code"] = wrong.into();
    let mut bad_type = record(20);
    bad_type["type"] = "corporation".into();
    let mut bad_ward = record(30);
    bad_ward["head_office"]["ward_code"] = "99999".into();
    bad_ward["head_office"]["province_code"] = "79".into();
    bad_ward["head_office"]["legacy"] = serde_json::Value::Null;
    for derived in ["ward_name", "province_name"] {
        bad_ward["head_office"].as_object_mut().unwrap().remove(derived);
    }
    // Replaced in place (so the good ones they were are not in the file), inserted after.
    lines[10] = bad_check.to_string();
    lines[20] = bad_type.to_string();
    lines[30] = bad_ward.to_string();
    lines.insert(40, good[5].clone()); // a duplicate code: line 6 has it
    lines.insert(50, "this is not JSON".into());
    lines.insert(60, "{\"code\": \"0100233488\", \"type\": \"jsc\"}".into());
    let expected = vec![
        (11, "bad_check_digit"),
        (21, "unknown variant `corporation`"),
        (31, "unknown_ward"),
        (41, "duplicate_code"),
        (51, "invalid JSON"),
        (61, "missing field"),
        (124, "not UTF-8"),
        (126, "truncated"),
    ];
    let path = dir.join("broken.ndjson");
    let mut f = std::fs::File::create(&path).unwrap();
    for l in &lines {
        writeln!(f, "{l}").unwrap();
    }
    // Line 124: a byte that is not UTF-8 (Latin-1); line 125: good; line 126: cut short, no newline.
    let mut bytes = good[120].clone().into_bytes();
    let at = bytes.windows(2).position(|w| w == b"ty").unwrap();
    bytes[at] = 0xE9;
    f.write_all(&bytes).unwrap();
    f.write_all(b"\n").unwrap();
    writeln!(f, "{}", good[121]).unwrap();
    let cut = &good[122][..good[122].len() / 2];
    f.write_all(cut.as_bytes()).unwrap();
    (path, lines, expected)
}

#[test]
fn broken_lines_are_reported_by_number_and_the_rest_loads() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let (path, _, expected) = broken_file(dir.path());
    let out = registry(&db).args(["import", path.to_str().unwrap(), "--batch", "25"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (line, why) in &expected {
        let reported = stderr.lines().find(|l| l.starts_with(&format!("line {line}: refused"))).unwrap_or_else(|| {
            panic!("line {line} is reported: {stderr}");
        });
        assert!(reported.contains(why), "line {line}: {reported}");
        assert!(stderr.contains(&format!("  line {line}: ")), "and in the summary: {stderr}");
    }
    let refused = stderr.lines().filter(|l| l.contains(": refused: ")).count();
    assert_eq!(refused, expected.len(), "{stderr}");
    // 120 generated lines, 3 of them spoilt; then a line that is not UTF-8, a good one, one cut
    // short.
    let good = 120 - 3 + 1;
    assert_eq!(db.count("enterprises"), good);
    assert_eq!(db.count("feed_events"), good);
    assert_eq!(db.count("import_refusals"), expected.len() as i64);
}

#[test]
fn an_import_killed_midway_resumes_and_loads_nothing_twice() {
    let db = TestDb::new();
    // The secondary indexes of the filled tables: an import into an empty register builds them
    // after the load, and a resumed run must build them even though the register is not empty.
    let indexes = |db: &TestDb| {
        db.count(
            "pg_indexes WHERE schemaname = current_schema() \
             AND tablename IN ('enterprises', 'enterprise_versions', 'feed_events')",
        )
    };
    let all_indexes = indexes(&db);
    // Their foreign keys likewise.
    let keys = |db: &TestDb| {
        db.count("pg_constraint WHERE contype = 'f' AND conrelid::regclass::text IN ('enterprise_versions', 'feed_events', 'units', 'licenses')")
    };
    let all_keys = keys(&db);
    assert_eq!(all_keys, 4);
    let dir = tempfile::tempdir().unwrap();
    let mut lines = generated(1500, 24, 0);
    lines.insert(700, "{\"broken\": ".into());
    lines.insert(1200, "{\"code\": \"0100233480\"}".into());
    let path = write_file(dir.path(), "big.ndjson", &lines);
    // Small batches, so that the kill falls between two of many commits.
    let mut child = registry(&db).args(["import", path.to_str().unwrap(), "--batch", "10"]).spawn().unwrap();
    let mut killed_at = None;
    for _ in 0..600 {
        std::thread::sleep(Duration::from_millis(20));
        let loaded = db.count("enterprises");
        if loaded >= 200 {
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGKILL)
                .unwrap();
            killed_at = Some(loaded);
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
    }
    child.wait().unwrap();
    let killed_at = killed_at.expect("the import was killed while it ran");
    // Nothing half-written: what is loaded is exactly what the run's progress says.
    let progress = |db: &TestDb| db.count("import_runs WHERE finished_at IS NULL");
    assert_eq!(progress(&db), 1);
    let (enterprises, versions) = {
        #[derive(diesel::QueryableByName)]
        struct R {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            enterprises: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            versions: i64,
        }
        let r: R = diesel::RunQueryDsl::get_result(
            diesel::sql_query("SELECT enterprises, versions FROM import_runs"),
            &mut db.conn(),
        )
        .unwrap();
        (r.enterprises, r.versions)
    };
    assert!(killed_at > 0 && enterprises < 1500, "killed midway: {enterprises}");
    assert_eq!(db.count("enterprises"), enterprises);
    assert_eq!(db.count("enterprise_versions"), versions);
    assert_eq!(db.count("feed_events"), versions);
    assert!(indexes(&db) < all_indexes, "the load ran without its deferred indexes");
    assert_eq!(db.count("import_runs WHERE cardinality(deferred_indexes) > 0"), 1, "and remembers them");
    assert_eq!(keys(&db), 0, "and without its foreign keys");
    assert_eq!(db.count("import_runs WHERE cardinality(deferred_keys) = 4"), 1, "remembered too");

    // Run again: it resumes where the last commit left off and loads the rest once.
    let out = cli_import(&db, &path, &["--batch", "10"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("resumed an interrupted import"), "{stderr}");
    assert!(!stderr.contains("already in the register"), "nothing is read twice: {stderr}");
    assert_eq!(db.count("enterprises"), 1500);
    assert_eq!(db.count("enterprise_versions"), 1500);
    assert_eq!(db.count("feed_events"), 1500);
    assert_eq!(registry::store::feed::head(&mut db.conn()).unwrap(), 1500, "no position was used twice");
    assert_eq!(db.count("import_refusals"), 2);
    assert_eq!(db.count("import_refusals WHERE line IN (701, 1201)"), 2);
    assert_eq!(progress(&db), 0, "the run is finished");
    assert_eq!(indexes(&db), all_indexes, "every deferred index is built again");
    assert_eq!(db.count("import_runs WHERE cardinality(deferred_indexes) > 0"), 0);
    assert_eq!(keys(&db), all_keys, "every deferred foreign key is added again");
    assert_eq!(db.count("import_runs WHERE cardinality(deferred_keys) > 0"), 0);
    assert!(stderr.contains("secondary indexes and added 4 foreign keys deferred"), "{stderr}");
    // And they hold: a version of an enterprise that is not in the register is refused.
    let orphan = diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "INSERT INTO enterprise_versions (code, version, kind, record, changed_fields, actor, recorded_at, effective_on, reason) \
             SELECT '0199999999', 1, kind, record, changed_fields, actor, recorded_at, effective_on, reason FROM enterprise_versions LIMIT 1",
        ),
        &mut db.conn(),
    );
    assert!(orphan.is_err(), "the foreign key is enforced");
    // The name check is served by its index again, not a scan.
    let plan: Vec<String> = {
        #[derive(diesel::QueryableByName)]
        struct P {
            #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
            line: String,
        }
        let mut conn = db.conn();
        diesel::RunQueryDsl::execute(diesel::sql_query("SET enable_seqscan = off"), &mut conn).unwrap();
        diesel::RunQueryDsl::load::<P>(
            diesel::sql_query("EXPLAIN SELECT code FROM enterprises WHERE read_key = 'x' AND status <> 'ceased'"),
            &mut conn,
        )
        .unwrap()
        .into_iter()
        .map(|p| p.line)
        .collect()
    };
    assert!(plan.iter().any(|l| l.contains("enterprises_read_key")), "{plan:?}");
    // The summary lists both refused lines, whichever run refused them.
    assert!(stderr.contains("  line 701: ") && stderr.contains("  line 1201: "), "{stderr}");

    // A third run has nothing to do.
    let out = cli_import(&db, &path, &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to do"));
    assert_eq!(db.count("enterprises"), 1500);
}

#[test]
fn max_errors_stops_cleanly_and_a_rerun_goes_on() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let mut lines = generated(60, 25, 0);
    for at in [10, 20, 30] {
        lines.insert(at, format!("not a record {at}"));
    }
    let path = write_file(dir.path(), "errors.ndjson", &lines);
    let out =
        registry(&db).args(["import", path.to_str().unwrap(), "--max-errors", "2", "--no-index"]).output().unwrap();
    assert!(!out.status.success(), "stopping early is a failure");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stopped after 2 refused lines"), "{stderr}");
    assert!(stderr.contains("line 11: refused") && stderr.contains("line 21: refused"), "{stderr}");
    assert!(!stderr.contains("line 31: refused"), "{stderr}");
    // Everything before the second refused line loaded, nothing after it.
    assert_eq!(db.count("enterprises"), 19);

    let (summary, refused) = import_file(&db, &path, Some(2), 1000);
    assert_eq!(lines_of(&refused), [31]);
    assert!(!summary.stopped);
    assert_eq!(db.count("enterprises"), 60);
    assert_eq!(lines_of(&summary.refusals), [11, 21, 31]);
}

#[test]
fn each_kind_of_bad_input_is_refused_by_line() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let (path, _, expected) = broken_file(dir.path());
    let (summary, refused) = import_file(&db, &path, None, 1000);
    assert_eq!(lines_of(&refused), expected.iter().map(|e| e.0).collect::<Vec<_>>());
    for (r, (_, why)) in refused.iter().zip(&expected) {
        assert!(r.reason.contains(why), "line {}: {} (expected {why})", r.line, r.reason);
    }
    assert!(!summary.stopped);

    // Codes already in the register are refused by line, the rest loads: the first five of the
    // seed were loaded above, enterprises 126 to 128 were not.
    let more = generated(128, 23, 0);
    let mut mixed: Vec<String> = more[..5].to_vec();
    mixed.splice(1..1, more[125..128].iter().cloned());
    let path = write_file(dir.path(), "mixed.ndjson", &mixed);
    let before = db.count("enterprises");
    let (summary, refused) = import_file(&db, &path, None, 1000);
    assert_eq!(lines_of(&refused), [1, 5, 6, 7, 8]);
    assert!(refused.iter().all(|r| r.reason.contains("already in the register")), "{refused:?}");
    assert_eq!(summary.enterprises, 3);
    assert_eq!(db.count("enterprises"), before + 3);
}

#[actix_web::test]
async fn later_registrations_never_take_an_imported_code() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let lines = generated(400, 27, 0);
    let path = write_file(dir.path(), "gen.ndjson", &lines);
    import_file(&db, &path, None, 100);
    let highest = lines
        .iter()
        .map(|l| serde_json::from_str::<Enterprise>(l).unwrap().code)
        .filter(|c| c.starts_with("79"))
        .max()
        .expect("some enterprises of prefix 79");
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let body = registration("llc_single", "Bảo Tín Minh Châu Xanh");
    assert_eq!(body["head_office"]["province_code"], "79");
    let code = register(&app, &key, &body).await.code;
    assert!(code > highest, "{code} is allocated after the imported {highest}");
}

#[actix_web::test]
async fn patches_keep_what_an_imported_record_holds_as_registered() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let lines = generated(300, 28, 0);
    let records: Vec<Enterprise> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let legacy_2018 = records
        .iter()
        .find(|r| {
            r.head_office.legacy.is_some()
                && r.status == registry::domain::status::Status::Active
                && r.business_lines.iter().all(|l| l.edition == VsicEdition::Vsic2018)
                && r.business_lines.iter().any(|l| {
                    registry::domain::reference_data::reference().vsic(VsicEdition::Vsic2025, &l.vsic).is_none()
                })
        })
        .expect("an active enterprise with a legacy head office and a line VSIC 2025 dropped")
        .clone();
    let path = write_file(dir.path(), "gen.ndjson", &lines);
    import_file(&db, &path, None, 1000);
    {
        let app = app(&db).await;
        let key = db.key("portal", Role::Portal);
        let uri = format!("/v1/enterprises/{}", legacy_2018.code);
        let etag = format!("\"v{}\"", legacy_2018.version);
        let r =
            send(&app, patch(&uri, &key, Some(&etag), &serde_json::json!({"head_office": {"phone": "0243 999 8888"}})))
                .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let after: Enterprise = serde_json::from_value(r.body.clone()).unwrap();
        assert_eq!(after.head_office.phone.as_deref(), Some("0243 999 8888"));
        assert_eq!(after.head_office.legacy, legacy_2018.head_office.legacy);
        assert_eq!(after.business_lines, legacy_2018.business_lines);
        assert_eq!(after.registration_changes, legacy_2018.registration_changes);
        // Moving the head office needs the 2025 units.
        let etag = format!("\"v{}\"", after.version);
        let r = send(
            &app,
            patch(&uri, &key, Some(&etag), &serde_json::json!({"head_office": {"street": "Số 9 Tràng Tiền"}})),
        )
        .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.has_error("head_office.ward_code", "legacy_units"), "{}", r.text);
    }
}

#[actix_web::test]
async fn licences_survive_an_export_and_an_import_and_are_looked_up_by_number() {
    let source = TestDb::new();
    let portal = source.key("portal", Role::Portal);
    let transport = source.key("transport", Role::Transport);
    let source_app = app(&source).await;
    let code = register(&source_app, &portal, &appendix_a()).await.code;
    let today = registry::domain::legal_date(chrono::Utc::now()).to_string();
    let licence = serde_json::json!({"number": "GP-VT-IMPORT-1", "kind": "road_transport_business",
        "issued_on": today, "expires_on": "2036-11-25"});
    let r = send(&source_app, post_json(&format!("/v1/enterprises/{code}/licenses"), Some(&transport), &licence)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let dir = tempfile::tempdir().unwrap();
    let records = exported(&source, dir.path());
    let path = write_file(dir.path(), "records.ndjson", &records.values().map(|v| v.to_string()).collect::<Vec<_>>());

    let target = TestDb::new();
    let (summary, refused) = import_file(&target, &path, None, 100);
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(summary.enterprises, 1);
    assert_eq!(exported(&target, dir.path()), records);
    let key = target.key("tax", Role::Tax);
    let target_app = app(&target).await;
    let r = send(&target_app, get("/v1/licenses/GP-VT-IMPORT-1", Some(&key))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["enterprise"]["code"], code.as_str());
}

/// A valid code of prefix 01 at or after `serial`.
fn code_at(serial: u32) -> String {
    registry::domain::code::EnterpriseCode::next_valid("01", serial).unwrap().1.to_string()
}

/// An enterprise registered in 2012 as a migrating register writes it: only what the register
/// cannot derive. A head office in a legacy ward, a VSIC 2018-only line, a line in both editions
/// (named differently in each), two members without shares, a branch without unit names.
fn minimal(code: &str) -> serde_json::Value {
    serde_json::json!({
        "code": code, "type": "llc_multi", "status": "active", "registered_on": "2012-03-05",
        "name": {"vi": format!("Công ty TNHH Vận tải Di Trú {code}")},
        "head_office": {"street": "Số 3 phố Phó Đức Chính", "ward_code": "00001", "province_code": "01"},
        "charter_capital_vnd": 5_000_000_000i64,
        "business_lines": [{"vsic": "4933", "main": true}, {"vsic": "6201", "main": false}, {"vsic": "4711", "main": false}],
        "legal_representatives": [{"full_name": "Nguyễn Văn An", "position": "Giám đốc", "birth_date": "1980-04-12",
            "nationality": "VN", "identity": {"kind": "cccd", "number": "001080012345"}}],
        "owners": [
            {"kind": "individual", "name": "Nguyễn Văn An", "nationality": "VN",
                "identity": {"kind": "cccd", "number": "001080012345"}, "capital_vnd": 3_000_000_000i64},
            {"kind": "individual", "name": "Trần Thị Bình", "nationality": "VN",
                "identity": {"kind": "cccd", "number": "001185054321"}, "capital_vnd": 2_000_000_000i64}
        ],
        "units": [{"unit_code": format!("{code}-001"), "kind": "branch", "status": "active", "registered_on": "2015-01-02",
            "name": "Chi nhánh Công ty TNHH Vận tải Di Trú tại Hồ Chí Minh",
            "address": {"street": "Số 5 Nguyễn Huệ", "ward_code": "26743", "province_code": "79"}}]
    })
}

#[actix_web::test]
async fn a_minimal_record_imports_with_every_derived_field_derived() {
    use registry::domain::reference::VsicEdition::{Vsic2018, Vsic2025};
    let reference = registry::domain::reference_data::reference();
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let old = code_at(9_000_001);
    // Registered after VSIC 2025 took effect, in the 2025 units.
    let new = code_at(9_000_101);
    let mut recent = minimal(&new);
    recent["registered_on"] = "2026-01-10".into();
    recent["head_office"]["ward_code"] = "26743".into();
    recent["head_office"]["province_code"] = "79".into();
    recent["business_lines"] = serde_json::json!([{"vsic": "4711", "main": true}]);
    recent["units"][0]["registered_on"] = "2026-02-01".into();
    let path = write_file(dir.path(), "minimal.ndjson", &[minimal(&old).to_string(), recent.to_string()]);
    let (summary, refused) = import_file(&db, &path, None, 100);
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(summary.enterprises, 2);

    let app = app(&db).await;
    let tax = db.key("tax", Role::Tax);
    let r = send(&app, get(&format!("/v1/enterprises/{old}"), Some(&tax))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let e: Enterprise = serde_json::from_value(r.body.clone()).unwrap();
    assert_eq!((e.version, e.registration_changes), (1, 0));
    // 00:00 in Vietnam on the day of the latest thing it shows: its branch's registration.
    assert_eq!(e.updated_at.to_rfc3339(), "2015-01-01T17:00:00+00:00");
    assert_eq!(r.header("etag"), Some("\"v1\""));
    let ho = &e.head_office;
    assert_eq!((ho.ward_name.as_str(), ho.province_name.as_str()), ("Phường Phúc Xá", "Thành phố Hà Nội"));
    let legacy = ho.legacy.as_ref().expect("a legacy head office");
    assert_eq!((legacy.district_code.as_str(), legacy.district_name.as_str()), ("001", "Quận Ba Đình"));
    assert_eq!(legacy.current.ward_code, "00097");
    assert_eq!(legacy.current.ward_name, reference.ward("00097").unwrap().name);
    assert_eq!(legacy.current.province_name, "Thành phố Hà Nội");
    // Registered in 2012: its lines are VSIC 2018's, named as that edition names them.
    for line in &e.business_lines {
        assert_eq!(line.edition, Vsic2018, "{line:?}");
        assert_eq!(line.name, reference.vsic(Vsic2018, &line.vsic).unwrap().name);
    }
    let shares: Vec<f64> = e.owners.as_ref().unwrap().iter().map(|o| o.share_percent).collect();
    assert_eq!(shares, [60.0, 40.0]);
    let unit = &e.units[0];
    assert_eq!(unit.enterprise_code, old);
    assert_eq!(
        (unit.address.ward_name.as_str(), unit.address.province_name.as_str()),
        ("Phường Bến Thành", "Thành phố Hồ Chí Minh")
    );
    let unit_read = send(&app, get(&format!("/v1/units/{old}-001"), None)).await;
    assert_eq!(unit_read.body["address"]["ward_name"], "Phường Bến Thành", "{}", unit_read.text);
    // Its history: one version, registered, recorded at its registration.
    let history = send(&app, get(&format!("/v1/enterprises/{old}/history"), None)).await;
    let versions = history.body["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0]["kind"], "registered");
    assert_eq!(versions[0]["effective_on"], "2012-03-05");

    let e: Enterprise =
        serde_json::from_value(send(&app, get(&format!("/v1/enterprises/{new}"), Some(&tax))).await.body).unwrap();
    assert_eq!(e.business_lines[0].edition, Vsic2025);
    assert_eq!(e.business_lines[0].name, reference.vsic(Vsic2025, "4711").unwrap().name);
    assert_ne!(e.business_lines[0].name, reference.vsic(Vsic2018, "4711").unwrap().name);
    assert_eq!(e.head_office.ward_name, "Phường Bến Thành");
    assert!(e.head_office.legacy.is_none());
    assert_eq!(e.updated_at.to_rfc3339(), "2026-01-31T17:00:00+00:00");
    // Without units (or licences), its registration day.
    let alone = code_at(9_000_201);
    let mut bare = minimal(&alone);
    bare["units"] = serde_json::json!([]);
    let path = write_file(dir.path(), "bare.ndjson", &[bare.to_string()]);
    assert!(import_file(&db, &path, None, 100).1.is_empty());
    let e: Enterprise =
        serde_json::from_value(send(&app, get(&format!("/v1/enterprises/{alone}"), Some(&tax))).await.body).unwrap();
    assert_eq!(e.updated_at.to_rfc3339(), "2012-03-04T17:00:00+00:00");

    // The records read back import as they are into another register: given, the derived fields
    // agree with what it derives.
    let other = TestDb::new();
    let records = exported(&db, dir.path());
    let path = write_file(dir.path(), "again.ndjson", &records.values().map(|v| v.to_string()).collect::<Vec<_>>());
    let (_, refused) = import_file(&other, &path, None, 100);
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(exported(&other, dir.path()), records);
}

#[test]
fn given_derived_fields_that_contradict_the_reference_data_refuse_their_line() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let codes: Vec<String> = (0..5).map(|i| code_at(9_000_001 + i * 100)).collect();
    let good = minimal(&codes[0]);
    let mut ward = minimal(&codes[1]);
    ward["head_office"]["ward_name"] = "Phường Hàng Bạc".into();
    let mut share = minimal(&codes[2]);
    share["owners"][1]["share_percent"] = 45.0.into();
    let mut line = minimal(&codes[3]);
    line["business_lines"][2]["edition"] = "2018".into();
    line["business_lines"][2]["name"] =
        "Bán lẻ tổng hợp với lương thực, thực phẩm, đồ uống, thuốc lá, thuốc lào chiếm tỷ trọng lớn".into();
    let mut unit = minimal(&codes[4]);
    unit["units"][0]["address"]["province_name"] = "Thành phố Hà Nội".into();
    let lines: Vec<String> = [&good, &ward, &share, &line, &unit].iter().map(|v| v.to_string()).collect();
    let path = write_file(dir.path(), "contradictions.ndjson", &lines);
    let (summary, refused) = import_file(&db, &path, None, 100);
    assert_eq!(summary.enterprises, 1);
    let got: Vec<(i64, &str)> = refused.iter().map(|r| (r.line, r.reason.as_str())).collect();
    let expected = [
        (2, "head_office.ward_name: derived_mismatch"),
        (3, "owners[1].share_percent: derived_mismatch"),
        (4, "business_lines[2].name: derived_mismatch"),
        (5, "units[0].address.province_name: derived_mismatch"),
    ];
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for ((line, reason), (want_line, want)) in got.iter().zip(expected) {
        assert_eq!(*line, want_line);
        assert!(reason.starts_with(want), "line {line}: {reason}");
    }
    // Nothing of the refused lines was written.
    assert_eq!(db.count("enterprises"), 1);
    assert_eq!(db.count("enterprise_versions"), 1);
    assert_eq!(db.count("units"), 1);
    assert_eq!(db.count(&format!("enterprises WHERE code = '{}'", codes[0])), 1);
}
