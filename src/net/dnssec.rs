//! DNSSEC validation: a second, validating lookup path, used only by the DNSSEC probe.
//!
//! The probes' [`Resolver`](super::Resolver) does not validate, and must not: a validating
//! resolver drops a bogus answer, so the other probes (CAA, mail, the target's address) would see
//! a different world than a mail server or browser behind a non-validating resolver does. The
//! DNSSEC probe therefore asks its own questions through a [`Validator`]: hickory's
//! `DnssecDnsHandle` (the validator inside hickory-resolver, RFC 4033–4035) over a name-server
//! pool to the same servers (`--resolver`, or the system's), starting from the trust anchor of
//! `--trust-anchor` or the IANA root keys bundled with hickory ([`DnssecAnchors`]).
//!
//! The handle marks every record of an answer with its proof (secure, insecure, bogus,
//! indeterminate) and keeps bogus records instead of dropping them, so one lookup gives both the
//! verdict and what it was about. hickory keeps the *reason* for a bogus verdict to itself (it
//! only logs it), so [`Validator::validate`] diagnoses a bogus answer with a few more questions:
//! are there signatures at all, have they expired, does the signer's DNSKEY set validate, and
//! can the chain up to the trust anchor be followed at all (when it cannot — a name server that
//! refuses the parent zone's DS query — the verdict is indeterminate, not bogus: RFC 4035 section
//! 4.3 calls an answer whose DNSSEC records cannot be obtained indeterminate).
//!
//! Every lookup is recorded ([`DnssecLookup`]) for the evidence; the facts are derived from
//! that record alone. Every lookup is bounded in time (the per-query timeout, and a budget for
//! the whole chain).
//!
//! The name servers asked must be recursive and pass DNSSEC records along (the DO bit is set);
//! the validation happens here, whatever the resolver's AD bit says. A validating upstream
//! answers SERVFAIL for a bogus zone; the validator then asks again with checking disabled (CD),
//! and an answer that comes back only that way is reported bogus.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hickory_resolver::config::ResolverOpts;
use hickory_resolver::net::dnssec::DnssecDnsHandle;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::xfer::FirstAnswer;
use hickory_resolver::net::{DnsError, DnsHandle, NetError, RetryDnsHandle};
use hickory_resolver::proto::dnssec::rdata::{DNSKEY, DNSSECRData, SIG};
use hickory_resolver::proto::dnssec::{Proof, TrustAnchors, Verifier};
use hickory_resolver::proto::op::{
    DnsRequest, DnsRequestOptions, DnsResponse, Query, ResponseCode,
};
use hickory_resolver::proto::rr::{DNSClass, LowerName, Name, RData, Record, RecordType};
use hickory_resolver::proto::serialize::txt::trust_anchor::{Entry, Parser};
use hickory_resolver::{NameServerPool, PoolContext, TlsConfig};

use super::resolve::{ResolverSetupError, name_server_configs, presentation};
use crate::evidence::{DnssecLookup, DnssecOutcome, DnssecProof, FailureKind, ProbeError};

/// Largest trust-anchor file read.
const MAX_ANCHOR_FILE: u64 = 64 * 1024;

/// Most records kept from one answer.
const MAX_RECORDS: usize = 64;

/// Most labels climbed when following a chain of trust by hand.
const MAX_CLIMB: usize = 12;

/// A validation (the answer plus every DNSKEY and DS query of its chain) may take this many
/// per-query timeouts.
const CHAIN_BUDGET: u32 = 4;

/// The keys validation starts from.
#[derive(Clone)]
pub struct DnssecAnchors {
    keys: Arc<TrustAnchors>,
    /// Zones the keys belong to (the root for the bundled anchor).
    zones: Vec<Name>,
    /// How evidence names them.
    description: String,
}

impl std::fmt::Debug for DnssecAnchors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnssecAnchors")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

