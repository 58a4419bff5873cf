//! The OAuth 2.0 access token cache, with single-flight renewal.
//!
//! One `tokio::sync::Mutex` guards the cached token and is held while a new token is
//! requested, so callers that need a token at the same time wait for one request instead
//! of each sending their own. Each token gets a generation number: a caller whose request
//! was refused with generation `g` asks for a renewal of `g`, and only the first such
//! caller renews; the others find a newer generation and use it. A failed request is
//! shared the same way with the callers that were waiting for it, so a thousand waiting
//! callers see one failure, not a thousand token requests.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::header::HeaderValue;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::body::after;
use crate::error::Error;
use crate::protocol::{bearer_header, Secret};

/// A token as the token endpoint returned it.
pub(crate) struct Fetched {
    /// `access_token`.
    pub(crate) access_token: Secret,
    /// `expires_in`, when the server sent one, clamped by
    /// [`crate::parse_token_answer`] to at most a year.
    pub(crate) expires_in: Option<Duration>,
}

impl From<crate::TokenAnswer> for Fetched {
    fn from(answer: crate::TokenAnswer) -> Self {
        Self {
            access_token: Secret::new(answer.access_token),
            expires_in: answer.expires_in,
        }
    }
}

/// A token ready to be sent, and the generation it belongs to.
#[derive(Clone)]
pub(crate) struct Token {
    /// `Bearer ...`, marked sensitive.
    pub(crate) header: HeaderValue,
    /// Which token this is, for [`TokenCache::renew`].
    pub(crate) generation: u64,
}

struct Cached {
    token: Token,
    /// When to stop using it; `None` when the server gave no lifetime.
    renew_at: Option<Instant>,
}

#[derive(Default)]
struct State {
    cached: Option<Cached>,
    generation: u64,
    /// The outcome of the last token request, when it failed.
    last_failure: Option<Error>,
}

/// The cached token of one client.
pub(crate) struct TokenCache {
    state: Mutex<State>,
    /// Token requests finished so far. Read without the lock on arrival, it tells a
    /// caller whether a request finished while it waited (and so whether a failure is
    /// its to share).
    completed: AtomicU64,
    margin: Duration,
}

impl TokenCache {
    pub(crate) fn new(margin: Duration) -> Self {
        Self {
            state: Mutex::new(State::default()),
            completed: AtomicU64::new(0),
            margin,
        }
    }

    /// The cached token if it is still fresh, else a new one from `fetch`.
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<Token, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched, Error>>,
    {
        let seen = self.completed.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        if let Some(cached) = &state.cached {
            if cached.renew_at.is_none_or(|at| Instant::now() < at) {
                return Ok(cached.token.clone());
            }
        }
        if let Some(error) = shared_failure(&state, seen, self.completed.load(Ordering::Acquire)) {
            return Err(error);
        }
        self.fetch_locked(&mut state, fetch).await
    }

    /// A token to replace generation `refused`, which the server refused: a new one if the
    /// cache still holds `refused`, else the newer one already there.
    pub(crate) async fn renew<F, Fut>(&self, refused: u64, fetch: F) -> Result<Token, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched, Error>>,
    {
        let seen = self.completed.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        if let Some(cached) = &state.cached {
            if cached.token.generation != refused
                && cached.renew_at.is_none_or(|at| Instant::now() < at)
            {
                return Ok(cached.token.clone());
            }
        }
        if let Some(error) = shared_failure(&state, seen, self.completed.load(Ordering::Acquire)) {
            return Err(error);
        }
        self.fetch_locked(&mut state, fetch).await
    }

