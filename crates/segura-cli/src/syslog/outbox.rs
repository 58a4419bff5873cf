//! Between `watch` and the receiver: [`Recorder`] turns each event the `-o` format
//! renders into a [`Pending`] event; [`Outbox`] sends the queue, backs off while the
//! receiver is away, and stops `watch` rather than drop an event.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use segura_model::{RemoteSession, SessionId};

use super::net::Failure;
use super::{Backoff, Delivery, Pending};
use crate::clock::Now;
use crate::exit::CliError;
use crate::output::sessions::{event_sink, EventKind, EventSink};
use crate::output::OutputOpts;

/// The first wait after a failed attempt.
const FIRST_RETRY: Duration = Duration::from_millis(500);

/// What the inner format writes: the bytes of one event at a time.
#[derive(Clone, Default)]
struct Capture(Rc<RefCell<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An [`EventSink`] that renders each event with the `-o` format and keeps it, as
/// one line, for the receiver.
pub struct Recorder {
    inner: Box<dyn EventSink>,
    buf: Capture,
    at: DateTime<FixedOffset>,
    events: Vec<Pending>,
}

impl Recorder {
    /// A recorder rendering with `opts.format`, which must print one line per event.
    pub fn new(opts: &OutputOpts) -> io::Result<Self> {
        let buf = Capture::default();
        Ok(Recorder {
            inner: event_sink(buf.clone(), opts)?,
            buf,
            at: DateTime::default(),
            events: Vec::new(),
        })
    }

    /// The events recorded since the last call, in order.
    pub fn take(&mut self) -> Vec<Pending> {
        std::mem::take(&mut self.events)
    }

    fn keep(&mut self, kind: EventKind, id: SessionId) -> io::Result<()> {
        let mut bytes = std::mem::take(&mut *self.buf.0.borrow_mut());
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        if bytes.iter().any(|b| matches!(b, b'\n' | b'\r')) || bytes.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "this -o format does not render an event as one line, as syslog needs",
            ));
        }
        let record = String::from_utf8(bytes).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "an event rendered as invalid UTF-8",
            )
        })?;
        self.events
            .push(Pending::new(kind, id.get(), &self.at, record));
        Ok(())
    }
}

impl EventSink for Recorder {
    fn begin_poll(&mut self, poll: u64, now: Now) {
        self.at = now.at;
        self.inner.begin_poll(poll, now);
    }

    fn event(&mut self, kind: EventKind, session: &RemoteSession) -> io::Result<()> {
        self.inner.event(kind, session)?;
        self.keep(kind, session.id)
    }

    fn vanished(&mut self, id: SessionId, last: Option<&RemoteSession>) -> io::Result<()> {
        self.inner.vanished(id, last)?;
        self.keep(EventKind::Vanished, id)
    }

    fn end_poll(&mut self) -> io::Result<()> {
        self.inner.end_poll()?;
        self.buf.0.borrow_mut().clear();
        Ok(())
    }
}

/// Sends the queue to the receiver and decides when to try again.
pub struct Outbox {
    delivery: Delivery,
    backoff: Backoff,
    limit: usize,
    /// When the next attempt is due after a failure; `None`: at once.
    retry_at: Option<Instant>,
    /// The last failure, while the receiver is away.
    failing: Option<String>,
    warned_unexpected: bool,
}

impl Outbox {
    /// An outbox over `delivery` holding at most `limit` events, waiting at most
    /// `retry_max` between attempts.
    pub fn new(delivery: Delivery, limit: usize, retry_max: Duration) -> Self {
        Outbox {
            delivery,
            backoff: Backoff::new(FIRST_RETRY, retry_max),
            limit,
            retry_at: None,
            failing: None,
            warned_unexpected: false,
        }
    }

    /// When the next attempt is due, if one is waiting for its backoff.
    pub fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// Whether an attempt may be made now.
    pub fn due(&self) -> bool {
        self.retry_at.is_none_or(|t| Instant::now() >= t)
    }

    /// One attempt to send `queue`; `warn` hears of failures and of the recovery. Only
    /// a failure that retrying cannot mend is an error.
    pub fn attempt(
        &mut self,
        queue: &mut VecDeque<Pending>,
        warn: &mut dyn FnMut(&str),
    ) -> Result<usize, CliError> {
        if queue.is_empty() {
            return Ok(0);
        }
        let target = self.delivery.target().to_string();
        let result = self.delivery.deliver(queue);
        if !self.warned_unexpected && self.delivery.unexpected_bytes() > 0 {
            self.warned_unexpected = true;
            warn(&format!(
                "warning: the syslog receiver {target} sent {} bytes (a syslog receiver \
                 sends nothing): ignored",
                self.delivery.unexpected_bytes()
            ));
        }
        match result {
            Ok(sent) => {
                if self.failing.take().is_some() {
                    warn(&format!(
                        "note: the syslog receiver {target} is back: {sent} waiting events sent"
                    ));
                }
                self.backoff.reset();
                self.retry_at = None;
                Ok(sent)
            }
            Err(Failure::Transient(why)) => {
                let wait = self.backoff.failed();
                self.retry_at = Some(Instant::now() + wait);
                warn(&format!(
                    "warning: {why}; {} events waiting, next attempt in {}",
                    queue.len(),
                    humantime::format_duration(Duration::from_millis(wait.as_millis() as u64))
                ));
                self.failing = Some(why);
                Ok(0)
            }
            Err(Failure::Fatal(why)) => Err(CliError::Local(format!(
                "{why} ({} events not delivered)",
                queue.len()
            ))),
        }
    }

    /// An error when the queue holds more than `--syslog-queue` events, or (`once`)
    /// any event at all; `kept` says whether a state file keeps them.
    pub fn check(&self, queue: usize, once: bool, kept: bool) -> Result<(), CliError> {
        if queue <= self.limit && !(once && queue > 0) {
            return Ok(());
        }
        let target = self.delivery.target();
        let why = self
            .failing
            .as_deref()
            .unwrap_or("the receiver is not reachable");
        let fate = if kept {
            "they are kept in the state file and sent first when watch starts again"
        } else {
            "without --state they are not kept (the next run reports the listed sessions again)"
        };
        let head = if once {
            format!("{queue} events were not delivered to {target}")
        } else {
            format!(
                "{queue} events are waiting for {target}, more than --syslog-queue {}",
                self.limit
            )
        };
        Err(CliError::Local(format!("{head}: {why}; {fate}")))
    }
}
