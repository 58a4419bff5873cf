//! `segura sessions stats`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::Fixture;

fn secs(v: &Value) -> Option<u64> {
    let t = v.as_str()?;
    let p: Vec<u64> = t.split(':').map(|x| x.parse().expect("digits")).collect();
    Some(p[0] * 3600 + p[1] * 60 + p[2])
}

#[test]
fn groups_match_the_sessions_in_every_grouping() {
    let f = Fixture::new(400);
    let sessions = f.segura(&["sessions", "list", "-o", "ndjson"]).json_lines();
    for (by, key) in [
        ("user", "user"),
        ("credential", "credential"),
        ("device", "device"),
        ("protocol", "protocol"),
        ("proxy", "proxy"),
        ("origin-ip", "origin_ip"),
        ("day", "start"),
    ] {
        let mut want: BTreeMap<String, (u64, u64, u64, Option<u64>)> = BTreeMap::new();
        for s in &sessions {
            let mut group = s[key].as_str().unwrap_or("").to_owned();
            if by == "day" {
                group.truncate(10);
            }
            let e = want.entry(group).or_default();
            e.0 += 1;
            if let Some(t) = secs(&s["time"]) {
                e.1 += 1;
                e.2 += t;
                e.3 = Some(e.3.map_or(t, |m: u64| m.max(t)));
            }
        }
        let out = f.segura(&["sessions", "stats", "--by", by, "-o", "ndjson"]);
        let got = out.json_lines();
        assert_eq!(got.len(), want.len(), "--by {by}");
        for g in &got {
            let name = g["group"].as_str().expect("group");
            let (count, timed, total, max) = want[name];
            assert_eq!(g["count"], count, "{by} {name}");
            assert_eq!(g["total_seconds"], total, "{by} {name}");
            assert_eq!(g["max_seconds"].as_u64(), max, "{by} {name}");
            let mean = g["mean_seconds"].as_f64();
            if timed == 0 {
                assert!(mean.is_none());
            } else {
                let exact = total as f64 / timed as f64;
                assert!((mean.expect("mean") - exact).abs() <= 0.051, "{by} {name}");
            }
        }
        if by == "day" {
            let days: Vec<&str> = got.iter().filter_map(|g| g["group"].as_str()).collect();
            assert!(days.windows(2).all(|w| w[0] < w[1]), "days in order");
        } else {
            let counts: Vec<u64> = got.iter().filter_map(|g| g["count"].as_u64()).collect();
            assert!(counts.windows(2).all(|w| w[0] >= w[1]), "largest first");
        }
    }
}

#[test]
fn table_has_bars_and_filters_apply() {
    let f = Fixture::new(300);
    let out = f.segura(&["sessions", "stats", "--by", "proxy"]);
    let text = out.ok();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("PROXY"), "{text}");
    assert!(
        lines[0].contains("SESSIONS") && lines[0].contains("LONGEST"),
        "{text}"
    );
    assert!(lines[1].contains('█'), "{text}");
    assert!(text.contains("Web Proxy"), "{text}");
    assert!(
        lines
            .last()
            .is_some_and(|l| l.starts_with("300 sessions in ")),
        "{text}"
    );

    let ssh = f.segura(&[
        "sessions",
        "stats",
        "--by",
        "protocol",
        "--protocol",
        "ssh",
        "-o",
        "json",
    ]);
    let v: Value = serde_json::from_str(ssh.ok()).expect("array");
    let groups = v.as_array().expect("array");
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["group"], "ssh");

    let active = f.segura(&["sessions", "stats", "--active", "-o", "json"]);
    let v: Value = serde_json::from_str(active.ok()).expect("array");
    for g in v.as_array().expect("array") {
        assert_eq!(g["total_seconds"], 0);
        assert!(g["mean_seconds"].is_null() && g["max_seconds"].is_null());
    }

    let csv = f.segura(&["sessions", "stats", "--by", "day", "-o", "csv"]);
    assert!(csv
        .ok()
        .starts_with("group,count,total_seconds,mean_seconds,max_seconds\n"));
}
