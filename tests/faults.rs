//! The fault suite (SPEC §6): the real binary killed under load, consumers killed mid-stream,
//! index writes failing, PostgreSQL restarting. Each test checks what a register must never do:
//! lose an answered write, leave one half-written, leak a database session, stop by itself.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use common::service::Service;
use common::*;
use diesel::prelude::*;
use registry::domain::Role;
use serde_json::{json, Value};

/// What a writer got a 2xx for: the code, the version answered, and the street it set (for changes).
#[derive(Debug, Clone)]
struct Answered {
    code: String,
    version: i64,
    street: Option<String>,
}

fn writer(base: String, key: String, w: u64) -> Vec<Answered> {
    let reference = registry::domain::reference_data::reference();
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let mut generator = registry::cli::demo::generator(&reference, 5000 + w);
    let mut answered = Vec::new();
    let mut mine: Vec<(String, i64)> = Vec::new();
    for i in 0..1000u64 {
        let result = if i % 3 == 2 && !mine.is_empty() {
            // A registration change of one of this writer's enterprises, on the version it knows.
            let n = (i as usize / 3) % mine.len();
            let (code, version) = mine[n].clone();
            let street = format!("Số {i} đường Writer {w}");
            let sent = client
                .patch(format!("{base}/v1/enterprises/{code}"))
                .bearer_auth(&key)
                .header("Content-Type", "application/merge-patch+json")
                .header("If-Match", format!("\"v{version}\""))
                .body(json!({"head_office": {"street": street}}).to_string())
                .send();
            match sent {
                Ok(r) if r.status().as_u16() == 200 => {
                    let v = r.json::<Value>().unwrap()["version"].as_i64().unwrap();
                    mine[n].1 = v;
                    answered.push(Answered { code, version: v, street: Some(street) });
                    Ok(())
                }
                Ok(r) => Err(Some(r.status().as_u16())),
                Err(_) => Err(None),
            }
        } else {
            let mut body = generator.next_registration();
            let vi = body["name"]["vi"].as_str().unwrap().to_string();
            body["name"]["vi"] = Value::String(format!("{vi} W{w}"));
            body["name"].as_object_mut().unwrap().remove("abbreviation");
            body["name"].as_object_mut().unwrap().remove("en");
            match client.post(format!("{base}/v1/enterprises")).bearer_auth(&key).json(&body).send() {
                Ok(r) if r.status().as_u16() == 201 => {
                    let code = r.json::<Value>().unwrap()["code"].as_str().unwrap().to_string();
                    mine.push((code.clone(), 1));
                    answered.push(Answered { code, version: 1, street: None });
                    Ok(())
                }
                Ok(r) => Err(Some(r.status().as_u16())),
                Err(_) => Err(None),
            }
        };
        match result {
            Ok(()) => {}
            // Refusals of the generated data (a name conflict) are answers too; keep going.
            Err(Some(status)) if status < 500 => {}
            // No answer, or the service failing: it is being killed.
            Err(_) => break,
        }
    }
    answered
}

#[derive(QueryableByName, Debug)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text)]
    code: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    version: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    versions: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    max_version: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    events: i64,
}

