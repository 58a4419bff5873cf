//! The transport-agnostic API of the Segura PAM Core sessions endpoints.
//!
//! * [`SessionApi`]: the async trait every transport implements (list as a stream, get,
//!   drop); with the `mock` feature, `MockSessionApi` is a `mockall` mock of it, and
//!   [`InMemoryApi`] is a working implementation over sessions in memory.
//! * [`Error`]: the error taxonomy by stage (configuration, dispatch, timeout, response,
//!   decode), each variant with a [`Hint`] of the likely cause and what to do, and
//!   [`classify_response`] to turn any error response into it.
//! * [`ListDecoder`]: the streaming decoder that turns the list endpoint's huge body into
//!   sessions one at a time, in memory bounded by the largest session; [`SessionStream`]
//!   and [`ReaderSource`] run it over a transport's byte stream or a file.
//! * [`lookup`]: finding sessions by their 40-hex hash while streaming the list
//!   ([`lookup::find_by_hash`], stopping at the match) and what a drop of each would meet
//!   ([`lookup::DropCheck`]: open, already ended, or not listed).
//! * [`SessionFilter`]: client-side filters, applied while streaming: glob patterns,
//!   CIDR blocks, negations, time windows and a compiled CEL [`Expression`].
//! * [`time`]: the appliance's time zone ([`ApplianceZone`]): "now" on its clock and the
//!   instant of a time the API wrote.
//! * [`text`]: [`sanitize`] for outside text bound for a terminal or a log, and
//!   [`Redactor`] to scrub the client's own secrets out of any text.
//! * [`sort`] and [`stats`]: the building blocks of sorted views (a bounded top-N or a
//!   full sort) and of per-group figures, fed one session at a time from a stream.
//! * [`siem`]: sessions and their events as SIEM records (Elastic Common Schema, OCSF,
//!   CEF), one line each.
//! * [`audit`]: the audit rules (no ticket, long sessions, off hours, shared
//!   credentials, overlapping origins, device sweeps, new origins) and the figures of
//!   an audit report, in one pass over a list.
//! * [`parse_token_answer`] and [`parse_drop_answer`]: the token endpoint's and the drop
//!   endpoint's answers, read the same way by every transport (lifetimes clamped, only a
//!   recognised drop success taken as one).
//!
//! * [`protocol`]: the requests of the four calls as `http::Request` values with
//!   authentication applied, and the meaning of their answers, without any I/O.
//! * [`transport`]: the seam, a [`Transport`] sends one request and returns the status,
//!   headers and body chunks; [`client::Client`] implements [`SessionApi`] over any
//!   transport and owns the token cache, retries, deadlines, decoding and error
//!   classification.
//!
//! Architecture invariant: no HTTP client, no server, no terminal. This crate must never
//! depend on reqwest, hyper or clap (tokio only for its `time` and `sync` parts);
//! transports plug in through [`Transport`], or hand [`SessionStream::new`] a stream of
//! byte chunks. The [`protocol`] module performs no I/O at all.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod api;
pub mod audit;
pub mod client;
pub mod decoder;
pub mod drop_answer;
mod error;
pub mod expr;
pub mod filter;
pub mod lookup;
mod memory;
pub mod protocol;
pub mod siem;
pub mod sort;
pub mod stats;
mod stream;
#[cfg(any(test, feature = "test-util"))]
pub mod test_util;
pub mod text;
pub mod time;
pub mod token;
pub mod transport;

#[cfg(any(test, feature = "mock"))]
pub use api::MockSessionApi;

/// The maps of the aggregates (stats, audit, report), keyed by names from the list:
/// foldhash, several times faster than the standard library's SipHash on short names,
/// and seeded at random per process, so that a list cannot be crafted to make every
/// run's keys collide.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// A set with the hasher of [`HashMap`].
pub(crate) type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
pub use api::{Listing, SessionApi, WebSessionApi};
pub use client::{Client, ClientOptions, RetryPolicy};
pub use decoder::{DecoderConfig, ListDecoder, Step};
pub use drop_answer::{is_recognised_drop, parse_drop_answer};
pub use error::{
    classify_response, config_error, input_error, AuthFailure, Cause, ConnectFailure, Error, Hint,
    Stage, TimeoutKind,
};
pub use expr::{ExprError, Expression};
pub use filter::{Pattern, SessionFilter, TimeWindow};
pub use memory::InMemoryApi;
pub use stream::{ByteObserver, ByteStream, Next, ReaderSource, SessionStream};
pub use text::{duration_text, human_duration, sanitize, HumanDuration, Redactor};
pub use time::ApplianceZone;
pub use token::{parse_token_answer, TokenAnswer, MAX_TOKEN_LIFETIME};
pub use transport::{BodyChunks, Transport, TransportError, TransportErrorKind, TransportResponse};

/// The wire types, re-exported so users need one dependency.
pub use segura_model as model;
