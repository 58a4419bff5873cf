//! `cargo xtask bench`: the end-to-end comparison of `segura sessions list -o ndjson`
//! with `jq`, Python and a straightforward serde program, on bodies from the mock's
//! generator, plus first-session latency and the criterion figures of the decoder.
//!
//! Everything runs as separate processes built in release mode: each contender is
//! wrapped in `/usr/bin/time` for its peak resident set, the contenders run round-robin
//! so that a slow phase of the machine hits all of them alike, and the median wall time
//! is kept. The first round of each size writes every contender's output to a file and
//! compares it, streaming, with the generator's own lines; it is not timed. Results go
//! to `docs/perf/results.json` and `docs/perf/scaling.svg`.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::args::Args;
use crate::util::{self, Error};

/// The generator seed of the bodies and of the mock server, so their bytes agree.
const SEED: u64 = 7;
const DEFAULT_SESSIONS: [u64; 3] = [10_000, 100_000, 1_000_000];
const QUICK_SESSIONS: [u64; 2] = [10_000, 100_000];
/// The pause the slow-drip server makes before each session in the latency runs.
const DRIP: Duration = Duration::from_millis(500);
const DRIP_SESSIONS: u64 = 5;

const PYTHON: &str = "import json,sys; d=json.load(open(sys.argv[1])); w=sys.stdout.write; \
[w(json.dumps(s,ensure_ascii=False,separators=(\",\",\":\"))+\"\\n\") for s in d[\"remote_sessions\"]]";

pub fn run(mut args: Args) -> Result<(), Error> {
    let quick = args.flag("--quick");
    let sessions = match args.value("--sessions")? {
        Some(s) => parse_sessions(&s)?,
        None if quick => QUICK_SESSIONS.to_vec(),
        None => DEFAULT_SESSIONS.to_vec(),
    };
    let runs = match args.value("--runs")? {
        Some(r) => r
            .parse::<usize>()
            .ok()
            .filter(|&r| r > 0)
            .ok_or_else(|| Error::new(format!("--runs wants a positive number, not {r:?}")))?,
        None => 3,
    };
    args.finish()?;

    let root = util::project_root();
    build(&root)?;
    let bins = Bins::locate(&root);
    let work = bins.target.join("bench");
    util::create_dir(&work)?;
    let time_tool = Path::new("/usr/bin/time").exists();
    if !time_tool {
        eprintln!("/usr/bin/time is absent: peak RSS is reported as n/a");
    }
    let contenders = available_contenders();

    let mut results = Vec::new();
    for &n in &sessions {
        let body = ensure_body(&bins, &work, n)?;
        let ctx = SizeContext {
            bins: &bins,
            work: &work,
            body: &body,
            sessions: n,
            time_tool,
        };
        results.extend(measure_size(&ctx, &contenders, runs)?);
    }
    let rows: Vec<Row> = rows(&results);
    println!();
    print!("{}", format_table(&rows));

    let latency = measure_latency(&bins, &work)?;
    println!();
    print!("{}", latency.describe());

    let criterion = read_criterion(&bins.target.join("criterion"));
    println!();
    print!("{}", describe_criterion(&criterion));

    let verdicts = evaluate(&rows, &latency, &criterion);
    println!();
    for v in &verdicts {
        println!("{v}");
    }

    let perf = root.join("docs/perf");
    let doc = results_json(&rows, &latency, &criterion, &verdicts, runs);
    let text = serde_json::to_string_pretty(&doc)
        .map_err(|e| Error::new(format!("cannot serialize the results: {e}")))?;
    util::write(&perf.join("results.json"), &(text + "\n"))?;
    util::write(&perf.join("scaling.svg"), &scaling_svg(&rows))?;
    eprintln!("wrote docs/perf/results.json and docs/perf/scaling.svg");
    Ok(())
}

