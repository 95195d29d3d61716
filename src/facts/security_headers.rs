//! Security headers judged on their values, not their presence.
//!
//! Each header of the final HTTPS response gets its raw and normalised value (as
//! [`HeaderFacts`](super::HeaderFacts) does) plus a `status` from a small, documented vocabulary
//! that says what a browser makes of it: Referrer-Policy `safe`/`unsafe`/`invalid`,
//! X-Frame-Options `deny`/`sameorigin`/`allow_from`/`invalid`, and so on. An absent header has no
//! status. Parsing follows the header's specification (Referrer Policy §8.1, HTML's
//! X-Frame-Options processing, Fetch's `nosniff`, RFC 8941 structured fields for
//! Permissions-Policy and the cross-origin policies); every value is bounded and nothing panics.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evidence::HttpHop;

/// Bytes of a header value that are judged (the raw value is kept in full by the evidence).
const MAX_VALUE_BYTES: usize = 16 * 1024;
/// Permissions-Policy features read.
const MAX_FEATURES: usize = 128;
/// Origins kept per Permissions-Policy feature.
const MAX_ALLOWLIST: usize = 32;
/// Problems kept per header.
const MAX_ERRORS: usize = 16;

/// A security header with a judged status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JudgedHeader<S> {
    /// The header was sent.
    pub present: bool,
    /// Number of header lines with this name.
    pub count: u32,
    /// The value browsers act on, lower-case (for Referrer-Policy the last recognised token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// All values as received, joined with `, `.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// What the value means; absent when the header was not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<S>,
}

impl<S> Default for JudgedHeader<S> {
    fn default() -> Self {
        Self {
            present: false,
            count: 0,
            value: None,
            raw: None,
            status: None,
        }
    }
}

/// Referrer-Policy: how much of the URL leaks to other sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferrerStatus {
    /// `no-referrer`, `same-origin`, `strict-origin` or `strict-origin-when-cross-origin`.
    Safe,
    /// `unsafe-url`, `origin`, `origin-when-cross-origin` or `no-referrer-when-downgrade`
    /// (full URLs or origins leak cross-site).
    Unsafe,
    /// No token is a referrer policy, so browsers ignore the header.
    Invalid,
}

/// X-Frame-Options as browsers process it (HTML, "the X-Frame-Options header").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FrameOptionsStatus {
    /// `DENY`.
    Deny,
    /// `SAMEORIGIN`.
    Sameorigin,
    /// `ALLOW-FROM uri`: obsolete, ignored by current browsers (use CSP frame-ancestors).
    AllowFrom,
    /// Anything else (including conflicting values): ignored by browsers.
    Invalid,
}

/// X-Content-Type-Options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContentTypeOptionsStatus {
    /// `nosniff` (Fetch: the first value of the list).
    Nosniff,
    /// Anything else.
    Invalid,
}

/// X-XSS-Protection (the XSS auditor is gone from every current browser; `0` or no header is
/// the recommendation, because the filter itself enabled cross-site leaks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum XssProtectionStatus {
    /// `0`: filter disabled (recommended).
    Disabled,
    /// `1`: filter on, sanitising mode.
    Filter,
    /// `1; mode=block`.
    Block,
    /// `1; report=URI` without block mode.
    Report,
    /// Not `0` or `1` with valid parameters.
    Invalid,
}

/// Cross-Origin-Opener-Policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenerPolicyStatus {
    /// `same-origin`.
    SameOrigin,
    /// `same-origin-allow-popups`.
    SameOriginAllowPopups,
    /// `noopener-allow-popups`.
    NoopenerAllowPopups,
    /// `unsafe-none` (the default: no isolation).
    UnsafeNone,
    /// Not a known value.
    Invalid,
}

/// Cross-Origin-Embedder-Policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmbedderPolicyStatus {
    /// `require-corp`.
    RequireCorp,
    /// `credentialless`.
    Credentialless,
    /// `unsafe-none` (the default).
    UnsafeNone,
    /// Not a known value.
    Invalid,
}

/// Cross-Origin-Resource-Policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourcePolicyStatus {
    /// `same-origin`.
    SameOrigin,
    /// `same-site`.
    SameSite,
    /// `cross-origin`.
    CrossOrigin,
    /// Not a known value.
    Invalid,
}

