//! The real binary: a registration is searchable within a second of its 201, and after a
//! SIGKILL the restarted service's index catches up with every committed change, none twice;
//! each instance answers look-ups from its cache and its index, kept current by the feed, and
//! never answers an instance's own write older than it was written.

mod common;

use std::time::{Duration, Instant};

use common::*;
use registry::domain::Role;
use serde_json::Value;

use common::service::Service;

fn search_total(client: &reqwest::blocking::Client, base: &str, q: &str) -> (u64, Option<String>) {
    let a: Value = client.get(format!("{base}/v1/search")).query(&[("q", q)]).send().unwrap().json().unwrap();
    (a["total"].as_u64().unwrap(), a["hits"][0]["code"].as_str().map(str::to_string))
}

#[test]
fn a_registration_is_searchable_within_a_second_of_its_201() {
    let db = TestDb::new();
    let key = db.key("portal", Role::Portal);
    let data = tempfile::tempdir().unwrap();
    let service = Service::start(&db, data.path());
    let client = reqwest::blocking::Client::new();
    let reference = registry::domain::reference_data::reference();
    let mut generator = registry::cli::demo::generator(&reference, 99);
    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let body = generator.next_registration();
        let r = client.post(format!("{}/v1/enterprises", service.base)).bearer_auth(&key).json(&body).send().unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let created = Instant::now();
        let code = r.json::<Value>().unwrap()["code"].as_str().unwrap().to_string();
        loop {
            if search_total(&client, &service.base, &code).1.as_deref() == Some(code.as_str()) {
                break;
            }
            assert!(created.elapsed() < Duration::from_secs(1), "{code} not searchable within 1 s of its 201");
            std::thread::sleep(Duration::from_millis(5));
        }
        worst = worst.max(created.elapsed());
    }
    println!("slowest registration → searchable: {worst:?}");
}

