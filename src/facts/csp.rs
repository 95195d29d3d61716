//! Content-Security-Policy analysis: which directive allows what, judged as a browser would.
//!
//! Policies are parsed strictly by hand, following "parse a serialized CSP" of CSP Level 3
//! (section 2.2.1): a header holds a comma-separated list of policies, a policy a
//! semicolon-separated list of directives, the first occurrence of a directive wins, names are
//! case-insensitive. Source expressions are checked against the source-expression grammar; an
//! invalid one is reported in `syntax_errors` (browsers ignore it).
//!
//! The judgements follow the specification's matching algorithms, not a text search, so the
//! well-known false positives of header graders do not happen here:
//!
//! - `'unsafe-inline'` is ignored when the same list carries a nonce or a hash (CSP3 §8.2 "Does a
//!   source list allow all inline behavior"), and for scripts also when it carries
//!   `'strict-dynamic'`;
//! - `'strict-dynamic'` makes host, scheme and `'self'` sources of a script list ignored;
//! - `script-src-elem` / `script-src-attr` (and the `style-` pair) override `script-src` for
//!   elements and attributes, with the fallback chain of CSP3 §6.8.3;
//! - several enforced policies are intersected: something is allowed only if every policy
//!   allows it, and a restriction holds if any policy imposes it.
//!
//! Everything is bounded: at most [`MAX_POLICY_BYTES`] of each header or meta value, at most
//! [`MAX_POLICIES`] policies, [`MAX_DIRECTIVES`] directives per policy and [`MAX_SOURCES`]
//! sources per directive are read; whatever lies beyond is counted in `truncated`. This module
//! never looks at the network and never fails: odd input becomes a finding.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Bytes of one header (or meta) value that are parsed.
pub const MAX_POLICY_BYTES: usize = 64 * 1024;
/// Policies read from all headers and meta tags together.
pub const MAX_POLICIES: usize = 16;
/// Directives read per policy.
pub const MAX_DIRECTIVES: usize = 128;
/// Sources read per directive.
pub const MAX_SOURCES: usize = 256;
/// Findings kept per list (`syntax_errors`, `unknown_directives`, `insecure_sources`).
pub const MAX_FINDINGS: usize = 32;
/// Bytes of one source expression kept in the facts (longer ones are cut with `…`).
const MAX_SOURCE_CHARS: usize = 256;

/// Directives defined by CSP Level 3 and its companion specifications (and a few retired ones
/// that browsers still recognise); anything else is reported in `unknown_directives`.
const KNOWN_DIRECTIVES: [&str; 32] = [
    "base-uri",
    "block-all-mixed-content",
    "child-src",
    "connect-src",
    "default-src",
    "fenced-frame-src",
    "font-src",
    "form-action",
    "frame-ancestors",
    "frame-src",
    "img-src",
    "manifest-src",
    "media-src",
    "navigate-to",
    "object-src",
    "plugin-types",
    "prefetch-src",
    "report-to",
    "report-uri",
    "require-sri-for",
    "require-trusted-types-for",
    "sandbox",
    "script-src",
    "script-src-attr",
    "script-src-elem",
    "style-src",
    "style-src-attr",
    "style-src-elem",
    "trusted-types",
    "upgrade-insecure-requests",
    "webrtc",
    "worker-src",
];

/// Directives whose value is not a source list.
const NON_SOURCE_DIRECTIVES: [&str; 10] = [
    "block-all-mixed-content",
    "plugin-types",
    "report-to",
    "report-uri",
    "require-sri-for",
    "require-trusted-types-for",
    "sandbox",
    "trusted-types",
    "upgrade-insecure-requests",
    "webrtc",
];

/// Directives a `<meta>` policy may not carry (CSP3 §3.3): they are ignored there.
const META_IGNORED: [&str; 3] = ["frame-ancestors", "report-uri", "sandbox"];

/// Keyword sources of the grammar (without quotes).
const KEYWORDS: [&str; 10] = [
    "self",
    "none",
    "unsafe-inline",
    "unsafe-eval",
    "strict-dynamic",
    "unsafe-hashes",
    "report-sample",
    "unsafe-allow-redirects",
    "wasm-unsafe-eval",
    "inline-speculation-rules",
];

