//! Decoding on a thread of its own: a saved list is read and decoded on one thread while
//! the command's own thread filters, aggregates and prints, so `list`, `stats`, `audit`
//! and `report` on a file use both cores.
//!
//! The decoding thread hands the sessions over in batches, in order, over a bounded
//! channel, and takes the consumer's used batches back to fill again: the decoder parses
//! into a recycled session's buffers ([`ReaderSource::swap_session`]), so nothing is
//! copied or allocated per session and memory stays flat (a few batches in flight).
//!
//! What the consumer sees is what the single-threaded loop gave it:
//! * the sessions in order, then the end of the list or its error, after every session
//!   before it, with the same counts of bytes and sessions;
//! * "nothing ready" ([`OnSession`] with `None`) where the source reported it, that is
//!   before each read of the input, after the sessions decoded before that read: on a
//!   slow pipe every session is printed as soon as it is decoded, and on a fast file it
//!   is one flush per read, as before;
//! * an early stop (`Flow::Stop`, an error, a closed stdout) returns at once: the
//!   decoding thread stops at its next batch (it is not joined, so nothing waits for a
//!   read in progress).
//!
//! Written with the standard library's threads and channels: the handover is one
//! producer, one consumer and a recycling channel, which needs no crate.

use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use segura_api::{Error as ApiError, Next, ReaderSource};
use segura_model::RemoteSession;

use super::{with_progress, Flow, OnSession};
use crate::exit::CliError;
use crate::progress::Progress;

/// The source the decoding thread owns.
pub(super) type Source = ReaderSource<Box<dyn Read + Send>>;

/// Sessions per batch: small enough that the batches in flight are a few MiB (memory
/// stays flat), large enough that a 256 KiB read (about 750 sessions) is one handover:
/// each handover wakes the other thread, and at 128 per batch those wake-ups cost 6 % of
/// the CPU of `list`.
const BATCH: usize = 1024;

/// Batches in flight between the threads.
const IN_FLIGHT: usize = 4;

/// One batch of sessions, in order.
struct Batch {
    /// The sessions, as many as `bytes` has entries; the ones after them are the buffers
    /// of an earlier round, which the decoder fills next (in place: a session is not
    /// moved in or out of a pool on its way).
    sessions: Vec<RemoteSession>,
    /// For each session, the bytes consumed once it was decoded.
    bytes: Vec<u64>,
    /// Sessions decoded before the first of this batch.
    first: u64,
    /// The source is about to read (and may wait): flush after this batch.
    idle: bool,
}

/// What the decoding thread sends.
enum Message {
    Batch(Batch),
    /// The end of the list (`Ok`) or its error, with the counts there.
    End {
        result: Result<(), ApiError>,
        bytes: u64,
        sessions: u64,
    },
}

/// Streams `src` into `on`, decoding on a thread of its own.
pub(super) fn feed(
    src: Source,
    on: &mut OnSession<'_>,
    progress: &Progress,
) -> Result<(), CliError> {
    let (tx, rx) = sync_channel::<Message>(IN_FLIGHT);
    let (spare_tx, spare_rx) = sync_channel::<Batch>(IN_FLIGHT + 2);
    std::thread::Builder::new()
        .name("segura-decode".to_owned())
        .spawn(move || decode(src, &tx, &spare_rx))
        .map_err(|e| CliError::Local(format!("cannot start the decoding thread: {e}")))?;
    consume(&rx, &spare_tx, on, progress)
}

