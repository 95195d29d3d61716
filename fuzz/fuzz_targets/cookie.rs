#![no_main]
//! cargo-fuzz target: `secaudit::fuzz::cookie`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| secaudit::fuzz::cookie(data));
