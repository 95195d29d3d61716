//! An in-process authoritative DNS server (hickory-server) on 127.0.0.1, UDP and TCP on the same
//! port, serving zones built in code.
//!
//! The demo serves its mail records from one of these, and the integration tests serve their
//! fixture zones, so DNS probes are exercised end to end with `--resolver 127.0.0.1:PORT` and
//! never touch a real name server.
//!
//! Zones can be DNSSEC-signed ([`LabZone::signed`], one Ed25519 key per zone that is both KSK and
//! ZSK, NSEC denial) and delegated ([`LabZone::ns`], [`LabZone::ds`]), so a parent and a child zone
//! on one server form a real chain of trust from a trust anchor ([`LabDnssecKey::trust_anchor`]).
//! One server answering for both sides of a zone cut must answer a DS query from the parent
//! (RFC 4035 section 3.1.4.1); hickory's catalogue picks the closest zone, the child, so
//! [`LabDns`] routes DS queries for a child apex to the parent zone itself.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::dnssec::NxProofKind;
use hickory_server::net::runtime::Time;
use hickory_server::proto::dnssec::crypto::Ed25519SigningKey;
use hickory_server::proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS};
use hickory_server::proto::dnssec::{DigestType, DnssecSigner, SigningKey};
use hickory_server::proto::rr::rdata::tlsa::{CertUsage, Matching, Selector};
use hickory_server::proto::rr::rdata::{A, MX, NS, SOA, TLSA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordSet, RecordType, RrKey};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use rustls_pki_types::PrivatePkcs8KeyDer;

use super::LabError;

/// Longest character-string in a TXT record (RFC 1035 section 3.3).
const MAX_STRING: usize = 255;

/// How long the RRSIGs of a signed lab zone are valid (from the moment it is served).
const SIGNATURE_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// A DNSSEC key (Ed25519, algorithm 15) for a lab zone: it signs every record set of the zone,
/// and its DNSKEY is what a test names as trust anchor or puts as DS into the parent zone.
#[derive(Clone)]
pub struct LabDnssecKey {
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for LabDnssecKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabDnssecKey").finish_non_exhaustive()
    }
}

impl LabDnssecKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, LabError> {
        let pkcs8 = Ed25519SigningKey::generate_pkcs8().map_err(dnssec_error)?;
        Ok(Self {
            pkcs8: pkcs8.secret_pkcs8_der().to_vec(),
        })
    }

    fn signing_key(&self) -> Result<Ed25519SigningKey, LabError> {
        Ed25519SigningKey::from_pkcs8(&PrivatePkcs8KeyDer::from(self.pkcs8.as_slice()))
            .map_err(dnssec_error)
    }

    /// The key's DNSKEY record data (flags 257: zone key, secure entry point).
    pub fn dnskey(&self) -> Result<DNSKEY, LabError> {
        let public = self.signing_key()?.to_public_key().map_err(dnssec_error)?;
        Ok(DNSKEY::from_key(&public))
    }

    /// The key as a trust anchor for `zone`, one line in the format `--trust-anchor` reads:
    /// `zone. 3600 IN DNSKEY 257 3 15 BASE64`.
    pub fn trust_anchor(&self, zone: &str) -> Result<String, LabError> {
        let owner = name(zone)?;
        Ok(format!("{owner} 3600 IN DNSKEY {}\n", self.dnskey()?))
    }

    /// A DS record (SHA-256) for this key as the key of `zone`, to put into the parent zone.
    pub fn ds(&self, zone: &str) -> Result<Record, LabError> {
        let owner = name(zone)?;
        let public = self.signing_key()?.to_public_key().map_err(dnssec_error)?;
        let ds = DS::from_key(&public, &owner, DigestType::SHA256).map_err(dnssec_error)?;
        Ok(Record::from_rdata(
            owner,
            60,
            RData::DNSSEC(DNSSECRData::DS(ds)),
        ))
    }

    fn signer(&self, origin: &Name) -> Result<DnssecSigner, LabError> {
        Ok(DnssecSigner::new(
            self.dnskey()?,
            Box::new(self.signing_key()?),
            origin.clone(),
            SIGNATURE_LIFETIME,
        ))
    }
}

fn dnssec_error(error: impl std::fmt::Display) -> LabError {
    LabError::Dns(format!("DNSSEC: {error}"))
}

/// The records of one zone.
#[derive(Debug, Clone)]
pub struct LabZone {
    origin: Name,
    records: Vec<Record>,
    key: Option<LabDnssecKey>,
}

impl LabZone {
    /// An empty zone for `origin` (it gets an SOA record when served).
    pub fn new(origin: &str) -> Result<Self, LabError> {
        Ok(Self {
            origin: name(origin)?,
            records: Vec::new(),
            key: None,
        })
    }

