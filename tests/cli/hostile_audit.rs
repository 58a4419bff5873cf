//! `sessions audit` and `sessions report` end to end, on the generator's scenario with
//! planted cases (`segura_mock::generator::audit`): the audit finds exactly the
//! planted cases and nothing else; the report, opened in a real headless Chromium,
//! makes no network request, shows the numbers of an independent count, and renders.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use segura_hostile::{Hostile, Reply};
use segura_mock::generator::audit::{AuditScenario, PlantedCase, HOSTILE_USER};
use sha2::{Digest, Sha256};

use crate::support::{s, Fixture};

type Key = (String, String, Vec<u64>);

fn scenario_file(f: &Fixture) -> (AuditScenario, PathBuf) {
    let scenario = AuditScenario::new();
    let path = f.home.path().join("scenario.json");
    std::fs::write(&path, scenario.body()).expect("write scenario");
    (scenario, path)
}

fn keys_of_cases(c: &[PlantedCase]) -> BTreeSet<Key> {
    c.iter()
        .map(|c| (c.rule.to_owned(), c.subject.clone(), c.sessions.clone()))
        .collect()
}

fn keys_of_lines(lines: &[serde_json::Value]) -> BTreeSet<Key> {
    lines
        .iter()
        .map(|v| {
            (
                v["rule"].as_str().expect("rule").to_owned(),
                v["subject"].as_str().expect("subject").to_owned(),
                v["sessions"]
                    .as_array()
                    .expect("sessions")
                    .iter()
                    .map(|i| i.as_u64().expect("id"))
                    .collect(),
            )
        })
        .collect()
}

fn audit(f: &Fixture, body: &Path, extra: &[&str]) -> crate::support::Output {
    let mut args = vec![
        "sessions",
        "audit",
        "--input",
        s(body),
        "--now",
        AuditScenario::NOW,
    ];
    args.extend_from_slice(extra);
    f.run(f.bare(), &args)
}

