//! Facts about the HTTP → HTTPS redirect chain and HTTPS reachability.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::evidence::{ChainEnd, FetchChain};

/// Reachability of one scheme.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SchemeFacts {
    /// At least one response arrived on this scheme.
    pub reachable: bool,
    /// Status of the first response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// For HTTPS: the certificate was accepted by the trust store (absent for plain HTTP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_valid: Option<bool>,
    /// For HTTPS: why the certificate was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_error: Option<String>,
    /// Why no response arrived, when unreachable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SchemeFacts {
    /// Facts for a chain; `secure` adds the certificate verdict.
    pub fn from_chain(chain: &FetchChain, secure: bool) -> Self {
        let first = chain.hops.first();
        let error = match (&chain.end, first) {
            (ChainEnd::Failed { error, .. }, None) => Some(error.to_string()),
            _ => None,
        };
        Self {
            reachable: first.is_some(),
            status: first.map(|hop| hop.status),
            certificate_valid: if secure {
                first.map(|hop| hop.certificate_error.is_none())
            } else {
                None
            },
            certificate_error: if secure {
                first.and_then(|hop| hop.certificate_error.clone())
            } else {
                None
            },
            error,
        }
    }
}

/// Where a plain-HTTP request is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RedirectFacts {
    /// The `http://` chain ends on an `https://` URL.
    pub ends_on_https: bool,
    /// The first response is a redirect straight to `https://`.
    pub first_hop_to_https: bool,
    /// The first redirect goes to `https://` on the same host (needed for HSTS preload).
    pub first_hop_same_host: bool,
    /// Number of redirects followed.
    pub hop_count: u32,
    /// The plain-HTTP chain ends with a non-redirect response served over plain HTTP.
    pub serves_plain_content: bool,
    /// The last URL reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_url: Option<String>,
    /// Status of the last response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_status: Option<u16>,
    /// How the chain ended: `final`, `too_many_redirects`, `bad_location` or `failed`.
    pub end: String,
}

impl RedirectFacts {
    /// Facts for the chain that started at `http://HOST/`.
    pub fn from_plain_chain(chain: &FetchChain, host: &str) -> Self {
        let redirects = chain.hops.iter().filter(|hop| hop.is_redirect()).count();
        let last = chain.hops.last();
        let last_is_redirect = last.is_some_and(|hop| hop.is_redirect());
        // The URL the chain ended up at: the last response's own URL, or the failed request's.
        let final_url = match (&chain.end, last) {
            (ChainEnd::Failed { url, .. }, _) => Some(url.clone()),
            (_, Some(hop)) => Some(hop.url.clone()),
            _ => None,
        };
        let first_target = chain
            .hops
            .first()
            .filter(|hop| hop.is_redirect())
            .and_then(|hop| {
                let base = Url::parse(&hop.url).ok()?;
                let location = hop.header_values("location").next()?;
                base.join(location.trim()).ok()
            });
        let end = match &chain.end {
            ChainEnd::Final => "final",
            ChainEnd::TooManyRedirects { .. } => "too_many_redirects",
            ChainEnd::BadLocation { .. } => "bad_location",
            ChainEnd::Failed { .. } => "failed",
        };
        let ends_on_https = final_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .is_some_and(|u| u.scheme() == "https")
            && matches!(chain.end, ChainEnd::Final | ChainEnd::Failed { .. });
        Self {
            ends_on_https,
            first_hop_to_https: first_target.as_ref().is_some_and(|u| u.scheme() == "https"),
            first_hop_same_host: first_target.as_ref().is_some_and(|u| {
                u.scheme() == "https"
                    && u.host_str()
                        .is_some_and(|h| h.trim_matches(['[', ']']).eq_ignore_ascii_case(host))
            }),
            hop_count: u32::try_from(redirects).unwrap_or(u32::MAX),
            serves_plain_content: matches!(chain.end, ChainEnd::Final)
                && !last_is_redirect
                && last.is_some_and(|hop| hop.url.starts_with("http://")),
            final_url,
            final_status: last.map(|hop| hop.status),
            end: end.to_string(),
        }
    }
}
