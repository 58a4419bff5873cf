//! Where each part of a session goes in the three SIEM formats (ECS, OCSF, CEF), as
//! data: the one table from which `docs/siem.md` is generated and against which the
//! serializers of `segura_api::siem` are tested (every key they write is in it, and
//! every key in it is written by one of them).

/// The Elastic Common Schema version the ECS records declare in `ecs.version`.
pub const ECS_VERSION: &str = "9.3.0";

/// The OCSF schema version the OCSF records declare in `metadata.version`.
pub const OCSF_VERSION: &str = "1.6.0";

/// The OCSF profiles the records declare in `metadata.profiles`: `host` brings the
/// `actor` attribute that holds the PAM user.
pub const OCSF_PROFILES: &[&str] = &["host"];

/// The vendor named in every record (`observer.vendor`, `metadata.product.vendor_name`,
/// the CEF header's Device Vendor).
pub const VENDOR: &str = "Segura";

/// The product named in every record (`observer.product`, `metadata.product.name`, the
/// CEF header's Device Product).
pub const PRODUCT: &str = "PAM Core";

/// One row of the mapping: a part of a session (or of the event) and the keys that hold
/// it in each format.
///
/// The ECS and OCSF keys are dotted paths of the JSON record; a CEF entry is an
/// extension key, or `header NAME` for a field of the CEF header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SiemMapping {
    /// What is mapped: a session field (`user`) or something derived from one.
    pub source: &'static str,
    /// The ECS keys.
    pub ecs: &'static [&'static str],
    /// The OCSF keys.
    pub ocsf: &'static [&'static str],
    /// The CEF extension keys (or `header NAME`).
    pub cef: &'static [&'static str],
    /// How the value is written, where it is not copied as it is.
    pub note: &'static str,
}

