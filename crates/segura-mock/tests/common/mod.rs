//! Helpers shared by the integration tests: a client, tokens, and parsers
//! that keep the key order of JSON objects so shapes can be checked exactly.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::error::Error;
use std::fmt;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use segura_mock::{MockConfig, MockServer};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

pub type TestResult = Result<(), Box<dyn Error + Send + Sync>>;
pub type AnyError = Box<dyn Error + Send + Sync>;

/// The 14 session keys, in order.
pub const SESSION_KEYS: [&str; 14] = [
    "id",
    "user",
    "origin_ip",
    "credential",
    "device",
    "protocol",
    "proxy",
    "session_id",
    "start",
    "end",
    "time",
    "prevent_purge",
    "request",
    "ITSM",
];

pub async fn start(config: MockConfig) -> Result<MockServer, AnyError> {
    Ok(MockServer::start(config).await?)
}

/// A client that does not ask for gzip, so byte counts are the server's.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap_or_default()
}

/// A client trusting the server's CA (and nothing else).
pub fn tls_client(server: &MockServer) -> Result<reqwest::Client, AnyError> {
    let pem = server.ca_cert_pem().ok_or("no CA certificate")?;
    Ok(reqwest::Client::builder()
        .no_gzip()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes())?)
        .timeout(Duration::from_secs(20))
        .build()?)
}

pub async fn token(client: &reqwest::Client, server: &MockServer) -> Result<String, AnyError> {
    let response = client
        .post(format!("{}/iso/oauth2/token", server.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", server.client_id()),
            ("client_secret", server.client_secret()),
        ])
        .send()
        .await?;
    if response.status() != StatusCode::OK {
        return Err(format!("token request answered {}", response.status()).into());
    }
    let body: Value = serde_json::from_slice(&response.bytes().await?)?;
    Ok(body["access_token"]
        .as_str()
        .ok_or("no access_token")?
        .to_owned())
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Result<Value, AnyError> {
        Ok(serde_json::from_slice(&self.body)?)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub async fn read(request: reqwest::RequestBuilder) -> Result<Reply, AnyError> {
    let response = request.send().await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await?.to_vec();
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// GET `path` with a bearer token and optional fault header.
pub async fn api_get(
    client: &reqwest::Client,
    server: &MockServer,
    token: &str,
    path: &str,
    fault: Option<&str>,
) -> Result<Reply, AnyError> {
    let mut request = client
        .get(format!("{}{path}", server.url()))
        .bearer_auth(token);
    if let Some(fault) = fault {
        request = request.header(segura_mock::FAULT_HEADER, fault);
    }
    read(request).await
}

/// A JSON object with its keys in the order they came.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered(pub Vec<(String, Value)>);

impl Ordered {
    pub fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    /// The object printed back compactly, keys in order: what `jq -c` prints.
    pub fn compact(&self) -> String {
        let fields: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), v))
            .collect();
        format!("{{{}}}", fields.join(","))
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    fields.push((k, v));
                }
                Ok(Ordered(fields))
            }
        }
        deserializer.deserialize_map(OrderedVisitor)
    }
}

/// The list body, sessions kept in order with their keys in order.
#[derive(Debug, serde::Deserialize)]
pub struct ListBody {
    pub code: i64,
    pub response: Ordered,
    pub tenant: String,
    pub remote_sessions: Vec<Ordered>,
}

/// The get body.
#[derive(Debug, serde::Deserialize)]
pub struct GetBody {
    pub code: i64,
    pub response: Ordered,
    pub tenant: String,
    pub remote_session: Vec<Ordered>,
}

pub fn parse_list(body: &[u8]) -> Result<ListBody, AnyError> {
    Ok(serde_json::from_slice(body)?)
}

fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

fn is_duration(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 3
        && parts[0].len() >= 2
        && parts.iter().all(|p| p.bytes().all(|c| c.is_ascii_digit()))
        && parts[1].len() == 2
        && parts[2].len() == 2
}

/// Seconds since 1970 of a `YYYY-MM-DD HH:MM:SS` (already checked) value.
fn epoch(s: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<i64>().ok()).unwrap_or(0);
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // days_from_civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

/// Seconds of a `HH:MM:SS` (already checked) duration.
fn seconds(t: &str) -> i64 {
    t.split(':')
        .map(|p| p.parse::<i64>().unwrap_or(0))
        .fold(0, |acc, p| acc * 60 + p)
}

/// Checks one session against the documented shape.
pub fn check_session(session: &Ordered) -> Result<(), AnyError> {
    let fail = |what: &str| -> AnyError { format!("{what}: {}", session.compact()).into() };
    if session.keys() != SESSION_KEYS {
        return Err(fail("keys out of order"));
    }
    let id = session.str("id").ok_or_else(|| fail("id"))?;
    if id.is_empty() || !id.bytes().all(|c| c.is_ascii_digit()) {
        return Err(fail("id not digits"));
    }
    for key in [
        "user",
        "origin_ip",
        "credential",
        "device",
        "protocol",
        "proxy",
    ] {
        session.str(key).ok_or_else(|| fail(key))?;
    }
    let hash = session
        .str("session_id")
        .ok_or_else(|| fail("session_id"))?;
    if hash.len() != 40 || !hash.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(fail("session_id not 40 lowercase hex"));
    }
    if !is_datetime(session.str("start").ok_or_else(|| fail("start"))?) {
        return Err(fail("start format"));
    }
    match (session.get("end"), session.get("time")) {
        (Some(Value::Null), Some(Value::Null)) => {}
        (Some(Value::String(end)), Some(Value::String(time))) => {
            if !is_datetime(end) || !is_duration(time) {
                return Err(fail("end/time format"));
            }
            let start = epoch(session.str("start").unwrap_or(""));
            if epoch(end) != start + seconds(time) {
                return Err(fail("end is not start + time"));
            }
        }
        _ => return Err(fail("end and time must be both null or both strings")),
    }
    if !matches!(session.str("prevent_purge"), Some("Yes" | "No")) {
        return Err(fail("prevent_purge"));
    }
    for key in ["request", "ITSM"] {
        if !matches!(session.get(key), Some(Value::Null | Value::String(_))) {
            return Err(fail(key));
        }
    }
    Ok(())
}

/// Checks an ok `response` status block.
pub fn check_ok_status(response: &Ordered) -> Result<(), AnyError> {
    let expected = serde_json::json!({"status":200,"message":"","error":false,"error_code":0,
        "detail":"","mensagem":"","erro":false,"cod_erro":0});
    let keys = [
        "status",
        "message",
        "error",
        "error_code",
        "detail",
        "mensagem",
        "erro",
        "cod_erro",
    ];
    if response.keys() != keys {
        return Err(format!("status block keys: {:?}", response.keys()).into());
    }
    for (k, v) in &response.0 {
        if expected[k.as_str()] != *v {
            return Err(format!("status block {k} = {v}").into());
        }
    }
    Ok(())
}

/// Reads `VmRSS` or `VmHWM` from `/proc/self/status`, in KiB.
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
