//! TLS and transport behaviours: silence, dripping, resets, records whose length lies, answers to
//! offers never made, HelloRetryRequest loops, alert floods and certificate chains too long or
//! too large to read.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::Value;

use super::responder::{ReadFirst, Responder, Step};
use super::{Line, audit_args, fact, finding, run, summarise, unobserved};

const HOST: &str = "tls.hostile.test";

/// The HelloRetryRequest random (RFC 8446 section 4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type, 3, 3];
    out.extend_from_slice(
        &u16::try_from(body.len())
            .expect("record fits")
            .to_be_bytes(),
    );
    out.extend_from_slice(body);
    out
}

/// A record header claiming `length` bytes, without the body.
fn record_header(content_type: u8, length: u16) -> Vec<u8> {
    let mut out = vec![content_type, 3, 3];
    out.extend_from_slice(&length.to_be_bytes());
    out
}

fn handshake(message_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![message_type];
    out.extend_from_slice(&u32::try_from(body.len()).expect("fits").to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

fn server_hello(
    version: u16,
    suite: u16,
    random: [u8; 32],
    extensions: &[(u16, &[u8])],
) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(&random);
    body.push(0); // empty session id
    body.extend_from_slice(&suite.to_be_bytes());
    body.push(0); // null compression
    if !extensions.is_empty() {
        let mut list = Vec::new();
        for (id, data) in extensions {
            list.extend_from_slice(&id.to_be_bytes());
            list.extend_from_slice(&u16::try_from(data.len()).expect("fits").to_be_bytes());
            list.extend_from_slice(data);
        }
        body.extend_from_slice(&u16::try_from(list.len()).expect("fits").to_be_bytes());
        body.extend_from_slice(&list);
    }
    handshake(2, &body)
}

/// Splits a handshake stream into records of at most 2^14 bytes.
fn records(content_type: u8, stream: &[u8]) -> Vec<u8> {
    stream
        .chunks(16384)
        .flat_map(|chunk| record(content_type, chunk))
        .collect()
}

/// The suites the TLS 1.2 server accepts (few, so the suite enumeration ends quickly).
const SERVED: [u16; 2] = [0xc02f, 0xc030];

/// The version and the first served suite of a TLS ClientHello record (`None`: not one, or
/// SSLv2).
fn offer(hello: &[u8]) -> Option<(u16, Option<u16>)> {
    let (_, plaintext) = tls_parser::parse_tls_plaintext(hello).ok()?;
    plaintext.msg.iter().find_map(|message| match message {
        tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(ch)) => {
            let suite = ch.ciphers.iter().map(|c| c.0).find(|c| SERVED.contains(c));
            Some((ch.version.0, suite))
        }
        _ => None,
    })
}

/// A TLS 1.2 server with two suites: a ServerHello, then `rest` of the flight and the `tail`
/// steps; hellos below TLS 1.2 and SSLv2 hellos get a protocol_version alert, hellos without a
/// served suite a handshake_failure alert.
async fn tls12_server(rest: Vec<u8>, tail: Vec<Step>) -> Responder {
    let script = Arc::new(move |hello: &[u8]| {
        let Some((_, chosen)) = offer(hello).filter(|(v, _)| *v >= 0x0303) else {
            return vec![Step::Write(record(21, &[2, 70])), Step::Close];
        };
        let Some(suite) = chosen else {
            return vec![Step::Write(record(21, &[2, 40])), Step::Close];
        };
        let mut flight = record(22, &server_hello(0x0303, suite, [7; 32], &[(0xff01, &[0])]));
        flight.extend_from_slice(&rest);
        let mut steps = vec![Step::Write(flight)];
        steps.extend(tail.iter().cloned());
        steps
    });
    Responder::start(None, ReadFirst::TlsRecord, script).await
}

/// A plain-HTTP port that closes every connection at once.
async fn closer() -> Responder {
    Responder::fixed(ReadFirst::Nothing, vec![Step::Close]).await
}

/// Audits `HOST` with HTTPS (and the TLS scan) on `server`; `extra` arguments appended.
async fn audit(server: &Responder, extra: &[&str]) -> super::Run {
    let http = closer().await;
    run(audit_args(HOST, server.addr, http.addr, extra)).await
}

fn reason(report: &Value, version: &str) -> String {
    unobserved(report, &format!("tls.protocols.{version}"))
        .unwrap_or_else(|| {
            panic!(
                "tls.protocols.{version} observed: {:?}",
                fact(report, &format!("tls.protocols.{version}"))
            )
        })
        .to_string()
}

