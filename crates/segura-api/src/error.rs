//! The error taxonomy, split by stage, and the classification of error responses.
//!
//! A user and a retry policy both need to know whether a request reached the server and
//! what the server said. [`Error`] answers that by variant; [`Error::hint`] gives the
//! likely cause and what to do, following the API's documented error table; and
//! [`classify_response`] turns any error response (the API's envelope, the gateway's
//! JSON, the OAuth server's JSON, an HTML page, an empty body) into an [`Error`].

use std::fmt;
use std::sync::Arc;

use segura_model::{ApiException, Envelope};

use crate::text::sanitize;

/// Which part of a connection attempt failed before the request reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectFailure {
    /// The host name could not be resolved.
    Dns,
    /// Nothing accepted the connection (refused, unreachable).
    Refused,
    /// The TLS handshake failed (certificate not trusted, wrong name, protocol).
    Tls,
    /// A proxy in between failed.
    Proxy,
    /// Any other failure before the request was sent.
    Other,
}

/// Which wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Establishing the connection took too long.
    Connect,
    /// No data arrived for longer than the idle (read) timeout.
    Idle,
    /// The whole request took longer than its deadline.
    Total,
    /// A gateway in front of the appliance timed out (HTTP 504/408).
    Gateway,
}

/// Why the server refused to authenticate or authorize the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthFailure {
    /// Wrong client id or secret ("Client authentication failed", `invalid_client`).
    InvalidClient,
    /// The authorization lacks permission ("You are not authorized to access this
    /// resource.").
    NotAuthorized,
    /// The API gateway matched no route: a missing `Authorization` header, or a wrong URL
    /// ("no Route matched with those values").
    NoRouteMatched,
    /// The access token was refused (expired or revoked), even after a refresh.
    TokenRefused,
}

/// The underlying error of an [`Error`], kept for [`std::error::Error::source`]: a
/// transport's own error (reqwest's, hyper's, an I/O error), whose chain continues
/// from it. Causes take no part in equality: two errors are equal when what they say
/// is.
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync>);

impl Cause {
    /// Keeps `error` as a cause.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }

    /// Keeps an error already shared.
    pub fn from_shared(error: Arc<dyn std::error::Error + Send + Sync>) -> Self {
        Self(error)
    }

    /// The kept error as its own type, when it is a `T`: the cause stands in the
    /// [`std::error::Error::source`] chain in place of the error it keeps (same text,
    /// same sources), so this is how to reach the original type, for instance
    /// `error.source()?.downcast_ref::<Cause>()?.downcast_ref::<std::io::Error>()`.
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.0.downcast_ref::<T>()
    }
}

