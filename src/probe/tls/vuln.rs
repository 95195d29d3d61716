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
//! - Ticketbleed (CVE-2016-9244): a TLS 1.2 handshake ([`super::tls12_client`]) that asks for a
//!   session ticket, read up to the NewSessionTicket, then a second connection resuming with the
//!   ticket and a 16-byte session id. Only the echoed id's length and whether it starts with
//!   ours are kept.
//! - Client-initiated renegotiation: a full TLS 1.2 handshake, then a new ClientHello encrypted
//!   under the session's keys; the server's decrypted answer is summarised.
//!
//! These probes record; `facts::vulns` judges.

use std::time::Duration;

use futures_util::future::join_all;
use tokio::time::Instant;

use super::TlsScan;
use super::hello::ClientHelloSpec;
use super::robot::{self, RsaPublicKey};
use super::session::Session;
use super::tls12_client::{self, Established, Inbound, Tls12Client};
use crate::evidence::tls::{ServerHelloInfo, TlsReply};
use crate::evidence::vuln::{
    ActiveProbe, RecordReply, RenegotiationProbe, RobotProbe, SessionIdEcho, TicketbleedProbe,
};
use crate::tls_registry::{self, Protocol, alert_name};

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

/// Length of the session id the Ticketbleed probe sends with its ticket: short enough that a
/// 32-byte echo must carry bytes the client never sent, long enough that a fresh id of the
/// server's own starts with it only by a 2^-128 chance.
pub const TICKETBLEED_SESSION_ID_LEN: u8 = 16;

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
        let reply = session.ask(&request, self.reply_wait()).await;
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
        let reply = session.ask(&[ccs, ccs].concat(), self.reply_wait()).await;
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
        let reply = session.ask(&flight, self.reply_wait()).await;
        (reply, hello_seen)
    }

    /// The Ticketbleed test (see [`TicketbleedProbe`]): a ticket from a TLS 1.2 handshake read
    /// up to the NewSessionTicket, then a resumption with it and a
    /// [`TICKETBLEED_SESSION_ID_LEN`]-byte session id. Public so it can be run (and timed) on
    /// its own.
    pub async fn ticketbleed(&self) -> TicketbleedProbe {
        let mut probe = TicketbleedProbe {
            server_hello: TlsReply::Closed,
            ticket_length: None,
            skipped: None,
            session_id_sent: None,
            echo: None,
            reply: None,
        };
        let ticket = {
            let client = Tls12Client::new(tls12_client::hello_spec(&self.server_name));
            let (mut session, info, _permit) = match self.open(&client.hello_record()).await {
                Ok(opened) => opened,
                Err(reply) => {
                    probe.skipped = Some(no_handshake(&reply));
                    probe.server_hello = reply;
                    return probe;
                }
            };
            let acknowledged = info.has_extension(35);
            probe.server_hello = summary(info);
            if !acknowledged {
                probe.skipped = Some(
                    "no session tickets: the session_ticket extension was not acknowledged".into(),
                );
                return probe;
            }
            match self.read_ticket(&mut session, client).await {
                Ok(ticket) => ticket,
                Err(why) => {
                    probe.skipped = Some(why);
                    return probe;
                }
            }
        };
        probe.ticket_length = Some(u32::try_from(ticket.len()).unwrap_or(u32::MAX));
        if ticket.is_empty() {
            probe.skipped = Some("no session tickets: the server issued none".into());
            return probe;
        }
        let mut session_id = vec![0x5a; usize::from(TICKETBLEED_SESSION_ID_LEN)];
        let _ = aws_lc_rs::rand::fill(&mut session_id);
        probe.session_id_sent = Some(TICKETBLEED_SESSION_ID_LEN);
        let mut spec = tls12_client::hello_spec(&self.server_name);
        spec.session_id = session_id.clone();
        spec.session_ticket = ticket;
        match self.resumption_session_id(&spec.to_record()).await {
            Ok(echoed) => {
                probe.echo = Some(SessionIdEcho {
                    length: u8::try_from(echoed.len()).unwrap_or(u8::MAX),
                    starts_with_sent: echoed.starts_with(&session_id),
                });
            }
            Err(reply) => probe.reply = Some(reply),
        }
        probe
    }

    /// The session id of the ServerHello that answers `hello` on a new connection, or how the
    /// connection ended instead.
    async fn resumption_session_id(&self, hello: &[u8]) -> Result<Vec<u8>, RecordReply> {
        let Ok(_permit) = self.permits.acquire().await else {
            return Err(RecordReply::Timeout);
        };
        let deadline = self
            .deadline
            .min(Instant::now() + self.limits.exchange_timeout);
        let mut session = Session::start_via(
            self.addr,
            self.starttls,
            hello,
            self.limits.max_reply_bytes,
            deadline,
        )
        .await
        .map_err(|reply| RecordReply::NotSent {
            reason: format!("no connection: {}", describe(&reply)),
        })?;
        let mut handshake = Vec::new();
        // Bounded in bytes by the reassembly cap below, in time by the session's deadline.
        loop {
            match session.read_record(self.reply_wait()).await? {
                (22, body) => {
                    handshake.extend_from_slice(&body);
                    match tls12_client::server_hello_session_id(&handshake) {
                        None if handshake.len() < self.limits.max_reply_bytes => {}
                        None => {
                            return Err(RecordReply::Malformed {
                                reason: "no complete ServerHello".into(),
                            });
                        }
                        Some(Ok(id)) => return Ok(id),
                        Some(Err(error)) => {
                            return Err(RecordReply::Malformed {
                                reason: error.to_string(),
                            });
                        }
                    }
                }
                (21, body) => return Err(alert_reply(&body)),
                (content_type, body) => {
                    return Err(RecordReply::Record {
                        content_type,
                        length: u32::try_from(body.len()).unwrap_or(u32::MAX),
                    });
                }
            }
        }
    }

    /// The client-initiated renegotiation test (see [`RenegotiationProbe`]). Public so it can
    /// be run (and timed) on its own.
    pub async fn client_renegotiation(&self) -> RenegotiationProbe {
        let mut probe = RenegotiationProbe {
            server_hello: TlsReply::Closed,
            skipped: None,
            reply: None,
            handshake_type: None,
        };
        let client = Tls12Client::new(tls12_client::hello_spec(&self.server_name));
        let (mut session, info, _permit) = match self.open(&client.hello_record()).await {
            Ok(opened) => opened,
            Err(reply) => {
                probe.skipped = Some(no_handshake(&reply));
                probe.server_hello = reply;
                return probe;
            }
        };
        probe.server_hello = summary(info);
        let mut established = match self.finish_handshake(&mut session, client).await {
            Ok(established) => established,
            Err(why) => {
                probe.skipped = Some(why);
                return probe;
            }
        };
        let hello =
            match established.renegotiation_hello(tls12_client::hello_spec(&self.server_name)) {
                Ok(hello) => hello,
                Err(error) => {
                    probe.skipped = Some(error.to_string());
                    return probe;
                }
            };
        if let Err(reply) = session.send(&hello).await {
            probe.reply = Some(reply);
            return probe;
        }
        let (content_type, body) = match session.read_record(self.reply_wait()).await {
            Ok(record) => record,
            Err(reply) => {
                probe.reply = Some(reply);
                return probe;
            }
        };
        let length = u32::try_from(body.len()).unwrap_or(u32::MAX);
        probe.reply = Some(match established.read(content_type, &body) {
            Ok(Inbound::Handshake(types)) => {
                probe.handshake_type = types.first().copied();
                RecordReply::Record {
                    content_type,
                    length,
                }
            }
            Ok(Inbound::Alert { level, description }) => RecordReply::Alert {
                level,
                description,
                name: alert_name(description).to_string(),
            },
            Ok(_) => RecordReply::Record {
                content_type,
                length,
            },
            Err(error) => RecordReply::Malformed {
                reason: error.to_string(),
            },
        });
        probe
    }

    /// Sends the client's second flight and reads the server's cleartext records up to its
    /// ChangeCipherSpec: the NewSessionTicket comes before it (RFC 5077 section 3.3), so its
    /// Finished need not be awaited. An empty ticket when none came.
    async fn read_ticket(
        &self,
        session: &mut Session,
        client: Tls12Client,
    ) -> Result<Vec<u8>, String> {
        let mut established = self.send_key_exchange(session, client).await?;
        for _ in 0..8 {
            match self.next_inbound(session, &mut established).await? {
                Inbound::ChangeCipherSpec | Inbound::Finished => break,
                Inbound::Handshake(_) if established.ticket().is_some() => break,
                _ => {}
            }
        }
        Ok(established.ticket().unwrap_or_default().to_vec())
    }

    /// The client's second flight, sent.
    async fn send_key_exchange(
        &self,
        session: &mut Session,
        client: Tls12Client,
    ) -> Result<Established, String> {
        let (flight, established) = client
            .key_exchange(session.first_flight())
            .map_err(|error| error.to_string())?;
        session
            .send(&flight)
            .await
            .map_err(|reply| format!("sending the key exchange: {}", describe_record(&reply)))?;
        Ok(established)
    }

    /// The server's next record read by `established`; an alert, or a connection that ends, is
    /// `Err` with the reason.
    async fn next_inbound(
        &self,
        session: &mut Session,
        established: &mut Established,
    ) -> Result<Inbound, String> {
        let (content_type, body) = session
            .read_record(self.reply_wait())
            .await
            .map_err(|reply| format!("the key exchange got {}", describe_record(&reply)))?;
        match established.read(content_type, &body) {
            Ok(Inbound::Alert { description, .. }) => Err(format!(
                "the key exchange got alert {}",
                alert_name(description)
            )),
            Ok(inbound) => Ok(inbound),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Sends the client's second flight and reads the server's records through its Finished;
    /// `Err` says why the handshake did not complete.
    async fn finish_handshake(
        &self,
        session: &mut Session,
        client: Tls12Client,
    ) -> Result<Established, String> {
        let mut established = self.send_key_exchange(session, client).await?;
        // NewSessionTicket, ChangeCipherSpec, Finished: a few records, never an endless stream.
        for _ in 0..8 {
            if self.next_inbound(session, &mut established).await? == Inbound::Finished {
                return Ok(established);
            }
        }
        Err("no Finished from the server within 8 records".into())
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

/// Why a handshake with [`tls12_client`] did not start: an alert to its hello most likely means
/// the server has no suite (or group) in common with it.
fn no_handshake(reply: &TlsReply) -> String {
    match reply {
        TlsReply::Alert { name, .. } => format!(
            "no suite our TLS 1.2 client speaks (ECDHE with AES-GCM): its hello got alert {name}"
        ),
        other => format!("the TLS 1.2 hello got {}", describe(other)),
    }
}

/// An alert record's body as a [`RecordReply`].
fn alert_reply(body: &[u8]) -> RecordReply {
    match body {
        [level, description] => RecordReply::Alert {
            level: *level,
            description: *description,
            name: alert_name(*description).to_string(),
        },
        _ => RecordReply::Malformed {
            reason: "an alert record not two bytes long".into(),
        },
    }
}

fn describe_record(reply: &RecordReply) -> String {
    match reply {
        RecordReply::Alert { name, .. } => format!("alert {name}"),
        RecordReply::Malformed { reason } => format!("malformed: {reason}"),
        RecordReply::NotSent { reason } => reason.clone(),
        other => format!("{other:?}").to_lowercase(),
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
