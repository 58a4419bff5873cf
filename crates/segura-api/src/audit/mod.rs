//! Audit rules over the session record: findings an auditor reviews (PCI DSS 10, SOX,
//! ISO 27001 A.8.2/A.8.15), computed in one pass over a list.
//!
//! [`Auditor`] takes sessions one at a time (from a [`SessionStream`], a
//! [`ReaderSource`](crate::ReaderSource) or any iterator) and hands out [`Finding`]s.
//! Findings about one session (no ticket, too long, still open, off hours) come out as
//! soon as the session is seen; findings about a group (a shared credential, overlapping
//! origins, a device sweep, a new origin) come out when the group is complete, at the
//! latest from [`Auditor::finish`]. Memory is bounded by the aggregates the rules need
//! (per user and per credential sets, the open intervals of each user, the last 24 h of
//! each user's starts), never by the number of sessions; a finding lists at most
//! [`MAX_FINDING_SESSIONS`] session ids (and counts them all).
//!
//! Times are the appliance's local time, as the API gives them: `now` (for sessions
//! still open) is a parameter, in that same local time.
//!
//! ```
//! use segura_api::audit::{AuditConfig, Auditor, RuleId};
//! use segura_api::model::{parse_datetime, RemoteSession, SessionHash, SessionId};
//!
//! let mut s = RemoteSession::new(
//!     SessionId::new(1),
//!     SessionHash::from_wire("e7acacb6aedbab70073456da5744166939b77527"),
//!     parse_datetime("2024-05-04 23:30:00").unwrap(), // a Saturday night
//! );
//! s.user = "alice".into();
//! s.request = Some("REQ-1".into());
//! s.end = Some(parse_datetime("2024-05-04 23:40:00").unwrap());
//! let now = parse_datetime("2024-05-06 12:00:00").unwrap();
//! let findings = Auditor::new(AuditConfig::default(), now).run([&s]);
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].rule, RuleId::OffHours);
//! assert_eq!(findings[0].subject, "alice");
//! ```

mod overview;

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDateTime, NaiveTime, TimeDelta, Timelike};
use segura_model::{datetime_bytes, format_datetime, write_json_str, RemoteSession, SessionId};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::error::Error;
use crate::stream::SessionStream;
use crate::text::HumanDuration;
use crate::{HashMap, HashSet};

pub use overview::{Longest, Overview, Ranked, TOP_N};

/// At most this many session ids are listed in one finding (all are counted).
pub const MAX_FINDING_SESSIONS: usize = 1000;

/// How serious a finding is. Ordered: `Low < Medium < High`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Should be explained.
    Medium,
    /// Needs an answer now.
    High,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 3] = [Severity::Low, Severity::Medium, Severity::High];

    /// `low`, `medium` or `high`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a severity or a rule id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?}; expected one of: {expected}")]
pub struct ParseNameError {
    what: &'static str,
    name: String,
    expected: String,
}

impl FromStr for Severity {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseNameError {
                what: "severity",
                name: s.to_owned(),
                expected: "low, medium, high".into(),
            })
    }
}

/// The stable id of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleId {
    /// A session with neither `request` nor `ITSM`.
    NoTicket,
    /// An ended session longer than a threshold.
    LongSession,
    /// A session still open for longer than a threshold.
    LongOpen,
    /// A session started outside business hours and days.
    OffHours,
    /// One credential used by at least N distinct users.
    SharedCredential,
    /// One user with overlapping sessions from different origin addresses.
    ConcurrentOrigins,
    /// One user opening sessions to at least N distinct devices within a window.
    DeviceSweep,
    /// A user seen from an origin address absent from the baseline.
    NewOrigin,
}

impl RuleId {
    /// Every rule, in documentation order.
    pub const ALL: [RuleId; 8] = [
        RuleId::NoTicket,
        RuleId::LongSession,
        RuleId::LongOpen,
        RuleId::OffHours,
        RuleId::SharedCredential,
        RuleId::ConcurrentOrigins,
        RuleId::DeviceSweep,
        RuleId::NewOrigin,
    ];

    /// The id: `no-ticket`, `long-session`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            RuleId::NoTicket => "no-ticket",
            RuleId::LongSession => "long-session",
            RuleId::LongOpen => "long-open",
            RuleId::OffHours => "off-hours",
            RuleId::SharedCredential => "shared-credential",
            RuleId::ConcurrentOrigins => "concurrent-origins",
            RuleId::DeviceSweep => "device-sweep",
            RuleId::NewOrigin => "new-origin",
        }
    }

    /// The severity of its findings unless configured otherwise.
    pub const fn default_severity(self) -> Severity {
        match self {
            RuleId::NoTicket | RuleId::LongSession | RuleId::DeviceSweep => Severity::Medium,
            RuleId::LongOpen | RuleId::SharedCredential | RuleId::ConcurrentOrigins => {
                Severity::High
            }
            RuleId::OffHours | RuleId::NewOrigin => Severity::Low,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuleId {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleId::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParseNameError {
                what: "rule",
                name: s.to_owned(),
                expected: RuleId::ALL.map(RuleId::as_str).join(", "),
            })
    }
}

/// Users, credentials and devices a rule leaves alone (exact, case-insensitive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exemptions {
    /// Users.
    pub users: Vec<String>,
    /// Credentials.
    pub credentials: Vec<String>,
    /// Devices.
    pub devices: Vec<String>,
}

impl Exemptions {
    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.credentials.is_empty() && self.devices.is_empty()
    }
}

/// Exemptions with their names lowercased, for lookups.
#[derive(Debug, Clone, Default)]
struct ExemptSet {
    users: HashSet<String>,
    credentials: HashSet<String>,
    devices: HashSet<String>,
}

fn lower_set(v: &[String]) -> HashSet<String> {
    v.iter().map(|s| s.to_lowercase()).collect()
}

fn contains_ci(set: &HashSet<String>, value: &str) -> bool {
    !set.is_empty() && (set.contains(value) || set.contains(value.to_lowercase().as_str()))
}

impl ExemptSet {
    fn new(e: &Exemptions) -> Self {
        Self {
            users: lower_set(&e.users),
            credentials: lower_set(&e.credentials),
            devices: lower_set(&e.devices),
        }
    }

    fn covers(&self, s: &RemoteSession) -> bool {
        contains_ci(&self.users, &s.user)
            || contains_ci(&self.credentials, &s.credential)
            || contains_ci(&self.devices, &s.device)
    }
}

/// How one rule runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSettings {
    /// Whether the rule runs at all.
    pub enabled: bool,
    /// The severity of its findings.
    pub severity: Severity,
    /// What this rule (and only it) leaves alone.
    pub exempt: Exemptions,
}

