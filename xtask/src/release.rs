//! `cargo xtask release --version X.Y.Z [--dry-run] [--no-test] [--no-publish]
//! [--date YYYY-MM-DD]`: the release procedure, written down as code.
//!
//! 1. Without `--dry-run`: check that tracked files are unchanged and that the tag
//!    `vX.Y.Z` does not exist yet.
//! 2. Set `version` in `[workspace.package]` and the `version` requirement of every
//!    internal crate in `[workspace.dependencies]` of the root `Cargo.toml` (members
//!    inherit both; a member with its own version is an error), and refresh
//!    `Cargo.lock`.
//! 3. Move the `## [Unreleased]` entries of CHANGELOG.md under
//!    `## [X.Y.Z] - YYYY-MM-DD` (today, UTC), leaving an empty Unreleased section.
//! 4. Unless `--no-test`: `cargo test --workspace`.
//! 5. Unless `--no-publish`: `cargo publish --dry-run` of every publishable crate in one
//!    command, so cargo packages them in dependency order and resolves each internal
//!    dependency against the crates packaged before it, not crates.io (this needs
//!    cargo 1.90 or later). Each package is built from its `.crate` file, which is what
//!    catches a file missing from a package.
//! 6. Without `--dry-run`: `git commit -am "Release X.Y.Z"` and `git tag -a vX.Y.Z`.
//!
//! With `--dry-run` the files are edited but not committed: review them with
//! `git diff`, undo with `git checkout -- Cargo.toml Cargo.lock CHANGELOG.md`.
//! Nothing is ever uploaded: publishing (`cargo publish` with the same crates) and
//! pushing the tag stay deliberate, manual steps.

use std::cmp::Ordering;
use std::fmt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::args::Args;
use crate::metadata::Metadata;
use crate::util::{self, Error};

pub fn run(mut args: Args) -> Result<(), Error> {
    let version = args
        .value("--version")?
        .ok_or_else(|| Error::new("release needs --version X.Y.Z"))?;
    let version = Version::parse(&version)?;
    let dry_run = args.flag("--dry-run");
    let no_test = args.flag("--no-test");
    let no_publish = args.flag("--no-publish");
    let date = match args.value("--date")? {
        Some(d) => check_date(&d)?,
        None => today(),
    };
    args.finish()?;

    let root = util::project_root();
    if !dry_run {
        let changes = util::output(std::process::Command::new("git").current_dir(&root).args([
            "status",
            "--porcelain",
            "--untracked-files=no",
        ]))?;
        if !changes.trim().is_empty() {
            return Err(Error::new(format!(
                "tracked files have uncommitted changes, which `git commit -am` would \
                 put in the release commit; commit or stash them first:\n{changes}"
            )));
        }
        let tag = format!("v{version}");
        let exists = std::process::Command::new("git")
            .current_dir(&root)
            .args([
                "rev-parse",
                "--quiet",
                "--verify",
                &format!("refs/tags/{tag}"),
            ])
            .output()
            .map_err(|e| Error::new(format!("cannot run git: {e}")))?
            .status
            .success();
        if exists {
            return Err(Error::new(format!("the tag {tag} exists already")));
        }
    }

    let old = prepare(&root, &version, &date)?;
    eprintln!("version {old} -> {version}; CHANGELOG.md: [{version}] - {date}");
    let undo = "the release stopped with Cargo.toml, Cargo.lock and CHANGELOG.md edited; \
                undo with `git checkout -- Cargo.toml Cargo.lock CHANGELOG.md`";
    let step = |r: Result<(), Error>| r.map_err(|e| Error::new(format!("{e}\n{undo}")));

    step(util::run(util::cargo(&root).args([
        "update",
        "--workspace",
        "--offline",
    ])))?;
    if !no_test {
        step(util::run(util::cargo(&root).args(["test", "--workspace"])))?;
    }
    if !no_publish {
        step(publish_dry_run(&root))?;
    }
    if dry_run {
        eprintln!(
            "dry run: nothing committed. Review with `git diff`; undo with \
             `git checkout -- Cargo.toml Cargo.lock CHANGELOG.md`."
        );
        return Ok(());
    }
    let message = format!("Release {version}");
    let git = || {
        let mut cmd = std::process::Command::new("git");
        cmd.current_dir(&root);
        cmd
    };
    util::run(git().args(["commit", "-am", &message]))?;
    util::run(git().args(["tag", "-a", &format!("v{version}"), "-m", &message]))?;
    eprintln!(
        "committed and tagged v{version}. Push with `git push --follow-tags`, then publish \
         with `cargo publish {}`.",
        publish_args(&Metadata::load(&root)?)?.join(" ")
    );
    Ok(())
}

