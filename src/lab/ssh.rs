//! A lab SSH server on 127.0.0.1 that goes as far as the user-authentication service: key
//! exchange with a fresh Ed25519 host key, then it answers every authentication request with
//! `SSH_MSG_USERAUTH_FAILURE` listing the methods it was configured with (or accepts `none`).
//! It never opens a session. Tests use it to show the probe a password-accepting server and a
//! key-only one.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::LabError;
use crate::net::ssh::{
    Encoder, Ephemeral, ExchangeHashInput, KexInit, Reader, SshError, Transport, derive_keys, msg,
    negotiate,
};

/// What the lab SSH server says and offers.
#[derive(Debug, Clone)]
pub struct LabSshConfig {
    /// Identification string sent (without CR LF).
    pub identification: String,
    /// Methods listed in every `USERAUTH_FAILURE`.
    pub methods: Vec<String>,
    /// Accept the `none` method (no authentication at all).
    pub accept_none: bool,
}

impl LabSshConfig {
    /// A server with this identification offering `methods`.
    pub fn offering(identification: &str, methods: &[&str]) -> Self {
        Self {
            identification: identification.to_string(),
            methods: methods.iter().map(|m| (*m).to_string()).collect(),
            accept_none: false,
        }
    }
}

/// A running lab SSH server; dropping it stops it.
pub struct LabSsh {
    /// Where it listens.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl LabSsh {
    /// Starts the server on a random loopback port.
    pub async fn start(config: LabSshConfig) -> Result<Self, LabError> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// Starts the server on `addr` (a loopback address).
    pub async fn start_on(addr: SocketAddr, config: LabSshConfig) -> Result<Self, LabError> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let host_key = Arc::new(
            Ed25519KeyPair::generate()
                .map_err(|_| LabError::Ssh("cannot make the host key".into()))?,
        );
        let config = Arc::new(config);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let host_key = Arc::clone(&host_key);
                let config = Arc::clone(&config);
                tokio::spawn(async move {
                    let deadline = Instant::now() + Duration::from_secs(10);
                    let _ = serve(stream, &config, &host_key, deadline).await;
                });
            }
        });
        Ok(Self { addr, task })
    }
}

