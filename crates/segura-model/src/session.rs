//! [`RemoteSession`]: one proxied session, with typed fields.

use std::borrow::Cow;
use std::fmt;

use chrono::NaiveDateTime;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};

use crate::field::{Field, FieldText};
use crate::ids::{SessionHash, SessionId};
use crate::time::{parse_datetime, parse_optional_datetime, SessionDuration};
use crate::values::{parse_prevent_purge, Protocol, Proxy};

/// One remote session as the list and get endpoints describe it.
///
/// Serializing writes the canonical wire form: the 14 documented keys in documentation
/// order, `id` as a string of digits, date-times as `YYYY-MM-DD HH:MM:SS`, `time` as
/// `HH:MM:SS`, `prevent_purge` as `Yes`/`No`, `null` for absent optional values.
/// Deserializing accepts the tolerated variants listed in [`crate::FieldInfo::tolerance`]
/// and ignores unknown keys. When a key appears twice, the last value wins.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RemoteSession {
    /// Numeric id (`id`).
    pub id: SessionId,
    /// PAM user who opened the session (`user`).
    pub user: String,
    /// Address the user connected from (`origin_ip`).
    pub origin_ip: String,
    /// Credential used (`credential`, legacy `credencial`).
    pub credential: String,
    /// Target host and port (`device`, legacy `dispositivo`).
    pub device: String,
    /// Network protocol (`protocol`).
    pub protocol: Protocol,
    /// Proxy kind (`proxy`).
    pub proxy: Proxy,
    /// The 40-hex hash used to drop the session (`session_id`).
    pub session_id: SessionHash,
    /// Start, appliance local time (`start`).
    pub start: NaiveDateTime,
    /// End, `None` while the session is open (`end`).
    pub end: Option<NaiveDateTime>,
    /// Recorded duration (`time`), `None` while the session is open.
    pub time: Option<SessionDuration>,
    /// Whether the session is protected from purge (`prevent_purge`).
    pub prevent_purge: bool,
    /// Access request (`request`).
    pub request: Option<String>,
    /// ITSM ticket code (`ITSM`).
    pub itsm: Option<String>,
}

/// A value as it appeared on the wire, before the field's own rules are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar<'a> {
    /// `null`.
    Null,
    /// A string, unescaped.
    Str(&'a str),
    /// A number, as its literal text.
    Number(&'a str),
    /// `true` or `false`.
    Bool(bool),
    /// An object or an array (never valid for a documented field).
    Compound(&'static str),
}

impl Scalar<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Str(_) => "a string",
            Scalar::Number(_) => "a number",
            Scalar::Bool(_) => "a boolean",
            Scalar::Compound(k) => k,
        }
    }
}

/// A documented field whose value could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct FieldValueError {
    /// The field's wire name.
    pub field: &'static str,
    /// What was wrong with the value.
    pub message: String,
}

fn set_text(dst: &mut String, s: &str) {
    dst.clear();
    dst.push_str(s);
}

fn set_opt_text(dst: &mut Option<String>, s: &str) {
    match dst {
        Some(buf) => set_text(buf, s),
        None => *dst = Some(s.to_owned()),
    }
}

/// Bit of a field in a "seen" mask.
pub(crate) const fn bit(f: Field) -> u16 {
    1 << f as u16
}

/// The fields without which a session is rejected.
pub(crate) const REQUIRED: u16 = bit(Field::Id) | bit(Field::SessionId) | bit(Field::Start);

impl RemoteSession {
    /// A session with the three required fields set and every other field empty.
    pub fn new(id: SessionId, session_id: SessionHash, start: NaiveDateTime) -> Self {
        Self {
            id,
            session_id,
            start,
            ..Self::default()
        }
    }

    /// Whether the session is still open (no end yet).
    pub fn is_open(&self) -> bool {
        self.end.is_none()
    }

