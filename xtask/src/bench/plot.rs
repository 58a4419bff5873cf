//! `docs/perf/scaling.svg`: wall time and peak RSS against the number of sessions,
//! written by hand as SVG (no plotting crate: xtask stays quick to compile).

use std::fmt::Write as _;

use super::contender::Contender;
use super::report::Row;

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A log-log panel of one quantity against the number of sessions.
struct Panel<'a> {
    title: &'a str,
    y_label: &'a str,
    value: fn(&Row) -> Option<f64>,
}

const PANEL_W: f64 = 440.0;
const PANEL_H: f64 = 300.0;
const MARGIN_L: f64 = 60.0;
const MARGIN_T: f64 = 40.0;

/// Two panels side by side (wall time and peak RSS against sessions, both axes in log
/// scale), one polyline per contender that has points, and a legend.
pub fn scaling_svg(rows: &[Row]) -> String {
    let panels = [
        Panel {
            title: "wall time (median)",
            y_label: "seconds",
            value: |r| r.median_s,
        },
        Panel {
            title: "peak RSS",
            y_label: "MiB",
            value: |r| r.rss_mib,
        },
    ];
    let contenders: Vec<Contender> = Contender::ALL
        .into_iter()
        .filter(|&c| rows.iter().any(|r| r.contender == c && r.skipped.is_none()))
        .collect();
    let width = 2.0 * (MARGIN_L + PANEL_W) + 40.0;
    let legend_h = 20.0 * contenders.len() as f64 + 10.0;
    let height = MARGIN_T + PANEL_H + 50.0 + legend_h;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>"#
    );
    for (i, panel) in panels.iter().enumerate() {
        let x0 = i as f64 * (MARGIN_L + PANEL_W + 20.0) + MARGIN_L;
        draw_panel(&mut s, panel, rows, &contenders, x0, MARGIN_T);
    }
    let ly = MARGIN_T + PANEL_H + 45.0;
    for (k, c) in contenders.iter().enumerate() {
        let y = ly + 20.0 * k as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{MARGIN_L}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="2"/>"#,
            MARGIN_L + 30.0,
            c.color()
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}">{}</text>"#,
            MARGIN_L + 38.0,
            y + 4.0,
            escape_xml(c.name())
        );
    }
    s.push_str("</svg>\n");
    s
}

fn draw_panel(
    s: &mut String,
    panel: &Panel<'_>,
    rows: &[Row],
    contenders: &[Contender],
    x0: f64,
    y0: f64,
) {
    let points = |c: Contender| -> Vec<(f64, f64)> {
        let mut p: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.contender == c && r.skipped.is_none())
            .filter_map(|r| Some((r.sessions as f64, (panel.value)(r)?)))
            .filter(|&(x, y)| x > 0.0 && y > 0.0)
            .collect();
        p.sort_by(|a, b| a.0.total_cmp(&b.0));
        p
    };
    let all: Vec<(f64, f64)> = contenders.iter().flat_map(|&c| points(c)).collect();
    // Whole decades around the data, so the ticks are 10^k.
    let decades = |vals: &mut dyn Iterator<Item = f64>| {
        let (lo, hi) = vals.fold((f64::MAX, f64::MIN), |(lo, hi), v| {
            (lo.min(v.log10()), hi.max(v.log10()))
        });
        if lo > hi {
            (0.0, 1.0)
        } else {
            let (lo, hi) = (lo.floor(), hi.ceil());
            (lo, if hi > lo { hi } else { lo + 1.0 })
        }
    };
    let (xlo, xhi) = decades(&mut all.iter().map(|p| p.0));
    let (ylo, yhi) = decades(&mut all.iter().map(|p| p.1));
    let px = |x: f64| x0 + (x.log10() - xlo) / (xhi - xlo) * PANEL_W;
    let py = |y: f64| y0 + PANEL_H - (y.log10() - ylo) / (yhi - ylo) * PANEL_H;
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="14">{} vs sessions</text>"#,
        x0 + PANEL_W / 2.0,
        y0 - 15.0,
        escape_xml(panel.title)
    );
    let _ = writeln!(
        s,
        r##"<rect x="{x0}" y="{y0}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#888"/>"##
    );
    let mut k = xlo;
    while k <= xhi {
        let x = x0 + (k - xlo) / (xhi - xlo) * PANEL_W;
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
            y0 + PANEL_H,
            y0 + PANEL_H + 16.0,
            tick_label(k)
        );
        k += 1.0;
    }
    let mut k = ylo;
    while k <= yhi {
        let y = y0 + PANEL_H - (k - ylo) / (yhi - ylo) * PANEL_H;
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            x0 + PANEL_W,
            x0 - 5.0,
            y + 4.0,
            tick_label(k)
        );
        k += 1.0;
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">sessions (log)</text>"#,
        x0 + PANEL_W / 2.0,
        y0 + PANEL_H + 32.0
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle" transform="rotate(-90 {} {})">{} (log)</text>"#,
        x0 - 45.0,
        y0 + PANEL_H / 2.0,
        x0 - 45.0,
        y0 + PANEL_H / 2.0,
        escape_xml(panel.y_label)
    );
    for &c in contenders {
        let p = points(c);
        if p.is_empty() {
            continue;
        }
        let coords: Vec<String> = p
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
            c.color(),
            coords.join(" ")
        );
        for &(x, y) in &p {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#,
                px(x),
                py(y),
                c.color()
            );
        }
    }
}

fn tick_label(decade: f64) -> String {
    let v = 10f64.powf(decade);
    if v >= 1e6 {
        format!("{}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{}k", v / 1e3)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::sample_rows;

    /// A small check that tags nest: every `<x ...>` is closed by `</x>` or is `<x/>`.
    fn well_formed(svg: &str) -> bool {
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let Some(len) = rest[start..].find('>') else {
                return false;
            };
            let tag = &rest[start + 1..start + len];
            rest = &rest[start + len + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                if stack.pop() != Some(name.trim()) {
                    return false;
                }
            } else if !tag.ends_with('/') {
                stack.push(tag.split_whitespace().next().unwrap_or(""));
            }
        }
        stack.is_empty()
    }

    #[test]
    fn the_plot_is_well_formed_with_a_polyline_per_contender_and_panel() {
        let svg = scaling_svg(&sample_rows());
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(well_formed(&svg), "{svg}");
        // segura and jq, in two panels; python was skipped.
        assert_eq!(svg.matches("<polyline").count(), 4);
        for c in [Contender::SeguraInput, Contender::Jq] {
            let stroke = format!("<polyline fill=\"none\" stroke=\"{}\"", c.color());
            assert_eq!(svg.matches(&stroke).count(), 2, "{}", c.name());
        }
        assert!(!svg.contains(Contender::Python.color()));
        assert!(svg.contains("1M") && svg.contains("10k"));
        assert!(!well_formed("<svg><g></svg>"));
    }
}