impl PartialEq for Cause {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Every way a call to PAM Core can fail, by stage.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client could not be built: missing URL or credentials, a bad option. Nothing
    /// was sent.
    #[error("invalid configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// The request never reached the server.
    #[error("could not reach the server ({kind:?}): {message}")]
    Connect {
        /// What failed.
        kind: ConnectFailure,
        /// Detail from the transport.
        message: String,
        /// The transport's own error, when it gave one.
        #[source]
        cause: Option<Cause>,
    },
    /// A wait ran out.
    #[error("timed out ({kind:?}): {message}")]
    Timeout {
        /// Which wait.
        kind: TimeoutKind,
        /// Detail.
        message: String,
        /// The transport's own error, when it gave one.
        #[source]
        cause: Option<Cause>,
    },
    /// Authentication or authorization was refused.
    #[error("{}", auth_line(*kind, *status, message))]
    Auth {
        /// Why.
        kind: AuthFailure,
        /// HTTP status, when there was one.
        status: Option<u16>,
        /// The server's message.
        message: String,
    },
    /// The session or resource does not exist.
    #[error("not found{}: {message}", status_suffix(*status))]
    NotFound {
        /// HTTP status.
        status: Option<u16>,
        /// The application code from `exception` (1002 "Session not found").
        code: Option<i64>,
        /// The server's message.
        message: String,
    },
    /// The server or a gateway failed (HTTP 5xx, "Unexpected error.", bad gateway) or
    /// asked the client to slow down (HTTP 429).
    #[error("server error ({}): {message}", server_status(*status, *in_body))]
    Server {
        /// HTTP status, or the envelope's code for an error inside an HTTP 200
        /// (`in_body`).
        status: u16,
        /// Whether the error came as an envelope inside an HTTP 200 answer, `status`
        /// being the envelope's code.
        in_body: bool,
        /// The server's message.
        message: String,
        /// Seconds to wait before retrying, from `Retry-After`.
        retry_after: Option<u64>,
    },
    /// The server answered with its own error envelope that no other variant describes.
    #[error("the server refused the request{}: {message}{}", status_suffix(*status), code_suffix(*code))]
    Api {
        /// HTTP status (or the envelope's `code` for an error inside an HTTP 200).
        status: Option<u16>,
        /// The application code from `exception`.
        code: Option<i64>,
        /// The server's message.
        message: String,
    },
    /// The response could not be decoded: not JSON, truncated, or a value the API never
    /// sends. Sessions decoded before the problem were delivered.
    #[error("invalid response: {message} at byte {offset}{}{}", path_suffix(path), before_suffix(*sessions_before))]
    InvalidResponse {
        /// What is wrong.
        message: String,
        /// Byte offset in the body.
        offset: u64,
        /// JSON path of the problem where known (`remote_sessions[12].start`).
        path: Option<String>,
        /// How many sessions had been decoded before it.
        sessions_before: u64,
        /// Whether the body simply ended too early.
        truncated: bool,
    },
    /// Reading a local input (a saved response, standard input) failed.
    #[error("cannot read {source_name}: {message}")]
    Input {
        /// File name or `standard input`.
        source_name: String,
        /// The operating system's message.
        message: String,
        /// The I/O error itself, when there was one.
        #[source]
        cause: Option<Cause>,
    },
}

/// An [`Error::Input`]: reading `source_name` failed with `error`, which stays
/// reachable through [`std::error::Error::source`].
pub fn input_error(source_name: impl Into<String>, error: std::io::Error) -> Error {
    Error::Input {
        source_name: source_name.into(),
        message: error.to_string(),
        cause: Some(Cause::new(error)),
    }
}

/// An [`Error::Config`] with this message: the one constructor every crate uses.
pub fn config_error(message: impl Into<String>) -> Error {
    Error::Config {
        message: message.into(),
    }
}

fn auth_line(kind: AuthFailure, status: Option<u16>, message: &str) -> String {
    let what = match kind {
        AuthFailure::InvalidClient => "authentication failed",
        AuthFailure::NotAuthorized => "not authorized",
        AuthFailure::NoRouteMatched => "no route matched (missing authorization or wrong URL)",
        AuthFailure::TokenRefused => "access token refused",
    };
    format!("{what}{}: {message}", status_suffix(status))
}

/// Whether `f` leaves the text of every error in `cause`'s chain as it is: a cause
/// whose text a redaction would change is dropped rather than kept unredacted.
fn unchanged_by(cause: &Cause, f: &impl Fn(&str) -> String) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(cause);
    while let Some(e) = next {
        let text = e.to_string();
        if f(&text) != text {
            return false;
        }
        next = e.source();
    }
    true
}

fn server_status(status: u16, in_body: bool) -> String {
    if in_body {
        format!("code {status} inside an HTTP 200 answer")
    } else {
        format!("HTTP {status}")
    }
}

fn status_suffix(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

fn code_suffix(code: Option<i64>) -> String {
    code.map(|c| format!(" [code {c}]")).unwrap_or_default()
}

fn path_suffix(path: &Option<String>) -> String {
    path.as_ref().map(|p| format!(" ({p})")).unwrap_or_default()
}

fn before_suffix(n: u64) -> String {
    format!(
        ", after {n} complete session{}",
        if n == 1 { "" } else { "s" }
    )
}

/// The likely cause of an error and what to do about it, one line each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint {
    /// The likely cause.
    pub cause: &'static str,
    /// What to do.
    pub action: &'static str,
}

