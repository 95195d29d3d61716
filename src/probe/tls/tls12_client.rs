//! A minimal TLS 1.2 client, for the two probes that need a completed handshake: client-initiated
//! renegotiation (a ClientHello sent encrypted under the session's keys) and Ticketbleed (a
//! NewSessionTicket, which a server sends only after it has checked the client's Finished).
//! rustls never renegotiates and does not expose tickets, hence this module.
//!
//! It speaks one thing: ECDHE over x25519, secp256r1 or secp384r1 with AES-128-GCM or
//! AES-256-GCM (the RFC 5289 suites, RFC 5288 record protection with an explicit nonce), the
//! RFC 5246 section 5 PRF and, when the server agrees, the extended master secret (RFC 7627).
//!
//! **The server is not authenticated**: neither its certificate nor its ServerKeyExchange
//! signature is verified. These probes only watch how a server reacts to a handshake and never
//! send anything of value over it, so an impostor in the middle would learn nothing; do not use
//! this client for anything else.
//!
//! Sans I/O: [`super::session::Session`] moves the bytes, this module computes them. Nothing
//! here panics on hostile input; every malformed message is a [`ClientError`].

use aws_lc_rs::{aead, agreement, digest, hmac};

use super::hello::ClientHelloSpec;
use super::wire::{Reader, Writer, handshake_message, tls12_record};
use crate::tls_registry::Protocol;

/// The suites this client speaks: ECDHE with RSA or ECDSA, AES-GCM.
pub const SUITES: [u16; 4] = [0xc02f, 0xc030, 0xc02b, 0xc02c];

/// The ECDHE groups this client speaks: x25519, secp256r1, secp384r1.
pub const GROUPS: [u16; 3] = [0x001d, 0x0017, 0x0018];

/// Why a handshake could not go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server chose a suite outside [`SUITES`].
    #[error("the server chose suite 0x{0:04x}, which this client does not speak")]
    Suite(u16),
    /// The server chose a group outside [`GROUPS`].
    #[error("the server chose group 0x{0:04x}, which this client does not speak")]
    Group(u16),
    /// A message did not parse.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A message the handshake needs never came.
    #[error("no {0} in the server's first flight")]
    Missing(&'static str),
    /// The ECDHE computation failed (e.g. an invalid point).
    #[error("the key agreement failed")]
    KeyAgreement,
    /// An encrypted record did not authenticate.
    #[error("a record from the server did not decrypt")]
    Decrypt,
    /// The server's Finished carries the wrong verify_data.
    #[error("the server's Finished does not verify")]
    Finished,
}

/// The hash of a suite's PRF and transcript: SHA-256, or SHA-384 for the AES-256 suites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrfHash {
    Sha256,
    Sha384,
}

impl PrfHash {
    fn hmac(self) -> hmac::Algorithm {
        match self {
            Self::Sha256 => hmac::HMAC_SHA256,
            Self::Sha384 => hmac::HMAC_SHA384,
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
        };
        digest::digest(algorithm, data).as_ref().to_vec()
    }
}

/// The RFC 5246 section 5 PRF: `P_hash(secret, label + seed)` cut to `len` bytes.
fn prf(hash: PrfHash, secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let key = hmac::Key::new(hash.hmac(), secret);
    let label_seed = [label, seed].concat();
    let mut out = Vec::with_capacity(len + 48);
    // A(1) = HMAC(secret, label + seed); A(i) = HMAC(secret, A(i-1)).
    let mut a = hmac::sign(&key, &label_seed);
    while out.len() < len {
        let mut block = hmac::Context::with_key(&key);
        block.update(a.as_ref());
        block.update(&label_seed);
        out.extend_from_slice(block.sign().as_ref());
        a = hmac::sign(&key, a.as_ref());
    }
    out.truncate(len);
    out
}

/// One direction's record protection: AES-GCM with a 4-byte implicit salt and the sequence
/// number as the 8-byte explicit nonce (RFC 5288 section 3; RFC 5246 section 6.2.3.3).
pub struct RecordProtection {
    key: aead::LessSafeKey,
    salt: [u8; 4],
    sequence: u64,
}

