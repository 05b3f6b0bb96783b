//! Test harness: every test gets its own PostgreSQL database, created from a migrated template
//! (fast), and dropped when the test ends. Tests run in parallel and never see each other's rows.
//!
//! The server is chosen once per test process ([`server::server_url`]):
//!
//! 1. `REGISTRY_TEST_DATABASE_URL`, when it is set;
//! 2. else the server at `REGISTRY_TEST_PG_ADDR` (default `127.0.0.1:5432`), as user `postgres`
//!    without a password, when something accepts a TCP connection there;
//! 3. else one private cluster for the whole run, the one `registry serve` makes for itself
//!    ([`registry::cli::cluster::PrivateCluster`]; run as the `postgres` account when the tests
//!    run as root), under `REGISTRY_TEST_CLUSTER_DIR` (default
//!    `/tmp/registry-test-cluster-<checkout>`). The first test process that needs it starts it (or
//!    finds it running), the test binaries cargo runs after it and their parallel tests use the
//!    same, and a reaper process that the first one started stops it once no test process has
//!    been on it for a minute (`REGISTRY_TEST_CLUSTER_LINGER` seconds, if set). So `cargo test`
//!    needs only the PostgreSQL binaries, not a running server. The cluster's data (the
//!    templates) stays for the next run.
//!
//! Running the `registry` binary is [`cli`]; a running service on a free port, [`service`].

#![allow(dead_code)]

pub mod cli;
pub mod server;
pub mod service;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test;
use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};

use registry::api::{self, AppState};
use registry::domain::Role;
use registry::store;

pub use server::server_url;

/// The URL of database `db` on the tests' server.
pub fn url_for(db: &str) -> String {
    let mut u = url::Url::parse(&server_url()).expect("the test server's URL parses");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

/// A short name of this checkout: checkouts of different migrations testing side by side on one
/// server keep their own templates, and their own private cluster.
fn checkout() -> String {
    hex::encode(&Sha256::digest(env!("CARGO_MANIFEST_DIR").as_bytes())[..3])
}

/// The migrations and reference data the template was built from.
fn fingerprint() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut h = Sha256::new();
    let mut entries: Vec<_> = std::fs::read_dir(root.join("migrations")).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for dir in entries {
        h.update(dir.file_name().unwrap().as_encoded_bytes());
        h.update(std::fs::read(dir.join("up.sql")).unwrap_or_default());
    }
    // What the binary embeds, too: a template must never be built from fewer migrations.
    use diesel::migration::MigrationSource;
    for m in MigrationSource::<diesel::pg::Pg>::migrations(&store::MIGRATIONS).unwrap() {
        h.update(m.name().to_string().as_bytes());
    }
    h.update(store::reference::checksum(&registry::domain::reference_data::SOURCES));
    hex::encode(&h.finalize()[..8])
}

/// Creates the migrated template once per fingerprint, across test processes (advisory lock).
fn template() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let checkout = checkout();
        let name = format!("registry_tmpl_{checkout}_{}", fingerprint());
        let mut admin = PgConnection::establish(&server_url()).expect("the test PostgreSQL server answers");
        admin.batch_execute("SELECT pg_advisory_lock(7356123)").unwrap();
        let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
        )))
        .get_result(&mut admin)
        .unwrap();
        if !exists {
            let build = format!("{name}_build");
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {build} WITH (FORCE)")).unwrap();
            admin.batch_execute(&format!("CREATE DATABASE {build}")).unwrap();
            registry::cli::prepare(&url_for(&build)).expect("migrate the template");
            admin.batch_execute(&format!("ALTER DATABASE {build} RENAME TO {name}")).unwrap();
            // Templates of older migrations are of no further use.
            let old: Vec<String> = diesel::sql_query(format!(
                "SELECT datname AS name FROM pg_database WHERE datname LIKE 'registry_tmpl_{checkout}_%' AND datname <> '{name}' AND datname NOT LIKE '%_build'"
            ))
            .load::<Named>(&mut admin)
            .unwrap()
            .into_iter()
            .map(|n| n.name)
            .collect();
            for db in old {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
            }
        }
        admin.batch_execute("SELECT pg_advisory_unlock(7356123)").unwrap();
        name
    })
}

