//! The SSH transport layer (RFC 4253), just enough of it to reach the user-authentication
//! service: identification strings, binary packets, `curve25519-sha256` key exchange (RFC 8731),
//! `aes128-ctr`/`aes256-ctr` with `hmac-sha2-256`, host-key signatures (`ssh-ed25519`,
//! `ecdsa-sha2-nistp256`, `rsa-sha2-256/512`). All cryptography is aws-lc-rs, the crate's one
//! provider.
//!
//! Shared by the exposure probe's client (`probe::ssh`) and the lab's test server (`lab::ssh`).
//! Every read is bounded: packets by [`MAX_PACKET`], the identification exchange by
//! [`MAX_IDENT_BYTES`], and every wait by the caller's deadline. A malformed or hostile peer
//! yields an [`SshError`], never a panic.

use aws_lc_rs::agreement;
use aws_lc_rs::cipher::{AES_128, AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::digest;
use aws_lc_rs::hmac;
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::signature;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Largest packet accepted (RFC 4253 §6.1 asks implementations to handle 35000 bytes).
pub const MAX_PACKET: usize = 35_000;

/// Most bytes read while looking for the peer's identification string (lines before it are
/// allowed by RFC 4253 §4.2).
pub const MAX_IDENT_BYTES: usize = 8192;

/// Key-exchange methods offered, in preference order.
pub const KEX: [&str; 2] = ["curve25519-sha256", "curve25519-sha256@libssh.org"];
/// Host-key algorithms offered.
pub const HOST_KEY: [&str; 4] = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "rsa-sha2-512",
    "rsa-sha2-256",
];
/// Ciphers offered.
pub const CIPHERS: [&str; 2] = ["aes128-ctr", "aes256-ctr"];
/// MACs offered.
pub const MACS: [&str; 1] = ["hmac-sha2-256"];

/// Message numbers used here (RFC 4250 §4.1).
pub mod msg {
    /// SSH_MSG_DISCONNECT.
    pub const DISCONNECT: u8 = 1;
    /// SSH_MSG_IGNORE.
    pub const IGNORE: u8 = 2;
    /// SSH_MSG_DEBUG.
    pub const DEBUG: u8 = 4;
    /// SSH_MSG_SERVICE_REQUEST.
    pub const SERVICE_REQUEST: u8 = 5;
    /// SSH_MSG_SERVICE_ACCEPT.
    pub const SERVICE_ACCEPT: u8 = 6;
    /// SSH_MSG_EXT_INFO (RFC 8308).
    pub const EXT_INFO: u8 = 7;
    /// SSH_MSG_KEXINIT.
    pub const KEXINIT: u8 = 20;
    /// SSH_MSG_NEWKEYS.
    pub const NEWKEYS: u8 = 21;
    /// SSH_MSG_KEX_ECDH_INIT.
    pub const KEX_ECDH_INIT: u8 = 30;
    /// SSH_MSG_KEX_ECDH_REPLY.
    pub const KEX_ECDH_REPLY: u8 = 31;
    /// SSH_MSG_USERAUTH_REQUEST.
    pub const USERAUTH_REQUEST: u8 = 50;
    /// SSH_MSG_USERAUTH_FAILURE.
    pub const USERAUTH_FAILURE: u8 = 51;
    /// SSH_MSG_USERAUTH_SUCCESS.
    pub const USERAUTH_SUCCESS: u8 = 52;
    /// SSH_MSG_USERAUTH_BANNER.
    pub const USERAUTH_BANNER: u8 = 53;
}

/// Why an SSH exchange stopped.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    /// The socket failed.
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
    /// The deadline passed while waiting.
    #[error("no answer before the deadline")]
    Timeout,
    /// The peer closed the connection.
    #[error("the peer closed the connection")]
    Closed,
    /// A field or packet did not parse.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The peer's messages were well-formed but not what the protocol allows here.
    #[error("{0}")]
    Protocol(String),
    /// A cryptographic step failed (bad signature, bad MAC, bad key).
    #[error("{0}")]
    Crypto(&'static str),
}

