//! What operators see: snapshots read back in every shape, tables on real terminals
//! (through a pty), empty and contradictory queries, help and manual, watch events.

use std::process::Command;

use crate::support::{s, Fixture, Output};

fn write(f: &Fixture, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = f.home.path().join(name);
    std::fs::write(&path, bytes).expect("write snapshot");
    path
}

#[test]
fn snapshots_of_ndjson_and_json_read_back_byte_identical() {
    let f = Fixture::new(300);
    for format in ["ndjson", "json"] {
        let saved = f
            .segura(&["sessions", "list", "-o", format])
            .ok()
            .to_owned();
        let again = f.segura_stdin(
            &["sessions", "list", "--input", "-", "-o", format],
            saved.as_bytes(),
        );
        assert_eq!(again.ok(), saved, "{format} through --input -");
        let path = write(&f, &format!("snap.{format}"), saved.as_bytes());
        let from_file = f.run(
            f.bare(),
            &["sessions", "list", "--input", s(&path), "-o", format],
        );
        assert_eq!(from_file.ok(), saved, "{format} from a file");
        let stats = f.run(
            f.bare(),
            &["sessions", "stats", "--input", s(&path), "-o", "json"],
        );
        let from_server = f.segura(&["sessions", "stats", "-o", "json"]);
        assert_eq!(stats.ok(), from_server.ok());
    }
    // An empty file is refused (more likely a failed save); `[]` is an empty list.
    let empty = f.segura_stdin(&["sessions", "list", "--input", "-", "-o", "ndjson"], b"");
    empty.code(8);
    let none = f.segura_stdin(&["sessions", "list", "--input", "-", "-o", "ndjson"], b"[]");
    assert_eq!(none.ok(), "");
}

#[test]
fn gzip_snapshots_and_get_answers_are_detected_from_their_bytes() {
    let f = Fixture::new(50);
    let body = std::fs::read(f.saved_body(50)).expect("body");
    let plain = f
        .segura(&["sessions", "list", "-o", "ndjson"])
        .ok()
        .to_owned();
    let gz = write(&f, "list.json.gz", &segura_hostile::gzip(&body));
    let out = f.run(
        f.bare(),
        &["sessions", "list", "--input", s(&gz), "-o", "ndjson"],
    );
    assert_eq!(out.ok(), plain);
    let ndjson_gz = segura_hostile::gzip(plain.as_bytes());
    let out = f.segura_stdin(
        &["sessions", "list", "--input", "-", "-o", "ndjson"],
        &ndjson_gz,
    );
    assert_eq!(out.ok(), plain);

    let first = plain.lines().next().expect("a session");
    let get = format!("{{\"code\":200,\"remote_session\":[{first}]}}");
    let out = f.segura_stdin(
        &["sessions", "list", "--input", "-", "-o", "ndjson"],
        get.as_bytes(),
    );
    assert_eq!(out.ok(), format!("{first}\n"));

    // A broken gzip stream is an unreadable input, with the sessions before it printed.
    let mut broken = segura_hostile::gzip(&body);
    let n = broken.len();
    broken.truncate(n - 30);
    let out = f.segura_stdin(
        &["sessions", "list", "--input", "-", "-o", "ndjson"],
        &broken,
    );
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("standard input"), "{}", out.stderr);
}

