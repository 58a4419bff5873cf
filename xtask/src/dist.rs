//! `cargo xtask dist`: what a release ships, in `target/dist/`.
//!
//! * the release builds of `segura` and `segura-mock` (built with `--locked`, so the
//!   committed `Cargo.lock` is what ships);
//! * `completions/`: `segura.bash`, `_segura` (zsh) and `segura.fish`, from the built
//!   `segura completions <shell>`;
//! * `man/`: the manual pages, from the built `segura man --out-dir`;
//! * `SHA256SUMS`: the SHA-256 of every other file, in `sha256sum` format (from
//!   `sha256sum`, or `shasum -a 256` where that is what the system has).
//!
//! The directory is emptied first, so it holds exactly one build.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::args::Args;
use crate::metadata::Metadata;
use crate::util::{self, Error};

/// The packages whose binaries ship.
const PACKAGES: &[&str] = &["segura-cli", "segura-mock"];

/// Shells with a completion script, and the file name each one looks for.
const COMPLETIONS: &[(&str, &str)] = &[
    ("bash", "segura.bash"),
    ("zsh", "_segura"),
    ("fish", "segura.fish"),
];

pub fn run(args: Args) -> Result<(), Error> {
    args.finish()?;
    let root = util::project_root();
    let meta = Metadata::load(&root)?;
    let dist = meta.target_directory.join("dist");
    if dist.exists() {
        std::fs::remove_dir_all(&dist)
            .map_err(|e| Error::new(format!("cannot empty {}: {e}", dist.display())))?;
    }
    util::create_dir(&dist)?;

    let mut build = util::cargo(&root);
    build.args(["build", "--release", "--locked"]);
    for p in PACKAGES {
        build.args(["-p", p]);
    }
    util::run(&mut build)?;

    let release = meta.target_directory.join("release");
    for name in binaries(&meta)? {
        let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
        std::fs::copy(release.join(&file), dist.join(&file))
            .map_err(|e| Error::new(format!("cannot copy {file} into target/dist: {e}")))?;
    }

    let segura = dist.join(format!("segura{}", std::env::consts::EXE_SUFFIX));
    for (shell, file) in COMPLETIONS {
        let script =
            util::output(Command::new(&segura).args(["completions", shell])).map_err(|e| {
                Error::new(format!(
                    "{e}\ndist needs `segura completions <shell>` from segura-cli"
                ))
            })?;
        util::write(&dist.join("completions").join(file), &script)?;
    }
    let man = dist.join("man");
    util::create_dir(&man)?;
    util::output(Command::new(&segura).arg("man").arg("--out-dir").arg(&man)).map_err(|e| {
        Error::new(format!(
            "{e}\ndist needs `segura man --out-dir DIR` from segura-cli"
        ))
    })?;

    let sums = checksums(&dist)?;
    util::write(&dist.join("SHA256SUMS"), &sums)?;
    eprint!("target/dist:\n{sums}");
    Ok(())
}

/// The binary names of the shipped packages.
fn binaries(meta: &Metadata) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for p in PACKAGES {
        let package = meta.member(p)?;
        names.extend(
            package
                .targets
                .iter()
                .filter(|t| t.kinds.iter().any(|k| k == "bin"))
                .map(|t| t.name.clone()),
        );
    }
    Ok(names)
}

fn files_under(dir: &Path, base: &Path, out: &mut Vec<String>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::new(format!("cannot list {}: {e}", dir.display())))?;
    for entry in entries {
        let path: PathBuf = entry
            .map_err(|e| Error::new(format!("cannot list {}: {e}", dir.display())))?
            .path();
        if path.is_dir() {
            files_under(&path, base, out)?;
        } else {
            out.push(util::display_path(base, &path));
        }
    }
    Ok(())
}

/// `sha256sum` output for every file under `dir` except `SHA256SUMS`, sorted by path.
pub fn checksums(dir: &Path) -> Result<String, Error> {
    let mut files = Vec::new();
    files_under(dir, dir, &mut files)?;
    files.retain(|f| f != "SHA256SUMS");
    files.sort();
    let tools: [(&str, &[&str]); 2] = [("sha256sum", &[]), ("shasum", &["-a", "256"])];
    for (tool, flags) in tools {
        if let Err(e) = Command::new(tool).arg("--version").output() {
            if e.kind() == std::io::ErrorKind::NotFound {
                continue;
            }
        }
        let mut cmd = Command::new(tool);
        cmd.current_dir(dir).args(flags).arg("--").args(&files);
        return util::output(&mut cmd);
    }
    Err(Error::new(
        "neither `sha256sum` nor `shasum` is installed; install coreutils (or Perl's \
         shasum) to write target/dist/SHA256SUMS",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::TempDir;

    #[test]
    fn checksums_cover_every_file_in_sha256sum_format() {
        let dir = TempDir::new("dist");
        util::write(&dir.path().join("segura"), "abc").unwrap();
        util::write(&dir.path().join("completions/_segura"), "").unwrap();
        util::write(&dir.path().join("SHA256SUMS"), "old").unwrap();
        assert_eq!(
            checksums(dir.path()).unwrap(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  completions/_segura\n\
             ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  segura\n"
        );
    }

    #[test]
    fn ships_both_binaries() {
        let meta = Metadata::load(&util::project_root()).unwrap();
        assert_eq!(binaries(&meta).unwrap(), ["segura", "segura-mock"]);
    }
}
