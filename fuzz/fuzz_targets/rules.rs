#![no_main]
//! cargo-fuzz target: `secaudit::fuzz::rules`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| secaudit::fuzz::rules(data));
