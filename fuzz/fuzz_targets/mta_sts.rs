#![no_main]
//! cargo-fuzz target: `secaudit::fuzz::mta_sts`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| secaudit::fuzz::mta_sts(data));
