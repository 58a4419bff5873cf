//! The HTTPS transport for the Segura PAM Core sessions API.
//!
//! [`HttpClient`] implements [`segura_api::SessionApi`] with reqwest over rustls:
//! OAuth 2.0 client credentials (cached, single-flight refresh), OAuth 1.0a HMAC-SHA1, or a
//! ready bearer token; TLS verification on by default; connect and idle timeouts suited to
//! a body that may take minutes; bounded retries for idempotent requests; the list body
//! streamed into `segura-api`'s decoder as it arrives.
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

mod body;
mod config;
mod endpoint;
pub mod local_file;
mod oauth1;
mod secret;
mod token;
mod transport;

pub use config::{Auth, ClientAuthMethod, ClientConfig, RetryPolicy};
pub use secret::Secret;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use segura_api::{Error, ListDecoder, Redactor, SessionApi, SessionStream};
use segura_model::{DropResponse, RemoteSession, SessionHash, SessionId};

use crate::body::{BodyStream, RawBody};
use crate::endpoint::Endpoints;
use crate::transport::{
    classify_transport, error_chain, read_capped, within, Authenticator, Call, Inner, Target,
    ERROR_BODY_CAP,
};

/// The `User-Agent` of every request: `segura-http/<version>`.
pub const USER_AGENT: &str = concat!("segura-http/", env!("CARGO_PKG_VERSION"));

/// The HTTPS client; cheap to clone (clones share the connection pool and the token).
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

fn config_error(message: impl Into<String>) -> Error {
    Error::Config {
        message: message.into(),
    }
}

impl HttpClient {
    /// Builds a client; fails with [`Error::Config`] on a bad URL, empty credentials, a
    /// zero timeout or a CA certificate that is not PEM. Nothing is sent yet.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let endpoints = Endpoints::parse(&config.base_url)?;
        for (name, d) in [
            ("connect timeout", config.connect_timeout),
            ("read timeout", config.read_timeout),
            (
                "total timeout",
                config.total_timeout.unwrap_or(Duration::MAX),
            ),
            ("call timeout", config.call_timeout),
        ] {
            if d.is_zero() {
                return Err(config_error(format!("the {name} must be longer than zero")));
            }
        }
        let auth = Authenticator::new(&config.auth, &endpoints, config.token_refresh_margin)?;
        let redactor = Redactor::new();
        secret::register(&config.auth, &redactor);
        let http = build_http(&config)?;
        if endpoints.is_plain_http() {
            tracing::warn!(
                url = %endpoints.base(),
                "plain http: credentials and tokens travel unencrypted"
            );
        }
        if config.danger_accept_invalid_certs {
            tracing::warn!(
                "TLS certificate verification is off: anyone in the path can read the credentials"
            );
        }
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                endpoints,
                auth,
                redactor,
            }),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The client's secrets (credentials, and every access token once issued), as
    /// scrubbed out of the errors it returns. Clones share the set: a caller that prints
    /// or logs text of its own can scrub it with the same secrets.
    pub fn redactor(&self) -> &Redactor {
        &self.inner.redactor
    }

    /// The normalised base URL requests are sent under (always ending with `/`).
    pub fn base_url(&self) -> &str {
        self.inner.endpoints.base().as_str()
    }

    fn body(&self, call: &Call, response: reqwest::Response) -> BodyStream<RawBody> {
        BodyStream::new(
            Box::pin(response.bytes_stream()),
            self.inner.config.read_timeout,
            call.deadline,
            call.url.path().to_owned(),
        )
    }
}

/// The reqwest client: rustls, the system's and webpki's roots plus the caller's CA,
/// no redirects, the configured timeouts.
fn build_http(config: &ClientConfig) -> Result<reqwest::Client, Error> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .user_agent(USER_AGENT)
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.read_timeout)
        .tcp_keepalive(Duration::from_secs(60))
        .gzip(config.compression)
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(config.danger_accept_invalid_certs);
    if let Some(pem) = &config.ca_cert_pem {
        let name = config
            .ca_cert_path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the CA certificate".to_owned());
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
            config_error(format!(
                "{name} is not a PEM certificate: {}",
                error_chain(&e)
            ))
        })?;
        if certs.is_empty() {
            return Err(config_error(format!(
                "{name} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            )));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| {
        config_error(format!(
            "cannot set up the HTTP client: {}",
            error_chain(&e)
        ))
    })
}

#[async_trait]
impl SessionApi for HttpClient {
    /// Sends `GET /api/session/remotesessions` (retrying what may be retried) and returns
    /// the body as a stream once the headers say 200. From then on nothing is retried:
    /// sessions may already have reached the caller. A body cut midway (connection reset,
    /// broken chunked encoding or gzip, even once the JSON has closed) ends the stream
    /// with [`Error::InvalidResponse`] `{ truncated: true, .. }` after the sessions that
    /// arrived; silence longer than the read timeout ends it with [`Error::Timeout`]
    /// (`Idle`), and the total deadline, if set, with [`Error::Timeout`] (`Total`).
    async fn list_sessions(&self) -> Result<SessionStream, Error> {
        let url = self.inner.endpoints.list()?;
        let call = self.inner.call(Target::List, Method::GET, url);
        let response = self.inner.send(&call).await?;
        let body = self.body(&call, response);
        Ok(SessionStream::new(Box::pin(body)).redacting(self.inner.redactor.clone()))
    }

    async fn get_session(&self, id: SessionId) -> Result<RemoteSession, Error> {
        let url = self.inner.endpoints.get(&id.to_string())?;
        let call = self.inner.call(Target::Get, Method::GET, url);
        let response = self.inner.send(&call).await?;
        let body = self.body(&call, response);
        // Read to the end (an error envelope or a cut may come after the session), and
        // accept only the session asked for.
        SessionStream::with_decoder(Box::pin(body), ListDecoder::for_get())
            .redacting(self.inner.redactor.clone())
            .single(id)
            .await
    }

    /// Sends `DELETE /api/pam/session/drop/{session_id}`, again only if the first attempt
    /// provably never reached the server, or was refused with HTTP 401 (then once, with
    /// a renewed OAuth 2.0 token: a 401 is a refusal before anything happened). Only a
    /// recognised success is `Ok` (see [`segura_api::parse_drop_answer`]); any other
    /// answer is [`Error::InvalidResponse`]: the session may or may not have been
    /// dropped.
    async fn drop_session(&self, session: &SessionHash) -> Result<DropResponse, Error> {
        let url = self.inner.endpoints.drop_session(session.as_str())?;
        let call = self.inner.call(Target::Drop, Method::DELETE, url);
        let response = self.inner.send(&call).await?;
        let status = response.status().as_u16();
        let body = match within(&call, read_capped(response, ERROR_BODY_CAP)).await? {
            Ok(body) => body,
            Err(e) => {
                let error = classify_transport(&e, &self.inner.config);
                return Err(match error {
                    Error::InvalidResponse { .. } => Error::InvalidResponse {
                        message: format!(
                            "the answer to the drop was cut (the session may have been dropped): {}",
                            error_chain(&e)
                        ),
                        offset: 0,
                        path: None,
                        sessions_before: 0,
                        truncated: true,
                    },
                    other => other,
                });
            }
        };
        segura_api::parse_drop_answer(status, &body).map_err(|e| self.inner.redactor.scrub(e))
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