/// Business hours in the appliance's local time: the days (Monday first) and the hours
/// `[start, end)`. When `end` is before `start`, the hours wrap past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessHours {
    /// Working days, Monday first.
    pub days: [bool; 7],
    /// First minute of business.
    pub start: NaiveTime,
    /// First minute after business.
    pub end: NaiveTime,
}

impl Default for BusinessHours {
    /// Monday to Friday, 08:00 to 18:00.
    fn default() -> Self {
        Self {
            days: [true, true, true, true, true, false, false],
            start: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default(),
        }
    }
}

impl BusinessHours {
    /// Whether `t` falls within business hours.
    pub fn contains(&self, t: NaiveDateTime) -> bool {
        let day = t.weekday().num_days_from_monday() as usize;
        let time = t.time();
        let in_hours = if self.start <= self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        };
        self.days[day] && in_hours
    }
}

/// What the rules look for: which run, their severities and thresholds, and exemptions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditConfig {
    rules: [RuleSettings; 8],
    /// `long-session`: an ended session longer than this many seconds (default 8 h).
    pub long_session_secs: u64,
    /// `long-open`: an open session started longer ago than this (default 12 h).
    pub long_open_secs: u64,
    /// `off-hours`: business hours and days.
    pub business_hours: BusinessHours,
    /// `shared-credential`: distinct users of one credential (default 3).
    pub shared_min_users: usize,
    /// `device-sweep`: distinct devices of one user (default 20)...
    pub sweep_min_devices: usize,
    /// ... within this many seconds (default 24 h).
    pub sweep_window_secs: u64,
    /// What every rule leaves alone.
    pub exempt: Exemptions,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            rules: RuleId::ALL.map(|r| RuleSettings {
                enabled: true,
                severity: r.default_severity(),
                exempt: Exemptions::default(),
            }),
            long_session_secs: 8 * 3600,
            long_open_secs: 12 * 3600,
            business_hours: BusinessHours::default(),
            shared_min_users: 3,
            sweep_min_devices: 20,
            sweep_window_secs: 24 * 3600,
            exempt: Exemptions::default(),
        }
    }
}

impl AuditConfig {
    /// The settings of `rule`.
    pub fn rule(&self, rule: RuleId) -> &RuleSettings {
        &self.rules[rule.index()]
    }

    /// The settings of `rule`, to change them.
    pub fn rule_mut(&mut self, rule: RuleId) -> &mut RuleSettings {
        &mut self.rules[rule.index()]
    }
}

/// One thing an auditor should look at.
///
/// As JSON: `{"rule","severity","subject","sessions":[ids],"first","last","detail"}`,
/// ids as numbers, times as `YYYY-MM-DD HH:MM:SS` (appliance local time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule that found it.
    pub rule: RuleId,
    /// How serious it is.
    pub severity: Severity,
    /// Who or what it is about: a user, or a credential for `shared-credential`.
    pub subject: String,
    /// The sessions involved, in the order seen (at most [`MAX_FINDING_SESSIONS`]).
    pub sessions: Vec<SessionId>,
    /// How many sessions are involved (may exceed `sessions.len()`).
    pub session_count: u64,
    /// The earliest start among them.
    pub first: NaiveDateTime,
    /// The latest end among them (the start of an open session).
    pub last: NaiveDateTime,
    /// What was found, in a sentence.
    pub detail: String,
}

/// Session ids as a JSON array of numbers.
struct Ids<'a>(&'a [SessionId]);

impl Serialize for Ids<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|id| id.get()))
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (mut b1, mut b2) = ([0u8; 19], [0u8; 19]);
        let mut m = serializer.serialize_map(Some(7))?;
        m.serialize_entry("rule", self.rule.as_str())?;
        m.serialize_entry("severity", self.severity.as_str())?;
        m.serialize_entry("subject", &self.subject)?;
        m.serialize_entry("sessions", &Ids(&self.sessions))?;
        m.serialize_entry("first", format_datetime(&self.first, &mut b1))?;
        m.serialize_entry("last", format_datetime(&self.last, &mut b2))?;
        m.serialize_entry("detail", &self.detail)?;
        m.end()
    }
}

impl Finding {
    /// Appends the finding as one compact JSON object: exactly the bytes
    /// `serde_json::to_writer` writes for it (a test checks), without serde's per-key
    /// dispatch, for outputs that print millions of findings.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"rule\":\"");
        out.extend_from_slice(self.rule.as_str().as_bytes());
        out.extend_from_slice(b"\",\"severity\":\"");
        out.extend_from_slice(self.severity.as_str().as_bytes());
        out.extend_from_slice(b"\",\"subject\":");
        write_json_str(out, &self.subject);
        out.extend_from_slice(b",\"sessions\":[");
        let mut ids = itoa::Buffer::new();
        for (k, id) in self.sessions.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(ids.format(id.get()).as_bytes());
        }
        out.extend_from_slice(b"],\"first\":\"");
        out.extend_from_slice(&datetime_bytes(&self.first));
        out.extend_from_slice(b"\",\"last\":\"");
        out.extend_from_slice(&datetime_bytes(&self.last));
        out.extend_from_slice(b"\",\"detail\":");
        write_json_str(out, &self.detail);
        out.push(b'}');
    }
}

/// The order of a report: worst first, then by rule, by first time, by subject.
pub fn finding_order(a: &Finding, b: &Finding) -> Ordering {
    b.severity
        .cmp(&a.severity)
        .then(a.rule.cmp(&b.rule))
        .then(a.first.cmp(&b.first))
        .then_with(|| a.subject.cmp(&b.subject))
        .then_with(|| a.sessions.cmp(&b.sessions))
}

/// Sorts findings into [`finding_order`].
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(finding_order);
}

/// Counts of findings, per severity and per rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    by_severity: [u64; 3],
    by_rule: [u64; 8],
}

impl Tally {
    /// Counts one finding.
    pub fn add(&mut self, f: &Finding) {
        self.count(f.rule, f.severity);
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: &Tally) {
        for (a, b) in self.by_severity.iter_mut().zip(other.by_severity) {
            *a += b;
        }
        for (a, b) in self.by_rule.iter_mut().zip(other.by_rule) {
            *a += b;
        }
    }

    fn count(&mut self, rule: RuleId, severity: Severity) {
        self.by_severity[severity as usize] += 1;
        self.by_rule[rule.index()] += 1;
    }

    /// Findings of this severity.
    pub fn severity(&self, s: Severity) -> u64 {
        self.by_severity[s as usize]
    }

    /// Findings of this rule.
    pub fn rule(&self, r: RuleId) -> u64 {
        self.by_rule[r.index()]
    }

    /// Every finding.
    pub fn total(&self) -> u64 {
        self.by_severity.iter().sum()
    }

