//! `segura sessions exporter`: the real binary against the mock (and the hostile
//! server), scraped over real HTTP on loopback; the exposition is parsed by
//! `prometheus-parse` and checked by Prometheus's own `promtool` (`apt-get install
//! prometheus`; .ci/run does it), never by our own encoder.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_parse::{Sample, Scrape, Value};
use segura_mock::{Fault, FaultTarget};

use crate::adversary::{assert_clean, dangerous_char, token_then, Attack};
use crate::support::{Fixture, Output};

/// The proxies the exporter exports by name (docs/metrics.md); others are "other".
const KNOWN_PROXIES: [&str; 6] = [
    "Web Proxy",
    "RDP Proxy",
    "Terminal Proxy",
    "Database Proxy",
    "SSH Tunneling",
    "senhasegura.go",
];

/// The protocols the exporter exports by name (docs/metrics.md); others are "other".
const KNOWN_PROTOCOLS: [&str; 10] = [
    "rdp",
    "ssh",
    "https",
    "http",
    "telnet",
    "vnc",
    "mysql",
    "oracle",
    "postgresql",
    "sqlserver",
];

/// A running exporter: its process, its address, what it printed on stderr.
struct Exporter {
    child: Child,
    addr: String,
    stderr: Arc<Mutex<String>>,
}

impl Exporter {
    /// Starts `cmd` with `sessions exporter --listen 127.0.0.1:0 ARGS` and waits for the
    /// address it prints on stderr.
    fn start(mut cmd: Command, args: &[&str]) -> Exporter {
        cmd.args(["sessions", "exporter", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("segura runs");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().expect("stderr");
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split('/').next().unwrap_or("").to_owned();
                    let _ = tx.send(addr);
                }
                let mut l = log.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no address on stderr: {}", stderr.lock().unwrap()));
        Exporter {
            child,
            addr,
            stderr,
        }
    }

    /// `GET path` with `accept`: the status, the headers (lower-case names), the body.
    fn get(
        &self,
        method: &str,
        path: &str,
        accept: Option<&str>,
    ) -> (u16, HashMap<String, String>, String) {
        let mut s = TcpStream::connect(&self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let accept = accept
            .map(|a| format!("Accept: {a}\r\n"))
            .unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{accept}Connection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read the answer");
        let text = String::from_utf8(raw).expect("UTF-8 answer");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head");
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|c| c.parse().ok())
            .expect("status");
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        (status, headers, body.to_owned())
    }

    /// `/metrics` in the text format, checked by promtool and parsed.
    fn scrape(&self) -> (String, Scrape) {
        let (status, headers, body) = self.get("GET", "/metrics", None);
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            headers.get("content-type").map(String::as_str),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        promtool_check_metrics(&body);
        let scrape = Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).expect("parse");
        (body, scrape)
    }

