//! The documented variants of the API (issue 18), each served by the mock: the nested
//! list envelope, both path families of the list and get, both token URLs and the
//! Basic-only token endpoint, the older drop, A2A v2's request ids, rate limits and
//! ETags.

use std::time::{Duration, Instant};

use segura_mock::generator::Generator;
use segura_mock::{Fault, FaultTarget, MockConfig, PathFamilies, TokenAuth, TokenPaths};

use crate::support::Fixture;

fn config() -> MockConfig {
    MockConfig::default().sessions(12).seed(7)
}

/// The ids of NDJSON output.
fn ids(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            v["id"].to_string()
        })
        .collect()
}

#[test]
fn the_nested_envelope_lists_like_the_flat_one_from_the_server_and_a_file() {
    let flat = Fixture::with(config());
    let nested = Fixture::with(config().nested_envelope(true));
    let want = ids(flat.segura(&["sessions", "list", "-o", "ndjson"]).ok());
    assert_eq!(want.len(), 12);
    let got = ids(nested.segura(&["sessions", "list", "-o", "ndjson"]).ok());
    assert_eq!(got, want);

    // The same body saved to a file and read with --input.
    let body = nested.home.path().join("nested.json");
    let raw = ureq_get(&nested);
    assert!(raw.contains("\"remote_sessions\":[{\"code\":200"), "{raw}");
    std::fs::write(&body, raw).expect("write body");
    let from_file = nested.run(
        nested.bare(),
        &[
            "sessions",
            "list",
            "--input",
            body.to_str().unwrap_or(""),
            "-o",
            "ndjson",
        ],
    );
    assert_eq!(ids(from_file.ok()), want);
}

/// The raw list body, fetched with an independent HTTP client (curl).
fn ureq_get(f: &Fixture) -> String {
    let bearer = f.curl_token();
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "-H",
            &format!("Authorization: Bearer {bearer}"),
            &format!(
                "{}/api/session/remotesessions",
                f.server.url().trim_end_matches('/')
            ),
        ])
        .output()
        .expect("curl runs");
    String::from_utf8(out.stdout).expect("UTF-8 body")
}

#[test]
fn the_other_path_family_is_tried_once_on_404_and_said_under_v() {
    let f = Fixture::with(config().path_families(PathFamilies::Pam));
    let out = f.segura(&["sessions", "list", "-o", "ndjson", "-v"]);
    assert_eq!(ids(out.ok()).len(), 12);
    assert!(
        out.stderr.contains("answers under /api/pam/session/"),
        "{}",
        out.stderr
    );
    // One refused request under /api/session/, then the list.
    assert_eq!(f.server.stats().no_route, 1);
    assert_eq!(f.server.stats().list_requests, 1);
    let id = Generator::new(7).id(3).to_string();
    let got = f.segura(&["sessions", "get", &id, "-o", "ndjson"]);
    assert_eq!(ids(got.ok()), [format!("\"{id}\"")]);
    assert_eq!(f.server.stats().no_route, 2);

    // Pinned by the profile: straight there, never the other.
    f.write_config(
        "[profiles.default]\napi_prefix = \"/api/pam/session\"\n",
        0o600,
    );
    f.segura(&["sessions", "list", "-o", "ndjson"]).ok();
    assert_eq!(f.server.stats().no_route, 2);
    // Pinned to the family the appliance lacks: its 404 is the answer.
    f.write_config("[profiles.default]\napi_prefix = \"session\"\n", 0o600);
    let refused = f.segura(&["sessions", "list"]);
    assert_ne!(refused.code, 0);
    assert_eq!(f.server.stats().no_route, 3);
    f.write_config("[profiles.default]\napi_prefix = \"/api/v9\"\n", 0o600);
    f.segura(&["sessions", "list"]).code(3);
}

