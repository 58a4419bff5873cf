//! Every endpoint over a real socket: tokens, list, get, drop, the
//! alternative paths, authentication failures, OAuth 1.0a, dataset mutation
//! and counters.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use base64::Engine as _;
use common::*;
use reqwest::StatusCode;
use segura_mock::generator::write_list_body;
use segura_mock::oauth1;
use segura_mock::{MockConfig, MockServer};
use serde_json::{json, Value};

const NOT_FOUND_1002: &str = r#"{"code":400,"response":{"status":400,"message":"1002: Session not found","error":true,"error_code":1,"detail":"","mensagem":"1002: Session not found","erro":true,"cod_erro":1},"exception":{"code":1002,"message":"1002: Session not found","detail":null},"tenant":"Segura"}"#;
const UNEXPECTED_1003: &str = r#"{"code":400,"response":{"status":400,"message":"1003: Unexpected identifier type","error":true,"error_code":1,"detail":"","mensagem":"1003: Unexpected identifier type","erro":true,"cod_erro":1},"exception":{"code":1003,"message":"1003: Unexpected identifier type","detail":null},"tenant":"Segura"}"#;
const DROPPED: &str = r#"{"code":200,"response":{"status":200,"message":"Session dropped successfully","error":false,"error_code":0,"detail":"","mensagem":"Sessão encerrada com sucesso","erro":false,"cod_erro":0},"tenant":"Segura"}"#;
const NO_ROUTE: &str = r#"{"message":"no Route matched with those values"}"#;
const INVALID_CLIENT: &str = r#"{"error":"invalid_client","error_description":"Client authentication failed","message":"Client authentication failed"}"#;

#[tokio::test]
async fn token_with_form_credentials() -> TestResult {
    let server = start(
        MockConfig::default()
            .client_id("my-client")
            .client_secret("my-secret")
            .token_lifetime(Duration::from_secs(120)),
    )
    .await?;
    assert_eq!(server.client_id(), "my-client");
    assert_eq!(server.client_secret(), "my-secret");
    let debug = format!("{server:?}");
    assert!(
        debug.contains("my-client") && !debug.contains("my-secret"),
        "{debug}"
    );
    let reply = read(
        client()
            .post(format!("{}/iso/oauth2/token", server.url()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "my-client"),
                ("client_secret", "my-secret"),
            ]),
    )
    .await?;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json()?;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 120);
    assert!(body["access_token"].as_str().is_some_and(|t| t.len() >= 32));
    let stats = server.stats();
    assert_eq!((stats.token_requests, stats.tokens_issued), (1, 1));
    Ok(())
}

#[tokio::test]
async fn token_with_basic_credentials() -> TestResult {
    let server = start(MockConfig::default()).await?;
    let url = format!("{}/iso/oauth2/token", server.url());
    let reply = read(
        client()
            .post(&url)
            .basic_auth(server.client_id(), Some(server.client_secret()))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await?;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.json()?["access_token"].is_string());

    let wrong = read(
        client()
            .post(&url)
            .basic_auth(server.client_id(), Some("wrong"))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await?;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.text(), INVALID_CLIENT);
    assert!(wrong.headers.contains_key("www-authenticate"));
    Ok(())
}

#[tokio::test]
async fn token_refusals() -> TestResult {
    let server = start(MockConfig::default()).await?;
    let url = format!("{}/iso/oauth2/token", server.url());
    let wrong_secret = read(client().post(&url).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", server.client_id()),
        ("client_secret", "nope"),
    ]))
    .await?;
    assert_eq!(wrong_secret.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_secret.text(), INVALID_CLIENT);

    let no_credentials = read(
        client()
            .post(&url)
            .form(&[("grant_type", "client_credentials")]),
    )
    .await?;
    assert_eq!(no_credentials.status, StatusCode::UNAUTHORIZED);

    let bad_grant = read(client().post(&url).form(&[
        ("grant_type", "password"),
        ("client_id", server.client_id()),
        ("client_secret", server.client_secret()),
    ]))
    .await?;
    assert_eq!(bad_grant.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_grant.json()?["error"], "unsupported_grant_type");

    let no_grant = read(
        client()
            .post(&url)
            .form(&[("client_id", server.client_id())]),
    )
    .await?;
    assert_eq!(no_grant.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_grant.json()?["error"], "invalid_request");

    let get = read(client().get(&url)).await?;
    assert_eq!(get.status, StatusCode::NOT_FOUND);
    assert_eq!(get.text(), NO_ROUTE);

    let stats = server.stats();
    assert_eq!(stats.token_requests, 4);
    assert_eq!(stats.token_rejections, 4);
    assert_eq!(stats.tokens_issued, 0);
    Ok(())
}

