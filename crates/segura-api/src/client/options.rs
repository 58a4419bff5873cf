//! What the generic client is told: where, who, and how patiently.

use std::time::Duration;

use crate::error::{config_error, Error};
use crate::protocol::{ApiPrefix, Auth, Credentials, Endpoints, TokenUrl};

/// Retries of idempotent requests (list, get).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 turns retries off).
    pub max_retries: u32,
    /// First backoff; doubles each retry, with jitter.
    pub initial_backoff: Duration,
    /// Longest single backoff.
    pub max_backoff: Duration,
    /// Give up retrying once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// A policy with these backoffs (first, longest) and the default bounds.
    pub fn with_backoff(initial_backoff: Duration, max_backoff: Duration) -> Self {
        Self {
            initial_backoff,
            max_backoff,
            ..Self::default()
        }
    }

    /// Sets the number of retries after the first attempt.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Sets the time after which no retry starts.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

/// Everything [`super::Client::new`] needs besides its transport.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Base URL of the appliance, with or without a trailing slash or a path prefix.
    pub base_url: String,
    /// Credentials.
    pub auth: Auth,
    /// Longest silence between two chunks of a body. A transport bounds the wait for
    /// the headers itself (its read timeout).
    pub idle_timeout: Duration,
    /// Deadline of each whole request, from sending it to the last byte of its body
    /// (the token request it may need included), for every endpoint, the list too.
    /// `None` by default: a list then has no deadline, and token, get and drop requests
    /// have [`ClientOptions::call_timeout`].
    pub total_timeout: Option<Duration>,
    /// Deadline of each token, get and drop request (to the end of its body) when
    /// [`ClientOptions::total_timeout`] is not set: 5 minutes by default.
    pub call_timeout: Duration,
    /// Retries of idempotent requests.
    pub retry: RetryPolicy,
    /// How long before `expires_in` runs out a cached OAuth 2.0 token is renewed. A token
    /// whose lifetime is shorter than twice the margin is renewed halfway through it.
    pub token_refresh_margin: Duration,
    /// The path family of the list and get; `None` (the default) tries
    /// `/api/session/…` first and `/api/pam/session/…` when it answers 404, then keeps
    /// to the one that answered for the client's life.
    pub api_prefix: Option<ApiPrefix>,
    /// Where the token endpoint is ([`TokenUrl::Auto`] by default).
    pub token_url: TokenUrl,
}

impl ClientOptions {
    /// The default of [`ClientOptions::call_timeout`]: 5 minutes.
    pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5 * 60);

    /// Options with defaults: 120 s idle timeout, no total deadline for a list and 5
    /// minutes for the other requests, 3 retries, a 30 s token refresh margin.
    pub fn new(base_url: impl Into<String>, auth: Auth) -> Self {
        Self {
            base_url: base_url.into(),
            auth,
            idle_timeout: Duration::from_secs(120),
            total_timeout: None,
            call_timeout: Self::DEFAULT_CALL_TIMEOUT,
            retry: RetryPolicy::default(),
            token_refresh_margin: Duration::from_secs(30),
            api_prefix: None,
            token_url: TokenUrl::Auto,
        }
    }

    /// Checks the options as [`super::Client::new`] does: the URL, the credentials, no
    /// zero timeout. Nothing is sent.
    pub fn check(&self) -> Result<(), Error> {
        self.checked().map(|_| ())
    }

    pub(crate) fn checked(&self) -> Result<(Endpoints, Credentials), Error> {
        let endpoints = Endpoints::parse(&self.base_url)?;
        endpoints.token_urls(&self.token_url)?;
        for (name, d) in [
            ("read timeout", self.idle_timeout),
            ("total timeout", self.total_timeout.unwrap_or(Duration::MAX)),
            ("call timeout", self.call_timeout),
        ] {
            if d.is_zero() {
                return Err(config_error(format!("the {name} must be longer than zero")));
            }
        }
        Ok((endpoints, Credentials::new(&self.auth)?))
    }

    /// Sets the idle timeout between chunks of a body.
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Sets a deadline for whole requests, the list included.
    pub fn total_timeout(mut self, d: Option<Duration>) -> Self {
        self.total_timeout = d;
        self
    }

    /// Sets the deadline of token, get and drop requests when no total deadline is set.
    pub fn call_timeout(mut self, d: Duration) -> Self {
        self.call_timeout = d;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Pins the path family of the list and get (`None`: try both, see
    /// [`ClientOptions::api_prefix`]).
    pub fn api_prefix(mut self, prefix: Option<ApiPrefix>) -> Self {
        self.api_prefix = prefix;
        self
    }

    /// Sets where the token endpoint is.
    pub fn token_url(mut self, url: TokenUrl) -> Self {
        self.token_url = url;
        self
    }

    /// Sets how long before its expiry a cached OAuth 2.0 token is renewed.
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }
}
