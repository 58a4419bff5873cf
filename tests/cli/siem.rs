//! `-o ecs`, `-o ocsf` and `-o cef`: the real binary against the mock (list, get,
//! watch) and against a snapshot of hostile sessions, every record checked by the
//! independent validators of `tests/siem/validators.rs` (pinned OCSF 1.6.0 schemas,
//! pinned ECS 9.3.0 fields, a CEF parser written from the specification).

#[path = "../siem/validators.rs"]
mod validators;

use std::collections::BTreeMap;

use crate::adversary::dangerous_char;
use crate::support::{s, Fixture};
use validators::{check_ecs, parse_cef, validate_ocsf};

/// Checks every line of `stdout` in `format`; returns (action, session id) per record.
#[track_caller]
fn records(format: &str, stdout: &str) -> Vec<(String, String)> {
    if let Some((at, c)) = dangerous_char(stdout) {
        panic!("raw {c:?} at byte {at}: {stdout:?}");
    }
    stdout
        .lines()
        .map(|l| match format {
            "ecs" => {
                let v = check_ecs(l);
                (
                    v["event"]["action"].as_str().unwrap().to_owned(),
                    v["segura"]["session"]["id"].as_str().unwrap().to_owned(),
                )
            }
            "ocsf" => {
                let v = validate_ocsf(l);
                (
                    v["activity_name"].as_str().unwrap().to_owned(),
                    v["unmapped"]["id"].as_str().unwrap().to_owned(),
                )
            }
            _ => {
                let c = parse_cef(l).unwrap_or_else(|e| panic!("{e}: {l}"));
                (c.header[4].clone(), c.get("cs4").unwrap().to_owned())
            }
        })
        .collect()
}

#[test]
fn list_writes_one_valid_record_per_session_in_each_format() {
    let f = Fixture::new(60);
    let ndjson = f.segura(&["sessions", "list", "-o", "ndjson", "--tz", "UTC"]);
    let sessions = ndjson.json_lines();
    assert_eq!(sessions.len(), 60);
    for format in ["ecs", "ocsf", "cef"] {
        let o = f.segura(&["sessions", "list", "-o", format, "--tz", "UTC"]);
        let recs = records(format, o.ok());
        let ids: Vec<&str> = recs.iter().map(|(_, id)| id.as_str()).collect();
        let want: Vec<&str> = sessions.iter().map(|v| v["id"].as_str().unwrap()).collect();
        assert_eq!(ids, want, "{format}: one record per session, in order");
    }
    // The values, against the same session in the API's own form.
    let first = &sessions[0];
    let o = f.segura(&[
        "sessions", "list", "-o", "ecs", "--tz", "-03:00", "--limit", "1",
    ]);
    let v = check_ecs(o.ok().trim_end());
    assert_eq!(v["user"]["name"], first["user"]);
    assert_eq!(v["segura"]["session"]["session_id"], first["session_id"]);
    let start = first["start"].as_str().unwrap().replace(' ', "T") + "-03:00";
    assert_eq!(v["event"]["start"], start);
    assert_eq!(v["event"]["action"], "session-listed");
    assert_eq!(v["event"]["type"], serde_json::json!(["info"]));
}

#[test]
fn get_writes_one_record() {
    let f = Fixture::new(5);
    let listed = f.segura(&["sessions", "list", "-o", "ndjson"]).json_lines();
    let id = listed[2]["id"].as_str().expect("an id").to_owned();
    for format in ["ecs", "ocsf", "cef"] {
        let o = f.segura(&["sessions", "get", &id, "-o", format]);
        let recs = records(format, o.ok());
        assert_eq!(recs.len(), 1, "{format}");
        assert_eq!(recs[0].1, id);
    }
}

