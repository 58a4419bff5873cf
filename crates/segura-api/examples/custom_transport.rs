//! Bring your own HTTP stack: `segura_api::Transport` on `std::net` (plain HTTP/1.1,
//! one connection per request, each answer read whole for brevity). It moves bytes only:
//! the generic `Client` knows the endpoints, the token, retries and decoding. Run it with
//! `SEGURA_CLIENT_ID=.. SEGURA_CLIENT_SECRET=.. cargo run -p segura-api --example
//! custom_transport -- http://127.0.0.1:8443` against `segura-mock`: it prints `listed N`,
//! then `got ID SESSION_ID` for the first session fetched by id.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use segura_api::client::{Client, ClientOptions};
use segura_api::protocol::{Auth, ClientAuthMethod, Secret};
use segura_api::ConnectFailure::Refused;
use segura_api::TransportResponse;
use segura_api::{SessionApi, Transport, TransportError, TransportErrorKind as Kind};

/// Blocking I/O on a worker thread.
struct StdNet;

#[async_trait]
impl Transport for StdNet {
    async fn send(&self, request: Request<Bytes>) -> Result<TransportResponse, TransportError> {
        tokio::task::spawn_blocking(move || exchange(&request))
            .await
            .map_err(|e| TransportError::new(Kind::Interrupted, e.to_string()))?
    }
}

fn exchange(request: &Request<Bytes>) -> Result<TransportResponse, TransportError> {
    let (host, port) = (request.uri().host().unwrap_or(""), request.uri().port_u16());
    let port = port.unwrap_or(80);
    let fail = |kind| move |e: io::Error| TransportError::new(kind, e.to_string()).with_source(e);
    // Until connected, the request provably never left.
    let stream = TcpStream::connect((host, port)).map_err(fail(Kind::Connect(Refused)))?;
    let (status, headers, mut reader) = talk(stream, request).map_err(fail(Kind::Interrupted))?;
    let mut body = Vec::new();
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let chunked = header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let length = header("content-length").and_then(|v| v.parse().ok());
    let read = match (chunked, length) {
        (true, _) => read_chunked(&mut reader, &mut body),
        (false, Some(n)) => {
            body.resize(n, 0);
            reader.read_exact(&mut body)
        }
        (false, None) => reader.read_to_end(&mut body).map(drop),
    };
    // A body cut short ends with the error after what arrived: the client decides.
    let mut chunks = vec![Ok(Bytes::from(body))];
    chunks.extend(read.err().map(|e| Err(fail(Kind::Interrupted)(e))));
    Ok(TransportResponse::from_chunks(status, headers, chunks))
}

type Head = (StatusCode, HeaderMap, BufReader<TcpStream>);

/// Writes the request; reads the status line and the headers.
fn talk(mut stream: TcpStream, request: &Request<Bytes>) -> io::Result<Head> {
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let (m, uri, body) = (request.method(), request.uri(), request.body());
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let host = uri.authority().map_or("", |a| a.as_str());
    let mut head = format!("{m} {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in request.headers() {
        let value = value.to_str().unwrap_or_default();
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let length = body.len();
    head.push_str(&format!(
        "Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;

    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    let status = status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or(io::ErrorKind::InvalidData)?;
    let mut headers = HeaderMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let Some((name, value)) = line.trim_end().split_once(':') else {
            return Ok((status, headers, reader)); // the blank line after the headers
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.trim()),
            HeaderValue::try_from(value.trim()),
        ) {
            headers.append(n, v);
        }
    }
}

fn read_chunked(reader: &mut impl BufRead, body: &mut Vec<u8>) -> io::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let size = line.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size, 16).map_err(|_| io::ErrorKind::InvalidData)?;
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        reader.read_line(&mut String::new())?; // the CRLF after the data
        if size == 0 {
            return Ok(());
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).ok_or("usage: URL")?;
    let auth = Auth::OAuth2 {
        client_id: std::env::var("SEGURA_CLIENT_ID")?,
        client_secret: Secret::new(std::env::var("SEGURA_CLIENT_SECRET")?),
        method: ClientAuthMethod::Body,
    };
    let client = Client::new(StdNet, ClientOptions::new(url, auth))?;

    let mut sessions = client.list_sessions().await?;
    let (mut count, mut first) = (0u64, None);
    while let Some(session) = sessions.next_ref().await {
        (count, first) = (count + 1, first.or(Some(session?.id)));
    }
    println!("listed {count}");
    if let Some(id) = first {
        let session = client.get_session(id).await?;
        println!("got {} {}", session.id, session.session_id);
    }
    Ok(())
}
