//! Every package in the dependency graph has an SPDX `license` the allow-list accepts.
//!
//! Expressions are evaluated simply: `A OR B` passes when either side does, `A AND B`
//! when both do, `A WITH E` when `A` does and `E` is an allowed exception; the legacy
//! `/` separator (`MIT/Apache-2.0`) means OR.

use crate::metadata::Metadata;

/// Licenses that let segura be distributed under MIT OR Apache-2.0 without extra duties
/// beyond keeping notices. A new entry deserves a sentence in the commit message.
pub const ALLOWED: &[&str] = &[
    "MIT",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Zlib",
    "CC0-1.0",
    "MPL-2.0",
    "0BSD",
    "MIT-0",
    "BSL-1.0",
    // webpki-roots: the Mozilla root certificates.
    "CDLA-Permissive-2.0",
];

/// Exceptions allowed after `WITH`.
const ALLOWED_EXCEPTIONS: &[&str] = &["LLVM-exception"];

pub fn check(meta: &Metadata) -> Vec<String> {
    let mut problems = Vec::new();
    for p in &meta.packages {
        let who = format!("{} {}", p.name, p.version);
        match &p.license {
            None => problems.push(format!(
                "{who} has no SPDX `license` (license file: {}); review it and extend \
                 xtask/src/tidy/licenses.rs",
                p.license_file.as_deref().unwrap_or("none")
            )),
            Some(expr) => match allowed(expr) {
                Ok(true) => {}
                Ok(false) => problems.push(format!(
                    "{who} is licensed `{expr}`, which the allow-list in \
                     xtask/src/tidy/licenses.rs does not accept"
                )),
                Err(e) => problems.push(format!("{who}: cannot read its license `{expr}`: {e}")),
            },
        }
    }
    problems
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    With,
    Id(String),
}

fn tokens(expr: &str) -> Vec<Token> {
    let spaced = expr
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace('/', " OR ");
    spaced
        .split_whitespace()
        .map(|w| match w {
            "(" => Token::Open,
            ")" => Token::Close,
            _ if w.eq_ignore_ascii_case("AND") => Token::And,
            _ if w.eq_ignore_ascii_case("OR") => Token::Or,
            _ if w.eq_ignore_ascii_case("WITH") => Token::With,
            _ => Token::Id(w.to_owned()),
        })
        .collect()
}

/// Whether the SPDX expression `expr` is acceptable; an error when it does not parse.
pub fn allowed(expr: &str) -> Result<bool, String> {
    let tokens = tokens(expr);
    let mut i = 0;
    let ok = or_expr(&tokens, &mut i)?;
    match tokens.get(i) {
        None => Ok(ok),
        Some(t) => Err(format!("unexpected {t:?}")),
    }
}

fn or_expr(t: &[Token], i: &mut usize) -> Result<bool, String> {
    let mut ok = and_expr(t, i)?;
    while t.get(*i) == Some(&Token::Or) {
        *i += 1;
        ok |= and_expr(t, i)?;
    }
    Ok(ok)
}

fn and_expr(t: &[Token], i: &mut usize) -> Result<bool, String> {
    let mut ok = with_expr(t, i)?;
    while t.get(*i) == Some(&Token::And) {
        *i += 1;
        ok &= with_expr(t, i)?;
    }
    Ok(ok)
}

fn with_expr(t: &[Token], i: &mut usize) -> Result<bool, String> {
    let ok = primary(t, i)?;
    if t.get(*i) != Some(&Token::With) {
        return Ok(ok);
    }
    *i += 1;
    match t.get(*i) {
        Some(Token::Id(exception)) => {
            *i += 1;
            Ok(ok && ALLOWED_EXCEPTIONS.contains(&exception.as_str()))
        }
        other => Err(format!("expected an exception after WITH, found {other:?}")),
    }
}

fn primary(t: &[Token], i: &mut usize) -> Result<bool, String> {
    match t.get(*i) {
        Some(Token::Id(id)) => {
            *i += 1;
            Ok(ALLOWED.contains(&id.as_str()))
        }
        Some(Token::Open) => {
            *i += 1;
            let ok = or_expr(t, i)?;
            if t.get(*i) != Some(&Token::Close) {
                return Err("unbalanced parenthesis".to_owned());
            }
            *i += 1;
            Ok(ok)
        }
        other => Err(format!("expected a license, found {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spdx_expressions() {
        for ok in [
            "MIT",
            "MIT OR Apache-2.0",
            "MIT/Apache-2.0",
            "Apache-2.0 / MIT",
            "Unlicense OR MIT",
            "Apache-2.0 AND ISC",
            "(MIT OR Apache-2.0) AND Unicode-3.0",
            "Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT",
            "MIT OR Apache-2.0 OR LGPL-2.1-or-later",
            "CDLA-Permissive-2.0",
        ] {
            assert_eq!(allowed(ok), Ok(true), "{ok}");
        }
        for bad in [
            "GPL-3.0-only",
            "MIT AND GPL-2.0",
            "(MIT OR Apache-2.0) AND LGPL-2.1",
            "Apache-2.0 WITH Some-exception",
            "Unlicense",
        ] {
            assert_eq!(allowed(bad), Ok(false), "{bad}");
        }
        for broken in ["", "MIT OR", "(MIT", "MIT Apache-2.0", "MIT WITH"] {
            assert!(allowed(broken).is_err(), "{broken}");
        }
    }
}
