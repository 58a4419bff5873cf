//! The API's credentials as the gateway checks them: a bearer token the mock issued, or
//! an OAuth 1.0a signature verified with the mock's own verifier.

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};

use super::reply::json;
use crate::body::{Body, ConnInfo};
use crate::oauth1::{self, Oauth1Request};
use crate::state::{bump, Shared, TokenCheck};

/// Why API credentials were refused.
pub(super) enum Denied {
    /// Unknown, expired or revoked bearer token, or an unknown scheme.
    Token,
    /// An OAuth 1.0a signature that did not verify, and why.
    Signature(String),
}

/// Checks the API credentials; returns the bearer token used, if any.
pub(super) fn authenticate(
    shared: &Shared,
    conn: &ConnInfo,
    req: &Request<Incoming>,
    authorization: &HeaderValue,
) -> Result<Option<String>, Denied> {
    let Ok(value) = authorization.to_str() else {
        return Err(Denied::Token);
    };
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("Bearer") {
        let token = rest.trim();
        return match shared.use_token(token) {
            TokenCheck::Valid => Ok(Some(token.to_owned())),
            TokenCheck::Invalid => Err(Denied::Token),
        };
    }
    if scheme.eq_ignore_ascii_case("OAuth") {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let scheme = if conn.tls { "https" } else { "http" };
        let url = format!("{scheme}://{host}{path}");
        let request = Oauth1Request {
            method: req.method().as_str(),
            url: &url,
            authorization: value,
            form_body: None,
        };
        return match oauth1::verify(&request, &shared.oauth1) {
            Ok(verified) if shared.fresh_nonce(verified.timestamp, &verified.nonce) => {
                bump(&shared.counters.oauth1_verified);
                Ok(None)
            }
            Ok(_) => {
                bump(&shared.counters.oauth1_rejected);
                Err(Denied::Signature("oauth_nonce already used".to_owned()))
            }
            Err(e) => {
                bump(&shared.counters.oauth1_rejected);
                Err(Denied::Signature(e.to_string()))
            }
        };
    }
    Err(Denied::Token)
}

pub(super) fn oauth1_rejected(shared: &Shared, reason: &str) -> Response<Body> {
    bump(&shared.counters.unauthorized);
    let body = serde_json::json!({
        "error": "invalid_request",
        "error_description": reason,
        "message": "Client authentication failed",
    });
    let mut response = json(StatusCode::UNAUTHORIZED, body.to_string());
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("OAuth realm=\"segura\""),
    );
    response
}
