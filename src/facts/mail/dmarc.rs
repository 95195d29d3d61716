//! A strict DMARC record parser: RFC 7489 section 6.3, plus the `np`, `psd` and `t` tags of its
//! successor (DMARCbis, draft-ietf-dmarc-dmarcbis).
//!
//! Every tag value is checked against its grammar; repeated and unknown tags are reported. Values
//! are not defaulted here except where the RFC defines the default (`pct=100`, `adkim=r`, …): an
//! invalid `p` leaves the policy absent so a rule sees it as such.

use super::tags;

/// The receiver policies a record can request.
pub const POLICIES: [&str; 3] = ["none", "quarantine", "reject"];

/// A parsed DMARC record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DmarcRecord {
    /// `p`: `none`, `quarantine` or `reject`; absent when missing or invalid.
    pub policy: Option<String>,
    /// `sp` as written (valid values only).
    pub subdomain_policy: Option<String>,
    /// `np` as written (valid values only).
    pub non_existent_policy: Option<String>,
    /// `pct` (default 100).
    pub pct: u8,
    /// `rua` URIs.
    pub rua: Vec<String>,
    /// `ruf` URIs.
    pub ruf: Vec<String>,
    /// `adkim`: `r` or `s` (default `r`).
    pub adkim: String,
    /// `aspf`: `r` or `s` (default `r`).
    pub aspf: String,
    /// `fo` options (default `["0"]`).
    pub fo: Vec<String>,
    /// `ri` in seconds (default 86400).
    pub ri: u32,
    /// `psd`: `y`, `n` or `u` (default `u`).
    pub psd: String,
    /// `t=y`: the policy is in test mode (DMARCbis).
    pub testing: bool,
    /// Tags that appear more than once.
    pub duplicate_tags: Vec<String>,
    /// Tags neither RFC 7489 nor DMARCbis define (receivers ignore them).
    pub unknown_tags: Vec<String>,
    /// Syntax errors, each with its column.
    pub errors: Vec<String>,
}

/// Whether TXT text is a DMARC record: it starts with the `v=DMARC1` tag (section 6.6.3:
/// anything else is discarded).
pub fn is_dmarc(text: &str) -> bool {
    let trimmed = text.trim_start_matches([' ', '\t']);
    let Some(rest) = trimmed
        .strip_prefix('v')
        .or_else(|| trimmed.strip_prefix('V'))
    else {
        return false;
    };
    let rest = rest.trim_start_matches([' ', '\t']);
    let Some(rest) = rest.strip_prefix('=') else {
        return false;
    };
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.starts_with("DMARC1")
        && rest[6..]
            .trim_start_matches([' ', '\t'])
            .chars()
            .next()
            .is_none_or(|c| c == ';')
}

const KNOWN: [&str; 14] = [
    "v", "p", "sp", "np", "pct", "rua", "ruf", "adkim", "aspf", "fo", "ri", "rf", "psd", "t",
];

/// Parses a DMARC record's text.
pub fn parse(text: &str) -> DmarcRecord {
    let list = tags::parse(text);
    let mut record = DmarcRecord {
        pct: 100,
        adkim: "r".into(),
        aspf: "r".into(),
        fo: vec!["0".into()],
        ri: 86_400,
        psd: "u".into(),
        errors: list.errors.clone(),
        duplicate_tags: list.duplicates.clone(),
        ..DmarcRecord::default()
    };
    for name in &list.duplicates {
        record
            .errors
            .push(format!("tag `{name}` appears more than once"));
    }
    match list.tags.first() {
        Some(first) if first.name == "v" && first.value == "DMARC1" => {}
        _ => record
            .errors
            .push("column 1: the record must start with `v=DMARC1`".into()),
    }
    for tag in &list.tags {
        let mut error = |what: &str| {
            record.errors.push(format!(
                "column {}: `{}={}`: {what}",
                tag.column, tag.name, tag.value
            ));
        };
        let value = tag.value.as_str();
        let lower = value.to_ascii_lowercase();
        match tag.name.as_str() {
            "v" => {}
            "p" | "sp" | "np" => {
                if POLICIES.contains(&lower.as_str()) {
                    let slot = match tag.name.as_str() {
                        "p" => &mut record.policy,
                        "sp" => &mut record.subdomain_policy,
                        _ => &mut record.non_existent_policy,
                    };
                    *slot = Some(lower);
                } else {
                    error("expected none, quarantine or reject");
                }
            }
            "pct" => match value.parse::<u8>() {
                Ok(n) if n <= 100 && value.bytes().all(|b| b.is_ascii_digit()) => record.pct = n,
                _ => error("expected an integer from 0 to 100"),
            },
            "rua" | "ruf" => {
                let mut uris = Vec::new();
                for uri in value.split(',') {
                    let uri = uri.trim_matches([' ', '\t']);
                    match check_report_uri(uri) {
                        Ok(()) => uris.push(uri.to_string()),
                        Err(message) => error(&message),
                    }
                }
                if tag.name == "rua" {
                    record.rua = uris;
                } else {
                    record.ruf = uris;
                }
            }
            "adkim" | "aspf" => {
                if lower == "r" || lower == "s" {
                    if tag.name == "adkim" {
                        record.adkim = lower;
                    } else {
                        record.aspf = lower;
                    }
                } else {
                    error("expected r or s");
                }
            }
            "fo" => {
                let options: Vec<String> = lower.split(':').map(|o| o.trim().to_string()).collect();
                if options
                    .iter()
                    .all(|o| matches!(o.as_str(), "0" | "1" | "d" | "s"))
                {
                    record.fo = options;
                } else {
                    error("expected 0, 1, d or s, separated by `:`");
                }
            }
            "ri" => match value.parse::<u32>() {
                Ok(n) if value.bytes().all(|b| b.is_ascii_digit()) => record.ri = n,
                _ => error("expected a number of seconds"),
            },
            "rf" => {
                if lower.split(':').any(|f| f.trim() != "afrf") {
                    error("the only report format is afrf");
                }
            }
            "psd" => {
                if matches!(lower.as_str(), "y" | "n" | "u") {
                    record.psd = lower;
                } else {
                    error("expected y, n or u");
                }
            }
            "t" => match lower.as_str() {
                "y" => record.testing = true,
                "n" => record.testing = false,
                _ => error("expected y or n"),
            },
            other => {
                if !KNOWN.contains(&other) {
                    record.unknown_tags.push(other.to_string());
                }
            }
        }
    }
    if record.policy.is_none() && !list.tags.iter().any(|t| t.name == "p") {
        record.errors.push("the required tag `p` is missing".into());
    }
    record
}