/// A cursor over SSH wire data that returns errors instead of panicking.
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], SshError> {
        if self.data.len() < n {
            return Err(SshError::Malformed("message (truncated)"));
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    /// A byte.
    pub fn u8(&mut self) -> Result<u8, SshError> {
        Ok(self.take(1)?[0])
    }

    /// A big-endian `uint32`.
    pub fn u32(&mut self) -> Result<u32, SshError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A `boolean`.
    pub fn bool(&mut self) -> Result<bool, SshError> {
        Ok(self.u8()? != 0)
    }

    /// A `string` (length-prefixed bytes).
    pub fn string(&mut self) -> Result<&'a [u8], SshError> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    /// A `name-list`: comma-separated US-ASCII names.
    pub fn name_list(&mut self) -> Result<Vec<String>, SshError> {
        let raw = self.string()?;
        let text = std::str::from_utf8(raw).map_err(|_| SshError::Malformed("name-list"))?;
        Ok(if text.is_empty() {
            Vec::new()
        } else {
            text.split(',').map(str::to_string).collect()
        })
    }
}

/// Builds SSH wire data.
#[derive(Debug, Default)]
pub struct Encoder(pub Vec<u8>);

impl Encoder {
    /// A message starting with its number.
    pub fn message(number: u8) -> Self {
        Self(vec![number])
    }

    /// Appends a byte.
    pub fn u8(mut self, value: u8) -> Self {
        self.0.push(value);
        self
    }

    /// Appends a `uint32`.
    pub fn u32(mut self, value: u32) -> Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// Appends a `boolean`.
    pub fn bool(self, value: bool) -> Self {
        self.u8(u8::from(value))
    }

    /// Appends a `string`.
    pub fn string(mut self, value: &[u8]) -> Self {
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(value);
        self
    }

    /// Appends a `name-list`.
    pub fn name_list<S: AsRef<str>>(self, names: &[S]) -> Self {
        let joined: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
        self.string(joined.join(",").as_bytes())
    }

    /// Appends an `mpint` from unsigned big-endian bytes.
    pub fn mpint(self, unsigned: &[u8]) -> Self {
        let trimmed: &[u8] = {
            let start = unsigned
                .iter()
                .position(|&b| b != 0)
                .unwrap_or(unsigned.len());
            &unsigned[start..]
        };
        if trimmed.first().is_some_and(|&b| b & 0x80 != 0) {
            let mut padded = Vec::with_capacity(trimmed.len() + 1);
            padded.push(0);
            padded.extend_from_slice(trimmed);
            self.string(&padded)
        } else {
            self.string(trimmed)
        }
    }
}

/// An `SSH_MSG_KEXINIT`'s name-lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KexInit {
    /// Key-exchange methods.
    pub kex: Vec<String>,
    /// Host-key algorithms.
    pub host_key: Vec<String>,
    /// Ciphers client to server.
    pub ciphers_c2s: Vec<String>,
    /// Ciphers server to client.
    pub ciphers_s2c: Vec<String>,
    /// MACs client to server.
    pub macs_c2s: Vec<String>,
    /// MACs server to client.
    pub macs_s2c: Vec<String>,
    /// Compression client to server.
    pub compression_c2s: Vec<String>,
    /// Compression server to client.
    pub compression_s2c: Vec<String>,
    /// A guessed key-exchange packet follows.
    pub first_kex_follows: bool,
}

impl KexInit {
    /// What this implementation offers, with these host-key algorithms.
    pub fn ours(host_key: &[&str]) -> Self {
        let list = |names: &[&str]| names.iter().map(|n| (*n).to_string()).collect::<Vec<_>>();
        Self {
            kex: list(&KEX),
            host_key: list(host_key),
            ciphers_c2s: list(&CIPHERS),
            ciphers_s2c: list(&CIPHERS),
            macs_c2s: list(&MACS),
            macs_s2c: list(&MACS),
            compression_c2s: list(&["none"]),
            compression_s2c: list(&["none"]),
            first_kex_follows: false,
        }
    }

