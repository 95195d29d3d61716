//! CAA facts (RFC 8659): the relevant record set of the target, found by climbing towards the
//! root through the recorded answers, which CAs it lets issue, and whether the certificate's
//! issuer is one of them.
//!
//! The issuer is matched through a table of the CAA identifiers that certificate authorities
//! publish (their CP/CPS, as collected by the CCADB); an issuer not in the table leaves the match
//! unobserved rather than guessed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evidence::{DnsLookup, DnsOutcome};
use crate::probe::dns::caa_climb;

/// The CAA policy of the target's name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CaaFacts {
    /// A non-empty CAA record set applies to the name (at the name or a parent).
    pub present: bool,
    /// The name that holds the relevant set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_at: Option<String>,
    /// Issuer domains of `issue` properties (`;` alone, which forbids issuance, adds nothing).
    pub issue: Vec<String>,
    /// Issuer domains of `issuewild` properties.
    pub issuewild: Vec<String>,
    /// `iodef` URLs for violation reports.
    pub iodef: Vec<String>,
    /// The set forbids every CA from issuing (only `issue ";"`).
    pub issuance_forbidden: bool,
    /// Properties with the critical flag and a tag CAs do not know (they must refuse to issue).
    pub unknown_critical: Vec<String>,
    /// The records, as received.
    pub records: Vec<String>,
    /// The certificate's issuer may issue for the name under this set (any CA may when no set
    /// applies); absent when the issuer is not in the identifier table or no certificate was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_allowed: Option<bool>,
    /// The CAA identifiers of the certificate's issuer, from the table.
    pub issuer_identifiers: Vec<String>,
}

/// One property of a CAA record.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Property {
    critical: bool,
    tag: String,
    value: String,
}

/// Parses the presentation form `FLAGS TAG "VALUE"`.
fn parse_record(text: &str) -> Option<Property> {
    let mut parts = text.trim().splitn(3, ' ');
    let flags: u8 = parts.next()?.parse().ok()?;
    let tag = parts.next()?.to_ascii_lowercase();
    let value = parts.next().unwrap_or("").trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    Some(Property {
        critical: flags & 0x80 != 0,
        tag,
        value: value.to_string(),
    })
}

/// The issuer domain of an `issue`/`issuewild` value (`letsencrypt.org; accounturi=…`), `None`
/// for `;` (no CA).
fn issuer_domain(value: &str) -> Option<String> {
    let domain = value.split(';').next().unwrap_or("").trim();
    (!domain.is_empty()).then(|| domain.trim_end_matches('.').to_ascii_lowercase())
}

/// How the CAA derivation ended.
pub enum CaaDerivation {
    /// Facts.
    Facts(CaaFacts),
    /// Why there are none.
    Unobserved(String),
}

/// Derives CAA facts for `host` from the recorded lookups. `issuer` is the certificate issuer's
/// distinguished name and `wildcard` whether the certificate holds a wildcard name.
pub fn derive(host: &str, lookups: &[DnsLookup], issuer: Option<(&str, bool)>) -> CaaDerivation {
    let climb = caa_climb(host);
    if climb.is_empty() {
        return CaaDerivation::Unobserved(format!("{host} is not a domain name"));
    }
    let mut facts = CaaFacts::default();
    for name in climb {
        let lookup = lookups
            .iter()
            .find(|l| l.record_type == "CAA" && l.name.eq_ignore_ascii_case(&name));
        match lookup.map(|l| &l.outcome) {
            None => {
                return CaaDerivation::Unobserved(format!("CAA of {name} was not looked up"));
            }
            Some(DnsOutcome::Failed { error }) => {
                return CaaDerivation::Unobserved(format!("CAA lookup of {name} failed: {error}"));
            }
            Some(DnsOutcome::Answer { records }) if !records.is_empty() => {
                facts.present = true;
                facts.found_at = Some(name);
                facts.records.clone_from(records);
                break;
            }
            Some(_) => {}
        }
    }
    let properties: Vec<Property> = facts
        .records
        .iter()
        .filter_map(|r| parse_record(r))
        .collect();
    let mut forbids = false;
    for property in &properties {
        match property.tag.as_str() {
            "issue" => match issuer_domain(&property.value) {
                Some(domain) => facts.issue.push(domain),
                None => forbids = true,
            },
            "issuewild" => facts.issuewild.extend(issuer_domain(&property.value)),
            "iodef" => facts.iodef.push(property.value.clone()),
            "issuemail" | "issuevmc" | "contactemail" | "contactphone" => {}
            other if property.critical => facts.unknown_critical.push(other.to_string()),
            _ => {}
        }
    }
    facts.issuance_forbidden = forbids && facts.issue.is_empty();
    if let Some((issuer, wildcard)) = issuer {
        facts.issuer_identifiers = identifiers(issuer)
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        let has_issue = properties.iter().any(|p| p.tag == "issue");
        let has_issuewild = properties.iter().any(|p| p.tag == "issuewild");
        let allowed_list = if wildcard && has_issuewild {
            Some(&facts.issuewild)
        } else if has_issue {
            Some(&facts.issue)
        } else {
            None
        };
        facts.issuer_allowed = match allowed_list {
            _ if !facts.unknown_critical.is_empty() => Some(false),
            None => Some(true),
            Some(_) if facts.issuer_identifiers.is_empty() => None,
            Some(list) => Some(
                facts
                    .issuer_identifiers
                    .iter()
                    .any(|id| list.iter().any(|allowed| allowed == id)),
            ),
        };
    }
    CaaDerivation::Facts(facts)
}

