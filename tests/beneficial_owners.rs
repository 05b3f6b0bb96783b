//! Beneficial owners (SPEC §7) on real PostgreSQL: declarations and their rules, the ownership
//! graph (chains, cycles, recomputation downstream), the three views on every route, the feed
//! and the export, and the access log.

mod common;

use actix_web::test;
use common::*;
use registry::api;
use registry::domain::Role;
use serde_json::{json, Value};

const P: (&str, &str, &str) = ("Nguyễn Văn An", "001080012345", "1980-04-12");
const Q: (&str, &str, &str) = ("Trần Thị Bình", "001185054321", "1985-03-02");
const R: (&str, &str, &str) = ("Lê Văn Cường", "079075000001", "1975-02-03");

fn person(p: (&str, &str, &str), capital: i64) -> Value {
    json!({"kind": "individual", "name": p.0, "nationality": "VN",
        "identity": {"kind": "cccd", "number": p.1}, "capital_vnd": capital})
}

fn company(code: &str, capital: i64) -> Value {
    json!({"kind": "organisation", "name": format!("Doanh nghiệp {code}"), "enterprise_code": code, "capital_vnd": capital})
}

fn declared(p: (&str, &str, &str), percent: f64) -> Value {
    json!({"full_name": p.0, "birth_date": p.2, "nationality": "VN", "identity": {"kind": "cccd", "number": p.1},
        "basis": ["ownership"], "ownership_percent": percent, "contact_address": "Số 12 phố Hàng Bài, Hà Nội"})
}

fn rep(p: (&str, &str, &str)) -> Value {
    json!({"full_name": p.0, "position": "Giám đốc", "birth_date": p.2, "nationality": "VN",
        "identity": {"kind": "cccd", "number": p.1}})
}

/// A registration of `kind` named `proper`, with these owners (capitals in millions of VND) and
/// declaration.
fn company_body(kind: &str, proper: &str, owners: Vec<Value>, beneficial: Option<Value>) -> Value {
    let capital: i64 = owners.iter().map(|o| o["capital_vnd"].as_i64().unwrap()).sum();
    let prefix = if kind == "llc_single" { "Công ty TNHH MTV" } else { "Công ty TNHH" };
    let mut body = json!({
        "type": kind,
        "name": {"vi": format!("{prefix} {proper}")},
        "head_office": {"street": "Số 1 đường Lê Lợi", "ward_code": "26743", "province_code": "79"},
        "charter_capital_vnd": capital,
        "business_lines": [{"vsic": "4711", "main": true}],
        "legal_representatives": [rep(R)],
        "owners": owners,
    });
    if let Some(b) = beneficial {
        body["beneficial_owners"] = b;
    }
    body
}

const M: i64 = 1_000_000;

/// A → B → C: P owns all of A, A 60 % of B, B 50 % of C; C declares only Q.
struct Chain {
    a: String,
    b: String,
    c: String,
}

async fn chain<B: actix_web::body::MessageBody>(app: &impl TestApp<B>, portal: &str) -> Chain {
    let a = register(
        app,
        portal,
        &company_body("llc_single", "Đầu tư An Phát", vec![person(P, 1000 * M)], Some(json!([declared(P, 100.0)]))),
    )
    .await
    .code;
    let b = register(
        app,
        portal,
        &company_body(
            "llc_multi",
            "Thương mại Bảo Long",
            vec![company(&a, 600 * M), person(R, 400 * M)],
            Some(json!([declared(P, 60.0), declared(R, 40.0)])),
        ),
    )
    .await
    .code;
    let c = register(
        app,
        portal,
        &company_body(
            "llc_multi",
            "Vận tải Cát Tường",
            vec![company(&b, 500 * M), person(Q, 500 * M)],
            Some(json!([declared(Q, 50.0)])),
        ),
    )
    .await
    .code;
    Chain { a, b, c }
}

fn recompute(db: &TestDb) -> registry::store::ownership::Round {
    let mut conn = db.conn();
    let mut total = registry::store::ownership::Round::default();
    loop {
        let round = registry::store::ownership::recompute_round(&mut conn, 50, chrono::Utc::now()).unwrap();
        if round.entries == 0 {
            return total;
        }
        total.entries += round.entries;
        total.recomputed += round.recomputed;
        total.written += round.written;
    }
}

