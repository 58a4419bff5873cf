//! [`ExternalSorter`]: a full sort of any number of sessions in bounded memory.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::mem::size_of;
use std::path::PathBuf;

use segura_model::RemoteSession;

use super::{run, SortKey};

/// Why an [`ExternalSorter`] could not go on.
#[derive(Debug, thiserror::Error)]
pub enum SortError {
    /// No temporary file could be created for a sorted run.
    #[error("cannot create a temporary file in {} for the sort: {source}", dir.display())]
    TempFile {
        /// The directory tried.
        dir: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A sorted run could not be written (a full disk, most often).
    #[error("cannot write a sorted run to its temporary file: {0}")]
    Write(io::Error),
    /// A sorted run could not be read back.
    #[error("cannot read a sorted run back from its temporary file: {0}")]
    Read(io::Error),
}

/// A run of sessions in order, in an unnamed temporary file.
#[derive(Debug)]
struct Run {
    file: File,
    /// How many merges made it (0: written from memory).
    level: u32,
    sessions: u64,
}

/// Sorts sessions of any number in a memory budget: the same order as
/// [`Sorter`](super::Sorter) without a limit (by the [`SortKey`], stable in the order
/// pushed), but when the sessions held would exceed the budget, they are sorted and
/// written to a temporary file (a *run*), and the runs are merged at the end.
///
/// The runs are unnamed temporary files (`O_TMPFILE`, or created and unlinked at
/// once, by [`tempfile::tempfile_in`]) in the directory given to
/// [`ExternalSorter::temp_dir`] or [`std::env::temp_dir`] (`TMPDIR`), readable by the
/// owner only. They have no name from the start, so nothing is left behind on any
/// exit: success, error, panic, a signal, or `SIGKILL` (the kernel frees an unlinked
/// file when its last descriptor closes). The disk space they take is that of the
/// sessions in a compact binary form, about the size of their JSON or less.
///
/// Memory: the budget bounds the sessions held, estimated from their size and the
/// heap blocks of their text (with the allocator's rounding), and the buffer that
/// holds them; merging adds 64 KiB per run being read. At most 16 runs of a level
/// are kept: the 16th is merged with the 15 before it into one run of the next level,
/// so the number of open files stays small (15 per level) for any input.
///
/// ```
/// use segura_api::sort::{ExternalSorter, SortKey};
/// use segura_api::model::{parse_datetime, Field, RemoteSession, SessionHash, SessionId};
///
/// let mut sorter = ExternalSorter::new(SortKey::descending(Field::Id)).memory_budget(64 * 1024);
/// for id in 1..=2000 {
///     let start = parse_datetime("2024-05-06 16:05:07").unwrap();
///     sorter.push(&RemoteSession::new(SessionId::new(id), SessionHash::from_wire("h"), start))?;
/// }
/// assert!(sorter.spilled_runs() > 0);
/// let mut sorted = sorter.finish()?;
/// assert_eq!(sorted.next_ref()?.map(|s| s.id.get()), Some(2000));
/// # Ok::<(), segura_api::sort::SortError>(())
/// ```
#[derive(Debug)]
pub struct ExternalSorter {
    key: SortKey,
    budget: usize,
    dir: Option<PathBuf>,
    /// Each session with its arrival number, which breaks ties.
    held: Vec<(u64, RemoteSession)>,
    /// The estimated heap bytes of the sessions in `held`.
    held_heap: usize,
    seq: u64,
    runs: Vec<Run>,
    scratch: Vec<u8>,
}

impl ExternalSorter {
    /// The default memory budget: 256 MiB.
    pub const DEFAULT_BUDGET: usize = 256 << 20;
    /// Runs of one level merged together.
    const FAN_IN: usize = 16;
    /// The read buffer of each run during a merge.
    const READ_BUFFER: usize = 64 << 10;
    const WRITE_BUFFER: usize = 256 << 10;
    /// The first allocation of the buffer of held sessions, in sessions.
    const MIN_HELD: usize = 1024;

