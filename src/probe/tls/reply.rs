//! Reading and classifying a server's first flight after a hand-built ClientHello.
//!
//! [`parse_flight`] is pure: it looks at the bytes received so far and says whether they form a
//! complete answer (ServerHello, HelloRetryRequest, alert, SSLv2 SERVER-HELLO, not-TLS, malformed)
//! or more are needed. [`exchange`] drives it over a socket with a deadline and a byte cap, so a
//! stalling or flooding server ends as `Timeout` or `Malformed`, never a hang.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::wire::{Reader, WireError};
use crate::evidence::tls::{KeyExchangeInfo, ServerHelloInfo, TlsReply};
use crate::evidence::{FailureKind, ProbeError, StarttlsOutcome, StarttlsProtocol};
use crate::tls_registry::alert_name;

/// The random value that marks a ServerHello as a HelloRetryRequest (RFC 8446 section 4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Largest record body of a first flight: the flight is plaintext, and a plaintext record
/// carries at most 2^14 bytes (RFC 5246 section 6.2.1, RFC 8446 section 5.1); the 2^14+2048 of
/// section 6.2.3 is for records that are encrypted.
pub const MAX_RECORD: usize = 16384;

/// How much of the first flight to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Want {
    /// Read on to ServerKeyExchange to learn the ECDHE group or DHE prime size.
    pub key_exchange: bool,
    /// Keep the certificate chain, the stapled OCSP response and the SCT extension of a
    /// TLS ≤ 1.2 first flight.
    pub certificates: bool,
}

/// Most certificates kept from one Certificate message.
const MAX_CHAIN: usize = 16;

/// Result of looking at the bytes received so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flight {
    /// More bytes are needed.
    Incomplete,
    /// The answer is known.
    Complete(TlsReply),
}

/// Sends `hello` to `addr` and classifies the reply, reading at most `max_bytes` and stopping at
/// `deadline`.
pub async fn exchange(
    addr: SocketAddr,
    hello: &[u8],
    want: Want,
    max_bytes: usize,
    deadline: Instant,
) -> TlsReply {
    exchange_via(addr, None, hello, want, max_bytes, deadline).await
}

/// [`exchange`] on a connection that first speaks the STARTTLS preamble of `starttls` (none: a
/// plain TLS port).
pub async fn exchange_via(
    addr: SocketAddr,
    starttls: Option<StarttlsProtocol>,
    hello: &[u8],
    want: Want,
    max_bytes: usize,
    deadline: Instant,
) -> TlsReply {
    let mut stream = match open(addr, starttls, deadline, max_bytes).await {
        Ok(stream) => stream,
        Err(reply) => return reply,
    };
    match tokio::time::timeout_at(deadline, stream.write_all(hello)).await {
        Err(_) => return TlsReply::Timeout,
        Ok(Err(error)) => return io_reply(&error),
        Ok(Ok(())) => {}
    }
    let mut received = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 8192];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => {
                return match parse_flight(&received, want, true) {
                    Flight::Complete(reply @ TlsReply::ServerHello(_)) => reply,
                    _ => TlsReply::Timeout,
                };
            }
            Ok(Err(error)) => {
                return match parse_flight(&received, want, true) {
                    Flight::Complete(reply @ TlsReply::ServerHello(_)) => reply,
                    _ if received.is_empty() => io_reply(&error),
                    Flight::Complete(reply) => reply,
                    Flight::Incomplete => io_reply(&error),
                };
            }
            Ok(Ok(0)) => {
                return match parse_flight(&received, want, true) {
                    Flight::Complete(reply) => reply,
                    Flight::Incomplete => TlsReply::Closed,
                };
            }
            Ok(Ok(n)) => {
                let room = max_bytes.saturating_sub(received.len());
                received.extend_from_slice(&chunk[..n.min(room)]);
                if let Flight::Complete(reply) = parse_flight(&received, want, false) {
                    return reply;
                }
                if received.len() >= max_bytes {
                    return match parse_flight(&received, want, true) {
                        Flight::Complete(reply @ TlsReply::ServerHello(_)) => reply,
                        _ => TlsReply::Malformed {
                            reason: format!("no complete answer within {max_bytes} bytes"),
                        },
                    };
                }
            }
        }
    }
}

