//! OCSP responses for the lab: a BasicOCSPResponse about the leaf, signed by its issuer, with a
//! chosen status, freshness and SCT list — so tests and the demo staple real responses that the
//! scanner must decode, match and verify like any other.

use std::time::{Duration, SystemTime};

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use der::asn1::{BitString, GeneralizedTime, Null, OctetString};
use der::oid::ObjectIdentifier;
use der::{Any, Decode, Encode};
use rcgen::{KeyPair, SigningKey};
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspResponse, OcspResponseStatus,
    ResponderId, ResponseBytes, ResponseData, RevokedInfo, SingleResponse, Version,
};

use super::LabError;
use super::certs::LabOcsp;

const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.5");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// The status a lab OCSP response gives the leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabOcspStatus {
    /// Not revoked.
    Good,
    /// Revoked an hour ago (keyCompromise).
    Revoked,
    /// Unknown to the responder.
    Unknown,
}

/// A DER OCSPResponse about `leaf_der`, signed with `issuer_key` of `issuer_der`, carrying
/// `sct_list` (TLS encoding) in the single response's extensions when given.
pub fn response(
    leaf_der: &[u8],
    issuer_der: &[u8],
    issuer_key: &KeyPair,
    staple: &LabOcsp,
    sct_list: Option<Vec<u8>>,
) -> Result<Vec<u8>, LabError> {
    let fail = |e: der::Error| LabError::Ocsp(e.to_string());
    let leaf = Certificate::from_der(leaf_der).map_err(fail)?;
    let issuer = Certificate::from_der(issuer_der).map_err(fail)?;
    let sha1 = |bytes: &[u8]| OctetString::new(digest(&SHA1_FOR_LEGACY_USE_ONLY, bytes).as_ref());
    let issuer_key_bits = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let now = SystemTime::now();
    let time = |at: SystemTime| -> Result<OcspGeneralizedTime, LabError> {
        Ok(OcspGeneralizedTime(
            GeneralizedTime::from_system_time(at).map_err(fail)?,
        ))
    };
    let shifted = |days: i64| {
        let span = Duration::from_secs(days.unsigned_abs() * 86_400);
        if days < 0 { now - span } else { now + span }
    };
    let hour_ago = now - Duration::from_secs(3600);
    let cert_status = match staple.status {
        LabOcspStatus::Good => CertStatus::good(),
        LabOcspStatus::Unknown => CertStatus::unknown(),
        LabOcspStatus::Revoked => CertStatus::revoked(RevokedInfo {
            revocation_time: time(hour_ago)?,
            revocation_reason: Some(x509_cert::ext::pkix::CrlReason::KeyCompromise),
        }),
    };
    let single_extensions = match sct_list {
        None => None,
        Some(list) => Some(vec![Extension {
            extn_id: SCT_LIST,
            critical: false,
            extn_value: OctetString::new(
                OctetString::new(list)
                    .map_err(fail)?
                    .to_der()
                    .map_err(fail)?,
            )
            .map_err(fail)?,
        }]),
    };
    let tbs = ResponseData {
        version: Version::V1,
        responder_id: ResponderId::ByKey(sha1(issuer_key_bits).map_err(fail)?),
        produced_at: time(hour_ago)?,
        responses: vec![SingleResponse {
            cert_id: CertId {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: SHA1,
                    parameters: Some(Any::from(Null)),
                },
                issuer_name_hash: sha1(&issuer.tbs_certificate.subject.to_der().map_err(fail)?)
                    .map_err(fail)?,
                issuer_key_hash: sha1(issuer_key_bits).map_err(fail)?,
                serial_number: leaf.tbs_certificate.serial_number.clone(),
            },
            cert_status,
            this_update: time(shifted(staple.next_update_days.min(0) - 1))?,
            next_update: Some(time(shifted(staple.next_update_days))?),
            single_extensions,
        }],
        response_extensions: None,
    };
    let mut signature = issuer_key
        .sign(&tbs.to_der().map_err(fail)?)
        .map_err(|e| LabError::Ocsp(e.to_string()))?;
    if !staple.valid_signature
        && let Some(last) = signature.last_mut()
    {
        *last ^= 0x01;
    }
    let algorithm = issuer_key.algorithm();
    let signature_algorithm = if algorithm == &rcgen::PKCS_ECDSA_P384_SHA384 {
        AlgorithmIdentifierOwned {
            oid: ECDSA_SHA384,
            parameters: None,
        }
    } else if algorithm == &rcgen::PKCS_RSA_SHA256 {
        AlgorithmIdentifierOwned {
            oid: RSA_SHA256,
            parameters: Some(Any::from(Null)),
        }
    } else {
        AlgorithmIdentifierOwned {
            oid: ECDSA_SHA256,
            parameters: None,
        }
    };
    let basic = BasicOcspResponse {
        tbs_response_data: tbs,
        signature_algorithm,
        signature: BitString::from_bytes(&signature).map_err(fail)?,
        certs: None,
    };
    OcspResponse {
        response_status: OcspResponseStatus::Successful,
        response_bytes: Some(ResponseBytes {
            response_type: BASIC,
            response: OctetString::new(basic.to_der().map_err(fail)?).map_err(fail)?,
        }),
    }
    .to_der()
    .map_err(fail)
}
