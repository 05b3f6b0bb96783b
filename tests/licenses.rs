//! Licences with a lifecycle (SPEC §3): `POST /v1/licenses/{number}/status` suspends, reinstates
//! and revokes a licence as a new version of its enterprise with a `license_changed` event; a
//! licence past its expiry date reads `expired`.

mod common;

use common::*;
use diesel::connection::SimpleConnection;
use registry::domain::Role;
use serde_json::{json, Value};

fn today() -> String {
    registry::domain::legal_date(chrono::Utc::now()).to_string()
}

fn license_body(number: &str) -> Value {
    json!({"number": number, "kind": "road_transport_business", "issued_on": today(), "expires_on": "2036-11-25"})
}

/// `POST /v1/licenses/{number}/status` with `key`.
fn set_status(number: &str, key: &str, body: Value) -> actix_web::test::TestRequest {
    post_json(&format!("/v1/licenses/{number}/status"), Some(key), &body)
}

fn to(status: &str) -> Value {
    json!({"status": status, "reason": "Quyết định của Sở Xây dựng"})
}

/// Runs SQL on the test's database (for states the API cannot reach: an expired or ceased one).
fn sql(db: &TestDb, statement: &str) {
    db.conn().batch_execute(statement).unwrap();
}

#[actix_web::test]
async fn every_move_of_the_status_table_is_allowed_and_every_other_refused() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let app = app(&db).await;
    let code = register(&app, &portal, &appendix_a()).await.code;
    let record = format!("/v1/enterprises/{code}/licenses");
    for number in ["GP-T1", "GP-T2", "GP-T3"] {
        assert_eq!(send(&app, post_json(&record, Some(&transport), &license_body(number))).await.status, 201);
    }

    // valid → suspended → valid → revoked, each a new version of the enterprise.
    let r = send(&app, set_status("gp-t1", &transport, to("suspended"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"v5\""));
    assert_eq!((r.body["number"].as_str(), r.body["status"].as_str()), (Some("GP-T1"), Some("suspended")));
    assert_eq!(r.body["in_force"], false);
    assert_eq!(r.body["enterprise"]["code"], code.as_str());
    assert_eq!(r.body["recorded_by"], "transport");
    // The same status again, and any move out of a final status: 409 naming what may come next.
    let r = send(&app, set_status("GP-T1", &transport, to("suspended"))).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["type"], "illegal_transition");
    assert!(r.body["detail"].as_str().unwrap().contains("it can become valid, revoked"), "{}", r.text);
    assert!(r.has_error("status", "illegal_transition"));
    let r = send(&app, set_status("GP-T1", &transport, to("valid"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.body["status"].as_str(), r.body["in_force"].as_bool()), (Some("valid"), Some(true)));
    let r = send(&app, set_status("GP-T1", &transport, to("valid"))).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.body["detail"].as_str().unwrap().contains("it can become suspended, revoked"), "{}", r.text);
    let r = send(&app, set_status("GP-T1", &transport, to("revoked"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"v7\""));
    for next in ["valid", "suspended", "revoked"] {
        let r = send(&app, set_status("GP-T1", &transport, to(next))).await;
        assert_eq!(r.status, 409, "revoked → {next}: {}", r.text);
        assert_eq!(r.body["type"], "illegal_transition");
        assert!(r.body["detail"].as_str().unwrap().contains("revoked is final"), "{}", r.text);
    }
    // valid → revoked; suspended → revoked.
    let r = send(&app, set_status("GP-T2", &transport, to("revoked"))).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("revoked")), "{}", r.text);
    assert_eq!(send(&app, set_status("GP-T3", &transport, to("suspended"))).await.status, 200);
    let r = send(&app, set_status("GP-T3", &transport, to("revoked"))).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("revoked")), "{}", r.text);

    // The record lists each licence as it now stands; the look-up row agrees.
    let full = send(&app, get(&format!("/v1/enterprises/{code}"), Some(&transport))).await;
    assert_eq!(full.body["version"], 10);
    let statuses: Vec<&str> =
        full.body["licenses"].as_array().unwrap().iter().map(|l| l["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["revoked", "revoked", "revoked"]);
    assert_eq!(db.count("licenses WHERE status = 'revoked' AND record->>'status' = 'revoked'"), 3);
    // Refusals wrote nothing: three recordings and six changes after the registration.
    assert_eq!(db.count("enterprise_versions"), 10);
}

#[actix_web::test]
async fn a_request_breaking_the_rules_is_refused_with_its_field() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let app = app(&db).await;
    let code = register(&app, &portal, &appendix_a()).await.code;
    let record = format!("/v1/enterprises/{code}/licenses");
    assert_eq!(send(&app, post_json(&record, Some(&transport), &license_body("GP-R1"))).await.status, 201);

    // `expired` is the register's own: 422 naming the statuses a client may send.
    let r = send(&app, set_status("GP-R1", &transport, to("expired"))).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["type"], "validation_failed");
    assert!(r.has_error("status", "unknown_status"), "{}", r.text);
    assert!(r.text.contains("valid, suspended or revoked"), "{}", r.text);
    let r = send(&app, set_status("GP-R1", &transport, json!({"reason": "no status"}))).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.has_error("status", "required"), "{}", r.text);
    // Effective dates: not in the future, not before the licence was issued (today).
    let later = (chrono::Utc::now().date_naive() + chrono::Days::new(3)).to_string();
    let r = send(&app, set_status("GP-R1", &transport, json!({"status": "suspended", "effective_on": later}))).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.has_error("effective_on", "in_future"), "{}", r.text);
    let r =
        send(&app, set_status("GP-R1", &transport, json!({"status": "suspended", "effective_on": "2020-01-01"}))).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.has_error("effective_on", "before_issue"), "{}", r.text);
    // Unknown fields: 400.
    let r = send(&app, set_status("GP-R1", &transport, json!({"status": "suspended", "until": "2030-01-01"}))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["type"], "unknown_field");
    // Nothing was written.
    assert_eq!(db.count("enterprise_versions"), 2);
    // With the licence's own date, it is accepted and the event carries it.
    let r = send(&app, set_status("GP-R1", &transport, json!({"status": "suspended", "effective_on": today()}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[actix_web::test]
async fn a_change_is_a_version_with_its_license_changed_event() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let tax = db.key("tax", Role::Tax);
    let app = app(&db).await;
    let code = register(&app, &portal, &appendix_a()).await.code;
    let record = format!("/v1/enterprises/{code}/licenses");
    assert_eq!(send(&app, post_json(&record, Some(&transport), &license_body("GP-F1"))).await.status, 201);
    let r = send(&app, set_status("GP-F1", &transport, to("suspended"))).await;
    assert_eq!(r.status, 200, "{}", r.text);

    let feed = send(&app, get("/v1/changes", Some(&tax))).await;
    let events = feed.body["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["registered", "license_recorded", "license_changed"]);
    let last = events.last().unwrap();
    assert_eq!(last["version"], 3);
    assert_eq!(last["code"], code.as_str());
    assert_eq!(last["actor"], "transport");
    assert_eq!(last["effective_on"], today());
    assert_eq!(last["changed_fields"], json!(["licenses"]));
    assert_eq!(last["reason"], "Quyết định của Sở Xây dựng");
    assert_eq!(last["record"]["version"], 3);
    assert_eq!(last["record"]["licenses"][0]["status"], "suspended");
    assert!(last.get("licenses_in_force").is_none());
    let history = send(&app, get(&format!("/v1/enterprises/{code}/history"), None)).await;
    assert_eq!(history.body["versions"][0]["kind"], "license_changed", "{}", history.text);
    let looked_up = send(&app, get("/v1/licenses/GP-F1", Some(&tax))).await;
    assert_eq!(looked_up.body["status"], "suspended");
}

#[actix_web::test]
async fn who_may_change_a_status_and_on_which_version() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let tax = db.key("tax", Role::Tax);
    let admin = db.key("admin", Role::Admin);
    let app = app(&db).await;
    let code = register(&app, &portal, &appendix_a()).await.code;
    let record = format!("/v1/enterprises/{code}/licenses");
    assert_eq!(send(&app, post_json(&record, Some(&transport), &license_body("GP-P1"))).await.status, 201);

    for key in [&portal, &tax] {
        let r = send(&app, set_status("GP-P1", key, to("suspended"))).await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(r.body["type"], "forbidden");
    }
    let r = send(&app, post_json("/v1/licenses/GP-P1/status", None, &to("suspended"))).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = send(&app, set_status("GP-NONE-1", &transport, to("suspended"))).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body["type"], "not_found");
    assert_eq!(send(&app, set_status("x", &transport, to("suspended"))).await.status, 400);

    // If-Match names the enterprise's version: stale is 412, current goes through.
    let r = send(&app, set_status("GP-P1", &transport, to("suspended")).insert_header(("If-Match", "\"v1\""))).await;
    assert_eq!(r.status, 412, "{}", r.text);
    assert_eq!(r.body["type"], "version_mismatch");
    let r = send(&app, set_status("GP-P1", &transport, to("suspended")).insert_header(("If-Match", "\"v2\""))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"v3\""));
    // An operator may do anything.
    let r = send(&app, set_status("GP-P1", &admin, to("valid"))).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // A ceased enterprise's licences accept nothing.
    sql(
        &db,
        &format!(
            "UPDATE enterprises SET status = 'ceased', record = jsonb_set(record, '{{status}}', '\"ceased\"') \
             WHERE code = '{code}'"
        ),
    );
    let r = send(&app, set_status("GP-P1", &transport, to("revoked"))).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["type"], "enterprise_ceased");
    assert_eq!(db.count("enterprise_versions"), 4);
}

