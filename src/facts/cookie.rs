//! Cookie attributes derived from raw `Set-Cookie` lines.
//!
//! Parsing uses the `cookie` crate; the prefix rules (`__Host-`, `__Secure-`, RFC 6265bis
//! section 4.1.3) and the plain-HTTP origin are judged here, because they depend on where the line
//! was received, which the parser cannot know.

use cookie::{Cookie, SameSite};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One `Set-Cookie` line as a browser would understand it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CookieFacts {
    /// Cookie name (may be empty when the line could not be parsed).
    pub name: String,
    /// URL of the response that set it.
    pub set_by: String,
    /// The line arrived on a plain-HTTP response.
    pub set_over_http: bool,
    /// The line parsed as a cookie.
    pub valid: bool,
    /// Why the line did not parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `Secure` attribute present.
    pub secure: bool,
    /// `HttpOnly` attribute present.
    pub http_only: bool,
    /// `SameSite` value, lower-case: `strict`, `lax` or `none`; absent when not set or not recognised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_site: Option<SameSiteValue>,
    /// `Domain` attribute, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// `Domain` is absent (host-only cookie) or names the host that set it or a parent of it
    /// (whether the parent is a public suffix is not checked).
    pub domain_matches_host: bool,
    /// `Path` attribute, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Has `Expires` or `Max-Age`, so it outlives the browser session.
    pub persistent: bool,
    /// Name prefix: `host` (`__Host-`), `secure` (`__Secure-`) or `none`.
    pub prefix: CookiePrefix,
    /// The prefix's requirements are met (always true without a prefix).
    pub prefix_valid: bool,
    /// The name suggests a session or authentication cookie (heuristic: sess, sid, auth, token, jwt, login).
    pub looks_like_session: bool,
    /// The name suggests an anti-CSRF (request-verification) token (heuristic: csrf, xsrf,
    /// requestverificationtoken).
    pub looks_like_csrf: bool,
    /// The `SameSite` attribute as written, lower-case (also when not a known value); absent
    /// when the attribute is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_site_raw: Option<String>,
}

/// The `SameSite` attribute's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SameSiteValue {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None`.
    None,
}

/// A cookie-name prefix that browsers enforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CookiePrefix {
    /// `__Host-`: Secure, secure origin, no Domain, Path=/.
    Host,
    /// `__Secure-`: Secure, secure origin.
    Secure,
    /// No prefix.
    None,
}

const SESSION_HINTS: [&str; 6] = ["sess", "sid", "auth", "token", "jwt", "login"];
const CSRF_HINTS: [&str; 3] = ["csrf", "xsrf", "requestverificationtoken"];

