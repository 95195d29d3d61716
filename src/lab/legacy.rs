//! A scripted TLS responder for versions and suites rustls cannot serve (SSLv2, SSLv3, TLS 1.0,
//! 1.1; CBC, 3DES, RC4, NULL, EXPORT suites).
//!
//! It answers the *first flight* only, the way a configured legacy server would: it reads one
//! ClientHello, picks a version and a suite by its configuration (or refuses with an alert or by
//! closing), and sends ServerHello (with the SCT extension when configured), a Certificate
//! message (the configured chain, or a placeholder), CertificateStatus when an OCSP response is
//! configured, ServerKeyExchange when the suite needs one, and ServerHelloDone. No handshake is ever completed — enough for a scanner that
//! decides support from the first reply. Loopback only.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::probe::tls::wire::{Reader, Writer};
use crate::tls_registry::{FALLBACK_SCSV, Protocol, RENEGOTIATION_SCSV};

/// How the responder refuses a hello it cannot serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A fatal alert (protocol_version or handshake_failure).
    Alert,
    /// Closing the connection without a word.
    Close,
}

/// What the scripted server supports.
#[derive(Debug, Clone)]
pub struct LegacyConfig {
    /// Versions served (SSLv3 to TLS 1.2; TLS 1.3 hellos are answered as the best of these).
    pub versions: Vec<Protocol>,
    /// Suites served, in the server's preference order.
    pub suites: Vec<u16>,
    /// Pick by the server's order (true) or the client's (false).
    pub server_preference: bool,
    /// Answer TLS_FALLBACK_SCSV below the best version with inappropriate_fallback.
    pub honours_fallback_scsv: bool,
    /// Send renegotiation_info (RFC 5746).
    pub secure_renegotiation: bool,
    /// Send extended_master_secret.
    pub extended_master_secret: bool,
    /// Accept DEFLATE compression.
    pub compression: bool,
    /// ECDHE curves, in preference order.
    pub groups: Vec<u16>,
    /// Size of the DHE prime sent for DHE suites.
    pub dhe_prime_bits: u32,
    /// SSLv2 cipher kinds served (empty: no SSLv2).
    pub ssl2_ciphers: Vec<u32>,
    /// How hellos that cannot be served are refused.
    pub refusal: Refusal,
    /// The chain sent in the Certificate message, DER, leaf first (empty: one placeholder).
    pub certificates: Vec<Vec<u8>>,
    /// An OCSP response sent in CertificateStatus when the client asks (status_request).
    pub ocsp_response: Option<Vec<u8>>,
    /// A SignedCertificateTimestampList sent in the ServerHello when the client asks.
    pub sct_list: Option<Vec<u8>>,
}

impl Default for LegacyConfig {
    fn default() -> Self {
        Self {
            versions: vec![Protocol::Tls1_0, Protocol::Tls1_1, Protocol::Tls1_2],
            suites: vec![0xc02f, 0xc013, 0x002f, 0x000a],
            server_preference: true,
            honours_fallback_scsv: true,
            secure_renegotiation: true,
            extended_master_secret: true,
            compression: false,
            groups: vec![0x0017, 0x001d],
            dhe_prime_bits: 2048,
            ssl2_ciphers: Vec::new(),
            refusal: Refusal::Alert,
            certificates: Vec::new(),
            ocsp_response: None,
            sct_list: None,
        }
    }
}

/// A running responder; dropping it stops it.
pub struct LegacyServer {
    /// Where it listens.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for LegacyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LegacyServer {
    /// Starts the responder on 127.0.0.1 (random port).
    pub async fn start(config: LegacyConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let config = Arc::new(config);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let config = Arc::clone(&config);
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(5), serve(stream, &config)).await;
                });
            }
        });
        Ok(Self { addr, task })
    }
}

async fn serve(mut stream: TcpStream, config: &LegacyConfig) -> std::io::Result<()> {
    let hello = read_hello(&mut stream).await?;
    let answer = match hello.first() {
        Some(byte) if byte & 0x80 != 0 => answer_sslv2(&hello, config),
        _ => answer_tls(&hello, config),
    };
    match answer {
        Some(bytes) => {
            stream.write_all(&bytes).await?;
            // Wait for the client to hang up (it never continues the handshake).
            let mut sink = [0u8; 512];
            while stream.read(&mut sink).await? > 0 {}
        }
        None => stream.shutdown().await?,
    }
    Ok(())
}

