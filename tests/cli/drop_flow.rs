//! The drop workflow: the confirmation that shows the session (on a real pty), the
//! checks of ended and unlisted sessions, `get` by hash and by several ids, bulk drops
//! (`--stdin`, `--match`, `--dry-run`, `--yes`), exit codes, and the drop log.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use segura_hostile::{drop_ok_body, json_string, Reply, Request};
use segura_mock::generator::Generator;
use serde_json::Value;

use crate::adversary::{assert_clean, run_bounded, token_then, Attack};
use crate::support::{s, Fixture, Output};

/// Runs `segura ARGS` on a pseudo-terminal (through `script`) with the environment of
/// `cmd`, typing `typed` at the terminal; with `stdin_file`, standard input is that file
/// (so the answer must come from the terminal itself). stdout and stderr both go to the
/// terminal: `stdout` is everything it showed.
fn on_pty(
    home: &Path,
    cmd: &Command,
    args: &[&str],
    typed: &str,
    stdin_file: Option<&Path>,
) -> Output {
    let quote = |a: &str| format!("'{}'", a.replace('\'', r"'\''"));
    let line: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_segura"))
        .chain(args.iter().copied())
        .map(quote)
        .collect();
    let redirect = stdin_file
        .map(|p| format!(" < {}", quote(s(p))))
        .unwrap_or_default();
    let inner = format!(
        "stty cols 200 rows 50 2>/dev/null; exec {}{redirect}",
        line.join(" ")
    );
    let mut script = Command::new("script");
    script.env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            script.env(k, v);
        }
    }
    let typed_file = home.join("typed");
    std::fs::write(&typed_file, typed).expect("write the typed text");
    script
        .env("TERM", "xterm")
        .env("PATH", "/usr/bin:/bin")
        .args(["-qefc", &inner, "/dev/null"])
        .stdin(std::fs::File::open(&typed_file).expect("typed text"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut o = run_bounded(script, std::time::Duration::from_secs(60));
    o.stdout = o.stdout.replace("\r\n", "\n");
    o
}

/// The log path the fixture's runs use.
fn log_path(f: &Fixture) -> PathBuf {
    f.home.path().join("state").join("segura").join("drops.log")
}

/// `segura` against the mock, its drop log in the fixture's home.
fn cmd(f: &Fixture) -> Command {
    let mut c = f.cmd();
    c.env("XDG_STATE_HOME", f.home.path().join("state"));
    c
}

fn run(f: &Fixture, args: &[&str]) -> Output {
    f.run(cmd(f), args)
}

fn run_stdin(f: &Fixture, args: &[&str], input: &str) -> Output {
    let mut c = cmd(f);
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("segura runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.as_bytes().to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("segura ends");
    let _ = writer.join();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8"),
    }
}

fn log_lines(f: &Fixture) -> Vec<Value> {
    std::fs::read_to_string(log_path(f))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The generated session `index` as JSON.
fn session(index: u64) -> Value {
    serde_json::from_str(&crate::support::generated(index)).expect("generated JSON")
}

fn open_indexes(g: &Generator, n: u64) -> Vec<u64> {
    (0..n).filter(|i| g.is_open(*i)).collect()
}

fn ended_index(g: &Generator, n: u64) -> u64 {
    (0..n).find(|i| !g.is_open(*i)).expect("an ended session")
}

/// Whether the mock now lists session `index` as ended.
fn is_ended_now(f: &Fixture, index: u64) -> bool {
    let id = f.server.generator().id(index).to_string();
    let v: Value =
        serde_json::from_str(run(f, &["sessions", "get", &id, "-o", "json"]).ok()).expect("object");
    !v["end"].is_null()
}

#[test]
fn the_confirmation_shows_the_session_and_only_yes_drops_it() {
    let f = Fixture::new(60);
    let g = Generator::new(7);
    let index = open_indexes(&g, 60)[1];
    let hash = g.session_hash(index);
    let v = session(index);

    let no = on_pty(
        f.home.path(),
        &cmd(&f),
        &["sessions", "drop", &hash, "--reason", "INC-7"],
        "n\n",
        None,
    );
    no.code(1);
    for key in ["user", "credential", "device", "origin_ip", "start"] {
        let value = v[key].as_str().expect("text field");
        assert!(
            no.stdout.contains(value),
            "{key} {value:?} not shown:\n{}",
            no.stdout
        );
    }
    assert!(no.stdout.contains("open for "), "{}", no.stdout);
    assert!(no.stdout.contains("INC-7"), "{}", no.stdout);
    assert!(no.stdout.contains("[y/N]"), "{}", no.stdout);
    assert!(no.stdout.contains("was not dropped"), "{}", no.stdout);
    assert_eq!(f.server.stats().drop_requests, 0);

    let yes = on_pty(
        f.home.path(),
        &cmd(&f),
        &["sessions", "drop", &hash],
        "y\n",
        None,
    );
    yes.code(0);
    assert!(
        yes.stdout.contains(&format!(
            "dropped session {hash}: Session dropped successfully"
        )),
        "{}",
        yes.stdout
    );
    assert_eq!(f.server.stats().sessions_dropped, 1);
    assert!(is_ended_now(&f, index));

    let log = log_lines(&f);
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["outcome"], "declined");
    assert_eq!(log[0]["reason"], "INC-7");
    assert_eq!(log[0]["lookup"], "open");
    assert_eq!(log[0]["session"]["user"], v["user"]);
    assert_eq!(log[1]["outcome"], "dropped");
    assert_eq!(log[1]["session_id"], hash.as_str());
    assert_eq!(log[1]["appliance"], f.server.url());
    assert_eq!(log[1]["message"], "Session dropped successfully");
    let time = log[1]["time"].as_str().expect("time");
    chrono::DateTime::parse_from_rfc3339(time).expect("RFC 3339 with an offset");
}

#[test]
fn no_lookup_drops_without_reading_the_list() {
    let f = Fixture::new(40);
    let g = Generator::new(7);
    let hash = g.session_hash(open_indexes(&g, 40)[0]);
    let o = on_pty(
        f.home.path(),
        &cmd(&f),
        &["sessions", "drop", &hash, "--no-lookup"],
        "y\n",
        None,
    );
    o.code(0);
    assert!(o.stdout.contains("not looked up"), "{}", o.stdout);
    let stats = f.server.stats();
    assert_eq!((stats.list_requests, stats.sessions_dropped), (0, 1));
    assert_eq!(log_lines(&f)[0]["lookup"], "not_looked_up");
}

#[test]
fn the_lookup_stops_reading_at_the_match() {
    let f = Fixture::new(20_000);
    let g = Generator::new(7);
    let hash = g.session_hash(open_indexes(&g, 100)[0]);
    run(&f, &["sessions", "drop", &hash, "--yes"]).ok();
    let stats = f.server.stats();
    assert_eq!(stats.sessions_dropped, 1);
    assert!(stats.sessions_streamed < 20_000, "{stats:?}");
}

#[test]
fn an_ended_session_is_refused_unless_forced_and_an_unlisted_hash_too() {
    let f = Fixture::new(60);
    let g = Generator::new(7);
    let hash = g.session_hash(ended_index(&g, 60));
    let o = run(&f, &["sessions", "drop", &hash, "--yes"]);
    o.code(1);
    assert!(o.stderr.contains("has already ended at "), "{}", o.stderr);
    assert!(o.stderr.contains("--force"), "{}", o.stderr);
    assert_eq!(f.server.stats().drop_requests, 0);

    run(&f, &["sessions", "drop", &hash, "--yes", "--force"]).ok();
    assert_eq!(f.server.stats().drop_requests, 1);

    let absent = "ab".repeat(20);
    let o = run(&f, &["sessions", "drop", &absent, "--yes"]);
    o.code(5);
    assert!(o.stderr.contains("not in the list"), "{}", o.stderr);
    assert_eq!(f.server.stats().drop_requests, 1);
    // Forced, the server has the last word: it does not know the session either.
    run(&f, &["sessions", "drop", &absent, "--yes", "--force"]).code(5);
    assert_eq!(f.server.stats().drop_requests, 2);

    let log = log_lines(&f);
    let outcomes: Vec<(&str, &str)> = log
        .iter()
        .map(|l| {
            (
                l["outcome"].as_str().unwrap(),
                l["error_class"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("refused", "ended"),
            ("dropped", ""),
            ("refused", "not_listed"),
            ("refused", "not_found")
        ]
    );
}

#[test]
fn get_takes_hashes_and_several_ids() {
    let f = Fixture::new(50);
    let g = Generator::new(7);
    let one = run(
        &f,
        &["sessions", "get", &g.session_hash(12), "-o", "ndjson"],
    );
    assert_eq!(one.ok(), format!("{}\n", crate::support::generated(12)));

    let (id3, id5) = (g.id(3).to_string(), g.id(5).to_string());
    let several = run(
        &f,
        &[
            "sessions",
            "get",
            &id3,
            &g.session_hash(20),
            "999999",
            &id5,
            &"cd".repeat(20),
            "-o",
            "ndjson",
        ],
    );
    several.code(5);
    let ids: Vec<String> = several
        .json_lines()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [id3, g.id(20).to_string(), id5]);
    assert!(
        several.stderr.contains("error: session 999999: "),
        "{}",
        several.stderr
    );
    assert!(
        several
            .stderr
            .contains(&format!("error: session {}: ", "cd".repeat(20))),
        "{}",
        several.stderr
    );
    let json = run(
        &f,
        &[
            "sessions",
            "get",
            &g.id(1).to_string(),
            &g.id(2).to_string(),
            "-o",
            "json",
        ],
    );
    let v: Value = serde_json::from_str(json.ok()).expect("one array");
    assert_eq!(v.as_array().map(Vec::len), Some(2));
}

#[test]
fn stdin_takes_hashes_and_a_bad_line_stops_everything() {
    let f = Fixture::new(80);
    let g = Generator::new(7);
    let open = open_indexes(&g, 80);
    let good = format!(
        "# incident 4411\n{}\n\n  {}  # the second\n",
        g.session_hash(open[0]),
        g.session_hash(open[1]).to_uppercase()
    );
    let bad = format!("{good}not-a-hash\n42\n");
    let o = run_stdin(&f, &["sessions", "drop", "--stdin", "--yes"], &bad);
    o.code(2);
    assert!(
        o.stderr.contains("line 5") && o.stderr.contains("line 6"),
        "{}",
        o.stderr
    );
    assert_eq!(f.server.stats().drop_requests, 0);
    assert!(log_lines(&f).is_empty());

    let o = run_stdin(&f, &["sessions", "drop", "--stdin"], &good);
    o.code(2);
    assert!(o.stderr.contains("--yes"), "{}", o.stderr);
    assert_eq!(f.server.stats().drop_requests, 0);

    let o = run_stdin(
        &f,
        &["sessions", "drop", "--stdin", "--yes", "-o", "ndjson"],
        &good,
    );
    let lines = o.json_lines();
    o.code(0);
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["result"] == "dropped"), "{lines:?}");
    assert_eq!(f.server.stats().sessions_dropped, 2);
    assert!(is_ended_now(&f, open[0]) && is_ended_now(&f, open[1]));
}

