//! The deterministic session generator.
//!
//! Session `i` of seed `s` is a pure function of `(s, i)`: it depends on no
//! other session, on no clock and on no dependency's random number generator
//! (the generator carries its own splitmix64), so a given seed yields the same
//! bytes on every machine and with every version of the dependencies.
//!
//! Sessions are written straight into byte buffers as compact JSON, with the
//! 14 documented keys in the documented order, escaped exactly as
//! `serde_json::to_string` (and `jq -c`) would print them.
//!
//! ```
//! use segura_mock::generator::{Generator, write_list_body};
//!
//! let generator = Generator::new(7);
//! let mut one = Vec::new();
//! generator.session_json(0, &mut one);
//! assert!(one.starts_with(b"{\"id\":\""));
//!
//! let mut body = Vec::new();
//! let written = write_list_body(&mut body, 7, 3).unwrap();
//! assert_eq!(written, body.len() as u64);
//! ```

pub mod audit;

use std::collections::HashSet;
use std::io::{self, Write};
use std::sync::Arc;

/// The first session starts at 2023-01-02 08:00:00 (appliance local time).
const BASE_EPOCH: u64 = 1_672_646_400;
/// Session `i` starts somewhere in `[BASE + i * STEP, BASE + (i + 1) * STEP)`,
/// which keeps `start` strictly increasing without looking at other sessions.
const START_STEP: u64 = 60;
/// Session `i` has an `id` in `[ID_STEP * i + 1, ID_STEP * (i + 1)]`: increasing,
/// with gaps, and invertible.
const ID_STEP: u64 = 3;
/// Sessions beyond this index are never looked up: ids, starts and ends stay
/// far from overflowing (2^40 sessions would be a 370 TB list).
const MAX_INDEX: u64 = 1 << 40;
/// Size of the batches [`write_list_body`] hands to its writer.
const BATCH_BYTES: usize = 64 * 1024;

/// The splitmix64 finaliser: a bijection on `u64`.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Multiplicative inverse modulo 2^64 of an odd number (Newton's iteration).
const fn mod_inverse(a: u64) -> u64 {
    let mut x = a;
    let mut n = 0;
    while n < 6 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
        n += 1;
    }
    x
}

const INV_M1: u64 = mod_inverse(0xbf58_476d_1ce4_e5b9);
const INV_M2: u64 = mod_inverse(0x94d0_49bb_1331_11eb);

/// The inverse of [`mix`]: lets a `session_id` be mapped back to its index.
const fn unmix(mut z: u64) -> u64 {
    z ^= (z >> 31) ^ (z >> 62);
    z = z.wrapping_mul(INV_M2);
    z ^= (z >> 27) ^ (z >> 54);
    z = z.wrapping_mul(INV_M1);
    z ^ (z >> 30) ^ (z >> 60)
}

/// A splitmix64 stream: tiny, fast, and fixed forever, unlike a dependency's
/// generator whose output may change between versions.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// A value in `0..n` (the tiny modulo bias does not matter here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Appends `s` as a JSON string literal, escaped exactly as serde_json's
/// compact serializer does: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other
/// control characters as `\u00XX` (lowercase hex), everything else raw UTF-8.
pub(crate) fn write_json_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => &[],
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Two ASCII digits for every number below 100.
static DIGITS2: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// Two lowercase hex digits for every byte.
static HEX2: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 0xf]];
        i += 1;
    }
    t
};

fn push2(out: &mut Vec<u8>, n: u64) {
    // Callers pass values below 100.
    out.extend_from_slice(&DIGITS2[(n % 100) as usize]);
}

fn push_u64(out: &mut Vec<u8>, n: u64) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(n).as_bytes());
}

/// Lowercase hex without leading zeros (an IPv6 group).
fn push_hex_group(out: &mut Vec<u8>, n: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut started = false;
    for shift in [12u32, 8, 4, 0] {
        let d = (n >> shift) & 0xf;
        if d != 0 || started || shift == 0 {
            out.push(HEX[usize::from(d)]);
            started = true;
        }
    }
}