/// CAA identifiers by a distinctive part of the issuer's name (organisation or common name),
/// as the CAs publish them.
const CAA_IDENTIFIERS: &[(&str, &[&str])] = &[
    ("let's encrypt", &["letsencrypt.org"]),
    ("google trust services", &["pki.goog"]),
    (
        "digicert",
        &[
            "digicert.com",
            "www.digicert.com",
            "digicert.ne.jp",
            "symantec.com",
            "geotrust.com",
            "rapidssl.com",
            "thawte.com",
        ],
    ),
    (
        "sectigo",
        &[
            "sectigo.com",
            "comodoca.com",
            "comodo.com",
            "usertrust.com",
            "trust-provider.com",
        ],
    ),
    ("comodo", &["sectigo.com", "comodoca.com", "comodo.com"]),
    ("zerossl", &["sectigo.com"]),
    ("globalsign", &["globalsign.com"]),
    (
        "amazon",
        &[
            "amazon.com",
            "amazontrust.com",
            "awstrust.com",
            "amazonaws.com",
        ],
    ),
    ("microsoft", &["microsoft.com"]),
    ("entrust", &["entrust.net", "affirmtrust.com"]),
    ("godaddy", &["godaddy.com", "starfieldtech.com"]),
    ("starfield", &["godaddy.com", "starfieldtech.com"]),
    ("buypass", &["buypass.com", "buypass.no"]),
    ("ssl corporation", &["ssl.com"]),
    ("ssl.com", &["ssl.com"]),
    ("harica", &["harica.gr"]),
    ("certum", &["certum.pl", "certum.eu"]),
    ("asseco", &["certum.pl", "certum.eu"]),
    ("actalis", &["actalis.it"]),
    ("d-trust", &["d-trust.net"]),
    ("t-systems", &["telesec.de", "telekom.de"]),
    ("telekom", &["telesec.de", "telekom.de"]),
    ("swisssign", &["swisssign.com"]),
    ("quovadis", &["quovadisglobal.com", "digicert.com"]),
    ("identrust", &["identrust.com"]),
    ("trustasia", &["trustasia.com"]),
    ("certainly", &["certainly.com"]),
];

