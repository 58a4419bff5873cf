//! Where sessions come from: the server through any [`SessionApi`], or a saved list
//! response (`--input`) through the same streaming decoder. Commands consume either
//! through [`Feed`], one borrowed session at a time, and may stop early.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use segura_api::{Error as ApiError, Listing, Next, ReaderSource, SessionApi};
use segura_model::RemoteSession;
use tokio::runtime::Runtime;

use crate::exit::{CliError, Progressed};
use crate::progress::Progress;

mod ahead;

/// What a consumer wants after a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// More, please.
    Continue,
    /// Enough: stop reading.
    Stop,
}

/// The consumer of a feed: `Some(session)` for each session, `None` when the input has
/// nothing more ready (a consumer that buffers output flushes it then, so a slow server
/// or producer never holds back what was already received).
pub type OnSession<'a> = dyn FnMut(Option<&RemoteSession>) -> Result<Flow, CliError> + 'a;

/// A list of sessions to stream.
pub trait Feed {
    /// Streams the list once into `on`; fails with [`CliError::Api`] (with how far it
    /// got) if the list fails midway, or with the consumer's own error.
    fn feed(&mut self, on: &mut OnSession<'_>, progress: &Progress) -> Result<(), CliError>;

    /// Whether the last [`Feed::feed`] found the list unchanged since the one before
    /// (`304 Not Modified` to its ETag) and so streamed nothing.
    fn unchanged(&self) -> bool {
        false
    }
}

fn failed(error: ApiError, bytes: u64, sessions: u64) -> CliError {
    CliError::Api {
        error,
        progressed: (bytes > 0).then_some(Progressed { sessions, bytes }),
    }
}

/// A saved list response: a file, or standard input for `-`. Read again at each
/// [`Feed::feed`] (so `watch --input` sees a file that changes).
#[derive(Debug, Clone)]
pub struct InputFeed {
    path: PathBuf,
    tap: Option<ByteTap>,
}

impl InputFeed {
    /// Reads `path` (`-` is standard input).
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            tap: None,
        }
    }

    /// Counts and hashes every byte read into `tap`.
    pub fn tapped(mut self, tap: ByteTap) -> Self {
        self.tap = Some(tap);
        self
    }
}

/// Every byte of a list as it is read, counted and hashed (SHA-256): what a report's
/// provenance ties itself to.
#[derive(Debug, Clone, Default)]
pub struct ByteTap(Arc<Mutex<(u64, Sha256)>>);

impl ByteTap {
    /// Nothing read yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `bytes` into the count and the hash.
    pub fn update(&self, bytes: &[u8]) {
        if let Ok(mut t) = self.0.lock() {
            t.0 += bytes.len() as u64;
            t.1.update(bytes);
        }
    }

    /// The bytes read so far and their SHA-256, in lowercase hex.
    pub fn digest(&self) -> (u64, String) {
        match self.0.lock() {
            Ok(t) => {
                let hash = t.1.clone().finalize();
                let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
                (t.0, hex)
            }
            Err(_) => (0, String::new()),
        }
    }
}

/// A reader whose bytes also go to a [`ByteTap`].
struct TapReader<R> {
    inner: R,
    tap: ByteTap,
}

impl<R: Read> Read for TapReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.tap.update(&buf[..n]);
        Ok(n)
    }
}

/// What the one loop over a decoder does with what it found; `Some` ends the feed.
fn on_event(
    event: Option<Result<Next<'_>, ApiError>>,
    on: &mut OnSession<'_>,
) -> Option<Result<(), CliError>> {
    match event {
        None => Some(Ok(())),
        Some(Ok(Next::Idle)) => on(None).err().map(Err),
        Some(Ok(Next::Session(s))) => match on(Some(s)) {
            Ok(Flow::Continue) => None,
            Ok(Flow::Stop) => Some(Ok(())),
            Err(e) => Some(Err(e)),
        },
        Some(Err(e)) => Some(Err(CliError::from(e))),
    }
}

/// An API error with how far the list got.
fn with_progress(e: CliError, bytes: u64, sessions: u64) -> CliError {
    match e {
        CliError::Api {
            error,
            progressed: None,
        } => failed(error, bytes, sessions),
        other => other,
    }
}

