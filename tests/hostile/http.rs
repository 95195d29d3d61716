//! HTTP behaviours, served alike on plain HTTP and on HTTPS (a rustls server with a lab
//! certificate): redirect loops and redirects to other schemes or internal addresses, huge
//! bodies, heads and header counts, terminal escapes and invalid UTF-8 in header values,
//! chunked bodies that never end, a gzip bomb, stalls, resets and replies that are not HTTP.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::Value;
use tokio_rustls::TlsAcceptor;

use super::responder::{ReadFirst, Responder, Step};
use super::{Line, Run, audit_args, fact, finding, run, summarise, unobserved};

const HOST: &str = "www.hostile.test";

/// The HTTPS and plain-HTTP servers of one behaviour, and the lab CA that signed the HTTPS one.
struct Site {
    https: Responder,
    http: Responder,
    _dir: tempfile::TempDir,
    ca_file: String,
}

fn acceptor(issued: &secaudit::lab::certs::Issued) -> TlsAcceptor {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(issued.served.clone(), issued.key.clone_key())
        .expect("certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsAcceptor::from(Arc::new(config))
}

/// Serves `steps` (built from the request head) on both schemes.
async fn site(steps: impl Fn(&[u8]) -> Vec<Step> + Send + Sync + 'static) -> Site {
    let issued = secaudit::lab::certs::issue(HOST, &secaudit::lab::LabCert::default())
        .expect("lab certificate");
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &issued.root_pem).expect("write CA");
    let script: super::responder::Script = Arc::new(steps);
    Site {
        https: Responder::start(
            Some(acceptor(&issued)),
            ReadFirst::HttpHead,
            Arc::clone(&script),
        )
        .await,
        http: Responder::start(None, ReadFirst::HttpHead, script).await,
        ca_file: ca.display().to_string(),
        _dir: dir,
    }
}

/// Audits the site, saving the evidence; returns the run and the evidence.
async fn audit(site: &Site, extra: &[&str]) -> (Run, Value) {
    let evidence = site._dir.path().join("evidence.json");
    let path = evidence.display().to_string();
    let mut args = vec!["--ca-file", site.ca_file.as_str(), "--save-evidence", &path];
    args.extend_from_slice(extra);
    let run = run(audit_args(HOST, site.https.addr, site.http.addr, &args)).await;
    let saved = std::fs::read(&evidence).unwrap_or_default();
    (run, serde_json::from_slice(&saved).unwrap_or(Value::Null))
}

fn response(head: &str, body: &[u8]) -> Vec<u8> {
    [head.as_bytes(), b"\r\n", body].concat()
}

/// A fixed reply to every request.
fn always(bytes: Vec<u8>) -> impl Fn(&[u8]) -> Vec<Step> + Send + Sync + 'static {
    move |_| vec![Step::Write(bytes.clone()), Step::Close]
}

/// The HTTPS chain's evidence.
fn secure(evidence: &Value) -> &Value {
    &evidence["http"]["secure"]
}

async fn redirect_loop() -> Line {
    let name = "infinite redirect loop";
    let site = site(always(response(
        "HTTP/1.1 301 Moved\r\nLocation: /again\r\nContent-Length: 0\r\n",
        b"",
    )))
    .await;
    // Eleven TLS handshakes in a row: a longer deadline than the rest of the zoo.
    let (run, evidence) = audit(&site, &["--timeout", "4"]).await;
    let report = run.report();
    assert_eq!(
        secure(&evidence)["end"]["kind"],
        "too_many_redirects",
        "{name}: {} after {} hops",
        secure(&evidence)["end"],
        secure(&evidence)["hops"].as_array().map_or(0, Vec::len)
    );
    assert_eq!(secure(&evidence)["hops"].as_array().map(Vec::len), Some(11));
    assert_eq!(
        fact(&report, "http.redirects.end"),
        Some(&Value::from("too_many_redirects"))
    );
    let why = unobserved(&report, "http.csp")
        .unwrap_or_default()
        .to_string();
    assert!(why.contains("too many redirects"), "{name}: {why}");
    assert_eq!(finding(&report, "BASE-HDR-01").0, "inconclusive", "{name}");
    Line::new(
        name,
        &run,
        format!(
            "stopped after 10 redirects (11 hops); BASE-REDIR-01 {}; BASE-HDR-01 inconclusive: {why}",
            finding(&report, "BASE-REDIR-01").0
        ),
    )
}

