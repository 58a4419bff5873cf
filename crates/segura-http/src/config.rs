//! Client configuration: where, who, and how patiently.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use segura_api::Error;

use crate::local_file::{read_regular_file, Links, SMALL_FILE_LIMIT};
use segura_api::protocol::{ApiPrefix, Auth, TokenUrl};
use segura_api::{ClientOptions, RetryPolicy};

/// Everything [`crate::HttpClient::new`] needs.
///
/// `Debug` shows the secrets of [`Auth`] as `[redacted]` and the CA certificate by its
/// size only.
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Base URL of the appliance, with or without a trailing slash or a path prefix.
    pub base_url: String,
    /// Credentials.
    pub auth: Auth,
    /// Extra CA certificate (PEM) to trust, for appliances with a private CA.
    pub ca_cert_pem: Option<Vec<u8>>,
    /// Where the CA certificate came from, for messages.
    pub ca_cert_path: Option<PathBuf>,
    /// Accept any certificate. Off unless the caller turns it on by name.
    pub danger_accept_invalid_certs: bool,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Longest silence between two chunks of a body (and before the headers).
    pub read_timeout: Duration,
    /// Deadline of each whole request, from sending it to the last byte of its body
    /// (the token request it may need included), for every endpoint, the list too.
    /// `None` by default: a list then has no deadline (it may take minutes), and token,
    /// get and drop requests have [`ClientConfig::call_timeout`]. When it runs out, the
    /// call fails with [`Error::Timeout`] of kind `Total`.
    pub total_timeout: Option<Duration>,
    /// Deadline of each token, get and drop request (to the end of its body) when
    /// [`ClientConfig::total_timeout`] is not set: 5 minutes by default, so that a server
    /// that sends one byte a second cannot hold them for hours.
    pub call_timeout: Duration,
    /// Retries of idempotent requests.
    pub retry: RetryPolicy,
    /// How long before `expires_in` runs out a cached OAuth 2.0 token is renewed. A token
    /// whose lifetime is shorter than twice the margin is renewed halfway through it.
    pub token_refresh_margin: Duration,
    /// Ask for gzip-compressed bodies (`Accept-Encoding: gzip`). On by default: the
    /// list body compresses about fourfold, which matters over a WAN; off makes sense
    /// on loopback or a fast LAN, where compressing costs the server more than it saves.
    pub compression: bool,
    /// The path family of the list and get (`None`: try both; see
    /// [`segura_api::client::ClientOptions::api_prefix`]).
    pub api_prefix: Option<ApiPrefix>,
    /// Where the token endpoint is.
    pub token_url: TokenUrl,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Pem(usize);
        impl fmt::Debug for Pem {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "<{} bytes of PEM>", self.0)
            }
        }
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("auth", &self.auth)
            .field(
                "ca_cert_pem",
                &self.ca_cert_pem.as_ref().map(|p| Pem(p.len())),
            )
            .field("ca_cert_path", &self.ca_cert_path)
            .field(
                "danger_accept_invalid_certs",
                &self.danger_accept_invalid_certs,
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("call_timeout", &self.call_timeout)
            .field("retry", &self.retry)
            .field("token_refresh_margin", &self.token_refresh_margin)
            .field("compression", &self.compression)
            .finish()
    }
}

impl ClientConfig {
    /// The default of [`ClientConfig::call_timeout`]: 5 minutes.
    pub const DEFAULT_CALL_TIMEOUT: Duration = ClientOptions::DEFAULT_CALL_TIMEOUT;

    /// A configuration with defaults: TLS verification on, 30 s connect timeout, 120 s
    /// idle timeout, no total deadline for a list and 5 minutes for the other requests,
    /// 3 retries.
    pub fn new(base_url: impl Into<String>, auth: Auth) -> Self {
        Self {
            base_url: base_url.into(),
            auth,
            ca_cert_pem: None,
            ca_cert_path: None,
            danger_accept_invalid_certs: false,
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(120),
            total_timeout: None,
            call_timeout: Self::DEFAULT_CALL_TIMEOUT,
            retry: RetryPolicy::default(),
            token_refresh_margin: Duration::from_secs(30),
            compression: true,
            api_prefix: None,
            token_url: TokenUrl::Auto,
        }
    }

    /// Trusts this CA certificate (PEM) in addition to the system's.
    pub fn ca_cert_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_cert_pem = Some(pem.into());
        self
    }

    /// Reads the CA certificate (PEM, one or several) to trust from a file; the path then
    /// appears in messages about it. Fails with [`Error::Input`] when the file cannot be
    /// read, is not a regular file (a FIFO or a device such as `/dev/zero` is refused
    /// without blocking), or is larger than [`SMALL_FILE_LIMIT`] (1 MiB).
    pub fn ca_cert_file(mut self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let pem = read_regular_file(path, SMALL_FILE_LIMIT, Links::Follow)
            .map_err(|e| segura_api::input_error(path.display().to_string(), e))?
            .bytes;
        self.ca_cert_pem = Some(pem);
        self.ca_cert_path = Some(path.to_owned());
        Ok(self)
    }

    /// Turns TLS certificate verification off. Dangerous: anyone in the path can read
    /// the credentials.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.danger_accept_invalid_certs = accept;
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Sets the idle (read) timeout between chunks.
    pub fn read_timeout(mut self, d: Duration) -> Self {
        self.read_timeout = d;
        self
    }

    /// Sets a deadline for whole requests, the list included (see
    /// [`ClientConfig::total_timeout`]).
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

    /// Sets the number of retries, keeping the rest of the policy.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.retry.max_retries = n;
        self
    }

    /// Sets how long before its expiry a cached OAuth 2.0 token is renewed.
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// The options of the generic client ([`segura_api::Client`]) this configuration
    /// stands for: everything but the transport's own settings (TLS, connect timeout,
    /// compression).
    pub fn client_options(&self) -> ClientOptions {
        ClientOptions::new(self.base_url.clone(), self.auth.clone())
            .idle_timeout(self.read_timeout)
            .total_timeout(self.total_timeout)
            .call_timeout(self.call_timeout)
            .retry(self.retry)
            .token_refresh_margin(self.token_refresh_margin)
            .api_prefix(self.api_prefix)
            .token_url(self.token_url.clone())
    }

    /// Asks for gzip-compressed bodies, or not.
    pub fn compression(mut self, on: bool) -> Self {
        self.compression = on;
        self
    }
}
