//! `segura sessions top` through a real terminal: the binary runs in a detached tmux
//! session of a fixed size, driven with `send-keys` and read with `capture-pane`,
//! against the mock appliance (or the hostile server). Every wait polls the screen
//! with a deadline; nothing sleeps for long.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use segura_hostile::{json_string, Reply};
use serde_json::Value;

use crate::adversary::{token_then, Attack};
use crate::support::Fixture;

/// Width and height of the pane.
const SIZE: (&str, &str) = ("160", "30");
/// The longest wait for something to show.
const DEADLINE: Duration = Duration::from_secs(20);

/// tmux, or a failure saying how to get it.
fn tmux_path() -> PathBuf {
    for dir in std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/bin")])
    {
        let p = dir.join("tmux");
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "tmux is needed by the tests of `segura sessions top` (a real terminal): \
         install it (apt-get install tmux; .ci/run does)"
    );
}

/// `s` quoted for sh.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A tmux server of its own with one pane running a command.
struct Pane {
    tmux: PathBuf,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Pane {
    /// Runs `cmd` (its program, arguments and environment, nothing else) in a pane;
    /// when it ends, the pane prints `segura exited with CODE`.
    fn start(cmd: &Command) -> Pane {
        let tmux = tmux_path();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut script = String::from("env -i TERM=\"$TERM\"");
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                script.push_str(&format!(
                    " {}",
                    quote(&format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
                ));
            }
        }
        script.push_str(&format!(" {}", quote(&cmd.get_program().to_string_lossy())));
        for a in cmd.get_args() {
            script.push_str(&format!(" {}", quote(&a.to_string_lossy())));
        }
        script.push_str("\necho \"segura exited with $?\"\nexec sleep 600\n");
        let path = dir.path().join("run.sh");
        std::fs::write(&path, script).expect("write script");
        let pane = Pane {
            tmux,
            socket: dir.path().join("tmux.sock"),
            _dir: dir,
        };
        let out = pane.tmux(&[
            "new-session",
            "-d",
            "-s",
            "top",
            "-x",
            SIZE.0,
            "-y",
            SIZE.1,
            "sh",
            path.to_str().expect("UTF-8 path"),
        ]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        pane
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new(&self.tmux)
            .arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("tmux runs")
    }

    /// The screen as text.
    fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-t", "top"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with its attributes as escape sequences.
    fn screen_escapes(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-e", "-t", "top"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A tmux format of the pane, e.g. `#{alternate_on}`.
    fn format(&self, f: &str) -> String {
        let out = self.tmux(&["display-message", "-p", "-t", "top", f]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Presses keys (tmux key names: Enter, Escape, Down, or a character).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "top"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        assert!(self
            .tmux(&["send-keys", "-t", "top", "-l", text])
            .status
            .success());
    }

    /// Waits until the screen satisfies `what`; fails with the screen after the deadline.
    #[track_caller]
    fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let begin = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if begin.elapsed() > DEADLINE {
                panic!("waited {DEADLINE:?} for {what}; the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(40));
        }
    }

    /// Waits until the screen contains `text`.
    #[track_caller]
    fn wait_for(&self, text: &str) -> String {
        self.wait(&format!("{text:?}"), |s| s.contains(text))
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// An open session as `list --active -o ndjson` prints it.
#[derive(Debug, Clone)]
struct Open {
    id: u64,
    user: String,
    credential: String,
    device: String,
    protocol: String,
    start: String,
    hash: String,
}

fn open_sessions(f: &Fixture) -> Vec<Open> {
    f.segura(&["sessions", "list", "--active", "-o", "ndjson"])
        .json_lines()
        .into_iter()
        .map(|v: Value| Open {
            id: v["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .or(v["id"].as_u64())
                .expect("id"),
            user: v["user"].as_str().expect("user").to_owned(),
            credential: v["credential"].as_str().expect("credential").to_owned(),
            device: v["device"].as_str().expect("device").to_owned(),
            protocol: v["protocol"].as_str().expect("protocol").to_owned(),
            start: v["start"].as_str().expect("start").to_owned(),
            hash: v["session_id"].as_str().expect("session_id").to_owned(),
        })
        .collect()
}

/// The table's lines: those holding a start time.
fn rows(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| {
            l.as_bytes().windows(19).any(|w| {
                w[4] == b'-'
                    && w[7] == b'-'
                    && w[10] == b' '
                    && w[13] == b':'
                    && w[16] == b':'
                    && w[..4].iter().all(u8::is_ascii_digit)
            })
        })
        .filter(|l| !l.contains("polled"))
        .collect()
}

/// The ids of the rows, top to bottom, known by their start time (unique among the
/// open sessions of the test, see [`started`]).
fn order(screen: &str, open: &[Open]) -> Vec<u64> {
    rows(screen)
        .iter()
        .filter_map(|l| open.iter().find(|o| l.contains(&o.start)).map(|o| o.id))
        .collect()
}

/// The ids of `open` sorted by `key`, ties by id.
fn sorted_by<K: Ord>(open: &[Open], key: impl Fn(&Open) -> K) -> Vec<u64> {
    let mut v: Vec<&Open> = open.iter().collect();
    v.sort_by(|a, b| key(a).cmp(&key(b)).then(a.id.cmp(&b.id)));
    v.into_iter().map(|o| o.id).collect()
}

/// A mock with a handful of open sessions among 120, and `top` on it.
fn started(extra: &[&str]) -> (Fixture, Vec<Open>, Pane) {
    let f = Fixture::new(120);
    let open = open_sessions(&f);
    assert!(
        (3..=20).contains(&open.len()),
        "the test needs between 3 and 20 open sessions, the mock has {}",
        open.len()
    );
    let mut starts: Vec<&str> = open.iter().map(|o| o.start.as_str()).collect();
    starts.sort_unstable();
    starts.dedup();
    assert_eq!(starts.len(), open.len(), "open sessions share a start time");
    let mut cmd = f.cmd();
    cmd.args(["sessions", "top"]).args(extra);
    let pane = Pane::start(&cmd);
    pane.wait_for(&format!("{} open", open.len()));
    (f, open, pane)
}

#[test]
fn top_lists_the_open_sessions_of_list_active_and_q_restores_the_terminal() {
    let (f, open, pane) = started(&[]);
    let screen = pane.wait(&format!("{} rows", open.len()), |s| {
        rows(s).len() == open.len()
    });
    assert!(screen.contains(&f.server.addr().to_string()), "{screen}");
    assert!(
        screen.contains("USER") && screen.contains("OPEN FOR▲"),
        "{screen}"
    );
    assert!(screen.contains("120 sessions listed"), "{screen}");
    let table = rows(&screen);
    for o in &open {
        // Text from the server shows escaped (the mock sends U+2028 in a name).
        let shown = |v: &str| segura_api::text::sanitize(v).into_owned();
        assert!(
            table.iter().any(|l| l.contains(&shown(&o.user))
                && l.contains(&shown(&o.credential))
                && l.contains(&shown(&o.device))
                && l.contains(&o.start)),
            "{o:?} not shown:\n{screen}"
        );
    }
    // Per-protocol counts, as the header writes them ("ssh 3 · web 2").
    let mut counts = std::collections::BTreeMap::new();
    for o in &open {
        *counts.entry(o.protocol.as_str()).or_insert(0) += 1;
    }
    let per: Vec<String> = counts.iter().map(|(p, n)| format!("{p} {n}")).collect();
    assert!(
        screen.contains(&format!("({})", per.join(" · "))),
        "{per:?}\n{screen}"
    );
    assert_eq!(pane.format("#{alternate_on}"), "1");
    // Colours, as NO_COLOR is not set.
    assert!(has_colour(&pane.screen_escapes()));
    pane.keys(&["q"]);
    let after = pane.wait_for("segura exited with 0");
    assert!(!after.contains("OPEN FOR"), "{after}");
    assert_eq!(pane.format("#{alternate_on}"), "0");
}

#[test]
fn keys_sort_by_column_and_reverse() {
    let (_f, open, pane) = started(&[]);
    // Longest open first: the earliest start on top.
    let by_start = sorted_by(&open, |o| o.start.clone());
    let s = pane.wait("all rows", |s| rows(s).len() == open.len());
    assert_eq!(order(&s, &open), by_start, "{s}");
    pane.keys(&["1"]);
    let s = pane.wait_for("USER▲");
    let mut by_user = sorted_by(&open, |o| o.user.to_lowercase());
    assert_eq!(order(&s, &open), by_user, "{s}");
    assert!(s.contains("sort: USER (A to Z)"), "{s}");
    pane.keys(&["1"]);
    let s = pane.wait_for("USER▼");
    by_user.reverse();
    assert_eq!(order(&s, &open), by_user, "{s}");
    pane.keys(&["s"]);
    pane.wait_for("CREDENTIAL▲");
    pane.keys(&["S", "S"]);
    pane.wait_for("OPEN FOR▲");
    pane.keys(&["R"]);
    let s = pane.wait_for("OPEN FOR▼");
    let mut latest = by_start;
    latest.reverse();
    assert_eq!(order(&s, &open), latest, "{s}");
    pane.keys(&["?"]);
    pane.wait_for("filter as you type");
    pane.keys(&["Escape", "q"]);
    pane.wait_for("segura exited with 0");
}

#[test]
fn slash_filters_as_you_type_and_escape_clears() {
    let (_f, open, pane) = started(&[]);
    let target = &open[open.len() / 2];
    let matching = |needle: &str| {
        open.iter()
            .filter(|o| {
                let n = needle.to_lowercase();
                [&o.user, &o.credential, &o.device, &o.start]
                    .iter()
                    .any(|v| v.to_lowercase().contains(&n))
            })
            .count()
    };
    pane.keys(&["/"]);
    pane.wait_for("filter: ▏");
    pane.type_text(&target.device);
    let want = matching(&target.device);
    let s = pane.wait(&format!("{want} rows for {}", target.device), |s| {
        rows(s).len() == want
    });
    assert!(s.contains(&format!("({want} of {})", open.len())), "{s}");
    assert!(rows(&s)
        .iter()
        .all(|l| l.to_lowercase().contains(&target.device.to_lowercase())));
    // Nothing matches.
    pane.type_text("zzzz-no-such");
    pane.wait_for("no open session matches the filter");
    pane.keys(&["Escape"]);
    pane.wait(&format!("{} rows", open.len()), |s| {
        rows(s).len() == open.len() && !s.contains("filter:")
    });
}

#[test]
fn enter_shows_every_field_of_the_selected_session() {
    let (_f, open, pane) = started(&[]);
    let by_start = sorted_by(&open, |o| o.start.clone());
    let second = open.iter().find(|o| o.id == by_start[1]).expect("second");
    pane.keys(&["Down", "Enter"]);
    let s = pane.wait_for(&format!("session {} · Esc closes", second.id));
    for text in [
        "session_id",
        second.hash.as_str(),
        "prevent_purge",
        "ITSM",
        "open for",
        second.credential.as_str(),
    ] {
        assert!(s.contains(text), "{text:?} not in details:\n{s}");
    }
    pane.keys(&["Escape"]);
    pane.wait("details closed", |s| !s.contains("Esc closes"));
}

#[test]
fn d_asks_who_where_and_since_when_then_drops_through_the_drop_path() {
    let (f, open, pane) = started(&[]);
    let by_start = sorted_by(&open, |o| o.start.clone());
    let first = open.iter().find(|o| o.id == by_start[0]).expect("first");
    pane.keys(&["d"]);
    let s = pane.wait_for("drop session: y / n");
    let shown = |v: &str| segura_api::text::sanitize(v).into_owned();
    for text in [
        format!("user     {}", shown(&first.user)),
        format!("device   {}", shown(&first.device)),
        format!("since    {}", first.start),
        format!("session  {}", first.hash),
    ] {
        assert!(s.contains(&text), "{text:?} not in the question:\n{s}");
    }
    pane.keys(&["n"]);
    pane.wait_for("was not dropped");
    assert_eq!(f.server.stats().drop_requests, 0);
    // The "no" is in the drop log, as `sessions drop` writes it.
    let declined = drop_log(&f);
    assert_eq!(declined.len(), 1, "{declined:?}");
    assert_eq!(declined[0]["outcome"], "declined");
    assert_eq!(declined[0]["session_id"], first.hash.as_str());

    pane.keys(&["d"]);
    pane.wait_for("drop session: y / n");
    pane.keys(&["y"]);
    pane.wait_for(&format!(
        "dropped session {}: Session dropped successfully",
        first.hash
    ));
    let stats = f.server.stats();
    assert_eq!((stats.drop_requests, stats.sessions_dropped), (1, 1));
    // The drop has the record of `sessions drop`: who, what was known, the outcome.
    let log = drop_log(&f);
    assert_eq!(log.len(), 2, "{log:?}");
    let record = &log[1];
    assert_eq!(record["outcome"], "dropped");
    assert_eq!(record["session_id"], first.hash.as_str());
    assert_eq!(record["lookup"], "open");
    assert_eq!(record["session"]["user"], first.user.as_str());
    assert_eq!(record["appliance"], f.server.url());
    assert_eq!(record["message"], "Session dropped successfully");
    assert!(record["time"].as_str().is_some_and(|t| !t.is_empty()));
    // The view polls again at once and the session is gone.
    let s = pane.wait_for(&format!("{} open", open.len() - 1));
    assert!(
        !rows(&s)
            .iter()
            .any(|l| l.contains(&first.start) && l.contains(&first.user)),
        "{s}"
    );
    let after = f.segura(&["sessions", "get", &first.id.to_string(), "-o", "json"]);
    let v: Value = serde_json::from_str(after.ok()).expect("object");
    assert!(!v["end"].is_null(), "{v}");
}

/// The drop log of the fixture's runs (the default path under its HOME).
fn drop_log(f: &Fixture) -> Vec<Value> {
    let path = f.home.path().join(".local/state/segura/drops.log");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn polls_send_the_etag_and_a_304_keeps_the_sessions_shown() {
    let f = Fixture::with(
        segura_mock::MockConfig::default()
            .sessions(120)
            .seed(7)
            .etags(true),
    );
    let open = open_sessions(&f);
    let mut cmd = f.cmd();
    cmd.args(["sessions", "top", "--interval", "1s"]);
    let pane = Pane::start(&cmd);
    pane.wait_for(&format!("{} open", open.len()));
    let started = Instant::now();
    while f.server.stats().not_modified < 2 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let stats = f.server.stats();
    assert!(stats.not_modified >= 2, "{stats:?}");
    // The list went out once to `top` (and once to `list --active`).
    assert_eq!(stats.sessions_streamed, 240, "{stats:?}");
    let s = pane.wait_for(&format!("{} open", open.len()));
    assert!(!s.contains("failed"), "{s}");
    // A change is seen at the next poll: the ETag changes with it.
    assert!(f.server.end_session(open[0].id));
    pane.wait_for(&format!("{} open", open.len() - 1));
    pane.keys(&["q"]);
    pane.wait_for("segura exited with 0");
}

#[test]
fn r_polls_now() {
    let (f, open, pane) = started(&["--interval", "1h"]);
    let polls = f.server.stats().list_requests;
    assert!(f.server.end_session(open[0].id));
    pane.keys(&["r"]);
    pane.wait_for(&format!("{} open", open.len() - 1));
    assert_eq!(f.server.stats().list_requests, polls + 1);
    pane.keys(&["C-c"]);
    pane.wait_for("segura exited with 0");
    assert_eq!(pane.format("#{alternate_on}"), "0");
}

#[test]
fn top_refuses_to_start_without_a_terminal() {
    let f = Fixture::new(10);
    let out = f.segura(&["sessions", "top"]);
    out.code(2);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("segura sessions list --active"),
        "{}",
        out.stderr
    );
    assert_eq!(f.server.stats().list_requests, 0);
}

/// Whether an SGR sequence of `text` sets a colour (30-38, 40-48, 90-97, 100-107;
/// 39 and 49, the default colours, are not colours).
fn has_colour(text: &str) -> bool {
    any_sgr(
        text,
        |n| matches!(n, 30..=38 | 40..=48 | 90..=97 | 100..=107),
    )
}

/// Whether a parameter of an SGR sequence (`ESC [ … m`) of `text` satisfies `what`.
fn any_sgr(text: &str, what: impl Fn(u32) -> bool) -> bool {
    text.split("\u{1b}[").skip(1).any(|seq| {
        let Some(end) = seq.find(|c: char| !(c.is_ascii_digit() || c == ';')) else {
            return false;
        };
        seq[end..].starts_with('m')
            && seq[..end]
                .split(';')
                .any(|p| p.parse::<u32>().is_ok_and(&what))
    })
}

#[test]
fn no_color_draws_without_colours() {
    let f = Fixture::new(120);
    let open = open_sessions(&f);
    for how in ["env", "flag"] {
        let mut cmd = f.cmd();
        cmd.args(["sessions", "top"]);
        if how == "env" {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.arg("--no-color");
        }
        let pane = Pane::start(&cmd);
        pane.wait_for(&format!("{} open", open.len()));
        // The selection shows in reverse video instead.
        let raw = pane.screen_escapes();
        assert!(!has_colour(&raw), "{how}: colours in\n{raw:?}");
        assert!(
            any_sgr(&raw, |n| n == 7),
            "{how}: no reverse video in\n{raw:?}"
        );
        pane.keys(&["q"]);
        pane.wait_for("segura exited with 0");
    }
}

#[test]
fn hostile_text_from_the_server_shows_escaped() {
    let payload = "\u{1b}]0;pwned\u{7}";
    let session = |id: u64, user: &str, device: &str| {
        format!(
            r#"{{"id":"{id}","user":{u},"origin_ip":"10.0.0.9","credential":{c},"device":{d},"protocol":"ssh","proxy":"SSH Proxy","session_id":"{id:040x}","start":"2024-05-06 16:05:07","end":null,"time":null,"prevent_purge":"No","request":null,"ITSM":null}}"#,
            u = json_string(user),
            c = json_string("cred\u{1b}[2J"),
            d = json_string(device),
        )
    };
    let body = format!(
        r#"{{"code":200,"response":{{"status":200,"message":"","error":false}},"tenant":"Segura","remote_sessions":[{},{}]}}"#,
        session(1, &format!("evil{payload}"), "dc01\u{9b}31m:22"),
        session(2, "\u{202e}txt.exe", "\rerror: all good"),
    );
    let a = Attack::new(token_then(move |_| Reply::json(200, body.clone())));
    let mut cmd = a.cmd();
    cmd.args(["sessions", "top", "--retries", "0"]);
    let pane = Pane::start(&cmd);
    let s = pane.wait_for("2 open");
    for shown in [
        "evil\\u{1b}]0;pwned",
        "dc01\\u{9b}31m:22",
        "cred\\u{1b}[2J",
        "\\u{202e}txt.exe",
        "\\rerror: all good",
    ] {
        assert!(s.contains(shown), "{shown:?} not shown escaped:\n{s}");
    }
    assert_ne!(pane.format("#{pane_title}"), "pwned");
    assert!(s.contains("2 open"), "the screen was cleared:\n{s}");
    pane.keys(&["Enter"]);
    let s = pane.wait_for("Esc closes");
    assert!(s.contains("evil\\u{1b}]0;pwned\\u{7}"), "{s}");
    assert_ne!(pane.format("#{pane_title}"), "pwned");
    pane.keys(&["Escape", "q"]);
    pane.wait_for("segura exited with 0");
}

#[test]
fn a_long_poll_shows_its_progress_and_the_keys_still_work() {
    let (f, open, pane) = started(&["--interval", "1h"]);
    // 120 sessions, 25 ms each: a poll of three seconds.
    f.server.set_fault(
        segura_mock::FaultTarget::List,
        segura_mock::Fault::Delay(Duration::from_millis(25)),
    );
    pane.keys(&["r"]);
    let s = pane.wait("progress", |s| {
        s.contains("polling… ") && !s.contains("polling… 0 sessions")
    });
    assert!(s.contains("sessions read"), "{s}");
    // The screen answers while the poll runs.
    pane.keys(&["?"]);
    let s = pane.wait_for("filter as you type");
    assert!(
        s.contains("polling… "),
        "the poll ended before the key was handled:\n{s}"
    );
    pane.keys(&["Escape"]);
    f.server.clear_faults();
    let s = pane.wait("the poll's end", |s| !s.contains("polling… "));
    assert!(s.contains(&format!("{} open", open.len())), "{s}");
    assert!(s.contains("120 sessions listed"), "{s}");
}

#[test]
fn a_failing_poll_keeps_the_previous_sessions_and_says_why() {
    let (f, open, pane) = started(&["--interval", "1h", "--retries", "0"]);
    f.server.push_faults(
        1,
        segura_mock::FaultTarget::List,
        segura_mock::Fault::InternalError,
    );
    pane.keys(&["r"]);
    let s = pane.wait_for("last poll failed");
    assert!(s.contains(&format!("{} open", open.len())), "{s}");
    assert_eq!(rows(&s).len(), open.len(), "{s}");
    pane.keys(&["r"]);
    pane.wait("the error cleared", |s| {
        !s.contains("last poll failed") && s.contains("120 sessions listed")
    });
}

/// The pid of the program the pane's script runs (its only child).
fn child_of(pid: &str) -> String {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .expect("the pane's children");
    children
        .split_whitespace()
        .next()
        .expect("segura runs in the pane")
        .to_owned()
}

#[test]
fn sigterm_ends_top_and_restores_the_terminal() {
    {
        let signal = "TERM";
        let (_f, open, pane) = started(&[]);
        pane.wait_for(&format!("{} open", open.len()));
        assert_eq!(pane.format("#{alternate_on}"), "1");
        let segura = child_of(pane.format("#{pane_pid}").trim());
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), segura.as_str()])
            .status()
            .expect("kill runs");
        assert!(killed.success(), "kill -{signal}");
        pane.wait_for("segura exited with 0");
        assert_eq!(pane.format("#{alternate_on}"), "0", "SIG{signal}");
    }
}

#[test]
fn a_text_wider_than_its_column_ends_in_an_ellipsis() {
    let device = format!("{}.corp.example:3389", "very-long-host-name-".repeat(3));
    let body = format!(
        r#"{{"code":200,"response":{{"status":200,"message":"","error":false}},"tenant":"Segura","remote_sessions":[{{"id":"1","user":"alice","origin_ip":"10.0.0.9","credential":"root","device":{d},"protocol":"ssh","proxy":"SSH Proxy","session_id":"{h:040x}","start":"2024-05-06 16:05:07","end":null,"time":null,"prevent_purge":"No","request":null,"ITSM":null}}]}}"#,
        d = json_string(&device),
        h = 1,
    );
    let a = Attack::new(token_then(move |_| Reply::json(200, body.clone())));
    let mut cmd = a.cmd();
    cmd.args(["sessions", "top", "--retries", "0"]);
    let pane = Pane::start(&cmd);
    let s = pane.wait_for("1 open");
    let row = rows(&s)
        .into_iter()
        .find(|r| r.contains("alice"))
        .unwrap_or_else(|| panic!("no row for alice:\n{s}"));
    assert!(!row.contains(&device), "the device fits? {row:?}");
    // The device column is 28 wide at most: 27 characters and the ellipsis.
    let cut = format!("{}…", &device[..27]);
    assert!(row.contains(&cut), "a cut device ends in …: {row:?}");
    // The details show it whole.
    pane.keys(&["Enter"]);
    let s = pane.wait_for("Esc closes");
    assert!(s.contains(&device), "{s}");
    pane.keys(&["Escape", "q"]);
    pane.wait_for("segura exited with 0");
}

/// `--since 1h` is an hour before each poll, not before the start: a session that
/// started 59 minutes 54 seconds ago leaves the view a few seconds later, though the
/// appliance answers every later poll with `304 Not Modified` (the same list).
#[test]
fn a_relative_since_moves_with_the_clock_also_on_a_304() {
    let now = chrono::Utc::now().naive_utc();
    let at = |ago: i64| {
        (now - chrono::Duration::seconds(ago))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let session = |id: u64, start: &str| {
        format!(
            r#"{{"id":"{id}","user":"u{id}","origin_ip":"10.0.0.{id}","credential":"root","device":"srv{id}:22","protocol":"ssh","proxy":"SSH Proxy","session_id":"{id:040x}","start":"{start}","end":null,"time":null,"prevent_purge":"No","request":null,"ITSM":null}}"#
        )
    };
    let body = format!(
        r#"{{"code":200,"response":{{"status":200,"message":"","error":false}},"tenant":"Segura","remote_sessions":[{},{}]}}"#,
        session(1, &at(3600 - 6)),
        session(2, &at(600)),
    );
    let a = Attack::new(token_then(move |r| {
        if r.header("if-none-match") == Some("\"v1\"") {
            return Reply::raw(segura_hostile::head(
                304,
                &[("ETag", "\"v1\""), ("Connection", "close")],
            ));
        }
        let mut bytes = segura_hostile::head(
            200,
            &[
                ("Content-Type", "application/json"),
                ("Content-Length", &body.len().to_string()),
                ("ETag", "\"v1\""),
                ("Connection", "close"),
            ],
        );
        bytes.extend_from_slice(body.as_bytes());
        Reply::raw(bytes)
    }));
    let mut cmd = a.cmd();
    cmd.args([
        "sessions",
        "top",
        "--retries",
        "0",
        "--tz",
        "UTC",
        "--since",
        "1h",
        "--interval",
        "1s",
    ]);
    let pane = Pane::start(&cmd);
    let s = pane.wait_for("2 open");
    assert_eq!(rows(&s).len(), 2, "{s}");
    let s = pane.wait_for("1 open");
    let shown = rows(&s);
    assert!(shown.len() == 1 && shown[0].contains("u2"), "{s}");
    let not_modified = a
        .server
        .requests()
        .iter()
        .filter(|r| r.header("if-none-match").is_some())
        .count();
    assert!(not_modified >= 1, "no poll was answered with a 304");
    assert!(!s.contains("failed"), "{s}");
    pane.keys(&["q"]);
    pane.wait_for("segura exited with 0");
}
