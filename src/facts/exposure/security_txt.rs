//! `security.txt` (RFC 9116): which location served it, its fields, and whether it is valid —
//! at least one `Contact`, exactly one `Expires` in the future, served as `text/plain` over
//! HTTPS. A PGP signature is detected (cleartext-signed message) but not verified.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evidence::{ChainEnd, FetchChain, HttpHop};

/// Most lines read from one file.
const MAX_LINES: usize = 1000;

/// The security contact file of the site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SecurityTxtFacts {
    /// A `security.txt` with at least one field was served (HTTP 200).
    pub present: bool,
    /// Where: `well_known` (`/.well-known/security.txt`) or `legacy` (`/security.txt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The URL it was finally read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Every field is well-formed, `Contact` present, one `Expires` in the future, served as
    /// `text/plain` over HTTPS.
    pub valid: bool,
    /// `Contact` values (URIs: `mailto:`, `https:`, `tel:`).
    pub contact: Vec<String>,
    /// Number of `Contact` fields.
    pub contact_count: u32,
    /// The `Expires` value as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// The `Expires` date had passed on the audit date; absent when there is no parsable one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired: Option<bool>,
    /// Days from the audit date to `Expires` (negative once expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_until_expiry: Option<i64>,
    /// `Policy` values (the disclosure or bug-bounty policy).
    pub policy: Vec<String>,
    /// `Encryption` values (where the key for encrypted reports is).
    pub encryption: Vec<String>,
    /// `Canonical` values.
    pub canonical: Vec<String>,
    /// `Acknowledgments` values (a hall of fame).
    pub acknowledgments: Vec<String>,
    /// `Hiring` values.
    pub hiring: Vec<String>,
    /// `Preferred-Languages`, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_languages: Option<String>,
    /// The file is a cleartext-signed OpenPGP message (the signature is not verified).
    pub signed: bool,
    /// What is wrong, one sentence each.
    pub errors: Vec<String>,
}

/// Derives the facts from the two fetches (well-known first); `Err` with the reason when
/// neither gave a response.
pub fn derive(chains: &[FetchChain], today_unix: i64) -> Result<SecurityTxtFacts, String> {
    let mut failures = Vec::new();
    let mut answered = false;
    for (index, chain) in chains.iter().enumerate() {
        let location = if index == 0 { "well_known" } else { "legacy" };
        match (&chain.end, chain.hops.last()) {
            (ChainEnd::Final, Some(hop)) => {
                answered = true;
                if hop.status == 200
                    && let Some(facts) = parse_hop(hop, location, today_unix)
                {
                    return Ok(facts);
                }
            }
            (ChainEnd::Failed { url, error }, _) => failures.push(format!("{url}: {error}")),
            (_, Some(_)) => answered = true,
            (_, None) => {}
        }
    }
    if answered || chains.is_empty() {
        Ok(SecurityTxtFacts::default())
    } else {
        Err(format!(
            "security.txt could not be fetched: {}",
            failures.join("; ")
        ))
    }
}

/// The facts of one 200 response, `None` when the body has no field at all (a catch-all page).
fn parse_hop(hop: &HttpHop, location: &str, today_unix: i64) -> Option<SecurityTxtFacts> {
    let text = hop.body.text.as_deref()?;
    let mut facts = parse(text, today_unix);
    let fields = facts.contact_count as usize
        + facts.policy.len()
        + facts.encryption.len()
        + facts.canonical.len()
        + usize::from(facts.expires.is_some());
    if fields == 0 {
        return None;
    }
    facts.present = true;
    facts.location = Some(location.to_string());
    facts.url = Some(hop.url.clone());
    let content_type = hop
        .header_values("content-type")
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if !content_type.starts_with("text/plain") {
        facts
            .errors
            .push(format!("served as `{content_type}`, not text/plain"));
    }
    if !hop.url.starts_with("https://") {
        facts.errors.push("not served over HTTPS".to_string());
    }
    if !facts.canonical.is_empty() && !facts.canonical.iter().any(|c| c == &hop.url) {
        facts
            .errors
            .push("no Canonical value names the URL it was served from".to_string());
    }
    facts.valid = facts.errors.is_empty();
    Some(facts)
}

