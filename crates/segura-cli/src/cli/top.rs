//! The arguments of `segura sessions top`.

use std::time::Duration;

use clap::Args;

use super::{parse_std_duration, FilterArgs};

/// The shortest `top --interval`: the list is a slow endpoint.
pub const MIN_TOP_INTERVAL: Duration = Duration::from_secs(1);

/// `segura sessions top`.
#[derive(Debug, Args, Clone)]
#[command(after_help = "\
A full-screen view of the open sessions, polled in the background. Keys:
  s / S      sort by the next / previous column     R   reverse the order
  1..7       sort by that column (again: reverse)    /   filter as you type (Esc clears)
  Up/Down    select (PgUp/PgDn, Home/End)            Enter  all fields of the session
  d          drop the selected session (asks y/n)    r   poll now
  ?          help                                    q / Ctrl-C  quit
Standard output must be a terminal; elsewhere use `segura sessions list --active`.

Examples:
  segura sessions top
  segura sessions top --interval 30s --protocol rdp
  NO_COLOR=1 segura sessions top --user 'svc_*'")]
pub struct TopArgs {
    /// Time between polls (at least 1s); `r` polls at once
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_top_interval)]
    pub interval: Duration,
    /// Filters (open sessions only: --not-active and the end filters match nothing).
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// A `top --interval`: a duration of at least [`MIN_TOP_INTERVAL`].
fn parse_top_interval(s: &str) -> Result<Duration, String> {
    let d = parse_std_duration(s)?;
    if d < MIN_TOP_INTERVAL {
        return Err(format!(
            "{s:?} is too short: top polls at most once a second (the list is a slow \
             endpoint); use 1s or more, 10s by default"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_at_least_a_second() {
        assert_eq!(parse_top_interval("2s"), Ok(Duration::from_secs(2)));
        assert!(parse_top_interval("500ms")
            .unwrap_err()
            .contains("too short"));
        assert!(parse_top_interval("soon").is_err());
    }
}
