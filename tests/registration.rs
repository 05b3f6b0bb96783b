//! Registration and look-up through the HTTP API, on a real PostgreSQL database per test.

mod common;

use actix_web::test::TestRequest;
use common::*;
use registry::domain::code::EnterpriseCode;
use registry::domain::Role;
use serde_json::{json, Value};

/// Walks a JSON value and returns the paths of every key named one of `names`.
fn find_keys(value: &Value, names: &[&str], path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{path}.{k}");
                if names.contains(&k.as_str()) {
                    out.push(p.clone());
                }
                find_keys(v, names, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                find_keys(v, names, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[actix_web::test]
async fn the_appendix_example_is_registered_and_read_back() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let sent = appendix_a();
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &sent)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let code = r.body["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("01"), "{code}");
    assert!(EnterpriseCode::parse(&code).is_ok());
    assert_eq!(r.header("location"), Some(format!("/v1/enterprises/{code}").as_str()));
    assert_eq!(r.header("etag"), Some("\"v1\""));
    let b = &r.body;
    assert_eq!(b["type"], "llc_multi");
    assert_eq!(b["name"], sent["name"]);
    assert_eq!(b["status"], "active");
    assert_eq!(b["registered_on"], registry::domain::legal_date(chrono::Utc::now()).to_string());
    assert_eq!(b["version"], 1);
    assert_eq!(b["registration_changes"], 0);
    for field in ["street", "ward_code", "province_code", "phone", "email"] {
        assert_eq!(b["head_office"][field], sent["head_office"][field], "{field}");
    }
    assert_eq!(b["head_office"]["ward_name"], "Phường Hoàn Kiếm");
    assert_eq!(b["head_office"]["province_name"], "Thành phố Hà Nội");
    assert_eq!(b["charter_capital_vnd"], 5_000_000_000i64);
    assert_eq!(b["business_lines"][0]["vsic"], "4933");
    assert_eq!(b["business_lines"][0]["main"], true);
    assert_eq!(b["business_lines"][0]["edition"], "2025");
    assert_eq!(b["business_lines"][0]["name"], "Vận tải hàng hóa bằng đường bộ");
    assert_eq!(b["business_lines"][1]["main"], false);
    assert_eq!(b["legal_representatives"][0]["identity"]["number"], "001080012345");
    assert_eq!(b["owners"].as_array().unwrap().len(), 2);
    assert_eq!(b["units"], json!([]));

    // Read back with a key: the full record, as answered.
    let full = send(&app, get(&format!("/v1/enterprises/{code}"), Some(&key))).await;
    assert_eq!(full.status, 200);
    assert_eq!(full.body, r.body);

    // Without a key: the public view, with no personal data anywhere.
    let public = send(&app, get(&format!("/v1/enterprises/{code}"), None)).await;
    assert_eq!(public.status, 200);
    let mut leaks = Vec::new();
    find_keys(&public.body, &["identity", "birth_date", "owners"], "", &mut leaks);
    assert!(leaks.is_empty(), "personal data in the public view: {leaks:?}");
    assert!(!public.text.contains("001080012345"));
    assert_eq!(public.body["legal_representatives"][0]["full_name"], "Nguyễn Văn An");
    assert_eq!(public.body["name"], sent["name"]);

    // One version and one feed event, written together.
    assert_eq!(db.count("enterprise_versions"), 1);
    assert_eq!(db.count("feed_events"), 1);
}

#[actix_web::test]
async fn each_of_the_five_types_registers() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    for (i, kind) in ["llc_single", "llc_multi", "jsc", "partnership", "private_enterprise"].iter().enumerate() {
        let body = registration(kind, &format!("Phương Nam {}", ["An", "Bình", "Cúc", "Dung", "Én"][i]));
        let r = send(&app, post_json("/v1/enterprises", Some(&key), &body)).await;
        assert_eq!(r.status, 201, "{kind}: {}", r.text);
        assert_eq!(r.body["type"], *kind);
        assert!(r.body["code"].as_str().unwrap().starts_with("79"));
    }
    assert_eq!(db.count("enterprises"), 5);
}

/// SPEC §2.2, art. 39: a foreign-language name is written in Latin letters, diacritics included.
#[actix_web::test]
async fn foreign_language_names_may_carry_diacritics() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    for (proper, en) in [("Phương Nam Sơn", "Société Phương Nam Sơn"), ("Phương Nam Hà", "Müller Việt Nam GmbH")]
    {
        let body = with(registration("llc_multi", proper), &["name", "en"], json!(en));
        let r = send(&app, post_json("/v1/enterprises", Some(&key), &body)).await;
        assert_eq!(r.status, 201, "{en}: {}", r.text);
        assert_eq!(r.body["name"]["en"], en);
    }
}

