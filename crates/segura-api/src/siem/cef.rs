//! ArcSight Common Event Format records, one line each:
//! `CEF:0|Segura|PAM Core|VERSION|SIGNATURE|NAME|1|EXTENSION`.
//!
//! Escaping follows the CEF specification (ArcSight "Implementing ArcSight CEF",
//! revision 25): in the header, `\` and `|` are escaped with a backslash; in extension
//! values, `\` and `=` are, and a line break is written `\n` (`\r` for a carriage
//! return). The specification has no escape for other control characters, so they (and
//! DEL, the C1 controls, the bidirectional marks and the line separators) are written
//! as the text `\u{1b}`, whose backslash is then escaped like any other: a record is
//! always one line, safe on a terminal, and no value can start a key of its own.

use std::fmt::Write as _;

use segura_model::siem::{PRODUCT, VENDOR};

use super::{non_empty, parse_device, parse_host, protocol_name, Context, Event, Times};
use crate::text::needs_escape;

/// Appends `value` escaped as a CEF header field.
pub fn push_header(out: &mut Vec<u8>, value: &str) {
    push_escaped(out, value, true);
}

/// Appends `value` escaped as a CEF extension value.
pub fn push_value(out: &mut Vec<u8>, value: &str) {
    push_escaped(out, value, false);
}

fn push_escaped(out: &mut Vec<u8>, value: &str, header: bool) {
    let mut from = 0;
    let b = value.as_bytes();
    for (i, c) in value.char_indices() {
        let escape: Option<&[u8]> = match c {
            '\\' => Some(b"\\\\"),
            '|' if header => Some(b"\\|"),
            '=' if !header => Some(b"\\="),
            // The header has no escape for a line break: it becomes a space.
            '\n' | '\r' if header => Some(b" "),
            '\n' => Some(b"\\n"),
            '\r' => Some(b"\\r"),
            c if needs_escape(c) && c != '\t' => None,
            _ => continue,
        };
        out.extend_from_slice(&b[from..i]);
        match escape {
            Some(e) => out.extend_from_slice(e),
            None => {
                let mut text = String::with_capacity(10);
                let _ = write!(text, "\\\\u{{{:x}}}", c as u32);
                out.extend_from_slice(text.as_bytes());
            }
        }
        from = i + c.len_utf8();
    }
    out.extend_from_slice(&b[from..]);
}

/// Writes ` key=value` (the first pair without the space).
struct Extension<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl Extension<'_> {
    fn pair(&mut self, key: &str, value: &str) {
        if !self.first {
            self.out.push(b' ');
        }
        self.first = false;
        self.out.extend_from_slice(key.as_bytes());
        self.out.push(b'=');
        push_value(self.out, value);
    }

    fn number(&mut self, key: &str, value: impl std::fmt::Display) {
        self.pair(key, &value.to_string());
    }

    fn opt(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.pair(key, v);
        }
    }
}

/// Appends the CEF record of `event` to `out` (one line, no line break).
pub fn write(event: &Event<'_>, ctx: &Context, out: &mut Vec<u8>) {
    let times = Times::of(event, &ctx.zone);
    out.extend_from_slice(b"CEF:0|");
    for field in [
        VENDOR,
        PRODUCT,
        ctx.product_version.as_str(),
        event.kind.action(),
        event.kind.title(),
    ] {
        push_header(out, field);
        out.push(b'|');
    }
    out.extend_from_slice(b"1|");
    let mut ext = Extension { out, first: true };
    ext.number("rt", times.at.timestamp_millis());
    if let Some(t) = times.start {
        ext.number("start", t.timestamp_millis());
    }
    if let Some(t) = times.end {
        ext.number("end", t.timestamp_millis());
    }
    let Some(s) = event.session else {
        ext.number("cs4", event.id);
        ext.pair("cs4Label", "id");
        return;
    };
    ext.opt("suser", non_empty(&s.user));
    let origin = parse_host(&s.origin_ip);
    match origin.ip {
        Some(ip) => ext.number("src", ip),
        None => ext.opt("shost", non_empty(origin.host)),
    }
    ext.opt("duser", non_empty(&s.credential));
    let device = parse_device(&s.device);
    match device.ip {
        Some(ip) => ext.number("dst", ip),
        None => ext.opt("dhost", non_empty(device.host)),
    }
    if let Some(port) = device.port {
        ext.number("dpt", port);
    }
    ext.opt("app", non_empty(&protocol_name(s)));
    ext.opt("externalId", non_empty(s.session_id.as_str()));
    if let Some(ms) = times.duration_ms {
        ext.number("cn1", ms / 1000);
        ext.pair("cn1Label", "duration");
    }
    for (key, label, value) in [
        ("cs1", "proxy", non_empty(s.proxy.as_str())),
        ("cs2", "request", s.request.as_deref()),
        ("cs3", "ITSM", s.itsm.as_deref()),
    ] {
        if let Some(v) = value {
            ext.pair(key, v);
            ext.pair(&format!("{key}Label"), label);
        }
    }
    ext.number("cs4", event.id);
    ext.pair("cs4Label", "id");
}