/// The gzip magic bytes: a compressed snapshot is read through a decompressor.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// `reader`, decompressed when its first bytes say it is gzip. The decompression runs
/// on a thread of its own ([`ReadAhead`]), so inflating and decoding use both cores.
fn maybe_gunzip(reader: impl Read + Send + 'static) -> std::io::Result<Box<dyn Read + Send>> {
    let mut buffered = BufReader::with_capacity(64 * 1024, reader);
    let head = loop {
        match buffered.fill_buf() {
            Ok(head) => break head,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    Ok(if head.starts_with(&GZIP_MAGIC) {
        Box::new(ReadAhead::spawn(Gunzip(
            flate2::bufread::MultiGzDecoder::new(buffered),
        )))
    } else {
        Box::new(buffered)
    })
}

/// A gzip stream's decompressor whose errors say what is wrong with the stream: a
/// corrupt stream (bad deflate data, a CRC or length mismatch) is invalid data, one cut
/// short an unexpected end; the reader's own failures pass unchanged.
struct Gunzip<R>(flate2::bufread::MultiGzDecoder<R>);

impl<R: BufRead> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::io::{Error, ErrorKind};
        self.0.read(buf).map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => Error::new(
                ErrorKind::UnexpectedEof,
                "the gzip stream is cut short (its end and checksum are missing)",
            ),
            ErrorKind::InvalidInput | ErrorKind::InvalidData => {
                Error::new(ErrorKind::InvalidData, format!("corrupt gzip stream: {e}"))
            }
            _ => e,
        })
    }
}

/// Bytes handed over per message by a [`ReadAhead`] thread.
const AHEAD_CHUNK: usize = 256 * 1024;

/// A reader whose reads happen on a thread of its own, at most two chunks ahead of the
/// consumer (so memory stays flat): the producer's work (here, inflating gzip) overlaps
/// the consumer's (decoding and printing). Errors and the end of the input reach the
/// consumer in order, after every byte before them. Dropping it stops the thread at its
/// next chunk (the thread is not joined, so an early stop, e.g. a closed stdout, is not
/// held up by a read in progress).
struct ReadAhead {
    rx: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    /// Chunks already read, sent back to be filled again.
    spare: std::sync::mpsc::SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    ended: bool,
}