/// SPEC §2.5, art. 120.2: a joint-stock company's founding shareholders together subscribe at
/// least 20 % of the charter capital (the rest is sold to other shareholders), at most all of it.
#[actix_web::test]
async fn a_jscs_founders_subscribe_at_least_a_fifth_of_the_charter_capital() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    // The founders of `registration("jsc", …)` subscribe 10,000,000,000 VND.
    let cases = [
        ("Phương Nam Hạ", 50_000_000_000i64, 201),
        ("Phương Nam Thu", 50_000_000_005, 422),
        ("Phương Nam Đông", 9_999_999_999, 422),
    ];
    for (proper, charter, status) in cases {
        let body = with(registration("jsc", proper), &["charter_capital_vnd"], json!(charter));
        let r = send(&app, post_json("/v1/enterprises", Some(&key), &body)).await;
        assert_eq!(r.status, status, "{charter}: {}", r.text);
        if status == 201 {
            assert_eq!(r.body["owners"][0]["share_percent"], 10.0, "a share is of the charter capital");
        } else {
            assert!(r.has_error("owners", "capital_mismatch"), "{}", r.text);
        }
    }
    // Other types still contribute the whole charter capital.
    let body = with(registration("llc_multi", "Phương Nam Xuân"), &["charter_capital_vnd"], json!(5_000_000_000i64));
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &body)).await;
    assert!(r.has_error("owners", "capital_mismatch"), "{}", r.text);
}

#[actix_web::test]
async fn look_up_by_every_accepted_form_and_304() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let Registered { code, etag } = register(&app, &key, &appendix_a()).await;
    let spaced = format!("{} {} {}", &code[..4], &code[4..7], &code[7..]);
    let dotted = format!("{}.{}.{}.{}", &code[..2], &code[2..4], &code[4..7], &code[7..]);
    for form in [code.clone(), spaced, dotted] {
        let uri = format!("/v1/enterprises/{}", form.replace(' ', "%20"));
        let got = send(&app, get(&uri, None)).await;
        assert_eq!(got.status, 200, "{form}");
        assert_eq!(got.body["code"], code.as_str());
    }
    let not_modified =
        send(&app, get(&format!("/v1/enterprises/{code}"), None).insert_header(("If-None-Match", etag.clone()))).await;
    assert_eq!(not_modified.status, 304);
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    let modified =
        send(&app, get(&format!("/v1/enterprises/{code}"), None).insert_header(("If-None-Match", "\"v0\""))).await;
    assert_eq!(modified.status, 200);
}

#[actix_web::test]
async fn malformed_and_unknown_codes() {
    let db = TestDb::new();
    let app = app(&db).await;
    for (code, reason) in [
        ("0100233480", "bad_check_digit"),
        ("0100000008", "zero_serial"),
        ("01002334", "wrong_length"),
        ("01002334ab", "invalid_characters"),
    ] {
        let r = send(&app, get(&format!("/v1/enterprises/{code}"), None)).await;
        assert_eq!(r.status, 400, "{code}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(r.body["type"], "invalid_code");
        assert!(r.has_error("code", reason), "{code}: {:?}", r.field_errors());
    }
    let r = send(&app, get("/v1/enterprises/0100233488", None)).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["type"], "not_found");
}

