//! Hand-built ClientHello records: SSLv2 format, SSLv3, TLS 1.0–1.2, and TLS 1.3.
//!
//! No TLS library will offer SSLv2/SSLv3/TLS 1.0/1.1 or weak suites, so the probe writes the
//! bytes itself, as testssl.sh and sslyze do. Each builder is round-trip tested against
//! tls-parser.

use super::wire::Writer;
use crate::tls_registry::{FALLBACK_SCSV, Protocol};

/// Extension numbers used in ClientHellos.
mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const STATUS_REQUEST: u16 = 5;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const HEARTBEAT: u16 = 15;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const SCT: u16 = 18;
    pub const PADDING: u16 = 21;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const SESSION_TICKET: u16 = 35;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    pub const KEY_SHARE: u16 = 51;
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// Signature schemes offered (modern first, then the legacy SHA-1 ones old servers need).
const SIGNATURE_SCHEMES: [u16; 17] = [
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0401,
    0x0501, 0x0601, 0x0402, 0x0201, 0x0203,
];

/// What one ClientHello offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHelloSpec {
    /// The highest version offered (TLS 1.3 is offered through `supported_versions`).
    pub protocol: Protocol,
    /// Cipher suites, in preference order.
    pub suites: Vec<u16>,
    /// Append `TLS_FALLBACK_SCSV` (RFC 7507).
    pub fallback_scsv: bool,
    /// Compression methods (0 = null, 1 = DEFLATE); null is always appended last if absent.
    pub compression: Vec<u8>,
    /// Server name for SNI (not sent for IP literals).
    pub sni: Option<String>,
    /// supported_groups.
    pub groups: Vec<u16>,
    /// TLS 1.3 key shares: (group, public key bytes).
    pub key_shares: Vec<(u16, Vec<u8>)>,
    /// ALPN protocol names.
    pub alpn: Vec<String>,
    /// Client random.
    pub random: [u8; 32],
    /// Offer the heartbeat extension (RFC 6520, mode `peer_allowed_to_send`); only the
    /// Heartbleed probe does.
    pub heartbeat: bool,
    /// The legacy session id: 32 bytes for TLS 1.3 (middlebox compatibility), empty otherwise;
    /// the Ticketbleed probe sends a short one with its ticket.
    pub session_id: Vec<u8>,
    /// The session_ticket extension's body (RFC 5077): empty asks for a ticket, a ticket
    /// resumes.
    pub session_ticket: Vec<u8>,
    /// The renegotiation_info extension's `renegotiated_connection` (RFC 5746): empty on an
    /// initial handshake, the client's last Finished verify_data on a renegotiation.
    pub renegotiation_info: Vec<u8>,
}

impl ClientHelloSpec {
    /// A hello for `protocol` offering `suites`, with the extensions real servers expect.
    pub fn new(protocol: Protocol, suites: Vec<u16>, sni: Option<String>) -> Self {
        let groups: Vec<u16> = if protocol == Protocol::Tls1_3 {
            crate::tls_registry::tls13_groups().collect()
        } else {
            crate::tls_registry::tls12_groups().collect()
        };
        let key_shares = if protocol == Protocol::Tls1_3 {
            // Any 32 bytes are a valid X25519 public value; servers without X25519 answer with
            // a HelloRetryRequest naming a group from `groups`, which also proves TLS 1.3.
            vec![(0x001d, pseudo_random_bytes(32, 0x5ec))]
        } else {
            Vec::new()
        };
        let mut random = [0u8; 32];
        random.copy_from_slice(&pseudo_random_bytes(32, 0xa0d17));
        Self {
            protocol,
            suites,
            fallback_scsv: false,
            compression: vec![0],
            sni: sni.filter(|name| name.parse::<std::net::IpAddr>().is_err()),
            groups,
            key_shares,
            alpn: Vec::new(),
            random,
            heartbeat: false,
            session_id: if protocol == Protocol::Tls1_3 {
                vec![0x3c; 32]
            } else {
                Vec::new()
            },
            session_ticket: Vec::new(),
            renegotiation_info: Vec::new(),
        }
    }

    /// The complete record: header plus handshake message.
    pub fn to_record(&self) -> Vec<u8> {
        let handshake = self.handshake();
        let mut record = Writer::new();
        // Record-layer version: TLS 1.0 for every TLS hello (what browsers send, the most
        // tolerated by old servers); SSLv3 for an SSLv3 hello.
        let record_version = if self.protocol == Protocol::Ssl3 {
            0x0300
        } else {
            0x0301
        };
        record.u8(22).u16(record_version).prefixed_u16(|w| {
            w.bytes(&handshake);
        });
        record.into_bytes()
    }