/// Sources that allow (nearly) any origin: the wildcard and the bare network schemes, as the
/// Mozilla HTTP Observatory counts them ("dangerously broad").
const BROAD: [&str; 8] = [
    "*",
    "http:",
    "https:",
    "ftp:",
    "http://*",
    "https://*",
    "http://*.*",
    "https://*.*",
];

/// How a policy reached the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CspDelivery {
    /// A `Content-Security-Policy` response header.
    Header,
    /// A `<meta http-equiv="Content-Security-Policy">` element of the HTML body.
    Meta,
}

/// One directive of one enforced policy, as written (name lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CspDirectiveFacts {
    /// Index of the policy (0 = first enforced policy) in `http.csp.policies`.
    pub policy: u32,
    /// Directive name, lower-case.
    pub name: String,
    /// Source expressions (keywords keep their quotes; keywords, schemes and hosts lower-cased).
    pub sources: Vec<String>,
}

/// The analysis of one enforced policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CspPolicyFacts {
    /// `header` or `meta`.
    pub delivery: CspDelivery,
    /// Number of directives recognised in this policy.
    pub directive_count: u32,
    /// Inline scripts (elements or event-handler attributes) may run.
    pub unsafe_inline: bool,
    /// `eval()` and friends may run.
    pub unsafe_eval: bool,
    /// Effective script sources include `*`, a bare scheme (`https:`, `http:`, `ftp:`) or `data:`.
    pub script_wildcard: bool,
    /// Plugins (`object-src`, else `default-src`) are unrestricted or allow a broad source.
    pub object_unrestricted: bool,
    /// Styles may come from `'unsafe-inline'`, `data:` or a broad source (or are unrestricted).
    pub style_unsafe: bool,
    /// `'strict-dynamic'` is in effect for scripts, backed by a nonce or hash.
    pub strict_dynamic: bool,
    /// `'strict-dynamic'` is used without a nonce or hash, so no script can load at all.
    pub strict_dynamic_without_nonce: bool,
    /// `default-src 'none'` alone.
    pub default_src_none: bool,
}