#[actix_web::test]
async fn keys_and_roles() {
    let db = TestDb::new();
    let app = app(&db).await;
    let tax = db.key("tax", Role::Tax);
    let r = send(&app, post_json("/v1/enterprises", None, &appendix_a())).await;
    assert_eq!((r.status, r.body["type"].as_str()), (401, Some("unauthorized")));
    let r = send(&app, post_json("/v1/enterprises", Some("nerd_not-a-key"), &appendix_a())).await;
    assert_eq!(r.status, 401);
    let r = send(&app, get("/v1/enterprises/0100233488", Some("nerd_not-a-key"))).await;
    assert_eq!(r.status, 401, "a bad key is refused, not treated as the public");
    let r = send(&app, post_json("/v1/enterprises", Some(&tax), &appendix_a())).await;
    assert_eq!((r.status, r.body["type"].as_str()), (403, Some("forbidden")));
    assert_eq!(db.count("enterprises"), 0);
}

#[actix_web::test]
async fn a_retried_post_with_the_same_idempotency_key_registers_once() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let first = send(
        &app,
        post_json("/v1/enterprises", Some(&key), &appendix_a()).insert_header(("Idempotency-Key", "abc-123")),
    )
    .await;
    assert_eq!(first.status, 201);
    let again = send(
        &app,
        post_json("/v1/enterprises", Some(&key), &appendix_a()).insert_header(("Idempotency-Key", "abc-123")),
    )
    .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(db.count("enterprises"), 1);
    // The same key with another body is refused.
    let other = registration("jsc", "Sao Mai");
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &other).insert_header(("Idempotency-Key", "abc-123")))
        .await;
    assert_eq!((r.status, r.body["type"].as_str()), (422, Some("idempotency_key_reused")));
    // Concurrent retries: still one enterprise.
    let futures: Vec<_> = (0..8)
        .map(|_| {
            send(
                &app,
                post_json("/v1/enterprises", Some(&key), &other).insert_header(("Idempotency-Key", "concurrent")),
            )
        })
        .collect();
    let replies = futures_util::future::join_all(futures).await;
    let codes: std::collections::HashSet<_> =
        replies.iter().map(|r| r.body["code"].as_str().unwrap().to_string()).collect();
    assert!(replies.iter().all(|r| r.status == 201));
    assert_eq!(codes.len(), 1);
    assert_eq!(db.count("enterprises"), 2);
}

#[actix_web::test]
async fn fifty_concurrent_registrations_in_one_province_get_fifty_codes() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let bodies: Vec<Value> = (0..50)
        .map(|i| {
            let mut b = registration("llc_single", &format!("Đồng Tâm Số {i}"));
            b["name"]["vi"] = format!("Công ty TNHH {}", syllables(i)).into();
            b
        })
        .collect();
    let replies =
        futures_util::future::join_all(bodies.iter().map(|b| send(&app, post_json("/v1/enterprises", Some(&key), b))))
            .await;
    let mut codes = std::collections::HashSet::new();
    for r in &replies {
        assert_eq!(r.status, 201, "{}", r.text);
        let code = r.body["code"].as_str().unwrap();
        assert!(EnterpriseCode::parse(code).is_ok(), "{code}");
        assert!(code.starts_with("79"));
        codes.insert(code.to_string());
    }
    assert_eq!(codes.len(), 50);
    assert_eq!(db.count("enterprises"), 50);
    assert_eq!(db.count("feed_events"), 50);
}

/// A distinct two-syllable proper name per number.
fn syllables(i: usize) -> String {
    const A: [&str; 10] = ["An", "Bình", "Cường", "Dũng", "Giang", "Hải", "Khánh", "Lâm", "Minh", "Nam"];
    const B: [&str; 10] = ["Phát", "Quang", "Sơn", "Thành", "Uyên", "Vinh", "Xuân", "Yên", "Đạt", "Hưng"];
    format!("{} {}", A[i % 10], B[i / 10 % 10])
}

