//! Fuzz target: see `crates/segura-api/tests/fuzz_checks/mod.rs` for the property.
#![no_main]

#[path = "../../crates/segura-api/tests/fuzz_checks/mod.rs"]
#[allow(dead_code)]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::token_answer(data));
