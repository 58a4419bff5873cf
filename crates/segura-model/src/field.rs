//! The 14 documented session fields as data: names, legacy aliases, wire types and
//! descriptions (the source of the generated schema and reference table), and the
//! canonical text of each field's value (the source of every output format).

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDateTime;
use serde::{Serialize, Serializer};

use crate::time::{format_datetime, SessionDuration};

/// One of the 14 documented fields of a remote session, in documentation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `id`: numeric id, a string of digits on the wire.
    Id,
    /// `user`: the PAM user who opened the session.
    User,
    /// `origin_ip`: the user's IP address.
    OriginIp,
    /// `credential`: the credential (account) used.
    Credential,
    /// `device`: the target host or IP, with the port when known.
    Device,
    /// `protocol`: `rdp`, `ssh`, `https`, ...
    Protocol,
    /// `proxy`: `Web Proxy`, `RDP Proxy`, `Terminal Proxy`, ...
    Proxy,
    /// `session_id`: the 40-hex hash used to drop the session.
    SessionId,
    /// `start`: start date-time.
    Start,
    /// `end`: end date-time, null while the session is open.
    End,
    /// `time`: recorded duration, `HH:MM:SS`.
    Time,
    /// `prevent_purge`: `Yes` or `No`.
    PreventPurge,
    /// `request`: the access request made by the user.
    Request,
    /// `ITSM`: the ITSM ticket code (upper-case key).
    Itsm,
}

/// Documentation of one field, as this project understands the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldInfo {
    /// The key on the wire.
    pub name: &'static str,
    /// Other keys accepted for it when decoding (older server versions).
    pub aliases: &'static [&'static str],
    /// The JSON type in the canonical form: always `string`; see `nullable`.
    pub json_type: &'static str,
    /// Whether the canonical form may hold `null`.
    pub nullable: bool,
    /// Whether a session without it is rejected.
    pub required: bool,
    /// A regular expression the canonical text matches, where it has a fixed shape.
    pub pattern: Option<&'static str>,
    /// One line: what the field means.
    pub description: &'static str,
    /// What the decoder tolerates beyond the canonical form.
    pub tolerance: &'static str,
    /// An example value in canonical form.
    pub example: &'static str,
}

const DATETIME_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$";

