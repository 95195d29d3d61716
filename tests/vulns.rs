//! The Ticketbleed and client-initiated renegotiation probes and the common-prime Logjam check,
//! against real servers on loopback: scripted responders for the Ticketbleed behaviours no
//! real server here has, Debian's `openssl s_server` where installed (each such test skips
//! itself, saying so, when it is not), and the in-process rustls lab.
//!
//! Probe times are printed to the test log (`-- --nocapture`), never asserted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use secaudit::evidence::TlsEvidence;
use secaudit::evidence::vuln::VulnProbes;
use secaudit::facts::tls::TlsFacts;
use secaudit::facts::vulns::{VulnStatus, VulnerabilityFacts};
use secaudit::lab::{Lab, LabSite, LabTls, Reply};
use secaudit::net::TrustAnchors;
use secaudit::probe::tls::{TlsLimits, TlsScan};
use secaudit::tls_registry::Protocol;
use tokio::time::Instant;

use crate::hostile::responder::{ReadFirst, Responder, Step};
use crate::tls::{openssl_missing, s_server};

const HOST: &str = "tls.secaudit.test";

fn scanner(addr: SocketAddr, trust: &TrustAnchors) -> TlsScan<'_> {
    TlsScan::new(
        addr,
        HOST,
        trust,
        Instant::now() + Duration::from_secs(30),
        TlsLimits::default(),
    )
}

/// The verdicts of evidence holding only these probe records.
fn verdicts(vulnerabilities: VulnProbes) -> VulnerabilityFacts {
    let evidence = TlsEvidence {
        endpoint: "127.0.0.1:443".into(),
        sni: None,
        error: None,
        attempts: Vec::new(),
        handshakes: Vec::new(),
        certificate_check: None,
        vulnerabilities,
    };
    TlsFacts::derive(&evidence).facts.vulnerabilities
}

/// Runs `probe` once, printing how long it took.
#[allow(clippy::disallowed_macros)] // the timing goes to the test log
async fn timed<T>(label: &str, probe: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let out = probe.await;
    eprintln!("{label}: {} ms", started.elapsed().as_millis());
    out
}

async fn ticketbleed(addr: SocketAddr) -> (VulnStatus, String) {
    let probe = scanner(addr, &TrustAnchors::Bundled).ticketbleed().await;
    let verdict = verdicts(VulnProbes {
        ticketbleed: Some(probe),
        ..VulnProbes::default()
    })
    .ticketbleed
    .expect("verdict");
    (verdict.status, verdict.reason)
}

async fn client_renegotiation(addr: SocketAddr, label: &str) -> (VulnStatus, String) {
    let trust = TrustAnchors::Bundled;
    let scan = scanner(addr, &trust);
    let probe = timed(label, scan.client_renegotiation()).await;
    let verdict = verdicts(VulnProbes {
        client_renegotiation: Some(probe),
        ..VulnProbes::default()
    })
    .client_renegotiation
    .expect("verdict");
    (verdict.status, verdict.reason)
}

// --- scripted Ticketbleed servers ---

fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type, 3, 3];
    out.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn handshake(message_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![message_type];
    out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// A TLS 1.2 ServerHello choosing ECDHE-RSA-AES128-GCM-SHA256 with `session_id`, acknowledging
/// session tickets and secure renegotiation.
fn server_hello(session_id: &[u8]) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x42; 32]);
    body.push(u8::try_from(session_id.len()).unwrap());
    body.extend_from_slice(session_id);
    body.extend_from_slice(&[0xc0, 0x2f, 0]);
    body.extend_from_slice(&[0, 9, 0xff, 0x01, 0, 1, 0, 0, 35, 0, 0]);
    handshake(2, &body)
}

