//! Target parsing and normalisation: `host`, `host:port`, or a URL.
//!
//! A target is one host name (or IP literal). A bare port applies to HTTPS; a URL may also name the
//! scheme's port and a path. A URL of a mail or file-transfer scheme (`smtp://`, `imap://`,
//! `pop3://`, `ftp://`), or `--starttls PROTOCOL`, makes the target a single STARTTLS endpoint:
//! its TLS is scanned through the protocol's preamble and no HTTP request is made. Parsing goes through the `url` crate so host names are IDNA-normalised
//! and IPv6 literals are handled the same way browsers do.

use url::{Host, Url};

use crate::evidence::{StarttlsProtocol, TargetEvidence};

/// A target ready to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What the user typed.
    pub input: String,
    /// Host name (lower-case, no trailing dot) or IP literal (IPv6 without brackets).
    pub host: String,
    /// Port for the HTTPS probe.
    pub https_port: u16,
    /// Port for the plain-HTTP probe.
    pub http_port: u16,
    /// Path requested on both schemes.
    pub path: String,
    /// The STARTTLS protocol of a single-endpoint target; `https_port` is then the endpoint's
    /// port.
    pub starttls: Option<StarttlsProtocol>,
}

/// Why a target string was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// The string is not a host, `host:port` or URL.
    #[error("`{input}` is not a host name, host:port or URL: {reason}")]
    Invalid {
        /// The rejected input.
        input: String,
        /// What the URL parser said.
        reason: String,
    },
    /// The URL uses a scheme other than http or https.
    #[error(
        "`{input}` uses scheme `{scheme}`; targets are http, https, smtp, imap, pop3 or ftp URLs"
    )]
    Scheme {
        /// The rejected input.
        input: String,
        /// The scheme found.
        scheme: String,
    },
}

impl Target {
    /// Parses a target string.
    pub fn parse(input: &str) -> Result<Self, TargetError> {
        Self::parse_as(input, None)
    }

    /// Parses a target string; with `starttls` (`--starttls`), a `host` or `host:port` target is
    /// that protocol's endpoint (default port: the protocol's).
    pub fn parse_as(input: &str, starttls: Option<StarttlsProtocol>) -> Result<Self, TargetError> {
        let trimmed = input.trim();
        let has_scheme = trimmed.contains("://");
        let candidate = match (has_scheme, starttls) {
            (true, _) => trimmed.to_string(),
            (false, Some(protocol)) => format!("{protocol}://{trimmed}"),
            (false, None) => format!("https://{trimmed}"),
        };
        let invalid = |reason: String| TargetError::Invalid {
            input: input.to_string(),
            reason,
        };
        let url = Url::parse(&candidate).map_err(|e| invalid(e.to_string()))?;
        let scheme = url.scheme();
        let scheme_starttls = StarttlsProtocol::from_name(scheme);
        let web = scheme == "http" || scheme == "https";
        if !web && scheme_starttls.is_none() {
            return Err(TargetError::Scheme {
                input: input.to_string(),
                scheme: scheme.to_string(),
            });
        }
        if let (Some(wanted), false) = (starttls, scheme_starttls == starttls) {
            return Err(invalid(format!(
                "--starttls {wanted} needs a host, host:port or {wanted}:// target"
            )));
        }
        let host = match url.host() {
            Some(Host::Domain(name)) => name.trim_end_matches('.').to_ascii_lowercase(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(invalid("no host".to_string())),
        };
        if host.is_empty() {
            return Err(invalid("empty host".to_string()));
        }
        let explicit_port = url.port();
        let (https_port, http_port) = match (scheme, explicit_port, scheme_starttls) {
            ("http", Some(port), _) => (443, port),
            (_, Some(port), _) => (port, 80),
            (_, None, Some(protocol)) => (protocol.default_port(), 80),
            _ => (443, 80),
        };
        let path = if scheme_starttls.is_some() || url.path().is_empty() {
            "/".to_string()
        } else {
            url.path().to_string()
        };
        Ok(Self {
            input: input.to_string(),
            host,
            https_port,
            http_port,
            path,
            starttls: scheme_starttls,
        })
    }

    /// The target as recorded in evidence.
    pub fn to_evidence(&self) -> TargetEvidence {
        TargetEvidence {
            input: self.input.clone(),
            host: self.host.clone(),
            https_port: self.https_port,
            http_port: self.http_port,
            path: self.path.clone(),
            starttls: self.starttls,
        }
    }

    /// The URL of the first request on the given scheme.
    pub fn url(&self, scheme: &str) -> String {
        let (port, default) = if scheme == "http" {
            (self.http_port, 80)
        } else {
            (self.https_port, 443)
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if port == default {
            format!("{scheme}://{host}{}", self.path)
        } else {
            format!("{scheme}://{host}:{port}{}", self.path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_host_gets_default_ports() {
        let target = Target::parse("Shop.Example.TEST.").unwrap();
        assert_eq!(target.host, "shop.example.test");
        assert_eq!((target.https_port, target.http_port), (443, 80));
        assert_eq!(target.url("https"), "https://shop.example.test/");
        assert_eq!(target.url("http"), "http://shop.example.test/");
    }

    #[test]
    fn host_port_applies_to_https() {
        let target = Target::parse("127.0.0.1:8443").unwrap();
        assert_eq!(target.host, "127.0.0.1");
        assert_eq!(target.https_port, 8443);
        assert_eq!(target.url("https"), "https://127.0.0.1:8443/");
    }

    #[test]
    fn url_keeps_path_and_ipv6() {
        let target = Target::parse("https://[::1]:9443/login").unwrap();
        assert_eq!(target.host, "::1");
        assert_eq!(target.path, "/login");
        assert_eq!(target.url("https"), "https://[::1]:9443/login");
    }

    #[test]
    fn http_url_port_applies_to_http() {
        let target = Target::parse("http://example.test:8080").unwrap();
        assert_eq!((target.https_port, target.http_port), (443, 8080));
    }

    #[test]
    fn mail_schemes_and_starttls_flag_make_an_endpoint() {
        let target = Target::parse("smtp://MX.Example.test").unwrap();
        assert_eq!(target.host, "mx.example.test");
        assert_eq!(target.starttls, Some(StarttlsProtocol::Smtp));
        assert_eq!(target.https_port, 25);
        let target = Target::parse("smtp://mx.example.test:587").unwrap();
        assert_eq!(target.https_port, 587);
        let target = Target::parse_as("imap.example.test", Some(StarttlsProtocol::Imap)).unwrap();
        assert_eq!(
            (target.starttls, target.https_port),
            (Some(StarttlsProtocol::Imap), 143)
        );
        let target = Target::parse_as("127.0.0.1:1110", Some(StarttlsProtocol::Pop3)).unwrap();
        assert_eq!(
            (target.host.as_str(), target.https_port),
            ("127.0.0.1", 1110)
        );
        assert_eq!(
            Target::parse("ftp://files.example.test")
                .unwrap()
                .https_port,
            21
        );
        assert!(matches!(
            Target::parse_as("https://example.test", Some(StarttlsProtocol::Smtp)),
            Err(TargetError::Invalid { .. })
        ));
        assert_eq!(Target::parse("example.test").unwrap().starttls, None);
    }

    #[test]
    fn rejects_other_schemes_and_garbage() {
        assert!(matches!(
            Target::parse("gopher://example.test"),
            Err(TargetError::Scheme { .. })
        ));
        assert!(matches!(
            Target::parse("exa mple"),
            Err(TargetError::Invalid { .. })
        ));
        assert!(Target::parse("").is_err());
    }
}
