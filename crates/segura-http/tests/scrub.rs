//! The client's own secrets never come back in its errors, and the server's text in them
//! is sanitised, whatever the server quotes: the token request's form or Basic header,
//! the `Authorization` header of an API call (in an error status or inside HTTP 200).

use segura_api::{Error, SessionApi};
use segura_hostile::{error_body, json_string, Hostile, Reply, Request, TOKEN_PATH};
use segura_http::{Auth, ClientAuthMethod, ClientConfig, HttpClient, Secret};

const ID: &str = "my client:1";
const SECRET: &str = "s3cr3t+/%&= Value";

fn client(server: &Hostile, auth: Auth) -> HttpClient {
    HttpClient::new(ClientConfig::new(server.url(), auth).max_retries(0)).expect("client")
}

fn oauth2(method: ClientAuthMethod) -> Auth {
    Auth::OAuth2 {
        client_id: ID.into(),
        client_secret: Secret::new(SECRET),
        method,
    }
}

#[track_caller]
fn assert_scrubbed(e: &Error, leaked: &[&str]) {
    let text = format!("{e} {e:?}");
    for s in leaked {
        assert!(!text.contains(s), "{s:?} in {text}");
    }
    assert!(text.contains("[redacted]"), "{text}");
    assert!(!text.contains('\u{1b}'), "{text}");
}

#[tokio::test]
async fn a_token_endpoint_quoting_the_request_gets_the_secret_redacted() {
    // Quotes the form body and every header, as a debugging proxy might.
    let server = Hostile::start(|r: &Request| {
        let headers: Vec<String> = r.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
        let quoted = format!("\u{1b}[2J{} | {}", headers.join(" | "), r.body_text());
        Reply::json(
            400,
            format!(
                r#"{{"error":"invalid_request","error_description":{}}}"#,
                json_string(&quoted)
            ),
        )
    });
    for method in [ClientAuthMethod::Body, ClientAuthMethod::Basic] {
        let api = client(&server, oauth2(method));
        let Err(e) = api.list_sessions().await else {
            panic!("the token request must fail");
        };
        let basic = server
            .requests()
            .last()
            .and_then(|r| r.header("authorization").map(str::to_owned));
        let mut leaked = vec![SECRET, "s3cr3t%2B%2F%25%26%3D+Value"];
        if let Some(b) = &basic {
            leaked.push(b.trim_start_matches("Basic "));
        }
        assert_scrubbed(&e, &leaked);
        assert!(e.to_string().contains("\\u{1b}[2J"), "{e}");
    }
}

#[tokio::test]
async fn an_api_quoting_the_authorization_header_gets_the_token_redacted() {
    const TOKEN: &str = "issued-Tok3n-Abcdef-0123";
    for (status, code) in [(400u16, 400u16), (403, 403), (200, 500)] {
        let server = Hostile::start(move |r: &Request| {
            if r.path() == TOKEN_PATH {
                return Reply::token(TOKEN, "3600");
            }
            let header = r.header("authorization").unwrap_or("").to_owned();
            Reply::json(status, error_body(code, &format!("no access for {header}")))
        });
        let api = client(&server, oauth2(ClientAuthMethod::Body));
        let e = match api.list_sessions().await {
            Err(e) => e,
            Ok(mut list) => {
                use futures_util::StreamExt;
                match list.next().await {
                    Some(Err(e)) => e,
                    other => panic!("expected an error, got {other:?}"),
                }
            }
        };
        assert_scrubbed(&e, &[TOKEN]);
        let Err(e) = api.get_session(segura_model::SessionId::new(1)).await else {
            panic!("get must fail");
        };
        assert_scrubbed(&e, &[TOKEN]);
        assert!(!format!("{:?}", api.redactor()).contains(TOKEN));
    }
}

#[tokio::test]
async fn a_bearer_token_and_oauth1_secrets_are_redacted() {
    let server = Hostile::start(|r: &Request| {
        let header = r.header("authorization").unwrap_or("").to_owned();
        Reply::text(
            401,
            "text/plain",
            format!("refused {header} with consumer-Secret-9 and token-Secret-8"),
        )
    });
    let bearer = client(&server, Auth::Bearer(Secret::new("ready-Bearer-77")));
    let Err(e) = bearer.list_sessions().await else {
        panic!("must fail");
    };
    assert_scrubbed(&e, &["ready-Bearer-77"]);
    let oauth1 = client(
        &server,
        Auth::OAuth1 {
            consumer_key: "ck".into(),
            consumer_secret: Secret::new("consumer-Secret-9"),
            token: "tk".into(),
            token_secret: Secret::new("token-Secret-8"),
        },
    );
    let Err(e) = oauth1.list_sessions().await else {
        panic!("must fail");
    };
    assert_scrubbed(&e, &["consumer-Secret-9", "token-Secret-8"]);
}
