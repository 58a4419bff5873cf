//! `cargo xtask tidy`: the invariants no compiler checks. The test `tidy` runs the same
//! checks, so `cargo test` fails when one is broken.
//!
//! * every crate root (`lib.rs`, `main.rs`, each binary) starts with a `//!` doc; every
//!   library denies `missing_docs`, and the model and API crates forbid `unsafe`;
//! * the layering of ARCHITECTURE.md, read from `cargo metadata` ([`layering`]);
//! * no `#[ignore]` or `#[should_panic]` anywhere, and no `todo!()` or
//!   `unimplemented!()` outside test code ([`source`]);
//! * every dependency's license is in the allow-list ([`licenses`]);
//! * every entry of `[workspace.dependencies]` is used by a member ([`manifest`]);
//! * the protocol layer of `segura-api` performs no I/O ([`pure`]).

mod layering;
mod licenses;
mod manifest;
mod pure;
mod source;

use std::path::Path;

use crate::args::Args;
use crate::metadata::Metadata;
use crate::util::{self, display_path, Error};

pub fn run(args: Args) -> Result<(), Error> {
    args.finish()?;
    let root = util::project_root();
    let problems = check(&root)?;
    if problems.is_empty() {
        eprintln!("tidy: ok");
        Ok(())
    } else {
        Err(Error::new(format!(
            "tidy found {} problem(s):\n{}",
            problems.len(),
            problems.join("\n")
        )))
    }
}

/// Every problem in the workspace at `root`, one line each.
pub fn check(root: &Path) -> Result<Vec<String>, Error> {
    let meta = Metadata::load(root)?;
    let mut problems = crate_docs(root, &meta)?;
    problems.extend(layering::check(&meta));
    problems.extend(source::check(root, &meta)?);
    problems.extend(licenses::check(&meta));
    problems.extend(pure::check(root)?);
    problems.extend(manifest::check(
        &util::read(&root.join("Cargo.toml"))?,
        &meta,
    ));
    Ok(problems)
}

/// Libraries that must `#![forbid(unsafe_code)]` (ARCHITECTURE.md: no `unsafe`).
const NO_UNSAFE: &[&str] = &["segura-model", "segura-api"];

/// Target kinds whose source file is a crate root.
const ROOT_KINDS: &[&str] = &[
    "lib",
    "rlib",
    "dylib",
    "cdylib",
    "staticlib",
    "proc-macro",
    "bin",
];

fn crate_docs(root: &Path, meta: &Metadata) -> Result<Vec<String>, Error> {
    let mut problems = Vec::new();
    for p in meta.workspace_packages() {
        for t in &p.targets {
            if !t.kinds.iter().any(|k| ROOT_KINDS.contains(&k.as_str())) {
                continue;
            }
            let text = util::read(&t.src_path)?;
            let rel = display_path(root, &t.src_path);
            if let Some(problem) = doc_problem(&text) {
                problems.push(format!("{rel}: {problem}"));
            }
            let code = source::code_only(&text);
            let is_lib = t.kinds.iter().any(|k| k != "bin");
            if is_lib && !has_inner_attr(&code, "deny", "missing_docs") {
                problems.push(format!(
                    "{rel}: a library must have `#![deny(missing_docs)]`"
                ));
            }
            if is_lib
                && NO_UNSAFE.contains(&p.name.as_str())
                && !has_inner_attr(&code, "forbid", "unsafe_code")
            {
                problems.push(format!(
                    "{rel}: {} must have `#![forbid(unsafe_code)]`",
                    p.name
                ));
            }
        }
    }
    Ok(problems)
}

/// Whether blanked code holds `#![level(lint)]`, alone or among other lints.
fn has_inner_attr(code: &str, level: &str, lint: &str) -> bool {
    code.match_indices("#").any(|(i, _)| {
        source::tokens_at(code, i, &["#", "!", "[", level, "("]).is_some_and(|open| {
            let close = code[open..].find(')').map_or(code.len(), |n| open + n);
            code[open..close].split(',').any(|l| l.trim() == lint)
        })
    })
}

/// Why a crate root's text does not start with a `//!` doc, if it does not.
fn doc_problem(text: &str) -> Option<&'static str> {
    let first = text.lines().find(|l| !l.trim().is_empty());
    match first {
        Some(l) if l.trim_start().starts_with("//!") => None,
        _ => Some("the crate root does not start with a `//!` doc saying what the crate is for"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn tidy() {
        let started = Instant::now();
        let problems = check(&util::project_root()).unwrap();
        assert!(
            problems.is_empty(),
            "tidy found problems:\n{}",
            problems.join("\n")
        );
        // The check runs with every `cargo test`: keep it cheap.
        let took = started.elapsed();
        assert!(took < Duration::from_secs(10), "tidy took {took:?}");
    }

    #[test]
    fn crate_roots_need_a_module_doc() {
        assert_eq!(doc_problem("//! The thing.\nfn main() {}\n"), None);
        assert_eq!(doc_problem("\n//! After a blank line.\n"), None);
        assert!(doc_problem("/// An item doc.\nfn main() {}\n").is_some());
        assert!(doc_problem("#![deny(missing_docs)]\n//! Too late.\n").is_some());
        assert!(doc_problem("").is_some());
    }

    #[test]
    fn inner_attributes() {
        let code = source::code_only(
            "//! Doc.\n#![deny(missing_docs, unreachable_pub)]\n#![forbid( unsafe_code )]\n",
        );
        assert!(has_inner_attr(&code, "deny", "missing_docs"));
        assert!(has_inner_attr(&code, "forbid", "unsafe_code"));
        assert!(!has_inner_attr(&code, "deny", "unsafe_code"));
        let commented =
            source::code_only("// #![forbid(unsafe_code)]\n#[deny(missing_docs)]\nfn f() {}\n");
        assert!(!has_inner_attr(&commented, "forbid", "unsafe_code"));
        assert!(!has_inner_attr(&commented, "deny", "missing_docs"));
    }
}
