//! TLS observations: each hand-built ClientHello with the server's first reply, and the full
//! rustls handshakes. Raw: the facts layer decides what "accepted" means.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ProbeError;
use crate::tls_registry::Protocol;

/// Everything the TLS probe observed on one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsEvidence {
    /// The address scanned (`IP:PORT`).
    pub endpoint: String,
    /// The server name sent (absent for IP literals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// Why no scan was possible at all (no address), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProbeError>,
    /// Every raw ClientHello sent and the reply it got, in a stable order.
    pub attempts: Vec<TlsAttempt>,
    /// Full handshakes made with rustls.
    pub handshakes: Vec<HandshakeRecord>,
    /// The chain of the `certificate` attempt (a TLS ≤ 1.2 Certificate message, read raw)
    /// validated against the trust anchors when the probe ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_check: Option<ChainCheck>,
    /// The active vulnerability probes (Heartbleed, CCS injection, ROBOT).
    #[serde(default, skip_serializing_if = "super::vuln::VulnProbes::is_empty")]
    pub vulnerabilities: super::vuln::VulnProbes,
}

/// The verdict of validating a served chain against the trust anchors for the host name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChainCheck {
    /// Why the chain did not validate (absent: it did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The validator's error class: `expired`, `not_valid_yet`, `not_valid_for_name`,
    /// `unknown_issuer`, `bad_signature`, `revoked` or `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

/// One ClientHello and the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsAttempt {
    /// Why it was sent: `protocol`, `suites`, `preference`, `group`, `dhe`, `fallback_scsv`,
    /// `compression`.
    pub purpose: String,
    /// The version offered.
    #[schemars(with = "String")]
    pub protocol: Protocol,
    /// Cipher suites offered, in order (SSLv2 cipher kinds for SSLv2).
    pub offered_suites: Vec<u32>,
    /// Groups offered in supported_groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offered_groups: Vec<u16>,
    /// `TLS_FALLBACK_SCSV` was appended.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fallback_scsv: bool,
    /// Compression methods offered besides null.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compression: Vec<u8>,
    /// The server's first reply.
    pub reply: TlsReply,
}

/// What the server answered to a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TlsReply {
    /// A ServerHello (and, when asked for, what followed it up to ServerHelloDone).
    ServerHello(ServerHelloInfo),
    /// A TLS 1.3 HelloRetryRequest.
    HelloRetryRequest {
        /// Suite chosen.
        suite: u16,
        /// Group the server asks a key share for.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        selected_group: Option<u16>,
    },
    /// An alert record.
    Alert {
        /// 1 warning, 2 fatal.
        level: u8,
        /// Alert description number.
        description: u8,
        /// Its name.
        name: String,
    },
    /// An SSLv2 SERVER-HELLO.
    Ssl2ServerHello {
        /// Cipher kinds the server listed.
        ciphers: Vec<u32>,
    },
    /// An SSLv2 ERROR message.
    Ssl2Error {
        /// Error code.
        code: u16,
    },
    /// The connection was closed without a reply.
    Closed,
    /// The connection was reset.
    Reset,
    /// No reply in time.
    Timeout,
    /// The TCP connection could not be made.
    ConnectFailed {
        /// Why.
        error: ProbeError,
    },
    /// Something that is not TLS answered (e.g. HTTP on a TLS port).
    NotTls {
        /// The first bytes, printable ASCII kept, others as `\xNN`.
        first_bytes: String,
    },
    /// TLS-looking bytes that do not parse.
    Malformed {
        /// What was wrong.
        reason: String,
    },
}

impl TlsReply {
    /// Whether this reply shows the server speaking `protocol`: a ServerHello of exactly that
    /// version, a TLS 1.3 HelloRetryRequest, or an SSLv2 SERVER-HELLO listing ciphers.
    pub fn accepts(&self, protocol: Protocol) -> bool {
        match (protocol, self) {
            (Protocol::Ssl2, Self::Ssl2ServerHello { ciphers }) => !ciphers.is_empty(),
            (Protocol::Tls1_3, Self::HelloRetryRequest { .. }) => true,
            (_, Self::ServerHello(info)) => info.negotiated() == protocol.code(),
            _ => false,
        }
    }

