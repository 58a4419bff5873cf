//! `segura sessions watch`: poll the list, report sessions not seen before, reported
//! sessions that have ended, and reported open sessions that left the list without an
//! end; remember what was reported in a state file.
//!
//! The state file holds the ids of the reported sessions with their status (open, ended,
//! vanished). It is written atomically (a private temporary file renamed over it) after
//! each poll, once that poll's events are flushed, so a restart never repeats an event it
//! had delivered; a crash between the two can repeat the events of one poll (delivery is
//! at least once). A lock beside it keeps a second watcher off the same state.
//!
//! With `--syslog`, the state file also holds the events not yet delivered to the
//! receiver (version 3): an event is reported (its session marked in the state) and
//! queued in the same save, and leaves the queue in the save after the receiver took it
//! (written and flushed), so a crash or a receiver away loses none (see `syslog`).
//!
//! A reported session is never forgotten by a poll: an empty or partial list (a fault
//! of the appliance or of a proxy) cannot make `watch` report everything as new again.
//! Only `--prune` and `--forget` remove sessions from the state.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use segura_api::{Error as ApiError, SessionFilter};
use segura_model::{RemoteSession, SessionId};
use serde::{Deserialize, Serialize};

use crate::cli::WatchArgs;
use crate::exit::CliError;
use crate::feed::{Feed, Flow};
use crate::output::sessions::{event_sink, EventKind, EventSink};
use crate::output::Format;
use crate::output::OutputOpts;
use crate::progress::Progress;
use crate::state_file;
use crate::syslog::{Delivery, Header, Outbox, Pending, Recorder, Scheme, TlsOptions};

/// An interval shorter than this is allowed, with a warning.
pub const ADVISED_INTERVAL: Duration = Duration::from_secs(10);

/// What is known of a reported session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Reported open, and listed open at the last complete poll.
    Open,
    /// Reported ended.
    Ended,
    /// Reported open, then missing from a complete list without an end.
    Vanished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    status: Status,
    /// The last poll that saw the session.
    poll: u64,
}

/// The sessions reported so far.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WatchState {
    seen: HashMap<u64, Entry>,
    /// The reported open sessions as this process last listed them, for the record of
    /// a `vanished` event (not saved: after a restart, a vanished event has the id only
    /// until the session is listed again).
    open: HashMap<u64, RemoteSession>,
    poll: u64,
    /// Sessions the last poll listed (matching or not).
    listed: u64,
    /// Events reported but not yet delivered to the syslog receiver, oldest first.
    pending: VecDeque<Pending>,
}

/// The state file's content. Version 1 (no `vanished`) is still read; version 2 is
/// written, or version 3 when events wait for the syslog receiver (`pending`): an
/// older `segura` refuses it rather than lose them.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    version: u32,
    open: Vec<u64>,
    ended: Vec<u64>,
    #[serde(default)]
    vanished: Vec<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pending: Vec<Pending>,
}

impl WatchState {
    /// Loads a state file; a missing file is an empty state (a first run).
    pub fn load(path: &Path) -> Result<Self, CliError> {
        let Some(text) = state_file::read(path)? else {
            return Ok(Self::default());
        };
        let file: StateFile = serde_json::from_slice(&text)
            .ok()
            .filter(|f: &StateFile| match f.version {
                1 => f.vanished.is_empty() && f.pending.is_empty(),
                2 => f.pending.is_empty(),
                3 => true,
                _ => false,
            })
            .ok_or_else(|| {
                CliError::config(
                    format!("the state file {} is not a watch state file", path.display()),
                    "pass another --state path, or delete this file to start over (every session is then reported again)",
                )
            })?;
        let mut seen =
            HashMap::with_capacity(file.open.len() + file.ended.len() + file.vanished.len());
        for (ids, status) in [
            (file.open, Status::Open),
            (file.vanished, Status::Vanished),
            (file.ended, Status::Ended),
        ] {
            for id in ids {
                seen.insert(id, Entry { status, poll: 0 });
            }
        }
        Ok(Self {
            seen,
            open: HashMap::new(),
            poll: 0,
            listed: 0,
            pending: file.pending.into(),
        })
    }