fn push_hex_u64(out: &mut Vec<u8>, n: u64) {
    for b in n.to_be_bytes() {
        out.extend_from_slice(&HEX2[usize::from(b)]);
    }
}

/// `YYYY-MM-DD HH:MM:SS` for a count of seconds since 1970-01-01 00:00:00.
fn push_datetime(out: &mut Vec<u8>, epoch_secs: u64) {
    let days = epoch_secs / 86_400;
    let secs = epoch_secs % 86_400;
    // Howard Hinnant's civil_from_days, for days >= 0.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    push2(out, year / 100);
    push2(out, year % 100);
    out.push(b'-');
    push2(out, month);
    out.push(b'-');
    push2(out, day);
    out.push(b' ');
    push2(out, secs / 3600);
    out.push(b':');
    push2(out, secs / 60 % 60);
    out.push(b':');
    push2(out, secs % 60);
}

/// `HH:MM:SS`, hours zero-padded to at least two digits and unbounded.
fn push_duration(out: &mut Vec<u8>, secs: u64) {
    let hours = secs / 3600;
    if hours < 100 {
        push2(out, hours);
    } else {
        push_u64(out, hours);
    }
    out.push(b':');
    push2(out, secs / 60 % 60);
    out.push(b':');
    push2(out, secs % 60);
}

/// Pre-encoded JSON string literals (quotes included), so the hot loop only
/// copies bytes.
#[derive(Debug, Clone)]
struct Pool(Vec<Box<[u8]>>);

impl Pool {
    fn new(values: &[&str]) -> Self {
        Pool(
            values
                .iter()
                .map(|v| {
                    let mut out = Vec::with_capacity(v.len() + 2);
                    write_json_string(&mut out, v);
                    out.into_boxed_slice()
                })
                .collect(),
        )
    }

    fn pick(&self, r: u64) -> &[u8] {
        &self.0[(r % self.0.len() as u64) as usize]
    }
}

const USERS_COMMON: &[&str] = &[
    "Admin",
    "admin",
    "jdoe",
    "maria.silva",
    "joao.souza",
    "ana.pereira",
    "carlos.oliveira",
    "fernanda.lima",
    "pedro.santos",
    "luciana.costa",
    "rafael.almeida",
    "juliana.rocha",
    "marcos.ribeiro",
    "patricia.gomes",
    "bruno.carvalho",
    "camila.martins",
    "svc_ansible",
    "svc_backup",
    "j.smith",
    "a.johnson",
    "m.garcia",
    "l.chen",
    "k.tanaka",
    "r.kumar",
    "e.dubois",
    "t.nguyen",
    "s.okafor",
    "operator01",
    "auditor",
    "helpdesk.n1",
];

const USERS_UNICODE: &[&str] = &[
    "José Antônio",
    "João Conceição",
    "Zoë Ångström",
    "François Lefèvre",
    "Łukasz Wójcik",
    "Øyvind Næss",
    "Jürgen Müller",
    "Ñandú Peña",
    "山田太郎",
    "李小龙",
    "김민준",
    "Παπαδόπουλος",
    "Дмитрий Иванов",
    "محمد علي",
    "deploy 🚀",
    "sep\u{2028}arator",
];

const USERS_ESCAPED: &[&str] = &[
    "jane \"jd\" doe",
    "CORP\\jdoe",
    "ops\\svc\\runner",
    "line1\nline2",
    "tab\tuser",
    "ctl\u{1}char",
    "bell\u{7}ring",
    "cr\rlf",
    "back\u{8}space",
    "form\u{c}feed",
    "esc\u{1b}[0m",
    "nul\u{0}byte",
    "unit\u{1f}sep",
    "path/with/slash",
    "all \"\\\n\t\u{1} at once",
];

const CREDENTIALS: &[&str] = &[
    "root",
    "administrator",
    "Administrator",
    "usrdomadm01",
    "usrsudonopass",
    "postgres",
    "sa",
    "oracle",
    "ec2-user",
    "ubuntu",
    "svc_backup",
    "dba_admin",
    "CORP\\Administrator",
    "cisco",
    "admin",
    "sys",
    "mysql_admin",
    "contábil",
    "管理者",
    "local \"break-glass\"",
];

