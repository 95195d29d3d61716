//! TLS facts: which versions, suites and groups the endpoint accepted, and its protections,
//! derived from the raw hello/reply pairs in evidence.
//!
//! Accepted means the server answered with a ServerHello of exactly that version (or, for TLS 1.3,
//! a HelloRetryRequest); an alert, a lower version or a closed connection means refused; a
//! timeout, a failed connection or a reply that is not TLS leaves the fact unobserved, with the
//! reason.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ciphers::{Strength, SuiteFacts};
use crate::evidence::tls::{
    HandshakeOutcome, TlsAttempt, TlsEvidence, TlsReply, server_preference,
};
use crate::tls_registry::{Protocol, alert_name, group_name};

/// The TLS scan's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TlsFacts {
    /// The endpoint scanned (`IP:PORT`).
    pub endpoint: String,
    /// Protocol versions accepted (absent when it could not be decided; see `protocols_errors`).
    pub protocols: ProtocolFacts,
    /// Why a version could not be decided, by version key.
    pub protocols_errors: BTreeMap<String, String>,
    /// The newest version accepted: `ssl2` … `tls1_3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highest_protocol: Option<String>,
    /// The oldest version accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lowest_protocol: Option<String>,
    /// How many versions are accepted (absent when any could not be decided).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_count: Option<u32>,
    /// Accepted suites per version, in the order the server picked them.
    pub suites: SuiteLists,
    /// Every accepted suite of every version (absent when any enumeration was incomplete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_suites: Option<Vec<SuiteFacts>>,
    /// Number of accepted suites classified insecure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_suite_count: Option<u32>,
    /// Number of accepted suites classified weak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weak_suite_count: Option<u32>,
    /// The server picks by its own preference for TLS ≤ 1.2 (newest such version with two or more suites).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_preference: Option<bool>,
    /// The server picks by its own preference for TLS 1.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_preference_tls1_3: Option<bool>,
    /// Key-exchange groups accepted.
    pub groups: GroupFacts,
    /// Smallest DHE prime offered, in bits (absent when no DHE suite is accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhe_prime_bits: Option<u32>,
    /// Downgrade and legacy protections.
    pub protections: ProtectionFacts,
    /// ALPN protocols the server agrees to.
    pub alpn: AlpnFacts,
    /// What a full rustls handshake negotiated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake: Option<HandshakeFacts>,
    /// Verdicts on named TLS vulnerabilities (Heartbleed, ROBOT, POODLE, …).
    #[serde(default)]
    pub vulnerabilities: super::vulns::VulnerabilityFacts,
}

/// One value per protocol version (absent when not observed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PerProtocol<T> {
    /// SSL 2.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl2: Option<T>,
    /// SSL 3.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl3: Option<T>,
    /// TLS 1.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls1_0: Option<T>,
    /// TLS 1.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls1_1: Option<T>,
    /// TLS 1.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls1_2: Option<T>,
    /// TLS 1.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls1_3: Option<T>,
}

impl<T> Default for PerProtocol<T> {
    fn default() -> Self {
        Self {
            ssl2: None,
            ssl3: None,
            tls1_0: None,
            tls1_1: None,
            tls1_2: None,
            tls1_3: None,
        }
    }
}

impl<T> PerProtocol<T> {
    /// The value for `protocol`.
    pub fn slot(&mut self, protocol: Protocol) -> &mut Option<T> {
        match protocol {
            Protocol::Ssl2 => &mut self.ssl2,
            Protocol::Ssl3 => &mut self.ssl3,
            Protocol::Tls1_0 => &mut self.tls1_0,
            Protocol::Tls1_1 => &mut self.tls1_1,
            Protocol::Tls1_2 => &mut self.tls1_2,
            Protocol::Tls1_3 => &mut self.tls1_3,
        }
    }
}

/// Per-version acceptance: `true` accepted, `false` refused.
pub type ProtocolFacts = PerProtocol<bool>;

