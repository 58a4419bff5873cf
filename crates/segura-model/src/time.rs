//! Date-times and durations in the API's own text formats.
//!
//! The API sends date-times as `YYYY-MM-DD HH:MM:SS` in the appliance's local time, with
//! no offset, and durations as `HH:MM:SS` where the hours may exceed 24. These parsers are
//! on the hot path of the list decoder, so the documented forms are parsed by hand;
//! anything else is rejected with an error that shows the value.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// The canonical date-time format, as a `chrono` format string.
pub const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Why a date-time or a duration could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseTimeError {
    /// Not a date-time in one of the accepted forms.
    #[error("invalid date-time {0:?}: expected YYYY-MM-DD HH:MM:SS")]
    DateTime(String),
    /// Not a duration in the form `HH:MM:SS`.
    #[error("invalid duration {0:?}: expected HH:MM:SS (hours may exceed 24)")]
    Duration(String),
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut n: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    Some(n)
}

fn is_zero_date(s: &str) -> bool {
    s.starts_with("0000-00-00")
}

/// Parses a date-time: `YYYY-MM-DD HH:MM:SS`, also with `T` for the space, an optional
/// fraction of a second (dropped) and an optional trailing `Z`.
///
/// The zero date `0000-00-00 00:00:00` is not a date-time; see
/// [`parse_optional_datetime`] for the fields where it means "none".
pub fn parse_datetime(s: &str) -> Result<NaiveDateTime, ParseTimeError> {
    datetime_from_bytes(s.as_bytes()).ok_or_else(|| ParseTimeError::DateTime(s.to_owned()))
}

/// [`parse_datetime`] on bytes, for the decoder's hot path.
pub(crate) fn datetime_from_bytes(b: &[u8]) -> Option<NaiveDateTime> {
    if b.len() < 19 {
        return None;
    }
    let rest = &b[19..];
    let rest = rest.strip_suffix(b"Z").unwrap_or(rest);
    let rest_ok = match rest {
        [] => true,
        [b'.', frac @ ..] => !frac.is_empty() && frac.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !rest_ok
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b' ' || b[10] == b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = i32::try_from(digits(&b[0..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(&b[5..7])?, digits(&b[8..10])?)?.and_hms_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )
}

/// Parses an optional date-time field: empty text and the zero date
/// `0000-00-00 00:00:00` (which a MySQL-backed server sends for "not yet") mean none.
pub fn parse_optional_datetime(s: &str) -> Result<Option<NaiveDateTime>, ParseTimeError> {
    if s.is_empty() || is_zero_date(s) {
        Ok(None)
    } else {
        parse_datetime(s).map(Some)
    }
}

/// `00` to `99`, two ASCII digits each: a date-time is written two digits at a time.
const PAIRS: &[u8; 200] = b"00010203040506070809\
10111213141516171819\
20212223242526272829\
30313233343536373839\
40414243444546474849\
50515253545556575859\
60616263646566676869\
70717273747576777879\
80818283848586878889\
90919293949596979899";

/// Writes `n % 100` as two digits at `dst[0..2]`.
fn put_pair(dst: &mut [u8], n: u32) {
    let k = (n % 100) as usize * 2;
    dst[..2].copy_from_slice(&PAIRS[k..k + 2]);
}

/// A date-time in the canonical form `YYYY-MM-DD HH:MM:SS`, as ASCII bytes (years
/// outside 0 to 9999 are clamped to them: the wire form has four digits). For a writer
/// of bytes; [`format_datetime`] gives the same as a `&str`.
pub fn datetime_bytes(dt: &NaiveDateTime) -> [u8; 19] {
    let year = u32::try_from(dt.year()).unwrap_or(0).min(9999);
    let secs = dt.num_seconds_from_midnight();
    let mut buf = *b"0000-00-00 00:00:00";
    put_pair(&mut buf[0..2], year / 100);
    put_pair(&mut buf[2..4], year);
    put_pair(&mut buf[5..7], dt.month());
    put_pair(&mut buf[8..10], dt.day());
    put_pair(&mut buf[11..13], secs / 3600);
    put_pair(&mut buf[14..16], secs / 60 % 60);
    put_pair(&mut buf[17..19], secs % 60);
    buf
}

/// Writes a date-time in the canonical form `YYYY-MM-DD HH:MM:SS` into a stack buffer.
pub fn format_datetime<'a>(dt: &NaiveDateTime, buf: &'a mut [u8; 19]) -> &'a str {
    *buf = datetime_bytes(dt);
    // Only ASCII digits and separators were written.
    std::str::from_utf8(buf).unwrap_or("0000-00-00 00:00:00")
}

/// The recorded duration of a session (the wire key `time`), in whole seconds.
///
/// On the wire it is `HH:MM:SS`, where the hours may exceed 24 (`123:04:05`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SessionDuration(u64);

impl SessionDuration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// Whole seconds.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// As a standard library duration.
    pub const fn to_std(self) -> Duration {
        Duration::from_secs(self.0)
    }

    /// Writes the canonical `HH:MM:SS` form (at least two digits of hours).
    pub fn write_canonical(self, out: &mut String) {
        use fmt::Write;
        let (h, m, s) = (self.0 / 3600, (self.0 / 60) % 60, self.0 % 60);
        // Writing into a String cannot fail.
        let _ = write!(out, "{h:02}:{m:02}:{s:02}");
    }
}

