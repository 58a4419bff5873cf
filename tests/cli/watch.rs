//! `segura sessions watch`: events, and resuming from the state file.

use serde_json::Value;

use crate::support::{s, Fixture};

fn events(out: &crate::support::Output) -> Vec<(String, String)> {
    out.json_lines()
        .iter()
        .map(|e| {
            (
                e["event"].as_str().expect("event").to_owned(),
                e["session"]["id"].as_str().expect("id").to_owned(),
            )
        })
        .collect()
}

#[test]
fn watch_resumes_from_its_state_without_repeating() {
    let f = Fixture::new(100);
    let state = f.home.path().join("watch-state.json");
    let args = [
        "sessions",
        "watch",
        "--once",
        "-o",
        "ndjson",
        "--state",
        s(&state),
    ];

    let first = f.segura(&args);
    let ev = events(&first);
    assert_eq!(ev.len(), 100);
    assert!(ev.iter().all(|(e, _)| e == "new"));
    let open_before = first
        .json_lines()
        .iter()
        .filter(|e| e["session"]["end"].is_null())
        .count();
    assert!(open_before > 0);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("JSON");
    assert_eq!(saved["version"], 2);
    assert_eq!(saved["open"].as_array().map(Vec::len), Some(open_before));

    // A restart with nothing changed prints nothing.
    let again = f.segura(&args);
    assert_eq!(again.ok(), "");

    // Sessions end and new ones appear: exactly those are reported.
    f.server.end_open_sessions();
    f.server.set_session_count(105);
    let third = f.segura(&args);
    let ev = events(&third);
    let ended = ev.iter().filter(|(e, _)| e == "ended").count();
    let new: Vec<&String> = ev
        .iter()
        .filter(|(e, _)| e == "new")
        .map(|(_, id)| id)
        .collect();
    assert_eq!(ended, open_before);
    assert_eq!(new.len(), 5);
    let full = third.json_lines();
    assert!(full
        .iter()
        .filter(|e| e["event"] == "ended")
        .all(|e| !e["session"]["end"].is_null()));

    assert_eq!(f.segura(&args).ok(), "");
    let leftovers: Vec<_> = std::fs::read_dir(f.home.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary state files left");
}

#[test]
fn watch_filters_fields_and_formats() {
    let f = Fixture::new(60);
    let out = f.segura(&[
        "sessions", "watch", "--once", "-o", "ndjson", "--active", "--fields", "id,end",
    ]);
    let lines = out.json_lines();
    assert!(!lines.is_empty());
    for e in &lines {
        assert_eq!(e["event"], "new");
        let keys: Vec<&String> = e["session"].as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), 2);
        assert!(e["session"]["end"].is_null());
    }
    let csv = f.segura(&[
        "sessions", "watch", "--once", "-o", "csv", "--fields", "id,user",
    ]);
    assert!(
        csv.ok().starts_with("event,observed_at,poll,id,user\nnew,"),
        "{}",
        csv.stdout
    );
    let table = f.segura(&["sessions", "watch", "--once"]);
    assert!(table.ok().starts_with("EVENT"), "{}", table.stdout);
    let json = f.segura(&["sessions", "watch", "--once", "-o", "json"]);
    json.code(2);
}

#[test]
fn watch_polls_at_its_interval() {
    let f = Fixture::new(5);
    let mut cmd = f.cmd();
    // 1s is the shortest interval allowed.
    cmd.args(["sessions", "watch", "--interval", "1s", "-o", "ndjson"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let started = std::time::Instant::now();
    while f.server.stats().list_requests < 3 && started.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    assert!(f.server.stats().list_requests >= 3);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 5, "each session once: {text}");
}

#[test]
fn a_state_file_that_cannot_be_written_exits_1_before_any_event() {
    // Its lock beside it cannot be created: found before the first poll, so no event is
    // printed that could not be remembered.
    let f = Fixture::new(3);
    let state = f.home.path().join("no-such-dir").join("state.json");
    let out = f.segura(&[
        "sessions",
        "watch",
        "--once",
        "-o",
        "ndjson",
        "--state",
        s(&state),
    ]);
    out.code(1);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("cannot lock the state file"),
        "{}",
        out.stderr
    );
}