    /// Findings at or above `s`.
    pub fn at_least(&self, s: Severity) -> u64 {
        Severity::ALL
            .into_iter()
            .filter(|v| *v >= s)
            .map(|v| self.severity(v))
            .sum()
    }
}

/// The origin addresses each user was seen from: what `new-origin` compares with.
///
/// As JSON (`--write-baseline`): `{"version":1,"users":{"alice":["10.0.0.1"]}}`, users
/// and addresses sorted, so that the same sessions always write the same file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    users: BTreeMap<String, std::collections::BTreeSet<String>>,
}

#[derive(serde::Deserialize, Serialize)]
struct BaselineFile {
    version: u32,
    users: BTreeMap<String, Vec<String>>,
}

impl Baseline {
    /// An empty baseline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `user` was seen from `origin_ip`.
    pub fn insert(&mut self, user: &str, origin_ip: &str) {
        if user.is_empty() || origin_ip.is_empty() {
            return;
        }
        let key = user.to_lowercase();
        let ips = self.users.entry(key).or_default();
        if !ips.contains(origin_ip) {
            ips.insert(origin_ip.to_lowercase());
        }
    }

    /// Whether `user` was seen from `origin_ip`.
    pub fn contains(&self, user: &str, origin_ip: &str) -> bool {
        self.users
            .get(user.to_lowercase().as_str())
            .is_some_and(|ips| ips.contains(origin_ip.to_lowercase().as_str()))
    }

    /// Adds everything `other` has.
    pub fn merge(&mut self, other: &Baseline) {
        for (u, ips) in &other.users {
            self.users
                .entry(u.clone())
                .or_default()
                .extend(ips.iter().cloned());
        }
    }

    /// How many users it knows.
    pub fn users(&self) -> usize {
        self.users.len()
    }

    /// Reads a baseline file.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let f: BaselineFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if f.version != 1 {
            return Err(format!("unsupported baseline version {}", f.version));
        }
        let mut b = Baseline::new();
        for (u, ips) in f.users {
            for ip in ips {
                b.insert(&u, &ip);
            }
        }
        Ok(b)
    }

    /// Writes it as a baseline file (pretty JSON, ends with a newline).
    pub fn to_json(&self) -> String {
        let f = BaselineFile {
            version: 1,
            users: self
                .users
                .iter()
                .map(|(u, ips)| (u.clone(), ips.iter().cloned().collect()))
                .collect(),
        };
        let mut s = serde_json::to_string_pretty(&f).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Sessions gathered for one finding.
#[derive(Debug, Clone)]
struct Acc {
    ids: Vec<SessionId>,
    count: u64,
    first: NaiveDateTime,
    last: NaiveDateTime,
}

fn session_last(s: &RemoteSession) -> NaiveDateTime {
    s.end.unwrap_or(s.start).max(s.start)
}

impl Acc {
    fn of(s: &RemoteSession) -> Self {
        let mut a = Acc {
            ids: Vec::new(),
            count: 0,
            first: s.start,
            last: s.start,
        };
        a.add(s.id, s.start, session_last(s));
        a
    }

    fn add(&mut self, id: SessionId, start: NaiveDateTime, last: NaiveDateTime) {
        self.count += 1;
        if self.ids.len() < MAX_FINDING_SESSIONS {
            self.ids.push(id);
        }
        self.first = self.first.min(start);
        self.last = self.last.max(last);
    }

    fn add_session(&mut self, s: &RemoteSession) {
        self.add(s.id, s.start, session_last(s));
    }

    fn into_finding(
        self,
        rule: RuleId,
        severity: Severity,
        subject: &str,
        detail: String,
    ) -> Finding {
        let detail = if self.count > self.ids.len() as u64 {
            format!(
                "{detail} (the first {} of {} sessions are listed)",
                self.ids.len(),
                self.count
            )
        } else {
            detail
        };
        Finding {
            rule,
            severity,
            subject: subject.to_owned(),
            sessions: self.ids,
            session_count: self.count,
            first: self.first,
            last: self.last,
            detail,
        }
    }
}

/// `shared-credential`: the users of one credential.
#[derive(Debug, Default)]
struct CredentialAgg {
    /// The users, as their indexes in [`Auditor::users`].
    users: HashSet<usize>,
    acc: Option<Acc>,
}

/// A session of a user that may still overlap later ones.
#[derive(Debug, PartialEq, Eq)]
struct Interval {
    end: NaiveDateTime,
    start: NaiveDateTime,
    id: SessionId,
    origin: Name,
}

impl Ord for Interval {
    fn cmp(&self, other: &Self) -> Ordering {
        self.end
            .cmp(&other.end)
            .then(self.id.get().cmp(&other.id.get()))
    }
}

impl PartialOrd for Interval {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `s` lowercased, without allocating when it already is.
fn lower(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() && !s.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(s.to_lowercase())
    }
}

/// A name held by the audit's windows and the report's overview: inline up to 24
/// bytes (most origins, devices and user names), so that holding one neither
/// allocates nor follows a pointer to compare it (`compact_str`).
pub(crate) type Name = compact_str::CompactString;

/// Up to this many distinct names, [`Counts`] scans a short vector; past it, a hash
/// map.
const FEW: usize = 32;

/// How many entries of a window (the active sessions, the last 24 hours) have each
/// name: only names in the window are held.
///
/// A user's window holds a handful of names at a time, and most of them are new (in a
/// large list nearly every session comes from another origin and goes to another
/// device): a short vector scanned in order serves them without hashing, and without
/// allocating for names of up to 24 bytes. A window with more than [`FEW`] distinct
/// names (one user holding thousands of sessions at once) moves to a hash map, so that
/// each step stays of constant cost.
#[derive(Debug)]
enum Counts {
    Few(Vec<(Name, u32)>),
    Many(HashMap<Name, u32>),
}

impl Default for Counts {
    fn default() -> Self {
        Counts::Few(Vec::new())
    }
}

impl Counts {
    /// Counts `name` once more and returns the name for the window's entry.
    fn add(&mut self, name: &str) -> Name {
        match self {
            Counts::Few(v) => {
                if let Some((key, n)) = v.iter_mut().find(|(k, _)| k.as_str() == name) {
                    *n += 1;
                    return key.clone();
                }
                let key = Name::from(name);
                if v.len() < FEW {
                    v.push((key.clone(), 1));
                } else {
                    let mut map: HashMap<Name, u32> = v.drain(..).collect();
                    map.insert(key.clone(), 1);
                    *self = Counts::Many(map);
                }
                key
            }
            Counts::Many(map) => {
                let key = Name::from(name);
                match map.get_mut(name) {
                    Some(n) => *n += 1,
                    None => {
                        map.insert(key.clone(), 1);
                    }
                }
                key
            }
        }
    }

    fn remove(&mut self, name: &str) {
        match self {
            Counts::Few(v) => {
                if let Some(i) = v.iter().position(|(k, _)| k.as_str() == name) {
                    if v[i].1 > 1 {
                        v[i].1 -= 1;
                    } else {
                        v.swap_remove(i);
                    }
                }
            }
            Counts::Many(map) => {
                if let Some(n) = map.get_mut(name) {
                    if *n > 1 {
                        *n -= 1;
                    } else {
                        map.remove(name);
                    }
                }
            }
        }
    }

    fn distinct(&self) -> usize {
        match self {
            Counts::Few(v) => v.len(),
            Counts::Many(map) => map.len(),
        }
    }

    /// Whether a name other than `name` is counted: without a lookup once two are.
    fn has_other_than(&self, name: &str) -> bool {
        match self.distinct() {
            0 => false,
            1 => match self {
                Counts::Few(v) => v[0].0.as_str() != name,
                Counts::Many(map) => !map.contains_key(name),
            },
            _ => true,
        }
    }
}

/// A cluster or a sweep names at most this many origins or devices in its detail.
const MAX_NAMED: usize = 32;

/// Per-user state of `concurrent-origins` and `device-sweep`.
#[derive(Debug, Default)]
struct UserAgg {
    /// Sessions not yet ended at the latest start seen, earliest end on top, except
    /// those in `open`.
    active: BinaryHeap<Reverse<Interval>>,
    /// How many of `active` come from each origin.
    active_origins: Counts,
    /// Sessions still open (without an end), which all end at "now": kept apart, with
    /// their own counts, so that the heap and its counts hold only the few sessions
    /// that end while the list is read.
    open: Vec<Interval>,
    /// How many of `open` come from each origin.
    open_origins: Counts,
    /// The current run of overlapping sessions from several origins.
    cluster: Option<(Acc, HashSet<String>)>,
    /// Starts in the sweep window: (start, id, last, device).
    window: VecDeque<(NaiveDateTime, SessionId, NaiveDateTime, Name)>,
    window_devices: Counts,
    /// The current sweep.
    sweep: Option<(Acc, HashSet<String>)>,
}

/// The audit of one list: feed it sessions, collect findings.
#[derive(Debug)]
pub struct Auditor {
    config: AuditConfig,
    now: NaiveDateTime,
    exempt: ExemptSet,
    rule_exempt: Vec<Option<ExemptSet>>,
    credentials: HashMap<String, CredentialAgg>,
    /// Each user a rule about groups saw: its index in `users`, so that a session costs
    /// one lookup of its user, and a credential's users are a set of numbers.
    user_index: HashMap<String, usize>,
    users: Vec<UserAgg>,
    baseline: Option<Baseline>,
    collect_origins: bool,
    /// `new-origin`: per user, per origin, the sessions seen.
    origins: HashMap<String, HashMap<String, Acc>>,
    sessions: u64,
    /// Per rule: whether its findings are only counted ([`Auditor::count_only`]).
    count_only: [bool; RuleId::ALL.len()],
    /// The findings counted and not built.
    counted: Tally,
    /// The finding about one session being lent to `emit`: its buffers are reused, so
    /// that a finding costs no allocation.
    scratch: Finding,
}

/// `1 session`, `2 sessions`.
struct Plural<'a>(usize, &'a str);

