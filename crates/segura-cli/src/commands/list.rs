//! `segura sessions list`: filter, optionally sort (with `segura-api`'s [`Sorter`]),
//! limit and print, while streaming.

use std::io::Write;

use segura_api::sort::{ExternalSorter, SortError, SortKey, Sorter};
use segura_api::SessionFilter;
use segura_model::RemoteSession;

use super::matched::Matched;
use crate::cli::ListArgs;
use crate::exit::CliError;
use crate::feed::{Feed, Flow};
use crate::output::sessions::{session_sink, SessionSink};
use crate::output::{NoteFn, OutputOpts};
use crate::progress::Progress;

/// Filter, limit and (with a sort) hold the sessions of a list.
pub struct Pipeline<'a> {
    filter: SessionFilter,
    limit: Option<usize>,
    /// With `--sort`: the sessions held until the list is complete.
    sorter: Option<Held>,
    written: usize,
    sink: Box<dyn SessionSink + 'a>,
    progress: &'a Progress,
    matched: Matched,
    note: Option<NoteFn>,
}

/// How `--sort` holds the sessions.
enum Held {
    /// With `--limit`: the first N, in memory.
    Top(Sorter),
    /// Without: all of them, spilling sorted runs to `TMPDIR` beyond the budget.
    All(ExternalSorter),
}

/// A failed spill, for the user: what failed and what to do.
fn sort_error(e: SortError) -> CliError {
    let hint = match &e {
        SortError::TempFile { .. } => {
            "set TMPDIR to a writable directory, or raise --sort-memory to hold more in memory"
        }
        SortError::Write(_) | SortError::Read(_) => {
            "free space where TMPDIR points (or point it elsewhere), or raise --sort-memory"
        }
    };
    CliError::Local(format!("--sort: {e}; {hint}"))
}

impl<'a> Pipeline<'a> {
    /// A pipeline into `sink`; a full sort holds at most about `sort_memory` bytes of
    /// sessions in memory (the library's default without one).
    pub fn new(
        filter: SessionFilter,
        limit: Option<usize>,
        sort: Option<SortKey>,
        sort_memory: Option<usize>,
        sink: Box<dyn SessionSink + 'a>,
        progress: &'a Progress,
    ) -> Self {
        let sorter = sort.map(|key| match limit {
            Some(n) => Held::Top(Sorter::new(key).limit(n)),
            None => {
                let sorter = ExternalSorter::new(key);
                Held::All(match sort_memory {
                    Some(bytes) => sorter.memory_budget(bytes),
                    None => sorter,
                })
            }
        });
        Self {
            matched: Matched::new(&filter),
            filter,
            limit,
            sorter,
            written: 0,
            sink,
            progress,
            note: None,
        }
    }

    /// Where the note "0 of N sessions matched" goes.
    pub fn note(mut self, note: Option<NoteFn>) -> Self {
        self.note = note;
        self
    }

    /// Takes one session.
    pub fn push(&mut self, s: &RemoteSession) -> Result<Flow, CliError> {
        if self.limit == Some(0) {
            return Ok(Flow::Stop);
        }
        let matched = self.filter.matches(s);
        self.matched.saw(s, matched);
        if !matched {
            return Ok(Flow::Continue);
        }
        match &mut self.sorter {
            None => {
                let _quiet = self.progress.pause();
                self.sink.write(s).map_err(CliError::output)?;
                self.written += 1;
                if self.limit == Some(self.written) {
                    return Ok(Flow::Stop);
                }
            }
            // With a limit it holds only what can still be printed.
            Some(Held::Top(sorter)) => sorter.push(s),
            Some(Held::All(sorter)) => sorter.push(s).map_err(sort_error)?,
        }
        Ok(Flow::Continue)
    }

    /// The input has nothing more ready: makes what was printed visible.
    pub fn idle(&mut self) -> Result<Flow, CliError> {
        if self.sorter.is_none() {
            self.sink.flush().map_err(CliError::output)?;
        }
        Ok(Flow::Continue)
    }

    /// The list is complete: prints what is held and ends the output.
    pub fn finish(mut self) -> Result<(), CliError> {
        let _quiet = self.progress.pause();
        match self.sorter.take() {
            None => {}
            Some(Held::Top(sorter)) => {
                for s in &sorter.into_sorted() {
                    self.sink.write(s).map_err(CliError::output)?;
                }
            }
            Some(Held::All(sorter)) => {
                let mut sorted = sorter.finish().map_err(sort_error)?;
                while let Some(s) = sorted.next_ref().map_err(sort_error)? {
                    self.sink.write(s).map_err(CliError::output)?;
                }
            }
        }
        self.sink.finish().map_err(CliError::output)?;
        if let (Some(note), Some(text), false) =
            (self.note, self.matched.note(), self.limit == Some(0))
        {
            note(&text);
        }
        Ok(())
    }

    /// The list failed: flushes what was printed, as complete records.
    pub fn abort(mut self) {
        let _quiet = self.progress.pause();
        let _ = self.sink.abort();
    }
}

