//! The TLS probe: protocol versions, cipher suites, groups and protections, decided by
//! hand-built ClientHellos, plus full rustls handshakes.
//!
//! Every connection goes through a per-host semaphore (`--max-connections-per-host`), every
//! exchange has a deadline and a byte cap. The probe records what each hello got back and never
//! judges; `facts::tls` decides what was accepted.

pub mod handshake;
pub mod hello;
pub mod offer;
pub mod reply;
pub mod robot;
pub mod session;
pub mod starttls;
pub mod tls12_client;
pub mod vuln;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::evidence::tls::{HandshakeRecord, TlsAttempt, TlsEvidence, TlsReply, swap_first_two};
use crate::evidence::{
    FailureKind, ProbeError, StarttlsEvidence, StarttlsOutcome, StarttlsProtocol,
};
use crate::net::TrustAnchors;
use crate::tls_registry::{self, Protocol, SSL2_CIPHERS};
use hello::ClientHelloSpec;
use reply::Want;

/// Bounds of one TLS scan.
#[derive(Debug, Clone, Copy)]
pub struct TlsLimits {
    /// Most simultaneous connections to the endpoint.
    pub max_connections: usize,
    /// Longest one exchange may take.
    pub exchange_timeout: Duration,
    /// Most bytes read per exchange.
    pub max_reply_bytes: usize,
    /// Most hellos sent to enumerate the suites of one version.
    pub max_enumeration_rounds: usize,
}

impl Default for TlsLimits {
    fn default() -> Self {
        Self {
            max_connections: 6,
            exchange_timeout: Duration::from_secs(5),
            max_reply_bytes: 64 * 1024,
            max_enumeration_rounds: 400,
        }
    }
}

/// A scan of one endpoint.
pub struct TlsScan<'a> {
    addr: SocketAddr,
    server_name: String,
    trust: &'a TrustAnchors,
    deadline: Instant,
    limits: TlsLimits,
    permits: Arc<Semaphore>,
    starttls: Option<StarttlsProtocol>,
    vuln_probes: bool,
}

impl<'a> TlsScan<'a> {
    /// Prepares a scan of `addr`, presenting `server_name` as SNI.
    pub fn new(
        addr: SocketAddr,
        server_name: &str,
        trust: &'a TrustAnchors,
        deadline: Instant,
        limits: TlsLimits,
    ) -> Self {
        Self {
            addr,
            server_name: server_name.to_string(),
            trust,
            deadline,
            limits,
            permits: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            starttls: None,
            vuln_probes: true,
        }
    }

    /// Leaves out (`false`) or runs (`true`, the default) the active vulnerability probes,
    /// which send deliberately malformed messages.
    #[must_use]
    pub fn with_vuln_probes(mut self, enabled: bool) -> Self {
        self.vuln_probes = enabled;
        self
    }

    /// Makes every connection of the scan speak the STARTTLS preamble of `protocol` first
    /// (each raw hello, handshake and vulnerability probe on its own connection).
    #[must_use]
    pub fn with_starttls(mut self, protocol: StarttlsProtocol) -> Self {
        self.starttls = Some(protocol);
        self
    }

    /// Speaks the STARTTLS preamble once, under the connection cap, and records the
    /// conversation; `None` for a plain TLS scan. Run it before [`TlsScan::run`]: when the
    /// outcome is not `Ready`, there is nothing to scan.
    pub async fn starttls_probe(&self) -> Option<StarttlsEvidence> {
        let protocol = self.starttls?;
        let failed = |error| StarttlsEvidence {
            protocol,
            greeting: None,
            capabilities: Vec::new(),
            outcome: StarttlsOutcome::Failed {
                stage: "connect".to_string(),
                error,
            },
        };
        let Ok(_permit) = self.permits.acquire().await else {
            return Some(failed(ProbeError::new(
                FailureKind::Other,
                "no connection slot",
            )));
        };
        let deadline = self
            .deadline
            .min(Instant::now() + self.limits.exchange_timeout);
        let mut stream = match reply::connect(self.addr, deadline).await {
            Ok(stream) => stream,
            Err(TlsReply::ConnectFailed { error }) => return Some(failed(error)),
            Err(_) => {
                return Some(failed(ProbeError::new(
                    FailureKind::Timeout,
                    "connecting timed out",
                )));
            }
        };
        Some(
            starttls::negotiate(&mut stream, protocol, deadline, self.limits.max_reply_bytes).await,
        )
    }