/// What the Content-Security-Policy of the final HTTPS response allows.
///
/// The judgements (`unsafe_inline`, `object_src_none`, …) describe enforced policies; when none
/// is enforced they are all `false`, so rules test `enforced` first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CspFacts {
    /// A `Content-Security-Policy` header was sent.
    pub present: bool,
    /// Number of `Content-Security-Policy` header lines.
    pub count: u32,
    /// The header values as received, joined with `, `.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// The trimmed, lower-cased header value (kept for rules written against plain headers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The HTML body carries a `<meta http-equiv="Content-Security-Policy">` policy.
    pub meta: bool,
    /// The meta policies' `content`, joined with `, ` (bounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_raw: Option<String>,
    /// At least one policy with a recognised directive is enforced (header or meta).
    pub enforced: bool,
    /// A `Content-Security-Policy-Report-Only` header was sent (it enforces nothing).
    pub report_only: bool,
    /// Number of enforced policies (header policies and meta policies).
    pub policy_count: u32,
    /// Every enforced policy, analysed on its own.
    pub policies: Vec<CspPolicyFacts>,
    /// Every directive of every enforced policy.
    pub directives: Vec<CspDirectiveFacts>,
    /// Number of recognised directives across all enforced policies.
    pub directive_count: u32,
    /// Effective script sources (`script-src`, else `default-src`) of the first enforced policy
    /// that restricts scripts; absent when no policy restricts scripts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_sources: Option<Vec<String>>,
    /// Effective plugin sources (`object-src`, else `default-src`) of the first policy that
    /// restricts them; absent when unrestricted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_sources: Option<Vec<String>>,
    /// Effective style sources (`style-src`, else `default-src`); absent when unrestricted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style_sources: Option<Vec<String>>,
    /// Inline scripts may run under every enforced policy (`'unsafe-inline'` without nonce,
    /// hash or `'strict-dynamic'`, in `script-src`/`-elem`/`-attr`, or scripts unrestricted).
    pub unsafe_inline: bool,
    /// `eval()` may run under every enforced policy (`'unsafe-eval'`, or scripts unrestricted).
    pub unsafe_eval: bool,
    /// A script list uses `'unsafe-hashes'` (inline event handlers allowed by hash).
    pub unsafe_hashes: bool,
    /// Every enforced policy lets scripts load from `*`, a bare scheme or `data:`.
    pub script_wildcard: bool,
    /// Every enforced policy leaves plugins unrestricted or allows a broad source.
    pub object_unrestricted: bool,
    /// Some enforced policy restricts plugins to `'none'` (`object-src`, else `default-src`).
    pub object_src_none: bool,
    /// No enforced policy has `object-src` or `default-src`.
    pub object_src_missing: bool,
    /// Every enforced policy lets styles use `'unsafe-inline'`, `data:` or a broad source.
    pub style_unsafe: bool,
    /// Some policy uses `'strict-dynamic'` backed by a nonce or hash.
    pub strict_dynamic: bool,
    /// Some policy uses `'strict-dynamic'` without any nonce or hash.
    pub strict_dynamic_without_nonce: bool,
    /// Some enforced policy is `default-src 'none'`.
    pub default_src_none: bool,
    /// Shortest nonce, in characters of its base64 value; absent when no nonce is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce_min_length: Option<u32>,
    /// `base-uri` sources of the first policy that sets it; absent when none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_uri: Option<Vec<String>>,
    /// Some policy sets `base-uri` without a broad source.
    pub base_uri_restricted: bool,
    /// `frame-ancestors` sources of the first header policy that sets it (meta ignores it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_ancestors: Option<Vec<String>>,
    /// Some header policy sets `frame-ancestors` without a broad source (clickjacking protection).
    pub frame_ancestors_restricted: bool,
    /// `form-action` sources of the first policy that sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_action: Option<Vec<String>>,
    /// Some policy sets `form-action` without a broad source.
    pub form_action_restricted: bool,
    /// On an HTTPS page, `http:`/`ftp:` sources allowed for scripts, styles, frames, fetches and
    /// the like (mixed active content).
    pub insecure_active: bool,
    /// On an HTTPS page, `http:`/`ftp:` sources allowed for images or media only.
    pub insecure_passive: bool,
    /// The `http:`/`ftp:` sources found, as written.
    pub insecure_sources: Vec<String>,
    /// Problems browsers ignore silently: invalid source expressions, keywords without quotes,
    /// `'none'` mixed with sources, duplicate directives, meta-only restrictions.
    pub syntax_errors: Vec<String>,
    /// Directive names no specification defines (ignored by browsers).
    pub unknown_directives: Vec<String>,
    /// Input beyond the parser's bounds was skipped.
    pub truncated: bool,
}

/// A parsed policy, before judgement.
#[derive(Debug, Clone)]
struct Policy {
    delivery: CspDelivery,
    /// Directives in order, first occurrence only.
    directives: Vec<(String, Vec<String>)>,
}

impl Policy {
    fn get(&self, name: &str) -> Option<&[String]> {
        self.directives
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, sources)| sources.as_slice())
    }

    /// The first directive of `chain` the policy has (CSP3 §6.8.3 fallback lists).
    fn effective(&self, chain: &[&str]) -> Option<&[String]> {
        chain.iter().find_map(|name| self.get(name))
    }
}

const SCRIPT_ELEM: [&str; 3] = ["script-src-elem", "script-src", "default-src"];
const SCRIPT_ATTR: [&str; 3] = ["script-src-attr", "script-src", "default-src"];
const SCRIPT: [&str; 2] = ["script-src", "default-src"];
const STYLE_ELEM: [&str; 3] = ["style-src-elem", "style-src", "default-src"];
const STYLE_ATTR: [&str; 3] = ["style-src-attr", "style-src", "default-src"];
const STYLE: [&str; 2] = ["style-src", "default-src"];
const OBJECT: [&str; 2] = ["object-src", "default-src"];
const PASSIVE: [&str; 2] = ["img-src", "media-src"];

/// Collects findings with a cap.
#[derive(Default)]
struct Findings {
    syntax_errors: Vec<String>,
    unknown: Vec<String>,
    truncated: bool,
}

impl Findings {
    fn error(&mut self, message: String) {
        if self.syntax_errors.len() < MAX_FINDINGS {
            self.syntax_errors.push(message);
        } else {
            self.truncated = true;
        }
    }

    fn unknown(&mut self, name: &str) {
        if self.unknown.iter().any(|n| n == name) {
            return;
        }
        if self.unknown.len() < MAX_FINDINGS {
            self.unknown.push(shorten(name));
        } else {
            self.truncated = true;
        }
    }
}

