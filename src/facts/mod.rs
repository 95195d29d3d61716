//! Facts: typed values derived from [`Evidence`] by parsers, forming one documented path tree.
//!
//! Paths such as `http.hsts.max_age` are the field names of [`Facts`]; the JSON Schema generated
//! from these types (see [`catalogue`]) is both the documentation and what rule files are checked
//! against. A fact that could not be observed is absent, and the reason is kept in
//! [`Facts::unobserved`] under the path it would have had, so rules see "inconclusive", never a
//! default value. Derivation is pure and deterministic.

pub mod caa;
pub mod catalogue;
pub mod cdn;
pub mod ciphers;
pub mod compression;
pub mod cookie;
pub mod cors;
pub mod csp;
pub mod ct;
pub mod dh_primes;
pub mod dnssec;
pub mod exposure;
pub mod headers;
pub mod hsts;
pub mod html;
pub mod mail;
pub mod redirects;
pub mod security_headers;
pub mod sri;
pub mod tls;
pub mod vulns;
pub mod x509;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use catalogue::{Catalogue, FactInfo, FactKind};
pub use cookie::CookieFacts;
pub use cors::CorsFacts;
pub use csp::CspFacts;
pub use headers::{DisclosureFacts, HeaderFacts};
pub use hsts::HstsFacts;
pub use redirects::{RedirectFacts, SchemeFacts};
pub use security_headers::{
    ContentTypeOptionsStatus, EmbedderPolicyStatus, ExpectCtFacts, FrameOptionsStatus,
    JudgedHeader, OpenerPolicyStatus, PermissionsPolicyFacts, ReferrerStatus, ResourcePolicyStatus,
    XssProtectionStatus,
};
pub use sri::SriFacts;

use crate::evidence::{ChainEnd, DnsOutcome, Evidence, FetchChain, HttpHop};

/// The whole fact tree of one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Facts {
    /// The audited name and where it pointed.
    pub target: TargetFacts,
    /// What the HTTP and HTTPS fetches showed.
    pub http: HttpFacts,
    /// Every cookie set on any response of either chain, in the order received.
    pub cookies: Vec<CookieFacts>,
    /// The TLS scan of the HTTPS endpoint; absent when it did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<tls::TlsFacts>,
    /// The HTTPS endpoint's certificate (from the TLS scan's handshake).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<x509::CertFacts>,
    /// DNS records of the target's name.
    pub dns: DnsFacts,
    /// Mail records of the mail domain (SPF, DMARC, DKIM, MTA-STS, TLS-RPT, BIMI, MX).
    pub mail: mail::MailFacts,
    /// What the site exposes beyond its pages: `security.txt`, artefacts, open ports, SSH,
    /// disclosed versions.
    pub exposure: exposure::ExposureFacts,
    /// Paths that could not be observed, with the reason.
    pub unobserved: BTreeMap<String, String>,
}

/// DNS facts of the target's name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DnsFacts {
    /// The CAA policy (RFC 8659) that applies to the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caa: Option<caa::CaaFacts>,
    /// DNSSEC status of the name, validated from the trust anchor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dnssec: Option<dnssec::DnssecFacts>,
}

/// The target as resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TargetFacts {
    /// Host name or IP literal audited.
    pub host: String,
    /// IP addresses the target's name resolved to (or was overridden to, port dropped), deduplicated.
    pub addresses: Vec<String>,
}

