//! The `custom_transport` example, run as a process against the mock server: a transport
//! on `std::net` with no protocol rule of its own lists and gets like `HttpClient` does.

use std::path::PathBuf;
use std::process::Command;

use segura_mock::{MockConfig, MockServer};

/// The example's binary, next to this test's (`target/debug/examples/`); built first if
/// the test runs alone.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let debug = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(PathBuf::from);
    let path = debug
        .unwrap_or_default()
        .join("examples")
        .join(format!("custom_transport{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "segura-api", "--example", "custom_transport"])
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "cannot build the example"
        );
    }
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_lists_and_gets_against_the_mock() {
    let server = match MockServer::start(MockConfig::default().sessions(25)).await {
        Ok(s) => s,
        Err(e) => panic!("the mock did not start: {e}"),
    };
    let (url, id, secret) = (
        server.url().to_owned(),
        server.client_id().to_owned(),
        server.client_secret().to_owned(),
    );
    let out = tokio::task::spawn_blocking(move || {
        Command::new(example())
            .arg(url)
            .env("SEGURA_CLIENT_ID", id)
            .env("SEGURA_CLIENT_SECRET", secret)
            .output()
    })
    .await;
    let out = match out {
        Ok(Ok(out)) => out,
        other => panic!("the example did not run: {other:?}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"listed 25"), "{stdout}");
    let got: Vec<&str> = lines
        .get(1)
        .map(|l| l.split(' ').collect())
        .unwrap_or_default();
    assert_eq!(got.len(), 3, "{stdout}");
    assert_eq!(got[0], "got");
    assert_eq!(got[2].len(), 40, "a 40-hex session_id: {stdout}");
    // Exactly one token for both calls: the generic client's cache, not the example's.
    assert_eq!(server.stats().token_requests, 1);
    assert_eq!(server.stats().list_requests, 1);
}
