//! The transport-agnostic API: what every transport implements.

use async_trait::async_trait;
use segura_model::{
    DropResponse, RemoteSession, SessionHash, SessionId, WebSession, WebSessionRequest,
};

use crate::error::Error;
use crate::stream::SessionStream;

/// The three session operations of PAM Core, independent of how they travel.
///
/// `segura-http` implements it over HTTPS; [`crate::InMemoryApi`] in memory; with the
/// `mock` feature, `MockSessionApi` is a `mockall` mock of it.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SessionApi: Send + Sync {
    /// Lists every session, as a stream decoded while the body arrives
    /// (`GET /api/session/remotesessions`).
    async fn list_sessions(&self) -> Result<SessionStream, Error>;

    /// Gets one session by its numeric id (`GET /api/session/remotesessions/{id}`).
    async fn get_session(&self, id: SessionId) -> Result<RemoteSession, Error>;

    /// Terminates a session by its 40-hex hash
    /// (`DELETE /api/pam/session/drop/{session_id}`).
    async fn drop_session(&self, session: &SessionHash) -> Result<DropResponse, Error>;

    /// Lists the sessions unless they are unchanged since the answer that carried
    /// `etag`: sends `If-None-Match: etag` (A2A v2) and returns
    /// [`Listing::NotModified`] on `304 Not Modified`, else the stream and the answer's
    /// own `ETag`. Without `etag` it is [`SessionApi::list_sessions`]. The default
    /// implementation never sends a condition.
    async fn list_if_changed(&self, etag: Option<String>) -> Result<Listing, Error> {
        let _ = etag;
        Ok(Listing::Changed {
            etag: None,
            sessions: Box::new(self.list_sessions().await?),
        })
    }
}

/// The answer of [`SessionApi::list_if_changed`].
#[derive(Debug)]
pub enum Listing {
    /// `304 Not Modified`: the list is the one of the `ETag` sent.
    NotModified,
    /// The list, and its `ETag` when the server sent one.
    Changed {
        /// The answer's `ETag`, to send back next time.
        etag: Option<String>,
        /// The sessions (boxed: a stream is large, and a 304 holds nothing).
        sessions: Box<SessionStream>,
    },
}

#[async_trait]
impl<T: SessionApi + ?Sized> SessionApi for std::sync::Arc<T> {
    async fn list_sessions(&self) -> Result<SessionStream, Error> {
        (**self).list_sessions().await
    }
    async fn get_session(&self, id: SessionId) -> Result<RemoteSession, Error> {
        (**self).get_session(id).await
    }
    async fn drop_session(&self, session: &SessionHash) -> Result<DropResponse, Error> {
        (**self).drop_session(session).await
    }
    async fn list_if_changed(&self, etag: Option<String>) -> Result<Listing, Error> {
        (**self).list_if_changed(etag).await
    }
}

/// Web proxy sessions (`POST /api/pam/remote/session`): a sibling of [`SessionApi`], so
/// that implementations of the session calls alone (in memory, mocks) need not know it.
#[async_trait]
pub trait WebSessionApi: Send + Sync {
    /// Creates a web proxy session and returns the URL that starts it in a browser, and
    /// its token. Both are credentials: keep them out of logs and files.
    async fn open_web_session(&self, request: &WebSessionRequest) -> Result<WebSession, Error>;
}

#[async_trait]
impl<T: WebSessionApi + ?Sized> WebSessionApi for std::sync::Arc<T> {
    async fn open_web_session(&self, request: &WebSessionRequest) -> Result<WebSession, Error> {
        (**self).open_web_session(request).await
    }
}