/// HTTP-layer facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HttpFacts {
    /// `http://HOST/` reachability.
    pub plain: SchemeFacts,
    /// `https://HOST/` reachability and certificate verdict.
    pub https: SchemeFacts,
    /// The redirect chain starting at `http://HOST/`; absent when plain HTTP did not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirects: Option<RedirectFacts>,
    /// Strict-Transport-Security on the first HTTPS response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hsts: Option<HstsFacts>,
    /// Content-Security-Policy of the final HTTPS response (headers and `<meta>`), analysed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csp: Option<CspFacts>,
    /// Content-Security-Policy-Report-Only on the final HTTPS response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csp_report_only: Option<HeaderFacts>,
    /// Referrer-Policy on the final HTTPS response: `safe`, `unsafe` or `invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer_policy: Option<JudgedHeader<ReferrerStatus>>,
    /// X-Frame-Options on the final HTTPS response: `deny`, `sameorigin`, `allow_from` or
    /// `invalid` (CSP `frame-ancestors` supersedes it: `http.csp.frame_ancestors_restricted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_frame_options: Option<JudgedHeader<FrameOptionsStatus>>,
    /// X-Content-Type-Options on the final HTTPS response: `nosniff` or `invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_content_type_options: Option<JudgedHeader<ContentTypeOptionsStatus>>,
    /// Permissions-Policy on the final HTTPS response, parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_policy: Option<PermissionsPolicyFacts>,
    /// X-XSS-Protection on the final HTTPS response (obsolete; `0` or absent is recommended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_xss_protection: Option<JudgedHeader<XssProtectionStatus>>,
    /// Expect-CT on the final HTTPS response (obsolete: browsers ignore it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_ct: Option<ExpectCtFacts>,
    /// Cross-Origin-Opener-Policy on the final HTTPS response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coop: Option<JudgedHeader<OpenerPolicyStatus>>,
    /// Cross-Origin-Embedder-Policy on the final HTTPS response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coep: Option<JudgedHeader<EmbedderPolicyStatus>>,
    /// Cross-Origin-Resource-Policy on the final HTTPS response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corp: Option<JudgedHeader<ResourcePolicyStatus>>,
    /// Cross-origin resource sharing: the final response's headers and the answer to a foreign
    /// `Origin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<CorsFacts>,
    /// Subresource Integrity of the scripts of the final HTTPS page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sri: Option<SriFacts>,
    /// Whether the final HTTPS page is served compressed when compression is offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<compression::CompressionFacts>,
    /// `Server` header of the final HTTPS response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<DisclosureFacts>,
    /// `X-Powered-By` header of the final HTTPS response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_powered_by: Option<DisclosureFacts>,
    /// Number of `Set-Cookie` lines seen on either chain.
    pub cookie_count: u32,
    /// The CDN or DDoS-protection provider in front of the site, from every response's headers,
    /// the certificate issuer and the addresses; absent when no response arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cdn: Option<cdn::CdnFacts>,
}

/// Facts read from the final HTTPS response; unobserved together when there is none.
const FINAL_RESPONSE_FACTS: [&str; 16] = [
    "csp",
    "csp_report_only",
    "referrer_policy",
    "x_frame_options",
    "x_content_type_options",
    "permissions_policy",
    "x_xss_protection",
    "expect_ct",
    "coop",
    "coep",
    "corp",
    "cors",
    "sri",
    "server",
    "x_powered_by",
    "cors.probe",
];

impl Facts {
    /// Derives the fact tree from evidence. Pure: same evidence, same facts.
    pub fn derive(evidence: &Evidence) -> Self {
        Self::derive_with(evidence, None)
    }