#[test]
fn both_token_urls_a_full_token_url_and_a_basic_only_endpoint() {
    let api = Fixture::with(config().token_paths(TokenPaths::Api));
    let out = api.segura(&["sessions", "list", "-o", "ndjson", "-v"]);
    assert_eq!(ids(out.ok()).len(), 12);
    assert_eq!(api.server.stats().tokens_issued, 1);
    assert_eq!(api.server.stats().no_route, 1, "/iso/oauth2/token first");
    assert!(out.stderr.contains("/api/oauth2/token"), "{}", out.stderr);

    let url = format!(
        "{}/api/oauth2/token",
        api.server.url().trim_end_matches('/')
    );
    api.write_config(
        &format!("[profiles.default]\ntoken_url = \"{url}\"\n"),
        0o600,
    );
    api.segura(&["sessions", "list"]).ok();
    assert_eq!(api.server.stats().no_route, 1, "the full URL only");
    api.write_config("[profiles.default]\ntoken_url = \"iso\"\n", 0o600);
    assert_ne!(api.segura(&["sessions", "list"]).code, 0);

    let basic = Fixture::with(config().token_auth(TokenAuth::BasicOnly));
    let out = basic.segura(&["sessions", "list", "-o", "ndjson", "-v"]);
    assert_eq!(ids(out.ok()).len(), 12);
    assert_eq!(
        basic.server.stats().token_rejections,
        1,
        "the body form, once"
    );
    assert_eq!(basic.server.stats().tokens_issued, 1);
    assert!(
        out.stderr.contains("trying HTTP Basic once"),
        "{}",
        out.stderr
    );
    basic.write_config("[profiles.default]\nclient_auth = \"basic\"\n", 0o600);
    basic.segura(&["sessions", "list"]).ok();
    assert_eq!(
        basic.server.stats().token_rejections,
        1,
        "Basic straight away"
    );

    // A wrong secret is refused twice (body, then Basic), and that is all.
    basic.write_config("", 0o600);
    let mut cmd = basic.cmd();
    cmd.env("SEGURA_CLIENT_SECRET", "wrong-secret-value");
    assert_ne!(basic.run(cmd, &["sessions", "list"]).code, 0);
    assert_eq!(basic.server.stats().token_rejections, 3);
}

#[test]
fn the_older_drop_is_tried_once_when_the_current_path_answers_404() {
    let f = Fixture::with(config().sessions(50).legacy_drop_only(true));
    let g = Generator::new(7);
    let index = (0..50).find(|i| g.is_open(*i)).expect("an open session");
    let hash = g.session_hash(index);
    let out = f.segura(&["sessions", "drop", &hash, "--yes", "-v"]);
    assert!(
        out.ok().contains("Sessão interrompida com sucesso"),
        "{}",
        out.stdout
    );
    let stats = f.server.stats();
    assert_eq!((stats.no_route, stats.sessions_dropped), (1, 1));

    // Any other failure of the current path is never followed by a second DELETE.
    let g2 = Fixture::with(config().sessions(50));
    g2.server
        .push_faults(1, FaultTarget::Drop, Fault::ServiceUnavailable);
    let out = g2.segura(&["sessions", "drop", &hash, "--yes"]);
    assert_ne!(out.code, 0);
    assert_eq!(g2.server.stats().drop_requests, 1);
    assert_eq!(g2.server.stats().sessions_dropped, 0);
}

