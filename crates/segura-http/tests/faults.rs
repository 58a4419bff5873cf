//! Every fault the mock injects, through the real client over loopback: the variant of
//! `segura_api::Error` it becomes, its hint, and how many requests the retries sent.

mod common;

use std::time::{Duration, Instant};

use common::*;
use segura_api::{AuthFailure, ConnectFailure, Error, SessionApi, TimeoutKind};
use segura_http::{ClientConfig, RetryPolicy};
use segura_mock::{Fault, FaultTarget, MockConfig, MockServer};

async fn server() -> MockServer {
    start(MockConfig::default().sessions(50)).await
}

fn no_retry(server: &MockServer) -> ClientConfig {
    config(server).retry(RetryPolicy::none())
}

/// The documented error table, row by row, on the list endpoint.
#[tokio::test]
async fn documented_error_table() {
    type Check = fn(&Error) -> bool;
    let rows: [(Fault, Check, &str); 7] = [
        (
            Fault::NotFound,
            |e| matches!(e, Error::NotFound { status: Some(404), code: None, message } if message == "Resource sub not found"),
            "check the URL",
        ),
        (
            Fault::InternalError,
            |e| matches!(e, Error::Server { status: 500, message, .. } if message == "Unexpected error."),
            "administrator or support",
        ),
        (
            Fault::Forbidden,
            |e| {
                matches!(
                    e,
                    Error::Auth {
                        kind: AuthFailure::NotAuthorized,
                        status: Some(403),
                        ..
                    }
                )
            },
            "Credentials and Devices",
        ),
        (
            Fault::BadGateway,
            |e| matches!(e, Error::Server { status: 502, .. }),
            "retry later",
        ),
        (
            Fault::ServiceUnavailable,
            |e| matches!(e, Error::Server { status: 503, .. }),
            "retry later",
        ),
        (
            Fault::GatewayTimeout,
            |e| matches!(e, Error::Timeout { kind: TimeoutKind::Gateway, message, .. } if message.contains("timing out")),
            "connectivity",
        ),
        (
            Fault::RequestTimeout,
            |e| matches!(e, Error::Timeout { kind: TimeoutKind::Gateway, message, .. } if message.contains("Request timed out")),
            "connectivity",
        ),
    ];
    let server = server().await;
    let api = client(no_retry(&server));
    for (fault, check, hint) in rows {
        // A 404 is tried once more on the other path family: both answer it here.
        let times = if matches!(fault, Fault::NotFound) {
            2
        } else {
            1
        };
        server.push_faults(times, FaultTarget::List, fault.clone());
        let e = err(api.list_sessions().await);
        assert!(check(&e), "{fault:?}: {e:?}");
        assert_hint(&e, hint);
    }
    assert_eq!(server.stats().list_requests, 8);
}

#[tokio::test]
async fn client_authentication_failed_row() {
    let server = server().await;
    let auth = segura_http::Auth::OAuth2 {
        client_id: "nobody".into(),
        client_secret: segura_http::Secret::new("nothing"),
        method: segura_http::ClientAuthMethod::Body,
    };
    let e = err(client(config_with(&server, auth)).list_sessions().await);
    assert!(
        matches!(&e, Error::Auth { kind: AuthFailure::InvalidClient, status: Some(401), message } if message.contains("Client authentication failed")),
        "{e:?}"
    );
    assert_hint(&e, "client id and secret");
}

#[tokio::test]
async fn no_route_matched_row_for_a_wrong_path_prefix() {
    let server = server().await;
    let mut config = config(&server);
    config.base_url = format!("{}/wrong/prefix/", server.url());
    let e = err(client(config).list_sessions().await);
    assert!(
        matches!(&e, Error::Auth { kind: AuthFailure::NoRouteMatched, status: Some(404), message } if message.contains("no Route matched")),
        "{e:?}"
    );
    assert_hint(&e, "check the URL");
    // Both token URLs answer 404 under the wrong prefix, once each: a 404 of the token
    // endpoint is not a reason for the list to try its other path family.
    assert_eq!(server.stats().no_route, 2);
}

