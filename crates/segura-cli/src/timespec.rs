//! The text forms of durations and time bounds that flags and profiles accept: `90m`,
//! `1h30m`, `7d`, `HH:MM:SS`; times ([`TIME_FORMS`]) and windows `FROM..TO`, resolved
//! against the appliance's zone ([`ApplianceZone`]) once it is known.
//!
//! This grammar is the command line's: the library takes typed values
//! ([`segura_api::SessionFilter`] takes date-times, the client takes `Duration`s).

use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use segura_api::ApplianceZone;
use segura_model::{parse_datetime, SessionDuration};

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

/// The forms a time accepts, for error messages and help.
pub const TIME_FORMS: &str = "now, today, yesterday, an age (90m, 24h, 2w, \"5m ago\"), \
YYYY-MM-DD, \"YYYY-MM-DD HH:MM[:SS]\" (the appliance's clock), RFC 3339 with an offset \
(2024-05-06T19:00:00Z), or Unix seconds (@1714000000)";

/// A time as typed, before the appliance's zone and "now" are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// `now`.
    Now,
    /// `today` (its first or last second).
    Today,
    /// `yesterday` (its first or last second).
    Yesterday,
    /// That long before now: `90m`, `2h ago`.
    Ago(Duration),
    /// A date: its first or last second.
    Date(NaiveDate),
    /// A reading of the appliance's clock.
    Clock(NaiveDateTime),
    /// An instant: RFC 3339 with an offset, or `@` Unix seconds.
    Instant(DateTime<Utc>),
}

/// Parses a time: see [`TIME_FORMS`].
pub fn parse_time_spec(s: &str) -> Result<TimeSpec, String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    match lower.as_str() {
        "now" => return Ok(TimeSpec::Now),
        "today" => return Ok(TimeSpec::Today),
        "yesterday" => return Ok(TimeSpec::Yesterday),
        _ => {}
    }
    if let Some(secs) = t.strip_prefix('@') {
        if let Some(dt) = secs
            .parse::<i64>()
            .ok()
            .and_then(|n| DateTime::<Utc>::from_timestamp(n, 0))
        {
            return Ok(TimeSpec::Instant(dt));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(TimeSpec::Date(d));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(TimeSpec::Instant(dt.with_timezone(&Utc)));
    }
    if let Ok(dt) = DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%:z") {
        return Ok(TimeSpec::Instant(dt.with_timezone(&Utc)));
    }
    if let Ok(dt) = parse_datetime(t) {
        return Ok(TimeSpec::Clock(dt));
    }
    for fmt in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(TimeSpec::Clock(dt));
        }
    }
    let age = lower.strip_suffix("ago").map_or(t, str::trim_end);
    if let Ok(d) = parse_human_duration(age) {
        return Ok(TimeSpec::Ago(d));
    }
    Err(format!("invalid time {s:?}: expected {TIME_FORMS}"))
}

impl TimeSpec {
    /// The appliance clock reading this stands for, `now` being `now` and the clock
    /// being in `zone`.
    pub fn resolve(
        &self,
        zone: &ApplianceZone,
        now: DateTime<Utc>,
        kind: BoundKind,
    ) -> Result<NaiveDateTime, String> {
        let day = |d: NaiveDate| {
            let (h, m, sec) = match kind {
                BoundKind::Lower => (0, 0, 0),
                BoundKind::Upper => (23, 59, 59),
            };
            d.and_hms_opt(h, m, sec)
                .ok_or_else(|| format!("invalid date {d}"))
        };
        let today = zone.naive_of(now).date();
        match *self {
            TimeSpec::Now => Ok(zone.naive_of(now)),
            TimeSpec::Today => day(today),
            TimeSpec::Yesterday => day(today.pred_opt().ok_or("date out of range")?),
            TimeSpec::Ago(age) => {
                let age = chrono::Duration::from_std(age).map_err(|e| e.to_string())?;
                now.checked_sub_signed(age)
                    .map(|t| zone.naive_of(t))
                    .ok_or_else(|| "time out of range".to_owned())
            }
            TimeSpec::Date(d) => day(d),
            TimeSpec::Clock(dt) => Ok(dt),
            TimeSpec::Instant(t) => Ok(zone.naive_of(t)),
        }
    }
}

