//! Fault injection: what can go wrong, on which requests, and the text syntax
//! shared by the `X-Segura-Mock-Fault` header and the binary's `--fault`
//! option.
//!
//! A fault is written as one of:
//!
//! | text | fault |
//! |---|---|
//! | `delay=50ms` | [`Fault::Delay`] |
//! | `drip=1/100ms` | [`Fault::Drip`] (bytes / interval) |
//! | `stall` | [`Fault::Stall`] |
//! | `truncate-after=10` | [`Fault::TruncateAfter`] |
//! | `reset-after=10` | [`Fault::ResetAfter`] |
//! | `500` | [`Fault::InternalError`] |
//! | `502` | [`Fault::BadGateway`] |
//! | `503` | [`Fault::ServiceUnavailable`] |
//! | `504` | [`Fault::GatewayTimeout`] |
//! | `408` | [`Fault::RequestTimeout`] |
//! | `429` or `429=5` | [`Fault::TooManyRequests`] (`Retry-After` seconds, 1 by default) |
//! | `429-reset=5` | [`Fault::RateLimited`] (A2A v2: `X-RateLimit-Reset` 5 s from now) |
//! | `403` | [`Fault::Forbidden`] |
//! | `404` | [`Fault::NotFound`] |
//! | `error-in-200` | [`Fault::ErrorIn200`] |
//! | `not-json` | [`Fault::NotJson`] |
//! | `expired-token` | [`Fault::ExpiredToken`] |
//!
//! Durations take a unit: `ms`, `s`, `m` or `h`. Several faults are
//! separated by commas: `delay=5ms, truncate-after=100`. In the header,
//! `none` means "no fault for this request", whatever is configured.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The request header that injects faults into the one request carrying it.
pub const FAULT_HEADER: &str = "x-segura-mock-fault";

/// One thing that goes wrong with a response.
///
/// Body faults (`Delay`, `Drip`, `Stall`, `TruncateAfter`, `ResetAfter`)
/// change how the body is sent and combine with each other and with a status
/// fault; status faults replace the response (the first one wins).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// List bodies wait this long before each session; other responses are
    /// sent after this delay.
    Delay(Duration),
    /// The body is sent `bytes` bytes at a time, `interval` apart.
    Drip {
        /// Bytes per piece (at least 1).
        bytes: usize,
        /// Pause between pieces.
        interval: Duration,
    },
    /// The status and headers are sent, the body never is; the connection
    /// stays open until the client gives up or the server shuts down.
    Stall,
    /// A list body ends cleanly (complete HTTP message) after this many
    /// sessions, without its closing `]}`, even if the list is shorter;
    /// other bodies end after half their bytes.
    TruncateAfter(u64),
    /// The connection is reset (TCP RST) after this many sessions of a list
    /// body, or half the bytes of other bodies: the client sees an error.
    ResetAfter(u64),
    /// HTTP 500, envelope with `Unexpected error.`.
    InternalError,
    /// HTTP 502 with an HTML page from the gateway.
    BadGateway,
    /// HTTP 503 from the gateway.
    ServiceUnavailable,
    /// HTTP 504 `{"message":"The upstream server is timing out"}`.
    GatewayTimeout,
    /// HTTP 408 `{"message":"Request timed out"}`.
    RequestTimeout,
    /// HTTP 429 with a `Retry-After` header.
    TooManyRequests {
        /// The `Retry-After` value, in seconds.
        retry_after: u64,
    },
    /// HTTP 429 the A2A v2 way: `X-RateLimit-Limit`, `X-RateLimit-Remaining: 0` and
    /// `X-RateLimit-Reset` (a Unix time), no `Retry-After`.
    RateLimited {
        /// Seconds from the answer to the reset.
        reset_in: u64,
    },
    /// HTTP 403, envelope with `You are not authorized to access this resource.`.
    Forbidden,
    /// HTTP 404, envelope with `Resource sub not found`.
    NotFound,
    /// HTTP 200 whose envelope reports an error (`code` 500,
    /// `response.error` true, `Unexpected error.`).
    ErrorIn200,
    /// HTTP 200 with an HTML page instead of JSON.
    NotJson,
    /// HTTP 401 as for an expired token; the bearer token presented is
    /// revoked, so retrying with it fails too. Applies to API requests only
    /// (list, get, drop), never to token requests.
    ExpiredToken,
}

impl Fault {
    /// Whether this fault replaces the response's status and body.
    pub fn is_status(&self) -> bool {
        !matches!(
            self,
            Fault::Delay(_)
                | Fault::Drip { .. }
                | Fault::Stall
                | Fault::TruncateAfter(_)
                | Fault::ResetAfter(_)
                | Fault::ExpiredToken
        )
    }

    /// Whether this fault can apply to a request on `route`.
    pub(crate) fn applies_to(&self, route: FaultTarget) -> bool {
        !(matches!(self, Fault::ExpiredToken) && route == FaultTarget::Token)
    }
}

fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 == 0 && ms > 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Parses `250ms`, `2s`, `1m`, `1h` (whitespace around the number allowed).
pub fn parse_duration(text: &str) -> Result<Duration, FaultParseError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| FaultParseError::new(text, "a duration needs a unit: ms, s, m or h"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| FaultParseError::new(text, "not a duration"))?;
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        "h" => Ok(Duration::from_secs(n.saturating_mul(3600))),
        _ => Err(FaultParseError::new(
            text,
            "a duration needs a unit: ms, s, m or h",
        )),
    }
}

impl fmt::Display for Fault {
    /// The text form accepted by [`Fault::from_str`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Delay(d) => write!(f, "delay={}", format_duration(*d)),
            Fault::Drip { bytes, interval } => {
                write!(f, "drip={bytes}/{}", format_duration(*interval))
            }
            Fault::Stall => f.write_str("stall"),
            Fault::TruncateAfter(n) => write!(f, "truncate-after={n}"),
            Fault::ResetAfter(n) => write!(f, "reset-after={n}"),
            Fault::InternalError => f.write_str("500"),
            Fault::BadGateway => f.write_str("502"),
            Fault::ServiceUnavailable => f.write_str("503"),
            Fault::GatewayTimeout => f.write_str("504"),
            Fault::RequestTimeout => f.write_str("408"),
            Fault::TooManyRequests { retry_after } => write!(f, "429={retry_after}"),
            Fault::RateLimited { reset_in } => write!(f, "429-reset={reset_in}"),
            Fault::Forbidden => f.write_str("403"),
            Fault::NotFound => f.write_str("404"),
            Fault::ErrorIn200 => f.write_str("error-in-200"),
            Fault::NotJson => f.write_str("not-json"),
            Fault::ExpiredToken => f.write_str("expired-token"),
        }
    }
}

/// A fault's text that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault {text:?}: {reason}")]
pub struct FaultParseError {
    text: String,
    reason: &'static str,
}

impl FaultParseError {
    fn new(text: &str, reason: &'static str) -> Self {
        FaultParseError {
            text: text.to_owned(),
            reason,
        }
    }
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (name, arg) = match text.split_once('=') {
            Some((n, a)) => (n.trim(), Some(a.trim())),
            None => (text, None),
        };
        let count = |arg: Option<&str>| -> Result<u64, FaultParseError> {
            arg.and_then(|a| a.parse().ok())
                .ok_or_else(|| FaultParseError::new(text, "expected a number of sessions"))
        };
        let fault = match (name.to_ascii_lowercase().as_str(), arg) {
            ("delay", Some(a)) => Fault::Delay(parse_duration(a)?),
            ("drip", Some(a)) => {
                let (bytes, interval) = a
                    .split_once('/')
                    .ok_or_else(|| FaultParseError::new(text, "expected drip=BYTES/INTERVAL"))?;
                let bytes: usize = bytes
                    .trim()
                    .parse()
                    .ok()
                    .filter(|b| *b > 0)
                    .ok_or_else(|| FaultParseError::new(text, "expected a positive byte count"))?;
                Fault::Drip {
                    bytes,
                    interval: parse_duration(interval)?,
                }
            }
            ("stall", None) => Fault::Stall,
            ("truncate-after", a) => Fault::TruncateAfter(count(a)?),
            ("reset-after", a) => Fault::ResetAfter(count(a)?),
            ("500", None) => Fault::InternalError,
            ("502", None) => Fault::BadGateway,
            ("503", None) => Fault::ServiceUnavailable,
            ("504", None) => Fault::GatewayTimeout,
            ("408", None) => Fault::RequestTimeout,
            ("429", None) => Fault::TooManyRequests { retry_after: 1 },
            ("429", Some(a)) => Fault::TooManyRequests {
                retry_after: a.parse().map_err(|_| {
                    FaultParseError::new(text, "expected Retry-After seconds: 429=SECONDS")
                })?,
            },
            ("429-reset", Some(a)) => Fault::RateLimited {
                reset_in: a.parse().map_err(|_| {
                    FaultParseError::new(text, "expected seconds: 429-reset=SECONDS")
                })?,
            },
            ("403", None) => Fault::Forbidden,
            ("404", None) => Fault::NotFound,
            ("error-in-200", None) => Fault::ErrorIn200,
            ("not-json", None) => Fault::NotJson,
            ("expired-token", None) => Fault::ExpiredToken,
            _ => return Err(FaultParseError::new(text, "unknown fault")),
        };
        Ok(fault)
    }
}

/// Parses a comma-separated list of faults (the header's syntax); `none`
/// (or an empty value) is the empty list.
pub fn parse_fault_list(text: &str) -> Result<Vec<Fault>, FaultParseError> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("none"))
        .map(str::parse)
        .collect()
}

