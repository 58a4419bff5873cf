//! Web proxy sessions: the request of `POST /api/pam/remote/session` (3.33:
//! `/api/remote/session`) and the meaning of its answer.
//!
//! The answer's `session_url` and `token` open a session on the appliance: they are
//! credentials, and only [`WebSessionPath`]'s callers decide where they go. Every error
//! built here from an answer has them scrubbed out already.

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::Method;
use segura_model::{WebSession, WebSessionRequest};
use url::Url;

use super::request::build;
use super::Endpoints;
use crate::error::{classify_response, config_error, AuthFailure, Error};
use crate::text::Redactor;

/// The paths of the web proxy session call, in the order the client tries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebSessionPath {
    /// `/api/pam/remote/session` (the current documentation; tried first).
    Pam,
    /// `/api/remote/session` (3.33), tried when the first answers 404.
    Api,
}

impl WebSessionPath {
    /// Every path, in the order they are tried.
    pub const ALL: [WebSessionPath; 2] = [WebSessionPath::Pam, WebSessionPath::Api];

    /// The path, with its leading slash.
    pub fn as_path(self) -> &'static str {
        match self {
            WebSessionPath::Pam => "/api/pam/remote/session",
            WebSessionPath::Api => "/api/remote/session",
        }
    }

    pub(crate) fn segments(self) -> &'static [&'static str] {
        match self {
            WebSessionPath::Pam => &["api", "pam", "remote", "session"],
            WebSessionPath::Api => &["api", "remote", "session"],
        }
    }
}

/// What the permission refusal of a web proxy session call says on top of the usual
/// hint (which names the permission of the session list).
pub const WEB_SESSION_PERMISSION: &str =
    "creating a web proxy session needs the \"Web Proxy Session\" read and write permission on the A2A authorization";

/// Checks a request before it is sent: the four required values present (not blank),
/// no control character in any value, and a screen size of the form `WIDTHxHEIGHT`.
pub fn check_web_session_request(request: &WebSessionRequest) -> Result<(), Error> {
    let required = [
        ("user", &request.user),
        ("credential", &request.credential),
        ("device", &request.device),
        ("protocol", &request.protocol),
    ];
    for (name, value) in required {
        if value.trim().is_empty() {
            return Err(config_error(format!(
                "a web proxy session needs a {name} (it is empty)"
            )));
        }
    }
    let optional = [
        ("remotedevice", request.remote_device.as_ref()),
        ("remoteAddr", request.remote_addr.as_ref()),
        ("screensize", request.screen_size.as_ref()),
    ];
    for (name, value) in required.iter().map(|(n, v)| (*n, Some(*v))).chain(optional) {
        if value.is_some_and(|v| v.chars().any(char::is_control)) {
            return Err(config_error(format!(
                "the web proxy session's {name} holds a control character"
            )));
        }
    }
    if let Some(size) = &request.screen_size {
        parse_screen_size(size)?;
    }
    Ok(())
}

/// Reads a screen size, `1920x1080`: two positive numbers of at most 5 digits.
pub fn parse_screen_size(text: &str) -> Result<(u32, u32), Error> {
    let bad = || {
        config_error(format!(
            "screen size {text:?} is not WIDTHxHEIGHT, e.g. 1920x1080"
        ))
    };
    let (w, h) = text.trim().split_once(['x', 'X']).ok_or_else(bad)?;
    let number = |s: &str| -> Result<u32, Error> {
        if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(bad)
    };
    Ok((number(w)?, number(h)?))
}

/// `POST {base}{path}` with the request as a JSON body, no credentials yet.
pub fn web_session_request(
    endpoints: &Endpoints,
    path: WebSessionPath,
    request: &WebSessionRequest,
) -> Result<http::Request<Bytes>, Error> {
    check_web_session_request(request)?;
    let body = serde_json::to_vec(request)
        .map_err(|e| config_error(format!("cannot write the web proxy session request: {e}")))?;
    let mut r = build(
        Method::POST,
        &endpoints.web_session_at(path)?,
        Bytes::from(body),
    )?;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(r)
}

