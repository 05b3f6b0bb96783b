//! Consumers: road-transport licences, verification, rate limits, revocation, malformed
//! keys, the personal-data access log, and no personal data in any public answer.

mod common;

use actix_web::test;
use common::*;
use registry::api::limits::{LimitConfig, Rate};
use registry::api::{self};
use registry::domain::Role;
use serde_json::{json, Value};

fn license_body(number: &str) -> Value {
    json!({"number": number, "kind": "road_transport_business", "issued_on": today(), "expires_on": "2036-11-25", "status": "valid"})
}

fn today() -> String {
    registry::domain::legal_date(chrono::Utc::now()).to_string()
}

#[actix_web::test]
async fn a_licence_is_recorded_as_a_version_with_its_event_and_looked_up_by_number() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport-ministry", Role::Transport);
    let tax = db.key("tax", Role::Tax);
    let app = app(&db).await;
    let code = register(&app, &portal, &appendix_a()).await.code;

    let path = format!("/v1/enterprises/{code}/licenses");
    let r = send(&app, post_json(&path, Some(&transport), &license_body("gp-vt-0001"))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("location"), Some("/v1/licenses/GP-VT-0001"));
    assert_eq!(r.header("etag"), Some("\"v2\""));
    assert_eq!(r.body["number"], "GP-VT-0001");
    assert_eq!(r.body["enterprise_code"], code.as_str());
    assert_eq!(r.body["recorded_by"], "transport-ministry");

    // The enterprise lists it in the full view, not in the public one.
    let full = send(&app, get(&format!("/v1/enterprises/{code}"), Some(&tax))).await;
    assert_eq!(full.body["version"], 2);
    assert_eq!(full.body["licenses"][0]["number"], "GP-VT-0001");
    let public = send(&app, get(&format!("/v1/enterprises/{code}"), None)).await;
    assert!(public.body.get("licenses").is_none(), "{}", public.text);

    // History and feed.
    let history = send(&app, get(&format!("/v1/enterprises/{code}/history"), None)).await;
    assert_eq!(history.body["versions"][0]["kind"], "license_recorded", "{}", history.text);
    assert_eq!(history.body["versions"][0]["changed_fields"], json!(["licenses"]));
    let feed = send(&app, get("/v1/changes", Some(&tax))).await;
    let last = feed.body["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "license_recorded");
    assert_eq!(last["record"]["licenses"][0]["number"], "GP-VT-0001");

    // Any key may look it up, in any case; the public may not.
    let r = send(&app, get("/v1/licenses/gp-vt-0001", Some(&portal))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["in_force"], true);
    assert_eq!(r.body["enterprise"]["code"], code.as_str());
    assert_eq!(r.body["enterprise"]["active"], true);
    assert_eq!(r.body["enterprise"]["name"]["vi"], "Công ty TNHH Vận tải Hoàng Long Phát");
    assert!(!r.text.contains("001080012345"), "no personal data: {}", r.text);
    assert_eq!(send(&app, get("/v1/licenses/GP-VT-0001", None)).await.status, 401);
    assert_eq!(send(&app, get("/v1/licenses/GP-VT-9999", Some(&portal))).await.status, 404);
    assert_eq!(send(&app, get("/v1/licenses/x", Some(&portal))).await.status, 400);

    // Only the transport ministry records licences.
    let r = send(&app, post_json(&path, Some(&portal), &license_body("GP-VT-0002"))).await;
    assert_eq!(r.status, 403);
}