/// Opens a TCP connection and, when `starttls` names a protocol, speaks its preamble up to the
/// point where TLS starts. A failed preamble is recorded as a failed connection whose message
/// starts with `STARTTLS`.
pub(crate) async fn open(
    addr: SocketAddr,
    starttls: Option<StarttlsProtocol>,
    deadline: Instant,
    max_bytes: usize,
) -> Result<TcpStream, TlsReply> {
    let mut stream = connect(addr, deadline).await?;
    if let Some(protocol) = starttls {
        let evidence = super::starttls::negotiate(&mut stream, protocol, deadline, max_bytes).await;
        let kind = match &evidence.outcome {
            StarttlsOutcome::Ready { .. } => return Ok(stream),
            StarttlsOutcome::Failed { error, .. } => error.kind,
            StarttlsOutcome::NotOffered | StarttlsOutcome::Refused { .. } => FailureKind::Other,
        };
        return Err(TlsReply::ConnectFailed {
            error: ProbeError::new(kind, format!("STARTTLS {}", evidence.outcome.describe())),
        });
    }
    Ok(stream)
}

/// Opens a TCP connection (no Nagle delay) by `deadline`; a failure is the reply to record.
pub(crate) async fn connect(addr: SocketAddr, deadline: Instant) -> Result<TcpStream, TlsReply> {
    match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
        Err(_) => Err(TlsReply::Timeout),
        Ok(Err(error)) => {
            let kind = match error.kind() {
                std::io::ErrorKind::ConnectionRefused => FailureKind::Refused,
                std::io::ErrorKind::TimedOut => FailureKind::Timeout,
                _ => FailureKind::Other,
            };
            Err(TlsReply::ConnectFailed {
                error: ProbeError::new(kind, error.to_string()),
            })
        }
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
    }
}

/// The reply an I/O error stands for.
pub(crate) fn io_reply(error: &std::io::Error) -> TlsReply {
    use std::io::ErrorKind as K;
    match error.kind() {
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => TlsReply::Reset,
        K::TimedOut => TlsReply::Timeout,
        K::UnexpectedEof => TlsReply::Closed,
        _ => TlsReply::ConnectFailed {
            error: ProbeError::new(FailureKind::Other, error.to_string()),
        },
    }
}