fn parse_sessions(s: &str) -> Result<Vec<u64>, Error> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let digits: String = part.chars().filter(|&c| c != '_').collect();
        match digits.parse::<u64>() {
            Ok(n) if n > 0 => out.push(n),
            _ => {
                return Err(Error::new(format!(
                    "--sessions wants positive numbers separated by commas, not {part:?}"
                )))
            }
        }
    }
    if out.is_empty() {
        return Err(Error::new("--sessions needs at least one size"));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn build(root: &Path) -> Result<(), Error> {
    util::run(util::cargo(root).args([
        "build",
        "--release",
        "-p",
        "segura-cli",
        "-p",
        "segura-mock",
        "--bin",
        "segura",
        "--bin",
        "segura-mock",
        "--example",
        "generate",
    ]))?;
    util::run(util::cargo(root).args([
        "build",
        "--release",
        "-p",
        "segura-bench",
        "--bin",
        "baseline-serde",
    ]))
}

/// The release binaries the comparison runs.
struct Bins {
    target: PathBuf,
    segura: PathBuf,
    mock: PathBuf,
    generate: PathBuf,
    baseline: PathBuf,
}

impl Bins {
    fn locate(root: &Path) -> Bins {
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => root.join(dir),
            None => root.join("target"),
        };
        let release = target.join("release");
        Bins {
            segura: release.join("segura"),
            mock: release.join("segura-mock"),
            generate: release.join("examples/generate"),
            baseline: release.join("baseline-serde"),
            target,
        }
    }
}

/// Writes `body-N.json` (the list body) and `lines-N.ndjson` (the generator's own line
/// per session, the reference output) unless both are present with the sizes recorded
/// when they were written.
fn ensure_body(bins: &Bins, work: &Path, n: u64) -> Result<PathBuf, Error> {
    let body = work.join(format!("body-{n}.json"));
    let lines = work.join(format!("lines-{n}.ndjson"));
    let sizes = work.join(format!("body-{n}.sizes"));
    let recorded = std::fs::read_to_string(&sizes).unwrap_or_default();
    let current = format!("{} {}", file_len(&body), file_len(&lines));
    if recorded.trim() == current && !current.starts_with("0 ") {
        return Ok(body);
    }
    eprintln!(
        "generating {n} sessions (seed {SEED}) into {}",
        body.display()
    );
    generate(bins, n, &[], &body)?;
    generate(bins, n, &["--lines"], &lines)?;
    let current = format!("{} {}", file_len(&body), file_len(&lines));
    util::write(&sizes, &current)?;
    Ok(body)
}

fn generate(bins: &Bins, n: u64, extra: &[&str], out: &Path) -> Result<(), Error> {
    let file = create(out)?;
    let status = Command::new(&bins.generate)
        .arg(SEED.to_string())
        .arg(n.to_string())
        .args(extra)
        .stdout(file)
        .status()
        .map_err(|e| Error::new(format!("cannot run {}: {e}", bins.generate.display())))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::new(format!("the generator failed ({status})")))
    }
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn create(path: &Path) -> Result<File, Error> {
    File::create(path).map_err(|e| Error::new(format!("cannot create {}: {e}", path.display())))
}

/// The programs compared, in the order of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contender {
    SeguraInput,
    SeguraHttp,
    BaselineSerde,
    Jq,
    Python,
}

impl Contender {
    const ALL: [Contender; 5] = [
        Contender::SeguraInput,
        Contender::SeguraHttp,
        Contender::BaselineSerde,
        Contender::Jq,
        Contender::Python,
    ];

    fn name(self) -> &'static str {
        match self {
            Contender::SeguraInput => "segura --input",
            Contender::SeguraHttp => "segura over HTTP",
            Contender::BaselineSerde => "baseline-serde",
            Contender::Jq => "jq -c",
            Contender::Python => "python3 json",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Contender::SeguraInput => "segura-input",
            Contender::SeguraHttp => "segura-http",
            Contender::BaselineSerde => "baseline-serde",
            Contender::Jq => "jq",
            Contender::Python => "python3",
        }
    }

    fn color(self) -> &'static str {
        match self {
            Contender::SeguraInput => "#1f77b4",
            Contender::SeguraHttp => "#2ca02c",
            Contender::BaselineSerde => "#ff7f0e",
            Contender::Jq => "#d62728",
            Contender::Python => "#9467bd",
        }
    }
}