#[actix_web::test]
async fn licences_are_refused_without_a_transport_line_when_inactive_or_duplicate() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let app = app(&db).await;
    let carrier = register(&app, &portal, &appendix_a()).await.code;
    let shop = register(&app, &portal, &registration("llc_single", "Tạp hoá Bình Minh")).await.code;

    // No road-transport line.
    let r = send(&app, post_json(&format!("/v1/enterprises/{shop}/licenses"), Some(&transport), &license_body("GP-1")))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["type"], "license_refused");
    assert!(r.has_error("enterprise.business_lines", "no_road_transport_line"), "{}", r.text);
    assert!(r.body["detail"].as_str().unwrap().contains("road-transport"));

    // Duplicate number, whatever its case.
    let path = format!("/v1/enterprises/{carrier}/licenses");
    assert_eq!(send(&app, post_json(&path, Some(&transport), &license_body("GP-2"))).await.status, 201);
    let r = send(&app, post_json(&path, Some(&transport), &license_body("gp-2"))).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["type"], "license_exists");
    assert!(r.has_error("number", "license_exists"));

    // Dates out of order, an expiry in the past, an unknown field.
    let mut body = license_body("GP-3");
    body["expires_on"] = json!("2020-01-01");
    let r = send(&app, post_json(&path, Some(&transport), &body)).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["type"], "validation_failed");
    assert!(r.has_error("expires_on", "expired") && r.has_error("expires_on", "before_issue"), "{}", r.text);
    let mut body = license_body("GP-3");
    body["colour"] = json!("red");
    assert_eq!(send(&app, post_json(&path, Some(&transport), &body)).await.status, 400);

    // Inactive: dissolving.
    let status = json!({"status": "dissolving"});
    let r = send(
        &app,
        post_json(&format!("/v1/enterprises/{carrier}/status"), Some(&portal), &status)
            .insert_header(("If-Match", "\"v2\"")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = send(&app, post_json(&path, Some(&transport), &license_body("GP-4"))).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.has_error("enterprise.status", "not_active"), "{}", r.text);
    // Nothing half-written by the refusals: two versions besides the registrations' and the
    // dissolution, one licence.
    assert_eq!(db.count("licenses"), 1);
    assert_eq!(db.count("enterprise_versions"), 4);
}

#[actix_web::test]
async fn a_stale_if_match_and_a_retry_with_the_same_idempotency_key() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let app = app(&db).await;
    let code = register(&app, &portal, &appendix_a()).await.code;
    let path = format!("/v1/enterprises/{code}/licenses");
    let r = send(&app, post_json(&path, Some(&transport), &license_body("GP-5")).insert_header(("If-Match", "\"v7\"")))
        .await;
    assert_eq!(r.status, 412, "{}", r.text);
    let first =
        send(&app, post_json(&path, Some(&transport), &license_body("GP-5")).insert_header(("Idempotency-Key", "k1")))
            .await;
    assert_eq!(first.status, 201);
    let again =
        send(&app, post_json(&path, Some(&transport), &license_body("GP-5")).insert_header(("Idempotency-Key", "k1")))
            .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(db.count("licenses"), 1);
}