/// One feature of a Permissions-Policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PermissionFeature {
    /// Feature name, lower-case (e.g. `camera`).
    pub name: String,
    /// Allowlist members (`self`, `*`, or origins), as written.
    pub allowlist: Vec<String>,
    /// The allowlist is empty (`camera=()`): the feature is disabled everywhere.
    pub disabled: bool,
    /// The allowlist is `*`: every origin may use the feature.
    pub allows_all: bool,
}

/// Permissions-Policy parsed as an RFC 8941 dictionary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PermissionsPolicyFacts {
    /// The header was sent.
    pub present: bool,
    /// Number of header lines.
    pub count: u32,
    /// The trimmed, lower-cased value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// All values as received, joined with `, `.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// The header parsed as a structured-field dictionary (browsers ignore it otherwise).
    pub valid: bool,
    /// Features in order.
    pub features: Vec<PermissionFeature>,
    /// Number of features.
    pub feature_count: u32,
    /// Features disabled everywhere (`feature=()`).
    pub disabled_count: u32,
    /// Some feature is allowed for every origin (`feature=*`).
    pub allows_all: bool,
    /// Parse problems.
    pub errors: Vec<String>,
}

/// Expect-CT, an obsolete header (Chrome removed it in version 107; CT is enforced by browsers
/// without it). Judged for claim fidelity only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExpectCtFacts {
    /// The header was sent (it is obsolete: browsers ignore it).
    pub present: bool,
    /// Number of header lines.
    pub count: u32,
    /// The trimmed, lower-cased value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// All values as received, joined with `, `.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// `max-age` in seconds, when given as a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// The `enforce` directive is present.
    pub enforce: bool,
    /// `report-uri`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_uri: Option<String>,
}

/// Values of header `name` on `hop` with the raw and normalised forms.
fn lines<'a>(hop: &'a HttpHop, name: &'a str) -> Option<(Vec<&'a str>, String)> {
    let values: Vec<&str> = hop.header_values(name).collect();
    if values.is_empty() {
        return None;
    }
    let raw = values.join(", ");
    Some((values, raw))
}

/// At most [`MAX_VALUE_BYTES`] of a value, cut on a character boundary.
fn bounded(raw: &str) -> &str {
    let mut end = raw.len().min(MAX_VALUE_BYTES);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    &raw[..end]
}

/// The judged slice of a value: bounded, trimmed, lower-cased.
fn normalised(raw: &str) -> String {
    bounded(raw).trim().to_ascii_lowercase()
}

fn count(values: &[&str]) -> u32 {
    u32::try_from(values.len()).unwrap_or(u32::MAX)
}

/// Judges header `name` of `hop` with `judge`, which gets the normalised value and returns the
/// effective value and status.
fn judged<S>(hop: &HttpHop, name: &str, judge: impl Fn(&str) -> (String, S)) -> JudgedHeader<S> {
    let Some((values, raw)) = lines(hop, name) else {
        return JudgedHeader::default();
    };
    let (value, status) = judge(&normalised(&raw));
    JudgedHeader {
        present: true,
        count: count(&values),
        value: Some(value),
        raw: Some(raw),
        status: Some(status),
    }
}

/// Referrer-Policy: the last token that is a policy wins (Referrer Policy §8.1).
pub fn referrer_policy(hop: &HttpHop) -> JudgedHeader<ReferrerStatus> {
    judged(hop, "referrer-policy", |value| {
        let effective = value.split(',').map(str::trim).rfind(|token| {
            matches!(
                *token,
                "no-referrer"
                    | "no-referrer-when-downgrade"
                    | "same-origin"
                    | "origin"
                    | "strict-origin"
                    | "origin-when-cross-origin"
                    | "strict-origin-when-cross-origin"
                    | "unsafe-url"
            )
        });
        match effective {
            Some(token) => {
                let status = match token {
                    "no-referrer"
                    | "same-origin"
                    | "strict-origin"
                    | "strict-origin-when-cross-origin" => ReferrerStatus::Safe,
                    _ => ReferrerStatus::Unsafe,
                };
                (token.to_string(), status)
            }
            None => (
                value.rsplit(',').next().unwrap_or("").trim().to_string(),
                ReferrerStatus::Invalid,
            ),
        }
    })
}

