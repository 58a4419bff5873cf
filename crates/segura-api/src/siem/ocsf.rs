//! OCSF records: one JSON object per line, `metadata.version`
//! [`segura_model::siem::OCSF_VERSION`] with the `host` profile (for `actor`): SSH
//! Activity (4007) for `ssh`, RDP Activity (4005) for `rdp`, Network Activity (4001)
//! for any other protocol; what the class has no attribute for is under `unmapped`.

use std::borrow::Cow;

use segura_model::siem::{OCSF_PROFILES, OCSF_VERSION, PRODUCT, VENDOR};
use segura_model::Protocol;
use serde::Serialize;

use super::{
    non_empty, parse_device, parse_host, protocol_name, write_json, Context, Event, EventKind,
    Times,
};

/// The OCSF class of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// SSH Activity (4007).
    Ssh,
    /// RDP Activity (4005).
    Rdp,
    /// Network Activity (4001).
    Network,
}

impl Class {
    /// The class of a session with this protocol.
    pub fn of(protocol: Option<&Protocol>) -> Class {
        match protocol {
            Some(Protocol::Ssh) => Class::Ssh,
            Some(Protocol::Rdp) => Class::Rdp,
            _ => Class::Network,
        }
    }

    /// `class_uid`.
    pub fn uid(self) -> u32 {
        match self {
            Class::Ssh => 4007,
            Class::Rdp => 4005,
            Class::Network => 4001,
        }
    }

    /// `class_name`.
    pub fn name(self) -> &'static str {
        match self {
            Class::Ssh => "SSH Activity",
            Class::Rdp => "RDP Activity",
            Class::Network => "Network Activity",
        }
    }

    /// `activity_id` and `activity_name` of an event: the class's own open and close
    /// activities, Other (99) for a vanished session.
    pub fn activity(self, kind: EventKind, ended: bool) -> (u32, &'static str) {
        let close = match kind {
            EventKind::Vanished => return (99, "Other"),
            EventKind::Started => false,
            EventKind::Ended => true,
            EventKind::Listed => ended,
        };
        match (self, close) {
            (Class::Rdp, false) => (4, "Connect Response"),
            (Class::Rdp, true) => (7, "Disconnect"),
            (_, false) => (1, "Open"),
            (_, true) => (2, "Close"),
        }
    }
}

#[derive(Serialize)]
struct Record<'a> {
    activity_id: u32,
    activity_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    class_uid: u32,
    class_name: &'static str,
    type_uid: u32,
    type_name: String,
    severity_id: u32,
    severity: &'static str,
    /// Epoch milliseconds, like every time here.
    time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<i64>,
    /// Milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<u64>,
    metadata: Metadata<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<Actor<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<User<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_endpoint: Option<Endpoint<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dst_endpoint: Option<Endpoint<'a>>,
    unmapped: Unmapped<'a>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    version: &'static str,
    profiles: &'static [&'static str],
    product: Product,
    uid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_uid: Option<&'a str>,
}

#[derive(Serialize)]
struct Product {
    name: &'static str,
    vendor_name: &'static str,
}

#[derive(Serialize)]
struct Actor<'a> {
    user: User<'a>,
}

#[derive(Serialize)]
struct User<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Endpoint<'a> {
    /// `unknown` when no endpoint is known: OCSF requires one (see [`write`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
}

#[derive(Serialize)]
struct Unmapped<'a> {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proxy: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    itsm: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prevent_purge: Option<bool>,
}

/// An endpoint with an IP address or a host name (OCSF requires one of them).
fn endpoint(e: super::Endpoint<'_>) -> Option<Endpoint<'_>> {
    non_empty(e.host)?;
    Some(Endpoint {
        name: None,
        ip: e.ip.map(|ip| ip.to_string()),
        hostname: e.ip.is_none().then_some(e.host),
        port: e.port,
    })
}

/// Appends the OCSF record of `event` to `out` (one line, no line break).
///
/// The classes require a source or a destination endpoint: when neither `device` nor
/// `origin_ip` is known (a vanished session this process never listed, or both empty),
/// `dst_endpoint` is `{"name": "unknown"}`.
pub fn write(event: &Event<'_>, ctx: &Context, out: &mut Vec<u8>) {
    let times = Times::of(event, &ctx.zone);
    let s = event.session;
    let class = Class::of(s.map(|s| &s.protocol));
    let (activity_id, activity_name) = class.activity(event.kind, event.ended());
    let credential = s.and_then(|s| non_empty(&s.credential));
    let src_endpoint = s.and_then(|s| endpoint(parse_host(&s.origin_ip)));
    let mut dst_endpoint = s.and_then(|s| endpoint(parse_device(&s.device)));
    if src_endpoint.is_none() && dst_endpoint.is_none() {
        dst_endpoint = Some(Endpoint {
            name: Some("unknown"),
            ip: None,
            hostname: None,
            port: None,
        });
    }
    let record = Record {
        activity_id,
        activity_name,
        category_uid: 4,
        category_name: "Network Activity",
        class_uid: class.uid(),
        class_name: class.name(),
        type_uid: class.uid() * 100 + activity_id,
        type_name: format!("{}: {activity_name}", class.name()),
        severity_id: 1,
        severity: "Informational",
        time: times.at.timestamp_millis(),
        start_time: times.start.map(|t| t.timestamp_millis()),
        end_time: times.end.map(|t| t.timestamp_millis()),
        duration: times.duration_ms,
        metadata: Metadata {
            version: OCSF_VERSION,
            profiles: OCSF_PROFILES,
            product: Product {
                name: PRODUCT,
                vendor_name: VENDOR,
            },
            uid: event.event_id(),
            correlation_uid: s.and_then(|s| non_empty(s.session_id.as_str())),
        },
        actor: s.and_then(|s| non_empty(&s.user)).map(|name| Actor {
            user: User { name },
        }),
        user: credential
            .filter(|_| class == Class::Rdp)
            .map(|name| User { name }),
        src_endpoint,
        dst_endpoint,
        unmapped: Unmapped {
            id: event.id.to_string(),
            protocol: s.map(protocol_name).filter(|p| !p.is_empty()),
            credential: credential.filter(|_| class != Class::Rdp),
            proxy: s.and_then(|s| non_empty(s.proxy.as_str())),
            request: s.and_then(|s| s.request.as_deref()),
            itsm: s.and_then(|s| s.itsm.as_deref()),
            prevent_purge: s.map(|s| s.prevent_purge),
        },
    };
    write_json(&record, out);
}
