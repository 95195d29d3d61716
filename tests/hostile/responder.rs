//! A scripted TCP responder for the hostile-server zoo: one behaviour per listener.
//!
//! Each accepted connection first reads what the client sends (nothing, one TLS or SSLv2 record,
//! or an HTTP request head — always at most 64 KiB and 5 seconds), optionally after a TLS
//! handshake of its own, then plays the steps its script returns for that input: write, drip
//! bytes slowly, stream a large body, sleep, reset, close or hold the connection open. It listens
//! on 127.0.0.1 only and stops when dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// What a connection reads before its script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFirst {
    /// Nothing: the script starts as soon as the connection is accepted.
    Nothing,
    /// One TLS record (or SSLv2 record): a ClientHello.
    TlsRecord,
    /// An HTTP request head, up to the blank line.
    HttpHead,
}

/// One thing the server does.
#[derive(Debug, Clone)]
pub enum Step {
    /// Writes these bytes.
    Write(Vec<u8>),
    /// Writes these bytes one at a time, pausing `every` between them.
    Drip {
        /// The bytes.
        bytes: Vec<u8>,
        /// The pause.
        every: Duration,
    },
    /// Writes `chunk` again and again, `total` bytes in all (or until the client leaves).
    Repeat {
        /// What is repeated.
        chunk: Vec<u8>,
        /// How many bytes in all.
        total: u64,
    },
    /// Writes `chunk` every `every`, forever (until the client leaves).
    Trickle {
        /// What is repeated.
        chunk: Vec<u8>,
        /// The pause.
        every: Duration,
    },
    /// Waits.
    Sleep(Duration),
    /// Resets the connection (RST: SO_LINGER 0, then close).
    Reset,
    /// Closes the connection cleanly.
    Close,
}

/// Picks the steps for what the client sent.
pub type Script = Arc<dyn Fn(&[u8]) -> Vec<Step> + Send + Sync>;

/// A running responder; dropping it stops it.
pub struct Responder {
    /// Where it listens.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The longest any single connection is served (a safety net: the client's deadline is shorter).
const CONNECTION_LIFETIME: Duration = Duration::from_secs(20);

impl Responder {
    /// Starts a responder on 127.0.0.1 (random port); `tls` wraps every connection in a TLS
    /// server handshake first.
    pub async fn start(tls: Option<TlsAcceptor>, read: ReadFirst, script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let script = Arc::clone(&script);
                let tls = tls.clone();
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout(CONNECTION_LIFETIME, serve(stream, tls, read, script))
                            .await;
                });
            }
        });
        Self { addr, task }
    }

    /// A responder that plays the same steps to every connection.
    pub async fn fixed(read: ReadFirst, steps: Vec<Step>) -> Self {
        Self::start(None, read, Arc::new(move |_: &[u8]| steps.clone())).await
    }
}

async fn serve(stream: TcpStream, tls: Option<TlsAcceptor>, read: ReadFirst, script: Script) {
    match tls {
        None => {
            let mut stream = stream;
            let input = read_input(&mut stream, read).await;
            let reset = play(&mut stream, &script(&input)).await;
            if reset {
                let _ = stream.set_zero_linger();
                drop(stream);
            }
        }
        Some(acceptor) => {
            let Ok(mut stream) = acceptor.accept(stream).await else {
                return;
            };
            let input = read_input(&mut stream, read).await;
            if play(&mut stream, &script(&input)).await {
                let (tcp, _) = stream.into_inner();
                let _ = tcp.set_zero_linger();
            }
        }
    }
}

/// Plays `steps`; true when the connection is to be reset.
async fn play<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, steps: &[Step]) -> bool {
    for step in steps {
        let written = match step {
            Step::Write(bytes) => stream.write_all(bytes).await,
            Step::Drip { bytes, every } => {
                let mut result = Ok(());
                for byte in bytes {
                    result = stream.write_all(&[*byte]).await;
                    if result.is_err() {
                        break;
                    }
                    let _ = stream.flush().await;
                    tokio::time::sleep(*every).await;
                }
                result
            }
            Step::Repeat { chunk, total } => {
                let mut left = *total;
                let mut result = Ok(());
                while left > 0 && result.is_ok() {
                    let n = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    result = stream.write_all(&chunk[..n]).await;
                    left -= n as u64;
                }
                result
            }
            Step::Trickle { chunk, every } => loop {
                if let Err(e) = stream.write_all(chunk).await {
                    break Err(e);
                }
                let _ = stream.flush().await;
                tokio::time::sleep(*every).await;
            },
            Step::Sleep(pause) => {
                tokio::time::sleep(*pause).await;
                Ok(())
            }
            Step::Reset => return true,
            Step::Close => {
                let _ = stream.shutdown().await;
                return false;
            }
        };
        if written.is_err() {
            return false;
        }
    }
    let _ = stream.flush().await;
    // Hold the connection until the client hangs up.
    let mut sink = [0u8; 4096];
    while let Ok(n) = stream.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
    false
}

/// Reads what the client sends first, at most 64 KiB within 5 seconds.
async fn read_input<S: AsyncRead + Unpin>(stream: &mut S, read: ReadFirst) -> Vec<u8> {
    let mut buf = Vec::new();
    if read == ReadFirst::Nothing {
        return buf;
    }
    let mut chunk = [0u8; 4096];
    let reading = async {
        loop {
            if complete(&buf, read) || buf.len() > 65536 {
                return;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), reading).await;
    buf
}

fn complete(buf: &[u8], read: ReadFirst) -> bool {
    match read {
        ReadFirst::Nothing => true,
        ReadFirst::HttpHead => buf.windows(4).any(|w| w == b"\r\n\r\n"),
        ReadFirst::TlsRecord => match buf {
            [first, second, ..] if first & 0x80 != 0 => {
                buf.len() >= 2 + usize::from(u16::from_be_bytes([first & 0x7f, *second]))
            }
            [_, _, _, high, low, ..] => {
                buf.len() >= 5 + usize::from(u16::from_be_bytes([*high, *low]))
            }
            _ => false,
        },
    }
}
