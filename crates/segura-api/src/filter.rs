//! Client-side filters: the list endpoint has no server-side filtering, so everything a
//! user narrows down is done here, on the stream, one session at a time.
//!
//! The library takes typed values (patterns, appliance times, a compiled expression);
//! the text grammar of the command line lives in the CLI.

use std::net::IpAddr;

use chrono::NaiveDateTime;
use ipnet::IpNet;
use segura_model::{RemoteSession, SessionDuration};
use wildmatch::WildMatch;

use crate::expr::Expression;

/// One value of a field filter: exact text, a glob pattern (`*` any run of characters,
/// `?` one character), or a CIDR block (`10.66.0.0/16`) that matches addresses in it.
/// Text and globs are case-insensitive.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    kind: PatternKind,
}

#[derive(Debug, Clone)]
enum PatternKind {
    Exact,
    Glob(Box<WildMatch>),
    Cidr(IpNet),
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Pattern {}

impl Pattern {
    /// A pattern from its text: a CIDR block if it is one, a glob if it has `*` or
    /// `?`, exact text otherwise.
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let kind = if let Ok(net) = text.trim().parse::<IpNet>() {
            PatternKind::Cidr(net)
        } else if text.contains(['*', '?']) {
            PatternKind::Glob(Box::new(WildMatch::new_case_insensitive(&text)))
        } else {
            PatternKind::Exact
        };
        Self { text, kind }
    }

    /// The text it was made from.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match &self.kind {
            PatternKind::Exact => eq_ci(&self.text, value),
            PatternKind::Glob(g) => g.matches(value),
            PatternKind::Cidr(net) => {
                let v = value.trim();
                let v = v
                    .strip_prefix('[')
                    .and_then(|v| v.strip_suffix(']'))
                    .unwrap_or(v);
                v.parse::<IpAddr>().is_ok_and(|ip| net.contains(&ip)) || eq_ci(&self.text, value)
            }
        }
    }
}

impl From<&str> for Pattern {
    fn from(s: &str) -> Self {
        Pattern::new(s)
    }
}

impl From<String> for Pattern {
    fn from(s: String) -> Self {
        Pattern::new(s)
    }
}

/// Splits a device into host and port: `dc01:3389` is (`dc01`, 3389), `dc01` has no
/// port, `[2001:db8::1]:22` is (`2001:db8::1`, 22), and a bare IPv6 address is all host.
pub fn split_device(device: &str) -> (&str, Option<u16>) {
    let d = device.trim();
    if let Some(rest) = d.strip_prefix('[') {
        if let Some((host, after)) = rest.split_once(']') {
            let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
            return (host, port);
        }
    }
    match d.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(p) => (host, Some(p)),
            Err(_) => (d, None),
        },
        _ => (d, None),
    }
}

/// A closed interval of appliance times, `from` to `to` inclusive; either end may be
/// open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeWindow {
    /// The first moment in the window.
    pub from: Option<NaiveDateTime>,
    /// The last moment in the window.
    pub to: Option<NaiveDateTime>,
}

impl TimeWindow {
    /// Whether a session that started at `start` and ended at `end` (`None`: still open)
    /// was open at some moment of the window.
    pub fn overlaps(&self, start: NaiveDateTime, end: Option<NaiveDateTime>) -> bool {
        self.to.is_none_or(|to| start <= to)
            && self.from.is_none_or(|from| end.is_none_or(|e| e >= from))
    }
}

