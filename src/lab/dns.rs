//! An in-process authoritative DNS server (hickory-server) on 127.0.0.1, UDP and TCP on the same
//! port, serving zones built in code.
//!
//! The demo serves its mail records from one of these, and the integration tests serve their
//! fixture zones, so DNS probes are exercised end to end with `--resolver 127.0.0.1:PORT` and
//! never touch a real name server.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::proto::rr::rdata::{A, MX, SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordSet, RrKey};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};

use super::LabError;

/// Longest character-string in a TXT record (RFC 1035 section 3.3).
const MAX_STRING: usize = 255;

/// The records of one zone.
#[derive(Debug, Clone)]
pub struct LabZone {
    origin: Name,
    records: Vec<Record>,
}

impl LabZone {
    /// An empty zone for `origin` (it gets an SOA record when served).
    pub fn new(origin: &str) -> Result<Self, LabError> {
        Ok(Self {
            origin: name(origin)?,
            records: Vec::new(),
        })
    }

    /// Adds any record.
    pub fn record(mut self, record: Record) -> Self {
        self.records.push(record);
        self
    }

    /// Adds an A record.
    pub fn a(self, owner: &str, ip: Ipv4Addr) -> Result<Self, LabError> {
        Ok(self.record(Record::from_rdata(name(owner)?, 60, RData::A(A(ip)))))
    }

    /// Adds an MX record (`.` as the exchange makes a null MX).
    pub fn mx(self, owner: &str, preference: u16, exchange: &str) -> Result<Self, LabError> {
        let exchange = if exchange == "." {
            Name::root()
        } else {
            name(exchange)?
        };
        Ok(self.record(Record::from_rdata(
            name(owner)?,
            60,
            RData::MX(MX::new(preference, exchange)),
        )))
    }

    /// Adds a TXT record holding `text`, split into 255-byte character-strings.
    pub fn txt(self, owner: &str, text: &str) -> Result<Self, LabError> {
        let strings: Vec<&[u8]> = if text.is_empty() {
            vec![b""]
        } else {
            text.as_bytes().chunks(MAX_STRING).collect()
        };
        Ok(self.record(Record::from_rdata(
            name(owner)?,
            60,
            RData::TXT(TXT::from_bytes(strings)),
        )))
    }

    /// The zone's records keyed for hickory, with an SOA at the origin.
    fn record_sets(&self) -> Result<BTreeMap<RrKey, RecordSet>, LabError> {
        let mut sets: BTreeMap<RrKey, RecordSet> = BTreeMap::new();
        let soa = Record::from_rdata(
            self.origin.clone(),
            60,
            RData::SOA(SOA::new(
                name(&format!("ns.{}", self.origin))?,
                name(&format!("hostmaster.{}", self.origin))?,
                1,
                60,
                60,
                60,
                60,
            )),
        );
        for record in std::iter::once(soa).chain(self.records.iter().cloned()) {
            let key = RrKey::new(LowerName::new(&record.name), record.record_type());
            sets.entry(key)
                .or_insert_with(|| RecordSet::new(record.name.clone(), record.record_type(), 1))
                .insert(record, 1);
        }
        Ok(sets)
    }
}

fn name(text: &str) -> Result<Name, LabError> {
    Name::from_ascii(text).map_err(|e| LabError::Dns(format!("`{text}`: {e}")))
}

/// A running DNS server. Dropping it stops serving.
pub struct LabDns {
    /// Where it listens (UDP and TCP).
    pub addr: SocketAddr,
    _server: Server<Catalog>,
}

impl LabDns {
    /// Serves `zones` on a random port of 127.0.0.1.
    pub async fn start(zones: Vec<LabZone>) -> Result<Self, LabError> {
        let mut catalog = Catalog::new();
        for zone in zones {
            let handler =
                InMemoryZoneHandler::<hickory_server::net::runtime::TokioRuntimeProvider>::new(
                    zone.origin.clone(),
                    zone.record_sets()?,
                    ZoneType::Primary,
                    AxfrPolicy::Deny,
                )
                .map_err(LabError::Dns)?;
            catalog.upsert(LowerName::new(&zone.origin), vec![Arc::new(handler)]);
        }
        Self::serve(catalog).await
    }

    /// Serves a prepared catalogue (for zones a test builds itself, e.g. signed ones).
    pub async fn serve(catalog: Catalog) -> Result<Self, LabError> {
        let (udp, tcp, addr) = bind_pair().await?;
        let mut server = Server::new(catalog);
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 4096);
        Ok(Self {
            addr,
            _server: server,
        })
    }
}

/// A UDP socket and a TCP listener on the same free port of 127.0.0.1. The UDP port the system
/// picks may already be taken for TCP by another process, so a few ports are tried.
async fn bind_pair() -> std::io::Result<(
    tokio::net::UdpSocket,
    tokio::net::TcpListener,
    std::net::SocketAddr,
)> {
    let mut last = None;
    for _ in 0..16 {
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
        let addr = udp.local_addr()?;
        match tokio::net::TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp, addr)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free port pair")))
}