async fn redirect_other_scheme() -> Line {
    let name = "redirect to another scheme (javascript:, file:)";
    let site = site(|head: &[u8]| {
        let location = if head.starts_with(b"GET / ") {
            "javascript:alert(document.domain)"
        } else {
            "file:///etc/passwd"
        };
        vec![
            Step::Write(response(
                &format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n"),
                b"",
            )),
            Step::Close,
        ]
    })
    .await;
    let (run, evidence) = audit(&site, &[]).await;
    let report = run.report();
    assert_eq!(secure(&evidence)["end"]["kind"], "bad_location", "{name}");
    assert_eq!(secure(&evidence)["hops"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        fact(&report, "http.redirects.end"),
        Some(&Value::from("bad_location"))
    );
    assert_eq!(finding(&report, "BASE-HDR-01").0, "inconclusive", "{name}");
    Line::new(
        name,
        &run,
        format!(
            "not followed (end bad_location); BASE-REDIR-01 {}; BASE-HDR-01 inconclusive",
            finding(&report, "BASE-REDIR-01").0
        ),
    )
}

/// A site that redirects to `location`, an internal address: the redirect is not followed.
async fn redirect_internal(name: &'static str, location: &str, scope: &str) -> Line {
    let site = site(always(response(
        &format!("HTTP/1.1 301 Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n"),
        b"",
    )))
    .await;
    let (run, evidence) = audit(&site, &[]).await;
    let report = run.report();
    for chain in ["plain", "secure"] {
        let end = &evidence["http"][chain]["end"];
        assert_eq!(end["kind"], "failed", "{name}: {end}");
        let message = end["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("not followed") && message.contains(scope),
            "{name}: {message}"
        );
        assert_eq!(
            evidence["http"][chain]["hops"].as_array().map(Vec::len),
            Some(1)
        );
    }
    let why = unobserved(&report, "http.csp")
        .unwrap_or_default()
        .to_string();
    assert!(why.contains("a request failed"), "{name}: {why}");
    assert_eq!(finding(&report, "BASE-HDR-01").0, "inconclusive", "{name}");
    let message = evidence["http"]["secure"]["end"]["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Line::new(
        name,
        &run,
        format!("not requested: {message}; BASE-HDR-01 inconclusive"),
    )
}

async fn redirect_metadata() -> Line {
    redirect_internal(
        "redirect to the link-local metadata address",
        "http://169.254.169.254/latest/meta-data/",
        "link-local",
    )
    .await
}

async fn redirect_private() -> Line {
    redirect_internal(
        "redirect to a private address",
        "https://10.0.0.5/admin",
        "private",
    )
    .await
}

async fn body_100_mb() -> Line {
    let name = "100 MB body";
    let site = site(|_: &[u8]| {
        vec![
            Step::Write(response(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 104857600\r\n",
                b"",
            )),
            Step::Repeat {
                chunk: vec![b'a'; 65536],
                total: 100 * 1024 * 1024,
            },
        ]
    })
    .await;
    let (run, evidence) = audit(&site, &[]).await;
    let body = &secure(&evidence)["hops"][0]["body"];
    assert_eq!(body["bytes_read"], 262_144, "{name}: {body}");
    assert_eq!(body["truncated"], true);
    assert_eq!(body["text"].as_str().map(str::len), Some(65536));
    let report = run.report();
    assert_eq!(
        fact(&report, "http.https.reachable"),
        Some(&Value::Bool(true))
    );
    Line::new(
        name,
        &run,
        format!(
            "read 256 KiB and stopped (truncated), 64 KiB kept; BASE-HSTS-01 {}",
            finding(&report, "BASE-HSTS-01").0
        ),
    )
}

/// A site whose responses cannot be parsed: HTTPS unobserved, with `needle` in the reason.
async fn unparsable(name: &'static str, reply: Vec<u8>, needle: &str) -> Line {
    let site = site(always(reply)).await;
    let (run, _) = audit(&site, &[]).await;
    let report = run.report();
    assert_eq!(
        fact(&report, "http.https.reachable"),
        Some(&Value::Bool(false)),
        "{name}"
    );
    let error = fact(&report, "http.https.error")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    assert!(error.contains(needle), "{name}: {error}");
    let why = unobserved(&report, "http.hsts")
        .unwrap_or_default()
        .to_string();
    assert!(!why.is_empty(), "{name}");
    assert_eq!(
        finding(&report, "BASE-HSTS-01").0,
        "not_applicable",
        "{name}"
    );
    Line::new(
        name,
        &run,
        format!(
            "BASE-HTTPS-01 {}: {error}",
            finding(&report, "BASE-HTTPS-01").0
        ),
    )
}

async fn header_1_mb() -> Line {
    let big = "a".repeat(1024 * 1024);
    unparsable(
        "1 MB header",
        response(
            &format!("HTTP/1.1 200 OK\r\nX-Big: {big}\r\nContent-Length: 0\r\n"),
            b"",
        ),
        "malformed",
    )
    .await
}

async fn headers_10000() -> Line {
    let lines: String = (0..10_000).map(|i| format!("X-H{i}: v\r\n")).collect();
    unparsable(
        "10,000 headers",
        response(
            &format!("HTTP/1.1 200 OK\r\n{lines}Content-Length: 0\r\n"),
            b"",
        ),
        "malformed",
    )
    .await
}

async fn cookies_10000() -> Line {
    let lines: String = (0..10_000)
        .map(|i| format!("Set-Cookie: c{i}=v; Secure; HttpOnly\r\n"))
        .collect();
    unparsable(
        "10,000 Set-Cookie",
        response(
            &format!("HTTP/1.1 200 OK\r\n{lines}Content-Length: 0\r\n"),
            b"",
        ),
        "malformed",
    )
    .await
}

async fn not_http() -> Line {
    unparsable(
        "binary garbage instead of HTTP",
        vec![
            0, 1, 2, 0x1b, b'[', b'2', b'J', 0xff, 0xfe, b'\r', b'\n', b'\r', b'\n',
        ],
        "malformed",
    )
    .await
}

/// Header values with C1 controls and bidi overrides: valid obs-text for HTTP, so they reach the
/// evidence (C0 controls such as ESC do not: the HTTP parser refuses them, see
/// [`escape_bytes`]).
pub const C1_AND_BIDI: &str = "nginx/1.25.3\u{9b}2J\u{9d}0;pwned\u{9c}\u{202e}txt.exe";

async fn escape_bytes() -> Line {
    unparsable(
        "ESC sequences (OSC title, clear screen) in header values",
        response(
            "HTTP/1.1 200 OK\r\nServer: nginx\u{1b}]0;pwned\u{7}\u{1b}[2J\r\nContent-Length: 0\r\n",
            b"",
        ),
        "malformed",
    )
    .await
}

async fn escape_sequences() -> Line {
    let name = "C1 controls and bidi overrides in header values";
    let head = format!(
        "HTTP/1.1 200 OK\r\nServer: {C1_AND_BIDI}\r\nX-Powered-By: PHP\u{9b}2J\r\n\
         Set-Cookie: sid\u{9b}2J=1; Secure; HttpOnly; SameSite=Lax\r\n\
         Strict-Transport-Security: max-age=31536000\u{9b}2J\r\n\
         Content-Type: text/html\r\nContent-Length: 2\r\n"
    );
    let site = site(always(response(&head, b"ok"))).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let table = dir.path().join("report.txt");
    let table_arg = format!("table={}", table.display());
    let (run, _) = audit(&site, &["--format", &table_arg]).await;
    let report = run.report();
    // The evidence keeps what was sent; the terminal sees none of it.
    let server = fact(&report, "http.server.raw")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert_eq!(server, C1_AND_BIDI, "{name}");
    let text = std::fs::read_to_string(&table).expect("table report");
    super::output::assert_terminal_safe(&text, name);
    assert!(
        text.contains("\\u{9b}"),
        "{name}: the controls are shown, visibly"
    );
    assert_eq!(finding(&report, "BASE-HDR-06").0, "fail", "{name}");
    let (hsts, hsts_message) = finding(&report, "BASE-HSTS-01");
    assert_eq!(hsts, "fail", "{name}: {hsts_message}");
    Line::new(
        name,
        &run,
        "kept in the evidence; the table shows \\u{9b}, \\u{202e}; BASE-HDR-06 fail (version disclosed); BASE-HSTS-01 fail (invalid max-age)".into(),
    )
}

async fn invalid_utf8() -> Line {
    let name = "invalid UTF-8 in header values";
    let head = [
        &b"HTTP/1.1 200 OK\r\nServer: Apache/2.4\xff\xfe\xc3\x28\r\n"[..],
        b"Content-Security-Policy: default-src 'self' \xf0\x28\x8c\x28\r\n",
        b"Content-Type: text/html\r\nContent-Length: 2\r\n",
    ]
    .concat();
    let site = site(always([head, b"\r\nok".to_vec()].concat())).await;
    let (run, _) = audit(&site, &[]).await;
    let report = run.report();
    let server = fact(&report, "http.server.raw")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert!(server.contains('\u{fffd}'), "{name}: {server:?}");
    assert_eq!(
        fact(&report, "http.https.reachable"),
        Some(&Value::Bool(true))
    );
    Line::new(
        name,
        &run,
        format!(
            "decoded lossily (U+FFFD); BASE-HDR-06 {}; BASE-HDR-01 {}",
            finding(&report, "BASE-HDR-06").0,
            finding(&report, "BASE-HDR-01").0
        ),
    )
}

fn chunk(size: usize) -> Vec<u8> {
    [
        format!("{size:x}\r\n").into_bytes(),
        vec![b'x'; size],
        b"\r\n".to_vec(),
    ]
    .concat()
}

async fn chunked_never_ends() -> Line {
    let name = "chunked body that never ends (slow)";
    let site = site(|_: &[u8]| {
        vec![
            Step::Write(response(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n",
                b"",
            )),
            Step::Trickle {
                chunk: chunk(100),
                every: Duration::from_millis(50),
            },
        ]
    })
    .await;
    let (run, evidence) = audit(&site, &[]).await;
    let body = &secure(&evidence)["hops"][0]["body"];
    let read = body["bytes_read"].as_u64().unwrap_or_default();
    assert!(read > 0 && read < 262_144, "{name}: {body}");
    let report = run.report();
    Line::new(
        name,
        &run,
        format!(
            "read {read} bytes until the deadline; CORS probe {}",
            unobserved(&report, "http.cors.probe").unwrap_or("observed")
        ),
    )
}

async fn chunked_flood() -> Line {
    let name = "chunked body that never ends (fast)";
    let site = site(|_: &[u8]| {
        vec![
            Step::Write(response(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n",
                b"",
            )),
            Step::Repeat {
                chunk: chunk(16000).repeat(4),
                total: 1 << 30,
            },
        ]
    })
    .await;
    let (run, evidence) = audit(&site, &[]).await;
    let body = &secure(&evidence)["hops"][0]["body"];
    assert_eq!(body["bytes_read"], 262_144, "{name}: {body}");
    assert_eq!(body["truncated"], true);
    Line::new(name, &run, "read 256 KiB and stopped (truncated)".into())
}

async fn gzip_bomb() -> Line {
    let name = "gzip bomb (100 MiB of zeros in 100 KB)";
    let bomb = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile/zeros-100mib.gz"),
    )
    .expect("bomb fixture");
    let size = bomb.len();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: {size}\r\n"
    );
    let site = site(always(response(&head, &bomb))).await;
    let (run, evidence) = audit(&site, &[]).await;
    let body = &secure(&evidence)["hops"][0]["body"];
    // Never inflated: the bytes read are the compressed bytes.
    assert_eq!(
        body["bytes_read"].as_u64(),
        u64::try_from(size).ok(),
        "{name}: {body}"
    );
    Line::new(
        name,
        &run,
        format!("not inflated: {size} compressed bytes read, no more"),
    )
}

