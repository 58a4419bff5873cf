//! [`SessionStream`]: a list body arriving as byte chunks, decoded into sessions as it
//! comes, and [`ReaderSource`]: the same decoder over a file or standard input.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use segura_model::{ApiException, RemoteSession, SessionId};

use crate::decoder::{DecoderConfig, ListDecoder, Step};
use crate::error::{input_error, Error};
use crate::text::Redactor;

/// What a driver of the decoder found: a session, or that it is about to wait for input.
#[derive(Debug)]
pub enum Next<'a> {
    /// A session, lent until the next call.
    Session(&'a RemoteSession),
    /// No complete session is buffered and the next bytes may take a while: a consumer
    /// that buffers its output should flush it now, so that what it printed is seen
    /// without waiting for the next read. Reported once per wait.
    Idle,
}

/// A body as a stream of byte chunks, as a transport delivers it.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// The sessions of a list body, decoded while the body arrives.
///
/// A transport reports a body whose framing failed (a connection cut, a short
/// `Content-Length`, a missing last chunk, a gzip check that does not match) as an item
/// [`Error::InvalidResponse`] with `truncated: true`. The stream then ends with an error
/// even when the JSON had already closed: a body is complete only when its framing says
/// so.
///
/// As a [`Stream`] it yields owned sessions. [`SessionStream::next_ref`] lends each
/// session instead, without allocating, for consumers that only look at it (filters,
/// printers). Either way, sessions come out as soon as their closing brace arrives,
/// and a failure midway comes after the sessions that were complete; the counts of bytes
/// and sessions received tell how far the body got.
pub struct SessionStream {
    body: ByteStream,
    driver: Driver,
    redactor: Option<Redactor>,
    observer: Option<ByteObserver>,
}

/// What a source did when the decoder asked for input.
enum Fill {
    /// This many bytes went into the decoder.
    Filled(usize),
    /// Nothing yet; the source will wake the task.
    Pending,
    /// The body ended.
    Ended,
    /// The framing says the body was cut: held until the decoder has said whether the
    /// JSON itself was complete.
    Cut(Error),
    /// The source failed.
    Failed(Error),
}

/// The one driver of the decoder, whatever the source (a transport's chunks, a file,
/// standard input): it asks the source for input when the decoder needs it, reports
/// waits, ends the body, and decides what a cut body means.
struct Driver {
    decoder: ListDecoder,
    bytes_received: u64,
    body_done: bool,
    cut: Option<Error>,
    finished: bool,
    idle_reported: bool,
}

impl Driver {
    fn new(decoder: ListDecoder) -> Self {
        Self {
            decoder,
            bytes_received: 0,
            body_done: false,
            cut: None,
            finished: false,
            idle_reported: false,
        }
    }

