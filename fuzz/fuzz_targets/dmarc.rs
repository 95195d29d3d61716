#![no_main]
//! cargo-fuzz target: `secaudit::fuzz::dmarc`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| secaudit::fuzz::dmarc(data));
