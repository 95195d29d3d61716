//! The guideline packs graded on real servers: the NCSC-NL level of a TLS 1.3 server, a TLS
//! 1.2-only one and a legacy one, and the internet.nl website criteria of a good lab site.

use secaudit::lab::legacy::{LegacyConfig, LegacyServer};
use secaudit::lab::{LabTls, Reply};
use secaudit::tls_registry::Protocol;
use serde_json::Value;

use crate::util::{LAB_HOST, args, secaudit, site, start_lab, stderr, stdout};

/// Audits a lab with `tls` settings and `pack`; returns the pack report.
async fn graded(tls: LabTls, https: Reply, pack: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let (_lab, lab_args) =
        start_lab(secaudit::lab::LabSite { tls, ..site(https) }, dir.path()).await;
    let mut cli = args(&["audit", LAB_HOST, "--format", "json", "--policy", pack]);
    cli.extend(lab_args);
    let output = secaudit(cli).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    report["packs"][0].clone()
}

fn outcome(pack: &Value, rule: &str) -> String {
    pack["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == rule)
        .map(|f| f["outcome"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// ECDHE with AES-GCM and ChaCha20 (TLS 1.2) and the TLS 1.3 suites.
const GOOD_SUITES: [u16; 6] = [0xc02b, 0xc02c, 0xcca9, 0x1301, 0x1302, 0x1303];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ncsc_levels_of_modern_and_tls12_only_servers() {
    let modern = graded(
        LabTls {
            versions: vec![Protocol::Tls1_2, Protocol::Tls1_3],
            suites: GOOD_SUITES.to_vec(),
            groups: vec![0x001d, 0x0017],
            ..LabTls::default()
        },
        Reply::page("ok"),
        "ncsc-nl-tls",
    )
    .await;
    assert_eq!(modern["grade"]["grade"], "Good", "{:#}", modern["findings"]);
    let tls12 = graded(
        LabTls {
            versions: vec![Protocol::Tls1_2],
            suites: GOOD_SUITES.to_vec(),
            ..LabTls::default()
        },
        Reply::page("ok"),
        "ncsc-nl-tls",
    )
    .await;
    assert_eq!(tls12["grade"]["grade"], "Sufficient");
    assert_eq!(outcome(&tls12, "NCSC-TLS-B1-03"), "fail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ncsc_level_of_a_legacy_server_is_phase_out() {
    let legacy = LegacyServer::start(LegacyConfig {
        versions: vec![Protocol::Tls1_0, Protocol::Tls1_1, Protocol::Tls1_2],
        suites: vec![0xc02f, 0xc013, 0x000a],
        ..LegacyConfig::default()
    })
    .await
    .unwrap();
    let output = secaudit(args(&[
        "audit",
        "legacy.secaudit.test",
        "--no-dns",
        "--timeout",
        "5",
        "--connect",
        &format!("legacy.secaudit.test:443={}", legacy.addr),
        "--format",
        "json",
        "--policy",
        "ncsc-nl-tls",
    ]))
    .await;
    let report: Value = serde_json::from_str(&stdout(&output)).expect("a report");
    let pack = &report["packs"][0];
    assert_eq!(
        pack["grade"]["grade"], "Phase out",
        "{:#}",
        pack["findings"]
    );
    assert_eq!(outcome(pack, "NCSC-TLS-B1-02"), "fail");
    assert_eq!(
        outcome(pack, "NCSC-TLS-B2-02"),
        "fail",
        "3DES and static RSA"
    );
    assert_eq!(outcome(pack, "NCSC-TLS-B1-01"), "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internet_nl_web_on_a_well_configured_site() {
    let pack = graded(
        LabTls::default(),
        Reply::page("ok")
            .header("strict-transport-security", "max-age=31536000")
            .header("x-frame-options", "DENY")
            .header("x-content-type-options", "nosniff")
            .header("referrer-policy", "no-referrer")
            .header(
                "content-security-policy",
                "default-src 'self'; frame-ancestors 'none'",
            ),
        "internet-nl-web",
    )
    .await;
    for rule in [
        "NLWEB-HTTPS-01",
        "NLWEB-HTTPS-02",
        "NLWEB-HTTPS-03",
        "NLWEB-TLS-01",
        "NLWEB-CERT-01",
        "NLWEB-CERT-04",
        "NLWEB-HDR-01",
        "NLWEB-HDR-02",
        "NLWEB-HDR-03",
        "NLWEB-HDR-04",
    ] {
        assert_eq!(
            outcome(&pack, rule),
            "pass",
            "{rule}: {:#}",
            pack["findings"]
        );
    }
    assert_eq!(
        outcome(&pack, "NLWEB-IPV6-01"),
        "fail",
        "the lab is on 127.0.0.1 only"
    );
}
