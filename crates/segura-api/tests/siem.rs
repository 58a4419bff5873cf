//! The SIEM records of `segura_api::siem`, checked by independent validators
//! (`tests/siem/validators.rs`): the pinned OCSF 1.6.0 JSON Schemas, the pinned ECS
//! 9.3.0 field definitions, and a CEF parser written from the specification. Every
//! session of the corpus carries hostile text; every record must stay one line, free of
//! anything a terminal obeys, and give the values back.

#[path = "../../../tests/siem/validators.rs"]
mod validators;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use segura_api::siem::{self, Context, Event, EventKind, Format};
use segura_api::text::needs_escape;
use segura_api::ApplianceZone;
use segura_model::siem::SIEM_MAPPINGS;
use segura_model::{parse_datetime, RemoteSession, SessionDuration, SessionHash, SessionId};
use serde_json::json;
use validators::{check_ecs, leaves, parse_cef, validate_ocsf};

const HASH: &str = "e7acacb6aedbab70073456da5744166939b77527";

/// Text that tries every way out of a field: CEF's separators and escapes, JSON's
/// quotes, line breaks, terminal sequences, C1 controls, bidirectional overrides, line
/// separators, and text in other scripts.
const HOSTILE: &[&str] = &[
    "a=b|c\\d\ne",
    "x\" y=z \\n \\= |",
    "\r\nCEF:0|forged|x|1|2|3|10|",
    "\u{1b}]0;pwned\u{7}\u{1b}[2J",
    "\u{9b}31m\u{7f}\u{202e}txt\u{2028}\u{2029}\u{200f}",
    "李小龙 José 🚀\t tab",
    " lead and trail ",
];

fn zone() -> ApplianceZone {
    "America/Sao_Paulo".parse().unwrap()
}

fn ctx() -> Context {
    Context::new(zone())
}

fn observed() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-05-06T20:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn base(id: u64, protocol: &str, device: &str, ended: bool) -> RemoteSession {
    let mut s = RemoteSession::new(
        SessionId::new(id),
        SessionHash::from_wire(HASH),
        parse_datetime("2024-05-06 16:05:07").unwrap(),
    );
    s.user = "Admin".into();
    s.origin_ip = "172.16.20.125".into();
    s.credential = "usrdomadm01".into();
    s.device = device.into();
    s.protocol = protocol.into();
    s.proxy = "Web Proxy".into();
    if ended {
        s.end = Some(parse_datetime("2024-05-06 16:07:59").unwrap());
        s.time = Some(SessionDuration::from_secs(172));
    }
    s.request = Some("REQ-1".into());
    s.itsm = Some("INC-7".into());
    s
}

/// Sessions of every class, device shape and state, and one per hostile text in every
/// text field.
fn corpus() -> Vec<RemoteSession> {
    let mut out = vec![
        base(3, "rdp", "10.66.33.15:3389", true),
        base(4, "ssh", "db-01.example.com:22", false),
        base(5, "https", "[2001:db8::1]:443", true),
        base(6, "Kerberos-X", "2001:db8::2", false),
        base(7, "ssh", "", true),
    ];
    let mut bare = RemoteSession::new(
        SessionId::new(8),
        SessionHash::from_wire(""),
        parse_datetime("2024-05-06 16:05:07").unwrap(),
    );
    bare.origin_ip = "not an ip".into();
    out.push(bare);
    for (n, text) in HOSTILE.iter().enumerate() {
        for protocol in ["rdp", "ssh", "telnet"] {
            let mut s = base(100 + n as u64, protocol, text, n % 2 == 0);
            s.user = (*text).into();
            s.origin_ip = (*text).into();
            s.credential = (*text).into();
            s.proxy = (*text).into();
            s.session_id = SessionHash::from_wire(*text);
            s.request = Some((*text).into());
            s.itsm = Some((*text).into());
            out.push(s);
        }
    }
    out
}

/// Every event a session can be in.
fn events(s: &RemoteSession) -> Vec<Event<'_>> {
    let mut kinds = vec![EventKind::Listed, EventKind::Started, EventKind::Vanished];
    if s.end.is_some() {
        kinds.push(EventKind::Ended);
    }
    let mut out: Vec<Event<'_>> = kinds
        .into_iter()
        .map(|k| Event::of(k, s, observed()))
        .collect();
    out.push(Event {
        kind: EventKind::Vanished,
        id: s.id,
        session: None,
        observed_at: observed(),
    });
    out
}

fn line(format: Format, e: &Event<'_>) -> String {
    let mut out = Vec::new();
    siem::render(format, e, &ctx(), &mut out);
    let text = String::from_utf8(out).expect("UTF-8");
    // One line, and nothing a terminal obeys.
    if let Some(c) = text.chars().find(|c| needs_escape(*c) && *c != '\t') {
        panic!("raw {c:?} in {text:?}");
    }
    text
}

