//! Observations of the active TLS vulnerability probes (Heartbleed, CCS injection, ROBOT,
//! Ticketbleed, client-initiated renegotiation): what each sent and what came back, small and
//! raw.
//!
//! The probes never judge and never keep bytes a server may have leaked — only sizes, alert
//! numbers and how a connection ended. `facts::vulns` decides vulnerable / not vulnerable /
//! inconclusive from these records, so saved evidence can be judged again offline.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::tls::TlsReply;
use crate::tls_registry::Protocol;

/// The active probes that ran against the endpoint; each absent when it did not run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VulnProbes {
    /// A heartbeat request claiming a longer payload than it carries (CVE-2014-0160).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbleed: Option<ActiveProbe>,
    /// Two ChangeCipherSpec records sent right after ServerHelloDone (CVE-2014-0224).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ccs_injection: Option<ActiveProbe>,
    /// The Bleichenbacher padding-oracle test (ROBOT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robot: Option<RobotProbe>,
    /// A session-ticket resumption with a short session id (Ticketbleed, CVE-2016-9244).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticketbleed: Option<TicketbleedProbe>,
    /// A ClientHello sent encrypted after a completed TLS 1.2 handshake (client-initiated
    /// renegotiation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_renegotiation: Option<RenegotiationProbe>,
}

impl VulnProbes {
    /// Whether no probe ran.
    pub fn is_empty(&self) -> bool {
        self.heartbleed.is_none()
            && self.ccs_injection.is_none()
            && self.robot.is_none()
            && self.ticketbleed.is_none()
            && self.client_renegotiation.is_none()
    }
}

/// One connection: a ClientHello, the server's first flight, one message sent after it and the
/// server's next record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveProbe {
    /// The version offered.
    #[schemars(with = "String")]
    pub protocol: Protocol,
    /// The server's first flight (certificate bytes dropped), or why there was none.
    pub server_hello: TlsReply,
    /// What was sent after ServerHelloDone; absent when nothing was (e.g. the server did not
    /// acknowledge the heartbeat extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<String>,
    /// The server's next record, or how the connection ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<RecordReply>,
}

/// What a server sent after a probe message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RecordReply {
    /// An alert record.
    Alert {
        /// 1 warning, 2 fatal.
        level: u8,
        /// Alert description number.
        description: u8,
        /// Its name.
        name: String,
    },
    /// A heartbeat record (its content is never kept).
    Heartbeat {
        /// Length of the record body in bytes.
        length: u32,
    },
    /// A record of another type.
    Record {
        /// Content type.
        content_type: u8,
        /// Length of the record body in bytes.
        length: u32,
    },
    /// The server closed the connection.
    Closed,
    /// The connection was reset.
    Reset,
    /// Nothing arrived in time.
    Timeout,
    /// Bytes that are not a TLS record.
    Malformed {
        /// What was wrong.
        reason: String,
    },
    /// The probe message could not be sent because the handshake did not get that far.
    NotSent {
        /// Why.
        reason: String,
    },
}

/// The ROBOT test: ClientKeyExchange messages with the five standard PKCS#1 v1.5 paddings,
/// each followed by ChangeCipherSpec and a garbage Finished, on a connection of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RobotProbe {
    /// The version offered.
    #[schemars(with = "String")]
    pub protocol: Protocol,
    /// The RSA key-exchange suites offered.
    pub offered_suites: Vec<u16>,
    /// The first flight of the connection that fetched the server's RSA key (certificate bytes
    /// dropped), or why there was none.
    pub server_hello: TlsReply,
    /// Size of the leaf certificate's RSA modulus in bits; absent when the key is not RSA or
    /// could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modulus_bits: Option<u32>,
    /// Why no ClientKeyExchange was sent, if none was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// One entry per round; each round holds the replies to the variants in the order of
    /// [`ROBOT_VARIANTS`]. A second and third round run only when the first differs.
    pub rounds: Vec<Vec<RecordReply>>,
}

/// The five ClientKeyExchange paddings of the ROBOT test, in the order rounds record them:
/// a correct PKCS#1 v1.5 block, wrong first two bytes (`41 17`), the zero separator moved to the
/// end, no zero separator, and a wrong version in the premaster secret (`02 02`).
pub const ROBOT_VARIANTS: [&str; 5] = [
    "correct",
    "wrong_first_bytes",
    "wrong_zero_position",
    "missing_zero",
    "wrong_version",
];

/// The Ticketbleed test (CVE-2016-9244, F5 BIG-IP): a TLS 1.2 handshake that asks for a session
/// ticket, read up to the server's NewSessionTicket (which precedes its ChangeCipherSpec), then a
/// second connection resuming with that ticket and a short session id.
/// RFC 5077 section 3.4 has the server echo the client's session id when it accepts the ticket;
/// a vulnerable server echoes 32 bytes, the ones after the client's coming from its memory.
/// Only lengths and whether the echo starts with the id sent are kept, never the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketbleedProbe {
    /// The first flight of the connection that asked for a ticket (certificate bytes dropped),
    /// or why there was none.
    pub server_hello: TlsReply,
    /// Length of the ticket in the server's NewSessionTicket; 0 when the server acknowledged
    /// the session_ticket extension but issued no ticket. Absent when the handshake did not get
    /// that far or the extension was not acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_length: Option<u32>,
    /// Why the resumption was not tried, if it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Length of the session id sent with the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id_sent: Option<u8>,
    /// The session id of the resumption's ServerHello, described.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo: Option<SessionIdEcho>,
    /// How the resumption ended when no ServerHello came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<RecordReply>,
}

/// The session id a server answered a resumption with, without its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionIdEcho {
    /// Its length in bytes.
    pub length: u8,
    /// Whether it begins with the whole session id the client sent.
    pub starts_with_sent: bool,
}

/// The client-initiated renegotiation test: a full TLS 1.2 handshake (ECDHE with AES-GCM), then
/// a new ClientHello sent encrypted under the session's keys, with RFC 5746 renegotiation_info
/// when the server supports it. The server answers with a ServerHello (it renegotiates), a
/// `no_renegotiation` warning or a fatal alert, or closes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenegotiationProbe {
    /// The first flight (certificate bytes dropped), or why there was none.
    pub server_hello: TlsReply,
    /// Why no renegotiation ClientHello was sent, if none was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The server's answer to the ClientHello, decrypted and summarised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<RecordReply>,
    /// When the answer is a handshake record: the type of its first message (2 = ServerHello,
    /// 0 = HelloRequest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake_type: Option<u8>,
}
