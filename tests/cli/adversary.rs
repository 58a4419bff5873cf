//! Running the real `segura` binary against `segura-hostile`, a server that answers
//! wrongly on purpose, and checking what every such run must hold whatever the server
//! sent: no raw control byte or bidirectional override on stdout or stderr, and none of
//! the client's secrets anywhere in its output.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use segura_hostile::{Hostile, Reply, Request};

use crate::support::Output;

/// The client id every attack uses.
pub const CLIENT_ID: &str = "hostile-client";
/// The client secret every attack uses (recognisable, so a leak is found).
pub const CLIENT_SECRET: &str = "s3cr3t-Cl13nt-Va1ue-7a9d";

/// A hostile server, a temporary home, and the secrets that must never be printed.
pub struct Attack {
    pub server: Hostile,
    pub home: tempfile::TempDir,
    pub secrets: Vec<String>,
}

impl Attack {
    /// Starts a hostile server answering with `handler`.
    pub fn new(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        Attack {
            server: Hostile::start(handler),
            home: tempfile::tempdir().expect("temp dir"),
            secrets: vec![
                CLIENT_SECRET.to_owned(),
                segura_hostile::ACCESS_TOKEN.to_owned(),
            ],
        }
    }

    /// Adds a value that must never be printed.
    pub fn secret(&mut self, value: impl Into<String>) -> &mut Self {
        self.secrets.push(value.into());
        self
    }

    /// A path in the temporary home.
    pub fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// `segura` with a clean environment (HOME and SEGURA_CONFIG in the temporary home),
    /// pointed at the hostile server with OAuth 2.0 credentials, no retries.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_segura"));
        cmd.env_clear()
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join(".config"))
            .env("SEGURA_CONFIG", self.path("segura.toml"))
            .env("SEGURA_URL", self.server.url())
            .env("SEGURA_CLIENT_ID", CLIENT_ID)
            .env("SEGURA_CLIENT_SECRET", CLIENT_SECRET)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs `segura ARGS --retries 0` against the server and checks the output.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.cmd();
        cmd.args(args).args(["--retries", "0"]);
        self.run_cmd(cmd)
    }

    /// Runs `cmd` (killed after 60 s) and checks its output.
    #[track_caller]
    pub fn run_cmd(&self, cmd: Command) -> Output {
        let o = run_bounded(cmd, Duration::from_secs(60));
        assert_clean(&o, &self.secrets);
        o
    }
}

/// Runs `cmd`, killing it after `limit` (a hang is a failure, reported as code -1).
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd.spawn().expect("segura runs");
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for segura: {e}"),
        }
    }
    let out = child.wait_with_output().expect("segura ends");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The first character that must never reach a terminal raw: C0 controls other than
/// newline and tab, DEL, C1 controls, and bidirectional overrides and isolates.
pub fn dangerous_char(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

/// Asserts that neither stdout nor stderr holds a dangerous character or a secret.
#[track_caller]
pub fn assert_clean(o: &Output, secrets: &[String]) {
    for (name, text) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        if let Some((at, c)) = dangerous_char(text) {
            panic!(
                "raw {c:?} at byte {at} of {name}\n--- stdout ---\n{:?}\n--- stderr ---\n{:?}",
                o.stdout, o.stderr
            );
        }
        for s in secrets {
            assert!(
                !text.contains(s.as_str()),
                "the secret {s:?} was printed on {name}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                o.stdout,
                o.stderr
            );
        }
    }
}

/// A handler for the usual happy paths: a good token, then `list` for everything else.
pub fn token_then(
    list: impl Fn(&Request) -> Reply + Send + Sync + 'static,
) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |r: &Request| {
        if r.path() == segura_hostile::TOKEN_PATH {
            Reply::ok_token()
        } else {
            list(r)
        }
    }
}
