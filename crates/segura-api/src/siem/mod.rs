//! Sessions as SIEM records: Elastic Common Schema ([`ecs`]), OCSF ([`ocsf`]) and
//! ArcSight CEF ([`cef`]), one record per session or per event.
//!
//! [`render`] turns one [`Event`] into the bytes of one line (without the line break),
//! so a printer, a syslog sink or any other transport can carry it. Every function here
//! is pure: the appliance's zone and the time an event was observed are parameters.
//! Which part of a session goes where is the table
//! [`segura_model::siem::SIEM_MAPPINGS`], from which `docs/siem.md` is generated.
//!
//! Values from the appliance are hostile text: JSON records escape every control
//! character, DEL, the C1 controls, the bidirectional marks and the line separators
//! (`\u001b`, `\u009b`, `\u202e`), so a record read with `tail` cannot drive a terminal
//! and a JSON reader still gets the exact value; CEF escapes what its specification
//! says and writes the characters it has no escape for as the text `\u{1b}`.

pub mod cef;
pub mod ecs;
pub mod ocsf;

use std::io;
use std::net::IpAddr;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use segura_model::{RemoteSession, SessionId};

use crate::time::ApplianceZone;

/// The SIEM formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Elastic Common Schema, one JSON object per line.
    Ecs,
    /// Open Cybersecurity Schema Framework, one JSON object per line.
    Ocsf,
    /// ArcSight Common Event Format, one line per record.
    Cef,
}

/// What a record says happened to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A session in a list (`sessions list`, `sessions get`): how it stands.
    Listed,
    /// A session seen for the first time (`watch`'s `new`).
    Started,
    /// A session that ended.
    Ended,
    /// An open session that left the list without an end.
    Vanished,
}

impl EventKind {
    /// The ECS `event.action`, also the CEF signature id: `session-started`, ...
    pub fn action(self) -> &'static str {
        match self {
            EventKind::Listed => "session-listed",
            EventKind::Started => "session-started",
            EventKind::Ended => "session-ended",
            EventKind::Vanished => "session-vanished",
        }
    }

    /// The CEF name: `Session started`, ...
    pub fn title(self) -> &'static str {
        match self {
            EventKind::Listed => "Session listed",
            EventKind::Started => "Session started",
            EventKind::Ended => "Session ended",
            EventKind::Vanished => "Session vanished",
        }
    }
}

/// One event about a session, as a record describes it.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// What happened.
    pub kind: EventKind,
    /// The session's numeric id (always known).
    pub id: SessionId,
    /// The session as last listed; `None` for a vanished session whose fields were not
    /// seen by this process (only its id is known).
    pub session: Option<&'a RemoteSession>,
    /// When the event was observed: the time of a vanished event.
    pub observed_at: DateTime<Utc>,
}

impl<'a> Event<'a> {
    /// An event about a session whose fields are known.
    pub fn of(kind: EventKind, session: &'a RemoteSession, observed_at: DateTime<Utc>) -> Self {
        Self {
            kind,
            id: session.id,
            session: Some(session),
            observed_at,
        }
    }

    /// Whether the session had ended when the event was seen.
    fn ended(&self) -> bool {
        match self.kind {
            EventKind::Ended => true,
            EventKind::Listed => self.session.is_some_and(|s| s.end.is_some()),
            EventKind::Started | EventKind::Vanished => false,
        }
    }

    /// The stable id of the event: the session hash (or `id-N` when only the numeric
    /// id is known) and what happened, so that the same event always has the same id.
    pub fn event_id(&self) -> String {
        let suffix = match self.kind {
            EventKind::Listed if self.ended() => "listed-ended",
            EventKind::Listed => "listed-open",
            EventKind::Started => "started",
            EventKind::Ended => "ended",
            EventKind::Vanished => "vanished",
        };
        match self.session.map(|s| s.session_id.as_str()) {
            Some(hash) if !hash.is_empty() => format!("{hash}-{suffix}"),
            _ => format!("id-{}-{suffix}", self.id),
        }
    }
}

/// What every record needs besides the event: the appliance's zone, to read `start` and
/// `end`, and the version of the program that writes the record (the CEF Device
/// Version).
#[derive(Debug, Clone)]
pub struct Context {
    /// The appliance's zone (`--tz`).
    pub zone: ApplianceZone,
    /// The CEF header's Device Version.
    pub product_version: String,
}

