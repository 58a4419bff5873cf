//! The programs compared, and the command line each one runs: `segura` on a file, a
//! gzip file, over HTTP and over HTTPS with gzip, the serde and sonic-rs baselines, the
//! `cat | cat` floor, `jq` and Python.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::prepare::Bins;

const PYTHON: &str = "import json,sys; d=json.load(open(sys.argv[1])); w=sys.stdout.write; \
[w(json.dumps(s,ensure_ascii=False,separators=(\",\",\":\"))+\"\\n\") for s in d[\"remote_sessions\"]]";

/// The `--filter` of the filter contender: typical work (an int, a timestamp in the
/// appliance zone against `now`, a bool, a duration) that every session passes, so its
/// output is the same as the plain list's.
pub const FILTER: &str =
    r#"id > 0 && start < now && (active || time >= duration("0s")) && user != "-""#;
/// "Now" of the audit runs: after the last start of a million generated sessions.
pub const AUDIT_NOW: &str = "2025-01-01 00:00:00";

/// The programs compared, in the order of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    SeguraInput,
    SeguraFilter,
    /// `segura sessions audit` on the same file: findings, not sessions.
    SeguraAudit,
    /// `segura sessions list --sort -start` on the same file, with no `--limit`: the
    /// full sort, spilling sorted runs past `--sort-memory` (256 MiB by default).
    SeguraSort,
    /// `segura sessions stats --by user` on the same file: one line per group.
    SeguraStats,
    /// `segura sessions report --out FILE.html` on the same file: the HTML report.
    SeguraReport,
    SeguraHttp,
    /// `segura --input body.json.gz`: the same list, gzip-compressed on disk.
    SeguraGzip,
    /// Over HTTPS from the mock, with gzip compressed ahead of time (`--gzip-ahead`).
    SeguraHttpsGzip,
    BaselineSerde,
    /// `sonic-rs` into borrowed structs and back.
    BaselineSonic,
    /// `cat body.json | cat`: the floor for any program that reads and writes the bytes.
    CatPipe,
    Jq,
    Python,
}

impl Contender {
    pub const ALL: [Contender; 14] = [
        Contender::SeguraInput,
        Contender::SeguraFilter,
        Contender::SeguraSort,
        Contender::SeguraAudit,
        Contender::SeguraStats,
        Contender::SeguraReport,
        Contender::SeguraHttp,
        Contender::SeguraGzip,
        Contender::SeguraHttpsGzip,
        Contender::BaselineSerde,
        Contender::BaselineSonic,
        Contender::CatPipe,
        Contender::Jq,
        Contender::Python,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Contender::SeguraInput => "segura --input",
            Contender::SeguraFilter => "segura --input --filter",
            Contender::SeguraAudit => "segura audit",
            Contender::SeguraSort => "segura --sort -start",
            Contender::SeguraStats => "segura stats",
            Contender::SeguraReport => "segura report",
            Contender::SeguraHttp => "segura over HTTP",
            Contender::SeguraGzip => "segura --input .gz",
            Contender::SeguraHttpsGzip => "segura HTTPS+gzip",
            Contender::BaselineSerde => "baseline-serde",
            Contender::BaselineSonic => "baseline-sonic",
            Contender::CatPipe => "cat | cat",
            Contender::Jq => "jq -c",
            Contender::Python => "python3 json",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Contender::SeguraInput => "segura-input",
            Contender::SeguraFilter => "segura-filter",
            Contender::SeguraAudit => "segura-audit",
            Contender::SeguraSort => "segura-sort",
            Contender::SeguraStats => "segura-stats",
            Contender::SeguraReport => "segura-report",
            Contender::SeguraHttp => "segura-http",
            Contender::SeguraGzip => "segura-gzip",
            Contender::SeguraHttpsGzip => "segura-https-gzip",
            Contender::BaselineSerde => "baseline-serde",
            Contender::BaselineSonic => "baseline-sonic",
            Contender::CatPipe => "cat-pipe",
            Contender::Jq => "jq",
            Contender::Python => "python3",
        }
    }

    /// Whether its output is the list of sessions (compared with the generator's
    /// lines, in their order); `segura --sort` prints them in another order (its
    /// output equals the in-memory sort's, which the tests check), `segura audit`
    /// findings, `stats` groups, `report` an HTML file, `cat` the body.
    pub fn lists_sessions(self) -> bool {
        !matches!(
            self,
            Contender::SeguraSort
                | Contender::SeguraAudit
                | Contender::SeguraStats
                | Contender::SeguraReport
                | Contender::CatPipe
        )
    }

    pub fn color(self) -> &'static str {
        match self {
            Contender::SeguraInput => "#1f77b4",
            Contender::SeguraFilter => "#17becf",
            Contender::SeguraAudit => "#8c564b",
            Contender::SeguraSort => "#aec7e8",
            Contender::SeguraStats => "#c49c94",
            Contender::SeguraReport => "#dbdb8d",
            Contender::SeguraHttp => "#2ca02c",
            Contender::SeguraGzip => "#bcbd22",
            Contender::SeguraHttpsGzip => "#98df8a",
            Contender::BaselineSerde => "#ff7f0e",
            Contender::BaselineSonic => "#e377c2",
            Contender::CatPipe => "#7f7f7f",
            Contender::Jq => "#d62728",
            Contender::Python => "#9467bd",
        }
    }
}

