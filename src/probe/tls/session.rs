//! A raw TLS connection held open past the server's first flight, for the active vulnerability
//! probes: send a hand-built ClientHello, read through ServerHelloDone, send a few crafted
//! records, read the server's next record.
//!
//! Like [`super::reply::exchange`], every read has a deadline and a byte cap, and nothing here
//! panics on hostile bytes. Record contents are never kept in evidence: the next record is
//! summarised as a [`RecordReply`] (alert number, record type and length); only the TLS 1.2
//! client of [`super::tls12_client`] reads raw records ([`Session::read_record`]) to finish a
//! handshake.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::reply::{Flight, Want, io_reply, open, parse_flight};
use super::wire::Reader;
use crate::evidence::StarttlsProtocol;
use crate::evidence::tls::{ServerHelloInfo, TlsReply};
use crate::evidence::vuln::RecordReply;
use crate::tls_registry::alert_name;

/// An open connection whose first flight has been read.
#[derive(Debug)]
pub struct Session {
    stream: TcpStream,
    flight: Vec<u8>,
    pending: Vec<u8>,
    max_bytes: usize,
    deadline: Instant,
}

impl Session {
    /// Connects to `addr`, sends `hello` and reads the first flight through ServerHelloDone.
    ///
    /// Returns the ServerHello (with the certificates of a TLS ≤ 1.2 flight), or the reply that
    /// ended the attempt (alert, close, timeout, malformed bytes).
    pub async fn open(
        addr: SocketAddr,
        hello: &[u8],
        max_bytes: usize,
        deadline: Instant,
    ) -> Result<(Self, ServerHelloInfo), TlsReply> {
        Self::open_via(addr, None, hello, max_bytes, deadline).await
    }

