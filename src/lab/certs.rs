//! Certificates for the lab: a generated root CA and a leaf shaped as a test needs — expired,
//! not yet valid, for another name, self-signed, behind an intermediate that is (or is not)
//! served, with an ECDSA or RSA key.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DnType, IsCa, KeyPair,
    SignatureAlgorithm,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::LabError;
use crate::ct::{LogInfo, LogList, SignedEntry};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// Key of the lab's leaf certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabKey {
    /// ECDSA on P-256.
    EcdsaP256,
    /// ECDSA on P-384.
    EcdsaP384,
    /// RSA, 2048 bits.
    Rsa2048,
}

/// How the leaf is issued and what the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabChain {
    /// Root → leaf; the server sends leaf and root.
    Direct,
    /// Root → intermediate → leaf; the server sends the intermediate only when `served`.
    Intermediate {
        /// Whether the intermediate is in the served chain.
        served: bool,
    },
    /// The leaf signs itself.
    SelfSigned,
}

/// The leaf certificate's shape.
#[derive(Debug, Clone)]
pub struct LabCert {
    /// Names in the certificate (empty: the site's host).
    pub names: Vec<String>,
    /// Start of validity, in days from now (negative: in the past).
    pub valid_from_days: i64,
    /// End of validity, in days from now (plus half a day, so whole-day counts taken a few
    /// seconds later do not depend on the clock).
    pub valid_until_days: i64,
    /// The leaf's key.
    pub key: LabKey,
    /// The chain.
    pub chain: LabChain,
    /// SCTs to embed, each from its own generated test log.
    pub scts: Vec<LabSct>,
    /// SCTs for the TLS `signed_certificate_timestamp` extension (served by the scripted
    /// legacy responder; rustls servers do not send it).
    pub tls_scts: Vec<LabSct>,
    /// An OCSP response to staple.
    pub ocsp: Option<LabOcsp>,
}

/// A stapled OCSP response, signed by the leaf's issuer.
#[derive(Debug, Clone)]
pub struct LabOcsp {
    /// The status it gives the leaf.
    pub status: super::ocsp::LabOcspStatus,
    /// SCTs in its single response's extension.
    pub scts: Vec<LabSct>,
    /// The issuer signs correctly (false: the signature is corrupted).
    pub valid_signature: bool,
    /// `nextUpdate` in days from now (negative: a stale response).
    pub next_update_days: i64,
}

impl Default for LabOcsp {
    fn default() -> Self {
        Self {
            status: super::ocsp::LabOcspStatus::Good,
            scts: Vec::new(),
            valid_signature: true,
            next_update_days: 7,
        }
    }
}

/// One embedded SCT from a generated test log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabSct {
    /// Operator of the test log.
    pub operator: String,
    /// The log signs correctly (false: the signature is corrupted).
    pub valid_signature: bool,
    /// The log is in the lab's log list (false: an unknown log).
    pub listed: bool,
}

impl LabSct {
    /// A correctly signed SCT from a listed log of `operator`.
    pub fn valid(operator: &str) -> Self {
        Self {
            operator: operator.to_string(),
            valid_signature: true,
            listed: true,
        }
    }
}

impl Default for LabCert {
    fn default() -> Self {
        Self {
            names: Vec::new(),
            valid_from_days: -1,
            valid_until_days: 90,
            key: LabKey::EcdsaP256,
            chain: LabChain::Direct,
            scts: Vec::new(),
            tls_scts: Vec::new(),
            ocsp: None,
        }
    }
}

/// The issued material.
pub struct Issued {
    /// The chain the server sends, leaf first.
    pub served: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
    /// The root CA, DER.
    pub root: CertificateDer<'static>,
    /// The root CA, PEM.
    pub root_pem: String,
    /// The test logs that signed the SCTs and are listed.
    pub ct_logs: LogList,
    /// The OCSP response to staple, DER.
    pub ocsp: Option<Vec<u8>>,
    /// The SignedCertificateTimestampList for the TLS extension.
    pub tls_sct_list: Option<Vec<u8>>,
}