impl fmt::Display for Plural<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Plural(n, one) = *self;
        if n == 1 {
            write!(f, "{n} {one}")
        } else {
            write!(f, "{n} {one}s")
        }
    }
}

fn plural(n: usize, one: &str) -> Plural<'_> {
    Plural(n, one)
}

/// Appends `session on DEVICE`, or `session` for a session without a device.
fn push_session_on(out: &mut String, device: &str) {
    out.push_str("session");
    if !device.is_empty() {
        out.push_str(" on ");
        out.push_str(device);
    }
}

/// Appends `session[ on DEVICE] VERB 9h 5m (threshold 8h)`.
fn push_over_threshold(out: &mut String, device: &str, verb: &str, secs: u64, threshold: u64) {
    push_session_on(out, device);
    out.push(' ');
    out.push_str(verb);
    out.push(' ');
    let _ = HumanDuration(secs).write_to(out);
    out.push_str(" (threshold ");
    let _ = HumanDuration(threshold).write_to(out);
    out.push(')');
}

/// Appends `s` quoted as `{:?}` writes it, without the formatting machinery: runs of
/// printable ASCII other than the quote and the backslash are copied as they are, and
/// every other character is escaped as [`char::escape_debug`] escapes it (which is what
/// `{:?}` does to a string's characters, except that it leaves `'` alone, and `'` is
/// printable ASCII here).
fn push_debug_str(out: &mut String, s: &str) {
    out.push('"');
    let mut rest = s;
    while !rest.is_empty() {
        let plain = rest
            .bytes()
            .position(|b| !(b' '..=b'~').contains(&b) || b == b'"' || b == b'\\')
            .unwrap_or(rest.len());
        out.push_str(&rest[..plain]);
        rest = &rest[plain..];
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.extend(c.escape_debug());
            rest = chars.as_str();
        }
    }
    out.push('"');
}

/// The weekday as chrono's `Display` writes it (`Mon`, `Tue`, ...).
fn weekday_name(d: chrono::Weekday) -> &'static str {
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d.num_days_from_monday() as usize]
}

/// Appends `n` (below 100) with two digits, as `{:02}` does.
fn push_two_digits(out: &mut String, n: u32) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

impl Auditor {
    /// An audit with `config`, judging open sessions as of `now` (appliance local time).
    pub fn new(config: AuditConfig, now: NaiveDateTime) -> Self {
        let exempt = ExemptSet::new(&config.exempt);
        let rule_exempt = RuleId::ALL
            .iter()
            .map(|r| {
                let e = &config.rule(*r).exempt;
                (!e.is_empty()).then(|| ExemptSet::new(e))
            })
            .collect();
        Self {
            config,
            now,
            exempt,
            rule_exempt,
            credentials: HashMap::default(),
            user_index: HashMap::default(),
            users: Vec::new(),
            baseline: None,
            collect_origins: false,
            origins: HashMap::default(),
            sessions: 0,
            count_only: [false; RuleId::ALL.len()],
            counted: Tally::default(),
            scratch: Finding {
                rule: RuleId::NoTicket,
                severity: Severity::Low,
                subject: String::new(),
                sessions: Vec::new(),
                session_count: 0,
                first: NaiveDateTime::default(),
                last: NaiveDateTime::default(),
                detail: String::new(),
            },
        }
    }

    /// From now on, the findings of `rule` that [`Auditor::add`] completes are counted
    /// in [`Auditor::counted`] instead of being built and handed to `emit`: for a
    /// consumer that keeps only the first few findings of a rule (the report) and
    /// would drop the rest. The rule still runs and the counts stay exact; the
    /// findings handed out by [`Auditor::finish`] are always built.
    pub fn count_only(&mut self, rule: RuleId) {
        self.count_only[rule.index()] = true;
    }