async fn slow_headers() -> Line {
    let name = "response head at one byte per second";
    let site = site(|_: &[u8]| {
        vec![Step::Drip {
            bytes: b"HTTP/1.1 200 OK\r\nServer: slow\r\n\r\n".to_vec(),
            every: Duration::from_secs(1),
        }]
    })
    .await;
    let (run, _) = audit(&site, &[]).await;
    let report = run.report();
    let error = fact(&report, "http.https.error")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert!(error.contains("timeout"), "{name}: {error}");
    Line::new(
        name,
        &run,
        format!(
            "BASE-HTTPS-01 {}: {error}",
            finding(&report, "BASE-HTTPS-01").0
        ),
    )
}

async fn reset_mid_body() -> Line {
    let name = "RST in the middle of the body";
    let site = site(|_: &[u8]| {
        vec![
            Step::Write(response(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n",
                &[b'y'; 1000],
            )),
            Step::Sleep(Duration::from_millis(50)),
            Step::Reset,
        ]
    })
    .await;
    let (run, evidence) = audit(&site, &[]).await;
    let body = &secure(&evidence)["hops"][0]["body"];
    let read = body["bytes_read"].as_u64().unwrap_or_default();
    assert!(read <= 1000, "{name}: {body}");
    let report = run.report();
    Line::new(
        name,
        &run,
        format!(
            "the head is kept, {read} body bytes; BASE-HSTS-01 {}",
            finding(&report, "BASE-HSTS-01").0
        ),
    )
}

