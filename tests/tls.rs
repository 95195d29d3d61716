//! The TLS probe against real servers started here: rustls servers with chosen versions, suites
//! and groups; the scripted legacy responder for what rustls cannot serve; and, where installed,
//! Debian's `openssl s_server`.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use secaudit::evidence::TlsEvidence;
use secaudit::facts::tls::TlsFacts;
use secaudit::lab::legacy::{LegacyConfig, LegacyServer, Refusal};
use secaudit::lab::{Lab, LabSite, LabTls, Reply};
use secaudit::net::TrustAnchors;
use secaudit::probe::tls::{TlsLimits, TlsScan};
use secaudit::tls_registry::Protocol;
use tokio::time::Instant;

async fn scan(addr: SocketAddr, trust: &TrustAnchors) -> (TlsEvidence, TlsFacts) {
    scan_with(addr, trust, TlsLimits::default()).await
}

async fn scan_with(
    addr: SocketAddr,
    trust: &TrustAnchors,
    limits: TlsLimits,
) -> (TlsEvidence, TlsFacts) {
    let evidence = TlsScan::new(
        addr,
        "tls.secaudit.test",
        trust,
        Instant::now() + Duration::from_secs(30),
        limits,
    )
    .run()
    .await;
    let facts = TlsFacts::derive(&evidence).facts;
    (evidence, facts)
}

async fn rustls_lab(tls: LabTls) -> Lab {
    Lab::start(LabSite {
        host: "tls.secaudit.test".into(),
        https: Reply::page("ok"),
        http: Reply::page("ok"),
        tls,
    })
    .await
    .expect("lab")
}

