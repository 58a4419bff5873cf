//! The server: listening, connections (plain and TLS), routing, handlers,
//! and the [`MockServer`] handle tests hold.

use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::body::{full, Body, ConnInfo, Producer, Source};
use crate::config::{MockConfig, MockError};
use crate::envelope;
use crate::fault::{parse_fault_list, Fault, FaultPlan, FaultTarget, FAULT_HEADER};
use crate::generator::{Generator, ListSource};
use crate::oauth1::{self, Oauth1Credentials, Oauth1Request};
use crate::state::{bump, lock, MockStats, Shared, TokenCheck};

/// Largest token request body read.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A running mock PAM Core server.
///
/// Started with [`MockServer::start`] inside a Tokio runtime, or with
/// [`MockServer::start_blocking`] from synchronous code (the server then has
/// a runtime on its own thread). Stops with [`MockServer::shutdown`] or when
/// dropped; open connections are closed either way.
pub struct MockServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    url: String,
    ca_cert_pem: Option<String>,
    shutdown_tx: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A started listener, before someone drives its accept loop.
struct Launched {
    server: MockServer,
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    shutdown_rx: watch::Receiver<bool>,
}

async fn launch(config: MockConfig) -> Result<Launched, MockError> {
    let (acceptor, ca_cert_pem) = if config.tls {
        let (server_config, ca) = crate::tls::generate()?;
        (Some(TlsAcceptor::from(server_config)), Some(ca))
    } else {
        (None, None)
    };
    let wanted = SocketAddr::new(config.bind, config.port);
    let listener = TcpListener::bind(wanted)
        .await
        .map_err(|source| MockError::Bind {
            addr: wanted,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| MockError::Bind {
        addr: wanted,
        source,
    })?;
    // A wildcard bind is reached through loopback.
    let shown = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let scheme = if config.tls { "https" } else { "http" };
    let url = format!("{scheme}://{}", SocketAddr::new(shown, addr.port()));
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    Ok(Launched {
        server: MockServer {
            shared: Arc::new(Shared::new(&config)),
            addr,
            url,
            ca_cert_pem,
            shutdown_tx,
            task: None,
            thread: None,
        },
        listener,
        acceptor,
        shutdown_rx,
    })
}

impl MockServer {
    /// Starts a server on the current Tokio runtime and returns once it
    /// listens.
    pub async fn start(config: MockConfig) -> Result<MockServer, MockError> {
        let launched = launch(config).await?;
        let mut server = launched.server;
        server.task = Some(tokio::spawn(accept_loop(
            launched.listener,
            server.shared.clone(),
            launched.acceptor,
            launched.shutdown_rx,
        )));
        Ok(server)
    }

    /// Starts a server on a runtime of its own, in a background thread, for
    /// synchronous tests (for example tests that run the CLI binary). It may
    /// be called from anywhere, inside a Tokio runtime or not.
    pub fn start_blocking(config: MockConfig) -> Result<MockServer, MockError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("segura-mock".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("segura-mock-worker")
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(MockError::Runtime(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match launch(config).await {
                        Ok(launched) => {
                            let shared = launched.server.shared.clone();
                            if ready_tx.send(Ok(launched.server)).is_ok() {
                                accept_loop(
                                    launched.listener,
                                    shared,
                                    launched.acceptor,
                                    launched.shutdown_rx,
                                )
                                .await;
                            }
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
                // Dropping the runtime here cancels every connection task.
            })
            .map_err(MockError::Runtime)?;
        let mut server = ready_rx.recv().map_err(|_| {
            MockError::Runtime(std::io::Error::other("the server thread ended early"))
        })??;
        server.thread = Some(thread);
        Ok(server)
    }

    /// The base URL clients use: `http://127.0.0.1:PORT` (or `https://`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The OAuth 2.0 client id the token endpoint accepts.
    pub fn client_id(&self) -> &str {
        &self.shared.client_id
    }

    /// The OAuth 2.0 client secret the token endpoint accepts.
    pub fn client_secret(&self) -> &str {
        &self.shared.client_secret
    }

    /// The OAuth 1.0a credentials API requests may be signed with.
    pub fn oauth1_credentials(&self) -> &Oauth1Credentials {
        &self.shared.oauth1
    }

    /// The PEM of the CA that signed the server certificate, when serving TLS.
    pub fn ca_cert_pem(&self) -> Option<&str> {
        self.ca_cert_pem.as_deref()
    }

    /// The generator behind the dataset, to compute expected sessions
    /// (ids, hashes, bytes) in tests.
    pub fn generator(&self) -> &Generator {
        &self.shared.generator
    }

    /// The `tenant` of response envelopes.
    pub fn tenant(&self) -> &str {
        &self.shared.tenant
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> MockStats {
        self.shared.stats()
    }

    /// Adds a standing fault for `target`, replacing a standing fault of the
    /// same kind for the same target. It applies until [`clear_faults`].
    ///
    /// [`clear_faults`]: MockServer::clear_faults
    pub fn set_fault(&self, target: FaultTarget, fault: Fault) {
        lock(&self.shared.faults).set(target, fault);
    }

    /// Applies `fault` to the next `n` requests matching `target`, then
    /// behaves normally. Queued faults are consumed in order, one per request.
    pub fn push_faults(&self, n: u64, target: FaultTarget, fault: Fault) {
        lock(&self.shared.faults).push(n, target, fault);
    }

    /// Removes every standing and queued fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Makes every access token issued so far expire now.
    pub fn expire_tokens(&self) {
        self.shared.revoke_all_tokens();
    }

    /// How many sessions the list holds now.
    pub fn session_count(&self) -> u64 {
        self.shared.session_count()
    }

    /// Grows (or shrinks) the list to `count` sessions. New sessions come from
    /// the same generator: the first `n` sessions never change.
    pub fn set_session_count(&self, count: u64) {
        self.shared.session_count.store(count, Ordering::Relaxed);
    }

    /// Ends every session that is open now: they get an `end` and a `time`.
    /// Sessions added later may be open.
    pub fn end_open_sessions(&self) {
        self.shared.end_all_open();
    }

    /// Ends the session with numeric id `id` if it is open; false if no
    /// current session has that id.
    pub fn end_session(&self, id: u64) -> bool {
        match self.shared.generator.index_of_id(id) {
            Some(index) => self.shared.end_index(index),
            None => false,
        }
    }

    /// Stops accepting connections, closes open ones and waits for the server
    /// to finish.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    /// [`shutdown`](MockServer::shutdown) for synchronous code: signals the
    /// server and, for a [`start_blocking`](MockServer::start_blocking)
    /// server, waits for its thread.
    pub fn shutdown_blocking(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for MockServer {
    /// Names the server without printing its secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("url", &self.url)
            .field("client_id", &self.shared.client_id)
            .field("client_secret", &"<redacted>")
            .field("sessions", &self.shared.session_count())
            .field("seed", &self.shared.generator.seed())
            .finish_non_exhaustive()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    acceptor: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve_connection(stream, shared.clone(), acceptor.clone()));
                }
                // Out of file descriptors and the like: let it pass.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
        while connections.try_join_next().is_some() {}
    }
    connections.shutdown().await;
}

/// A TCP stream that sends a RST instead of a FIN when closed after a
/// `reset-after` fault.
struct ResettableStream {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>, acceptor: Option<TlsAcceptor>) {
    let _ = stream.set_nodelay(true);
    let reset = Arc::new(AtomicBool::new(false));
    let conn = Arc::new(ConnInfo {
        reset: reset.clone(),
        tls: acceptor.is_some(),
    });
    let io = ResettableStream {
        inner: stream,
        reset,
    };
    let service = hyper::service::service_fn(move |req| {
        let shared = shared.clone();
        let conn = conn.clone();
        async move { Ok::<_, Infallible>(handle(shared, conn, req).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).keep_alive(true);
    match acceptor {
        Some(acceptor) => {
            let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(io));
            if let Ok(Ok(tls)) = handshake.await {
                let _ = builder.serve_connection(TokioIo::new(tls), service).await;
            }
        }
        None => {
            let _ = builder.serve_connection(TokioIo::new(io), service).await;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Token,
    List,
    Get(String),
    Drop(String),
    Unknown,
}

impl Route {
    fn target(&self) -> Option<FaultTarget> {
        match self {
            Route::Token => Some(FaultTarget::Token),
            Route::List => Some(FaultTarget::List),
            Route::Get(_) => Some(FaultTarget::Get),
            Route::Drop(_) => Some(FaultTarget::Drop),
            Route::Unknown => None,
        }
    }
}

fn last_segment<'p>(path: &'p str, prefixes: &[&str]) -> Option<&'p str> {
    prefixes
        .iter()
        .filter_map(|prefix| path.strip_prefix(prefix))
        .find(|rest| !rest.is_empty() && !rest.contains('/'))
}

fn decode_segment(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

fn route(method: &Method, path: &str) -> Route {
    let path = match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    };
    const LISTS: [&str; 2] = [
        "/api/session/remotesessions",
        "/api/pam/session/remotesessions",
    ];
    const GETS: [&str; 2] = [
        "/api/session/remotesessions/",
        "/api/pam/session/remotesessions/",
    ];
    const DROPS: [&str; 2] = ["/api/pam/session/drop/", "/iso/session/drop/"];
    if *method == Method::POST && path == "/iso/oauth2/token" {
        Route::Token
    } else if *method == Method::GET && LISTS.contains(&path) {
        Route::List
    } else if *method == Method::GET {
        last_segment(path, &GETS)
            .map(|id| Route::Get(decode_segment(id)))
            .unwrap_or(Route::Unknown)
    } else if *method == Method::DELETE {
        last_segment(path, &DROPS)
            .map(|hash| Route::Drop(decode_segment(hash)))
            .unwrap_or(Route::Unknown)
    } else {
        Route::Unknown
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    respond(status, "application/json", full(body))
}

fn no_route(shared: &Shared) -> Response<Body> {
    bump(&shared.counters.no_route);
    json(StatusCode::NOT_FOUND, envelope::NO_ROUTE)
}

fn unauthorized(shared: &Shared) -> Response<Body> {
    bump(&shared.counters.unauthorized);
    let mut response = json(StatusCode::UNAUTHORIZED, envelope::INVALID_TOKEN);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    response
}

/// The response a status fault stands for.
fn status_fault_response(fault: &Fault, tenant: &str) -> Option<(StatusCode, &'static str, Bytes)> {
    const JSON: &str = "application/json";
    const HTML: &str = "text/html; charset=utf-8";
    let unexpected = || {
        Bytes::from(envelope::error_envelope(
            tenant,
            500,
            "Unexpected error.",
            None,
        ))
    };
    Some(match fault {
        Fault::InternalError => (StatusCode::INTERNAL_SERVER_ERROR, JSON, unexpected()),
        Fault::ErrorIn200 => (StatusCode::OK, JSON, unexpected()),
        Fault::BadGateway => (
            StatusCode::BAD_GATEWAY,
            HTML,
            Bytes::from_static(envelope::BAD_GATEWAY_HTML.as_bytes()),
        ),
        Fault::ServiceUnavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            JSON,
            Bytes::from_static(envelope::SERVICE_UNAVAILABLE.as_bytes()),
        ),
        Fault::GatewayTimeout => (
            StatusCode::GATEWAY_TIMEOUT,
            JSON,
            Bytes::from_static(envelope::GATEWAY_TIMEOUT.as_bytes()),
        ),
        Fault::RequestTimeout => (
            StatusCode::REQUEST_TIMEOUT,
            JSON,
            Bytes::from_static(envelope::REQUEST_TIMEOUT.as_bytes()),
        ),
        Fault::TooManyRequests { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            JSON,
            Bytes::from_static(envelope::RATE_LIMITED.as_bytes()),
        ),
        Fault::Forbidden => (
            StatusCode::FORBIDDEN,
            JSON,
            Bytes::from(envelope::error_envelope(
                tenant,
                403,
                "You are not authorized to access this resource.",
                None,
            )),
        ),
        Fault::NotFound => (
            StatusCode::NOT_FOUND,
            JSON,
            Bytes::from(envelope::error_envelope(
                tenant,
                404,
                "Resource sub not found",
                None,
            )),
        ),
        Fault::NotJson => (
            StatusCode::OK,
            HTML,
            Bytes::from_static(envelope::NOT_JSON_HTML.as_bytes()),
        ),
        _ => return None,
    })
}

/// One request's context once routed.
struct Ctx {
    shared: Arc<Shared>,
    conn: Arc<ConnInfo>,
    plan: FaultPlan,
}

impl Ctx {
    /// Sends a small body, applying the plan's body faults.
    async fn finish(
        &self,
        status: StatusCode,
        content_type: &'static str,
        data: Bytes,
    ) -> Response<Body> {
        if let Some(delay) = self.plan.delay {
            tokio::time::sleep(delay).await;
        }
        if !self.plan.shapes_body() {
            return respond(status, content_type, full(data));
        }
        let end = match self.plan.cut {
            Some(_) => data.len() / 2,
            None => data.len(),
        };
        let body = Producer::spawn(
            Source::Bytes { data, end },
            &self.plan,
            false,
            self.conn.clone(),
            self.shared.clone(),
        );
        respond(status, content_type, body)
    }

    async fn finish_json(&self, status: StatusCode, data: impl Into<Bytes>) -> Response<Body> {
        self.finish(status, "application/json", data.into()).await
    }
}

async fn handle(
    shared: Arc<Shared>,
    conn: Arc<ConnInfo>,
    req: Request<Incoming>,
) -> Response<Body> {
    bump(&shared.counters.requests);
    let route = route(req.method(), req.uri().path());
    let Some(target) = route.target() else {
        return no_route(&shared);
    };
    match &route {
        Route::Token => bump(&shared.counters.token_requests),
        Route::List => bump(&shared.counters.list_requests),
        Route::Get(_) => bump(&shared.counters.get_requests),
        Route::Drop(_) => bump(&shared.counters.drop_requests),
        Route::Unknown => {}
    }

    let header_faults = match req.headers().get(FAULT_HEADER) {
        None => None,
        Some(value) => match value
            .to_str()
            .map_err(|e| e.to_string())
            .and_then(|v| parse_fault_list(v).map_err(|e| e.to_string()))
        {
            Ok(faults) => Some(faults),
            Err(reason) => {
                let body = serde_json::json!({
                    "message": format!("segura-mock: bad {FAULT_HEADER} header: {reason}")
                });
                return json(StatusCode::BAD_REQUEST, body.to_string());
            }
        },
    };

    if target == FaultTarget::Token {
        let plan = plan_for(&shared, target, header_faults);
        let ctx = Ctx { shared, conn, plan };
        if let Some(response) = status_fault(&ctx).await {
            return response;
        }
        return token(&ctx, req).await;
    }

    // The gateway routes API calls on the presence of credentials.
    let Some(authorization) = req.headers().get(header::AUTHORIZATION).cloned() else {
        return no_route(&shared);
    };
    let bearer = match authenticate(&shared, &conn, &req, &authorization) {
        Ok(bearer) => bearer,
        Err(Denied::Token) => return unauthorized(&shared),
        Err(Denied::Signature(reason)) => return oauth1_rejected(&shared, &reason),
    };
    let plan = plan_for(&shared, target, header_faults);
    if plan.expire_token {
        if let Some(token) = &bearer {
            shared.revoke_token(token);
        }
        return unauthorized(&shared);
    }
    let ctx = Ctx { shared, conn, plan };
    if let Some(response) = status_fault(&ctx).await {
        return response;
    }
    let gzip = accepts_gzip(&req);
    match route {
        Route::List => list(&ctx, gzip),
        Route::Get(id) => get(&ctx, &id).await,
        Route::Drop(hash) => drop_session(&ctx, &hash).await,
        Route::Token | Route::Unknown => no_route(&ctx.shared),
    }
}

/// The faults for one request: the header's if it has one (queue and
/// standing faults then untouched), else the queue's and the standing ones.
fn plan_for(shared: &Shared, target: FaultTarget, header: Option<Vec<Fault>>) -> FaultPlan {
    let plan = match header {
        Some(faults) => {
            let mut plan = FaultPlan::default();
            for fault in faults.iter().filter(|f| f.applies_to(target)) {
                plan.add(fault);
            }
            plan
        }
        None => lock(&shared.faults).plan_for(target),
    };
    shared
        .counters
        .faults_served
        .fetch_add(plan.count, Ordering::Relaxed);
    plan
}

async fn status_fault(ctx: &Ctx) -> Option<Response<Body>> {
    let fault = ctx.plan.status.as_ref()?;
    let (status, content_type, body) = status_fault_response(fault, &ctx.shared.tenant)?;
    let mut response = ctx.finish(status, content_type, body).await;
    if let Fault::TooManyRequests { retry_after } = fault {
        if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    Some(response)
}

/// Why API credentials were refused.
enum Denied {
    /// Unknown, expired or revoked bearer token, or an unknown scheme.
    Token,
    /// An OAuth 1.0a signature that did not verify, and why.
    Signature(String),
}

/// Checks the API credentials; returns the bearer token used, if any.
fn authenticate(
    shared: &Shared,
    conn: &ConnInfo,
    req: &Request<Incoming>,
    authorization: &HeaderValue,
) -> Result<Option<String>, Denied> {
    let Ok(value) = authorization.to_str() else {
        return Err(Denied::Token);
    };
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("Bearer") {
        let token = rest.trim();
        return match shared.use_token(token) {
            TokenCheck::Valid => Ok(Some(token.to_owned())),
            TokenCheck::Invalid => Err(Denied::Token),
        };
    }
    if scheme.eq_ignore_ascii_case("OAuth") {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let scheme = if conn.tls { "https" } else { "http" };
        let url = format!("{scheme}://{host}{path}");
        let request = Oauth1Request {
            method: req.method().as_str(),
            url: &url,
            authorization: value,
            form_body: None,
        };
        return match oauth1::verify(&request, &shared.oauth1) {
            Ok(verified) if shared.fresh_nonce(verified.timestamp, &verified.nonce) => {
                bump(&shared.counters.oauth1_verified);
                Ok(None)
            }
            Ok(_) => {
                bump(&shared.counters.oauth1_rejected);
                Err(Denied::Signature("oauth_nonce already used".to_owned()))
            }
            Err(e) => {
                bump(&shared.counters.oauth1_rejected);
                Err(Denied::Signature(e.to_string()))
            }
        };
    }
    Err(Denied::Token)
}

fn oauth1_rejected(shared: &Shared, reason: &str) -> Response<Body> {
    bump(&shared.counters.unauthorized);
    let body = serde_json::json!({
        "error": "invalid_request",
        "error_description": reason,
        "message": "Client authentication failed",
    });
    let mut response = json(StatusCode::UNAUTHORIZED, body.to_string());
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("OAuth realm=\"segura\""),
    );
    response
}

fn accepts_gzip(req: &Request<Incoming>) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            coding.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn list(ctx: &Ctx, gzip: bool) -> Response<Body> {
    let shared = &ctx.shared;
    let source = ListSource::new(
        shared.generator.clone(),
        &shared.tenant,
        shared.session_count(),
        shared.ended(),
        ctx.plan.cut.map(|(n, _)| n),
    );
    if gzip {
        bump(&shared.counters.gzip_responses);
    }
    let body = Producer::spawn(
        Source::List {
            list: source,
            delay: ctx.plan.delay,
        },
        &ctx.plan,
        gzip,
        ctx.conn.clone(),
        shared.clone(),
    );
    let mut response = respond(StatusCode::OK, "application/json", body);
    if gzip {
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

async fn get(ctx: &Ctx, id: &str) -> Response<Body> {
    let shared = &ctx.shared;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return ctx
            .finish_json(
                StatusCode::BAD_REQUEST,
                envelope::unexpected_identifier(&shared.tenant),
            )
            .await;
    }
    let index = id
        .parse::<u64>()
        .ok()
        .and_then(|id| shared.generator.index_of_id(id))
        .filter(|index| *index < shared.session_count());
    let Some(index) = index else {
        return ctx
            .finish_json(
                StatusCode::BAD_REQUEST,
                envelope::session_not_found(&shared.tenant),
            )
            .await;
    };
    let mut session = Vec::with_capacity(512);
    let ended = shared.ended().contains(index);
    shared.generator.write_session(index, ended, &mut session);
    ctx.finish_json(
        StatusCode::OK,
        envelope::one_session(&shared.tenant, &session),
    )
    .await
}

async fn drop_session(ctx: &Ctx, hash: &str) -> Response<Body> {
    let shared = &ctx.shared;
    if hash.len() != 40 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return ctx
            .finish_json(
                StatusCode::BAD_REQUEST,
                envelope::unexpected_identifier(&shared.tenant),
            )
            .await;
    }
    let found = shared
        .generator
        .index_of_hash(hash)
        .filter(|index| shared.end_index(*index));
    if found.is_none() {
        return ctx
            .finish_json(
                StatusCode::BAD_REQUEST,
                envelope::session_not_found(&shared.tenant),
            )
            .await;
    }
    bump(&shared.counters.sessions_dropped);
    ctx.finish_json(StatusCode::OK, envelope::dropped(&shared.tenant))
        .await
}

/// `(client_id, client_secret)` from an HTTP Basic header, decoding the
/// form-urlencoding RFC 6749 section 2.3.1 asks clients to apply.
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn form_decode(s: &str) -> String {
    oauth1::parse_form(format!("x={s}").as_bytes())
        .pop()
        .map(|(_, v)| v)
        .unwrap_or_default()
}

fn token_error(
    shared: &Shared,
    status: StatusCode,
    error: &str,
    description: &str,
) -> Response<Body> {
    bump(&shared.counters.token_rejections);
    let body = serde_json::json!({
        "error": error,
        "error_description": description,
        "message": description,
    });
    json(status, body.to_string())
}

async fn token(ctx: &Ctx, req: Request<Incoming>) -> Response<Body> {
    let shared = &ctx.shared;
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(basic_credentials);
    let body = match Limited::new(req.into_body(), MAX_FORM_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return token_error(
                shared,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request body could not be read",
            )
        }
    };
    let form = oauth1::parse_form(&body);
    let field = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    match field("grant_type") {
        Some("client_credentials") => {}
        None => {
            return token_error(
                shared,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The grant type was not specified in the request",
            )
        }
        Some(_) => {
            return token_error(
                shared,
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            )
        }
    }
    let used_basic = basic.is_some();
    let accepted = match &basic {
        Some((id, secret)) => {
            let exact = *id == shared.client_id && *secret == shared.client_secret;
            exact
                || (form_decode(id) == shared.client_id
                    && form_decode(secret) == shared.client_secret)
        }
        None => {
            field("client_id") == Some(shared.client_id.as_str())
                && field("client_secret") == Some(shared.client_secret.as_str())
        }
    };
    if !accepted {
        bump(&shared.counters.token_rejections);
        let mut response = json(StatusCode::UNAUTHORIZED, envelope::INVALID_CLIENT);
        if used_basic {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"segura\""),
            );
        }
        return response;
    }
    let token = shared.issue_token();
    let lifetime = shared.token_lifetime;
    let expires_in = lifetime.as_secs() + u64::from(lifetime.subsec_nanos() > 0);
    let body = format!(
        "{{\"token_type\":\"Bearer\",\"expires_in\":{expires_in},\"access_token\":\"{token}\"}}"
    );
    let mut response = ctx.finish_json(StatusCode::OK, body).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let get = Method::GET;
        assert_eq!(route(&Method::POST, "/iso/oauth2/token"), Route::Token);
        assert_eq!(route(&get, "/iso/oauth2/token"), Route::Unknown);
        assert_eq!(route(&get, "/api/session/remotesessions"), Route::List);
        assert_eq!(route(&get, "/api/session/remotesessions/"), Route::List);
        assert_eq!(route(&get, "/api/pam/session/remotesessions"), Route::List);
        assert_eq!(
            route(&get, "/api/session/remotesessions/42"),
            Route::Get("42".into())
        );
        assert_eq!(
            route(&get, "/api/pam/session/remotesessions/a%20b"),
            Route::Get("a b".into())
        );
        assert_eq!(
            route(&get, "/api/session/remotesessions/1/2"),
            Route::Unknown
        );
        assert_eq!(
            route(&Method::DELETE, "/api/pam/session/drop/abc"),
            Route::Drop("abc".into())
        );
        assert_eq!(
            route(&Method::DELETE, "/iso/session/drop/abc"),
            Route::Drop("abc".into())
        );
        assert_eq!(
            route(&Method::DELETE, "/api/pam/session/drop/"),
            Route::Unknown
        );
        assert_eq!(route(&get, "/"), Route::Unknown);
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("my%20id:s%3Acret")
        );
        let (id, secret) = basic_credentials(&header).unwrap_or_default();
        assert_eq!(
            (form_decode(&id), form_decode(&secret)),
            ("my id".into(), "s:cret".into())
        );
        assert_eq!(basic_credentials("Bearer x"), None);
    }
}
