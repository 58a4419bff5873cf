//! The baseline of the end-to-end comparison: what a straightforward Rust program does
//! today. It reads the whole body into memory, deserializes it into owned structs with
//! serde_json, and writes NDJSON through a buffered writer.
//!
//! `baseline-serde BODY.json > sessions.ndjson`

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use segura_bench::PlainBody;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: baseline-serde BODY.json");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {path}: {e}");
            return ExitCode::from(3);
        }
    };
    let body: PlainBody = match serde_json::from_slice(&bytes) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(8);
        }
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    for s in &body.remote_sessions {
        if serde_json::to_writer(&mut out, s).is_err() || out.write_all(b"\n").is_err() {
            return ExitCode::SUCCESS;
        }
    }
    let _ = out.flush();
    ExitCode::SUCCESS
}
