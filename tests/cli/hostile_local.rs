//! A hostile local file system and hostile values for local consumers: planted FIFOs,
//! devices, oversized and too readable files as the secret, config, CA certificate or
//! watch state file; planted links around the state file; two watchers on one state;
//! an empty answer after sessions were reported; too short watch intervals; and cells
//! that a spreadsheet would run as formulas.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::adversary::{assert_clean, run_bounded};
use crate::support::{generated, s, Fixture, Output};

/// A run that must end well before this: a blocking read is a failure.
const LIMIT: Duration = Duration::from_secs(20);

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Runs `cmd` with `args`, killed after [`LIMIT`]; checks that it ended by itself in
/// time and printed no secret or raw control byte.
#[track_caller]
fn bounded(f: &Fixture, mut cmd: Command, args: &[&str]) -> Output {
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let o = run_bounded(cmd, LIMIT);
    assert!(
        started.elapsed() < LIMIT,
        "segura {args:?} hung (killed after {LIMIT:?}): {o:?}"
    );
    assert_clean(&o, &f.secrets);
    o
}

/// The files every local read must refuse: a device, a FIFO nobody writes into, and a
/// regular file over the 1 MiB limit. Returns (path, what stderr must say).
fn hostile_files(dir: &Path, name: &str) -> Vec<(PathBuf, &'static str)> {
    let fifo = dir.join(format!("{name}.fifo"));
    mkfifo(&fifo);
    chmod(&fifo, 0o600);
    let big = dir.join(format!("{name}.big"));
    std::fs::write(&big, vec![b'a'; (1 << 20) + 1]).expect("write");
    chmod(&big, 0o600);
    vec![
        (
            PathBuf::from("/dev/zero"),
            "a character device, not a regular file",
        ),
        (fifo, "a named pipe (FIFO), not a regular file"),
        (big, "larger than 1 MiB"),
    ]
}

#[test]
fn a_secret_file_that_is_a_device_a_fifo_or_too_large_is_refused_with_exit_3() {
    let f = Fixture::new(3);
    for (path, says) in hostile_files(f.home.path(), "secret") {
        let mut cmd = f.cmd();
        cmd.env_remove("SEGURA_CLIENT_SECRET")
            .env("SEGURA_CLIENT_SECRET_FILE", &path);
        let o = bounded(&f, cmd, &["sessions", "list"]);
        o.code(3);
        assert!(
            o.stderr.contains("cannot read the client secret file") && o.stderr.contains(says),
            "{}: {}",
            path.display(),
            o.stderr
        );
    }
}

#[test]
fn a_config_file_that_is_a_device_a_fifo_or_too_large_is_refused_with_exit_3() {
    let f = Fixture::new(3);
    for (path, says) in hostile_files(f.home.path(), "config") {
        let mut cmd = f.cmd();
        cmd.env("SEGURA_CONFIG", &path);
        let o = bounded(&f, cmd, &["sessions", "list"]);
        o.code(3);
        assert!(
            o.stderr.contains("cannot read the config file") && o.stderr.contains(says),
            "{}: {}",
            path.display(),
            o.stderr
        );
        // `--config` too.
        let o = bounded(&f, f.cmd(), &["--config", s(&path), "config", "show"]);
        o.code(3);
    }
}

#[test]
fn a_ca_file_that_is_a_device_a_fifo_or_too_large_is_refused_with_exit_3() {
    let f = Fixture::new(3);
    for (path, says) in hostile_files(f.home.path(), "ca") {
        let o = bounded(&f, f.cmd(), &["--ca-cert", s(&path), "sessions", "list"]);
        o.code(3);
        assert!(
            o.stderr.contains("cannot read the CA certificate") && o.stderr.contains(says),
            "{}: {}",
            path.display(),
            o.stderr
        );
        let mut cmd = f.cmd();
        cmd.env("SEGURA_CA_CERT", &path);
        bounded(&f, cmd, &["sessions", "list"]).code(3);
    }
}

