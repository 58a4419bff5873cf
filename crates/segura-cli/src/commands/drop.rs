//! `segura sessions drop`: terminate sessions, after a confirmation that shows them.
//!
//! The targets are one hash, the hashes of standard input (`--stdin`) or the open
//! sessions the filters select (`--match`). Unless `--no-lookup`, the list is read
//! until every hash has appeared (`segura_api::lookup`), to show each session and to
//! refuse an ended or unlisted one unless `--force`. Every attempt is appended to the
//! drop log ([`crate::drop_log`]); each session is dropped in turn and reported on its
//! own, and the exit code is the highest of theirs.

use std::fs::File;
use std::io::{self, BufRead, Read, Write};

use chrono::NaiveDateTime;
use segura_api::lookup::{check_drops, DropCheck};
use segura_api::{Error as ApiError, SessionApi};
use segura_model::{RemoteSession, SessionHash};
use serde::Serialize;
use tokio::runtime::Runtime;

use crate::cli::DropArgs;
use crate::drop_log::{DropLog, Outcome, Record};
use crate::exit::CliError;
use crate::output::{human_duration, sanitize, time_text, Format, OutputOpts};

/// Shows a question and reads the operator's answer.
pub trait Confirm {
    /// Shows `text` (already sanitised) and returns the line typed, without its newline.
    fn ask(&mut self, text: &str) -> io::Result<String>;
}

/// The controlling terminal (`/dev/tty`): the question is written to it and the answer
/// read from it, whatever standard input and output are (`--stdin` reads data there).
#[derive(Debug)]
pub struct TtyConfirm {
    tty: File,
}

/// The longest answer read (an answer is a word or a count).
const MAX_ANSWER: u64 = 1024;

impl TtyConfirm {
    /// Opens the controlling terminal; an error when the process has none.
    pub fn open() -> io::Result<Self> {
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")?;
        Ok(Self { tty })
    }
}

impl Confirm for TtyConfirm {
    fn ask(&mut self, text: &str) -> io::Result<String> {
        self.tty.write_all(text.as_bytes())?;
        self.tty.flush()?;
        let mut line = Vec::new();
        io::BufReader::new((&self.tty).take(MAX_ANSWER)).read_until(b'\n', &mut line)?;
        Ok(String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_owned())
    }
}

/// What a drop needs besides its arguments.
pub struct DropEnv<'a> {
    /// The runtime of the API calls.
    pub rt: &'a Runtime,
    /// The API.
    pub api: &'a dyn SessionApi,
    /// Where to ask; `None` off a terminal.
    pub confirm: Option<&'a mut dyn Confirm>,
    /// The drop log.
    pub log: &'a DropLog,
    /// The appliance's URL, for the log.
    pub appliance: &'a str,
    /// Standard input, for `--stdin`.
    pub stdin: &'a mut dyn BufRead,
    /// "Now" on the appliance's clock.
    pub now: NaiveDateTime,
}

/// What to do when the answer to a drop could not be read: the drop may have happened.
pub const CHECK_ADVICE: &str =
    "check with `segura sessions get ID` (or `segura sessions list`) whether it is still open";

/// An answer that was not understood, with the advice to check.
fn not_understood(error: ApiError) -> CliError {
    let error = match error {
        ApiError::InvalidResponse {
            message,
            offset,
            path,
            sessions_before,
            truncated,
        } => ApiError::InvalidResponse {
            message: format!("{message}; {CHECK_ADVICE}"),
            offset,
            path,
            sessions_before,
            truncated,
        },
        other => other,
    };
    CliError::from(error)
}

/// The largest `--stdin` read: 16 MiB, hundreds of thousands of hashes.
const STDIN_LIMIT: u64 = 16 << 20;