#[actix_web::test]
async fn a_chain_gives_the_person_at_its_top_their_indirect_share_and_flags_it_when_undeclared() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let authority = db.key("aml-unit", Role::Authority);
    let app = app(&db).await;
    let Chain { a, b, c } = chain(&app, &portal).await;

    // C is flagged: P holds 100 % × 60 % × 50 % = 30 % of it and is not declared.
    let record = send(&app, get(&format!("/v1/enterprises/{c}"), Some(&authority))).await;
    assert_eq!(record.status, 200, "{}", record.text);
    assert_eq!(
        record.body["discrepancies"],
        json!([{"kind": "undeclared", "identity_number": P.1, "name": P.0, "computed_percent": 30.0}])
    );
    assert_eq!(record.body["beneficial_owners"][0]["identity"]["number"], Q.1);

    let owners = send(&app, get(&format!("/v1/enterprises/{c}/beneficial-owners"), Some(&authority))).await;
    assert_eq!(owners.status, 200, "{}", owners.text);
    assert_eq!(owners.body["declaration"], "declared");
    assert_eq!(owners.body["complete"], true);
    let computed = owners.body["computed"].as_array().unwrap();
    let p = computed.iter().find(|o| o["identity_number"] == P.1).expect("P is computed");
    assert_eq!(p["share_percent"], 30.0);
    assert_eq!(
        p["chains"],
        json!([{"links": [
            {"enterprise_code": c, "share_percent": 50.0},
            {"enterprise_code": b, "share_percent": 60.0},
            {"enterprise_code": a, "share_percent": 100.0}], "share_percent": 30.0}])
    );
    let q = computed.iter().find(|o| o["identity_number"] == Q.1).expect("Q is computed");
    assert_eq!(q["share_percent"], 50.0);
    // R holds 40 % of B, so 20 % of C: not a beneficial owner of C, and not flagged.
    let r = computed.iter().find(|o| o["identity_number"] == R.1).expect("R is computed");
    assert_eq!(r["share_percent"], 20.0);
    assert_eq!(owners.body["discrepancies"].as_array().unwrap().len(), 1);

    // A and B declare what the graph computes: nothing flagged.
    for code in [&a, &b] {
        let r = send(&app, get(&format!("/v1/enterprises/{code}"), Some(&authority))).await;
        assert_eq!(r.body["discrepancies"], json!([]), "{code}: {}", r.text);
    }
    let list = send(&app, get("/v1/beneficial-owners/discrepancies", Some(&authority))).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let codes: Vec<&str> =
        list.body["enterprises"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, [c.as_str()]);

    // Declaring P clears it.
    let etag =
        send(&app, get(&format!("/v1/enterprises/{c}"), Some(&portal))).await.header("etag").unwrap().to_string();
    let r = send(
        &app,
        patch(
            &format!("/v1/enterprises/{c}"),
            &portal,
            Some(&etag),
            &json!({"beneficial_owners": [declared(Q, 50.0), declared(P, 30.0)]}),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["discrepancies"], json!([]));
    assert_eq!(r.body["registration_changes"], 0, "a declaration is a notification, not a registration change");
    let history = send(&app, get(&format!("/v1/enterprises/{c}/history"), Some(&authority))).await;
    assert_eq!(history.body["versions"][0]["kind"], "beneficial_owners_changed", "{}", history.text);
    assert_eq!(history.body["versions"][0]["changed_fields"], json!(["beneficial_owners", "discrepancies"]));
    let public_history = send(&app, get(&format!("/v1/enterprises/{c}/history"), None)).await;
    assert_eq!(public_history.body["versions"][0]["changed_fields"], json!([]), "{}", public_history.text);
}