/// Classifies the bytes received so far. With `eof`, a partial answer is final.
pub fn parse_flight(bytes: &[u8], want: Want, eof: bool) -> Flight {
    let Some(&first) = bytes.first() else {
        return if eof {
            Flight::Complete(TlsReply::Closed)
        } else {
            Flight::Incomplete
        };
    };
    if first & 0x80 != 0 {
        return parse_sslv2(bytes, eof);
    }
    if !matches!(first, 20..=23) || bytes.get(1).is_some_and(|major| *major != 3) {
        return Flight::Complete(TlsReply::NotTls {
            first_bytes: printable(&bytes[..bytes.len().min(32)]),
        });
    }
    let mut state = FlightState::default();
    let mut records = Reader::new(bytes);
    while records.remaining() >= 5 {
        let header = match records.take(5) {
            Ok(header) => header,
            Err(_) => break,
        };
        let content_type = header[0];
        let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if header[1] != 3 {
            return malformed(format!(
                "record version {}.{} is not TLS",
                header[1], header[2]
            ));
        }
        if length > MAX_RECORD {
            return malformed(format!(
                "record of {length} bytes exceeds the TLS plaintext maximum of {MAX_RECORD}"
            ));
        }
        if length == 0 && content_type != 23 {
            // RFC 8446 section 5.1: only application data may be empty; a server that sends
            // empty records could otherwise keep the reader busy without ever answering.
            return malformed(format!("empty record of type {content_type}"));
        }
        let Ok(body) = records.take(length) else {
            return state.finish_partial(eof, "connection closed in the middle of a record");
        };
        match content_type {
            21 => {
                if state.hello.is_some() {
                    // An alert after the ServerHello ends the flight; what we have is the answer.
                    return state.finish_partial(true, "alert");
                }
                return match body {
                    [level, description, ..] => Flight::Complete(TlsReply::Alert {
                        level: *level,
                        description: *description,
                        name: alert_name(*description).to_string(),
                    }),
                    _ => malformed("alert record shorter than two bytes".to_string()),
                };
            }
            22 => {
                state.handshake.extend_from_slice(body);
                match state.read_messages(want) {
                    Ok(Some(reply)) => return Flight::Complete(reply),
                    Ok(None) => {}
                    Err(reason) => return malformed(reason),
                }
            }
            20 | 23 if state.hello.is_some() => return state.finish_partial(true, ""),
            other => {
                return malformed(format!("record type {other} before the ServerHello"));
            }
        }
    }
    state.finish_partial(eof, "connection closed before the ServerHello was complete")
}

#[derive(Default)]
struct FlightState {
    handshake: Vec<u8>,
    consumed: usize,
    hello: Option<ServerHelloInfo>,
}

impl FlightState {
    /// Parses whole handshake messages; `Some` once the answer is complete.
    fn read_messages(&mut self, want: Want) -> Result<Option<TlsReply>, String> {
        loop {
            let pending = &self.handshake[self.consumed..];
            if pending.len() < 4 {
                return Ok(None);
            }
            let message_type = pending[0];
            let length = u32::from_be_bytes([0, pending[1], pending[2], pending[3]]) as usize;
            if length > 1 << 17 {
                return Err(format!("handshake message of {length} bytes"));
            }
            if pending.len() < 4 + length {
                return Ok(None);
            }
            let body = pending[4..4 + length].to_vec();
            self.consumed += 4 + length;
            match (message_type, self.hello.as_mut()) {
                (2, None) => {
                    let reply =
                        parse_server_hello(&body).map_err(|e| format!("ServerHello: {e}"))?;
                    match reply {
                        TlsReply::ServerHello(mut info) => {
                            let tls13 = info.negotiated() == 0x0304;
                            if !want.certificates {
                                info.sct_list = None;
                            }
                            self.hello = Some(info);
                            if tls13 || !(want.key_exchange || want.certificates) {
                                return Ok(self.hello.take().map(TlsReply::ServerHello));
                            }
                        }
                        other => return Ok(Some(other)),
                    }
                }
                (other, None) => {
                    return Err(format!(
                        "expected a ServerHello, got handshake message {other}"
                    ));
                }
                (11, Some(hello)) => {
                    let chain = certificate_list(&body);
                    hello.certificate_count = Some(u32::try_from(chain.len()).unwrap_or(u32::MAX));
                    if want.certificates {
                        hello.certificates = chain
                            .iter()
                            .take(MAX_CHAIN)
                            .map(|der| crate::evidence::encode_bytes(der))
                            .collect();
                    }
                }
                (22, Some(hello)) if want.certificates => {
                    hello.ocsp_response = ocsp_staple(&body).map(crate::evidence::encode_bytes);
                }
                (12, Some(hello)) => {
                    hello.key_exchange = parse_key_exchange(hello.suite, &body);
                    return Ok(self.hello.take().map(TlsReply::ServerHello));
                }
                (14, Some(_)) => return Ok(self.hello.take().map(TlsReply::ServerHello)),
                (_, Some(_)) => {}
            }
        }
    }

