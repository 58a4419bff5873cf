//! Attributes and macros the project does not allow in its Rust sources.
//!
//! * `#[ignore]` is banned everywhere, tests included: an ignored test silently never
//!   runs. `#[should_panic]` likewise: a test asserts on a returned error instead.
//! * `todo!()` and `unimplemented!()` are banned outside test code. Test code is a
//!   `tests/` directory, an item under `#[cfg(test)]`, and the file of a
//!   `#[cfg(test)] mod name;`.
//!
//! Comments and string literals are blanked out before searching, so documentation
//! that mentions these names is fine.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::metadata::Metadata;
use crate::util::{self, display_path, Error};

/// Directories of a package that hold Rust sources.
const SOURCE_DIRS: &[&str] = &["src", "tests", "benches", "examples"];

pub fn check(root: &Path, meta: &Metadata) -> Result<Vec<String>, Error> {
    let mut files = BTreeSet::new();
    // The root `tests/` holds the end-to-end tests; `fuzz/` is a workspace of its own.
    let mut dirs: Vec<PathBuf> = vec![root.join("tests"), root.join("fuzz/fuzz_targets")];
    for p in meta.workspace_packages() {
        if let Some(dir) = p.manifest_path.parent() {
            dirs.extend(SOURCE_DIRS.iter().map(|d| dir.join(d)));
        }
    }
    for dir in &dirs {
        rust_files(dir, &mut files)?;
    }

    let mut sources = Vec::new();
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    for path in files {
        let code = code_only(&util::read(&path)?);
        let regions = cfg_test_items(&code);
        for module in &regions.modules {
            test_only.extend(module_paths(&path, module));
        }
        sources.push((path, code, regions.ranges));
    }

    let mut problems = Vec::new();
    for (path, code, test_ranges) in &sources {
        let rel = display_path(root, path);
        let is_test_file = rel.starts_with("tests/")
            || rel.contains("/tests/")
            || test_only.iter().any(|t| path.starts_with(t));
        for (offset, what) in banned(code) {
            let in_test = is_test_file || test_ranges.iter().any(|r| r.contains(&offset));
            let message = match what {
                Banned::Ignore => "`#[ignore]`: a test that never runs; make it fast or remove it",
                Banned::ShouldPanic => "`#[should_panic]`: assert on the returned error instead",
                Banned::Todo if !in_test => "`todo!()` outside test code",
                Banned::Unimplemented if !in_test => "`unimplemented!()` outside test code",
                Banned::Todo | Banned::Unimplemented => continue,
            };
            let line = code[..offset].matches('\n').count() + 1;
            problems.push(format!("{rel}:{line}: {message}"));
        }
    }
    Ok(problems)
}

fn rust_files(dir: &Path, out: &mut BTreeSet<PathBuf>) -> Result<(), Error> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry
            .map_err(|e| Error::new(format!("cannot list {}: {e}", dir.display())))?
            .path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.insert(path);
        }
    }
    Ok(())
}

/// Where the file of `mod name;` declared in `file` lives: `name.rs` or `name/mod.rs`,
/// and the directory `name/` of its own submodules.
fn module_paths(file: &Path, name: &str) -> Vec<PathBuf> {
    let dir = file.parent().unwrap_or(Path::new(""));
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let base = if matches!(stem, "lib" | "main" | "mod") {
        dir.to_path_buf()
    } else {
        dir.join(stem)
    };
    vec![base.join(format!("{name}.rs")), base.join(name)]
}

