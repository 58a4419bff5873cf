//! Writes generated sessions to stdout, to check them with other tools or
//! time the generator:
//!
//! ```text
//! cargo run --release -p segura-mock --example generate -- SEED COUNT          # a list body
//! cargo run --release -p segura-mock --example generate -- SEED COUNT --lines  # one session per line
//! cargo run --release -p segura-mock --example generate -- SEED COUNT --gzip   # a list body, gzip
//! ```
//!
//! `--lines` prints what `jq -c '.remote_sessions[]'` prints for the list body; `--gzip`
//! compresses what it prints at flate2's default level (what `gzip -6` does).

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use flate2::write::GzEncoder;
use flate2::Compression;
use segura_mock::generator::{write_list_body, Generator};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| {
        args.get(i)
            .map(|a| a.parse::<u64>().map_err(|e| format!("{a}: {e}")))
            .unwrap_or(Ok(default))
    };
    let (seed, count) = match (number(0, 7), number(1, 10)) {
        (Ok(seed), Ok(count)) => (seed, count),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("usage: generate [SEED] [COUNT] [--lines]: {e}");
            return ExitCode::from(2);
        }
    };
    let lines = args.iter().any(|a| a == "--lines");
    let gzip = args.iter().any(|a| a == "--gzip");
    let started = Instant::now();
    let stdout = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut out = if gzip {
        Out::Gzip(Box::new(GzEncoder::new(stdout, Compression::default())))
    } else {
        Out::Plain(stdout)
    };
    let result = if lines {
        let generator = Generator::new(seed);
        let mut buf = Vec::with_capacity(1024);
        let mut total = 0u64;
        let mut result = Ok(());
        for i in 0..count {
            buf.clear();
            generator.session_json(i, &mut buf);
            buf.push(b'\n');
            total += buf.len() as u64;
            if let Err(e) = out.write_all(&buf) {
                result = Err(e);
                break;
            }
        }
        result.and_then(|()| out.flush()).map(|()| total)
    } else {
        write_list_body(&mut out, seed, count)
    };
    match result.and_then(|bytes| out.finish().map(|()| bytes)) {
        Ok(bytes) => {
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "{count} sessions, {bytes} bytes in {secs:.3} s ({:.0} MB/s)",
                bytes as f64 / 1e6 / secs.max(1e-9)
            );
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("generate: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Standard output, compressed or not.
enum Out<W: Write> {
    Plain(W),
    Gzip(Box<GzEncoder<W>>),
}

impl<W: Write> Out<W> {
    /// Writes the gzip trailer, if any, and flushes.
    fn finish(self) -> io::Result<()> {
        match self {
            Out::Plain(mut w) => w.flush(),
            Out::Gzip(z) => (*z).finish()?.flush(),
        }
    }
}

impl<W: Write> Write for Out<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::Plain(w) => w.write(buf),
            Out::Gzip(z) => z.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::Plain(w) => w.flush(),
            Out::Gzip(z) => z.flush(),
        }
    }
}
