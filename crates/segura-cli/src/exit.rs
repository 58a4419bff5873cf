//! How a command ends: [`CliError`], its exit code, and the few lines it prints on
//! stderr (what failed, the likely cause, what to do).

use std::fmt::Write as _;
use std::io;

use segura_api::model::ApiException;
use segura_api::Error as ApiError;

use crate::diag::clean;

/// Exit code: success.
pub const OK: u8 = 0;
/// Exit code: not completed for a local reason (declined, output or state file).
pub const LOCAL: u8 = 1;
/// Exit code: usage.
pub const USAGE: u8 = 2;
/// Exit code: configuration.
pub const CONFIG: u8 = 3;
/// Exit code: authentication or authorization.
pub const AUTH: u8 = 4;
/// Exit code: not found.
pub const NOT_FOUND: u8 = 5;
/// Exit code: server error.
pub const SERVER: u8 = 6;
/// Exit code: network or timeout.
pub const NETWORK: u8 = 7;
/// Exit code: invalid or truncated response.
pub const INVALID_RESPONSE: u8 = 8;
/// Exit code: `sessions audit` found something at or above `--fail-on`.
pub const FINDINGS: u8 = 9;

/// How far a list got before it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progressed {
    /// Complete sessions received.
    pub sessions: u64,
    /// Body bytes received.
    pub bytes: u64,
}

/// Why a command did not succeed.
#[derive(Debug)]
pub enum CliError {
    /// The reader of our output went away: not an error for the user.
    BrokenPipe,
    /// The command line is wrong in a way clap cannot see.
    Usage(String),
    /// The configuration is wrong; `hint` says how to fix it.
    Config {
        /// What is wrong.
        message: String,
        /// What to do.
        hint: Option<String>,
    },
    /// The API (or the saved response) failed.
    Api {
        /// The error.
        error: ApiError,
        /// For a list that failed midway: what had arrived.
        progressed: Option<Progressed>,
    },
    /// The user declined.
    Declined(String),
    /// A local file or stream could not be written.
    Local(String),
    /// The audit ran and found something at or above `--fail-on`.
    Findings(String),
    /// Several items were handled and each reported on its own; the command ends with
    /// the highest of their exit codes, after this summary line.
    Worst {
        /// The highest exit code of the items.
        code: u8,
        /// The summary.
        message: String,
    },
}

impl CliError {
    /// A configuration error with a hint.
    pub fn config(message: impl Into<String>, hint: impl Into<String>) -> Self {
        CliError::Config {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// The exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::BrokenPipe => OK,
            CliError::Usage(_) => USAGE,
            CliError::Config { .. } => CONFIG,
            CliError::Api { error, .. } if speaks_tls(error) => NETWORK,
            CliError::Api { error, .. } => api_exit_code(error),
            CliError::Declined(_) | CliError::Local(_) => LOCAL,
            CliError::Findings(_) => FINDINGS,
            CliError::Worst { code, .. } => *code,
        }
    }