#[actix_web::test]
async fn a_licence_past_its_expiry_date_reads_expired() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let app = app(&db).await;
    let code = register(&app, &portal, &appendix_a()).await.code;
    let record = format!("/v1/enterprises/{code}/licenses");
    assert_eq!(send(&app, post_json(&record, Some(&transport), &license_body("GP-E1"))).await.status, 201);
    // The register refuses to record a licence already expired: move this one's dates back as
    // if it had been recorded years ago (its stored status stays `valid`).
    sql(
        &db,
        &format!(
            "UPDATE enterprises SET record = jsonb_set(jsonb_set(record, '{{licenses,0,issued_on}}', '\"2019-01-01\"'), \
                 '{{licenses,0,expires_on}}', '\"2024-01-01\"') WHERE code = '{code}'; \
             UPDATE licenses SET issued_on = '2019-01-01', expires_on = '2024-01-01', \
                 record = record || '{{\"issued_on\": \"2019-01-01\", \"expires_on\": \"2024-01-01\"}}' \
             WHERE number = 'GP-E1'"
        ),
    );
    assert_eq!(db.count("licenses WHERE status = 'valid'"), 1);
    let r = send(&app, get("/v1/licenses/GP-E1", Some(&transport))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "expired");
    assert_eq!(r.body["in_force"], false);
    assert_eq!(r.body["expires_on"], "2024-01-01");
    // Expired is final.
    let r = send(&app, set_status("GP-E1", &transport, to("valid"))).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.body["detail"].as_str().unwrap().contains("expired is final"), "{}", r.text);
}

