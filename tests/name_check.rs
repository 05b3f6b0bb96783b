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
            &json!({"name": {"vi": "Công ty cổ phần Hoàng Long"}}),
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
    let check = || get(&check_uri("Công ty cổ phần Sao Mai Miền Nam", "jsc", ""), None);
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

/// Art. 41.2(d)–(g) compare only with enterprises of the same type, the type named in the name
/// (art. 37.1: both LLCs are "Công ty TNHH"); (a)–(c) and (h) with every type.
#[actix_web::test]
async fn d_to_g_compare_only_with_the_same_type() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let jsc = register(&app, &key, &registration("jsc", "Hoàng Long")).await.code;
    let free = |answer: &Value| answer["available"] == true;

    // Beside `Công ty cổ phần Hoàng Long`, an LLC may be `Hoàng Long 2`.
    let r = send(&app, get(&check_uri("Công ty TNHH Hoàng Long 2", "llc_multi", ""), None)).await;
    assert!(free(&r.body), "{}", r.text);
    let mut llc = registration("llc_multi", "Hoàng Long 2");
    llc["legal_representatives"][0]["identity"]["number"] = json!("031082000012");
    llc["owners"][0]["identity"]["number"] = json!("031082000012");
    let llc_code = register(&app, &key, &llc).await.code;

    // Another JSC may not, nor may any other LLC, single- or multi-member.
    let cases = [
        ("Công ty cổ phần Hoàng Long 2", "jsc", &jsc, "d"),
        ("Công ty cổ phần Hoàng Long II", "jsc", &jsc, "d"),
        ("Công ty cổ phần Hoàng LongA", "jsc", &jsc, "d"),
        ("Công ty cổ phần Hoàng Long và", "jsc", &jsc, "đ"),
        ("Công ty cổ phần Tân Hoàng Long", "jsc", &jsc, "e"),
        ("Công ty cổ phần Hoàng Long miền Nam", "jsc", &jsc, "g"),
        ("Công ty TNHH MTV Hoàng Long 3", "llc_single", &llc_code, "d"),
        ("Công ty TNHH Hoàng Long", "llc_multi", &llc_code, "d"),
    ];
    for (name, kind, conflicting, rule) in cases {
        let r = send(&app, get(&check_uri(name, kind, ""), None)).await;
        assert_eq!(rules_of(&r.body, conflicting), [rule], "{name}: {}", r.text);
    }
    // Across types only (h) and (a)–(c) count.
    for (name, kind) in
        [("Công ty TNHH Tân Hoàng Long", "llc_multi"), ("Doanh nghiệp tư nhân Hoàng Long 2", "private_enterprise")]
    {
        let r = send(&app, get(&check_uri(name, kind, ""), None)).await;
        assert!(rules_of(&r.body, &jsc).is_empty(), "{name}: {}", r.text);
    }
    let r = send(&app, get(&check_uri("Công ty hợp danh Hoàng Long", "partnership", ""), None)).await;
    assert_eq!(rules_of(&r.body, &jsc), ["h"], "{}", r.text);
    // `Công ty TNHH Hoàng Long` is (h) beside the JSC and (d) beside the LLC: refused.
    let mut same = registration("llc_single", "Hoàng Long");
    same["name"]["vi"] = json!("Công ty TNHH Hoàng Long");
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &same)).await;
    assert_eq!((r.status, r.body["type"].as_str()), (409, Some("name_confusing")), "{}", r.text);
    assert_eq!(rules_of(&json!({"conflicts": r.body["conflicts"]}), &llc_code), ["d"]);
    assert_eq!(rules_of(&json!({"conflicts": r.body["conflicts"]}), &jsc), ["h"]);
}

/// (d) tells a Roman numeral from a syllable by case, and (h) ignores case: `Minh VI` and
/// `Minh Vi` are the same proper name although their stored core keys differ, and the store
/// still finds the pair.
#[actix_web::test]
async fn roman_numerals_and_syllables() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let minh = register(&app, &key, &registration("jsc", "Minh VI")).await.code;
    let r = send(&app, get(&check_uri("Công ty TNHH Minh Vi", "llc_multi", ""), None)).await;
    assert_eq!(rules_of(&r.body, &minh), ["h"], "{}", r.text);
    let r = send(&app, get(&check_uri("Công ty cổ phần Minh", "jsc", ""), None)).await;
    assert_eq!(rules_of(&r.body, &minh), ["d"], "{}", r.text);
    let r = send(&app, get(&check_uri("Công ty cổ phần Minh Vi Xanh", "jsc", ""), None)).await;
    assert_eq!(r.body["available"], true, "{}", r.text);
}

/// A valid enterprise code (check digit right) that no test registers (their head offices are in
/// province 79).
fn unregistered_code() -> String {
    (4242..).find_map(|s| registry::domain::code::EnterpriseCode::for_serial("01", s)).unwrap().to_string()
}

/// The owners of `registration("llc_multi", proper)` replaced by the enterprise `parent`
/// holding `parent_capital` and one individual holding the rest of 1,000,000,000 VND.
fn owned_by(proper: &str, parent: &str, parent_capital: i64) -> Value {
    let mut body = registration("llc_multi", proper);
    body["owners"][0] = json!({"kind": "organisation", "name": "Công ty TNHH Sao Mai", "enterprise_code": parent,
        "capital_vnd": parent_capital});
    body["owners"][1]["capital_vnd"] = json!(1_000_000_000 - parent_capital);
    body
}

