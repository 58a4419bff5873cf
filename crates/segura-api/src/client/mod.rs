//! The generic client: [`SessionApi`] over any [`Transport`].
//!
//! [`Client`] owns everything that makes a call correct, whatever sends the bytes: the
//! OAuth 2.0 token cache with single-flight renewal, OAuth 1.0a nonces and timestamps,
//! retries and their bounds (a drop is sent again only when provably unsent, or once
//! after a 401 with a renewed token), deadlines and the idle timeout between chunks,
//! decoding, and the classification of every answer and failure into [`Error`]. The
//! requests and the meaning of answers come from [`crate::protocol`], which does no I/O;
//! this module adds the waiting (tokio's `time` and `sync` only: no sockets, no files).
//!
//! ```no_run
//! # async fn demo<T: segura_api::transport::Transport>(transport: T) -> Result<(), segura_api::Error> {
//! use segura_api::client::{Client, ClientOptions};
//! use segura_api::protocol::{Auth, ClientAuthMethod, Secret};
//! use segura_api::SessionApi;
//!
//! let auth = Auth::OAuth2 {
//!     client_id: "my-client".into(),
//!     client_secret: Secret::new("my-secret"),
//!     method: ClientAuthMethod::Body,
//! };
//! let client = Client::new(transport, ClientOptions::new("https://pam.example.com", auth))?;
//! let mut sessions = client.list_sessions().await?;
//! while let Some(session) = sessions.next_ref().await {
//!     println!("{}", session?.id);
//! }
//! # Ok(())
//! # }
//! ```

mod body;
mod options;
mod token_cache;

pub use options::{ClientOptions, RetryPolicy};

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use http::header::{HeaderValue, ETAG, IF_NONE_MATCH};
use http::{HeaderMap, Method, Request, StatusCode, Uri};
use segura_model::{
    DropResponse, RemoteSession, SessionHash, SessionId, WebSession, WebSessionRequest,
};
use tokio::time::Instant;

use self::body::{after, BodyStream};
use self::token_cache::{Fetched, Token, TokenCache};
use crate::api::{Listing, SessionApi, WebSessionApi};
use crate::error::{config_error, Error, TimeoutKind};
use crate::protocol::{
    self, ApiPrefix, ClientAuthMethod, Credentials, Endpoints, Target, WebSessionPath,
    ERROR_BODY_CAP,
};
use crate::stream::SessionStream;
use crate::text::{duration_text, Redactor};
use crate::transport::{BodyChunks, Transport, TransportResponse};
use crate::ListDecoder;

/// A client of the sessions API over the transport `T`; cheap to clone (clones share the
/// transport and the token).
pub struct Client<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.endpoints.base().as_str())
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

struct Inner<T> {
    transport: T,
    options: ClientOptions,
    endpoints: Endpoints,
    credentials: Credentials,
    cache: TokenCache,
    /// The client's secrets, scrubbed out of every error built from the server's text.
    redactor: Redactor,
    /// What the appliance answered to, remembered for the client's life.
    learned: Mutex<Learned>,
}

/// The variants an appliance was found to speak (see `docs/api.md`).
#[derive(Debug, Default, Clone, Copy)]
struct Learned {
    /// The path family of the list and get that answered.
    prefix: Option<ApiPrefix>,
    /// The token URL (its index among the candidates) and the client authentication
    /// that issued a token.
    token: Option<(usize, ClientAuthMethod)>,
    /// Whether only the older drop path answers.
    legacy_drop: bool,
    /// The web proxy session path that answered.
    web_session: Option<WebSessionPath>,
}

/// One call, across its attempts.
struct Call {
    target: Target,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    path: String,
    started: Instant,
    /// The total deadline: its length and when it runs out.
    deadline: Option<(Duration, Instant)>,
    /// Set when the call failed for want of an access token: its error is the token
    /// endpoint's, and says nothing of the call's own path (no fallback to another).
    token_failed: AtomicBool,
}

impl Call {
    fn new(target: Target, request: Request<Bytes>, deadline: Option<(Duration, Instant)>) -> Self {
        let (parts, body) = request.into_parts();
        Self {
            target,
            path: parts.uri.path().to_owned(),
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body,
            started: Instant::now(),
            deadline,
            token_failed: AtomicBool::new(false),
        }
    }