    /// Advances to the next session. With `report_idle`, a wait is reported once (as
    /// [`Ready::Idle`]): before each read of a source whose reads may block without
    /// saying so (`blocking`), or when the source says it has nothing yet.
    fn step(
        &mut self,
        report_idle: bool,
        blocking: bool,
        mut pull: impl FnMut(&mut ListDecoder) -> Fill,
    ) -> Poll<Option<Result<Ready, Error>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        loop {
            match self.decoder.advance() {
                Ok(Step::Session) => return Poll::Ready(Some(Ok(Ready::Session))),
                Ok(Step::Done) => {
                    self.finished = true;
                    // The JSON closed, but the framing (length, chunks, gzip check) says
                    // the body did not end well: it is not complete.
                    return match self.cut.take() {
                        Some(cut) => Poll::Ready(Some(Err(self.after_json(cut)))),
                        None => Poll::Ready(None),
                    };
                }
                Err(e) => {
                    self.finished = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Ok(Step::NeedInput) if self.body_done => {
                    // The decoder was told the body ended; it cannot need more.
                    self.decoder.finish();
                }
                Ok(Step::NeedInput) if blocking && report_idle && !self.idle_reported => {
                    // A read may block (a pipe, a slow producer): report it first.
                    self.idle_reported = true;
                    return Poll::Ready(Some(Ok(Ready::Idle)));
                }
                Ok(Step::NeedInput) => match pull(&mut self.decoder) {
                    Fill::Pending if report_idle && !self.idle_reported => {
                        // The waker is registered; report the wait once, then wait.
                        self.idle_reported = true;
                        return Poll::Ready(Some(Ok(Ready::Idle)));
                    }
                    Fill::Pending => return Poll::Pending,
                    Fill::Filled(n) => {
                        self.idle_reported = false;
                        self.bytes_received += n as u64;
                    }
                    Fill::Cut(e) => {
                        // Let the decoder tell first whether the JSON was cut too: its
                        // error then names the offset and the path.
                        self.cut = Some(e);
                        self.body_done = true;
                        self.decoder.finish();
                    }
                    Fill::Failed(e) => {
                        self.finished = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                    Fill::Ended => {
                        self.idle_reported = false;
                        self.body_done = true;
                        self.decoder.finish();
                    }
                },
            }
        }
    }

    /// A transport's report of a cut body, once the JSON itself had closed: with the
    /// counts of what arrived.
    fn after_json(&self, cut: Error) -> Error {
        let message = match cut {
            Error::InvalidResponse { message, .. } => message,
            other => other.to_string(),
        };
        Error::InvalidResponse {
            message: format!("the JSON was complete but the body was not: {message}"),
            offset: self.bytes_received,
            path: None,
            sessions_before: self.decoder.sessions_decoded(),
            truncated: true,
        }
    }
}

/// Sees every body byte as it arrives (see [`SessionStream::observe_bytes`]).
pub type ByteObserver = Box<dyn FnMut(&[u8]) + Send>;

impl fmt::Debug for SessionStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionStream")
            .field("bytes_received", &self.driver.bytes_received)
            .field("sessions_received", &self.driver.decoder.sessions_decoded())
            .field("finished", &self.driver.finished)
            .finish_non_exhaustive()
    }
}

impl SessionStream {
    /// Decodes a list body delivered by `body`.
    pub fn new(body: ByteStream) -> Self {
        Self::with_decoder(body, ListDecoder::new())
    }

    /// Decodes `body` with a given decoder (limits, or the get body's key).
    pub fn with_decoder(body: ByteStream, decoder: ListDecoder) -> Self {
        Self {
            body,
            driver: Driver::new(decoder),
            redactor: None,
            observer: None,
        }
    }