#[actix_web::test]
async fn a_ceasing_reports_exactly_the_licences_still_in_force() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let app = app(&db).await;
    let code = register(&app, &portal, &appendix_a()).await.code;
    let record = format!("/v1/enterprises/{code}/licenses");
    for number in ["GP-K1", "GP-K2", "GP-K3", "GP-K4"] {
        assert_eq!(send(&app, post_json(&record, Some(&transport), &license_body(number))).await.status, 201);
    }
    assert_eq!(send(&app, set_status("GP-K2", &transport, to("suspended"))).await.status, 200);
    assert_eq!(send(&app, set_status("GP-K3", &transport, to("revoked"))).await.status, 200);
    assert_eq!(send(&app, set_status("GP-K4", &transport, to("suspended"))).await.status, 200);
    assert_eq!(send(&app, set_status("GP-K4", &transport, to("valid"))).await.status, 200);
    let r = send(
        &app,
        post_json(
            &format!("/v1/enterprises/{code}/status"),
            Some(&portal),
            &json!({"status": "dissolving", "reason": "certificate_revoked"}),
        )
        .insert_header(("If-Match", "\"v9\"")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let feed = send(&app, get("/v1/changes", Some(&transport))).await;
    let revoked = feed.body["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(revoked["kind"], "status_changed");
    let reported: Vec<&str> =
        revoked["licenses_in_force"].as_array().unwrap().iter().map(|l| l["number"].as_str().unwrap()).collect();
    assert_eq!(reported, ["GP-K1", "GP-K4"], "the valid ones, reinstated included; not the suspended or revoked");
}
