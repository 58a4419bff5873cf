//! A list with known audit answers: clean background sessions (business hours, a
//! ticket each, short, one address, credential and few devices per user) and planted
//! cases, each of which one audit rule must find, beside near misses that no rule may
//! find. The answers are plain data ([`PlantedCase`]): this crate knows nothing of the
//! client's audit code.
//!
//! Two weeks from Monday 2024-03-04. Week 1 is the baseline window: every user shows
//! there from each address it uses later, except the one planted `new-origin` case.
//! Every planted case is in week 2 (from 2024-03-11). "Now" is Monday 2024-03-18 12:00.
//!
//! ```
//! use segura_mock::generator::audit::AuditScenario;
//!
//! let s = AuditScenario::new();
//! assert!(s.body().starts_with(b"{\"code\":200"));
//! assert!(s.planted(true).iter().any(|c| c.rule == "new-origin"));
//! assert!(!s.planted(false).iter().any(|c| c.rule == "new-origin"));
//! ```

use super::{mix, write_ok_prefix};
use super::{push_datetime, push_duration, push_hex_u64, push_u64, write_json_string};

/// Monday 2024-03-04 00:00:00, in seconds since 1970 (appliance local time).
const WEEK1: u64 = 1_709_510_400;
const DAY: u64 = 86_400;
const HOUR: u64 = 3600;
const MIN: u64 = 60;

/// One case an audit must find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlantedCase {
    /// The rule id, e.g. `no-ticket`.
    pub rule: &'static str,
    /// The finding's subject: a user, or the credential of `shared-credential`.
    pub subject: String,
    /// The numeric ids of its sessions, ascending.
    pub sessions: Vec<u64>,
}

#[derive(Debug, Clone)]
struct Spec {
    case: Option<usize>,
    user: String,
    ip: String,
    credential: String,
    device: String,
    protocol: &'static str,
    start: u64,
    /// `None`: still open.
    duration: Option<u64>,
    request: Option<String>,
    itsm: Option<String>,
}

/// A generated list with its known answers.
#[derive(Debug, Clone)]
pub struct AuditScenario {
    body: Vec<u8>,
    cases: Vec<PlantedCase>,
    sessions: u64,
}

/// The background user whose name is hostile HTML (for escaping checks).
pub const HOSTILE_USER: &str = "<b>o'hara & \"co\"</b>";

fn at(day: u64, hour: u64, min: u64) -> u64 {
    WEEK1 + day * DAY + hour * HOUR + min * MIN
}

struct Builder {
    specs: Vec<Spec>,
    cases: Vec<(&'static str, String)>,
    baseline_ips: Vec<(String, String)>,
}

impl Builder {
    fn case(&mut self, rule: &'static str, subject: &str) -> usize {
        self.cases.push((rule, subject.to_owned()));
        self.cases.len() - 1
    }

