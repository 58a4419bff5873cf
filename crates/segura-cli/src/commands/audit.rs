//! `segura sessions audit`: the audit rules of `segura-api` ([`Auditor`]) over the
//! streamed list, findings printed as they are complete (the table: at the end,
//! grouped by rule, worst first), a summary on stderr, exit code 9 with `--fail-on`.

use std::io::{self, Write};
use std::path::Path;

use chrono::NaiveDateTime;
use segura_api::audit::{sort_findings, AuditConfig, Auditor, Baseline, Finding, RuleId, Tally};
use segura_api::SessionFilter;
use segura_model::{format_datetime, RemoteSession};

use crate::cli::{AuditArgs, FilterArgs, RulesArgs};
use crate::commands::rules_file::{load_baseline, load_rules};
use crate::diag;
use crate::exit::CliError;
use crate::feed::{Feed, Flow};
use crate::output::sessions::csv_cell;
use crate::output::table::{Cell, Column, Table, Tone};
use crate::output::Format;
use crate::output::{sanitize, OutputOpts};
use crate::progress::Progress;

/// The rules, the baseline and "now" of one audit.
#[derive(Debug)]
pub struct Setup {
    /// The rules.
    pub config: AuditConfig,
    /// The baseline file's origins, if one was given.
    pub baseline: Option<Baseline>,
    /// "Now", appliance local time.
    pub now: NaiveDateTime,
}

/// Reads the rules file and the baseline file of `args`.
pub fn setup(args: &RulesArgs) -> Result<Setup, CliError> {
    let config = match &args.rules {
        Some(path) => load_rules(path)?,
        None => AuditConfig::default(),
    };
    let baseline = args.baseline.as_deref().map(load_baseline).transpose()?;
    Ok(Setup {
        config,
        baseline,
        now: args.now.unwrap_or_else(crate::cli::now),
    })
}

/// What one pass found besides the findings.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Sessions audited (in the window, not exempt).
    pub audited: u64,
    /// Sessions taken as the baseline's earlier window.
    pub learned: u64,
    /// Whether new-origin had a baseline.
    pub has_baseline: bool,
    /// The origins of the baseline and of the window, when asked for.
    pub origins: Option<Baseline>,
    /// Counts of the findings.
    pub tally: Tally,
    /// The window's filter, its times resolved as they were applied.
    pub window: SessionFilter,
    /// `--baseline-from`, resolved as it was applied.
    pub baseline_from: Option<NaiveDateTime>,
}

/// Streams `feed` through the audit: sessions that pass `filter` are audited (and
/// handed to `on_audited`), those of the earlier window (`--baseline-from`) learned.
/// `emit` receives each finding once complete; with `keep_per_rule`, once `emit` had
/// that many of a rule, the rule's later findings are only counted in the tally
/// ([`Auditor::count_only`]), except those complete at the end.
#[allow(clippy::too_many_arguments)]
pub fn audit_feed(
    feed: &mut dyn Feed,
    filter: &FilterArgs,
    rules: &RulesArgs,
    setup: Setup,
    want_origins: bool,
    keep_per_rule: Option<usize>,
    progress: &Progress,
    on_audited: &mut dyn FnMut(&RemoteSession),
    emit: &mut dyn FnMut(&Finding) -> io::Result<()>,
) -> Result<Outcome, CliError> {
    let window = filter.to_filter()?;
    // The earlier window: the same filters, from --baseline-from to before --since.
    let baseline_from = rules.baseline_from_at(&filter.zone, chrono::Utc::now())?;
    let earlier: Option<(SessionFilter, NaiveDateTime)> = baseline_from.and_then(|from| {
        let since = window.since?;
        let mut f = window.clone();
        f.since = Some(from);
        f.until = None;
        Some((f, since))
    });
    let mut known = want_origins.then(Baseline::new);
    let mut auditor = Auditor::new(setup.config, setup.now);
    if let Some(b) = setup.baseline {
        if let Some(k) = &mut known {
            k.merge(&b);
        }
        auditor = auditor.with_baseline(b);
    }
    if want_origins {
        auditor = auditor.collect_origins();
    }
    let mut outcome = Outcome::default();
    let mut failed: Option<io::Error> = None;
    let mut tally = Tally::default();
    // Rules that reached `keep_per_rule` in `emit`, for the auditor to count only.
    let full = std::cell::Cell::new([false; RuleId::ALL.len()]);
    let full = &full;
    let mut sink = |f: &Finding| {
        tally.add(f);
        if let Some(keep) = keep_per_rule {
            let k = RuleId::ALL.iter().position(|r| *r == f.rule).unwrap_or(0);
            if tally.rule(f.rule) >= keep as u64 {
                let mut m = full.get();
                m[k] = true;
                full.set(m);
            }
        }
        if failed.is_none() {
            if let Err(e) = emit(f) {
                failed = Some(e);
            }
        }
    };
    feed.feed(
        &mut |s| {
            let Some(s) = s else {
                return Ok(Flow::Continue);
            };
            if window.matches(s) {
                on_audited(s);
                auditor.add(s, &mut sink);
                if full.get().iter().any(|f| *f) {
                    for (k, f) in full.get().iter().enumerate() {
                        if *f {
                            auditor.count_only(RuleId::ALL[k]);
                        }
                    }
                    full.set([false; RuleId::ALL.len()]);
                }
            } else if let Some((f, before)) = &earlier {
                if s.start < *before && f.matches(s) {
                    auditor.learn(s);
                    if let Some(k) = &mut known {
                        k.insert(&s.user, &s.origin_ip);
                    }
                    outcome.learned += 1;
                }
            }
            Ok(Flow::Continue)
        },
        progress,
    )?;
    outcome.audited = auditor.sessions();
    outcome.window = window;
    outcome.baseline_from = baseline_from;
    outcome.has_baseline = auditor.has_baseline();
    let counted = auditor.counted().clone();
    let seen = auditor.finish(&mut sink);
    if let Some(e) = failed {
        return Err(CliError::output(e));
    }
    tally.merge(&counted);
    outcome.tally = tally;
    if let (Some(mut k), Some(seen)) = (known, seen) {
        k.merge(&seen);
        outcome.origins = Some(k);
    }
    Ok(outcome)
}

