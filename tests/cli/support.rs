//! Running the built `segura` binary against a mock appliance on loopback.
//!
//! Every run clears the environment and points HOME and SEGURA_CONFIG into a temporary
//! directory, so a developer's own configuration is never read; and every run checks
//! that no secret of the mock appears on stdout or stderr.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use segura_mock::{MockConfig, MockServer};

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts the exit code, showing the output when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        self.code(0);
        &self.stdout
    }

    /// The stdout lines parsed as JSON.
    #[track_caller]
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// A temporary home, and a mock appliance.
pub struct Fixture {
    pub home: tempfile::TempDir,
    pub server: MockServer,
    /// Secrets that must never be printed.
    pub secrets: Vec<String>,
}

impl Fixture {
    /// A mock with `sessions` sessions of seed 7.
    pub fn new(sessions: u64) -> Self {
        Self::with(MockConfig::default().sessions(sessions).seed(7))
    }

    /// A mock with this configuration.
    pub fn with(config: MockConfig) -> Self {
        let server = MockServer::start_blocking(config).expect("mock server starts");
        let o1 = server.oauth1_credentials();
        let secrets = vec![
            server.client_secret().to_owned(),
            o1.consumer_secret.clone(),
            o1.token_secret.clone(),
        ];
        Self {
            home: tempfile::tempdir().expect("temp dir"),
            server,
            secrets,
        }
    }

    /// The config file path (it does not exist until written).
    pub fn config_path(&self) -> PathBuf {
        self.home.path().join("segura.toml")
    }

    /// Writes the config file with `mode`.
    pub fn write_config(&self, text: &str, mode: u32) -> PathBuf {
        let path = self.config_path();
        std::fs::write(&path, text).expect("write config");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        #[cfg(not(unix))]
        let _ = mode;
        path
    }

    /// `segura` with a clean environment: only HOME and SEGURA_CONFIG.
    pub fn bare(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_segura"));
        cmd.env_clear()
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join(".config"))
            .env("SEGURA_CONFIG", self.config_path())
            .stdin(Stdio::null());
        cmd
    }

    /// `segura` pointed at the mock with OAuth 2.0 credentials in the environment.
    pub fn cmd(&self) -> Command {
        let mut cmd = self.bare();
        cmd.env("SEGURA_URL", self.server.url())
            .env("SEGURA_CLIENT_ID", self.server.client_id())
            .env("SEGURA_CLIENT_SECRET", self.server.client_secret());
        cmd
    }

    /// Runs `cmd` with `args`, checking that no secret is printed.
    #[track_caller]
    pub fn run(&self, mut cmd: Command, args: &[&str]) -> Output {
        let out = cmd.args(args).output().expect("segura runs");
        let o = Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        };
        self.assert_no_secret(&o);
        o
    }

    /// Runs with the mock's credentials.
    #[track_caller]
    pub fn segura(&self, args: &[&str]) -> Output {
        self.run(self.cmd(), args)
    }

    /// Runs with `stdin` as standard input.
    #[track_caller]
    pub fn segura_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut cmd = self.cmd();
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("segura runs");
        let mut input = child.stdin.take().expect("stdin");
        let data = stdin.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let out = child.wait_with_output().expect("segura ends");
        let _ = writer.join();
        let o = Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        };
        self.assert_no_secret(&o);
        o
    }

    #[track_caller]
    fn assert_no_secret(&self, o: &Output) {
        for s in &self.secrets {
            assert!(
                !o.stdout.contains(s.as_str()) && !o.stderr.contains(s.as_str()),
                "a secret was printed\n--- stdout ---\n{}\n--- stderr ---\n{}",
                o.stdout,
                o.stderr
            );
        }
    }

    /// An access token of the mock, asked for with an independent HTTP client (curl).
    pub fn curl_token(&self) -> String {
        let out = Command::new("curl")
            .args([
                "-sS",
                "-d",
                &format!(
                    "grant_type=client_credentials&client_id={}&client_secret={}",
                    self.server.client_id(),
                    self.server.client_secret()
                ),
                &format!(
                    "{}/iso/oauth2/token",
                    self.server.url().trim_end_matches('/')
                ),
            ])
            .output()
            .expect("curl runs");
        let answer: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("token answer is JSON");
        answer["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The list body the mock serves, as a file.
    pub fn saved_body(&self, count: u64) -> PathBuf {
        let path = self.home.path().join(format!("list-{count}.json"));
        let file = std::fs::File::create(&path).expect("create body");
        segura_mock::generator::write_list_body(std::io::BufWriter::new(file), 7, count)
            .expect("write body");
        path
    }
}

/// The canonical JSON of session `index` of seed 7, as the generator writes it.
pub fn generated(index: u64) -> String {
    let mut out = Vec::new();
    segura_mock::generator::Generator::new(7).session_json(index, &mut out);
    String::from_utf8(out).expect("UTF-8")
}

/// The path as a `&str`.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}