#[actix_web::test]
async fn nfd_and_stray_whitespace_are_stored_as_nfc_trimmed() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let mut body = appendix_a();
    body["name"]["vi"] = "  Công ty TNHH   Vận ta\u{0309}i Hoa\u{0300}ng Long Pha\u{0301}t ".into();
    body["head_office"]["street"] = " Số 12   phố Hàng Bài\t".into();
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["name"]["vi"], "Công ty TNHH Vận tải Hoàng Long Phát");
    assert_eq!(r.body["head_office"]["street"], "Số 12 phố Hàng Bài");
}

/// Sends `body` and expects a 4xx naming `field` with `code`; nothing may be written.
async fn refused<B: actix_web::body::MessageBody>(
    app: &impl TestApp<B>,
    db: &TestDb,
    key: &str,
    body: Value,
    status: u16,
    field: &str,
    code: &str,
) {
    let r = send(app, post_json("/v1/enterprises", Some(key), &body)).await;
    assert_eq!(r.status, status, "{field}/{code}: {}", r.text);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert!(r.has_error(field, code), "expected {field}/{code} in {:?}", r.field_errors());
    assert_eq!(db.count("enterprises"), 0);
    assert_eq!(db.count("enterprise_versions"), 0);
    assert_eq!(db.count("feed_events"), 0);
}

fn with(mut body: Value, path: &[&str], value: Value) -> Value {
    let mut target = &mut body;
    for (i, p) in path.iter().enumerate() {
        let last = i == path.len() - 1;
        let next = match p.parse::<usize>() {
            Ok(n) => &mut target[n],
            Err(_) => &mut target[*p],
        };
        if last {
            *next = value.clone();
            return body;
        }
        target = next;
    }
    body
}

fn without(mut body: Value, path: &[&str]) -> Value {
    let (last, parents) = path.split_last().unwrap();
    let mut target = &mut body;
    for p in parents {
        target = match p.parse::<usize>() {
            Ok(n) => &mut target[n],
            Err(_) => &mut target[*p],
        };
    }
    target.as_object_mut().unwrap().remove(*last);
    body
}

