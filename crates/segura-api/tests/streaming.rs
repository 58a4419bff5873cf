//! The decoder over readers and streams: bounded memory on a large body, sources that
//! agree with each other, the in-memory API, and the mockall mock of the trait.

use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use segura_api::{
    Error, InMemoryApi, ListDecoder, MockSessionApi, ReaderSource, SessionApi, SessionStream, Step,
};
use segura_model::{RemoteSession, SessionHash, SessionId};

/// Produces a list body of `n` sessions on the fly, so the test itself never holds it.
struct GeneratedBody {
    n: u64,
    next: u64,
    pending: Vec<u8>,
    pos: usize,
    stage: u8,
}

impl GeneratedBody {
    fn new(n: u64) -> Self {
        Self {
            n,
            next: 1,
            pending: Vec::new(),
            pos: 0,
            stage: 0,
        }
    }

    fn refill(&mut self) -> bool {
        self.pending.clear();
        self.pos = 0;
        match self.stage {
            0 => {
                self.pending.extend_from_slice(br#"{"code":200,"response":{"status":200,"message":"","error":false},"tenant":"Segura","remote_sessions":["#);
                self.stage = 1;
            }
            1 if self.next <= self.n => {
                let i = self.next;
                if i > 1 {
                    self.pending.push(b',');
                }
                let end = if i % 7 == 0 {
                    "null".to_owned()
                } else {
                    "\"2024-05-06 16:07:59\"".to_owned()
                };
                let time = if i % 7 == 0 {
                    "null".to_owned()
                } else {
                    format!("\"{:02}:{:02}:{:02}\"", i % 30, i % 60, i % 60)
                };
                self.pending.extend_from_slice(
                    format!(
                        r#"{{"id":"{i}","user":"usér{}","origin_ip":"10.{}.{}.{}","credential":"cred\"{}","device":"host{}.example:22","protocol":"{}","proxy":"Web Proxy","session_id":"{:040x}","start":"2024-05-06 16:05:07","end":{end},"time":{time},"prevent_purge":"{}","request":null,"ITSM":null}}"#,
                        i % 97,
                        i % 256,
                        (i / 256) % 256,
                        i % 200,
                        i % 13,
                        i % 50,
                        ["ssh", "rdp", "https"][(i % 3) as usize],
                        i,
                        if i % 2 == 0 { "Yes" } else { "No" },
                    )
                    .as_bytes(),
                );
                self.next += 1;
            }
            1 => {
                self.pending.extend_from_slice(b"]}");
                self.stage = 2;
            }
            _ => return false,
        }
        true
    }
}

impl Read for GeneratedBody {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut written = 0;
        while written < out.len() {
            if self.pos == self.pending.len() && !self.refill() {
                break;
            }
            let n = (self.pending.len() - self.pos).min(out.len() - written);
            out[written..written + n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
            self.pos += n;
            written += n;
        }
        Ok(written)
    }
}

#[test]
fn two_hundred_thousand_sessions_in_a_few_sessions_of_memory() {
    const N: u64 = 200_000;
    const CHUNK: usize = 1024;
    let mut source = ReaderSource::new(GeneratedBody::new(N), "generated").chunk_size(CHUNK);
    let mut count = 0u64;
    let mut max_session = 0usize;
    let mut last_id = 0;
    while let Some(item) = source.next_ref() {
        let s = item.expect("valid body");
        assert_eq!(s.id.get(), last_id + 1);
        last_id = s.id.get();
        max_session = max_session.max(serde_json::to_vec(s).unwrap().len());
        count += 1;
    }
    assert_eq!(count, N);
    let bytes = source.bytes_received();
    assert!(bytes > 60_000_000, "{bytes}");
    // The buffer holds at most one partial session plus one chunk.
    let high = source.decoder().buffer_high_water();
    assert!(
        high <= CHUNK + 2 * max_session,
        "high water {high} bytes, session up to {max_session}"
    );
}

#[test]
fn reader_source_matches_the_push_decoder() {
    let mut body = Vec::new();
    GeneratedBody::new(500).read_to_end(&mut body).unwrap();
    let from_reader: Vec<RemoteSession> = ReaderSource::new(&body[..], "mem")
        .chunk_size(333)
        .collect::<Result<_, _>>()
        .unwrap();
    let mut d = ListDecoder::new();
    d.feed(&body);
    d.finish();
    let mut pushed = Vec::new();
    while d.advance().unwrap() == Step::Session {
        pushed.push(d.take_session());
    }
    assert_eq!(from_reader.len(), 500);
    assert_eq!(from_reader, pushed);
}

#[test]
fn reader_source_reports_missing_files() {
    let e = ReaderSource::open("/nonexistent/body.json").unwrap_err();
    assert!(matches!(e, Error::Input { .. }), "{e:?}");
    assert!(e.to_string().contains("/nonexistent/body.json"), "{e}");
    assert_eq!(e.class(), "input");
    // The operating system's error stays reachable as the cause.
    let cause = std::error::Error::source(&e).expect("the I/O error is the source");
    let io = cause
        .downcast_ref::<segura_api::Cause>()
        .and_then(|c| c.downcast_ref::<std::io::Error>())
        .expect("an io::Error");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
}

#[tokio::test]
async fn session_stream_lends_and_owns_the_same_sessions() {
    let mut body = Vec::new();
    GeneratedBody::new(300).read_to_end(&mut body).unwrap();
    let body = Bytes::from(body);
    let chunks: Vec<Bytes> = body.chunks(777).map(Bytes::copy_from_slice).collect();
    let owned: Vec<RemoteSession> = SessionStream::from_chunks(chunks.clone())
        .map(|r| r.unwrap())
        .collect()
        .await;
    let mut lent = Vec::new();
    let mut stream = SessionStream::from_chunks(chunks);
    while let Some(s) = stream.next_ref().await {
        lent.push(s.unwrap().clone());
    }
    assert_eq!(owned.len(), 300);
    assert_eq!(owned, lent);
    assert_eq!(stream.sessions_received(), 300);
    assert_eq!(stream.bytes_received(), body.len() as u64);
}

#[tokio::test]
async fn a_transport_error_midway_comes_after_the_complete_sessions() {
    let mut body = Vec::new();
    GeneratedBody::new(10).read_to_end(&mut body).unwrap();
    let cut = body.len() / 2;
    let first = Bytes::copy_from_slice(&body[..cut]);
    let items: Vec<Result<Bytes, Error>> = vec![
        Ok(first),
        Err(Error::Timeout {
            kind: segura_api::TimeoutKind::Idle,
            message: "no data for 1s".into(),
            cause: None,
        }),
    ];
    let mut stream = SessionStream::new(Box::pin(futures_util::stream::iter(items)));
    let mut ok = 0;
    let mut err = None;
    while let Some(item) = stream.next_ref().await {
        match item {
            Ok(_) => ok += 1,
            Err(e) => err = Some(e),
        }
    }
    assert!(ok > 0 && ok < 10, "{ok}");
    assert_eq!(stream.sessions_received(), ok);
    assert!(matches!(err, Some(Error::Timeout { .. })), "{err:?}");
}

fn sample() -> Vec<RemoteSession> {
    let body = include_str!("../../../docs/examples/list-response.json");
    ReaderSource::new(body.as_bytes(), "example")
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn in_memory_api_serves_lists_gets_and_drops() {
    let mut sessions = sample();
    sessions[1].end = None;
    sessions[1].time = None;
    let api = InMemoryApi::new(sessions.clone()).with_chunk_size(7);
    let listed: Vec<RemoteSession> = api
        .list_sessions()
        .await
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(listed, sessions);
    assert_eq!(
        api.get_session(SessionId::new(6)).await.unwrap(),
        sessions[1]
    );
    let e = api.get_session(SessionId::new(99)).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotFound {
                code: Some(1002),
                ..
            }
        ),
        "{e:?}"
    );
    let hash = SessionHash::parse("c819cbc5f2fad2065f1d132a22d0e2dfacccb228").unwrap();
    let dropped = api.drop_session(&hash).await.unwrap();
    assert_eq!(
        dropped.envelope.message(),
        Some("Session dropped successfully")
    );
    assert!(api
        .get_session(SessionId::new(6))
        .await
        .unwrap()
        .end
        .is_some());
    let unknown = SessionHash::parse(&"0".repeat(40)).unwrap();
    assert!(matches!(
        api.drop_session(&unknown).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn in_memory_api_serves_a_saved_body_verbatim() {
    let api =
        InMemoryApi::new(Vec::new()).with_list_body(&b"{\"remote_sessions\":[{\"id\":\"1\"}]}"[..]);
    let mut stream = api.list_sessions().await.unwrap();
    let e = stream.next_ref().await.unwrap().unwrap_err();
    assert!(e.to_string().contains("missing required field"), "{e}");
}

#[tokio::test]
async fn the_mock_stands_in_for_a_transport_behind_an_arc() {
    let mut mock = MockSessionApi::new();
    let wanted = sample().remove(0);
    let reply = wanted.clone();
    mock.expect_get_session()
        .withf(|id| id.get() == 3)
        .times(1)
        .returning(move |_| Ok(reply.clone()));
    mock.expect_drop_session().times(1).returning(|_| {
        Err(Error::Auth {
            kind: segura_api::AuthFailure::NotAuthorized,
            status: Some(403),
            message: "You are not authorized to access this resource.".into(),
        })
    });
    let api: Arc<dyn SessionApi> = Arc::new(mock);
    let shared = Arc::clone(&api);
    assert_eq!(shared.get_session(SessionId::new(3)).await.unwrap(), wanted);
    let e = api.drop_session(&wanted.session_id).await.unwrap_err();
    assert!(
        e.hint().action.contains("Credentials and Devices"),
        "{:?}",
        e.hint()
    );
}

/// Hands out its bytes a few at a time, as a pipe might.
struct Trickle<'a>(&'a [u8], usize);

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.1.min(self.0.len()).min(out.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn reader_source_reports_idle_before_each_read() {
    let mut body = Vec::new();
    GeneratedBody::new(20).read_to_end(&mut body).unwrap();
    let mut source = ReaderSource::new(Trickle(&body, 700), "pipe");
    let (mut sessions, mut idles, mut last_was_idle) = (Vec::new(), 0, false);
    while let Some(item) = source.next_event() {
        match item.unwrap() {
            segura_api::Next::Session(s) => {
                sessions.push(s.clone());
                last_was_idle = false;
            }
            segura_api::Next::Idle => {
                assert!(!last_was_idle, "one report per wait");
                idles += 1;
                last_was_idle = true;
            }
        }
    }
    // One report before each read: the body's reads, plus the one that finds the end.
    assert_eq!(idles, body.len().div_ceil(700) + 1);
    let plain: Vec<RemoteSession> = ReaderSource::new(&body[..], "mem")
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sessions, plain);
}

#[tokio::test]
async fn session_stream_reports_idle_while_the_body_waits() {
    let mut body = Vec::new();
    GeneratedBody::new(3).read_to_end(&mut body).unwrap();
    let end_key = b"\"ITSM\":null}";
    let first_end = body
        .windows(end_key.len())
        .position(|w| w == end_key)
        .unwrap()
        + end_key.len();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<Bytes, Error>>();
    let chunks =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let mut stream = SessionStream::new(Box::pin(chunks));
    tx.send(Ok(Bytes::copy_from_slice(&body[..first_end])))
        .unwrap();
    match stream.next_event().await {
        Some(Ok(segura_api::Next::Session(s))) => assert_eq!(s.id.get(), 1),
        other => panic!("{other:?}"),
    }
    // Nothing more has arrived: the stream says so instead of waiting silently.
    assert!(matches!(
        stream.next_event().await,
        Some(Ok(segura_api::Next::Idle))
    ));
    tx.send(Ok(Bytes::copy_from_slice(&body[first_end..])))
        .unwrap();
    drop(tx);
    let mut rest = 0;
    while let Some(item) = stream.next_event().await {
        if let segura_api::Next::Session(_) = item.unwrap() {
            rest += 1;
        }
    }
    assert_eq!(rest, 2);
}

fn cut_error() -> Error {
    Error::InvalidResponse {
        message: "the response body was cut: gzip checksum mismatch".into(),
        offset: 0,
        path: None,
        sessions_before: 0,
        truncated: true,
    }
}

fn body_then(chunks: Vec<&'static [u8]>, last: Error) -> SessionStream {
    let items: Vec<Result<Bytes, Error>> = chunks
        .into_iter()
        .map(|c| Ok(Bytes::from_static(c)))
        .chain(std::iter::once(Err(last)))
        .collect();
    SessionStream::new(Box::pin(futures_util::stream::iter(items)))
}

const TWO: &[u8] = br#"{"code":200,"remote_sessions":[{"id":"1","session_id":"e7acacb6aedbab70073456da5744166939b77527","start":"2024-05-06 16:05:07"},{"id":"2","session_id":"e7acacb6aedbab70073456da5744166939b77528","start":"2024-05-06 16:05:07"}]}"#;

/// A body whose JSON closed but whose framing then failed is not complete: the sessions
/// come, then an error with their count; never a clean end.
#[tokio::test]
async fn a_cut_after_the_json_closed_is_still_an_error() {
    for split in [TWO.len(), TWO.len() - 1, 40] {
        let (a, b) = TWO.split_at(split);
        let mut stream = body_then(vec![a, b], cut_error());
        let mut ids = Vec::new();
        let mut error = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(s) => ids.push(s.id.get()),
                Err(e) => error = Some(e),
            }
        }
        assert_eq!(ids, [1, 2]);
        match error {
            Some(Error::InvalidResponse {
                message,
                truncated: true,
                sessions_before: 2,
                offset,
                ..
            }) => {
                assert!(message.contains("gzip checksum mismatch"), "{message}");
                assert_eq!(offset, TWO.len() as u64);
            }
            other => panic!("{other:?}"),
        }
    }
}

/// A cut inside the JSON is reported by the decoder, with its path and offset.
#[tokio::test]
async fn a_cut_inside_the_json_is_the_decoders_truncation() {
    let mut stream = body_then(vec![&TWO[..150]], cut_error());
    let mut n = 0;
    let mut error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(_) => n += 1,
            Err(e) => error = Some(e),
        }
    }
    assert_eq!(n, 1);
    assert!(
        matches!(
            &error,
            Some(Error::InvalidResponse {
                truncated: true,
                sessions_before: 1,
                path: Some(p),
                ..
            }) if p.starts_with("remote_sessions")
        ),
        "{error:?}"
    );
}

/// Other errors of the transport (a timeout) pass through at once.
#[tokio::test]
async fn a_timeout_of_the_body_passes_through() {
    let timeout = Error::Timeout {
        kind: segura_api::TimeoutKind::Total,
        message: "deadline".into(),
        cause: None,
    };
    let mut stream = body_then(vec![TWO], timeout.clone());
    let mut last = None;
    while let Some(item) = stream.next().await {
        last = Some(item.map(|s| s.id.get()));
    }
    assert_eq!(last, Some(Err(timeout)));
}