    /// The suite chosen, if the server answered with `protocol`.
    pub fn accepted_suite(&self, protocol: Protocol) -> Option<u16> {
        match self {
            Self::ServerHello(info) if info.negotiated() == protocol.code() => Some(info.suite),
            Self::HelloRetryRequest { suite, .. } if protocol == Protocol::Tls1_3 => Some(*suite),
            _ => None,
        }
    }
}

impl TlsAttempt {
    /// The key-exchange group the server picked from this hello's offer: named by a TLS 1.3
    /// HelloRetryRequest or key share, or by a TLS 1.2 ECDHE ServerKeyExchange.
    pub fn selected_group(&self) -> Option<u16> {
        let group = match &self.reply {
            TlsReply::HelloRetryRequest { selected_group, .. } => *selected_group,
            TlsReply::ServerHello(info) => info.key_share_group.or(match info.key_exchange {
                Some(KeyExchangeInfo::Ecdhe { group }) => Some(group),
                _ => None,
            }),
            _ => None,
        }?;
        self.offered_groups.contains(&group).then_some(group)
    }
}

impl TlsEvidence {
    /// The record of a scan that could not start: `endpoint` (`HOST:PORT`) did not resolve.
    pub fn unresolved(endpoint: String, error: ProbeError) -> Self {
        Self {
            endpoint,
            sni: None,
            error: Some(error),
            attempts: Vec::new(),
            handshakes: Vec::new(),
            certificate_check: None,
            vulnerabilities: Default::default(),
        }
    }

    /// The smallest DHE prime any hello read from a ServerKeyExchange (the enumeration's, or a
    /// `dhe` hello's in older evidence): its size in bits and, when recorded, its SHA-256.
    pub fn smallest_dhe_prime(&self) -> Option<(u32, Option<&str>)> {
        self.attempts
            .iter()
            .filter_map(|a| match &a.reply {
                TlsReply::ServerHello(info) => match &info.key_exchange {
                    Some(KeyExchangeInfo::Dhe {
                        prime_bits,
                        prime_sha256,
                    }) => Some((*prime_bits, prime_sha256.as_deref())),
                    _ => None,
                },
                _ => None,
            })
            .min_by_key(|(bits, _)| *bits)
    }

    /// The first ServerHello that carried a certificate chain read raw from a TLS ≤ 1.2
    /// Certificate message (a `certificate` attempt in older evidence, else the best
    /// version's `protocol` attempt).
    pub fn raw_chain(&self) -> Option<&ServerHelloInfo> {
        let (certificate, other): (Vec<&TlsAttempt>, Vec<&TlsAttempt>) = self
            .attempts
            .iter()
            .partition(|a| a.purpose == "certificate");
        certificate
            .into_iter()
            .chain(other)
            .find_map(|a| match &a.reply {
                TlsReply::ServerHello(info) if !info.certificates.is_empty() => Some(info),
                _ => None,
            })
    }
}

/// Whether the server picks suites in its own order, judged from every hello of one version
/// (`attempts`, all offering `protocol`): `Some(true)` when some hello got a suite while a suite
/// offered before it, which the server takes elsewhere, was passed over; `Some(false)` when two
/// hellos got opposite picks from the same two suites offered in opposite orders (no fixed
/// server order does that); `None` when neither shows, e.g. only hellos in one order.
pub fn server_preference<'a>(
    protocol: Protocol,
    attempts: impl IntoIterator<Item = &'a TlsAttempt>,
) -> Option<bool> {
    let picks: Vec<(&[u32], u32)> = attempts
        .into_iter()
        .filter(|a| a.protocol == protocol)
        .filter_map(|a| {
            let picked = a.reply.accepted_suite(protocol)?;
            Some((a.offered_suites.as_slice(), u32::from(picked)))
        })
        .collect();
    let taken: Vec<u32> = picks.iter().map(|(_, picked)| *picked).collect();
    let position = |offered: &[u32], suite: u32| offered.iter().position(|s| *s == suite);
    // A suite the server takes, offered before the one it picked: not the client's order.
    let passed_over = picks.iter().any(|(offered, picked)| {
        offered
            .iter()
            .take_while(|s| *s != picked)
            .any(|s| taken.contains(s))
    });
    if passed_over {
        return Some(true);
    }
    // Picked `x` over `y` in one order and `y` over `x` in the other: the client's order.
    let reversed = picks.iter().any(|(offered_a, x)| {
        picks.iter().any(|(offered_b, y)| {
            x != y
                && matches!(
                    (
                        position(offered_a, *x),
                        position(offered_a, *y),
                        position(offered_b, *x),
                        position(offered_b, *y),
                    ),
                    (Some(ax), Some(ay), Some(bx), Some(by)) if ax < ay && by < bx
                )
        })
    });
    reversed.then_some(false)
}

