//! Mail facts (`mail.*`): SPF, DMARC, DKIM, MTA-STS, TLS-RPT, BIMI and MX of the mail domain,
//! derived from the recorded DNS answers and the MTA-STS policy fetch.
//!
//! The mail domain is the target host exactly as audited (`www.example.com` is *not* turned into
//! `example.com`), unless `--mail-domain` names another; the evidence records which. Derivation
//! is pure and also tells the probe which lookups it still needs ([`missing_lookups`]), so the
//! probe and `secaudit evaluate` read the same answers the same way. A record that was never
//! looked up, or whose lookup failed, leaves its facts absent with the reason in `unobserved`.

pub mod bimi;
pub mod dane;
pub mod derive;
pub mod dkim;
pub mod dmarc;
pub mod mta_sts;
pub mod mx_tls;
pub mod spf;
pub mod spf_walk;
pub mod tags;
pub mod tls_rpt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use derive::{derive, missing_lookups};

use crate::evidence::DnsOutcome;

/// DKIM selectors tried on every audit besides those named with `--dkim-selector`: the defaults
/// of common mail providers and software (Google Workspace `google`, Microsoft 365
/// `selector1`/`selector2`, Mailchimp/Mandrill `k1`/`k2`/`mandrill`, Amazon SES and many others
/// `default`, `dkim`, `mail`, `s1`/`s2`, Fastmail `fm1`–`fm3`, Proton `protonmail`–`protonmail3`,
/// Zoho `zoho`, SendGrid `s1`/`smtpapi`, Postmark style dated keys are not guessable).
pub const COMMON_SELECTORS: &[&str] = &[
    "default",
    "dkim",
    "mail",
    "google",
    "selector1",
    "selector2",
    "k1",
    "k2",
    "k3",
    "s1",
    "s2",
    "smtpapi",
    "mandrill",
    "mxvault",
    "fm1",
    "fm2",
    "fm3",
    "protonmail",
    "protonmail2",
    "protonmail3",
    "zoho",
    "key1",
    "key2",
    "sig1",
];

/// Mail facts of the mail domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MailFacts {
    /// The domain whose mail records were looked up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// SPF (RFC 7208) of the mail domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spf: Option<SpfFacts>,
    /// DMARC (RFC 7489 and DMARCbis) of the mail domain or its organisational domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dmarc: Option<DmarcFacts>,
    /// DKIM keys at the declared and the common selectors; absent (inconclusive) when none was
    /// found and none was declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim: Option<DkimFacts>,
    /// MTA-STS (RFC 8461): the TXT record and the policy file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mta_sts: Option<MtaStsFacts>,
    /// SMTP TLS reporting (RFC 8460).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_rpt: Option<TlsRptFacts>,
    /// BIMI record at `default._bimi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bimi: Option<BimiFacts>,
    /// MX hosts, by preference (empty when the domain has no MX record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mx: Option<Vec<MxFacts>>,
    /// The domain publishes a null MX (`0 .`, RFC 7505): it accepts no mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub null_mx: Option<bool>,
    /// The parked-domain profile: null MX and the SPF record `v=spf1 -all` (the domain sends and
    /// receives no mail, and says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked: Option<bool>,
    /// DNSSEC status of the mail domain and its MX hosts' names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnssec: Option<super::dnssec::MailDnssecFacts>,
}

