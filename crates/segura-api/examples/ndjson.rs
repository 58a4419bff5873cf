//! Decodes a saved list body and writes its sessions as NDJSON in canonical form: the
//! smallest end-to-end use of the decoder, and a handy profiling target.
//!
//! `cargo run --release -p segura-api --example ndjson -- body.json > sessions.ndjson`

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use segura_api::ReaderSource;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: ndjson BODY.json");
        return ExitCode::from(2);
    };
    let mut source = match ReaderSource::open(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(3);
        }
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut buf = Vec::with_capacity(1024);
    while let Some(item) = source.next_ref() {
        match item {
            Ok(session) => {
                buf.clear();
                session.write_json(&mut buf);
                buf.push(b'\n');
                if out.write_all(&buf).is_err() {
                    return ExitCode::SUCCESS;
                }
            }
            Err(e) => {
                let _ = out.flush();
                eprintln!("error: {e}");
                return ExitCode::from(8);
            }
        }
    }
    let _ = out.flush();
    ExitCode::SUCCESS
}
