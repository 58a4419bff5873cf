//! The appliance's time zone: the API sends `start` and `end` as the appliance's local
//! time without an offset, so every comparison with "now" or with an instant given with
//! an offset goes through an [`ApplianceZone`].
//!
//! The IANA database is compiled in (`chrono-tz`), so named zones work on minimal
//! systems without `/usr/share/zoneinfo`. A local time that does not exist (a
//! daylight-saving gap) is read with the offset in force before the gap, so it lands as
//! far after the transition as it was after the gap's start (`02:30` in a gap from
//! `02:00` to `03:00` is `03:30`); a local time that exists twice (an overlap) is the
//! earlier of the two instants. These are the rules of RFC 5545 and of JavaScript's
//! Temporal ("compatible").

use std::fmt;

use chrono::{DateTime, FixedOffset, Local, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};

/// Where the appliance's clock is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApplianceZone {
    /// The zone of the machine `segura` runs on (the `TZ` variable, or the system's).
    #[default]
    Local,
    /// A fixed offset from UTC, such as `-03:00` (`UTC` is `+00:00`).
    Fixed(FixedOffset),
    /// An IANA zone such as `America/Sao_Paulo`.
    Named(chrono_tz::Tz),
}

/// A zone name that is neither `local`, a fixed offset nor an IANA zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown time zone {0:?}: expected an IANA name such as America/Sao_Paulo, UTC, \
     a fixed offset such as -03:00, or local"
)]
pub struct UnknownZone(pub String);

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None if rest.len() <= 2 => (rest, "0"),
        None => return None,
    };
    if h.is_empty()
        || !h.bytes().all(|b| b.is_ascii_digit())
        || !m.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 23 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

impl std::str::FromStr for ApplianceZone {
    type Err = UnknownZone;

    /// `local`; `UTC` or `Z`; a fixed offset `-03:00`, `+0530`, `-3`; an IANA name
    /// (exact, or case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("local") {
            return Ok(ApplianceZone::Local);
        }
        if t.eq_ignore_ascii_case("utc") || t == "Z" || t.eq_ignore_ascii_case("gmt") {
            return Ok(ApplianceZone::Fixed(
                FixedOffset::east_opt(0).unwrap_or(Utc.fix()),
            ));
        }
        if let Some(off) = parse_offset(t) {
            return Ok(ApplianceZone::Fixed(off));
        }
        t.parse::<chrono_tz::Tz>()
            .or_else(|_| {
                chrono_tz::TZ_VARIANTS
                    .iter()
                    .find(|z| z.name().eq_ignore_ascii_case(t))
                    .copied()
                    .ok_or(())
            })
            .map(ApplianceZone::Named)
            .map_err(|_| UnknownZone(s.to_owned()))
    }
}

impl fmt::Display for ApplianceZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplianceZone::Local => f.write_str("local"),
            ApplianceZone::Fixed(o) if o.local_minus_utc() == 0 => f.write_str("UTC"),
            ApplianceZone::Fixed(o) => write!(f, "{o}"),
            ApplianceZone::Named(tz) => f.write_str(tz.name()),
        }
    }
}

/// Picks one instant of a local time: the earlier of two in an overlap; in a gap, the
/// local time read with the offset before the gap.
fn pick<Tz: TimeZone>(tz: &Tz, naive: NaiveDateTime) -> DateTime<FixedOffset> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.fixed_offset(),
        LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.fixed_offset(), b.fixed_offset());
            if a <= b {
                a
            } else {
                b
            }
        }
        LocalResult::None => {
            // A gap lasts hours at most: the offset a day before is the one before it.
            let before = naive - chrono::Duration::days(1);
            let off = match tz.from_local_datetime(&before) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.offset().fix(),
                LocalResult::None => Utc.fix(),
            };
            let utc = naive - chrono::Duration::seconds(i64::from(off.local_minus_utc()));
            Utc.from_utc_datetime(&utc).with_timezone(tz).fixed_offset()
        }
    }
}

impl ApplianceZone {
    /// `UTC`.
    pub fn utc() -> Self {
        ApplianceZone::Fixed(Utc.fix())
    }

    /// The current instant, with the zone's offset.
    pub fn now(&self) -> DateTime<FixedOffset> {
        self.at(Utc::now())
    }

    /// The current time on the appliance's clock, as the API writes it.
    pub fn now_naive(&self) -> NaiveDateTime {
        self.now().naive_local()
    }

