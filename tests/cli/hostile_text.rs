//! Hostile text: a server (or a local value) whose text would drive the terminal, and a
//! server that quotes the client's secrets back. Every run is checked by
//! [`Attack::run`]: no raw control byte and no known secret on stdout or stderr. Each
//! test also checks the exit code and that the payload is visible, escaped.

use std::sync::atomic::{AtomicUsize, Ordering};

use segura_hostile::{error_body, json_string, list_body, Reply, Request, ACCESS_TOKEN};

use crate::adversary::{assert_clean, run_bounded, token_then, Attack, CLIENT_SECRET};

/// Terminal attacks, and how each must appear on stderr.
const PAYLOADS: [(&str, &str); 7] = [
    // OSC 0: set the window title.
    ("\u{1b}]0;pwned\u{7}", "\\u{1b}]0;pwned\\u{7}"),
    // OSC 52: write the clipboard.
    (
        "\u{1b}]52;c;Y3VybCBldmlsfHNo\u{7}",
        "\\u{1b}]52;c;Y3VybCBldmlsfHNo\\u{7}",
    ),
    // OSC 8: a hyperlink hiding its target.
    (
        "\u{1b}]8;;https://evil.example/\u{1b}\\docs\u{1b}]8;;\u{1b}\\",
        "\\u{1b}]8;;https://evil.example/\\u{1b}\\docs\\u{1b}]8;;\\u{1b}\\",
    ),
    // Clear the screen.
    ("\u{1b}[2J", "\\u{1b}[2J"),
    // Overwrite the real error line.
    ("\rerror: all good\u{1b}[K", "\\rerror: all good\\u{1b}[K"),
    // C1 CSI.
    ("\u{9b}31mred", "\\u{9b}31mred"),
    // Right-to-left override.
    ("\u{202e}txt.exe", "\\u{202e}txt.exe"),
];

/// The server's message around a payload (text before it, so that trimming the message
/// keeps a leading carriage return).
fn message(payload: &str) -> String {
    format!("refused{payload}")
}

#[track_caller]
fn shows(stderr: &str, escaped: &str) {
    let want = format!("refused{escaped}");
    assert!(stderr.contains(&want), "{want:?} not in stderr:\n{stderr}");
    assert!(
        !stderr.lines().any(|l| l.starts_with("error: all good")),
        "{stderr}"
    );
}

/// Runs `sessions list` against a server whose list answer is `reply(message)`, for
/// every payload, and checks the exit code and the escaped text.
fn list_attack(reply: fn(&str) -> Reply, code: i32) {
    for (payload, escaped) in PAYLOADS {
        let m = message(payload);
        let a = Attack::new(token_then(move |_| reply(&m)));
        let o = a.run(&["sessions", "list", "-o", "ndjson"]);
        o.code(code);
        shows(&o.stderr, escaped);
    }
}

#[test]
fn an_envelope_message_in_an_error_status_is_escaped() {
    list_attack(|m| Reply::json(400, error_body(400, m)), 6);
}

#[test]
fn an_envelope_message_inside_http_200_is_escaped() {
    list_attack(|m| Reply::json(200, error_body(500, m)), 6);
}

