//! The HTTP probe: `http://HOST/` and `https://HOST/`, every redirect hop recorded.
//!
//! Redirects are followed here, one request per hop, so each response is kept with its headers
//! exactly as received. The TLS verifier records a certificate failure on the hop instead of
//! aborting, so the headers of a site with a broken certificate are still observed.

use std::error::Error as StdError;
use std::net::SocketAddr;

use reqwest::redirect::Policy;
use tokio::time::Instant;
use url::Url;

use super::Limits;
use crate::evidence::{
    BodySample, ChainEnd, CompressionEvidence, CorsEvidence, FailureKind, FetchChain, HeaderLine,
    HttpEvidence, HttpHop, ProbeError,
};
use crate::net::{Resolver, TrustAnchors};
use crate::target::Target;

const ALPN_HTTP1: &[&[u8]] = &[b"http/1.1"];

/// The `Origin` sent by the CORS request: under `.invalid` (RFC 2606), so it can never be a
/// real site the target trusts.
pub const FOREIGN_ORIGIN: &str = "https://cors-probe.secaudit.invalid";

/// The `Accept-Encoding` of the compression request: what browsers offer.
pub const ACCEPT_COMPRESSED: &str = "gzip, deflate, br, zstd";

/// One audit's HTTP probe.
pub struct HttpProbe<'a> {
    resolver: &'a Resolver,
    trust: &'a TrustAnchors,
    deadline: Instant,
    limits: Limits,
}

impl<'a> HttpProbe<'a> {
    /// A probe that uses `resolver` for every host and stops at `deadline`.
    pub fn new(
        resolver: &'a Resolver,
        trust: &'a TrustAnchors,
        deadline: Instant,
        limits: Limits,
    ) -> Self {
        Self {
            resolver,
            trust,
            deadline,
            limits,
        }
    }

    /// Fetches both schemes concurrently, then sends the CORS request to the final HTTPS URL.
    pub async fn run(&self, target: &Target) -> HttpEvidence {
        let (plain, secure) = tokio::join!(
            self.fetch_chain(target.url("http")),
            self.fetch_chain(target.url("https"))
        );
        let (cors, compression) = match (&secure.end, secure.hops.last()) {
            (ChainEnd::Final, Some(last)) => {
                let (cors, compression) =
                    tokio::join!(self.cors(&last.url), self.compression(&last.url));
                (Some(cors), Some(compression))
            }
            _ => (None, None),
        };
        HttpEvidence {
            plain: Some(plain),
            secure: Some(secure),
            cors,
            compression,
        }
    }

    /// Requests `url` offering compressed encodings, recording the response without its body.
    pub async fn compression(&self, url: &str) -> CompressionEvidence {
        let (response, error) = self
            .variant(url, (reqwest::header::ACCEPT_ENCODING, ACCEPT_COMPRESSED))
            .await;
        CompressionEvidence {
            accept_encoding: ACCEPT_COMPRESSED.to_string(),
            url: url.to_string(),
            response,
            error,
        }
    }

    /// `url` requested once more with one extra header, the body not kept.
    async fn variant(
        &self,
        url: &str,
        header: (reqwest::header::HeaderName, &str),
    ) -> (Option<HttpHop>, Option<ProbeError>) {
        let result = match Url::parse(url) {
            Ok(parsed) => self.fetch_with(&parsed, Some(header)).await,
            Err(e) => Err(ProbeError::new(FailureKind::Other, e.to_string())),
        };
        match result {
            Ok(hop) => (Some(hop), None),
            Err(error) => (None, Some(error)),
        }
    }

    /// Requests `url` with a foreign `Origin`, recording the response without its body.
    pub async fn cors(&self, url: &str) -> CorsEvidence {
        let (response, error) = self
            .variant(url, (reqwest::header::ORIGIN, FOREIGN_ORIGIN))
            .await;
        CorsEvidence {
            origin: FOREIGN_ORIGIN.to_string(),
            url: url.to_string(),
            response,
            error,
        }
    }

    /// Follows a redirect chain from `start_url`, recording every response.
    pub async fn fetch_chain(&self, start_url: String) -> FetchChain {
        let mut hops = Vec::new();
        let mut url = match Url::parse(&start_url) {
            Ok(url) => url,
            Err(e) => {
                return FetchChain {
                    start_url: start_url.clone(),
                    hops,
                    end: ChainEnd::Failed {
                        url: start_url,
                        error: ProbeError::new(FailureKind::Other, e.to_string()),
                    },
                };
            }
        };
        let end = loop {
            if hops.len() > self.limits.max_redirects as usize {
                break ChainEnd::TooManyRedirects {
                    limit: self.limits.max_redirects,
                };
            }
            let hop = match self.fetch(&url).await {
                Ok(hop) => hop,
                Err(error) => {
                    break ChainEnd::Failed {
                        url: url.to_string(),
                        error,
                    };
                }
            };
            let next = hop.is_redirect().then(|| {
                let location = hop.header_values("location").next().map(str::to_string);
                let next = location
                    .as_deref()
                    .and_then(|loc| url.join(loc.trim()).ok())
                    .filter(|next| matches!(next.scheme(), "http" | "https"));
                (location, next)
            });
            let from = hop
                .peer
                .as_deref()
                .and_then(|p| p.parse::<SocketAddr>().ok());
            hops.push(hop);
            match next {
                None => break ChainEnd::Final,
                Some((_, Some(next))) => {
                    if let Some(error) = self.refused_hop(from, &next).await {
                        break ChainEnd::Failed {
                            url: next.to_string(),
                            error,
                        };
                    }
                    url = next;
                }
                Some((location, None)) => break ChainEnd::BadLocation { location },
            }
        };
        FetchChain {
            start_url,
            hops,
            end,
        }
    }