    fn legacy_version(&self) -> u16 {
        match self.protocol {
            Protocol::Tls1_3 => Protocol::Tls1_2.code(),
            other => other.code(),
        }
    }

    /// The ClientHello handshake message (type, length, body).
    pub fn handshake(&self) -> Vec<u8> {
        let mut body = self.body(0);
        let len = body.len() + 4;
        // Some servers hang on hellos of 256–511 bytes (RFC 7685): pad past 512.
        if (256..512).contains(&len) && self.protocol != Protocol::Ssl3 {
            body = self.body(512 - len);
        }
        let mut w = Writer::new();
        w.u8(1).prefixed_u24(|w| {
            w.bytes(&body);
        });
        w.into_bytes()
    }

    fn body(&self, padding: usize) -> Vec<u8> {
        let mut w = Writer::new();
        w.u16(self.legacy_version()).bytes(&self.random);
        w.prefixed_u8(|w| {
            w.bytes(&self.session_id);
        });
        w.prefixed_u16(|w| {
            for suite in &self.suites {
                w.u16(*suite);
            }
            if self.fallback_scsv {
                w.u16(FALLBACK_SCSV);
            }
        });
        w.prefixed_u8(|w| {
            for method in &self.compression {
                w.u8(*method);
            }
            if !self.compression.contains(&0) {
                w.u8(0);
            }
        });
        if self.protocol != Protocol::Ssl3 {
            w.prefixed_u16(|w| self.extensions(w, padding));
        }
        w.into_bytes()
    }

    fn extensions(&self, w: &mut Writer, padding: usize) {
        let extension = |w: &mut Writer, id: u16, body: &dyn Fn(&mut Writer)| {
            w.u16(id).prefixed_u16(|w| body(w));
        };
        if let Some(name) = &self.sni {
            extension(w, ext::SERVER_NAME, &|w| {
                w.prefixed_u16(|w| {
                    w.u8(0).prefixed_u16(|w| {
                        w.bytes(name.as_bytes());
                    });
                });
            });
        }
        extension(w, ext::STATUS_REQUEST, &|w| {
            w.u8(1).u16(0).u16(0);
        });
        extension(w, ext::SUPPORTED_GROUPS, &|w| {
            w.prefixed_u16(|w| {
                for group in &self.groups {
                    w.u16(*group);
                }
            });
        });
        extension(w, ext::EC_POINT_FORMATS, &|w| {
            w.prefixed_u8(|w| {
                w.u8(0);
            });
        });
        extension(w, ext::SIGNATURE_ALGORITHMS, &|w| {
            w.prefixed_u16(|w| {
                for scheme in SIGNATURE_SCHEMES {
                    w.u16(scheme);
                }
            });
        });
        if !self.alpn.is_empty() {
            extension(w, ext::ALPN, &|w| {
                w.prefixed_u16(|w| {
                    for protocol in &self.alpn {
                        w.prefixed_u8(|w| {
                            w.bytes(protocol.as_bytes());
                        });
                    }
                });
            });
        }
        if self.heartbeat {
            extension(w, ext::HEARTBEAT, &|w| {
                w.u8(1);
            });
        }
        extension(w, ext::SCT, &|_| {});
        extension(w, ext::EXTENDED_MASTER_SECRET, &|_| {});
        extension(w, ext::SESSION_TICKET, &|w| {
            w.bytes(&self.session_ticket);
        });
        extension(w, ext::RENEGOTIATION_INFO, &|w| {
            w.prefixed_u8(|w| {
                w.bytes(&self.renegotiation_info);
            });
        });
        if self.protocol == Protocol::Tls1_3 {
            extension(w, ext::SUPPORTED_VERSIONS, &|w| {
                w.prefixed_u8(|w| {
                    w.u16(Protocol::Tls1_3.code());
                });
            });
            extension(w, ext::PSK_KEY_EXCHANGE_MODES, &|w| {
                w.prefixed_u8(|w| {
                    w.u8(1);
                });
            });
            extension(w, ext::KEY_SHARE, &|w| {
                w.prefixed_u16(|w| {
                    for (group, key) in &self.key_shares {
                        w.u16(*group).prefixed_u16(|w| {
                            w.bytes(key);
                        });
                    }
                });
            });
        }
        if padding >= 4 {
            extension(w, ext::PADDING, &|w| {
                w.bytes(&vec![0; padding - 4]);
            });
        }
    }
}

