//! One poll of the list, reduced to what the metrics need, and what changed between
//! two polls.
//!
//! [`poll`] streams the list once and keeps only the open sessions that match the
//! filters (id, protocol, proxy, user, start): memory is bounded by the open sessions,
//! not by the list. It returns a [`Snapshot`]; [`Tracker::advance`] compares it with the
//! previous one. A poll that learns "nothing changed" (a conditional request answered
//! 304, [`Feed::unchanged`]) returns `None`: the caller keeps the previous snapshot
//! and skips [`Tracker::advance`].

use std::collections::HashMap;

use chrono::NaiveDateTime;
use segura_api::SessionFilter;
use segura_model::{Protocol, Proxy, RemoteSession};

use crate::exit::CliError;
use crate::feed::{Feed, Flow};
use crate::progress::Progress;

/// The label of values outside the known set of protocols or proxies: any number of
/// unknown values makes one series, and the server's text never becomes a label.
pub const OTHER: &str = "other";

/// The label of a protocol: its canonical name when known, else [`OTHER`].
pub fn protocol_label(p: &Protocol) -> &'static str {
    Protocol::KNOWN
        .iter()
        .find(|k| *k == p)
        .map_or(OTHER, Protocol::as_str)
}

/// The label of a proxy: its canonical name when known, else [`OTHER`].
pub fn proxy_label(p: &Proxy) -> &'static str {
    Proxy::KNOWN
        .iter()
        .find(|k| *k == p)
        .map_or(OTHER, Proxy::as_str)
}

/// What is kept of an open session between polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSession {
    /// [`protocol_label`].
    pub protocol: &'static str,
    /// [`proxy_label`].
    pub proxy: &'static str,
    /// The PAM user as a label ([`super::metrics::user_label`]: escaped, at most 128
    /// characters), only with `--per-user`; empty otherwise.
    pub user: Box<str>,
    /// The start, on the appliance's clock.
    pub start: NaiveDateTime,
}

/// One complete poll.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The open sessions that match the filters, by numeric id.
    pub open: HashMap<u64, OpenSession>,
    /// Every session in the list, matching or not.
    pub listed: u64,
    /// The highest numeric id in the list.
    pub max_id: Option<u64>,
    /// The matching sessions already ended whose id is above the `after_id` of the
    /// poll (they started and ended between two polls), counted per protocol label.
    pub ended_unseen: HashMap<&'static str, u64>,
}

/// Streams the list of `feed` once. Sessions with an id above `after_id` (the previous
/// poll's highest) that have already ended go to [`Snapshot::ended_unseen`]; `users`
/// keeps the user of each open session. `None` when the feed found the list unchanged
/// since its previous reading (a `304 Not Modified`): nothing was streamed.
pub fn poll(
    feed: &mut dyn Feed,
    filter: &SessionFilter,
    after_id: Option<u64>,
    users: bool,
) -> Result<Option<Snapshot>, CliError> {
    let mut snap = Snapshot::default();
    feed.feed(
        &mut |s: Option<&RemoteSession>| {
            if let Some(s) = s {
                take(&mut snap, s, filter, after_id, users);
            }
            Ok(Flow::Continue)
        },
        &Progress::disabled(),
    )?;
    Ok((!feed.unchanged()).then_some(snap))
}

fn take(
    snap: &mut Snapshot,
    s: &RemoteSession,
    filter: &SessionFilter,
    after_id: Option<u64>,
    users: bool,
) {
    snap.listed += 1;
    let id = s.id.get();
    snap.max_id = Some(snap.max_id.map_or(id, |m| m.max(id)));
    if !filter.matches(s) {
        return;
    }
    let protocol = protocol_label(&s.protocol);
    if s.end.is_some() {
        if after_id.is_some_and(|a| id > a) {
            *snap.ended_unseen.entry(protocol).or_default() += 1;
        }
        return;
    }
    snap.open.insert(
        id,
        OpenSession {
            protocol,
            proxy: proxy_label(&s.proxy),
            user: if users {
                super::metrics::user_label(&s.user).into()
            } else {
                "".into()
            },
            start: s.start,
        },
    );
}

/// Sessions started and ended since the previous poll, per protocol label.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Open now and not at the previous poll, or new and already ended.
    pub started: HashMap<&'static str, u64>,
    /// Open at the previous poll and ended or gone now, or new and already ended.
    pub ended: HashMap<&'static str, u64>,
}

/// The last complete poll, against which the next one is compared.
#[derive(Debug, Default)]
pub struct Tracker {
    last: Option<Snapshot>,
}

impl Tracker {
    /// The highest id of the last complete poll: the `after_id` of the next.
    pub fn after_id(&self) -> Option<u64> {
        self.last.as_ref().and_then(|s| s.max_id)
    }

