//! The legal name check (art. 41) through the API: each rule letter, registration and renaming
//! refused with the conflicts, ceased enterprises and subsidiaries.

mod common;

use common::*;
use registry::domain::Role;
use serde_json::{json, Value};

fn check_uri(name: &str, kind: &str, extra: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!("/v1/name-check?name={}&type={}{}", enc(name), kind, extra)
}

fn rules_of(answer: &Value, code: &str) -> Vec<String> {
    answer["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["code"] == code)
        .flat_map(|c| c["rules"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap().to_string()))
        .collect()
}

#[actix_web::test]
async fn each_rule_of_article_41() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let mut base = registration("llc_multi", "Hoàng Long");
    base["name"]["en"] = json!("Hoang Long Trading Company Limited");
    base["name"]["abbreviation"] = json!("HOANGLONG CO");
    let code = register(&app, &key, &base).await.code;
    let thuy = register(&app, &key, &registration("jsc", "Thuỷ Tiên")).await.code;

    let cases: Vec<(String, &str, &str)> = vec![
        (check_uri("Công ty TNHH Hoàng Long", "llc_multi", ""), code.as_str(), "identical"),
        (check_uri("Công ty cổ phần Thủy Tiên", "jsc", ""), thuy.as_str(), "a"),
        (check_uri("Công ty TNHH Sông Hồng", "llc_multi", "&abbreviation=HOANGLONG%20CO"), code.as_str(), "b"),
        (
            check_uri("Công ty TNHH Sông Đà", "llc_multi", "&foreign_name=hoang%20long%20trading%20company%20limited"),
            code.as_str(),
            "c",
        ),
        (check_uri("Công ty TNHH Hoàng Long 2", "llc_multi", ""), code.as_str(), "d"),
        (check_uri("Công ty TNHH Hoàng Long B", "llc_multi", ""), code.as_str(), "d"),
        (check_uri("Công ty TNHH Hoàng & Long", "llc_multi", ""), code.as_str(), "đ"),
        (check_uri("Công ty TNHH Hoàng-Long", "llc_multi", ""), code.as_str(), "đ"),
        (check_uri("Công ty TNHH Tân Hoàng Long", "llc_multi", ""), code.as_str(), "e"),
        (check_uri("Công ty TNHH Hoàng Long Mới", "llc_multi", ""), code.as_str(), "e"),
        (check_uri("Công ty TNHH Hoàng Long Miền Bắc", "llc_multi", ""), code.as_str(), "g"),
        (check_uri("Công ty cổ phần Hoàng Long", "jsc", ""), code.as_str(), "h"),
    ];
    for (uri, conflicting, rule) in &cases {
        let r = send(&app, get(uri, None)).await;
        assert_eq!(r.status, 200, "{uri}: {}", r.text);
        assert_eq!(r.body["available"], false, "{uri}");
        let rules = rules_of(&r.body, conflicting);
        assert!(rules.iter().any(|x| x == rule), "{uri}: expected rule {rule}, got {rules:?}");
        let c = r.body["conflicts"].as_array().unwrap().iter().find(|c| c["code"] == *conflicting).unwrap();
        assert_eq!(c["status"], "active");
        assert!(c["name"].as_str().is_some());
    }
    // Names that differ in tone, or in letters, are free.
    for name in ["Công ty TNHH Hoàng Lòng", "Công ty TNHH Hoàng Lâm", "Công ty TNHH Thạnh Long"] {
        let r = send(&app, get(&check_uri(name, "llc_multi", ""), None)).await;
        assert_eq!(r.body["available"], true, "{name}: {}", r.text);
        assert_eq!(r.body["conflicts"], json!([]));
    }
    // Registration and renaming are refused with the same conflicts.
    let mut again = registration("llc_multi", "Hoàng Long 2");
    again["legal_representatives"][0]["identity"]["number"] = json!("031082000012");
    again["owners"][0]["identity"]["number"] = json!("031082000012");
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &again)).await;
    assert_eq!((r.status, r.body["type"].as_str()), (409, Some("name_confusing")), "{}", r.text);
    assert_eq!(r.body["conflicts"][0]["code"], code.as_str());
    assert_eq!(r.body["conflicts"][0]["rules"][0]["rule"], "d");
    let identical =
        send(&app, post_json("/v1/enterprises", Some(&key), &registration("llc_multi", "Hoàng Long"))).await;
    assert_eq!((identical.status, identical.body["type"].as_str()), (409, Some("name_identical")));
    let rename = send(
        &app,
        patch(
            &format!("/v1/enterprises/{thuy}"),
            &key,
            Some("\"v1\""),
            &json!({"name": {"vi": "Công ty cổ phần Tân Hoàng Long"}}),
        ),
    )
    .await;
    assert_eq!((rename.status, rename.body["type"].as_str()), (409, Some("name_confusing")), "{}", rename.text);
    assert_eq!(db.count("enterprises"), 2);
    assert_eq!(db.count("enterprise_versions"), 2);

    // Renaming to a name only its own old name resembles is fine.
    let own = send(
        &app,
        patch(
            &format!("/v1/enterprises/{thuy}"),
            &key,
            Some("\"v1\""),
            &json!({"name": {"vi": "Công ty CP Thuỷ Tiên"}}),
        ),
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.text);
}