/// The input to [`CspFacts::analyse`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CspInput<'a> {
    /// Every `Content-Security-Policy` header value, in order.
    pub headers: &'a [&'a str],
    /// The `content` of every `<meta http-equiv="Content-Security-Policy">`, in order.
    pub meta: &'a [&'a str],
    /// A `Content-Security-Policy-Report-Only` header was sent.
    pub report_only: bool,
    /// The page was served over HTTPS (so `http:` sources are mixed content).
    pub https: bool,
}

impl CspFacts {
    /// Analyses the policies of one response.
    pub fn analyse(input: CspInput<'_>) -> Self {
        let mut findings = Findings::default();
        let mut policies = Vec::new();
        for (delivery, values) in [
            (CspDelivery::Header, input.headers),
            (CspDelivery::Meta, input.meta),
        ] {
            for value in values {
                parse_list(value, delivery, &mut policies, &mut findings);
            }
        }
        let raw = (!input.headers.is_empty()).then(|| input.headers.join(", "));
        let meta_raw = (!input.meta.is_empty()).then(|| bounded(&input.meta.join(", ")).0);
        let mut facts = Self {
            present: !input.headers.is_empty(),
            count: u32::try_from(input.headers.len()).unwrap_or(u32::MAX),
            value: raw.as_deref().map(|r| r.trim().to_ascii_lowercase()),
            raw,
            meta: !input.meta.is_empty(),
            meta_raw,
            report_only: input.report_only,
            ..Self::default()
        };
        // A policy without a single recognised directive enforces nothing.
        policies.retain(|p: &Policy| !p.directives.is_empty());
        facts.enforced = !policies.is_empty();
        facts.policy_count = u32::try_from(policies.len()).unwrap_or(u32::MAX);
        facts.judge(&policies, input.https, &mut findings);
        facts.syntax_errors = findings.syntax_errors;
        facts.unknown_directives = findings.unknown;
        facts.truncated = findings.truncated;
        facts
    }

