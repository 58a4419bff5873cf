//! Every fault, injected through the header, the handle and the
//! configuration, observed by a real client over a real socket.

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use segura_mock::{Fault, FaultTarget, MockConfig, MockServer};
use serde_json::Value;

const LIST: &str = "/api/session/remotesessions";

async fn setup(config: MockConfig) -> Result<(MockServer, reqwest::Client, String), AnyError> {
    let server = start(config).await?;
    let client = client();
    let token = token(&client, &server).await?;
    Ok((server, client, token))
}

/// What a client saw of a body: the bytes, how many pieces, and whether it
/// ended with an error.
struct Streamed {
    status: StatusCode,
    body: Vec<u8>,
    chunks: usize,
    error: Option<reqwest::Error>,
}

async fn stream(
    client: &reqwest::Client,
    server: &MockServer,
    token: &str,
    path: &str,
    fault: Option<&str>,
) -> Result<Streamed, AnyError> {
    let mut request = client
        .get(format!("{}{path}", server.url()))
        .bearer_auth(token);
    if let Some(fault) = fault {
        request = request.header("X-Segura-Mock-Fault", fault);
    }
    let mut response = request.send().await?;
    let status = response.status();
    let mut body = Vec::new();
    let mut chunks = 0;
    let error = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                chunks += 1;
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    Ok(Streamed {
        status,
        body,
        chunks,
        error,
    })
}

fn envelope_message(reply: &Reply) -> Result<(i64, String, bool), AnyError> {
    let v = reply.json()?;
    Ok((
        v["code"].as_i64().ok_or("no code")?,
        v["response"]["message"]
            .as_str()
            .ok_or("no message")?
            .to_owned(),
        v["response"]["error"].as_bool().ok_or("no error flag")?,
    ))
}

#[tokio::test]
async fn delay_between_sessions() -> TestResult {
    let (server, client, token) = setup(MockConfig::default().sessions(5)).await?;
    let started = Instant::now();
    let slow = stream(&client, &server, &token, LIST, Some("delay=30ms")).await?;
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    assert!(slow.error.is_none());
    let normal = api_get(&client, &server, &token, LIST, None).await?;
    assert_eq!(slow.body, normal.body);
    assert!(slow.chunks >= 5, "one frame per session: {}", slow.chunks);
    assert_eq!(server.stats().faults_served, 1);
    Ok(())
}

#[tokio::test]
async fn drip_bytes() -> TestResult {
    let (server, client, token) = setup(MockConfig::default().sessions(2)).await?;
    let started = Instant::now();
    let dripped = stream(&client, &server, &token, LIST, Some("drip=50/3ms")).await?;
    let normal = api_get(&client, &server, &token, LIST, None).await?;
    assert_eq!(dripped.body, normal.body);
    let pieces = normal.body.len().div_ceil(50);
    assert!(
        started.elapsed() >= Duration::from_millis(3 * (pieces as u64 - 1)),
        "{:?}",
        started.elapsed()
    );
    assert!(dripped.chunks >= pieces / 2, "{} chunks", dripped.chunks);

    // One byte at a time, on a small non-list body.
    let started = Instant::now();
    let get = stream(
        &client,
        &server,
        &token,
        "/api/session/remotesessions/x",
        Some("drip=1/1ms"),
    )
    .await?;
    assert_eq!(get.status, StatusCode::BAD_REQUEST);
    assert!(serde_json::from_slice::<Value>(&get.body).is_ok());
    assert!(started.elapsed() >= Duration::from_millis(get.body.len() as u64 - 1));
    Ok(())
}

