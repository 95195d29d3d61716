//! Network probes: they talk to the target and fill [`Evidence`], and never judge.
//!
//! All probes of a target run concurrently under one deadline. Every network operation is bounded
//! in time (by the deadline) and in size (by [`Limits`]); a failure becomes evidence with its
//! reason instead of an error that aborts the audit.

pub mod dns;
pub mod dnssec;
pub mod http;
pub mod mail;
pub mod mx;
pub mod tls;

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::evidence::{
    DnssecEvidence, EVIDENCE_VERSION, Evidence, HttpEvidence, MailEvidence, StarttlsEvidence,
    StarttlsOutcome, TlsEvidence,
};
use crate::net::{Resolver, TrustAnchors, Validator};
use crate::target::Target;

/// Size and count bounds applied to every probe.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most redirects followed in one chain.
    pub max_redirects: u32,
    /// Most body bytes read from one response.
    pub max_body_bytes: usize,
    /// Most body bytes kept as text in evidence.
    pub max_body_text: usize,
    /// Longest any single request may take.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_redirects: 10,
            max_body_bytes: 256 * 1024,
            max_body_text: 64 * 1024,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Everything a probe run needs besides the target.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Resolver (with `--connect` overrides) used for every lookup.
    pub resolver: Resolver,
    /// Roots for certificate validation.
    pub trust: TrustAnchors,
    /// Per-target deadline for all probes together.
    pub timeout: Duration,
    /// Size and count bounds.
    pub limits: Limits,
    /// Bounds of the TLS scan.
    pub tls: tls::TlsLimits,
    /// What the mail probe looks up.
    pub mail: MailOptions,
    /// The validating lookup path of the DNSSEC probe; `None` when no DNS query may be sent
    /// (`--no-dns`), and the probe does not run.
    pub dnssec: Option<Validator>,
}

/// Options of the mail probe.
#[derive(Debug, Clone)]
pub struct MailOptions {
    /// The mail domain to use instead of the target host (`--mail-domain`).
    pub domain: Option<String>,
    /// DKIM selectors to look up besides the common ones (`--dkim-selector`).
    pub dkim_selectors: Vec<String>,
    /// Most MX hosts whose STARTTLS, TLS and DANE are probed (`--max-mx`; 0: none).
    pub max_mx: usize,
}

impl Default for MailOptions {
    fn default() -> Self {
        Self {
            domain: None,
            dkim_selectors: Vec::new(),
            max_mx: mx::DEFAULT_MAX_MX,
        }
    }
}

impl MailOptions {
    /// The mail domain for `target`: `--mail-domain`, else the target host as is; `None` for an
    /// IP literal, which has no mail records, and for a STARTTLS endpoint (its host is a server,
    /// not a mail domain) unless `--mail-domain` names one.
    pub fn domain_for(&self, target: &Target) -> Option<String> {
        match &self.domain {
            Some(domain) => Some(domain.clone()),
            None => (target.host.parse::<std::net::IpAddr>().is_err() && target.starttls.is_none())
                .then(|| target.host.clone()),
        }
    }
}

/// Runs every probe against one target and returns what was observed.
pub async fn probe_target(target: &Target, config: &ProbeConfig) -> Evidence {
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let deadline = Instant::now() + config.timeout;
    let resolver = config.resolver.recording();
    let http_probe = http::HttpProbe::new(&resolver, &config.trust, deadline, config.limits);
    let mut deadline_exceeded = Vec::new();
    // A safety margin past the deadline: probes time themselves out, this only catches a bug.
    let hard_stop = deadline + Duration::from_secs(2);
    // Boxed: the scans are large futures, and a worker thread's stack is small.
    let tls_scan = Box::pin(scan_tls(target, config, &resolver, deadline));
    let mail_domain = config.mail.domain_for(target);
    // IP literals have no DNSSEC status.
    let validator = config
        .dnssec
        .as_ref()
        .filter(|_| target.host.parse::<std::net::IpAddr>().is_err())
        .map(Validator::recording);
    let mail_probe = Box::pin(async {
        let domain = mail_domain.as_ref()?;
        let observed = tokio::time::timeout_at(
            deadline,
            mail::probe(
                &resolver,
                &config.trust,
                domain,
                &config.mail.dkim_selectors,
                deadline,
                config.limits,
            ),
        )
        .await;
        let Ok(mut observed) = observed else {
            return Some(Err(()));
        };
        // The MX hosts' TLS scans time themselves out at the deadline, like the target's.
        let hosts = recorded_mx(&resolver, &observed.domain);
        let mx_probe = mx::MxProbe {
            resolver: &resolver,
            validator: validator.as_ref(),
            trust: &config.trust,
            deadline,
            limits: config.tls,
            max_mx: config.mail.max_mx,
        };
        match tokio::time::timeout_at(hard_stop, Box::pin(mx_probe.run(&hosts))).await {
            Ok(mx) => observed.mx = mx,
            Err(_) => return Some(Ok((observed, false))),
        }
        Some(Ok((observed, true)))
    });
    let dnssec_probe = async {
        if let Some(validator) = &validator {
            dnssec::probe(validator, &target.host, mail_domain.as_deref()).await;
        }
    };
    let http_run = async {
        // A STARTTLS endpoint speaks no HTTP.
        if target.starttls.is_some() {
            HttpEvidence::default()
        } else {
            http_probe.run(target).await
        }
    };
    let (http, tls, caa, mail, validated) = tokio::join!(
        tokio::time::timeout_at(hard_stop, http_run),
        tokio::time::timeout_at(hard_stop, tls_scan),
        tokio::time::timeout_at(deadline, dns::caa(&resolver, &target.host)),
        mail_probe,
        tokio::time::timeout_at(deadline, dnssec_probe),
    );
    if caa.is_err() {
        deadline_exceeded.push("dns".to_string());
    }
    // Lookups finished before the deadline are kept; the facts say which are missing.
    if validator.is_some() && validated.is_err() {
        deadline_exceeded.push("dnssec".to_string());
    }
    let dnssec = validator.map(|validator| DnssecEvidence {
        trust_anchor: validator.anchor_description().to_string(),
        lookups: validator.lookups(),
    });
    // A mail probe cut off by the deadline still leaves its answers in the log; the facts then
    // say which lookups are missing.
    let mail = match mail {
        None => None,
        Some(Ok((observed, finished))) => {
            if !finished {
                deadline_exceeded.push("mx".to_string());
            }
            Some(observed)
        }
        Some(Err(())) => {
            deadline_exceeded.push("mail".to_string());
            mail_domain.map(|domain| MailEvidence {
                domain,
                dkim_selectors: config.mail.dkim_selectors.clone(),
                mta_sts_policy: None,
                mx: Vec::new(),
            })
        }
    };
    let http = http.unwrap_or_else(|_| {
        deadline_exceeded.push("http".to_string());
        HttpEvidence::default()
    });
    let (tls, starttls) = tls.unwrap_or_else(|_| {
        deadline_exceeded.push("tls".to_string());
        (None, None)
    });
    Evidence {
        version: EVIDENCE_VERSION,
        tool: tool_name(),
        started_at,
        target: target.to_evidence(),
        dns: resolver.lookups(),
        http,
        tls,
        mail,
        dnssec,
        starttls,
        deadline_exceeded,
    }
}