    /// The last complete poll.
    pub fn last(&self) -> Option<&Snapshot> {
        self.last.as_ref()
    }

    /// Takes `snap` as the last complete poll; the changes since the previous one
    /// (`None` for the first poll: nothing to compare with).
    pub fn advance(&mut self, snap: Snapshot) -> Option<Changes> {
        let changes = self.last.as_ref().map(|prev| {
            let mut c = Changes::default();
            for (id, s) in &snap.open {
                if !prev.open.contains_key(id) {
                    *c.started.entry(s.protocol).or_default() += 1;
                }
            }
            for (id, s) in &prev.open {
                if !snap.open.contains_key(id) {
                    *c.ended.entry(s.protocol).or_default() += 1;
                }
            }
            for (p, n) in &snap.ended_unseen {
                *c.started.entry(p).or_default() += n;
                *c.ended.entry(p).or_default() += n;
            }
            c
        });
        self.last = Some(snap);
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::OnSession;
    use segura_model::{parse_datetime, SessionHash, SessionId};

    struct List(Vec<RemoteSession>);
    impl Feed for List {
        fn feed(&mut self, on: &mut OnSession<'_>, _: &Progress) -> Result<(), CliError> {
            for s in &self.0 {
                on(Some(s))?;
            }
            on(None).map(|_| ())
        }
    }

    fn session(id: u64, protocol: &str, ended: bool) -> RemoteSession {
        let mut s = RemoteSession::new(
            SessionId::new(id),
            SessionHash::from_wire(format!("{id:040x}")),
            parse_datetime("2024-05-06 16:05:07").unwrap(),
        );
        s.protocol = Protocol::from_wire(protocol);
        s.proxy = Proxy::from_wire("RDP Proxy");
        s.user = format!("user{id}");
        if ended {
            s.end = Some(s.start);
        }
        s
    }

    #[test]
    fn labels_outside_the_known_set_are_other() {
        assert_eq!(protocol_label(&Protocol::from_wire("RDP")), "rdp");
        assert_eq!(protocol_label(&Protocol::from_wire("gopher\"}")), OTHER);
        assert_eq!(proxy_label(&Proxy::from_wire("web proxy")), "Web Proxy");
        assert_eq!(proxy_label(&Proxy::from_wire("\u{1b}[2J")), OTHER);
    }

    #[test]
    fn a_poll_keeps_only_the_open_matching_sessions() {
        let mut filter = SessionFilter::new();
        filter.not_protocols = vec![segura_api::Pattern::new("ssh")];
        let mut feed = List(vec![
            session(1, "rdp", false),
            session(2, "rdp", true),
            session(3, "ssh", false),
            session(4, "x11", false),
        ]);
        let snap = poll(&mut feed, &filter, None, true)
            .unwrap()
            .unwrap_or_default();
        assert_eq!(snap.listed, 4);
        assert_eq!(snap.max_id, Some(4));
        let mut ids: Vec<u64> = snap.open.keys().copied().collect();
        ids.sort_unstable();
        assert_eq!(ids, [1, 4]);
        assert_eq!(snap.open[&4].protocol, OTHER);
        assert_eq!(&*snap.open[&1].user, "user1");
        assert!(snap.ended_unseen.is_empty());
        let anonymous = poll(&mut feed, &filter, None, false)
            .unwrap()
            .unwrap_or_default();
        assert_eq!(&*anonymous.open[&1].user, "");
    }

    #[test]
    fn changes_count_from_the_second_poll_on() {
        let all = SessionFilter::new();
        let mut t = Tracker::default();
        let first = List(vec![session(1, "rdp", false), session(2, "ssh", false)]);
        let snap = poll(&mut { first }, &all, t.after_id(), false)
            .unwrap()
            .unwrap_or_default();
        assert_eq!(t.advance(snap), None);
        assert_eq!(t.after_id(), Some(2));

        // 1 ended, 2 went away, 3 opened, 4 opened and ended between the polls.
        let mut second = List(vec![
            session(1, "rdp", true),
            session(3, "ssh", false),
            session(4, "rdp", true),
        ]);
        let snap = poll(&mut second, &all, t.after_id(), false)
            .unwrap()
            .unwrap_or_default();
        let c = t.advance(snap).unwrap();
        assert_eq!(c.started, HashMap::from([("ssh", 1), ("rdp", 1)]));
        assert_eq!(c.ended, HashMap::from([("rdp", 2), ("ssh", 1)]));

        // The same list again: nothing changed (4 is not new any more).
        let snap = poll(&mut second, &all, t.after_id(), false)
            .unwrap()
            .unwrap_or_default();
        assert_eq!(t.advance(snap), Some(Changes::default()));
    }
}