#[actix_web::test]
async fn every_field_wrong_in_every_way_is_named() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let a = appendix_a;
    // Missing fields.
    for field in
        ["type", "name", "head_office", "charter_capital_vnd", "business_lines", "legal_representatives", "owners"]
    {
        refused(&app, &db, &key, without(a(), &[field]), 422, field, "required").await;
    }
    refused(&app, &db, &key, without(a(), &["name", "vi"]), 422, "name.vi", "required").await;
    refused(&app, &db, &key, without(a(), &["head_office", "ward_code"]), 422, "head_office.ward_code", "required")
        .await;
    refused(&app, &db, &key, without(a(), &["head_office", "street"]), 422, "head_office.street", "required").await;
    refused(
        &app,
        &db,
        &key,
        without(a(), &["legal_representatives", "0", "identity"]),
        422,
        "legal_representatives[0].identity",
        "required",
    )
    .await;
    refused(&app, &db, &key, without(a(), &["owners", "1", "capital_vnd"]), 422, "owners[1].capital_vnd", "required")
        .await;
    // Wrong types: 400 naming the path.
    refused(
        &app,
        &db,
        &key,
        with(a(), &["charter_capital_vnd"], json!("5 tỷ")),
        400,
        "charter_capital_vnd",
        "invalid_type",
    )
    .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["charter_capital_vnd"], json!(5.5)),
        400,
        "charter_capital_vnd",
        "invalid_type",
    )
    .await;
    refused(&app, &db, &key, with(a(), &["name"], json!("Công ty TNHH X")), 400, "name", "invalid_type").await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["business_lines", "0", "main"], json!("yes")),
        400,
        "business_lines[0].main",
        "invalid_type",
    )
    .await;
    refused(&app, &db, &key, with(a(), &["owners"], json!({})), 400, "owners", "invalid_type").await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["legal_representatives", "0", "birth_date"], json!("12/04/1980")),
        400,
        "legal_representatives[0].birth_date",
        "invalid_type",
    )
    .await;
    // Unknown fields.
    refused(&app, &db, &key, with(a(), &["colour"], json!("red")), 400, "colour", "unknown_field").await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["head_office", "district"], json!("Hoàn Kiếm")),
        400,
        "head_office.district",
        "unknown_field",
    )
    .await;
    // Empty and too long.
    refused(&app, &db, &key, with(a(), &["name", "vi"], json!("   ")), 422, "name.vi", "empty").await;
    refused(&app, &db, &key, with(a(), &["head_office", "street"], json!("")), 422, "head_office.street", "empty")
        .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["name", "vi"], json!(format!("Công ty TNHH {}", "Long ".repeat(100)))),
        422,
        "name.vi",
        "too_long",
    )
    .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["head_office", "street"], json!("x".repeat(501))),
        422,
        "head_office.street",
        "too_long",
    )
    .await;
    // Type and name.
    refused(&app, &db, &key, with(a(), &["type"], json!("llc")), 422, "type", "unknown_type").await;
    refused(&app, &db, &key, with(a(), &["name", "vi"], json!("Hoàng Long Phát")), 422, "name.vi", "name_prefix").await;
    refused(&app, &db, &key, with(a(), &["type"], json!("jsc")), 422, "name.vi", "name_prefix").await;
    refused(&app, &db, &key, with(a(), &["name", "vi"], json!("Công ty TNHH")), 422, "name.vi", "proper_name_missing")
        .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["name", "vi"], json!("Công ty TNHH 黄龙")),
        422,
        "name.vi",
        "invalid_characters",
    )
    .await;
    // A foreign-language name is in Latin letters, diacritics included (`Société Hoàng Long` is one).
    refused(&app, &db, &key, with(a(), &["name", "en"], json!("Хоанг Лонг")), 422, "name.en", "invalid_characters")
        .await;
    // Address.
    refused(
        &app,
        &db,
        &key,
        with(a(), &["head_office", "ward_code"], json!("99999")),
        422,
        "head_office.ward_code",
        "unknown_ward",
    )
    .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["head_office", "ward_code"], json!("26743")),
        422,
        "head_office.ward_code",
        "ward_not_in_province",
    )
    .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["head_office", "ward_code"], json!("7O")),
        422,
        "head_office.ward_code",
        "invalid_format",
    )
    .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["head_office", "province_code"], json!("02")),
        422,
        "head_office.province_code",
        "unknown_province",
    )
    .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["head_office", "email"], json!("not-an-email")),
        422,
        "head_office.email",
        "invalid_email",
    )
    .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["head_office", "phone"], json!("call me")),
        422,
        "head_office.phone",
        "invalid_phone",
    )
    .await;
    // Business lines.
    refused(
        &app,
        &db,
        &key,
        with(a(), &["business_lines", "1", "vsic"], json!("9999")),
        422,
        "business_lines[1].vsic",
        "unknown_vsic",
    )
    .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["business_lines", "1", "main"], json!(true)),
        422,
        "business_lines",
        "main_line_count",
    )
    .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["business_lines", "0", "main"], json!(false)),
        422,
        "business_lines",
        "main_line_count",
    )
    .await;
    refused(&app, &db, &key, with(a(), &["business_lines"], json!([])), 422, "business_lines", "empty").await;
    // Capital and owners.
    refused(&app, &db, &key, with(a(), &["charter_capital_vnd"], json!(0)), 422, "charter_capital_vnd", "not_positive")
        .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["charter_capital_vnd"], json!(-5)),
        422,
        "charter_capital_vnd",
        "not_positive",
    )
    .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["charter_capital_vnd"], json!(6_000_000_000i64)),
        422,
        "owners",
        "capital_mismatch",
    )
    .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["owners", "0", "capital_vnd"], json!(0)),
        422,
        "owners[0].capital_vnd",
        "not_positive",
    )
    .await;
    refused(&app, &db, &key, with(a(), &["type"], json!("llc_single")), 422, "owners", "member_count").await;
    let one_owner = with(a(), &["owners"], json!([a()["owners"][0].clone()]));
    refused(
        &app,
        &db,
        &key,
        with(one_owner, &["charter_capital_vnd"], json!(3_000_000_000i64)),
        422,
        "owners",
        "member_count",
    )
    .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["owners", "1", "kind"], json!("robot")),
        422,
        "owners[1].kind",
        "unknown_owner_kind",
    )
    .await;
    // People.
    refused(
        &app,
        &db,
        &key,
        with(a(), &["legal_representatives", "0", "identity", "number"], json!("123")),
        422,
        "legal_representatives[0].identity.number",
        "invalid_cccd",
    )
    .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["legal_representatives", "0", "nationality"], json!("XX")),
        422,
        "legal_representatives[0].nationality",
        "unknown_country",
    )
    .await;
    refused(&app, &db, &key, with(a(), &["legal_representatives"], json!([])), 422, "legal_representatives", "empty")
        .await;
    refused(
        &app,
        &db,
        &key,
        with(a(), &["legal_representatives", "0", "birth_date"], json!("2015-01-01")),
        422,
        "legal_representatives[0].birth_date",
        "under_age",
    )
    .await;
    // Several errors at once.
    let many = with(
        with(with(a(), &["charter_capital_vnd"], json!(0)), &["head_office", "ward_code"], json!("99999")),
        &["type"],
        json!("x"),
    );
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &many)).await;
    assert_eq!(r.status, 422);
    assert!(r.field_errors().len() >= 3, "{:?}", r.field_errors());
}