    /// Writes the state atomically (see [`state_file::write_atomic`]).
    pub fn save(&self, path: &Path) -> Result<(), CliError> {
        let mut file = StateFile {
            version: if self.pending.is_empty() { 2 } else { 3 },
            open: Vec::new(),
            ended: Vec::new(),
            vanished: Vec::new(),
            pending: self.pending.iter().cloned().collect(),
        };
        for (id, e) in &self.seen {
            match e.status {
                Status::Open => file.open.push(*id),
                Status::Ended => file.ended.push(*id),
                Status::Vanished => file.vanished.push(*id),
            }
        }
        file.open.sort_unstable();
        file.ended.sort_unstable();
        file.vanished.sort_unstable();
        let mut body = serde_json::to_vec(&file)
            .map_err(|e| CliError::Local(format!("cannot encode the watch state: {e}")))?;
        body.push(b'\n');
        state_file::write_atomic(path, &body)
    }

    /// How many sessions are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Forgets these sessions (`--forget`): if listed again, they are reported as new.
    pub fn forget(&mut self, ids: &[SessionId]) {
        for id in ids {
            self.seen.remove(&id.get());
            self.open.remove(&id.get());
        }
    }

    /// `--prune`: after a complete poll, forgets the sessions it did not list (vanished,
    /// and ended ones the appliance purged). Returns how many were forgotten, or `None`
    /// when the list was empty: an empty answer is more likely a fault than a purge of
    /// everything, so it prunes nothing.
    pub fn prune(&mut self) -> Option<usize> {
        if self.listed == 0 {
            return None;
        }
        let before = self.seen.len();
        let poll = self.poll;
        self.seen.retain(|_, e| e.poll == poll);
        let seen = &self.seen;
        self.open.retain(|id, _| seen.contains_key(id));
        Some(before - self.seen.len())
    }

    /// One poll: reports into `sink`; after a complete poll, reports once each open
    /// session that the list no longer holds (`vanished`), and keeps it.
    pub fn poll(
        &mut self,
        feed: &mut dyn Feed,
        filter: &SessionFilter,
        sink: &mut dyn EventSink,
    ) -> Result<(), CliError> {
        self.poll += 1;
        let listed_before = std::mem::take(&mut self.listed);
        sink.begin_poll(self.poll, crate::clock::now());
        let poll = self.poll;
        let seen = &mut self.seen;
        let open = &mut self.open;
        let listed = &mut self.listed;
        let result = feed.feed(
            &mut |s| {
                // Watch flushes every event already.
                let Some(s) = s else {
                    return Ok(Flow::Continue);
                };
                *listed += 1;
                let id = s.id.get();
                match seen.get_mut(&id) {
                    Some(entry) => {
                        entry.poll = poll;
                        match entry.status {
                            Status::Open | Status::Vanished if s.end.is_some() => {
                                entry.status = Status::Ended;
                                open.remove(&id);
                                sink.event(EventKind::Ended, s).map_err(CliError::output)?;
                            }
                            // Listed again, still open: followed again, silently.
                            Status::Vanished => {
                                entry.status = Status::Open;
                                remember(open, s);
                            }
                            Status::Open => remember(open, s),
                            Status::Ended => {}
                        }
                    }
                    // Only sessions that match are reported; once reported, a session is
                    // followed to its end even if it stops matching (--active).
                    None if filter.matches(s) => {
                        let status = if s.end.is_some() {
                            Status::Ended
                        } else {
                            remember(open, s);
                            Status::Open
                        };
                        seen.insert(id, Entry { status, poll });
                        sink.event(EventKind::New, s).map_err(CliError::output)?;
                    }
                    None => {}
                }
                Ok(Flow::Continue)
            },
            &Progress::disabled(),
        );
        result?;
        if feed.unchanged() {
            // 304 Not Modified: every session followed is where it was; nothing vanished.
            self.listed = listed_before;
            for entry in self.seen.values_mut() {
                entry.poll = poll;
            }
            return Ok(());
        }
        let mut gone: Vec<u64> = self
            .seen
            .iter()
            .filter(|(_, e)| e.status == Status::Open && e.poll != poll)
            .map(|(id, _)| *id)
            .collect();
        gone.sort_unstable();
        for id in gone {
            if let Some(e) = self.seen.get_mut(&id) {
                e.status = Status::Vanished;
            }
            let last = self.open.remove(&id);
            sink.vanished(SessionId::new(id), last.as_ref())
                .map_err(CliError::output)?;
        }
        Ok(())
    }
}

