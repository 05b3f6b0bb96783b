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

/// The schema a `$ref` (or a nullable `oneOf` around one) names, or the schema itself.
fn resolve<'a>(doc: &'a serde_json::Value, schema: &'a serde_json::Value) -> &'a serde_json::Value {
    if let Some(r) = schema["$ref"].as_str() {
        return resolve(doc, &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")]);
    }
    if let Some(one) = schema["oneOf"].as_array() {
        if let Some(inner) = one.iter().find(|s| s["type"] != "null" && s.get("$ref").is_some()) {
            return resolve(doc, inner);
        }
    }
    schema
}

fn operation<'a>(doc: &'a serde_json::Value, method: &str, route: &str) -> &'a serde_json::Value {
    let op = &doc["paths"][route][method];
    assert!(op.is_object(), "{method} {route} is not documented");
    op
}

/// The documented query parameters of a GET with their resolved schemas.
fn query_parameters<'a>(doc: &'a serde_json::Value, route: &str) -> Vec<(&'a str, &'a serde_json::Value)> {
    operation(doc, "get", route)["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .map(|p| (p["name"].as_str().unwrap(), resolve(doc, &p["schema"])))
        .collect()
}

/// The query every request to `route` carries: the required parameters, at their examples.
fn base_query(doc: &serde_json::Value, route: &str) -> Vec<(String, String)> {
    operation(doc, "get", route)["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query" && p["required"] == true)
        .map(|p| {
            let example = p["example"].as_str().or_else(|| resolve(doc, &p["schema"])["enum"][0].as_str());
            (p["name"].as_str().unwrap().to_string(), example.expect("a required parameter has an example").to_string())
        })
        .collect()
}

fn with_query(route: &str, query: &[(String, String)]) -> String {
    let mut url = url::Url::parse("http://registry").unwrap();
    url.set_path(&concrete(route));
    url.query_pairs_mut().extend_pairs(query);
    format!("{}?{}", url.path(), url.query().unwrap_or(""))
}

/// Whether a reply refuses the parameter `name` (a 400 naming it, or one without field errors).
fn refuses(reply: &Reply, name: &str) -> bool {
    reply.status == 400 && (reply.field_errors().is_empty() || reply.field_errors().iter().any(|(f, _)| f == name))
}

/// Schemathesis ST202: `limit`, `wait` and `level` were refused inside the document's ranges
/// (`limit=-9223372036854775808` was schema-valid). Each documented bound is the service's own:
/// accepted at the bound, refused one past it.
#[actix_web::test]
async fn query_ranges_are_the_services_own() {
    let db = TestDb::new();
    let app = app(&db).await;
    let admin = db.key("admin", registry::domain::Role::Admin);
    // One event in the feed, so that `wait` answers at once.
    assert_eq!(send(&app, post_json("/v1/enterprises", Some(&admin), &appendix_a())).await.status, 201);
    let doc = document();
    let mut checked = Vec::new();
    for (route, item) in doc["paths"].as_object().unwrap() {
        if item.get("get").is_none() {
            continue;
        }
        for (name, schema) in query_parameters(&doc, route) {
            for (bound, step) in [("minimum", -1), ("maximum", 1)] {
                let Some(edge) = schema[bound].as_i64() else { continue };
                for (value, accepted) in [(edge, true), (edge + step, false)] {
                    let mut query = base_query(&doc, route);
                    query.push((name.to_string(), value.to_string()));
                    let reply = send(&app, get(&with_query(route, &query), Some(&admin))).await;
                    assert_eq!(
                        refuses(&reply, name),
                        !accepted,
                        "{route}?{name}={value} ({bound} {edge}): {} {}",
                        reply.status,
                        reply.text
                    );
                }
                checked.push(format!("{route} {name} {bound}"));
            }
        }
    }
    for expected in ["/v1/changes limit maximum", "/v1/changes wait maximum", "/v1/search limit minimum"] {
        assert!(checked.iter().any(|c| c == expected), "{expected} is not documented: {checked:?}");
    }
}

/// Schemathesis ST202: `edition=`, `status=` and `type=` (empty) were schema-valid and refused.
/// Every value of a documented enum is accepted, and the empty string is not one of them.
#[actix_web::test]
async fn query_enums_are_the_services_own() {
    let db = TestDb::new();
    let app = app(&db).await;
    let doc = document();
    let mut checked = 0;
    for (route, item) in doc["paths"].as_object().unwrap() {
        if item.get("get").is_none() {
            continue;
        }
        for (name, schema) in query_parameters(&doc, route) {
            let Some(values) = schema["enum"].as_array() else { continue };
            assert!(!values.contains(&serde_json::json!("")), "{route} {name}");
            for value in values.iter().map(|v| v.as_str().unwrap()).chain([""]) {
                let mut query: Vec<_> = base_query(&doc, route).into_iter().filter(|(n, _)| n != name).collect();
                query.push((name.to_string(), value.to_string()));
                let reply = send(&app, get(&with_query(route, &query), None)).await;
                assert_eq!(refuses(&reply, name), value.is_empty(), "{route}?{name}={value:?}: {}", reply.text);
            }
            checked += 1;
        }
    }
    assert!(checked >= 4, "edition, search status and type, name-check type: {checked}");
}

fn pattern(doc: &serde_json::Value, schema: &serde_json::Value) -> regex::Regex {
    regex::Regex::new(resolve(doc, schema)["pattern"].as_str().expect("a pattern")).unwrap()
}

/// Schemathesis ST202: `/v1/enterprises/0` and `/v1/units/0` were schema-valid and refused. The
/// documented patterns hold every accepted form of a code and nothing else; a code of the right
/// shape with a wrong check digit is the one refusal a pattern cannot express.
#[actix_web::test]
async fn code_patterns_are_the_accepted_forms() {
    let db = TestDb::new();
    let app = app(&db).await;
    let doc = document();
    let enterprise = pattern(&doc, &serde_json::json!({"$ref": "#/components/schemas/EnterpriseCodeInput"}));
    let unit = pattern(&doc, &serde_json::json!({"$ref": "#/components/schemas/UnitCodeInput"}));
    let cases = [
        ("/v1/enterprises/", &enterprise, &["0100233488", "0100 233 488", "01.00.233.488", ".0100233488."][..], true),
        ("/v1/enterprises/", &enterprise, &["0", "010023348", "01002334880", "0100-233488", "O100233488"][..], false),
        ("/v1/units/", &unit, &["0312687878-001", "0312687878001", "0312 687 878-001", "0312687878-00001"][..], true),
        ("/v1/units/", &unit, &["0", "0312687878", "0312687878-01", "0312687878-0001", "0312687878--001"][..], false),
    ];
    for (prefix, pattern, forms, accepted) in cases {
        for form in forms {
            assert_eq!(pattern.is_match(form), accepted, "{prefix}{form:?} against {pattern}");
            let path = format!("{prefix}{}", form.replace(' ', "%20"));
            let reply = send(&app, get(&path, None)).await;
            assert_eq!(reply.status, if accepted { 404 } else { 400 }, "{path}: {}", reply.text);
        }
    }
    // The check digit (SPEC §2.1): the right shape, refused.
    assert!(enterprise.is_match("0100233489"));
    let reply = send(&app, get("/v1/enterprises/0100233489", None)).await;
    assert!(reply.status == 400 && reply.has_error("code", "bad_check_digit"), "{}", reply.text);
}

/// Schemathesis ST202: licence numbers of any text were schema-valid. The documented pattern is
/// the service's rule.
#[actix_web::test]
async fn licence_number_pattern_is_the_services_rule() {
    let db = TestDb::new();
    let app = app(&db).await;
    let key = db.key("transport", registry::domain::Role::Transport);
    let doc = document();
    let param = operation(&doc, "get", "/v1/licenses/{number}")["parameters"][0].clone();
    let number = pattern(&doc, &param["schema"]);
    let body = &doc["components"]["schemas"]["LicenseRequest"]["properties"]["number"];
    assert_eq!(body["pattern"], param["schema"]["pattern"], "the body and the path take the same numbers");
    for sample in
        ["GP-VT-0100000010-2026", "gp/vt.1", "AB1", "-GP1", "GP_1", "GPĐ-1", "ab", &"9".repeat(64), &"9".repeat(65)]
    {
        let normalized = registry::domain::license::normalize_number(sample);
        assert_eq!(number.is_match(sample), normalized.is_some(), "{sample:?}");
        let reply = send(
            &app,
            get(
                &format!(
                    "/v1/licenses/{}",
                    url::form_urlencoded::byte_serialize(sample.as_bytes()).collect::<String>()
                ),
                Some(&key),
            ),
        )
        .await;
        assert_eq!(reply.status, if normalized.is_some() { 404 } else { 400 }, "{sample:?}: {}", reply.text);
    }
}

/// Schemathesis ST202: `as_of` of any text was schema-valid. It is a date or an RFC 3339
/// timestamp (`oneOf`), and those are what the service reads.
#[actix_web::test]
async fn as_of_is_a_date_or_a_timestamp() {
    let db = TestDb::new();
    let app = app(&db).await;
    let doc = document();
    let formats: Vec<&str> =
        query_parameters(&doc, "/v1/enterprises/{code}").into_iter().find(|(n, _)| *n == "as_of").unwrap().1["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["format"].as_str().unwrap())
            .collect();
    assert_eq!(formats, ["date", "date-time"]);
    let portal = db.key("portal", registry::domain::Role::Portal);
    let code = register(&app, &portal, &appendix_a()).await.code;
    for value in [
        "2020-01-31",
        "9999-12-31",
        "2020-01-31T08:00:00Z",
        "2099-01-31T08:00:00.123+07:00",
        "2020-01-31t08:00:00z",
        "0001-01-01T00:00:00-23:59",
    ] {
        let reply = send(&app, get(&format!("/v1/enterprises/{code}?as_of={}", value.replace('+', "%2B")), None)).await;
        assert!(reply.status == 200 || reply.body["type"] == "not_yet_registered", "{value}: {}", reply.text);
    }
    for value in ["", "yesterday", "2020-02-30", "2020-01-31T08:00:00"] {
        let reply = send(&app, get(&format!("/v1/enterprises/{code}?as_of={value}"), None)).await;
        assert!(reply.has_error("as_of", "invalid_as_of"), "{value:?}: {}", reply.text);
    }
}

/// The paths the document requires in `body`, walking the objects and lists present in it.
fn required_paths(
    doc: &serde_json::Value,
    schema: &serde_json::Value,
    body: &serde_json::Value,
    at: &str,
) -> BTreeSet<String> {
    let schema = resolve(doc, schema);
    let mut out = BTreeSet::new();
    let join = |name: &str| if at.is_empty() { name.to_string() } else { format!("{at}.{name}") };
    for name in schema["required"].as_array().into_iter().flatten().map(|n| n.as_str().unwrap()) {
        if body.get(name).is_none() {
            out.insert(join(name));
        }
    }
    for (name, value) in body.as_object().into_iter().flatten() {
        let property = &schema["properties"][name];
        match value {
            serde_json::Value::Object(_) => out.extend(required_paths(doc, property, value, &join(name))),
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    out.extend(required_paths(
                        doc,
                        &resolve(doc, property)["items"],
                        item,
                        &format!("{}[{i}]", join(name)),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// The fields a reply reports `required`.
fn reported_required(reply: &Reply) -> BTreeSet<String> {
    reply.field_errors().into_iter().filter(|(_, code)| code == "required").map(|(f, _)| f).collect()
}

/// Schemathesis ST202: bodies without the fields the domain requires were schema-valid (the
/// request types keep every field optional so that the domain names every missing one at once).
/// The document's `required`, object by object, is exactly what the service reports missing.
#[actix_web::test]
async fn required_body_fields_are_the_domains() {
    let db = TestDb::new();
    let app = app(&db).await;
    let admin = db.key("admin", registry::domain::Role::Admin);
    let doc = document();
    let code = register(&app, &admin, &appendix_a()).await.code;
    let registration_parts = serde_json::json!({
        "type": "llc_multi", "name": {}, "head_office": {}, "business_lines": [{}],
        "legal_representatives": [{"identity": {}}], "owners": [{"kind": "organisation", "enterprise_code": "0100233488"}]
    });
    let cases = [
        ("/v1/enterprises".to_string(), "RegistrationContent", serde_json::json!({})),
        ("/v1/enterprises".to_string(), "RegistrationContent", registration_parts),
        (format!("/v1/enterprises/{code}/units"), "UnitRequest", serde_json::json!({})),
        (format!("/v1/enterprises/{code}/units"), "UnitRequest", serde_json::json!({"address": {}})),
        (format!("/v1/enterprises/{code}/licenses"), "LicenseRequest", serde_json::json!({})),
        (format!("/v1/enterprises/{code}/status"), "StatusRequest", serde_json::json!({})),
        ("/v1/verify".to_string(), "VerifyRequest", serde_json::json!({})),
    ];
    for (path, schema, body) in cases {
        let expected =
            required_paths(&doc, &serde_json::json!({"$ref": format!("#/components/schemas/{schema}")}), &body, "");
        assert!(!expected.is_empty(), "{schema} {body}");
        let reply = send(&app, post_json(&path, Some(&admin), &body).insert_header(("If-Match", "\"v1\""))).await;
        assert_eq!(reply.status, 422, "{path} {body}: {}", reply.text);
        assert_eq!(reported_required(&reply), expected, "{path} {body}: {}", reply.text);
    }
    // A licence's status, of a licence recorded (If-Match is optional there).
    let licence = serde_json::json!({"number": "GP-REQ-1", "kind": "road_transport_business",
        "issued_on": registry::domain::legal_date(chrono::Utc::now()), "expires_on": "2036-11-25"});
    let recorded = send(&app, post_json(&format!("/v1/enterprises/{code}/licenses"), Some(&admin), &licence)).await;
    assert_eq!(recorded.status, 201, "{}", recorded.text);
    let body = serde_json::json!({});
    let expected =
        required_paths(&doc, &serde_json::json!({"$ref": "#/components/schemas/LicenseStatusRequest"}), &body, "");
    assert_eq!(expected, BTreeSet::from(["status".to_string()]));
    let reply = send(&app, post_json("/v1/licenses/GP-REQ-1/status", Some(&admin), &body)).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(reported_required(&reply), expected, "{}", reply.text);
}

/// Schemathesis ST202: `"capital_vnd": 272.0` was a schema-valid integer and got 400. An
/// integer may be written with a fraction of zero or an exponent.
#[actix_web::test]
async fn integers_may_be_written_as_json_numbers_of_any_form() {
    let db = TestDb::new();
    let app = app(&db).await;
    let portal = db.key("portal", registry::domain::Role::Portal);
    let mut body = appendix_a();
    body["charter_capital_vnd"] = serde_json::json!(5000000000.0);
    body["owners"][0]["capital_vnd"] = serde_json::json!(3e9);
    let reply = send(&app, post_json("/v1/enterprises", Some(&portal), &body)).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["charter_capital_vnd"], 5_000_000_000_i64);
    assert_eq!(reply.body["owners"][0]["capital_vnd"], 3_000_000_000_i64);
    body["charter_capital_vnd"] = serde_json::json!(5000000000.5);
    let reply = send(&app, post_json("/v1/enterprises", Some(&portal), &body)).await;
    assert!(reply.status == 400 && reply.has_error("charter_capital_vnd", "invalid_type"), "{}", reply.text);
}

/// Schemathesis ST202 and ST203: an optional header documented as nullable was sent as the text
/// `null`; `If-Match: *` was schema-valid; a PATCH without If-Match answers 428, which the
/// document gives. Headers are never nullable, and If-Match takes exactly the register's ETags.
#[actix_web::test]
async fn headers_are_documented_as_sent() {
    let db = TestDb::new();
    let app = app(&db).await;
    let portal = db.key("portal", registry::domain::Role::Portal);
    let doc = document();
    let mut if_match = Vec::new();
    for (route, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "header") {
                assert_eq!(p["schema"]["type"], "string", "{method} {route} {}: {}", p["name"], p["schema"]);
                if p["name"] == "If-Match" {
                    if_match.push(pattern(&doc, &p["schema"]));
                }
            }
        }
    }
    assert_eq!(
        if_match.len(),
        7,
        "PATCH and status of enterprises and units, licences, licence statuses and withdrawals take If-Match"
    );
    for p in &if_match {
        for (value, ok) in [
            ("\"v1\"", true),
            ("\"v123456789\"", true),
            ("*", false),
            ("W/\"v1\"", false),
            ("\"v0\"", false),
            ("v1", false),
        ] {
            assert_eq!(p.is_match(value), ok, "{value} against {p}");
        }
    }
    let code = register(&app, &portal, &appendix_a()).await.code;
    let path = format!("/v1/enterprises/{code}");
    let patch = serde_json::json!({"reason": "nothing"});
    assert_eq!(send(&app, common::patch(&path, &portal, None, &patch)).await.status, 428);
    assert!(operation(&doc, "patch", "/v1/enterprises/{code}")["responses"].get("428").is_some());
    assert_eq!(send(&app, common::patch(&path, &portal, Some("*"), &patch)).await.status, 400);
    assert_eq!(send(&app, common::patch(&path, &portal, Some("\"v1\""), &patch)).await.status, 200);
}

/// Schemathesis ST103: a POST without a Content-Type got an undocumented 415. Every operation
/// with a body documents 413 and 415, and answers 415 to a body that is not JSON.
#[actix_web::test]
async fn operations_with_a_body_document_413_and_415() {
    let db = TestDb::new();
    let app = app(&db).await;
    let admin = db.key("admin", registry::domain::Role::Admin);
    let doc = document();
    let mut seen = 0;
    for (route, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("requestBody").is_none() {
                continue;
            }
            seen += 1;
            for status in ["413", "415"] {
                assert!(op["responses"].get(status).is_some(), "{method} {route} does not document {status}");
            }
            let req = TestRequest::default()
                .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
                .uri(&concrete(route))
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .insert_header(("If-Match", "\"v1\""))
                .set_payload("{}");
            let reply = send(&app, req).await;
            assert!(reply.status == 415 || reply.status == 404, "{method} {route}: {} {}", reply.status, reply.text);
        }
    }
    assert_eq!(seen, 9);
}

/// Schemathesis ST202: the PATCH body was documented as any object, so unknown fields were
/// schema-valid and refused. The merge patch documents the content's fields (but `type`, a
/// conversion of its own) and the change's `effective_on` and `reason`, and nothing else.
#[actix_web::test]
async fn the_merge_patch_is_documented_field_by_field() {
    let db = TestDb::new();
    let app = app(&db).await;
    let portal = db.key("portal", registry::domain::Role::Portal);
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let body = &operation(&doc, "patch", "/v1/enterprises/{code}")["requestBody"]["content"]
        ["application/merge-patch+json"]["schema"];
    let patch = resolve(&doc, body);
    let fields =
        |s: &serde_json::Value| -> BTreeSet<String> { s["properties"].as_object().unwrap().keys().cloned().collect() };
    let mut expected = fields(&schemas["RegistrationContent"]);
    expected.remove("type");
    expected.extend(["effective_on".to_string(), "reason".to_string()]);
    assert_eq!(fields(patch), expected);
    assert_eq!(patch["additionalProperties"], false);
    assert_eq!(fields(resolve(&doc, &patch["properties"]["name"])), fields(&schemas["NameInput"]));
    assert_eq!(fields(resolve(&doc, &patch["properties"]["head_office"])), fields(&schemas["HeadOfficeInput"]));
    let code = register(&app, &portal, &appendix_a()).await.code;
    let path = format!("/v1/enterprises/{code}");
    let reply = send(&app, common::patch(&path, &portal, Some("\"v1\""), &serde_json::json!({"colour": "red"}))).await;
    assert!(reply.status == 400 && reply.has_error("colour", "unknown_field"), "{}", reply.text);
    let reply = send(
        &app,
        common::patch(
            &path,
            &portal,
            Some("\"v1\""),
            &serde_json::json!({"head_office": {"phone": null}, "name": {"en": null}}),
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "null removes an optional field: {}", reply.text);
}

/// Issue 19: the owners of a name check and a partner's kind are documented, the kinds as the
/// enum the service accepts.
#[test]
fn name_check_owners_and_partner_kinds_are_documented() {
    let doc = document();
    let params = query_parameters(&doc, "/v1/name-check");
    let names: Vec<&str> = params.iter().map(|(n, _)| *n).collect();
    for expected in ["name", "type", "owners", "charter_capital_vnd"] {
        assert!(names.contains(&expected), "{expected} not in {names:?}");
    }
    let owners = params.iter().find(|(n, _)| *n == "owners").unwrap().1;
    let pattern = regex::Regex::new(owners["pattern"].as_str().unwrap()).unwrap();
    assert!(pattern.is_match("0100233488:600000000,0101234567:400000000"));
    assert!(!pattern.is_match("0100233488:0") && !pattern.is_match("0100233488"));
    let schemas = &doc["components"]["schemas"];
    for schema in ["OwnerInput", "Owner"] {
        let kind = resolve(&doc, &schemas[schema]["properties"]["partner_kind"]);
        let values = serde_json::to_string(kind).unwrap();
        assert!(values.contains("general") && values.contains("capital_contributing"), "{schema}: {values}");
    }
}
