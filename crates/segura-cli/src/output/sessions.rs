//! Sessions in every format: the streaming sinks of `list`, the detail view of `get`,
//! and the event lines of `watch`.
//!
//! JSON and NDJSON write the canonical wire form of `segura-model` (or its projection on
//! the chosen fields); CSV writes the same text under the API's key names, with cells
//! that a spreadsheet would run as a formula neutralised (unless `--csv-raw`); only the
//! table rewrites values for people (readable durations, escaped control characters).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use segura_model::{Field, FieldText, RemoteSession, SessionId};

use super::table::{Cell, Column, Table, Tone};
use segura_api::{siem, ApplianceZone};

use super::{
    human_duration, rfc3339_json, running_duration, sanitize, time_text, Format, OutputOpts,
};
use crate::clock::{rfc3339, Now};

/// Where a stream of sessions is printed.
pub trait SessionSink {
    /// Prints one session.
    fn write(&mut self, session: &RemoteSession) -> io::Result<()>;
    /// Ends the output (closes a JSON array, prints a held table page) and flushes; a
    /// sink of whole lines has nothing to close and only flushes.
    fn finish(&mut self) -> io::Result<()> {
        self.flush()
    }
    /// Makes what was written visible (the input is waiting); a table holding rows to
    /// size its columns keeps them.
    fn flush(&mut self) -> io::Result<()>;
    /// The list failed: flushes what is complete without pretending the output is
    /// (a JSON array stays open, so no reader takes it for a whole list); a sink of
    /// whole lines only flushes.
    fn abort(&mut self) -> io::Result<()> {
        self.flush()
    }
}

/// The sink for `opts.format`.
pub fn session_sink<'a, W: Write + 'a>(
    out: W,
    opts: &OutputOpts,
) -> io::Result<Box<dyn SessionSink + 'a>> {
    Ok(match opts.format {
        Format::Ndjson => Box::new(JsonLines::new(out, opts, false)),
        Format::Json => Box::new(JsonLines::new(out, opts, true)),
        Format::Csv => Box::new(CsvSink::new(out, opts, None)?),
        Format::Table | Format::Wide => Box::new(TableSink::new(out, opts, None)),
        Format::Siem(format) => Box::new(SiemLines::new(out, opts, format)),
    })
}

/// The SIEM event of a `watch` event.
fn siem_kind(kind: EventKind) -> siem::EventKind {
    match kind {
        EventKind::New => siem::EventKind::Started,
        EventKind::Ended => siem::EventKind::Ended,
        EventKind::Vanished => siem::EventKind::Vanished,
    }
}

/// One SIEM record (ECS, OCSF or CEF) of a `watch` event, appended to `out` as one line
/// without its line break: what a printer or another sink (syslog) carries. `session`
/// is `None` for a vanished session whose fields this process never saw.
pub fn siem_event_record(
    format: siem::Format,
    kind: EventKind,
    id: SessionId,
    session: Option<&RemoteSession>,
    observed_at: chrono::DateTime<chrono::Utc>,
    ctx: &siem::Context,
    out: &mut Vec<u8>,
) {
    let event = siem::Event {
        kind: siem_kind(kind),
        id,
        session,
        observed_at,
    };
    siem::render(format, &event, ctx, out);
}

/// SIEM records, one line each: `list` writes one `listed` record per session.
struct SiemLines<W: Write> {
    out: W,
    buf: Vec<u8>,
    format: siem::Format,
    ctx: siem::Context,
    flush_each: bool,
    observed_at: chrono::DateTime<chrono::Utc>,
}

impl<W: Write> SiemLines<W> {
    fn new(out: W, opts: &OutputOpts, format: siem::Format) -> Self {
        Self {
            out,
            buf: Vec::with_capacity(1024),
            format,
            ctx: siem::Context::new(opts.zone),
            flush_each: opts.flush_each,
            observed_at: chrono::Utc::now(),
        }
    }

    /// Writes the line in `buf`, after the record appended to it.
    fn emit(&mut self) -> io::Result<()> {
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)?;
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }
}

