//! Network probes: they talk to the target and fill [`Evidence`], and never judge.
//!
//! All probes of a target run concurrently under one deadline. Every network operation is bounded
//! in time (by the deadline) and in size (by [`Limits`]); a failure becomes evidence with its
//! reason instead of an error that aborts the audit.

pub mod dns;
pub mod dnssec;
pub mod exposure;
pub mod http;
pub mod mail;
pub mod mx;
pub mod ports;
pub mod ssh;
pub mod tls;

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::evidence::exposure::{PortScanEvidence, SshEvidence};
use crate::evidence::{
    DnssecEvidence, EVIDENCE_VERSION, Evidence, ExposureEvidence, HttpEvidence, MailEvidence,
    ProbeArea, StarttlsEvidence, StarttlsOutcome, TlsEvidence,
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
    /// The port scan to run; `None` (the default) sends no connection beyond the web ports.
    pub port_scan: Option<ports::PortScanOptions>,
    /// The areas to probe (`--only`); the others send nothing and their facts are unobserved.
    pub areas: Vec<ProbeArea>,
}

impl ProbeConfig {
    /// Whether `area` is probed.
    fn probes(&self, area: ProbeArea) -> bool {
        self.areas.contains(&area)
    }
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
    let tls_scan = Box::pin(async {
        if config.probes(ProbeArea::Tls) {
            scan_tls(target, config, &resolver, deadline).await
        } else {
            (None, None)
        }
    });
    let mail_domain = config
        .mail
        .domain_for(target)
        .filter(|_| config.probes(ProbeArea::Mail));
    // IP literals have no DNSSEC status.
    let validator = config
        .dnssec
        .as_ref()
        .filter(|_| target.host.parse::<std::net::IpAddr>().is_err())
        .filter(|_| config.probes(ProbeArea::Dns) || config.probes(ProbeArea::Mail))
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
    // The path requests go to the origin the HTTP chains ended on, so they follow them. A
    // STARTTLS endpoint speaks no HTTP.
    let web_probe = async {
        if target.starttls.is_some() || !config.probes(ProbeArea::Http) {
            return (HttpEvidence::default(), ExposureEvidence::default());
        }
        let http = http_probe.run(target).await;
        let mut exposure = ExposureEvidence::default();
        match exposure::origin_of(&http) {
            _ if !config.probes(ProbeArea::Exposure) => {}
            Ok(_) if !exposure::fits_before(deadline) => {
                exposure.paths_skipped =
                    Some("too little time left before the audit deadline".to_string());
            }
            Ok(origin) => {
                exposure.paths = Some(exposure::probe_paths(&http_probe, &origin).await);
            }
            Err(reason) => exposure.paths_skipped = Some(reason),
        }
        (http, exposure)
    };
    let port_probe = async {
        match &config.port_scan {
            Some(options) if config.probes(ProbeArea::Exposure) => {
                Some(scan_ports(target, options, &resolver, deadline).await)
            }
            _ => None,
        }
    };
    let (web, tls, caa, mail, validated, port_scan) = tokio::join!(
        tokio::time::timeout_at(hard_stop, web_probe),
        tokio::time::timeout_at(hard_stop, tls_scan),
        tokio::time::timeout_at(deadline, async {
            if config.probes(ProbeArea::Dns) {
                dns::caa(&resolver, &target.host).await;
            }
        }),
        mail_probe,
        tokio::time::timeout_at(deadline, dnssec_probe),
        tokio::time::timeout_at(hard_stop, port_probe),
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
    let (http, mut exposure) = web.unwrap_or_else(|_| {
        deadline_exceeded.push("http".to_string());
        (HttpEvidence::default(), ExposureEvidence::default())
    });
    match port_scan {
        Ok(Some((scan, ssh))) => {
            exposure.port_scan = Some(scan);
            exposure.ssh = ssh;
        }
        Ok(None) => {}
        Err(_) => deadline_exceeded.push("port_scan".to_string()),
    }
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
        exposure: Some(exposure),
        starttls,
        deadline_exceeded,
        not_probed: ProbeArea::ALL
            .into_iter()
            .filter(|area| !config.probes(*area))
            .collect(),
    }
}

/// Scans the target's addresses (at most [`ports::MAX_ADDRESSES`]), then asks every port that
/// identified itself as SSH for its authentication methods.
async fn scan_ports(
    target: &Target,
    options: &ports::PortScanOptions,
    resolver: &Resolver,
    deadline: Instant,
) -> (PortScanEvidence, Vec<SshEvidence>) {
    let mut evidence = PortScanEvidence {
        addresses: Vec::new(),
        ports: options.ports.clone(),
        allowlist: options.allowlist.clone(),
        rate_per_second: options.rate_per_second,
        connect_timeout_ms: u64::try_from(options.connect_timeout.as_millis()).unwrap_or(u64::MAX),
        results: Vec::new(),
        error: None,
    };
    let addresses = match resolver.addresses(&target.host, target.https_port).await {
        Ok(found) => {
            let mut ips: Vec<std::net::IpAddr> = Vec::new();
            for ip in found.iter().map(std::net::SocketAddr::ip) {
                if !ips.contains(&ip) && ips.len() < ports::MAX_ADDRESSES {
                    ips.push(ip);
                }
            }
            ips
        }
        Err(error) => {
            evidence.error = Some(error);
            return (evidence, Vec::new());
        }
    };
    evidence.addresses = addresses.iter().map(ToString::to_string).collect();
    evidence.results = ports::scan(&addresses, options, deadline).await;
    let mut ssh = Vec::new();
    for result in &evidence.results {
        let speaks_ssh = result
            .banner
            .as_deref()
            .is_some_and(|b| b.starts_with("SSH-"));
        if let (true, Ok(ip)) = (speaks_ssh, result.address.parse::<std::net::IpAddr>()) {
            ssh.push(self::ssh::probe(std::net::SocketAddr::new(ip, result.port), deadline).await);
        }
    }
    (evidence, ssh)
}

/// Scans the target's HTTPS endpoint (its first address).
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
            scan = scan.with_vuln_probes(config.probes(ProbeArea::Vulns));
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
            Some(TlsEvidence::unresolved(
                format!("{}:{}", target.host, target.https_port),
                error,
            )),
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