impl RecordProtection {
    /// Protection with a 16- or 32-byte AES key and the 4-byte salt from the key block.
    pub fn new(key: &[u8], salt: &[u8]) -> Result<Self, ClientError> {
        let algorithm = match key.len() {
            16 => &aead::AES_128_GCM,
            32 => &aead::AES_256_GCM,
            _ => return Err(ClientError::KeyAgreement),
        };
        let key = aead::UnboundKey::new(algorithm, key).map_err(|_| ClientError::KeyAgreement)?;
        let salt = salt.try_into().map_err(|_| ClientError::KeyAgreement)?;
        Ok(Self {
            key: aead::LessSafeKey::new(key),
            salt,
            sequence: 0,
        })
    }

    fn nonce(&self, explicit: &[u8; 8]) -> aead::Nonce {
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&self.salt);
        nonce[4..].copy_from_slice(explicit);
        aead::Nonce::assume_unique_for_key(nonce)
    }

    /// seq_num + type + version + length of the plaintext (RFC 5246 section 6.2.3.3).
    fn aad(&self, content_type: u8, length: usize) -> aead::Aad<[u8; 13]> {
        let mut aad = [0u8; 13];
        aad[..8].copy_from_slice(&self.sequence.to_be_bytes());
        aad[8] = content_type;
        aad[9..11].copy_from_slice(&0x0303u16.to_be_bytes());
        aad[11..].copy_from_slice(&u16::try_from(length).unwrap_or(u16::MAX).to_be_bytes());
        aead::Aad::from(aad)
    }

    /// A whole protected record: header, explicit nonce, ciphertext and tag.
    pub fn seal(&mut self, content_type: u8, plaintext: &[u8]) -> Result<Vec<u8>, ClientError> {
        let explicit = self.sequence.to_be_bytes();
        let mut sealed = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                self.nonce(&explicit),
                self.aad(content_type, plaintext.len()),
                &mut sealed,
            )
            .map_err(|_| ClientError::KeyAgreement)?;
        self.sequence = self.sequence.wrapping_add(1);
        let mut record = Writer::new();
        record.u8(content_type).u16(0x0303).prefixed_u16(|w| {
            w.bytes(&explicit).bytes(&sealed);
        });
        Ok(record.into_bytes())
    }

    /// The plaintext of a protected record's body.
    pub fn open(&mut self, content_type: u8, body: &[u8]) -> Result<Vec<u8>, ClientError> {
        let (Some(explicit), Some(sealed)) = (body.get(..8), body.get(8..)) else {
            return Err(ClientError::Decrypt);
        };
        let explicit: [u8; 8] = explicit.try_into().map_err(|_| ClientError::Decrypt)?;
        let length = sealed
            .len()
            .checked_sub(aead::AES_128_GCM.tag_len())
            .ok_or(ClientError::Decrypt)?;
        let mut in_out = sealed.to_vec();
        let plaintext = self
            .key
            .open_in_place(
                self.nonce(&explicit),
                self.aad(content_type, length),
                &mut in_out,
            )
            .map_err(|_| ClientError::Decrypt)?
            .len();
        in_out.truncate(plaintext);
        self.sequence = self.sequence.wrapping_add(1);
        Ok(in_out)
    }
}

/// The ClientHello this client sends: TLS 1.2, [`SUITES`], [`GROUPS`], a fresh random; the
/// caller may set a session id or a ticket before handing it to [`Tls12Client::new`].
pub fn hello_spec(server_name: &str) -> ClientHelloSpec {
    let mut spec = ClientHelloSpec::new(
        Protocol::Tls1_2,
        SUITES.to_vec(),
        Some(server_name.to_string()),
    );
    spec.groups = GROUPS.to_vec();
    // A random that is not random would only weaken a session that carries nothing; still,
    // draw one (the fixed filler is kept for the probes that never finish a handshake).
    let _ = aws_lc_rs::rand::fill(&mut spec.random);
    spec
}

/// A client from its ClientHello until it has sent its Finished.
pub struct Tls12Client {
    hello: ClientHelloSpec,
    transcript: Vec<u8>,
}

/// The parts of the server's first flight the key exchange needs.
struct ServerFlight {
    random: Vec<u8>,
    suite: u16,
    extensions: Vec<u16>,
    group: u16,
    point: Vec<u8>,
    certificate_request: bool,
}