#[tokio::test]
async fn tokens_expire() -> TestResult {
    let server = start(
        MockConfig::default()
            .sessions(2)
            .token_lifetime(Duration::from_millis(300)),
    )
    .await?;
    let client = client();
    let token = token(&client, &server).await?;
    let path = "/api/session/remotesessions";
    assert_eq!(
        api_get(&client, &server, &token, path, None).await?.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let expired = api_get(&client, &server, &token, path, None).await?;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.json()?["message"], "Client authentication failed");
    assert_eq!(expired.json()?["error"], "invalid_token");

    // A fresh token works, until the handle expires every token.
    let fresh = common::token(&client, &server).await?;
    assert_eq!(
        api_get(&client, &server, &fresh, path, None).await?.status,
        StatusCode::OK
    );
    server.expire_tokens();
    assert_eq!(
        api_get(&client, &server, &fresh, path, None).await?.status,
        StatusCode::UNAUTHORIZED
    );
    let stats = server.stats();
    assert_eq!(stats.unauthorized, 2);
    assert_eq!(stats.token_uses.get(&token), Some(&1));
    assert_eq!(stats.token_uses.get(&fresh), Some(&1));
    Ok(())
}

#[tokio::test]
async fn list_has_the_documented_shape_and_bytes() -> TestResult {
    let server = start(MockConfig::default().sessions(300).seed(7)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let reply = api_get(
        &client,
        &server,
        &token,
        "/api/session/remotesessions",
        None,
    )
    .await?;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(
        reply
            .headers
            .get("transfer-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("chunked")
    );

    // Byte for byte what the public writer produces.
    let mut expected = Vec::new();
    write_list_body(&mut expected, 7, 300)?;
    assert_eq!(reply.body, expected);

    let list = parse_list(&reply.body)?;
    assert_eq!(list.code, 200);
    assert_eq!(list.tenant, "Segura");
    check_ok_status(&list.response)?;
    assert_eq!(list.remote_sessions.len(), 300);
    let mut previous: Option<(u64, String)> = None;
    let mut hashes = std::collections::HashSet::new();
    for (i, session) in list.remote_sessions.iter().enumerate() {
        check_session(session)?;
        // Each session is exactly what the generator writes for it, which
        // is what `jq -c` prints for it.
        let mut one = Vec::new();
        server.generator().session_json(i as u64, &mut one);
        assert_eq!(session.compact().as_bytes(), &one[..]);
        let id: u64 = session.str("id").unwrap_or("").parse()?;
        let start = session.str("start").unwrap_or("").to_owned();
        if let Some((prev_id, prev_start)) = &previous {
            assert!(id > *prev_id, "ids increase");
            assert!(start > *prev_start, "starts increase");
        }
        previous = Some((id, start));
        assert!(hashes.insert(session.str("session_id").unwrap_or("").to_owned()));
    }
    assert_eq!(server.stats().sessions_streamed, 300);
    Ok(())
}

#[tokio::test]
async fn generated_data_covers_the_documented_variety() -> TestResult {
    let server = start(MockConfig::default().sessions(3000).seed(11)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let reply = api_get(
        &client,
        &server,
        &token,
        "/api/session/remotesessions",
        None,
    )
    .await?;
    let list = parse_list(&reply.body)?;
    let sessions = &list.remote_sessions;
    let any = |f: &dyn Fn(&Ordered) -> bool| sessions.iter().any(f);
    assert!(
        any(&|s| s.get("end") == Some(&Value::Null)),
        "open sessions"
    );
    assert!(
        any(&|s| s.str("time").is_some_and(|t| t
            .split(':')
            .next()
            .unwrap_or("0")
            .parse::<u32>()
            .unwrap_or(0)
            >= 24)),
        "durations over 24 h"
    );
    assert!(
        any(&|s| s.str("origin_ip").is_some_and(|ip| ip.contains(':'))),
        "IPv6 origins"
    );
    assert!(
        any(&|s| s.str("origin_ip").is_some_and(|ip| ip.contains('.'))),
        "IPv4 origins"
    );
    assert!(
        any(&|s| s.str("device").is_some_and(|d| d.starts_with('['))),
        "[IPv6]:port devices"
    );
    assert!(
        any(&|s| s.str("device").is_some_and(|d| !d.contains(':'))),
        "devices without a port"
    );
    for protocol in ["rdp", "ssh", "https", "http", "telnet", "vnc", "mysql"] {
        assert!(any(&|s| s.str("protocol") == Some(protocol)), "{protocol}");
    }
    for proxy in [
        "Web Proxy",
        "RDP Proxy",
        "Terminal Proxy",
        "Database Proxy",
        "SSH Tunneling",
        "senhasegura.go",
    ] {
        assert!(any(&|s| s.str("proxy") == Some(proxy)), "{proxy}");
    }
    for purge in ["Yes", "No"] {
        assert!(any(&|s| s.str("prevent_purge") == Some(purge)));
    }
    for key in ["request", "ITSM"] {
        assert!(any(&|s| s.get(key).is_some_and(Value::is_string)));
        assert!(any(&|s| s.get(key) == Some(&Value::Null)));
    }
    for needle in ["\"", "\\", "\n", "\t", "\u{1}", "ã", "山"] {
        assert!(
            any(&|s| s.str("user").is_some_and(|u| u.contains(needle))),
            "a user with {needle:?}"
        );
    }
    assert!(!reply.body.contains(&0x7f), "never DEL");
    Ok(())
}

#[tokio::test]
async fn alternative_list_path_and_tenant() -> TestResult {
    let server = start(MockConfig::default().sessions(5).tenant("Acme \"QA\"")).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let a = api_get(
        &client,
        &server,
        &token,
        "/api/session/remotesessions",
        None,
    )
    .await?;
    let b = api_get(
        &client,
        &server,
        &token,
        "/api/pam/session/remotesessions",
        None,
    )
    .await?;
    assert_eq!(a.body, b.body);
    assert_eq!(parse_list(&a.body)?.tenant, "Acme \"QA\"");
    assert_eq!(server.stats().list_requests, 2);
    Ok(())
}

#[tokio::test]
async fn get_one_session() -> TestResult {
    let server = start(MockConfig::default().sessions(50).seed(3)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let list = parse_list(
        &api_get(
            &client,
            &server,
            &token,
            "/api/session/remotesessions",
            None,
        )
        .await?
        .body,
    )?;
    for index in [0usize, 17, 49] {
        let expected = &list.remote_sessions[index];
        let id = expected.str("id").unwrap_or("");
        for prefix in [
            "/api/session/remotesessions/",
            "/api/pam/session/remotesessions/",
        ] {
            let reply = api_get(&client, &server, &token, &format!("{prefix}{id}"), None).await?;
            assert_eq!(reply.status, StatusCode::OK);
            let body: GetBody = serde_json::from_slice(&reply.body)?;
            assert_eq!(body.code, 200);
            assert_eq!(body.tenant, "Segura");
            check_ok_status(&body.response)?;
            assert_eq!(body.remote_session.len(), 1);
            assert_eq!(&body.remote_session[0], expected);
            let text = reply.text();
            assert!(text.contains("\"remote_session\":[{"), "{text}");
        }
    }
    assert_eq!(server.stats().get_requests, 6);
    Ok(())
}

#[tokio::test]
async fn get_errors() -> TestResult {
    let server = start(MockConfig::default().sessions(10).seed(3)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    // The first id past the list, and one that no session of any index has.
    let beyond = server.generator().id(10);
    let gap = (1..)
        .find(|id| server.generator().index_of_id(*id).is_none())
        .unwrap_or(0);
    for id in [
        beyond.to_string(),
        gap.to_string(),
        "99999999999999999999999".to_owned(),
    ] {
        let reply = api_get(
            &client,
            &server,
            &token,
            &format!("/api/session/remotesessions/{id}"),
            None,
        )
        .await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{id}");
        assert_eq!(reply.text(), NOT_FOUND_1002);
    }
    for id in ["abc", "1e3", "-1", "%20"] {
        let reply = api_get(
            &client,
            &server,
            &token,
            &format!("/api/session/remotesessions/{id}"),
            None,
        )
        .await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{id}");
        assert_eq!(reply.text(), UNEXPECTED_1003);
    }
    Ok(())
}

async fn delete(
    client: &reqwest::Client,
    server: &MockServer,
    token: &str,
    path: &str,
) -> Result<Reply, AnyError> {
    read(
        client
            .delete(format!("{}{path}", server.url()))
            .bearer_auth(token),
    )
    .await
}

#[tokio::test]
async fn drop_ends_a_session() -> TestResult {
    let server = start(MockConfig::default().sessions(400).seed(5)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let open: Vec<u64> = (0..400)
        .filter(|i| server.generator().is_open(*i))
        .take(2)
        .collect();
    assert_eq!(open.len(), 2, "the dataset has open sessions");
    // The older path answers as 3.32 did: its own message, no `code`, no `tenant`.
    let legacy = r#"{"response":{"status":200,"message":"Sessão interrompida com sucesso","error":false,"error_code":0,"detail":"","mensagem":"Sessão interrompida com sucesso","erro":false,"cod_erro":0}}"#;
    for (index, (prefix, answer)) in open.iter().zip([
        ("/api/pam/session/drop/", DROPPED),
        ("/iso/session/drop/", legacy),
    ]) {
        let hash = server.generator().session_hash(*index);
        let reply = delete(&client, &server, &token, &format!("{prefix}{hash}")).await?;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.text(), answer);

        let id = server.generator().id(*index);
        let got = api_get(
            &client,
            &server,
            &token,
            &format!("/api/session/remotesessions/{id}"),
            None,
        )
        .await?;
        let body: GetBody = serde_json::from_slice(&got.body)?;
        let session = &body.remote_session[0];
        check_session(session)?;
        assert!(session.str("end").is_some() && session.str("time").is_some());
    }
    let list = parse_list(
        &api_get(
            &client,
            &server,
            &token,
            "/api/session/remotesessions",
            None,
        )
        .await?
        .body,
    )?;
    for index in &open {
        assert!(list.remote_sessions[*index as usize].str("end").is_some());
    }
    let stats = server.stats();
    assert_eq!((stats.drop_requests, stats.sessions_dropped), (2, 2));
    Ok(())
}

#[tokio::test]
async fn drop_errors() -> TestResult {
    let server = start(MockConfig::default().sessions(10).seed(5)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let beyond = server.generator().session_hash(10);
    for hash in [beyond.as_str(), "0123456789abcdef0123456789abcdef01234567"] {
        let reply = delete(
            &client,
            &server,
            &token,
            &format!("/api/pam/session/drop/{hash}"),
        )
        .await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.text(), NOT_FOUND_1002);
    }
    for hash in ["12", "zz23456789abcdef0123456789abcdef01234567", "17"] {
        let reply = delete(
            &client,
            &server,
            &token,
            &format!("/iso/session/drop/{hash}"),
        )
        .await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.text(), UNEXPECTED_1003);
    }
    assert_eq!(server.stats().sessions_dropped, 0);
    Ok(())
}

#[tokio::test]
async fn gateway_and_authentication_errors() -> TestResult {
    let server = start(MockConfig::default().sessions(3)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let url = server.url().to_owned();

    // No Authorization header: the gateway does not route the call.
    let bare = read(client.get(format!("{url}/api/session/remotesessions"))).await?;
    assert_eq!(bare.status, StatusCode::NOT_FOUND);
    assert_eq!(bare.text(), NO_ROUTE);

    for path in ["/api/sessions", "/", "/api/session/remotesessions/1/x"] {
        let reply = api_get(&client, &server, &token, path, None).await?;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.text(), NO_ROUTE);
    }
    let post = read(
        client
            .post(format!("{url}/api/session/remotesessions"))
            .bearer_auth(&token),
    )
    .await?;
    assert_eq!(post.status, StatusCode::NOT_FOUND);

    let unknown = api_get(
        &client,
        &server,
        "not-a-token",
        "/api/session/remotesessions",
        None,
    )
    .await?;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.json()?["message"], "Client authentication failed");

    let basic = read(
        client
            .get(format!("{url}/api/session/remotesessions"))
            .basic_auth(server.client_id(), Some(server.client_secret())),
    )
    .await?;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);

    let stats = server.stats();
    assert_eq!(stats.no_route, 5);
    assert_eq!(stats.unauthorized, 2);
    Ok(())
}

#[tokio::test]
async fn oauth1_signed_requests() -> TestResult {
    let server = start(MockConfig::default().sessions(4)).await?;
    let client = client();
    let credentials = server.oauth1_credentials().clone();
    let url = format!(
        "{}/api/session/remotesessions?fields=all&x=a%20b",
        server.url()
    );
    let header = oauth1::authorization_header("GET", &url, &credentials, 1_700_000_000, "nonce-1")?;
    let reply = read(client.get(&url).header("authorization", &header)).await?;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(parse_list(&reply.body)?.remote_sessions.len(), 4);

    // The same nonce again is a replay.
    let replay = read(client.get(&url).header("authorization", &header)).await?;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert!(replay.text().contains("nonce"));

    // A signature over another URL does not verify here.
    let other = format!("{}/api/session/remotesessions", server.url());
    let wrong =
        oauth1::authorization_header("GET", &other, &credentials, 1_700_000_000, "nonce-2")?;
    let reply = read(client.get(&url).header("authorization", &wrong)).await?;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.json()?["error_description"],
        "oauth_signature does not match the request"
    );

    // Wrong secret.
    let mut forged = credentials.clone();
    forged.token_secret.push('x');
    let header = oauth1::authorization_header("GET", &url, &forged, 1_700_000_000, "nonce-3")?;
    let reply = read(client.get(&url).header("authorization", &header)).await?;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // Drop works signed as well.
    let index = (0..4).find(|i| server.generator().is_open(*i)).unwrap_or(0);
    let drop_url = format!(
        "{}/api/pam/session/drop/{}",
        server.url(),
        server.generator().session_hash(index)
    );
    let header =
        oauth1::authorization_header("DELETE", &drop_url, &credentials, 1_700_000_001, "n")?;
    let reply = read(client.delete(&drop_url).header("authorization", &header)).await?;
    assert_eq!(reply.status, StatusCode::OK);

    let stats = server.stats();
    assert_eq!((stats.oauth1_verified, stats.oauth1_rejected), (2, 3));
    Ok(())
}

#[tokio::test]
async fn dataset_grows_and_sessions_end() -> TestResult {
    let server = start(MockConfig::default().sessions(200).seed(9)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let path = "/api/session/remotesessions";
    let before = parse_list(&api_get(&client, &server, &token, path, None).await?.body)?;
    assert!(before
        .remote_sessions
        .iter()
        .any(|s| s.get("end") == Some(&Value::Null)));

    server.set_session_count(600);
    assert_eq!(server.session_count(), 600);
    let grown = parse_list(&api_get(&client, &server, &token, path, None).await?.body)?;
    assert_eq!(grown.remote_sessions.len(), 600);
    assert_eq!(grown.remote_sessions[..200], before.remote_sessions[..]);

    // End one by id, then all that are open.
    let index = (0..600)
        .find(|i| server.generator().is_open(*i))
        .ok_or("no open session")?;
    assert!(server.end_session(server.generator().id(index)));
    assert!(!server.end_session(server.generator().id(600)));
    let one = parse_list(&api_get(&client, &server, &token, path, None).await?.body)?;
    assert!(one.remote_sessions[index as usize].str("end").is_some());

    server.end_open_sessions();
    let ended = parse_list(&api_get(&client, &server, &token, path, None).await?.body)?;
    for session in &ended.remote_sessions {
        check_session(session)?;
        assert!(session.str("end").is_some(), "{}", session.compact());
    }
    // Sessions added later may be open again.
    server.set_session_count(3000);
    let later = parse_list(&api_get(&client, &server, &token, path, None).await?.body)?;
    assert!(later.remote_sessions[..600]
        .iter()
        .all(|s| s.str("end").is_some()));
    assert!(later.remote_sessions[600..]
        .iter()
        .any(|s| s.get("end") == Some(&Value::Null)));

    // An ended session keeps its start, and its end is start + time
    // (check_session checks the arithmetic).
    let closed = &later.remote_sessions[index as usize];
    check_session(closed)?;
    assert_eq!(
        closed.get("start"),
        before.remote_sessions[index as usize].get("start")
    );
    Ok(())
}

#[test]
fn blocking_server_for_synchronous_tests() -> TestResult {
    let server = MockServer::start_blocking(MockConfig::default().sessions(2))?;
    let mut stream = std::net::TcpStream::connect(server.addr())?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        server.client_id(),
        server.client_secret()
    ));
    let body = "grant_type=client_credentials";
    write!(
        stream,
        "POST /iso/oauth2/token HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {basic}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        server.addr(),
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    let json_start = response.find('{').ok_or("no body")?;
    let token: Value = serde_json::from_str(&response[json_start..])?;
    assert_eq!(token["token_type"], json!("Bearer"));
    assert_eq!(server.stats().tokens_issued, 1);
    let addr = server.addr();
    server.shutdown_blocking();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "stopped listening"
    );
    Ok(())
}

#[tokio::test]
async fn blocking_server_inside_a_runtime() -> TestResult {
    let server = MockServer::start_blocking(MockConfig::default().sessions(3))?;
    let client = client();
    let token = token(&client, &server).await?;
    let list = api_get(
        &client,
        &server,
        &token,
        "/api/session/remotesessions",
        None,
    )
    .await?;
    assert_eq!(parse_list(&list.body)?.remote_sessions.len(), 3);
    server.shutdown().await;
    Ok(())
}
