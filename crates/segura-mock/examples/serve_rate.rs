//! Measures how fast the mock serves a long list over loopback, client and
//! server in one process:
//!
//! ```text
//! cargo run --release -p segura-mock --example serve_rate -- [SESSIONS] [--gzip]
//! ```
//!
//! Prints bytes, seconds, MB/s and the process's peak resident set.

use std::process::ExitCode;
use std::time::Instant;

use segura_mock::{MockConfig, MockServer};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn run(sessions: u64, gzip: bool) -> Result<(), Box<dyn std::error::Error>> {
    let server = MockServer::start(MockConfig::default().sessions(sessions).seed(7)).await?;
    let client = reqwest::Client::builder().no_gzip().build()?;
    let token_body = client
        .post(format!("{}/iso/oauth2/token", server.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", server.client_id()),
            ("client_secret", server.client_secret()),
        ])
        .send()
        .await?
        .bytes()
        .await?;
    let token: serde_json::Value = serde_json::from_slice(&token_body)?;
    let token = token["access_token"].as_str().ok_or("no access_token")?;
    let mut request = client
        .get(format!("{}/api/session/remotesessions", server.url()))
        .bearer_auth(token);
    if gzip {
        request = request.header("accept-encoding", "gzip");
    }
    let started = Instant::now();
    let mut response = request.send().await?;
    let mut bytes = 0u64;
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{sessions} sessions{}: {bytes} bytes in {secs:.3} s = {:.0} MB/s; peak RSS {} KiB",
        if gzip { " (gzip)" } else { "" },
        bytes as f64 / 1e6 / secs.max(1e-9),
        peak_rss_kib().unwrap_or(0),
    );
    server.shutdown().await;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let gzip = args.iter().any(|a| a == "--gzip");
    let sessions = match args.iter().find(|a| !a.starts_with("--")) {
        None => 1_000_000,
        Some(n) => match n.parse() {
            Ok(n) => n,
            Err(_) => {
                eprintln!("usage: serve_rate [SESSIONS] [--gzip]");
                return ExitCode::from(2);
            }
        },
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("serve_rate: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(sessions, gzip)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("serve_rate: {e}");
            ExitCode::FAILURE
        }
    }
}
