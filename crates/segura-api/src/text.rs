//! Outside text made safe to show: [`sanitize`] for a terminal or a log, and
//! [`Redactor`] for the client's own secrets.
//!
//! Every piece of text that comes from outside the program (a server's message, an HTML
//! title, a file name, an environment variable, a value in a session) may hold bytes that
//! a terminal obeys: ESC sequences that set the window title, write the clipboard
//! (OSC 52), plant hyperlinks (OSC 8) or clear the screen; a bare carriage return that
//! overwrites the line already printed; bidirectional overrides that reorder what a
//! reader sees. [`sanitize`] shows each of them escaped (`\u{1b}`, `\r`), and leaves
//! every other character alone, so printable text (any script) is unchanged.
//!
//! A server may also quote the request back: the form holding `client_secret=…`, or the
//! `Authorization` header. A [`Redactor`] knows the client's secrets and replaces each
//! occurrence, raw or in the encodings a request carries it in, with `[redacted]`.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::sync::{Arc, PoisonError, RwLock};

use crate::error::Error;

/// Whether `c` is shown escaped by [`sanitize`]: the C0 controls (tab, newline and
/// carriage return included), DEL, the C1 controls (U+0080 to U+009F), the
/// bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E, U+200F,
/// U+202A to U+202E, U+2066 to U+2069), and the line and paragraph separators U+2028
/// and U+2029.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Text safe to show on a terminal or in a log line: each character of
/// [`needs_escape`] is shown escaped (`\n`, `\r`, `\t`, else `\u{hex}` such as
/// `\u{1b}`), everything else is kept. Borrows when nothing needs escaping.
///
/// The result holds no control character at all (not even a newline), so it can be
/// placed inside a line of the program's own without breaking it.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The client's own secrets, to scrub out of any text it prints or logs.
///
/// Holds each secret with the forms a request carries it in: raw, percent-encoded
/// (RFC 3986 and `application/x-www-form-urlencoded`, upper- and lower-case hex),
/// JSON-escaped, escaped by [`sanitize`], and for the HTTP Basic scheme the base64 of
/// `id:secret` ([`Redactor::add_basic`]). [`Redactor::redact`] replaces every occurrence
/// of any of them with [`Redactor::MARK`].
///
/// Clones share one set: a transport can register a token when it is issued, and every
/// holder of a clone scrubs it from then on. Secrets shorter than
/// [`Redactor::MIN_LEN`] are not registered: they cannot be told apart from ordinary
/// text. `Debug` shows how many forms are held, never the forms.
#[derive(Clone, Default)]
pub struct Redactor {
    forms: Arc<RwLock<Vec<String>>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("forms", &self.read().len())
            .finish()
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Percent-encodes every byte but those `keep` accepts; `plus` writes a space as `+`.
fn percent(s: &str, keep: fn(u8) -> bool, plus: bool, hex: &[u8; 16]) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else if plus && b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(hex[usize::from(b >> 4)]));
            out.push(char::from(hex[usize::from(b & 15)]));
        }
    }
    out
}

/// RFC 3986 unreserved characters (OAuth 1.0a, URLs).
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// What `application/x-www-form-urlencoded` leaves alone.
fn form_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
}