#[test]
fn a_secret_file_readable_by_group_or_others_is_refused_with_exit_3() {
    let f = Fixture::new(3);
    let secret = f.home.path().join("client-secret");
    std::fs::write(&secret, format!("{}\n", f.server.client_secret())).expect("write");
    for mode in [0o644, 0o640, 0o604] {
        chmod(&secret, mode);
        let mut cmd = f.cmd();
        cmd.env_remove("SEGURA_CLIENT_SECRET")
            .env("SEGURA_CLIENT_SECRET_FILE", &secret);
        let o = bounded(&f, cmd, &["sessions", "list"]);
        o.code(3);
        assert!(
            o.stderr.contains(&format!("mode {mode:03o}")) && o.stderr.contains("chmod 600"),
            "{}",
            o.stderr
        );
        assert_eq!(f.server.stats().token_requests, 0, "nothing was sent");
    }
    chmod(&secret, 0o600);
    let mut cmd = f.cmd();
    cmd.env_remove("SEGURA_CLIENT_SECRET")
        .env("SEGURA_CLIENT_SECRET_FILE", &secret);
    let o = bounded(&f, cmd, &["sessions", "list", "-o", "ndjson"]);
    assert_eq!(o.json_lines().len(), 3);
}

fn watch_args<'a>(state: &'a Path, input: &'a Path) -> Vec<&'a str> {
    vec![
        "sessions",
        "watch",
        "--once",
        "-o",
        "ndjson",
        "--state",
        s(state),
        "--input",
        s(input),
    ]
}

#[test]
fn a_state_file_that_is_a_fifo_a_device_or_a_link_is_refused_with_exit_3() {
    let f = Fixture::new(3);
    let body = f.saved_body(3);
    let fifo = f.home.path().join("state.fifo");
    mkfifo(&fifo);
    let o = bounded(&f, f.cmd(), &watch_args(&fifo, &body));
    o.code(3);
    assert!(o.stderr.contains("a named pipe (FIFO)"), "{}", o.stderr);
    assert_eq!(o.stdout, "", "nothing reported");

    let o = bounded(&f, f.cmd(), &watch_args(Path::new("/dev/zero"), &body));
    o.code(3);
    assert!(o.stderr.contains("character device"), "{}", o.stderr);
    assert!(!Path::new("/dev/zero.lock").exists());

    // A link planted at the state path: refused, and its target is left alone.
    let victim = f.home.path().join("victim");
    std::fs::write(&victim, "precious\n").expect("write");
    let state = f.home.path().join("state.json");
    std::os::unix::fs::symlink(&victim, &state).expect("symlink");
    let o = bounded(&f, f.cmd(), &watch_args(&state, &body));
    o.code(3);
    assert!(o.stderr.contains("symbolic link"), "{}", o.stderr);
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious\n"
    );

    // Larger than the state file's limit (64 MiB, sparse: no disk is used).
    let big = f.home.path().join("big.state");
    std::fs::File::create(&big)
        .and_then(|file| file.set_len((64 << 20) + 1))
        .expect("sparse file");
    let o = bounded(&f, f.cmd(), &watch_args(&big, &body));
    o.code(3);
    assert!(o.stderr.contains("larger than 64 MiB"), "{}", o.stderr);
}

/// Starts `segura sessions watch --once` reading its list from a FIFO, so the test
/// chooses when the poll happens; `feed` writes the body into it.
struct Held {
    child: std::process::Child,
    fifo: PathBuf,
}

impl Held {
    fn start(f: &Fixture, state: &Path) -> Self {
        let fifo = f.home.path().join(format!(
            "input-{}.fifo",
            state.file_name().and_then(|n| n.to_str()).unwrap_or("x")
        ));
        mkfifo(&fifo);
        let mut cmd = f.cmd();
        cmd.args(watch_args(state, &fifo))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd.spawn().expect("spawn");
        Held { child, fifo }
    }