/// `suites` with the first two of `taken` moved to the front in swapped order: a hello that
/// also tells a server's own order from the client's (see [`server_preference`]).
pub fn swap_first_two(suites: &[u16], taken: &[u16]) -> Vec<u16> {
    let [first, second, ..] = taken else {
        return suites.to_vec();
    };
    let mut order = vec![*second, *first];
    order.extend(suites.iter().filter(|s| *s != first && *s != second));
    order
}

/// The parts of a ServerHello (and the first flight) the facts use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerHelloInfo {
    /// `server_version` (legacy_version for TLS 1.3).
    pub version: u16,
    /// `supported_versions` selection (TLS 1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_version: Option<u16>,
    /// Suite chosen.
    pub suite: u16,
    /// Compression method chosen.
    pub compression: u8,
    /// Extension numbers present, in order.
    pub extensions: Vec<u16>,
    /// TLS 1.3 key_share group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_share_group: Option<u16>,
    /// ALPN protocol selected (TLS ≤ 1.2; TLS 1.3 sends it encrypted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    /// The key exchange parameters from ServerKeyExchange, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_exchange: Option<KeyExchangeInfo>,
    /// Number of certificates in the Certificate message, when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_count: Option<u32>,
    /// The Certificate message's chain exactly as served, DER in base64, leaf first (kept for
    /// the `certificate` attempt only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<String>,
    /// The OCSP response of the CertificateStatus message, DER in base64 (`certificate`
    /// attempt only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_response: Option<String>,
    /// The `signed_certificate_timestamp` extension's SignedCertificateTimestampList (RFC 6962
    /// section 3.3), base64 (`certificate` attempt only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sct_list: Option<String>,
    /// The RFC 8446 downgrade sentinel at the end of the server random: 1 (`DOWNGRD\x01`, a
    /// TLS 1.3 server answering TLS 1.2) or 0 (`DOWNGRD\x00`, answering TLS 1.1 or older).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downgrade_sentinel: Option<u8>,
}

impl ServerHelloInfo {
    /// The negotiated version: `supported_versions` if present, else `server_version`.
    pub fn negotiated(&self) -> u16 {
        self.selected_version.unwrap_or(self.version)
    }

    /// Whether the extension `id` was in the ServerHello.
    pub fn has_extension(&self, id: u16) -> bool {
        self.extensions.contains(&id)
    }
}

/// Server key exchange parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum KeyExchangeInfo {
    /// ECDHE over a named group.
    Ecdhe {
        /// The group.
        group: u16,
    },
    /// Finite-field DHE.
    Dhe {
        /// Size of the prime in bits.
        prime_bits: u32,
        /// SHA-256 of the prime (big-endian, no leading zero byte), lower-case hex: enough to
        /// recognise a well-known prime (`facts::dh_primes`); absent in evidence saved before
        /// it was recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prime_sha256: Option<String>,
    },
}

/// The SHA-256 of a DH prime as [`KeyExchangeInfo::Dhe`] records it: over its big-endian bytes
/// without leading zero bytes, lower-case hex.
pub fn dh_prime_sha256(prime: &[u8]) -> String {
    let significant = prime
        .iter()
        .position(|b| *b != 0)
        .map_or(&[][..], |i| &prime[i..]);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, significant);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A full handshake made with rustls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandshakeRecord {
    /// ALPN protocols offered.
    pub alpn_offered: Vec<String>,
    /// What happened.
    pub outcome: HandshakeOutcome,
}

