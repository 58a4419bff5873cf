//! A scripted in-memory [`Transport`] for tests (feature `test-util`).
//!
//! [`ScriptedTransport`] answers from a queue of expected requests, each with an
//! assertion on the request and a scripted answer (status, headers, body chunks, a
//! failure midway, or a transport error), then, once the queue is empty, from an
//! optional handler. It records every request, so a test asserts on what the client
//! sent as well as on what it returned. A request the script did not expect fails the
//! test (a panic, with the request in the message).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use segura_api::client::{Client, ClientOptions};
//! use segura_api::protocol::{Auth, Secret};
//! use segura_api::test_util::{Answer, ScriptedTransport};
//! use segura_api::SessionApi;
//!
//! let transport = ScriptedTransport::new();
//! transport
//!     .expect("GET", "/api/session/remotesessions")
//!     .check(|r| assert_eq!(r.headers()["authorization"], "Bearer ready"))
//!     .answer(Answer::json(200, r#"{"remote_sessions":[]}"#));
//! let client = Client::new(
//!     transport.clone(),
//!     ClientOptions::new("https://pam.example.com", Auth::Bearer(Secret::new("ready"))),
//! )
//! .unwrap();
//! let mut stream = client.list_sessions().await.unwrap();
//! assert!(stream.next_ref().await.is_none());
//! transport.assert_done();
//! # }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, Request, StatusCode};

use crate::transport::{Transport, TransportError, TransportErrorKind, TransportResponse};

/// A scripted answer.
#[derive(Clone, Debug)]
pub enum Answer {
    /// A response: status, headers, body chunks; an `Err` chunk ends the body with that
    /// failure (a cut).
    Response {
        /// The status.
        status: u16,
        /// The headers.
        headers: Vec<(String, String)>,
        /// The body, chunk by chunk.
        chunks: Vec<Result<Bytes, TransportError>>,
    },
    /// No response: the transport fails with this error.
    Fail(TransportError),
}

impl Answer {
    /// A JSON answer in one chunk.
    pub fn json(status: u16, body: impl Into<String>) -> Answer {
        Answer::Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            chunks: vec![Ok(Bytes::from(body.into()))],
        }
    }

    /// An answer with this content type, in one chunk.
    pub fn text(status: u16, content_type: &str, body: impl Into<String>) -> Answer {
        Answer::Response {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            chunks: vec![Ok(Bytes::from(body.into()))],
        }
    }

    /// The token endpoint's success: `expires_in_json` is raw JSON (`3600`, `"60"`).
    pub fn token(access_token: &str, expires_in_json: &str) -> Answer {
        Answer::json(
            200,
            format!(
                r#"{{"token_type":"Bearer","expires_in":{expires_in_json},"access_token":"{access_token}"}}"#
            ),
        )
    }

    /// A JSON answer whose body stops after `prefix` with a cut connection.
    pub fn cut(status: u16, prefix: impl Into<String>) -> Answer {
        Answer::Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            chunks: vec![
                Ok(Bytes::from(prefix.into())),
                Err(TransportError::new(
                    TransportErrorKind::Interrupted,
                    "connection reset by peer (scripted)",
                )),
            ],
        }
    }

    /// No answer: the connection was refused, so the request never left.
    pub fn refused() -> Answer {
        Answer::Fail(TransportError::new(
            TransportErrorKind::Connect(crate::ConnectFailure::Refused),
            "connection refused (scripted)",
        ))
    }

    /// No answer: the connection failed after the request may have been sent.
    pub fn reset() -> Answer {
        Answer::Fail(TransportError::new(
            TransportErrorKind::Interrupted,
            "connection reset by peer (scripted)",
        ))
    }

    /// Adds a header to a response.
    pub fn header(mut self, name: &str, value: &str) -> Answer {
        if let Answer::Response { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    fn into_response(self) -> Result<TransportResponse, TransportError> {
        match self {
            Answer::Fail(e) => Err(e),
            Answer::Response {
                status,
                headers,
                chunks,
            } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT);
                let mut map = HeaderMap::new();
                for (name, value) in headers {
                    if let (Ok(n), Ok(v)) = (
                        HeaderName::from_bytes(name.as_bytes()),
                        HeaderValue::from_str(&value),
                    ) {
                        map.append(n, v);
                    }
                }
                if !map.contains_key(CONTENT_TYPE) {
                    map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                Ok(TransportResponse::from_chunks(status, map, chunks))
            }
        }
    }
}

