//! Per-MX facts (`mail.mx[*].tls.*`, `mail.mx[*].dane.*`): STARTTLS on port 25, the TLS scan
//! through it summarised to what mail rules test, the certificate for the MX name, and DANE;
//! and whether the MTA-STS policy's MX hosts present certificates a sender would accept.
//!
//! The summary reuses the HTTPS derivations ([`TlsFacts`], [`crate::facts::x509`]) on the MX
//! host's scan and keeps list elements small: counts and levels instead of suite lists.
//! Certificate transparency is not required for SMTP and is not derived. STARTTLS `offered`
//! means the server lists it in its EHLO reply; `failed` means it was listed (or the command
//! was sent) but no TLS version could be negotiated after it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::dane::{self, DaneFacts};
use super::{MailFacts, MtaStsFacts, MxFacts, mta_sts};
use crate::evidence::{DnssecEvidence, MailEvidence, MxEvidence, StarttlsOutcome};
use crate::facts::ciphers::SuiteFacts;
use crate::facts::tls::{ProtocolFacts, TlsFacts};
use crate::facts::x509::{self, CertDerivation, TrustError};

/// STARTTLS and TLS of one MX host's port 25.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MxTlsFacts {
    /// How the STARTTLS conversation ended: `ready`, `not_offered`, `refused` or `failed`.
    pub starttls: String,
    /// The server lists STARTTLS in its EHLO reply; absent when the conversation ended before
    /// EHLO was answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls_offered: Option<bool>,
    /// STARTTLS is offered but no TLS session starts: the command is refused, or no TLS version
    /// is accepted after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls_failed: Option<bool>,
    /// Why STARTTLS failed or was not offered, in the server's words where it gave some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls_error: Option<String>,
    /// Protocol versions accepted through STARTTLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocols: Option<ProtocolFacts>,
    /// The newest version accepted: `ssl2` … `tls1_3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highest_protocol: Option<String>,
    /// The oldest version accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lowest_protocol: Option<String>,
    /// Accepted suites classified insecure (NULL, anonymous, EXPORT, RC4, DES).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_suite_count: Option<u32>,
    /// Accepted suites classified weak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weak_suite_count: Option<u32>,
    /// Accepted suites without forward secrecy or with 3DES (NCSC-NL: Phase out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_out_suite_count: Option<u32>,
    /// Accepted suites that are not ECDHE (or TLS 1.3) with AEAD (NCSC-NL: below Good).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_good_suite_count: Option<u32>,
    /// Key-exchange groups accepted (TLS 1.2 curves and TLS 1.3 groups together).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// Smallest DHE prime offered, in bits (absent when no DHE suite is accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhe_prime_bits: Option<u32>,
    /// TLS compression is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<bool>,
    /// Secure renegotiation (RFC 5746) is signalled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure_renegotiation: Option<bool>,
    /// The certificate served through STARTTLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<MxCertFacts>,
}

/// The MX host's certificate, judged for the MX name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MxCertFacts {
    /// The chain validates against the trust anchors for the MX name (PKIX, as MTA-STS needs).
    pub trusted: bool,
    /// Why not (see `cert.trust_error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_error: Option<TrustError>,
    /// A subjectAltName DNS name (or wildcard) covers the MX name.
    pub name_matches: bool,
    /// Whole days from the audit to the end of validity (negative when expired).
    pub days_until_expiry: i64,
    /// Key type: `rsa`, `ec`, `ed25519`, …
    pub key_type: String,
    /// Key size in bits.
    pub key_bits: u32,
    /// The signature uses MD5 or SHA-1.
    pub weak_signature_hash: bool,
}

/// Fields of [`MxTlsFacts`] that come from the scan, unobserved together when there is none.
const SCAN_FIELDS: [&str; 13] = [
    "protocols",
    "highest_protocol",
    "lowest_protocol",
    "insecure_suite_count",
    "weak_suite_count",
    "phase_out_suite_count",
    "not_good_suite_count",
    "groups",
    "dhe_prime_bits",
    "compression",
    "secure_renegotiation",
    "certificate",
    "starttls_failed",
];

