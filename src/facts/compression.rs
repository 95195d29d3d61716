//! HTTP compression of the final HTTPS page, from a request that offers compressed encodings —
//! the precondition of BREACH (a compressed response that carries a secret next to
//! attacker-controlled input leaks the secret through its length).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evidence::CompressionEvidence;

/// Whether the final HTTPS page is served compressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CompressionFacts {
    /// The `Accept-Encoding` offered.
    pub accept_encoding: String,
    /// The `Content-Encoding` of the answer, lower-cased (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// The answer is compressed (gzip, deflate, br, zstd or compress).
    pub compressed: bool,
    /// The compressed answer sets a cookie (a secret BREACH could target).
    pub sets_cookie: bool,
}

/// Encodings that compress.
const COMPRESSING: [&str; 6] = ["gzip", "x-gzip", "deflate", "br", "zstd", "compress"];

impl CompressionFacts {
    /// Facts from the compression request; `Err` with the reason when it got no answer.
    pub fn derive(evidence: &CompressionEvidence) -> Result<Self, String> {
        let Some(response) = &evidence.response else {
            return Err(evidence.error.as_ref().map_or_else(
                || "the compression request got no answer".to_string(),
                |e| format!("the compression request failed: {e}"),
            ));
        };
        let content_encoding = response
            .header_values("content-encoding")
            .next()
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty() && v != "identity");
        let compressed = content_encoding.as_deref().is_some_and(|encoding| {
            encoding
                .split(',')
                .any(|token| COMPRESSING.contains(&token.trim()))
        });
        Ok(Self {
            accept_encoding: evidence.accept_encoding.clone(),
            content_encoding,
            compressed,
            sets_cookie: response.header_values("set-cookie").next().is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::HttpHop;

    fn evidence(headers: &[(&str, &str)]) -> CompressionEvidence {
        CompressionEvidence {
            accept_encoding: "gzip, deflate, br, zstd".into(),
            url: "https://a.test/".into(),
            response: Some(HttpHop::with_headers(headers)),
            error: None,
        }
    }

    #[test]
    fn compressed_answers_and_cookies() {
        let plain = CompressionFacts::derive(&evidence(&[])).unwrap();
        assert!(!plain.compressed && plain.content_encoding.is_none());
        let gzip = CompressionFacts::derive(&evidence(&[
            ("Content-Encoding", "GZIP"),
            ("set-cookie", "s=1"),
        ]))
        .unwrap();
        assert!(gzip.compressed && gzip.sets_cookie);
        assert_eq!(gzip.content_encoding.as_deref(), Some("gzip"));
        let identity =
            CompressionFacts::derive(&evidence(&[("content-encoding", "identity")])).unwrap();
        assert!(!identity.compressed);
        let odd =
            CompressionFacts::derive(&evidence(&[("content-encoding", "\u{1b}[2J")])).unwrap();
        assert!(!odd.compressed);
        let failed = CompressionEvidence {
            response: None,
            ..evidence(&[])
        };
        assert!(CompressionFacts::derive(&failed).is_err());
    }
}