/// `dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]` (section 6.4), where the URI must
/// be absolute; `mailto:` URIs need an address with a domain.
fn check_report_uri(text: &str) -> Result<(), String> {
    let (uri, size) = match text.rsplit_once('!') {
        Some((uri, size)) => (uri, Some(size)),
        None => (text, None),
    };
    if let Some(size) = size {
        let digits = size.trim_end_matches(['k', 'm', 'g', 't', 'K', 'M', 'G', 'T']);
        if digits.is_empty()
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || size.len() > digits.len() + 1
        {
            return Err(format!("`{text}` has a malformed size limit"));
        }
    }
    let parsed = url::Url::parse(uri).map_err(|_| format!("`{uri}` is not an absolute URI"))?;
    if parsed.scheme() == "mailto" && report_domain(uri).is_none() {
        return Err(format!("`{uri}` has no mail address"));
    }
    Ok(())
}

/// The domain a report URI sends to: the mail domain of a `mailto:` URI, the host of others.
pub fn report_domain(uri: &str) -> Option<String> {
    let uri = uri.rsplit_once('!').map_or(uri, |(u, _)| u);
    let lower = uri.to_ascii_lowercase();
    let domain = if let Some(address) = lower.strip_prefix("mailto:") {
        let address = address.split('?').next().unwrap_or("");
        let (_, domain) = address.rsplit_once('@')?;
        domain.to_string()
    } else {
        url::Url::parse(uri).ok()?.host_str()?.to_string()
    };
    let domain = domain.trim_end_matches('.').to_string();
    (!domain.is_empty() && !domain.contains(['/', ' ', '@'])).then_some(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> DmarcRecord {
        assert!(is_dmarc(text), "{text} is a DMARC record");
        let record = parse(text);
        assert!(record.errors.is_empty(), "{text}: {:?}", record.errors);
        record
    }

    // Records from RFC 7489 (sections 6.3, 6.4, 7.1 and appendix B) and DMARCbis.
    const VALID: &[&str] = &[
        "v=DMARC1; p=none",
        "v=DMARC1; p=none;",
        "v=DMARC1;p=reject",
        "v=DMARC1; p=quarantine; pct=100",
        "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com",
        "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; ruf=mailto:auth-reports@thirdparty.example.net",
        "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,mailto:tld-test@thirdparty.example.net!10m; pct=25",
        "v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=s",
        "v=DMARC1; p=reject; fo=1:d:s; ri=3600; rf=afrf",
        "v=DMARC1; p=reject; np=reject; psd=n; t=n",
        "v=DMARC1; p=quarantine; t=y",
        "v=DMARC1; p=none; psd=y",
        "v = DMARC1 ; p = reject ; pct = 0",
        "v=DMARC1; P=Reject; SP=None",
        "v=DMARC1; p=reject; rua=mailto:a@example.com!50k, mailto:b@example.net!1g",
        "v=DMARC1; p=reject; rua=https://reports.example.com/dmarc",
        "v=DMARC1; p=none; x_custom=1",
        "v=DMARC1; p=reject; fo=0",
        "v=DMARC1; p=reject; ri=86400; aspf=r; adkim=r",
        "v=DMARC1; p=none; rua=mailto:dmarc@example.com!10",
        "v=DMARC1;\tp=reject;\trua=mailto:d@example.com",
        "v=DMARC1; p=quarantine; sp=reject; np=quarantine; pct=50",
    ];

    const INVALID: &[(&str, &str)] = &[
        ("v=DMARC1", "`p` is missing"),
        ("v=DMARC1; p=block", "expected none, quarantine or reject"),
        (
            "v=DMARC1; p=none; sp=allow",
            "expected none, quarantine or reject",
        ),
        (
            "v=DMARC1; p=none; np=drop",
            "expected none, quarantine or reject",
        ),
        ("v=DMARC1; p=reject; pct=101", "0 to 100"),
        ("v=DMARC1; p=reject; pct=-1", "0 to 100"),
        ("v=DMARC1; p=reject; pct=50%", "0 to 100"),
        ("v=DMARC1; p=reject; rua=dmarc@example.com", "absolute URI"),
        ("v=DMARC1; p=reject; rua=mailto:", "no mail address"),
        (
            "v=DMARC1; p=reject; rua=mailto:a@example.com!10x",
            "size limit",
        ),
        ("v=DMARC1; p=reject; adkim=strict", "r or s"),
        ("v=DMARC1; p=reject; aspf=x", "r or s"),
        ("v=DMARC1; p=reject; fo=2", "0, 1, d or s"),
        ("v=DMARC1; p=reject; ri=1h", "number of seconds"),
        ("v=DMARC1; p=reject; rf=iodef", "afrf"),
        ("v=DMARC1; p=reject; psd=maybe", "y, n or u"),
        ("v=DMARC1; p=reject; t=1", "y or n"),
        ("v=DMARC1; p=none; p=reject", "more than once"),
        ("v=DMARC1; p=reject; junk", "not tag=value"),
        ("p=reject; v=DMARC1", "must start with `v=DMARC1`"),
    ];

    #[test]
    fn rfc_records_parse() {
        for text in VALID {
            ok(text);
        }
    }

    #[test]
    fn malformed_records_name_the_problem() {
        for (text, expected) in INVALID {
            let record = parse(text);
            assert!(
                record.errors.iter().any(|e| e.contains(expected)),
                "{text}: expected `{expected}` in {:?}",
                record.errors
            );
        }
    }

    #[test]
    fn tags_and_defaults() {
        let record = ok(
            "v=DMARC1; p=Quarantine; sp=none; pct=25; rua=mailto:a@example.com,mailto:b@ext.example!10m; ruf=mailto:f@example.com; fo=1:d; x=y",
        );
        assert_eq!(record.policy.as_deref(), Some("quarantine"));
        assert_eq!(record.subdomain_policy.as_deref(), Some("none"));
        assert_eq!(record.non_existent_policy, None);
        assert_eq!(record.pct, 25);
        assert_eq!(record.rua.len(), 2);
        assert_eq!(record.ruf, ["mailto:f@example.com"]);
        assert_eq!(record.fo, ["1", "d"]);
        assert_eq!((record.adkim.as_str(), record.aspf.as_str()), ("r", "r"));
        assert_eq!(record.ri, 86_400);
        assert_eq!(record.unknown_tags, ["x"]);
        let defaults = ok("v=DMARC1; p=none");
        assert_eq!(defaults.pct, 100);
        assert_eq!(defaults.psd, "u");
        assert!(!defaults.testing);
        assert_eq!(parse("v=DMARC1; p=bad").policy, None);
    }

    #[test]
    fn recognises_records_and_report_domains() {
        assert!(is_dmarc("v=DMARC1; p=none"));
        assert!(is_dmarc("v = DMARC1"));
        assert!(!is_dmarc("v=DMARC10; p=none"));
        assert!(!is_dmarc("v=dmarc1; p=none"));
        assert!(!is_dmarc("v=spf1 -all"));
        assert!(!is_dmarc("p=none; v=DMARC1"));
        assert_eq!(
            report_domain("mailto:Reports@Ext.Example!10m").as_deref(),
            Some("ext.example")
        );
        assert_eq!(
            report_domain("https://r.example.net/x").as_deref(),
            Some("r.example.net")
        );
        assert_eq!(report_domain("mailto:nobody"), None);
    }

    #[test]
    fn random_input_never_panics() {
        let alphabet: Vec<char> = "v=DMARC1; p=rejectquarantinenone,:!mailto@.sprua\t é10"
            .chars()
            .collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut text = String::from("v=DMARC1;");
            let mut s = state;
            for _ in 0..(state % 50) {
                s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                text.push(alphabet[(s >> 33) as usize % alphabet.len()]);
            }
            let _ = is_dmarc(&text);
            let _ = parse(&text);
            let _ = parse(&text[9..]);
        }
    }
}
