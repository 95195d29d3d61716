//! Attestations for manual rules: an auditor's answers shown as "attested", never as observed,
//! and a bad attestations file rejected with file, line and column (exit 2).

use serde_json::Value;

use crate::util::{args, secaudit, stderr, stdout};

const PACK: &str = "
pack: { id: shop, title: Shop promises, extends: baseline }
rules:
  - id: SHOP-ORG-01
    title: Staff are background-checked
    category: organisational
    severity: medium
    manual:
      evidence: [HR screening policy, a sample of completed checks]
  - id: SHOP-ORG-02
    title: Backups are tested yearly
    category: organisational
    severity: high
    manual:
      evidence: [last restore test report]
";

fn evidence() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/evidence/observatory/01-perfect.json")
        .display()
        .to_string()
}

async fn evaluate(dir: &std::path::Path, attestations: &str) -> std::process::Output {
    let pack = dir.join("shop.yaml");
    std::fs::write(&pack, PACK).unwrap();
    let file = dir.join("attestations.yaml");
    std::fs::write(&file, attestations).unwrap();
    secaudit(args(&[
        "evaluate",
        "--evidence",
        &evidence(),
        "--policy",
        &pack.display().to_string(),
        "--attestations",
        &file.display().to_string(),
        "--format",
        "json",
    ]))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_rules_show_attested_results() {
    let dir = tempfile::tempdir().unwrap();
    let output = evaluate(
        dir.path(),
        "attestations:
  SHOP-ORG-01:
    status: pass
    evidence: Screening policy v3 (2026-02) and five sampled hires
    reviewed: 2026-10-01
    by: A. Auditor
  SHOP-ORG-02: { status: fail, evidence: no restore test since 2024, reviewed: 2026-10-02, by: A. Auditor }
",
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let pack = &report["packs"][0];
    let finding = |id: &str| {
        pack["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == id)
            .unwrap()
            .clone()
    };
    let checked = finding("SHOP-ORG-01");
    assert_eq!(
        checked["outcome"], "manual",
        "still manual: attested, not observed"
    );
    assert_eq!(checked["attestation"]["status"], "pass");
    assert_eq!(checked["attestation"]["by"], "A. Auditor");
    assert!(
        checked["message"]
            .as_str()
            .unwrap()
            .starts_with("attested pass by A. Auditor on 2026-10-01")
    );
    assert_eq!(finding("SHOP-ORG-02")["attestation"]["status"], "fail");
    assert_eq!(
        (
            pack["counts"]["attested_pass"].as_u64(),
            pack["counts"]["attested_fail"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert!(finding("BASE-TLS-01")["attestation"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_attestations_are_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    let output = evaluate(
        dir.path(),
        "attestations:
  SHOP-ORG-01: { status: maybe, evidence: x, reviewed: 2026-10-01, by: A }
  SHOP-ORG-02: { status: pass, evidence: x, reviewed: yesterday, by: A }
  BASE-TLS-01: { status: pass, evidence: x, reviewed: 2026-10-01, by: A }
",
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("attestations.yaml:2:"), "{err}");
    assert!(err.contains("`reviewed: yesterday` is not a date"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let output = evaluate(
        dir.path(),
        "attestations:\n  BASE-TLS-01: { status: pass, evidence: x, reviewed: 2026-10-01, by: A }\n  NOPE-01: { status: pass, evidence: x, reviewed: 2026-10-01, by: A }\n",
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("only `manual` rules take an attestation"),
        "{err}"
    );
    assert!(err.contains("no loaded pack has a rule `NOPE-01`"), "{err}");
}