impl Tls12Client {
    /// A client that sends `hello` (see [`hello_spec`]).
    pub fn new(hello: ClientHelloSpec) -> Self {
        let transcript = hello.handshake();
        Self { hello, transcript }
    }

    /// The ClientHello record to send first.
    pub fn hello_record(&self) -> Vec<u8> {
        self.hello.to_record()
    }

    /// Reads the server's first flight (its raw records through ServerHelloDone) and returns
    /// the client's second flight — an empty Certificate if one was requested,
    /// ClientKeyExchange, ChangeCipherSpec, the encrypted Finished — and the session.
    pub fn key_exchange(
        mut self,
        first_flight: &[u8],
    ) -> Result<(Vec<u8>, Established), ClientError> {
        let handshake = handshake_bytes(first_flight)?;
        let server = self.read_flight(&handshake)?;
        let hash = match server.suite {
            0xc02f | 0xc02b => PrfHash::Sha256,
            0xc030 | 0xc02c => PrfHash::Sha384,
            other => return Err(ClientError::Suite(other)),
        };
        let key_len = if hash == PrfHash::Sha256 { 16 } else { 32 };
        let algorithm = match server.group {
            0x001d => &agreement::X25519,
            0x0017 => &agreement::ECDH_P256,
            0x0018 => &agreement::ECDH_P384,
            other => return Err(ClientError::Group(other)),
        };
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let private = agreement::EphemeralPrivateKey::generate(algorithm, &rng)
            .map_err(|_| ClientError::KeyAgreement)?;
        let public = private
            .compute_public_key()
            .map_err(|_| ClientError::KeyAgreement)?;
        let premaster = agreement::agree_ephemeral(
            private,
            agreement::UnparsedPublicKey::new(algorithm, &server.point),
            ClientError::KeyAgreement,
            |secret| Ok(secret.to_vec()),
        )?;

        let mut cleartext = Vec::new();
        if server.certificate_request {
            // An empty certificate_list: this client has no certificate (RFC 5246 7.4.6).
            cleartext.extend(handshake_message(11, &[0, 0, 0]));
        }
        cleartext.extend(handshake_message(16, &{
            let mut w = Writer::new();
            w.prefixed_u8(|w| {
                w.bytes(public.as_ref());
            });
            w.into_bytes()
        }));
        self.transcript.extend_from_slice(&cleartext);

        let client_random = self.hello.random.to_vec();
        let master = if server.extensions.contains(&23) {
            let session_hash = hash.digest(&self.transcript);
            prf(
                hash,
                &premaster,
                b"extended master secret",
                &session_hash,
                48,
            )
        } else {
            let seed = [client_random.as_slice(), &server.random].concat();
            prf(hash, &premaster, b"master secret", &seed, 48)
        };
        let seed = [server.random.as_slice(), &client_random].concat();
        let block = prf(hash, &master, b"key expansion", &seed, 2 * key_len + 8);
        let (client_key, rest) = block.split_at(key_len);
        let (server_key, ivs) = rest.split_at(key_len);
        let mut client = RecordProtection::new(client_key, &ivs[..4])?;
        let server_protection = RecordProtection::new(server_key, &ivs[4..])?;

        let verify = prf(
            hash,
            &master,
            b"client finished",
            &hash.digest(&self.transcript),
            12,
        );
        let finished = handshake_message(20, &verify);
        self.transcript.extend_from_slice(&finished);

        let mut flight = tls12_record(22, &cleartext);
        flight.extend(tls12_record(20, &[1]));
        flight.extend(client.seal(22, &finished)?);
        Ok((
            flight,
            Established {
                hash,
                master,
                client,
                server: server_protection,
                transcript: self.transcript,
                client_verify_data: verify,
                secure_renegotiation: server.extensions.contains(&0xff01),
                server_encrypts: false,
                server_finished: false,
                pending: Vec::new(),
                ticket: None,
            },
        ))
    }

