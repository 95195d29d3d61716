//! CDN and DDoS-protection fingerprint (`http.cdn`): the provider in front of the site, from
//! the headers it adds to every response (`cf-ray`, `x-amz-cf-id`, `x-served-by`, `akamai-*`,
//! …), its `Server` value, the certificate issuer, and Cloudflare's published address ranges.
//! A fingerprint shows a provider proxies the responses; which protection plan is active cannot
//! be seen from outside.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evidence::HttpHop;

/// The provider in front of the site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CdnFacts {
    /// A CDN or DDoS-protection provider was recognised.
    pub detected: bool,
    /// The provider with the most signals: `cloudflare`, `cloudfront`, `fastly`, `akamai`,
    /// `azure_front_door`, `sucuri`, `imperva`, `bunny`; absent when none was recognised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Every signal seen, as `provider: what` (e.g. `cloudflare: cf-ray header`), sorted.
    pub signals: Vec<String>,
}

/// Header names (lower case, exact or as a prefix ending in `-`) that a provider adds.
const HEADER_SIGNALS: [(&str, &str); 12] = [
    ("cf-ray", "cloudflare"),
    ("cf-cache-status", "cloudflare"),
    ("x-amz-cf-id", "cloudfront"),
    ("x-amz-cf-pop", "cloudfront"),
    ("x-fastly-request-id", "fastly"),
    ("fastly-", "fastly"),
    ("akamai-", "akamai"),
    ("x-akamai-", "akamai"),
    ("x-azure-ref", "azure_front_door"),
    ("x-sucuri-id", "sucuri"),
    ("x-iinfo", "imperva"),
    ("cdn-requestid", "bunny"),
];

/// `Server` values (lower case, prefix) a provider sets.
const SERVER_SIGNALS: [(&str, &str); 6] = [
    ("cloudflare", "cloudflare"),
    ("cloudfront", "cloudfront"),
    ("akamaighost", "akamai"),
    ("akamainetstorage", "akamai"),
    ("sucuri/cloudproxy", "sucuri"),
    ("bunnycdn", "bunny"),
];

/// Cloudflare's published IPv4 and IPv6 ranges (cloudflare.com/ips, as of 2025).
const CLOUDFLARE_RANGES: [&str; 22] = [
    "173.245.48.0/20",
    "103.21.244.0/22",
    "103.22.200.0/22",
    "103.31.4.0/22",
    "141.101.64.0/18",
    "108.162.192.0/18",
    "190.93.240.0/20",
    "188.114.96.0/20",
    "197.234.240.0/22",
    "198.41.128.0/17",
    "162.158.0.0/15",
    "104.16.0.0/13",
    "104.24.0.0/14",
    "172.64.0.0/13",
    "131.0.72.0/22",
    "2400:cb00::/32",
    "2606:4700::/32",
    "2803:f800::/32",
    "2405:b500::/32",
    "2405:8100::/32",
    "2a06:98c0::/29",
    "2c0f:f248::/32",
];

