//! Printers: every output format lives here, apart from the commands that produce the
//! data. Data goes to the writer given (stdout in the binary); nothing here prints
//! diagnostics.

pub mod sessions;
pub mod table;

use chrono::NaiveDateTime;
use segura_api::ApplianceZone;
use segura_model::Field;

/// The one sanitiser of outside text, shared with the diagnostics (`segura_api::text`).
pub use segura_api::sanitize;

pub use table::NoteFn;

/// What the printers write: chosen from `-o` by the command line, which owns the
/// option's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned columns for people, fitted to a terminal.
    #[default]
    Table,
    /// A table of every field, nothing shortened or left out.
    Wide,
    /// One JSON array (one object for `get`).
    Json,
    /// One JSON object per line.
    Ndjson,
    /// RFC 4180 CSV with a header of the API's key names.
    Csv,
    /// A SIEM format (ECS, OCSF, CEF): one record per session or event, for `list`,
    /// `get` and `watch` only.
    Siem(segura_api::siem::Format),
}

impl Format {
    /// The `-o` name of a SIEM format, for messages.
    pub fn siem_name(self) -> Option<&'static str> {
        match self {
            Format::Siem(segura_api::siem::Format::Ecs) => Some("ecs"),
            Format::Siem(segura_api::siem::Format::Ocsf) => Some("ocsf"),
            Format::Siem(segura_api::siem::Format::Cef) => Some("cef"),
            _ => None,
        }
    }
}

/// How to print.
#[derive(Debug, Clone, Default)]
pub struct OutputOpts {
    /// The format.
    pub format: Format,
    /// Header lines of tables and CSV (off with `--no-headers`).
    pub no_headers: bool,
    /// JSON is indented (standard output is a terminal); compact otherwise.
    pub pretty: bool,
    /// Where notes for the user go (left-out columns); `None` with `-q`.
    pub note: Option<NoteFn>,
    /// "Now" in the appliance's time, for how long an open session has been open.
    pub now: Option<chrono::NaiveDateTime>,
    /// The chosen fields, or the format's default.
    pub fields: Option<Vec<Field>>,
    /// ANSI colours (only on a terminal, and not with --no-color / NO_COLOR).
    pub color: bool,
    /// Width available for a table; `None` means unlimited (not a terminal).
    pub width: Option<usize>,
    /// Flush after each record (output is a terminal, or `watch`).
    pub flush_each: bool,
    /// CSV cells exactly as received (`--csv-raw`): no neutralising of formulas.
    pub csv_raw: bool,
    /// `--time-format rfc3339`: `start` and `end` with this zone's offset.
    pub rfc3339: Option<ApplianceZone>,
    /// The appliance's zone, in which SIEM records read `start` and `end`.
    pub zone: ApplianceZone,
}

/// A session's `start` or `end` as every format prints it: the API's form, or with
/// `--time-format rfc3339` RFC 3339 with the appliance zone's offset
/// (`2024-05-06T16:05:07-03:00`). The one place that formats them.
pub fn time_text(t: &NaiveDateTime, rfc3339: Option<&ApplianceZone>) -> String {
    match rfc3339 {
        None => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        Some(zone) => segura_api::time::format_rfc3339(&zone.instant_of(*t)),
    }
}

/// Rewrites, in the canonical JSON of sessions in `buf[from..]`, the values of `start`
/// and `end` with [`time_text`]. The canonical writer puts a key as `"start":"`, which
/// cannot occur inside a JSON string (a quote in one is escaped), so every match is a key.
pub fn rfc3339_json(buf: &mut Vec<u8>, from: usize, zone: &ApplianceZone) {
    const LEN: usize = 19; // YYYY-MM-DD HH:MM:SS
    let mut i = from;
    while let Some(p) = buf.get(i..).and_then(|r| r.iter().position(|&b| b == b'"')) {
        i += p;
        let key = [&b"\"start\":\""[..], b"\"end\":\""]
            .into_iter()
            .find(|k| buf[i..].starts_with(k));
        let Some(key) = key else {
            i += 1;
            continue;
        };
        let value_at = i + key.len();
        let naive = buf
            .get(value_at..value_at + LEN)
            .filter(|_| buf.get(value_at + LEN) == Some(&b'"'))
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| segura_model::parse_datetime(v).ok());
        match naive {
            Some(t) => {
                let text = time_text(&t, Some(zone));
                buf.splice(value_at..value_at + LEN, text.bytes());
                i = value_at + text.len() + 1;
            }
            None => i = value_at,
        }
    }
}

impl OutputOpts {
    /// The fields of a table when none are chosen: what fits on a screen.
    pub const TABLE_FIELDS: [Field; 8] = [
        Field::Id,
        Field::User,
        Field::Credential,
        Field::Device,
        Field::Protocol,
        Field::Start,
        Field::End,
        Field::Time,
    ];

    /// The chosen fields, or every field.
    pub fn fields_or_all(&self) -> &[Field] {
        self.fields.as_deref().unwrap_or(&Field::ALL)
    }

    /// The chosen fields, or the table's default (every field for `-o wide`).
    pub fn table_fields(&self) -> &[Field] {
        match (&self.fields, self.format) {
            (Some(f), _) => f,
            (None, Format::Wide) => &Field::ALL,
            (None, _) => &Self::TABLE_FIELDS,
        }
    }

    /// The width limit of a table: none for `-o wide`.
    pub fn table_width(&self) -> Option<usize> {
        match self.format {
            Format::Wide => None,
            _ => self.width,
        }
    }

    /// A table over `out` with these options (width, colour, headers, notes).
    pub fn table<W: std::io::Write>(&self, out: W, columns: Vec<table::Column>) -> table::Table<W> {
        table::Table::new(out, columns, self.table_width(), self.color)
            .headers(!self.no_headers)
            .note(self.note)
    }
}

pub use segura_api::human_duration;

/// How long an open session has been open: `2h 3m+`, the `+` saying it still runs.
pub fn running_duration(start: chrono::NaiveDateTime, now: chrono::NaiveDateTime) -> String {
    let secs = (now - start).num_seconds().max(0);
    format!("{}+", human_duration(secs.unsigned_abs()))
}

/// A byte count for people: `812 B`, `12.3 MB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn running_durations_are_marked() {
        let start = segura_model::parse_datetime("2024-05-06 10:00:00").unwrap();
        let now = segura_model::parse_datetime("2024-05-06 12:03:30").unwrap();
        assert_eq!(running_duration(start, now), "2h 3m+");
        assert_eq!(running_duration(now, start), "0s+");
    }

    #[test]
    fn bytes_read_well() {
        assert_eq!(human_bytes(812), "812 B");
        assert_eq!(human_bytes(12_345_678), "12.3 MB");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert!(matches!(sanitize("José"), Cow::Borrowed("José")));
        assert_eq!(sanitize("line1\nline2"), "line1\\nline2");
        assert_eq!(sanitize("bell\u{7}"), "bell\\u{7}");
        assert_eq!(sanitize("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(sanitize("x\u{202e}y"), "x\\u{202e}y");
    }
}
