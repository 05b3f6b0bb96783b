//! Statuses that run on time (SPEC §2.3): changes filed for a later day, suspensions that end by
//! themselves, applied by the register's schedule exactly once, however many instances run and
//! after downtime; units with a lifecycle.

mod common;

use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use chrono::{Days, NaiveDate, Utc};
use common::cli::{registry, run_ok};
use common::service::Service;
use common::*;
use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;
use registry::domain::legal_date;
use registry::domain::Role;
use serde_json::{json, Value};

fn status(path: &str, key: &str, etag: &str, body: &Value) -> TestRequest {
    post_json(path, Some(key), body).insert_header(("If-Match", etag.to_string()))
}

fn today() -> NaiveDate {
    legal_date(Utc::now())
}

/// The versions of `code` written by the schedule: (version, effective_on, changed_fields).
fn by_schedule(db: &TestDb, code: &str) -> Vec<(i32, NaiveDate, Vec<String>)> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        version: i32,
        #[diesel(sql_type = diesel::sql_types::Date)]
        effective_on: NaiveDate,
        #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
        changed_fields: Vec<String>,
    }
    diesel::sql_query(
        "SELECT version, effective_on, changed_fields FROM enterprise_versions \
         WHERE code = $1 AND actor = 'schedule' ORDER BY version",
    )
    .bind::<diesel::sql_types::Text, _>(code)
    .load::<Row>(&mut db.conn())
    .unwrap()
    .into_iter()
    .map(|r| (r.version, r.effective_on, r.changed_fields))
    .collect()
}

/// Moves the day of every scheduled change of `code` to `day` behind the service's back, as if
/// that day had come: how a test lets a date pass without waiting for it.
fn make_due(db: &TestDb, code: &str, day: NaiveDate) {
    db.conn()
        .batch_execute(&format!(
            "UPDATE enterprises SET next_due = '{day}', record = jsonb_set(record, '{{scheduled_changes}}', \
             (SELECT jsonb_agg(jsonb_set(c, '{{effective_on}}', '\"{day}\"')) FROM jsonb_array_elements(record->'scheduled_changes') c)) \
             WHERE code = '{code}'"
        ))
        .unwrap();
}