/// The text with comments and the contents of string, byte-string and character
/// literals replaced by spaces; line breaks and byte offsets are kept.
pub fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        let prev_ident = i > 0 && ident(b[i - 1]);
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                let mut j = i;
                while j < b.len() {
                    if b[j..].starts_with(b"/*") {
                        depth += 1;
                        j += 2;
                    } else if b[j..].starts_with(b"*/") {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                blank(&mut out, i, j);
                i = j;
            }
            // Raw strings: r"..", r#".."#, br"..", cr#".."#.
            b'r' | b'b' | b'c' if !prev_ident && raw_string_start(b, i).is_some() => {
                let (quote, hashes) = raw_string_start(b, i).unwrap_or((i, 0));
                let mut closing = vec![b'"'];
                closing.extend(std::iter::repeat_n(b'#', hashes));
                let end = b[quote + 1..]
                    .windows(closing.len())
                    .position(|w| w == closing.as_slice())
                    .map_or(b.len(), |n| quote + 1 + n + closing.len());
                blank(&mut out, i, end);
                i = end;
            }
            b'"' => {
                let end = literal_end(b, i, b'"');
                blank(&mut out, i, end);
                i = end;
            }
            b'\'' => {
                // A character literal ('x', '\n', '\u{1F600}'), or else a lifetime or label.
                let end = if b.get(i + 1) == Some(&b'\\') {
                    Some(literal_end(b, i, b'\''))
                } else {
                    src[i + 1..].chars().next().and_then(|c| {
                        let after = i + 1 + c.len_utf8();
                        (b.get(after) == Some(&b'\'')).then_some(after + 1)
                    })
                };
                match end {
                    Some(end) => {
                        blank(&mut out, i, end);
                        i = end;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    // Only ASCII bytes were replaced, by ASCII spaces, at ASCII positions, or whole
    // literals were blanked: the result is still UTF-8 except inside blanked ranges,
    // which hold spaces only.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// For a raw string starting at `i`: the index of its opening quote and its `#` count.
fn raw_string_start(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if b[j] == b'b' || b[j] == b'c' {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|&&c| c == b'#').count();
    j += hashes;
    (b.get(j) == Some(&b'"')).then_some((j, hashes))
}

/// The index just after a quoted literal opening at `i`, honouring backslash escapes.
fn literal_end(b: &[u8], i: usize, quote: u8) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            c if c == quote => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// What `#[cfg(test)]` covers in one file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TestItems {
    /// Byte ranges of inline items (`mod tests { .. }`, functions, impls).
    pub ranges: Vec<std::ops::Range<usize>>,
    /// Names of out-of-line test modules (`mod tests;`).
    pub modules: Vec<String>,
}

/// Finds the items under `#[cfg(test)]` in blanked code (see [`code_only`]).
pub fn cfg_test_items(code: &str) -> TestItems {
    let b = code.as_bytes();
    let mut items = TestItems::default();
    let mut from = 0;
    while let Some(start) = code[from..].find('#').map(|n| from + n) {
        from = start + 1;
        let Some(after_attr) = tokens_at(code, start, &["#", "[", "cfg", "(", "test", ")", "]"])
        else {
            continue;
        };
        // Skip further attributes, then the item up to its body or semicolon.
        let mut j = after_attr;
        loop {
            j = skip_ws(code, j);
            if code[j..].starts_with("#") {
                match code[j..].find('[').map(|n| j + n) {
                    Some(open) => j = matching(b, open, b'[', b']'),
                    None => break,
                }
            } else {
                break;
            }
        }
        let Some(stop) = code[j..].find(['{', ';']).map(|n| j + n) else {
            break;
        };
        if b[stop] == b';' {
            let words: Vec<&str> = code[j..stop].split_whitespace().collect();
            if let [.., "mod", name] = words.as_slice() {
                items.modules.push((*name).to_owned());
            }
            items.ranges.push(start..stop + 1);
            from = stop + 1;
        } else {
            let end = matching(b, stop, b'{', b'}');
            items.ranges.push(start..end);
            from = end;
        }
    }
    items
}

fn skip_ws(code: &str, i: usize) -> usize {
    i + code[i..].len() - code[i..].trim_start().len()
}

/// If `code` at `i` holds `words` separated by optional whitespace, the index after.
pub fn tokens_at(code: &str, mut i: usize, words: &[&str]) -> Option<usize> {
    for w in words {
        i = skip_ws(code, i);
        if !code[i..].starts_with(w) {
            return None;
        }
        i += w.len();
    }
    Some(i)
}

/// The index after the bracket that closes the one at `open`.
fn matching(b: &[u8], open: usize, left: u8, right: u8) -> usize {
    let mut depth = 0usize;
    for (j, &c) in b.iter().enumerate().skip(open) {
        if c == left {
            depth += 1;
        } else if c == right {
            depth -= 1;
            if depth == 0 {
                return j + 1;
            }
        }
    }
    b.len()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Banned {
    Ignore,
    ShouldPanic,
    Todo,
    Unimplemented,
}

/// Every banned attribute or macro in blanked code, with its byte offset.
pub fn banned(code: &str) -> Vec<(usize, Banned)> {
    let b = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut found = Vec::new();
    for (i, _) in code.match_indices('#') {
        for (name, what) in [
            ("ignore", Banned::Ignore),
            ("should_panic", Banned::ShouldPanic),
        ] {
            if let Some(end) = tokens_at(code, i, &["#", "[", name]) {
                if !b.get(end).copied().is_some_and(ident) {
                    found.push((i, what));
                }
            }
        }
    }
    for (name, what) in [
        ("todo", Banned::Todo),
        ("unimplemented", Banned::Unimplemented),
    ] {
        for (i, _) in code.match_indices(name) {
            let end = i + name.len();
            let starts_word = i == 0 || !ident(b[i - 1]);
            let ends_word = !b.get(end).copied().is_some_and(ident);
            let standalone = starts_word && ends_word;
            let bang = skip_ws(code, end);
            if standalone && b.get(bang) == Some(&b'!') && b.get(bang + 1) != Some(&b'=') {
                found.push((i, what));
            }
        }
    }
    found.sort_by_key(|(i, _)| *i);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_literals_are_blanked() {
        let src = "let a = \"todo!()\"; // todo!()\n/* #[ignore] /* nested */ */ let b = 'x';\n\
                   let r = r#\"a \"todo!\" b\"#; let l: &'static str = br\"x\"; let c = '\\'';\n\
                   fn f<'a>(x: &'a u8) -> char { '\u{e9}' }";
        let code = code_only(src);
        assert_eq!(code.len(), src.len());
        assert_eq!(code.lines().count(), src.lines().count());
        assert!(!code.contains("todo"), "{code}");
        assert!(!code.contains("ignore"), "{code}");
        assert!(code.contains("fn f<'a>(x: &'a u8) -> char {"), "{code}");
        assert!(code.contains("let l: &'static str ="), "{code}");
        assert!(banned(&code).is_empty());
    }

    #[test]
    fn finds_banned_attributes_and_macros() {
        let src = "#[test]\n# [ ignore ]\nfn a() {}\n#[ignore = \"slow\"]\nfn b() {}\n\
                   #[should_panic(expected = \"x\")]\nfn c() { todo!() }\n\
                   fn d() { unimplemented! {} }\n#[ignored_attr]\nfn e() { my_todo!(); todo != 1; }\n";
        let code = code_only(src);
        let found: Vec<(usize, Banned)> = banned(&code)
            .into_iter()
            .map(|(i, w)| (code[..i].matches('\n').count() + 1, w))
            .collect();
        assert_eq!(
            found,
            [
                (2, Banned::Ignore),
                (4, Banned::Ignore),
                (6, Banned::ShouldPanic),
                (7, Banned::Todo),
                (8, Banned::Unimplemented),
            ]
        );
    }

    #[test]
    fn cfg_test_items_cover_modules_functions_and_files() {
        let src = "fn real() { todo!() }\n\
                   #[cfg(test)]\nmod tests {\n    fn helper() { todo!() }\n    mod inner { }\n}\n\
                   #[cfg(test)]\n#[allow(dead_code)]\nfn only_in_tests() { unimplemented!() }\n\
                   #[cfg(test)]\npub(crate) mod fixtures;\n\
                   #[cfg(not(test))]\nfn not_test() { todo!() }\n";
        let code = code_only(src);
        let items = cfg_test_items(&code);
        assert_eq!(items.modules, ["fixtures"]);
        let outside: Vec<usize> = banned(&code)
            .into_iter()
            .filter(|(i, _)| !items.ranges.iter().any(|r| r.contains(i)))
            .map(|(i, _)| code[..i].matches('\n').count() + 1)
            .collect();
        assert_eq!(outside, [1, 13]);
        assert_eq!(
            module_paths(Path::new("/c/src/codegen.rs"), "validate"),
            [
                PathBuf::from("/c/src/codegen/validate.rs"),
                PathBuf::from("/c/src/codegen/validate")
            ]
        );
        assert_eq!(
            module_paths(Path::new("/c/src/lib.rs"), "tests"),
            [
                PathBuf::from("/c/src/tests.rs"),
                PathBuf::from("/c/src/tests")
            ]
        );
    }
}