impl Drop for LabSsh {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    stream: tokio::net::TcpStream,
    config: &LabSshConfig,
    host_key: &Ed25519KeyPair,
    deadline: Instant,
) -> Result<(), SshError> {
    let (mut transport, client_ident) =
        Transport::start(stream, &config.identification, deadline).await?;
    let ours = KexInit::ours(&["ssh-ed25519"]);
    let server_kexinit = ours.encode();
    transport.send(&server_kexinit).await?;
    let client_kexinit = transport.recv().await?;
    let theirs = KexInit::parse(&client_kexinit)?;
    // The client's preference decides (RFC 4253 §7.1).
    let chosen = negotiate(&theirs, &ours)?;
    let init = transport.recv().await?;
    let mut r = Reader::new(&init);
    if r.u8()? != msg::KEX_ECDH_INIT {
        return Err(SshError::Protocol("expected KEX_ECDH_INIT".into()));
    }
    let client_ephemeral = r.string()?;
    let ephemeral = Ephemeral::generate()?;
    let shared = ephemeral.agree(client_ephemeral)?;
    let host_key_blob = Encoder::default()
        .string(b"ssh-ed25519")
        .string(host_key.public_key().as_ref())
        .0;
    let hash = ExchangeHashInput {
        client_ident: client_ident.as_bytes(),
        server_ident: config.identification.as_bytes(),
        client_kexinit: &client_kexinit,
        server_kexinit: &server_kexinit,
        host_key: &host_key_blob,
        client_ephemeral,
        server_ephemeral: &ephemeral.public,
        shared_secret: &shared,
    }
    .hash();
    let signature = Encoder::default()
        .string(b"ssh-ed25519")
        .string(host_key.sign(&hash).as_ref())
        .0;
    transport
        .send(
            &Encoder::message(msg::KEX_ECDH_REPLY)
                .string(&host_key_blob)
                .string(&ephemeral.public)
                .string(&signature)
                .0,
        )
        .await?;
    transport.send(&[msg::NEWKEYS]).await?;
    if transport.recv().await?.first() != Some(&msg::NEWKEYS) {
        return Err(SshError::Protocol("expected NEWKEYS".into()));
    }
    transport.protect_sending(&derive_keys(
        &shared,
        &hash,
        &hash,
        *b"BDF",
        &chosen.cipher_s2c,
    ))?;
    transport.protect_receiving(&derive_keys(
        &shared,
        &hash,
        &hash,
        *b"ACE",
        &chosen.cipher_c2s,
    ))?;
    loop {
        let payload = transport.recv().await?;
        let mut r = Reader::new(&payload);
        match r.u8()? {
            msg::SERVICE_REQUEST => {
                let service = r.string()?.to_vec();
                transport
                    .send(&Encoder::message(msg::SERVICE_ACCEPT).string(&service).0)
                    .await?;
            }
            msg::USERAUTH_REQUEST => {
                r.string()?;
                r.string()?;
                let method = r.string()?;
                if method == b"none" && config.accept_none {
                    transport.send(&[msg::USERAUTH_SUCCESS]).await?;
                    return Ok(());
                }
                transport
                    .send(
                        &Encoder::message(msg::USERAUTH_FAILURE)
                            .name_list(&config.methods)
                            .bool(false)
                            .0,
                    )
                    .await?;
            }
            _ => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_probe_reads_the_offered_methods() {
        for methods in [vec!["publickey", "password"], vec!["publickey"]] {
            let server = LabSsh::start(LabSshConfig::offering(
                "SSH-2.0-OpenSSH_9.6p1 Lab",
                &methods,
            ))
            .await
            .unwrap();
            let deadline = Instant::now() + Duration::from_secs(5);
            let seen = crate::probe::ssh::probe(server.addr, deadline).await;
            assert_eq!(seen.error, None);
            assert_eq!(
                seen.identification.as_deref(),
                Some("SSH-2.0-OpenSSH_9.6p1 Lab")
            );
            assert_eq!(
                seen.auth_methods,
                Some(methods.iter().map(|m| m.to_string()).collect())
            );
            assert!(!seen.none_accepted);
        }
    }

    #[tokio::test]
    async fn accepting_none_is_recorded() {
        let mut config = LabSshConfig::offering("SSH-2.0-Lab", &["password"]);
        config.accept_none = true;
        let server = LabSsh::start(config).await.unwrap();
        let seen =
            crate::probe::ssh::probe(server.addr, Instant::now() + Duration::from_secs(5)).await;
        assert!(seen.none_accepted, "{seen:?}");
    }

    /// The OpenSSH client, an independent implementation, completes the key exchange with the
    /// lab server and reads the same methods: the transport code is right on both sides.
    #[tokio::test]
    #[allow(clippy::disallowed_macros)] // the skip notice goes to the test log
    async fn openssh_client_agrees() {
        let Ok(ssh) = which_ssh() else {
            eprintln!("skipped: no `ssh` client installed");
            return;
        };
        let server = LabSsh::start(LabSshConfig::offering(
            "SSH-2.0-Lab",
            &["publickey", "password"],
        ))
        .await
        .unwrap();
        let port = server.addr.port().to_string();
        let output = tokio::process::Command::new(ssh)
            .args([
                "-v",
                "-F",
                "/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "PreferredAuthentications=none",
                "-o",
                "ConnectTimeout=5",
                "-p",
                &port,
                "probe@127.0.0.1",
                "true",
            ])
            .output()
            .await
            .unwrap();
        let log = String::from_utf8_lossy(&output.stderr);
        assert!(
            log.contains("Authentications that can continue: publickey,password"),
            "{log}"
        );
    }

    fn which_ssh() -> Result<std::path::PathBuf, ()> {
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .map(|dir| dir.join("ssh"))
            .find(|p| p.is_file())
            .ok_or(())
    }
}