#[actix_web::test]
async fn a_filed_change_is_listed_withdrawn_by_its_role_and_applied_on_its_day() {
    let db = TestDb::new();
    let app = app(&db).await;
    let portal = db.key("portal", Role::Portal);
    let tax = db.key("tax", Role::Tax);
    let Registered { code, .. } = register(&app, &portal, &appendix_a()).await;
    let path = format!("/v1/enterprises/{code}/status");
    let day = today() + Days::new(10);

    // Filed: 201, listed in every view, the status as it was.
    let r = send(
        &app,
        status(
            &path,
            &portal,
            "\"v1\"",
            &json!({"status": "dissolving", "effective_on": day.to_string(), "reason": "Quyết định giải thể"}),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"v2\""));
    assert_eq!(r.body["status"], "active");
    let filed = &r.body["scheduled_changes"][0];
    assert_eq!((filed["id"].as_i64(), filed["status"].as_str()), (Some(2), Some("dissolving")));
    assert_eq!(filed["effective_on"], day.to_string());
    let public = send(&app, get(&format!("/v1/enterprises/{code}"), None)).await;
    assert_eq!(public.body["scheduled_changes"][0]["status"], "dissolving", "public view: {}", public.text);

    // Withdrawn only by the role that filed it.
    let withdraw = |key: &str, etag: &str, id: i64| {
        TestRequest::delete()
            .uri(&format!("/v1/enterprises/{code}/scheduled-changes/{id}"))
            .insert_header(("Authorization", format!("Bearer {key}")))
            .insert_header(("If-Match", etag.to_string()))
    };
    let r = send(&app, withdraw(&tax, "\"v2\"", 2)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = send(&app, withdraw(&portal, "\"v2\"", 9)).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = send(&app, withdraw(&portal, "\"v1\"", 2)).await;
    assert_eq!(r.status, 412, "{}", r.text);
    let r = send(&app, withdraw(&portal, "\"v2\"", 2)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["scheduled_changes"], json!([]));
    assert_eq!(run_schedule(&db, day), 0, "a withdrawn change is not applied");

    // Filed again; nothing happens before its day; on its day, once.
    let r = send(
        &app,
        status(
            &path,
            &portal,
            "\"v3\"",
            &json!({"status": "dissolving", "effective_on": day.to_string(), "reason": "Quyết định giải thể"}),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // A change before it is refused while it is filed.
    let r = send(
        &app,
        status(
            &path,
            &portal,
            "\"v4\"",
            &json!({"status": "bankruptcy", "effective_on": (day - Days::new(1)).to_string()}),
        ),
    )
    .await;
    assert_eq!((r.status, r.body["type"].as_str()), (409, Some("scheduled_change_pending")), "{}", r.text);
    assert_eq!(run_schedule(&db, day - Days::new(1)), 0);
    assert_eq!(run_schedule(&db, day), 1);
    assert_eq!(run_schedule(&db, day + Days::new(5)), 0, "applied once");
    let now = stored(&db, &code);
    assert_eq!((now["status"].as_str(), now["version"].as_i64()), (Some("dissolving"), Some(5)));
    assert_eq!(by_schedule(&db, &code), vec![(5, day, vec!["status".into(), "scheduled_changes".into()])]);
    let r = send(&app, get(&format!("/v1/enterprises/{code}/history"), None)).await;
    let newest = &r.body["versions"][0];
    assert_eq!((newest["actor"].as_str(), newest["reason"].as_str()), (Some("schedule"), Some("Quyết định giải thể")));

    // `as_of` answers what was in force on a date, the applied change included.
    let at = |d: NaiveDate| get(&format!("/v1/enterprises/{code}?as_of={d}"), None);
    assert_eq!(send(&app, at(day)).await.body["status"], "dissolving");
    assert_eq!(send(&app, at(day - Days::new(1))).await.body["status"], "active");
    // Its day has come: no longer withdrawable (it has been applied).
    let r = send(&app, withdraw(&portal, "\"v5\"", 4)).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[actix_web::test]
async fn a_suspension_starts_and_ends_by_itself_each_with_its_own_effective_date() {
    let db = TestDb::new();
    let app = app(&db).await;
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let Registered { code, .. } = register(&app, &portal, &appendix_a()).await;
    let start = first_suspension_day();
    let until = start + Days::new(40);
    let body = json!({"status": "suspended", "effective_on": start.to_string(), "until": until.to_string()});
    let r = send(&app, status(&format!("/v1/enterprises/{code}/status"), &portal, "\"v1\"", &body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // An extension from the day after `until`, filed now: the suspension ends first, then the
    // new notice starts it again.
    let next_until = until + Days::new(100);
    let body = json!({"status": "suspended", "effective_on": (until + Days::new(1)).to_string(), "until": next_until.to_string()});
    let r = send(&app, status(&format!("/v1/enterprises/{code}/status"), &portal, "\"v2\"", &body)).await;
    assert_eq!(r.status, 201, "an extension from the day after until: {}", r.text);

    // A register that was down the whole time applies all of it at once, in order.
    assert_eq!(run_schedule(&db, next_until + Days::new(3)), 4);
    let steps = by_schedule(&db, &code);
    let days: Vec<NaiveDate> = steps.iter().map(|s| s.1).collect();
    assert_eq!(days, vec![start, until + Days::new(1), until + Days::new(1), next_until + Days::new(1)]);
    let now = stored(&db, &code);
    assert_eq!((now["status"].as_str(), now.get("status_until")), (Some("active"), None));

    // What was in force on each day.
    let at = |d: NaiveDate| get(&format!("/v1/enterprises/{code}?as_of={d}"), None);
    assert_eq!(send(&app, at(start - Days::new(1))).await.body["status"], "active");
    assert_eq!(send(&app, at(start)).await.body["status"], "suspended");
    assert_eq!(send(&app, at(until)).await.body["status_until"], until.to_string());
    let extended = send(&app, at(until + Days::new(1))).await;
    assert_eq!(
        (extended.body["status"].as_str(), extended.body["status_until"].as_str()),
        (Some("suspended"), Some(next_until.to_string().as_str()))
    );
    assert_eq!(send(&app, at(next_until + Days::new(1))).await.body["status"], "active");

    // Verification follows: active again.
    let r = send(&app, post_json("/v1/verify", Some(&transport), &json!({"code": code}))).await;
    assert_eq!((r.body["status"].as_str(), r.body["active"].as_bool()), (Some("active"), Some(true)), "{}", r.text);
}

/// Eight schedulers at once on one database (as eight instances would run them): each step is
/// applied exactly once.
#[actix_web::test]
async fn many_schedulers_at_once_apply_each_step_once() {
    let db = TestDb::new();
    let app = app(&db).await;
    let portal = db.key("portal", Role::Portal);
    let start = first_suspension_day();
    let mut codes = Vec::new();
    for i in 0..12 {
        let body = registration(
            "llc_single",
            &format!(
                "Lịch Trình {}",
                ["An", "Bình", "Cường", "Dũng", "Giang", "Hải", "Khánh", "Lâm", "Minh", "Nam", "Phát", "Quang"][i]
            ),
        );
        let code = register(&app, &portal, &body).await.code;
        let body = json!({"status": "suspended", "effective_on": start.to_string(), "until": (start + Days::new(20)).to_string()});
        let r = send(&app, status(&format!("/v1/enterprises/{code}/status"), &portal, "\"v1\"", &body)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        codes.push(code);
    }
    let day = start + Days::new(30);
    let total: usize = std::thread::scope(|s| {
        let runs: Vec<_> = (0..8).map(|_| s.spawn(|| run_schedule(&db, day))).collect();
        runs.into_iter().map(|r| r.join().unwrap()).sum()
    });
    assert_eq!(total, 24, "a start and an end for each of 12 enterprises, once");
    for code in &codes {
        let steps = by_schedule(&db, code);
        assert_eq!(steps.iter().map(|s| s.0).collect::<Vec<_>>(), vec![3, 4], "{code}");
        assert_eq!(stored(&db, code)["status"], "active");
    }
    assert_eq!(db.count("feed_events"), 12 * 4);
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}

/// Waits (20 s at most) until `check` holds.
fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < Duration::from_secs(20), "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn file_dissolution(base: &str, key: &str, code: &str, day: NaiveDate) {
    let r = client()
        .post(format!("{base}/v1/enterprises/{code}/status"))
        .bearer_auth(key)
        .header("If-Match", "\"v1\"")
        .json(&json!({"status": "dissolving", "effective_on": day.to_string()}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
}

fn register_over_http(base: &str, key: &str) -> String {
    let r = client().post(format!("{base}/v1/enterprises")).bearer_auth(key).json(&appendix_a()).send().unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().unwrap()["code"].as_str().unwrap().to_string()
}

#[test]
fn two_running_instances_apply_a_due_change_once() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [("REGISTRY_SCHEDULE_INTERVAL", "1")];
    let a = Service::start_with(&db.url, dir_a.path(), &env);
    let b = Service::start_with(&db.url, dir_b.path(), &env);
    let code = register_over_http(&a.base, &portal);
    file_dissolution(&b.base, &portal, &code, today() + Days::new(20));
    // Its day comes (a day ago): both instances' schedules race for it.
    let day = today() - Days::new(1);
    make_due(&db, &code, day);
    wait_for("the change is applied", || stored(&db, &code)["status"] == "dissolving");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(by_schedule(&db, &code), vec![(3, day, vec!["status".into(), "scheduled_changes".into()])]);
    assert_eq!(db.count("enterprise_versions"), 3);
    a.kill();
    b.kill();
}

#[test]
fn a_service_stopped_across_a_due_date_applies_it_on_start() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let dir = tempfile::tempdir().unwrap();
    // A long interval: only the round at start-up can apply it.
    let env = [("REGISTRY_SCHEDULE_INTERVAL", "3600")];
    let service = Service::start_with(&db.url, dir.path(), &env);
    let code = register_over_http(&service.base, &portal);
    file_dissolution(&service.base, &portal, &code, today() + Days::new(20));
    service.kill();
    // While it was down, the day came and went.
    let day = today() - Days::new(3);
    make_due(&db, &code, day);
    assert_eq!(stored(&db, &code)["status"], "active");
    let service = Service::start_with(&db.url, dir.path(), &env);
    wait_for("the change is applied on start", || stored(&db, &code)["status"] == "dissolving");
    assert_eq!(by_schedule(&db, &code), vec![(3, day, vec!["status".into(), "scheduled_changes".into()])]);
    let history: Value =
        client().get(format!("{}/v1/enterprises/{code}/history", service.base)).send().unwrap().json().unwrap();
    assert_eq!(history["versions"][0]["effective_on"], day.to_string(), "its own effective date");
    service.kill();
}

#[test]
fn an_imported_suspension_that_has_ended_becomes_active_after_start() {
    // A record as another register exports it: suspended until a day that has passed.
    let source = TestDb::new();
    let mut record = actix_web::rt::System::new().block_on(async {
        let app = app(&source).await;
        let portal = source.key("portal", Role::Portal);
        stored(&source, &register(&app, &portal, &registration("llc_single", "Tạm Ngừng Cũ")).await.code)
    });
    let until = today() - Days::new(5);
    record["registered_on"] = json!((today() - Days::new(200)).to_string());
    record["status"] = json!("suspended");
    record["status_until"] = json!(until.to_string());
    record["version"] = json!(2);
    let code = record["code"].as_str().unwrap().to_string();

    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("register.ndjson");
    std::fs::write(&file, format!("{record}\n")).unwrap();
    run_ok({
        let mut c = registry(&db);
        c.arg("import").arg(&file);
        c
    });
    assert_eq!(stored(&db, &code)["status"], "suspended");
    let service = Service::start_with(&db.url, dir.path(), &[("REGISTRY_SCHEDULE_INTERVAL", "3600")]);
    wait_for("the imported suspension ends", || stored(&db, &code)["status"] == "active");
    let steps = by_schedule(&db, &code);
    assert_eq!(steps.len(), 1);
    assert_eq!((steps[0].0, steps[0].1), (3, until + Days::new(1)), "it ended the day after until");
    service.kill();
}

fn unit_body(name: &str) -> Value {
    json!({"kind": "branch", "name": format!("Chi nhánh Công ty TNHH Vận tải Hoàng Long Phát tại {name}"),
        "address": {"street": "Số 5 Nguyễn Huệ", "ward_code": "26743", "province_code": "79"}})
}

#[actix_web::test]
async fn units_change_suspend_and_cease_and_an_enterprise_ceases_after_them() {
    let db = TestDb::new();
    let app = app(&db).await;
    let portal = db.key("portal", Role::Portal);
    let tax = db.key("tax", Role::Tax);
    let Registered { code, .. } = register(&app, &portal, &appendix_a()).await;
    let units = format!("/v1/enterprises/{code}/units");
    let first = send(&app, post_json(&units, Some(&portal), &unit_body("Hồ Chí Minh"))).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let second = send(&app, post_json(&units, Some(&portal), &unit_body("Thủ Đức"))).await;
    let (u1, u2) = (first.body["unit_code"].as_str().unwrap(), second.body["unit_code"].as_str().unwrap());

    // PATCH: a new address (2025 units) and name; the unit's own look-up follows.
    let p = patch(&format!("/v1/units/{u1}"), &portal, Some("\"v3\""), &json!({"address": {"street": "Số 9 Lê Lợi"}}));
    let r = send(&app, p).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"v4\""));
    assert_eq!(r.body["units"][0]["address"]["street"], "Số 9 Lê Lợi");
    assert_eq!(send(&app, get(&format!("/v1/units/{u1}"), None)).await.body["address"]["street"], "Số 9 Lê Lợi");
    let bad = patch(&format!("/v1/units/{u1}"), &portal, Some("\"v4\""), &json!({"address": {"ward_code": "00070"}}));
    let r = send(&app, bad).await;
    assert_eq!(r.status, 422, "a ward of another province: {}", r.text);
    let r = send(&app, patch(&format!("/v1/units/{u1}"), &portal, Some("\"v4\""), &json!({"colour": "red"}))).await;
    assert_eq!(r.status, 400);
    let r = send(&app, patch(&format!("/v1/units/{u1}"), &tax, Some("\"v4\""), &json!({"name": "x"}))).await;
    assert_eq!(r.status, 403);

    // A unit's suspension is filed with notice and applied on its day.
    let start = first_suspension_day();
    let body =
        json!({"status": "suspended", "effective_on": start.to_string(), "until": (start + Days::new(60)).to_string()});
    let r = send(&app, status(&format!("/v1/units/{u2}/status"), &portal, "\"v4\"", &body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["units"][1]["scheduled_changes"][0]["status"], "suspended");
    let r = send(&app, status(&format!("/v1/units/{u2}/status"), &portal, "\"v5\"", &json!({"status": "dissolving"})))
        .await;
    assert!(r.status == 422 && r.has_error("status", "unknown_status"), "{}", r.text);
    assert_eq!(run_schedule(&db, start), 1);
    let now = stored(&db, &code);
    assert_eq!((now["units"][1]["status"].as_str(), now["version"].as_i64()), (Some("suspended"), Some(6)));

    // Dissolution ends once every unit has ceased.
    let r = send(
        &app,
        status(&format!("/v1/enterprises/{code}/status"), &portal, "\"v6\"", &json!({"status": "dissolving"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r =
        send(&app, status(&format!("/v1/enterprises/{code}/status"), &portal, "\"v7\"", &json!({"status": "ceased"})))
            .await;
    assert_eq!((r.status, r.body["type"].as_str()), (409, Some("units_not_ceased")), "{}", r.text);
    assert!(r.body["detail"].as_str().unwrap().contains(u1) && r.body["detail"].as_str().unwrap().contains(u2));
    for (i, u) in [u1, u2].iter().enumerate() {
        let r = send(
            &app,
            status(&format!("/v1/units/{u}/status"), &portal, &format!("\"v{}\"", 7 + i), &json!({"status": "ceased"})),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = send(&app, patch(&format!("/v1/units/{u1}"), &portal, Some("\"v9\""), &json!({"name": "x"}))).await;
    assert_eq!((r.status, r.body["type"].as_str()), (409, Some("unit_ceased")), "{}", r.text);
    let r =
        send(&app, status(&format!("/v1/units/{u1}/status"), &portal, "\"v9\"", &json!({"status": "active"}))).await;
    assert_eq!((r.status, r.body["type"].as_str()), (409, Some("unit_ceased")), "{}", r.text);
    let r =
        send(&app, status(&format!("/v1/enterprises/{code}/status"), &portal, "\"v9\"", &json!({"status": "ceased"})))
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(send(&app, get(&format!("/v1/units/{u1}"), None)).await.body["status"], "ceased");

    // Bankruptcy: the units cease with the enterprise, in the same version.
    let Registered { code, .. } = register(&app, &portal, &registration("llc_single", "Phá Sản Mẫu")).await;
    let unit = json!({"kind": "representative_office", "name": "Văn phòng đại diện Công ty TNHH MTV Phá Sản Mẫu tại Hà Nội",
        "address": {"street": "Số 1", "ward_code": "00070", "province_code": "01"}});
    let r = send(&app, post_json(&format!("/v1/enterprises/{code}/units"), Some(&portal), &unit)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let unit_code = r.body["unit_code"].as_str().unwrap().to_string();
    let path = format!("/v1/enterprises/{code}/status");
    assert_eq!(send(&app, status(&path, &portal, "\"v2\"", &json!({"status": "bankruptcy"}))).await.status, 200);
    let r = send(&app, status(&path, &portal, "\"v3\"", &json!({"status": "ceased"}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.body["version"].as_i64(), r.body["units"][0]["status"].as_str()), (Some(4), Some("ceased")));
    assert_eq!(send(&app, get(&format!("/v1/units/{unit_code}"), None)).await.body["status"], "ceased");
}

/// The migration converts a stored `revoked` record by a new version.
#[test]
fn a_stored_revoked_record_is_converted_by_a_migration_version() {
    let db = TestDb::new();
    let mut conn = db.conn();
    // Undo the schedule migration, store a record as an older register had it, migrate again.
    let content: registry::domain::registration::RegistrationContent = serde_json::from_value(appendix_a()).unwrap();
    let valid = content.validate_content(&registry::domain::reference_data::reference(), today()).unwrap();
    let ctx = registry::store::enterprises::WriteContext {
        actor: "portal".into(),
        at: Utc::now(),
        effective_on: today(),
        reason: None,
    };
    let record = match registry::store::enterprises::register(&mut conn, valid, &ctx, None).unwrap() {
        registry::store::enterprises::Written::Done(r) => r,
        _ => unreachable!(),
    };
    conn.batch_execute(&format!(
        "UPDATE enterprises SET status = 'revoked', record = jsonb_set(record, '{{status}}', '\"revoked\"') WHERE code = '{}'; \
         DELETE FROM __diesel_schema_migrations WHERE version = '20261208000012'; \
         DROP INDEX enterprises_next_due; ALTER TABLE enterprises DROP COLUMN next_due;",
        record.code
    ))
    .unwrap();
    registry::store::migrate(&mut conn).unwrap();
    let now = stored(&db, &record.code);
    assert_eq!((now["status"].as_str(), now["version"].as_i64()), (Some("dissolving"), Some(2)));
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        actor: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        reason: Option<String>,
    }
    let v: V = diesel::sql_query("SELECT actor, reason FROM enterprise_versions WHERE version = 2")
        .get_result(&mut conn)
        .unwrap();
    assert_eq!((v.actor.as_str(), v.reason.as_deref()), ("migration", Some("certificate_revoked")));
    assert_eq!(db.count("feed_events"), 2, "the conversion is an event of the feed");
}

/// A licence expires by itself: on the day after `expires_on` the register writes it `expired`
/// (event `license_changed`), and it is no longer in force.
#[actix_web::test]
async fn a_licence_expires_on_its_day_by_a_version_of_its_own() {
    let db = TestDb::new();
    let app = app(&db).await;
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let Registered { code, .. } = register(&app, &portal, &appendix_a()).await;
    let expires_on = today() + Days::new(400);
    let licence = json!({"number": "GP-VT-HET-HAN", "kind": "road_transport_business",
        "issued_on": today().to_string(), "expires_on": expires_on.to_string(), "status": "valid"});
    let r = send(&app, post_json(&format!("/v1/enterprises/{code}/licenses"), Some(&transport), &licence)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(run_schedule(&db, expires_on), 0, "in force through its last day");
    assert_eq!(run_schedule(&db, expires_on + Days::new(1)), 1);
    assert_eq!(run_schedule(&db, expires_on + Days::new(30)), 0);
    let now = stored(&db, &code);
    assert_eq!(now["licenses"][0]["status"], "expired");
    let steps = by_schedule(&db, &code);
    assert_eq!(steps, vec![(3, expires_on + Days::new(1), vec!["licenses".to_string()])]);
    let page = send(&app, get("/v1/changes", Some(&transport))).await;
    let last = page.body["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["kind"].as_str(), last["actor"].as_str()), (Some("license_changed"), Some("schedule")));
}
