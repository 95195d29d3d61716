//! Certificate facts: the served chain parsed with x509-parser, and the trust verdict of the
//! rustls handshake sorted into the reasons an engineer acts on.
//!
//! "Now" is the time the evidence was collected, so the same evidence always gives the same
//! `days_until_expiry`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::ct::SctSource;
use crate::evidence::tls::{HandshakeOutcome, TlsEvidence};
use crate::ocsp::LeafStatus;

/// Certificate facts of the HTTPS endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CertFacts {
    /// Where the chain was read: `handshake` (a full rustls handshake) or `certificate_message`
    /// (the raw TLS ≤ 1.2 Certificate message, when no handshake completed).
    pub source: String,
    /// The chain validates against the trust anchors for the host name.
    pub trusted: bool,
    /// Why not: `expired`, `not_yet_valid`, `hostname_mismatch`, `self_signed`,
    /// `incomplete_chain`, `unknown_issuer`, `bad_signature` or `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_error: Option<TrustError>,
    /// The validator's own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_error_detail: Option<String>,
    /// Certificates served, leaf included.
    pub chain_length: u32,
    /// Each served certificate is issued by the next one.
    pub chain_in_order: bool,
    /// Served certificates that are not on the path from the leaf up (sent for nothing).
    pub chain_extra_count: u32,
    /// A self-signed CA certificate (a root) was served; clients never use it.
    pub chain_includes_root: bool,
    /// The leaf's subject.
    pub subject: String,
    /// The leaf's issuer.
    pub issuer: String,
    /// DNS names in subjectAltName.
    pub san: Vec<String>,
    /// A `*.` name is among them.
    pub wildcard: bool,
    /// The leaf signs itself.
    pub self_signed: bool,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Whole days from the audit to the end of validity (negative when expired).
    pub days_until_expiry: i64,
    /// Length of the validity period in days (publicly trusted certificates: at most 398).
    pub validity_days: i64,
    /// The leaf's public key.
    pub key: KeyFacts,
    /// The leaf's signature.
    pub signature: SignatureFacts,
    /// The TLS Feature extension demands OCSP stapling (must-staple).
    pub must_staple: bool,
    /// Signed certificate timestamps embedded in the leaf.
    pub embedded_sct_count: u32,
    /// The stapled OCSP response.
    pub ocsp: OcspFacts,
    /// Certificate transparency: every SCT (embedded, TLS extension, OCSP) verified against the
    /// CT log list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ct: Option<super::ct::CtFacts>,
}

/// The stapled OCSP response, decoded and checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OcspFacts {
    /// The server stapled a response.
    pub stapled: bool,
    /// Why the staple could not be decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    /// `successful`, `malformed_request`, `internal_error`, `try_later`, `sig_required` or
    /// `unauthorized`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<String>,
    /// The leaf's status: `good`, `revoked` or `unknown`; `no_response` when no single response
    /// in the staple is about the leaf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `producedAt`, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub produced_at: Option<String>,
    /// `thisUpdate` of the leaf's response, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub this_update: Option<String>,
    /// `nextUpdate` of the leaf's response, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_update: Option<String>,
    /// The audit time lies between `thisUpdate` and `nextUpdate` (5 minutes of clock skew
    /// allowed; no `nextUpdate` means not fresh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fresh: Option<bool>,
    /// The responder's signature verifies (issuer, or a delegated responder it signed); absent
    /// when the issuer was not served or the algorithm is not supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_valid: Option<bool>,
    /// When the leaf was revoked, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_time: Option<String>,
    /// The CRL reason given for the revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
    /// SCTs in the leaf's response (a list that does not parse counts none).
    pub sct_count: u32,
}

/// Why a chain is not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrustError {
    /// Past its notAfter.
    Expired,
    /// Before its notBefore.
    NotYetValid,
    /// Not issued for the host name.
    HostnameMismatch,
    /// Signed by itself.
    SelfSigned,
    /// The issuer of the leaf was not served (intermediate missing).
    IncompleteChain,
    /// The chain ends at a root the trust store does not have.
    UnknownIssuer,
    /// A signature in the chain does not verify.
    BadSignature,
    /// Anything else.
    Other,
}

/// A public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeyFacts {
    /// `rsa`, `ec`, `ed25519`, `ed448`, `dsa` or `unknown`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Size in bits (RSA modulus, EC field).
    pub bits: u32,
    /// Named curve of an EC key: `secp256r1`, `secp384r1`, `secp521r1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
}