/// The stage an error belongs to: did the request reach the server?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Nothing was sent (bad configuration, unreadable input).
    Construction,
    /// The request was not delivered (connect, DNS, TLS).
    Dispatch,
    /// A wait ran out; the request may or may not have been processed.
    Timeout,
    /// The server (or a gateway) answered with an error.
    Response,
    /// The server answered, but the body could not be decoded.
    Decode,
}

impl Error {
    /// The stage of the failure.
    pub fn stage(&self) -> Stage {
        match self {
            Error::Config { .. } | Error::Input { .. } => Stage::Construction,
            Error::Connect { .. } => Stage::Dispatch,
            Error::Timeout { .. } => Stage::Timeout,
            Error::Auth { .. }
            | Error::NotFound { .. }
            | Error::Server { .. }
            | Error::Api { .. } => Stage::Response,
            Error::InvalidResponse { .. } => Stage::Decode,
        }
    }

    /// A stable, machine-readable name of the kind of failure, one per variant:
    /// `config`, `input`, `connect`, `timeout`, `auth`, `not_found`, `server`, `api`,
    /// `invalid_response`. For metrics labels, logs and tests; the names do not change
    /// between releases.
    pub fn class(&self) -> &'static str {
        match self {
            Error::Config { .. } => "config",
            Error::Input { .. } => "input",
            Error::Connect { .. } => "connect",
            Error::Timeout { .. } => "timeout",
            Error::Auth { .. } => "auth",
            Error::NotFound { .. } => "not_found",
            Error::Server { .. } => "server",
            Error::Api { .. } => "api",
            Error::InvalidResponse { .. } => "invalid_response",
        }
    }

    /// Whether the request provably never reached the server (safe to retry anything).
    pub fn never_reached_server(&self) -> bool {
        matches!(self.stage(), Stage::Construction | Stage::Dispatch)
    }

    /// Whether an idempotent request may be retried after this error: connection
    /// failures other than TLS, gateway timeouts, HTTP 429, 502, 503 and 504.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connect { kind, .. } => *kind != ConnectFailure::Tls,
            Error::Timeout { kind, .. } => {
                matches!(kind, TimeoutKind::Connect | TimeoutKind::Gateway)
            }
            Error::Server { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// How many complete sessions were decoded before a decoding error.
    pub fn sessions_before(&self) -> Option<u64> {
        match self {
            Error::InvalidResponse {
                sessions_before, ..
            } => Some(*sessions_before),
            _ => None,
        }
    }

    /// The error with each message (the server's text, the transport's detail) passed
    /// through `f`; what the client wrote itself (paths, counts, kinds) is kept.
    pub fn map_messages(self, f: impl Fn(&str) -> String) -> Error {
        match self {
            Error::Config { message } => Error::Config {
                message: f(&message),
            },
            Error::Connect {
                kind,
                message,
                cause,
            } => Error::Connect {
                kind,
                message: f(&message),
                cause: cause.filter(|c| unchanged_by(c, &f)),
            },
            Error::Timeout {
                kind,
                message,
                cause,
            } => Error::Timeout {
                kind,
                message: f(&message),
                cause: cause.filter(|c| unchanged_by(c, &f)),
            },
            Error::Auth {
                kind,
                status,
                message,
            } => Error::Auth {
                kind,
                status,
                message: f(&message),
            },
            Error::NotFound {
                status,
                code,
                message,
            } => Error::NotFound {
                status,
                code,
                message: f(&message),
            },
            Error::Server {
                status,
                in_body,
                message,
                retry_after,
            } => Error::Server {
                status,
                in_body,
                message: f(&message),
                retry_after,
            },
            Error::Api {
                status,
                code,
                message,
            } => Error::Api {
                status,
                code,
                message: f(&message),
            },
            Error::InvalidResponse {
                message,
                offset,
                path,
                sessions_before,
                truncated,
            } => Error::InvalidResponse {
                message: f(&message),
                offset,
                path,
                sessions_before,
                truncated,
            },
            Error::Input {
                source_name,
                message,
                cause,
            } => Error::Input {
                cause: cause.filter(|c| unchanged_by(c, &f)),
                source_name,
                message: f(&message),
            },
        }
    }

    /// The likely cause and what to do, after the API's documented error table.
    pub fn hint(&self) -> Hint {
        let h = |cause, action| Hint { cause, action };
        match self {
            Error::Config { .. } => h(
                "the URL or the credentials are missing or malformed",
                "set the URL and the credentials",
            ),
            Error::Input { .. } => h(
                "the file does not exist or cannot be read",
                "check the path and its permissions",
            ),
            Error::Connect { kind: ConnectFailure::Tls, .. } => h(
                "the server's TLS certificate is not trusted, or does not match the host name",
                "trust the appliance's CA certificate; only if you accept the risk, turn certificate verification off",
            ),
            Error::Connect { kind: ConnectFailure::Dns, .. } => h(
                "the host name in the URL does not resolve",
                "check the URL and the DNS configuration",
            ),
            Error::Connect { .. } => h(
                "the appliance is unreachable from this host (down, firewalled, wrong port, or a proxy failed)",
                "check the URL and the connectivity between this host and the appliance",
            ),
            Error::Timeout { kind: TimeoutKind::Idle, .. } => h(
                "the server stopped sending data for longer than the read timeout",
                "retry later, or raise the read timeout for very large session lists",
            ),
            Error::Timeout { kind: TimeoutKind::Gateway, .. } => h(
                "a gateway timed out waiting for the appliance (\"The upstream server is timing out\", \"Request timed out\")",
                "check the connectivity between the gateway and the appliance, and retry later",
            ),
            Error::Timeout { .. } => h(
                "the request took longer than allowed",
                "check the connectivity between this host and the server, or raise the timeout",
            ),
            Error::Auth { kind: AuthFailure::InvalidClient, .. } => h(
                "the client id or client secret is wrong (\"Client authentication failed\")",
                "check the client id and secret of the A2A authorization, and request a new token",
            ),
            Error::Auth { kind: AuthFailure::NotAuthorized, .. } => h(
                "the A2A authorization lacks permission for this resource",
                "ask the Segura administrator to grant \"Credentials and Devices\" / PAM Core access to the authorization",
            ),
            Error::Auth { kind: AuthFailure::NoRouteMatched, .. } => h(
                "the request had no Authorization header, or the URL is wrong (\"no Route matched with those values\")",
                "check the URL, and request a new access token",
            ),
            Error::Auth { kind: AuthFailure::TokenRefused, .. } => h(
                "the access token was refused (expired or revoked), even after requesting a new one",
                "request a new access token; check the credentials and the authorization's IP restrictions",
            ),
            Error::NotFound { code: Some(ApiException::SESSION_NOT_FOUND), .. } => h(
                "no session has this id or hash",
                "check the id: a get takes the numeric id, a drop the 40-hex session_id",
            ),
            Error::NotFound { .. } => h(
                "the URL or the requested resource is not correct (\"Resource sub not found\")",
                "check the URL (including any path prefix) and send the request again",
            ),
            Error::Server { status: 429, .. } => h(
                "the server is rate limiting this client",
                "wait and retry later",
            ),
            Error::Server { status: 502 | 503, .. } => h(
                "a gateway received an invalid response from the appliance, or it is unavailable",
                "retry later; if it persists, contact the Segura administrator or support",
            ),
            Error::Server { .. } => h(
                "the Segura server failed (\"Unexpected error.\")",
                "contact the Segura administrator or support",
            ),
            Error::Api { code: Some(ApiException::UNEXPECTED_IDENTIFIER_TYPE), .. } => h(
                "the identifier has the wrong type (\"Unexpected identifier type\")",
                "pass the numeric id to a get and the 40-hex session_id to a drop",
            ),
            Error::Api { .. } => h(
                "the server rejected the request",
                "read the server's message; contact the Segura administrator if it is unclear",
            ),
            Error::InvalidResponse { truncated: true, .. } => h(
                "the response ended early: the connection was cut or the server gave up",
                "retry; if it persists, check proxies and timeouts between this host and the appliance",
            ),
            Error::InvalidResponse { .. } => h(
                "the response is not what the API sends (an HTML page from a proxy, or a server fault)",
                "check the URL and any proxy in between; contact support if the appliance sent it",
            ),
        }
    }
}

