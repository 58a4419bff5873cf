//! The streaming decoder for the list (and get) bodies.
//!
//! [`ListDecoder`] is fed the body's bytes in chunks of any size, even one byte at a
//! time, and yields each session as soon as its closing brace has arrived. It reads the
//! envelope (`code`, `response`, `exception`, `tenant`) in whatever order the keys come,
//! before or after `remote_sessions`. Memory is bounded by the largest single session plus
//! one chunk: consumed bytes are dropped as soon as a session has been read, unknown
//! envelope members are skipped in constant memory, and a session larger than
//! [`DecoderConfig::max_element_size`] is an error, not an allocation.
//!
//! Problems are reported after the sessions that were complete: an error envelope, a
//! truncated body, trailing garbage, or a body that is not JSON at all, each with the byte
//! offset, the JSON path where known, and the number of sessions decoded before it. The
//! result does not depend on how the body was split into chunks.
//!
//! The nested form the vendor documents for 3.33 and on its current pages is read too:
//! `remote_sessions` holding inner envelopes, each with its own `remote_sessions` (and
//! `code`, `response`, `exception`, `tenant`). An element of the outer list is an inner
//! envelope when its first key is an envelope key (`code`, `response`, `exception`,
//! `tenant`, or the list key) and a session otherwise; the sessions are those of the
//! inner lists, in order, and an inner envelope that reports an error ends the stream
//! with that error, after the sessions before it. One level is documented and accepted:
//! an envelope inside an inner list is an error, not a guess.

use std::io::{self, Read};

use segura_model::wire::{self, SessionParser, WireError, WireErrorKind};
use segura_model::{ApiException, Envelope, RemoteSession, ResponseStatus};

use crate::error::{classify_response, Error};

/// Limits of the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecoderConfig {
    /// The largest single session (or envelope member) accepted, in bytes.
    pub max_element_size: usize,
    /// The deepest nesting accepted inside a session's unknown fields.
    pub max_depth: usize,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self {
            max_element_size: 1 << 20,
            max_depth: SessionParser::DEFAULT_MAX_DEPTH,
        }
    }
}

impl DecoderConfig {
    /// Sets the largest single session accepted, in bytes.
    pub fn max_element_size(mut self, bytes: usize) -> Self {
        self.max_element_size = bytes;
        self
    }
}

/// What [`ListDecoder::advance`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A session is ready: read it with [`ListDecoder::session`] or take it with
    /// [`ListDecoder::take_session`].
    Session,
    /// The decoder needs more input ([`ListDecoder::feed`], or [`ListDecoder::finish`] at
    /// the end of the body).
    NeedInput,
    /// The body was complete and valid, and reported no error.
    Done,
}

/// Which envelope member a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Code,
    Response,
    Exception,
    Tenant,
    List,
    Unknown,
}

/// The shape of a saved snapshot, once seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// An API answer: the list envelope, or a get answer.
    Envelope,
    /// A JSON array of sessions (`-o json`).
    Array,
    /// Session objects one after the other (`-o ndjson`).
    Lines,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    /// A snapshot's first `{`: its first key tells an envelope from a session.
    Sniff,
    /// Between the sessions of NDJSON.
    Lines,
    FirstKey,
    Key,
    Value(Slot),
    AfterValue,
    ArrayFirst,
    ArrayNext,
    AfterElement,
    SingleObject,
    Skipping,
    Trailer,
    Done,
    Failed,
}

/// Incremental scan of a value whose end is not in the buffer yet: how far it was
/// scanned, and the lexical state there. Used to know when a straddling session is
/// complete without re-parsing it on every chunk, and to skip unknown members without
/// buffering them.
#[derive(Debug, Clone, Copy, Default)]
struct Scan {
    scanned: usize,
    depth: usize,
    in_string: bool,
    escaped: bool,
    scalar: bool,
    started: bool,
}

