//! DNS behaviours, from a raw responder on 127.0.0.1 (UDP, and TCP where the behaviour wants it):
//! SERVFAIL, silence, answers with the wrong id, CNAME loops and over-long CNAME chains (each
//! inconclusive, unlike a CNAME to a name without records), SPF include loops, a TXT record of
//! 10,000 strings, a thousand MX records, truncated answers with no TCP to retry on, and answers
//! for names that were not asked.

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::future::join_all;
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{CNAME, MX, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;

use super::responder::{ReadFirst, Responder, Step};
use super::{Line, audit_args, fact, finding, run, summarise, unobserved};

const DOMAIN: &str = "mail.hostile.test";

/// What the responder does with one query.
enum Answer {
    /// A response with these answer records, this rcode, and the TC bit as given.
    Records {
        records: Vec<Record>,
        rcode: ResponseCode,
        truncated: bool,
    },
    /// A correct-looking response under another transaction id.
    WrongId,
    /// No response at all.
    Silence,
}

type Handler = Arc<dyn Fn(&Name, RecordType) -> Answer + Send + Sync>;

/// A running raw DNS responder; dropping it stops it.
struct RawDns {
    addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for RawDns {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The response to `query`; over UDP (`tcp` false) an answer too large for 1232 bytes is
/// truncated when the server also has TCP (`tcp_too`), and sent whole — oversized — when not.
fn respond(query: &[u8], handler: &Handler, tcp: bool, tcp_too: bool) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    let question = request.queries.first()?.clone();
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.add_query(question.clone());
    match handler(question.name(), question.query_type()) {
        Answer::Silence => return None,
        Answer::WrongId => response.metadata.id = request.metadata.id.wrapping_add(1),
        Answer::Records {
            records,
            rcode,
            truncated,
        } => {
            response.metadata.response_code = rcode;
            response.metadata.truncation = truncated && !tcp;
            if !response.metadata.truncation {
                response.add_answers(records);
            }
        }
    }
    response.metadata.message_type = MessageType::Response;
    response.metadata.recursion_available = true;
    let bytes = response.to_vec().ok()?;
    if tcp_too && !tcp && bytes.len() > 1232 {
        // As a real server does when TCP is there to retry on: truncate.
        response.answers.clear();
        response.metadata.truncation = true;
        return response.to_vec().ok();
    }
    Some(bytes)
}

impl RawDns {
    /// Serves `handler` over UDP, and over TCP on the same port when `tcp`; without `tcp` the
    /// TCP port is still held (so no other server can answer there) and closes every connection.
    async fn start(handler: Handler, tcp: bool) -> Self {
        let (udp, listener) = bind_pair().await;
        let addr = udp.local_addr().expect("addr");
        let mut tasks = Vec::new();
        let udp_handler = Arc::clone(&handler);
        tasks.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok((n, peer)) = udp.recv_from(&mut buf).await {
                if let Some(reply) = respond(&buf[..n], &udp_handler, false, tcp) {
                    let _ = udp.send_to(&reply, peer).await;
                }
            }
        }));
        tasks.push(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                if !tcp {
                    drop(stream);
                    continue;
                }
                tokio::spawn(serve_tcp(stream, Arc::clone(&handler)));
            }
        }));
        Self { addr, tasks }
    }
}

/// A UDP socket and a TCP listener on the same loopback port.
async fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind TCP");
        let addr = listener.local_addr().expect("addr");
        if let Ok(udp) = UdpSocket::bind(addr).await {
            return (udp, listener);
        }
    }
    panic!("no loopback port free for both UDP and TCP");
}

/// Answers length-prefixed queries on one TCP connection.
async fn serve_tcp(mut stream: tokio::net::TcpStream, handler: Handler) {
    let mut len = [0u8; 2];
    while stream.read_exact(&mut len).await.is_ok() {
        let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut query).await.is_err() {
            return;
        }
        let Some(reply) = respond(&query, &handler, true, true) else {
            continue;
        };
        let Ok(size) = u16::try_from(reply.len()) else {
            return;
        };
        let framed = [&size.to_be_bytes()[..], &reply].concat();
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("name")
}

fn txt(owner: &Name, strings: Vec<String>) -> Record {
    Record::from_rdata(owner.clone(), 60, RData::TXT(TXT::new(strings)))
}

