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
//! * [`SessionFilter`]: client-side filters, applied while streaming: glob patterns,
//!   CIDR blocks, negations, time windows and a compiled CEL [`Expression`].
//! * [`time`]: the appliance's time zone ([`ApplianceZone`]): "now" on its clock and the
//!   instant of a time the API wrote.
//! * [`text`]: [`sanitize`] for outside text bound for a terminal or a log, and
//!   [`Redactor`] to scrub the client's own secrets out of any text.
//! * [`sort`] and [`stats`]: the building blocks of sorted views (a bounded top-N or a
//!   full sort) and of per-group figures, fed one session at a time from a stream.
//! * [`parse_token_answer`] and [`parse_drop_answer`]: the token endpoint's and the drop
//!   endpoint's answers, read the same way by every transport (lifetimes clamped, only a
//!   recognised drop success taken as one).
//!
//! Architecture invariant: no HTTP client, no server, no terminal. This crate must never
//! depend on reqwest, hyper or clap; transports plug in through [`SessionStream::new`].
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod api;
pub mod decoder;
pub mod drop_answer;
mod error;
pub mod expr;
pub mod filter;
mod memory;
pub mod sort;
pub mod stats;
mod stream;
pub mod text;
pub mod time;
pub mod token;

#[cfg(any(test, feature = "mock"))]
pub use api::MockSessionApi;
pub use api::SessionApi;
pub use decoder::{DecoderConfig, ListDecoder, Step};
pub use drop_answer::{is_recognised_drop, parse_drop_answer};
pub use error::{classify_response, AuthFailure, ConnectFailure, Error, Hint, Stage, TimeoutKind};
pub use expr::{ExprError, Expression};
pub use filter::{Pattern, SessionFilter, TimeWindow};
pub use memory::InMemoryApi;
pub use stream::{ByteStream, Next, ReaderSource, SessionStream};
pub use text::{sanitize, Redactor};
pub use time::ApplianceZone;
pub use token::{parse_token_answer, TokenAnswer, MAX_TOKEN_LIFETIME};

/// The wire types, re-exported so users need one dependency.
pub use segura_model as model;