/// Which requests a configured fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultTarget {
    /// Every request on a known route (token, list, get, drop, web session).
    Any,
    /// `POST /iso/oauth2/token`.
    Token,
    /// The session list.
    List,
    /// One session by id.
    Get,
    /// Dropping a session.
    Drop,
    /// Creating a web proxy session (`web-session`).
    WebSession,
}

impl FaultTarget {
    /// Whether a fault aimed at `self` applies to a request on `route`.
    pub(crate) fn matches(self, route: FaultTarget) -> bool {
        self == FaultTarget::Any || self == route
    }
}

impl fmt::Display for FaultTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FaultTarget::Any => "any",
            FaultTarget::Token => "token",
            FaultTarget::List => "list",
            FaultTarget::Get => "get",
            FaultTarget::Drop => "drop",
            FaultTarget::WebSession => "web-session",
        })
    }
}

impl FromStr for FaultTarget {
    type Err = FaultParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "any" => Ok(FaultTarget::Any),
            "token" => Ok(FaultTarget::Token),
            "list" => Ok(FaultTarget::List),
            "get" => Ok(FaultTarget::Get),
            "drop" => Ok(FaultTarget::Drop),
            "web-session" => Ok(FaultTarget::WebSession),
            _ => Err(FaultParseError::new(
                text,
                "unknown target: any, token, list, get, drop or web-session",
            )),
        }
    }
}

/// How one response is to be disturbed, once every source of faults (header,
/// queue, standing faults) has been merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FaultPlan {
    pub(crate) status: Option<Fault>,
    pub(crate) expire_token: bool,
    pub(crate) delay: Option<Duration>,
    pub(crate) drip: Option<(usize, Duration)>,
    pub(crate) stall: bool,
    /// Sessions after which the body is cut, and whether the cut is a reset.
    pub(crate) cut: Option<(u64, bool)>,
    /// How many faults were merged into this plan.
    pub(crate) count: u64,
}

impl FaultPlan {
    pub(crate) fn add(&mut self, fault: &Fault) {
        self.count += 1;
        match fault {
            Fault::Delay(d) => self.delay = Some(*d),
            Fault::Drip { bytes, interval } => self.drip = Some(((*bytes).max(1), *interval)),
            Fault::Stall => self.stall = true,
            Fault::TruncateAfter(n) => self.cut = Some((*n, false)),
            Fault::ResetAfter(n) => self.cut = Some((*n, true)),
            Fault::ExpiredToken => self.expire_token = true,
            status => {
                if self.status.is_none() {
                    self.status = Some(status.clone());
                }
            }
        }
    }

    /// Whether the body needs to be sent by a producer task rather than in
    /// one piece.
    pub(crate) fn shapes_body(&self) -> bool {
        self.drip.is_some() || self.stall || self.cut.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_round_trips_through_text() {
        let faults = [
            Fault::Delay(Duration::from_millis(50)),
            Fault::Delay(Duration::from_secs(2)),
            Fault::Drip {
                bytes: 1,
                interval: Duration::from_millis(100),
            },
            Fault::Stall,
            Fault::TruncateAfter(10),
            Fault::ResetAfter(0),
            Fault::InternalError,
            Fault::BadGateway,
            Fault::ServiceUnavailable,
            Fault::GatewayTimeout,
            Fault::RequestTimeout,
            Fault::TooManyRequests { retry_after: 7 },
            Fault::RateLimited { reset_in: 3 },
            Fault::Forbidden,
            Fault::NotFound,
            Fault::ErrorIn200,
            Fault::NotJson,
            Fault::ExpiredToken,
        ];
        for fault in faults {
            assert_eq!(fault.to_string().parse::<Fault>(), Ok(fault.clone()));
        }
    }

    #[test]
    fn header_lists() {
        assert_eq!(
            parse_fault_list(" delay=5ms, truncate-after=3 ,429"),
            Ok(vec![
                Fault::Delay(Duration::from_millis(5)),
                Fault::TruncateAfter(3),
                Fault::TooManyRequests { retry_after: 1 },
            ])
        );
        assert_eq!(parse_fault_list("none"), Ok(vec![]));
        assert!(parse_fault_list("delay=5").is_err());
        assert!(parse_fault_list("drip=0/1s").is_err());
        assert!(parse_fault_list("teapot").is_err());
        assert_eq!(
            parse_fault_list("nope").map_err(|e| e.to_string()),
            Err("invalid fault \"nope\": unknown fault".to_owned())
        );
    }

    #[test]
    fn targets() {
        assert_eq!("LIST".parse(), Ok(FaultTarget::List));
        assert!(FaultTarget::Any.matches(FaultTarget::Drop));
        assert!(!FaultTarget::Get.matches(FaultTarget::List));
        assert!(!Fault::ExpiredToken.applies_to(FaultTarget::Token));
    }
}