impl Scan {
    /// Scans `b` from `self.scanned`; returns the end of the value (exclusive) when found.
    fn run(&mut self, b: &[u8]) -> Option<usize> {
        let mut i = self.scanned;
        if !self.started {
            let &c = b.get(i)?;
            self.started = true;
            match c {
                b'{' | b'[' => self.depth = 1,
                b'"' => self.in_string = true,
                _ => self.scalar = true,
            }
            i += 1;
        }
        while i < b.len() {
            let c = b[i];
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if c == b'\\' {
                    self.escaped = true;
                } else if c == b'"' {
                    self.in_string = false;
                    if self.depth == 0 {
                        return Some(i + 1);
                    }
                }
            } else if self.scalar {
                if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                    return Some(i);
                }
            } else {
                match c {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth -= 1;
                        if self.depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        self.scanned = i;
        None
    }
}

/// How much of a body that is not JSON is read to describe it.
const NOT_JSON_SAMPLE: usize = 4096;

/// The list key a decoder expects.
const LIST_KEY: &str = "remote_sessions";
const GET_KEY: &str = "remote_session";

/// A push decoder for the list body (`remote_sessions`) or the get body
/// (`remote_session`); see the module documentation.
#[derive(Debug)]
pub struct ListDecoder {
    buf: Vec<u8>,
    start: usize,
    base: u64,
    eof: bool,
    state: State,
    scan: Option<Scan>,
    parser: SessionParser,
    session: RemoteSession,
    sessions: u64,
    envelope: Envelope,
    list_key: &'static str,
    saw_list: bool,
    /// Inside an inner envelope of the nested form (see the module documentation).
    nested: bool,
    /// The inner envelope being read.
    inner: Envelope,
    /// Whether the inner envelope being read holds its list yet.
    inner_saw_list: bool,
    /// How many inner envelopes were complete, and the sessions before the current one.
    inner_done: u64,
    inner_first: u64,
    single_ok: bool,
    /// Reading a saved snapshot: any of the shapes of [`ListDecoder::for_snapshot`].
    snapshot: bool,
    shape: Shape,
    config: DecoderConfig,
    high_water: usize,
    error: Option<Error>,
}

impl Default for ListDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ListDecoder {
    /// A decoder for the list body, with default limits.
    pub fn new() -> Self {
        Self::with_config(DecoderConfig::default())
    }

