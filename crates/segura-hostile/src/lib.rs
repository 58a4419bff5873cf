//! A hostile PAM Core for tests: a plain-HTTP server on loopback whose every answer is
//! scripted by the test, down to the byte.
//!
//! `segura-mock` behaves like a real appliance and injects the faults a real network
//! produces. This crate is its opposite: it answers *wrongly on purpose* (framing that
//! lies, bodies that break off after valid JSON, absurd token lifetimes, control
//! characters and escape sequences in every text field, secrets quoted back), so that the
//! suite attacks the client the way a compromised or broken server would.
//!
//! It is built on `std::net` only: a thread per connection, the request read by hand
//! (request line, headers, `Content-Length` body), and the answer written exactly as the
//! script says: nothing is added, nothing is fixed up. Each connection carries one
//! exchange and is then closed (or reset, or left hanging), as the script says.
//!
//! Architecture invariant: test-only (`publish = false`), never a dependency of a
//! shipped crate, and independent of every other segura crate, so that what it sends is
//! not shaped by the code under test.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The token endpoint's path.
pub const TOKEN_PATH: &str = "/iso/oauth2/token";
/// The list endpoint's path.
pub const LIST_PATH: &str = "/api/session/remotesessions";
/// The prefix of one session's path (`GET {GET_PREFIX}{id}`).
pub const GET_PREFIX: &str = "/api/session/remotesessions/";
/// The prefix of the drop path (`DELETE {DROP_PREFIX}{hash}`).
pub const DROP_PREFIX: &str = "/api/pam/session/drop/";

/// The last chunk of a chunked body, with no trailers.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Largest request head or body the server reads; beyond it the request is cut.
const REQUEST_CAP: usize = 1 << 20;

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, as sent.
    pub method: String,
    /// The request target: path and query, as sent.
    pub target: String,
    /// The headers in order; names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (by `Content-Length`; empty without one).
    pub body: Vec<u8>,
}

impl Request {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One step of an answer.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write these bytes and flush.
    Write(Vec<u8>),
    /// Wait.
    Sleep(Duration),
    /// Close the connection cleanly (FIN); the steps after it are not run.
    Close,
    /// Reset the connection (RST, through a zero linger); the steps after it are not run.
    Reset,
    /// Keep the connection open without writing, until the client goes away or the server
    /// is dropped.
    Hang,
}

/// A scripted answer: steps run in order, then the connection is closed.
#[derive(Debug, Clone)]
pub struct Reply {
    /// What to do, in order.
    pub steps: Vec<Step>,
}

impl Reply {
    /// Exactly these bytes, then close.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Reply {
        Reply {
            steps: vec![Step::Write(bytes.into())],
        }
    }

    /// These steps, then close.
    pub fn steps(steps: Vec<Step>) -> Reply {
        Reply { steps }
    }

    /// A `Content-Length` framed answer with this content type.
    pub fn text(status: u16, content_type: &str, body: impl AsRef<[u8]>) -> Reply {
        let body = body.as_ref();
        let mut bytes = head(
            status,
            &[
                ("Content-Type", content_type),
                ("Content-Length", &body.len().to_string()),
                ("Connection", "close"),
            ],
        );
        bytes.extend_from_slice(body);
        Reply::raw(bytes)
    }

    /// A `Content-Length` framed JSON answer.
    pub fn json(status: u16, body: impl AsRef<[u8]>) -> Reply {
        Reply::text(status, "application/json", body)
    }

    /// A token endpoint's answer: `expires_in` is raw JSON text (`3600`, `1e300`,
    /// `"18446744073709551615"`, `-5`…), put in the body as it is.
    pub fn token(access_token: &str, expires_in_json: &str) -> Reply {
        Reply::json(
            200,
            format!(
                r#"{{"token_type":"Bearer","expires_in":{expires_in_json},"access_token":"{access_token}"}}"#
            ),
        )
    }

    /// An ordinary token answer (`hostile-access-token`, one hour).
    pub fn ok_token() -> Reply {
        Reply::token(ACCESS_TOKEN, "3600")
    }
}

/// The access token of [`Reply::ok_token`].
pub const ACCESS_TOKEN: &str = "hostile-access-token-5f0c1d";

/// A status line and these headers, then the blank line: no framing header is added.
pub fn head(status: u16, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (n, v) in headers {
        out.push_str(n);
        out.push_str(": ");
        out.push_str(v);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Whatever",
    }
}

/// One chunk of a chunked body: size in hex, CRLF, the data, CRLF.
pub fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// `data` gzip-compressed (a valid stream; tamper with the last 8 bytes to break the CRC
/// or the length).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use flate2::write::GzEncoder;
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// One session object in the API's form, with numeric id `id` and a hash derived from it.
pub fn session_json(id: u64) -> String {
    format!(
        r#"{{"id":"{id}","user":"user{id}","origin_ip":"10.0.0.{o}","credential":"cred{id}","device":"host{id}:22","protocol":"ssh","proxy":"SSH Proxy","session_id":"{hash}","start":"2024-05-06 16:05:07","end":"2024-05-06 16:07:59","time":"00:02:52","prevent_purge":"No","request":null,"ITSM":null}}"#,
        o = id % 250 + 1,
        hash = session_hash(id)
    )
}

/// The 40-hex `session_id` of session `id` in [`session_json`].
pub fn session_hash(id: u64) -> String {
    format!("{id:040x}")
}