/// The session id of a ClientHello record.
fn client_session_id(hello: &[u8]) -> Vec<u8> {
    let Ok((_, plaintext)) = tls_parser::parse_tls_plaintext(hello) else {
        return Vec::new();
    };
    plaintext
        .msg
        .iter()
        .find_map(|message| match message {
            tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(ch)) => {
                Some(ch.session_id.unwrap_or_default().to_vec())
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// A server that hands out a ticket after its first flight (x25519 with the base point as its
/// share, an empty certificate list, an unchecked signature) and answers a hello carrying a
/// session id with a ServerHello whose session id `echo` makes of it.
async fn ticket_server(echo: fn(&[u8]) -> Vec<u8>) -> Responder {
    let script = Arc::new(move |hello: &[u8]| {
        let session_id = client_session_id(hello);
        if !session_id.is_empty() {
            let mut reply = record(22, &server_hello(&echo(&session_id)));
            reply.extend(record(20, &[1]));
            return vec![Step::Write(reply)];
        }
        let mut key_exchange = vec![3, 0, 0x1d, 32, 9];
        key_exchange.extend_from_slice(&[0; 31]);
        key_exchange.extend_from_slice(&[4, 1, 0, 0]);
        let mut ticket = vec![0, 0, 0x1c, 0x20, 0, 64];
        ticket.extend_from_slice(&[0x7a; 64]);
        let flight = [
            server_hello(&[]),
            handshake(11, &[0, 0, 0]),
            handshake(12, &key_exchange),
            handshake(14, &[]),
        ]
        .concat();
        let mut reply = record(22, &flight);
        reply.extend(record(22, &handshake(4, &ticket)));
        reply.extend(record(20, &[1]));
        vec![Step::Write(reply)]
    });
    Responder::start(None, ReadFirst::TlsRecord, script).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticketbleed_scripted_vulnerable_and_fixed_servers() {
    // F5's bug: the echo is always 32 bytes, the ones after the client's from memory.
    let bleeding = ticket_server(|sent| {
        let mut echo = sent.to_vec();
        echo.resize(32, 0xee);
        echo
    })
    .await;
    let (status, reason) = ticketbleed(bleeding.addr).await;
    assert_eq!(status, VulnStatus::Vulnerable, "{reason}");
    assert!(reason.contains("CVE-2016-9244"), "{reason}");

    let fixed = ticket_server(<[u8]>::to_vec).await;
    let (status, reason) = ticketbleed(fixed.addr).await;
    assert_eq!(status, VulnStatus::NotVulnerable, "{reason}");
    assert!(reason.contains("echoed exactly"), "{reason}");

    // A fresh session id of the server's own: the ticket was not taken, a full handshake.
    let fresh = ticket_server(|_| vec![0x31; 32]).await;
    let (status, reason) = ticketbleed(fresh.addr).await;
    assert_eq!(status, VulnStatus::NotVulnerable, "{reason}");

    // An echo that starts with ours but is neither ours nor 32 bytes: inconsistent.
    let odd = ticket_server(|sent| {
        let mut echo = sent.to_vec();
        echo.push(1);
        echo
    })
    .await;
    let (status, reason) = ticketbleed(odd.addr).await;
    assert_eq!(status, VulnStatus::Inconclusive, "{reason}");
}

// --- real servers ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::disallowed_macros)] // the reasons go to the test log
async fn openssl_client_renegotiation_follows_the_server_setting() {
    if openssl_missing() {
        return;
    }
    for (args, expected) in [
        (&["-client_renegotiation"][..], VulnStatus::Vulnerable),
        (&[][..], VulnStatus::NotVulnerable),
        (&["-no_renegotiation"][..], VulnStatus::NotVulnerable),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let (mut child, addr) = s_server(dir.path(), &key, args).await;
        let label = format!("client_renegotiation against s_server {args:?}");
        let (status, reason) = client_renegotiation(addr, &label).await;
        let _ = child.kill().await;
        eprintln!("  {reason}");
        assert_eq!(status, expected, "{args:?}: {reason}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::disallowed_macros)] // the reasons go to the test log
async fn openssl_ticketbleed_with_and_without_tickets() {
    if openssl_missing() {
        return;
    }
    for (args, expected) in [
        (&["-no_ticket"][..], "no session tickets"),
        (&[][..], "echoed exactly"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let (mut child, addr) = s_server(dir.path(), &key, args).await;
        let label = format!("ticketbleed against s_server {args:?}");
        let (status, reason) = timed(&label, ticketbleed(addr)).await;
        let _ = child.kill().await;
        eprintln!("  {reason}");
        assert_eq!(status, VulnStatus::NotVulnerable, "{args:?}: {reason}");
        assert!(reason.contains(expected), "{args:?}: {reason}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rustls_neither_renegotiates_nor_issues_tls12_tickets() {
    let lab = Lab::start(LabSite {
        host: HOST.into(),
        https: Reply::page("ok"),
        http: Reply::page("ok"),
        tls: LabTls {
            versions: vec![Protocol::Tls1_2],
            ..LabTls::default()
        },
    })
    .await
    .expect("lab");
    let (status, reason) =
        client_renegotiation(lab.https_addr, "client_renegotiation against rustls").await;
    assert_eq!(status, VulnStatus::NotVulnerable, "{reason}");
    let (status, reason) = ticketbleed(lab.https_addr).await;
    assert_eq!(status, VulnStatus::NotVulnerable, "{reason}");
    assert!(reason.contains("no session tickets"), "{reason}");
}

/// The DER prime of a DH parameter file OpenSSL writes for one of its named groups.
fn openssl_group_prime(dir: &std::path::Path, group: &str) -> Vec<u8> {
    let path = dir.join(format!("{group}.pem"));
    let status = std::process::Command::new("openssl")
        .args(["genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt"])
        .arg(format!("group:{group}"))
        .arg("-out")
        .arg(&path)
        .env("OPENSSL_CONF", "/dev/null")
        .status()
        .expect("run openssl");
    assert!(status.success(), "{group}");
    let pem = std::fs::read_to_string(&path).unwrap();
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    // SEQUENCE { INTEGER p, INTEGER g, ... }: skip the SEQUENCE header, read the first INTEGER.
    let length = |bytes: &[u8], at: usize| -> (usize, usize) {
        match bytes[at] {
            n if n < 0x80 => (usize::from(n), at + 1),
            0x81 => (usize::from(bytes[at + 1]), at + 2),
            _ => (
                usize::from(u16::from_be_bytes([bytes[at + 1], bytes[at + 2]])),
                at + 3,
            ),
        }
    };
    let (_, body) = length(&der, 1);
    assert_eq!(der[body], 2, "an INTEGER");
    let (len, start) = length(&der, body + 1);
    der[start..start + len].to_vec()
}

#[test]
fn openssl_named_groups_are_in_the_prime_table() {
    if openssl_missing() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (group, name) in [
        ("dh_1024_160", "RFC 5114 1024-bit"),
        ("dh_2048_224", "RFC 5114 2048-bit MODP group with 224"),
        ("dh_2048_256", "RFC 5114 2048-bit MODP group with 256"),
        ("modp_1536", "RFC 3526 group 5 "),
        ("modp_2048", "RFC 3526 group 14 "),
        ("modp_8192", "RFC 3526 group 18 "),
        ("ffdhe2048", "RFC 7919 ffdhe2048"),
        ("ffdhe8192", "RFC 7919 ffdhe8192"),
    ] {
        let prime = openssl_group_prime(dir.path(), group);
        let hash = secaudit::evidence::tls::dh_prime_sha256(&prime);
        let known = secaudit::facts::dh_primes::known_prime(&hash)
            .unwrap_or_else(|| panic!("{group} ({hash}) is not in the table"));
        assert!(known.name.starts_with(name), "{group}: {}", known.name);
    }
}

/// Logjam against `s_server` serving DHE with a named group's prime: the verdict's status and
/// reason.
async fn logjam_with(group: &str) -> (VulnStatus, String) {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("dh.pem");
    let status = std::process::Command::new("openssl")
        .args(["genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt"])
        .arg(format!("group:{group}"))
        .arg("-out")
        .arg(&params)
        .env("OPENSSL_CONF", "/dev/null")
        .status()
        .expect("run openssl");
    assert!(status.success());
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let params = params.display().to_string();
    let (mut child, addr) = s_server(
        dir.path(),
        &key,
        &[
            "-dhparam",
            &params,
            "-cipher",
            "DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
            "-no_tls1_3",
        ],
    )
    .await;
    let trust = TrustAnchors::Bundled;
    let evidence = scanner(addr, &trust).run().await;
    let _ = child.kill().await;
    let facts = TlsFacts::derive(&evidence).facts;
    let verdict = facts.vulnerabilities.logjam.expect("verdict");
    (verdict.status, verdict.reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logjam_names_the_common_prime_openssl_serves() {
    if openssl_missing() {
        return;
    }
    let (status, reason) = logjam_with("dh_1024_160").await;
    assert_eq!(status, VulnStatus::Vulnerable, "{reason}");
    assert!(
        reason.contains("common prime: RFC 5114 1024-bit"),
        "{reason}"
    );
    let (status, reason) = logjam_with("ffdhe2048").await;
    assert_eq!(status, VulnStatus::NotVulnerable, "{reason}");
    assert!(reason.contains("RFC 7919 ffdhe2048"), "{reason}");
}