/// `-p <crate>` for every publishable crate, in dependency order.
fn publish_args(meta: &Metadata) -> Result<Vec<String>, Error> {
    Ok(meta
        .publish_order()?
        .iter()
        .flat_map(|p| ["-p".to_owned(), p.name.clone()])
        .collect())
}

fn publish_dry_run(root: &Path) -> Result<(), Error> {
    let cargo_version = util::output(util::cargo(root).arg("--version"))?;
    let minor = cargo_version
        .split_whitespace()
        .nth(1)
        .and_then(|v| Version::parse(v.split('-').next().unwrap_or(v)).ok());
    if minor.is_some_and(|v| (v.major, v.minor) < (1, 90)) {
        return Err(Error::new(format!(
            "{} cannot check crates whose workspace dependencies are not on crates.io \
             yet; the publish dry run needs cargo 1.90 or later (or pass --no-publish)",
            cargo_version.trim()
        )));
    }
    let meta = Metadata::load(root)?;
    util::run(
        util::cargo(root)
            .args(["publish", "--dry-run", "--allow-dirty"])
            .args(publish_args(&meta)?),
    )
}

/// Edits the root manifest and the changelog for `version` released on `date`; returns
/// the previous version. Checks everything before writing anything.
pub fn prepare(root: &Path, version: &Version, date: &str) -> Result<Version, Error> {
    let manifest_path = root.join("Cargo.toml");
    let changelog_path = root.join("CHANGELOG.md");
    let manifest = util::read(&manifest_path)?;
    let (new_manifest, old) = bump_manifest(&manifest, version)?;
    if version <= &old {
        return Err(Error::new(format!(
            "{version} is not greater than the current version {old}"
        )));
    }
    for member in members(&manifest) {
        check_member(&root.join(&member).join("Cargo.toml"), &member)?;
    }
    let changelog = util::read(&changelog_path)?;
    let new_changelog = release_changelog(&changelog, version, date)?;
    util::write(&manifest_path, &new_manifest)?;
    util::write(&changelog_path, &new_changelog)?;
    Ok(old)
}

/// A semantic version `X.Y.Z`, with an optional `-pre` suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Option<String>,
}

