//! The mail probe: the DNS records of the mail domain (MX, SPF with its include tree, DMARC and
//! report authorisations, DKIM selectors, MTA-STS, TLS-RPT, BIMI) and the MTA-STS policy file.
//!
//! It does not decide what to ask by itself: the facts layer's derivation lists the lookups it
//! still lacks ([`crate::facts::mail::missing_lookups`]), the probe makes them all concurrently,
//! and repeats until nothing is missing. Every answer lands in the resolver's lookup log, so the
//! facts are re-derived offline from exactly what was asked. Probes never judge.

use std::str::FromStr;

use futures_util::future::join_all;
use hickory_resolver::proto::rr::RecordType;
use tokio::time::Instant;

use super::Limits;
use super::http::HttpProbe;
use crate::evidence::MailEvidence;
use crate::facts::mail::{missing_lookups, mta_sts, txt_texts};
use crate::net::{Resolver, TrustAnchors};

/// Most rounds of lookups (each round is one level deeper in the SPF include tree, or the DMARC
/// fallback and report authorisations); the SPF walk bounds itself too.
const MAX_ROUNDS: usize = 16;

/// Most bytes read of an MTA-STS policy file (RFC 8461 section 3.3 lets senders limit it; real
/// policies are a few hundred bytes).
const MAX_POLICY_BYTES: usize = 64 * 1024;

/// Looks up every mail record of `domain` and fetches its MTA-STS policy when it announces one.
pub async fn probe(
    resolver: &Resolver,
    trust: &TrustAnchors,
    domain: &str,
    selectors: &[String],
    deadline: Instant,
    limits: Limits,
) -> MailEvidence {
    let domain = crate::facts::mail::spf_walk::normalise(domain);
    for _ in 0..MAX_ROUNDS {
        let recorded = |name: &str, record_type: &str| resolver.recorded(name, record_type);
        let missing = missing_lookups(&domain, selectors, &recorded);
        if missing.is_empty() {
            break;
        }
        join_all(missing.iter().filter_map(|(name, record_type)| {
            let record_type = RecordType::from_str(record_type).ok()?;
            Some(resolver.records(name, record_type))
        }))
        .await;
    }
    let announces_sts = resolver
        .recorded(&format!("_mta-sts.{domain}"), "TXT")
        .is_some_and(|outcome| txt_texts(&outcome).iter().any(|t| mta_sts::is_record(t)));
    let mta_sts_policy = if announces_sts {
        let limits = Limits {
            max_redirects: 0,
            max_body_bytes: MAX_POLICY_BYTES,
            max_body_text: MAX_POLICY_BYTES,
            ..limits
        };
        let http = HttpProbe::new(resolver, trust, deadline, limits);
        Some(
            http.fetch_chain(format!("https://mta-sts.{domain}/.well-known/mta-sts.txt"))
                .await,
        )
    } else {
        None
    };
    MailEvidence {
        domain,
        dkim_selectors: selectors.to_vec(),
        mta_sts_policy,
        mx: Vec::new(),
    }
}
