//! Liveness and readiness.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::AppState;
use crate::store;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    status: &'static str,
    /// `ok` or `unavailable`.
    database: &'static str,
    /// `applied`, `pending` or `unknown`.
    migrations: &'static str,
    /// How far the search index has followed the change feed.
    index: crate::indexer::IndexStatus,
}

/// Readiness: the database answers and every migration is applied; reports the search index's
/// lag behind the change feed (a lagging index does not make the instance unready: look-ups and
/// writes do not depend on it).
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let checked = web::block(move || -> Option<bool> {
        let mut conn = pool.get().ok()?;
        store::migrations_applied(&mut conn).ok()
    })
    .await
    .ok()
    .flatten();
    let (database, migrations) = match checked {
        None => ("unavailable", "unknown"),
        Some(true) => ("ok", "applied"),
        Some(false) => ("ok", "pending"),
    };
    let ready = migrations == "applied";
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        database,
        migrations,
        index: state.search.status(),
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().insert_header(("Retry-After", "2")).json(body)
    }
}
