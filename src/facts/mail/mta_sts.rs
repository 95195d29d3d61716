//! MTA-STS (RFC 8461): the `_mta-sts` TXT record, the policy file served at
//! `https://mta-sts.DOMAIN/.well-known/mta-sts.txt`, and whether its `mx` patterns cover the
//! domain's MX hosts.

use super::tags;

/// Longest `max_age` the RFC allows (one year, section 3.2).
pub const MAX_AGE_LIMIT: u32 = 31_557_600;

/// Whether TXT text is an MTA-STS record (starts with `v=STSv1`).
pub fn is_record(text: &str) -> bool {
    tags::parse(text)
        .tags
        .first()
        .is_some_and(|t| t.name == "v" && t.value == "STSv1")
}

/// The `id` of a valid record, or the syntax errors (section 3.1: `v=STSv1; id=1*32 alphanumerics`).
pub fn parse_record(text: &str) -> Result<String, Vec<String>> {
    let list = tags::parse(text);
    let mut errors = list.errors.clone();
    errors.extend(
        list.duplicates
            .iter()
            .map(|d| format!("tag `{d}` appears more than once")),
    );
    let id = list.get("id").unwrap_or("");
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        errors.push(format!("`id={id}` must be 1 to 32 letters and digits"));
    }
    if errors.is_empty() {
        Ok(id.to_string())
    } else {
        Err(errors)
    }
}

/// A parsed policy file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// `mode`: `enforce`, `testing` or `none`; absent when missing or invalid.
    pub mode: Option<String>,
    /// `max_age` in seconds.
    pub max_age: Option<u32>,
    /// `mx` patterns, lower-case.
    pub mx: Vec<String>,
    /// Problems, each naming its line.
    pub errors: Vec<String>,
}

/// Parses a policy file (section 3.2): `key: value` lines ending in CRLF (LF alone is accepted,
/// as senders do); `version: STSv1` must come first; `mode` and `max_age` are required, and `mx`
/// unless the mode is `none`.
pub fn parse_policy(body: &str) -> Policy {
    let mut policy = Policy::default();
    let mut seen_version = false;
    for (index, line) in body.lines().enumerate() {
        let number = index + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            policy
                .errors
                .push(format!("line {number}: `{line}` is not `key: value`"));
            continue;
        };
        let key = key.trim();
        let value = value.trim();
        match key {
            "version" => {
                if number != 1 {
                    policy.errors.push(format!("line {number}: `version` must be the first line"));
                }
                if value != "STSv1" {
                    policy.errors.push(format!("line {number}: version `{value}` is not STSv1"));
                }
                seen_version = true;
            }
            "mode" => match value {
                "enforce" | "testing" | "none" => policy.mode = Some(value.to_string()),
                other => policy
                    .errors
                    .push(format!("line {number}: mode `{other}` is not enforce, testing or none")),
            },
            "max_age" => match value.parse::<u32>() {
                Ok(age) if age <= MAX_AGE_LIMIT && value.bytes().all(|b| b.is_ascii_digit()) => {
                    policy.max_age = Some(age);
                }
                _ => policy.errors.push(format!(
                    "line {number}: max_age `{value}` is not a number of seconds up to {MAX_AGE_LIMIT}"
                )),
            },
            "mx" => {
                let pattern = value.to_ascii_lowercase();
                if valid_pattern(&pattern) {
                    policy.mx.push(pattern);
                } else {
                    policy
                        .errors
                        .push(format!("line {number}: `{value}` is not an MX host pattern"));
                }
            }
            _ => {} // extension keys are ignored (section 3.2)
        }
    }
    if !seen_version {
        policy
            .errors
            .push("the `version: STSv1` line is missing".into());
    }
    if policy.mode.is_none() {
        policy.errors.push("`mode` is missing".into());
    }
    if policy.max_age.is_none() {
        policy.errors.push("`max_age` is missing".into());
    }
    if policy.mx.is_empty() && policy.mode.as_deref() != Some("none") {
        policy.errors.push("no `mx` pattern".into());
    }
    policy
}

/// A host name, or `*.` and a host name.
fn valid_pattern(pattern: &str) -> bool {
    let host = pattern.strip_prefix("*.").unwrap_or(pattern);
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Whether MX host `host` matches `pattern` (section 4.1: a leading `*.` stands for exactly one
/// label).
pub fn matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => host == pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records() {
        assert!(is_record("v=STSv1; id=20240101T000000;"));
        assert!(!is_record("v=STSv2; id=1"));
        assert_eq!(
            parse_record("v=STSv1; id=20160831085700Z;").unwrap(),
            "20160831085700Z"
        );
        assert!(parse_record("v=STSv1;").is_err());
        assert!(parse_record("v=STSv1; id=has-dash").is_err());
        assert!(parse_record(&format!("v=STSv1; id={}", "a".repeat(33))).is_err());
    }

    #[test]
    fn rfc_policy_parses() {
        let policy = parse_policy(
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n",
        );
        assert!(policy.errors.is_empty(), "{:?}", policy.errors);
        assert_eq!(policy.mode.as_deref(), Some("enforce"));
        assert_eq!(policy.max_age, Some(604_800));
        assert_eq!(policy.mx.len(), 3);
        let none = parse_policy("version: STSv1\nmode: none\nmax_age: 86400\n");
        assert!(none.errors.is_empty(), "{:?}", none.errors);
    }

    #[test]
    fn broken_policies() {
        for (body, expected) in [
            ("mode: enforce\nmx: a.example\nmax_age: 1", "missing"),
            (
                "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1",
                "not STSv1",
            ),
            (
                "version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1",
                "not enforce",
            ),
            (
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 99999999",
                "max_age",
            ),
            ("version: STSv1\nmode: enforce\nmax_age: 1", "no `mx`"),
            (
                "version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1",
                "pattern",
            ),
            (
                "version: STSv1\nmode enforce\nmx: a.example\nmax_age: 1",
                "key: value",
            ),
            (
                "mode: enforce\nversion: STSv1\nmx: a.example\nmax_age: 1",
                "first line",
            ),
        ] {
            let policy = parse_policy(body);
            assert!(
                policy.errors.iter().any(|e| e.contains(expected)),
                "{body}: {:?}",
                policy.errors
            );
        }
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(matches("mail.example.com", "Mail.Example.com."));
        assert!(matches("*.example.net", "mx1.example.net"));
        assert!(!matches("*.example.net", "a.b.example.net"));
        assert!(!matches("*.example.net", "example.net"));
        assert!(!matches("mail.example.com", "mail2.example.com"));
    }
}
