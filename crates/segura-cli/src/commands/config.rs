//! `segura config show`: the effective configuration, where each value came from,
//! secrets redacted.

use std::io::{self, Write};

use serde::Serialize;

use crate::config::Resolved;
use crate::output::table::{Cell, Column, Tone};
use crate::output::Format;
use crate::output::{sanitize, OutputOpts};

#[derive(Serialize)]
struct Row<'a> {
    setting: &'a str,
    value: &'a str,
    source: &'a str,
}

/// A row for JSON: the value typed (a flag as a boolean, a count as a number, an unset
/// value as `null`), the rest as text.
#[derive(Serialize)]
struct TypedRow<'a> {
    setting: &'a str,
    value: serde_json::Value,
    source: &'a str,
}

impl<'a> TypedRow<'a> {
    fn of(r: &Row<'a>) -> Self {
        use serde_json::Value;
        let value = match (r.setting, r.value) {
            (_, "-") => Value::Null,
            ("insecure" | "no_compression", v) => v
                .parse::<bool>()
                .map_or_else(|_| Value::String(v.to_owned()), Value::Bool),
            ("retries", v) => v
                .parse::<u64>()
                .map_or_else(|_| Value::String(v.to_owned()), Value::from),
            (_, v) => Value::String(v.to_owned()),
        };
        TypedRow {
            setting: r.setting,
            value,
            source: r.source,
        }
    }
}

/// Prints the settings.
pub fn show(mut out: impl Write, resolved: &Resolved, opts: &OutputOpts) -> io::Result<()> {
    let rows = resolved.rows();
    let records = rows.iter().map(|[s, v, o]| Row {
        setting: s,
        value: v,
        source: o,
    });
    match opts.format {
        Format::Json => {
            let all: Vec<TypedRow<'_>> = records.map(|r| TypedRow::of(&r)).collect();
            if opts.pretty {
                serde_json::to_writer_pretty(&mut out, &all)
            } else {
                serde_json::to_writer(&mut out, &all)
            }
            .map_err(io::Error::other)?;
            out.write_all(b"\n")?;
        }
        // SIEM formats are refused before the command runs.
        Format::Ndjson | Format::Siem(_) => {
            for r in records {
                serde_json::to_writer(&mut out, &TypedRow::of(&r)).map_err(io::Error::other)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            let err = |e: csv::Error| io::Error::other(e.to_string());
            if !opts.no_headers {
                w.write_record(["setting", "value", "source"])
                    .map_err(err)?;
            }
            for r in records {
                w.write_record([r.setting, r.value, r.source])
                    .map_err(err)?;
            }
            w.flush()?;
        }
        Format::Table | Format::Wide => {
            let mut t = opts.table(
                &mut out,
                vec![
                    Column::left("SETTING").whole().keep(Column::ALWAYS),
                    Column::left("VALUE").keep(Column::ALWAYS),
                    Column::left("SOURCE").keep(Column::ALWAYS),
                ],
            );
            for r in records {
                let tone = if r.source == "default" || r.source == "not set" {
                    Tone::Dim
                } else {
                    Tone::Plain
                };
                t.row(vec![
                    Cell::plain(r.setting),
                    Cell::plain(sanitize(r.value).into_owned()),
                    Cell::toned(sanitize(r.source).into_owned(), tone),
                ])?;
            }
            t.finish()?;
        }
    }
    out.flush()
}
