//! The metrics (their names are a contract: docs/metrics.md), set from a complete poll,
//! and their exposition by `prometheus-client`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicU64;

use chrono::NaiveDateTime;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::poll::{Changes, Snapshot};

/// The most `user` series of `segura_user_sessions_active`; the users with fewer open
/// sessions beyond it are counted under [`OTHER_USERS`].
pub const MAX_USERS: usize = 500;

/// The `user` label of the users beyond [`MAX_USERS`].
pub const OTHER_USERS: &str = "(other)";

/// The longest `user` label, in characters; a longer name is cut and ends with `…`.
pub const MAX_USER_CHARS: usize = 128;

/// The buckets of `segura_poll_duration_seconds`: a list takes from a fraction of a
/// second on a small appliance to minutes on a large one.
pub const POLL_BUCKETS: [f64; 12] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// The error classes of `segura_poll_errors_total{kind}` (segura-api's taxonomy), all
/// exported from the start at 0.
pub const ERROR_KINDS: [&str; 10] = [
    "config",
    "input",
    "connect",
    "timeout",
    "auth",
    "not_found",
    "server",
    "api",
    "invalid_response",
    "other",
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProtocolProxy {
    protocol: &'static str,
    proxy: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProtocolLabel {
    protocol: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UserLabel {
    user: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// Every metric, and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    active: Family<ProtocolProxy, Gauge>,
    listed: Gauge,
    longest: Family<ProtocolLabel, FloatGauge>,
    started: Family<ProtocolLabel, Counter>,
    ended: Family<ProtocolLabel, Counter>,
    duration: Histogram,
    last_success: FloatGauge,
    errors: Family<KindLabel, Counter>,
    not_modified: Counter,
    up: Gauge,
    users: Option<Family<UserLabel, Gauge>>,
    /// The (protocol, proxy) pairs seen so far: each stays exported, at 0 without sessions.
    pairs: HashSet<ProtocolProxy>,
}

impl Metrics {
    /// The metrics, `segura_user_sessions_active` only with `per_user`.
    pub fn new(per_user: bool) -> Self {
        let mut registry = Registry::default();
        let active = Family::<ProtocolProxy, Gauge>::default();
        registry.register(
            "segura_sessions_active",
            "Open sessions that match the filters, by protocol and proxy (values outside the known set are \"other\")",
            active.clone(),
        );
        let listed = Gauge::default();
        registry.register(
            "segura_sessions_listed",
            "Sessions in the last complete list, matching the filters or not",
            listed.clone(),
        );
        let longest = Family::<ProtocolLabel, FloatGauge>::default();
        registry.register(
            "segura_session_active_longest_seconds",
            "Age of the oldest open session at the last complete poll, by protocol, on the appliance's clock",
            longest.clone(),
        );
        let started = Family::<ProtocolLabel, Counter>::default();
        registry.register(
            "segura_sessions_started",
            "Sessions seen to start, by protocol, counted from the second poll on",
            started.clone(),
        );
        let ended = Family::<ProtocolLabel, Counter>::default();
        registry.register(
            "segura_sessions_ended",
            "Sessions seen to end (or leave the list) while open, by protocol, counted from the second poll on",
            ended.clone(),
        );
        let duration = Histogram::new(POLL_BUCKETS);
        registry.register(
            "segura_poll_duration_seconds",
            "Time each poll of the list took, failed ones included",
            duration.clone(),
        );
        let last_success = FloatGauge::default();
        registry.register(
            "segura_poll_last_success_timestamp_seconds",
            "Unix time at which the last successful poll ended (0 before the first)",
            last_success.clone(),
        );
        let errors = Family::<KindLabel, Counter>::default();
        for kind in ERROR_KINDS {
            let _ = errors.get_or_create_owned(&KindLabel { kind });
        }
        registry.register(
            "segura_poll_errors",
            "Failed polls, by error class",
            errors.clone(),
        );
        let not_modified = Counter::default();
        registry.register(
            "segura_poll_not_modified",
            "Polls answered 304 Not Modified to the ETag of the last list: unchanged, not read again",
            not_modified.clone(),
        );
        let up = Gauge::default();
        registry.register(
            "segura_up",
            "1 when the last poll succeeded, 0 when it failed or none has ended yet",
            up.clone(),
        );
        let users = per_user.then(|| {
            let users = Family::<UserLabel, Gauge>::default();
            registry.register(
                "segura_user_sessions_active",
                "Open sessions that match the filters, by PAM user (at most 500 users, the others under \"(other)\")",
                users.clone(),
            );
            users
        });
        Self {
            registry,
            active,
            listed,
            longest,
            started,
            ended,
            duration,
            last_success,
            errors,
            not_modified,
            up,
            users,
            pairs: HashSet::new(),
        }
    }

    /// Sets every session metric from `snap`, taken at `now` (the appliance's clock),
    /// adds `changes` to the counters, and sets `segura_up` to 1. `ended_at` is the Unix
    /// time of the end of the poll.
    pub fn succeeded(
        &mut self,
        snap: &Snapshot,
        changes: Option<&Changes>,
        now: NaiveDateTime,
        ended_at: f64,
    ) {
        let mut active: HashMap<ProtocolProxy, i64> = HashMap::new();
        let mut oldest: HashMap<&'static str, NaiveDateTime> = HashMap::new();
        for s in snap.open.values() {
            let pair = ProtocolProxy {
                protocol: s.protocol,
                proxy: s.proxy,
            };
            *active.entry(pair.clone()).or_default() += 1;
            self.pairs.insert(pair);
            let o = oldest.entry(s.protocol).or_insert(s.start);
            *o = (*o).min(s.start);
            // The counters of a protocol exist (at 0) from its first open session on.
            let p = ProtocolLabel {
                protocol: s.protocol,
            };
            let _ = self.started.get_or_create_owned(&p);
            let _ = self.ended.get_or_create_owned(&p);
        }
        // A pair once seen stays, at 0 when no session has it (the set is bounded).
        for pair in &self.pairs {
            let n = active.get(pair).copied().unwrap_or(0);
            self.active.get_or_create(pair).set(n);
        }
        // No open session of a protocol: no age (0 would claim a session just opened).
        self.longest.clear();
        for (protocol, start) in oldest {
            // A start in the future (a skewed clock) counts as just opened.
            let age = (now - start).num_milliseconds().max(0) as f64 / 1000.0;
            self.longest
                .get_or_create(&ProtocolLabel { protocol })
                .set(age);
        }
        if let Some(c) = changes {
            for (protocol, n) in &c.started {
                self.started
                    .get_or_create(&ProtocolLabel { protocol })
                    .inc_by(*n);
            }
            for (protocol, n) in &c.ended {
                self.ended
                    .get_or_create(&ProtocolLabel { protocol })
                    .inc_by(*n);
            }
        }
        self.listed
            .set(i64::try_from(snap.listed).unwrap_or(i64::MAX));
        if let Some(users) = &self.users {
            users.clear();
            for (user, n) in per_user(snap) {
                users
                    .get_or_create(&UserLabel { user })
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        self.last_success.set(ended_at);
        self.up.set(1);
    }

    /// A failed poll of class `kind`: the values stay, `segura_up` goes to 0.
    pub fn failed(&self, kind: &'static str) {
        self.errors.get_or_create(&KindLabel { kind }).inc();
        self.up.set(0);
    }

    /// A poll was answered `304 Not Modified`.
    pub fn not_modified(&self) {
        self.not_modified.inc();
    }

    /// A poll took `seconds`.
    pub fn observe_poll(&self, seconds: f64) {
        self.duration.observe(seconds);
    }

    /// The exposition: OpenMetrics when `openmetrics`, else the Prometheus text format.
    pub fn encode(&self, openmetrics: bool) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(4096);
        if openmetrics {
            prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)?;
        }
        Ok(out)
    }
}

/// The `user` label of a PAM user name: no control character or bidirectional mark
/// (they are shown escaped, as on a terminal), at most [`MAX_USER_CHARS`] characters.
/// The exposition's own escaping (`\`, `"`, newline) is `prometheus-client`'s.
pub fn user_label(user: &str) -> String {
    let clean = segura_api::text::sanitize(user);
    if clean.chars().count() <= MAX_USER_CHARS {
        return clean.into_owned();
    }
    let mut cut: String = clean.chars().take(MAX_USER_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Open sessions per user label: the [`MAX_USERS`] users with the most (ties by name),
/// the rest summed under [`OTHER_USERS`].
fn per_user(snap: &Snapshot) -> Vec<(String, u64)> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for s in snap.open.values() {
        // Already a label: escaped and cut when the poll kept it.
        *counts.entry(s.user.to_string()).or_default() += 1;
    }
    let mut all: Vec<(String, u64)> = counts.into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if all.len() > MAX_USERS {
        let rest: u64 = all[MAX_USERS..].iter().map(|(_, n)| n).sum();
        all.truncate(MAX_USERS);
        match all.iter_mut().find(|(u, _)| u == OTHER_USERS) {
            Some((_, n)) => *n += rest,
            None => all.push((OTHER_USERS.to_owned(), rest)),
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::exporter::poll::OpenSession;

    fn open(user: &str) -> OpenSession {
        OpenSession {
            protocol: "rdp",
            proxy: "RDP Proxy",
            user: user.into(),
            start: segura_model::parse_datetime("2024-05-06 16:00:00").unwrap(),
        }
    }

    #[test]
    fn user_labels_are_clean_and_bounded() {
        assert_eq!(user_label("alice"), "alice");
        assert_eq!(user_label("a\u{1b}[2J\nb"), "a\\u{1b}[2J\\nb");
        let long = "x".repeat(1000);
        let l = user_label(&long);
        assert_eq!(l.chars().count(), MAX_USER_CHARS);
        assert!(l.ends_with('…'));
    }

    #[test]
    fn users_beyond_the_cap_are_summed_under_other() {
        let mut snap = Snapshot::default();
        for i in 0..(MAX_USERS as u64 + 10) {
            snap.open.insert(i, open(&format!("u{i:04}")));
        }
        snap.open.insert(100_000, open("u0000"));
        let users = per_user(&snap);
        assert_eq!(users.len(), MAX_USERS + 1);
        assert_eq!(users[0], ("u0000".to_owned(), 2));
        assert_eq!(users.last().unwrap(), &(OTHER_USERS.to_owned(), 10));
        let total: u64 = users.iter().map(|(_, n)| n).sum();
        assert_eq!(total, snap.open.len() as u64);
    }

    #[test]
    fn the_age_is_taken_on_the_appliance_clock_and_never_negative() {
        let mut m = Metrics::new(false);
        let mut snap = Snapshot::default();
        snap.open.insert(1, open("a"));
        let mut future = open("b");
        future.protocol = "ssh";
        future.start = segura_model::parse_datetime("2024-05-06 18:00:00").unwrap();
        snap.open.insert(2, future);
        let now = segura_model::parse_datetime("2024-05-06 17:30:00").unwrap();
        m.succeeded(&snap, None, now, 1.0);
        let text = m.encode(false).unwrap();
        assert!(
            text.contains("segura_session_active_longest_seconds{protocol=\"rdp\"} 5400"),
            "{text}"
        );
        assert!(
            text.contains("segura_session_active_longest_seconds{protocol=\"ssh\"} 0"),
            "{text}"
        );
    }
}
