//! The OpenAPI document against the service's behaviour. Schemathesis (`scripts/schemathesis.sh`,
//! run by `.ci/run`) fuzzes the service from its own `/openapi.json`; each disagreement it found
//! is pinned here, so that it stays fixed without Python on the machine.

mod common;

use std::collections::BTreeSet;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use common::*;
use utoipa::OpenApi;

/// The document as JSON, as `/openapi.json` serves it.
fn document() -> serde_json::Value {
    serde_json::to_value(registry::api::ApiDoc::openapi()).unwrap()
}

/// A concrete path for a documented route.
fn concrete(route: &str) -> String {
    route
        .replace("/provinces/{code}", "/provinces/01")
        .replace("{code}", "0100233488")
        .replace("{unit_code}", "0100233488-001")
        .replace("{number}", "GP-VT-0100233488-2026")
}

/// Schemathesis ST204: a method a resource does not serve is a 405 problem whose `Allow` names
/// exactly the methods the document gives for that path.
#[actix_web::test]
async fn undeclared_methods_are_405_with_the_documented_allow() {
    let db = TestDb::new();
    let app = app(&db).await;
    let doc = document();
    let mut wrong = Vec::new();
    for (route, item) in doc["paths"].as_object().unwrap() {
        let documented: BTreeSet<String> = item.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect();
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"] {
            if documented.contains(method) {
                continue;
            }
            let req =
                TestRequest::default().method(Method::from_bytes(method.as_bytes()).unwrap()).uri(&concrete(route));
            let reply = send(&app, req).await;
            let allow: BTreeSet<String> =
                reply.header("allow").unwrap_or("").split(',').map(|m| m.trim().to_string()).collect();
            if reply.status != 405
                || allow != documented
                || reply.header("content-type") != Some("application/problem+json")
                || reply.body["type"] != "method_not_allowed"
            {
                wrong.push(format!(
                    "{method} {route}: {} Allow {:?} (documented {documented:?}) {}",
                    reply.status,
                    reply.header("allow"),
                    reply.text
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
