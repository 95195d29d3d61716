//! Mail records end to end: fixture zones served by an in-process hickory server on 127.0.0.1,
//! audited with `--resolver`, and the same evidence judged again offline.

use std::collections::BTreeMap;

use secaudit::lab::dns::{LabDns, LabZone};
use secaudit::lab::{Lab, LabSite, LabTls, Reply};
use serde_json::Value;

use crate::util::{args, secaudit, stderr, stdout};

/// The fixture zone: one domain per scenario under `mail.test`, plus report destinations.
fn zone() -> LabZone {
    let long_include = format!(
        "v=spf1 ip4:192.0.2.0/24 {} include:_spf.good.mail.test -all",
        (1..=20)
            .map(|i| format!("ip4:198.51.100.{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let records: &[(&str, &str, &str)] = &[
        // A good domain: SPF longer than one TXT string, DMARC reject, TLS-RPT, BIMI.
        ("MX", "good.mail.test.", "10 mx1.good.mail.test."),
        ("A", "mx1.good.mail.test.", "192.0.2.25"),
        ("TXT", "good.mail.test.", &long_include),
        ("TXT", "good.mail.test.", "google-site-verification=abc"),
        (
            "TXT",
            "_spf.good.mail.test.",
            "v=spf1 mx:good.mail.test -all",
        ),
        (
            "TXT",
            "_dmarc.good.mail.test.",
            "v=DMARC1; p=reject; rua=mailto:dmarc@good.mail.test",
        ),
        (
            "TXT",
            "_smtp._tls.good.mail.test.",
            "v=TLSRPTv1; rua=mailto:tls@good.mail.test",
        ),
        (
            "TXT",
            "default._bimi.good.mail.test.",
            "v=BIMI1; l=https://good.mail.test/logo.svg",
        ),
        // +all.
        ("TXT", "plusall.mail.test.", "v=spf1 a +all"),
        ("A", "plusall.mail.test.", "192.0.2.1"),
        // More than ten DNS-querying terms through nested includes (12).
        (
            "TXT",
            "many.mail.test.",
            "v=spf1 include:i1.many.mail.test include:i2.many.mail.test -all",
        ),
        (
            "TXT",
            "i1.many.mail.test.",
            "v=spf1 a mx include:i3.many.mail.test ~all",
        ),
        (
            "TXT",
            "i3.many.mail.test.",
            "v=spf1 a:x.many.mail.test a:y.many.mail.test mx:z.many.mail.test exists:e.many.mail.test ~all",
        ),
        (
            "TXT",
            "i2.many.mail.test.",
            "v=spf1 include:i4.many.mail.test ptr ~all",
        ),
        ("TXT", "i4.many.mail.test.", "v=spf1 a ~all"),
        // Three void lookups.
        (
            "TXT",
            "voids.mail.test.",
            "v=spf1 a:nx1.mail.test a:nx2.mail.test exists:nx3.mail.test -all",
        ),
        // An include loop.
        (
            "TXT",
            "loop.mail.test.",
            "v=spf1 include:loop2.mail.test -all",
        ),
        (
            "TXT",
            "loop2.mail.test.",
            "v=spf1 include:loop.mail.test -all",
        ),
        // Two SPF records.
        ("TXT", "twospf.mail.test.", "v=spf1 -all"),
        ("TXT", "twospf.mail.test.", "v=spf1 ~all"),
        // No DMARC (and none at the organisational domain mail.test either).
        ("TXT", "nodmarc.mail.test.", "v=spf1 -all"),
        // Malformed DMARC.
        (
            "TXT",
            "_dmarc.baddmarc.mail.test.",
            "v=DMARC1; p=block; pct=200; p=none",
        ),
        // p=none.
        ("TXT", "_dmarc.pnone.mail.test.", "v=DMARC1; p=none"),
        // External rua: one destination authorises, one does not.
        (
            "TXT",
            "_dmarc.extrua.mail.test.",
            "v=DMARC1; p=quarantine; rua=mailto:d@reports.other.test,mailto:x@authorised.test",
        ),
        (
            "TXT",
            "extrua.mail.test._report._dmarc.authorised.test.",
            "v=DMARC1",
        ),
        // Parked: null MX and v=spf1 -all.
        ("MX", "parked.mail.test.", "0 ."),
        ("TXT", "parked.mail.test.", "v=spf1 -all"),
        // MTA-STS: enforce, testing, and a policy whose mx patterns miss the real MX host.
        (
            "TXT",
            "_mta-sts.sts-enforce.mail.test.",
            "v=STSv1; id=20240101;",
        ),
        (
            "MX",
            "sts-enforce.mail.test.",
            "10 mx1.sts-enforce.mail.test.",
        ),
        (
            "TXT",
            "_mta-sts.sts-testing.mail.test.",
            "v=STSv1; id=20240102;",
        ),
        (
            "MX",
            "sts-testing.mail.test.",
            "10 mx1.sts-testing.mail.test.",
        ),
        (
            "TXT",
            "_mta-sts.sts-mismatch.mail.test.",
            "v=STSv1; id=20240103;",
        ),
        (
            "MX",
            "sts-mismatch.mail.test.",
            "10 mx1.sts-mismatch.mail.test.",
        ),
        ("MX", "sts-mismatch.mail.test.", "20 backup.elsewhere.test."),
    ];
    let mut zone = LabZone::new("test.").unwrap();
    for (kind, owner, data) in records {
        zone = match *kind {
            "TXT" => zone.txt(owner, data).unwrap(),
            "A" => zone.a(owner, data.parse().unwrap()).unwrap(),
            "MX" => {
                let (preference, host) = data.split_once(' ').unwrap();
                zone.mx(owner, preference.parse().unwrap(), host).unwrap()
            }
            other => panic!("{other}"),
        };
    }
    zone
}

/// An MTA-STS policy server for `domain`.
async fn sts_server(domain: &str, policy: &str) -> Lab {
    Lab::start(LabSite {
        host: format!("mta-sts.{domain}"),
        http: Reply::page("no"),
        https: Reply {
            status: 200,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: policy.to_string(),
            echo_origin: false,
            routes: Vec::new(),
        },
        tls: LabTls::default(),
    })
    .await
    .unwrap()
}

/// Reports of a JSON stream, by target host.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_facts_of_fixture_domains() {
    let dns = LabDns::start(vec![zone()]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let policy = |mode: &str, mx: &str| {
        format!("version: STSv1\r\nmode: {mode}\r\nmx: {mx}\r\nmax_age: 604800\r\n")
    };
    let labs = [
        sts_server(
            "sts-enforce.mail.test",
            &policy("enforce", "*.sts-enforce.mail.test"),
        )
        .await,
        sts_server(
            "sts-testing.mail.test",
            &policy("testing", "mx1.sts-testing.mail.test"),
        )
        .await,
        sts_server(
            "sts-mismatch.mail.test",
            &policy("enforce", "mail.sts-mismatch.mail.test"),
        )
        .await,
    ];
    let ca = dir.path().join("ca.pem");
    std::fs::write(
        &ca,
        labs.iter().map(|l| l.ca_pem.clone()).collect::<String>(),
    )
    .unwrap();
    let evidence = dir.path().join("evidence.json");
    let targets = [
        "good",
        "plusall",
        "many",
        "voids",
        "loop",
        "twospf",
        "nodmarc",
        "baddmarc",
        "pnone",
        "extrua",
        "parked",
        "sts-enforce",
        "sts-testing",
        "sts-mismatch",
    ];
    let mut command: Vec<String> = targets.iter().map(|t| format!("{t}.mail.test")).collect();
    command.insert(0, "audit".into());
    for lab in &labs {
        command.push("--connect".into());
        command.push(format!("{}:443={}", lab.host, lab.https_addr));
    }
    command.extend(args(&[
        "--resolver",
        &dns.addr.to_string(),
        "--ca-file",
        &ca.display().to_string(),
        "--save-evidence",
        &evidence.display().to_string(),
        "--format",
        "json",
        "--timeout",
        "15",
    ]));
    let output = secaudit(command).await;
    // No target has a web server: each is unauditable as a site (exit 3), but fully observed as
    // a mail domain.
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let all = reports(&stdout(&output));
    assert_eq!(all.len(), targets.len());
    let mail = |t: &str| all[&format!("{t}.mail.test")]["facts"]["mail"].clone();
    let unobserved = |t: &str| all[&format!("{t}.mail.test")]["facts"]["unobserved"].clone();

    // The good domain.
    let good = mail("good");
    let spf = &good["spf"];
    assert_eq!(spf["present"], true, "{good}");
    assert_eq!(spf["record_count"], 1);
    assert_eq!(spf["valid"], true);
    assert_eq!(spf["dns_lookup_count"], 2, "{spf}");
    assert_eq!(spf["void_lookup_count"], 0);
    assert_eq!(spf["all_qualifier"], "-all");
    assert_eq!(spf["permerror"], false);
    assert_eq!(spf["lookups_complete"], true);
    assert!(
        spf["record_length"].as_u64().unwrap() > 255,
        "spans two strings"
    );
    assert_eq!(good["dmarc"]["policy"], "reject");
    assert_eq!(good["dmarc"]["subdomain_policy"], "reject");
    assert_eq!(good["dmarc"]["pct"], 100);
    assert_eq!(good["dmarc"]["valid"], true);
    assert_eq!(good["dmarc"]["external_rua_authorised"], true);
    assert_eq!(good["mx"][0]["host"], "mx1.good.mail.test");
    assert_eq!(good["null_mx"], false);
    assert_eq!(good["tls_rpt"]["valid"], true);
    assert_eq!(good["bimi"]["valid"], true);
    assert_eq!(good["mta_sts"]["present"], false);
    // No selector declared and none of the common ones found: inconclusive, not a failure.
    assert!(good.get("dkim").is_none());
    assert!(
        unobserved("good")["mail.dkim"]
            .as_str()
            .unwrap()
            .contains("--dkim-selector")
    );

    assert_eq!(mail("plusall")["spf"]["all_qualifier"], "+all");

    let many = &mail("many")["spf"];
    assert_eq!(many["dns_lookup_count"], 12, "{many}");
    assert_eq!(many["permerror"], true);
    assert!(many["uses_ptr"].as_bool().unwrap());
    assert!(
        many["permerror_reasons"][0]
            .as_str()
            .unwrap()
            .contains("12 DNS-querying terms")
    );

    let voids = &mail("voids")["spf"];
    assert_eq!(voids["void_lookup_count"], 3, "{voids}");
    assert_eq!(voids["permerror"], true);

    let looped = &mail("loop")["spf"];
    assert_eq!(looped["loop"], true, "{looped}");
    assert_eq!(looped["permerror"], true);

    let two = &mail("twospf")["spf"];
    assert_eq!(two["record_count"], 2);
    assert_eq!(two["valid"], false);
    assert_eq!(two["permerror"], true);

    let none = &mail("nodmarc")["dmarc"];
    assert_eq!(none["present"], false, "{none}");
    assert!(none.get("policy").is_none());

    let bad = &mail("baddmarc")["dmarc"];
    assert_eq!(bad["valid"], false);
    assert!(bad.get("policy").is_none(), "{bad}");
    assert_eq!(bad["duplicate_tags"], serde_json::json!(["p"]));
    assert!(bad["syntax_errors"].to_string().contains("pct=200"));

    assert_eq!(mail("pnone")["dmarc"]["policy"], "none");

    let ext = &mail("extrua")["dmarc"];
    assert_eq!(
        ext["external_rua_domains"],
        serde_json::json!(["reports.other.test", "authorised.test"])
    );
    assert_eq!(ext["external_rua_authorised"], false, "{ext}");
    assert_eq!(
        ext["unauthorised_rua_domains"],
        serde_json::json!(["reports.other.test"])
    );

    let parked = mail("parked");
    assert_eq!(parked["null_mx"], true);
    assert_eq!(parked["parked"], true);

    let enforce = &mail("sts-enforce")["mta_sts"];
    assert_eq!(enforce["present"], true, "{enforce}");
    assert_eq!(enforce["policy_fetched"], true);
    assert_eq!(enforce["policy_valid"], true);
    assert_eq!(enforce["mode"], "enforce");
    assert_eq!(enforce["max_age"], 604800);
    assert_eq!(enforce["mx_covered"], true);
    assert_eq!(mail("sts-testing")["mta_sts"]["mode"], "testing");
    assert_eq!(mail("sts-testing")["mta_sts"]["mx_covered"], true);
    let mismatch = &mail("sts-mismatch")["mta_sts"];
    assert_eq!(mismatch["mx_covered"], false);
    assert_eq!(
        mismatch["uncovered_mx"],
        serde_json::json!(["mx1.sts-mismatch.mail.test", "backup.elsewhere.test"])
    );

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
    for target in targets {
        let host = format!("{target}.mail.test");
        assert_eq!(
            offline[&host]["facts"]["mail"], all[&host]["facts"]["mail"],
            "{host}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dkim_keys_by_selector() {
    use x509_parser::prelude::FromDer;
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/certs/rsa1024.pem"
    ))
    .unwrap();
    let (_, block) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&block.contents).unwrap();
    let rsa1024 = cert.tbs_certificate.subject_pki.raw.to_vec();
    let rsa2048 = rcgen::PublicKeyData::subject_public_key_info(
        &rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap(),
    );
    let ed25519 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
        .unwrap()
        .public_key_raw()
        .to_vec();
    let b64 = secaudit::evidence::encode_bytes;
    let zone = LabZone::new("test.")
        .unwrap()
        .txt(
            "old._domainkey.dkim.mail.test.",
            &format!("v=DKIM1; k=rsa; p={}", b64(&rsa1024)),
        )
        .unwrap()
        .txt(
            "new._domainkey.dkim.mail.test.",
            &format!("v=DKIM1; k=rsa; t=y; p={}", b64(&rsa2048)),
        )
        .unwrap()
        .txt(
            "ed._domainkey.dkim.mail.test.",
            &format!("v=DKIM1; k=ed25519; p={}", b64(&ed25519)),
        )
        .unwrap()
        .txt("gone._domainkey.dkim.mail.test.", "v=DKIM1; p=")
        .unwrap()
        .txt(
            "google._domainkey.dkim.mail.test.",
            &format!("v=DKIM1; p={}", b64(&rsa2048)),
        )
        .unwrap();
    let dns = LabDns::start(vec![zone]).await.unwrap();
    let mut command = args(&[
        "audit",
        "dkim.mail.test",
        "--resolver",
        &dns.addr.to_string(),
    ]);
    for selector in ["old", "new", "ed", "gone", "missing"] {
        command.push("--dkim-selector".into());
        command.push(selector.into());
    }
    command.extend(args(&["--format", "json", "--timeout", "10"]));
    let output = secaudit(command).await;
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let dkim = &report["facts"]["mail"]["dkim"];
    let selector = |name: &str| {
        dkim["selectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["selector"] == name)
            .unwrap_or_else(|| panic!("{name} in {dkim}"))
            .clone()
    };
    assert_eq!(selector("old")["key_type"], "rsa");
    assert_eq!(selector("old")["key_bits"], 1024);
    assert_eq!(selector("new")["key_bits"], 2048);
    assert_eq!(selector("new")["testing"], true);
    assert_eq!(selector("ed")["key_type"], "ed25519");
    assert_eq!(selector("ed")["key_bits"], 256);
    assert_eq!(selector("gone")["revoked"], true);
    assert_eq!(selector("gone")["valid"], true);
    assert_eq!(selector("missing")["found"], false);
    assert_eq!(selector("missing")["declared"], true);
    // A common selector that exists is reported too, as not declared.
    assert_eq!(selector("google")["declared"], false);
    assert_eq!(dkim["found_count"], 5);
}
