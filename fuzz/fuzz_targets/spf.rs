#![no_main]
//! cargo-fuzz target: `secaudit::fuzz::spf`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| secaudit::fuzz::spf(data));