    /// Hands every body byte to `observer` as it arrives, before decoding: to hash or
    /// keep what was read (a report's provenance).
    pub fn observe_bytes(mut self, observer: ByteObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Scrubs the client's secrets out of the errors this stream yields (an error
    /// envelope that quotes the request, say).
    pub fn redacting(mut self, redactor: Redactor) -> Self {
        self.redactor = Some(redactor);
        self
    }

    fn scrub(&self, error: Error) -> Error {
        match &self.redactor {
            Some(r) => r.scrub(error),
            None => error,
        }
    }

    /// Decodes a list body held in memory, split into the given chunks.
    pub fn from_chunks<I>(chunks: I) -> Self
    where
        I: IntoIterator<Item = Bytes>,
        I::IntoIter: Send + 'static,
    {
        let iter = chunks.into_iter().map(Ok);
        Self::new(Box::pin(futures_util::stream::iter(iter)))
    }

    /// Decodes a list body held in memory.
    pub fn from_bytes(body: impl Into<Bytes>) -> Self {
        Self::from_chunks(std::iter::once(body.into()))
    }

    /// How many body bytes have arrived.
    pub fn bytes_received(&self) -> u64 {
        self.driver.bytes_received
    }

    /// How many complete sessions have been decoded.
    pub fn sessions_received(&self) -> u64 {
        self.driver.decoder.sessions_decoded()
    }

    /// The decoder, for its envelope and buffer statistics.
    pub fn decoder(&self) -> &ListDecoder {
        &self.driver.decoder
    }

    /// Advances to the next session; with `report_idle`, reports a wait for the body
    /// once (as [`Ready::Idle`]) instead of waiting silently.
    fn poll_step(
        &mut self,
        cx: &mut Context<'_>,
        report_idle: bool,
    ) -> Poll<Option<Result<Ready, Error>>> {
        let body = &mut self.body;
        let observer = &mut self.observer;
        let step = self.driver.step(report_idle, false, |decoder| {
            match body.poll_next_unpin(cx) {
                Poll::Pending => Fill::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    if let Some(observe) = observer {
                        observe(&chunk);
                    }
                    decoder.feed(&chunk);
                    Fill::Filled(chunk.len())
                }
                Poll::Ready(Some(Err(e))) if is_cut(&e) => Fill::Cut(e),
                Poll::Ready(Some(Err(e))) => Fill::Failed(e),
                Poll::Ready(None) => Fill::Ended,
            }
        });
        match step {
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(self.scrub(e)))),
            other => other,
        }
    }

    /// Reads the body of the one-session endpoint to its end (an error envelope or a cut
    /// may come after the session) and returns the session, which must be the one asked
    /// for: a body with another id, or with more than one session, is
    /// [`Error::InvalidResponse`]; a valid body with none is [`Error::NotFound`].
    pub async fn single(mut self, id: SessionId) -> Result<RemoteSession, Error> {
        let mut found: Option<RemoteSession> = None;
        while let Some(session) = futures_util::StreamExt::next(&mut self).await {
            let session = session?;
            let problem = if session.id != id {
                Some(format!(
                    "the answer for session {id} holds session {} instead",
                    session.id
                ))
            } else if found.is_some() {
                Some(format!(
                    "the answer for session {id} holds more than one session"
                ))
            } else {
                None
            };
            if let Some(message) = problem {
                return Err(Error::InvalidResponse {
                    message,
                    offset: self.driver.decoder.bytes_consumed(),
                    path: Some("remote_session".into()),
                    sessions_before: self.driver.decoder.sessions_decoded().saturating_sub(1),
                    truncated: false,
                });
            }
            found = Some(session);
        }
        found.ok_or_else(|| Error::NotFound {
            status: Some(200),
            code: Some(ApiException::SESSION_NOT_FOUND),
            message: format!("the server answered with no session for id {id}"),
        })
    }

    /// The next session, lent without allocation; `None` at the end of a valid body.
    pub async fn next_ref(&mut self) -> Option<Result<&RemoteSession, Error>> {
        match futures_util::future::poll_fn(|cx| self.poll_step(cx, false)).await? {
            Ok(_) => Some(Ok(self.driver.decoder.session())),
            Err(e) => Some(Err(e)),
        }
    }

    /// Like [`SessionStream::next_ref`], and also reports [`Next::Idle`] when the next
    /// bytes have not arrived yet: the moment for a consumer to flush its output.
    pub async fn next_event(&mut self) -> Option<Result<Next<'_>, Error>> {
        match futures_util::future::poll_fn(|cx| self.poll_step(cx, true)).await? {
            Ok(Ready::Session) => Some(Ok(Next::Session(self.driver.decoder.session()))),
            Ok(Ready::Idle) => Some(Ok(Next::Idle)),
            Err(e) => Some(Err(e)),
        }
    }
}

/// Whether a transport's error says the body was cut (or its framing or compression
/// broken): [`Error::InvalidResponse`] with `truncated`.
fn is_cut(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidResponse {
            truncated: true,
            ..
        }
    )
}

/// What a step of a driver produced: a session, or (when asked for) a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ready {
    Session,
    Idle,
}

impl Stream for SessionStream {
    type Item = Result<RemoteSession, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.poll_step(cx, false) {
            Poll::Ready(Some(Ok(_))) => Poll::Ready(Some(Ok(self.driver.decoder.take_session()))),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The decoder over a saved snapshot: a file, standard input, or any reader, in any
/// of the shapes of [`ListDecoder::for_snapshot`] (the list envelope, a get answer, a
/// JSON array of sessions, NDJSON). It runs the same driver as [`SessionStream`].
///
/// Reads in chunks of [`ReaderSource::CHUNK`] bytes straight into the decoder's buffer,
/// so memory stays flat for any file size.
pub struct ReaderSource<R> {
    reader: R,
    name: String,
    driver: Driver,
    chunk: usize,
}

impl<R> fmt::Debug for ReaderSource<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReaderSource")
            .field("name", &self.name)
            .field("sessions", &self.driver.decoder.sessions_decoded())
            .finish_non_exhaustive()
    }
}

