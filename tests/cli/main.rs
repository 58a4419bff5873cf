//! End-to-end tests of the `segura` binary: each runs the built binary as a process
//! against `segura-mock` started in this process on loopback (HTTP or HTTPS, OAuth 2.0
//! or 1.0a), or against saved list bodies written by the mock's generator.

mod adversary;
mod config;
mod drop_flow;
mod errors;
mod exporter;
mod get_drop;
mod hostile;
mod hostile_audit;
mod hostile_local;
mod hostile_net;
mod hostile_ops;
mod hostile_text;
mod hostile_time;
mod input;
mod list;
mod misc;
mod open;
mod reliability;
mod siem;
mod sort;
mod stats;
mod support;
mod surface;
mod syslog;
mod top;
mod watch;
