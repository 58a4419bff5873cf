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
mod clock;
mod commands;
mod config;
mod diag;
mod drop_log;
mod exit;
mod feed;
mod output;
mod progress;
mod state_file;
mod syslog;
mod timespec;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, GlobalArgs};

/// Debug logs on stderr for -v (our crates only: the HTTP stack's own traces could
/// show headers, and so credentials). Each event is scrubbed by [`diag::LogWriter`]
/// (no secret, no control character); so it carries no colours either.
fn init_tracing(global: &GlobalArgs) {
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
        .with_writer(diag::LogWriter)
        .with_ansi(false)
        .try_init();
}

/// A usage error that clap would phrase misleadingly: `--watch` (clap suggests
/// `--search`) names the `watch` subcommand.
fn misleading_usage(e: &clap::Error) -> Option<String> {
    use clap::error::ErrorKind;
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    std::env::args().any(|a| a == "--watch").then(|| {
        "error: there is no --watch option: `segura sessions watch` polls the list and \
         reports new and ended sessions\n"
            .to_owned()
    })
}

fn main() -> ExitCode {
    // A shell asking for completions (SEGURA_COMPLETE=bash ...): answer and exit.
    clap_complete::CompleteEnv::with_factory(<Cli as clap::CommandFactory>::command)
        .var(cli::COMPLETE_VAR)
        .complete();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(text) = misleading_usage(&e) {
                diag::emit(&text);
                return ExitCode::from(exit::USAGE);
            }
            // --help and --version land here too, with exit code 0, for stdout.
            if e.use_stderr() {
                // The arguments are quoted back: outside text like any other.
                diag::emit(&e.render().to_string());
            } else {
                let _ = e.print();
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(exit::USAGE));
        }
    };
    init_tracing(&cli.global);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            diag::emit(&e.report());
            ExitCode::from(e.exit_code())
        }
    }
}
