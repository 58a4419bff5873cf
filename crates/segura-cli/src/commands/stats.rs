//! `segura sessions stats --by ...`: aggregate while streaming, then print the groups.

use std::io::{self, Write};

use segura_model::Field;

use crate::cli::{Format, GroupBy, StatsArgs};
use crate::exit::CliError;
use crate::feed::{Feed, Flow};
use crate::output::sessions::csv_cell;
use crate::output::table::{Cell, Column, Table, Tone};
use crate::output::{human_duration, sanitize, OutputOpts};
use crate::progress::Progress;
use crate::stats::{Aggregator, GroupKey, GroupStats};

/// The aggregation key of a `--by` value.
pub fn group_key(by: GroupBy) -> GroupKey {
    match by {
        GroupBy::User => GroupKey::Field(Field::User),
        GroupBy::Credential => GroupKey::Field(Field::Credential),
        GroupBy::Device => GroupKey::Field(Field::Device),
        GroupBy::Protocol => GroupKey::Field(Field::Protocol),
        GroupBy::Proxy => GroupKey::Field(Field::Proxy),
        GroupBy::OriginIp => GroupKey::Field(Field::OriginIp),
        GroupBy::Day => GroupKey::Day,
    }
}

fn group_header(by: GroupBy) -> &'static str {
    match by {
        GroupBy::User => "USER",
        GroupBy::Credential => "CREDENTIAL",
        GroupBy::Device => "DEVICE",
        GroupBy::Protocol => "PROTOCOL",
        GroupBy::Proxy => "PROXY",
        GroupBy::OriginIp => "ORIGIN_IP",
        GroupBy::Day => "DAY",
    }
}

/// Streams the list into the aggregation; returns the groups and the total.
pub fn aggregate(
    feed: &mut dyn Feed,
    args: &StatsArgs,
    progress: &Progress,
) -> Result<(Vec<GroupStats>, GroupStats), CliError> {
    let filter = args.filter.to_filter();
    let mut agg = Aggregator::new(group_key(args.by));
    feed.feed(
        &mut |s| {
            if let Some(s) = s.filter(|s| filter.matches(s)) {
                agg.add(s);
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

/// Prints the groups in the chosen format.
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
                serde_json::to_writer(&mut out, &g.record()).map_err(io::Error::other)?;
            }
            out.write_all(if groups.is_empty() { b"]\n" } else { b"\n]\n" })?;
        }
        Format::Ndjson => {
            for g in groups {
                serde_json::to_writer(&mut out, &g.record()).map_err(io::Error::other)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            let csv_err = |e: csv::Error| io::Error::other(e.to_string());
            w.write_record([
                "group",
                "count",
                "total_seconds",
                "mean_seconds",
                "max_seconds",
            ])
            .map_err(csv_err)?;
            for g in groups {
                let r = g.record();
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
        Format::Table => {
            let bar_width = opts.width.map_or(30, |w| (w / 4).clamp(10, 40));
            let max = groups.iter().map(|g| g.count).max().unwrap_or(0);
            let mut t = Table::new(
                &mut out,
                vec![
                    Column::left(group_header(by)),
                    Column::right("SESSIONS"),
                    Column::right("TOTAL"),
                    Column::right("MEAN"),
                    Column::right("LONGEST"),
                    Column::left(""),
                ],
                opts.width,
                opts.color,
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
                total.count - total.timed,
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
    let (groups, total) = aggregate(feed, args, progress)?;
    progress.stop();
    print(out, args.by, &groups, &total, opts).map_err(CliError::output)
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
    fn table_and_json() {
        let g = vec![
            GroupStats {
                group: "rdp".into(),
                count: 3,
                timed: 2,
                total_secs: 400,
                max_secs: Some(300),
            },
            GroupStats {
                group: "ssh".into(),
                count: 1,
                timed: 0,
                total_secs: 0,
                max_secs: None,
            },
        ];
        let total = GroupStats {
            group: "total".into(),
            count: 4,
            timed: 2,
            total_secs: 400,
            max_secs: Some(300),
        };
        let mut out = Vec::new();
        print(
            &mut out,
            GroupBy::Protocol,
            &g,
            &total,
            &OutputOpts::default(),
        )
        .unwrap();
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
        print(&mut out, GroupBy::Protocol, &g, &total, &opts).unwrap();
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