fn algorithm(key: LabKey) -> &'static SignatureAlgorithm {
    match key {
        LabKey::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        LabKey::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        LabKey::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
    }
}

fn ca_params(name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(30);
    params.not_after = now + Duration::days(3650);
    Ok(params)
}

/// Issues a leaf for `host` shaped by `shape`, under a fresh root.
pub fn issue(host: &str, shape: &LabCert) -> Result<Issued, LabError> {
    let root = CertifiedIssuer::self_signed(ca_params("secaudit lab CA")?, KeyPair::generate()?)?;
    let names = if shape.names.is_empty() {
        vec![host.to_string()]
    } else {
        shape.names.clone()
    };
    let leaf_key = match shape.key {
        LabKey::EcdsaP256 => KeyPair::generate()?,
        other => KeyPair::generate_for(algorithm(other))?,
    };
    let mut leaf = CertificateParams::new(names.clone())?;
    leaf.distinguished_name.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_default(),
    );
    let now = OffsetDateTime::now_utc();
    leaf.not_before = now + Duration::days(shape.valid_from_days);
    leaf.not_after = now + Duration::days(shape.valid_until_days) + Duration::hours(12);
    let mut ct_logs = LogList {
        version: "lab".to_string(),
        timestamp: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        logs: Default::default(),
    };
    let intermediate = match shape.chain {
        LabChain::Intermediate { .. } => Some(CertifiedIssuer::signed_by(
            ca_params("secaudit lab intermediate")?,
            KeyPair::generate()?,
            &root,
        )?),
        _ => None,
    };
    let (leaf_der, issuer_der, issuer_key): (_, CertificateDer<'static>, &KeyPair) =
        match (&shape.chain, &intermediate) {
            (LabChain::SelfSigned, _) => {
                let der = leaf.self_signed(&leaf_key)?.der().clone();
                (der.clone(), der, &leaf_key)
            }
            (LabChain::Intermediate { .. }, Some(intermediate)) => {
                let sign = |params: &CertificateParams| params.signed_by(&leaf_key, intermediate);
                let der = with_scts(
                    &mut leaf,
                    &shape.scts,
                    intermediate.der(),
                    sign,
                    &mut ct_logs,
                )?;
                (der, intermediate.der().clone(), intermediate.key())
            }
            _ => {
                let sign = |params: &CertificateParams| params.signed_by(&leaf_key, &root);
                let der = with_scts(&mut leaf, &shape.scts, root.der(), sign, &mut ct_logs)?;
                (der, root.der().clone(), root.key())
            }
        };
    let served = match shape.chain {
        LabChain::Direct => vec![leaf_der.clone(), root.der().clone()],
        LabChain::Intermediate { served: true } => vec![leaf_der.clone(), issuer_der.clone()],
        LabChain::Intermediate { served: false } | LabChain::SelfSigned => vec![leaf_der.clone()],
    };
    let tls_sct_list = if shape.tls_scts.is_empty() {
        None
    } else {
        Some(sct_list(
            &shape.tls_scts,
            SignedEntry::X509(&leaf_der),
            &mut ct_logs,
        )?)
    };
    let ocsp = match &shape.ocsp {
        None => None,
        Some(staple) => {
            let scts = if staple.scts.is_empty() {
                None
            } else {
                Some(sct_list(
                    &staple.scts,
                    SignedEntry::X509(&leaf_der),
                    &mut ct_logs,
                )?)
            };
            Some(super::ocsp::response(
                &leaf_der,
                &issuer_der,
                issuer_key,
                staple,
                scts,
            )?)
        }
    };
    Ok(Issued {
        served,
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        root: root.der().clone(),
        root_pem: root.pem(),
        ct_logs,
        ocsp,
        tls_sct_list,
    })
}

