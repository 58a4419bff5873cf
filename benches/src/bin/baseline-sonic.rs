//! The second baseline of the end-to-end comparison: the same straightforward program
//! as `baseline-serde`, with the fastest SIMD JSON crate. It reads the whole body into
//! memory, parses it with `sonic-rs` into structs that borrow their strings from the
//! body, and writes each session back with `sonic-rs` through a buffered writer.
//!
//! `baseline-sonic BODY.json > sessions.ndjson`

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use segura_bench::BorrowedBody;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: baseline-sonic BODY.json");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {path}: {e}");
            return ExitCode::from(3);
        }
    };
    let body: BorrowedBody<'_> = match sonic_rs::from_slice(&bytes) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(8);
        }
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut line = Vec::with_capacity(1024);
    for s in &body.remote_sessions {
        line.clear();
        if sonic_rs::to_writer(&mut line, s).is_err() {
            return ExitCode::from(8);
        }
        line.push(b'\n');
        if out.write_all(&line).is_err() {
            return ExitCode::SUCCESS;
        }
    }
    let _ = out.flush();
    ExitCode::SUCCESS
}