#[actix_web::test]
async fn ceased_enterprises_do_not_block_and_subsidiaries_are_excepted() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let parent = register(&app, &key, &registration("jsc", "Sao Mai")).await.code;

    // A subsidiary owned by the registered enterprise may take a name that differs by a number.
    let mut sub = registration("llc_single", "Sao Mai 2");
    sub["owners"] = json!([{"kind": "organisation", "name": "Công ty cổ phần Sao Mai", "enterprise_code": parent, "capital_vnd": 1_000_000_000i64}]);
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &sub)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // But not an identical one.
    let mut same = sub.clone();
    same["type"] = json!("llc_single");
    same["name"]["vi"] = json!("Công ty TNHH MTV Sao Mai 2");
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &same)).await;
    assert_eq!(r.status, 409, "{}", r.text);

    // Once the parent has ceased, its name no longer blocks others.
    let check = || get(&check_uri("Công ty TNHH Sao Mai Miền Nam", "llc_multi", ""), None);
    let before = send(&app, check()).await;
    assert!(rules_of(&before.body, &parent).contains(&"g".to_string()), "{}", before.text);
    for (v, s) in [(1, "dissolving"), (2, "ceased")] {
        let r = send(
            &app,
            post_json(&format!("/v1/enterprises/{parent}/status"), Some(&key), &json!({"status": s}))
                .insert_header(("If-Match", format!("\"v{v}\""))),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let after = send(&app, check()).await;
    assert!(rules_of(&after.body, &parent).is_empty(), "{}", after.text);
}

#[actix_web::test]
async fn bad_name_check_parameters() {
    let db = TestDb::new();
    let app = app(&db).await;
    let r = send(&app, get("/v1/name-check", None)).await;
    assert_eq!(r.status, 400);
    assert!(r.has_error("name", "required") && r.has_error("type", "required"), "{:?}", r.field_errors());
    let r = send(&app, get(&check_uri("Hoàng Long", "llc_multi", ""), None)).await;
    assert!(r.has_error("name", "name_prefix"));
    let r = send(&app, get(&check_uri("Công ty TNHH Hoàng Long", "llc", ""), None)).await;
    assert!(r.has_error("type", "unknown_type"));
    let r = send(&app, get(&format!("{}&colour=red", check_uri("Công ty TNHH A B", "llc_multi", "")), None)).await;
    assert_eq!(r.status, 400);
}

/// A name holding U+0000 (found by the property tests) is a 400 that names the field: the key
/// look-up would otherwise hand it to PostgreSQL, which refuses it (`invalid byte sequence for
/// encoding "UTF8": 0x00`).
#[actix_web::test]
async fn control_characters_in_a_checked_name_are_a_400() {
    let db = TestDb::new();
    let app = app(&db).await;
    let r = send(&app, get(&check_uri("Công ty TNHH A\u{0}B", "llc_multi", ""), None)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.has_error("name", "invalid_characters"), "{:?}", r.field_errors());
    let r = send(&app, get(&check_uri("Công ty TNHH AB", "llc_multi", "&foreign_name=AB%00%1B"), None)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.has_error("foreign_name", "invalid_characters"), "{:?}", r.field_errors());
    // Tabs and line feeds are whitespace, normalised away.
    let r = send(&app, get(&check_uri("Công ty TNHH\tA\nB", "llc_multi", ""), None)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}