    /// The canonical value of one field.
    pub fn field(&self, field: Field) -> FieldText<'_> {
        match field {
            Field::Id => FieldText::Id(self.id.get()),
            Field::User => FieldText::Str(&self.user),
            Field::OriginIp => FieldText::Str(&self.origin_ip),
            Field::Credential => FieldText::Str(&self.credential),
            Field::Device => FieldText::Str(&self.device),
            Field::Protocol => FieldText::Str(self.protocol.as_str()),
            Field::Proxy => FieldText::Str(self.proxy.as_str()),
            Field::SessionId => FieldText::Str(self.session_id.as_str()),
            Field::Start => FieldText::DateTime(self.start),
            Field::End => self.end.map_or(FieldText::Null, FieldText::DateTime),
            Field::Time => self.time.map_or(FieldText::Null, FieldText::Duration),
            Field::PreventPurge => FieldText::YesNo(self.prevent_purge),
            Field::Request => self
                .request
                .as_deref()
                .map_or(FieldText::Null, FieldText::Str),
            Field::Itsm => self.itsm.as_deref().map_or(FieldText::Null, FieldText::Str),
        }
    }

    /// A view that serializes only `fields`, in the given order, in canonical form.
    pub fn project<'a>(&'a self, fields: &'a [Field]) -> Projection<'a> {
        Projection {
            session: self,
            fields,
        }
    }

    /// Resets every field to its empty value, keeping allocations for reuse.
    pub(crate) fn clear(&mut self) {
        self.id = SessionId::default();
        self.user.clear();
        self.origin_ip.clear();
        self.credential.clear();
        self.device.clear();
        self.protocol.set_from_wire("");
        self.proxy.set_from_wire("");
        self.session_id.buffer_mut().clear();
        self.start = NaiveDateTime::default();
        self.end = None;
        self.time = None;
        self.prevent_purge = false;
        self.request = None;
        self.itsm = None;
    }

    /// Applies one wire value to a field, with the field's tolerance rules. Shared by the
    /// serde implementation and the hand-written decoder in [`crate::wire`].
    pub fn set_field(&mut self, field: Field, value: Scalar<'_>) -> Result<(), FieldValueError> {
        let bad = |expected: &str| FieldValueError {
            field: field.wire_name(),
            message: format!("expected {expected}, found {}", value.kind()),
        };
        let invalid = |message: String| FieldValueError {
            field: field.wire_name(),
            message,
        };
        match field {
            Field::Id => {
                let text = match value {
                    Scalar::Str(s) | Scalar::Number(s) => s,
                    _ => return Err(bad("a string of digits")),
                };
                self.id = text.parse().map_err(|e| invalid(format!("{e}")))?;
            }
            Field::User | Field::OriginIp | Field::Credential | Field::Device => {
                let dst = match field {
                    Field::User => &mut self.user,
                    Field::OriginIp => &mut self.origin_ip,
                    Field::Credential => &mut self.credential,
                    _ => &mut self.device,
                };
                match value {
                    Scalar::Str(s) | Scalar::Number(s) => set_text(dst, s),
                    Scalar::Null => dst.clear(),
                    _ => return Err(bad("a string")),
                }
            }
            Field::Protocol | Field::Proxy => {
                let text = match value {
                    Scalar::Str(s) | Scalar::Number(s) => s,
                    Scalar::Null => "",
                    _ => return Err(bad("a string")),
                };
                if field == Field::Protocol {
                    self.protocol.set_from_wire(text);
                } else {
                    self.proxy.set_from_wire(text);
                }
            }
            Field::SessionId => match value {
                Scalar::Str(s) | Scalar::Number(s) => set_text(self.session_id.buffer_mut(), s),
                _ => return Err(bad("a 40-hex string")),
            },
            Field::Start => match value {
                Scalar::Str(s) => {
                    self.start = parse_datetime(s).map_err(|e| invalid(e.to_string()))?;
                }
                _ => return Err(bad("a date-time string")),
            },
            Field::End => match value {
                Scalar::Str(s) => {
                    self.end = parse_optional_datetime(s).map_err(|e| invalid(e.to_string()))?;
                }
                Scalar::Null => self.end = None,
                _ => return Err(bad("a date-time string or null")),
            },
            Field::Time => match value {
                Scalar::Str("") | Scalar::Null => self.time = None,
                Scalar::Str(s) => {
                    self.time = Some(s.parse().map_err(|e| invalid(format!("{e}")))?);
                }
                _ => return Err(bad("an HH:MM:SS string or null")),
            },
            Field::PreventPurge => {
                self.prevent_purge = match value {
                    Scalar::Str(s) => parse_prevent_purge(s).ok_or_else(|| {
                        invalid(format!("expected Yes, No, Sim or Não, found {s:?}"))
                    })?,
                    Scalar::Bool(b) => b,
                    Scalar::Number("0") => false,
                    Scalar::Number("1") => true,
                    Scalar::Null => false,
                    _ => return Err(bad("Yes or No")),
                };
            }
            Field::Request | Field::Itsm => {
                let dst = if field == Field::Request {
                    &mut self.request
                } else {
                    &mut self.itsm
                };
                match value {
                    Scalar::Str(s) | Scalar::Number(s) => set_opt_text(dst, s),
                    Scalar::Null => *dst = None,
                    _ => return Err(bad("a string or null")),
                }
            }
        }
        Ok(())
    }

    /// The error for a session that lacks a required field, given the mask of fields seen.
    pub(crate) fn check_required(seen: u16) -> Result<(), FieldValueError> {
        match Field::ALL
            .into_iter()
            .find(|f| REQUIRED & bit(*f) != 0 && seen & bit(*f) == 0)
        {
            Some(f) => Err(FieldValueError {
                field: f.wire_name(),
                message: "missing required field".to_owned(),
            }),
            None => Ok(()),
        }
    }
}

