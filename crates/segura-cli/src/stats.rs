//! Aggregation for `sessions stats`: per group, the number of sessions and the total,
//! mean and longest recorded duration.
//!
//! Pure logic over [`RemoteSession`]s, with no terminal or transport: sessions are added
//! one at a time while the list streams, and only one entry per group is held. Open
//! sessions count as sessions but add no duration; the mean is over the sessions that
//! have a recorded duration.

use std::collections::HashMap;
use std::fmt::Write as _;

use segura_model::{format_datetime, Field, RemoteSession};
use serde::Serialize;

/// What sessions are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKey {
    /// The canonical text of a field (`rdp`, `Web Proxy`, a user name...).
    Field(Field),
    /// The start date, `YYYY-MM-DD`.
    Day,
}

/// The figures of one group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupStats {
    /// The group: the field's canonical value, or the date.
    pub group: String,
    /// Sessions in the group, open ones included.
    pub count: u64,
    /// Sessions with a recorded duration.
    pub timed: u64,
    /// Sum of the recorded durations, in seconds.
    pub total_secs: u64,
    /// Longest recorded duration, in seconds.
    pub max_secs: Option<u64>,
}

impl GroupStats {
    fn add(&mut self, s: &RemoteSession) {
        self.count += 1;
        if let Some(d) = s.time {
            let secs = d.as_secs();
            self.timed += 1;
            self.total_secs = self.total_secs.saturating_add(secs);
            self.max_secs = Some(self.max_secs.map_or(secs, |m| m.max(secs)));
        }
    }

    fn merge(&mut self, other: &GroupStats) {
        self.count += other.count;
        self.timed += other.timed;
        self.total_secs = self.total_secs.saturating_add(other.total_secs);
        self.max_secs = match (self.max_secs, other.max_secs) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// Mean recorded duration over the sessions that have one.
    pub fn mean_secs(&self) -> Option<f64> {
        (self.timed > 0).then(|| self.total_secs as f64 / self.timed as f64)
    }

    /// The JSON form: `group`, `count`, `total_seconds`, `mean_seconds`, `max_seconds`.
    pub fn record(&self) -> StatsRecord<'_> {
        StatsRecord {
            group: &self.group,
            count: self.count,
            total_seconds: self.total_secs,
            mean_seconds: self.mean_secs().map(|m| (m * 10.0).round() / 10.0),
            max_seconds: self.max_secs,
        }
    }
}

/// One group as JSON, NDJSON and CSV print it.
#[derive(Debug, Serialize)]
pub struct StatsRecord<'a> {
    /// The group.
    pub group: &'a str,
    /// Sessions.
    pub count: u64,
    /// Total recorded duration.
    pub total_seconds: u64,
    /// Mean recorded duration (one decimal), null when no session has one.
    pub mean_seconds: Option<f64>,
    /// Longest recorded duration, null when no session has one.
    pub max_seconds: Option<u64>,
}

/// Adds sessions up per group.
#[derive(Debug, Clone)]
pub struct Aggregator {
    by: GroupKey,
    groups: HashMap<String, GroupStats>,
    key: String,
}

impl Aggregator {
    /// An empty aggregation.
    pub fn new(by: GroupKey) -> Self {
        Self {
            by,
            groups: HashMap::new(),
            key: String::new(),
        }
    }

    /// Adds one session.
    pub fn add(&mut self, s: &RemoteSession) {
        self.key.clear();
        match self.by {
            GroupKey::Field(f) => {
                let _ = write!(self.key, "{}", s.field(f));
            }
            GroupKey::Day => {
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
        let mut g = GroupStats {
            group: self.key.clone(),
            ..GroupStats::default()
        };
        g.add(s);
        self.groups.insert(self.key.clone(), g);
    }

    /// The figures over every group.
    pub fn total(&self) -> GroupStats {
        let mut t = GroupStats {
            group: "total".to_owned(),
            ..GroupStats::default()
        };
        for g in self.groups.values() {
            t.merge(g);
        }
        t
    }

    /// The groups: by date for days, else most sessions first (then by name).
    pub fn into_groups(self) -> Vec<GroupStats> {
        let mut v: Vec<GroupStats> = self.groups.into_values().collect();
        match self.by {
            GroupKey::Day => v.sort_by(|a, b| a.group.cmp(&b.group)),
            GroupKey::Field(_) => {
                v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.group.cmp(&b.group)));
            }
        }
        v
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
        let mut a = Aggregator::new(GroupKey::Field(Field::Protocol));
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
            (total.count, total.total_secs, total.max_secs),
            (4, 400, Some(300))
        );
        let json = serde_json::to_string(&g[1].record()).unwrap();
        assert_eq!(
            json,
            r#"{"group":"ssh","count":1,"total_seconds":0,"mean_seconds":null,"max_seconds":null}"#
        );
    }

    #[test]
    fn groups_by_canonical_proxy_and_by_day() {
        let mut a = Aggregator::new(GroupKey::Field(Field::Proxy));
        a.add(&s("rdp", "2024-05-06 10:00:00", Some(1)));
        assert_eq!(a.into_groups()[0].group, "Web Proxy");
        let mut a = Aggregator::new(GroupKey::Day);
        a.add(&s("rdp", "2024-05-07 10:00:00", Some(1)));
        a.add(&s("rdp", "2024-05-06 23:59:59", Some(2)));
        a.add(&s("rdp", "2024-05-06 00:00:00", Some(4)));
        let g = a.into_groups();
        assert_eq!(
            g.iter().map(|g| g.group.as_str()).collect::<Vec<_>>(),
            ["2024-05-06", "2024-05-07"]
        );
        assert_eq!(g[0].record().mean_seconds, Some(3.0));
    }
}
