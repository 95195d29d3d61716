//! DNSSEC end to end: signed and unsigned fixture zones served by an in-process hickory server on
//! 127.0.0.1, validated from a `--trust-anchor` file, and the same evidence judged again offline.
//!
//! One server holds every zone, so DS queries for a child apex are answered by the parent zone
//! (the lab routes them there). The trust anchors are the keys of `secure.test` and
//! `parent.test`; under `parent.test` sit a signed child with a matching DS, a signed child whose
//! DS names another key, and an unsigned child without DS (proven unsigned by the parent's NSEC).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use secaudit::lab::dns::{LabDns, LabDnssecKey, LabZone};
use serde_json::Value;

use crate::util::{args, secaudit, stderr, stdout};

struct Fixture {
    dns: LabDns,
    secure_key: LabDnssecKey,
    parent_key: LabDnssecKey,
}

async fn fixture() -> Fixture {
    let [secure_key, parent_key, child_key, stray_key, wrong_key] =
        std::array::from_fn(|_| LabDnssecKey::generate().unwrap());
    let here = Ipv4Addr::LOCALHOST;
    let secure = LabZone::new("secure.test.")
        .unwrap()
        .a("secure.test.", here)
        .unwrap()
        .mx("secure.test.", 10, "mx.secure.test.")
        .unwrap()
        .a("mx.secure.test.", here)
        .unwrap()
        .signed(secure_key.clone());
    let parent = LabZone::new("parent.test.")
        .unwrap()
        .ns("unsigned.parent.test.", "ns.unsigned.parent.test.")
        .unwrap()
        .ns("child.parent.test.", "ns.child.parent.test.")
        .unwrap()
        .ds("child.parent.test.", &child_key)
        .unwrap()
        .ns("stray.parent.test.", "ns.stray.parent.test.")
        .unwrap()
        .ds("stray.parent.test.", &wrong_key)
        .unwrap()
        .signed(parent_key.clone());
    let unsigned = LabZone::new("unsigned.parent.test.")
        .unwrap()
        .a("unsigned.parent.test.", here)
        .unwrap();
    let child = LabZone::new("child.parent.test.")
        .unwrap()
        .a("child.parent.test.", here)
        .unwrap()
        .signed(child_key);
    let stray = LabZone::new("stray.parent.test.")
        .unwrap()
        .a("stray.parent.test.", here)
        .unwrap()
        .signed(stray_key);
    let dns = LabDns::start(vec![secure, parent, unsigned, child, stray])
        .await
        .unwrap();
    Fixture {
        dns,
        secure_key,
        parent_key,
    }
}

fn reports(text: &str) -> BTreeMap<String, Value> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map(|report| {
            let report = report.unwrap();
            (
                report["target"]["host"].as_str().unwrap().to_string(),
                report,
            )
        })
        .collect()
}

