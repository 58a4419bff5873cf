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

/// `reader`, decompressed when its first bytes say it is gzip.
fn maybe_gunzip<'a>(reader: impl Read + 'a) -> std::io::Result<Box<dyn Read + 'a>> {
    let mut buffered = BufReader::with_capacity(64 * 1024, reader);
    let head = loop {
        match buffered.fill_buf() {
            Ok(head) => break head,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    Ok(if head.starts_with(&GZIP_MAGIC) {
        Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    })
}

impl Feed for InputFeed {
    fn feed(&mut self, on: &mut OnSession<'_>, progress: &Progress) -> Result<(), CliError> {
        let (reader, name): (Box<dyn Read>, String) = if self.path.as_os_str() == "-" {
            (Box::new(std::io::stdin()), "standard input".to_owned())
        } else {
            let name = self.path.display().to_string();
            let file = std::fs::File::open(&self.path).map_err(|e| input_error(&name, &e))?;
            (Box::new(file), name)
        };
        // The tap sees the bytes as they are on disk, before any gunzip.
        let reader: Box<dyn Read> = match &self.tap {
            Some(tap) => Box::new(TapReader {
                inner: reader,
                tap: tap.clone(),
            }),
            None => reader,
        };
        let reader = maybe_gunzip(reader).map_err(|e| input_error(&name, &e))?;
        let mut src = ReaderSource::new(reader, name);
        loop {
            if let Some(end) = on_event(src.next_event(), on) {
                return end
                    .map_err(|e| with_progress(e, src.bytes_received(), src.sessions_received()));
            }
            progress.update(src.bytes_received(), src.sessions_received());
        }
    }
}

fn input_error(name: &str, e: &std::io::Error) -> CliError {
    CliError::from(ApiError::Input {
        source_name: name.to_owned(),
        message: e.to_string(),
    })
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
                if let Some(end) = on_event(stream.next_event().await, on) {
                    let end = end.map_err(|e| {
                        with_progress(e, stream.bytes_received(), stream.sessions_received())
                    });
                    // Only a list read to its end stands for its ETag.
                    let etag = etag.filter(|_| end.is_ok());
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

/// A runtime for one command: one thread is plenty for one request at a time.
pub fn runtime() -> Result<Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Local(format!("cannot start the async runtime: {e}")))
}
