//! A direct writer of the canonical JSON form, for output paths that print millions of
//! sessions. It writes exactly the bytes that `serde_json::to_writer` writes for the same
//! value (compact, same escaping), which a test checks, without serde's per-field dispatch.

use crate::field::{Field, FieldText};
use crate::ids::itoa_buf;
use crate::session::RemoteSession;
use crate::time::datetime_bytes;
use crate::wire::find_string_special;

/// Appends `s` as a JSON string, escaped as `serde_json` does.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = s.as_bytes();
    out.push(b'"');
    let mut start = 0;
    loop {
        let i = find_string_special(b, start);
        out.extend_from_slice(&b[start..i]);
        let Some(&c) = b.get(i) else { break };
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 15)],
            ]),
        }
        start = i + 1;
    }
    out.push(b'"');
}

impl FieldText<'_> {
    /// Appends the value as JSON (a string or `null`).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            FieldText::Null => out.extend_from_slice(b"null"),
            FieldText::Str(s) => write_json_str(out, s),
            FieldText::Id(n) => {
                out.push(b'"');
                out.extend_from_slice(itoa_buf::Buffer::new().format(*n).as_bytes());
                out.push(b'"');
            }
            FieldText::DateTime(dt) => {
                out.push(b'"');
                out.extend_from_slice(&datetime_bytes(dt));
                out.push(b'"');
            }
            FieldText::Duration(d) => {
                let secs = d.as_secs();
                let mut h = itoa_buf::Buffer::new();
                let hours = h.format(secs / 3600);
                out.push(b'"');
                if hours.len() < 2 {
                    out.push(b'0');
                }
                out.extend_from_slice(hours.as_bytes());
                let (m, s) = ((secs / 60) % 60, secs % 60);
                out.extend_from_slice(&[
                    b':',
                    b'0' + (m / 10) as u8,
                    b'0' + (m % 10) as u8,
                    b':',
                    b'0' + (s / 10) as u8,
                    b'0' + (s % 10) as u8,
                    b'"',
                ]);
            }
            FieldText::YesNo(true) => out.extend_from_slice(b"\"Yes\""),
            FieldText::YesNo(false) => out.extend_from_slice(b"\"No\""),
        }
    }
}

/// `{"id":`, `,"user":`, ...: what precedes each value in the full canonical object.
const PREFIXES: [&[u8]; 14] = [
    b"{\"id\":",
    b",\"user\":",
    b",\"origin_ip\":",
    b",\"credential\":",
    b",\"device\":",
    b",\"protocol\":",
    b",\"proxy\":",
    b",\"session_id\":",
    b",\"start\":",
    b",\"end\":",
    b",\"time\":",
    b",\"prevent_purge\":",
    b",\"request\":",
    b",\"ITSM\":",
];

impl RemoteSession {
    /// Appends the session in canonical form, compact: the same bytes as
    /// `serde_json::to_writer(out, self)`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        for f in Field::ALL {
            out.extend_from_slice(PREFIXES[f as usize]);
            self.field(f).write_json(out);
        }
        out.push(b'}');
    }

    /// Appends only `fields`, in that order, in canonical form: the same bytes as
    /// `serde_json::to_writer(out, &self.project(fields))`.
    pub fn write_json_fields(&self, fields: &[Field], out: &mut Vec<u8>) {
        out.push(b'{');
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_json_str(out, f.wire_name());
            out.push(b':');
            self.field(*f).write_json(out);
        }
        out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SessionDuration, SessionHash, SessionId};

    fn sample(user: &str, secs: Option<u64>) -> RemoteSession {
        let mut s = RemoteSession::new(
            SessionId::new(42),
            SessionHash::from_wire("e7acacb6aedbab70073456da5744166939b77527"),
            crate::parse_datetime("2024-05-06 16:05:07").unwrap(),
        );
        s.user = user.to_owned();
        s.protocol = "Kerberos".into();
        s.proxy = "RDP Proxy".into();
        s.time = secs.map(SessionDuration::from_secs);
        s.end = secs.map(|_| crate::parse_datetime("2024-05-07 00:00:00").unwrap());
        s.prevent_purge = secs.is_some();
        s.itsm = Some("INC\u{1}".into());
        s
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let mut every_byte = String::new();
        for c in (0u32..0x80).chain([0xe9, 0x4e2d, 0x1f600]) {
            every_byte.push(char::from_u32(c).unwrap());
        }
        for (user, secs) in [
            ("Admin", Some(172)),
            ("a\"b\\c\n\r\t\u{8}\u{c}\u{1f}\u{7f}é中😀", None),
            (every_byte.as_str(), Some(123 * 3600 + 4 * 60 + 5)),
            ("", Some(0)),
            ("0123456789abcdef0123456789\"", Some(9)),
        ] {
            let s = sample(user, secs);
            let mut fast = Vec::new();
            s.write_json(&mut fast);
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                serde_json::to_string(&s).unwrap()
            );
            let fields = [Field::Itsm, Field::Time, Field::User, Field::Id, Field::End];
            let mut fast = Vec::new();
            s.write_json_fields(&fields, &mut fast);
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                serde_json::to_string(&s.project(&fields)).unwrap()
            );
        }
    }
}