    /// A compliant session of a planted user; `ip` must be shown in week 1 unless the
    /// case is `new-origin`.
    #[allow(clippy::too_many_arguments)]
    fn planted(
        &mut self,
        case: Option<usize>,
        user: &str,
        ip: &str,
        credential: Option<&str>,
        device: &str,
        start: u64,
        duration: Option<u64>,
        ticket: bool,
    ) {
        let n = self.specs.len();
        self.specs.push(Spec {
            case,
            user: user.to_owned(),
            ip: ip.to_owned(),
            credential: credential.map_or_else(|| format!("cred-{user}"), str::to_owned),
            device: device.to_owned(),
            protocol: "ssh",
            start,
            duration,
            request: ticket.then(|| format!("REQ-{}", 9000 + n)),
            itsm: None,
        });
        if !self.baseline_ips.iter().any(|(u, i)| u == user && i == ip) {
            self.baseline_ips.push((user.to_owned(), ip.to_owned()));
        }
    }
}

impl Default for AuditScenario {
    fn default() -> Self {
        Self::new()
    }
}

impl AuditScenario {
    /// The scenario (always the same bytes).
    pub fn new() -> Self {
        let mut b = Builder {
            specs: Vec::new(),
            cases: Vec::new(),
            baseline_ips: Vec::new(),
        };
        // Background: 40 users, ten business days, a session every five minutes from
        // 08:00 to 17:55, each user every 200 minutes, 5 to 60 minutes long.
        let users: Vec<String> = (0..40)
            .map(|u| {
                if u == 0 {
                    HOSTILE_USER.to_owned()
                } else {
                    format!("user-{u:02}")
                }
            })
            .collect();
        let mut n = 0u64;
        for day in [0u64, 1, 2, 3, 4, 7, 8, 9, 10, 11] {
            for k in 0..120u64 {
                let u = (k % 40) as usize;
                let protocol = if u % 3 == 0 { "rdp" } else { "ssh" };
                let port = if protocol == "rdp" { 3389 } else { 22 };
                let ticket = mix(n) % 2 == 0;
                b.specs.push(Spec {
                    case: None,
                    user: users[u].clone(),
                    ip: format!("10.1.{}.{}", u / 200, 10 + u),
                    credential: format!("svc-{u:02}"),
                    device: format!("srv-{u:02}-{}.corp:{port}", (k / 40) % 3),
                    protocol,
                    start: at(day, 8, 0) + k * 5 * MIN,
                    duration: Some(5 * MIN + mix(n ^ 0xa0d1) % (55 * MIN)),
                    request: ticket.then(|| format!("REQ-{n}")),
                    itsm: (!ticket).then(|| format!("CHG{:05}", n)),
                });
                n += 1;
            }
        }
        let ip = |k: u32| format!("10.200.{k}.1");
        let home = |user: &str| format!("home-{user}.corp:22");

        // no-ticket: two sessions, one with nulls, one with empty strings.
        let c = b.case("no-ticket", "nt-1");
        b.planted(
            Some(c),
            "nt-1",
            &ip(1),
            None,
            &home("nt-1"),
            at(8, 10, 0),
            Some(20 * MIN),
            false,
        );
        let c = b.case("no-ticket", "nt-1");
        b.planted(
            Some(c),
            "nt-1",
            &ip(1),
            None,
            &home("nt-1"),
            at(9, 11, 0),
            Some(20 * MIN),
            false,
        );
        let last = b.specs.len() - 1;
        b.specs[last].request = Some(String::new());
        b.specs[last].itsm = Some(String::new());

        // long-session: 9 h is found; exactly 8 h is not.
        let c = b.case("long-session", "ls-1");
        b.planted(
            Some(c),
            "ls-1",
            &ip(2),
            None,
            &home("ls-1"),
            at(8, 8, 30),
            Some(9 * HOUR),
            true,
        );
        b.planted(
            None,
            "ls-1",
            &ip(2),
            None,
            &home("ls-1"),
            at(9, 8, 30),
            Some(8 * HOUR),
            true,
        );

        // long-open: open since Wednesday is found; open for 3 h is not.
        let c = b.case("long-open", "lo-1");
        b.planted(
            Some(c),
            "lo-1",
            &ip(3),
            None,
            &home("lo-1"),
            at(9, 9, 0),
            None,
            true,
        );
        b.planted(
            None,
            "lo-2",
            &ip(4),
            None,
            &home("lo-2"),
            at(14, 9, 0),
            None,
            true,
        );

        // off-hours: a Saturday, a Tuesday evening; Wednesday 17:59 is in hours.
        let c = b.case("off-hours", "oh-1");
        b.planted(
            Some(c),
            "oh-1",
            &ip(5),
            None,
            &home("oh-1"),
            at(12, 10, 0),
            Some(30 * MIN),
            true,
        );
        let c = b.case("off-hours", "oh-2");
        b.planted(
            Some(c),
            "oh-2",
            &ip(6),
            None,
            &home("oh-2"),
            at(8, 19, 30),
            Some(20 * MIN),
            true,
        );
        b.planted(
            None,
            "oh-2",
            &ip(6),
            None,
            &home("oh-2"),
            at(9, 17, 59),
            Some(MIN),
            true,
        );

        // shared-credential: three users of one credential; two of another are not.
        let c = b.case("shared-credential", "shared-root@db-prod");
        for (k, user) in ["sc-1", "sc-2", "sc-3"].into_iter().enumerate() {
            b.planted(
                Some(c),
                user,
                &ip(7 + k as u32),
                Some("shared-root@db-prod"),
                "db-prod.corp:5432",
                at(8, 13, 30 * k as u64),
                Some(10 * MIN),
                true,
            );
        }
        for (k, user) in ["sc-4", "sc-5"].into_iter().enumerate() {
            b.planted(
                None,
                user,
                &ip(10 + k as u32),
                Some("pair-cred"),
                "db-test.corp:5432",
                at(8, 15, 30 * k as u64),
                Some(10 * MIN),
                true,
            );
        }

        // concurrent-origins: overlapping sessions from two addresses; sessions that
        // only touch, or overlap from one address, are not found.
        let c = b.case("concurrent-origins", "co-1");
        b.planted(
            Some(c),
            "co-1",
            "198.51.100.7",
            None,
            &home("co-1"),
            at(9, 10, 0),
            Some(HOUR),
            true,
        );
        b.planted(
            Some(c),
            "co-1",
            "203.0.113.9",
            None,
            "jump.corp:22",
            at(9, 10, 30),
            Some(15 * MIN),
            true,
        );
        b.planted(
            None,
            "co-2",
            "198.51.100.8",
            None,
            &home("co-2"),
            at(9, 10, 0),
            Some(30 * MIN),
            true,
        );
        b.planted(
            None,
            "co-2",
            "203.0.113.10",
            None,
            "jump.corp:22",
            at(9, 10, 30),
            Some(20 * MIN),
            true,
        );
        b.planted(
            None,
            "co-3",
            "198.51.100.9",
            None,
            &home("co-3"),
            at(9, 10, 0),
            Some(HOUR),
            true,
        );
        b.planted(
            None,
            "co-3",
            "198.51.100.9",
            None,
            "jump.corp:22",
            at(9, 10, 30),
            Some(15 * MIN),
            true,
        );

        // device-sweep: 20 distinct devices in under two hours; 19 are not enough.
        let c = b.case("device-sweep", "ds-1");
        for k in 0..20u64 {
            let device = format!("node-{k:02}.corp:22");
            b.planted(
                Some(c),
                "ds-1",
                &ip(20),
                None,
                &device,
                at(10, 9, 0) + k * 5 * MIN,
                Some(3 * MIN),
                true,
            );
        }
        for k in 0..19u64 {
            let device = format!("node-{k:02}.corp:22");
            b.planted(
                None,
                "ds-2",
                &ip(21),
                None,
                &device,
                at(10, 9, 0) + k * 5 * MIN,
                Some(3 * MIN),
                true,
            );
        }

        // Week 1: every planted user from each of its addresses, so far.
        let known = std::mem::take(&mut b.baseline_ips);
        for (k, (user, addr)) in known.iter().enumerate() {
            b.planted(
                None,
                user,
                addr,
                None,
                &home(user),
                at(0, 12, 0) + k as u64 * 2 * MIN,
                Some(MIN),
                true,
            );
        }

        // new-origin: seen from 10.200.30.1 in week 1, from 10.200.30.2 in week 2.
        b.planted(
            None,
            "no-1",
            &ip(30),
            None,
            &home("no-1"),
            at(1, 12, 0),
            Some(10 * MIN),
            true,
        );
        let c = b.case("new-origin", "no-1");
        b.planted(
            Some(c),
            "no-1",
            "10.200.30.2",
            None,
            &home("no-1"),
            at(9, 14, 0),
            Some(10 * MIN),
            true,
        );

        let Builder {
            mut specs, cases, ..
        } = b;
        specs.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.user.cmp(&b.user)));
        let mut planted: Vec<PlantedCase> = cases
            .into_iter()
            .map(|(rule, subject)| PlantedCase {
                rule,
                subject,
                sessions: Vec::new(),
            })
            .collect();
        let mut body = Vec::new();
        write_ok_prefix(&mut body, "Segura");
        body.extend_from_slice(b"\"remote_sessions\":[");
        for (i, s) in specs.iter().enumerate() {
            let id = 100 + 2 * i as u64;
            if let Some(c) = s.case {
                planted[c].sessions.push(id);
            }
            if i > 0 {
                body.push(b',');
            }
            write_session(&mut body, id, s);
        }
        body.extend_from_slice(b"]}");
        AuditScenario {
            body,
            cases: planted,
            sessions: specs.len() as u64,
        }
    }

    /// The list body, as the list endpoint sends it.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// How many sessions the body holds.
    pub fn sessions(&self) -> u64 {
        self.sessions
    }

    /// The cases an audit with the default rules must find, and nothing else: over
    /// the whole list without a baseline (`with_baseline` false), or over week 2 with
    /// week 1 as the baseline (true; the `new-origin` case is then found too).
    pub fn planted(&self, with_baseline: bool) -> Vec<PlantedCase> {
        self.cases
            .iter()
            .filter(|c| with_baseline || c.rule != "new-origin")
            .cloned()
            .collect()
    }

    /// "Now" for the audit: Monday 2024-03-18 12:00:00.
    pub const NOW: &'static str = "2024-03-18 12:00:00";
    /// The start of the baseline window (week 1).
    pub const BASELINE_FROM: &'static str = "2024-03-04 00:00:00";
    /// The start of the audited window (week 2).
    pub const WINDOW_FROM: &'static str = "2024-03-11 00:00:00";
}