/// Accepted suites per version (empty when the version is refused).
pub type SuiteLists = PerProtocol<Vec<SuiteFacts>>;

/// Key-exchange groups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GroupFacts {
    /// ECDHE curves accepted with TLS ≤ 1.2 (absent when no ECDHE suite is accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls1_2: Option<Vec<String>>,
    /// Groups accepted with TLS 1.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls1_3: Option<Vec<String>>,
    /// A post-quantum hybrid group (ML-KEM) is accepted with TLS 1.3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_quantum: Option<bool>,
}

/// Protections against downgrade and legacy attacks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProtectionFacts {
    /// TLS_FALLBACK_SCSV is honoured (inappropriate_fallback); absent with only one version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_scsv: Option<bool>,
    /// Secure renegotiation (RFC 5746) is signalled; true for TLS 1.3-only servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure_renegotiation: Option<bool>,
    /// A TLS 1.3 server marks a TLS 1.2 (or older) ServerHello with the RFC 8446 downgrade
    /// sentinel, so TLS 1.3 clients detect a forced downgrade; absent when TLS 1.3 is not accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downgrade_sentinel: Option<bool>,
    /// TLS compression (CRIME) is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<bool>,
    /// Extended master secret (RFC 7627) is used; true for TLS 1.3-only servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_master_secret: Option<bool>,
    /// An OCSP response is stapled to the handshake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_stapling: Option<bool>,
}

/// ALPN support.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AlpnFacts {
    /// HTTP/2 (`h2`) is agreed when offered alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h2: Option<bool>,
    /// HTTP/1.1 is agreed when offered alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http1_1: Option<bool>,
}

/// The full handshake's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HandshakeFacts {
    /// Negotiated version, e.g. `TLSv1_3`.
    pub version: String,
    /// Negotiated suite.
    pub suite: String,
    /// Key-exchange group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// ALPN protocol agreed when offering h2 and http/1.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
}

/// Facts plus the unobserved paths with their reasons.
pub struct Derived {
    /// The facts.
    pub facts: TlsFacts,
    /// `(path, reason)` for every fact that could not be observed.
    pub unobserved: Vec<(String, String)>,
}

/// Why a reply leaves a version undecided, or `None` if it decides it.
fn undecided(reply: &TlsReply) -> Option<String> {
    match reply {
        TlsReply::Timeout => Some("timeout: no reply".to_string()),
        TlsReply::ConnectFailed { error } => Some(error.to_string()),
        TlsReply::NotTls { first_bytes } => Some(format!("malformed: not TLS: {first_bytes}")),
        TlsReply::Malformed { reason } => Some(format!("malformed: {reason}")),
        _ => None,
    }
}

fn describe(reply: &TlsReply) -> String {
    match reply {
        TlsReply::Alert { description, .. } => format!("alert {}", alert_name(*description)),
        other => undecided(other).unwrap_or_else(|| "refused".to_string()),
    }
}