#[test]
fn a_gzip_snapshot_cut_short_or_corrupt_is_invalid_input_and_big_ones_read_whole() {
    let f = Fixture::new(1);
    let n = 20_000;
    let body = std::fs::read(f.saved_body(n)).expect("body");
    let generator = segura_mock::generator::Generator::new(7);
    let mut lines = Vec::new();
    for i in 0..n {
        generator.session_json(i, &mut lines);
        lines.push(b'\n');
    }
    let z = segura_hostile::gzip(&body);
    let list = |path: &std::path::Path| {
        f.run(
            f.bare(),
            &["sessions", "list", "--input", s(path), "-o", "ndjson"],
        )
    };
    // Many chunks through the decompressing thread: the same bytes as the generator's.
    let whole = write(&f, "whole.json.gz", &z);
    let out = list(&whole);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.as_bytes() == lines,
        "output differs from the generator's lines"
    );

    // Only the trailer missing (every JSON byte is there), a flipped CRC, a flipped
    // length, a flipped byte in the deflate data, the stream cut in the middle: exit 8,
    // naming the file, never a silent success.
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("no trailer", z[..z.len() - 8].to_vec()),
        ("half a trailer", z[..z.len() - 3].to_vec()),
        ("cut in the middle", z[..z.len() / 2].to_vec()),
    ];
    let mut crc = z.clone();
    let at = crc.len() - 8;
    crc[at] ^= 0xff;
    cases.push(("CRC mismatch", crc));
    let mut size = z.clone();
    let at = size.len() - 1;
    size[at] ^= 0x01;
    cases.push(("length mismatch", size));
    let mut data = z.clone();
    let at = data.len() / 3;
    data[at] ^= 0x55;
    cases.push(("corrupt deflate data", data));
    for (what, bytes) in cases {
        let path = write(&f, "broken.json.gz", &bytes);
        let out = list(&path);
        assert_eq!(out.code, 8, "{what}: {}", out.stderr);
        // Deflate has no check of its own before the trailer's CRC: a flipped byte in
        // the data may first inflate to bytes that are not JSON, which the decoder
        // refuses there. Every other case is the gzip stream's own error.
        if what != "corrupt deflate data" {
            assert!(
                out.stderr.contains("broken.json.gz"),
                "{what}: {}",
                out.stderr
            );
            assert!(out.stderr.contains("gzip"), "{what}: {}", out.stderr);
        }
        // What was printed is complete lines of the real sessions, in order.
        assert!(lines.starts_with(out.stdout.as_bytes()), "{what}");
        assert!(
            out.stdout.is_empty() || out.stdout.ends_with('\n'),
            "{what}"
        );
    }
}

#[test]
fn a_reader_that_closes_early_stops_a_gzip_snapshot_promptly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let f = Fixture::new(1);
    let body = std::fs::read(f.saved_body(200_000)).expect("body");
    let gz = write(&f, "big.json.gz", &segura_hostile::gzip(&body));
    let started = std::time::Instant::now();
    let mut cmd = f.bare();
    cmd.args(["sessions", "list", "--input", s(&gz), "-o", "ndjson"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("a line");
    // The pipe is closed now (like `| head -1`).
    let out = child.wait_with_output().expect("exit");
    assert!(first.starts_with("{\"id\":"), "{first}");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It ended at the closed pipe: the decompressing thread neither kept the process
    // alive nor deadlocked it (a hang would take the test's whole time).
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

/// Runs `segura ARGS` on a pseudo-terminal of `cols` columns (through `script`, so
/// standard output is a real terminal), with the environment of `cmd`; `stdout` is
/// what the terminal showed (newlines normalised), `stderr` what went to stderr, which
/// is sent to a file to keep it apart.
pub fn on_tty(f: &Fixture, cmd: &Command, cols: u16, args: &[&str]) -> Output {
    let quote = |a: &str| format!("'{}'", a.replace('\'', r"'\''"));
    let err = f.home.path().join("tty-stderr");
    let line: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_segura"))
        .chain(args.iter().copied())
        .map(quote)
        .collect();
    let inner = format!(
        "stty cols {cols} rows 50 2>/dev/null; exec {} 2>{}",
        line.join(" "),
        quote(s(&err))
    );
    let mut script = Command::new("script");
    script.env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            script.env(k, v);
        }
    }
    script
        .env("TERM", "xterm")
        .env("PATH", "/usr/bin:/bin")
        .args(["-qefc", &inner, "/dev/null"])
        .stdin(std::process::Stdio::null());
    let out = script.output().expect("script runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
    }
}

/// A session as the API writes it.
fn session(id: u64, user: &str, start: &str, end: Option<&str>) -> String {
    let (end, time) = match end {
        Some(e) => (format!("\"{e}\""), "\"00:10:00\"".to_owned()),
        None => ("null".to_owned(), "null".to_owned()),
    };
    format!(
        r#"{{"id":"{id}","user":"{user}","origin_ip":"10.0.0.1","credential":"root-credential","device":"db-primary.example:5432","protocol":"ssh","proxy":"Terminal Proxy","session_id":"{id:040x}","start":"{start}","end":{end},"time":{time},"prevent_purge":"No","request":null,"ITSM":null}}"#
    )
}