    async fn fetch_locked<F, Fut>(&self, state: &mut State, fetch: F) -> Result<Token, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fetched, Error>>,
    {
        state.cached = None;
        state.last_failure = None;
        let started = Instant::now();
        let outcome = fetch().await;
        self.completed.fetch_add(1, Ordering::AcqRel);
        let fetched = match outcome {
            Ok(f) => f,
            Err(e) => {
                state.last_failure = Some(e.clone());
                return Err(e);
            }
        };
        let header = bearer_header(fetched.access_token.expose())?;
        state.generation += 1;
        let token = Token {
            header,
            generation: state.generation,
        };
        // The lifetime is clamped already; `checked_add` keeps any lifetime from
        // panicking here all the same (a far future is "never renew by time").
        let renew_at = fetched.expires_in.map(|lifetime| {
            let usable = usable_for(lifetime.min(crate::MAX_TOKEN_LIFETIME), self.margin);
            started.checked_add(usable).unwrap_or_else(|| after(usable))
        });
        tracing::debug!(
            generation = state.generation,
            expires_in_s = fetched.expires_in.map(|d| d.as_secs()),
            "access token obtained"
        );
        state.cached = Some(Cached {
            token: token.clone(),
            renew_at,
        });
        Ok(token)
    }
}

/// The failure of a token request that ran while this caller waited for the lock.
fn shared_failure(state: &State, seen: u64, now: u64) -> Option<Error> {
    if now != seen {
        state.last_failure.clone()
    } else {
        None
    }
}

/// How long a token that lives `lifetime` is used: until `margin` before its end, or half
/// its life when it is shorter than twice the margin.
pub(crate) fn usable_for(lifetime: Duration, margin: Duration) -> Duration {
    if lifetime > margin.saturating_mul(2) {
        lifetime - margin
    } else {
        lifetime / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_huge_lifetime_does_not_panic() {
        let cache = TokenCache::new(Duration::from_secs(30));
        let huge = cache
            .get(|| async {
                Ok(Fetched {
                    access_token: Secret::new("t"),
                    expires_in: Some(Duration::MAX),
                })
            })
            .await;
        assert!(matches!(huge, Ok(Token { generation: 1, .. })));
        let cached = cache.get(|| async { Err(unexpected()) }).await;
        assert!(matches!(cached, Ok(Token { generation: 1, .. })));
    }

    #[test]
    fn margin() {
        let s = Duration::from_secs;
        assert_eq!(usable_for(s(3600), s(30)), s(3570));
        assert_eq!(usable_for(s(60), s(30)), s(30));
        assert_eq!(usable_for(s(1), s(30)), Duration::from_millis(500));
        assert_eq!(usable_for(s(0), s(30)), s(0));
    }

    fn fetched(lifetime: Option<u64>) -> Fetched {
        Fetched {
            access_token: Secret::new("t"),
            expires_in: lifetime.map(Duration::from_secs),
        }
    }

    #[tokio::test]
    async fn waiting_callers_share_one_failure() {
        let cache = Arc::new(TokenCache::new(Duration::from_secs(30)));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let cache = cache.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get(|| async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Err::<Fetched, _>(Error::Config {
                            message: "down".into(),
                        })
                    })
                    .await
                    .is_err()
            }));
        }
        for t in tasks {
            assert!(matches!(t.await, Ok(true)));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // A later caller tries again.
        let ok = cache.get(|| async { Ok(fetched(Some(3600))) }).await;
        assert!(matches!(ok, Ok(Token { generation: 1, .. })));
    }

    fn unexpected() -> Error {
        Error::Config {
            message: "a token request that should not happen".into(),
        }
    }

    #[tokio::test]
    async fn renew_only_replaces_the_refused_generation() {
        let cache = TokenCache::new(Duration::from_secs(30));
        let first = cache.get(|| async { Ok(fetched(None)) }).await;
        assert!(matches!(first, Ok(Token { generation: 1, .. })));
        let second = cache.renew(1, || async { Ok(fetched(None)) }).await;
        assert!(matches!(second, Ok(Token { generation: 2, .. })));
        // A late caller that was refused with generation 1 gets generation 2.
        let late = cache.renew(1, || async { Err(unexpected()) }).await;
        assert!(matches!(late, Ok(Token { generation: 2, .. })));
        let cached = cache.get(|| async { Err(unexpected()) }).await;
        assert!(matches!(cached, Ok(Token { generation: 2, .. })));
    }
}
