#![allow(clippy::disallowed_macros)] // a benchmark reports on stdout
//! Benchmark: wall time of a full TLS scan (every version, full suite enumeration, groups,
//! protections, rustls handshakes) of servers on loopback, directly and through SMTP STARTTLS
//! (one host, and three hosts at once as the MX probe scans them).
//!
//! Run with `cargo bench --bench tls_scan`. Not a test: it asserts nothing about speed, it
//! reports the figures.

use std::time::{Duration, Instant};

use secaudit::evidence::StarttlsProtocol;
use secaudit::facts::tls::TlsFacts;
use secaudit::lab::legacy::{LegacyConfig, LegacyServer};
use secaudit::lab::starttls::{Backend, StarttlsServer, StarttlsSite, Upgrade};
use secaudit::lab::{Lab, LabSite, LabTls, Reply};
use secaudit::net::TrustAnchors;
use secaudit::probe::tls::{TlsLimits, TlsScan};
use secaudit::tls_registry::{self, Protocol};

const RUNS: usize = 15;

/// Thirty suites a permissive legacy server might accept with TLS 1.2.
fn thirty_suites() -> Vec<u16> {
    let suites: Vec<u16> = tls_registry::suites_for(Protocol::Tls1_2)
        .into_iter()
        .filter(|id| {
            let name = tls_registry::suite_name(*id);
            (name.contains("_RSA_WITH_") || name.contains("ECDHE_RSA"))
                && !name.contains("PSK")
                && !name.contains("KRB5")
                && !name.contains("SRP")
        })
        .take(30)
        .collect();
    assert_eq!(suites.len(), 30);
    suites
}

async fn measure(label: &str, addr: std::net::SocketAddr, trust: &TrustAnchors) {
    measure_all(label, &[addr], None, trust).await;
}

/// Scans every one of `addrs` at once (through `starttls` when given), `RUNS` times.
async fn measure_all(
    label: &str,
    addrs: &[std::net::SocketAddr],
    starttls: Option<StarttlsProtocol>,
    trust: &TrustAnchors,
) {
    let mut times = Vec::with_capacity(RUNS);
    let mut summary = String::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let scans = addrs.iter().map(|addr| async move {
            let mut scan = TlsScan::new(
                *addr,
                "bench.secaudit.test",
                trust,
                tokio::time::Instant::now() + Duration::from_secs(60),
                TlsLimits::default(),
            );
            if let Some(protocol) = starttls {
                scan = scan.with_starttls(protocol);
            }
            Box::pin(scan.run()).await
        });
        let all = futures_util::future::join_all(scans).await;
        times.push(started.elapsed());
        let Some(evidence) = all.first() else {
            return;
        };
        let facts = TlsFacts::derive(evidence).facts;
        summary = format!(
            "{} host(s), {} hellos, {} accepted suites, {} handshakes each",
            all.len(),
            evidence.attempts.len(),
            facts.accepted_suites.map_or(0, |s| s.len()),
            evidence.handshakes.len()
        );
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label}: {summary}; wall time over {RUNS} runs: min {:.1} ms, median {:.1} ms, max {:.1} ms",
        ms(times[0]),
        ms(times[RUNS / 2]),
        ms(times[RUNS - 1])
    );
}

fn main() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let legacy = LegacyServer::start(LegacyConfig {
            versions: vec![Protocol::Tls1_0, Protocol::Tls1_1, Protocol::Tls1_2],
            suites: thirty_suites(),
            ..LegacyConfig::default()
        })
        .await
        .expect("legacy server");
        measure(
            "scripted server, TLS 1.0-1.2, 30 suites offered for TLS 1.2",
            legacy.addr,
            &TrustAnchors::Bundled,
        )
        .await;
        let lab = Lab::start(LabSite {
            host: "bench.secaudit.test".into(),
            https: Reply::page("ok"),
            http: Reply::page("ok"),
            tls: LabTls::default(),
        })
        .await
        .expect("rustls lab");
        measure("rustls server, TLS 1.2 + 1.3", lab.https_addr, &lab.trust()).await;
        let mut mx = Vec::new();
        for _ in 0..3 {
            mx.push(
                StarttlsServer::start(StarttlsSite {
                    protocol: StarttlsProtocol::Smtp,
                    host: "bench.secaudit.test".into(),
                    upgrade: Upgrade::Offers,
                    backend: Backend::Rustls(LabTls::default()),
                })
                .await
                .expect("SMTP lab"),
            );
        }
        let addrs: Vec<std::net::SocketAddr> = mx.iter().map(|s| s.addr).collect();
        let smtp = Some(StarttlsProtocol::Smtp);
        let bundled = TrustAnchors::Bundled;
        measure_all(
            "rustls behind SMTP STARTTLS, one host",
            &addrs[..1],
            smtp,
            &bundled,
        )
        .await;
        measure_all(
            "rustls behind SMTP STARTTLS, three hosts at once (the MX probe)",
            &addrs,
            smtp,
            &bundled,
        )
        .await;
    });
}
