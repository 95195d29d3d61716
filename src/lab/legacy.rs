//! A scripted TLS responder for versions and suites rustls cannot serve (SSLv2, SSLv3, TLS 1.0,
//! 1.1; CBC, 3DES, RC4, NULL, EXPORT suites).
//!
//! It answers the *first flight* only, the way a configured legacy server would: it reads one
//! ClientHello, picks a version and a suite by its configuration (or refuses with an alert or by
//! closing), and sends ServerHello (with the SCT extension when configured), a Certificate
//! message (the configured chain, or a placeholder), CertificateStatus when an OCSP response is
//! configured, ServerKeyExchange when the suite needs one, and ServerHelloDone. No handshake is ever completed — enough for a scanner that
//! decides support from the first reply. Loopback only.
//!
//! After the first flight it reacts to what the vulnerability probes send, as configured: heartbeat
//! requests (answered by RFC 6520, or by echoing the claimed length — Heartbleed), an early
//! ChangeCipherSpec (refused with `unexpected_message`, or accepted — CCS injection), and an RSA
//! ClientKeyExchange decrypted with a real key whose padding check does or does not leak
//! (ROBOT). It never derives keys: whatever arrives after a ChangeCipherSpec cannot be decrypted
//! and gets `bad_record_mac`, as a real server's would with a wrong premaster secret.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// How the responder answers heartbeat requests (it acknowledges the extension either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heartbeat {
    /// RFC 6520: a request whose payload_length exceeds its record is discarded silently.
    Rfc6520,
    /// Heartbleed: the claimed payload_length is echoed, read from "memory" (filler bytes).
    Bleeds,
}

/// How the responder's RSA key exchange reacts to the premaster-secret padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaBehaviour {
    /// RFC 5246 section 7.4.7.1: a bad block silently becomes a random premaster secret, so
    /// every variant ends alike (`bad_record_mac` on the Finished).
    Constant,
    /// A padding oracle: a block that does not conform to PKCS#1 v1.5 gets `decrypt_error`
    /// right away; a conforming one goes on to `bad_record_mac`.
    Oracle,
    /// No oracle, but a flaky server: every other key exchange it receives ends with the
    /// connection closed instead of `bad_record_mac`, whatever the padding.
    Noisy,
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
    /// Heartbeat support (`None`: the extension is ignored).
    pub heartbeat: Option<Heartbeat>,
    /// Accept a ChangeCipherSpec before the key exchange (CVE-2014-0224).
    pub accepts_early_ccs: bool,
    /// The RSA key for RSA key-exchange suites (its certificate is sent when `certificates` is
    /// empty) and how its padding check behaves.
    pub rsa: Option<(Arc<super::rsa::LabRsaKey>, RsaBehaviour)>,
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
            heartbeat: None,
            accepts_early_ccs: false,
            rsa: None,
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
        let key_exchanges = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let config = Arc::clone(&config);
                let key_exchanges = Arc::clone(&key_exchanges);
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(5),
                        serve(stream, &config, &key_exchanges),
                    )
                    .await;
                });
            }
        });
        Ok(Self { addr, task })
    }
}

/// Serves one connection that was accepted elsewhere — e.g. handed over by the STARTTLS lab
/// after its plaintext preamble — exactly as a connection to [`LegacyServer`] is served, for at
/// most five seconds.
pub async fn serve_connection(stream: TcpStream, config: &LegacyConfig) {
    let key_exchanges = AtomicUsize::new(0);
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        serve(stream, config, &key_exchanges),
    )
    .await;
}

async fn serve(
    mut stream: TcpStream,
    config: &LegacyConfig,
    key_exchanges: &AtomicUsize,
) -> std::io::Result<()> {
    let hello = read_hello(&mut stream).await?;
    let answer = match hello.first() {
        Some(byte) if byte & 0x80 != 0 => answer_sslv2(&hello, config).map(|bytes| (bytes, None)),
        _ => answer_tls(&hello, config),
    };
    match answer {
        Some((bytes, Some(negotiated))) => {
            stream.write_all(&bytes).await?;
            after_flight(&mut stream, config, negotiated, key_exchanges).await?;
        }
        Some((bytes, None)) => {
            stream.write_all(&bytes).await?;
            // Wait for the client to hang up.
            let mut sink = [0u8; 512];
            while stream.read(&mut sink).await? > 0 {}
        }
        None => stream.shutdown().await?,
    }
    Ok(())
}

/// The version and suite of a first flight that was sent.
#[derive(Debug, Clone, Copy)]
struct Negotiated {
    version: u16,
    suite: u16,
}

