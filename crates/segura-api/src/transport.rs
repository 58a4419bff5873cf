//! The transport seam: one trait that sends an [`http::Request`] and returns the status,
//! the headers and the body as a stream of chunks.
//!
//! A transport does the I/O and nothing else: connecting, TLS, proxies, compression it
//! asked for, pooling. It knows no endpoint path and no protocol rule; the generic
//! [`crate::client::Client`] owns credentials, retries, deadlines, decoding and the
//! classification of answers. What the client needs from a transport's failures is in
//! [`TransportError`]: above all whether the request provably never left, since only
//! then may a drop be sent again.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream;
use http::{HeaderMap, Request, StatusCode};

use crate::error::{Cause, ConnectFailure, Error, TimeoutKind};

/// A response body, chunk by chunk, as a transport delivers it.
pub type BodyChunks = Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>;

/// An answer: status and headers, and the body still to be read.
pub struct TransportResponse {
    /// The HTTP status.
    pub status: StatusCode,
    /// The headers (a transport that decoded a compressed body removes its
    /// `Content-Encoding`).
    pub headers: HeaderMap,
    /// The body. The stream ends only when the framing (`Content-Length`, the last chunk
    /// of a chunked body, the end of a gzip stream) says the body is complete; a body cut
    /// short ends with an error of kind [`TransportErrorKind::Interrupted`].
    pub body: BodyChunks,
}

impl fmt::Debug for TransportResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl TransportResponse {
    /// A response whose body is these chunks (for tests and simple transports).
    pub fn from_chunks<I>(status: StatusCode, headers: HeaderMap, chunks: I) -> Self
    where
        I: IntoIterator<Item = Result<Bytes, TransportError>>,
        I::IntoIter: Send + 'static,
    {
        Self {
            status,
            headers,
            body: Box::pin(futures_util::stream::iter(chunks)),
        }
    }
}

/// Sends one request. Implement it on any HTTP stack (hyper, a blocking client on a
/// thread, a test double); [`crate::client::Client`] does the rest.
///
/// A transport must not follow redirects (credentials would go elsewhere) and must not
/// retry by itself a request that may have reached the server.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// Sends `request` and returns once the status and headers arrived.
    async fn send(&self, request: Request<Bytes>) -> Result<TransportResponse, TransportError>;
}

#[async_trait]
impl<T: Transport + ?Sized> Transport for Arc<T> {
    async fn send(&self, request: Request<Bytes>) -> Result<TransportResponse, TransportError> {
        (**self).send(request).await
    }
}

/// What went wrong in a transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection: the request provably never left (refused, DNS, a proxy that would
    /// not connect), or, with [`ConnectFailure::Tls`], the handshake failed.
    Connect(ConnectFailure),
    /// No connection within the connect timeout: the request never left.
    ConnectTimeout,
    /// Nothing arrived for longer than the transport's read timeout.
    Idle,
    /// The connection failed after the request may have been sent: no answer, or a body
    /// cut short or with broken framing.
    Interrupted,
    /// The transport could not even build the request (a bad header, an unsupported
    /// scheme): nothing was sent.
    Config,
}

/// A transport's failure: its kind, a message, and the underlying error, kept as
/// [`std::error::Error::source`].
#[derive(Clone)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl TransportError {
    /// A failure of this kind; `message` says what happened (it may quote the transport's
    /// own error, never a secret).
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Keeps `source` as the cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The kind.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the request certainly never reached the server.
    pub fn never_sent(&self) -> bool {
        match self.kind {
            TransportErrorKind::Connect(kind) => kind != ConnectFailure::Tls,
            TransportErrorKind::ConnectTimeout | TransportErrorKind::Config => true,
            TransportErrorKind::Idle | TransportErrorKind::Interrupted => false,
        }
    }

    /// The [`Error`] this failure stands for when no answer arrived.
    pub fn into_error(self) -> Error {
        match self.kind {
            TransportErrorKind::Connect(kind) => Error::Connect {
                kind,
                message: self.message,
                cause: self.source.map(Cause::from_shared),
            },
            TransportErrorKind::ConnectTimeout => Error::Timeout {
                kind: TimeoutKind::Connect,
                message: self.message,
                cause: self.source.map(Cause::from_shared),
            },
            TransportErrorKind::Idle => Error::Timeout {
                kind: TimeoutKind::Idle,
                message: self.message,
                cause: self.source.map(Cause::from_shared),
            },
            TransportErrorKind::Interrupted => Error::InvalidResponse {
                message: format!(
                    "the connection failed before a complete response arrived: {}",
                    self.message
                ),
                offset: 0,
                path: None,
                sessions_before: 0,
                truncated: true,
            },
            TransportErrorKind::Config => Error::Config {
                message: self.message,
            },
        }
    }
}
