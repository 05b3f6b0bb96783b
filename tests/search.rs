//! Search and suggest through the API, the index following the feed, crash resume and rebuild.

mod common;

use std::time::{Duration, Instant};

use common::*;
use registry::domain::Role;
use serde_json::{json, Value};

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Searches until `pred` holds on the answer (the index follows the feed asynchronously).
async fn search_until<B: actix_web::body::MessageBody>(
    app: &impl TestApp<B>,
    query: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let r = send(app, get(&format!("/v1/search?{query}"), None)).await;
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        if pred(&r.body) {
            return r.body;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{query}: never became true; last answer {}", r.text);
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

fn codes(answer: &Value) -> Vec<String> {
    answer["hits"].as_array().unwrap().iter().map(|h| h["code"].as_str().unwrap().to_string()).collect()
}

fn first(answer: &Value) -> Option<String> {
    codes(answer).into_iter().next()
}

#[actix_web::test]
async fn search_finds_names_however_they_are_typed() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let code = register(&app, &key, &appendix_a()).await.code;
    for (i, name) in
        ["Đường Sắt Việt", "Dương Minh Châu", "Thương Mại Sao Mai", "Xây Dựng Hoàng Gia"].iter().enumerate()
    {
        let mut b = registration(["llc_multi", "jsc", "llc_single", "private_enterprise"][i], name);
        b["head_office"] = json!({"street": "Số 1", "ward_code": "00070", "province_code": "01"});
        assert_eq!(send(&app, post_json("/v1/enterprises", Some(&key), &b)).await.status, 201);
    }
    let found = |c: String| move |a: &Value| codes(a).contains(&c);
    // Without diacritics, reordered, in NFD, with one typo in a long word, by code and prefix.
    for q in [
        "hoang long phat",
        "phat hoang long",
        "Ho\u{0300}ang Long Pha\u{0301}t",
        "Hoàng Lonng Phát",
        "van tai hoang long",
        "HOÀNG LONG PHÁT",
        "VT hoang long phat",
        "HLP TRANSPORT",
        code.as_str(),
        &code[..6],
    ] {
        let a = search_until(&app, &format!("q={}", enc(q)), found(code.clone())).await;
        assert_eq!(first(&a).as_deref(), Some(code.as_str()), "{q}: {a}");
    }
    let a = search_until(&app, "q=hoang+long+phat", found(code.clone())).await;
    let hit = &a["hits"][0];
    assert_eq!(hit["name"], "Công ty TNHH Vận tải Hoàng Long Phát");
    assert_eq!(hit["status"], "active");
    assert_eq!(hit["province"], "01");
    assert_eq!(hit["province_name"], "Thành phố Hà Nội");
    assert!(hit["score"].as_f64().unwrap() > 0.0);
    assert!(!hit["matched"]["fields"].as_array().unwrap().is_empty());
    assert!(!hit["matched"]["words"].as_array().unwrap().is_empty());
    assert!(!a.to_string().contains("001080012345"), "no personal data in hits");
    // Exact diacritics rank first; folded finds both.
    let a = search_until(&app, &format!("q={}", enc("Đường")), |a| a["total"].as_u64() >= Some(1)).await;
    assert_eq!(a["hits"][0]["name"], "Công ty TNHH Đường Sắt Việt");
    let a = search_until(&app, "q=duong", |a| a["total"].as_u64() >= Some(2)).await;
    let names: Vec<&str> = a["hits"].as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert!(
        names[..2].contains(&"Công ty TNHH Đường Sắt Việt") && names[..2].contains(&"Công ty cổ phần Dương Minh Châu"),
        "{names:?}"
    );
    // Words no name holds: the search relaxes (typos, then a word left out) rather than answering
    // an empty page, says so in every hit, and does not flood.
    let a = search_until(&app, "q=sao+mao", |_| true).await;
    assert!(a["total"].as_u64().unwrap() <= 2, "{a}");
    for hit in a["hits"].as_array().unwrap() {
        assert!(["typo", "partial"].contains(&hit["matched"]["step"].as_str().unwrap()), "{hit}");
    }
    let a = search_until(&app, &format!("q={}", enc("Đường Sắt Việt")), |_| true).await;
    assert_eq!(a["hits"][0]["matched"]["step"], "exact");
}

#[actix_web::test]
async fn filters_paging_and_bad_parameters() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    for i in 0..25 {
        let mut b = registration(
            if i % 2 == 0 { "jsc" } else { "llc_multi" },
            &format!("Thương Mại {}", ["An", "Bình", "Cường", "Dũng", "Giang"][i % 5]),
        );
        b["name"]["vi"] = json!(format!(
            "{} Thương Mại {} {}",
            if i % 2 == 0 { "Công ty cổ phần" } else { "Công ty TNHH" },
            ["An", "Bình", "Cường", "Dũng", "Giang"][i % 5],
            ["Phát", "Lộc", "Thịnh", "Vượng", "Tài"][i / 5]
        ));
        if i >= 20 {
            b["head_office"] = json!({"street": "Số 1", "ward_code": "00070", "province_code": "01"});
        }
        let r = send(&app, post_json("/v1/enterprises", Some(&key), &b)).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let all = search_until(&app, "q=thuong+mai&limit=100", |a| a["total"] == 25).await;
    assert_eq!(codes(&all).len(), 25);
    let hanoi = search_until(&app, "q=thuong+mai&province=01", |_| true).await;
    assert_eq!(hanoi["total"], 5);
    let jsc = search_until(&app, "q=thuong+mai&type=jsc", |_| true).await;
    assert_eq!(jsc["total"], 13);
    let listing = search_until(&app, "province=79&limit=100", |_| true).await;
    assert_eq!(listing["total"], 20);
    let mut listed = codes(&listing);
    let sorted = {
        let mut s = listed.clone();
        s.sort();
        s
    };
    assert_eq!(listed, sorted, "without text, by code");
    listed.clear();
    let vsic = search_until(&app, "q=thuong+mai&vsic=47", |_| true).await;
    assert_eq!(vsic["total"], 25);
    let none = search_until(&app, "q=thuong+mai&status=ceased", |_| true).await;
    assert_eq!(none["total"], 0);

    // Paging with the cursor: every hit once, same order as one big page.
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            None => "q=thuong+mai&limit=7".to_string(),
            Some(c) => format!("q=thuong+mai&limit=7&cursor={}", enc(c)),
        };
        let page = send(&app, get(&format!("/v1/search?{q}"), None)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        walked.extend(codes(&page.body));
        match page.body["next"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(walked, codes(&all));

    for (q, field) in [
        ("q=x&limit=0", "limit"),
        ("q=x&limit=101", "limit"),
        ("q=x&status=asleep", "status"),
        ("q=x&type=llc", "type"),
        ("q=x&province=02", "province"),
        ("q=x&vsic=ab", "vsic"),
        ("q=x&registered_from=2026-02-01&registered_to=2026-01-01", "registered_from"),
    ] {
        let r = send(&app, get(&format!("/v1/search?{q}"), None)).await;
        assert_eq!(r.status, 400, "{q}");
        assert!(r.field_errors().iter().any(|(f, _)| f == field), "{q}: {:?}", r.field_errors());
    }
    let r = send(&app, get("/v1/search?q=x&cursor=forged", None)).await;
    assert_eq!(r.status, 400);
    assert!(r.has_error("cursor", "invalid_cursor"));
    let r = send(&app, get("/v1/search?q=x&registered_from=yesterday", None)).await;
    assert_eq!(r.status, 400);
    let r = send(&app, get("/v1/search?q=x&colour=red", None)).await;
    assert_eq!(r.status, 400);
}

#[actix_web::test]
async fn changes_become_searchable_and_former_names_still_find() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let code = register(&app, &key, &appendix_a()).await.code;
    search_until(&app, "q=hoang+long+phat", |a| first(a).as_deref() == Some(code.as_str())).await;
    let renamed = send(
        &app,
        patch(
            &format!("/v1/enterprises/{code}"),
            &key,
            Some("\"v1\""),
            &json!({"name": {"vi": "Công ty TNHH Logistics Bạch Đằng"}}),
        ),
    )
    .await;
    assert_eq!(renamed.status, 200);
    let a = search_until(&app, "q=bach+dang", |a| first(a).as_deref() == Some(code.as_str())).await;
    assert_eq!(a["hits"][0]["name"], "Công ty TNHH Logistics Bạch Đằng");
    let a = search_until(&app, "q=hoang+long+phat", |a| first(a).as_deref() == Some(code.as_str())).await;
    assert!(a["hits"][0]["matched"]["fields"].as_array().unwrap().iter().any(|f| f == "former_names"), "{a}");
    // A unit's name and code find the enterprise.
    let unit = json!({"kind": "branch", "name": "Chi nhánh Công ty TNHH Logistics Bạch Đằng tại Cần Thơ",
        "address": {"street": "Số 2", "ward_code": "31120", "province_code": "92"}});
    let u = send(&app, post_json(&format!("/v1/enterprises/{code}/units"), Some(&key), &unit)).await;
    assert_eq!(u.status, 201, "{}", u.text);
    search_until(&app, &format!("q={}", enc(&format!("{code}-001"))), |a| first(a).as_deref() == Some(code.as_str()))
        .await;
    let a = search_until(&app, "q=chi+nhanh+can+tho", |a| first(a).as_deref() == Some(code.as_str())).await;
    assert!(a["hits"][0]["matched"]["fields"].as_array().unwrap().iter().any(|f| f == "unit_names"), "{a}");
    // Statuses follow too.
    let s = send(
        &app,
        post_json(&format!("/v1/enterprises/{code}/status"), Some(&key), &json!({"status": "dissolving"}))
            .insert_header(("If-Match", "\"v3\"")),
    )
    .await;
    assert_eq!(s.status, 200, "{}", s.text);
    search_until(&app, "q=bach+dang&status=dissolving", |a| a["total"] == 1).await;

    // Suggest completes the last word.
    let sug = send(&app, get(&format!("/v1/suggest?q={}", enc("logistics bạch đ")), None)).await;
    assert_eq!(sug.status, 200);
    assert_eq!(sug.body["suggestions"][0]["code"], code.as_str());
    let sug = send(&app, get("/v1/suggest?q=bach&limit=11", None)).await;
    assert_eq!(sug.status, 400);

    // Readiness and metrics report the index at the feed head.
    let ready = send(&app, get("/readyz", None)).await;
    assert_eq!(ready.body["index"]["lag_events"], 0, "{}", ready.text);
    assert_eq!(ready.body["index"]["position"], 4);
    let metrics = send(&app, get("/metrics", None)).await;
    assert!(metrics.text.contains("registry_index_position 4"), "{}", metrics.text);
    assert!(metrics.text.contains("registry_feed_events_total 4"), "{}", metrics.text);
    assert!(metrics.text.contains("registry_index_lag_events 0"));
}

#[actix_web::test]
async fn the_index_resumes_from_its_commit_and_rebuilds_into_a_new_generation() {
    use registry::indexer::{self, Search};
    let db = TestDb::new();
    let pool = db.pool();
    let reference = registry::domain::reference_data::reference();
    registry::cli::demo::load(&pool, &reference, 40).unwrap();
    let root = db.index_dir.path();
    {
        let s = Search::open(root).unwrap();
        let applied = s.catch_up(&mut pool.get().unwrap()).unwrap();
        assert_eq!(applied, 40);
        assert_eq!(s.index().position(), Some(40));
    }
    // More writes while no index runs (as after a crash); reopening resumes from position 40.
    let mut g = registry::cli::demo::generator(&reference, 777);
    for _ in 0..10 {
        let content: registry::domain::registration::RegistrationContent =
            serde_json::from_value(g.next_registration()).unwrap();
        let now = chrono::Utc::now();
        let valid = content.validate_content(&reference, registry::domain::legal_date(now)).unwrap();
        let ctx = registry::store::enterprises::WriteContext {
            actor: "test".into(),
            at: now,
            effective_on: registry::domain::legal_date(now),
            reason: None,
        };
        registry::store::enterprises::register(&mut pool.get().unwrap(), valid, &ctx, None).ok();
    }
    let head = registry::store::feed::head(&mut pool.get().unwrap()).unwrap();
    let s = Search::open(root).unwrap();
    assert_eq!(s.index().position(), Some(40), "the position survives in the commit");
    let applied = s.catch_up(&mut pool.get().unwrap()).unwrap();
    assert_eq!(applied as i64, head - 40);
    assert_eq!(s.index().num_docs() as i64, head);

    // Rebuild while serving: the served index switches to the new generation on its next check.
    struct Quiet;
    impl indexer::Progress for Quiet {
        fn total(&self, _: u64) {}
        fn advance(&self, _: u64) {}
    }
    let before = std::fs::read_to_string(root.join("CURRENT")).unwrap();
    let (position, count) = indexer::rebuild(&mut pool.get().unwrap(), root, &Quiet).unwrap();
    assert_eq!((position, count as i64), (head, head));
    assert_ne!(std::fs::read_to_string(root.join("CURRENT")).unwrap(), before);
    assert_eq!(s.index().position(), Some(head as u64), "the old generation still serves");
    s.catch_up(&mut pool.get().unwrap()).unwrap();
    assert_eq!(s.index().num_docs() as i64, head);
    let generations = std::fs::read_dir(root)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("gen-"))
        .count();
    assert_eq!(generations, 1, "the old generation is removed once replaced");
}

#[actix_web::test]
async fn a_damaged_index_is_replaced_and_refilled_from_the_feed() {
    use registry::indexer::Search;
    let db = TestDb::new();
    let pool = db.pool();
    registry::cli::demo::load(&pool, &registry::domain::reference_data::reference(), 20).unwrap();
    let root = db.index_dir.path();
    {
        let s = Search::open(root).unwrap();
        s.catch_up(&mut pool.get().unwrap()).unwrap();
    }
    let current = std::fs::read_to_string(root.join("CURRENT")).unwrap();
    std::fs::write(root.join(current.trim()).join("meta.json"), b"{ not json").unwrap();
    let s = Search::open(root).unwrap();
    assert_eq!(s.index().num_docs(), 0);
    assert_eq!(s.catch_up(&mut pool.get().unwrap()).unwrap(), 20);
    assert_eq!(s.index().num_docs(), 20);
}