/// The hashes of `--stdin`: one per line, blank lines and `#` comments (whole lines or
/// after a hash) ignored, duplicates kept once. Any bad line is a usage error naming it.
pub fn read_hashes(input: &mut dyn BufRead) -> Result<Vec<SessionHash>, CliError> {
    let mut bytes = Vec::new();
    input
        .take(STDIN_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::Local(format!("cannot read standard input: {e}")))?;
    if bytes.len() as u64 > STDIN_LIMIT {
        return Err(CliError::Usage(format!(
            "standard input holds more than {} MiB: give fewer session_ids at once",
            STDIN_LIMIT >> 20
        )));
    }
    let mut hashes: Vec<SessionHash> = Vec::new();
    let mut bad = Vec::new();
    for (n, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let Ok(line) = std::str::from_utf8(raw) else {
            bad.push(format!("line {}: not UTF-8 text", n + 1));
            continue;
        };
        let text = line.split('#').next().unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        match SessionHash::parse(text) {
            Ok(h) if !hashes.contains(&h) => hashes.push(h),
            Ok(_) => {}
            Err(_) => bad.push(format!("line {}: {:?}", n + 1, truncate(text, 60))),
        }
    }
    if !bad.is_empty() {
        let shown: Vec<&str> = bad.iter().take(5).map(String::as_str).collect();
        let more = if bad.len() > 5 {
            format!(" and {} more", bad.len() - 5)
        } else {
            String::new()
        };
        return Err(CliError::Usage(format!(
            "nothing was dropped: standard input has {} line{} that {} not a 40-hex session_id ({}{more})",
            bad.len(),
            if bad.len() == 1 { "" } else { "s" },
            if bad.len() == 1 { "is" } else { "are" },
            shown.join("; ")
        )));
    }
    if hashes.is_empty() {
        return Err(CliError::Usage(
            "standard input holds no session_id: one 40-hex session_id per line".into(),
        ));
    }
    Ok(hashes)
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

/// One session to drop, what the list said of it, and whether it goes ahead.
#[derive(Debug)]
struct Target {
    hash: SessionHash,
    /// `None` with `--no-lookup`.
    check: Option<DropCheck>,
    /// Why segura refuses it (`ended`, `not_listed`), unless forced.
    refusal: Option<&'static str>,
}

impl Target {
    fn new(hash: SessionHash, check: Option<DropCheck>, force: bool) -> Self {
        let refusal = match (&check, force) {
            (_, true) | (None, _) | (Some(DropCheck::Open(_)), _) => None,
            (Some(DropCheck::Ended(_)), false) => Some("ended"),
            (Some(DropCheck::NotListed), false) => Some("not_listed"),
        };
        Self {
            hash,
            check,
            refusal,
        }
    }

    fn session(&self) -> Option<&RemoteSession> {
        self.check.as_ref().and_then(DropCheck::session)
    }

    fn lookup(&self) -> &'static str {
        match &self.check {
            None => "not_looked_up",
            Some(DropCheck::Open(_)) => "open",
            Some(DropCheck::Ended(_)) => "ended",
            Some(DropCheck::NotListed) => "not_listed",
        }
    }

    /// The refusal as a sentence, and its exit code.
    fn refusal_text(&self, opts: &OutputOpts) -> Option<(String, u8)> {
        let class = self.refusal?;
        Some(match (class, self.session()) {
            ("ended", Some(s)) => (
                format!(
                    "session {} has already ended{}: nothing to drop (--force sends the drop anyway)",
                    self.hash,
                    s.end
                        .map(|e| format!(" at {}", time_text(&e, opts.rfc3339.as_ref())))
                        .unwrap_or_default()
                ),
                crate::exit::LOCAL,
            ),
            _ => (
                format!(
                    "session {} is not in the list of sessions: not dropped (--force sends the drop anyway)",
                    self.hash
                ),
                crate::exit::NOT_FOUND,
            ),
        })
    }
}

/// One line about a session, its server text sanitised: who, what, where, since when.
fn describe(s: &RemoteSession, now: NaiveDateTime, opts: &OutputOpts) -> String {
    let open = match s.end {
        None => format!("open for {}", human_duration(open_secs(s.start, now))),
        Some(end) => format!("ended {}", time_text(&end, opts.rfc3339.as_ref())),
    };
    format!(
        "id {}, user {}, credential {}, device {}, origin {}, started {} ({open})",
        s.id,
        sanitize(&s.user),
        sanitize(&s.credential),
        sanitize(&s.device),
        sanitize(&s.origin_ip),
        time_text(&s.start, opts.rfc3339.as_ref()),
    )
}

fn open_secs(start: NaiveDateTime, now: NaiveDateTime) -> u64 {
    (now - start).num_seconds().max(0).unsigned_abs()
}

