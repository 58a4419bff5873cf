//! Elastic Common Schema records: one JSON object per line, `ecs.version`
//! [`segura_model::siem::ECS_VERSION`]; what ECS has no field for is under
//! `segura.session`.

use std::borrow::Cow;

use segura_model::siem::{ECS_VERSION, PRODUCT, VENDOR};
use serde::Serialize;

use super::{
    non_empty, parse_device, parse_host, protocol_name, write_json, Context, Event, EventKind,
    Times,
};
use crate::time::format_rfc3339;

#[derive(Serialize)]
struct Record<'a> {
    #[serde(rename = "@timestamp")]
    timestamp: String,
    ecs: Ecs,
    event: EcsEvent,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<Name<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Address<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<Address<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network: Option<Network<'a>>,
    observer: Observer,
    #[serde(skip_serializing_if = "Related::is_empty")]
    related: Related<'a>,
    segura: Segura<'a>,
}

#[derive(Serialize)]
struct Ecs {
    version: &'static str,
}

#[derive(Serialize)]
struct EcsEvent {
    kind: &'static str,
    category: [&'static str; 1],
    #[serde(rename = "type")]
    kind_type: [&'static str; 1],
    action: &'static str,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<String>,
    /// Nanoseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<u64>,
}

#[derive(Serialize)]
struct Name<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Address<'a> {
    address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
}

#[derive(Serialize)]
struct Network<'a> {
    protocol: Cow<'a, str>,
}

#[derive(Serialize)]
struct Observer {
    vendor: &'static str,
    product: &'static str,
}

#[derive(Serialize)]
struct Related<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    user: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ip: Vec<String>,
}

impl Related<'_> {
    fn is_empty(&self) -> bool {
        self.user.is_empty() && self.ip.is_empty()
    }
}

#[derive(Serialize)]
struct Segura<'a> {
    session: SeguraSession<'a>,
}

#[derive(Serialize)]
struct SeguraSession<'a> {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
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

/// The ECS `event.type` of an event.
fn event_type(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Started => "start",
        EventKind::Ended => "end",
        EventKind::Listed | EventKind::Vanished => "info",
    }
}

/// Appends the ECS record of `event` to `out` (one line, no line break).
pub fn write(event: &Event<'_>, ctx: &Context, out: &mut Vec<u8>) {
    let times = Times::of(event, &ctx.zone);
    let s = event.session;
    let mut related = Related {
        user: Vec::new(),
        ip: Vec::new(),
    };
    let source = s.and_then(|s| non_empty(s.origin_ip.trim())).map(|o| {
        let e = parse_host(o);
        if let Some(ip) = e.ip {
            related.ip.push(ip.to_string());
        }
        Address {
            address: e.host,
            ip: e.ip.map(|ip| ip.to_string()),
            domain: None,
            port: None,
        }
    });
    let destination = s.map(|s| parse_device(&s.device)).and_then(|e| {
        non_empty(e.host)?;
        if let Some(ip) = e.ip {
            let text = ip.to_string();
            if !related.ip.contains(&text) {
                related.ip.push(text);
            }
        }
        Some(Address {
            address: e.host,
            ip: e.ip.map(|ip| ip.to_string()),
            domain: e.ip.is_none().then_some(e.host),
            port: e.port,
        })
    });
    if let Some(s) = s {
        for name in [s.user.as_str(), s.credential.as_str()] {
            if !name.is_empty() && !related.user.contains(&name) {
                related.user.push(name);
            }
        }
    }
    let record = Record {
        timestamp: format_rfc3339(&times.at),
        ecs: Ecs {
            version: ECS_VERSION,
        },
        event: EcsEvent {
            kind: "event",
            category: ["session"],
            kind_type: [event_type(event.kind)],
            action: event.kind.action(),
            id: event.event_id(),
            start: times.start.as_ref().map(format_rfc3339),
            end: times.end.as_ref().map(format_rfc3339),
            duration: times.duration_ms.map(|ms| ms.saturating_mul(1_000_000)),
        },
        user: s.and_then(|s| non_empty(&s.user)).map(|name| Name { name }),
        source,
        destination,
        network: s
            .map(protocol_name)
            .filter(|p| !p.is_empty())
            .map(|protocol| Network { protocol }),
        observer: Observer {
            vendor: VENDOR,
            product: PRODUCT,
        },
        related,
        segura: Segura {
            session: SeguraSession {
                id: event.id.to_string(),
                session_id: s.and_then(|s| non_empty(s.session_id.as_str())),
                credential: s.and_then(|s| non_empty(&s.credential)),
                proxy: s.and_then(|s| non_empty(s.proxy.as_str())),
                request: s.and_then(|s| s.request.as_deref()),
                itsm: s.and_then(|s| s.itsm.as_deref()),
                prevent_purge: s.map(|s| s.prevent_purge),
            },
        },
    };
    write_json(&record, out);
}