/// The success envelope around `inner` (the text after `"tenant":"Segura",`).
fn envelope(inner: &str) -> String {
    format!(
        r#"{{"code":200,"response":{{"status":200,"message":"","error":false,"error_code":0,"detail":"","mensagem":"","erro":false,"cod_erro":0}},"tenant":"Segura",{inner}}}"#
    )
}

/// A valid list body with sessions 1 to `n`.
pub fn list_body(n: u64) -> String {
    let sessions: Vec<String> = (1..=n).map(session_json).collect();
    envelope(&format!(r#""remote_sessions":[{}]"#, sessions.join(",")))
}

/// A valid get body holding session `id`.
pub fn get_body(id: u64) -> String {
    envelope(&format!(r#""remote_session":[{}]"#, session_json(id)))
}

/// The documented drop success body.
pub fn drop_ok_body() -> String {
    r#"{"code":200,"response":{"status":200,"message":"Session dropped successfully","error":false,"error_code":0,"detail":"","mensagem":"Sessão encerrada com sucesso","erro":false,"cod_erro":0},"tenant":"Segura"}"#.to_owned()
}

/// The error envelope with this HTTP-like `code` and `message`.
pub fn error_body(code: u16, message: &str) -> String {
    format!(
        r#"{{"code":{code},"response":{{"status":{code},"message":{m},"error":true,"error_code":{code},"detail":"","mensagem":{m},"erro":true,"cod_erro":{code}}}}}"#,
        m = json_string(message)
    )
}

/// `s` as a JSON string literal, with every control character escaped (so a hostile
/// payload survives JSON framing and reaches the client's text handling).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running hostile server; stops accepting when dropped.
pub struct Hostile {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    accept: Option<thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Hostile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hostile").field("addr", &self.addr).finish()
    }
}

impl Hostile {
    /// Starts a server on `127.0.0.1` (a free port) that answers each request with
    /// `handler`'s reply.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound: a test cannot run without one.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let requests = Arc::clone(&requests);
                    let handler = Arc::clone(&handler);
                    let stop = Arc::clone(&stop);
                    thread::spawn(move || serve(conn, &*handler, &requests, &stop));
                }
            })
        };
        Hostile {
            addr,
            requests,
            stop,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// How many requests had a path starting with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.path().starts_with(prefix))
            .count()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>, stop: &AtomicBool) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let Ok(Some(request)) = read_request(&mut reader) else {
        return;
    };
    let reply = handler(&request);
    if let Ok(mut l) = log.lock() {
        l.push(request);
    }
    let mut conn = conn;
    for step in reply.steps {
        match step {
            Step::Write(bytes) => {
                if conn.write_all(&bytes).and_then(|()| conn.flush()).is_err() {
                    return;
                }
            }
            Step::Sleep(d) => thread::sleep(d),
            Step::Close => break,
            Step::Reset => {
                reset(&conn);
                return;
            }
            Step::Hang => {
                hang(&mut reader, stop);
                return;
            }
        }
    }
    let _ = conn.shutdown(Shutdown::Write);
    // Let the client read everything before the socket goes away.
    let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
    let mut sink = [0u8; 1024];
    while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
}

/// Waits until the client closes, or the server is dropped.
fn hang(reader: &mut BufReader<TcpStream>, stop: &AtomicBool) {
    let _ = reader
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(100)));
    let started = Instant::now();
    let mut sink = [0u8; 1024];
    while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(600) {
        match reader.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// Closes with a TCP reset: a zero linger makes the close send RST.
fn reset(conn: &TcpStream) {
    let _ = socket2::SockRef::from(conn).set_linger(Some(Duration::ZERO));
}

fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    let mut head_len = line.len();
    loop {
        let mut h = String::new();
        let n = reader.read_line(&mut h)?;
        head_len += n;
        if n == 0 || h == "\r\n" || h == "\n" || head_len > REQUEST_CAP {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(REQUEST_CAP);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(h: &Hostile, request: &str) -> Vec<u8> {
        let mut s = TcpStream::connect(h.addr()).expect("connect");
        s.write_all(request.as_bytes()).expect("write");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        out
    }

    #[test]
    fn answers_exactly_the_scripted_bytes_and_records_the_request() {
        let h = Hostile::start(|r| {
            if r.path() == TOKEN_PATH {
                Reply::raw(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort".to_vec())
            } else {
                Reply::json(404, "{}")
            }
        });
        let out = exchange(
            &h,
            "POST /iso/oauth2/token?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        );
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort".to_vec()
        );
        let reqs = h.requests();
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].method, "POST");
        assert_eq!(reqs[0].path(), TOKEN_PATH);
        assert_eq!(reqs[0].header("HOST"), Some("a"));
        assert_eq!(reqs[0].body, b"abc");
        assert_eq!(h.count("/iso"), 1);
    }

    #[test]
    fn bodies_are_valid_json_shapes() {
        let body = list_body(3);
        assert!(body.contains(r#""id":"3""#));
        assert_eq!(body.matches(r#""session_id""#).count(), 3);
        assert_eq!(session_hash(255).len(), 40);
        assert_eq!(json_string("a\u{1b}\"b"), r#""a\u001b\"b""#);
        assert_eq!(chunk(b"abc"), b"3\r\nabc\r\n".to_vec());
        let g = gzip(b"hello");
        assert_eq!(&g[..2], &[0x1f, 0x8b]);
    }
}