/// Whether each contender can run here: jq and python3 are optional tools. With
/// `only` (slugs), the others are left out.
pub fn available_contenders(only: Option<&[String]>) -> Vec<(Contender, Option<String>)> {
    Contender::ALL
        .iter()
        .filter(|c| only.is_none_or(|o| o.iter().any(|s| s == c.slug())))
        .map(|&c| {
            let missing = match c {
                Contender::Jq => (!on_path("jq")).then(|| "jq is not on PATH".to_owned()),
                Contender::Python => {
                    (!on_path("python3")).then(|| "python3 is not on PATH".to_owned())
                }
                _ => None,
            };
            (c, missing)
        })
        .collect()
}

fn on_path(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A program to run: what `Command` needs, kept as plain data so it can be wrapped.
pub struct Spec {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Spec {
    pub fn command(&self, time_out: Option<&Path>) -> Command {
        let mut cmd = match time_out {
            Some(out) => {
                let mut c = Command::new("/usr/bin/time");
                c.arg("-f")
                    .arg("%e %M")
                    .arg("-o")
                    .arg(out)
                    .arg(&self.program);
                c
            }
            None => Command::new(&self.program),
        };
        cmd.args(&self.args);
        // No user configuration or credentials may leak into a run.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("SEGURA_") {
                cmd.env_remove(k);
            }
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null());
        cmd
    }
}

/// What the contenders read at one size.
pub struct Inputs<'a> {
    /// The list body.
    pub body: &'a Path,
    /// The same body, gzip-compressed.
    pub body_gz: &'a Path,
    /// The plain-HTTP mock.
    pub mock_url: &'a str,
    /// The HTTPS mock that sends gzip compressed ahead of time, and its CA certificate.
    pub tls_mock: (&'a str, &'a Path),
}

