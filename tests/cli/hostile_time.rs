//! Time and selection end to end: an appliance whose clock is São Paulo's (UTC-3)
//! served by the mock, runs under different `TZ` values, the appliance zone from
//! `--tz`, `SEGURA_TZ` or the profile, windows, patterns, negations and `--filter`.

use std::collections::BTreeSet;
use std::time::Duration;

use segura_mock::MockConfig;
use serde_json::Value;

use crate::support::{Fixture, Output};

const SAO_PAULO: i32 = -3 * 3600;

/// 120 sessions, one a minute, the last started 30 minutes ago on a UTC-3 clock.
fn sao_paulo() -> Fixture {
    Fixture::with(
        MockConfig::default()
            .sessions(120)
            .seed(7)
            .recent_in_zone(SAO_PAULO, Duration::from_secs(30 * 60)),
    )
}

fn run_tz(f: &Fixture, tz: &str, envs: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = f.cmd();
    cmd.env("TZ", tz);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    f.run(cmd, args)
}

fn ids(o: &Output) -> BTreeSet<String> {
    o.code(0)
        .json_lines()
        .iter()
        .map(|v| v["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn all(f: &Fixture) -> Vec<Value> {
    run_tz(f, "UTC0", &[], &["sessions", "list", "-o", "ndjson"])
        .code(0)
        .json_lines()
}

#[test]
fn relative_bounds_use_the_appliance_zone_whatever_tz() {
    let f = sao_paulo();
    let list = |tz: &str, envs: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec!["sessions", "list", "-o", "ndjson", "--since", "1h"];
        args.extend_from_slice(extra);
        ids(&run_tz(&f, tz, envs, &args))
    };
    let flagged = list("UTC0", &[], &["--tz", "America/Sao_Paulo"]);
    // One a minute, the last 30 minutes ago: about 30 in the last hour.
    assert!((28..=32).contains(&flagged.len()), "{}", flagged.len());
    for tz in ["JST-9", "<-03>3", "America/New_York", "UTC0"] {
        assert_eq!(list(tz, &[], &["--tz", "-03:00"]), flagged, "TZ={tz}");
        assert_eq!(
            list(tz, &[("SEGURA_TZ", "America/Sao_Paulo")], &[]),
            flagged,
            "TZ={tz} SEGURA_TZ"
        );
    }
    f.write_config(
        "[profiles.default]\ntimezone = \"America/Sao_Paulo\"\n",
        0o600,
    );
    assert_eq!(list("JST-9", &[], &[]), flagged, "profile key timezone");
    // Without a zone the machine's is assumed: right only where it is the appliance's.
    std::fs::remove_file(f.config_path()).unwrap();
    assert_eq!(list("<-03>3", &[], &[]), flagged);
    assert!(
        list("UTC0", &[], &[]).is_empty(),
        "3 hours ahead: nothing in the last hour"
    );
    // An absolute bound with an offset is an instant.
    let now = chrono::Utc::now() - chrono::Duration::hours(1);
    let bound = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let abs = ids(&run_tz(
        &f,
        "JST-9",
        &[],
        &[
            "sessions",
            "list",
            "-o",
            "ndjson",
            "--tz",
            "America/Sao_Paulo",
            "--since",
            &bound,
        ],
    ));
    assert!(
        abs.len().abs_diff(flagged.len()) <= 1,
        "{} vs {}",
        abs.len(),
        flagged.len()
    );
}

#[test]
fn zone_in_config_show_and_verbose_note() {
    let f = sao_paulo();
    let show = |envs: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec!["config", "show"];
        args.extend_from_slice(extra);
        let o = run_tz(&f, "UTC0", envs, &args);
        let line = o
            .ok()
            .lines()
            .find(|l| l.starts_with("timezone"))
            .unwrap_or_default()
            .to_owned();
        line
    };
    let l = show(&[], &[]);
    assert!(l.contains("local") && l.contains("default"), "{l}");
    let l = show(&[("SEGURA_TZ", "America/Sao_Paulo")], &[]);
    assert!(
        l.contains("America/Sao_Paulo") && l.contains("env SEGURA_TZ"),
        "{l}"
    );
    let l = show(&[("SEGURA_TZ", "UTC")], &["--tz", "-03:00"]);
    assert!(l.contains("-03:00") && l.contains("flag --tz"), "{l}");
    f.write_config("[profiles.default]\ntimezone = \"Asia/Tokyo\"\n", 0o600);
    let l = show(&[], &[]);
    assert!(
        l.contains("Asia/Tokyo") && l.contains("profile default"),
        "{l}"
    );
    f.write_config("[profiles.default]\ntimezone = \"Mars/Olympus\"\n", 0o600);
    let o = run_tz(&f, "UTC0", &[], &["sessions", "list"]);
    o.code(3);
    assert!(o.stderr.contains("Mars/Olympus"), "{}", o.stderr);
    std::fs::remove_file(f.config_path()).unwrap();
    let o = run_tz(&f, "UTC0", &[], &["sessions", "list", "-v", "--limit", "1"]);
    assert!(!o.ok().is_empty());
    assert!(o.stderr.contains("assuming the local zone"), "{}", o.stderr);
    let o = run_tz(
        &f,
        "UTC0",
        &[],
        &["sessions", "list", "-v", "--limit", "1", "--tz", "UTC"],
    );
    assert!(
        !o.stderr.contains("assuming the local zone"),
        "{}",
        o.stderr
    );
    let o = run_tz(
        &f,
        "UTC0",
        &[],
        &["sessions", "list", "--tz", "Mars/Olympus"],
    );
    o.code(2);
}