#[actix_web::test]
async fn revoking_an_enterprise_reports_its_licences_in_force_in_the_feed() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let app = app(&db).await;
    let code = register(&app, &portal, &appendix_a()).await.code;
    let path = format!("/v1/enterprises/{code}/licenses");
    assert_eq!(send(&app, post_json(&path, Some(&transport), &license_body("GP-A"))).await.status, 201);
    let mut suspended = license_body("GP-B");
    suspended["status"] = json!("suspended");
    assert_eq!(send(&app, post_json(&path, Some(&transport), &suspended)).await.status, 201);
    let r = send(
        &app,
        post_json(
            &format!("/v1/enterprises/{code}/status"),
            Some(&portal),
            &json!({"status": "dissolving", "reason": "certificate_revoked"}),
        )
        .insert_header(("If-Match", "\"v3\"")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let feed = send(&app, get("/v1/changes", Some(&transport))).await;
    let events = feed.body["events"].as_array().unwrap();
    let revoked = events.last().unwrap();
    assert_eq!(revoked["kind"], "status_changed");
    let reported: Vec<&str> =
        revoked["licenses_in_force"].as_array().unwrap().iter().map(|l| l["number"].as_str().unwrap()).collect();
    assert_eq!(reported, vec!["GP-A"], "only the valid licence is reported");
    assert!(events[..events.len() - 1].iter().all(|e| e.get("licenses_in_force").is_none()));
}

async fn verify<B: actix_web::body::MessageBody>(app: &impl TestApp<B>, key: &str, claims: Value) -> Reply {
    send(app, post_json("/v1/verify", Some(key), &claims)).await
}

#[actix_web::test]
async fn verify_answers_each_claim_and_reveals_nothing_else() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let app = app(&db).await;
    let code = register(&app, &portal, &appendix_a()).await.code;
    let all = json!({
        "code": code, "name": "Công ty TNHH Vận tải Hoàng Long Phát",
        "legal_representative": {"full_name": "Nguyễn Văn An", "identity_number": "001080012345"},
        "vsic": ["4933"]
    });
    let r = verify(&app, &transport, all.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"code": code, "exists": true, "status": "active", "active": true,
               "checks": {"name": "match", "legal_representative": "match", "vsic": {"4933": "match"}}})
    );

    // Each kind of mismatch.
    let mut name = all.clone();
    name["name"] = json!("Công ty TNHH Vận tải Hoàng Long");
    assert_eq!(verify(&app, &transport, name).await.body["checks"]["name"], "mismatch");
    let mut rep_name = all.clone();
    rep_name["legal_representative"]["full_name"] = json!("Trần Thị Bình");
    assert_eq!(verify(&app, &transport, rep_name).await.body["checks"]["legal_representative"], "mismatch");
    let mut rep_number = all.clone();
    rep_number["legal_representative"]["identity_number"] = json!("001185054321");
    let r = verify(&app, &transport, rep_number).await;
    assert_eq!(r.body["checks"]["legal_representative"], "mismatch");
    assert_eq!(r.body["checks"]["name"], "match");
    let mut vsic = all.clone();
    vsic["vsic"] = json!(["4933", "4931"]);
    assert_eq!(
        verify(&app, &transport, vsic).await.body["checks"]["vsic"],
        json!({"4933": "match", "4931": "mismatch"})
    );

    // No personal data beyond the claim: nothing of the record's other people or dates.
    let r =
        verify(&app, &transport, json!({"code": code, "legal_representative": {"full_name": "Nguyễn Văn An"}})).await;
    for secret in ["001080012345", "1980-04-12", "Trần Thị Bình", "001185054321", "owners", "identity"] {
        assert!(!r.text.contains(secret), "{secret} leaked: {}", r.text);
    }

    // As of a day before the registration: not registered then.
    let r = verify(
        &app,
        &transport,
        json!({"code": code, "name": "Công ty TNHH Vận tải Hoàng Long Phát", "as_of": "2000-01-01"}),
    )
    .await;
    assert_eq!(r.body["exists"], false);
    assert_eq!(r.body["checks"]["name"], "mismatch");

    // An unknown (well-formed) code; a malformed one; without a key.
    let r = verify(&app, &portal, json!({"code": "0100233488", "name": "Công ty TNHH X"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["exists"], false);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["checks"]["name"], "mismatch");
    let r = verify(&app, &portal, json!({"code": "12345"})).await;
    assert_eq!(r.status, 422);
    assert!(r.has_error("code", "invalid_code"));
    assert_eq!(send(&app, post_json("/v1/verify", None, &all)).await.status, 401);
}

#[actix_web::test]
async fn verify_a_ceased_enterprise() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let tax = db.key("tax", Role::Tax);
    let app = app(&db).await;
    let code = register(&app, &portal, &appendix_a()).await.code;
    for (status, version) in [("dissolving", 1), ("ceased", 2)] {
        let r = send(
            &app,
            post_json(&format!("/v1/enterprises/{code}/status"), Some(&portal), &json!({"status": status}))
                .insert_header(("If-Match", format!("\"v{version}\""))),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = verify(&app, &tax, json!({"code": code, "name": "Công ty TNHH Vận tải Hoàng Long Phát"})).await;
    assert_eq!(r.body["exists"], true);
    assert_eq!(r.body["status"], "ceased");
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["checks"]["name"], "match");
}