/// Every version undecided with a reason containing `expected`; BASE-TLS-03 inconclusive.
fn assert_undecided(name: &'static str, run: &super::Run, expected: &str) -> Line {
    let report = run.report();
    for version in ["ssl3", "tls1_0", "tls1_1", "tls1_2", "tls1_3"] {
        let why = reason(&report, version);
        assert!(why.contains(expected), "{name}: {version}: {why}");
    }
    let (outcome, _) = finding(&report, "BASE-TLS-03");
    assert_eq!(outcome, "inconclusive", "{name}");
    let (suites, _) = finding(&report, "BASE-TLS-05");
    assert_eq!(
        suites, "inconclusive",
        "{name}: unknown suites are not a failure"
    );
    Line::new(
        name,
        run,
        format!(
            "BASE-TLS-03 inconclusive: tls.protocols.tls1_2 {}",
            reason(&report, "tls1_2")
        ),
    )
}

async fn silent() -> Line {
    let server = Responder::fixed(ReadFirst::Nothing, vec![]).await;
    let run = audit(&server, &[]).await;
    assert_undecided("accept, never answer", &run, "timeout")
}

async fn one_byte_per_second() -> Line {
    let hello = record(22, &server_hello(0x0303, 0xc02f, [1; 32], &[]));
    let server = Responder::fixed(
        ReadFirst::TlsRecord,
        vec![Step::Drip {
            bytes: hello,
            every: Duration::from_secs(1),
        }],
    )
    .await;
    let run = audit(&server, &[]).await;
    assert_undecided("ServerHello at one byte per second", &run, "timeout")
}

async fn close_mid_record() -> Line {
    let mut bytes = record_header(22, 100);
    bytes.extend_from_slice(&[2, 0, 0, 96, 3, 3]);
    let server =
        Responder::fixed(ReadFirst::TlsRecord, vec![Step::Write(bytes), Step::Close]).await;
    let run = audit(&server, &[]).await;
    assert_undecided(
        "close in the middle of a record",
        &run,
        "middle of a record",
    )
}

async fn reset() -> Line {
    let server = Responder::fixed(ReadFirst::TlsRecord, vec![Step::Reset]).await;
    let run = audit(&server, &[]).await;
    let report = run.report();
    // A reset is how some servers refuse a version: a decided "no", not a guess.
    assert_eq!(
        fact(&report, "tls.protocols.tls1_2"),
        Some(&Value::Bool(false))
    );
    assert_eq!(finding(&report, "BASE-TLS-03").0, "fail");
    assert_eq!(
        fact(&report, "http.https.reachable"),
        Some(&Value::Bool(false))
    );
    let (outcome, _) = finding(&report, "BASE-HTTPS-01");
    assert_eq!(outcome, "fail");
    Line::new(
        "RST on every connection",
        &run,
        "BASE-TLS-03 fail (every version refused by reset), BASE-HTTPS-01 fail".into(),
    )
}

async fn zero_length_records() -> Line {
    let flood: Vec<u8> = (0..2000).flat_map(|_| record(22, &[])).collect();
    let server = Responder::fixed(ReadFirst::TlsRecord, vec![Step::Write(flood)]).await;
    let run = audit(&server, &[]).await;
    assert_undecided("zero-length handshake records", &run, "empty")
}

async fn record_over_maximum() -> Line {
    let mut bytes = record_header(22, 16384 + 2048);
    bytes.extend(vec![2u8; 16384 + 2048]);
    let server = Responder::fixed(ReadFirst::TlsRecord, vec![Step::Write(bytes)]).await;
    let run = audit(&server, &[]).await;
    assert_undecided("record of 2^14+2048 bytes", &run, "exceeds")
}

async fn record_longer_than_sent() -> Line {
    let mut bytes = record_header(22, 16000);
    bytes.extend_from_slice(&server_hello(0x0303, 0xc02f, [1; 32], &[]));
    let server = Responder::fixed(ReadFirst::TlsRecord, vec![Step::Write(bytes)]).await;
    let run = audit(&server, &[]).await;
    assert_undecided("record length larger than sent", &run, "timeout")
}

async fn unoffered_suite() -> Line {
    let hello = record(
        22,
        &server_hello(0x0303, 0x1337, [1; 32], &[(0xff01, &[0])]),
    );
    let server = Responder::fixed(ReadFirst::TlsRecord, vec![Step::Write(hello)]).await;
    let run = audit(&server, &[]).await;
    let report = run.report();
    let why = reason(&report, "tls1_2");
    assert!(why.contains("not offered"), "{why}");
    assert_eq!(finding(&report, "BASE-TLS-03").0, "inconclusive");
    Line::new(
        "ServerHello with a suite never offered",
        &run,
        format!("BASE-TLS-03 inconclusive: tls1_2 {why}"),
    )
}

