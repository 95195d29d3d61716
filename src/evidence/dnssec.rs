//! Evidence of the DNSSEC probe: every validating lookup with the validator's verdict.
//!
//! Kept apart from the plain DNS answers in [`super::Evidence::dns`], which the other probes read
//! and which validation must not change. A lookup records the proof the validator gave the
//! answer (RFC 4035 section 4.3: secure, insecure, bogus, indeterminate) and, for bogus and
//! indeterminate, why — so `secaudit evaluate` derives `dns.dnssec.*` offline.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ProbeError;

/// What the DNSSEC probe observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnssecEvidence {
    /// The trust anchor validation started from: `IANA root (bundled)` or the `--trust-anchor`
    /// file with the zones it names.
    pub trust_anchor: String,
    /// Every validating lookup, sorted by name and type.
    pub lookups: Vec<DnssecLookup>,
}

/// One validating DNS question and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnssecLookup {
    /// Queried name (lower-case, no trailing dot).
    pub name: String,
    /// Record type (`SOA`, `A`, `MX`, …).
    pub record_type: String,
    /// What came back.
    pub outcome: DnssecOutcome,
}

/// Result of one validating lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DnssecOutcome {
    /// An answer (records, or a denial of existence) that the validator judged.
    Validated {
        /// The validator's verdict on the answer (for a denial: on the proof of non-existence).
        proof: DnssecProof,
        /// The response code, e.g. `NOERROR` or `NXDOMAIN`.
        rcode: String,
        /// Records of the asked type (presentation format); empty for a denial.
        records: Vec<String>,
        /// Why the answer is bogus or indeterminate.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// No answer to judge.
    Failed {
        /// Why.
        error: ProbeError,
    },
}

/// The four DNSSEC security states of RFC 4035 section 4.3.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DnssecProof {
    /// A chain of signed DNSKEY and DS records leads from the trust anchor to the answer.
    Secure,
    /// The zone is proven unsigned: a secure parent proves there is no DS record.
    Insecure,
    /// A chain of trust should exist but does not validate (bad, expired or missing signatures,
    /// or keys that match no DS record).
    Bogus,
    /// Whether the answer should be signed could not be decided (the DNSSEC records needed
    /// could not be obtained).
    Indeterminate,
}

impl DnssecProof {
    /// Stable lower-case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secure => "secure",
            Self::Insecure => "insecure",
            Self::Bogus => "bogus",
            Self::Indeterminate => "indeterminate",
        }
    }

    /// How bad the state is when several answers are summarised into one: bogus is worst, then
    /// indeterminate, then insecure; secure only when every answer is.
    pub fn severity(self) -> u8 {
        match self {
            Self::Secure => 0,
            Self::Insecure => 1,
            Self::Indeterminate => 2,
            Self::Bogus => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_round_trips_through_json() {
        let outcome = DnssecOutcome::Validated {
            proof: DnssecProof::Bogus,
            rcode: "NOERROR".to_string(),
            records: vec!["192.0.2.1".to_string()],
            reason: Some("every RRSIG has expired".to_string()),
        };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(json["kind"], "validated");
        assert_eq!(json["proof"], "bogus");
        assert_eq!(
            serde_json::from_value::<DnssecOutcome>(json).unwrap(),
            outcome
        );
    }

    #[test]
    fn bogus_is_worst() {
        let mut states = [
            DnssecProof::Bogus,
            DnssecProof::Secure,
            DnssecProof::Indeterminate,
            DnssecProof::Insecure,
        ];
        states.sort_by_key(|p| p.severity());
        assert_eq!(
            states.map(DnssecProof::as_str),
            ["secure", "insecure", "indeterminate", "bogus"]
        );
    }
}