#[test]
fn ocsf_records_validate_against_the_pinned_schemas() {
    let mut classes = BTreeSet::new();
    for s in corpus() {
        for e in events(&s) {
            let v = validate_ocsf(&line(Format::Ocsf, &e));
            classes.insert(v["class_uid"].as_u64().unwrap());
            let class = v["class_uid"].as_u64().unwrap();
            let activity = v["activity_id"].as_u64().unwrap();
            assert_eq!(v["type_uid"].as_u64().unwrap(), class * 100 + activity);
            assert_eq!(v["category_uid"], 4);
            assert_eq!(v["severity_id"], 1);
            // Values come back exactly.
            if let Some(s) = e.session {
                if !s.user.is_empty() {
                    assert_eq!(v["actor"]["user"]["name"], s.user.as_str());
                }
                assert_eq!(v["unmapped"]["request"].as_str(), s.request.as_deref());
            }
        }
    }
    assert_eq!(classes, BTreeSet::from([4001, 4005, 4007]));
}

#[test]
fn an_ocsf_record_in_detail() {
    let s = base(3, "rdp", "10.66.33.15:3389", true);
    let v = validate_ocsf(&line(
        Format::Ocsf,
        &Event::of(EventKind::Ended, &s, observed()),
    ));
    assert_eq!(
        v,
        json!({
            "activity_id": 7, "activity_name": "Disconnect",
            "category_uid": 4, "category_name": "Network Activity",
            "class_uid": 4005, "class_name": "RDP Activity",
            "type_uid": 400507, "type_name": "RDP Activity: Disconnect",
            "severity_id": 1, "severity": "Informational",
            // 2024-05-06 16:07:59 in Sao Paulo (-03:00).
            "time": 1_715_022_479_000_i64, "start_time": 1_715_022_307_000_i64,
            "end_time": 1_715_022_479_000_i64, "duration": 172_000,
            "metadata": {"version": "1.6.0", "profiles": ["host"],
                "product": {"name": "PAM Core", "vendor_name": "Segura"},
                "uid": format!("{HASH}-ended"), "correlation_uid": HASH},
            "actor": {"user": {"name": "Admin"}},
            "user": {"name": "usrdomadm01"},
            "src_endpoint": {"ip": "172.16.20.125"},
            "dst_endpoint": {"ip": "10.66.33.15", "port": 3389},
            "unmapped": {"id": "3", "protocol": "rdp", "proxy": "Web Proxy",
                "request": "REQ-1", "itsm": "INC-7", "prevent_purge": false}
        })
    );
    // SSH: the open activity, the credential under unmapped, a host name.
    let s = base(4, "ssh", "db-01.example.com:22", false);
    let v = validate_ocsf(&line(
        Format::Ocsf,
        &Event::of(EventKind::Started, &s, observed()),
    ));
    assert_eq!(
        (v["class_uid"].clone(), v["activity_id"].clone()),
        (json!(4007), json!(1))
    );
    assert_eq!(
        v["dst_endpoint"],
        json!({"hostname": "db-01.example.com", "port": 22})
    );
    assert_eq!(v["unmapped"]["credential"], "usrdomadm01");
    assert!(v.get("user").is_none() && v.get("end_time").is_none());
    // A listed session: open or closed as it stands; vanished: Other.
    let listed = |s: &RemoteSession| {
        validate_ocsf(&line(
            Format::Ocsf,
            &Event::of(EventKind::Listed, s, observed()),
        ))["activity_id"]
            .clone()
    };
    assert_eq!(listed(&base(3, "rdp", "h", true)), json!(7));
    assert_eq!(listed(&base(3, "rdp", "h", false)), json!(4));
    assert_eq!(listed(&base(3, "https", "h", true)), json!(2));
    let v = validate_ocsf(&line(
        Format::Ocsf,
        &Event::of(EventKind::Vanished, &s, observed()),
    ));
    assert_eq!(
        (v["activity_id"].clone(), v["type_uid"].clone()),
        (json!(99), json!(400799))
    );
    assert_eq!(v["time"], 1_715_025_600_000_i64);
}

#[test]
fn ecs_records_use_ecs_fields_with_their_types() {
    for s in corpus() {
        for e in events(&s) {
            let v = check_ecs(&line(Format::Ecs, &e));
            if let Some(s) = e.session {
                if !s.user.is_empty() {
                    assert_eq!(v["user"]["name"], s.user.as_str());
                }
                assert_eq!(v["segura"]["session"]["itsm"].as_str(), s.itsm.as_deref());
            }
        }
    }
}

