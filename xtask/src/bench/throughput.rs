//! The timed runs: every contender at one size, round-robin, under `/usr/bin/time`;
//! the untimed first round checks each output against the generator's lines.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use super::contender::{spec, Contender, Inputs};
use super::mock::Mock;
use super::prepare::{create, file_len, Bins};
use crate::util::{self, Error};

pub struct SizeContext<'a> {
    pub bins: &'a Bins,
    pub work: &'a Path,
    pub body: &'a Path,
    pub body_gz: &'a Path,
    pub sessions: u64,
    pub time_tool: bool,
}

/// The measurements of one contender at one size.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub contender: Contender,
    pub sessions: u64,
    pub body_bytes: u64,
    /// Wall seconds of each timed run.
    pub walls: Vec<f64>,
    /// Wall seconds of the run of segura --input just before each timed run (empty for
    /// segura --input itself, or when it is not run).
    pub partners: Vec<f64>,
    /// The largest peak RSS of the runs, in KiB.
    pub rss_kib: Option<u64>,
    /// Whether the output equals the generator's lines byte for byte.
    pub identical: Option<bool>,
    pub skipped: Option<String>,
}

/// Runs every available contender `runs + 1` times, round-robin; the first round
/// writes to files for the identity check and is not timed.
pub fn measure_size(
    ctx: &SizeContext<'_>,
    contenders: &[(Contender, Option<String>)],
    runs: usize,
) -> Result<Vec<Measurement>, Error> {
    let body_bytes = file_len(ctx.body);
    let reference = ctx.work.join(format!("lines-{}.ndjson", ctx.sessions));
    let mock = Mock::start(&ctx.bins.mock, ctx.sessions, None)?;
    let ca = ctx.work.join("mock-ca.pem");
    let tls_mock = Mock::start_tls_gzip(&ctx.bins.mock, ctx.sessions, &ca)?;
    let inputs = Inputs {
        body: ctx.body,
        body_gz: ctx.body_gz,
        mock_url: &mock.url,
        tls_mock: (&tls_mock.url, &ca),
    };
    let mut ms: Vec<Measurement> = contenders
        .iter()
        .map(|(c, skipped)| Measurement {
            contender: *c,
            sessions: ctx.sessions,
            body_bytes,
            walls: Vec::new(),
            partners: Vec::new(),
            rss_kib: None,
            identical: None,
            skipped: skipped.clone(),
        })
        .collect();
    let time_out = ctx.work.join("time.txt");
    let time_out = ctx.time_tool.then_some(time_out.as_path());
    // Each timed run of another contender comes right after a run of segura --input,
    // its partner: the ratio is taken pair by pair, so that the host's drift from one
    // minute to the next (10 to 25 % here) falls on both sides of it.
    let pair = ms
        .iter()
        .any(|m| m.contender == Contender::SeguraInput && m.skipped.is_none());
    let mut partner_runs: Vec<(f64, Option<u64>)> = Vec::new();
    for round in 0..=runs {
        for m in ms.iter_mut().filter(|m| m.skipped.is_none()) {
            let out_path = ctx.work.join(format!("out-{}.ndjson", m.contender.slug()));
            if round > 0 && pair && m.contender != Contender::SeguraInput {
                let partner = run(ctx, Contender::SeguraInput, &inputs, dev_null()?, time_out)?;
                m.partners.push(partner.0);
                partner_runs.push(partner);
            }
            let stdout = if round == 0 {
                create(&out_path)?
            } else {
                dev_null()?
            };
            let (wall, rss) = run(ctx, m.contender, &inputs, stdout, time_out)?;
            if let Some(rss) = rss {
                m.rss_kib = Some(m.rss_kib.map_or(rss, |r| r.max(rss)));
            }
            if round == 0 && !m.contender.lists_sessions() {
                let _ = std::fs::remove_file(&out_path);
                eprintln!(
                    "{:>9} sessions  {:<18} output: not a list of sessions (not compared)",
                    ctx.sessions,
                    m.contender.name()
                );
            } else if round == 0 {
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
                let paired = match m.partners.last() {
                    Some(p) if m.contender != Contender::SeguraInput => {
                        format!(" ({:.2}× its segura --input run, {p:.3} s)", wall / p)
                    }
                    _ => String::new(),
                };
                eprintln!(
                    "{:>9} sessions  {:<18} run {round}/{runs}: {wall:.3} s{paired}",
                    ctx.sessions,
                    m.contender.name()
                );
            }
        }
    }
    // The partners are runs of segura --input like its own: its figures count them.
    if let Some(input) = ms
        .iter_mut()
        .find(|m| m.contender == Contender::SeguraInput)
    {
        for (wall, rss) in partner_runs {
            input.walls.push(wall);
            if let Some(rss) = rss {
                input.rss_kib = Some(input.rss_kib.map_or(rss, |r| r.max(rss)));
            }
        }
    }
    drop(mock);
    drop(tls_mock);
    Ok(ms)
}

fn dev_null() -> Result<File, Error> {
    File::create("/dev/null").map_err(|e| Error::new(format!("cannot open /dev/null: {e}")))
}

/// Runs `contender` once with `stdout`: its wall seconds, and its peak RSS in KiB when
/// `time_out` (where `/usr/bin/time` writes) is given.
fn run(
    ctx: &SizeContext<'_>,
    contender: Contender,
    inputs: &Inputs<'_>,
    stdout: File,
    time_out: Option<&Path>,
) -> Result<(f64, Option<u64>), Error> {
    let spec = spec(contender, ctx.bins, ctx.work, inputs);
    let mut cmd = spec.command(time_out);
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
    let rss = match time_out {
        Some(path) => {
            let text = util::read(path)?;
            let (_, rss) = parse_time_output(&text).ok_or_else(|| {
                Error::new(format!("cannot read /usr/bin/time's output {text:?}"))
            })?;
            Some(rss)
        }
        None => None,
    };
    Ok((wall, rss))
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn readers_are_compared_across_chunk_boundaries() {
        let a = vec![7u8; 3 << 20];
        let mut b = a.clone();
        assert!(readers_equal(&a[..], &b[..]).unwrap());
        b[(2 << 20) + 5] = 8;
        assert!(!readers_equal(&a[..], &b[..]).unwrap());
        assert!(!readers_equal(&a[..], &a[..a.len() - 1]).unwrap());
    }
}