    /// Whether `error`, this call's failure, is a 404 of the call's own path (not of
    /// the token endpoint before it): only then is another path worth a try.
    fn route_missing(&self, error: &Error) -> bool {
        !self.token_failed.load(Ordering::Relaxed) && protocol::is_route_missing(error)
    }

    /// The request of one attempt, without credentials yet.
    fn request(&self) -> Request<Bytes> {
        let mut request = Request::new(self.body.clone());
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl<T: Transport> Client<T> {
    /// Builds a client; fails with [`Error::Config`] on a bad URL, empty credentials or a
    /// zero timeout. Nothing is sent yet.
    pub fn new(transport: T, options: ClientOptions) -> Result<Self, Error> {
        Self::with_redactor(transport, options, Redactor::new())
    }

    /// Like [`Client::new`], registering the secrets with (and scrubbing errors through)
    /// `redactor`, which the caller may share.
    pub fn with_redactor(
        transport: T,
        options: ClientOptions,
        redactor: Redactor,
    ) -> Result<Self, Error> {
        let (endpoints, credentials) = options.checked()?;
        options.auth.register_secrets(&redactor);
        Ok(Self {
            inner: Arc::new(Inner {
                transport,
                cache: TokenCache::new(options.token_refresh_margin),
                options,
                endpoints,
                credentials,
                redactor,
                learned: Mutex::new(Learned::default()),
            }),
        })
    }

    /// The options this client was built with.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.inner.transport
    }

    /// The client's secrets (credentials, and every access token once issued), as
    /// scrubbed out of the errors it returns.
    pub fn redactor(&self) -> &Redactor {
        &self.inner.redactor
    }

    /// The endpoints under the base URL.
    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }
}

impl<T: Transport> Inner<T> {
    /// A call with its deadline, if any.
    fn call(&self, target: Target, request: Request<Bytes>) -> Call {
        Call::new(target, request, self.deadline(target))
    }

    /// The deadline of a new call to `target`, starting now: the total timeout when set,
    /// else the call timeout for everything but a list.
    fn deadline(&self, target: Target) -> Option<(Duration, Instant)> {
        let length = match (self.options.total_timeout, target) {
            (Some(d), _) => Some(d),
            (None, Target::List) => None,
            (None, _) => Some(self.options.call_timeout),
        };
        length.map(|d| (d, after(d)))
    }

