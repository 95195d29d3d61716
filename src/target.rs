//! Target parsing and normalisation: `host`, `host:port`, or a URL.
//!
//! A target is one host name (or IP literal). A bare port applies to HTTPS; a URL may also name the
//! scheme's port and a path. Parsing goes through the `url` crate so host names are IDNA-normalised
//! and IPv6 literals are handled the same way browsers do.

use url::{Host, Url};

use crate::evidence::TargetEvidence;

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
    #[error("`{input}` uses scheme `{scheme}`; only http and https targets are supported")]
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
        let trimmed = input.trim();
        let has_scheme = trimmed.contains("://");
        let candidate = if has_scheme {
            trimmed.to_string()
        } else {
            format!("https://{trimmed}")
        };
        let invalid = |reason: String| TargetError::Invalid {
            input: input.to_string(),
            reason,
        };
        let url = Url::parse(&candidate).map_err(|e| invalid(e.to_string()))?;
        let scheme = url.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(TargetError::Scheme {
                input: input.to_string(),
                scheme: scheme.to_string(),
            });
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
        let (https_port, http_port) = match (scheme, explicit_port) {
            ("http", Some(port)) => (443, port),
            (_, Some(port)) => (port, 80),
            _ => (443, 80),
        };
        Ok(Self {
            input: input.to_string(),
            host,
            https_port,
            http_port,
            path: url.path().to_string(),
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
    fn rejects_other_schemes_and_garbage() {
        assert!(matches!(
            Target::parse("ftp://example.test"),
            Err(TargetError::Scheme { .. })
        ));
        assert!(matches!(
            Target::parse("exa mple"),
            Err(TargetError::Invalid { .. })
        ));
        assert!(Target::parse("").is_err());
    }
}
