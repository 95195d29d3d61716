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

use crate::evidence::tls::{HandshakeRecord, TlsAttempt, TlsEvidence, TlsReply};
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
        }
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
        let protocol_attempts = join_all(
            Protocol::ALL
                .into_iter()
                .map(|protocol| self.protocol_attempt(protocol)),
        )
        .await;
        let accepted: Vec<Protocol> = protocol_attempts
            .iter()
            .filter(|a| a.reply.accepts(a.protocol))
            .map(|a| a.protocol)
            .collect();
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
        let legacy_top = [
            Protocol::Tls1_2,
            Protocol::Tls1_1,
            Protocol::Tls1_0,
            Protocol::Ssl3,
        ]
        .into_iter()
        .find(|p| accepted.contains(p));
        // 3. Everything else, concurrently.
        let preference = async {
            let mut found = Vec::new();
            for protocol in [
                legacy_top,
                accepted
                    .contains(&Protocol::Tls1_3)
                    .then_some(Protocol::Tls1_3),
            ]
            .into_iter()
            .flatten()
            {
                let suites = suites_of(protocol);
                if let [first, second, ..] = suites.as_slice() {
                    for order in [vec![*first, *second], vec![*second, *first]] {
                        let spec =
                            ClientHelloSpec::new(protocol, order, Some(self.server_name.clone()));
                        found.push(self.attempt("preference", spec, Want::default()).await);
                    }
                }
            }
            found
        };
        let groups13 = async {
            if !accepted.contains(&Protocol::Tls1_3) {
                return Vec::new();
            }
            join_all(tls_registry::tls13_groups().map(|group| {
                let mut spec = ClientHelloSpec::new(
                    Protocol::Tls1_3,
                    tls_registry::TLS13_SUITES.to_vec(),
                    Some(self.server_name.clone()),
                );
                // No key share: a server that supports the group must ask for one with a
                // HelloRetryRequest naming it (RFC 8446 section 4.1.1).
                spec.groups = vec![group];
                spec.key_shares = Vec::new();
                self.attempt("group", spec, Want::default())
            }))
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
            join_all(tls_registry::tls12_groups().map(|group| {
                let mut spec = ClientHelloSpec::new(
                    protocol,
                    ecdhe_suites.clone(),
                    Some(self.server_name.clone()),
                );
                spec.groups = vec![group];
                self.attempt(
                    "group",
                    spec,
                    Want {
                        key_exchange: true,
                        ..Want::default()
                    },
                )
            }))
            .await
        };
        let dhe = async {
            let protocol = legacy_top?;
            let dhe_suites: Vec<u16> = suites_of(protocol)
                .into_iter()
                .filter(|s| kx_of(*s) == Some(tls_parser::TlsCipherKx::Dhe))
                .collect();
            if dhe_suites.is_empty() {
                return None;
            }
            let spec = ClientHelloSpec::new(protocol, dhe_suites, Some(self.server_name.clone()));
            Some(
                self.attempt(
                    "dhe",
                    spec,
                    Want {
                        key_exchange: true,
                        ..Want::default()
                    },
                )
                .await,
            )
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
            let mut spec = ClientHelloSpec::new(
                protocol,
                tls_registry::suites_for(protocol),
                Some(self.server_name.clone()),
            );
            spec.compression = vec![1];
            Some(self.attempt("compression", spec, Want::default()).await)
        };
        let certificate = async {
            // The chain, OCSP staple and SCT extension of the Certificate message as served
            // in the clear (TLS 1.3 encrypts it; the rustls handshake covers that case).
            let protocol = legacy_top?;
            let spec = ClientHelloSpec::new(
                protocol,
                tls_registry::suites_for(protocol),
                Some(self.server_name.clone()),
            );
            let want = Want {
                certificates: true,
                ..Want::default()
            };
            Some(self.attempt("certificate", spec, want).await)
        };
        let handshakes = self.handshakes(&accepted);
        // 4. Active vulnerability probes, only where they can apply.
        let tls_top = [Protocol::Tls1_2, Protocol::Tls1_1, Protocol::Tls1_0]
            .into_iter()
            .find(|p| accepted.contains(p));
        let heartbleed = async { Some(self.heartbleed(tls_top?).await) };
        let ccs_injection = async { Some(self.ccs_injection(legacy_top?).await) };
        let robot = async {
            let (protocol, suites) = [Protocol::Tls1_2, Protocol::Tls1_1, Protocol::Tls1_0]
                .into_iter()
                .filter(|p| accepted.contains(p))
                .map(|p| (p, rsa_key_exchange(&suites_of(p))))
                .find(|(_, suites)| !suites.is_empty())?;
            Some(self.robot(protocol, suites).await)
        };
        // The TLS 1.2 client of these two speaks TLS 1.2 only.
        let tls1_2 = accepted.contains(&Protocol::Tls1_2).then_some(());
        let ticketbleed = async {
            tls1_2?;
            Some(self.ticketbleed().await)
        };
        let client_renegotiation = async {
            tls1_2?;
            Some(self.client_renegotiation().await)
        };
        let (
            (preference, groups13, groups12, dhe, fallback, compression, certificate, handshakes),
            (heartbleed, ccs_injection, robot, ticketbleed, client_renegotiation),
        ) = tokio::join!(
            async {
                tokio::join!(
                    preference,
                    groups13,
                    groups12,
                    dhe,
                    fallback,
                    compression,
                    certificate,
                    handshakes
                )
            },
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
        let certificate_check = certificate.as_ref().and_then(|attempt| {
            let TlsReply::ServerHello(info) = &attempt.reply else {
                return None;
            };
            let chain: Vec<Vec<u8>> = info
                .certificates
                .iter()
                .filter_map(|b64| crate::evidence::decode_bytes(b64))
                .collect();
            (!chain.is_empty()).then(|| self.trust.check_chain(&chain, &self.server_name))
        });
        attempts.extend(protocol_attempts);
        attempts.extend(enumerations.into_iter().flatten());
        attempts.extend(preference);
        attempts.extend(groups13);
        attempts.extend(groups12);
        attempts.extend(dhe);
        attempts.extend(fallback);
        attempts.extend(compression);
        attempts.extend(certificate);
        TlsEvidence {
            endpoint: self.addr.to_string(),
            sni: hello_sni(&self.server_name),
            error: None,
            attempts,
            handshakes,
            certificate_check,
            vulnerabilities: crate::evidence::vuln::VulnProbes {
                heartbleed,
                ccs_injection,
                robot,
                ticketbleed,
                client_renegotiation,
            },
        }
    }

    async fn protocol_attempt(&self, protocol: Protocol) -> TlsAttempt {
        if protocol == Protocol::Ssl2 {
            let ciphers: Vec<u32> = SSL2_CIPHERS.iter().map(|(id, _)| *id).collect();
            let reply = self
                .send(&hello::sslv2_client_hello(&ciphers), Want::default())
                .await;
            return TlsAttempt {
                purpose: "protocol".into(),
                protocol,
                offered_suites: ciphers,
                offered_groups: Vec::new(),
                fallback_scsv: false,
                compression: Vec::new(),
                reply,
            };
        }
        let spec = ClientHelloSpec::new(
            protocol,
            tls_registry::suites_for(protocol),
            Some(self.server_name.clone()),
        );
        self.attempt("protocol", spec, Want::default()).await
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
            let attempt = self.attempt("suites", spec, Want::default()).await;
            chosen = attempt.reply.accepted_suite(protocol);
            attempts.push(attempt);
        }
        attempts
    }

    async fn attempt(&self, purpose: &str, spec: ClientHelloSpec, want: Want) -> TlsAttempt {
        let reply = offer::check(self.send(&spec.to_record(), want).await, &spec);
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
            reply,
        }
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

    /// The main handshake (ALPN h2 and http/1.1), then one per ALPN protocol alone; through
    /// STARTTLS, one handshake without ALPN (mail and file transfer do not negotiate it).
    async fn handshakes(&self, accepted: &[Protocol]) -> Vec<HandshakeRecord> {
        if !accepted.iter().any(|p| *p >= Protocol::Tls1_2) {
            return Vec::new();
        }
        let offers: &[&[&str]] = if self.starttls.is_some() {
            &[&[]]
        } else {
            &[&["h2", "http/1.1"], &["h2"], &["http/1.1"]]
        };
        join_all(offers.iter().map(|alpn| async move {
            let Ok(_permit) = self.permits.acquire().await else {
                return HandshakeRecord {
                    alpn_offered: alpn.iter().map(|s| (*s).to_string()).collect(),
                    outcome: crate::evidence::tls::HandshakeOutcome::Failed {
                        error: crate::evidence::ProbeError::new(
                            crate::evidence::FailureKind::Other,
                            "no connection slot",
                        ),
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
        }))
        .await
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