/// Keeps how an open session was last listed (reusing the held copy's buffers).
fn remember(open: &mut HashMap<u64, RemoteSession>, s: &RemoteSession) {
    match open.get_mut(&s.id.get()) {
        Some(held) => held.clone_from(s),
        None => {
            open.insert(s.id.get(), s.clone());
        }
    }
}

/// Whether a failed poll is worth retrying at the next interval.
fn transient(e: &CliError) -> bool {
    matches!(
        e,
        CliError::Api {
            error: ApiError::Connect { .. }
                | ApiError::Timeout { .. }
                | ApiError::Server { .. }
                | ApiError::InvalidResponse { .. },
            ..
        }
    )
}

/// Where the events go: printed, or queued for the syslog receiver.
enum Out<'a> {
    Print(Box<dyn EventSink + 'a>),
    Syslog(Box<(Recorder, Outbox)>),
}

/// `--syslog`: the outbox, after the checks and warnings of its options.
fn syslog_outbox(
    args: &WatchArgs,
    opts: &OutputOpts,
    warn: &mut dyn FnMut(&str),
) -> Result<Option<(Recorder, Outbox)>, CliError> {
    let s = &args.syslog;
    let Some(target) = &s.url else {
        return Ok(None);
    };
    // The default format (a table) is for a terminal: the receiver gets NDJSON.
    let mut opts = opts.clone();
    if opts.format == Format::Table {
        opts.format = Format::Ndjson;
    }
    if matches!(opts.format, Format::Csv | Format::Wide | Format::Json) {
        return Err(CliError::Usage(
            "--syslog sends one record per event: use -o ndjson (or another one-line format)"
                .into(),
        ));
    }
    if target.scheme != Scheme::Tls && (s.ca.is_some() || s.insecure_skip_verify) {
        return Err(CliError::Usage(format!(
            "--syslog-ca and --syslog-insecure-skip-verify are for a tls:// receiver, not {target}"
        )));
    }
    match target.scheme {
        Scheme::Udp => warn(&format!(
            "warning: --syslog {target}: UDP has no acknowledgement, so an event lost on \
             the way is lost for good (best effort); use tcp:// or tls:// to lose none"
        )),
        Scheme::Tls if s.insecure_skip_verify => warn(&format!(
            "warning: --syslog-insecure-skip-verify: the certificate of {target} is NOT \
             verified; anyone on the path can read and change the events"
        )),
        Scheme::Tcp | Scheme::Tls => {}
    }
    let tls = TlsOptions {
        ca: s.ca.clone(),
        insecure: s.insecure_skip_verify,
    };
    let delivery = Delivery::new(target.clone(), &tls, Header::new(s.facility))?;
    let recorder = Recorder::new(&opts).map_err(CliError::output)?;
    Ok(Some((
        recorder,
        Outbox::new(delivery, s.queue, s.retry_max),
    )))
}