/// The decoding thread: fills batches and sends them, then the end.
fn decode(mut src: Source, tx: &SyncSender<Message>, spares: &Receiver<Batch>) {
    let mut batch = new_batch(spares, 0);
    loop {
        let (idle, end) = match src.next_event() {
            Some(Ok(Next::Session(_))) => {
                let n = batch.bytes.len();
                if batch.sessions.len() == n {
                    batch.sessions.push(RemoteSession::default());
                }
                if let Some(slot) = batch.sessions.get_mut(n) {
                    src.swap_session(slot);
                }
                batch.bytes.push(src.bytes_received());
                (false, None)
            }
            Some(Ok(Next::Idle)) => (true, None),
            None => (false, Some(Ok(()))),
            Some(Err(e)) => (false, Some(Err(e))),
        };
        let full = batch.bytes.len() >= BATCH;
        if full || idle || end.is_some() {
            if !batch.bytes.is_empty() || idle {
                batch.idle = idle;
                let next = new_batch(spares, src.sessions_received());
                if tx
                    .send(Message::Batch(std::mem::replace(&mut batch, next)))
                    .is_err()
                {
                    return;
                }
            }
            if let Some(result) = end {
                let _ = tx.send(Message::End {
                    result,
                    bytes: src.bytes_received(),
                    sessions: src.sessions_received(),
                });
                return;
            }
        }
    }
}

/// An empty batch, its vectors and sessions taken from a used one when there is one.
fn new_batch(spares: &Receiver<Batch>, first: u64) -> Batch {
    match spares.try_recv() {
        Ok(mut used) => {
            used.bytes.clear();
            used.first = first;
            used.idle = false;
            used
        }
        Err(_) => Batch {
            sessions: Vec::with_capacity(BATCH),
            bytes: Vec::with_capacity(BATCH),
            first,
            idle: false,
        },
    }
}