    /// The lines printed on stderr, each ending with a newline; empty for a broken pipe.
    /// Every message and hint is outside text (the server's, a file's, the user's) and
    /// goes through [`clean`]: one line each, no control character, no known secret.
    pub fn report(&self) -> String {
        let mut out = String::new();
        match self {
            CliError::BrokenPipe => {}
            CliError::Usage(m) => {
                let _ = writeln!(out, "error: {}", clean(m));
            }
            CliError::Config { message, hint } => {
                let _ = writeln!(out, "error: {}", clean(message));
                if let Some(h) = hint {
                    let _ = writeln!(out, "  hint: {}", clean(h));
                }
            }
            CliError::Api { error, .. } if speaks_tls(error) => {
                let _ = writeln!(
                    out,
                    "error: the server answered a plain http:// request in TLS: it speaks https"
                );
                let _ = writeln!(
                    out,
                    "  cause: the URL says http:// but the port is a TLS (https) port"
                );
                let _ = writeln!(out, "  hint: use the https:// URL of the appliance");
            }
            CliError::Api { error, progressed } => {
                let _ = writeln!(out, "error: {}", clean(&error.to_string()));
                if let Some(p) = progressed {
                    let _ = writeln!(
                        out,
                        "  note: the list is incomplete: {} session{} ({} bytes) received before the failure",
                        p.sessions,
                        if p.sessions == 1 { "" } else { "s" },
                        p.bytes
                    );
                }
                let h = error.hint();
                let (cause, action) = match error {
                    // A fixed token is never renewed: say so, and what to do.
                    ApiError::Auth {
                        kind: segura_api::AuthFailure::TokenRefused,
                        ..
                    } if fixed_token() => (
                        "the fixed access token (SEGURA_TOKEN or the profile's token) was \
                         refused: it expired, was revoked, or belongs to another appliance",
                        "set a new token, or configure client credentials so that segura \
                         requests tokens itself",
                    ),
                    // The URL and the credentials are fine: the CA file is not PEM.
                    ApiError::Config { .. } if error.to_string().contains("PEM") => (
                        "the CA certificate file is not a PEM certificate",
                        "pass the appliance's CA certificate in PEM (-----BEGIN CERTIFICATE-----) \
                         with --ca-cert or SEGURA_CA_CERT; convert a DER file with \
                         `openssl x509 -inform der -in ca.cer -out ca.pem`",
                    ),
                    _ => (h.cause, h.action),
                };
                let _ = writeln!(out, "  cause: {cause}");
                match cli_advice(error) {
                    Some(advice) => {
                        let _ = writeln!(out, "  hint: {action}: {advice}");
                    }
                    None => {
                        let _ = writeln!(out, "  hint: {action}");
                    }
                }
            }
            CliError::Declined(m) => {
                let _ = writeln!(out, "{}", clean(m));
            }
            CliError::Local(m) => {
                let _ = writeln!(out, "error: {}", clean(m));
            }
            CliError::Findings(m) => {
                let _ = writeln!(out, "{}", clean(m));
            }
            CliError::Worst { message, .. } => {
                let _ = writeln!(out, "error: {}", clean(message));
            }
        }
        out
    }

    /// Turns an error writing the output into a broken pipe or a local error.
    pub fn output(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Local(format!("cannot write the output: {e}"))
        }
    }
}

/// Whether `error` is a plain `http://` request answered by a TLS server: its first
/// byte is a TLS record (an alert, 0x15, or a handshake), not `HTTP/`, so the HTTP
/// parser fails at byte 0.
fn speaks_tls(error: &ApiError) -> bool {
    if !matches!(error, ApiError::InvalidResponse { .. }) {
        return false;
    }
    let text = error.to_string();
    text.contains("http://") && text.contains("invalid HTTP version parsed at byte 0")
}

static FIXED_TOKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The client authenticates with a fixed bearer token, which it never renews: a
/// refusal is reported as such.
pub fn set_fixed_token() {
    FIXED_TOKEN.store(true, std::sync::atomic::Ordering::Relaxed);
}

fn fixed_token() -> bool {
    FIXED_TOKEN.load(std::sync::atomic::Ordering::Relaxed)
}

impl From<ApiError> for CliError {
    fn from(error: ApiError) -> Self {
        CliError::Api {
            error,
            progressed: None,
        }
    }
}

/// The command line's own advice after the library's hint, which speaks of the problem
/// only: the flags, variables and commands that act on it.
pub fn cli_advice(e: &ApiError) -> Option<&'static str> {
    use segura_api::{ConnectFailure, TimeoutKind};
    Some(match e {
        ApiError::Config { .. } => "see `segura config show`",
        ApiError::Connect {
            kind: ConnectFailure::Tls,
            ..
        } => "pass the CA certificate with --ca-cert (or SEGURA_CA_CERT); --insecure turns verification off",
        ApiError::Timeout {
            kind: TimeoutKind::Idle,
            ..
        } => "raise it with --read-timeout",
        ApiError::Timeout {
            kind: TimeoutKind::Total,
            ..
        } => "raise it with --timeout",
        ApiError::NotFound {
            code: Some(ApiException::SESSION_NOT_FOUND),
            ..
        }
        | ApiError::Api {
            code: Some(ApiException::UNEXPECTED_IDENTIFIER_TYPE),
            ..
        } => "`sessions get` takes the numeric id, `sessions drop` the 40-hex session_id",
        _ => return None,
    })
}