/// The mapping, in the order of `docs/siem.md`.
pub const SIEM_MAPPINGS: &[SiemMapping] = &[
    SiemMapping {
        source: "the event",
        ecs: &["event.kind", "event.category", "event.type", "event.action"],
        ocsf: &[
            "activity_id",
            "activity_name",
            "type_uid",
            "type_name",
            "category_uid",
            "category_name",
            "severity_id",
            "severity",
        ],
        cef: &["header Signature ID", "header Name", "header Severity"],
        note: "ECS: kind `event`, category `[\"session\"]`, type `[\"start\"]` (started), \
               `[\"end\"]` (ended), `[\"info\"]` (listed, vanished), action `session-started`, \
               `session-ended`, `session-vanished`, `session-listed`. OCSF: the class's open \
               activity (SSH and Network Activity: Open 1; RDP Activity: Connect Response 4) \
               for a started session, its close activity (Close 2; Disconnect 7) for an ended \
               one, Other (99) for a vanished one; a listed session is opened or closed as it \
               stands; `type_uid` = class × 100 + activity; category 4 Network Activity; \
               severity 1 Informational. CEF: the ECS action as signature id, `Session started` \
               and so on as name, severity 1.",
    },
    SiemMapping {
        source: "event id",
        ecs: &["event.id"],
        ocsf: &["metadata.uid"],
        cef: &[],
        note: "`HASH-started`, `HASH-ended`, `HASH-vanished`, `HASH-listed-open` or \
               `HASH-listed-ended` from the session hash (`id-ID-…` when only the numeric id \
               is known): the same event always has the same id, so a receiver can drop \
               the copies that an at-least-once delivery sends.",
    },
    SiemMapping {
        source: "event time",
        ecs: &["@timestamp"],
        ocsf: &["time"],
        cef: &["rt"],
        note: "`start` for a started session, `end` for an ended one, the time `watch` \
               observed a vanished one; a listed session: `end`, or `start` while open.",
    },
    SiemMapping {
        source: "`start`",
        ecs: &["event.start"],
        ocsf: &["start_time"],
        cef: &["start"],
        note: "Appliance time read in the appliance's zone (`--tz`): RFC 3339 with the \
               offset in ECS, epoch milliseconds in OCSF and CEF.",
    },
    SiemMapping {
        source: "`end`",
        ecs: &["event.end"],
        ocsf: &["end_time"],
        cef: &["end"],
        note: "As `start`; absent while the session is open.",
    },
    SiemMapping {
        source: "`time`",
        ecs: &["event.duration"],
        ocsf: &["duration"],
        cef: &["cn1", "cn1Label"],
        note: "The recorded duration (else `end` − `start`): nanoseconds in ECS, \
               milliseconds in OCSF, seconds in CEF (`cn1Label=duration`); absent while open.",
    },
    SiemMapping {
        source: "`user`",
        ecs: &["user.name", "related.user"],
        ocsf: &["actor.user.name"],
        cef: &["suser"],
        note: "The PAM user who opened the session.",
    },
    SiemMapping {
        source: "`credential`",
        ecs: &["segura.session.credential", "related.user"],
        ocsf: &["user.name", "unmapped.credential"],
        cef: &["duser"],
        note: "OCSF: `user.name` on RDP Activity (the class with a `user`), \
               `unmapped.credential` on the others.",
    },
    SiemMapping {
        source: "`origin_ip`",
        ecs: &["source.address", "source.ip", "related.ip"],
        ocsf: &["src_endpoint.ip", "src_endpoint.hostname"],
        cef: &["src", "shost"],
        note: "An IP address goes to the IP keys (`source.ip`, `src_endpoint.ip`, `src`), \
               anything else to `source.address`, `src_endpoint.hostname` and `shost`.",
    },
    SiemMapping {
        source: "`device` host",
        ecs: &[
            "destination.address",
            "destination.ip",
            "destination.domain",
            "related.ip",
        ],
        ocsf: &[
            "dst_endpoint.ip",
            "dst_endpoint.hostname",
            "dst_endpoint.name",
        ],
        cef: &["dst", "dhost"],
        note: "`device` without its port (`10.66.33.15:3389`, `[2001:db8::1]:22`, `db-01`): \
               an IP address goes to `destination.ip`, `dst_endpoint.ip` and `dst`, a name to \
               `destination.domain`, `dst_endpoint.hostname` and `dhost`. OCSF requires an \
               endpoint: with neither a device nor an origin known, `dst_endpoint.name` is \
               `unknown`.",
    },
    SiemMapping {
        source: "`device` port",
        ecs: &["destination.port"],
        ocsf: &["dst_endpoint.port"],
        cef: &["dpt"],
        note: "When `device` has one.",
    },
    SiemMapping {
        source: "`protocol`",
        ecs: &["network.protocol"],
        ocsf: &["class_uid", "class_name", "unmapped.protocol"],
        cef: &["app"],
        note: "Lower case. OCSF: `ssh` is SSH Activity (4007), `rdp` RDP Activity (4005), \
               anything else Network Activity (4001).",
    },
    SiemMapping {
        source: "`session_id`",
        ecs: &["segura.session.session_id"],
        ocsf: &["metadata.correlation_uid"],
        cef: &["externalId"],
        note: "The 40-hex session hash, which ties the events of one session together.",
    },
    SiemMapping {
        source: "`id`",
        ecs: &["segura.session.id"],
        ocsf: &["unmapped.id"],
        cef: &["cs4", "cs4Label"],
        note: "The numeric id, as a string (`cs4Label=id`).",
    },
    SiemMapping {
        source: "`proxy`",
        ecs: &["segura.session.proxy"],
        ocsf: &["unmapped.proxy"],
        cef: &["cs1", "cs1Label"],
        note: "`cs1Label=proxy`.",
    },
    SiemMapping {
        source: "`request`",
        ecs: &["segura.session.request"],
        ocsf: &["unmapped.request"],
        cef: &["cs2", "cs2Label"],
        note: "`cs2Label=request`; absent when null.",
    },
    SiemMapping {
        source: "`ITSM`",
        ecs: &["segura.session.itsm"],
        ocsf: &["unmapped.itsm"],
        cef: &["cs3", "cs3Label"],
        note: "`cs3Label=ITSM`; absent when null.",
    },
    SiemMapping {
        source: "`prevent_purge`",
        ecs: &["segura.session.prevent_purge"],
        ocsf: &["unmapped.prevent_purge"],
        cef: &[],
        note: "A boolean.",
    },
    SiemMapping {
        source: "schema and product",
        ecs: &["ecs.version", "observer.vendor", "observer.product"],
        ocsf: &[
            "metadata.version",
            "metadata.profiles",
            "metadata.product.name",
            "metadata.product.vendor_name",
        ],
        cef: &[
            "header Version",
            "header Device Vendor",
            "header Device Product",
            "header Device Version",
        ],
        note: "ECS 9.3.0; OCSF 1.6.0 with the `host` profile; CEF version 0. Vendor \
               `Segura`, product `PAM Core`; the CEF Device Version is the version of \
               `segura` that wrote the record (the API does not tell the appliance's).",
    },
];
