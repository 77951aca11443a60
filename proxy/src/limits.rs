//! Per-user rate limits for starting runs and for reads (`[limits]`), with `governor`'s
//! keyed limiters: by signed-in user in header mode, by peer address otherwise. The
//! limiters forget users who have been quiet for a while, so memory stays bounded.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::atomic::{AtomicU64, Ordering},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, request::Parts},
};
use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use runboard_shared::{Allowance, Route};

use crate::{
    AppError, AppState,
    auth::is_trusted,
    config::{AuthConfig, AuthMode, LimitsConfig},
};

/// How often (in checks) the limiters drop the state of users back at a full allowance.
const RETAIN_EVERY: u64 = 1024;

/// Which allowance a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `POST /api/testExecution/…`.
    Start,
    /// Everything else under `/api/` and `/runboard/`: job and report reads, exports,
    /// history, live streams opened, bootstrap loads.
    Read,
}

impl Kind {
    /// The allowance `route` spends, or `None` for a free one, as the contract's route
    /// table says (`runboard_shared::Route`, whose test holds every route under `/api/`
    /// and `/runboard/` to an allowance).
    pub(crate) fn of_route(route: Route) -> Option<Self> {
        match route.allowance() {
            Allowance::Start => Some(Self::Start),
            Allowance::Read => Some(Self::Read),
            Allowance::Free => None,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Read => "read",
        }
    }
}

/// Whose allowance it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Who {
    /// The signed-in user, as the trusted SSO proxy named them (lower-cased).
    User(String),
    /// The TCP peer, when there is no believable user.
    Peer(IpAddr),
}

impl Who {
    /// The user in header mode when the peer is trusted and names exactly one user;
    /// the peer's address otherwise (a request that fails authentication later still
    /// spends its peer's allowance, never a user's).
    pub(crate) fn of(auth: &AuthConfig, headers: &HeaderMap, peer: Option<SocketAddr>) -> Self {
        if auth.mode == AuthMode::Header && is_trusted(auth, peer) {
            let mut users = headers.get_all(auth.user_header.as_str()).iter();
            if let (Some(user), None) = (users.next(), users.next())
                && let Ok(user) = user.to_str()
            {
                return Self::User(user.trim().to_lowercase());
            }
        }
        let ip = peer.map_or(IpAddr::from([0, 0, 0, 0]), |p| p.ip().to_canonical());
        Self::Peer(ip)
    }
}

/// The request's [`Who`], for handlers that hold something per user (live streams).
impl FromRequestParts<AppState> for Who {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr);
        Ok(Self::of(&state.config().auth, &parts.headers, peer))
    }
}

/// The two limiters; `None` where the setting is 0 (off).
pub(crate) struct Limits {
    starts: Option<DefaultKeyedRateLimiter<Who>>,
    reads: Option<DefaultKeyedRateLimiter<Who>>,
    checks: AtomicU64,
}

impl Limits {
    pub(crate) fn new(config: LimitsConfig) -> Self {
        let limiter = |per_minute: u32| {
            NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
        };
        Self {
            starts: limiter(config.starts_per_minute),
            reads: limiter(config.reads_per_minute),
            checks: AtomicU64::new(0),
        }
    }

    /// Spends one of `who`'s `kind` allowance, or says how long to wait (at least 1 s,
    /// as `Retry-After` counts whole seconds).
    pub(crate) fn check(&self, kind: Kind, who: &Who) -> Result<(), AppError> {
        let limiter = match kind {
            Kind::Start => &self.starts,
            Kind::Read => &self.reads,
        };
        let Some(limiter) = limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter.check_key(who).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::RateLimited(kind.noun(), wait.as_secs() + 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use runboard_shared::RUNBOARD_PREFIX;

    use super::*;

    #[test]
    fn each_user_has_an_own_allowance_and_zero_means_off() {
        let limits = Limits::new(LimitsConfig {
            starts_per_minute: 2,
            reads_per_minute: 0,
        });
        let alice = Who::User("alice@example.com".into());
        let bob = Who::Peer("10.0.0.2".parse().unwrap());
        assert!(limits.check(Kind::Start, &alice).is_ok());
        assert!(limits.check(Kind::Start, &alice).is_ok());
        match limits.check(Kind::Start, &alice) {
            Err(AppError::RateLimited("start", seconds)) => assert!((1..=31).contains(&seconds)),
            other => panic!("expected rate_limited, got {other:?}"),
        }
        assert!(limits.check(Kind::Start, &bob).is_ok());
        for _ in 0..10_000 {
            assert!(limits.check(Kind::Read, &alice).is_ok());
        }
    }

    /// Every route of the table spends what the table says, and the only free ones are
    /// the probes: no route reaches the platform or the ledger without an allowance.
    #[test]
    fn the_route_table_has_no_free_route_but_the_probes() {
        for route in Route::ALL {
            if Kind::of_route(route).is_none() {
                assert!(
                    [Route::Health, Route::Ready, Route::Metrics].contains(&route),
                    "{} is free: put it under {RUNBOARD_PREFIX} or list it here, knowing \
                     it spends nothing",
                    route.template()
                );
            }
        }
    }

    #[test]
    fn the_key_is_the_trusted_user_or_else_the_peer() {
        let auth = AuthConfig {
            mode: AuthMode::Header,
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            ..AuthConfig::default()
        };
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-email", "Alice@Example.com".parse().unwrap());
        let trusted = Some("[::ffff:10.0.0.1]:1".parse().unwrap());
        let stranger = Some("192.168.0.9:1".parse().unwrap());
        assert_eq!(
            Who::of(&auth, &headers, trusted),
            Who::User("alice@example.com".into())
        );
        assert_eq!(
            Who::of(&auth, &headers, stranger),
            Who::Peer("192.168.0.9".parse().unwrap())
        );
        assert_eq!(
            Who::of(&AuthConfig::default(), &headers, trusted),
            Who::Peer("10.0.0.1".parse().unwrap())
        );
    }
}
