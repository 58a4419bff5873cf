//! Streams a large session list from an in-process mock server through the real client
//! and reports time and peak memory.
//!
//! ```text
//! cargo run --release -p segura-http --example stream_list -- 1000000 [--tls]
//! ```

use std::process::ExitCode;
use std::time::Instant;

use segura_api::SessionApi;
use segura_http::{Auth, ClientAuthMethod, ClientConfig, HttpClient, Secret};
use segura_mock::{MockConfig, MockServer};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn run(sessions: u64, tls: bool) -> Result<(), String> {
    let server = MockServer::start(MockConfig::default().sessions(sessions).seed(7).tls(tls))
        .await
        .map_err(|e| e.to_string())?;
    let mut config = ClientConfig::new(
        server.url(),
        Auth::OAuth2 {
            client_id: server.client_id().to_owned(),
            client_secret: Secret::new(server.client_secret()),
            method: ClientAuthMethod::Body,
        },
    );
    if let Some(pem) = server.ca_cert_pem() {
        config = config.ca_cert_pem(pem.as_bytes().to_vec());
    }
    let api = HttpClient::new(config).map_err(|e| e.to_string())?;
    let before = peak_rss_kib();
    let started = Instant::now();
    let mut list = api.list_sessions().await.map_err(|e| e.to_string())?;
    let mut first = None;
    let mut count = 0u64;
    while let Some(session) = list.next_ref().await {
        session.map_err(|e| e.to_string())?;
        if first.is_none() {
            first = Some(started.elapsed());
        }
        count += 1;
    }
    let total = started.elapsed();
    let after = peak_rss_kib();
    let mib = list.bytes_received() as f64 / (1024.0 * 1024.0);
    println!(
        "{count} sessions, {mib:.0} MiB of JSON ({}), first session after {:.1} ms, all after {:.2} s \
         ({:.0} sessions/s, {:.0} MiB/s); peak RSS {before} KiB before, {after} KiB after (+{} KiB)",
        if tls { "https, gzip" } else { "http, gzip" },
        first.unwrap_or_default().as_secs_f64() * 1000.0,
        total.as_secs_f64(),
        count as f64 / total.as_secs_f64(),
        mib / total.as_secs_f64(),
        after.saturating_sub(before),
    );
    server.shutdown().await;
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let sessions = args
        .next()
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let tls = args.any(|a| a == "--tls");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(sessions, tls)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