const HOSTS: &[&str] = &[
    "srv-web-01.corp.example.com",
    "srv-app-02.corp.example.com",
    "db01.corp.local",
    "dc01.corp.local",
    "fw-edge-01",
    "sw-core-02",
    "jump01.example.net",
    "ERP-PRD-01",
    "files.example.org",
    "k8s-master-1.lab",
    "estação-07.filial.local",
    "intranet.example.com",
];

const REQUESTS: &[&str] = &[
    "Manutenção programada",
    "Emergency access: incident \"P1\"",
    "Deploy release 4.2",
    "Auditoria trimestral",
    "Troubleshooting\tDNS",
];

const PROTOCOLS: &[(&str, u16, u64)] = &[
    // (name, default port, weight out of 100)
    ("rdp", 3389, 28),
    ("ssh", 22, 32),
    ("https", 443, 10),
    ("http", 80, 3),
    ("telnet", 23, 3),
    ("vnc", 5900, 4),
    ("mysql", 3306, 6),
    ("postgresql", 5432, 5),
    ("sqlserver", 1433, 5),
    ("oracle", 1521, 4),
];

const WEB: &str = "Web Proxy";
const RDP: &str = "RDP Proxy";
const TERMINAL: &str = "Terminal Proxy";
const DATABASE: &str = "Database Proxy";
const TUNNEL: &str = "SSH Tunneling";
const GO: &str = "senhasegura.go";

/// The numbers of one session that more than one field depends on.
#[derive(Debug, Clone, Copy)]
struct Shape {
    id: u64,
    start: u64,
    duration: u64,
    open: bool,
}

/// The deterministic session generator for one seed.
///
/// Cheap to share (`Arc`) and to call from many threads: generating a session
/// only reads the generator.
#[derive(Debug, Clone)]
pub struct Generator {
    seed: u64,
    base: u64,
    hash_key: u64,
    stream_key: u64,
    users_common: Pool,
    users_unicode: Pool,
    users_escaped: Pool,
    credentials: Pool,
    hosts: Pool,
    requests: Pool,
    protocols: Pool,
}

impl Generator {
    /// A generator for `seed`. Two generators with the same seed produce the
    /// same sessions, byte for byte.
    pub fn new(seed: u64) -> Self {
        let names: Vec<&str> = PROTOCOLS.iter().map(|p| p.0).collect();
        Generator {
            seed,
            base: BASE_EPOCH,
            hash_key: mix(seed ^ 0x5e67_a5e6_0000_0001),
            stream_key: mix(seed ^ 0x5e67_a5e6_0000_0002),
            users_common: Pool::new(USERS_COMMON),
            users_unicode: Pool::new(USERS_UNICODE),
            users_escaped: Pool::new(USERS_ESCAPED),
            credentials: Pool::new(CREDENTIALS),
            hosts: Pool::new(HOSTS),
            requests: Pool::new(REQUESTS),
            protocols: Pool::new(&names),
        }
    }