    /// Signs the zone with `key` when it is served (DNSKEY, RRSIGs and NSEC records are added).
    pub fn signed(mut self, key: LabDnssecKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Adds an NS record: at a name below the origin it delegates that name to a child zone.
    pub fn ns(self, owner: &str, host: &str) -> Result<Self, LabError> {
        Ok(self.record(Record::from_rdata(
            name(owner)?,
            60,
            RData::NS(NS(name(host)?)),
        )))
    }

    /// Adds the DS record of `key` for the child zone `child` (a signed delegation).
    pub fn ds(self, child: &str, key: &LabDnssecKey) -> Result<Self, LabError> {
        Ok(self.record(key.ds(child)?))
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

    /// Adds a TLSA record (RFC 6698): certificate usage, selector, matching type and the
    /// association data.
    pub fn tlsa(
        self,
        owner: &str,
        usage: u8,
        selector: u8,
        matching: u8,
        data: Vec<u8>,
    ) -> Result<Self, LabError> {
        let tlsa = TLSA::new(
            CertUsage::from(usage),
            Selector::from(selector),
            Matching::from(matching),
            data,
        );
        Ok(self.record(Record::from_rdata(name(owner)?, 60, RData::TLSA(tlsa))))
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

    /// The zone's records keyed for hickory, with an SOA and an NS at the origin (the NS marks
    /// the apex, which a validator looks for when it searches for zone cuts).
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
        let ns = Record::from_rdata(
            self.origin.clone(),
            60,
            RData::NS(NS(name(&format!("ns.{}", self.origin))?)),
        );
        for record in [soa, ns].into_iter().chain(self.records.iter().cloned()) {
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
    _server: Server<LabHandler>,
}

/// The lab's request handler: the zones' catalogue, except that a DS query for the apex of a
/// child zone is answered by its parent zone (where the DS set, or its signed denial, lives).
struct LabHandler {
    zones: Catalog,
    /// Child apex → the parent zone's handler.
    parents: Catalog,
}

// The trait is declared with `#[async_trait]`; this is its expansion, written out so the lab
// needs no extra dependency.
impl RequestHandler for LabHandler {
    fn handle_request<'life0, 'life1, 'async_trait, R, T>(
        &'life0 self,
        request: &'life1 Request,
        response_handle: R,
    ) -> Pin<Box<dyn Future<Output = ResponseInfo> + Send + 'async_trait>>
    where
        R: ResponseHandler + 'async_trait,
        T: Time + 'async_trait,
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            let to_parent = request.request_info().is_ok_and(|info| {
                info.query.query_type() == RecordType::DS
                    && self.parents.contains(info.query.name())
            });
            if to_parent {
                self.parents
                    .handle_request::<R, T>(request, response_handle)
                    .await
            } else {
                self.zones
                    .handle_request::<R, T>(request, response_handle)
                    .await
            }
        })
    }
}

impl LabDns {
    /// Serves `zones` on a random port of 127.0.0.1.
    pub async fn start(zones: Vec<LabZone>) -> Result<Self, LabError> {
        let mut catalog = Catalog::new();
        let mut handlers: Vec<(Name, Arc<dyn ZoneHandler>)> = Vec::new();
        for zone in zones {
            let mut handler =
                InMemoryZoneHandler::<hickory_server::net::runtime::TokioRuntimeProvider>::new(
                    zone.origin.clone(),
                    zone.record_sets()?,
                    ZoneType::Primary,
                    AxfrPolicy::Deny,
                    zone.key.as_ref().map(|_| NxProofKind::Nsec),
                )
                .map_err(LabError::Dns)?;
            if let Some(key) = &zone.key {
                handler
                    .add_zone_signing_key_mut(key.signer(&zone.origin)?)
                    .map_err(dnssec_error)?;
                handler.secure_zone_mut().map_err(dnssec_error)?;
            }
            let handler: Arc<dyn ZoneHandler> = Arc::new(handler);
            catalog.upsert(LowerName::new(&zone.origin), vec![Arc::clone(&handler)]);
            handlers.push((zone.origin.clone(), handler));
        }
        // DS queries for a child apex go to the closest enclosing zone served here.
        let mut parents = Catalog::new();
        for (origin, _) in &handlers {
            let parent = handlers
                .iter()
                .filter(|(other, _)| other != origin && other.zone_of(origin))
                .max_by_key(|(other, _)| other.num_labels());
            if let Some((_, handler)) = parent {
                parents.upsert(LowerName::new(origin), vec![Arc::clone(handler)]);
            }
        }
        Self::serve_routed(LabHandler {
            zones: catalog,
            parents,
        })
        .await
    }

    /// Serves a prepared catalogue (for zones a test builds itself).
    pub async fn serve(catalog: Catalog) -> Result<Self, LabError> {
        Self::serve_routed(LabHandler {
            zones: catalog,
            parents: Catalog::new(),
        })
        .await
    }

    async fn serve_routed(handler: LabHandler) -> Result<Self, LabError> {
        let (udp, tcp, addr) = bind_pair().await?;
        let mut server = Server::new(handler);
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