/// X-Frame-Options: every list value must agree (HTML §7.1.7 "the X-Frame-Options header").
pub fn x_frame_options(hop: &HttpHop) -> JudgedHeader<FrameOptionsStatus> {
    judged(hop, "x-frame-options", |value| {
        let tokens: Vec<&str> = value.split(',').map(str::trim).collect();
        let status = if tokens.len() == 1 && tokens[0].starts_with("allow-from") {
            FrameOptionsStatus::AllowFrom
        } else if tokens.iter().all(|t| *t == "deny") {
            FrameOptionsStatus::Deny
        } else if tokens.iter().all(|t| *t == "sameorigin") {
            FrameOptionsStatus::Sameorigin
        } else {
            FrameOptionsStatus::Invalid
        };
        (value.to_string(), status)
    })
}

/// X-Content-Type-Options: `nosniff` as the first value (Fetch §3.5 "determine nosniff").
pub fn x_content_type_options(hop: &HttpHop) -> JudgedHeader<ContentTypeOptionsStatus> {
    judged(hop, "x-content-type-options", |value| {
        let status = if value.split(',').next().map(str::trim) == Some("nosniff") {
            ContentTypeOptionsStatus::Nosniff
        } else {
            ContentTypeOptionsStatus::Invalid
        };
        (value.to_string(), status)
    })
}

/// X-XSS-Protection: `0`, or `1` with optional `mode=block` / `report=URI`.
pub fn x_xss_protection(hop: &HttpHop) -> JudgedHeader<XssProtectionStatus> {
    judged(hop, "x-xss-protection", |value| {
        let mut parts = value.split(';').map(str::trim);
        let status = match parts.next() {
            Some("0") => XssProtectionStatus::Disabled,
            Some("1") => {
                let mut status = XssProtectionStatus::Filter;
                for part in parts.filter(|p| !p.is_empty()) {
                    match part.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
                        Some(("mode", "block")) => status = XssProtectionStatus::Block,
                        Some(("report", uri)) if !uri.is_empty() => {
                            if status != XssProtectionStatus::Block {
                                status = XssProtectionStatus::Report;
                            }
                        }
                        _ => {
                            status = XssProtectionStatus::Invalid;
                            break;
                        }
                    }
                }
                status
            }
            _ => XssProtectionStatus::Invalid,
        };
        (value.to_string(), status)
    })
}

/// The token of a structured-field item, parameters dropped.
fn item_token(value: &str) -> &str {
    value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches('"')
}

/// Cross-Origin-Opener-Policy.
pub fn coop(hop: &HttpHop) -> JudgedHeader<OpenerPolicyStatus> {
    judged(hop, "cross-origin-opener-policy", |value| {
        let token = item_token(value);
        let status = match token {
            "same-origin" => OpenerPolicyStatus::SameOrigin,
            "same-origin-allow-popups" => OpenerPolicyStatus::SameOriginAllowPopups,
            "noopener-allow-popups" => OpenerPolicyStatus::NoopenerAllowPopups,
            "unsafe-none" => OpenerPolicyStatus::UnsafeNone,
            _ => OpenerPolicyStatus::Invalid,
        };
        (token.to_string(), status)
    })
}

/// Cross-Origin-Embedder-Policy.
pub fn coep(hop: &HttpHop) -> JudgedHeader<EmbedderPolicyStatus> {
    judged(hop, "cross-origin-embedder-policy", |value| {
        let token = item_token(value);
        let status = match token {
            "require-corp" => EmbedderPolicyStatus::RequireCorp,
            "credentialless" => EmbedderPolicyStatus::Credentialless,
            "unsafe-none" => EmbedderPolicyStatus::UnsafeNone,
            _ => EmbedderPolicyStatus::Invalid,
        };
        (token.to_string(), status)
    })
}