#[test]
fn audit_finds_exactly_the_planted_cases_and_nothing_else() {
    let f = Fixture::new(1);
    let (scenario, body) = scenario_file(&f);
    let out = audit(&f, &body, &["-o", "ndjson"]);
    out.code(0);
    let lines = out.json_lines();
    assert_eq!(lines.len(), scenario.planted(false).len(), "{}", out.stdout);
    assert_eq!(
        keys_of_lines(&lines),
        keys_of_cases(&scenario.planted(false))
    );
    let keys: BTreeSet<&str> = lines[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["rule", "severity", "subject", "sessions", "first", "last", "detail"])
    );
    assert!(
        out.stderr.contains(&format!(
            "audit: {} sessions audited, {} findings",
            scenario.sessions(),
            lines.len()
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("new-origin was not checked"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_earlier_window_and_a_written_baseline_find_the_new_origin() {
    let f = Fixture::new(1);
    let (scenario, body) = scenario_file(&f);
    let expected = keys_of_cases(&scenario.planted(true));
    let baseline = f.home.path().join("baseline.json");
    let out = audit(
        &f,
        &body,
        &[
            "-o",
            "ndjson",
            "--since",
            AuditScenario::WINDOW_FROM,
            "--baseline-from",
            AuditScenario::BASELINE_FROM,
            "--write-baseline",
            s(&baseline),
        ],
    );
    out.code(0);
    assert_eq!(keys_of_lines(&out.json_lines()), expected, "{}", out.stdout);

    // A baseline written from week 1 alone, then used as a file.
    let week1 = f.home.path().join("week1.json");
    audit(
        &f,
        &body,
        &[
            "-o",
            "ndjson",
            "--until",
            "2024-03-10 23:59:59",
            "--write-baseline",
            s(&week1),
        ],
    )
    .code(0);
    let out = audit(
        &f,
        &body,
        &[
            "-o",
            "ndjson",
            "--since",
            AuditScenario::WINDOW_FROM,
            "--baseline",
            s(&week1),
        ],
    );
    out.code(0);
    assert_eq!(keys_of_lines(&out.json_lines()), expected);
    // The baseline written by the first run knows the new origin now.
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&baseline).expect("baseline written")).expect("json");
    assert_eq!(written["version"], 1);
    let ips = written["users"]["no-1"].as_array().expect("no-1");
    assert!(ips.iter().any(|v| v == "10.200.30.2"), "{written}");
}

#[test]
fn fail_on_gates_with_exit_code_9() {
    let f = Fixture::new(1);
    let (_scenario, body) = scenario_file(&f);
    let out = audit(&f, &body, &["-o", "json", "--fail-on", "high"]);
    out.code(9);
    let findings: serde_json::Value = serde_json::from_str(&out.stdout).expect("json array");
    let high = findings
        .as_array()
        .expect("array")
        .iter()
        .filter(|v| v["severity"] == "high")
        .count();
    assert_eq!(high, 3, "long-open, shared-credential, concurrent-origins");
    assert!(
        out.stderr
            .contains("audit: 3 findings at or above high (--fail-on high)"),
        "{}",
        out.stderr
    );

    // Without the high rules, nothing at or above high: exit 0.
    let rules = f.home.path().join("rules.toml");
    std::fs::write(
        &rules,
        "disabled = [\"long-open\", \"concurrent-origins\"]\n\
         [rules.shared-credential]\nseverity = \"medium\"\n",
    )
    .expect("rules");
    audit(
        &f,
        &body,
        &["-q", "--fail-on", "high", "--rules", s(&rules)],
    )
    .code(0);
    // ... but medium ones remain.
    audit(
        &f,
        &body,
        &["-q", "--fail-on", "medium", "--rules", s(&rules)],
    )
    .code(9);

    // A wrong rules file is a configuration error.
    std::fs::write(&rules, "[rules.long-session]\nthreshold = \"long\"\n").expect("rules");
    let out = audit(&f, &body, &["--rules", s(&rules)]);
    out.code(3);
    assert!(
        out.stderr.contains("rules.long-session.threshold"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_table_is_grouped_by_rule_worst_first_and_csv_has_one_line_per_finding() {
    let f = Fixture::new(1);
    let (scenario, body) = scenario_file(&f);
    let out = audit(&f, &body, &[]);
    let text = out.ok();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("SEVERITY  RULE"), "{text}");
    let order: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap_or(""))
        .collect();
    let mut seen = Vec::new();
    for r in &order {
        if seen.last() != Some(r) {
            assert!(!seen.contains(r), "rule {r} is not grouped: {order:?}");
            seen.push(*r);
        }
    }
    assert_eq!(
        seen,
        [
            "long-open",
            "shared-credential",
            "concurrent-origins",
            "no-ticket",
            "long-session",
            "device-sweep",
            "off-hours"
        ]
    );
    // The user named like HTML is never in a finding: the background is clean.
    assert!(!text.contains(HOSTILE_USER));

    let out = audit(&f, &body, &["-o", "csv"]);
    let mut r = csv_reader(out.ok());
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(
        header,
        ["rule", "severity", "subject", "sessions", "first", "last", "detail"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
    assert_eq!(rows.len(), scenario.planted(false).len());
    let sweep = rows
        .iter()
        .find(|r| &r[0] == "device-sweep")
        .expect("sweep");
    assert_eq!(sweep[3].split(' ').count(), 20);
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::Reader::from_reader(text.as_bytes())
}

/// The Chromium binary: `chromium` (Debian) or `chromium-browser`.
fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
        {
            let p = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if out.status.success() && !p.is_empty() {
                return PathBuf::from(p);
            }
        }
    }
    panic!(
        "the report tests open the report in a real browser: install Chromium \
         (`apt-get install chromium`; .ci/run does it)"
    );
}

/// Runs headless Chromium on `page` with every request sent to `proxy`, and returns
/// its stdout.
fn run_chromium(page: &Path, proxy: &str, extra: &[&str], dir: &Path) -> String {
    let profile = tempfile::tempdir_in(dir).expect("profile dir");
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    // Every request, loopback included, goes to the recording proxy.
    .arg(format!("--proxy-server={proxy}"))
    .arg("--proxy-bypass-list=<-loopback>")
    .args([
        "--disable-extensions",
        "--disable-default-apps",
        "--disable-client-side-phishing-detection",
        "--disable-domain-reliability",
        "--disable-features=NetworkTimeServiceQuerying,MediaRouter,OptimizationHints,Translate,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
        "--no-pings",
        "--disable-breakpad",
        "--no-default-browser-check",
    ])
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .env("HOME", dir)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        match child.try_wait().expect("wait") {
            Some(_) => break,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                panic!("chromium did not finish in 3 minutes");
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    let out = child.wait_with_output().expect("chromium output");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The browser's own background requests, which no page asks for: Chromium still
/// makes these with every flag above (its updater, its clock, its sign-in service,
/// and from version 148 its start page's `www.google.com` fetches and the spelling
/// dictionary; an empty page gets the same). They are recognised exactly (method,
/// host and path; a tunnel by its host), so that any other request a page could
/// make still counts; the report's HTML is also checked to hold no URL at all.
fn is_browser_service(r: &segura_hostile::Request) -> bool {
    matches!(
        (r.method.as_str(), r.target.split('?').next().unwrap_or("")),
        ("CONNECT", "accounts.google.com:443")
            | ("CONNECT", "www.google.com:443")
            | ("CONNECT", "redirector.gvt1.com:443")
            | ("CONNECT", "update.googleapis.com:443")
            | ("POST", "http://update.googleapis.com/service/update2/json")
            | ("GET", "http://clients2.google.com/time/1/current")
    )
}

/// What pages asked the proxy for.
fn page_requests(proxy: &Hostile) -> Vec<segura_hostile::Request> {
    proxy
        .requests()
        .into_iter()
        .filter(|r| !is_browser_service(r))
        .collect()
}

fn metric(dom: &str, name: &str) -> String {
    let needle = format!("data-metric=\"{name}\">");
    let start = dom
        .find(&needle)
        .unwrap_or_else(|| panic!("no data-metric {name}"))
        + needle.len();
    let end = start + dom[start..].find('<').expect("closing tag");
    dom[start..end].trim().to_owned()
}

/// The counts of the summary, computed here from `list -o ndjson`, not by the audit
/// or report code.
fn independent_counts(f: &Fixture, body: &Path) -> BTreeMap<&'static str, String> {
    let out = f.run(
        f.bare(),
        &["sessions", "list", "-o", "ndjson", "--input", s(body)],
    );
    let lines = out.json_lines();
    let distinct = |key: &str| {
        lines
            .iter()
            .filter_map(|v| v[key].as_str())
            .filter(|v| !v.is_empty())
            .collect::<HashSet<&str>>()
            .len()
            .to_string()
    };
    BTreeMap::from([
        ("sessions", lines.len().to_string()),
        ("users", distinct("user")),
        ("devices", distinct("device")),
        ("credentials", distinct("credential")),
        (
            "active",
            lines
                .iter()
                .filter(|v| v["end"].is_null())
                .count()
                .to_string(),
        ),
    ])
}

#[test]
fn the_report_renders_offline_in_chromium_with_the_right_numbers() {
    let f = Fixture::new(1);
    let (scenario, body) = scenario_file(&f);
    let report = f.home.path().join("report.html");
    let out = f.run(
        f.bare(),
        &[
            "sessions",
            "report",
            "--input",
            s(&body),
            "--now",
            AuditScenario::NOW,
            "--out",
            s(&report),
        ],
    );
    out.code(0);
    let html = std::fs::read_to_string(&report).expect("report written");

    // Self-contained: no script, nothing to fetch.
    for banned in [
        "<script", "<link", "<img", "@import", "url(", "src=", "http://", "https://",
    ] {
        let hits: Vec<&str> = html.matches(banned).collect();
        // The only URL is the SVG namespace, which is a name, not a fetch.
        let allowed = banned == "http://"
            && html.matches("http://").count()
                == html.matches("http://www.w3.org/2000/svg").count();
        assert!(hits.is_empty() || allowed, "the report contains {banned}");
    }
    // Every value escaped: the user named like HTML shows as text.
    assert!(!html.contains(HOSTILE_USER));
    assert!(
        html.contains("&lt;b&gt;o&#x27;hara &amp; &quot;co&quot;&lt;&#x2f;b&gt;"),
        "the escaped user name"
    );

    // Provenance: the bytes read and their SHA-256.
    let bytes = std::fs::read(&body).expect("body");
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(html.contains(&digest), "the SHA-256 of the input");

    let proxy = Hostile::start(|_| Reply::text(404, "text/plain", "no"));
    let proxy_url = proxy.url();

    // The proxy sees what a page fetches: a page that loads an image is caught.
    let control = f.home.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><img src=\"http://audit-report.invalid/pixel.png\">",
    )
    .expect("control page");
    run_chromium(&control, &proxy_url, &["--dump-dom"], f.home.path());
    let caught = page_requests(&proxy);
    assert!(
        caught
            .iter()
            .any(|r| r.target == "http://audit-report.invalid/pixel.png"),
        "the recording proxy did not see the control page's image: {caught:?}"
    );
    let before = caught.len();

    let dom = run_chromium(&report, &proxy_url, &["--dump-dom"], f.home.path());
    let shot = f.home.path().join("report.png");
    run_chromium(
        &report,
        &proxy_url,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400",
        ],
        f.home.path(),
    );
    let after = page_requests(&proxy);
    assert_eq!(
        after.len(),
        before,
        "the report made network requests: {:?}",
        &after[before..]
    );

    // The summary numbers, read from the rendered page, match an independent count.
    let counts = independent_counts(&f, &body);
    for (name, value) in &counts {
        assert_eq!(&metric(&dom, name), value, "data-metric {name}");
    }
    assert_eq!(counts["sessions"], scenario.sessions().to_string());
    assert_eq!(
        metric(&dom, "findings"),
        scenario.planted(false).len().to_string()
    );
    assert_eq!(metric(&dom, "sha256"), digest);
    assert_eq!(metric(&dom, "bytes"), bytes.len().to_string());
    // Every section is there.
    for id in [
        "summary",
        "activity",
        "top",
        "mix",
        "longest",
        "findings",
        "provenance",
    ] {
        assert!(
            dom.contains(&format!("<section id=\"{id}\">")),
            "section {id}"
        );
    }

    // SEGURA_REPORT_KEEP=DIR keeps the report and its screenshot (docs/audit.md's
    // picture is made this way).
    if let Some(dir) = std::env::var_os("SEGURA_REPORT_KEEP") {
        let dir = PathBuf::from(dir);
        std::fs::copy(&report, dir.join("audit-report.html")).expect("keep the report");
        std::fs::copy(&shot, dir.join("audit-report.png")).expect("keep the screenshot");
    }
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "a PNG"
    );
}

#[test]
fn a_report_from_the_server_hashes_the_body_it_read() {
    let f = Fixture::new(300);
    let report = f.home.path().join("server.html");
    f.segura(&["sessions", "report", "--out", s(&report), "-q"])
        .code(0);
    let html = std::fs::read_to_string(&report).expect("report");
    let bytes = std::fs::read(f.saved_body(300)).expect("body");
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(html.contains(&digest), "the SHA-256 of the body served");
    assert!(html.contains("data-metric=\"sessions\">300<"));
    // Escaped like every value: `/` is `&#x2f;`.
    let url = f.server.url().trim_end_matches('/').replace('/', "&#x2f;");
    assert!(html.contains(&url), "the appliance URL {url}");
}

#[test]
fn hostile_names_in_findings_never_reach_the_terminal_raw() {
    use crate::adversary::{token_then, Attack};
    use segura_hostile::{json_string, list_body};
    let cred = json_string("\u{1b}]0;pwn\u{7}shared\u{202e}");
    let mut body = list_body(3);
    for id in 1..=3 {
        body = body.replace(
            &format!("\"user{id}\""),
            &json_string(&format!("\u{1b}[31mroot{id}\u{9b}2J")),
        );
        body = body.replace(&format!("\"cred{id}\""), &cred);
    }
    let a = Attack::new(token_then(move |_| Reply::json(200, body.clone())));
    // Attack::run checks stdout and stderr for raw control bytes.
    let o = a.run(&["sessions", "audit", "--now", "2024-05-07 00:00:00"]);
    o.code(0);
    assert!(o.stdout.contains("shared-credential"), "{}", o.stdout);
    assert!(o.stdout.contains("no-ticket"), "{}", o.stdout);
}