/// Reads the answer to a successful (2xx) web proxy session request.
///
/// * an error envelope, even inside HTTP 200: the error it stands for (a permission
///   refusal says which permission);
/// * a `session` with a non-empty `session_url` and `token`: the session, its URL
///   checked and normalised ([`check_session_url`]), its token printable ASCII;
/// * anything else: [`Error::InvalidResponse`].
///
/// The message ("Session created successfully") may be spelled `message`, `mensagem`
/// or `Message`: none is required, the session is what counts; it is quoted when the
/// session is missing. The URL and the token never appear in an error.
pub fn parse_web_session_answer(
    status: u16,
    body: &[u8],
    endpoints: &Endpoints,
) -> Result<WebSession, Error> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    let value: serde_json::Value = match serde_json::from_str(trimmed) {
        Ok(v) => v,
        Err(e) => {
            // The parser's own message may quote the body, and with it a secret.
            let detail = if trimmed.is_empty() {
                "an empty body".to_owned()
            } else {
                crate::error::why_not_json(trimmed, &e)
                    .unwrap_or_else(|| "not the API's JSON".to_owned())
            };
            return Err(not_understood(&detail, e.is_eof()));
        }
    };
    let found = session_of(&value);
    let redactor = Redactor::new();
    if let Some((url, token)) = &found {
        register(&redactor, url, token);
    }
    let is_error = <segura_model::Envelope as serde::Deserialize>::deserialize(&value)
        .is_ok_and(|e| e.is_error());
    if is_error {
        return Err(redactor.scrub(web_session_refusal(classify_response(status, body, None))));
    }
    let Some((url, token)) = found else {
        let message = message_of(&value);
        let detail = if message.is_empty() {
            "no session URL and token in it".to_owned()
        } else {
            format!(
                "no session URL and token in it; it says {:?}",
                crate::text::sanitize(&message)
            )
        };
        return Err(redactor.scrub(not_understood(&detail, false)));
    };
    let checked = check_session_url(&url, endpoints).map_err(|e| redactor.scrub(e))?;
    if !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(not_understood(
            "the token holds characters that cannot be shown safely",
            false,
        ));
    }
    Ok(WebSession::new(checked, token))
}

/// Registers the secrets of a session with `redactor`: the URL as sent and normalised,
/// each of its long query values (the opaque `_sr`), and the token.
pub fn register_web_session(redactor: &Redactor, session: &WebSession) {
    register(redactor, &session.session_url, &session.token);
}

fn register(redactor: &Redactor, url: &str, token: &str) {
    redactor.add(url);
    redactor.add(token);
    if let Ok(parsed) = Url::parse(url.trim()) {
        redactor.add(parsed.as_str());
        for (_, v) in parsed.query_pairs() {
            if v.len() >= 8 {
                redactor.add(&v);
            }
        }
    }
}

