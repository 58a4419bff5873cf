//! What a reqwest error stands for: a [`TransportError`] of the right kind, its message
//! from the error's whole source chain, the error itself kept as the source.

use std::time::Duration;

use segura_api::{duration_text, ConnectFailure, TransportError, TransportErrorKind};

/// Every message in an error's source chain, without repeats: `a: b: c`.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

fn io_kind(error: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        current = e.source();
    }
    None
}

/// Which part of the connection failed, from the error's source chain. The top-level
/// message is left out: it quotes the URL, whose host name could contain any word.
fn connect_failure(error: &reqwest::Error) -> ConnectFailure {
    let text = std::error::Error::source(error)
        .map(error_chain)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if has(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no such host",
        "nodename nor servname",
        "temporary failure in name resolution",
    ]) {
        return ConnectFailure::Dns;
    }
    if has(&[
        "certificate",
        "tls",
        "ssl",
        "handshake",
        "unknownissuer",
        "notvalidforname",
        "invalid peer",
        "alert",
        "corrupt message",
    ]) {
        return ConnectFailure::Tls;
    }
    if has(&["proxy", "tunnel"]) {
        return ConnectFailure::Proxy;
    }
    match io_kind(error) {
        Some(std::io::ErrorKind::ConnectionRefused) => ConnectFailure::Refused,
        _ if has(&["refused", "unreachable"]) => ConnectFailure::Refused,
        _ => ConnectFailure::Other,
    }
}

/// The timeouts and the extra CA that messages mention.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) ca_cert_path: Option<std::path::PathBuf>,
}

/// The failure a `send` without a response stands for.
pub(crate) fn send_error(error: reqwest::Error, context: &Context) -> TransportError {
    let chain = error_chain(&error);
    let (kind, message) = if error.is_timeout() {
        if error.is_connect() {
            (
                TransportErrorKind::ConnectTimeout,
                format!(
                    "no connection within {}: {chain}",
                    duration_text(context.connect_timeout)
                ),
            )
        } else {
            (
                TransportErrorKind::Idle,
                format!(
                    "no response within the read timeout of {}: {chain}",
                    duration_text(context.read_timeout)
                ),
            )
        }
    } else if error.is_connect() {
        let kind = connect_failure(&error);
        let message = match (kind, &context.ca_cert_path) {
            (ConnectFailure::Tls, Some(path)) => {
                format!("{chain} (trusted in addition: {})", path.display())
            }
            _ => chain,
        };
        (TransportErrorKind::Connect(kind), message)
    } else if error.is_builder() {
        (TransportErrorKind::Config, chain)
    } else {
        (TransportErrorKind::Interrupted, chain)
    };
    TransportError::new(kind, message).with_source(error)
}

/// The failure of a body that stopped short: an idle wait, or a cut (reset, a
/// `Content-Length` longer than what came, broken chunked encoding or gzip).
pub(crate) fn body_error(error: reqwest::Error) -> TransportError {
    let kind = if error.is_timeout() {
        TransportErrorKind::Idle
    } else {
        TransportErrorKind::Interrupted
    };
    let error = error.without_url();
    TransportError::new(kind, error_chain(&error)).with_source(error)
}
