//! Response bodies: small ones in one piece, list bodies streamed from the
//! generator by a producer task, which is also where body faults (drip,
//! stall, truncation, reset) and gzip happen.

use std::convert::Infallible;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use crate::fault::FaultPlan;
use crate::generator::ListSource;
use crate::state::Shared;

/// The body type of every response.
pub(crate) type Body = UnsyncBoxBody<Bytes, io::Error>;

/// Bytes per body frame of a streamed list.
pub(crate) const FRAME_BYTES: usize = 64 * 1024;

/// What the connection a request arrived on needs to know about it.
#[derive(Debug)]
pub(crate) struct ConnInfo {
    /// Set just before a body fails on purpose: the socket is then closed
    /// with `SO_LINGER` 0, which sends a TCP RST.
    pub(crate) reset: Arc<AtomicBool>,
    /// Whether the connection is TLS (for OAuth 1.0a's base string URI).
    pub(crate) tls: bool,
}

pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

/// Where a streamed body's bytes come from.
pub(crate) enum Source {
    /// A generated list.
    List {
        list: ListSource,
        /// Pause before each session.
        delay: Option<Duration>,
    },
    /// A fixed body, cut after `end` bytes.
    Bytes { data: Bytes, end: usize },
    /// A body encoded ahead of time, sent as it is in frames that share its bytes.
    Ahead(Bytes),
}

type Chunk = Result<Frame<Bytes>, io::Error>;

/// Sends a body through a small channel, so memory stays flat however long
/// the body: at most a couple of frames wait between producer and socket.
pub(crate) struct Producer {
    tx: mpsc::Sender<Chunk>,
    gzip: Option<GzEncoder<Vec<u8>>>,
    drip: Option<(usize, Duration)>,
    sent_any: bool,
    conn: Arc<ConnInfo>,
    shared: Arc<Shared>,
}

impl Producer {
    /// Starts producing `source` shaped by `plan`; returns the body to hand
    /// to hyper.
    pub(crate) fn spawn(
        source: Source,
        plan: &FaultPlan,
        gzip: bool,
        conn: Arc<ConnInfo>,
        shared: Arc<Shared>,
    ) -> Body {
        let (tx, rx) = mpsc::channel::<Chunk>(2);
        let producer = Producer {
            tx,
            gzip: gzip
                .then(|| GzEncoder::new(Vec::with_capacity(FRAME_BYTES), Compression::fast())),
            drip: plan.drip,
            sent_any: false,
            conn,
            shared,
        };
        let stall = plan.stall;
        let reset = matches!(plan.cut, Some((_, true)));
        tokio::spawn(producer.run(source, stall, reset));
        StreamBody::new(ReceiverStream::new(rx).map(|chunk| chunk)).boxed_unsync()
    }

    async fn run(mut self, source: Source, stall: bool, reset: bool) {
        if stall {
            // Headers are out; the body never comes. Hold the connection
            // until the client or the server gives up.
            self.tx.closed().await;
            return;
        }
        let completed = match source {
            Source::List { mut list, delay } => {
                let mut buf = Vec::with_capacity(FRAME_BYTES + 4096);
                let mut first = true;
                loop {
                    buf.clear();
                    let step = match delay {
                        Some(pause) => {
                            if !first {
                                tokio::time::sleep(pause).await;
                            }
                            list.fill(&mut buf, usize::MAX, 1)
                        }
                        None => list.fill(&mut buf, FRAME_BYTES, u64::MAX),
                    };
                    first = false;
                    let Some(sessions) = step else { break true };
                    self.shared
                        .counters
                        .sessions_streamed
                        .fetch_add(sessions, Ordering::Relaxed);
                    if !self.emit(&buf).await {
                        break false;
                    }
                }
            }
            Source::Bytes { data, end } => {
                let end = end.min(data.len());
                self.emit(&data[..end]).await
            }
            Source::Ahead(mut data) => loop {
                if data.is_empty() {
                    break true;
                }
                let frame = data.split_to(FRAME_BYTES.min(data.len()));
                if !self.send(frame).await {
                    break false;
                }
            },
        };
        if !completed || !self.finish_gzip().await {
            return;
        }
        if reset {
            self.reset().await;
        }
    }

    /// Compresses (if asked) and sends `data`; false once the client is gone.
    async fn emit(&mut self, data: &[u8]) -> bool {
        match self.gzip.as_mut() {
            Some(encoder) => {
                if encoder
                    .write_all(data)
                    .and_then(|()| encoder.flush())
                    .is_err()
                {
                    return false;
                }
                let compressed = std::mem::take(encoder.get_mut());
                self.send(Bytes::from(compressed)).await
            }
            None => self.send(Bytes::copy_from_slice(data)).await,
        }
    }

    async fn finish_gzip(&mut self) -> bool {
        match self.gzip.take() {
            Some(encoder) => match encoder.finish() {
                Ok(rest) => self.send(Bytes::from(rest)).await,
                Err(_) => false,
            },
            None => true,
        }
    }

    async fn send(&mut self, mut data: Bytes) -> bool {
        let Some((piece, interval)) = self.drip else {
            if data.is_empty() {
                return true;
            }
            return self.tx.send(Ok(Frame::data(data))).await.is_ok();
        };
        while !data.is_empty() {
            if self.sent_any {
                tokio::time::sleep(interval).await;
            }
            self.sent_any = true;
            let part = data.split_to(piece.min(data.len()));
            if self.tx.send(Ok(Frame::data(part))).await.is_err() {
                return false;
            }
        }
        true
    }

    /// Fails the body so hyper drops the connection, after giving what was
    /// already produced the time to reach the socket.
    async fn reset(self) {
        // hyper writes out what it buffered once the channel runs dry; wait
        // for that so the client receives everything before the reset point.
        let mut waited = Duration::ZERO;
        while self.tx.capacity() < self.tx.max_capacity() && waited < Duration::from_secs(10) {
            if self.tx.is_closed() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            waited += Duration::from_millis(1);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.conn.reset.store(true, Ordering::SeqCst);
        let _ = self
            .tx
            .send(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "segura-mock: reset-after fault",
            )))
            .await;
    }
}