#[test]
fn match_dry_run_lists_exactly_the_matching_open_sessions_and_drops_nothing() {
    let f = Fixture::new(120);
    let g = Generator::new(7);
    let open = open_indexes(&g, 120);
    let user = session(open[0])["user"].as_str().unwrap().to_owned();
    let expected: Vec<String> = open
        .iter()
        .filter(|i| session(**i)["user"] == user.as_str())
        .map(|i| g.session_hash(*i))
        .collect();
    let args = [
        "sessions",
        "drop",
        "--match",
        "--user",
        &user,
        "--dry-run",
        "-o",
        "ndjson",
    ];
    let dry = run(&f, &args);
    let listed: Vec<String> = dry
        .json_lines()
        .iter()
        .map(|l| {
            assert_eq!(l["result"], "would_drop");
            l["session_id"].as_str().unwrap().to_owned()
        })
        .collect();
    dry.code(0);
    assert_eq!(listed, expected);
    assert_eq!(f.server.stats().drop_requests, 0);
    assert!(log_lines(&f).iter().all(|l| l["outcome"] == "dry_run"));
    assert_eq!(log_lines(&f).len(), expected.len());

    let table = run(
        &f,
        &["sessions", "drop", "--match", "--user", &user, "--dry-run"],
    );
    assert_eq!(
        table.ok().lines().count(),
        expected.len(),
        "{}",
        table.stdout
    );
    assert!(table
        .stdout
        .lines()
        .all(|l| l.starts_with("would drop session ")));

    // With a CEL filter, and for real.
    let cel = format!("user == {}", json_string(&user));
    let o = run(&f, &["sessions", "drop", "--match", "--filter", &cel]);
    o.code(2);
    assert!(o.stderr.contains("--yes"), "{}", o.stderr);
    let done = run(
        &f,
        &[
            "sessions", "drop", "--match", "--filter", &cel, "--yes", "-o", "ndjson",
        ],
    );
    assert_eq!(done.json_lines().len(), expected.len());
    done.code(0);
    assert_eq!(f.server.stats().sessions_dropped, expected.len() as u64);
    let after = run(
        &f,
        &[
            "sessions",
            "drop",
            "--match",
            "--user",
            &user,
            "--active",
            "--dry-run",
        ],
    );
    after.code(0);
    assert!(after.stdout.is_empty(), "{}", after.stdout);

    run(&f, &["sessions", "drop", "--match", "--yes"]).code(2);
    run(&f, &["sessions", "drop", &g.session_hash(1), "--user", "x"]).code(2);
}