#[test]
fn a_gateway_json_message_is_escaped() {
    list_attack(
        |m| Reply::json(502, format!(r#"{{"message":{}}}"#, json_string(m))),
        6,
    );
}

#[test]
fn a_plain_text_4xx_body_is_escaped() {
    list_attack(|m| Reply::text(418, "text/plain", m), 6);
}

#[test]
fn an_html_title_is_escaped() {
    list_attack(
        |m| {
            Reply::text(
                502,
                "text/html",
                format!("<html><head><title>{m}</title></head><body>x</body></html>"),
            )
        },
        6,
    );
}

#[test]
fn a_token_error_description_is_escaped() {
    for (payload, escaped) in PAYLOADS {
        let m = message(payload);
        let a = Attack::new(move |_: &Request| {
            Reply::json(
                401,
                format!(
                    r#"{{"error":"invalid_client","error_description":{}}}"#,
                    json_string(&m)
                ),
            )
        });
        let o = a.run(&["sessions", "list"]);
        o.code(4);
        shows(&o.stderr, escaped);
    }
}

#[test]
fn watch_warnings_are_escaped() {
    for (payload, escaped) in PAYLOADS {
        let m = message(payload);
        let polls = AtomicUsize::new(0);
        // A transient failure (a warning, then a new poll), then a refusal that ends it.
        let a = Attack::new(token_then(move |_| {
            if polls.fetch_add(1, Ordering::SeqCst) == 0 {
                Reply::json(500, error_body(500, &m))
            } else {
                Reply::json(403, error_body(403, "denied"))
            }
        }));
        let o = a.run(&["sessions", "watch", "--interval", "1s", "-o", "ndjson"]);
        o.code(4);
        let warning = o
            .stderr
            .lines()
            // The first poll's failure, not the advice about the short interval.
            .find(|l| l.starts_with("warning: ") && !l.contains("--interval"))
            .unwrap_or_else(|| panic!("no warning in\n{}", o.stderr));
        shows(warning, escaped);
    }
}

#[test]
fn debug_logs_escape_the_server_text() {
    for (payload, escaped) in PAYLOADS {
        let m = message(payload);
        let a = Attack::new(token_then(move |_| Reply::json(400, error_body(400, &m))));
        let o = a.run(&["sessions", "list", "-vv"]);
        o.code(6);
        shows(&o.stderr, escaped);
        assert!(o.stderr.contains("giving up"), "{}", o.stderr);
    }
}

#[test]
fn a_profile_name_with_control_characters_is_escaped_in_the_hint() {
    let a = Attack::new(|_: &Request| Reply::json(500, ""));
    std::fs::write(a.path("segura.toml"), "[profiles.default]\n").unwrap();
    let o = a.run(&["sessions", "list", "--profile", "\u{1b}]0;pwned\u{7}"]);
    o.code(3);
    assert!(o.stderr.contains("\\u{1b}]0;pwned\\u{7}"), "{}", o.stderr);
    assert_eq!(a.server.requests().len(), 0);
}

#[test]
fn a_toml_key_with_control_characters_is_escaped() {
    let a = Attack::new(|_: &Request| Reply::json(500, ""));
    std::fs::write(
        a.path("segura.toml"),
        "[profiles.default]\n\"\\u001b]0;pwned\\u0007\" = 1\n",
    )
    .unwrap();
    let o = a.run(&["sessions", "list"]);
    o.code(3);
    assert!(o.stderr.contains("\\u{1b}]0;pwned\\u{7}"), "{}", o.stderr);
}

#[test]
fn a_url_with_control_characters_is_escaped_in_the_plain_http_warning() {
    let a = Attack::new(|r: &Request| {
        if r.path().ends_with(segura_hostile::TOKEN_PATH) {
            Reply::ok_token()
        } else {
            Reply::json(200, list_body(1))
        }
    });
    // 127.1 is loopback, but not spelled as such: the warning is printed.
    let port = a.server.addr().port();
    let mut cmd = a.cmd();
    cmd.env(
        "SEGURA_URL",
        format!("http://127.1:{port}/\u{1b}]0;pwned\u{7}"),
    )
    .args(["sessions", "list", "-o", "ndjson", "--retries", "0"]);
    let o = a.run_cmd(cmd);
    o.code(0);
    let warning = o
        .stderr
        .lines()
        .find(|l| l.starts_with("warning: "))
        .unwrap_or_else(|| panic!("no warning in\n{}", o.stderr));
    assert!(warning.contains("\\u{1b}]0;pwned\\u{7}"), "{warning}");
}

#[test]
fn a_token_endpoint_quoting_the_form_never_shows_the_secret() {
    // The harness's secret, and one that form encoding changes.
    let special = "p@ss w/rd+S3cr3t!";
    let encoded = "p%40ss+w%2Frd%2BS3cr3t%21";
    for (secret, json) in [(CLIENT_SECRET, true), (special, true), (special, false)] {
        let mut a = Attack::new(move |r: &Request| {
            let body = format!("could not parse the request body: {}", r.body_text());
            if json {
                Reply::json(
                    400,
                    format!(
                        r#"{{"error":"invalid_request","error_description":{}}}"#,
                        json_string(&body)
                    ),
                )
            } else {
                Reply::text(400, "text/plain", body)
            }
        });
        a.secret(special).secret(encoded);
        let mut cmd = a.cmd();
        cmd.env("SEGURA_CLIENT_SECRET", secret)
            .args(["sessions", "list", "--retries", "0"]);
        let o = a.run_cmd(cmd);
        assert_ne!(o.code, 0);
        assert!(
            o.stderr.contains("client_secret=[redacted]"),
            "{}",
            o.stderr
        );
        assert!(
            o.stderr.contains("grant_type=client_credentials"),
            "{}",
            o.stderr
        );
    }
}

/// A server that grants a token, then refuses the list quoting the `Authorization`
/// header, with `status` (and in the envelope's code).
fn echo_authorization(status: u16, code: u16) -> impl Fn(&Request) -> Reply + Send + Sync {
    token_then(move |r: &Request| {
        let header = r.header("authorization").unwrap_or("none").to_owned();
        Reply::json(
            status,
            error_body(code, &format!("denied for Authorization: {header}")),
        )
    })
}

#[test]
fn an_api_quoting_the_authorization_header_never_shows_the_token() {
    for (status, code, exit) in [(400, 400, 6), (403, 403, 4), (200, 500, 6)] {
        let a = Attack::new(echo_authorization(status, code));
        let o = a.run(&["sessions", "list", "-vv"]);
        o.code(exit);
        assert!(
            o.stderr.contains("Authorization: Bearer [redacted]"),
            "{}",
            o.stderr
        );
        assert!(!o.stderr.contains(ACCESS_TOKEN));
        let o = a.run(&["sessions", "get", "1"]);
        o.code(exit);
        assert!(o.stderr.contains("Bearer [redacted]"), "{}", o.stderr);
    }
}

#[test]
fn segura_token_under_vv_is_never_shown() {
    let token = "env-bearer-Tok3n-9f8e7d";
    let mut a = Attack::new(echo_authorization(400, 400));
    a.secret(token);
    let mut cmd = a.cmd();
    cmd.env_remove("SEGURA_CLIENT_ID")
        .env_remove("SEGURA_CLIENT_SECRET")
        .env("SEGURA_TOKEN", token)
        .args(["sessions", "list", "-vv", "--retries", "0"]);
    let o = a.run_cmd(cmd);
    o.code(6);
    assert!(o.stderr.contains("Bearer [redacted]"), "{}", o.stderr);
    assert!(o.stderr.contains("DEBUG"), "{}", o.stderr);
}

#[test]
fn config_show_redacts_the_password_of_the_url() {
    let password = "Url-Passw0rd-31ab";
    let mut a = Attack::new(|_: &Request| Reply::json(500, ""));
    a.secret(password);
    for format in ["table", "json", "csv"] {
        let mut cmd = a.cmd();
        cmd.env(
            "SEGURA_URL",
            format!("https://operator:{password}@pam.example"),
        )
        .args(["config", "show", "-o", format]);
        let o = a.run_cmd(cmd);
        o.code(0);
        assert!(
            o.stdout.contains("https://operator:[redacted]@pam.example"),
            "{}",
            o.stdout
        );
    }
    // The client refuses such a URL, and no diagnostic on the way shows the password.
    let mut cmd = a.cmd();
    cmd.env(
        "SEGURA_URL",
        format!("http://operator:{password}@pam.example"),
    )
    .args(["sessions", "list", "-vv"]);
    let o = run_bounded(cmd, std::time::Duration::from_secs(60));
    assert_clean(&o, &a.secrets);
    o.code(3);
    assert!(
        o.stderr.contains("must not contain credentials"),
        "{}",
        o.stderr
    );
}

#[test]
fn an_argument_quoted_in_a_usage_error_is_escaped() {
    let a = Attack::new(|_: &Request| Reply::json(500, ""));
    let o = a.run(&["sessions", "get", "\u{1b}]0;pwned\u{7}"]);
    o.code(2);
    assert!(o.stderr.contains("\\u{1b}]0;pwned\\u{7}"), "{}", o.stderr);
    assert!(o.stderr.starts_with("error: "), "{}", o.stderr);
    assert_eq!(a.server.requests().len(), 0);
}
