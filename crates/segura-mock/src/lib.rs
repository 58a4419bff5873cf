//! A mock Segura PAM Core server for tests, demos and benchmarks: a real
//! HTTP(S) server on a real socket that speaks the documented parts of the
//! API (OAuth 2.0 client credentials, OAuth 1.0a signatures, listing, getting
//! and dropping remote sessions), serves a large deterministic dataset as a
//! stream, and misbehaves on request (slow, cut, reset, gateway errors,
//! expired tokens...).
//!
//! It must stay a stand-in: it depends on no other `segura` crate, so that
//! the client is checked against an independent implementation of the wire
//! format (its OAuth 1.0a verifier included). The `segura` binary embeds it only for
//! `segura demo`, behind that crate's default `demo` feature. It does not parse command lines with clap (only the CLI
//! does) and must never be used against anything but loopback or test hosts.
//!
//! ```no_run
//! # async fn demo() -> Result<(), segura_mock::MockError> {
//! use segura_mock::{Fault, FaultTarget, MockConfig, MockServer};
//!
//! let server = MockServer::start(MockConfig::default().sessions(1000).seed(7)).await?;
//! println!("{} {} {}", server.url(), server.client_id(), server.client_secret());
//! server.push_faults(1, FaultTarget::List, Fault::ServiceUnavailable);
//! // ... point the client at server.url() ...
//! assert_eq!(server.stats().list_requests, 0);
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! See `docs/mock-server.md` for the behaviour of each endpoint, the fault
//! header syntax and the binary.

#![deny(missing_docs)]

mod body;
mod config;
mod envelope;
pub mod fault;
pub mod generator;
pub mod oauth1;
mod server;
mod state;
mod tls;

pub use config::{MockConfig, MockError, PathFamilies, TokenAuth, TokenPaths};
pub use fault::{Fault, FaultParseError, FaultTarget, FAULT_HEADER};
pub use oauth1::Oauth1Credentials;
pub use server::MockServer;
pub use state::MockStats;
/// A fresh test CA and a server configuration it signed (for 127.0.0.1, ::1 and
/// localhost): for tests that need a TLS peer other than the mock (a syslog receiver).
pub use tls::generate as tls_server_config;