/// Shortens a message for display: first line, at most 300 characters, sanitised
/// ([`crate::text::sanitize`]): it is the server's text, bound for a terminal or a log.
fn clip(s: &str) -> String {
    let line = s.trim().lines().next().unwrap_or("").trim();
    if line.chars().count() > 300 {
        let mut t: String = line.chars().take(300).collect();
        t.push('…');
        sanitize(&t).into_owned()
    } else {
        sanitize(line).into_owned()
    }
}

/// When `body` is an HTML page (a proxy's login or error page, a gateway's error), the
/// text that names it, sanitised and clipped for a message: its `<title>`, else the
/// tags stripped. The one test of "an HTML page instead of the API's JSON" for error
/// bodies, list bodies and drop answers.
pub(crate) fn html_page(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    trimmed.starts_with('<').then(|| clip(&html_text(trimmed)))
}

/// Why `body`, which `serde_json` refused with `e`, is not the API's JSON, when that
/// can be said without quoting the body: an HTML page (named by [`html_page`]) or JSON
/// that ends early. `None` for any other JSON error; the caller decides whether the
/// parser's message may be shown.
pub(crate) fn why_not_json(body: &str, e: &serde_json::Error) -> Option<String> {
    if let Some(page) = html_page(body.as_bytes()) {
        Some(format!("an HTML page, not JSON: {page}"))
    } else if e.is_eof() {
        Some("the JSON ends early".to_owned())
    } else {
        None
    }
}