/// Reacts to the records a client sends after the first flight, until it hangs up or the
/// responder ends the connection with an alert. `key_exchanges` counts the ClientKeyExchange
/// messages the server has received (the noisy RSA behaviour alternates on it).
async fn after_flight(
    stream: &mut TcpStream,
    config: &LegacyConfig,
    negotiated: Negotiated,
    key_exchanges: &AtomicUsize,
) -> std::io::Result<()> {
    let version = negotiated.version;
    let mut index = 0;
    let mut key_exchanged = false;
    let mut cipher_active = false;
    while let Some((content_type, body)) = read_record(stream).await? {
        if cipher_active {
            // Keys the responder never derived: nothing after ChangeCipherSpec decrypts.
            if config
                .rsa
                .as_ref()
                .is_some_and(|(_, b)| *b == RsaBehaviour::Noisy)
                && index % 2 == 1
            {
                return stream.shutdown().await;
            }
            return stream.write_all(&alert(version, 20)).await;
        }
        match (content_type, config.heartbeat) {
            (24, Some(mode)) => {
                if let Some(response) = heartbeat_response(&body, mode) {
                    stream.write_all(&record(24, version, &response)).await?;
                }
                continue;
            }
            (20, _) if key_exchanged || config.accepts_early_ccs => cipher_active = true,
            (22, _) if !key_exchanged && body.first() == Some(&16) => {
                key_exchanged = true;
                index = key_exchanges.fetch_add(1, Ordering::SeqCst);
                if let Some((key, RsaBehaviour::Oracle)) = &config.rsa
                    && crate::probe::tls::kx_of(negotiated.suite)
                        == Some(tls_parser::TlsCipherKx::Rsa)
                {
                    let mut message = Reader::new(&body);
                    let encrypted = message
                        .take(4)
                        .and_then(|_| message.prefixed_u16())
                        .map(|mut r| r.rest())
                        .unwrap_or_default();
                    let block = key.decrypt_raw(encrypted);
                    if super::rsa::premaster_secret(&block).is_none() {
                        return stream.write_all(&alert(version, 51)).await;
                    }
                }
            }
            (21, _) => return Ok(()),
            _ => return stream.write_all(&alert(version, 10)).await,
        }
    }
    Ok(())
}

/// The answer to one heartbeat request, if any.
fn heartbeat_response(body: &[u8], mode: Heartbeat) -> Option<Vec<u8>> {
    let mut r = Reader::new(body);
    if r.u8().ok()? != 1 {
        return None;
    }
    let claimed = usize::from(r.u16().ok()?);
    let payload = match mode {
        // RFC 6520 section 4: the payload and at least 16 bytes of padding must fit the record.
        Heartbeat::Rfc6520 => r
            .take(claimed)
            .ok()
            .filter(|_| r.remaining() >= 16)?
            .to_vec(),
        Heartbeat::Bleeds => {
            let mut memory = r.rest().to_vec();
            memory.resize(claimed, 0x6d);
            memory
        }
    };
    let mut w = Writer::new();
    w.u8(2).u16(claimed as u16).bytes(&payload).bytes(&[0; 16]);
    Some(w.into_bytes())
}

/// Reads one record, at most 64 KiB; `None` at end of stream.
async fn read_record(stream: &mut TcpStream) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut header = [0u8; 5];
    match stream.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
    stream.read_exact(&mut body).await?;
    Ok(Some((header[0], body)))
}

fn record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(content_type).u16(version).prefixed_u16(|w| {
        w.bytes(body);
    });
    w.into_bytes()
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

fn answer_tls(record: &[u8], config: &LegacyConfig) -> Option<(Vec<u8>, Option<Negotiated>)> {
    let offer = parse_client_hello(record)?;
    let refuse = |description: u8| match config.refusal {
        Refusal::Alert => Some((alert(0x0301, description), None)),
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
        return Some((alert(version.code(), 86), None));
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
    let heartbeat = config.heartbeat.is_some() && offer.extensions.contains(&15);
    let rsa_certificate = config
        .rsa
        .as_ref()
        .filter(|_| config.certificates.is_empty())
        .map(|(key, _)| key.certificate.clone());

    let mut flight = Writer::new();
    // ServerHello
    handshake(&mut flight, 2, |w| {
        w.u16(version.code())
            .bytes(&[0x42; 32])
            .prefixed_u8(|_| {})
            .u16(suite)
            .u8(compression);
        if version != Protocol::Ssl3
            && (renegotiation || ems || staple.is_some() || scts.is_some() || heartbeat)
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
                if heartbeat {
                    // peer_allowed_to_send
                    w.u16(15).u16(1).u8(1);
                }
            });
        }
    });
    // Certificate: the configured chain, or one placeholder entry.
    handshake(&mut flight, 11, |w| {
        w.prefixed_u24(|w| {
            if let Some(certificate) = &rsa_certificate {
                w.prefixed_u24(|w| {
                    w.bytes(certificate);
                });
            } else if config.certificates.is_empty() {
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
    Some((
        records.into_bytes(),
        Some(Negotiated {
            version: version.code(),
            suite,
        }),
    ))
}

fn handshake(w: &mut Writer, message_type: u8, body: impl FnOnce(&mut Writer)) {
    w.u8(message_type).prefixed_u24(body);
}
