//! Subresource Integrity of the scripts in the landing page.
//!
//! The `<script src>` tags of the final HTTPS response's HTML sample are read with the bounded
//! tag scanner of [`super::html`]. A script is *external* when it is served from another host
//! than the page; *insecure* when it is loaded over `http:` or with a protocol-relative `//`
//! URL (as the Mozilla HTTP Observatory counts it). A sample cut at the probe's cap is flagged,
//! because scripts after the cut were not seen.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use super::html;
use crate::evidence::HttpHop;

/// Scripts kept in the facts (all are counted).
const MAX_SCRIPTS: usize = 64;
/// Characters of a `src` kept.
const MAX_SRC_CHARS: usize = 512;

/// One `<script src>` of the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScriptFacts {
    /// The `src` attribute as written (bounded).
    pub src: String,
    /// Served from another host than the page.
    pub external: bool,
    /// Loaded over HTTPS with an absolute URL, or relative to the HTTPS page.
    pub secure: bool,
    /// Carries a non-empty `integrity` attribute.
    pub integrity: bool,
}

/// Subresource Integrity of the landing page's scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SriFacts {
    /// The final response is HTML (so SRI applies).
    pub html: bool,
    /// `<script>` elements with a `src`.
    pub script_count: u32,
    /// Of those, served from another host.
    pub external_count: u32,
    /// External scripts with an `integrity` attribute.
    pub external_with_integrity_count: u32,
    /// External scripts loaded over `http:` or a protocol-relative URL.
    pub insecure_external_count: u32,
    /// Scripts (external or not) with an `integrity` attribute.
    pub integrity_count: u32,
    /// Every external script has an `integrity` attribute (true when there is none).
    pub all_external_with_integrity: bool,
    /// The HTML sample was cut at the probe's limit; later scripts were not seen.
    pub truncated: bool,
    /// The scripts, in page order (at most 64).
    pub scripts: Vec<ScriptFacts>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl SriFacts {
    /// Facts for the final HTTPS response `hop`.
    pub fn derive(hop: &HttpHop) -> Self {
        let is_html = hop
            .header_values("content-type")
            .next()
            .is_some_and(|ct| ct.to_ascii_lowercase().contains("html"));
        let (Some(text), true) = (hop.body.text.as_deref(), is_html) else {
            return Self::default();
        };
        let page = Url::parse(&hop.url).ok();
        let mut all = Vec::new();
        for tag in html::tags(text, "script") {
            let Some(src) = tag.attribute("src") else {
                continue;
            };
            let src = src.trim();
            let resolved = page.as_ref().and_then(|p| p.join(src).ok());
            let external = match (&resolved, &page) {
                (Some(url), Some(page)) => url.host_str() != page.host_str(),
                _ => true,
            };
            let secure =
                !src.starts_with("//") && resolved.as_ref().is_some_and(|u| u.scheme() == "https");
            all.push(ScriptFacts {
                src: src.chars().take(MAX_SRC_CHARS).collect(),
                external,
                secure,
                integrity: tag
                    .attribute("integrity")
                    .is_some_and(|i| !i.trim().is_empty()),
            });
        }
        let external: Vec<&ScriptFacts> = all.iter().filter(|s| s.external).collect();
        let facts = Self {
            html: true,
            script_count: count(all.len()),
            external_count: count(external.len()),
            external_with_integrity_count: count(external.iter().filter(|s| s.integrity).count()),
            insecure_external_count: count(external.iter().filter(|s| !s.secure).count()),
            integrity_count: count(all.iter().filter(|s| s.integrity).count()),
            all_external_with_integrity: external.iter().all(|s| s.integrity),
            truncated: hop.body.truncated,
            scripts: Vec::new(),
        };
        all.truncate(MAX_SCRIPTS);
        Self {
            scripts: all,
            ..facts
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{BodySample, HeaderLine};

    fn page(html: &str) -> HttpHop {
        HttpHop {
            url: "https://shop.example.test/".into(),
            peer: None,
            status: 200,
            http_version: "HTTP/1.1".into(),
            headers: vec![HeaderLine {
                name: "content-type".into(),
                value: "text/html".into(),
            }],
            certificate_error: None,
            body: BodySample {
                bytes_read: html.len() as u64,
                truncated: false,
                text: Some(html.into()),
            },
        }
    }

    #[test]
    fn classifies_scripts() {
        let facts = SriFacts::derive(&page(
            r#"<script src="/app.js"></script>
               <script src="https://cdn.example.test/lib.js" integrity="sha384-abc" crossorigin></script>
               <script src="http://cdn.example.test/old.js"></script>
               <script src="//cdn.example.test/rel.js"></script>
               <script src="https://shop.example.test/same.js" integrity="sha256-x"></script>
               <script>inline()</script>"#,
        ));
        assert!(facts.html);
        assert_eq!(facts.script_count, 5);
        assert_eq!(facts.external_count, 3);
        assert_eq!(facts.external_with_integrity_count, 1);
        assert_eq!(facts.insecure_external_count, 2);
        assert_eq!(facts.integrity_count, 2);
        assert!(!facts.all_external_with_integrity);
        assert!(facts.scripts[0].secure && !facts.scripts[0].external);
    }

    #[test]
    fn no_scripts_and_not_html() {
        let facts = SriFacts::derive(&page("<p>hello</p><script>inline()</script>"));
        assert!(facts.html && facts.script_count == 0 && facts.all_external_with_integrity);
        let mut json = page("{}");
        json.headers[0].value = "application/json".into();
        json.body.text = None;
        assert!(!SriFacts::derive(&json).html);
    }

    #[test]
    fn many_scripts_are_counted_but_few_kept() {
        let html = "<script src=https://cdn.example.test/a.js></script>".repeat(1000);
        let facts = SriFacts::derive(&page(&html));
        assert_eq!(facts.script_count, 1000);
        assert_eq!(facts.scripts.len(), MAX_SCRIPTS);
    }
}
