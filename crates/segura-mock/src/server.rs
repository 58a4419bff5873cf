//! The server: the [`MockServer`] handle tests hold. It binds the listener, runs the
//! accept loop, and lets tests read and steer the shared state (counters, faults,
//! sessions, tokens).
//!
//! A request travels [`conn`] (TCP or TLS, keep-alive, resets) to [`router`] (which
//! endpoint, which faults, which credentials), then to one of the [`endpoints`]; the
//! answers are built with [`reply`], and API credentials are checked by [`auth`].

mod auth;
mod conn;
mod endpoints;
mod reply;
mod router;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::config::{MockConfig, MockError};
use crate::fault::{Fault, FaultTarget};
use crate::generator::Generator;
use crate::oauth1::Oauth1Credentials;
use crate::state::{lock, MockStats, Shared};
use conn::accept_loop;

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

    /// The session URL and token of the last web proxy session created, for tests that
    /// check a client never shows them where it must not.
    pub fn last_web_session(&self) -> Option<(String, String)> {
        lock(&self.shared.last_web_session).clone()
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

    /// With [`MockConfig::gzip_ahead`], compresses the list now, so that the first
    /// request for it does not wait for that (a no-op otherwise). Blocks for as long as
    /// compressing takes (about a second per 100 MB of JSON).
    pub fn prepare_gzip_ahead(&self) {
        let _ = self.shared.gzip_ahead_body();
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
