//! Name resolution for every lookup a probe makes, with curl-style `--connect` overrides.
//!
//! The target's own address goes through here too, so `--resolver 127.0.0.1:5353` audits a lab by
//! name. Each lookup is recorded (name, type, answer or failure) for the evidence file.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::rdata::CNAME;
use hickory_resolver::proto::rr::{Name, RData, RecordType};

use crate::evidence::{DnsLookup, DnsOutcome, FailureKind, ProbeError};

/// `HOST:PORT=IP:PORT`: connect to `IP:PORT` whenever a probe would connect to `HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOverride {
    /// Host name as it appears in URLs (lower-case).
    pub host: String,
    /// Port as it appears in URLs.
    pub port: u16,
    /// Where to connect instead.
    pub addr: SocketAddr,
}

impl FromStr for ConnectOverride {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (from, to) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}` is not HOST:PORT=IP:PORT"))?;
        let (host, port) = from
            .rsplit_once(':')
            .ok_or_else(|| format!("`{from}` lacks a :PORT"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| format!("`{port}` is not a port number"))?;
        let addr: SocketAddr = to
            .parse()
            .map_err(|_| format!("`{to}` is not IP:PORT (IPv6 as [::1]:443)"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if host.is_empty() {
            return Err(format!("`{text}` has an empty host"));
        }
        Ok(Self { host, port, addr })
    }
}

/// Parses a `--resolver` value: `IP` or `IP:PORT` (`[IPv6]:PORT`); the port defaults to 53.
pub fn parse_resolver_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("`{text}` is not IP or IP:PORT"))
}

/// The resolver could not be configured.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up DNS resolution: {0}")]
pub struct ResolverSetupError(pub(crate) String);

/// Resolves names for probes and records every lookup.
///
/// Cloning shares the underlying resolver; [`Resolver::recording`] gives a clone with an empty log,
/// one per target.
#[derive(Clone)]
pub struct Resolver {
    dns: TokioResolver,
    /// Only overrides and IP literals resolve; no DNS query is ever sent (the demo).
    offline: bool,
    overrides: Arc<Vec<ConnectOverride>>,
    log: Arc<Mutex<LookupLog>>,
}

/// Most records kept from one answer.
const MAX_RECORDS: usize = 64;

/// Most CNAME hops from a name to its records: as many as hickory follows (its query depth
/// of 8 is the name and seven aliases). A longer chain is as unresolved as a loop.
const MAX_CNAME_HOPS: usize = 7;

/// Lookups keyed by (name, type); the first answer for a key is kept.
type LookupLog = BTreeMap<(String, String), DnsLookup>;

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

impl Resolver {
    /// Builds a resolver that asks `servers` (or the system's resolvers when empty).
    pub fn new(
        servers: &[SocketAddr],
        overrides: Vec<ConnectOverride>,
        timeout: Duration,
    ) -> Result<Self, ResolverSetupError> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = if servers.is_empty() {
            TokioResolver::builder(provider).map_err(|e| ResolverSetupError(e.to_string()))?
        } else {
            let name_servers = name_server_configs(servers);
            let mut builder = TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(name_servers),
                provider,
            );
            builder.options_mut().use_hosts_file = ResolveHosts::Never;
            builder
        };
        // Each query is tried twice per server (`attempts`) within `timeout`; a truncated UDP
        // answer is asked again over TCP (every name server has a TCP connection configured, and
        // hickory retries a truncated answer on it), and `try_tcp_on_error` also falls back to
        // TCP when UDP fails outright (a firewall dropping large UDP answers).
        let options: &mut ResolverOpts = builder.options_mut();
        options.timeout = timeout;
        options.attempts = 2;
        options.ndots = 0;
        options.try_tcp_on_error = true;
        let dns = builder
            .build()
            .map_err(|e| ResolverSetupError(e.to_string()))?;
        Ok(Self {
            dns,
            offline: false,
            overrides: Arc::new(overrides),
            log: Arc::default(),
        })
    }

    /// A resolver that answers only from `overrides` (and IP literals) and never sends a query:
    /// for the demo, which must not touch any network but loopback.
    pub fn offline(overrides: Vec<ConnectOverride>) -> Result<Self, ResolverSetupError> {
        let mut resolver = Self::new(
            &[SocketAddr::from(([127, 0, 0, 1], 9))],
            overrides,
            Duration::from_secs(1),
        )?;
        resolver.offline = true;
        Ok(resolver)
    }

    /// A clone sharing the resolver and overrides, with its own empty lookup log.
    pub fn recording(&self) -> Self {
        Self {
            dns: self.dns.clone(),
            offline: self.offline,
            overrides: Arc::clone(&self.overrides),
            log: Arc::default(),
        }
    }

    /// The `--connect` override for `host:port`, if any.
    pub fn connect_override(&self, host: &str, port: u16) -> Option<SocketAddr> {
        self.overrides
            .iter()
            .find(|o| o.port == port && o.host.eq_ignore_ascii_case(host))
            .map(|o| o.addr)
    }

    /// Socket addresses to try for `host:port`: the override, the literal IP, or A and AAAA answers.
    pub async fn addresses(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, ProbeError> {
        if let Some(addr) = self.connect_override(host, port) {
            self.record(
                host,
                "A/AAAA",
                DnsOutcome::Overridden {
                    records: vec![addr.to_string()],
                },
            );
            return Ok(vec![addr]);
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        if self.offline {
            return Err(ProbeError::new(
                FailureKind::Dns,
                format!("{host}:{port} has no override and name resolution is off"),
            ));
        }
        let (v4, v6) = tokio::join!(
            self.lookup(host, RecordType::A),
            self.lookup(host, RecordType::AAAA)
        );
        let mut addrs = Vec::new();
        let mut failure = None;
        for result in [v4, v6] {
            match result {
                Ok(ips) => addrs.extend(ips.into_iter().map(|ip| SocketAddr::new(ip, port))),
                Err(err) => failure = failure.or(Some(err)),
            }
        }
        if addrs.is_empty() {
            return Err(failure.unwrap_or_else(|| {
                ProbeError::new(FailureKind::Dns, format!("{host} has no A or AAAA record"))
            }));
        }
        Ok(addrs)
    }

    /// The lookups made so far, sorted by name and type (probes run concurrently, so the order
    /// they were made in is not reproducible).
    pub fn lookups(&self) -> Vec<DnsLookup> {
        let log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        log.values().cloned().collect()
    }

    /// Looks up `record_type` records of `name` and records the outcome (records in
    /// presentation format, as received). Without name resolution (the demo) nothing is sent
    /// and the lookup fails.
    pub async fn records(&self, name: &str, record_type: RecordType) -> DnsOutcome {
        let outcome = if self.offline {
            DnsOutcome::Failed {
                error: ProbeError::new(FailureKind::Dns, "name resolution is off"),
            }
        } else {
            match self.ask(name, record_type).await {
                Ok(lookup) => DnsOutcome::Answer {
                    records: lookup
                        .answers()
                        .iter()
                        .filter(|record| record.record_type() == record_type)
                        .take(MAX_RECORDS)
                        .map(|record| presentation(&record.data))
                        .collect(),
                },
                Err(outcome) => outcome,
            }
        };
        self.record(name, &record_type.to_string(), outcome.clone());
        outcome
    }

    /// The outcome already recorded for (`name`, `record_type`), if that lookup was made.
    pub fn recorded(&self, name: &str, record_type: &str) -> Option<DnsOutcome> {
        let log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        log.get(&(name.to_string(), record_type.to_string()))
            .map(|lookup| lookup.outcome.clone())
    }

    async fn lookup(&self, host: &str, record_type: RecordType) -> Result<Vec<IpAddr>, ProbeError> {
        let outcome = match self.ask(host, record_type).await {
            Ok(lookup) => {
                // At most MAX_RECORDS addresses, like every other answer.
                let ips: Vec<IpAddr> = lookup
                    .answers()
                    .iter()
                    .filter_map(|record| record.data.ip_addr())
                    .take(MAX_RECORDS)
                    .collect();
                let records = lookup
                    .answers()
                    .iter()
                    .take(MAX_RECORDS)
                    .map(|record| record.data.to_string())
                    .collect();
                self.record(
                    host,
                    &record_type.to_string(),
                    DnsOutcome::Answer { records },
                );
                return Ok(ips);
            }
            Err(outcome) => outcome,
        };
        let error = match &outcome {
            DnsOutcome::Failed { error } => error.clone(),
            _ => ProbeError::new(
                FailureKind::Dns,
                format!("{host} has no {record_type} record"),
            ),
        };
        self.record(host, &record_type.to_string(), outcome);
        Err(error)
    }

    /// Asks for the `record_type` records of `name`: the answer, or the outcome that stands in
    /// for it (no records, or why the lookup failed).
    ///
    /// hickory follows CNAME chains itself and reports a chain that loops, or that is longer
    /// than it follows, as the empty answer of the last name it asked — indistinguishable from
    /// a name without such records. A loop is a broken answer, not an absent record, so an
    /// empty NOERROR answer is checked by walking the name's aliases
    /// ([`Resolver::broken_alias_chain`]) and becomes a failure when they loop.
    async fn ask(&self, name: &str, record_type: RecordType) -> Result<Lookup, DnsOutcome> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.dns.lookup(fqdn.as_str(), record_type).await {
            Ok(lookup) => Ok(lookup),
            Err(NetError::Dns(DnsError::NoRecordsFound(no_records)))
                if no_records.response_code == ResponseCode::NoError
                    && record_type != RecordType::CNAME =>
            {
                Err(match self.broken_alias_chain(&fqdn).await {
                    Some(error) => DnsOutcome::Failed { error },
                    None => DnsOutcome::NoRecords {
                        rcode: no_records.response_code.to_string(),
                    },
                })
            }
            Err(err) => Err(classify_dns_error(name, &err)),
        }
    }

    /// Why `fqdn`'s empty answer is no answer: its CNAME chain loops, or takes more than
    /// [`MAX_CNAME_HOPS`] hops. Walks the chain one CNAME query per hop; `None` when it ends
    /// (usually at once: the name has no alias) or when a hop cannot be asked (the empty answer
    /// then stands as given).
    async fn broken_alias_chain(&self, fqdn: &str) -> Option<ProbeError> {
        let mut chain = vec![Name::from_ascii(fqdn).ok()?];
        loop {
            let current = chain.last()?.clone();
            let lookup = self
                .dns
                .lookup(current.clone(), RecordType::CNAME)
                .await
                .ok()?;
            let target = lookup
                .answers()
                .iter()
                .find_map(|record| match &record.data {
                    RData::CNAME(CNAME(target)) if record.name == current => Some(target.clone()),
                    _ => None,
                })?;
            let shown = |name: &Name| name.to_ascii().trim_end_matches('.').to_string();
            if chain.contains(&target) {
                return Some(ProbeError::new(
                    FailureKind::Malformed,
                    format!("CNAME loop at {}", shown(&target)),
                ));
            }
            if chain.len() > MAX_CNAME_HOPS {
                return Some(ProbeError::new(
                    FailureKind::Malformed,
                    format!(
                        "CNAME chain of {} longer than {MAX_CNAME_HOPS} aliases",
                        shown(&chain[0])
                    ),
                ));
            }
            chain.push(target);
        }
    }

    fn record(&self, name: &str, record_type: &str, outcome: DnsOutcome) {
        let mut log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        log.entry((name.to_string(), record_type.to_string()))
            .or_insert_with(|| DnsLookup {
                name: name.to_string(),
                record_type: record_type.to_string(),
                outcome,
            });
    }
}

/// hickory's configuration for `servers`: UDP first, TCP on the same port (for truncated or
/// failed UDP answers).
pub(crate) fn name_server_configs(servers: &[SocketAddr]) -> Vec<NameServerConfig> {
    servers
        .iter()
        .map(|server| {
            let mut udp = ConnectionConfig::udp();
            udp.port = server.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = server.port();
            NameServerConfig::new(server.ip(), true, vec![udp, tcp])
        })
        .collect()
}

/// Record data in presentation format. TXT data is written as RFC 1035 quoted character-strings
/// (`"v=spf1 " "-all"`), so the string boundaries and lengths that SPF and DKIM limits depend on
/// survive in the evidence (hickory's own `Display` joins the strings).
pub(crate) fn presentation(data: &hickory_resolver::proto::rr::RData) -> String {
    match data {
        hickory_resolver::proto::rr::RData::TXT(txt) => {
            crate::evidence::txt::quote(txt.txt_data.iter().map(|s| s.as_ref()))
        }
        other => other.to_string(),
    }
}

fn classify_dns_error(host: &str, err: &NetError) -> DnsOutcome {
    match err {
        NetError::Dns(DnsError::NoRecordsFound(no_records)) => DnsOutcome::NoRecords {
            rcode: no_records.response_code.to_string(),
        },
        NetError::Timeout => DnsOutcome::Failed {
            error: ProbeError::new(FailureKind::Timeout, format!("lookup of {host} timed out")),
        },
        other => DnsOutcome::Failed {
            error: ProbeError::new(FailureKind::Dns, other.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_connect_override() {
        let o: ConnectOverride = "Shop.Example.test:443=127.0.0.1:8443".parse().unwrap();
        assert_eq!(o.host, "shop.example.test");
        assert_eq!(o.port, 443);
        assert_eq!(o.addr, "127.0.0.1:8443".parse().unwrap());
        let v6: ConnectOverride = "[::1]:80=[::1]:8080".parse().unwrap();
        assert_eq!(v6.host, "::1");
    }

    #[test]
    fn rejects_bad_connect_override() {
        assert!("shop:443".parse::<ConnectOverride>().is_err());
        assert!("shop=127.0.0.1:1".parse::<ConnectOverride>().is_err());
        assert!("shop:x=127.0.0.1:1".parse::<ConnectOverride>().is_err());
        assert!("shop:443=localhost:1".parse::<ConnectOverride>().is_err());
        assert!(":443=127.0.0.1:1".parse::<ConnectOverride>().is_err());
    }

    #[test]
    fn resolver_address_defaults_to_port_53() {
        assert_eq!(
            parse_resolver_addr("127.0.0.1").unwrap(),
            "127.0.0.1:53".parse().unwrap()
        );
        assert_eq!(
            parse_resolver_addr("127.0.0.1:5353").unwrap(),
            "127.0.0.1:5353".parse().unwrap()
        );
        assert_eq!(
            parse_resolver_addr("::1").unwrap(),
            "[::1]:53".parse().unwrap()
        );
        assert!(parse_resolver_addr("resolver.example").is_err());
    }
}
