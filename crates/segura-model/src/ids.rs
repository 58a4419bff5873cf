//! Session identifiers: the numeric `id` and the 40-hex `session_id` hash are distinct
//! types, so an operation that needs one can never be handed the other.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The numeric identifier of a remote session (the wire key `id`).
///
/// The API documents it as an integer but sends it as a string of digits (`"3"`); both
/// forms are accepted, and it is always written back as a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SessionId(u64);

impl SessionId {
    /// Wraps a numeric id.
    pub const fn new(id: u64) -> Self {
        Self(id)
    }

    /// The numeric value.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for SessionId {
    fn from(id: u64) -> Self {
        Self(id)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Why a text is not a valid [`SessionId`] or [`SessionHash`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseIdError {
    /// The id is not a non-negative integer that fits in 64 bits.
    #[error("invalid session id {0:?}: expected a non-negative integer such as 42")]
    InvalidId(String),
    /// The hash is not exactly 40 hexadecimal digits.
    #[error(
        "invalid session hash {0:?}: expected the 40 hexadecimal digits of `session_id` \
         (not the numeric `id`)"
    )]
    InvalidHash(String),
}

impl FromStr for SessionId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseIdError::InvalidId(s.to_owned()));
        }
        t.parse::<u64>()
            .map(Self)
            .map_err(|_| ParseIdError::InvalidId(s.to_owned()))
    }
}

impl Serialize for SessionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = itoa_buf::Buffer::new();
        serializer.serialize_str(buf.format(self.0))
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = SessionId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a session id as a number or a string of digits")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SessionId, E> {
                Ok(SessionId(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SessionId, E> {
                u64::try_from(v)
                    .map(SessionId)
                    .map_err(|_| E::custom(ParseIdError::InvalidId(v.to_string())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SessionId, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

/// The 40-hex hash that identifies a session (the wire key `session_id`), used to drop it.
///
/// [`SessionHash::parse`] (and [`FromStr`]) accept exactly 40 hexadecimal digits, which is
/// what a user must type. Values decoded from the server are kept verbatim even when they
/// do not have that shape, so that no session is lost; [`SessionHash::is_well_formed`]
/// tells them apart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SessionHash(String);

impl SessionHash {
    /// Parses a user-supplied hash: exactly 40 hexadecimal digits (stored lower-case).
    pub fn parse(s: &str) -> Result<Self, ParseIdError> {
        let t = s.trim();
        if t.len() == 40 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(t.to_ascii_lowercase()))
        } else {
            Err(ParseIdError::InvalidHash(s.to_owned()))
        }
    }

    /// Keeps a value received from the server verbatim, whatever its shape.
    pub fn from_wire(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The hash as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the value is 40 hexadecimal digits, the documented shape.
    pub fn is_well_formed(&self) -> bool {
        self.0.len() == 40 && self.0.bytes().all(|b| b.is_ascii_hexdigit())
    }

    pub(crate) fn buffer_mut(&mut self) -> &mut String {
        &mut self.0
    }
}

impl FromStr for SessionHash {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for SessionHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SessionHash {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for SessionHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SessionHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// A tiny integer formatter, so ids are written without going through `fmt`.
pub(crate) mod itoa_buf {
    /// Stack buffer large enough for any `u64`.
    pub struct Buffer {
        bytes: [u8; 20],
    }

    impl Buffer {
        pub fn new() -> Self {
            Self { bytes: [0; 20] }
        }

        pub fn format(&mut self, mut n: u64) -> &str {
            let mut i = self.bytes.len();
            loop {
                i -= 1;
                self.bytes[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            // Only ASCII digits were written.
            std::str::from_utf8(&self.bytes[i..]).unwrap_or("0")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_accepts_string_and_number_and_writes_string() {
        let a: SessionId = serde_json::from_str("\"3\"").unwrap();
        let b: SessionId = serde_json::from_str("3").unwrap();
        assert_eq!(a, b);
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"3\"");
        assert_eq!(
            serde_json::to_string(&SessionId::new(u64::MAX)).unwrap(),
            "\"18446744073709551615\""
        );
        assert!(serde_json::from_str::<SessionId>("\"-1\"").is_err());
        assert!(serde_json::from_str::<SessionId>("-1").is_err());
        assert!(serde_json::from_str::<SessionId>("\"abc\"").is_err());
        assert!(serde_json::from_str::<SessionId>("1.5").is_err());
        assert!("".parse::<SessionId>().is_err());
        assert!("+4".parse::<SessionId>().is_err());
        assert_eq!(" 42 ".parse::<SessionId>().unwrap().get(), 42);
    }

    #[test]
    fn session_hash_parse_is_strict_and_wire_is_verbatim() {
        let h = SessionHash::parse("E7ACACB6AEDBAB70073456DA5744166939B77527").unwrap();
        assert_eq!(h.as_str(), "e7acacb6aedbab70073456da5744166939b77527");
        assert!(h.is_well_formed());
        let err = SessionHash::parse("3").unwrap_err();
        assert!(err.to_string().contains("40 hexadecimal digits"), "{err}");
        assert!(SessionHash::parse("g7acacb6aedbab70073456da5744166939b77527").is_err());
        let wire: SessionHash = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(wire.as_str(), "abc");
        assert!(!wire.is_well_formed());
    }
}