/// Adds `tls` and `dane` to each of `mail.mx` from the MX probe's evidence and the TLSA
/// lookups, and judges the MTA-STS policy's MX certificates. Reasons go to `unobserved`.
pub fn derive(
    mail: &mut MailFacts,
    observed: &MailEvidence,
    dnssec: Option<&DnssecEvidence>,
    now: i64,
    unobserved: &mut BTreeMap<String, String>,
) {
    let Some(hosts) = mail.mx.as_mut() else {
        return;
    };
    for (index, mx) in hosts.iter_mut().enumerate() {
        let path = format!("mail.mx[{index}]");
        if mx.host == "." {
            let reason = "a null MX accepts no mail".to_string();
            unobserved.insert(format!("{path}.tls"), reason.clone());
            unobserved.insert(format!("{path}.dane"), reason);
            continue;
        }
        match observed.mx.iter().find(|e| e.host == mx.host) {
            Some(evidence) => {
                mx.tls = tls_facts(evidence, now, &path, unobserved);
            }
            None => {
                let reason = if observed.mx.is_empty() {
                    "the MX hosts were not probed (--max-mx 0, the deadline, or older evidence)"
                        .to_string()
                } else {
                    format!(
                        "only the first {} MX hosts are probed (--max-mx)",
                        observed.mx.len()
                    )
                };
                unobserved.insert(format!("{path}.tls"), reason);
            }
        }
        mx.dane = dane_facts(mx, observed, dnssec, &path, unobserved);
    }
    if let Some(sts) = mail.mta_sts.as_mut() {
        judge_mta_sts(sts, mail.mx.as_deref().unwrap_or_default(), unobserved);
    }
}

fn tls_facts(
    evidence: &MxEvidence,
    now: i64,
    path: &str,
    unobserved: &mut BTreeMap<String, String>,
) -> Option<MxTlsFacts> {
    let Some(starttls) = &evidence.starttls else {
        let reason = match evidence.tls.as_ref().and_then(|t| t.error.as_ref()) {
            Some(error) => format!("the MX host's address could not be resolved: {error}"),
            None => "the MX host has no address".to_string(),
        };
        unobserved.insert(format!("{path}.tls"), reason);
        return None;
    };
    let advertised = starttls.capabilities.iter().any(|c| c == "STARTTLS");
    let mut facts = MxTlsFacts::default();
    let mut no_scan = None;
    match &starttls.outcome {
        StarttlsOutcome::Ready { .. } => {
            facts.starttls = "ready".into();
            facts.starttls_offered = Some(true);
        }
        StarttlsOutcome::NotOffered => {
            facts.starttls = "not_offered".into();
            facts.starttls_offered = Some(false);
            facts.starttls_error = Some("the EHLO reply does not list STARTTLS".into());
            no_scan = Some("STARTTLS is not offered".to_string());
        }
        StarttlsOutcome::Refused { stage, reply } => {
            facts.starttls = "refused".into();
            facts.starttls_error = Some(format!("{stage}: {reply}"));
            if stage == "starttls" {
                facts.starttls_offered = Some(advertised);
                facts.starttls_failed = Some(true);
            } else {
                unobserved.insert(
                    format!("{path}.tls.starttls_offered"),
                    format!("the server refused at {stage}: {reply}"),
                );
            }
            no_scan = Some(format!("STARTTLS was refused at {stage}"));
        }
        StarttlsOutcome::Failed { stage, error } => {
            facts.starttls = "failed".into();
            facts.starttls_error = Some(format!("{stage}: {error}"));
            if stage == "starttls" {
                facts.starttls_offered = Some(advertised);
                facts.starttls_failed = Some(true);
            } else {
                unobserved.insert(
                    format!("{path}.tls.starttls_offered"),
                    format!("the SMTP conversation failed at {stage}: {error}"),
                );
            }
            no_scan = Some(format!("the SMTP conversation failed at {stage}"));
        }
    }
    let scan = evidence.tls.as_ref().filter(|_| no_scan.is_none());
    let Some(scan) = scan else {
        let reason = no_scan.unwrap_or_else(|| "the TLS scan did not run".to_string());
        for field in SCAN_FIELDS {
            let key = format!("{path}.tls.{field}");
            if field == "starttls_failed" && facts.starttls_failed.is_some() {
                continue;
            }
            if field == "starttls_failed" && facts.starttls_offered == Some(false) {
                // Not offered is its own finding; nothing failed.
                facts.starttls_failed = Some(false);
                continue;
            }
            unobserved.entry(key).or_insert_with(|| reason.clone());
        }
        return Some(facts);
    };
    let derived = TlsFacts::derive(scan);
    for (key, reason) in derived.unobserved {
        if let Some(rest) = key.strip_prefix("tls.") {
            let field = rest.split('.').next().unwrap_or(rest);
            if SCAN_FIELDS.contains(&field) || field == "accepted_suites" {
                let field = if field == "accepted_suites" {
                    "phase_out_suite_count"
                } else {
                    rest
                };
                unobserved.insert(format!("{path}.tls.{field}"), reason);
            }
        }
    }
    let tls = derived.facts;
    let any_accepted = [
        tls.protocols.ssl2,
        tls.protocols.ssl3,
        tls.protocols.tls1_0,
        tls.protocols.tls1_1,
        tls.protocols.tls1_2,
        tls.protocols.tls1_3,
    ]
    .contains(&Some(true));
    facts.starttls_failed = Some(!any_accepted);
    if !any_accepted {
        let first = scan
            .attempts
            .iter()
            .find(|a| a.purpose == "protocol")
            .map(|a| describe_reply(&a.reply))
            .unwrap_or_else(|| "no hello was answered".to_string());
        facts.starttls_error = Some(format!(
            "no TLS version is accepted after STARTTLS: {first}"
        ));
    }
    facts.protocols = Some(tls.protocols.clone());
    facts.highest_protocol = tls.highest_protocol.clone();
    facts.lowest_protocol = tls.lowest_protocol.clone();
    facts.insecure_suite_count = tls.insecure_suite_count;
    facts.weak_suite_count = tls.weak_suite_count;
    if let Some(suites) = &tls.accepted_suites {
        let count = |f: &dyn Fn(&SuiteFacts) -> bool| {
            u32::try_from(suites.iter().filter(|s| f(s)).count()).unwrap_or(u32::MAX)
        };
        facts.phase_out_suite_count = Some(count(&|s| !s.forward_secrecy || s.triple_des));
        facts.not_good_suite_count = Some(count(&|s| {
            !(matches!(s.key_exchange.as_str(), "ecdhe" | "tls13") && s.aead)
        }));
    } else {
        let reason = "the suites of some version could not be enumerated".to_string();
        for field in ["phase_out_suite_count", "not_good_suite_count"] {
            unobserved
                .entry(format!("{path}.tls.{field}"))
                .or_insert_with(|| reason.clone());
        }
    }
    let groups: Vec<String> = [&tls.groups.tls1_2, &tls.groups.tls1_3]
        .into_iter()
        .flatten()
        .flatten()
        .fold(Vec::new(), |mut all, g| {
            if !all.contains(g) {
                all.push(g.clone());
            }
            all
        });
    facts.groups = (tls.groups.tls1_2.is_some() || tls.groups.tls1_3.is_some()).then_some(groups);
    facts.dhe_prime_bits = tls.dhe_prime_bits;
    facts.compression = tls.protections.compression;
    facts.secure_renegotiation = tls.protections.secure_renegotiation;
    facts.certificate = match x509::derive(scan, now, None) {
        CertDerivation::Facts(cert) => Some(MxCertFacts {
            trusted: cert.trusted,
            trust_error: cert.trust_error,
            name_matches: cert
                .san
                .iter()
                .any(|name| name_covers(name, &evidence.host)),
            days_until_expiry: cert.days_until_expiry,
            key_type: cert.key.kind.clone(),
            key_bits: cert.key.bits,
            weak_signature_hash: cert.signature.weak_hash,
        }),
        CertDerivation::Unobserved(reason) => {
            unobserved.insert(format!("{path}.tls.certificate"), reason);
            None
        }
    };
    Some(facts)
}