fn names(list: &Option<Vec<secaudit::facts::ciphers::SuiteFacts>>) -> BTreeSet<String> {
    list.iter().flatten().map(|s| s.name.clone()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

fn protocols(facts: &TlsFacts) -> [Option<bool>; 6] {
    let p = &facts.protocols;
    [p.ssl2, p.ssl3, p.tls1_0, p.tls1_1, p.tls1_2, p.tls1_3]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rustls_tls13_only_with_chosen_suites_and_groups() {
    let lab = rustls_lab(LabTls {
        versions: vec![Protocol::Tls1_3],
        suites: vec![0x1301, 0x1303],
        groups: vec![0x001d, 0x0017],
        ..LabTls::default()
    })
    .await;
    let (_, facts) = scan(lab.https_addr, &lab.trust()).await;
    let no = Some(false);
    assert_eq!(protocols(&facts), [no, no, no, no, no, Some(true)]);
    assert_eq!(
        names(&facts.suites.tls1_3),
        set(&["TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"])
    );
    assert_eq!(facts.suites.tls1_2, Some(Vec::new()));
    let groups: BTreeSet<String> = facts.groups.tls1_3.clone().unwrap().into_iter().collect();
    assert_eq!(groups, set(&["x25519", "secp256r1"]));
    assert_eq!(facts.groups.post_quantum, Some(false));
    assert_eq!(facts.protocol_count, Some(1));
    assert_eq!(facts.insecure_suite_count, Some(0));
    let handshake = facts.handshake.expect("handshake");
    assert_eq!(handshake.version, "TLSv1_3");
    assert_eq!(handshake.alpn.as_deref(), Some("http/1.1"));
    assert_eq!(
        (facts.alpn.h2, facts.alpn.http1_1),
        (Some(false), Some(true))
    );
    assert_eq!(facts.protections.compression, Some(false));
    assert_eq!(facts.protections.ocsp_stapling, Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rustls_tls12_only_with_chosen_suites_and_groups() {
    let lab = rustls_lab(LabTls {
        versions: vec![Protocol::Tls1_2],
        suites: vec![0xc02b, 0xcca9],
        groups: vec![0x0018],
        ..LabTls::default()
    })
    .await;
    let (_, facts) = scan(lab.https_addr, &lab.trust()).await;
    let no = Some(false);
    assert_eq!(protocols(&facts), [no, no, no, no, Some(true), no]);
    assert_eq!(
        names(&facts.suites.tls1_2),
        set(&[
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
        ])
    );
    assert_eq!(facts.groups.tls1_2, Some(vec!["secp384r1".to_string()]));
    assert_eq!(facts.groups.tls1_3, None);
    assert_eq!(
        facts.server_preference,
        Some(false),
        "rustls follows the client's order"
    );
    assert_eq!(facts.protections.secure_renegotiation, Some(true));
    assert_eq!(facts.protections.extended_master_secret, Some(true));
    assert_eq!(facts.dhe_prime_bits, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rustls_with_both_versions_sends_the_downgrade_sentinel() {
    let lab = rustls_lab(LabTls::default()).await;
    let (evidence, facts) = scan(lab.https_addr, &lab.trust()).await;
    let no = Some(false);
    assert_eq!(protocols(&facts), [no, no, no, no, Some(true), Some(true)]);
    assert_eq!(facts.protections.downgrade_sentinel, Some(true));
    // rustls does not implement TLS_FALLBACK_SCSV: it answers the fallback probe normally.
    assert_eq!(facts.protections.fallback_scsv, Some(false));
    assert_eq!(facts.protocol_count, Some(2));
    assert_eq!(names(&facts.suites.tls1_3).len(), 3);
    assert_eq!(
        facts.groups.post_quantum,
        Some(true),
        "rustls offers X25519MLKEM768"
    );
    assert!(
        facts
            .accepted_suites
            .unwrap()
            .iter()
            .all(|s| s.forward_secrecy)
    );
    assert!(!evidence.handshakes.is_empty());
}

fn legacy_config() -> LegacyConfig {
    LegacyConfig {
        versions: vec![Protocol::Ssl3, Protocol::Tls1_0, Protocol::Tls1_1],
        suites: vec![0x0033, 0x002f, 0x000a, 0x0005],
        server_preference: true,
        honours_fallback_scsv: true,
        secure_renegotiation: true,
        extended_master_secret: false,
        compression: false,
        groups: vec![0x0017],
        dhe_prime_bits: 1024,
        ssl2_ciphers: vec![0x010080, 0x0700c0],
        refusal: Refusal::Alert,
        ..LegacyConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_versions_suites_and_protections() {
    let server = LegacyServer::start(legacy_config()).await.unwrap();
    let (_, facts) = scan(server.addr, &TrustAnchors::Bundled).await;
    let (yes, no) = (Some(true), Some(false));
    assert_eq!(protocols(&facts), [yes, yes, yes, yes, no, no]);
    let expected = [
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        "TLS_RSA_WITH_RC4_128_SHA",
    ];
    for list in [
        &facts.suites.ssl3,
        &facts.suites.tls1_0,
        &facts.suites.tls1_1,
    ] {
        let order: Vec<&str> = list.iter().flatten().map(|s| s.name.as_str()).collect();
        assert_eq!(order, expected, "server order is the discovery order");
    }
    assert_eq!(
        names(&facts.suites.ssl2),
        set(&[
            "SSL_CK_RC4_128_WITH_MD5",
            "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"
        ])
    );
    assert_eq!(facts.server_preference, Some(true));
    assert_eq!(facts.protections.fallback_scsv, Some(true));
    assert_eq!(facts.protections.secure_renegotiation, Some(true));
    assert_eq!(facts.protections.extended_master_secret, Some(false));
    assert_eq!(facts.protections.compression, Some(false));
    assert_eq!(facts.dhe_prime_bits, Some(1024));
    assert_eq!(facts.groups.tls1_2, None, "no ECDHE suite accepted");
    // 2 SSLv2 + RC4 in three versions.
    assert_eq!(facts.insecure_suite_count, Some(5));
    assert_eq!(facts.highest_protocol.as_deref(), Some("tls1_1"));
    assert_eq!(facts.lowest_protocol.as_deref(), Some("ssl2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_client_order_compression_and_silent_refusals() {
    let server = LegacyServer::start(LegacyConfig {
        versions: vec![Protocol::Tls1_0, Protocol::Tls1_2],
        suites: vec![0xc013, 0xc02f, 0x009c],
        server_preference: false,
        honours_fallback_scsv: false,
        secure_renegotiation: false,
        compression: true,
        groups: vec![0x0017, 0x001d],
        refusal: Refusal::Close,
        ssl2_ciphers: Vec::new(),
        ..legacy_config()
    })
    .await
    .unwrap();
    let (_, facts) = scan(server.addr, &TrustAnchors::Bundled).await;
    let (yes, no) = (Some(true), Some(false));
    assert_eq!(protocols(&facts), [no, no, yes, no, yes, no]);
    assert_eq!(
        names(&facts.suites.tls1_2),
        set(&[
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_RSA_WITH_AES_128_GCM_SHA256"
        ])
    );
    assert_eq!(
        names(&facts.suites.tls1_0),
        set(&["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"]),
        "GCM suites do not exist before TLS 1.2"
    );
    assert_eq!(facts.server_preference, Some(false));
    assert_eq!(facts.protections.fallback_scsv, Some(false));
    assert_eq!(facts.protections.secure_renegotiation, Some(false));
    assert_eq!(facts.protections.compression, Some(true));
    let groups: BTreeSet<String> = facts.groups.tls1_2.clone().unwrap().into_iter().collect();
    assert_eq!(groups, set(&["secp256r1", "x25519"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_leaves_every_version_undecided() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (_, facts) = scan(closed, &TrustAnchors::Bundled).await;
    assert_eq!(protocols(&facts), [None; 6]);
    assert!(
        facts.protocols_errors["tls1_2"].starts_with("refused"),
        "{:?}",
        facts.protocols_errors
    );
    assert_eq!(facts.accepted_suites, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_on_the_tls_port_is_not_tls() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
            });
        }
    });
    let (_, facts) = scan(addr, &TrustAnchors::Bundled).await;
    server.abort();
    assert_eq!(facts.protocols.tls1_2, None);
    assert!(
        facts.protocols_errors["tls1_2"].contains("not TLS: HTTP/1.1 400"),
        "{:?}",
        facts.protocols_errors
    );
}

/// Whether Debian's `openssl` is missing (the test then skips itself, saying so).
#[allow(clippy::disallowed_macros)] // the skip notice goes to the test log
pub(crate) fn openssl_missing() -> bool {
    let missing = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err();
    if missing {
        eprintln!("skipped: openssl is not installed (.ci/run installs it)");
    }
    missing
}

/// Starts `openssl s_server` on a free loopback port with a self-signed certificate of `key` for
/// `tls.secaudit.test` (written to `dir`) and `args`, and waits until it accepts connections.
pub(crate) async fn s_server(
    dir: &std::path::Path,
    key: &rcgen::KeyPair,
    args: &[&str],
) -> (tokio::process::Child, SocketAddr) {
    let cert = rcgen::CertificateParams::new(vec!["tls.secaudit.test".to_string()])
        .unwrap()
        .self_signed(key)
        .unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&cert_path)
        .arg("-key")
        .arg(&key_path)
        .args(args)
        .env("OPENSSL_CONF", "/dev/null")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start openssl s_server");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let started = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "s_server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, addr)
}

/// Checks version detection against Debian's `openssl s_server`, when it is installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_s_server_versions_are_detected() {
    if openssl_missing() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    for (flag, protocol) in [
        ("-tls1", Protocol::Tls1_0),
        ("-tls1_1", Protocol::Tls1_1),
        ("-tls1_2", Protocol::Tls1_2),
        ("-tls1_3", Protocol::Tls1_3),
    ] {
        let (mut child, addr) = s_server(
            dir.path(),
            &key,
            &[
                flag,
                "-cipher",
                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0",
            ],
        )
        .await;
        let (_, facts) = scan(addr, &TrustAnchors::Bundled).await;
        let _ = child.kill().await;
        let accepted: Vec<Protocol> = Protocol::ALL
            .into_iter()
            .filter(|p| protocols(&facts)[*p as usize] == Some(true))
            .collect();
        assert_eq!(
            accepted,
            [protocol],
            "{flag}: {:?} {:?}",
            protocols(&facts),
            facts.protocols_errors
        );
    }
}

/// A server that holds each connection open for a while before a handshake_failure alert, and
/// records how many connections were open at once.
async fn counting_server() -> (
    SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let open = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let seen_peak = Arc::clone(&peak);
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (open, peak) = (Arc::clone(&open), Arc::clone(&peak));
            tokio::spawn(async move {
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf).await;
                tokio::time::sleep(Duration::from_millis(30)).await;
                // Counted as closed before the answer leaves: the client can only free its slot
                // (and open the next connection) after reading it, so the count never overlaps.
                open.fetch_sub(1, Ordering::SeqCst);
                let _ = stream.write_all(&[21, 3, 3, 0, 2, 2, 40]).await;
            });
        }
    });
    (addr, seen_peak, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_host_are_capped() {
    let (addr, peak, task) = counting_server().await;
    let limits = TlsLimits {
        max_connections: 2,
        ..TlsLimits::default()
    };
    let (evidence, facts) = scan_with(addr, &TrustAnchors::Bundled, limits).await;
    task.abort();
    assert!(evidence.attempts.len() >= 6);
    let peak = peak.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        (1..=2).contains(&peak),
        "peak of {peak} simultaneous connections"
    );
    assert_eq!(
        facts.protocols.tls1_2,
        Some(false),
        "handshake_failure is a refusal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out_within_the_exchange_budget() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let limits = TlsLimits {
        exchange_timeout: Duration::from_millis(300),
        ..TlsLimits::default()
    };
    let (evidence, facts) = scan_with(addr, &TrustAnchors::Bundled, limits).await;
    task.abort();
    assert!(!evidence.attempts.is_empty());
    assert_eq!(facts.protocols.tls1_3, None);
    assert!(
        facts.protocols_errors["tls1_3"].starts_with("timeout"),
        "{:?}",
        facts.protocols_errors
    );
}

// ---- Vulnerability probes against scripted vulnerable and fixed servers ----

use secaudit::evidence::vuln::RecordReply;
use secaudit::facts::vulns::{Verdict, VulnStatus};
use secaudit::lab::legacy::{Heartbeat, RsaBehaviour};
use secaudit::lab::rsa::LabRsaKey;

/// Scans a legacy responder with `config` and returns the evidence and facts; exchanges time
/// out after a second, so a server that rightly ignores a probe does not slow the test.
async fn vuln_scan(config: LegacyConfig) -> (TlsEvidence, TlsFacts) {
    vuln_scan_within(config, Duration::from_secs(1)).await
}

/// [`vuln_scan`] with a longer exchange deadline, for responders that do RSA work per
/// connection (slow in a debug build on a busy machine).
async fn vuln_scan_within(config: LegacyConfig, timeout: Duration) -> (TlsEvidence, TlsFacts) {
    let server = LegacyServer::start(config).await.unwrap();
    let limits = TlsLimits {
        exchange_timeout: timeout,
        ..TlsLimits::default()
    };
    scan_with(server.addr, &TrustAnchors::Bundled, limits).await
}

fn status(verdict: &Option<Verdict>) -> VulnStatus {
    verdict.as_ref().expect("verdict").status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbleed_bleeding_rfc_and_absent_heartbeat() {
    let (evidence, facts) = vuln_scan(LegacyConfig {
        heartbeat: Some(Heartbeat::Bleeds),
        ..LegacyConfig::default()
    })
    .await;
    let verdict = facts.vulnerabilities.heartbleed.clone().unwrap();
    assert_eq!(verdict.status, VulnStatus::Vulnerable, "{verdict:?}");
    assert_eq!(verdict.vulnerable, Some(true));
    let probe = evidence.vulnerabilities.heartbleed.unwrap();
    assert!(
        matches!(probe.reply, Some(RecordReply::Heartbeat { length }) if length >= 16384),
        "{probe:?}"
    );
    // Only the length is kept: the evidence stays small.
    assert!(serde_json::to_string(&probe).unwrap().len() < 1000);

    let (_, facts) = vuln_scan(LegacyConfig {
        heartbeat: Some(Heartbeat::Rfc6520),
        ..LegacyConfig::default()
    })
    .await;
    let verdict = facts.vulnerabilities.heartbleed.clone().unwrap();
    assert_eq!(verdict.status, VulnStatus::NotVulnerable, "{verdict:?}");
    assert!(
        verdict
            .evidence
            .iter()
            .any(|e| e.contains("no answer in time"))
    );

    let (evidence, facts) = vuln_scan(LegacyConfig::default()).await;
    let verdict = facts.vulnerabilities.heartbleed.clone().unwrap();
    assert_eq!(verdict.status, VulnStatus::NotVulnerable, "{verdict:?}");
    assert!(verdict.reason.contains("does not acknowledge"));
    assert_eq!(
        evidence.vulnerabilities.heartbleed.unwrap().sent,
        None,
        "no heartbeat is sent to a server that did not acknowledge the extension"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ccs_injection_accepted_and_refused() {
    let (_, facts) = vuln_scan(LegacyConfig {
        accepts_early_ccs: true,
        ..LegacyConfig::default()
    })
    .await;
    let verdict = facts.vulnerabilities.ccs_injection.clone().unwrap();
    assert_eq!(verdict.status, VulnStatus::Vulnerable, "{verdict:?}");
    assert!(verdict.reason.contains("bad_record_mac"));

    let (evidence, facts) = vuln_scan(LegacyConfig::default()).await;
    let verdict = facts.vulnerabilities.ccs_injection.clone().unwrap();
    assert_eq!(verdict.status, VulnStatus::NotVulnerable, "{verdict:?}");
    assert!(matches!(
        evidence.vulnerabilities.ccs_injection.unwrap().reply,
        Some(RecordReply::Alert {
            description: 10,
            ..
        })
    ));
}

fn rsa_config(key: &std::sync::Arc<LabRsaKey>, behaviour: RsaBehaviour) -> LegacyConfig {
    LegacyConfig {
        versions: vec![Protocol::Tls1_2],
        suites: vec![0x009c, 0x002f],
        rsa: Some((std::sync::Arc::clone(key), behaviour)),
        ..LegacyConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robot_oracle_constant_and_noisy_servers() {
    let key = std::sync::Arc::new(LabRsaKey::generate("tls.secaudit.test").unwrap());

    let (evidence, facts) = vuln_scan_within(
        rsa_config(&key, RsaBehaviour::Oracle),
        Duration::from_secs(5),
    )
    .await;
    let verdict = facts.vulnerabilities.robot.clone().unwrap();
    assert_eq!(verdict.status, VulnStatus::Vulnerable, "{verdict:#?}");
    let probe = evidence.vulnerabilities.robot.unwrap();
    assert_eq!(probe.modulus_bits, Some(2048));
    assert_eq!(probe.rounds.len(), 3, "a difference is confirmed twice");
    let decrypt_error = RecordReply::Alert {
        level: 2,
        description: 51,
        name: "decrypt_error".into(),
    };
    let bad_record_mac = RecordReply::Alert {
        level: 2,
        description: 20,
        name: "bad_record_mac".into(),
    };
    assert_eq!(
        probe.rounds[0],
        [
            bad_record_mac.clone(),
            decrypt_error.clone(),
            decrypt_error.clone(),
            decrypt_error,
            bad_record_mac.clone()
        ]
    );

    let (evidence, facts) = vuln_scan_within(
        rsa_config(&key, RsaBehaviour::Constant),
        Duration::from_secs(5),
    )
    .await;
    let verdict = facts.vulnerabilities.robot.clone().unwrap();
    assert_eq!(verdict.status, VulnStatus::NotVulnerable, "{verdict:#?}");
    let probe = evidence.vulnerabilities.robot.unwrap();
    assert_eq!(
        probe.rounds,
        [vec![bad_record_mac; 5]],
        "one round suffices"
    );

    let (_, facts) = vuln_scan_within(
        rsa_config(&key, RsaBehaviour::Noisy),
        Duration::from_secs(5),
    )
    .await;
    let verdict = facts.vulnerabilities.robot.clone().unwrap();
    assert_eq!(
        verdict.status,
        VulnStatus::Inconclusive,
        "noise is never an oracle: {verdict:#?}"
    );
    assert_eq!(verdict.vulnerable, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_verdicts_name_the_facts_they_rest_on() {
    let (_, facts) = vuln_scan(LegacyConfig {
        ssl2_ciphers: vec![0x0700c0],
        compression: true,
        secure_renegotiation: false,
        ..legacy_config()
    })
    .await;
    let v = &facts.vulnerabilities;
    for (name, verdict) in [
        ("poodle", &v.poodle),
        ("sweet32", &v.sweet32),
        ("logjam", &v.logjam),
        ("drown", &v.drown),
        ("beast", &v.beast),
        ("lucky13", &v.lucky13),
        ("rc4", &v.rc4),
        ("crime", &v.crime),
        ("insecure_renegotiation", &v.insecure_renegotiation),
    ] {
        assert_eq!(
            status(verdict),
            VulnStatus::Vulnerable,
            "{name}: {verdict:?}"
        );
        assert!(!verdict.as_ref().unwrap().evidence.is_empty(), "{name}");
    }
    assert_eq!(status(&v.freak), VulnStatus::NotVulnerable);
    let poodle = v.poodle.as_ref().unwrap();
    assert!(
        poodle
            .evidence
            .contains(&"tls.protocols.ssl3 = true".to_string())
    );
    assert!(
        poodle
            .evidence
            .iter()
            .any(|e| e.starts_with("TLS_RSA_WITH_AES_128_CBC_SHA accepted with ssl3"))
    );
    assert!(
        v.logjam
            .as_ref()
            .unwrap()
            .evidence
            .contains(&"tls.dhe_prime_bits = 1024".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modern_rustls_server_is_not_vulnerable_to_anything() {
    let lab = rustls_lab(LabTls::default()).await;
    let (evidence, facts) = scan(lab.https_addr, &lab.trust()).await;
    // BREACH is judged from the HTTP facts by the fact tree, not by the TLS scan.
    for (name, verdict) in facts
        .vulnerabilities
        .named()
        .into_iter()
        .filter(|(name, _)| *name != "breach")
    {
        assert_eq!(
            verdict.map(|v| v.status),
            Some(VulnStatus::NotVulnerable),
            "{name}: {verdict:?}"
        );
    }
    assert_eq!(
        evidence.vulnerabilities.robot, None,
        "no RSA key exchange, no ROBOT test"
    );
}

/// Every active probe against Debian's OpenSSL 3 `s_server` with an RSA key and RSA
/// key-exchange suites (so the ROBOT test runs): no false positives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_s_server_is_not_vulnerable_to_the_active_probes() {
    if openssl_missing() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let (mut child, addr) = s_server(
        dir.path(),
        &key,
        &[
            "-cipher",
            "ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256:AES128-SHA:@SECLEVEL=0",
        ],
    )
    .await;
    let (evidence, facts) = scan(addr, &TrustAnchors::Bundled).await;
    let _ = child.kill().await;
    assert!(
        facts
            .accepted_suites
            .iter()
            .flatten()
            .any(|s| s.key_exchange == "rsa"),
        "{:?}",
        facts.suites
    );
    let robot = evidence.vulnerabilities.robot.as_ref().expect("ROBOT ran");
    assert_eq!(robot.modulus_bits, Some(2048));
    let v = &facts.vulnerabilities;
    for (name, verdict) in [
        ("heartbleed", &v.heartbleed),
        ("ccs_injection", &v.ccs_injection),
        ("robot", &v.robot),
        ("insecure_renegotiation", &v.insecure_renegotiation),
        ("crime", &v.crime),
        ("ticketbleed", &v.ticketbleed),
        ("client_renegotiation", &v.client_renegotiation),
    ] {
        assert_eq!(
            status(verdict),
            VulnStatus::NotVulnerable,
            "{name}: {verdict:#?}"
        );
    }
}