/// The confirmation of one drop: the session, field by field.
fn single_question(
    t: &Target,
    env: &DropEnv<'_>,
    reason: Option<&str>,
    opts: &OutputOpts,
) -> String {
    let mut q = format!("Session {}\n", t.hash);
    match t.session() {
        Some(s) => {
            let rows = [
                ("id", s.id.to_string()),
                ("user", sanitize(&s.user).into_owned()),
                ("credential", sanitize(&s.credential).into_owned()),
                ("device", sanitize(&s.device).into_owned()),
                ("origin", sanitize(&s.origin_ip).into_owned()),
                (
                    "protocol",
                    format!(
                        "{} ({})",
                        sanitize(s.protocol.as_str()),
                        sanitize(s.proxy.as_str())
                    ),
                ),
                (
                    "start",
                    format!(
                        "{} (open for {})",
                        time_text(&s.start, opts.rfc3339.as_ref()),
                        human_duration(open_secs(s.start, env.now))
                    ),
                ),
            ];
            for (k, v) in rows {
                q.push_str(&format!("  {k:<11} {v}\n"));
            }
        }
        None => q.push_str("  (not looked up: --no-lookup)\n"),
    }
    if let Some(r) = reason {
        q.push_str(&format!("  {:<11} {}\n", "reason", sanitize(r)));
    }
    q.push_str("Drop this session? Its user is disconnected at once. [y/N] ");
    q
}

/// The confirmation of a bulk drop: every session, and the count to type.
fn bulk_question(
    targets: &[Target],
    env: &DropEnv<'_>,
    reason: Option<&str>,
    opts: &OutputOpts,
) -> (String, usize) {
    let mut q = String::new();
    let going: Vec<&Target> = targets.iter().filter(|t| t.refusal.is_none()).collect();
    q.push_str(&format!(
        "{} session{} will be dropped; their users are disconnected at once:\n",
        going.len(),
        if going.len() == 1 { "" } else { "s" }
    ));
    for t in &going {
        match t.session() {
            Some(s) => q.push_str(&format!("  {}  {}\n", t.hash, describe(s, env.now, opts))),
            None => q.push_str(&format!("  {}  (not looked up)\n", t.hash)),
        }
    }
    let skipped = targets.len() - going.len();
    if skipped > 0 {
        q.push_str(&format!(
            "{skipped} more will not be dropped (ended or not listed; --force sends them too)\n"
        ));
    }
    if let Some(r) = reason {
        q.push_str(&format!("Reason: {}\n", sanitize(r)));
    }
    q.push_str(&format!(
        "Type the number of sessions to drop ({}) to go on, anything else to stop: ",
        going.len()
    ));
    (q, going.len())
}

/// The result of one session, as printed and logged.
#[derive(Debug, Serialize)]
struct Result_<'a> {
    session_id: &'a SessionHash,
    /// `dropped`, `refused`, `unknown`, or with `--dry-run` `would_drop` / `would_refuse`.
    result: &'static str,
    dropped: bool,
    /// The server's message, or why it was not dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_class: Option<&'static str>,
    exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<&'a RemoteSession>,
}

/// The class of an API error, for the log and `-o ndjson`.
fn error_class(e: &CliError) -> &'static str {
    use crate::exit as x;
    match e.exit_code() {
        x::USAGE => "usage",
        x::CONFIG => "config",
        x::AUTH => "auth",
        x::NOT_FOUND => "not_found",
        x::SERVER => "server",
        x::NETWORK => "network",
        x::INVALID_RESPONSE => "invalid_response",
        _ => "local",
    }
}

/// Whether an error leaves the outcome of a drop unknown: the request may have reached
/// the server (the answer was not understood, or did not come in time).
fn outcome_unknown(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::InvalidResponse { .. } | ApiError::Timeout { .. }
    )
}

