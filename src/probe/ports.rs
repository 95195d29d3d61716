//! The port scan: a TCP connect scan of the target's addresses, paced to a fixed rate, run only
//! when the user asks for it (`--port-scan`, `--ports`).
//!
//! Connection attempts start at most `rate_per_second` per second (a start never follows the
//! previous one sooner than `1 / rate` seconds) with at most [`MAX_IN_FLIGHT`] open at once, each
//! bounded by the connect timeout and the audit deadline. On ports whose protocol speaks first
//! (SSH, SMTP, FTP, …) the first bytes are read — at most [`BANNER_BYTES`], for at most
//! [`BANNER_WAIT`], or [`UNKNOWN_BANNER_WAIT`] on ports of unknown protocol; none on web and
//! database ports, whose protocols wait for the client — and nothing is ever sent. A refused connection is `closed`, silence is
//! `filtered`. The probe never judges which ports should be open.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use crate::evidence::exposure::{PortResult, PortState};

/// The ports scanned by `--port-scan` when no other set is given: remote administration,
/// cleartext protocols, mail, databases, caches, search engines and file sharing, plus the web
/// ports (documented in the README).
pub const DEFAULT_PORTS: [u16; 34] = [
    21, 22, 23, 25, 80, 110, 111, 135, 139, 143, 443, 445, 465, 587, 873, 993, 995, 1433, 1521,
    2049, 2375, 3306, 3389, 5432, 5900, 5984, 6379, 8080, 8443, 9042, 9200, 11211, 27017, 50070,
];

/// Default pace of connection attempts (`--scan-rate`).
pub const DEFAULT_RATE: u32 = 20;

/// Most addresses of one name that are scanned.
pub const MAX_ADDRESSES: usize = 4;

/// Most connection attempts in flight at once.
pub const MAX_IN_FLIGHT: usize = 16;

/// Most banner bytes read from one port.
pub const BANNER_BYTES: usize = 256;

/// Longest wait for a banner.
pub const BANNER_WAIT: Duration = Duration::from_millis(1500);

/// Ports whose protocol has the server speak first, so a banner is worth waiting for.
const SPEAKS_FIRST: [u16; 11] = [21, 22, 23, 25, 110, 143, 587, 2222, 3306, 5900, 6667];

/// Ports whose protocol waits for the client: no banner is read.
const CLIENT_FIRST: [u16; 15] = [
    80, 443, 1433, 2375, 3000, 5432, 5984, 6379, 8000, 8080, 8443, 9042, 9200, 11211, 27017,
];

/// Shorter wait for a banner on a port of unknown protocol (an SSH server on a custom port
/// still shows itself).
pub const UNKNOWN_BANNER_WAIT: Duration = Duration::from_millis(250);

/// What to scan and how fast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortScanOptions {
    /// Ports to try on every address.
    pub ports: Vec<u16>,
    /// Ports the user declared as allowed (recorded with the evidence, not used by the scan).
    pub allowlist: Vec<u16>,
    /// Most connection attempts started per second (at least 1).
    pub rate_per_second: u32,
    /// How long one attempt may take.
    pub connect_timeout: Duration,
}

impl PortScanOptions {
    /// The default set at the default rate with the given allowlist.
    pub fn with_allowlist(allowlist: Vec<u16>) -> Self {
        Self {
            ports: DEFAULT_PORTS.to_vec(),
            allowlist,
            rate_per_second: DEFAULT_RATE,
            connect_timeout: Duration::from_secs(3),
        }
    }
}