    /// Runs every TLS probe and returns the evidence.
    pub async fn run(&self) -> TlsEvidence {
        let mut attempts = Vec::new();
        // 1. Which versions answer at all (each offered every suite it could use).
        let (mut protocol_attempts, failed_reads): (Vec<_>, Vec<_>) = join_all(
            Protocol::ALL
                .into_iter()
                .map(|protocol| self.protocol_attempt(protocol)),
        )
        .await
        .into_iter()
        .unzip();
        let accepted: Vec<Protocol> = protocol_attempts
            .iter()
            .filter(|a| a.reply.accepts(a.protocol))
            .map(|a| a.protocol)
            .collect();
        let legacy_top = [
            Protocol::Tls1_2,
            Protocol::Tls1_1,
            Protocol::Tls1_0,
            Protocol::Ssl3,
        ]
        .into_iter()
        .find(|p| accepted.contains(p));
        // The chain read raw is kept from the best TLS <= 1.2 version's hello alone.
        for attempt in &mut protocol_attempts {
            if Some(attempt.protocol) != legacy_top
                && let TlsReply::ServerHello(info) = &mut attempt.reply
            {
                info.certificates.clear();
                info.ocsp_response = None;
                info.sct_list = None;
            }
        }
        // 2. Enumerate suites per accepted version (rounds depend on each other; versions do not).
        let enumerations = join_all(
            protocol_attempts
                .iter()
                .filter(|a| a.protocol != Protocol::Ssl2 && accepted.contains(&a.protocol))
                .map(|first| self.enumerate(first)),
        )
        .await;
        let suites_of = |protocol: Protocol| -> Vec<u16> {
            enumerations
                .iter()
                .flatten()
                .filter(|a| a.protocol == protocol)
                .chain(protocol_attempts.iter().filter(|a| a.protocol == protocol))
                .filter_map(|a| a.reply.accepted_suite(protocol))
                .fold(Vec::new(), |mut acc, suite| {
                    if !acc.contains(&suite) {
                        acc.push(suite);
                    }
                    acc
                })
        };
        // 3. Everything else, concurrently.
        let groups13 = async {
            if !accepted.contains(&Protocol::Tls1_3) {
                return Vec::new();
            }
            // No key share: the server must ask for one with a HelloRetryRequest naming the
            // group it picks (RFC 8446 section 4.1.1).
            // The suites go in the enumeration's order with its first two picks swapped: the
            // retry request's suite also tells the server's order from ours.
            self.eliminate_groups(
                Protocol::Tls1_3,
                swap_first_two(&tls_registry::TLS13_SUITES, &suites_of(Protocol::Tls1_3)),
                tls_registry::tls13_groups().collect(),
            )
            .await
        };
        let ecdhe_suites: Vec<u16> = legacy_top
            .map(&suites_of)
            .unwrap_or_default()
            .into_iter()
            .filter(|s| kx_of(*s) == Some(tls_parser::TlsCipherKx::Ecdhe))
            .collect();
        let groups12 = async {
            let (Some(protocol), false) = (legacy_top, ecdhe_suites.is_empty()) else {
                return Vec::new();
            };
            self.eliminate_groups(
                protocol,
                ecdhe_suites.clone(),
                tls_registry::tls12_groups().collect(),
            )
            .await
        };
        let fallback = async {
            // Offer a lower version than the best the server speaks, flagged as a fallback.
            let modern: Vec<Protocol> = accepted
                .iter()
                .copied()
                .filter(|p| *p >= Protocol::Tls1_0)
                .collect();
            let &lower = modern.iter().rev().nth(1)?;
            let mut spec = ClientHelloSpec::new(
                lower,
                tls_registry::suites_for(lower),
                Some(self.server_name.clone()),
            );
            spec.fallback_scsv = true;
            Some(self.attempt("fallback_scsv", spec, Want::default()).await)
        };
        let compression = async {
            let protocol = legacy_top?;
            // Its suites go with the enumeration's first two picks swapped, so its pick also
            // tells the server's suite order from ours (see `server_preference`).
            let mut spec = ClientHelloSpec::new(
                protocol,
                swap_first_two(&tls_registry::suites_for(protocol), &suites_of(protocol)),
                Some(self.server_name.clone()),
            );
            spec.compression = vec![1];
            Some(self.attempt("compression", spec, Want::default()).await)
        };
        let handshakes = self.handshakes(&accepted);
        // 4. Active vulnerability probes, only where they can apply (nowhere when left out).
        let probe_versions: &[Protocol] = if self.vuln_probes { &accepted } else { &[] };
        let tls_top = [Protocol::Tls1_2, Protocol::Tls1_1, Protocol::Tls1_0]
            .into_iter()
            .find(|p| probe_versions.contains(p));
        let heartbleed = async { Some(self.heartbleed(tls_top?).await) };
        let ccs_injection = async {
            let protocol = legacy_top.filter(|p| probe_versions.contains(p))?;
            Some(self.ccs_injection(protocol).await)
        };
        // The RSA key of the leaf read raw, when the hello that read it was answered with an
        // RSA-signed suite: ROBOT then needs no connection of its own to learn it.
        let rsa_leaf = protocol_attempts
            .iter()
            .find_map(|a| match &a.reply {
                TlsReply::ServerHello(info)
                    if Some(a.protocol) == legacy_top
                        && tls_parser::TlsCipherSuite::from_id(info.suite)
                            .is_some_and(|s| s.au == tls_parser::TlsCipherAu::Rsa) =>
                {
                    info.certificates.first()
                }
                _ => None,
            })
            .and_then(|b64| crate::evidence::decode_bytes(b64));
        let robot = async {
            let (protocol, suites) = [Protocol::Tls1_2, Protocol::Tls1_1, Protocol::Tls1_0]
                .into_iter()
                .filter(|p| probe_versions.contains(p))
                .map(|p| (p, rsa_key_exchange(&suites_of(p))))
                .find(|(_, suites)| !suites.is_empty())?;
            Some(self.robot(protocol, suites, rsa_leaf.as_deref()).await)
        };
        // The TLS 1.2 client of these two speaks TLS 1.2 only.
        let tls1_2 = probe_versions.contains(&Protocol::Tls1_2).then_some(());
        let ticketbleed = async {
            tls1_2?;
            Some(self.ticketbleed().await)
        };
        let client_renegotiation = async {
            tls1_2?;
            Some(self.client_renegotiation().await)
        };
        let (
            (groups13, groups12, fallback, compression, handshakes),
            (heartbleed, ccs_injection, robot, ticketbleed, client_renegotiation),
        ) = tokio::join!(
            async { tokio::join!(groups13, groups12, fallback, compression, handshakes) },
            async {
                tokio::join!(
                    heartbleed,
                    ccs_injection,
                    robot,
                    ticketbleed,
                    client_renegotiation
                )
            }
        );
        attempts.extend(protocol_attempts);
        attempts.extend(failed_reads.into_iter().flatten());
        attempts.extend(enumerations.into_iter().flatten());
        attempts.extend(groups13);
        attempts.extend(groups12);
        attempts.extend(fallback);
        attempts.extend(compression);
        let mut evidence = TlsEvidence {
            endpoint: self.addr.to_string(),
            sni: hello_sni(&self.server_name),
            error: None,
            attempts,
            handshakes,
            certificate_check: None,
            vulnerabilities: crate::evidence::vuln::VulnProbes {
                heartbleed,
                ccs_injection,
                robot,
                ticketbleed,
                client_renegotiation,
            },
        };
        // The chain as served in the clear (TLS 1.3 encrypts it; the rustls handshake covers
        // that case), validated offline.
        evidence.certificate_check = evidence.raw_chain().and_then(|info| {
            let chain: Vec<Vec<u8>> = info
                .certificates
                .iter()
                .filter_map(|b64| crate::evidence::decode_bytes(b64))
                .collect();
            (!chain.is_empty()).then(|| self.trust.check_chain(&chain, &self.server_name))
        });
        evidence
    }

