//! The `registry` binary: clients, migrations, and `serve` with graceful shutdown.

mod common;

use common::cli::{registry, registry_bin};
use common::service::Service;
use common::*;

#[test]
fn clients_add_prints_only_the_key_and_revoke_is_immediate() {
    let db = TestDb::new();
    let out = registry(&db).args(["clients", "add", "portal-backend", "--role", "portal"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the key on stdout: {stdout:?}");
    let key = lines[0];
    assert!(key.starts_with("nerd_") && key.len() >= 5 + 43, "{key}");

    let mut conn = db.conn();
    let client = registry::store::clients::authenticate(&mut conn, key.as_bytes()).unwrap().unwrap();
    assert_eq!(client.name, "portal-backend");
    // Only the hash is stored.
    let stored: i64 = db.count(&format!(
        "api_clients WHERE key_hash = decode('{}', 'hex')",
        hex::encode(registry::store::clients::hash_key(key))
    ));
    assert_eq!(stored, 1);
    assert_eq!(db.count(&format!("api_clients WHERE encode(key_hash, 'escape') LIKE '%{}%'", &key[5..20])), 0);

    let dup = registry(&db).args(["clients", "add", "portal-backend", "--role", "tax"]).output().unwrap();
    assert!(!dup.status.success());
    let bad_role = registry(&db).args(["clients", "add", "x", "--role", "king"]).output().unwrap();
    assert!(!bad_role.status.success());

    let list = registry(&db).args(["clients", "list"]).output().unwrap();
    let listing = String::from_utf8(list.stdout).unwrap();
    assert!(listing.contains("portal-backend") && listing.contains("portal"));
    assert!(!listing.contains(key), "the list never shows keys");

    let revoke = registry(&db).args(["clients", "revoke", "portal-backend"]).output().unwrap();
    assert!(revoke.status.success());
    assert!(registry::store::clients::authenticate(&mut conn, key.as_bytes()).unwrap().is_none());
    let again = registry(&db).args(["clients", "revoke", "portal-backend"]).output().unwrap();
    assert!(!again.status.success(), "revoking twice says there is no such active client");
}

#[test]
fn serve_answers_and_stops_gracefully_on_sigterm() {
    let db = TestDb::new();
    let data = tempfile::tempdir().unwrap();
    // Started waits until the service is ready.
    let mut service = Service::start(&db, data.path());
    let client = reqwest::blocking::Client::new();
    let r = client.get(format!("{}/v1/enterprises/0100233488", service.base)).send().unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let pid = nix::unistd::Pid::from_raw(service.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = service.child.wait().unwrap();
    assert!(status.success(), "exits cleanly on SIGTERM: {status:?}");
}

#[test]
fn the_database_named_by_database_url_is_created_when_missing() {
    let name = format!("registry_created_{}", std::process::id());
    let url = url_for(&name);
    let out = registry_bin().arg("migrate").env("DATABASE_URL", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut conn = <diesel::PgConnection as diesel::Connection>::establish(&url).unwrap();
    assert!(registry::store::migrations_applied(&mut conn).unwrap());
    drop(conn);
    let mut admin = <diesel::PgConnection as diesel::Connection>::establish(&server_url()).unwrap();
    diesel::connection::SimpleConnection::batch_execute(&mut admin, &format!("DROP DATABASE {name} WITH (FORCE)"))
        .unwrap();
}

#[test]
fn without_database_url_a_private_cluster_is_created_used_and_stopped() {
    let dir = cluster_tempdir("registry-private-");
    let run = |args: &[&str]| registry_bin().args(args).env("REGISTRY_DATA_DIR", dir.path()).output().unwrap();
    let out = run(&["clients", "add", "portal-backend", "--role", "portal"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = String::from_utf8(out.stdout).unwrap();
    assert!(key.trim().starts_with("nerd_") && key.lines().count() == 1);
    let cluster = dir.path().join("postgres");
    assert!(cluster.join("PG_VERSION").is_file(), "the cluster lives under the data directory");
    assert!(!cluster.join("postmaster.pid").exists(), "the cluster is stopped on exit");
    // Reused on the next start: the client added before is still there.
    let out = run(&["clients", "list"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8(out.stdout).unwrap().contains("portal-backend"));
    assert!(!cluster.join("postmaster.pid").exists());
}

#[test]
fn audit_shows_who_read_an_enterprises_personal_data() {
    use registry::store::access_log::{self, NewEntry};
    let db = TestDb::new();
    let key = db.key("portal", registry::domain::Role::Portal);
    let rt = actix_web::rt::System::new();
    let code = rt.block_on(async {
        let app = app(&db).await;
        register(&app, &key, &appendix_a()).await.code
    });
    let entry = |client: &str, code: Option<&str>, action: &str| NewEntry {
        read_at: chrono::Utc::now(),
        client: client.into(),
        role: "tax".into(),
        code: code.map(str::to_string),
        action: action.into(),
        detail: None,
        request_id: Some("req-1".into()),
    };
    access_log::insert(
        &mut db.conn(),
        &[
            entry("tax-agency", Some(&code), "enterprise"),
            entry("tax-agency", None, "export"),
            entry("other", Some("0100233488"), "enterprise"),
        ],
    )
    .unwrap();
    let out = registry(&db).args(["audit", &code]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Hoàng Long Phát") && text.contains("tax-agency") && text.contains("req-1"), "{text}");
    assert!(text.contains("export") && !text.contains("other"), "{text}");
    let out = registry(&db).args(["audit", &code, "--json"]).output().unwrap();
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["action"], "enterprise");
    assert_eq!(lines[1]["bulk_reads"], 1);
    let out = registry(&db).args(["audit", "12345"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an enterprise code"));
}

#[test]
fn check_finds_a_consistent_register_consistent_and_names_what_breaks() {
    let db = TestDb::new();
    let key = db.key("portal", registry::domain::Role::Portal);
    let rt = actix_web::rt::System::new();
    let codes: Vec<String> = rt.block_on(async {
        let app = app(&db).await;
        let mut codes = Vec::new();
        for (kind, name) in [("jsc", "Bình Minh"), ("llc_single", "Hoà Bình"), ("partnership", "Tân Tiến")] {
            codes.push(register(&app, &key, &registration(kind, name)).await.code);
        }
        let unit = serde_json::json!({"kind": "business_location", "name": "Địa điểm kinh doanh Công ty cổ phần Bình Minh",
            "address": {"street": "Số 1", "ward_code": "26743", "province_code": "79"}});
        let r = send(&app, post_json(&format!("/v1/enterprises/{}/units", codes[0]), Some(&key), &unit)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        codes
    });
    let index = tempfile::tempdir().unwrap();
    let check =
        || registry(&db).args(["check", "--sample", "10"]).env("REGISTRY_INDEX_DIR", index.path()).output().unwrap();
    let out = check();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("3 codes, every check digit valid"), "{text}");
    assert!(!text.contains("failed"), "{text}");

    // A version without its feed event, and a current record that is not its latest version.
    use diesel::connection::SimpleConnection;
    db.conn()
        .batch_execute(&format!(
            "DELETE FROM feed_events WHERE code = '{0}'; \
             UPDATE enterprises SET record = jsonb_set(record, '{{status}}', '\"suspended\"') WHERE code = '{1}'; \
             UPDATE units SET record = jsonb_set(record, '{{status}}', '\"ceased\"') WHERE enterprise_code = '{0}'; \
             UPDATE enterprises SET status = 'suspended' WHERE code = '{2}'",
            codes[0], codes[1], codes[2]
        ))
        .unwrap();
    let out = check();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = |check: &str| text.lines().find(|l| l.contains(check)).unwrap_or_default().to_string();
    assert!(line("feed events").starts_with("failed") && line("feed events").contains(&codes[0]), "{text}");
    assert!(line("current records").starts_with("failed") && line("current records").contains(&codes[1]), "{text}");
    assert!(line("unit rows").starts_with("failed") && line("unit rows").contains(&codes[0]), "{text}");
    assert!(line("schedule").starts_with("failed") && line("schedule").contains(&codes[2]), "{text}");
    assert!(line("versions").starts_with("ok"), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("4 check(s) failed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn logs_written_to_a_pipe_carry_no_colour_codes() {
    let db = TestDb::new();
    // An enterprise that does not exist: the command fails and logs the error at ERROR.
    let mut c = registry(&db);
    c.env("REGISTRY_LOG", "info").args(["audit", "0100000010"]);
    let out = c.output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ERROR") && stderr.contains("no enterprise has code 0100000010"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "ANSI escape codes in a log read from a pipe: {stderr:?}");
}