fn records(records: Vec<Record>) -> Answer {
    Answer::Records {
        records,
        rcode: ResponseCode::NoError,
        truncated: false,
    }
}

/// Answers every question with nothing (NOERROR, no data) except what `pick` returns.
fn zone(pick: impl Fn(&Name, RecordType) -> Option<Answer> + Send + Sync + 'static) -> Handler {
    Arc::new(move |owner: &Name, record_type| {
        pick(owner, record_type).unwrap_or_else(|| records(Vec::new()))
    })
}

/// Audits `DOMAIN` through `dns` (HTTP and HTTPS closed at once).
async fn audit(dns: &RawDns) -> super::Run {
    let closed = Responder::fixed(ReadFirst::Nothing, vec![Step::Close]).await;
    let resolver = dns.addr.to_string();
    run(audit_args(
        DOMAIN,
        closed.addr,
        closed.addr,
        &["--resolver", &resolver],
    ))
    .await
}

/// The SPF facts unobserved, with `needle` in the reason; BASE-MAIL-01 inconclusive.
fn assert_spf_unobserved(name: &'static str, run: &super::Run, needle: &str) -> Line {
    let report = run.report();
    let why = unobserved(&report, "mail.spf")
        .unwrap_or_else(|| panic!("{name}: mail.spf observed: {:?}", fact(&report, "mail.spf")));
    assert!(why.to_lowercase().contains(needle), "{name}: {why}");
    let (outcome, message) = finding(&report, "BASE-MAIL-01");
    assert_eq!(outcome, "inconclusive", "{name}: {message}");
    Line::new(
        name,
        run,
        format!("BASE-MAIL-01 inconclusive: mail.spf {why}"),
    )
}

async fn servfail() -> Line {
    let dns = RawDns::start(
        Arc::new(|_: &Name, _| Answer::Records {
            records: Vec::new(),
            rcode: ResponseCode::ServFail,
            truncated: false,
        }),
        true,
    )
    .await;
    let run = audit(&dns).await;
    assert_spf_unobserved("SERVFAIL to every query", &run, "server failure")
}

async fn silence() -> Line {
    let dns = RawDns::start(Arc::new(|_: &Name, _| Answer::Silence), false).await;
    let run = audit(&dns).await;
    assert_spf_unobserved("resolver that never answers", &run, "")
}

async fn wrong_id() -> Line {
    let dns = RawDns::start(Arc::new(|_: &Name, _| Answer::WrongId), false).await;
    let run = audit(&dns).await;
    assert_spf_unobserved("answers under the wrong transaction id", &run, "")
}

async fn truncated_without_tcp() -> Line {
    let dns = RawDns::start(
        Arc::new(|_: &Name, _| Answer::Records {
            records: Vec::new(),
            rcode: ResponseCode::NoError,
            truncated: true,
        }),
        false,
    )
    .await;
    let run = audit(&dns).await;
    assert_spf_unobserved("truncated answers, no TCP", &run, "")
}

fn cname(owner: &Name, target: &str) -> Answer {
    records(vec![Record::from_rdata(
        owner.clone(),
        60,
        RData::CNAME(CNAME(name(target))),
    )])
}

/// Every name of the zone aliased by `alias` (`None`: no alias, no records); the SPF facts and
/// those at `paths` unobserved with `needle` in the reason, and BASE-MAIL-01 inconclusive.
async fn broken_aliases(
    name_: &'static str,
    alias: impl Fn(&Name) -> Option<String> + Send + Sync + 'static,
    paths: &[&str],
    needle: &str,
) -> Line {
    let dns = RawDns::start(
        zone(move |owner, _| alias(owner).map(|target| cname(owner, &target))),
        true,
    )
    .await;
    let run = audit(&dns).await;
    let report = run.report();
    for path in paths {
        let why = unobserved(&report, path).unwrap_or_default();
        assert!(why.contains(needle), "{name_}: {path}: {why:?}");
    }
    assert_spf_unobserved(name_, &run, &needle.to_lowercase())
}

async fn cname_loop() -> Line {
    broken_aliases(
        "CNAME loop",
        |owner| {
            let a = "loop-a.hostile.test.";
            Some(
                if owner.to_ascii() == a {
                    "loop-b.hostile.test."
                } else {
                    a
                }
                .to_string(),
            )
        },
        &["mail.dmarc", "mail.mx"],
        "CNAME loop at loop-a.hostile.test",
    )
    .await
}

