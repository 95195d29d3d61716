//! Helpers: run the binary, start lab sites and a DNS server on loopback.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::rr::rdata::{A, SOA};
use hickory_proto::rr::{LowerName, Name, RData, Record, RecordSet, RrKey};
use hickory_server::Server;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
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

/// A running authoritative DNS server for one zone, on 127.0.0.1 (UDP and TCP, same port).
pub struct DnsServer {
    /// Where it listens.
    pub addr: SocketAddr,
    _server: Server<Catalog>,
}

/// Serves `zone` with the given A records.
pub async fn dns_server(zone: &str, a_records: &[(&str, Ipv4Addr)]) -> DnsServer {
    dns_zone(zone, a_records, Vec::new()).await
}

/// Serves `zone` with the given A records and any other `extra` records.
pub async fn dns_zone(zone: &str, a_records: &[(&str, Ipv4Addr)], extra: Vec<Record>) -> DnsServer {
    let origin = Name::from_ascii(zone).expect("zone name");
    let mut records: BTreeMap<RrKey, RecordSet> = BTreeMap::new();
    let mut add = |record: Record| {
        let key = RrKey::new(LowerName::new(&record.name), record.record_type());
        records
            .entry(key)
            .or_insert_with(|| RecordSet::new(record.name.clone(), record.record_type(), 1))
            .insert(record, 1);
    };
    add(Record::from_rdata(
        origin.clone(),
        60,
        RData::SOA(SOA::new(
            Name::from_ascii(format!("ns.{zone}")).expect("ns"),
            Name::from_ascii(format!("hostmaster.{zone}")).expect("rname"),
            1,
            60,
            60,
            60,
            60,
        )),
    ));
    for (name, ip) in a_records {
        add(Record::from_rdata(
            Name::from_ascii(name).expect("name"),
            60,
            RData::A(A(*ip)),
        ));
    }
    for record in extra {
        add(record);
    }
    let handler = InMemoryZoneHandler::<hickory_server::net::runtime::TokioRuntimeProvider>::new(
        origin.clone(),
        records,
        ZoneType::Primary,
        AxfrPolicy::Deny,
    )
    .expect("zone");
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::new(&origin), vec![Arc::new(handler)]);
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("udp");
    let addr = udp.local_addr().expect("addr");
    let tcp = tokio::net::TcpListener::bind(addr).await.expect("tcp");
    let mut server = Server::new(catalog);
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(5), 4096);
    DnsServer {
        addr,
        _server: server,
    }
}