fn time(t: &NaiveDateTime) -> String {
    let mut buf = [0u8; 19];
    format_datetime(t, &mut buf).to_owned()
}

fn ids_text(f: &Finding, max: usize) -> String {
    let mut parts: Vec<String> = f.sessions.iter().take(max).map(|i| i.to_string()).collect();
    let more = f.session_count.saturating_sub(parts.len() as u64);
    if more > 0 {
        parts.push(format!("+{more}"));
    }
    parts.join(" ")
}

/// The CSV header of findings.
const CSV_HEADER: [&str; 7] = [
    "rule", "severity", "subject", "sessions", "first", "last", "detail",
];

/// Prints findings as they come (JSON, NDJSON, CSV), or keeps them for the table.
pub struct FindingPrinter<W: Write> {
    out: W,
    opts: OutputOpts,
    printed: u64,
    held: Vec<Finding>,
    /// The line being written, reused.
    line: Vec<u8>,
}

/// One CSV record, quoted as RFC 4180 wants.
fn csv_record(fields: &[&str]) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields).map_err(csv_err)?;
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

impl<W: Write> FindingPrinter<W> {
    /// A printer in the format of `opts`.
    pub fn new(out: W, opts: &OutputOpts) -> io::Result<Self> {
        let mut p = Self {
            out,
            opts: opts.clone(),
            printed: 0,
            held: Vec::new(),
            line: Vec::new(),
        };
        if opts.format == Format::Csv {
            let header = csv_record(&CSV_HEADER)?;
            p.out.write_all(&header)?;
        }
        Ok(p)
    }