    /// Scrapes until `ok` holds (for at most 30 s).
    #[track_caller]
    fn scrape_until(&self, what: &str, ok: impl Fn(&Scrape) -> bool) -> (String, Scrape) {
        let started = Instant::now();
        loop {
            let (body, scrape) = self.scrape();
            if ok(&scrape) {
                return (body, scrape);
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "never {what}:\n{body}\n--- stderr ---\n{}",
                self.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the process to end by itself (at most 30 s): its exit code and output.
    fn wait(mut self) -> Output {
        let started = Instant::now();
        let code = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status.code().unwrap_or(-1);
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                break -1;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_string(&mut stdout);
        }
        // The reader thread ends with the pipe.
        std::thread::sleep(Duration::from_millis(100));
        let stderr = self.stderr.lock().unwrap().clone();
        Output {
            code,
            stdout,
            stderr,
        }
    }

    /// Sends SIGTERM and waits for the end.
    fn terminate(self) -> Output {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        self.wait()
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Prometheus's `promtool`.
fn promtool() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("promtool"))
        .find(|p| p.is_file())
        .expect("promtool is needed to check the exposition (`apt-get install prometheus`; .ci/run does it)")
}

/// `promtool check metrics`: Prometheus's own parser and linter accept `body`.
#[track_caller]
fn promtool_check_metrics(body: &str) {
    let mut child = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool ends");
    assert!(
        out.status.success(),
        "promtool check metrics refused the exposition:\n{}{}\n--- body ---\n{body}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn samples<'a>(s: &'a Scrape, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
    s.samples.iter().filter(move |x| x.metric == name)
}

fn number(v: &Value) -> f64 {
    match v {
        Value::Counter(n) | Value::Gauge(n) | Value::Untyped(n) => *n,
        other => panic!("not a number: {other:?}"),
    }
}

/// The value of the sample `name` without labels.
fn single(s: &Scrape, name: &str) -> f64 {
    let all: Vec<&Sample> = samples(s, name).collect();
    assert_eq!(all.len(), 1, "{name}: {all:?}");
    number(&all[0].value)
}

/// The values of `name` by the value of `label`, summed.
fn by(s: &Scrape, name: &str, label: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for x in samples(s, name) {
        let key = x.labels.get(label).unwrap_or("").to_owned();
        *out.entry(key).or_insert(0.0) += number(&x.value);
    }
    out
}

/// How many polls ended, from the histogram.
fn polls(s: &Scrape) -> u64 {
    samples(s, "segura_poll_duration_seconds")
        .find_map(|x| match &x.value {
            Value::Histogram(h) => h
                .iter()
                .find(|b| b.less_than.is_infinite())
                .map(|b| b.count as u64),
            _ => None,
        })
        .unwrap_or(0)
}

/// The open sessions of the mock, from `segura sessions list --active -o ndjson`.
fn open_sessions(f: &Fixture) -> Vec<serde_json::Value> {
    f.segura(&["sessions", "list", "--active", "-o", "ndjson"])
        .json_lines()
}

fn label_of(value: &str, known: &[&str]) -> String {
    known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(value))
        .map_or("other".to_owned(), |k| (*k).to_owned())
}

/// Open sessions per label of `key`.
fn count_by(open: &[serde_json::Value], key: &str, known: &[&str]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for s in open {
        *out.entry(label_of(s[key].as_str().unwrap_or(""), known))
            .or_insert(0.0) += 1.0;
    }
    out
}

#[test]
fn exporter_serves_the_mock_sessions_in_both_formats() {
    let f = Fixture::new(300);
    let open = open_sessions(&f);
    assert!(open.len() > 3, "the mock has open sessions");
    let e = Exporter::start(f.cmd(), &["--interval", "1s", "--tz", "UTC"]);
    let (_, m) = e.scrape_until("up", |s| single(s, "segura_up") == 1.0);

    assert_eq!(single(&m, "segura_sessions_listed"), 300.0);
    let want = count_by(&open, "protocol", &KNOWN_PROTOCOLS);
    assert_eq!(by(&m, "segura_sessions_active", "protocol"), want);
    assert_eq!(
        by(&m, "segura_sessions_active", "proxy"),
        count_by(&open, "proxy", &KNOWN_PROXIES)
    );
    // Each (protocol, proxy) pair as the list has it.
    let mut pairs: BTreeMap<(String, String), f64> = BTreeMap::new();
    for s in &open {
        let key = (
            label_of(s["protocol"].as_str().unwrap_or(""), &KNOWN_PROTOCOLS),
            label_of(s["proxy"].as_str().unwrap_or(""), &KNOWN_PROXIES),
        );
        *pairs.entry(key).or_insert(0.0) += 1.0;
    }
    let got: BTreeMap<(String, String), f64> = samples(&m, "segura_sessions_active")
        .map(|x| {
            (
                (
                    x.labels.get("protocol").unwrap_or("").to_owned(),
                    x.labels.get("proxy").unwrap_or("").to_owned(),
                ),
                number(&x.value),
            )
        })
        .collect();
    assert_eq!(got, pairs);

    // The oldest open session per protocol, its age on the appliance's (UTC) clock.
    let now = chrono::Utc::now().naive_utc();
    let longest = by(&m, "segura_session_active_longest_seconds", "protocol");
    assert_eq!(
        longest.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (protocol, age) in &longest {
        let oldest = open
            .iter()
            .filter(|s| {
                label_of(s["protocol"].as_str().unwrap_or(""), &KNOWN_PROTOCOLS) == *protocol
            })
            .filter_map(|s| {
                chrono::NaiveDateTime::parse_from_str(s["start"].as_str()?, "%Y-%m-%d %H:%M:%S")
                    .ok()
            })
            .min()
            .expect("a start");
        let expected = (now - oldest).num_seconds() as f64;
        assert!(
            (expected - age).abs() < 30.0,
            "{protocol}: exported {age}, expected about {expected}"
        );
    }
    // Counters exist from the start, at 0 on the first poll; every error class too.
    assert!(by(&m, "segura_sessions_started_total", "protocol")
        .values()
        .all(|v| *v == 0.0));
    let errors = by(&m, "segura_poll_errors_total", "kind");
    assert!(
        errors.contains_key("server") && errors.contains_key("auth"),
        "{errors:?}"
    );
    assert!(errors.values().all(|v| *v == 0.0));
    let last = single(&m, "segura_poll_last_success_timestamp_seconds");
    let unix_now = chrono::Utc::now().timestamp() as f64;
    assert!((unix_now - last).abs() < 30.0, "{last} vs {unix_now}");
    assert!(polls(&m) >= 1);
    // No per-user series unless asked.
    assert_eq!(samples(&m, "segura_user_sessions_active").count(), 0);

    // OpenMetrics when the scraper asks for it, as Prometheus does.
    let (status, headers, om) = e.get(
        "GET",
        "/metrics",
        Some("application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"),
    );
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(
        om.contains("# TYPE segura_sessions_started counter\n"),
        "{om}"
    );
    assert!(
        om.contains("# TYPE segura_poll_duration_seconds histogram\n"),
        "{om}"
    );
    let om_scrape = Scrape::parse(om.lines().map(|l| Ok(l.to_owned()))).expect("parse");
    assert_eq!(
        by(&om_scrape, "segura_sessions_active", "protocol"),
        want,
        "the same values in OpenMetrics"
    );

    // Health, HEAD, and everything else.
    let (status, _, body) = e.get("GET", "/healthz", None);
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("ok: last successful poll"), "{body}");
    let (status, headers, body) = e.get("HEAD", "/metrics", None);
    assert_eq!(status, 200);
    assert!(body.is_empty() && headers.contains_key("content-type"));
    assert_eq!(e.get("GET", "/", None).0, 404);
    assert_eq!(e.get("GET", "/metrics/x", None).0, 404);
    let (status, headers, _) = e.get("POST", "/metrics", None);
    assert_eq!(status, 405);
    assert_eq!(headers.get("allow").map(String::as_str), Some("GET, HEAD"));

    // SIGTERM: a clean stop, exit 0.
    let out = e.terminate();
    out.code(0);
    assert!(out.stderr.contains("exporter stopped"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}

#[test]
fn a_failing_poll_keeps_the_values_sets_up_to_0_and_counts_the_error() {
    let f = Fixture::new(80);
    let e = Exporter::start(f.cmd(), &["--interval", "1s", "--retries", "0"]);
    let (_, before) = e.scrape_until("up", |s| single(s, "segura_up") == 1.0);
    let active = by(&before, "segura_sessions_active", "protocol");
    let last = single(&before, "segura_poll_last_success_timestamp_seconds");

    f.server.set_fault(FaultTarget::List, Fault::InternalError);
    let (_, during) = e.scrape_until("down", |s| single(s, "segura_up") == 0.0);
    assert_eq!(by(&during, "segura_sessions_active", "protocol"), active);
    assert_eq!(single(&during, "segura_sessions_listed"), 80.0);
    assert_eq!(
        single(&during, "segura_poll_last_success_timestamp_seconds"),
        last
    );
    let errors = by(&during, "segura_poll_errors_total", "kind");
    assert!(errors["server"] >= 1.0, "{errors:?}");
    assert_eq!(errors.values().sum::<f64>(), errors["server"], "{errors:?}");
    assert!(polls(&during) > polls(&before));

    // The appliance comes back: so does segura_up, and health stays or turns ok.
    f.server.clear_faults();
    e.scrape_until("up again", |s| single(s, "segura_up") == 1.0);
    assert_eq!(e.get("GET", "/healthz", None).0, 200);
    let out = e.terminate();
    out.code(0);
    assert!(
        out.stderr.contains("warning: poll failed (server)"),
        "{}",
        out.stderr
    );
}

#[test]
fn healthz_is_503_until_a_poll_succeeds() {
    let f = Fixture::new(10);
    f.server.set_fault(FaultTarget::List, Fault::BadGateway);
    let e = Exporter::start(f.cmd(), &["--interval", "1s", "--retries", "0"]);
    let (_, m) = e.scrape_until("a failed poll", |s| polls(s) >= 1);
    assert_eq!(single(&m, "segura_up"), 0.0);
    assert_eq!(
        single(&m, "segura_poll_last_success_timestamp_seconds"),
        0.0
    );
    assert_eq!(samples(&m, "segura_sessions_active").count(), 0);
    let (status, _, body) = e.get("GET", "/healthz", None);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("no poll has succeeded"), "{body}");
}

/// Open sessions per protocol label, and the highest id, from a full list.
fn list_state(f: &Fixture) -> (HashMap<u64, String>, u64) {
    let all = f.segura(&["sessions", "list", "-o", "ndjson"]).json_lines();
    let id = |s: &serde_json::Value| {
        s["id"]
            .as_str()
            .and_then(|i| i.parse::<u64>().ok())
            .expect("id")
    };
    let open = all
        .iter()
        .filter(|s| s["end"].is_null())
        .map(|s| {
            (
                id(s),
                label_of(s["protocol"].as_str().unwrap_or(""), &KNOWN_PROTOCOLS),
            )
        })
        .collect();
    (open, all.iter().map(id).max().unwrap_or(0))
}

#[test]
fn sessions_started_and_ended_between_polls_are_counted() {
    let f = Fixture::new(100);
    let (open_before, max_before) = list_state(&f);
    let e = Exporter::start(f.cmd(), &["--interval", "1s"]);
    let (_, first) = e.scrape_until("up", |s| single(s, "segura_up") == 1.0);
    let polls_before = polls(&first);

    f.server.end_open_sessions();
    f.server.set_session_count(112);
    let all = f.segura(&["sessions", "list", "-o", "ndjson"]).json_lines();
    let (open_after, _) = list_state(&f);
    // Expected: every session new since the first poll started (open now, or already
    // ended); every session open then and not now ended, and so did the new ended ones.
    let mut started: BTreeMap<String, f64> = BTreeMap::new();
    let mut ended: BTreeMap<String, f64> = BTreeMap::new();
    for s in &all {
        let id: u64 = s["id"].as_str().and_then(|i| i.parse().ok()).expect("id");
        let p = label_of(s["protocol"].as_str().unwrap_or(""), &KNOWN_PROTOCOLS);
        if id > max_before {
            *started.entry(p.clone()).or_insert(0.0) += 1.0;
            if !s["end"].is_null() {
                *ended.entry(p).or_insert(0.0) += 1.0;
            }
        }
    }
    for (id, p) in &open_before {
        if !open_after.contains_key(id) {
            *ended.entry(p.clone()).or_insert(0.0) += 1.0;
        }
    }
    assert!(started.values().sum::<f64>() == 12.0);
    assert!(ended.values().sum::<f64>() >= open_before.len() as f64);

    // Two more complete polls: the change is seen whichever poll it fell in.
    let (_, m) = e.scrape_until("two more polls", |s| polls(s) >= polls_before + 2);
    let nonzero = |m: BTreeMap<String, f64>| -> BTreeMap<String, f64> {
        m.into_iter().filter(|(_, v)| *v > 0.0).collect()
    };
    assert_eq!(
        nonzero(by(&m, "segura_sessions_started_total", "protocol")),
        started
    );
    assert_eq!(
        nonzero(by(&m, "segura_sessions_ended_total", "protocol")),
        ended
    );
    assert_eq!(
        by(&m, "segura_sessions_active", "protocol")
            .values()
            .sum::<f64>(),
        open_after.len() as f64
    );
}

#[test]
fn refused_credentials_end_the_exporter_with_exit_4() {
    let f = Fixture::new(10);
    let mut cmd = f.bare();
    cmd.env("SEGURA_URL", f.server.url())
        .env("SEGURA_CLIENT_ID", f.server.client_id())
        .env("SEGURA_CLIENT_SECRET", "not-the-secret");
    let out = Exporter::start(cmd, &["--interval", "1s"]).wait();
    out.code(4);
    assert!(out.stderr.contains("error:"), "{}", out.stderr);

    // Refused later, after polls succeeded: the same.
    let e = Exporter::start(f.cmd(), &["--interval", "1s", "--retries", "0"]);
    e.scrape_until("up", |s| single(s, "segura_up") == 1.0);
    f.server.set_fault(FaultTarget::List, Fault::Forbidden);
    let out = e.wait();
    out.code(4);
    assert!(out.stderr.contains("not authorized"), "{}", out.stderr);
}

#[test]
fn a_configuration_error_exits_3_and_a_busy_port_exits_1() {
    let f = Fixture::new(1);
    let out = f.run(
        f.bare(),
        &["sessions", "exporter", "--listen", "127.0.0.1:0"],
    );
    out.code(3);
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    let out = f.segura(&["sessions", "exporter", "--listen", &addr]);
    out.code(1);
    assert!(out.stderr.contains("cannot listen on"), "{}", out.stderr);
    f.segura(&["sessions", "exporter", "--listen", "9741"])
        .code(2);
    f.segura(&["sessions", "exporter", "--interval", "100ms"])
        .code(2);
}

#[test]
fn hostile_text_from_the_server_never_breaks_the_exposition() {
    let users = [
        "quote\" } injected_metric 1",
        "back\\slash\\",
        "new\nline segura_up 1",
        "\u{1b}]0;pwned\u{7}",
        "\u{202e}txt.exe",
        "",
        "tab\there",
    ];
    let mut sessions = Vec::new();
    for (i, u) in users.iter().enumerate() {
        let id = i + 1;
        sessions.push(format!(
            r#"{{"id":"{id}","user":{user},"origin_ip":"10.0.0.1","credential":"c","device":"h:22","protocol":{proto},"proxy":{proxy},"session_id":"{hash}","start":"2024-05-06 16:05:07","end":null,"time":null,"prevent_purge":"No","request":null,"ITSM":null}}"#,
            user = segura_hostile::json_string(u),
            proto = segura_hostile::json_string(&format!("ssh\"}}{u}")),
            proxy = segura_hostile::json_string(&format!("{u}\n")),
            hash = segura_hostile::session_hash(id as u64),
        ));
    }
    let body = format!(
        r#"{{"code":200,"response":{{"status":200,"message":"","error":false,"error_code":0,"detail":"","mensagem":"","erro":false,"cod_erro":0}},"tenant":"Segura","remote_sessions":[{}]}}"#,
        sessions.join(",")
    );
    let a = Attack::new(token_then(move |_| {
        segura_hostile::Reply::json(200, body.clone())
    }));
    let mut cmd = a.cmd();
    cmd.arg("--retries").arg("0");
    let e = Exporter::start(cmd, &["--interval", "1s", "--per-user"]);
    let (text, m) = e.scrape_until("up", |s| single(s, "segura_up") == 1.0);
    assert_eq!(dangerous_char(&text), None, "{text}");
    // Unknown protocols and proxies are one series, "other".
    assert_eq!(
        by(&m, "segura_sessions_active", "protocol"),
        BTreeMap::from([("other".to_owned(), users.len() as f64)])
    );
    assert_eq!(
        by(&m, "segura_sessions_active", "proxy"),
        BTreeMap::from([("other".to_owned(), users.len() as f64)])
    );
    // One series per user (counted on the text: prometheus-parse splits label values
    // at `,` and `}`, which promtool, run by `scrape`, parses right), each at 1; none
    // injected, the up line is ours alone.
    let user_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("segura_user_sessions_active{"))
        .collect();
    assert_eq!(user_lines.len(), users.len(), "{text}");
    assert!(
        user_lines.iter().all(|l| l.ends_with("} 1")),
        "{user_lines:?}"
    );
    assert!(
        text.contains(r#"segura_user_sessions_active{user="quote\" } injected_metric 1"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"{user="back\\slash\\"} 1"#), "{text}");
    assert!(
        text.contains(r#"{user="new\\nline segura_up 1"} 1"#),
        "{text}"
    );
    assert_eq!(samples(&m, "injected_metric").count(), 0);
    assert_eq!(samples(&m, "segura_up").count(), 1);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(
            line.starts_with("segura_"),
            "a line that is not ours: {line:?}"
        );
    }
    let out = e.terminate();
    out.code(0);
    assert_clean(&out, &a.secrets);
}

/// The alert rule of docs/metrics.md: the first ```yaml block.
fn alert_rule() -> String {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/metrics.md"
    ))
    .expect("docs/metrics.md");
    let start = doc.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let len = doc[start..].find("```").expect("its end");
    doc[start..start + len].to_owned()
}

#[test]
fn the_documented_alert_rule_is_valid_and_fires_after_8h() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, alert_rule()).expect("write");
    promtool_succeeds(dir.path(), &["check", "rules", "rules.yml"]);
    // promtool's rule unit test: a session open for 7h59m40s does not alert, one open
    // for 8h06m40s (over 8h for longer than the rule's 5m `for`) does.
    let test = dir.path().join("test.yml");
    std::fs::write(
        &test,
        "rule_files: [rules.yml]\n\
         evaluation_interval: 1m\n\
         tests:\n\
         - interval: 1m\n\
         \x20 input_series:\n\
         \x20 - series: 'segura_session_active_longest_seconds{protocol=\"rdp\",instance=\"pam\",job=\"segura\"}'\n\
         \x20   values: '28000+60x30'\n\
         \x20 alert_rule_test:\n\
         \x20 - eval_time: 13m\n\
         \x20   alertname: SeguraSessionOpenTooLong\n\
         \x20   exp_alerts: []\n\
         \x20 - eval_time: 20m\n\
         \x20   alertname: SeguraSessionOpenTooLong\n\
         \x20   exp_alerts:\n\
         \x20   - exp_labels: {severity: warning, protocol: rdp, instance: pam, job: segura}\n\
         \x20     exp_annotations:\n\
         \x20       summary: 'A rdp session has been open for more than 8h'\n\
         \x20       description: 'The oldest open rdp session on pam has been open for 8h 6m 40s.'\n",
    )
    .expect("write");
    promtool_succeeds(dir.path(), &["test", "rules", "test.yml"]);
}

