//! The bodies the mock answers with, byte for byte: the PAM Core envelope,
//! the OAuth server's and the API gateway's bodies.

use crate::generator::{write_json_string, write_ok_prefix};

/// `{"code":..,"response":{...error...},["exception":{...},]"tenant":..}`.
pub(crate) fn error_envelope(
    tenant: &str,
    code: u16,
    message: &str,
    exception: Option<u32>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"code\":");
    out.extend_from_slice(code.to_string().as_bytes());
    out.extend_from_slice(b",\"response\":{\"status\":");
    out.extend_from_slice(code.to_string().as_bytes());
    out.extend_from_slice(b",\"message\":");
    write_json_string(&mut out, message);
    out.extend_from_slice(b",\"error\":true,\"error_code\":1,\"detail\":\"\",\"mensagem\":");
    write_json_string(&mut out, message);
    out.extend_from_slice(b",\"erro\":true,\"cod_erro\":1}");
    if let Some(exception) = exception {
        out.extend_from_slice(b",\"exception\":{\"code\":");
        out.extend_from_slice(exception.to_string().as_bytes());
        out.extend_from_slice(b",\"message\":");
        write_json_string(&mut out, message);
        out.extend_from_slice(b",\"detail\":null}");
    }
    out.extend_from_slice(b",\"tenant\":");
    write_json_string(&mut out, tenant);
    out.push(b'}');
    out
}

/// HTTP 400, application code 1002.
pub(crate) fn session_not_found(tenant: &str) -> Vec<u8> {
    error_envelope(tenant, 400, "1002: Session not found", Some(1002))
}

/// HTTP 400, application code 1003.
pub(crate) fn unexpected_identifier(tenant: &str) -> Vec<u8> {
    error_envelope(tenant, 400, "1003: Unexpected identifier type", Some(1003))
}

/// The drop endpoint's success body.
pub(crate) fn dropped(tenant: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(
        "{\"code\":200,\"response\":{\"status\":200,\"message\":\"Session dropped successfully\",\
\"error\":false,\"error_code\":0,\"detail\":\"\",\"mensagem\":\"Sessão encerrada com sucesso\",\
\"erro\":false,\"cod_erro\":0},\"tenant\":"
            .as_bytes(),
    );
    write_json_string(&mut out, tenant);
    out.push(b'}');
    out
}

/// The older drop endpoint's success body (`DELETE /iso/session/drop/{hash}`, 3.32): the
/// message "Sessão interrompida com sucesso", no `code` and no `tenant`.
pub(crate) const LEGACY_DROPPED: &str =
    "{\"response\":{\"status\":200,\"message\":\"Sessão interrompida com sucesso\",\
\"error\":false,\"error_code\":0,\"detail\":\"\",\"mensagem\":\"Sessão interrompida com sucesso\",\
\"erro\":false,\"cod_erro\":0}}";

/// The web proxy session endpoint's success body: the envelope with "Session created
/// successfully" and the `session` object. The older path's answer (`legacy`) spells
/// the Portuguese message's key `Message`, as some versions of the vendor's pages do.
pub(crate) fn web_session_created(tenant: &str, url: &str, token: &str, legacy: bool) -> Vec<u8> {
    let portuguese = if legacy { "Message" } else { "mensagem" };
    let mut response = serde_json::Map::new();
    for (k, v) in [
        ("status", serde_json::json!(200)),
        ("message", serde_json::json!("Session created successfully")),
        ("error", serde_json::json!(false)),
        ("error_code", serde_json::json!(0)),
        ("detail", serde_json::json!("")),
        (portuguese, serde_json::json!("Sessão criada com sucesso")),
        ("erro", serde_json::json!(false)),
        ("cod_erro", serde_json::json!(0)),
    ] {
        response.insert(k.to_owned(), v);
    }
    let body = serde_json::json!({
        "code": 200,
        "response": response,
        "tenant": tenant,
        "session": {"session_url": url, "token": token},
    });
    body.to_string().into_bytes()
}

/// The get endpoint's body around one session object.
pub(crate) fn one_session(tenant: &str, session: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    write_ok_prefix(&mut out, tenant);
    out.extend_from_slice(b"\"remote_session\":[");
    out.extend_from_slice(session);
    out.extend_from_slice(b"]}");
    out
}

/// The API gateway's answer when no route matches (unknown path, or no
/// `Authorization` header).
pub(crate) const NO_ROUTE: &str = r#"{"message":"no Route matched with those values"}"#;

/// The OAuth server's answer to wrong client credentials.
pub(crate) const INVALID_CLIENT: &str = r#"{"error":"invalid_client","error_description":"Client authentication failed","message":"Client authentication failed"}"#;

/// The answer to an API call with an unknown, expired or revoked bearer token.
pub(crate) const INVALID_TOKEN: &str = r#"{"error":"invalid_token","error_description":"The access token is invalid or has expired","message":"Client authentication failed"}"#;

/// A gateway 502 page.
pub(crate) const BAD_GATEWAY_HTML: &str =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n\
<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n\
<p>An invalid response was received from the upstream server</p>\r\n</body>\r\n</html>\r\n";

/// A login page served where JSON was expected.
pub(crate) const NOT_JSON_HTML: &str =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
<title>Segura - Login</title></head>\n<body><form method=\"post\" action=\"/login\">\
<input name=\"user\"><input name=\"password\" type=\"password\"></form></body>\n</html>\n";

/// The gateway's 503 body.
pub(crate) const SERVICE_UNAVAILABLE: &str =
    r#"{"message":"The upstream server is currently unavailable"}"#;

/// The gateway's 504 body.
pub(crate) const GATEWAY_TIMEOUT: &str = r#"{"message":"The upstream server is timing out"}"#;

/// The gateway's 408 body.
pub(crate) const REQUEST_TIMEOUT: &str = r#"{"message":"Request timed out"}"#;

/// The gateway's 429 body.
pub(crate) const RATE_LIMITED: &str = r#"{"message":"API rate limit exceeded"}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_matches_the_documented_body() {
        assert_eq!(
            String::from_utf8_lossy(&session_not_found("Segura")),
            r#"{"code":400,"response":{"status":400,"message":"1002: Session not found","error":true,"error_code":1,"detail":"","mensagem":"1002: Session not found","erro":true,"cod_erro":1},"exception":{"code":1002,"message":"1002: Session not found","detail":null},"tenant":"Segura"}"#
        );
    }

    #[test]
    fn drop_matches_the_documented_body() {
        assert_eq!(
            String::from_utf8_lossy(&dropped("Segura")),
            r#"{"code":200,"response":{"status":200,"message":"Session dropped successfully","error":false,"error_code":0,"detail":"","mensagem":"Sessão encerrada com sucesso","erro":false,"cod_erro":0},"tenant":"Segura"}"#
        );
    }

    #[test]
    fn static_bodies_are_json() {
        for body in [
            NO_ROUTE,
            INVALID_CLIENT,
            INVALID_TOKEN,
            SERVICE_UNAVAILABLE,
            GATEWAY_TIMEOUT,
            REQUEST_TIMEOUT,
            RATE_LIMITED,
        ] {
            assert!(
                serde_json::from_str::<serde_json::Value>(body).is_ok(),
                "{body}"
            );
        }
    }
}