const INFOS: [FieldInfo; 14] = [
    FieldInfo {
        name: "id",
        aliases: &[],
        json_type: "string",
        nullable: false,
        required: true,
        pattern: Some("^[0-9]+$"),
        description: "Numeric id of the session; `GET /api/session/remotesessions/{id}` takes it.",
        tolerance: "a JSON number or a string of digits",
        example: "3",
    },
    FieldInfo {
        name: "user",
        aliases: &[],
        json_type: "string",
        nullable: false,
        required: false,
        pattern: None,
        description: "PAM user who opened the session.",
        tolerance: "any Unicode; null or missing becomes an empty string; a number is kept as its text",
        example: "Admin",
    },
    FieldInfo {
        name: "origin_ip",
        aliases: &[],
        json_type: "string",
        nullable: false,
        required: false,
        pattern: None,
        description: "IP address (IPv4 or IPv6) the user connected from.",
        tolerance: "null or missing becomes an empty string",
        example: "172.16.20.125",
    },
    FieldInfo {
        name: "credential",
        aliases: &["credencial"],
        json_type: "string",
        nullable: false,
        required: false,
        pattern: None,
        description: "Credential (account) used on the target.",
        tolerance: "legacy key `credencial`; null or missing becomes an empty string",
        example: "usrdomadm01",
    },
    FieldInfo {
        name: "device",
        aliases: &["dispositivo"],
        json_type: "string",
        nullable: false,
        required: false,
        pattern: None,
        description: "Target host name or IP address, with the port when known.",
        tolerance: "legacy key `dispositivo`; host names, IPv6, no port; null or missing becomes an empty string",
        example: "10.66.33.15:3389",
    },
    FieldInfo {
        name: "protocol",
        aliases: &[],
        json_type: "string",
        nullable: false,
        required: false,
        pattern: None,
        description: "Network protocol of the session (`rdp`, `ssh`, `https`, ...).",
        tolerance: "known values in any case come out lower case; unknown values are kept verbatim",
        example: "rdp",
    },
    FieldInfo {
        name: "proxy",
        aliases: &[],
        json_type: "string",
        nullable: false,
        required: false,
        pattern: None,
        description: "Kind of proxy that carried the session (`Web Proxy`, `RDP Proxy`, `Terminal Proxy`, ...).",
        tolerance: "known values in any case come out canonical; unknown values are kept verbatim",
        example: "Web Proxy",
    },
    FieldInfo {
        name: "session_id",
        aliases: &[],
        json_type: "string",
        nullable: false,
        required: true,
        pattern: None,
        description: "40-hex hash that identifies the session; `DELETE /api/pam/session/drop/{session_id}` takes it.",
        tolerance: "kept verbatim even when it is not 40 hex digits",
        example: "e7acacb6aedbab70073456da5744166939b77527",
    },
    FieldInfo {
        name: "start",
        aliases: &[],
        json_type: "string",
        nullable: false,
        required: true,
        pattern: Some(DATETIME_PATTERN),
        description: "Start of the session, `YYYY-MM-DD HH:MM:SS`, appliance local time.",
        tolerance: "`T` instead of the space, a fraction of a second and a trailing `Z` are accepted and dropped",
        example: "2024-05-06 16:05:07",
    },
    FieldInfo {
        name: "end",
        aliases: &[],
        json_type: "string",
        nullable: true,
        required: false,
        pattern: Some(DATETIME_PATTERN),
        description: "End of the session, same format; null while the session is open.",
        tolerance: "null, missing, empty or the zero date `0000-00-00 00:00:00` mean open",
        example: "2024-05-06 16:07:59",
    },
    FieldInfo {
        name: "time",
        aliases: &[],
        json_type: "string",
        nullable: true,
        required: false,
        pattern: Some("^[0-9]{2,}:[0-5][0-9]:[0-5][0-9]$"),
        description: "Recorded duration, `HH:MM:SS`; the hours may exceed 24.",
        tolerance: "null, missing or empty mean no recorded duration",
        example: "00:02:52",
    },
    FieldInfo {
        name: "prevent_purge",
        aliases: &[],
        json_type: "string",
        nullable: false,
        required: false,
        pattern: Some("^(Yes|No)$"),
        description: "Whether the session's data is protected from automatic purge.",
        tolerance: "`Yes`/`No`/`Sim`/`Não` in any case, JSON booleans, 0/1; null or missing mean `No`",
        example: "No",
    },
    FieldInfo {
        name: "request",
        aliases: &[],
        json_type: "string",
        nullable: true,
        required: false,
        pattern: None,
        description: "The access request made by the user, if any.",
        tolerance: "a number is kept as its text",
        example: "REQ-2024-0001",
    },
    FieldInfo {
        name: "ITSM",
        aliases: &["itsm"],
        json_type: "string",
        nullable: true,
        required: false,
        pattern: None,
        description: "ITSM ticket code, if any (note the upper-case key).",
        tolerance: "the lower-case key `itsm`; a number is kept as its text",
        example: "INC0012345",
    },
];

impl Field {
    /// All fields, in documentation (and canonical output) order.
    pub const ALL: [Field; 14] = [
        Field::Id,
        Field::User,
        Field::OriginIp,
        Field::Credential,
        Field::Device,
        Field::Protocol,
        Field::Proxy,
        Field::SessionId,
        Field::Start,
        Field::End,
        Field::Time,
        Field::PreventPurge,
        Field::Request,
        Field::Itsm,
    ];

    /// The field's documentation.
    pub fn info(self) -> &'static FieldInfo {
        &INFOS[self as usize]
    }

    /// The key on the wire (`ITSM` keeps its upper case).
    pub fn wire_name(self) -> &'static str {
        self.info().name
    }

    /// Maps a key received from the server to a field: the documented key or a legacy
    /// alias, exactly as sent.
    pub fn from_wire_key(key: &str) -> Option<Field> {
        // Dispatch on length first: this runs for every key of every session.
        match key.len() {
            2 => (key == "id").then_some(Field::Id),
            3 => (key == "end").then_some(Field::End),
            4 => match key {
                "user" => Some(Field::User),
                "time" => Some(Field::Time),
                "ITSM" | "itsm" => Some(Field::Itsm),
                _ => None,
            },
            5 => match key {
                "proxy" => Some(Field::Proxy),
                "start" => Some(Field::Start),
                _ => None,
            },
            6 => (key == "device").then_some(Field::Device),
            7 => (key == "request").then_some(Field::Request),
            8 => (key == "protocol").then_some(Field::Protocol),
            9 => (key == "origin_ip").then_some(Field::OriginIp),
            10 => match key {
                "credential" | "credencial" => Some(Field::Credential),
                "session_id" => Some(Field::SessionId),
                _ => None,
            },
            11 => (key == "dispositivo").then_some(Field::Device),
            13 => (key == "prevent_purge").then_some(Field::PreventPurge),
            _ => None,
        }
    }

    /// Whether this field's canonical value is a date-time.
    pub fn is_datetime(self) -> bool {
        matches!(self, Field::Start | Field::End)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire_name())
    }
}