/// Whether each contender can run here: jq and python3 are optional tools.
fn available_contenders() -> Vec<(Contender, Option<String>)> {
    Contender::ALL
        .iter()
        .map(|&c| {
            let missing = match c {
                Contender::Jq => (!on_path("jq")).then(|| "jq is not on PATH".to_owned()),
                Contender::Python => {
                    (!on_path("python3")).then(|| "python3 is not on PATH".to_owned())
                }
                _ => None,
            };
            (c, missing)
        })
        .collect()
}

fn on_path(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

struct SizeContext<'a> {
    bins: &'a Bins,
    work: &'a Path,
    body: &'a Path,
    sessions: u64,
    time_tool: bool,
}

/// The measurements of one contender at one size.
#[derive(Debug, Clone, PartialEq)]
struct Measurement {
    contender: Contender,
    sessions: u64,
    body_bytes: u64,
    /// Wall seconds of each timed run.
    walls: Vec<f64>,
    /// The largest peak RSS of the runs, in KiB.
    rss_kib: Option<u64>,
    /// Whether the output equals the generator's lines byte for byte.
    identical: Option<bool>,
    skipped: Option<String>,
}

/// A program to run: what `Command` needs, kept as plain data so it can be wrapped.
struct Spec {
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Spec {
    fn command(&self, time_out: Option<&Path>) -> Command {
        let mut cmd = match time_out {
            Some(out) => {
                let mut c = Command::new("/usr/bin/time");
                c.arg("-f")
                    .arg("%e %M")
                    .arg("-o")
                    .arg(out)
                    .arg(&self.program);
                c
            }
            None => Command::new(&self.program),
        };
        cmd.args(&self.args);
        // No user configuration or credentials may leak into a run.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("SEGURA_") {
                cmd.env_remove(k);
            }
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null());
        cmd
    }
}

fn spec(ctx: &SizeContext<'_>, contender: Contender, mock_url: Option<&str>) -> Spec {
    let body = ctx.body.to_string_lossy().into_owned();
    let strings = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    match contender {
        Contender::SeguraInput => Spec {
            program: ctx.bins.segura.clone(),
            args: strings(&["sessions", "list", "--input", &body, "-o", "ndjson"]),
            env: isolated_env(ctx.work, None),
        },
        Contender::SeguraHttp => Spec {
            program: ctx.bins.segura.clone(),
            args: strings(&["sessions", "list", "-o", "ndjson", "--no-compression"]),
            env: isolated_env(ctx.work, mock_url),
        },
        Contender::BaselineSerde => Spec {
            program: ctx.bins.baseline.clone(),
            args: vec![body],
            env: Vec::new(),
        },
        Contender::Jq => Spec {
            program: "jq".into(),
            args: strings(&["-c", ".remote_sessions[]", &body]),
            env: Vec::new(),
        },
        Contender::Python => Spec {
            program: "python3".into(),
            args: strings(&["-c", PYTHON, &body]),
            env: Vec::new(),
        },
    }
}

/// The environment of a `segura` run: no config file, a private HOME, and the mock's
/// URL and credentials when there is one.
fn isolated_env(work: &Path, url: Option<&str>) -> Vec<(String, String)> {
    let home = work.join("home").to_string_lossy().into_owned();
    let mut env = vec![
        (
            "SEGURA_CONFIG".to_owned(),
            work.join("no-config.toml").to_string_lossy().into_owned(),
        ),
        ("HOME".to_owned(), home.clone()),
        ("XDG_CONFIG_HOME".to_owned(), home),
    ];
    if let Some(url) = url {
        env.push(("SEGURA_URL".to_owned(), url.to_owned()));
        env.push(("SEGURA_CLIENT_ID".to_owned(), "bench".to_owned()));
        env.push(("SEGURA_CLIENT_SECRET".to_owned(), "bench".to_owned()));
    }
    env
}