/// A signature algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SignatureFacts {
    /// Name, e.g. `sha256WithRSAEncryption`, `ecdsa-with-SHA384`, `ed25519`.
    pub algorithm: String,
    /// The hash is MD5 or SHA-1.
    pub weak_hash: bool,
}

/// The result of deriving certificate facts.
pub enum CertDerivation {
    /// Facts.
    Facts(Box<CertFacts>),
    /// Why there are none.
    Unobserved(String),
}

/// The chain a scan observed, with the validator's verdict and what came with it.
struct Served<'a> {
    source: &'static str,
    certificates: &'a [String],
    /// (detail, class) of a validation failure.
    error: Option<(&'a str, &'a str)>,
    ocsp: Option<&'a str>,
}

/// Derives certificate facts from a TLS scan: the chain of the main rustls handshake, or, when
/// none completed, the raw Certificate message of the `certificate` attempt. Validity is judged
/// at `now` (Unix seconds); every SCT is verified against `ct_logs` when a list is available.
pub fn derive(
    scan: &TlsEvidence,
    now: i64,
    ct_logs: Option<&crate::ct::LogList>,
) -> CertDerivation {
    let raw = scan.raw_chain();
    let handshake = scan.handshakes.first().map(|h| &h.outcome);
    let served = match (handshake, raw) {
        (
            Some(HandshakeOutcome::Completed {
                certificates,
                certificate_error,
                certificate_error_code,
                ocsp_response,
                ..
            }),
            _,
        ) => Served {
            source: "handshake",
            certificates,
            error: certificate_error
                .as_deref()
                .map(|detail| (detail, certificate_error_code.as_deref().unwrap_or("other"))),
            ocsp: ocsp_response.as_deref(),
        },
        (_, Some(info)) => Served {
            source: "certificate_message",
            certificates: &info.certificates,
            error: scan.certificate_check.as_ref().and_then(|check| {
                check
                    .error
                    .as_deref()
                    .map(|detail| (detail, check.error_code.as_deref().unwrap_or("other")))
            }),
            ocsp: info.ocsp_response.as_deref(),
        },
        (Some(HandshakeOutcome::Failed { error }), None) => {
            return CertDerivation::Unobserved(format!("no handshake completed: {error}"));
        }
        (None, None) => {
            return CertDerivation::Unobserved("no TLS handshake was made".to_string());
        }
    };
    let ders: Vec<Vec<u8>> = served
        .certificates
        .iter()
        .filter_map(|b64| crate::evidence::decode_bytes(b64))
        .collect();
    let parsed: Vec<X509Certificate<'_>> = ders
        .iter()
        .map_while(|der| X509Certificate::from_der(der).ok().map(|(_, cert)| cert))
        .collect();
    let Some(leaf) = parsed.first() else {
        return CertDerivation::Unobserved("the server sent no parsable certificate".to_string());
    };
    let Some(mut facts) = leaf_facts(leaf, &parsed, served.error, now) else {
        return CertDerivation::Unobserved("the leaf certificate could not be parsed".to_string());
    };
    facts.source = served.source.to_string();
    let leaf_der = &ders[0];
    let issuer_der = issuer_of(&parsed)
        .and_then(|i| ders.get(i))
        .map(Vec::as_slice);
    // The raw hello may have been answered with another certificate (e.g. RSA instead of ECDSA):
    // what it carried counts only when it is about the same leaf.
    let raw_same_leaf = raw.filter(|info| {
        info.certificates
            .first()
            .and_then(|b64| crate::evidence::decode_bytes(b64))
            .as_ref()
            == Some(leaf_der)
    });
    let staple = served
        .ocsp
        .or_else(|| raw_same_leaf.and_then(|info| info.ocsp_response.as_deref()))
        .and_then(crate::evidence::decode_bytes);
    let (ocsp, ocsp_scts) = ocsp_facts(staple.as_deref(), leaf_der, issuer_der, now);
    facts.ocsp = ocsp;
    let now_ms = u64::try_from(now).unwrap_or(0).saturating_mul(1000);
    let mut checks = crate::ct::check_embedded_scts(leaf_der, issuer_der, ct_logs);
    let delivered = [
        (
            raw_same_leaf
                .and_then(|info| info.sct_list.as_deref())
                .and_then(crate::evidence::decode_bytes),
            SctSource::TlsExtension,
        ),
        (ocsp_scts, SctSource::Ocsp),
    ];
    for (list, source) in delivered {
        if let (Some(list), Some(all)) = (list, checks.as_mut()) {
            // A list that does not parse is no SCT at all, as for a browser.
            all.extend(
                crate::ct::check_delivered_scts(&list, source, leaf_der, ct_logs)
                    .unwrap_or_default(),
            );
        }
    }
    facts.ocsp.sct_count = checks.as_ref().map_or(0, |all| {
        let from_ocsp = all.iter().filter(|c| c.source == SctSource::Ocsp).count();
        u32::try_from(from_ocsp).unwrap_or(u32::MAX)
    });
    facts.ct =
        checks.map(|checks| super::ct::derive(&checks, ct_logs, facts.validity_days, now_ms));
    CertDerivation::Facts(Box::new(facts))
}