#[test]
fn rfc3339_times_in_every_format() {
    let f = sao_paulo();
    let base = all(&f);
    let first = &base[0];
    let start = first["start"].as_str().unwrap().replace(' ', "T") + "-03:00";
    let args = |fmt: &'static str| {
        vec![
            "sessions",
            "list",
            "--limit",
            "1",
            "--tz",
            "America/Sao_Paulo",
            "--time-format",
            "rfc3339",
            "-o",
            fmt,
        ]
    };
    for tz in ["UTC0", "JST-9"] {
        let o = run_tz(&f, tz, &[], &args("ndjson"));
        let v = &o.code(0).json_lines()[0];
        assert_eq!(v["start"].as_str(), Some(start.as_str()), "TZ={tz}");
        let o = run_tz(&f, tz, &[], &args("json"));
        let v: Value = serde_json::from_str(o.ok()).unwrap();
        assert_eq!(v[0]["start"].as_str(), Some(start.as_str()));
        assert_eq!(v[0]["id"], first["id"]);
        let o = run_tz(&f, tz, &[], &args("csv"));
        assert!(o.ok().contains(&start), "{}", o.stdout);
        let o = run_tz(&f, tz, &[], &args("table"));
        assert!(o.ok().contains(&start), "{}", o.stdout);
    }
    // The default stays the API's form.
    let o = run_tz(
        &f,
        "UTC0",
        &[],
        &["sessions", "list", "--limit", "1", "-o", "ndjson"],
    );
    assert_eq!(o.code(0).json_lines()[0]["start"], first["start"]);
    // And with an ended session, its end too.
    let ended = base.iter().find(|s| !s["end"].is_null()).unwrap();
    let id = ended["id"].as_str().unwrap();
    let o = run_tz(
        &f,
        "UTC0",
        &[],
        &[
            "sessions",
            "list",
            "--tz",
            "-03:00",
            "--time-format",
            "rfc3339",
            "-o",
            "ndjson",
            "--filter",
            &format!("id == {id}"),
        ],
    );
    let v = &o.code(0).json_lines()[0];
    let end = ended["end"].as_str().unwrap().replace(' ', "T") + "-03:00";
    assert_eq!(v["end"].as_str(), Some(end.as_str()));
}