/// The display width of a line as a terminal shows it, colours left out.
fn shown_width(line: &str) -> usize {
    let mut plain = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
        .chars()
        .map(|c| match c as u32 {
            0x1100..=0x115f
            | 0x2e80..=0xa4cf
            | 0xac00..=0xd7a3
            | 0xf900..=0xfaff
            | 0x1f300..=0x1faff => 2,
            _ => 1,
        })
        .sum()
}

#[test]
fn tables_on_an_80_column_terminal_keep_ids_and_times_whole() {
    let f = Fixture::new(1);
    let mut snap = String::new();
    for id in 1..=1100u64 {
        let user = ["李小龙", "管理者", "deploy 🚀", "ann"][(id % 4) as usize];
        snap.push_str(&session(
            id,
            user,
            "2023-01-15 10:00:00",
            Some("2023-01-15 10:10:00"),
        ));
        snap.push('\n');
    }
    snap.push_str(&session(
        123_456_789_012,
        "late",
        "2023-01-16 09:00:00",
        None,
    ));
    snap.push('\n');
    let path = write(&f, "wide.ndjson", snap.as_bytes());
    let out = on_tty(
        &f,
        &f.bare(),
        80,
        &["sessions", "list", "--input", s(&path)],
    );
    out.code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1102, "{}", out.stdout);
    assert!(
        lines[0].contains("\x1b[1m"),
        "a colour terminal gets a bold header"
    );
    let header = lines[0].replace("\x1b[1m", "").replace("\x1b[0m", "");
    assert!(
        header.contains("START") && header.contains("ID"),
        "{header}"
    );
    for line in &lines[1..1101] {
        assert!(shown_width(line) <= 80, "{line:?} is wider than 80");
        assert_eq!(line.matches("2023-01-15 10:").count(), 2, "{line:?}");
        assert!(
            !line.contains('…') || !line.contains("2023-01-15 …"),
            "{line:?}"
        );
    }
    // The same display column for START on rows of wide characters and emoji.
    let at = |l: &str| shown_width(&l[..l.find("2023-").expect("a start")]);
    let col = at(lines[1]);
    assert!(lines[1..1101].iter().all(|l| at(l) == col), "columns shift");
    // A later, wider id is whole; an open session shows how long it has been open.
    let last = lines[1101];
    assert!(last.contains("123456789012"), "{last:?}");
    assert!(last.contains("+"), "running time: {last:?}");
    assert!(!last.contains("1234…"), "{last:?}");
    // The columns left out are named once on stderr.
    assert_eq!(out.stderr.matches("left out").count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("PROTOCOL"), "{}", out.stderr);

    // -o wide: every field, nothing shortened; --no-headers drops the header.
    let wide = on_tty(
        &f,
        &f.bare(),
        80,
        &[
            "sessions",
            "list",
            "--input",
            s(&path),
            "-o",
            "wide",
            "--no-headers",
            "--limit",
            "3",
        ],
    );
    let wl: Vec<&str> = wide.stdout.lines().collect();
    assert_eq!(wl.len(), 3, "{}", wide.stdout);
    assert!(
        wl[0].contains("db-primary.example:5432") && wl[0].contains("Terminal Proxy"),
        "{}",
        wl[0]
    );
    assert!(!wide.stdout.contains('…') && !wide.stderr.contains("left out"));
    // Off a terminal: no colour, no width limit, no note.
    let piped = f.run(
        f.bare(),
        &["sessions", "list", "--input", s(&path), "--limit", "2"],
    );
    assert!(!piped.ok().contains('\x1b') && !piped.stdout.contains('…'));
    assert!(
        piped.stdout.contains("CREDENTIAL") && piped.stderr.is_empty(),
        "{}",
        piped.stderr
    );
    let csv = f.run(
        f.bare(),
        &[
            "sessions",
            "list",
            "--input",
            s(&path),
            "--limit",
            "1",
            "-o",
            "csv",
            "--no-headers",
            "--fields",
            "id,user",
        ],
    );
    assert_eq!(csv.ok(), "1,管理者\n");
}

