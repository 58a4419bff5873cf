//! The results: one row per contender and size, the table printed, the verdicts
//! against the targets, and `docs/perf/results.json`.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::contender::Contender;
use super::criterion::{decoder_ratio, CriterionFigure};
use super::latency::{Latency, DRIP, DRIP_SESSIONS};
use super::prepare::SEED;
use super::throughput::Measurement;

fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub contender: Contender,
    pub sessions: u64,
    pub body_bytes: u64,
    pub median_s: Option<f64>,
    pub rss_mib: Option<f64>,
    /// This contender's time over segura --input's at the same size: the median of the
    /// ratios to its partner runs when it has them, else the ratio of the medians.
    pub ratio: Option<f64>,
    pub identical: Option<bool>,
    pub skipped: Option<String>,
}

impl Row {
    pub fn mb_per_s(&self) -> Option<f64> {
        self.median_s
            .filter(|&s| s > 0.0)
            .map(|s| self.body_bytes as f64 / 1e6 / s)
    }
}

pub fn rows(ms: &[Measurement]) -> Vec<Row> {
    ms.iter()
        .map(|m| {
            let median_s = median(&m.walls);
            let base = ms
                .iter()
                .find(|b| b.contender == Contender::SeguraInput && b.sessions == m.sessions)
                .and_then(|b| median(&b.walls));
            // Pair by pair when each run had its partner run of segura --input.
            let paired = (!m.partners.is_empty() && m.partners.len() == m.walls.len())
                .then(|| {
                    let r: Vec<f64> = m
                        .walls
                        .iter()
                        .zip(&m.partners)
                        .map(|(t, b)| t / b)
                        .collect();
                    median(&r)
                })
                .flatten();
            Row {
                contender: m.contender,
                sessions: m.sessions,
                body_bytes: m.body_bytes,
                median_s,
                rss_mib: m.rss_kib.map(|k| k as f64 / 1024.0),
                ratio: paired.or_else(|| median_s.zip(base).map(|(t, b)| t / b)),
                identical: m.identical,
                skipped: m.skipped.clone(),
            }
        })
        .collect()
}

/// `text` as one Markdown table cell: a `|` in it (`cat | cat`) escaped, so that it does
/// not split the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

pub fn format_table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| contender | sessions | median s | MB/s | peak RSS MiB | time / segura --input | output |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|");
    for r in rows {
        if let Some(why) = &r.skipped {
            let _ = writeln!(
                out,
                "| {} | {} | skipped | | | | {} |",
                cell(r.contender.name()),
                r.sessions,
                cell(why)
            );
            continue;
        }
        let opt = |v: Option<f64>, digits: usize| match v {
            Some(v) => format!("{v:.digits$}"),
            None => "n/a".to_owned(),
        };
        let identical = match r.identical {
            Some(true) => "identical",
            Some(false) => "DIFFERS",
            None => "not checked",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {identical} |",
            cell(r.contender.name()),
            r.sessions,
            opt(r.median_s, 3),
            opt(r.mb_per_s(), 0),
            opt(r.rss_mib, 1),
            match r.ratio {
                Some(x) => format!("{x:.2}×"),
                None => "n/a".to_owned(),
            },
        );
    }
    out
}

/// A target of the issue and whether this run met it.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    target: String,
    /// `None` when this run could not measure it.
    pass: Option<bool>,
    measured: String,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = match self.pass {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "n/a ",
        };
        write!(f, "{mark}  {}: {}", self.target, self.measured)
    }
}

