//! Sending one call: credentials, the retry loop, and the classification of every failure
//! into `segura-api`'s taxonomy.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, Response, StatusCode};
use segura_api::{classify_response, AuthFailure, ConnectFailure, Error, Redactor, TimeoutKind};
use tokio::time::Instant;
use url::Url;

use crate::body::{after, human};
use crate::config::{Auth, ClientAuthMethod, ClientConfig};
use crate::endpoint::Endpoints;
use crate::oauth1::Signer;
use crate::secret::Secret;
use crate::token::{Fetched, Token, TokenCache};

/// Largest error body read (and largest token or drop answer): enough for any message,
/// small enough that a hostile or broken server cannot fill memory.
pub(crate) const ERROR_BODY_CAP: usize = 64 * 1024;

/// Which endpoint a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Token,
    List,
    Get,
    Drop,
}

impl Target {
    /// Whether repeating the request is harmless (everything but a drop: asking twice for
    /// a token only yields two tokens).
    fn idempotent(self) -> bool {
        self != Target::Drop
    }
}

/// One call, across its attempts.
pub(crate) struct Call {
    pub(crate) target: Target,
    pub(crate) method: Method,
    pub(crate) url: Url,
    started: Instant,
    /// The total deadline: its length and when it runs out.
    pub(crate) deadline: Option<(Duration, Instant)>,
}

impl Call {
    pub(crate) fn new(
        target: Target,
        method: Method,
        url: Url,
        deadline: Option<(Duration, Instant)>,
    ) -> Self {
        Self {
            target,
            method,
            url,
            started: Instant::now(),
            deadline,
        }
    }
}

/// How API calls are authenticated.
pub(crate) enum Authenticator {
    OAuth2 {
        client_id: String,
        client_secret: Secret,
        method: ClientAuthMethod,
        token_url: Url,
        cache: Box<TokenCache>,
    },
    OAuth1 {
        consumer_key: String,
        consumer_secret: Secret,
        token: String,
        token_secret: Secret,
    },
    Bearer(HeaderValue),
}

fn config_error(message: impl Into<String>) -> Error {
    Error::Config {
        message: message.into(),
    }
}

impl Authenticator {
    pub(crate) fn new(auth: &Auth, endpoints: &Endpoints, margin: Duration) -> Result<Self, Error> {
        Ok(match auth {
            Auth::OAuth2 {
                client_id,
                client_secret,
                method,
            } => {
                if client_id.trim().is_empty() {
                    return Err(config_error("the OAuth 2.0 client id is empty"));
                }
                if client_secret.expose().is_empty() {
                    return Err(config_error("the OAuth 2.0 client secret is empty"));
                }
                Authenticator::OAuth2 {
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    method: *method,
                    token_url: endpoints.token()?,
                    cache: Box::new(TokenCache::new(margin)),
                }
            }
            Auth::OAuth1 {
                consumer_key,
                consumer_secret,
                token,
                token_secret,
            } => {
                if consumer_key.trim().is_empty() || consumer_secret.expose().is_empty() {
                    return Err(config_error(
                        "the OAuth 1.0a consumer key and consumer secret must not be empty",
                    ));
                }
                Authenticator::OAuth1 {
                    consumer_key: consumer_key.clone(),
                    consumer_secret: consumer_secret.clone(),
                    token: token.clone(),
                    token_secret: token_secret.clone(),
                }
            }
            Auth::Bearer(token) => {
                let value = token.expose().trim();
                if value.is_empty() {
                    return Err(config_error("the bearer token is empty"));
                }
                let mut header =
                    HeaderValue::try_from(format!("Bearer {value}")).map_err(|_| {
                        config_error("the bearer token contains characters a header cannot carry")
                    })?;
                header.set_sensitive(true);
                Authenticator::Bearer(header)
            }
        })
    }
}

/// The parts of a client a call needs.
pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    pub(crate) http: reqwest::Client,
    pub(crate) endpoints: Endpoints,
    pub(crate) auth: Authenticator,
    /// The client's secrets, scrubbed out of every error built from the server's text.
    pub(crate) redactor: Redactor,
}

