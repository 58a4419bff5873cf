//! Where sessions come from: the server through any [`SessionApi`], or a saved list
//! response (`--input`) through the same streaming decoder. Commands consume either
//! through [`Feed`], one borrowed session at a time, and may stop early.

use std::io::Read;
use std::path::{Path, PathBuf};

use segura_api::{Error as ApiError, Next, ReaderSource, SessionApi};
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
}

impl InputFeed {
    /// Reads `path` (`-` is standard input).
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
        }
    }
}

fn drive_reader<R: Read>(
    mut src: ReaderSource<R>,
    on: &mut OnSession<'_>,
    progress: &Progress,
) -> Result<(), CliError> {
    loop {
        match src.next_event() {
            None => return Ok(()),
            Some(Ok(Next::Idle)) => {
                on(None)?;
            }
            Some(Ok(Next::Session(s))) => {
                if on(Some(s))? == Flow::Stop {
                    return Ok(());
                }
                progress.update(src.bytes_received(), src.sessions_received());
            }
            Some(Err(e)) => {
                return Err(failed(e, src.bytes_received(), src.sessions_received()));
            }
        }
    }
}

impl Feed for InputFeed {
    fn feed(&mut self, on: &mut OnSession<'_>, progress: &Progress) -> Result<(), CliError> {
        if self.path.as_os_str() == "-" {
            drive_reader(ReaderSource::stdin(), on, progress)
        } else {
            drive_reader(ReaderSource::open(&self.path)?, on, progress)
        }
    }
}

/// The server, through any implementation of the API.
pub struct ApiFeed<'a> {
    rt: &'a Runtime,
    api: &'a dyn SessionApi,
}

impl<'a> ApiFeed<'a> {
    /// Lists through `api`, driven by `rt`.
    pub fn new(rt: &'a Runtime, api: &'a dyn SessionApi) -> Self {
        Self { rt, api }
    }
}

impl Feed for ApiFeed<'_> {
    fn feed(&mut self, on: &mut OnSession<'_>, progress: &Progress) -> Result<(), CliError> {
        let api = self.api;
        self.rt.block_on(async move {
            let mut stream = api.list_sessions().await?;
            loop {
                match stream.next_event().await {
                    None => return Ok(()),
                    Some(Ok(Next::Idle)) => {
                        on(None)?;
                    }
                    Some(Ok(Next::Session(s))) => {
                        if on(Some(s))? == Flow::Stop {
                            return Ok(());
                        }
                        progress.update(stream.bytes_received(), stream.sessions_received());
                    }
                    Some(Err(e)) => {
                        return Err(failed(
                            e,
                            stream.bytes_received(),
                            stream.sessions_received(),
                        ));
                    }
                }
            }
        })
    }
}

/// A runtime for one command: one thread is plenty for one request at a time.
pub fn runtime() -> Result<Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Local(format!("cannot start the async runtime: {e}")))
}
