//! Authentication over loopback: OAuth 2.0 (body and Basic), OAuth 1.0a, a ready bearer
//! token; the token cache, renewal on 401, single-flight renewal; redaction of secrets.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use segura_api::{AuthFailure, Error, SessionApi};
use segura_http::{Auth, ClientAuthMethod, ClientConfig, HttpClient, RetryPolicy, Secret};
use segura_mock::{Fault, FaultTarget, MockConfig};

#[tokio::test]
async fn oauth2_credentials_in_the_body() {
    let server = start(MockConfig::default().sessions(25)).await;
    let api = client(config(&server));
    let mut list = ok(api.list_sessions().await);
    assert_eq!(drain(&mut list).await, (25, None));
    let s = ok(api.get_session(id_at(&server, 3)).await);
    assert_eq!(s.id, id_at(&server, 3));
    let stats = server.stats();
    assert_eq!(stats.token_requests, 1);
    assert_eq!(stats.tokens_issued, 1);
    assert_eq!(stats.token_uses.values().sum::<u64>(), 2);
}

#[tokio::test]
async fn oauth2_credentials_as_http_basic() {
    // Characters that RFC 6749 section 2.3.1 form-encodes before base64.
    let server = start(
        MockConfig::default()
            .client_id("my client:1")
            .client_secret("s3cr3t+/%&="),
    )
    .await;
    let api = client(config_with(
        &server,
        oauth2(&server, ClientAuthMethod::Basic),
    ));
    let mut list = ok(api.list_sessions().await);
    assert_eq!(drain(&mut list).await, (100, None));
    assert_eq!(server.stats().tokens_issued, 1);
    assert_eq!(server.stats().token_rejections, 0);
}

#[tokio::test]
async fn wrong_client_secret_is_invalid_client_after_one_basic_retry_at_most() {
    let server = start(MockConfig::default()).await;
    for method in [ClientAuthMethod::Body, ClientAuthMethod::Basic] {
        let auth = Auth::OAuth2 {
            client_id: server.client_id().to_owned(),
            client_secret: Secret::new("not-the-secret"),
            method,
        };
        let api = client(config_with(&server, auth));
        let e = err(api.list_sessions().await);
        assert!(
            matches!(
                e,
                Error::Auth {
                    kind: AuthFailure::InvalidClient,
                    status: Some(401),
                    ..
                }
            ),
            "{e:?}"
        );
        assert_hint(&e, "client id and secret");
        assert!(!e.to_string().contains("not-the-secret"), "{e}");
    }
    // The body form refused with invalid_client is tried once more with Basic; Basic
    // refused is final: three token requests, never a list.
    let stats = server.stats();
    assert_eq!(stats.token_requests, 3);
    assert_eq!(stats.list_requests, 0);
}

#[tokio::test]
async fn oauth1_signatures_verify_on_every_endpoint() {
    let server = start(MockConfig::default().sessions(10)).await;
    let api = client(config_with(&server, oauth1(&server)));
    let mut list = ok(api.list_sessions().await);
    assert_eq!(drain(&mut list).await, (10, None));
    ok(api.get_session(id_at(&server, 0)).await);
    let dropped = ok(api.drop_session(&hash_at(&server, 1)).await);
    assert_eq!(
        dropped.envelope.message(),
        Some("Session dropped successfully")
    );
    let stats = server.stats();
    assert_eq!(stats.oauth1_verified, 3);
    assert_eq!(stats.oauth1_rejected, 0);
    assert_eq!(stats.token_requests, 0);
}

#[tokio::test]
async fn oauth1_retries_are_signed_afresh() {
    let server = start(MockConfig::default().sessions(10)).await;
    let api = client(config_with(&server, oauth1(&server)));
    // The mock refuses a nonce it has seen: a retry must carry a new one.
    server.push_faults(2, FaultTarget::List, Fault::ServiceUnavailable);
    let mut list = ok(api.list_sessions().await);
    assert_eq!(drain(&mut list).await, (10, None));
    let stats = server.stats();
    assert_eq!(stats.list_requests, 3);
    assert_eq!(stats.oauth1_verified, 3);
    assert_eq!(stats.oauth1_rejected, 0);
}