    /// Derives the fact tree, verifying SCTs against `ct_logs` when a CT log list is available.
    pub fn derive_with(evidence: &Evidence, ct_logs: Option<&crate::ct::LogList>) -> Self {
        let mut unobserved = BTreeMap::new();
        let plain = evidence.http.plain.as_ref();
        let secure = evidence.http.secure.as_ref();
        let mut http = HttpFacts {
            plain: plain
                .map(|c| SchemeFacts::from_chain(c, false))
                .unwrap_or_default(),
            https: secure
                .map(|c| SchemeFacts::from_chain(c, true))
                .unwrap_or_default(),
            redirects: None,
            hsts: None,
            csp: None,
            csp_report_only: None,
            referrer_policy: None,
            x_frame_options: None,
            x_content_type_options: None,
            permissions_policy: None,
            x_xss_protection: None,
            expect_ct: None,
            coop: None,
            coep: None,
            corp: None,
            cors: None,
            compression: None,
            sri: None,
            server: None,
            x_powered_by: None,
            cookie_count: 0,
            cdn: None,
        };
        match plain {
            Some(chain) if !chain.hops.is_empty() => {
                http.redirects = Some(RedirectFacts::from_plain_chain(
                    chain,
                    &evidence.target.host,
                ));
            }
            other => {
                unobserved.insert("http.redirects".to_string(), chain_failure(other, "HTTP"));
            }
        }
        match secure.and_then(|chain| chain.hops.first()) {
            Some(first) => {
                http.hsts = Some(HstsFacts::from_values(
                    first.header_values("strict-transport-security"),
                ));
            }
            None => {
                unobserved.insert("http.hsts".to_string(), chain_failure(secure, "HTTPS"));
            }
        }
        match secure.and_then(final_response) {
            Some(last) => {
                apply_final_headers(&mut http, last);
                http.cors = Some(CorsFacts::derive(last, evidence.http.cors.as_ref()));
                if http.cors.as_ref().is_some_and(|c| c.probe.is_none()) {
                    let reason = match &evidence.http.cors {
                        Some(probe) => match &probe.error {
                            Some(error) => format!("the CORS request failed: {error}"),
                            None => "the CORS request got no response".to_string(),
                        },
                        None => "the CORS request was not made".to_string(),
                    };
                    unobserved.insert("http.cors.probe".to_string(), reason);
                }
            }
            None => {
                let reason = match secure {
                    Some(chain) if !chain.hops.is_empty() => {
                        format!(
                            "the HTTPS redirect chain did not end in a response ({})",
                            end_name(&chain.end)
                        )
                    }
                    other => chain_failure(other, "HTTPS"),
                };
                for field in FINAL_RESPONSE_FACTS {
                    unobserved.insert(format!("http.{field}"), reason.clone());
                }
            }
        }
        if let Some(hsts) = http.hsts.as_mut() {
            let same_host = http.redirects.as_ref().map(|r| r.first_hop_same_host);
            hsts.judge_preload(http.https.certificate_valid == Some(true), same_host);
        }
        // Both chains may fetch the same URL (http:// redirects to https://HOST/): a line set by
        // the same URL is one cookie, not two.
        let mut seen = std::collections::BTreeSet::new();
        let cookies: Vec<CookieFacts> = [plain, secure]
            .into_iter()
            .flatten()
            .flat_map(|chain| chain.hops.iter())
            .flat_map(|hop| hop.header_values("set-cookie").map(move |line| (hop, line)))
            .filter(|(hop, line)| seen.insert((hop.url.as_str(), *line)))
            .map(|(hop, line)| {
                CookieFacts::from_line(line, &hop.url, hop.url.starts_with("http://"))
            })
            .collect();
        http.cookie_count = u32::try_from(cookies.len()).unwrap_or(u32::MAX);
        let now = humantime::parse_rfc3339(&evidence.started_at)
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let cert = match evidence.tls.as_ref() {
            Some(scan) => match x509::derive(scan, now, ct_logs) {
                x509::CertDerivation::Facts(facts) => {
                    if ct_logs.is_none() && facts.ct.is_some() {
                        unobserved.insert(
                            "cert.ct".to_string(),
                            "no CT log list: run `secaudit ct update` or pass --ct-log-list FILE"
                                .to_string(),
                        );
                    }
                    Some(*facts)
                }
                x509::CertDerivation::Unobserved(reason) => {
                    unobserved.insert("cert".to_string(), reason);
                    None
                }
            },
            None => {
                unobserved.insert("cert".to_string(), no_scan_reason(evidence));
                None
            }
        };
        let addresses = target_addresses(evidence);
        let hops: Vec<&HttpHop> = [plain, secure]
            .into_iter()
            .flatten()
            .flat_map(|chain| chain.hops.iter())
            .collect();
        if hops.is_empty() {
            unobserved.insert(
                "http.cdn".to_string(),
                "neither HTTP nor HTTPS gave a response".to_string(),
            );
        } else {
            http.cdn = Some(cdn::derive(
                hops,
                cert.as_ref().map(|c| c.issuer.as_str()),
                &addresses,
            ));
        }
        let today = humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(now).unwrap_or(0)),
        )
        .to_string();
        let exposure = exposure::derive(evidence, &today[..10], now, &mut unobserved);
        let issuer = cert.as_ref().map(|c| (c.issuer.as_str(), c.wildcard));
        let dns = DnsFacts {
            caa: match caa::derive(&evidence.target.host, &evidence.dns, issuer) {
                caa::CaaDerivation::Facts(facts) => Some(facts),
                caa::CaaDerivation::Unobserved(reason) => {
                    unobserved.insert("dns.caa".to_string(), reason);
                    None
                }
            },
            dnssec: dnssec::derive(
                evidence.dnssec.as_ref(),
                &evidence.target.host,
                &mut unobserved,
            ),
        };
        let mut mail = derive_mail(evidence, &mut unobserved);
        if let Some(observed) = &evidence.mail {
            mail.dnssec =
                dnssec::derive_mail(evidence.dnssec.as_ref(), &observed.domain, &mut unobserved);
            mail::mx_tls::derive(
                &mut mail,
                observed,
                evidence.dnssec.as_ref(),
                now,
                &mut unobserved,
            );
        }
        match evidence
            .http
            .compression
            .as_ref()
            .map(compression::CompressionFacts::derive)
        {
            Some(Ok(facts)) => http.compression = Some(facts),
            Some(Err(reason)) => {
                unobserved.insert("http.compression".to_string(), reason);
            }
            None => {
                unobserved.insert(
                    "http.compression".to_string(),
                    "the compression request was not made (HTTPS did not end in a response)"
                        .to_string(),
                );
            }
        }
        let tls = match &evidence.tls {
            Some(scan) => {
                let mut derived = tls::TlsFacts::derive(scan);
                let breach = vulns::breach(http.compression.as_ref());
                if breach.vulnerable.is_none() {
                    derived.unobserved.push((
                        "tls.vulnerabilities.breach.vulnerable".to_string(),
                        breach.reason.clone(),
                    ));
                }
                derived.facts.vulnerabilities.breach = Some(breach);
                unobserved.extend(derived.unobserved);
                Some(derived.facts)
            }
            None => {
                unobserved.insert("tls".to_string(), no_scan_reason(evidence));
                None
            }
        };
        for area in &evidence.not_probed {
            let reason = format!("not probed: the audit left out `{}` (--only)", area.name());
            for root in area.fact_roots() {
                unobserved.insert((*root).to_string(), reason.clone());
            }
            if *area == crate::evidence::ProbeArea::Vulns {
                for name in vulns::ACTIVE_PROBES {
                    if let Some(why) =
                        unobserved.get_mut(&format!("tls.vulnerabilities.{name}.vulnerable"))
                    {
                        why.clone_from(&reason);
                    }
                }
            }
        }
        Self {
            target: TargetFacts {
                host: evidence.target.host.clone(),
                addresses,
            },
            http,
            cookies,
            tls,
            cert,
            dns,
            mail,
            exposure,
            unobserved,
        }
    }

    /// The fact tree as JSON, the form rules are evaluated against.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Why there is no TLS scan: the STARTTLS conversation of an endpoint target that did not get
