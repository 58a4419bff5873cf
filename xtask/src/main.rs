//! Maintenance tasks for the segura workspace, run as `cargo xtask <task>`.
//!
//! Each task lives in its own module and is reached from the match in [`main`]:
//! `codegen` keeps the committed schemas, OpenAPI description and field table in step
//! with `segura-model`; `tidy` checks the invariants no compiler checks; `release`,
//! `dist` and `ci` are the release, packaging and CI procedures, written down as code.
//!
//! Architecture invariant: xtask stays quick to compile. It depends on std, serde_json
//! and segura-model only (no clap, no YAML or regex crates): arguments are parsed by
//! hand and YAML is written by hand.

mod args;
mod bench;
mod ci;
mod codegen;
mod dist;
mod metadata;
mod release;
mod tidy;
mod util;

use std::process::ExitCode;

use args::Args;
use util::Error;

const USAGE: &str = "\
Usage: cargo xtask <task> [options]

Tasks:
  codegen [--check]      Regenerate docs/schema/*.schema.json, docs/openapi.yaml and the
                         field table of docs/api.md from segura-model; with --check, fail
                         if any of them is stale instead of writing.
  tidy                   Check the invariants no compiler checks: `//!` docs, layering,
                         banned test attributes and macros, dependency licenses.
  release --version X.Y.Z [--dry-run] [--no-test] [--no-publish] [--date YYYY-MM-DD]
                         Bump the workspace version, date the changelog, run the tests and
                         the publish dry run; without --dry-run, commit and tag vX.Y.Z.
  dist                   Release build of `segura` and `segura-mock` into target/dist/
                         with shell completions, the man page and SHA256SUMS.
  bench [--sessions 10000,100000,1000000] [--runs 3] [--quick] [--only SLUG,...]
                         Release build, then time `segura sessions list -o ndjson` (and
                         its filter, sort, audit, stats, report, gzip and HTTP runs)
                         against the baselines, cat, jq and python3 on generated bodies;
                         writes docs/perf/results.json and docs/perf/scaling.svg.
                         --only keeps some contenders (segura-input, segura-sort, ...).
  ci                     Run what CI runs: fmt, codegen --check, tidy, clippy, tests, docs.
  help                   Show this message.
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let args = Args::new(args.collect());
    let result = match task.as_deref() {
        Some("codegen") => codegen::run(args),
        Some("tidy") => tidy::run(args),
        Some("release") => release::run(args),
        Some("dist") => dist::run(args),
        Some("bench") => bench::run(args),
        Some("ci") => ci::run(args),
        None | Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(Error::new(format!(
            "unknown task {other:?}; run `cargo xtask help` for the list"
        ))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