impl Context {
    /// A context for records written in `zone`, naming this library's version.
    pub fn new(zone: ApplianceZone) -> Self {
        Self {
            zone,
            product_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Appends the record of `event` in `format` to `out`: one line, without its line
/// break.
pub fn render(format: Format, event: &Event<'_>, ctx: &Context, out: &mut Vec<u8>) {
    match format {
        Format::Ecs => ecs::write(event, ctx, out),
        Format::Ocsf => ocsf::write(event, ctx, out),
        Format::Cef => cef::write(event, ctx, out),
    }
}

/// The times of an event, resolved in the appliance's zone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Times {
    /// The event's own time (see the table).
    pub at: DateTime<FixedOffset>,
    pub start: Option<DateTime<FixedOffset>>,
    pub end: Option<DateTime<FixedOffset>>,
    /// Milliseconds.
    pub duration_ms: Option<u64>,
}

impl Times {
    pub(crate) fn of(event: &Event<'_>, zone: &ApplianceZone) -> Self {
        let at_zone = |t: NaiveDateTime| zone.instant_of(t);
        let Some(s) = event.session else {
            return Self {
                at: zone.at(event.observed_at),
                start: None,
                end: None,
                duration_ms: None,
            };
        };
        let start = at_zone(s.start);
        let end = s.end.map(at_zone);
        let duration_ms = match (s.time, end) {
            (Some(d), _) => Some(d.as_secs().saturating_mul(1000)),
            (None, Some(e)) => u64::try_from((e - start).num_milliseconds()).ok(),
            (None, None) => None,
        };
        let at = match event.kind {
            EventKind::Vanished => zone.at(event.observed_at),
            EventKind::Started => start,
            EventKind::Ended | EventKind::Listed => end.unwrap_or(start),
        };
        Self {
            at,
            start: Some(start),
            end,
            duration_ms,
        }
    }
}

/// A host (and port) from a session's `device` or `origin_ip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint<'a> {
    /// The host as written (brackets of an IPv6 address removed); may be empty.
    pub host: &'a str,
    /// The host as an IP address, when it is one.
    pub ip: Option<IpAddr>,
    /// The port, when the text has one.
    pub port: Option<u16>,
}

/// Reads a `device`: `10.66.33.15:3389`, `db-01.example.com:22`, `[2001:db8::1]:3389`,
/// or a host without a port (`db-01`, `2001:db8::1`). Text of any other shape is kept
/// whole as the host, with no port: nothing is lost or guessed.
pub fn parse_device(device: &str) -> Endpoint<'_> {
    let t = device.trim();
    if let Some(rest) = t.strip_prefix('[') {
        if let Some((inside, after)) = rest.split_once(']') {
            if let Ok(ip) = inside.parse::<IpAddr>() {
                let port = match after.strip_prefix(':') {
                    Some(p) => match parse_port(p) {
                        Some(port) => Some(port),
                        None => return host_only(t),
                    },
                    None if after.is_empty() => None,
                    None => return host_only(t),
                };
                return Endpoint {
                    host: inside,
                    ip: Some(ip),
                    port,
                };
            }
        }
        return host_only(t);
    }
    if t.parse::<IpAddr>().is_ok() {
        return host_only(t);
    }
    if let Some((host, port)) = t.rsplit_once(':') {
        if let (false, Some(port)) = (host.contains(':') || host.is_empty(), parse_port(port)) {
            return Endpoint {
                host,
                ip: host.parse().ok(),
                port: Some(port),
            };
        }
    }
    host_only(t)
}

/// An origin address: an IP address, or a host name kept as it is.
pub fn parse_host(text: &str) -> Endpoint<'_> {
    host_only(text.trim())
}

fn host_only(t: &str) -> Endpoint<'_> {
    Endpoint {
        host: t,
        ip: t.parse().ok(),
        port: None,
    }
}

fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse().ok()
}

/// The lower-case protocol name, borrowed when it is lower case already.
pub(crate) fn protocol_name(s: &RemoteSession) -> std::borrow::Cow<'_, str> {
    let p = s.protocol.as_str();
    if p.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(p.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(p)
    }
}

/// `Some(s)` unless `s` is empty.
pub(crate) fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// A `serde_json` formatter that, on top of JSON's own escapes, writes every character
/// of [`crate::text::needs_escape`] as `\uXXXX` (DEL, the C1 controls, the
/// bidirectional marks, U+2028 and U+2029): the same value to any JSON reader, and
/// nothing a terminal obeys.
pub(crate) struct SafeFormatter;

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Fragments hold no character JSON escapes itself; only non-ASCII text and DEL
        // can need more.
        if fragment.bytes().all(|b| b < 0x7f) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut from = 0;
        for (i, c) in fragment.char_indices() {
            if crate::text::needs_escape(c) {
                writer.write_all(&fragment.as_bytes()[from..i])?;
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{:04x}", u)?;
                }
                from = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[from..])
    }
}

/// Serializes `value` with [`SafeFormatter`] into `out`.
pub(crate) fn write_json<T: serde::Serialize>(value: &T, out: &mut Vec<u8>) {
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, SafeFormatter);
    // Writing into a Vec cannot fail, and the records hold only strings, numbers,
    // booleans and maps with string keys, which always serialize.
    let _ = value.serialize(&mut ser);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_read_into_host_and_port() {
        let d = parse_device("10.66.33.15:3389");
        assert_eq!(
            (d.host, d.ip, d.port),
            ("10.66.33.15", "10.66.33.15".parse().ok(), Some(3389))
        );
        let d = parse_device("db-01.example.com:22");
        assert_eq!(
            (d.host, d.ip, d.port),
            ("db-01.example.com", None, Some(22))
        );
        let d = parse_device("[2001:db8::1]:3389");
        assert_eq!(
            (d.host, d.ip, d.port),
            ("2001:db8::1", "2001:db8::1".parse().ok(), Some(3389))
        );
        let d = parse_device("2001:db8::1");
        assert_eq!((d.host, d.port), ("2001:db8::1", None));
        assert!(d.ip.is_some());
        let d = parse_device(" db-01 ");
        assert_eq!((d.host, d.ip, d.port), ("db-01", None, None));
        // Not a port: kept whole, nothing guessed.
        for odd in [
            "host:99999",
            "host:",
            ":22",
            "a:b:c",
            "[::1]x",
            "[nope]:22",
            "h:+1",
        ] {
            let d = parse_device(odd);
            assert_eq!((d.host, d.port), (odd, None), "{odd}");
        }
        assert_eq!(parse_device("").host, "");
    }

    #[test]
    fn json_records_escape_what_a_terminal_obeys_and_keep_the_value() {
        let value = "a\u{1b}]0;x\u{7}\u{9b}31m\u{202e}\u{7f}\u{2028}é李\"\\\n";
        let mut out = Vec::new();
        write_json(&value, &mut out);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.chars().all(|c| !crate::text::needs_escape(c)),
            "{text}"
        );
        assert!(text.contains("\\u009b") && text.contains("\\u202e") && text.contains("é李"));
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, value);
    }
}