#[test]
fn an_empty_result_says_so_and_contradictions_are_usage_errors() {
    let f = Fixture::new(1);
    let body = f.saved_body(1200);
    let list = |extra: &[&str]| {
        let mut args = vec!["sessions", "list", "--input", s(&body)];
        args.extend_from_slice(extra);
        f.run(f.bare(), &args)
    };
    let out = list(&["--user", "nobody-at-all"]);
    assert_eq!(out.ok().lines().count(), 1, "the header only");
    assert!(
        out.stderr.contains("0 of 1,200 sessions matched"),
        "{}",
        out.stderr
    );
    assert!(list(&["--user", "nobody-at-all", "-q"]).stderr.is_empty());
    // An unknown protocol is accepted, and the note names the values seen.
    let out = list(&["--protocol", "sshh", "-o", "ndjson"]);
    assert_eq!(out.ok(), "");
    assert!(
        out.stderr.contains("no session has protocol sshh (seen: "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("ssh"), "{}", out.stderr);
    let out = f.run(
        f.bare(),
        &["sessions", "stats", "--input", s(&body), "--proxy", "Nope"],
    );
    out.code(0);
    assert!(
        out.stderr.contains("no session has proxy Nope"),
        "{}",
        out.stderr
    );
    // Something matched: no note.
    assert!(list(&["--limit", "1"]).stderr.is_empty());

    for bad in [
        &["--since", "2023-03-05", "--until", "2023-03-01"][..],
        &["--active", "--min-duration", "1h"],
        &["--min-duration", "2h", "--max-duration", "1h"],
    ] {
        let out = list(bad);
        out.code(2);
        assert!(out.stdout.is_empty(), "{bad:?}: nothing printed");
        assert!(out.stderr.contains("--"), "{}", out.stderr);
        let mut stats = vec!["sessions", "stats", "--input", s(&body)];
        stats.extend_from_slice(bad);
        f.run(f.bare(), &stats).code(2);
    }
}

#[test]
fn watch_events_carry_their_poll_and_time_and_the_table_beats() {
    let f = Fixture::new(1);
    let body = f.saved_body(5);
    let out = f.run(
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
    let events = out.json_lines();
    assert_eq!(events.len(), 5);
    for e in &events {
        assert_eq!(e["poll"], 1);
        let at = e["observed_at"].as_str().expect("observed_at");
        let parsed = chrono::DateTime::parse_from_rfc3339(at).expect("RFC 3339");
        assert!(
            at.contains('+') || at.ends_with('Z') || at[19..].contains('-'),
            "{at}"
        );
        assert!((chrono::Utc::now() - parsed.to_utc()).num_seconds().abs() < 60);
    }
    // The table: the events, then the poll's line; a poll with nothing new beats.
    let state = f.home.path().join("watch.state");
    let table = |f: &Fixture| {
        f.run(
            f.bare(),
            &[
                "sessions",
                "watch",
                "--once",
                "--input",
                s(&body),
                "--state",
                s(&state),
            ],
        )
    };
    let first = table(&f);
    let last = first.ok().lines().last().expect("a line").to_owned();
    assert!(
        last.starts_with("-- poll 1 at ") && last.ends_with(": 5 events"),
        "{last}"
    );
    let second = table(&f);
    let lines: Vec<&str> = second.ok().lines().collect();
    assert_eq!(lines.len(), 1, "{}", second.stdout);
    assert!(lines[0].ends_with(": no change"), "{}", lines[0]);

    // A state that cannot be written fails before any event is printed.
    let dir = f.home.path().join("a-directory");
    std::fs::create_dir_all(dir.join("state")).expect("dir");
    let out = f.run(
        f.bare(),
        &[
            "sessions",
            "watch",
            "--once",
            "--input",
            s(&body),
            "-o",
            "ndjson",
            "--state",
            s(&dir.join("state")),
        ],
    );
    assert_ne!(out.code, 0);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn help_man_and_completion_show_what_there_is() {
    let f = Fixture::new(1);
    for sub in [
        &["sessions", "list"][..],
        &["sessions", "get"],
        &["sessions", "drop"],
        &["sessions", "stats"],
        &["sessions", "watch"],
        &["config", "show"],
        &["demo"],
        &["completions"],
        &["man"],
    ] {
        let mut args = sub.to_vec();
        args.push("--help");
        let out = f.run(f.bare(), &args);
        let help = out.ok();
        let examples = help
            .find("Examples:\n  segura ")
            .unwrap_or_else(|| panic!("{sub:?}: no examples\n{help}"));
        // Own options first, the global ones under their heading after them.
        let global = help
            .find("Global options:")
            .unwrap_or_else(|| panic!("{sub:?}\n{help}"));
        let own = help.find("Options:").expect("own options");
        assert!(own < global && global < examples, "{sub:?}\n{help}");
    }
    let help = f
        .run(f.bare(), &["sessions", "list", "--help"])
        .ok()
        .to_owned();
    assert!(
        help.contains("[possible values: id, user, origin_ip"),
        "{help}"
    );
    let stats = f
        .run(f.bare(), &["sessions", "stats", "--help"])
        .ok()
        .to_owned();
    assert!(
        stats.contains("origin-ip") && stats.contains("day"),
        "{stats}"
    );

    let man = f.run(f.bare(), &["man"]).ok().to_owned();
    for section in [
        ".SH EXAMPLES",
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH \"EXIT STATUS\"",
    ] {
        assert!(man.contains(section), "{section}");
    }
    for var in [
        "SEGURA_URL",
        "SEGURA_TOKEN",
        "SEGURA_CLIENT_SECRET_FILE",
        "SEGURA_TIMEOUT",
        "NO_COLOR",
    ] {
        assert!(man.contains(var), "{var}");
    }

    // Completion: the scripts call back into segura, which offers values.
    for shell in ["bash", "zsh", "fish"] {
        let script = f.run(f.bare(), &["completions", shell]);
        assert!(
            script.ok().contains("SEGURA_COMPLETE"),
            "{shell}: {}",
            script.stdout
        );
    }
    f.write_config(
        "[profiles.default]\nurl = \"https://a\"\n[profiles.prod-east]\nurl = \"https://b\"\n",
        0o600,
    );
    let complete = |words: &[&str]| {
        let mut cmd = f.bare();
        cmd.env("SEGURA_COMPLETE", "fish")
            .arg("--")
            .arg("segura")
            .args(words);
        let out = cmd.output().expect("runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let values = |text: String| -> Vec<String> {
        text.lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(
        values(complete(&["sessions", "list", "--profile", ""])),
        ["default", "prod-east"]
    );
    assert!(values(complete(&["sessions", "list", "--protocol", ""])).contains(&"ssh".to_owned()));
    assert!(values(complete(&["sessions", "list", "--proxy", ""]))
        .iter()
        .any(|v| v.contains("Proxy")));
    assert!(
        values(complete(&["sessions", "list", "--fields", ""])).contains(&"session_id".to_owned())
    );
    assert!(values(complete(&["sessions", "list", "--sort", "st"])).contains(&"start".to_owned()));
    assert!(values(complete(&["sessions", "stats", "--by", ""])).contains(&"origin-ip".to_owned()));
    assert!(values(complete(&["sessions", "list", "-o", ""])).contains(&"wide".to_owned()));
}

#[test]
fn misleading_usage_messages_are_plain() {
    let f = Fixture::new(1);
    let out = f.run(f.bare(), &["sessions", "list", "--limit", "-1"]);
    out.code(2);
    assert!(
        out.stderr.contains("--limit takes 0 or more"),
        "{}",
        out.stderr
    );
    let out = f.run(f.bare(), &["sessions", "list", "--watch"]);
    out.code(2);
    assert!(
        out.stderr.contains("sessions watch") && !out.stderr.contains("--search"),
        "{}",
        out.stderr
    );
    // JSON: compact off a terminal, for list and get alike; config values typed.
    let first = f
        .segura(&["sessions", "list", "-o", "ndjson", "--limit", "1"])
        .json_lines();
    let id = first[0]["id"].as_str().expect("an id").to_owned();
    let get = f.segura(&["sessions", "get", &id, "-o", "json"]);
    assert_eq!(get.ok().lines().count(), 1, "{}", get.stdout);
    let config = f.segura(&["config", "show", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(config.ok()).expect("JSON");
    let row = |name: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["setting"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(row("insecure")["value"], false);
    assert_eq!(row("retries")["value"], 3);
    // On a terminal, JSON is indented.
    let tty = on_tty(&f, &f.cmd(), 100, &["sessions", "get", &id, "-o", "json"]);
    assert!(tty.stdout.lines().count() > 5, "{}", tty.stdout);
}

#[test]
fn a_refused_fixed_token_is_not_said_to_have_been_renewed() {
    use crate::adversary::Attack;
    use segura_hostile::{Reply, TOKEN_PATH};
    let mut a = Attack::new(|req| {
        if req.path() == TOKEN_PATH {
            Reply::token(segura_hostile::ACCESS_TOKEN, "3600")
        } else {
            Reply::json(401, r#"{"message":"Unauthorized"}"#)
        }
    });
    a.secret("fixed-token-value-123");
    let mut cmd = a.cmd();
    cmd.env_remove("SEGURA_CLIENT_ID")
        .env_remove("SEGURA_CLIENT_SECRET")
        .env("SEGURA_TOKEN", "fixed-token-value-123")
        .args(["sessions", "list", "--retries", "0"]);
    let o = a.run_cmd(cmd);
    o.code(4);
    assert!(o.stderr.contains("fixed access token"), "{}", o.stderr);
    assert!(!o.stderr.contains("even after requesting"), "{}", o.stderr);
    // With client credentials, the usual words.
    let o = a.run(&["sessions", "list"]);
    o.code(4);
    assert!(!o.stderr.contains("fixed access token"), "{}", o.stderr);
}

#[test]
fn plain_http_to_a_tls_port_says_to_use_https() {
    use crate::adversary::Attack;
    use segura_hostile::Reply;
    // What a TLS server writes to a request that is not TLS: an alert record.
    let a = Attack::new(|_| Reply::raw(b"\x15\x03\x03\x00\x02\x02\x32".to_vec()));
    let o = a.run(&["sessions", "list"]);
    o.code(7);
    assert!(o.stderr.contains("use the https:// URL"), "{}", o.stderr);
    assert!(!o.stderr.contains("connection was cut"), "{}", o.stderr);
}

#[test]
fn a_ca_file_that_is_not_pem_is_named_as_the_problem() {
    let f = Fixture::new(1);
    let ca = write(&f, "ca.cer", b"\x30\x82\x01\x0a not pem at all");
    let out = f.segura(&["sessions", "list", "--ca-cert", s(&ca)]);
    out.code(3);
    assert!(
        out.stderr.contains("not a PEM certificate"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("credentials are missing"),
        "{}",
        out.stderr
    );
}

/// `stats` and `watch` tables hold on an 80-column terminal too: no line is wider,
/// times and ids are whole, only text is shortened.
#[test]
fn stats_and_watch_tables_fit_80_columns() {
    let f = Fixture::new(1);
    let mut snap = String::new();
    let users = [
        "李小龙",
        "deploy 🚀",
        "ann-with-a-very-long-user-name-indeed",
    ];
    for id in 1..=60u64 {
        let end = (id % 5 != 0).then_some("2023-01-15 10:10:00");
        snap.push_str(&session(
            id * 1_000_003,
            users[(id % 3) as usize],
            "2023-01-15 10:00:00",
            end,
        ));
        snap.push('\n');
    }
    let path = write(&f, "s80.ndjson", snap.as_bytes());
    for by in [
        "user",
        "device",
        "credential",
        "protocol",
        "proxy",
        "origin-ip",
    ] {
        let out = on_tty(
            &f,
            &f.bare(),
            80,
            &["sessions", "stats", "--input", s(&path), "--by", by],
        );
        out.code(0);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert!(lines.len() >= 3, "--by {by}: {}", out.stdout);
        for line in &lines {
            assert!(
                shown_width(line) <= 80,
                "--by {by}: {line:?} is wider than 80"
            );
        }
        assert!(lines[0].contains("SESSIONS"), "{}", lines[0]);
        assert!(
            lines.last().is_some_and(|l| l.contains("60 sessions")),
            "{}",
            out.stdout
        );
    }
    let out = on_tty(
        &f,
        &f.bare(),
        80,
        &["sessions", "watch", "--once", "--input", s(&path)],
    );
    out.code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        62,
        "header, 60 events, the poll's line:\n{}",
        out.stdout
    );
    for (i, line) in lines.iter().enumerate() {
        assert!(shown_width(line) <= 80, "{line:?} is wider than 80");
        if (1..=60).contains(&i) {
            assert!(
                line.contains("2023-01-15 10:00:00"),
                "a whole start: {line:?}"
            );
            let id = (i as u64) * 1_000_003;
            assert!(line.contains(&id.to_string()), "a whole id {id}: {line:?}");
        }
    }
}