/// Runs a drop.
pub fn run(
    env: DropEnv<'_>,
    args: &DropArgs,
    mut out: impl Write,
    opts: &OutputOpts,
) -> Result<(), CliError> {
    let mut env = env;
    let confirm = env.confirm.take();
    let filter = args.filter.to_filter()?;
    if args.filter.input.is_some() {
        return Err(CliError::Usage(
            "sessions drop does not read --input: it drops what the server lists now".into(),
        ));
    }
    if !args.matching && !filter.is_empty() {
        return Err(CliError::Usage(
            "filters select sessions to drop only with --match".into(),
        ));
    }
    if args.matching && filter.is_empty() {
        return Err(CliError::Usage(
            "--match needs at least one filter (--active selects every open session)".into(),
        ));
    }
    if args.matching {
        crate::commands::matched::check(&args.filter)?;
    }
    let bulk = args.stdin || args.matching;
    let reason = args.reason.as_deref();

    let targets: Vec<Target> = if args.matching {
        let (found, malformed) = env.rt.block_on(async {
            let mut stream = env.api.list_sessions().await?;
            let mut found = Vec::new();
            let mut malformed = 0u64;
            while let Some(s) = stream.next_ref().await {
                let s = s?;
                if s.is_open() && filter.matches(s) {
                    // The hash goes into the drop's URL: only the documented shape.
                    match SessionHash::parse(s.session_id.as_str()) {
                        Ok(h) => found.push((h, s.clone())),
                        Err(_) => malformed += 1,
                    }
                }
            }
            Ok::<_, ApiError>((found, malformed))
        })?;
        if malformed > 0 {
            crate::diag::warn(&format!(
                "{malformed} matching session{} left out: {} session_id is not 40 hex digits",
                if malformed == 1 { " is" } else { "s are" },
                if malformed == 1 { "its" } else { "their" }
            ));
        }
        found
            .into_iter()
            .map(|(h, s)| Target::new(h, Some(DropCheck::Open(s)), args.force))
            .collect()
    } else {
        let hashes = match &args.session_id {
            Some(h) => vec![h.clone()],
            None => read_hashes(&mut *env.stdin)?,
        };
        let checks: Vec<Option<DropCheck>> = if args.no_lookup {
            vec![None; hashes.len()]
        } else {
            env.rt
                .block_on(check_drops(env.api, &hashes))
                .map_err(|e| {
                    crate::diag::note(
                        "the list could not be read to find the session: nothing was dropped \
                         (--no-lookup drops without reading it)",
                    );
                    CliError::from(e)
                })?
                .into_iter()
                .map(Some)
                .collect()
        };
        hashes
            .into_iter()
            .zip(checks)
            .map(|(h, c)| Target::new(h, c, args.force))
            .collect()
    };
    if targets.is_empty() {
        crate::diag::note("no open session matched: nothing to drop");
        return Ok(());
    }

    let log = |t: &Target, outcome: Outcome, class: Option<&str>, message: Option<&str>| {
        let known = Known {
            lookup: t.lookup(),
            session: t.session(),
            reason,
        };
        append(
            env.log,
            env.appliance,
            &t.hash,
            &known,
            outcome,
            class,
            message,
        )
    };

    let mut printer = Printer::new(opts, bulk || args.dry_run);
    if args.dry_run {
        for t in &targets {
            let refusal = t.refusal_text(opts);
            log(
                t,
                Outcome::DryRun,
                t.refusal,
                refusal.as_ref().map(|r| r.0.as_str()),
            )?;
            let r = Result_ {
                session_id: &t.hash,
                result: if t.refusal.is_some() {
                    "would_refuse"
                } else {
                    "would_drop"
                },
                dropped: false,
                message: refusal.map(|r| r.0),
                error_class: t.refusal,
                exit_code: 0,
                session: t.session(),
            };
            printer
                .print(&mut out, &r, t, env.now)
                .map_err(CliError::output)?;
        }
        return printer.finish(&mut out).map_err(CliError::output);
    }

    // A single session that segura refuses: said at once, nothing asked.
    if !bulk {
        if let Some((text, code)) = targets[0].refusal_text(opts) {
            log(
                &targets[0],
                Outcome::Refused,
                targets[0].refusal,
                Some(&text),
            )?;
            return Err(CliError::Worst {
                code,
                message: text,
            });
        }
    }

    let going = targets.iter().filter(|t| t.refusal.is_none()).count();
    if !args.yes && going > 0 {
        let Some(confirm) = confirm else {
            let text = if bulk {
                format!(
                    "refusing to drop {going} session{} without confirmation: not on a terminal; pass --yes",
                    if going == 1 { "" } else { "s" }
                )
            } else {
                format!(
                    "refusing to drop session {} without confirmation: standard input is not a terminal; pass --yes",
                    targets[0].hash
                )
            };
            for t in targets.iter().filter(|t| t.refusal.is_none()) {
                log(t, Outcome::Refused, Some("not_confirmed"), Some(&text))?;
            }
            return Err(CliError::Usage(text));
        };
        let (question, expected) = if bulk {
            let (q, n) = bulk_question(&targets, &env, reason, opts);
            (q, Some(n))
        } else {
            (single_question(&targets[0], &env, reason, opts), None)
        };
        let answer = confirm
            .ask(&question)
            .map_err(|e| CliError::Local(format!("cannot read the answer: {e}")))?;
        let answer = answer.trim();
        let yes = match expected {
            Some(n) => answer == n.to_string(),
            None => matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"),
        };
        if !yes {
            for t in targets.iter().filter(|t| t.refusal.is_none()) {
                log(t, Outcome::Declined, None, None)?;
            }
            return Err(CliError::Declined(if bulk {
                format!("no session was dropped (the answer was not {going})")
            } else {
                format!("session {} was not dropped", targets[0].hash)
            }));
        }
    }

    let mut worst = 0u8;
    let mut failed = 0usize;
    for t in &targets {
        let (r, error) = match t.refusal_text(opts) {
            Some((text, code)) => {
                log(t, Outcome::Refused, t.refusal, Some(&text))?;
                let r = Result_ {
                    session_id: &t.hash,
                    result: "refused",
                    dropped: false,
                    message: Some(text),
                    error_class: t.refusal,
                    exit_code: code,
                    session: t.session(),
                };
                (r, None)
            }
            None => match drop_one(&env, &t.hash) {
                Ok(message) => {
                    log(t, Outcome::Dropped, None, message.as_deref())?;
                    let r = Result_ {
                        session_id: &t.hash,
                        result: "dropped",
                        dropped: true,
                        message,
                        error_class: None,
                        exit_code: 0,
                        session: t.session(),
                    };
                    (r, None)
                }
                Err((e, unknown)) => {
                    let (outcome, class, first) = failure(&e, unknown);
                    log(t, outcome, Some(class), Some(&first))?;
                    let r = Result_ {
                        session_id: &t.hash,
                        result: if unknown { "unknown" } else { "refused" },
                        dropped: false,
                        message: Some(first),
                        error_class: Some(class),
                        exit_code: e.exit_code(),
                        session: t.session(),
                    };
                    (r, Some(e))
                }
            },
        };
        worst = worst.max(r.exit_code);
        if r.exit_code != 0 {
            failed += 1;
        }
        if !bulk {
            if let Some(e) = error {
                return Err(e);
            }
        } else if let Some(e) = &error {
            let report = e.report();
            let report = report
                .strip_prefix("error: ")
                .map(|rest| format!("error: session {}: {rest}", t.hash))
                .unwrap_or(report);
            crate::diag::emit(&report);
        }
        printer
            .print(&mut out, &r, t, env.now)
            .map_err(CliError::output)?;
    }
    printer.finish(&mut out).map_err(CliError::output)?;
    if worst == 0 {
        Ok(())
    } else {
        Err(CliError::Worst {
            code: worst,
            message: format!(
                "{failed} of {} session{} not dropped (each is reported above)",
                targets.len(),
                if targets.len() == 1 { " was" } else { "s were" }
            ),
        })
    }
}

