#![no_main]
//! cargo-fuzz target: `secaudit::fuzz::dkim`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| secaudit::fuzz::dkim(data));
