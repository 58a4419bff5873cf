//! `segura sessions watch`: poll the list, report sessions not seen before and
//! reported sessions that have ended, and remember what was reported in a state file.
//!
//! The state file holds the ids of the reported sessions with their open/ended status.
//! It is written atomically (a temporary file renamed over it) after each poll, once
//! that poll's events are flushed, so a restart never repeats an event it had
//! delivered; a crash between the two can repeat the events of one poll (delivery is
//! at least once).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use segura_api::{Error as ApiError, SessionFilter};
use serde::{Deserialize, Serialize};

use crate::cli::{Format, WatchArgs};
use crate::exit::CliError;
use crate::feed::{Feed, Flow};
use crate::output::sessions::{event_sink, EventKind, EventSink};
use crate::output::OutputOpts;
use crate::progress::Progress;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    ended: bool,
    /// The last poll that saw the session.
    poll: u64,
}

/// The sessions reported so far.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WatchState {
    seen: HashMap<u64, Entry>,
    poll: u64,
}

/// The state file's content.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    version: u32,
    open: Vec<u64>,
    ended: Vec<u64>,
}

impl WatchState {
    /// Loads a state file; a missing file is an empty state (a first run).
    pub fn load(path: &Path) -> Result<Self, CliError> {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(CliError::config(
                    format!("cannot read the state file {}: {e}", path.display()),
                    "check the path and its permissions",
                ))
            }
        };
        let file: StateFile = serde_json::from_slice(&text)
            .ok()
            .filter(|f: &StateFile| f.version == 1)
            .ok_or_else(|| {
                CliError::config(
                    format!("the state file {} is not a watch state file", path.display()),
                    "pass another --state path, or delete this file to start over (every session is then reported again)",
                )
            })?;
        let mut seen = HashMap::with_capacity(file.open.len() + file.ended.len());
        for (ids, ended) in [(file.open, false), (file.ended, true)] {
            for id in ids {
                seen.insert(id, Entry { ended, poll: 0 });
            }
        }
        Ok(Self { seen, poll: 0 })
    }

    /// Writes the state atomically: a temporary file beside it, renamed over it.
    pub fn save(&self, path: &Path) -> Result<(), CliError> {
        let mut open = Vec::new();
        let mut ended = Vec::new();
        for (id, e) in &self.seen {
            if e.ended {
                ended.push(*id);
            } else {
                open.push(*id);
            }
        }
        open.sort_unstable();
        ended.sort_unstable();
        let body = serde_json::to_vec(&StateFile {
            version: 1,
            open,
            ended,
        })
        .map_err(|e| CliError::Local(format!("cannot encode the watch state: {e}")))?;
        let local = |e: std::io::Error| {
            CliError::Local(format!(
                "cannot write the state file {}: {e}",
                path.display()
            ))
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state".to_owned());
        let tmp: PathBuf = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&body)?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            local(e)
        })
    }

    /// How many sessions are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// One poll: reports into `sink`; after a complete poll, forgets the sessions the
    /// list no longer holds (purged by the server).
    pub fn poll(
        &mut self,
        feed: &mut dyn Feed,
        filter: &SessionFilter,
        sink: &mut dyn EventSink,
    ) -> Result<(), CliError> {
        self.poll += 1;
        let poll = self.poll;
        let seen = &mut self.seen;
        let result = feed.feed(
            &mut |s| {
                // Watch flushes every event already.
                let Some(s) = s else {
                    return Ok(Flow::Continue);
                };
                let id = s.id.get();
                match seen.get_mut(&id) {
                    Some(entry) => {
                        entry.poll = poll;
                        if !entry.ended && s.end.is_some() {
                            entry.ended = true;
                            sink.event(EventKind::Ended, s).map_err(CliError::output)?;
                        }
                    }
                    // Only sessions that match are reported; once reported, a session is
                    // followed to its end even if it stops matching (--active).
                    None if filter.matches(s) => {
                        seen.insert(
                            id,
                            Entry {
                                ended: s.end.is_some(),
                                poll,
                            },
                        );
                        sink.event(EventKind::New, s).map_err(CliError::output)?;
                    }
                    None => {}
                }
                Ok(Flow::Continue)
            },
            &Progress::disabled(),
        );
        if result.is_ok() {
            self.seen.retain(|_, e| e.poll == poll);
        }
        result
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
            "watch streams events and cannot print one JSON array: use -o ndjson (or csv, table)"
                .into(),
        ));
    }
    let filter = args.filter.to_filter();
    let mut state = match &args.state {
        Some(p) => WatchState::load(p)?,
        None => WatchState::default(),
    };
    let mut sink = event_sink(out, opts).map_err(CliError::output)?;
    loop {
        let result = state.poll(feed, &filter, &mut *sink);
        if let Err(CliError::BrokenPipe) = result {
            return Err(CliError::BrokenPipe);
        }
        // The events must be out before the state says they were delivered.
        sink.end_poll().map_err(CliError::output)?;
        if let Some(p) = &args.state {
            state.save(p)?;
        }
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
        if args.once {
            return Ok(());
        }
        std::thread::sleep(args.interval);
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
            interval: std::time::Duration::from_millis(1),
            state: Some(state.to_owned()),
            once: true,
            fields: None,
            filter: FilterArgs::default(),
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
            .map(str::to_owned)
            .collect();
        (r, lines)
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
        assert_eq!(saved, "{\"version\":1,\"open\":[2],\"ended\":[1]}\n");

        // Restarted: nothing new, then 2 ends and 3 appears; 1 was purged.
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
        assert_eq!(state.len(), 2);
        assert!(
            std::fs::read_dir(dir.path()).unwrap().count() == 1,
            "no temporary file left"
        );
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
