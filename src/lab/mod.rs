//! A local lab site: a real HTTPS server (rustls) and a plain-HTTP server on 127.0.0.1, with a
//! generated CA, serving whatever responses it is configured with.
//!
//! `secaudit demo` audits one of these so a newcomer without internet sees the tool work, and the
//! integration tests use it to audit known configurations end to end. It never listens beyond
//! loopback.

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::net::{ConnectOverride, TrustAnchors};
use crate::tls_registry::Protocol;

pub mod certs;
pub mod dns;
pub mod legacy;
pub mod ocsp;
pub mod rsa;
pub mod ssh;
pub mod starttls;

pub use certs::{LabCert, LabChain, LabKey};

/// One canned response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Header lines, in order; a name may repeat (e.g. `set-cookie`).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
    /// Echo the request's `Origin` in `Access-Control-Allow-Origin`, with
    /// `Access-Control-Allow-Credentials: true` (the CORS misconfiguration the audit detects).
    pub echo_origin: bool,
    /// Replies for particular paths (exact match, query ignored); every other path gets this
    /// reply. Lets a test serve `/.git/HEAD` or `/.well-known/security.txt` beside a page.
    pub routes: Vec<(String, Reply)>,
}

impl Reply {
    /// A 200 response with an HTML body.
    pub fn page(body: &str) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.to_string(),
            echo_origin: false,
            routes: Vec::new(),
        }
    }

    /// A 301 redirect to `location`.
    pub fn redirect(location: &str) -> Self {
        Self {
            status: 301,
            headers: vec![("location".into(), location.to_string())],
            body: String::new(),
            echo_origin: false,
            routes: Vec::new(),
        }
    }

    /// A 200 response with a body of the given content type (`text/plain`, …).
    pub fn typed(content_type: &str, body: &str) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), content_type.to_string())],
            body: body.to_string(),
            echo_origin: false,
            routes: Vec::new(),
        }
    }

    /// A response with this status and no body.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
            echo_origin: false,
            routes: Vec::new(),
        }
    }

    /// Serves `reply` at `path` (exact match) instead of this reply.
    pub fn route(mut self, path: &str, reply: Reply) -> Self {
        self.routes.push((path.to_string(), reply));
        self
    }

    /// The reply for a request path: a route's, else this one.
    fn for_path(&self, path: &str) -> &Reply {
        self.routes
            .iter()
            .find(|(route, _)| route == path)
            .map_or(self, |(_, reply)| reply)
    }

    /// Adds a header line.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Echoes any request `Origin` with credentials allowed (see [`Reply::echo_origin`]).
    pub fn echoing_origin(mut self) -> Self {
        self.echo_origin = true;
        self
    }
}

/// What the lab serves: one reply per scheme, for every path.
#[derive(Debug, Clone)]
pub struct LabSite {
    /// Host name the certificate is issued for and the site answers as.
    pub host: String,
    /// The reply on HTTPS.
    pub https: Reply,
    /// The reply on plain HTTP.
    pub http: Reply,
    /// The HTTPS server's TLS settings.
    pub tls: LabTls,
}

/// TLS settings of the lab's rustls server.
#[derive(Debug, Clone)]
pub struct LabTls {
    /// Versions served: TLS 1.2 and/or TLS 1.3.
    pub versions: Vec<Protocol>,
    /// Suites served by number (empty: every suite rustls has).
    pub suites: Vec<u16>,
    /// Key-exchange groups by number (empty: rustls' defaults).
    pub groups: Vec<u16>,
    /// The certificate served.
    pub cert: LabCert,
}

impl Default for LabTls {
    fn default() -> Self {
        Self {
            versions: vec![Protocol::Tls1_2, Protocol::Tls1_3],
            suites: Vec::new(),
            groups: Vec::new(),
            cert: LabCert::default(),
        }
    }
}

