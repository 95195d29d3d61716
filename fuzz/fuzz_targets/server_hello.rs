#![no_main]
//! cargo-fuzz target: `secaudit::fuzz::server_hello`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| secaudit::fuzz::server_hello(data));