#[test]
fn windows_on_the_appliance_clock() {
    let f = sao_paulo();
    let base = all(&f);
    // A moment 40 minutes before the last start, as an appliance clock reading.
    let last = base.last().unwrap()["start"].as_str().unwrap().to_owned();
    let t = chrono::NaiveDateTime::parse_from_str(&last, "%Y-%m-%d %H:%M:%S").unwrap()
        - chrono::Duration::minutes(40);
    let at = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let parse = |v: &Value, k: &str| {
        v[k].as_str()
            .map(|s| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap())
    };
    let open_at: BTreeSet<String> = base
        .iter()
        .filter(|s| parse(s, "start").unwrap() <= t && parse(s, "end").is_none_or(|e| e >= t))
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!open_at.is_empty());
    let listed = ids(&run_tz(
        &f,
        "JST-9",
        &[],
        &[
            "sessions",
            "list",
            "-o",
            "ndjson",
            "--tz",
            "-03:00",
            "--active-at",
            &at,
        ],
    ));
    assert_eq!(listed, open_at);
    // --during of a single moment is --active-at.
    let window = format!("{at}..{at}");
    let during = ids(&run_tz(
        &f,
        "UTC0",
        &[],
        &[
            "sessions", "list", "-o", "ndjson", "--tz", "-03:00", "--during", &window,
        ],
    ));
    assert_eq!(during, open_at);
    // Ended bounds leave open sessions out.
    let ended = ids(&run_tz(
        &f,
        "UTC0",
        &[],
        &[
            "sessions",
            "list",
            "-o",
            "ndjson",
            "--ended-since",
            "2000-01-01",
        ],
    ));
    let closed: BTreeSet<String> = base
        .iter()
        .filter(|s| !s["end"].is_null())
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ended, closed);
}