/// What was known of a session when its drop was attempted, for the drop log.
pub struct Known<'a> {
    /// `open`, `ended`, `not_listed` or `not_looked_up`.
    pub lookup: &'a str,
    /// The session as listed.
    pub session: Option<&'a RemoteSession>,
    /// `--reason`.
    pub reason: Option<&'a str>,
}

/// Appends the record of one attempt to `log`, as `sessions drop` writes it.
pub fn append(
    log: &DropLog,
    appliance: &str,
    hash: &SessionHash,
    known: &Known<'_>,
    outcome: Outcome,
    class: Option<&str>,
    message: Option<&str>,
) -> Result<(), CliError> {
    let (os_user, uid) = crate::drop_log::os_user();
    log.append(&Record {
        time: crate::clock::rfc3339(&crate::clock::now().at),
        os_user,
        uid,
        appliance,
        session_id: hash,
        lookup: known.lookup,
        session: known.session,
        reason: known.reason,
        outcome,
        error_class: class,
        message,
    })
}

/// The outcome, error class and one-line message of a failed drop.
fn failure(e: &CliError, unknown: bool) -> (Outcome, &'static str, String) {
    let first = e.report().lines().next().unwrap_or("").to_owned();
    let first = first.strip_prefix("error: ").unwrap_or(&first).to_owned();
    let outcome = if unknown {
        Outcome::Unknown
    } else {
        Outcome::Refused
    };
    (outcome, error_class(e), first)
}

