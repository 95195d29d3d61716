//! TLS client configuration: which roots to trust, and a verifier that records the verdict on the
//! served chain instead of enforcing it, so a failure becomes evidence rather than a dead end.

use std::path::Path;
use std::sync::Arc;

use std::sync::Mutex;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::evidence::tls::ChainCheck;

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

/// What the recording verifier saw during one handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeenCertificate {
    /// The chain as served, DER, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// The stapled OCSP response (empty: none).
    pub ocsp: Vec<u8>,
    /// Why the chain did not validate, in the validator's words.
    pub error: Option<String>,
    /// The error's class: `expired`, `not_valid_yet`, `not_valid_for_name`, `unknown_issuer`,
    /// `bad_signature`, `revoked` or `other`.
    pub error_code: Option<String>,
}

/// A verifier that validates the chain against the trust anchors, records the outcome, and lets
/// the handshake continue either way — so a site with a broken certificate is still observed,
/// in one connection, with the failure kept as evidence. Handshake signatures are always checked.
#[derive(Debug)]
pub struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    seen: Mutex<SeenCertificate>,
}

impl RecordingVerifier {
    /// What the last handshake through this verifier showed.
    pub fn seen(&self) -> SeenCertificate {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A stable name for the class of a validation error (the Display text is for people).
fn error_code(error: &rustls::Error) -> &'static str {
    use rustls::CertificateError as C;
    match error {
        rustls::Error::InvalidCertificate(certificate) => match certificate {
            C::Expired | C::ExpiredContext { .. } => "expired",
            C::NotValidYet | C::NotValidYetContext { .. } => "not_valid_yet",
            C::NotValidForName | C::NotValidForNameContext { .. } => "not_valid_for_name",
            C::UnknownIssuer => "unknown_issuer",
            C::BadSignature => "bad_signature",
            C::Revoked => "revoked",
            _ => "other",
        },
        _ => "other",
    }
}

/// The verdict of one validation, in evidence form.
fn chain_check(result: Result<ServerCertVerified, rustls::Error>) -> ChainCheck {
    ChainCheck {
        error_code: result.as_ref().err().map(|e| error_code(e).to_string()),
        error: result.err().map(|e| e.to_string()),
    }
}

impl TrustAnchors {
    /// Validates `chain` (DER, leaf first, as served) for `server_name` now, without a
    /// connection: used for a chain read from a raw TLS ≤ 1.2 Certificate message.
    pub fn check_chain(&self, chain: &[Vec<u8>], server_name: &str) -> ChainCheck {
        let failed = |message: String| ChainCheck {
            error: Some(message),
            error_code: Some("other".to_string()),
        };
        let verifier = match self.root_store().and_then(|roots| {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| e.to_string())
        }) {
            Ok(verifier) => verifier,
            Err(e) => return failed(e),
        };
        let Ok(name) = ServerName::try_from(server_name.to_string()) else {
            return failed(format!("{server_name} is not a valid server name"));
        };
        let Some((leaf, intermediates)) = chain.split_first() else {
            return failed("no certificate was served".to_string());
        };
        let intermediates: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .map(|der| CertificateDer::from(der.as_slice()))
            .collect();
        chain_check(verifier.verify_server_cert(
            &CertificateDer::from(leaf.as_slice()),
            &intermediates,
            &name,
            &[],
            UnixTime::now(),
        ))
    }

    /// A client configuration whose [`RecordingVerifier`] validates against these anchors and
    /// records, instead of enforcing, the verdict.
    pub fn recording_config(
        &self,
        alpn: &[&[u8]],
    ) -> Result<(ClientConfig, Arc<RecordingVerifier>), String> {
        let roots = Arc::new(self.root_store()?);
        let inner = WebPkiServerVerifier::builder_with_provider(roots, provider())
            .build()
            .map_err(|e| e.to_string())?;
        let verifier = Arc::new(RecordingVerifier {
            inner,
            seen: Mutex::default(),
        });
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::clone(&verifier) as Arc<dyn ServerCertVerifier>)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok((config, verifier))
    }
}

/// The one crypto provider of the tree.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let check = chain_check(result);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        *seen = SeenCertificate {
            chain: std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.as_ref().to_vec())
                .collect(),
            ocsp: ocsp_response.to_vec(),
            error_code: check.error_code,
            error: check.error,
        };
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
