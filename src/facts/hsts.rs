//! Strict-Transport-Security, parsed strictly per RFC 6797 section 6.1.
//!
//! A browser ignores an STS header that does not conform to the grammar, so an invalid header is
//! reported with `valid: false` and no effective `max_age`. Only the first header of a response is
//! processed (section 8.1); further ones are counted and mentioned.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the HSTS header of the site's first HTTPS response says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HstsFacts {
    /// A `Strict-Transport-Security` header was sent.
    pub present: bool,
    /// The first header conforms to RFC 6797 (browsers ignore it otherwise).
    pub valid: bool,
    /// `max-age` in seconds, when the header is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// `includeSubDomains` is set on a valid header.
    pub include_subdomains: bool,
    /// `preload` is set on a valid header (hstspreload.org extension).
    pub preload: bool,
    /// Number of `Strict-Transport-Security` header lines in the response.
    pub header_count: u32,
    /// Every problem found, in words.
    pub errors: Vec<String>,
    /// The first header's value as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Meets the hstspreload.org submission requirements that can be observed from outside:
    /// trusted certificate, HTTP redirected first to HTTPS on the same host (when port 80
    /// answers), and a valid header with max-age ≥ 31536000, includeSubDomains and preload.
    /// (Whether every subdomain serves HTTPS, and whether this is the registrable domain, are not
    /// checked.)
    pub preload_eligible: bool,
    /// Why the site is not eligible for preloading, one requirement per entry.
    pub preload_problems: Vec<String>,
}

/// `max-age` hstspreload.org requires: one year.
pub const PRELOAD_MIN_MAX_AGE: u64 = 31_536_000;

impl HstsFacts {
    /// Judges preload eligibility. `plain_first_hop_same_host` is `None` when plain HTTP did
    /// not answer (no redirect needed), else whether its first response redirects to HTTPS on
    /// the same host.
    pub fn judge_preload(
        &mut self,
        certificate_valid: bool,
        plain_first_hop_same_host: Option<bool>,
    ) {
        let mut problems = Vec::new();
        if !certificate_valid {
            problems.push("the certificate is not trusted".to_string());
        }
        if plain_first_hop_same_host == Some(false) {
            problems
                .push("http:// does not redirect to https:// on the same host first".to_string());
        }
        if !self.valid {
            problems.push("no valid Strict-Transport-Security header".to_string());
        } else {
            if self.max_age.unwrap_or(0) < PRELOAD_MIN_MAX_AGE {
                problems.push(format!("max-age is below {PRELOAD_MIN_MAX_AGE}"));
            }
            if !self.include_subdomains {
                problems.push("includeSubDomains is missing".to_string());
            }
            if !self.preload {
                problems.push("preload is missing".to_string());
            }
        }
        self.preload_eligible = problems.is_empty();
        self.preload_problems = problems;
    }
}

/// A parsed directive: name as written, and its value with quotes removed.
#[derive(Debug, PartialEq, Eq)]
struct Directive {
    name: String,
    value: Option<String>,
}

