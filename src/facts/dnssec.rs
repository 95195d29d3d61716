//! DNSSEC facts (`dns.dnssec.*`, `mail.dnssec.*`) from the DNSSEC probe's recorded verdicts.
//!
//! Each validated record set keeps the validator's verdict (RFC 4035 section 4.3); a name's
//! status is the worst verdict over its sets (bogus, then indeterminate, then insecure; secure
//! only when every set is). `signed` and `valid` are the booleans rules test: a bogus zone is
//! signed but not valid, an insecure one neither; both are absent (inconclusive) when the status
//! is indeterminate, because then nobody can tell. A lookup that failed outright gives no
//! verdict; when every lookup of a name failed, its facts are absent with the reason.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evidence::{DnssecEvidence, DnssecLookup, DnssecOutcome, DnssecProof};

/// DNSSEC status of the audited name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DnssecFacts {
    /// Worst verdict over the name's record sets: `secure`, `insecure` (proven unsigned),
    /// `bogus` (signed, but the chain of trust does not validate) or `indeterminate`.
    pub status: DnssecProof,
    /// The zone is signed: true when secure or bogus, false when proven unsigned; absent when
    /// indeterminate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<bool>,
    /// The answers validate from the trust anchor (status `secure`); absent when indeterminate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<bool>,
    /// Why the status is bogus or indeterminate (from the first such record set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The record sets checked, by name and type.
    pub record_sets: Vec<DnssecRecordSet>,
    /// The trust anchor validation started from.
    pub trust_anchor: String,
}

/// DNSSEC status of the mail domain and of its MX hosts' names (internet.nl's mail test checks
/// both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MailDnssecFacts {
    /// Worst verdict over the mail domain's SOA and MX sets.
    pub status: DnssecProof,
    /// The mail domain's zone is signed; absent when indeterminate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<bool>,
    /// The mail domain's answers validate; absent when indeterminate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<bool>,
    /// Why the mail domain's status is bogus or indeterminate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Worst verdict over the MX hosts' address (A) sets; absent without MX hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mx_status: Option<DnssecProof>,
    /// Every MX host's zone is signed; absent without MX hosts or when indeterminate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mx_signed: Option<bool>,
    /// Every MX host's address set validates; absent without MX hosts or when indeterminate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mx_valid: Option<bool>,
    /// Why the MX hosts' status is bogus or indeterminate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mx_reason: Option<String>,
    /// The record sets checked: the domain's, then the MX hosts'.
    pub record_sets: Vec<DnssecRecordSet>,
}

/// One validated record set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DnssecRecordSet {
    /// Owner name.
    pub name: String,
    /// Record type (`SOA`, `A`, `MX`).
    pub record_type: String,
    /// The validator's verdict.
    pub status: DnssecProof,
    /// Why it is bogus or indeterminate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A summary over several record sets.
struct Summary {
    status: DnssecProof,
    signed: Option<bool>,
    valid: Option<bool>,
    reason: Option<String>,
    sets: Vec<DnssecRecordSet>,
}

/// What the facts of one name are: a summary, or the reason there is none.
enum Derived {
    Summary(Summary),
    Unobserved(String),
}