/// The `Authorization` of one attempt, and the token generation it carries.
struct Credential {
    header: Option<HeaderValue>,
    generation: Option<u64>,
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Inner {
    /// A call to `url` with its deadline, if any.
    pub(crate) fn call(&self, target: Target, method: Method, url: Url) -> Call {
        Call::new(target, method, url, self.deadline(target))
    }

    /// The deadline of a new call to `target`, starting now: the total timeout when set,
    /// else the call timeout for everything but a list.
    fn deadline(&self, target: Target) -> Option<(Duration, Instant)> {
        let length = match (self.config.total_timeout, target) {
            (Some(d), _) => Some(d),
            (None, Target::List) => None,
            (None, _) => Some(self.config.call_timeout),
        };
        length.map(|d| (d, after(d)))
    }

    /// Sends `call` until it succeeds (2xx) or fails for good; retries what may be retried;
    /// renews a refused OAuth 2.0 token once.
    pub(crate) async fn send(&self, call: &Call) -> Result<Response, Error> {
        let mut retries = 0u32;
        let mut renewed = false;
        let mut renew_from: Option<u64> = None;
        loop {
            let credential = within(call, self.credential(call, renew_from.take())).await??;
            let request = self.request(call, credential.header)?;
            tracing::debug!(
                method = %call.method,
                path = call.url.path(),
                attempt = retries + 1,
                "sending"
            );
            let sent = Instant::now();
            let error = match within(call, request.send()).await? {
                Ok(response) => {
                    let status = response.status();
                    tracing::debug!(
                        method = %call.method,
                        path = call.url.path(),
                        status = status.as_u16(),
                        elapsed_ms = sent.elapsed().as_millis() as u64,
                        "response"
                    );
                    if status.is_success() {
                        if let Some(error) = unexpected_encoding(call, &response) {
                            return Err(error);
                        }
                        return Ok(response);
                    }
                    if status == StatusCode::UNAUTHORIZED && !renewed {
                        if let (Some(generation), Authenticator::OAuth2 { .. }) =
                            (credential.generation, &self.auth)
                        {
                            tracing::debug!(generation, "access token refused; renewing it once");
                            renewed = true;
                            renew_from = Some(generation);
                            continue;
                        }
                    }
                    self.response_error(call, response).await
                }
                Err(e) => classify_transport(&e, &self.config),
            };
            match self.retry_delay(call, &error, retries) {
                Some(delay) => {
                    retries += 1;
                    tracing::debug!(
                        method = %call.method,
                        path = call.url.path(),
                        retry = retries,
                        delay_ms = delay.as_millis() as u64,
                        error = %error,
                        "retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
                None => {
                    tracing::debug!(
                        method = %call.method,
                        path = call.url.path(),
                        retries,
                        error = %error,
                        "giving up"
                    );
                    return Err(error);
                }
            }
        }
    }

    fn request(
        &self,
        call: &Call,
        authorization: Option<HeaderValue>,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .header(header::ACCEPT, "application/json");
        if call.target == Target::Token {
            request = self.token_request(request)?;
        }
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        Ok(request)
    }

    /// The form (and, with [`ClientAuthMethod::Basic`], the header) of a token request.
    fn token_request(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let Authenticator::OAuth2 {
            client_id,
            client_secret,
            method,
            ..
        } = &self.auth
        else {
            return Err(config_error(
                "a token request without OAuth 2.0 credentials",
            ));
        };
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        let mut request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        match method {
            ClientAuthMethod::Body => {
                form.append_pair("client_id", client_id);
                form.append_pair("client_secret", client_secret.expose());
            }
            ClientAuthMethod::Basic => {
                // RFC 6749 section 2.3.1: both parts form-encoded before base64.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let pair = format!("{}:{}", enc(client_id), enc(client_secret.expose()));
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                let mut value =
                    HeaderValue::try_from(format!("Basic {encoded}")).map_err(|_| {
                        config_error("the client credentials cannot be sent as a header")
                    })?;
                value.set_sensitive(true);
                request = request.header(header::AUTHORIZATION, value);
            }
        }
        Ok(request.body(form.finish()))
    }

    /// The credential for one attempt of `call`; `renew` is the generation of a token the
    /// server just refused.
    async fn credential(&self, call: &Call, renew: Option<u64>) -> Result<Credential, Error> {
        let none = Credential {
            header: None,
            generation: None,
        };
        if call.target == Target::Token {
            return Ok(none);
        }
        match &self.auth {
            Authenticator::OAuth2 { cache, .. } => {
                let fetch = || self.fetch_token(call.deadline);
                let Token { header, generation } = match renew {
                    Some(refused) => cache.renew(refused, fetch).await?,
                    None => cache.get(fetch).await?,
                };
                Ok(Credential {
                    header: Some(header),
                    generation: Some(generation),
                })
            }
            Authenticator::OAuth1 {
                consumer_key,
                consumer_secret,
                token,
                token_secret,
            } => {
                let signer = Signer {
                    consumer_key,
                    consumer_secret: consumer_secret.expose(),
                    token,
                    token_secret: token_secret.expose(),
                };
                let mut value =
                    HeaderValue::try_from(signer.header(call.method.as_str(), &call.url)?)
                        .map_err(|_| {
                            config_error("the OAuth 1.0a credentials cannot be sent as a header")
                        })?;
                value.set_sensitive(true);
                Ok(Credential {
                    header: Some(value),
                    generation: None,
                })
            }
            Authenticator::Bearer(value) => Ok(Credential {
                header: Some(value.clone()),
                generation: None,
            }),
        }
    }

    /// Requests a new access token (boxed: it goes through [`Inner::send`] itself).
    fn fetch_token(
        &self,
        deadline: Option<(Duration, Instant)>,
    ) -> BoxFuture<'_, Result<Fetched, Error>> {
        Box::pin(async move {
            let Authenticator::OAuth2 { token_url, .. } = &self.auth else {
                return Err(config_error(
                    "a token request without OAuth 2.0 credentials",
                ));
            };
            tracing::debug!(path = token_url.path(), "requesting an access token");
            // The token request has its own deadline, and never outlives the call's.
            let own = self.deadline(Target::Token);
            let deadline = match (deadline, own) {
                (Some(a), Some(b)) => Some(if a.1 <= b.1 { a } else { b }),
                (a, b) => a.or(b),
            };
            let call = Call::new(Target::Token, Method::POST, token_url.clone(), deadline);
            let response = self.send(&call).await?;
            let status = response.status().as_u16();
            // The body holds the token: it is parsed here and never logged or quoted.
            let body = within(&call, read_capped(response, ERROR_BODY_CAP))
                .await?
                .map_err(|e| {
                    token_body_error(format!(
                        "the token response could not be read: {}",
                        error_chain(&e.without_url())
                    ))
                })?;
            let fetched = parse_token(status, &body).map_err(|e| self.redactor.scrub(e))?;
            self.redactor.add(fetched.access_token.expose());
            Ok(fetched)
        })
    }

    /// The error a non-success response stands for, whatever its body.
    async fn response_error(&self, call: &Call, response: Response) -> Error {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("an unnamed location")
                .to_owned();
            return self.redactor.scrub(Error::Api {
                status: Some(status),
                code: None,
                message: format!(
                    "the server redirects {} to {location}; redirects are not followed \
                     (credentials stay with the configured server): use the final address \
                     as the server URL",
                    call.url.path()
                ),
            });
        }
        let body = match within(call, read_capped(response, ERROR_BODY_CAP)).await {
            Ok(Ok(body)) => body,
            Ok(Err(e)) => {
                tracing::debug!(status, error = %error_chain(&e), "error body cut");
                Vec::new()
            }
            Err(e) => return e,
        };
        let error = classify_response(status, &body, retry_after);
        self.redactor.scrub(self.in_context(call, status, error))
    }

    /// What a 401 means depends on who was refused: the client's credentials at the token
    /// endpoint or with OAuth 1.0a, or an access token everywhere else.
    fn in_context(&self, call: &Call, status: u16, error: Error) -> Error {
        match error {
            Error::Auth {
                kind: AuthFailure::TokenRefused | AuthFailure::InvalidClient,
                status: s,
                message,
            } if status == 401 => {
                let kind = match (&self.auth, call.target) {
                    (_, Target::Token) | (Authenticator::OAuth1 { .. }, _) => {
                        AuthFailure::InvalidClient
                    }
                    _ => AuthFailure::TokenRefused,
                };
                Error::Auth {
                    kind,
                    status: s,
                    message,
                }
            }
            other => other,
        }
    }

    /// How long to wait before retrying `call` after `error`, or `None` to give up.
    fn retry_delay(&self, call: &Call, error: &Error, retries: u32) -> Option<Duration> {
        let policy = &self.config.retry;
        if retries >= policy.max_retries {
            return None;
        }
        let allowed = if call.target.idempotent() {
            error.is_retryable()
        } else {
            provably_unsent(error)
        };
        if !allowed {
            return None;
        }
        let delay = match error {
            Error::Server {
                retry_after: Some(s),
                ..
            } if *s > 0 => Duration::from_secs(*s),
            _ => backoff(policy.initial_backoff, policy.max_backoff, retries),
        };
        // `Retry-After` comes from the network: no sum with it may overflow.
        if call.started.elapsed().saturating_add(delay) > policy.max_elapsed {
            return None;
        }
        if let Some((_, at)) = call.deadline {
            if Instant::now()
                .checked_add(delay)
                .is_none_or(|then| then >= at)
            {
                return None;
            }
        }
        Some(delay)
    }
}

/// Whether the request certainly never reached the server: only then may a request that
/// is not idempotent (a drop) be sent again.
pub(crate) fn provably_unsent(error: &Error) -> bool {
    match error {
        Error::Connect { kind, .. } => *kind != ConnectFailure::Tls,
        Error::Timeout {
            kind: TimeoutKind::Connect,
            ..
        } => true,
        _ => false,
    }
}

/// Exponential backoff with jitter: a random wait between half and all of
/// `initial * 2^retry`, capped at `max`.
pub(crate) fn backoff(initial: Duration, max: Duration, retry: u32) -> Duration {
    let full = initial
        .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX))
        .min(max);
    let half = full / 2;
    let mut raw = [0u8; 4];
    let fraction = match getrandom::getrandom(&mut raw) {
        Ok(()) => f64::from(u32::from_le_bytes(raw)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    };
    half + half.mul_f64(fraction)
}

