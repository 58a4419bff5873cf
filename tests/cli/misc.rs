//! The broken pipe, help, completions, the manual page, logs and the demo.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::support::Fixture;

#[test]
fn a_reader_that_closes_early_is_a_clean_exit() {
    let f = Fixture::new(30_000);
    let mut cmd = f.cmd();
    cmd.args(["sessions", "list", "-o", "ndjson"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("one line");
    // The reader is gone: the pipe is closed.
    let out = child.wait_with_output().expect("exit");
    assert!(first.starts_with("{\"id\":"), "{first}");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn help_lists_exit_codes_and_every_command() {
    let f = Fixture::new(1);
    let help = f.segura(&["--help"]);
    let text = help.ok();
    for w in [
        "Exit codes:",
        "sessions",
        "config",
        "demo",
        "completions",
        "man",
        "--output",
        "SEGURA_CLIENT_ID",
    ] {
        assert!(text.contains(w), "{w} not in help:\n{text}");
    }
    let sub = f.segura(&["sessions", "list", "--help"]);
    for w in [
        "--user",
        "--origin-ip",
        "--since",
        "--active",
        "--min-duration",
        "--sort",
        "--limit",
        "--fields",
        "--input",
        "buffer",
    ] {
        assert!(sub.ok().contains(w), "{w} not in list help");
    }
    assert!(f.segura(&["--version"]).ok().starts_with("segura "));
}

#[test]
fn completions_and_manual_page() {
    let f = Fixture::new(1);
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = f.segura(&["completions", shell]);
        assert!(out.ok().contains("segura"), "{shell}");
    }
    let man = f.segura(&["man"]);
    assert!(
        man.ok().starts_with(".ie") || man.ok().contains(".TH segura"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    let dir = f.home.path().join("man");
    std::fs::create_dir(&dir).expect("mkdir");
    f.segura(&["man", "--out-dir", crate::support::s(&dir)])
        .code(0);
    assert!(dir.join("segura.1").exists());
    assert!(dir.join("segura-sessions-list.1").exists());
}

#[test]
fn verbose_logs_go_to_stderr_without_secrets() {
    let f = Fixture::new(3);
    let out = f.segura(&["-vv", "sessions", "list", "-o", "ndjson"]);
    assert_eq!(out.json_lines().len(), 3);
    assert!(
        out.stderr.contains("DEBUG") || out.stderr.contains("TRACE"),
        "{}",
        out.stderr
    );
    let quiet = f.segura(&["-q", "sessions", "list", "-o", "ndjson"]);
    assert!(quiet.stderr.is_empty());
    let both = f.segura(&["-q", "-v", "sessions", "list"]);
    both.code(2);
}

#[test]
fn demo_runs_the_real_client_against_the_embedded_mock() {
    let f = Fixture::new(1);
    let out = f.run(f.bare(), &["demo", "--sessions", "200"]);
    let text = out.ok();
    assert!(text.contains("$ segura sessions list"), "{text}");
    assert!(text.contains("PROTOCOL") && text.contains('█'), "{text}");
    assert!(text.contains("200 sessions in"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.contains("2023-01-0")).count(),
        10,
        "{text}"
    );
}