#[test]
fn sigkill_under_eight_writers_loses_no_answered_write_and_half_writes_none() {
    let db = TestDb::new();
    let key = db.key("portal", Role::Portal);
    let tax = db.key("tax", Role::Tax);
    let data = tempfile::tempdir().unwrap();
    let service = Service::start(&db, data.path());
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (base, key) = (service.base.clone(), key.clone());
            std::thread::spawn(move || writer(base, key, w))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(2500));
    service.kill();
    let answered: Vec<Answered> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    // A commit the service sent before it died may still be under way: the register is looked at
    // once every session of the dead service has ended.
    until_no_sessions(&db, false, "the killed service");
    assert!(answered.iter().filter(|a| a.street.is_some()).count() > 5, "some changes were answered");
    assert!(answered.len() > 20, "the writers got writes through before the kill");

    // Every enterprise is whole: versions 1..=version, each with one feed event.
    let mut conn = db.conn();
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT e.code, e.version::bigint AS version, count(v.version) AS versions, \
                coalesce(max(v.version), 0)::bigint AS max_version, count(f.position) AS events \
         FROM enterprises e LEFT JOIN enterprise_versions v ON v.code = e.code \
         LEFT JOIN feed_events f ON f.code = v.code AND f.version = v.version GROUP BY e.code, e.version",
    )
    .load(&mut conn)
    .unwrap();
    for r in &rows {
        assert_eq!((r.versions, r.max_version, r.events), (r.version, r.version, r.version), "{r:?} is whole");
    }
    assert_eq!(db.count("feed_events"), db.count("enterprise_versions"));

    // Every answered write is there, as answered.
    let current: HashMap<String, i64> = rows.iter().map(|r| (r.code.clone(), r.version)).collect();
    for a in &answered {
        let have = current.get(&a.code).copied().unwrap_or(0);
        assert!(have >= a.version, "{} answered v{} but the register has v{have}", a.code, a.version);
        if let Some(street) = &a.street {
            #[derive(QueryableByName)]
            struct Street {
                #[diesel(sql_type = diesel::sql_types::Text)]
                street: String,
            }
            let s: Street = diesel::sql_query(
                "SELECT record->'head_office'->>'street' AS street FROM enterprise_versions WHERE code = $1 AND version = $2",
            )
            .bind::<diesel::sql_types::Text, _>(&a.code)
            .bind::<diesel::sql_types::Integer, _>(a.version as i32)
            .get_result(&mut conn)
            .unwrap();
            assert_eq!(&s.street, street);
        }
    }

    // After a restart the feed gives every version exactly once, in each enterprise's order, and
    // the index catches up by itself.
    let service = Service::start(&db, data.path());
    let client = reqwest::blocking::Client::new();
    let mut seen: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut after: Option<String> = None;
    let mut total = 0;
    loop {
        let mut req = client.get(format!("{}/v1/changes", service.base)).bearer_auth(&tax).query(&[("limit", "1000")]);
        if let Some(a) = &after {
            req = req.query(&[("after", a)]);
        }
        let page: Value = req.send().unwrap().json().unwrap();
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            break;
        }
        for e in events {
            seen.entry(e["code"].as_str().unwrap().to_string()).or_default().push(e["version"].as_i64().unwrap());
            total += 1;
        }
        after = Some(page["next"].as_str().unwrap().to_string());
    }
    assert_eq!(total, db.count("enterprise_versions"));
    for (code, versions) in &seen {
        let expected: Vec<i64> = (1..=current[code]).collect();
        assert_eq!(versions, &expected, "{code}: every version once, in order");
    }
    service.until_index_holds(&client, rows.len() as i64);
}

/// Client sessions of this test's database other than the asking one: all of them, or only those
/// doing something (not idle).
fn sessions(db: &TestDb, busy_only: bool) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Session {
        #[diesel(sql_type = diesel::sql_types::Text)]
        what: String,
    }
    let busy = if busy_only { "AND state <> 'idle'" } else { "" };
    diesel::sql_query(format!(
        "SELECT coalesce(state, '') || ': ' || left(query, 80) AS what FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' {busy}"
    ))
    .load::<Session>(&mut db.conn())
    .unwrap()
    .into_iter()
    .map(|s| s.what)
    .collect()
}

