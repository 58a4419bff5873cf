//! `segura sessions report --out FILE.html`: one self-contained HTML file (inline CSS,
//! inline SVG, no script, nothing fetched) with the figures of `segura-api`'s
//! [`Overview`], the audit findings and the provenance of the data (the SHA-256 of the
//! bytes read).
//!
//! The page is rendered by minijinja from `report.html`, with HTML auto-escaping on
//! (the template's name ends in `.html`): every value from the data is escaped. The
//! charts are SVG written here from numbers and dates only, escaped all the same.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use segura_api::audit::{AuditConfig, Finding, Overview, Ranked, RuleId, Severity};
use segura_api::SessionFilter;
use serde::Serialize;

use crate::cli::{FilterArgs, ReportArgs};
use crate::commands::audit::{audit_feed, setup, write_file};
use crate::exit::CliError;
use crate::feed::{ByteTap, Feed};
use crate::output::human_duration;
use crate::progress::Progress;

const TEMPLATE: &str = include_str!("report.html");

/// At most this many findings of one rule are listed in the report (all are counted).
pub const MAX_FINDINGS_PER_RULE: usize = 200;

/// Escapes text for HTML and SVG (element content and quoted attributes).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Bars of sessions per day: one bar per day from the first to the last.
pub fn per_day_chart(days: &[(NaiveDate, u64)]) -> String {
    let (w, h, left, bottom, top) = (1000.0_f64, 220.0_f64, 44.0, 28.0, 10.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="Sessions per day">"##
    );
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        svg.push_str(
            r##"<text x="10" y="20" font-size="13" fill="#5b6570">no sessions</text></svg>"##,
        );
        return svg;
    };
    let span = (last.0 - first.0).num_days().max(0) as f64 + 1.0;
    let max = days.iter().map(|d| d.1).max().unwrap_or(1).max(1) as f64;
    let plot_w = w - left - 8.0;
    let plot_h = h - bottom - top;
    let bar_w = plot_w / span;
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#9aa4ad" stroke-width="1"/>"##,
        y0 = top + plot_h,
        x1 = left + plot_w
    );
    let _ = write!(
        svg,
        r##"<text x="{x}" y="{y}" font-size="11" fill="#5b6570" text-anchor="end">{max}</text><text x="{x}" y="{y0}" font-size="11" fill="#5b6570" text-anchor="end">0</text>"##,
        x = left - 4.0,
        y = top + 10.0,
        y0 = top + plot_h,
        max = max as u64
    );
    for (day, n) in days {
        let i = (*day - first.0).num_days() as f64;
        let bh = (*n as f64 / max) * plot_h;
        let _ = write!(
            svg,
            r##"<rect x="{x:.2}" y="{y:.2}" width="{bw:.2}" height="{bh:.2}" fill="#2f6f9f"><title>{d}: {n}</title></rect>"##,
            x = left + i * bar_w,
            y = top + plot_h - bh,
            bw = (bar_w * 0.85).max(0.5),
            d = esc(&day.to_string()),
        );
    }
    let labels = [first.0, last.0];
    for (k, d) in labels.iter().enumerate() {
        let anchor = if k == 0 { "start" } else { "end" };
        let x = if k == 0 { left } else { left + plot_w };
        let _ = write!(
            svg,
            r##"<text x="{x}" y="{y}" font-size="11" fill="#5b6570" text-anchor="{anchor}">{d}</text>"##,
            y = h - 8.0,
            d = esc(&d.to_string())
        );
    }
    svg.push_str("</svg>");
    svg
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A 7 × 24 heat map of starts (Monday first, hours 0 to 23).
pub fn heat_map_chart(heat: &[[u64; 24]; 7]) -> String {
    let (cell, left, top) = (34.0_f64, 40.0_f64, 18.0_f64);
    let (w, h) = (left + 24.0 * cell + 4.0, top + 7.0 * cell + 4.0);
    let max = heat.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="Starts by hour and weekday">"##
    );
    for hour in 0..24 {
        let _ = write!(
            svg,
            r##"<text x="{x}" y="12" font-size="10" fill="#5b6570" text-anchor="middle">{hour:02}</text>"##,
            x = left + hour as f64 * cell + cell / 2.0
        );
    }
    for (d, row) in heat.iter().enumerate() {
        let y = top + d as f64 * cell;
        let _ = write!(
            svg,
            r##"<text x="0" y="{ty}" font-size="11" fill="#5b6570">{name}</text>"##,
            ty = y + cell / 2.0 + 4.0,
            name = WEEKDAYS[d]
        );
        for (hour, n) in row.iter().enumerate() {
            let level = if *n == 0 {
                0.0
            } else {
                0.12 + 0.88 * (*n as f64 / max)
            };
            let _ = write!(
                svg,
                r##"<rect x="{x}" y="{y}" width="{c}" height="{c}" fill="#2f6f9f" fill-opacity="{level:.3}" stroke="#ffffff" stroke-width="1"><title>{name} {hour:02}:00: {n}</title></rect>"##,
                x = left + hour as f64 * cell,
                c = cell,
                name = WEEKDAYS[d]
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A small horizontal bar for a share (0 to 1).
fn share_bar(share: f64) -> String {
    let w = (share.clamp(0.0, 1.0) * 120.0).max(if share > 0.0 { 1.0 } else { 0.0 });
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 10" width="120" height="10"><rect x="0" y="0" width="120" height="10" fill="#e8ecef"/><rect x="0" y="0" width="{w:.1}" height="10" fill="#2f6f9f"/></svg>"##
    )
}

#[derive(Serialize)]
struct Row {
    name: String,
    sessions: u64,
    time: String,
}

fn rows(v: Vec<Ranked>) -> Vec<Row> {
    v.into_iter()
        .map(|r| Row {
            name: r.name,
            sessions: r.sessions,
            time: human_duration(r.secs),
        })
        .collect()
}

#[derive(Serialize)]
struct Top {
    title: &'static str,
    noun: &'static str,
    by_sessions: Vec<Row>,
    by_time: Vec<Row>,
}

#[derive(Serialize)]
struct MixRow {
    name: String,
    sessions: u64,
    share: String,
    bar: String,
}

#[derive(Serialize)]
struct Mix {
    title: &'static str,
    noun: &'static str,
    rows: Vec<MixRow>,
}

#[derive(Serialize)]
struct FindingRow {
    subject: String,
    sessions: String,
    first: String,
    last: String,
    detail: String,
}

#[derive(Serialize)]
struct RuleBlock {
    id: &'static str,
    severity: &'static str,
    count: u64,
    about: &'static str,
    items: Vec<FindingRow>,
    omitted: u64,
}

#[derive(Serialize)]
struct Summary {
    sessions: u64,
    users: usize,
    devices: usize,
    credentials: usize,
    active: u64,
    recorded: String,
    findings: u64,
    high: u64,
    medium: u64,
    low: u64,
}

#[derive(Serialize)]
struct Charts {
    per_day: String,
    heat_map: String,
}

#[derive(Serialize)]
struct Longest {
    id: u64,
    user: String,
    device: String,
    credential: String,
    start: String,
    time: String,
}

#[derive(Serialize)]
struct Page {
    version: &'static str,
    source: String,
    exported: String,
    now: String,
    summary: Summary,
    charts: Charts,
    tops: Vec<Top>,
    mixes: Vec<Mix>,
    longest: Vec<Longest>,
    findings: Vec<RuleBlock>,
    filters: Vec<String>,
    rules_file: String,
    rules: Vec<String>,
    baseline: String,
    bytes: u64,
    sha256: String,
}

/// What each rule is for, in the report.
pub fn rule_about(r: RuleId) -> &'static str {
    match r {
        RuleId::NoTicket => "Sessions with neither an access request nor an ITSM ticket: privileged access must be authorised (PCI DSS 7.2, SOX change control, ISO 27001 A.8.2).",
        RuleId::LongSession => "Ended sessions longer than the threshold: unusually long privileged work (PCI DSS 10.2, ISO 27001 A.8.16).",
        RuleId::LongOpen => "Sessions still open for longer than the threshold: forgotten or hijacked sessions (PCI DSS 8.2.8, ISO 27001 A.8.5).",
        RuleId::OffHours => "Sessions started outside business hours and days (PCI DSS 10.4, ISO 27001 A.8.16).",
        RuleId::SharedCredential => "One credential used by several people: individual accountability (PCI DSS 8.2.2, SOX, ISO 27001 A.5.16).",
        RuleId::ConcurrentOrigins => "One user with overlapping sessions from different addresses: suspected credential sharing or theft (PCI DSS 10.4, ISO 27001 A.8.16).",
        RuleId::DeviceSweep => "One user reaching many devices in a short time: excessive access or lateral movement (PCI DSS 7.2, ISO 27001 A.8.2).",
        RuleId::NewOrigin => "A user seen from an address absent from the baseline (PCI DSS 10.4, ISO 27001 A.8.16).",
    }
}

/// The rules as the provenance lists them.
fn describe_rules(c: &AuditConfig) -> Vec<String> {
    RuleId::ALL
        .iter()
        .map(|r| {
            let s = c.rule(*r);
            if !s.enabled {
                return format!("{r}: off");
            }
            let setting = match r {
                RuleId::LongSession => format!(", over {}", human_duration(c.long_session_secs)),
                RuleId::LongOpen => format!(", over {}", human_duration(c.long_open_secs)),
                RuleId::OffHours => {
                    let days: Vec<&str> = (0..7)
                        .filter(|d| c.business_hours.days[*d])
                        .map(|d| WEEKDAYS[d])
                        .collect();
                    format!(
                        ", business hours {} {}-{}",
                        days.join(","),
                        c.business_hours.start.format("%H:%M"),
                        c.business_hours.end.format("%H:%M")
                    )
                }
                RuleId::SharedCredential => format!(", {} users or more", c.shared_min_users),
                RuleId::DeviceSweep => format!(
                    ", {} devices or more in {}",
                    c.sweep_min_devices,
                    human_duration(c.sweep_window_secs)
                ),
                _ => String::new(),
            };
            format!("{r}: {}{setting}", s.severity)
        })
        .collect()
}

/// The filters as the provenance lists them (as they would be typed).
/// The filters of the report's window, one flag a line, with every time resolved to
/// the appliance's clock as it was applied (`--since 7d` reads `--since 2024-05-01
/// 10:00:00`), so that the provenance says exactly which sessions were read.
fn describe_filters(f: &FilterArgs, resolved: &SessionFilter) -> Vec<String> {
    let mut v = Vec::new();
    let mut list = |flag: &str, values: &[String]| {
        for x in values {
            v.push(format!("--{flag} {x}"));
        }
    };
    list("user", &f.user);
    list("credential", &f.credential);
    list("device", &f.device);
    list("host", &f.host);
    list("origin-ip", &f.origin_ip);
    list("protocol", &f.protocol);
    list("proxy", &f.proxy);
    list("not-user", &f.not_user);
    list("not-credential", &f.not_credential);
    list("not-device", &f.not_device);
    list("not-host", &f.not_host);
    list("not-origin-ip", &f.not_origin_ip);
    list("not-protocol", &f.not_protocol);
    list("not-proxy", &f.not_proxy);
    let texts = [("search", &f.search), ("not-search", &f.not_search)];
    for (flag, t) in texts {
        if let Some(t) = t {
            v.push(format!("--{flag} {t}"));
        }
    }
    let times = [
        ("since", resolved.since),
        ("until", resolved.until),
        ("ended-since", resolved.ended_since),
        ("ended-until", resolved.ended_until),
        ("active-at", resolved.active_at),
    ];
    for (flag, t) in times {
        if let Some(t) = t {
            v.push(format!("--{flag} {}", fmt_time(&t)));
        }
    }
    if let Some(w) = &resolved.during {
        let end = |t: Option<chrono::NaiveDateTime>| t.map_or_else(String::new, |t| fmt_time(&t));
        v.push(format!("--during {}..{}", end(w.from), end(w.to)));
    }
    for (flag, on) in [("active", f.active), ("not-active", f.not_active)] {
        if on {
            v.push(format!("--{flag}"));
        }
    }
    let durations = [
        ("min-duration", f.min_duration),
        ("max-duration", f.max_duration),
    ];
    for (flag, d) in durations {
        if let Some(d) = d {
            v.push(format!("--{flag} {d}"));
        }
    }
    if let Some(e) = &f.filter {
        v.push(format!("--filter {e}"));
    }
    v
}

fn fmt_time(t: &chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Findings of one rule, the first [`MAX_FINDINGS_PER_RULE`] kept.
#[derive(Default)]
struct Held {
    items: Vec<Finding>,
    count: u64,
}

/// Runs `report` over `feed`; `source` names the appliance URL or the input file.
pub fn run(
    feed: &mut dyn Feed,
    tap: &ByteTap,
    args: &ReportArgs,
    source: String,
    progress: &mut Progress,
) -> Result<(), CliError> {
    let setup = setup(&args.rules)?;
    let config = setup.config.clone();
    let now = setup.now;
    let has_file_baseline = setup.baseline.is_some();
    let mut overview = Overview::new();
    let mut held: BTreeMap<RuleId, Held> = BTreeMap::new();
    let outcome = audit_feed(
        feed,
        &args.filter,
        &args.rules,
        setup,
        false,
        Some(MAX_FINDINGS_PER_RULE),
        progress,
        &mut |s| overview.add(s),
        &mut |f| {
            let h = held.entry(f.rule).or_default();
            h.count += 1;
            if h.items.len() < MAX_FINDINGS_PER_RULE {
                h.items.push(f.clone());
            }
            Ok(())
        },
    )?;
    progress.stop();
    // The tally counts every finding, also those only counted (past the first
    // MAX_FINDINGS_PER_RULE of a rule).
    for (rule, h) in held.iter_mut() {
        h.count = outcome.tally.rule(*rule);
    }
    let (bytes, sha256) = tap.digest();

    let mut blocks: Vec<(Severity, RuleBlock)> = held
        .into_iter()
        .map(|(rule, mut h)| {
            segura_api::audit::sort_findings(&mut h.items);
            let severity = config.rule(rule).severity;
            let items = h
                .items
                .iter()
                .map(|f| {
                    let mut ids: Vec<String> = f.sessions.iter().map(|i| i.to_string()).collect();
                    let more = f.session_count.saturating_sub(ids.len() as u64);
                    if more > 0 {
                        ids.push(format!("(+{more})"));
                    }
                    FindingRow {
                        subject: f.subject.clone(),
                        sessions: ids.join(" "),
                        first: fmt_time(&f.first),
                        last: fmt_time(&f.last),
                        detail: f.detail.clone(),
                    }
                })
                .collect::<Vec<_>>();
            let omitted = h.count - items.len() as u64;
            (
                severity,
                RuleBlock {
                    id: rule.as_str(),
                    severity: severity.as_str(),
                    count: h.count,
                    about: rule_about(rule),
                    items,
                    omitted,
                },
            )
        })
        .collect();
    blocks.sort_by_key(|b| std::cmp::Reverse(b.0));

    let mix = |title, noun, v: Vec<Ranked>| {
        let total = overview.sessions().max(1) as f64;
        Mix {
            title,
            noun,
            rows: v
                .into_iter()
                .map(|r| {
                    let share = r.sessions as f64 / total;
                    MixRow {
                        name: if r.name.is_empty() {
                            "(none)".into()
                        } else {
                            r.name
                        },
                        sessions: r.sessions,
                        share: format!("{:.1}%", share * 100.0),
                        bar: share_bar(share),
                    }
                })
                .collect(),
        }
    };
    let t = &outcome.tally;
    let page = Page {
        version: env!("CARGO_PKG_VERSION"),
        source,
        exported: fmt_time(&crate::cli::now()),
        now: fmt_time(&now),
        summary: Summary {
            sessions: overview.sessions(),
            users: overview.users(),
            devices: overview.devices(),
            credentials: overview.credentials(),
            active: overview.active(),
            recorded: human_duration(overview.total_secs()),
            findings: t.total(),
            high: t.severity(Severity::High),
            medium: t.severity(Severity::Medium),
            low: t.severity(Severity::Low),
        },
        charts: Charts {
            per_day: per_day_chart(&overview.per_day()),
            heat_map: heat_map_chart(&overview.heat_map()),
        },
        tops: vec![
            Top {
                title: "Users",
                noun: "user",
                by_sessions: rows(overview.top_users(false)),
                by_time: rows(overview.top_users(true)),
            },
            Top {
                title: "Devices",
                noun: "device",
                by_sessions: rows(overview.top_devices(false)),
                by_time: rows(overview.top_devices(true)),
            },
            Top {
                title: "Credentials",
                noun: "credential",
                by_sessions: rows(overview.top_credentials(false)),
                by_time: rows(overview.top_credentials(true)),
            },
        ],
        mixes: vec![
            mix("Protocols", "protocol", overview.protocols()),
            mix("Proxies", "proxy", overview.proxies()),
        ],
        longest: overview
            .longest()
            .into_iter()
            .map(|l| Longest {
                id: l.id.get(),
                user: l.user,
                device: l.device,
                credential: l.credential,
                start: fmt_time(&l.start),
                time: human_duration(l.secs),
            })
            .collect(),
        findings: blocks.into_iter().map(|(_, b)| b).collect(),
        filters: describe_filters(&args.filter, &outcome.window),
        rules_file: args
            .rules
            .rules
            .as_ref()
            .map_or_else(|| "(defaults)".to_owned(), |p| p.display().to_string()),
        rules: describe_rules(&config),
        baseline: match (&args.rules.baseline, outcome.baseline_from) {
            (Some(p), _) => format!("file {}", p.display()),
            (None, Some(from)) => format!(
                "sessions from {} until --since ({} sessions)",
                fmt_time(&from),
                outcome.learned
            ),
            (None, None) if !has_file_baseline => "none (new-origin not checked)".to_owned(),
            _ => String::new(),
        },
        bytes,
        sha256,
    };
    let html = render(&page)?;
    write_file(&args.out, html.as_bytes(), "report")
}

/// The template engine of the report: HTML auto-escaping on (the template's name ends
/// in `.html`), and every value from the data shown as [`segura_api::sanitize`] shows it
/// first, so that a control character or a bidirectional override in a user or device
/// name is seen escaped (`\u{202e}`) instead of reordering or hiding what the auditor
/// reads. Values marked safe (the charts, written here) are left alone.
fn environment<'a>() -> minijinja::Environment<'a> {
    let mut env = minijinja::Environment::new();
    env.set_formatter(|out, state, value| {
        let shown = match value.as_str() {
            Some(s) if !value.is_safe() => match segura_api::sanitize(s) {
                std::borrow::Cow::Owned(shown) => Some(minijinja::Value::from(shown)),
                std::borrow::Cow::Borrowed(_) => None,
            },
            _ => None,
        };
        minijinja::escape_formatter(out, state, shown.as_ref().unwrap_or(value))
    });
    env
}

fn render(page: &Page) -> Result<String, CliError> {
    let mut env = environment();
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| CliError::Local(format!("the report template is broken: {e}")))?;
    let tmpl = env
        .get_template("report.html")
        .map_err(|e| CliError::Local(format!("the report template is missing: {e}")))?;
    tmpl.render(page)
        .map_err(|e| CliError::Local(format!("cannot render the report: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(
            esc(r#"<b>o'hara & "co"</b>"#),
            "&lt;b&gt;o&#39;hara &amp; &quot;co&quot;&lt;/b&gt;"
        );
    }

    #[test]
    fn the_template_escapes_every_value() {
        let mut env = environment();
        env.add_template(
            "report.html",
            "<p title=\"{{ v }}\">{{ v }}</p>{{ svg|safe }}",
        )
        .unwrap();
        let render = |v: &str| {
            env.get_template("report.html")
                .unwrap()
                .render(minijinja::context! { v => v, svg => "<svg>\n</svg>" })
                .unwrap()
        };
        let out = render("<script>x</script>\"'&");
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(!out.contains("\"'&\""), "{out}");
        // Controls and bidirectional overrides are shown, not obeyed.
        let out = render("adm\u{202e}nimda\u{1b}[2J\u{8}");
        assert!(out.contains("adm\\u{202e}nimda\\u{1b}[2J\\u{8}"), "{out}");
        assert!(
            !out.chars()
                .any(|c| c == '\u{202e}' || c.is_control() && c != '\n'),
            "{out}"
        );
        assert!(
            out.ends_with("<svg>\n</svg>"),
            "safe values are kept: {out}"
        );
    }

    #[test]
    fn charts_are_svg_of_numbers() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let svg = per_day_chart(&[(d("2024-03-04"), 3), (d("2024-03-06"), 1)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("2024-03-06: 1"));
        assert!(per_day_chart(&[]).contains("no sessions"));
        let mut heat = [[0u64; 24]; 7];
        heat[0][9] = 4;
        let svg = heat_map_chart(&heat);
        assert_eq!(svg.matches("<rect").count(), 7 * 24);
        assert!(svg.contains("Mon 09:00: 4"));
    }
}
