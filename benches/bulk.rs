#![allow(clippy::disallowed_macros)] // a benchmark reports on stdout
//! Benchmark: a bulk audit of 200 targets on loopback with `--concurrency 50` — throughput
//! (targets per second) and the peak memory of the `secaudit` process.
//!
//! Every target is a distinct name pointed by `--connect` at one in-process lab site with a
//! wildcard certificate, so each gets the full audit (HTTP chains, TLS scan, certificate, mail
//! and CAA facts with DNS turned off). Run with `cargo bench --bench bulk`. It asserts nothing
//! about speed; it reports the figures.

use std::process::Command;
use std::time::Instant;

use secaudit::lab::{Lab, LabCert, LabSite, LabTls, Reply};

const TARGETS: usize = 200;
const CONCURRENCY: &str = "50";

/// Peak resident set of the finished children of this process, in KiB (Linux: `ru_maxrss`).
fn children_peak_kib() -> i64 {
    // SAFETY: getrusage only writes into the zeroed struct it is given.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) == 0 {
            usage.ru_maxrss
        } else {
            -1
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = runtime.enter();
    let lab = runtime
        .block_on(Lab::start(LabSite {
            host: "bulk.secaudit.test".into(),
            https: Reply::page("<html><body>ok</body></html>")
                .header("strict-transport-security", "max-age=63072000"),
            http: Reply::redirect("https://bulk.secaudit.test/"),
            tls: LabTls {
                cert: LabCert {
                    names: vec!["*.bulk.secaudit.test".into()],
                    ..LabCert::default()
                },
                ..LabTls::default()
            },
        }))
        .expect("lab");
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &lab.ca_pem).expect("ca");
    let mut targets = String::new();
    let mut args: Vec<String> = vec![
        "audit".into(),
        "--no-dns".into(),
        "--ca-file".into(),
        ca.display().to_string(),
        "--concurrency".into(),
        CONCURRENCY.into(),
        "--format".into(),
        "jsonl".into(),
    ];
    for i in 0..TARGETS {
        let host = format!("t{i}.bulk.secaudit.test");
        targets.push_str(&host);
        targets.push('\n');
        args.push("--connect".into());
        args.push(format!("{host}:443={}", lab.https_addr));
        args.push("--connect".into());
        args.push(format!("{host}:80={}", lab.http_addr));
    }
    let file = dir.path().join("targets.txt");
    std::fs::write(&file, targets).expect("targets");
    args.push("--targets-file".into());
    args.push(file.display().to_string());

    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_secaudit"))
        .args(&args)
        .output()
        .expect("run secaudit");
    let elapsed = started.elapsed();
    let reports = String::from_utf8_lossy(&output.stdout).lines().count();
    println!(
        "bulk audit: {reports} of {TARGETS} targets reported (exit {:?}) with --concurrency {CONCURRENCY}",
        output.status.code()
    );
    println!(
        "  wall {:.2} s · {:.1} targets/s · peak memory of secaudit {:.1} MiB",
        elapsed.as_secs_f64(),
        reports as f64 / elapsed.as_secs_f64(),
        children_peak_kib() as f64 / 1024.0
    );
    if reports != TARGETS {
        println!("  stderr: {}", String::from_utf8_lossy(&output.stderr));
    }
    drop(lab);
}
