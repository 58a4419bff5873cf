//! A response body as the byte stream the decoder reads, with the idle and
//! total timeouts enforced between chunks.
//!
//! How body failures surface:
//!
//! * no chunk for longer than the read timeout: [`Error::Timeout`] with
//!   [`TimeoutKind::Idle`];
//! * past the request's total deadline: [`Error::Timeout`] with [`TimeoutKind::Total`];
//! * the connection reset or aborted, a `Content-Length` longer than what came, a broken
//!   chunked encoding or gzip stream (its CRC included): [`Error::InvalidResponse`] with
//!   `truncated: true` and the transport's message. [`crate::SessionStream`] lets
//!   the decoder report the cut first when the JSON was cut too (with the byte offset and
//!   the number of complete sessions, which only the decoder knows), and reports this
//!   error when the JSON had closed: such a body is not complete either.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::time::{Instant, Sleep};

use crate::error::{Error, TimeoutKind};
use crate::text::duration_text as human;
use crate::transport::{TransportError, TransportErrorKind};

/// A far-away instant, for durations too long to add.
pub(crate) fn after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400))
}

/// The body of a successful response, chunk by chunk.
pub(crate) struct BodyStream<S> {
    inner: S,
    idle: Duration,
    /// One timer for both waits (one timer per body keeps a thousand concurrent bodies
    /// cheap): it fires at the end of the idle wait or at the deadline, whichever comes
    /// first.
    timer: Pin<Box<Sleep>>,
    deadline: Option<(Duration, Instant)>,
    bytes: u64,
    path: String,
    done: bool,
}

impl<S> BodyStream<S> {
    /// Wraps `inner`; `total` is the request's deadline and how long it was.
    pub(crate) fn new(
        inner: S,
        idle: Duration,
        total: Option<(Duration, Instant)>,
        path: String,
    ) -> Self {
        Self {
            inner,
            idle,
            timer: Box::pin(tokio::time::sleep_until(next_wake(idle, total))),
            deadline: total,
            bytes: 0,
            path,
            done: false,
        }
    }
}

impl<S> Stream for BodyStream<S>
where
    S: Stream<Item = Result<Bytes, TransportError>> + Unpin,
{
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        match this.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.bytes += chunk.len() as u64;
                let next = next_wake(this.idle, this.deadline);
                this.timer.as_mut().reset(next);
                return Poll::Ready(Some(Ok(chunk)));
            }
            Poll::Ready(Some(Err(e))) => {
                this.done = true;
                if e.kind() == TransportErrorKind::Idle {
                    return Poll::Ready(Some(Err(this.idle_error())));
                }
                let cause = e.message();
                tracing::debug!(
                    path = %this.path,
                    bytes = this.bytes,
                    error = %cause,
                    "the response body was cut"
                );
                return Poll::Ready(Some(Err(Error::InvalidResponse {
                    message: format!(
                        "the response body was cut or its framing broken after {} bytes: {cause}",
                        this.bytes
                    ),
                    offset: this.bytes,
                    path: None,
                    sessions_before: 0,
                    truncated: true,
                })));
            }
            Poll::Ready(None) => {
                this.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if this.timer.as_mut().poll(cx).is_ready() {
            this.done = true;
            if let Some((total, at)) = this.deadline {
                if Instant::now() >= at {
                    let message = format!(
                        "the request took longer than its deadline of {} ({} bytes of the body received)",
                        human(total),
                        this.bytes
                    );
                    return Poll::Ready(Some(Err(Error::Timeout {
                        kind: TimeoutKind::Total,
                        message,
                        cause: None,
                    })));
                }
            }
            return Poll::Ready(Some(Err(this.idle_error())));
        }
        Poll::Pending
    }
}

/// When the body's timer fires next: at the end of the idle wait, or at the deadline.
fn next_wake(idle: Duration, deadline: Option<(Duration, Instant)>) -> Instant {
    let idle_end = after(idle);
    match deadline {
        Some((_, at)) => idle_end.min(at),
        None => idle_end,
    }
}

impl<S> BodyStream<S> {
    fn idle_error(&self) -> Error {
        tracing::debug!(path = %self.path, bytes = self.bytes, "idle timeout");
        Error::Timeout {
            kind: TimeoutKind::Idle,
            message: format!(
                "no data for {} after {} bytes of the response body",
                human(self.idle),
                self.bytes
            ),
            cause: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_future_does_not_overflow() {
        let far = after(Duration::MAX);
        assert!(far > Instant::now() + Duration::from_secs(86_400));
    }
}
