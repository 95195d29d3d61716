//! One full handshake with rustls: negotiated version, suite, group and ALPN, the certificate
//! chain exactly as served, and the stapled OCSP response.
//!
//! The verifier validates against the trust anchors but records a failure instead of aborting,
//! so an untrusted certificate still yields the rest of the handshake's observations.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use crate::evidence::tls::{HandshakeOutcome, HandshakeRecord};
use crate::evidence::{FailureKind, ProbeError};
use crate::net::{TrustAnchors, tls};

#[derive(Debug, Default)]
struct Seen {
    chain: Vec<Vec<u8>>,
    ocsp_len: usize,
    error: Option<String>,
    error_code: Option<String>,
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

#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Mutex<Seen>>,
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
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref().to_vec())
            .collect();
        seen.ocsp_len = ocsp_response.len();
        seen.error_code = result.as_ref().err().map(|e| error_code(e).to_string());
        seen.error = result.err().map(|e| e.to_string());
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

/// Performs one handshake offering `alpn`, recording what was negotiated.
pub async fn handshake(
    addr: SocketAddr,
    server_name: &str,
    trust: &TrustAnchors,
    alpn: &[&str],
    deadline: Instant,
) -> HandshakeRecord {
    let record = |outcome| HandshakeRecord {
        alpn_offered: alpn.iter().map(|s| (*s).to_string()).collect(),
        outcome,
    };
    let failed = |kind, message: String| {
        record(HandshakeOutcome::Failed {
            error: ProbeError::new(kind, message),
        })
    };
    let seen = Arc::new(Mutex::new(Seen::default()));
    let roots = match trust.root_store() {
        Ok(roots) => Arc::new(roots),
        Err(e) => return failed(FailureKind::Other, e),
    };
    let inner = match WebPkiServerVerifier::builder_with_provider(roots, tls::provider()).build() {
        Ok(inner) => inner,
        Err(e) => return failed(FailureKind::Other, e.to_string()),
    };
    let verifier = Arc::new(RecordingVerifier {
        inner,
        seen: Arc::clone(&seen),
    });
    let config = match rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
    {
        Ok(builder) => {
            let mut config = builder
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth();
            config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
            config
        }
        Err(e) => return failed(FailureKind::Other, e.to_string()),
    };
    let name = match ServerName::try_from(server_name.to_string()) {
        Ok(name) => name,
        Err(e) => return failed(FailureKind::Other, format!("{server_name}: {e}")),
    };
    let connector = TlsConnector::from(Arc::new(config));
    let attempt = async {
        let tcp = TcpStream::connect(addr).await.map_err(|e| {
            let kind = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                FailureKind::Refused
            } else {
                FailureKind::Other
            };
            ProbeError::new(kind, e.to_string())
        })?;
        connector
            .connect(name, tcp)
            .await
            .map_err(|e| ProbeError::new(FailureKind::Tls, e.to_string()))
    };
    let stream = match tokio::time::timeout_at(deadline, attempt).await {
        Err(_) => return failed(FailureKind::Timeout, "handshake timed out".to_string()),
        Ok(Err(error)) => return record(HandshakeOutcome::Failed { error }),
        Ok(Ok(stream)) => stream,
    };
    let (_, connection) = stream.get_ref();
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    record(HandshakeOutcome::Completed {
        version: connection
            .protocol_version()
            .map_or_else(|| "unknown".to_string(), |v| format!("{v:?}")),
        suite: connection
            .negotiated_cipher_suite()
            .map_or_else(|| "unknown".to_string(), |s| format!("{:?}", s.suite())),
        group: connection
            .negotiated_key_exchange_group()
            .map(|g| crate::tls_registry::group_name(u16::from(g.name()))),
        alpn: connection
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        certificates: seen
            .chain
            .iter()
            .map(|der| base64::engine::general_purpose::STANDARD.encode(der))
            .collect(),
        ocsp_response_len: seen.ocsp_len as u64,
        certificate_error: seen.error.clone(),
        certificate_error_code: seen.error_code.clone(),
    })
}