/// A field name given by a user that names no field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown field {given:?}; known fields: {known}")]
pub struct ParseFieldError {
    given: String,
    known: String,
}

impl FromStr for Field {
    type Err = ParseFieldError;

    /// Parses a field name as a user types it: the wire name in any case, with `-` for
    /// `_` (`origin-ip`), or a legacy alias.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().replace('-', "_");
        Field::ALL
            .into_iter()
            .find(|f| {
                let info = f.info();
                info.name.eq_ignore_ascii_case(&norm)
                    || info.aliases.iter().any(|a| a.eq_ignore_ascii_case(&norm))
            })
            .ok_or_else(|| ParseFieldError {
                given: s.to_owned(),
                known: Field::ALL.map(Field::wire_name).join(", "),
            })
    }
}

/// The canonical value of one field of one session: what every output format shows.
///
/// Serializes as the wire JSON value (a string, or `null`); [`fmt::Display`] writes the
/// same text with `null` as nothing, for tables and CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldText<'a> {
    /// JSON `null`: an absent optional value.
    Null,
    /// Text as it is.
    Str(&'a str),
    /// A numeric id, written as a string of digits.
    Id(u64),
    /// A date-time, written `YYYY-MM-DD HH:MM:SS`.
    DateTime(NaiveDateTime),
    /// A duration, written `HH:MM:SS`.
    Duration(SessionDuration),
    /// A flag, written `Yes` or `No`.
    YesNo(bool),
}

impl FieldText<'_> {
    /// Whether the value is JSON `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, FieldText::Null)
    }
}

impl fmt::Display for FieldText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldText::Null => Ok(()),
            FieldText::Str(s) => f.write_str(s),
            FieldText::Id(n) => fmt::Display::fmt(n, f),
            FieldText::DateTime(dt) => {
                let mut buf = [0u8; 19];
                f.write_str(format_datetime(dt, &mut buf))
            }
            FieldText::Duration(d) => fmt::Display::fmt(d, f),
            FieldText::YesNo(b) => f.write_str(if *b { "Yes" } else { "No" }),
        }
    }
}

impl Serialize for FieldText<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldText::Null => serializer.serialize_none(),
            FieldText::Str(s) => serializer.serialize_str(s),
            FieldText::Id(n) => {
                let mut buf = crate::ids::itoa_buf::Buffer::new();
                serializer.serialize_str(buf.format(*n))
            }
            FieldText::DateTime(dt) => {
                let mut buf = [0u8; 19];
                serializer.serialize_str(format_datetime(dt, &mut buf))
            }
            FieldText::Duration(d) => serializer.collect_str(d),
            FieldText::YesNo(b) => serializer.serialize_str(if *b { "Yes" } else { "No" }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_field_order() {
        for (i, f) in Field::ALL.into_iter().enumerate() {
            assert_eq!(f as usize, i);
            assert_eq!(Field::from_wire_key(f.wire_name()), Some(f));
        }
        assert_eq!(Field::from_wire_key("credencial"), Some(Field::Credential));
        assert_eq!(Field::from_wire_key("dispositivo"), Some(Field::Device));
        assert_eq!(Field::from_wire_key("Id"), None);
        assert_eq!(Field::from_wire_key("unknown_key"), None);
    }

    #[test]
    fn user_field_names() {
        assert_eq!("origin-ip".parse::<Field>().unwrap(), Field::OriginIp);
        assert_eq!("itsm".parse::<Field>().unwrap(), Field::Itsm);
        assert_eq!("USER".parse::<Field>().unwrap(), Field::User);
        let e = "nope".parse::<Field>().unwrap_err().to_string();
        assert!(e.contains("known fields: id, user"), "{e}");
    }
}
