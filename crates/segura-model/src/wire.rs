//! A hand-written JSON reader for one session object: the hot path of the list decoder.
//!
//! [`SessionParser::parse_into`] reads a session from bytes into a reused
//! [`RemoteSession`] without allocating per field (strings without escapes are borrowed
//! from the input and copied into the session's existing buffers). It applies exactly the
//! same tolerance rules as the serde implementation, through
//! [`RemoteSession::set_field`].
//!
//! When the input ends before the object does, the error is
//! [`WireErrorKind::Incomplete`], so a streaming caller can wait for more bytes and try
//! again; every other error is final and carries the byte offset where it was found.
//! Unknown values are skipped iteratively, so nesting depth cannot overflow the stack.

use std::fmt;

use crate::field::Field;
use crate::session::{bit, FieldValueError, RemoteSession, Scalar};
use crate::time::{datetime_from_bytes, SessionDuration};

/// What went wrong while reading JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireErrorKind {
    /// The input ended before the value did: more bytes may complete it.
    Incomplete,
    /// The bytes are not valid JSON here; the text says what was expected.
    Syntax(&'static str),
    /// A string holds bytes that are not UTF-8.
    Utf8,
    /// Nesting deeper than the parser's limit.
    TooDeep,
    /// Valid JSON, but a documented field's value was not acceptable.
    Field(String),
}

/// An error while reading JSON, at a byte offset relative to the start of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// Byte offset of the problem, relative to the input given to the parser.
    pub offset: usize,
    /// The documented field being read, when the error is inside one.
    pub field: Option<&'static str>,
    /// What went wrong.
    pub kind: WireErrorKind,
}

impl WireError {
    fn new(offset: usize, kind: WireErrorKind) -> Self {
        Self {
            offset,
            field: None,
            kind,
        }
    }

    fn syntax(offset: usize, what: &'static str) -> Self {
        Self::new(offset, WireErrorKind::Syntax(what))
    }

    fn incomplete(offset: usize) -> Self {
        Self::new(offset, WireErrorKind::Incomplete)
    }

    /// Whether more input could complete the value.
    pub fn is_incomplete(&self) -> bool {
        self.kind == WireErrorKind::Incomplete
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            WireErrorKind::Incomplete => f.write_str("unexpected end of input")?,
            WireErrorKind::Syntax(what) => write!(f, "invalid JSON: {what}")?,
            WireErrorKind::Utf8 => f.write_str("invalid UTF-8 in a string")?,
            WireErrorKind::TooDeep => f.write_str("nesting too deep")?,
            WireErrorKind::Field(m) => {
                return write!(f, "field `{}`: {m}", self.field.unwrap_or("?"));
            }
        }
        write!(f, " at byte {}", self.offset)
    }
}

impl std::error::Error for WireError {}

/// Bytes that end the fast scan of a string: quote, backslash and control characters.
const fn string_specials() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
}
static STRING_SPECIAL: [bool; 256] = string_specials();

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Index of the first quote, backslash or control byte at or after `i`, or `b.len()`.
#[inline]
pub fn find_string_special(b: &[u8], mut i: usize) -> usize {
    // Eight bytes at a time: flag bytes equal to '"' or '\\', or below 0x20.
    while i + 8 <= b.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        let x = u64::from_le_bytes(w);
        let q = x ^ (LO * u64::from(b'"'));
        let s = x ^ (LO * u64::from(b'\\'));
        let hit = (q.wrapping_sub(LO) & !q)
            | (s.wrapping_sub(LO) & !s)
            | (x.wrapping_sub(LO * 0x20) & !x);
        let hit = hit & HI;
        if hit != 0 {
            return i + (hit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !STRING_SPECIAL[b[i] as usize] {
        i += 1;
    }
    i
}

/// Index of the first byte at or after `i` that is not JSON white space.
#[inline]
pub fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
            break;
        }
        i += 1;
    }
    i
}