    /// The findings counted and not built since [`Auditor::count_only`].
    pub fn counted(&self) -> &Tally {
        &self.counted
    }

    /// Compares origins with `baseline` (without one, `new-origin` finds nothing).
    pub fn with_baseline(mut self, baseline: Baseline) -> Self {
        self.baseline = Some(baseline);
        self
    }

    /// Also collects every (user, origin) seen, for [`Auditor::finish`] to return as
    /// a baseline.
    pub fn collect_origins(mut self) -> Self {
        self.collect_origins = true;
        self
    }

    /// Adds a session of the baseline's earlier window: it is never audited, its
    /// origins count as known.
    pub fn learn(&mut self, s: &RemoteSession) {
        self.baseline
            .get_or_insert_with(Baseline::new)
            .insert(&s.user, &s.origin_ip);
    }

    /// How many sessions were audited.
    pub fn sessions(&self) -> u64 {
        self.sessions
    }

    /// Whether `new-origin` has a baseline to compare with.
    pub fn has_baseline(&self) -> bool {
        self.baseline.is_some()
    }

    /// The configuration.
    pub fn config(&self) -> &AuditConfig {
        &self.config
    }

    fn runs(&self, rule: RuleId, s: &RemoteSession) -> bool {
        self.config.rule(rule).enabled
            && !self.rule_exempt[rule.index()]
                .as_ref()
                .is_some_and(|e| e.covers(s))
    }

    fn severity(&self, rule: RuleId) -> Severity {
        self.config.rule(rule).severity
    }

    /// The scratch finding, filled for `rule` about the one session `s`; its detail is
    /// left empty for the caller to write.
    fn single(&mut self, rule: RuleId, s: &RemoteSession) -> &mut Finding {
        let f = &mut self.scratch;
        f.rule = rule;
        f.severity = self.config.rule(rule).severity;
        f.subject.clear();
        f.subject.push_str(&s.user);
        f.sessions.clear();
        f.sessions.push(s.id);
        f.session_count = 1;
        f.first = s.start;
        f.last = session_last(s);
        f.detail.clear();
        f
    }

    /// Audits one session; `emit` is lent the findings that are complete (except
    /// those of the rules [`Auditor::count_only`] named, which are counted). A finding
    /// lent to `emit` lives until `emit` returns: clone it to keep it.
    pub fn add(&mut self, s: &RemoteSession, emit: &mut dyn FnMut(&Finding)) {
        if self.exempt.covers(s) {
            return;
        }
        if self.count_only.iter().any(|c| *c) {
            let only = self.count_only;
            let mut counted = std::mem::take(&mut self.counted);
            self.add_inner(s, &mut |f: &Finding| {
                if only[f.rule.index()] {
                    counted.count(f.rule, f.severity);
                } else {
                    emit(f);
                }
            });
            self.counted.merge(&counted);
        } else {
            self.add_inner(s, emit);
        }
    }

    /// Whether a finding of `rule` is to be counted rather than built.
    fn counts(&mut self, rule: RuleId) -> bool {
        let only = self.count_only[rule.index()];
        if only {
            let severity = self.severity(rule);
            self.counted.count(rule, severity);
        }
        only
    }

    /// The index of `name` in `users`, added when new.
    fn user(&mut self, name: &str) -> usize {
        if let Some(&i) = self.user_index.get(name) {
            return i;
        }
        let i = self.users.len();
        self.user_index.insert(name.to_owned(), i);
        self.users.push(UserAgg::default());
        i
    }

    fn add_inner(&mut self, s: &RemoteSession, emit: &mut dyn FnMut(&Finding)) {
        self.sessions += 1;
        if self.runs(RuleId::NoTicket, s)
            && s.request.as_deref().is_none_or(|r| r.trim().is_empty())
            && s.itsm.as_deref().is_none_or(|r| r.trim().is_empty())
            && !self.counts(RuleId::NoTicket)
        {
            let f = self.single(RuleId::NoTicket, s);
            push_session_on(&mut f.detail, &s.device);
            f.detail.push_str(" with credential ");
            push_debug_str(&mut f.detail, &s.credential);
            f.detail
                .push_str(" has neither an access request nor an ITSM ticket");
            emit(f);
        }
        if let Some(end) = s.end {
            let secs = s
                .time
                .map(|t| t.as_secs())
                .unwrap_or_else(|| (end - s.start).num_seconds().max(0) as u64);
            let threshold = self.config.long_session_secs;
            if self.runs(RuleId::LongSession, s)
                && secs > threshold
                && !self.counts(RuleId::LongSession)
            {
                let f = self.single(RuleId::LongSession, s);
                push_over_threshold(&mut f.detail, &s.device, "lasted", secs, threshold);
                emit(f);
            }
        } else if self.runs(RuleId::LongOpen, s) {
            let open = (self.now - s.start).num_seconds().max(0) as u64;
            let threshold = self.config.long_open_secs;
            if open > threshold && !self.counts(RuleId::LongOpen) {
                let f = self.single(RuleId::LongOpen, s);
                push_over_threshold(&mut f.detail, &s.device, "open for", open, threshold);
                emit(f);
            }
        }
        if self.runs(RuleId::OffHours, s)
            && !self.config.business_hours.contains(s.start)
            && !self.counts(RuleId::OffHours)
        {
            let f = self.single(RuleId::OffHours, s);
            push_session_on(&mut f.detail, &s.device);
            f.detail.push_str(" started ");
            f.detail.push_str(weekday_name(s.start.weekday()));
            f.detail.push_str(" at ");
            push_two_digits(&mut f.detail, s.start.hour());
            f.detail.push(':');
            push_two_digits(&mut f.detail, s.start.minute());
            f.detail.push_str(", outside business hours");
            emit(f);
        }
        let shared = self.runs(RuleId::SharedCredential, s) && !s.credential.is_empty();
        let concurrent = self.runs(RuleId::ConcurrentOrigins, s) && !s.origin_ip.is_empty();
        let sweep = self.runs(RuleId::DeviceSweep, s) && !s.device.is_empty();
        if !s.user.is_empty() {
            if shared || concurrent || sweep {
                let u = self.user(&s.user);
                if shared {
                    let agg = match self.credentials.get_mut(s.credential.as_str()) {
                        Some(a) => a,
                        None => self.credentials.entry(s.credential.clone()).or_default(),
                    };
                    agg.users.insert(u);
                    match &mut agg.acc {
                        Some(acc) => acc.add_session(s),
                        None => agg.acc = Some(Acc::of(s)),
                    }
                }
                let (c_sev, d_sev) = (
                    self.config.rule(RuleId::ConcurrentOrigins).severity,
                    self.config.rule(RuleId::DeviceSweep).severity,
                );
                let user = &mut self.users[u];
                if concurrent {
                    concurrent_add(user, s, self.now, c_sev, emit);
                }
                if sweep {
                    sweep_add(
                        user,
                        s,
                        self.config.sweep_window_secs,
                        self.config.sweep_min_devices,
                        d_sev,
                        emit,
                    );
                }
            }
            let origins = (self.baseline.is_some() && self.runs(RuleId::NewOrigin, s))
                || self.collect_origins;
            if origins && !s.origin_ip.is_empty() {
                let per_user = match self.origins.get_mut(s.user.as_str()) {
                    Some(u) => u,
                    None => self.origins.entry(s.user.clone()).or_default(),
                };
                match per_user.get_mut(s.origin_ip.as_str()) {
                    Some(acc) => acc.add_session(s),
                    None => {
                        per_user.insert(s.origin_ip.clone(), Acc::of(s));
                    }
                }
            }
        }
    }

