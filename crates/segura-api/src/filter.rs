//! Client-side filters: the list endpoint has no server-side filtering, so everything a
//! user narrows down is done here, on the stream, one session at a time.

use chrono::NaiveDateTime;
use segura_model::{RemoteSession, SessionDuration};

/// Which sessions to keep. Every criterion that is set must hold; within a list of
/// values (several users, say), any one may match.
///
/// Text matches are exact and case-insensitive; `search` is a case-insensitive substring
/// of any text field. `since`/`until` bound the session start (inclusive). Duration
/// bounds apply to the recorded `time`, so sessions without one (open sessions) never
/// pass them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionFilter {
    /// Keep sessions of these users.
    pub users: Vec<String>,
    /// Keep sessions with these credentials.
    pub credentials: Vec<String>,
    /// Keep sessions on these devices.
    pub devices: Vec<String>,
    /// Keep sessions from these addresses.
    pub origin_ips: Vec<String>,
    /// Keep sessions with these protocols.
    pub protocols: Vec<String>,
    /// Keep sessions through these proxies.
    pub proxies: Vec<String>,
    /// Keep sessions where any text field contains this.
    pub search: Option<String>,
    /// Keep sessions that started at or after this.
    pub since: Option<NaiveDateTime>,
    /// Keep sessions that started at or before this.
    pub until: Option<NaiveDateTime>,
    /// Keep only open sessions (no end yet).
    pub active: bool,
    /// Keep sessions whose recorded duration is at least this.
    pub min_duration: Option<SessionDuration>,
    /// Keep sessions whose recorded duration is at most this.
    pub max_duration: Option<SessionDuration>,
}

fn eq_ci(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
        || (!a.is_ascii() || !b.is_ascii()) && a.to_lowercase() == b.to_lowercase()
}

fn any_eq(wanted: &[String], value: &str) -> bool {
    wanted.is_empty() || wanted.iter().any(|w| eq_ci(w, value))
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
        if self.active && s.end.is_some() {
            return false;
        }
        if self.since.is_some_and(|t| s.start < t) || self.until.is_some_and(|t| s.start > t) {
            return false;
        }
        if self.min_duration.is_some() || self.max_duration.is_some() {
            let Some(d) = s.time else { return false };
            if self.min_duration.is_some_and(|m| d < m) || self.max_duration.is_some_and(|m| d > m)
            {
                return false;
            }
        }
        if !(any_eq(&self.users, &s.user)
            && any_eq(&self.credentials, &s.credential)
            && any_eq(&self.devices, &s.device)
            && any_eq(&self.origin_ips, &s.origin_ip)
            && any_eq(&self.protocols, s.protocol.as_str())
            && any_eq(&self.proxies, s.proxy.as_str()))
        {
            return false;
        }
        match &self.search {
            None => true,
            Some(needle) => {
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
        }
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
}