/// A window `FROM..TO` (either side may be empty: open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    /// The first moment.
    pub from: Option<TimeSpec>,
    /// The last moment.
    pub to: Option<TimeSpec>,
}

/// Parses `FROM..TO`.
pub fn parse_window(s: &str) -> Result<WindowSpec, String> {
    let Some((from, to)) = s.split_once("..") else {
        return Err(format!(
            "invalid window {s:?}: expected FROM..TO, e.g. \"2024-05-06 02:00..2024-05-06 03:00\" \
             or 2h..1h, each side one of: {TIME_FORMS}"
        ));
    };
    let side = |t: &str| {
        let t = t.trim();
        if t.is_empty() {
            Ok(None)
        } else {
            parse_time_spec(t).map(Some)
        }
    };
    Ok(WindowSpec {
        from: side(from)?,
        to: side(to)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(parse_human_duration("2w").unwrap().as_secs(), 14 * 86400);
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn at(spec: &str, zone: &str, now: &str, kind: BoundKind) -> String {
        let zone: ApplianceZone = zone.parse().unwrap();
        parse_time_spec(spec)
            .unwrap()
            .resolve(&zone, utc(now), kind)
            .unwrap()
            .to_string()
    }

    #[test]
    fn times_resolve_in_the_appliance_zone() {
        let now = "2024-05-07T02:00:00Z"; // 2024-05-06 23:00 in Sao Paulo
        let sp = "America/Sao_Paulo";
        let lo = BoundKind::Lower;
        assert_eq!(at("now", sp, now, lo), "2024-05-06 23:00:00");
        assert_eq!(at("1h", sp, now, lo), "2024-05-06 22:00:00");
        assert_eq!(at("5m ago", sp, now, lo), "2024-05-06 22:55:00");
        assert_eq!(at("2h AGO", "UTC", now, lo), "2024-05-07 00:00:00");
        assert_eq!(at("1w", "UTC", now, lo), "2024-04-30 02:00:00");
        assert_eq!(at("today", sp, now, lo), "2024-05-06 00:00:00");
        assert_eq!(
            at("today", "UTC", now, BoundKind::Upper),
            "2024-05-07 23:59:59"
        );
        assert_eq!(at("yesterday", sp, now, lo), "2024-05-05 00:00:00");
        assert_eq!(
            at("2024-05-06", sp, now, BoundKind::Upper),
            "2024-05-06 23:59:59"
        );
        assert_eq!(at("2024-05-06 02:00", sp, now, lo), "2024-05-06 02:00:00");
        assert_eq!(
            at("2024-05-06T02:00:09", sp, now, lo),
            "2024-05-06 02:00:09"
        );
        assert_eq!(
            at("2024-05-06T19:00:00Z", sp, now, lo),
            "2024-05-06 16:00:00"
        );
        assert_eq!(
            at("2024-05-06T19:00:00+02:00", "UTC", now, lo),
            "2024-05-06 17:00:00"
        );
        assert_eq!(at("@1714000000", "UTC", now, lo), "2024-04-24 23:06:40");
        assert_eq!(at("@1714000000", sp, now, lo), "2024-04-24 20:06:40");
        for bad in ["tomorrow", "10", "@x", "2024-13-01", "5 parsecs ago"] {
            let e = parse_time_spec(bad).unwrap_err();
            assert!(e.contains("@1714000000") && e.contains("yesterday"), "{e}");
        }
    }

    #[test]
    fn windows_have_two_optional_sides() {
        let w = parse_window("2024-05-06 02:00..2024-05-06 03:00").unwrap();
        assert!(
            matches!(w.from, Some(TimeSpec::Clock(_))) && matches!(w.to, Some(TimeSpec::Clock(_)))
        );
        let w = parse_window("2h..").unwrap();
        assert!(w.from.is_some() && w.to.is_none());
        assert!(parse_window("2h").is_err());
        assert!(parse_window("x..y").is_err());
    }
}