fn hex4(b: &[u8], i: usize) -> Result<u32, WireError> {
    let Some(h) = b.get(i..i + 4) else {
        // Fewer than four bytes left: incomplete, unless what is there is already wrong.
        if b[i.min(b.len())..].iter().all(u8::is_ascii_hexdigit) {
            return Err(WireError::incomplete(b.len()));
        }
        return Err(WireError::syntax(i, "invalid \\u escape"));
    };
    let mut v = 0u32;
    for &c in h {
        let d = (c as char)
            .to_digit(16)
            .ok_or_else(|| WireError::syntax(i, "invalid \\u escape"))?;
        v = v * 16 + d;
    }
    Ok(v)
}

/// Decodes the escape at `b[i] == b'\\'`, appending to `out` when given; returns the
/// index after it.
fn escape(b: &[u8], i: usize, out: Option<&mut String>) -> Result<usize, WireError> {
    let Some(&c) = b.get(i + 1) else {
        return Err(WireError::incomplete(b.len()));
    };
    let (ch, next) = match c {
        b'"' => ('"', i + 2),
        b'\\' => ('\\', i + 2),
        b'/' => ('/', i + 2),
        b'b' => ('\u{8}', i + 2),
        b'f' => ('\u{c}', i + 2),
        b'n' => ('\n', i + 2),
        b'r' => ('\r', i + 2),
        b't' => ('\t', i + 2),
        b'u' => {
            let hi = hex4(b, i + 2)?;
            if (0xD800..0xDC00).contains(&hi) {
                match b.get(i + 6..i + 8) {
                    Some(b"\\u") => {}
                    Some(_) => return Err(WireError::syntax(i, "lone surrogate in \\u escape")),
                    None => {
                        let tail = &b[(i + 6).min(b.len())..];
                        if tail.is_empty() || tail == b"\\" {
                            return Err(WireError::incomplete(b.len()));
                        }
                        return Err(WireError::syntax(i, "lone surrogate in \\u escape"));
                    }
                }
                let lo = hex4(b, i + 8)?;
                if !(0xDC00..0xE000).contains(&lo) {
                    return Err(WireError::syntax(i, "lone surrogate in \\u escape"));
                }
                let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                let ch =
                    char::from_u32(cp).ok_or_else(|| WireError::syntax(i, "invalid \\u escape"))?;
                (ch, i + 12)
            } else {
                let ch = char::from_u32(hi)
                    .ok_or_else(|| WireError::syntax(i, "lone surrogate in \\u escape"))?;
                (ch, i + 6)
            }
        }
        _ => return Err(WireError::syntax(i, "invalid escape")),
    };
    if let Some(out) = out {
        out.push(ch);
    }
    Ok(next)
}

fn utf8(b: &[u8], start: usize) -> Result<&str, WireError> {
    std::str::from_utf8(b).map_err(|e| WireError::new(start + e.valid_up_to(), WireErrorKind::Utf8))
}

/// Reads the string that starts at `b[i] == b'"'`. Returns its unescaped text (borrowed
/// from `b` when it has no escapes, else built in `scratch`) and the index after the
/// closing quote.
pub fn parse_string<'a>(
    b: &'a [u8],
    i: usize,
    scratch: &'a mut String,
) -> Result<(&'a str, usize), WireError> {
    parse_string_in(b, i, scratch, None)
}

/// [`parse_string`], checking a string without escapes against `window` when given.
#[inline]
fn parse_string_in<'a: 'r, 'r>(
    b: &'a [u8],
    i: usize,
    scratch: &'r mut String,
    window: Option<&mut Utf8Window<'a>>,
) -> Result<(&'r str, usize), WireError> {
    debug_assert_eq!(b.get(i), Some(&b'"'));
    let start = i + 1;
    let j = find_string_special(b, start);
    match b.get(j) {
        None => return Err(WireError::incomplete(b.len())),
        Some(b'"') => {
            let text = match window {
                Some(window) => window.str(b, start, j)?,
                None => utf8(&b[start..j], start)?,
            };
            return Ok((text, j + 1));
        }
        Some(b'\\') => {}
        Some(_) => return Err(WireError::syntax(j, "control character in string")),
    }
    scratch.clear();
    let mut seg = start;
    let mut j = j;
    loop {
        match b.get(j) {
            None => return Err(WireError::incomplete(b.len())),
            Some(b'"') => {
                scratch.push_str(utf8(&b[seg..j], seg)?);
                return Ok((scratch.as_str(), j + 1));
            }
            Some(b'\\') => {
                scratch.push_str(utf8(&b[seg..j], seg)?);
                j = escape(b, j, Some(scratch))?;
                seg = j;
            }
            Some(_) => return Err(WireError::syntax(j, "control character in string")),
        }
        j = find_string_special(b, j);
    }
}