#[tokio::test]
async fn stall_after_headers() -> TestResult {
    let (server, client, token) = setup(MockConfig::default().sessions(5)).await?;
    let mut response = client
        .get(format!("{}{LIST}", server.url()))
        .bearer_auth(&token)
        .header("X-Segura-Mock-Fault", "stall")
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let waited = tokio::time::timeout(Duration::from_millis(300), response.chunk()).await;
    assert!(waited.is_err(), "no body byte arrives");

    // Shutting the server down closes the stalled connection.
    server.shutdown().await;
    let after = tokio::time::timeout(Duration::from_secs(5), response.chunk()).await?;
    assert!(after.is_err(), "the client sees the connection end");
    Ok(())
}

#[tokio::test]
async fn truncate_after_sessions() -> TestResult {
    let (server, client, token) = setup(MockConfig::default().sessions(10)).await?;
    let cut = stream(&client, &server, &token, LIST, Some("truncate-after=3")).await?;
    assert_eq!(cut.status, StatusCode::OK);
    assert!(cut.error.is_none(), "clean end of the HTTP body");
    assert!(serde_json::from_slice::<Value>(&cut.body).is_err());
    let full = api_get(&client, &server, &token, LIST, None).await?;
    assert!(full.body.starts_with(&cut.body));
    // The cut falls right after the third session.
    let text = String::from_utf8(cut.body)?;
    assert_eq!(text.matches("{\"id\":").count(), 3);
    assert!(text.ends_with('}') && !text.ends_with("]}"));

    // More than the list holds: all sessions, still no closing bracket.
    let all = stream(&client, &server, &token, LIST, Some("truncate-after=50")).await?;
    assert_eq!(all.body.len(), full.body.len() - 2);
    Ok(())
}

#[tokio::test]
async fn reset_after_sessions() -> TestResult {
    let (server, client, token) = setup(MockConfig::default().sessions(10)).await?;
    let reset = stream(&client, &server, &token, LIST, Some("reset-after=4")).await?;
    assert_eq!(reset.status, StatusCode::OK);
    assert!(
        reset.error.is_some(),
        "the client sees an error, not a clean end"
    );
    let full = api_get(&client, &server, &token, LIST, None).await?;
    assert!(full.body.starts_with(&reset.body));
    let text = String::from_utf8(reset.body)?;
    assert_eq!(text.matches("{\"id\":").count(), 4, "{text}");

    // Also on a small body: cut half way, then reset.
    let get = stream(
        &client,
        &server,
        &token,
        "/api/session/remotesessions/x",
        Some("reset-after=0"),
    )
    .await?;
    assert!(get.error.is_some());
    let truncated = stream(
        &client,
        &server,
        &token,
        "/api/session/remotesessions/x",
        Some("truncate-after=0"),
    )
    .await?;
    assert!(truncated.error.is_none());
    assert!(serde_json::from_slice::<Value>(&truncated.body).is_err());
    assert!(!truncated.body.is_empty());
    Ok(())
}

#[tokio::test]
async fn status_faults() -> TestResult {
    let (server, client, token) = setup(MockConfig::default().sessions(3)).await?;
    let get = |fault: &'static str| {
        let (client, server, token) = (&client, &server, &token);
        async move { api_get(client, server, token, LIST, Some(fault)).await }
    };

    let r = get("500").await?;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        envelope_message(&r)?,
        (500, "Unexpected error.".to_owned(), true)
    );

    let r = get("502").await?;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    let html = r.text();
    assert!(html.starts_with("<html>") && html.contains("<title>502 Bad Gateway</title>"));
    assert!(html.contains("An invalid response was received from the upstream server"));
    assert!(r.headers["content-type"].to_str()?.starts_with("text/html"));

    let r = get("503").await?;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.json()?["message"].is_string());

    let r = get("504").await?;
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        r.text(),
        r#"{"message":"The upstream server is timing out"}"#
    );

    let r = get("408").await?;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(r.text(), r#"{"message":"Request timed out"}"#);

    let r = get("429=7").await?;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["retry-after"], "7");
    assert!(r.json()?["message"].is_string());
    let r = get("429").await?;
    assert_eq!(r.headers["retry-after"], "1");

    let r = get("403").await?;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        envelope_message(&r)?,
        (
            403,
            "You are not authorized to access this resource.".to_owned(),
            true
        )
    );

    let r = get("404").await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        envelope_message(&r)?,
        (404, "Resource sub not found".to_owned(), true)
    );

    let r = get("error-in-200").await?;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json()?;
    assert_eq!(v["response"]["error"], true);
    assert_eq!(v["response"]["status"], 500);
    assert!(v.get("remote_sessions").is_none());

    let r = get("not-json").await?;
    assert_eq!(r.status, StatusCode::OK);
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    assert!(r.text().contains("<html"));

    assert_eq!(server.stats().faults_served, 11);
    Ok(())
}