    /// A decoder for the list body, with the given limits.
    pub fn with_config(config: DecoderConfig) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            base: 0,
            eof: false,
            state: State::Start,
            scan: None,
            parser: SessionParser::new().with_max_depth(config.max_depth),
            session: RemoteSession::default(),
            sessions: 0,
            envelope: Envelope::default(),
            list_key: LIST_KEY,
            saw_list: false,
            nested: false,
            inner: Envelope::default(),
            inner_saw_list: false,
            inner_done: 0,
            inner_first: 0,
            single_ok: false,
            snapshot: false,
            shape: Shape::Envelope,
            config,
            high_water: 0,
            error: None,
        }
    }

    /// A decoder for the body of the one-session endpoint, whose `remote_session` holds
    /// an array of one (a bare object is accepted too).
    pub fn for_get() -> Self {
        let mut d = Self::new();
        d.list_key = GET_KEY;
        d.single_ok = true;
        d
    }

    /// A decoder for a saved snapshot, whose shape it tells from the bytes: the list
    /// envelope (`remote_sessions`), a get answer (`remote_session`), a JSON array of
    /// sessions (what `-o json` prints), or session objects one after the other (NDJSON,
    /// what `-o ndjson` prints). An object is a session when its first key is a session
    /// field (`id`, `session_id`, ...), and an envelope otherwise. Memory stays bounded
    /// by the largest session in every shape.
    pub fn for_snapshot(config: DecoderConfig) -> Self {
        let mut d = Self::with_config(config);
        d.snapshot = true;
        d
    }

    /// Appends a chunk of the body.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(chunk);
        self.high_water = self.high_water.max(self.buf.len());
    }

    /// Reads up to `chunk` bytes from `reader` straight into the buffer; at the end of the
    /// reader, marks the end of the body. Returns the number of bytes read.
    pub fn fill_from<R: Read + ?Sized>(
        &mut self,
        reader: &mut R,
        chunk: usize,
    ) -> io::Result<usize> {
        self.compact();
        let old = self.buf.len();
        self.buf.resize(old + chunk.max(1), 0);
        let n = loop {
            match reader.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(old + n);
        self.high_water = self.high_water.max(self.buf.len());
        if n == 0 {
            self.eof = true;
        }
        Ok(n)
    }

    /// Marks the end of the body: no more input will come.
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// The session found by the last [`Step::Session`].
    pub fn session(&self) -> &RemoteSession {
        &self.session
    }

    /// Takes the session found by the last [`Step::Session`], leaving an empty one.
    pub fn take_session(&mut self) -> RemoteSession {
        std::mem::take(&mut self.session)
    }

    /// Exchanges the session found by the last [`Step::Session`] with `other`: the caller
    /// keeps the session, and the decoder fills `other` (reusing its buffers) next. A
    /// consumer that hands sessions to another thread recycles them this way without
    /// copying or allocating per session.
    pub fn swap_session(&mut self, other: &mut RemoteSession) {
        std::mem::swap(&mut self.session, other);
    }

    /// How many sessions have been decoded.
    pub fn sessions_decoded(&self) -> u64 {
        self.sessions
    }

    /// How many bytes of the body have been consumed.
    pub fn bytes_consumed(&self) -> u64 {
        self.base + self.start as u64
    }

    /// The largest number of bytes the decoder has held at once.
    pub fn buffer_high_water(&self) -> usize {
        self.high_water
    }

    /// The envelope members read so far (of the outer envelope; in the nested form, the
    /// tenant of the first inner envelope that names one when the outer does not).
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// Whether the end of the body has been signalled.
    pub fn is_finished_input(&self) -> bool {
        self.eof
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.base += self.start as u64;
            self.start = 0;
        }
    }

    fn path(&self) -> String {
        match (self.state, self.shape) {
            (State::ArrayFirst | State::ArrayNext | State::AfterElement, Shape::Array)
            | (State::Lines, _) => return format!("$[{}]", self.sessions),
            _ => {}
        }
        let key = self.list_key;
        if self.nested {
            let outer = format!("{key}[{}]", self.inner_done);
            return match self.state {
                State::ArrayFirst | State::ArrayNext | State::AfterElement => {
                    format!("{outer}.{key}[{}]", self.sessions - self.inner_first)
                }
                State::SingleObject => format!("{outer}.{key}"),
                _ => outer,
            };
        }
        match self.state {
            State::ArrayFirst | State::ArrayNext | State::AfterElement => {
                format!("{key}[{}]", self.sessions)
            }
            State::SingleObject => key.to_owned(),
            _ => "$".to_owned(),
        }
    }

    fn fail(
        &mut self,
        message: impl Into<String>,
        at: usize,
        path: Option<String>,
        truncated: bool,
    ) -> Error {
        let e = Error::InvalidResponse {
            message: message.into(),
            offset: self.base + at as u64,
            path,
            sessions_before: self.sessions,
            truncated,
        };
        self.state = State::Failed;
        self.error = Some(e.clone());
        e
    }

    /// The result when the buffer ran out at `i`.
    fn starved(&mut self) -> Result<Step, Error> {
        if self.eof {
            let path = Some(self.path());
            let at = self.buf.len();
            Err(self.fail(
                "the body ended before the JSON did (truncated)",
                at,
                path,
                true,
            ))
        } else {
            Ok(Step::NeedInput)
        }
    }

    fn wire_error(&mut self, base: usize, e: WireError, path: String) -> Error {
        let message = match &e.kind {
            WireErrorKind::Incomplete => {
                "the body ended before the JSON did (truncated)".to_owned()
            }
            WireErrorKind::Syntax(what) => format!("invalid JSON: {what}"),
            WireErrorKind::Utf8 => "invalid UTF-8 in a string".to_owned(),
            WireErrorKind::TooDeep => "nesting too deep".to_owned(),
            WireErrorKind::Field(m) => m.clone(),
            _ => e.to_string(),
        };
        let path = match e.field {
            Some(f) => format!("{path}.{f}"),
            None => path,
        };
        let truncated = e.is_incomplete();
        self.fail(message, base + e.offset, Some(path), truncated)
    }

    fn not_json(&mut self, i: usize) -> Error {
        let rest = &self.buf[i..self.buf.len().min(i + NOT_JSON_SAMPLE)];
        let text = String::from_utf8_lossy(rest);
        let message = if let Some(page) = crate::error::html_page(rest) {
            format!("the body is an HTML page, not JSON ({page})")
        } else {
            let snippet: String = text.chars().take(40).collect();
            format!("the body is not JSON (it starts with {snippet:?})")
        };
        self.fail(message, i, None, false)
    }

    /// Runs the decoder until it finds a session, needs input, or reaches the end.
    ///
    /// After an error, the same error is returned again.
    pub fn advance(&mut self) -> Result<Step, Error> {
        loop {
            let b = &self.buf[..];
            match self.state {
                State::Failed => {
                    return Err(self.error.clone().unwrap_or(Error::InvalidResponse {
                        message: "decoder failed".into(),
                        offset: self.base,
                        path: None,
                        sessions_before: self.sessions,
                        truncated: false,
                    }))
                }
                State::Done => return Ok(Step::Done),
                State::Start => {
                    let mut i = self.start;
                    if self.base == 0 && i == 0 {
                        const BOM: &[u8] = b"\xEF\xBB\xBF";
                        let n = b.len().min(3);
                        if n > 0 && b[..n] == BOM[..n] {
                            if n < 3 {
                                return self.starved_or_empty();
                            }
                            i = 3;
                        }
                    }
                    let i = wire::skip_ws(b, i);
                    match b.get(i) {
                        None => {
                            self.start = i;
                            return self.starved_or_empty();
                        }
                        Some(b'{') if self.snapshot => {
                            self.start = i;
                            self.state = State::Sniff;
                        }
                        Some(b'[') if self.snapshot => {
                            self.start = i + 1;
                            self.shape = Shape::Array;
                            self.saw_list = true;
                            self.state = State::ArrayFirst;
                        }
                        Some(b'{') => {
                            self.start = i + 1;
                            self.state = State::FirstKey;
                        }
                        // Not JSON: gather a little more so the message (an HTML
                        // page's title, say) does not depend on the chunking.
                        Some(_) if !self.eof && b.len() - i < NOT_JSON_SAMPLE => {
                            return Ok(Step::NeedInput)
                        }
                        Some(_) => return Err(self.not_json(i)),
                    }
                }
                State::Sniff => {
                    let i = wire::skip_ws(b, self.start + 1);
                    let session = match b.get(i) {
                        None => return self.starved(),
                        Some(b'"') => {
                            let mut scratch = String::new();
                            match wire::parse_string(b, i, &mut scratch) {
                                Ok((key, _)) => segura_model::Field::from_wire_key(key).is_some(),
                                Err(e) if e.is_incomplete() => {
                                    if b.len() - i > self.config.max_element_size {
                                        return Err(self.fail(
                                            "a key is larger than the size limit",
                                            i,
                                            None,
                                            false,
                                        ));
                                    }
                                    return self.starved();
                                }
                                Err(e) => return Err(self.wire_error(0, e, "$".into())),
                            }
                        }
                        Some(_) => false,
                    };
                    if session {
                        self.shape = Shape::Lines;
                        self.saw_list = true;
                        self.state = State::Lines;
                    } else {
                        self.start += 1;
                        self.state = State::FirstKey;
                    }
                }
                State::Lines => {
                    let i = wire::skip_ws(b, self.start);
                    match b.get(i) {
                        None => {
                            self.start = i;
                            if !self.eof {
                                return Ok(Step::NeedInput);
                            }
                            return self.complete();
                        }
                        Some(b'{') => {
                            self.start = i;
                            return self.element(State::Lines);
                        }
                        Some(_) => {
                            let path = Some(self.path());
                            return Err(self.fail(
                                "invalid JSON: expected a session object (one per line)",
                                i,
                                path,
                                false,
                            ));
                        }
                    }
                }
                State::FirstKey | State::Key => {
                    let i = wire::skip_ws(b, self.start);
                    match b.get(i) {
                        None => return self.starved(),
                        Some(b'}') if self.state == State::FirstKey => {
                            self.start = i + 1;
                            if self.nested {
                                self.close_inner(i)?;
                            } else {
                                self.state = State::Trailer;
                            }
                        }
                        Some(b'"') => {
                            let mut scratch = String::new();
                            let slot = match wire::parse_string(b, i, &mut scratch) {
                                Ok((key, end)) => {
                                    if self.snapshot && !self.saw_list && key == GET_KEY {
                                        // A saved get answer.
                                        self.list_key = GET_KEY;
                                        self.single_ok = true;
                                    }
                                    let slot = self.slot_for(key);
                                    let j = wire::skip_ws(b, end);
                                    match b.get(j) {
                                        None => None,
                                        Some(b':') => Some((slot, j + 1)),
                                        Some(_) => {
                                            return Err(self.fail(
                                                "invalid JSON: expected ':'",
                                                j,
                                                None,
                                                false,
                                            ))
                                        }
                                    }
                                }
                                Err(e) if e.is_incomplete() => None,
                                // parse_string reports offsets within `b`, not from `i`.
                                Err(e) => return Err(self.wire_error(0, e, "$".into())),
                            };
                            let saw_list = if self.nested {
                                self.inner_saw_list
                            } else {
                                self.saw_list
                            };
                            match slot {
                                Some((Slot::List, _)) if saw_list => {
                                    // Which of the two lists is the answer would be a
                                    // guess: refuse.
                                    let msg = format!(
                                        "the envelope holds `{}` more than once",
                                        self.list_key
                                    );
                                    let path = Some(if self.nested {
                                        format!("{}.{}", self.path(), self.list_key)
                                    } else {
                                        self.list_key.to_owned()
                                    });
                                    return Err(self.fail(msg, i, path, false));
                                }
                                Some((slot, next)) => {
                                    if slot == Slot::List {
                                        if self.nested {
                                            self.inner_saw_list = true;
                                        } else {
                                            self.saw_list = true;
                                        }
                                    }
                                    self.start = next;
                                    self.state = State::Value(slot);
                                }
                                None => {
                                    if b.len() - i > self.config.max_element_size {
                                        return Err(self.fail(
                                            "an envelope key is larger than the size limit",
                                            i,
                                            None,
                                            false,
                                        ));
                                    }
                                    return self.starved();
                                }
                            }
                        }
                        Some(_) => {
                            let what = if self.state == State::FirstKey {
                                "invalid JSON: expected a string key or '}'"
                            } else {
                                "invalid JSON: expected a string key"
                            };
                            return Err(self.fail(what, i, None, false));
                        }
                    }
                }
                State::Value(slot) => {
                    let i = wire::skip_ws(b, self.start);
                    let Some(&c) = b.get(i) else {
                        return self.starved();
                    };
                    self.start = i;
                    match slot {
                        Slot::List => {
                            match c {
                                b'[' => {
                                    self.start = i + 1;
                                    self.state = State::ArrayFirst;
                                }
                                b'{' if self.single_ok => self.state = State::SingleObject,
                                b'n' if b.len() >= i + 4 && &b[i..i + 4] == b"null" => {
                                    // A null list is an empty list.
                                    self.start = i + 4;
                                    self.state = State::AfterValue;
                                }
                                b'n' if b"null".starts_with(&b[i..]) => return self.starved(),
                                _ => {
                                    let found = match c {
                                        b'{' => "an object",
                                        b'"' => "a string",
                                        b'n' | b't' | b'f' => "a literal",
                                        _ => "a number",
                                    };
                                    let msg = format!(
                                        "`{}` is not an array (found {found})",
                                        self.list_key
                                    );
                                    return Err(self.fail(
                                        msg,
                                        i,
                                        Some(self.list_key.to_owned()),
                                        false,
                                    ));
                                }
                            }
                        }
                        Slot::Unknown => {
                            self.scan = Some(Scan::default());
                            self.state = State::Skipping;
                        }
                        _ => {
                            let limit = b.len().min(i + self.config.max_element_size + 1);
                            let mut stack = Vec::new();
                            match wire::skip_value(&b[..limit], i, &mut stack, 512) {
                                Ok(end) => {
                                    let value = b[i..end].to_vec();
                                    if let Err(e) = self.set_envelope(slot, &value) {
                                        let key = slot_name(slot);
                                        return Err(self.fail(
                                            format!("invalid `{key}`: {e}"),
                                            i,
                                            Some(key.to_owned()),
                                            false,
                                        ));
                                    }
                                    self.start = end;
                                    self.state = State::AfterValue;
                                }
                                Err(e) if e.is_incomplete() => {
                                    if limit < b.len() || b.len() - i > self.config.max_element_size
                                    {
                                        let key = slot_name(slot);
                                        return Err(self.fail(
                                            format!("`{key}` is larger than the size limit"),
                                            i,
                                            Some(key.to_owned()),
                                            false,
                                        ));
                                    }
                                    return self.starved();
                                }
                                Err(e) => {
                                    return Err(self.wire_error(0, e, slot_name(slot).to_owned()))
                                }
                            }
                        }
                    }
                }
                State::Skipping => {
                    let scan = self.scan.get_or_insert_with(Scan::default);
                    let from = self.start;
                    match scan.run(&b[from..]) {
                        Some(end) => {
                            self.scan = None;
                            self.start = from + end;
                            self.state = State::AfterValue;
                        }
                        None => {
                            // Drop what was scanned: unknown members cost no memory.
                            let scanned = scan.scanned;
                            scan.scanned = 0;
                            self.start = from + scanned;
                            if self.eof {
                                return self.starved();
                            }
                            return Ok(Step::NeedInput);
                        }
                    }
                }
                State::AfterValue => {
                    let i = wire::skip_ws(b, self.start);
                    match b.get(i) {
                        None => return self.starved(),
                        Some(b',') => {
                            self.start = i + 1;
                            self.state = State::Key;
                        }
                        Some(b'}') => {
                            self.start = i + 1;
                            if self.nested {
                                self.close_inner(i)?;
                            } else {
                                self.state = State::Trailer;
                            }
                        }
                        Some(_) => {
                            return Err(self.fail(
                                "invalid JSON: expected ',' or '}'",
                                i,
                                None,
                                false,
                            ))
                        }
                    }
                }
                State::ArrayFirst | State::ArrayNext => {
                    let i = wire::skip_ws(b, self.start);
                    match b.get(i) {
                        None => return self.starved(),
                        Some(b']') if self.state == State::ArrayFirst => {
                            self.start = i + 1;
                            self.state = self.after_list();
                        }
                        Some(b'{') => {
                            self.start = i;
                            if self.shape == Shape::Envelope {
                                match self.sniff_envelope(i)? {
                                    None => return self.starved(),
                                    Some(true) if self.nested => {
                                        let path = Some(self.path());
                                        return Err(self.fail(
                                            "an envelope nested deeper than documented \
                                             (an inner envelope's list holds another envelope)",
                                            i,
                                            path,
                                            false,
                                        ));
                                    }
                                    Some(true) => {
                                        self.nested = true;
                                        self.inner = Envelope::default();
                                        self.inner_saw_list = false;
                                        self.inner_first = self.sessions;
                                        self.start = i + 1;
                                        self.state = State::FirstKey;
                                        continue;
                                    }
                                    Some(false) => {}
                                }
                            }
                            return self.element(State::AfterElement);
                        }
                        Some(_) => {
                            let path = Some(self.path());
                            return Err(self.fail(
                                "invalid JSON: expected a session object",
                                i,
                                path,
                                false,
                            ));
                        }
                    }
                }
                State::SingleObject => return self.element(State::AfterValue),
                State::AfterElement => {
                    let i = wire::skip_ws(b, self.start);
                    match b.get(i) {
                        None => return self.starved(),
                        Some(b',') => {
                            self.start = i + 1;
                            self.state = State::ArrayNext;
                        }
                        Some(b']') => {
                            self.start = i + 1;
                            self.state = self.after_list();
                        }
                        Some(_) => {
                            let path = Some(if self.nested {
                                format!("{}[{}].{}", self.list_key, self.inner_done, self.list_key)
                            } else {
                                self.list_key.to_owned()
                            });
                            return Err(self.fail(
                                "invalid JSON: expected ',' or ']'",
                                i,
                                path,
                                false,
                            ));
                        }
                    }
                }
                State::Trailer => {
                    let i = wire::skip_ws(b, self.start);
                    if i < b.len() {
                        return Err(self.fail(
                            "trailing data after the end of the JSON body",
                            i,
                            None,
                            false,
                        ));
                    }
                    self.start = i;
                    if !self.eof {
                        return Ok(Step::NeedInput);
                    }
                    return self.complete();
                }
            }
        }
    }

    /// Where the end of the list leads: the rest of the envelope, or the end of a bare
    /// array.
    fn after_list(&self) -> State {
        match self.shape {
            Shape::Array => State::Trailer,
            _ => State::AfterValue,
        }
    }

    /// Whether the object at `i` (which holds `{`) is an inner envelope: its first key is
    /// an envelope key and no session field. `None` when the key is not complete yet.
    fn sniff_envelope(&mut self, i: usize) -> Result<Option<bool>, Error> {
        let b = &self.buf[..];
        let k = wire::skip_ws(b, i + 1);
        match b.get(k) {
            None => {
                if self.eof {
                    // Let the session parser report the truncation.
                    return Ok(Some(false));
                }
                Ok(None)
            }
            Some(b'"') => {
                let mut scratch = String::new();
                match wire::parse_string(b, k, &mut scratch) {
                    Ok((key, _)) => Ok(Some(
                        matches!(key, "code" | "response" | "exception" | "tenant")
                            || key == self.list_key,
                    )),
                    Err(e) if e.is_incomplete() && !self.eof => {
                        if b.len() - k > self.config.max_element_size {
                            return Err(self.too_large(i));
                        }
                        Ok(None)
                    }
                    // The session parser reports the error at its place.
                    Err(_) => Ok(Some(false)),
                }
            }
            Some(_) => Ok(Some(false)),
        }
    }

    /// The end of an inner envelope (its `}` at `at`): its error, if it reports one,
    /// ends the stream; otherwise the outer list goes on.
    fn close_inner(&mut self, at: usize) -> Result<(), Error> {
        if self.inner.is_error() {
            let body = serde_json::to_vec(&self.inner).unwrap_or_default();
            let e = classify_response(200, &body, None);
            self.state = State::Failed;
            self.error = Some(e.clone());
            return Err(e);
        }
        if !self.inner_saw_list {
            let msg = format!(
                "the inner envelope {}[{}] has no `{}` member",
                self.list_key, self.inner_done, self.list_key
            );
            return Err(self.fail(msg, at, None, false));
        }
        if self.envelope.tenant.is_none() {
            self.envelope.tenant = self.inner.tenant.take();
        }
        self.nested = false;
        self.inner_done += 1;
        self.state = State::AfterElement;
        Ok(())
    }

    fn starved_or_empty(&mut self) -> Result<Step, Error> {
        if self.eof {
            let at = self.buf.len();
            return Err(self.fail("the body is empty", at, None, true));
        }
        self.starved()
    }

    /// Reads the session at `self.start`, which holds `{`.
    fn element(&mut self, after: State) -> Result<Step, Error> {
        let limit = self.config.max_element_size;
        let i = self.start;
        let avail = self.buf.len() - i;
        // Without a scan in progress, try to parse at once (the common case); with one,
        // parse only when the scan says the object is complete, or at a limit.
        let try_parse = match &mut self.scan {
            None => true,
            Some(scan) => {
                let window = &self.buf[i..self.buf.len().min(i + limit + 1)];
                scan.run(window).is_some() || self.eof || avail > limit
            }
        };
        if !try_parse {
            return Ok(Step::NeedInput);
        }
        let window = &self.buf[i..self.buf.len().min(i + limit + 1)];
        match self.parser.parse_into(window, &mut self.session) {
            Ok(n) if n <= limit => {
                self.scan = None;
                self.start = i + n;
                self.sessions += 1;
                self.state = after;
                Ok(Step::Session)
            }
            Ok(_) => Err(self.too_large(i)),
            Err(e) if e.is_incomplete() => {
                if avail > limit {
                    return Err(self.too_large(i));
                }
                if self.eof {
                    let path = self.path();
                    return Err(self.wire_error(i, e, path));
                }
                if self.scan.is_none() {
                    let mut scan = Scan::default();
                    // The parser saw everything available and wants more: so will the scan.
                    let _ = scan.run(&self.buf[i..]);
                    self.scan = Some(scan);
                }
                Ok(Step::NeedInput)
            }
            Err(e) => {
                let path = self.path();
                Err(self.wire_error(i, e, path))
            }
        }
    }

    fn too_large(&mut self, i: usize) -> Error {
        let limit = self.config.max_element_size;
        let path = Some(self.path());
        self.fail(
            format!("a session is larger than the size limit of {limit} bytes"),
            i,
            path,
            false,
        )
    }

    fn slot_for(&self, key: &str) -> Slot {
        match key {
            "code" => Slot::Code,
            "response" => Slot::Response,
            "exception" => Slot::Exception,
            "tenant" => Slot::Tenant,
            k if k == self.list_key => Slot::List,
            _ => Slot::Unknown,
        }
    }

    fn set_envelope(&mut self, slot: Slot, value: &[u8]) -> Result<(), serde_json::Error> {
        if matches!(slot, Slot::Response | Slot::Exception)
            && !(value.starts_with(b"{") || value == b"null")
        {
            return Err(serde::de::Error::custom("expected an object"));
        }
        let envelope = if self.nested {
            &mut self.inner
        } else {
            &mut self.envelope
        };
        match slot {
            Slot::Code => {
                // Reuse the envelope's lenient integer rules.
                let wrapped = [b"{\"code\":".as_slice(), value, b"}"].concat();
                envelope.code = serde_json::from_slice::<Envelope>(&wrapped)?.code;
            }
            Slot::Response => {
                envelope.response = serde_json::from_slice::<Option<ResponseStatus>>(value)?;
            }
            Slot::Exception => {
                envelope.exception = serde_json::from_slice::<Option<ApiException>>(value)?;
            }
            Slot::Tenant => {
                envelope.tenant = match serde_json::from_slice::<serde_json::Value>(value)? {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(s),
                    other => Some(other.to_string()),
                };
            }
            Slot::List | Slot::Unknown => {}
        }
        Ok(())
    }

    /// The end of a syntactically complete body: check what the envelope said.
    fn complete(&mut self) -> Result<Step, Error> {
        if self.envelope.is_error() {
            let body = serde_json::to_vec(&self.envelope).unwrap_or_default();
            let e = classify_response(200, &body, None);
            self.state = State::Failed;
            self.error = Some(e.clone());
            return Err(e);
        }
        if !self.saw_list {
            let msg = format!("the body has no `{}` member", self.list_key);
            let at = self.buf.len();
            return Err(self.fail(msg, at, None, false));
        }
        self.state = State::Done;
        Ok(Step::Done)
    }
}

fn slot_name(slot: Slot) -> &'static str {
    match slot {
        Slot::Code => "code",
        Slot::Response => "response",
        Slot::Exception => "exception",
        Slot::Tenant => "tenant",
        Slot::List => "remote_sessions",
        Slot::Unknown => "?",
    }
}