/// Skips the string that starts at `b[i] == b'"'`, validating it; returns the index
/// after the closing quote.
pub fn skip_string(b: &[u8], i: usize) -> Result<usize, WireError> {
    let mut j = i + 1;
    let mut seg = j;
    loop {
        j = find_string_special(b, j);
        match b.get(j) {
            None => return Err(WireError::incomplete(b.len())),
            Some(b'"') => {
                utf8(&b[seg..j], seg)?;
                return Ok(j + 1);
            }
            Some(b'\\') => {
                utf8(&b[seg..j], seg)?;
                j = escape(b, j, None)?;
                seg = j;
            }
            Some(_) => return Err(WireError::syntax(j, "control character in string")),
        }
    }
}

/// Scans the number that starts at `i`; returns the index after it.
pub fn scan_number(b: &[u8], i: usize) -> Result<usize, WireError> {
    let digits = |mut j: usize| {
        let s = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        (j, j - s)
    };
    let end_or = |j: usize, what| {
        if j >= b.len() {
            WireError::incomplete(b.len())
        } else {
            WireError::syntax(j, what)
        }
    };
    let mut j = i;
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    match b.get(j) {
        Some(b'0') => j += 1,
        Some(c) if c.is_ascii_digit() => j = digits(j).0,
        _ => return Err(end_or(j, "invalid number")),
    }
    if b.get(j) == Some(&b'.') {
        let (k, n) = digits(j + 1);
        if n == 0 {
            return Err(end_or(k, "invalid number"));
        }
        j = k;
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        j += 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let (k, n) = digits(j);
        if n == 0 {
            return Err(end_or(k, "invalid number"));
        }
        j = k;
    }
    if j >= b.len() {
        // More digits may follow in the next chunk.
        return Err(WireError::incomplete(b.len()));
    }
    Ok(j)
}

/// Checks the literal `lit` at `i`; returns the index after it.
fn literal(b: &[u8], i: usize, lit: &'static [u8]) -> Result<usize, WireError> {
    let avail = &b[i..b.len().min(i + lit.len())];
    if avail != &lit[..avail.len()] {
        return Err(WireError::syntax(i, "invalid literal"));
    }
    if avail.len() < lit.len() {
        return Err(WireError::incomplete(b.len()));
    }
    Ok(i + lit.len())
}