    /// Writes `body` into the FIFO (waiting for the watcher to open it) and waits for
    /// the watcher to end.
    fn feed(mut self, body: &[u8]) -> Output {
        let fifo = self.fifo.clone();
        let data = body.to_vec();
        let writer = std::thread::spawn(move || {
            if let Ok(mut w) = std::fs::OpenOptions::new().write(true).open(&fifo) {
                let _ = w.write_all(&data);
            }
        });
        let started = Instant::now();
        while self.child.try_wait().expect("wait").is_none() {
            assert!(started.elapsed() < LIMIT, "watch hung");
            std::thread::sleep(Duration::from_millis(20));
        }
        // A watcher that ended without opening its input leaves the writer waiting for
        // a reader: be that reader, so that the writer's open returns.
        if !writer.is_finished() {
            use std::os::unix::fs::OpenOptionsExt;
            let _reader = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc_nonblock())
                .open(&self.fifo);
            let _ = writer.join();
        }
        let out = self.child.wait_with_output().expect("output");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[test]
fn a_link_planted_at_the_old_temporary_name_does_not_redirect_the_state_write() {
    let f = Fixture::new(3);
    let state = f.home.path().join("state.json");
    let victim = f.home.path().join("victim");
    std::fs::write(&victim, "precious\n").expect("write");
    let held = Held::start(&f, &state);
    // The name the state used to be written through: `.FILE.tmp-PID`.
    let planted = f
        .home
        .path()
        .join(format!(".state.json.tmp-{}", held.child.id()));
    std::os::unix::fs::symlink(&victim, &planted).expect("symlink");

    let body = std::fs::read(f.saved_body(3)).expect("body");
    let o = held.feed(&body);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(o.stdout.lines().count(), 3);
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious\n"
    );
    assert!(std::fs::symlink_metadata(&planted)
        .expect("still there")
        .file_type()
        .is_symlink());
    let meta = std::fs::symlink_metadata(&state).expect("state");
    assert!(meta.is_file());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("JSON");
    assert_eq!(saved["version"], 2);
}

#[test]
fn a_state_file_that_cannot_be_written_after_the_poll_exits_1_after_the_events() {
    let f = Fixture::new(3);
    let dir = f.home.path().join("state-dir");
    std::fs::create_dir(&dir).expect("dir");
    let state = dir.join("state.json");
    let held = Held::start(&f, &state);
    // The watcher saves its state once before it polls (a state it cannot write fails
    // at once): past that save, the directory goes away while it waits for its list.
    wait_for(&state);
    std::fs::remove_dir_all(&dir).expect("rm");
    let body = std::fs::read(f.saved_body(3)).expect("body");
    let o = held.feed(&body);
    assert_eq!(o.code, 1, "{o:?}");
    assert_eq!(o.json_lines().len(), 3, "the events were printed first");
    assert!(
        o.stderr.contains("cannot write the state file"),
        "{}",
        o.stderr
    );
}

/// `O_NONBLOCK`, so that opening a FIFO for reading never waits for a writer.
fn libc_nonblock() -> i32 {
    rustix::fs::OFlags::NONBLOCK.bits() as i32
}

