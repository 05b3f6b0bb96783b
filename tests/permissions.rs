//! The permission table walked whole: every route × every role × no key, and every route of the
//! OpenAPI document has a decision in the table.

mod common;

use actix_web::test::TestRequest;
use common::*;
use registry::api::permissions::{self, Permission};
use registry::domain::Role;

/// A concrete path for a route pattern.
fn concrete(route: &str, code: &str) -> String {
    route.replace("{code}", code).replace("{unit_code}", &format!("{code}-001")).replace("{id}", "2")
}

fn request(p: &Permission, code: &str, key: Option<&str>) -> TestRequest {
    let path = if p.route == "/v1/reference/provinces/{code}/wards" {
        "/v1/reference/provinces/01/wards".to_string()
    } else {
        concrete(p.route, code)
    };
    let req = match p.method {
        "GET" => TestRequest::get().uri(&path),
        "POST" => TestRequest::post().uri(&path).insert_header(("Content-Type", "application/json")).set_payload("{}"),
        "PATCH" => TestRequest::patch()
            .uri(&path)
            .insert_header(("Content-Type", "application/merge-patch+json"))
            .set_payload("{}"),
        "DELETE" => TestRequest::delete().uri(&path),
        other => panic!("no request for {other}"),
    };
    match key {
        Some(k) => req.insert_header(("Authorization", format!("Bearer {k}"))),
        None => req,
    }
}

#[actix_web::test]
async fn every_route_times_every_role_and_no_key() {
    let db = TestDb::new();
    let app = app(&db).await;
    let portal = db.key("portal", Role::Portal);
    let code = register(&app, &portal, &appendix_a()).await.code;
    let unit = serde_json::json!({"kind": "branch", "name": "Chi nhánh Công ty TNHH Vận tải Hoàng Long Phát",
        "address": {"street": "Số 1", "ward_code": "26743", "province_code": "79"}});
    assert_eq!(send(&app, post_json(&format!("/v1/enterprises/{code}/units"), Some(&portal), &unit)).await.status, 201);
    let keys: Vec<(Option<Role>, Option<String>)> = std::iter::once((None, None))
        .chain(Role::ALL.iter().map(|r| (Some(*r), Some(db.key(&format!("walk-{}", r.as_str()), *r)))))
        .collect();
    for p in permissions::ALL {
        for (role, key) in &keys {
            let r = send(&app, request(p, &code, key.as_deref())).await;
            let who = role.map(|r| r.as_str()).unwrap_or("no key");
            if p.allows(*role) {
                assert!(
                    r.status != 401 && r.status != 403 && r.status < 500,
                    "{} {} by {who}: {} {}",
                    p.method,
                    p.route,
                    r.status,
                    r.text
                );
            } else if role.is_none() {
                assert_eq!(
                    (r.status, r.body["type"].as_str()),
                    (401, Some("unauthorized")),
                    "{} {} by {who}",
                    p.method,
                    p.route
                );
            } else {
                assert_eq!(
                    (r.status, r.body["type"].as_str()),
                    (403, Some("forbidden")),
                    "{} {} by {who}",
                    p.method,
                    p.route
                );
            }
        }
    }
}

#[actix_web::test]
async fn every_documented_route_has_a_decision() {
    let db = TestDb::new();
    let app = app(&db).await;
    let doc = send(&app, get("/openapi.json", None)).await;
    let mut missing = Vec::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            if !permissions::ALL.iter().any(|p| p.route == path && p.method == method) {
                missing.push(format!("{method} {path}"));
            }
        }
    }
    assert!(missing.is_empty(), "routes without a decision in src/api/permissions.rs: {missing:?}");
}
