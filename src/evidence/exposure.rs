//! Exposure observations: well-known files and artefact paths fetched from the site, the TCP
//! connect scan of the target's addresses with the first bytes each open port sent, and the SSH
//! handshake. Raw only: whether a body is a `.git/HEAD` or a port is unexpected is decided in
//! `facts::exposure`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FetchChain, HttpHop, ProbeError};

/// What the exposure probes observed; parts that did not run are absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExposureEvidence {
    /// The requests for `security.txt` and the artefact paths; absent when the site gave no
    /// final response to send them to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<PathsEvidence>,
    /// Why the path requests were not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths_skipped: Option<String>,
    /// The TCP connect scan; absent unless asked for (`--port-scan`, `--ports`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_scan: Option<PortScanEvidence>,
    /// SSH handshakes with every port of the scan whose first bytes were an SSH identification
    /// string.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssh: Vec<SshEvidence>,
}

/// Requests sent to fixed paths of the site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathsEvidence {
    /// The origin the paths were requested on (`https://HOST[:PORT]`), the final URL's.
    pub origin: String,
    /// `/.well-known/security.txt`, then the legacy `/security.txt`, each with its redirects.
    pub security_txt: Vec<FetchChain>,
    /// A path that cannot exist, requested first: how the site answers any unknown path, so a
    /// catch-all page is not mistaken for an artefact.
    pub canary: PathFetch,
    /// One request per artefact path, in the documented order, redirects not followed.
    pub artefacts: Vec<PathFetch>,
}

/// One request for a path and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathFetch {
    /// The path requested.
    pub path: String,
    /// The response; its body is kept as (lossily decoded) text whatever its type, up to a few
    /// KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<HttpHop>,
    /// Why no response arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProbeError>,
}

/// The TCP connect scan of the target's addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortScanEvidence {
    /// The IP addresses scanned.
    pub addresses: Vec<String>,
    /// The ports scanned on each address.
    pub ports: Vec<u16>,
    /// The ports the user declared as allowed (`--ports`); kept so evaluation can be repeated.
    pub allowlist: Vec<u16>,
    /// Most connection attempts started per second.
    pub rate_per_second: u32,
    /// How long one connection attempt may take, in milliseconds.
    pub connect_timeout_ms: u64,
    /// One result per address and port, sorted by address, then port.
    pub results: Vec<PortResult>,
    /// Why no address could be scanned (the name did not resolve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProbeError>,
}

/// What one connection attempt showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortResult {
    /// IP address.
    pub address: String,
    /// TCP port.
    pub port: u16,
    /// How the attempt ended.
    pub state: PortState,
    /// The failure detail when the state is `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The first bytes the service sent by itself (lossily decoded, at most a few hundred
    /// bytes), for ports whose protocol speaks first (SSH, SMTP, FTP, POP3, IMAP, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
}

/// How a TCP connection attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PortState {
    /// The connection was accepted.
    Open,
    /// The host answered with a reset (nothing listens).
    Closed,
    /// No answer within the connect timeout (dropped by a firewall, or the host is away).
    Filtered,
    /// Another failure (unreachable network, …).
    Error,
}

/// One SSH handshake, up to the server's answer to the `none` authentication request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SshEvidence {
    /// `IP:PORT` connected to.
    pub endpoint: String,
    /// The server's identification string (`SSH-2.0-OpenSSH_9.6p1 Ubuntu-3`), without CR LF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification: Option<String>,
    /// The server's key-exchange offer, as name-lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kex_init: Option<SshKexInit>,
    /// The algorithms agreed (key exchange, host key, cipher, MAC).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub negotiated: Vec<String>,
    /// The methods the server listed in `SSH_MSG_USERAUTH_FAILURE` after the `none` request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_methods: Option<Vec<String>>,
    /// The server accepted `none`: no authentication at all.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub none_accepted: bool,
    /// Why the handshake stopped before the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProbeError>,
}

/// The name-lists of a server's `SSH_MSG_KEXINIT`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SshKexInit {
    /// Key-exchange methods.
    pub kex: Vec<String>,
    /// Host-key algorithms.
    pub host_key: Vec<String>,
    /// Ciphers, server to client.
    pub ciphers: Vec<String>,
    /// MACs, server to client.
    pub macs: Vec<String>,
}