#[actix_web::test]
async fn bodies_that_are_not_json_or_too_large() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let auth = ("Authorization", format!("Bearer {key}"));
    let r = send(
        &app,
        TestRequest::post()
            .uri("/v1/enterprises")
            .insert_header(auth.clone())
            .insert_header(("Content-Type", "application/json"))
            .set_payload("{\"type\":"),
    )
    .await;
    assert_eq!((r.status, r.body["type"].as_str()), (400, Some("malformed_body")));
    let r = send(
        &app,
        TestRequest::post()
            .uri("/v1/enterprises")
            .insert_header(auth.clone())
            .insert_header(("Content-Type", "text/plain"))
            .set_payload("{}"),
    )
    .await;
    assert_eq!((r.status, r.body["type"].as_str()), (415, Some("unsupported_media_type")));
    let big = format!("{{\"type\": \"{}\"}}", "x".repeat(1 << 20));
    let r = send(
        &app,
        TestRequest::post()
            .uri("/v1/enterprises")
            .insert_header(auth.clone())
            .insert_header(("Content-Type", "application/json"))
            .set_payload(big),
    )
    .await;
    assert_eq!((r.status, r.body["type"].as_str()), (413, Some("payload_too_large")));
    let r = send(&app, TestRequest::delete().uri("/v1/enterprises").insert_header(auth)).await;
    assert_eq!((r.status, r.body["type"].as_str()), (405, Some("method_not_allowed")));
    let r = send(&app, get("/v1/nothing-here", None)).await;
    assert_eq!((r.status, r.body["type"].as_str()), (404, Some("not_found")));
}

#[actix_web::test]
async fn a_refused_registration_uses_no_code() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let first = send(&app, post_json("/v1/enterprises", Some(&key), &appendix_a())).await;
    let bad = with(
        registration("jsc", "Hồng Hà"),
        &["head_office"],
        json!({"street": "Số 1", "ward_code": "00070", "province_code": "01"}),
    );
    let bad = with(bad, &["charter_capital_vnd"], json!(1));
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &bad)).await;
    assert_eq!(r.status, 422);
    let good = with(
        registration("jsc", "Hồng Hà"),
        &["head_office"],
        json!({"street": "Số 1", "ward_code": "00070", "province_code": "01"}),
    );
    let second = send(&app, post_json("/v1/enterprises", Some(&key), &good)).await;
    assert_eq!(second.status, 201, "{}", second.text);
    let serial = |r: &Reply| EnterpriseCode::parse(r.body["code"].as_str().unwrap()).unwrap().serial();
    let (a, b) = (serial(&first), serial(&second));
    // The next serial with a valid check digit: nothing skipped for the refused one.
    let expected = EnterpriseCode::next_valid("01", a + 1).unwrap().0;
    assert_eq!(b, expected);
}