    /// Prints (or keeps) one finding.
    pub fn push(&mut self, f: &Finding) -> io::Result<()> {
        match self.opts.format {
            Format::Table | Format::Wide => self.held.push(f.clone()),
            // SIEM formats are refused before the command runs.
            Format::Ndjson | Format::Siem(_) => {
                self.line.clear();
                f.write_json(&mut self.line);
                self.line.push(b'\n');
                self.out.write_all(&self.line)?;
            }
            Format::Json => {
                self.line.clear();
                self.line
                    .extend_from_slice(if self.printed == 0 { b"[\n" } else { b",\n" });
                f.write_json(&mut self.line);
                self.out.write_all(&self.line)?;
            }
            Format::Csv => {
                let raw = self.opts.csv_raw;
                let ids = ids_text(f, usize::MAX);
                let (first, last) = (time(&f.first), time(&f.last));
                let record = csv_record(&[
                    f.rule.as_str(),
                    f.severity.as_str(),
                    &csv_cell(&f.subject, raw),
                    &ids,
                    &first,
                    &last,
                    &csv_cell(&f.detail, raw),
                ])?;
                self.out.write_all(&record)?;
            }
        }
        self.printed += 1;
        if self.opts.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    /// Ends the output (the table is printed now, grouped by rule, worst first).
    pub fn finish(mut self) -> io::Result<()> {
        match self.opts.format {
            Format::Json => {
                self.out
                    .write_all(if self.printed == 0 { b"[]\n" } else { b"\n]\n" })?;
            }
            Format::Table | Format::Wide => {
                sort_findings(&mut self.held);
                let mut t = Table::new(
                    &mut self.out,
                    vec![
                        Column::left("SEVERITY"),
                        Column::left("RULE"),
                        Column::left("SUBJECT"),
                        Column::left("SESSIONS"),
                        Column::left("FIRST"),
                        Column::left("DETAIL"),
                    ],
                    self.opts.width,
                    self.opts.color,
                );
                for f in &self.held {
                    let tone = match f.severity {
                        segura_api::audit::Severity::High => Tone::Active,
                        segura_api::audit::Severity::Medium => Tone::Plain,
                        segura_api::audit::Severity::Low => Tone::Dim,
                    };
                    t.row(vec![
                        Cell::toned(f.severity.as_str(), tone),
                        Cell::plain(f.rule.as_str()),
                        Cell::plain(sanitize(&f.subject).into_owned()),
                        Cell::plain(ids_text(f, 3)),
                        Cell::plain(time(&f.first)),
                        Cell::plain(sanitize(&f.detail).into_owned()),
                    ])?;
                }
                t.finish()?;
            }
            Format::Ndjson | Format::Csv | Format::Siem(_) => {}
        }
        self.out.flush()
    }
}

fn csv_err(e: csv::Error) -> io::Error {
    io::Error::other(e.to_string())
}

/// The summary line(s) for stderr.
pub fn summary(outcome: &Outcome, new_origin_enabled: bool) -> Vec<String> {
    let t = &outcome.tally;
    let mut lines = vec![format!(
        "audit: {} session{} audited, {} finding{} ({} high, {} medium, {} low)",
        outcome.audited,
        if outcome.audited == 1 { "" } else { "s" },
        t.total(),
        if t.total() == 1 { "" } else { "s" },
        t.severity(segura_api::audit::Severity::High),
        t.severity(segura_api::audit::Severity::Medium),
        t.severity(segura_api::audit::Severity::Low),
    )];
    let per_rule: Vec<String> = RuleId::ALL
        .iter()
        .filter(|r| t.rule(**r) > 0)
        .map(|r| format!("{r} {}", t.rule(*r)))
        .collect();
    if !per_rule.is_empty() {
        lines.push(format!("  by rule: {}", per_rule.join(", ")));
    }
    if new_origin_enabled && !outcome.has_baseline {
        lines.push(
            "  note: new-origin was not checked: no baseline (--baseline FILE, or \
             --baseline-from TIME with --since)"
                .to_owned(),
        );
    }
    lines
}

/// Writes `text` to `path` through a temporary file in the same folder.
pub fn write_file(path: &Path, text: &[u8], what: &str) -> Result<(), CliError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let fail = |e: &dyn std::fmt::Display| {
        CliError::Local(format!("cannot write the {what} {}: {e}", path.display()))
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| fail(&e))?;
    tmp.write_all(text).map_err(|e| fail(&e))?;
    tmp.as_file().sync_all().map_err(|e| fail(&e))?;
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
}

/// Runs `audit` over `feed`.
pub fn run(
    feed: &mut dyn Feed,
    args: &AuditArgs,
    out: impl Write,
    opts: &OutputOpts,
    progress: &mut Progress,
    quiet: bool,
) -> Result<(), CliError> {
    let setup = setup(&args.rules)?;
    let new_origin = setup.config.rule(RuleId::NewOrigin).enabled;
    let mut printer = FindingPrinter::new(out, opts).map_err(CliError::output)?;
    let outcome = audit_feed(
        feed,
        &args.filter,
        &args.rules,
        setup,
        args.write_baseline.is_some(),
        None,
        progress,
        &mut |_| {},
        &mut |f| printer.push(f),
    )?;
    progress.stop();
    printer.finish().map_err(CliError::output)?;
    if let (Some(path), Some(origins)) = (&args.write_baseline, &outcome.origins) {
        write_file(path, origins.to_json().as_bytes(), "baseline file")?;
    }
    if !quiet {
        for line in summary(&outcome, new_origin) {
            diag::note(&line);
        }
    }
    if let Some(level) = args.fail_on {
        let severity = level.to_severity();
        let n = outcome.tally.at_least(severity);
        if n > 0 {
            return Err(CliError::Findings(format!(
                "audit: {n} finding{} at or above {severity} (--fail-on {severity})",
                if n == 1 { "" } else { "s" }
            )));
        }
    }
    Ok(())
}