    fn judge(&mut self, policies: &[Policy], https: bool, findings: &mut Findings) {
        if policies.is_empty() {
            return;
        }
        let all = |f: &dyn Fn(&Policy) -> bool| policies.iter().all(f);
        self.unsafe_inline = all(&|p| script_inline_allowed(p));
        self.unsafe_eval = all(&|p| script_eval_allowed(p));
        self.script_wildcard = all(&|p| script_broad(p));
        self.object_unrestricted = all(&|p| object_unrestricted(p));
        self.style_unsafe = all(&|p| style_unsafe(p));
        let any = |f: &dyn Fn(&Policy) -> bool| policies.iter().any(f);
        self.unsafe_hashes = any(&|p| {
            [&SCRIPT_ELEM[..], &SCRIPT_ATTR[..]]
                .iter()
                .filter_map(|chain| p.effective(chain))
                .any(|list| has(list, "'unsafe-hashes'"))
        });
        self.object_src_none = any(&|p| p.effective(&OBJECT).is_some_and(is_none_list));
        self.object_src_missing = !any(&|p| p.effective(&OBJECT).is_some());
        self.strict_dynamic = any(&|p| strict_dynamic(p) == Some(true));
        self.strict_dynamic_without_nonce = any(&|p| strict_dynamic(p) == Some(false));
        self.default_src_none = any(&|p| p.get("default-src").is_some_and(is_none_list));
        let first = |chain: &[&str]| {
            policies
                .iter()
                .find_map(|p| p.effective(chain))
                .map(<[String]>::to_vec)
        };
        self.script_sources = first(&SCRIPT);
        self.object_sources = first(&OBJECT);
        self.style_sources = first(&STYLE);
        self.base_uri = first(&["base-uri"]);
        self.base_uri_restricted = any(&|p| p.get("base-uri").is_some_and(|l| !broad(l)));
        self.form_action = first(&["form-action"]);
        self.form_action_restricted = any(&|p| p.get("form-action").is_some_and(|l| !broad(l)));
        let headers = || {
            policies
                .iter()
                .filter(|p| p.delivery == CspDelivery::Header)
        };
        self.frame_ancestors = headers()
            .find_map(|p| p.get("frame-ancestors"))
            .map(<[String]>::to_vec);
        self.frame_ancestors_restricted =
            headers().any(|p| p.get("frame-ancestors").is_some_and(|l| !broad(l)));
        self.nonce_min_length = policies
            .iter()
            .flat_map(|p| p.directives.iter())
            .flat_map(|(_, sources)| sources.iter())
            .filter_map(|s| nonce_value(s))
            .map(|n| u32::try_from(n.len()).unwrap_or(u32::MAX))
            .min();
        for (index, policy) in policies.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            for (name, sources) in &policy.directives {
                self.directives.push(CspDirectiveFacts {
                    policy: index,
                    name: name.clone(),
                    sources: sources.clone(),
                });
                if !https || NON_SOURCE_DIRECTIVES.contains(&name.as_str()) {
                    continue;
                }
                // With 'strict-dynamic' backed by a nonce or hash, scheme and host sources of a
                // script list are ignored (CSP3 §8.3), so they load nothing, insecure or not.
                if matches!(name.as_str(), "script-src" | "script-src-elem")
                    && has(sources, "'strict-dynamic'")
                    && sources.iter().any(|s| is_nonce_or_hash(s))
                {
                    continue;
                }
                for source in sources.iter().filter(|s| insecure_scheme(s)) {
                    if PASSIVE.contains(&name.as_str()) {
                        self.insecure_passive = true;
                    } else {
                        self.insecure_active = true;
                    }
                    if self.insecure_sources.len() < MAX_FINDINGS {
                        if !self.insecure_sources.contains(source) {
                            self.insecure_sources.push(source.clone());
                        }
                    } else {
                        findings.truncated = true;
                    }
                }
            }
            self.policies.push(CspPolicyFacts {
                delivery: policy.delivery,
                directive_count: u32::try_from(policy.directives.len()).unwrap_or(u32::MAX),
                unsafe_inline: script_inline_allowed(policy),
                unsafe_eval: script_eval_allowed(policy),
                script_wildcard: script_broad(policy),
                object_unrestricted: object_unrestricted(policy),
                style_unsafe: style_unsafe(policy),
                strict_dynamic: strict_dynamic(policy) == Some(true),
                strict_dynamic_without_nonce: strict_dynamic(policy) == Some(false),
                default_src_none: policy.get("default-src").is_some_and(is_none_list),
            });
        }
        self.directive_count = u32::try_from(self.directives.len()).unwrap_or(u32::MAX);
    }
}

/// Cuts a string to [`MAX_POLICY_BYTES`] on a character boundary.
fn bounded(value: &str) -> (String, bool) {
    if value.len() <= MAX_POLICY_BYTES {
        return (value.to_string(), false);
    }
    let mut end = MAX_POLICY_BYTES;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    (value[..end].to_string(), true)
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_SOURCE_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_SOURCE_CHARS).collect();
    cut.push('…');
    cut
}

fn is_ascii_ws(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')
}

/// Parses one header (or meta) value: a comma-separated list of policies.
fn parse_list(
    value: &str,
    delivery: CspDelivery,
    policies: &mut Vec<Policy>,
    findings: &mut Findings,
) {
    let (value, cut) = bounded(value);
    if cut {
        findings.truncated = true;
        findings.error(format!(
            "policy longer than {MAX_POLICY_BYTES} bytes; the rest was not read"
        ));
    }
    for serialized in value.split(',') {
        if serialized.trim_matches(is_ascii_ws).is_empty() {
            continue;
        }
        if policies.len() >= MAX_POLICIES {
            findings.truncated = true;
            return;
        }
        policies.push(parse_policy(serialized, delivery, findings));
    }
}

