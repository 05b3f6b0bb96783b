//! `GET /metrics`: Prometheus text exposition of what operators watch: the change feed's head, the
//! search index's position and lag, and the database pool.

use std::fmt::{Display, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{web, HttpResponse};

use super::AppState;
use crate::indexer::cache::RecordCache;
use crate::indexer::IndexStatus;
use crate::store::feed::ConsumerLag;

/// Metrics in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut out = Exposition::default();
    write_feed_and_index(&mut out, &state.search.status());
    write_pool(&mut out, state.pool.state());
    write_access_log_and_limits(&mut out, &state);
    write_cache(&mut out, &state.cache);
    let mut out = out.0;
    // Every consumer's lag, from the positions the instances wrote (at most a second late); left
    // out while the database is away or slow to answer.
    let lags = super::db(&state, |conn| {
        Ok((crate::store::feed::consumer_lags(conn)?, crate::store::ownership::queue_state(conn)?))
    });
    if let Ok(Ok((lags, queue))) = tokio::time::timeout(std::time::Duration::from_millis(500), lags).await {
        write_consumer_lags(&mut out, &lags, chrono::Utc::now());
        let mut more = Exposition::default();
        more.gauge(
            "registry_ownership_recompute_queued",
            "Changed owners whose downstream enterprises wait for the ownership worker (SPEC §7).",
            queue.queued as f64,
        );
        more.gauge(
            "registry_ownership_recompute_oldest_seconds",
            "Age of the oldest entry in the ownership recomputation queue (0 when empty): alert past the stated bound.",
            queue.oldest_seconds,
        );
        out.push_str(&more.0);
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(out)
}

/// The text of the exposition, one unlabelled series at a time.
#[derive(Default)]
struct Exposition(String);

impl Exposition {
    fn series(&mut self, name: &str, help: &str, kind: &str, value: impl Display) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    }

    fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.series(name, help, "gauge", value);
    }

    fn counter(&mut self, name: &str, help: &str, value: impl Display) {
        self.series(name, help, "counter", value);
    }
}

/// The change feed's head and the search index following it.
fn write_feed_and_index(out: &mut Exposition, index: &IndexStatus) {
    out.gauge(
        "registry_feed_head_position",
        "Last position of the change feed seen by this instance.",
        index.head as f64,
    );
    // Positions are handed out one per event (a rolled-back write leaves a number unused), so the
    // head counts events closely enough for its rate to be the feed's events per second
    // (`rate(registry_feed_events_total[1m])`).
    out.counter(
        "registry_feed_events_total",
        "Events written to the change feed (rate() gives events per second).",
        index.head,
    );
    out.gauge("registry_index_position", "Feed position the search index has applied.", index.position as f64);
    out.gauge("registry_index_lag_events", "Feed events not yet applied to the search index.", index.lag_events as f64);
    out.gauge(
        "registry_index_lag_seconds",
        "Age of the oldest feed event not yet applied to the search index.",
        index.lag_seconds,
    );
    out.gauge("registry_index_documents", "Documents in the search index.", index.documents as f64);
    out.gauge(
        "registry_index_failing",
        "1 when the last attempt to follow the feed failed.",
        if index.failing { 1.0 } else { 0.0 },
    );
}

/// This instance's database pool.
fn write_pool(out: &mut Exposition, pool: diesel::r2d2::State) {
    out.gauge(
        "registry_db_pool_connections",
        "Open database connections in this instance's pool.",
        pool.connections as f64,
    );
    out.gauge(
        "registry_db_pool_idle",
        "Idle database connections in this instance's pool.",
        pool.idle_connections as f64,
    );
}

/// The personal-data access log's buffer and the requests refused by rate limits.
fn write_access_log_and_limits(out: &mut Exposition, state: &AppState) {
    out.gauge(
        "registry_access_log_pending",
        "Personal-data reads logged by this instance and not yet written to the database.",
        state.access.pending() as f64,
    );
    out.counter(
        "registry_access_log_written_total",
        "Personal-data reads written to the access log by this instance.",
        state.access.written(),
    );
    out.counter(
        "registry_access_log_dropped_total",
        "Personal-data reads this instance could not log (its buffer overflowed while the database was away).",
        state.access.dropped(),
    );
    out.counter(
        "registry_rate_limited_total",
        "Requests this instance answered 429 (rate limits and blocked addresses).",
        state.limits.limited(),
    );
}