/// A `--trust-anchor` file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// The file could not be read.
    #[error("cannot read trust anchor file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is larger than anyone's trust anchor.
    #[error("trust anchor file {path} is larger than {MAX_ANCHOR_FILE} bytes")]
    TooLarge {
        /// The file.
        path: String,
    },
    /// The file is not a list of DNSKEY records.
    #[error("trust anchor file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl DnssecAnchors {
    /// The IANA root zone's key-signing keys (KSK-2017, tag 20326, and KSK-2024, tag 38696), as
    /// bundled with hickory.
    pub fn bundled() -> Self {
        Self {
            keys: Arc::new(TrustAnchors::default()),
            zones: vec![Name::root()],
            description: "IANA root KSK-2017 and KSK-2024 (bundled)".to_string(),
        }
    }

    /// Reads DNSKEY records in zone-file presentation format (`zone. [TTL] [IN] DNSKEY flags 3
    /// algorithm base64`, `;` comments), e.g. unbound's `root.key` or the output of
    /// `dig DNSKEY zone`. A key for a zone other than the root makes that zone a trust point of
    /// its own. DS records are not accepted (hickory's trust-anchor reader takes DNSKEYs only).
    pub fn from_file(path: &Path) -> Result<Self, AnchorError> {
        use std::io::Read;
        let shown = path.display().to_string();
        let read_error = |source| AnchorError::Read {
            path: shown.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut text = String::new();
        file.take(MAX_ANCHOR_FILE + 1)
            .read_to_string(&mut text)
            .map_err(read_error)?;
        if text.len() as u64 > MAX_ANCHOR_FILE {
            return Err(AnchorError::TooLarge { path: shown });
        }
        Self::parse(&text, &shown)
    }

    /// Parses the text of a trust-anchor file (see [`DnssecAnchors::from_file`]); `source` names
    /// it in messages and evidence.
    pub fn parse(text: &str, source: &str) -> Result<Self, AnchorError> {
        let parse_error = |message: String| AnchorError::Parse {
            path: source.to_string(),
            message,
        };
        let entries = Parser::new(text)
            .parse()
            .map_err(|e| parse_error(e.to_string()))?;
        let mut keys = TrustAnchors::empty();
        let mut zones: Vec<Name> = Vec::new();
        for entry in entries {
            let Entry::DNSKEY(record) = entry else {
                continue;
            };
            let zone = record.name().clone();
            keys.insert_with_name(record.data().public_key(), LowerName::new(&zone));
            if !zones.contains(&zone) {
                zones.push(zone);
            }
        }
        if zones.is_empty() {
            return Err(parse_error("no DNSKEY record".to_string()));
        }
        let names: Vec<String> = zones.iter().map(ToString::to_string).collect();
        Ok(Self {
            keys: Arc::new(keys),
            description: format!("{source} (DNSKEY for {})", names.join(", ")),
            zones,
        })
    }

    /// How evidence names this anchor.
    pub fn description(&self) -> &str {
        &self.description
    }

    fn covers(&self, zone: &Name) -> bool {
        self.zones.iter().any(|z| z == zone)
    }
}

type Pool = RetryDnsHandle<NameServerPool<TokioRuntimeProvider>>;

/// Validating lookups for the DNSSEC probe, each recorded with its verdict.
///
/// Cloning shares the name servers and the validation cache; [`Validator::recording`] gives a
/// clone with an empty log, one per target.
#[derive(Clone)]
pub struct Validator {
    /// Plain questions (the DO bit set, nothing validated): for diagnosis.
    plain: Pool,
    /// Validated questions.
    secure: DnssecDnsHandle<Pool>,
    anchors: DnssecAnchors,
    timeout: Duration,
    log: Arc<Mutex<BTreeMap<(String, String), DnssecLookup>>>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("anchors", &self.anchors)
            .finish_non_exhaustive()
    }
}