#[tokio::test]
async fn application_codes_from_get_and_drop() {
    let server = server().await;
    let api = client(config(&server));
    // 1002: no such session.
    // The id the 10,001st session would have: this list has 50.
    let e = err(api.get_session(id_at(&server, 10_000)).await);
    assert!(
        matches!(
            e,
            Error::NotFound {
                code: Some(1002),
                status: Some(400),
                ..
            }
        ),
        "{e:?}"
    );
    assert_hint(&e, "no session has this id");
    let e = err(api
        .drop_session(&segura_model::SessionHash::from_wire("0".repeat(40)))
        .await);
    assert!(
        matches!(
            e,
            Error::NotFound {
                code: Some(1002),
                ..
            }
        ),
        "{e:?}"
    );
    // 1003: not a 40-hex hash.
    let e = err(api
        .drop_session(&segura_model::SessionHash::from_wire("42"))
        .await);
    assert!(
        matches!(
            e,
            Error::Api {
                code: Some(1003),
                ..
            }
        ),
        "{e:?}"
    );
    assert_hint(&e, "40-hex session_id");
    // A drop of an open session succeeds once; the session is then no longer open.
    let open = (0..50)
        .find(|i| server.generator().is_open(*i))
        .unwrap_or_default();
    let answer = ok(api.drop_session(&hash_at(&server, open)).await);
    assert!(!answer.envelope.is_error());
    assert_eq!(server.stats().sessions_dropped, 1);
}