/// Base64 (RFC 4648), standard or URL-safe alphabet, with or without padding.
fn base64(data: &[u8], url_safe: bool, pad: bool) -> String {
    let alphabet: &[u8; 64] = if url_safe {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let symbols = chunk.len() + 1;
        for i in 0..4 {
            if i < symbols {
                let index = (n >> (18 - 6 * i)) & 63;
                out.push(char::from(alphabet[index as usize]));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

impl Redactor {
    /// What replaces a secret.
    pub const MARK: &'static str = "[redacted]";

    /// The shortest secret registered, in bytes.
    pub const MIN_LEN: usize = 4;

    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<String>> {
        self.forms.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(&self, forms: impl IntoIterator<Item = String>) {
        let mut all = self.forms.write().unwrap_or_else(PoisonError::into_inner);
        for form in forms {
            if form.len() >= Self::MIN_LEN && !all.contains(&form) {
                all.push(form);
            }
        }
        // Longest first: a form that contains another is matched whole.
        all.sort_by_key(|f| std::cmp::Reverse(f.len()));
    }

    /// Registers a secret (a client secret, a token, a password) and its encoded forms.
    pub fn add(&self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < Self::MIN_LEN {
            return;
        }
        let mut forms = vec![secret.to_owned()];
        for hex in [HEX_UPPER, HEX_LOWER] {
            forms.push(percent(secret, unreserved, false, hex));
            forms.push(percent(secret, form_safe, true, hex));
        }
        if let Ok(json) = serde_json::to_string(secret) {
            forms.push(json[1..json.len() - 1].to_owned());
        }
        forms.push(sanitize(secret).into_owned());
        self.insert(forms);
    }

    /// Registers the HTTP Basic credentials of `id` and `secret`: the secret itself, and
    /// the base64 of `id:secret`, with both parts form-encoded first (RFC 6749) or not.
    pub fn add_basic(&self, id: &str, secret: &str) {
        self.add(secret);
        if secret.trim().len() < Self::MIN_LEN {
            return;
        }
        let encoded = format!(
            "{}:{}",
            percent(id, form_safe, true, HEX_UPPER),
            percent(secret, form_safe, true, HEX_UPPER)
        );
        let plain = format!("{id}:{secret}");
        let mut forms = Vec::new();
        for pair in [encoded, plain] {
            for url_safe in [false, true] {
                for pad in [true, false] {
                    forms.push(base64(pair.as_bytes(), url_safe, pad));
                }
            }
        }
        self.insert(forms);
    }

    /// Whether no secret is registered.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// `text` with every registered form replaced by [`Redactor::MARK`]; borrows when
    /// none occurs.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let forms = self.read();
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for form in forms.iter() {
            ranges.extend(
                text.match_indices(form.as_str())
                    .map(|(at, m)| (at, at + m.len())),
            );
        }
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        ranges.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        for (start, end) in ranges {
            if end <= pos {
                continue;
            }
            if start >= pos {
                out.push_str(&text[pos..start]);
                out.push_str(Self::MARK);
            }
            pos = end;
        }
        out.push_str(&text[pos..]);
        Cow::Owned(out)
    }

    /// `text` redacted, then [`sanitize`]d: ready for a terminal or a log line.
    pub fn clean(&self, text: &str) -> String {
        sanitize(&self.redact(text)).into_owned()
    }

    /// `error` with its messages redacted and sanitised.
    pub fn scrub(&self, error: Error) -> Error {
        error.map_messages(|m| self.clean(m))
    }
}

/// A session length for people: `45s`, `2m 52s`, `3h 5m`, `1d 3h` (two units at
/// most, the larger first). Waits and deadlines in messages use [`duration_text`].
pub fn human_duration(secs: u64) -> String {
    HumanDuration(secs).to_string()
}

/// [`human_duration`] as a `Display` value, to write it without an allocation of its
/// own (as the audit's finding details do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub u64);

impl HumanDuration {
    /// Writes the duration to `w`: the numbers through `itoa`, without the formatting
    /// machinery (the audit writes two per finding, for millions of findings).
    pub fn write_to<W: std::fmt::Write>(&self, w: &mut W) -> std::fmt::Result {
        let secs = self.0;
        let (d, h, m, s) = (
            secs / 86_400,
            (secs / 3600) % 24,
            (secs / 60) % 60,
            secs % 60,
        );
        let (a, ua, b, ub) = if d > 0 {
            (d, "d", h, "h")
        } else if h > 0 {
            (h, "h", m, "m")
        } else if m > 0 {
            (m, "m", s, "s")
        } else {
            (s, "s", 0, "")
        };
        let mut n = itoa::Buffer::new();
        w.write_str(n.format(a))?;
        w.write_str(ua)?;
        if b > 0 {
            w.write_char(' ')?;
            w.write_str(n.format(b))?;
            w.write_str(ub)?;
        }
        Ok(())
    }
}

impl std::fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.write_to(f)
    }
}

/// A wait or a deadline in messages: `250ms`, `1.5s`, `120s`.
pub fn duration_text(d: std::time::Duration) -> String {
    if d < std::time::Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_lengths_read_well() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(172), "2m 52s");
        assert_eq!(human_duration(300), "5m");
        assert_eq!(human_duration(3 * 3600 + 5 * 60 + 9), "3h 5m");
        assert_eq!(human_duration(86_400 + 3 * 3600 + 59), "1d 3h");
        assert_eq!(human_duration(2 * 86_400), "2d");
    }

    #[test]
    fn durations_for_messages() {
        use std::time::Duration;
        assert_eq!(duration_text(Duration::from_millis(250)), "250ms");
        assert_eq!(duration_text(Duration::from_secs(120)), "120s");
        assert_eq!(duration_text(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn controls_bidi_and_separators_are_escaped() {
        assert!(matches!(sanitize("José 東京"), Cow::Borrowed("José 東京")));
        assert_eq!(sanitize("line1\nline2"), "line1\\nline2");
        assert_eq!(
            sanitize("\rerror: all good\x1b[K"),
            "\\rerror: all good\\u{1b}[K"
        );
        assert_eq!(sanitize("\x1b]0;pwned\x07"), "\\u{1b}]0;pwned\\u{7}");
        assert_eq!(sanitize("a\u{9b}b\u{7f}"), "a\\u{9b}b\\u{7f}");
        assert_eq!(sanitize("x\u{202e}y\u{2067}z"), "x\\u{202e}y\\u{2067}z");
        assert_eq!(
            sanitize("\u{200f}\u{61c}\u{2028}"),
            "\\u{200f}\\u{61c}\\u{2028}"
        );
        assert_eq!(sanitize("tab\there"), "tab\\there");
    }

    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes(), false, true), want);
        }
        assert_eq!(base64(&[0xfb, 0xff], true, false), "-_8");
    }

    #[test]
    fn every_form_of_a_secret_is_redacted() {
        let r = Redactor::new();
        r.add("s3cr/t+p@ss w\"");
        r.add_basic("client id", "hunter22");
        for text in [
            "grant_type=client_credentials&client_secret=s3cr%2Ft%2Bp%40ss+w%22",
            "oauth s3cr%2Ft%2Bp%40ss%20w%22 and s3cr%2ft%2bp%40ss%20w%22",
            r#"{"echo":"s3cr/t+p@ss w\""}"#,
            "raw s3cr/t+p@ss w\" here",
            "Authorization: Basic Y2xpZW50K2lkOmh1bnRlcjIy",
            "Authorization: Basic Y2xpZW50IGlkOmh1bnRlcjIy",
            "hunter22",
        ] {
            let out = r.redact(text);
            assert!(out.contains(Redactor::MARK), "{text} -> {out}");
            for secret in ["s3cr", "hunter22", "Y2xpZW50"] {
                assert!(!out.contains(secret), "{text} -> {out}");
            }
        }
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
        assert!(!format!("{r:?}").contains("hunter"));
    }

    #[test]
    fn overlapping_forms_become_one_mark_and_clones_share_the_set() {
        let r = Redactor::new();
        let clone = r.clone();
        r.add("abcdef");
        clone.add("cdefgh");
        assert_eq!(r.redact("xabcdefghy"), "x[redacted]y");
        assert_eq!(r.redact("abcdef abcdef"), "[redacted] [redacted]");
        r.add("ab");
        assert_eq!(r.redact("ab"), "ab", "too short to register");
    }

    #[test]
    fn server_text_is_sanitised_when_the_error_is_built() {
        // JSON escapes, decoded by the parser into the raw characters.
        let attack = r"refused\r\u001b]0;pwned\u0007\u009b2J\u202e";
        let bodies: [(u16, String); 5] = [
            (
                400,
                format!(
                    r#"{{"code":400,"response":{{"status":400,"message":"{attack}","error":true}}}}"#
                ),
            ),
            (
                200,
                format!(
                    r#"{{"code":500,"response":{{"status":500,"message":"{attack}","error":true}}}}"#
                ),
            ),
            (502, format!(r#"{{"message":"{attack}"}}"#)),
            (
                401,
                format!(r#"{{"error":"invalid_client","error_description":"{attack}"}}"#),
            ),
            (
                502,
                "<html><title>refused\r\u{1b}]0;pwned\u{7}\u{9b}2J\u{202e}</title></html>"
                    .to_owned(),
            ),
        ];
        for (status, body) in bodies {
            let text = crate::classify_response(status, body.as_bytes(), None).to_string();
            assert!(!text.chars().any(needs_escape), "{body}: {text:?}");
            assert!(
                text.contains("refused\\r\\u{1b}]0;pwned\\u{7}\\u{9b}2J\\u{202e}"),
                "{body}: {text}"
            );
        }
        let plain = crate::classify_response(418, "teapot\u{1b}[2J".as_bytes(), None);
        assert!(plain.to_string().ends_with("teapot\\u{1b}[2J"), "{plain}");
    }

    #[test]
    fn errors_are_scrubbed() {
        let r = Redactor::new();
        r.add("tok-123456");
        let e = crate::classify_response(
            401,
            br#"{"message":"bad header: Bearer tok-123456\u001b[2J"}"#,
            None,
        );
        let text = r.scrub(e).to_string();
        assert!(
            !text.contains("tok-123456") && text.contains("Bearer [redacted]"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text}");
    }
}
