//! The hostile server itself, seen through the binary: a correct answer from it is
//! handled like one from the mock, so failures in the other `hostile_*` tests are the
//! client's, not the harness's.

use segura_hostile::{list_body, Reply};

use crate::adversary::{token_then, Attack};

#[test]
fn a_well_formed_answer_from_the_hostile_server_lists_its_sessions() {
    let a = Attack::new(token_then(|_| Reply::json(200, list_body(3))));
    let o = a.run(&["sessions", "list", "-o", "ndjson"]);
    o.code(0);
    let lines = o.json_lines();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["id"], "3");
    let reqs = a.server.requests();
    assert_eq!(reqs[0].path(), segura_hostile::TOKEN_PATH);
    assert!(reqs[0]
        .body_text()
        .contains("grant_type=client_credentials"));
    assert_eq!(
        reqs[1].header("authorization"),
        Some(format!("Bearer {}", segura_hostile::ACCESS_TOKEN).as_str())
    );
}
