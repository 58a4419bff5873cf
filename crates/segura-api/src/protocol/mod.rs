//! The protocol layer: the requests of the token, list, get, drop and web session calls as plain
//! [`http::Request`] values with authentication applied, and the meaning of their
//! answers, **without any I/O**.
//!
//! Nothing here opens a socket, reads a file, reads the clock or waits: a request is a
//! function of the configuration (and, for OAuth 1.0a, of the nonce and timestamp the
//! caller passes in), and an answer's meaning a function of its status, headers and body.
//! `cargo xtask tidy` checks that these sources use no I/O crate or module. The
//! generic [`crate::client::Client`] drives these functions over any
//! [`crate::transport::Transport`].
//!
//! * [`Endpoints`]: the base URL, checked once, and the URL of each endpoint under it.
//! * [`Auth`], [`Credentials`]: OAuth 2.0 (form body or Basic), OAuth 1.0a
//!   ([`oauth1`]: HMAC-SHA1, a pure function), a ready bearer token.
//! * [`list_request`], [`get_request`], [`drop_request`], [`web_session_request`],
//!   [`Credentials::token_request`].
//! * [`response_error`] (on top of [`crate::classify_response`]), [`redirect_error`],
//!   [`unexpected_encoding`], [`crate::parse_token_answer`], [`crate::parse_drop_answer`],
//!   [`parse_web_session_answer`] (with [`check_session_url`]),
//!   and the retry rules: [`may_retry`], [`provably_unsent`], [`backoff`].

mod auth;
mod endpoints;
pub mod oauth1;
mod request;
mod response;
mod secret;
mod web_session;

