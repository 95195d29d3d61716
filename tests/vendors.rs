//! The vendor packs (`rules/vendors/*.yaml`, built in as `vendor-NAME`): every claim of
//! `../shared/policies/CLAIMS.md` is exactly one rule, and each pack judges the evidence of a
//! compliant and a non-compliant site (`fixtures/evidence/vendors/`, written by
//! `fixtures/evidence/make_vendor_fixtures.py`) as expected.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::evaluate_pack;

const VENDORS: [&str; 5] = [
    "unitedcrowd",
    "flowhunt",
    "proxyclick",
    "netstock",
    "netatoo",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The claim ids of CLAIMS.md: the first cell of every claim-table row (`| NETATOO-HDR-03 | …`).
fn claim_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("| "))
        .filter_map(|rest| rest.split_once(" |"))
        .map(|(cell, _)| cell.trim())
        .filter(|cell| is_claim_id(cell))
        .map(str::to_string)
        .collect()
}

/// `VENDOR-AREA-NN`: upper-case words joined by `-`, ending in a number.
fn is_claim_id(cell: &str) -> bool {
    let parts: Vec<&str> = cell.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
}

/// Rule ids of a pack file, in order.
fn pack_rule_ids(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let pack: Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    pack["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
#[allow(clippy::disallowed_macros)] // the skip notice goes to the test log
fn every_claim_is_exactly_one_vendor_rule() {
    let claims_path = root().join("../shared/policies/CLAIMS.md");
    let Ok(claims) = std::fs::read_to_string(&claims_path) else {
        eprintln!(
            "skipped: {} is not there (the shared policies live beside the repository)",
            claims_path.display()
        );
        return;
    };
    let claimed = claim_ids(&claims);
    assert!(
        claimed.len() > 200,
        "CLAIMS.md parsed to {} ids",
        claimed.len()
    );
    let mut claim_set = BTreeSet::new();
    for id in &claimed {
        assert!(claim_set.insert(id.clone()), "CLAIMS.md lists {id} twice");
    }

    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("rules/vendors"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), VENDORS.len(), "{files:?}");
    let mut where_: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &files {
        for id in pack_rule_ids(file) {
            where_
                .entry(id)
                .or_default()
                .push(file.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    let twice: Vec<_> = where_.iter().filter(|(_, files)| files.len() > 1).collect();
    assert!(twice.is_empty(), "rules defined more than once: {twice:?}");
    let ruled: BTreeSet<String> = where_.into_keys().collect();
    let missing: Vec<_> = claim_set.difference(&ruled).collect();
    let extra: Vec<_> = ruled.difference(&claim_set).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "claims without a rule: {missing:?}; rules without a claim: {extra:?}"
    );
}

#[test]
fn claim_ids_are_read_from_table_rows_only() {
    let text = "| ID | Section |\n|---|---|\n| NETATOO-HDR-03 | x |\n| 14 | `hdr.hsts` | NETATOO-HDR-03 |\n* NETATOO-TLS-02 in prose\n| FLOWHUNT-IAM-10 | y |\n";
    assert_eq!(claim_ids(text), ["NETATOO-HDR-03", "FLOWHUNT-IAM-10"]);
}

/// Evaluates a fixture with a pack; returns the pack's report.
async fn evaluate(fixture: &str, pack: &str) -> Value {
    evaluate_pack(
        &root().join(format!("fixtures/evidence/vendors/{fixture}.json")),
        pack,
    )
    .await
}

/// The grade and each rule's outcome (with its result code, if any), sorted by rule id.
fn outcomes(pack: &Value) -> Value {
    let mut rules = BTreeMap::new();
    for finding in pack["findings"].as_array().unwrap() {
        let outcome = finding["outcome"].as_str().unwrap();
        let shown = match finding["code"].as_str() {
            Some(code) => format!("{outcome} ({code})"),
            None => outcome.to_string(),
        };
        rules.insert(finding["rule_id"].as_str().unwrap().to_string(), shown);
    }
    serde_json::json!({
        "grade": pack["grade"]["grade"],
        "score": pack["grade"]["score"],
        "rules": rules,
    })
}

fn outcome(pack: &Value, rule: &str) -> (String, Option<String>) {
    let finding = pack["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no finding {rule}"));
    (
        finding["outcome"].as_str().unwrap().to_string(),
        finding["code"].as_str().map(str::to_string),
    )
}

fn is(pack: &Value, rule: &str, expected: &str) {
    assert_eq!(outcome(pack, rule).0, expected, "{rule}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_packs_judge_compliant_and_noncompliant_sites() {
    for vendor in VENDORS {
        for site in ["compliant", "noncompliant"] {
            let pack = evaluate(&format!("{vendor}-{site}"), &format!("vendor-{vendor}")).await;
            assert_eq!(pack["id"], format!("vendor-{vendor}"));
            // A compliant site fails nothing it can be checked on; a non-compliant one does.
            let failed = pack["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["outcome"] == "fail")
                .count();
            assert_eq!(failed == 0, site == "compliant", "{vendor}-{site}");
            insta::assert_json_snapshot!(format!("vendor_{vendor}_{site}"), outcomes(&pack));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netatoo_key_claims() {
    let good = evaluate("netatoo-compliant", "vendor-netatoo").await;
    let bad = evaluate("netatoo-noncompliant", "vendor-netatoo").await;
    for rule in [
        "NETATOO-TLS-01",
        "NETATOO-TLS-03",
        "NETATOO-HDR-03",
        "NETATOO-COOK-01",
        "NETATOO-MAIL-01",
        "NETATOO-MAIL-03",
        "NETATOO-GRADE-02",
    ] {
        is(&good, rule, "pass");
        is(&bad, rule, "fail");
    }
    assert_eq!(
        outcome(&bad, "NETATOO-MAIL-03").1.as_deref(),
        Some("dmarc-policy-none")
    );
    assert_eq!(
        outcome(&bad, "NETATOO-VULN-01").1.as_deref(),
        Some("poodle-sslv3")
    );
    // DKIM: a 2048-bit key passes, a 1024-bit one is a warning.
    is(&good, "NETATOO-MAIL-02", "pass");
    assert_eq!(
        outcome(&bad, "NETATOO-MAIL-02"),
        ("fail".into(), Some("dkim-key-under-2048-warn".into()))
    );
    // Claims nobody can observe from outside are evidence requests on either site.
    for pack in [&good, &bad] {
        is(pack, "NETATOO-BCK-02", "manual");
        is(pack, "NETATOO-LOCK-01", "manual");
        is(pack, "NETATOO-GOV-01", "manual");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netatoo_tls_statement_never_fails_and_the_a_plus_claim_shows_the_contradiction() {
    // The site as the page describes it: TLS 1.0 and 1.1 "depending on the client".
    let described = evaluate("netatoo-as-described", "vendor-netatoo").await;
    assert_eq!(
        outcome(&described, "NETATOO-TLS-02"),
        ("pass".into(), Some("tls1_0-tls1_1-accepted-warn".into()))
    );
    assert_eq!(
        outcome(&described, "NETATOO-GRADE-02"),
        ("fail".into(), Some("grade-b-tls1_0-tls1_1".into()))
    );
    // No Heartbleed probe is recorded in this evidence: the claim stays undecided rather than
    // passing on POODLE and BEAST alone.
    assert_eq!(
        outcome(&described, "NETATOO-VULN-01"),
        ("inconclusive".into(), None)
    );
    insta::assert_json_snapshot!("vendor_netatoo_as_described", outcomes(&described));

    // Hardened beyond the text: TLS 1.0/1.1 refused is a pass, not a deviation.
    let hardened = evaluate("netatoo-compliant", "vendor-netatoo").await;
    assert_eq!(
        outcome(&hardened, "NETATOO-TLS-02"),
        ("pass".into(), Some("hardened-beyond-the-text".into()))
    );
    // Statements never fail, whatever the site does.
    let bad = evaluate("netatoo-noncompliant", "vendor-netatoo").await;
    assert_eq!(outcome(&bad, "NETATOO-TLS-02").0, "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_and_manual_rules_state_what_to_ask_for() {
    let pack = evaluate("netstock-compliant", "vendor-netstock").await;
    let finding = pack["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "NETSTOCK-BCK-03")
        .unwrap();
    assert_eq!(finding["outcome"], "manual");
    assert_eq!(finding["severity"], "info");
    assert!(
        finding["note"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("statement, not a requirement: never fails"),
        "{finding:#}"
    );
    assert_eq!(
        finding["source"]["quote"],
        "bieten wir kein automatisches Failover auf Stand-by-Server an"
    );
}