/// Runs `watch` over `feed`; `warn` receives the notes about failed polls.
pub fn run(
    feed: &mut dyn Feed,
    args: &WatchArgs,
    out: impl Write,
    opts: &OutputOpts,
    warn: &mut dyn FnMut(&str),
) -> Result<(), CliError> {
    if opts.format == Format::Json {
        return Err(CliError::Usage(
            "watch streams events and cannot print one JSON array: use -o ndjson (or csv, table, ecs, ocsf, cef)"
                .into(),
        ));
    }
    super::matched::check(&args.filter)?;
    let filter = args.filter.to_filter()?;
    let outbox = syslog_outbox(args, opts, warn)?;
    // Held until the command ends: a second watcher on this state exits 1.
    let _lock = match &args.state {
        Some(p) => Some(state_file::lock(p)?),
        None => None,
    };
    let mut state = match &args.state {
        Some(p) => WatchState::load(p)?,
        None => WatchState::default(),
    };
    if outbox.is_none() && !state.pending.is_empty() {
        return Err(CliError::config(
            format!(
                "the state file {} holds {} events not yet delivered to syslog",
                args.state.as_deref().unwrap_or(Path::new("")).display(),
                state.pending.len()
            ),
            "run watch with --syslog URL again to deliver them first (or delete the file to \
             start over: every session is then reported again)",
        ));
    }
    state.forget(&args.forget);
    let save = |state: &WatchState| match &args.state {
        Some(p) => state.save(p),
        None => Ok(()),
    };
    // Before the first poll: a state that cannot be written fails now, not after
    // a whole poll of events was printed (and would be printed again).
    save(&state)?;
    if !args.once && args.interval < ADVISED_INTERVAL {
        warn(&format!(
            "warning: --interval {} polls often: listing sessions is slow on a large \
             appliance; {} or more is advised",
            humantime::format_duration(args.interval),
            humantime::format_duration(ADVISED_INTERVAL)
        ));
    }
    let mut out = match outbox {
        Some(syslog) => Out::Syslog(Box::new(syslog)),
        None => Out::Print(event_sink(out, opts).map_err(CliError::output)?),
    };
    loop {
        let next_poll = std::time::Instant::now() + args.interval;
        let sink: &mut dyn EventSink = match &mut out {
            Out::Print(sink) => &mut **sink,
            Out::Syslog(syslog) => &mut syslog.0,
        };
        let result = state.poll(feed, &filter, sink);
        if let Err(CliError::BrokenPipe) = result {
            return Err(CliError::BrokenPipe);
        }
        if result.is_ok() && args.prune && state.prune().is_none() {
            warn("warning: the list was empty: --prune forgot nothing (an empty answer is more likely a fault than a purge of every session)");
        }
        // The events must be out before the state says they were delivered.
        sink.end_poll().map_err(CliError::output)?;
        let mut sent = Ok(0);
        if let Out::Syslog(syslog) = &mut out {
            let (recorder, outbox) = &mut **syslog;
            // Queued in the same save that marks their sessions reported.
            state.pending.extend(recorder.take());
            if outbox.due() {
                sent = outbox.attempt(&mut state.pending, warn);
            }
        }
        save(&state)?;
        sent?;
        if let Err(e) = result {
            if args.once || !transient(&e) {
                return Err(e);
            }
            let report = e.report();
            let first = report.lines().next().unwrap_or("poll failed");
            warn(&format!(
                "warning: {}; polling again in {}",
                first.trim_start_matches("error: "),
                humantime::format_duration(args.interval)
            ));
        }
        if let Out::Syslog(syslog) = &out {
            syslog
                .1
                .check(state.pending.len(), args.once, args.state.is_some())?;
        }
        if args.once {
            return Ok(());
        }
        // Until the next poll: retry the receiver as its backoff allows.
        while let Out::Syslog(syslog) = &mut out {
            let outbox = &mut syslog.1;
            match outbox.retry_at() {
                Some(at) if at < next_poll && !state.pending.is_empty() => {
                    std::thread::sleep(at.saturating_duration_since(std::time::Instant::now()));
                    if outbox.attempt(&mut state.pending, warn)? > 0 {
                        save(&state)?;
                    }
                }
                _ => break,
            }
        }
        std::thread::sleep(next_poll.saturating_duration_since(std::time::Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::FilterArgs;
    use crate::feed::OnSession;
    use segura_model::{parse_datetime, RemoteSession, SessionDuration, SessionHash, SessionId};

    /// A list that changes between polls.
    struct Script(Vec<RemoteSession>, Option<CliError>);
    impl Feed for Script {
        fn feed(&mut self, on: &mut OnSession<'_>, _: &Progress) -> Result<(), CliError> {
            for s in &self.0 {
                on(Some(s))?;
            }
            match self.1.take() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
    }

    fn session(id: u64, ended: bool) -> RemoteSession {
        let mut s = RemoteSession::new(
            SessionId::new(id),
            SessionHash::from_wire(format!("{id:040x}")),
            parse_datetime("2024-05-06 16:05:07").unwrap(),
        );
        if ended {
            s.end = Some(s.start);
            s.time = Some(SessionDuration::from_secs(5));
        }
        s
    }

    fn args(state: &Path) -> WatchArgs {
        WatchArgs {
            interval: std::time::Duration::from_secs(60),
            state: Some(state.to_owned()),
            once: true,
            prune: false,
            forget: Vec::new(),
            fields: None,
            filter: FilterArgs::default(),
            syslog: Default::default(),
        }
    }

    fn once(feed: &mut Script, args: &WatchArgs) -> (Result<(), CliError>, Vec<String>) {
        let opts = OutputOpts {
            format: Format::Ndjson,
            fields: Some(vec![segura_model::Field::Id]),
            ..OutputOpts::default()
        };
        let mut out = Vec::new();
        let r = run(feed, args, &mut out, &opts, &mut |_| {});
        let lines = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(unstamped)
            .collect();
        (r, lines)
    }

    /// An event line without its `observed_at` and `poll`, after checking them.
    fn unstamped(line: &str) -> String {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let at = v["observed_at"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
        assert!(v["poll"].as_u64().unwrap() >= 1, "{line}");
        let from = line.find(",\"observed_at\":").unwrap();
        let to = line.find(",\"session\":").unwrap();
        format!("{}{}", &line[..from], &line[to..])
    }

    #[test]
    fn resumes_from_its_state_without_repeating() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watch.json");
        let a = args(&path);

        let mut feed = Script(vec![session(1, true), session(2, false)], None);
        let (r, lines) = once(&mut feed, &a);
        r.unwrap();
        assert_eq!(
            lines,
            [
                r#"{"event":"new","session":{"id":"1"}}"#,
                r#"{"event":"new","session":{"id":"2"}}"#
            ]
        );
        let saved = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            saved,
            "{\"version\":2,\"open\":[2],\"ended\":[1],\"vanished\":[]}\n"
        );

        // Restarted: nothing new, then 2 ends and 3 appears; 1 was purged (and is kept).
        let (_, lines) = once(
            &mut Script(vec![session(1, true), session(2, false)], None),
            &a,
        );
        assert!(lines.is_empty(), "{lines:?}");
        let (_, lines) = once(
            &mut Script(vec![session(2, true), session(3, false)], None),
            &a,
        );
        assert_eq!(
            lines,
            [
                r#"{"event":"ended","session":{"id":"2"}}"#,
                r#"{"event":"new","session":{"id":"3"}}"#
            ]
        );
        let state = WatchState::load(&path).unwrap();
        assert_eq!(state.len(), 3);
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["watch.json", "watch.json.lock"],
            "no temporary file left"
        );
    }

    #[test]
    fn a_version_1_state_file_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watch.json");
        std::fs::write(&path, "{\"version\":1,\"open\":[2],\"ended\":[1]}\n").unwrap();
        let (r, lines) = once(
            &mut Script(vec![session(1, true), session(2, true)], None),
            &args(&path),
        );
        r.unwrap();
        assert_eq!(lines, [r#"{"event":"ended","session":{"id":"2"}}"#]);
    }

    #[test]
    fn waiting_events_make_a_version_3_state_and_an_empty_queue_a_version_2() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watch.json");
        let mut state = WatchState::default();
        let at = chrono::DateTime::parse_from_rfc3339("2024-05-06T16:05:07+02:00").unwrap();
        state
            .pending
            .push_back(Pending::new(EventKind::New, 4, &at, "{\"x\":1}".into()));
        state.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\"version\":3,"), "{text}");
        let mut back = WatchState::load(&path).unwrap();
        assert_eq!(back.pending, state.pending);
        // A version 2 file with waiting events was not written by segura.
        std::fs::write(&path, text.replace("\"version\":3", "\"version\":2")).unwrap();
        assert_eq!(WatchState::load(&path).unwrap_err().exit_code(), 3);
        back.pending.clear();
        back.save(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"version\":2,\"open\":[],\"ended\":[],\"vanished\":[]}\n"
        );
    }

    #[test]
    fn an_empty_poll_forgets_nothing_and_reports_open_sessions_vanished_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watch.json");
        let a = args(&path);
        let full = || {
            Script(
                vec![session(1, true), session(2, false), session(3, false)],
                None,
            )
        };
        let (_, lines) = once(&mut full(), &a);
        assert_eq!(lines.len(), 3);

        // An empty but complete answer: 2 and 3 vanish, once; 1 had ended already.
        let (r, lines) = once(&mut Script(vec![], None), &a);
        r.unwrap();
        assert_eq!(
            lines,
            [
                r#"{"event":"vanished","session":{"id":"2"}}"#,
                r#"{"event":"vanished","session":{"id":"3"}}"#
            ]
        );
        let (_, lines) = once(&mut Script(vec![], None), &a);
        assert!(lines.is_empty(), "{lines:?}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"version\":2,\"open\":[],\"ended\":[1],\"vanished\":[2,3]}\n"
        );

        // They come back: nothing is new; 3 comes back ended.
        let (_, lines) = once(
            &mut Script(
                vec![session(1, true), session(2, false), session(3, true)],
                None,
            ),
            &a,
        );
        assert_eq!(lines, [r#"{"event":"ended","session":{"id":"3"}}"#]);

        // --prune forgets what a non-empty complete list lacks, never on an empty one.
        let mut p = a.clone();
        p.prune = true;
        let (_, lines) = once(&mut Script(vec![], None), &p);
        assert_eq!(lines, [r#"{"event":"vanished","session":{"id":"2"}}"#]);
        assert_eq!(WatchState::load(&path).unwrap().len(), 3);
        let (_, lines) = once(&mut Script(vec![session(3, true)], None), &p);
        assert!(lines.is_empty(), "{lines:?}");
        assert_eq!(WatchState::load(&path).unwrap().len(), 1);

        // --forget: reported as new again.
        let mut f = a.clone();
        f.forget = vec![SessionId::new(3)];
        let (_, lines) = once(&mut Script(vec![session(3, true)], None), &f);
        assert_eq!(lines, [r#"{"event":"new","session":{"id":"3"}}"#]);
    }

    #[test]
    fn a_failed_poll_still_saves_what_it_printed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watch.json");
        let a = args(&path);
        let err = CliError::from(segura_api::classify_response(502, b"", None));
        let (r, lines) = once(&mut Script(vec![session(1, false)], Some(err)), &a);
        assert_eq!(r.unwrap_err().exit_code(), 6);
        assert_eq!(lines.len(), 1);
        let (r, lines) = once(
            &mut Script(vec![session(1, false), session(2, false)], None),
            &a,
        );
        r.unwrap();
        assert_eq!(lines, [r#"{"event":"new","session":{"id":"2"}}"#]);
    }

    #[test]
    fn filters_choose_what_is_reported_and_json_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        let mut a = args(&path);
        a.filter.active = true;
        let (_, lines) = once(
            &mut Script(vec![session(1, true), session(2, false)], None),
            &a,
        );
        assert_eq!(lines, [r#"{"event":"new","session":{"id":"2"}}"#]);
        let (_, lines) = once(
            &mut Script(vec![session(1, true), session(2, true)], None),
            &a,
        );
        assert_eq!(lines, [r#"{"event":"ended","session":{"id":"2"}}"#]);

        std::fs::write(&path, "garbage").unwrap();
        let (r, _) = once(&mut Script(vec![], None), &a);
        assert_eq!(r.unwrap_err().exit_code(), 3);

        let opts = OutputOpts {
            format: Format::Json,
            ..OutputOpts::default()
        };
        let e = run(
            &mut Script(vec![], None),
            &a,
            Vec::new(),
            &opts,
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }
}