/// SPEC §2.5, art. 177: a partnership's partners are `general` (individuals, at least two, who
/// represent it) or `capital_contributing` (individuals or organisations); other types have no
/// partner kinds.
#[actix_web::test]
async fn partnerships_have_general_and_capital_contributing_partners() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let investor = register(&app, &key, &registration("jsc", "Phương Nam Vốn")).await.code;

    // Two general partners and an organisation that contributes capital.
    let mut body = registration("partnership", "Phương Nam Luật");
    body["owners"][1]["capital_vnd"] = json!(100_000_000);
    body["owners"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kind": "organisation", "name": "Công ty cổ phần Phương Nam Vốn",
        "enterprise_code": investor, "capital_vnd": 100_000_000, "partner_kind": "capital_contributing"}));
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["owners"][2]["partner_kind"], "capital_contributing");
    assert_eq!(r.body["owners"][0]["partner_kind"], "general");
    // The partner kinds survive a change that leaves the owners alone.
    let code = r.body["code"].as_str().unwrap().to_string();
    let etag = r.header("ETag").unwrap().to_string();
    let patched = send(
        &app,
        patch(&format!("/v1/enterprises/{code}"), &key, Some(&etag), &json!({"head_office": {"street": "Số 2"}})),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["owners"][2]["partner_kind"], "capital_contributing");

    let cases = [
        // One general partner only.
        (
            with(
                registration("partnership", "Phương Nam Một"),
                &["owners", "1", "partner_kind"],
                json!("capital_contributing"),
            ),
            "owners",
            "general_partner_count",
        ),
        // An organisation may not be a general partner.
        (
            with(
                registration("partnership", "Phương Nam Hai"),
                &["owners", "1"],
                json!({"kind": "organisation", "name": "Công ty cổ phần Phương Nam Vốn", "enterprise_code": investor,
                "capital_vnd": 200_000_000, "partner_kind": "general"}),
            ),
            "owners[1].kind",
            "individual_required",
        ),
        (
            without(registration("partnership", "Phương Nam Ba"), &["owners", "0", "partner_kind"]),
            "owners[0].partner_kind",
            "required",
        ),
        (
            with(registration("partnership", "Phương Nam Bốn"), &["owners", "0", "partner_kind"], json!("silent")),
            "owners[0].partner_kind",
            "unknown_partner_kind",
        ),
        (
            with(registration("llc_multi", "Phương Nam Năm"), &["owners", "0", "partner_kind"], json!("general")),
            "owners[0].partner_kind",
            "not_allowed",
        ),
    ];
    for (body, field, code) in cases {
        let r = send(&app, post_json("/v1/enterprises", Some(&key), &body)).await;
        assert_eq!(r.status, 422, "{field}: {}", r.text);
        assert!(r.has_error(field, code), "{field} {code}: {:?}", r.field_errors());
    }
    // The legal representative is a general partner: a capital-contributing one is refused.
    let mut body = registration("partnership", "Phương Nam Sáu");
    body["owners"].as_array_mut().unwrap().push(
        json!({"kind": "individual", "name": "Trần Văn Tư", "nationality": "VN",
        "identity": {"kind": "cccd", "number": "001080000099"}, "capital_vnd": 100_000_000,
        "partner_kind": "capital_contributing"}),
    );
    body["charter_capital_vnd"] = json!(600_000_000);
    body["legal_representatives"][0]["full_name"] = json!("Trần Văn Tư");
    body["legal_representatives"][0]["birth_date"] = json!("1980-01-01");
    body["legal_representatives"][0]["identity"]["number"] = json!("001080000099");
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &body)).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.has_error("legal_representatives[0].identity.number", "not_a_general_partner"), "{:?}", r.field_errors());
}