impl ReaderSource<File> {
    /// Opens a saved response.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| input_error(name.clone(), e))?;
        Ok(Self::new(file, name))
    }
}

impl ReaderSource<io::Stdin> {
    /// Reads a saved response from standard input.
    pub fn stdin() -> Self {
        Self::new(io::stdin(), "standard input")
    }
}

impl<R: Read> ReaderSource<R> {
    /// Bytes read at a time.
    pub const CHUNK: usize = 256 * 1024;

    /// Decodes the snapshot read from `reader`; `name` appears in error messages.
    pub fn new(reader: R, name: impl Into<String>) -> Self {
        Self::with_config(reader, name, DecoderConfig::default())
    }

    /// The same, with decoder limits.
    pub fn with_config(reader: R, name: impl Into<String>, config: DecoderConfig) -> Self {
        Self {
            reader,
            name: name.into(),
            driver: Driver::new(ListDecoder::for_snapshot(config)),
            chunk: Self::CHUNK,
        }
    }

    /// Sets the read size (tests use small ones).
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk = bytes.max(1);
        self
    }

    /// How many complete sessions have been decoded.
    pub fn sessions_received(&self) -> u64 {
        self.driver.decoder.sessions_decoded()
    }

    /// How many bytes have been consumed.
    pub fn bytes_received(&self) -> u64 {
        self.driver.decoder.bytes_consumed()
    }

    /// The decoder, for its envelope and buffer statistics.
    pub fn decoder(&self) -> &ListDecoder {
        &self.driver.decoder
    }

    /// Advances to the next session; with `report_idle`, reports each read once (as
    /// [`Ready::Idle`]) before doing it.
    fn step(&mut self, report_idle: bool) -> Option<Result<Ready, Error>> {
        let (reader, chunk, name) = (&mut self.reader, self.chunk, &self.name);
        let step = self.driver.step(report_idle, true, |decoder| {
            match decoder.fill_from(reader, chunk) {
                Ok(0) => Fill::Ended,
                Ok(n) => Fill::Filled(n),
                // The bytes themselves are bad (say, a corrupt or cut gzip stream under
                // the JSON): an invalid input, not an unreadable one.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
                    ) =>
                {
                    Fill::Failed(Error::InvalidResponse {
                        message: format!("{name}: {e}"),
                        offset: decoder.bytes_consumed(),
                        path: None,
                        sessions_before: decoder.sessions_decoded(),
                        truncated: e.kind() == io::ErrorKind::UnexpectedEof,
                    })
                }
                Err(e) => Fill::Failed(input_error(name.clone(), e)),
            }
        });
        match step {
            Poll::Ready(r) => r,
            // A reader never says "not yet": it blocks.
            Poll::Pending => None,
        }
    }

    /// The next session, lent without allocation; `None` at the end of a valid body.
    pub fn next_ref(&mut self) -> Option<Result<&RemoteSession, Error>> {
        match self.step(false)? {
            Ok(_) => Some(Ok(self.driver.decoder.session())),
            Err(e) => Some(Err(e)),
        }
    }

    /// Exchanges the session of the last [`Next::Session`] with `other` (see
    /// [`ListDecoder::swap_session`]): the caller keeps it, and `other` is filled next.
    pub fn swap_session(&mut self, other: &mut RemoteSession) {
        self.driver.decoder.swap_session(other);
    }

    /// Like [`ReaderSource::next_ref`], and also reports [`Next::Idle`] before each read
    /// of the reader, which may block: the moment for a consumer to flush its output.
    pub fn next_event(&mut self) -> Option<Result<Next<'_>, Error>> {
        match self.step(true)? {
            Ok(Ready::Session) => Some(Ok(Next::Session(self.driver.decoder.session()))),
            Ok(Ready::Idle) => Some(Ok(Next::Idle)),
            Err(e) => Some(Err(e)),
        }
    }
}

impl<R: Read> Iterator for ReaderSource<R> {
    type Item = Result<RemoteSession, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step(false)? {
            Ok(_) => Some(Ok(self.driver.decoder.take_session())),
            Err(e) => Some(Err(e)),
        }
    }
}