impl TlsFacts {
    /// Derives TLS facts from the scan's evidence.
    pub fn derive(evidence: &TlsEvidence) -> Derived {
        let mut unobserved = Vec::new();
        let mut facts = TlsFacts {
            endpoint: evidence.endpoint.clone(),
            protocols: ProtocolFacts::default(),
            protocols_errors: BTreeMap::new(),
            highest_protocol: None,
            lowest_protocol: None,
            protocol_count: None,
            suites: SuiteLists::default(),
            accepted_suites: None,
            insecure_suite_count: None,
            weak_suite_count: None,
            server_preference: None,
            server_preference_tls1_3: None,
            groups: GroupFacts::default(),
            dhe_prime_bits: None,
            protections: ProtectionFacts::default(),
            alpn: AlpnFacts::default(),
            handshake: None,
            vulnerabilities: super::vulns::VulnerabilityFacts::default(),
        };
        if let Some(error) = &evidence.error {
            unobserved.push(("tls".to_string(), format!("TLS not scanned: {error}")));
            return Derived { facts, unobserved };
        }
        let by_purpose = |purpose: &'static str| {
            evidence
                .attempts
                .iter()
                .filter(move |a| a.purpose == purpose)
        };
        let mut accepted = Vec::new();
        for attempt in by_purpose("protocol") {
            let key = attempt.protocol.key();
            let decided = if attempt.reply.accepts(attempt.protocol) {
                accepted.push(attempt.protocol);
                Some(true)
            } else if let Some(reason) = undecided(&attempt.reply) {
                facts
                    .protocols_errors
                    .insert(key.to_string(), reason.clone());
                unobserved.push((format!("tls.protocols.{key}"), reason));
                None
            } else {
                Some(false)
            };
            *facts.protocols.slot(attempt.protocol) = decided;
        }
        accepted.sort();
        facts.highest_protocol = accepted.last().map(|p| p.key().to_string());
        facts.lowest_protocol = accepted.first().map(|p| p.key().to_string());
        if facts.protocols_errors.is_empty() {
            facts.protocol_count = Some(u32::try_from(accepted.len()).unwrap_or(u32::MAX));
        } else {
            unobserved.push((
                "tls.protocol_count".to_string(),
                "some protocol versions could not be decided".to_string(),
            ));
        }

        // Suites per version.
        let mut all_complete = true;
        let mut all_suites = Vec::new();
        for protocol in Protocol::ALL {
            let decided = *facts.protocols.slot(protocol);
            let list = match decided {
                Some(false) => Some(Vec::new()),
                None => None,
                Some(true) => suite_list(protocol, evidence),
            };
            if decided.is_some() && list.is_none() {
                unobserved.push((
                    format!("tls.suites.{}", protocol.key()),
                    "the suite enumeration was cut short by a timeout or a broken reply"
                        .to_string(),
                ));
            }
            all_complete &= list.is_some();
            if let Some(list) = &list {
                all_suites.extend(list.iter().cloned());
            }
            *facts.suites.slot(protocol) = list;
        }
        if all_complete {
            let count = |strength| {
                u32::try_from(all_suites.iter().filter(|s| s.strength == strength).count())
                    .unwrap_or(u32::MAX)
            };
            facts.insecure_suite_count = Some(count(Strength::Insecure));
            facts.weak_suite_count = Some(count(Strength::Weak));
            facts.accepted_suites = Some(all_suites);
        } else {
            // The counts are over the same unknown list: absent would read as "none".
            for path in [
                "tls.accepted_suites",
                "tls.insecure_suite_count",
                "tls.weak_suite_count",
            ] {
                unobserved.push((
                    path.to_string(),
                    "some protocol versions or suite lists could not be decided".to_string(),
                ));
            }
        }

        // Server preference, from every hello of the best TLS <= 1.2 version and of TLS 1.3:
        // the enumeration, and the hellos that offer its first two picks swapped (a pair of
        // `preference` hellos in older evidence).
        let legacy_top = accepted
            .iter()
            .rev()
            .copied()
            .find(|p| *p != Protocol::Tls1_3);
        facts.server_preference =
            legacy_top.and_then(|protocol| server_preference(protocol, &evidence.attempts));
        facts.server_preference_tls1_3 = accepted
            .contains(&Protocol::Tls1_3)
            .then(|| server_preference(Protocol::Tls1_3, &evidence.attempts))
            .flatten();

