//! The background work of `sessions top`: a thread that polls the list (every interval,
//! or at once when asked) and keeps the open sessions, shows those that match the
//! filter resolved anew at each poll (a relative `--since 1h` moves with the clock, also
//! when a `304 Not Modified` keeps the list), and the drops,
//! each on a thread of its own. Results come back to the terminal loop as [`Event`]s,
//! so the screen never waits for the network.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use segura_api::{SessionApi, SessionFilter};
use segura_model::{RemoteSession, SessionHash};
use tokio::runtime::Runtime;

use super::super::drop::{append, execute, Known};
use crate::drop_log::{DropLog, Outcome};
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
    /// The drop log (`None` when no path can be named: every drop is then refused).
    pub drop_log: Option<PathBuf>,
    /// The appliance's URL without any login, for the drop log.
    pub appliance: String,
}

/// The filter of one poll, its relative times resolved at the moment of the poll.
pub type Resolve = Box<dyn Fn() -> Result<SessionFilter, CliError> + Send>;

/// The poll thread's handle.
pub struct Poller {
    wake: Sender<()>,
    /// Sessions read by the running poll.
    pub read: Arc<AtomicU64>,
    /// Set when the view ends: a running poll stops at its next session.
    pub stop: Arc<AtomicBool>,
}

impl Poller {
    /// Starts polling `server` at once, then every `interval`, each poll's sessions
    /// matched by the filter `filter` resolves at that poll.
    pub fn start(
        server: Server,
        filter: Resolve,
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
    filter: &Resolve,
    interval: Duration,
    woken: &Receiver<()>,
    events: &Sender<Event>,
    read: &AtomicU64,
    stop: &AtomicBool,
) {
    // One feed for the view's life: it sends the ETag of the last list back, and a
    // `304 Not Modified` keeps the previous poll's sessions.
    let mut feed = ApiFeed::new(&server.rt, server.api.as_ref());
    let mut last: Option<(Vec<RemoteSession>, u64)> = None;
    loop {
        // Requests made until now are answered by this poll.
        while woken.try_recv().is_ok() {}
        let begin = Instant::now();
        if events.send(Event::Started(begin)).is_err() {
            return;
        }
        read.store(0, Ordering::Relaxed);
        let polled = poll_once(&mut feed, read, stop).and_then(|fresh| {
            if let Some(fresh) = fresh {
                last = Some(fresh);
            }
            let filter = filter()?;
            let (open, listed) = last.as_ref().map_or((&[][..], 0), |(o, n)| (&o[..], *n));
            let matching = open.iter().filter(|s| filter.matches(s)).cloned();
            Ok((matching.collect::<Vec<_>>(), listed))
        });
        let event = match polled {
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

/// One poll: the open sessions (only those are kept), and how many were listed; `None`
/// when the list is unchanged since the feed's last one (a 304).
fn poll_once(
    feed: &mut ApiFeed<'_>,
    read: &AtomicU64,
    stop: &AtomicBool,
) -> Result<Option<(Vec<RemoteSession>, u64)>, CliError> {
    let mut open = Vec::new();
    let mut listed = 0u64;
    feed.feed(
        &mut |s| {
            if let Some(s) = s {
                listed += 1;
                read.store(listed, Ordering::Relaxed);
                if s.is_open() {
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
    Ok((!feed.unchanged()).then_some((open, listed)))
}

/// Drops `hash` (the session `session` of the last poll) on a thread of its own,
/// through the path of `sessions drop` and with its record in the drop log, and
/// reports the result on `events`.
pub fn drop_session(
    server: Server,
    hash: SessionHash,
    session: Option<RemoteSession>,
    events: Sender<Event>,
) {
    std::thread::spawn(move || {
        let result = open_log(&server).and_then(|log| {
            let known = Known {
                lookup: if session.is_some() {
                    "open"
                } else {
                    "not_listed"
                },
                session: session.as_ref(),
                reason: None,
            };
            execute(
                &server.rt,
                server.api.as_ref(),
                &log,
                &server.appliance,
                &hash,
                &known,
            )
        });
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

/// Writes the operator's "no" to the drop log, as `sessions drop` does; a log that
/// cannot be written is reported on the status line.
pub fn declined(
    server: &Server,
    hash: &SessionHash,
    session: Option<&RemoteSession>,
) -> Result<(), String> {
    let known = Known {
        lookup: if session.is_some() {
            "open"
        } else {
            "not_listed"
        },
        session,
        reason: None,
    };
    open_log(server)
        .and_then(|log| {
            append(
                &log,
                &server.appliance,
                hash,
                &known,
                Outcome::Declined,
                None,
                None,
            )
        })
        .map_err(|e| one_line(&e))
}

/// The drop log, opened (and created 0600) for one record.
fn open_log(server: &Server) -> Result<DropLog, CliError> {
    let path = server.drop_log.as_ref().ok_or_else(|| {
        CliError::config(
            "no drop log can be named: this system has no state or data directory; nothing was dropped",
            "set `drop_log` in the profile, or SEGURA_DROP_LOG",
        )
    })?;
    DropLog::open(path)
}