impl fmt::Display for SessionDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, s) = (self.0 / 3600, (self.0 / 60) % 60, self.0 % 60);
        write!(f, "{h:02}:{m:02}:{s:02}")
    }
}

impl FromStr for SessionDuration {
    type Err = ParseTimeError;

    /// Parses `H+:MM:SS` (hours of any length, minutes and seconds below 60).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bytes(s.as_bytes()).ok_or_else(|| ParseTimeError::Duration(s.to_owned()))
    }
}

impl SessionDuration {
    /// [`FromStr`] on bytes, for the decoder's hot path.
    pub(crate) fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < 7 || b[b.len() - 3] != b':' || b[b.len() - 6] != b':' {
            return None;
        }
        let hours_part = &b[..b.len() - 6];
        if hours_part.is_empty() || hours_part.len() > 12 {
            return None;
        }
        let mut hours: u64 = 0;
        for &c in hours_part {
            if !c.is_ascii_digit() {
                return None;
            }
            hours = hours * 10 + u64::from(c - b'0');
        }
        let min = digits(&b[b.len() - 5..b.len() - 3])?;
        let sec = digits(&b[b.len() - 2..])?;
        if min >= 60 || sec >= 60 {
            return None;
        }
        Some(Self(hours * 3600 + u64::from(min) * 60 + u64::from(sec)))
    }
}

impl Serialize for SessionDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SessionDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documented_and_tolerated_datetimes() {
        let dt = parse_datetime("2024-05-06 16:05:07").unwrap();
        assert_eq!(dt.to_string(), "2024-05-06 16:05:07");
        assert_eq!(parse_datetime("2024-05-06T16:05:07").unwrap(), dt);
        assert_eq!(parse_datetime("2024-05-06T16:05:07Z").unwrap(), dt);
        assert_eq!(parse_datetime("2024-05-06 16:05:07.123").unwrap(), dt);
        let mut buf = [0u8; 19];
        assert_eq!(format_datetime(&dt, &mut buf), "2024-05-06 16:05:07");
    }

    #[test]
    fn the_canonical_form_is_chrono_s_at_every_field_value() {
        let mut buf = [0u8; 19];
        let start = parse_datetime("1999-12-31 23:59:59").unwrap();
        // Every second of a day and every day of several years, leap ones included.
        for k in 0..(86_400 + 2000) {
            let dt = start + chrono::TimeDelta::seconds(k) + chrono::TimeDelta::days(k % 1500);
            let want = dt.format("%Y-%m-%d %H:%M:%S").to_string();
            assert_eq!(format_datetime(&dt, &mut buf), want);
            assert_eq!(&datetime_bytes(&dt), want.as_bytes());
        }
        for (y, want) in [(1, "0001"), (999, "0999"), (9999, "9999"), (12345, "9999")] {
            let dt = chrono::NaiveDate::from_ymd_opt(y, 2, 3)
                .unwrap()
                .and_hms_opt(4, 5, 6)
                .unwrap();
            assert_eq!(
                format_datetime(&dt, &mut buf),
                format!("{want}-02-03 04:05:06")
            );
        }
    }

    #[test]
    fn rejects_malformed_datetimes() {
        for bad in [
            "",
            "2024-05-06",
            "2024-13-06 16:05:07",
            "2024-02-30 16:05:07",
            "2024-05-06 24:05:07",
            "2024-05-06x16:05:07",
            "2024-05-06 16:05:07+01:00",
            "2024-05-06 16:05:07.",
            "abcd-05-06 16:05:07",
            "0000-00-00 00:00:00",
        ] {
            let e = parse_datetime(bad).unwrap_err();
            assert!(e.to_string().contains("YYYY-MM-DD"), "{bad}: {e}");
        }
    }

    #[test]
    fn zero_date_and_empty_mean_none() {
        assert_eq!(
            parse_optional_datetime("0000-00-00 00:00:00").unwrap(),
            None
        );
        assert_eq!(parse_optional_datetime("").unwrap(), None);
        assert!(parse_optional_datetime("2024-05-06 16:05:07")
            .unwrap()
            .is_some());
    }

    #[test]
    fn durations_allow_hours_over_24() {
        assert_eq!(
            "00:02:52".parse::<SessionDuration>().unwrap().as_secs(),
            172
        );
        let long: SessionDuration = "123:04:05".parse().unwrap();
        assert_eq!(long.as_secs(), 123 * 3600 + 4 * 60 + 5);
        assert_eq!(long.to_string(), "123:04:05");
        assert_eq!(SessionDuration::from_secs(5).to_string(), "00:00:05");
        for bad in [
            "", "1:2:3", "00:60:00", "00:00:60", "aa:00:00", "00-00-00", ":00:00",
        ] {
            assert!(bad.parse::<SessionDuration>().is_err(), "{bad}");
        }
        let mut s = String::new();
        long.write_canonical(&mut s);
        assert_eq!(s, "123:04:05");
    }
}