    /// The message payload, with a random cookie.
    pub fn encode(&self) -> Vec<u8> {
        let mut cookie = [0u8; 16];
        // A fixed cookie only weakens nothing here: the exchange hash also covers fresh keys.
        let _ = aws_lc_rs::rand::fill(&mut cookie);
        let mut e = Encoder::message(msg::KEXINIT);
        e.0.extend_from_slice(&cookie);
        e.name_list(&self.kex)
            .name_list(&self.host_key)
            .name_list(&self.ciphers_c2s)
            .name_list(&self.ciphers_s2c)
            .name_list(&self.macs_c2s)
            .name_list(&self.macs_s2c)
            .name_list(&self.compression_c2s)
            .name_list(&self.compression_s2c)
            .name_list::<&str>(&[])
            .name_list::<&str>(&[])
            .bool(self.first_kex_follows)
            .u32(0)
            .0
    }

    /// Parses a payload that starts with `SSH_MSG_KEXINIT`.
    pub fn parse(payload: &[u8]) -> Result<Self, SshError> {
        let mut r = Reader::new(payload);
        if r.u8()? != msg::KEXINIT {
            return Err(SshError::Protocol("expected KEXINIT".into()));
        }
        r.take(16)?;
        let init = Self {
            kex: r.name_list()?,
            host_key: r.name_list()?,
            ciphers_c2s: r.name_list()?,
            ciphers_s2c: r.name_list()?,
            macs_c2s: r.name_list()?,
            macs_s2c: r.name_list()?,
            compression_c2s: r.name_list()?,
            compression_s2c: r.name_list()?,
            first_kex_follows: {
                r.name_list()?;
                r.name_list()?;
                r.bool()?
            },
        };
        r.u32()?;
        Ok(init)
    }
}

/// The algorithms both sides agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Algorithms {
    /// Key exchange.
    pub kex: String,
    /// Host-key algorithm.
    pub host_key: String,
    /// Cipher client to server.
    pub cipher_c2s: String,
    /// Cipher server to client.
    pub cipher_s2c: String,
    /// MAC client to server.
    pub mac_c2s: String,
    /// MAC server to client.
    pub mac_s2c: String,
}

impl Algorithms {
    /// The names, for the evidence.
    pub fn names(&self) -> Vec<String> {
        vec![
            self.kex.clone(),
            self.host_key.clone(),
            self.cipher_c2s.clone(),
            self.mac_c2s.clone(),
        ]
    }
}

/// The first algorithm of the client's list that the server also lists (RFC 4253 §7.1).
fn first_common(what: &str, client: &[String], server: &[String]) -> Result<String, SshError> {
    client
        .iter()
        .find(|name| server.contains(name))
        .cloned()
        .ok_or_else(|| {
            SshError::Protocol(format!(
                "no common {what} (the server offers {})",
                server.join(",")
            ))
        })
}

/// Negotiates every algorithm from the two KEXINITs.
pub fn negotiate(client: &KexInit, server: &KexInit) -> Result<Algorithms, SshError> {
    let none = ["none".to_string()];
    first_common("compression", &none, &server.compression_c2s)?;
    first_common("compression", &none, &server.compression_s2c)?;
    Ok(Algorithms {
        kex: first_common("key exchange", &client.kex, &server.kex)?,
        host_key: first_common("host-key algorithm", &client.host_key, &server.host_key)?,
        cipher_c2s: first_common("cipher", &client.ciphers_c2s, &server.ciphers_c2s)?,
        cipher_s2c: first_common("cipher", &client.ciphers_s2c, &server.ciphers_s2c)?,
        mac_c2s: first_common("MAC", &client.macs_c2s, &server.macs_c2s)?,
        mac_s2c: first_common("MAC", &client.macs_s2c, &server.macs_s2c)?,
    })
}

