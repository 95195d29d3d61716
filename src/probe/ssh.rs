//! The SSH probe: which authentication methods a server offers, asked the way RFC 4252 §5.2
//! allows — key exchange, then one `none` authentication request for the user `secaudit`. The
//! server answers with the methods that "can continue" (`publickey`, `password`,
//! `keyboard-interactive`, …). No credential is ever sent; the connection is closed right after
//! the answer.

use std::net::SocketAddr;

use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::evidence::exposure::{SshEvidence, SshKexInit};
use crate::net::ssh::{
    Encoder, Ephemeral, ExchangeHashInput, HOST_KEY, KexInit, Reader, SshError, Transport,
    derive_keys, msg, negotiate, verify_host_signature,
};

/// The identification string sent.
pub const CLIENT_IDENT: &str = concat!("SSH-2.0-secaudit_", env!("CARGO_PKG_VERSION"));

/// The user name in the `none` request (never a real account: no credential follows).
pub const PROBE_USER: &str = "secaudit";

/// Connects to `addr` and records how far the handshake got and what the server offered.
pub async fn probe(addr: SocketAddr, deadline: Instant) -> SshEvidence {
    let mut evidence = SshEvidence {
        endpoint: addr.to_string(),
        identification: None,
        kex_init: None,
        negotiated: Vec::new(),
        auth_methods: None,
        none_accepted: false,
        error: None,
    };
    if let Err(error) = run(addr, deadline, &mut evidence).await {
        evidence.error = Some(error.into());
    }
    evidence
}

async fn run(addr: SocketAddr, deadline: Instant, out: &mut SshEvidence) -> Result<(), SshError> {
    let stream = tokio::time::timeout_at(deadline, TcpStream::connect(addr))
        .await
        .map_err(|_| SshError::Timeout)??;
    let (mut transport, server_ident) = Transport::start(stream, CLIENT_IDENT, deadline).await?;
    out.identification = Some(server_ident.clone());
    if !server_ident.starts_with("SSH-2.0-") && !server_ident.starts_with("SSH-1.99-") {
        return Err(SshError::Protocol(format!(
            "the server does not speak SSH 2 ({server_ident})"
        )));
    }
    let ours = KexInit::ours(&HOST_KEY);
    let client_kexinit = ours.encode();
    transport.send(&client_kexinit).await?;
    let server_kexinit = transport.recv().await?;
    let theirs = KexInit::parse(&server_kexinit)?;
    out.kex_init = Some(SshKexInit {
        kex: theirs.kex.clone(),
        host_key: theirs.host_key.clone(),
        ciphers: theirs.ciphers_s2c.clone(),
        macs: theirs.macs_s2c.clone(),
    });
    let chosen = negotiate(&ours, &theirs)?;
    out.negotiated = chosen.names();

    let ephemeral = Ephemeral::generate()?;
    transport
        .send(
            &Encoder::message(msg::KEX_ECDH_INIT)
                .string(&ephemeral.public)
                .0,
        )
        .await?;
    let reply = transport.recv().await?;
    let mut r = Reader::new(&reply);
    if r.u8()? != msg::KEX_ECDH_REPLY {
        return Err(SshError::Protocol("expected KEX_ECDH_REPLY".into()));
    }
    let host_key = r.string()?;
    let server_ephemeral = r.string()?;
    let signature = r.string()?;
    let shared = ephemeral.agree(server_ephemeral)?;
    let hash = ExchangeHashInput {
        client_ident: CLIENT_IDENT.as_bytes(),
        server_ident: server_ident.as_bytes(),
        client_kexinit: &client_kexinit,
        server_kexinit: &server_kexinit,
        host_key,
        client_ephemeral: &ephemeral.public,
        server_ephemeral,
        shared_secret: &shared,
    }
    .hash();
    verify_host_signature(&chosen.host_key, host_key, signature, &hash)?;

    transport.send(&[msg::NEWKEYS]).await?;
    if transport.recv().await?.first() != Some(&msg::NEWKEYS) {
        return Err(SshError::Protocol("expected NEWKEYS".into()));
    }
    let session_id = hash.clone();
    transport.protect_sending(&derive_keys(
        &shared,
        &hash,
        &session_id,
        *b"ACE",
        &chosen.cipher_c2s,
    ))?;
    transport.protect_receiving(&derive_keys(
        &shared,
        &hash,
        &session_id,
        *b"BDF",
        &chosen.cipher_s2c,
    ))?;

    transport
        .send(
            &Encoder::message(msg::SERVICE_REQUEST)
                .string(b"ssh-userauth")
                .0,
        )
        .await?;
    loop {
        let payload = transport.recv().await?;
        match payload.first() {
            Some(&msg::SERVICE_ACCEPT) => break,
            Some(&msg::EXT_INFO) => continue,
            _ => return Err(SshError::Protocol("expected SERVICE_ACCEPT".into())),
        }
    }
    transport
        .send(
            &Encoder::message(msg::USERAUTH_REQUEST)
                .string(PROBE_USER.as_bytes())
                .string(b"ssh-connection")
                .string(b"none")
                .0,
        )
        .await?;
    loop {
        let payload = transport.recv().await?;
        let mut r = Reader::new(&payload);
        match r.u8()? {
            msg::USERAUTH_BANNER | msg::EXT_INFO => continue,
            msg::USERAUTH_FAILURE => {
                out.auth_methods = Some(r.name_list()?);
                break;
            }
            msg::USERAUTH_SUCCESS => {
                out.none_accepted = true;
                out.auth_methods = Some(Vec::new());
                break;
            }
            other => {
                return Err(SshError::Protocol(format!(
                    "unexpected message {other} after the none request"
                )));
            }
        }
    }
    // Best effort: say goodbye (code 11, by application).
    let _ = transport
        .send(
            &Encoder::message(msg::DISCONNECT)
                .u32(11)
                .string(b"secaudit: done")
                .string(b"")
                .0,
        )
        .await;
    Ok(())
}