/// Runs every available contender `runs + 1` times, round-robin; the first round
/// writes to files for the identity check and is not timed.
fn measure_size(
    ctx: &SizeContext<'_>,
    contenders: &[(Contender, Option<String>)],
    runs: usize,
) -> Result<Vec<Measurement>, Error> {
    let body_bytes = file_len(ctx.body);
    let reference = ctx.work.join(format!("lines-{}.ndjson", ctx.sessions));
    let mock = Mock::start(&ctx.bins.mock, ctx.sessions, None)?;
    let mut ms: Vec<Measurement> = contenders
        .iter()
        .map(|(c, skipped)| Measurement {
            contender: *c,
            sessions: ctx.sessions,
            body_bytes,
            walls: Vec::new(),
            rss_kib: None,
            identical: None,
            skipped: skipped.clone(),
        })
        .collect();
    let time_out = ctx.work.join("time.txt");
    for round in 0..=runs {
        for m in ms.iter_mut().filter(|m| m.skipped.is_none()) {
            let spec = spec(ctx, m.contender, Some(&mock.url));
            let out_path = ctx.work.join(format!("out-{}.ndjson", m.contender.slug()));
            let stdout = if round == 0 {
                create(&out_path)?
            } else {
                File::create("/dev/null")
                    .map_err(|e| Error::new(format!("cannot open /dev/null: {e}")))?
            };
            let mut cmd = spec.command(ctx.time_tool.then_some(time_out.as_path()));
            cmd.stdout(stdout).stderr(Stdio::piped());
            let line = util::describe(&cmd);
            let start = Instant::now();
            let out = cmd
                .output()
                .map_err(|e| Error::new(format!("cannot run `{line}`: {e}")))?;
            let wall = start.elapsed().as_secs_f64();
            if !out.status.success() {
                return Err(Error::new(format!(
                    "`{line}` failed ({}):\n{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim_end()
                )));
            }
            if ctx.time_tool {
                let text = util::read(&time_out)?;
                let (_, rss) = parse_time_output(&text).ok_or_else(|| {
                    Error::new(format!("cannot read /usr/bin/time's output {text:?}"))
                })?;
                m.rss_kib = Some(m.rss_kib.map_or(rss, |r| r.max(rss)));
            }
            if round == 0 {
                let same = files_equal(&out_path, &reference)?;
                let _ = std::fs::remove_file(&out_path);
                m.identical = Some(same);
                eprintln!(
                    "{:>9} sessions  {:<18} output {} the generator's lines",
                    ctx.sessions,
                    m.contender.name(),
                    if same { "identical to" } else { "DIFFERS from" }
                );
            } else {
                m.walls.push(wall);
                eprintln!(
                    "{:>9} sessions  {:<18} run {round}/{runs}: {wall:.3} s",
                    ctx.sessions,
                    m.contender.name()
                );
            }
        }
    }
    drop(mock);
    Ok(ms)
}

/// Compares two files chunk by chunk, never holding either in memory.
fn files_equal(a: &Path, b: &Path) -> Result<bool, Error> {
    let open = |p: &Path| {
        File::open(p).map_err(|e| Error::new(format!("cannot open {}: {e}", p.display())))
    };
    if file_len(a) != file_len(b) {
        return Ok(false);
    }
    readers_equal(open(a)?, open(b)?)
        .map_err(|e| Error::new(format!("cannot compare {}: {e}", a.display())))
}

fn readers_equal(a: impl Read, b: impl Read) -> std::io::Result<bool> {
    const CHUNK: usize = 1 << 20;
    let (mut a, mut b) = (
        BufReader::with_capacity(CHUNK, a),
        BufReader::with_capacity(CHUNK, b),
    );
    loop {
        let (x, y) = (a.fill_buf()?, b.fill_buf()?);
        if x.is_empty() || y.is_empty() {
            return Ok(x.is_empty() && y.is_empty());
        }
        let n = x.len().min(y.len());
        if x[..n] != y[..n] {
            return Ok(false);
        }
        a.consume(n);
        b.consume(n);
    }
}

/// `/usr/bin/time -f '%e %M'`: wall seconds and peak RSS in KiB, on the last line
/// (a line before it reports a non-zero exit).
fn parse_time_output(text: &str) -> Option<(f64, u64)> {
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    let mut parts = line.split_whitespace();
    let wall = parts.next()?.parse().ok()?;
    let rss = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((wall, rss))
}

/// The mock server, killed on drop.
struct Mock {
    child: Child,
    url: String,
}