impl<W: Write> SessionSink for SiemLines<W> {
    fn write(&mut self, session: &RemoteSession) -> io::Result<()> {
        let event = siem::Event::of(siem::EventKind::Listed, session, self.observed_at);
        self.buf.clear();
        siem::render(self.format, &event, &self.ctx, &mut self.buf);
        self.emit()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> EventSink for SiemLines<W> {
    fn begin_poll(&mut self, _poll: u64, now: Now) {
        self.observed_at = now.at.with_timezone(&chrono::Utc);
    }

    fn event(&mut self, kind: EventKind, session: &RemoteSession) -> io::Result<()> {
        self.buf.clear();
        let (format, at) = (self.format, self.observed_at);
        siem_event_record(
            format,
            kind,
            session.id,
            Some(session),
            at,
            &self.ctx,
            &mut self.buf,
        );
        self.emit()
    }

    fn vanished(&mut self, id: SessionId, last: Option<&RemoteSession>) -> io::Result<()> {
        self.buf.clear();
        let (format, at) = (self.format, self.observed_at);
        let kind = EventKind::Vanished;
        siem_event_record(format, kind, id, last, at, &self.ctx, &mut self.buf);
        self.emit()
    }

    fn end_poll(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Appends a session (or its projection) in canonical JSON to `buf`: the bytes
/// `serde_json` would write, without its per-field dispatch.
/// With `--time-format rfc3339`, `start` and `end` are then rewritten by [`rfc3339_json`].
fn session_json(
    buf: &mut Vec<u8>,
    session: &RemoteSession,
    fields: Option<&[Field]>,
    rfc3339: Option<&ApplianceZone>,
) {
    let from = buf.len();
    match fields {
        None => session.write_json(buf),
        Some(f) => session.write_json_fields(f, buf),
    }
    if let Some(zone) = rfc3339 {
        rfc3339_json(buf, from, zone);
    }
}

/// NDJSON, or a JSON array written one element at a time.
struct JsonLines<W: Write> {
    out: W,
    buf: Vec<u8>,
    fields: Option<Vec<Field>>,
    array: bool,
    pretty: bool,
    count: u64,
    flush_each: bool,
    rfc3339: Option<ApplianceZone>,
}

impl<W: Write> JsonLines<W> {
    fn new(out: W, opts: &OutputOpts, array: bool) -> Self {
        Self {
            out,
            buf: Vec::with_capacity(1024),
            fields: opts.fields.clone(),
            array,
            pretty: array && opts.pretty,
            count: 0,
            flush_each: opts.flush_each,
            rfc3339: opts.rfc3339,
        }
    }
}

impl<W: Write> SessionSink for JsonLines<W> {
    fn write(&mut self, session: &RemoteSession) -> io::Result<()> {
        self.buf.clear();
        if self.array {
            self.buf
                .extend_from_slice(if self.count == 0 { b"[\n" } else { b",\n" });
        }
        if self.pretty {
            let written = match self.fields.as_deref() {
                None => serde_json::to_writer_pretty(&mut self.buf, session),
                Some(f) => serde_json::to_writer_pretty(&mut self.buf, &session.project(f)),
            };
            written.map_err(io::Error::other)?;
        } else {
            session_json(
                &mut self.buf,
                session,
                self.fields.as_deref(),
                self.rfc3339.as_ref(),
            );
        }
        if !self.array {
            self.buf.push(b'\n');
        }
        self.count += 1;
        self.out.write_all(&self.buf)?;
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        if self.array {
            self.out
                .write_all(if self.count == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()
    }

    fn abort(&mut self) -> io::Result<()> {
        if self.array && self.count > 0 {
            self.out.write_all(b"\n")?;
        }
        self.out.flush()
    }
}

/// A CSV cell as written: unless `raw`, a value a spreadsheet would run as a formula
/// (one that starts with `=`, `+`, `-`, `@`, a tab or a carriage return) is led by `'`,
/// as OWASP advises. Every cell goes through this; the values `segura` computes itself
/// (ids, counts, seconds, dates, `HH:MM:SS`) never start with one of those characters,
/// so in effect only text from the appliance changes.
pub fn csv_cell(value: &str, raw: bool) -> Cow<'_, str> {
    if !raw && value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// CSV with the API's key names as header, optionally led by an `event` column.
struct CsvSink<W: Write> {
    out: csv::Writer<W>,
    fields: Vec<Field>,
    text: String,
    flush_each: bool,
    raw: bool,
    rfc3339: Option<ApplianceZone>,
}

impl<W: Write> CsvSink<W> {
    fn new(out: W, opts: &OutputOpts, lead: Option<&[&str]>) -> io::Result<Self> {
        let fields = opts.fields_or_all().to_vec();
        let mut out = csv::WriterBuilder::new()
            .buffer_capacity(64 * 1024)
            .from_writer(out);
        if !opts.no_headers {
            let header = lead
                .unwrap_or_default()
                .iter()
                .copied()
                .chain(fields.iter().map(|f| f.wire_name()));
            out.write_record(header).map_err(csv_error)?;
        }
        let mut sink = Self {
            out,
            fields,
            text: String::new(),
            flush_each: opts.flush_each,
            raw: opts.csv_raw,
            rfc3339: opts.rfc3339,
        };
        if sink.flush_each {
            sink.out.flush()?;
        }
        Ok(sink)
    }

    fn record(&mut self, lead: &[&str], session: &RemoteSession) -> io::Result<()> {
        for l in lead {
            self.out.write_field(l).map_err(csv_error)?;
        }
        for f in &self.fields {
            match session.field(*f) {
                FieldText::DateTime(t) if self.rfc3339.is_some() => {
                    self.out.write_field(time_text(&t, self.rfc3339.as_ref()))
                }
                FieldText::Str(s) => self.out.write_field(&*csv_cell(s, self.raw)),
                FieldText::Null => self.out.write_field(""),
                other => {
                    self.text.clear();
                    let _ = write!(self.text, "{other}");
                    self.out.write_field(&*csv_cell(&self.text, self.raw))
                }
            }
            .map_err(csv_error)?;
        }
        self.end_record()
    }

    /// A `vanished` event: the id in the `id` column (if chosen), nothing else known.
    fn vanished(&mut self, lead: &[&str], id: SessionId) -> io::Result<()> {
        for l in lead {
            self.out.write_field(l).map_err(csv_error)?;
        }
        for f in &self.fields {
            if *f == Field::Id {
                self.text.clear();
                let _ = write!(self.text, "{id}");
                self.out.write_field(&self.text)
            } else {
                self.out.write_field("")
            }
            .map_err(csv_error)?;
        }
        self.end_record()
    }

    fn end_record(&mut self) -> io::Result<()> {
        self.out
            .write_record(std::iter::empty::<&[u8]>())
            .map_err(csv_error)?;
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }
}

fn csv_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl<W: Write> SessionSink for CsvSink<W> {
    fn write(&mut self, session: &RemoteSession) -> io::Result<()> {
        self.record(&[], session)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The column header of a field in a table.
pub fn header_of(f: Field) -> String {
    f.wire_name().to_ascii_uppercase()
}

/// The table column of a field: identifiers, date-times and durations are never
/// shortened; on a narrow terminal the least useful columns are left out first
/// (protocol, credential, then the end and the duration; never the id).
pub fn column_of(f: Field) -> Column {
    let header = header_of(f);
    let keep = match f {
        Field::Id => Column::ALWAYS,
        Field::SessionId => 90,
        Field::User => 80,
        Field::Device => 70,
        Field::Start => 60,
        Field::Time => 50,
        Field::End => 40,
        Field::Credential => 30,
        Field::Protocol => 20,
        _ => 10,
    };
    let column = match f {
        Field::Id | Field::Time => Column::right(header),
        Field::User | Field::Credential | Field::Device | Field::Proxy | Field::Itsm => {
            Column::left(header)
        }
        _ => Column::left(header).whole(),
    };
    column.keep(keep)
}

/// A field of a session as a table cell: readable durations (how long an open
/// session has been open, as `2h 3m+`, when `now` is known), `active` for the end of
/// an open session, `-` for absent values, control characters escaped.
pub fn session_cell(
    s: &RemoteSession,
    f: Field,
    now: Option<chrono::NaiveDateTime>,
    rfc3339: Option<&ApplianceZone>,
) -> Cell {
    match f {
        Field::Time => match (s.time, s.end, now) {
            (Some(d), _, _) => Cell::plain(human_duration(d.as_secs())),
            (None, None, Some(now)) => Cell::toned(running_duration(s.start, now), Tone::Active),
            (None, _, _) => Cell::toned("-", Tone::Dim),
        },
        Field::End if s.end.is_none() => Cell::toned("active", Tone::Active),
        Field::Start => Cell::plain(time_text(&s.start, rfc3339)),
        Field::End => Cell::plain(s.end.map(|e| time_text(&e, rfc3339)).unwrap_or_default()),
        _ => {
            let value = s.field(f);
            if value.is_null() {
                return Cell::toned("-", Tone::Dim);
            }
            let text = value.to_string();
            match sanitize(&text) {
                std::borrow::Cow::Borrowed(_) => Cell::plain(text),
                std::borrow::Cow::Owned(escaped) => Cell::plain(escaped),
            }
        }
    }
}

/// A table of sessions, optionally led by an `EVENT` column.
struct TableSink<W: Write> {
    table: Table<W>,
    fields: Vec<Field>,
    now: Option<chrono::NaiveDateTime>,
    lead: bool,
    rfc3339: Option<ApplianceZone>,
}

impl<W: Write> TableSink<W> {
    fn new(out: W, opts: &OutputOpts, lead: Option<&str>) -> Self {
        let fields = opts.table_fields().to_vec();
        let columns = lead
            .map(|l| Column::left(l).whole().keep(Column::ALWAYS))
            .into_iter()
            .chain(fields.iter().map(|f| column_of(*f)))
            .collect();
        let table = opts.table(out, columns).flush_each(opts.flush_each);
        Self {
            table,
            fields,
            now: opts.now,
            lead: lead.is_some(),
            rfc3339: opts.rfc3339,
        }
    }

    fn cells(&self, lead: Option<Cell>, s: &RemoteSession) -> Vec<Cell> {
        lead.into_iter()
            .chain(
                self.fields
                    .iter()
                    .map(|f| session_cell(s, *f, self.now, self.rfc3339.as_ref())),
            )
            .collect()
    }
}

impl<W: Write> SessionSink for TableSink<W> {
    fn write(&mut self, session: &RemoteSession) -> io::Result<()> {
        let cells = self.cells(None, session);
        self.table.row(cells)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.table.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.table.finish()
    }

    fn abort(&mut self) -> io::Result<()> {
        self.table.finish()
    }
}

/// Prints one session for `get`: a vertical list of fields for a table, one object for
/// JSON, one line for NDJSON, a header and a row for CSV.
pub fn print_session<W: Write>(mut out: W, s: &RemoteSession, opts: &OutputOpts) -> io::Result<()> {
    match opts.format {
        Format::Json => {
            if opts.rfc3339.is_some() {
                let view = Rfc3339View {
                    session: s,
                    fields: opts.fields_or_all(),
                    zone: opts.rfc3339.as_ref(),
                };
                if opts.pretty {
                    serde_json::to_writer_pretty(&mut out, &view)
                } else {
                    serde_json::to_writer(&mut out, &view)
                }
                .map_err(io::Error::other)?;
            } else {
                match (opts.fields.as_deref(), opts.pretty) {
                    (None, true) => serde_json::to_writer_pretty(&mut out, s),
                    (Some(f), true) => serde_json::to_writer_pretty(&mut out, &s.project(f)),
                    (None, false) => serde_json::to_writer(&mut out, s),
                    (Some(f), false) => serde_json::to_writer(&mut out, &s.project(f)),
                }
                .map_err(io::Error::other)?;
            }
            out.write_all(b"\n")?;
            out.flush()
        }
        Format::Ndjson => {
            let mut sink = JsonLines::new(out, opts, false);
            sink.write(s)?;
            sink.finish()
        }
        Format::Csv => {
            let mut sink = CsvSink::new(out, opts, None)?;
            sink.write(s)?;
            sink.finish()
        }
        Format::Siem(format) => {
            let mut sink = SiemLines::new(out, opts, format);
            SessionSink::write(&mut sink, s)?;
            SessionSink::finish(&mut sink)
        }
        Format::Table | Format::Wide => {
            let fields = opts.fields_or_all();
            let mut table = opts.table(
                out,
                vec![
                    Column::left("FIELD").whole().keep(Column::ALWAYS),
                    Column::left("VALUE").keep(Column::ALWAYS),
                ],
            );
            for f in fields {
                let mut value = session_cell(s, *f, opts.now, opts.rfc3339.as_ref());
                if let (Field::Time, Some(d)) = (f, s.time) {
                    value.text = format!("{d} ({})", value.text);
                }
                table.row(vec![Cell::plain(f.wire_name()), value])?;
            }
            table.finish()
        }
    }
}

/// A session's chosen fields for `serde_json`, `start` and `end` through [`time_text`].
struct Rfc3339View<'a> {
    session: &'a RemoteSession,
    fields: &'a [Field],
    zone: Option<&'a ApplianceZone>,
}

impl serde::Serialize for Rfc3339View<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = serializer.serialize_map(Some(self.fields.len()))?;
        for f in self.fields {
            match (self.session.field(*f), self.zone) {
                (FieldText::DateTime(t), Some(_)) => {
                    m.serialize_entry(f.wire_name(), &time_text(&t, self.zone))?
                }
                (value, _) => m.serialize_entry(f.wire_name(), &value)?,
            }
        }
        m.end()
    }
}

/// What `watch` reports about a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Not reported before.
    New,
    /// Reported while open, and now ended.
    Ended,
    /// Reported while open, and missing from a complete list without an end.
    Vanished,
}

impl EventKind {
    /// The event's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::New => "new",
            EventKind::Ended => "ended",
            EventKind::Vanished => "vanished",
        }
    }
}

/// Where `watch` prints its events.
pub trait EventSink {
    /// A poll begins: its number (from 1) and when it observes the list; every event
    /// until the next carries them.
    fn begin_poll(&mut self, poll: u64, now: Now);
    /// Prints one event.
    fn event(&mut self, kind: EventKind, session: &RemoteSession) -> io::Result<()>;
    /// Prints a `vanished` event: the list no longer holds the session; `last` is how
    /// it was last listed, when this process saw it (the SIEM formats use it; the others
    /// print the id only).
    fn vanished(&mut self, id: SessionId, last: Option<&RemoteSession>) -> io::Result<()>;
    /// The poll is over: prints what is held and flushes.
    fn end_poll(&mut self) -> io::Result<()>;
}

/// The event sink for `opts.format`; JSON arrays cannot stream events (the caller
/// refuses `-o json`).
pub fn event_sink<'a, W: Write + 'a>(
    out: W,
    opts: &OutputOpts,
) -> io::Result<Box<dyn EventSink + 'a>> {
    Ok(match opts.format {
        Format::Csv => Box::new(CsvEvents {
            sink: CsvSink::new(out, opts, Some(&["event", "observed_at", "poll"]))?,
            stamp: PollStamp::default(),
        }),
        Format::Table | Format::Wide => Box::new(TableEvents {
            out,
            opts: opts.clone(),
            rows: Vec::new(),
            stamp: PollStamp::default(),
        }),
        Format::Siem(format) => Box::new(SiemLines::new(out, opts, format)),
        Format::Ndjson | Format::Json => Box::new(JsonEvents {
            out,
            buf: Vec::with_capacity(1024),
            fields: opts.fields.clone(),
            rfc3339: opts.rfc3339,
            stamp: PollStamp::default(),
        }),
    })
}

/// The poll the events come from, and when it observed the list.
#[derive(Debug, Clone, Default)]
struct PollStamp {
    poll: u64,
    observed_at: String,
}

impl PollStamp {
    fn set(&mut self, poll: u64, now: &Now) {
        self.poll = poll;
        self.observed_at = rfc3339(&now.at);
    }
}

/// `{"event":"new","observed_at":"...","poll":1,"session":{...}}` lines, flushed one by
/// one.
struct JsonEvents<W: Write> {
    out: W,
    buf: Vec<u8>,
    fields: Option<Vec<Field>>,
    rfc3339: Option<ApplianceZone>,
    stamp: PollStamp,
}

impl<W: Write> JsonEvents<W> {
    fn head(&mut self, kind: EventKind) {
        self.buf.clear();
        self.buf.extend_from_slice(b"{\"event\":\"");
        self.buf.extend_from_slice(kind.as_str().as_bytes());
        let _ = write!(
            self.buf,
            "\",\"observed_at\":\"{}\",\"poll\":{},\"session\":",
            self.stamp.observed_at, self.stamp.poll
        );
    }
}

impl<W: Write> EventSink for JsonEvents<W> {
    fn begin_poll(&mut self, poll: u64, now: Now) {
        self.stamp.set(poll, &now);
    }