/// "Parse a serialized CSP" (CSP3 §2.2.1), with the grammar checks browsers skip silently.
fn parse_policy(serialized: &str, delivery: CspDelivery, findings: &mut Findings) -> Policy {
    let mut policy = Policy {
        delivery,
        directives: Vec::new(),
    };
    for token in serialized.split(';') {
        let token = token.trim_matches(is_ascii_ws);
        if token.is_empty() {
            continue;
        }
        if policy.directives.len() >= MAX_DIRECTIVES {
            findings.truncated = true;
            break;
        }
        let (name, rest) = token
            .split_once(is_ascii_ws)
            .map_or((token, ""), |(n, r)| (n, r));
        let name = name.to_ascii_lowercase();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            findings.error(format!(
                "`{}` is not a directive name; the directive is ignored",
                shorten(&name).escape_debug()
            ));
            continue;
        }
        if !KNOWN_DIRECTIVES.contains(&name.as_str()) {
            findings.unknown(&name);
            continue;
        }
        if policy.directives.iter().any(|(n, _)| *n == name) {
            findings.error(format!(
                "directive `{name}` repeated; browsers use the first one only"
            ));
            continue;
        }
        if delivery == CspDelivery::Meta && META_IGNORED.contains(&name.as_str()) {
            findings.error(format!("`{name}` is ignored in a <meta> policy"));
            continue;
        }
        let mut sources = Vec::new();
        let mut invalid_value = false;
        for raw in rest.split(is_ascii_ws).filter(|s| !s.is_empty()) {
            if sources.len() >= MAX_SOURCES {
                findings.truncated = true;
                break;
            }
            // directive-value = *( required-ascii-whitespace / ( %x21-%x2B / %x2D-%x3A / %x3C-%x7E ) )
            if !raw
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b',' && b != b';')
            {
                invalid_value = true;
                continue;
            }
            if NON_SOURCE_DIRECTIVES.contains(&name.as_str()) {
                sources.push(shorten(raw));
                continue;
            }
            match classify_source(raw) {
                Ok(source) => sources.push(source),
                Err(problem) => findings.error(format!("{name}: {problem}")),
            }
        }
        if invalid_value {
            findings.error(format!(
                "{name}: value contains control or non-ASCII characters; those sources are ignored"
            ));
        }
        if !NON_SOURCE_DIRECTIVES.contains(&name.as_str())
            && sources.iter().any(|s| s == "'none'")
            && sources.len() > 1
        {
            findings.error(format!(
                "{name}: 'none' is combined with other sources, so it is ignored"
            ));
            sources.retain(|s| s != "'none'");
        }
        policy.directives.push((name, sources));
    }
    policy
}

/// Validates one source expression and returns its normalised form.
fn classify_source(raw: &str) -> Result<String, String> {
    let shown = shorten(raw);
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        let lower = inner.to_ascii_lowercase();
        if KEYWORDS.contains(&lower.as_str()) {
            return Ok(format!("'{lower}'"));
        }
        if let Some(value) = lower
            .strip_prefix("nonce-")
            .map(|_| &inner["nonce-".len()..])
        {
            return if is_base64_value(value) {
                Ok(format!("'nonce-{value}'"))
            } else {
                Err(format!("`{shown}` is not a valid nonce (base64 expected)"))
            };
        }
        for algorithm in ["sha256-", "sha384-", "sha512-"] {
            if lower.starts_with(algorithm) {
                let value = &inner[algorithm.len()..];
                return if is_base64_value(value) {
                    Ok(format!("'{algorithm}{value}'"))
                } else {
                    Err(format!("`{shown}` is not a valid hash (base64 expected)"))
                };
            }
        }
        return Err(format!("`{shown}` is not a known keyword, nonce or hash"));
    }
    let lower = raw.to_ascii_lowercase();
    if KEYWORDS.contains(&lower.as_str())
        || lower.starts_with("nonce-")
        || lower.starts_with("sha256-")
    {
        return Err(format!(
            "`{shown}` looks like a keyword without its single quotes, so it is read as a host name"
        ));
    }
    if lower == "*" {
        return Ok(lower);
    }
    // scheme-source = scheme ":"
    if let Some(scheme) = lower.strip_suffix(':')
        && is_scheme(scheme)
    {
        return Ok(lower);
    }
    if is_host_source(&lower) {
        return Ok(shorten(&lower));
    }
    Err(format!("`{shown}` is not a valid source expression"))
}

fn is_base64_value(value: &str) -> bool {
    let body = value.trim_end_matches('=');
    !body.is_empty()
        && value.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
}

fn is_scheme(scheme: &str) -> bool {
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// `host-source = [ scheme-part "://" ] host-part [ ":" port-part ] [ path-part ]`.
fn is_host_source(source: &str) -> bool {
    let rest = match source.split_once("://") {
        Some((scheme, rest)) if is_scheme(scheme) => rest,
        Some(_) => return false,
        None => source,
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if path.bytes().any(|b| matches!(b, b'?' | b'#')) {
        return false;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if let Some(port) = port
        && !(port == "*" || (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())))
    {
        return false;
    }
    let host = host.strip_prefix("*.").unwrap_or(host);
    host == "*"
        || (!host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }))
}