    /// Offers `groups` with `suites` again and again, removing each group the server picks,
    /// until it refuses: one hello per supported group plus one refusal. TLS 1.3 hellos carry
    /// no key share, so the pick comes back in a HelloRetryRequest; TLS 1.2 hellos read on to
    /// the ServerKeyExchange that names the curve.
    async fn eliminate_groups(
        &self,
        protocol: Protocol,
        suites: Vec<u16>,
        mut groups: Vec<u16>,
    ) -> Vec<TlsAttempt> {
        let mut attempts = Vec::new();
        for _ in 0..=groups.len() {
            if groups.is_empty() {
                break;
            }
            let mut spec =
                ClientHelloSpec::new(protocol, suites.clone(), Some(self.server_name.clone()));
            spec.groups = groups.clone();
            spec.key_shares = Vec::new();
            let want = Want {
                key_exchange: protocol != Protocol::Tls1_3,
                ..Want::default()
            };
            let attempt = self.attempt("group", spec, want).await;
            let picked = attempt.selected_group();
            attempts.push(attempt);
            match picked {
                Some(group) => groups.retain(|g| *g != group),
                None => break,
            }
        }
        attempts
    }

    /// The hello that decides whether `protocol` is accepted, and, when reading the rest of
    /// its first flight failed, that failed read (as a `certificate` attempt).
    async fn protocol_attempt(&self, protocol: Protocol) -> (TlsAttempt, Option<TlsAttempt>) {
        if protocol == Protocol::Ssl2 {
            let ciphers: Vec<u32> = SSL2_CIPHERS.iter().map(|(id, _)| *id).collect();
            let reply = self
                .send(&hello::sslv2_client_hello(&ciphers), Want::default())
                .await;
            let attempt = TlsAttempt {
                purpose: "protocol".into(),
                protocol,
                offered_suites: ciphers,
                offered_groups: Vec::new(),
                fallback_scsv: false,
                compression: Vec::new(),
                reply,
            };
            return (attempt, None);
        }
        let spec = ClientHelloSpec::new(
            protocol,
            tls_registry::suites_for(protocol),
            Some(self.server_name.clone()),
        );
        // TLS <= 1.2 hellos read the whole first flight: the best version's chain, OCSP
        // staple and SCTs are the certificate evidence, and the key exchange its parameters.
        let legacy = protocol != Protocol::Tls1_3;
        let want = Want {
            key_exchange: legacy,
            certificates: legacy,
        };
        let (attempt, failed_read) = self.attempt_reading_on("protocol", spec, want).await;
        let failed_read = failed_read.map(|mut failed| {
            failed.purpose = "certificate".to_string();
            failed
        });
        (attempt, failed_read)
    }

