//! Reading answers: what a status, its headers and a body mean, and which failures may
//! be retried.

use std::time::Duration;

use http::header::{HeaderMap, CONTENT_ENCODING, LOCATION, RETRY_AFTER};
use http::{Method, StatusCode};

use super::Target;
use crate::error::{classify_response, AuthFailure, ConnectFailure, Error, TimeoutKind};

/// Largest error body read (and largest token or drop answer): enough for any message,
/// small enough that a hostile or broken server cannot fill memory.
pub const ERROR_BODY_CAP: usize = 64 * 1024;

/// `Retry-After` in seconds, when it is a whole number.
pub fn retry_after(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// The A2A v2 request id of an answer (`X-Request-Id`), made safe to print: control
/// characters escaped, at most 128 characters.
pub fn request_id(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get("x-request-id")?;
    let text = String::from_utf8_lossy(raw.as_bytes());
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut shown: String = crate::text::sanitize(text).chars().take(128).collect();
    if shown.len() < crate::text::sanitize(text).len() {
        shown.push('…');
    }
    Some(shown)
}

/// `error` with the answer's request id quoted in its message, for support.
pub fn with_request_id(error: Error, id: Option<&str>) -> Error {
    let Some(id) = id else {
        return error;
    };
    let mut error = error;
    match &mut error {
        Error::Config { message }
        | Error::Connect { message, .. }
        | Error::Timeout { message, .. }
        | Error::Auth { message, .. }
        | Error::NotFound { message, .. }
        | Error::Server { message, .. }
        | Error::Api { message, .. }
        | Error::InvalidResponse { message, .. }
        | Error::Input { message, .. } => {
            message.push_str(&format!(" (X-Request-Id: {id})"));
        }
    }
    error
}

/// How long a `429 Too Many Requests` asks to wait, in seconds: `Retry-After`, else
/// `X-RateLimit-Reset` (a Unix time) minus `now_unix`, at least one second.
pub fn rate_limit_wait(headers: &HeaderMap, now_unix: u64) -> Option<u64> {
    retry_after(headers).or_else(|| {
        let reset = headers
            .get("x-ratelimit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())?;
        Some(reset.saturating_sub(now_unix).max(1))
    })
}

/// The error of a `304 Not Modified` to a request that sent no `If-None-Match`: there
/// is no list it could stand for.
pub fn unasked_not_modified(path: &str) -> Error {
    Error::InvalidResponse {
        message: format!(
            "the server answered {path} with 304 Not Modified although the request \
             named no ETag (If-None-Match)"
        ),
        offset: 0,
        path: None,
        sessions_before: 0,
        truncated: false,
    }
}

/// The error of a redirect (3xx): never followed, so credentials stay with the
/// configured server.
pub fn redirect_error(path: &str, status: StatusCode, headers: &HeaderMap) -> Error {
    let location = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("an unnamed location");
    Error::Api {
        status: Some(status.as_u16()),
        code: None,
        message: format!(
            "the server redirects {path} to {location}; redirects are not followed \
             (credentials stay with the configured server): use the final address \
             as the server URL"
        ),
    }
}

/// The error a non-success answer to a request to `target` stands for, from its status,
/// `Retry-After` and (at most [`ERROR_BODY_CAP`] bytes of) its body. What a 401 means
/// depends on who was refused: the client's credentials at the token endpoint or with
/// OAuth 1.0a (`oauth1`), or an access token everywhere else.
pub fn response_error(
    target: Target,
    oauth1: bool,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Error {
    let status = status.as_u16();
    let error = classify_response(status, body, retry_after(headers));
    match error {
        Error::Auth {
            kind: AuthFailure::TokenRefused | AuthFailure::InvalidClient,
            status: s,
            message,
        } if status == 401 => {
            let kind = if target == Target::Token || oauth1 {
                AuthFailure::InvalidClient
            } else {
                AuthFailure::TokenRefused
            };
            Error::Auth {
                kind,
                status: s,
                message,
            }
        }
        other => other,
    }
}

/// The error for a success whose body is encoded in a way the client did not ask for
/// (a transport that asked for gzip decodes it and removes the header): a body in `br`
/// or `zstd`, or in gzip while compression is off, cannot be read, and guessing is no
/// answer.
pub fn unexpected_encoding(method: &Method, path: &str, headers: &HeaderMap) -> Option<Error> {
    let codings: Vec<String> = headers
        .get_all(CONTENT_ENCODING)
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty() && c != "identity")
        .collect();
    if codings.is_empty() {
        return None;
    }
    let shown: String = codings
        .join(", ")
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(60)
        .collect();
    Some(Error::InvalidResponse {
        message: format!(
            "the server answered {method} {path} with a body in the content encoding {shown:?}, \
             which the client did not ask for"
        ),
        offset: 0,
        path: None,
        sessions_before: 0,
        truncated: false,
    })
}

/// Whether `error` says the path does not exist on this appliance: HTTP 404, from the
/// gateway (`no Route matched`) or in the API's envelope (`Resource sub not found`), and
/// not an application code such as 1002 "Session not found". A 404 is a refusal before
/// anything happened, so another path variant may be tried, even for a drop.
pub fn is_route_missing(error: &Error) -> bool {
    matches!(
        error,
        Error::NotFound {
            status: Some(404),
            code: None,
            ..
        } | Error::Auth {
            kind: AuthFailure::NoRouteMatched,
            status: Some(404),
            ..
        }
    )
}

/// Whether the request certainly never reached the server: only then may a request that
/// is not idempotent (a drop) be sent again.
pub fn provably_unsent(error: &Error) -> bool {
    match error {
        Error::Connect { kind, .. } => *kind != ConnectFailure::Tls,
        Error::Timeout {
            kind: TimeoutKind::Connect,
            ..
        } => true,
        _ => false,
    }
}

/// Whether a request to `target` may be sent again after `error`: an idempotent one
/// after a retryable error ([`Error::is_retryable`]), a drop only when provably unsent.
pub fn may_retry(target: Target, error: &Error) -> bool {
    if target.idempotent() {
        error.is_retryable()
    } else {
        provably_unsent(error)
    }
}

/// Exponential backoff with jitter: between half and all of `initial * 2^retry`, capped
/// at `max`; `fraction` (in `0..=1`, drawn at random by the caller) picks where.
pub fn backoff(initial: Duration, max: Duration, retry: u32, fraction: f64) -> Duration {
    let full = initial
        .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX))
        .min(max);
    let half = full / 2;
    half + half.mul_f64(fraction.clamp(0.0, 1.0))
}

/// The error of a drop answer that was cut: the session may have been dropped.
pub fn drop_cut(detail: &str) -> Error {
    Error::InvalidResponse {
        message: format!(
            "the answer to the drop was cut (the session may have been dropped): {detail}"
        ),
        offset: 0,
        path: None,
        sessions_before: 0,
        truncated: true,
    }
}

/// The error of a token answer whose body could not be read. It never quotes the body.
pub fn token_body_error(detail: &str) -> Error {
    Error::InvalidResponse {
        message: format!("the token response could not be read: {detail}"),
        offset: 0,
        path: None,
        sessions_before: 0,
        truncated: false,
    }
}
