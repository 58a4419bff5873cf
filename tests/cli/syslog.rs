//! `segura sessions watch --syslog`: the built binary against a syslog receiver written
//! here (TCP, TLS, UDP), which parses octet-counted frames and RFC 5424 headers on its
//! own; the receiver goes down, comes back, and watch is killed and restarted.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{s, Fixture};

/// One RFC 5424 message, parsed.
#[derive(Debug, Clone)]
struct Msg {
    pri: u8,
    hostname: String,
    app: String,
    procid: String,
    msgid: String,
    /// SD-ID → parameters.
    sd: BTreeMap<String, BTreeMap<String, String>>,
    msg: String,
}

impl Msg {
    fn param(&self, name: &str) -> &str {
        self.sd["segura@32473"][name].as_str()
    }
    fn record(&self) -> Value {
        serde_json::from_str(&self.msg).unwrap_or_else(|e| panic!("{e}: {}", self.msg))
    }
}

/// A header field: `-` or 1 to `max` printable US-ASCII characters.
fn field<'a>(rest: &mut &'a str, max: usize, what: &str) -> Result<&'a str, String> {
    let (v, r) = rest.split_once(' ').ok_or(format!("no {what}"))?;
    if v.is_empty() || v.len() > max || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("bad {what}: {v:?}"));
    }
    *rest = r;
    Ok(v)
}

/// RFC 5424 §6, independently of the sender's code.
fn parse(bytes: &[u8]) -> Result<Msg, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let rest = text.strip_prefix('<').ok_or("no <PRI>")?;
    let (pri, mut rest) = rest.split_once('>').ok_or("no >")?;
    if pri.is_empty() || pri.len() > 3 || (pri.len() > 1 && pri.starts_with('0')) {
        return Err(format!("bad PRI {pri:?}"));
    }
    let pri: u8 = pri.parse().map_err(|_| format!("bad PRI {pri:?}"))?;
    if pri > 191 {
        return Err(format!("PRI {pri} out of range"));
    }
    let version = field(&mut rest, 2, "VERSION")?;
    if version != "1" {
        return Err(format!("VERSION {version}"));
    }
    let ts = field(&mut rest, 48, "TIMESTAMP")?;
    let parsed = chrono::DateTime::parse_from_rfc3339(ts).map_err(|e| format!("{ts}: {e}"))?;
    let frac = ts
        .split_once('.')
        .map_or(0, |(_, f)| f.bytes().take_while(u8::is_ascii_digit).count());
    if frac > 6 || !ts.contains('T') || parsed.timestamp() < 0 {
        return Err(format!("TIMESTAMP {ts}"));
    }
    let hostname = field(&mut rest, 255, "HOSTNAME")?.to_owned();
    let app = field(&mut rest, 48, "APP-NAME")?.to_owned();
    let procid = field(&mut rest, 128, "PROCID")?.to_owned();
    let msgid = field(&mut rest, 32, "MSGID")?.to_owned();
    let mut sd = BTreeMap::new();
    let mut chars = rest.char_indices().peekable();
    if rest.starts_with('-') {
        chars.next();
    } else {
        while let Some((_, '[')) = chars.peek().copied() {
            chars.next();
            let mut id = String::new();
            while let Some(&(_, c)) = chars.peek() {
                if c == ' ' || c == ']' {
                    break;
                }
                if c == '=' || c == '"' || !c.is_ascii_graphic() {
                    return Err(format!("bad SD-ID char {c:?}"));
                }
                id.push(c);
                chars.next();
            }
            let mut params = BTreeMap::new();
            loop {
                match chars.next() {
                    Some((_, ']')) => break,
                    Some((_, ' ')) => {}
                    other => return Err(format!("in SD-ELEMENT: {other:?}")),
                }
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some((_, '=')) => break,
                        Some((_, c)) if c.is_ascii_graphic() && c != '"' && c != ']' => {
                            name.push(c)
                        }
                        other => return Err(format!("in PARAM-NAME: {other:?}")),
                    }
                }
                if chars.next().map(|c| c.1) != Some('"') {
                    return Err("no opening quote".into());
                }
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, c @ ('"' | '\\' | ']'))) => value.push(c),
                            Some((_, c)) => {
                                value.push('\\');
                                value.push(c)
                            }
                            None => return Err("cut in PARAM-VALUE".into()),
                        },
                        Some((_, ']')) => return Err("unescaped ] in PARAM-VALUE".into()),
                        Some((_, c)) => value.push(c),
                        None => return Err("cut in PARAM-VALUE".into()),
                    }
                }
                params.insert(name, value);
            }
            sd.insert(id, params);
        }
        if sd.is_empty() {
            return Err("no STRUCTURED-DATA".into());
        }
    }
    let at = chars.peek().map_or(rest.len(), |&(i, _)| i);
    let msg = match &rest[at..] {
        "" => String::new(),
        m => m.strip_prefix(' ').ok_or("no SP before MSG")?.to_owned(),
    };
    Ok(Msg {
        pri,
        hostname,
        app,
        procid,
        msgid,
        sd,
        msg,
    })
}