    /// [`Self::attempt`] reading the first flight past the ServerHello as `want` says; when
    /// that read breaks (a certificate message past the caps, a garbled key exchange), the
    /// same hello once more for the ServerHello alone, so a broken flight never hides what was
    /// accepted. Returns the attempt to judge, and the failed read if there was one.
    async fn attempt_reading_on(
        &self,
        purpose: &str,
        spec: ClientHelloSpec,
        want: Want,
    ) -> (TlsAttempt, Option<TlsAttempt>) {
        let reads_on = want.key_exchange || want.certificates;
        let hello = spec.to_record();
        let reply = self.send(&hello, want).await;
        // Only a broken read: a reply that breaks the offer is judged as it is.
        if !reads_on || !matches!(reply, TlsReply::Malformed { .. }) {
            return (recorded(purpose, &spec, reply), None);
        }
        let bare = self.send(&hello, Want::default()).await;
        (
            recorded(purpose, &spec, bare),
            Some(recorded(purpose, &spec, reply)),
        )
    }

    /// Offers the remaining suites again and again, removing each one the server picks.
    async fn enumerate(&self, first: &TlsAttempt) -> Vec<TlsAttempt> {
        let protocol = first.protocol;
        let mut remaining = tls_registry::suites_for(protocol);
        let mut attempts = Vec::new();
        let mut chosen = first.reply.accepted_suite(protocol);
        for _ in 0..self.limits.max_enumeration_rounds {
            let Some(suite) = chosen else { break };
            remaining.retain(|s| *s != suite);
            if remaining.is_empty() {
                break;
            }
            let spec =
                ClientHelloSpec::new(protocol, remaining.clone(), Some(self.server_name.clone()));
            // TLS <= 1.2: read on to the ServerKeyExchange, for the DHE prime of DHE suites.
            let want = Want {
                key_exchange: protocol != Protocol::Tls1_3,
                ..Want::default()
            };
            let (attempt, _) = self.attempt_reading_on("suites", spec, want).await;
            chosen = attempt.reply.accepted_suite(protocol);
            attempts.push(attempt);
        }
        attempts
    }