/// Which sessions to keep. Every criterion that is set must hold; within a list of
/// values (several users, say), any one may match, and a session matching any negated
/// value (`not_users`, ...) is left out.
///
/// Text values are [`Pattern`]s: exact and case-insensitive, or globs, or (useful for
/// `origin_ips` and `hosts`) CIDR blocks. `hosts` match the host part of the device,
/// whatever the port. `search` is a case-insensitive substring of any text field.
/// `since`/`until` bound the session start and `ended_since`/`ended_until` its end
/// (inclusive; open sessions never pass end bounds). `active_at` keeps sessions open at
/// that moment, `during` those open at any moment of the window. All times are the
/// appliance's clock readings, as the API writes them (see [`crate::ApplianceZone`] to
/// turn an instant into one). Duration bounds apply to the recorded `time`, so
/// sessions without one (open sessions) never pass them. `expression` is a compiled
/// CEL [`Expression`], evaluated last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionFilter {
    /// Keep sessions of these users.
    pub users: Vec<Pattern>,
    /// Keep sessions with these credentials.
    pub credentials: Vec<Pattern>,
    /// Keep sessions on these devices.
    pub devices: Vec<Pattern>,
    /// Keep sessions on these hosts (the device without its port).
    pub hosts: Vec<Pattern>,
    /// Keep sessions from these addresses.
    pub origin_ips: Vec<Pattern>,
    /// Keep sessions with these protocols.
    pub protocols: Vec<Pattern>,
    /// Keep sessions through these proxies.
    pub proxies: Vec<Pattern>,
    /// Leave out sessions of these users.
    pub not_users: Vec<Pattern>,
    /// Leave out sessions with these credentials.
    pub not_credentials: Vec<Pattern>,
    /// Leave out sessions on these devices.
    pub not_devices: Vec<Pattern>,
    /// Leave out sessions on these hosts.
    pub not_hosts: Vec<Pattern>,
    /// Leave out sessions from these addresses.
    pub not_origin_ips: Vec<Pattern>,
    /// Leave out sessions with these protocols.
    pub not_protocols: Vec<Pattern>,
    /// Leave out sessions through these proxies.
    pub not_proxies: Vec<Pattern>,
    /// Keep sessions where any text field contains this.
    pub search: Option<String>,
    /// Leave out sessions where any text field contains this.
    pub not_search: Option<String>,
    /// Keep sessions that started at or after this.
    pub since: Option<NaiveDateTime>,
    /// Keep sessions that started at or before this.
    pub until: Option<NaiveDateTime>,
    /// Keep sessions that ended at or after this.
    pub ended_since: Option<NaiveDateTime>,
    /// Keep sessions that ended at or before this.
    pub ended_until: Option<NaiveDateTime>,
    /// Keep sessions open at this moment (start ≤ T, and no end or end ≥ T).
    pub active_at: Option<NaiveDateTime>,
    /// Keep sessions open at some moment of this window.
    pub during: Option<TimeWindow>,
    /// Keep only open sessions (no end yet).
    pub active: bool,
    /// Keep only ended sessions.
    pub not_active: bool,
    /// Keep sessions whose recorded duration is at least this.
    pub min_duration: Option<SessionDuration>,
    /// Keep sessions whose recorded duration is at most this.
    pub max_duration: Option<SessionDuration>,
    /// Keep sessions for which this expression is true.
    pub expression: Option<Expression>,
}

fn eq_ci(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
        || (!a.is_ascii() || !b.is_ascii()) && a.to_lowercase() == b.to_lowercase()
}

fn any_match(wanted: &[Pattern], value: &str) -> bool {
    wanted.is_empty() || wanted.iter().any(|w| w.matches(value))
}

fn none_match(unwanted: &[Pattern], value: &str) -> bool {
    !unwanted.iter().any(|w| w.matches(value))
}

fn contains_ci(haystack: &str, needle_lower: &str) -> bool {
    if needle_lower.is_ascii() {
        let n = needle_lower.as_bytes();
        if n.is_empty() {
            return true;
        }
        haystack
            .as_bytes()
            .windows(n.len())
            .any(|w| w.eq_ignore_ascii_case(n))
    } else {
        haystack.to_lowercase().contains(needle_lower)
    }
}

fn search_hit(s: &RemoteSession, needle: &str) -> bool {
    let needle = needle.to_lowercase();
    let id = s.id.to_string();
    [
        s.user.as_str(),
        &s.origin_ip,
        &s.credential,
        &s.device,
        s.protocol.as_str(),
        s.proxy.as_str(),
        s.session_id.as_str(),
        s.request.as_deref().unwrap_or(""),
        s.itsm.as_deref().unwrap_or(""),
        &id,
    ]
    .iter()
    .any(|h| contains_ci(h, &needle))
}