fn write_session(out: &mut Vec<u8>, id: u64, s: &Spec) {
    out.extend_from_slice(b"{\"id\":\"");
    push_u64(out, id);
    out.extend_from_slice(b"\",\"user\":");
    write_json_string(out, &s.user);
    out.extend_from_slice(b",\"origin_ip\":");
    write_json_string(out, &s.ip);
    out.extend_from_slice(b",\"credential\":");
    write_json_string(out, &s.credential);
    out.extend_from_slice(b",\"device\":");
    write_json_string(out, &s.device);
    out.extend_from_slice(b",\"protocol\":");
    write_json_string(out, s.protocol);
    out.extend_from_slice(b",\"proxy\":\"SSH Proxy\",\"session_id\":\"");
    push_hex_u64(out, mix(id ^ 0x000a_0d17));
    push_hex_u64(out, mix(id ^ 0x0b0b));
    push_hex_u64(out, mix(id) >> 32 << 32);
    out.truncate(out.len() - 8);
    out.extend_from_slice(b"\",\"start\":\"");
    push_datetime(out, s.start);
    match s.duration {
        Some(d) => {
            out.extend_from_slice(b"\",\"end\":\"");
            push_datetime(out, s.start + d);
            out.extend_from_slice(b"\",\"time\":\"");
            push_duration(out, d);
            out.extend_from_slice(b"\",");
        }
        None => out.extend_from_slice(b"\",\"end\":null,\"time\":null,"),
    }
    out.extend_from_slice(b"\"prevent_purge\":\"No\",\"request\":");
    match &s.request {
        Some(r) => write_json_string(out, r),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"ITSM\":");
    match &s.itsm {
        Some(r) => write_json_string(out, r),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}
