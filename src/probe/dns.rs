//! DNS probes beyond address resolution: today the CAA record set of the target (RFC 8659).
//!
//! Every answer is recorded through the resolver's lookup log, keyed by (name, type), so the facts
//! are re-derived offline from the recorded answers. Probes never judge.

use hickory_resolver::proto::rr::RecordType;

use crate::evidence::DnsOutcome;
use crate::net::Resolver;

/// The names whose CAA sets decide for `host`, closest first (RFC 8659 section 3: climb towards
/// the root until a non-empty set is found). The climb stops at two labels: without a public
/// suffix list, top-level domains are not asked. Empty for IP literals.
pub fn caa_climb(host: &str) -> Vec<String> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() || host.is_empty() {
        return Vec::new();
    }
    let labels: Vec<&str> = host.split('.').collect();
    let stop = labels.len().saturating_sub(1).max(1);
    (0..stop).map(|i| labels[i..].join(".")).collect()
}

/// Looks up the CAA sets along [`caa_climb`] until one is non-empty or a lookup fails.
pub async fn caa(resolver: &Resolver, host: &str) {
    for name in caa_climb(host) {
        match resolver.records(&name, RecordType::CAA).await {
            DnsOutcome::Answer { records } if !records.is_empty() => return,
            DnsOutcome::Answer { .. } | DnsOutcome::NoRecords { .. } => {}
            DnsOutcome::Failed { .. } | DnsOutcome::Overridden { .. } => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn climbs_to_two_labels() {
        assert_eq!(
            caa_climb("www.Shop.example.test."),
            ["www.shop.example.test", "shop.example.test", "example.test"]
        );
        assert_eq!(caa_climb("example.test"), ["example.test"]);
        assert_eq!(caa_climb("localhost"), ["localhost"]);
        assert!(caa_climb("127.0.0.1").is_empty());
        assert!(caa_climb("::1").is_empty());
    }
}