#[test]
fn after_sigkill_the_index_catches_up_with_every_committed_change() {
    let db = TestDb::new();
    let key = db.key("portal", Role::Portal);
    let data = tempfile::tempdir().unwrap();
    let service = Service::start(&db, data.path());
    let base = service.base.clone();
    let reference = registry::domain::reference_data::reference();
    // Four writers register until the service dies under them; each keeps the codes that got a 201.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (base, key, reference) = (base.clone(), key.clone(), reference.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
                let mut generator = registry::cli::demo::generator(&reference, 1000 + w);
                let mut created = Vec::new();
                for _ in 0..400 {
                    let mut body = generator.next_registration();
                    // Distinct names across writers: each writer's generator is independent.
                    let vi = body["name"]["vi"].as_str().unwrap().to_string();
                    body["name"]["vi"] =
                        Value::String(format!("{vi} {}", ["Alpha", "Beta", "Gamma", "Delta"][w as usize]));
                    body["name"].as_object_mut().unwrap().remove("abbreviation");
                    body["name"].as_object_mut().unwrap().remove("en");
                    match client.post(format!("{base}/v1/enterprises")).bearer_auth(&key).json(&body).send() {
                        Ok(r) if r.status().as_u16() == 201 => {
                            created.push(r.json::<Value>().unwrap()["code"].as_str().unwrap().to_string())
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                created
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    service.kill();
    let created: Vec<String> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    assert!(created.len() > 10, "the writers got some registrations through before the kill");

    let service = Service::start(&db, data.path());
    let client = reqwest::blocking::Client::new();
    service.until_index_holds(&client, db.count("enterprises"));
    for code in &created {
        let (total, first) = search_total(&client, &service.base, code);
        assert_eq!((total, first.as_deref()), (1, Some(code.as_str())), "{code} is searchable, once");
    }
}

#[test]
fn hostile_search_input_gets_an_answer_not_a_failure() {
    let db = TestDb::new();
    let data = tempfile::tempdir().unwrap();
    let service = Service::start(&db, data.path());
    let client = reqwest::blocking::Client::new();
    let long = "a".repeat(10_000);
    for q in [
        "",
        "   ",
        "\"",
        "*",
        ":",
        "(",
        "-",
        "~",
        "^",
        "a:b",
        "\"hoàng long",
        "hoang~2",
        "(((",
        "name:*",
        "-hoang",
        "^2",
        "\u{0}",
        "🙂",
        long.as_str(),
    ] {
        let r = client.get(format!("{}/v1/search", service.base)).query(&[("q", q)]).send().unwrap();
        let status = r.status().as_u16();
        assert!(status == 200 || status == 400, "{q:?}: {status}");
        if status == 400 {
            assert_eq!(r.headers()["content-type"], "application/problem+json");
        }
        let r = client.get(format!("{}/v1/suggest", service.base)).query(&[("q", q)]).send().unwrap();
        let status = r.status().as_u16();
        assert!(status == 200 || status == 400, "suggest {q:?}: {status}");
    }
    for limit in ["0", "1000", "-1", "x"] {
        let r = client.get(format!("{}/v1/search?q=a&limit={limit}", service.base)).send().unwrap();
        assert_eq!(r.status().as_u16(), 400, "limit={limit}");
    }
}

/// A counter of the service's `/metrics`.
fn metric(client: &reqwest::blocking::Client, base: &str, name: &str) -> f64 {
    let text = client.get(format!("{base}/metrics")).send().unwrap().text().unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
}

#[test]
fn each_instance_answers_look_ups_from_its_cache_and_sees_the_others_changes_through_the_feed() {
    let db = TestDb::new();
    let key = db.key("portal", Role::Portal);
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Service::start(&db, data_a.path());
    let b = Service::start(&db, data_b.path());
    let client = reqwest::blocking::Client::new();
    let code = register_demo(&client, &a.base, &key, 4242);
    let get = |base: &str| -> (String, Value) {
        let r = client.get(format!("{base}/v1/enterprises/{code}")).send().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        (etag, r.json().unwrap())
    };

    // B reads the record once (from its index or the database); after that its cache answers.
    let (etag, first) = get(&b.base);
    assert_eq!(first["version"], 1);
    // (While B's follower is keeping up: on a loaded machine a read may fall back to the database.)
    let hits = metric(&client, &b.base, "registry_cache_hits_total");
    let reading = Instant::now();
    loop {
        assert_eq!(get(&b.base).1, first);
        if metric(&client, &b.base, "registry_cache_hits_total") >= hits + 3.0 {
            break;
        }
        assert!(reading.elapsed() < Duration::from_secs(10), "B's look-ups never hit its cache");
        std::thread::sleep(Duration::from_millis(20));
    }

    // A changes the record; B's cached copy follows the feed within a second.
    let r = patch_phone(&client, &a.base, &key, &code, &etag, "0243 999 8888");
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().unwrap());
    let changed = Instant::now();
    loop {
        let (_, now) = get(&b.base);
        if now["version"] == 2 {
            assert_eq!(now["head_office"]["phone"], "0243 999 8888");
            break;
        }
        assert_eq!(now, first, "B answers the old version whole until it sees the new one");
        assert!(changed.elapsed() < Duration::from_secs(1), "B still answers version 1 a second after the change");
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("B answered the change {:?} after A's 200", changed.elapsed());
    // And keeps answering it from its cache.
    let hits = metric(&client, &b.base, "registry_cache_hits_total");
    let reading = Instant::now();
    loop {
        assert_eq!(get(&b.base).1["version"], 2);
        if metric(&client, &b.base, "registry_cache_hits_total") > hits {
            break;
        }
        assert!(reading.elapsed() < Duration::from_secs(10), "B's look-ups of version 2 never hit its cache");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Registers the first registration of the demo generator seeded `seed` through `base`: its code.
fn register_demo(client: &reqwest::blocking::Client, base: &str, key: &str, seed: u64) -> String {
    let mut generator = registry::cli::demo::generator(&registry::domain::reference_data::reference(), seed);
    let body = generator.next_registration();
    let r = client.post(format!("{base}/v1/enterprises")).bearer_auth(key).json(&body).send().unwrap();
    assert_eq!(r.status().as_u16(), 201);
    r.json::<Value>().unwrap()["code"].as_str().unwrap().to_string()
}

/// Changes the head office's phone of `code` through `base`, based on version `etag`.
fn patch_phone(
    client: &reqwest::blocking::Client,
    base: &str,
    key: &str,
    code: &str,
    etag: &str,
    phone: &str,
) -> reqwest::blocking::Response {
    client
        .patch(format!("{base}/v1/enterprises/{code}"))
        .bearer_auth(key)
        .header("Content-Type", "application/merge-patch+json")
        .header("If-Match", etag)
        .body(serde_json::json!({"head_office": {"phone": phone}}).to_string())
        .send()
        .unwrap()
}

#[test]
fn look_ups_are_answered_from_the_index_but_never_older_than_this_instances_own_write() {
    let db = TestDb::new();
    let key = db.key("portal", Role::Portal);
    // No record cache: whatever the database does not answer comes from the index.
    let no_cache = [("REGISTRY_CACHE_MB", "0")];
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Service::start_with(&db.url, data_a.path(), &no_cache);
    let b = Service::start_with(&db.url, data_b.path(), &no_cache);
    let client = reqwest::blocking::Client::new();
    let code = register_demo(&client, &a.base, &key, 777);
    let get = |base: &str, key: Option<&str>| -> (String, Value) {
        let mut req = client.get(format!("{base}/v1/enterprises/{code}"));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let r = req.send().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        (etag, r.json().unwrap())
    };

    // B answers from its index once its follower has the registration; both views.
    let from_index = metric(&client, &b.base, "registry_lookups_from_index_total");
    let reading = Instant::now();
    loop {
        let (etag, public) = get(&b.base, None);
        assert_eq!((etag.as_str(), &public["version"]), ("\"v1\"", &Value::from(1)));
        assert!(public.get("owners").is_none() && public.get("licenses").is_none(), "the public view");
        if metric(&client, &b.base, "registry_lookups_from_index_total") >= from_index + 1.0 {
            break;
        }
        assert!(reading.elapsed() < Duration::from_secs(10), "B never answered from its index");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_, full) = get(&b.base, Some(&key));
    assert_eq!(full["licenses"], serde_json::json!([]), "the full view, with a key");
    assert!(full["legal_representatives"][0].get("identity").is_some());

    // A changes the record again and again; each time, A's next look-up (at once, while A's index
    // still holds the version before) answers the version A wrote, never the older one.
    let mut etag = "\"v1\"".to_string();
    let mut written = Value::Null;
    for n in 2..=8 {
        let r = patch_phone(&client, &a.base, &key, &code, &etag, &format!("0243 999 88{n:02}"));
        assert_eq!(r.status().as_u16(), 200, "{}", r.text().unwrap());
        written = r.json().unwrap();
        let (now_etag, now) = get(&a.base, None);
        assert_eq!(now["version"], n, "A's own write, read back at once");
        assert_eq!(now_etag, format!("\"v{n}\""));
        etag = now_etag;
    }
    // B sees the last version through the feed within a second.
    let changed = Instant::now();
    while get(&b.base, None).1["version"] != 8 {
        assert!(changed.elapsed() < Duration::from_secs(1), "B still answers an old version a second after");
        std::thread::sleep(Duration::from_millis(10));
    }
    // What B's index answers is the record A wrote, field for field (the full view adds the
    // empty list of licences).
    let (_, mut full) = get(&b.base, Some(&key));
    assert_eq!(full.as_object_mut().unwrap().remove("licenses"), Some(serde_json::json!([])));
    written.as_object_mut().unwrap().remove("licenses");
    assert_eq!(full, written);
}