#[tokio::test]
async fn status_faults_hit_every_route() -> TestResult {
    let (server, client, token) = setup(MockConfig::default().sessions(3)).await?;
    let hash = server.generator().session_hash(0);
    let id = server.generator().id(0);
    let token_reply = read(
        client
            .post(format!("{}/iso/oauth2/token", server.url()))
            .header("X-Segura-Mock-Fault", "503")
            .form(&[("grant_type", "client_credentials")]),
    )
    .await?;
    assert_eq!(token_reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let get = api_get(
        &client,
        &server,
        &token,
        &format!("/api/session/remotesessions/{id}"),
        Some("504"),
    )
    .await?;
    assert_eq!(get.status, StatusCode::GATEWAY_TIMEOUT);
    let drop = read(
        client
            .delete(format!("{}/api/pam/session/drop/{hash}", server.url()))
            .bearer_auth(&token)
            .header("X-Segura-Mock-Fault", "500"),
    )
    .await?;
    assert_eq!(drop.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        server.stats().sessions_dropped,
        0,
        "a faulted drop drops nothing"
    );
    Ok(())
}

#[tokio::test]
async fn expired_token_fault_exercises_refresh() -> TestResult {
    let (server, client, token) = setup(MockConfig::default().sessions(3)).await?;
    // The next two API calls find their token expired.
    server.push_faults(2, FaultTarget::Any, Fault::ExpiredToken);
    let first = api_get(&client, &server, &token, LIST, None).await?;
    assert_eq!(first.status, StatusCode::UNAUTHORIZED);
    assert_eq!(first.json()?["message"], "Client authentication failed");
    // The token stays dead: retrying it does not help.
    let again = api_get(&client, &server, &token, LIST, None).await?;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);

    // Token requests are never hit by this fault.
    let second = common::token(&client, &server).await?;
    let refreshed = api_get(&client, &server, &second, LIST, None).await?;
    assert_eq!(
        refreshed.status,
        StatusCode::UNAUTHORIZED,
        "second queued fault"
    );
    let third = common::token(&client, &server).await?;
    assert_eq!(
        api_get(&client, &server, &third, LIST, None).await?.status,
        StatusCode::OK
    );

    // Through the header too.
    let by_header = api_get(&client, &server, &third, LIST, Some("expired-token")).await?;
    assert_eq!(by_header.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api_get(&client, &server, &third, LIST, None).await?.status,
        StatusCode::UNAUTHORIZED
    );
    let stats = server.stats();
    assert_eq!(stats.tokens_issued, 3);
    assert_eq!(stats.faults_served, 3);
    Ok(())
}

