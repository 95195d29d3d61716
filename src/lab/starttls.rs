//! A STARTTLS lab server on 127.0.0.1: it speaks the plaintext side of SMTP, IMAP, POP3 or FTP
//! up to the upgrade, then hands the very socket to a rustls server (TLS 1.2/1.3) or to the
//! scripted legacy responder (SSLv3 to TLS 1.2, old suites), the way a mail server's TLS layer
//! takes over after `220 Ready to start TLS`.
//!
//! It can also misbehave as the audit must detect: list no STARTTLS capability, refuse the
//! command, or agree and then close the connection. Lines are read one byte at a time so no
//! byte of the client's TLS hello is consumed by the plaintext side. Loopback only; every
//! connection ends after ten seconds at most.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::legacy::{self, LegacyConfig};
use super::{LabError, LabTls, certs};
use crate::evidence::StarttlsProtocol;

/// How the server handles the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    /// Lists the capability and starts TLS when asked.
    Offers,
    /// Does not list the capability (and refuses the command if sent anyway).
    NotOffered,
    /// Lists the capability but refuses the command (SMTP 454, IMAP NO, POP3 -ERR, FTP 431).
    Refuses,
    /// Lists the capability, agrees, then closes the connection instead of starting TLS.
    BreaksAfterStarttls,
}

/// What speaks TLS after the upgrade.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A rustls server with a certificate issued for the host by a fresh lab CA.
    Rustls(LabTls),
    /// The scripted legacy responder (its configuration carries the chain it sends).
    Legacy(LegacyConfig),
}

/// A STARTTLS endpoint to start.
#[derive(Debug, Clone)]
pub struct StarttlsSite {
    /// The plaintext protocol.
    pub protocol: StarttlsProtocol,
    /// The server's name (greeting, and the rustls certificate's name).
    pub host: String,
    /// How the upgrade goes.
    pub upgrade: Upgrade,
    /// The TLS side.
    pub backend: Backend,
}

/// A running STARTTLS server; dropping it stops it.
pub struct StarttlsServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The lab CA that issued the rustls certificate (PEM); absent for the legacy backend.
    pub ca_pem: Option<String>,
    /// The same CA certificate, DER, as a trust anchor.
    pub ca_der: Option<CertificateDer<'static>>,
    /// The chain the rustls backend serves, DER, leaf first; empty for the legacy backend.
    pub served: Vec<Vec<u8>>,
    task: JoinHandle<()>,
}

impl Drop for StarttlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

enum Tls {
    Rustls(TlsAcceptor),
    Legacy(Arc<LegacyConfig>),
}

impl StarttlsServer {
    /// Starts `site` on a random port of 127.0.0.1.
    pub async fn start(site: StarttlsSite) -> Result<Self, LabError> {
        let (tls, ca, served) = match &site.backend {
            Backend::Rustls(settings) => {
                let issued = certs::issue(&site.host, &settings.cert)?;
                let served = issued.served.iter().map(|c| c.to_vec()).collect();
                let config = settings.server_config(issued.served, issued.key, issued.ocsp)?;
                (
                    Tls::Rustls(TlsAcceptor::from(Arc::new(config))),
                    Some((issued.root_pem, issued.root)),
                    served,
                )
            }
            Backend::Legacy(config) => (Tls::Legacy(Arc::new(config.clone())), None, Vec::new()),
        };
        let (ca_pem, ca_der) = ca.unzip();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let tls = Arc::new(tls);
        let site = Arc::new(site);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let tls = Arc::clone(&tls);
                let site = Arc::clone(&site);
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(10), serve(stream, &site, &tls))
                            .await;
                });
            }
        });
        Ok(Self {
            addr,
            ca_pem,
            ca_der,
            served,
            task,
        })
    }
}

async fn serve(mut stream: TcpStream, site: &StarttlsSite, tls: &Tls) -> std::io::Result<()> {
    if !preamble(&mut stream, site).await? {
        return Ok(());
    }
    match tls {
        Tls::Rustls(acceptor) => {
            if let Ok(mut session) = acceptor.accept(stream).await {
                // Hold the session until the client hangs up.
                let mut sink = [0u8; 512];
                while matches!(session.read(&mut sink).await, Ok(n) if n > 0) {}
            }
        }
        Tls::Legacy(config) => legacy::serve_connection(stream, config).await,
    }
    Ok(())
}

/// Speaks the plaintext side; `true` when the socket is to be handed to TLS.
async fn preamble(stream: &mut TcpStream, site: &StarttlsSite) -> std::io::Result<bool> {
    let host = &site.host;
    let upgrade = site.upgrade;
    let listed = upgrade != Upgrade::NotOffered;
    let greeting = match site.protocol {
        StarttlsProtocol::Smtp => format!("220 {host} ESMTP lab\r\n"),
        StarttlsProtocol::Imap => format!("* OK {host} IMAP4rev1 lab ready\r\n"),
        StarttlsProtocol::Pop3 => format!("+OK {host} POP3 lab ready\r\n"),
        StarttlsProtocol::Ftp => format!("220 {host} FTP lab ready\r\n"),
    };
    stream.write_all(greeting.as_bytes()).await?;
    for _ in 0..16 {
        let Some(line) = read_line(stream).await? else {
            return Ok(false);
        };
        let (reply, start) = answer(site.protocol, host, upgrade, listed, &line);
        stream.write_all(reply.as_bytes()).await?;
        match start {
            Some(true) => return Ok(true),
            Some(false) => {
                stream.shutdown().await?;
                return Ok(false);
            }
            None => {}
        }
    }
    Ok(false)
}