    /// Ends the audit: `emit` receives the findings still open. Returns the origins
    /// seen when [`Auditor::collect_origins`] asked for them.
    pub fn finish(self, emit: &mut dyn FnMut(&Finding)) -> Option<Baseline> {
        let sev = |r: RuleId| self.config.rule(r).severity;
        // The users' names, by their index.
        let mut user_names = vec![String::new(); self.users.len()];
        for (name, i) in self.user_index {
            if let Some(slot) = user_names.get_mut(i) {
                *slot = name;
            }
        }
        let mut creds: Vec<(String, CredentialAgg)> = self.credentials.into_iter().collect();
        creds.sort_by(|a, b| a.0.cmp(&b.0));
        for (cred, agg) in creds {
            if agg.users.len() >= self.config.shared_min_users {
                if let Some(acc) = agg.acc {
                    let mut users: Vec<&String> =
                        agg.users.iter().map(|&u| &user_names[u]).collect();
                    users.sort();
                    let shown: Vec<&str> = users.iter().take(10).map(|u| u.as_str()).collect();
                    let detail = format!(
                        "credential used by {} ({}{}) in {}",
                        plural(users.len(), "distinct user"),
                        shown.join(", "),
                        if users.len() > shown.len() {
                            ", ..."
                        } else {
                            ""
                        },
                        plural(acc.count as usize, "session")
                    );
                    emit(&acc.into_finding(
                        RuleId::SharedCredential,
                        sev(RuleId::SharedCredential),
                        &cred,
                        detail,
                    ));
                }
            }
        }
        let mut users: Vec<(String, UserAgg)> = user_names.into_iter().zip(self.users).collect();
        users.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, mut u) in users {
            if let Some(c) = u.cluster.take() {
                emit(&cluster_finding(&name, c, sev(RuleId::ConcurrentOrigins)));
            }
            if let Some(c) = u.sweep.take() {
                emit(&sweep_finding(
                    &name,
                    c,
                    self.config.sweep_window_secs,
                    sev(RuleId::DeviceSweep),
                ));
            }
        }
        let mut seen = self.collect_origins.then(Baseline::new);
        let new_origin = self.config.rule(RuleId::NewOrigin).enabled;
        let mut origins: Vec<(String, HashMap<String, Acc>)> = self.origins.into_iter().collect();
        origins.sort_by(|a, b| a.0.cmp(&b.0));
        for (user, ips) in origins {
            let mut ips: Vec<(String, Acc)> = ips.into_iter().collect();
            ips.sort_by(|a, b| a.1.first.cmp(&b.1.first).then_with(|| a.0.cmp(&b.0)));
            for (ip, acc) in ips {
                if let Some(seen) = &mut seen {
                    seen.insert(&user, &ip);
                }
                let Some(base) = &self.baseline else { continue };
                if new_origin && !base.contains(&user, &ip) {
                    let detail = format!(
                        "first seen from {ip} ({}), absent from the baseline",
                        plural(acc.count as usize, "session")
                    );
                    emit(&acc.into_finding(
                        RuleId::NewOrigin,
                        sev(RuleId::NewOrigin),
                        &user,
                        detail,
                    ));
                }
            }
        }
        seen
    }

    /// Audits every session of `sessions` and returns the findings in
    /// [`finding_order`].
    pub fn run<'a>(
        mut self,
        sessions: impl IntoIterator<Item = &'a RemoteSession>,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        for s in sessions {
            self.add(s, &mut |f| out.push(f.clone()));
        }
        self.finish(&mut |f| out.push(f.clone()));
        sort_findings(&mut out);
        out
    }

    /// Audits a whole [`SessionStream`] (sessions that pass `keep`) and returns the
    /// findings in [`finding_order`]; fails as the stream fails.
    pub async fn run_stream(
        mut self,
        stream: &mut SessionStream,
        keep: impl Fn(&RemoteSession) -> bool,
    ) -> Result<Vec<Finding>, Error> {
        let mut out = Vec::new();
        while let Some(s) = stream.next_ref().await {
            let s = s?;
            if keep(s) {
                self.add(s, &mut |f| out.push(f.clone()));
            }
        }
        self.finish(&mut |f| out.push(f.clone()));
        sort_findings(&mut out);
        Ok(out)
    }
}

fn cluster_finding(user: &str, (acc, origins): (Acc, HashSet<String>), sev: Severity) -> Finding {
    let mut o: Vec<String> = origins.into_iter().collect();
    o.sort();
    if o.len() >= MAX_NAMED {
        o.truncate(MAX_NAMED - 1);
        o.push("...".to_owned());
    }
    let detail = format!(
        "{} overlapping from {}: {}",
        plural(acc.count as usize, "session"),
        plural(o.len(), "origin"),
        o.join(", ")
    );
    acc.into_finding(RuleId::ConcurrentOrigins, sev, user, detail)
}

fn sweep_finding(
    user: &str,
    (acc, devices): (Acc, HashSet<String>),
    window: u64,
    sev: Severity,
) -> Finding {
    let at_least = if devices.len() >= MAX_FINDING_SESSIONS {
        "at least "
    } else {
        ""
    };
    let detail = format!(
        "sessions to {at_least}{} within {}",
        plural(devices.len(), "distinct device"),
        HumanDuration(window)
    );
    acc.into_finding(RuleId::DeviceSweep, sev, user, detail)
}