pub fn evaluate(rows: &[Row], latency: &Latency, criterion: &[CriterionFigure]) -> Vec<Verdict> {
    let mut out = Vec::new();
    let largest = rows.iter().map(|r| r.sessions).max().unwrap_or(0);
    let at = |c: Contender, n: u64| {
        rows.iter()
            .find(|r| r.contender == c && r.sessions == n && r.skipped.is_none())
    };
    let segura = at(Contender::SeguraInput, largest);
    let mut faster = |c: Contender, times: f64| {
        let ratio = at(c, largest).and_then(|r| r.ratio);
        out.push(Verdict {
            target: format!("≥{times}× faster than {} at {largest} sessions", c.name()),
            pass: ratio.map(|r| r >= times),
            measured: ratio.map_or("not measured".to_owned(), |r| format!("{r:.2}×")),
        });
    };
    faster(Contender::Jq, 15.0);
    faster(Contender::Python, 10.0);
    faster(Contender::BaselineSerde, 2.5);
    faster(Contender::BaselineSonic, 2.0);
    let cat = at(Contender::CatPipe, largest).and_then(|r| r.ratio);
    out.push(Verdict {
        target: format!("segura --input within 1.5× the time of `cat | cat` at {largest} sessions"),
        pass: cat.map(|r| r > 0.0 && 1.0 / r <= 1.5),
        measured: cat.map_or("not measured".to_owned(), |r| format!("{:.2}×", 1.0 / r)),
    });
    let mut rate = |c: Contender, floor: f64| {
        let mbs = at(c, largest).and_then(Row::mb_per_s);
        out.push(Verdict {
            target: format!(
                "{} ≥{floor:.0} MB/s of JSON at {largest} sessions",
                c.name()
            ),
            pass: mbs.map(|v| v >= floor),
            measured: mbs.map_or("not measured".to_owned(), |v| format!("{v:.0} MB/s")),
        });
    };
    rate(Contender::SeguraGzip, 300.0);
    rate(Contender::SeguraHttpsGzip, 250.0);
    let filtered = at(Contender::SeguraFilter, largest).and_then(|r| r.ratio);
    out.push(Verdict {
        target: format!("--filter at most 2.5× the time of the plain list at {largest} sessions"),
        pass: filtered.map(|r| r <= 2.5),
        measured: filtered.map_or("not measured".to_owned(), |r| format!("{r:.2}×")),
    });
    let mbs = segura.and_then(Row::mb_per_s);
    out.push(Verdict {
        target: "segura --input throughput ≥300 MB/s".to_owned(),
        pass: mbs.map(|v| v >= 300.0),
        measured: mbs.map_or("not measured".to_owned(), |v| format!("{v:.0} MB/s")),
    });
    let rss = segura.and_then(|r| r.rss_mib);
    let rss_100k = at(Contender::SeguraInput, 100_000)
        .filter(|_| largest != 100_000)
        .and_then(|r| r.rss_mib);
    out.push(Verdict {
        target: "segura --input peak RSS ≤32 MiB, within 10% of 100,000 sessions".to_owned(),
        pass: rss.map(|r| r <= 32.0 && rss_100k.is_none_or(|s| r <= s * 1.1)),
        measured: match (rss, rss_100k) {
            (Some(r), Some(s)) => format!("{r:.1} MiB at {largest}, {s:.1} MiB at 100000"),
            (Some(r), None) => format!("{r:.1} MiB at {largest}"),
            _ => "not measured".to_owned(),
        },
    });
    let http = at(Contender::SeguraHttp, largest).and_then(Row::mb_per_s);
    let rel = http.zip(mbs).map(|(h, i)| h / i);
    out.push(Verdict {
        target: "segura over HTTP ≥0.7× the throughput of --input".to_owned(),
        pass: rel.map(|r| r >= 0.7),
        measured: match (http, rel) {
            (Some(h), Some(r)) => format!("{h:.0} MB/s, {r:.2}×"),
            _ => "not measured".to_owned(),
        },
    });
    let sort = at(Contender::SeguraSort, largest);
    let (ratio, rss) = (sort.and_then(|r| r.ratio), sort.and_then(|r| r.rss_mib));
    out.push(Verdict {
        target: format!(
            "segura --sort -start ≤3× the time of segura --input, peak RSS ≤300 MiB at {largest} sessions"
        ),
        pass: ratio.zip(rss).map(|(t, m)| t <= 3.0 && m <= 300.0),
        measured: match (ratio, rss) {
            (Some(t), Some(m)) => format!("{t:.2}×, {m:.1} MiB"),
            (Some(t), None) => format!("{t:.2}×"),
            _ => "not measured".to_owned(),
        },
    });
    for c in [
        Contender::SeguraAudit,
        Contender::SeguraStats,
        Contender::SeguraReport,
    ] {
        let row = at(c, largest);
        let ratio = row.and_then(|r| r.ratio);
        let rss = row.and_then(|r| r.rss_mib);
        out.push(Verdict {
            target: format!(
                "{} ≤2× the time of segura --input (list -o ndjson), peak RSS ≤256 MiB",
                c.name()
            ),
            pass: ratio.zip(rss).map(|(t, m)| t <= 2.0 && m <= 256.0),
            measured: match (ratio, rss) {
                (Some(t), Some(m)) => format!("{t:.2}×, {m:.1} MiB"),
                (Some(t), None) => format!("{t:.2}×"),
                _ => "not measured".to_owned(),
            },
        });
    }
    let identical = rows
        .iter()
        .filter(|r| r.skipped.is_none() && r.contender.lists_sessions())
        .all(|r| r.identical == Some(true));
    out.push(Verdict {
        target: "every contender's output identical to the generator's lines".to_owned(),
        pass: Some(identical),
        measured: if identical { "yes" } else { "no" }.to_owned(),
    });
    let ms = |v: f64| format!("{:.1} ms", v * 1e3);
    out.push(Verdict {
        target: "first session printed under 100 ms after the server sends it (slow drip)"
            .to_owned(),
        pass: latency.http_lateness_s.map(|l| l < 0.1),
        measured: latency
            .http_lateness_s
            .map_or("not measured".to_owned(), ms),
    });
    out.push(Verdict {
        target: "first session printed under 100 ms after it is written to stdin".to_owned(),
        pass: latency.stdin_first_line_s.map(|l| l < 0.1),
        measured: latency
            .stdin_first_line_s
            .map_or("not measured".to_owned(), ms),
    });
    let ratio = decoder_ratio(criterion);
    out.push(Verdict {
        target: "streaming decoder ≥1.5× serde_json::from_slice into owned structs (criterion)"
            .to_owned(),
        pass: ratio.map(|r| r >= 1.5),
        measured: ratio.map_or("no saved estimates".to_owned(), |r| format!("{r:.2}×")),
    });
    out
}