impl Serialize for RemoteSession {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("RemoteSession", Field::ALL.len())?;
        for f in Field::ALL {
            s.serialize_field(f.wire_name(), &self.field(f))?;
        }
        s.end()
    }
}

/// A session restricted to some fields; see [`RemoteSession::project`].
#[derive(Debug, Clone, Copy)]
pub struct Projection<'a> {
    session: &'a RemoteSession,
    fields: &'a [Field],
}

impl Serialize for Projection<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(self.fields.len()))?;
        for f in self.fields {
            m.serialize_entry(f.wire_name(), &self.session.field(*f))?;
        }
        m.end()
    }
}

/// A wire value of any JSON type, borrowed when the deserializer allows it.
enum AnyScalar<'de> {
    Null,
    Str(Cow<'de, str>),
    Number(String),
    Bool(bool),
    Compound(&'static str),
}

impl<'de> Deserialize<'de> for AnyScalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyScalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(AnyScalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(AnyScalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(AnyScalar::Str(Cow::Owned(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(AnyScalar::Number(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(AnyScalar::Number(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(AnyScalar::Number(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(AnyScalar::Bool(v))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(AnyScalar::Null)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(AnyScalar::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                AnyScalar::deserialize(d)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(AnyScalar::Compound("an object"))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(AnyScalar::Compound("an array"))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RemoteSession {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SessionVisitor;
        impl<'de> Visitor<'de> for SessionVisitor {
            type Value = RemoteSession;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a remote session object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RemoteSession, A::Error> {
                let mut session = RemoteSession::default();
                let mut seen = 0u16;
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let Some(field) = Field::from_wire_key(&key) else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    let value = map.next_value::<AnyScalar<'de>>()?;
                    let scalar = match &value {
                        AnyScalar::Null => Scalar::Null,
                        AnyScalar::Str(s) => Scalar::Str(s),
                        AnyScalar::Number(n) => Scalar::Number(n),
                        AnyScalar::Bool(b) => Scalar::Bool(*b),
                        AnyScalar::Compound(k) => Scalar::Compound(k),
                    };
                    session
                        .set_field(field, scalar)
                        .map_err(de::Error::custom)?;
                    seen |= bit(field);
                }
                RemoteSession::check_required(seen).map_err(de::Error::custom)?;
                Ok(session)
            }
        }
        deserializer.deserialize_map(SessionVisitor)
    }
}