async fn cname_to_itself() -> Line {
    // The domain only: hickory asks eight times (nothing cached between) before it gives up on
    // a name aliased to itself; a dozen names doing so at once would load the responder past
    // the audit's deadline on a busy machine.
    broken_aliases(
        "CNAME to itself",
        |owner| {
            let ascii = owner.to_ascii();
            (ascii == format!("{DOMAIN}.")).then_some(ascii)
        },
        &["mail.mx"],
        "CNAME loop at mail.hostile.test",
    )
    .await
}

async fn cname_chain_too_long() -> Line {
    // mail.hostile.test → hop1 → hop2 → … → hop20, which has no records: no loop, but longer
    // than any resolver follows.
    broken_aliases(
        "CNAME chain of 20 aliases",
        |owner| {
            let ascii = owner.to_ascii();
            let hop = ascii
                .strip_prefix("hop")
                .and_then(|rest| rest.split('.').next())
                .and_then(|n| n.parse::<u32>().ok());
            match hop {
                Some(n) if n >= 20 => None,
                Some(n) => Some(format!("hop{}.hostile.test.", n + 1)),
                None => Some("hop1.hostile.test.".to_string()),
            }
        },
        &["mail.dmarc", "mail.mx"],
        "longer than 7 aliases",
    )
    .await
}

/// An alias to a name without records is an absent record, judged; an alias to a name with an
/// SPF record is that record.
async fn cname_chains_that_end() -> Line {
    let name_ = "CNAME chains that end (no data; an SPF record)";
    let dangling = RawDns::start(
        zone(|owner, _| {
            (owner.to_ascii() == format!("{DOMAIN}.")).then(|| cname(owner, "alias.hostile.test."))
        }),
        true,
    )
    .await;
    let to_spf = RawDns::start(
        zone(|owner, record_type| match owner.to_ascii().as_str() {
            "mail.hostile.test." => Some(cname(owner, "alias.hostile.test.")),
            "alias.hostile.test." if record_type == RecordType::TXT => {
                Some(records(vec![txt(owner, vec!["v=spf1 -all".into()])]))
            }
            _ => None,
        }),
        true,
    )
    .await;
    let (dangling_run, to_spf_run) = tokio::join!(audit(&dangling), audit(&to_spf));
    let spf_present = |run: &super::Run, present: bool| {
        let report = run.report();
        assert_eq!(
            fact(&report, "mail.spf.present"),
            Some(&Value::Bool(present)),
            "{name_}: {:?}",
            unobserved(&report, "mail.spf")
        );
        report
    };
    let (outcome, message) = finding(&spf_present(&dangling_run, false), "BASE-MAIL-01");
    assert_eq!(outcome, "fail", "{name_}: {message}");
    spf_present(&to_spf_run, true);
    Line::new(
        name_,
        &dangling_run,
        format!("no data: BASE-MAIL-01 fail ({message}); to a record: mail.spf.present true"),
    )
}

async fn other_names() -> Line {
    let name_ = "answers for names never asked";
    let dns = RawDns::start(
        zone(|_, record_type| {
            (record_type == RecordType::TXT).then(|| {
                records(vec![
                    txt(&name("evil.other.test."), vec!["v=spf1 +all".into()]),
                    txt(
                        &name("_dmarc.evil.other.test."),
                        vec!["v=DMARC1; p=none".into()],
                    ),
                ])
            })
        }),
        true,
    )
    .await;
    let run = audit(&dns).await;
    let report = run.report();
    // The stray records are not taken as the domain's: no SPF record at all.
    assert_eq!(
        fact(&report, "mail.spf.present"),
        Some(&Value::Bool(false)),
        "{name_}"
    );
    let (outcome, _) = finding(&report, "BASE-MAIL-01");
    assert_eq!(outcome, "fail", "{name_}");
    Line::new(
        name_,
        &run,
        "ignored (mail.spf.present false); BASE-MAIL-01 fail: no SPF record".into(),
    )
}