#[test]
fn a_bulk_drop_on_a_terminal_asks_for_the_count_read_from_the_terminal() {
    let f = Fixture::new(80);
    let g = Generator::new(7);
    let open = open_indexes(&g, 80);
    let hashes = f.home.path().join("hashes.txt");
    std::fs::write(
        &hashes,
        format!("{}\n{}\n", g.session_hash(open[0]), g.session_hash(open[1])),
    )
    .unwrap();
    let wrong = on_pty(
        f.home.path(),
        &cmd(&f),
        &["sessions", "drop", "--stdin"],
        "y\n",
        Some(&hashes),
    );
    wrong.code(1);
    assert!(
        wrong
            .stdout
            .contains("Type the number of sessions to drop (2)"),
        "{}",
        wrong.stdout
    );
    assert!(
        wrong
            .stdout
            .contains(session(open[1])["device"].as_str().unwrap()),
        "{}",
        wrong.stdout
    );
    assert_eq!(f.server.stats().drop_requests, 0);

    let right = on_pty(
        f.home.path(),
        &cmd(&f),
        &["sessions", "drop", "--stdin"],
        "2\n",
        Some(&hashes),
    );
    right.code(0);
    assert_eq!(f.server.stats().sessions_dropped, 2);
    assert_eq!(
        right.stdout.matches("dropped session ").count(),
        2,
        "{}",
        right.stdout
    );
}