impl ReadAhead {
    fn spawn(mut reader: impl Read + Send + 'static) -> Self {
        use std::sync::mpsc::sync_channel;
        let (tx, rx) = sync_channel::<std::io::Result<Vec<u8>>>(2);
        let (spare, spares) = sync_channel::<Vec<u8>>(4);
        let spawned = std::thread::Builder::new()
            .name("segura-read".to_owned())
            .spawn(move || loop {
                let mut buf = spares.try_recv().unwrap_or_default();
                buf.resize(AHEAD_CHUNK, 0);
                let read = loop {
                    match reader.read(&mut buf) {
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                };
                let last = !matches!(read, Ok(n) if n > 0);
                let message = read.map(|n| {
                    buf.truncate(n);
                    buf
                });
                if tx.send(message).is_err() || last {
                    return;
                }
            });
        let rx = match spawned {
            Ok(_) => rx,
            Err(e) => {
                // No thread: the consumer sees the failure as a read error.
                let (tx, rx) = sync_channel(1);
                let _ = tx.send(Err(e));
                rx
            }
        };
        Self {
            rx,
            spare,
            current: Vec::new(),
            pos: 0,
            ended: false,
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.current.len() {
            if self.ended || out.is_empty() {
                return Ok(0);
            }
            let next = match self.rx.recv() {
                Ok(next) => next?,
                Err(_) => {
                    return Err(std::io::Error::other(
                        "the reading thread stopped before the end of the input",
                    ))
                }
            };
            let used = std::mem::replace(&mut self.current, next);
            let _ = self.spare.try_send(used);
            self.pos = 0;
            self.ended = self.current.is_empty();
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Feed for InputFeed {
    fn feed(&mut self, on: &mut OnSession<'_>, progress: &Progress) -> Result<(), CliError> {
        let (reader, name): (Box<dyn Read + Send>, String) = if self.path.as_os_str() == "-" {
            (Box::new(std::io::stdin()), "standard input".to_owned())
        } else {
            let name = self.path.display().to_string();
            let file = std::fs::File::open(&self.path).map_err(|e| input_error(&name, e))?;
            (Box::new(file), name)
        };
        // The tap sees the bytes as they are on disk, before any gunzip.
        let reader: Box<dyn Read + Send> = match &self.tap {
            Some(tap) => Box::new(TapReader {
                inner: reader,
                tap: tap.clone(),
            }),
            None => reader,
        };
        let reader = maybe_gunzip(reader).map_err(|e| input_error(&name, e))?;
        // Decoded on a thread of its own while this one consumes (see `ahead`).
        ahead::feed(ReaderSource::new(reader, name), on, progress)
    }
}

fn input_error(name: &str, e: std::io::Error) -> CliError {
    CliError::from(segura_api::input_error(name, e))
}

/// The server, through any implementation of the API.
pub struct ApiFeed<'a> {
    rt: &'a Runtime,
    api: &'a dyn SessionApi,
    tap: Option<ByteTap>,
    /// The ETag of the last list read to its end: the next feed sends it as
    /// `If-None-Match`, so that a feed read again (`watch`) costs nothing when unchanged.
    etag: Option<String>,
    unchanged: bool,
}

impl<'a> ApiFeed<'a> {
    /// Lists through `api`, driven by `rt`.
    pub fn new(rt: &'a Runtime, api: &'a dyn SessionApi) -> Self {
        Self {
            rt,
            api,
            tap: None,
            etag: None,
            unchanged: false,
        }
    }

    /// Counts and hashes every body byte into `tap`.
    pub fn tapped(mut self, tap: ByteTap) -> Self {
        self.tap = Some(tap);
        self
    }
}

impl Feed for ApiFeed<'_> {
    fn feed(&mut self, on: &mut OnSession<'_>, progress: &Progress) -> Result<(), CliError> {
        let api = self.api;
        let tap = self.tap.clone();
        let sent = self.etag.take();
        self.unchanged = false;
        let (result, etag, unchanged) = self.rt.block_on(async move {
            let (mut stream, etag) = match api.list_if_changed(sent.clone()).await? {
                Listing::NotModified => return Ok((Ok(()), sent, true)),
                Listing::Changed { etag, sessions } => (*sessions, etag),
            };
            if let Some(tap) = tap {
                stream = stream.observe_bytes(Box::new(move |b: &[u8]| tap.update(b)));
            }
            loop {
                let event = stream.next_event().await;
                let at_end = event.is_none();
                if let Some(end) = on_event(event, on) {
                    let end = end.map_err(|e| {
                        with_progress(e, stream.bytes_received(), stream.sessions_received())
                    });
                    // Only a list read to its end stands for its ETag: not one that
                    // failed, nor one the consumer stopped reading.
                    let etag = etag.filter(|_| at_end && end.is_ok());
                    return Ok::<_, CliError>((end, etag, false));
                }
                progress.update(stream.bytes_received(), stream.sessions_received());
            }
        })?;
        self.etag = etag;
        self.unchanged = unchanged;
        result
    }

    fn unchanged(&self) -> bool {
        self.unchanged
    }
}

/// A runtime for one command: the command's own thread, which decodes and prints, and
/// one worker, where the HTTP connection and the body's TLS and gzip work run (see
/// `segura-http`'s read-ahead), so a list uses both cores.
pub fn runtime() -> Result<Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("segura-net")
        .enable_all()
        .build()
        .map_err(|e| CliError::Local(format!("cannot start the async runtime: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use segura_api::MockSessionApi;

    const BODY: &str = r#"{"code":200,"remote_sessions":[
        {"id":"1","session_id":"e7acacb6aedbab70073456da5744166939b77527","start":"2024-05-06 16:05:07"},
        {"id":"2","session_id":"f7acacb6aedbab70073456da5744166939b77527","start":"2024-05-06 16:06:07"},
        {"id":"3","session_id":"a7acacb6aedbab70073456da5744166939b77527","start":"2024-05-06 16:07:07"}]}"#;

    /// An API whose list carries the ETag `"v1"`, and which records the
    /// `If-None-Match` each feed sent.
    fn api(sent: Arc<Mutex<Vec<Option<String>>>>) -> MockSessionApi {
        let mut api = MockSessionApi::new();
        api.expect_list_if_changed()
            .times(2)
            .returning(move |etag| {
                sent.lock().unwrap().push(etag);
                Ok(Listing::Changed {
                    etag: Some("\"v1\"".to_owned()),
                    sessions: Box::new(segura_api::SessionStream::from_bytes(BODY)),
                })
            });
        api
    }

    fn feed_twice(api: &MockSessionApi, stop_after: Option<usize>) -> Vec<usize> {
        let rt = runtime().unwrap();
        let mut feed = ApiFeed::new(&rt, api);
        (0..2)
            .map(|_| {
                let mut seen = 0;
                feed.feed(
                    &mut |s| {
                        if s.is_some() {
                            seen += 1;
                        }
                        Ok(match stop_after {
                            Some(n) if seen >= n => Flow::Stop,
                            _ => Flow::Continue,
                        })
                    },
                    &Progress::default(),
                )
                .unwrap();
                seen
            })
            .collect()
    }

    #[test]
    fn a_list_read_to_its_end_sends_its_etag_back() {
        let sent = Arc::default();
        assert_eq!(feed_twice(&api(Arc::clone(&sent)), None), [3, 3]);
        assert_eq!(*sent.lock().unwrap(), [None, Some("\"v1\"".to_owned())]);
    }

    /// A consumer that stopped early saw part of the list: the next feed must not
    /// claim that list as the one it already has.
    #[test]
    fn a_list_stopped_early_does_not_send_its_etag_back() {
        let sent = Arc::default();
        assert_eq!(feed_twice(&api(Arc::clone(&sent)), Some(1)), [1, 1]);
        assert_eq!(*sent.lock().unwrap(), [None, None]);
    }
}
