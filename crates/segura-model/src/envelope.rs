//! The response envelope that wraps every PAM Core answer, and the three bodies.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::session::RemoteSession;

/// Accepts an integer as a JSON number or a string of digits (PHP servers send both).
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer, a string of digits or null")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v).map(Some).map_err(E::custom)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                Ok(Some(v as i64))
            } else {
                Err(E::custom(format!("expected an integer, found {v}")))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            let t = v.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse()
                .map(Some)
                .map_err(|_| E::custom(format!("expected an integer, found {v:?}")))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(i64::from(v)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// Accepts a flag as a JSON boolean, 0/1, or the strings `true`/`false`.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
            Ok(v != 0)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
            Ok(v != 0)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" | "" => Ok(false),
                _ => Err(E::custom(format!("expected a boolean, found {v:?}"))),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_none<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
    }
    d.deserialize_any(V)
}

/// Accepts text as a string, a number (kept as its text) or null (empty).
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// The status block (`response`) of the envelope, with its English and Portuguese keys.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseStatus {
    /// HTTP-like status (`status`).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub status: Option<i64>,
    /// Message (`message`), empty on success.
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: String,
    /// Whether this is an error (`error`).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub error: bool,
    /// Generic error code (`error_code`); the specific one is in [`ApiException::code`].
    #[serde(default, deserialize_with = "lenient_i64")]
    pub error_code: Option<i64>,
    /// Detail (`detail`).
    #[serde(default, deserialize_with = "lenient_string")]
    pub detail: String,
    /// Portuguese message (`mensagem`).
    #[serde(default, deserialize_with = "lenient_string")]
    pub mensagem: String,
    /// Portuguese error flag (`erro`).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub erro: bool,
    /// Portuguese error code (`cod_erro`).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub cod_erro: Option<i64>,
}

impl ResponseStatus {
    /// Whether the block reports an error (either language).
    pub fn is_error(&self) -> bool {
        self.error || self.erro || self.status.is_some_and(|s| s >= 400)
    }

    /// The message to show: English, else Portuguese.
    pub fn best_message(&self) -> &str {
        if !self.message.is_empty() {
            &self.message
        } else {
            &self.mensagem
        }
    }
}

/// The `exception` object of an error envelope, which holds the specific application
/// code (1002 "Session not found", 1003 "Unexpected identifier type").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiException {
    /// Application code (`code`).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub code: Option<i64>,
    /// Message (`message`).
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: String,
    /// Detail (`detail`), any JSON value.
    #[serde(default)]
    pub detail: serde_json::Value,
}

impl ApiException {
    /// Application code: "Session not found".
    pub const SESSION_NOT_FOUND: i64 = 1002;
    /// Application code: "Unexpected identifier type".
    pub const UNEXPECTED_IDENTIFIER_TYPE: i64 = 1003;
}

/// The envelope fields shared by every body: `code`, `response`, `exception`, `tenant`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Envelope {
    /// HTTP-like code of the answer (`code`).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub code: Option<i64>,
    /// Status block (`response`).
    #[serde(default)]
    pub response: Option<ResponseStatus>,
    /// Error detail with the application code (`exception`), on some errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<ApiException>,
    /// Tenant name (`tenant`).
    #[serde(default)]
    pub tenant: Option<String>,
}

impl Envelope {
    /// Whether the envelope reports an error, even inside an HTTP 200: `code` of 400 or
    /// more, an error flag or status in `response`, or an `exception`.
    pub fn is_error(&self) -> bool {
        self.code.is_some_and(|c| c >= 400)
            || self.response.as_ref().is_some_and(ResponseStatus::is_error)
            || self.exception.is_some()
    }

    /// The most specific message: the exception's, else the status block's.
    pub fn message(&self) -> Option<&str> {
        self.exception
            .as_ref()
            .map(|e| e.message.as_str())
            .filter(|m| !m.is_empty())
            .or_else(|| {
                self.response
                    .as_ref()
                    .map(ResponseStatus::best_message)
                    .filter(|m| !m.is_empty())
            })
    }

    /// The application code from `exception`, where present.
    pub fn application_code(&self) -> Option<i64> {
        self.exception.as_ref().and_then(|e| e.code)
    }

    /// The status: `code`, else `response.status`.
    pub fn status(&self) -> Option<i64> {
        self.code
            .or_else(|| self.response.as_ref().and_then(|r| r.status))
    }
}

/// The body of `GET /api/session/remotesessions`.
///
/// This holds the whole list in memory; for large lists use the streaming decoder of
/// `segura-api` instead.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListResponse {
    /// The envelope.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Every session (`remote_sessions`).
    #[serde(default)]
    pub remote_sessions: Vec<RemoteSession>,
}

/// The body of `GET /api/session/remotesessions/{id}`: the singular key
/// `remote_session` holds an array of one.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetResponse {
    /// The envelope.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The session, as an array of one (`remote_session`).
    #[serde(default)]
    pub remote_session: Vec<RemoteSession>,
}

/// The body of `DELETE /api/pam/session/drop/{session_id}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DropResponse {
    /// The envelope; on success `response.message` is "Session dropped successfully".
    #[serde(flatten)]
    pub envelope: Envelope,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_envelope_with_exception() {
        let body = r#"{"code":400,"response":{"status":400,"message":"1002: Session not found","error":true,
 "error_code":1,"detail":"","mensagem":"1002: Session not found","erro":true,"cod_erro":1},
 "exception":{"code":1002,"message":"1002: Session not found","detail":null}}"#;
        let e: Envelope = serde_json::from_str(body).unwrap();
        assert!(e.is_error());
        assert_eq!(e.application_code(), Some(ApiException::SESSION_NOT_FOUND));
        assert_eq!(e.message(), Some("1002: Session not found"));
        assert_eq!(e.status(), Some(400));
    }

    #[test]
    fn error_inside_http_200_and_lenient_types() {
        let e: Envelope = serde_json::from_str(
            r#"{"code":"200","response":{"status":"500","error":"true","mensagem":"Erro inesperado"}}"#,
        )
        .unwrap();
        assert!(e.is_error());
        assert_eq!(e.message(), Some("Erro inesperado"));
        let ok: Envelope =
            serde_json::from_str(r#"{"code":200,"response":{"status":200,"error":false}}"#)
                .unwrap();
        assert!(!ok.is_error());
        assert_eq!(ok.message(), None);
    }

    #[test]
    fn drop_response() {
        let d: DropResponse = serde_json::from_str(
            r#"{"code":200,"response":{"message":"Session dropped successfully","mensagem":"Sessão encerrada com sucesso"},"tenant":"Segura"}"#,
        )
        .unwrap();
        assert!(!d.envelope.is_error());
        assert_eq!(d.envelope.message(), Some("Session dropped successfully"));
        assert_eq!(d.envelope.tenant.as_deref(), Some("Segura"));
    }
}
