//! STARTTLS end to end: SMTP, IMAP, POP3 and FTP responders on 127.0.0.1 that speak the
//! plaintext preamble and then hand the socket to a rustls server or to the scripted legacy
//! responder; servers without STARTTLS, refusing it, or breaking after it; and the MX hosts of a
//! mail domain audited concurrently through STARTTLS on port 25, with DANE TLSA records in a
//! DNSSEC-signed lab zone (matching DANE-EE, DANE-TA against the intermediate, a mismatching
//! record, and an unsigned TLSA set that must be ignored).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use secaudit::evidence::{StarttlsOutcome, StarttlsProtocol};
use secaudit::facts::tls::TlsFacts;
use secaudit::lab::dns::{LabDns, LabDnssecKey, LabZone};
use secaudit::lab::legacy::LegacyConfig;
use secaudit::lab::starttls::{Backend, StarttlsServer, StarttlsSite, Upgrade};
use secaudit::lab::{LabCert, LabChain, LabTls, certs};
use secaudit::net::TrustAnchors;
use secaudit::probe::tls::{TlsLimits, TlsScan};
use secaudit::tls_registry::Protocol;
use serde_json::Value;
use tokio::time::Instant;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::util::{args, secaudit, stderr, stdout};

async fn server(
    protocol: StarttlsProtocol,
    host: &str,
    upgrade: Upgrade,
    backend: Backend,
) -> StarttlsServer {
    StarttlsServer::start(StarttlsSite {
        protocol,
        host: host.to_string(),
        upgrade,
        backend,
    })
    .await
    .expect("start STARTTLS lab")
}

fn rustls(cert: LabCert) -> Backend {
    Backend::Rustls(LabTls {
        cert,
        ..LabTls::default()
    })
}

fn trust_from(dir: &Path, pems: &[&str]) -> (TrustAnchors, String) {
    let path = dir.join(format!("ca-{}.pem", pems.len()));
    std::fs::write(&path, pems.concat()).unwrap();
    (
        TrustAnchors::from_pem_file(&path).unwrap(),
        path.display().to_string(),
    )
}

fn scan<'a>(
    addr: SocketAddr,
    host: &str,
    trust: &'a TrustAnchors,
    protocol: StarttlsProtocol,
) -> TlsScan<'a> {
    TlsScan::new(
        addr,
        host,
        trust,
        Instant::now() + Duration::from_secs(30),
        TlsLimits::default(),
    )
    .with_starttls(protocol)
}

fn protocols(facts: &TlsFacts) -> [Option<bool>; 6] {
    let p = &facts.protocols;
    [p.ssl2, p.ssl3, p.tls1_0, p.tls1_1, p.tls1_2, p.tls1_3]
}

/// SHA-256 of the SubjectPublicKeyInfo (selector 1, matching 1), computed here independently of
/// the code under test.
fn spki_sha256(der: &[u8]) -> Vec<u8> {
    let (_, cert) = X509Certificate::from_der(der).unwrap();
    let spki = cert.tbs_certificate.subject_pki.raw;
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, spki)
        .as_ref()
        .to_vec()
}