#[test]
fn an_ecs_record_in_detail() {
    let s = base(3, "rdp", "10.66.33.15:3389", true);
    let v = check_ecs(&line(
        Format::Ecs,
        &Event::of(EventKind::Ended, &s, observed()),
    ));
    assert_eq!(
        v,
        json!({
            "@timestamp": "2024-05-06T16:07:59-03:00",
            "ecs": {"version": "9.3.0"},
            "event": {"kind": "event", "category": ["session"], "type": ["end"],
                "action": "session-ended", "id": format!("{HASH}-ended"),
                "start": "2024-05-06T16:05:07-03:00", "end": "2024-05-06T16:07:59-03:00",
                "duration": 172_000_000_000_u64},
            "user": {"name": "Admin"},
            "source": {"address": "172.16.20.125", "ip": "172.16.20.125"},
            "destination": {"address": "10.66.33.15", "ip": "10.66.33.15", "port": 3389},
            "network": {"protocol": "rdp"},
            "observer": {"vendor": "Segura", "product": "PAM Core"},
            "related": {"user": ["Admin", "usrdomadm01"], "ip": ["172.16.20.125", "10.66.33.15"]},
            "segura": {"session": {"id": "3", "session_id": HASH, "credential": "usrdomadm01",
                "proxy": "Web Proxy", "request": "REQ-1", "itsm": "INC-7", "prevent_purge": false}}
        })
    );
    let s = base(6, "Kerberos-X", "db-01:5432", false);
    let v = check_ecs(&line(
        Format::Ecs,
        &Event::of(EventKind::Started, &s, observed()),
    ));
    assert_eq!(v["event"]["type"], json!(["start"]));
    assert_eq!(v["@timestamp"], "2024-05-06T16:05:07-03:00");
    assert_eq!(v["network"]["protocol"], "kerberos-x");
    assert_eq!(
        v["destination"],
        json!({"address": "db-01", "domain": "db-01", "port": 5432})
    );
    assert!(v["event"].get("end").is_none() && v["event"].get("duration").is_none());
    let v = check_ecs(&line(
        Format::Ecs,
        &Event::of(EventKind::Listed, &s, observed()),
    ));
    assert_eq!(
        (v["event"]["type"].clone(), v["event"]["id"].clone()),
        (json!(["info"]), json!(format!("{HASH}-listed-open")))
    );
}

#[test]
fn event_ids_are_stable_and_unique_per_session_and_event() {
    let s = base(3, "rdp", "h", true);
    let mut ids = BTreeSet::new();
    for e in events(&s) {
        let a = check_ecs(&line(Format::Ecs, &e))["event"]["id"].clone();
        let b = check_ecs(&line(Format::Ecs, &e))["event"]["id"].clone();
        assert_eq!(a, b, "the same event has the same id");
        let o = validate_ocsf(&line(Format::Ocsf, &e));
        assert_eq!(o["metadata"]["uid"], a, "ECS and OCSF agree");
        ids.insert(a.as_str().unwrap().to_owned());
    }
    assert_eq!(
        ids,
        BTreeSet::from([
            format!("{HASH}-listed-ended"),
            format!("{HASH}-started"),
            format!("{HASH}-ended"),
            format!("{HASH}-vanished"),
            "id-3-vanished".to_owned(),
        ])
    );
}

/// The value a CEF reader gets for a text: exact, but for characters CEF has no escape
/// for, which come as `\u{hex}` text.
fn cef_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if needs_escape(c) && !matches!(c, '\n' | '\r' | '\t') {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_hostile_user_name_round_trips_through_an_independent_cef_parser() {
    let mut s = base(3, "rdp", "10.66.33.15:3389", true);
    s.user = "a=b|c\\d\nx".into();
    let text = line(Format::Cef, &Event::of(EventKind::Started, &s, observed()));
    assert!(text.contains("suser=a\\=b|c\\\\d\\nx "), "{text}");
    let cef = parse_cef(&text).unwrap();
    assert_eq!(
        cef.header,
        [
            "0",
            "Segura",
            "PAM Core",
            env!("CARGO_PKG_VERSION"),
            "session-started",
            "Session started",
            "1"
        ]
    );
    assert_eq!(cef.get("suser"), Some("a=b|c\\d\nx"));
    let keys: Vec<&str> = cef.extension.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "rt",
            "start",
            "end",
            "suser",
            "src",
            "duser",
            "dst",
            "dpt",
            "app",
            "externalId",
            "cn1",
            "cn1Label",
            "cs1",
            "cs1Label",
            "cs2",
            "cs2Label",
            "cs3",
            "cs3Label",
            "cs4",
            "cs4Label"
        ]
    );
    assert_eq!(cef.get("rt"), Some("1715022307000"));
    assert_eq!(cef.get("end"), Some("1715022479000"));
    assert_eq!(cef.get("dst"), Some("10.66.33.15"));
    assert_eq!(cef.get("dpt"), Some("3389"));
    assert_eq!(cef.get("cn1"), Some("172"));
    assert_eq!(cef.get("cn1Label"), Some("duration"));
    assert_eq!(cef.get("externalId"), Some(HASH));
    assert_eq!(cef.get("cs4"), Some("3"));
}