        // Groups.
        let mut groups13 = Vec::new();
        let mut groups12 = Vec::new();
        let mut groups13_known = true;
        let mut groups12_seen = false;
        // One hello per group, or hellos offering the groups not yet picked, one fewer each
        // time: either way every group picked from an offer is supported.
        for attempt in by_purpose("group") {
            let picked = attempt.selected_group();
            if attempt.protocol == Protocol::Tls1_3 {
                match picked {
                    Some(group) => groups13.push(group),
                    None if undecided(&attempt.reply).is_some() => groups13_known = false,
                    None => {}
                }
            } else {
                groups12_seen = true;
                match (&attempt.reply, picked, attempt.offered_groups.as_slice()) {
                    (_, Some(group), _) => groups12.push(group),
                    // A lone offered curve taken without a readable ServerKeyExchange.
                    (TlsReply::ServerHello(info), None, [only]) if info.key_exchange.is_none() => {
                        groups12.push(*only)
                    }
                    _ => {}
                }
            }
        }
        groups13.sort_unstable();
        groups13.dedup();
        groups12.sort_unstable();
        groups12.dedup();
        if accepted.contains(&Protocol::Tls1_3) && groups13_known {
            facts.groups.post_quantum = Some(groups13.iter().any(|g| matches!(g, 0x11eb..=0x11ed)));
            facts.groups.tls1_3 = Some(groups13.iter().map(|g| group_name(*g)).collect());
        }
        if groups12_seen {
            facts.groups.tls1_2 = Some(groups12.iter().map(|g| group_name(*g)).collect());
        }

        facts.dhe_prime_bits = evidence.smallest_dhe_prime().map(|(bits, _)| bits);

        derive_protections(&mut facts, evidence, &accepted, &mut unobserved);
        if !facts.protocols_errors.is_empty() {
            // Read from the best TLS <= 1.2 ServerHello: unknown while a version is undecided.
            let protections = &facts.protections;
            for (name, value) in [
                ("secure_renegotiation", protections.secure_renegotiation),
                ("extended_master_secret", protections.extended_master_secret),
                ("compression", protections.compression),
            ] {
                if value.is_none() {
                    unobserved.push((
                        format!("tls.protections.{name}"),
                        "some protocol versions could not be decided".to_string(),
                    ));
                }
            }
        }
        facts.vulnerabilities = super::vulns::VulnerabilityFacts::derive(&facts, evidence);
        for (name, verdict) in facts.vulnerabilities.named() {
            if let Some(verdict) = verdict.filter(|v| v.vulnerable.is_none()) {
                unobserved.push((
                    format!("tls.vulnerabilities.{name}.vulnerable"),
                    verdict.reason.clone(),
                ));
            }
        }
        Derived { facts, unobserved }
    }
}

/// The suites accepted for `protocol`, in discovery order; `None` if enumeration was cut short.
fn suite_list(protocol: Protocol, evidence: &TlsEvidence) -> Option<Vec<SuiteFacts>> {
    let attempts: Vec<&TlsAttempt> = evidence
        .attempts
        .iter()
        .filter(|a| a.protocol == protocol && matches!(a.purpose.as_str(), "protocol" | "suites"))
        .collect();
    if protocol == Protocol::Ssl2 {
        return attempts.iter().find_map(|a| match &a.reply {
            TlsReply::Ssl2ServerHello { ciphers } => Some(
                ciphers
                    .iter()
                    .map(|c| SuiteFacts::classify_ssl2(*c))
                    .collect(),
            ),
            _ => None,
        });
    }
    let last = attempts.last()?;
    // Complete when the last offer was refused (or nothing was left to offer).
    let offered_everything_chosen = last
        .reply
        .accepted_suite(protocol)
        .is_some_and(|s| last.offered_suites.len() == 1 && last.offered_suites[0] == u32::from(s));
    if undecided(&last.reply).is_some() && !offered_everything_chosen {
        return None;
    }
    let mut seen = Vec::new();
    for attempt in attempts {
        if let Some(suite) = attempt.reply.accepted_suite(protocol)
            && !seen.contains(&suite)
        {
            seen.push(suite);
        }
    }
    Some(
        seen.into_iter()
            .map(|id| SuiteFacts::classify(id, protocol))
            .collect(),
    )
}

