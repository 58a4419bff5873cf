//! The transport-agnostic API: what every transport implements.

use async_trait::async_trait;
use segura_model::{DropResponse, RemoteSession, SessionHash, SessionId};

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
}
