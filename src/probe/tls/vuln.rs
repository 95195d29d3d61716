//! The active vulnerability probes: Heartbleed, CCS injection and ROBOT, each as small as
//! detection allows and each under the scan's connection cap and deadline.
//!
//! - Heartbleed (CVE-2014-0160): a hello offering the heartbeat extension; only if the server
//!   acknowledges it, one heartbeat request right after ServerHelloDone (unencrypted, as
//!   testssl.sh sends it) whose 3-byte record claims a 16384-byte payload. RFC 6520 section 4
//!   says such a request is discarded silently; a heartbeat response means the server copied
//!   memory it should not have. Only the response's length is recorded.
//! - CCS injection (CVE-2014-0224): two ChangeCipherSpec records right after ServerHelloDone,
//!   before any key exchange. A fixed server answers `unexpected_message`; a vulnerable one
//!   accepts the first, switches to keys derived from an empty master secret and fails the
//!   second with `bad_record_mac` or `decryption_failed`.
//! - ROBOT: see [`super::robot`]. Five ClientKeyExchange variants on five connections; a second
//!   and third round only when the first shows a difference, so noise can be told from an
//!   oracle.
//!
//! These probes record; `facts::vulns` judges.

use std::time::Duration;

use futures_util::future::join_all;
use tokio::time::Instant;

use super::TlsScan;
use super::hello::ClientHelloSpec;
use super::robot::{self, RsaPublicKey};
use super::session::Session;
use crate::evidence::tls::{ServerHelloInfo, TlsReply};
use crate::evidence::vuln::{ActiveProbe, RecordReply, RobotProbe};
use crate::tls_registry::{self, Protocol};

/// The heartbeat request: type 1 (request), payload_length 16384, no payload, no padding.
pub fn heartbeat_request(version: u16) -> [u8; 8] {
    let [major, minor] = version.to_be_bytes();
    [24, major, minor, 0, 3, 1, 0x40, 0x00]
}

/// How the Heartbleed request is described in evidence.
pub const HEARTBEAT_SENT: &str =
    "heartbeat request: a 3-byte record claiming a 16384-byte payload, after ServerHelloDone";

/// How the CCS-injection records are described in evidence.
pub const CCS_SENT: &str =
    "two ChangeCipherSpec records after ServerHelloDone, before any key exchange";

/// The ServerHello as kept in evidence: the certificate bytes, OCSP and SCTs dropped.
fn summary(mut info: ServerHelloInfo) -> TlsReply {
    info.certificates = Vec::new();
    info.ocsp_response = None;
    info.sct_list = None;
    TlsReply::ServerHello(info)
}