#[actix_web::test]
async fn a_change_upstream_is_recomputed_downstream_and_followed_by_the_feed() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let tax = db.key("tax", Role::Tax);
    let transport = db.key("transport", Role::Transport);
    let app = app(&db).await;
    let Chain { a, b, c } = chain(&app, &portal).await;
    // Registrations queue nothing downstream (nothing is downstream of a new enterprise).
    assert_eq!(recompute(&db).entries, 0);
    let head = send(&app, get("/v1/changes?limit=1000", Some(&tax))).await.body["next"].as_str().unwrap().to_string();

    // P sells A to Q: Q now holds 50 % of C directly and 30 % through A and B.
    let etag =
        send(&app, get(&format!("/v1/enterprises/{a}"), Some(&portal))).await.header("etag").unwrap().to_string();
    let r = send(
        &app,
        patch(
            &format!("/v1/enterprises/{a}"),
            &portal,
            Some(&etag),
            &json!({"owners": [person(Q, 1000 * M)], "legal_representatives": [rep(Q)],
                "beneficial_owners": [declared(Q, 100.0)]}),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let before_c = stored(&db, &c);
    assert_eq!(before_c["discrepancies"][0]["identity_number"], P.1, "C is recomputed by the worker, not by A's write");

    let round = recompute(&db);
    assert_eq!(round.entries, 1);
    assert_eq!(round.recomputed, 2, "B and C are downstream of A");
    assert_eq!(round.written, 2, "B's declared P no longer holds anything; C's declared Q holds 80 %");
    let after_c = stored(&db, &c);
    assert_eq!(after_c["version"], before_c["version"].as_i64().unwrap() + 1);
    assert_eq!(
        after_c["discrepancies"],
        json!([{"kind": "percent_differs", "identity_number": Q.1, "name": Q.0, "declared_percent": 50.0, "computed_percent": 80.0}])
    );
    let after_b = stored(&db, &b);
    assert_eq!(after_b["discrepancies"][0]["kind"], "undeclared", "{after_b}");
    assert_eq!(recompute(&db).entries, 0, "the queue is empty once done");

    // The tax agency's feed carries the recomputation with the beneficial owners; the transport
    // ministry's carries the same event without them.
    let feed = send(&app, get(&format!("/v1/changes?after={head}"), Some(&tax))).await;
    let events = feed.body["events"].as_array().unwrap();
    let kinds: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| (e["code"].as_str().unwrap(), e["kind"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&(c.as_str(), "beneficial_owners_changed", "ownership")), "{kinds:?}");
    let last = events.iter().rev().find(|e| e["code"] == c.as_str()).unwrap();
    assert_eq!(last["changed_fields"], json!(["discrepancies"]));
    assert_eq!(last["record"]["discrepancies"][0]["kind"], "percent_differs");
    assert!(last["record"]["beneficial_owners"].is_array());
    let feed = send(&app, get(&format!("/v1/changes?after={head}"), Some(&transport))).await;
    let last = feed.body["events"].as_array().unwrap().iter().rev().find(|e| e["code"] == c.as_str()).unwrap().clone();
    assert_eq!(last["kind"], "beneficial_owners_changed");
    assert_eq!(last["changed_fields"], json!([]));
    for field in ["beneficial_owners", "discrepancies", "exempt"] {
        assert!(last["record"].get(field).is_none(), "transport sees no {field}: {last}");
    }
    assert!(!feed.text.contains("discrepancies"), "{}", feed.text);
}

#[actix_web::test]
async fn a_cycle_of_cross_holdings_is_cut_and_reported() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let authority = db.key("aml-unit", Role::Authority);
    let app = app(&db).await;
    let x = register(
        &app,
        &portal,
        &company_body("llc_single", "Hưng Thịnh", vec![person(P, 1000 * M)], Some(json!([declared(P, 100.0)]))),
    )
    .await;
    let y = register(
        &app,
        &portal,
        &company_body(
            "llc_multi",
            "Phú Quý",
            vec![company(&x.code, 500 * M), person(Q, 500 * M)],
            Some(json!([declared(Q, 50.0), declared(P, 50.0)])),
        ),
    )
    .await;
    // X now is half owned by Y: X ← Y ← X.
    let r = send(
        &app,
        patch(
            &format!("/v1/enterprises/{}", x.code),
            &portal,
            Some(&x.etag),
            &json!({"charter_capital_vnd": 2000 * M, "owners": [person(P, 1000 * M), company(&y.code, 1000 * M)],
                "beneficial_owners": [declared(P, 75.0)]}),
        ),
    )
    .await;
    // A single-member LLC has one owner: X becomes a multi-member LLC only by conversion.
    assert_eq!(r.status, 422, "{}", r.text);
    let z = register(
        &app,
        &portal,
        &company_body(
            "llc_multi",
            "Hoà Bình",
            vec![person(P, 500 * M), person(R, 500 * M)],
            Some(json!([declared(P, 50.0), declared(R, 50.0)])),
        ),
    )
    .await;
    let w = register(
        &app,
        &portal,
        &company_body(
            "llc_multi",
            "Đông Á",
            vec![company(&z.code, 600 * M), person(Q, 400 * M)],
            Some(json!([declared(Q, 40.0), declared(P, 30.0), declared(R, 30.0)])),
        ),
    )
    .await;
    // Z takes a share in W, which holds 60 % of Z: Z ← W ← Z.
    let r = send(
        &app,
        patch(
            &format!("/v1/enterprises/{}", z.code),
            &portal,
            Some(&z.etag),
            &json!({"charter_capital_vnd": 1500 * M,
                "owners": [person(P, 500 * M), person(R, 500 * M), company(&w.code, 500 * M)],
                "beneficial_owners": [declared(P, 33.34), declared(R, 33.34)]}),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let owners = send(&app, get(&format!("/v1/enterprises/{}/beneficial-owners", z.code), Some(&authority))).await;
    assert_eq!(owners.status, 200, "{}", owners.text);
    assert_eq!(owners.body["cycles"], json!([[z.code, w.code, z.code]]), "{}", owners.text);
    assert_eq!(owners.body["complete"], false, "a cut cycle leaves the shares a lower bound");
    let p = owners.body["computed"].as_array().unwrap().iter().find(|o| o["identity_number"] == P.1).unwrap().clone();
    // 33.3333 % directly; W's share of Z (33.3333 %) goes to Q at 40 % and to Z again (cut).
    assert_eq!(p["share_percent"], 33.3333);
    let round = recompute(&db);
    assert!(round.recomputed >= 1, "W is downstream of Z, and Z of itself through W");
}

#[actix_web::test]
async fn declarations_are_checked_field_by_field() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let app = app(&db).await;
    let body = |beneficial: Value| {
        company_body("llc_multi", "Kiểm Tra", vec![person(P, 600 * M), person(Q, 400 * M)], Some(beneficial))
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!([declared(P, 60.0)]), "beneficial_owners", "beneficial_owner_missing"),
        (json!([declared(P, 150.0), declared(Q, 40.0)]), "beneficial_owners[0].ownership_percent", "out_of_range"),
        (json!([declared(P, -5.0), declared(Q, 40.0)]), "beneficial_owners[0].ownership_percent", "out_of_range"),
        (
            json!([{"full_name": P.0, "birth_date": P.2, "nationality": "VN", "basis": ["ownership"], "ownership_percent": 60}, declared(Q, 40.0)]),
            "beneficial_owners[0].identity",
            "required",
        ),
        (
            json!([{"full_name": P.0, "birth_date": P.2, "nationality": "VN", "identity": {"kind": "cccd", "number": P.1},
                "basis": ["nope"], "ownership_percent": 60}, declared(Q, 40.0)]),
            "beneficial_owners[0].basis[0]",
            "unknown_basis",
        ),
        (
            json!([declared(P, 60.0), declared(Q, 40.0), {"full_name": R.0, "birth_date": R.2, "nationality": "VN",
                "identity": {"kind": "cccd", "number": R.1}, "basis": ["control"]}]),
            "beneficial_owners[2].control",
            "required",
        ),
        (json!([declared(P, 60.0), declared(Q, 60.0)]), "beneficial_owners", "ownership_over_100"),
        (json!([]), "beneficial_owners", "empty"),
    ];
    for (beneficial, field, code) in cases {
        let r = send(&app, post_json("/v1/enterprises", Some(&portal), &body(beneficial.clone()))).await;
        assert_eq!(r.status, 422, "{beneficial}: {}", r.text);
        assert!(r.has_error(field, code), "{beneficial}: expected {field} {code}: {}", r.text);
    }
    // The missing owner is named, and the problem is named by it.
    let r = send(&app, post_json("/v1/enterprises", Some(&portal), &body(json!([declared(P, 60.0)])))).await;
    assert_eq!(r.body["type"], "beneficial_owner_missing", "{}", r.text);
    assert!(r.text.contains(Q.0), "{}", r.text);
    // Not a JSON number, not a list: 400/422, never 5xx.
    let mut odd = body(json!([declared(P, 60.0), declared(Q, 40.0)]));
    odd["beneficial_owners"][0]["ownership_percent"] = json!("sixty");
    assert!(matches!(send(&app, post_json("/v1/enterprises", Some(&portal), &odd)).await.status, 400 | 422));
    odd["beneficial_owners"] = json!({"a": 1});
    assert!(matches!(send(&app, post_json("/v1/enterprises", Some(&portal), &odd)).await.status, 400 | 422));

    // A control-only owner with the description, and an exempt listed company.
    let mut ok = body(json!([declared(P, 60.0), declared(Q, 40.0),
        {"full_name": R.0, "birth_date": R.2, "nationality": "VN", "identity": {"kind": "cccd", "number": R.1},
         "basis": ["control"], "control": "Có quyền bổ nhiệm, miễn nhiệm đa số thành viên Hội đồng thành viên"}]));
    let r = send(&app, post_json("/v1/enterprises", Some(&portal), &ok)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["beneficial_owners"][2]["basis"], json!(["control"]));
    ok["name"]["vi"] = json!("Công ty TNHH Kiểm Tra Hai");
    ok["exempt"] = json!("state_owned");
    let r = send(&app, post_json("/v1/enterprises", Some(&portal), &ok)).await;
    assert!(r.has_error("exempt", "not_allowed"), "{}", r.text);
    ok.as_object_mut().unwrap().remove("beneficial_owners");
    ok["exempt"] = json!("listed");
    let r = send(&app, post_json("/v1/enterprises", Some(&portal), &ok)).await;
    assert!(r.has_error("exempt", "exemption_not_applicable"), "an LLC is not listed: {}", r.text);
    ok["exempt"] = json!("state_owned");
    let r = send(&app, post_json("/v1/enterprises", Some(&portal), &ok)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["exempt"], "state_owned");
    assert_eq!(r.body["discrepancies"], json!([]), "an exempt enterprise is not compared with the graph");

    // A private enterprise has no legal personality: it declares none.
    let mut private = registration("private_enterprise", "Minh Châu");
    private["beneficial_owners"] = json!([declared(P, 100.0)]);
    let r = send(&app, post_json("/v1/enterprises", Some(&portal), &private)).await;
    assert!(r.has_error("beneficial_owners", "not_allowed"), "{}", r.text);
}

