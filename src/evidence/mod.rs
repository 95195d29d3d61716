//! The raw, versioned record of what the probes observed.
//!
//! Evidence is what `--save-evidence` writes and `secaudit evaluate` reads back. It holds
//! observations only — status lines, header lines exactly as received, DNS answers, failures with
//! their reason — and never a judgement: everything derived (parsed HSTS, cookie flags, grades)
//! lives in `facts` and later stages, so saved evidence can be judged again with newer parsers.
//!
//! The format is versioned by [`EVIDENCE_VERSION`]; a reader refuses a file of another version
//! rather than guessing.

pub mod dnssec;
pub mod exposure;
mod http;
mod mail;
pub mod starttls;
pub mod tls;
pub mod txt;
pub mod vuln;

pub use dnssec::{DnssecEvidence, DnssecLookup, DnssecOutcome, DnssecProof};
pub use exposure::ExposureEvidence;
pub use http::{
    BodySample, ChainEnd, CompressionEvidence, CorsEvidence, FetchChain, HeaderLine, HttpEvidence,
    HttpHop,
};
pub use mail::{MailEvidence, MxEvidence, TaCheck};
pub use starttls::{StarttlsEvidence, StarttlsOutcome, StarttlsProtocol};
pub use tls::TlsEvidence;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the evidence file format; bumped on every incompatible change.
pub const EVIDENCE_VERSION: u32 = 1;

/// Everything observed about one target in one audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Format version, always [`EVIDENCE_VERSION`] when written by this build.
    pub version: u32,
    /// Name and version of the tool that collected the evidence.
    pub tool: String,
    /// When probing started, RFC 3339 in UTC.
    pub started_at: String,
    /// The target as audited.
    pub target: TargetEvidence,
    /// Every DNS lookup made while probing, sorted by name and type.
    pub dns: Vec<DnsLookup>,
    /// The HTTP and HTTPS fetches with their redirect chains.
    pub http: HttpEvidence,
    /// The TLS scan of the HTTPS endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsEvidence>,
    /// The mail probe's observations besides DNS answers; absent when mail was not probed (an
    /// IP-literal target, or evidence from before mail probing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<MailEvidence>,
    /// The DNSSEC probe's validating lookups; absent when it did not run (`--no-dns`, an
    /// IP-literal target, or evidence from before DNSSEC probing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnssec: Option<DnssecEvidence>,
    /// The exposure probes (`security.txt`, artefact paths, port scan, SSH); absent in evidence
    /// from before them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<ExposureEvidence>,
    /// The STARTTLS conversation of a single-endpoint audit (`smtp://HOST`, `--starttls`);
    /// absent for an HTTPS target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls: Option<StarttlsEvidence>,
    /// Probes that were still running when the per-target deadline passed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deadline_exceeded: Vec<String>,
    /// Areas left out on purpose (`--only`): their facts are unobserved, never judged on
    /// empty evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_probed: Vec<ProbeArea>,
}

/// A part of the audit that `--only` can select.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum ProbeArea {
    /// The TLS scan: versions, suites, groups, certificate, protections.
    Tls,
    /// The active TLS vulnerability probes (Heartbleed, CCS injection, ROBOT, …), which send
    /// deliberately malformed messages; the derived verdicts (POODLE, SWEET32, …) need none.
    Vulns,
    /// HTTP and HTTPS fetches: redirects, headers, cookies.
    Http,
    /// The target name's DNS records: CAA and DNSSEC.
    Dns,
    /// The mail domain's records and MX hosts.
    Mail,
    /// `security.txt`, artefact paths and (when asked for) the port scan.
    Exposure,
}

impl ProbeArea {
    /// Every area, the default of an audit.
    pub const ALL: [Self; 6] = [
        Self::Tls,
        Self::Vulns,
        Self::Http,
        Self::Dns,
        Self::Mail,
        Self::Exposure,
    ];

    /// The area's name as written on the command line and in evidence.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::Vulns => "vulns",
            Self::Http => "http",
            Self::Dns => "dns",
            Self::Mail => "mail",
            Self::Exposure => "exposure",
        }
    }

    /// The top-level fact paths the area's evidence produces (the active probes' verdicts
    /// sit inside `tls`: the facts leave those unobserved themselves).
    pub fn fact_roots(self) -> &'static [&'static str] {
        match self {
            Self::Tls => &["tls", "cert"],
            Self::Vulns => &[],
            Self::Http => &["http", "cookies"],
            Self::Dns => &["dns"],
            Self::Mail => &["mail"],
            Self::Exposure => &["exposure"],
        }
    }
}

