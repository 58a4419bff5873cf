//! Diagnostics: every line this program writes on stderr goes through here.
//!
//! Outside text (a server's message, a file name, a profile name, an environment
//! variable) is passed through [`clean`] where it is placed into a line: the client's
//! secrets are replaced with `[redacted]` and control characters and bidirectional
//! overrides are shown escaped ([`segura_api::sanitize`]), so it cannot break the line,
//! move the cursor, rewrite the terminal's title or clipboard, or reorder what is read.
//! [`emit`] then writes the lines, and scrubs each again as a last guard: a line that
//! reaches stderr holds no raw control byte and no known secret, whatever its source.
//! The `-v` logs go through [`LogWriter`], which does the same for each event.

use std::io::{self, Write};
use std::sync::{Mutex, OnceLock, PoisonError};

use segura_api::{sanitize, Redactor};

/// The secrets the command line loaded, and those of the clients it built.
fn redactors() -> &'static Mutex<Vec<Redactor>> {
    static ALL: OnceLock<Mutex<Vec<Redactor>>> = OnceLock::new();
    ALL.get_or_init(|| Mutex::new(vec![Redactor::new()]))
}

/// The command line's own set of secrets: register what it loads (a client secret, a
/// token, a URL's password) before anything can print it.
pub fn secrets() -> Redactor {
    let all = redactors().lock().unwrap_or_else(PoisonError::into_inner);
    all.first().cloned().unwrap_or_default()
}

/// Scrubs with `redactor` too (a client's, which learns each access token it obtains).
pub fn scrub_with(redactor: Redactor) {
    redactors()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(redactor);
}

/// `text` with every known secret replaced by `[redacted]`.
pub fn redact(text: &str) -> String {
    let all = redactors().lock().unwrap_or_else(PoisonError::into_inner);
    let mut out = text.to_owned();
    for r in all.iter() {
        if let std::borrow::Cow::Owned(o) = r.redact(&out) {
            out = o;
        }
    }
    out
}

/// Outside text made fit for a place inside one line: redacted, then sanitised (no
/// control character, not even a newline, remains).
pub fn clean(text: &str) -> String {
    sanitize(&redact(text)).into_owned()
}

/// Each line of `text` redacted and sanitised, joined by newlines again.
fn scrub_lines(text: &str) -> String {
    let redacted = redact(text);
    let lines: Vec<String> = redacted
        .split('\n')
        .map(|l| sanitize(l).into_owned())
        .collect();
    lines.join("\n")
}

/// Writes lines on stderr: `text` is one or more lines whose outside parts went through
/// [`clean`]; a newline is added at the end if it has none.
pub fn emit(text: &str) {
    if text.is_empty() {
        return;
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut line = scrub_lines(body);
    line.push('\n');
    let _ = io::stderr().lock().write_all(line.as_bytes());
}

/// `warning: TEXT`, TEXT cleaned.
pub fn warn(text: &str) {
    emit(&format!("warning: {}", clean(text)));
}

/// A line of the program's own, with outside parts already [`clean`]ed.
pub fn note(text: &str) {
    emit(text);
}

/// The `-v` log writer: each event, once complete, is redacted and sanitised (a newline
/// inside a value shows as `\n`), then written on stderr as one line.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogWriter;

/// One event being written.
#[derive(Debug, Default)]
pub struct LogEvent(Vec<u8>);

impl Write for LogEvent {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LogEvent {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.0);
        let mut line = clean(text.strip_suffix('\n').unwrap_or(&text));
        line.push('\n');
        let _ = io::stderr().lock().write_all(line.as_bytes());
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogEvent;

    fn make_writer(&'a self) -> Self::Writer {
        LogEvent::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_scrubbed_and_cannot_be_forged() {
        secrets().add("diag-test-secret");
        let out = scrub_lines("error: \rerror: all good\u{1b}[K diag-test-secret\nnext");
        assert_eq!(
            out, "error: \\rerror: all good\\u{1b}[K [redacted]\nnext",
            "{out}"
        );
        assert_eq!(clean("a\nb\u{202e}"), "a\\nb\\u{202e}");
    }
}