    /// Sends `call` until it succeeds (2xx) or fails for good; retries what may be retried;
    /// renews a refused OAuth 2.0 token once.
    async fn send(&self, call: &Call) -> Result<TransportResponse, Error> {
        let mut retries = 0u32;
        let mut renewed = false;
        let mut renew_from: Option<u64> = None;
        loop {
            let token = match within(call, self.token(call, renew_from.take())).await? {
                Ok(token) => token,
                Err(e) => {
                    call.token_failed.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            };
            let request = self.request(call, token.as_ref().map(|t| &t.header))?;
            tracing::debug!(
                method = %call.method,
                path = %call.path,
                attempt = retries + 1,
                "sending"
            );
            let error = match within(call, self.transport.send(request)).await? {
                Ok(response) => {
                    let status = response.status;
                    tracing::debug!(
                        method = %call.method,
                        path = %call.path,
                        status = status.as_u16(),
                        request_id = protocol::request_id(&response.headers).as_deref().unwrap_or("-"),
                        elapsed_ms = call.started.elapsed().as_millis() as u64,
                        "response"
                    );
                    let asked_etag = call.headers.contains_key(IF_NONE_MATCH);
                    if status == StatusCode::NOT_MODIFIED && asked_etag {
                        return Ok(response);
                    }
                    if status.is_success() {
                        if let Some(error) = protocol::unexpected_encoding(
                            &call.method,
                            &call.path,
                            &response.headers,
                        ) {
                            return Err(error);
                        }
                        return Ok(response);
                    }
                    if status == StatusCode::UNAUTHORIZED && !renewed {
                        if let Some(t) = &token {
                            tracing::debug!(
                                generation = t.generation,
                                "access token refused; renewing it once"
                            );
                            renewed = true;
                            renew_from = Some(t.generation);
                            continue;
                        }
                    }
                    self.response_error(call, response).await
                }
                Err(e) => e.into_error(),
            };
            match self.retry_delay(call, &error, retries) {
                Some(delay) => {
                    retries += 1;
                    tracing::debug!(
                        method = %call.method,
                        path = %call.path,
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
                        path = %call.path,
                        retries,
                        error = %error,
                        "giving up"
                    );
                    return Err(error);
                }
            }
        }
    }

    /// The request of one attempt, authenticated.
    fn request(&self, call: &Call, token: Option<&HeaderValue>) -> Result<Request<Bytes>, Error> {
        let mut request = call.request();
        if call.target == Target::Token {
            return Ok(request);
        }
        let (nonce, timestamp) = if self.credentials.is_oauth1() {
            (nonce()?, unix_time())
        } else {
            (String::new(), 0)
        };
        self.credentials
            .authorize(&mut request, token, &nonce, timestamp)?;
        Ok(request)
    }

    /// The OAuth 2.0 token for one attempt of `call`, when calls need one; `renew` is the
    /// generation of a token the server just refused.
    async fn token(&self, call: &Call, renew: Option<u64>) -> Result<Option<Token>, Error> {
        if call.target == Target::Token || !self.credentials.uses_token_endpoint() {
            return Ok(None);
        }
        let fetch = || self.fetch_token(call.deadline);
        let token = match renew {
            Some(refused) => self.cache.renew(refused, fetch).await?,
            None => self.cache.get(fetch).await?,
        };
        Ok(Some(token))
    }

    /// Requests a new access token (boxed: it goes through [`Inner::send`] itself).
    fn fetch_token(
        &self,
        deadline: Option<(Duration, Instant)>,
    ) -> BoxFuture<'_, Result<Fetched, Error>> {
        Box::pin(async move {
            let (call, response) = self.send_token_request(deadline).await?;
            let status = response.status.as_u16();
            // The body holds the token: it is parsed here and never logged or quoted.
            let body = within(&call, self.read_capped(&call, response.body))
                .await?
                .map_err(|e| match e {
                    Error::InvalidResponse { message, .. } => protocol::token_body_error(&message),
                    other => other,
                })?;
            let fetched = crate::parse_token_answer(status, &body)
                .map(Fetched::from)
                .map_err(|e| self.redactor.scrub(e))?;
            self.redactor.add(fetched.access_token.expose());
            Ok(fetched)
        })
    }