    fn finish_partial(mut self, eof: bool, reason: &str) -> Flight {
        match (self.hello.take(), eof) {
            (Some(hello), true) => Flight::Complete(TlsReply::ServerHello(hello)),
            (None, true) => malformed(reason.to_string()),
            (Some(hello), false) => {
                self.hello = Some(hello);
                Flight::Incomplete
            }
            (None, false) => Flight::Incomplete,
        }
    }
}

fn malformed(reason: String) -> Flight {
    Flight::Complete(TlsReply::Malformed { reason })
}

/// Parses a ServerHello body into a ServerHello or a HelloRetryRequest.
pub fn parse_server_hello(body: &[u8]) -> Result<TlsReply, WireError> {
    let mut r = Reader::new(body);
    let version = r.u16()?;
    let random = r.take(32)?;
    let _session_id = r.prefixed_u8()?;
    let suite = r.u16()?;
    let compression = r.u8()?;
    let downgrade_sentinel = match random[24..] {
        [b'D', b'O', b'W', b'N', b'G', b'R', b'D', marker @ (0 | 1)] => Some(marker),
        _ => None,
    };
    let mut info = ServerHelloInfo {
        version,
        suite,
        compression,
        downgrade_sentinel,
        ..ServerHelloInfo::default()
    };
    let mut selected_group = None;
    if !r.is_empty() {
        let mut extensions = r.prefixed_u16()?;
        while !extensions.is_empty() {
            let id = extensions.u16()?;
            let mut data = extensions.prefixed_u16()?;
            info.extensions.push(id);
            match id {
                43 => info.selected_version = Some(data.u16()?),
                51 => {
                    let group = data.u16()?;
                    selected_group = Some(group);
                    info.key_share_group = Some(group);
                }
                18 => info.sct_list = Some(crate::evidence::encode_bytes(data.rest())),
                16 => {
                    let mut list = data.prefixed_u16()?;
                    let name = list.prefixed_u8()?.rest();
                    info.alpn = Some(String::from_utf8_lossy(name).into_owned());
                }
                _ => {}
            }
        }
    }
    if random == HRR_RANDOM {
        return Ok(TlsReply::HelloRetryRequest {
            suite,
            selected_group,
        });
    }
    Ok(TlsReply::ServerHello(info))
}

/// The certificates of a TLS ≤ 1.2 Certificate message body, as far as they parse.
pub(crate) fn certificate_list(body: &[u8]) -> Vec<&[u8]> {
    let mut r = Reader::new(body);
    let Ok(mut list) = r.prefixed_u24() else {
        return Vec::new();
    };
    let mut chain = Vec::new();
    while let Ok(mut certificate) = list.prefixed_u24() {
        chain.push(certificate.rest());
    }
    chain
}

/// The OCSPResponse of a CertificateStatus body (RFC 6066 section 8: status_type 1 = ocsp).
fn ocsp_staple(body: &[u8]) -> Option<&[u8]> {
    let mut r = Reader::new(body);
    if r.u8().ok()? != 1 {
        return None;
    }
    let response = r.prefixed_u24().ok()?.rest();
    (!response.is_empty()).then_some(response)
}

/// ECDHE group, or DHE prime size and digest, from a ServerKeyExchange, by the chosen suite's key exchange.
fn parse_key_exchange(suite: u16, body: &[u8]) -> Option<KeyExchangeInfo> {
    use tls_parser::TlsCipherKx;
    let kx = tls_parser::TlsCipherSuite::from_id(suite)?.kx;
    let mut r = Reader::new(body);
    match kx {
        TlsCipherKx::Ecdhe => {
            // curve_type 3 = named_curve
            (r.u8().ok()? == 3)
                .then(|| r.u16().ok())
                .flatten()
                .map(|group| KeyExchangeInfo::Ecdhe { group })
        }
        TlsCipherKx::Dhe => {
            let prime = r.prefixed_u16().ok()?.rest();
            let significant = prime
                .iter()
                .position(|b| *b != 0)
                .map_or(&[][..], |i| &prime[i..]);
            let bits = significant.first().map_or(0, |top| {
                (significant.len() as u32 - 1) * 8 + (8 - top.leading_zeros())
            });
            Some(KeyExchangeInfo::Dhe {
                prime_bits: bits,
                prime_sha256: (!significant.is_empty())
                    .then(|| crate::evidence::tls::dh_prime_sha256(significant)),
            })
        }
        _ => None,
    }
}

