//! System proxy settings are honoured: with `HTTP_PROXY` set, requests go through the
//! proxy (absolute-form request line), and `NO_PROXY` exempts a host. Environment
//! variables are process-wide, so this file holds one test and runs in its own process.

mod common;

use common::*;
use segura_api::{ConnectFailure, Error, SessionApi};
use segura_http::{Auth, ClientConfig, RetryPolicy, Secret};

#[tokio::test]
async fn http_proxy_is_used_and_no_proxy_exempts_a_host() {
    let (l, proxy_url) = listener().await;
    let peer = tokio::spawn(one_request(
        l,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 46\r\nconnection: close\r\n\r\n{\"code\":200,\"tenant\":\"t\",\"remote_sessions\":[]}".to_owned(),
    ));
    // A host that does not resolve: only the proxy can reach it.
    let config = || {
        ClientConfig::new(
            "http://pam.invalid:8080",
            Auth::Bearer(Secret::new("tok3n")),
        )
        .retry(RetryPolicy::none())
    };
    std::env::set_var("HTTP_PROXY", &proxy_url);
    std::env::remove_var("NO_PROXY");
    let mut list = ok(client(config()).list_sessions().await);
    assert_eq!(drain(&mut list).await, (0, None));
    let head = match peer.await {
        Ok(h) => h,
        Err(e) => panic!("{e}"),
    };
    assert!(
        head.starts_with("GET http://pam.invalid:8080/api/session/remotesessions HTTP/1.1\r\n"),
        "{head}"
    );

    // Exempted, the client goes direct, and the host does not resolve.
    std::env::set_var("NO_PROXY", "pam.invalid");
    let e = err(client(config()).list_sessions().await);
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
    std::env::remove_var("HTTP_PROXY");
    std::env::remove_var("NO_PROXY");
}
