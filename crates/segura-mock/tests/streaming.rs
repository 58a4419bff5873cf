//! Large and compressed list bodies.

mod common;

use std::io::Read;

use common::*;
use flate2::read::GzDecoder;
use reqwest::StatusCode;
use segura_mock::generator::write_list_body;
use segura_mock::MockConfig;

#[tokio::test]
async fn gzip_when_asked() -> TestResult {
    let server = start(MockConfig::default().sessions(2000).seed(4)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let url = format!("{}/api/session/remotesessions", server.url());
    let mut expected = Vec::new();
    write_list_body(&mut expected, 4, 2000)?;

    // The raw bytes are a gzip stream of the usual body.
    let raw = read(
        client
            .get(&url)
            .bearer_auth(&token)
            .header("accept-encoding", "gzip"),
    )
    .await?;
    assert_eq!(raw.status, StatusCode::OK);
    assert_eq!(raw.headers["content-encoding"], "gzip");
    assert!(
        raw.body.len() < expected.len() / 3,
        "{} compressed bytes",
        raw.body.len()
    );
    let mut decoded = Vec::new();
    GzDecoder::new(&raw.body[..]).read_to_end(&mut decoded)?;
    assert_eq!(decoded, expected);

    // A gzip-capable client decodes it transparently.
    let gzip_client = reqwest::Client::builder().gzip(true).build()?;
    let transparent = gzip_client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await?
        .bytes()
        .await?;
    assert_eq!(&transparent[..], &expected[..]);

    // Not asked, or refused with q=0: identity.
    for accept in [None, Some("gzip;q=0, identity"), Some("br")] {
        let mut request = client.get(&url).bearer_auth(&token);
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        let plain = read(request).await?;
        assert!(
            !plain.headers.contains_key("content-encoding"),
            "{accept:?}"
        );
        assert_eq!(plain.body, expected);
    }
    assert_eq!(server.stats().gzip_responses, 2);

    // A truncated gzip body is a complete gzip stream of a cut list.
    let cut = read(
        client
            .get(&url)
            .bearer_auth(&token)
            .header("accept-encoding", "gzip")
            .header("x-segura-mock-fault", "truncate-after=10"),
    )
    .await?;
    let mut decoded = Vec::new();
    GzDecoder::new(&cut.body[..]).read_to_end(&mut decoded)?;
    assert!(expected.starts_with(&decoded));
    assert_eq!(String::from_utf8(decoded)?.matches("{\"id\":").count(), 10);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_ahead_sends_the_same_compressed_bytes_until_the_list_changes() -> TestResult {
    let server = start(
        MockConfig::default()
            .sessions(3000)
            .seed(4)
            .gzip_ahead(true),
    )
    .await?;
    let client = client();
    let token = token(&client, &server).await?;
    let url = format!("{}/api/session/remotesessions", server.url());
    let get = |fault: Option<&str>| {
        let mut r = client
            .get(&url)
            .bearer_auth(&token)
            .header("accept-encoding", "gzip");
        if let Some(f) = fault {
            r = r.header("x-segura-mock-fault", f);
        }
        read(r)
    };
    let gunzip = |z: &[u8]| -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        GzDecoder::new(z).read_to_end(&mut out)?;
        Ok(out)
    };
    let mut expected = Vec::new();
    write_list_body(&mut expected, 4, 3000)?;

    let first = get(None).await?;
    assert_eq!(first.headers["content-encoding"], "gzip");
    assert_eq!(gunzip(&first.body)?, expected);
    // Compressed at the default level, once: the same bytes again.
    let again = get(None).await?;
    assert_eq!(again.body, first.body);
    assert_eq!(server.stats().gzip_responses, 2);

    // A fault that shapes the body streams it as before.
    let cut = get(Some("truncate-after=10")).await?;
    let text = String::from_utf8(gunzip(&cut.body)?)?;
    assert_eq!(text.matches("{\"id\":").count(), 10);

    // A changed list is compressed anew.
    server.set_session_count(2000);
    let fewer = get(None).await?;
    let mut expected = Vec::new();
    write_list_body(&mut expected, 4, 2000)?;
    assert_eq!(gunzip(&fewer.body)?, expected);
    let open = |body: &[u8]| {
        String::from_utf8_lossy(body)
            .matches("\"end\":null")
            .count()
    };
    assert!(open(&expected) > 0);
    server.end_open_sessions();
    assert_eq!(open(&gunzip(&get(None).await?.body)?), 0);
    Ok(())
}

#[tokio::test]
async fn large_body_is_streamed_in_frames() -> TestResult {
    let count = 100_000;
    let server = start(MockConfig::default().sessions(count).seed(8)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let mut response = client
        .get(format!("{}/api/session/remotesessions", server.url()))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let expected_len = write_list_body(std::io::sink(), 8, count)?;
    let mut received = 0u64;
    let mut chunks = 0u64;
    let mut tail = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        received += chunk.len() as u64;
        chunks += 1;
        tail = chunk.to_vec();
    }
    assert_eq!(received, expected_len);
    assert!(chunks > 100, "{chunks} chunks");
    assert!(tail.ends_with(b"}]}"));
    assert_eq!(server.stats().sessions_streamed, count);
    Ok(())
}