/// `concurrent-origins`, for sessions in start order: the sessions of the user still
/// running at this start, by origin; a session that overlaps one from another origin
/// joins (or starts) the user's current cluster, which ends at the first session
/// that overlaps none.
fn concurrent_add(
    u: &mut UserAgg,
    s: &RemoteSession,
    now: NaiveDateTime,
    sev: Severity,
    emit: &mut dyn FnMut(&Finding),
) {
    while let Some(Reverse(top)) = u.active.peek() {
        if top.end > s.start {
            break;
        }
        if let Some(Reverse(gone)) = u.active.pop() {
            u.active_origins.remove(&gone.origin);
        }
    }
    if s.start >= now && !u.open.is_empty() {
        u.open.clear();
        u.open_origins = Counts::default();
    }
    let end = match s.end {
        Some(e) => e.max(s.start),
        None => now.max(s.start),
    };
    let is_open = s.end.is_none() && end == now;
    let name = lower(&s.origin_ip);
    let others = u.active_origins.has_other_than(&name) || u.open_origins.has_other_than(&name);
    let origin = if is_open {
        u.open_origins.add(&name)
    } else {
        u.active_origins.add(&name)
    };
    if others {
        match &mut u.cluster {
            Some((acc, origins)) => {
                // Every session since the cluster started overlapped another origin
                // (or the cluster would have ended): they are members already.
                acc.add(s.id, s.start, end);
                if origins.len() < MAX_NAMED && !origins.contains(&*origin) {
                    origins.insert(origin.to_string());
                }
            }
            None => {
                let mut members: Vec<&Interval> = u
                    .active
                    .iter()
                    .map(|Reverse(i)| i)
                    .chain(&u.open)
                    .filter(|i| i.origin != origin)
                    .collect();
                members.sort_by(|a, b| a.start.cmp(&b.start).then(a.id.get().cmp(&b.id.get())));
                let mut origins = HashSet::default();
                let mut acc: Option<Acc> = None;
                for i in members {
                    match &mut acc {
                        Some(a) => a.add(i.id, i.start, i.end),
                        None => {
                            acc = Some(Acc {
                                ids: vec![i.id],
                                count: 1,
                                first: i.start,
                                last: i.end,
                            })
                        }
                    }
                    if origins.len() < MAX_NAMED {
                        origins.insert(i.origin.to_string());
                    }
                }
                if let Some(mut acc) = acc {
                    acc.add(s.id, s.start, end);
                    origins.insert(origin.to_string());
                    u.cluster = Some((acc, origins));
                }
            }
        }
    } else if let Some(c) = u.cluster.take() {
        emit(&cluster_finding(&s.user, c, sev));
    }
    let interval = Interval {
        end,
        start: s.start,
        id: s.id,
        origin,
    };
    if is_open {
        u.open.push(interval);
    } else {
        u.active.push(Reverse(interval));
    }
}