/// The MX hosts of `domain` as the resolver recorded them, by preference.
fn recorded_mx(resolver: &Resolver, domain: &str) -> Vec<crate::facts::mail::MxFacts> {
    match resolver.recorded(domain, "MX") {
        Some(crate::evidence::DnsOutcome::Answer { records }) => {
            crate::facts::mail::parse_mx(&records)
        }
        _ => Vec::new(),
    }
}

/// Scans the target's HTTPS endpoint (its first address), or, for a STARTTLS endpoint, its
/// port through the protocol's preamble (with the conversation recorded beside the scan).
async fn scan_tls(
    target: &Target,
    config: &ProbeConfig,
    resolver: &Resolver,
    deadline: Instant,
) -> (Option<TlsEvidence>, Option<StarttlsEvidence>) {
    match resolver.addresses(&target.host, target.https_port).await {
        Ok(addresses) => {
            let Some(&addr) = addresses.first() else {
                return (None, None);
            };
            let mut scan =
                tls::TlsScan::new(addr, &target.host, &config.trust, deadline, config.tls);
            if let Some(protocol) = target.starttls {
                scan = scan.with_starttls(protocol);
            }
            let starttls = scan.starttls_probe().await;
            let ready = starttls
                .as_ref()
                .is_none_or(|s| matches!(s.outcome, StarttlsOutcome::Ready { .. }));
            let tls = if ready {
                Some(Box::pin(scan.run()).await)
            } else {
                None
            };
            (tls, starttls)
        }
        Err(error) => (
            Some(TlsEvidence {
                endpoint: format!("{}:{}", target.host, target.https_port),
                sni: None,
                error: Some(error),
                attempts: Vec::new(),
                handshakes: Vec::new(),
                certificate_check: None,
                vulnerabilities: Default::default(),
            }),
            None,
        ),
    }
}

/// `secaudit X.Y.Z`, as recorded in evidence and reports.
pub fn tool_name() -> String {
    format!("secaudit {}", env!("CARGO_PKG_VERSION"))
}

/// Why nothing at all could be observed about the target, if that is the case.
///
/// A target where neither HTTP nor HTTPS produced a single response and no TLS hello got a TLS
/// answer cannot be audited (exit 3).
pub fn unauditable_reason(evidence: &Evidence) -> Option<String> {
    let chains = [&evidence.http.plain, &evidence.http.secure];
    if chains
        .iter()
        .any(|chain| chain.as_ref().is_some_and(|c| !c.hops.is_empty()))
    {
        return None;
    }
    let tls_answered = evidence.tls.as_ref().is_some_and(|tls| {
        tls.attempts.iter().any(|a| {
            use crate::evidence::tls::TlsReply as R;
            matches!(
                a.reply,
                R::ServerHello(_)
                    | R::HelloRetryRequest { .. }
                    | R::Alert { .. }
                    | R::Ssl2ServerHello { .. }
            )
        })
    });
    // A STARTTLS endpoint that greeted us was reached, whether or not it then spoke TLS.
    let greeted = evidence
        .starttls
        .as_ref()
        .is_some_and(|s| s.greeting.is_some());
    if tls_answered || greeted {
        return None;
    }
    let reasons: Vec<String> = chains
        .iter()
        .filter_map(|chain| chain.as_ref())
        .filter_map(|chain| match &chain.end {
            crate::evidence::ChainEnd::Failed { url, error } => Some(format!("{url}: {error}")),
            _ => None,
        })
        .collect();
    if let Some(StarttlsEvidence {
        outcome: StarttlsOutcome::Failed { stage, error },
        protocol,
        ..
    }) = &evidence.starttls
    {
        return Some(format!(
            "{protocol}://{}:{}: {stage}: {error}",
            evidence.target.host, evidence.target.https_port
        ));
    }
    Some(if reasons.is_empty() {
        "no response on HTTP, HTTPS or TLS".to_string()
    } else {
        reasons.join("; ")
    })
}
