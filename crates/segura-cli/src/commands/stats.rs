//! `segura sessions stats --by ...`: aggregate while streaming (with `segura-api`'s
//! [`Stats`]), then print the groups.

use std::io::{self, Write};

use segura_api::stats::{GroupBy, GroupStats, Stats};
use serde::Serialize;

use super::matched::Matched;
use crate::cli::StatsArgs;
use crate::exit::CliError;
use crate::feed::{Feed, Flow};
use crate::output::sessions::csv_cell;
use crate::output::sessions::header_of;
use crate::output::table::{Cell, Column, Tone};
use crate::output::Format;
use crate::output::{human_duration, sanitize, OutputOpts};
use crate::progress::Progress;

/// The header of the group column: the field's, or `DAY`.
fn group_header(by: GroupBy) -> String {
    match by {
        GroupBy::Field(f) => header_of(f),
        GroupBy::Day => "DAY".to_owned(),
    }
}

/// One group as JSON, NDJSON and CSV print it.
#[derive(Debug, Serialize)]
struct StatsRecord<'a> {
    group: &'a str,
    count: u64,
    total_seconds: u64,
    /// One decimal; null when no session has a recorded duration.
    mean_seconds: Option<f64>,
    max_seconds: Option<u64>,
}

impl<'a> StatsRecord<'a> {
    fn of(g: &'a GroupStats) -> Self {
        StatsRecord {
            group: &g.group,
            count: g.count,
            total_seconds: g.total_secs,
            mean_seconds: g.mean_secs().map(|m| (m * 10.0).round() / 10.0),
            max_seconds: g.max_secs,
        }
    }
}

/// Streams the list into the aggregation; returns the groups and the total.
pub fn aggregate(
    feed: &mut dyn Feed,
    args: &StatsArgs,
    progress: &Progress,
    matched: &mut Matched,
) -> Result<(Vec<GroupStats>, GroupStats), CliError> {
    let filter = args.filter.to_filter()?;
    let mut agg = Stats::new(args.by.to_group_by());
    feed.feed(
        &mut |s| {
            if let Some(s) = s {
                let keep = filter.matches(s);
                matched.saw(s, keep);
                if keep {
                    agg.add(s);
                }
            }
            Ok(Flow::Continue)
        },
        progress,
    )?;
    let total = agg.total();
    Ok((agg.into_groups(), total))
}

/// A bar of `width` cells for `value` out of `max`, in eighths of a cell.
pub fn bar(value: u64, max: u64, width: usize) -> String {
    const PARTS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    if max == 0 || value == 0 {
        return String::new();
    }
    let eighths = ((value as u128 * width as u128 * 8) / max as u128).max(1) as usize;
    let mut s: String = std::iter::repeat_n('█', eighths / 8).collect();
    if eighths % 8 > 0 {
        s.push(PARTS[eighths % 8]);
    }
    s
}

fn opt_duration(secs: Option<u64>) -> Cell {
    match secs {
        Some(s) => Cell::plain(human_duration(s)),
        None => Cell::toned("-", Tone::Dim),
    }
}

/// Prints the groups, grouped `by`, in the chosen format.
pub fn print(
    mut out: impl Write,
    by: GroupBy,
    groups: &[GroupStats],
    total: &GroupStats,
    opts: &OutputOpts,
) -> io::Result<()> {
    match opts.format {
        Format::Json => {
            out.write_all(b"[")?;
            for (i, g) in groups.iter().enumerate() {
                out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut out, &StatsRecord::of(g)).map_err(io::Error::other)?;
            }
            out.write_all(if groups.is_empty() { b"]\n" } else { b"\n]\n" })?;
        }
        // SIEM formats are refused before the command runs.
        Format::Ndjson | Format::Siem(_) => {
            for g in groups {
                serde_json::to_writer(&mut out, &StatsRecord::of(g)).map_err(io::Error::other)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            let csv_err = |e: csv::Error| io::Error::other(e.to_string());
            if !opts.no_headers {
                w.write_record([
                    "group",
                    "count",
                    "total_seconds",
                    "mean_seconds",
                    "max_seconds",
                ])
                .map_err(csv_err)?;
            }
            for g in groups {
                let r = StatsRecord::of(g);
                w.write_record([
                    csv_cell(r.group, opts.csv_raw).into_owned(),
                    r.count.to_string(),
                    r.total_seconds.to_string(),
                    r.mean_seconds.map(|m| m.to_string()).unwrap_or_default(),
                    r.max_seconds.map(|m| m.to_string()).unwrap_or_default(),
                ])
                .map_err(csv_err)?;
            }
            w.flush()?;
        }
        Format::Table | Format::Wide => {
            let bar_width = opts.width.map_or(30, |w| (w / 4).clamp(10, 40));
            let max = groups.iter().map(|g| g.count).max().unwrap_or(0);
            let mut t = opts.table(
                &mut out,
                vec![
                    Column::left(group_header(by)).keep(Column::ALWAYS),
                    Column::right("SESSIONS").keep(Column::ALWAYS),
                    Column::right("TOTAL").keep(50),
                    Column::right("MEAN").keep(40),
                    Column::right("LONGEST").keep(30),
                    Column::left("").keep(10),
                ],
            );
            for g in groups {
                let name = if g.group.is_empty() {
                    Cell::toned("(empty)", Tone::Dim)
                } else {
                    Cell::plain(sanitize(&g.group).into_owned())
                };
                t.row(vec![
                    name,
                    Cell::plain(g.count.to_string()),
                    Cell::plain(human_duration(g.total_secs)),
                    opt_duration(g.mean_secs().map(|m| m.round() as u64)),
                    opt_duration(g.max_secs),
                    Cell::toned(bar(g.count, max, bar_width), Tone::Active),
                ])?;
            }
            t.finish()?;
            writeln!(
                out,
                "{} session{} in {} group{}, {} open; {} recorded",
                total.count,
                if total.count == 1 { "" } else { "s" },
                groups.len(),
                if groups.len() == 1 { "" } else { "s" },
                total.open(),
                human_duration(total.total_secs)
            )?;
        }
    }
    out.flush()
}