fn parse_sslv2(bytes: &[u8], eof: bool) -> Flight {
    let mut r = Reader::new(bytes);
    let Ok(header) = r.u16() else {
        return if eof {
            malformed("truncated SSLv2 header".into())
        } else {
            Flight::Incomplete
        };
    };
    let length = usize::from(header & 0x7fff);
    let Ok(body) = r.take(length) else {
        return if eof {
            malformed("truncated SSLv2 record".into())
        } else {
            Flight::Incomplete
        };
    };
    let mut m = Reader::new(body);
    let parsed = (|| -> Result<TlsReply, WireError> {
        match m.u8()? {
            0 => Ok(TlsReply::Ssl2Error { code: m.u16()? }),
            4 => {
                let _session_id_hit = m.u8()?;
                let _certificate_type = m.u8()?;
                let _version = m.u16()?;
                let certificate_len = usize::from(m.u16()?);
                let ciphers_len = usize::from(m.u16()?);
                let _connection_id_len = m.u16()?;
                m.take(certificate_len)?;
                let mut ciphers = Reader::new(m.take(ciphers_len)?);
                let mut kinds = Vec::new();
                while ciphers.remaining() >= 3 {
                    kinds.push(ciphers.u24()?);
                }
                Ok(TlsReply::Ssl2ServerHello { ciphers: kinds })
            }
            other => Ok(TlsReply::Malformed {
                reason: format!("SSLv2 message type {other} where SERVER-HELLO was expected"),
            }),
        }
    })();
    match parsed {
        Ok(reply) => Flight::Complete(reply),
        Err(e) => malformed(format!("SSLv2 SERVER-HELLO: {e}")),
    }
}

