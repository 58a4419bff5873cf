//! Sorting a list of sessions by one field, while it streams.
//!
//! The list endpoint has no server-side order, so a sorted view holds sessions on the
//! client. [`Sorter`] takes them one at a time (from a [`SessionStream`](crate::SessionStream),
//! a [`ReaderSource`](crate::ReaderSource) or any iterator) and hands them back in order;
//! with a limit it keeps memory in O(limit), whatever the length of the list (a bounded
//! top-N). [`sort_sessions`] does the same over an iterator in one call.
//!
//! The order is the same for every use: by the field (reversed when descending), with
//! sessions that have no value for it last in both directions, then in the order they
//! arrived (the sort is stable). Text compares case-insensitively first.
//!
//! Without a limit, [`ExternalSorter`] sorts any number of sessions in a memory budget,
//! writing sorted runs to temporary files and merging them, in the same order.

use std::cmp::Ordering;

mod external;
mod run;

pub use external::{ExternalSorter, SortError, SortedSessions};

use segura_model::{Field, RemoteSession};

/// A sort order: a field, ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// The field compared.
    pub field: Field,
    /// Largest first.
    pub descending: bool,
}

impl SortKey {
    /// Smallest first.
    pub const fn ascending(field: Field) -> Self {
        Self {
            field,
            descending: false,
        }
    }

    /// Largest first.
    pub const fn descending(field: Field) -> Self {
        Self {
            field,
            descending: true,
        }
    }

    /// The order of two sessions by this key: by the field's value, sessions without
    /// one last (in both directions); equal values compare equal.
    ///
    /// ```
    /// use std::cmp::Ordering;
    /// use segura_api::sort::SortKey;
    /// use segura_api::model::{parse_datetime, Field, RemoteSession, SessionHash, SessionId};
    ///
    /// let session = |id, user: &str| {
    ///     let mut s = RemoteSession::new(
    ///         SessionId::new(id),
    ///         SessionHash::from_wire(format!("{id:040x}")),
    ///         parse_datetime("2024-05-06 16:05:07").unwrap(),
    ///     );
    ///     s.user = user.to_owned();
    ///     s
    /// };
    /// let by_user = SortKey::ascending(Field::User);
    /// assert_eq!(by_user.compare(&session(1, "alice"), &session(2, "Bob")), Ordering::Less);
    /// ```
    pub fn compare(&self, a: &RemoteSession, b: &RemoteSession) -> Ordering {
        match (present(a, self.field), present(b, self.field)) {
            (true, true) => {
                let o = cmp_values(a, b, self.field);
                if self.descending {
                    o.reverse()
                } else {
                    o
                }
            }
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => Ordering::Equal,
        }
    }
}

/// Whether a field has a value (absent values sort last in both directions).
fn present(s: &RemoteSession, f: Field) -> bool {
    !s.field(f).is_null()
}

fn cmp_text(a: &str, b: &str) -> Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
        .then_with(|| a.cmp(b))
}

fn cmp_values(a: &RemoteSession, b: &RemoteSession, f: Field) -> Ordering {
    match f {
        Field::Id => a.id.get().cmp(&b.id.get()),
        Field::Start => a.start.cmp(&b.start),
        Field::End => a.end.cmp(&b.end),
        Field::Time => a.time.cmp(&b.time),
        Field::PreventPurge => a.prevent_purge.cmp(&b.prevent_purge),
        Field::User => cmp_text(&a.user, &b.user),
        Field::OriginIp => cmp_text(&a.origin_ip, &b.origin_ip),
        Field::Credential => cmp_text(&a.credential, &b.credential),
        Field::Device => cmp_text(&a.device, &b.device),
        Field::Protocol => cmp_text(a.protocol.as_str(), b.protocol.as_str()),
        Field::Proxy => cmp_text(a.proxy.as_str(), b.proxy.as_str()),
        Field::SessionId => cmp_text(a.session_id.as_str(), b.session_id.as_str()),
        Field::Request => cmp_text(
            a.request.as_deref().unwrap_or(""),
            b.request.as_deref().unwrap_or(""),
        ),
        Field::Itsm => cmp_text(
            a.itsm.as_deref().unwrap_or(""),
            b.itsm.as_deref().unwrap_or(""),
        ),
    }
}

/// Collects sessions and hands them back sorted by a [`SortKey`], stable in the order
/// they were pushed.
///
/// Without a limit it holds every session pushed (a full sort). With a limit of N only
/// the first N can be returned, so it holds at most about `max(2 N, 4096)` sessions:
/// when the buffer fills, it is sorted and cut back to N.
///
/// Over a [`SessionStream`](crate::SessionStream), the ten longest sessions:
///
/// ```
/// use segura_api::sort::{SortKey, Sorter};
/// use segura_api::model::Field;
/// use segura_api::{InMemoryApi, SessionApi};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let api = InMemoryApi::new(vec![]);
/// let mut stream = api.list_sessions().await?;
/// let mut longest = Sorter::new(SortKey::descending(Field::Time)).limit(10);
/// while let Some(session) = stream.next_ref().await {
///     longest.push(session?);
/// }
/// for s in longest.into_sorted() {
///     println!("{} {:?}", s.id, s.time);
/// }
/// # Ok::<(), segura_api::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Sorter {
    key: SortKey,
    limit: Option<usize>,
    /// Each session with its arrival number, which breaks ties.
    held: Vec<(u64, RemoteSession)>,
    seq: u64,
}

