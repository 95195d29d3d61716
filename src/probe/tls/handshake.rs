//! One full handshake with rustls: negotiated version, suite, group and ALPN, the certificate
//! chain exactly as served, and the stapled OCSP response.
//!
//! The recording verifier (`net::tls`) validates against the trust anchors but records a failure
//! instead of aborting, so an untrusted certificate still yields the rest of the observations.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use crate::evidence::tls::{HandshakeOutcome, HandshakeRecord, TlsReply};
use crate::evidence::{FailureKind, ProbeError, StarttlsProtocol};

/// Most bytes read of a STARTTLS preamble before the handshake.
const PREAMBLE_BYTES: usize = 64 * 1024;
use crate::net::TrustAnchors;

/// Performs one handshake offering `alpn`, recording what was negotiated.
pub async fn handshake(
    addr: SocketAddr,
    server_name: &str,
    trust: &TrustAnchors,
    alpn: &[&str],
    deadline: Instant,
) -> HandshakeRecord {
    handshake_via(addr, None, server_name, trust, alpn, deadline).await
}

/// [`handshake`] on a connection that first speaks the STARTTLS preamble of `starttls`.
pub async fn handshake_via(
    addr: SocketAddr,
    starttls: Option<StarttlsProtocol>,
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
    let alpn_bytes: Vec<&[u8]> = alpn.iter().map(|p| p.as_bytes()).collect();
    let (config, verifier) = match trust.recording_config(&alpn_bytes) {
        Ok(pair) => pair,
        Err(e) => return failed(FailureKind::Other, e),
    };
    let name = match ServerName::try_from(server_name.to_string()) {
        Ok(name) => name,
        Err(e) => return failed(FailureKind::Other, format!("{server_name}: {e}")),
    };
    let connector = TlsConnector::from(Arc::new(config));
    let attempt = async {
        let tcp = match starttls {
            None => TcpStream::connect(addr).await.map_err(|e| {
                let kind = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                    FailureKind::Refused
                } else {
                    FailureKind::Other
                };
                ProbeError::new(kind, e.to_string())
            })?,
            Some(_) => super::reply::open(addr, starttls, deadline, PREAMBLE_BYTES)
                .await
                .map_err(|reply| match reply {
                    TlsReply::ConnectFailed { error } => error,
                    other => ProbeError::new(FailureKind::Other, format!("{other:?}")),
                })?,
        };
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
    let seen = verifier.seen();
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
            .map(|der| crate::evidence::encode_bytes(der))
            .collect(),
        ocsp_response_len: seen.ocsp.len() as u64,
        ocsp_response: (!seen.ocsp.is_empty()).then(|| crate::evidence::encode_bytes(&seen.ocsp)),
        certificate_error: seen.error,
        certificate_error_code: seen.error_code,
    })
}
