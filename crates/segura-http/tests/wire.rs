//! What goes on the wire, seen by a bare loopback socket (the mock does not record
//! request headers): the path under a prefix, the User-Agent, and redirects not followed.

mod common;

use std::time::Duration;

use common::*;
use segura_api::{Error, SessionApi};
use segura_http::{Auth, ClientConfig, RetryPolicy, Secret, USER_AGENT};

#[tokio::test]
async fn path_prefix_user_agent_and_authorization_on_the_wire() {
    let (l, url) = listener().await;
    let peer = tokio::spawn(one_request(
        l,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 46\r\nconnection: close\r\n\r\n{\"code\":200,\"tenant\":\"t\",\"remote_sessions\":[]}".to_owned(),
    ));
    let config = ClientConfig::new(
        format!("{url}/pam/core"),
        Auth::Bearer(Secret::new("tok3n")),
    )
    .retry(RetryPolicy::none());
    let mut list = ok(client(config).list_sessions().await);
    assert_eq!(drain(&mut list).await, (0, None));
    let head = match peer.await {
        Ok(h) => h,
        Err(e) => panic!("{e}"),
    };
    let lower = head.to_ascii_lowercase();
    assert!(
        head.starts_with("GET /pam/core/api/session/remotesessions HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        lower.contains(&format!(
            "user-agent: {}\r\n",
            USER_AGENT.to_ascii_lowercase()
        )),
        "{head}"
    );
    assert!(USER_AGENT.starts_with("segura-http/"));
    assert!(lower.contains("authorization: bearer tok3n\r\n"), "{head}");
    assert!(lower.contains("accept-encoding: gzip"), "{head}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (elsewhere, elsewhere_url) = listener().await;
    let (l, url) = listener().await;
    let answer = format!(
        "HTTP/1.1 302 Found\r\nlocation: {elsewhere_url}/api/session/remotesessions\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    let peer = tokio::spawn(one_request(l, answer));
    let config = ClientConfig::new(url, Auth::Bearer(Secret::new("tok3n")));
    let e = err(client(config).list_sessions().await);
    match &e {
        Error::Api {
            status: Some(302),
            message,
            ..
        } => assert!(message.contains(&elsewhere_url), "{message}"),
        other => panic!("{other:?}"),
    }
    let _ = peer.await;
    // Nobody knocked on the other address: the token did not follow the redirect.
    let knocked = tokio::time::timeout(Duration::from_millis(200), elsewhere.accept()).await;
    assert!(knocked.is_err(), "the client followed the redirect");
}

#[tokio::test]
async fn compression_off_asks_for_no_gzip() {
    let (l, url) = listener().await;
    let peer = tokio::spawn(one_request(
        l,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 46\r\nconnection: close\r\n\r\n{\"code\":200,\"tenant\":\"t\",\"remote_sessions\":[]}".to_owned(),
    ));
    let config = ClientConfig::new(url, Auth::Bearer(Secret::new("tok3n")))
        .retry(RetryPolicy::none())
        .compression(false);
    let mut list = ok(client(config).list_sessions().await);
    assert_eq!(drain(&mut list).await, (0, None));
    let head = match peer.await {
        Ok(h) => h,
        Err(e) => panic!("{e}"),
    };
    assert!(!head.to_ascii_lowercase().contains("gzip"), "{head}");
}