/// The value of the last `SameSite` attribute of a raw line, lower-case.
fn same_site_attribute(line: &str) -> Option<String> {
    line.split(';')
        .skip(1)
        .filter_map(|attribute| attribute.split_once('='))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("samesite"))
        .map(|(_, value)| {
            value
                .trim()
                .chars()
                .take(64)
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .last()
}

impl CookieFacts {
    /// Derives the facts of one raw `Set-Cookie` line received from `set_by`.
    pub fn from_line(line: &str, set_by: &str, set_over_http: bool) -> Self {
        match Cookie::parse(line.to_string()) {
            Ok(cookie) => Self {
                same_site_raw: same_site_attribute(line),
                ..Self::from_cookie(&cookie, set_by, set_over_http)
            },
            Err(error) => Self {
                name: line
                    .split_once('=')
                    .map(|(name, _)| name.trim().to_string())
                    .unwrap_or_default(),
                set_by: set_by.to_string(),
                set_over_http,
                valid: false,
                error: Some(error.to_string()),
                secure: false,
                http_only: false,
                same_site: None,
                domain: None,
                domain_matches_host: true,
                path: None,
                persistent: false,
                prefix: CookiePrefix::None,
                prefix_valid: true,
                looks_like_session: false,
                looks_like_csrf: false,
                same_site_raw: None,
            },
        }
    }

    fn from_cookie(cookie: &Cookie<'_>, set_by: &str, set_over_http: bool) -> Self {
        let name = cookie.name().to_string();
        let secure = cookie.secure().unwrap_or(false);
        let domain = cookie.domain().map(str::to_string);
        let path = cookie.path().map(str::to_string);
        let lower = name.to_ascii_lowercase();
        let prefix = if lower.starts_with("__host-") {
            CookiePrefix::Host
        } else if lower.starts_with("__secure-") {
            CookiePrefix::Secure
        } else {
            CookiePrefix::None
        };
        let prefix_valid = match prefix {
            CookiePrefix::None => true,
            CookiePrefix::Secure => secure && !set_over_http,
            CookiePrefix::Host => {
                secure && !set_over_http && domain.is_none() && path.as_deref() == Some("/")
            }
        };
        let host = url::Url::parse(set_by)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
        let domain_matches_host = match (&domain, &host) {
            (None, _) => true,
            (Some(domain), Some(host)) => {
                let domain = domain.trim_start_matches('.').to_ascii_lowercase();
                !domain.is_empty() && (*host == domain || host.ends_with(&format!(".{domain}")))
            }
            (Some(_), None) => false,
        };
        Self {
            domain_matches_host,
            looks_like_session: SESSION_HINTS.iter().any(|hint| lower.contains(hint)),
            looks_like_csrf: CSRF_HINTS.iter().any(|hint| lower.contains(hint)),
            same_site_raw: None,
            name,
            set_by: set_by.to_string(),
            set_over_http,
            valid: true,
            error: None,
            secure,
            http_only: cookie.http_only().unwrap_or(false),
            same_site: cookie.same_site().map(|s| match s {
                SameSite::Strict => SameSiteValue::Strict,
                SameSite::Lax => SameSiteValue::Lax,
                SameSite::None => SameSiteValue::None,
            }),
            domain,
            path,
            persistent: cookie.expires().is_some() || cookie.max_age().is_some(),
            prefix,
            prefix_valid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTTPS: &str = "https://shop.example.test/";

    #[test]
    fn all_flags() {
        let c = CookieFacts::from_line(
            "sid=abc; Secure; HttpOnly; SameSite=Strict; Path=/; Domain=example.test; Max-Age=60",
            HTTPS,
            false,
        );
        assert!(c.valid && c.secure && c.http_only && c.persistent && c.looks_like_session);
        assert_eq!(c.same_site, Some(SameSiteValue::Strict));
        assert_eq!(c.domain.as_deref(), Some("example.test"));
        assert_eq!(c.path.as_deref(), Some("/"));
        assert_eq!(c.prefix, CookiePrefix::None);
    }

    #[test]
    fn bare_cookie_has_no_flags() {
        let c = CookieFacts::from_line("theme=dark", HTTPS, false);
        assert!(c.valid && !c.secure && !c.http_only && !c.persistent && !c.looks_like_session);
        assert_eq!(c.same_site, None);
    }

    #[test]
    fn attribute_names_are_case_insensitive() {
        let c = CookieFacts::from_line("a=b; secure; httponly; samesite=lax", HTTPS, false);
        assert!(c.secure && c.http_only);
        assert_eq!(c.same_site, Some(SameSiteValue::Lax));
    }

    #[test]
    fn host_prefix_rules() {
        let ok = CookieFacts::from_line("__Host-id=1; Secure; Path=/", HTTPS, false);
        assert_eq!(ok.prefix, CookiePrefix::Host);
        assert!(ok.prefix_valid);
        for bad in [
            "__Host-id=1; Path=/",
            "__Host-id=1; Secure",
            "__Host-id=1; Secure; Path=/app",
            "__Host-id=1; Secure; Path=/; Domain=example.test",
        ] {
            let c = CookieFacts::from_line(bad, HTTPS, false);
            assert!(!c.prefix_valid, "{bad}");
        }
        let over_http = CookieFacts::from_line(
            "__Host-id=1; Secure; Path=/",
            "http://shop.example.test/",
            true,
        );
        assert!(!over_http.prefix_valid);
    }

    #[test]
    fn secure_prefix_rules() {
        assert!(CookieFacts::from_line("__Secure-x=1; Secure", HTTPS, false).prefix_valid);
        assert!(!CookieFacts::from_line("__Secure-x=1", HTTPS, false).prefix_valid);
        assert!(!CookieFacts::from_line("__secure-x=1", HTTPS, false).prefix_valid);
    }

    #[test]
    fn malformed_lines_are_recorded_not_panicking() {
        for line in ["", "novalue", "=; Secure", ";;;", "\u{1b}]0;evil\u{7}"] {
            let c = CookieFacts::from_line(line, HTTPS, false);
            if !c.valid {
                assert!(c.error.is_some(), "{line:?}");
                assert!(!c.secure && !c.http_only);
            }
        }
        assert!(!CookieFacts::from_line("novalue", HTTPS, false).valid);
    }

    #[test]
    fn unknown_samesite_is_absent() {
        let c = CookieFacts::from_line("a=b; SameSite=Sometimes", HTTPS, false);
        assert_eq!(c.same_site, None);
        assert_eq!(c.same_site_raw.as_deref(), Some("sometimes"));
        let c = CookieFacts::from_line("a=b; Secure", HTTPS, false);
        assert_eq!(c.same_site_raw, None);
    }

    #[test]
    fn domain_must_cover_the_setting_host() {
        let on = |line: &str| CookieFacts::from_line(line, HTTPS, false).domain_matches_host;
        assert!(on("a=1"));
        assert!(on("a=1; Domain=shop.example.test"));
        assert!(on("a=1; Domain=.example.test"));
        assert!(!on("a=1; Domain=other.test"));
        assert!(!on("a=1; Domain=xample.test"));
        assert!(!on("a=1; Domain=www.shop.example.test"));
    }

    #[test]
    fn csrf_cookies_are_recognised() {
        for name in ["csrftoken", "XSRF-TOKEN", "__RequestVerificationToken"] {
            let c = CookieFacts::from_line(&format!("{name}=1"), HTTPS, false);
            assert!(c.looks_like_csrf, "{name}");
        }
        assert!(!CookieFacts::from_line("theme=dark", HTTPS, false).looks_like_csrf);
    }
}
