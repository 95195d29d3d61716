//! The port scan as facts: each address and port with its service, category, state and whether
//! the allowlist allows it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evidence::exposure::{PortResult, PortScanEvidence, PortState};

/// One scanned port of one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PortFacts {
    /// `ADDRESS:PORT (service)`, for reports.
    pub name: String,
    /// IP address.
    pub address: String,
    /// TCP port.
    pub port: u16,
    /// The service usually found there (`ssh`, `mysql`, …; `unknown` when none is known).
    pub service: String,
    /// `web`, `mail`, `remote_admin`, `datastore` (databases, caches, search engines),
    /// `file_sharing` or `other`.
    pub category: String,
    /// The service's usual protocol carries credentials in cleartext (FTP, Telnet, POP3, IMAP,
    /// VNC).
    pub cleartext: bool,
    /// `open`, `closed`, `filtered` or `error`.
    pub state: PortState,
    /// The port accepted a connection; absent when the attempt failed otherwise (`error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// The port is on the allowlist (`--ports`, default: the web ports).
    pub allowed: bool,
    /// The first line the service sent, for speak-first protocols.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
}

/// Service name, category and cleartext flag of well-known ports.
const SERVICES: [(u16, &str, &str, bool); 37] = [
    (21, "ftp", "file_sharing", true),
    (22, "ssh", "remote_admin", false),
    (23, "telnet", "remote_admin", true),
    (25, "smtp", "mail", false),
    (80, "http", "web", false),
    (110, "pop3", "mail", true),
    (111, "rpcbind", "other", false),
    (135, "msrpc", "remote_admin", false),
    (139, "netbios-ssn", "file_sharing", false),
    (143, "imap", "mail", true),
    (443, "https", "web", false),
    (445, "smb", "file_sharing", false),
    (465, "submissions", "mail", false),
    (587, "submission", "mail", false),
    (873, "rsync", "file_sharing", false),
    (993, "imaps", "mail", false),
    (995, "pop3s", "mail", false),
    (1433, "mssql", "datastore", false),
    (1521, "oracle", "datastore", false),
    (2049, "nfs", "file_sharing", false),
    (2222, "ssh-alt", "remote_admin", false),
    (2375, "docker", "remote_admin", false),
    (3306, "mysql", "datastore", false),
    (3389, "rdp", "remote_admin", false),
    (5432, "postgresql", "datastore", false),
    (5900, "vnc", "remote_admin", true),
    (5984, "couchdb", "datastore", false),
    (6379, "redis", "datastore", false),
    (8080, "http-alt", "web", false),
    (8443, "https-alt", "web", false),
    (9042, "cassandra", "datastore", false),
    (9200, "elasticsearch", "datastore", false),
    (11211, "memcached", "datastore", false),
    (27017, "mongodb", "datastore", false),
    (50070, "hdfs", "datastore", false),
    (3000, "http-dev", "web", false),
    (8000, "http-dev", "web", false),
];

/// Facts of every scanned port, in the evidence's order.
pub fn derive(scan: &PortScanEvidence) -> Vec<PortFacts> {
    scan.results
        .iter()
        .map(|result| port_facts(result, &scan.allowlist))
        .collect()
}

fn port_facts(result: &PortResult, allowlist: &[u16]) -> PortFacts {
    let (service, category, cleartext) = SERVICES
        .iter()
        .find(|(port, ..)| *port == result.port)
        .map_or(("unknown", "other", false), |(_, s, c, t)| (*s, *c, *t));
    let host = if result.address.contains(':') {
        format!("[{}]", result.address)
    } else {
        result.address.clone()
    };
    PortFacts {
        name: format!("{host}:{} ({service})", result.port),
        address: result.address.clone(),
        port: result.port,
        service: service.to_string(),
        category: category.to_string(),
        cleartext,
        state: result.state,
        open: match result.state {
            PortState::Open => Some(true),
            PortState::Closed | PortState::Filtered => Some(false),
            PortState::Error => None,
        },
        allowed: allowlist.contains(&result.port),
        banner: result.banner.as_deref().map(|b| {
            b.lines()
                .next()
                .unwrap_or("")
                .trim()
                .chars()
                .take(200)
                .collect()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_services_and_allowlist() {
        let result = |port, state| PortResult {
            address: "192.0.2.1".into(),
            port,
            state,
            error: None,
            banner: (port == 22).then(|| "SSH-2.0-OpenSSH_9.6\r\n".to_string()),
        };
        let scan = PortScanEvidence {
            addresses: vec!["192.0.2.1".into()],
            ports: vec![22, 443, 3306, 40000],
            allowlist: vec![443],
            rate_per_second: 20,
            connect_timeout_ms: 3000,
            results: vec![
                result(22, PortState::Open),
                result(443, PortState::Open),
                result(3306, PortState::Filtered),
                result(40000, PortState::Error),
            ],
            error: None,
        };
        let facts = derive(&scan);
        assert_eq!(facts[0].name, "192.0.2.1:22 (ssh)");
        assert_eq!(facts[0].banner.as_deref(), Some("SSH-2.0-OpenSSH_9.6"));
        assert_eq!((facts[0].open, facts[0].allowed), (Some(true), false));
        assert_eq!((facts[1].open, facts[1].allowed), (Some(true), true));
        assert_eq!(facts[2].category, "datastore");
        assert_eq!(facts[2].open, Some(false));
        assert_eq!(
            (facts[3].service.as_str(), facts[3].open),
            ("unknown", None)
        );
    }
}