/// The host names of MX records in presentation format (`10 mx.example.com.`), lower-case
/// without the trailing dot, deduplicated, in order; a null MX (`0 .`) names none.
pub fn mx_hosts(records: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for record in records {
        let Some((_, host)) = record.trim().split_once(' ') else {
            continue;
        };
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if !host.is_empty() && !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
}

/// Derives `dns.dnssec` for `host`; reasons for absent facts go to `unobserved`.
pub fn derive(
    evidence: Option<&DnssecEvidence>,
    host: &str,
    unobserved: &mut BTreeMap<String, String>,
) -> Option<DnssecFacts> {
    let Some(evidence) = evidence else {
        unobserved.insert("dns.dnssec".to_string(), not_probed(host));
        return None;
    };
    let host = normalise(host);
    let lookups: Vec<&DnssecLookup> = evidence
        .lookups
        .iter()
        .filter(|l| normalise(&l.name) == host && matches!(l.record_type.as_str(), "SOA" | "A"))
        .collect();
    match summarise(&lookups, &host) {
        Derived::Unobserved(reason) => {
            unobserved.insert("dns.dnssec".to_string(), reason);
            None
        }
        Derived::Summary(summary) => {
            undecided(
                &summary,
                "dns.dnssec.signed",
                "dns.dnssec.valid",
                unobserved,
            );
            Some(DnssecFacts {
                status: summary.status,
                signed: summary.signed,
                valid: summary.valid,
                reason: summary.reason,
                record_sets: summary.sets,
                trust_anchor: evidence.trust_anchor.clone(),
            })
        }
    }
}

/// Derives `mail.dnssec` for the mail domain `domain`.
pub fn derive_mail(
    evidence: Option<&DnssecEvidence>,
    domain: &str,
    unobserved: &mut BTreeMap<String, String>,
) -> Option<MailDnssecFacts> {
    let Some(evidence) = evidence else {
        unobserved.insert("mail.dnssec".to_string(), not_probed(domain));
        return None;
    };
    let domain = normalise(domain);
    let of = |name: &str, types: &[&str]| -> Vec<&DnssecLookup> {
        evidence
            .lookups
            .iter()
            .filter(|l| normalise(&l.name) == name && types.contains(&l.record_type.as_str()))
            .collect()
    };
    let own = of(&domain, &["SOA", "MX"]);
    let summary = match summarise(&own, &domain) {
        Derived::Unobserved(reason) => {
            unobserved.insert("mail.dnssec".to_string(), reason);
            return None;
        }
        Derived::Summary(summary) => summary,
    };
    undecided(
        &summary,
        "mail.dnssec.signed",
        "mail.dnssec.valid",
        unobserved,
    );
    let mut facts = MailDnssecFacts {
        status: summary.status,
        signed: summary.signed,
        valid: summary.valid,
        reason: summary.reason,
        mx_status: None,
        mx_signed: None,
        mx_valid: None,
        mx_reason: None,
        record_sets: summary.sets,
    };
    let mx_records = own
        .iter()
        .find_map(|l| match (&l.outcome, l.record_type.as_str()) {
            (DnssecOutcome::Validated { records, .. }, "MX") => Some(records.as_slice()),
            _ => None,
        });
    let hosts = mx_records.map(mx_hosts).unwrap_or_default();
    if hosts.is_empty() {
        let reason = match mx_records {
            Some(_) => "the mail domain has no MX host (no MX record, or a null MX)",
            None => "the mail domain's MX set was not validated",
        };
        for field in ["mx_status", "mx_signed", "mx_valid"] {
            unobserved.insert(format!("mail.dnssec.{field}"), reason.to_string());
        }
        return Some(facts);
    }
    let lookups: Vec<&DnssecLookup> = hosts
        .iter()
        .take(crate::probe::dnssec::MAX_MX_HOSTS)
        .flat_map(|host| of(host, &["A"]))
        .collect();
    match summarise(&lookups, "the MX hosts") {
        Derived::Unobserved(reason) => {
            for field in ["mx_status", "mx_signed", "mx_valid"] {
                unobserved.insert(format!("mail.dnssec.{field}"), reason.clone());
            }
        }
        Derived::Summary(mx) => {
            undecided(
                &mx,
                "mail.dnssec.mx_signed",
                "mail.dnssec.mx_valid",
                unobserved,
            );
            facts.mx_status = Some(mx.status);
            facts.mx_signed = mx.signed;
            facts.mx_valid = mx.valid;
            facts.mx_reason = mx.reason;
            facts.record_sets.extend(mx.sets);
        }
    }
    Some(facts)
}

fn summarise(lookups: &[&DnssecLookup], what: &str) -> Derived {
    let mut sets: Vec<DnssecRecordSet> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for lookup in lookups {
        match &lookup.outcome {
            DnssecOutcome::Validated { proof, reason, .. } => sets.push(DnssecRecordSet {
                name: normalise(&lookup.name),
                record_type: lookup.record_type.clone(),
                status: *proof,
                reason: reason.clone(),
            }),
            DnssecOutcome::Failed { error } => errors.push(format!(
                "{} {}: {error}",
                normalise(&lookup.name),
                lookup.record_type
            )),
        }
    }
    let Some(status) = sets.iter().map(|s| s.status).max_by_key(|s| s.severity()) else {
        return Derived::Unobserved(if errors.is_empty() {
            format!("no DNSSEC lookup of {what} was recorded")
        } else {
            format!("the DNSSEC lookups failed: {}", errors.join("; "))
        });
    };
    let reason = match status {
        DnssecProof::Bogus | DnssecProof::Indeterminate => sets
            .iter()
            .find(|s| s.status == status)
            .and_then(|s| s.reason.clone()),
        DnssecProof::Secure | DnssecProof::Insecure => None,
    };
    let (signed, valid) = match status {
        DnssecProof::Secure => (Some(true), Some(true)),
        DnssecProof::Bogus => (Some(true), Some(false)),
        DnssecProof::Insecure => (Some(false), Some(false)),
        DnssecProof::Indeterminate => (None, None),
    };
    Derived::Summary(Summary {
        status,
        signed,
        valid,
        reason,
        sets,
    })
}

/// Records why `signed` and `valid` are absent for an indeterminate status.
fn undecided(
    summary: &Summary,
    signed: &str,
    valid: &str,
    unobserved: &mut BTreeMap<String, String>,
) {
    if summary.status == DnssecProof::Indeterminate {
        let reason = format!(
            "the DNSSEC status is indeterminate: {}",
            summary.reason.as_deref().unwrap_or("no reason recorded")
        );
        unobserved.insert(signed.to_string(), reason.clone());
        unobserved.insert(valid.to_string(), reason);
    }
}

fn not_probed(name: &str) -> String {
    if name.parse::<std::net::IpAddr>().is_ok() {
        "an IP address has no DNSSEC status".to_string()
    } else {
        "DNSSEC was not probed (--no-dns, or evidence from before DNSSEC probing)".to_string()
    }
}

fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{FailureKind, ProbeError};

    fn validated(
        name: &str,
        record_type: &str,
        proof: DnssecProof,
        records: &[&str],
    ) -> DnssecLookup {
        DnssecLookup {
            name: name.to_string(),
            record_type: record_type.to_string(),
            outcome: DnssecOutcome::Validated {
                proof,
                rcode: "NOERROR".to_string(),
                records: records.iter().map(|r| (*r).to_string()).collect(),
                reason: matches!(proof, DnssecProof::Bogus | DnssecProof::Indeterminate)
                    .then(|| format!("{name} {record_type} is {}", proof.as_str())),
            },
        }
    }

    fn failed(name: &str, record_type: &str) -> DnssecLookup {
        DnssecLookup {
            name: name.to_string(),
            record_type: record_type.to_string(),
            outcome: DnssecOutcome::Failed {
                error: ProbeError::new(FailureKind::Timeout, "timed out"),
            },
        }
    }

    fn evidence(lookups: Vec<DnssecLookup>) -> DnssecEvidence {
        DnssecEvidence {
            trust_anchor: "test".to_string(),
            lookups,
        }
    }

    #[test]
    fn secure_when_every_set_is() {
        let e = evidence(vec![
            validated("example.test", "A", DnssecProof::Secure, &["192.0.2.1"]),
            validated("example.test", "SOA", DnssecProof::Secure, &[]),
        ]);
        let mut unobserved = BTreeMap::new();
        let facts = derive(Some(&e), "Example.test.", &mut unobserved).unwrap();
        assert_eq!(facts.status, DnssecProof::Secure);
        assert_eq!((facts.signed, facts.valid), (Some(true), Some(true)));
        assert_eq!(facts.reason, None);
        assert_eq!(facts.record_sets.len(), 2);
        assert!(unobserved.is_empty());
    }

    #[test]
    fn the_worst_set_decides_and_gives_the_reason() {
        let e = evidence(vec![
            validated("example.test", "A", DnssecProof::Bogus, &[]),
            validated("example.test", "SOA", DnssecProof::Secure, &[]),
        ]);
        let mut unobserved = BTreeMap::new();
        let facts = derive(Some(&e), "example.test", &mut unobserved).unwrap();
        assert_eq!(facts.status, DnssecProof::Bogus);
        assert_eq!((facts.signed, facts.valid), (Some(true), Some(false)));
        assert_eq!(facts.reason.as_deref(), Some("example.test A is bogus"));
    }

    #[test]
    fn insecure_is_unsigned() {
        let e = evidence(vec![validated(
            "example.test",
            "SOA",
            DnssecProof::Insecure,
            &[],
        )]);
        let facts = derive(Some(&e), "example.test", &mut BTreeMap::new()).unwrap();
        assert_eq!((facts.signed, facts.valid), (Some(false), Some(false)));
    }

    #[test]
    fn indeterminate_leaves_the_booleans_unobserved() {
        let e = evidence(vec![validated(
            "example.test",
            "SOA",
            DnssecProof::Indeterminate,
            &[],
        )]);
        let mut unobserved = BTreeMap::new();
        let facts = derive(Some(&e), "example.test", &mut unobserved).unwrap();
        assert_eq!(facts.status, DnssecProof::Indeterminate);
        assert_eq!((facts.signed, facts.valid), (None, None));
        assert!(unobserved["dns.dnssec.signed"].contains("example.test SOA is indeterminate"));
        assert!(unobserved.contains_key("dns.dnssec.valid"));
    }

    #[test]
    fn absent_when_not_probed_or_every_lookup_failed() {
        let mut unobserved = BTreeMap::new();
        assert!(derive(None, "example.test", &mut unobserved).is_none());
        assert!(unobserved["dns.dnssec"].contains("not probed"));
        let e = evidence(vec![
            failed("example.test", "SOA"),
            failed("example.test", "A"),
        ]);
        let mut unobserved = BTreeMap::new();
        assert!(derive(Some(&e), "example.test", &mut unobserved).is_none());
        assert!(unobserved["dns.dnssec"].contains("timed out"));
        // Other names' lookups do not count for the target.
        let e = evidence(vec![validated(
            "other.test",
            "SOA",
            DnssecProof::Secure,
            &[],
        )]);
        assert!(derive(Some(&e), "example.test", &mut BTreeMap::new()).is_none());
    }

    #[test]
    fn mail_domain_and_mx_hosts() {
        let e = evidence(vec![
            validated(
                "example.test",
                "MX",
                DnssecProof::Secure,
                &["10 mx.example.test.", "20 mx.other.test."],
            ),
            validated("example.test", "SOA", DnssecProof::Secure, &[]),
            validated("mx.example.test", "A", DnssecProof::Secure, &["192.0.2.25"]),
            validated("mx.other.test", "A", DnssecProof::Insecure, &["192.0.2.26"]),
        ]);
        let mut unobserved = BTreeMap::new();
        let facts = derive_mail(Some(&e), "example.test", &mut unobserved).unwrap();
        assert_eq!(facts.status, DnssecProof::Secure);
        assert_eq!(facts.mx_status, Some(DnssecProof::Insecure));
        assert_eq!(
            (facts.mx_signed, facts.mx_valid),
            (Some(false), Some(false))
        );
        assert_eq!(facts.record_sets.len(), 4);
        assert!(unobserved.is_empty());
    }

    #[test]
    fn null_mx_has_no_mx_status() {
        let e = evidence(vec![validated(
            "example.test",
            "MX",
            DnssecProof::Secure,
            &["0 ."],
        )]);
        let mut unobserved = BTreeMap::new();
        let facts = derive_mail(Some(&e), "example.test", &mut unobserved).unwrap();
        assert_eq!(facts.mx_status, None);
        assert!(unobserved["mail.dnssec.mx_status"].contains("no MX host"));
        assert!(unobserved["mail.dnssec.mx_signed"].contains("no MX host"));
    }

    #[test]
    fn mx_hosts_are_normalised_and_deduplicated() {
        let records = [
            "10 MX.example.test.",
            "20 mx.example.test.",
            "0 .",
            "garbage",
        ]
        .map(String::from);
        assert_eq!(mx_hosts(&records), ["mx.example.test"]);
    }
}