#[actix_web::test]
async fn one_key_over_its_limit_gets_429_while_another_is_served() {
    let db = TestDb::new();
    let flood = db.key("flood", Role::Portal);
    let calm = db.key("calm", Role::Portal);
    let limits = LimitConfig {
        client: Rate { per_second: 1, burst: 5 },
        address: Rate { per_second: 1, burst: 5 },
        auth_failures: Rate::OFF,
    };
    let app = test::init_service(api::app(state_with_limits(&db, limits))).await;
    let mut limited = None;
    for _ in 0..20 {
        let r = send(&app, get("/v1/reference/provinces", Some(&flood))).await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status, 200);
    }
    let limited = limited.expect("the flood was limited");
    assert_eq!(limited.body["type"], "rate_limited");
    assert!(limited.header("retry-after").unwrap().parse::<u32>().unwrap() >= 1);
    assert_eq!(send(&app, get("/v1/reference/provinces", Some(&calm))).await.status, 200);

    // Without a key, per address: one address is limited, another is not.
    let from = |ip: &str| get("/v1/reference/provinces", None).peer_addr(format!("{ip}:4000").parse().unwrap());
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(send(&app, from("192.0.2.1")).await.status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(send(&app, from("192.0.2.2")).await.status, 200);
}

#[actix_web::test]
async fn repeated_bad_keys_from_one_address_are_refused_before_the_database() {
    let db = TestDb::new();
    let good = db.key("good", Role::Portal);
    let limits = LimitConfig { client: Rate::OFF, address: Rate::OFF, auth_failures: Rate { per_second: 1, burst: 3 } };
    let app = test::init_service(api::app(state_with_limits(&db, limits))).await;
    let attacker =
        |key: &str| get("/v1/reference/provinces", Some(key)).peer_addr("198.51.100.7:5000".parse().unwrap());
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(send(&app, attacker(&format!("nerd_guess{i}"))).await.status);
    }
    assert_eq!(&statuses[..3], &[401, 401, 401]);
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    // Even the right key is refused from that address while it is blocked; others are served.
    assert_eq!(send(&app, attacker(&good)).await.status, 429);
    let elsewhere = get("/v1/reference/provinces", Some(&good)).peer_addr("198.51.100.8:5000".parse().unwrap());
    assert_eq!(send(&app, elsewhere).await.status, 200);
}

#[actix_web::test]
async fn a_revoked_key_stops_working_within_the_trust_period() {
    let db = TestDb::new();
    let key = db.key("portal", Role::Portal);
    let app = app(&db).await;
    let body = registration("llc_single", "Ánh Dương");
    assert_eq!(send(&app, post_json("/v1/enterprises", Some(&key), &body)).await.status, 201);
    assert!(registry::store::clients::revoke(&mut db.conn(), "portal").unwrap());
    // The instance may still trust the key it accepted a moment ago, but not past KEY_TRUST.
    tokio::time::sleep(registry::api::auth::KEY_TRUST + std::time::Duration::from_millis(100)).await;
    let r = send(&app, get("/v1/reference/provinces", Some(&key))).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &registration("llc_single", "Bình Minh"))).await;
    assert_eq!(r.status, 401, "{}", r.text);
}

