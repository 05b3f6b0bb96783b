//! The HTTP API (SPEC §3): one module per resource; handlers translate HTTP to domain calls and
//! store transactions and back.

pub mod access_log;
pub mod auth;
pub mod beneficial_owners;
pub mod body;
pub mod changes;
pub mod enterprises;
pub mod error;
pub mod feed;
pub mod health;
pub mod http;
pub mod licenses;
pub mod limits;
pub mod metrics;
pub mod name_check;
pub mod permissions;
pub mod reference;
pub mod search;
pub mod statuses;
pub mod units;
pub mod verify;

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{web, App, HttpRequest, HttpResponse, ResponseError};
use diesel::PgConnection;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use self::error::{problems, ApiError};
use crate::domain::reference::Reference;
use crate::store::PgPool;

/// What every handler shares. Nothing here is known to one instance only: the pool and the
/// reference data (identical in every instance); the index follows the feed; the access log is a
/// buffer on its way to PostgreSQL; rate limits are per instance by design (see `limits`).
pub struct AppState {
    pub pool: PgPool,
    pub reference: Arc<Reference>,
    /// This instance's search index, following the change feed.
    pub search: Arc<crate::indexer::Search>,
    /// Wakes change-feed long polls (one LISTEN connection per instance, see `feed::FeedWaker`).
    pub feed: feed::FeedWaker,
    /// The next page of each consumer catching up on the feed, read ahead (`feed::ReadAhead`).
    pub feed_ahead: Arc<feed::ReadAhead>,
    /// Reads of personal data, written in batches.
    pub access: Arc<crate::api::access_log::AccessLog>,
    pub limits: Arc<limits::RateLimits>,
    /// Current records kept correct by the feed (`crate::indexer::cache`); disabled unless configured.
    pub cache: Arc<crate::indexer::cache::RecordCache>,
    /// One permit per pooled connection: requests wait for the database here, first come first
    /// served, instead of as blocked threads racing for the pool (which left a few waiting for
    /// hundreds of milliseconds under load).
    pub db_slots: Arc<tokio::sync::Semaphore>,
    /// Keys the database accepted in the last second (`auth::KeyCache`).
    pub keys: Arc<auth::KeyCache>,
}

impl AppState {
    /// The state of one instance: the access log starts writing; rate limits are off until
    /// [`AppState::with_limits`].
    pub fn new(
        pool: PgPool,
        reference: Arc<Reference>,
        search: Arc<crate::indexer::Search>,
        feed: feed::FeedWaker,
    ) -> AppState {
        let access =
            Arc::new(crate::api::access_log::AccessLog::start(pool.clone(), std::time::Duration::from_secs(1)));
        let db_slots = Arc::new(tokio::sync::Semaphore::new(pool.max_size().max(1) as usize));
        AppState {
            db_slots,
            pool,
            reference,
            search,
            feed,
            access,
            limits: Arc::new(limits::RateLimits::new(limits::LimitConfig::OFF)),
            cache: Arc::new(crate::indexer::cache::RecordCache::disabled()),
            keys: Arc::new(auth::KeyCache::new(auth::KEY_TRUST)),
            feed_ahead: Arc::default(),
        }
    }

    /// Serves look-ups from a cache of `capacity_bytes` that the search follower keeps current.
    pub fn with_cache(mut self, capacity_bytes: u64) -> AppState {
        let cache =
            Arc::new(crate::indexer::cache::RecordCache::new(capacity_bytes, std::time::Duration::from_secs(2)));
        self.search.feed_cache(cache.clone());
        self.cache = cache;
        self
    }

    pub fn with_limits(mut self, config: limits::LimitConfig) -> AppState {
        self.limits = Arc::new(limits::RateLimits::new(config));
        self
    }
}

/// The request's id (as sent back in `X-Request-Id`), for the access log.
pub fn request_id(req: &HttpRequest) -> Option<String> {
    use actix_web::HttpMessage;
    req.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string())
}

