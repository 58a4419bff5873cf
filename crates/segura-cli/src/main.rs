//! `segura`: the command line for the remote sessions of a Segura PAM Core appliance
//! (formerly senhasegura), for operators and auditors.
//!
//! This crate is thin by design: it parses the command line ([`cli`]), resolves the
//! configuration ([`config`]), picks a source of sessions ([`feed`]: the server through
//! `segura-http`, or a saved response through `segura-api`'s decoder), runs a command
//! ([`commands`]) and prints through the printers ([`output`]). Data goes to stdout,
//! diagnostics to stderr; every failure ends as one exit code ([`exit`]).
//!
//! Architecture invariant: only this crate knows terminals, clap and output formats;
//! it holds no HTTP, decoding, sorting or aggregation logic of its own.

mod cli;
mod commands;
mod config;
mod exit;
mod feed;
mod output;
mod progress;
mod timespec;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, GlobalArgs};

/// Debug logs on stderr for -v (our crates only: the HTTP stack's own traces could
/// show headers, and so credentials).
fn init_tracing(global: &GlobalArgs, color: bool) {
    if global.verbose == 0 {
        return;
    }
    let level = if global.verbose == 1 {
        "debug"
    } else {
        "trace"
    };
    let filter = tracing_subscriber::EnvFilter::new(format!(
        "warn,segura={level},segura_cli={level},segura_api={level},segura_http={level}"
    ));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .try_init();
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version land here too, with exit code 0.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(exit::USAGE));
        }
    };
    let ctx = commands::Ctx::new(cli.global.clone());
    init_tracing(&cli.global, ctx.stderr_color());
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let report = e.report();
            if !report.is_empty() {
                let _ = std::io::stderr().write_all(report.as_bytes());
            }
            ExitCode::from(e.exit_code())
        }
    }
}