    /// The seed this generator was made with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn stream(&self, index: u64) -> SplitMix64 {
        SplitMix64(
            self.stream_key
                .wrapping_add(index.wrapping_mul(0xd1b5_4a32_d192_ed03)),
        )
    }

    /// The numeric `id` of session `index` (0-based position in the list).
    /// Ids increase with the index and have gaps.
    pub fn id(&self, index: u64) -> u64 {
        let mut r = self.stream(index);
        ID_STEP
            .wrapping_mul(index)
            .wrapping_add(1 + r.below(ID_STEP))
    }

    /// The position of the session whose numeric `id` is `id`, if any session
    /// (of any position) has it. The caller checks the position against the
    /// current session count.
    pub fn index_of_id(&self, id: u64) -> Option<u64> {
        let index = id.checked_sub(1)? / ID_STEP;
        (index < MAX_INDEX && self.id(index) == id).then_some(index)
    }

    fn hash_prefix(&self, index: u64) -> u64 {
        mix(index.wrapping_add(self.hash_key))
    }

    /// The 40-hex `session_id` of session `index`; unique per session.
    pub fn session_hash(&self, index: u64) -> String {
        let mut out = Vec::with_capacity(40);
        let mut r = self.stream(index);
        let _ = self.shape_from(index, &mut r);
        self.push_hash(index, &mut out, &mut r);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The position of the session whose `session_id` is `hash` (40 hex
    /// digits, either case), if any. The caller checks the position against
    /// the current session count.
    pub fn index_of_hash(&self, hash: &str) -> Option<u64> {
        if hash.len() != 40 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let prefix = u64::from_str_radix(&hash[..16], 16).ok()?;
        let index = unmix(prefix).wrapping_sub(self.hash_key);
        if index >= MAX_INDEX {
            return None;
        }
        self.session_hash(index)
            .eq_ignore_ascii_case(hash)
            .then_some(index)
    }

    /// Whether session `index` is still open (no `end`, no `time`) unless the
    /// server ended it.
    pub fn is_open(&self, index: u64) -> bool {
        self.shape(index).open
    }

    /// Draws in a fixed order; `shape` and `write` must draw identically.
    fn shape(&self, index: u64) -> Shape {
        let mut r = self.stream(index);
        self.shape_from(index, &mut r)
    }

    /// The same sessions, shifted so that session 0 starts within the minute after
    /// `local_epoch_secs`: the appliance's clock reading, in seconds since
    /// 1970-01-01 00:00:00 of that clock (what a zone's local time reads, not UTC).
    pub fn starting_at(mut self, local_epoch_secs: u64) -> Self {
        self.base = local_epoch_secs;
        self
    }

    fn shape_from(&self, index: u64, r: &mut SplitMix64) -> Shape {
        // Indexes anywhere near overflowing these are never served (see
        // MAX_INDEX); wrapping keeps stray lookups from panicking.
        let id = ID_STEP
            .wrapping_mul(index)
            .wrapping_add(1 + r.below(ID_STEP));
        let start = START_STEP
            .wrapping_mul(index)
            .wrapping_add(self.base + r.below(START_STEP));
        let bucket = r.below(1000);
        let d = r.next();
        let duration = match bucket {
            0..=19 => d % 5,
            20..=599 => 5 + d % 1800,
            600..=849 => 1800 + d % 12_600,
            850..=949 => 14_400 + d % 72_000,
            950..=994 => 86_400 + d % 273_600,
            _ => 360_000 + d % 1_080_000,
        };
        let open = r.below(100) < 6;
        Shape {
            id,
            start,
            duration,
            open,
        }
    }

    /// Writes the 40-hex hash; `r` must have drawn the shape already.
    fn push_hash(&self, index: u64, out: &mut Vec<u8>, r: &mut SplitMix64) {
        push_hex_u64(out, self.hash_prefix(index));
        push_hex_u64(out, r.next());
        let tail = r.next().to_be_bytes();
        for b in &tail[..4] {
            out.extend_from_slice(&HEX2[usize::from(*b)]);
        }
    }

    /// Appends session `index` to `out` as one compact JSON object, as the
    /// list endpoint sends it before any session is ended by the server.
    pub fn session_json(&self, index: u64, out: &mut Vec<u8>) {
        self.write_session(index, false, out);
    }

    /// Appends session `index`; `ended` closes it if it was open (it then gets
    /// its `end` and `time`).
    pub(crate) fn write_session(&self, index: u64, ended: bool, out: &mut Vec<u8>) {
        let mut r = self.stream(index);
        let shape = self.shape_from(index, &mut r);
        let hash_hi = r.next();
        let hash_lo = r.next();

        out.extend_from_slice(b"{\"id\":\"");
        push_u64(out, shape.id);

        out.extend_from_slice(b"\",\"user\":");
        let u = r.next();
        let user = match u % 100 {
            0..=79 => self.users_common.pick(u >> 8),
            80..=93 => self.users_unicode.pick(u >> 8),
            _ => self.users_escaped.pick(u >> 8),
        };
        out.extend_from_slice(user);

        out.extend_from_slice(b",\"origin_ip\":\"");
        let o = r.next();
        let o2 = r.next();
        match o % 100 {
            0..=39 => {
                out.extend_from_slice(b"172.16.");
                push_u64(out, (o >> 8) % 32);
                out.push(b'.');
                push_u64(out, 1 + (o >> 16) % 254);
            }
            40..=64 => {
                out.extend_from_slice(b"10.");
                push_u64(out, (o >> 8) % 256);
                out.push(b'.');
                push_u64(out, (o >> 16) % 256);
                out.push(b'.');
                push_u64(out, 1 + (o >> 24) % 254);
            }
            65..=79 => {
                out.extend_from_slice(b"192.168.");
                push_u64(out, (o >> 8) % 256);
                out.push(b'.');
                push_u64(out, 1 + (o >> 16) % 254);
            }
            80..=84 => {
                out.extend_from_slice(b"203.0.113.");
                push_u64(out, 1 + (o >> 8) % 254);
            }
            85..=94 => {
                out.extend_from_slice(b"2001:db8:");
                push_hex_group(out, (o2 >> 16) as u16);
                out.push(b':');
                push_hex_group(out, (o2 >> 32) as u16);
                out.extend_from_slice(b"::");
                push_hex_group(out, (o2 >> 48) as u16 | 1);
            }
            95..=98 => {
                out.extend_from_slice(b"fe80::");
                push_hex_group(out, (o2 >> 16) as u16 | 0x200);
                out.push(b':');
                push_hex_group(out, (o2 >> 32) as u16);
                out.push(b':');
                push_hex_group(out, (o2 >> 48) as u16);
                out.push(b':');
                push_hex_group(out, o2 as u16);
            }
            _ => out.extend_from_slice(b"::1"),
        }
        out.push(b'"');

        out.extend_from_slice(b",\"credential\":");
        out.extend_from_slice(self.credentials.pick(r.next()));

        // Protocol before device: the device's port follows the protocol.
        let p = r.below(100);
        let mut acc = 0;
        let mut proto = 0;
        for (k, (_, _, weight)) in PROTOCOLS.iter().enumerate() {
            acc += weight;
            if p < acc {
                proto = k;
                break;
            }
        }
        let (proto_name, default_port, _) = PROTOCOLS[proto];
        let dv = r.next();
        let port = if dv % 10 == 0 {
            match proto_name {
                "ssh" => 2222,
                "https" => 8443,
                "http" => 8080,
                "rdp" => 13389,
                _ => default_port + 1,
            }
        } else {
            default_port
        };
        out.extend_from_slice(b",\"device\":");
        let sub = dv >> 8;
        match (dv >> 4) % 100 {
            0..=14 => out.extend_from_slice(self.hosts.pick(sub)),
            15..=39 => {
                let host = self.hosts.pick(sub);
                out.extend_from_slice(&host[..host.len() - 1]);
                out.push(b':');
                push_u64(out, u64::from(port));
                out.push(b'"');
            }
            40..=79 => {
                out.extend_from_slice(b"\"10.66.");
                push_u64(out, (sub >> 8) % 256);
                out.push(b'.');
                push_u64(out, 1 + (sub >> 16) % 254);
                out.push(b':');
                push_u64(out, u64::from(port));
                out.push(b'"');
            }
            80..=84 => {
                out.extend_from_slice(b"\"10.66.");
                push_u64(out, (sub >> 8) % 256);
                out.push(b'.');
                push_u64(out, 1 + (sub >> 16) % 254);
                out.push(b'"');
            }
            85..=95 => {
                out.extend_from_slice(b"\"[2001:db8:66::");
                push_hex_group(out, (sub >> 8) as u16 | 1);
                out.extend_from_slice(b"]:");
                push_u64(out, u64::from(port));
                out.push(b'"');
            }
            _ => {
                out.extend_from_slice(b"\"fd00:66::");
                push_hex_group(out, (sub >> 8) as u16 | 1);
                out.push(b'"');
            }
        }

        out.extend_from_slice(b",\"protocol\":");
        out.extend_from_slice(&self.protocols.0[proto]);

        let x = r.below(100);
        let proxy = match proto_name {
            "rdp" => match x {
                0..=49 => RDP,
                50..=94 => WEB,
                _ => GO,
            },
            "ssh" => match x {
                0..=44 => TERMINAL,
                45..=79 => WEB,
                80..=94 => TUNNEL,
                _ => GO,
            },
            "telnet" => match x {
                0..=69 => TERMINAL,
                _ => WEB,
            },
            "mysql" | "postgresql" | "sqlserver" | "oracle" => match x {
                0..=79 => DATABASE,
                _ => WEB,
            },
            _ => WEB,
        };
        out.extend_from_slice(b",\"proxy\":\"");
        out.extend_from_slice(proxy.as_bytes());

        out.extend_from_slice(b"\",\"session_id\":\"");
        push_hex_u64(out, self.hash_prefix(index));
        push_hex_u64(out, hash_hi);
        for b in &hash_lo.to_be_bytes()[..4] {
            out.extend_from_slice(&HEX2[usize::from(*b)]);
        }

        out.extend_from_slice(b"\",\"start\":\"");
        push_datetime(out, shape.start);
        if shape.open && !ended {
            out.extend_from_slice(b"\",\"end\":null,\"time\":null,\"prevent_purge\":\"");
        } else {
            out.extend_from_slice(b"\",\"end\":\"");
            push_datetime(out, shape.start + shape.duration);
            out.extend_from_slice(b"\",\"time\":\"");
            push_duration(out, shape.duration);
            out.extend_from_slice(b"\",\"prevent_purge\":\"");
        }
        let f = r.next();
        out.extend_from_slice(if f % 10 == 0 { b"Yes" } else { b"No" });

        out.extend_from_slice(b"\",\"request\":");
        let q = r.next();
        if q % 100 < 12 {
            if q % 3 == 0 {
                out.extend_from_slice(self.requests.pick(q >> 8));
            } else {
                out.extend_from_slice(b"\"REQ-");
                push_u64(out, 100_000 + (q >> 8) % 900_000);
                out.push(b'"');
            }
        } else {
            out.extend_from_slice(b"null");
        }

        out.extend_from_slice(b",\"ITSM\":");
        let t = r.next();
        if t % 100 < 8 {
            let prefix: &[u8] = match (t >> 8) % 3 {
                0 => b"\"INC",
                1 => b"\"CHG",
                _ => b"\"RITM",
            };
            out.extend_from_slice(prefix);
            push_u64(out, 1_000_000 + (t >> 16) % 9_000_000);
            out.extend_from_slice(b"\"}");
        } else {
            out.extend_from_slice(b"null}");
        }
    }
}

/// Which sessions the server has ended since it started (drop, or
/// `end_open_sessions`), as seen by one response.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Ended {
    /// Every open session with an index below this is ended.
    pub(crate) below: u64,
    /// Individually ended sessions.
    pub(crate) indexes: Arc<HashSet<u64>>,
}