/// Runs `fut` within the call's total deadline.
pub(crate) async fn within<T>(call: &Call, fut: impl Future<Output = T>) -> Result<T, Error> {
    match call.deadline {
        None => Ok(fut.await),
        Some((total, at)) => tokio::time::timeout_at(at, fut)
            .await
            .map_err(|_| Error::Timeout {
                kind: TimeoutKind::Total,
                message: format!(
                    "{} {} took longer than its deadline of {}",
                    call.method,
                    call.url.path(),
                    human(total)
                ),
            }),
    }
}

/// Reads at most `cap` bytes of a body.
pub(crate) async fn read_capped(
    mut response: Response,
    cap: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= cap {
            break;
        }
    }
    Ok(body)
}

fn token_body_error(message: String) -> Error {
    Error::InvalidResponse {
        message,
        offset: 0,
        path: None,
        sessions_before: 0,
        truncated: false,
    }
}

/// Reads the token endpoint's success answer (see [`segura_api::parse_token_answer`]:
/// the lifetime comes clamped). Error messages never quote the body: it holds the token.
pub(crate) fn parse_token(status: u16, body: &[u8]) -> Result<Fetched, Error> {
    segura_api::parse_token_answer(status, body).map(Fetched::from)
}

/// The error for a success whose body is encoded in a way the client did not ask for
/// (reqwest decodes, and removes the header of, the gzip it asked for): a body in `br`
/// or `zstd`, or in gzip while compression is off, cannot be read, and guessing is no
/// answer.
fn unexpected_encoding(call: &Call, response: &Response) -> Option<Error> {
    let codings: Vec<String> = response
        .headers()
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty() && c != "identity")
        .collect();
    if codings.is_empty() {
        return None;
    }
    let shown: String = codings
        .join(", ")
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(60)
        .collect();
    tracing::debug!(path = call.url.path(), encoding = %shown, "unexpected content encoding");
    Some(Error::InvalidResponse {
        message: format!(
            "the server answered {} {} with a body in the content encoding {shown:?}, \
             which the client did not ask for",
            call.method,
            call.url.path()
        ),
        offset: 0,
        path: None,
        sessions_before: 0,
        truncated: false,
    })
}

