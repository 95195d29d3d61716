#![allow(clippy::disallowed_macros)] // a benchmark reports on stdout
//! Benchmark: wall time of a full TLS scan (every version, full suite enumeration, groups,
//! protections, rustls handshakes) of servers on loopback.
//!
//! Run with `cargo bench --bench tls_scan`. Not a test: it asserts nothing about speed, it
//! reports the figures.

use std::time::{Duration, Instant};

use secaudit::facts::tls::TlsFacts;
use secaudit::lab::legacy::{LegacyConfig, LegacyServer};
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
    let mut times = Vec::with_capacity(RUNS);
    let mut summary = String::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let evidence = TlsScan::new(
            addr,
            "bench.secaudit.test",
            trust,
            tokio::time::Instant::now() + Duration::from_secs(60),
            TlsLimits::default(),
        )
        .run()
        .await;
        times.push(started.elapsed());
        let facts = TlsFacts::derive(&evidence).facts;
        summary = format!(
            "{} hellos, {} accepted suites, {} handshakes",
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
    });
}