async fn unoffered_version() -> Line {
    let hello = record(
        22,
        &server_hello(
            0x0303,
            0x1301,
            [1; 32],
            &[(43, &[3, 5]), (51, &[0, 0x1d, 0, 0])],
        ),
    );
    let server = Responder::fixed(ReadFirst::TlsRecord, vec![Step::Write(hello)]).await;
    let run = audit(&server, &[]).await;
    assert_undecided(
        "ServerHello with a version never offered",
        &run,
        "not offered",
    )
}

async fn hello_retry_loop() -> Line {
    // Every hello, whatever it offered, gets a HelloRetryRequest for x25519 — a group the TLS 1.3
    // hello already sent a key share for, so retrying could never succeed.
    let hrr = record(
        22,
        &server_hello(
            0x0303,
            0x1301,
            HRR_RANDOM,
            &[(43, &[3, 4]), (51, &[0, 0x1d])],
        ),
    );
    let server = Responder::fixed(
        ReadFirst::TlsRecord,
        vec![Step::Write([hrr.clone(), hrr.clone(), hrr].concat())],
    )
    .await;
    let run = audit(&server, &[]).await;
    assert_undecided("HelloRetryRequest loop", &run, "HelloRetryRequest")
}

async fn alert_flood() -> Line {
    let flood: Vec<u8> = (0..10_000).flat_map(|_| record(21, &[1, 90])).collect();
    let server = Responder::fixed(ReadFirst::TlsRecord, vec![Step::Write(flood)]).await;
    let run = audit(&server, &[]).await;
    let report = run.report();
    assert_eq!(
        fact(&report, "tls.protocols.tls1_2"),
        Some(&Value::Bool(false))
    );
    assert_eq!(finding(&report, "BASE-TLS-03").0, "fail");
    Line::new(
        "10,000 alerts",
        &run,
        "BASE-TLS-03 fail: the first alert (user_canceled) refuses each version".into(),
    )
}

/// Audits a server whose Certificate message is `certificate`, saving the evidence.
async fn chain_case(name: &'static str, rest: Vec<u8>, tail: Vec<Step>) -> (super::Run, Value) {
    let server = tls12_server(rest, tail).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join(format!("{}.json", name.len()));
    let path = evidence.display().to_string();
    let run = audit(&server, &["--save-evidence", &path]).await;
    let saved = std::fs::read(&evidence).unwrap_or_default();
    let evidence: Value = serde_json::from_slice(&saved).unwrap_or(Value::Null);
    (run, evidence)
}