/// SHA-256 of the whole certificate (selector 0, matching 1).
fn cert_sha256(der: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der)
        .as_ref()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_through_smtp_imap_pop3_and_ftp() {
    let dir = tempfile::tempdir().unwrap();
    for protocol in StarttlsProtocol::ALL {
        let host = format!("{protocol}.starttls.test");
        let lab = server(protocol, &host, Upgrade::Offers, rustls(LabCert::default())).await;
        let (trust, _) = trust_from(dir.path(), &[lab.ca_pem.as_deref().unwrap()]);
        let scan = scan(lab.addr, &host, &trust, protocol);
        let conversation = scan.starttls_probe().await.unwrap();
        assert!(
            matches!(conversation.outcome, StarttlsOutcome::Ready { .. }),
            "{protocol}: {conversation:?}"
        );
        assert!(conversation.greeting.is_some());
        let evidence = scan.run().await;
        let facts = TlsFacts::derive(&evidence).facts;
        let no = Some(false);
        assert_eq!(
            protocols(&facts),
            [no, no, no, no, Some(true), Some(true)],
            "{protocol}"
        );
        assert_eq!(facts.insecure_suite_count, Some(0), "{protocol}");
        // The TLS 1.2 client of these two probes completes its handshakes through the preamble
        // (rustls issues no TLS 1.2 tickets and refuses renegotiation).
        let v = &facts.vulnerabilities;
        for (name, verdict) in [
            ("ticketbleed", &v.ticketbleed),
            ("client_renegotiation", &v.client_renegotiation),
        ] {
            let verdict = verdict.as_ref().expect(name);
            assert_eq!(
                verdict.status,
                secaudit::facts::vulns::VulnStatus::NotVulnerable,
                "{protocol} {name}: {verdict:?}"
            );
        }
        // One handshake without ALPN, completed through the preamble, with a trusted chain.
        assert_eq!(evidence.handshakes.len(), 1);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        match secaudit::facts::x509::derive(&evidence, now, None) {
            secaudit::facts::x509::CertDerivation::Facts(cert) => {
                assert!(cert.trusted, "{protocol}: {:?}", cert.trust_error);
                assert_eq!(cert.source, "handshake");
                assert_eq!(cert.san, std::slice::from_ref(&host));
            }
            secaudit::facts::x509::CertDerivation::Unobserved(reason) => {
                panic!("{protocol}: {reason}")
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_versions_behind_smtp_starttls() {
    let lab = server(
        StarttlsProtocol::Smtp,
        "old.starttls.test",
        Upgrade::Offers,
        Backend::Legacy(LegacyConfig {
            versions: vec![Protocol::Ssl3, Protocol::Tls1_0],
            suites: vec![0x002f, 0x000a, 0x0005],
            ..LegacyConfig::default()
        }),
    )
    .await;
    let trust = TrustAnchors::Bundled;
    let scan = scan(
        lab.addr,
        "old.starttls.test",
        &trust,
        StarttlsProtocol::Smtp,
    );
    let evidence = scan.run().await;
    let facts = TlsFacts::derive(&evidence).facts;
    let (yes, no) = (Some(true), Some(false));
    assert_eq!(protocols(&facts), [no, yes, yes, no, no, no]);
    assert_eq!(facts.lowest_protocol.as_deref(), Some("ssl3"));
    // RC4 (with SSLv3 and with TLS 1.0) is insecure; the vulnerability probes ran through the
    // preamble too.
    assert_eq!(
        facts.insecure_suite_count,
        Some(2),
        "{:?}",
        facts.accepted_suites
    );
    assert!(evidence.vulnerabilities.ccs_injection.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_without_refusing_or_breaking_starttls() {
    for protocol in [
        StarttlsProtocol::Smtp,
        StarttlsProtocol::Imap,
        StarttlsProtocol::Pop3,
    ] {
        let lab = server(
            protocol,
            "no.starttls.test",
            Upgrade::NotOffered,
            rustls(LabCert::default()),
        )
        .await;
        let scan = scan_for(&lab, protocol);
        let conversation = scan.starttls_probe().await.unwrap();
        assert_eq!(
            conversation.outcome,
            StarttlsOutcome::NotOffered,
            "{protocol}"
        );

        let lab = server(
            protocol,
            "no.starttls.test",
            Upgrade::Refuses,
            rustls(LabCert::default()),
        )
        .await;
        let scan = scan_for(&lab, protocol);
        let conversation = scan.starttls_probe().await.unwrap();
        assert!(
            matches!(&conversation.outcome, StarttlsOutcome::Refused { stage, .. } if stage == "starttls"),
            "{protocol}: {conversation:?}"
        );
    }
    // Agrees, then closes: the preamble succeeds, every hello after it gets nothing.
    let lab = server(
        StarttlsProtocol::Smtp,
        "broken.starttls.test",
        Upgrade::BreaksAfterStarttls,
        rustls(LabCert::default()),
    )
    .await;
    let scan = scan_for(&lab, StarttlsProtocol::Smtp);
    assert!(matches!(
        scan.starttls_probe().await.unwrap().outcome,
        StarttlsOutcome::Ready { .. }
    ));
    let facts = TlsFacts::derive(&scan.run().await).facts;
    assert!(
        !protocols(&facts).contains(&Some(true)),
        "{:?}",
        protocols(&facts)
    );
}

fn scan_for(lab: &StarttlsServer, protocol: StarttlsProtocol) -> TlsScan<'static> {
    static BUNDLED: TrustAnchors = TrustAnchors::Bundled;
    scan(lab.addr, "no.starttls.test", &BUNDLED, protocol)
}

/// The signed lab zone `mail.test.` and its unsigned child `unsigned.mail.test.`.
struct MailLab {
    dns: LabDns,
    anchor_file: String,
    ca_file: String,
    connects: Vec<String>,
    _servers: Vec<StarttlsServer>,
    _dir: tempfile::TempDir,
}

async fn mail_lab() -> MailLab {
    let dir = tempfile::tempdir().unwrap();
    let key = LabDnssecKey::generate().unwrap();
    let here = Ipv4Addr::LOCALHOST;
    // mx1: rustls, leaf served with the root; DANE-EE on the key, plus the next key (rollover).
    let mx1 = server(
        StarttlsProtocol::Smtp,
        "mx1.mail.test",
        Upgrade::Offers,
        rustls(LabCert::default()),
    )
    .await;
    // mx2: rustls behind an intermediate it serves; DANE-TA on that intermediate.
    let mx2 = server(
        StarttlsProtocol::Smtp,
        "mx2.mail.test",
        Upgrade::Offers,
        rustls(LabCert {
            chain: LabChain::Intermediate { served: true },
            ..LabCert::default()
        }),
    )
    .await;
    // mx3: the legacy responder (TLS 1.0 and 1.2) with a real chain; its TLSA record names
    // another certificate.
    let mx3_chain = certs::issue("mx3.mail.test", &LabCert::default()).unwrap();
    let mx3 = server(
        StarttlsProtocol::Smtp,
        "mx3.mail.test",
        Upgrade::Offers,
        Backend::Legacy(LegacyConfig {
            versions: vec![Protocol::Tls1_0, Protocol::Tls1_2],
            certificates: mx3_chain.served.iter().map(|c| c.to_vec()).collect(),
            ..LegacyConfig::default()
        }),
    )
    .await;
    // b.mail.test's hosts: no STARTTLS, STARTTLS that breaks, and one whose TLSA set is unsigned.
    let plain = server(
        StarttlsProtocol::Smtp,
        "plain.mail.test",
        Upgrade::NotOffered,
        rustls(LabCert::default()),
    )
    .await;
    let broken = server(
        StarttlsProtocol::Smtp,
        "broken.mail.test",
        Upgrade::BreaksAfterStarttls,
        rustls(LabCert::default()),
    )
    .await;
    let unsigned = server(
        StarttlsProtocol::Smtp,
        "mx.unsigned.mail.test",
        Upgrade::Offers,
        rustls(LabCert::default()),
    )
    .await;
    let next_key = certs::issue("mx1.mail.test", &LabCert::default()).unwrap();
    let other = certs::issue("elsewhere.test", &LabCert::default()).unwrap();
    let zone = LabZone::new("mail.test.")
        .unwrap()
        .mx("mail.test.", 10, "mx1.mail.test.")
        .unwrap()
        .mx("mail.test.", 20, "mx2.mail.test.")
        .unwrap()
        .mx("mail.test.", 30, "mx3.mail.test.")
        .unwrap()
        .mx("b.mail.test.", 10, "plain.mail.test.")
        .unwrap()
        .mx("b.mail.test.", 20, "broken.mail.test.")
        .unwrap()
        .mx("b.mail.test.", 30, "mx.unsigned.mail.test.")
        .unwrap()
        .tlsa(
            "_25._tcp.mx1.mail.test.",
            3,
            1,
            1,
            spki_sha256(&mx1.served[0]),
        )
        .unwrap()
        .tlsa(
            "_25._tcp.mx1.mail.test.",
            3,
            1,
            1,
            spki_sha256(&next_key.served[0]),
        )
        .unwrap()
        .tlsa(
            "_25._tcp.mx2.mail.test.",
            2,
            0,
            1,
            cert_sha256(&mx2.served[1]),
        )
        .unwrap()
        .tlsa(
            "_25._tcp.mx3.mail.test.",
            3,
            0,
            1,
            cert_sha256(&other.served[0]),
        )
        .unwrap()
        .ns("unsigned.mail.test.", "ns.unsigned.mail.test.")
        .unwrap();
    let zone = ["mx1", "mx2", "mx3", "plain", "broken"]
        .iter()
        .fold(zone, |zone, host| {
            zone.a(&format!("{host}.mail.test."), here).unwrap()
        })
        .signed(key.clone());
    let child = LabZone::new("unsigned.mail.test.")
        .unwrap()
        .a("mx.unsigned.mail.test.", here)
        .unwrap()
        .tlsa(
            "_25._tcp.mx.unsigned.mail.test.",
            3,
            1,
            1,
            spki_sha256(&unsigned.served[0]),
        )
        .unwrap();
    let dns = LabDns::start(vec![zone, child]).await.unwrap();
    let anchor = dir.path().join("anchor.key");
    std::fs::write(&anchor, key.trust_anchor("mail.test.").unwrap()).unwrap();
    let pems: Vec<&str> = [&mx1, &mx2, &plain, &broken, &unsigned]
        .iter()
        .filter_map(|s| s.ca_pem.as_deref())
        .chain([mx3_chain.root_pem.as_str()])
        .collect();
    let (_, ca_file) = trust_from(dir.path(), &pems);
    let servers = vec![
        ("mx1.mail.test", mx1),
        ("mx2.mail.test", mx2),
        ("mx3.mail.test", mx3),
        ("plain.mail.test", plain),
        ("broken.mail.test", broken),
        ("mx.unsigned.mail.test", unsigned),
    ];
    let connects = servers
        .iter()
        .flat_map(|(host, s)| ["--connect".to_string(), format!("{host}:25={}", s.addr)])
        .collect();
    MailLab {
        dns,
        anchor_file: anchor.display().to_string(),
        ca_file,
        connects,
        _servers: servers.into_iter().map(|(_, s)| s).collect(),
        _dir: dir,
    }
}

async fn audit_mail(lab: &MailLab, target: &str, extra: &[&str]) -> Value {
    let mut command = args(&[
        "audit",
        target,
        "--resolver",
        &lab.dns.addr.to_string(),
        "--trust-anchor",
        &lab.anchor_file,
        "--ca-file",
        &lab.ca_file,
        "--policy",
        "baseline",
        "--policy",
        "internet-nl-mail",
        "--format",
        "json",
        "--timeout",
        "40",
    ]);
    command.extend(lab.connects.iter().cloned());
    command.extend(args(extra));
    let output = secaudit(command).await;
    // No web server answers for a mail domain: unauditable as a site (exit 3), observed as mail.
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_mx_hosts_with_dane_through_starttls() {
    let lab = mail_lab().await;
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence.json");
    let started = std::time::Instant::now();
    let report = audit_mail(
        &lab,
        "mail.test",
        &["--save-evidence", &evidence.display().to_string()],
    )
    .await;
    // Reported, not asserted: wall time depends on the machine.
    let elapsed = started.elapsed();
    let mx = report["facts"]["mail"]["mx"].as_array().unwrap().clone();
    let hosts: Vec<&str> = mx.iter().map(|m| m["host"].as_str().unwrap()).collect();
    assert_eq!(hosts, ["mx1.mail.test", "mx2.mail.test", "mx3.mail.test"]);
    for m in &mx {
        assert_eq!(m["tls"]["starttls"], "ready", "{m}");
        assert_eq!(m["tls"]["starttls_offered"], true);
        assert_eq!(m["tls"]["starttls_failed"], false);
        assert_eq!(m["tls"]["certificate"]["trusted"], true, "{m}");
        assert_eq!(m["tls"]["certificate"]["name_matches"], true);
        assert_eq!(m["dane"]["dnssec"], "secure", "{m}");
        assert_eq!(m["dane"]["usable"], true);
    }
    // mx1: rustls, TLS 1.2 and 1.3; DANE-EE on the key matches, the next key is published.
    assert_eq!(mx[0]["tls"]["highest_protocol"], "tls1_3");
    assert_eq!(mx[0]["tls"]["lowest_protocol"], "tls1_2");
    assert_eq!(mx[0]["dane"]["tlsa_count"], 2);
    assert_eq!(mx[0]["dane"]["valid"], true);
    assert_eq!(mx[0]["dane"]["rollover"], true);
    let matched: Vec<&Value> = mx[0]["dane"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["matched"] == true)
        .collect();
    assert_eq!(matched.len(), 1);
    assert_eq!(matched[0]["usage"], "dane_ee");
    assert_eq!(matched[0]["matched_certificate"], 0);
    // mx2: DANE-TA matches the served intermediate, the chain validates up to it.
    assert_eq!(mx[1]["dane"]["valid"], true, "{}", mx[1]["dane"]);
    assert_eq!(mx[1]["dane"]["records"][0]["usage"], "dane_ta");
    assert_eq!(mx[1]["dane"]["records"][0]["matched_certificate"], 1);
    assert_eq!(mx[1]["dane"]["rollover"], false);
    // mx3: legacy TLS 1.0 and 1.2; its TLSA record names another certificate.
    assert_eq!(mx[2]["tls"]["protocols"]["tls1_0"], true);
    assert_eq!(mx[2]["tls"]["lowest_protocol"], "tls1_0");
    assert_eq!(mx[2]["dane"]["valid"], false);
    assert_eq!(mx[2]["dane"]["records"][0]["matched"], false);

    assert_eq!(outcome(&report, "BASE-MAIL-13"), "pass");
    assert_eq!(outcome(&report, "BASE-MAIL-14"), "pass");
    assert_eq!(outcome(&report, "BASE-MAIL-15"), "fail");
    assert_eq!(outcome(&report, "BASE-MAIL-17"), "fail");
    assert_eq!(outcome(&report, "NLMAIL-STARTTLS-01"), "pass");
    assert_eq!(outcome(&report, "NLMAIL-TLS-01"), "fail");
    assert_eq!(outcome(&report, "NLMAIL-DANE-01"), "pass");
    assert_eq!(outcome(&report, "NLMAIL-DANE-02"), "fail");
    assert_eq!(outcome(&report, "NLMAIL-DANE-03"), "fail");
    assert_eq!(outcome(&report, "NLMAIL-CERT-01"), "pass");

    // Each host got a full scan (dozens of hellos, each on its own connection through STARTTLS);
    // the wall time is reported, not asserted: it depends on the machine.
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&evidence).unwrap()).unwrap();
    let hellos: Vec<usize> = saved["mail"]["mx"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["tls"]["attempts"].as_array().map_or(0, Vec::len))
        .collect();
    assert!(hellos.iter().all(|n| *n >= 10), "{hellos:?}");
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "audit of mail.test, three MX hosts scanned concurrently through STARTTLS ({hellos:?} hellos) with DANE: {elapsed:.2?}"
    );

    // The same evidence judged again offline gives the same mail facts.
    let output = secaudit(args(&[
        "evaluate",
        "--evidence",
        &evidence.display().to_string(),
        "--policy",
        "internet-nl-mail",
        "--format",
        "json",
    ]))
    .await;
    let again: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(again["facts"]["mail"], report["facts"]["mail"]);
    assert_eq!(outcome(&again, "NLMAIL-DANE-02"), "fail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mx_hosts_without_breaking_and_unsigned_dane() {
    let lab = mail_lab().await;
    let report = audit_mail(&lab, "b.mail.test", &[]).await;
    let mx = report["facts"]["mail"]["mx"].as_array().unwrap().clone();
    let unobserved = &report["facts"]["unobserved"];
    let hosts: Vec<&str> = mx.iter().map(|m| m["host"].as_str().unwrap()).collect();
    assert_eq!(
        hosts,
        [
            "plain.mail.test",
            "broken.mail.test",
            "mx.unsigned.mail.test"
        ]
    );
    // No STARTTLS: a finding, and nothing to scan.
    assert_eq!(mx[0]["tls"]["starttls"], "not_offered", "{}", mx[0]);
    assert_eq!(mx[0]["tls"]["starttls_offered"], false);
    assert!(mx[0]["tls"].get("protocols").is_none());
    assert!(
        unobserved["mail.mx[0].tls.protocols"]
            .as_str()
            .unwrap()
            .contains("not offered")
    );
    // STARTTLS agreed, then the connection closed: offered but failed, with the reason.
    assert_eq!(mx[1]["tls"]["starttls_offered"], true, "{}", mx[1]);
    assert_eq!(mx[1]["tls"]["starttls_failed"], true);
    assert!(
        mx[1]["tls"]["starttls_error"]
            .as_str()
            .unwrap()
            .contains("no TLS version is accepted after STARTTLS"),
        "{}",
        mx[1]
    );
    // The unsigned TLSA set is ignored, and the facts say why.
    assert_eq!(mx[2]["tls"]["starttls_failed"], false);
    assert_eq!(mx[2]["dane"]["dnssec"], "insecure", "{}", mx[2]);
    assert_eq!(mx[2]["dane"]["usable"], false);
    assert_eq!(mx[2]["dane"]["tlsa_count"], 1);
    assert!(mx[2]["dane"].get("valid").is_none());
    assert!(
        mx[2]["dane"]["ignored_reason"]
            .as_str()
            .unwrap()
            .contains("not DNSSEC-signed")
    );
    // Hosts without TLSA records: nothing published.
    assert_eq!(mx[0]["dane"]["tlsa_count"], 0);

    assert_eq!(outcome(&report, "BASE-MAIL-13"), "fail");
    assert_eq!(outcome(&report, "BASE-MAIL-14"), "fail");
    assert_eq!(outcome(&report, "NLMAIL-STARTTLS-01"), "fail");
    assert_eq!(outcome(&report, "NLMAIL-DANE-01"), "fail");
    assert_eq!(outcome(&report, "NLMAIL-DANE-02"), "not_applicable");

    // --max-mx 1 probes the preferred host only; the others are inconclusive, with the reason.
    let report = audit_mail(&lab, "b.mail.test", &["--max-mx", "1"]).await;
    let unobserved = &report["facts"]["unobserved"];
    assert!(
        unobserved["mail.mx[1].tls"]
            .as_str()
            .unwrap()
            .contains("--max-mx"),
        "{unobserved}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_smtp_endpoint_by_url_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    let lab = server(
        StarttlsProtocol::Smtp,
        "submit.mail.test",
        Upgrade::Offers,
        rustls(LabCert::default()),
    )
    .await;
    let (_, ca) = trust_from(dir.path(), &[lab.ca_pem.as_deref().unwrap()]);
    for target in [
        vec!["smtp://submit.mail.test:587"],
        vec!["submit.mail.test:587", "--starttls", "smtp"],
    ] {
        let mut command = vec!["audit".to_string()];
        command.extend(args(&target));
        command.extend(args(&[
            "--connect",
            &format!("submit.mail.test:587={}", lab.addr),
            "--no-dns",
            "--ca-file",
            &ca,
            "--format",
            "json",
        ]));
        let output = secaudit(command).await;
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
        let facts = &report["facts"];
        assert_eq!(facts["tls"]["protocols"]["tls1_3"], true, "{facts}");
        assert_eq!(facts["tls"]["protocols"]["tls1_0"], false);
        assert_eq!(facts["cert"]["trusted"], true);
        assert!(facts["unobserved"]["http.hsts"].is_string());
        assert_eq!(facts["http"]["https"]["reachable"], false);
    }
    // A target that does not offer STARTTLS is reached, but has no TLS to judge.
    let plain = server(
        StarttlsProtocol::Imap,
        "imap.mail.test",
        Upgrade::NotOffered,
        rustls(LabCert::default()),
    )
    .await;
    let dir_evidence = dir.path().join("imap.json");
    let output = secaudit(args(&[
        "audit",
        "imap://imap.mail.test",
        "--connect",
        &format!("imap.mail.test:143={}", plain.addr),
        "--no-dns",
        "--format",
        "json",
        "--save-evidence",
        &dir_evidence.display().to_string(),
    ]))
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let evidence: Value =
        serde_json::from_str(&std::fs::read_to_string(&dir_evidence).unwrap()).unwrap();
    assert_eq!(evidence["starttls"]["outcome"]["kind"], "not_offered");
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        report["facts"]["unobserved"]["tls"],
        "imap STARTTLS: STARTTLS not offered"
    );
    assert_eq!(evidence["target"]["starttls"], "imap");
}