/// The exit code of an API error.
///
/// `Api` (the server's own refusal that no other variant describes) maps to 6, except
/// code 1003 "Unexpected identifier type", which is a wrong argument: 2.
pub fn api_exit_code(e: &ApiError) -> u8 {
    match e {
        ApiError::Config { .. } | ApiError::Input { .. } => CONFIG,
        ApiError::Connect { .. } | ApiError::Timeout { .. } => NETWORK,
        ApiError::Auth { .. } => AUTH,
        ApiError::NotFound { .. } => NOT_FOUND,
        ApiError::Server { .. } => SERVER,
        ApiError::Api {
            code: Some(ApiException::UNEXPECTED_IDENTIFIER_TYPE),
            ..
        } => USAGE,
        ApiError::Api { .. } => SERVER,
        ApiError::InvalidResponse { .. } => INVALID_RESPONSE,
        _ => SERVER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segura_api::{classify_response, AuthFailure, ConnectFailure, TimeoutKind};

    #[test]
    fn every_api_error_has_its_documented_code() {
        let cases = [
            (
                ApiError::Config {
                    message: "no url".into(),
                },
                3,
            ),
            (
                segura_api::input_error("x", std::io::Error::other("gone")),
                3,
            ),
            (
                ApiError::Connect {
                    kind: ConnectFailure::Tls,
                    message: "bad cert".into(),
                    cause: None,
                },
                7,
            ),
            (
                ApiError::Timeout {
                    kind: TimeoutKind::Idle,
                    message: "idle".into(),
                    cause: None,
                },
                7,
            ),
            (
                ApiError::Auth {
                    kind: AuthFailure::InvalidClient,
                    status: Some(401),
                    message: "Client authentication failed".into(),
                },
                4,
            ),
            (classify_response(404, b"", None), 5),
            (classify_response(500, b"", None), 6),
            (classify_response(502, b"<html></html>", None), 6),
            (classify_response(504, b"", None), 7),
            (classify_response(418, b"teapot", None), 6),
            (
                classify_response(
                    400,
                    br#"{"code":400,"exception":{"code":1003,"message":"1003: Unexpected identifier type"}}"#,
                    None,
                ),
                2,
            ),
            (
                ApiError::InvalidResponse {
                    message: "eof".into(),
                    offset: 10,
                    path: None,
                    sessions_before: 2,
                    truncated: true,
                },
                8,
            ),
        ];
        for (e, code) in cases {
            assert_eq!(api_exit_code(&e), code, "{e:?}");
        }
    }

    #[test]
    fn report_has_cause_hint_and_incomplete_note() {
        let e = CliError::Api {
            error: classify_response(500, b"", None),
            progressed: Some(Progressed {
                sessions: 12,
                bytes: 3400,
            }),
        };
        let r = e.report();
        let lines: Vec<&str> = r.lines().collect();
        assert!(
            lines[0].starts_with("error: server error (HTTP 500)"),
            "{r}"
        );
        assert!(
            lines[1].contains("incomplete: 12 sessions (3400 bytes)"),
            "{r}"
        );
        assert!(lines[2].starts_with("  cause: "), "{r}");
        assert!(lines[3].starts_with("  hint: "), "{r}");
        // The library's hint, then the command line's own flags.
        let tls = CliError::from(ApiError::Connect {
            kind: ConnectFailure::Tls,
            message: "unknown issuer".into(),
            cause: None,
        })
        .report();
        assert!(
            tls.contains("  hint: trust the appliance's CA certificate")
                && tls.contains("--ca-cert"),
            "{tls}"
        );
        let idle = CliError::from(ApiError::Timeout {
            kind: TimeoutKind::Idle,
            message: "no data".into(),
            cause: None,
        })
        .report();
        assert!(
            idle.contains("read timeout") && idle.contains("--read-timeout"),
            "{idle}"
        );
        assert_eq!(e.exit_code(), 6);
        assert_eq!(CliError::BrokenPipe.report(), "");
        assert_eq!(CliError::BrokenPipe.exit_code(), 0);
        let pipe = CliError::output(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(matches!(pipe, CliError::BrokenPipe));
    }
}