/// as far as TLS, or the scan not running at all.
fn no_scan_reason(evidence: &Evidence) -> String {
    match &evidence.starttls {
        Some(conversation) => format!(
            "{} STARTTLS: {}",
            conversation.protocol,
            conversation.outcome.describe()
        ),
        None => "the TLS scan did not run".to_string(),
    }
}

/// Mail facts from the recorded answers; all unobserved when mail was not probed.
fn derive_mail(evidence: &Evidence, unobserved: &mut BTreeMap<String, String>) -> mail::MailFacts {
    let Some(observed) = &evidence.mail else {
        unobserved.insert(
            "mail".to_string(),
            "mail records were not probed (IP-literal target or older evidence)".to_string(),
        );
        return mail::MailFacts::default();
    };
    let answers = recorded_answers(&evidence.dns);
    let lookup = |name: &str, record_type: &str| {
        answers
            .get(&(name.to_string(), record_type.to_string()))
            .map(|outcome| (*outcome).clone())
    };
    mail::derive(
        &observed.domain,
        &observed.dkim_selectors,
        observed.mta_sts_policy.as_ref(),
        &lookup,
        unobserved,
    )
}

/// Recorded lookups by (lower-case name without trailing dot, type); address overrides count as
/// answers.
pub fn recorded_answers(
    lookups: &[crate::evidence::DnsLookup],
) -> BTreeMap<(String, String), DnsOutcome> {
    lookups
        .iter()
        .map(|lookup| {
            let outcome = match &lookup.outcome {
                DnsOutcome::Overridden { records } => DnsOutcome::Answer {
                    records: records.clone(),
                },
                other => other.clone(),
            };
            (
                (
                    mail::spf_walk::normalise(&lookup.name),
                    lookup.record_type.clone(),
                ),
                outcome,
            )
        })
        .collect()
}

