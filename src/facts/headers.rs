//! Presence and value of the common security headers, and product-version disclosure.
//!
//! This layer keeps each header's raw value and one normalised `value` so rules can use `is` and
//! `in`; deeper analysis (CSP directives, Permissions-Policy features) builds on the raw value.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evidence::HttpHop;

/// One security header on the final HTTPS response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HeaderFacts {
    /// The header was sent.
    pub present: bool,
    /// Number of header lines with this name.
    pub count: u32,
    /// The value, trimmed and lower-cased; for Referrer-Policy the last token (the one browsers
    /// apply when several are listed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// All values as received, joined with `, `.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

impl HeaderFacts {
    /// Facts for the header `name` of `hop`.
    pub fn from_hop(hop: &HttpHop, name: &str) -> Self {
        let values: Vec<&str> = hop.header_values(name).collect();
        if values.is_empty() {
            return Self::default();
        }
        let raw = values.join(", ");
        let value = if name == "referrer-policy" {
            raw.rsplit(',')
                .map(str::trim)
                .find(|token| !token.is_empty())
                .unwrap_or("")
                .to_ascii_lowercase()
        } else {
            raw.trim().to_ascii_lowercase()
        };
        Self {
            present: true,
            count: u32::try_from(values.len()).unwrap_or(u32::MAX),
            value: Some(value),
            raw: Some(raw),
        }
    }
}

/// A header that can reveal the server's software and version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DisclosureFacts {
    /// The header was sent.
    pub present: bool,
    /// The value contains a version number (e.g. `nginx/1.18.0`, `PHP/8.1`).
    pub discloses_version: bool,
    /// All values as received, joined with `, `.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

impl DisclosureFacts {
    /// Facts for the header `name` of `hop`.
    pub fn from_hop(hop: &HttpHop, name: &str) -> Self {
        let values: Vec<&str> = hop.header_values(name).collect();
        if values.is_empty() {
            return Self::default();
        }
        let raw = values.join(", ");
        Self {
            present: true,
            discloses_version: contains_version(&raw),
            raw: Some(raw),
        }
    }
}

/// A digit run followed by `.` and another digit (`1.18`), or a digit right after `/` (`PHP/8`).
fn contains_version(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(3).any(|w| {
        (w[0].is_ascii_digit() && w[1] == b'.' && w[2].is_ascii_digit())
            || (w[1] == b'/' && w[2].is_ascii_digit())
    }) || bytes
        .windows(2)
        .any(|w| w[0] == b'/' && w[1].is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(headers: &[(&str, &str)]) -> HttpHop {
        HttpHop::with_headers(headers)
    }

    #[test]
    fn header_value_is_normalised() {
        let h = HeaderFacts::from_hop(&hop(&[("x-frame-options", " DENY ")]), "x-frame-options");
        assert!(h.present);
        assert_eq!(h.value.as_deref(), Some("deny"));
        assert_eq!(h.raw.as_deref(), Some(" DENY "));
    }

    #[test]
    fn referrer_policy_uses_last_token() {
        let h = HeaderFacts::from_hop(
            &hop(&[(
                "referrer-policy",
                "no-referrer, Strict-Origin-When-Cross-Origin",
            )]),
            "referrer-policy",
        );
        assert_eq!(h.value.as_deref(), Some("strict-origin-when-cross-origin"));
    }

    #[test]
    fn repeated_headers_are_counted() {
        let h = HeaderFacts::from_hop(
            &hop(&[
                ("x-content-type-options", "nosniff"),
                ("x-content-type-options", "nosniff"),
            ]),
            "x-content-type-options",
        );
        assert_eq!(h.count, 2);
        assert_eq!(h.raw.as_deref(), Some("nosniff, nosniff"));
    }

    #[test]
    fn absent_header() {
        let h = HeaderFacts::from_hop(&hop(&[]), "content-security-policy");
        assert_eq!(h, HeaderFacts::default());
    }

    #[test]
    fn version_disclosure() {
        assert!(contains_version("nginx/1.18.0"));
        assert!(contains_version("PHP/8"));
        assert!(contains_version("Apache 2.4.1 (Debian)"));
        assert!(!contains_version("nginx"));
        assert!(!contains_version("cloudflare"));
        assert!(!contains_version(""));
    }
}