/// Runs a blocking database function on the blocking pool, inside the request's span.
pub async fn db<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let _slot = state
        .db_slots
        .acquire()
        .await
        .map_err(|_| ApiError::unavailable("the database is unavailable; try again shortly"))?;
    let pool = state.pool.clone();
    let span = tracing::Span::current();
    web::block(move || {
        let _entered = span.enter();
        let mut conn = pool.get().map_err(|e| {
            tracing::warn!(error = %e, "no database connection");
            ApiError::unavailable("the database is unavailable; try again shortly")
        })?;
        f(&mut conn)
    })
    .await?
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "National Enterprise Registration Database",
        description = "The canonical register of enterprises: registration, look-up, units and reference data. \
Errors are application/problem+json with a stable `type` code and the JSON path of every failing field."
    ),
    paths(
        enterprises::register,
        enterprises::get_enterprise,
        changes::patch_enterprise,
        statuses::set_status,
        statuses::withdraw,
        changes::history,
        name_check::name_check,
        search::search,
        search::suggest,
        metrics::metrics,
        units::register_unit,
        units::list_units,
        units::get_unit,
        units::patch_unit,
        statuses::set_unit_status,
        reference::provinces,
        reference::wards,
        reference::vsic,
        health::healthz,
        health::readyz,
        feed::changes,
        feed::export,
        licenses::record_license,
        licenses::get_license,
        licenses::set_license_status,
        verify::verify,
        beneficial_owners::enterprise_owners,
        beneficial_owners::person_control,
        beneficial_owners::discrepancies,
        beneficial_owners::bods_export,
    ),
    components(schemas(
        error::ProblemBody,
        crate::domain::errors::FieldError,
        crate::domain::code::EnterpriseCodeInput,
        crate::domain::code::UnitCodeInput,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "enterprises", description = "Registration and look-up"),
        (name = "units", description = "Branches, representative offices and business locations"),
        (name = "search", description = "Full-text search and suggestions"),
        (name = "reference", description = "Administrative units and VSIC"),
        (name = "licenses", description = "Road-transport licences recorded by the transport ministry"),
        (name = "verify", description = "Verification of claims about an enterprise, revealing no personal data"),
        (name = "feed", description = "The change feed and the snapshot export that mirrors follow"),
        (name = "beneficial owners", description = "Beneficial owners (chủ sở hữu hưởng lợi): declared, computed through the ownership graph, for the authorities"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The routes of the API. Every resource answers a method it does not serve with a 405 problem
/// whose `Allow` names the methods it does (RFC 9110 §15.5.6); `tests/openapi.rs` checks `Allow`
/// against the OpenAPI document.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(v1())
        .service(resource("/healthz", "GET").route(web::get().to(health::healthz)))
        .service(resource("/readyz", "GET").route(web::get().to(health::readyz)))
        .service(resource("/metrics", "GET").route(web::get().to(metrics::metrics)))
        .service(web::resource("/docs").route(web::get().to(docs_redirect)))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi()));
}

