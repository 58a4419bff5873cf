//! The progress line on stderr while a list arrives: bytes and sessions received and
//! the time spent. Drawn by a small thread so that it also moves while the server is
//! silent (a large list may take minutes before its first byte); only on a terminal.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::output::human_bytes;

/// How long a list runs before the line appears.
const DELAY: Duration = Duration::from_secs(1);
/// Time between redraws.
const TICK: Duration = Duration::from_millis(200);

#[derive(Debug)]
struct Shared {
    bytes: AtomicU64,
    sessions: AtomicU64,
    done: AtomicBool,
    /// Held while drawing or while someone else writes to the terminal; the flag says
    /// whether a line is on screen.
    shown: Mutex<bool>,
    started: Instant,
}

/// A progress line, or nothing when disabled.
#[derive(Debug, Default)]
pub struct Progress {
    shared: Option<Arc<Shared>>,
    thread: Option<JoinHandle<()>>,
}

/// Keeps the progress line off the screen while held.
pub type Paused<'a> = Option<MutexGuard<'a, bool>>;

fn clear(shown: &mut bool) {
    if *shown {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(b"\r\x1b[2K");
        let _ = err.flush();
        *shown = false;
    }
}

/// `1234567` as `1,234,567`.
pub fn with_commas(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The text of the line.
fn line(bytes: u64, sessions: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if bytes == 0 {
        format!("waiting for the server… {secs:.0}s")
    } else {
        format!(
            "received {} sessions, {} in {secs:.1}s",
            with_commas(sessions),
            human_bytes(bytes)
        )
    }
}

impl Progress {
    /// No progress line.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// Starts the line (after a short delay) when `enabled`.
    pub fn start(enabled: bool) -> Self {
        if !enabled {
            return Self::disabled();
        }
        let shared = Arc::new(Shared {
            bytes: AtomicU64::new(0),
            sessions: AtomicU64::new(0),
            done: AtomicBool::new(false),
            shown: Mutex::new(false),
            started: Instant::now(),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || {
                let mut last_draw: Option<Instant> = None;
                while !s.done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                    let elapsed = s.started.elapsed();
                    if elapsed < DELAY || last_draw.is_some_and(|t| t.elapsed() < TICK) {
                        continue;
                    }
                    let mut shown = s.shown.lock().unwrap_or_else(PoisonError::into_inner);
                    if s.done.load(Ordering::Relaxed) {
                        break;
                    }
                    let text = line(
                        s.bytes.load(Ordering::Relaxed),
                        s.sessions.load(Ordering::Relaxed),
                        elapsed,
                    );
                    let mut err = std::io::stderr().lock();
                    let _ = write!(err, "\r\x1b[2K{text}");
                    let _ = err.flush();
                    *shown = true;
                    last_draw = Some(Instant::now());
                }
            })
            .ok();
        Self {
            shared: Some(shared),
            thread,
        }
    }

    /// Records how far the list got (cheap: two relaxed stores).
    pub fn update(&self, bytes: u64, sessions: u64) {
        if let Some(s) = &self.shared {
            s.bytes.store(bytes, Ordering::Relaxed);
            s.sessions.store(sessions, Ordering::Relaxed);
        }
    }

    /// Takes the line off the screen until the guard is dropped, so that output on the
    /// same terminal is not mixed with it.
    pub fn pause(&self) -> Paused<'_> {
        let s = self.shared.as_ref()?;
        let mut shown = s.shown.lock().unwrap_or_else(PoisonError::into_inner);
        clear(&mut shown);
        Some(shown)
    }

    /// Removes the line for good.
    pub fn stop(&mut self) {
        if let Some(s) = self.shared.take() {
            s.done.store(true, Ordering::Relaxed);
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
            clear(&mut s.shown.lock().unwrap_or_else(PoisonError::into_inner));
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_text() {
        assert_eq!(with_commas(1234567), "1,234,567");
        assert_eq!(with_commas(12), "12");
        assert_eq!(
            line(12_345_678, 45_678, Duration::from_millis(3210)),
            "received 45,678 sessions, 12.3 MB in 3.2s"
        );
        assert_eq!(
            line(0, 0, Duration::from_secs(12)),
            "waiting for the server… 12s"
        );
    }

    #[test]
    fn disabled_progress_does_nothing() {
        let mut p = Progress::start(false);
        p.update(1, 1);
        assert!(p.pause().is_none());
        p.stop();
    }
}
