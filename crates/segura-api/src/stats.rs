//! Aggregation of a list of sessions: per group, the number of sessions and the total,
//! mean and longest recorded duration.
//!
//! Sessions are added one at a time while the list streams (from a
//! [`SessionStream`](crate::SessionStream), a [`ReaderSource`](crate::ReaderSource) or
//! any iterator), and only one entry per group is held, so memory grows with the number
//! of groups, never with the length of the list. Open sessions count as sessions but add
//! no duration; the mean is over the sessions that have a recorded duration.

use std::fmt::Write as _;

use crate::HashMap;
use segura_model::{format_datetime, Field, RemoteSession};

/// What sessions are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// The canonical text of a field (`rdp`, `Web Proxy`, a user name...).
    Field(Field),
    /// The start date, `YYYY-MM-DD`.
    Day,
}

/// The figures of one group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct GroupStats {
    /// The group: the field's canonical value, or the date.
    pub group: String,
    /// Sessions in the group, open ones included.
    pub count: u64,
    /// Sessions with a recorded duration.
    pub timed: u64,
    /// Sum of the recorded durations, in seconds (saturating).
    pub total_secs: u64,
    /// Longest recorded duration, in seconds.
    pub max_secs: Option<u64>,
}

impl GroupStats {
    /// An empty group named `group`.
    pub fn named(group: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            ..Self::default()
        }
    }

    /// Adds one session to the figures (whatever its group).
    pub fn add(&mut self, s: &RemoteSession) {
        self.count += 1;
        if let Some(d) = s.time {
            let secs = d.as_secs();
            self.timed += 1;
            self.total_secs = self.total_secs.saturating_add(secs);
            self.max_secs = Some(self.max_secs.map_or(secs, |m| m.max(secs)));
        }
    }

    /// Adds the figures of another group to these.
    pub fn merge(&mut self, other: &GroupStats) {
        self.count += other.count;
        self.timed += other.timed;
        self.total_secs = self.total_secs.saturating_add(other.total_secs);
        self.max_secs = match (self.max_secs, other.max_secs) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// Sessions without a recorded duration (open ones).
    pub fn open(&self) -> u64 {
        self.count - self.timed
    }

    /// Mean recorded duration over the sessions that have one.
    pub fn mean_secs(&self) -> Option<f64> {
        (self.timed > 0).then(|| self.total_secs as f64 / self.timed as f64)
    }
}

/// Adds sessions up per group.
///
/// Over a [`SessionStream`](crate::SessionStream), sessions per protocol:
///
/// ```
/// use segura_api::stats::{GroupBy, Stats};
/// use segura_api::model::Field;
/// use segura_api::{InMemoryApi, SessionApi};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let api = InMemoryApi::new(vec![]);
/// let mut stream = api.list_sessions().await?;
/// let mut stats = Stats::new(GroupBy::Field(Field::Protocol));
/// while let Some(session) = stream.next_ref().await {
///     stats.add(session?);
/// }
/// let total = stats.total();
/// for g in stats.into_groups() {
///     println!("{}: {} sessions, {}s recorded", g.group, g.count, g.total_secs);
/// }
/// println!("{} sessions, {} open", total.count, total.open());
/// # Ok::<(), segura_api::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Stats {
    by: GroupBy,
    groups: HashMap<String, GroupStats>,
    /// The key of the session being added, reused to look groups up without allocating.
    key: String,
}

impl Stats {
    /// An empty aggregation.
    pub fn new(by: GroupBy) -> Self {
        Self {
            by,
            groups: HashMap::default(),
            key: String::new(),
        }
    }

    /// What sessions are grouped by.
    pub fn by(&self) -> GroupBy {
        self.by
    }

    /// Adds one session.
    pub fn add(&mut self, s: &RemoteSession) {
        self.key.clear();
        match self.by {
            GroupBy::Field(f) => {
                let _ = write!(self.key, "{}", s.field(f));
            }
            GroupBy::Day => {
                let mut buf = [0u8; 19];
                self.key
                    .push_str(&format_datetime(&s.start, &mut buf)[..10]);
            }
        }
        // Look up by &str first: a new String only for a new group.
        if let Some(g) = self.groups.get_mut(self.key.as_str()) {
            g.add(s);
            return;
        }
        let mut g = GroupStats::named(self.key.clone());
        g.add(s);
        self.groups.insert(self.key.clone(), g);
    }

