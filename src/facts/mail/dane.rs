//! DANE for SMTP (RFC 7672, RFC 6698): the TLSA records at `_25._tcp.MX` with their DNSSEC
//! verdict, parsed, and matched against the chain the MX host served through STARTTLS.
//!
//! - Only a DNSSEC-secure TLSA set counts (RFC 7672 section 2.2): an insecure (unsigned) set is
//!   ignored and the facts say why; a bogus or indeterminate one cannot be used either.
//! - DANE-EE (3) matches the leaf; the leaf's names and dates are not checked (section 3.1.1).
//! - DANE-TA (2) matches a CA certificate the server sent after the leaf, and the chain must
//!   validate up to it for the MX host name (section 3.1.2): the probe records that check with
//!   the matched certificate as the only anchor. A trust anchor that is not served cannot be
//!   matched (a documented limit).
//! - PKIX-TA (0) and PKIX-EE (1) are listed but not usable for SMTP (section 3.1.3).
//! - Selector 0 is the whole certificate, 1 its SubjectPublicKeyInfo; matching type 0 is the
//!   data itself, 1 SHA-256, 2 SHA-512 (aws-lc-rs digests).
//!
//! Pure: everything comes from evidence.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::evidence::tls::{HandshakeOutcome, TlsEvidence};
use crate::evidence::{DnssecOutcome, DnssecProof, TaCheck};

/// DANE facts of one MX host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DaneFacts {
    /// Number of TLSA records at `_25._tcp.HOST`.
    pub tlsa_count: u32,
    /// The DNSSEC verdict of the TLSA answer (or of its denial): `secure`, `insecure`, `bogus`
    /// or `indeterminate`.
    pub dnssec: DnssecProof,
    /// The TLSA set is DNSSEC-secure and holds at least one DANE-TA or DANE-EE record with a
    /// known selector and matching type, so senders use DANE (RFC 7672 section 2.2).
    pub usable: bool,
    /// Why the TLSA set is not used (none published, unsigned, bogus, only PKIX usages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignored_reason: Option<String>,
    /// The records, parsed, each with whether it matched the served chain.
    pub records: Vec<TlsaFacts>,
    /// A usable record matches the chain the host served; absent when the set is not usable or
    /// no chain was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<bool>,
    /// Two or more usable records: the next key (or a DANE-TA record) can be published ahead of
    /// a certificate change, as a rollover scheme needs.
    pub rollover: bool,
}

/// One TLSA record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TlsaFacts {
    /// Certificate usage: `pkix_ta`, `pkix_ee`, `dane_ta`, `dane_ee` or `unknown`.
    pub usage: String,
    /// Selector: `cert` (whole certificate), `spki` (public key) or `unknown`.
    pub selector: String,
    /// Matching type: `full`, `sha256`, `sha512` or `unknown`.
    pub matching: String,
    /// Usable for SMTP: DANE-TA or DANE-EE with a known selector and matching type.
    pub usable: bool,
    /// The record matches a certificate of the served chain (for DANE-TA: one the chain
    /// validates up to); absent when no chain was observed or the record is not usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<bool>,
    /// Position in the served chain of the certificate it matched (0 is the leaf).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_certificate: Option<u32>,
}

/// The owner name of the TLSA records of an MX host: `_25._tcp.HOST` (RFC 7672 section
/// 2.2.1).
pub fn tlsa_name(host: &str) -> String {
    format!(
        "_25._tcp.{}",
        host.trim_end_matches('.').to_ascii_lowercase()
    )
}

/// A TLSA record in presentation format, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlsa {
    /// Certificate usage (0–3).
    pub usage: u8,
    /// Selector (0–1).
    pub selector: u8,
    /// Matching type (0–2).
    pub matching: u8,
    /// Certificate association data.
    pub data: Vec<u8>,
}