/// Runs `stats` over `feed`.
pub fn run(
    feed: &mut dyn Feed,
    args: &StatsArgs,
    out: impl Write,
    opts: &OutputOpts,
    progress: &mut Progress,
) -> Result<(), CliError> {
    super::matched::check(&args.filter)?;
    let mut matched = Matched::new(&args.filter.to_filter()?);
    let (groups, total) = aggregate(feed, args, progress, &mut matched)?;
    progress.stop();
    print(out, args.by.to_group_by(), &groups, &total, opts).map_err(CliError::output)?;
    if let (Some(note), Some(text)) = (opts.note, matched.note()) {
        note(&text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_group() {
        assert_eq!(bar(10, 10, 4), "████");
        assert_eq!(bar(5, 10, 4), "██");
        assert_eq!(bar(1, 10, 4), "▍");
        assert_eq!(bar(1, 1000, 4), "▏");
        assert_eq!(bar(0, 10, 4), "");
    }

    #[test]
    fn group_headers_name_the_flag_value() {
        use crate::cli::GroupByArg;
        for (arg, header) in [
            (GroupByArg::User, "USER"),
            (GroupByArg::Credential, "CREDENTIAL"),
            (GroupByArg::Device, "DEVICE"),
            (GroupByArg::Protocol, "PROTOCOL"),
            (GroupByArg::Proxy, "PROXY"),
            (GroupByArg::OriginIp, "ORIGIN_IP"),
            (GroupByArg::Day, "DAY"),
        ] {
            assert_eq!(group_header(arg.to_group_by()), header);
        }
    }

    #[test]
    fn table_and_json() {
        use segura_model::{parse_datetime, Field, RemoteSession, SessionDuration};
        use segura_model::{SessionHash, SessionId};
        let session = |protocol: &str, secs: Option<u64>| {
            let mut s = RemoteSession::new(
                SessionId::new(1),
                SessionHash::from_wire("e7acacb6aedbab70073456da5744166939b77527"),
                parse_datetime("2024-05-06 10:00:00").unwrap(),
            );
            s.protocol = protocol.into();
            s.time = secs.map(SessionDuration::from_secs);
            s
        };
        let by = GroupBy::Field(Field::Protocol);
        let mut stats = Stats::new(by);
        for (p, secs) in [
            ("rdp", Some(100)),
            ("rdp", Some(300)),
            ("rdp", None),
            ("ssh", None),
        ] {
            stats.add(&session(p, secs));
        }
        let total = stats.total();
        let g = stats.into_groups();
        let mut out = Vec::new();
        print(&mut out, by, &g, &total, &OutputOpts::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "PROTOCOL  SESSIONS   TOTAL    MEAN  LONGEST");
        assert!(
            lines[1].starts_with("rdp              3  6m 40s  3m 20s       5m  ██████"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("ssh              1      0s       -        -  █"),
            "{text}"
        );
        assert_eq!(lines[3], "4 sessions in 2 groups, 2 open; 6m 40s recorded");

        let opts = OutputOpts {
            format: Format::Json,
            ..OutputOpts::default()
        };
        let mut out = Vec::new();
        print(&mut out, by, &g, &total, &opts).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!([
                {"group":"rdp","count":3,"total_seconds":400,"mean_seconds":200.0,"max_seconds":300},
                {"group":"ssh","count":1,"total_seconds":0,"mean_seconds":null,"max_seconds":null}
            ])
        );
    }
}
