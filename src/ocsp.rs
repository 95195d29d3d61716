//! Stapled OCSP responses (RFC 6960): decoded with x509-ocsp, the single response for the leaf
//! found by its CertID, the responder's signature checked with aws-lc-rs (the issuer itself, or a
//! delegated responder certificate the issuer signed), and the SCT list of RFC 6962 section 3.3
//! taken out of the single response's extensions.
//!
//! Data and cryptography only: whether a staple is fresh enough or its status acceptable is for
//! the facts and the rules.

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, SHA384, SHA512, digest};
use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use der::{Decode, Encode};
use x509_ocsp::{BasicOcspResponse, CertStatus, OcspResponse, OcspResponseStatus, SingleResponse};
use x509_parser::prelude::{FromDer, X509Certificate};

/// `id-pkix-ocsp-basic`, the only response type in use.
const BASIC_RESPONSE: &str = "1.3.6.1.5.5.7.48.1.1";
/// The SCT list extension of a single response (RFC 6962 section 3.3).
const OCSP_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.5";
/// `id-kp-OCSPSigning`: a delegated responder certificate must carry it.
const OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";
/// Largest response looked at; real staples are a few KiB.
const MAX_RESPONSE: usize = 64 * 1024;

/// A stapled response could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcspError {
    /// Not a DER OCSPResponse.
    #[error("the OCSP response does not decode: {0}")]
    Decode(String),
    /// Larger than any real staple.
    #[error("the OCSP response is {0} bytes, more than the {MAX_RESPONSE} looked at")]
    TooLarge(usize),
}

/// The revocation status the responder gave for the leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafStatus {
    /// Not revoked.
    Good,
    /// Revoked at `time` (Unix seconds), with a CRL reason when given.
    Revoked {
        /// When.
        time: i64,
        /// The CRLReason name, e.g. `keyCompromise`.
        reason: Option<String>,
    },
    /// The responder does not know the certificate.
    Unknown,
}

/// The single response that matches the leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafResponse {
    /// Its status.
    pub status: LeafStatus,
    /// `thisUpdate`, Unix seconds.
    pub this_update: i64,
    /// `nextUpdate`, Unix seconds, when given.
    pub next_update: Option<i64>,
    /// The TLS-encoded SignedCertificateTimestampList of its SCT extension, when present.
    pub sct_list: Option<Vec<u8>>,
}

/// What a stapled OCSP response says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staple {
    /// `successful`, `malformed_request`, `internal_error`, `try_later`, `sig_required` or
    /// `unauthorized`.
    pub response_status: &'static str,
    /// `producedAt`, Unix seconds (successful responses only).
    pub produced_at: Option<i64>,
    /// Single responses in the staple.
    pub response_count: usize,
    /// The one for the leaf (matched by serial number and issuer key hash).
    pub leaf: Option<LeafResponse>,
    /// The responder's signature verifies under the issuer's key or a delegated responder's;
    /// `None` when it cannot be checked (issuer not served, algorithm not supported).
    pub signature_valid: Option<bool>,
}

/// Decodes `der`, a stapled OCSP response for `leaf` (DER) issued by `issuer` (DER, if served).
pub fn inspect(der: &[u8], leaf: &[u8], issuer: Option<&[u8]>) -> Result<Staple, OcspError> {
    if der.len() > MAX_RESPONSE {
        return Err(OcspError::TooLarge(der.len()));
    }
    let decode = |e: der::Error| OcspError::Decode(e.to_string());
    let response = OcspResponse::from_der(der).map_err(decode)?;
    let response_status = status_name(response.response_status);
    let Some(bytes) = response.response_bytes else {
        return Ok(Staple {
            response_status,
            produced_at: None,
            response_count: 0,
            leaf: None,
            signature_valid: None,
        });
    };
    if bytes.response_type.to_string() != BASIC_RESPONSE {
        return Err(OcspError::Decode(format!(
            "response type {} is not id-pkix-ocsp-basic",
            bytes.response_type
        )));
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(decode)?;
    let leaf = X509Certificate::from_der(leaf).ok().map(|(_, cert)| cert);
    let issuer = issuer.and_then(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c));
    let matching = leaf.as_ref().and_then(|leaf| {
        basic
            .tbs_response_data
            .responses
            .iter()
            .find(|single| matches_leaf(single, leaf, issuer.as_ref()))
    });
    Ok(Staple {
        response_status,
        produced_at: Some(unix(basic.tbs_response_data.produced_at.0)),
        response_count: basic.tbs_response_data.responses.len(),
        leaf: matching.map(leaf_response),
        signature_valid: issuer
            .as_ref()
            .and_then(|issuer| responder_signature(&basic, issuer)),
    })
}

fn status_name(status: OcspResponseStatus) -> &'static str {
    match status {
        OcspResponseStatus::Successful => "successful",
        OcspResponseStatus::MalformedRequest => "malformed_request",
        OcspResponseStatus::InternalError => "internal_error",
        OcspResponseStatus::TryLater => "try_later",
        OcspResponseStatus::SigRequired => "sig_required",
        OcspResponseStatus::Unauthorized => "unauthorized",
    }
}