/// The inputs of the exchange hash H (RFC 8731 §3.1, RFC 5656 §4).
pub struct ExchangeHashInput<'a> {
    /// Client identification string, without CR LF.
    pub client_ident: &'a [u8],
    /// Server identification string, without CR LF.
    pub server_ident: &'a [u8],
    /// Client KEXINIT payload.
    pub client_kexinit: &'a [u8],
    /// Server KEXINIT payload.
    pub server_kexinit: &'a [u8],
    /// Server host key blob.
    pub host_key: &'a [u8],
    /// Client ephemeral public key.
    pub client_ephemeral: &'a [u8],
    /// Server ephemeral public key.
    pub server_ephemeral: &'a [u8],
    /// Shared secret, unsigned big-endian.
    pub shared_secret: &'a [u8],
}

impl ExchangeHashInput<'_> {
    /// SHA-256 over the encoded inputs.
    pub fn hash(&self) -> Vec<u8> {
        let encoded = Encoder::default()
            .string(self.client_ident)
            .string(self.server_ident)
            .string(self.client_kexinit)
            .string(self.server_kexinit)
            .string(self.host_key)
            .string(self.client_ephemeral)
            .string(self.server_ephemeral)
            .mpint(self.shared_secret);
        digest::digest(&digest::SHA256, &encoded.0)
            .as_ref()
            .to_vec()
    }
}

/// An ephemeral X25519 key pair.
pub struct Ephemeral {
    private: agreement::PrivateKey,
    /// The public key, 32 bytes.
    pub public: Vec<u8>,
}

impl Ephemeral {
    /// A fresh key pair.
    pub fn generate() -> Result<Self, SshError> {
        let private = agreement::PrivateKey::generate(&agreement::X25519)
            .map_err(|_| SshError::Crypto("cannot generate an X25519 key"))?;
        let public = private
            .compute_public_key()
            .map_err(|_| SshError::Crypto("cannot generate an X25519 key"))?
            .as_ref()
            .to_vec();
        Ok(Self { private, public })
    }

    /// The shared secret with the peer's public key.
    pub fn agree(&self, peer: &[u8]) -> Result<Vec<u8>, SshError> {
        if peer.len() != 32 {
            return Err(SshError::Malformed("X25519 public key"));
        }
        agreement::agree(
            &self.private,
            agreement::UnparsedPublicKey::new(&agreement::X25519, peer),
            SshError::Crypto("X25519 agreement failed"),
            |secret| Ok(secret.to_vec()),
        )
    }
}

/// Checks the server's signature over the exchange hash with its host key.
pub fn verify_host_signature(
    algorithm: &str,
    host_key: &[u8],
    sig: &[u8],
    hash: &[u8],
) -> Result<(), SshError> {
    let mut key = Reader::new(host_key);
    let mut sig_reader = Reader::new(sig);
    let sig_name = sig_reader.string()?;
    let blob = sig_reader.string()?;
    if sig_name != algorithm.as_bytes() {
        return Err(SshError::Protocol(format!(
            "signature algorithm {} is not the negotiated {algorithm}",
            String::from_utf8_lossy(sig_name)
        )));
    }
    let bad = || SshError::Crypto("the host-key signature does not verify");
    match algorithm {
        "ssh-ed25519" => {
            key.string()?;
            let public = key.string()?;
            signature::UnparsedPublicKey::new(&signature::ED25519, public)
                .verify(hash, blob)
                .map_err(|_| bad())
        }
        "ecdsa-sha2-nistp256" => {
            key.string()?;
            key.string()?;
            let point = key.string()?;
            let mut rs = Reader::new(blob);
            let mut fixed = Vec::with_capacity(64);
            for _ in 0..2 {
                let n = rs.string()?;
                let n = n.strip_prefix(&[0]).unwrap_or(n);
                if n.len() > 32 {
                    return Err(SshError::Malformed("ECDSA signature"));
                }
                fixed.extend(std::iter::repeat_n(0u8, 32 - n.len()));
                fixed.extend_from_slice(n);
            }
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(hash, &fixed)
                .map_err(|_| bad())
        }
        "rsa-sha2-256" | "rsa-sha2-512" => {
            key.string()?;
            let e = key.string()?;
            let n = key.string()?;
            let params = if algorithm == "rsa-sha2-256" {
                &signature::RSA_PKCS1_2048_8192_SHA256
            } else {
                &signature::RSA_PKCS1_2048_8192_SHA512
            };
            signature::RsaPublicKeyComponents { n, e }
                .verify(params, hash, blob)
                .map_err(|_| bad())
        }
        other => Err(SshError::Protocol(format!(
            "unsupported host-key algorithm {other}"
        ))),
    }
}