    /// [`Session::open`] on a connection that first speaks the STARTTLS preamble of `starttls`.
    pub async fn open_via(
        addr: SocketAddr,
        starttls: Option<StarttlsProtocol>,
        hello: &[u8],
        max_bytes: usize,
        deadline: Instant,
    ) -> Result<(Self, ServerHelloInfo), TlsReply> {
        let mut session = Self::start_via(addr, starttls, hello, max_bytes, deadline).await?;
        let want = Want {
            certificates: true,
            ..Want::default()
        };
        let mut received = Vec::with_capacity(8192);
        let mut chunk = vec![0u8; 8192];
        loop {
            if let Some(end) = flight_end(&received) {
                return match parse_flight(&received[..end], want, true) {
                    Flight::Complete(TlsReply::ServerHello(info)) => {
                        session.pending = received.split_off(end);
                        session.flight = received;
                        Ok((session, info))
                    }
                    Flight::Complete(other) => Err(other),
                    Flight::Incomplete => Err(TlsReply::Malformed {
                        reason: "a ServerHelloDone without a ServerHello".to_string(),
                    }),
                };
            }
            match parse_flight(&received, want, false) {
                Flight::Complete(TlsReply::ServerHello(_)) | Flight::Incomplete => {}
                Flight::Complete(other) => return Err(other),
            }
            if received.len() >= max_bytes {
                return Err(TlsReply::Malformed {
                    reason: format!("no ServerHelloDone within {max_bytes} bytes"),
                });
            }
            match tokio::time::timeout_at(deadline, session.stream.read(&mut chunk)).await {
                Err(_) => return Err(ended(&received, TlsReply::Timeout)),
                Ok(Err(error)) => return Err(ended(&received, io_reply(&error))),
                Ok(Ok(0)) => return Err(ended(&received, TlsReply::Closed)),
                Ok(Ok(n)) => received.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Connects (speaking the STARTTLS preamble of `starttls` first) and sends `hello`, reading
    /// nothing: for an answer that may not end in ServerHelloDone (a resumption), read it with
    /// [`Session::read_record`].
    pub async fn start_via(
        addr: SocketAddr,
        starttls: Option<StarttlsProtocol>,
        hello: &[u8],
        max_bytes: usize,
        deadline: Instant,
    ) -> Result<Self, TlsReply> {
        let mut stream = open(addr, starttls, deadline, max_bytes).await?;
        match tokio::time::timeout_at(deadline, stream.write_all(hello)).await {
            Err(_) => return Err(TlsReply::Timeout),
            Ok(Err(error)) => return Err(io_reply(&error)),
            Ok(Ok(())) => {}
        }
        Ok(Self {
            stream,
            flight: Vec::new(),
            pending: Vec::new(),
            max_bytes,
            deadline,
        })
    }

    /// The raw records of the first flight, through the one holding ServerHelloDone (empty for
    /// a session from [`Session::start_via`]).
    pub fn first_flight(&self) -> &[u8] {
        &self.flight
    }

    /// Sends raw bytes (whole records).
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), RecordReply> {
        match tokio::time::timeout_at(self.deadline, self.stream.write_all(bytes)).await {
            Err(_) => Err(RecordReply::Timeout),
            Ok(Err(error)) => Err(io_record_reply(&error)),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// The server's next record, waiting at most `wait` (and never past the session deadline).
    pub async fn next_record(&mut self, wait: Duration) -> RecordReply {
        match self.take_record(wait, classify_record).await {
            Ok(reply) | Err(reply) => reply,
        }
    }

    /// Sends `bytes`, then summarises the server's next record (waiting up to `wait`); a
    /// failed send is the answer.
    pub async fn ask(&mut self, bytes: &[u8], wait: Duration) -> RecordReply {
        match self.send(bytes).await {
            Ok(()) => self.next_record(wait).await,
            Err(reply) => reply,
        }
    }

    /// The server's next record whole: its content type and body, for a client that must read
    /// it (bounded like [`Session::next_record`]). `Err` is how the connection ended, or bytes
    /// that are not a TLS record.
    pub async fn read_record(&mut self, wait: Duration) -> Result<(u8, Vec<u8>), RecordReply> {
        self.take_record(wait, |bytes| {
            let (reply, used) = classify_record(bytes)?;
            let record = match (reply, bytes.get(5..used)) {
                (RecordReply::Malformed { reason }, _) => Err(RecordReply::Malformed { reason }),
                (_, Some(body)) => Ok((bytes[0], body.to_vec())),
                (_, None) => Err(RecordReply::Malformed {
                    reason: "a record shorter than its header".to_string(),
                }),
            };
            Some((record, used))
        })
        .await
        .and_then(|record| record)
    }

    /// Reads until `take` finds a whole record in the pending bytes; `take` returns what it
    /// made of it and how many bytes it used.
    async fn take_record<T>(
        &mut self,
        wait: Duration,
        take: impl Fn(&[u8]) -> Option<(T, usize)>,
    ) -> Result<T, RecordReply> {
        let until = self.deadline.min(Instant::now() + wait);
        let mut chunk = vec![0u8; 8192];
        loop {
            if let Some((value, used)) = take(&self.pending) {
                self.pending.drain(..used.min(self.pending.len()));
                return Ok(value);
            }
            if self.pending.len() >= self.max_bytes {
                return Err(RecordReply::Malformed {
                    reason: format!("no complete record within {} bytes", self.max_bytes),
                });
            }
            match tokio::time::timeout_at(until, self.stream.read(&mut chunk)).await {
                Err(_) => return Err(RecordReply::Timeout),
                Ok(Err(error)) => return Err(io_record_reply(&error)),
                Ok(Ok(0)) => return Err(RecordReply::Closed),
                Ok(Ok(n)) => {
                    let room = self.max_bytes.saturating_sub(self.pending.len());
                    self.pending.extend_from_slice(&chunk[..n.min(room)]);
                }
            }
        }
    }
}

/// Why a first flight ended early: the parsed answer (an alert, not TLS, …) if the bytes hold
/// one, else what the socket said.
fn ended(received: &[u8], socket: TlsReply) -> TlsReply {
    match parse_flight(received, Want::default(), true) {
        Flight::Complete(TlsReply::ServerHello(_) | TlsReply::Closed) | Flight::Incomplete => {
            socket
        }
        Flight::Complete(reply) => reply,
    }
}

fn io_record_reply(error: &std::io::Error) -> RecordReply {
    match io_reply(error) {
        TlsReply::Reset => RecordReply::Reset,
        TlsReply::Timeout => RecordReply::Timeout,
        TlsReply::Closed => RecordReply::Closed,
        _ => RecordReply::Malformed {
            reason: error.to_string(),
        },
    }
}

/// The offset just past the record that completes the ServerHelloDone message, if the bytes
/// hold one; `None` when more are needed or the bytes are not a handshake flight.
pub fn flight_end(bytes: &[u8]) -> Option<usize> {
    let mut records = Reader::new(bytes);
    let mut handshake = Vec::new();
    while let Ok(header) = records.take(5) {
        let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
        let body = records.take(length).ok()?;
        if header[0] != 22 {
            return None;
        }
        handshake.extend_from_slice(body);
        let mut messages = Reader::new(&handshake);
        while let (Ok(message_type), Ok(_)) = (messages.u8(), messages.prefixed_u24()) {
            if message_type == 14 {
                return Some(records.position());
            }
        }
    }
    None
}

/// The first record of `bytes` summarised, with the bytes it took; `None` when incomplete.
pub fn classify_record(bytes: &[u8]) -> Option<(RecordReply, usize)> {
    let mut r = Reader::new(bytes);
    let content_type = r.u8().ok()?;
    if !(20..=24).contains(&content_type) || bytes.get(1).is_some_and(|major| *major != 3) {
        return Some((
            RecordReply::Malformed {
                reason: format!("record type {content_type} is not TLS"),
            },
            bytes.len(),
        ));
    }
    r.take(2).ok()?;
    let body = r.prefixed_u16().ok()?.rest();
    let length = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let reply = match (content_type, body) {
        (21, [level, description, ..]) => RecordReply::Alert {
            level: *level,
            description: *description,
            name: alert_name(*description).to_string(),
        },
        (21, _) => RecordReply::Malformed {
            reason: "alert record shorter than two bytes".to_string(),
        },
        (24, _) => RecordReply::Heartbeat { length },
        _ => RecordReply::Record {
            content_type,
            length,
        },
    };
    Some((reply, r.position()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::probe::tls::wire::tls12_record as record;

    #[test]
    fn flight_ends_after_the_record_holding_server_hello_done() {
        // ServerHello split over two records, then Certificate + ServerHelloDone in one.
        let server_hello = [2, 0, 0, 2, 3, 3];
        let mut flight = record(22, &server_hello[..3]);
        flight.extend(record(22, &server_hello[3..]));
        let first_two = flight.len();
        flight.extend(record(22, &[11, 0, 0, 1, 0, 14, 0, 0, 0]));
        let end = flight.len();
        flight.extend(record(21, &[2, 40]));
        assert_eq!(flight_end(&flight), Some(end));
        assert_eq!(flight_end(&flight[..first_two]), None);
        assert_eq!(flight_end(&flight[..end - 1]), None);
        assert_eq!(flight_end(&record(21, &[2, 40])), None);
    }

    #[test]
    fn records_are_summarised_never_kept() {
        let mut bytes = record(24, &[2; 100]);
        bytes.extend(record(21, &[2, 20]));
        let (first, used) = classify_record(&bytes).unwrap();
        assert_eq!(first, RecordReply::Heartbeat { length: 100 });
        let (second, _) = classify_record(&bytes[used..]).unwrap();
        assert_eq!(
            second,
            RecordReply::Alert {
                level: 2,
                description: 20,
                name: "bad_record_mac".into()
            }
        );
        assert_eq!(classify_record(&bytes[..50]), None);
        assert!(matches!(
            classify_record(b"HTTP/1.1 400"),
            Some((RecordReply::Malformed { .. }, _))
        ));
    }

    #[test]
    fn random_bytes_never_panic() {
        for bytes in crate::fuzz::random_inputs(0x5eed, 5000, 64) {
            let _ = flight_end(&bytes);
            let _ = classify_record(&bytes);
        }
    }
}
