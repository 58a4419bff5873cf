//! What the runs need: the release binaries, and the list bodies of the mock's generator
//! with its own line per session as the reference output.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{self, Error};

/// The generator seed of the bodies and of the mock server, so their bytes agree.
pub const SEED: u64 = 7;

pub fn build(root: &Path) -> Result<(), Error> {
    util::run(util::cargo(root).args([
        "build",
        "--release",
        "-p",
        "segura-cli",
        "-p",
        "segura-mock",
        "--bin",
        "segura",
        "--bin",
        "segura-mock",
        "--example",
        "generate",
    ]))?;
    util::run(util::cargo(root).args([
        "build",
        "--release",
        "-p",
        "segura-bench",
        "--bin",
        "baseline-serde",
        "--bin",
        "baseline-sonic",
    ]))
}

/// The release binaries the comparison runs.
pub struct Bins {
    pub target: PathBuf,
    pub segura: PathBuf,
    pub mock: PathBuf,
    pub generate: PathBuf,
    pub baseline: PathBuf,
    pub baseline_sonic: PathBuf,
}

impl Bins {
    pub fn locate(root: &Path) -> Bins {
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => root.join(dir),
            None => root.join("target"),
        };
        let release = target.join("release");
        Bins {
            segura: release.join("segura"),
            mock: release.join("segura-mock"),
            generate: release.join("examples/generate"),
            baseline: release.join("baseline-serde"),
            baseline_sonic: release.join("baseline-sonic"),
            target,
        }
    }
}

/// The files of one size.
pub struct Bodies {
    /// `body-N.json`: the list body.
    pub body: PathBuf,
    /// `body-N.json.gz`: the same, gzip-compressed at the default level.
    pub body_gz: PathBuf,
}

/// Writes `body-N.json` (the list body), `body-N.json.gz` (the same, compressed) and
/// `lines-N.ndjson` (the generator's own line per session, the reference output) unless
/// all are present with the sizes recorded when they were written.
pub fn ensure_body(bins: &Bins, work: &Path, n: u64) -> Result<Bodies, Error> {
    let body = work.join(format!("body-{n}.json"));
    let body_gz = work.join(format!("body-{n}.json.gz"));
    let lines = work.join(format!("lines-{n}.ndjson"));
    let sizes = work.join(format!("body-{n}.sizes"));
    let recorded = std::fs::read_to_string(&sizes).unwrap_or_default();
    let measure = || {
        format!(
            "{} {} {}",
            file_len(&body),
            file_len(&lines),
            file_len(&body_gz)
        )
    };
    let current = measure();
    if recorded.trim() == current && !current.split(' ').any(|l| l == "0") {
        return Ok(Bodies { body, body_gz });
    }
    eprintln!(
        "generating {n} sessions (seed {SEED}) into {}",
        body.display()
    );
    generate(bins, n, &[], &body)?;
    generate(bins, n, &["--lines"], &lines)?;
    generate(bins, n, &["--gzip"], &body_gz)?;
    util::write(&sizes, &measure())?;
    Ok(Bodies { body, body_gz })
}

fn generate(bins: &Bins, n: u64, extra: &[&str], out: &Path) -> Result<(), Error> {
    let file = create(out)?;
    let status = Command::new(&bins.generate)
        .arg(SEED.to_string())
        .arg(n.to_string())
        .args(extra)
        .stdout(file)
        .status()
        .map_err(|e| Error::new(format!("cannot run {}: {e}", bins.generate.display())))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::new(format!("the generator failed ({status})")))
    }
}

pub fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

pub fn create(path: &Path) -> Result<File, Error> {
    File::create(path).map_err(|e| Error::new(format!("cannot create {}: {e}", path.display())))
}
