//! Verifying SCTs (RFC 6962 section 3.2), whichever way they were delivered.
//!
//! For an embedded SCT the log signed the *precertificate*: the leaf's TBSCertificate without the
//! SCT extension, bound to the issuer by the SHA-256 hash of the issuer's public key; for one
//! delivered by TLS or OCSP it signed the certificate itself. The signature is checked with
//! aws-lc-rs against the log's key from the log list.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA384_ASN1, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey,
    VerificationAlgorithm,
};
use x509_parser::extensions::{
    SignedCertificateTimestamp, parse_ct_signed_certificate_timestamp_list,
};
use x509_parser::prelude::{FromDer, ParsedExtension, X509Certificate};
use x509_parser::x509::SubjectPublicKeyInfo;

use super::der;
use super::loglist::LogList;

/// DER content of OID 1.3.6.1.4.1.11129.2.4.2 (embedded SCT list).
const SCT_LIST_OID: [u8; 10] = [0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02];

/// What became of one SCT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SctStatus {
    /// The log's signature verifies.
    Valid,
    /// The signature does not verify.
    InvalidSignature,
    /// The log is not in the log list.
    UnknownLog,
    /// It could not be checked (no log list, unsupported version or algorithm).
    Unverifiable(String),
}

/// How an SCT reached the client (RFC 6962 section 3.3): the three paths count differently in
/// the CT policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SctSource {
    /// In the certificate's SCT list extension (signed over the precertificate).
    Embedded,
    /// In the TLS `signed_certificate_timestamp` extension (signed over the certificate).
    TlsExtension,
    /// In the stapled OCSP response (signed over the certificate).
    Ocsp,
}

impl SctSource {
    /// The name used in facts: `embedded`, `tls_extension`, `ocsp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::TlsExtension => "tls_extension",
            Self::Ocsp => "ocsp",
        }
    }
}

/// One SCT and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SctCheck {
    /// How it was delivered.
    pub source: SctSource,
    /// The log id.
    pub log_id: [u8; 32],
    /// The log's description, when known.
    pub log: Option<String>,
    /// The log's operator, when known.
    pub operator: Option<String>,
    /// The log's state in the list (`usable`, `qualified`, `readonly`, `retired`, …), when known.
    pub log_state: Option<String>,
    /// When the log issued it, milliseconds since the epoch.
    pub timestamp_ms: u64,
    /// The verdict.
    pub status: SctStatus,
}

/// What a log signed: the precertificate (embedded SCTs) or the certificate itself (SCTs
/// delivered by TLS or OCSP), RFC 6962 section 3.2.
#[derive(Debug, Clone, Copy)]
pub enum SignedEntry<'a> {
    /// `x509_entry`: the leaf certificate, DER.
    X509(&'a [u8]),
    /// `precert_entry`: the issuer's key hash and the TBSCertificate without the SCT list.
    Precert {
        /// SHA-256 of the issuer's SubjectPublicKeyInfo.
        issuer_key_hash: &'a [u8],
        /// The TBSCertificate without the SCT extension.
        tbs: &'a [u8],
    },
}

/// Checks the SCTs embedded in `leaf` (DER) issued by `issuer` (DER, when served).
///
/// Returns `None` when the leaf does not parse; an empty list when it carries no SCTs.
pub fn check_embedded_scts(
    leaf: &[u8],
    issuer: Option<&[u8]>,
    logs: Option<&LogList>,
) -> Option<Vec<SctCheck>> {
    let (_, cert) = X509Certificate::from_der(leaf).ok()?;
    let scts = cert
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SCT(list) => Some(list.clone()),
            _ => None,
        });
    let Some(scts) = scts else {
        return Some(Vec::new());
    };
    let issuer_key_hash = issuer.and_then(|der| {
        let (_, issuer) = X509Certificate::from_der(der).ok()?;
        Some(digest(&SHA256, issuer.public_key().raw).as_ref().to_vec())
    });
    let precert_tbs = der::remove_extension(cert.tbs_certificate.as_ref(), &SCT_LIST_OID).ok();
    let entry = match (&issuer_key_hash, &precert_tbs) {
        (None, _) => Err("the issuer certificate was not served".to_string()),
        (_, None) => Err("the certificate's TBS could not be rebuilt".to_string()),
        (Some(hash), Some(tbs)) => Ok(SignedEntry::Precert {
            issuer_key_hash: hash,
            tbs,
        }),
    };
    Some(
        scts.iter()
            .map(|sct| check_one(sct, SctSource::Embedded, entry.as_ref(), logs))
            .collect(),
    )
}

/// Checks the SCTs of a SignedCertificateTimestampList delivered by TLS or OCSP for `leaf`
/// (DER). `list` is the TLS-encoded list; `Err` says why it does not parse.
pub fn check_delivered_scts(
    list: &[u8],
    source: SctSource,
    leaf: &[u8],
    logs: Option<&LogList>,
) -> Result<Vec<SctCheck>, String> {
    let wrapped = der::encode(0x04, list);
    let scts = match parse_ct_signed_certificate_timestamp_list(&wrapped) {
        Ok((_, scts)) => scts,
        Err(_) if list.len() <= 2 => Vec::new(),
        Err(e) => return Err(format!("the SCT list does not parse: {e}")),
    };
    let entry = SignedEntry::X509(leaf);
    Ok(scts
        .iter()
        .map(|sct| check_one(sct, source, Ok(&entry), logs))
        .collect())
}