/// OID of the embedded SCT list extension.
const SCT_LIST_OID: [u64; 10] = [1, 3, 6, 1, 4, 1, 11129, 2, 4, 2];

/// DER header of a P-256 SubjectPublicKeyInfo, followed by the 65-byte point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Signs the leaf; with SCTs, first signs it without them (the precertificate's TBS), has each
/// test log sign that, and signs again with the SCT list appended as the last extension — so
/// removing the extension gives back exactly the TBS the logs signed.
fn with_scts(
    leaf: &mut CertificateParams,
    scts: &[LabSct],
    issuer_der: &[u8],
    sign: impl Fn(&CertificateParams) -> Result<rcgen::Certificate, rcgen::Error>,
    logs: &mut LogList,
) -> Result<CertificateDer<'static>, LabError> {
    let precert = sign(leaf)?;
    if scts.is_empty() {
        return Ok(precert.der().clone());
    }
    let invalid = |what: &str| LabError::Sct(what.to_string());
    let (_, parsed) =
        X509Certificate::from_der(precert.der()).map_err(|_| invalid("precertificate"))?;
    let (_, issuer) = X509Certificate::from_der(issuer_der).map_err(|_| invalid("issuer"))?;
    let issuer_key_hash = digest(&SHA256, issuer.public_key().raw);
    let entry = SignedEntry::Precert {
        issuer_key_hash: issuer_key_hash.as_ref(),
        tbs: parsed.tbs_certificate.as_ref(),
    };
    let tls_list = sct_list(scts, entry, logs)?;
    leaf.custom_extensions
        .push(CustomExtension::from_oid_content(
            &SCT_LIST_OID,
            crate::ct::der::encode(0x04, &tls_list),
        ));
    Ok(sign(leaf)?.der().clone())
}

/// A SignedCertificateTimestampList (TLS encoding) over `entry`: one freshly generated P-256
/// test log per SCT, each added to `logs` unless the SCT is meant to come from an unknown log.
pub fn sct_list(
    scts: &[LabSct],
    entry: SignedEntry<'_>,
    logs: &mut LogList,
) -> Result<Vec<u8>, LabError> {
    let invalid = |what: &str| LabError::Sct(what.to_string());
    let timestamp =
        u64::try_from(OffsetDateTime::now_utc().unix_timestamp() - 60).unwrap_or(0) * 1000;
    let rng = SystemRandom::new();
    let mut list = Vec::new();
    for sct in scts {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| invalid("log key"))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
            .map_err(|_| invalid("log key"))?;
        let spki = [&P256_SPKI_PREFIX[..], key.public_key().as_ref()].concat();
        let log_id: [u8; 32] = digest(&SHA256, &spki)
            .as_ref()
            .try_into()
            .map_err(|_| invalid("log id"))?;
        let message = crate::ct::sct::signed_data(timestamp, entry, &[]);
        let mut signature = key
            .sign(&rng, &message)
            .map_err(|_| invalid("SCT signature"))?
            .as_ref()
            .to_vec();
        if !sct.valid_signature
            && let Some(last) = signature.last_mut()
        {
            *last ^= 0x01;
        }
        let mut encoded = vec![0u8];
        encoded.extend_from_slice(&log_id);
        encoded.extend_from_slice(&timestamp.to_be_bytes());
        encoded.extend_from_slice(&[0, 0, 4, 3]);
        encoded.extend_from_slice(&(signature.len() as u16).to_be_bytes());
        encoded.extend_from_slice(&signature);
        list.extend_from_slice(&(encoded.len() as u16).to_be_bytes());
        list.extend_from_slice(&encoded);
        if sct.listed {
            let index = logs.logs.len();
            logs.logs.insert(
                log_id,
                LogInfo {
                    description: format!("secaudit lab log {index}"),
                    operator: sct.operator.clone(),
                    key: spki,
                    state: "usable".to_string(),
                },
            );
        }
    }
    Ok([&(list.len() as u16).to_be_bytes()[..], &list].concat())
}