impl Version {
    pub fn parse(s: &str) -> Result<Version, Error> {
        let bad = || Error::new(format!("{s:?} is not a version of the form X.Y.Z"));
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) if !p.is_empty() => (c, Some(p.to_owned())),
            Some(_) => return Err(bad()),
            None => (s, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        let num = |p: &str| -> Result<u64, Error> {
            if p.is_empty() || (p.len() > 1 && p.starts_with('0')) {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        match parts.as_slice() {
            [a, b, c] => Ok(Version {
                major: num(a)?,
                minor: num(b)?,
                patch: num(c)?,
                pre,
            }),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        match &self.pre {
            Some(p) => write!(f, "-{p}"),
            None => Ok(()),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
    }
}

/// The `[section]` a manifest line opens, if it opens one.
fn section(line: &str) -> Option<&str> {
    let t = line.trim();
    t.strip_prefix('[')?.strip_suffix(']').map(str::trim)
}

/// The quoted value of `version = "..."` in `line`, with its byte range.
fn version_value(line: &str) -> Option<(usize, usize)> {
    let key = line.find("version")?;
    let rest = &line[key + "version".len()..];
    let eq = rest.find('=')?;
    if !rest[..eq].trim().is_empty() {
        return None;
    }
    let open = key + "version".len() + eq + 1 + rest[eq + 1..].find('"')?;
    let close = open + 1 + line[open + 1..].find('"')?;
    Some((open + 1, close))
}

/// Sets the workspace version and the internal requirements; returns the new text and
/// the old version.
pub fn bump_manifest(text: &str, new: &Version) -> Result<(String, Version), Error> {
    let mut current = "";
    let mut old: Option<Version> = None;
    let mut internal = Vec::new();
    let mut out = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(s) = section(line) {
            current = s;
        }
        let key = line.split('=').next().unwrap_or("").trim();
        let edit = match current {
            "workspace.package" if key == "version" => version_value(line),
            "workspace.dependencies" if key.starts_with("segura-") => {
                let range = version_value(line).ok_or_else(|| {
                    Error::new(format!(
                        "Cargo.toml: [workspace.dependencies] {key} has no `version = \"...\"`; \
                         a published crate needs one next to `path`"
                    ))
                })?;
                internal.push((key.to_owned(), line[range.0..range.1].to_owned()));
                Some(range)
            }
            _ => None,
        };
        match edit {
            Some((from, to)) => {
                if current == "workspace.package" {
                    old = Some(Version::parse(&line[from..to])?);
                }
                let prefix: String = line[from..to]
                    .chars()
                    .take_while(|c| "=^~ ".contains(*c))
                    .collect();
                out.push(format!("{}{prefix}{new}{}", &line[..from], &line[to..]));
            }
            None => out.push(line.to_owned()),
        }
    }
    let old = old.ok_or_else(|| {
        Error::new("Cargo.toml has no `version` in [workspace.package]".to_owned())
    })?;
    for (name, req) in &internal {
        let bare = req.trim_start_matches(|c| "=^~ ".contains(c));
        if bare != old.to_string() {
            return Err(Error::new(format!(
                "Cargo.toml: {name} requires version {req:?} but the workspace is at {old}; \
                 they must move together"
            )));
        }
    }
    if internal.is_empty() {
        return Err(Error::new(
            "Cargo.toml: no segura-* crates in [workspace.dependencies]".to_owned(),
        ));
    }
    Ok((out.concat(), old))
}

/// The member directories listed in `[workspace] members = [...]`.
fn members(manifest: &str) -> Vec<String> {
    let Some(start) = manifest.find("members") else {
        return Vec::new();
    };
    let rest = &manifest[start..];
    let (Some(open), Some(close)) = (rest.find('['), rest.find(']')) else {
        return Vec::new();
    };
    rest[open + 1..close]
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

/// A member must inherit the workspace version and require internal crates through
/// the workspace, so that the root manifest is the one place a release edits.
fn check_member(path: &Path, member: &str) -> Result<(), Error> {
    let text = util::read(path)?;
    let mut current = "";
    for line in text.lines() {
        if let Some(s) = section(line) {
            current = s;
        }
        let key = line.split('=').next().unwrap_or("").trim();
        if current == "package" && key == "version" {
            return Err(Error::new(format!(
                "{member}/Cargo.toml sets its own version; use `version.workspace = true`"
            )));
        }
        if key.starts_with("segura-") && version_value(line).is_some() {
            return Err(Error::new(format!(
                "{member}/Cargo.toml requires {key} with its own version; use \
                 `{key}.workspace = true`"
            )));
        }
    }
    Ok(())
}

/// Moves the Unreleased entries under a new dated section.
pub fn release_changelog(text: &str, version: &Version, date: &str) -> Result<String, Error> {
    const UNRELEASED: &str = "## [Unreleased]";
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == UNRELEASED)
        .ok_or_else(|| Error::new(format!("CHANGELOG.md has no `{UNRELEASED}` section")))?;
    if lines
        .iter()
        .any(|l| l.starts_with(&format!("## [{version}]")))
    {
        return Err(Error::new(format!(
            "CHANGELOG.md already has a section for {version}"
        )));
    }
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.starts_with("## ") || is_link_reference(l))
        .map_or(lines.len(), |n| start + 1 + n);
    let body = lines[start + 1..end].concat();
    let has_entries = body
        .lines()
        .any(|l| l.trim_start().starts_with("- ") || l.trim_start().starts_with("* "));
    if !has_entries {
        return Err(Error::new(
            "CHANGELOG.md: nothing under [Unreleased]; say what changed before releasing",
        ));
    }
    let mut out = lines[..=start].concat();
    out.push_str(&format!("\n## [{version}] - {date}\n\n"));
    out.push_str(body.trim_matches('\n'));
    out.push_str("\n\n");
    out.push_str(&lines[end..].concat());
    Ok(out.trim_end_matches('\n').to_owned() + "\n")
}

/// `[1.0.0]: https://...` lines at the end of a Keep a Changelog file.
fn is_link_reference(line: &str) -> bool {
    line.starts_with('[') && line.contains("]: ")
}

fn check_date(d: &str) -> Result<String, Error> {
    let ok = d.len() == 10
        && d.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            _ => c.is_ascii_digit(),
        });
    if ok {
        Ok(d.to_owned())
    } else {
        Err(Error::new(format!("--date {d:?} is not YYYY-MM-DD")))
    }
}