/// Parses `USAGE SELECTOR MATCHING HEX…` (the hex may be split by spaces, any case).
pub fn parse_tlsa(text: &str) -> Option<Tlsa> {
    let mut fields = text.split_ascii_whitespace();
    let usage = fields.next()?.parse().ok()?;
    let selector = fields.next()?.parse().ok()?;
    let matching = fields.next()?.parse().ok()?;
    let hex: String = fields.collect();
    Some(Tlsa {
        usage,
        selector,
        matching,
        data: decode_hex(&hex)?,
    })
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.is_empty() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The association data of `der` under `selector` and `matching`, as a TLSA record would hold
/// it; `None` for an unknown selector or matching type, or a certificate that does not parse.
pub fn association(der: &[u8], selector: u8, matching: u8) -> Option<Vec<u8>> {
    use aws_lc_rs::digest::{SHA256, SHA512, digest};
    let selected: Vec<u8> = match selector {
        0 => der.to_vec(),
        1 => {
            let (_, cert) = X509Certificate::from_der(der).ok()?;
            cert.tbs_certificate.subject_pki.raw.to_vec()
        }
        _ => return None,
    };
    match matching {
        0 => Some(selected),
        1 => Some(digest(&SHA256, &selected).as_ref().to_vec()),
        2 => Some(digest(&SHA512, &selected).as_ref().to_vec()),
        _ => None,
    }
}

/// The DER chain a scan observed: the first completed handshake's, else the raw Certificate
/// message's (leaf first).
pub fn served_chain(tls: &TlsEvidence) -> Vec<Vec<u8>> {
    let from_handshake = tls.handshakes.iter().find_map(|h| match &h.outcome {
        HandshakeOutcome::Completed { certificates, .. } if !certificates.is_empty() => {
            Some(certificates)
        }
        _ => None,
    });
    let from_message = || tls.raw_chain().map(|info| &info.certificates);
    from_handshake
        .or_else(from_message)
        .map(|chain| {
            chain
                .iter()
                .filter_map(|b64| crate::evidence::decode_bytes(b64))
                .collect()
        })
        .unwrap_or_default()
}

fn usage_name(usage: u8) -> &'static str {
    match usage {
        0 => "pkix_ta",
        1 => "pkix_ee",
        2 => "dane_ta",
        3 => "dane_ee",
        _ => "unknown",
    }
}

/// Derives the DANE facts from the TLSA lookup's outcome, the served chain (`None` when no TLS
/// session was observed) and the DANE-TA chain checks. `Err` is why there are none.
pub fn derive(
    lookup: &DnssecOutcome,
    chain: Option<&[Vec<u8>]>,
    ta_checks: &[TaCheck],
) -> Result<DaneFacts, String> {
    let (proof, records, reason) = match lookup {
        DnssecOutcome::Failed { error } => {
            return Err(format!("the TLSA lookup failed: {error}"));
        }
        DnssecOutcome::Validated {
            proof,
            records,
            reason,
            ..
        } => (*proof, records, reason),
    };
    let parsed: Vec<Option<Tlsa>> = records.iter().map(|r| parse_tlsa(r)).collect();
    let chain = chain.filter(|c| !c.is_empty());
    let secure = proof == DnssecProof::Secure;
    let mut facts: Vec<TlsaFacts> = parsed
        .iter()
        .map(|record| {
            let Some(record) = record else {
                return TlsaFacts {
                    usage: "unknown".into(),
                    selector: "unknown".into(),
                    matching: "unknown".into(),
                    usable: false,
                    matched: None,
                    matched_certificate: None,
                };
            };
            let usable = matches!(record.usage, 2 | 3)
                && record.selector <= 1
                && record.matching <= 2
                && !record.data.is_empty();
            let found = match (usable && secure, chain) {
                (true, Some(chain)) => Some(match_record(record, chain, ta_checks)),
                _ => None,
            };
            TlsaFacts {
                usage: usage_name(record.usage).into(),
                selector: match record.selector {
                    0 => "cert",
                    1 => "spki",
                    _ => "unknown",
                }
                .into(),
                matching: match record.matching {
                    0 => "full",
                    1 => "sha256",
                    2 => "sha512",
                    _ => "unknown",
                }
                .into(),
                usable,
                matched: found.map(|position| position.is_some()),
                matched_certificate: found.flatten(),
            }
        })
        .collect();
    facts.truncate(64);
    let usable_count = facts.iter().filter(|r| r.usable).count();
    let ignored_reason = if records.is_empty() {
        Some("no TLSA record is published".to_string())
    } else {
        match proof {
            DnssecProof::Secure if usable_count == 0 => Some(
                "no record has a DANE-TA(2) or DANE-EE(3) usage with a known selector and matching type (RFC 7672 section 3.1.3)"
                    .to_string(),
            ),
            DnssecProof::Secure => None,
            DnssecProof::Insecure => Some(
                "the TLSA records are not DNSSEC-signed (insecure): senders ignore them (RFC 7672 section 2.2)"
                    .to_string(),
            ),
            DnssecProof::Bogus | DnssecProof::Indeterminate => Some(format!(
                "the TLSA answer is {}{}: senders cannot use it (RFC 7672 section 2.2)",
                proof.as_str(),
                reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )),
        }
    };
    let usable = ignored_reason.is_none();
    let valid = (usable && chain.is_some())
        .then(|| facts.iter().any(|r| r.usable && r.matched == Some(true)));
    Ok(DaneFacts {
        tlsa_count: u32::try_from(records.len()).unwrap_or(u32::MAX),
        dnssec: proof,
        usable,
        ignored_reason,
        records: facts,
        valid,
        rollover: usable && usable_count >= 2,
    })
}

