//! "Now", in one place: how long an open session has been open, when `watch`
//! observed an event and the "now" of `audit` and `report` are computed from [`now`],
//! which reads the clock in the appliance's time zone ([`set_zone`], called once the
//! zone is resolved from `--tz`, `SEGURA_TZ` or the profile; the local zone before).

use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use segura_api::time::ApplianceZone;

static ZONE: OnceLock<ApplianceZone> = OnceLock::new();

/// Sets the appliance's time zone for [`now`]; the first call wins.
pub fn set_zone(zone: ApplianceZone) {
    let _ = ZONE.set(zone);
}

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
    let at = ZONE.get().copied().unwrap_or_default().now();
    Now {
        naive: at.naive_local(),
        at,
    }
}

/// An RFC 3339 timestamp with its offset, to the second: `2024-05-06T16:05:07+02:00`.
pub fn rfc3339(at: &DateTime<FixedOffset>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}
