//! `segura sessions open`: web proxy sessions against the real mock (both paths, its
//! checks of the request, a refused permission) and against a hostile server (escape
//! sequences and other schemes in the URL), with the URL and the token kept off stderr
//! and the token off stdout unless asked for.

use segura_hostile::{Reply, Request};
use segura_mock::{Fault, FaultTarget, MockConfig};

use crate::adversary::{token_then, Attack};
use crate::support::Fixture;

const OPEN: [&str; 10] = [
    "sessions",
    "open",
    "--user",
    "alice",
    "--credential",
    "root",
    "--device",
    "10.0.0.5",
    "--protocol",
    "ssh",
];

fn open_with(extra: &[&str]) -> Vec<String> {
    OPEN.iter().chain(extra).map(|s| (*s).to_owned()).collect()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn the_url_alone_on_stdout_and_the_token_only_when_asked() {
    let f = Fixture::with(MockConfig::default().sessions(3));
    let out = f.segura(&OPEN);
    let stdout = out.ok();
    let (url, token) = f.server.last_web_session().expect("a session was created");
    // The URL alone, on one line: what `xdg-open "$(...)"` needs.
    assert_eq!(stdout, format!("{url}\n"));
    assert!(url.contains("/modulos/auth?_sr="), "{url}");
    assert!(!stdout.contains(&token));
    assert!(
        !out.stderr.contains(&url) && !out.stderr.contains(&token),
        "{}",
        out.stderr
    );
    let stats = f.server.stats();
    assert_eq!(
        (stats.web_session_requests, stats.web_sessions_created),
        (1, 1)
    );

    // The optional values reach the server under the API's keys (it checks their types).
    let all = open_with(&[
        "--remote-device",
        "dc01.corp.local",
        "--remote-addr",
        "192.0.2.7",
        "--port",
        "2222",
        "--remote-app",
        "4",
        "--screen",
        "1280x720",
        "-o",
        "json",
        "--show-token",
    ]);
    let out = f.segura(&args(&all));
    let shown: serde_json::Value = serde_json::from_str(out.ok()).expect("JSON");
    let (url, token) = f.server.last_web_session().expect("a second session");
    assert_eq!(shown["url"], url.as_str());
    assert_eq!(shown["token"], token.as_str());
    let with_token = f.segura(&args(&open_with(&["--show-token"])));
    let (url, token) = f.server.last_web_session().expect("a third session");
    assert_eq!(with_token.ok(), format!("{url}\n{token}\n"));
}

#[test]
fn with_vv_neither_the_url_nor_the_token_reaches_stderr_and_json_redacts_the_token() {
    let f = Fixture::with(MockConfig::default().sessions(3).request_ids(true));
    let out = f.segura(&args(&open_with(&["-vv", "-o", "ndjson"])));
    let stdout = out.ok();
    let (url, token) = f.server.last_web_session().expect("a session was created");
    let shown: serde_json::Value = serde_json::from_str(stdout).expect("JSON");
    assert_eq!(shown["url"], url.as_str());
    assert_eq!(shown["token"], "[redacted]");
    assert!(!stdout.contains(&token), "{stdout}");
    // The -vv log was written (the request is there), without either secret.
    assert!(
        out.stderr.contains("/api/pam/remote/session"),
        "{}",
        out.stderr
    );
    let opaque = url.rsplit('=').next().unwrap_or_default();
    for secret in [url.as_str(), token.as_str(), opaque] {
        assert!(!out.stderr.contains(secret), "{secret} in {}", out.stderr);
    }
}

#[test]
fn the_older_path_is_tried_after_a_404_and_its_message_spelling_is_read() {
    let f = Fixture::with(
        MockConfig::default()
            .sessions(3)
            .web_session_legacy_only(true),
    );
    let out = f.segura(&args(&open_with(&["-v"])));
    let (url, _) = f.server.last_web_session().expect("a session was created");
    assert_eq!(out.ok(), format!("{url}\n"));
    let stats = f.server.stats();
    assert_eq!(stats.web_sessions_created, 1);
    // The current path answered the gateway's 404, then the older one answered.
    assert_eq!(stats.no_route, 1);
    assert_eq!(stats.web_session_requests, 1);
    assert!(out.stderr.contains("/api/remote/session"), "{}", out.stderr);
}

#[test]
fn a_missing_value_is_a_usage_error_and_the_server_refuses_one_with_its_envelope() {
    let f = Fixture::with(MockConfig::default().sessions(3));
    let without_device: Vec<&str> = OPEN
        .iter()
        .copied()
        .filter(|a| *a != "--device" && *a != "10.0.0.5")
        .collect();
    let out = f.segura(&without_device);
    out.code(2);
    assert!(out.stderr.contains("--device"), "{}", out.stderr);
    let blank = f.segura(&args(&open_with(&["--user", " "])));
    blank.code(2);
    let screen = f.segura(&args(&open_with(&["--screen", "big"])));
    screen.code(2);
    assert!(screen.stderr.contains("WIDTHxHEIGHT"), "{}", screen.stderr);
    assert_eq!(f.server.stats().web_session_requests, 0, "nothing was sent");

    // The mock itself refuses a body without a required key, with the vendor's
    // envelope (posted with curl, which checks nothing).
    let token = f.curl_token();
    let answer = std::process::Command::new("curl")
        .args([
            "-sS",
            "-H",
            &format!("Authorization: Bearer {token}"),
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"user":"alice","credential":"root","protocol":"ssh"}"#,
            "-w",
            "\n%{http_code}",
            &format!(
                "{}/api/pam/remote/session",
                f.server.url().trim_end_matches('/')
            ),
        ])
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&answer.stdout);
    let (body, status) = text.rsplit_once('\n').unwrap_or_default();
    assert_eq!(status, "400", "{text}");
    let envelope: serde_json::Value = serde_json::from_str(body).expect("an envelope");
    assert_eq!(envelope["response"]["error"], true);
    assert_eq!(
        envelope["response"]["message"],
        "The field device is required"
    );
    assert_eq!(f.server.stats().web_sessions_created, 0);
}

