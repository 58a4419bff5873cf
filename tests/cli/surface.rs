//! The documented variants of the API (issue 18), each served by the mock: the nested
//! list envelope, both path families of the list and get, both token URLs and the
//! Basic-only token endpoint, the older drop, A2A v2's request ids, rate limits and
//! ETags.

use segura_mock::MockConfig;

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
    let token = std::process::Command::new("curl")
        .args([
            "-sS",
            "-d",
            &format!(
                "grant_type=client_credentials&client_id={}&client_secret={}",
                f.server.client_id(),
                f.server.client_secret()
            ),
            &format!("{}/iso/oauth2/token", f.server.url().trim_end_matches('/')),
        ])
        .output()
        .expect("curl runs");
    let answer: serde_json::Value =
        serde_json::from_slice(&token.stdout).expect("token answer is JSON");
    let bearer = answer["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
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
