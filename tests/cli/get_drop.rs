//! `segura sessions get` and `segura sessions drop`.

use segura_mock::generator::Generator;
use serde_json::Value;

use crate::support::{generated, Fixture};

#[test]
fn get_prints_one_session_in_each_format() {
    let f = Fixture::new(50);
    let g = Generator::new(7);
    let id = g.id(12).to_string();
    let json = f.segura(&["sessions", "get", &id, "-o", "json"]);
    let v: Value = serde_json::from_str(json.ok()).expect("one object");
    let expected: Value = serde_json::from_str(&generated(12)).expect("generated JSON");
    assert_eq!(v, expected);

    let nd = f.segura(&["sessions", "get", &id, "-o", "ndjson"]);
    assert_eq!(nd.ok(), format!("{}\n", generated(12)));

    let table = f.segura(&["sessions", "get", &id]);
    let text = table.ok();
    assert!(text.starts_with("FIELD"), "{text}");
    assert!(text.contains(&g.session_hash(12)), "{text}");
    assert_eq!(text.lines().count(), 15);

    let csv = f.segura(&[
        "sessions",
        "get",
        &id,
        "-o",
        "csv",
        "--fields",
        "id,session_id",
    ]);
    assert_eq!(
        csv.ok(),
        format!("id,session_id\n{id},{}\n", g.session_hash(12))
    );
}

#[test]
fn get_unknown_id_or_hash_is_not_found() {
    let f = Fixture::new(10);
    let out = f.segura(&["sessions", "get", "999999"]);
    out.code(5);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert!(out.stderr.contains("Session not found"), "{}", out.stderr);
    assert!(
        out.stderr.contains("  cause: ") && out.stderr.contains("  hint: "),
        "{}",
        out.stderr
    );

    let out = f.segura(&["sessions", "get", &"ab".repeat(20)]);
    out.code(5);
    assert!(
        out.stderr.contains("no session in the list"),
        "{}",
        out.stderr
    );
    assert_eq!(f.server.stats().get_requests, 1);
}

#[test]
fn drop_needs_yes_without_a_terminal_then_ends_the_session() {
    let f = Fixture::new(200);
    let g = Generator::new(7);
    let index = (0..200).find(|i| g.is_open(*i)).expect("an open session");
    let hash = g.session_hash(index);
    let id = g.id(index).to_string();

    let refused = f.segura(&["sessions", "drop", &hash]);
    refused.code(2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(f.server.stats().drop_requests, 0);

    let done = f.segura(&["sessions", "drop", &hash, "--yes"]);
    assert_eq!(
        done.ok(),
        format!("dropped session {hash}: Session dropped successfully\n")
    );
    assert_eq!(f.server.stats().sessions_dropped, 1);

    let after = f.segura(&["sessions", "get", &id, "-o", "json"]);
    let v: Value = serde_json::from_str(after.ok()).expect("object");
    assert!(!v["end"].is_null(), "{v}");

    // Ended now: refused, unless forced.
    let again = f.segura(&["sessions", "drop", &hash, "-y"]);
    again.code(1);
    assert!(
        again.stderr.contains("has already ended"),
        "{}",
        again.stderr
    );
    let json = f.segura(&["sessions", "drop", &hash, "-y", "--force", "-o", "json"]);
    let v: Value = serde_json::from_str(json.ok()).expect("object");
    assert_eq!(v["session_id"], hash.as_str());
    assert_eq!(v["dropped"], true);
}

#[test]
fn drop_takes_the_hash_not_the_id_and_reports_unknown_hashes() {
    let f = Fixture::new(10);
    let out = f.segura(&["sessions", "drop", "42", "--yes"]);
    out.code(2);
    assert!(out.stderr.contains("numeric id"), "{}", out.stderr);
    let out = f.segura(&["sessions", "drop", &"ab".repeat(20), "--yes"]);
    out.code(5);
    assert_eq!(f.server.stats().drop_requests, 0);
    let out = f.segura(&["sessions", "drop", &"ab".repeat(20), "--yes", "--force"]);
    out.code(5);
    assert_eq!(f.server.stats().drop_requests, 1);
}
