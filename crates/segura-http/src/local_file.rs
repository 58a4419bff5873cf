//! Reading a small local file (a CA certificate, a secret, a config file, a state file)
//! without letting the path block or flood the process.
//!
//! The path is opened without blocking (`O_NONBLOCK` on Unix), so a FIFO cannot hang the
//! caller; what was opened must be a regular file (a FIFO, a device such as `/dev/zero`,
//! a socket or a directory is refused); and at most `limit` bytes are read: a larger
//! file is refused rather than truncated.

use std::fmt;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// The limit for small files: config, secret and CA certificate files (1 MiB).
pub const SMALL_FILE_LIMIT: u64 = 1 << 20;

/// Whether the last component of the path may be a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Follow a symbolic link to its target (which must be a regular file).
    Follow,
    /// Refuse a symbolic link (`O_NOFOLLOW`): for files the caller also replaces.
    Refuse,
}

/// A file read whole, with the metadata of what was opened.
#[derive(Debug)]
pub struct LocalFile {
    /// The content.
    pub bytes: Vec<u8>,
    /// The metadata of the opened file (after following a link), for permission checks.
    pub metadata: Metadata,
}

/// A byte count as the messages show it: `1 MiB`, `64 MiB`, or bytes.
struct Size(u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MIB: u64 = 1 << 20;
        if self.0 >= MIB && self.0 % MIB == 0 {
            write!(f, "{} MiB", self.0 / MIB)
        } else {
            write!(f, "{} bytes", self.0)
        }
    }
}

/// What a non-regular file is, for messages.
fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

#[cfg(unix)]
fn open(path: &Path, links: Links) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    if links == Links::Refuse {
        flags |= OFlags::NOFOLLOW;
    }
    match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => Ok(File::from(fd)),
        Err(rustix::io::Errno::LOOP) if links == Links::Refuse => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a symbolic link, which is refused here: name the file it points to",
        )),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(unix))]
fn open(path: &Path, links: Links) -> io::Result<File> {
    if links == Links::Refuse && std::fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a symbolic link, which is refused here: name the file it points to",
        ));
    }
    File::open(path)
}

/// Reads the regular file at `path`, at most `limit` bytes.
///
/// Errors keep the operating system's kind (`NotFound` for a missing file); a file that
/// is not a regular file is `InvalidInput`, a file larger than `limit` is
/// `FileTooLarge`, each with a message that reads well after "cannot read FILE: ".
pub fn read_regular_file(path: &Path, limit: u64, links: Links) -> io::Result<LocalFile> {
    let file = open(path, links)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {}, not a regular file", kind_of(&metadata)),
        ));
    }
    let too_large = || {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("it is larger than {}, the limit for this file", Size(limit)),
        )
    };
    if metadata.len() > limit {
        return Err(too_large());
    }
    // The file may grow while it is read: never read more than the limit.
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(LocalFile { bytes, metadata })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"hello").unwrap();
        let f = read_regular_file(&path, 5, Links::Follow).unwrap();
        assert_eq!(f.bytes, b"hello");
        assert!(f.metadata.is_file());
        let e = read_regular_file(&path, 4, Links::Follow).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(
            e.to_string(),
            "it is larger than 4 bytes, the limit for this file"
        );
        let e = read_regular_file(&dir.path().join("none"), 5, Links::Follow).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        let e = read_regular_file(dir.path(), 5, Links::Follow).unwrap_err();
        assert_eq!(e.to_string(), "it is a directory, not a regular file");
    }

    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_refused_links_are_not_read() {
        let e =
            read_regular_file(Path::new("/dev/zero"), SMALL_FILE_LIMIT, Links::Follow).unwrap_err();
        assert_eq!(
            e.to_string(),
            "it is a character device, not a regular file"
        );

        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        // Would block forever without O_NONBLOCK: nobody writes into it.
        let e = read_regular_file(&fifo, SMALL_FILE_LIMIT, Links::Follow).unwrap_err();
        assert_eq!(
            e.to_string(),
            "it is a named pipe (FIFO), not a regular file"
        );

        let target = dir.path().join("target");
        std::fs::write(&target, b"x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(
            read_regular_file(&link, 1, Links::Follow).unwrap().bytes,
            b"x"
        );
        let e = read_regular_file(&link, 1, Links::Refuse).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
    }
}
