//! The requests of the calls, as plain `http::Request` values.

use bytes::Bytes;
use http::header::{HeaderValue, ACCEPT};
use http::{Method, Request};
use segura_model::{SessionHash, SessionId};
use url::Url;

use super::{ApiPrefix, Endpoints};
use crate::error::{config_error, Error};

/// Which endpoint a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// `POST /iso/oauth2/token`.
    Token,
    /// `GET /api/session/remotesessions`.
    List,
    /// `GET /api/session/remotesessions/{id}`.
    Get,
    /// `DELETE /api/pam/session/drop/{session_id}`.
    Drop,
    /// `POST /api/pam/remote/session`: a web proxy session.
    WebSession,
}

impl Target {
    /// Whether repeating the request is harmless: asking twice for a token only yields
    /// two tokens. A drop is not, nor a web proxy session (a second one would be
    /// created, a live credential nobody asked for).
    pub fn idempotent(self) -> bool {
        !matches!(self, Target::Drop | Target::WebSession)
    }
}

/// A request with `Accept: application/json`, no credentials yet.
pub(crate) fn build(method: Method, url: &Url, body: Bytes) -> Result<Request<Bytes>, Error> {
    Request::builder()
        .method(method)
        .uri(url.as_str())
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .body(body)
        .map_err(|e| config_error(format!("cannot build a request to {}: {e}", url.path())))
}

/// `GET {base}/api/session/remotesessions`, no credentials yet.
pub fn list_request(endpoints: &Endpoints) -> Result<Request<Bytes>, Error> {
    build(Method::GET, &endpoints.list()?, Bytes::new())
}

/// `GET {base}/api/session/remotesessions/{id}`, no credentials yet.
pub fn get_request(endpoints: &Endpoints, id: SessionId) -> Result<Request<Bytes>, Error> {
    build(Method::GET, &endpoints.get(&id.to_string())?, Bytes::new())
}

/// `GET {base}{prefix}remotesessions`, no credentials yet.
pub fn list_request_at(endpoints: &Endpoints, prefix: ApiPrefix) -> Result<Request<Bytes>, Error> {
    build(Method::GET, &endpoints.list_at(prefix)?, Bytes::new())
}

/// `GET {base}{prefix}remotesessions/{id}`, no credentials yet.
pub fn get_request_at(
    endpoints: &Endpoints,
    prefix: ApiPrefix,
    id: SessionId,
) -> Result<Request<Bytes>, Error> {
    build(
        Method::GET,
        &endpoints.get_at(prefix, &id.to_string())?,
        Bytes::new(),
    )
}

/// `DELETE {base}/iso/session/drop/{session_id}` (the older drop), no credentials yet.
pub fn legacy_drop_request(
    endpoints: &Endpoints,
    session: &SessionHash,
) -> Result<Request<Bytes>, Error> {
    build(
        Method::DELETE,
        &endpoints.legacy_drop_session(session.as_str())?,
        Bytes::new(),
    )
}

/// `DELETE {base}/api/pam/session/drop/{session_id}`, no credentials yet.
pub fn drop_request(endpoints: &Endpoints, session: &SessionHash) -> Result<Request<Bytes>, Error> {
    build(
        Method::DELETE,
        &endpoints.drop_session(session.as_str())?,
        Bytes::new(),
    )
}