impl Ended {
    pub(crate) fn contains(&self, index: u64) -> bool {
        index < self.below || (!self.indexes.is_empty() && self.indexes.contains(&index))
    }
}

/// The compact `{"code":200,"response":{...},"tenant":...,` prefix shared by
/// successful bodies, up to and including the comma after the tenant.
pub(crate) fn write_ok_prefix(out: &mut Vec<u8>, tenant: &str) {
    out.extend_from_slice(
        b"{\"code\":200,\"response\":{\"status\":200,\"message\":\"\",\"error\":false,\
\"error_code\":0,\"detail\":\"\",\"mensagem\":\"\",\"erro\":false,\"cod_erro\":0},\"tenant\":",
    );
    write_json_string(out, tenant);
    out.push(b',');
}

/// Produces a list body piece by piece, so that it can be streamed.
#[derive(Debug)]
pub(crate) struct ListSource {
    generator: Arc<Generator>,
    tenant: String,
    ended: Ended,
    next: u64,
    /// Index after the last session to write.
    stop: u64,
    /// Whether `]}` closes the body (false when the body is cut on purpose).
    close: bool,
    started: bool,
    finished: bool,
    /// The nested form: one inner envelope holds the sessions.
    nested: bool,
}

impl ListSource {
    /// Writes the nested form the vendor documents for 3.33: an outer envelope (without
    /// `tenant`, as on the vendor's page) whose `remote_sessions` holds one inner
    /// envelope whose own `remote_sessions` holds the sessions.
    pub(crate) fn nested(mut self, nested: bool) -> Self {
        self.nested = nested;
        self
    }