#[tokio::test]
async fn oauth1_wrong_secret_is_refused_as_invalid_client() {
    let server = start(MockConfig::default()).await;
    let c = server.oauth1_credentials();
    let auth = Auth::OAuth1 {
        consumer_key: c.consumer_key.clone(),
        consumer_secret: Secret::new("wrong"),
        token: c.token.clone(),
        token_secret: Secret::new(c.token_secret.clone()),
    };
    let api = client(config_with(&server, auth));
    let e = err(api.get_session(id_at(&server, 0)).await);
    assert!(
        matches!(
            e,
            Error::Auth {
                kind: AuthFailure::InvalidClient,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(server.stats().oauth1_rejected, 1);
    assert_eq!(server.stats().get_requests, 1);
}

/// Gets a token from the mock's token endpoint directly, as another tool would.
async fn token_from(server: &segura_mock::MockServer) -> String {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", server.client_id()),
        ("client_secret", server.client_secret()),
    ];
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let answer = reqwest::Client::new()
        .post(format!("{}/iso/oauth2/token", server.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .and_then(|r| r.error_for_status());
    let text = match answer {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(e) => panic!("token request failed: {e}"),
    };
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    value["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn ready_bearer_token() {
    let server = start(MockConfig::default().sessions(5)).await;
    let token = token_from(&server).await;
    assert!(!token.is_empty());
    let api = client(config_with(
        &server,
        Auth::Bearer(Secret::new(token.clone())),
    ));
    let mut list = ok(api.list_sessions().await);
    assert_eq!(drain(&mut list).await, (5, None));
    ok(api.get_session(id_at(&server, 4)).await);
    let stats = server.stats();
    assert_eq!(stats.token_requests, 1, "only the test's own token request");
    assert_eq!(stats.token_uses.get(&token), Some(&2));

    // Once it expires there is nothing to renew: the refusal is reported.
    server.expire_tokens();
    let e = err(api.get_session(id_at(&server, 4)).await);
    assert!(
        matches!(
            e,
            Error::Auth {
                kind: AuthFailure::TokenRefused,
                status: Some(401),
                ..
            }
        ),
        "{e:?}"
    );
    assert_hint(&e, "new access token");
    assert_eq!(server.stats().token_requests, 1);
}

#[tokio::test]
async fn empty_credentials_are_configuration_errors() {
    for auth in [
        Auth::Bearer(Secret::new(" ")),
        Auth::OAuth2 {
            client_id: "id".into(),
            client_secret: Secret::new(""),
            method: ClientAuthMethod::Body,
        },
        Auth::OAuth2 {
            client_id: "".into(),
            client_secret: Secret::new("s"),
            method: ClientAuthMethod::Body,
        },
    ] {
        let e = err(HttpClient::new(ClientConfig::new(
            "https://pam.example.com",
            auth,
        )));
        assert!(matches!(e, Error::Config { .. }), "{e:?}");
    }
}

#[tokio::test]
async fn the_token_is_cached() {
    let server = start(MockConfig::default().sessions(10)).await;
    let api = client(config(&server));
    for i in 0..5 {
        ok(api.get_session(id_at(&server, i)).await);
    }
    // Clones share the cache.
    let clone = api.clone();
    ok(clone.get_session(id_at(&server, 5)).await);
    let stats = server.stats();
    assert_eq!(stats.token_requests, 1);
    assert_eq!(stats.token_uses.values().copied().collect::<Vec<_>>(), [6]);
}

#[tokio::test]
async fn the_token_is_renewed_before_it_expires() {
    // expires_in = 1 s, so the token is used for half of it (the margin is longer).
    let server = start(
        MockConfig::default()
            .sessions(10)
            .token_lifetime(Duration::from_secs(1)),
    )
    .await;
    let api = client(config(&server));
    ok(api.get_session(id_at(&server, 0)).await);
    ok(api.get_session(id_at(&server, 1)).await);
    assert_eq!(server.stats().token_requests, 1);
    tokio::time::sleep(Duration::from_millis(600)).await;
    ok(api.get_session(id_at(&server, 2)).await);
    let stats = server.stats();
    assert_eq!(stats.token_requests, 2);
    assert_eq!(
        stats.unauthorized, 0,
        "renewed before the server refused it"
    );
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_and_the_call_retried() {
    let server = start(MockConfig::default().sessions(10)).await;
    let api = client(config(&server));
    ok(api.get_session(id_at(&server, 0)).await);
    server.push_faults(1, FaultTarget::Get, Fault::ExpiredToken);
    let s = ok(api.get_session(id_at(&server, 1)).await);
    assert_eq!(s.id, id_at(&server, 1));
    let stats = server.stats();
    assert_eq!(stats.token_requests, 2);
    assert_eq!(stats.unauthorized, 1);
    assert_eq!(stats.get_requests, 3);

    // The list and the drop renew the same way.
    server.push_faults(1, FaultTarget::List, Fault::ExpiredToken);
    let mut list = ok(api.list_sessions().await);
    assert_eq!(drain(&mut list).await, (10, None));
    server.push_faults(1, FaultTarget::Drop, Fault::ExpiredToken);
    ok(api.drop_session(&hash_at(&server, 2)).await);
    let stats = server.stats();
    assert_eq!(stats.token_requests, 4);
    assert_eq!(stats.sessions_dropped, 1);
}

#[tokio::test]
async fn a_token_refused_twice_is_reported_after_one_renewal() {
    let server = start(MockConfig::default().sessions(10)).await;
    let api = client(config(&server));
    server.push_faults(2, FaultTarget::Get, Fault::ExpiredToken);
    let e = err(api.get_session(id_at(&server, 0)).await);
    assert!(
        matches!(
            e,
            Error::Auth {
                kind: AuthFailure::TokenRefused,
                ..
            }
        ),
        "{e:?}"
    );
    assert_hint(&e, "new access token");
    let stats = server.stats();
    assert_eq!(stats.token_requests, 2, "one token, one renewal, no more");
    assert_eq!(stats.get_requests, 2);
    // The next call starts afresh.
    ok(api.get_session(id_at(&server, 0)).await);
    assert_eq!(server.stats().token_requests, 3);
}

/// Runs `n` concurrent gets on clones of `api`; all must succeed.
async fn concurrent_gets(api: &HttpClient, server: &segura_mock::MockServer, n: u64) {
    let mut tasks = Vec::new();
    for i in 0..n {
        let api = api.clone();
        let id = id_at(server, i % 100);
        tasks.push(tokio::spawn(async move { api.get_session(id).await }));
    }
    for t in tasks {
        match t.await {
            Ok(r) => {
                ok(r);
            }
            Err(e) => panic!("task failed: {e}"),
        }
    }
}

fn concurrent_config(server: &segura_mock::MockServer) -> ClientConfig {
    // Under a thousand connections at once, a slow accept is not the point here.
    config(server).retry(
        RetryPolicy::with_backoff(Duration::from_millis(20), Duration::from_millis(200))
            .max_retries(5),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_calls_after_a_server_side_expiry_share_one_renewal() {
    let server = start(MockConfig::default().sessions(100)).await;
    let api = client(concurrent_config(&server));
    ok(api.get_session(id_at(&server, 0)).await);
    server.expire_tokens();
    concurrent_gets(&api, &server, 1000).await;
    let stats = server.stats();
    assert_eq!(
        stats.token_requests, 2,
        "the first token and exactly one renewal"
    );
    assert!(stats.unauthorized >= 1, "{stats:?}");
    assert_eq!(stats.get_requests, 1 + 1000 + stats.unauthorized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_calls_after_a_local_expiry_share_one_token_request() {
    let server = start(
        MockConfig::default()
            .sessions(100)
            .token_lifetime(Duration::from_secs(2)),
    )
    .await;
    let api = client(concurrent_config(&server));
    ok(api.get_session(id_at(&server, 0)).await);
    // A 2 s token is used for 1 s: past it, the thousand calls need one renewal, and
    // one more for every further second they take on a loaded machine.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let started = std::time::Instant::now();
    concurrent_gets(&api, &server, 1000).await;
    let renewals_allowed = 1 + started.elapsed().as_secs();
    let stats = server.stats();
    assert!(
        (2..=1 + renewals_allowed).contains(&stats.token_requests),
        "{} token requests in {:?}",
        stats.token_requests,
        started.elapsed()
    );
    assert_eq!(stats.unauthorized, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_token_request_is_shared_by_the_callers_waiting_for_it() {
    let server = start(MockConfig::default().sessions(100)).await;
    server.push_faults(1, FaultTarget::Token, Fault::InternalError);
    let api = client(config(&server));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let api = api.clone();
        let id = id_at(&server, i % 100);
        tasks.push(tokio::spawn(async move { api.get_session(id).await }));
    }
    let mut failures = 0;
    for t in tasks {
        if let Ok(Err(e)) = t.await {
            assert!(matches!(e, Error::Server { status: 500, .. }), "{e:?}");
            failures += 1;
        }
    }
    let stats = server.stats();
    // Callers that arrived after the failure try again (and succeed): never one request
    // per caller.
    assert!(failures >= 1);
    assert!(stats.token_requests <= 3, "{stats:?}");
    assert_eq!(stats.token_requests, 1 + u64::from(failures < 200));
}

#[test]
fn debug_output_redacts_every_secret() {
    let secret = Secret::new("hunter2");
    assert_eq!(format!("{secret:?}"), "[redacted]");
    assert_eq!(secret.to_string(), "[redacted]");
    assert_eq!(secret.expose(), "hunter2");

    let auth = Auth::OAuth2 {
        client_id: "ci".into(),
        client_secret: Secret::new("hunter2"),
        method: ClientAuthMethod::Body,
    };
    assert_eq!(
        format!("{auth:?}"),
        "OAuth2 { client_id: \"ci\", client_secret: [redacted], method: Body }"
    );
    let oauth1 = Auth::OAuth1 {
        consumer_key: "ck".into(),
        consumer_secret: Secret::new("hunter2"),
        token: "tk".into(),
        token_secret: Secret::new("hunter3"),
    };
    assert_eq!(
        format!("{oauth1:?}"),
        "OAuth1 { consumer_key: \"ck\", consumer_secret: [redacted], token: \"tk\", token_secret: [redacted] }"
    );
    let bearer = Auth::Bearer(Secret::new("hunter2"));
    assert_eq!(format!("{bearer:?}"), "Bearer([redacted])");

    let mut config = ClientConfig::new("https://pam.example.com/", auth)
        .ca_cert_pem(b"-----BEGIN CERTIFICATE-----".to_vec())
        .retry(RetryPolicy::none());
    assert_eq!(
        format!("{config:?}"),
        "ClientConfig { base_url: \"https://pam.example.com/\", \
         auth: OAuth2 { client_id: \"ci\", client_secret: [redacted], method: Body }, \
         ca_cert_pem: Some(<27 bytes of PEM>), ca_cert_path: None, \
         danger_accept_invalid_certs: false, connect_timeout: 30s, read_timeout: 120s, \
         total_timeout: None, call_timeout: 300s, retry: RetryPolicy { max_retries: 0, initial_backoff: 500ms, \
         max_backoff: 10s, max_elapsed: 60s }, token_refresh_margin: 30s, compression: true }"
    );
    // A certificate that is not one is refused when the client is built.
    let e = err(HttpClient::new(config.clone()));
    assert!(matches!(e, Error::Config { .. }), "{e:?}");
    config.ca_cert_pem = None;
    let client = match HttpClient::new(config) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let shown = format!("{client:?}");
    assert!(
        shown.contains("[redacted]") && !shown.contains("hunter2"),
        "{shown}"
    );
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        self.0
            .lock()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn logs_never_show_secrets_or_tokens() {
    let capture = Captured::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = start(
        MockConfig::default()
            .sessions(5)
            .client_secret("cl1ent-s3cret"),
    )
    .await;
    let api = client(config(&server));
    let mut list = ok(api.list_sessions().await);
    drain(&mut list).await;
    server.push_faults(1, FaultTarget::Get, Fault::ExpiredToken);
    ok(api.get_session(id_at(&server, 1)).await);
    server.push_faults(1, FaultTarget::Get, Fault::ServiceUnavailable);
    ok(api.get_session(id_at(&server, 1)).await);
    let basic = client(config_with(
        &server,
        oauth2(&server, ClientAuthMethod::Basic),
    ));
    ok(basic.get_session(id_at(&server, 1)).await);
    let signed = client(config_with(&server, oauth1(&server)));
    ok(signed.get_session(id_at(&server, 1)).await);
    let wrong = client(config_with(
        &server,
        Auth::OAuth2 {
            client_id: server.client_id().into(),
            client_secret: Secret::new("wr0ng-s3cret"),
            method: ClientAuthMethod::Basic,
        },
    ));
    let e = err(wrong.get_session(id_at(&server, 1)).await);
    assert!(!format!("{e} {e:?}").contains("wr0ng-s3cret"));

    let log = capture.text();
    assert!(log.contains("access token obtained"), "{log}");
    assert!(log.contains("retrying"), "{log}");
    let tokens: Vec<String> = server.stats().token_uses.keys().cloned().collect();
    assert!(tokens.len() >= 3);
    let o1 = server.oauth1_credentials();
    for secret in tokens.iter().map(String::as_str).chain([
        "cl1ent-s3cret",
        "wr0ng-s3cret",
        &o1.consumer_secret,
        &o1.token_secret,
    ]) {
        assert!(!log.contains(secret), "the log shows {secret}:\n{log}");
    }
    assert!(
        !log.to_ascii_lowercase().contains("authorization:"),
        "{log}"
    );
}