/// The command's thread: gives each session to `on`, in order, and sends the used
/// batches back.
fn consume(
    rx: &Receiver<Message>,
    spares: &SyncSender<Batch>,
    on: &mut OnSession<'_>,
    progress: &Progress,
) -> Result<(), CliError> {
    loop {
        let Ok(message) = rx.recv() else {
            return Err(CliError::Local(
                "the decoding thread stopped before the end of the input".to_owned(),
            ));
        };
        match message {
            Message::Batch(batch) => {
                for (k, (s, &bytes)) in batch.sessions.iter().zip(&batch.bytes).enumerate() {
                    let sessions = batch.first + k as u64 + 1;
                    match on(Some(s)) {
                        Ok(Flow::Continue) => {}
                        Ok(Flow::Stop) => return Ok(()),
                        Err(e) => return Err(with_progress(e, bytes, sessions)),
                    }
                }
                if let (Some(&bytes), n) = (batch.bytes.last(), batch.bytes.len()) {
                    progress.update(bytes, batch.first + n as u64);
                }
                if batch.idle {
                    if let Err(e) = on(None) {
                        let (bytes, sessions) = batch.bytes.last().map_or((0, batch.first), |&b| {
                            (b, batch.first + batch.bytes.len() as u64)
                        });
                        return Err(with_progress(e, bytes, sessions));
                    }
                }
                let _ = spares.try_send(batch);
            }
            Message::End {
                result,
                bytes,
                sessions,
            } => return result.map_err(|e| with_progress(CliError::from(e), bytes, sessions)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a consumer observed: each session's canonical line, and the "nothing
    /// ready" signals, in order.
    #[derive(Debug, PartialEq, Eq)]
    enum Seen {
        Session(String),
        Idle,
    }

    fn body(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        segura_mock::generator::write_list_body(&mut out, 7, n).unwrap();
        out
    }

    fn source(bytes: &[u8], chunk: usize) -> Source {
        let reader: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(bytes.to_vec()));
        ReaderSource::new(reader, "body.json").chunk_size(chunk)
    }

    fn line(s: &RemoteSession) -> String {
        let mut out = Vec::new();
        s.write_json(&mut out);
        String::from_utf8(out).unwrap()
    }

    /// The single-threaded loop the decoding thread replaces: the reference.
    fn inline(mut src: Source) -> (Vec<Seen>, Result<(), (u8, String)>) {
        let mut seen = Vec::new();
        loop {
            match src.next_event() {
                None => return (seen, Ok(())),
                Some(Ok(Next::Idle)) => seen.push(Seen::Idle),
                Some(Ok(Next::Session(s))) => seen.push(Seen::Session(line(s))),
                Some(Err(e)) => {
                    let e = with_progress(
                        CliError::from(e),
                        src.bytes_received(),
                        src.sessions_received(),
                    );
                    return (seen, Err((e.exit_code(), e.report())));
                }
            }
        }
    }

    fn threaded(src: Source, stop_after: Option<usize>) -> (Vec<Seen>, Result<(), (u8, String)>) {
        let mut seen = Vec::new();
        let mut sessions = 0;
        let result = feed(
            src,
            &mut |s| {
                match s {
                    Some(s) => {
                        seen.push(Seen::Session(line(s)));
                        sessions += 1;
                    }
                    None => seen.push(Seen::Idle),
                }
                Ok(match stop_after {
                    Some(n) if sessions >= n => Flow::Stop,
                    _ => Flow::Continue,
                })
            },
            &Progress::disabled(),
        );
        (seen, result.map_err(|e| (e.exit_code(), e.report())))
    }

    #[test]
    fn the_same_sessions_and_signals_in_the_same_order_at_every_chunking() {
        // More sessions than a few batches, so batches fill, are sent back and reused.
        let bytes = body(BATCH as u64 * 5 + 17);
        for chunk in [1, 7, 100, 4096, 65_536, ReaderSource::<&[u8]>::CHUNK] {
            let (want, end) = inline(source(&bytes, chunk));
            assert!(end.is_ok());
            assert_eq!(
                want.iter()
                    .filter(|s| matches!(s, Seen::Session(_)))
                    .count(),
                BATCH * 5 + 17
            );
            let (got, end) = threaded(source(&bytes, chunk), None);
            assert_eq!(end, Ok(()), "chunk {chunk}");
            assert!(got == want, "chunk {chunk}: the sequences differ");
        }
    }

    #[test]
    fn an_error_after_k_sessions_comes_after_those_sessions_with_the_same_report() {
        let bytes = body(300);
        let mut corrupt = bytes.clone();
        // A session in the middle loses a closing quote: invalid JSON there.
        let at = corrupt.len() / 2;
        let quote = at + corrupt[at..].iter().position(|&b| b == b'"').unwrap();
        corrupt[quote] = b'\x01';
        let cases = [
            bytes[..bytes.len() / 3].to_vec(),
            bytes[..bytes.len() - 1].to_vec(),
            corrupt,
            b"{\"remote_sessions\":[{\"id\":1}, nope]}".to_vec(),
            b"<html><title>502</title></html>".to_vec(),
        ];
        for (k, case) in cases.iter().enumerate() {
            for chunk in [3, 4096, ReaderSource::<&[u8]>::CHUNK] {
                let (want, want_end) = inline(source(case, chunk));
                let (got, got_end) = threaded(source(case, chunk), None);
                let (code, report) = want_end.clone().unwrap_err();
                assert_eq!(code, 8, "case {k}: {report}");
                assert_eq!(got_end, want_end, "case {k}, chunk {chunk}");
                assert!(got == want, "case {k}, chunk {chunk}: the sequences differ");
            }
        }
    }

    #[test]
    fn a_consumer_that_stops_gets_nothing_more() {
        let bytes = body(BATCH as u64 * 4);
        for n in [1, BATCH - 1, BATCH, BATCH * 3 + 1] {
            let (got, end) = threaded(source(&bytes, 4096), Some(n));
            assert_eq!(end, Ok(()));
            let sessions = got.iter().filter(|s| matches!(s, Seen::Session(_))).count();
            assert_eq!(sessions, n);
        }
    }

    #[test]
    fn a_consumer_error_is_returned_as_it_is() {
        let bytes = body(500);
        let mut count = 0;
        let err = feed(
            source(&bytes, 4096),
            &mut |s| {
                if s.is_some() {
                    count += 1;
                }
                if count == 200 {
                    return Err(CliError::Local("stop here".to_owned()));
                }
                Ok(Flow::Continue)
            },
            &Progress::disabled(),
        )
        .unwrap_err();
        assert!(err.report().contains("stop here"), "{}", err.report());
        assert_eq!(count, 200);
    }
}