    /// A full list of `count` sessions, or the first `cut` of them and no
    /// closing `]}` when `cut` is set.
    pub(crate) fn new(
        generator: Arc<Generator>,
        tenant: &str,
        count: u64,
        ended: Ended,
        cut: Option<u64>,
    ) -> Self {
        ListSource {
            generator,
            tenant: tenant.to_owned(),
            ended,
            next: 0,
            stop: cut.map_or(count, |c| c.min(count)),
            close: cut.is_none(),
            started: false,
            finished: false,
            nested: false,
        }
    }

    /// Appends the next piece: the head, then sessions until `out` holds
    /// about `target_bytes` or `max_sessions` were added, then the tail.
    /// Returns the number of sessions appended, or `None` once finished.
    pub(crate) fn fill(
        &mut self,
        out: &mut Vec<u8>,
        target_bytes: usize,
        max_sessions: u64,
    ) -> Option<u64> {
        if self.finished {
            return None;
        }
        if !self.started {
            self.started = true;
            if self.nested {
                out.extend_from_slice(
                    b"{\"code\":200,\"response\":{\"status\":200,\"message\":\"\",\"error\":false,\
\"error_code\":0,\"detail\":\"\",\"mensagem\":\"\",\"erro\":false,\"cod_erro\":0},\"remote_sessions\":[",
                );
            }
            write_ok_prefix(out, &self.tenant);
            out.extend_from_slice(b"\"remote_sessions\":[");
        }
        let mut n = 0;
        while self.next < self.stop && n < max_sessions && out.len() < target_bytes {
            if self.next > 0 {
                out.push(b',');
            }
            let ended = self.ended.contains(self.next);
            self.generator.write_session(self.next, ended, out);
            self.next += 1;
            n += 1;
        }
        if self.next >= self.stop {
            self.finished = true;
            if self.close {
                out.extend_from_slice(if self.nested { b"]}]}" } else { b"]}" });
            }
        }
        Some(n)
    }
}