#[test]
fn a_refused_permission_names_it_and_is_not_sent_twice() {
    let f = Fixture::with(
        MockConfig::default()
            .sessions(3)
            .fault(FaultTarget::WebSession, Fault::Forbidden),
    );
    let out = f.segura(&OPEN);
    out.code(4);
    assert!(out.stderr.contains("Web Proxy Session"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    // A 503 is not retried either: a second answer would be a second live session.
    let f = Fixture::with(
        MockConfig::default()
            .sessions(3)
            .fault(FaultTarget::WebSession, Fault::ServiceUnavailable),
    );
    let out = f.segura(&OPEN);
    out.code(6);
    assert_eq!(f.server.stats().web_session_requests, 1);
}

/// A hostile server answering the web session call with `session_url`.
fn serving(url: &'static str) -> Attack {
    Attack::new(token_then(move |r: &Request| {
        if r.path() == "/api/pam/remote/session" {
            let body = format!(
                "{{\"code\":200,\"response\":{{\"status\":200,\"message\":\"Session created successfully\"}},\"session\":{{\"session_url\":{},\"token\":\"tok-0123456789\"}}}}",
                segura_hostile::json_string(url)
            );
            Reply::json(200, body)
        } else {
            Reply::json(404, r#"{"message":"no Route matched with those values"}"#)
        }
    }))
}

#[test]
fn escape_sequences_in_the_url_are_percent_encoded_and_the_token_stays_hidden() {
    let mut a = serving(
        "https://pam.example/modulos/auth?_sr=ab\u{1b}]52;c;ZXZpbA==\u{7}cd\u{1b}[2J\u{9b}31m\u{202e}x",
    );
    a.secret("tok-0123456789");
    // `Attack::run` checks that no raw control character and no secret is printed.
    let out = a.run(&OPEN);
    let stdout = out.ok();
    assert!(
        stdout.starts_with("https://pam.example/modulos/auth?_sr=ab%1B]52;c;ZXZpbA==%07cd%1B[2J"),
        "{stdout:?}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    assert!(
        stdout.trim_end().chars().all(|c| c.is_ascii_graphic()),
        "{stdout:?}"
    );
}

#[test]
fn a_url_of_another_scheme_is_refused_with_a_clear_error() {
    for url in [
        "javascript:alert(document.cookie)",
        "file:///etc/passwd",
        "ftp://pam.example/modulos/auth?_sr=x",
        "/modulos/auth?_sr=relative",
    ] {
        let mut a = serving(url);
        a.secret("tok-0123456789");
        let out = a.run(&OPEN);
        out.code(8);
        assert_eq!(out.stdout, "", "{url}");
        assert!(
            out.stderr.contains("web proxy session URL that is refused"),
            "{url}: {}",
            out.stderr
        );
        // The refused URL is a credential all the same: not quoted.
        let opaque = url.rsplit(['=', '/', ':']).next().unwrap_or_default();
        assert!(
            opaque.len() < 4 || !out.stderr.contains(url),
            "{url}: {}",
            out.stderr
        );
    }
}
