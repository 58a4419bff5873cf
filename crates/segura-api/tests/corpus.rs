//! The hostile-input corpus (`tests/corpus/`): each body with its expected outcome, the
//! number of sessions and the error class, checked at several chunkings.

use std::path::PathBuf;

use segura_api::{Error, ListDecoder, Step};
use serde_json::Value;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

fn class(e: &Error) -> &'static str {
    match e.class() {
        c @ ("invalid_response" | "not_found" | "server" | "auth" | "timeout" | "api") => c,
        _ => "other",
    }
}

fn decode(body: &[u8], chunk: usize) -> (u64, Option<Error>) {
    let mut d = ListDecoder::new();
    let mut chunks = body.chunks(chunk.max(1));
    loop {
        match d.advance() {
            Ok(Step::Session) => {}
            Ok(Step::NeedInput) => match chunks.next() {
                Some(c) => d.feed(c),
                None => d.finish(),
            },
            Ok(Step::Done) => return (d.sessions_decoded(), None),
            Err(e) => return (d.sessions_decoded(), Some(e)),
        }
    }
}

#[test]
fn every_corpus_body_has_its_expected_outcome() {
    let manifest: Vec<Value> =
        serde_json::from_slice(&std::fs::read(corpus_dir().join("expected.json")).unwrap())
            .unwrap();
    assert!(
        manifest.len() >= 40,
        "the corpus must hold at least 40 bodies"
    );
    let on_disk = std::fs::read_dir(corpus_dir()).unwrap().count() - 1;
    assert_eq!(
        on_disk,
        manifest.len(),
        "every file in the corpus has an expected outcome"
    );
    for case in &manifest {
        let file = case["file"].as_str().unwrap();
        let body = std::fs::read(corpus_dir().join(file)).unwrap();
        let want_sessions = case["sessions"].as_u64().unwrap();
        let reference = decode(&body, body.len());
        for chunk in [1, 7, 64, 4096] {
            assert_eq!(
                decode(&body, chunk),
                reference,
                "{file}: chunk size {chunk}"
            );
        }
        let (sessions, err) = reference;
        assert_eq!(
            sessions, want_sessions,
            "{file}: sessions before the outcome"
        );
        match (&case["error"], err) {
            (Value::Null, None) => {}
            (Value::Null, Some(e)) => panic!("{file}: unexpected error {e}"),
            (want, None) => panic!("{file}: expected {want}, decoded fine"),
            (want, Some(e)) => {
                assert_eq!(class(&e), want["class"].as_str().unwrap(), "{file}: {e}");
                if let Some(needle) = want["contains"].as_str() {
                    assert!(
                        e.to_string().contains(needle),
                        "{file}: {e:?} lacks {needle:?}"
                    );
                }
                if let Error::InvalidResponse {
                    truncated,
                    sessions_before,
                    ..
                } = &e
                {
                    assert_eq!(
                        *truncated,
                        want["truncated"].as_bool().unwrap(),
                        "{file}: {e}"
                    );
                    assert_eq!(*sessions_before, want_sessions, "{file}");
                }
            }
        }
    }
}