    /// Parses the flight's handshake messages, adding each to the transcript.
    fn read_flight(&mut self, handshake: &[u8]) -> Result<ServerFlight, ClientError> {
        let mut flight = ServerFlight {
            random: Vec::new(),
            suite: 0,
            extensions: Vec::new(),
            group: 0,
            point: Vec::new(),
            certificate_request: false,
        };
        let (mut hello, mut key_exchange) = (false, false);
        let mut messages = Reader::new(handshake);
        while !messages.is_empty() {
            let start = messages.position();
            let kind = messages
                .u8()
                .map_err(|_| ClientError::Malformed("handshake"))?;
            let mut body = messages
                .prefixed_u24()
                .map_err(|_| ClientError::Malformed("handshake"))?;
            self.transcript
                .extend_from_slice(&handshake[start..messages.position()]);
            match kind {
                2 => {
                    hello = true;
                    read_server_hello(&mut body, &mut flight)
                        .ok_or(ClientError::Malformed("ServerHello"))?;
                }
                12 => {
                    key_exchange = true;
                    // curve_type 3 = named_curve, the group, the point (RFC 8422 5.4).
                    (body.u8().ok() == Some(3))
                        .then_some(())
                        .ok_or(ClientError::Malformed("ServerKeyExchange"))?;
                    flight.group = body
                        .u16()
                        .map_err(|_| ClientError::Malformed("ServerKeyExchange"))?;
                    flight.point = body
                        .prefixed_u8()
                        .map_err(|_| ClientError::Malformed("ServerKeyExchange"))?
                        .rest()
                        .to_vec();
                }
                13 => flight.certificate_request = true,
                14 => break,
                _ => {}
            }
        }
        if !hello {
            return Err(ClientError::Missing("ServerHello"));
        }
        if !SUITES.contains(&flight.suite) {
            return Err(ClientError::Suite(flight.suite));
        }
        if !key_exchange {
            return Err(ClientError::Missing("ServerKeyExchange"));
        }
        Ok(flight)
    }
}

fn read_server_hello(body: &mut Reader<'_>, flight: &mut ServerFlight) -> Option<()> {
    if body.u16().ok()? != 0x0303 {
        return None;
    }
    flight.random = body.take(32).ok()?.to_vec();
    body.prefixed_u8().ok()?;
    flight.suite = body.u16().ok()?;
    body.u8().ok()?;
    if !body.is_empty() {
        let mut extensions = body.prefixed_u16().ok()?;
        while !extensions.is_empty() {
            flight.extensions.push(extensions.u16().ok()?);
            extensions.prefixed_u16().ok()?;
        }
    }
    Some(())
}

/// What one server record after the client's Finished was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// Handshake messages the record completes or begins, by type (4 NewSessionTicket before
    /// the server's Finished; 2 ServerHello or 0 HelloRequest after it).
    Handshake(Vec<u8>),
    /// The server's ChangeCipherSpec: what follows is encrypted.
    ChangeCipherSpec,
    /// The server's Finished, verified.
    Finished,
    /// An alert.
    Alert {
        /// 1 warning, 2 fatal.
        level: u8,
        /// Alert description number.
        description: u8,
    },
    /// Application data of this many bytes (contents dropped).
    ApplicationData(usize),
}

/// A session whose client side has finished: reads the server's records, holds the keys.
pub struct Established {
    hash: PrfHash,
    master: Vec<u8>,
    client: RecordProtection,
    server: RecordProtection,
    transcript: Vec<u8>,
    client_verify_data: Vec<u8>,
    secure_renegotiation: bool,
    server_encrypts: bool,
    server_finished: bool,
    pending: Vec<u8>,
    ticket: Option<Vec<u8>>,
}

impl Established {
    /// Interprets one server record (content type and body).
    pub fn read(&mut self, content_type: u8, body: &[u8]) -> Result<Inbound, ClientError> {
        if content_type == 20 {
            if body != [1] {
                return Err(ClientError::Malformed("ChangeCipherSpec"));
            }
            self.server_encrypts = true;
            return Ok(Inbound::ChangeCipherSpec);
        }
        let plaintext = if self.server_encrypts {
            self.server.open(content_type, body)?
        } else {
            body.to_vec()
        };
        match (content_type, plaintext.as_slice()) {
            (21, [level, description]) => Ok(Inbound::Alert {
                level: *level,
                description: *description,
            }),
            (21, _) => Err(ClientError::Malformed("alert")),
            (22, _) => self.handshake(&plaintext),
            (23, _) => Ok(Inbound::ApplicationData(plaintext.len())),
            _ => Err(ClientError::Malformed("record type")),
        }
    }

