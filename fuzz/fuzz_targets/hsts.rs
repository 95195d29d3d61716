#![no_main]
//! cargo-fuzz target: `secaudit::fuzz::hsts`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| secaudit::fuzz::hsts(data));