impl Mock {
    fn start(program: &Path, sessions: u64, fault: Option<&str>) -> Result<Mock, Error> {
        let mut cmd = Command::new(program);
        cmd.args(["--port", "0", "--sessions", &sessions.to_string()])
            .args(["--seed", &SEED.to_string()])
            .args(["--client-id", "bench", "--client-secret", "bench"]);
        if let Some(f) = fault {
            cmd.args(["--fault", f]);
        }
        let line = util::describe(&cmd);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::new(format!("cannot run `{line}`: {e}")))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err(Error::new("the mock's stdout is not piped"));
        };
        let mut lines = BufReader::new(stdout);
        let mut url = None;
        let mut text = String::new();
        while url.is_none() {
            text.clear();
            match lines.read_line(&mut text) {
                Ok(0) | Err(_) => break,
                Ok(_) => url = parse_url_line(&text).map(str::to_owned),
            }
        }
        // The mock prints more after its URL; keep reading so it never sees a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
        match url {
            Some(url) => Ok(Mock { child, url }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(Error::new(format!("`{line}` printed no `url:` line")))
            }
        }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_url_line(line: &str) -> Option<&str> {
    let url = line.trim_end().strip_prefix("url:")?.trim();
    (url.starts_with("http://") || url.starts_with("https://")).then_some(url)
}

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
struct Row {
    contender: Contender,
    sessions: u64,
    body_bytes: u64,
    median_s: Option<f64>,
    rss_mib: Option<f64>,
    /// This contender's median time over segura --input's at the same size.
    ratio: Option<f64>,
    identical: Option<bool>,
    skipped: Option<String>,
}

impl Row {
    fn mb_per_s(&self) -> Option<f64> {
        self.median_s
            .filter(|&s| s > 0.0)
            .map(|s| self.body_bytes as f64 / 1e6 / s)
    }
}

fn rows(ms: &[Measurement]) -> Vec<Row> {
    ms.iter()
        .map(|m| {
            let median_s = median(&m.walls);
            let base = ms
                .iter()
                .find(|b| b.contender == Contender::SeguraInput && b.sessions == m.sessions)
                .and_then(|b| median(&b.walls));
            Row {
                contender: m.contender,
                sessions: m.sessions,
                body_bytes: m.body_bytes,
                median_s,
                rss_mib: m.rss_kib.map(|k| k as f64 / 1024.0),
                ratio: median_s.zip(base).map(|(t, b)| t / b),
                identical: m.identical,
                skipped: m.skipped.clone(),
            }
        })
        .collect()
}