/// The record cache and the look-ups answered from the index.
fn write_cache(out: &mut Exposition, cache: &RecordCache) {
    let count = |n: &AtomicU64| n.load(Ordering::Relaxed);
    out.counter("registry_cache_hits_total", "Look-ups answered from the record cache.", count(&cache.hits));
    out.counter(
        "registry_cache_misses_total",
        "Look-ups the record cache could not answer (while fresh).",
        count(&cache.misses),
    );
    out.counter(
        "registry_cache_stale_served_total",
        "Look-ups answered stale from the cache while the database was away.",
        count(&cache.stale_served),
    );
    out.counter(
        "registry_lookups_from_index_total",
        "Look-ups the cache missed, answered from the record stored in the search index.",
        count(&cache.index_served),
    );
    out.gauge("registry_cache_entries", "Records in the cache.", cache.len() as f64);
    out.gauge("registry_cache_bytes", "Bytes of serialised records in the cache.", cache.weight() as f64);
}

/// A Prometheus label value: backslash, double quote and newline escaped.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The consumers' lag metrics: by client, and the slowest consumer's.
fn write_consumer_lags(out: &mut String, lags: &[ConsumerLag], now: chrono::DateTime<chrono::Utc>) {
    let age = |l: &ConsumerLag| {
        l.oldest_unread.map_or(0.0, |t| ((now - t).num_microseconds().unwrap_or(i64::MAX).max(0) as f64) / 1e6)
    };
    let mut family = |name: &str, help: &str, value: &dyn Fn(&ConsumerLag) -> f64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for l in lags {
            let _ = writeln!(out, "{name}{{client=\"{}\"}} {}", label(&l.client), value(l));
        }
    };
    family(
        "registry_feed_consumer_lag_seconds",
        "Age of the oldest feed event the consumer has not been sent (0 when it has read everything).",
        &age,
    );
    family(
        "registry_feed_consumer_lag_positions",
        "Feed positions between the consumer's and the head (events, but for rolled-back writes' numbers).",
        &|l| l.behind as f64,
    );
    family(
        "registry_feed_consumer_last_read_timestamp_seconds",
        "When the consumer was last sent a page (Unix time).",
        &|l| l.read_at.timestamp() as f64,
    );
    let slowest = lags.iter().map(age).fold(0.0, f64::max);
    let _ = writeln!(
        out,
        "# HELP registry_feed_slowest_consumer_lag_seconds The largest registry_feed_consumer_lag_seconds (0 without consumers).\n# TYPE registry_feed_slowest_consumer_lag_seconds gauge\nregistry_feed_slowest_consumer_lag_seconds {slowest}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn consumer_lags_are_by_client_with_the_slowest() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap();
        let lag = |client: &str, behind: i64, unread_secs: Option<i64>| ConsumerLag {
            client: client.into(),
            position: 100 - behind,
            read_at: now - chrono::Duration::seconds(5),
            behind,
            oldest_unread: unread_secs.map(|s| now - chrono::Duration::seconds(s)),
        };
        let mut out = String::new();
        write_consumer_lags(&mut out, &[lag("tax", 40, Some(90)), lag("transport \"B\"", 0, None)], now);
        assert!(out.contains("registry_feed_consumer_lag_seconds{client=\"tax\"} 90\n"), "{out}");
        assert!(out.contains("registry_feed_consumer_lag_seconds{client=\"transport \\\"B\\\"\"} 0\n"), "{out}");
        assert!(out.contains("registry_feed_consumer_lag_positions{client=\"tax\"} 40\n"), "{out}");
        assert!(out.contains("registry_feed_slowest_consumer_lag_seconds 90\n"), "{out}");
        let mut none = String::new();
        write_consumer_lags(&mut none, &[], now);
        assert!(none.contains("registry_feed_slowest_consumer_lag_seconds 0\n"), "{none}");
    }
}
