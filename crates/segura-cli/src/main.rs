//! The `segura` binary.
fn main() {}
