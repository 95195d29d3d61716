//! The MX probe: for each MX host of the mail domain (by preference, at most `--max-mx`), the
//! SMTP STARTTLS conversation on port 25, the full TLS scan through STARTTLS, and the DANE TLSA
//! records at `_25._tcp.HOST` through the validating lookup path.
//!
//! Hosts are probed concurrently, each under the per-target deadline and with its own per-host
//! connection cap. What the TLSA lookup returns lands in the validator's log (the DNSSEC
//! evidence), with its verdict; the served chain is also validated with each of its own CA
//! certificates as the only anchor, which DANE-TA needs. Probes never judge: whether STARTTLS
//! counts as offered, and whether DANE matches, is decided in `facts::mail`.

use futures_util::future::join_all;
use hickory_resolver::proto::rr::RecordType;
use tokio::time::Instant;

use super::tls::{TlsLimits, TlsScan};
use crate::evidence::tls::TlsEvidence;
use crate::evidence::{MxEvidence, StarttlsOutcome, StarttlsProtocol, TaCheck};
use crate::facts::mail::MxFacts;
use crate::facts::mail::dane::{served_chain, tlsa_name};
use crate::net::{Resolver, TrustAnchors, Validator};

/// How many MX hosts are probed by default (`--max-mx`).
pub const DEFAULT_MAX_MX: usize = 5;

/// The SMTP port MX hosts are probed on.
pub const SMTP_PORT: u16 = 25;

/// What the MX probe needs besides the hosts.
pub struct MxProbe<'a> {
    /// Resolver for the hosts' addresses (with `--connect` overrides).
    pub resolver: &'a Resolver,
    /// The validating lookup path for TLSA records; `None` with `--no-dns`.
    pub validator: Option<&'a Validator>,
    /// Roots for certificate validation.
    pub trust: &'a TrustAnchors,
    /// The per-target deadline.
    pub deadline: Instant,
    /// Bounds of each host's TLS scan (the connection cap applies per host).
    pub limits: TlsLimits,
    /// Most hosts probed.
    pub max_mx: usize,
}

impl MxProbe<'_> {
    /// Probes the first `max_mx` of `hosts` (sorted by preference; a null MX is skipped)
    /// concurrently.
    pub async fn run(&self, hosts: &[MxFacts]) -> Vec<MxEvidence> {
        let mut seen: Vec<&str> = Vec::new();
        let chosen: Vec<&MxFacts> = hosts
            .iter()
            .filter(|h| h.host != "." && !h.host.is_empty())
            .filter(|h| {
                let new = !seen.contains(&h.host.as_str());
                seen.push(&h.host);
                new
            })
            .take(self.max_mx)
            .collect();
        join_all(chosen.into_iter().map(|mx| self.host(mx))).await
    }

    async fn host(&self, mx: &MxFacts) -> MxEvidence {
        let tlsa = async {
            if let Some(validator) = self.validator {
                validator
                    .validate(&tlsa_name(&mx.host), RecordType::TLSA)
                    .await;
            }
        };
        let (evidence, ()) = tokio::join!(self.scan(mx), tlsa);
        evidence
    }

    async fn scan(&self, mx: &MxFacts) -> MxEvidence {
        let mut evidence = MxEvidence {
            host: mx.host.clone(),
            preference: mx.preference,
            starttls: None,
            tls: None,
            ta_checks: Vec::new(),
        };
        let addr = match self.resolver.addresses(&mx.host, SMTP_PORT).await {
            Ok(addresses) => addresses.first().copied(),
            Err(error) => {
                evidence.tls = Some(TlsEvidence::unresolved(
                    format!("{}:{SMTP_PORT}", mx.host),
                    error,
                ));
                return evidence;
            }
        };
        let Some(addr) = addr else {
            return evidence;
        };
        let scan = TlsScan::new(addr, &mx.host, self.trust, self.deadline, self.limits)
            .with_starttls(StarttlsProtocol::Smtp);
        let starttls = scan.starttls_probe().await;
        let ready = matches!(
            starttls.as_ref().map(|s| &s.outcome),
            Some(StarttlsOutcome::Ready { .. })
        );
        evidence.starttls = starttls;
        if ready {
            // Boxed: a TLS scan is a large future.
            let tls = Box::pin(scan.run()).await;
            evidence.ta_checks = ta_checks(&tls, &mx.host);
            evidence.tls = Some(tls);
        }
        evidence
    }
}

/// The served chain (of the main handshake, else of the raw Certificate message) validated for
/// `host` with each certificate after the leaf as the only trust anchor.
fn ta_checks(tls: &TlsEvidence, host: &str) -> Vec<TaCheck> {
    let chain = served_chain(tls);
    chain
        .iter()
        .enumerate()
        .skip(1)
        .map(|(position, anchor)| {
            let anchors = TrustAnchors::Custom(vec![anchor.clone().into()]);
            TaCheck {
                position: u32::try_from(position).unwrap_or(u32::MAX),
                check: anchors.check_chain(&chain, host),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlsa_owner_name() {
        assert_eq!(tlsa_name("mx1.example.test"), "_25._tcp.mx1.example.test");
    }
}