impl Sorter {
    /// Below this many held sessions a limited sorter does not cut back: sorting a
    /// small buffer often costs more than it saves.
    const MIN_BUFFER: usize = 4096;

    /// An empty sorter without a limit.
    pub fn new(key: SortKey) -> Self {
        Self {
            key,
            limit: None,
            held: Vec::new(),
            seq: 0,
        }
    }

    /// Keeps only the first `n` sessions of the order.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// The key sessions are sorted by.
    pub fn key(&self) -> SortKey {
        self.key
    }

    /// How many sessions are held right now (bounded with a limit).
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Takes one session (a copy of it, if it may still be returned).
    pub fn push(&mut self, session: &RemoteSession) {
        if self.limit == Some(0) {
            return;
        }
        self.held.push((self.seq, session.clone()));
        self.seq += 1;
        if let Some(limit) = self.limit {
            if self.held.len() >= limit.saturating_mul(2).max(Self::MIN_BUFFER) {
                self.sort_held();
                self.held.truncate(limit);
            }
        }
    }

    /// The sessions pushed, in order: the first `limit` of them with a limit.
    pub fn into_sorted(mut self) -> Vec<RemoteSession> {
        self.sort_held();
        if let Some(limit) = self.limit {
            self.held.truncate(limit);
        }
        self.held.into_iter().map(|(_, s)| s).collect()
    }

    fn sort_held(&mut self) {
        let key = self.key;
        self.held
            .sort_unstable_by(|a, b| key.compare(&a.1, &b.1).then(a.0.cmp(&b.0)));
    }
}

impl<'a> Extend<&'a RemoteSession> for Sorter {
    fn extend<I: IntoIterator<Item = &'a RemoteSession>>(&mut self, sessions: I) {
        for s in sessions {
            self.push(s);
        }
    }
}

/// The sessions of `sessions` sorted by `key`, only the first `limit` with a limit.
///
/// ```
/// use segura_api::sort::{sort_sessions, SortKey};
/// use segura_api::model::{parse_datetime, Field, RemoteSession, SessionHash, SessionId};
///
/// let sessions: Vec<RemoteSession> = (1..=5)
///     .map(|id| {
///         RemoteSession::new(
///             SessionId::new(id),
///             SessionHash::from_wire(format!("{id:040x}")),
///             parse_datetime("2024-05-06 16:05:07").unwrap(),
///         )
///     })
///     .collect();
/// let last_two = sort_sessions(&sessions, SortKey::descending(Field::Id), Some(2));
/// assert_eq!(last_two.iter().map(|s| s.id.get()).collect::<Vec<_>>(), [5, 4]);
/// ```
pub fn sort_sessions<'a>(
    sessions: impl IntoIterator<Item = &'a RemoteSession>,
    key: SortKey,
    limit: Option<usize>,
) -> Vec<RemoteSession> {
    let mut sorter = Sorter::new(key);
    sorter.limit = limit;
    sorter.extend(sessions);
    sorter.into_sorted()
}

#[cfg(test)]
mod tests {
    use super::*;
    use segura_model::{parse_datetime, SessionDuration, SessionHash, SessionId};

    fn session(id: u64, user: &str, secs: Option<u64>) -> RemoteSession {
        let mut s = RemoteSession::new(
            SessionId::new(id),
            SessionHash::from_wire(format!("{id:040x}")),
            parse_datetime("2024-05-06 16:05:07").unwrap(),
        );
        s.user = user.to_owned();
        s.time = secs.map(SessionDuration::from_secs);
        s
    }

    fn ids(v: &[RemoteSession]) -> Vec<u64> {
        v.iter().map(|s| s.id.get()).collect()
    }

    fn sample() -> Vec<RemoteSession> {
        vec![
            session(1, "bob", Some(30)),
            session(2, "Alice", Some(300)),
            session(3, "carol", None),
            session(4, "alice", Some(10)),
            session(5, "dave", Some(300)),
        ]
    }

    #[test]
    fn stable_with_absent_values_last_in_both_directions() {
        let s = sample();
        let time = |descending| SortKey {
            field: Field::Time,
            descending,
        };
        assert_eq!(ids(&sort_sessions(&s, time(true), None)), [2, 5, 1, 4, 3]);
        assert_eq!(ids(&sort_sessions(&s, time(false), None)), [4, 1, 2, 5, 3]);
    }

    #[test]
    fn text_is_case_insensitive_then_exact() {
        let s = sample();
        let by_user = SortKey::ascending(Field::User);
        assert_eq!(ids(&sort_sessions(&s, by_user, None)), [2, 4, 1, 3, 5]);
        assert_eq!(ids(&sort_sessions(&s, by_user, Some(3))), [2, 4, 1]);
        assert!(sort_sessions(&s, by_user, Some(0)).is_empty());
    }

    #[test]
    fn bounded_top_n_matches_full_sort_and_stays_small() {
        let many: Vec<RemoteSession> = (0..10_000u64)
            .map(|i| session(i, "u", Some((i * 7919) % 1000)))
            .collect();
        let key = SortKey::descending(Field::Time);
        let mut full = sort_sessions(&many, key, None);
        full.truncate(10);
        let mut top = Sorter::new(key).limit(10);
        for s in &many {
            top.push(s);
            assert!(top.held() < Sorter::MIN_BUFFER + 10);
        }
        assert_eq!(top.into_sorted(), full);
    }
}