/// Printable ASCII kept, everything else as `\xNN`.
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| {
            if b.is_ascii_graphic() || *b == b' ' {
                char::from(*b).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::tls::wire::Writer;

    use crate::probe::tls::wire::{handshake_message as handshake, tls12_record as record};

    pub(crate) fn server_hello(
        version: u16,
        suite: u16,
        random: [u8; 32],
        extensions: &[(u16, Vec<u8>)],
    ) -> Vec<u8> {
        let mut w = Writer::new();
        w.u16(version)
            .bytes(&random)
            .prefixed_u8(|_| {})
            .u16(suite)
            .u8(0);
        if !extensions.is_empty() {
            w.prefixed_u16(|w| {
                for (id, data) in extensions {
                    w.u16(*id).prefixed_u16(|w| {
                        w.bytes(data);
                    });
                }
            });
        }
        handshake(2, &w.into_bytes())
    }

    #[test]
    fn tls12_server_hello_with_extensions() {
        let sh = server_hello(
            0x0303,
            0xc02f,
            [7; 32],
            &[
                (0xff01, vec![0]),
                (23, vec![]),
                (16, vec![0, 3, 2, b'h', b'2']),
            ],
        );
        let Flight::Complete(TlsReply::ServerHello(info)) =
            parse_flight(&record(22, &sh), Want::default(), false)
        else {
            panic!()
        };
        assert_eq!(
            (info.version, info.suite, info.compression),
            (0x0303, 0xc02f, 0)
        );
        assert!(info.has_extension(0xff01) && info.has_extension(23));
        assert_eq!(info.alpn.as_deref(), Some("h2"));
        assert_eq!(info.downgrade_sentinel, None);
        let mut random = [9; 32];
        random[24..].copy_from_slice(b"DOWNGRD\x01");
        let sh = server_hello(0x0303, 0xc02f, random, &[]);
        let Flight::Complete(TlsReply::ServerHello(info)) =
            parse_flight(&record(22, &sh), Want::default(), false)
        else {
            panic!()
        };
        assert_eq!(info.downgrade_sentinel, Some(1));
    }

    #[test]
    fn tls13_and_hello_retry_request() {
        let sh = server_hello(
            0x0303,
            0x1301,
            [1; 32],
            &[(43, vec![3, 4]), (51, vec![0, 0x1d, 0, 1, 9])],
        );
        let Flight::Complete(TlsReply::ServerHello(info)) = parse_flight(
            &record(22, &sh),
            Want {
                key_exchange: true,
                ..Want::default()
            },
            false,
        ) else {
            panic!()
        };
        assert_eq!(info.negotiated(), 0x0304);
        assert_eq!(info.key_share_group, Some(0x1d));
        let hrr = server_hello(
            0x0303,
            0x1302,
            HRR_RANDOM,
            &[(43, vec![3, 4]), (51, vec![0, 0x17])],
        );
        assert_eq!(
            parse_flight(&record(22, &hrr), Want::default(), false),
            Flight::Complete(TlsReply::HelloRetryRequest {
                suite: 0x1302,
                selected_group: Some(0x17)
            })
        );
    }

    #[test]
    fn key_exchange_is_read_when_wanted() {
        let sh = server_hello(0x0303, 0x009e, [2; 32], &[]);
        let mut prime = vec![0u8; 257];
        prime[1] = 0x80; // a 2048-bit prime with a leading zero byte
        let mut ske = Writer::new();
        ske.prefixed_u16(|w| {
            w.bytes(&prime);
        });
        let mut flight = record(22, &sh);
        flight.extend(record(22, &handshake(11, &[0, 0, 3, 0, 0, 0])));
        flight.extend(record(22, &handshake(12, &ske.into_bytes())));
        let want = Want {
            key_exchange: true,
            ..Want::default()
        };
        assert_eq!(
            parse_flight(&flight[..flight.len() - 3], want, false),
            Flight::Incomplete
        );
        let Flight::Complete(TlsReply::ServerHello(info)) = parse_flight(&flight, want, false)
        else {
            panic!()
        };
        assert_eq!(
            info.key_exchange,
            Some(KeyExchangeInfo::Dhe {
                prime_bits: 2048,
                prime_sha256: Some(crate::evidence::tls::dh_prime_sha256(&prime[1..])),
            })
        );
        assert_eq!(info.certificate_count, Some(1));

        let sh = server_hello(0x0303, 0xc02f, [2; 32], &[]);
        let mut flight = record(22, &sh);
        flight.extend(record(22, &handshake(12, &[3, 0, 0x18, 1, 4])));
        let Flight::Complete(TlsReply::ServerHello(info)) = parse_flight(&flight, want, false)
        else {
            panic!()
        };
        assert_eq!(
            info.key_exchange,
            Some(KeyExchangeInfo::Ecdhe { group: 0x18 })
        );
    }

    #[test]
    fn alerts_not_tls_and_sslv2() {
        assert_eq!(
            parse_flight(&record(21, &[2, 70]), Want::default(), false),
            Flight::Complete(TlsReply::Alert {
                level: 2,
                description: 70,
                name: "protocol_version".into()
            })
        );
        assert!(matches!(
            parse_flight(b"HTTP/1.1 400 Bad Request\r\n", Want::default(), false),
            Flight::Complete(TlsReply::NotTls { first_bytes }) if first_bytes.starts_with("HTTP/1.1 400")
        ));
        let mut v2 = Writer::new();
        v2.u8(4)
            .u8(0)
            .u8(1)
            .u16(2)
            .u16(0)
            .u16(6)
            .u16(0)
            .u24(0x010080)
            .u24(0x0700c0);
        let body = v2.into_bytes();
        let mut rec = Writer::new();
        rec.u16(0x8000 | body.len() as u16).bytes(&body);
        assert_eq!(
            parse_flight(&rec.into_bytes(), Want::default(), false),
            Flight::Complete(TlsReply::Ssl2ServerHello {
                ciphers: vec![0x010080, 0x0700c0]
            })
        );
    }

    #[test]
    fn partial_input_waits_and_eof_decides() {
        let sh = record(22, &server_hello(0x0303, 0xc02f, [3; 32], &[]));
        for cut in 0..sh.len() {
            assert_eq!(
                parse_flight(&sh[..cut], Want::default(), false),
                Flight::Incomplete,
                "cut {cut}"
            );
            assert!(
                matches!(
                    parse_flight(&sh[..cut], Want::default(), true),
                    Flight::Complete(_)
                ),
                "cut {cut}"
            );
        }
        assert_eq!(
            parse_flight(&[], Want::default(), true),
            Flight::Complete(TlsReply::Closed)
        );
    }

    #[test]
    fn oversized_and_wrong_records_are_malformed() {
        let mut huge = vec![22, 3, 3, 0xff, 0xff];
        huge.extend(vec![0; 100]);
        assert!(matches!(
            parse_flight(&huge, Want::default(), false),
            Flight::Complete(TlsReply::Malformed { .. })
        ));
        assert!(matches!(
            parse_flight(&record(23, b"data"), Want::default(), false),
            Flight::Complete(TlsReply::Malformed { .. })
        ));
        assert!(matches!(
            parse_flight(
                &record(22, &handshake(11, &[0, 0, 0])),
                Want::default(),
                false
            ),
            Flight::Complete(TlsReply::Malformed { .. })
        ));
    }

    #[test]
    fn plaintext_limit_and_empty_records_are_malformed() {
        let mut over = vec![22, 3, 3, 0x40, 0x01];
        over.extend(vec![2; 16385]);
        assert!(matches!(
            parse_flight(&over, Want::default(), false),
            Flight::Complete(TlsReply::Malformed { reason }) if reason.contains("plaintext maximum")
        ));
        let empties: Vec<u8> = (0..100).flat_map(|_| record(22, &[])).collect();
        assert!(matches!(
            parse_flight(&empties, Want::default(), false),
            Flight::Complete(TlsReply::Malformed { reason }) if reason.contains("empty record")
        ));
        assert!(matches!(
            parse_flight(&record(21, &[]), Want::default(), false),
            Flight::Complete(TlsReply::Malformed { .. })
        ));
    }

    #[test]
    fn random_and_truncated_bytes_never_panic() {
        let mut state: u64 = 0x1234_5678;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = record(
            22,
            &server_hello(
                0x0303,
                0xc02f,
                [3; 32],
                &[(0xff01, vec![0]), (16, vec![0, 3, 2, b'h', b'2'])],
            ),
        );
        for round in 0..20_000 {
            let mut bytes = if round % 2 == 0 {
                valid.clone()
            } else {
                (0..(next() % 300) as usize).map(|_| next() as u8).collect()
            };
            // Flip, truncate or extend.
            if !bytes.is_empty() {
                let at = (next() as usize) % bytes.len();
                bytes[at] ^= next() as u8;
                if round % 3 == 0 {
                    bytes.truncate(at);
                }
            }
            if round % 5 == 0 {
                bytes.extend((0..(next() % 50)).map(|_| next() as u8));
            }
            for want in [
                Want::default(),
                Want {
                    key_exchange: true,
                    ..Want::default()
                },
            ] {
                let _ = parse_flight(&bytes, want, false);
                let _ = parse_flight(&bytes, want, true);
            }
            let _ = parse_server_hello(&bytes);
        }
    }
}
