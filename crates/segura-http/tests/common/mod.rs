//! Helpers shared by the loopback tests: a mock server and a client pointed at it.
#![allow(dead_code)]

use std::time::Duration;

use segura_http::{Auth, ClientAuthMethod, ClientConfig, HttpClient, RetryPolicy, Secret};
use segura_mock::{MockConfig, MockServer};

/// Fast retries, so the suite stays quick: 10 ms first backoff, 3 retries.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::with_backoff(Duration::from_millis(10), Duration::from_millis(40)).max_retries(3)
}

/// Starts a mock server.
pub async fn start(config: MockConfig) -> MockServer {
    match MockServer::start(config).await {
        Ok(server) => server,
        Err(e) => panic!("the mock server did not start: {e}"),
    }
}

/// OAuth 2.0 client credentials of `server`.
pub fn oauth2(server: &MockServer, method: ClientAuthMethod) -> Auth {
    Auth::OAuth2 {
        client_id: server.client_id().to_owned(),
        client_secret: Secret::new(server.client_secret()),
        method,
    }
}

/// OAuth 1.0a credentials of `server`.
pub fn oauth1(server: &MockServer) -> Auth {
    let c = server.oauth1_credentials();
    Auth::OAuth1 {
        consumer_key: c.consumer_key.clone(),
        consumer_secret: Secret::new(c.consumer_secret.clone()),
        token: c.token.clone(),
        token_secret: Secret::new(c.token_secret.clone()),
    }
}

/// A configuration for `server` with `auth`, fast retries, and its CA trusted when it
/// serves TLS.
pub fn config_with(server: &MockServer, auth: Auth) -> ClientConfig {
    let mut config = ClientConfig::new(server.url(), auth).retry(fast_retry());
    if let Some(pem) = server.ca_cert_pem() {
        config = config.ca_cert_pem(pem.as_bytes().to_vec());
    }
    config
}

/// The usual configuration: OAuth 2.0 with credentials in the body.
pub fn config(server: &MockServer) -> ClientConfig {
    config_with(server, oauth2(server, ClientAuthMethod::Body))
}

/// Builds a client.
pub fn client(config: ClientConfig) -> HttpClient {
    match HttpClient::new(config) {
        Ok(c) => c,
        Err(e) => panic!("the client did not build: {e}"),
    }
}

/// Unwraps a result the test expects to be `Ok`, printing the error and its hint if not.
#[track_caller]
pub fn ok<T>(r: Result<T, segura_api::Error>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("unexpected error: {e}\n{}", e.hint()),
    }
}

/// Unwraps a result the test expects to be an error.
#[track_caller]
pub fn err<T: std::fmt::Debug>(r: Result<T, segura_api::Error>) -> segura_api::Error {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

/// Asserts that the hint of `e` mentions `needle` (in its cause or its action).
#[track_caller]
pub fn assert_hint(e: &segura_api::Error, needle: &str) {
    let h = e.hint();
    assert!(
        h.cause.contains(needle) || h.action.contains(needle),
        "hint of {e:?} does not mention {needle:?}: {h:?}"
    );
}

/// Drains a session list: the number of sessions, and the error that ended it, if any.
pub async fn drain(stream: &mut segura_api::SessionStream) -> (u64, Option<segura_api::Error>) {
    let mut n = 0;
    while let Some(item) = stream.next_ref().await {
        match item {
            Ok(_) => n += 1,
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

/// A session id the server holds (the one at `index`).
pub fn id_at(server: &MockServer, index: u64) -> segura_model::SessionId {
    segura_model::SessionId::new(server.generator().id(index))
}

/// A session hash the server holds (the one at `index`).
pub fn hash_at(server: &MockServer, index: u64) -> segura_model::SessionHash {
    segura_model::SessionHash::from_wire(server.generator().session_hash(index))
}

/// Accepts one connection, reads one request head, answers `answer`, returns the head.
pub async fn one_request(listener: tokio::net::TcpListener, answer: String) -> String {
    let (mut socket, _) = match listener.accept().await {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let _ = tokio::io::AsyncWriteExt::write_all(&mut socket, answer.as_bytes()).await;
    let _ = tokio::io::AsyncWriteExt::shutdown(&mut socket).await;
    String::from_utf8_lossy(&head).into_owned()
}

pub async fn listener() -> (tokio::net::TcpListener, String) {
    let l = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let url = format!(
        "http://{}",
        l.local_addr().map(|a| a.to_string()).unwrap_or_default()
    );
    (l, url)
}