    fn handshake(&mut self, plaintext: &[u8]) -> Result<Inbound, ClientError> {
        self.pending.extend_from_slice(plaintext);
        let mut types = Vec::new();
        loop {
            let mut r = Reader::new(&self.pending);
            let (Ok(kind), Ok(mut body)) = (r.u8(), r.prefixed_u24()) else {
                break;
            };
            let used = r.position();
            let whole = self.pending[..used].to_vec();
            let body_bytes = body.rest().to_vec();
            self.pending.drain(..used);
            match (kind, self.server_encrypts, self.server_finished) {
                (20, true, false) => {
                    let expected = prf(
                        self.hash,
                        &self.master,
                        b"server finished",
                        &self.hash.digest(&self.transcript),
                        12,
                    );
                    if body_bytes != expected {
                        return Err(ClientError::Finished);
                    }
                    self.transcript.extend_from_slice(&whole);
                    self.server_finished = true;
                    return Ok(Inbound::Finished);
                }
                (4, false, false) => {
                    // NewSessionTicket: lifetime hint, then the ticket (RFC 5077 3.3).
                    let mut ticket = Reader::new(&body_bytes);
                    ticket
                        .take(4)
                        .map_err(|_| ClientError::Malformed("NewSessionTicket"))?;
                    let bytes = ticket
                        .prefixed_u16()
                        .map_err(|_| ClientError::Malformed("NewSessionTicket"))?
                        .rest();
                    self.ticket = Some(bytes.to_vec());
                }
                _ => {}
            }
            if !self.server_finished {
                self.transcript.extend_from_slice(&whole);
            }
            types.push(kind);
        }
        // A message this record begins but does not complete.
        types.extend(self.pending.first().filter(|_| types.is_empty()));
        Ok(Inbound::Handshake(types))
    }

    /// The ticket of the server's NewSessionTicket, if one came (empty: the server issued none).
    pub fn ticket(&self) -> Option<&[u8]> {
        self.ticket.as_deref()
    }

    /// Whether the server acknowledged RFC 5746 renegotiation_info in its ServerHello.
    pub fn secure_renegotiation(&self) -> bool {
        self.secure_renegotiation
    }

    /// `hello` as a renegotiation: with this session's client verify_data in renegotiation_info
    /// when the server supports RFC 5746 (section 3.5), encrypted under the session's keys.
    pub fn renegotiation_hello(
        &mut self,
        mut hello: ClientHelloSpec,
    ) -> Result<Vec<u8>, ClientError> {
        if self.secure_renegotiation {
            hello.renegotiation_info = self.client_verify_data.clone();
        }
        self.client.seal(22, &hello.handshake())
    }
}

/// The concatenated bodies of the handshake records of a first flight.
fn handshake_bytes(flight: &[u8]) -> Result<Vec<u8>, ClientError> {
    let mut records = Reader::new(flight);
    let mut handshake = Vec::new();
    while !records.is_empty() {
        let content_type = records.u8().map_err(|_| ClientError::Malformed("record"))?;
        records
            .u16()
            .map_err(|_| ClientError::Malformed("record"))?;
        let body = records
            .prefixed_u16()
            .map_err(|_| ClientError::Malformed("record"))?
            .rest();
        if content_type != 22 {
            return Err(ClientError::Malformed("first flight"));
        }
        handshake.extend_from_slice(body);
    }
    Ok(handshake)
}