/// The command line of `contender` reading `inputs`.
pub fn spec(contender: Contender, bins: &Bins, work: &Path, inputs: &Inputs<'_>) -> Spec {
    let body = inputs.body.to_string_lossy().into_owned();
    let body_gz = inputs.body_gz.to_string_lossy().into_owned();
    let strings = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    match contender {
        Contender::SeguraInput => Spec {
            program: bins.segura.clone(),
            args: strings(&["sessions", "list", "--input", &body, "-o", "ndjson"]),
            env: isolated_env(work, None),
        },
        Contender::SeguraFilter => Spec {
            program: bins.segura.clone(),
            args: strings(&[
                "sessions",
                "list",
                "--input",
                &body,
                "-o",
                "ndjson",
                "--tz",
                "America/Sao_Paulo",
                "--filter",
                FILTER,
            ]),
            env: isolated_env(work, None),
        },
        Contender::SeguraAudit => Spec {
            program: bins.segura.clone(),
            args: strings(&[
                "sessions", "audit", "--input", &body, "-o", "ndjson", "--now", AUDIT_NOW,
            ]),
            env: isolated_env(work, None),
        },
        Contender::SeguraSort => Spec {
            program: bins.segura.clone(),
            args: strings(&[
                "sessions", "list", "--input", &body, "-o", "ndjson", "--sort", "-start",
            ]),
            env: isolated_env(work, None),
        },
        Contender::SeguraStats => Spec {
            program: bins.segura.clone(),
            args: strings(&[
                "sessions", "stats", "--input", &body, "--by", "user", "-o", "ndjson",
            ]),
            env: isolated_env(work, None),
        },
        Contender::SeguraReport => {
            let html = work.join("report.html").to_string_lossy().into_owned();
            Spec {
                program: bins.segura.clone(),
                args: strings(&[
                    "sessions", "report", "--input", &body, "--out", &html, "--now", AUDIT_NOW,
                ]),
                env: isolated_env(work, None),
            }
        }
        Contender::SeguraHttp => Spec {
            program: bins.segura.clone(),
            args: strings(&["sessions", "list", "-o", "ndjson", "--no-compression"]),
            env: isolated_env(work, Some(inputs.mock_url)),
        },
        Contender::SeguraGzip => Spec {
            program: bins.segura.clone(),
            args: strings(&["sessions", "list", "--input", &body_gz, "-o", "ndjson"]),
            env: isolated_env(work, None),
        },
        Contender::SeguraHttpsGzip => {
            let (url, ca) = inputs.tls_mock;
            let mut env = isolated_env(work, Some(url));
            env.push((
                "SEGURA_CA_CERT".to_owned(),
                ca.to_string_lossy().into_owned(),
            ));
            Spec {
                program: bins.segura.clone(),
                args: strings(&["sessions", "list", "-o", "ndjson"]),
                env,
            }
        }
        Contender::BaselineSerde => Spec {
            program: bins.baseline.clone(),
            args: vec![body],
            env: Vec::new(),
        },
        Contender::BaselineSonic => Spec {
            program: bins.baseline_sonic.clone(),
            args: vec![body],
            env: Vec::new(),
        },
        Contender::CatPipe => Spec {
            program: "/bin/sh".into(),
            args: vec![
                "-c".to_owned(),
                "cat \"$1\" | cat".to_owned(),
                "sh".to_owned(),
                body,
            ],
            env: Vec::new(),
        },
        Contender::Jq => Spec {
            program: "jq".into(),
            args: strings(&["-c", ".remote_sessions[]", &body]),
            env: Vec::new(),
        },
        Contender::Python => Spec {
            program: "python3".into(),
            args: strings(&["-c", PYTHON, &body]),
            env: Vec::new(),
        },
    }
}

/// The environment of a `segura` run: no config file, a private HOME, and the mock's
/// URL and credentials when there is one.
pub fn isolated_env(work: &Path, url: Option<&str>) -> Vec<(String, String)> {
    let home = work.join("home").to_string_lossy().into_owned();
    let mut env = vec![
        (
            "SEGURA_CONFIG".to_owned(),
            work.join("no-config.toml").to_string_lossy().into_owned(),
        ),
        ("HOME".to_owned(), home.clone()),
        ("XDG_CONFIG_HOME".to_owned(), home),
    ];
    if let Some(url) = url {
        env.push(("SEGURA_URL".to_owned(), url.to_owned()));
        env.push(("SEGURA_CLIENT_ID".to_owned(), "bench".to_owned()));
        env.push(("SEGURA_CLIENT_SECRET".to_owned(), "bench".to_owned()));
    }
    env
}