impl HstsFacts {
    /// Derives HSTS facts from every `Strict-Transport-Security` value of one response.
    pub fn from_values<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let values: Vec<&str> = values.into_iter().collect();
        let Some(first) = values.first() else {
            return Self::default();
        };
        let mut facts = Self {
            present: true,
            header_count: u32::try_from(values.len()).unwrap_or(u32::MAX),
            raw: Some((*first).to_string()),
            ..Self::default()
        };
        if values.len() > 1 {
            facts.errors.push(format!(
                "{} Strict-Transport-Security headers; browsers process only the first",
                values.len()
            ));
        }
        let directives = match parse_directives(first) {
            Ok(directives) => directives,
            Err(error) => {
                facts.errors.push(error);
                return facts;
            }
        };
        let mut max_age = None;
        let mut include_subdomains = false;
        let mut preload = false;
        let mut valid = true;
        let mut seen: Vec<String> = Vec::new();
        for directive in directives {
            let lower = directive.name.to_ascii_lowercase();
            if seen.contains(&lower) {
                facts.errors.push(format!(
                    "directive `{}` appears more than once",
                    directive.name
                ));
                valid = false;
                continue;
            }
            seen.push(lower.clone());
            match lower.as_str() {
                "max-age" => match directive.value.as_deref().map(parse_delta_seconds) {
                    Some(Ok(seconds)) => max_age = Some(seconds),
                    Some(Err(error)) => {
                        facts.errors.push(error);
                        valid = false;
                    }
                    None => {
                        facts.errors.push("max-age has no value".to_string());
                        valid = false;
                    }
                },
                "includesubdomains" | "preload" => {
                    if directive.value.is_some() {
                        facts
                            .errors
                            .push(format!("directive `{}` takes no value", directive.name));
                        valid = false;
                    } else if lower == "preload" {
                        preload = true;
                    } else {
                        include_subdomains = true;
                    }
                }
                _ => facts.errors.push(format!(
                    "unknown directive `{}` (ignored by browsers)",
                    directive.name
                )),
            }
        }
        if max_age.is_none() && !facts.errors.iter().any(|e| e.starts_with("max-age")) {
            facts
                .errors
                .push("required directive max-age is missing".to_string());
            valid = false;
        }
        if valid {
            facts.valid = true;
            facts.max_age = max_age;
            facts.include_subdomains = include_subdomains;
            facts.preload = preload;
        }
        facts
    }
}

/// `delta-seconds = 1*DIGIT`; values beyond u64 saturate, as browsers clamp them.
fn parse_delta_seconds(value: &str) -> Result<u64, String> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "max-age value `{value}` is not a number of seconds"
        ));
    }
    Ok(value.parse::<u64>().unwrap_or(u64::MAX))
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn skip_ows(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) {
    while chars.peek().is_some_and(|(_, c)| *c == ' ' || *c == '\t') {
        chars.next();
    }
}

