//! The `segura-mock` binary as a child process, for the runs over HTTP.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::prepare::SEED;
use crate::util::{self, Error};

/// The mock server, killed on drop.
pub struct Mock {
    child: Child,
    pub url: String,
}

impl Mock {
    pub fn start(program: &Path, sessions: u64, fault: Option<&str>) -> Result<Mock, Error> {
        Mock::start_with(program, sessions, fault, &[])
    }

    /// The HTTPS mock that sends the list gzip-compressed ahead of time, its CA
    /// certificate written to `ca`.
    pub fn start_tls_gzip(program: &Path, sessions: u64, ca: &Path) -> Result<Mock, Error> {
        let ca = ca.to_string_lossy();
        Mock::start_with(
            program,
            sessions,
            None,
            &["--tls", "--gzip-ahead", "--ca-out", &ca],
        )
    }

    fn start_with(
        program: &Path,
        sessions: u64,
        fault: Option<&str>,
        extra: &[&str],
    ) -> Result<Mock, Error> {
        let mut cmd = Command::new(program);
        cmd.args(["--port", "0", "--sessions", &sessions.to_string()])
            .args(extra)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
