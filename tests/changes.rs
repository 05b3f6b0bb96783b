//! Registration changes, statuses, history and `as_of`.

mod common;

use actix_web::test::TestRequest;
use common::*;
use registry::domain::status::{setter, Status, TRANSITIONS};
use registry::domain::Role;
use serde_json::{json, Value};

fn status(code: &str, key: &str, etag: &str, body: &Value) -> TestRequest {
    post_json(&format!("/v1/enterprises/{code}/status"), Some(key), body).insert_header(("If-Match", etag.to_string()))
}

/// A distinct proper name per number, never a trailing number (names must not collide).
fn proper(i: usize) -> String {
    const A: [&str; 10] = ["An", "Bình", "Cường", "Dũng", "Giang", "Hải", "Khánh", "Lâm", "Minh", "Nam"];
    const B: [&str; 10] = ["Phát", "Quang", "Sơn", "Thành", "Uyên", "Vinh", "Xuân", "Yên", "Đạt", "Hưng"];
    const C: [&str; 5] = ["Phú", "Lộc", "Thịnh", "Vượng", "Tài"];
    format!("{} {} {}", A[i % 10], B[i / 10 % 10], C[i / 100 % 5])
}

#[actix_web::test]
async fn registration_changes_bump_the_version_and_certificate_items_the_count() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let Registered { code, etag } = register(&app, &key, &appendix_a()).await;
    let path = format!("/v1/enterprises/{code}");

    // Move the head office to another province: the code stays.
    let moved = send(&app, patch(&path, &key, Some(&etag), &json!({"head_office": {"street": "Số 5 Nguyễn Huệ", "ward_code": "26743", "province_code": "79"}, "reason": "Chuyển trụ sở"}))).await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.body["code"], code.as_str());
    assert_eq!(moved.body["head_office"]["province_name"], "Thành phố Hồ Chí Minh");
    assert_eq!(moved.body["head_office"]["phone"], "0243 826 1234", "a merge patch keeps what it does not name");
    assert_eq!((moved.body["version"].as_i64(), moved.body["registration_changes"].as_i64()), (Some(2), Some(1)));
    assert_eq!(moved.header("etag"), Some("\"v2\""));

    // Rename.
    let renamed = send(
        &app,
        patch(&path, &key, Some("\"v2\""), &json!({"name": {"vi": "Công ty TNHH Vận tải Hoàng Long Phát Đạt"}})),
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!((renamed.body["version"].as_i64(), renamed.body["registration_changes"].as_i64()), (Some(3), Some(2)));

    // Replace the legal representative.
    let rep = json!([{"full_name": "Trần Thị Bình", "position": "Giám đốc", "birth_date": "1985-03-04", "nationality": "VN", "identity": {"kind": "cccd", "number": "001185054321"}}]);
    let r = send(&app, patch(&path, &key, Some("\"v3\""), &json!({"legal_representatives": rep}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["legal_representatives"][0]["full_name"], "Trần Thị Bình");
    assert_eq!(r.body["registration_changes"], 3);

    // Change the capital (the owners' contributions move with it): a change of the owners, which
    // declares the beneficial owners (SPEC §7).
    let mut owners = appendix_a()["owners"].clone();
    owners[0]["capital_vnd"] = json!(5_000_000_000i64);
    let declared = json!([
        {"full_name": "Nguyễn Văn An", "birth_date": "1980-04-12", "nationality": "VN",
         "identity": {"kind": "cccd", "number": "001080012345"}, "basis": ["ownership"], "ownership_percent": 71.4286},
        {"full_name": "Trần Thị Bình", "birth_date": "1985-03-04", "nationality": "VN",
         "identity": {"kind": "cccd", "number": "001185054321"}, "basis": ["ownership"], "ownership_percent": 28.5714}]);
    let r = send(
        &app,
        patch(
            &path,
            &key,
            Some("\"v4\""),
            &json!({"charter_capital_vnd": 7_000_000_000i64, "owners": owners, "beneficial_owners": declared}),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["charter_capital_vnd"], 7_000_000_000i64);
    assert_eq!(r.body["registration_changes"], 4);

    // Add, then remove, a business line: notifications, not certificate changes.
    let r = send(
        &app,
        patch(
            &path,
            &key,
            Some("\"v5\""),
            &json!({"business_lines": [{"vsic": "4933", "main": true}, {"vsic": "5229"}, {"vsic": "5210"}]}),
        ),
    )
    .await;
    assert_eq!(
        (r.status, r.body["version"].as_i64(), r.body["registration_changes"].as_i64()),
        (200, Some(6), Some(4))
    );
    let r =
        send(&app, patch(&path, &key, Some("\"v6\""), &json!({"business_lines": [{"vsic": "4933", "main": true}]})))
            .await;
    assert_eq!(
        (r.status, r.body["version"].as_i64(), r.body["registration_changes"].as_i64()),
        (200, Some(7), Some(4))
    );

    // A patch that changes nothing writes no version.
    let same =
        send(&app, patch(&path, &key, Some("\"v7\""), &json!({"business_lines": [{"vsic": "4933", "main": true}]})))
            .await;
    assert_eq!((same.status, same.body["version"].as_i64()), (200, Some(7)));
    assert_eq!(db.count("enterprise_versions"), 7);
    assert_eq!(db.count("feed_events"), 7);

    // History, newest first, with changed fields, actor and reason.
    let h = send(&app, get(&format!("{path}/history"), None)).await;
    let versions = h.body["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 7);
    assert_eq!(versions[0]["version"], 7);
    assert_eq!(versions[6]["kind"], "registered");
    assert_eq!(
        versions[5]["changed_fields"],
        json!([
            "head_office.province_code",
            "head_office.province_name",
            "head_office.street",
            "head_office.ward_code",
            "head_office.ward_name"
        ])
    );
    assert_eq!(versions[5]["reason"], "Chuyển trụ sở");
    assert_eq!(versions[5]["actor"], "portal");
    assert_eq!(versions[4]["changed_fields"], json!(["name.vi"]));
    assert!(!h.text.contains("001185054321"), "history carries no personal data");
}

#[actix_web::test]
async fn if_match_is_required_and_checked() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let code = register(&app, &key, &appendix_a()).await.code;
    let path = format!("/v1/enterprises/{code}");
    let body = json!({"head_office": {"phone": "0243 111 2222"}});
    let r = send(&app, patch(&path, &key, None, &body)).await;
    assert_eq!((r.status, r.body["type"].as_str()), (428, Some("precondition_required")));
    for bad in ["v1", "\"1\"", "*", "\"v0\""] {
        let r = send(&app, patch(&path, &key, Some(bad), &body)).await;
        assert_eq!((r.status, r.body["type"].as_str()), (400, Some("invalid_parameter")), "{bad}");
        assert!(r.has_error("If-Match", "invalid_etag"));
    }
    let ok = send(&app, patch(&path, &key, Some("\"v1\""), &body)).await;
    assert_eq!(ok.status, 200);
    let stale =
        send(&app, patch(&path, &key, Some("\"v1\""), &json!({"head_office": {"phone": "0243 333 4444"}}))).await;
    assert_eq!((stale.status, stale.body["type"].as_str()), (412, Some("version_mismatch")));
    let missing = send(&app, patch("/v1/enterprises/0100233488", &key, Some("\"v1\""), &body)).await;
    assert_eq!(missing.status, 404);
    let tax = db.key("tax", Role::Tax);
    assert_eq!(send(&app, patch(&path, &tax, Some("\"v2\""), &body)).await.status, 403);
    assert_eq!(db.count("enterprise_versions"), 2);
}

#[actix_web::test]
async fn bad_patches_are_refused_and_write_nothing() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let Registered { code, etag } = register(&app, &key, &appendix_a()).await;
    let path = format!("/v1/enterprises/{code}");
    let cases = [
        (json!({"name": {"vi": null}}), 422, "name.vi", "required"),
        (json!({"head_office": null}), 422, "head_office", "required"),
        (json!({"charter_capital_vnd": null}), 422, "charter_capital_vnd", "required"),
        (json!({"legal_representatives": []}), 422, "legal_representatives", "empty"),
        (json!({"code": "0100233488"}), 422, "code", "read_only"),
        (json!({"type": "jsc"}), 422, "type", "type_conversion"),
        (json!({"registered_on": "2020-01-01"}), 422, "registered_on", "read_only"),
        (json!({"status": "ceased"}), 422, "status", "read_only"),
        (
            json!({"effective_on": "2001-01-01", "head_office": {"phone": "0243 111 2222"}}),
            422,
            "effective_on",
            "before_registration",
        ),
        (
            json!({"effective_on": "2999-01-01", "head_office": {"phone": "0243 111 2222"}}),
            422,
            "effective_on",
            "in_future",
        ),
        (json!({"effective_on": "yesterday"}), 422, "effective_on", "invalid_date"),
        (json!({"head_office": {"ward_code": "00004"}, "colour": 1}), 400, "colour", "unknown_field"),
        (json!({"head_office": {"ward_name": "Phường X"}}), 400, "head_office.ward_name", "unknown_field"),
        (json!({"charter_capital_vnd": "much"}), 400, "charter_capital_vnd", "invalid_type"),
        (json!({"head_office": {"ward_code": "26743"}}), 422, "head_office.ward_code", "ward_not_in_province"),
        (json!({"charter_capital_vnd": 1}), 422, "owners", "capital_mismatch"),
        (json!({"name": {"vi": "Công ty cổ phần Hoàng Long"}}), 422, "name.vi", "name_prefix"),
    ];
    for (body, status, field, code) in cases {
        let r = send(&app, patch(&path, &key, Some(&etag), &body)).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert!(r.has_error(field, code), "{body}: expected {field}/{code} in {:?}", r.field_errors());
    }
    let r = send(&app, patch(&path, &key, Some(&etag), &json!([1, 2]))).await;
    assert_eq!(r.status, 422);
    let r = send(
        &app,
        TestRequest::patch()
            .uri(&path)
            .insert_header(("Authorization", format!("Bearer {key}")))
            .insert_header(("If-Match", etag.clone()))
            .insert_header(("Content-Type", "text/plain"))
            .set_payload("{}"),
    )
    .await;
    assert_eq!(r.status, 415);
    assert_eq!(db.count("enterprise_versions"), 1);
    let now = send(&app, get(&path, Some(&key))).await;
    assert_eq!(now.body["version"], 1);
}

#[actix_web::test]
async fn twenty_concurrent_patches_from_one_version_one_wins() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let Registered { code, etag } = register(&app, &key, &appendix_a()).await;
    let path = format!("/v1/enterprises/{code}");
    let futures: Vec<_> = (0..20)
        .map(|i| {
            send(
                &app,
                patch(
                    &path,
                    &key,
                    Some(&etag),
                    &json!({"head_office": {"street": format!("Số {} phố Hàng Bài", i + 100)}}),
                ),
            )
        })
        .collect();
    let replies = futures_util::future::join_all(futures).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let stale = replies.iter().filter(|r| r.status == 412).count();
    assert_eq!((ok, stale), (1, 19), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(db.count("enterprise_versions"), 2);
    assert_eq!(db.count("feed_events"), 2);
    let versions: Vec<i64> = {
        let h = send(&app, get(&format!("{path}/history"), None)).await;
        h.body["versions"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect()
    };
    assert_eq!(versions, [2, 1], "no gaps, no duplicates");
}

/// Moves `code` (at `version`, in `current`) to `to` the way the register allows: a suspension
/// is filed for its first possible day and applied by the schedule; anything else at once.
/// Returns the new version.
async fn move_to<B: actix_web::body::MessageBody>(
    app: &impl TestApp<B>,
    db: &TestDb,
    keys: &(String, String),
    code: &str,
    version: i64,
    current: Status,
    to: Status,
) -> i64 {
    let key = if setter(current, to)[0] == Role::Tax { &keys.1 } else { &keys.0 };
    if to == Status::Suspended {
        let start = first_suspension_day();
        let body = json!({"status": "suspended", "effective_on": start.to_string(),
            "until": (start + chrono::Days::new(90)).to_string(), "reason": "test"});
        let r = send(app, status(code, key, &format!("\"v{version}\""), &body)).await;
        assert_eq!(r.status, 201, "{current:?} → filed suspension: {}", r.text);
        assert_eq!(r.body["status"], current.as_str(), "filed, not yet applied");
        assert_eq!(r.body["scheduled_changes"][0]["status"], "suspended");
        assert!(run_schedule(db, start) >= 1);
        let now = stored(db, code);
        assert_eq!((now["status"].as_str(), now["version"].as_i64()), (Some("suspended"), Some(version + 2)));
        assert_eq!(now["scheduled_changes"], json!([]));
        return version + 2;
    }
    let r = send(app, status(code, key, &format!("\"v{version}\""), &json!({"status": to.as_str(), "reason": "test"})))
        .await;
    assert_eq!(r.status, 200, "{current:?} → {to:?}: {}", r.text);
    assert_eq!(r.body["status"], to.as_str());
    assert_eq!(r.body["registration_changes"], 0, "a status is not a certificate change");
    version + 1
}

/// The transition table walked whole over HTTP: every pair of statuses, from each status reached
/// the way the register allows, by every role: allowed exactly where SPEC §2.3 says.
#[actix_web::test]
async fn the_transition_table_walked_whole_per_role() {
    let db = TestDb::new();
    let app = app(&db).await;
    let portal = db.key("portal", Role::Portal);
    let tax = db.key("tax", Role::Tax);
    let transport = db.key("transport", Role::Transport);
    let keys = (portal.clone(), tax.clone());
    let path_to = |s: Status| -> Vec<Status> {
        match s {
            Status::Active => vec![],
            Status::Ceased => vec![Status::Dissolving, Status::Ceased],
            other => vec![other],
        }
    };
    let mut n = 0;
    for from in Status::ALL {
        for to in Status::ALL {
            let allowed = TRANSITIONS.contains(&(from, to));
            for (role, key) in [(Role::Portal, &portal), (Role::Tax, &tax), (Role::Transport, &transport)] {
                n += 1;
                let code = register(&app, &portal, &registration("llc_single", &proper(n))).await.code;
                let (mut version, mut current) = (1, Status::Active);
                for step in path_to(from) {
                    version = move_to(&app, &db, &keys, &code, version, current, step).await;
                    current = step;
                }
                let body = if to == Status::Suspended {
                    let start = first_suspension_day();
                    json!({"status": "suspended", "effective_on": start.to_string(), "until": (start + chrono::Days::new(30)).to_string()})
                } else {
                    json!({"status": to.as_str()})
                };
                let r = send(&app, status(&code, key, &format!("\"v{version}\""), &body)).await;
                let by_role = role != Role::Transport && allowed && setter(from, to).contains(&role);
                let expected = match () {
                    _ if role == Role::Transport => (403, "forbidden"),
                    _ if from == Status::Ceased => (409, "enterprise_ceased"),
                    _ if !allowed => (409, "illegal_transition"),
                    _ if !by_role => (403, "forbidden"),
                    _ if to == Status::Suspended => (201, ""),
                    _ => (200, ""),
                };
                let got = (r.status, if r.status >= 400 { r.body["type"].as_str().unwrap_or("") } else { "" });
                assert_eq!(got, expected, "{from:?} → {to:?} by {role:?}: {}", r.text);
            }
        }
    }
}

#[actix_web::test]
async fn refused_status_requests() {
    let db = TestDb::new();
    let app = app(&db).await;
    let portal = db.key("portal", Role::Portal);
    let tax = db.key("tax", Role::Tax);
    let versions_before = db.count("enterprise_versions");
    let code = register(&app, &portal, &registration("llc_single", &proper(400))).await.code;
    let r = send(&app, status(&code, &portal, "\"v1\"", &json!({"status": "asleep"}))).await;
    assert!(r.status == 422 && r.has_error("status", "unknown_status"), "{}", r.text);
    let r = send(&app, status(&code, &portal, "\"v1\"", &json!({"status": "suspended"}))).await;
    assert!(r.has_error("until", "required"));
    // `revoked` is not a status: the answer names its replacement.
    let r = send(&app, status(&code, &portal, "\"v1\"", &json!({"status": "revoked"}))).await;
    assert_eq!((r.status, r.body["type"].as_str()), (422, Some("status_replaced")), "{}", r.text);
    assert!(r.body["detail"].as_str().unwrap().contains("dissolving") && r.text.contains("certificate_revoked"));
    // A suspension from today has no notice; one for the first possible day is filed.
    let today = registry::domain::legal_date(chrono::Utc::now());
    let r = send(
        &app,
        status(
            &code,
            &portal,
            "\"v1\"",
            &json!({"status": "suspended", "until": (today + chrono::Days::new(30)).to_string()}),
        ),
    )
    .await;
    assert_eq!((r.status, r.body["type"].as_str()), (422, Some("notice_too_short")), "{}", r.text);
    assert!(r.has_error("effective_on", "notice_too_short"));
    let start = first_suspension_day();
    let r = send(&app, status(&code, &portal, "\"v1\"", &json!({"status": "suspended", "effective_on": start.pred_opt().unwrap().to_string(), "until": (start + chrono::Days::new(30)).to_string()}))).await;
    assert_eq!(r.status, 422, "the day before the first possible one: {}", r.text);
    let too_long = start.checked_add_months(chrono::Months::new(12)).unwrap() + chrono::Days::new(1);
    let r = send(
        &app,
        status(
            &code,
            &portal,
            "\"v1\"",
            &json!({"status": "suspended", "effective_on": start.to_string(), "until": too_long.to_string()}),
        ),
    )
    .await;
    assert!(r.status == 422 && r.has_error("until", "too_long"), "{}", r.text);
    let r =
        send(&app, status(&code, &portal, "\"v1\"", &json!({"status": "dissolving", "effective_on": "1990-01-01"})))
            .await;
    assert!(r.has_error("effective_on", "before_registration"));
    let r = send(&app, status(&code, &portal, "\"v1\"", &json!({"status": "dissolving", "colour": "red"}))).await;
    assert_eq!(r.status, 400);
    let r = send(
        &app,
        post_json(&format!("/v1/enterprises/{code}/status"), Some(&portal), &json!({"status": "dissolving"})),
    )
    .await;
    assert_eq!(r.status, 428);
    let r = send(&app, status(&code, &tax, "\"v1\"", &json!({"status": "dissolving"}))).await;
    assert_eq!(r.status, 403);
    assert_eq!(db.count("enterprise_versions"), versions_before + 1, "nothing refused was written");
    // Drive it to ceased; then nothing is accepted.
    assert_eq!(send(&app, status(&code, &portal, "\"v1\"", &json!({"status": "dissolving"}))).await.status, 200);
    assert_eq!(send(&app, status(&code, &portal, "\"v2\"", &json!({"status": "ceased"}))).await.status, 200);
    let r = send(&app, status(&code, &portal, "\"v3\"", &json!({"status": "active"}))).await;
    assert_eq!((r.status, r.body["type"].as_str()), (409, Some("enterprise_ceased")));
    let r = send(
        &app,
        patch(
            &format!("/v1/enterprises/{code}"),
            &portal,
            Some("\"v3\""),
            &json!({"head_office": {"phone": "0243 111 2222"}}),
        ),
    )
    .await;
    assert_eq!((r.status, r.body["type"].as_str()), (409, Some("enterprise_ceased")));
    let unit = json!({"kind": "branch", "name": "Chi nhánh x", "address": {"street": "x", "ward_code": "26743", "province_code": "79"}});
    let r = send(&app, post_json(&format!("/v1/enterprises/{code}/units"), Some(&portal), &unit)).await;
    assert_eq!(r.status, 409);
    assert_eq!(db.count("enterprise_versions"), versions_before + 3);
}

#[actix_web::test]
async fn as_of_reads_past_versions() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let Registered { code, etag } = register(&app, &key, &appendix_a()).await;
    let path = format!("/v1/enterprises/{code}");
    let between = chrono::Utc::now();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let today = registry::domain::legal_date(chrono::Utc::now());
    let r = send(&app, patch(&path, &key, Some(&etag), &json!({"head_office": {"street": "Số 1 Tràng Tiền"}}))).await;
    assert_eq!(r.status, 200);

    let at = |q: &str| get(&format!("{path}?as_of={q}"), None);
    let before =
        send(&app, at(&between.to_rfc3339_opts(chrono::SecondsFormat::Micros, true).replace('+', "%2B"))).await;
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!(
        (before.body["version"].as_i64(), before.body["head_office"]["street"].as_str()),
        (Some(1), Some("Số 12 phố Hàng Bài"))
    );
    assert_eq!(before.header("etag"), Some("\"v1\""));
    let after =
        send(&app, at(&chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true).replace('+', "%2B")))
            .await;
    assert_eq!(after.body["version"], 2);
    let by_date = send(&app, at(&today.to_string())).await;
    assert_eq!(by_date.body["version"], 2, "the version in force at the end of today");
    let yesterday = today.pred_opt().unwrap();
    let none = send(&app, at(&yesterday.to_string())).await;
    assert_eq!((none.status, none.body["type"].as_str()), (404, Some("not_yet_registered")));
    let none = send(&app, at("2001-01-01T00:00:00Z")).await;
    assert_eq!(none.status, 404);
    let bad = send(&app, at("last-week")).await;
    assert_eq!((bad.status, bad.body["type"].as_str()), (400, Some("invalid_parameter")));
    assert!(bad.has_error("as_of", "invalid_as_of"));
    let public = send(&app, at(&today.to_string())).await;
    assert!(public.body.get("owners").is_none(), "as_of answers the public view without a key");
}

#[actix_web::test]
async fn history_pages() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let code = register(&app, &key, &appendix_a()).await.code;
    let path = format!("/v1/enterprises/{code}");
    for v in 1..5 {
        let r = send(
            &app,
            patch(
                &path,
                &key,
                Some(&format!("\"v{v}\"")),
                &json!({"head_office": {"phone": format!("0243 826 12{v:02}")}}),
            ),
        )
        .await;
        assert_eq!(r.status, 200);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let uri = match &cursor {
            None => format!("{path}/history?limit=2"),
            Some(c) => format!("{path}/history?limit=2&cursor={c}"),
        };
        let page = send(&app, get(&uri, None)).await;
        assert_eq!(page.status, 200);
        seen.extend(page.body["versions"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()));
        match page.body["next"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, [5, 4, 3, 2, 1]);
    assert_eq!(send(&app, get(&format!("{path}/history?limit=0"), None)).await.status, 400);
    assert_eq!(send(&app, get(&format!("{path}/history?limit=101"), None)).await.status, 400);
    assert_eq!(send(&app, get(&format!("{path}/history?cursor=abc"), None)).await.status, 400);
    assert_eq!(send(&app, get("/v1/enterprises/0100233488/history", None)).await.status, 404);
}