async fn include_loop() -> Line {
    let name_ = "SPF include loop";
    let dns = RawDns::start(
        zone(|owner, record_type| {
            (record_type == RecordType::TXT && owner.to_ascii() == format!("{DOMAIN}.")).then(
                || {
                    records(vec![txt(
                        owner,
                        vec![format!("v=spf1 include:{DOMAIN} -all")],
                    )])
                },
            )
        }),
        true,
    )
    .await;
    let run = audit(&dns).await;
    let report = run.report();
    assert_eq!(
        fact(&report, "mail.spf.loop"),
        Some(&Value::Bool(true)),
        "{name_}"
    );
    let (outcome, message) = finding(&report, "BASE-MAIL-03");
    assert_eq!(outcome, "fail", "{name_}: {message}");
    Line::new(name_, &run, format!("BASE-MAIL-03 fail: {message}"))
}

async fn txt_10000_strings() -> Line {
    let name_ = "TXT record of 10,000 strings";
    let dns = RawDns::start(
        zone(|owner, record_type| {
            (record_type == RecordType::TXT && owner.to_ascii() == format!("{DOMAIN}.")).then(
                || {
                    let mut strings = vec!["v=spf1 ".to_string()];
                    strings.extend((1..10_000).map(|_| "a".to_string()));
                    records(vec![txt(owner, strings)])
                },
            )
        }),
        true,
    )
    .await;
    let run = audit(&dns).await;
    let report = run.report();
    let spf = fact(&report, "mail.spf").cloned().unwrap_or(Value::Null);
    let unobserved_spf = unobserved(&report, "mail.spf").map(str::to_string);
    let (outcome, message) = finding(&report, "BASE-MAIL-01");
    assert!(
        outcome == "fail" || outcome == "inconclusive",
        "{name_}: {outcome} {message} {spf} {unobserved_spf:?}"
    );
    Line::new(name_, &run, format!("BASE-MAIL-01 {outcome}: {message}"))
}

fn thousand_mx(owner: &Name, record_type: RecordType) -> Option<Answer> {
    (record_type == RecordType::MX && owner.to_ascii() == format!("{DOMAIN}.")).then(|| {
        records(
            (0..1000)
                .map(|i| {
                    Record::from_rdata(
                        owner.clone(),
                        60,
                        RData::MX(MX::new(10, name(&format!("mx{i}.hostile.test.")))),
                    )
                })
                .collect(),
        )
    })
}

async fn oversized_udp() -> Line {
    let name_ = "20 KB UDP answer without the TC bit";
    let dns = RawDns::start(zone(thousand_mx), false).await;
    let run = audit(&dns).await;
    let report = run.report();
    let why = unobserved(&report, "mail.mx")
        .unwrap_or_default()
        .to_string();
    assert!(why.contains("failed"), "{name_}: {why}");
    Line::new(name_, &run, format!("mail.mx unobserved: {why}"))
}

async fn mx_1000() -> Line {
    let name_ = "1,000 MX records (truncated over UDP, whole over TCP)";
    let dns = RawDns::start(
        zone(|owner, record_type| {
            (record_type == RecordType::MX && owner.to_ascii() == format!("{DOMAIN}.")).then(|| {
                records(
                    (0..1000)
                        .map(|i| {
                            Record::from_rdata(
                                owner.clone(),
                                60,
                                RData::MX(MX::new(10, name(&format!("mx{i}.hostile.test.")))),
                            )
                        })
                        .collect(),
                )
            })
        }),
        true,
    )
    .await;
    let run = audit(&dns).await;
    let report = run.report();
    let count = fact(&report, "mail.mx")
        .and_then(Value::as_array)
        .map(Vec::len);
    assert!(
        count.is_some_and(|n| n <= 64),
        "{name_}: {count:?} {:?} {:?}",
        unobserved(&report, "mail.mx"),
        report["facts"]["mail"]
    );
    Line::new(
        name_,
        &run,
        format!("{} MX hosts kept (cap 64)", count.unwrap_or_default()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_dns_servers() {
    type Case = std::pin::Pin<Box<dyn std::future::Future<Output = Line> + Send>>;
    let cases: Vec<Case> = vec![
        Box::pin(servfail()),
        Box::pin(silence()),
        Box::pin(wrong_id()),
        Box::pin(truncated_without_tcp()),
        Box::pin(cname_loop()),
        Box::pin(cname_to_itself()),
        Box::pin(cname_chain_too_long()),
        Box::pin(cname_chains_that_end()),
        Box::pin(other_names()),
        Box::pin(include_loop()),
        Box::pin(txt_10000_strings()),
        Box::pin(oversized_udp()),
        Box::pin(mx_1000()),
    ];
    let lines = join_all(cases).await;
    summarise("dns", &lines);
}