/// Result of a rustls handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum HandshakeOutcome {
    /// The handshake completed.
    Completed {
        /// Negotiated version, e.g. `TLSv1_3`.
        version: String,
        /// Negotiated suite name.
        suite: String,
        /// Key-exchange group, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<String>,
        /// ALPN protocol agreed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alpn: Option<String>,
        /// The certificate chain as served, DER in base64, leaf first.
        certificates: Vec<String>,
        /// Size of the stapled OCSP response (0 when none was stapled).
        ocsp_response_len: u64,
        /// The stapled OCSP response, DER in base64.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ocsp_response: Option<String>,
        /// Why the chain did not validate against the trust anchors (the handshake was then
        /// completed without validation to observe the rest).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate_error: Option<String>,
        /// The validator's error class: `expired`, `not_valid_yet`, `not_valid_for_name`,
        /// `unknown_issuer`, `bad_signature`, `revoked` or `other`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate_error_code: Option<String>,
    },
    /// The handshake failed.
    Failed {
        /// Why.
        error: ProbeError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS 1.2 hello offering `offered` that got `picked` (or an alert for `None`).
    fn hello(offered: &[u16], picked: Option<u16>) -> TlsAttempt {
        TlsAttempt {
            purpose: "suites".into(),
            protocol: Protocol::Tls1_2,
            offered_suites: offered.iter().map(|s| u32::from(*s)).collect(),
            offered_groups: Vec::new(),
            fallback_scsv: false,
            compression: Vec::new(),
            reply: match picked {
                Some(suite) => TlsReply::ServerHello(ServerHelloInfo {
                    version: 0x0303,
                    suite,
                    ..ServerHelloInfo::default()
                }),
                None => TlsReply::Alert {
                    level: 2,
                    description: 40,
                    name: "handshake_failure".into(),
                },
            },
        }
    }

    /// An enumeration of suites 1, 2, 3 (server takes 1 and 2) in our order, then the
    /// swapped hello (2, 1, 3), answered with `swapped_pick`.
    fn scan(first_picks: [u16; 2], swapped_pick: u16) -> Vec<TlsAttempt> {
        vec![
            hello(&[1, 2, 3], Some(first_picks[0])),
            hello(
                &[1, 2, 3]
                    .into_iter()
                    .filter(|s| *s != first_picks[0])
                    .collect::<Vec<_>>(),
                Some(first_picks[1]),
            ),
            hello(&[3], None),
            hello(&[2, 1, 3], Some(swapped_pick)),
        ]
    }

    #[test]
    fn a_client_order_server_follows_both_orders() {
        let attempts = scan([1, 2], 2);
        assert_eq!(server_preference(Protocol::Tls1_2, &attempts), Some(false));
    }

    #[test]
    fn a_server_order_matching_ours_shows_in_the_swapped_hello() {
        let attempts = scan([1, 2], 1);
        assert_eq!(server_preference(Protocol::Tls1_2, &attempts), Some(true));
    }

    #[test]
    fn a_server_order_unlike_ours_shows_in_the_enumeration_alone() {
        // Suite 2 taken although 1, which the server also takes, was offered first.
        let attempts = &scan([2, 1], 2)[..3];
        assert_eq!(server_preference(Protocol::Tls1_2, attempts), Some(true));
    }

    #[test]
    fn one_order_alone_or_one_suite_decides_nothing() {
        assert_eq!(
            server_preference(Protocol::Tls1_2, &scan([1, 2], 2)[..3]),
            None
        );
        let single = [hello(&[1, 2], Some(1)), hello(&[2], None)];
        assert_eq!(server_preference(Protocol::Tls1_2, &single), None);
        // Other versions' hellos do not count.
        assert_eq!(server_preference(Protocol::Tls1_3, &scan([1, 2], 2)), None);
    }

    #[test]
    fn swapping_puts_the_second_pick_first() {
        assert_eq!(swap_first_two(&[1, 2, 3, 4], &[3, 1]), vec![1, 3, 2, 4]);
        assert_eq!(swap_first_two(&[1, 2, 3], &[2]), vec![1, 2, 3]);
    }

    #[test]
    fn the_group_counts_only_when_it_was_offered() {
        let mut attempt = hello(&[0xc02f], Some(0xc02f));
        attempt.offered_groups = vec![23, 29];
        if let TlsReply::ServerHello(info) = &mut attempt.reply {
            info.key_exchange = Some(KeyExchangeInfo::Ecdhe { group: 29 });
        }
        assert_eq!(attempt.selected_group(), Some(29));
        attempt.offered_groups = vec![23];
        assert_eq!(attempt.selected_group(), None);
    }
}
