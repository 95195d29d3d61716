#![no_main]
//! cargo-fuzz target: `secaudit::fuzz::sslv2_reply`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| secaudit::fuzz::sslv2_reply(data));
