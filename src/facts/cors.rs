//! Cross-origin resource sharing: what the site tells a foreign origin.
//!
//! The HTTP probe requests the final HTTPS URL once more with an `Origin` under `.invalid`; a
//! site that echoes any origin in `Access-Control-Allow-Origin` together with
//! `Access-Control-Allow-Credentials: true` lets every web page read its authenticated
//! responses (the Observatory's "universal access"). Judged here, observed there.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evidence::{CorsEvidence, HttpHop};

/// Characters of a header value kept in the facts.
const MAX_VALUE_CHARS: usize = 512;

/// CORS headers of the final HTTPS response, and the answer to a foreign origin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CorsFacts {
    /// `Access-Control-Allow-Origin` of the final HTTPS response (request without `Origin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_origin: Option<String>,
    /// That value is `*`: public content, readable without credentials by any site.
    pub public: bool,
    /// The request with a foreign `Origin`; absent when it was not made or got no response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<CorsProbeFacts>,
}

/// The response to a request with a foreign `Origin`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CorsProbeFacts {
    /// The `Origin` that was sent.
    pub origin: String,
    /// `Access-Control-Allow-Origin` in the response, as received (bounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_origin: Option<String>,
    /// The response grants access to the foreign origin by echoing it.
    pub reflects_origin: bool,
    /// The response allows `*` (any origin, but without credentials).
    pub wildcard: bool,
    /// `Access-Control-Allow-Credentials: true` in the response.
    pub allow_credentials: bool,
    /// Any origin may read responses made with the user's cookies (echoed origin plus
    /// credentials).
    pub any_origin_with_credentials: bool,
}

fn header(hop: &HttpHop, name: &str) -> Option<String> {
    hop.header_values(name)
        .next()
        .map(|v| v.trim().chars().take(MAX_VALUE_CHARS).collect())
}

impl CorsFacts {
    /// Facts from the final HTTPS response and, when made, the foreign-origin request.
    pub fn derive(final_hop: &HttpHop, probe: Option<&CorsEvidence>) -> Self {
        let allow_origin = header(final_hop, "access-control-allow-origin");
        Self {
            public: allow_origin.as_deref() == Some("*"),
            allow_origin,
            probe: probe.and_then(|p| {
                let response = p.response.as_ref()?;
                let allow_origin = header(response, "access-control-allow-origin");
                let reflects_origin = allow_origin
                    .as_deref()
                    .is_some_and(|v| v.eq_ignore_ascii_case(&p.origin));
                let allow_credentials = header(response, "access-control-allow-credentials")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"));
                Some(CorsProbeFacts {
                    origin: p.origin.clone(),
                    wildcard: allow_origin.as_deref() == Some("*"),
                    allow_origin,
                    reflects_origin,
                    allow_credentials,
                    any_origin_with_credentials: reflects_origin && allow_credentials,
                })
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(headers: &[(&str, &str)]) -> HttpHop {
        HttpHop::with_headers(headers)
    }

    fn probe(headers: &[(&str, &str)]) -> CorsEvidence {
        CorsEvidence {
            origin: "https://cors-probe.secaudit.invalid".into(),
            url: "https://a.test/".into(),
            response: Some(hop(headers)),
            error: None,
        }
    }

    #[test]
    fn echoed_origin_with_credentials_is_universal_access() {
        let p = probe(&[
            (
                "access-control-allow-origin",
                "https://cors-probe.secaudit.invalid",
            ),
            ("access-control-allow-credentials", "true"),
        ]);
        let facts = CorsFacts::derive(&hop(&[]), Some(&p));
        let probe = facts.probe.unwrap();
        assert!(
            probe.reflects_origin && probe.allow_credentials && probe.any_origin_with_credentials
        );
        assert!(!facts.public && facts.allow_origin.is_none());
    }

    #[test]
    fn wildcard_and_restricted_access() {
        let facts = CorsFacts::derive(
            &hop(&[("access-control-allow-origin", "*")]),
            Some(&probe(&[("access-control-allow-origin", "*")])),
        );
        assert!(facts.public);
        let answer = facts.probe.unwrap();
        assert!(answer.wildcard && !answer.reflects_origin && !answer.any_origin_with_credentials);
        let facts = CorsFacts::derive(
            &hop(&[]),
            Some(&probe(&[
                ("access-control-allow-origin", "https://partner.test"),
                ("access-control-allow-credentials", "true"),
            ])),
        );
        assert!(!facts.probe.unwrap().any_origin_with_credentials);
    }

    #[test]
    fn no_probe_no_probe_facts() {
        assert_eq!(CorsFacts::derive(&hop(&[]), None).probe, None);
        let failed = CorsEvidence {
            response: None,
            ..probe(&[])
        };
        assert_eq!(CorsFacts::derive(&hop(&[]), Some(&failed)).probe, None);
    }
}