/// Index of the leaf's issuer among the served certificates.
fn issuer_of(chain: &[X509Certificate<'_>]) -> Option<usize> {
    let leaf = chain.first()?;
    chain
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, c)| c.subject().as_raw() == leaf.issuer().as_raw())
        .map(|(i, _)| i)
}

/// OCSP facts for a staple, and the SCT list it carried for the leaf.
fn ocsp_facts(
    staple: Option<&[u8]>,
    leaf: &[u8],
    issuer: Option<&[u8]>,
    now: i64,
) -> (OcspFacts, Option<Vec<u8>>) {
    let Some(staple) = staple else {
        return (OcspFacts::default(), None);
    };
    let decoded = match crate::ocsp::inspect(staple, leaf, issuer) {
        Ok(decoded) => decoded,
        Err(e) => {
            return (
                OcspFacts {
                    stapled: true,
                    parse_error: Some(e.to_string()),
                    ..OcspFacts::default()
                },
                None,
            );
        }
    };
    let mut facts = OcspFacts {
        stapled: true,
        response_status: Some(decoded.response_status.to_string()),
        produced_at: decoded.produced_at.map(rfc3339),
        signature_valid: decoded.signature_valid,
        ..OcspFacts::default()
    };
    if decoded.response_status != "successful" {
        return (facts, None);
    }
    let Some(single) = decoded.leaf else {
        facts.status = Some("no_response".to_string());
        return (facts, None);
    };
    const SKEW: i64 = 300;
    facts.status = Some(
        match &single.status {
            LeafStatus::Good => "good",
            LeafStatus::Revoked { .. } => "revoked",
            LeafStatus::Unknown => "unknown",
        }
        .to_string(),
    );
    if let LeafStatus::Revoked { time, reason } = &single.status {
        facts.revocation_time = Some(rfc3339(*time));
        facts.revocation_reason.clone_from(reason);
    }
    facts.this_update = Some(rfc3339(single.this_update));
    facts.next_update = single.next_update.map(rfc3339);
    facts.fresh = Some(
        single.this_update <= now + SKEW
            && single.next_update.is_some_and(|next| now < next + SKEW),
    );
    // `sct_count` is filled in by the caller, which parses the list once for CT.
    (facts, single.sct_list)
}