#[actix_web::test]
async fn every_malformed_authorization_gets_the_same_401() {
    let db = TestDb::new();
    let key = db.key("portal", Role::Portal);
    let app = app(&db).await;
    let mut wrong_body = key.clone();
    wrong_body.pop();
    wrong_body.push(if key.ends_with('A') { 'B' } else { 'A' });
    let headers: Vec<Vec<u8>> = vec![
        key.clone().into_bytes(),                              // no scheme
        format!("Basic {key}").into_bytes(),                   // wrong scheme
        b"Bearer".to_vec(),                                    // empty
        b"Bearer ".to_vec(),                                   // empty key
        format!("Bearer {}", "x".repeat(10_240)).into_bytes(), // 10 kB
        "Bearer nerd_khóa".as_bytes().to_vec(),                // non-ASCII
        vec![b'B', b'e', 0xff, 0xfe],                          // not UTF-8
        format!("Bearer {wrong_body}").into_bytes(),           // right prefix, wrong body
        b"Bearer nerd_".to_vec(),                              // the prefix alone
        format!("Bearer {key} extra").into_bytes(),            // trailing words
    ];
    let mut bodies = Vec::new();
    for h in headers {
        let value = actix_web::http::header::HeaderValue::from_bytes(&h).unwrap();
        let r = send(
            &app,
            test::TestRequest::get().uri("/v1/enterprises/0100233488").insert_header(("Authorization", value)),
        )
        .await;
        assert_eq!(r.status, 401, "{:?}: {}", String::from_utf8_lossy(&h), r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        bodies.push(r.text);
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "every failure reads the same: {bodies:?}");
    // The right key, written with another case of the scheme, is accepted.
    let r = send(&app, get("/v1/reference/provinces", None).insert_header(("Authorization", format!("bearer {key}"))))
        .await;
    assert_eq!(r.status, 200);
}

#[actix_web::test]
async fn full_views_verifications_and_bulk_reads_are_logged_and_public_reads_are_not() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let tax = db.key("tax-agency", Role::Tax);
    let transport = db.key("transport", Role::Transport);
    let state = state(&db);
    let app = test::init_service(api::app(state.clone())).await;
    let code = register(&app, &portal, &appendix_a()).await.code;
    let other = register(&app, &portal, &registration("jsc", "Sao Mai")).await.code;

    assert_eq!(send(&app, get(&format!("/v1/enterprises/{code}"), None)).await.status, 200);
    assert_eq!(send(&app, get(&format!("/v1/enterprises/{code}"), Some(&tax))).await.status, 200);
    assert_eq!(send(&app, get(&format!("/v1/enterprises/{code}?as_of=2030-01-01"), Some(&tax))).await.status, 200);
    assert_eq!(verify(&app, &transport, json!({"code": code})).await.status, 200);
    assert_eq!(send(&app, get("/v1/changes", Some(&tax))).await.status, 200);
    assert!(state.access.flush(&state.pool));

    let mut conn = db.conn();
    let entries = registry::store::access_log::for_code(&mut conn, &code, 100).unwrap();
    let seen: Vec<(&str, &str, Option<&str>)> =
        entries.iter().map(|e| (e.client.as_str(), e.action.as_str(), e.detail.as_deref())).collect();
    assert_eq!(
        seen,
        vec![
            ("transport", "verify", None),
            ("tax-agency", "authority_view", Some("as_of=2030-01-01")),
            ("tax-agency", "authority_view", None),
        ]
    );
    assert!(entries.iter().all(|e| e.request_id.is_some()));
    assert!(registry::store::access_log::for_code(&mut conn, &other, 100).unwrap().is_empty());
    let bulk =
        registry::store::access_log::bulk_since(&mut conn, chrono::Utc::now() - chrono::Duration::hours(1)).unwrap();
    assert_eq!(bulk.len(), 1);
    assert_eq!((bulk[0].client.as_str(), bulk[0].action.as_str(), bulk[0].count), ("tax-agency", "changes", 1));
}

/// Every key whose value is personal data, and the personal values of the test's records.
const PERSONAL_KEYS: &[&str] = &["identity", "birth_date", "owners", "identity_number", "licenses"];

/// Every key of `keys` and every string holding one of `secrets` in `value`, by path.
fn walk(value: &Value, path: &str, keys: &[&str], secrets: &[&str], found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if keys.contains(&k.as_str()) {
                    found.push(format!("{path}.{k}"));
                }
                walk(v, &format!("{path}.{k}"), keys, secrets, found);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(v, &format!("{path}[{i}]"), keys, secrets, found);
            }
        }
        Value::String(s) if secrets.iter().any(|secret| s.contains(secret)) => {
            found.push(format!("{path} = {s:?}"));
        }
        _ => {}
    }
}