/// The CAA identifiers of the CA named in `issuer` (a distinguished name), if known.
pub fn identifiers(issuer: &str) -> &'static [&'static str] {
    let lower = issuer.to_ascii_lowercase();
    CAA_IDENTIFIERS
        .iter()
        .find(|(needle, _)| lower.contains(needle))
        .map_or(&[], |(_, ids)| ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{FailureKind, ProbeError};

    fn answer(name: &str, records: &[&str]) -> DnsLookup {
        DnsLookup {
            name: name.into(),
            record_type: "CAA".into(),
            outcome: if records.is_empty() {
                DnsOutcome::NoRecords {
                    rcode: "NOERROR".into(),
                }
            } else {
                DnsOutcome::Answer {
                    records: records.iter().map(|r| (*r).to_string()).collect(),
                }
            },
        }
    }

    fn facts(lookups: &[DnsLookup], issuer: Option<(&str, bool)>) -> CaaFacts {
        match derive("www.example.test", lookups, issuer) {
            CaaDerivation::Facts(facts) => facts,
            CaaDerivation::Unobserved(reason) => panic!("{reason}"),
        }
    }

    const LE: &str = "CN=R11, O=Let's Encrypt, C=US";

    #[test]
    fn the_closest_non_empty_set_decides() {
        let lookups = [
            answer("www.example.test", &[]),
            answer(
                "example.test",
                &[
                    "0 issue \"letsencrypt.org; validationmethods=dns-01\"",
                    "0 issuewild \";\"",
                    "0 iodef \"mailto:security@example.test\"",
                ],
            ),
        ];
        let caa = facts(&lookups, Some((LE, false)));
        assert!(caa.present);
        assert_eq!(caa.found_at.as_deref(), Some("example.test"));
        assert_eq!(caa.issue, ["letsencrypt.org"]);
        assert!(caa.issuewild.is_empty() && !caa.issuance_forbidden);
        assert_eq!(caa.iodef, ["mailto:security@example.test"]);
        assert_eq!(caa.issuer_allowed, Some(true));
        // A wildcard certificate falls under issuewild, which allows nobody.
        assert_eq!(
            facts(&lookups, Some((LE, true))).issuer_allowed,
            Some(false)
        );
        // Another CA is not allowed.
        let digicert = "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US";
        assert_eq!(
            facts(&lookups, Some((digicert, false))).issuer_allowed,
            Some(false)
        );
    }

    #[test]
    fn no_set_allows_every_ca_and_unknown_issuers_stay_open() {
        let none = [answer("www.example.test", &[]), answer("example.test", &[])];
        let caa = facts(&none, Some((LE, false)));
        assert!(!caa.present && caa.records.is_empty());
        assert_eq!(caa.issuer_allowed, Some(true));
        let set = [answer("www.example.test", &["0 issue \"pki.goog\""])];
        assert_eq!(
            facts(&set, Some(("CN=secaudit lab CA", false))).issuer_allowed,
            None
        );
        assert_eq!(facts(&set, None).issuer_allowed, None);
    }

    #[test]
    fn forbidding_and_critical_unknown_tags() {
        let forbid = [answer("www.example.test", &["0 issue \";\""])];
        let caa = facts(&forbid, Some((LE, false)));
        assert!(caa.issuance_forbidden);
        assert_eq!(caa.issuer_allowed, Some(false));
        let critical = [answer(
            "www.example.test",
            &["0 issue \"letsencrypt.org\"", "128 tbs \"unknown\""],
        )];
        let caa = facts(&critical, Some((LE, false)));
        assert_eq!(caa.unknown_critical, ["tbs"]);
        assert_eq!(caa.issuer_allowed, Some(false));
    }

    #[test]
    fn failures_and_missing_lookups_are_unobserved() {
        let failed = [DnsLookup {
            name: "www.example.test".into(),
            record_type: "CAA".into(),
            outcome: DnsOutcome::Failed {
                error: ProbeError::new(FailureKind::Timeout, "timed out"),
            },
        }];
        assert!(matches!(
            derive("www.example.test", &failed, None),
            CaaDerivation::Unobserved(_)
        ));
        assert!(matches!(
            derive("www.example.test", &[], None),
            CaaDerivation::Unobserved(_)
        ));
        assert!(matches!(
            derive("192.0.2.1", &[], None),
            CaaDerivation::Unobserved(_)
        ));
    }

    #[test]
    fn hostile_records_never_panic() {
        for text in [
            "",
            " ",
            "x",
            "300 issue",
            "0",
            "0 issue \"",
            "0 \u{202e} \"\"",
            "128",
        ] {
            let _ = parse_record(text);
        }
        let long = format!("0 issue \"{}\"", "a;".repeat(50_000));
        let lookups = [answer("www.example.test", &[long.as_str()])];
        let _ = facts(&lookups, Some((LE, true)));
    }
}