fn has(list: &[String], source: &str) -> bool {
    list.iter().any(|s| s == source)
}

fn is_none_list(list: &[String]) -> bool {
    list.is_empty() || (list.len() == 1 && list[0] == "'none'")
}

fn nonce_value(source: &str) -> Option<&str> {
    source.strip_prefix("'nonce-")?.strip_suffix('\'')
}

fn is_nonce_or_hash(source: &str) -> bool {
    ["'nonce-", "'sha256-", "'sha384-", "'sha512-"]
        .iter()
        .any(|p| source.starts_with(p))
}

fn broad(list: &[String]) -> bool {
    list.iter().any(|s| BROAD.contains(&s.as_str()))
}

fn insecure_scheme(source: &str) -> bool {
    source.starts_with("http:") || source.starts_with("ftp:")
}

/// CSP3 "Does a source list allow all inline behavior for type": `'unsafe-inline'` counts only
/// without nonce/hash, and for scripts only without `'strict-dynamic'`. A missing list allows all.
fn inline_allowed(list: Option<&[String]>, script: bool) -> bool {
    let Some(list) = list else { return true };
    has(list, "'unsafe-inline'")
        && !list.iter().any(|s| is_nonce_or_hash(s))
        && !(script && has(list, "'strict-dynamic'"))
}

fn script_inline_allowed(policy: &Policy) -> bool {
    inline_allowed(policy.effective(&SCRIPT_ELEM), true)
        || inline_allowed(policy.effective(&SCRIPT_ATTR), true)
}

fn script_eval_allowed(policy: &Policy) -> bool {
    policy
        .effective(&SCRIPT)
        .is_none_or(|list| has(list, "'unsafe-eval'"))
}

/// Broad or `data:` sources in the effective script list; with `'strict-dynamic'` and a
/// nonce/hash, host and scheme sources are ignored, so nothing broad remains.
fn script_broad(policy: &Policy) -> bool {
    [&SCRIPT_ELEM[..], &SCRIPT[..]]
        .iter()
        .any(|chain| match policy.effective(chain) {
            None => true,
            Some(list) if has(list, "'strict-dynamic'") => false,
            Some(list) => broad(list) || has(list, "data:"),
        })
}

fn object_unrestricted(policy: &Policy) -> bool {
    policy.effective(&OBJECT).is_none_or(broad)
}

fn style_unsafe(policy: &Policy) -> bool {
    [&STYLE_ELEM[..], &STYLE_ATTR[..], &STYLE[..]]
        .iter()
        .any(|chain| match policy.effective(chain) {
            None => true,
            Some(list) => inline_allowed(Some(list), false) || broad(list) || has(list, "data:"),
        })
}

/// `Some(true)`: `'strict-dynamic'` with a nonce/hash; `Some(false)`: without; `None`: unused.
fn strict_dynamic(policy: &Policy) -> Option<bool> {
    let lists: Vec<&[String]> = [&SCRIPT_ELEM[..], &SCRIPT[..]]
        .iter()
        .filter_map(|chain| policy.effective(chain))
        .filter(|list| has(list, "'strict-dynamic'"))
        .collect();
    if lists.is_empty() {
        return None;
    }
    Some(
        lists
            .iter()
            .all(|list| list.iter().any(|s| is_nonce_or_hash(s))),
    )
}

/// Finds `<meta http-equiv="Content-Security-Policy" content="…">` in an HTML sample.
///
/// The scan is bounded by the sample (the probe keeps at most 64 KiB of text) and by
/// [`MAX_POLICIES`] tags; it is a tolerant tag scanner, not an HTML parser: attributes may be
/// quoted with `"` or `'` or unquoted, names are case-insensitive, entities `&quot;`, `&#39;`,
/// `&apos;` and `&amp;` are decoded.
pub fn meta_policies(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for tag in crate::facts::html::tags(html, "meta").take(MAX_POLICIES * 4) {
        let equiv = tag.attribute("http-equiv");
        if equiv.is_some_and(|e| e.trim().eq_ignore_ascii_case("content-security-policy"))
            && let Some(content) = tag.attribute("content")
        {
            found.push(content);
            if found.len() >= MAX_POLICIES {
                break;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests;