fn leaks(body: &Value, secrets: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    walk(body, "$", PERSONAL_KEYS, secrets, &mut found);
    found
}

#[actix_web::test]
async fn no_public_answer_holds_personal_data() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let tax = db.key("tax", Role::Tax);
    let state = state(&db);
    let app = test::init_service(api::app(state.clone())).await;
    let code = register(&app, &portal, &appendix_a()).await.code;
    let unit = json!({"kind": "branch", "name": "Chi nhánh Công ty TNHH Vận tải Hoàng Long Phát tại Hồ Chí Minh",
        "address": {"street": "Số 5 Nguyễn Huệ", "ward_code": "26743", "province_code": "79"}});
    assert_eq!(send(&app, post_json(&format!("/v1/enterprises/{code}/units"), Some(&portal), &unit)).await.status, 201);
    let lic =
        send(&app, post_json(&format!("/v1/enterprises/{code}/licenses"), Some(&transport), &license_body("GP-LEAK")))
            .await;
    assert_eq!(lic.status, 201);
    let secrets = ["001080012345", "001185054321", "1980-04-12", "Trần Thị Bình", "GP-LEAK"];
    // Wait until the index has the enterprise, so that search answers hold it.
    let started = std::time::Instant::now();
    while send(&app, get("/v1/search?q=Ho%C3%A0ng%20Long%20Ph%C3%A1t", None)).await.body["hits"]
        .as_array()
        .is_none_or(|h| h.is_empty())
    {
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "the index did not catch up");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let public = [
        format!("/v1/enterprises/{code}"),
        format!("/v1/enterprises/{code}?as_of=2100-01-01"),
        format!("/v1/enterprises/{code}?as_of={}", today()),
        format!("/v1/enterprises/{code}/history"),
        format!("/v1/enterprises/{code}/units"),
        format!("/v1/units/{code}-001"),
        "/v1/search?q=Ho%C3%A0ng%20Long%20Ph%C3%A1t".into(),
        "/v1/search?q=Nguy%E1%BB%85n%20V%C4%83n%20An".into(),
        "/v1/search?q=001080012345".into(),
        "/v1/suggest?q=Ho%C3%A0ng".into(),
        "/v1/name-check?name=C%C3%B4ng%20ty%20TNHH%20V%E1%BA%ADn%20t%E1%BA%A3i%20Ho%C3%A0ng%20Long%20Ph%C3%A1t&type=llc_multi".into(),
    ];
    for path in &public {
        let r = send(&app, get(path, None)).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(leaks(&r.body, &secrets), Vec::<String>::new(), "{path}");
    }
    // The representative's name is public (SPEC §1); the walk does find personal data where it
    // belongs: in the full view, the feed and the export.
    let full = send(&app, get(&format!("/v1/enterprises/{code}"), Some(&tax))).await;
    assert!(!leaks(&full.body, &secrets).is_empty());
    let feed = send(&app, get("/v1/changes", Some(&tax))).await;
    assert!(!leaks(&feed.body, &secrets).is_empty());
    let export = send(&app, get("/v1/export", Some(&tax))).await;
    let lines: Vec<Value> = export.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!leaks(&lines[1], &secrets).is_empty());
}

/// The keys of beneficial-owner data (SPEC §7): the authority view's only.
const BENEFICIAL_KEYS: &[&str] = &["beneficial_owners", "discrepancies", "exempt"];

