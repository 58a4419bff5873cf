//! Finding sessions by their 40-hex hash, and what a drop of each would meet.
//!
//! The API has no "get by hash": the only way to learn what a `session_id` stands for is
//! to read the list. [`find_by_hash`] and [`find_all`] read a [`SessionStream`] one
//! session at a time and stop reading as soon as every hash asked for has appeared, so
//! a session near the start of a long list is found without the rest of the body; the
//! stream is then dropped, which closes the connection. The time this takes is bounded
//! by the stream's own timeouts (the transport's idle timeout and deadline).
//!
//! [`DropCheck`] says what a drop of a looked-up session would meet: an open session,
//! one that has already ended (dropping it again would do nothing), or a hash the list
//! does not hold. What to do about each (refuse, or go on when forced) is the caller's
//! choice.

use segura_model::{RemoteSession, SessionHash};

use crate::api::SessionApi;
use crate::error::Error;
use crate::stream::SessionStream;

/// Whether the hash `listed` (as the server sent it, kept verbatim) is `wanted` (as the
/// user typed it, lower-case): hexadecimal digits compare without case.
pub fn same_hash(listed: &SessionHash, wanted: &SessionHash) -> bool {
    listed.as_str().trim().eq_ignore_ascii_case(wanted.as_str())
}

/// Reads `stream` until a session with `hash` appears and returns it; `None` when the
/// whole (valid) list was read without it. Nothing after the match is read.
pub async fn find_by_hash(
    stream: SessionStream,
    hash: &SessionHash,
) -> Result<Option<RemoteSession>, Error> {
    let mut found = find_all(stream, std::slice::from_ref(hash)).await?;
    Ok(found.pop().flatten())
}

/// Reads `stream` until every hash of `hashes` has appeared, and returns for each (in
/// the same order) its session, or `None` when the whole (valid) list was read without
/// it. A hash listed twice gets the first session listed with it. Nothing after the
/// last match is read; an error of the stream before that is returned as it is.
pub async fn find_all(
    mut stream: SessionStream,
    hashes: &[SessionHash],
) -> Result<Vec<Option<RemoteSession>>, Error> {
    let mut found: Vec<Option<RemoteSession>> = vec![None; hashes.len()];
    let mut missing = hashes.len();
    while missing > 0 {
        let Some(next) = stream.next_ref().await else {
            break;
        };
        let session = next?;
        for (slot, wanted) in found.iter_mut().zip(hashes) {
            if slot.is_none() && same_hash(&session.session_id, wanted) {
                *slot = Some(session.clone());
                missing -= 1;
            }
        }
    }
    Ok(found)
}

/// What a drop of a session would meet, as far as the list tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropCheck {
    /// The session is listed and still open.
    Open(RemoteSession),
    /// The session is listed and has already ended: a drop would do nothing.
    Ended(RemoteSession),
    /// No session of the list has this hash.
    NotListed,
}

impl DropCheck {
    /// The check of a lookup's result.
    pub fn of(found: Option<RemoteSession>) -> Self {
        match found {
            Some(s) if s.is_open() => DropCheck::Open(s),
            Some(s) => DropCheck::Ended(s),
            None => DropCheck::NotListed,
        }
    }

    /// The session, when it is listed.
    pub fn session(&self) -> Option<&RemoteSession> {
        match self {
            DropCheck::Open(s) | DropCheck::Ended(s) => Some(s),
            DropCheck::NotListed => None,
        }
    }

    /// Whether a drop should go ahead without being forced: the session is open.
    pub fn is_open(&self) -> bool {
        matches!(self, DropCheck::Open(_))
    }
}

/// Lists the sessions of `api` and checks each of `hashes` ([`find_all`], then
/// [`DropCheck::of`]), in the order given.
pub async fn check_drops(
    api: &dyn SessionApi,
    hashes: &[SessionHash],
) -> Result<Vec<DropCheck>, Error> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    let stream = api.list_sessions().await?;
    Ok(find_all(stream, hashes)
        .await?
        .into_iter()
        .map(DropCheck::of)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use segura_model::{parse_datetime, SessionId};

    fn session(id: u64, hash: &str, end: Option<&str>) -> String {
        let end = end.map_or("null".to_owned(), |e| format!("\"{e}\""));
        format!(
            r#"{{"id":"{id}","user":"u{id}","session_id":"{hash}","start":"2024-05-06 10:00:00","end":{end}}}"#
        )
    }

    fn hash(n: u64) -> String {
        format!("{n:040x}")
    }

    fn body(sessions: &[String], tail: &str) -> String {
        format!(
            r#"{{"code":200,"remote_sessions":[{}{tail}"#,
            sessions.join(",")
        )
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn stops_reading_at_the_match() {
        // The body is broken after the second session: reaching it would be an error.
        let text = body(
            &[session(1, &hash(1), None), session(2, &hash(2), None)],
            ",{\"id\":",
        );
        let wanted = SessionHash::parse(&hash(2)).unwrap();
        let found = run(find_by_hash(
            SessionStream::from_bytes(text.clone()),
            &wanted,
        ))
        .unwrap();
        assert_eq!(found.unwrap().id, SessionId::new(2));
        // A hash that is not there makes the reader go on, and meet the error.
        let absent = SessionHash::parse(&hash(9)).unwrap();
        assert!(run(find_by_hash(SessionStream::from_bytes(text), &absent)).is_err());
    }

    #[test]
    fn finds_several_in_the_order_asked_and_tells_ended_and_absent() {
        let upper = hash(0xabc).to_ascii_uppercase();
        let text = body(
            &[
                session(1, &hash(1), Some("2024-05-06 11:00:00")),
                session(2, &upper, None),
            ],
            "]}",
        );
        let asked: Vec<SessionHash> = [hash(0xabc), hash(7), hash(1)]
            .iter()
            .map(|h| SessionHash::parse(h).unwrap())
            .collect();
        let found = run(find_all(SessionStream::from_bytes(text), &asked)).unwrap();
        let checks: Vec<DropCheck> = found.into_iter().map(DropCheck::of).collect();
        assert!(matches!(&checks[0], DropCheck::Open(s) if s.id == SessionId::new(2)));
        assert_eq!(checks[1], DropCheck::NotListed);
        assert!(matches!(&checks[2], DropCheck::Ended(s)
            if s.end == Some(parse_datetime("2024-05-06 11:00:00").unwrap())));
        assert!(checks[0].is_open() && !checks[2].is_open());
        assert!(checks[1].session().is_none());
    }

    #[test]
    fn check_drops_asks_nothing_for_no_hash() {
        let api = crate::MockSessionApi::new();
        assert!(run(check_drops(&api, &[])).unwrap().is_empty());
    }
}
