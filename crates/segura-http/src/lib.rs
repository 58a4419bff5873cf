//! The HTTPS transport for the Segura PAM Core sessions API.
//!
//! [`ReqwestTransport`] implements `segura-api`'s transport seam
//! ([`segura_api::Transport`]) with reqwest over rustls: TLS verification on by default,
//! proxies, gzip, a connection pool, connect and read timeouts suited to a body that may
//! take minutes. [`HttpClient`] is the convenience client built on it: a
//! [`segura_api::Client`] over a [`ReqwestTransport`], which implements
//! [`segura_api::SessionApi`] with OAuth 2.0 client credentials (cached, single-flight
//! refresh), OAuth 1.0a HMAC-SHA1, or a ready bearer token, bounded retries for
//! idempotent requests, and the list body streamed into the decoder as it arrives.
//!
//! What the client promises, in short (details in `docs/security.md`):
//!
//! * secrets never appear in `Debug`, `Display`, error messages or logs; the token
//!   endpoint's answer is never logged or quoted;
//! * certificates are verified unless the caller turns that off by name; redirects are
//!   not followed, so credentials only ever go to the configured server;
//! * a drop is sent again only when the first attempt provably never reached the server
//!   or was refused with HTTP 401 (once, with a renewed token), and a list is never
//!   retried once its stream has been handed over;
//! * a body is complete only when its framing says so: a cut, a short `Content-Length`,
//!   a missing last chunk or a failed gzip check is an error even after the JSON closed;
//! * every failure is one of [`segura_api::Error`]'s variants, whatever the server sent.
//!
//! ```no_run
//! # async fn demo() -> Result<(), segura_api::Error> {
//! use segura_api::SessionApi;
//! use segura_http::{Auth, ClientAuthMethod, ClientConfig, HttpClient, Secret};
//!
//! let auth = Auth::OAuth2 {
//!     client_id: "my-client".into(),
//!     client_secret: Secret::new("my-secret"),
//!     method: ClientAuthMethod::Body,
//! };
//! let config = ClientConfig::new("https://pam.example.com", auth)
//!     .ca_cert_file("/etc/segura/ca.pem")?;
//! let client = HttpClient::new(config)?;
//! let mut sessions = client.list_sessions().await?;
//! while let Some(session) = sessions.next_ref().await {
//!     println!("{}", session?.id);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Architecture invariant: this crate knows HTTP and nothing about terminals or argument
//! parsing (no clap). Secrets live in [`Secret`], which never prints them.
#![deny(missing_docs)]

mod classify;
mod config;
pub mod local_file;
mod transport;

pub use config::ClientConfig;
pub use segura_api::protocol::{Auth, ClientAuthMethod, Secret};
pub use segura_api::RetryPolicy;
pub use transport::ReqwestTransport;

use std::fmt;

use async_trait::async_trait;
use segura_api::{Client, Error, Redactor, SessionApi, SessionStream, WebSessionApi};
use segura_model::{
    DropResponse, RemoteSession, SessionHash, SessionId, WebSession, WebSessionRequest,
};

/// The `User-Agent` of every request: `segura-http/<version>`.
pub const USER_AGENT: &str = concat!("segura-http/", env!("CARGO_PKG_VERSION"));

/// The HTTPS client: a [`segura_api::Client`] over a [`ReqwestTransport`]. Cheap to clone
/// (clones share the connection pool and the token).
#[derive(Clone)]
pub struct HttpClient {
    client: Client<ReqwestTransport>,
    config: std::sync::Arc<ClientConfig>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds a client; fails with [`Error::Config`] on a bad URL, empty credentials, a
    /// zero timeout or a CA certificate that is not PEM. Nothing is sent yet.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        // The URL, credentials and timeouts first: their messages come before the CA's.
        let options = config.client_options();
        options.check()?;
        let transport = ReqwestTransport::new(&config)?;
        let client = Client::new(transport, options)?;
        if client.endpoints().is_plain_http() {
            tracing::warn!(
                url = %client.endpoints().base(),
                "plain http: credentials and tokens travel unencrypted"
            );
        }
        if config.danger_accept_invalid_certs {
            tracing::warn!(
                "TLS certificate verification is off: anyone in the path can read the credentials"
            );
        }
        Ok(Self {
            client,
            config: std::sync::Arc::new(config),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The generic client underneath.
    pub fn client(&self) -> &Client<ReqwestTransport> {
        &self.client
    }

    /// The client's secrets (credentials, and every access token once issued), as
    /// scrubbed out of the errors it returns. Clones share the set: a caller that prints
    /// or logs text of its own can scrub it with the same secrets.
    pub fn redactor(&self) -> &Redactor {
        self.client.redactor()
    }

    /// The normalised base URL requests are sent under (always ending with `/`).
    pub fn base_url(&self) -> &str {
        self.client.endpoints().base().as_str()
    }
}

#[async_trait]
impl SessionApi for HttpClient {
    /// See [`segura_api::Client`]'s `list_sessions`: the body as a stream once the
    /// headers say 200, never retried from then on.
    async fn list_sessions(&self) -> Result<SessionStream, Error> {
        self.client.list_sessions().await
    }

    async fn get_session(&self, id: SessionId) -> Result<RemoteSession, Error> {
        self.client.get_session(id).await
    }

    /// Sends `DELETE /api/pam/session/drop/{session_id}`, again only if the first attempt
    /// provably never reached the server, or was refused with HTTP 401 (then once, with
    /// a renewed OAuth 2.0 token). Only a recognised success is `Ok`.
    async fn drop_session(&self, session: &SessionHash) -> Result<DropResponse, Error> {
        self.client.drop_session(session).await
    }

    async fn list_if_changed(&self, etag: Option<String>) -> Result<segura_api::Listing, Error> {
        self.client.list_if_changed(etag).await
    }
}

#[async_trait]
impl WebSessionApi for HttpClient {
    /// See [`segura_api::Client`]'s `open_web_session`: `POST /api/pam/remote/session`,
    /// then the older `/api/remote/session` on a 404; never retried once it may have
    /// arrived. The URL and the token are secrets of this client from then on.
    async fn open_web_session(&self, request: &WebSessionRequest) -> Result<WebSession, Error> {
        self.client.open_web_session(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent() {
        assert_eq!(
            USER_AGENT,
            format!("segura-http/{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