/// Keys of one direction.
pub struct DirectionKeys {
    /// Initial counter block.
    pub iv: [u8; 16],
    /// Cipher key (16 or 32 bytes).
    pub key: Vec<u8>,
    /// MAC key.
    pub mac: Vec<u8>,
}

/// Derives one direction's keys (RFC 4253 §7.2): letters `A`/`C`/`E` client to server,
/// `B`/`D`/`F` server to client.
pub fn derive_keys(
    shared_secret: &[u8],
    hash: &[u8],
    session_id: &[u8],
    letters: [u8; 3],
    cipher: &str,
) -> DirectionKeys {
    let k = Encoder::default().mpint(shared_secret).0;
    let derive = |letter: u8| {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&k);
        ctx.update(hash);
        ctx.update(&[letter]);
        ctx.update(session_id);
        ctx.finish().as_ref().to_vec()
    };
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&derive(letters[0])[..16]);
    let key_len = if cipher == "aes256-ctr" { 32 } else { 16 };
    DirectionKeys {
        iv,
        key: derive(letters[1])[..key_len].to_vec(),
        mac: derive(letters[2]),
    }
}

/// The cipher and MAC state of one direction.
struct Protection {
    cipher: EncryptingKey,
    counter: u128,
    mac: hmac::Key,
}

impl Protection {
    fn new(keys: &DirectionKeys) -> Result<Self, SshError> {
        let algorithm = if keys.key.len() == 32 {
            &AES_256
        } else {
            &AES_128
        };
        let unbound = UnboundCipherKey::new(algorithm, &keys.key)
            .map_err(|_| SshError::Crypto("bad cipher key"))?;
        Ok(Self {
            cipher: EncryptingKey::ctr(unbound).map_err(|_| SshError::Crypto("bad cipher key"))?,
            counter: u128::from_be_bytes(keys.iv),
            mac: hmac::Key::new(hmac::HMAC_SHA256, &keys.mac),
        })
    }

    /// Applies the CTR keystream to whole blocks and advances the counter.
    fn apply(&mut self, data: &mut [u8]) -> Result<(), SshError> {
        if data.is_empty() {
            return Ok(());
        }
        let iv = FixedLength::from(self.counter.to_be_bytes());
        self.cipher
            .less_safe_encrypt(data, EncryptionContext::Iv128(iv))
            .map_err(|_| SshError::Crypto("cipher failure"))?;
        let blocks = u128::try_from(data.len().div_ceil(16)).unwrap_or(u128::MAX);
        self.counter = self.counter.wrapping_add(blocks);
        Ok(())
    }

    fn tag(&self, sequence: u32, packet: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.mac);
        ctx.update(&sequence.to_be_bytes());
        ctx.update(packet);
        ctx.sign()
    }
}

/// A connection speaking SSH binary packets, plain until keys are installed.
pub struct Transport {
    stream: TcpStream,
    deadline: Instant,
    pending: Vec<u8>,
    send_seq: u32,
    recv_seq: u32,
    send: Option<Protection>,
    recv: Option<Protection>,
}

impl Transport {
    /// Sends `ours` (without CR LF) and reads the peer's identification string, skipping the
    /// lines a server may send before it.
    pub async fn start(
        mut stream: TcpStream,
        ours: &str,
        deadline: Instant,
    ) -> Result<(Self, String), SshError> {
        let line = format!("{ours}\r\n");
        with_deadline(deadline, stream.write_all(line.as_bytes())).await??;
        let mut transport = Self {
            stream,
            deadline,
            pending: Vec::new(),
            send_seq: 0,
            recv_seq: 0,
            send: None,
            recv: None,
        };
        loop {
            if let Some(end) = transport.pending.iter().position(|&b| b == b'\n') {
                let raw: Vec<u8> = transport.pending.drain(..=end).collect();
                let text = String::from_utf8_lossy(&raw)
                    .trim_end_matches(['\r', '\n'])
                    .to_string();
                if text.starts_with("SSH-") {
                    return Ok((transport, text));
                }
                continue;
            }
            if transport.pending.len() >= MAX_IDENT_BYTES {
                return Err(SshError::Malformed("identification (no SSH- line)"));
            }
            transport.fill().await?;
        }
    }

