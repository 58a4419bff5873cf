//! Serving a long list must not hold it in memory. This file has a single
//! test so that no other test's allocations share the process while it
//! measures.

mod common;

use common::*;
use reqwest::StatusCode;
use segura_mock::generator::write_list_body;
use segura_mock::MockConfig;

const SESSIONS: u64 = 200_000;
const MAX_GROWTH_KIB: u64 = 20 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_list_streams_with_flat_memory() -> TestResult {
    let server = start(MockConfig::default().sessions(SESSIONS).seed(21)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let url = format!("{}/api/session/remotesessions", server.url());

    // Warm up connection pools, buffers and the allocator with a short list.
    server.set_session_count(2_000);
    let warm = read(client.get(&url).bearer_auth(&token)).await?;
    assert_eq!(warm.status, StatusCode::OK);
    server.set_session_count(SESSIONS);

    let (Some(rss_before), Some(hwm_before)) =
        (proc_status_kib("VmRSS:"), proc_status_kib("VmHWM:"))
    else {
        return Err("cannot read /proc/self/status".into());
    };

    let mut response = client.get(&url).bearer_auth(&token).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    let mut received = 0u64;
    // Chunk by chunk, keeping nothing but the count.
    while let Some(chunk) = response.chunk().await? {
        received += chunk.len() as u64;
    }

    let rss_after = proc_status_kib("VmRSS:").ok_or("no VmRSS")?;
    let hwm_after = proc_status_kib("VmHWM:").ok_or("no VmHWM")?;
    let expected = write_list_body(std::io::sink(), 21, SESSIONS)?;
    assert_eq!(received, expected);
    assert!(received > 60 * 1024 * 1024, "{received} bytes streamed");
    let peak_growth = hwm_after.saturating_sub(hwm_before.max(rss_before));
    let rss_growth = rss_after.saturating_sub(rss_before);
    eprintln!(
        "streamed {received} bytes; RSS {rss_before} -> {rss_after} KiB, \
         peak {hwm_before} -> {hwm_after} KiB"
    );
    assert!(
        peak_growth < MAX_GROWTH_KIB && rss_growth < MAX_GROWTH_KIB,
        "memory grew by {peak_growth} KiB (peak) / {rss_growth} KiB (RSS) for a {received}-byte body"
    );
    assert_eq!(server.stats().sessions_streamed, SESSIONS + 2_000);
    Ok(())
}