#[derive(diesel::QueryableByName)]
struct Named {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// A database of this test's own, dropped at the end.
pub struct TestDb {
    pub name: String,
    pub url: String,
    /// This test's search index directory.
    pub index_dir: tempfile::TempDir,
}

impl TestDb {
    pub fn new() -> TestDb {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let template = template();
        let name = format!(
            "registry_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            rand::random::<u32>()
        );
        let mut admin = PgConnection::establish(&server_url()).unwrap();
        let mut tries = 0;
        loop {
            // A template may be briefly busy while another process copies it.
            match admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}")) {
                Ok(()) => break,
                Err(e) if tries < 50 && e.to_string().contains("being accessed by other users") => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("creating the test database: {e}"),
            }
        }
        TestDb { url: url_for(&name), name, index_dir: tempfile::tempdir().unwrap() }
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).unwrap()
    }

    pub fn pool(&self) -> store::PgPool {
        store::pool(&self.url, 16, Duration::from_secs(10)).unwrap()
    }

    /// A new client with `role`; returns its key.
    pub fn key(&self, name: &str, role: Role) -> String {
        store::clients::add(&mut self.conn(), name, role).unwrap()
    }

    /// How many rows `table` holds.
    pub fn count(&self, table: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT count(*) AS n FROM {table}")).get_result::<N>(&mut self.conn()).unwrap().n
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&server_url()) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// The application's state on this test's database: a pool, the search index (following the
/// feed) and the feed's waker.
pub fn state(db: &TestDb) -> web::Data<AppState> {
    state_with(db, true)
}

/// [`state`], with or without the search index following the feed (tests that count database
/// sessions leave it out: its polls would be counted too).
pub fn state_with(db: &TestDb, follow: bool) -> web::Data<AppState> {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(std::env::var("REGISTRY_TEST_LOG").unwrap_or_else(|_| "warn".into()))
        .try_init();
    let pool = db.pool();
    let search = registry::indexer::Search::open(db.index_dir.path()).unwrap();
    if follow {
        search.follow(pool.clone(), Duration::from_millis(20));
    }
    web::Data::new(AppState::new(
        pool,
        registry::domain::reference_data::reference(),
        search,
        api::feed::FeedWaker::new(&db.url),
    ))
}

/// [`state`] with rate limits (the index does not follow the feed).
pub fn state_with_limits(db: &TestDb, limits: registry::api::limits::LimitConfig) -> web::Data<AppState> {
    let search = registry::indexer::Search::open(db.index_dir.path()).unwrap();
    web::Data::new(
        AppState::new(
            db.pool(),
            registry::domain::reference_data::reference(),
            search,
            api::feed::FeedWaker::new(&db.url),
        )
        .with_limits(limits),
    )
}

/// The application in-process, as [`app`] gives it (answers with bodies of type `B`).
pub trait TestApp<B>: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error> {}

impl<S, B> TestApp<B> for S where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>
{
}

/// The application in-process, on this test's database.
pub async fn app(
    db: &TestDb,
) -> impl Service<actix_http::Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    test::init_service(api::app(state(db))).await
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: serde_json::Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `(field, code)` pairs of a problem body.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (e["field"].as_str().unwrap_or("").to_string(), e["code"].as_str().unwrap_or("").to_string())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn has_error(&self, field: &str, code: &str) -> bool {
        self.field_errors().iter().any(|(f, c)| f == field && c == code)
    }
}

pub async fn send<B: MessageBody>(app: &impl TestApp<B>, req: test::TestRequest) -> Reply {
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = test::read_body(res).await;
    let text = String::from_utf8_lossy(&bytes).to_string();
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Reply { status, headers, body, text }
}

pub fn post_json(path: &str, key: Option<&str>, body: &serde_json::Value) -> test::TestRequest {
    let mut req = test::TestRequest::post()
        .uri(path)
        .insert_header(("Content-Type", "application/json"))
        .set_payload(body.to_string());
    if let Some(k) = key {
        req = req.insert_header(("Authorization", format!("Bearer {k}")));
    }
    req
}

/// A JSON Merge Patch of an enterprise, with `If-Match` when given.
pub fn patch(path: &str, key: &str, etag: Option<&str>, body: &serde_json::Value) -> test::TestRequest {
    let mut req = test::TestRequest::patch()
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {key}")))
        .insert_header(("Content-Type", "application/merge-patch+json"))
        .set_payload(body.to_string());
    if let Some(e) = etag {
        req = req.insert_header(("If-Match", e.to_string()));
    }
    req
}

pub fn get(path: &str, key: Option<&str>) -> test::TestRequest {
    let mut req = test::TestRequest::get().uri(path);
    if let Some(k) = key {
        req = req.insert_header(("Authorization", format!("Bearer {k}")));
    }
    req
}

/// A registered enterprise: its code and the ETag of its first version.
pub struct Registered {
    pub code: String,
    pub etag: String,
}