/// `device-sweep`, for sessions in start order: the user's starts of the last window;
/// while they reach the threshold of distinct devices, the first session to each
/// device joins the sweep.
fn sweep_add(
    u: &mut UserAgg,
    s: &RemoteSession,
    window_secs: u64,
    min_devices: usize,
    sev: Severity,
    emit: &mut dyn FnMut(&Finding),
) {
    let window = TimeDelta::seconds(i64::try_from(window_secs).unwrap_or(i64::MAX / 1000));
    while let Some((start, ..)) = u.window.front() {
        if s.start.signed_duration_since(*start) < window {
            break;
        }
        if let Some((_, _, _, device)) = u.window.pop_front() {
            u.window_devices.remove(&device);
        }
    }
    let device = u.window_devices.add(&lower(&s.device));
    u.window
        .push_back((s.start, s.id, session_last(s), device.clone()));
    if u.window_devices.distinct() >= min_devices.max(1) {
        match &mut u.sweep {
            Some((acc, devices)) => {
                // Past the listed maximum, devices are no longer told apart.
                if devices.len() < MAX_FINDING_SESSIONS && !devices.contains(&*device) {
                    acc.add_session(s);
                    devices.insert(device.to_string());
                }
            }
            None => {
                let mut acc: Option<Acc> = None;
                let mut devices = HashSet::default();
                for (start, id, last, d) in &u.window {
                    if !devices.insert(d.to_string()) {
                        continue;
                    }
                    match &mut acc {
                        Some(a) => a.add(*id, *start, *last),
                        None => {
                            acc = Some(Acc {
                                ids: vec![*id],
                                count: 1,
                                first: *start,
                                last: *last,
                            })
                        }
                    }
                }
                if let Some(acc) = acc {
                    u.sweep = Some((acc, devices));
                }
            }
        }
    } else if let Some(c) = u.sweep.take() {
        emit(&sweep_finding(&s.user, c, window_secs, sev));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segura_model::parse_datetime;

    fn t(s: &str) -> NaiveDateTime {
        parse_datetime(s).unwrap()
    }

    /// `Counts` agrees with a plain map of counts through every step of a long run of
    /// adds and removes that crosses [`FEW`] distinct names both ways, and hands back
    /// each name as it was given (inline or not).
    #[test]
    fn counts_agree_with_a_map_across_the_few_and_many_forms() {
        let mut counts = Counts::default();
        let mut model: BTreeMap<String, u32> = BTreeMap::new();
        let mut held: Vec<String> = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for step in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Grows well past `FEW` distinct names, then shrinks to none, twice.
            let growing = (step / 5_000) % 2 == 0;
            if held.is_empty() || (growing && x % 3 != 0) || (!growing && x % 3 == 0) {
                let name = if x % 5 == 0 {
                    format!("fe80::{:x}:a-name-longer-than-twenty-four-bytes", x % 70)
                } else {
                    format!("10.0.0.{}", x % 70)
                };
                assert_eq!(counts.add(&name).as_str(), name, "step {step}");
                *model.entry(name.clone()).or_default() += 1;
                held.push(name);
            } else {
                let name = held.swap_remove((x % held.len() as u64) as usize);
                counts.remove(&name);
                let n = model.get_mut(&name).expect("held names are counted");
                *n -= 1;
                if *n == 0 {
                    model.remove(&name);
                }
            }
            counts.remove("a name never added");
            assert_eq!(counts.distinct(), model.len(), "step {step}");
            for probe in [
                "10.0.0.1",
                "10.0.0.2",
                held.first().map_or("", |h| h.as_str()),
            ] {
                let other = model.keys().any(|k| k != probe);
                assert_eq!(counts.has_other_than(probe), other, "step {step}, {probe}");
            }
        }
        assert!(matches!(counts, Counts::Many(_)), "the run reached the map");
    }

    #[test]
    fn business_hours_include_the_start_exclude_the_end_and_may_wrap() {
        let h = BusinessHours::default();
        assert!(h.contains(t("2024-03-11 08:00:00")));
        assert!(h.contains(t("2024-03-11 17:59:59")));
        assert!(!h.contains(t("2024-03-11 18:00:00")));
        assert!(!h.contains(t("2024-03-11 07:59:59")));
        assert!(!h.contains(t("2024-03-16 10:00:00")), "a Saturday");
        let night = BusinessHours {
            days: [true; 7],
            start: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(6, 0, 0).unwrap(),
        };
        assert!(night.contains(t("2024-03-11 23:00:00")));
        assert!(night.contains(t("2024-03-11 05:59:00")));
        assert!(!night.contains(t("2024-03-11 12:00:00")));
    }

    #[test]
    fn names_round_trip_and_unknown_ones_are_listed() {
        for r in RuleId::ALL {
            assert_eq!(r.as_str().parse::<RuleId>(), Ok(r));
        }
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(s));
        }
        let e = "nope".parse::<RuleId>().unwrap_err().to_string();
        assert!(e.contains("no-ticket") && e.contains("new-origin"), "{e}");
        assert!(Severity::Low < Severity::Medium && Severity::Medium < Severity::High);
    }

    #[test]
    fn a_tally_counts_at_or_above_a_severity() {
        let mut s = RemoteSession::default();
        s.start = t("2024-03-16 10:00:00");
        s.user = "a".into();
        let findings = Auditor::new(AuditConfig::default(), t("2024-03-20 00:00:00")).run([&s]);
        let mut tally = Tally::default();
        for f in &findings {
            tally.add(f);
        }
        // Open since Saturday (high), no ticket (medium), off hours (low).
        assert_eq!(tally.total(), 3);
        assert_eq!(tally.at_least(Severity::High), 1);
        assert_eq!(tally.at_least(Severity::Medium), 2);
        assert_eq!(findings[0].rule, RuleId::LongOpen);
        let json = serde_json::to_string(&findings[0]).unwrap();
        assert!(json.starts_with(r#"{"rule":"long-open","severity":"high","subject":"a","sessions":[0],"first":"2024-03-16 10:00:00""#), "{json}");
    }

    #[test]
    fn the_direct_writer_writes_serde_json_s_bytes() {
        let texts = [
            "",
            "alice",
            "ação \"q\" \\ back",
            "ctl \u{1}\u{8}\u{c}\n\r\t\u{1f}\u{7f} end",
            "emoji 🔐 and \u{2028}",
        ];
        let mut out = Vec::new();
        for (k, text) in texts.iter().enumerate() {
            for rule in RuleId::ALL {
                let f = Finding {
                    rule,
                    severity: Severity::ALL[k % 3],
                    subject: (*text).to_owned(),
                    sessions: (0..k as u64)
                        .map(|i| SessionId::new(i * 977 + u64::from(k == 4) * u64::MAX / 2))
                        .collect(),
                    session_count: k as u64,
                    first: t("2024-03-16 10:00:00"),
                    last: t("2024-12-31 23:59:59"),
                    detail: format!("{text} on {text}"),
                };
                out.clear();
                f.write_json(&mut out);
                assert_eq!(
                    String::from_utf8(out.clone()).unwrap(),
                    serde_json::to_string(&f).unwrap()
                );
            }
        }
    }

    #[test]
    fn details_quote_as_debug_does() {
        for v in [
            "plain",
            "",
            "local \"break-glass\"",
            "CORP\\Administrator",
            "\\\"\\",
            "it's",
            "tab\there",
            "new\nline",
            "\u{1b}[31m",
            "caf\u{e9}",
            "\u{200b}zero width",
            "\u{7f}",
            "管理者",
            "contábil \"x\"\u{0}",
            "\u{301}combining first, e\u{301} later",
            "\u{feff}bom \u{10ffff} \u{e000}",
            "\r\n\u{85}\u{2028}",
        ] {
            let mut out = String::new();
            push_debug_str(&mut out, v);
            assert_eq!(out, format!("{v:?}"), "{v:?}");
        }
    }

    #[test]
    fn weekday_names_are_chrono_s() {
        for d in 0..7 {
            let day = t("2024-03-11 10:00:00") + TimeDelta::days(d);
            assert_eq!(weekday_name(day.weekday()), day.weekday().to_string());
        }
    }

    /// An open session lasts until "now": it overlaps a later session from another
    /// origin only when that session starts before "now".
    #[test]
    fn an_open_session_overlaps_what_starts_before_now() {
        let mk = |id: u64, origin: &str, start: &str, end: Option<&str>| {
            let mut s = RemoteSession::default();
            s.id = SessionId::new(id);
            s.user = "u".into();
            s.origin_ip = origin.into();
            s.start = t(start);
            s.end = end.map(t);
            s
        };
        let sessions = [
            mk(1, "10.0.0.1", "2024-03-11 10:00:00", None),
            mk(2, "10.0.0.1", "2024-03-11 10:05:00", None),
            mk(
                3,
                "10.0.0.2",
                "2024-03-11 12:00:00",
                Some("2024-03-11 12:30:00"),
            ),
        ];
        let clusters = |now: &str| -> Vec<Vec<u64>> {
            Auditor::new(AuditConfig::default(), t(now))
                .run(&sessions)
                .into_iter()
                .filter(|f| f.rule == RuleId::ConcurrentOrigins)
                .map(|f| f.sessions.iter().map(|i| i.get()).collect())
                .collect()
        };
        assert_eq!(clusters("2024-03-11 13:00:00"), vec![vec![1, 2, 3]]);
        assert!(clusters("2024-03-11 11:00:00").is_empty());
        assert!(
            clusters("2024-03-11 12:00:00").is_empty(),
            "ends as it starts"
        );
    }

    #[test]
    fn count_only_counts_what_it_no_longer_builds() {
        let sessions: Vec<RemoteSession> = (0..5)
            .map(|i| {
                let mut s = RemoteSession::default();
                s.id = SessionId::new(i);
                s.start = t("2024-03-16 10:00:00");
                s.end = Some(t("2024-03-16 10:10:00"));
                s.user = format!("u{i}");
                s
            })
            .collect();
        let now = t("2024-03-20 00:00:00");
        let all = Auditor::new(AuditConfig::default(), now).run(&sessions);
        let mut a = Auditor::new(AuditConfig::default(), now);
        let mut built = Vec::new();
        for (k, s) in sessions.iter().enumerate() {
            if k == 2 {
                a.count_only(RuleId::NoTicket);
            }
            a.add(s, &mut |f| built.push(f.clone()));
        }
        let counted = a.counted().clone();
        a.finish(&mut |f| built.push(f.clone()));
        let no_ticket = built.iter().filter(|f| f.rule == RuleId::NoTicket).count();
        assert_eq!(no_ticket, 2, "only the first two are built");
        assert_eq!(
            built.iter().filter(|f| f.rule == RuleId::OffHours).count(),
            5
        );
        assert_eq!(counted.rule(RuleId::NoTicket), 3);
        assert_eq!(counted.total(), 3);
        let mut tally = counted;
        for f in &built {
            tally.add(f);
        }
        let mut exact = Tally::default();
        for f in &all {
            exact.add(f);
        }
        assert_eq!(tally, exact);
    }
}
