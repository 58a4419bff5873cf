//! Configuration: precedence of flags, environment and profiles, the config file's
//! permissions, `config show`, and each way of authenticating.

use serde_json::Value;

use crate::support::{s, Fixture};

/// `config show -o json` as a map of setting to (value, source).
fn show(f: &Fixture, cmd: std::process::Command, args: &[&str]) -> Vec<(String, String, String)> {
    let mut full = vec!["config", "show", "-o", "json"];
    full.extend_from_slice(args);
    let out = f.run(cmd, &full);
    let v: Value = serde_json::from_str(out.ok()).expect("JSON");
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["setting"].as_str().unwrap_or("").to_owned(),
                // Typed: flags are booleans, counts numbers, unset values null.
                match &r["value"] {
                    Value::String(s) => s.clone(),
                    Value::Null => "-".to_owned(),
                    other => other.to_string(),
                },
                r["source"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn get<'a>(rows: &'a [(String, String, String)], name: &str) -> (&'a str, &'a str) {
    rows.iter()
        .find(|r| r.0 == name)
        .map(|r| (r.1.as_str(), r.2.as_str()))
        .unwrap_or_else(|| panic!("no {name} in {rows:?}"))
}

fn profile_file(f: &Fixture) -> String {
    format!(
        "[profiles.default]\nurl = \"{url}\"\nclient_id = \"{id}\"\nclient_secret = \"{secret}\"\nretries = 0\n\n\
         [profiles.broken]\nurl = \"http://127.0.0.1:9\"\nclient_id = \"{id}\"\nclient_secret = \"wrong\"\nconnect_timeout = \"2s\"\n",
        url = f.server.url(),
        id = f.server.client_id(),
        secret = f.server.client_secret()
    )
}

#[test]
fn config_show_names_the_endpoint_variants_and_where_they_came_from() {
    let f = Fixture::new(1);
    let rows = show(&f, f.cmd(), &[]);
    assert_eq!(get(&rows, "api_prefix").0, "-");
    assert!(get(&rows, "api_prefix")
        .1
        .contains("/api/pam/session/ after a 404"));
    assert_eq!(get(&rows, "token_url").0, "-");
    assert!(get(&rows, "token_url")
        .1
        .contains("/api/oauth2/token after a 404"));
    assert_eq!(get(&rows, "client_auth").0, "body");
    assert!(get(&rows, "client_auth").1.starts_with("default"));

    let path = f.write_config(
        "[profiles.default]\napi_prefix = \"/api/pam/session\"\n\
         token_url = \"https://sso.example/oauth/token\"\nclient_auth = \"basic\"\n",
        0o600,
    );
    let from = format!("profile default in {}", s(&path));
    let rows = show(&f, f.cmd(), &[]);
    assert_eq!(
        get(&rows, "api_prefix"),
        ("/api/pam/session", from.as_str())
    );
    assert_eq!(
        get(&rows, "token_url"),
        ("https://sso.example/oauth/token", from.as_str())
    );
    assert_eq!(get(&rows, "client_auth"), ("basic", from.as_str()));
}

#[test]
fn a_profile_alone_is_enough_and_flags_beat_env_beat_profile() {
    let f = Fixture::new(5);
    let path = f.write_config(&profile_file(&f), 0o600);
    let p = s(&path).to_owned();

    // The default profile, with nothing in the environment.
    let out = f.run(f.bare(), &["sessions", "list", "-o", "ndjson"]);
    assert_eq!(out.json_lines().len(), 5);

    let rows = show(&f, f.bare(), &[]);
    assert_eq!(get(&rows, "config_file"), (p.as_str(), "env SEGURA_CONFIG"));
    assert_eq!(get(&rows, "url").0, f.server.url());
    assert_eq!(get(&rows, "url").1, format!("profile default in {p}"));
    assert_eq!(get(&rows, "client_secret").0, "[redacted]");
    assert_eq!(
        get(&rows, "retries"),
        ("0", format!("profile default in {p}").as_str())
    );
    assert_eq!(get(&rows, "connect_timeout").1, "default");

    // The environment beats the profile; the vendor's names are a fallback.
    let mut env = f.bare();
    env.env("SENHASEGURA_URL", "https://vendor.example")
        .env("SEGURA_PROFILE", "broken");
    let rows = show(&f, env, &[]);
    assert_eq!(
        get(&rows, "url"),
        ("https://vendor.example", "env SENHASEGURA_URL")
    );
    assert_eq!(get(&rows, "profile"), ("broken", "env SEGURA_PROFILE"));
    assert_eq!(
        get(&rows, "connect_timeout"),
        ("2s", format!("profile broken in {p}").as_str())
    );

    let mut env = f.bare();
    env.env("SEGURA_URL", "https://env.example")
        .env("SENHASEGURA_URL", "https://vendor.example");
    let rows = show(
        &f,
        env,
        &["--url", "https://flag.example", "--retries", "4"],
    );
    assert_eq!(get(&rows, "url"), ("https://flag.example", "flag --url"));
    assert_eq!(get(&rows, "retries"), ("4", "flag --retries"));

    // A flag's profile is used for real: its wrong secret is refused by the server.
    let out = f.run(
        f.bare(),
        &[
            "--profile",
            "broken",
            "--url",
            f.server.url(),
            "sessions",
            "list",
        ],
    );
    out.code(4);
    // And the environment's credentials beat the broken profile's.
    let out = f.segura(&["--profile", "broken", "sessions", "list", "-o", "ndjson"]);
    assert_eq!(out.json_lines().len(), 5);
}

#[test]
fn vendor_variable_names_work_as_fallbacks() {
    let f = Fixture::new(3);
    let mut cmd = f.bare();
    cmd.env("SENHASEGURA_URL", f.server.url())
        .env("SENHASEGURA_CLIENT_ID", f.server.client_id())
        .env("SENHASEGURA_CLIENT_SECRET", f.server.client_secret());
    let out = f.run(cmd, &["sessions", "list", "-o", "ndjson"]);
    assert_eq!(out.json_lines().len(), 3);
}

#[test]
fn secret_file_oauth1_and_a_refused_token() {
    let f = Fixture::new(3);
    let secret = f.home.path().join("client-secret");
    std::fs::write(&secret, format!("{}\n", f.server.client_secret())).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A secret file must be private, like a config file holding a secret.
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let mut cmd = f.bare();
    cmd.env("SEGURA_URL", f.server.url())
        .env("SEGURA_CLIENT_ID", f.server.client_id())
        .env("SEGURA_CLIENT_SECRET_FILE", &secret);
    assert_eq!(
        f.run(cmd, &["sessions", "list", "-o", "ndjson"])
            .json_lines()
            .len(),
        3
    );

    let o1 = f.server.oauth1_credentials().clone();
    let mut cmd = f.bare();
    cmd.env("SEGURA_URL", f.server.url())
        .env("SEGURA_CONSUMER_KEY", &o1.consumer_key)
        .env("SEGURA_CONSUMER_SECRET", &o1.consumer_secret)
        .env("SEGURA_TOKEN_KEY", &o1.token)
        .env("SEGURA_TOKEN_SECRET", &o1.token_secret);
    assert_eq!(
        f.run(cmd, &["sessions", "list", "-o", "ndjson"])
            .json_lines()
            .len(),
        3
    );
    assert!(f.server.stats().oauth1_verified >= 1);

    let mut cmd = f.bare();
    cmd.env("SEGURA_URL", f.server.url())
        .env("SEGURA_TOKEN", "not-a-token-the-server-knows")
        .env("SEGURA_CLIENT_ID", "ignored-because-a-token-is-set");
    let out = f.run(cmd, &["sessions", "list", "--retries", "0"]);
    out.code(4);
    assert!(
        !out.stderr.contains("not-a-token-the-server-knows"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_config_file_readable_by_others_with_a_secret_is_refused() {
    let f = Fixture::new(1);
    let path = f.write_config(&profile_file(&f), 0o644);
    let out = f.run(f.bare(), &["sessions", "list"]);
    out.code(3);
    assert!(
        out.stderr.contains("readable by other users"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("chmod 600 {}", s(&path))),
        "{}",
        out.stderr
    );
    assert_eq!(f.server.stats().requests, 0);
}

#[test]
fn missing_url_credentials_or_profile_are_configuration_errors() {
    let f = Fixture::new(1);
    let out = f.run(f.bare(), &["sessions", "list"]);
    out.code(3);
    assert!(out.stderr.contains("no URL"), "{}", out.stderr);
    let out = f.run(f.bare(), &["--url", f.server.url(), "sessions", "list"]);
    out.code(3);
    assert!(out.stderr.contains("SEGURA_CLIENT_ID"), "{}", out.stderr);
    let out = f.segura(&["--profile", "nowhere", "sessions", "list"]);
    out.code(3);
    assert!(out.stderr.contains("nowhere"), "{}", out.stderr);
    f.write_config("[profiles.default]\nurl = 3\n", 0o600);
    let out = f.segura(&["sessions", "list"]);
    out.code(3);
    assert!(out.stderr.contains("invalid config file"), "{}", out.stderr);
}

#[test]
fn tls_needs_the_ca_or_insecure_which_always_warns() {
    let f = Fixture::with(
        segura_mock::MockConfig::default()
            .sessions(4)
            .seed(7)
            .tls(true),
    );
    let out = f.segura(&["sessions", "list", "--retries", "0"]);
    out.code(7);
    assert!(out.stderr.contains("--ca-cert"), "{}", out.stderr);

    let ca = f.home.path().join("ca.pem");
    std::fs::write(&ca, f.server.ca_cert_pem().expect("TLS mock has a CA")).expect("write");
    let out = f.segura(&["sessions", "list", "-o", "ndjson", "--ca-cert", s(&ca)]);
    assert_eq!(out.json_lines().len(), 4);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let mut cmd = f.cmd();
    cmd.env("SEGURA_CA_CERT", &ca);
    assert_eq!(
        f.run(cmd, &["sessions", "list", "-o", "ndjson"])
            .json_lines()
            .len(),
        4
    );

    for _ in 0..2 {
        let out = f.segura(&["sessions", "list", "-o", "ndjson", "--insecure", "-q"]);
        assert_eq!(out.json_lines().len(), 4);
        assert!(
            out.stderr
                .contains("warning: TLS certificate verification is off"),
            "{}",
            out.stderr
        );
    }
}
