//! A response body as the byte stream `segura-api`'s decoder reads, with the idle and
//! total timeouts enforced between chunks.
//!
//! How body failures surface:
//!
//! * no chunk for longer than the read timeout: [`Error::Timeout`] with
//!   [`TimeoutKind::Idle`];
//! * past the request's total deadline: [`Error::Timeout`] with [`TimeoutKind::Total`];
//! * the connection reset or aborted, a broken chunked encoding or gzip stream: the byte
//!   stream simply ends, and the decoder reports the body as truncated
//!   ([`Error::InvalidResponse`] with `truncated: true`), with the byte offset and the
//!   number of complete sessions before the cut, which only the decoder knows. The
//!   transport's own message goes to the log (`warn`).

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use segura_api::{Error, TimeoutKind};
use tokio::time::{Instant, Sleep};

use crate::transport::error_chain;

/// A response body as reqwest delivers it.
pub(crate) type RawBody = Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>> + Send>>;

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
    idle_timer: Pin<Box<Sleep>>,
    deadline: Option<(Duration, Pin<Box<Sleep>>)>,
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
            idle_timer: Box::pin(tokio::time::sleep_until(after(idle))),
            deadline: total.map(|(d, at)| (d, Box::pin(tokio::time::sleep_until(at)))),
            bytes: 0,
            path,
            done: false,
        }
    }
}

impl<S> Stream for BodyStream<S>
where
    S: Stream<Item = Result<Bytes, reqwest::Error>> + Unpin,
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
                let next = after(this.idle);
                this.idle_timer.as_mut().reset(next);
                return Poll::Ready(Some(Ok(chunk)));
            }
            Poll::Ready(Some(Err(e))) => {
                this.done = true;
                if e.is_timeout() {
                    return Poll::Ready(Some(Err(this.idle_error())));
                }
                tracing::warn!(
                    path = %this.path,
                    bytes = this.bytes,
                    error = %error_chain(&e),
                    "the response body was cut"
                );
                return Poll::Ready(None);
            }
            Poll::Ready(None) => {
                this.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if let Some((total, timer)) = &mut this.deadline {
            if timer.as_mut().poll(cx).is_ready() {
                this.done = true;
                let message = format!(
                    "the request took longer than its deadline of {} ({} bytes of the body received)",
                    human(*total),
                    this.bytes
                );
                return Poll::Ready(Some(Err(Error::Timeout {
                    kind: TimeoutKind::Total,
                    message,
                })));
            }
        }
        if this.idle_timer.as_mut().poll(cx).is_ready() {
            this.done = true;
            return Poll::Ready(Some(Err(this.idle_error())));
        }
        Poll::Pending
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
        }
    }
}

/// `1.5s`, `120s`, `250ms`.
pub(crate) fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_for_messages() {
        assert_eq!(human(Duration::from_millis(250)), "250ms");
        assert_eq!(human(Duration::from_secs(120)), "120s");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn far_future_does_not_overflow() {
        let far = after(Duration::MAX);
        assert!(far > Instant::now() + Duration::from_secs(86_400));
    }
}