/// Runs `promtool ARGS` in `dir` and asserts that it succeeds.
#[track_caller]
fn promtool_succeeds(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new(promtool())
        .current_dir(dir)
        .args(args)
        .output()
        .expect("promtool runs");
    assert!(
        out.status.success(),
        "promtool {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_304_keeps_the_metrics_of_the_last_list_and_is_counted() {
    let f = Fixture::with(
        segura_mock::MockConfig::default()
            .sessions(40)
            .seed(7)
            .etags(true),
    );
    let open = open_sessions(&f);
    let e = Exporter::start(f.cmd(), &["--interval", "1s", "--tz", "UTC"]);
    let (_, m) = e.scrape_until("two 304s", |s| {
        single(s, "segura_poll_not_modified_total") >= 2.0
    });
    let stats = f.server.stats();
    assert!(stats.not_modified >= 2, "{stats:?}");
    // The list itself went out once to the exporter (once more to `list --active`).
    assert_eq!(stats.sessions_streamed, 80, "{stats:?}");
    // After the 304s the metrics still show the list read first, not an empty one.
    assert_eq!(single(&m, "segura_up"), 1.0);
    assert_eq!(single(&m, "segura_sessions_listed"), 40.0);
    assert_eq!(
        by(&m, "segura_sessions_active", "protocol"),
        count_by(&open, "protocol", &KNOWN_PROTOCOLS)
    );
    assert_eq!(
        by(&m, "segura_sessions_started_total", "protocol")
            .values()
            .sum::<f64>(),
        0.0
    );
    e.terminate();
}