    /// Reads more bytes into the pending buffer.
    async fn fill(&mut self) -> Result<(), SshError> {
        let mut chunk = [0u8; 4096];
        let n = with_deadline(self.deadline, self.stream.read(&mut chunk)).await??;
        if n == 0 {
            return Err(SshError::Closed);
        }
        self.pending.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    async fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, SshError> {
        while self.pending.len() < n {
            self.fill().await?;
        }
        Ok(self.pending.drain(..n).collect())
    }

    /// Sends one packet with `payload`.
    pub async fn send(&mut self, payload: &[u8]) -> Result<(), SshError> {
        let block = if self.send.is_some() { 16 } else { 8 };
        let unpadded = 4 + 1 + payload.len();
        let mut padding = block - unpadded % block;
        if padding < 4 {
            padding += block;
        }
        let length = u32::try_from(1 + payload.len() + padding)
            .map_err(|_| SshError::Protocol("packet too large".into()))?;
        let mut packet = Vec::with_capacity(unpadded + padding + 32);
        packet.extend_from_slice(&length.to_be_bytes());
        packet.push(u8::try_from(padding).unwrap_or(4));
        packet.extend_from_slice(payload);
        let mut pad = vec![0u8; padding];
        let _ = aws_lc_rs::rand::fill(&mut pad);
        packet.extend_from_slice(&pad);
        if let Some(protection) = self.send.as_mut() {
            let tag = protection.tag(self.send_seq, &packet);
            protection.apply(&mut packet)?;
            packet.extend_from_slice(tag.as_ref());
        }
        self.send_seq = self.send_seq.wrapping_add(1);
        with_deadline(self.deadline, self.stream.write_all(&packet)).await??;
        Ok(())
    }

    /// Receives the next packet's payload, skipping `IGNORE` and `DEBUG` messages; a
    /// `DISCONNECT` becomes an error with the peer's reason.
    pub async fn recv(&mut self) -> Result<Vec<u8>, SshError> {
        loop {
            let payload = self.recv_packet().await?;
            match payload.first() {
                Some(&msg::IGNORE | &msg::DEBUG) => continue,
                Some(&msg::DISCONNECT) => {
                    let mut r = Reader::new(&payload[1..]);
                    let code = r.u32().unwrap_or(0);
                    let reason = r
                        .string()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .unwrap_or_default();
                    return Err(SshError::Protocol(format!(
                        "the peer disconnected (code {code}): {reason}"
                    )));
                }
                Some(_) => return Ok(payload),
                None => return Err(SshError::Malformed("packet (empty payload)")),
            }
        }
    }

    async fn recv_packet(&mut self) -> Result<Vec<u8>, SshError> {
        let block = if self.recv.is_some() { 16 } else { 8 };
        let mut head = self.read_exact(block).await?;
        if let Some(protection) = self.recv.as_mut() {
            protection.apply(&mut head)?;
        }
        let length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if !(5..=MAX_PACKET).contains(&length) || !(4 + length).is_multiple_of(block) {
            return Err(SshError::Malformed("packet length"));
        }
        let mut rest = self.read_exact(4 + length - block).await?;
        if let Some(protection) = self.recv.as_mut() {
            protection.apply(&mut rest)?;
        }
        let mut packet = head;
        packet.extend_from_slice(&rest);
        if self.recv.is_some() {
            let tag = self.read_exact(32).await?;
            let sequence = self.recv_seq;
            let verified = self
                .recv
                .as_ref()
                .is_some_and(|p| constant_time_eq(p.tag(sequence, &packet).as_ref(), &tag));
            if !verified {
                return Err(SshError::Crypto("a packet's MAC does not verify"));
            }
        }
        self.recv_seq = self.recv_seq.wrapping_add(1);
        let padding = usize::from(packet[4]);
        if padding < 4 || padding + 1 > length {
            return Err(SshError::Malformed("packet padding"));
        }
        Ok(packet[5..4 + length - padding].to_vec())
    }

    /// Protects every packet sent from now on.
    pub fn protect_sending(&mut self, keys: &DirectionKeys) -> Result<(), SshError> {
        self.send = Some(Protection::new(keys)?);
        Ok(())
    }

    /// Expects every packet received from now on to be protected.
    pub fn protect_receiving(&mut self, keys: &DirectionKeys) -> Result<(), SshError> {
        self.recv = Some(Protection::new(keys)?);
        Ok(())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn with_deadline<F: std::future::Future>(
    deadline: Instant,
    future: F,
) -> Result<F::Output, SshError> {
    tokio::time::timeout_at(deadline, future)
        .await
        .map_err(|_| SshError::Timeout)
}

impl From<SshError> for crate::evidence::ProbeError {
    fn from(error: SshError) -> Self {
        use crate::evidence::FailureKind as K;
        let kind = match &error {
            SshError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => K::Refused,
            SshError::Io(_) | SshError::Closed => K::Reset,
            SshError::Timeout => K::Timeout,
            SshError::Malformed(_) => K::Malformed,
            SshError::Protocol(_) | SshError::Crypto(_) => K::Other,
        };
        Self::new(kind, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kexinit_round_trips() {
        let ours = KexInit::ours(&HOST_KEY);
        let encoded = ours.encode();
        assert_eq!(KexInit::parse(&encoded).unwrap(), ours);
        // Truncated anywhere: an error, never a panic.
        for cut in 0..encoded.len() {
            assert!(KexInit::parse(&encoded[..cut]).is_err());
        }
    }

    #[test]
    fn mpint_encoding_follows_rfc4251() {
        assert_eq!(Encoder::default().mpint(&[0, 0]).0, [0, 0, 0, 0]);
        assert_eq!(
            Encoder::default().mpint(&[0x80, 1]).0,
            [0, 0, 0, 3, 0, 0x80, 1]
        );
        assert_eq!(
            Encoder::default().mpint(&[0, 0x7f, 1]).0,
            [0, 0, 0, 2, 0x7f, 1]
        );
    }

    #[test]
    fn negotiation_takes_the_clients_first_common_choice() {
        let client = KexInit::ours(&HOST_KEY);
        let mut server = KexInit::ours(&["rsa-sha2-256", "ssh-ed25519"]);
        server.ciphers_s2c = vec!["chacha20-poly1305@openssh.com".into(), "aes256-ctr".into()];
        let chosen = negotiate(&client, &server).unwrap();
        assert_eq!(chosen.host_key, "ssh-ed25519");
        assert_eq!(chosen.cipher_s2c, "aes256-ctr");
        server.kex = vec!["diffie-hellman-group14-sha256".into()];
        let error = negotiate(&client, &server).unwrap_err().to_string();
        assert!(error.contains("no common key exchange"), "{error}");
    }

    #[test]
    fn ed25519_signature_checks() {
        use aws_lc_rs::signature::KeyPair;
        let pair = aws_lc_rs::signature::Ed25519KeyPair::generate().unwrap();
        let blob = Encoder::default()
            .string(b"ssh-ed25519")
            .string(pair.public_key().as_ref())
            .0;
        let hash = [7u8; 32];
        let sig = Encoder::default()
            .string(b"ssh-ed25519")
            .string(pair.sign(&hash).as_ref())
            .0;
        verify_host_signature("ssh-ed25519", &blob, &sig, &hash).unwrap();
        assert!(verify_host_signature("ssh-ed25519", &blob, &sig, &[8u8; 32]).is_err());
        assert!(verify_host_signature("rsa-sha2-256", &blob, &sig, &hash).is_err());
    }
}
