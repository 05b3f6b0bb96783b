//! Rate limits (SPEC §3): per client for requests with a key, per address for requests without
//! one, and a stricter one for failed authentication per address, so that a flood from one
//! source is answered 429 (with `Retry-After`) before it costs the database anything and other
//! clients keep being served.
//!
//! The limits are kept per instance (GCRA buckets from `governor`): N instances behind a load
//! balancer let a client through at up to N times the rate. That is the usual trade-off: a limit
//! shared through PostgreSQL would cost a write per request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Requests per second and burst of one kind of limit; `per_second == 0` turns it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

impl Rate {
    pub const OFF: Rate = Rate { per_second: 0, burst: 0 };

    fn limiter<K: std::hash::Hash + Eq + Clone>(self) -> Option<DefaultKeyedRateLimiter<K>> {
        let per_second = NonZeroU32::new(self.per_second)?;
        let burst = NonZeroU32::new(self.burst.max(self.per_second)).unwrap_or(per_second);
        Some(RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)))
    }
}

/// The limits of one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitConfig {
    /// Each client (API key).
    pub client: Rate,
    /// Each address, for requests without a key.
    pub address: Rate,
    /// Failed authentications (unknown, revoked or malformed keys) per address.
    pub auth_failures: Rate,
}

impl LimitConfig {
    pub const OFF: LimitConfig = LimitConfig { client: Rate::OFF, address: Rate::OFF, auth_failures: Rate::OFF };
}

pub struct RateLimits {
    config: LimitConfig,
    clients: Option<DefaultKeyedRateLimiter<i64>>,
    addresses: Option<DefaultKeyedRateLimiter<IpAddr>>,
    failures: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Addresses refused until the instant, for failing authentication too often.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    checks: AtomicU64,
    limited: AtomicU64,
}

/// How long to wait before retrying: at least a second (`Retry-After` counts whole seconds).
fn retry_after(wait: Duration) -> u32 {
    (wait.as_secs_f64().ceil() as u32).max(1)
}

impl RateLimits {
    pub fn new(config: LimitConfig) -> RateLimits {
        RateLimits {
            config,
            clients: config.client.limiter(),
            addresses: config.address.limiter(),
            failures: config.auth_failures.limiter(),
            blocked: Mutex::new(HashMap::new()),
            checks: AtomicU64::new(0),
            limited: AtomicU64::new(0),
        }
    }

    pub fn config(&self) -> LimitConfig {
        self.config
    }

    /// Requests answered 429 so far.
    pub fn limited(&self) -> u64 {
        self.limited.load(Ordering::Relaxed)
    }

    fn check<K: std::hash::Hash + Eq + Clone>(
        &self,
        limiter: &Option<DefaultKeyedRateLimiter<K>>,
        key: &K,
    ) -> Result<(), u32> {
        let Some(limiter) = limiter else { return Ok(()) };
        // Forget idle buckets now and then, so that memory stays bounded by the active keys.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            limiter.retain_recent();
        }
        limiter.check_key(key).map_err(|not_until| {
            self.limited.fetch_add(1, Ordering::Relaxed);
            retry_after(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    /// A request by client `id`: `Err(seconds to wait)` when over its limit.
    pub fn check_client(&self, id: i64) -> Result<(), u32> {
        self.check(&self.clients, &id)
    }

    /// A request without a key from `address`.
    pub fn check_address(&self, address: IpAddr) -> Result<(), u32> {
        self.check(&self.addresses, &address)
    }

    /// A failed authentication from `address`: `Err(seconds)` once the address has failed too
    /// often; the address is then refused without asking the database until the wait is over.
    pub fn record_failure(&self, address: IpAddr) -> Result<(), u32> {
        self.check(&self.failures, &address).inspect_err(|seconds| self.block(address, *seconds))
    }

    /// `Some(seconds)` while `address` is blocked for failing authentication too often.
    pub fn blocked(&self, address: IpAddr) -> Option<u32> {
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match blocked.get(&address) {
            Some(until) if *until > now => Some(retry_after(*until - now)),
            Some(_) => {
                blocked.remove(&address);
                None
            }
            None => None,
        }
    }

    fn block(&self, address: IpAddr, seconds: u32) {
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if blocked.len() >= 100_000 {
            blocked.retain(|_, until| *until > now);
        }
        blocked.insert(address, now + Duration::from_secs(u64::from(seconds)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_the_burst_a_key_waits_and_others_do_not() {
        let limits = RateLimits::new(LimitConfig {
            client: Rate { per_second: 1, burst: 3 },
            address: Rate::OFF,
            auth_failures: Rate::OFF,
        });
        for _ in 0..3 {
            assert!(limits.check_client(1).is_ok());
        }
        assert_eq!(limits.check_client(1), Err(1));
        assert!(limits.check_client(2).is_ok());
        assert_eq!(limits.limited(), 1);
        // Failed authentications block the address once over their own limit.
        let limits = RateLimits::new(LimitConfig {
            client: Rate::OFF,
            address: Rate::OFF,
            auth_failures: Rate { per_second: 1, burst: 2 },
        });
        let bad: IpAddr = "10.0.0.9".parse().unwrap();
        assert!(limits.record_failure(bad).is_ok());
        assert!(limits.record_failure(bad).is_ok());
        assert_eq!(limits.blocked(bad), None);
        assert_eq!(limits.record_failure(bad), Err(1));
        assert_eq!(limits.blocked(bad), Some(1));
        assert_eq!(limits.blocked("10.0.0.10".parse().unwrap()), None);
        // Addresses are not limited when their limit is off.
        for _ in 0..100 {
            assert!(limits.check_address("10.0.0.1".parse().unwrap()).is_ok());
        }
    }

    #[test]
    fn retry_after_is_whole_seconds_at_least_one() {
        assert_eq!(retry_after(Duration::from_millis(1)), 1);
        assert_eq!(retry_after(Duration::from_millis(1500)), 2);
    }
}