/// Checks a session URL from the server and returns it normalised: an absolute `https`
/// URL with a host (or `http` when the API itself is reached over `http`). The
/// normalised form is plain ASCII: control characters, spaces and non-ASCII characters
/// are percent-encoded (or the URL refused), so it is safe on a terminal and in a
/// shell's `$(...)`, and a browser opens the same address.
pub fn check_session_url(url: &str, endpoints: &Endpoints) -> Result<String, Error> {
    let refused = |why: &str| Error::InvalidResponse {
        message: format!("the server sent a web proxy session URL that is refused: {why}"),
        offset: 0,
        path: None,
        sessions_before: 0,
        truncated: false,
    };
    let parsed = Url::parse(url.trim()).map_err(|_| refused("it is not a valid URL"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if endpoints.is_plain_http() => {}
        "http" => {
            return Err(refused(
                "it is plain http while the API is reached over https; \
                 the URL opens a session and must not travel unencrypted",
            ))
        }
        other => {
            let shown = crate::text::sanitize(other)
                .chars()
                .take(20)
                .collect::<String>();
            return Err(refused(&format!("its scheme is {shown:?}, not https")));
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(refused("it has no host"));
    }
    let normalised = parsed.as_str();
    if normalised
        .chars()
        .any(|c| !c.is_ascii() || c.is_ascii_control() || c == ' ')
    {
        return Err(refused("it holds characters that cannot be shown safely"));
    }
    Ok(normalised.to_owned())
}

/// The session's `session_url` and `token`, both non-empty strings.
fn session_of(value: &serde_json::Value) -> Option<(String, String)> {
    let session = value.get("session")?;
    let field = |name: &str| {
        session
            .get(name)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Some((field("session_url")?, field("token")?))
}

/// The answer's message, whichever of its spellings is used.
fn message_of(value: &serde_json::Value) -> String {
    let response = value.get("response");
    ["message", "mensagem", "Message"]
        .iter()
        .filter_map(|k| {
            response
                .and_then(|r| r.get(*k))
                .or_else(|| value.get(*k))
                .and_then(serde_json::Value::as_str)
        })
        .find(|m| !m.trim().is_empty())
        .unwrap_or_default()
        .to_owned()
}

/// `error` of a web proxy session call: a permission refusal names the permission this
/// call needs.
pub fn web_session_refusal(error: Error) -> Error {
    match error {
        Error::Auth {
            kind: AuthFailure::NotAuthorized,
            status,
            message,
        } => Error::Auth {
            kind: AuthFailure::NotAuthorized,
            status,
            message: format!("{message}; {WEB_SESSION_PERMISSION}"),
        },
        other => other,
    }
}

fn not_understood(detail: &str, truncated: bool) -> Error {
    Error::InvalidResponse {
        message: format!(
            "the answer to the web proxy session request was not understood ({detail})"
        ),
        offset: 0,
        path: None,
        sessions_before: 0,
        truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(base: &str) -> Endpoints {
        Endpoints::parse(base).unwrap_or_else(|e| panic!("{e}"))
    }

    fn request() -> WebSessionRequest {
        WebSessionRequest::new("alice", "root", "10.0.0.5", "ssh")
    }

    const OK: &str = r#"{"code":200,"response":{"status":200,"message":"Session created successfully","error":false},"tenant":"Segura","session":{"session_url":"https://pam.example/modulos/auth?_sr=0123456789abcdef","token":"t0k3n-secret-value"}}"#;

    #[test]
    fn the_request_is_a_json_post_to_each_path() {
        let e = endpoints("https://pam.example/p");
        let mut req = request();
        req.port = Some(2222);
        let r =
            web_session_request(&e, WebSessionPath::Pam, &req).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.method(), Method::POST);
        assert_eq!(
            r.uri().to_string(),
            "https://pam.example/p/api/pam/remote/session"
        );
        assert_eq!(
            r.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        let body: serde_json::Value =
            serde_json::from_slice(r.body()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body["user"], "alice");
        assert_eq!(body["port"], 2222);
        assert!(body.get("screensize").is_none());
        let old =
            web_session_request(&e, WebSessionPath::Api, &req).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(old.uri().path(), "/p/api/remote/session");
        assert_eq!(WebSessionPath::ALL[0], WebSessionPath::Pam);
    }

    #[test]
    fn bad_requests_are_refused_before_anything_is_sent() {
        let e = endpoints("https://pam.example");
        let mut blank = request();
        blank.credential = "  ".into();
        let err = web_session_request(&e, WebSessionPath::Pam, &blank);
        assert!(
            matches!(&err, Err(Error::Config { message }) if message.contains("credential")),
            "{err:?}"
        );
        let mut control = request();
        control.device = "host\u{1b}[2J".into();
        assert!(check_web_session_request(&control).is_err());
        for (size, ok) in [
            ("1920x1080", true),
            ("1280X720", true),
            ("0x1080", false),
            ("1920", false),
            ("axb", false),
            ("1920x1080x1", false),
            ("999999x1", false),
        ] {
            let mut r = request();
            r.screen_size = Some(size.into());
            assert_eq!(check_web_session_request(&r).is_ok(), ok, "{size}");
        }
        assert_eq!(parse_screen_size("1920x1080").ok(), Some((1920, 1080)));
    }

    #[test]
    fn a_documented_answer_is_a_session_in_either_spelling() {
        let e = endpoints("https://pam.example");
        let s = parse_web_session_answer(200, OK.as_bytes(), &e).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s.session_url,
            "https://pam.example/modulos/auth?_sr=0123456789abcdef"
        );
        assert_eq!(s.token, "t0k3n-secret-value");
        let capital = r#"{"code":200,"response":{"status":200,"Message":"Sessão criada com sucesso"},"session":{"session_url":"https://h/x?_sr=1","token":"abcd"}}"#;
        assert!(parse_web_session_answer(200, capital.as_bytes(), &e).is_ok());
    }

    #[test]
    fn errors_and_unclear_answers_never_quote_the_secrets() {
        let e = endpoints("https://pam.example");
        let missing = br#"{"code":400,"response":{"status":400,"message":"The field user is required","error":true}}"#;
        let err = parse_web_session_answer(200, missing, &e);
        let shown = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(shown.contains("The field user is required"), "{shown}");

        let forbidden = br#"{"code":403,"response":{"status":403,"message":"You are not authorized to access this resource.","error":true}}"#;
        let err = parse_web_session_answer(200, forbidden, &e);
        assert!(
            matches!(&err, Err(Error::Auth { kind: AuthFailure::NotAuthorized, message, .. }) if message.contains("Web Proxy Session")),
            "{err:?}"
        );

        // An error envelope that quotes the session back: the secrets are scrubbed.
        let quoting = r#"{"code":500,"response":{"status":500,"message":"failed for https://pam.example/modulos/auth?_sr=0123456789abcdef t0k3n-secret-value","error":true},"session":{"session_url":"https://pam.example/modulos/auth?_sr=0123456789abcdef","token":"t0k3n-secret-value"}}"#;
        let err = parse_web_session_answer(200, quoting.as_bytes(), &e)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            !err.contains("t0k3n-secret-value") && !err.contains("0123456789abcdef"),
            "{err}"
        );
        for body in [
            &b""[..],
            b"{}",
            b"<html><title>Login</title></html>",
            br#"{"session":{"session_url":"https://h/"}}"#,
            b"{\"code\":200,",
        ] {
            let r = parse_web_session_answer(200, body, &e);
            assert!(
                matches!(r, Err(Error::InvalidResponse { .. })),
                "{}: {r:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn session_urls_are_checked_and_made_safe() {
        let https = endpoints("https://pam.example");
        let http = endpoints("http://127.0.0.1:8080");
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,x",
            "/modulos/auth?_sr=x",
            "https://",
            "http://pam.example/modulos/auth",
        ] {
            let r = check_session_url(bad, &https);
            assert!(
                matches!(&r, Err(Error::InvalidResponse { message, .. }) if message.contains("refused")),
                "{bad}: {r:?}"
            );
        }
        assert!(check_session_url("http://127.0.0.1:8080/m?_sr=1", &http).is_ok());
        let hostile =
            "https://pam.example/modulos/auth?_sr=a\u{1b}]52;c;evil\u{7}b\u{9b}2J\u{202e}x";
        let safe = check_session_url(hostile, &https).unwrap_or_else(|e| panic!("{e}"));
        assert!(safe.chars().all(|c| c.is_ascii_graphic()), "{safe:?}");
        assert!(
            safe.starts_with("https://pam.example/modulos/auth?_sr=a%1B"),
            "{safe}"
        );
        assert!(check_session_url("https://pam\u{1b}.example/", &https).is_err());
        let bad_token =
            "{\"session\":{\"session_url\":\"https://h/x\",\"token\":\"ab\\u001b[2Jcd\"}}";
        assert!(matches!(
            parse_web_session_answer(200, bad_token.as_bytes(), &https),
            Err(Error::InvalidResponse { .. })
        ));
    }
}
