//! Enumerated wire values that the server may extend: known values become variants,
//! anything else is kept verbatim in `Other`, never rejected.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines an enum of known wire strings with an `Other(String)` case, matched
/// case-insensitively and written back in the canonical spelling.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every known value, in documentation order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The canonical wire text.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(s) => s,
                }
            }

            /// Maps wire text to a value: known values case-insensitively, anything
            /// else verbatim.
            pub fn from_wire(s: &str) -> Self {
                $( if s.eq_ignore_ascii_case($wire) { return $name::$variant; } )+
                $name::Other(s.to_owned())
            }

            /// The known value whose wire text is `b` (in any case), if any.
            pub(crate) fn known_from_bytes(b: &[u8]) -> Option<Self> {
                // The documented spelling first: a length check and a compare each.
                $( if b == $wire.as_bytes() { return Some($name::$variant); } )+
                $( if b.eq_ignore_ascii_case($wire.as_bytes()) { return Some($name::$variant); } )+
                None
            }

            /// Replaces `self` with the value for `s`, reusing the allocation of an
            /// `Other` value where possible (the decoder's hot path).
            pub(crate) fn set_from_wire(&mut self, s: &str) {
                $( if s.eq_ignore_ascii_case($wire) { *self = $name::$variant; return; } )+
                if let $name::Other(buf) = self {
                    buf.clear();
                    buf.push_str(s);
                } else {
                    *self = $name::Other(s.to_owned());
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::Other(String::new())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::from_wire(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from_wire(&s))
            }
        }
    };
}

wire_enum! {
    /// The network protocol of a session (the wire key `protocol`), lower case on the wire.
    Protocol {
        /// Remote Desktop Protocol.
        Rdp => "rdp",
        /// Secure Shell.
        Ssh => "ssh",
        /// HTTPS (web sessions).
        Https => "https",
        /// Plain HTTP (web sessions).
        Http => "http",
        /// Telnet.
        Telnet => "telnet",
        /// VNC.
        Vnc => "vnc",
        /// Database sessions (MySQL).
        Mysql => "mysql",
        /// Database sessions (Oracle).
        Oracle => "oracle",
        /// Database sessions (PostgreSQL).
        Postgresql => "postgresql",
        /// Database sessions (SQL Server).
        Sqlserver => "sqlserver",
    }
}

wire_enum! {
    /// The kind of proxy that carried a session (the wire key `proxy`).
    Proxy {
        /// Sessions through the web interface.
        WebProxy => "Web Proxy",
        /// Sessions through the RDP proxy.
        RdpProxy => "RDP Proxy",
        /// Sessions through the terminal (SSH) proxy.
        TerminalProxy => "Terminal Proxy",
        /// Sessions through the database proxy.
        DatabaseProxy => "Database Proxy",
        /// SSH tunnels.
        SshTunneling => "SSH Tunneling",
        /// Sessions through the senhasegura.go agent.
        SenhaseguraGo => "senhasegura.go",
    }
}

/// Parses the `prevent_purge` flag: `Yes`/`No`, or the Portuguese `Sim`/`Não` (also
/// `Nao`), case-insensitively. `None` for anything else.
pub fn parse_prevent_purge(s: &str) -> Option<bool> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("yes") || t.eq_ignore_ascii_case("sim") {
        Some(true)
    } else if t.eq_ignore_ascii_case("no")
        || t.eq_ignore_ascii_case("nao")
        || t.to_lowercase() == "não"
    {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_are_case_insensitive_and_canonical() {
        assert_eq!(Protocol::from_wire("RDP"), Protocol::Rdp);
        assert_eq!(Protocol::from_wire("rdp").as_str(), "rdp");
        assert_eq!(Proxy::from_wire("web proxy"), Proxy::WebProxy);
        assert_eq!(Proxy::WebProxy.to_string(), "Web Proxy");
    }

    #[test]
    fn unknown_values_are_kept_verbatim() {
        let p = Protocol::from_wire("Kerberos-X");
        assert_eq!(p, Protocol::Other("Kerberos-X".into()));
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"Kerberos-X\"");
        let mut q = Proxy::Other("x".into());
        q.set_from_wire("Mystery Proxy");
        assert_eq!(q.as_str(), "Mystery Proxy");
        q.set_from_wire("rdp proxy");
        assert_eq!(q, Proxy::RdpProxy);
    }

    #[test]
    fn prevent_purge_in_both_languages() {
        for (s, v) in [
            ("Yes", true),
            ("yes", true),
            ("SIM", true),
            ("No", false),
            ("não", false),
            ("NÃO", false),
            ("Nao", false),
        ] {
            assert_eq!(parse_prevent_purge(s), Some(v), "{s}");
        }
        assert_eq!(parse_prevent_purge("maybe"), None);
    }
}