/// SPF facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SpfFacts {
    /// At least one SPF (`v=spf1`) TXT record exists.
    pub present: bool,
    /// Number of SPF records (more than one is a `permerror`).
    pub record_count: u32,
    /// The record, when there is exactly one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Exactly one record, free of syntax errors.
    pub valid: bool,
    /// Syntax errors of the record, each with its column.
    pub syntax_errors: Vec<String>,
    /// Legal but pointless terms (after `all`; `redirect` next to `all`).
    pub warnings: Vec<String>,
    /// Length of the record in bytes (RFC 7208 section 3.4 advises keeping answers under 450).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_length: Option<u32>,
    /// DNS-querying terms over the whole include/redirect tree (limit 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_lookup_count: Option<u32>,
    /// Lookups that returned no records (limit 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub void_lookup_count: Option<u32>,
    /// The effective `all`: `+all`, `-all`, `~all` or `?all` (following `redirect`); absent when
    /// the record ends without one (the result is then `neutral`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_qualifier: Option<String>,
    /// A `ptr` mechanism is used (deprecated, RFC 7208 section 5.5).
    pub uses_ptr: bool,
    /// An include or redirect loops back to a domain being evaluated.
    #[serde(rename = "loop")]
    pub loop_found: bool,
    /// Domains reached through include and redirect, in evaluation order.
    pub includes: Vec<String>,
    /// Why a receiver would return `permerror`: syntax, record count, lookup and void limits,
    /// loops, includes without a record.
    pub permerror_reasons: Vec<String>,
    /// A receiver would return `permerror`; absent when part of the include tree could not be
    /// observed and nothing seen so far decides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permerror: Option<bool>,
    /// Every lookup of the tree was answered and the walk stayed within its bounds; when false
    /// the counts are lower bounds.
    pub lookups_complete: bool,
}

/// DMARC facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DmarcFacts {
    /// A DMARC record applies (at `_dmarc.DOMAIN` or the organisational domain).
    pub present: bool,
    /// Number of DMARC records at the name that holds them (more than one: none applies).
    pub record_count: u32,
    /// The name the record was found at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_at: Option<String>,
    /// The record came from the organisational domain (the mail domain has none).
    pub organizational_fallback: bool,
    /// The record, when there is exactly one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Exactly one record, free of syntax errors.
    pub valid: bool,
    /// Syntax errors, each with its column.
    pub syntax_errors: Vec<String>,
    /// `p`: `"none"`, `"quarantine"` or `"reject"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Policy for subdomains: `sp`, else `p`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdomain_policy: Option<String>,
    /// Policy for non-existent subdomains: `np`, else `sp`, else `p` (DMARCbis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_existent_subdomain_policy: Option<String>,
    /// `pct` (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pct: Option<u8>,
    /// Aggregate report URIs.
    pub rua: Vec<String>,
    /// Failure report URIs.
    pub ruf: Vec<String>,
    /// DKIM alignment: `"r"` or `"s"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adkim: Option<String>,
    /// SPF alignment: `"r"` or `"s"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspf: Option<String>,
    /// Failure reporting options.
    pub fo: Vec<String>,
    /// Aggregate report interval in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ri: Option<u32>,
    /// `psd`: `"y"`, `"n"` or `"u"` (DMARCbis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psd: Option<String>,
    /// `t=y`: test mode (DMARCbis).
    pub testing: bool,
    /// Tags that appear more than once.
    pub duplicate_tags: Vec<String>,
    /// Tags no DMARC specification defines.
    pub unknown_tags: Vec<String>,
    /// Domains outside the organisational domain that receive aggregate reports.
    pub external_rua_domains: Vec<String>,
    /// Every external `rua` domain authorises the reports (`DOMAIN._report._dmarc.EXT`, RFC 7489
    /// section 7.1); true when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_rua_authorised: Option<bool>,
    /// External `rua` domains without that authorisation.
    pub unauthorised_rua_domains: Vec<String>,
}

/// DKIM facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DkimFacts {
    /// Each declared selector, and each common selector that has a key record.
    pub selectors: Vec<DkimSelectorFacts>,
    /// Selectors with a key record.
    pub found_count: u32,
}

/// One DKIM selector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DkimSelectorFacts {
    /// The selector.
    pub selector: String,
    /// Named with `--dkim-selector` (rather than found among the common selectors).
    pub declared: bool,
    /// A key record exists at `SELECTOR._domainkey.DOMAIN`.
    pub found: bool,
    /// The record parses and its key can be read (or is revoked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<bool>,
    /// `"rsa"` or `"ed25519"` (or the unknown `k=` value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    /// Key size in bits (RSA modulus; 256 for Ed25519).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_bits: Option<u32>,
    /// `p=` is empty: the key is revoked.
    pub revoked: bool,
    /// `t=y`: DKIM test mode.
    pub testing: bool,
    /// Syntax errors and unreadable keys.
    pub syntax_errors: Vec<String>,
}

