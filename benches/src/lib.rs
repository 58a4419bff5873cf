//! Benchmarks of the segura data path (`cargo bench -p segura-bench`) and the baseline
//! programs the end-to-end comparison (`cargo xtask bench`) runs against `segura`.
//!
//! Nothing here is published or used by the SDK.
#![deny(missing_docs)]

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// A list body of `count` sessions from the mock server's generator.
pub fn body(count: u64) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = segura_mock::generator::write_list_body(&mut out, 7, count);
    out
}

/// The session as a straightforward program would declare it: owned strings, derived
/// serde, no validation.
#[derive(Debug, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct PlainSession {
    pub id: serde_json::Value,
    pub user: Option<String>,
    pub origin_ip: Option<String>,
    pub credential: Option<String>,
    pub device: Option<String>,
    pub protocol: Option<String>,
    pub proxy: Option<String>,
    pub session_id: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub time: Option<String>,
    pub prevent_purge: Option<String>,
    pub request: Option<String>,
    #[serde(rename = "ITSM")]
    pub itsm: Option<String>,
}

/// The list body as a straightforward program would declare it.
#[derive(Debug, Deserialize)]
pub struct PlainBody {
    /// Every session.
    pub remote_sessions: Vec<PlainSession>,
}

/// The session as a straightforward program using `sonic-rs` would declare it: strings
/// borrowed from the body where they have no escapes, no validation.
#[derive(Debug, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct BorrowedSession<'a> {
    #[serde(borrow)]
    pub id: sonic_rs::LazyValue<'a>,
    #[serde(borrow)]
    pub user: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub origin_ip: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub credential: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub device: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub protocol: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub proxy: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub session_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub start: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub end: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub prevent_purge: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub request: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "ITSM")]
    pub itsm: Option<Cow<'a, str>>,
}

/// The list body with borrowed sessions.
#[derive(Debug, Deserialize)]
pub struct BorrowedBody<'a> {
    /// Every session.
    #[serde(borrow)]
    pub remote_sessions: Vec<BorrowedSession<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_program_reads_the_generated_body() {
        let b = body(50);
        let plain: PlainBody = serde_json::from_slice(&b).unwrap();
        assert_eq!(plain.remote_sessions.len(), 50);
        let fast: Vec<_> = segura_api::ReaderSource::new(&b[..], "body")
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(fast.len(), 50);
        let borrowed: BorrowedBody<'_> = sonic_rs::from_slice(&b).unwrap();
        assert_eq!(borrowed.remote_sessions.len(), 50);
        // All write the same NDJSON for a body in the documented form.
        for ((p, f), s) in plain
            .remote_sessions
            .iter()
            .zip(&fast)
            .zip(&borrowed.remote_sessions)
        {
            let expected = serde_json::to_string(f).unwrap();
            assert_eq!(serde_json::to_string(p).unwrap(), expected);
            assert_eq!(sonic_rs::to_string(s).unwrap(), expected);
        }
    }
}