/// The last response of a chain that ended normally.
fn final_response(chain: &FetchChain) -> Option<&HttpHop> {
    match chain.end {
        ChainEnd::Final => chain.hops.last(),
        _ => None,
    }
}

fn end_name(end: &ChainEnd) -> &'static str {
    match end {
        ChainEnd::Final => "final",
        ChainEnd::TooManyRedirects { .. } => "too many redirects",
        ChainEnd::BadLocation { .. } => "redirect without a usable Location",
        ChainEnd::Failed { .. } => "a request failed",
    }
}

fn chain_failure(chain: Option<&FetchChain>, scheme: &str) -> String {
    match chain.map(|c| &c.end) {
        Some(ChainEnd::Failed { url, error }) => format!("{scheme} not reachable: {url}: {error}"),
        Some(_) => format!("{scheme} gave no response"),
        None => format!("{scheme} was not probed"),
    }
}

fn apply_final_headers(http: &mut HttpFacts, hop: &HttpHop) {
    use security_headers as judge;
    let headers: Vec<&str> = hop.header_values("content-security-policy").collect();
    let is_html = hop
        .header_values("content-type")
        .next()
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("html"));
    let meta = match (&hop.body.text, is_html) {
        (Some(text), true) => csp::meta_policies(text),
        _ => Vec::new(),
    };
    let meta: Vec<&str> = meta.iter().map(String::as_str).collect();
    let report_only = hop
        .header_values("content-security-policy-report-only")
        .next()
        .is_some();
    http.csp = Some(CspFacts::analyse(csp::CspInput {
        headers: &headers,
        meta: &meta,
        report_only,
        https: hop.url.starts_with("https://"),
    }));
    http.csp_report_only = Some(HeaderFacts::from_hop(
        hop,
        "content-security-policy-report-only",
    ));
    http.referrer_policy = Some(judge::referrer_policy(hop));
    http.x_frame_options = Some(judge::x_frame_options(hop));
    http.x_content_type_options = Some(judge::x_content_type_options(hop));
    http.permissions_policy = Some(judge::permissions_policy(hop));
    http.x_xss_protection = Some(judge::x_xss_protection(hop));
    http.expect_ct = Some(judge::expect_ct(hop));
    http.coop = Some(judge::coop(hop));
    http.coep = Some(judge::coep(hop));
    http.corp = Some(judge::corp(hop));
    http.sri = Some(SriFacts::derive(hop));
    http.server = Some(DisclosureFacts::from_hop(hop, "server"));
    http.x_powered_by = Some(DisclosureFacts::from_hop(hop, "x-powered-by"));
}

fn target_addresses(evidence: &Evidence) -> Vec<String> {
    let host = &evidence.target.host;
    let mut addresses: Vec<String> = Vec::new();
    if host.parse::<std::net::IpAddr>().is_ok() {
        addresses.push(host.clone());
    }
    for lookup in evidence.dns.iter().filter(|l| {
        l.name.eq_ignore_ascii_case(host)
            && matches!(l.record_type.as_str(), "A" | "AAAA" | "A/AAAA")
    }) {
        let records = match &lookup.outcome {
            DnsOutcome::Answer { records } | DnsOutcome::Overridden { records } => records,
            _ => continue,
        };
        for record in records {
            // A `--connect` override records IP:PORT; the fact is the address alone.
            let address = record
                .parse::<std::net::SocketAddr>()
                .map_or_else(|_| record.clone(), |socket| socket.ip().to_string());
            if !addresses.contains(&address) {
                addresses.push(address);
            }
        }
    }
    addresses
}

#[cfg(test)]
mod tests;
