//! Certificates for the lab: a generated root CA and a leaf shaped as a test needs — expired,
//! not yet valid, for another name, self-signed, behind an intermediate that is (or is not)
//! served, with an ECDSA or RSA key.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SignatureAlgorithm,
};
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
}

impl Default for LabCert {
    fn default() -> Self {
        Self {
            names: Vec::new(),
            valid_from_days: -1,
            valid_until_days: 90,
            key: LabKey::EcdsaP256,
            chain: LabChain::Direct,
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
pub fn issue(host: &str, shape: &LabCert) -> Result<Issued, rcgen::Error> {
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
    let served = match shape.chain {
        LabChain::Direct => vec![
            leaf.signed_by(&leaf_key, &root)?.der().clone(),
            root.der().clone(),
        ],
        LabChain::Intermediate { served } => {
            let intermediate = CertifiedIssuer::signed_by(
                ca_params("secaudit lab intermediate")?,
                KeyPair::generate()?,
                &root,
            )?;
            let leaf_der = leaf.signed_by(&leaf_key, &intermediate)?.der().clone();
            if served {
                vec![leaf_der, intermediate.der().clone()]
            } else {
                vec![leaf_der]
            }
        }
        LabChain::SelfSigned => vec![leaf.self_signed(&leaf_key)?.der().clone()],
    };
    Ok(Issued {
        served,
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        root: root.der().clone(),
        root_pem: root.pem(),
    })
}
