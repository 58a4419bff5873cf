//! `list --sort` beyond `--sort-memory`: sorted runs in temporary files, merged, with
//! the in-memory order byte for byte, and no temporary file left however it ends.
#![cfg(unix)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{s, Fixture};

/// Sessions in the saved body: several MiB, so 1MiB of budget makes several runs.
const SESSIONS: u64 = 20_000;

fn sort_args<'a>(body: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "sessions", "list", "--input", body, "-o", "ndjson", "--sort", "-start",
    ];
    args.extend_from_slice(extra);
    args
}

/// `segura` with a clean environment and `TMPDIR` set.
fn with_tmpdir(f: &Fixture, dir: &Path) -> Command {
    let mut cmd = f.bare();
    cmd.env("TMPDIR", dir);
    cmd
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read temp dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// Whether process `pid` has a file open in `dir` (a spilled run, unnamed or not).
fn has_file_open_in(pid: u32, dir: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok)
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .any(|target| target.starts_with(dir))
}

#[test]
fn a_spilled_sort_prints_the_in_memory_order_byte_for_byte_and_leaves_nothing() {
    let f = Fixture::new(0);
    let body = f.saved_body(SESSIONS);
    let tmp = tempfile::tempdir().expect("temp dir");
    let in_memory = f.run(f.bare(), &sort_args(s(&body), &[]));
    let spilled = f.run(
        with_tmpdir(&f, tmp.path()),
        &sort_args(s(&body), &["--sort-memory", "1MiB"]),
    );
    assert_eq!(spilled.ok().len(), in_memory.ok().len());
    assert!(spilled.stdout == in_memory.stdout, "outputs differ");
    assert!(entries(tmp.path()).is_empty(), "{:?}", entries(tmp.path()));

    // The order itself, read with serde_json: latest start first, ties in the order of
    // the list (the unsorted output), every session once.
    let unsorted = f.run(
        f.bare(),
        &["sessions", "list", "--input", s(&body), "-o", "ndjson"],
    );
    let position: std::collections::HashMap<String, usize> = unsorted
        .ok()
        .lines()
        .enumerate()
        .map(|(i, l)| (l.to_owned(), i))
        .collect();
    let lines = spilled.json_lines();
    assert_eq!(lines.len() as u64, SESSIONS);
    let keyed: Vec<(String, usize)> = spilled
        .stdout
        .lines()
        .zip(&lines)
        .map(|(l, v)| (v["start"].as_str().expect("start").to_owned(), position[l]))
        .collect();
    for w in keyed.windows(2) {
        assert!(
            w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1),
            "{w:?}"
        );
    }
}

#[test]
fn a_truncated_input_fails_and_leaves_no_temporary_file() {
    let f = Fixture::new(0);
    let body = f.saved_body(SESSIONS);
    let bytes = std::fs::read(&body).expect("body");
    let cut = f.home.path().join("cut.json");
    std::fs::write(&cut, &bytes[..bytes.len() * 9 / 10]).expect("write");
    let tmp = tempfile::tempdir().expect("temp dir");
    let o = f.run(
        with_tmpdir(&f, tmp.path()),
        &sort_args(s(&cut), &["--sort-memory", "1MiB"]),
    );
    o.code(8);
    assert!(o.stdout.is_empty(), "nothing printed of an incomplete sort");
    assert!(o.stderr.contains("incomplete"), "{}", o.stderr);
    assert!(entries(tmp.path()).is_empty(), "{:?}", entries(tmp.path()));
}

#[test]
fn an_unusable_tmpdir_is_a_clear_error() {
    let f = Fixture::new(0);
    let body = f.saved_body(SESSIONS);
    // A regular file where the directory should be: refused even to root.
    let not_a_dir = f.home.path().join("not-a-dir");
    std::fs::write(&not_a_dir, "x").expect("write");
    let o = f.run(
        with_tmpdir(&f, &not_a_dir),
        &sort_args(s(&body), &["--sort-memory", "1MiB"]),
    );
    o.code(1);
    assert!(o.stdout.is_empty());
    assert!(
        o.stderr.contains("cannot create a temporary file in")
            && o.stderr.contains(s(&not_a_dir))
            && o.stderr.contains("set TMPDIR to a writable directory"),
        "{}",
        o.stderr
    );
    // Within the budget nothing is written, so the same TMPDIR does not matter.
    f.run(with_tmpdir(&f, &not_a_dir), &sort_args(s(&body), &[]))
        .code(0);
}

#[test]
fn sort_memory_is_checked_and_needs_sort() {
    let f = Fixture::new(0);
    let body = f.saved_body(10);
    let o = f.run(f.bare(), &sort_args(s(&body), &["--sort-memory", "64 MiB"]));
    o.code(2);
    assert!(o.stderr.contains("is not a size"), "{}", o.stderr);
    let o = f.run(
        f.bare(),
        &[
            "sessions",
            "list",
            "--input",
            s(&body),
            "--sort-memory",
            "8MiB",
        ],
    );
    o.code(2);
    assert!(o.stderr.contains("--sort"), "{}", o.stderr);
}

#[test]
fn an_interrupted_sort_leaves_no_temporary_file() {
    let f = Fixture::new(0);
    let body = std::fs::read(f.saved_body(SESSIONS)).expect("body");
    for signal in ["INT", "TERM"] {
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_segura"))
            .env_clear()
            .env("HOME", f.home.path())
            .env("SEGURA_CONFIG", f.config_path())
            .env("TMPDIR", tmp.path())
            .args(sort_args("-", &["--sort-memory", "1MiB"]))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("segura runs");
        // Most of the list, with stdin kept open: segura is mid-sort, runs on disk.
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(&body[..body.len() * 3 / 4])
            .expect("write stdin");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !has_file_open_in(child.id(), tmp.path()) {
            assert!(Instant::now() < deadline, "no run was spilled");
            std::thread::sleep(Duration::from_millis(10));
        }
        let status = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let ended = child.wait().expect("segura ends");
        drop(stdin);
        assert!(!ended.success(), "SIG{signal}: {ended:?}");
        assert!(
            entries(tmp.path()).is_empty(),
            "SIG{signal}: {:?}",
            entries(tmp.path())
        );
    }
}