/// Runs `list` over `feed`, printing to `out`.
pub fn run(
    feed: &mut dyn Feed,
    args: &ListArgs,
    out: impl Write,
    opts: &OutputOpts,
    progress: &Progress,
) -> Result<(), CliError> {
    super::matched::check(&args.filter)?;
    let sink = session_sink(out, opts).map_err(CliError::output)?;
    let mut pipeline = Pipeline::new(
        args.filter.to_filter()?,
        args.limit,
        args.sort,
        args.sort_memory,
        sink,
        progress,
    )
    .note(opts.note);
    let mut on = |s: Option<&RemoteSession>| match s {
        Some(s) => pipeline.push(s),
        None => pipeline.idle(),
    };
    match feed.feed(&mut on, progress) {
        Ok(()) => pipeline.finish(),
        Err(CliError::BrokenPipe) => Err(CliError::BrokenPipe),
        Err(e) => {
            pipeline.abort();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{parse_sort_key, FilterArgs};
    use crate::feed::ApiFeed;
    use crate::output::Format;
    use segura_api::InMemoryApi;
    use segura_model::{parse_datetime, Field, SessionDuration, SessionHash, SessionId};

    fn session(id: u64, user: &str, secs: Option<u64>) -> RemoteSession {
        let mut s = RemoteSession::new(
            SessionId::new(id),
            SessionHash::from_wire(format!("{id:040x}")),
            parse_datetime("2024-05-06 16:05:07").unwrap(),
        );
        s.user = user.to_owned();
        s.protocol = if id % 2 == 0 { "ssh" } else { "rdp" }.into();
        s.time = secs.map(SessionDuration::from_secs);
        if secs.is_some() {
            s.end = Some(s.start);
        }
        s
    }

    fn sessions() -> Vec<RemoteSession> {
        vec![
            session(1, "bob", Some(30)),
            session(2, "Alice", Some(300)),
            session(3, "carol", None),
            session(4, "alice", Some(10)),
            session(5, "dave", Some(300)),
        ]
    }

    fn ids(args: ListArgs) -> Vec<String> {
        let rt = crate::feed::runtime().unwrap();
        let api = InMemoryApi::new(sessions()).with_chunk_size(7);
        let mut feed = ApiFeed::new(&rt, &api);
        let opts = OutputOpts {
            format: Format::Ndjson,
            fields: Some(vec![Field::Id]),
            ..OutputOpts::default()
        };
        let mut out = Vec::new();
        run(&mut feed, &args, &mut out, &opts, &Progress::disabled()).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["id"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    fn sort(s: &str) -> Option<SortKey> {
        Some(parse_sort_key(s).unwrap())
    }

    #[test]
    fn filters_and_limit_while_streaming() {
        assert_eq!(ids(ListArgs::default()), ["1", "2", "3", "4", "5"]);
        let mut a = ListArgs::default();
        a.filter.user = vec!["ALICE".into()];
        assert_eq!(ids(a), ["2", "4"]);
        let a = ListArgs {
            limit: Some(2),
            ..ListArgs::default()
        };
        assert_eq!(ids(a), ["1", "2"]);
        let a = ListArgs {
            limit: Some(0),
            ..ListArgs::default()
        };
        assert!(ids(a).is_empty());
        let a = ListArgs {
            filter: FilterArgs {
                active: true,
                ..FilterArgs::default()
            },
            ..ListArgs::default()
        };
        assert_eq!(ids(a), ["3"]);
    }

    #[test]
    fn sort_is_stable_with_absent_values_last() {
        let a = ListArgs {
            sort: sort("-time"),
            ..ListArgs::default()
        };
        assert_eq!(ids(a), ["2", "5", "1", "4", "3"]);
        let a = ListArgs {
            sort: sort("time"),
            ..ListArgs::default()
        };
        assert_eq!(ids(a), ["4", "1", "2", "5", "3"]);
        let a = ListArgs {
            sort: sort("user"),
            limit: Some(3),
            ..ListArgs::default()
        };
        assert_eq!(ids(a), ["2", "4", "1"]);
        let a = ListArgs {
            sort: sort("-id"),
            limit: Some(2),
            ..ListArgs::default()
        };
        assert_eq!(ids(a), ["5", "4"]);
    }

    #[test]
    fn failure_midway_keeps_complete_lines_and_reports_progress() {
        let rt = crate::feed::runtime().unwrap();
        let body = InMemoryApi::new(sessions()).list_body();
        let cut = body.slice(..body.len() - 40);
        let api = InMemoryApi::new(vec![]).with_list_body(cut);
        let mut feed = ApiFeed::new(&rt, &api);
        let opts = OutputOpts {
            format: Format::Ndjson,
            ..OutputOpts::default()
        };
        let mut out = Vec::new();
        let err = run(
            &mut feed,
            &ListArgs::default(),
            &mut out,
            &opts,
            &Progress::disabled(),
        )
        .unwrap_err();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.ends_with('\n'));
        assert_eq!(err.exit_code(), 8);
        assert!(
            err.report().contains("incomplete: 4 sessions"),
            "{}",
            err.report()
        );
    }
}