/// Beneficial-owner data reaches the authority view only: the public and the transport ministry
/// find none of it on any route, in the feed or in an answer to a write, wherever they may read.
#[actix_web::test]
async fn beneficial_owner_data_reaches_the_authority_view_only() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let tax = db.key("tax", Role::Tax);
    let state = state(&db);
    let app = test::init_service(api::app(state.clone())).await;
    // A control-only beneficial owner, named nowhere else on the record.
    let mut body = appendix_a();
    body["beneficial_owners"] = json!([
        {"full_name": "Nguyễn Văn An", "birth_date": "1980-04-12", "nationality": "VN",
         "identity": {"kind": "cccd", "number": "001080012345"}, "basis": ["ownership"], "ownership_percent": 60},
        {"full_name": "Trần Thị Bình", "birth_date": "1985-03-02", "nationality": "VN",
         "identity": {"kind": "cccd", "number": "001185054321"}, "basis": ["ownership"], "ownership_percent": 40},
        {"full_name": "Hoàng Văn Kiểm", "birth_date": "1960-06-30", "nationality": "VN",
         "identity": {"kind": "cccd", "number": "001060777888"}, "basis": ["control"],
         "contact_address": "Số 9 ngõ Bí Mật, Hà Nội", "control": "Quyết định sửa đổi Điều lệ qua thỏa thuận riêng"}]);
    let code = register(&app, &portal, &body).await.code;
    let lic =
        send(&app, post_json(&format!("/v1/enterprises/{code}/licenses"), Some(&transport), &license_body("GP-BO-1")))
            .await;
    assert_eq!(lic.status, 201, "{}", lic.text);
    let secrets = ["Hoàng Văn Kiểm", "001060777888", "Ngõ Bí Mật", "ngõ Bí Mật", "thỏa thuận riêng"];
    let check = |who: &str, path: &str, body: &Value| {
        let mut found = Vec::new();
        walk(body, "$", BENEFICIAL_KEYS, &secrets, &mut found);
        assert_eq!(found, Vec::<String>::new(), "{who} {path}");
    };
    let started = std::time::Instant::now();
    while send(&app, get("/v1/search?q=Ho%C3%A0ng%20Long%20Ph%C3%A1t", None)).await.body["hits"]
        .as_array()
        .is_none_or(|h| h.is_empty())
    {
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "the index did not catch up");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let routes = [
        format!("/v1/enterprises/{code}"),
        format!("/v1/enterprises/{code}?as_of={}", today()),
        format!("/v1/enterprises/{code}/history"),
        format!("/v1/enterprises/{code}/units"),
        "/v1/search?q=Ho%C3%A0ng%20Long%20Ph%C3%A1t".into(),
        "/v1/search?q=001060777888".into(),
        "/v1/search?q=Ho%C3%A0ng%20V%C4%83n%20Ki%E1%BB%83m".into(),
        "/v1/suggest?q=Ho%C3%A0ng".into(),
        "/v1/licenses/GP-BO-1".into(),
        "/v1/changes".into(),
    ];
    for path in &routes {
        let r = send(&app, get(path, None)).await;
        if r.status == 200 {
            check("the public", path, &r.body);
        }
        let r = send(&app, get(path, Some(&transport))).await;
        assert_eq!(r.status, 200, "transport {path}: {}", r.text);
        check("transport", path, &r.body);
    }
    check("transport", "the licence's answer", &lic.body);
    let r = verify(&app, &transport, json!({"code": code, "legal_representative": {"full_name": "Hoàng Văn Kiểm", "identity_number": "001060777888"}})).await;
    check("transport", "/v1/verify", &r.body);
    // The authority view holds it: the record, the tax agency's feed and export.
    let found = |body: &Value| {
        let mut found = Vec::new();
        walk(body, "$", BENEFICIAL_KEYS, &secrets, &mut found);
        !found.is_empty()
    };
    assert!(found(&send(&app, get(&format!("/v1/enterprises/{code}"), Some(&tax))).await.body));
    assert!(found(&send(&app, get("/v1/changes", Some(&tax))).await.body));
    let export = send(&app, get("/v1/export", Some(&tax))).await;
    assert!(export.text.lines().skip(1).any(|l| found(&serde_json::from_str(l).unwrap())));
}