/// Registers `body` with `key`, which must be answered 201.
pub async fn register<B: MessageBody>(app: &impl TestApp<B>, key: &str, body: &serde_json::Value) -> Registered {
    let r = send(app, post_json("/v1/enterprises", Some(key), body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    Registered { code: r.body["code"].as_str().unwrap().to_string(), etag: r.header("etag").unwrap().to_string() }
}

/// A temporary directory that the `postgres` account can reach (mode 0755, under `/tmp`), for a
/// private cluster of a test's own.
pub fn cluster_tempdir(prefix: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new().prefix(prefix).tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// SPEC Appendix A, as it stands.
pub fn appendix_a() -> serde_json::Value {
    serde_json::from_str(include_str!("appendix_a.json")).unwrap()
}

/// A valid registration of each type, with a distinct proper name.
pub fn registration(kind: &str, proper: &str) -> serde_json::Value {
    let rep = |name: &str, cccd: &str, birth: &str, position: &str| {
        serde_json::json!({"full_name": name, "position": position, "birth_date": birth, "nationality": "VN",
            "identity": {"kind": "cccd", "number": cccd}})
    };
    let owner = |name: &str, cccd: &str, capital: i64| {
        serde_json::json!({"kind": "individual", "name": name, "nationality": "VN",
            "identity": {"kind": "cccd", "number": cccd}, "capital_vnd": capital})
    };
    let general_partner = |mut o: serde_json::Value| {
        o["partner_kind"] = "general".into();
        o
    };
    let (prefix, reps, owners, capital): (&str, Vec<serde_json::Value>, Vec<serde_json::Value>, i64) = match kind {
        "llc_single" => (
            "Công ty TNHH MTV",
            vec![rep("Lê Văn Cường", "079075000001", "1975-02-03", "Giám đốc")],
            vec![owner("Lê Văn Cường", "079075000001", 1_000_000_000)],
            1_000_000_000,
        ),
        "llc_multi" => (
            "Công ty TNHH",
            vec![rep("Phạm Văn Dũng", "031082000002", "1982-05-06", "Giám đốc")],
            vec![owner("Phạm Văn Dũng", "031082000002", 600_000_000), owner("Võ Thị Em", "031190000003", 400_000_000)],
            1_000_000_000,
        ),
        "jsc" => (
            "Công ty cổ phần",
            vec![rep("Đặng Văn Phúc", "001070000004", "1970-07-08", "Tổng Giám đốc")],
            vec![
                owner("Đặng Văn Phúc", "001070000004", 5_000_000_000),
                owner("Bùi Thị Giang", "001175000005", 3_000_000_000),
                owner("Đỗ Văn Hải", "001088000006", 2_000_000_000),
            ],
            10_000_000_000,
        ),
        "partnership" => (
            "Công ty hợp danh",
            vec![rep("Hồ Văn Khánh", "048065000007", "1965-09-10", "Thành viên hợp danh")],
            vec![
                general_partner(owner("Hồ Văn Khánh", "048065000007", 300_000_000)),
                general_partner(owner("Ngô Thị Lan", "048172000008", 200_000_000)),
            ],
            500_000_000,
        ),
        "private_enterprise" => (
            "Doanh nghiệp tư nhân",
            vec![rep("Dương Văn Minh", "092060000009", "1960-11-12", "Chủ doanh nghiệp")],
            vec![owner("Dương Văn Minh", "092060000009", 800_000_000)],
            800_000_000,
        ),
        other => panic!("unknown type {other}"),
    };
    serde_json::json!({
        "type": kind,
        "name": {"vi": format!("{prefix} {proper}")},
        "head_office": {"street": "Số 1 đường Lê Lợi", "ward_code": "26743", "province_code": "79"},
        "charter_capital_vnd": capital,
        "business_lines": [{"vsic": "4711", "main": true}],
        "legal_representatives": reps,
        "owners": owners,
    })
}

/// Runs the register's schedule on the test database as if today were `today`: applies what
/// has fallen due by then. Returns the versions written.
pub fn run_schedule(db: &TestDb, today: chrono::NaiveDate) -> usize {
    let mut conn = db.conn();
    store::schedule::apply_due(&mut conn, today, chrono::Utc::now(), &mut |_| {}).expect("the schedule runs")
}

/// The first day a suspension notified today may start (3 working days' notice).
pub fn first_suspension_day() -> chrono::NaiveDate {
    registry::domain::working_days::earliest_start(registry::domain::legal_date(chrono::Utc::now()), 3)
}

/// The current record as the database holds it (the full view), read past every cache.
pub fn stored(db: &TestDb, code: &str) -> serde_json::Value {
    let code = registry::domain::code::EnterpriseCode::parse(code).expect("a code");
    let record = store::enterprises::get(&mut db.conn(), &code).expect("readable").expect("registered");
    serde_json::to_value(record).expect("records serialise")
}
