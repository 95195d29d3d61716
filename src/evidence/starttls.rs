//! Evidence of a STARTTLS preamble: the plaintext conversation (SMTP, IMAP, POP3, FTP) that asks a
//! server to switch a connection to TLS, as the server answered it.
//!
//! Raw: the greeting line, the capabilities the server listed and how the `STARTTLS` (`STLS`,
//! `AUTH TLS`) command ended. Whether STARTTLS counts as offered or failed is decided in
//! `facts`, so saved evidence can be judged again offline.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ProbeError;

/// A plaintext protocol that upgrades to TLS in place.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StarttlsProtocol {
    /// SMTP (RFC 3207): `EHLO`, `STARTTLS`, `220`. Ports 25 and 587.
    Smtp,
    /// IMAP (RFC 3501 section 6.2.1): `CAPABILITY`, `STARTTLS`, `OK`. Port 143.
    Imap,
    /// POP3 (RFC 2595 section 4): `CAPA`, `STLS`, `+OK`. Port 110.
    Pop3,
    /// FTP (RFC 4217): `FEAT`, `AUTH TLS`, `234`. Port 21.
    Ftp,
}

impl StarttlsProtocol {
    /// Every protocol, in the order documented.
    pub const ALL: [Self; 4] = [Self::Smtp, Self::Imap, Self::Pop3, Self::Ftp];

    /// Stable lower-case name, as serialised and as the URL scheme of a target.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Smtp => "smtp",
            Self::Imap => "imap",
            Self::Pop3 => "pop3",
            Self::Ftp => "ftp",
        }
    }

    /// The protocol's usual plaintext port.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Smtp => 25,
            Self::Imap => 143,
            Self::Pop3 => 110,
            Self::Ftp => 21,
        }
    }

    /// The protocol named `name` (`smtp`, `imap`, `pop3`, `ftp`; any case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for StarttlsProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for StarttlsProtocol {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::from_name(text)
            .ok_or_else(|| format!("`{text}` is not a STARTTLS protocol (smtp, imap, pop3, ftp)"))
    }
}

/// One recorded STARTTLS conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StarttlsEvidence {
    /// The protocol spoken.
    pub protocol: StarttlsProtocol,
    /// The server's greeting (its last line; control bytes as `\xNN`, at most 256 characters);
    /// absent when none arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    /// Capabilities the server listed (EHLO keywords, IMAP CAPABILITY, POP3 CAPA, FTP FEAT),
    /// upper-case, at most 64; empty when it listed none or was not asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    /// How the conversation ended.
    pub outcome: StarttlsOutcome,
}

/// How a STARTTLS conversation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StarttlsOutcome {
    /// The server agreed to start TLS; the next bytes on the connection are the TLS handshake.
    Ready {
        /// The reply that agreed (e.g. `220 2.0.0 Ready to start TLS`).
        reply: String,
    },
    /// The server's capabilities do not list STARTTLS; the command was not sent.
    NotOffered,
    /// The server answered with a refusal: at `greeting` (e.g. SMTP 554), `capabilities`
    /// (EHLO refused) or `starttls` (the command refused, e.g. 454).
    Refused {
        /// Where: `greeting`, `capabilities` or `starttls`.
        stage: String,
        /// The refusing reply.
        reply: String,
    },
    /// The conversation broke: no connection, a timeout, a close, or a reply that does not
    /// parse or exceeds the byte cap.
    Failed {
        /// Where: `connect`, `greeting`, `capabilities` or `starttls`.
        stage: String,
        /// Why.
        error: ProbeError,
    },
}

impl StarttlsOutcome {
    /// A one-line account, for messages and facts.
    pub fn describe(&self) -> String {
        match self {
            Self::Ready { reply } => format!("ready: {reply}"),
            Self::NotOffered => "STARTTLS not offered".to_string(),
            Self::Refused { stage, reply } => format!("refused at {stage}: {reply}"),
            Self::Failed { stage, error } => format!("failed at {stage}: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_names_round_trip() {
        for protocol in StarttlsProtocol::ALL {
            assert_eq!(protocol.as_str().parse::<StarttlsProtocol>(), Ok(protocol));
            assert_eq!(
                serde_json::to_value(protocol).unwrap(),
                serde_json::Value::from(protocol.as_str())
            );
        }
        assert_eq!(
            StarttlsProtocol::from_name("IMAP"),
            Some(StarttlsProtocol::Imap)
        );
        assert!("http".parse::<StarttlsProtocol>().is_err());
        assert_eq!(StarttlsProtocol::Pop3.default_port(), 110);
    }

    #[test]
    fn outcome_serialises_with_kind() {
        let outcome = StarttlsOutcome::Refused {
            stage: "starttls".into(),
            reply: "454 4.7.0 TLS not available".into(),
        };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(json["kind"], "refused");
        assert_eq!(
            serde_json::from_value::<StarttlsOutcome>(json).unwrap(),
            outcome
        );
        assert_eq!(
            outcome.describe(),
            "refused at starttls: 454 4.7.0 TLS not available"
        );
    }
}
