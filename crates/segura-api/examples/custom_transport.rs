//! Bring your own HTTP stack: `segura_api::Transport` on `std::net`, plain HTTP/1.1.
//!
//! The transport only moves bytes; the generic `Client` knows the endpoints, the OAuth
//! 2.0 token, retries, deadlines and the decoding. Against the mock (`segura-mock --port
//! 8443` prints the credentials):
//!
//! ```text
//! SEGURA_CLIENT_ID=... SEGURA_CLIENT_SECRET=... \
//!   cargo run -p segura-api --example custom_transport -- http://127.0.0.1:8443
//! ```
//!
//! It prints `listed N`, then `got ID SESSION_ID` for the first session fetched by id.
//! For brevity it reads each answer whole before handing it over (a real one streams).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use segura_api::client::{Client, ClientOptions};
use segura_api::protocol::{Auth, ClientAuthMethod, Secret};
use segura_api::{
    ConnectFailure, SessionApi, Transport, TransportError, TransportErrorKind as Kind,
    TransportResponse,
};

/// One connection per request, `Connection: close`, blocking I/O on a worker thread.
struct StdNet;

#[async_trait]
impl Transport for StdNet {
    async fn send(&self, request: Request<Bytes>) -> Result<TransportResponse, TransportError> {
        tokio::task::spawn_blocking(move || exchange(&request))
            .await
            .map_err(|e| TransportError::new(Kind::Interrupted, e.to_string()))?
    }
}

fn fail(kind: Kind) -> impl Fn(std::io::Error) -> TransportError {
    move |e| TransportError::new(kind, e.to_string()).with_source(e)
}

fn exchange(request: &Request<Bytes>) -> Result<TransportResponse, TransportError> {
    let uri = request.uri();
    if uri.scheme_str() != Some("http") {
        return Err(TransportError::new(
            Kind::Config,
            "this example speaks plain http only",
        ));
    }
    let host = uri.host().unwrap_or("localhost");
    let port = uri.port_u16().unwrap_or(80);
    // Until connected, the request provably never left.
    let mut stream =
        TcpStream::connect((host, port)).map_err(fail(Kind::Connect(ConnectFailure::Refused)))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(fail(Kind::Interrupted))?;

    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nHost: {host}:{port}\r\n",
        request.method()
    );
    for (name, value) in request.headers() {
        head.push_str(&format!(
            "{name}: {}\r\n",
            value.to_str().unwrap_or_default()
        ));
    }
    let body = request.body();
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream
        .write_all(head.as_bytes())
        .map_err(fail(Kind::Interrupted))?;
    stream.write_all(body).map_err(fail(Kind::Interrupted))?;

    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(fail(Kind::Interrupted))?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| TransportError::new(Kind::Interrupted, "no HTTP status line"))?;
    let mut headers = HeaderMap::new();
    loop {
        line.clear();
        reader
            .read_line(&mut line)
            .map_err(fail(Kind::Interrupted))?;
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break; // the blank line after the headers
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.trim()),
            HeaderValue::try_from(value.trim()),
        ) {
            headers.append(n, v);
        }
    }

    let mut body = Vec::new();
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
    let result = if chunked {
        read_chunked(&mut reader, &mut body)
    } else if let Some(len) = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse().ok())
    {
        body.resize(len, 0);
        reader.read_exact(&mut body)
    } else {
        reader.read_to_end(&mut body).map(drop)
    };
    // A body cut short is handed over with the error after what arrived: the client
    // decides what that means.
    let mut chunks = vec![Ok(Bytes::from(body))];
    if let Err(e) = result {
        chunks.push(Err(fail(Kind::Interrupted)(e)));
    }
    Ok(TransportResponse::from_chunks(status, headers, chunks))
}

fn read_chunked(reader: &mut impl BufRead, body: &mut Vec<u8>) -> std::io::Result<()> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad chunked framing");
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let size = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size, 16).map_err(|_| bad())?;
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        line.clear();
        reader.read_line(&mut line)?; // the CRLF after the data (or the last chunk's)
        if size == 0 {
            return Ok(());
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .ok_or("usage: custom_transport URL")?;
    let auth = Auth::OAuth2 {
        client_id: std::env::var("SEGURA_CLIENT_ID")?,
        client_secret: Secret::new(std::env::var("SEGURA_CLIENT_SECRET")?),
        method: ClientAuthMethod::Body,
    };
    let client = Client::new(StdNet, ClientOptions::new(url, auth))?;

    let mut sessions = client.list_sessions().await?;
    let (mut count, mut first) = (0u64, None);
    while let Some(session) = sessions.next_ref().await {
        let session = session?;
        first = first.or(Some(session.id));
        count += 1;
    }
    println!("listed {count}");
    if let Some(id) = first {
        let session = client.get_session(id).await?;
        println!("got {} {}", session.id, session.session_id);
    }
    Ok(())
}
