//! The OAuth 2.0 token endpoint's success answer, read without trusting any of it.
//!
//! [`parse_token_answer`] is a pure function of the HTTP status and the body, so that
//! every transport reads the answer the same way and the fuzz target can call it. The
//! lifetime it returns is always within [`MAX_TOKEN_LIFETIME`]: whatever `expires_in`
//! says (`1e300`, `"18446744073709551615"`, `-5`, `"NaN"`), adding it to an
//! [`std::time::Instant`] or a [`std::time::SystemTime`] can never overflow.

use std::fmt;
use std::time::Duration;

use crate::error::{classify_response, Error};

/// The longest lifetime a token is believed to have: one year. A longer `expires_in` is
/// cut to it.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(365 * 86_400);

/// A token as the token endpoint issued it.
///
/// `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenAnswer {
    /// `access_token`, trimmed; never empty.
    pub access_token: String,
    /// `expires_in`, clamped to at most [`MAX_TOKEN_LIFETIME`]; `Duration::ZERO` ("expires
    /// now": use it for this request only) when it is zero, negative, or not a number;
    /// `None` when the answer has no `expires_in` (or `null`).
    pub expires_in: Option<Duration>,
}

impl fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

fn invalid(message: impl Into<String>, path: Option<&str>) -> Error {
    Error::InvalidResponse {
        message: message.into(),
        offset: 0,
        path: path.map(str::to_owned),
        sessions_before: 0,
        truncated: false,
    }
}

/// A lifetime in seconds, as any number: clamped to `0..=MAX_TOKEN_LIFETIME`; not a
/// finite number counts as zero.
fn lifetime_of_secs(secs: f64) -> Duration {
    if !secs.is_finite() || secs <= 0.0 {
        return Duration::ZERO;
    }
    let max = MAX_TOKEN_LIFETIME.as_secs_f64();
    // `secs` is finite and within 0..=max here, so the conversion cannot panic.
    Duration::try_from_secs_f64(secs.min(max)).unwrap_or(MAX_TOKEN_LIFETIME)
}

/// The lifetime an `expires_in` value stands for; see [`TokenAnswer::expires_in`].
pub fn token_lifetime(value: Option<&serde_json::Value>) -> Option<Duration> {
    match value? {
        serde_json::Value::Null => None,
        serde_json::Value::Number(n) => Some(match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => Duration::from_secs(u).min(MAX_TOKEN_LIFETIME),
            (None, Some(f)) => lifetime_of_secs(f),
            (None, None) => Duration::ZERO,
        }),
        serde_json::Value::String(s) => {
            let t = s.trim();
            Some(match t.parse::<u64>() {
                Ok(u) => Duration::from_secs(u).min(MAX_TOKEN_LIFETIME),
                Err(_) => lifetime_of_secs(t.parse::<f64>().unwrap_or(0.0)),
            })
        }
        _ => Some(Duration::ZERO),
    }
}

