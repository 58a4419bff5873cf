//! `watch --syslog URL`: each event, rendered by the `-o` format as one line, is sent to
//! a syslog receiver as an RFC 5424 message, over UDP (RFC 5426), TCP (RFC 6587) or TLS
//! (RFC 5425); TCP and TLS frame messages by octet counting (`LEN SP MSG`), so a byte
//! of the record can never end a message early.
//!
//! Written here rather than taken from a crate: the maintained client (`fasyslog`)
//! frames TCP with a trailing newline (not octet counting), stamps messages with the
//! time they are sent (a resent event must keep its time and id), and neither times
//! out, reconnects nor keeps an ordered queue; the formatting is a few lines, and the
//! transport must report exactly what was written and flushed before the state file
//! records an event as delivered. TLS is rustls, as for the API.

mod net;
mod outbox;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::output::sessions::EventKind;

pub use net::{Backoff, Delivery, TlsOptions};
pub use outbox::{Outbox, Recorder};

/// The SD-ID of the structured data element every message carries. 32473 is the
/// private enterprise number RFC 5612 reserves for documentation: Segura has none
/// registered that we know of, and the SD-ID is all a receiver needs to match.
pub const SD_ID: &str = "segura@32473";

/// The default `--syslog-queue`: events held while the receiver is away.
pub const DEFAULT_QUEUE: usize = 10_000;

/// The transport of a syslog URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// RFC 5426: one message per datagram, no acknowledgement.
    Udp,
    /// RFC 6587, octet counting.
    Tcp,
    /// RFC 5425: TCP in TLS, octet counting.
    Tls,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Udp => "udp",
            Scheme::Tcp => "tcp",
            Scheme::Tls => "tls",
        }
    }

    /// The port when the URL has none: 514 for UDP and TCP, 6514 for TLS (RFC 5425).
    fn default_port(self) -> u16 {
        match self {
            Scheme::Udp | Scheme::Tcp => 514,
            Scheme::Tls => 6514,
        }
    }
}

/// A receiver: `udp://host:port`, `tcp://host:port` or `tls://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The transport.
    pub scheme: Scheme,
    /// A host name or an IP address (an IPv6 address without its brackets).
    pub host: String,
    /// The port.
    pub port: u16,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(
                f,
                "{}://[{}]:{}",
                self.scheme.as_str(),
                self.host,
                self.port
            )
        } else {
            write!(f, "{}://{}:{}", self.scheme.as_str(), self.host, self.port)
        }
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or("expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT")?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "udp" => Scheme::Udp,
            "tcp" => Scheme::Tcp,
            "tls" => Scheme::Tls,
            _ => {
                return Err(format!(
                    "unknown scheme {:?}: use udp://, tcp:// or tls://",
                    crate::diag::clean(scheme)
                ))
            }
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if let Some(c) = rest.chars().find(|c| matches!(c, '/' | '?' | '#' | '@')) {
            return Err(format!(
                "a syslog URL is only a scheme, a host and a port (found {c:?})"
            ));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or("an unclosed [ in the host")?;
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err("not an IPv6 address between [ and ]".into());
            }
            match after {
                "" => (host, None),
                p => (
                    host,
                    Some(p.strip_prefix(':').ok_or("expected :PORT after ]")?),
                ),
            }
        } else {
            match rest.split_once(':') {
                Some((_, p)) if p.contains(':') => {
                    return Err("an IPv6 address goes between brackets: tcp://[::1]:514".into())
                }
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':'));
        if !host_ok {
            return Err(format!(
                "not a host name or address: {:?}",
                crate::diag::clean(host)
            ));
        }
        let port = match port {
            None => scheme.default_port(),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(format!(
                        "not a port (1 to 65535): {:?}",
                        crate::diag::clean(p)
                    ))
                }
            },
        };
        Ok(Target {
            scheme,
            host: host.to_owned(),
            port,
        })
    }
}

/// The facility of the messages (`--syslog-facility`), RFC 5424 table 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[allow(missing_docs)]
pub enum Facility {
    Kern,
    User,
    Mail,
    Daemon,
    Auth,
    Syslog,
    Lpr,
    News,
    Uucp,
    Cron,
    Authpriv,
    Ftp,
    Ntp,
    Audit,
    Alert,
    Clock,
    Local0,
    Local1,
    Local2,
    Local3,
    Local4,
    Local5,
    Local6,
    Local7,
}

impl Facility {
    /// The facility's number (0 to 23).
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// The severity of an event's message: a session that started is `notice` (5), one
/// that ended `info` (6), one that left the list without an end `warning` (4).
pub fn severity(kind: Kind) -> u8 {
    match kind {
        Kind::New => 5,
        Kind::Ended => 6,
        Kind::Vanished => 4,
    }
}

/// An event kind as the state file stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A session not reported before.
    New,
    /// A reported session that ended.
    Ended,
    /// A reported session gone from the list without an end.
    Vanished,
}

impl From<EventKind> for Kind {
    fn from(k: EventKind) -> Self {
        match k {
            EventKind::New => Kind::New,
            EventKind::Ended => Kind::Ended,
            EventKind::Vanished => Kind::Vanished,
        }
    }
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::New => "new",
            Kind::Ended => "ended",
            Kind::Vanished => "vanished",
        }
    }
}

/// An event waiting for the receiver; kept in the state file until delivered, and
/// resent byte for byte (same time, same id, same record) after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    /// The event's id, stable across resends: `SESSION-KIND-MILLIS` (the session id,
    /// the kind and the instant of the poll that observed it, in Unix milliseconds).
    pub id: String,
    /// What happened.
    pub event: Kind,
    /// The session's id.
    pub session: u64,
    /// When the poll observed it: RFC 3339 with offset, to the microsecond.
    pub at: String,
    /// The event as the `-o` format rendered it, one line without its line break.
    pub record: String,
}