/// Waits until `path` exists.
fn wait_for(path: &Path) {
    let started = Instant::now();
    while !path.exists() {
        assert!(started.elapsed() < LIMIT, "no {}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_watcher_on_the_same_state_file_exits_1() {
    let f = Fixture::new(3);
    let state = f.home.path().join("state.json");
    let body_path = f.saved_body(3);
    let first = Held::start(&f, &state);
    // The first watcher takes the lock before it polls (and it waits on its FIFO).
    wait_for(&f.home.path().join("state.json.lock"));
    std::thread::sleep(Duration::from_millis(200));
    let second = bounded(&f, f.cmd(), &watch_args(&state, &body_path));
    second.code(1);
    assert!(
        second
            .stderr
            .contains("another `segura sessions watch` is using the state file"),
        "{}",
        second.stderr
    );
    assert_eq!(second.stdout, "", "the second reported nothing");

    let body = std::fs::read(&body_path).expect("body");
    let o = first.feed(&body);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(
        o.stdout.lines().count(),
        3,
        "the first reported each session"
    );
    // Once the first is gone, the state is free again.
    let again = bounded(&f, f.cmd(), &watch_args(&state, &body_path));
    assert_eq!(again.ok(), "");
}

fn events(o: &Output) -> Vec<(String, String)> {
    o.json_lines()
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
fn an_empty_complete_poll_reports_open_sessions_vanished_once_and_never_new_again() {
    let f = Fixture::new(30);
    let full = f.saved_body(30);
    let empty = f.saved_body(0);
    let state = f.home.path().join("state.json");
    let first = bounded(&f, f.cmd(), &watch_args(&state, &full));
    let first = first.json_lines();
    assert_eq!(first.len(), 30);
    let mut open: Vec<String> = first
        .iter()
        .filter(|e| e["session"]["end"].is_null())
        .map(|e| e["session"]["id"].as_str().expect("id").to_owned())
        .collect();
    open.sort_by_key(|id| id.parse::<u64>().expect("id"));
    assert!(!open.is_empty() && open.len() < 30, "{open:?}");

    // The appliance answers an empty but complete list: each open session vanished, once.
    let o = bounded(&f, f.cmd(), &watch_args(&state, &empty));
    let ev = events(&o);
    assert!(ev.iter().all(|(e, _)| e == "vanished"), "{ev:?}");
    assert_eq!(
        ev.iter().map(|(_, id)| id.clone()).collect::<Vec<_>>(),
        open
    );
    for line in o.stdout.lines() {
        let v: Value = serde_json::from_str(line).expect("event");
        assert_eq!(v["session"].as_object().map(|m| m.len()), Some(1), "{line}");
    }
    // Again, and after a restart: nothing more, and the state keeps them.
    assert_eq!(bounded(&f, f.cmd(), &watch_args(&state, &empty)).ok(), "");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("JSON");
    assert_eq!(saved["vanished"].as_array().map(Vec::len), Some(open.len()));
    assert_eq!(
        saved["ended"].as_array().map(Vec::len),
        Some(30 - open.len())
    );

    // The list comes back whole: no session is new again.
    assert_eq!(bounded(&f, f.cmd(), &watch_args(&state, &full)).ok(), "");

    // In CSV and as a table, a vanished event names the session by its id.
    let state2 = f.home.path().join("state2.json");
    bounded(&f, f.cmd(), &watch_args(&state2, &full)).code(0);
    let csv = bounded(
        &f,
        f.cmd(),
        &[
            "sessions",
            "watch",
            "--once",
            "-o",
            "csv",
            "--fields",
            "id,user",
            "--state",
            s(&state2),
            "--input",
            s(&empty),
        ],
    );
    let expected: String = std::iter::once("event,id,user\n".to_owned())
        .chain(open.iter().map(|id| format!("vanished,{id},\n")))
        .collect();
    // Without the columns observed_at and poll, which every event carries.
    let unstamped: String = csv
        .ok()
        .lines()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let mut kept = vec![cells[0]];
            kept.extend(&cells[3..]);
            kept.join(",") + "\n"
        })
        .collect();
    assert_eq!(unstamped, expected);
}

#[test]
fn watch_intervals_under_one_second_are_usage_errors_and_under_ten_warn() {
    let f = Fixture::new(3);
    let body = f.saved_body(3);
    for interval in ["0s", "0ms", "999ms"] {
        let o = bounded(
            &f,
            f.cmd(),
            &[
                "sessions",
                "watch",
                "--interval",
                interval,
                "--input",
                s(&body),
            ],
        );
        o.code(2);
        assert!(o.stderr.contains("too short"), "{}", o.stderr);
        assert_eq!(o.stdout, "");
    }
    // --once does not poll again: no warning.
    let o = bounded(
        &f,
        f.cmd(),
        &[
            "sessions",
            "watch",
            "--once",
            "--interval",
            "1s",
            "-o",
            "ndjson",
            "--input",
            s(&body),
        ],
    );
    assert_eq!(o.stderr, "");
    assert_eq!(o.json_lines().len(), 3);

    let mut cmd = f.cmd();
    cmd.args([
        "sessions",
        "watch",
        "--interval",
        "2s",
        "-o",
        "ndjson",
        "--input",
        s(&body),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    for _ in 0..3 {
        lines.next().expect("an event").expect("a line");
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: --interval 2s polls often") && stderr.contains("10s"),
        "{stderr}"
    );
}

/// A list body holding one session per user name.
fn body_with_users(dir: &Path, users: &[&str]) -> PathBuf {
    let sessions: Vec<Value> = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let mut v: Value = serde_json::from_str(&generated(i as u64)).expect("session");
            v["user"] = Value::from(*user);
            v
        })
        .collect();
    let body = serde_json::json!({
        "code": 200,
        "response": {"status": 200, "message": "", "error": false, "error_code": 0,
                     "detail": "", "mensagem": "", "erro": false, "cod_erro": 0},
        "tenant": "Segura",
        "remote_sessions": sessions,
    });
    let path = dir.join("formulas.json");
    std::fs::write(&path, body.to_string()).expect("write");
    path
}

/// The column `name` of a CSV, read back with an independent parser.
fn csv_column(text: &str, name: &str) -> Vec<String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let at = r
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == name)
        .expect("column");
    r.records()
        .map(|rec| rec.expect("record")[at].to_owned())
        .collect()
}