/// An SSLv2-format CLIENT-HELLO offering `ciphers` (three-byte SSLv2 cipher kinds).
pub fn sslv2_client_hello(ciphers: &[u32]) -> Vec<u8> {
    let challenge = pseudo_random_bytes(16, 0x55);
    let mut body = Writer::new();
    body.u8(1) // MSG-CLIENT-HELLO
        .u16(0x0002)
        .u16((ciphers.len() * 3) as u16)
        .u16(0) // session id length
        .u16(challenge.len() as u16);
    for cipher in ciphers {
        body.u24(*cipher);
    }
    body.bytes(&challenge);
    let body = body.into_bytes();
    let mut record = Writer::new();
    // Two-byte header: high bit set, 15-bit length.
    record.u16(0x8000 | body.len() as u16).bytes(&body);
    record.into_bytes()
}

/// Deterministic filler bytes (randoms need not be secret: the hand-built probes never complete
/// a session; `tls12_client`, which does, draws its own).
fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake, parse_tls_extensions};

    fn parse(record: &[u8]) -> (u16, Vec<u16>, Vec<u8>, Vec<u8>) {
        let (rest, plaintext) =
            tls_parser::parse_tls_plaintext(record).expect("tls-parser parses it");
        assert!(rest.is_empty());
        let [TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello))] =
            plaintext.msg.as_slice()
        else {
            panic!("not a ClientHello: {:?}", plaintext.msg)
        };
        (
            hello.version.0,
            hello.ciphers.iter().map(|c| c.0).collect(),
            hello.comp.iter().map(|c| c.0).collect(),
            hello.ext.map(<[u8]>::to_vec).unwrap_or_default(),
        )
    }

    #[test]
    fn tls12_hello_round_trips_through_tls_parser() {
        let mut spec = ClientHelloSpec::new(
            Protocol::Tls1_2,
            vec![0xc02f, 0x009e],
            Some("shop.test".into()),
        );
        spec.alpn = vec!["h2".into(), "http/1.1".into()];
        spec.fallback_scsv = true;
        let (version, suites, compression, extensions) = parse(&spec.to_record());
        assert_eq!(version, 0x0303);
        assert_eq!(suites, [0xc02f, 0x009e, FALLBACK_SCSV]);
        assert_eq!(compression, [0]);
        let (_, extensions) = parse_tls_extensions(&extensions).unwrap();
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::SNI(names) if names[0].1 == b"shop.test"))
        );
        assert!(extensions.iter().any(|e| matches!(e, TlsExtension::ALPN(p) if p == &[b"h2".as_slice(), b"http/1.1".as_slice()])));
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::EllipticCurves(g) if g.len() == 8))
        );
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::ExtendedMasterSecret))
        );
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::RenegotiationInfo(_)))
        );
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::StatusRequest(_)))
        );
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::SignedCertificateTimestamp(_)))
        );
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::SessionTicket(_)))
        );
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::SignatureAlgorithms(_)))
        );
        assert!(
            !extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::SupportedVersions(_)))
        );
    }

    #[test]
    fn tls13_hello_offers_supported_versions_and_a_key_share() {
        let spec = ClientHelloSpec::new(
            Protocol::Tls1_3,
            crate::tls_registry::TLS13_SUITES.to_vec(),
            Some("shop.test".into()),
        );
        let (version, suites, _, extensions) = parse(&spec.to_record());
        assert_eq!(version, 0x0303, "legacy_version stays TLS 1.2");
        assert_eq!(suites.len(), 5);
        let (_, extensions) = parse_tls_extensions(&extensions).unwrap();
        assert!(extensions.iter().any(
            |e| matches!(e, TlsExtension::SupportedVersions(v) if v.len() == 1 && v[0].0 == 0x0304)
        ));
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::KeyShare(_)))
        );
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::PskExchangeModes(_)))
        );
    }

    #[test]
    fn legacy_versions_and_sslv3() {
        for (protocol, code) in [(Protocol::Tls1_0, 0x0301), (Protocol::Tls1_1, 0x0302)] {
            let spec = ClientHelloSpec::new(protocol, vec![0x002f], None);
            assert_eq!(parse(&spec.to_record()).0, code);
        }
        let ssl3 =
            ClientHelloSpec::new(Protocol::Ssl3, vec![0x000a, 0x0005], Some("x.test".into()));
        let record = ssl3.to_record();
        assert_eq!(&record[1..3], &[3, 0], "SSLv3 record version");
        let (version, suites, _, extensions) = parse(&record);
        assert_eq!((version, suites), (0x0300, vec![0x000a, 0x0005]));
        assert!(extensions.is_empty(), "no extensions in an SSLv3 hello");
    }

    #[test]
    fn ip_literals_get_no_sni_and_large_hellos_parse() {
        let spec = ClientHelloSpec::new(
            Protocol::Tls1_2,
            crate::tls_registry::suites_for(Protocol::Tls1_2),
            Some("127.0.0.1".into()),
        );
        assert_eq!(spec.sni, None);
        let (_, suites, _, _) = parse(&spec.to_record());
        assert!(suites.len() > 300);
    }

    #[test]
    fn hellos_in_the_f5_gap_are_padded() {
        for count in 40..130 {
            let spec = ClientHelloSpec::new(
                Protocol::Tls1_2,
                (1..=count).collect(),
                Some("a.test".into()),
            );
            let handshake = spec.handshake();
            assert!(
                !(256..512).contains(&handshake.len()),
                "{count} suites: {} bytes",
                handshake.len()
            );
            parse(&spec.to_record());
        }
    }

    #[test]
    fn heartbeat_is_offered_only_when_asked() {
        let mut spec = ClientHelloSpec::new(Protocol::Tls1_2, vec![0x002f], None);
        let has_heartbeat = |spec: &ClientHelloSpec| {
            let (_, _, _, extensions) = parse(&spec.to_record());
            let (_, extensions) = parse_tls_extensions(&extensions).unwrap();
            extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::Heartbeat(1)))
        };
        assert!(!has_heartbeat(&spec));
        spec.heartbeat = true;
        assert!(has_heartbeat(&spec));
    }

    #[test]
    fn session_id_ticket_and_renegotiation_info_round_trip() {
        let mut spec = ClientHelloSpec::new(Protocol::Tls1_2, vec![0xc02f], None);
        spec.session_id = vec![7; 16];
        spec.session_ticket = vec![9; 100];
        spec.renegotiation_info = vec![5; 12];
        let record = spec.to_record();
        let (_, plaintext) = tls_parser::parse_tls_plaintext(&record).unwrap();
        let [TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello))] =
            plaintext.msg.as_slice()
        else {
            panic!("not a ClientHello")
        };
        assert_eq!(hello.session_id, Some(&[7u8; 16][..]));
        let (_, extensions) = parse_tls_extensions(hello.ext.unwrap()).unwrap();
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::SessionTicket(t) if *t == [9u8; 100]))
        );
        assert!(
            extensions
                .iter()
                .any(|e| matches!(e, TlsExtension::RenegotiationInfo(r) if *r == [5u8; 12]))
        );
        let default = ClientHelloSpec::new(Protocol::Tls1_2, vec![0xc02f], None);
        let record = default.to_record();
        let (_, plaintext) = tls_parser::parse_tls_plaintext(&record).unwrap();
        let [TlsMessage::Handshake(TlsMessageHandshake::ClientHello(hello))] =
            plaintext.msg.as_slice()
        else {
            panic!("not a ClientHello")
        };
        assert_eq!(hello.session_id, None, "no session id unless asked");
    }

    #[test]
    fn compression_offer_keeps_null_last() {
        let mut spec = ClientHelloSpec::new(Protocol::Tls1_2, vec![0x002f], None);
        spec.compression = vec![1];
        assert_eq!(parse(&spec.to_record()).2, [1, 0]);
    }

    #[test]
    fn sslv2_hello_layout() {
        let hello = sslv2_client_hello(&[0x010080, 0x0700c0]);
        let len = usize::from(u16::from_be_bytes([hello[0], hello[1]]) & 0x7fff);
        assert_eq!(hello[0] & 0x80, 0x80);
        assert_eq!(len, hello.len() - 2);
        assert_eq!(hello[2], 1, "MSG-CLIENT-HELLO");
        assert_eq!(&hello[3..5], &[0, 2], "version 2");
        assert_eq!(&hello[5..7], &[0, 6], "two cipher specs");
        assert_eq!(&hello[11..14], &[0x01, 0x00, 0x80]);
        assert_eq!(hello.len(), 2 + 9 + 6 + 16);
    }
}
