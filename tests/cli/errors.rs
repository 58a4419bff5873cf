//! Exit codes and messages produced by real faults of the mock appliance.

use segura_mock::{Fault, FaultTarget, MockConfig};

use crate::support::{generated, Fixture};

/// A fixture whose list requests all fail with `fault`.
fn failing(fault: Fault) -> Fixture {
    Fixture::with(
        MockConfig::default()
            .sessions(40)
            .seed(7)
            .fault(FaultTarget::List, fault),
    )
}

#[track_caller]
fn list_fails_with(fault: Fault, code: i32, words: &[&str]) -> crate::support::Output {
    let f = failing(fault);
    let out = f.segura(&[
        "sessions",
        "list",
        "-o",
        "ndjson",
        "--retries",
        "0",
        "--read-timeout",
        "2s",
    ]);
    out.code(code);
    let first = out.stderr.lines().next().unwrap_or("");
    assert!(first.starts_with("error: "), "{}", out.stderr);
    assert!(
        out.stderr.contains("\n  cause: ") && out.stderr.contains("\n  hint: "),
        "{}",
        out.stderr
    );
    for w in words {
        assert!(out.stderr.contains(w), "{w:?} not in\n{}", out.stderr);
    }
    assert!(!out.stderr.contains("panicked") && !out.stderr.contains("RUST_BACKTRACE"));
    out
}

#[test]
fn authorization_refusals_exit_4() {
    list_fails_with(
        Fault::Forbidden,
        4,
        &["not authorized", "Credentials and Devices"],
    );
    list_fails_with(Fault::ExpiredToken, 4, &[]);
    let f = Fixture::new(3);
    let mut cmd = f.bare();
    cmd.env("SEGURA_URL", f.server.url())
        .env("SEGURA_CLIENT_ID", f.server.client_id())
        .env("SEGURA_CLIENT_SECRET", "certainly-wrong");
    let out = f.run(cmd, &["sessions", "list"]);
    out.code(4);
    assert!(
        out.stderr.contains("Client authentication failed"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("certainly-wrong"));
}

#[test]
fn not_found_exits_5() {
    list_fails_with(
        Fault::NotFound,
        5,
        &["Resource sub not found", "check the URL"],
    );
}

#[test]
fn server_errors_exit_6() {
    list_fails_with(Fault::InternalError, 6, &["Unexpected error.", "support"]);
    list_fails_with(Fault::BadGateway, 6, &["502"]);
    list_fails_with(Fault::ErrorIn200, 6, &["Unexpected error."]);
}

#[test]
fn network_and_timeouts_exit_7() {
    list_fails_with(Fault::GatewayTimeout, 7, &["timing out"]);
    let out = list_fails_with(Fault::Stall, 7, &["read timeout"]);
    assert!(out.stdout.is_empty());
    // Nothing listens on a port that was just closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let f = Fixture::new(1);
    let mut cmd = f.cmd();
    cmd.env("SEGURA_URL", format!("http://127.0.0.1:{port}"));
    let out = f.run(cmd, &["sessions", "list", "--retries", "0"]);
    out.code(7);
    assert!(
        out.stderr.contains("unreachable") || out.stderr.contains("reach"),
        "{}",
        out.stderr
    );
}

#[test]
fn invalid_or_truncated_responses_exit_8_after_the_complete_sessions() {
    list_fails_with(Fault::NotJson, 8, &[]);
    let out = list_fails_with(Fault::TruncateAfter(10), 8, &["incomplete: 10 sessions"]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 10);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(*l, generated(i as u64));
    }
    // A reset connection is a failure too, after the sessions that were complete.
    let f = failing(Fault::ResetAfter(7));
    let out = f.segura(&["sessions", "list", "-o", "ndjson", "--retries", "0"]);
    assert!(out.code == 7 || out.code == 8, "{out:?}");
    assert!(out.stdout.lines().count() <= 7);
    assert!(out.stdout.is_empty() || out.stdout.ends_with('\n'));
    assert!(
        out.stderr.contains("incomplete") || out.stdout.is_empty(),
        "{}",
        out.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    let f = Fixture::new(1);
    for args in [
        &["sessions", "list", "--bogus"][..],
        &["sessions", "list", "--since", "last tuesday"],
        &["sessions", "list", "--min-duration", "ten"],
        &["sessions", "frobnicate"],
        &["sessions", "stats", "--by", "colour"],
        &["sessions", "list", "--client-secret", "x"],
    ] {
        let out = f.segura(args);
        out.code(2);
        assert!(out.stderr.contains("error:"), "{}", out.stderr);
    }
    assert_eq!(f.server.stats().requests, 0);
}

#[test]
fn retries_recover_from_a_transient_failure() {
    let f = Fixture::new(12);
    f.server
        .push_faults(1, FaultTarget::List, Fault::ServiceUnavailable);
    let out = f.segura(&["sessions", "list", "-o", "ndjson", "--retries", "2"]);
    assert_eq!(out.json_lines().len(), 12);
    assert_eq!(f.server.stats().list_requests, 2);
}
