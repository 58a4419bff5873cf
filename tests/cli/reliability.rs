//! Reliability and security through the binary: the hostile-input corpus through
//! `--input`, secrets under every failing scenario with tracing on, patience with a
//! dripping server, bounded retries, one token renewal, and `watch` killed mid-run.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use segura_mock::{Fault, FaultTarget, MockConfig};
use serde_json::Value;

use crate::support::*;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

#[test]
fn every_corpus_body_through_input_has_its_exit_code_and_complete_lines() {
    let f = Fixture::new(1);
    let manifest: Vec<Value> =
        serde_json::from_slice(&std::fs::read(corpus().join("expected.json")).expect("manifest"))
            .expect("JSON");
    assert!(manifest.len() >= 40);
    for case in &manifest {
        let file = case["file"].as_str().expect("file");
        let path = corpus().join(file);
        let out = f.run(
            f.bare(),
            &["sessions", "list", "-o", "ndjson", "--input", s(&path)],
        );
        let want = case["sessions"].as_u64().expect("sessions") as usize;
        let code = match case["error"]["class"].as_str() {
            None => 0,
            Some("invalid_response") => 8,
            Some("not_found") => 5,
            Some("server") => 6,
            Some("auth") => 4,
            Some(other) => panic!("{file}: unknown class {other}"),
        };
        assert_eq!(out.code, code, "{file}: {}", out.stderr);
        // Every printed line is a complete session, and nothing more was printed.
        let lines = out.json_lines();
        assert_eq!(lines.len(), want, "{file}");
        assert!(
            out.stdout.is_empty() || out.stdout.ends_with('\n'),
            "{file}"
        );
        assert!(lines.iter().all(|l| l["session_id"].is_string()), "{file}");
        if code != 0 {
            assert!(out.stderr.starts_with("error: "), "{file}: {}", out.stderr);
            assert!(!out.stderr.contains("panicked"), "{file}: {}", out.stderr);
        }
        if code == 8 {
            assert!(
                out.stderr.contains(&format!("{want} session"))
                    || out
                        .stderr
                        .contains(&format!("after {want} complete session")),
                "{file}: the count of received sessions is reported: {}",
                out.stderr
            );
        }
    }
}

const SECRET: &str = "sentinel-Client-Secret-0x5EC12E7";

#[test]
fn no_secret_or_token_in_any_output_of_failing_scenarios_with_tracing_on() {
    let f = Fixture::with(
        MockConfig::default()
            .sessions(30)
            .seed(7)
            .client_secret(SECRET),
    );
    let wrong = "sentinel-Wrong-Secret-0xBADC0DE";
    let mut runs = Vec::new();
    // A wrong secret.
    let mut cmd = f.cmd();
    cmd.env("SEGURA_CLIENT_SECRET", wrong);
    runs.push(f.run(cmd, &["-vv", "sessions", "list", "-o", "ndjson"]));
    // A refused token (401 twice: after one renewal the call fails).
    f.server
        .push_faults(2, FaultTarget::List, Fault::ExpiredToken);
    runs.push(f.segura(&["-vv", "sessions", "list", "-o", "ndjson"]));
    // A server error, a truncation, a reset.
    for fault in [
        Fault::InternalError,
        Fault::TruncateAfter(5),
        Fault::ResetAfter(5),
    ] {
        f.server.push_faults(1, FaultTarget::List, fault);
        runs.push(f.segura(&["-vv", "--retries", "0", "sessions", "list", "-o", "ndjson"]));
    }
    // A TLS failure: the mock's certificate is not trusted.
    let tls = Fixture::with(
        MockConfig::default()
            .sessions(3)
            .tls(true)
            .client_secret(SECRET),
    );
    runs.push(tls.segura(&["-vv", "sessions", "list"]));
    // A secret file, with an error after it was read.
    let file = f.home.path().join("secret");
    std::fs::write(&file, SECRET).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let mut cmd = f.cmd();
    cmd.env_remove("SEGURA_CLIENT_SECRET")
        .env("SEGURA_CLIENT_SECRET_FILE", &file);
    f.server
        .push_faults(1, FaultTarget::List, Fault::BadGateway);
    runs.push(f.run(cmd, &["-vv", "--retries", "0", "sessions", "list"]));

    let tokens: Vec<String> = f.server.stats().token_uses.keys().cloned().collect();
    assert!(!tokens.is_empty());
    assert!(runs.iter().filter(|o| o.code != 0).count() >= 6, "{runs:?}");
    for o in &runs {
        assert!(
            o.stderr.contains("DEBUG") || o.stderr.contains("TRACE"),
            "tracing on: {}",
            o.stderr
        );
        for secret in [SECRET, wrong]
            .iter()
            .map(|s| s.to_string())
            .chain(tokens.iter().cloned())
        {
            assert!(
                !o.stdout.contains(&secret) && !o.stderr.contains(&secret),
                "{secret} leaked: {o:?}"
            );
        }
    }
    // And the config display redacts it.
    let show = f.segura(&["config", "show"]);
    assert!(!show.ok().contains(SECRET));
}