fn describe_reply(reply: &crate::evidence::tls::TlsReply) -> String {
    use crate::evidence::tls::TlsReply as R;
    match reply {
        R::Closed => "the connection was closed".into(),
        R::Reset => "the connection was reset".into(),
        R::Timeout => "no reply in time".into(),
        R::Alert { name, .. } => format!("alert {name}"),
        R::ConnectFailed { error } => error.to_string(),
        R::NotTls { first_bytes } => format!("not TLS: {first_bytes}"),
        R::Malformed { reason } => format!("malformed: {reason}"),
        other => format!("{other:?}"),
    }
}

/// Whether the certificate name `pattern` (possibly `*.` wildcard) covers `host`.
pub fn name_covers(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => pattern == host,
    }
}

fn dane_facts(
    mx: &MxFacts,
    observed: &MailEvidence,
    dnssec: Option<&DnssecEvidence>,
    path: &str,
    unobserved: &mut BTreeMap<String, String>,
) -> Option<DaneFacts> {
    let name = dane::tlsa_name(&mx.host);
    let lookup = dnssec.and_then(|d| {
        d.lookups
            .iter()
            .find(|l| l.name == name && l.record_type == "TLSA")
    });
    let Some(lookup) = lookup else {
        unobserved.insert(
            format!("{path}.dane"),
            format!("the TLSA records at {name} were not looked up (--no-dns, or the host was not probed)"),
        );
        return None;
    };
    let evidence = observed.mx.iter().find(|e| e.host == mx.host);
    let chain = evidence
        .and_then(|e| e.tls.as_ref())
        .map(dane::served_chain)
        .filter(|c| !c.is_empty());
    let ta_checks = evidence.map(|e| e.ta_checks.as_slice()).unwrap_or_default();
    match dane::derive(&lookup.outcome, chain.as_deref(), ta_checks) {
        Ok(facts) => {
            if facts.usable && facts.valid.is_none() {
                unobserved.insert(
                    format!("{path}.dane.valid"),
                    "no certificate chain was observed through STARTTLS".to_string(),
                );
            }
            Some(facts)
        }
        Err(reason) => {
            unobserved.insert(format!("{path}.dane"), reason);
            None
        }
    }
}

