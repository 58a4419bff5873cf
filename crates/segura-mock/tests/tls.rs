//! The same endpoints and body faults over HTTPS, trusting only the CA the
//! server hands back.

mod common;

use common::*;
use reqwest::StatusCode;
use segura_mock::generator::write_list_body;
use segura_mock::oauth1;
use segura_mock::MockConfig;

#[tokio::test]
async fn endpoints_over_tls() -> TestResult {
    let server = start(MockConfig::default().tls(true).sessions(40).seed(2)).await?;
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let pem = server.ca_cert_pem().ok_or("no CA")?;
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let client = tls_client(&server)?;
    let token = token(&client, &server).await?;

    let list = api_get(
        &client,
        &server,
        &token,
        "/api/session/remotesessions",
        None,
    )
    .await?;
    assert_eq!(list.status, StatusCode::OK);
    let mut expected = Vec::new();
    write_list_body(&mut expected, 2, 40)?;
    assert_eq!(list.body, expected);
    for session in &parse_list(&list.body)?.remote_sessions {
        check_session(session)?;
    }

    let id = server.generator().id(3);
    let get = api_get(
        &client,
        &server,
        &token,
        &format!("/api/session/remotesessions/{id}"),
        None,
    )
    .await?;
    assert_eq!(get.status, StatusCode::OK);

    let hash = server.generator().session_hash(3);
    let drop = read(
        client
            .delete(format!("{}/api/pam/session/drop/{hash}", server.url()))
            .bearer_auth(&token),
    )
    .await?;
    assert_eq!(drop.status, StatusCode::OK);
    assert_eq!(
        drop.json()?["response"]["message"],
        "Session dropped successfully"
    );

    // localhost is in the certificate too.
    let localhost = server.url().replace("127.0.0.1", "localhost");
    let via_name = read(
        client
            .get(format!("{localhost}/api/session/remotesessions"))
            .bearer_auth(&token),
    )
    .await?;
    assert_eq!(via_name.status, StatusCode::OK);

    // OAuth 1.0a signs the https URL.
    let url = format!("{}/api/session/remotesessions", server.url());
    let header = oauth1::authorization_header("GET", &url, server.oauth1_credentials(), 1, "tls")?;
    let signed = read(client.get(&url).header("authorization", header)).await?;
    assert_eq!(signed.status, StatusCode::OK);
    assert_eq!(server.stats().oauth1_verified, 1);
    Ok(())
}

#[tokio::test]
async fn untrusted_certificate_is_refused() -> TestResult {
    let server = start(MockConfig::default().tls(true)).await?;
    let plain = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build()?;
    let result = plain
        .post(format!("{}/iso/oauth2/token", server.url()))
        .send()
        .await;
    assert!(result.is_err(), "a client that does not trust the CA fails");
    assert_eq!(server.stats().requests, 0);

    // Each start has its own CA.
    let other = start(MockConfig::default().tls(true)).await?;
    assert_ne!(other.ca_cert_pem(), server.ca_cert_pem());
    Ok(())
}

#[tokio::test]
async fn body_faults_over_tls() -> TestResult {
    let server = start(MockConfig::default().tls(true).sessions(20)).await?;
    let client = tls_client(&server)?;
    let token = token(&client, &server).await?;
    let url = format!("{}/api/session/remotesessions", server.url());

    let mut reset = client
        .get(&url)
        .bearer_auth(&token)
        .header("X-Segura-Mock-Fault", "reset-after=5")
        .send()
        .await?;
    let mut received = Vec::new();
    let error = loop {
        match reset.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    assert!(error.is_some(), "reset is an error over TLS too");
    assert!(String::from_utf8(received)?.matches("{\"id\":").count() <= 5);

    let cut = client
        .get(&url)
        .bearer_auth(&token)
        .header("X-Segura-Mock-Fault", "truncate-after=5")
        .send()
        .await?
        .bytes()
        .await?;
    assert_eq!(
        String::from_utf8(cut.to_vec())?.matches("{\"id\":").count(),
        5
    );

    let status = api_get(
        &client,
        &server,
        &token,
        "/api/session/remotesessions",
        Some("502"),
    )
    .await?;
    assert_eq!(status.status, StatusCode::BAD_GATEWAY);
    Ok(())
}
