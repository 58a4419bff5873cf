//! The mock's bodies through the client's own streaming decoder
//! (`segura_api::ListDecoder`), fed chunk by chunk from a real socket: every
//! session decodes, and printing it back canonically gives exactly the bytes
//! the mock sent for it (what `jq -c` prints).

mod common;

use common::*;
use reqwest::StatusCode;
use segura_api::{ListDecoder, Step};
use segura_mock::MockConfig;

/// Feeds a response to `decoder`; returns each session printed back, and the
/// decoder's final verdict.
async fn decode(
    mut response: reqwest::Response,
    mut decoder: ListDecoder,
) -> Result<(Vec<Vec<u8>>, Result<(), segura_api::Error>), AnyError> {
    let mut printed = Vec::new();
    let mut ended = false;
    loop {
        match decoder.advance() {
            Ok(Step::Session) => {
                let mut out = Vec::new();
                decoder.session().write_json(&mut out);
                printed.push(out);
            }
            Ok(Step::Done) => return Ok((printed, Ok(()))),
            Err(e) => return Ok((printed, Err(e))),
            Ok(Step::NeedInput) if ended => {
                return Err("the decoder wants input after the end".into())
            }
            Ok(Step::NeedInput) => match response.chunk().await {
                Ok(Some(chunk)) => decoder.feed(&chunk),
                Ok(None) => {
                    decoder.finish();
                    ended = true;
                }
                Err(e) => return Err(e.into()),
            },
        }
    }
}

#[tokio::test]
async fn list_bodies_decode_and_print_back_byte_for_byte() -> TestResult {
    let count = 20_000;
    let server = start(MockConfig::default().sessions(count).seed(13)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let response = client
        .get(format!("{}/api/session/remotesessions", server.url()))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let (printed, verdict) = decode(response, ListDecoder::new()).await?;
    verdict?;
    assert_eq!(printed.len() as u64, count);
    let mut expected = Vec::new();
    for (i, session) in printed.iter().enumerate() {
        expected.clear();
        server.generator().session_json(i as u64, &mut expected);
        assert_eq!(
            String::from_utf8_lossy(session),
            String::from_utf8_lossy(&expected),
            "session {i}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn get_body_decodes() -> TestResult {
    let server = start(MockConfig::default().sessions(30).seed(13)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let id = server.generator().id(29);
    let response = client
        .get(format!("{}/api/session/remotesessions/{id}", server.url()))
        .bearer_auth(&token)
        .send()
        .await?;
    let (printed, verdict) = decode(response, ListDecoder::for_get()).await?;
    verdict?;
    let mut expected = Vec::new();
    server.generator().session_json(29, &mut expected);
    assert_eq!(printed, vec![expected]);
    Ok(())
}

#[tokio::test]
async fn cut_bodies_are_errors_after_the_complete_sessions() -> TestResult {
    let server = start(MockConfig::default().sessions(50).seed(13)).await?;
    let client = client();
    let token = token(&client, &server).await?;
    let url = format!("{}/api/session/remotesessions", server.url());
    let response = client
        .get(&url)
        .bearer_auth(&token)
        .header("x-segura-mock-fault", "truncate-after=7")
        .send()
        .await?;
    let (printed, verdict) = decode(response, ListDecoder::new()).await?;
    assert_eq!(printed.len(), 7);
    assert!(verdict.is_err(), "a truncated body is an error");

    for fault in ["error-in-200", "not-json"] {
        let response = client
            .get(&url)
            .bearer_auth(&token)
            .header("x-segura-mock-fault", fault)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::OK);
        let (printed, verdict) = decode(response, ListDecoder::new()).await?;
        assert!(printed.is_empty());
        assert!(verdict.is_err(), "{fault} is an error");
    }
    Ok(())
}