#[test]
fn every_cef_field_keeps_hostile_values_in_place() {
    for s in corpus() {
        for e in events(&s) {
            let text = line(Format::Cef, &e);
            let cef = parse_cef(&text).unwrap_or_else(|err| panic!("{err}: {text}"));
            assert_eq!(cef.header.len(), 7);
            assert_eq!(cef.header[4], e.kind.action());
            let Some(s) = e.session else {
                assert_eq!(cef.get("cs4"), Some(s.id.to_string().as_str()));
                continue;
            };
            let name = |v: &str| (!v.is_empty()).then(|| cef_text(v));
            assert_eq!(cef.get("suser").map(str::to_owned), name(&s.user), "{text}");
            assert_eq!(
                cef.get("duser").map(str::to_owned),
                name(&s.credential),
                "{text}"
            );
            assert_eq!(
                cef.get("cs1").map(str::to_owned),
                name(s.proxy.as_str()),
                "{text}"
            );
            assert_eq!(
                cef.get("cs2").map(str::to_owned),
                s.request.as_deref().map(cef_text)
            );
            assert_eq!(
                cef.get("cs3").map(str::to_owned),
                s.itsm.as_deref().map(cef_text)
            );
            assert_eq!(
                cef.get("externalId").map(str::to_owned),
                name(s.session_id.as_str())
            );
            // The origin and the device: an address, or the host text (trimmed).
            let origin = cef.get("src").or(cef.get("shost")).map(str::to_owned);
            assert_eq!(origin, name(s.origin_ip.trim()), "{text}");
            // No key appears twice: nothing forged a key of its own.
            let mut keys: Vec<&str> = cef.extension.iter().map(|(k, _)| k.as_str()).collect();
            let n = keys.len();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), n, "{text}");
        }
    }
}

#[test]
fn the_parser_refuses_what_the_specification_does_not_allow() {
    for bad in [
        "CEF:0|a|b|c|d|e|1|suser=a=b",
        "CEF:0|a|b|c|d|e|1|suser=a\\xb",
        "CEF:0|a|b|c|d|e|1|suser=a\nb",
        "CEF:0|a|b\\x|c|d|e|1|",
        "CEF:0|a|b|c|d|e|",
        "LEEF:0|a|b|c|d|e|1|",
    ] {
        assert!(parse_cef(bad).is_err(), "{bad:?}");
    }
    let ok = parse_cef("CEF:0|a\\|b|c\\\\|1|sig|name|1|k=v w\\=x y=z\\n").unwrap();
    assert_eq!(ok.header[1], "a|b");
    assert_eq!(ok.header[2], "c\\");
    assert_eq!(ok.get("k"), Some("v w=x"));
    assert_eq!(ok.get("y"), Some("z\n"));
}

/// Every key the serializers write is in the mapping table of `segura-model` (the
/// source of `docs/siem.md`), and every key of the table is written by some event.
#[test]
fn the_mapping_table_and_the_serializers_agree() {
    let (mut ecs, mut ocsf, mut cef) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for s in corpus() {
        for e in events(&s) {
            let v: serde_json::Value = serde_json::from_str(&line(Format::Ecs, &e)).unwrap();
            ecs.extend(leaves(&v).into_keys());
            let v: serde_json::Value = serde_json::from_str(&line(Format::Ocsf, &e)).unwrap();
            ocsf.extend(leaves(&v).into_keys());
            let c = parse_cef(&line(Format::Cef, &e)).unwrap();
            cef.extend(c.extension.into_iter().map(|(k, _)| k));
        }
    }
    let table = |pick: fn(&segura_model::siem::SiemMapping) -> &'static [&'static str]| {
        SIEM_MAPPINGS
            .iter()
            .flat_map(|m| pick(m).iter())
            .filter(|k| !k.starts_with("header "))
            .map(|k| (*k).to_owned())
            .collect::<BTreeSet<String>>()
    };
    assert_eq!(ecs, table(|m| m.ecs));
    assert_eq!(ocsf, table(|m| m.ocsf));
    assert_eq!(cef, table(|m| m.cef));
}