/// The reply to one command line, and whether the exchange ends: `Some(true)` hand over to TLS,
/// `Some(false)` close, `None` go on.
fn answer(
    protocol: StarttlsProtocol,
    host: &str,
    upgrade: Upgrade,
    listed: bool,
    line: &str,
) -> (String, Option<bool>) {
    let upper = line.to_ascii_uppercase();
    let go = match upgrade {
        Upgrade::Offers => Some(true),
        Upgrade::BreaksAfterStarttls => Some(false),
        Upgrade::Refuses | Upgrade::NotOffered => None,
    };
    match protocol {
        StarttlsProtocol::Smtp => {
            if upper.starts_with("EHLO") {
                let extension = if listed { "STARTTLS" } else { "8BITMIME" };
                (
                    format!("250-{host}\r\n250-PIPELINING\r\n250 {extension}\r\n"),
                    None,
                )
            } else if upper == "STARTTLS" {
                match go {
                    Some(_) => ("220 2.0.0 Ready to start TLS\r\n".into(), go),
                    None => ("454 4.7.0 TLS not available\r\n".into(), None),
                }
            } else if upper == "QUIT" {
                ("221 2.0.0 Bye\r\n".into(), Some(false))
            } else {
                ("500 5.5.1 Unrecognized command\r\n".into(), None)
            }
        }
        StarttlsProtocol::Imap => {
            let (tag, command) = line.split_once(' ').unwrap_or((line, ""));
            let command = command.to_ascii_uppercase();
            if command == "CAPABILITY" {
                let capability = if listed {
                    "IMAP4rev1 STARTTLS LOGINDISABLED"
                } else {
                    "IMAP4rev1 AUTH=PLAIN"
                };
                (
                    format!("* CAPABILITY {capability}\r\n{tag} OK CAPABILITY completed\r\n"),
                    None,
                )
            } else if command == "STARTTLS" {
                match go {
                    Some(_) => (format!("{tag} OK Begin TLS negotiation now\r\n"), go),
                    None => (format!("{tag} NO STARTTLS unavailable\r\n"), None),
                }
            } else {
                (format!("{tag} BAD unknown command\r\n"), Some(false))
            }
        }
        StarttlsProtocol::Pop3 => {
            if upper == "CAPA" {
                let extension = if listed { "STLS" } else { "UIDL" };
                (format!("+OK\r\nUSER\r\n{extension}\r\n.\r\n"), None)
            } else if upper == "STLS" {
                match go {
                    Some(_) => ("+OK Begin TLS negotiation\r\n".into(), go),
                    None => ("-ERR STLS unavailable\r\n".into(), None),
                }
            } else {
                ("-ERR unknown command\r\n".into(), Some(false))
            }
        }
        StarttlsProtocol::Ftp => {
            if upper == "FEAT" {
                let extension = if listed { "AUTH TLS" } else { "UTF8" };
                (
                    format!("211-Features:\r\n {extension}\r\n PASV\r\n211 End\r\n"),
                    None,
                )
            } else if upper == "AUTH TLS" {
                match go {
                    Some(_) => ("234 AUTH TLS successful\r\n".into(), go),
                    None => ("431 TLS unavailable\r\n".into(), None),
                }
            } else {
                ("500 unknown command\r\n".into(), Some(false))
            }
        }
    }
}

/// One line from the client (at most 1 KiB), read byte by byte; `None` at end of stream.
async fn read_line(stream: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if stream.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        match byte[0] {
            b'\n' => break,
            b'\r' => {}
            other => line.push(other),
        }
        if line.len() > 1024 {
            return Ok(None);
        }
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_answers_follow_the_upgrade_mode() {
        let (ehlo, _) = answer(
            StarttlsProtocol::Smtp,
            "mx.test",
            Upgrade::Offers,
            true,
            "EHLO x",
        );
        assert!(ehlo.ends_with("250 STARTTLS\r\n"));
        let (reply, go) = answer(
            StarttlsProtocol::Smtp,
            "mx.test",
            Upgrade::Refuses,
            true,
            "STARTTLS",
        );
        assert!(reply.starts_with("454"));
        assert_eq!(go, None);
        let (reply, go) = answer(
            StarttlsProtocol::Smtp,
            "mx.test",
            Upgrade::BreaksAfterStarttls,
            true,
            "starttls",
        );
        assert!(reply.starts_with("220"));
        assert_eq!(go, Some(false));
        let (reply, _) = answer(
            StarttlsProtocol::Imap,
            "imap.test",
            Upgrade::NotOffered,
            false,
            "a1 CAPABILITY",
        );
        assert!(!reply.contains("STARTTLS"));
    }
}