impl Pending {
    /// An event observed `at`, rendered as `record` (one line, no line break).
    pub fn new(kind: EventKind, session: u64, at: &DateTime<FixedOffset>, record: String) -> Self {
        let event = Kind::from(kind);
        Pending {
            id: format!("{session}-{}-{}", event.as_str(), at.timestamp_millis()),
            event,
            session,
            at: at.to_rfc3339_opts(chrono::SecondsFormat::Micros, false),
            record,
        }
    }
}

/// What every message of this process shares: facility, host name, process id.
#[derive(Debug, Clone)]
pub struct Header {
    facility: Facility,
    hostname: String,
    procid: u32,
}

impl Header {
    /// The header of this process's messages.
    pub fn new(facility: Facility) -> Self {
        Header {
            facility,
            hostname: header_field(&hostname(), 255),
            procid: std::process::id(),
        }
    }

    /// The RFC 5424 message of `ev`:
    /// `<PRI>1 TIMESTAMP HOSTNAME segura PROCID session-KIND [segura@32473 event_id=".."
    /// event=".." session_id=".."] RECORD`.
    pub fn message(&self, ev: &Pending) -> Vec<u8> {
        let pri = u16::from(self.facility.code()) * 8 + u16::from(severity(ev.event));
        let mut m = Vec::with_capacity(ev.record.len() + 160);
        m.extend_from_slice(
            format!(
                "<{pri}>1 {} {} segura {} session-{} [{SD_ID} event_id=\"",
                header_field(&ev.at, 48),
                self.hostname,
                self.procid,
                ev.event.as_str()
            )
            .as_bytes(),
        );
        sd_value(&mut m, &ev.id);
        m.extend_from_slice(b"\" event=\"");
        sd_value(&mut m, ev.event.as_str());
        m.extend_from_slice(format!("\" session_id=\"{}\"] ", ev.session).as_bytes());
        m.extend_from_slice(ev.record.as_bytes());
        m
    }
}

/// A header field: printable US-ASCII without spaces, at most `max` octets; `-` (the
/// NILVALUE) when nothing is left.
fn header_field(value: &str, max: usize) -> String {
    let v: String = value
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if v.is_empty() {
        "-".into()
    } else {
        v
    }
}

/// A PARAM-VALUE: `"`, `\` and `]` escaped with a backslash (RFC 5424 §6.3.3).
fn sd_value(out: &mut Vec<u8>, value: &str) {
    for b in value.bytes() {
        if matches!(b, b'"' | b'\\' | b']') {
            out.push(b'\\');
        }
        out.push(b);
    }
}

/// This machine's name.
#[cfg(unix)]
fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

#[cfg(not(unix))]
fn hostname() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_default()
}

/// The frame of a message on TCP and TLS: `LEN SP MSG` (RFC 6587 §3.4.1, RFC 5425 §4.3).
pub fn octet_counted(message: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(message.len() + 8);
    f.extend_from_slice(message.len().to_string().as_bytes());
    f.push(b' ');
    f.extend_from_slice(message);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_syslog_urls_and_refuses_bad_ones() {
        let t: Target = "tls://logs.example.com:6514".parse().unwrap();
        assert_eq!(
            (t.scheme, t.host.as_str(), t.port),
            (Scheme::Tls, "logs.example.com", 6514)
        );
        let t: Target = "TCP://[::1]:1514/".parse().unwrap();
        assert_eq!(
            (t.scheme, t.host.as_str(), t.port),
            (Scheme::Tcp, "::1", 1514)
        );
        assert_eq!(t.to_string(), "tcp://[::1]:1514");
        assert_eq!("udp://10.0.0.1".parse::<Target>().unwrap().port, 514);
        assert_eq!("tls://h".parse::<Target>().unwrap().port, 6514);
        for bad in [
            "http://h:514",
            "h:514",
            "tcp://:514",
            "tcp://h:0",
            "tcp://h:65536",
            "tcp://h:port",
            "tcp://h:514/path",
            "tcp://user@h:514",
            "tcp://::1:514",
            "tcp://[::1",
            "tcp://[nothost]:514",
            "tcp://h\u{1b}[2J:514",
            "tcp://h :514",
        ] {
            let e = bad.parse::<Target>().unwrap_err();
            assert!(!e.contains('\u{1b}'), "{e}");
        }
    }

    #[test]
    fn formats_rfc5424_with_escaped_structured_data() {
        let at = DateTime::parse_from_rfc3339("2024-05-06T16:05:07.250+02:00").unwrap();
        let mut ev = Pending::new(EventKind::Vanished, 7, &at, "{\"a\":1}".into());
        assert_eq!(ev.id, "7-vanished-1715004307250");
        let h = Header {
            facility: Facility::Authpriv,
            hostname: header_field("host a\u{e9}", 255),
            procid: 42,
        };
        assert_eq!(
            String::from_utf8(h.message(&ev)).unwrap(),
            "<84>1 2024-05-06T16:05:07.250000+02:00 hosta segura 42 session-vanished \
             [segura@32473 event_id=\"7-vanished-1715004307250\" event=\"vanished\" \
             session_id=\"7\"] {\"a\":1}"
        );
        ev.id = "a\"b]c\\".into();
        let m = String::from_utf8(h.message(&ev)).unwrap();
        assert!(m.contains(r#"event_id="a\"b\]c\\""#), "{m}");
        assert_eq!(octet_counted(b"abc"), b"3 abc");
        assert_eq!(header_field("", 4), "-");
    }
}
