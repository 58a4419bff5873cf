//! The behaviour of the client, written once and run over two transports: the scripted
//! in-memory transport of `segura-api` (`test-util`) and reqwest against
//! `segura-hostile`, a real HTTP server on loopback. Each scenario is a handler (what the
//! server answers to each request) and assertions on what the client returned and on
//! every request it sent; `over_both!` makes one test of it per transport
//! (`scripted::NAME` and `reqwest::NAME`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use segura_api::client::{Client, ClientOptions};
use segura_api::model::{SessionHash, SessionId};
use segura_api::test_util::{Answer, ScriptedTransport};
use segura_api::{AuthFailure, Error, SessionApi, TimeoutKind};
use segura_hostile::{
    drop_ok_body, error_body, get_body, head, list_body, session_hash, Hostile, Reply, Step,
    DROP_PREFIX, GET_PREFIX, LIST_PATH, TOKEN_PATH,
};
use segura_http::{Auth, ClientAuthMethod, ClientConfig, HttpClient, RetryPolicy, Secret};

/// A request as either server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    body: String,
}

/// An answer both servers can give.
#[derive(Debug, Clone)]
enum Say {
    /// A JSON body, `Content-Length` framed.
    Json(u16, String),
    /// A JSON body with one more header.
    JsonWith(u16, String, (&'static str, String)),
    /// A body of another type.
    Text(u16, &'static str, String),
    /// The token endpoint's success: token, raw `expires_in`.
    Token(String, &'static str),
    /// A JSON status and headers promising more, this much of the body, then a reset.
    Cut(u16, String),
    /// The connection dropped without an answer.
    Reset,
}

type Handler = Arc<dyn Fn(&Seen) -> Say + Send + Sync>;

fn to_answer(say: Say) -> Answer {
    match say {
        Say::Json(status, body) => Answer::json(status, body),
        Say::JsonWith(status, body, (name, value)) => {
            Answer::json(status, body).header(name, &value)
        }
        Say::Text(status, content_type, body) => Answer::text(status, content_type, body),
        Say::Token(token, expires) => Answer::token(&token, expires),
        Say::Cut(status, prefix) => Answer::cut(status, prefix),
        Say::Reset => Answer::reset(),
    }
}

fn to_reply(say: Say) -> Reply {
    match say {
        Say::Json(status, body) => Reply::json(status, body),
        Say::JsonWith(status, body, (name, value)) => {
            let mut bytes = head(
                status,
                &[
                    ("Content-Type", "application/json"),
                    (name, &value),
                    ("Content-Length", &body.len().to_string()),
                ],
            );
            bytes.extend_from_slice(body.as_bytes());
            Reply::raw(bytes)
        }
        Say::Text(status, content_type, body) => Reply::text(status, content_type, body),
        Say::Token(token, expires) => Reply::token(&token, expires),
        Say::Cut(status, prefix) => {
            let mut bytes = head(
                status,
                &[
                    ("Content-Type", "application/json"),
                    ("Content-Length", &(prefix.len() + 1000).to_string()),
                ],
            );
            bytes.extend_from_slice(prefix.as_bytes());
            Reply::steps(vec![Step::Write(bytes), Step::Reset])
        }
        Say::Reset => Reply::steps(vec![Step::Reset]),
    }
}

/// A server (scripted or real) and the clients of a scenario.
struct Rig {
    scripted: Option<ScriptedTransport>,
    hostile: Option<Hostile>,
}

const BASE: &str = "https://pam.example.com";

impl Rig {
    fn scripted(handler: Handler) -> Rig {
        let transport = ScriptedTransport::serving(move |r| {
            let seen = Seen {
                method: r.method().to_string(),
                path: r.uri().path().to_owned(),
                authorization: r
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                body: String::from_utf8_lossy(r.body()).into_owned(),
            };
            to_answer(handler(&seen))
        });
        Rig {
            scripted: Some(transport),
            hostile: None,
        }
    }

    fn reqwest(handler: Handler) -> Rig {
        let hostile = Hostile::start(move |r| {
            let seen = Seen {
                method: r.method.clone(),
                path: r.path().to_owned(),
                authorization: r.header("authorization").map(str::to_owned),
                body: r.body_text(),
            };
            to_reply(handler(&seen))
        });
        Rig {
            scripted: None,
            hostile: Some(hostile),
        }
    }

    fn client(&self, auth: Auth, retry: RetryPolicy) -> Arc<dyn SessionApi> {
        if let Some(t) = &self.scripted {
            let options = ClientOptions::new(BASE, auth).retry(retry);
            match Client::new(t.clone(), options) {
                Ok(c) => return Arc::new(c),
                Err(e) => panic!("{e}"),
            }
        }
        let url = self.hostile.as_ref().map(Hostile::url).unwrap_or_default();
        let config = ClientConfig::new(url, auth)
            .retry(retry)
            .compression(false)
            .read_timeout(Duration::from_secs(10));
        match HttpClient::new(config) {
            Ok(c) => Arc::new(c),
            Err(e) => panic!("{e}"),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        if let Some(t) = &self.scripted {
            return t
                .requests()
                .iter()
                .map(|r| Seen {
                    method: r.method().to_string(),
                    path: r.uri().path().to_owned(),
                    authorization: r
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                    body: String::from_utf8_lossy(r.body()).into_owned(),
                })
                .collect();
        }
        self.hostile
            .as_ref()
            .map(|h| {
                h.requests()
                    .iter()
                    .map(|r| Seen {
                        method: r.method.clone(),
                        path: r.path().to_owned(),
                        authorization: r.header("authorization").map(str::to_owned),
                        body: r.body_text(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn count(&self, prefix: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.path.starts_with(prefix))
            .count()
    }
}

type MakeRig = fn(Handler) -> Rig;

fn oauth2(method: ClientAuthMethod) -> Auth {
    Auth::OAuth2 {
        client_id: "my-id".into(),
        client_secret: Secret::new("my-secret"),
        method,
    }
}

fn fast(retries: u32) -> RetryPolicy {
    RetryPolicy::with_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .max_retries(retries)
}

fn hash(id: u64) -> SessionHash {
    match SessionHash::parse(&session_hash(id)) {
        Ok(h) => h,
        Err(e) => panic!("{e}"),
    }
}

fn id_of(path: &str) -> u64 {
    path.rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A server that issues `tok-N` (N counting token requests) and serves every session.
fn serving_tokens(
    tokens: Arc<AtomicUsize>,
    valid: impl Fn(&str) -> bool + Send + Sync + 'static,
) -> Handler {
    Arc::new(move |r: &Seen| {
        if r.path == TOKEN_PATH {
            let n = tokens.fetch_add(1, Ordering::SeqCst) + 1;
            return Say::Token(format!("tok-{n}"), "3600");
        }
        let auth = r.authorization.clone().unwrap_or_default();
        if !valid(&auth) {
            return Say::Json(
                401,
                error_body(401, "The access token is invalid or has expired"),
            );
        }
        if r.path == LIST_PATH {
            Say::Json(200, list_body(3))
        } else if r.path.starts_with(GET_PREFIX) {
            Say::Json(200, get_body(id_of(&r.path)))
        } else {
            Say::Json(200, drop_ok_body())
        }
    })
}

async fn oauth2_credentials_in_the_body_then_a_bearer_token(rig: MakeRig) {
    let rig = rig(serving_tokens(Arc::default(), |_| true));
    let api = rig.client(oauth2(ClientAuthMethod::Body), fast(0));
    let mut stream = match api.list_sessions().await {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let mut n = 0;
    while let Some(s) = stream.next_ref().await {
        assert!(s.is_ok(), "{s:?}");
        n += 1;
    }
    assert_eq!(n, 3);
    let seen = rig.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", TOKEN_PATH)
    );
    assert_eq!(
        seen[0].body,
        "grant_type=client_credentials&client_id=my-id&client_secret=my-secret"
    );
    assert_eq!(seen[0].authorization, None);
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("GET", LIST_PATH)
    );
    assert_eq!(seen[1].authorization.as_deref(), Some("Bearer tok-1"));
}

async fn basic_client_authentication(rig: MakeRig) {
    let rig = rig(serving_tokens(Arc::default(), |_| true));
    let api = rig.client(oauth2(ClientAuthMethod::Basic), fast(0));
    let got = api.get_session(SessionId::from(7)).await;
    assert!(
        matches!(&got, Ok(s) if s.id == SessionId::from(7)),
        "{got:?}"
    );
    let seen = rig.seen();
    assert_eq!(seen[0].body, "grant_type=client_credentials");
    // base64("my-id:my-secret")
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some("Basic bXktaWQ6bXktc2VjcmV0")
    );
    assert_eq!(seen[1].authorization.as_deref(), Some("Bearer tok-1"));
}

async fn a_thousand_concurrent_calls_request_one_token(rig: MakeRig) {
    let rig = rig(serving_tokens(Arc::default(), |_| true));
    let api = rig.client(oauth2(ClientAuthMethod::Body), fast(3));
    let mut tasks = Vec::new();
    for i in 0..1000u64 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            api.get_session(SessionId::from(i % 50 + 1))
                .await
                .map(|s| s.id)
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let got = t.await;
        let want = SessionId::from(i as u64 % 50 + 1);
        assert!(matches!(&got, Ok(Ok(id)) if *id == want), "{i}: {got:?}");
    }
    assert_eq!(rig.count(TOKEN_PATH), 1);
    assert_eq!(rig.count(GET_PREFIX), 1000);
}

async fn a_refused_token_is_renewed_once(rig: MakeRig) {
    let rig = rig(serving_tokens(Arc::default(), |a| a == "Bearer tok-2"));
    let api = rig.client(oauth2(ClientAuthMethod::Body), fast(0));
    let got = api.get_session(SessionId::from(3)).await;
    assert!(got.is_ok(), "{got:?}");
    let paths: Vec<String> = rig.seen().iter().map(|s| s.path.clone()).collect();
    let get = format!("{GET_PREFIX}3");
    assert_eq!(paths, [TOKEN_PATH, &get, TOKEN_PATH, &get]);
}

async fn a_token_refused_twice_is_an_error(rig: MakeRig) {
    let rig = rig(serving_tokens(Arc::default(), |_| false));
    let api = rig.client(oauth2(ClientAuthMethod::Body), fast(3));
    let got = api.get_session(SessionId::from(3)).await;
    assert!(
        matches!(
            got,
            Err(Error::Auth {
                kind: AuthFailure::TokenRefused,
                status: Some(401),
                ..
            })
        ),
        "{got:?}"
    );
    assert_eq!(rig.count(TOKEN_PATH), 2);
    assert_eq!(rig.count(GET_PREFIX), 2);
}

async fn retries_of_a_list_are_bounded(rig: MakeRig) {
    let rig = rig(Arc::new(|_: &Seen| {
        Say::Json(503, error_body(503, "Service Unavailable"))
    }));
    let api = rig.client(Auth::Bearer(Secret::new("ready")), fast(2));
    let got = api.list_sessions().await;
    assert!(
        matches!(got, Err(Error::Server { status: 503, .. })),
        "{got:?}"
    );
    assert_eq!(rig.count(LIST_PATH), 3, "the first attempt and two retries");
}

async fn retry_after_is_honoured_and_then_the_call_succeeds(rig: MakeRig) {
    let calls = Arc::new(AtomicUsize::new(0));
    let rig = rig(Arc::new(move |_: &Seen| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            Say::JsonWith(
                429,
                error_body(429, "Too Many Requests"),
                ("Retry-After", "1".into()),
            )
        } else {
            Say::Json(200, get_body(9))
        }
    }));
    let api = rig.client(Auth::Bearer(Secret::new("ready")), fast(2));
    let started = std::time::Instant::now();
    let got = api.get_session(SessionId::from(9)).await;
    assert!(got.is_ok(), "{got:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(rig.count(GET_PREFIX), 2);
}

async fn a_drop_is_never_resent_once_it_may_have_arrived(rig: MakeRig) {
    for (say, check) in [
        (
            Say::Json(503, error_body(503, "Service Unavailable")),
            (|e: &Error| matches!(e, Error::Server { status: 503, .. })) as Check,
        ),
        (Say::Reset, |e: &Error| {
            matches!(
                e,
                Error::InvalidResponse {
                    truncated: true,
                    ..
                }
            )
        }),
        (
            Say::Cut(200, r#"{"code":200,"resp"#.into()),
            |e: &Error| matches!(e, Error::InvalidResponse { truncated: true, message, .. } if message.contains("may have been dropped")),
        ),
        (
            Say::Json(
                504,
                r#"{"message":"The upstream server is timing out"}"#.into(),
            ),
            |e: &Error| {
                matches!(
                    e,
                    Error::Timeout {
                        kind: TimeoutKind::Gateway,
                        ..
                    }
                )
            },
        ),
    ] {
        let rig = rig(Arc::new(move |_: &Seen| say.clone()));
        let api = rig.client(Auth::Bearer(Secret::new("ready")), fast(5));
        let got = api.drop_session(&hash(4)).await;
        assert!(got.as_ref().err().is_some_and(check), "{got:?}");
        assert_eq!(rig.count(DROP_PREFIX), 1, "{got:?}");
    }
}

async fn a_drop_refused_with_401_is_sent_once_more_with_a_new_token(rig: MakeRig) {
    let rig = rig(serving_tokens(Arc::default(), |a| a == "Bearer tok-2"));
    let api = rig.client(oauth2(ClientAuthMethod::Body), fast(0));
    let got = api.drop_session(&hash(4)).await;
    assert!(got.is_ok(), "{got:?}");
    let drops: Vec<Option<String>> = rig
        .seen()
        .into_iter()
        .filter(|s| s.path.starts_with(DROP_PREFIX))
        .map(|s| s.authorization)
        .collect();
    assert_eq!(
        drops,
        [Some("Bearer tok-1".into()), Some("Bearer tok-2".into())]
    );
}

/// What an error must be.
type Check = fn(&Error) -> bool;

/// The error envelope with an `exception` code.
fn with_exception(status: u16, message: &str, code: i64) -> String {
    format!(
        r#"{{"code":{status},"response":{{"status":{status},"message":"{message}","error":true,"error_code":1,"detail":"","mensagem":"{message}","erro":true,"cod_erro":1}},"exception":{{"code":{code},"message":"{message}","detail":null}}}}"#
    )
}

/// The documented error table (docs/api.md), one row per session id.
fn error_rows() -> Vec<(Say, Check)> {
    vec![
        (Say::Json(404, error_body(404, "Resource sub not found")), |e| matches!(e, Error::NotFound { code: None, .. })),
        (Say::Json(500, error_body(500, "Unexpected error.")), |e| matches!(e, Error::Server { status: 500, .. })),
        (Say::Json(403, error_body(403, "You are not authorized to access this resource.")), |e| matches!(e, Error::Auth { kind: AuthFailure::NotAuthorized, .. })),
        (Say::Json(404, r#"{"message":"no Route matched with those values"}"#.into()), |e| matches!(e, Error::Auth { kind: AuthFailure::NoRouteMatched, .. })),
        (Say::Text(502, "text/html", "<html><head><title>502 Bad Gateway</title></head><body>An invalid response</body></html>".into()), |e| matches!(e, Error::Server { status: 502, .. })),
        (Say::Json(504, r#"{"message":"The upstream server is timing out"}"#.into()), |e| matches!(e, Error::Timeout { kind: TimeoutKind::Gateway, .. })),
        (Say::Json(408, r#"{"message":"Request timed out"}"#.into()), |e| matches!(e, Error::Timeout { kind: TimeoutKind::Gateway, .. })),
        (Say::Json(400, with_exception(400, "1002: Session not found", 1002)), |e| matches!(e, Error::NotFound { code: Some(1002), .. })),
        (Say::Json(400, with_exception(400, "1003: Unexpected identifier type", 1003)), |e| matches!(e, Error::Api { code: Some(1003), .. })),
        (Say::Json(200, error_body(500, "Unexpected error.")), |e| matches!(e, Error::Server { status: 500, .. })),
        (Say::Json(401, String::new()), |e| matches!(e, Error::Auth { kind: AuthFailure::InvalidClient, .. })),
        (Say::Json(503, String::new()), |e| matches!(e, Error::Server { status: 503, .. })),
        (Say::Text(200, "text/html", "<html><title>Login</title></html>".into()), |e| matches!(e, Error::InvalidResponse { .. })),
    ]
}

async fn every_row_of_the_error_table(rig: MakeRig) {
    let rows = Arc::new(error_rows());
    let table = rows.clone();
    let rig = rig(Arc::new(move |r: &Seen| {
        let row = id_of(&r.path) as usize;
        table
            .get(row.wrapping_sub(1))
            .map(|(say, _)| say.clone())
            .unwrap_or(Say::Reset)
    }));
    // OAuth 1.0a: a 401 refuses the client's credentials themselves, and is not renewed.
    let auth = Auth::OAuth1 {
        consumer_key: "ck".into(),
        consumer_secret: Secret::new("cs"),
        token: "tok".into(),
        token_secret: Secret::new("ts"),
    };
    let api = rig.client(auth, RetryPolicy::none());
    for (i, (say, check)) in rows.iter().enumerate() {
        let got = api.get_session(SessionId::from(i as u64 + 1)).await;
        assert!(
            got.as_ref().err().is_some_and(check),
            "row {}: {say:?}: {got:?}",
            i + 1
        );
    }
    assert_eq!(rig.count(GET_PREFIX), rows.len());
    assert!(rig.seen().iter().all(|s| s
        .authorization
        .as_deref()
        .is_some_and(|a| a.starts_with("OAuth ") && a.contains("oauth_signature="))));
}

async fn a_cut_list_keeps_the_sessions_before(rig: MakeRig) {
    let body = list_body(5);
    // Cut inside the fourth session.
    let at = body
        .match_indices(r#"{"id":"4""#)
        .next()
        .map(|(i, _)| i + 20)
        .unwrap_or(0);
    let prefix = body[..at].to_owned();
    let rig = rig(Arc::new(move |_: &Seen| Say::Cut(200, prefix.clone())));
    let api = rig.client(Auth::Bearer(Secret::new("ready")), fast(3));
    let mut stream = match api.list_sessions().await {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let mut ok = 0;
    let mut last = None;
    while let Some(s) = stream.next_ref().await {
        match s {
            Ok(_) => ok += 1,
            Err(e) => last = Some(e),
        }
    }
    assert_eq!(ok, 3);
    assert!(
        matches!(
            last,
            Some(Error::InvalidResponse {
                truncated: true,
                sessions_before: 3,
                ..
            })
        ),
        "{last:?}"
    );
    assert_eq!(
        rig.count(LIST_PATH),
        1,
        "a list is never retried once its stream was handed over"
    );
}

async fn only_a_recognised_drop_success_is_ok(rig: MakeRig) {
    let rig = rig(Arc::new(|r: &Seen| {
        if r.path.ends_with(&session_hash(1)) {
            Say::Json(200, drop_ok_body())
        } else {
            Say::Json(200, r#"{"code":200}"#.into())
        }
    }));
    let api = rig.client(Auth::Bearer(Secret::new("ready")), fast(0));
    let ok = api.drop_session(&hash(1)).await;
    assert!(ok.is_ok(), "{ok:?}");
    let odd = api.drop_session(&hash(2)).await;
    assert!(matches!(odd, Err(Error::InvalidResponse { .. })), "{odd:?}");
}

macro_rules! over_both {
    ($($name:ident),* $(,)?) => {
        mod scripted {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Rig::scripted).await
                }
            )*
        }
        mod reqwest {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Rig::reqwest).await
                }
            )*
        }
    };
}

over_both!(
    oauth2_credentials_in_the_body_then_a_bearer_token,
    basic_client_authentication,
    a_thousand_concurrent_calls_request_one_token,
    a_refused_token_is_renewed_once,
    a_token_refused_twice_is_an_error,
    retries_of_a_list_are_bounded,
    retry_after_is_honoured_and_then_the_call_succeeds,
    a_drop_is_never_resent_once_it_may_have_arrived,
    a_drop_refused_with_401_is_sent_once_more_with_a_new_token,
    every_row_of_the_error_table,
    a_cut_list_keeps_the_sessions_before,
    only_a_recognised_drop_success_is_ok,
);

/// Over the scripted transport only (a real server cannot refuse one request and accept
/// the next on the same address): a drop that provably never left is sent again.
#[tokio::test]
async fn a_drop_that_never_left_is_sent_again() {
    let transport = ScriptedTransport::new();
    let path = format!("{DROP_PREFIX}{}", session_hash(4));
    transport.expect("DELETE", &path).answer(Answer::refused());
    transport
        .expect("DELETE", &path)
        .check(|r| assert_eq!(r.headers()["authorization"], "Bearer ready"))
        .answer(Answer::json(200, drop_ok_body()));
    let options = ClientOptions::new(BASE, Auth::Bearer(Secret::new("ready"))).retry(fast(3));
    let api = match Client::new(transport.clone(), options) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let got = api.drop_session(&hash(4)).await;
    assert!(got.is_ok(), "{got:?}");
    transport.assert_done();
}