impl SessionFilter {
    /// A filter that keeps everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no criterion is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether `s` passes every criterion.
    pub fn matches(&self, s: &RemoteSession) -> bool {
        if (self.active && s.end.is_some()) || (self.not_active && s.end.is_none()) {
            return false;
        }
        if self.since.is_some_and(|t| s.start < t) || self.until.is_some_and(|t| s.start > t) {
            return false;
        }
        if self.ended_since.is_some() || self.ended_until.is_some() {
            let Some(end) = s.end else { return false };
            if self.ended_since.is_some_and(|t| end < t)
                || self.ended_until.is_some_and(|t| end > t)
            {
                return false;
            }
        }
        if let Some(t) = self.active_at {
            if !(TimeWindow {
                from: Some(t),
                to: Some(t),
            })
            .overlaps(s.start, s.end)
            {
                return false;
            }
        }
        if self.during.is_some_and(|w| !w.overlaps(s.start, s.end)) {
            return false;
        }
        if self.min_duration.is_some() || self.max_duration.is_some() {
            let Some(d) = s.time else { return false };
            if self.min_duration.is_some_and(|m| d < m) || self.max_duration.is_some_and(|m| d > m)
            {
                return false;
            }
        }
        if !(any_match(&self.users, &s.user)
            && any_match(&self.credentials, &s.credential)
            && any_match(&self.devices, &s.device)
            && any_match(&self.origin_ips, &s.origin_ip)
            && any_match(&self.protocols, s.protocol.as_str())
            && any_match(&self.proxies, s.proxy.as_str())
            && none_match(&self.not_users, &s.user)
            && none_match(&self.not_credentials, &s.credential)
            && none_match(&self.not_devices, &s.device)
            && none_match(&self.not_origin_ips, &s.origin_ip)
            && none_match(&self.not_protocols, s.protocol.as_str())
            && none_match(&self.not_proxies, s.proxy.as_str()))
        {
            return false;
        }
        if !self.hosts.is_empty() || !self.not_hosts.is_empty() {
            let host = split_device(&s.device).0;
            if !(any_match(&self.hosts, host) && none_match(&self.not_hosts, host)) {
                return false;
            }
        }
        if self.search.as_deref().is_some_and(|n| !search_hit(s, n))
            || self.not_search.as_deref().is_some_and(|n| search_hit(s, n))
        {
            return false;
        }
        self.expression.as_ref().is_none_or(|e| e.matches(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segura_model::parse_datetime;

    fn session(user: &str, start: &str, time: Option<u64>) -> RemoteSession {
        let mut s = RemoteSession::new(
            segura_model::SessionId::new(7),
            segura_model::SessionHash::from_wire("e7acacb6aedbab70073456da5744166939b77527"),
            parse_datetime(start).unwrap(),
        );
        s.user = user.to_owned();
        s.protocol = "rdp".into();
        s.proxy = "Web Proxy".into();
        s.time = time.map(SessionDuration::from_secs);
        s.end = time.map(|t| s.start + chrono::Duration::seconds(t as i64));
        s
    }

    #[test]
    fn text_filters_are_exact_and_case_insensitive() {
        let s = session("José", "2024-05-06 16:05:07", Some(10));
        let mut f = SessionFilter::new();
        assert!(f.is_empty() && f.matches(&s));
        f.users = vec!["JOSÉ".into()];
        assert!(f.matches(&s));
        f.users = vec!["jos".into()];
        assert!(!f.matches(&s));
        f.users = vec!["jos".into(), "josé".into()];
        f.proxies = vec!["web proxy".into()];
        f.protocols = vec!["RDP".into()];
        assert!(f.matches(&s));
        f.protocols = vec!["ssh".into()];
        assert!(!f.matches(&s));
    }

    #[test]
    fn search_time_and_duration() {
        let s = session("admin", "2024-05-06 16:05:07", Some(100));
        let open = session("admin", "2024-05-06 16:05:07", None);
        let mut f = SessionFilter::new();
        f.search = Some("B77527".into());
        assert!(f.matches(&s));
        f.search = Some("nothing".into());
        assert!(!f.matches(&s));
        let mut f = SessionFilter::new();
        f.since = Some(parse_datetime("2024-05-06 16:05:07").unwrap());
        f.until = Some(parse_datetime("2024-05-06 23:59:59").unwrap());
        assert!(f.matches(&s));
        f.until = Some(parse_datetime("2024-05-06 16:05:06").unwrap());
        assert!(!f.matches(&s));
        let mut f = SessionFilter::new();
        f.min_duration = Some(SessionDuration::from_secs(100));
        assert!(f.matches(&s) && !f.matches(&open));
        f.max_duration = Some(SessionDuration::from_secs(99));
        assert!(!f.matches(&s));
        let mut f = SessionFilter::new();
        f.active = true;
        assert!(f.matches(&open) && !f.matches(&s));
    }

    #[test]
    fn globs_cidr_hosts_and_negations() {
        let mut s = session("svc_backup", "2024-05-06 16:05:07", Some(10));
        s.device = "dc01.corp.local:3389".into();
        s.origin_ip = "10.66.3.4".into();
        let mut f = SessionFilter::new();
        f.users = vec!["SVC_*".into()];
        f.devices = vec!["dc0?.corp.local:*".into()];
        f.origin_ips = vec!["10.66.0.0/16".into()];
        f.hosts = vec!["DC01.corp.local".into()];
        assert!(f.matches(&s));
        f.not_users = vec!["svc_b*".into()];
        assert!(!f.matches(&s));
        f.not_users.clear();
        f.not_origin_ips = vec!["10.66.3.0/24".into()];
        assert!(!f.matches(&s));
        f.not_origin_ips.clear();
        f.hosts = vec!["10.0.0.0/8".into()];
        assert!(!f.matches(&s), "a name is not in a block");
        s.device = "[2001:db8::7]:22".into();
        f.devices.clear();
        f.hosts = vec!["2001:db8::/32".into()];
        assert!(f.matches(&s));
        f.hosts = vec!["2001:db8::7".into()];
        assert!(f.matches(&s));
        assert_eq!(split_device("dc01"), ("dc01", None));
        assert_eq!(split_device("dc01:3389"), ("dc01", Some(3389)));
        assert_eq!(split_device("2001:db8::1"), ("2001:db8::1", None));
        assert_eq!(split_device("[::1]:22"), ("::1", Some(22)));
    }

    #[test]
    fn windows_on_start_and_end() {
        let t = |x: &str| parse_datetime(x).unwrap();
        // 16:05:07 to 16:06:47
        let s = session("a", "2024-05-06 16:05:07", Some(100));
        let open = session("a", "2024-05-06 16:05:07", None);
        let mut f = SessionFilter::new();
        f.active_at = Some(t("2024-05-06 16:06:00"));
        assert!(f.matches(&s) && f.matches(&open));
        f.active_at = Some(t("2024-05-06 16:07:00"));
        assert!(!f.matches(&s) && f.matches(&open));
        f.active_at = Some(t("2024-05-06 16:00:00"));
        assert!(!f.matches(&s) && !f.matches(&open));
        let mut f = SessionFilter::new();
        f.during = Some(TimeWindow {
            from: Some(t("2024-05-06 16:06:47")),
            to: Some(t("2024-05-06 17:00:00")),
        });
        assert!(f.matches(&s) && f.matches(&open));
        f.during = Some(TimeWindow {
            from: Some(t("2024-05-06 16:06:48")),
            to: Some(t("2024-05-06 17:00:00")),
        });
        assert!(!f.matches(&s) && f.matches(&open));
        f.during = Some(TimeWindow {
            from: Some(t("2024-05-06 15:00:00")),
            to: Some(t("2024-05-06 16:05:06")),
        });
        assert!(!f.matches(&s) && !f.matches(&open));
        let mut f = SessionFilter::new();
        f.ended_since = Some(t("2024-05-06 16:06:47"));
        assert!(f.matches(&s) && !f.matches(&open));
        f.ended_until = Some(t("2024-05-06 16:06:46"));
        assert!(!f.matches(&s));
        let mut f = SessionFilter::new();
        f.not_active = true;
        assert!(f.matches(&s) && !f.matches(&open));
    }
}