async fn short_body() -> Line {
    let name = "Content-Length larger than the body, then silence";
    let site = site(|_: &[u8]| {
        vec![Step::Write(response(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n",
            b"<html>",
        ))]
    })
    .await;
    let (run, evidence) = audit(&site, &[]).await;
    let body = &secure(&evidence)["hops"][0]["body"];
    assert!(
        body["bytes_read"].as_u64().unwrap_or(u64::MAX) <= 6,
        "{name}: {body}"
    );
    Line::new(
        name,
        &run,
        "the head is kept; the body read ends at the deadline".into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_http_servers() {
    type Case = std::pin::Pin<Box<dyn std::future::Future<Output = Line> + Send>>;
    let cases: Vec<Case> = vec![
        Box::pin(redirect_loop()),
        Box::pin(redirect_other_scheme()),
        Box::pin(redirect_metadata()),
        Box::pin(redirect_private()),
        Box::pin(body_100_mb()),
        Box::pin(header_1_mb()),
        Box::pin(headers_10000()),
        Box::pin(cookies_10000()),
        Box::pin(not_http()),
        Box::pin(escape_bytes()),
        Box::pin(escape_sequences()),
        Box::pin(invalid_utf8()),
        Box::pin(chunked_never_ends()),
        Box::pin(chunked_flood()),
        Box::pin(gzip_bomb()),
        Box::pin(slow_headers()),
        Box::pin(reset_mid_body()),
        Box::pin(short_body()),
    ];
    let lines = join_all(cases).await;
    summarise("http", &lines);
}