fn leaf_facts(
    leaf: &X509Certificate<'_>,
    chain: &[X509Certificate<'_>],
    error: Option<(&str, &str)>,
    now: i64,
) -> Option<CertFacts> {
    let not_before = leaf.validity().not_before.timestamp();
    let not_after = leaf.validity().not_after.timestamp();
    let san: Vec<String> = leaf
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(dns) => Some((*dns).to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let self_signed = leaf.subject().as_raw() == leaf.issuer().as_raw();
    let issuer_served = chain
        .iter()
        .skip(1)
        .any(|c| c.subject().as_raw() == leaf.issuer().as_raw());
    let chain_in_order = chain
        .windows(2)
        .all(|pair| pair[0].issuer().as_raw() == pair[1].subject().as_raw());
    let on_path = path_from_leaf(chain);
    let chain_extra_count =
        u32::try_from(chain.len().saturating_sub(on_path.len())).unwrap_or(u32::MAX);
    let chain_includes_root = chain
        .iter()
        .skip(1)
        .any(|c| c.subject().as_raw() == c.issuer().as_raw());
    let trust_error = error.map(|(_, code)| classify(code, self_signed, issuer_served));
    let mut must_staple = false;
    let mut embedded_sct_count = 0;
    for extension in leaf.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::SCT(list) => embedded_sct_count = list.len() as u32,
            _ if extension.oid.to_id_string() == "1.3.6.1.5.5.7.1.24" => {
                // TLSFeature ::= SEQUENCE OF INTEGER; status_request is 5.
                must_staple = extension.value.windows(3).any(|w| w == [0x02, 0x01, 0x05]);
            }
            _ => {}
        }
    }
    Some(CertFacts {
        source: String::new(),
        chain_extra_count,
        chain_includes_root,
        ocsp: OcspFacts::default(),
        trusted: error.is_none(),
        trust_error,
        trust_error_detail: error.map(|(detail, _)| detail.to_string()),
        chain_length: chain.len() as u32,
        chain_in_order,
        subject: leaf.subject().to_string(),
        issuer: leaf.issuer().to_string(),
        wildcard: san.iter().any(|name| name.starts_with("*.")),
        san,
        self_signed,
        not_before: rfc3339(not_before),
        not_after: rfc3339(not_after),
        days_until_expiry: (not_after - now).div_euclid(86_400),
        validity_days: (not_after - not_before) / 86_400,
        key: key_facts(leaf),
        signature: signature_facts(&leaf.signature_algorithm.algorithm.to_id_string()),
        must_staple,
        embedded_sct_count,
        ct: None,
    })
}

/// Indices of the served certificates on the path leaf → issuer → … as far as it is served.
fn path_from_leaf(chain: &[X509Certificate<'_>]) -> Vec<usize> {
    let mut path = vec![0];
    let mut current = 0;
    while path.len() < chain.len() {
        let here = &chain[current];
        if here.subject().as_raw() == here.issuer().as_raw() {
            break;
        }
        let next = chain
            .iter()
            .enumerate()
            .find(|(i, c)| !path.contains(i) && c.subject().as_raw() == here.issuer().as_raw());
        match next {
            Some((i, _)) => {
                path.push(i);
                current = i;
            }
            None => break,
        }
    }
    path
}

fn rfc3339(unix: i64) -> String {
    u64::try_from(unix)
        .ok()
        .map(|secs| {
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
            )
            .to_string()
        })
        .unwrap_or_else(|| format!("@{unix}"))
}

/// Sorts the validator's error class into the reason an engineer acts on.
fn classify(code: &str, self_signed: bool, issuer_served: bool) -> TrustError {
    match code {
        "expired" => TrustError::Expired,
        "not_valid_yet" => TrustError::NotYetValid,
        "not_valid_for_name" => TrustError::HostnameMismatch,
        "unknown_issuer" if self_signed => TrustError::SelfSigned,
        "unknown_issuer" if !issuer_served => TrustError::IncompleteChain,
        "unknown_issuer" => TrustError::UnknownIssuer,
        "bad_signature" => TrustError::BadSignature,
        _ => TrustError::Other,
    }
}

fn key_facts(cert: &X509Certificate<'_>) -> KeyFacts {
    let spki = cert.public_key();
    let algorithm = spki.algorithm.algorithm.to_id_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|oid| match oid.to_id_string().as_str() {
            "1.2.840.10045.3.1.7" => "secp256r1".to_string(),
            "1.3.132.0.34" => "secp384r1".to_string(),
            "1.3.132.0.35" => "secp521r1".to_string(),
            other => other.to_string(),
        });
    let (kind, bits) = match algorithm.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
            ("rsa", spki.parsed().map(|k| k.key_size()).unwrap_or(0))
        }
        "1.2.840.10045.2.1" => (
            "ec",
            match curve.as_deref() {
                Some("secp256r1") => 256,
                Some("secp384r1") => 384,
                Some("secp521r1") => 521,
                _ => match spki.parsed() {
                    Ok(PublicKey::EC(point)) => point.key_size(),
                    _ => 0,
                },
            },
        ),
        "1.3.101.112" => ("ed25519", 256),
        "1.3.101.113" => ("ed448", 456),
        "1.2.840.10040.4.1" => ("dsa", spki.parsed().map(|k| k.key_size()).unwrap_or(0)),
        _ => ("unknown", 0),
    };
    KeyFacts {
        kind: kind.to_string(),
        bits: u32::try_from(bits).unwrap_or(0),
        curve: if kind == "ec" { curve } else { None },
    }
}