/// Waits (10 s at most) until [`sessions`] finds none.
fn until_no_sessions(db: &TestDb, busy_only: bool, what: &str) {
    let started = Instant::now();
    loop {
        let left = sessions(db, busy_only);
        if left.is_empty() {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{what}: sessions left: {left:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn consumers_killed_mid_stream_leave_no_session_or_snapshot_behind() {
    use std::io::Read;
    let db = TestDb::new();
    let tax = db.key("tax", Role::Tax);
    let data = tempfile::tempdir().unwrap();
    let service =
        Service::start_with(&db.url, data.path(), &[("REGISTRY_DEMO", "true"), ("REGISTRY_DEMO_COUNT", "1500")]);
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();

    // An export read a little, then dropped: its snapshot transaction must end.
    let mut export = client
        .get(format!("{}/v1/export", service.base))
        .bearer_auth(&tax)
        .header("Accept-Encoding", "identity")
        .send()
        .unwrap();
    assert_eq!(export.status().as_u16(), 200);
    let mut first = [0u8; 4096];
    export.read_exact(&mut first).unwrap();
    // The export may hold its snapshot still, or (when the whole register fits in the socket's
    // buffers, as with a fast build) have finished already: either way nothing may stay busy.
    std::thread::sleep(Duration::from_millis(300));
    drop(export);
    until_no_sessions(&db, true, "a dropped export");

    // Long polls cut off by their clients: nothing is held for them.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (base, tax) = (service.base.clone(), tax.clone());
            std::thread::spawn(move || {
                let short = reqwest::blocking::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
                let page: Value = reqwest::blocking::Client::new()
                    .get(format!("{base}/v1/changes?limit=1000"))
                    .bearer_auth(&tax)
                    .send()
                    .unwrap()
                    .json()
                    .unwrap();
                let mut next = page["next"].as_str().unwrap().to_string();
                // Follow to the head, then wait there and give up after half a second.
                loop {
                    let r = short
                        .get(format!("{base}/v1/changes"))
                        .bearer_auth(&tax)
                        .query(&[("after", next.as_str()), ("limit", "1000"), ("wait", "30")])
                        .send();
                    match r {
                        Ok(r) => {
                            let page: Value = r.json().unwrap();
                            if page["events"].as_array().unwrap().is_empty() {
                                break;
                            }
                            next = page["next"].as_str().unwrap().to_string();
                        }
                        Err(e) => {
                            assert!(e.is_timeout(), "{e}");
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    until_no_sessions(&db, true, "abandoned long polls");
    // And the service still answers.
    let r = client.get(format!("{}/v1/changes?limit=1", service.base)).bearer_auth(&tax).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[test]
fn postgresql_restarting_gets_503_with_retry_after_while_cached_lookups_answer_then_recovers() {
    let pgdata = tempfile::tempdir().unwrap();
    let mut cluster = match registry::cli::cluster::PrivateCluster::start(pgdata.path()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("SKIPPED: no PostgreSQL binaries for a private cluster: {e}");
            return;
        }
    };
    cluster.ensure_database("registry").unwrap();
    let url = cluster.database_url("registry");
    registry::cli::prepare(&url).unwrap();
    let key =
        registry::store::clients::add(&mut PgConnection::establish(&url).unwrap(), "portal", Role::Portal).unwrap();
    let data = tempfile::tempdir().unwrap();
    let service = Service::start_with(&url, data.path(), &[("REGISTRY_INDEX_POLL_MS", "50")]);
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let base = service.base.clone();
    let register = |name: &str| {
        client
            .post(format!("{base}/v1/enterprises"))
            .bearer_auth(&key)
            .json(&registration("llc_single", name))
            .send()
            .unwrap()
    };
    let codes: Vec<String> = ["Bình An", "Cát Tường", "Đông Phong"]
        .iter()
        .map(|n| {
            let r = register(n);
            assert_eq!(r.status().as_u16(), 201);
            r.json::<Value>().unwrap()["code"].as_str().unwrap().to_string()
        })
        .collect();
    for code in &codes {
        assert_eq!(client.get(format!("{base}/v1/enterprises/{code}")).send().unwrap().status().as_u16(), 200);
    }
    std::thread::sleep(Duration::from_millis(300));

    cluster.stop().unwrap();
    // What needs the database answers 503 with Retry-After; readiness says so.
    let r = register("Hải Đăng");
    assert_eq!(r.status().as_u16(), 503, "{:?}", r.text());
    assert!(r.headers().contains_key("retry-after"));
    let r = client.get(format!("{base}/v1/enterprises/0100233488")).send().unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(client.get(format!("{base}/readyz")).send().unwrap().status().as_u16(), 503);
    // Look-ups of cached records keep answering (marked stale once the cache can no longer be
    // kept current), and so does search, which is served by this instance's index.
    for code in &codes {
        let r = client.get(format!("{base}/v1/enterprises/{code}")).send().unwrap();
        assert_eq!(r.status().as_u16(), 200, "{code} while PostgreSQL is away");
        let body: Value = r.json().unwrap();
        assert_eq!(body["code"], code.as_str());
        assert!(body.get("owners").is_none(), "the public view, even from the cache");
    }
    // Fresh from the cache while the follower's last read of the feed is recent (2 s); after
    // that, still answered from the cache but marked stale.
    let away = Instant::now();
    loop {
        let r = client.get(format!("{base}/v1/enterprises/{}", codes[0])).send().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        if r.headers().get("warning").is_some_and(|w| w.to_str().unwrap().starts_with("110")) {
            break;
        }
        assert!(away.elapsed() < Duration::from_secs(5), "never marked stale: {:?}", r.headers());
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = client.get(format!("{base}/v1/search?q=binh+an")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // PostgreSQL comes back: the service recovers by itself.
    let _cluster = registry::cli::cluster::PrivateCluster::start(pgdata.path()).unwrap();
    let started = Instant::now();
    while client.get(format!("{base}/readyz")).send().unwrap().status().as_u16() != 200 {
        assert!(started.elapsed() < Duration::from_secs(30), "the service did not recover");
        std::thread::sleep(Duration::from_millis(200));
    }
    let r = register("Hải Đăng");
    assert_eq!(r.status().as_u16(), 201, "{:?}", r.text());
    let r = client.get(format!("{base}/v1/enterprises/{}", codes[1])).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    drop(service);
}

#[test]
fn when_index_writes_fail_writes_still_succeed_readiness_reports_the_lag_and_the_index_catches_up() {
    let db = TestDb::new();
    let key = db.key("portal", Role::Portal);
    let data = tempfile::tempdir().unwrap();
    let failpoints = tempfile::tempdir().unwrap();
    let failpoints_dir = failpoints.path().to_str().unwrap().to_string();
    let service = Service::start_with(
        &db.url,
        data.path(),
        &[("REGISTRY_FAILPOINTS_DIR", &failpoints_dir), ("REGISTRY_INDEX_POLL_MS", "50")],
    );
    let client = reqwest::blocking::Client::new();
    let ready = || service.readiness(&client);
    std::fs::write(failpoints.path().join("index-commit"), b"").unwrap();
    let mut codes = Vec::new();
    for name in ["Minh Khai", "Ngọc Lan", "Phú Quý"] {
        let r = client
            .post(format!("{}/v1/enterprises", service.base))
            .bearer_auth(&key)
            .json(&registration("jsc", name))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "the register takes writes while its index cannot");
        codes.push(r.json::<Value>().unwrap()["code"].as_str().unwrap().to_string());
    }
    let started = Instant::now();
    loop {
        let r = ready();
        if r["index"]["failing"] == true && r["index"]["lag_events"] == 3 {
            assert_eq!(r["status"], "ready", "a lagging index does not take the instance out: {r}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "readiness did not report the failing index: {r}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let metrics = client.get(format!("{}/metrics", service.base)).send().unwrap().text().unwrap();
    assert!(
        metrics.contains("registry_index_failing 1") && metrics.contains("registry_index_lag_events 3"),
        "{metrics}"
    );

    // The fault goes away: the index catches up by itself, and every registration is found.
    std::fs::remove_file(failpoints.path().join("index-commit")).unwrap();
    let started = Instant::now();
    loop {
        let r = ready();
        if r["index"]["failing"] == false && r["index"]["lag_events"] == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "the index did not catch up: {r}");
        std::thread::sleep(Duration::from_millis(50));
    }
    for code in &codes {
        let hits: Value = client
            .get(format!("{}/v1/search", service.base))
            .query(&[("q", code.as_str())])
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(hits["hits"][0]["code"], code.as_str());
    }
}