/// Cross-Origin-Resource-Policy (Fetch §3.7; a list or unknown value is ignored).
pub fn corp(hop: &HttpHop) -> JudgedHeader<ResourcePolicyStatus> {
    judged(hop, "cross-origin-resource-policy", |value| {
        let status = match value {
            "same-origin" => ResourcePolicyStatus::SameOrigin,
            "same-site" => ResourcePolicyStatus::SameSite,
            "cross-origin" => ResourcePolicyStatus::CrossOrigin,
            _ => ResourcePolicyStatus::Invalid,
        };
        (value.to_string(), status)
    })
}

/// Permissions-Policy, parsed as an RFC 8941 dictionary of inner lists or tokens.
pub fn permissions_policy(hop: &HttpHop) -> PermissionsPolicyFacts {
    let Some((values, raw)) = lines(hop, "permissions-policy") else {
        return PermissionsPolicyFacts::default();
    };
    let value = normalised(&raw);
    // Keys are case-sensitive (RFC 8941 §3.2), so the structure is read from the value as sent.
    let sent = bounded(&raw).trim().to_string();
    let mut facts = PermissionsPolicyFacts {
        present: true,
        count: count(&values),
        value: Some(value.clone()),
        raw: Some(raw),
        valid: true,
        ..PermissionsPolicyFacts::default()
    };
    let error = |facts: &mut PermissionsPolicyFacts, message: String| {
        facts.valid = false;
        if facts.errors.len() < MAX_ERRORS {
            facts.errors.push(message);
        }
    };
    for member in split_top_level(&sent) {
        let member = member.trim();
        if member.is_empty() {
            error(&mut facts, "empty dictionary member".to_string());
            continue;
        }
        if facts.features.len() >= MAX_FEATURES {
            error(
                &mut facts,
                format!("more than {MAX_FEATURES} features; the rest was not read"),
            );
            break;
        }
        let (key, item) = member.split_once('=').unwrap_or((member, "?1"));
        let key = key.trim();
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.*".contains(&b))
        {
            error(
                &mut facts,
                format!("`{}` is not a feature name", key.escape_debug()),
            );
            continue;
        }
        let item = item.split(';').next().unwrap_or("").trim();
        let allowlist: Vec<String> =
            if let Some(inner) = item.strip_prefix('(').and_then(|i| i.strip_suffix(')')) {
                inner
                    .split_ascii_whitespace()
                    .take(MAX_ALLOWLIST)
                    .map(str::to_string)
                    .collect()
            } else if item == "*" || item == "self" || item.starts_with('"') {
                vec![item.to_string()]
            } else {
                error(
                    &mut facts,
                    format!(
                        "feature `{key}` has `{}`, not an allowlist",
                        item.escape_debug()
                    ),
                );
                continue;
            };
        if let Some(bad) = allowlist.iter().find(|member| {
            !(*member == "*"
                || *member == "self"
                || (member.len() >= 2 && member.starts_with('"') && member.ends_with('"')))
        }) {
            let message = format!(
                "feature `{key}`: `{}` is not `*`, `self` or a quoted origin",
                bad.escape_debug()
            );
            error(&mut facts, message);
            continue;
        }
        let allows_all = allowlist.iter().any(|m| m == "*");
        facts.allows_all |= allows_all;
        facts.features.push(PermissionFeature {
            name: key.to_string(),
            disabled: allowlist.is_empty(),
            allows_all,
            allowlist,
        });
    }
    facts.feature_count = u32::try_from(facts.features.len()).unwrap_or(u32::MAX);
    facts.disabled_count =
        u32::try_from(facts.features.iter().filter(|f| f.disabled).count()).unwrap_or(u32::MAX);
    facts
}