/// Art. 188.3: one individual owns one private enterprise that has not ceased; a second filing is
/// a 409 naming the first, on registration and on a change of owner.
#[actix_web::test]
async fn one_person_owns_one_private_enterprise() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let first = register(&app, &key, &registration("private_enterprise", "Phương Nam Một")).await.code;
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &registration("private_enterprise", "Phương Nam Hai")))
        .await;
    assert_eq!((r.status, r.body["type"].as_str()), (409, Some("owner_has_private_enterprise")), "{}", r.text);
    assert!(r.has_error("owners[0].identity.number", "owner_has_private_enterprise"), "{:?}", r.field_errors());
    assert!(r.body["detail"].as_str().unwrap().contains(&first), "{}", r.text);
    // The person may own an LLC.
    let r = send(
        &app,
        post_json(
            "/v1/enterprises",
            Some(&key),
            &with(
                registration("llc_single", "Phương Nam Ba"),
                &["owners", "0", "identity", "number"],
                json!("092060000009"),
            ),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // Another person's private enterprise, changed to the first one's owner: refused too.
    let other = |proper: &str| {
        let mut b = registration("private_enterprise", proper);
        for path in ["owners", "legal_representatives"] {
            b[path][0]["identity"]["number"] = json!("092060000010");
        }
        b
    };
    let Registered { code, etag } = register(&app, &key, &other("Phương Nam Bốn")).await;
    let change = json!({"owners": registration("private_enterprise", "x")["owners"],
        "legal_representatives": registration("private_enterprise", "x")["legal_representatives"]});
    let r = send(&app, patch(&format!("/v1/enterprises/{code}"), &key, Some(&etag), &change)).await;
    assert_eq!((r.status, r.body["type"].as_str()), (409, Some("owner_has_private_enterprise")), "{}", r.text);

    // Once the first has ceased, the person may register another.
    for (v, s) in [(1, "dissolving"), (2, "ceased")] {
        let r = send(
            &app,
            post_json(&format!("/v1/enterprises/{first}/status"), Some(&key), &json!({"status": s}))
                .insert_header(("If-Match", format!("\"v{v}\""))),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &registration("private_enterprise", "Phương Nam Năm")))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

/// Two filings for one person at the same moment: the advisory lock on the identity number makes
/// the second see the first, so exactly one passes.
#[actix_web::test]
async fn concurrent_private_enterprises_for_one_person_one_passes() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let bodies: Vec<Value> = (0..6)
        .map(|i| {
            registration("private_enterprise", &format!("Phương Nam {}", ["A", "B", "C", "D", "E", "G"][i].repeat(3)))
        })
        .collect();
    let replies =
        futures_util::future::join_all(bodies.iter().map(|b| send(&app, post_json("/v1/enterprises", Some(&key), b))))
            .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 5, "{statuses:?}");
    assert_eq!(db.count("enterprises"), 1);
}

/// Art. 188.4: a private enterprise may not own (contribute capital to) an enterprise.
#[actix_web::test]
async fn a_private_enterprise_owns_no_enterprise() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let private = register(&app, &key, &registration("private_enterprise", "Phương Nam Một")).await.code;
    let body = with(
        registration("llc_multi", "Phương Nam Hai"),
        &["owners", "1"],
        json!({"kind": "organisation", "name": "Doanh nghiệp tư nhân Phương Nam Một", "enterprise_code": private,
            "capital_vnd": 400_000_000}),
    );
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &body)).await;
    assert_eq!((r.status, r.body["type"].as_str()), (422, Some("private_enterprise_owner")), "{}", r.text);
    assert!(r.has_error("owners[1].enterprise_code", "private_enterprise_owner"), "{:?}", r.field_errors());
    assert_eq!(db.count("enterprises"), 1);
}