impl TlsScan<'_> {
    /// One connection under the per-host cap: `Err` is the reply that ended the first flight.
    async fn open(
        &self,
        hello: &[u8],
    ) -> Result<(Session, ServerHelloInfo, tokio::sync::SemaphorePermit<'_>), TlsReply> {
        let Ok(permit) = self.permits.acquire().await else {
            return Err(TlsReply::Timeout);
        };
        let deadline = self
            .deadline
            .min(Instant::now() + self.limits.exchange_timeout);
        let (session, info) = Session::open_via(
            self.addr,
            self.starttls,
            hello,
            self.limits.max_reply_bytes,
            deadline,
        )
        .await?;
        Ok((session, info, permit))
    }

    /// How long to wait for the record that answers a probe message.
    fn reply_wait(&self) -> Duration {
        self.limits.exchange_timeout
    }

    /// The Heartbleed probe with `protocol` (TLS 1.0–1.2).
    pub(super) async fn heartbleed(&self, protocol: Protocol) -> ActiveProbe {
        let mut spec = ClientHelloSpec::new(
            protocol,
            tls_registry::suites_for(protocol),
            Some(self.server_name.clone()),
        );
        spec.heartbeat = true;
        let (mut session, info, _permit) = match self.open(&spec.to_record()).await {
            Ok(opened) => opened,
            Err(reply) => return not_sent(protocol, reply),
        };
        if !info.has_extension(15) {
            return not_sent(protocol, summary(info));
        }
        let request = heartbeat_request(info.negotiated());
        let reply = match session.send(&request).await {
            Ok(()) => session.next_record(self.reply_wait()).await,
            Err(reply) => reply,
        };
        ActiveProbe {
            protocol,
            server_hello: summary(info),
            sent: Some(HEARTBEAT_SENT.to_string()),
            reply: Some(reply),
        }
    }

    /// The CCS-injection probe with `protocol` (SSLv3–TLS 1.2).
    pub(super) async fn ccs_injection(&self, protocol: Protocol) -> ActiveProbe {
        let spec = ClientHelloSpec::new(
            protocol,
            tls_registry::suites_for(protocol),
            Some(self.server_name.clone()),
        );
        let (mut session, info, _permit) = match self.open(&spec.to_record()).await {
            Ok(opened) => opened,
            Err(reply) => return not_sent(protocol, reply),
        };
        let ccs = robot::change_cipher_spec(info.negotiated());
        let reply = match session.send(&[ccs, ccs].concat()).await {
            Ok(()) => session.next_record(self.reply_wait()).await,
            Err(reply) => reply,
        };
        ActiveProbe {
            protocol,
            server_hello: summary(info),
            sent: Some(CCS_SENT.to_string()),
            reply: Some(reply),
        }
    }

    /// The ROBOT test with `protocol` (TLS 1.0–1.2), offering the accepted RSA key-exchange
    /// `suites`.
    /// `leaf` is the DER leaf certificate already read from the server, when it is the
    /// certificate RSA key exchange uses; without it, one more connection fetches it.
    pub(super) async fn robot(
        &self,
        protocol: Protocol,
        suites: Vec<u16>,
        leaf: Option<&[u8]>,
    ) -> RobotProbe {
        let hello = ClientHelloSpec::new(protocol, suites.clone(), Some(self.server_name.clone()))
            .to_record();
        let mut probe = RobotProbe {
            protocol,
            offered_suites: suites,
            server_hello: TlsReply::Closed,
            modulus_bits: None,
            skipped: None,
            rounds: Vec::new(),
        };
        let known = leaf.and_then(RsaPublicKey::from_certificate);
        let key = match known {
            Some(key) => Some(key),
            None => match self.open(&hello).await {
                Err(reply) => {
                    probe.server_hello = reply;
                    probe.skipped =
                        Some("the hello offering RSA key exchange got no ServerHello".into());
                    return probe;
                }
                Ok((_, info, _)) => {
                    let key = info
                        .certificates
                        .first()
                        .and_then(|b64| crate::evidence::decode_bytes(b64))
                        .and_then(|der| RsaPublicKey::from_certificate(&der));
                    probe.server_hello = summary(info);
                    key
                }
            },
        };
        let Some(key) = key else {
            probe.skipped = Some("the leaf certificate in the first flight has no RSA key".into());
            return probe;
        };
        probe.modulus_bits = Some(key.bits());
        let Some(blocks) = robot::padded_blocks(key.len(), protocol.code()) else {
            probe.skipped = Some("the RSA modulus is too small for a premaster secret".into());
            return probe;
        };
        let encrypted: Vec<Vec<u8>> = blocks.iter().map(|b| key.encrypt_raw(b)).collect();
        let round = || join_all(encrypted.iter().map(|e| self.robot_query(&hello, e)));
        let first: Vec<(RecordReply, Option<TlsReply>)> = round().await;
        if matches!(probe.server_hello, TlsReply::Closed)
            && let Some(hello) = first.iter().find_map(|(_, hello)| hello.clone())
        {
            probe.server_hello = hello;
        }
        let first: Vec<RecordReply> = first.into_iter().map(|(reply, _)| reply).collect();
        let uniform = first.windows(2).all(|pair| pair[0] == pair[1]);
        probe.rounds.push(first);
        if !uniform {
            let (second, third) = tokio::join!(round(), round());
            for round in [second, third] {
                probe
                    .rounds
                    .push(round.into_iter().map(|(reply, _)| reply).collect());
            }
        }
        probe
    }

    /// One ROBOT connection: the hello, then ClientKeyExchange with `encrypted`,
    /// ChangeCipherSpec and a garbage Finished; the server's answer, and the ServerHello
    /// (summarised) when there was one.
    async fn robot_query(&self, hello: &[u8], encrypted: &[u8]) -> (RecordReply, Option<TlsReply>) {
        let (mut session, info, _permit) = match self.open(hello).await {
            Ok(opened) => opened,
            Err(reply) => {
                let reason = format!("no ServerHello: {}", describe(&reply));
                return (RecordReply::NotSent { reason }, None);
            }
        };
        let suite = info.suite;
        let version = info.negotiated();
        let hello_seen = Some(summary(info));
        if super::kx_of(suite) != Some(tls_parser::TlsCipherKx::Rsa) {
            let reason = format!("the server chose suite 0x{suite:04x}, not RSA key exchange");
            return (RecordReply::NotSent { reason }, hello_seen);
        }
        let flight = robot::key_exchange_flight(version, encrypted);
        let reply = match session.send(&flight).await {
            Ok(()) => session.next_record(self.reply_wait()).await,
            Err(reply) => reply,
        };
        (reply, hello_seen)
    }
}

fn not_sent(protocol: Protocol, server_hello: TlsReply) -> ActiveProbe {
    ActiveProbe {
        protocol,
        server_hello,
        sent: None,
        reply: None,
    }
}

fn describe(reply: &TlsReply) -> String {
    match reply {
        TlsReply::Alert { name, .. } => format!("alert {name}"),
        TlsReply::ConnectFailed { error } => error.to_string(),
        TlsReply::Malformed { reason } => format!("malformed: {reason}"),
        TlsReply::NotTls { first_bytes } => format!("not TLS: {first_bytes}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_request_claims_more_than_it_carries() {
        let request = heartbeat_request(0x0302);
        let (rest, record) = tls_parser::parse_tls_raw_record(&request).unwrap();
        assert!(rest.is_empty());
        assert_eq!(record.hdr.record_type, tls_parser::TlsRecordType::Heartbeat);
        assert_eq!(record.hdr.version.0, 0x0302);
        assert_eq!(
            record.data,
            [1, 0x40, 0x00],
            "request, claiming 16384 bytes"
        );
        // The claim exceeds the record, which is why an independent parser refuses the message.
        assert!(tls_parser::parse_tls_message_heartbeat(record.data, 3).is_err());
    }
}
