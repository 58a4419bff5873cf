//! The text forms of durations and time bounds that flags and profiles accept: `90m`,
//! `1h30m`, `7d`, `HH:MM:SS`; `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`, RFC 3339, or an age.
//!
//! This grammar is the command line's: the library takes typed values
//! ([`segura_api::SessionFilter`] takes date-times, the client takes `Duration`s).

use std::time::Duration;

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime};
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
