//! HTTP observations: every response of a redirect chain, headers exactly as received.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ProbeError;

/// The two fetches the HTTP probe makes: `http://HOST/` and `https://HOST/`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpEvidence {
    /// The chain starting at the plain-HTTP URL.
    pub plain: Option<FetchChain>,
    /// The chain starting at the HTTPS URL.
    pub secure: Option<FetchChain>,
    /// The final HTTPS URL requested once more with a foreign `Origin` header, to see whether
    /// the site grants cross-origin access to any origin; absent when the probe did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<CorsEvidence>,
    /// The final HTTPS URL requested once more offering compressed responses, to see whether the
    /// site compresses them (a BREACH precondition); absent when the probe did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<CompressionEvidence>,
}

/// One request with `Accept-Encoding` offering compression, and what came back (body not kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompressionEvidence {
    /// The `Accept-Encoding` header sent.
    pub accept_encoding: String,
    /// The URL requested.
    pub url: String,
    /// The response (its body is not kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<HttpHop>,
    /// Why no response arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProbeError>,
}

/// One request with a foreign `Origin` header and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorsEvidence {
    /// The `Origin` header sent (a name under the reserved `.invalid` top-level domain).
    pub origin: String,
    /// The URL requested.
    pub url: String,
    /// The response (its body is not kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<HttpHop>,
    /// Why no response arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProbeError>,
}

/// A redirect chain followed hop by hop, with how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FetchChain {
    /// The URL of the first request.
    pub start_url: String,
    /// Every response received, in order.
    pub hops: Vec<HttpHop>,
    /// How following the chain stopped.
    pub end: ChainEnd,
}

/// How a redirect chain ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChainEnd {
    /// The last response was not a redirect.
    Final,
    /// The hop limit was reached while responses kept redirecting.
    TooManyRedirects {
        /// The limit that was applied.
        limit: u32,
    },
    /// A redirect status came without a usable `Location` header.
    BadLocation {
        /// The raw `Location` value, if any.
        location: Option<String>,
    },
    /// A request failed before a response arrived.
    Failed {
        /// The URL whose request failed.
        url: String,
        /// Why.
        error: ProbeError,
    },
}

/// One request and its response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpHop {
    /// The URL requested.
    pub url: String,
    /// The socket address connected to, when known.
    pub peer: Option<String>,
    /// HTTP status code.
    pub status: u16,
    /// Protocol version of the response (`HTTP/1.1`, …).
    pub http_version: String,
    /// Header lines in the order received (names lower-cased by the HTTP stack), values verbatim.
    pub headers: Vec<HeaderLine>,
    /// The certificate problem seen on this HTTPS hop; the response was then fetched without
    /// certificate verification so the rest of the site could still be observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_error: Option<String>,
    /// The start of the body.
    pub body: BodySample,
}

impl HttpHop {
    /// Values of every header line with this (lower-case) name, in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |line| line.name.eq_ignore_ascii_case(name))
            .map(|line| line.value.as_str())
    }

    /// Whether this response is a redirect (3xx with a meaning of "go elsewhere").
    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }
}

/// One header line. Values that were not valid UTF-8 are kept with replacement characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeaderLine {
    /// Header name, lower-case.
    pub name: String,
    /// Header value as received.
    pub value: String,
}

/// The bounded start of a response body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BodySample {
    /// Bytes read (at most the probe's body cap).
    pub bytes_read: u64,
    /// Whether the body was longer than the cap and reading stopped.
    pub truncated: bool,
    /// The first bytes of an HTML or text body, lossily decoded; absent for other types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[cfg(test)]
impl HttpHop {
    /// A 200 response of `https://a.test/` with `headers` and no body, for tests of the header
    /// facts.
    pub(crate) fn with_headers(headers: &[(&str, &str)]) -> Self {
        Self {
            url: "https://a.test/".into(),
            peer: None,
            status: 200,
            http_version: "HTTP/1.1".into(),
            headers: headers
                .iter()
                .map(|(n, v)| HeaderLine {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            certificate_error: None,
            body: BodySample::default(),
        }
    }
}