#[test]
fn mixed_results_are_each_reported_and_the_exit_code_is_the_worst() {
    let f = Fixture::new(80);
    let g = Generator::new(7);
    let open = open_indexes(&g, 80);
    let input = format!(
        "{}\n{}\n{}\n",
        g.session_hash(open[0]),
        g.session_hash(ended_index(&g, 80)),
        "ef".repeat(20)
    );
    let o = run_stdin(&f, &["sessions", "drop", "--stdin", "--yes"], &input);
    o.code(5);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", o.stdout);
    assert!(lines[0].starts_with("dropped session "), "{}", o.stdout);
    assert!(lines[1].contains("has already ended"), "{}", o.stdout);
    assert!(lines[2].contains("not in the list"), "{}", o.stdout);
    assert!(
        o.stderr.contains("2 of 3 sessions were not dropped"),
        "{}",
        o.stderr
    );
    assert_eq!(f.server.stats().sessions_dropped, 1);
}

#[test]
fn the_log_is_private_refuses_links_and_keeps_concurrent_lines_whole() {
    let f = Fixture::new(40);
    let g = Generator::new(7);
    let hash = g.session_hash(open_indexes(&g, 40)[0]);
    let reason = "line one\nline two \u{1b}[31mred\u{1b}[0m \"quoted\"";
    let o = run(
        &f,
        &["sessions", "drop", &hash, "--dry-run", "--reason", reason],
    );
    o.code(0);
    assert_clean(&o, &f.secrets);
    let log = log_lines(&f);
    assert_eq!(log[0]["reason"], reason);
    assert_eq!(log[0]["outcome"], "dry_run");
    assert!(
        log[0]["os_user"].is_null() && log[0]["uid"].is_u64(),
        "{}",
        log[0]
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(log_path(&f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }

    // Two processes appending at once: every line whole.
    let many: String = (0..150).map(|i| format!("{:040x}\n", i + 1)).collect();
    let a = {
        let mut c = cmd(&f);
        c.args([
            "sessions",
            "drop",
            "--stdin",
            "--no-lookup",
            "--dry-run",
            "--reason",
            &"x".repeat(3000),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        c
    };
    let mut children = Vec::new();
    for mut c in [a, {
        let mut c = cmd(&f);
        c.args([
            "sessions",
            "drop",
            "--stdin",
            "--no-lookup",
            "--dry-run",
            "--reason",
            &"y".repeat(3000),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        c
    }] {
        let mut child = c.spawn().expect("segura runs");
        let mut stdin = child.stdin.take().expect("stdin");
        use std::io::Write;
        stdin.write_all(many.as_bytes()).expect("write stdin");
        drop(stdin);
        children.push(child);
    }
    for mut c in children {
        assert!(c.wait().expect("ends").success());
    }
    let log = log_lines(&f);
    assert_eq!(log.len(), 301);
    assert_eq!(
        log.iter()
            .filter(|l| l["reason"].as_str().is_some_and(|r| r.starts_with('x')))
            .count(),
        150
    );

    // A link planted in its place is refused, and nothing is dropped.
    let path = log_path(&f);
    let target = f.home.path().join("elsewhere.log");
    std::fs::rename(&path, &target).unwrap();
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let o = run(&f, &["sessions", "drop", &hash, "--yes"]);
    o.code(1);
    assert!(o.stderr.contains("symbolic link"), "{}", o.stderr);
    assert_eq!(f.server.stats().drop_requests, 0);

    // The profile names another log.
    let other = f.home.path().join("audit").join("mine.log");
    f.write_config(
        &format!("[profiles.default]\ndrop_log = \"{}\"\n", s(&other)),
        0o600,
    );
    run(&f, &["sessions", "drop", &hash, "--yes"]).ok();
    let text = std::fs::read_to_string(&other).expect("the profile's log");
    assert_eq!(text.lines().count(), 1);
    let shown = run(&f, &["config", "show"]);
    assert!(shown.ok().contains(s(&other)), "{}", shown.stdout);
}

/// An open session as the API writes it, with `user` and `device` as given.
fn hostile_session(id: u64, user: &str, device: &str, hash: &str) -> String {
    format!(
        r#"{{"id":"{id}","user":{},"origin_ip":"10.0.0.9","credential":"root","device":{},"protocol":"ssh","proxy":"SSH Proxy","session_id":{},"start":"2024-05-06 16:05:07","end":null,"time":null,"prevent_purge":"No","request":null,"ITSM":null}}"#,
        json_string(user),
        json_string(device),
        json_string(hash)
    )
}

#[test]
fn server_text_in_the_confirmation_is_escaped() {
    let body = format!(
        r#"{{"code":200,"response":{{"status":200,"message":"","error":false}},"remote_sessions":[{},{}]}}"#,
        hostile_session(
            9,
            "eve\u{1b}]0;pwned\u{7}",
            "host\u{1b}[2J\u{9b}31m\u{202e}x",
            &format!("{:040x}", 9)
        ),
        // A hash that would climb out of the drop's path, and drive the terminal.
        hostile_session(10, "mallory", "h", "../../../iso/oauth2/token\u{1b}[2J")
    );
    let a = Attack::new(token_then(move |r: &Request| {
        if r.path().starts_with(segura_hostile::DROP_PREFIX) {
            Reply::json(200, drop_ok_body())
        } else {
            Reply::json(200, body.clone())
        }
    }));
    let mut c = a.cmd();
    c.env("XDG_STATE_HOME", a.path("state"))
        .arg("--retries")
        .arg("0");
    let hash = format!("{:040x}", 9);
    let reason = "why\u{1b}[1A\rok";
    let o = on_pty(
        a.home.path(),
        &c,
        &["sessions", "drop", &hash, "--reason", reason],
        "n\n",
        None,
    );
    o.code(1);
    assert_clean(&o, &a.secrets);
    assert!(
        o.stdout.contains("eve\\u{1b}]0;pwned\\u{7}"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("why\\u{1b}[1A\\rok"), "{}", o.stdout);
    assert_eq!(a.server.count(segura_hostile::DROP_PREFIX), 0);

    let dry = a.run_cmd({
        let mut c = a.cmd();
        c.env("XDG_STATE_HOME", a.path("state")).args([
            "sessions",
            "drop",
            "--match",
            "--active",
            "--dry-run",
            "--reason",
            reason,
        ]);
        c
    });
    dry.code(0);
    assert!(dry.stdout.contains("eve\\u{1b}"), "{}", dry.stdout);
    assert_eq!(dry.stdout.lines().count(), 1, "{}", dry.stdout);
    assert!(
        dry.stderr.contains("1 matching session is left out"),
        "{}",
        dry.stderr
    );
    let done = a.run_cmd({
        let mut c = a.cmd();
        c.env("XDG_STATE_HOME", a.path("state")).args([
            "sessions",
            "drop",
            "--match",
            "--active",
            "--yes",
            "--retries",
            "0",
        ]);
        c
    });
    done.code(0);
    let drops: Vec<String> = a
        .server
        .requests()
        .iter()
        .filter(|r| r.path().starts_with(segura_hostile::DROP_PREFIX))
        .map(|r| r.path().to_owned())
        .collect();
    assert_eq!(drops, [format!("{}{hash}", segura_hostile::DROP_PREFIX)]);
}
