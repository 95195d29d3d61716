//! Certificate facts from real handshakes with generated certificates, and from the real,
//! publicly trusted certificates in `../shared/data/ct/certs/` (read in place).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use secaudit::evidence::encode_bytes;
use secaudit::evidence::tls::{HandshakeOutcome, HandshakeRecord, TlsEvidence};
use secaudit::facts::x509::{CertDerivation, CertFacts, TrustError, derive};
use secaudit::lab::{Lab, LabCert, LabChain, LabKey, LabSite, LabTls, Reply};
use secaudit::net::TrustAnchors;
use secaudit::probe::tls::{TlsLimits, TlsScan};
use tokio::time::Instant;

const HOST: &str = "cert.secaudit.test";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Serves a certificate of `shape` from the rustls lab and scans it, trusting the lab root (or
/// the bundled roots when `bundled`).
async fn scan_lab(shape: LabCert, bundled: bool) -> (Lab, TlsEvidence) {
    let lab = Lab::start(LabSite {
        host: HOST.into(),
        https: Reply::page("ok"),
        http: Reply::page("ok"),
        tls: LabTls {
            cert: shape,
            ..LabTls::default()
        },
    })
    .await
    .expect("lab");
    let trust = if bundled {
        TrustAnchors::Bundled
    } else {
        lab.trust()
    };
    let evidence = TlsScan::new(
        lab.https_addr,
        HOST,
        &trust,
        Instant::now() + Duration::from_secs(20),
        TlsLimits::default(),
    )
    .run()
    .await;
    assert!(!evidence.handshakes.is_empty(), "a handshake");
    (lab, evidence)
}

/// The facts of a lab certificate of `shape`, without a CT log list.
async fn facts_for(shape: LabCert, bundled: bool) -> CertFacts {
    let (_, evidence) = scan_lab(shape, bundled).await;
    let facts = facts_of(&evidence, None);
    assert_eq!(facts.source, "handshake");
    facts
}

/// The facts of a lab certificate of `shape`, SCTs verified against the lab's logs.
async fn lab_facts(shape: LabCert) -> CertFacts {
    let (lab, evidence) = scan_lab(shape, false).await;
    facts_of(&evidence, Some(&lab.ct_logs))
}

/// The certificate facts of a scan; panics when there are none.
fn facts_of(scan: &TlsEvidence, logs: Option<&secaudit::ct::LogList>) -> CertFacts {
    match derive(scan, now(), logs) {
        CertDerivation::Facts(facts) => *facts,
        CertDerivation::Unobserved(reason) => panic!("no certificate facts: {reason}"),
    }
}

/// Scan evidence holding one completed handshake that served `certificates`.
fn scan_with(certificates: Vec<String>) -> TlsEvidence {
    TlsEvidence {
        endpoint: "127.0.0.1:443".into(),
        sni: None,
        error: None,
        attempts: Vec::new(),
        handshakes: vec![HandshakeRecord {
            alpn_offered: Vec::new(),
            outcome: HandshakeOutcome::Completed {
                version: "TLSv1_2".into(),
                suite: "x".into(),
                group: None,
                alpn: None,
                certificates,
                ocsp_response_len: 0,
                ocsp_response: None,
                certificate_error: None,
                certificate_error_code: None,
            },
        }],
        certificate_check: None,
        vulnerabilities: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_certificate() {
    let facts = facts_for(LabCert::default(), false).await;
    assert!(facts.trusted, "{:?}", facts.trust_error_detail);
    assert_eq!(facts.trust_error, None);
    assert!(
        (88..=90).contains(&facts.days_until_expiry),
        "{}",
        facts.days_until_expiry
    );
    assert_eq!(facts.validity_days, 91);
    assert_eq!((facts.chain_length, facts.chain_in_order), (2, true));
    assert_eq!(facts.san, [HOST]);
    assert!(!facts.wildcard && !facts.self_signed);
    assert_eq!((facts.key.kind.as_str(), facts.key.bits), ("ec", 256));
    assert_eq!(facts.signature.algorithm, "ecdsa-with-SHA256");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_not_yet_valid() {
    let expired = facts_for(
        LabCert {
            valid_from_days: -100,
            valid_until_days: -10,
            ..LabCert::default()
        },
        false,
    )
    .await;
    assert_eq!(
        expired.trust_error,
        Some(TrustError::Expired),
        "{:?}",
        expired.trust_error_detail
    );
    assert!(
        (-11..=-10).contains(&expired.days_until_expiry),
        "{}",
        expired.days_until_expiry
    );
    let early = facts_for(
        LabCert {
            valid_from_days: 10,
            valid_until_days: 100,
            ..LabCert::default()
        },
        false,
    )
    .await;
    assert_eq!(
        early.trust_error,
        Some(TrustError::NotYetValid),
        "{:?}",
        early.trust_error_detail
    );
    assert!(!early.trusted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_host_and_wildcards() {
    let facts = facts_for(
        LabCert {
            names: vec!["*.other.test".into()],
            ..LabCert::default()
        },
        false,
    )
    .await;
    assert_eq!(
        facts.trust_error,
        Some(TrustError::HostnameMismatch),
        "{:?}",
        facts.trust_error_detail
    );
    assert!(facts.wildcard);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_untrusted_root_and_missing_intermediate() {
    let own = facts_for(
        LabCert {
            chain: LabChain::SelfSigned,
            ..LabCert::default()
        },
        false,
    )
    .await;
    assert_eq!(
        own.trust_error,
        Some(TrustError::SelfSigned),
        "{:?}",
        own.trust_error_detail
    );
    assert!(own.self_signed);
    let untrusted = facts_for(LabCert::default(), true).await;
    assert_eq!(
        untrusted.trust_error,
        Some(TrustError::UnknownIssuer),
        "{:?}",
        untrusted.trust_error_detail
    );
    let missing = facts_for(
        LabCert {
            chain: LabChain::Intermediate { served: false },
            ..LabCert::default()
        },
        false,
    )
    .await;
    assert_eq!(
        missing.trust_error,
        Some(TrustError::IncompleteChain),
        "{:?}",
        missing.trust_error_detail
    );
    assert_eq!(missing.chain_length, 1);
    let served = facts_for(
        LabCert {
            chain: LabChain::Intermediate { served: true },
            ..LabCert::default()
        },
        false,
    )
    .await;
    assert!(served.trusted, "{:?}", served.trust_error_detail);
    assert_eq!((served.chain_length, served.chain_in_order), (2, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_types() {
    let p384 = facts_for(
        LabCert {
            key: LabKey::EcdsaP384,
            ..LabCert::default()
        },
        false,
    )
    .await;
    assert_eq!(
        (
            p384.key.kind.as_str(),
            p384.key.bits,
            p384.key.curve.as_deref()
        ),
        ("ec", 384, Some("secp384r1"))
    );
    let rsa = facts_for(
        LabCert {
            key: LabKey::Rsa2048,
            ..LabCert::default()
        },
        false,
    )
    .await;
    assert!(rsa.trusted, "{:?}", rsa.trust_error_detail);
    assert_eq!(
        (
            rsa.key.kind.as_str(),
            rsa.key.bits,
            rsa.key.curve.as_deref()
        ),
        ("rsa", 2048, None)
    );
}

fn shared_chain(dir: &str) -> Option<Vec<String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/ct/certs")
        .join(dir);
    let leaf = CertificateDer::pem_file_iter(path.join("leaf.pem"))
        .ok()?
        .next()?
        .ok()?;
    let issuer = CertificateDer::pem_file_iter(path.join("issuer.pem"))
        .ok()?
        .next()?
        .ok()?;
    Some(vec![
        encode_bytes(leaf.as_ref()),
        encode_bytes(issuer.as_ref()),
    ])
}

#[allow(clippy::disallowed_macros)] // the skip notice goes to the test log
#[test]
fn real_certificates_with_embedded_scts() {
    // name, dir, expected SAN entry, key kind, embedded SCTs at least
    let cases = [
        ("google.com", "*.google.com", "ec", 2),
        ("geomys.org", "geomys.org", "ec", 2),
        ("github.com-2018", "github.com", "rsa", 3),
    ];
    for (dir, san, kind, scts) in cases {
        let Some(chain) = shared_chain(dir) else {
            eprintln!("skipped: ../shared/data/ct/certs/{dir} is not present");
            continue;
        };
        let facts = facts_of(&scan_with(chain), None);
        assert!(facts.san.iter().any(|s| s == san), "{dir}: {:?}", facts.san);
        assert_eq!(facts.key.kind, kind, "{dir}");
        assert!(
            facts.embedded_sct_count >= scts,
            "{dir}: {} SCTs",
            facts.embedded_sct_count
        );
        assert!(facts.days_until_expiry < 0, "{dir} is expired");
        assert!(!facts.signature.weak_hash, "{dir}");
        assert!(facts.chain_in_order, "{dir}");
    }
}

fn shared(path: &str) -> Option<std::path::PathBuf> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/ct")
        .join(path);
    full.exists().then_some(full)
}

fn der_of(path: &std::path::Path) -> Vec<u8> {
    CertificateDer::pem_file_iter(path)
        .expect("pem")
        .next()
        .expect("one certificate")
        .expect("valid pem")
        .as_ref()
        .to_vec()
}

#[allow(clippy::disallowed_macros)] // the skip notice goes to the test log
#[test]
fn real_scts_verify_against_the_log_list_snapshot() {
    use secaudit::ct::{LogList, SctStatus, check_embedded_scts};
    let (Some(current), Some(all)) = (shared("log_list.json"), shared("all_logs_list.json")) else {
        eprintln!("skipped: ../shared/data/ct is not present");
        return;
    };
    let current = LogList::load(&current).expect("log_list.json");
    let all = LogList::load(&all).expect("all_logs_list.json");
    assert_eq!(current.timestamp, "2026-01-02T12:57:01Z");
    assert_eq!(current.logs.len(), 75);
    for (dir, list, expected_operators) in [
        ("google.com", &current, vec!["DigiCert", "Google"]),
        ("geomys.org", &current, vec![]),
        ("github.com-2018", &all, vec![]),
    ] {
        let leaf = der_of(&shared(&format!("certs/{dir}/leaf.pem")).unwrap());
        let issuer = der_of(&shared(&format!("certs/{dir}/issuer.pem")).unwrap());
        let checks = check_embedded_scts(&leaf, Some(&issuer), Some(list)).expect("leaf parses");
        assert!(checks.len() >= 2, "{dir}: {checks:?}");
        for check in &checks {
            assert_eq!(check.status, SctStatus::Valid, "{dir}: {check:?}");
        }
        let mut operators: Vec<&str> = checks
            .iter()
            .filter_map(|c| c.operator.as_deref())
            .collect();
        operators.sort_unstable();
        operators.dedup();
        if !expected_operators.is_empty() {
            assert_eq!(operators, expected_operators, "{dir}");
        }
        // The same SCTs against the wrong issuer must fail.
        let wrong = check_embedded_scts(&leaf, Some(&leaf), Some(list)).unwrap();
        assert!(
            wrong
                .iter()
                .all(|c| c.status == SctStatus::InvalidSignature),
            "{dir}: {wrong:?}"
        );
        // Without a list nothing is verified, and nothing passes silently.
        let none = check_embedded_scts(&leaf, Some(&issuer), None).unwrap();
        assert!(
            none.iter()
                .all(|c| matches!(c.status, SctStatus::Unverifiable(_)))
        );
    }
}

/// Serves a certificate with `scts` and returns the CT facts, verified against the lab's list.
async fn ct_facts_for(
    scts: Vec<secaudit::lab::certs::LabSct>,
    chain: LabChain,
) -> secaudit::facts::ct::CtFacts {
    let facts = lab_facts(LabCert {
        scts,
        chain,
        ..LabCert::default()
    })
    .await;
    assert!(facts.trusted, "the SCT extension must not break the chain");
    facts.ct.expect("CT facts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_scts_from_test_logs() {
    use secaudit::lab::certs::LabSct;
    let good = ct_facts_for(
        vec![LabSct::valid("Op A"), LabSct::valid("Op B")],
        LabChain::Direct,
    )
    .await;
    assert_eq!(
        (good.sct_count, good.valid_count, good.operator_count),
        (2, Some(2), Some(2))
    );
    assert_eq!(good.chrome_policy_compliant, Some(true));
    assert_eq!(good.future_timestamp_count, 0);
    assert!(
        good.scts.iter().all(|s| s.status == "valid"),
        "{:?}",
        good.scts
    );

    let via_intermediate = ct_facts_for(
        vec![LabSct::valid("Op A"), LabSct::valid("Op B")],
        LabChain::Intermediate { served: true },
    )
    .await;
    assert_eq!(
        via_intermediate.valid_count,
        Some(2),
        "issuer key hash of the intermediate"
    );

    let bad = ct_facts_for(
        vec![
            LabSct::valid("Op A"),
            LabSct {
                valid_signature: false,
                ..LabSct::valid("Op B")
            },
        ],
        LabChain::Direct,
    )
    .await;
    assert_eq!((bad.valid_count, bad.invalid_count), (Some(1), Some(1)));
    assert_eq!(bad.chrome_policy_compliant, Some(false));

    let unknown = ct_facts_for(
        vec![
            LabSct::valid("Op A"),
            LabSct {
                listed: false,
                ..LabSct::valid("Op B")
            },
        ],
        LabChain::Direct,
    )
    .await;
    assert_eq!(
        (unknown.valid_count, unknown.unknown_log_count),
        (Some(1), Some(1))
    );

    let single = ct_facts_for(
        vec![LabSct::valid("Op A"), LabSct::valid("Op A")],
        LabChain::Direct,
    )
    .await;
    assert_eq!(
        (single.valid_count, single.operator_count),
        (Some(2), Some(1))
    );
    assert_eq!(single.apple_policy_compliant, Some(false));
}

#[allow(clippy::disallowed_macros)] // the skip notice goes to the test log
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ct_update_downloads_the_list_from_a_local_https_server() {
    let Some(snapshot) = shared("log_list.json") else {
        eprintln!("skipped: ../shared/data/ct is not present");
        return;
    };
    let json = std::fs::read_to_string(&snapshot).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(LabSite {
        host: "ct.secaudit.test".into(),
        https: Reply::page(&json),
        http: Reply::page("use https"),
        tls: LabTls::default(),
    })
    .await
    .unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &lab.ca_pem).unwrap();
    let output = dir.path().join("cache/secaudit/log_list.json");
    let run = crate::util::secaudit(vec![
        "ct".into(),
        "update".into(),
        "--url".into(),
        "https://ct.secaudit.test/log_list.json".into(),
        "--connect".into(),
        format!("ct.secaudit.test:443={}", lab.https_addr),
        "--ca-file".into(),
        ca.display().to_string(),
        "--output".into(),
        output.display().to_string(),
    ])
    .await;
    assert_eq!(run.status.code(), Some(0), "{}", crate::util::stderr(&run));
    assert!(
        crate::util::stdout(&run)
            .contains("wrote 75 logs (list version 80.14, 2026-01-02T12:57:01Z)")
    );
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        json,
        "byte-for-byte"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stapled_ocsp_responses() {
    use secaudit::lab::certs::{LabOcsp, LabSct};
    use secaudit::lab::ocsp::LabOcspStatus;
    let good = lab_facts(LabCert {
        ocsp: Some(LabOcsp {
            scts: vec![LabSct::valid("Op A"), LabSct::valid("Op B")],
            ..LabOcsp::default()
        }),
        ..LabCert::default()
    })
    .await;
    let ocsp = &good.ocsp;
    assert!(ocsp.stapled && ocsp.parse_error.is_none(), "{ocsp:?}");
    assert_eq!(ocsp.response_status.as_deref(), Some("successful"));
    assert_eq!(ocsp.status.as_deref(), Some("good"));
    assert_eq!(
        (ocsp.fresh, ocsp.signature_valid, ocsp.sct_count),
        (Some(true), Some(true), 2)
    );
    let ct = good.ct.expect("CT facts");
    assert_eq!((ct.ocsp_count, ct.embedded_count), (2, 0));
    assert_eq!((ct.valid_count, ct.operator_count), (Some(2), Some(2)));
    assert!(
        ct.scts
            .iter()
            .all(|s| s.source == "ocsp" && s.status == "valid")
    );
    assert_eq!(
        ct.chrome_policy_compliant,
        Some(true),
        "two SCTs by OCSP suffice"
    );

    let revoked = lab_facts(LabCert {
        ocsp: Some(LabOcsp {
            status: LabOcspStatus::Revoked,
            ..LabOcsp::default()
        }),
        chain: LabChain::Intermediate { served: true },
        ..LabCert::default()
    })
    .await;
    assert_eq!(revoked.ocsp.status.as_deref(), Some("revoked"));
    assert_eq!(
        revoked.ocsp.revocation_reason.as_deref(),
        Some("KeyCompromise")
    );
    assert_eq!(
        revoked.ocsp.signature_valid,
        Some(true),
        "signed by the intermediate"
    );

    let stale_forged = lab_facts(LabCert {
        ocsp: Some(LabOcsp {
            status: LabOcspStatus::Unknown,
            valid_signature: false,
            next_update_days: -2,
            ..LabOcsp::default()
        }),
        ..LabCert::default()
    })
    .await;
    assert_eq!(stale_forged.ocsp.status.as_deref(), Some("unknown"));
    assert_eq!(
        (stale_forged.ocsp.fresh, stale_forged.ocsp.signature_valid),
        (Some(false), Some(false))
    );

    let none = lab_facts(LabCert::default()).await;
    assert!(!none.ocsp.stapled && none.ocsp.status.is_none());
}

/// Serves `certificates` (and what comes with them) from the scripted TLS 1.0–1.1 responder, so
/// no rustls handshake is possible and the raw Certificate message is all there is.
async fn legacy_facts(
    config: secaudit::lab::legacy::LegacyConfig,
    host: &str,
    trust: &TrustAnchors,
    logs: Option<&secaudit::ct::LogList>,
) -> CertFacts {
    use secaudit::lab::legacy::{LegacyConfig, LegacyServer};
    use secaudit::tls_registry::Protocol;
    let server = LegacyServer::start(LegacyConfig {
        versions: vec![Protocol::Tls1_0, Protocol::Tls1_1],
        ..config
    })
    .await
    .expect("legacy responder");
    let evidence = TlsScan::new(
        server.addr,
        host,
        trust,
        Instant::now() + Duration::from_secs(20),
        TlsLimits::default(),
    )
    .run()
    .await;
    assert!(evidence.handshakes.is_empty(), "TLS 1.1 is below rustls");
    let facts = facts_of(&evidence, logs);
    assert_eq!(facts.source, "certificate_message");
    facts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_certificate_message_with_tls_scts_and_ocsp() {
    use secaudit::lab::certs::{LabOcsp, LabSct, issue};
    use secaudit::lab::legacy::LegacyConfig;
    let issued = issue(
        HOST,
        &LabCert {
            tls_scts: vec![
                LabSct::valid("Op A"),
                LabSct {
                    valid_signature: false,
                    ..LabSct::valid("Op B")
                },
                LabSct::valid("Op C"),
            ],
            ocsp: Some(LabOcsp::default()),
            chain: LabChain::Intermediate { served: true },
            ..LabCert::default()
        },
    )
    .expect("certificates");
    let trust = TrustAnchors::Custom(vec![issued.root.clone()]);
    let config = LegacyConfig {
        certificates: issued.served.iter().map(|c| c.as_ref().to_vec()).collect(),
        ocsp_response: issued.ocsp.clone(),
        sct_list: issued.tls_sct_list.clone(),
        ..LegacyConfig::default()
    };
    let facts = legacy_facts(config, HOST, &trust, Some(&issued.ct_logs)).await;
    assert!(facts.trusted, "{:?}", facts.trust_error_detail);
    assert_eq!(facts.chain_length, 2);
    assert_eq!(facts.ocsp.status.as_deref(), Some("good"));
    assert_eq!(facts.ocsp.signature_valid, Some(true));
    let ct = facts.ct.expect("CT facts");
    assert_eq!((ct.tls_extension_count, ct.sct_count), (3, 3));
    assert_eq!((ct.valid_count, ct.invalid_count), (Some(2), Some(1)));
    assert_eq!(ct.chrome_policy_compliant, Some(true), "A and C are valid");

    // The same chain for another name is untrusted for that name, read from the raw message.
    let config = LegacyConfig {
        certificates: issued.served.iter().map(|c| c.as_ref().to_vec()).collect(),
        ..LegacyConfig::default()
    };
    let other = legacy_facts(config, "other.secaudit.test", &trust, None).await;
    assert_eq!(other.trust_error, Some(TrustError::HostnameMismatch));
}

fn fixture(name: &str) -> Vec<u8> {
    der_of(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/certs")
            .join(name),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_1024_and_sha1_fixtures() {
    use secaudit::lab::legacy::LegacyConfig;
    let weak_key = legacy_facts(
        LegacyConfig {
            certificates: vec![fixture("rsa1024.pem")],
            ..LegacyConfig::default()
        },
        "rsa1024.secaudit.test",
        &TrustAnchors::Bundled,
        None,
    )
    .await;
    assert_eq!(
        (weak_key.key.kind.as_str(), weak_key.key.bits),
        ("rsa", 1024)
    );
    assert!(!weak_key.signature.weak_hash);
    assert_eq!(
        weak_key.trust_error,
        Some(TrustError::SelfSigned),
        "{:?}",
        weak_key.trust_error_detail
    );
    let sha1 = legacy_facts(
        LegacyConfig {
            certificates: vec![fixture("sha1.pem")],
            ..LegacyConfig::default()
        },
        "sha1.secaudit.test",
        &TrustAnchors::Bundled,
        None,
    )
    .await;
    assert_eq!(sha1.signature.algorithm, "sha1WithRSAEncryption");
    assert!(sha1.signature.weak_hash);
    assert_eq!((sha1.key.kind.as_str(), sha1.key.bits), ("rsa", 2048));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_order_extra_certificates_and_served_root() {
    use secaudit::lab::certs::issue;
    use secaudit::lab::legacy::LegacyConfig;
    let issued = issue(
        HOST,
        &LabCert {
            chain: LabChain::Intermediate { served: true },
            ..LabCert::default()
        },
    )
    .expect("certificates");
    let [leaf, intermediate] = [&issued.served[0], &issued.served[1]].map(|c| c.as_ref().to_vec());
    let root = issued.root.as_ref().to_vec();
    let unrelated = fixture("sha1.pem");
    let trust = TrustAnchors::Custom(vec![issued.root.clone()]);
    let served = |certificates: Vec<Vec<u8>>| LegacyConfig {
        certificates,
        ..LegacyConfig::default()
    };

    let reversed = legacy_facts(
        served(vec![leaf.clone(), root.clone(), intermediate.clone()]),
        HOST,
        &trust,
        None,
    )
    .await;
    assert!(reversed.trusted, "{:?}", reversed.trust_error_detail);
    assert!(!reversed.chain_in_order);
    assert_eq!(
        (reversed.chain_extra_count, reversed.chain_includes_root),
        (0, true)
    );

    let extra = legacy_facts(
        served(vec![leaf.clone(), intermediate.clone(), unrelated]),
        HOST,
        &trust,
        None,
    )
    .await;
    assert!(extra.trusted, "{:?}", extra.trust_error_detail);
    assert_eq!(
        (
            extra.chain_extra_count,
            extra.chain_includes_root,
            extra.chain_in_order
        ),
        (1, true, false),
        "the unrelated certificate is self-signed: a root served for nothing"
    );
}