/// The chain position `record` matches, if any.
fn match_record(record: &Tlsa, chain: &[Vec<u8>], ta_checks: &[TaCheck]) -> Option<u32> {
    let matches = |der: &[u8]| {
        association(der, record.selector, record.matching).is_some_and(|data| data == record.data)
    };
    match record.usage {
        3 => chain.first().filter(|leaf| matches(leaf)).map(|_| 0),
        2 => chain
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, der)| matches(der))
            .map(|(position, _)| u32::try_from(position).unwrap_or(u32::MAX))
            .find(|position| {
                ta_checks
                    .iter()
                    .any(|t| t.position == *position && t.check.error.is_none())
            }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::tls::ChainCheck;

    fn cert(name: &str) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    }

    fn lookup(proof: DnssecProof, records: Vec<String>) -> DnssecOutcome {
        DnssecOutcome::Validated {
            proof,
            rcode: "NOERROR".into(),
            records,
            reason: None,
        }
    }

    #[test]
    fn parses_presentation_format() {
        let tlsa = parse_tlsa("3 1 1 0a0B 0c").unwrap();
        assert_eq!((tlsa.usage, tlsa.selector, tlsa.matching), (3, 1, 1));
        assert_eq!(tlsa.data, [0x0a, 0x0b, 0x0c]);
        assert!(parse_tlsa("3 1 1").is_none());
        assert!(parse_tlsa("3 1 1 abc").is_none());
        assert!(parse_tlsa("x 1 1 ab").is_none());
        assert!(parse_tlsa("3 1 1 zz").is_none());
    }

    #[test]
    fn association_data_matches_independent_digests() {
        let der = cert("mx.example.test");
        // Selector 0, matching 1: SHA-256 of the whole certificate, computed here directly.
        let expected = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
        assert_eq!(association(&der, 0, 1).unwrap(), expected.as_ref());
        assert_eq!(association(&der, 0, 0).unwrap(), der);
        assert_eq!(association(&der, 0, 2).unwrap().len(), 64);
        assert!(association(&der, 2, 1).is_none());
        assert!(association(&der, 0, 3).is_none());
        assert!(association(b"not a certificate", 1, 1).is_none());
    }

    #[test]
    fn spki_selector_uses_the_public_key_only() {
        let key = rcgen::KeyPair::generate().unwrap();
        let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
        let make = |name: &str| {
            rcgen::CertificateParams::new(vec![name.to_string()])
                .unwrap()
                .self_signed(&key)
                .unwrap()
                .der()
                .to_vec()
        };
        // Two certificates with the same key share their SPKI association.
        let (a, b) = (make("a.test"), make("b.test"));
        assert_eq!(association(&a, 1, 0).unwrap(), spki);
        assert_eq!(association(&a, 1, 1), association(&b, 1, 1));
        assert_ne!(association(&a, 0, 1), association(&b, 0, 1));
    }

    #[test]
    fn dane_ee_matches_the_leaf_and_notes_rollover() {
        let leaf = cert("mx.example.test");
        let next = cert("mx.example.test");
        let records = vec![
            format!("3 1 1 {}", hex(&association(&leaf, 1, 1).unwrap())),
            format!("3 1 1 {}", hex(&association(&next, 1, 1).unwrap())),
        ];
        let chain = vec![leaf];
        let facts = derive(&lookup(DnssecProof::Secure, records), Some(&chain), &[]).unwrap();
        assert!(facts.usable);
        assert_eq!(facts.valid, Some(true));
        assert!(facts.rollover);
        assert_eq!(facts.records[0].matched, Some(true));
        assert_eq!(facts.records[0].matched_certificate, Some(0));
        assert_eq!(facts.records[1].matched, Some(false));
        assert_eq!(facts.records[0].usage, "dane_ee");
        assert_eq!(facts.records[0].selector, "spki");
    }

    #[test]
    fn mismatch_insecure_and_pkix_records() {
        let leaf = cert("mx.example.test");
        let other = cert("other.test");
        let chain = vec![leaf.clone()];
        let wrong = vec![format!(
            "3 0 1 {}",
            hex(&association(&other, 0, 1).unwrap())
        )];
        let facts = derive(&lookup(DnssecProof::Secure, wrong), Some(&chain), &[]).unwrap();
        assert_eq!(facts.valid, Some(false));
        assert!(!facts.rollover);

        let right = vec![format!("3 0 1 {}", hex(&association(&leaf, 0, 1).unwrap()))];
        let facts = derive(
            &lookup(DnssecProof::Insecure, right.clone()),
            Some(&chain),
            &[],
        )
        .unwrap();
        assert!(!facts.usable);
        assert_eq!(facts.valid, None);
        assert_eq!(facts.records[0].matched, None);
        assert!(facts.ignored_reason.unwrap().contains("not DNSSEC-signed"));

        let pkix = vec![format!("1 0 1 {}", hex(&association(&leaf, 0, 1).unwrap()))];
        let facts = derive(&lookup(DnssecProof::Secure, pkix), Some(&chain), &[]).unwrap();
        assert!(!facts.usable);
        assert!(!facts.records[0].usable);

        let none = derive(&lookup(DnssecProof::Secure, Vec::new()), Some(&chain), &[]).unwrap();
        assert_eq!(none.tlsa_count, 0);
        assert!(!none.usable);

        let facts = derive(&lookup(DnssecProof::Secure, right), None, &[]).unwrap();
        assert!(facts.usable);
        assert_eq!(facts.valid, None);
    }

    #[test]
    fn dane_ta_needs_a_served_anchor_the_chain_validates_to() {
        let leaf = cert("mx.example.test");
        let ca = cert("ca.test");
        let chain = vec![leaf, ca.clone()];
        let record = vec![format!("2 0 1 {}", hex(&association(&ca, 0, 1).unwrap()))];
        let passed = [TaCheck {
            position: 1,
            check: ChainCheck::default(),
        }];
        let facts = derive(
            &lookup(DnssecProof::Secure, record.clone()),
            Some(&chain),
            &passed,
        )
        .unwrap();
        assert_eq!(facts.valid, Some(true));
        assert_eq!(facts.records[0].matched_certificate, Some(1));
        let failed = [TaCheck {
            position: 1,
            check: ChainCheck {
                error: Some("bad signature".into()),
                error_code: Some("bad_signature".into()),
            },
        }];
        let facts = derive(&lookup(DnssecProof::Secure, record), Some(&chain), &failed).unwrap();
        assert_eq!(facts.valid, Some(false));
    }
}
