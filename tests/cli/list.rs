//! `segura sessions list`: every output format, every filter, sort, limit, fields.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{generated, Fixture};

const N: u64 = 300;

/// The whole list as JSON objects, as the CLI prints it in NDJSON.
fn all(f: &Fixture) -> Vec<Value> {
    f.segura(&["sessions", "list", "-o", "ndjson"])
        .code(0)
        .json_lines()
}

fn ids_of<'a>(sessions: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    sessions
        .into_iter()
        .map(|s| s["id"].as_str().expect("id is a string").to_owned())
        .collect()
}

fn listed_ids(f: &Fixture, args: &[&str]) -> Vec<String> {
    let mut full = vec!["sessions", "list", "-o", "ndjson", "--fields", "id"];
    full.extend_from_slice(args);
    ids_of(&f.segura(&full).code(0).json_lines())
}

fn secs(v: &Value) -> Option<u64> {
    let t = v.as_str()?;
    let mut parts = t.split(':').map(|p| p.parse::<u64>().expect("digits"));
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    Some(h * 3600 + m * 60 + s)
}

#[test]
fn ndjson_is_the_canonical_wire_form_of_every_session() {
    let f = Fixture::new(N);
    let out = f.segura(&["sessions", "list", "-o", "ndjson"]);
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(lines.len() as u64, N);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(*line, generated(i as u64), "session {i}");
    }
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn json_is_one_array_of_the_same_objects_and_options_go_anywhere() {
    let f = Fixture::new(50);
    let a = f.segura(&["-o", "json", "sessions", "list"]);
    let b = f.segura(&["sessions", "list", "--output", "json"]);
    assert_eq!(a.ok(), b.ok());
    let array: Vec<Value> = serde_json::from_str(a.ok()).expect("one JSON array");
    assert_eq!(array, all(&f));
    let empty = f.segura(&["sessions", "list", "-o", "json", "--user", "nobody-at-all"]);
    assert_eq!(empty.ok(), "[]\n");
}

#[test]
fn csv_has_the_api_key_names_and_round_trips() {
    let f = Fixture::new(N);
    let out = f.segura(&["sessions", "list", "-o", "csv"]);
    let mut reader = csv::Reader::from_reader(out.ok().as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
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
            "ITSM"
        ]
    );
    let json = all(&f);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), json.len());
    for (row, obj) in rows.iter().zip(&json) {
        for (i, key) in header.iter().enumerate() {
            let expected = obj[key.as_str()].as_str().unwrap_or("");
            assert_eq!(&row[i], expected, "{key} of {obj}");
        }
    }
}

#[test]
fn table_has_a_header_one_row_per_session_and_no_control_characters() {
    let f = Fixture::new(N);
    let out = f.segura(&["sessions", "list"]);
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(lines.len() as u64, N + 1);
    assert!(
        lines[0].trim_start().starts_with("ID  USER"),
        "{}",
        lines[0]
    );
    for w in ["CREDENTIAL", "DEVICE", "PROTOCOL", "START", "END", "TIME"] {
        assert!(lines[0].contains(w), "{}", lines[0]);
    }
    // The dataset has users with newlines, tabs and other control characters.
    assert!(!out.stdout.chars().any(|c| c.is_control() && c != '\n'));
    assert!(out.stdout.contains("active"), "open sessions are marked");
    let fields = f.segura(&[
        "sessions",
        "list",
        "--fields",
        "session_id,origin-ip",
        "--limit",
        "2",
    ]);
    let lines: Vec<&str> = fields.ok().lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("SESSION_ID"), "{}", lines[0]);
    assert_eq!(lines[1].split_whitespace().next().map(str::len), Some(40));
}

#[test]
fn fields_choose_the_keys_in_every_format() {
    let f = Fixture::new(20);
    let json = f.segura(&["sessions", "list", "-o", "json", "--fields", "user,id,ITSM"]);
    let array: Vec<Value> = serde_json::from_str(json.ok()).expect("array");
    let keys: Vec<&String> = array[0].as_object().expect("object").keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted, ["ITSM", "id", "user"]);
    // Order as asked, in the serialized text.
    let first = json.ok().lines().nth(1).expect("element");
    assert!(first.starts_with("{\"user\":"), "{first}");
    let nd = f.segura(&["sessions", "list", "-o", "ndjson", "--fields", "time"]);
    assert!(nd
        .json_lines()
        .iter()
        .all(|v| v.as_object().map(|o| o.len()) == Some(1)));
    let csv = f.segura(&["sessions", "list", "-o", "csv", "--fields", "id,end"]);
    assert!(csv.ok().starts_with("id,end\n"));
    let bad = f.segura(&["sessions", "list", "--fields", "id,colour"]);
    bad.code(2);
    assert!(bad.stderr.contains("colour"), "{}", bad.stderr);
}

