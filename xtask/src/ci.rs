//! `cargo xtask ci`: the checks CI runs, in the same order, so a developer runs exactly
//! the same thing locally. `.ci/run` runs the same commands.
//!
//! The generated-files check and tidy also run inside `cargo test`; they run early here
//! too, in process, because they take a second and name the problem plainly.

use std::path::Path;

use crate::args::Args;
use crate::util::{self, Error};
use crate::{codegen, tidy};

/// One cargo command.
pub struct Step {
    pub env: &'static [(&'static str, &'static str)],
    pub args: &'static [&'static str],
}

/// Formatting, checked before anything is compiled.
pub const FORMAT: Step = Step {
    env: &[],
    args: &["fmt", "--all", "--", "--check"],
};

/// The steps after codegen and tidy.
pub const BUILD_STEPS: [Step; 3] = [
    Step {
        env: &[],
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    },
    Step {
        env: &[],
        args: &["test", "--workspace"],
    },
    Step {
        env: &[("RUSTDOCFLAGS", "-D warnings")],
        args: &["doc", "--workspace", "--no-deps"],
    },
];

pub fn run(args: Args) -> Result<(), Error> {
    args.finish()?;
    let root = util::project_root();
    cargo(&root, &FORMAT)?;

    eprintln!("$ cargo xtask codegen --check");
    codegen::ensure_fresh(&root, &codegen::generate(&root)?)?;
    eprintln!("$ cargo xtask tidy");
    let problems = tidy::check(&root)?;
    if !problems.is_empty() {
        return Err(Error::new(format!("tidy:\n{}", problems.join("\n"))));
    }

    for step in &BUILD_STEPS {
        cargo(&root, step)?;
    }
    eprintln!("ci: ok");
    Ok(())
}

fn cargo(root: &Path, step: &Step) -> Result<(), Error> {
    let mut cmd = util::cargo(root);
    cmd.envs(step.env.iter().copied()).args(step.args);
    util::run(&mut cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_what_ci_runs() {
        let root = util::project_root();
        let lines: Vec<String> = std::iter::once(&FORMAT)
            .chain(&BUILD_STEPS)
            .map(|s| {
                let mut cmd = std::process::Command::new("cargo");
                cmd.envs(s.env.iter().copied()).args(s.args);
                util::describe(&cmd)
            })
            .collect();
        assert_eq!(
            lines,
            [
                "cargo fmt --all -- --check",
                "cargo clippy --workspace --all-targets -- -D warnings",
                "cargo test --workspace",
                "RUSTDOCFLAGS=\"-D warnings\" cargo doc --workspace --no-deps",
            ]
        );
        // The CI script runs `cargo xtask ci`, or else every one of these steps, so the
        // two cannot drift apart.
        let script = util::read(&root.join(".ci/run")).unwrap();
        if script.lines().any(|l| l.trim() == "cargo xtask ci") {
            return;
        }
        for line in &lines {
            let plain = line.replace('"', "");
            let found = script.lines().any(|l| {
                let l = l.trim().replace('"', "");
                l == plain || l.starts_with(&format!("{plain} "))
            });
            assert!(found, ".ci/run does not run `{line}`:\n{script}");
        }
    }
}