#[tokio::test]
async fn an_error_envelope_inside_http_200() {
    let server = server().await;
    let api = client(config(&server));
    server.push_faults(1, FaultTarget::List, Fault::ErrorIn200);
    let mut list = ok(api.list_sessions().await);
    let (n, e) = drain(&mut list).await;
    assert_eq!(n, 0);
    let e = e.unwrap_or_else(|| panic!("no error"));
    assert!(matches!(e, Error::Server { status: 500, .. }), "{e:?}");
    assert_hint(&e, "administrator or support");

    server.push_faults(1, FaultTarget::Get, Fault::ErrorIn200);
    let e = err(api.get_session(id_at(&server, 0)).await);
    assert!(matches!(e, Error::Server { status: 500, .. }), "{e:?}");

    server.push_faults(1, FaultTarget::Drop, Fault::ErrorIn200);
    let e = err(api.drop_session(&hash_at(&server, 0)).await);
    assert!(matches!(e, Error::Server { status: 500, .. }), "{e:?}");
    // Not retried: a 200 is an answer.
    let stats = server.stats();
    assert_eq!(
        (stats.list_requests, stats.get_requests, stats.drop_requests),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn an_html_page_inside_http_200() {
    let server = server().await;
    let api = client(config(&server));
    server.push_faults(1, FaultTarget::List, Fault::NotJson);
    let mut list = ok(api.list_sessions().await);
    let (n, e) = drain(&mut list).await;
    assert_eq!(n, 0);
    let e = e.unwrap_or_else(|| panic!("no error"));
    assert!(
        matches!(
            e,
            Error::InvalidResponse {
                truncated: false,
                ..
            }
        ),
        "{e:?}"
    );
    assert_hint(&e, "HTML page");
    server.push_faults(1, FaultTarget::Drop, Fault::NotJson);
    let e = err(api.drop_session(&hash_at(&server, 0)).await);
    assert!(matches!(e, Error::InvalidResponse { .. }), "{e:?}");
    assert_hint(&e, "HTML page");
}

#[tokio::test]
async fn truncation_after_n_sessions() {
    let server = server().await;
    let api = client(config(&server));
    server.push_faults(1, FaultTarget::List, Fault::TruncateAfter(17));
    let mut list = ok(api.list_sessions().await);
    let (n, e) = drain(&mut list).await;
    assert_eq!(n, 17);
    assert_eq!(list.sessions_received(), 17);
    let e = e.unwrap_or_else(|| panic!("no error"));
    assert!(
        matches!(
            e,
            Error::InvalidResponse {
                truncated: true,
                sessions_before: 17,
                ..
            }
        ),
        "{e:?}"
    );
    assert_hint(&e, "ended early");
    // Never retried once the stream was handed over.
    assert_eq!(server.stats().list_requests, 1);
}

#[tokio::test]
async fn a_connection_reset_mid_body() {
    let server = server().await;
    let api = client(config(&server));
    server.push_faults(1, FaultTarget::List, Fault::ResetAfter(23));
    let mut list = ok(api.list_sessions().await);
    let (n, e) = drain(&mut list).await;
    assert!(n <= 23, "{n}");
    assert_eq!(list.sessions_received(), n);
    let e = e.unwrap_or_else(|| panic!("no error"));
    match e {
        Error::InvalidResponse {
            truncated: true,
            sessions_before,
            offset,
            ..
        } => {
            assert_eq!(sessions_before, n);
            assert!(offset > 0);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.stats().list_requests, 1);

    // A reset in the middle of a get's body.
    server.push_faults(1, FaultTarget::Get, Fault::ResetAfter(0));
    let e = err(api.get_session(id_at(&server, 0)).await);
    assert!(
        matches!(
            e,
            Error::InvalidResponse {
                truncated: true,
                ..
            }
        ),
        "{e:?}"
    );
    // And of a drop's answer: reported as cut, never retried.
    server.push_faults(1, FaultTarget::Drop, Fault::ResetAfter(0));
    let e = err(api.drop_session(&hash_at(&server, 0)).await);
    assert!(
        matches!(
            e,
            Error::InvalidResponse {
                truncated: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(server.stats().drop_requests, 1);
}

#[tokio::test]
async fn a_stall_after_the_headers_is_an_idle_timeout() {
    let server = server().await;
    let api = client(config(&server).read_timeout(Duration::from_millis(300)));
    server.push_faults(1, FaultTarget::List, Fault::Stall);
    let started = Instant::now();
    let mut list = ok(api.list_sessions().await);
    let (n, e) = drain(&mut list).await;
    let waited = started.elapsed();
    assert_eq!(n, 0);
    let e = e.unwrap_or_else(|| panic!("no error"));
    assert!(
        matches!(
            e,
            Error::Timeout {
                kind: TimeoutKind::Idle,
                ..
            }
        ),
        "{e:?}"
    );
    assert_hint(&e, "read timeout");
    assert!(
        waited >= Duration::from_millis(290) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    server.push_faults(1, FaultTarget::Get, Fault::Stall);
    let e = err(api.get_session(id_at(&server, 0)).await);
    assert!(
        matches!(
            e,
            Error::Timeout {
                kind: TimeoutKind::Idle,
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_slow_drip_is_read_to_the_end_and_sessions_arrive_early() {
    let server = server().await;
    let api = client(config(&server).read_timeout(Duration::from_millis(500)));
    // About 25 KB at 2 KB every 10 ms: over 100 ms in all, never silent for long.
    server.push_faults(
        1,
        FaultTarget::List,
        Fault::Drip {
            bytes: 2048,
            interval: Duration::from_millis(10),
        },
    );
    let started = Instant::now();
    let mut list = ok(api.list_sessions().await);
    let first = list.next_ref().await.map(|r| r.is_ok());
    let first_at = started.elapsed();
    assert_eq!(first, Some(true));
    let (rest, e) = drain(&mut list).await;
    let total = started.elapsed();
    assert!(e.is_none(), "{e:?}");
    assert_eq!(rest + 1, 50);
    assert!(
        first_at * 3 < total,
        "first after {first_at:?}, all after {total:?}"
    );
}

#[tokio::test]
async fn a_drip_slower_than_the_read_timeout_is_an_idle_timeout() {
    let server = server().await;
    let api = client(config(&server).read_timeout(Duration::from_millis(200)));
    server.push_faults(
        1,
        FaultTarget::List,
        Fault::Drip {
            bytes: 4096,
            interval: Duration::from_millis(600),
        },
    );
    let mut list = ok(api.list_sessions().await);
    let (n, e) = drain(&mut list).await;
    assert!(n < 50);
    assert!(
        matches!(
            e,
            Some(Error::Timeout {
                kind: TimeoutKind::Idle,
                ..
            })
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_total_deadline_cuts_a_long_list() {
    let server = server().await;
    let api = client(config(&server).total_timeout(Some(Duration::from_millis(300))));
    server.push_faults(
        1,
        FaultTarget::List,
        Fault::Delay(Duration::from_millis(20)),
    );
    let mut list = ok(api.list_sessions().await);
    let (n, e) = drain(&mut list).await;
    assert!(n > 0 && n < 50, "{n}");
    assert!(
        matches!(
            e,
            Some(Error::Timeout {
                kind: TimeoutKind::Total,
                ..
            })
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn gateway_errors_are_retried_and_then_succeed() {
    let server = server().await;
    let api = client(config(&server));
    // Three failures, then the fourth attempt (the third retry) succeeds.
    for fault in [
        Fault::BadGateway,
        Fault::ServiceUnavailable,
        Fault::GatewayTimeout,
    ] {
        server.push_faults(1, FaultTarget::List, fault);
    }
    let mut list = ok(api.list_sessions().await);
    assert_eq!(drain(&mut list).await, (50, None));
    assert_eq!(server.stats().list_requests, 4);
    server.push_faults(1, FaultTarget::List, Fault::RequestTimeout);
    let mut list = ok(api.list_sessions().await);
    assert_eq!(drain(&mut list).await, (50, None));
    assert_eq!(server.stats().list_requests, 6);
    // Gets are retried the same way.
    server.push_faults(2, FaultTarget::Get, Fault::ServiceUnavailable);
    ok(api.get_session(id_at(&server, 0)).await);
    assert_eq!(server.stats().get_requests, 3);
}

#[tokio::test]
async fn retries_are_bounded_in_count() {
    let server = server().await;
    let api = client(config(&server).max_retries(2));
    server.set_fault(FaultTarget::List, Fault::ServiceUnavailable);
    let e = err(api.list_sessions().await);
    assert!(matches!(e, Error::Server { status: 503, .. }), "{e:?}");
    assert_eq!(server.stats().list_requests, 3);
}

#[tokio::test]
async fn retries_are_bounded_in_time() {
    let server = server().await;
    let retry = RetryPolicy::with_backoff(Duration::from_millis(100), Duration::from_millis(100))
        .max_retries(100)
        .max_elapsed(Duration::from_millis(400));
    let api = client(config(&server).retry(retry));
    server.set_fault(FaultTarget::List, Fault::BadGateway);
    let started = Instant::now();
    let e = err(api.list_sessions().await);
    assert!(matches!(e, Error::Server { status: 502, .. }), "{e:?}");
    let requests = server.stats().list_requests;
    // Each wait is 50..100 ms, and none starts that would end after 400 ms.
    assert!((4..=9).contains(&requests), "{requests}");
    assert!(started.elapsed() < Duration::from_millis(900));
}

#[tokio::test]
async fn a_500_is_never_retried() {
    let server = server().await;
    let api = client(config(&server));
    server.push_faults(1, FaultTarget::List, Fault::InternalError);
    let e = err(api.list_sessions().await);
    assert!(matches!(e, Error::Server { status: 500, .. }), "{e:?}");
    assert_eq!(server.stats().list_requests, 1);
}

#[tokio::test]
async fn a_drop_is_never_retried_once_sent() {
    let server = server().await;
    let api = client(config(&server));
    for fault in [
        Fault::ServiceUnavailable,
        Fault::BadGateway,
        Fault::GatewayTimeout,
        Fault::TooManyRequests { retry_after: 1 },
    ] {
        server.push_faults(1, FaultTarget::Drop, fault);
        let e = err(api.drop_session(&hash_at(&server, 0)).await);
        assert!(e.is_retryable(), "{e:?}");
    }
    assert_eq!(server.stats().drop_requests, 4);
    assert_eq!(server.stats().sessions_dropped, 0);
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    let server = server().await;
    let api = client(config(&server));
    server.push_faults(
        1,
        FaultTarget::Get,
        Fault::TooManyRequests { retry_after: 1 },
    );
    let started = Instant::now();
    ok(api.get_session(id_at(&server, 0)).await);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert_eq!(server.stats().get_requests, 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_retry_budget_is_reported_at_once() {
    let server = server().await;
    let api = client(config(&server));
    server.push_faults(
        1,
        FaultTarget::List,
        Fault::TooManyRequests { retry_after: 3600 },
    );
    let started = Instant::now();
    let e = err(api.list_sessions().await);
    assert!(
        matches!(
            e,
            Error::Server {
                status: 429,
                retry_after: Some(3600),
                ..
            }
        ),
        "{e:?}"
    );
    assert_hint(&e, "rate limiting");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(server.stats().list_requests, 1);
}

#[tokio::test]
async fn token_endpoint_failures_are_classified_and_retried_like_gets() {
    let server = server().await;
    let api = client(config(&server));
    server.push_faults(1, FaultTarget::Token, Fault::ServiceUnavailable);
    ok(api.get_session(id_at(&server, 0)).await);
    assert_eq!(server.stats().token_requests, 2);

    let api = client(config(&server));
    server.push_faults(1, FaultTarget::Token, Fault::NotJson);
    let e = err(api.get_session(id_at(&server, 0)).await);
    assert!(matches!(e, Error::InvalidResponse { .. }), "{e:?}");
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_a_drop() {
    // A port that nothing listens on any more.
    let server = server().await;
    let url = server.url().to_owned();
    server.shutdown().await;
    let retry = RetryPolicy::with_backoff(Duration::from_millis(40), Duration::from_millis(40))
        .max_retries(2);
    let config = ClientConfig::new(
        url,
        segura_http::Auth::Bearer(segura_http::Secret::new("t")),
    )
    .retry(retry);
    let api = client(config);
    let started = Instant::now();
    let e = err(api
        .drop_session(&segura_model::SessionHash::from_wire("0".repeat(40)))
        .await);
    assert!(
        matches!(
            e,
            Error::Connect {
                kind: ConnectFailure::Refused,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.never_reached_server());
    assert_hint(&e, "unreachable");
    // Two waits of 20..40 ms each: the drop was tried three times.
    assert!(started.elapsed() >= Duration::from_millis(40));
}

#[tokio::test]
async fn an_unknown_host_is_a_dns_error() {
    let config = ClientConfig::new(
        "https://segura.invalid",
        segura_http::Auth::Bearer(segura_http::Secret::new("t")),
    )
    .retry(RetryPolicy::none())
    .connect_timeout(Duration::from_secs(5));
    let e = err(client(config).list_sessions().await);
    assert!(
        matches!(
            e,
            Error::Connect {
                kind: ConnectFailure::Dns,
                ..
            }
        ),
        "{e:?}"
    );
    assert_hint(&e, "does not resolve");
}

#[tokio::test]
async fn gzip_bodies_are_accepted() {
    let server = server().await;
    let api = client(config(&server));
    let mut list = ok(api.list_sessions().await);
    assert_eq!(drain(&mut list).await, (50, None));
    assert_eq!(server.stats().gzip_responses, 1);
}

#[tokio::test]
async fn no_response_headers_within_the_read_timeout() {
    let server = server().await;
    let api = client(config(&server).read_timeout(Duration::from_millis(200)));
    server.push_faults(
        1,
        FaultTarget::Get,
        Fault::Delay(Duration::from_millis(800)),
    );
    let started = Instant::now();
    let e = err(api.get_session(id_at(&server, 0)).await);
    assert!(
        matches!(
            e,
            Error::Timeout {
                kind: TimeoutKind::Idle,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(700));
    // The server may have processed it: not retried.
    assert_eq!(server.stats().get_requests, 1);
}

#[tokio::test]
async fn a_full_accept_queue_is_a_connect_timeout_and_a_drop_is_tried_again() {
    // A listener that never accepts, with its accept queue filled: further connection
    // attempts get no answer at all, as behind a firewall that drops packets.
    let socket = match tokio::net::TcpSocket::new_v4() {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    if let Err(e) = socket.bind("127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"))) {
        panic!("{e}");
    }
    let addr = socket.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let _listener = socket.listen(1).unwrap_or_else(|e| panic!("{e}"));
    let mut held = Vec::new();
    for _ in 0..8 {
        match tokio::time::timeout(
            Duration::from_millis(100),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(s)) => held.push(s),
            _ => break,
        }
    }
    let retry = RetryPolicy::with_backoff(Duration::from_millis(10), Duration::from_millis(10))
        .max_retries(1);
    let config = ClientConfig::new(
        format!("http://{addr}"),
        segura_http::Auth::Bearer(segura_http::Secret::new("t")),
    )
    .connect_timeout(Duration::from_millis(300))
    .retry(retry);
    let api = client(config);
    let started = Instant::now();
    let e = err(api
        .drop_session(&segura_model::SessionHash::from_wire("0".repeat(40)))
        .await);
    assert!(
        matches!(
            e,
            Error::Timeout {
                kind: TimeoutKind::Connect,
                ..
            }
        ),
        "{e:?}"
    );
    assert_hint(&e, "connectivity");
    // Two attempts of 300 ms: the drop was provably never sent, so it was tried again.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(600), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    drop(held);
}
