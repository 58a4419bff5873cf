//! `cargo xtask bench`: the end-to-end comparison of `segura sessions list -o ndjson`
//! with `jq`, Python and a straightforward serde program, on bodies from the mock's
//! generator, plus first-session latency and the criterion figures of the decoder.
//!
//! Everything runs as separate processes built in release mode: each contender is
//! wrapped in `/usr/bin/time` for its peak resident set, the contenders run round-robin
//! so that a slow phase of the machine hits all of them alike, and the median wall time
//! is kept. The first round of each size writes every contender's output to a file and
//! compares it, streaming, with the generator's own lines; it is not timed. Results go
//! to `docs/perf/results.json` and `docs/perf/scaling.svg`.
//!
//! * [`prepare`]: the release binaries and the generated bodies;
//! * [`contender`]: the programs compared and the command line of each;
//! * [`mock`]: the mock server the HTTP runs talk to;
//! * [`throughput`]: the timed runs at each size, with the output identity check;
//! * [`latency`]: first-session latency from a slow-drip server and through stdin;
//! * [`criterion`]: the saved estimates of the decoder benchmarks;
//! * [`report`]: the table, the verdicts against the targets and `results.json`;
//! * [`plot`]: the scaling plot, `scaling.svg`.

mod contender;
mod criterion;
mod latency;
mod mock;
mod plot;
mod prepare;
mod report;
mod throughput;

use std::path::Path;

use crate::args::Args;
use crate::util::{self, Error};

use contender::{available_contenders, Contender};
use criterion::{describe_criterion, read_criterion};
use latency::measure_latency;
use plot::scaling_svg;
use prepare::{build, ensure_body, Bins};
use report::{evaluate, format_table, results_json, rows, Row};
use throughput::{measure_size, SizeContext};

const DEFAULT_SESSIONS: [u64; 3] = [10_000, 100_000, 1_000_000];
const QUICK_SESSIONS: [u64; 2] = [10_000, 100_000];

pub fn run(mut args: Args) -> Result<(), Error> {
    let quick = args.flag("--quick");
    let sessions = match args.value("--sessions")? {
        Some(s) => parse_sessions(&s)?,
        None if quick => QUICK_SESSIONS.to_vec(),
        None => DEFAULT_SESSIONS.to_vec(),
    };
    let runs = match args.value("--runs")? {
        Some(r) => r
            .parse::<usize>()
            .ok()
            .filter(|&r| r > 0)
            .ok_or_else(|| Error::new(format!("--runs wants a positive number, not {r:?}")))?,
        None => 3,
    };
    let only: Option<Vec<String>> = args
        .value("--only")?
        .map(|o| o.split(',').map(|s| s.trim().to_owned()).collect());
    if let Some(o) = &only {
        let known: Vec<&str> = Contender::ALL.iter().map(|c| c.slug()).collect();
        if let Some(bad) = o.iter().find(|s| !known.contains(&s.as_str())) {
            return Err(Error::new(format!(
                "--only: no contender {bad:?}; the contenders are {}",
                known.join(", ")
            )));
        }
    }
    args.finish()?;

    let root = util::project_root();
    build(&root)?;
    let bins = Bins::locate(&root);
    let work = bins.target.join("bench");
    util::create_dir(&work)?;
    let time_tool = Path::new("/usr/bin/time").exists();
    if !time_tool {
        eprintln!("/usr/bin/time is absent: peak RSS is reported as n/a");
    }
    let contenders = available_contenders(only.as_deref());

    let mut results = Vec::new();
    for &n in &sessions {
        let bodies = ensure_body(&bins, &work, n)?;
        let ctx = SizeContext {
            bins: &bins,
            work: &work,
            body: &bodies.body,
            body_gz: &bodies.body_gz,
            sessions: n,
            time_tool,
        };
        results.extend(measure_size(&ctx, &contenders, runs)?);
    }
    let rows: Vec<Row> = rows(&results);
    println!();
    print!("{}", format_table(&rows));

    let latency = measure_latency(&bins, &work)?;
    println!();
    print!("{}", latency.describe());

    let criterion = read_criterion(&bins.target.join("criterion"));
    println!();
    print!("{}", describe_criterion(&criterion));

    let verdicts = evaluate(&rows, &latency, &criterion);
    println!();
    for v in &verdicts {
        println!("{v}");
    }

    let perf = root.join("docs/perf");
    let doc = results_json(&rows, &latency, &criterion, &verdicts, runs);
    let text = serde_json::to_string_pretty(&doc)
        .map_err(|e| Error::new(format!("cannot serialize the results: {e}")))?;
    util::write(&perf.join("results.json"), &(text + "\n"))?;
    util::write(&perf.join("scaling.svg"), &scaling_svg(&rows))?;
    eprintln!("wrote docs/perf/results.json and docs/perf/scaling.svg");
    Ok(())
}

fn parse_sessions(s: &str) -> Result<Vec<u64>, Error> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let digits: String = part.chars().filter(|&c| c != '_').collect();
        match digits.parse::<u64>() {
            Ok(n) if n > 0 => out.push(n),
            _ => {
                return Err(Error::new(format!(
                    "--sessions wants positive numbers separated by commas, not {part:?}"
                )))
            }
        }
    }
    if out.is_empty() {
        return Err(Error::new("--sessions needs at least one size"));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_and_runs_are_parsed() {
        assert_eq!(
            parse_sessions("1000000,100_000, 10000").unwrap(),
            vec![10_000, 100_000, 1_000_000]
        );
        assert!(parse_sessions("10,x").is_err());
        assert!(parse_sessions("0").is_err());
        assert!(parse_sessions(",").is_err());
    }
}