/// Writes a complete list body of `count` sessions of `seed` to `w`, exactly
/// as the server sends it (with tenant `Segura` and no session ended by the
/// server), in batches of about 64 KiB. Returns the number of bytes written.
///
/// The body is `{"code":200,"response":{...},"tenant":"Segura","remote_sessions":[...]}`
/// in compact JSON, each session as [`Generator::session_json`] writes it.
pub fn write_list_body(mut w: impl Write, seed: u64, count: u64) -> io::Result<u64> {
    let mut source = ListSource::new(
        Arc::new(Generator::new(seed)),
        "Segura",
        count,
        Ended::default(),
        None,
    );
    let mut buf = Vec::with_capacity(BATCH_BYTES + 4096);
    let mut written = 0u64;
    while source.fill(&mut buf, BATCH_BYTES, u64::MAX).is_some() {
        w.write_all(&buf)?;
        written += buf.len() as u64;
        buf.clear();
    }
    w.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmix_inverts_mix() {
        for x in [0u64, 1, 2, 42, u64::MAX, 0xdead_beef, 1 << 63] {
            assert_eq!(unmix(mix(x)), x);
            assert_eq!(mix(unmix(x)), x);
        }
    }

    #[test]
    fn escaping_matches_serde_json() {
        let mut samples: Vec<String> = USERS_COMMON
            .iter()
            .chain(USERS_UNICODE)
            .chain(USERS_ESCAPED)
            .chain(CREDENTIALS)
            .chain(HOSTS)
            .chain(REQUESTS)
            .map(|s| (*s).to_owned())
            .collect();
        samples.push((0u8..0x7f).map(char::from).collect());
        samples.push("é\u{10ffff}\u{2029}/".to_owned());
        for s in samples {
            let mut out = Vec::new();
            write_json_string(&mut out, &s);
            let expected = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(String::from_utf8_lossy(&out), expected, "{s:?}");
        }
    }

    #[test]
    fn ids_and_hashes_map_back_to_their_index() {
        let g = Generator::new(99);
        let mut hashes = HashSet::new();
        let mut last_id = 0;
        for i in 0..2000 {
            let id = g.id(i);
            assert!(id > last_id);
            last_id = id;
            assert_eq!(g.index_of_id(id), Some(i));
            let hash = g.session_hash(i);
            assert_eq!(g.index_of_hash(&hash), Some(i));
            assert_eq!(g.index_of_hash(&hash.to_ascii_uppercase()), Some(i));
            assert!(hashes.insert(hash));
        }
        for stray in [
            "0123456789abcdef0123456789abcdef01234567",
            "ffffffffffffffffffffffffffffffffffffffff",
            "0000000000000000000000000000000000000000",
            "not hex",
        ] {
            assert_eq!(g.index_of_hash(stray), None);
        }
        assert_eq!(g.index_of_id(0), None);
        assert_eq!(g.index_of_id(u64::MAX), None);
    }

    #[test]
    fn sessions_are_a_pure_function_of_seed_and_index() {
        let (a, b) = (Generator::new(5), Generator::new(5));
        let (mut x, mut y) = (Vec::new(), Vec::new());
        a.session_json(123_456, &mut x);
        for i in [7, 123_456] {
            y.clear();
            b.session_json(i, &mut y);
        }
        assert_eq!(x, y);
        let mut other = Vec::new();
        Generator::new(6).session_json(123_456, &mut other);
        assert_ne!(x, other);
    }

    #[test]
    fn starting_at_shifts_only_the_times() {
        // 2024-05-06 16:00:00 on the appliance's clock.
        let g = Generator::new(5).starting_at(1_715_011_200);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        g.session_json(0, &mut x);
        Generator::new(5).session_json(0, &mut y);
        let x = String::from_utf8(x).unwrap();
        let y = String::from_utf8(y).unwrap();
        assert!(x.contains("\"start\":\"2024-05-06 16:00:"), "{x}");
        assert_eq!(x.split("\"start\"").next(), y.split("\"start\"").next());
    }

    #[test]
    fn never_emits_del() {
        let g = Generator::new(3);
        let mut out = Vec::new();
        for i in 0..5000 {
            g.session_json(i, &mut out);
        }
        assert!(!out.contains(&0x7f));
    }

    #[test]
    fn dates_and_durations() {
        let mut out = Vec::new();
        push_datetime(&mut out, 1_714_997_107);
        assert_eq!(out, b"2024-05-06 12:05:07");
        out.clear();
        push_datetime(&mut out, 951_782_400); // leap day
        assert_eq!(out, b"2000-02-29 00:00:00");
        out.clear();
        push_duration(&mut out, 172);
        assert_eq!(out, b"00:02:52");
        out.clear();
        push_duration(&mut out, 90_061);
        assert_eq!(out, b"25:01:01");
        out.clear();
        push_duration(&mut out, 360_000);
        assert_eq!(out, b"100:00:00");
    }

    #[test]
    fn ipv6_groups_drop_leading_zeros() {
        let mut out = Vec::new();
        push_hex_group(&mut out, 0x0db8);
        out.push(b':');
        push_hex_group(&mut out, 0);
        assert_eq!(out, b"db8:0");
    }

    #[test]
    fn list_source_cut_has_no_tail() {
        let g = Arc::new(Generator::new(1));
        let mut src = ListSource::new(g, "Segura", 10, Ended::default(), Some(2));
        let mut out = Vec::new();
        while src.fill(&mut out, 1 << 20, u64::MAX).is_some() {}
        assert!(out.ends_with(b"}"));
        assert!(!out.ends_with(b"]}"));
        assert_eq!(out.iter().filter(|&&b| b == b'[').count(), 1);
    }
}