/// Verifies one SCT over `entry` (or records why it cannot be).
fn check_one(
    sct: &SignedCertificateTimestamp<'_>,
    source: SctSource,
    entry: Result<&SignedEntry<'_>, &String>,
    logs: Option<&LogList>,
) -> SctCheck {
    let log = logs.and_then(|l| l.get(sct.id.key_id));
    let status = match (logs, log, entry) {
        (None, _, _) => SctStatus::Unverifiable("no CT log list".to_string()),
        (Some(_), None, _) => SctStatus::UnknownLog,
        (_, _, Err(reason)) => SctStatus::Unverifiable(reason.clone()),
        _ if sct.version.0 != 0 => {
            SctStatus::Unverifiable(format!("SCT version {}", sct.version.0))
        }
        (Some(_), Some(log), Ok(entry)) => verify(
            &log.key,
            sct.signature.hash_alg_id,
            sct.signature.sign_alg_id,
            &signed_data(sct.timestamp, *entry, sct.extensions.0),
            sct.signature.data,
        ),
    };
    SctCheck {
        source,
        log_id: *sct.id.key_id,
        log: log.map(|l| l.description.clone()),
        operator: log.map(|l| l.operator.clone()),
        log_state: log.map(|l| l.state.clone()),
        timestamp_ms: sct.timestamp,
        status,
    }
}

/// The `digitally-signed` struct of RFC 6962 section 3.2: what a log signs.
pub fn signed_data(timestamp: u64, entry: SignedEntry<'_>, extensions: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(4096);
    data.push(0); // version v1
    data.push(0); // signature_type certificate_timestamp
    data.extend_from_slice(&timestamp.to_be_bytes());
    let body = match entry {
        SignedEntry::X509(certificate) => {
            data.extend_from_slice(&0u16.to_be_bytes()); // x509_entry
            certificate
        }
        SignedEntry::Precert {
            issuer_key_hash,
            tbs,
        } => {
            data.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
            data.extend_from_slice(issuer_key_hash);
            tbs
        }
    };
    data.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    data.extend_from_slice(body);
    data.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    data.extend_from_slice(extensions);
    data
}

fn verify(
    log_key: &[u8],
    hash: u8,
    signature_alg: u8,
    message: &[u8],
    signature: &[u8],
) -> SctStatus {
    let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(log_key) else {
        return SctStatus::Unverifiable("the log key does not parse".to_string());
    };
    let key = spki.subject_public_key.data.as_ref();
    let algorithm: &'static dyn VerificationAlgorithm = match (hash, signature_alg, key.len()) {
        (4, 3, 65) => &ECDSA_P256_SHA256_ASN1,
        (5, 3, 97) => &ECDSA_P384_SHA384_ASN1,
        (4, 1, _) => &RSA_PKCS1_2048_8192_SHA256,
        (h, s, _) => {
            return SctStatus::Unverifiable(format!("signature algorithm hash {h} / sig {s}"));
        }
    };
    match UnparsedPublicKey::new(algorithm, key).verify(message, signature) {
        Ok(()) => SctStatus::Valid,
        Err(_) => SctStatus::InvalidSignature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupted_inputs_never_panic() {
        let cert = rcgen::generate_simple_self_signed(vec!["a.test".to_string()]).unwrap();
        let der = cert.cert.der().to_vec();
        assert_eq!(
            check_embedded_scts(&der, Some(&der), None),
            Some(Vec::new())
        );
        let mut state: u64 = 0xc7;
        for _ in 0..2000 {
            let mut bytes = der.clone();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state as usize) % bytes.len();
            bytes[at] ^= (state >> 40) as u8 | 1;
            let _ = check_embedded_scts(&bytes, Some(&bytes), None);
        }
        assert_eq!(check_embedded_scts(b"garbage", None, None), None);
    }

    #[test]
    fn corrupted_delivered_lists_never_panic() {
        let mut state: u64 = 0x1dea;
        let mut list = vec![0x00, 0x33, 0x00, 0x31, 0x00];
        list.extend_from_slice(&[7; 32]);
        list.extend_from_slice(&[0; 8]);
        list.extend_from_slice(&[0, 0, 4, 3, 0, 2, 0x30, 0x00]);
        assert_eq!(
            check_delivered_scts(&list, SctSource::TlsExtension, b"leaf", None)
                .map(|checks| checks.len()),
            Ok(1)
        );
        for round in 0..5000usize {
            let mut bytes = list.clone();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state as usize) % bytes.len();
            bytes[at] ^= (state >> 24) as u8 | 1;
            if round % 4 == 0 {
                bytes.truncate(at);
            }
            let _ = check_delivered_scts(&bytes, SctSource::Ocsp, &bytes, None);
        }
        assert!(check_delivered_scts(&[0xff; 64], SctSource::Ocsp, b"", None).is_err());
        assert_eq!(
            check_delivered_scts(&[], SctSource::Ocsp, b"", None),
            Ok(Vec::new())
        );
    }

    #[test]
    fn unsupported_algorithms_are_unverifiable() {
        assert!(matches!(
            verify(b"not a key", 4, 3, b"m", b"s"),
            SctStatus::Unverifiable(_)
        ));
    }
}
