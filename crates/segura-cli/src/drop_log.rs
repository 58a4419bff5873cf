//! The local audit log of drops: one JSON line per drop attempt (dry runs and declined
//! confirmations too), appended to a private file.
//!
//! The file is opened like the watch state's lock file ([`crate::state_file`]): created
//! 0600, never through a symbolic link, refused unless a regular file; and refused when
//! another user owns it or every user may write it. Each line is written with one
//! `write` on a file opened with `O_APPEND`, under an exclusive `flock`, so lines of
//! concurrent `segura` processes never interleave.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use segura_model::{RemoteSession, SessionHash};
use serde::Serialize;

use crate::exit::CliError;

/// The default log: `segura/drops.log` in the user's state directory
/// (`$XDG_STATE_HOME`, by default `~/.local/state`), or in the local data directory
/// where the platform has no state directory.
pub fn default_path() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("segura").join("drops.log"))
}

/// What became of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The server said the session was dropped.
    Dropped,
    /// Not dropped: refused by the server, or by segura before anything was sent.
    Refused,
    /// The answer was not understood or never came: the session may have been dropped.
    Unknown,
    /// `--dry-run`: nothing was sent.
    DryRun,
    /// The operator declined the confirmation: nothing was sent.
    Declined,
}

/// One line of the log.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    /// When, RFC 3339 with the offset.
    pub time: String,
    /// The OS user (`USER` or `LOGNAME`), as the environment says.
    pub os_user: Option<String>,
    /// The effective uid of the process.
    pub uid: Option<u32>,
    /// The appliance's URL, without any `user:password@`.
    pub appliance: &'a str,
    /// The hash the drop was for.
    pub session_id: &'a SessionHash,
    /// What the list said of it: `open`, `ended`, `not_listed`, or `not_looked_up`.
    pub lookup: &'a str,
    /// The session as listed, when it was looked up and found.
    pub session: Option<&'a RemoteSession>,
    /// `--reason`.
    pub reason: Option<&'a str>,
    /// What became of it.
    pub outcome: Outcome,
    /// Why it was refused or is unknown: `ended`, `not_listed`, or the error class
    /// (`auth`, `not_found`, `server`, `network`, `invalid_response`, ...).
    pub error_class: Option<&'a str>,
    /// The server's message or the error, as one line (the server's text, verbatim).
    pub message: Option<&'a str>,
}

/// The open log.
#[derive(Debug)]
pub struct DropLog {
    path: PathBuf,
    file: File,
}

impl DropLog {
    /// Opens (creating if needed, with its directory) the log at `path`.
    pub fn open(path: &Path) -> Result<Self, CliError> {
        let fail = |e: &dyn std::fmt::Display| {
            CliError::Local(format!(
                "cannot open the drop log {}: {e}; nothing was dropped (set `drop_log` in the \
                 profile or SEGURA_DROP_LOG to another file)",
                path.display()
            ))
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|e| fail(&e))?;
        }
        let file = open_append(path).map_err(|e| fail(&e))?;
        Ok(Self {
            path: path.to_owned(),
            file,
        })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record as one line.
    pub fn append(&self, record: &Record<'_>) -> Result<(), CliError> {
        let mut line = serde_json::to_vec(record)
            .map_err(|e| CliError::Local(format!("cannot write the drop log: {e}")))?;
        line.push(b'\n');
        append_line(&self.file, &line).map_err(|e| {
            CliError::Local(format!(
                "cannot write the drop log {}: {e}",
                self.path.display()
            ))
        })
    }
}

/// The OS user and uid, for the log.
pub fn os_user() -> (Option<String>, Option<u32>) {
    let name = ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()));
    #[cfg(unix)]
    let uid = Some(rustix::process::geteuid().as_raw());
    #[cfg(not(unix))]
    let uid = None;
    (name, uid)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn open_append(path: &Path) -> io::Result<File> {
    use rustix::fs::OFlags;
    let file = crate::state_file::open_private(path, OFlags::WRONLY | OFlags::APPEND)?;
    crate::state_file::check_owned_and_private(&file)?;
    Ok(file)
}

#[cfg(not(unix))]
fn open_append(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
}

#[cfg(unix)]
fn append_line(file: &File, line: &[u8]) -> io::Result<()> {
    crate::state_file::with_lock(file, || {
        let mut f = file;
        f.write_all(line)?;
        f.flush()
    })
}

#[cfg(not(unix))]
fn append_line(file: &File, line: &[u8]) -> io::Result<()> {
    let mut f = file;
    f.write_all(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_appended_privately_and_links_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("drops.log");
        let hash = SessionHash::parse(&"ab".repeat(20)).unwrap();
        let record = |reason| Record {
            time: "2024-05-06T16:05:07+00:00".into(),
            os_user: Some("op".into()),
            uid: Some(1),
            appliance: "https://pam.example",
            session_id: &hash,
            lookup: "not_looked_up",
            session: None,
            reason,
            outcome: Outcome::DryRun,
            error_class: None,
            message: None,
        };
        let log = DropLog::open(&path).unwrap();
        log.append(&record(Some("a\nb"))).unwrap();
        DropLog::open(&path).unwrap().append(&record(None)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["reason"], "a\nb");
        assert_eq!(lines[1]["outcome"], "dry_run");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let link = dir.path().join("link.log");
            std::os::unix::fs::symlink(&path, &link).unwrap();
            let e = DropLog::open(&link).unwrap_err();
            assert!(e.report().contains("symbolic link"), "{}", e.report());
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
            let e = DropLog::open(&path).unwrap_err();
            assert!(
                e.report().contains("every user may write"),
                "{}",
                e.report()
            );
            // Owned by someone else (only root can give a file away).
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            if std::os::unix::fs::chown(&path, Some(65534), None).is_ok() {
                let e = DropLog::open(&path).unwrap_err();
                assert!(e.report().contains("owned by uid 65534"), "{}", e.report());
            }
        }
    }
}
