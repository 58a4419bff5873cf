//! "Now", in one place: how long an open session has been open and when `watch`
//! observed an event are computed from [`now`], which reads the clock in the
//! appliance's time zone (the local zone until the appliance's zone is configurable).

use chrono::{DateTime, FixedOffset, Local, NaiveDateTime};

/// The present moment, as the appliance writes its times and as an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// The appliance's wall-clock time (its sessions' `start` and `end` are in it).
    pub naive: NaiveDateTime,
    /// The same moment with its UTC offset, for RFC 3339 timestamps.
    pub at: DateTime<FixedOffset>,
}

/// The present moment in the appliance's time zone.
pub fn now() -> Now {
    let at = Local::now().fixed_offset();
    Now {
        naive: at.naive_local(),
        at,
    }
}

/// An RFC 3339 timestamp with its offset, to the second: `2024-05-06T16:05:07+02:00`.
pub fn rfc3339(at: &DateTime<FixedOffset>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}
