//! The fuzz targets' seeds and crash reproducers, run as regular tests.

use std::path::PathBuf;

mod fuzz_checks;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut out = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let bytes = std::fs::read(&path).unwrap();
            out.push((path, bytes));
        }
    }
    out
}

fn run(target: &str, check: fn(&[u8]), at_least: usize) {
    let inputs = inputs(target);
    assert!(
        inputs.len() >= at_least,
        "{target}: only {} seeds",
        inputs.len()
    );
    for (path, bytes) in inputs {
        let result = std::panic::catch_unwind(|| check(&bytes));
        assert!(result.is_ok(), "{target}: {} fails", path.display());
    }
}

#[test]
fn decoder_seeds_and_reproducers() {
    run("decoder", fuzz_checks::decoder_chunking, 40);
}

#[test]
fn datetime_seeds_and_reproducers() {
    run("datetime", fuzz_checks::datetime, 5);
}

#[test]
fn duration_seeds_and_reproducers() {
    run("duration", fuzz_checks::duration, 5);
}

#[test]
fn sanitize_seeds_and_reproducers() {
    run("sanitize", fuzz_checks::sanitize, 12);
}

#[test]
fn token_answer_seeds_and_reproducers() {
    run("token_answer", fuzz_checks::token_answer, 15);
}
