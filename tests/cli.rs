//! Command-line goldens (trycmd): arguments, stdout, stderr and exit code under `tests/cmd/`.

use crate::util::{args, secaudit, stderr, stdout};

#[test]
fn cli_goldens() {
    trycmd::TestCases::new()
        .env("NO_COLOR", "1")
        .case("tests/cmd/*.toml");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_prints_a_graded_table() {
    let output = secaudit(args(&["demo"])).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = stdout(&output);
    assert!(table.contains("target demo.secaudit.test"), "{table}");
    assert!(
        table.contains("baseline — Baseline web security: grade "),
        "{table}"
    );
    assert!(table.contains("BASE-HSTS-01"), "{table}");
    assert!(table.contains("To fix:"), "{table}");
    // The demo's own DNS server makes the mail records visible.
    assert!(
        table.contains("fail           ┆ high     ┆ BASE-MAIL-06"),
        "{table}"
    );
    assert!(
        table.contains("pass           ┆ low      ┆ BASE-MAIL-12"),
        "{table}"
    );
}
