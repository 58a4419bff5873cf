//! TLS over loopback against the mock's own CA: trusted explicitly, not trusted, wrong
//! host name, verification turned off, CA certificate files.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::*;
use segura_api::{ConnectFailure, Error, SessionApi};
use segura_http::{ClientAuthMethod, ClientConfig, HttpClient};
use segura_mock::MockConfig;

fn tls_server() -> MockConfig {
    MockConfig::default().sessions(20).tls(true)
}

#[tokio::test]
async fn the_mocks_ca_trusted_explicitly() {
    let server = start(tls_server()).await;
    assert!(server.url().starts_with("https://"));
    let api = client(config(&server));
    let mut list = ok(api.list_sessions().await);
    assert_eq!(drain(&mut list).await, (20, None));
    // OAuth 1.0a signs the https URL.
    let signed = client(config_with(&server, oauth1(&server)));
    ok(signed.get_session(id_at(&server, 2)).await);
    assert_eq!(server.stats().oauth1_verified, 1);
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error_that_suggests_ca_cert() {
    let server = start(tls_server()).await;
    let config = ClientConfig::new(server.url(), oauth2(&server, ClientAuthMethod::Body))
        .retry(fast_retry());
    let api = client(config);
    let e = err(api.list_sessions().await);
    match &e {
        Error::Connect {
            kind: ConnectFailure::Tls,
            message,
            ..
        } => assert!(message.contains("certificate"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_hint(&e, "CA certificate");
    assert!(e.never_reached_server() && !e.is_retryable());
    // The transport's own errors stay reachable as the error's source chain, down to
    // the TLS layer's verdict on the certificate.
    let mut chain = Vec::new();
    let mut next = std::error::Error::source(&e);
    while let Some(cause) = next {
        chain.push(cause.to_string());
        next = cause.source();
    }
    assert!(!chain.is_empty(), "no source kept: {e:?}");
    assert!(
        chain
            .iter()
            .any(|c| c.to_lowercase().contains("certificate")),
        "{chain:#?}"
    );
    // Not even the token request reached the server: the secret never left.
    assert_eq!(server.stats().requests, 0);
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_tls_error() {
    // The mock's certificate names 127.0.0.1, ::1 and localhost; 127.0.0.2 is loopback
    // too, but not named.
    let server = start(tls_server().bind(IpAddr::V4(Ipv4Addr::UNSPECIFIED))).await;
    let url = format!("https://127.0.0.2:{}", server.addr().port());
    let mut config = config(&server);
    config.base_url = url;
    let e = err(client(config).list_sessions().await);
    assert!(
        matches!(
            e,
            Error::Connect {
                kind: ConnectFailure::Tls,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(server.stats().requests, 0);
}

#[tokio::test]
async fn https_to_a_plain_http_port_is_a_tls_error() {
    let server = start(MockConfig::default()).await;
    let mut config = config(&server);
    config.base_url = server.url().replace("http://", "https://");
    let e = err(client(config).list_sessions().await);
    assert!(
        matches!(
            e,
            Error::Connect {
                kind: ConnectFailure::Tls,
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn danger_accept_invalid_certs_accepts_the_untrusted_certificate() {
    let server = start(tls_server()).await;
    let config = ClientConfig::new(server.url(), oauth2(&server, ClientAuthMethod::Body))
        .danger_accept_invalid_certs(true);
    let api = client(config);
    let mut list = ok(api.list_sessions().await);
    assert_eq!(drain(&mut list).await, (20, None));
}

#[tokio::test]
async fn ca_certificate_from_a_file() {
    let server = start(tls_server()).await;
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    };
    let path = dir.path().join("ca.pem");
    if let Err(e) = std::fs::write(&path, server.ca_cert_pem().unwrap_or_default()) {
        panic!("{e}");
    }
    let config = ok(
        ClientConfig::new(server.url(), oauth2(&server, ClientAuthMethod::Body))
            .ca_cert_file(&path),
    );
    let api = client(config);
    ok(api.get_session(id_at(&server, 0)).await);

    // A file that is not a certificate: refused when the client is built, naming it.
    let junk = dir.path().join("junk.pem");
    if let Err(e) = std::fs::write(&junk, "not a certificate\n") {
        panic!("{e}");
    }
    let config = ok(
        ClientConfig::new(server.url(), oauth2(&server, ClientAuthMethod::Body))
            .ca_cert_file(&junk),
    );
    match HttpClient::new(config) {
        Err(Error::Config { message }) => assert!(message.contains("junk.pem"), "{message}"),
        other => panic!("{other:?}"),
    }

    // A file that does not exist.
    let missing = ClientConfig::new(server.url(), oauth2(&server, ClientAuthMethod::Body))
        .ca_cert_file(dir.path().join("missing.pem"));
    assert!(matches!(missing, Err(Error::Input { .. })), "{missing:?}");
}
