//! How a mock server is started: [`MockConfig`], and what can go wrong doing
//! it: [`MockError`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::fault::{Fault, FaultTarget};
use crate::oauth1::Oauth1Credentials;

/// Settings for [`MockServer::start`](crate::MockServer::start), built with
/// chained methods:
///
/// ```
/// use std::time::Duration;
/// use segura_mock::{Fault, FaultTarget, MockConfig};
///
/// let config = MockConfig::default()
///     .sessions(1000)
///     .seed(7)
///     .client_id("ci")
///     .client_secret("s3cret")
///     .token_lifetime(Duration::from_secs(60))
///     .fault(FaultTarget::List, Fault::Delay(Duration::from_millis(1)));
/// assert!(!format!("{config:?}").contains("s3cret"));
/// ```
///
/// Defaults: 100 sessions, seed 1, generated client id and secret, generated
/// OAuth 1.0a credentials, tokens valid for one hour, plain HTTP on
/// `127.0.0.1` and an ephemeral port, tenant `Segura`, no faults.
#[derive(Clone)]
pub struct MockConfig {
    pub(crate) sessions: u64,
    pub(crate) seed: u64,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<String>,
    pub(crate) oauth1: Option<Oauth1Credentials>,
    pub(crate) token_lifetime: Duration,
    pub(crate) tls: bool,
    pub(crate) bind: IpAddr,
    pub(crate) port: u16,
    pub(crate) faults: Vec<(FaultTarget, Fault)>,
    pub(crate) tenant: String,
    pub(crate) clock: Option<(i32, u64)>,
    pub(crate) gzip_ahead: bool,
    pub(crate) variants: Variants,
}

/// Which of the list and get path families the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PathFamilies {
    /// `/api/session/remotesessions…` and `/api/pam/session/remotesessions…` (default).
    #[default]
    Both,
    /// `/api/session/remotesessions…` only; the other answers the gateway's 404.
    Session,
    /// `/api/pam/session/remotesessions…` only; the other answers the gateway's 404.
    Pam,
}

/// Where the token endpoint is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenPaths {
    /// `/iso/oauth2/token` only (default).
    #[default]
    Iso,
    /// `/api/oauth2/token` only (the 3.33 "first steps" page).
    Api,
    /// Both.
    Both,
}

/// How the token endpoint accepts the client credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenAuth {
    /// In the form body or as HTTP Basic (default).
    #[default]
    Either,
    /// HTTP Basic only (help-center 3.25): credentials in the body are refused with
    /// `invalid_client`.
    BasicOnly,
}

/// The documented variants of the API the server speaks; see `docs/mock-server.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Variants {
    pub(crate) nested_envelope: bool,
    pub(crate) paths: PathFamilies,
    pub(crate) token_paths: TokenPaths,
    pub(crate) token_auth: TokenAuth,
    pub(crate) legacy_drop_only: bool,
    pub(crate) request_ids: bool,
    pub(crate) etags: bool,
    pub(crate) web_session_legacy_only: bool,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            sessions: 100,
            seed: 1,
            client_id: None,
            client_secret: None,
            oauth1: None,
            token_lifetime: Duration::from_secs(3600),
            tls: false,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            faults: Vec::new(),
            tenant: "Segura".to_owned(),
            clock: None,
            gzip_ahead: false,
            variants: Variants::default(),
        }
    }
}

impl fmt::Debug for MockConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockConfig")
            .field("sessions", &self.sessions)
            .field("seed", &self.seed)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("oauth1", &self.oauth1)
            .field("token_lifetime", &self.token_lifetime)
            .field("tls", &self.tls)
            .field("bind", &self.bind)
            .field("port", &self.port)
            .field("faults", &self.faults)
            .field("tenant", &self.tenant)
            .field("clock", &self.clock)
            .field("gzip_ahead", &self.gzip_ahead)
            .field("variants", &self.variants)
            .finish()
    }
}

impl MockConfig {
    /// An appliance whose clock is `utc_offset_secs` from UTC (São Paulo: `-3 * 3600`),
    /// whose sessions start one a minute and whose last session started about
    /// `last_started_ago` before the server starts, on that clock. Without it, the
    /// sessions start on 2023-01-02 08:00:00.
    pub fn recent_in_zone(mut self, utc_offset_secs: i32, last_started_ago: Duration) -> Self {
        self.clock = Some((utc_offset_secs, last_started_ago.as_secs()));
        self
    }

    /// How many sessions the list holds at start (see
    /// [`MockServer::set_session_count`](crate::MockServer::set_session_count)).
    pub fn sessions(mut self, count: u64) -> Self {
        self.sessions = count;
        self
    }

    /// The generator's seed: the same seed serves the same sessions.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The OAuth 2.0 client id the token endpoint accepts (generated if unset).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The OAuth 2.0 client secret the token endpoint accepts (generated if
    /// unset). Redacted from `Debug`.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// The OAuth 1.0a credentials API requests may be signed with (generated
    /// if unset).
    pub fn oauth1_credentials(mut self, credentials: Oauth1Credentials) -> Self {
        self.oauth1 = Some(credentials);
        self
    }