#[test]
fn a_server_dripping_one_byte_per_100ms_is_followed_past_the_idle_timeout() {
    let f = Fixture::new(3);
    f.server.set_fault(
        FaultTarget::List,
        Fault::Drip {
            bytes: 1,
            interval: Duration::from_millis(100),
        },
    );
    let mut child = f
        .cmd()
        // A gzip encoder would hold single bytes back: ask for the body as it is.
        .args([
            "--read-timeout",
            "1s",
            "--no-compression",
            "sessions",
            "list",
            "-o",
            "ndjson",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Four idle timeouts' worth of time: still running, because bytes keep arriving.
    std::thread::sleep(Duration::from_secs(4));
    let still_running = child.try_wait().expect("wait").is_none();
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    assert!(
        still_running,
        "gave up: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        f.server.stats().list_requests,
        1,
        "no retry while data flows"
    );
}

#[test]
fn retries_are_bounded_and_never_repeat_a_drop() {
    let f = Fixture::new(5);
    f.server
        .set_fault(FaultTarget::List, Fault::ServiceUnavailable);
    let started = Instant::now();
    f.segura(&["--retries", "2", "sessions", "list"]).code(6);
    assert_eq!(f.server.stats().list_requests, 3, "one try and two retries");
    assert!(started.elapsed() < Duration::from_secs(30));
    f.server.clear_faults();

    f.server
        .set_fault(FaultTarget::Drop, Fault::ServiceUnavailable);
    let hash = f.server.generator().session_hash(0);
    f.segura(&[
        "--retries",
        "3",
        "sessions",
        "drop",
        &hash,
        "--yes",
        "--no-lookup",
    ])
    .code(6);
    assert_eq!(
        f.server.stats().drop_requests,
        1,
        "a drop that reached the server is not retried"
    );
    f.server.clear_faults();

    // A 500 is not transient: no retry either.
    f.server.set_fault(FaultTarget::List, Fault::InternalError);
    let before = f.server.stats().list_requests;
    f.segura(&["--retries", "3", "sessions", "list"]).code(6);
    assert_eq!(f.server.stats().list_requests, before + 1);
}

#[test]
fn a_refused_token_is_renewed_exactly_once() {
    let f = Fixture::new(10);
    f.server
        .push_faults(1, FaultTarget::List, Fault::ExpiredToken);
    let out = f.segura(&["sessions", "list", "-o", "ndjson"]);
    assert_eq!(out.json_lines().len(), 10);
    let stats = f.server.stats();
    assert_eq!(stats.token_requests, 2, "{stats:?}");
    assert_eq!(stats.list_requests, 2);
}

#[test]
fn watch_killed_mid_run_and_restarted_reports_everything_exactly_once() {
    let f = Fixture::new(40);
    let state = f.home.path().join("watch.state");
    let mut child = f
        .cmd()
        .args([
            "sessions",
            "watch",
            "--interval",
            "1s",
            "-o",
            "ndjson",
            "--state",
            s(&state),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen: Vec<(String, String)> = Vec::new();
    let collect_until = |n: usize, seen: &mut Vec<(String, String)>| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while seen.len() < n && Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                let v: Value = serde_json::from_str(&line).expect("event");
                let id = v["session"]["id"].as_str().expect("id").to_owned();
                seen.push((v["event"].as_str().expect("event").to_owned(), id));
            }
        }
    };
    let open_in = |n: u64| (0..n).filter(|i| f.server.generator().is_open(*i)).count();
    collect_until(40, &mut seen);
    f.server.set_session_count(50);
    collect_until(50, &mut seen);
    f.server.end_open_sessions();
    collect_until(50 + open_in(50), &mut seen);
    // Let the state be saved after the last poll, then kill without warning.
    std::thread::sleep(Duration::from_millis(700));
    let _ = child.kill();
    let _ = child.wait();

    // While it is down, more sessions arrive; after the restart, they end.
    f.server.set_session_count(60);
    let args = [
        "sessions",
        "watch",
        "--once",
        "-o",
        "ndjson",
        "--state",
        s(&state),
    ];
    let record = |out: Output, seen: &mut Vec<(String, String)>| {
        for v in out.json_lines() {
            seen.push((
                v["event"].as_str().expect("event").to_owned(),
                v["session"]["id"].as_str().expect("id").to_owned(),
            ));
        }
    };
    record(f.segura(&args), &mut seen);
    f.server.end_open_sessions();
    record(f.segura(&args), &mut seen);
    record(f.segura(&args), &mut seen);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "an event was repeated: {seen:?}");
    let new = seen.iter().filter(|(e, _)| e == "new").count();
    assert_eq!(new, 60, "every session reported as new once");
    let ended = seen.iter().filter(|(e, _)| e == "ended").count();
    assert!(open_in(50) > 0, "the data set has open sessions");
    assert_eq!(
        ended,
        open_in(60),
        "every open session reported as ended once"
    );
}