    /// Why the redirect from a response served by `from` to `next` is not followed, if it is
    /// not: see [`crate::net::scope`].
    async fn refused_hop(&self, from: Option<SocketAddr>, next: &Url) -> Option<ProbeError> {
        let host = next
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = next.port_or_known_default().unwrap_or(443);
        if self.resolver.connect_override(host, port).is_some() {
            return None;
        }
        let addrs = self.resolver.addresses(host, port).await.ok()?;
        crate::net::scope::redirect_refusal(from?.ip(), &addrs)
            .map(|reason| ProbeError::new(FailureKind::Other, reason))
    }

    async fn fetch(&self, url: &Url) -> Result<HttpHop, ProbeError> {
        self.fetch_with(url, None).await
    }

    /// One request, redirects not followed, whose body is kept as text whatever its type, up to
    /// `keep_text` bytes (an artefact such as `/.DS_Store` is rarely served as text).
    pub async fn fetch_sample(&self, url: &Url, keep_text: usize) -> Result<HttpHop, ProbeError> {
        self.fetch_keeping(url, None, Some(keep_text)).await
    }

    /// One request; with `header`, that header is sent too and the body is not kept.
    async fn fetch_with(
        &self,
        url: &Url,
        header: Option<(reqwest::header::HeaderName, &str)>,
    ) -> Result<HttpHop, ProbeError> {
        self.fetch_keeping(url, header, None).await
    }

    /// One request; `keep_text` overrides which bodies are kept (all, up to that many bytes).
    async fn fetch_keeping(
        &self,
        url: &Url,
        header: Option<(reqwest::header::HeaderName, &str)>,
        keep_text: Option<usize>,
    ) -> Result<HttpHop, ProbeError> {
        let host = url
            .host_str()
            .ok_or_else(|| ProbeError::new(FailureKind::Other, "URL has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs = self.resolver.addresses(&host, port).await?;
        let target = RequestTarget::new(url, self.resolver.connect_override(&host, port));
        let (tls_config, verifier) = self
            .trust
            .recording_config(ALPN_HTTP1)
            .map_err(|e| ProbeError::new(FailureKind::Other, e))?;
        let mut hop = self
            .request(&target, &host, &addrs, tls_config, header, keep_text)
            .await?;
        if url.scheme() == "https" {
            hop.certificate_error = verifier.seen().error;
        }
        Ok(hop)
    }

    async fn request(
        &self,
        target: &RequestTarget,
        host: &str,
        addrs: &[SocketAddr],
        tls_config: rustls::ClientConfig,
        header: Option<(reqwest::header::HeaderName, &str)>,
        keep_text: Option<usize>,
    ) -> Result<HttpHop, ProbeError> {
        let now = Instant::now();
        if now >= self.deadline {
            return Err(ProbeError::new(
                FailureKind::Timeout,
                "audit deadline reached",
            ));
        }
        let budget = (self.deadline - now).min(self.limits.request_timeout);
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls_config)
            .redirect(Policy::none())
            .no_proxy()
            .resolve_to_addrs(host, addrs)
            .timeout(budget)
            .connect_timeout(budget)
            .user_agent(concat!("secaudit/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| classify(&e))?;
        let mut request = client.get(target.connect_url.clone());
        if let Some(host_header) = &target.host_header {
            request = request.header(reqwest::header::HOST, host_header);
        }
        let keep_body = header.is_none();
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let mut response = request.send().await.map_err(|e| classify(&e))?;
        let status = response.status().as_u16();
        let http_version = format!("{:?}", response.version());
        let peer = response.remote_addr().map(|a| a.to_string());
        let headers: Vec<HeaderLine> = response
            .headers()
            .iter()
            .map(|(name, value)| HeaderLine {
                name: name.as_str().to_string(),
                value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
            })
            .collect();
        let is_text = keep_body
            && response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| {
                    let ct = ct.to_ascii_lowercase();
                    ct.contains("html") || ct.starts_with("text/")
                });
        let body = match keep_text {
            Some(max_text) => {
                let limits = Limits {
                    max_body_text: max_text,
                    max_body_bytes: max_text.min(self.limits.max_body_bytes),
                    ..self.limits
                };
                read_body(&mut response, &limits, true).await
            }
            None => read_body(&mut response, &self.limits, is_text).await,
        };
        Ok(HttpHop {
            url: target.url.to_string(),
            peer,
            status,
            http_version,
            headers,
            certificate_error: None,
            body,
        })
    }
}

/// The URL a hop is recorded under, and the one actually requested.
///
/// The HTTP stack connects to the port written in a URL, ignoring the port of a resolver
/// override. When a `--connect` override moves an explicit port elsewhere, the request goes to the
/// override's port with the original `Host` header (TLS SNI is unchanged: it uses the host name).
struct RequestTarget {
    url: Url,
    connect_url: Url,
    host_header: Option<String>,
}

impl RequestTarget {
    fn new(url: &Url, connect_override: Option<SocketAddr>) -> Self {
        let moved = connect_override
            .zip(url.port())
            .filter(|(addr, explicit)| addr.port() != *explicit);
        let mut connect_url = url.clone();
        let host_header = match (moved, url.host_str()) {
            (Some((addr, explicit)), Some(host))
                if connect_url.set_port(Some(addr.port())).is_ok() =>
            {
                Some(format!("{host}:{explicit}"))
            }
            _ => None,
        };
        Self {
            url: url.clone(),
            connect_url,
            host_header,
        }
    }
}

/// Reads at most `max_body_bytes`; a body that fails mid-way keeps what arrived.
async fn read_body(
    response: &mut reqwest::Response,
    limits: &Limits,
    keep_text: bool,
) -> BodySample {
    let mut kept = Vec::new();
    let mut bytes_read: u64 = 0;
    let mut truncated = false;
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = limits.max_body_bytes.saturating_sub(bytes_read as usize);
        let take = chunk.len().min(room);
        bytes_read += take as u64;
        let text_room = limits.max_body_text.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..take.min(text_room)]);
        if take < chunk.len() {
            truncated = true;
            break;
        }
    }
    BodySample {
        bytes_read,
        truncated,
        text: keep_text.then(|| String::from_utf8_lossy(&kept).into_owned()),
    }
}

