//! Certificate facts: the served chain parsed with x509-parser, and the trust verdict of the
//! rustls handshake sorted into the reasons an engineer acts on.
//!
//! "Now" is the time the evidence was collected, so the same evidence always gives the same
//! `days_until_expiry`.

use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::evidence::tls::HandshakeOutcome;

/// Certificate facts of the HTTPS endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CertFacts {
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
    /// Certificate transparency: the embedded SCTs verified against the CT log list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ct: Option<super::ct::CtFacts>,
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

/// Derives certificate facts from the main handshake, judging validity at `now` (Unix seconds)
/// and verifying the embedded SCTs against `ct_logs` when a CT log list is available.
pub fn derive(
    outcome: &HandshakeOutcome,
    now: i64,
    ct_logs: Option<&crate::ct::LogList>,
) -> CertDerivation {
    let (certificates, error) = match outcome {
        HandshakeOutcome::Completed {
            certificates,
            certificate_error,
            certificate_error_code,
            ..
        } => (
            certificates,
            certificate_error.as_ref().map(|detail| {
                (
                    detail.as_str(),
                    certificate_error_code.as_deref().unwrap_or("other"),
                )
            }),
        ),
        HandshakeOutcome::Failed { error } => {
            return CertDerivation::Unobserved(format!("no handshake completed: {error}"));
        }
    };
    let ders: Vec<Vec<u8>> = certificates
        .iter()
        .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .collect();
    let parsed: Vec<X509Certificate<'_>> = ders
        .iter()
        .map_while(|der| X509Certificate::from_der(der).ok().map(|(_, cert)| cert))
        .collect();
    let Some(leaf) = parsed.first() else {
        return CertDerivation::Unobserved("the server sent no parsable certificate".to_string());
    };
    let Some(mut facts) = leaf_facts(leaf, &parsed, error, now) else {
        return CertDerivation::Unobserved("the leaf certificate could not be parsed".to_string());
    };
    let now_ms = u64::try_from(now).unwrap_or(0).saturating_mul(1000);
    facts.ct = crate::ct::check_embedded_scts(&ders[0], ders.get(1).map(Vec::as_slice), ct_logs)
        .map(|checks| super::ct::derive(&checks, ct_logs, facts.validity_days, now_ms));
    CertDerivation::Facts(Box::new(facts))
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

    fn completed(certificates: Vec<String>, error: Option<&str>) -> HandshakeOutcome {
        HandshakeOutcome::Completed {
            version: "TLSv1_3".into(),
            suite: "x".into(),
            group: None,
            alpn: None,
            certificates,
            ocsp_response_len: 0,
            certificate_error: error.map(str::to_string),
            certificate_error_code: error.map(|_| "unknown_issuer".to_string()),
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
        let engine = base64::engine::general_purpose::STANDARD;
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
            let _ = derive(&completed(vec![engine.encode(&bytes)], None), 0, None);
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
        let encoded = base64::engine::general_purpose::STANDARD.encode(&der);
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
