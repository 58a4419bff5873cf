//! How promptly sessions are printed when they arrive slowly: from a mock that drips
//! them, and through stdin one session at a time.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::contender::{isolated_env, Spec};
use super::mock::Mock;
use super::prepare::{ensure_body, Bins};
use crate::util::{self, Error};

/// The pause the slow-drip server makes before each session in the latency runs.
pub const DRIP: Duration = Duration::from_millis(500);

pub const DRIP_SESSIONS: u64 = 5;

/// How promptly sessions are printed when they arrive slowly.
#[derive(Debug, Clone, Default)]
pub struct Latency {
    /// Slow-drip server: the worst lateness of a line against the drip schedule.
    pub http_lateness_s: Option<f64>,
    /// Slow-drip server: time from spawning segura to its first line.
    pub http_first_line_s: Option<f64>,
    pub http_lines: usize,
    /// Through stdin: time from writing one complete session to its line on stdout.
    pub stdin_first_line_s: Option<f64>,
    /// Whether that line came only after stdin was closed.
    pub stdin_only_at_end: bool,
    pub note: Option<String>,
}

impl Latency {
    pub fn describe(&self) -> String {
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

pub fn measure_latency(bins: &Bins, work: &Path) -> Result<Latency, Error> {
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
    let body = ensure_body(bins, work, 10_000)?.body;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