    /// An instant, with the zone's offset at that instant.
    pub fn at(&self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        match self {
            ApplianceZone::Local => t.with_timezone(&Local).fixed_offset(),
            ApplianceZone::Fixed(o) => t.with_timezone(o),
            ApplianceZone::Named(tz) => t.with_timezone(tz).fixed_offset(),
        }
    }

    /// The appliance's clock reading at an instant: what the API would write for it.
    pub fn naive_of(&self, t: DateTime<Utc>) -> NaiveDateTime {
        self.at(t).naive_local()
    }

    /// The instant of a time the API wrote (a session's `start` or `end`). A time in a
    /// daylight-saving gap, or in an overlap, is resolved as the module says.
    pub fn instant_of(&self, naive: NaiveDateTime) -> DateTime<FixedOffset> {
        match self {
            ApplianceZone::Local => pick(&Local, naive),
            ApplianceZone::Fixed(o) => pick(o, naive),
            ApplianceZone::Named(tz) => pick(tz, naive),
        }
    }

    /// Whether this is the machine's own zone (assumed when none is configured).
    pub fn is_local(&self) -> bool {
        matches!(self, ApplianceZone::Local)
    }
}

/// Formats an instant as RFC 3339 with seconds and its offset: `2024-05-06T16:05:07-03:00`
/// (`Z` is never used, so the offset is always visible).
pub fn format_rfc3339(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn naive(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn names_offsets_and_local() {
        let z: ApplianceZone = "America/Sao_Paulo".parse().unwrap();
        assert_eq!(z.to_string(), "America/Sao_Paulo");
        assert_eq!("america/sao_paulo".parse::<ApplianceZone>().unwrap(), z);
        assert_eq!("UTC".parse::<ApplianceZone>().unwrap().to_string(), "UTC");
        assert_eq!(
            "-03:00".parse::<ApplianceZone>().unwrap().to_string(),
            "-03:00"
        );
        assert_eq!(
            "+0530".parse::<ApplianceZone>().unwrap().to_string(),
            "+05:30"
        );
        assert_eq!(
            "local".parse::<ApplianceZone>().unwrap(),
            ApplianceZone::Local
        );
        for bad in ["Mars/Olympus", "", "+25:00", "3"] {
            assert!(bad.parse::<ApplianceZone>().is_err(), "{bad}");
        }
    }

    #[test]
    fn instants_of_appliance_times() {
        let z: ApplianceZone = "America/Sao_Paulo".parse().unwrap();
        let t = z.instant_of(naive("2024-05-06 16:05:07"));
        assert_eq!(format_rfc3339(&t), "2024-05-06T16:05:07-03:00");
        assert_eq!(
            z.naive_of(t.with_timezone(&Utc)),
            naive("2024-05-06 16:05:07")
        );
        let utc = ApplianceZone::utc();
        assert_eq!(
            format_rfc3339(&utc.instant_of(naive("2024-05-06 16:05:07"))),
            "2024-05-06T16:05:07+00:00"
        );
    }

    #[test]
    fn daylight_saving_gap_and_overlap() {
        let ny: ApplianceZone = "America/New_York".parse().unwrap();
        // 2024-03-10 02:00 EST jumps to 03:00 EDT: 02:30 does not exist.
        let gap = ny.instant_of(naive("2024-03-10 02:30:00"));
        assert_eq!(format_rfc3339(&gap), "2024-03-10T03:30:00-04:00");
        // 2024-11-03 02:00 EDT falls back to 01:00 EST: 01:30 exists twice.
        let overlap = ny.instant_of(naive("2024-11-03 01:30:00"));
        assert_eq!(format_rfc3339(&overlap), "2024-11-03T01:30:00-04:00");
        // Sao Paulo had DST until 2019: 2018-11-04 00:00 jumped to 01:00.
        let sp: ApplianceZone = "America/Sao_Paulo".parse().unwrap();
        let gap = sp.instant_of(
            NaiveDate::from_ymd_opt(2018, 11, 4)
                .unwrap()
                .and_hms_opt(0, 15, 0)
                .unwrap(),
        );
        assert_eq!(format_rfc3339(&gap), "2018-11-04T01:15:00-02:00");
        // Instants an hour apart in the overlap read as the same clock time.
        let a = overlap.with_timezone(&Utc);
        let b = a + chrono::Duration::hours(1);
        assert_eq!(ny.naive_of(a), ny.naive_of(b));
    }
}