    async fn attempt(&self, purpose: &str, spec: ClientHelloSpec, want: Want) -> TlsAttempt {
        let reply = self.send(&spec.to_record(), want).await;
        recorded(purpose, &spec, reply)
    }

    async fn send(&self, hello: &[u8], want: Want) -> TlsReply {
        let Ok(_permit) = self.permits.acquire().await else {
            return TlsReply::Timeout;
        };
        let deadline = self
            .deadline
            .min(Instant::now() + self.limits.exchange_timeout);
        reply::exchange_via(
            self.addr,
            self.starttls,
            hello,
            want,
            self.limits.max_reply_bytes,
            deadline,
        )
        .await
    }

    /// The main handshake (ALPN h2 and http/1.1), then one per ALPN protocol alone that the
    /// main one leaves open: after h2, whether http/1.1 alone is spoken; after http/1.1 (h2
    /// passed over though offered first), nothing; without ALPN, each alone. Through
    /// STARTTLS, one handshake without ALPN (mail and file transfer do not negotiate it).
    async fn handshakes(&self, accepted: &[Protocol]) -> Vec<HandshakeRecord> {
        if !accepted.iter().any(|p| *p >= Protocol::Tls1_2) {
            return Vec::new();
        }
        if self.starttls.is_some() {
            return vec![self.handshake(&[]).await];
        }
        let main = self.handshake(&["h2", "http/1.1"]).await;
        let picked = match &main.outcome {
            crate::evidence::tls::HandshakeOutcome::Completed { alpn, .. } => alpn.as_deref(),
            crate::evidence::tls::HandshakeOutcome::Failed { .. } => None,
        };
        let alone: &[&[&str]] = match picked {
            Some("h2") => &[&["http/1.1"]],
            Some("http/1.1") => &[],
            _ => &[&["h2"], &["http/1.1"]],
        };
        let mut records = vec![main];
        records.extend(join_all(alone.iter().map(|alpn| self.handshake(alpn))).await);
        records
    }

    /// One rustls handshake offering `alpn`, under the connection cap and the deadline.
    async fn handshake(&self, alpn: &[&str]) -> HandshakeRecord {
        let Ok(_permit) = self.permits.acquire().await else {
            return HandshakeRecord {
                alpn_offered: alpn.iter().map(|s| (*s).to_string()).collect(),
                outcome: crate::evidence::tls::HandshakeOutcome::Failed {
                    error: ProbeError::new(FailureKind::Other, "no connection slot"),
                },
            };
        };
        let deadline = self
            .deadline
            .min(Instant::now() + self.limits.exchange_timeout);
        handshake::handshake_via(
            self.addr,
            self.starttls,
            &self.server_name,
            self.trust,
            alpn,
            deadline,
        )
        .await
    }
}

/// The attempt record of `spec` answered by `reply`, checked against what was offered.
fn recorded(purpose: &str, spec: &ClientHelloSpec, reply: TlsReply) -> TlsAttempt {
    TlsAttempt {
        purpose: purpose.to_string(),
        protocol: spec.protocol,
        offered_suites: spec.suites.iter().map(|s| u32::from(*s)).collect(),
        offered_groups: spec.groups.clone(),
        fallback_scsv: spec.fallback_scsv,
        compression: spec
            .compression
            .iter()
            .copied()
            .filter(|m| *m != 0)
            .collect(),
        reply: offer::check(reply, spec),
    }
}

/// The server name sent as SNI (none for IP literals).
fn hello_sni(name: &str) -> Option<String> {
    name.parse::<std::net::IpAddr>()
        .is_err()
        .then(|| name.to_string())
}

/// The suites of `suites` with static RSA key exchange (EXPORT suites left out: they use a
/// temporary key from ServerKeyExchange).
fn rsa_key_exchange(suites: &[u16]) -> Vec<u16> {
    suites
        .iter()
        .copied()
        .filter(|s| {
            kx_of(*s) == Some(tls_parser::TlsCipherKx::Rsa)
                && !tls_registry::suite_name(*s).contains("EXPORT")
        })
        .collect()
}

/// The key-exchange family of a suite.
pub fn kx_of(suite: u16) -> Option<tls_parser::TlsCipherKx> {
    tls_parser::TlsCipherSuite::from_id(suite).map(|s| s.kx)
}