fn signature_facts(oid: &str) -> SignatureFacts {
    let (name, weak) = match oid {
        "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", true),
        "1.2.840.113549.1.1.5" => ("sha1WithRSAEncryption", true),
        "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", false),
        "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", false),
        "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", false),
        "1.2.840.113549.1.1.10" => ("rsassaPss", false),
        "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", true),
        "1.2.840.10045.4.3.2" => ("ecdsa-with-SHA256", false),
        "1.2.840.10045.4.3.3" => ("ecdsa-with-SHA384", false),
        "1.2.840.10045.4.3.4" => ("ecdsa-with-SHA512", false),
        "1.3.101.112" => ("ed25519", false),
        "1.3.101.113" => ("ed448", false),
        "1.2.840.10040.4.3" => ("dsa-with-SHA1", true),
        other => (other, false),
    };
    SignatureFacts {
        algorithm: name.to_string(),
        weak_hash: weak,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completed(certificates: Vec<String>, error: Option<&str>) -> TlsEvidence {
        let outcome = HandshakeOutcome::Completed {
            version: "TLSv1_3".into(),
            suite: "x".into(),
            group: None,
            alpn: None,
            certificates,
            ocsp_response_len: 0,
            ocsp_response: None,
            certificate_error: error.map(str::to_string),
            certificate_error_code: error.map(|_| "unknown_issuer".to_string()),
        };
        TlsEvidence {
            endpoint: "127.0.0.1:443".into(),
            sni: None,
            error: None,
            attempts: Vec::new(),
            handshakes: vec![crate::evidence::tls::HandshakeRecord {
                alpn_offered: Vec::new(),
                outcome,
            }],
            certificate_check: None,
            vulnerabilities: Default::default(),
        }
    }

    #[test]
    fn reasons_are_classified() {
        assert_eq!(classify("expired", false, true), TrustError::Expired);
        assert_eq!(
            classify("not_valid_yet", false, true),
            TrustError::NotYetValid
        );
        assert_eq!(
            classify("not_valid_for_name", false, true),
            TrustError::HostnameMismatch
        );
        assert_eq!(
            classify("unknown_issuer", true, false),
            TrustError::SelfSigned
        );
        assert_eq!(
            classify("unknown_issuer", false, false),
            TrustError::IncompleteChain
        );
        assert_eq!(
            classify("unknown_issuer", false, true),
            TrustError::UnknownIssuer
        );
        assert_eq!(classify("revoked", false, true), TrustError::Other);
    }

    #[test]
    fn corrupted_certificates_never_panic() {
        let der = rcgen::generate_simple_self_signed(vec!["a.test".to_string()])
            .unwrap()
            .cert
            .der()
            .to_vec();
        let mut state: u64 = 0xfeed;
        for round in 0..3000 {
            let mut bytes = der.clone();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state as usize) % bytes.len();
            bytes[at] ^= (state >> 32) as u8 | 1;
            if round % 3 == 0 {
                bytes.truncate(at);
            }
            let _ = derive(
                &completed(vec![crate::evidence::encode_bytes(&bytes)], None),
                0,
                None,
            );
        }
        assert!(matches!(
            derive(&completed(vec!["not base64!".into()], None), 0, None),
            CertDerivation::Unobserved(_)
        ));
    }

    #[test]
    fn a_generated_certificate_is_described() {
        let cert =
            rcgen::generate_simple_self_signed(vec!["a.test".to_string(), "*.b.test".to_string()])
                .unwrap();
        let der = cert.cert.der().to_vec();
        let encoded = crate::evidence::encode_bytes(&der);
        let CertDerivation::Facts(facts) =
            derive(&completed(vec![encoded], Some("UnknownIssuer")), 0, None)
        else {
            panic!("no facts")
        };
        assert_eq!(facts.san, ["a.test", "*.b.test"]);
        assert!(facts.wildcard && facts.self_signed && !facts.trusted);
        assert_eq!(facts.trust_error, Some(TrustError::SelfSigned));
        assert_eq!((facts.key.kind.as_str(), facts.key.bits), ("ec", 256));
        assert_eq!(facts.key.curve.as_deref(), Some("secp256r1"));
        assert_eq!(facts.signature.algorithm, "ecdsa-with-SHA256");
        assert!(!facts.signature.weak_hash && !facts.must_staple);
        assert_eq!(facts.embedded_sct_count, 0);
    }
}