/// Drops `hash` without asking (the caller has confirmed), as `sessions top` does: the
/// request and the check of its answer of `sessions drop`, and the record `sessions
/// drop` writes to the drop log, one line with the outcome. The caller opens `log`
/// before, so that a log that cannot be opened refuses the drop. The server's message.
pub fn execute(
    rt: &Runtime,
    api: &dyn SessionApi,
    log: &DropLog,
    appliance: &str,
    hash: &SessionHash,
    known: &Known<'_>,
) -> Result<Option<String>, CliError> {
    match attempt(rt, api, hash) {
        Ok(message) => {
            append(
                log,
                appliance,
                hash,
                known,
                Outcome::Dropped,
                None,
                message.as_deref(),
            )?;
            Ok(message)
        }
        Err((e, unknown)) => {
            let (outcome, class, first) = failure(&e, unknown);
            append(
                log,
                appliance,
                hash,
                known,
                outcome,
                Some(class),
                Some(&first),
            )?;
            Err(e)
        }
    }
}

/// Drops one session: the server's message, or the error and whether the outcome is
/// unknown.
fn drop_one(env: &DropEnv<'_>, hash: &SessionHash) -> Result<Option<String>, (CliError, bool)> {
    attempt(env.rt, env.api, hash)
}

fn attempt(
    rt: &Runtime,
    api: &dyn SessionApi,
    hash: &SessionHash,
) -> Result<Option<String>, (CliError, bool)> {
    let response = rt.block_on(api.drop_session(hash)).map_err(|e| {
        let unknown = outcome_unknown(&e);
        (not_understood(e), unknown)
    })?;
    // Every transport should refuse an answer that is not a recognised success; this
    // holds for any implementation of the API all the same.
    if !segura_api::is_recognised_drop(&response) {
        return Err((
            not_understood(ApiError::InvalidResponse {
                message: format!(
                    "{} (no recognised success message)",
                    segura_api::drop_answer::NOT_UNDERSTOOD
                ),
                offset: 0,
                path: None,
                sessions_before: 0,
                truncated: false,
            }),
            true,
        ));
    }
    Ok(response.envelope.message().map(str::to_owned))
}

/// Prints results: a line each in a table, one object each (one array with `-o json`
/// for several), or CSV rows.
struct Printer {
    format: Format,
    several: bool,
    first: bool,
    opts: OutputOpts,
}

impl Printer {
    fn new(opts: &OutputOpts, several: bool) -> Self {
        Self {
            format: opts.format,
            several,
            first: true,
            opts: opts.clone(),
        }
    }

    fn print(
        &mut self,
        out: &mut impl Write,
        r: &Result_<'_>,
        t: &Target,
        now: NaiveDateTime,
    ) -> io::Result<()> {
        let first = std::mem::replace(&mut self.first, false);
        match self.format {
            // SIEM formats are refused before the command runs.
            Format::Json | Format::Ndjson | Format::Siem(_) => {
                if self.format == Format::Json && self.several {
                    out.write_all(if first { b"[" } else { b"," })?;
                }
                serde_json::to_writer(&mut *out, r).map_err(io::Error::other)?;
                if !(self.format == Format::Json && self.several) {
                    out.write_all(b"\n")?;
                }
            }
            Format::Csv => {
                if first && !self.opts.no_headers {
                    writeln!(out, "session_id,result,message")?;
                }
                writeln!(
                    out,
                    "{},{},\"{}\"",
                    r.session_id,
                    r.result,
                    crate::output::sessions::csv_cell(
                        r.message.as_deref().unwrap_or_default(),
                        self.opts.csv_raw
                    )
                    .replace('"', "\"\"")
                )?;
            }
            Format::Table | Format::Wide => {
                let what = match r.result {
                    "would_drop" => "would drop",
                    "would_refuse" => "would refuse",
                    other => other,
                };
                let detail = match (r.result, t.session()) {
                    ("would_drop", Some(s)) => describe(s, now, &self.opts),
                    ("would_drop", None) => "not looked up".to_owned(),
                    _ => r
                        .message
                        .as_deref()
                        .map(|m| sanitize(m).into_owned())
                        .unwrap_or_default(),
                };
                if detail.is_empty() {
                    writeln!(out, "{what} session {}", r.session_id)?;
                } else if r.result == "dropped" || r.result == "would_drop" {
                    writeln!(out, "{what} session {}: {detail}", r.session_id)?;
                } else {
                    writeln!(out, "{what}: {detail}")?;
                }
            }
        }
        if self.opts.flush_each {
            out.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.format == Format::Json && self.several {
            out.write_all(if self.first { b"[]\n" } else { b"]\n" })?;
        }
        out.flush()
    }
}