impl LabTls {
    /// The rustls server configuration for these settings.
    pub(crate) fn server_config(
        &self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        ocsp: Option<Vec<u8>>,
    ) -> Result<ServerConfig, LabError> {
        let mut provider = rustls::crypto::aws_lc_rs::default_provider();
        if !self.suites.is_empty() {
            provider
                .cipher_suites
                .retain(|suite| self.suites.contains(&u16::from(suite.suite())));
        }
        if !self.groups.is_empty() {
            provider
                .kx_groups
                .retain(|group| self.groups.contains(&u16::from(group.name())));
        }
        let versions: Vec<&'static rustls::SupportedProtocolVersion> = self
            .versions
            .iter()
            .filter_map(|v| match v {
                Protocol::Tls1_2 => Some(&rustls::version::TLS12),
                Protocol::Tls1_3 => Some(&rustls::version::TLS13),
                _ => None,
            })
            .collect();
        let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&versions)?
            .with_no_client_auth()
            .with_single_cert_with_ocsp(chain, key, ocsp.unwrap_or_default())?;
        // The lab speaks HTTP/1.1 only, and says so.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// A running lab. Dropping it stops the servers.
pub struct Lab {
    /// Host name of the site.
    pub host: String,
    /// Where the HTTPS server listens.
    pub https_addr: SocketAddr,
    /// Where the plain-HTTP server listens.
    pub http_addr: SocketAddr,
    /// The lab CA certificate (PEM), to pass as `--ca-file`.
    pub ca_pem: String,
    ca_der: CertificateDer<'static>,
    /// The CT log list of the test logs that signed the certificate's SCTs.
    pub ct_logs: crate::ct::LogList,
    tasks: Vec<JoinHandle<()>>,
}

/// Starting the lab failed.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Certificate generation failed.
    #[error("cannot generate lab certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    /// TLS setup failed.
    #[error("cannot configure lab TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// Embedding test SCTs failed.
    #[error("cannot make lab SCTs: {0}")]
    Sct(String),
    /// Encoding the OCSP response failed.
    #[error("cannot make the lab OCSP response: {0}")]
    Ocsp(String),
    /// Binding a port failed.
    #[error("cannot listen on 127.0.0.1: {0}")]
    Io(#[from] std::io::Error),
    /// A lab DNS zone is malformed.
    #[error("cannot build the lab DNS zone: {0}")]
    Dns(String),
    /// The lab SSH server could not be prepared.
    #[error("cannot start the lab SSH server: {0}")]
    Ssh(String),
    /// The lab RSA key could not be prepared.
    #[error("cannot prepare the lab RSA key: {0}")]
    Rsa(String),
}

impl Lab {
    /// Generates a CA and a certificate for `site.host`, and starts both servers on random ports.
    pub async fn start(site: LabSite) -> Result<Self, LabError> {
        let issued = certs::issue(&site.host, &site.tls.cert)?;
        let server_config = site
            .tls
            .server_config(issued.served, issued.key, issued.ocsp)?;
        let acceptor = TlsAcceptor::from(Arc::new(server_config));

        let https_listener = TcpListener::bind("127.0.0.1:0").await?;
        let http_listener = TcpListener::bind("127.0.0.1:0").await?;
        let https_addr = https_listener.local_addr()?;
        let http_addr = http_listener.local_addr()?;
        let tasks = vec![
            tokio::spawn(serve(https_listener, Some(acceptor), Arc::new(site.https))),
            tokio::spawn(serve(http_listener, None, Arc::new(site.http))),
        ];
        Ok(Self {
            host: site.host,
            https_addr,
            http_addr,
            ca_pem: issued.root_pem,
            ca_der: issued.root,
            ct_logs: issued.ct_logs,
            tasks,
        })
    }

    /// `--connect` overrides that send `HOST:443` and `HOST:80` to the lab.
    pub fn connect_overrides(&self) -> Vec<ConnectOverride> {
        vec![
            ConnectOverride {
                host: self.host.clone(),
                port: 443,
                addr: self.https_addr,
            },
            ConnectOverride {
                host: self.host.clone(),
                port: 80,
                addr: self.http_addr,
            },
        ]
    }

    /// The same overrides as command-line arguments.
    pub fn connect_args(&self) -> Vec<String> {
        self.connect_overrides()
            .iter()
            .flat_map(|o| {
                [
                    "--connect".to_string(),
                    format!("{}:{}={}", o.host, o.port, o.addr),
                ]
            })
            .collect()
    }

    /// Trust anchors containing only the lab CA.
    pub fn trust(&self) -> TrustAnchors {
        TrustAnchors::Custom(vec![self.ca_der.clone()])
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn serve(listener: TcpListener, acceptor: Option<TlsAcceptor>, reply: Arc<Reply>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let reply = Arc::clone(&reply);
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let reply = Arc::clone(&reply);
                let origin = request.headers().get(hyper::header::ORIGIN).cloned();
                let path = request.uri().path().to_string();
                async move { Ok::<_, hyper::http::Error>(respond(reply.for_path(&path), origin)) }
            });
            match acceptor {
                Some(acceptor) => {
                    if let Ok(tls_stream) = acceptor.accept(stream).await {
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(tls_stream), service)
                            .await;
                    }
                }
                None => {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
            }
        });
    }
}

fn respond(reply: &Reply, origin: Option<hyper::header::HeaderValue>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(reply.body.clone())));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    for (name, value) in &reply.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    if let (true, Some(origin)) = (reply.echo_origin, origin) {
        let headers = response.headers_mut();
        headers.insert(hyper::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            hyper::header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            hyper::header::HeaderValue::from_static("true"),
        );
    }
    response
}
