//! [`InMemoryApi`]: the API over sessions held in memory, for tests of the layers above
//! the trait and for embedding without a network.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use bytes::Bytes;
use segura_model::{
    ApiException, DropResponse, Envelope, RemoteSession, ResponseStatus, SessionHash, SessionId,
};

use crate::api::SessionApi;
use crate::error::Error;
use crate::stream::SessionStream;

/// Sessions in memory behind the [`SessionApi`] trait.
///
/// The list is served as a real list body (the envelope and the sessions in canonical
/// form) through the streaming decoder, split into chunks of a configurable size, so code
/// above the trait sees exactly what it would see from a server. Dropping a session
/// gives it an end, as the server does.
#[derive(Debug, Clone)]
pub struct InMemoryApi {
    sessions: Arc<Mutex<Vec<RemoteSession>>>,
    chunk_size: usize,
    list_body: Option<Bytes>,
}

impl InMemoryApi {
    /// Serves these sessions.
    pub fn new(sessions: Vec<RemoteSession>) -> Self {
        Self {
            sessions: Arc::new(Mutex::new(sessions)),
            chunk_size: 64 * 1024,
            list_body: None,
        }
    }

    /// Serves this exact list body (a saved response) for `list_sessions`, whatever it
    /// holds; `get` and `drop` still use the sessions given to [`InMemoryApi::new`].
    pub fn with_list_body(mut self, body: impl Into<Bytes>) -> Self {
        self.list_body = Some(body.into());
        self
    }

    /// Splits list bodies into chunks of this many bytes.
    pub fn with_chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// A copy of the sessions as they are now.
    pub fn sessions(&self) -> Vec<RemoteSession> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RemoteSession>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The list body for the current sessions, in canonical form.
    pub fn list_body(&self) -> Bytes {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            #[serde(flatten)]
            envelope: Envelope,
            remote_sessions: &'a [RemoteSession],
        }
        let sessions = self.lock();
        let body = Body {
            envelope: ok_envelope(""),
            remote_sessions: &sessions,
        };
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    }
}

fn ok_envelope(message: &str) -> Envelope {
    let mut status = ResponseStatus::default();
    status.status = Some(200);
    status.message = message.to_owned();
    status.error_code = Some(0);
    status.cod_erro = Some(0);
    let mut env = Envelope::default();
    env.code = Some(200);
    env.response = Some(status);
    env.tenant = Some("Segura".to_owned());
    env
}

fn not_found() -> Error {
    Error::NotFound {
        status: Some(400),
        code: Some(ApiException::SESSION_NOT_FOUND),
        message: "1002: Session not found".to_owned(),
    }
}

#[async_trait]
impl SessionApi for InMemoryApi {
    async fn list_sessions(&self) -> Result<SessionStream, Error> {
        let body = match &self.list_body {
            Some(b) => b.clone(),
            None => self.list_body(),
        };
        let chunks: Vec<Bytes> = (0..body.len())
            .step_by(self.chunk_size)
            .map(|i| body.slice(i..body.len().min(i + self.chunk_size)))
            .collect();
        Ok(SessionStream::from_chunks(chunks))
    }

    async fn get_session(&self, id: SessionId) -> Result<RemoteSession, Error> {
        self.lock()
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .ok_or_else(not_found)
    }

    async fn drop_session(&self, session: &SessionHash) -> Result<DropResponse, Error> {
        let mut sessions = self.lock();
        let s = sessions
            .iter_mut()
            .find(|s| s.session_id.as_str().eq_ignore_ascii_case(session.as_str()))
            .ok_or_else(not_found)?;
        if s.end.is_none() {
            let now = chrono::Local::now().naive_local().max(s.start);
            let secs = (now - s.start).num_seconds().max(0) as u64;
            s.end = Some(now);
            s.time = Some(segura_model::SessionDuration::from_secs(secs));
        }
        let mut env = ok_envelope("Session dropped successfully");
        if let Some(r) = env.response.as_mut() {
            r.mensagem = "Sessão encerrada com sucesso".to_owned();
        }
        let mut resp = DropResponse::default();
        resp.envelope = env;
        Ok(resp)
    }
}
