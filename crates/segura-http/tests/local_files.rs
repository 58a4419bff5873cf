//! `ClientConfig::ca_cert_file` reads only a bounded regular file: a device, a FIFO or an
//! oversized file is an `Input` error at once, never a hang or an exhausted memory.

use std::path::Path;
use std::time::{Duration, Instant};

use segura_api::Error;
use segura_http::{Auth, ClientConfig, Secret};

fn config() -> ClientConfig {
    ClientConfig::new("https://pam.example", Auth::Bearer(Secret::new("t")))
}

fn input_error(path: &Path) -> String {
    let started = Instant::now();
    let r = config().ca_cert_file(path);
    assert!(started.elapsed() < Duration::from_secs(5), "took too long");
    match r {
        Err(Error::Input { message, .. }) => message,
        other => panic!("{other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn a_ca_file_that_is_a_device_a_fifo_or_too_large_is_refused() {
    let m = input_error(Path::new("/dev/zero"));
    assert!(m.contains("character device"), "{m}");

    let dir = tempfile::tempdir().expect("dir");
    let fifo = dir.path().join("ca.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let m = input_error(&fifo);
    assert!(m.contains("FIFO"), "{m}");

    let big = dir.path().join("big.pem");
    std::fs::write(&big, vec![b'A'; (1 << 20) + 1]).expect("write");
    let m = input_error(&big);
    assert!(m.contains("larger than 1 MiB"), "{m}");
}