/// The session id of the ServerHello that opens `handshake` (the concatenated bodies of the
/// server's handshake records): `None` while incomplete, `Err` when it is not a ServerHello.
pub fn server_hello_session_id(handshake: &[u8]) -> Option<Result<Vec<u8>, ClientError>> {
    use tls_parser::{TlsMessage, TlsMessageHandshake};
    let mut r = Reader::new(handshake);
    let kind = r.u8().ok()?;
    r.prefixed_u24().ok()?;
    if kind != 2 {
        return Some(Err(ClientError::Missing("ServerHello")));
    }
    let length = r.position();
    Some(
        match tls_parser::parse_tls_message_handshake(&handshake[..length]) {
            Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ServerHello(hello)))) => {
                Ok(hello.session_id.unwrap_or_default().to_vec())
            }
            _ => Err(ClientError::Malformed("ServerHello")),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn prf_matches_the_published_test_vectors() {
        // The TLS 1.2 PRF vectors posted to the IETF TLS list (msg03416), P_SHA256 and
        // P_SHA384, label "test label".
        let out = prf(
            PrfHash::Sha256,
            &hex("9bbe436ba940f017b17652849a71db35"),
            b"test label",
            &hex("a0ba9f936cda311827a6f796ffd5198c"),
            100,
        );
        assert_eq!(
            out,
            hex(
                "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66"
            )
        );
        let out = prf(
            PrfHash::Sha384,
            &hex("b80b733d6ceefcdc71566ea48e5567df"),
            b"test label",
            &hex("cd665cf6a8447dd6ff8b27555edb7465"),
            148,
        );
        assert_eq!(
            out,
            hex(
                "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e0990703d73e56f"
            )
        );
    }

    #[test]
    fn records_round_trip_and_tampering_is_refused() {
        for key_len in [16, 32] {
            let key = vec![7u8; key_len];
            let mut sender = RecordProtection::new(&key, &[1, 2, 3, 4]).unwrap();
            let mut receiver = RecordProtection::new(&key, &[1, 2, 3, 4]).unwrap();
            for (n, text) in [&b"first"[..], b"", &[0xaa; 300]].into_iter().enumerate() {
                let record = sender.seal(22, text).unwrap();
                // An independent parser sees one handshake record: 8-byte explicit nonce
                // (the sequence number), ciphertext, 16-byte tag.
                let (rest, raw) = tls_parser::parse_tls_raw_record(&record).unwrap();
                assert!(rest.is_empty());
                assert_eq!(raw.hdr.record_type, tls_parser::TlsRecordType::Handshake);
                assert_eq!(raw.data.len(), 8 + text.len() + 16);
                assert_eq!(raw.data[..8], (n as u64).to_be_bytes());
                assert_eq!(receiver.open(22, raw.data).unwrap(), text);
            }
            let record = sender.seal(23, b"data").unwrap();
            let mut tampered = record[5..].to_vec();
            tampered[10] ^= 1;
            let mut other = RecordProtection::new(&key, &[1, 2, 3, 4]).unwrap();
            other.sequence = 3;
            assert_eq!(other.open(23, &tampered), Err(ClientError::Decrypt));
            assert_eq!(
                receiver.open(22, &record[5..]),
                Err(ClientError::Decrypt),
                "the content type is authenticated"
            );
            assert_eq!(receiver.open(23, &[0; 10]), Err(ClientError::Decrypt));
        }
    }

    #[test]
    fn hostile_flights_are_errors_not_panics() {
        for bytes in crate::fuzz::random_inputs(0x7e11, 3000, 96) {
            let client = Tls12Client::new(hello_spec("a.test"));
            assert!(client.key_exchange(&bytes).is_err());
            let _ = server_hello_session_id(&bytes);
        }
        let client = Tls12Client::new(hello_spec("a.test"));
        // A ServerHello choosing a suite this client does not speak.
        let mut hello = Writer::new();
        hello.u16(0x0303).bytes(&[0; 32]).u8(0).u16(0x009c).u8(0);
        let flight = tls12_record(
            22,
            &[
                handshake_message(2, &hello.into_bytes()),
                handshake_message(14, &[]),
            ]
            .concat(),
        );
        assert_eq!(
            client.key_exchange(&flight).err(),
            Some(ClientError::Suite(0x009c))
        );
    }

    #[test]
    fn session_id_is_read_from_a_whole_server_hello_only() {
        let mut hello = Writer::new();
        hello
            .u16(0x0303)
            .bytes(&[0; 32])
            .prefixed_u8(|w| {
                w.bytes(&[9; 32]);
            })
            .u16(0xc02f)
            .u8(0);
        let message = handshake_message(2, &hello.into_bytes());
        assert_eq!(server_hello_session_id(&message), Some(Ok(vec![9; 32])));
        assert_eq!(server_hello_session_id(&message[..20]), None);
        assert!(matches!(
            server_hello_session_id(&[14, 0, 0, 0]),
            Some(Err(_))
        ));
    }
}
