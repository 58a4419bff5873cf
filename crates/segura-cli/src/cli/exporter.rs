//! The arguments of `segura sessions exporter`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::{parse_std_duration, FilterArgs};

/// The port the exporter listens on by default (not registered anywhere; chosen in the
/// range Prometheus exporters use, clear of the well-known ones).
pub const DEFAULT_PORT: u16 = 9741;

/// The shortest `--interval`: the list is a slow endpoint.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// `segura sessions exporter`.
#[derive(Debug, Args, Clone)]
#[command(after_help = "\
Serves, over HTTP:
  /metrics   the last complete poll, in the Prometheus text format, or OpenMetrics
             when the scraper's Accept header asks for application/openmetrics-text
  /healthz   200 while the last successful poll is younger than three intervals,
             503 before the first one succeeds and after that
The list is polled in the background at --interval, never on a scrape. A failed poll
keeps the previous values, sets segura_up to 0 and counts the error in
segura_poll_errors_total{kind}; refused credentials (exit 4) or a configuration
error (exit 3) end the exporter. SIGTERM or Ctrl-C stops it (exit 0).
The bound address is printed on stderr (useful with port 0). Every metric, its labels
and an alert rule are in docs/metrics.md.

Examples:
  segura sessions exporter
  segura sessions exporter --listen 0.0.0.0:9741 --interval 30s
  segura sessions exporter --protocol rdp --device 'dc0?.corp.local:*'
  curl -s localhost:9741/metrics")]
pub struct ExporterArgs {
    /// Address and port to listen on; `0.0.0.0:PORT` or `[::]:PORT` for every interface
    /// (the metrics name who is connected where: keep them on loopback unless a
    /// firewall guards the port), port 0 for any free port
    #[arg(long, value_name = "ADDR:PORT", default_value_t = SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)), value_parser = parse_listen)]
    pub listen: SocketAddr,
    /// Time between the starts of two polls (at least 1s); a poll that takes longer is
    /// followed by the next at once
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Also export segura_user_sessions_active{user}, the open sessions per PAM user.
    /// Off by default: one series per user is unbounded cardinality for Prometheus (each
    /// user who ever connects stays in its index); capped at 500 users, the rest
    /// counted under user="(other)"
    #[arg(long)]
    pub per_user: bool,
    /// Filters: which sessions count (--input polls a file instead of the server).
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// `--listen`: an IP address and a port.
fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    s.trim().parse::<SocketAddr>().map_err(|_| {
        format!(
            "{s:?} is not ADDR:PORT: give an IP address and a port, e.g. 127.0.0.1:{DEFAULT_PORT}, \
             0.0.0.0:{DEFAULT_PORT} or [::1]:{DEFAULT_PORT}"
        )
    })
}

/// `--interval`: a duration of at least [`MIN_INTERVAL`].
fn parse_interval(s: &str) -> Result<Duration, String> {
    let d = parse_std_duration(s)?;
    if d < MIN_INTERVAL {
        return Err(format!(
            "{s:?} is too short: the exporter polls at most once a second (the list is a \
             slow endpoint); use 1s or more, 60s by default"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_takes_an_address_and_a_port() {
        assert_eq!(
            parse_listen("127.0.0.1:0"),
            Ok(SocketAddr::from(([127, 0, 0, 1], 0)))
        );
        assert!(parse_listen("[::1]:9741").is_ok());
        for bad in [
            "9741",
            ":9741",
            "localhost:9741",
            "127.0.0.1",
            "1.2.3.4:99999",
        ] {
            let e = parse_listen(bad).unwrap_err();
            assert!(e.contains("ADDR:PORT"), "{bad}: {e}");
        }
    }

    #[test]
    fn interval_is_at_least_a_second() {
        assert_eq!(parse_interval("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_interval("1s"), Ok(Duration::from_secs(1)));
        assert!(parse_interval("999ms").unwrap_err().contains("too short"));
        assert!(parse_interval("soon").is_err());
    }
}