/// Parses the file's text (a signed message is unwrapped first).
pub fn parse(text: &str, today_unix: i64) -> SecurityTxtFacts {
    let mut facts = SecurityTxtFacts::default();
    let mut body: Vec<&str> = text.lines().take(MAX_LINES).collect();
    if body
        .first()
        .is_some_and(|l| l.trim() == "-----BEGIN PGP SIGNED MESSAGE-----")
    {
        let end = body
            .iter()
            .position(|l| l.trim() == "-----BEGIN PGP SIGNATURE-----");
        facts.signed = end.is_some();
        let stop = end.unwrap_or(body.len());
        // Armor headers (`Hash: SHA256`) end at the first blank line.
        let start = body[..stop]
            .iter()
            .position(|l| l.trim().is_empty())
            .map_or(stop, |i| i + 1);
        body = body[start..stop].to_vec();
        if !facts.signed {
            facts
                .errors
                .push("a signed message without its signature block".to_string());
        }
    }
    let mut expires_count = 0;
    let mut languages = 0;
    for (number, raw) in body.iter().enumerate() {
        let line = raw.strip_prefix("- ").unwrap_or(raw).trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            facts
                .errors
                .push(format!("line {}: not a `Field: value` line", number + 1));
            continue;
        };
        let value = value.trim().to_string();
        match name.trim().to_ascii_lowercase().as_str() {
            "contact" => facts.contact.push(value),
            "expires" => {
                expires_count += 1;
                facts.expires.get_or_insert(value);
            }
            "policy" => facts.policy.push(value),
            "encryption" => facts.encryption.push(value),
            "canonical" => facts.canonical.push(value),
            "acknowledgments" | "acknowledgements" => facts.acknowledgments.push(value),
            "hiring" => facts.hiring.push(value),
            "preferred-languages" => {
                languages += 1;
                facts.preferred_languages.get_or_insert(value);
            }
            // Unknown fields are allowed (RFC 9116 §2.4); `CSAF` and others are ignored here.
            _ => {}
        }
    }
    facts.contact_count = u32::try_from(facts.contact.len()).unwrap_or(u32::MAX);
    if facts.contact.is_empty() {
        facts.errors.push("no Contact field".to_string());
    }
    match expires_count {
        0 => facts.errors.push("no Expires field".to_string()),
        1 => {}
        _ => facts
            .errors
            .push("Expires appears more than once".to_string()),
    }
    if languages > 1 {
        facts
            .errors
            .push("Preferred-Languages appears more than once".to_string());
    }
    if let Some(expires) = &facts.expires {
        match parse_datetime(expires) {
            Some(at) => {
                facts.expired = Some(at <= today_unix);
                facts.days_until_expiry = Some((at - today_unix).div_euclid(86_400));
                if at <= today_unix {
                    facts.errors.push(format!("expired ({expires})"));
                }
            }
            None => facts
                .errors
                .push(format!("Expires `{expires}` is not an RFC 3339 date-time")),
        }
    }
    facts
}

/// Seconds since the epoch of an RFC 3339 date-time with `Z` or a `±HH:MM` offset.
fn parse_datetime(text: &str) -> Option<i64> {
    let text = text.trim();
    let (base, offset) = if let Some(base) = text.strip_suffix(['Z', 'z']) {
        (base, 0)
    } else {
        let split = text.len().checked_sub(6)?;
        let (base, zone) = (text.get(..split)?, text.get(split..)?);
        let sign = match zone.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let hours: i64 = zone.get(1..3)?.parse().ok()?;
        let minutes: i64 = zone.get(4..6)?.parse().ok()?;
        (base, sign * (hours * 3600 + minutes * 60))
    };
    let at = humantime::parse_rfc3339(&format!("{base}Z")).ok()?;
    let secs = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(i64::try_from(secs).ok()? - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-15T10:00:00Z.
    const NOW: i64 = 1_768_471_200;

    #[test]
    fn a_valid_file() {
        let facts = parse(
            "# comment\nContact: mailto:security@a.test\nContact: https://a.test/report\n\
             Expires: 2026-12-31T23:00:00.000Z\nPolicy: https://a.test/policy\n\
             Encryption: https://a.test/pgp.asc\nPreferred-Languages: en, de\n",
            NOW,
        );
        assert_eq!(facts.contact_count, 2);
        assert_eq!(facts.expired, Some(false));
        assert_eq!(facts.days_until_expiry, Some(350));
        assert_eq!(facts.policy, ["https://a.test/policy"]);
        assert!(facts.errors.is_empty(), "{:?}", facts.errors);
        assert!(!facts.signed);
    }

    #[test]
    fn expired_and_missing_fields_are_errors() {
        let facts = parse(
            "Contact: mailto:s@a.test\nExpires: 2025-01-01T00:00:00+01:00\n",
            NOW,
        );
        assert_eq!(facts.expired, Some(true));
        assert!(facts.errors.iter().any(|e| e.starts_with("expired")));
        let facts = parse("Policy: https://a.test/p\nExpires: soon\nnonsense\n", NOW);
        assert_eq!(facts.expired, None);
        assert_eq!(facts.errors.len(), 3, "{:?}", facts.errors);
    }

    #[test]
    fn signed_message_is_unwrapped() {
        let text = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n\
                    Contact: mailto:s@a.test\nExpires: 2027-01-01T00:00:00Z\n\
                    -----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n";
        let facts = parse(text, NOW);
        assert!(facts.signed);
        assert!(facts.errors.is_empty(), "{:?}", facts.errors);
    }

    #[test]
    fn offsets_are_applied() {
        assert_eq!(
            parse_datetime("2026-01-15T11:00:00+01:00"),
            parse_datetime("2026-01-15T10:00:00Z")
        );
        assert_eq!(parse_datetime("2026-01-15"), None);
    }
}