/// Splits octet-counted frames (`LEN SP MSG`) off the front of `buf`.
fn frames(buf: &mut Vec<u8>) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    loop {
        let Some(sp) = buf.iter().position(|&b| b == b' ') else {
            if buf.len() > 10 || !buf.iter().all(u8::is_ascii_digit) {
                return Err(format!("not a frame: {:?}", String::from_utf8_lossy(buf)));
            }
            return Ok(out);
        };
        let len = std::str::from_utf8(&buf[..sp])
            .ok()
            .filter(|d| {
                !d.is_empty() && !d.starts_with('0') && d.bytes().all(|b| b.is_ascii_digit())
            })
            .and_then(|d| d.parse::<usize>().ok())
            .ok_or_else(|| format!("bad MSG-LEN: {:?}", String::from_utf8_lossy(&buf[..sp])))?;
        if buf.len() < sp + 1 + len {
            return Ok(out);
        }
        out.push(buf[sp + 1..sp + 1 + len].to_vec());
        buf.drain(..sp + 1 + len);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Proto {
    Tcp,
    Tls,
    Udp,
}

/// What a receiver got, across its restarts.
#[derive(Default)]
struct Log {
    messages: Vec<Msg>,
    errors: Vec<String>,
}

/// A syslog receiver on 127.0.0.1:`port` that can be stopped and started again.
struct Receiver {
    proto: Proto,
    port: u16,
    tls: Option<Arc<rustls::ServerConfig>>,
    /// Bytes written to every connection (a hostile receiver answers garbage).
    answer: &'static [u8],
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Receiver {
    /// A receiver not started yet, on a free port.
    fn new(proto: Proto) -> Self {
        let tls = (proto == Proto::Tls).then(|| {
            let (config, _) = segura_mock::tls_server_config().expect("test CA");
            config
        });
        Receiver {
            proto,
            port: free_port(),
            tls,
            answer: b"",
            log: Arc::default(),
            stop: Arc::default(),
            thread: None,
        }
    }

    fn url(&self) -> String {
        let scheme = match self.proto {
            Proto::Tcp => "tcp",
            Proto::Tls => "tls",
            Proto::Udp => "udp",
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    fn start(&mut self) {
        assert!(self.thread.is_none());
        self.stop = Arc::default();
        let (stop, log, proto, tls, answer) = (
            self.stop.clone(),
            self.log.clone(),
            self.proto,
            self.tls.clone(),
            self.answer,
        );
        let port = self.port;
        if proto == Proto::Udp {
            let sock = UdpSocket::bind(("127.0.0.1", port)).expect("bind udp");
            sock.set_read_timeout(Some(Duration::from_millis(20)))
                .expect("timeout");
            self.thread = Some(std::thread::spawn(move || {
                let mut buf = vec![0u8; 70_000];
                while !stop.load(Ordering::SeqCst) {
                    if let Ok(n) = sock.recv(&mut buf) {
                        let m = parse(&buf[..n]);
                        let mut log = log.lock().expect("log");
                        match m {
                            Ok(m) => log.messages.push(m),
                            Err(e) => log.errors.push(e),
                        }
                    }
                }
            }));
            return;
        }
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind tcp");
        listener.set_nonblocking(true).expect("nonblocking");
        self.thread = Some(std::thread::spawn(move || {
            let mut conns = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((sock, _)) => {
                        let (stop, log, tls) = (stop.clone(), log.clone(), tls.clone());
                        conns.push(std::thread::spawn(move || {
                            serve(sock, tls, answer, &stop, &log);
                        }));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            for c in conns {
                let _ = c.join();
            }
        }));
    }

    /// Stops listening and closes every connection.
    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().expect("receiver thread");
        }
    }

    fn messages(&self) -> Vec<Msg> {
        let log = self.log.lock().expect("log");
        assert!(log.errors.is_empty(), "receiver errors: {:?}", log.errors);
        log.messages.clone()
    }

    /// Waits until `enough` holds for the messages received.
    #[track_caller]
    fn wait(&self, what: &str, enough: impl Fn(&[Msg]) -> bool) -> Vec<Msg> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let m = self.messages();
            if enough(&m) {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {m:#?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(
    sock: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    answer: &[u8],
    stop: &AtomicBool,
    log: &Mutex<Log>,
) {
    let _ = sock.set_nonblocking(false);
    let _ = sock.set_read_timeout(Some(Duration::from_millis(20)));
    let mut stream: Box<dyn ReadWrite> = match tls {
        Some(config) => match rustls::ServerConnection::new(config) {
            Ok(conn) => Box::new(rustls::StreamOwned::new(conn, sock)),
            Err(_) => return,
        },
        None => Box::new(sock),
    };
    if !answer.is_empty() {
        let _ = stream.write_all(answer);
        let _ = stream.flush();
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    while !stop.load(Ordering::SeqCst) {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                let mut log = log.lock().expect("log");
                match frames(&mut buf) {
                    Ok(fs) => {
                        for f in fs {
                            match parse(&f) {
                                Ok(m) => log.messages.push(m),
                                Err(e) => log.errors.push(e),
                            }
                        }
                    }
                    Err(e) => {
                        log.errors.push(e);
                        break;
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
}

trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

/// `watch` running in the background, its stderr in a file.
struct Watch {
    child: Child,
    stderr: std::path::PathBuf,
}

impl Watch {
    fn spawn(f: &Fixture, args: &[&str]) -> Self {
        let stderr = f.home.path().join(format!("stderr-{}.txt", free_port()));
        let file = std::fs::File::create(&stderr).expect("stderr file");
        let child = f
            .cmd()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::from(file))
            .spawn()
            .expect("segura runs");
        Watch { child, stderr }
    }

    /// SIGKILL: no chance to save anything.
    fn kill(mut self) -> String {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
        std::fs::read_to_string(&self.stderr).expect("stderr")
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `watch` polling every second into `url`, with `state`, and `extra` options.
fn continuous<'a>(state: &'a Path, url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["sessions", "watch", "--interval", "1s", "--state", s(state)];
    args.extend(["--syslog", url]);
    args.extend_from_slice(extra);
    args
}

/// The state file, parsed.
fn saved(state: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(state).expect("state")).expect("JSON")
}

/// The events waiting in the state file.
fn pending(state: &Path) -> Vec<Value> {
    std::fs::read_to_string(state)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["pending"].as_array().cloned())
        .unwrap_or_default()
}

#[track_caller]
fn wait_pending(state: &Path, what: &str, enough: impl Fn(&[Value]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !enough(&pending(state)) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The messages once each (by event id, first arrival), checked against their own
/// headers: `(event, session id)` in arrival order.
#[track_caller]
fn events(messages: &[Msg]) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for m in messages {
        assert_eq!(m.app, "segura");
        assert!(m.procid.parse::<u32>().is_ok(), "{m:?}");
        assert!(!m.hostname.is_empty());
        let kind = m.param("event").to_owned();
        assert_eq!(m.msgid, format!("session-{kind}"));
        // authpriv (10) × 8 + notice 5 / info 6 / warning 4.
        let severity = match kind.as_str() {
            "new" => 5,
            "ended" => 6,
            "vanished" => 4,
            k => panic!("unknown event {k}"),
        };
        assert_eq!(m.pri, 80 + severity, "{m:?}");
        let record = m.record();
        assert_eq!(record["event"], kind.as_str());
        assert_eq!(record["session"]["id"], m.param("session_id"));
        if seen.insert(m.param("event_id").to_owned()) {
            out.push((kind, m.param("session_id").to_owned()));
        }
    }
    out
}

/// What the appliance lists now: (id, ended).
fn listed(f: &Fixture) -> Vec<(String, bool)> {
    f.segura(&["sessions", "list", "-o", "ndjson"])
        .json_lines()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().expect("id").to_owned(),
                !s["end"].is_null(),
            )
        })
        .collect()
}

/// The sessions whose `new` event said they were open.
fn reported_open(m: &[Msg]) -> HashSet<String> {
    m.iter()
        .filter(|m| m.param("event") == "new" && m.record()["session"]["end"].is_null())
        .map(|m| m.param("session_id").to_owned())
        .collect()
}

fn ended_count(m: &[Msg]) -> usize {
    events(m).iter().filter(|(k, _)| k == "ended").count()
}

#[test]
fn tcp_every_event_arrives_in_order_through_outages_and_a_kill() {
    // Enough sessions for one to be open (the generator opens about 6 in 100).
    let generator = segura_mock::generator::Generator::new(7);
    let n = (0..500)
        .find(|&i| generator.is_open(i))
        .expect("an open session")
        + 1;
    let f = Fixture::new(n);
    let state = f.home.path().join("state.json");
    let mut rx = Receiver::new(Proto::Tcp);
    let url = rx.url();
    let args = continuous(&state, &url, &["--syslog-retry-max", "300ms"]);
    let total = n as usize;

    // The receiver is down at start: the events wait in the state file.
    let watch = Watch::spawn(&f, &args);
    wait_pending(&state, "the first events waiting", |p| p.len() == total);
    rx.start();
    let m = rx.wait("the first events", |m| events(m).len() == total);
    let open = reported_open(&m);
    assert!(!open.is_empty());

    // New sessions between polls.
    f.server.set_session_count(n + 2);
    rx.wait("2 new events", |m| events(m).len() == total + 2);

    // The receiver restarts mid-run; sessions end meanwhile.
    rx.stop();
    f.server.end_open_sessions();
    wait_pending(&state, "ended events waiting", |p| {
        p.iter().any(|e| e["event"] == "ended")
    });
    rx.start();
    rx.wait("the ended events", |m| {
        ended_count(m) == reported_open(m).len()
    });

    // Killed while events wait; restarted: they are sent, then the new ones.
    rx.stop();
    f.server.set_session_count(n + 4);
    wait_pending(&state, "2 new events waiting", |p| {
        p.iter().filter(|e| e["event"] == "new").count() == 2
    });
    let stderr = watch.kill();
    assert!(
        stderr.contains(&format!("cannot connect to {url}")),
        "{stderr}"
    );
    rx.start();
    let _again = Watch::spawn(&f, &args);
    rx.wait("every event", |m| {
        events(m).iter().filter(|(k, _)| k == "new").count() == total + 4
    });
    wait_pending(&state, "an empty queue", <[Value]>::is_empty);
    // Every message received, repeats included (`events` keeps each id once).
    let all = rx.messages();
    let got = events(&all);

    // Every session has its new event, and each one reported open and now ended its
    // ended event after it; nothing else, each once (by event id).
    let now = listed(&f);
    assert_eq!(now.len(), total + 4);
    let open = reported_open(&all);
    let mut expected: HashSet<(String, String)> = now
        .iter()
        .map(|(id, _)| ("new".to_owned(), id.clone()))
        .collect();
    for (id, ended) in &now {
        if *ended && open.contains(id) {
            expected.insert(("ended".to_owned(), id.clone()));
        }
    }
    let got_set: HashSet<(String, String)> = got.iter().cloned().collect();
    assert_eq!(got_set, expected, "{got:?}");
    assert_eq!(
        got.len(),
        expected.len(),
        "an event repeated under another id"
    );
    for (i, (k, id)) in got.iter().enumerate() {
        if k == "ended" {
            let new_at = got.iter().position(|e| e.0 == "new" && &e.1 == id);
            assert!(new_at.is_some_and(|n| n < i), "ended before new: {got:?}");
        }
    }
    // In order: the poll times (the end of each event id) never go back.
    let mut ids = HashSet::new();
    let times: Vec<i64> = all
        .iter()
        .filter(|m| ids.insert(m.param("event_id").to_owned()))
        .map(|m| {
            m.param("event_id")
                .rsplit('-')
                .next()
                .and_then(|t| t.parse().ok())
                .expect("an event id ends with the poll time")
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn a_full_queue_stops_watch_with_the_pending_count_and_loses_nothing() {
    let f = Fixture::new(5);
    let state = f.home.path().join("state.json");
    let mut rx = Receiver::new(Proto::Tcp);
    let url = rx.url();
    let out = f.segura(&continuous(&state, &url, &["--syslog-queue", "3"]));
    out.code(1);
    assert!(
        out.stderr.contains(&format!(
            "5 events are waiting for {url}, more than --syslog-queue 3"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("kept in the state file"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
    assert_eq!(saved(&state)["version"], 3);
    assert_eq!(pending(&state).len(), 5);

    // Without --syslog, the waiting events are not dropped silently.
    let out = f.segura(&["sessions", "watch", "--once", "--state", s(&state)]);
    out.code(3);
    assert!(
        out.stderr.contains("5 events not yet delivered"),
        "{}",
        out.stderr
    );

    // --once with the receiver back: the 5 are sent; the state is version 2 again.
    rx.start();
    let args = [
        "sessions",
        "watch",
        "--once",
        "--state",
        s(&state),
        "--syslog",
        &url,
    ];
    f.segura(&args).code(0);
    let got = events(&rx.wait("5 events", |m| m.len() >= 5));
    assert_eq!(got.len(), 5);
    let after = saved(&state);
    assert_eq!(after["version"], 2);
    assert!(after.get("pending").is_none());

    // --once with the receiver gone: exit 1, the events kept for the next run.
    rx.stop();
    f.server.set_session_count(7);
    let out = f.segura(&args);
    out.code(1);
    assert!(
        out.stderr
            .contains(&format!("2 events were not delivered to {url}")),
        "{}",
        out.stderr
    );
    assert_eq!(pending(&state).len(), 2);
}

#[test]
fn udp_delivers_one_message_per_datagram_and_warns() {
    let f = Fixture::new(3);
    let mut rx = Receiver::new(Proto::Udp);
    rx.start();
    let out = f.segura(&[
        "sessions",
        "watch",
        "--once",
        "--syslog",
        &rx.url(),
        "--syslog-facility",
        "local3",
    ]);
    out.code(0);
    assert!(
        out.stderr.contains("UDP has no acknowledgement"),
        "{}",
        out.stderr
    );
    let m = rx.wait("3 datagrams", |m| m.len() == 3);
    for m in &m {
        // local3 (19) × 8 + notice (5).
        assert_eq!(m.pri, 157, "{m:?}");
        assert_eq!(m.record()["event"], "new");
    }
}

#[test]
fn tls_is_verified_with_the_ca_and_an_untrusted_receiver_is_refused() {
    let f = Fixture::new(3);
    let (config, ca) = segura_mock::tls_server_config().expect("test CA");
    let mut rx = Receiver::new(Proto::Tls);
    rx.tls = Some(config);
    rx.start();
    let url = rx.url();
    let watch = |extra: &[&str]| {
        let mut args = vec!["sessions", "watch", "--once", "--syslog", url.as_str()];
        args.extend_from_slice(extra);
        f.segura(&args)
    };

    let out = watch(&[]);
    out.code(1);
    assert!(out.stderr.contains("is not trusted"), "{}", out.stderr);
    assert!(out.stderr.contains("--syslog-ca"), "{}", out.stderr);

    let other = f.home.path().join("other-ca.pem");
    std::fs::write(&other, segura_mock::tls_server_config().expect("CA").1).expect("write");
    watch(&["--syslog-ca", s(&other)]).code(1);
    assert!(rx.messages().is_empty());

    let ca_file = f.home.path().join("ca.pem");
    std::fs::write(&ca_file, ca).expect("write");
    let out = watch(&["--syslog-ca", s(&ca_file)]);
    out.code(0);
    let got = events(&rx.wait("3 events over TLS", |m| m.len() == 3));
    assert_eq!(got.len(), 3);

    let out = watch(&["--syslog-insecure-skip-verify"]);
    out.code(0);
    assert!(out.stderr.contains("is NOT verified"), "{}", out.stderr);

    let garbage = f.home.path().join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64!\n").expect("write");
    let out = watch(&["--syslog-ca", s(&garbage)]);
    out.code(3);
    assert!(out.stderr.contains("--syslog-ca"), "{}", out.stderr);
}

#[test]
fn hostile_receivers_and_bad_urls_get_clear_errors() {
    let f = Fixture::new(2);
    for (url, says) in [
        ("http://127.0.0.1:514", "unknown scheme"),
        ("tcp://127.0.0.1:99999", "not a port"),
        ("tcp://127.0.0.1:0", "not a port"),
        ("tcp://127.0.0.1:514/x", "only a scheme"),
        ("127.0.0.1:514", "expected udp://"),
    ] {
        let out = f.segura(&["sessions", "watch", "--once", "--syslog", url]);
        out.code(2);
        assert!(out.stderr.contains(says), "{url}: {}", out.stderr);
    }
    let out = f.segura(&[
        "sessions",
        "watch",
        "--once",
        "--syslog",
        "tcp://127.0.0.1:514",
        "--syslog-ca",
        "x.pem",
    ]);
    out.code(2);
    let out = f.segura(&[
        "sessions",
        "watch",
        "--once",
        "-o",
        "csv",
        "--syslog",
        "tcp://127.0.0.1:514",
    ]);
    out.code(2);

    // A name that resolves to nothing.
    let out = f.segura(&[
        "sessions",
        "watch",
        "--once",
        "--syslog",
        "tcp://nothing.invalid:514",
    ]);
    out.code(1);
    assert!(out.stderr.contains("nothing.invalid"), "{}", out.stderr);
    assert!(
        out.stderr.contains("2 events were not delivered"),
        "{}",
        out.stderr
    );

    // A TCP receiver that answers garbage: the events still go, with a warning.
    let mut rx = Receiver::new(Proto::Tcp);
    rx.answer = b"\x00\xffGARBAGE\r\n<13>1 - - - - - -\n";
    rx.start();
    let state = f.home.path().join("state.json");
    let url = rx.url();
    let mut w = Watch::spawn(&f, &continuous(&state, &url, &[]));
    rx.wait("2 events", |m| m.len() == 2);
    f.server.set_session_count(3);
    rx.wait("the third", |m| events(m).len() == 3);
    let _ = w.child.kill();
    let _ = w.child.wait();
    let stderr = std::fs::read_to_string(&w.stderr).expect("stderr");
    assert!(
        stderr.contains("sent") && stderr.contains("ignored"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    drop(w);

    // A tls:// receiver that speaks garbage instead of TLS.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        if let Ok((mut sock, _)) = listener.accept() {
            let _ = sock
                .write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n\x15\x03\x03\x00\x02\x02\x50garbage");
            let mut sink = [0u8; 1024];
            let _ = sock.set_read_timeout(Some(Duration::from_millis(500)));
            let _ = sock.read(&mut sink);
        }
    });
    let out = f.segura(&[
        "sessions",
        "watch",
        "--once",
        "--syslog",
        &format!("tls://127.0.0.1:{port}"),
    ]);
    out.code(1);
    assert!(out.stderr.contains("TLS handshake"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let _ = server.join();
}