impl Validator {
    /// A validator asking `servers` (the system's resolvers when empty), each query allowed
    /// `timeout`, starting from `anchors`.
    pub fn new(
        servers: &[SocketAddr],
        anchors: DnssecAnchors,
        timeout: Duration,
    ) -> Result<Self, ResolverSetupError> {
        let (name_servers, mut options) = if servers.is_empty() {
            let (config, options) = hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| ResolverSetupError(e.to_string()))?;
            (config.name_servers, options)
        } else {
            (name_server_configs(servers), ResolverOpts::default())
        };
        options.timeout = timeout;
        options.attempts = 2;
        options.try_tcp_on_error = true;
        options.edns0 = true;
        let attempts = options.attempts;
        let tls = TlsConfig::new().map_err(|e| ResolverSetupError(e.to_string()))?;
        let pool = NameServerPool::from_config(
            name_servers,
            Arc::new(PoolContext::new(options, tls)),
            TokioRuntimeProvider::default(),
        );
        let plain = RetryDnsHandle::new(pool, attempts);
        let secure = DnssecDnsHandle::with_trust_anchor(plain.clone(), Arc::clone(&anchors.keys));
        Ok(Self {
            plain,
            secure,
            anchors,
            timeout,
            log: Arc::default(),
        })
    }

    /// Trusts every key of an anchored zone's DNSKEY set that an anchored key signs (RFC 4035
    /// section 5: a trust anchor authenticates its zone's key set). A zone signed with a
    /// separate KSK and ZSK and anchored by its KSK then validates; without this, the validator
    /// would look for the zone's DS record in a parent a lab zone does not have. A set that
    /// cannot be fetched or is not signed by an anchored key adds nothing.
    pub async fn trust_anchored_key_sets(mut self) -> Self {
        let mut keys = (*self.anchors.keys).clone();
        let mut added = false;
        let now = unix_now();
        for zone in self.anchors.zones.clone() {
            if zone.is_root() {
                continue;
            }
            let query = Query::query(zone.clone(), RecordType::DNSKEY);
            let lookup = self.plain.lookup(query, options()).first_answer();
            let Ok(Ok(response)) = tokio::time::timeout(self.timeout * 2, lookup).await else {
                continue;
            };
            let owner = LowerName::new(&zone);
            let set: Vec<&Record> = response
                .answers
                .iter()
                .filter(|r| r.record_type() == RecordType::DNSKEY && r.name == zone)
                .take(MAX_RECORDS)
                .collect();
            let dnskeys: Vec<&DNSKEY> = set
                .iter()
                .filter_map(|r| match &r.data {
                    RData::DNSSEC(DNSSECRData::DNSKEY(key)) => Some(key),
                    _ => None,
                })
                .collect();
            let signed = response.answers.iter().any(|r| {
                let RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) = &r.data else {
                    return false;
                };
                let input = rrsig.input();
                input.type_covered == RecordType::DNSKEY
                    && u64::from(input.sig_inception.get()) <= now
                    && now <= u64::from(input.sig_expiration.get())
                    && dnskeys.iter().any(|key| {
                        keys.contains_with_name(key.public_key(), &owner)
                            && key.calculate_key_tag().ok() == Some(input.key_tag)
                            && key
                                .verify_rrsig(&zone, DNSClass::IN, rrsig, set.iter().copied())
                                .is_ok()
                    })
            });
            if signed {
                for key in &dnskeys {
                    added |= keys.insert_with_name(key.public_key(), owner.clone());
                }
            }
        }
        if added {
            self.anchors.keys = Arc::new(keys);
            self.secure = DnssecDnsHandle::with_trust_anchor(
                self.plain.clone(),
                Arc::clone(&self.anchors.keys),
            );
        }
        self
    }

    /// A clone sharing the name servers and cache, with its own empty lookup log.
    pub fn recording(&self) -> Self {
        Self {
            log: Arc::default(),
            ..self.clone()
        }
    }

    /// How evidence names the trust anchor.
    pub fn anchor_description(&self) -> &str {
        self.anchors.description()
    }

    /// The lookups made so far, sorted by name and type.
    pub fn lookups(&self) -> Vec<DnssecLookup> {
        let log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        log.values().cloned().collect()
    }

    /// Looks up `record_type` records of `name`, validates the answer, records and returns the
    /// verdict (with the reason when it is bogus or indeterminate). A name asked twice is
    /// validated once.
    pub async fn validate(&self, name: &str, record_type: RecordType) -> DnssecOutcome {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let key = (name.clone(), record_type.to_string());
        if let Some(done) = self.recorded(&key) {
            return done;
        }
        let outcome = match Name::from_ascii(format!("{name}.")) {
            Err(e) => failed(FailureKind::Dns, format!("`{name}` is not a DNS name: {e}")),
            Ok(qname) => {
                let budget = self.timeout * CHAIN_BUDGET;
                match tokio::time::timeout(budget, self.judge(&qname, record_type)).await {
                    Ok(outcome) => outcome,
                    Err(_) => failed(
                        FailureKind::Timeout,
                        format!(
                            "validating {name} {record_type} took longer than {}s",
                            budget.as_secs()
                        ),
                    ),
                }
            }
        };
        let mut log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        log.entry(key)
            .or_insert_with(|| DnssecLookup {
                name,
                record_type: record_type.to_string(),
                outcome,
            })
            .outcome
            .clone()
    }

    fn recorded(&self, key: &(String, String)) -> Option<DnssecOutcome> {
        let log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        log.get(key).map(|lookup| lookup.outcome.clone())
    }

    async fn judge(&self, qname: &Name, record_type: RecordType) -> DnssecOutcome {
        let query = Query::query(qname.clone(), record_type);
        let (response, denial_proof) =
            match self.secure.lookup(query, options()).first_answer().await {
                Ok(response) => (response, None),
                Err(NetError::Dns(DnsError::Nsec {
                    response, proof, ..
                })) => (*response, Some(proof)),
                Err(NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail))) => {
                    return self.servfail(qname, record_type).await;
                }
                Err(NetError::Timeout) => {
                    return failed(
                        FailureKind::Timeout,
                        format!("lookup of {qname} {record_type} timed out"),
                    );
                }
                Err(other) => return failed(FailureKind::Dns, other.to_string()),
            };
        let answers: Vec<&Record> = response
            .answers
            .iter()
            .filter(|r| r.record_type() != RecordType::RRSIG)
            .collect();
        let is_denial = answers.is_empty();
        let proof = match denial_proof {
            Some(proof) => proof,
            None if !is_denial => worst(answers.iter().map(|r| r.proof)),
            None => {
                // A denial that passed: proven by secure NSEC/NSEC3 records, or from a zone
                // proven unsigned (then its authority records are insecure, or there are none).
                let authorities: Vec<Proof> = response
                    .authorities
                    .iter()
                    .filter(|r| r.record_type() != RecordType::RRSIG)
                    .map(|r| r.proof)
                    .collect();
                if authorities.is_empty() {
                    Proof::Insecure
                } else {
                    worst(authorities.into_iter())
                }
            }
        };
        let records = answers
            .iter()
            .filter(|r| r.record_type() == record_type)
            .take(MAX_RECORDS)
            .map(|r| presentation(&r.data))
            .collect();
        let (proof, reason) = match proof {
            Proof::Secure => (DnssecProof::Secure, None),
            Proof::Insecure => (DnssecProof::Insecure, None),
            Proof::Indeterminate => (
                DnssecProof::Indeterminate,
                Some("the validator obtained no DNSSEC records to decide with".to_string()),
            ),
            Proof::Bogus => {
                let (proof, reason) = self
                    .diagnose(qname, record_type, &response, is_denial)
                    .await;
                (proof, Some(reason))
            }
        };
        DnssecOutcome::Validated {
            proof,
            rcode: response.response_code.to_string(),
            records,
            reason,
        }
    }

    /// A SERVFAIL may be a validating upstream refusing a bogus answer: ask again with checking
    /// disabled (CD), without validating here.
    async fn servfail(&self, qname: &Name, record_type: RecordType) -> DnssecOutcome {
        let mut request =
            DnsRequest::from_query(Query::query(qname.clone(), record_type), options());
        request.metadata.checking_disabled = true;
        match self.plain.send(request).first_answer().await {
            Ok(response) => DnssecOutcome::Validated {
                proof: DnssecProof::Bogus,
                rcode: response.response_code.to_string(),
                records: response
                    .answers
                    .iter()
                    .filter(|r| r.record_type() == record_type)
                    .take(MAX_RECORDS)
                    .map(|r| presentation(&r.data))
                    .collect(),
                reason: Some(
                    "the resolver answers SERVFAIL, but answers with checking disabled (CD): \
                     its own DNSSEC validation rejected the answer"
                        .to_string(),
                ),
            },
            Err(e) => failed(
                FailureKind::Dns,
                format!("SERVFAIL for {qname} {record_type}, also with checking disabled: {e}"),
            ),
        }
    }

    /// Why an answer is bogus; indeterminate instead when the chain of trust cannot be followed.
    async fn diagnose(
        &self,
        qname: &Name,
        record_type: RecordType,
        response: &DnsResponse,
        is_denial: bool,
    ) -> (DnssecProof, String) {
        let section = if is_denial {
            &response.authorities
        } else {
            &response.answers
        };
        let signatures: Vec<&SIG> = section
            .iter()
            .filter_map(|r| match &r.data {
                RData::DNSSEC(DNSSECRData::RRSIG(rrsig))
                    if is_denial || rrsig.input().type_covered == record_type =>
                {
                    Some(&**rrsig)
                }
                _ => None,
            })
            .collect();
        let what = if is_denial {
            format!("the denial of {qname} {record_type}")
        } else {
            format!("the {record_type} set of {qname}")
        };
        let Some(first) = signatures.first() else {
            return match self.broken_chain(qname).await {
                Some(why) => (
                    DnssecProof::Indeterminate,
                    format!("{what} is unsigned and the chain of trust cannot be followed: {why}"),
                ),
                None => (
                    DnssecProof::Bogus,
                    format!(
                        "{what} is unsigned, but its zone is not proven unsigned (the parent \
                         zone has a DS record for it, or no signed proof that it has none)"
                    ),
                ),
            };
        };
        let now = unix_now();
        if let Some(expired) = signatures
            .iter()
            .map(|s| u64::from(s.input().sig_expiration.get()))
            .max()
            .filter(|latest| *latest < now)
        {
            return (
                DnssecProof::Bogus,
                format!(
                    "every RRSIG over {what} has expired (the last at {})",
                    rfc3339(expired)
                ),
            );
        }
        if let Some(earliest) = signatures
            .iter()
            .map(|s| u64::from(s.input().sig_inception.get()))
            .min()
            .filter(|earliest| *earliest > now)
        {
            return (
                DnssecProof::Bogus,
                format!(
                    "no RRSIG over {what} is valid yet (the first from {})",
                    rfc3339(earliest)
                ),
            );
        }
        let signer = first.input().signer_name.clone();
        let keys = self
            .secure
            .lookup(Query::query(signer.clone(), RecordType::DNSKEY), options())
            .first_answer()
            .await;
        let dnskeys: Vec<Proof> = match &keys {
            Ok(response) => response
                .answers
                .iter()
                .filter(|r| r.record_type() == RecordType::DNSKEY)
                .map(|r| r.proof)
                .collect(),
            Err(_) => Vec::new(),
        };
        if dnskeys.iter().any(Proof::is_secure) {
            return (
                DnssecProof::Bogus,
                format!("no RRSIG over {what} verifies with the validated DNSKEY set of {signer}"),
            );
        }
        if let Some(why) = self.broken_chain(&signer).await {
            return (
                DnssecProof::Indeterminate,
                format!(
                    "the DNSKEY set of {signer} cannot be validated, the chain of trust cannot \
                     be followed: {why}"
                ),
            );
        }
        let detail = match (&keys, dnskeys.is_empty()) {
            (Err(e), _) => format!("the DNSKEY query for {signer} failed: {e}"),
            (Ok(_), true) => format!("{signer} publishes no DNSKEY set"),
            (Ok(_), false) => format!(
                "the DNSKEY set of {signer} does not chain to the trust anchor (no key is an \
                 anchor or matches a DS record of the parent zone)"
            ),
        };
        (
            DnssecProof::Bogus,
            format!("{what} is signed by {signer}, but {detail}"),
        )
    }

    /// Follows the chain of trust above `name` by hand, without validating: a DS query at every
    /// name up to a trust point, then the trust point's DNSKEY query. Says which query got no
    /// usable answer (refused, failed, timed out), if one did.
    async fn broken_chain(&self, name: &Name) -> Option<String> {
        let mut current = name.clone();
        for _ in 0..MAX_CLIMB {
            if self.anchors.covers(&current) {
                break;
            }
            if current.is_root() {
                return Some("no trust anchor covers the name".to_string());
            }
            let ds = Query::query(current.clone(), RecordType::DS);
            if let Err(e) = self.plain.lookup(ds, options()).first_answer().await
                && !(e.is_no_records_found() || e.is_nx_domain())
            {
                return Some(format!("the DS query for {current} failed: {e}"));
            }
            current = current.base_name();
        }
        let keys = Query::query(current.clone(), RecordType::DNSKEY);
        match self.plain.lookup(keys, options()).first_answer().await {
            Ok(_) => None,
            Err(e) => Some(format!(
                "the DNSKEY query for the trust point {current} failed: {e}"
            )),
        }
    }
}