/// Tries every port of `options` on every address, paced; results sorted by address and port.
pub async fn scan(
    addresses: &[IpAddr],
    options: &PortScanOptions,
    deadline: Instant,
) -> Vec<PortResult> {
    let rate = options.rate_per_second.max(1);
    let mut pace = tokio::time::interval(Duration::from_secs(1) / rate);
    pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut attempts = JoinSet::new();
    let mut results = Vec::new();
    for &ip in addresses {
        for &port in &options.ports {
            // The slot first, then the tick: a start never follows another sooner than the
            // period, however long the wait for a slot was.
            let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                break;
            };
            pace.tick().await;
            if Instant::now() >= deadline {
                results.push(PortResult {
                    address: ip.to_string(),
                    port,
                    state: PortState::Error,
                    error: Some("audit deadline reached before the attempt".to_string()),
                    banner: None,
                });
                continue;
            }
            let timeout = options.connect_timeout;
            attempts.spawn(async move {
                let result = attempt(SocketAddr::new(ip, port), timeout, deadline).await;
                drop(slot);
                result
            });
        }
    }
    while let Some(joined) = attempts.join_next().await {
        if let Ok(result) = joined {
            results.push(result);
        }
    }
    results.sort_by(|a, b| {
        let key = |r: &PortResult| (r.address.parse::<IpAddr>().ok(), r.port);
        key(a).cmp(&key(b))
    });
    results
}

/// One connection attempt, and the banner of a speak-first port.
async fn attempt(addr: SocketAddr, timeout: Duration, deadline: Instant) -> PortResult {
    let mut result = PortResult {
        address: addr.ip().to_string(),
        port: addr.port(),
        state: PortState::Error,
        error: None,
        banner: None,
    };
    let until = (Instant::now() + timeout).min(deadline);
    match tokio::time::timeout_at(until, TcpStream::connect(addr)).await {
        Err(_) => result.state = PortState::Filtered,
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
            result.state = PortState::Closed;
        }
        Ok(Err(error)) => result.error = Some(error.to_string()),
        Ok(Ok(mut stream)) => {
            result.state = PortState::Open;
            let wait = if SPEAKS_FIRST.contains(&addr.port()) {
                Some(BANNER_WAIT)
            } else if CLIENT_FIRST.contains(&addr.port()) {
                None
            } else {
                Some(UNKNOWN_BANNER_WAIT)
            };
            if let Some(wait) = wait {
                let until = (Instant::now() + wait).min(deadline);
                result.banner = read_banner(&mut stream, until).await;
            }
        }
    }
    result
}

/// Reads until a line ends, [`BANNER_BYTES`] arrived, the peer closed, or `until`.
async fn read_banner(stream: &mut TcpStream, until: Instant) -> Option<String> {
    let mut buffer = vec![0u8; BANNER_BYTES];
    let mut filled = 0;
    while filled < buffer.len() {
        match tokio::time::timeout_at(until, stream.read(&mut buffer[filled..])).await {
            Ok(Ok(n)) if n > 0 => {
                filled += n;
                if buffer[..filled].contains(&b'\n') {
                    break;
                }
            }
            _ => break,
        }
    }
    (filled > 0).then(|| String::from_utf8_lossy(&buffer[..filled]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn open_closed_and_banner() {
        let quiet = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let quiet_port = quiet.local_addr().unwrap().port();
        let closed_port = {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            l.local_addr().unwrap().port()
        };
        let options = PortScanOptions {
            ports: vec![quiet_port, closed_port],
            allowlist: Vec::new(),
            rate_per_second: 100,
            connect_timeout: Duration::from_secs(2),
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        let results = scan(&["127.0.0.1".parse().unwrap()], &options, deadline).await;
        let state = |port| results.iter().find(|r| r.port == port).unwrap().state;
        assert_eq!(state(quiet_port), PortState::Open);
        assert_eq!(state(closed_port), PortState::Closed);
        assert!(results.iter().all(|r| r.banner.is_none()));
    }

    #[tokio::test]
    async fn banner_is_bounded_and_stops_at_a_line() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"220 mail.test ESMTP Exim 4.94\r\nmore")
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_secs(2)).await;
        });
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let banner = read_banner(&mut stream, Instant::now() + Duration::from_secs(1)).await;
        assert!(
            banner
                .unwrap()
                .starts_with("220 mail.test ESMTP Exim 4.94\r\n")
        );
    }
}