#[test]
fn a_rate_limit_reset_is_waited_for_and_request_ids_are_quoted() {
    let f = Fixture::with(config().request_ids(true));
    f.server
        .push_faults(1, FaultTarget::List, Fault::RateLimited { reset_in: 1 });
    let started = Instant::now();
    let out = f.segura(&["sessions", "list", "-o", "ndjson", "-v"]);
    assert_eq!(ids(out.ok()).len(), 12);
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(f.server.stats().list_requests, 2);
    assert!(out.stderr.contains("request_id=\"req-"), "{}", out.stderr);

    f.server.push_faults(1, FaultTarget::List, Fault::Forbidden);
    let out = f.segura(&["sessions", "list"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("X-Request-Id: req-"), "{}", out.stderr);
}

#[test]
fn a_wrong_url_prefix_asks_each_token_url_once_and_no_other_path() {
    let f = Fixture::with(config().token_paths(TokenPaths::Both));
    let wrong = format!("{}/wrong-prefix", f.server.url().trim_end_matches('/'));
    let mut cmd = f.cmd();
    cmd.env("SEGURA_URL", &wrong);
    let out = f.run(cmd, &["sessions", "list", "-o", "ndjson", "--retries", "0"]);
    assert_ne!(out.code, 0, "{}", out.stderr);
    // Both token URLs answered 404, once each: the list's path families, the older
    // drop and the web session's older path are not reasons to ask them again.
    let stats = f.server.stats();
    assert_eq!((stats.token_requests, stats.no_route), (0, 2), "{stats:?}");
    let mut cmd = f.cmd();
    cmd.env("SEGURA_URL", &wrong);
    let out = f.run(
        cmd,
        &[
            "sessions",
            "drop",
            "--no-lookup",
            "--yes",
            "0123456789abcdef0123456789abcdef01234567",
        ],
    );
    assert_ne!(out.code, 0);
    assert_eq!(f.server.stats().no_route, 4, "{:?}", f.server.stats());
    // With the right URL, one token serves the 404 of one family and the other's list.
    let pam = Fixture::with(config().path_families(PathFamilies::Pam));
    pam.segura(&["sessions", "list", "-o", "ndjson"]).ok();
    let stats = pam.server.stats();
    assert_eq!(
        (stats.token_requests, stats.list_requests),
        (1, 1),
        "{stats:?}"
    );
}

#[test]
fn watch_sends_the_etag_back_and_a_304_changes_nothing() {
    let f = Fixture::with(config().sessions(5).etags(true));
    let mut cmd = f.cmd();
    cmd.args(["sessions", "watch", "--interval", "1s", "-o", "ndjson"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let started = Instant::now();
    while f.server.stats().not_modified < 2 && started.elapsed().as_secs() < 20 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    let stats = f.server.stats();
    assert!(stats.not_modified >= 2, "{stats:?}");
    assert_eq!(stats.sessions_streamed, 5, "the list was sent once");
    let text = String::from_utf8_lossy(&out.stdout);
    // Each session once, and no "vanished" event for an unchanged list.
    assert_eq!(text.lines().count(), 5, "{text}");
}

// Hostile answers to the variants.

use crate::adversary::{token_then, Attack};
use segura_hostile::{head, session_json, Reply};

/// An answer with these extra headers and a JSON body.
fn with_headers(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
    let len = body.len().to_string();
    let mut all = vec![
        ("Content-Type", "application/json"),
        ("Content-Length", len.as_str()),
        ("Connection", "close"),
    ];
    all.extend_from_slice(headers);
    let mut bytes = head(status, &all);
    bytes.extend_from_slice(body.as_bytes());
    Reply::raw(bytes)
}

#[test]
fn a_request_id_with_control_characters_prints_escaped() {
    // C1 CSI and a right-to-left override: bytes HTTP lets through as obs-text.
    let a = Attack::new(token_then(|_| {
        with_headers(
            403,
            &[("X-Request-Id", "req-\u{9b}31m-\u{202e}evil")],
            r#"{"code":403,"response":{"status":403,"message":"You are not authorized to access this resource.","error":true}}"#,
        )
    }));
    let out = a.run(&["sessions", "list", "-v"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("X-Request-Id: req-"), "{}", out.stderr);
    assert!(out.stderr.contains("evil"), "{}", out.stderr);
}

#[test]
fn a_huge_retry_after_or_reset_gives_up_within_the_budget() {
    for header in [
        ("Retry-After", "1000000000"),
        ("Retry-After", "1e9"),
        ("X-RateLimit-Reset", "99999999999999"),
    ] {
        let a = Attack::new(token_then(move |_| {
            with_headers(429, &[header], r#"{"message":"Too Many Requests"}"#)
        }));
        let started = Instant::now();
        // The default retry budget, not --retries 0.
        let out = a.run_cmd({
            let mut cmd = a.cmd();
            cmd.args(["sessions", "list"]);
            cmd
        });
        assert_ne!(out.code, 0, "{header:?}");
        assert!(out.code != -1, "{header:?}: hung");
        // "1e9" is no number: the ordinary backoff (0.5 + 1 + 2 s) applies.
        assert!(started.elapsed() < Duration::from_secs(15), "{header:?}");
    }
}

#[test]
fn a_304_to_a_list_that_sent_no_etag_is_an_error() {
    let a = Attack::new(token_then(|_| {
        Reply::raw(head(
            304,
            &[("Content-Length", "0"), ("Connection", "close")],
        ))
    }));
    let out = a.run(&["sessions", "list"]);
    out.code(8);
    assert!(out.stderr.contains("304 Not Modified"), "{}", out.stderr);
}

#[test]
fn an_envelope_nested_deeper_than_documented_is_refused_after_its_sessions() {
    let body = format!(
        r#"{{"code":200,"remote_sessions":[{{"code":200,"remote_sessions":[{},{{"code":200,"remote_sessions":[{}]}}]}}]}}"#,
        session_json(1),
        session_json(2)
    );
    let a = Attack::new(token_then(move |_| Reply::json(200, &body)));
    let out = a.run(&["sessions", "list", "-o", "ndjson"]);
    out.code(8);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("nested deeper than documented"),
        "{}",
        out.stderr
    );
}
