//! The drop endpoint's answer: a success only when the server said so in words it is
//! known to use.
//!
//! An answer that is valid JSON but not a recognised success (`{}`, `{"code":200}`, a
//! 200 whose message says the session could not be dropped) is not taken as a success:
//! the session may or may not have been dropped, and only asking again tells.

use segura_model::DropResponse;

use crate::error::{classify_response, Error};

/// The messages of a successful drop, compared without case and surrounding spaces: the
/// documented English and Portuguese ones, and the older endpoint's Portuguese one
/// (which comes without `code` or `tenant`).
pub const DROP_SUCCESS_MESSAGES: [&str; 3] = [
    "Session dropped successfully",
    "Sessão encerrada com sucesso",
    "Sessão interrompida com sucesso",
];

/// The start of the message of an answer that was not understood.
pub const NOT_UNDERSTOOD: &str =
    "the answer to the drop was not understood; the session may or may not have been dropped";

fn is_success_message(text: &str) -> bool {
    let t = text.trim();
    DROP_SUCCESS_MESSAGES
        .iter()
        .any(|m| t.to_lowercase() == m.to_lowercase())
}

/// Whether an answer is a recognised success: no error, a `code` (and `response.status`)
/// of 200 or none, and one of [`DROP_SUCCESS_MESSAGES`] as `response.message` or
/// `response.mensagem`.
pub fn is_recognised_drop(answer: &DropResponse) -> bool {
    let envelope = &answer.envelope;
    if envelope.is_error() || envelope.code.is_some_and(|c| c != 200) {
        return false;
    }
    let Some(response) = &envelope.response else {
        return false;
    };
    if response.status.is_some_and(|s| s != 200) {
        return false;
    }
    is_success_message(&response.message) || is_success_message(&response.mensagem)
}

fn not_understood(detail: &str, truncated: bool, offset: u64) -> Error {
    Error::InvalidResponse {
        message: format!("{NOT_UNDERSTOOD} ({detail})"),
        offset,
        path: None,
        sessions_before: 0,
        truncated,
    }
}

/// Reads the drop endpoint's answer to a successful (2xx) request.
///
/// * a recognised success (see [`is_recognised_drop`]): `Ok`;
/// * an error envelope, even inside HTTP 200: the error it stands for;
/// * anything else (empty, not JSON, an HTML page, JSON that is not a recognised
///   success): [`Error::InvalidResponse`], whose message starts with [`NOT_UNDERSTOOD`].
pub fn parse_drop_answer(status: u16, body: &[u8]) -> Result<DropResponse, Error> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(not_understood(
            &format!("HTTP {status} with an empty body"),
            status != 204,
            0,
        ));
    }
    match serde_json::from_str::<DropResponse>(trimmed) {
        Ok(answer) if answer.envelope.is_error() => Err(classify_response(status, body, None)),
        Ok(answer) if is_recognised_drop(&answer) => Ok(answer),
        Ok(_) => Err(not_understood(
            &format!("HTTP {status} without the documented success message"),
            false,
            0,
        )),
        Err(e) => {
            let detail = crate::error::why_not_json(trimmed, &e)
                .unwrap_or_else(|| format!("not the API's JSON: {e}"));
            Err(not_understood(
                &detail,
                e.is_eof(),
                offset_of(trimmed, e.line(), e.column()),
            ))
        }
    }
}

/// The byte offset of a 1-based line and column.
fn offset_of(text: &str, line: usize, column: usize) -> u64 {
    let before: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (before + column.saturating_sub(1)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENTED: &[u8] = br#"{"code":200,"response":{"status":200,"message":"Session dropped successfully","error":false,"error_code":0,"detail":"","mensagem":"Sess\u00e3o encerrada com sucesso","erro":false,"cod_erro":0},"tenant":"Segura"}"#;

    fn not_understood_message(r: &Result<DropResponse, Error>) -> bool {
        matches!(r, Err(Error::InvalidResponse { message, .. }) if message.starts_with(NOT_UNDERSTOOD))
    }

    #[test]
    fn recognised_successes() {
        let ok = parse_drop_answer(200, DOCUMENTED);
        assert!(
            matches!(&ok, Ok(d) if d.envelope.message() == Some("Session dropped successfully"))
        );
        let legacy = parse_drop_answer(
            200,
            "{\"response\":{\"mensagem\":\"Sessão interrompida com sucesso\"}}".as_bytes(),
        );
        assert!(legacy.is_ok(), "{legacy:?}");
        let portuguese = parse_drop_answer(
            200,
            "{\"code\":200,\"response\":{\"mensagem\":\"Sessão encerrada com sucesso\"}}"
                .as_bytes(),
        );
        assert!(portuguese.is_ok(), "{portuguese:?}");
        let spaced = parse_drop_answer(
            200,
            br#"{"code":"200","response":{"message":" session dropped successfully "}}"#,
        );
        assert!(spaced.is_ok(), "{spaced:?}");
    }

    #[test]
    fn answers_that_are_not_a_recognised_success() {
        for body in [
            &b"{}"[..],
            br#"{"code":200}"#,
            br#"{"hello":"world"}"#,
            br#"{"code":200,"response":{"status":200,"message":""}}"#,
            br#"{"code":200,"response":{"status":200,"message":"Session could not be dropped"}}"#,
            br#"{"code":200,"response":{"message":"Session dropped successfully, not"}}"#,
            br#"{"code":201,"response":{"message":"Session dropped successfully"}}"#,
            br#"{"code":200,"response":{"status":202,"message":"Session dropped successfully"}}"#,
            br#"[]"#,
            b"null",
            b"<html><title>Login</title></html>",
            br#"{"code":200,"resp"#,
            b"",
        ] {
            let r = parse_drop_answer(200, body);
            assert!(
                not_understood_message(&r),
                "{}: {r:?}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(not_understood_message(&parse_drop_answer(204, b"")));
        let html = parse_drop_answer(200, b"<html><title>Login</title></html>");
        assert!(
            matches!(&html, Err(Error::InvalidResponse { message, .. }) if message.contains("Login"))
        );
        let cut = parse_drop_answer(200, br#"{"code":200,"resp"#);
        assert!(matches!(
            cut,
            Err(Error::InvalidResponse {
                truncated: true,
                ..
            })
        ));
    }

    #[test]
    fn an_error_envelope_in_200_is_that_error() {
        let in_200 = parse_drop_answer(
            200,
            br#"{"code":400,"response":{"status":400,"message":"1002: Session not found","error":true},"exception":{"code":1002,"message":"1002: Session not found","detail":null}}"#,
        );
        assert!(matches!(
            in_200,
            Err(Error::NotFound {
                code: Some(1002),
                ..
            })
        ));
    }

    #[test]
    fn offsets() {
        assert_eq!(offset_of("abc\ndef", 2, 2), 5);
        assert_eq!(offset_of("abc", 1, 1), 0);
    }
}