/// MTA-STS facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MtaStsFacts {
    /// An MTA-STS (`v=STSv1`) record exists at `_mta-sts.DOMAIN`.
    pub present: bool,
    /// Number of such records (exactly one is required).
    pub record_count: u32,
    /// The record's `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Exactly one record with a valid `id`.
    pub record_valid: bool,
    /// The policy file was fetched over HTTPS with a valid certificate and status 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_fetched: Option<bool>,
    /// Why the policy could not be fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_error: Option<String>,
    /// The policy file parses without error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_valid: Option<bool>,
    /// Problems in the policy file, each with its line.
    pub policy_errors: Vec<String>,
    /// `mode`: `"enforce"`, `"testing"` or `"none"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// `max_age` in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
    /// The policy's `mx` patterns.
    pub mx: Vec<String>,
    /// Every MX host of the domain matches an `mx` pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mx_covered: Option<bool>,
    /// MX hosts no pattern matches.
    pub uncovered_mx: Vec<String>,
    /// Every probed MX host the policy covers presented a certificate that is trusted and
    /// valid for its name through STARTTLS, so senders enforcing the policy deliver (RFC 8461
    /// section 4.1); absent when no such certificate was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mx_certificates_valid: Option<bool>,
    /// Covered MX hosts whose certificate a sender rejects, each with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid_certificate_mx: Vec<String>,
}

/// TLS-RPT facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TlsRptFacts {
    /// A `v=TLSRPTv1` record exists at `_smtp._tls.DOMAIN`.
    pub present: bool,
    /// Number of such records (exactly one is required).
    pub record_count: u32,
    /// Exactly one record, with valid `rua` URIs.
    pub valid: bool,
    /// Report URIs.
    pub rua: Vec<String>,
    /// Syntax errors.
    pub syntax_errors: Vec<String>,
}

/// BIMI facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BimiFacts {
    /// A `v=BIMI1` record exists at `default._bimi.DOMAIN`.
    pub present: bool,
    /// Number of such records.
    pub record_count: u32,
    /// Exactly one record, free of syntax errors.
    pub valid: bool,
    /// `l`: the logo URL (empty: the domain declines to show one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `a`: the mark certificate URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// Syntax errors.
    pub syntax_errors: Vec<String>,
}

/// One MX host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MxFacts {
    /// Preference (lower is tried first).
    pub preference: u16,
    /// Host name, lower-case, without the trailing dot (`.` for a null MX).
    pub host: String,
    /// STARTTLS and TLS on port 25 (the first `--max-mx` hosts are probed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<mx_tls::MxTlsFacts>,
    /// DANE: the TLSA records at `_25._tcp.HOST`, matched against the served chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dane: Option<dane::DaneFacts>,
}

/// MX records in presentation format (`10 mx.example.com.`) as hosts sorted by preference then
/// name; a null MX (`0 .`) is kept as host `.`. Records that do not parse are skipped.
pub fn parse_mx(records: &[String]) -> Vec<MxFacts> {
    let mut hosts: Vec<MxFacts> = records
        .iter()
        .filter_map(|record| {
            let (preference, host) = record.trim().split_once(' ')?;
            let host = host.trim();
            Some(MxFacts {
                preference: preference.parse().ok()?,
                host: if host == "." {
                    ".".to_string()
                } else {
                    spf_walk::normalise(host)
                },
                ..MxFacts::default()
            })
        })
        .collect();
    hosts.sort_by(|a, b| (a.preference, &a.host).cmp(&(b.preference, &b.host)));
    hosts
}

/// The texts of a recorded TXT answer, each record's strings joined (records that are not in
/// presentation format are skipped). Empty for anything but an answer.
pub fn txt_texts(outcome: &DnsOutcome) -> Vec<String> {
    match outcome {
        DnsOutcome::Answer { records } => records
            .iter()
            .filter_map(|r| crate::evidence::txt::joined(r))
            .collect(),
        _ => Vec::new(),
    }
}

/// The organisational domain of `domain`, approximated as its last two labels (no public
/// suffix list is bundled: `example.co.uk` gives `co.uk`, a documented limit).
pub fn organizational_domain(domain: &str) -> String {
    let labels: Vec<&str> = domain.split('.').collect();
    labels[labels.len().saturating_sub(2)..].join(".")
}