    /// The figures over every group, named `total`.
    pub fn total(&self) -> GroupStats {
        let mut t = GroupStats::named("total");
        for g in self.groups.values() {
            t.merge(g);
        }
        t
    }

    /// The groups: by date for days, else most sessions first (then by name).
    pub fn into_groups(self) -> Vec<GroupStats> {
        let mut v: Vec<GroupStats> = self.groups.into_values().collect();
        match self.by {
            GroupBy::Day => v.sort_by(|a, b| a.group.cmp(&b.group)),
            GroupBy::Field(_) => {
                v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.group.cmp(&b.group)));
            }
        }
        v
    }
}

impl<'a> Extend<&'a RemoteSession> for Stats {
    fn extend<I: IntoIterator<Item = &'a RemoteSession>>(&mut self, sessions: I) {
        for s in sessions {
            self.add(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segura_model::{parse_datetime, SessionDuration, SessionHash, SessionId};

    fn s(protocol: &str, start: &str, secs: Option<u64>) -> RemoteSession {
        let mut s = RemoteSession::new(
            SessionId::new(1),
            SessionHash::from_wire("e7acacb6aedbab70073456da5744166939b77527"),
            parse_datetime(start).unwrap(),
        );
        s.protocol = protocol.into();
        s.proxy = "web proxy".into();
        s.time = secs.map(SessionDuration::from_secs);
        s
    }

    #[test]
    fn counts_open_sessions_but_not_their_duration() {
        let mut a = Stats::new(GroupBy::Field(Field::Protocol));
        a.add(&s("rdp", "2024-05-06 10:00:00", Some(100)));
        a.add(&s("RDP", "2024-05-06 11:00:00", Some(300)));
        a.add(&s("rdp", "2024-05-07 11:00:00", None));
        a.add(&s("ssh", "2024-05-07 11:00:00", None));
        let total = a.total();
        let g = a.into_groups();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].group, "rdp");
        assert_eq!(
            (g[0].count, g[0].total_secs, g[0].max_secs),
            (3, 400, Some(300))
        );
        assert_eq!(g[0].mean_secs(), Some(200.0));
        assert_eq!(
            (g[1].group.as_str(), g[1].count, g[1].max_secs),
            ("ssh", 1, None)
        );
        assert_eq!(g[1].mean_secs(), None);
        assert_eq!(
            (
                total.group.as_str(),
                total.count,
                total.total_secs,
                total.max_secs
            ),
            ("total", 4, 400, Some(300))
        );
        assert_eq!(total.open(), 2);
    }

    #[test]
    fn groups_by_canonical_proxy_and_by_day() {
        let mut a = Stats::new(GroupBy::Field(Field::Proxy));
        a.add(&s("rdp", "2024-05-06 10:00:00", Some(1)));
        assert_eq!(a.into_groups()[0].group, "Web Proxy");
        let mut a = Stats::new(GroupBy::Day);
        a.extend(&[
            s("rdp", "2024-05-07 10:00:00", Some(1)),
            s("rdp", "2024-05-06 23:59:59", Some(2)),
            s("rdp", "2024-05-06 00:00:00", Some(4)),
        ]);
        let g = a.into_groups();
        assert_eq!(
            g.iter().map(|g| g.group.as_str()).collect::<Vec<_>>(),
            ["2024-05-06", "2024-05-07"]
        );
        assert_eq!(g[0].mean_secs(), Some(3.0));
    }

    #[test]
    fn ties_in_count_are_broken_by_name() {
        let mut a = Stats::new(GroupBy::Field(Field::Protocol));
        for p in ["ssh", "rdp", "vnc", "ssh"] {
            a.add(&s(p, "2024-05-06 10:00:00", None));
        }
        let g = a.into_groups();
        assert_eq!(
            g.iter().map(|g| g.group.as_str()).collect::<Vec<_>>(),
            ["ssh", "rdp", "vnc"]
        );
    }
}
