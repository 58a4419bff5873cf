//! The format of a sorted run on disk: each session as a length-prefixed binary record.
//!
//! Written and read only by this process, within one sort, so it has no version or
//! header. It is hand-written rather than a serde format because the model's serde
//! implementations speak the wire's tolerant JSON (date-times as text, values matched
//! case-insensitively), while a run must give back exactly the value that was written,
//! field for field, and cheaply: numbers and date-times as fixed-size integers, text as
//! a length and its bytes, copied into the reused buffers of one session.
//!
//! A record: `id` u64; `start` as i64 seconds + u32 nanoseconds; `end` as a flag byte
//! and the same; `time` as a flag byte and u64 seconds; `prevent_purge` one byte;
//! `protocol` and `proxy` as the index of the known value or 255 and the text; then
//! `user`, `origin_ip`, `credential`, `device` and `session_id` as u32 length + UTF-8;
//! `request` and `ITSM` as a flag byte and the same. Integers are little-endian.

use std::io::{self, BufRead};

use chrono::{DateTime, NaiveDateTime};
use segura_model::{Field, Protocol, Proxy, RemoteSession, Scalar, SessionDuration, SessionId};

const OTHER: u8 = 255;

/// Appends `s` to `out` as one record.
pub(super) fn encode(s: &RemoteSession, out: &mut Vec<u8>) {
    out.extend_from_slice(&s.id.get().to_le_bytes());
    put_datetime(out, &s.start);
    match &s.end {
        Some(end) => {
            out.push(1);
            put_datetime(out, end);
        }
        None => out.push(0),
    }
    match s.time {
        Some(t) => {
            out.push(1);
            out.extend_from_slice(&t.as_secs().to_le_bytes());
        }
        None => out.push(0),
    }
    out.push(u8::from(s.prevent_purge));
    put_enum(
        out,
        Protocol::KNOWN.iter().position(|k| *k == s.protocol),
        s.protocol.as_str(),
    );
    put_enum(
        out,
        Proxy::KNOWN.iter().position(|k| *k == s.proxy),
        s.proxy.as_str(),
    );
    for text in [&s.user, &s.origin_ip, &s.credential, &s.device] {
        put_str(out, text);
    }
    put_str(out, s.session_id.as_str());
    for text in [&s.request, &s.itsm] {
        match text {
            Some(t) => {
                out.push(1);
                put_str(out, t);
            }
            None => out.push(0),
        }
    }
}

fn put_datetime(out: &mut Vec<u8>, dt: &NaiveDateTime) {
    let utc = dt.and_utc();
    out.extend_from_slice(&utc.timestamp().to_le_bytes());
    out.extend_from_slice(&utc.timestamp_subsec_nanos().to_le_bytes());
}

fn put_enum(out: &mut Vec<u8>, known: Option<usize>, text: &str) {
    match known
        .and_then(|i| u8::try_from(i).ok())
        .filter(|i| *i != OTHER)
    {
        Some(i) => out.push(i),
        None => {
            out.push(OTHER);
            put_str(out, text);
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Text longer than 4 GiB cannot come out of the decoder (its element limit).
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&s.as_bytes()[..len as usize]);
}

/// Reads one record written by [`encode`] into `s`, reusing its buffers.
pub(super) fn decode(r: &mut impl BufRead, s: &mut RemoteSession) -> io::Result<()> {
    s.id = SessionId::new(u64::from_le_bytes(array(r)?));
    s.start = get_datetime(r)?;
    s.end = if flag(r)? {
        Some(get_datetime(r)?)
    } else {
        None
    };
    s.time = if flag(r)? {
        Some(SessionDuration::from_secs(u64::from_le_bytes(array(r)?)))
    } else {
        None
    };
    s.prevent_purge = flag(r)?;
    let mut text = String::new();
    s.protocol = match get_enum(r, Protocol::KNOWN, &mut text)? {
        Some(p) => p,
        None => Protocol::Other(std::mem::take(&mut text)),
    };
    s.proxy = match get_enum(r, Proxy::KNOWN, &mut text)? {
        Some(p) => p,
        None => Proxy::Other(std::mem::take(&mut text)),
    };
    for dst in [
        &mut s.user,
        &mut s.origin_ip,
        &mut s.credential,
        &mut s.device,
    ] {
        get_str(r, dst)?;
    }
    get_str(r, &mut text)?;
    s.set_field(Field::SessionId, Scalar::Str(&text))
        .map_err(|e| invalid(&e.to_string()))?;
    for dst in [&mut s.request, &mut s.itsm] {
        if flag(r)? {
            get_str(r, dst.get_or_insert_with(String::new))?;
        } else {
            *dst = None;
        }
    }
    Ok(())
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("corrupt sorted run: {what}"),
    )
}

fn array<const N: usize>(r: &mut impl BufRead) -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    r.read_exact(&mut b)?;
    Ok(b)
}

fn flag(r: &mut impl BufRead) -> io::Result<bool> {
    match array::<1>(r)? {
        [0] => Ok(false),
        [1] => Ok(true),
        _ => Err(invalid("a flag byte")),
    }
}

fn get_datetime(r: &mut impl BufRead) -> io::Result<NaiveDateTime> {
    let secs = i64::from_le_bytes(array(r)?);
    let nanos = u32::from_le_bytes(array(r)?);
    DateTime::from_timestamp(secs, nanos)
        .map(|d| d.naive_utc())
        .ok_or_else(|| invalid("a date-time"))
}

fn get_enum<T: Clone>(
    r: &mut impl BufRead,
    known: &[T],
    text: &mut String,
) -> io::Result<Option<T>> {
    match array::<1>(r)?[0] {
        OTHER => {
            get_str(r, text)?;
            Ok(None)
        }
        i => known
            .get(usize::from(i))
            .cloned()
            .map(Some)
            .ok_or_else(|| invalid("an enumerated value")),
    }
}

/// Reads a length-prefixed string into `dst`, reusing its allocation.
fn get_str(r: &mut impl BufRead, dst: &mut String) -> io::Result<()> {
    let len = u32::from_le_bytes(array(r)?) as usize;
    let mut bytes = std::mem::take(dst).into_bytes();
    bytes.clear();
    bytes.resize(len, 0);
    r.read_exact(&mut bytes)?;
    *dst = String::from_utf8(bytes).map_err(|_| invalid("text that is not UTF-8"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use segura_model::{parse_datetime, SessionHash};

    #[test]
    fn a_record_gives_back_the_session_field_for_field() {
        let mut a = RemoteSession::new(
            SessionId::new(u64::MAX),
            SessionHash::from_wire("not-hex ☃"),
            parse_datetime("1901-02-03 04:05:06").unwrap(),
        );
        a.user = "Zoë \"x\"\n".into();
        a.protocol = Protocol::Other("SSH".into());
        a.proxy = Proxy::from_wire("web");
        a.end = Some(parse_datetime("2099-12-31 23:59:59").unwrap());
        a.time = Some(SessionDuration::from_secs(123 * 3600));
        a.prevent_purge = true;
        a.request = Some(String::new());
        let b = RemoteSession::new(
            SessionId::new(0),
            SessionHash::from_wire(""),
            NaiveDateTime::default(),
        );
        let mut bytes = Vec::new();
        encode(&a, &mut bytes);
        encode(&b, &mut bytes);
        let mut r = io::Cursor::new(bytes);
        let mut s = RemoteSession::default();
        decode(&mut r, &mut s).unwrap();
        assert_eq!(s, a);
        decode(&mut r, &mut s).unwrap();
        assert_eq!(s, b);
        assert_eq!(
            decode(&mut r, &mut s).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }
}
