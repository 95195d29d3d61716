//! TLS client configuration: which roots to trust, and a non-verifying twin used only to keep
//! observing a site whose certificate failed (the failure itself is recorded as evidence).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The trust anchors certificates are validated against.
#[derive(Debug, Clone)]
pub enum TrustAnchors {
    /// The bundled Mozilla root store (webpki-roots), so results do not depend on the host.
    Bundled,
    /// Only these certificates (from `--ca-file`, or a lab's generated CA).
    Custom(Vec<CertificateDer<'static>>),
}

/// A trust-anchor file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// Reading or parsing the PEM file failed.
    #[error("cannot read CA certificates from {path}: {reason}")]
    Pem {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A certificate was rejected as a trust anchor.
    #[error("certificate in {path} is not usable as a trust anchor: {reason}")]
    Anchor {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

impl TrustAnchors {
    /// Loads every certificate from a PEM file.
    pub fn from_pem_file(path: &Path) -> Result<Self, TrustError> {
        let shown = path.display().to_string();
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
            .map_err(|e| TrustError::Pem {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(TrustError::Pem {
                path: shown,
                reason: "no CERTIFICATE block found".to_string(),
            });
        }
        let anchors = Self::Custom(certs);
        anchors.root_store().map_err(|reason| TrustError::Anchor {
            path: shown,
            reason,
        })?;
        Ok(anchors)
    }

    pub(crate) fn root_store(&self) -> Result<RootCertStore, String> {
        match self {
            Self::Bundled => Ok(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }),
            Self::Custom(certs) => {
                let mut store = RootCertStore::empty();
                for cert in certs {
                    store.add(cert.clone()).map_err(|e| e.to_string())?;
                }
                Ok(store)
            }
        }
    }

    /// A client configuration that validates server certificates against these anchors.
    pub fn verifying_config(&self, alpn: &[&[u8]]) -> Result<ClientConfig, String> {
        let roots = self.root_store()?;
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }
}

/// A client configuration that accepts any certificate but still checks handshake signatures.
///
/// Used only after a verifying attempt failed and its reason was recorded.
pub fn unverified_config(alpn: &[&[u8]]) -> Result<ClientConfig, String> {
    let provider = provider();
    let mut config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// The one crypto provider of the tree.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
