#![no_main]
//! cargo-fuzz target: `secaudit::fuzz::csp`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| secaudit::fuzz::csp(data));