/// Text of an HTML page for a message: its `<title>`, else the tags stripped.
fn html_text(body: &str) -> String {
    let lower = body.to_ascii_lowercase();
    if let (Some(a), Some(b)) = (lower.find("<title>"), lower.find("</title>")) {
        if a + 7 <= b {
            let title = body[a + 7..b].trim();
            if !title.is_empty() {
                return title.to_owned();
            }
        }
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What an error body says, whatever its shape.
#[derive(Debug, Default)]
struct BodyFacts {
    message: String,
    envelope: Option<Envelope>,
    oauth_error: Option<String>,
}

fn body_facts(body: &[u8]) -> BodyFacts {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return BodyFacts::default();
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(trimmed) {
        let str_of = |k: &str| map.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let oauth_error = str_of("error");
        let envelope = if map.contains_key("response")
            || map.contains_key("exception")
            || map.contains_key("code")
        {
            serde_json::from_str::<Envelope>(trimmed).ok()
        } else {
            None
        };
        let message = envelope
            .as_ref()
            .and_then(|e| e.message().map(str::to_owned))
            .or_else(|| str_of("error_description"))
            .or_else(|| str_of("message"))
            .or_else(|| str_of("mensagem"))
            .or_else(|| oauth_error.clone())
            .unwrap_or_else(|| clip(trimmed));
        return BodyFacts {
            message: clip(&message),
            envelope,
            oauth_error,
        };
    }
    BodyFacts {
        message: html_page(trimmed.as_bytes()).unwrap_or_else(|| clip(trimmed)),
        ..BodyFacts::default()
    }
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_ascii_lowercase().contains(needle)
}

/// Classifies an error response by HTTP status, envelope fields and message text.
///
/// The server's text in the error's message is sanitised: control characters and
/// bidirectional overrides appear escaped ([`crate::text::sanitize`]).
///
/// `status` is the HTTP status; `body` whatever came with it (envelope, gateway or OAuth
/// JSON, HTML, empty). Also used for an error envelope inside an HTTP 200, where the
/// envelope's own `code`/`response.status` stands in for the status.
pub fn classify_response(status: u16, body: &[u8], retry_after: Option<u64>) -> Error {
    let facts = body_facts(body);
    let app_code = facts.envelope.as_ref().and_then(Envelope::application_code);
    // Inside an HTTP 200, the envelope's status says what happened.
    let effective = if status < 400 {
        facts
            .envelope
            .as_ref()
            .and_then(Envelope::status)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| *s >= 400)
            .unwrap_or(status)
    } else {
        status
    };
    let in_body = effective != status;
    let message = if facts.message.is_empty() {
        format!("HTTP {effective} with an empty body")
    } else {
        facts.message.clone()
    };
    let m = message.as_str();
    // An error inside an HTTP 200 never claims an HTTP status it did not have: the
    // envelope's code is named as such.
    let st = (!in_body).then_some(effective);
    let message = if in_body {
        format!("{m} (code {effective} inside an HTTP 200 answer)")
    } else {
        m.to_owned()
    };

    if app_code == Some(ApiException::SESSION_NOT_FOUND) || contains(m, "session not found") {
        return Error::NotFound {
            status: st,
            code: app_code.or(Some(ApiException::SESSION_NOT_FOUND)),
            message,
        };
    }
    if facts.oauth_error.as_deref() == Some("invalid_client")
        || contains(m, "client authentication failed")
    {
        return Error::Auth {
            kind: AuthFailure::InvalidClient,
            status: st,
            message,
        };
    }
    if contains(m, "not authorized to access") {
        return Error::Auth {
            kind: AuthFailure::NotAuthorized,
            status: st,
            message,
        };
    }
    if contains(m, "no route matched") {
        return Error::Auth {
            kind: AuthFailure::NoRouteMatched,
            status: st,
            message,
        };
    }
    if contains(m, "upstream server is timing out")
        || contains(m, "request timed out")
        || matches!(effective, 408 | 504)
    {
        return Error::Timeout {
            kind: TimeoutKind::Gateway,
            message: format!("{}: {m}", server_status(effective, in_body)),
            cause: None,
        };
    }
    match effective {
        401 => Error::Auth {
            kind: AuthFailure::TokenRefused,
            status: st,
            message,
        },
        403 => Error::Auth {
            kind: AuthFailure::NotAuthorized,
            status: st,
            message,
        },
        404 | 410 => Error::NotFound {
            status: st,
            code: app_code,
            message,
        },
        429 | 500..=599 => Error::Server {
            status: effective,
            in_body,
            message: m.to_owned(),
            retry_after,
        },
        _ if contains(m, "unexpected error") => Error::Server {
            status: effective.max(500),
            in_body,
            message: m.to_owned(),
            retry_after,
        },
        _ => Error::Api {
            status: st,
            code: app_code,
            message,
        },
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cause: {}\nwhat to do: {}", self.cause, self.action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(status: u16, message: &str, exception: Option<i64>) -> Vec<u8> {
        let exc = exception
            .map(|c| format!(r#","exception":{{"code":{c},"message":"{message}","detail":null}}"#))
            .unwrap_or_default();
        format!(
            r#"{{"code":{status},"response":{{"status":{status},"message":"{message}","error":true,"error_code":1,"detail":"","mensagem":"{message}","erro":true,"cod_erro":1}}{exc}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn documented_error_table() {
        type Case = (u16, Vec<u8>, fn(&Error) -> bool, &'static str);
        let cases: Vec<Case> = vec![
            (404, envelope(404, "Resource sub not found", None), |e| matches!(e, Error::NotFound { code: None, .. }), "check the URL"),
            (500, envelope(500, "Unexpected error.", None), |e| matches!(e, Error::Server { status: 500, .. }), "administrator or support"),
            (403, envelope(403, "You are not authorized to access this resource.", None), |e| matches!(e, Error::Auth { kind: AuthFailure::NotAuthorized, .. }), "Credentials and Devices"),
            (401, br#"{"error":"invalid_client","error_description":"Client authentication failed","message":"Client authentication failed"}"#.to_vec(), |e| matches!(e, Error::Auth { kind: AuthFailure::InvalidClient, .. }), "client id and secret"),
            (404, br#"{"message":"no Route matched with those values"}"#.to_vec(), |e| matches!(e, Error::Auth { kind: AuthFailure::NoRouteMatched, .. }), "new access token"),
            (502, b"<html><head><title>502 Bad Gateway</title></head><body>An invalid response was received from the upstream server</body></html>".to_vec(), |e| matches!(e, Error::Server { status: 502, .. }), "retry later"),
            (504, br#"{"message":"The upstream server is timing out"}"#.to_vec(), |e| matches!(e, Error::Timeout { kind: TimeoutKind::Gateway, .. }), "connectivity"),
            (408, br#"{"message":"Request timed out"}"#.to_vec(), |e| matches!(e, Error::Timeout { kind: TimeoutKind::Gateway, .. }), "connectivity"),
            (400, envelope(400, "1002: Session not found", Some(1002)), |e| matches!(e, Error::NotFound { code: Some(1002), .. }), "40-hex"),
            (400, envelope(400, "1003: Unexpected identifier type", Some(1003)), |e| matches!(e, Error::Api { code: Some(1003), .. }), "numeric id"),
            (200, envelope(500, "Unexpected error.", None), |e| matches!(e, Error::Server { status: 500, .. }), "support"),
            (401, b"".to_vec(), |e| matches!(e, Error::Auth { kind: AuthFailure::TokenRefused, .. }), "new access token"),
            (503, b"".to_vec(), |e| matches!(e, Error::Server { status: 503, .. }), "retry later"),
        ];
        for (status, body, check, hint) in cases {
            let e = classify_response(status, &body, None);
            assert!(
                check(&e),
                "{status} {}: got {e:?}",
                String::from_utf8_lossy(&body)
            );
            let h = e.hint();
            assert!(
                h.action.contains(hint) || h.cause.contains(hint),
                "{e}: {h:?}"
            );
        }
    }

    #[test]
    fn html_message_is_the_title_and_empty_body_is_described() {
        let e = classify_response(502, b"<html><title>502 Bad Gateway</title></html>", None);
        assert_eq!(e.to_string(), "server error (HTTP 502): 502 Bad Gateway");
        let e = classify_response(500, b"", None);
        assert!(e.to_string().contains("empty body"), "{e}");
        let e = classify_response(418, b"I'm a teapot", None);
        assert!(matches!(
            e,
            Error::Api {
                status: Some(418),
                ..
            }
        ));
    }

    #[test]
    fn retryability_and_stage() {
        assert!(classify_response(503, b"", None).is_retryable());
        assert!(classify_response(429, b"", Some(3)).is_retryable());
        assert!(!classify_response(500, b"", None).is_retryable());
        let tls = Error::Connect {
            cause: None,
            kind: ConnectFailure::Tls,
            message: "x".into(),
        };
        assert!(!tls.is_retryable());
        assert!(tls.never_reached_server());
        assert!(tls.hint().action.contains("CA certificate"));
        // Library hints speak of the problem; the command line adds its own flags.
        assert!(!tls.hint().action.contains("--"));
    }

    #[test]
    fn an_error_inside_http_200_names_the_envelope_code_not_an_http_status() {
        let in_200 = classify_response(200, &envelope(500, "Unexpected error.", None), None);
        assert!(matches!(
            in_200,
            Error::Server {
                status: 500,
                in_body: true,
                ..
            }
        ));
        let text = in_200.to_string();
        assert!(
            text.contains("code 500 inside an HTTP 200 answer"),
            "{text}"
        );
        assert!(!text.contains("HTTP 500"), "{text}");
        let real = classify_response(500, &envelope(500, "Unexpected error.", None), None);
        assert!(real.to_string().contains("(HTTP 500)"), "{real}");
        let not_found =
            classify_response(200, &envelope(404, "Session not found", Some(1002)), None);
        let text = not_found.to_string();
        assert!(
            text.contains("code 404 inside an HTTP 200 answer"),
            "{text}"
        );
        assert!(!text.contains("HTTP 404"), "{text}");
    }

    #[test]
    fn a_cause_is_kept_unless_a_redaction_would_change_it() {
        let with = |text: &str| Error::Connect {
            kind: ConnectFailure::Refused,
            message: "refused".into(),
            cause: Some(Cause::new(std::io::Error::other(text.to_owned()))),
        };
        let redact = |m: &str| m.replace("s3cret", "[redacted]");
        let kept = with("connection refused").map_messages(redact);
        let source = std::error::Error::source(&kept).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("connection refused"));
        let dropped = with("refused for s3cret").map_messages(redact);
        assert!(std::error::Error::source(&dropped).is_none(), "{dropped:?}");
    }
}