#[tokio::test]
async fn queued_faults_then_normal() -> TestResult {
    let (server, client, token) = setup(MockConfig::default().sessions(3)).await?;
    server.push_faults(2, FaultTarget::List, Fault::ServiceUnavailable);
    server.push_faults(
        1,
        FaultTarget::Token,
        Fault::TooManyRequests { retry_after: 2 },
    );
    let id = server.generator().id(0);
    // A get does not consume list faults.
    let get = api_get(
        &client,
        &server,
        &token,
        &format!("/api/session/remotesessions/{id}"),
        None,
    )
    .await?;
    assert_eq!(get.status, StatusCode::OK);
    for _ in 0..2 {
        let r = api_get(&client, &server, &token, LIST, None).await?;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(
        api_get(&client, &server, &token, LIST, None).await?.status,
        StatusCode::OK
    );
    assert!(common::token(&client, &server).await.is_err(), "429 once");
    assert!(common::token(&client, &server).await.is_ok());
    assert_eq!(server.stats().faults_served, 3);
    Ok(())
}

#[tokio::test]
async fn standing_faults_until_cleared() -> TestResult {
    let (server, client, token) = setup(MockConfig::default().sessions(8)).await?;
    server.set_fault(FaultTarget::Any, Fault::InternalError);
    for _ in 0..3 {
        let r = api_get(&client, &server, &token, LIST, None).await?;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
    assert!(common::token(&client, &server).await.is_err());

    // A header replaces standing faults for its request ("none" = no fault).
    let clean = api_get(&client, &server, &token, LIST, Some("none")).await?;
    assert_eq!(clean.status, StatusCode::OK);

    server.clear_faults();
    server.set_fault(FaultTarget::List, Fault::TruncateAfter(2));
    server.set_fault(FaultTarget::List, Fault::Delay(Duration::from_millis(1)));
    let cut = stream(&client, &server, &token, LIST, None).await?;
    assert!(cut.error.is_none());
    assert_eq!(String::from_utf8(cut.body)?.matches("{\"id\":").count(), 2);
    // Same kind for the same target replaces.
    server.set_fault(FaultTarget::List, Fault::TruncateAfter(5));
    let cut = stream(&client, &server, &token, LIST, None).await?;
    assert_eq!(String::from_utf8(cut.body)?.matches("{\"id\":").count(), 5);

    server.clear_faults();
    assert_eq!(
        parse_list(&api_get(&client, &server, &token, LIST, None).await?.body)?
            .remote_sessions
            .len(),
        8
    );
    Ok(())
}

#[tokio::test]
async fn faults_from_the_configuration() -> TestResult {
    let (server, client, token) = setup(
        MockConfig::default()
            .sessions(4)
            .fault(FaultTarget::Get, Fault::NotFound)
            .fault(FaultTarget::List, Fault::ResetAfter(1)),
    )
    .await?;
    let id = server.generator().id(0);
    let get = api_get(
        &client,
        &server,
        &token,
        &format!("/api/session/remotesessions/{id}"),
        None,
    )
    .await?;
    assert_eq!(get.status, StatusCode::NOT_FOUND);
    assert_eq!(get.json()?["response"]["message"], "Resource sub not found");
    let list = stream(&client, &server, &token, LIST, None).await?;
    assert!(list.error.is_some());
    Ok(())
}

#[tokio::test]
async fn combined_header_faults() -> TestResult {
    let (server, client, token) = setup(MockConfig::default().sessions(6)).await?;
    let started = Instant::now();
    let r = stream(
        &client,
        &server,
        &token,
        LIST,
        Some("delay=10ms, truncate-after=3"),
    )
    .await?;
    assert!(started.elapsed() >= Duration::from_millis(20));
    assert_eq!(String::from_utf8(r.body)?.matches("{\"id\":").count(), 3);

    // A status fault with a body fault: the error body is dripped.
    let r = stream(&client, &server, &token, LIST, Some("504, drip=8/1ms")).await?;
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(
        r.body,
        br#"{"message":"The upstream server is timing out"}"#
    );
    assert!(r.chunks > 1);
    assert_eq!(server.stats().faults_served, 4);
    Ok(())
}

#[tokio::test]
async fn bad_fault_header_is_refused() -> TestResult {
    let (server, client, token) = setup(MockConfig::default().sessions(1)).await?;
    let r = api_get(&client, &server, &token, LIST, Some("teapot")).await?;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()?["message"]
        .as_str()
        .is_some_and(|m| m.contains("teapot")));
    Ok(())
}
