//! The protocol layer performs no I/O (ARCHITECTURE.md): the sources of
//! `segura-api`'s `protocol` module name no crate or module that does I/O, reads the
//! clock or draws randomness. A request is a function of its inputs, an answer's meaning
//! a function of status, headers and body; the generic client does the waiting.

use std::path::Path;

use super::source::code_only;
use crate::util::{self, display_path, Error};

/// The protocol layer's directory, under the workspace root.
pub const PROTOCOL_DIR: &str = "crates/segura-api/src/protocol";

/// Paths the protocol layer must not use, and why.
const FORBIDDEN: &[(&str, &str)] = &[
    ("tokio", "an async runtime"),
    ("std::net", "sockets"),
    ("std::fs", "files"),
    ("std::io", "I/O"),
    ("std::process", "processes"),
    ("std::env", "the environment"),
    ("std::thread", "threads"),
    ("SystemTime", "the clock (pass the time in)"),
    ("Instant", "the clock (pass the time in)"),
    ("getrandom", "randomness (pass the nonce in)"),
    ("reqwest", "an HTTP client"),
    ("hyper", "an HTTP stack"),
];

/// Every use of a forbidden path in the Rust sources under `dir`, as `file:line: what`.
pub fn check(root: &Path) -> Result<Vec<String>, Error> {
    let dir = root.join(PROTOCOL_DIR);
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| Error::new(format!("cannot list {}: {e}", dir.display())))?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let mut problems = Vec::new();
    for path in files {
        let code = code_only(&util::read(&path)?);
        for (line, what) in uses(&code) {
            problems.push(format!(
                "{}:{line}: the protocol layer performs no I/O, but this uses {what}",
                display_path(root, &path)
            ));
        }
    }
    Ok(problems)
}

/// The forbidden paths `code` (comments and literals blanked) names, with their line.
fn uses(code: &str) -> Vec<(usize, String)> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::new();
    for (name, why) in FORBIDDEN {
        let mut from = 0;
        while let Some(at) = code[from..].find(name) {
            let start = from + at;
            let end = start + name.len();
            let before = code[..start].chars().next_back();
            let after = code[end..].chars().next();
            // A whole path: not a part of a longer name (`my_tokio`, `tokio_util`).
            let whole = !before.is_some_and(ident) && !after.is_some_and(ident);
            if whole {
                let line = code[..start].matches('\n').count() + 1;
                out.push((line, format!("`{name}` ({why})")));
            }
            from = end;
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_is_found_and_words_in_comments_are_not() {
        let code = code_only(
            "use std::net::TcpStream;\n// tokio in a comment\nlet s = \"std::fs\";\n\
             let t = tokio::time::sleep(d);\nlet now = std::time::SystemTime::now();\n\
             fn my_tokio_like() {}\n",
        );
        let found: Vec<usize> = uses(&code).into_iter().map(|(l, _)| l).collect();
        assert_eq!(found, [1, 4, 5]);
    }

    #[test]
    fn the_protocol_layer_is_checked() {
        let root = util::project_root();
        assert!(root.join(PROTOCOL_DIR).join("mod.rs").is_file());
        let problems = check(&root).unwrap_or_else(|e| panic!("{e}"));
        assert!(problems.is_empty(), "{problems:?}");
    }
}
