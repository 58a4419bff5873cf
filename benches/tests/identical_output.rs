//! The NDJSON that `segura sessions list -o ndjson` writes for a body is byte-identical,
//! line by line, to what `jq -c '.remote_sessions[]'` prints for it, and to the
//! generator's own compact form of each session. The end-to-end comparison in
//! `cargo xtask bench` relies on it: every contender produces the same bytes.

use std::io::Write;
use std::process::{Command, Stdio};

use segura_api::ReaderSource;
use segura_mock::generator::Generator;

const SESSIONS: u64 = 2000;

/// The path as `segura` writes it: the streaming decoder, then the canonical writer.
fn segura_ndjson(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut source = ReaderSource::new(body, "body");
    while let Some(session) = source.next_ref() {
        match session {
            Ok(s) => s.write_json(&mut out),
            Err(e) => panic!("the generated body does not decode: {e}"),
        }
        out.push(b'\n');
    }
    out
}

fn jq_available() -> bool {
    Command::new("jq")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    for (n, (x, y)) in a
        .split(|&c| c == b'\n')
        .zip(b.split(|&c| c == b'\n'))
        .enumerate()
    {
        if x != y {
            return format!(
                "line {}:\n  segura: {}\n  other:  {}",
                n + 1,
                String::from_utf8_lossy(x),
                String::from_utf8_lossy(y)
            );
        }
    }
    format!("lengths differ: {} and {} bytes", a.len(), b.len())
}

#[test]
fn segura_ndjson_is_the_generators_compact_form() {
    let body = segura_bench::body(SESSIONS);
    let ours = segura_ndjson(&body);
    let generator = Generator::new(7);
    let mut expected = Vec::with_capacity(ours.len());
    for i in 0..SESSIONS {
        generator.session_json(i, &mut expected);
        expected.push(b'\n');
    }
    assert_eq!(
        ours.iter().filter(|&&c| c == b'\n').count() as u64,
        SESSIONS
    );
    assert!(ours == expected, "{}", first_difference(&ours, &expected));
}

#[test]
fn segura_ndjson_is_byte_identical_to_jq() {
    if !jq_available() {
        eprintln!("jq is not on PATH: the comparison with jq is skipped");
        return;
    }
    let body = segura_bench::body(SESSIONS);
    let ours = segura_ndjson(&body);
    let mut jq = Command::new("jq")
        .args(["-c", ".remote_sessions[]"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("jq starts");
    let mut stdin = jq.stdin.take().expect("jq's stdin is piped");
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let out = jq.wait_with_output().expect("jq runs");
    writer
        .join()
        .expect("the writer thread")
        .expect("jq reads the body");
    assert!(out.status.success(), "jq failed: {}", out.status);
    assert!(
        ours == out.stdout,
        "{}",
        first_difference(&ours, &out.stdout)
    );
}