pub use auth::{bearer_header, sensitive_header, Auth, ClientAuthMethod, Credentials};
pub use endpoints::{ApiPrefix, Endpoints, TokenUrl};
pub use request::{
    drop_request, get_request, get_request_at, legacy_drop_request, list_request, list_request_at,
    Target,
};
pub use response::{
    backoff, drop_cut, is_route_missing, may_retry, provably_unsent, rate_limit_wait,
    redirect_error, request_id, response_error, retry_after, token_body_error,
    unasked_not_modified, unexpected_encoding, with_request_id, ERROR_BODY_CAP,
};
pub use secret::Secret;
pub use web_session::{
    check_session_url, check_web_session_request, parse_screen_size, parse_web_session_answer,
    register_web_session, web_session_refusal, web_session_request, WebSessionPath,
    WEB_SESSION_PERMISSION,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{AuthFailure, ConnectFailure, Error, TimeoutKind};
    use http::header::{AUTHORIZATION, CONTENT_TYPE};
    use http::{HeaderMap, HeaderValue, Method, StatusCode};
    use segura_model::{SessionHash, SessionId};
    use std::time::Duration;

    fn endpoints() -> Endpoints {
        Endpoints::parse("https://pam.example.com/prefix").unwrap_or_else(|e| panic!("{e}"))
    }

    fn oauth2(method: ClientAuthMethod) -> Credentials {
        Credentials::new(&Auth::OAuth2 {
            client_id: "my id".into(),
            client_secret: Secret::new("s&cret"),
            method,
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn text(v: Option<&HeaderValue>) -> &str {
        v.and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    #[test]
    fn token_request_with_credentials_in_the_body() {
        let r = oauth2(ClientAuthMethod::Body)
            .token_request(&endpoints())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.method(), Method::POST);
        assert_eq!(
            r.uri().to_string(),
            "https://pam.example.com/prefix/iso/oauth2/token"
        );
        assert_eq!(
            text(r.headers().get(CONTENT_TYPE)),
            "application/x-www-form-urlencoded"
        );
        assert_eq!(text(r.headers().get("accept")), "application/json");
        assert!(r.headers().get(AUTHORIZATION).is_none());
        assert_eq!(
            &r.body()[..],
            b"grant_type=client_credentials&client_id=my+id&client_secret=s%26cret"
        );
    }

    #[test]
    fn token_request_with_basic() {
        let r = oauth2(ClientAuthMethod::Basic)
            .token_request(&endpoints())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&r.body()[..], b"grant_type=client_credentials");
        let value = r.headers().get(AUTHORIZATION);
        // base64("my+id:s%26cret")
        assert_eq!(text(value), "Basic bXkraWQ6cyUyNmNyZXQ=");
        assert!(value.is_some_and(HeaderValue::is_sensitive));
    }

    #[test]
    fn api_requests_carry_the_credential() {
        let e = endpoints();
        let mut list = list_request(&e).unwrap_or_else(|e| panic!("{e}"));
        let token = bearer_header("tok").unwrap_or_else(|e| panic!("{e}"));
        oauth2(ClientAuthMethod::Body)
            .authorize(&mut list, Some(&token), "n", 1)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(list.method(), Method::GET);
        assert_eq!(
            list.uri().to_string(),
            "https://pam.example.com/prefix/api/session/remotesessions"
        );
        assert_eq!(text(list.headers().get(AUTHORIZATION)), "Bearer tok");

        let mut get = get_request(&e, SessionId::from(42)).unwrap_or_else(|e| panic!("{e}"));
        let bearer = Credentials::new(&Auth::Bearer(Secret::new(" ready ")))
            .unwrap_or_else(|e| panic!("{e}"));
        bearer
            .authorize(&mut get, None, "n", 1)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(get.uri().path().ends_with("/api/session/remotesessions/42"));
        assert_eq!(text(get.headers().get(AUTHORIZATION)), "Bearer ready");
        // An OAuth 2.0 call needs its token.
        assert!(matches!(
            oauth2(ClientAuthMethod::Body).authorize(&mut get, None, "n", 1),
            Err(Error::Config { .. })
        ));
    }

    #[test]
    fn oauth1_signature_is_a_function_of_nonce_and_time() {
        let hash = SessionHash::parse("0123456789abcdef0123456789abcdef01234567")
            .unwrap_or_else(|e| panic!("{e}"));
        let creds = Credentials::new(&Auth::OAuth1 {
            consumer_key: "ck".into(),
            consumer_secret: Secret::new("cs"),
            token: "tok".into(),
            token_secret: Secret::new("ts"),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let signed = |nonce: &str| {
            let mut r = drop_request(&endpoints(), &hash).unwrap_or_else(|e| panic!("{e}"));
            creds
                .authorize(&mut r, None, nonce, 1_700_000_000)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(r.method(), Method::DELETE);
            text(r.headers().get(AUTHORIZATION)).to_owned()
        };
        let a = signed("abc");
        assert_eq!(a, signed("abc"));
        assert_ne!(a, signed("abd"));
        let url = url::Url::parse(
            "https://pam.example.com/prefix/api/pam/session/drop/0123456789abcdef0123456789abcdef01234567",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let want = oauth1::Signer {
            consumer_key: "ck",
            consumer_secret: "cs",
            token: "tok",
            token_secret: "ts",
        }
        .header_with("DELETE", &url, "abc", 1_700_000_000);
        assert_eq!(a, want);
        assert!(creds.is_oauth1() && !creds.uses_token_endpoint());
    }

    #[test]
    fn empty_credentials_are_configuration_errors() {
        for auth in [
            Auth::OAuth2 {
                client_id: " ".into(),
                client_secret: Secret::new("s"),
                method: ClientAuthMethod::Body,
            },
            Auth::Bearer(Secret::new("  ")),
            Auth::Bearer(Secret::new("a\nb")),
        ] {
            assert!(matches!(Credentials::new(&auth), Err(Error::Config { .. })));
        }
    }

    #[test]
    fn answers_are_read_in_context() {
        let none = HeaderMap::new();
        let body = br#"{"error":"invalid_token"}"#;
        let at_api = response_error(Target::List, false, StatusCode::UNAUTHORIZED, &none, body);
        assert!(matches!(
            at_api,
            Error::Auth {
                kind: AuthFailure::TokenRefused,
                ..
            }
        ));
        let at_token = response_error(Target::Token, false, StatusCode::UNAUTHORIZED, &none, body);
        assert!(matches!(
            at_token,
            Error::Auth {
                kind: AuthFailure::InvalidClient,
                ..
            }
        ));
        let signed = response_error(Target::Get, true, StatusCode::UNAUTHORIZED, &none, body);
        assert!(matches!(
            signed,
            Error::Auth {
                kind: AuthFailure::InvalidClient,
                ..
            }
        ));

        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static(" 7 "));
        let busy = response_error(
            Target::List,
            false,
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            b"",
        );
        assert!(matches!(
            busy,
            Error::Server {
                status: 429,
                retry_after: Some(7),
                ..
            }
        ));

        headers.insert("location", HeaderValue::from_static("https://elsewhere/"));
        let moved = redirect_error("/api/x", StatusCode::FOUND, &headers);
        assert!(moved.to_string().contains("https://elsewhere/"), "{moved}");

        headers.insert("content-encoding", HeaderValue::from_static("br"));
        assert!(unexpected_encoding(&Method::GET, "/x", &headers).is_some());
        headers.insert("content-encoding", HeaderValue::from_static("identity"));
        assert!(unexpected_encoding(&Method::GET, "/x", &headers).is_none());
    }

    #[test]
    fn a_route_404_is_not_an_application_not_found() {
        let none = HeaderMap::new();
        let answer = |status: u16, body: &[u8]| {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            response_error(Target::List, false, status, &none, body)
        };
        let gateway = answer(404, br#"{"message":"no Route matched with those values"}"#);
        assert!(is_route_missing(&gateway), "{gateway:?}");
        let envelope = answer(
            404,
            br#"{"code":404,"response":{"status":404,"message":"Resource sub not found","error":true}}"#,
        );
        assert!(is_route_missing(&envelope), "{envelope:?}");
        let html = answer(404, b"<html><title>404 Not Found</title></html>");
        assert!(is_route_missing(&html), "{html:?}");
        let session = answer(
            400,
            br#"{"code":400,"response":{"status":400,"message":"1002: Session not found","error":true},"exception":{"code":1002,"message":"1002: Session not found"}}"#,
        );
        assert!(!is_route_missing(&session), "{session:?}");
        assert!(!is_route_missing(&answer(503, b"")));
        assert!(!is_route_missing(&answer(
            401,
            br#"{"error":"invalid_token"}"#
        )));
    }

    #[test]
    fn rate_limits_request_ids_and_unasked_304s() {
        let mut h = HeaderMap::new();
        assert_eq!(rate_limit_wait(&h, 1000), None);
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1007"));
        assert_eq!(rate_limit_wait(&h, 1000), Some(7));
        // A reset in the past still waits a little; Retry-After wins.
        assert_eq!(rate_limit_wait(&h, 5000), Some(1));
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(rate_limit_wait(&h, 1000), Some(3));
        h.insert("retry-after", HeaderValue::from_static("1e9"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("soon"));
        assert_eq!(rate_limit_wait(&h, 1000), None);

        let mut h = HeaderMap::new();
        assert_eq!(request_id(&h), None);
        h.insert(
            "x-request-id",
            HeaderValue::from_bytes("a\u{9b}b\u{202e}c".as_bytes())
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let id = request_id(&h).unwrap_or_default();
        assert!(!id.chars().any(crate::text::needs_escape), "{id:?}");
        assert!(id.starts_with('a') && id.ends_with('c'), "{id:?}");
        h.insert(
            "x-request-id",
            HeaderValue::from_str(&"x".repeat(500)).unwrap_or_else(|e| panic!("{e}")),
        );
        assert_eq!(request_id(&h).map(|s| s.chars().count()), Some(129));
        let e = with_request_id(crate::classify_response(503, b"", None), Some("r-1"));
        assert!(e.to_string().ends_with("(X-Request-Id: r-1)"), "{e}");
        assert!(matches!(e, Error::Server { status: 503, .. }));
        let e = unasked_not_modified("/api/x");
        assert!(e.to_string().contains("304 Not Modified"), "{e}");
    }

    #[test]
    fn the_path_family_token_url_and_older_drop_requests() {
        let e = endpoints();
        let id = SessionId::from(5);
        let pam = get_request_at(&e, ApiPrefix::Pam, id).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            pam.uri().to_string(),
            "https://pam.example.com/prefix/api/pam/session/remotesessions/5"
        );
        let list = list_request_at(&e, ApiPrefix::Pam).unwrap_or_else(|e| panic!("{e}"));
        assert!(list
            .uri()
            .path()
            .ends_with("/api/pam/session/remotesessions"));
        let hash = SessionHash::parse("0123456789abcdef0123456789abcdef01234567")
            .unwrap_or_else(|e| panic!("{e}"));
        let old = legacy_drop_request(&e, &hash).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(old.method(), Method::DELETE);
        assert!(old
            .uri()
            .path()
            .starts_with("/prefix/iso/session/drop/0123"));
        // The token request to another URL, with Basic instead of the configured body.
        let urls = e
            .token_urls(&TokenUrl::Auto)
            .unwrap_or_else(|e| panic!("{e}"));
        let r = oauth2(ClientAuthMethod::Body)
            .token_request_to(&urls[1], Some(ClientAuthMethod::Basic))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.uri().path(), "/prefix/api/oauth2/token");
        assert_eq!(&r.body()[..], b"grant_type=client_credentials");
        assert!(r
            .headers()
            .get(AUTHORIZATION)
            .is_some_and(HeaderValue::is_sensitive));
    }

    #[test]
    fn only_connection_failures_prove_a_request_unsent() {
        let connect = |kind| Error::Connect {
            kind,
            message: String::new(),
            cause: None,
        };
        assert!(provably_unsent(&connect(ConnectFailure::Refused)));
        assert!(provably_unsent(&connect(ConnectFailure::Dns)));
        assert!(!provably_unsent(&connect(ConnectFailure::Tls)));
        assert!(provably_unsent(&Error::Timeout {
            kind: TimeoutKind::Connect,
            message: String::new(),
            cause: None,
        }));
        assert!(!provably_unsent(&Error::Timeout {
            kind: TimeoutKind::Gateway,
            message: String::new(),
            cause: None,
        }));
        let busy = crate::classify_response(503, b"", None);
        assert!(!provably_unsent(&busy));
        assert!(may_retry(Target::List, &busy) && !may_retry(Target::Drop, &busy));
    }

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        let ms = Duration::from_millis;
        for retry in 0..30 {
            for fraction in [0.0, 0.3, 1.0, 7.0] {
                let d = backoff(ms(100), ms(1000), retry, fraction);
                let full = ms(100 * (1u64 << retry.min(10))).min(ms(1000));
                assert!(d >= full / 2 && d <= full, "{retry}: {d:?}");
            }
        }
    }
}
