//! The list is streamed: 200,000 sessions over loopback in flat memory. This binary holds
//! this one test only, so that nothing else moves the process's peak resident size.

mod common;

use common::*;
use segura_api::SessionApi;
use segura_mock::MockConfig;

/// The process's peak resident set size (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_thousand_sessions_in_flat_memory() {
    const SESSIONS: u64 = 200_000;
    let server = start(MockConfig::default().sessions(SESSIONS).seed(7)).await;
    let api = client(config(&server));
    // Warm up: connection, token, a small list.
    ok(api.get_session(id_at(&server, 0)).await);
    let before = peak_rss_kib();

    let mut list = ok(api.list_sessions().await);
    let mut count = 0u64;
    let mut last_id = 0u64;
    while let Some(session) = list.next_ref().await {
        let session = ok(session);
        assert!(session.id.get() > last_id, "ids increase");
        last_id = session.id.get();
        count += 1;
    }
    let after = peak_rss_kib();
    assert_eq!(count, SESSIONS);
    assert_eq!(list.sessions_received(), SESSIONS);
    assert_eq!(server.stats().sessions_streamed, SESSIONS);
    let bytes = list.bytes_received();
    assert!(bytes > 50 * 1024 * 1024, "{bytes} bytes");
    let growth_mib = after.saturating_sub(before) / 1024;
    eprintln!(
        "{SESSIONS} sessions, {} MiB of JSON (after gzip decoding), peak RSS {before} KiB -> {after} KiB",
        bytes / (1024 * 1024)
    );
    if before > 0 {
        assert!(
            growth_mib < 30,
            "peak RSS grew by {growth_mib} MiB for a {} MiB body",
            bytes / (1024 * 1024)
        );
    }
}