type Check = Box<dyn Fn(&Request<Bytes>) + Send + Sync>;
type Handler = Box<dyn Fn(&Request<Bytes>) -> Answer + Send + Sync>;

struct Expected {
    method: String,
    path: String,
    check: Option<Check>,
    answer: Answer,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Expected>,
    handler: Option<Handler>,
    seen: Vec<Request<Bytes>>,
}

/// The scripted transport; clones share the script and the record.
#[derive(Clone, Default)]
pub struct ScriptedTransport {
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for ScriptedTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("ScriptedTransport")
            .field("expected", &state.queue.len())
            .field("seen", &state.seen.len())
            .finish_non_exhaustive()
    }
}

/// One expected request being scripted: see [`ScriptedTransport::expect`].
#[must_use = "an expectation takes effect with `answer`"]
pub struct Expectation<'a> {
    transport: &'a ScriptedTransport,
    method: String,
    path: String,
    check: Option<Check>,
}

impl Expectation<'_> {
    /// Asserts on the request (panic to fail the test).
    pub fn check(mut self, check: impl Fn(&Request<Bytes>) + Send + Sync + 'static) -> Self {
        self.check = Some(Box::new(check));
        self
    }

    /// Answers the request with `answer`: the expectation joins the queue.
    pub fn answer(self, answer: Answer) {
        self.transport.lock().queue.push_back(Expected {
            method: self.method,
            path: self.path,
            check: self.check,
            answer,
        });
    }
}

impl ScriptedTransport {
    /// An empty script: every request is unexpected.
    pub fn new() -> Self {
        Self::default()
    }

    /// A transport that answers every request (after the queue) with `handler`.
    pub fn serving(handler: impl Fn(&Request<Bytes>) -> Answer + Send + Sync + 'static) -> Self {
        let t = Self::new();
        t.lock().handler = Some(Box::new(handler));
        t
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Expects a `method` request to `path` (the URI's path, from the host's root) next.
    pub fn expect(&self, method: &str, path: &str) -> Expectation<'_> {
        Expectation {
            transport: self,
            method: method.to_owned(),
            path: path.to_owned(),
            check: None,
        }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request<Bytes>> {
        self.lock().seen.iter().map(copy).collect()
    }

    /// How many requests had a path starting with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.lock()
            .seen
            .iter()
            .filter(|r| r.uri().path().starts_with(prefix))
            .count()
    }

    /// Fails the test if an expected request never came.
    pub fn assert_done(&self) {
        let state = self.lock();
        let left: Vec<String> = state
            .queue
            .iter()
            .map(|e| format!("{} {}", e.method, e.path))
            .collect();
        assert!(left.is_empty(), "expected requests never sent: {left:?}");
    }
}

fn copy(r: &Request<Bytes>) -> Request<Bytes> {
    let mut c = Request::new(r.body().clone());
    *c.method_mut() = r.method().clone();
    *c.uri_mut() = r.uri().clone();
    *c.headers_mut() = r.headers().clone();
    c
}

#[async_trait]
impl Transport for ScriptedTransport {
    async fn send(&self, request: Request<Bytes>) -> Result<TransportResponse, TransportError> {
        let answer = {
            let mut state = self.lock();
            state.seen.push(copy(&request));
            match state.queue.pop_front() {
                Some(expected) => {
                    let line = format!("{} {}", request.method(), request.uri().path());
                    let want = format!("{} {}", expected.method, expected.path);
                    assert_eq!(line, want, "the request the script expected next");
                    if let Some(check) = &expected.check {
                        check(&request);
                    }
                    expected.answer
                }
                None => match &state.handler {
                    Some(handler) => handler(&request),
                    None => panic!("unexpected request: {} {}", request.method(), request.uri()),
                },
            }
        };
        answer.into_response()
    }
}
