//! The files behind `watch --state FILE`: an exclusive lock held for the life of the
//! process, a bounded read that refuses what is not a regular file, and an atomic write
//! through a private temporary file that no planted link can redirect.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use segura_http::local_file::{read_regular_file, Links};

use crate::exit::CliError;

/// The largest state file read (64 MiB: several million session ids).
pub const STATE_FILE_LIMIT: u64 = 64 << 20;

/// The file name of `path`, which must name a file.
fn file_name(path: &Path) -> Result<String, CliError> {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| CliError::Usage(format!("--state {} does not name a file", path.display())))
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The lock file of a state file: `FILE.lock` beside it.
pub fn lock_path(path: &Path) -> Result<PathBuf, CliError> {
    Ok(path.with_file_name(format!("{}.lock", file_name(path)?)))
}

/// An exclusive advisory lock on a state file, held until dropped (or the process ends).
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

/// Takes the exclusive lock of the state file `path` (on `FILE.lock`, which is created
/// if needed and left in place); fails at once if another process holds it.
pub fn lock(path: &Path) -> Result<StateLock, CliError> {
    let lock = lock_path(path)?;
    // A state path that is not a regular file is refused before a lock file is created
    // beside it (`--state /dev/zero` must not create `/dev/zero.lock`).
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_file()) {
        read(path)?;
    }
    let local = |e: &dyn std::fmt::Display| {
        CliError::Local(format!(
            "cannot lock the state file {} (with {}): {e}",
            path.display(),
            lock.display()
        ))
    };
    let file = open_lock_file(&lock).map_err(|e| local(&e))?;
    match try_lock_exclusive(&file) {
        Ok(true) => Ok(StateLock { _file: file }),
        Ok(false) => Err(CliError::Local(format!(
            "another `segura sessions watch` is using the state file {} (it holds {}); \
             stop it first, or give this one another --state file",
            path.display(),
            lock.display()
        ))),
        Err(e) => Err(local(&e)),
    }
}

#[cfg(unix)]
fn open_lock_file(lock: &Path) -> io::Result<File> {
    open_private(lock, rustix::fs::OFlags::RDWR)
}

#[cfg(not(unix))]
fn open_lock_file(lock: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock)
}

/// Opens `path` with `access` (e.g. `RDWR`, or `WRONLY | APPEND`): created with mode
/// 0600 when missing, never through a symbolic link in its last component (refused),
/// never blocking on a FIFO, and refused unless it is a regular file.
#[cfg(unix)]
pub fn open_private(path: &Path, access: rustix::fs::OFlags) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let flags = access | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let file = match rustix::fs::open(path, flags, Mode::from_raw_mode(0o600)) {
        Ok(fd) => File::from(fd),
        Err(rustix::io::Errno::LOOP) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "it is a symbolic link",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file",
        ));
    }
    Ok(file)
}

/// Refuses an open file that another user owns or that every user may write: what it
/// holds could have been written, or could be rewritten, by someone else.
#[cfg(unix)]
pub fn check_owned_and_private(file: &File) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata()?;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "it is owned by uid {}, not by this user (uid {me})",
                meta.uid()
            ),
        ));
    }
    if meta.mode() & 0o002 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("every user may write it (mode {:03o})", meta.mode() & 0o777),
        ));
    }
    Ok(())
}

/// Holds an exclusive advisory lock on `file` while `f` runs (waiting for it), so that
/// the writes of several processes do not interleave.
#[cfg(unix)]
pub fn with_lock<T>(file: &File, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    use rustix::fs::{flock, FlockOperation};
    flock(file, FlockOperation::LockExclusive)?;
    let result = f();
    let unlocked = flock(file, FlockOperation::Unlock);
    let value = result?;
    unlocked?;
    Ok(value)
}

/// `Ok(false)` when another process holds the lock.
#[cfg(unix)]
fn try_lock_exclusive(file: &File) -> io::Result<bool> {
    use rustix::fs::{flock, FlockOperation};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Advisory locking is implemented on Unix only.
#[cfg(not(unix))]
fn try_lock_exclusive(_file: &File) -> io::Result<bool> {
    Ok(true)
}

/// Reads the state file; `None` when it does not exist. A symbolic link, a FIFO, a
/// device or a file over [`STATE_FILE_LIMIT`] is refused (exit 3) without blocking.
pub fn read(path: &Path) -> Result<Option<Vec<u8>>, CliError> {
    match read_regular_file(path, STATE_FILE_LIMIT, Links::Refuse) {
        Ok(f) => Ok(Some(f.bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => {
            let hint = match e.kind() {
                io::ErrorKind::InvalidInput | io::ErrorKind::FileTooLarge => {
                    "pass --state a regular file that `segura sessions watch` wrote (a link is \
                     refused because each save replaces the file)"
                }
                _ => "check the path and its permissions",
            };
            Err(CliError::config(
                format!("cannot read the state file {}: {e}", path.display()),
                hint,
            ))
        }
    }
}

/// Replaces the state file with `body`: a temporary file with an unpredictable name is
/// created exclusively (never through an existing file or link) beside it, mode 0600,
/// written and synced, renamed over the state file, and the directory synced.
pub fn write_atomic(path: &Path, body: &[u8]) -> Result<(), CliError> {
    let local = |e: io::Error| {
        CliError::Local(format!(
            "cannot write the state file {}: {e}",
            path.display()
        ))
    };
    let name = file_name(path)?;
    let dir = parent_dir(path);
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp").rand_bytes(12);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    // Removed on any failure below, when `tmp` is dropped.
    let mut tmp = builder.tempfile_in(dir).map_err(local)?;
    tmp.write_all(body).map_err(local)?;
    tmp.as_file().sync_all().map_err(local)?;
    tmp.persist(path).map_err(|e| local(e.error))?;
    sync_dir(dir).map_err(local)
}

/// Makes a rename in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_privately_and_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(read(&path).unwrap().unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["state.json"]);
        assert!(read(&dir.path().join("none")).unwrap().is_none());
    }

    #[test]
    fn a_second_lock_is_refused_while_the_first_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let held = lock(&path).unwrap();
        let e = lock(&path).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(
            e.report().contains("another `segura sessions watch`"),
            "{}",
            e.report()
        );
        drop(held);
        lock(&path).unwrap();
    }
}