/// The register's resources, under `/v1`.
fn v1() -> actix_web::Scope {
    web::scope("/v1")
        .service(resource("/enterprises", "POST").route(web::post().to(enterprises::register)))
        .service(
            resource("/enterprises/{code}", "GET, PATCH")
                .route(web::get().to(enterprises::get_enterprise))
                .route(web::patch().to(changes::patch_enterprise)),
        )
        .service(
            resource("/enterprises/{code}/units", "GET, POST")
                .route(web::post().to(units::register_unit))
                .route(web::get().to(units::list_units)),
        )
        .service(resource("/enterprises/{code}/status", "POST").route(web::post().to(statuses::set_status)))
        .service(
            resource("/enterprises/{code}/scheduled-changes/{id}", "DELETE")
                .route(web::delete().to(statuses::withdraw)),
        )
        .service(resource("/enterprises/{code}/history", "GET").route(web::get().to(changes::history)))
        .service(resource("/enterprises/{code}/licenses", "POST").route(web::post().to(licenses::record_license)))
        .service(resource("/licenses/{number}", "GET").route(web::get().to(licenses::get_license)))
        .service(resource("/licenses/{number}/status", "POST").route(web::post().to(licenses::set_license_status)))
        .service(resource("/verify", "POST").route(web::post().to(verify::verify)))
        .service(resource("/name-check", "GET").route(web::get().to(name_check::name_check)))
        .service(resource("/search", "GET").route(web::get().to(search::search)))
        .service(resource("/suggest", "GET").route(web::get().to(search::suggest)))
        .service(
            resource("/units/{unit_code}", "GET, PATCH")
                .route(web::get().to(units::get_unit))
                .route(web::patch().to(units::patch_unit)),
        )
        .service(resource("/units/{unit_code}/status", "POST").route(web::post().to(statuses::set_unit_status)))
        .service(resource("/reference/provinces", "GET").route(web::get().to(reference::provinces)))
        .service(resource("/reference/provinces/{code}/wards", "GET").route(web::get().to(reference::wards)))
        .service(resource("/reference/vsic", "GET").route(web::get().to(reference::vsic)))
        .service(resource("/changes", "GET").route(web::get().to(feed::changes)))
        .service(resource("/export", "GET").route(web::get().to(feed::export)))
        .service(
            resource("/enterprises/{code}/beneficial-owners", "GET")
                .route(web::get().to(beneficial_owners::enterprise_owners)),
        )
        .service(
            resource("/people/{identity_number}/control", "GET")
                .route(web::get().to(beneficial_owners::person_control)),
        )
        .service(
            resource("/beneficial-owners/discrepancies", "GET").route(web::get().to(beneficial_owners::discrepancies)),
        )
        .service(resource("/beneficial-owners/export", "GET").route(web::get().to(beneficial_owners::bods_export)))
}

/// A resource that serves the methods in `allow` (as `Allow` spells them) and answers any other
/// with a 405.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(not_allowed(allow))
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
}

/// The 405 of a resource that serves the methods in `allow` (as `Allow` spells them).
fn not_allowed(allow: &'static str) -> actix_web::Route {
    web::to(move |req: HttpRequest| async move {
        let mut res = ApiError::new(
            problems::METHOD_NOT_ALLOWED,
            format!("{} is not allowed on {}; it answers {allow}", req.method(), req.path()),
        )
        .error_response();
        res.headers_mut().insert(actix_web::http::header::ALLOW, HeaderValue::from_static(allow));
        res
    })
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!("no resource at {}", req.path())))
}

/// The whole application: routes, extractor configuration, request ids and logging.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    use actix_web::dev::Service;
    use actix_web::HttpMessage;
    App::new()
        .app_data(state)
        .app_data(
            web::QueryConfig::default()
                .error_handler(|e, _| ApiError::new(problems::INVALID_PARAMETER, e.to_string()).into()),
        )
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| ApiError::new(problems::INVALID_PARAMETER, e.to_string()).into()),
        )
        .configure(routes)
        .default_service(web::to(not_found))
        .wrap(actix_web::middleware::from_fn(auth::authenticate))
        .wrap_fn(|req, srv| {
            let id = req.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string());
            let started = std::time::Instant::now();
            let fut = srv.call(req);
            async move {
                let mut res = fut.await?;
                // One line per request, in the request's span (with its id and client).
                let status = res.status().as_u16();
                let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
                if status >= 500 {
                    tracing::error!(status, elapsed_ms, "answered");
                } else {
                    tracing::info!(status, elapsed_ms, "answered");
                }
                if let Some(id) = id.and_then(|id: String| HeaderValue::from_str(&id).ok()) {
                    res.headers_mut().insert(HeaderName::from_static("x-request-id"), id);
                }
                Ok(res)
            }
        })
        .wrap(tracing_actix_web::TracingLogger::<RootSpan>::new())
}

/// The span of every request: its id, method, route, the client once known, and the status.
pub struct RootSpan;

impl tracing_actix_web::RootSpanBuilder for RootSpan {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        tracing_actix_web::root_span!(request, client = tracing::field::Empty)
    }

    fn on_request_end<B: MessageBody>(span: tracing::Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
