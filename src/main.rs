//! secaudit's entry point: install the crypto provider, run, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    // One provider for the whole process; a second install attempt is harmless.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    secaudit::app::main()
}
