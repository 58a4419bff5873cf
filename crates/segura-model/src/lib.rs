//! Wire types for the Segura PAM Core remote sessions API, faithful to the API's own JSON.
//!
//! This crate describes what the server sends and nothing else: the response envelope
//! ([`Envelope`], [`ResponseStatus`], [`ApiException`]), the bodies of the three session
//! endpoints ([`ListResponse`], [`GetResponse`], [`DropResponse`]), the web proxy session
//! call ([`WebSessionRequest`], [`WebSessionResponse`]) and the session itself
//! ([`RemoteSession`]) with typed fields ([`SessionId`], [`SessionHash`], date-times,
//! [`SessionDuration`], [`Protocol`], [`Proxy`]).
//!
//! Decoding is tolerant of what real servers send (ids as numbers or strings, the legacy
//! keys `credencial` and `dispositivo`, the zero date for an open session, `Sim`/`Não`,
//! unknown fields and values); encoding always writes the *canonical form*, the API's
//! own documented shapes, so a session in the documented form round-trips to an equal JSON
//! object.
//!
//! [`siem`] holds the mapping of a session onto the ECS, OCSF and CEF formats, as data.
//!
//! Architecture invariant: this crate knows nothing about HTTP, async runtimes or
//! terminals. It depends on serde, serde_json, chrono and thiserror only.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod canonical;
mod envelope;
mod field;
mod ids;
mod session;
pub mod siem;
mod time;
mod values;
mod web_session;
pub mod wire;

pub use canonical::write_json_str;
pub use envelope::{
    ApiException, DropResponse, Envelope, GetResponse, ListResponse, ResponseStatus,
};
pub use field::{Field, FieldInfo, FieldText, ParseFieldError};
pub use ids::{ParseIdError, SessionHash, SessionId};
pub use session::RemoteSession;
pub use session::{FieldValueError, Projection, Scalar};
pub use time::{
    datetime_bytes, format_datetime, parse_datetime, parse_optional_datetime, ParseTimeError,
    SessionDuration, DATETIME_FORMAT,
};
pub use values::{parse_prevent_purge, Protocol, Proxy};
pub use web_session::{WebSession, WebSessionRequest, WebSessionResponse};