    /// How long an issued access token stays valid (`expires_in` is this,
    /// rounded up to whole seconds).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Serve HTTPS with a freshly generated CA and server certificate (see
    /// [`MockServer::ca_cert_pem`](crate::MockServer::ca_cert_pem)).
    pub fn tls(mut self, enabled: bool) -> Self {
        self.tls = enabled;
        self
    }

    /// The port to listen on; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The address to listen on; `127.0.0.1` by default. The TLS certificate
    /// only names `127.0.0.1`, `::1` and `localhost`.
    pub fn bind(mut self, address: IpAddr) -> Self {
        self.bind = address;
        self
    }

    /// Adds a standing fault, applied to every matching request until it is
    /// cleared with [`MockServer::clear_faults`](crate::MockServer::clear_faults).
    pub fn fault(mut self, target: FaultTarget, fault: Fault) -> Self {
        self.faults.push((target, fault));
        self
    }

    /// Serve gzip list bodies compressed ahead of time: the whole list is generated
    /// and compressed (at the default level) once, on the first list request that
    /// asks for gzip, and the same bytes are sent to every such request until the
    /// list changes (a session count or a drop), so the server's compressor is not what
    /// limits a client's throughput. List faults that shape the body (`delay`, `drip`,
    /// `cut-after`, `reset-after`) bypass it and stream as usual. Memory: the
    /// compressed list (about 10 % of its JSON).
    pub fn gzip_ahead(mut self, enabled: bool) -> Self {
        self.gzip_ahead = enabled;
        self
    }

    /// Serve the list body in the nested form the vendor documents for 3.33: the outer
    /// envelope's `remote_sessions` holds one inner envelope (with `code`, `response`
    /// and `tenant`) whose own `remote_sessions` holds the sessions. Off by default.
    pub fn nested_envelope(mut self, nested: bool) -> Self {
        self.variants.nested_envelope = nested;
        self
    }

    /// Which list and get path families are served ([`PathFamilies::Both`] by default).
    pub fn path_families(mut self, paths: PathFamilies) -> Self {
        self.variants.paths = paths;
        self
    }

    /// Where the token endpoint is served ([`TokenPaths::Iso`] by default).
    pub fn token_paths(mut self, paths: TokenPaths) -> Self {
        self.variants.token_paths = paths;
        self
    }

    /// How the token endpoint takes the client credentials ([`TokenAuth::Either`] by
    /// default).
    pub fn token_auth(mut self, auth: TokenAuth) -> Self {
        self.variants.token_auth = auth;
        self
    }

    /// Serve only the older drop, `DELETE /iso/session/drop/{hash}`, with its answer
    /// (`Sessão interrompida com sucesso`, no `code`, no `tenant`); the current path
    /// then answers the gateway's 404. Off by default (both paths, the current answer).
    pub fn legacy_drop_only(mut self, legacy: bool) -> Self {
        self.variants.legacy_drop_only = legacy;
        self
    }

    /// Send `X-Request-Id` (a fresh `req-<hex>` value) with every answer, as A2A v2
    /// does. Off by default.
    pub fn request_ids(mut self, on: bool) -> Self {
        self.variants.request_ids = on;
        self
    }

    /// Send an `ETag` with list answers (a function of the dataset: the session count
    /// and the ended sessions) and answer `304 Not Modified`, without a body, to a list
    /// request whose `If-None-Match` matches it. Off by default.
    pub fn etags(mut self, on: bool) -> Self {
        self.variants.etags = on;
        self
    }

    /// Serve web proxy sessions only under the older path, `POST /api/remote/session`
    /// (3.33), with the envelope's Portuguese message under the key `Message` (as some
    /// versions of the vendor's pages spell it); the current path,
    /// `POST /api/pam/remote/session`, then answers the gateway's 404. Off by default
    /// (both paths, the current answer).
    pub fn web_session_legacy_only(mut self, legacy: bool) -> Self {
        self.variants.web_session_legacy_only = legacy;
        self
    }

    /// The `tenant` value of response envelopes; `Segura` by default.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = tenant.into();
        self
    }
}

/// Why a mock server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The certificates or the TLS configuration could not be built.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// The background runtime or thread of
    /// [`MockServer::start_blocking`](crate::MockServer::start_blocking)
    /// could not be created.
    #[error("cannot start the background server: {0}")]
    Runtime(std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_client_secret() {
        let config = MockConfig::default()
            .client_id("id")
            .client_secret("hunter2")
            .oauth1_credentials(Oauth1Credentials::new("ck", "cs", "t", "ts"));
        assert_eq!(
            format!("{config:?}"),
            "MockConfig { sessions: 100, seed: 1, client_id: Some(\"id\"), \
             client_secret: Some(\"<redacted>\"), oauth1: Some(Oauth1Credentials { \
             consumer_key: \"ck\", consumer_secret: \"<redacted>\", token: \"t\", \
             token_secret: \"<redacted>\" }), token_lifetime: 3600s, tls: false, \
             bind: 127.0.0.1, port: 0, faults: [], tenant: \"Segura\", clock: None, gzip_ahead: false, \
             variants: Variants { nested_envelope: false, paths: Both, token_paths: Iso, \
             token_auth: Either, legacy_drop_only: false, request_ids: false, etags: false, \
             web_session_legacy_only: false } }"
        );
    }
}