/// Reads one complete hello record (TLS or SSLv2), at most 64 KiB.
async fn read_hello(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let needed = match buf.as_slice() {
            [first, second, ..] if first & 0x80 != 0 => {
                Some(2 + usize::from(u16::from_be_bytes([first & 0x7f, *second])))
            }
            [_, _, _, high, low, ..] => Some(5 + usize::from(u16::from_be_bytes([*high, *low]))),
            _ => None,
        };
        if needed.is_some_and(|n| buf.len() >= n) || buf.len() > 65536 {
            return Ok(buf);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn answer_sslv2(hello: &[u8], config: &LegacyConfig) -> Option<Vec<u8>> {
    let mut r = Reader::new(hello);
    r.u16().ok()?;
    if r.u8().ok()? != 1 {
        return None;
    }
    let _version = r.u16().ok()?;
    let specs_len = usize::from(r.u16().ok()?);
    let _session_len = r.u16().ok()?;
    let _challenge_len = r.u16().ok()?;
    let mut specs = Reader::new(r.take(specs_len).ok()?);
    let mut common = Vec::new();
    while let Ok(kind) = specs.u24() {
        if config.ssl2_ciphers.contains(&kind) {
            common.push(kind);
        }
    }
    if common.is_empty() {
        return None;
    }
    let certificate = [0x30, 0x03, 0x02, 0x01, 0x00];
    let mut body = Writer::new();
    body.u8(4).u8(0).u8(1).u16(0x0002);
    body.u16(certificate.len() as u16)
        .u16((common.len() * 3) as u16)
        .u16(16);
    body.bytes(&certificate);
    for kind in &common {
        body.u24(*kind);
    }
    body.bytes(&[0x11; 16]);
    let body = body.into_bytes();
    let mut record = Writer::new();
    record.u16(0x8000 | body.len() as u16).bytes(&body);
    Some(record.into_bytes())
}

struct ClientOffer {
    version: u16,
    suites: Vec<u16>,
    compression: Vec<u8>,
    extensions: Vec<u16>,
    groups: Vec<u16>,
}

fn parse_client_hello(record: &[u8]) -> Option<ClientOffer> {
    let mut r = Reader::new(record);
    if r.u8().ok()? != 22 {
        return None;
    }
    r.take(2).ok()?;
    let mut fragment = r.prefixed_u16().ok()?;
    if fragment.u8().ok()? != 1 {
        return None;
    }
    let body = fragment.prefixed_u24().ok()?.rest();
    let (_, hello) = tls_parser::parse_tls_handshake_client_hello(body).ok()?;
    let mut extensions = Vec::new();
    let mut groups = Vec::new();
    if let Some(raw) = hello.ext {
        let mut list = Reader::new(raw);
        while let (Ok(id), Ok(mut data)) = (list.u16(), list.prefixed_u16()) {
            extensions.push(id);
            if id == 10
                && let Ok(mut named) = data.prefixed_u16()
            {
                while let Ok(group) = named.u16() {
                    groups.push(group);
                }
            }
        }
    }
    Some(ClientOffer {
        version: hello.version.0,
        suites: hello.ciphers.iter().map(|c| c.0).collect(),
        compression: hello.comp.iter().map(|c| c.0).collect(),
        extensions,
        groups,
    })
}

fn alert(version: u16, description: u8) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(21).u16(version).prefixed_u16(|w| {
        w.u8(2).u8(description);
    });
    w.into_bytes()
}

fn answer_tls(record: &[u8], config: &LegacyConfig) -> Option<Vec<u8>> {
    let offer = parse_client_hello(record)?;
    let refuse = |description: u8| match config.refusal {
        Refusal::Alert => Some(alert(0x0301, description)),
        Refusal::Close => None,
    };
    let best = config
        .versions
        .iter()
        .copied()
        .filter(|p| *p != Protocol::Ssl2)
        .max()?;
    let Some(version) = config
        .versions
        .iter()
        .copied()
        .filter(|p| p.code() <= offer.version && *p != Protocol::Ssl2 && *p != Protocol::Tls1_3)
        .max()
    else {
        return refuse(70);
    };
    if config.honours_fallback_scsv && offer.suites.contains(&FALLBACK_SCSV) && version < best {
        return Some(alert(version.code(), 86));
    }
    let group = config
        .groups
        .iter()
        .copied()
        .find(|g| offer.groups.contains(g));
    let usable = |suite: &u16| {
        offer.suites.contains(suite)
            && config.suites.contains(suite)
            && crate::tls_registry::suite_usable_with(*suite, version)
            && (crate::probe::tls::kx_of(*suite) != Some(tls_parser::TlsCipherKx::Ecdhe)
                || group.is_some())
    };
    let suite = if config.server_preference {
        config.suites.iter().copied().find(|s| usable(s))
    } else {
        offer.suites.iter().copied().find(|s| usable(s))
    };
    let Some(suite) = suite else {
        return refuse(40);
    };
    let compression = u8::from(config.compression && offer.compression.contains(&1));
    let renegotiation = config.secure_renegotiation
        && (offer.extensions.contains(&0xff01) || offer.suites.contains(&RENEGOTIATION_SCSV));
    let ems = config.extended_master_secret && offer.extensions.contains(&23);
    let staple = config
        .ocsp_response
        .as_ref()
        .filter(|_| offer.extensions.contains(&5));
    let scts = config
        .sct_list
        .as_ref()
        .filter(|_| offer.extensions.contains(&18));

    let mut flight = Writer::new();
    // ServerHello
    handshake(&mut flight, 2, |w| {
        w.u16(version.code())
            .bytes(&[0x42; 32])
            .prefixed_u8(|_| {})
            .u16(suite)
            .u8(compression);
        if version != Protocol::Ssl3 && (renegotiation || ems || staple.is_some() || scts.is_some())
        {
            w.prefixed_u16(|w| {
                if renegotiation {
                    w.u16(0xff01).prefixed_u16(|w| {
                        w.u8(0);
                    });
                }
                if ems {
                    w.u16(23).u16(0);
                }
                if staple.is_some() {
                    w.u16(5).u16(0);
                }
                if let Some(list) = scts {
                    w.u16(18).prefixed_u16(|w| {
                        w.bytes(list);
                    });
                }
            });
        }
    });
    // Certificate: the configured chain, or one placeholder entry.
    handshake(&mut flight, 11, |w| {
        w.prefixed_u24(|w| {
            if config.certificates.is_empty() {
                w.prefixed_u24(|w| {
                    w.bytes(&[0x30, 0x03, 0x02, 0x01, 0x00]);
                });
            }
            for certificate in &config.certificates {
                w.prefixed_u24(|w| {
                    w.bytes(certificate);
                });
            }
        });
    });
    if let Some(response) = staple {
        handshake(&mut flight, 22, |w| {
            w.u8(1).prefixed_u24(|w| {
                w.bytes(response);
            });
        });
    }
    match crate::probe::tls::kx_of(suite) {
        Some(tls_parser::TlsCipherKx::Ecdhe) => {
            let group = group.unwrap_or(0x0017);
            handshake(&mut flight, 12, |w| {
                w.u8(3).u16(group).prefixed_u8(|w| {
                    w.bytes(&[4; 65]);
                });
                w.u16(0x0401).prefixed_u16(|w| {
                    w.bytes(&[0; 64]);
                });
            });
        }
        Some(tls_parser::TlsCipherKx::Dhe) => {
            let bytes = config.dhe_prime_bits.div_ceil(8) as usize;
            let top_bit = config.dhe_prime_bits.saturating_sub(1) % 8;
            let mut prime = vec![0xff; bytes];
            if let Some(first) = prime.first_mut() {
                *first = (1u8 << top_bit) | ((1u8 << top_bit) - 1);
            }
            handshake(&mut flight, 12, |w| {
                w.prefixed_u16(|w| {
                    w.bytes(&prime);
                });
                w.prefixed_u16(|w| {
                    w.u8(2);
                });
                w.prefixed_u16(|w| {
                    w.bytes(&[7; 32]);
                });
                w.u16(0x0401).prefixed_u16(|w| {
                    w.bytes(&[0; 64]);
                });
            });
        }
        _ => {}
    }
    handshake(&mut flight, 14, |_| {});
    let flight = flight.into_bytes();
    let mut records = Writer::new();
    for chunk in flight.chunks(16384) {
        records.u8(22).u16(version.code()).prefixed_u16(|w| {
            w.bytes(chunk);
        });
    }
    Some(records.into_bytes())
}

fn handshake(w: &mut Writer, message_type: u8, body: impl FnOnce(&mut Writer)) {
    w.u8(message_type).prefixed_u24(body);
}