/// Seconds since the Unix epoch, to compare with RRSIG validity times.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Query options: recursion desired, EDNS with the DO bit (ask for RRSIGs and NSEC records).
fn options() -> DnsRequestOptions {
    let mut options = DnsRequestOptions::default();
    options.recursion_desired = true;
    options.use_edns = true;
    options.edns_set_dnssec_ok = true;
    options
}

/// The worst of several proofs (bogus, then indeterminate, then insecure, then secure).
fn worst(proofs: impl Iterator<Item = Proof>) -> Proof {
    proofs
        .max_by_key(|proof| match proof {
            Proof::Secure => 0,
            Proof::Insecure => 1,
            Proof::Indeterminate => 2,
            Proof::Bogus => 3,
        })
        .unwrap_or(Proof::Indeterminate)
}

fn failed(kind: FailureKind, message: String) -> DnssecOutcome {
    DnssecOutcome::Failed {
        error: ProbeError::new(kind, message),
    }
}

fn rfc3339(unix: u64) -> String {
    humantime::format_rfc3339_seconds(SystemTime::UNIX_EPOCH + Duration::from_secs(unix))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT_KSK_2024: &str = ". 172800 IN DNSKEY 257 3 8 AwEAAa96jeuknZlaeSrvyAJj6ZHv28hhOKkx3rLGXVaC6rXTsDc449/cidltpkyGwCJNnOAlFNKF2jBosZBU5eeHspaQWOmOElZsjICMQMC3aeHbGiShvZsx4wMYSjH8e7Vrhbu6irwCzVBApESjbUdpWWmEnhathWu1jo+siFUiRAAxm9qyJNg/wOZqqzL/dL/q8PkcRU5oUKEpUge71M3ej2/7CPqpdVwuMoTvoB+ZOT4YeGyxMvHmbrxlFzGOHOijtzN+u1TQNatX2XBuzZNQ1K+s2CXkPIZo7s6JgZyvaBevYtxPvYLw4z9mR7K2vaF18UYH9Z9GNUUeayffKC73PYc=\n";

    #[test]
    fn parses_a_root_anchor_and_names_its_zone() {
        let anchors = DnssecAnchors::parse(ROOT_KSK_2024, "root.key").unwrap();
        assert_eq!(anchors.zones, [Name::root()]);
        assert_eq!(anchors.keys.len(), 1);
        assert_eq!(anchors.description(), "root.key (DNSKEY for .)");
    }

    #[test]
    fn parses_a_zone_anchor_with_comments() {
        let text = "; lab anchor\nexample.test. 3600 IN DNSKEY 257 3 15 \
                    l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=\n";
        let anchors = DnssecAnchors::parse(text, "lab.key").unwrap();
        assert_eq!(anchors.zones, [Name::from_ascii("example.test.").unwrap()]);
        assert!(anchors.covers(&Name::from_ascii("example.test.").unwrap()));
        assert!(!anchors.covers(&Name::root()));
    }

    #[test]
    fn rejects_files_without_keys_or_with_garbage() {
        assert!(matches!(
            DnssecAnchors::parse("; nothing here\n", "empty.key"),
            Err(AnchorError::Parse { .. })
        ));
        assert!(matches!(
            DnssecAnchors::parse("example.test. IN DNSKEY not a key\n", "bad.key"),
            Err(AnchorError::Parse { .. })
        ));
    }

    #[test]
    fn refuses_oversized_anchor_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.key");
        std::fs::write(&path, "; x\n".repeat(20_000)).unwrap();
        assert!(matches!(
            DnssecAnchors::from_file(&path),
            Err(AnchorError::TooLarge { .. })
        ));
        assert!(matches!(
            DnssecAnchors::from_file(&dir.path().join("missing.key")),
            Err(AnchorError::Read { .. })
        ));
    }

    #[test]
    fn bundled_anchor_is_the_root() {
        let anchors = DnssecAnchors::bundled();
        assert!(anchors.covers(&Name::root()));
        assert_eq!(anchors.keys.len(), 2);
    }

    #[test]
    fn worst_proof_wins() {
        assert_eq!(
            worst([Proof::Secure, Proof::Bogus, Proof::Insecure].into_iter()),
            Proof::Bogus
        );
        assert_eq!(
            worst([Proof::Secure, Proof::Insecure].into_iter()),
            Proof::Insecure
        );
        assert_eq!(worst(std::iter::empty()), Proof::Indeterminate);
    }
}
