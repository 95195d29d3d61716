//! Helpers: run the binary, start lab sites and a DNS server on loopback.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Output;

use hickory_proto::rr::Record;
use secaudit::lab::dns::{LabDns, LabZone};
use secaudit::lab::{Lab, LabSite, Reply};

/// Runs `secaudit ARGS` with colour off, from a blocking thread so in-process servers keep serving.
pub async fn secaudit(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_secaudit"))
            .args(&args)
            .env("NO_COLOR", "1")
            // No CT log list from the machine's cache: results must not depend on it.
            .env(
                "XDG_CACHE_HOME",
                std::env::temp_dir().join("secaudit-tests-no-cache"),
            )
            .output()
            .expect("run secaudit")
    })
    .await
    .expect("join")
}

/// `secaudit evaluate` of the evidence file `evidence` with `pack`, as JSON: the first pack's
/// report. The run must end in 0 or 1 (a gate may fail, nothing else may).
pub async fn evaluate_pack(evidence: &Path, pack: &str) -> serde_json::Value {
    let output = secaudit(args(&[
        "evaluate",
        "--evidence",
        &evidence.display().to_string(),
        "--policy",
        pack,
        "--format",
        "json",
    ]))
    .await;
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "{}: {}",
        evidence.display(),
        stderr(&output)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    report["packs"][0].clone()
}

/// Text of stdout.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Text of stderr.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The lab's host name in tests (never resolved through real DNS).
pub const LAB_HOST: &str = "lab.secaudit.test";

/// A site that redirects HTTP to HTTPS and serves `https` there.
pub fn site(https: Reply) -> LabSite {
    LabSite {
        host: LAB_HOST.to_string(),
        http: Reply::redirect(&format!("https://{LAB_HOST}/")),
        https,
        tls: secaudit::lab::LabTls::default(),
    }
}

/// Starts a lab and writes its CA to `dir/ca.pem`; returns the lab and the audit arguments that
/// point at it (`--connect` overrides and `--ca-file`).
pub async fn start_lab(site: LabSite, dir: &Path) -> (Lab, Vec<String>) {
    let lab = Lab::start(site).await.expect("start lab");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &lab.ca_pem).expect("write CA");
    let mut args = lab.connect_args();
    // Only the --connect overrides resolve: no DNS query leaves the machine.
    args.push("--no-dns".into());
    args.push("--ca-file".into());
    args.push(ca.display().to_string());
    (lab, args)
}

/// Builds an argument vector from string slices.
pub fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_string()).collect()
}

/// Serves `zone` with the given A records.
pub async fn dns_server(zone: &str, a_records: &[(&str, Ipv4Addr)]) -> LabDns {
    dns_zone(zone, a_records, Vec::new()).await
}

/// Serves `zone` with the given A records and any other `extra` records.
pub async fn dns_zone(zone: &str, a_records: &[(&str, Ipv4Addr)], extra: Vec<Record>) -> LabDns {
    let mut lab_zone = LabZone::new(zone).expect("zone");
    for (name, ip) in a_records {
        lab_zone = lab_zone.a(name, *ip).expect("A record");
    }
    for record in extra {
        lab_zone = lab_zone.record(record);
    }
    LabDns::start(vec![lab_zone])
        .await
        .expect("start DNS server")
}