pub fn results_json(
    rows: &[Row],
    latency: &Latency,
    criterion: &[CriterionFigure],
    verdicts: &[Verdict],
    runs: usize,
) -> Value {
    json!({
        "seed": SEED,
        "runs": runs,
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "results": rows.iter().map(|r| json!({
            "contender": r.contender.name(),
            "sessions": r.sessions,
            "body_bytes": r.body_bytes,
            "median_s": r.median_s,
            "mb_per_s": r.mb_per_s(),
            "peak_rss_mib": r.rss_mib,
            "time_over_segura_input": r.ratio,
            "identical": r.identical,
            "skipped": r.skipped,
        })).collect::<Vec<_>>(),
        "latency": {
            "drip_ms": DRIP.as_millis() as u64,
            "drip_sessions": DRIP_SESSIONS,
            "http_lines": latency.http_lines,
            "http_worst_lateness_s": latency.http_lateness_s,
            "http_first_line_after_spawn_s": latency.http_first_line_s,
            "stdin_first_line_s": latency.stdin_first_line_s,
            "stdin_only_after_close": latency.stdin_only_at_end,
        },
        "criterion": criterion.iter().map(|f| json!({
            "id": f.id,
            "median_ns": f.median_ns,
            "rate": f.rate(),
        })).collect::<Vec<_>>(),
        "targets": verdicts.iter().map(|v| json!({
            "target": v.target,
            "pass": v.pass,
            "measured": v.measured,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
pub fn sample_rows() -> Vec<Row> {
    let m = |c, n: u64, walls: Vec<f64>, rss| Measurement {
        contender: c,
        sessions: n,
        body_bytes: n * 343,
        walls,
        partners: Vec::new(),
        rss_kib: Some(rss),
        identical: Some(true),
        skipped: None,
    };
    let mut ms = vec![
        m(Contender::SeguraInput, 10_000, vec![0.02, 0.01, 0.03], 6000),
        m(Contender::SeguraInput, 1_000_000, vec![1.0, 1.2, 1.1], 7000),
        m(Contender::Jq, 10_000, vec![0.2], 20_000),
        m(Contender::Jq, 1_000_000, vec![17.0, 17.6], 1_800_000),
    ];
    ms.push(Measurement {
        skipped: Some("python3 is not on PATH".to_owned()),
        ..m(Contender::Python, 1_000_000, Vec::new(), 0)
    });
    rows(&ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
    }

    /// With partner runs, the ratio is the median of the pairs' ratios, not the ratio
    /// of the medians (which a host that slows down midway would skew).
    #[test]
    fn a_paired_ratio_is_the_median_of_the_pairs() {
        let m = |c, walls: Vec<f64>, partners: Vec<f64>| Measurement {
            contender: c,
            sessions: 1000,
            body_bytes: 343_000,
            walls,
            partners,
            rss_kib: None,
            identical: None,
            skipped: None,
        };
        let ms = [
            m(Contender::SeguraInput, vec![1.0, 2.0, 3.0], Vec::new()),
            m(
                Contender::SeguraAudit,
                vec![2.0, 4.0, 3.0],
                vec![1.0, 2.0, 3.0],
            ),
            m(Contender::SeguraStats, vec![2.0, 4.0, 3.0], Vec::new()),
        ];
        let rows = rows(&ms);
        assert_eq!(rows[0].ratio, Some(1.0));
        assert_eq!(rows[1].ratio, Some(2.0), "pairs 2×, 2×, 1×");
        assert_eq!(rows[2].ratio, Some(1.5), "unpaired: 3 s over 2 s");
    }

    /// `cat | cat` stays one cell: every line has as many unescaped `|` as the header.
    #[test]
    fn a_pipe_in_a_name_does_not_split_its_cell() {
        let mut ms = vec![Measurement {
            contender: Contender::CatPipe,
            sessions: 10,
            body_bytes: 3430,
            walls: vec![0.5],
            partners: Vec::new(),
            rss_kib: Some(1000),
            identical: None,
            skipped: None,
        }];
        ms.push(Measurement {
            skipped: Some("a | b".to_owned()),
            ..ms[0].clone()
        });
        let table = format_table(&rows(&ms));
        let bars = |l: &str| l.replace("\\|", "").matches('|').count();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        for l in &lines {
            assert_eq!(bars(l), bars(lines[0]), "{l}");
        }
        assert!(lines[2].starts_with("| cat \\| cat | 10 |"), "{table}");
    }

    #[test]
    fn the_table_has_medians_rates_ratios_and_skips() {
        let table = format_table(&sample_rows());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 7, "{table}");
        assert_eq!(
            lines[0],
            "| contender | sessions | median s | MB/s | peak RSS MiB | time / segura --input | output |"
        );
        assert_eq!(
            lines[3],
            "| segura --input | 1000000 | 1.100 | 312 | 6.8 | 1.00× | identical |"
        );
        assert_eq!(
            lines[5],
            "| jq -c | 1000000 | 17.300 | 20 | 1757.8 | 15.73× | identical |"
        );
        assert_eq!(
            lines[6],
            "| python3 json | 1000000 | skipped | | | | python3 is not on PATH |"
        );
    }
}