/// RFC 8461 section 4.1: a sender enforcing MTA-STS delivers only to an MX host that matches a
/// policy pattern and presents a PKIX-valid certificate for its name.
fn judge_mta_sts(
    sts: &mut MtaStsFacts,
    hosts: &[MxFacts],
    unobserved: &mut BTreeMap<String, String>,
) {
    if sts.policy_fetched != Some(true) {
        return;
    }
    let mut judged = 0;
    for mx in hosts.iter().filter(|h| h.host != ".") {
        if !sts.mx.iter().any(|p| mta_sts::matches(p, &mx.host)) {
            continue;
        }
        let Some(cert) = mx.tls.as_ref().and_then(|t| t.certificate.as_ref()) else {
            continue;
        };
        judged += 1;
        if !cert.trusted {
            let why = cert
                .trust_error
                .and_then(|e| serde_json::to_value(e).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| "untrusted".to_string());
            sts.invalid_certificate_mx
                .push(format!("{}: {why}", mx.host));
        }
    }
    if judged == 0 {
        unobserved.insert(
            "mail.mta_sts.mx_certificates_valid".to_string(),
            "no MX host covered by the policy presented a certificate through STARTTLS".to_string(),
        );
    } else {
        sts.mx_certificates_valid = Some(sts.invalid_certificate_mx.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mx(host: &str, trusted: bool) -> MxFacts {
        MxFacts {
            preference: 10,
            host: host.to_string(),
            tls: Some(MxTlsFacts {
                certificate: Some(MxCertFacts {
                    trusted,
                    trust_error: (!trusted).then_some(TrustError::HostnameMismatch),
                    name_matches: trusted,
                    days_until_expiry: 30,
                    key_type: "ec".into(),
                    key_bits: 256,
                    weak_signature_hash: false,
                }),
                ..MxTlsFacts::default()
            }),
            dane: None,
        }
    }

    #[test]
    fn mta_sts_judges_the_certificates_of_covered_hosts_only() {
        let mut unobserved = BTreeMap::new();
        let mut sts = MtaStsFacts {
            present: true,
            policy_fetched: Some(true),
            mx: vec!["*.example.test".into()],
            ..MtaStsFacts::default()
        };
        let hosts = [
            mx("mx1.example.test", true),
            mx("mx2.example.test", false),
            // Not covered by the policy: its certificate does not matter to MTA-STS senders.
            mx("backup.elsewhere.test", false),
        ];
        judge_mta_sts(&mut sts, &hosts, &mut unobserved);
        assert_eq!(sts.mx_certificates_valid, Some(false));
        assert_eq!(
            sts.invalid_certificate_mx,
            ["mx2.example.test: hostname_mismatch"]
        );

        let mut sts = MtaStsFacts {
            policy_fetched: Some(true),
            mx: vec!["mx1.example.test".into()],
            ..MtaStsFacts::default()
        };
        judge_mta_sts(&mut sts, &hosts[..1], &mut unobserved);
        assert_eq!(sts.mx_certificates_valid, Some(true));

        let mut sts = MtaStsFacts {
            policy_fetched: Some(true),
            mx: vec!["other.test".into()],
            ..MtaStsFacts::default()
        };
        judge_mta_sts(&mut sts, &hosts, &mut unobserved);
        assert_eq!(sts.mx_certificates_valid, None);
        assert!(unobserved.contains_key("mail.mta_sts.mx_certificates_valid"));
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_covers("mx1.example.test", "MX1.example.test."));
        assert!(name_covers("*.example.test", "mx1.example.test"));
        assert!(!name_covers("*.example.test", "a.mx1.example.test"));
        assert!(!name_covers("*.example.test", "example.test"));
        assert!(!name_covers("mx2.example.test", "mx1.example.test"));
    }
}
