//! The background work of `sessions top`: a thread that polls the list (every interval,
//! or at once when asked) and keeps only the open sessions that match, and the drops,
//! each on a thread of its own. Results come back to the terminal loop as [`Event`]s,
//! so the screen never waits for the network.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use segura_api::{SessionApi, SessionFilter};
use segura_model::{RemoteSession, SessionHash};
use tokio::runtime::Runtime;

use crate::exit::CliError;
use crate::feed::{ApiFeed, Feed, Flow};
use crate::progress::Progress;

use super::app::LastPoll;

/// What the background work reports.
#[derive(Debug)]
pub enum Event {
    /// A poll began.
    Started(Instant),
    /// A complete poll: its open, matching sessions.
    Polled(Vec<RemoteSession>, LastPoll),
    /// A poll failed (its report, one line).
    PollFailed(String),
    /// A drop ended: the line to show, or the error's.
    Dropped(Result<String, String>),
}

/// One line of an error report, for the status line: its lines joined.
pub fn one_line(e: &CliError) -> String {
    e.report()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The server, shared by the poll thread and the drops: one runtime, so that the
/// pooled connections live as long as the view.
#[derive(Clone)]
pub struct Server {
    /// The runtime every request runs on.
    pub rt: Arc<Runtime>,
    /// The client.
    pub api: Arc<dyn SessionApi>,
}

/// The poll thread's handle.
pub struct Poller {
    wake: Sender<()>,
    /// Sessions read by the running poll.
    pub read: Arc<AtomicU64>,
    /// Set when the view ends: a running poll stops at its next session.
    pub stop: Arc<AtomicBool>,
}

impl Poller {
    /// Starts polling `server` at once, then every `interval`.
    pub fn start(
        server: Server,
        filter: SessionFilter,
        interval: Duration,
        events: Sender<Event>,
    ) -> Poller {
        let (wake, woken) = mpsc::channel();
        let read = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (read.clone(), stop.clone());
        std::thread::spawn(move || poll_loop(&server, &filter, interval, &woken, &events, &r, &s));
        Poller { wake, read, stop }
    }

    /// Polls as soon as the running poll (if any) is over.
    pub fn poll_now(&self) {
        let _ = self.wake.send(());
    }
}

#[allow(clippy::too_many_arguments)]
fn poll_loop(
    server: &Server,
    filter: &SessionFilter,
    interval: Duration,
    woken: &Receiver<()>,
    events: &Sender<Event>,
    read: &AtomicU64,
    stop: &AtomicBool,
) {
    loop {
        // Requests made until now are answered by this poll.
        while woken.try_recv().is_ok() {}
        let begin = Instant::now();
        if events.send(Event::Started(begin)).is_err() {
            return;
        }
        read.store(0, Ordering::Relaxed);
        let event = match poll_once(server, filter, read, stop) {
            Ok((open, listed)) => Event::Polled(
                open,
                LastPoll {
                    at: crate::clock::now().naive,
                    took: begin.elapsed(),
                    listed,
                },
            ),
            Err(e) => Event::PollFailed(one_line(&e)),
        };
        if stop.load(Ordering::Relaxed) || events.send(event).is_err() {
            return;
        }
        match woken.recv_timeout(interval) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// One poll: the open sessions that match (only those are kept), and how many were
/// listed.
fn poll_once(
    server: &Server,
    filter: &SessionFilter,
    read: &AtomicU64,
    stop: &AtomicBool,
) -> Result<(Vec<RemoteSession>, u64), CliError> {
    let mut open = Vec::new();
    let mut listed = 0u64;
    ApiFeed::new(&server.rt, server.api.as_ref()).feed(
        &mut |s| {
            if let Some(s) = s {
                listed += 1;
                read.store(listed, Ordering::Relaxed);
                if s.is_open() && filter.matches(s) {
                    open.push(s.clone());
                }
            }
            Ok(if stop.load(Ordering::Relaxed) {
                Flow::Stop
            } else {
                Flow::Continue
            })
        },
        &Progress::default(),
    )?;
    Ok((open, listed))
}

/// Drops `hash` on a thread of its own, through the path of `sessions drop`, and
/// reports the result on `events`.
pub fn drop_session(server: Server, hash: SessionHash, events: Sender<Event>) {
    std::thread::spawn(move || {
        let result = super::super::drop::execute(&server.rt, server.api.as_ref(), &hash);
        let line = match result {
            Ok(Some(message)) => Ok(format!(
                "dropped session {}: {}",
                hash.as_str(),
                crate::output::sanitize(&message)
            )),
            Ok(None) => Ok(format!("dropped session {}", hash.as_str())),
            Err(e) => Err(one_line(&e)),
        };
        let _ = events.send(Event::Dropped(line));
    });
}