    fn event(&mut self, kind: EventKind, session: &RemoteSession) -> io::Result<()> {
        self.head(kind);
        session_json(
            &mut self.buf,
            session,
            self.fields.as_deref(),
            self.rfc3339.as_ref(),
        );
        self.buf.extend_from_slice(b"}\n");
        self.out.write_all(&self.buf)?;
        self.out.flush()
    }

    fn vanished(&mut self, id: SessionId, _last: Option<&RemoteSession>) -> io::Result<()> {
        self.head(EventKind::Vanished);
        let _ = writeln!(self.buf, "{{\"id\":\"{id}\"}}}}");
        self.out.write_all(&self.buf)?;
        self.out.flush()
    }

    fn end_poll(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// CSV events: `event,observed_at,poll` lead the session's columns.
struct CsvEvents<W: Write> {
    sink: CsvSink<W>,
    stamp: PollStamp,
}

impl<W: Write> EventSink for CsvEvents<W> {
    fn begin_poll(&mut self, poll: u64, now: Now) {
        self.stamp.set(poll, &now);
    }

    fn event(&mut self, kind: EventKind, session: &RemoteSession) -> io::Result<()> {
        let poll = self.stamp.poll.to_string();
        let lead = [
            kind.as_str(),
            self.stamp.observed_at.as_str(),
            poll.as_str(),
        ];
        self.sink.record(&lead, session)?;
        self.sink.out.flush()
    }

    fn vanished(&mut self, id: SessionId, _last: Option<&RemoteSession>) -> io::Result<()> {
        let poll = self.stamp.poll.to_string();
        let lead = [
            EventKind::Vanished.as_str(),
            self.stamp.observed_at.as_str(),
            poll.as_str(),
        ];
        self.sink.vanished(&lead, id)?;
        self.sink.out.flush()
    }

    fn end_poll(&mut self) -> io::Result<()> {
        self.sink.out.flush()
    }
}

/// One table per poll that found something, led by an `EVENT` column.
struct TableEvents<W: Write> {
    out: W,
    opts: OutputOpts,
    rows: Vec<Vec<Cell>>,
    stamp: PollStamp,
}

impl<W: Write> EventSink for TableEvents<W> {
    fn begin_poll(&mut self, poll: u64, now: Now) {
        self.stamp.set(poll, &now);
        self.opts.now = Some(now.naive);
    }

    fn event(&mut self, kind: EventKind, session: &RemoteSession) -> io::Result<()> {
        let tone = match kind {
            EventKind::New => Tone::Active,
            EventKind::Ended | EventKind::Vanished => Tone::Dim,
        };
        let lead = Cell::toned(kind.as_str(), tone);
        let row = std::iter::once(lead)
            .chain(
                self.opts
                    .table_fields()
                    .iter()
                    .map(|f| session_cell(session, *f, self.opts.now, self.opts.rfc3339.as_ref())),
            )
            .collect();
        self.rows.push(row);
        Ok(())
    }

    fn vanished(&mut self, id: SessionId, _last: Option<&RemoteSession>) -> io::Result<()> {
        let lead = Cell::toned(EventKind::Vanished.as_str(), Tone::Dim);
        let row = std::iter::once(lead)
            .chain(self.opts.table_fields().iter().map(|f| match f {
                Field::Id => Cell::plain(id.to_string()),
                _ => Cell::toned("-", Tone::Dim),
            }))
            .collect();
        self.rows.push(row);
        Ok(())
    }

    /// A table of the poll's events, if any, then a line with the poll's number and
    /// time: the heartbeat that says the watch is alive when nothing changed.
    fn end_poll(&mut self) -> io::Result<()> {
        let events = self.rows.len();
        if events > 0 {
            let mut sink = TableSink::new(&mut self.out, &self.opts, Some("EVENT"));
            for row in self.rows.drain(..) {
                sink.table.row(row)?;
            }
            debug_assert!(sink.lead);
            sink.table.finish()?;
        }
        let what = match events {
            0 => "no change".to_owned(),
            1 => "1 event".to_owned(),
            n => format!("{n} events"),
        };
        writeln!(
            self.out,
            "-- poll {} at {}: {what}",
            self.stamp.poll, self.stamp.observed_at
        )?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segura_model::{parse_datetime, SessionDuration, SessionHash, SessionId};

    fn test_now() -> Now {
        let at = chrono::DateTime::parse_from_rfc3339("2024-05-06T16:10:00+02:00").unwrap();
        Now {
            naive: at.naive_local(),
            at,
        }
    }

    pub(crate) fn sample(id: u64, user: &str, open: bool) -> RemoteSession {
        let mut s = RemoteSession::new(
            SessionId::new(id),
            SessionHash::from_wire("e7acacb6aedbab70073456da5744166939b77527"),
            parse_datetime("2024-05-06 16:05:07").unwrap(),
        );
        s.user = user.to_owned();
        s.device = "10.66.33.15:3389".into();
        s.protocol = "rdp".into();
        s.proxy = "Web Proxy".into();
        if !open {
            s.end = Some(parse_datetime("2024-05-06 16:07:59").unwrap());
            s.time = Some(SessionDuration::from_secs(172));
        }
        s
    }

    fn run(
        format: Format,
        fields: Option<Vec<Field>>,
        sessions: &[RemoteSession],
        abort: bool,
    ) -> String {
        let opts = OutputOpts {
            format,
            fields,
            ..OutputOpts::default()
        };
        let mut out = Vec::new();
        {
            let mut sink = session_sink(&mut out, &opts).unwrap();
            for s in sessions {
                sink.write(s).unwrap();
            }
            if abort {
                sink.abort().unwrap();
            } else {
                sink.finish().unwrap();
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ndjson_is_the_canonical_form_one_per_line() {
        let a = sample(3, "admin", false);
        let out = run(
            Format::Ndjson,
            None,
            &[a.clone(), sample(4, "b", true)],
            false,
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], serde_json::to_string(&a).unwrap());
        assert!(
            lines[1].contains(r#""end":null,"time":null"#),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn json_array_streams_and_stays_open_on_failure() {
        let s = [sample(3, "a", false), sample(4, "b", false)];
        let out = run(Format::Json, Some(vec![Field::Id, Field::User]), &s, false);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"id":"3","user":"a"},{"id":"4","user":"b"}])
        );
        assert_eq!(run(Format::Json, None, &[], false), "[]\n");
        let partial = run(Format::Json, None, &s, true);
        assert!(serde_json::from_str::<serde_json::Value>(&partial).is_err());
        assert!(partial.ends_with("}\n"), "{partial}");
    }

    #[test]
    fn csv_quotes_and_uses_wire_names() {
        let mut s = sample(3, "jane \"jd\", doe", false);
        s.itsm = Some("line1\nline2".into());
        let out = run(
            Format::Csv,
            Some(vec![Field::Id, Field::User, Field::Itsm, Field::End]),
            &[s],
            false,
        );
        assert_eq!(
            out,
            "id,user,ITSM,end\n3,\"jane \"\"jd\"\", doe\",\"line1\nline2\",2024-05-06 16:07:59\n"
        );
        let mut r = csv::Reader::from_reader(out.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(&rec[1], "jane \"jd\", doe");
    }

    #[test]
    fn csv_cells_that_start_a_formula_are_neutralised() {
        for lead in ["=", "+", "-", "@", "\t", "\r"] {
            let v = format!("{lead}1+1");
            assert_eq!(csv_cell(&v, false), format!("'{v}"));
            assert_eq!(csv_cell(&v, true), v);
        }
        for v in [
            "",
            "a=b",
            "1-2",
            " =x",
            "'quoted",
            "2024-05-06 16:07:59",
            "00:02:52",
        ] {
            assert!(
                matches!(csv_cell(v, false), Cow::Borrowed(b) if b == v),
                "{v:?}"
            );
        }
        let s = sample(3, "=HYPERLINK(\"http://x\")", false);
        let out = run(Format::Csv, Some(vec![Field::Id, Field::User]), &[s], false);
        assert_eq!(out, "id,user\n3,\"'=HYPERLINK(\"\"http://x\"\")\"\n");
    }

    #[test]
    fn table_shows_people_friendly_values() {
        let mut evil = sample(4, "bell\u{7}\x1b[2J", true);
        evil.request = None;
        let out = run(
            Format::Table,
            Some(vec![
                Field::Id,
                Field::User,
                Field::End,
                Field::Time,
                Field::Request,
            ]),
            &[sample(3, "admin", false), evil],
            false,
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "ID  USER                END                    TIME  REQUEST"
        );
        assert_eq!(
            lines[1],
            " 3  admin               2024-05-06 16:07:59  2m 52s  -"
        );
        assert!(lines[2].contains("bell\\u{7}\\u{1b}[2J"), "{}", lines[2]);
        assert!(lines[2].contains("active"), "{}", lines[2]);
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn get_detail_in_each_format() {
        let s = sample(3, "admin", false);
        let opts = |format| OutputOpts {
            format,
            ..OutputOpts::default()
        };
        let mut out = Vec::new();
        print_session(&mut out, &s, &opts(Format::Table)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("session_id     e7acacb6aedbab70073456da5744166939b77527"),
            "{text}"
        );
        assert!(text.contains("time           00:02:52 (2m 52s)"), "{text}");
        let mut out = Vec::new();
        print_session(&mut out, &s, &opts(Format::Json)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v, serde_json::to_value(&s).unwrap());
    }

    #[test]
    fn watch_events_in_ndjson_and_csv() {
        let s = sample(3, "admin", false);
        let mut out = Vec::new();
        {
            let opts = OutputOpts {
                format: Format::Ndjson,
                fields: Some(vec![Field::Id]),
                ..OutputOpts::default()
            };
            let mut sink = event_sink(&mut out, &opts).unwrap();
            sink.begin_poll(1, test_now());
            sink.event(EventKind::New, &s).unwrap();
            sink.event(EventKind::Ended, &s).unwrap();
            sink.end_poll().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"event\":\"new\",\"observed_at\":\"2024-05-06T16:10:00+02:00\",\"poll\":1,\"session\":{\"id\":\"3\"}}\n{\"event\":\"ended\",\"observed_at\":\"2024-05-06T16:10:00+02:00\",\"poll\":1,\"session\":{\"id\":\"3\"}}\n"
        );
        let mut out = Vec::new();
        {
            let opts = OutputOpts {
                format: Format::Csv,
                fields: Some(vec![Field::Id, Field::User]),
                ..OutputOpts::default()
            };
            let mut sink = event_sink(&mut out, &opts).unwrap();
            sink.begin_poll(1, test_now());
            sink.event(EventKind::New, &s).unwrap();
            sink.end_poll().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "event,observed_at,poll,id,user\nnew,2024-05-06T16:10:00+02:00,1,3,admin\n"
        );
    }
}