async fn chain_500() -> Line {
    let name = "certificate chain of 500 certificates";
    let mut list = Vec::new();
    for i in 0..500u32 {
        let der = [
            &[0x30, 0x64][..],
            &[u8::try_from(i % 256).unwrap_or(0); 100],
        ]
        .concat();
        list.extend_from_slice(&u32::try_from(der.len()).unwrap().to_be_bytes()[1..]);
        list.extend_from_slice(&der);
    }
    let mut body = u32::try_from(list.len()).unwrap().to_be_bytes()[1..].to_vec();
    body.extend_from_slice(&list);
    let mut flight = records(22, &handshake(11, &body));
    flight.extend(record(22, &handshake(14, &[])));
    let (run, evidence) = chain_case(name, flight, vec![]).await;
    let report = run.report();
    // The chain is read by the TLS 1.2 protocol hello (a failed read would be a
    // `certificate` attempt beside it).
    let attempt = evidence["tls"]["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .find(|a| a["purpose"] == "protocol" && a["protocol"] == "tls1_2")
        .expect("TLS 1.2 protocol attempt");
    assert_eq!(attempt["reply"]["certificate_count"], 500, "{name}");
    let kept = attempt["reply"]["certificates"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(kept <= 16, "{name}: {kept} certificates kept");
    let why = unobserved(&report, "cert").unwrap_or_default().to_string();
    assert!(!why.is_empty(), "{name}: cert facts observed");
    assert_eq!(finding(&report, "BASE-CERT-01").0, "inconclusive", "{name}");
    Line::new(
        name,
        &run,
        format!("{kept} of 500 kept; BASE-CERT-01 inconclusive: cert {why}"),
    )
}

async fn chain_10_mb() -> Line {
    let name = "certificate chain of 10 MB";
    let total: u32 = 10 * 1024 * 1024;
    let mut head = vec![11];
    head.extend_from_slice(&total.to_be_bytes()[1..]);
    head.extend_from_slice(&(total - 3).to_be_bytes()[1..]);
    let mut flight = record_header(22, 16384);
    flight.extend_from_slice(&head);
    // The rest of the first record, then 2^14-byte records of certificate bytes, ten megabytes.
    let mut filler = vec![0x30u8; 16384 - head.len()];
    filler.extend(record_header(22, 16384));
    let (run, evidence) = chain_case(
        name,
        flight,
        vec![
            Step::Write(filler),
            Step::Repeat {
                chunk: [vec![0x30; 16384], record_header(22, 16384)].concat(),
                total: u64::from(total),
            },
        ],
    )
    .await;
    let report = run.report();
    let attempt = evidence["tls"]["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .find(|a| a["purpose"] == "certificate")
        .expect("certificate attempt");
    let reply = attempt["reply"].to_string();
    assert!(reply.contains("handshake message of"), "{name}: {reply}");
    assert_eq!(finding(&report, "BASE-CERT-01").0, "inconclusive", "{name}");
    Line::new(
        name,
        &run,
        format!(
            "certificate attempt malformed ({}); BASE-CERT-01 inconclusive",
            attempt["reply"]["reason"].as_str().unwrap_or_default()
        ),
    )
}

async fn flood_after_hello() -> Line {
    let name = "endless handshake messages after ServerHello";
    // Unknown handshake messages, never a ServerHelloDone: the byte cap ends the read.
    let chunk = records(22, &handshake(99, &[0; 1000]).repeat(16));
    let (run, _) = chain_case(
        name,
        Vec::new(),
        vec![Step::Repeat {
            chunk,
            total: 50 * 1024 * 1024,
        }],
    )
    .await;
    let report = run.report();
    assert_eq!(
        fact(&report, "tls.protocols.tls1_2"),
        Some(&Value::Bool(true)),
        "{name}"
    );
    assert_eq!(finding(&report, "BASE-TLS-03").0, "pass", "{name}");
    Line::new(
        name,
        &run,
        "read stops at the 64 KiB cap; tls1_2 accepted (the ServerHello was whole)".into(),
    )
}

async fn not_tls() -> Line {
    let server = Responder::fixed(
        ReadFirst::TlsRecord,
        vec![Step::Write(b"SSH-2.0-OpenSSH_9.6\x1b[2J\r\n".to_vec())],
    )
    .await;
    let run = audit(&server, &[]).await;
    assert_undecided(
        "another protocol (SSH banner) on the TLS port",
        &run,
        "not TLS",
    )
}

async fn sslv2_garbage() -> Line {
    let server = Responder::fixed(
        ReadFirst::TlsRecord,
        vec![
            Step::Write(vec![0x80, 0x05, 0x04, 0xff, 0xff, 0xff, 0xff]),
            Step::Close,
        ],
    )
    .await;
    let run = audit(&server, &[]).await;
    let report = run.report();
    let why = reason(&report, "ssl2");
    assert!(why.contains("malformed"), "{why}");
    Line::new(
        "truncated SSLv2 SERVER-HELLO to every hello",
        &run,
        format!("tls.protocols.ssl2 unobserved: {why}"),
    )
}

async fn giant_handshake_length() -> Line {
    let mut body = vec![2, 0xff, 0xff, 0xff];
    body.extend_from_slice(&[0; 100]);
    let server = Responder::fixed(ReadFirst::TlsRecord, vec![Step::Write(record(22, &body))]).await;
    let run = audit(&server, &[]).await;
    assert_undecided("ServerHello claiming 16 MiB", &run, "handshake message of")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_tls_servers() {
    let lines = join_all([
        Box::pin(silent()) as std::pin::Pin<Box<dyn std::future::Future<Output = Line> + Send>>,
        Box::pin(one_byte_per_second()),
        Box::pin(close_mid_record()),
        Box::pin(reset()),
        Box::pin(zero_length_records()),
        Box::pin(record_over_maximum()),
        Box::pin(record_longer_than_sent()),
        Box::pin(unoffered_suite()),
        Box::pin(unoffered_version()),
        Box::pin(hello_retry_loop()),
        Box::pin(alert_flood()),
        Box::pin(chain_500()),
        Box::pin(chain_10_mb()),
        Box::pin(flood_after_hello()),
        Box::pin(not_tls()),
        Box::pin(sslv2_garbage()),
        Box::pin(giant_handshake_length()),
    ])
    .await;
    summarise("tls", &lines);
}