/// Reads the token endpoint's answer to a successful (2xx) request: the token and its
/// lifetime, clamped (see [`TokenAnswer::expires_in`]).
///
/// Fails with [`Error::InvalidResponse`] when the body is not a JSON object with a
/// non-empty `access_token`, or when the token is not a Bearer token; with the error it
/// stands for when the body is an OAuth or envelope error inside the success status.
/// Messages never quote the body: it holds the token.
pub fn parse_token_answer(status: u16, body: &[u8]) -> Result<TokenAnswer, Error> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
        invalid(
            format!(
                "the token endpoint answered HTTP {status} with {} that is not JSON",
                if body.is_empty() {
                    "an empty body"
                } else {
                    "a body"
                }
            ),
            None,
        )
    })?;
    let Some(object) = value.as_object() else {
        return Err(invalid(
            "the token endpoint's answer is not a JSON object",
            None,
        ));
    };
    let token = object
        .get("access_token")
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        if object.contains_key("error") || object.contains_key("response") {
            // An error inside a success status; it carries no token to hide.
            return Err(classify_response(status.max(400), body, None));
        }
        return Err(invalid(
            "the token endpoint's answer has no access_token",
            Some("access_token"),
        ));
    };
    if let Some(kind) = object.get("token_type").and_then(|v| v.as_str()) {
        if !kind.eq_ignore_ascii_case("bearer") {
            let shown: String = kind.chars().filter(|c| !c.is_control()).take(40).collect();
            return Err(invalid(
                format!(
                    "the token endpoint issued a {shown:?} token; only Bearer tokens are supported"
                ),
                Some("token_type"),
            ));
        }
    }
    Ok(TokenAnswer {
        access_token: token.to_owned(),
        expires_in: token_lifetime(object.get("expires_in")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lifetime(expires_in: &str) -> Option<Duration> {
        let body = format!(r#"{{"access_token":"abc","expires_in":{expires_in}}}"#);
        match parse_token_answer(200, body.as_bytes()) {
            Ok(t) => t.expires_in,
            Err(e) => panic!("{expires_in}: {e}"),
        }
    }

    #[test]
    fn ordinary_lifetimes() {
        assert_eq!(lifetime("3600"), Some(Duration::from_secs(3600)));
        assert_eq!(lifetime("\"60\""), Some(Duration::from_secs(60)));
        assert_eq!(lifetime("\" 60 \""), Some(Duration::from_secs(60)));
        assert_eq!(lifetime("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(lifetime("null"), None);
        let none = parse_token_answer(200, br#"{"access_token":"abc"}"#);
        assert!(matches!(
            none,
            Ok(TokenAnswer {
                expires_in: None,
                ..
            })
        ));
    }

    #[test]
    fn huge_lifetimes_are_clamped_to_a_year() {
        for text in [
            "18446744073709551615",
            "18446744073709551616",
            "\"18446744073709551615\"",
            "9223372036854775807",
            "1e19",
            "\"1e19\"",
            "1e300",
            "\"1e300\"",
            "31536001",
        ] {
            assert_eq!(lifetime(text), Some(MAX_TOKEN_LIFETIME), "{text}");
        }
    }

    #[test]
    fn zero_negative_and_nonsense_expire_now() {
        for text in [
            "0", "-1", "-1e300", "\"-5\"", "\"NaN\"", "\"nan\"", "\"soon\"", "\"\"", "true", "[]",
            "{}", "-0.0", "\"inf\"",
        ] {
            assert_eq!(lifetime(text), Some(Duration::ZERO), "{text}");
        }
    }

    #[test]
    fn every_clamped_lifetime_can_be_added_to_now() {
        for text in ["18446744073709551615", "1e300", "\"1e19\"", "-1"] {
            let l = lifetime(text).unwrap_or_default();
            assert!(std::time::Instant::now().checked_add(l).is_some());
            assert!(std::time::SystemTime::now().checked_add(l).is_some());
        }
    }

    #[test]
    fn malformed_answers_are_errors_that_never_quote_the_token() {
        let missing = parse_token_answer(200, br#"{"token_type":"Bearer"}"#);
        assert!(matches!(missing, Err(Error::InvalidResponse { .. })));
        let empty = parse_token_answer(200, br#"{"access_token":"  "}"#);
        assert!(matches!(empty, Err(Error::InvalidResponse { .. })));
        let error = parse_token_answer(
            200,
            br#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
        );
        assert!(matches!(error, Err(Error::Auth { .. })), "{error:?}");
        for body in [
            &b"{\"access_token\":\"s3cr3t-token\" garbage"[..],
            b"[\"s3cr3t-token\"]",
            br#"{"token_type":"mac","access_token":"s3cr3t-token"}"#,
        ] {
            let e = parse_token_answer(200, body)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(!e.is_empty() && !e.contains("s3cr3t"), "{e}");
        }
        let ok = parse_token_answer(200, br#"{"access_token":"s3cr3t-token"}"#);
        assert!(!format!("{ok:?}").contains("s3cr3t"));
    }
}
