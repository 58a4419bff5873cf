//! Client-side filters: the list endpoint has no server-side filtering, so everything a
//! user narrows down is done here, on the stream, one session at a time.

use std::time::Duration;

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime};
use segura_model::{parse_datetime, RemoteSession, SessionDuration};

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

/// Which end of a range a time bound is for: a bare date means its first second as a
/// lower bound and its last second as an upper bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundKind {
    /// `--since`.
    Lower,
    /// `--until`.
    Upper,
}

/// Parses a human duration: `90s`, `30m`, `24h`, `7d`, `2w`, combinations like
/// `1h30m`, or `HH:MM:SS`.
pub fn parse_human_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.contains(':') {
        return t
            .parse::<SessionDuration>()
            .map(SessionDuration::to_std)
            .map_err(|e| e.to_string());
    }
    let err = || format!("invalid duration {s:?}: expected e.g. 30s, 2m, 1h30m, 7d or HH:MM:SS");
    if t.is_empty() {
        return Err(err());
    }
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    for c in t.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(
                num.unwrap_or(0)
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(d)))
                    .ok_or_else(err)?,
            );
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(err()),
        };
        let n = num.take().ok_or_else(err)?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(err)?;
    }
    if num.is_some() {
        // A bare number without unit is ambiguous.
        return Err(err());
    }
    Ok(Duration::from_secs(total))
}

/// Parses a time bound for `--since`/`--until`: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`,
/// RFC 3339 (converted to local time), or a relative age like `90m`, `24h`, `7d`
/// (that long before `now`).
///
/// Sessions carry the appliance's local time without an offset; bounds are compared
/// with it as they are.
pub fn parse_time_bound(
    s: &str,
    now: NaiveDateTime,
    kind: BoundKind,
) -> Result<NaiveDateTime, String> {
    let t = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let (h, m, sec) = match kind {
            BoundKind::Lower => (0, 0, 0),
            BoundKind::Upper => (23, 59, 59),
        };
        return d
            .and_hms_opt(h, m, sec)
            .ok_or_else(|| format!("invalid date {s:?}"));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Local).naive_local());
    }
    if let Ok(dt) = parse_datetime(t) {
        return Ok(dt);
    }
    if let Ok(age) = parse_human_duration(t) {
        let age = chrono::Duration::from_std(age).map_err(|e| e.to_string())?;
        return now
            .checked_sub_signed(age)
            .ok_or_else(|| format!("time {s:?} is out of range"));
    }
    Err(format!(
        "invalid time {s:?}: expected YYYY-MM-DD, YYYY-MM-DD HH:MM:SS, RFC 3339, or an age like 90m, 24h, 7d"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        f.until = Some(
            parse_time_bound("2024-05-06", NaiveDateTime::default(), BoundKind::Upper).unwrap(),
        );
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
    fn human_durations_and_bounds() {
        assert_eq!(parse_human_duration("90m").unwrap().as_secs(), 5400);
        assert_eq!(parse_human_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_human_duration("30s").unwrap().as_secs(), 30);
        assert_eq!(parse_human_duration("7d").unwrap().as_secs(), 7 * 86400);
        assert_eq!(parse_human_duration("25:00:00").unwrap().as_secs(), 90000);
        for bad in ["", "10", "m", "5x", "1h30"] {
            assert!(parse_human_duration(bad).is_err(), "{bad}");
        }
        let now = parse_datetime("2024-05-07 12:00:00").unwrap();
        assert_eq!(
            parse_time_bound("24h", now, BoundKind::Lower).unwrap(),
            parse_datetime("2024-05-06 12:00:00").unwrap()
        );
        assert_eq!(
            parse_time_bound("2024-05-06", now, BoundKind::Lower).unwrap(),
            parse_datetime("2024-05-06 00:00:00").unwrap()
        );
        assert_eq!(
            parse_time_bound("2024-05-06T10:00:00", now, BoundKind::Lower).unwrap(),
            parse_datetime("2024-05-06 10:00:00").unwrap()
        );
        assert!(parse_time_bound("2024-05-06T10:00:00+00:00", now, BoundKind::Lower).is_ok());
        assert!(parse_time_bound("yesterday", now, BoundKind::Lower).is_err());
    }
}