/// Art. 41.2, last paragraph: (d)–(h) do not apply to a subsidiary of the registered enterprise,
/// an owner in the register that holds more than half of the charter capital; an owner code not
/// in the register is refused.
#[actix_web::test]
async fn the_subsidiary_exception_needs_a_registered_parent_with_more_than_half() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let parent = register(&app, &key, &registration("llc_multi", "Sao Mai")).await.code;

    // Half is not control: (d) applies.
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &owned_by("Sao Mai 2", &parent, 500_000_000))).await;
    assert_eq!((r.status, r.body["type"].as_str()), (409, Some("name_confusing")), "{}", r.text);
    // More than half: a subsidiary.
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &owned_by("Sao Mai 2", &parent, 500_000_001))).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // A valid code that is not in the register.
    let unknown = unregistered_code();
    let mut body = owned_by("Sao Mai 3", &parent, 600_000_000);
    body["owners"][1] = json!({"kind": "organisation", "name": "Công ty TNHH Không Có", "enterprise_code": unknown,
        "capital_vnd": 400_000_000});
    let r = send(&app, post_json("/v1/enterprises", Some(&key), &body)).await;
    assert_eq!((r.status, r.body["type"].as_str()), (422, Some("unknown_enterprise")), "{}", r.text);
    assert!(r.has_error("owners[1].enterprise_code", "unknown_enterprise"), "{:?}", r.field_errors());
    assert_eq!(db.count("enterprises"), 2);

    // A change of owners to an unknown code is refused the same way.
    let sub = owned_by("Hải Đăng", &parent, 600_000_000);
    let Registered { code, etag } = register(&app, &key, &sub).await;
    let owners = json!([sub["owners"][0], {"kind": "organisation", "name": "Công ty TNHH Không Có",
        "enterprise_code": unknown, "capital_vnd": 400_000_000}]);
    // (A change of owners declares the beneficial owners, SPEC §7: here the representative, who
    // controls the company.)
    let declared = json!([{"full_name": "Phạm Văn Dũng", "birth_date": "1982-05-06", "nationality": "VN",
        "identity": {"kind": "cccd", "number": "031082000002"}, "basis": ["control"],
        "control": "Bổ nhiệm, miễn nhiệm đa số thành viên Hội đồng thành viên"}]);
    let r = send(
        &app,
        patch(
            &format!("/v1/enterprises/{code}"),
            &key,
            Some(&etag),
            &json!({"owners": owners, "beneficial_owners": declared}),
        ),
    )
    .await;
    assert_eq!((r.status, r.body["type"].as_str()), (422, Some("unknown_enterprise")), "{}", r.text);
    assert!(r.has_error("owners[1].enterprise_code", "unknown_enterprise"), "{:?}", r.field_errors());
}

/// `GET /v1/name-check` judges the subsidiary exception from `owners` (`CODE:CAPITAL_VND`
/// pairs) and `charter_capital_vnd`.
#[actix_web::test]
async fn name_check_with_owners() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let parent = register(&app, &key, &registration("llc_multi", "Sao Mai")).await.code;
    let private = register(&app, &key, &registration("private_enterprise", "Sao Hôm")).await.code;
    let name = "Công ty TNHH Sao Mai 2";

    let owned = |capital: i64| {
        check_uri(name, "llc_multi", &format!("&owners={parent}:{capital}&charter_capital_vnd=1000000000"))
    };
    let r = send(&app, get(&owned(600_000_000), None)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.body["available"].clone(), r.body["subsidiary_of"].clone()), (json!(true), json!([parent])));
    let r = send(&app, get(&owned(500_000_000), None)).await;
    assert_eq!(rules_of(&r.body, &parent), ["d"], "{}", r.text);
    assert!(r.body.get("subsidiary_of").is_none());
    let r = send(&app, get(&check_uri(name, "llc_multi", ""), None)).await;
    assert_eq!(rules_of(&r.body, &parent), ["d"], "{}", r.text);

    // Codes not in the register, or naming a private enterprise: 422 at the pair.
    let unknown = unregistered_code();
    let uri =
        check_uri(name, "llc_multi", &format!("&owners={parent}:600000000,{unknown}:1&charter_capital_vnd=1000000000"));
    let r = send(&app, get(&uri, None)).await;
    assert_eq!((r.status, r.body["type"].as_str()), (422, Some("unknown_enterprise")), "{}", r.text);
    assert!(r.has_error("owners[1]", "unknown_enterprise"), "{:?}", r.field_errors());
    let uri = check_uri(name, "llc_multi", &format!("&owners={private}:600000000&charter_capital_vnd=1000000000"));
    let r = send(&app, get(&uri, None)).await;
    assert_eq!((r.status, r.body["type"].as_str()), (422, Some("private_enterprise_owner")), "{}", r.text);

    // Malformed: 400 naming the parameter.
    for (extra, field, code) in [
        (format!("&owners={parent}&charter_capital_vnd=1000000000"), "owners[0]", "invalid_owner"),
        (format!("&owners={parent}:-5&charter_capital_vnd=1000000000"), "owners[0]", "invalid_owner"),
        ("&owners=01234:5&charter_capital_vnd=1000000000".to_string(), "owners[0]", "any code"),
        (format!("&owners={parent}:1,{parent}:2&charter_capital_vnd=10"), "owners[1]", "duplicate_owner"),
        (format!("&owners={parent}:600000000"), "charter_capital_vnd", "required"),
        (format!("&owners={parent}:6&charter_capital_vnd=ten"), "charter_capital_vnd", "not_positive"),
    ] {
        let r = send(&app, get(&check_uri(name, "llc_multi", &extra), None)).await;
        assert_eq!((r.status, r.body["type"].as_str()), (400, Some("invalid_parameter")), "{extra}: {}", r.text);
        let named = r.field_errors().iter().any(|(f, c)| f == field && (c == code || code == "any code"));
        assert!(named, "{extra}: {:?}", r.field_errors());
    }
}