fn unix(time: der::asn1::GeneralizedTime) -> i64 {
    i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Whether `single` is about `leaf`: same serial and, when the issuer is known, the hash of the
/// issuer's key under the CertID's hash algorithm.
fn matches_leaf(
    single: &SingleResponse,
    leaf: &X509Certificate<'_>,
    issuer: Option<&X509Certificate<'_>>,
) -> bool {
    let id = &single.cert_id;
    if trim_zeros(id.serial_number.as_bytes()) != trim_zeros(leaf.raw_serial()) {
        return false;
    }
    let Some(issuer) = issuer else {
        return true;
    };
    let algorithm = match id.hash_algorithm.oid.to_string().as_str() {
        "1.3.14.3.2.26" => &SHA1_FOR_LEGACY_USE_ONLY,
        "2.16.840.1.101.3.4.2.1" => &SHA256,
        "2.16.840.1.101.3.4.2.2" => &SHA384,
        "2.16.840.1.101.3.4.2.3" => &SHA512,
        _ => return true,
    };
    let key = issuer.public_key().subject_public_key.data.as_ref();
    digest(algorithm, key).as_ref() == id.issuer_key_hash.as_bytes()
}

fn trim_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn leaf_response(single: &SingleResponse) -> LeafResponse {
    let status = match &single.cert_status {
        CertStatus::Good(_) => LeafStatus::Good,
        CertStatus::Unknown(_) => LeafStatus::Unknown,
        CertStatus::Revoked(info) => LeafStatus::Revoked {
            time: unix(info.revocation_time.0),
            reason: info.revocation_reason.map(|r| format!("{r:?}")),
        },
    };
    let sct_list = single
        .single_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id.to_string() == OCSP_SCT_LIST)
        .and_then(|e| der::asn1::OctetString::from_der(e.extn_value.as_bytes()).ok())
        .map(|inner| inner.as_bytes().to_vec());
    LeafResponse {
        status,
        this_update: unix(single.this_update.0),
        next_update: single.next_update.map(|t| unix(t.0)),
        sct_list,
    }
}

/// Checks the response signature under the issuer's key, else under a delegated responder
/// certificate that the issuer signed and that carries id-kp-OCSPSigning.
fn responder_signature(basic: &BasicOcspResponse, issuer: &X509Certificate<'_>) -> Option<bool> {
    let tbs = basic.tbs_response_data.to_der().ok()?;
    let algorithm = basic.signature_algorithm.oid.to_string();
    let signature = basic.signature.as_bytes()?;
    let by_issuer = verify(&algorithm, issuer, &tbs, signature);
    if by_issuer == Some(true) {
        return Some(true);
    }
    let delegated = basic.certs.iter().flatten().find_map(|cert| {
        let der = cert.to_der().ok()?;
        let (_, responder) = X509Certificate::from_der(&der).ok()?;
        let authorised = responder.issuer().as_raw() == issuer.subject().as_raw()
            && responder
                .extended_key_usage()
                .ok()
                .flatten()
                .is_some_and(|eku| {
                    eku.value
                        .other
                        .iter()
                        .any(|oid| oid.to_id_string() == OCSP_SIGNING)
                        || eku.value.ocsp_signing
                })
            && verify(
                &responder.signature_algorithm.algorithm.to_id_string(),
                issuer,
                responder.tbs_certificate.as_ref(),
                responder.signature_value.data.as_ref(),
            ) == Some(true);
        authorised.then(|| verify(&algorithm, &responder, &tbs, signature))?
    });
    delegated.or(by_issuer)
}

/// Verifies `signature` over `message` with `signer`'s public key; `None` when the algorithm is
/// not supported.
fn verify(
    algorithm: &str,
    signer: &X509Certificate<'_>,
    message: &[u8],
    signature: &[u8],
) -> Option<bool> {
    let key = signer.public_key().subject_public_key.data.as_ref();
    let verifier: &'static dyn VerificationAlgorithm = match (algorithm, key.len()) {
        ("1.2.840.113549.1.1.5", _) => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        ("1.2.840.113549.1.1.11", _) => &signature::RSA_PKCS1_2048_8192_SHA256,
        ("1.2.840.113549.1.1.12", _) => &signature::RSA_PKCS1_2048_8192_SHA384,
        ("1.2.840.113549.1.1.13", _) => &signature::RSA_PKCS1_2048_8192_SHA512,
        ("1.2.840.10045.4.3.2", 65) => &signature::ECDSA_P256_SHA256_ASN1,
        ("1.2.840.10045.4.3.2", 97) => &signature::ECDSA_P384_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", 65) => &signature::ECDSA_P256_SHA384_ASN1,
        ("1.2.840.10045.4.3.3", 97) => &signature::ECDSA_P384_SHA384_ASN1,
        ("1.3.101.112", _) => &signature::ED25519,
        _ => return None,
    };
    Some(
        UnparsedPublicKey::new(verifier, key)
            .verify(message, signature)
            .is_ok(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            inspect(b"not der", b"", None),
            Err(OcspError::Decode(_))
        ));
        assert!(matches!(
            inspect(&vec![0x30; MAX_RESPONSE + 1], b"", None),
            Err(OcspError::TooLarge(_))
        ));
        let mut state: u64 = 0x5eed;
        for len in 0..3000usize {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let bytes: Vec<u8> = (0..len % 300).map(|i| (state >> (i % 56)) as u8).collect();
            let mut framed = vec![0x30, 0x82, (bytes.len() >> 8) as u8, bytes.len() as u8];
            framed.extend_from_slice(&bytes);
            let _ = inspect(&framed, &bytes, Some(&bytes));
        }
    }

    #[test]
    fn non_successful_status_has_no_body() {
        // OCSPResponse { responseStatus tryLater(3) }
        let staple = inspect(&[0x30, 0x03, 0x0a, 0x01, 0x03], b"", None).unwrap();
        assert_eq!(staple.response_status, "try_later");
        assert_eq!((staple.response_count, staple.leaf), (0, None));
    }
}