    /// Sends the token request: to the remembered URL and client authentication, else
    /// to each candidate URL in turn while they answer 404, the configured client
    /// authentication first and, when the body form is refused with `invalid_client`,
    /// once more as HTTP Basic.
    async fn send_token_request(
        &self,
        deadline: Option<(Duration, Instant)>,
    ) -> Result<(Call, TransportResponse), Error> {
        let urls = self.endpoints.token_urls(&self.options.token_url)?;
        let configured = self
            .credentials
            .client_auth_method()
            .unwrap_or(ClientAuthMethod::Body);
        let learned = self.learned().token;
        let (mut at, mut method) = learned.unwrap_or((0, configured));
        // The token request has its own deadline, and never outlives the call's.
        let own = self.deadline(Target::Token);
        let deadline = match (deadline, own) {
            (Some(a), Some(b)) => Some(if a.1 <= b.1 { a } else { b }),
            (a, b) => a.or(b),
        };
        loop {
            let url = urls.get(at).ok_or_else(|| config_error("no token URL"))?;
            let request = self.credentials.token_request_to(url, Some(method))?;
            tracing::debug!(path = url.path(), client_auth = ?method, "requesting an access token");
            let call = Call::new(Target::Token, request, deadline);
            match self.send(&call).await {
                Ok(response) => {
                    if learned != Some((at, method)) {
                        if at > 0 || method != configured {
                            tracing::debug!(
                                path = url.path(),
                                client_auth = ?method,
                                "the token endpoint answered here; using it from now on"
                            );
                        }
                        self.learned().token = Some((at, method));
                    }
                    return Ok((call, response));
                }
                Err(e)
                    if learned.is_none()
                        && protocol::is_route_missing(&e)
                        && at + 1 < urls.len() =>
                {
                    tracing::debug!(path = url.path(), error = %e, "no token endpoint here; trying the next one");
                    at += 1;
                }
                Err(Error::Auth {
                    kind: crate::error::AuthFailure::InvalidClient,
                    ..
                }) if learned.is_none() && method == ClientAuthMethod::Body => {
                    tracing::debug!(
                        path = url.path(),
                        "the client credentials in the body were refused; trying HTTP Basic once"
                    );
                    method = ClientAuthMethod::Basic;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// What was learned of the appliance so far.
    fn learned(&self) -> MutexGuard<'_, Learned> {
        self.learned.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends a list or get request under the pinned or remembered path family, else
    /// under `/api/session/…` and, when that answers 404, once under
    /// `/api/pam/session/…`; remembers the family that answered.
    async fn send_under_prefix(
        &self,
        target: Target,
        build: impl Fn(ApiPrefix) -> Result<Request<Bytes>, Error>,
    ) -> Result<(Call, TransportResponse), Error> {
        let known = self.options.api_prefix.or(self.learned().prefix);
        let first = known.unwrap_or(ApiPrefix::Session);
        let call = self.call(target, build(first)?);
        match self.send(&call).await {
            Ok(response) => {
                if known.is_none() {
                    self.learned().prefix = Some(first);
                }
                Ok((call, response))
            }
            Err(e) if known.is_none() && call.route_missing(&e) => {
                let other = first.other();
                tracing::debug!(
                    path = %call.path,
                    error = %e,
                    "trying the other path family, {}", other.as_path()
                );
                let call = self.call(target, build(other)?);
                let response = self.send(&call).await?;
                tracing::debug!(
                    "the appliance answers under {} ({} answered 404); using it from now on",
                    other.as_path(),
                    first.as_path()
                );
                self.learned().prefix = Some(other);
                Ok((call, response))
            }
            Err(e) => Err(e),
        }
    }

    /// A body with the idle timeout and the call's deadline enforced between chunks.
    fn body(&self, call: &Call, body: BodyChunks) -> BodyStream<BodyChunks> {
        BodyStream::new(
            body,
            self.options.idle_timeout,
            call.deadline,
            call.path.clone(),
        )
    }

    /// Reads at most [`ERROR_BODY_CAP`] bytes of a body.
    async fn read_capped(&self, call: &Call, body: BodyChunks) -> Result<Vec<u8>, Error> {
        let mut stream = self.body(call, body);
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            let room = ERROR_BODY_CAP.saturating_sub(out.len());
            out.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if out.len() >= ERROR_BODY_CAP {
                break;
            }
        }
        Ok(out)
    }

    /// The error a non-success response stands for, whatever its body.
    async fn response_error(&self, call: &Call, response: TransportResponse) -> Error {
        let TransportResponse {
            status,
            headers,
            body,
        } = response;
        let id = protocol::request_id(&headers);
        if status == StatusCode::NOT_MODIFIED {
            return protocol::with_request_id(
                protocol::unasked_not_modified(&call.path),
                id.as_deref(),
            );
        }
        if status.is_redirection() {
            let error = protocol::redirect_error(&call.path, status, &headers);
            return self
                .redactor
                .scrub(protocol::with_request_id(error, id.as_deref()));
        }
        let body = match within(call, self.read_capped(call, body)).await {
            Ok(Ok(body)) => body,
            Ok(Err(e)) => {
                tracing::debug!(status = status.as_u16(), error = %e, "error body cut");
                Vec::new()
            }
            Err(e) => return e,
        };
        let mut error = protocol::response_error(
            call.target,
            self.credentials.is_oauth1(),
            status,
            &headers,
            &body,
        );
        if let Error::Server {
            status: 429,
            retry_after,
            ..
        } = &mut error
        {
            *retry_after = protocol::rate_limit_wait(&headers, unix_time());
        }
        self.redactor
            .scrub(protocol::with_request_id(error, id.as_deref()))
    }

    /// How long to wait before retrying `call` after `error`, or `None` to give up.
    fn retry_delay(&self, call: &Call, error: &Error, retries: u32) -> Option<Duration> {
        let policy = &self.options.retry;
        if retries >= policy.max_retries || !protocol::may_retry(call.target, error) {
            return None;
        }
        let delay = match error {
            Error::Server {
                retry_after: Some(s),
                ..
            } if *s > 0 => Duration::from_secs(*s),
            _ => protocol::backoff(
                policy.initial_backoff,
                policy.max_backoff,
                retries,
                random_fraction(),
            ),
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

/// A random number in `0..=1` for the backoff's jitter (0.5 without randomness).
fn random_fraction() -> f64 {
    let mut raw = [0u8; 4];
    match getrandom::getrandom(&mut raw) {
        Ok(()) => f64::from(u32::from_le_bytes(raw)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    }
}

/// A fresh OAuth 1.0a nonce: 16 random bytes in hex.
fn nonce() -> Result<String, Error> {
    let mut raw = [0u8; 16];
    getrandom::getrandom(&mut raw)
        .map_err(|e| config_error(format!("no randomness for the OAuth 1.0a nonce: {e}")))?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

/// Seconds since the Unix epoch, for OAuth 1.0a.
fn unix_time() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Runs `fut` within the call's total deadline.
async fn within<F: Future>(call: &Call, fut: F) -> Result<F::Output, Error> {
    match call.deadline {
        None => Ok(fut.await),
        Some((total, at)) => tokio::time::timeout_at(at, fut)
            .await
            .map_err(|_| Error::Timeout {
                kind: TimeoutKind::Total,
                message: format!(
                    "{} {} took longer than its deadline of {}",
                    call.method,
                    call.path,
                    duration_text(total)
                ),
                cause: None,
            }),
    }
}

#[async_trait]
impl<T: Transport> SessionApi for Client<T> {
    /// Sends `GET /api/session/remotesessions` (retrying what may be retried) and returns
    /// the body as a stream once the headers say 200. From then on nothing is retried:
    /// sessions may already have reached the caller. A body cut midway ends the stream
    /// with [`Error::InvalidResponse`] `{ truncated: true, .. }` after the sessions that
    /// arrived; silence longer than the idle timeout ends it with [`Error::Timeout`]
    /// (`Idle`), and the total deadline, if set, with [`Error::Timeout`] (`Total`).
    async fn list_sessions(&self) -> Result<SessionStream, Error> {
        let inner = &self.inner;
        let (call, response) = inner
            .send_under_prefix(Target::List, |p| {
                protocol::list_request_at(&inner.endpoints, p)
            })
            .await?;
        let body = inner.body(&call, response.body);
        Ok(SessionStream::new(Box::pin(body)).redacting(inner.redactor.clone()))
    }

    /// Like `list_sessions`, with `If-None-Match: etag` when `etag` is given; a `304`
    /// is [`Listing::NotModified`] (its body, if any, unread). The ETag is sent back
    /// as it came (only when it is a valid header value).
    async fn list_if_changed(&self, etag: Option<String>) -> Result<Listing, Error> {
        let inner = &self.inner;
        let condition = etag.and_then(|t| HeaderValue::from_str(&t).ok());
        let (call, response) = inner
            .send_under_prefix(Target::List, |p| {
                let mut request = protocol::list_request_at(&inner.endpoints, p)?;
                if let Some(value) = &condition {
                    request.headers_mut().insert(IF_NONE_MATCH, value.clone());
                }
                Ok(request)
            })
            .await?;
        if response.status == StatusCode::NOT_MODIFIED {
            tracing::debug!(path = %call.path, "304 Not Modified: the list is unchanged");
            return Ok(Listing::NotModified);
        }
        let etag = response
            .headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = inner.body(&call, response.body);
        Ok(Listing::Changed {
            etag,
            sessions: Box::new(
                SessionStream::new(Box::pin(body)).redacting(inner.redactor.clone()),
            ),
        })
    }

    async fn get_session(&self, id: SessionId) -> Result<RemoteSession, Error> {
        let inner = &self.inner;
        let (call, response) = inner
            .send_under_prefix(Target::Get, |p| {
                protocol::get_request_at(&inner.endpoints, p, id)
            })
            .await?;
        let body = inner.body(&call, response.body);
        // Read to the end (an error envelope or a cut may come after the session), and
        // accept only the session asked for.
        SessionStream::with_decoder(Box::pin(body), ListDecoder::for_get())
            .redacting(inner.redactor.clone())
            .single(id)
            .await
    }

    /// Sends `DELETE /api/pam/session/drop/{session_id}`, again only if the first attempt
    /// provably never reached the server, or was refused with HTTP 401 (then once, with
    /// a renewed OAuth 2.0 token: a 401 is a refusal before anything happened). Only a
    /// recognised success is `Ok` (see [`crate::parse_drop_answer`]); any other answer
    /// is [`Error::InvalidResponse`]: the session may or may not have been dropped.
    async fn drop_session(&self, session: &SessionHash) -> Result<DropResponse, Error> {
        let inner = &self.inner;
        let legacy = inner.learned().legacy_drop;
        let request = if legacy {
            protocol::legacy_drop_request(&inner.endpoints, session)?
        } else {
            protocol::drop_request(&inner.endpoints, session)?
        };
        let call = inner.call(Target::Drop, request);
        let first = inner.drop_once(&call).await;
        match first {
            // A 404 is a refusal before anything happened: the older path is safe to
            // try, once. Nothing else is (the drop may have arrived).
            Err(e) if !legacy && call.route_missing(&e) => {
                tracing::debug!(error = %e, "the drop path answered 404; trying the older one, /iso/session/drop/");
                let request = protocol::legacy_drop_request(&inner.endpoints, session)?;
                let answer = inner.drop_once(&inner.call(Target::Drop, request)).await?;
                tracing::debug!(
                    "the appliance drops under /iso/session/drop/; using it from now on"
                );
                inner.learned().legacy_drop = true;
                Ok(answer)
            }
            other => other,
        }
    }
}

impl<T: Transport> Inner<T> {
    /// One drop call: sent again only when provably unsent or after a 401 (see
    /// [`SessionApi::drop_session`] on [`Client`]), its answer read.
    async fn drop_once(&self, call: &Call) -> Result<DropResponse, Error> {
        let inner = self;
        let response = inner.send(call).await?;
        let status = response.status.as_u16();
        let body = match within(call, inner.read_capped(call, response.body)).await? {
            Ok(body) => body,
            Err(Error::InvalidResponse { message, .. }) => {
                return Err(inner.redactor.scrub(protocol::drop_cut(&message)))
            }
            Err(other) => return Err(other),
        };
        crate::parse_drop_answer(status, &body).map_err(|e| inner.redactor.scrub(e))
    }
}

#[async_trait]
impl<T: Transport> WebSessionApi for Client<T> {
    /// Sends `POST /api/pam/remote/session` and, when that path answers 404 (gateway or
    /// envelope), once `POST /api/remote/session` (3.33); remembers the path that
    /// answered. Like a drop, it is sent again only when provably unsent or after a 401
    /// (a second session would be a live credential nobody asked for). The URL and the
    /// token are registered with the client's redactor before anything else is done
    /// with the answer, so no error or log of this client ever shows them.
    async fn open_web_session(&self, request: &WebSessionRequest) -> Result<WebSession, Error> {
        let inner = &self.inner;
        protocol::check_web_session_request(request)?;
        let known = inner.learned().web_session;
        let paths: &[WebSessionPath] = match &known {
            Some(p) => std::slice::from_ref(p),
            None => &WebSessionPath::ALL,
        };
        let mut last = None;
        for (i, path) in paths.iter().enumerate() {
            let built = protocol::web_session_request(&inner.endpoints, *path, request)?;
            let call = inner.call(Target::WebSession, built);
            match inner.web_session_once(&call).await {
                Ok(session) => {
                    if known.is_none() {
                        if i > 0 {
                            tracing::debug!(
                                "the appliance creates web proxy sessions under {}; using it from now on",
                                path.as_path()
                            );
                        }
                        inner.learned().web_session = Some(*path);
                    }
                    return Ok(session);
                }
                // A 404 is a refusal before anything happened: the next path is safe.
                Err(e) if known.is_none() && call.route_missing(&e) && i + 1 < paths.len() => {
                    tracing::debug!(path = path.as_path(), error = %e, "no web proxy session endpoint here; trying the older path");
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| config_error("no web proxy session path")))
    }
}

impl<T: Transport> Inner<T> {
    /// One web proxy session call, its answer read and its secrets registered.
    async fn web_session_once(&self, call: &Call) -> Result<WebSession, Error> {
        let response = match self.send(call).await {
            Ok(r) => r,
            Err(e) => return Err(protocol::web_session_refusal(e)),
        };
        let status = response.status.as_u16();
        let body = within(call, self.read_capped(call, response.body)).await??;
        let session = protocol::parse_web_session_answer(status, &body, &self.endpoints)
            .map_err(|e| self.redactor.scrub(e))?;
        protocol::register_web_session(&self.redactor, &session);
        Ok(session)
    }
}