/// Reads a child's stdout lines on a thread, so a test can wait for one with a timeout.
fn line_reader(out: std::process::ChildStdout) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn a_session_is_printed_while_the_producer_still_holds_the_rest() {
    use std::io::Write;
    let f = Fixture::new(1);
    let body = std::fs::read(f.saved_body(3)).expect("body");
    let text = String::from_utf8(body.clone()).expect("UTF-8");
    let first_end = text.find("},{").expect("two sessions") + 1;
    let mut child = f
        .bare()
        .args(["sessions", "list", "--input", "-", "-o", "ndjson"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(&body[..first_end]).expect("write");
    stdin.flush().expect("flush");
    let lines = line_reader(child.stdout.take().expect("stdout"));
    // Standard input is still open: the first session must be out anyway, not held in
    // a buffer until the end.
    let first = lines
        .recv_timeout(Duration::from_secs(10))
        .expect("first line while stdin is open");
    assert_eq!(first, generated(0));
    stdin.write_all(&body[first_end..]).expect("write");
    drop(stdin);
    assert!(child.wait().expect("wait").success());
    assert_eq!(lines.iter().count(), 2);
}

#[test]
fn a_slow_server_s_sessions_appear_as_they_arrive() {
    let f = Fixture::new(3);
    f.server
        .set_fault(FaultTarget::List, Fault::Delay(Duration::from_secs(2)));
    let mut child = f
        .cmd()
        .args(["--no-compression", "sessions", "list", "-o", "ndjson"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let lines = line_reader(child.stdout.take().expect("stdout"));
    let first = lines
        .recv_timeout(Duration::from_secs(10))
        .expect("a first line");
    assert_eq!(first, generated(0));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "printed only at the end"
    );
    assert!(child.wait().expect("wait").success());
    assert_eq!(lines.iter().count(), 2);
}
