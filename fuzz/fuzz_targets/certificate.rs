#![no_main]
//! cargo-fuzz target: `secaudit::fuzz::certificate`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| secaudit::fuzz::certificate(data));