fn derive_protections(
    facts: &mut TlsFacts,
    evidence: &TlsEvidence,
    accepted: &[Protocol],
    unobserved: &mut Vec<(String, String)>,
) {
    let legacy_top = accepted
        .iter()
        .rev()
        .find(|p| **p >= Protocol::Ssl3 && **p <= Protocol::Tls1_2);
    let only_tls13 = legacy_top.is_none() && accepted.contains(&Protocol::Tls1_3);
    let top_hello = legacy_top.and_then(|protocol| {
        evidence.attempts.iter().find_map(|a| match &a.reply {
            TlsReply::ServerHello(info) if a.purpose == "protocol" && a.protocol == *protocol => {
                Some(info)
            }
            _ => None,
        })
    });
    let protections = &mut facts.protections;
    if only_tls13 {
        // TLS 1.3 has no renegotiation and no compression, and its key schedule binds the transcript.
        protections.secure_renegotiation = Some(true);
        protections.extended_master_secret = Some(true);
        protections.compression = Some(false);
    } else if let Some(hello) = top_hello {
        protections.secure_renegotiation = Some(hello.has_extension(0xff01));
        protections.extended_master_secret = Some(hello.has_extension(23));
        if accepted.contains(&Protocol::Tls1_3) {
            protections.downgrade_sentinel = Some(hello.downgrade_sentinel.is_some());
        }
    }
    if let Some(attempt) = evidence
        .attempts
        .iter()
        .find(|a| a.purpose == "compression")
    {
        protections.compression = match &attempt.reply {
            TlsReply::ServerHello(info) => Some(info.compression != 0),
            reply if undecided(reply).is_none() => Some(false),
            _ => None,
        };
    }
    match evidence
        .attempts
        .iter()
        .find(|a| a.purpose == "fallback_scsv")
    {
        Some(attempt) => match &attempt.reply {
            TlsReply::Alert {
                description: 86, ..
            } => protections.fallback_scsv = Some(true),
            TlsReply::ServerHello(_) => protections.fallback_scsv = Some(false),
            other => unobserved.push((
                "tls.protections.fallback_scsv".to_string(),
                format!("the fallback probe got {}", describe(other)),
            )),
        },
        None => unobserved.push((
            "tls.protections.fallback_scsv".to_string(),
            "fewer than two TLS versions are accepted, so there is nothing to fall back to"
                .to_string(),
        )),
    }
    let mut handshakes = evidence.handshakes.iter();
    if let Some(main) = handshakes.next() {
        match &main.outcome {
            HandshakeOutcome::Completed {
                version,
                suite,
                group,
                alpn,
                ocsp_response_len,
                ..
            } => {
                protections.ocsp_stapling = Some(*ocsp_response_len > 0);
                // The main handshake offers h2 first, then http/1.1: h2 picked is h2 spoken;
                // http/1.1 picked is http/1.1 spoken and h2 declined (no hello asks for either
                // alone then).
                match alpn.as_deref() {
                    Some("h2") => facts.alpn.h2 = Some(true),
                    Some("http/1.1") => {
                        facts.alpn.h2 = Some(false);
                        facts.alpn.http1_1 = Some(true);
                    }
                    _ => {}
                }
                facts.handshake = Some(HandshakeFacts {
                    version: version.clone(),
                    suite: suite.clone(),
                    group: group.clone(),
                    alpn: alpn.clone(),
                });
            }
            HandshakeOutcome::Failed { error } => {
                unobserved.push((
                    "tls.handshake".to_string(),
                    format!("handshake failed: {error}"),
                ));
                unobserved.push((
                    "tls.protections.ocsp_stapling".to_string(),
                    format!("handshake failed: {error}"),
                ));
            }
        }
    }
    for record in handshakes {
        let offered = record.alpn_offered.first().map(String::as_str);
        let agreed = match &record.outcome {
            HandshakeOutcome::Completed { alpn, .. } => Some(alpn.as_deref() == offered),
            HandshakeOutcome::Failed { error }
                if error.message.contains("NoApplicationProtocol") =>
            {
                Some(false)
            }
            HandshakeOutcome::Failed { .. } => None,
        };
        match offered {
            Some("h2") => facts.alpn.h2 = agreed,
            Some("http/1.1") => facts.alpn.http1_1 = agreed,
            _ => {}
        }
    }
}