    /// An empty sorter with the default budget, spilling to [`std::env::temp_dir`].
    pub fn new(key: SortKey) -> Self {
        Self {
            key,
            budget: Self::DEFAULT_BUDGET,
            dir: None,
            held: Vec::new(),
            held_heap: 0,
            seq: 0,
            runs: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Holds at most about `bytes` of sessions in memory before writing a run.
    pub fn memory_budget(mut self, bytes: usize) -> Self {
        self.budget = bytes;
        self
    }

    /// Writes the runs in `dir` instead of [`std::env::temp_dir`].
    pub fn temp_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// The key sessions are sorted by.
    pub fn key(&self) -> SortKey {
        self.key
    }

    /// How many runs are on disk right now.
    pub fn spilled_runs(&self) -> usize {
        self.runs.len()
    }

    /// Takes one session (a copy of it); writes a run first when the budget is full.
    pub fn push(&mut self, session: &RemoteSession) -> Result<(), SortError> {
        const ELEM: usize = size_of::<(u64, RemoteSession)>();
        let cost = heap_bytes(session);
        let cap = self.held.capacity();
        // Growing the buffer briefly holds the old one and the new one.
        let buffer = if self.held.len() == cap {
            (cap + (cap * 2).max(Self::MIN_HELD)) * ELEM
        } else {
            cap * ELEM
        };
        if !self.held.is_empty() && buffer + self.held_heap + cost > self.budget {
            self.spill()?;
        }
        self.held.push((self.seq, session.clone()));
        self.seq += 1;
        self.held_heap += cost;
        Ok(())
    }

    /// The sessions pushed, in order, to be read with [`SortedSessions::next_ref`].
    pub fn finish(mut self) -> Result<SortedSessions, SortError> {
        self.sort_held();
        let mut sources = Vec::with_capacity(self.runs.len() + 1);
        for r in std::mem::take(&mut self.runs) {
            sources.push(Source::file(r)?);
        }
        sources.push(Source::Memory(std::mem::take(&mut self.held).into_iter()));
        Ok(SortedSessions {
            merger: Merger::new(self.key, sources).map_err(SortError::Read)?,
        })
    }

    fn sort_held(&mut self) {
        let key = self.key;
        self.held
            .sort_unstable_by(|a, b| key.compare(&a.1, &b.1).then(a.0.cmp(&b.0)));
    }

    fn temp_file(&self) -> Result<BufWriter<File>, SortError> {
        let dir = self.dir.clone().unwrap_or_else(std::env::temp_dir);
        match tempfile::tempfile_in(&dir) {
            Ok(f) => Ok(BufWriter::with_capacity(Self::WRITE_BUFFER, f)),
            Err(source) => Err(SortError::TempFile { dir, source }),
        }
    }

    /// Sorts what is held and writes it as a run.
    fn spill(&mut self) -> Result<(), SortError> {
        self.sort_held();
        let mut w = self.temp_file()?;
        for (_, s) in &self.held {
            self.scratch.clear();
            run::encode(s, &mut self.scratch);
            w.write_all(&self.scratch).map_err(SortError::Write)?;
        }
        let sessions = self.held.len() as u64;
        self.held.clear();
        self.held_heap = 0;
        self.runs.push(Run {
            file: finish_file(w)?,
            level: 0,
            sessions,
        });
        self.compact()
    }

    /// Merges the last [`Self::FAN_IN`] runs while they are of the same level. Levels
    /// never grow along `runs`, so merged runs keep their place in arrival order.
    fn compact(&mut self) -> Result<(), SortError> {
        while let Some(tail) = self.runs.len().checked_sub(Self::FAN_IN) {
            let level = self.runs[tail].level;
            if self.runs[tail..].iter().any(|r| r.level != level) {
                break;
            }
            let group = self.runs.split_off(tail);
            let mut sources = Vec::with_capacity(group.len());
            for r in group {
                sources.push(Source::file(r)?);
            }
            let mut merger = Merger::new(self.key, sources).map_err(SortError::Read)?;
            let mut w = self.temp_file()?;
            let mut sessions = 0;
            while let Some(s) = merger.next_ref().map_err(SortError::Read)? {
                self.scratch.clear();
                run::encode(s, &mut self.scratch);
                w.write_all(&self.scratch).map_err(SortError::Write)?;
                sessions += 1;
            }
            self.runs.push(Run {
                file: finish_file(w)?,
                level: level + 1,
                sessions,
            });
        }
        Ok(())
    }
}

fn finish_file(w: BufWriter<File>) -> Result<File, SortError> {
    w.into_inner().map_err(|e| SortError::Write(e.into_error()))
}

/// The estimated heap bytes of a session's text: each block rounded as glibc's
/// allocator does (8 bytes of header, 16-byte steps, 32 bytes at least).
fn heap_bytes(s: &RemoteSession) -> usize {
    fn block(cap: usize) -> usize {
        if cap == 0 {
            0
        } else {
            (cap + 8).next_multiple_of(16).max(32)
        }
    }
    let other = |text: &str, known: bool| if known { 0 } else { block(text.len()) };
    block(s.user.capacity())
        + block(s.origin_ip.capacity())
        + block(s.credential.capacity())
        + block(s.device.capacity())
        + block(s.session_id.as_str().len())
        + s.request.as_ref().map_or(0, |t| block(t.capacity()))
        + s.itsm.as_ref().map_or(0, |t| block(t.capacity()))
        + other(
            s.protocol.as_str(),
            !matches!(s.protocol, segura_model::Protocol::Other(_)),
        )
        + other(
            s.proxy.as_str(),
            !matches!(s.proxy, segura_model::Proxy::Other(_)),
        )
}

/// The sessions of an [`ExternalSorter`], in order.
#[derive(Debug)]
pub struct SortedSessions {
    merger: Merger,
}

impl SortedSessions {
    /// The next session in order, `None` after the last.
    pub fn next_ref(&mut self) -> Result<Option<&RemoteSession>, SortError> {
        self.merger.next_ref().map_err(SortError::Read)
    }
}

/// Where a merge reads one run from.
#[derive(Debug)]
enum Source {
    File { reader: BufReader<File>, left: u64 },
    Memory(std::vec::IntoIter<(u64, RemoteSession)>),
}

impl Source {
    fn file(mut run: Run) -> Result<Self, SortError> {
        run.file.seek(SeekFrom::Start(0)).map_err(SortError::Read)?;
        Ok(Source::File {
            reader: BufReader::with_capacity(ExternalSorter::READ_BUFFER, run.file),
            left: run.sessions,
        })
    }

    /// Reads the next session of the run into `s`; false at its end.
    fn next_into(&mut self, s: &mut RemoteSession) -> io::Result<bool> {
        match self {
            Source::File { reader, left } => {
                if *left == 0 {
                    return Ok(false);
                }
                *left -= 1;
                run::decode(reader, s)?;
                Ok(true)
            }
            Source::Memory(it) => match it.next() {
                Some((_, next)) => {
                    *s = next;
                    Ok(true)
                }
                None => Ok(false),
            },
        }
    }
}

/// The head of one run in the merge's heap.
#[derive(Debug)]
struct Head {
    key: SortKey,
    /// The run's place in arrival order, which breaks ties.
    rank: usize,
    session: RemoteSession,
}

impl Ord for Head {
    /// Reversed, so that the max-heap gives the first session.
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .compare(&self.session, &other.session)
            .then(self.rank.cmp(&other.rank))
            .reverse()
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

/// A k-way merge of runs with a binary heap of their heads.
#[derive(Debug)]
struct Merger {
    sources: Vec<Source>,
    heap: BinaryHeap<Head>,
    /// The session last handed out, refilled from its run on the next call.
    current: Option<Head>,
}

impl Merger {
    fn new(key: SortKey, mut sources: Vec<Source>) -> io::Result<Self> {
        let mut heap = BinaryHeap::with_capacity(sources.len());
        for (rank, source) in sources.iter_mut().enumerate() {
            let mut session = RemoteSession::default();
            if source.next_into(&mut session)? {
                heap.push(Head { key, rank, session });
            }
        }
        Ok(Self {
            sources,
            heap,
            current: None,
        })
    }

    fn next_ref(&mut self) -> io::Result<Option<&RemoteSession>> {
        if let Some(mut head) = self.current.take() {
            if self.sources[head.rank].next_into(&mut head.session)? {
                self.heap.push(head);
            }
        }
        self.current = self.heap.pop();
        Ok(self.current.as_ref().map(|h| &h.session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sort::sort_sessions;
    use segura_model::{Field, Protocol, Proxy, SessionDuration, SessionHash, SessionId};

    /// A small deterministic generator (xorshift64*), so that failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[(self.next() % from.len() as u64) as usize]
        }
    }

    /// Sessions drawn from small sets of values: many ties, absent values, text that
    /// differs only in case, unknown protocols and proxies.
    fn sessions(seed: u64, n: u64) -> Vec<RemoteSession> {
        let mut r = Rng(seed | 1);
        let base = segura_model::parse_datetime("2024-05-06 16:05:07").unwrap();
        (0..n)
            .map(|_| {
                let start = base + chrono::Duration::seconds((r.next() % 50) as i64 * 600);
                let mut s = RemoteSession::new(
                    SessionId::new(r.next() % (n / 2 + 1)),
                    SessionHash::from_wire(format!("{:x}", r.next() % 40)),
                    start,
                );
                s.user = r
                    .pick(&["alice", "Alice", "bob", "", "Zoë", "élan", "ALICE"])
                    .into();
                s.origin_ip = r.pick(&["10.0.0.1", "10.0.0.10", "", "fe80::1"]).into();
                s.credential = r.pick(&["root", "Root", "svc"]).into();
                s.device = format!("host-{}", r.next() % 7);
                s.protocol = Protocol::from_wire(r.pick(&["ssh", "rdp", "", "Telnet", "vnc"]));
                s.proxy = Proxy::from_wire(r.pick(&["web", "rdp", "ssh", "", "X"]));
                if r.next() % 3 > 0 {
                    let secs = r.next() % 5 * 900;
                    s.end = Some(start + chrono::Duration::seconds(secs as i64));
                    s.time = Some(SessionDuration::from_secs(secs));
                }
                s.prevent_purge = r.next() % 2 == 0;
                s.request = match r.next() % 4 {
                    0 => None,
                    1 => Some(String::new()),
                    _ => Some(r.pick(&["REQ-1", "req-1", "REQ-2"]).into()),
                };
                s.itsm = (r.next() % 2 == 0).then(|| r.pick(&["T-9", "t-10", "T-10"]).into());
                s
            })
            .collect()
    }

    #[test]
    fn many_runs_give_the_in_memory_order_for_every_key() {
        let dir = tempfile::tempdir().unwrap();
        for seed in [1, 42] {
            let all = sessions(seed, 3000);
            for field in Field::ALL {
                for key in [SortKey::ascending(field), SortKey::descending(field)] {
                    let expected = sort_sessions(&all, key, None);
                    let mut sorter = ExternalSorter::new(key)
                        .memory_budget(16 << 10)
                        .temp_dir(dir.path());
                    let mut most = 0;
                    for s in &all {
                        sorter.push(s).unwrap();
                        most = most.max(sorter.spilled_runs());
                    }
                    // Enough runs to merge levels on the way, and few open at once.
                    assert!(most >= ExternalSorter::FAN_IN, "{most} runs");
                    assert!(sorter.spilled_runs() < 3 * ExternalSorter::FAN_IN);
                    let mut sorted = sorter.finish().unwrap();
                    let mut got = Vec::new();
                    while let Some(s) = sorted.next_ref().unwrap() {
                        got.push(s.clone());
                    }
                    assert!(got == expected, "{key:?}, seed {seed}");
                }
            }
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn without_a_spill_nothing_touches_the_disk() {
        let all = sessions(3, 500);
        let key = SortKey::descending(Field::Start);
        let mut sorter = ExternalSorter::new(key).temp_dir("/nonexistent/segura-sort");
        for s in &all {
            sorter.push(s).unwrap();
        }
        assert_eq!(sorter.spilled_runs(), 0);
        let mut sorted = sorter.finish().unwrap();
        let mut n = 0;
        while let Some(s) = sorted.next_ref().unwrap() {
            assert_eq!(s, &sort_sessions(&all, key, None)[n]);
            n += 1;
        }
        assert_eq!(n, all.len());
    }

    #[test]
    fn a_directory_that_cannot_hold_a_run_is_a_clear_error() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut sorter = ExternalSorter::new(SortKey::ascending(Field::Id))
            .memory_budget(1)
            .temp_dir(file.path());
        let all = sessions(5, 3);
        sorter.push(&all[0]).unwrap();
        let err = sorter.push(&all[1]).unwrap_err();
        assert!(matches!(err, SortError::TempFile { .. }), "{err:?}");
        assert!(err
            .to_string()
            .contains("cannot create a temporary file in"));
    }

    #[test]
    fn the_estimate_counts_the_text_blocks() {
        let mut s = sessions(9, 1).remove(0);
        s.user = "x".repeat(100);
        assert!(heap_bytes(&s) >= 100 + 40);
    }
}
