//! `--input`: saved list responses through the same decoder and filters.

use crate::support::{generated, s, Fixture};

#[test]
fn input_file_and_stdin_give_what_the_server_gives() {
    let f = Fixture::new(200);
    let body = f.saved_body(200);
    let from_server = f.segura(&["sessions", "list", "-o", "ndjson"]);
    let from_file = f.run(
        f.bare(),
        &["sessions", "list", "-o", "ndjson", "--input", s(&body)],
    );
    assert_eq!(from_file.ok(), from_server.ok());
    assert_eq!(
        f.server.stats().list_requests,
        1,
        "--input does not call the server"
    );
    let bytes = std::fs::read(&body).expect("body");
    let from_stdin = f.segura_stdin(
        &["sessions", "list", "-o", "ndjson", "--input", "-"],
        &bytes,
    );
    assert_eq!(from_stdin.ok(), from_server.ok());

    let filtered = f.run(
        f.bare(),
        &[
            "sessions",
            "list",
            "--input",
            s(&body),
            "-o",
            "ndjson",
            "--protocol",
            "rdp",
            "--limit",
            "4",
        ],
    );
    let lines = filtered.json_lines();
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().all(|l| l["protocol"] == "rdp"));

    let stats_file = f.run(
        f.bare(),
        &["sessions", "stats", "--input", s(&body), "-o", "json"],
    );
    let stats_server = f.segura(&["sessions", "stats", "-o", "json"]);
    assert_eq!(stats_file.ok(), stats_server.ok());

    let watch = f.run(
        f.bare(),
        &[
            "sessions",
            "watch",
            "--once",
            "--input",
            s(&body),
            "-o",
            "ndjson",
        ],
    );
    assert_eq!(watch.json_lines().len(), 200);
}

#[test]
fn missing_input_is_a_configuration_error() {
    let f = Fixture::new(1);
    let out = f.run(
        f.bare(),
        &["sessions", "list", "--input", "/nonexistent/list.json"],
    );
    out.code(3);
    assert!(
        out.stderr.contains("/nonexistent/list.json"),
        "{}",
        out.stderr
    );
}

#[test]
fn truncated_input_keeps_complete_lines_and_says_it_is_incomplete() {
    let f = Fixture::new(1);
    let body = f.saved_body(50);
    let mut bytes = std::fs::read(&body).expect("body");
    bytes.truncate(bytes.len() * 2 / 3);
    let cut = f.home.path().join("cut.json");
    std::fs::write(&cut, &bytes).expect("write");
    let out = f.run(
        f.bare(),
        &["sessions", "list", "-o", "ndjson", "--input", s(&cut)],
    );
    out.code(8);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(!lines.is_empty() && lines.len() < 50);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(*l, generated(i as u64));
    }
    assert!(out.stdout.ends_with('\n'));
    assert!(out.stderr.contains("incomplete"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("{} sessions", lines.len())),
        "{}",
        out.stderr
    );
}

#[test]
fn handwritten_legacy_body_is_accepted() {
    let f = Fixture::new(1);
    let path = f.home.path().join("legacy.json");
    std::fs::write(
        &path,
        r#"{"remote_sessions":[{"id":3,"user":"Admin","credencial":"root","dispositivo":"srv:22","protocol":"SSH","proxy":"terminal proxy","session_id":"e7acacb6aedbab70073456da5744166939b77527","start":"2024-05-06 16:05:07","end":"0000-00-00 00:00:00","time":null,"prevent_purge":"Sim","request":null,"itsm":"INC1"}],"code":200,"response":{"status":200,"error":false}}"#,
    )
    .expect("write");
    let out = f.run(
        f.bare(),
        &["sessions", "list", "-o", "ndjson", "--input", s(&path)],
    );
    assert_eq!(
        out.ok(),
        "{\"id\":\"3\",\"user\":\"Admin\",\"origin_ip\":\"\",\"credential\":\"root\",\"device\":\"srv:22\",\"protocol\":\"ssh\",\"proxy\":\"Terminal Proxy\",\"session_id\":\"e7acacb6aedbab70073456da5744166939b77527\",\"start\":\"2024-05-06 16:05:07\",\"end\":null,\"time\":null,\"prevent_purge\":\"Yes\",\"request\":null,\"ITSM\":\"INC1\"}\n"
    );
}