#[actix_web::test]
async fn appendix_a_without_a_declaration_is_accepted_and_flagged_until_its_owners_change() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let app = app(&db).await;
    let r = send(&app, post_json("/v1/enterprises", Some(&portal), &appendix_a())).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let code = r.body["code"].as_str().unwrap().to_string();
    let etag = r.header("etag").unwrap().to_string();
    assert!(r.body.get("beneficial_owners").is_none());
    let flagged: Vec<(&str, f64)> = r.body["discrepancies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["identity_number"].as_str().unwrap(), d["computed_percent"].as_f64().unwrap()))
        .collect();
    assert_eq!(flagged, [("001080012345", 60.0), ("001185054321", 40.0)]);

    // A change that leaves the owners alone needs no declaration.
    let r = send(
        &app,
        patch(
            &format!("/v1/enterprises/{code}"),
            &portal,
            Some(&etag),
            &json!({"head_office": {"phone": "0243 999 8888"}}),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let etag = r.header("etag").unwrap().to_string();
    // One that changes them must declare.
    let owners = json!([
        {"kind": "individual", "name": "Nguyễn Văn An", "nationality": "VN", "identity": {"kind": "cccd", "number": "001080012345"}, "capital_vnd": 2500000000_i64},
        {"kind": "individual", "name": "Trần Thị Bình", "nationality": "VN", "identity": {"kind": "cccd", "number": "001185054321"}, "capital_vnd": 2500000000_i64}]);
    let r =
        send(&app, patch(&format!("/v1/enterprises/{code}"), &portal, Some(&etag), &json!({"owners": owners}))).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.has_error("beneficial_owners", "required"), "{}", r.text);
    let r = send(
        &app,
        patch(
            &format!("/v1/enterprises/{code}"),
            &portal,
            Some(&etag),
            &json!({"owners": owners, "beneficial_owners": [
                declared(("Nguyễn Văn An", "001080012345", "1980-04-12"), 50.0),
                declared(("Trần Thị Bình", "001185054321", "1985-03-02"), 50.0)]}),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["discrepancies"], json!([]));
    assert_eq!(r.body["registration_changes"], 1, "the owners changed");
    let etag = r.header("etag").unwrap().to_string();
    // The declaration stays: removing it is refused.
    let r = send(
        &app,
        patch(&format!("/v1/enterprises/{code}"), &portal, Some(&etag), &json!({"beneficial_owners": null})),
    )
    .await;
    assert!(r.has_error("beneficial_owners", "required"), "{}", r.text);
}

#[actix_web::test]
async fn each_role_sees_its_view_on_every_route() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let transport = db.key("transport", Role::Transport);
    let tax = db.key("tax", Role::Tax);
    let authority = db.key("aml-unit", Role::Authority);
    let admin = db.key("admin", Role::Admin);
    let state = state(&db);
    let app = test::init_service(api::app(state.clone())).await;
    let Chain { a, b, c } = chain(&app, &portal).await;
    let keys: Vec<(&str, Option<&str>)> = vec![
        ("public", None),
        ("portal", Some(&portal)),
        ("transport", Some(&transport)),
        ("tax", Some(&tax)),
        ("authority", Some(&authority)),
        ("admin", Some(&admin)),
    ];
    for (role, key) in &keys {
        let authority_view = matches!(*role, "portal" | "tax" | "authority" | "admin");
        let r = send(&app, get(&format!("/v1/enterprises/{c}"), *key)).await;
        assert_eq!(r.status, 200, "{role}");
        assert_eq!(r.body.get("beneficial_owners").is_some(), authority_view, "{role}: {}", r.text);
        assert_eq!(r.body.get("discrepancies").is_some(), authority_view, "{role}: {}", r.text);
        assert_eq!(r.body.get("owners").is_some(), *role != "public", "{role}");

        let expect = |allowed: &[&str]| match key {
            None => 401,
            Some(_) if allowed.contains(role) || *role == "admin" => 200,
            Some(_) => 403,
        };
        let r = send(&app, get(&format!("/v1/enterprises/{c}/beneficial-owners"), *key)).await;
        assert_eq!(r.status, expect(&["portal", "tax", "authority"]), "{role}: {}", r.text);
        let r = send(&app, get(&format!("/v1/people/{}/control", P.1), *key)).await;
        assert_eq!(r.status, expect(&["tax", "authority"]), "{role}: {}", r.text);
        if r.status == 200 {
            let found: Vec<(&str, &Value)> = r.body["enterprises"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["code"].as_str().unwrap(), &e["basis"]))
                .collect();
            assert_eq!(
                found,
                [
                    (a.as_str(), &json!(["declared_beneficial_owner", "computed_beneficial_owner", "owner"])),
                    (b.as_str(), &json!(["declared_beneficial_owner", "computed_beneficial_owner"])),
                    (c.as_str(), &json!(["computed_beneficial_owner"])),
                ],
                "{}",
                r.text
            );
        }
        let r = send(&app, get("/v1/beneficial-owners/discrepancies", *key)).await;
        assert_eq!(r.status, expect(&["portal", "tax", "authority"]), "{role}: {}", r.text);
        let r = send(&app, get("/v1/changes", *key)).await;
        assert_eq!(r.status, expect(&["tax", "transport"]), "{role}");
        if r.status == 200 {
            for e in r.body["events"].as_array().unwrap() {
                assert_eq!(e["record"].get("beneficial_owners").is_some(), authority_view, "{role}: {e}");
            }
        }
        let r = send(&app, get("/v1/export", *key)).await;
        assert_eq!(r.status, expect(&["tax"]), "{role}");
        if r.status == 200 {
            let lines: Vec<Value> = r.text.lines().skip(1).map(|l| serde_json::from_str(l).unwrap()).collect();
            assert_eq!(lines.len(), 3);
            assert!(lines.iter().all(|l| l["beneficial_owners"].is_array() && l["discrepancies"].is_array()), "{role}");
        }
    }

    // Every read of beneficial-owner data is in the access log.
    assert!(state.access.flush(&state.pool));
    let mut conn = db.conn();
    let entries = registry::store::access_log::for_code(&mut conn, &c, 100).unwrap();
    let mut seen: Vec<(String, String)> = entries.iter().map(|e| (e.client.clone(), e.action.clone())).collect();
    seen.sort();
    seen.dedup();
    for (client, action) in [
        ("aml-unit", "authority_view"),
        ("aml-unit", "beneficial_owners"),
        ("tax", "authority_view"),
        ("portal", "beneficial_owners"),
        ("transport", "enterprise"),
    ] {
        assert!(seen.contains(&(client.to_string(), action.to_string())), "{client} {action}: {seen:?}");
    }
    let bulk =
        registry::store::access_log::bulk_since(&mut conn, chrono::Utc::now() - chrono::Duration::hours(1)).unwrap();
    let actions: Vec<(&str, &str)> = bulk.iter().map(|b| (b.client.as_str(), b.action.as_str())).collect();
    for expected in [("aml-unit", "control"), ("aml-unit", "discrepancies"), ("tax", "control")] {
        assert!(actions.contains(&expected), "{expected:?}: {actions:?}");
    }
}