/// Splits a dictionary on commas outside parentheses and quotes.
fn split_top_level(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0usize, false, 0);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// Expect-CT: `max-age`, `enforce`, `report-uri` (RFC 9163, obsolete).
pub fn expect_ct(hop: &HttpHop) -> ExpectCtFacts {
    let Some((values, raw)) = lines(hop, "expect-ct") else {
        return ExpectCtFacts::default();
    };
    let value = normalised(&raw);
    let mut facts = ExpectCtFacts {
        present: true,
        count: count(&values),
        value: Some(value.clone()),
        raw: Some(raw),
        ..ExpectCtFacts::default()
    };
    // RFC 9163 separates directives with commas; semicolons are a common mistake, read alike.
    for directive in value.split([',', ';']) {
        let (name, argument) = directive
            .split_once('=')
            .map_or((directive.trim(), None), |(n, a)| {
                (n.trim(), Some(a.trim().trim_matches('"')))
            });
        match (name, argument) {
            ("max-age", Some(seconds)) if seconds.bytes().all(|b| b.is_ascii_digit()) => {
                facts.max_age = Some(seconds.parse().unwrap_or(u64::MAX));
            }
            ("enforce", None) => facts.enforce = true,
            ("report-uri", Some(uri)) => facts.report_uri = Some(uri.chars().take(256).collect()),
            _ => {}
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(headers: &[(&str, &str)]) -> HttpHop {
        HttpHop::with_headers(headers)
    }

    fn one(name: &str, value: &str) -> HttpHop {
        hop(&[(name, value)])
    }

    #[test]
    fn referrer_policy_statuses() {
        use ReferrerStatus::*;
        for (value, effective, status) in [
            ("no-referrer", "no-referrer", Safe),
            (
                "Strict-Origin-When-Cross-Origin",
                "strict-origin-when-cross-origin",
                Safe,
            ),
            ("same-origin", "same-origin", Safe),
            ("strict-origin", "strict-origin", Safe),
            ("unsafe-url", "unsafe-url", Unsafe),
            ("origin", "origin", Unsafe),
            (
                "origin-when-cross-origin",
                "origin-when-cross-origin",
                Unsafe,
            ),
            (
                "no-referrer-when-downgrade",
                "no-referrer-when-downgrade",
                Unsafe,
            ),
            // The last recognised token wins; unknown tokens are skipped (fallback lists).
            (
                "no-referrer, strict-origin-when-cross-origin",
                "strict-origin-when-cross-origin",
                Safe,
            ),
            ("unsafe-url, newfangled-policy", "unsafe-url", Unsafe),
            ("nonsense", "nonsense", Invalid),
            ("", "", Invalid),
        ] {
            let h = referrer_policy(&one("referrer-policy", value));
            assert_eq!(h.status, Some(status), "{value}");
            assert_eq!(h.value.as_deref(), Some(effective), "{value}");
        }
        assert_eq!(referrer_policy(&hop(&[])).status, None);
    }

    #[test]
    fn frame_options_statuses() {
        use FrameOptionsStatus::*;
        for (value, status) in [
            ("DENY", Deny),
            (" sameorigin ", Sameorigin),
            ("deny, DENY", Deny),
            ("ALLOW-FROM https://a.test/", AllowFrom),
            ("deny, sameorigin", Invalid),
            ("allowall", Invalid),
            ("", Invalid),
        ] {
            assert_eq!(
                x_frame_options(&one("x-frame-options", value)).status,
                Some(status),
                "{value}"
            );
        }
    }

    #[test]
    fn nosniff_and_xss_protection() {
        use XssProtectionStatus::*;
        assert_eq!(
            x_content_type_options(&one("x-content-type-options", "NoSniff")).status,
            Some(ContentTypeOptionsStatus::Nosniff)
        );
        assert_eq!(
            x_content_type_options(&one("x-content-type-options", "sniff")).status,
            Some(ContentTypeOptionsStatus::Invalid)
        );
        for (value, status) in [
            ("0", Disabled),
            ("1", Filter),
            ("1; mode=block", Block),
            ("1;mode=block; report=https://r.test/", Block),
            ("1; report=https://r.test/", Report),
            ("1; mode=nope", Invalid),
            ("2", Invalid),
            ("yes", Invalid),
        ] {
            assert_eq!(
                x_xss_protection(&one("x-xss-protection", value)).status,
                Some(status),
                "{value}"
            );
        }
    }

    #[test]
    fn cross_origin_policies() {
        assert_eq!(
            coop(&one(
                "cross-origin-opener-policy",
                "same-origin; report-to=\"x\""
            ))
            .status,
            Some(OpenerPolicyStatus::SameOrigin)
        );
        assert_eq!(
            coop(&one(
                "cross-origin-opener-policy",
                "same-origin-allow-popups"
            ))
            .status,
            Some(OpenerPolicyStatus::SameOriginAllowPopups)
        );
        assert_eq!(
            coop(&one("cross-origin-opener-policy", "bogus")).status,
            Some(OpenerPolicyStatus::Invalid)
        );
        assert_eq!(
            coep(&one("cross-origin-embedder-policy", "require-corp")).status,
            Some(EmbedderPolicyStatus::RequireCorp)
        );
        assert_eq!(
            coep(&one("cross-origin-embedder-policy", "credentialless")).status,
            Some(EmbedderPolicyStatus::Credentialless)
        );
        assert_eq!(
            corp(&one("cross-origin-resource-policy", "Same-Site")).status,
            Some(ResourcePolicyStatus::SameSite)
        );
        assert_eq!(
            corp(&one("cross-origin-resource-policy", "cross-origin")).status,
            Some(ResourcePolicyStatus::CrossOrigin)
        );
        assert_eq!(
            corp(&one(
                "cross-origin-resource-policy",
                "same-origin, same-site"
            ))
            .status,
            Some(ResourcePolicyStatus::Invalid)
        );
    }

    #[test]
    fn permissions_policy_parses() {
        let p = permissions_policy(&one(
            "permissions-policy",
            "camera=(), geolocation=(self \"https://maps.example.test\"), fullscreen=*, payment=self",
        ));
        assert!(p.valid, "{:?}", p.errors);
        assert_eq!(p.feature_count, 4);
        assert_eq!(p.disabled_count, 1);
        assert!(p.allows_all);
        assert_eq!(
            p.features[1].allowlist,
            ["self", "\"https://maps.example.test\""]
        );
        for bad in [
            "camera=none",
            "camera=(https://a.test)",
            "Camera=()",
            "geolocation 'self'",
            ",,",
        ] {
            let p = permissions_policy(&one("permissions-policy", bad));
            assert!(!p.valid, "{bad}");
            assert!(!p.errors.is_empty(), "{bad}");
        }
        // Feature-Policy syntax is not Permissions-Policy syntax.
        assert!(!permissions_policy(&one("permissions-policy", "camera 'none'")).valid);
    }

    #[test]
    fn expect_ct_fields() {
        let e = expect_ct(&one(
            "expect-ct",
            "max-age=86400, enforce, report-uri=\"https://r.test/\"",
        ));
        assert!(e.present && e.enforce);
        assert_eq!(e.max_age, Some(86400));
        let e = expect_ct(&one(
            "expect-ct",
            "max-age=86400; enforce; report-uri=\"https://r.test/\"",
        ));
        assert_eq!(e.max_age, Some(86400));
        assert!(e.enforce);
        assert_eq!(e.report_uri.as_deref(), Some("https://r.test/"));
        assert_eq!(expect_ct(&hop(&[])), ExpectCtFacts::default());
    }

    #[test]
    fn hostile_values_do_not_panic() {
        let huge = "a".repeat(1 << 20);
        let thousands = "f=(),".repeat(10_000);
        let lossy = String::from_utf8_lossy(b"\xff\xfe\x00\x1b[31m").into_owned();
        for value in [
            huge.as_str(),
            thousands.as_str(),
            lossy.as_str(),
            "\u{202e}deny",
        ] {
            let h = one("x", value);
            for name in [
                "referrer-policy",
                "x-frame-options",
                "x-content-type-options",
                "x-xss-protection",
                "cross-origin-opener-policy",
                "cross-origin-embedder-policy",
                "cross-origin-resource-policy",
                "permissions-policy",
                "expect-ct",
            ] {
                let h = hop(&[(name, value)]);
                let _ = (
                    referrer_policy(&h),
                    x_frame_options(&h),
                    x_content_type_options(&h),
                    x_xss_protection(&h),
                    coop(&h),
                    coep(&h),
                    corp(&h),
                    expect_ct(&h),
                );
                let p = permissions_policy(&h);
                assert!(p.features.len() <= MAX_FEATURES && p.errors.len() <= MAX_ERRORS);
            }
            let _ = referrer_policy(&h);
        }
        let h = one("x-frame-options", &huge);
        assert!(x_frame_options(&h).value.unwrap().len() <= MAX_VALUE_BYTES);
    }
}
