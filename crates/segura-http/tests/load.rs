//! Load: one client shared by 1,000 concurrent tasks, gets and lists mixed, while the
//! server expires every token three times. No call may fail, each expiry must cost
//! exactly one token request, and the whole run must finish (no deadlock).
//!
//! A call renews a refused token once, so a call that meets two expiries fails by design.
//! The expiries are therefore spaced by progress, not by the clock: the next one comes
//! only after every task has finished a call that started after the previous one, so no
//! call in flight can have met an earlier expiry, however slow the machine.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use segura_api::SessionApi;
use segura_http::RetryPolicy;
use segura_mock::MockConfig;

const TASKS: u64 = 1000;
const EXPIRIES: u64 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_tasks_share_one_client_through_token_expiries() {
    let server = start(MockConfig::default().sessions(200)).await;
    let api = client(
        config(&server).retry(
            RetryPolicy::with_backoff(Duration::from_millis(20), Duration::from_millis(200))
                .max_retries(5),
        ),
    );
    let ids: Arc<Vec<_>> = Arc::new((0..200).map(|i| id_at(&server, i)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    // The number of expiries so far, and per task the value it had when the task's last
    // finished call started.
    let epoch = Arc::new(AtomicU64::new(0));
    let finished_in: Arc<Vec<AtomicU64>> =
        Arc::new((0..TASKS).map(|_| AtomicU64::new(0)).collect());
    let (calls, lists, sessions) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let started = Instant::now();

    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let (api, ids, stop) = (api.clone(), Arc::clone(&ids), Arc::clone(&stop));
        let (epoch, finished_in) = (Arc::clone(&epoch), Arc::clone(&finished_in));
        let (calls, lists, sessions) = (
            Arc::clone(&calls),
            Arc::clone(&lists),
            Arc::clone(&sessions),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = t;
            // Every task makes at least two calls, so each expiry meets traffic.
            while i < t + 2 || !stop.load(Ordering::Relaxed) {
                let started_in = epoch.load(Ordering::SeqCst);
                if i % 10 == 0 {
                    let mut stream = api.list_sessions().await?;
                    let mut n = 0;
                    while let Some(s) = stream.next_ref().await {
                        s?;
                        n += 1;
                    }
                    assert_eq!(n, 200, "a list came back incomplete");
                    lists.fetch_add(1, Ordering::Relaxed);
                    sessions.fetch_add(n, Ordering::Relaxed);
                } else {
                    let id = ids[(i % 200) as usize];
                    let s = api.get_session(id).await?;
                    assert_eq!(s.id, id);
                }
                calls.fetch_add(1, Ordering::Relaxed);
                finished_in[t as usize].store(started_in, Ordering::SeqCst);
                i += 1;
            }
            Ok::<(), segura_api::Error>(())
        }));
    }

    for n in 0..EXPIRIES {
        tokio::time::sleep(Duration::from_millis(400)).await;
        // Wait until every task has finished a call begun after the previous expiry.
        let deadline = Instant::now() + Duration::from_secs(60);
        while finished_in.iter().any(|e| e.load(Ordering::SeqCst) < n) {
            assert!(
                Instant::now() < deadline,
                "traffic stalled after expiry {n}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Wait until traffic flows on the current token before expiring it.
        let before = server.stats().tokens_issued;
        epoch.store(n + 1, Ordering::SeqCst);
        server.expire_tokens();
        let deadline = Instant::now() + Duration::from_secs(20);
        while server.stats().tokens_issued == before && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);

    let mut failures = Vec::new();
    let all = async {
        for t in tasks {
            match t.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failures.push(e.to_string()),
                Err(e) => failures.push(format!("task panicked: {e}")),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), all)
        .await
        .expect("the tasks finished (no deadlock)");
    let elapsed = started.elapsed();
    let stats = server.stats();
    eprintln!(
        "load: {} calls ({} lists, {} sessions listed) by {TASKS} tasks in {:.2} s; {} failed; \
         {} token requests for {EXPIRIES} expiries; {} refused with 401 and retried",
        calls.load(Ordering::Relaxed),
        lists.load(Ordering::Relaxed),
        sessions.load(Ordering::Relaxed),
        elapsed.as_secs_f64(),
        failures.len(),
        stats.token_requests,
        stats.unauthorized,
    );
    assert!(
        failures.is_empty(),
        "{} calls failed, first: {}",
        failures.len(),
        failures[0]
    );
    assert_eq!(
        stats.token_requests,
        1 + EXPIRIES,
        "one token, then exactly one per expiry: {stats:?}"
    );
    assert!(calls.load(Ordering::Relaxed) >= 2 * TASKS);
    assert!(lists.load(Ordering::Relaxed) >= 100);
}