/// Skips any JSON value at `i` (after white space), iteratively: nesting depth is bounded
/// by `max_depth`, not by the stack. `stack` is scratch space, reused between calls.
pub fn skip_value(
    b: &[u8],
    i: usize,
    stack: &mut Vec<u8>,
    max_depth: usize,
) -> Result<usize, WireError> {
    stack.clear();
    let mut j = skip_ws(b, i);
    loop {
        // Expect a value at j.
        let Some(&c) = b.get(j) else {
            return Err(WireError::incomplete(b.len()));
        };
        match c {
            b'{' | b'[' => {
                if stack.len() >= max_depth {
                    return Err(WireError::new(j, WireErrorKind::TooDeep));
                }
                stack.push(c);
                j = skip_ws(b, j + 1);
                let close = if c == b'{' { b'}' } else { b']' };
                match b.get(j) {
                    None => return Err(WireError::incomplete(b.len())),
                    Some(&d) if d == close => {
                        stack.pop();
                        j += 1;
                    }
                    Some(_) if c == b'{' => {
                        j = object_key(b, j)?;
                        continue;
                    }
                    Some(_) => continue,
                }
            }
            b'"' => j = skip_string(b, j)?,
            b't' => j = literal(b, j, b"true")?,
            b'f' => j = literal(b, j, b"false")?,
            b'n' => j = literal(b, j, b"null")?,
            b'-' | b'0'..=b'9' => j = scan_number(b, j)?,
            _ => return Err(WireError::syntax(j, "expected a value")),
        }
        // After a value: close containers or move to the next element.
        loop {
            let Some(&top) = stack.last() else {
                return Ok(j);
            };
            j = skip_ws(b, j);
            let close = if top == b'{' { b'}' } else { b']' };
            match b.get(j) {
                None => return Err(WireError::incomplete(b.len())),
                Some(b',') => {
                    j = skip_ws(b, j + 1);
                    if top == b'{' {
                        j = object_key(b, j)?;
                    }
                    break;
                }
                Some(&d) if d == close => {
                    stack.pop();
                    j += 1;
                }
                Some(_) => {
                    return Err(WireError::syntax(
                        j,
                        if top == b'{' {
                            "expected ',' or '}'"
                        } else {
                            "expected ',' or ']'"
                        },
                    ))
                }
            }
        }
    }
}

/// Skips `"key" :` at `j`; returns the index of the value after white space.
fn object_key(b: &[u8], j: usize) -> Result<usize, WireError> {
    match b.get(j) {
        None => return Err(WireError::incomplete(b.len())),
        Some(b'"') => {}
        Some(_) => return Err(WireError::syntax(j, "expected a string key")),
    }
    let k = skip_ws(b, skip_string(b, j)?);
    match b.get(k) {
        None => Err(WireError::incomplete(b.len())),
        Some(b':') => Ok(skip_ws(b, k + 1)),
        Some(_) => Err(WireError::syntax(k, "expected ':'")),
    }
}

/// Whether `b[i..]` starts with `lit`. The length is a constant, so the comparison is a
/// few loads, not a call to `memcmp`.
#[inline(always)]
fn starts_with_at<const N: usize>(b: &[u8], i: usize, lit: &[u8; N]) -> bool {
    b.get(i..i + N).is_some_and(|s| s == lit)
}

/// Whether the documented key of `f`, with its closing quote and a `:` right after, is
/// at `b[i..]` (the compact form servers send); returns the index after the colon.
#[inline]
fn predicted_key(b: &[u8], i: usize, f: Field) -> Option<usize> {
    macro_rules! key {
        ($lit:literal) => {
            starts_with_at(b, i, $lit).then_some(i + $lit.len())
        };
    }
    match f {
        Field::Id => key!(b"id\":"),
        Field::User => key!(b"user\":"),
        Field::OriginIp => key!(b"origin_ip\":"),
        Field::Credential => key!(b"credential\":"),
        Field::Device => key!(b"device\":"),
        Field::Protocol => key!(b"protocol\":"),
        Field::Proxy => key!(b"proxy\":"),
        Field::SessionId => key!(b"session_id\":"),
        Field::Start => key!(b"start\":"),
        Field::End => key!(b"end\":"),
        Field::Time => key!(b"time\":"),
        Field::PreventPurge => key!(b"prevent_purge\":"),
        Field::Request => key!(b"request\":"),
        Field::Itsm => key!(b"ITSM\":"),
    }
}

/// Bytes validated as UTF-8 at once when a string of a session needs checking, before
/// the first session: then the length of the session before, so that one check usually
/// covers every string of the object (and little of the next) instead of one check per
/// string.
const UTF8_WINDOW: usize = 512;

/// A stretch of the input already validated as UTF-8: strings inside it are sliced from
/// it (a string's bounds are ASCII quotes, so always character boundaries) instead of
/// being validated one by one.
struct Utf8Window<'a> {
    start: usize,
    text: &'a str,
    /// How many bytes a refill validates.
    len: usize,
}