/// Derives the fingerprint from the responses, the certificate issuer and the addresses.
pub fn derive<'a>(
    hops: impl IntoIterator<Item = &'a HttpHop>,
    issuer: Option<&str>,
    addresses: &[String],
) -> CdnFacts {
    let mut signals: Vec<(String, String)> = Vec::new();
    let mut add = |provider: &str, what: String| {
        let signal = (provider.to_string(), what);
        if !signals.contains(&signal) {
            signals.push(signal);
        }
    };
    for hop in hops {
        for line in &hop.headers {
            let name = line.name.to_ascii_lowercase();
            for (header, provider) in HEADER_SIGNALS {
                let hit = if header.ends_with('-') {
                    name.starts_with(header)
                } else {
                    name == header
                };
                if hit {
                    add(provider, format!("{name} header"));
                }
            }
            let value = line.value.trim().to_ascii_lowercase();
            if name == "server" {
                for (prefix, provider) in SERVER_SIGNALS {
                    if value.starts_with(prefix) {
                        add(provider, format!("server: {value}"));
                    }
                }
            }
            if name == "via" && value.contains("cloudfront") {
                add("cloudfront", "via: CloudFront".to_string());
            }
            if name == "x-served-by" && value.starts_with("cache-") {
                add("fastly", "x-served-by: cache-…".to_string());
            }
            if name == "x-cdn" && value.contains("incapsula") {
                add("imperva", "x-cdn: Incapsula".to_string());
            }
        }
    }
    if let Some(issuer) = issuer {
        let lower = issuer.to_ascii_lowercase();
        if lower.contains("cloudflare") {
            add("cloudflare", "certificate issued by Cloudflare".to_string());
        }
    }
    let in_cloudflare: Vec<&String> = addresses
        .iter()
        .filter(|a| {
            a.parse::<IpAddr>()
                .is_ok_and(|ip| in_ranges(ip, &CLOUDFLARE_RANGES))
        })
        .collect();
    if !addresses.is_empty() && in_cloudflare.len() == addresses.len() {
        add(
            "cloudflare",
            "every address in Cloudflare's published ranges".to_string(),
        );
    }
    signals.sort();
    let mut tally: Vec<(usize, &str)> = Vec::new();
    for (provider, _) in &signals {
        match tally.iter_mut().find(|(_, p)| p == provider) {
            Some(entry) => entry.0 += 1,
            None => tally.push((1, provider)),
        }
    }
    // Most signals wins; ties go to the alphabetically first name, so the result is stable.
    let provider = tally
        .iter()
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)))
        .map(|(_, p)| (*p).to_string());
    CdnFacts {
        detected: provider.is_some(),
        provider,
        signals: signals
            .into_iter()
            .map(|(provider, what)| format!("{provider}: {what}"))
            .collect(),
    }
}

fn in_ranges(ip: IpAddr, ranges: &[&str]) -> bool {
    ranges.iter().any(|range| {
        let Some((net, bits)) = range.split_once('/') else {
            return false;
        };
        let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
            return false;
        };
        match (ip, net) {
            (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                u32::from(ip) & mask == u32::from(net) & mask
            }
            (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                u128::from(ip) & mask == u128::from(net) & mask
            }
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudflare_by_headers_and_addresses() {
        let hop = HttpHop::with_headers(&[("server", "cloudflare"), ("cf-ray", "8f1d-FRA")]);
        let facts = derive([&hop], None, &["104.16.132.229".into()]);
        assert_eq!(facts.provider.as_deref(), Some("cloudflare"));
        assert_eq!(
            facts.signals,
            [
                "cloudflare: cf-ray header",
                "cloudflare: every address in Cloudflare's published ranges",
                "cloudflare: server: cloudflare",
            ]
        );
    }

    #[test]
    fn other_providers_and_none() {
        let hop = HttpHop::with_headers(&[
            ("x-amz-cf-id", "abc"),
            ("via", "1.1 x.cloudfront.net (CloudFront)"),
        ]);
        assert_eq!(
            derive([&hop], None, &[]).provider.as_deref(),
            Some("cloudfront")
        );
        let hop = HttpHop::with_headers(&[("x-served-by", "cache-fra-123"), ("akamai-grn", "x")]);
        let facts = derive([&hop], None, &[]);
        assert_eq!(facts.signals.len(), 2);
        assert_eq!(facts.provider.as_deref(), Some("akamai"));
        let plain = HttpHop::with_headers(&[("server", "nginx")]);
        let facts = derive(
            [&plain],
            Some("CN=R11, O=Let's Encrypt"),
            &["192.0.2.1".into()],
        );
        assert!(!facts.detected);
        assert_eq!(facts.provider, None);
    }

    #[test]
    fn ranges() {
        assert!(in_ranges(
            "104.23.255.1".parse().unwrap(),
            &CLOUDFLARE_RANGES
        ));
        assert!(!in_ranges(
            "104.32.0.1".parse().unwrap(),
            &CLOUDFLARE_RANGES
        ));
        assert!(in_ranges(
            "2606:4700::1".parse().unwrap(),
            &CLOUDFLARE_RANGES
        ));
        assert!(in_ranges(
            "2a06:98c7::1".parse().unwrap(),
            &CLOUDFLARE_RANGES
        ));
    }
}