#[test]
fn patterns_hosts_cidr_and_negations() {
    let f = sao_paulo();
    let base = all(&f);
    let id_set = |pred: &dyn Fn(&Value) -> bool| -> BTreeSet<String> {
        base.iter()
            .filter(|s| pred(s))
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = |extra: &[&str]| {
        let mut args = vec!["sessions", "list", "-o", "ndjson"];
        args.extend_from_slice(extra);
        ids(&run_tz(&f, "UTC0", &[], &args))
    };
    let user = base[0]["user"].as_str().unwrap().to_owned();
    let prefix: String = user.chars().take(2).collect();
    let glob = format!("{}*", prefix.to_uppercase());
    let starts = |s: &Value| {
        s["user"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .starts_with(&prefix.to_lowercase())
    };
    assert_eq!(list(&["--user", &glob]), id_set(&starts));
    assert_eq!(list(&["--not-user", &glob]), id_set(&|s| !starts(s)));
    let device = base[0]["device"].as_str().unwrap().to_owned();
    let host = device
        .rsplit_once(':')
        .map_or(device.as_str(), |(h, _)| h)
        .to_owned();
    let on_host = |s: &Value| {
        let d = s["device"].as_str().unwrap();
        d.eq_ignore_ascii_case(&host)
            || d.to_lowercase()
                .starts_with(&format!("{}:", host.to_lowercase()))
    };
    assert_eq!(list(&["--host", &host]), id_set(&on_host));
    assert_eq!(list(&["--not-host", &host]), id_set(&|s| !on_host(s)));
    // A CIDR block over every IPv4 origin.
    let v4 = |s: &Value| {
        s["origin_ip"]
            .as_str()
            .unwrap()
            .parse::<std::net::Ipv4Addr>()
            .is_ok()
    };
    assert_eq!(list(&["--origin-ip", "0.0.0.0/0"]), id_set(&v4));
    assert_eq!(list(&["--not-origin-ip", "0.0.0.0/0"]), id_set(&|s| !v4(s)));
}

#[test]
fn filter_expressions_from_the_issue() {
    let f = sao_paulo();
    let base = all(&f);
    let list = |expr: &str| {
        ids(&run_tz(
            &f,
            "JST-9",
            &[],
            &[
                "sessions",
                "list",
                "-o",
                "ndjson",
                "--tz",
                "America/Sao_Paulo",
                "--filter",
                expr,
            ],
        ))
    };
    let secs = |v: &Value| {
        v["time"].as_str().map(|t| {
            let p: Vec<u64> = t.split(':').map(|x| x.parse().unwrap()).collect();
            p[0] * 3600 + p[1] * 60 + p[2]
        })
    };
    let want: BTreeSet<String> = base
        .iter()
        .filter(|s| {
            ["ssh", "rdp"].contains(&s["protocol"].as_str().unwrap())
                && secs(s).is_some_and(|t| t > 8 * 3600)
                && s["itsm"].as_str().is_none_or(str::is_empty)
        })
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        list(r#"protocol in ["ssh", "rdp"] && time > duration("8h") && !has(itsm)"#),
        want
    );
    // Hours are read on the appliance's clock, whatever TZ.
    let hour = |s: &Value| s["start"].as_str().unwrap()[11..13].parse::<i64>().unwrap();
    let h0 = hour(&base[60]);
    let want: BTreeSet<String> = base
        .iter()
        .filter(|s| hour(s) < h0)
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(list(&format!("start.getHours() < {h0}")), want);
    assert_eq!(
        list(r#"host.startsWith("") && start.getHours() < 99"#).len(),
        base.len()
    );
    // Open sessions (the mock's last ones started 30 minutes to 2.5 hours ago).
    let open: BTreeSet<String> = base
        .iter()
        .filter(|s| s["end"].is_null())
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(list(r#"active && now - start > duration("1m")"#), open);
    assert!(list(r#"active && now - start > duration("12h")"#).is_empty());
    // Errors: exit 2 with the position.
    for (expr, pos) in [
        ("user ==== \"x\"", "1:8"),
        ("user == \"a\" || hots == \"b\"", "1:16"),
        // A type error behind a branch no session reaches is still an error.
        ("true || time > 5", "1:9"),
        ("id > 0 || user.startsWith(5)", "1:11"),
    ] {
        let o = run_tz(&f, "UTC0", &[], &["sessions", "list", "--filter", expr]);
        o.code(2);
        assert!(o.stderr.contains(pos), "{expr}: {}", o.stderr);
        assert!(o.stdout.is_empty());
    }
    let o = run_tz(&f, "UTC0", &[], &["sessions", "list", "--filter", "user"]);
    o.code(2);
    assert!(o.stderr.contains("bool"), "{}", o.stderr);
    // stats and watch take it too.
    let o = run_tz(
        &f,
        "UTC0",
        &[],
        &["sessions", "stats", "-o", "json", "--filter", "active"],
    );
    let groups: Value = serde_json::from_str(o.ok()).unwrap();
    let count: u64 = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    assert_eq!(count as usize, open.len(), "{}", o.stdout);
    let o = run_tz(
        &f,
        "UTC0",
        &[],
        &[
            "sessions", "watch", "--once", "-o", "ndjson", "--filter", "active",
        ],
    );
    assert_eq!(o.code(0).json_lines().len(), open.len());
}

/// "Now" is read on the appliance's clock too: how long an open session has been open
/// in a table and when `watch` observed its events.
#[test]
fn now_is_read_on_the_appliance_clock() {
    let f = sao_paulo();
    let zone = ["--tz", "America/Sao_Paulo"];
    // The sessions started over the last 2.5 hours of a UTC-3 clock; on a UTC+9 clock
    // they would look 12 hours older.
    let mut args = vec!["sessions", "list", "--active", "--fields", "id,time"];
    args.extend_from_slice(&zone);
    let table = run_tz(&f, "JST-9", &[], &args).code(0).stdout.clone();
    assert!(
        table.lines().count() > 1,
        "open sessions expected:\n{table}"
    );
    for line in table.lines().skip(1) {
        assert!(line.ends_with('+'), "a running time is marked: {line:?}");
        let hours: u64 = line
            .split_whitespace()
            .skip(1)
            .find_map(|w| w.strip_suffix('h').and_then(|h| h.parse().ok()))
            .unwrap_or(0);
        assert!(
            hours < 3,
            "open for hours on the appliance's clock: {line:?}"
        );
    }
    let mut args = vec!["sessions", "watch", "--once", "-o", "ndjson"];
    args.extend_from_slice(&zone);
    let events = run_tz(&f, "JST-9", &[], &args).code(0).json_lines();
    assert!(!events.is_empty());
    for e in &events {
        let at = e["observed_at"].as_str().unwrap_or_default();
        assert!(
            at.ends_with("-03:00"),
            "observed_at in the appliance's zone: {at}"
        );
    }
}