#[test]
fn every_filter_matches_what_it_says() {
    let f = Fixture::new(N);
    let sessions = all(&f);
    let expect = |pred: &dyn Fn(&Value) -> bool| ids_of(sessions.iter().filter(|s| pred(s)));
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or("").to_owned();

    // Exact, case-insensitive text filters, each with a value from the data.
    let s0 = &sessions[0];
    for (flag, key) in [
        ("--user", "user"),
        ("--credential", "credential"),
        ("--device", "device"),
        ("--origin-ip", "origin_ip"),
        ("--protocol", "protocol"),
        ("--proxy", "proxy"),
    ] {
        let value = text(s0, key);
        let want = expect(&|s| text(s, key).to_lowercase() == value.to_lowercase());
        assert!(!want.is_empty());
        let upper = value.to_uppercase();
        assert_eq!(listed_ids(&f, &[flag, &upper]), want, "{flag} {upper}");
    }

    // Repeated: any of the values.
    let (p1, p2) = ("ssh", "RDP");
    let want = expect(&|s| matches!(s["protocol"].as_str(), Some("ssh" | "rdp")));
    assert_eq!(listed_ids(&f, &["--protocol", p1, "--protocol", p2]), want);

    // Substring of any text field.
    let want = expect(&|s| {
        [
            "user",
            "origin_ip",
            "credential",
            "device",
            "protocol",
            "proxy",
            "session_id",
            "request",
            "ITSM",
            "id",
        ]
        .iter()
        .any(|k| text(s, k).to_lowercase().contains("corp"))
    });
    assert!(!want.is_empty());
    assert_eq!(listed_ids(&f, &["--search", "CORP"]), want);

    // Start bounds, inclusive; a bare date is its whole day.
    let since = text(&sessions[100], "start");
    let until = text(&sessions[200], "start");
    let want = expect(&|s| {
        let st = text(s, "start");
        st >= since && st <= until
    });
    assert_eq!(
        listed_ids(&f, &["--since", &since, "--until", &until]),
        want
    );
    let day = &since[..10];
    let want = expect(&|s| text(s, "start").starts_with(day));
    assert_eq!(listed_ids(&f, &["--since", day, "--until", day]), want);
    let rfc = format!("{}T{}Z", &since[..10], &since[11..]);
    assert!(!listed_ids(&f, &["--until", &rfc]).is_empty());
    // The generated sessions are years old: a relative age keeps none of them.
    assert!(listed_ids(&f, &["--since", "7d"]).is_empty());

    // Open sessions, and durations (open sessions have none).
    let want = expect(&|s| s["end"].is_null());
    assert!(!want.is_empty());
    assert_eq!(listed_ids(&f, &["--active"]), want);
    let want = expect(&|s| secs(&s["time"]).is_some_and(|t| (600..=7200).contains(&t)));
    assert_eq!(
        listed_ids(&f, &["--min-duration", "10m", "--max-duration", "2h"]),
        want
    );
    let want = expect(&|s| secs(&s["time"]).is_some_and(|t| t <= 60));
    assert_eq!(listed_ids(&f, &["--max-duration", "00:01:00"]), want);

    // Combined.
    let want = expect(&|s| s["protocol"] == "ssh" && secs(&s["time"]).is_some_and(|t| t >= 3600));
    assert_eq!(
        listed_ids(&f, &["--protocol", "ssh", "--min-duration", "1h"]),
        want
    );
}

#[test]
fn sort_and_limit() {
    let f = Fixture::new(N);
    let sessions = all(&f);
    assert_eq!(listed_ids(&f, &["--limit", "3"]), ids_of(&sessions[..3]));

    let mut by_time: Vec<&Value> = sessions.iter().filter(|s| !s["time"].is_null()).collect();
    by_time.sort_by_key(|s| std::cmp::Reverse(secs(&s["time"])));
    let top: BTreeSet<u64> = by_time[..5]
        .iter()
        .filter_map(|s| secs(&s["time"]))
        .collect();
    let got = f.segura(&[
        "sessions", "list", "-o", "ndjson", "--sort", "-time", "--limit", "5", "--fields", "time",
    ]);
    let got: Vec<u64> = got
        .json_lines()
        .iter()
        .filter_map(|v| secs(&v["time"]))
        .collect();
    assert_eq!(got.len(), 5);
    assert!(got.windows(2).all(|w| w[0] >= w[1]), "{got:?}");
    assert_eq!(got.iter().copied().collect::<BTreeSet<_>>(), top);

    // Ascending by user, case-insensitively; open sessions last when sorting by end.
    let users = f.segura(&[
        "sessions", "list", "-o", "ndjson", "--sort", "user", "--fields", "user",
    ]);
    let users: Vec<String> = users
        .json_lines()
        .iter()
        .map(|v| v["user"].as_str().unwrap_or("").to_lowercase())
        .collect();
    assert!(users.windows(2).all(|w| w[0] <= w[1]));
    let ends = f
        .segura(&[
            "sessions",
            "list",
            "-o",
            "ndjson",
            "--sort=-end",
            "--fields",
            "end",
        ])
        .json_lines();
    let first_null = ends.iter().position(Value::is_null_end).expect("some open");
    assert!(ends[first_null..].iter().all(Value::is_null_end));
    let bad = f.segura(&["sessions", "list", "--sort", "-nope"]);
    bad.code(2);
}

trait NullEnd {
    fn is_null_end(&self) -> bool;
}

impl NullEnd for Value {
    fn is_null_end(&self) -> bool {
        self["end"].is_null()
    }
}