fn outcome(report: &Value, rule: &str) -> String {
    report["packs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|pack| pack["findings"].as_array().unwrap())
        .find(|f| f["rule_id"] == rule)
        .map(|f| f["outcome"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no finding for {rule}"))
}

/// Audits `targets` (none has a web server: exit 3, but the DNS facts are all there) through
/// the fixture's server; returns the reports by host.
async fn audit(fixture: &Fixture, targets: &[&str], extra: &[&str]) -> BTreeMap<String, Value> {
    let mut command = vec!["audit".to_string()];
    command.extend(targets.iter().map(|t| (*t).to_string()));
    command.extend(args(&[
        "--resolver",
        &fixture.dns.addr.to_string(),
        "--policy",
        "baseline",
        "--policy",
        "internet-nl-mail",
        "--format",
        "json",
        "--timeout",
        "15",
    ]));
    command.extend(args(extra));
    let output = secaudit(command).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let all = reports(&stdout(&output));
    assert_eq!(all.len(), targets.len(), "{}", stderr(&output));
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_insecure_and_bogus_zones() {
    let fixture = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    let anchors = dir.path().join("anchors.key");
    std::fs::write(
        &anchors,
        fixture.secure_key.trust_anchor("secure.test.").unwrap()
            + &fixture.parent_key.trust_anchor("parent.test.").unwrap(),
    )
    .unwrap();
    let evidence = dir.path().join("evidence.json");
    let targets = [
        "secure.test",
        "child.parent.test",
        "unsigned.parent.test",
        "stray.parent.test",
    ];
    let all = audit(
        &fixture,
        &targets,
        &[
            "--trust-anchor",
            &anchors.display().to_string(),
            "--save-evidence",
            &evidence.display().to_string(),
        ],
    )
    .await;
    let dnssec = |host: &str| all[host]["facts"]["dns"]["dnssec"].clone();

    // Signed, anchored directly.
    let secure = dnssec("secure.test");
    assert_eq!(secure["status"], "secure", "{secure}");
    assert_eq!(secure["signed"], true);
    assert_eq!(secure["valid"], true);
    assert!(secure.get("reason").is_none());
    let sets: Vec<String> = secure["record_sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{} {} {}", s["name"], s["record_type"], s["status"]))
        .collect();
    assert_eq!(
        sets,
        [
            r#""secure.test" "A" "secure""#,
            r#""secure.test" "SOA" "secure""#
        ]
    );
    assert_eq!(
        secure["trust_anchor"],
        format!(
            "{} (DNSKEY for secure.test., parent.test.)",
            anchors.display()
        )
    );
    let mail = &all["secure.test"]["facts"]["mail"]["dnssec"];
    assert_eq!(mail["status"], "secure", "{mail}");
    assert_eq!(mail["mx_status"], "secure", "{mail}");
    assert_eq!(outcome(&all["secure.test"], "BASE-DNS-03"), "pass");
    for rule in [
        "NLMAIL-DNSSEC-01",
        "NLMAIL-DNSSEC-02",
        "NLMAIL-DNSSEC-03",
        "NLMAIL-DNSSEC-04",
    ] {
        assert_eq!(outcome(&all["secure.test"], rule), "pass", "{rule}");
    }

    // Signed, with a DS in the signed parent: a chain of trust from the parent's anchor.
    let child = dnssec("child.parent.test");
    assert_eq!(child["status"], "secure", "{child}");

    // Unsigned, and the signed parent proves there is no DS: insecure, not bogus.
    let unsigned = dnssec("unsigned.parent.test");
    assert_eq!(unsigned["status"], "insecure", "{unsigned}");
    assert_eq!(unsigned["signed"], false);
    assert_eq!(unsigned["valid"], false);
    assert_eq!(outcome(&all["unsigned.parent.test"], "BASE-DNS-03"), "fail");
    assert_eq!(
        outcome(&all["unsigned.parent.test"], "NLMAIL-DNSSEC-01"),
        "fail"
    );
    // No MX hosts: their DNSSEC rules cannot be decided.
    assert_eq!(
        outcome(&all["unsigned.parent.test"], "NLMAIL-DNSSEC-03"),
        "inconclusive"
    );

    // Signed, but the parent's DS names another key: bogus, with the reason.
    let stray = dnssec("stray.parent.test");
    assert_eq!(stray["status"], "bogus", "{stray}");
    assert_eq!(stray["signed"], true);
    assert_eq!(stray["valid"], false);
    let reason = stray["reason"].as_str().unwrap();
    assert!(
        reason.contains("does not chain to the trust anchor"),
        "{reason}"
    );
    assert_eq!(outcome(&all["stray.parent.test"], "BASE-DNS-03"), "fail");

    // Judged again offline, the same evidence gives the same facts.
    let again = secaudit(args(&[
        "evaluate",
        "--evidence",
        &evidence.display().to_string(),
        "--format",
        "json",
    ]))
    .await;
    let offline = reports(&stdout(&again));
    for host in targets {
        assert_eq!(
            offline[host]["facts"]["dns"]["dnssec"], all[host]["facts"]["dns"]["dnssec"],
            "{host}"
        );
        assert_eq!(
            offline[host]["facts"]["mail"]["dnssec"], all[host]["facts"]["mail"]["dnssec"],
            "{host}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_anchor_is_bogus_and_unreachable_root_is_indeterminate() {
    let fixture = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    // An anchor for secure.test, but for another key than the zone is signed with.
    let other = LabDnssecKey::generate().unwrap();
    let anchors = dir.path().join("other.key");
    std::fs::write(&anchors, other.trust_anchor("secure.test.").unwrap()).unwrap();
    let all = audit(
        &fixture,
        &["secure.test"],
        &["--trust-anchor", &anchors.display().to_string()],
    )
    .await;
    let bogus = &all["secure.test"]["facts"]["dns"]["dnssec"];
    assert_eq!(bogus["status"], "bogus", "{bogus}");
    assert!(
        bogus["reason"]
            .as_str()
            .unwrap()
            .contains("the DNSKEY set of secure.test. does not chain to the trust anchor"),
        "{bogus}"
    );
    assert_eq!(outcome(&all["secure.test"], "BASE-DNS-03"), "fail");

    // With the bundled IANA root as anchor, the chain leads through `test.`, which this server
    // refuses to answer for: nothing can be decided, and the rules say so.
    let all = audit(&fixture, &["secure.test"], &[]).await;
    let report = &all["secure.test"];
    let undecided = &report["facts"]["dns"]["dnssec"];
    assert_eq!(undecided["status"], "indeterminate", "{undecided}");
    assert!(undecided.get("signed").is_none());
    assert!(
        undecided["reason"]
            .as_str()
            .unwrap()
            .contains("the DS query for test. failed"),
        "{undecided}"
    );
    assert!(
        report["facts"]["unobserved"]["dns.dnssec.signed"]
            .as_str()
            .unwrap()
            .contains("indeterminate")
    );
    assert_eq!(outcome(report, "BASE-DNS-03"), "inconclusive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_dns_leaves_dnssec_unobserved_and_bad_anchor_files_are_usage_errors() {
    let output = secaudit(args(&[
        "audit",
        "nowhere.test",
        "--no-dns",
        "--connect",
        "nowhere.test:443=127.0.0.1:9",
        "--connect",
        "nowhere.test:80=127.0.0.1:9",
        "--format",
        "json",
        "--timeout",
        "5",
    ]))
    .await;
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(report["facts"]["dns"].get("dnssec").is_none());
    assert!(
        report["facts"]["unobserved"]["dns.dnssec"]
            .as_str()
            .unwrap()
            .contains("not probed"),
        "{}",
        report["facts"]["unobserved"]
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.key");
    std::fs::write(&bad, "secure.test. IN DS 1 15 2 00\n").unwrap();
    let output = secaudit(args(&[
        "audit",
        "secure.test",
        "--resolver",
        "127.0.0.1:9",
        "--trust-anchor",
        &bad.display().to_string(),
    ]))
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("trust anchor file"),
        "{}",
        stderr(&output)
    );
}