impl<'a> Utf8Window<'a> {
    fn new(len: usize) -> Self {
        Self {
            start: 0,
            text: "",
            len,
        }
    }

    /// `b[from..to]` as text, with the error [`utf8`] gives when it is not UTF-8.
    #[inline]
    fn str(&mut self, b: &'a [u8], from: usize, to: usize) -> Result<&'a str, WireError> {
        if let Some(s) = from
            .checked_sub(self.start)
            .and_then(|k| self.text.get(k..k + (to - from)))
        {
            return Ok(s);
        }
        self.refill(b, from, to)
    }

    #[cold]
    fn refill(&mut self, b: &'a [u8], from: usize, to: usize) -> Result<&'a str, WireError> {
        let stop = b.len().min(from + self.len).max(to);
        let text = match std::str::from_utf8(&b[from..stop]) {
            Ok(text) => text,
            // Valid up to a point past the string: keep that much (the cut may be in the
            // middle of a character at the window's end, or an error further on).
            Err(e) if from + e.valid_up_to() >= to => utf8(&b[from..from + e.valid_up_to()], from)?,
            Err(e) => return Err(WireError::new(from + e.valid_up_to(), WireErrorKind::Utf8)),
        };
        self.start = from;
        self.text = text;
        text.get(..to - from)
            .ok_or_else(|| WireError::new(to, WireErrorKind::Utf8))
    }
}

/// Reads session objects into a reused [`RemoteSession`]; holds reusable scratch space.
#[derive(Debug, Clone)]
pub struct SessionParser {
    scratch: String,
    stack: Vec<u8>,
    max_depth: usize,
    /// The UTF-8 window's length: the previous session's.
    window: usize,
}

impl Default for SessionParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionParser {
    /// Default nesting limit for unknown values inside a session.
    pub const DEFAULT_MAX_DEPTH: usize = 1 << 20;

    /// A parser with the default nesting limit.
    pub fn new() -> Self {
        Self {
            scratch: String::new(),
            stack: Vec::new(),
            max_depth: Self::DEFAULT_MAX_DEPTH,
            window: UTF8_WINDOW,
        }
    }

    /// Sets the nesting limit for unknown values.
    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Reads the session object at the start of `b` (after optional white space) into
    /// `session`, replacing its contents. Returns the index after the closing brace.
    pub fn parse_into(
        &mut self,
        b: &[u8],
        session: &mut RemoteSession,
    ) -> Result<usize, WireError> {
        let mut i = skip_ws(b, 0);
        match b.get(i) {
            None => return Err(WireError::incomplete(b.len())),
            Some(b'{') => {}
            Some(_) => return Err(WireError::syntax(i, "expected a session object")),
        }
        session.clear();
        let mut window = Utf8Window::new(self.window);
        let mut seen = 0u16;
        let mut expect = 0usize;
        i = skip_ws(b, i + 1);
        if b.get(i) == Some(&b'}') {
            i += 1;
        } else {
            loop {
                match b.get(i) {
                    None => return Err(WireError::incomplete(b.len())),
                    Some(b'"') => {}
                    Some(_) => return Err(WireError::syntax(i, "expected a string key")),
                }
                // Servers send the documented keys in documented order, compact: check
                // for the expected one by its bytes before the general path.
                let predicted = Field::ALL
                    .get(expect)
                    .and_then(|&f| Some((f, predicted_key(b, i + 1, f)?)));
                let (field, value_at) = match predicted {
                    Some((f, k)) => (Some(f), skip_ws(b, k)),
                    None => {
                        let (key, k) = parse_string(b, i, &mut self.scratch)?;
                        let field = Field::from_wire_key(key);
                        let k = skip_ws(b, k);
                        match b.get(k) {
                            None => return Err(WireError::incomplete(b.len())),
                            Some(b':') => {}
                            Some(_) => return Err(WireError::syntax(k, "expected ':'")),
                        }
                        (field, skip_ws(b, k + 1))
                    }
                };
                if let Some(f) = field {
                    expect = f as usize + 1;
                }
                i = value_at;
                i = match field {
                    Some(f) => {
                        let next = self.value_into(b, i, f, session, &mut window)?;
                        seen |= bit(f);
                        next
                    }
                    None => skip_value(b, i, &mut self.stack, self.max_depth)?,
                };
                i = skip_ws(b, i);
                match b.get(i) {
                    None => return Err(WireError::incomplete(b.len())),
                    Some(b',') => i = skip_ws(b, i + 1),
                    Some(b'}') => {
                        i += 1;
                        break;
                    }
                    Some(_) => return Err(WireError::syntax(i, "expected ',' or '}'")),
                }
            }
        }
        RemoteSession::check_required(seen).map_err(|e| field_error(0, e))?;
        self.window = i.clamp(64, 4 * UTF8_WINDOW);
        Ok(i)
    }

    fn value_into<'a>(
        &mut self,
        b: &'a [u8],
        i: usize,
        f: Field,
        session: &mut RemoteSession,
        window: &mut Utf8Window<'a>,
    ) -> Result<usize, WireError> {
        if let Some(next) = ascii_value_into(b, i, f, session) {
            return Ok(next);
        }
        let (scalar, next) = match b.get(i) {
            None => return Err(WireError::incomplete(b.len())),
            Some(b'"') => {
                let (s, next) = parse_string_in(b, i, &mut self.scratch, Some(window))?;
                (Scalar::Str(s), next)
            }
            Some(b'-' | b'0'..=b'9') => {
                let next = scan_number(b, i)?;
                // A number is ASCII by construction.
                (Scalar::Number(utf8(&b[i..next], i)?), next)
            }
            Some(b't') => (Scalar::Bool(true), literal(b, i, b"true")?),
            Some(b'f') => (Scalar::Bool(false), literal(b, i, b"false")?),
            Some(b'n') => (Scalar::Null, literal(b, i, b"null")?),
            Some(c @ (b'{' | b'[')) => {
                let next = skip_value(b, i, &mut self.stack, self.max_depth)?;
                let kind = if *c == b'{' { "an object" } else { "an array" };
                (Scalar::Compound(kind), next)
            }
            Some(_) => return Err(WireError::syntax(i, "expected a value")),
        };
        session
            .set_field(f, scalar)
            .map_err(|e| field_error(i, e))?;
        Ok(next)
    }
}

/// The hot path for the fields whose documented values are plain ASCII (ids, date-times,
/// durations, the purge flag, known protocols and proxies): read from the bytes, without
/// UTF-8 validation or a text copy. Anything else (escapes, other types, tolerated
/// variants, invalid values) returns `None` and takes the general path, which applies
/// the same rules through [`RemoteSession::set_field`] and reports errors.
fn ascii_value_into(b: &[u8], i: usize, f: Field, session: &mut RemoteSession) -> Option<usize> {
    if !matches!(
        f,
        Field::Id
            | Field::Start
            | Field::End
            | Field::Time
            | Field::PreventPurge
            | Field::Protocol
            | Field::Proxy
    ) || b.get(i) != Some(&b'"')
    {
        return None;
    }
    let j = find_string_special(b, i + 1);
    if b.get(j) != Some(&b'"') {
        return None;
    }
    let v = &b[i + 1..j];
    match f {
        Field::Id => {
            if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let n = v.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
            session.id = crate::SessionId::new(n);
        }
        Field::Start => session.start = datetime_from_bytes(v)?,
        Field::End if !v.starts_with(b"0000-00-00") => session.end = Some(datetime_from_bytes(v)?),
        Field::Time => session.time = Some(SessionDuration::from_bytes(v)?),
        Field::PreventPurge => {
            session.prevent_purge = match v {
                b"Yes" => true,
                b"No" => false,
                _ => return None,
            }
        }
        Field::Protocol => session.protocol = crate::Protocol::known_from_bytes(v)?,
        Field::Proxy => session.proxy = crate::Proxy::known_from_bytes(v)?,
        _ => return None,
    }
    Some(j + 1)
}

fn field_error(offset: usize, e: FieldValueError) -> WireError {
    WireError {
        offset,
        field: Some(e.field),
        kind: WireErrorKind::Field(e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<(RemoteSession, usize), WireError> {
        let mut p = SessionParser::new();
        let mut r = RemoteSession::default();
        p.parse_into(s.as_bytes(), &mut r).map(|n| (r, n))
    }

    const DOC: &str = r#"{"id":"3","user":"Admin","origin_ip":"172.16.20.125","credential":"usrdomadm01","device":"10.66.33.15:3389","protocol":"rdp","proxy":"Web Proxy","session_id":"e7acacb6aedbab70073456da5744166939b77527","start":"2024-05-06 16:05:07","end":"2024-05-06 16:07:59","time":"00:02:52","prevent_purge":"No","request":null,"ITSM":null}"#;

    #[test]
    fn parses_documented_session_like_serde() {
        let (a, n) = parse(DOC).unwrap();
        assert_eq!(n, DOC.len());
        let b: RemoteSession = serde_json::from_str(DOC).unwrap();
        assert_eq!(a, b);
        assert_eq!(serde_json::to_string(&a).unwrap(), DOC);
    }

    #[test]
    fn every_proper_prefix_is_incomplete() {
        for cut in 0..DOC.len() {
            let e = parse(&DOC[..cut]).unwrap_err();
            assert!(e.is_incomplete(), "cut {cut}: {e}");
        }
    }

    #[test]
    fn escapes_and_unicode() {
        let s = DOC.replace(
            r#""user":"Admin""#,
            r#""user":"a\"b\\c\n\u00e9\ud83d\ude00/\/ção""#,
        );
        let (r, _) = parse(&s).unwrap();
        assert_eq!(r.user, "a\"b\\c\né😀//ção");
        let serde: RemoteSession = serde_json::from_str(&s).unwrap();
        assert_eq!(r, serde);
    }

    #[test]
    fn rejects_bad_strings_with_offsets() {
        let bad = DOC.replace("Admin", "Ad\u{1}min");
        let e = parse(&bad).unwrap_err();
        assert_eq!(e.kind, WireErrorKind::Syntax("control character in string"));
        assert_eq!(e.offset, bad.find('\u{1}').unwrap());
        let lone = DOC.replace("Admin", r"\ud800x");
        assert!(matches!(
            parse(&lone).unwrap_err().kind,
            WireErrorKind::Syntax(_)
        ));
        let mut bytes = DOC.as_bytes().to_vec();
        let pos = DOC.find("Admin").unwrap();
        bytes[pos] = 0xff;
        let mut r = RemoteSession::default();
        let e = SessionParser::new().parse_into(&bytes, &mut r).unwrap_err();
        assert_eq!(e.kind, WireErrorKind::Utf8);
        assert_eq!(e.offset, pos);
    }

    /// The documented session with long non-ASCII text in several strings, so that
    /// characters straddle the parser's UTF-8 windows.
    fn wide_doc() -> String {
        DOC.replace("\"Admin\"", &format!("\"{}\"", "Conceição ".repeat(40)))
            .replace("usrdomadm01", &"ü€😀".repeat(50))
            .replace("10.66.33.15:3389", "servidor-ção.example")
    }

    #[test]
    fn non_ascii_strings_across_windows_read_like_serde() {
        let doc = wide_doc();
        assert!(doc.len() > 2 * UTF8_WINDOW);
        let b: RemoteSession = serde_json::from_str(&doc).unwrap();
        // With a fresh parser, and after a short session (whose length the window takes).
        let mut parser = SessionParser::new();
        for _ in 0..2 {
            let mut a = RemoteSession::default();
            assert_eq!(
                parser.parse_into(doc.as_bytes(), &mut a).unwrap(),
                doc.len()
            );
            assert_eq!(a, b);
            parser.parse_into(DOC.as_bytes(), &mut a).unwrap();
        }
        for cut in 0..doc.len() {
            let e = SessionParser::new()
                .parse_into(&doc.as_bytes()[..cut], &mut RemoteSession::default())
                .unwrap_err();
            assert!(e.is_incomplete(), "cut at {cut}: {e}");
        }
    }

    #[test]
    fn a_bad_byte_anywhere_in_a_string_is_reported_where_it_is() {
        let doc = wide_doc();
        let mut parser = SessionParser::new();
        let mut session = RemoteSession::default();
        // Every byte inside a string value (not a quote), in turn, made invalid UTF-8:
        // the error is the first invalid byte of the input, whichever window it is in.
        let values: Vec<usize> = doc
            .match_indices("\":\"")
            .flat_map(|(k, _)| {
                let from = k + 3;
                let len = doc[from..].find('"').unwrap();
                from..from + len
            })
            .collect();
        for pos in values {
            let mut bytes = doc.clone().into_bytes();
            bytes[pos] = 0xff;
            let first_bad = std::str::from_utf8(&bytes).unwrap_err().valid_up_to();
            let e = parser.parse_into(&bytes, &mut session).unwrap_err();
            assert_eq!(e.kind, WireErrorKind::Utf8, "byte {pos}");
            assert_eq!(e.offset, first_bad, "byte {pos}");
        }
    }

    #[test]
    fn field_errors_name_the_field() {
        let e = parse(&DOC.replace("2024-05-06 16:05:07", "yesterday")).unwrap_err();
        assert_eq!(e.field, Some("start"));
        assert!(e.to_string().contains("invalid date-time"), "{e}");
        let e = parse(&DOC.replace(r#""user":"Admin""#, r#""user":{"a":1}"#)).unwrap_err();
        assert_eq!(e.field, Some("user"));
        assert!(e.to_string().contains("found an object"), "{e}");
        let e = parse(r#"{"id":"3","start":"2024-05-06 16:05:07"}"#).unwrap_err();
        assert_eq!(e.field, Some("session_id"));
    }

    #[test]
    fn unknown_fields_skipped_even_deeply_nested() {
        let deep = format!(
            r#"{{"x":{}1{},{}"#,
            "[".repeat(200_000),
            "]".repeat(200_000),
            &DOC[1..]
        );
        let (r, n) = parse(&deep).unwrap();
        assert_eq!(n, deep.len());
        assert_eq!(r.id.get(), 3);
        let e = SessionParser::new()
            .with_max_depth(10)
            .parse_into(deep.as_bytes(), &mut RemoteSession::default())
            .unwrap_err();
        assert_eq!(e.kind, WireErrorKind::TooDeep);
    }

    #[test]
    fn find_special_matches_bytewise_scan() {
        let samples: [&[u8]; 6] = [
            b"abcdefghijklmnop\"",
            b"abcdefgh\\ijkl",
            b"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\x01",
            b"short",
            b"0123456789abcdef0123456789abcdef",
            b"\x7f\x80\xff\x1f",
        ];
        for s in samples {
            for start in 0..s.len() {
                let expect = (start..s.len())
                    .find(|&i| STRING_SPECIAL[s[i] as usize])
                    .unwrap_or(s.len());
                assert_eq!(find_string_special(s, start), expect, "{s:?} {start}");
            }
        }
    }

    #[test]
    fn numbers_and_literals() {
        assert_eq!(scan_number(b"-12.5e+3,", 0).unwrap(), 8);
        assert!(scan_number(b"12", 0).unwrap_err().is_incomplete());
        assert!(!scan_number(b"01,", 0).is_err_and(|e| e.is_incomplete()));
        assert_eq!(scan_number(b"01,", 0).unwrap(), 1);
        assert!(matches!(
            scan_number(b"-x", 0).unwrap_err().kind,
            WireErrorKind::Syntax(_)
        ));
        assert!(literal(b"nu", 0, b"null").unwrap_err().is_incomplete());
        assert!(!literal(b"nx", 0, b"null").unwrap_err().is_incomplete());
    }
}