/// Today's date in UTC, `YYYY-MM-DD`.
fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::TempDir;

    /// A copy of the workspace's manifests and changelog, the files a release edits.
    fn copy_of_workspace() -> TempDir {
        let root = util::project_root();
        let dir = TempDir::new("release");
        let manifest = util::read(&root.join("Cargo.toml")).unwrap();
        util::write(&dir.path().join("Cargo.toml"), &manifest).unwrap();
        for m in members(&manifest) {
            let text = util::read(&root.join(&m).join("Cargo.toml")).unwrap();
            util::write(&dir.path().join(&m).join("Cargo.toml"), &text).unwrap();
        }
        // An entry of its own, so that the test also passes right after a release,
        // when the real Unreleased section is empty.
        let changelog = util::read(&root.join("CHANGELOG.md")).unwrap().replacen(
            "## [Unreleased]\n",
            "## [Unreleased]\n\n- Test entry.\n",
            1,
        );
        util::write(&dir.path().join("CHANGELOG.md"), &changelog).unwrap();
        dir
    }

    #[test]
    fn prepare_bumps_versions_together_and_dates_the_changelog() {
        let root = util::project_root();
        let dir = copy_of_workspace();
        let before = util::read(&dir.path().join("Cargo.toml")).unwrap();
        let (_, current) = bump_manifest(&before, &Version::parse("0.0.0").unwrap()).unwrap();
        let next = Version {
            major: current.major + 1,
            minor: 0,
            patch: 0,
            pre: None,
        };
        let old = prepare(dir.path(), &next, "2030-01-02").unwrap();
        assert_eq!(old, current);

        let after = util::read(&dir.path().join("Cargo.toml")).unwrap();
        let changed: Vec<(&str, &str)> = before
            .lines()
            .zip(after.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(before.lines().count(), after.lines().count());
        let internal = before
            .lines()
            .filter(|l| l.starts_with("segura-") && l.contains("version"))
            .count();
        assert!(internal >= 4, "{before}");
        // The workspace version and one requirement per internal crate.
        assert_eq!(changed.len(), 1 + internal, "{changed:#?}");
        for (a, b) in changed {
            assert_eq!(
                a.replace(&format!("\"{current}\""), &format!("\"{next}\"")),
                b
            );
        }

        let changelog = util::read(&root.join("CHANGELOG.md")).unwrap();
        assert!(changelog.contains("\n## [Unreleased]\n"), "{changelog}");
        let released = util::read(&dir.path().join("CHANGELOG.md")).unwrap();
        let heading = format!("## [{next}] - 2030-01-02\n");
        let (head, rest) = released.split_once(&heading).unwrap();
        assert!(head.ends_with("## [Unreleased]\n\n"), "{head}");
        let unreleased = changelog
            .split_once("## [Unreleased]\n")
            .unwrap()
            .1
            .split("\n## ")
            .next()
            .unwrap()
            .trim();
        let moved = rest
            .trim_start()
            .strip_prefix("- Test entry.\n")
            .unwrap_or_else(|| panic!("{rest}"));
        assert!(moved.trim_start().starts_with(unreleased), "{rest}");

        // Nothing is left to release, and a failed attempt writes nothing.
        let e = prepare(dir.path(), &Version::parse("99.0.0").unwrap(), "2030-01-03")
            .unwrap_err()
            .to_string();
        assert!(e.contains("nothing under [Unreleased]"), "{e}");
        assert_eq!(util::read(&dir.path().join("Cargo.toml")).unwrap(), after);
        let e = prepare(dir.path(), &current, "2030-01-03")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not greater than the current version"), "{e}");
    }

    #[test]
    fn manifests_must_keep_one_version() {
        let v = Version::parse("0.2.0").unwrap();
        let manifest = "[workspace.package]\nversion = \"0.1.0\"\n\n[workspace.dependencies]\n\
                        segura-model = { path = \"m\", version = \"=0.1.0\" }\n\
                        serde = { version = \"1\" }\n";
        let (new, old) = bump_manifest(manifest, &v).unwrap();
        assert_eq!(old, Version::parse("0.1.0").unwrap());
        assert_eq!(
            new,
            "[workspace.package]\nversion = \"0.2.0\"\n\n[workspace.dependencies]\n\
             segura-model = { path = \"m\", version = \"=0.2.0\" }\n\
             serde = { version = \"1\" }\n"
        );
        let drifted = manifest.replace("=0.1.0", "0.0.9");
        let e = bump_manifest(&drifted, &v).unwrap_err().to_string();
        assert!(e.contains("segura-model requires version \"0.0.9\""), "{e}");
        let unversioned = manifest.replace(", version = \"=0.1.0\"", "");
        assert!(bump_manifest(&unversioned, &v).is_err());

        let dir = TempDir::new("member");
        let path = dir.path().join("Cargo.toml");
        util::write(&path, "[package]\nname = \"x\"\nversion = \"0.1.0\"\n").unwrap();
        assert!(check_member(&path, "crates/x").is_err());
        util::write(
            &path,
            "[package]\nversion.workspace = true\n[dependencies]\nsegura-api = { path = \"../a\", version = \"0.1\" }\n",
        )
        .unwrap();
        let e = check_member(&path, "crates/x").unwrap_err().to_string();
        assert!(e.contains("segura-api.workspace = true"), "{e}");
    }

    #[test]
    fn changelog_with_link_references() {
        let text = "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- A thing.\n\n\
                    [Unreleased]: https://example.invalid/compare/v0.1.0...HEAD\n";
        let out = release_changelog(text, &Version::parse("0.2.0").unwrap(), "2030-01-02").unwrap();
        assert_eq!(
            out,
            "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2030-01-02\n\n### Added\n\n- A thing.\n\n\
             [Unreleased]: https://example.invalid/compare/v0.1.0...HEAD\n"
        );
        assert!(
            release_changelog("# Changelog\n", &Version::parse("0.2.0").unwrap(), "d").is_err()
        );
    }

    #[test]
    fn versions_and_dates() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(v("0.10.0") > v("0.9.9"));
        assert!(v("1.0.0") > v("1.0.0-rc.1"));
        assert!(v("1.0.0-rc.2") > v("1.0.0-rc.1"));
        assert_eq!(v("1.2.3-beta.1").to_string(), "1.2.3-beta.1");
        for bad in ["1.2", "1.2.3.4", "01.2.3", "1.x.3", "1.2.3-", ""] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_783), (2024, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(check_date("2024-05-06").unwrap(), "2024-05-06");
        assert!(check_date("2024-5-6").is_err());
        assert_eq!(today().len(), 10);
    }

    #[test]
    fn arguments_are_checked_before_anything_runs() {
        let args = |s: &str| Args::new(s.split_whitespace().map(str::to_owned).collect());
        let e = run(args("--dry-run")).unwrap_err().to_string();
        assert_eq!(e, "release needs --version X.Y.Z");
        let e = run(args("--version 1.2")).unwrap_err().to_string();
        assert!(e.contains("not a version"), "{e}");
        let e = run(args("--version 1.2.3 --date tomorrow"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not YYYY-MM-DD"), "{e}");
        let e = run(args("--version 1.2.3 --publish"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unexpected argument \"--publish\""), "{e}");
    }
}