fn take_token(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> String {
    let mut token = String::new();
    while let Some((_, c)) = chars.peek().copied().filter(|(_, c)| is_tchar(*c)) {
        token.push(c);
        chars.next();
    }
    token
}

/// `[ directive ] *( ";" [ directive ] )` with `directive = name [ "=" ( token / quoted-string ) ]`.
fn parse_directives(value: &str) -> Result<Vec<Directive>, String> {
    let mut directives = Vec::new();
    let mut chars = value.char_indices().peekable();
    loop {
        skip_ows(&mut chars);
        match chars.peek().copied() {
            None => break,
            Some((_, ';')) => {
                chars.next();
                continue;
            }
            Some(_) => {}
        }
        let name = take_token(&mut chars);
        if name.is_empty() {
            let (at, c) = chars.peek().copied().unwrap_or((value.len(), ' '));
            return Err(format!("unexpected character {c:?} at position {at}"));
        }
        skip_ows(&mut chars);
        let mut directive_value = None;
        if chars.peek().is_some_and(|(_, c)| *c == '=') {
            chars.next();
            skip_ows(&mut chars);
            if chars.peek().is_some_and(|(_, c)| *c == '"') {
                chars.next();
                let mut quoted = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some((_, escaped)) => quoted.push(escaped),
                            None => break,
                        },
                        _ => quoted.push(c),
                    }
                }
                if !closed {
                    return Err(format!("unterminated quoted value for `{name}`"));
                }
                directive_value = Some(quoted);
            } else {
                let token = take_token(&mut chars);
                if token.is_empty() {
                    return Err(format!("directive `{name}` has `=` but no value"));
                }
                directive_value = Some(token);
            }
            skip_ows(&mut chars);
        }
        directives.push(Directive {
            name,
            value: directive_value,
        });
        match chars.next() {
            None => break,
            Some((_, ';')) => {}
            Some((at, c)) => return Err(format!("unexpected character {c:?} at position {at}")),
        }
    }
    Ok(directives)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> HstsFacts {
        HstsFacts::from_values([value])
    }

    #[test]
    fn absent_header() {
        let facts = HstsFacts::from_values(std::iter::empty());
        assert!(!facts.present && !facts.valid);
        assert_eq!(facts.max_age, None);
    }

    #[test]
    fn typical_header() {
        let facts = parse("max-age=31536000; includeSubDomains; preload");
        assert!(facts.present && facts.valid, "{:?}", facts.errors);
        assert_eq!(facts.max_age, Some(31_536_000));
        assert!(facts.include_subdomains && facts.preload);
        assert!(facts.errors.is_empty());
    }

    #[test]
    fn names_are_case_insensitive_and_order_free() {
        let facts = parse("  INCLUDESUBDOMAINS ;MAX-AGE = 300 ;; ");
        assert!(facts.valid, "{:?}", facts.errors);
        assert_eq!(facts.max_age, Some(300));
        assert!(facts.include_subdomains);
    }

    #[test]
    fn quoted_max_age_is_allowed() {
        let facts = parse("max-age=\"600\"");
        assert!(facts.valid);
        assert_eq!(facts.max_age, Some(600));
    }

    #[test]
    fn missing_max_age_is_invalid() {
        let facts = parse("includeSubDomains");
        assert!(facts.present && !facts.valid);
        assert_eq!(facts.max_age, None);
        assert!(!facts.include_subdomains, "invalid header grants nothing");
        assert!(facts.errors[0].contains("max-age is missing"));
    }

    #[test]
    fn non_numeric_negative_and_empty_max_age_are_invalid() {
        for value in [
            "max-age=abc",
            "max-age=-1",
            "max-age=",
            "max-age",
            "max-age=1.5",
        ] {
            let facts = parse(value);
            assert!(!facts.valid, "{value} should be invalid");
            assert_eq!(facts.max_age, None, "{value}");
            assert!(!facts.errors.is_empty(), "{value}");
        }
    }

    #[test]
    fn duplicate_directive_is_invalid() {
        let facts = parse("max-age=10; max-age=20");
        assert!(!facts.valid);
        assert!(facts.errors[0].contains("more than once"));
    }

    #[test]
    fn valued_flag_is_invalid() {
        assert!(!parse("max-age=10; includeSubDomains=yes").valid);
        assert!(!parse("max-age=10; preload=1").valid);
    }

    #[test]
    fn garbage_and_commas_are_invalid() {
        for value in [
            "max-age=10, max-age=20",
            "max-age=10 garbage",
            "=10",
            "max-age=\"10",
            "\u{1b}[31m",
            "max-age=10;\u{0}",
        ] {
            let facts = parse(value);
            assert!(!facts.valid, "{value:?} should be invalid");
        }
    }

    #[test]
    fn unknown_directives_are_ignored_but_noted() {
        let facts = parse("max-age=100; report-uri=\"x;y\"");
        assert!(facts.valid);
        assert_eq!(facts.max_age, Some(100));
        assert!(facts.errors[0].contains("unknown directive"));
    }

    #[test]
    fn huge_max_age_saturates() {
        let facts = parse("max-age=99999999999999999999999999");
        assert!(facts.valid);
        assert_eq!(facts.max_age, Some(u64::MAX));
    }

    #[test]
    fn preload_eligibility() {
        let mut good = parse("max-age=31536000; includeSubDomains; preload");
        good.judge_preload(true, Some(true));
        assert!(good.preload_eligible, "{:?}", good.preload_problems);
        let mut no_http = good.clone();
        no_http.judge_preload(true, None);
        assert!(no_http.preload_eligible);
        let mut off_host = good.clone();
        off_host.judge_preload(true, Some(false));
        assert!(!off_host.preload_eligible);
        let mut bad_cert = good.clone();
        bad_cert.judge_preload(false, Some(true));
        assert!(!bad_cert.preload_eligible);
        for header in [
            "max-age=31535999; includeSubDomains; preload",
            "max-age=63072000; preload",
            "max-age=63072000; includeSubDomains",
            "includeSubDomains; preload",
        ] {
            let mut facts = parse(header);
            facts.judge_preload(true, Some(true));
            assert!(!facts.preload_eligible, "{header}");
            assert_eq!(
                facts.preload_problems.len(),
                1,
                "{header}: {:?}",
                facts.preload_problems
            );
        }
    }

    #[test]
    fn only_first_header_counts() {
        let facts = HstsFacts::from_values(["max-age=5", "max-age=31536000"]);
        assert_eq!(facts.max_age, Some(5));
        assert_eq!(facts.header_count, 2);
        assert!(facts.errors[0].contains("only the first"));
    }
}