fn format_table(rows: &[Row]) -> String {
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
                "| {} | {} | skipped | | | | {why} |",
                r.contender.name(),
                r.sessions
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
            r.contender.name(),
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

/// How promptly sessions are printed when they arrive slowly.
#[derive(Debug, Clone, Default)]
struct Latency {
    /// Slow-drip server: the worst lateness of a line against the drip schedule.
    http_lateness_s: Option<f64>,
    /// Slow-drip server: time from spawning segura to its first line.
    http_first_line_s: Option<f64>,
    http_lines: usize,
    /// Through stdin: time from writing one complete session to its line on stdout.
    stdin_first_line_s: Option<f64>,
    /// Whether that line came only after stdin was closed.
    stdin_only_at_end: bool,
    note: Option<String>,
}

impl Latency {
    fn describe(&self) -> String {
        let ms = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{:.1} ms", v * 1e3));
        let mut out = String::new();
        let _ = writeln!(
            out,
            "first-session latency, slow-drip server ({} sessions, {} ms before each): \
             worst lateness against the drip {}, first line {} after spawn",
            self.http_lines,
            DRIP.as_millis(),
            ms(self.http_lateness_s),
            ms(self.http_first_line_s),
        );
        let _ = writeln!(
            out,
            "first-session latency through stdin: one session written, its line after {}{}",
            ms(self.stdin_first_line_s),
            if self.stdin_only_at_end {
                " (only once stdin was closed)"
            } else {
                ""
            }
        );
        if let Some(note) = &self.note {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

/// The worst lateness of line arrivals `times` (seconds, in order) against a schedule
/// of one line every `drip`: the schedule is anchored on the line that came earliest
/// relative to it, so lines held back and printed together count as late, while a
/// constant head start (connection, token) does not.
fn drip_lateness(times: &[f64], drip: f64) -> Option<f64> {
    let shifted: Vec<f64> = times
        .iter()
        .enumerate()
        .map(|(k, t)| t - k as f64 * drip)
        .collect();
    let anchor = shifted.iter().copied().reduce(f64::min)?;
    shifted.iter().map(|s| s - anchor).reduce(f64::max)
}

/// Lines of a child's stdout, each with the instant it was read.
fn timed_lines(stdout: impl Read + Send + 'static) -> mpsc::Receiver<Instant> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = Vec::new();
        loop {
            line.clear();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(Instant::now()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

fn measure_latency(bins: &Bins, work: &Path) -> Result<Latency, Error> {
    let mut latency = Latency::default();
    let fault = format!("list:delay={}ms", DRIP.as_millis());
    let mock = Mock::start(&bins.mock, DRIP_SESSIONS, Some(&fault))?;
    let spec = Spec {
        program: bins.segura.clone(),
        args: ["sessions", "list", "-o", "ndjson", "--no-compression"]
            .map(str::to_owned)
            .to_vec(),
        env: isolated_env(work, Some(&mock.url)),
    };
    let mut cmd = spec.command(None);
    let spawned = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::new(format!("cannot run segura: {e}")))?;
    let rx = timed_lines(child.stdout.take().ok_or_else(|| Error::new("no stdout"))?);
    let deadline = DRIP * (DRIP_SESSIONS as u32 + 10);
    let mut times = Vec::new();
    while let Ok(t) = rx.recv_timeout(deadline.saturating_sub(spawned.elapsed())) {
        times.push(t.duration_since(spawned).as_secs_f64());
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(mock);
    latency.http_lines = times.len();
    latency.http_first_line_s = times.first().copied();
    latency.http_lateness_s = drip_lateness(&times, DRIP.as_secs_f64());
    if times.len() as u64 != DRIP_SESSIONS {
        latency.note = Some(format!(
            "segura printed {} of {DRIP_SESSIONS} sessions from the slow-drip server",
            times.len()
        ));
    }
    measure_stdin_latency(bins, work, &mut latency)?;
    Ok(latency)
}

/// Writes the envelope's head and one session into `segura --input -`, then waits for
/// the line; the rest of the body follows only after it (or after a timeout).
fn measure_stdin_latency(bins: &Bins, work: &Path, latency: &mut Latency) -> Result<(), Error> {
    let body = ensure_body(bins, work, 10_000)?;
    let lines = work.join("lines-10000.ndjson");
    let head = {
        let mut buf = vec![0u8; 4096];
        let n = File::open(&body)
            .and_then(|mut f| f.read(&mut buf))
            .map_err(|e| Error::new(format!("cannot read {}: {e}", body.display())))?;
        buf.truncate(n);
        let key = b"\"remote_sessions\":[";
        let at = buf
            .windows(key.len())
            .position(|w| w == key)
            .ok_or_else(|| Error::new("the body has no remote_sessions array"))?;
        buf.truncate(at + key.len());
        buf
    };
    let sessions: Vec<String> = util::read(&lines)?
        .lines()
        .take(3)
        .map(str::to_owned)
        .collect();
    let spec = Spec {
        program: bins.segura.clone(),
        args: ["sessions", "list", "--input", "-", "-o", "ndjson"]
            .map(str::to_owned)
            .to_vec(),
        env: isolated_env(work, None),
    };
    let mut cmd = spec.command(None);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::new(format!("cannot run segura: {e}")))?;
    let rx = timed_lines(child.stdout.take().ok_or_else(|| Error::new("no stdout"))?);
    let mut stdin = child.stdin.take().ok_or_else(|| Error::new("no stdin"))?;
    let io = |e: std::io::Error| Error::new(format!("cannot write to segura: {e}"));
    stdin.write_all(&head).map_err(io)?;
    stdin.write_all(sessions[0].as_bytes()).map_err(io)?;
    let written = Instant::now();
    let first = rx.recv_timeout(Duration::from_secs(2)).ok();
    let rest = format!(",{}]}}", sessions[1..].join(","));
    stdin.write_all(rest.as_bytes()).map_err(io)?;
    drop(stdin);
    let first = match first {
        Some(t) => t,
        None => {
            latency.stdin_only_at_end = true;
            rx.recv_timeout(Duration::from_secs(10))
                .map_err(|_| Error::new("segura printed nothing for the stdin body"))?
        }
    };
    latency.stdin_first_line_s = Some(first.duration_since(written).as_secs_f64());
    let _ = child.wait();
    Ok(())
}

/// One criterion benchmark's saved estimate.
#[derive(Debug, Clone, PartialEq)]
struct CriterionFigure {
    id: String,
    median_ns: f64,
    /// (amount per iteration, "bytes" or "elements")
    throughput: Option<(f64, &'static str)>,
}

impl CriterionFigure {
    fn rate(&self) -> Option<String> {
        let (amount, unit) = self.throughput?;
        let per_s = amount / (self.median_ns / 1e9);
        Some(match unit {
            "bytes" => format!("{:.0} MiB/s", per_s / (1024.0 * 1024.0)),
            _ => format!("{:.1} M elements/s", per_s / 1e6),
        })
    }
}

/// Reads `target/criterion/<group>/<bench>/new/{estimates,benchmark}.json`.
fn read_criterion(dir: &Path) -> Vec<CriterionFigure> {
    let mut out = Vec::new();
    let Ok(groups) = std::fs::read_dir(dir) else {
        return out;
    };
    for group in groups.flatten() {
        let Ok(benches) = std::fs::read_dir(group.path()) else {
            continue;
        };
        for bench in benches.flatten() {
            let new = bench.path().join("new");
            let read = |name: &str| -> Option<Value> {
                serde_json::from_str(&std::fs::read_to_string(new.join(name)).ok()?).ok()
            };
            let (Some(est), Some(meta)) = (read("estimates.json"), read("benchmark.json")) else {
                continue;
            };
            let Some(median_ns) = est["median"]["point_estimate"].as_f64() else {
                continue;
            };
            let id = meta["full_id"].as_str().unwrap_or_default().to_owned();
            let throughput = if let Some(b) = meta["throughput"]["Bytes"].as_f64() {
                Some((b, "bytes"))
            } else {
                meta["throughput"]["Elements"]
                    .as_f64()
                    .map(|e| (e, "elements"))
            };
            out.push(CriterionFigure {
                id,
                median_ns,
                throughput,
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

const DECODER_ID: &str = "decode/streaming decoder (segura)";
const PLAIN_SERDE_ID: &str = "decode/serde_json::from_slice, plain owned structs";

/// The streaming decoder's speed-up over serde_json into plain owned structs.
fn decoder_ratio(figures: &[CriterionFigure]) -> Option<f64> {
    let find = |id: &str| figures.iter().find(|f| f.id == id).map(|f| f.median_ns);
    Some(find(PLAIN_SERDE_ID)? / find(DECODER_ID)?)
}

fn describe_criterion(figures: &[CriterionFigure]) -> String {
    let mut out = String::new();
    if figures.is_empty() {
        let _ = writeln!(
            out,
            "criterion: no saved estimates under target/criterion; refresh them with\n  \
             cargo bench -p segura-bench --bench decoder -- --warm-up-time 1 --measurement-time 3"
        );
        return out;
    }
    let _ = writeln!(
        out,
        "criterion (saved estimates, median per iteration; refresh with \
         `cargo bench -p segura-bench --bench decoder`):"
    );
    for f in figures {
        let _ = writeln!(
            out,
            "  {:<55} {:>10.3} ms  {}",
            f.id,
            f.median_ns / 1e6,
            f.rate().unwrap_or_default()
        );
    }
    if let Some(r) = decoder_ratio(figures) {
        let _ = writeln!(
            out,
            "  streaming decoder vs serde_json::from_slice into owned structs: {r:.2}× faster"
        );
    }
    out
}

/// A target of the issue and whether this run met it.
#[derive(Debug, Clone, PartialEq)]
struct Verdict {
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

fn evaluate(rows: &[Row], latency: &Latency, criterion: &[CriterionFigure]) -> Vec<Verdict> {
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
    let identical = rows
        .iter()
        .filter(|r| r.skipped.is_none())
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

fn results_json(
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
fn scaling_svg(rows: &[Row]) -> String {
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

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
    }

    #[test]
    fn sessions_and_runs_are_parsed() {
        assert_eq!(
            parse_sessions("1000000,100_000, 10000").unwrap(),
            vec![10_000, 100_000, 1_000_000]
        );
        assert!(parse_sessions("10,x").is_err());
        assert!(parse_sessions("0").is_err());
        assert!(parse_sessions(",").is_err());
    }

    #[test]
    fn time_output_is_parsed_with_and_without_an_exit_note() {
        assert_eq!(parse_time_output("1.23 45678\n"), Some((1.23, 45678)));
        assert_eq!(
            parse_time_output("Command exited with non-zero status 1\n0.50 1200\n"),
            Some((0.5, 1200))
        );
        assert_eq!(parse_time_output(""), None);
        assert_eq!(parse_time_output("1.0 abc\n"), None);
        assert_eq!(parse_time_output("1.0 2 3\n"), None);
    }

    #[test]
    fn the_mock_url_line_is_found() {
        assert_eq!(
            parse_url_line("url: http://127.0.0.1:40123\n"),
            Some("http://127.0.0.1:40123")
        );
        assert_eq!(
            parse_url_line("url: https://[::1]:8443"),
            Some("https://[::1]:8443")
        );
        assert_eq!(parse_url_line("client_id: bench"), None);
        assert_eq!(parse_url_line("url: ftp://x"), None);
    }

    #[test]
    fn lateness_counts_held_back_lines_but_not_a_head_start() {
        // Printed as they arrive, after a 1.2 s start: on time.
        let prompt = [1.2, 1.7, 2.2, 2.7];
        assert!(drip_lateness(&prompt, 0.5).unwrap().abs() < 1e-9);
        // All printed together at the end: the first was held back 1.5 s.
        let held = [2.7, 2.7, 2.7, 2.7];
        assert!((drip_lateness(&held, 0.5).unwrap() - 1.5).abs() < 1e-9);
        // One line 40 ms late.
        let late = [1.0, 1.54, 2.0];
        assert!((drip_lateness(&late, 0.5).unwrap() - 0.04).abs() < 1e-9);
        assert_eq!(drip_lateness(&[], 0.5), None);
    }

    #[test]
    fn readers_are_compared_across_chunk_boundaries() {
        let a = vec![7u8; 3 << 20];
        let mut b = a.clone();
        assert!(readers_equal(&a[..], &b[..]).unwrap());
        b[(2 << 20) + 5] = 8;
        assert!(!readers_equal(&a[..], &b[..]).unwrap());
        assert!(!readers_equal(&a[..], &a[..a.len() - 1]).unwrap());
    }

    fn sample_rows() -> Vec<Row> {
        let m = |c, n: u64, walls: Vec<f64>, rss| Measurement {
            contender: c,
            sessions: n,
            body_bytes: n * 343,
            walls,
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

    #[test]
    fn criterion_estimates_are_read_and_compared() {
        let dir = util::TempDir::new("criterion");
        let save = |group: &str, dir_name: &str, id: &str, ns: f64| {
            let new = dir.path().join(group).join(dir_name).join("new");
            util::create_dir(&new).unwrap();
            let est = json!({"median": {"point_estimate": ns}});
            let meta = json!({"full_id": id, "throughput": {"Bytes": 1_048_576}});
            std::fs::write(new.join("estimates.json"), est.to_string()).unwrap();
            std::fs::write(new.join("benchmark.json"), meta.to_string()).unwrap();
        };
        save("decode", "streaming decoder (segura)", DECODER_ID, 2.5e6);
        save(
            "decode",
            "serde_json__from_slice, plain owned structs",
            PLAIN_SERDE_ID,
            1e7,
        );
        let figures = read_criterion(dir.path());
        assert_eq!(figures.len(), 2);
        assert_eq!(decoder_ratio(&figures), Some(4.0));
        assert_eq!(figures[1].rate().as_deref(), Some("400 MiB/s"));
        assert!(describe_criterion(&figures).contains("4.00× faster"));
        assert!(read_criterion(&dir.path().join("absent")).is_empty());
    }
}
