//! The `segura-mock` binary, run as a person would run it.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use reqwest::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_segura-mock");

/// A running binary, killed when dropped.
struct Running {
    child: Child,
    /// The `key: value` lines it printed before "Press Ctrl-C".
    info: HashMap<String, String>,
    example: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &[&str]) -> Result<Running, AnyError> {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut running = Running {
        child,
        info: HashMap::new(),
        example: String::new(),
    };
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if line.starts_with("Press Ctrl-C") {
            return Ok(running);
        }
        if line.contains("segura sessions list") {
            running.example = line.trim().to_owned();
        } else if let Some((key, value)) = line.split_once(": ") {
            running.info.insert(key.to_owned(), value.to_owned());
        }
    }
    Err("the binary stopped before it was ready".into())
}

fn field<'r>(running: &'r Running, key: &str) -> Result<&'r str, AnyError> {
    running
        .info
        .get(key)
        .map(String::as_str)
        .ok_or_else(|| format!("no {key:?} line in {:?}", running.info).into())
}

#[tokio::test]
async fn prints_what_a_person_needs_and_serves() -> TestResult {
    let running = run(&[
        "--port",
        "0",
        "--sessions",
        "12",
        "--seed",
        "7",
        "--client-id",
        "demo-id",
        "--client-secret",
        "demo-secret",
        "--token-lifetime",
        "90s",
    ])?;
    let url = field(&running, "url")?.to_owned();
    assert!(url.starts_with("http://127.0.0.1:"));
    assert_eq!(field(&running, "client_id")?, "demo-id");
    assert_eq!(field(&running, "client_secret")?, "demo-secret");
    assert!(field(&running, "oauth1_consumer_key").is_ok());
    assert_eq!(
        running.example,
        format!("SEGURA_URL={url} SEGURA_CLIENT_ID=demo-id SEGURA_CLIENT_SECRET=demo-secret segura sessions list")
    );

    let client = client();
    let token_reply = read(client.post(format!("{url}/iso/oauth2/token")).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "demo-id"),
        ("client_secret", "demo-secret"),
    ]))
    .await?;
    assert_eq!(token_reply.status, StatusCode::OK);
    let token_json = token_reply.json()?;
    assert_eq!(token_json["expires_in"], 90);
    let token = token_json["access_token"].as_str().ok_or("no token")?;
    let list = read(
        client
            .get(format!("{url}/api/session/remotesessions"))
            .bearer_auth(token),
    )
    .await?;
    let mut expected = Vec::new();
    segura_mock::generator::write_list_body(&mut expected, 7, 12)?;
    assert_eq!(list.body, expected);
    Ok(())
}

#[tokio::test]
async fn tls_writes_the_ca_and_generates_credentials() -> TestResult {
    let dir = std::env::temp_dir().join(format!("segura-mock-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let ca_path = dir.join("ca.pem");
    let ca_arg = ca_path.display().to_string();
    let running = run(&[
        "--port=0",
        "--tls",
        "--ca-out",
        &ca_arg,
        "--sessions",
        "3",
        "--fault",
        "list:truncate-after=1",
    ])?;
    let url = field(&running, "url")?.to_owned();
    assert!(url.starts_with("https://127.0.0.1:"));
    assert_eq!(field(&running, "ca_cert")?, ca_arg);
    assert!(running
        .example
        .starts_with(&format!("SSL_CERT_FILE={ca_arg} ")));
    let pem = std::fs::read(&ca_path)?;
    let id = field(&running, "client_id")?;
    let secret = field(&running, "client_secret")?;
    assert!(!id.is_empty() && secret.len() >= 16);

    let client = reqwest::Client::builder()
        .no_gzip()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem)?)
        .timeout(Duration::from_secs(10))
        .build()?;
    let token_reply = read(
        client
            .post(format!("{url}/iso/oauth2/token"))
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await?;
    assert_eq!(token_reply.status, StatusCode::OK);
    let token = token_reply.json()?["access_token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();
    let list = read(
        client
            .get(format!("{url}/api/session/remotesessions"))
            .bearer_auth(&token),
    )
    .await?;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.text().matches("{\"id\":").count(),
        1,
        "the --fault applies"
    );
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[tokio::test]
async fn variants_from_the_command_line_are_served() -> TestResult {
    let running = run(&[
        "--port",
        "0",
        "--sessions",
        "3",
        "--client-id",
        "v-id",
        "--client-secret",
        "v-secret",
        "--variant",
        "api-token-path,pam-paths-only",
        "--variant",
        "etags",
        "--variant",
        "legacy-web-session-only",
    ])?;
    let url = field(&running, "url")?.to_owned();
    let client = client();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "v-id"),
        ("client_secret", "v-secret"),
    ];
    let iso = read(client.post(format!("{url}/iso/oauth2/token")).form(&form)).await?;
    assert_eq!(iso.status, StatusCode::NOT_FOUND);
    let api = read(client.post(format!("{url}/api/oauth2/token")).form(&form)).await?;
    assert_eq!(api.status, StatusCode::OK);
    let token = api.json()?["access_token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();
    let session = read(
        client
            .get(format!("{url}/api/session/remotesessions"))
            .bearer_auth(&token),
    )
    .await?;
    assert_eq!(session.status, StatusCode::NOT_FOUND);
    let pam = read(
        client
            .get(format!("{url}/api/pam/session/remotesessions"))
            .bearer_auth(&token),
    )
    .await?;
    assert_eq!(pam.status, StatusCode::OK);
    let etag = pam
        .headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .ok_or("no ETag")?
        .to_owned();
    let again = read(
        client
            .get(format!("{url}/api/pam/session/remotesessions"))
            .bearer_auth(&token)
            .header("if-none-match", etag),
    )
    .await?;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let body = serde_json::json!({"user":"a","credential":"c","device":"d","protocol":"ssh"});
    let current = read(
        client
            .post(format!("{url}/api/pam/remote/session"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
    .await?;
    assert_eq!(current.status, StatusCode::NOT_FOUND);
    let older = read(
        client
            .post(format!("{url}/api/remote/session"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
    .await?;
    assert_eq!(older.status, StatusCode::OK);
    let answer = older.json()?;
    assert_eq!(answer["response"]["Message"], "Sessão criada com sucesso");
    assert!(answer["session"]["session_url"]
        .as_str()
        .is_some_and(|u| u.contains("/modulos/auth?_sr=")));

    let unknown = Command::new(BIN).args(["--variant", "etag"]).output()?;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8(unknown.stderr)?.contains("legacy-drop-only"));
    Ok(())
}

#[test]
fn help_and_usage_errors() -> TestResult {
    let help = Command::new(BIN).arg("--help").output()?;
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout)?;
    for option in [
        "--port",
        "--sessions",
        "--seed",
        "--tls",
        "--client-id",
        "--client-secret",
        "--token-lifetime",
        "--bind",
        "--ca-out",
        "--fault",
        "--variant",
    ] {
        assert!(text.contains(option), "--help mentions {option}");
    }
    let bad = Command::new(BIN).args(["--port", "http"]).output()?;
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8(bad.stderr)?.contains("--port"));
    let version = Command::new(BIN).arg("-V").output()?;
    assert!(String::from_utf8(version.stdout)?.starts_with("segura-mock "));
    Ok(())
}