/// Runs Open Ownership's validator (scripts/check_bods.py, libcovebods 0.16.0) on NDJSON text.
fn check_bods(ndjson: &str) -> std::process::Output {
    use std::io::Write;
    let mut file = tempfile::Builder::new().suffix(".ndjson").tempfile().unwrap();
    file.write_all(ndjson.as_bytes()).unwrap();
    file.flush().unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_bods.py");
    let out = std::process::Command::new("python3").arg(&script).arg(file.path()).output().unwrap();
    assert_ne!(
        out.status.code(),
        Some(2),
        "the BODS validator is not installed: run scripts/install_bods_validator.sh (CI does)\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[actix_web::test]
async fn the_bods_export_of_the_register_passes_open_ownerships_validator() {
    let db = TestDb::new();
    let portal = db.key("portal", Role::Portal);
    let authority = db.key("aml-unit", Role::Authority);
    let tax = db.key("tax", Role::Tax);
    let state = state(&db);
    let app = test::init_service(api::app(state.clone())).await;
    let Chain { c, .. } = chain(&app, &portal).await;
    let appendix = register(&app, &portal, &appendix_a()).await.code;
    let mut listed = company_body("llc_multi", "Nhà Nước Sông Đà", vec![person(P, 500 * M), person(R, 500 * M)], None);
    listed["exempt"] = json!("state_owned");
    let exempt = register(&app, &portal, &listed).await.code;
    register(&app, &portal, &registration("private_enterprise", "Minh Châu")).await;

    assert_eq!(send(&app, get("/v1/beneficial-owners/export", Some(&tax))).await.status, 403);
    let r = send(&app, get("/v1/beneficial-owners/export", Some(&authority))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    let statements: Vec<Value> = r.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let subjects: std::collections::BTreeSet<&str> =
        statements.iter().map(|s| s["declarationSubject"].as_str().unwrap()).collect();
    // Every enterprise with legal personality; the private enterprise declares nothing.
    assert_eq!(subjects.len(), 5, "{subjects:?}");
    for code in [&c, &appendix, &exempt] {
        assert!(subjects.contains(format!("VN-TIN-{code}").as_str()), "{code}");
    }
    // C's undeclared indirect owner P is there, from the register's own computation.
    assert!(
        statements.iter().any(|s| s["declarationSubject"] == format!("VN-TIN-{c}")
            && s["recordDetails"]["personType"].is_string()
            && s.to_string().contains(P.1)),
        "P's person statement under C"
    );
    let out = check_bods(&r.text);
    assert!(
        out.status.success(),
        "libcovebods: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(state.access.flush(&state.pool));
    let bulk = registry::store::access_log::bulk_since(&mut db.conn(), chrono::Utc::now() - chrono::Duration::hours(1))
        .unwrap();
    assert!(bulk.iter().any(|b| b.client == "aml-unit" && b.action == "bods_export"), "{bulk:?}");
}