/// Every message in an error's source chain, without repeats: `a: b: c`.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

fn io_kind(error: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        current = e.source();
    }
    None
}

/// Which part of the connection failed, from the error's source chain. The top-level
/// message is left out: it quotes the URL, whose host name could contain any word.
fn connect_failure(error: &reqwest::Error) -> ConnectFailure {
    let text = std::error::Error::source(error)
        .map(error_chain)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if has(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no such host",
        "nodename nor servname",
        "temporary failure in name resolution",
    ]) {
        return ConnectFailure::Dns;
    }
    if has(&[
        "certificate",
        "tls",
        "ssl",
        "handshake",
        "unknownissuer",
        "notvalidforname",
        "invalid peer",
        "alert",
        "corrupt message",
    ]) {
        return ConnectFailure::Tls;
    }
    if has(&["proxy", "tunnel"]) {
        return ConnectFailure::Proxy;
    }
    match io_kind(error) {
        Some(std::io::ErrorKind::ConnectionRefused) => ConnectFailure::Refused,
        _ if has(&["refused", "unreachable"]) => ConnectFailure::Refused,
        _ => ConnectFailure::Other,
    }
}

/// The error a failed `send` (no response) stands for.
pub(crate) fn classify_transport(error: &reqwest::Error, config: &ClientConfig) -> Error {
    let chain = error_chain(error);
    if error.is_timeout() {
        return if error.is_connect() {
            Error::Timeout {
                kind: TimeoutKind::Connect,
                message: format!(
                    "no connection within {}: {chain}",
                    human(config.connect_timeout)
                ),
            }
        } else {
            Error::Timeout {
                kind: TimeoutKind::Idle,
                message: format!(
                    "no response within the read timeout of {}: {chain}",
                    human(config.read_timeout)
                ),
            }
        };
    }
    if error.is_connect() {
        let kind = connect_failure(error);
        let message = match (kind, &config.ca_cert_path) {
            (ConnectFailure::Tls, Some(path)) => {
                format!("{chain} (trusted in addition: {})", path.display())
            }
            _ => chain,
        };
        return Error::Connect { kind, message };
    }
    if error.is_builder() {
        return config_error(chain);
    }
    Error::InvalidResponse {
        message: format!("the connection failed before a complete response arrived: {chain}"),
        offset: 0,
        path: None,
        sessions_before: 0,
        truncated: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        let ms = Duration::from_millis;
        for retry in 0..30 {
            let d = backoff(ms(100), ms(1000), retry);
            let full = ms(100 * (1u64 << retry.min(10))).min(ms(1000));
            assert!(d >= full / 2 && d <= full, "{retry}: {d:?}");
        }
    }

    #[test]
    fn token_answers() {
        let ok = parse_token(
            200,
            br#"{"token_type":"Bearer","expires_in":3600,"access_token":"abc"}"#,
        );
        assert!(
            matches!(&ok, Ok(f) if f.access_token.expose() == "abc" && f.expires_in == Some(Duration::from_secs(3600)))
        );
        let text = parse_token(200, br#"{"expires_in":"60","access_token":"abc"}"#);
        assert!(matches!(&text, Ok(f) if f.expires_in == Some(Duration::from_secs(60))));
        let none = parse_token(200, br#"{"access_token":"abc"}"#);
        assert!(matches!(&none, Ok(f) if f.expires_in.is_none()));
        let missing = parse_token(200, br#"{"token_type":"Bearer"}"#);
        assert!(matches!(missing, Err(Error::InvalidResponse { .. })));
        let error = parse_token(
            200,
            br#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
        );
        assert!(matches!(
            error,
            Err(Error::Auth {
                kind: AuthFailure::InvalidClient,
                ..
            })
        ));
        let mac = parse_token(
            200,
            br#"{"token_type":"mac","access_token":"s3cr3t-token"}"#,
        );
        assert!(matches!(&mac, Err(Error::InvalidResponse { .. })));
        // Messages never quote the body, which holds the token.
        for body in [
            &b"{\"access_token\":\"s3cr3t-token\" garbage"[..],
            b"[\"s3cr3t-token\"]",
        ] {
            let e = parse_token(200, body)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(!e.is_empty() && !e.contains("s3cr3t"), "{e}");
        }
        let e = mac.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!e.contains("s3cr3t"), "{e}");
    }

    #[test]
    fn only_connection_failures_prove_a_request_unsent() {
        let connect = |kind| Error::Connect {
            kind,
            message: String::new(),
        };
        assert!(provably_unsent(&connect(ConnectFailure::Refused)));
        assert!(provably_unsent(&connect(ConnectFailure::Dns)));
        assert!(!provably_unsent(&connect(ConnectFailure::Tls)));
        assert!(provably_unsent(&Error::Timeout {
            kind: TimeoutKind::Connect,
            message: String::new()
        }));
        assert!(!provably_unsent(&Error::Timeout {
            kind: TimeoutKind::Gateway,
            message: String::new()
        }));
        assert!(!provably_unsent(&classify_response(503, b"", None)));
    }
}