/// Turns a reqwest error into evidence: the class of failure and the whole cause chain.
fn classify(err: &reqwest::Error) -> ProbeError {
    let mut kind = if err.is_timeout() {
        FailureKind::Timeout
    } else {
        FailureKind::Other
    };
    let mut messages: Vec<String> = Vec::new();
    let mut source: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(current) = source {
        let text = current.to_string();
        if !messages.iter().any(|m| m.contains(&text)) {
            messages.push(text);
        }
        if as_rustls_error(current).is_some() {
            kind = FailureKind::Tls;
        } else if let Some(io) = current.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            kind = match io.kind() {
                K::ConnectionRefused => FailureKind::Refused,
                K::ConnectionReset | K::ConnectionAborted | K::UnexpectedEof | K::BrokenPipe => {
                    FailureKind::Reset
                }
                K::TimedOut => FailureKind::Timeout,
                _ if kind == FailureKind::Other => FailureKind::Other,
                _ => kind,
            };
        } else if let Some(hyper_err) = current.downcast_ref::<hyper::Error>() {
            if hyper_err.is_parse() || hyper_err.is_parse_status() {
                kind = FailureKind::Malformed;
            } else if hyper_err.is_incomplete_message() && kind == FailureKind::Other {
                kind = FailureKind::Reset;
            }
        }
        source = current.source();
    }
    let message = messages.join(": ");
    // Some layers box their causes in a way `downcast_ref` cannot see through; fall back on the
    // stable wording of rustls and the OS for the classes that matter.
    let lower = message.to_ascii_lowercase();
    if kind == FailureKind::Other {
        if lower.contains("invalid peer certificate") {
            kind = FailureKind::Tls;
        } else if lower.contains("connection refused") {
            kind = FailureKind::Refused;
        } else if lower.contains("connection reset") || lower.contains("unexpected eof") {
            kind = FailureKind::Reset;
        } else if lower.contains("timed out") {
            kind = FailureKind::Timeout;
        } else if lower.contains("received fatal alert") || lower.contains("handshake") {
            kind = FailureKind::Tls;
        }
    }
    ProbeError::new(kind, message)
}

fn as_rustls_error<'e>(err: &'e (dyn StdError + 'static)) -> Option<&'e rustls::Error> {
    err.downcast_ref::<rustls::Error>().or_else(|| {
        err.downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_port_moved_by_override_keeps_host_header() {
        let url = Url::parse("https://shop.test:8443/a").unwrap();
        let target = RequestTarget::new(&url, Some("127.0.0.1:40000".parse().unwrap()));
        assert_eq!(target.connect_url.as_str(), "https://shop.test:40000/a");
        assert_eq!(target.host_header.as_deref(), Some("shop.test:8443"));
        assert_eq!(target.url, url);
    }

    #[test]
    fn implicit_port_needs_no_rewrite() {
        let url = Url::parse("https://shop.test/").unwrap();
        let target = RequestTarget::new(&url, Some("127.0.0.1:40000".parse().unwrap()));
        assert_eq!(target.connect_url, url);
        assert_eq!(target.host_header, None);
    }
}