/// The target named on the command line, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetEvidence {
    /// What the user typed.
    pub input: String,
    /// Host name (lower-case, no trailing dot) or IP literal.
    pub host: String,
    /// Port probed for HTTPS.
    pub https_port: u16,
    /// Port probed for plain HTTP.
    pub http_port: u16,
    /// Path requested on both schemes.
    pub path: String,
    /// The STARTTLS protocol of a single-endpoint audit; `https_port` is then that endpoint's
    /// port and no HTTP request is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls: Option<StarttlsProtocol>,
}

/// One DNS question and what came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsLookup {
    /// Queried name.
    pub name: String,
    /// Record type (`A`, `AAAA`, …).
    pub record_type: String,
    /// What the lookup produced.
    pub outcome: DnsOutcome,
}

/// Result of one DNS lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DnsOutcome {
    /// The resolver answered with records (presentation format, as received).
    Answer {
        /// Record data, one entry per record.
        records: Vec<String>,
    },
    /// The name exists but has no record of this type, or does not exist (NXDOMAIN).
    NoRecords {
        /// The response code, e.g. `NXDOMAIN` or `NOERROR`.
        rcode: String,
    },
    /// The answer was replaced by a `--connect` override; no query was sent.
    Overridden {
        /// The addresses the override supplied.
        records: Vec<String>,
    },
    /// The lookup failed.
    Failed {
        /// Why.
        error: ProbeError,
    },
}

/// Why a network operation failed — recorded as evidence, never raised as an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeError {
    /// Class of failure.
    pub kind: FailureKind,
    /// Human-readable detail, as reported by the network stack.
    pub message: String,
}

impl ProbeError {
    /// Builds a failure record of the given kind.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

/// Classes of network failure a probe distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Name resolution failed or returned no address.
    Dns,
    /// The peer refused the TCP connection.
    Refused,
    /// The connection was reset or closed early.
    Reset,
    /// No answer within the time allowed.
    Timeout,
    /// The TLS handshake failed for a reason other than the certificate.
    Tls,
    /// The peer's reply was not valid for the protocol.
    Malformed,
    /// Anything else.
    Other,
}

impl FailureKind {
    /// Stable lower-case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Refused => "refused",
            Self::Reset => "reset",
            Self::Timeout => "timeout",
            Self::Tls => "tls",
            Self::Malformed => "malformed",
            Self::Other => "other",
        }
    }
}

/// Reasons an evidence file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The file is not valid evidence JSON.
    #[error("not a valid evidence file: {0}")]
    Parse(#[from] serde_json::Error),
    /// The file was written by an incompatible format version.
    #[error(
        "evidence format version {found} is not supported (this build reads version {EVIDENCE_VERSION})"
    )]
    Version {
        /// Version found in the file.
        found: u64,
    },
}

impl Evidence {
    /// Parses evidence from JSON, checking the format version before anything else.
    pub fn from_json(text: &str) -> Result<Vec<Evidence>, EvidenceError> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        let items = match value {
            serde_json::Value::Array(items) => items,
            other => vec![other],
        };
        items
            .into_iter()
            .map(|item| {
                let found = item
                    .get("version")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0);
                if found != u64::from(EVIDENCE_VERSION) {
                    return Err(EvidenceError::Version { found });
                }
                Ok(serde_json::from_value(item)?)
            })
            .collect()
    }
}

/// JSON Schema of the evidence file, as published in `docs/evidence.schema.json`.
pub fn schema_value() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Evidence)).unwrap_or_default()
}

/// Binary observations (DER certificates, OCSP responses, SCT lists) are kept in evidence as
/// standard base64; this encodes them.
pub fn encode_bytes(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a binary observation written by [`encode_bytes`]; `None` when the text is not
/// base64 (an edited or corrupted evidence file).
pub fn decode_bytes(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_schema_is_current() {
        let published = include_str!("../../docs/evidence.schema.json");
        let current = serde_json::to_string_pretty(&schema_value()).unwrap() + "\n";
        assert!(
            published == current,
            "docs/evidence.schema.json is stale: run `cargo run -- schema evidence > docs/evidence.schema.json`"
        );
    }

    #[test]
    fn refuses_other_versions_and_garbage() {
        assert!(matches!(
            Evidence::from_json(r#"{"version": 99}"#),
            Err(EvidenceError::Version { found: 99 })
        ));
        assert!(matches!(
            Evidence::from_json("not json"),
            Err(EvidenceError::Parse(_))
        ));
        assert!(matches!(
            Evidence::from_json(r#"{"version": 1, "tool": 5}"#),
            Err(EvidenceError::Parse(_))
        ));
    }
}
