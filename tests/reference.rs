//! Reference data and operations endpoints.

mod common;

use common::*;

#[actix_web::test]
async fn provinces_wards_and_vsic() {
    let db = TestDb::new();
    let app = app(&db).await;
    let p = send(&app, get("/v1/reference/provinces", None)).await;
    assert_eq!(p.status, 200);
    assert_eq!(p.body.as_array().unwrap().len(), 34);
    let hanoi = p.body.as_array().unwrap().iter().find(|p| p["code"] == "01").unwrap();
    assert_eq!(hanoi["name"], "Thành phố Hà Nội");
    assert_eq!(hanoi["ward_count"], 126);
    let w = send(&app, get("/v1/reference/provinces/79/wards", None)).await;
    assert_eq!(w.body.as_array().unwrap().len(), 168);
    assert_eq!(send(&app, get("/v1/reference/provinces/02/wards", None)).await.status, 404);
    let v = send(&app, get("/v1/reference/vsic?level=4", None)).await;
    assert_eq!(v.body.as_array().unwrap().len(), 495);
    let v = send(&app, get("/v1/reference/vsic?edition=2018&level=4", None)).await;
    assert_eq!(v.body.as_array().unwrap().len(), 464);
    assert!(v.body.as_array().unwrap().iter().any(|e| e["code"] == "6201"));
    let bad = send(&app, get("/v1/reference/vsic?edition=1999", None)).await;
    assert_eq!((bad.status, bad.body["type"].as_str()), (400, Some("invalid_parameter")));
    let bad = send(&app, get("/v1/reference/vsic?level=x", None)).await;
    assert_eq!(bad.status, 400);
    // The database holds the same data for SQL consumers.
    assert_eq!(db.count("wards"), 3321);
    assert_eq!(db.count("provinces"), 34);
    assert_eq!(db.count("code_prefixes"), 34);
}

#[actix_web::test]
async fn health_readiness_openapi_and_docs() {
    let db = TestDb::new();
    let app = app(&db).await;
    assert_eq!(send(&app, get("/healthz", None)).await.status, 200);
    let ready = send(&app, get("/readyz", None)).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["database"], "ok");
    assert_eq!(ready.body["migrations"], "applied");
    let doc = send(&app, get("/openapi.json", None)).await;
    assert_eq!(doc.status, 200);
    for path in [
        "/v1/enterprises",
        "/v1/enterprises/{code}",
        "/v1/enterprises/{code}/units",
        "/v1/units/{unit_code}",
        "/v1/reference/vsic",
    ] {
        assert!(doc.body["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    let docs = send(&app, get("/docs/", None)).await;
    assert_eq!(docs.status, 200);
    assert!(docs.text.contains("swagger"), "the docs page is served");
    assert!(!docs.text.contains("cdn"), "no CDN: the page works offline");
    // Every response carries the request id that the logs carry.
    assert!(send(&app, get("/healthz", None)).await.header("x-request-id").is_some());
}