#[test]
fn csv_cells_a_spreadsheet_would_run_are_neutralised_unless_csv_raw() {
    let f = Fixture::new(3);
    let users = [
        "=cmd|' /C calc'!A0",
        "+SUM(1,2)",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        "plain",
        "a=b",
    ];
    let body = body_with_users(f.home.path(), &users);
    let neutral: Vec<String> = users
        .iter()
        .map(|u| {
            if u.starts_with(['=', '+', '-', '@', '\t']) {
                format!("'{u}")
            } else {
                (*u).to_owned()
            }
        })
        .collect();
    assert_eq!(neutral[0], "'=cmd|' /C calc'!A0");
    let exact: Vec<String> = users.iter().map(|u| (*u).to_owned()).collect();

    let list = ["sessions", "list", "-o", "csv", "--input", s(&body)];
    let o = bounded(&f, f.cmd(), &list);
    assert_eq!(csv_column(o.ok(), "user"), neutral);
    // Values segura writes itself are untouched.
    let ids = csv_column(&o.stdout, "id");
    assert_eq!(ids.len(), users.len());
    assert!(
        ids.iter().all(|id| id.bytes().all(|b| b.is_ascii_digit())),
        "{ids:?}"
    );
    let starts = csv_column(&o.stdout, "start");
    assert!(starts.iter().all(|t| t.starts_with("20")), "{starts:?}");
    let mut raw = list.to_vec();
    raw.push("--csv-raw");
    let o = bounded(&f, f.cmd(), &raw);
    assert_eq!(csv_column(o.ok(), "user"), exact);

    // stats groups and watch events too.
    let stats = [
        "sessions",
        "stats",
        "--by",
        "user",
        "-o",
        "csv",
        "--input",
        s(&body),
    ];
    let o = bounded(&f, f.cmd(), &stats);
    let mut groups = csv_column(o.ok(), "group");
    groups.sort();
    let mut expected = neutral.clone();
    expected.sort();
    assert_eq!(groups, expected);
    let o = bounded(
        &f,
        f.cmd(),
        &[
            "sessions",
            "watch",
            "--once",
            "-o",
            "csv",
            "--input",
            s(&body),
        ],
    );
    assert_eq!(csv_column(o.ok(), "user"), neutral);
    assert_eq!(csv_column(&o.stdout, "event")[0], "new");
}