#[test]
fn watch_writes_one_record_per_event_in_each_format() {
    for format in ["ecs", "ocsf", "cef"] {
        let f = Fixture::new(40);
        let state = f.home.path().join("watch.state");
        let args = [
            "sessions",
            "watch",
            "--once",
            "--state",
            s(&state),
            "-o",
            format,
        ];
        let first = records(format, f.segura(&args).ok());
        assert_eq!(first.len(), 40, "{format}");
        let started: Vec<&String> = first.iter().map(|(a, _)| a).collect();
        let start_name = match format {
            "ocsf" => None,
            _ => Some("session-started"),
        };
        if let Some(name) = start_name {
            assert!(started.iter().all(|a| *a == name), "{format}: {started:?}");
        }
        // Open sessions leave the list without an end; the others end.
        let ndjson = f.segura(&["sessions", "list", "-o", "ndjson"]);
        let open: Vec<String> = ndjson
            .json_lines()
            .iter()
            .filter(|v| v["end"].is_null())
            .map(|v| v["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(!open.is_empty());
        f.server.set_session_count(0);
        let second = records(format, f.segura(&args).ok());
        let ids: Vec<&str> = second.iter().map(|(_, id)| id.as_str()).collect();
        let mut want: Vec<&str> = open.iter().map(String::as_str).collect();
        want.sort_by_key(|id| id.parse::<u64>().unwrap());
        assert_eq!(ids, want, "{format}: one vanished record per open session");
        let vanished = match format {
            "ocsf" => "Other",
            _ => "session-vanished",
        };
        assert!(
            second.iter().all(|(a, _)| a == vanished),
            "{format}: {second:?}"
        );
        // Nothing more.
        assert_eq!(f.segura(&args).ok(), "");
    }
}

#[test]
fn watch_ended_events_carry_the_end() {
    let f = Fixture::new(30);
    let state = f.home.path().join("watch.state");
    let args = [
        "sessions",
        "watch",
        "--once",
        "--state",
        s(&state),
        "-o",
        "ecs",
    ];
    f.segura(&args).ok();
    f.server.end_open_sessions();
    let o = f.segura(&args);
    let lines: Vec<serde_json::Value> = o.ok().lines().map(check_ecs).collect();
    assert!(!lines.is_empty());
    for v in &lines {
        assert_eq!(v["event"]["action"], "session-ended");
        assert_eq!(v["event"]["type"], serde_json::json!(["end"]));
        assert_eq!(v["@timestamp"], v["event"]["end"]);
        assert!(v["event"]["id"].as_str().unwrap().ends_with("-ended"));
    }
}

/// A snapshot whose sessions carry hostile text in every field.
fn hostile_snapshot(f: &Fixture) -> std::path::PathBuf {
    let texts = [
        "a=b|c\\d\nx",
        "\u{1b}]0;pwned\u{7}\u{1b}[2J",
        "\r\nCEF:0|forged|x|1|2|3|10|",
        "\u{9b}31m\u{202e}txt\u{7f}",
        "李小龙 🚀 \"q\" =",
    ];
    let mut body = String::new();
    for (i, t) in texts.iter().enumerate() {
        let protocol = ["rdp", "ssh", "https"][i % 3];
        let v = serde_json::json!({
            "id": (i + 1).to_string(), "user": t, "origin_ip": t, "credential": t,
            "device": t, "protocol": protocol, "proxy": t,
            "session_id": format!("{:040x}", i + 1), "start": "2024-05-06 16:05:07",
            "end": if i % 2 == 0 { serde_json::Value::Null } else { "2024-05-06 16:07:59".into() },
            "time": null, "prevent_purge": "No", "request": t, "ITSM": t
        });
        body.push_str(&v.to_string());
        body.push('\n');
    }
    let path = f.home.path().join("hostile.ndjson");
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn hostile_values_stay_inside_their_fields() {
    let f = Fixture::new(1);
    let input = hostile_snapshot(&f);
    for format in ["ecs", "ocsf", "cef"] {
        let o = f.segura(&["sessions", "list", "--input", s(&input), "-o", format]);
        let recs = records(format, o.ok());
        assert_eq!(recs.len(), 5, "{format}: {}", o.stdout);
    }
    // The user name comes back exactly from JSON, and from CEF as far as CEF can say.
    let o = f.segura(&["sessions", "list", "--input", s(&input), "-o", "ecs"]);
    let users: Vec<String> = o
        .ok()
        .lines()
        .map(|l| check_ecs(l)["user"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users[0], "a=b|c\\d\nx");
    assert_eq!(users[1], "\u{1b}]0;pwned\u{7}\u{1b}[2J");
    let o = f.segura(&["sessions", "list", "--input", s(&input), "-o", "cef"]);
    let cef: Vec<BTreeMap<String, String>> = o
        .ok()
        .lines()
        .map(|l| parse_cef(l).unwrap().extension.into_iter().collect())
        .collect();
    assert_eq!(cef[0]["suser"], "a=b|c\\d\nx");
    assert_eq!(cef[1]["suser"], "\\u{1b}]0;pwned\\u{7}\\u{1b}[2J");
    assert_eq!(cef[2]["suser"], "\r\nCEF:0|forged|x|1|2|3|10|");
    assert_eq!(cef[4]["duser"], "李小龙 🚀 \"q\" =");
}

#[test]
fn siem_formats_are_refused_where_they_mean_nothing() {
    let f = Fixture::new(3);
    let o = f.segura(&["sessions", "stats", "-o", "ecs"]);
    o.code(2);
    assert!(o.stderr.contains("-o ecs"), "{}", o.stderr);
    let o = f.segura(&["sessions", "list", "-o", "cef", "--fields", "id"]);
    o.code(2);
    assert!(o.stderr.contains("--fields"), "{}", o.stderr);
    assert_eq!(o.stdout, "");
}
