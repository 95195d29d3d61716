//! Certificate facts from real handshakes with generated certificates, and from the real,
//! publicly trusted certificates in `../shared/data/ct/certs/` (read in place).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use secaudit::evidence::tls::HandshakeOutcome;
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

/// Serves a certificate of `shape` and returns the facts the scan derives, trusting the lab root
/// (or the bundled roots when `bundled`).
async fn facts_for(shape: LabCert, bundled: bool) -> CertFacts {
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
    let handshake = evidence.handshakes.first().expect("a handshake");
    match derive(&handshake.outcome, now(), None) {
        CertDerivation::Facts(facts) => *facts,
        CertDerivation::Unobserved(reason) => panic!("no certificate facts: {reason}"),
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
    let engine = base64::engine::general_purpose::STANDARD;
    Some(vec![
        engine.encode(leaf.as_ref()),
        engine.encode(issuer.as_ref()),
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
        let outcome = HandshakeOutcome::Completed {
            version: "TLSv1_2".into(),
            suite: "x".into(),
            group: None,
            alpn: None,
            certificates: chain,
            ocsp_response_len: 0,
            ocsp_response: None,
            certificate_error: None,
            certificate_error_code: None,
        };
        let CertDerivation::Facts(facts) = derive(&outcome, now(), None) else {
            panic!("{dir}: no facts");
        };
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
    let lab = Lab::start(LabSite {
        host: HOST.into(),
        https: Reply::page("ok"),
        http: Reply::page("ok"),
        tls: LabTls {
            cert: LabCert {
                scts,
                chain,
                ..LabCert::default()
            },
            ..LabTls::default()
        },
    })
    .await
    .expect("lab");
    let evidence = TlsScan::new(
        lab.https_addr,
        HOST,
        &lab.trust(),
        Instant::now() + Duration::from_secs(20),
        TlsLimits::default(),
    )
    .run()
    .await;
    let HandshakeOutcome::Completed {
        certificates,
        certificate_error,
        ..
    } = &evidence.handshakes[0].outcome
    else {
        panic!("handshake failed");
    };
    assert_eq!(
        certificate_error, &None,
        "the SCT extension must not break the chain"
    );
    let engine = base64::engine::general_purpose::STANDARD;
    let chain: Vec<Vec<u8>> = certificates
        .iter()
        .map(|c| engine.decode(c).unwrap())
        .collect();
    let checks = secaudit::ct::check_embedded_scts(
        &chain[0],
        chain.get(1).map(Vec::as_slice),
        Some(&lab.ct_logs),
    )
    .unwrap();
    secaudit::facts::ct::derive(&checks, Some(&lab.ct_logs), 91, (now() as u64) * 1000)
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
