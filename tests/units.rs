//! Branches, representative offices and business locations.

mod common;

use common::*;
use registry::domain::Role;
use serde_json::json;

fn branch(name: &str) -> serde_json::Value {
    json!({"kind": "branch", "name": name, "address": {"street": "Số 5 đường Nguyễn Huệ", "ward_code": "26743", "province_code": "79"}})
}

#[actix_web::test]
async fn units_get_codes_in_order_and_versions_of_their_enterprise() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let code = register(&app, &key, &appendix_a()).await.code;
    let path = format!("/v1/enterprises/{code}/units");

    let b1 = send(
        &app,
        post_json(&path, Some(&key), &branch("Chi nhánh Công ty TNHH Vận tải Hoàng Long Phát tại Hồ Chí Minh")),
    )
    .await;
    assert_eq!(b1.status, 201, "{}", b1.text);
    assert_eq!(b1.body["unit_code"], format!("{code}-001"));
    assert_eq!(b1.header("location"), Some(format!("/v1/units/{code}-001").as_str()));
    // The enterprise's new version, as the answer kept for an Idempotency-Key says too.
    assert_eq!(b1.header("etag"), Some("\"v2\""));
    assert_eq!(b1.body["address"]["province_name"], "Thành phố Hồ Chí Minh");

    let office = json!({"kind": "representative_office", "name": "Văn phòng đại diện Công ty TNHH Vận tải Hoàng Long Phát tại Đà Nẵng",
        "address": {"street": "Số 1 Bạch Đằng", "ward_code": "20194", "province_code": "48"}});
    let b2 = send(&app, post_json(&path, Some(&key), &office)).await;
    assert_eq!(b2.status, 201, "{}", b2.text);
    assert_eq!(b2.body["unit_code"], format!("{code}-002"));

    let location = json!({"kind": "business_location", "name": "Địa điểm kinh doanh Công ty TNHH Vận tải Hoàng Long Phát - Kho Gia Lâm",
        "address": {"street": "Kho số 3", "ward_code": "00070", "province_code": "01"}});
    let l1 = send(&app, post_json(&path, Some(&key), &location)).await;
    assert_eq!(l1.status, 201, "{}", l1.text);
    assert_eq!(l1.body["location_code"], "00001");
    assert_eq!(l1.body["unit_code"], format!("{code}-00001"));

    let b3 =
        send(&app, post_json(&path, Some(&key), &branch("Chi nhánh 2 Công ty TNHH Vận tải Hoàng Long Phát"))).await;
    assert_eq!(b3.body["unit_code"], format!("{code}-003"), "branches and offices share one series");

    // Each unit is a new version of the enterprise, with its event.
    let e = send(&app, get(&format!("/v1/enterprises/{code}"), None)).await;
    assert_eq!(e.body["version"], 5);
    assert_eq!(e.body["units"].as_array().unwrap().len(), 4);
    assert_eq!(e.body["registration_changes"], 0, "a unit is not a certificate change");
    assert_eq!(db.count("feed_events"), 5);

    let list = send(&app, get(&path, None)).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body.as_array().unwrap().len(), 4);
    let one = send(&app, get(&format!("/v1/units/{code}-002"), None)).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["kind"], "representative_office");
    let loc = send(&app, get(&format!("/v1/units/{code}-00001"), None)).await;
    assert_eq!(loc.body["kind"], "business_location");
}

#[actix_web::test]
async fn refused_units() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let code = register(&app, &key, &appendix_a()).await.code;
    let path = format!("/v1/enterprises/{code}/units");

    let bad_name = send(&app, post_json(&path, Some(&key), &branch("Cửa hàng số 1"))).await;
    assert_eq!(bad_name.status, 422);
    assert!(bad_name.has_error("name", "unit_name"), "{:?}", bad_name.field_errors());
    let bad_ward = send(
        &app,
        post_json(
            &path,
            Some(&key),
            &json!({"kind": "branch", "name": "Chi nhánh Công ty TNHH Vận tải Hoàng Long Phát",
            "address": {"street": "x", "ward_code": "00070", "province_code": "79"}}),
        ),
    )
    .await;
    assert!(bad_ward.has_error("address.ward_code", "ward_not_in_province"));
    let bad_kind = send(&app, post_json(&path, Some(&key), &json!({"kind": "shop", "name": "x"}))).await;
    assert!(bad_kind.has_error("kind", "unknown_unit_kind"));
    assert!(bad_kind.has_error("address", "required"));
    let forbidden =
        send(&app, post_json(&path, Some(&transport), &branch("Chi nhánh Công ty TNHH Vận tải Hoàng Long Phát"))).await;
    assert_eq!(forbidden.status, 403);
    let missing = send(&app, post_json("/v1/enterprises/0100233488/units", Some(&key), &branch("Chi nhánh X"))).await;
    assert_eq!(missing.status, 404);
    assert_eq!(db.count("units"), 0);
    assert_eq!(db.count("enterprise_versions"), 1);

    for (unit, reason) in [
        ("0314409058-000", "invalid_branch_suffix"),
        ("0314409050-002", "bad_check_digit"),
        ("0314409058", "invalid_branch_suffix"),
    ] {
        let r = send(&app, get(&format!("/v1/units/{unit}"), None)).await;
        assert_eq!(r.status, 400, "{unit}");
        assert!(r.has_error("unit_code", reason), "{unit}: {:?}", r.field_errors());
    }
    assert_eq!(send(&app, get("/v1/units/0314409058-002", None)).await.status, 404);
}
