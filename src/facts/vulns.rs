//! `tls.vulnerabilities.*`: one verdict per named TLS vulnerability — `vulnerable`,
//! `not_vulnerable` or `inconclusive` — with the reason and the facts or probe observations that
//! made it.
//!
//! Heartbleed, CCS injection, ROBOT, Ticketbleed and client-initiated renegotiation are judged
//! from the active probes' records
//! (`evidence::vuln`); the others are derived from facts the scan already has (protocols,
//! suites, DHE size, compression, renegotiation). A verdict is never guessed: when what it needs
//! was not observed it is `inconclusive`, its `vulnerable` field is absent and the reason is kept
//! in `unobserved`, so a rule that requires `vulnerable: false` is inconclusive, not failed.
//! ROBOT is `vulnerable` only when every round shows the same difference between the padding
//! variants; replies that change between rounds are noise and give `inconclusive`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ciphers::SuiteFacts;
use super::tls::TlsFacts;
use crate::evidence::tls::{TlsEvidence, TlsReply};
use crate::evidence::vuln::{
    ActiveProbe, ROBOT_VARIANTS, RecordReply, RenegotiationProbe, RobotProbe, TicketbleedProbe,
};

/// A verdict's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VulnStatus {
    /// The server is affected.
    Vulnerable,
    /// The server is not affected.
    NotVulnerable,
    /// What the verdict needs was not observed, or the observations disagree.
    Inconclusive,
}

/// One vulnerability's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Verdict {
    /// `vulnerable`, `not_vulnerable` or `inconclusive`.
    pub status: VulnStatus,
    /// Whether the server is affected; absent when `inconclusive` (the reason is then in
    /// `unobserved`), so rules requiring `vulnerable: false` stay inconclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerable: Option<bool>,
    /// `probe` (an active probe decided) or `derived` (other facts decided).
    pub method: String,
    /// Why, in one sentence.
    pub reason: String,
    /// The facts or probe observations the verdict rests on.
    pub evidence: Vec<String>,
}

impl Verdict {
    fn new(status: VulnStatus, method: &str, reason: impl Into<String>) -> Self {
        Self {
            status,
            vulnerable: match status {
                VulnStatus::Vulnerable => Some(true),
                VulnStatus::NotVulnerable => Some(false),
                VulnStatus::Inconclusive => None,
            },
            method: method.to_string(),
            reason: reason.into(),
            evidence: Vec::new(),
        }
    }

    fn with(mut self, evidence: impl IntoIterator<Item = String>) -> Self {
        self.evidence.extend(evidence);
        self
    }
}

fn derived(status: VulnStatus, reason: impl Into<String>) -> Verdict {
    Verdict::new(status, "derived", reason)
}

fn probed(status: VulnStatus, reason: impl Into<String>) -> Verdict {
    Verdict::new(status, "probe", reason)
}

use VulnStatus::{Inconclusive, NotVulnerable, Vulnerable};

/// BREACH from the compression request: a compressed page that sets a cookie is potentially
/// vulnerable (length-hiding or per-request secret masking cannot be seen from outside); an
/// uncompressed page, or one with no secret observed, is not.
pub fn breach(compression: Option<&super::compression::CompressionFacts>) -> Verdict {
    let Some(facts) = compression else {
        return derived(
            Inconclusive,
            "the page was not requested with compression offered",
        );
    };
    let evidence = [
        format!("http.compression.compressed = {}", facts.compressed),
        format!("http.compression.sets_cookie = {}", facts.sets_cookie),
    ];
    let verdict = match (facts.compressed, facts.sets_cookie) {
        (true, true) => derived(
            Vulnerable,
            format!(
                "the page is served {}-compressed and sets a cookie: a BREACH precondition (masking of secrets per response cannot be seen from outside)",
                facts.content_encoding.as_deref().unwrap_or("?")
            ),
        ),
        (true, false) => derived(
            NotVulnerable,
            "the page is compressed but sets no cookie: no secret observed for BREACH to extract",
        ),
        (false, _) => derived(NotVulnerable, "the page is not served compressed"),
    };
    verdict.with(evidence)
}

/// The verdicts of one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VulnerabilityFacts {
    /// Heartbleed (CVE-2014-0160), active probe: a heartbeat request claiming more payload than
    /// it carries gets a heartbeat response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbleed: Option<Verdict>,
    /// CCS injection (CVE-2014-0224), active probe: an early ChangeCipherSpec is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ccs_injection: Option<Verdict>,
    /// ROBOT, active probe: the server's answers to ClientKeyExchange blocks with different
    /// PKCS#1 v1.5 paddings differ, consistently (a Bleichenbacher oracle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robot: Option<Verdict>,
    /// Ticketbleed (CVE-2016-9244), active probe: a resumption with a session ticket and a short
    /// session id gets back a 32-byte session id that starts with ours and goes on with bytes
    /// we never sent (server memory). `not_vulnerable` with "no session tickets" when the server
    /// issues none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticketbleed: Option<Verdict>,
    /// Insecure renegotiation (CVE-2009-3555): RFC 5746 renegotiation_info is not supported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_renegotiation: Option<Verdict>,
    /// Client-initiated renegotiation, active probe: `vulnerable` when the server answers a
    /// ClientHello sent inside an established TLS 1.2 session with a ServerHello. Each
    /// renegotiation makes the server do a full handshake's work at the client's command (a
    /// denial-of-service lever); `not_vulnerable` when it refuses (no_renegotiation, a fatal
    /// alert, a close) or ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_renegotiation: Option<Verdict>,
    /// CRIME: TLS compression is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crime: Option<Verdict>,
    /// POODLE (SSLv3): SSLv3 with a CBC suite is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poodle: Option<Verdict>,
    /// SWEET32: a 64-bit block cipher (3DES, DES, IDEA, RC2) is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweet32: Option<Verdict>,
    /// FREAK: an RSA EXPORT suite is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freak: Option<Verdict>,
    /// Logjam: a DHE EXPORT suite, or DHE with a prime under 2048 bits; a well-known prime
    /// (RFC 2409, RFC 3526, RFC 5114, RFC 7919, server built-ins) is named in the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logjam: Option<Verdict>,
    /// DROWN: SSLv2 is accepted on this endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drown: Option<Verdict>,
    /// BEAST: TLS 1.0 (or SSLv3) with a CBC suite is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beast: Option<Verdict>,
    /// LUCKY13: a CBC suite is accepted (potentially; constant-time implementations are not
    /// exploitable, which no outside test can tell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lucky13: Option<Verdict>,
    /// RC4: an RC4 suite is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rc4: Option<Verdict>,
    /// BREACH: HTTP compression of a page that carries a secret (derived from the HTTP facts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breach: Option<Verdict>,
}

/// The verdicts that rest on an active probe (the others are derived from the scan).
pub const ACTIVE_PROBES: [&str; 5] = [
    "heartbleed",
    "ccs_injection",
    "robot",
    "ticketbleed",
    "client_renegotiation",
];

impl VulnerabilityFacts {
    /// Every verdict with its name, in field order.
    pub fn named(&self) -> [(&'static str, Option<&Verdict>); 16] {
        [
            ("heartbleed", self.heartbleed.as_ref()),
            ("ccs_injection", self.ccs_injection.as_ref()),
            ("robot", self.robot.as_ref()),
            ("ticketbleed", self.ticketbleed.as_ref()),
            (
                "insecure_renegotiation",
                self.insecure_renegotiation.as_ref(),
            ),
            ("client_renegotiation", self.client_renegotiation.as_ref()),
            ("crime", self.crime.as_ref()),
            ("poodle", self.poodle.as_ref()),
            ("sweet32", self.sweet32.as_ref()),
            ("freak", self.freak.as_ref()),
            ("logjam", self.logjam.as_ref()),
            ("drown", self.drown.as_ref()),
            ("beast", self.beast.as_ref()),
            ("lucky13", self.lucky13.as_ref()),
            ("rc4", self.rc4.as_ref()),
            ("breach", self.breach.as_ref()),
        ]
    }

    /// Derives every verdict from the TLS facts and the probes' records. Pure.
    pub fn derive(facts: &TlsFacts, evidence: &TlsEvidence) -> Self {
        let probes = &evidence.vulnerabilities;
        Self {
            heartbleed: Some(heartbleed(facts, probes.heartbleed.as_ref())),
            ccs_injection: Some(ccs_injection(facts, probes.ccs_injection.as_ref())),
            robot: Some(robot(facts, probes.robot.as_ref())),
            ticketbleed: Some(ticketbleed(facts, probes.ticketbleed.as_ref())),
            insecure_renegotiation: Some(insecure_renegotiation(facts)),
            client_renegotiation: Some(client_renegotiation(
                facts,
                probes.client_renegotiation.as_ref(),
            )),
            crime: Some(crime(facts)),
            poodle: Some(poodle(facts)),
            sweet32: Some(suite_verdict(
                facts,
                |s| s.triple_des || s.des || matches!(s.encryption.as_str(), "idea" | "rc2"),
                "a 64-bit block cipher is accepted: long connections leak plaintext by birthday collisions (CVE-2016-2183)",
                "no 64-bit block cipher (3DES, DES, IDEA, RC2) is accepted",
            )),
            freak: Some(suite_verdict(
                facts,
                |s| s.export && s.key_exchange == "rsa" && s.protocol != "ssl2",
                "an RSA EXPORT suite is accepted: a man in the middle can force 512-bit RSA (CVE-2015-0204)",
                "no RSA EXPORT suite is accepted",
            )),
            logjam: Some(logjam(facts, evidence)),
            drown: Some(drown(facts)),
            beast: Some(beast(facts)),
            lucky13: Some(suite_verdict(
                facts,
                |s| s.cbc && s.protocol != "ssl2",
                "CBC suites are accepted: potentially LUCKY13 (CVE-2013-0169) unless the MAC check is constant-time, which no outside test can tell",
                "no CBC suite is accepted",
            )),
            rc4: Some(suite_verdict(
                facts,
                |s| s.rc4,
                "RC4 is accepted: its keystream biases leak plaintext (RFC 7465)",
                "no RC4 suite is accepted",
            )),
            // Needs the HTTP facts: the fact tree fills it in (`breach`).
            breach: None,
        }
    }
}

fn fact<T: std::fmt::Debug>(path: &str, value: &Option<T>) -> String {
    match value {
        Some(v) => format!("{path} = {v:?}").replace('"', ""),
        None => format!("{path} not observed"),
    }
}

fn suite_line(suite: &SuiteFacts) -> String {
    format!("{} accepted with {}", suite.name, suite.protocol)
}

/// A verdict on the accepted suites: vulnerable when any matches.
fn suite_verdict(
    facts: &TlsFacts,
    matches: impl Fn(&SuiteFacts) -> bool,
    vulnerable: &str,
    fine: &str,
) -> Verdict {
    let Some(suites) = &facts.accepted_suites else {
        return derived(
            Inconclusive,
            "the accepted cipher suites are not all known (tls.accepted_suites not observed)",
        );
    };
    let hits: Vec<String> = suites
        .iter()
        .filter(|s| matches(s))
        .map(suite_line)
        .collect();
    if hits.is_empty() {
        derived(NotVulnerable, fine).with([format!(
            "tls.accepted_suites: {} suite(s), none affected",
            suites.len()
        )])
    } else {
        derived(Vulnerable, vulnerable).with(hits)
    }
}

fn describe_reply(reply: &RecordReply) -> String {
    match reply {
        RecordReply::Alert { name, level, .. } => {
            format!(
                "alert {name} ({})",
                if *level == 1 { "warning" } else { "fatal" }
            )
        }
        RecordReply::Heartbeat { length } => format!("a {length}-byte heartbeat response"),
        RecordReply::Record {
            content_type,
            length,
        } => format!("a {length}-byte record of type {content_type}"),
        RecordReply::Closed => "connection closed".to_string(),
        RecordReply::Reset => "connection reset".to_string(),
        RecordReply::Timeout => "no answer in time".to_string(),
        RecordReply::Malformed { reason } => format!("malformed: {reason}"),
        RecordReply::NotSent { reason } => format!("not sent: {reason}"),
    }
}

fn describe_hello(reply: &TlsReply) -> String {
    match reply {
        TlsReply::ServerHello(info) => format!(
            "ServerHello 0x{:04x}, suite 0x{:04x}",
            info.negotiated(),
            info.suite
        ),
        TlsReply::Alert { name, .. } => format!("alert {name}"),
        TlsReply::ConnectFailed { error } => error.to_string(),
        TlsReply::Malformed { reason } => format!("malformed: {reason}"),
        TlsReply::NotTls { first_bytes } => format!("not TLS: {first_bytes}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Whether every version the probe could use (`from` … TLS 1.2) is known to be refused.
fn legacy_refused(facts: &TlsFacts, include_ssl3: bool) -> bool {
    let p = &facts.protocols;
    let mut versions = vec![p.tls1_0, p.tls1_1, p.tls1_2];
    if include_ssl3 {
        versions.push(p.ssl3);
    }
    versions.iter().all(|v| *v == Some(false))
}

fn probe_lines(name: &str, probe: &ActiveProbe) -> Vec<String> {
    let mut lines = vec![format!(
        "{name} probe: {} hello got {}",
        probe.protocol.name(),
        describe_hello(&probe.server_hello)
    )];
    if let Some(sent) = &probe.sent {
        lines.push(format!("sent {sent}"));
    }
    if let Some(reply) = &probe.reply {
        lines.push(format!("reply: {}", describe_reply(reply)));
    }
    lines
}

fn heartbleed(facts: &TlsFacts, probe: Option<&ActiveProbe>) -> Verdict {
    let Some(probe) = probe else {
        return without_probe(
            facts,
            false,
            "TLS 1.0–1.2 are refused; TLS 1.3 has no heartbeat extension",
            "the Heartbleed probe did not run",
        );
    };
    let lines = probe_lines("heartbleed", probe);
    let verdict = match (&probe.server_hello, &probe.reply) {
        (TlsReply::ServerHello(info), None) if !info.has_extension(15) => probed(
            NotVulnerable,
            "the server does not acknowledge the heartbeat extension, so it takes no heartbeat requests",
        ),
        (_, None) => probed(
            Inconclusive,
            format!(
                "the hello offering heartbeat got {}",
                describe_hello(&probe.server_hello)
            ),
        ),
        (_, Some(RecordReply::Heartbeat { length })) if *length > 3 => probed(
            Vulnerable,
            format!(
                "a request carrying no payload got {length} bytes back: the server sends memory it should not (CVE-2014-0160)"
            ),
        ),
        (
            _,
            Some(
                RecordReply::Alert { .. }
                | RecordReply::Closed
                | RecordReply::Reset
                | RecordReply::Timeout,
            ),
        ) => probed(
            NotVulnerable,
            "the over-long heartbeat request got no heartbeat response (RFC 6520: discarded)",
        ),
        (_, Some(reply)) => probed(
            Inconclusive,
            format!("the heartbeat request got {}", describe_reply(reply)),
        ),
    };
    verdict.with(lines)
}

fn ccs_injection(facts: &TlsFacts, probe: Option<&ActiveProbe>) -> Verdict {
    let Some(probe) = probe else {
        return without_probe(
            facts,
            true,
            "SSLv3 and TLS 1.0–1.2 are refused; TLS 1.3 ignores ChangeCipherSpec",
            "the CCS-injection probe did not run",
        );
    };
    let lines = probe_lines("ccs_injection", probe);
    let verdict = match &probe.reply {
        None => probed(
            Inconclusive,
            format!("the hello got {}", describe_hello(&probe.server_hello)),
        ),
        Some(RecordReply::Alert {
            description: 20 | 21,
            name,
            ..
        }) => probed(
            Vulnerable,
            format!(
                "the early ChangeCipherSpec was accepted: the next record failed decryption ({name}) (CVE-2014-0224)"
            ),
        ),
        Some(RecordReply::Alert { name, .. }) => probed(
            NotVulnerable,
            format!("the early ChangeCipherSpec was refused ({name})"),
        ),
        Some(RecordReply::Closed | RecordReply::Reset) => probed(
            NotVulnerable,
            "the server closed the connection at the early ChangeCipherSpec",
        ),
        Some(reply) => probed(
            Inconclusive,
            format!("the early ChangeCipherSpec got {}", describe_reply(reply)),
        ),
    };
    verdict.with(lines)
}

fn robot(facts: &TlsFacts, probe: Option<&RobotProbe>) -> Verdict {
    let Some(probe) = probe else {
        let rsa = facts.accepted_suites.as_ref().map(|suites| {
            suites
                .iter()
                .any(|s| s.key_exchange == "rsa" && !s.export && s.protocol != "ssl2")
        });
        return match rsa {
            Some(false) => probed(
                NotVulnerable,
                "no RSA key-exchange suite is accepted, so there is no RSA decryption to query",
            )
            .with(["tls.accepted_suites: no static RSA key exchange".to_string()]),
            _ => probed(Inconclusive, "the ROBOT test did not run"),
        };
    };
    let mut lines = vec![format!(
        "robot probe: {} hello offering {} RSA suite(s) got {}",
        probe.protocol.name(),
        probe.offered_suites.len(),
        describe_hello(&probe.server_hello)
    )];
    if let Some(bits) = probe.modulus_bits {
        lines.push(format!("RSA modulus of {bits} bits"));
    }
    for (index, round) in probe.rounds.iter().enumerate() {
        let replies: Vec<String> = ROBOT_VARIANTS
            .iter()
            .zip(round)
            .map(|(variant, reply)| format!("{variant}: {}", describe_reply(reply)))
            .collect();
        lines.push(format!("round {}: {}", index + 1, replies.join("; ")));
    }
    if let Some(reason) = &probe.skipped {
        return probed(Inconclusive, reason.clone()).with(lines);
    }
    let failed = probe.rounds.iter().flatten().find(|r| {
        matches!(
            r,
            RecordReply::NotSent { .. } | RecordReply::Malformed { .. }
        )
    });
    let verdict = match (probe.rounds.as_slice(), failed) {
        (_, Some(reply)) => probed(
            Inconclusive,
            format!("a ROBOT connection failed: {}", describe_reply(reply)),
        ),
        ([], None) => probed(Inconclusive, "no ClientKeyExchange was sent"),
        ([first], None) if first.len() == ROBOT_VARIANTS.len() && uniform(first) => probed(
            NotVulnerable,
            format!(
                "all five padding variants got the same answer ({})",
                describe_reply(&first[0])
            ),
        ),
        ([_], None) => probed(
            Inconclusive,
            "the answers differ but the test was not repeated",
        ),
        ([first, rest @ ..], None)
            if first.len() == ROBOT_VARIANTS.len() && rest.iter().all(|r| r == first) =>
        {
            // robot-detect's terms: weak when the three malformed blocks answer alike.
            let strength = if first[1] == first[2] && first[2] == first[3] {
                "weak"
            } else {
                "strong"
            };
            probed(
                Vulnerable,
                format!(
                    "the answers to the padding variants differ the same way in all {} rounds: a {strength} Bleichenbacher oracle (ROBOT)",
                    probe.rounds.len()
                ),
            )
        }
        (_, None) => probed(
            Inconclusive,
            "the answers to the padding variants change between rounds: noise, not a reproducible oracle",
        ),
    };
    verdict.with(lines)
}

/// Why a server that speaks only TLS 1.3 is safe from the TLS 1.2 session flaws (Ticketbleed,
/// client-initiated renegotiation).
const NO_TLS1_2: &str =
    "TLS 1.0–1.2 are refused; TLS 1.3 has neither renegotiation nor these session ids";

/// The verdict of an active probe that did not run: not vulnerable for `refused` when the
/// server speaks none of the versions the flaw needs (SSLv3 too with `include_ssl3`), else
/// inconclusive for `not_run`.
fn without_probe(facts: &TlsFacts, include_ssl3: bool, refused: &str, not_run: &str) -> Verdict {
    if legacy_refused(facts, include_ssl3) {
        tls1_3_only(facts, refused)
    } else {
        probed(Inconclusive, not_run)
    }
}

/// Not vulnerable because only TLS 1.3 is spoken, for `reason`, with the facts that show it.
fn tls1_3_only(facts: &TlsFacts, reason: &str) -> Verdict {
    probed(NotVulnerable, reason).with([
        fact("tls.protocols.tls1_0", &facts.protocols.tls1_0),
        fact("tls.protocols.tls1_1", &facts.protocols.tls1_1),
        fact("tls.protocols.tls1_2", &facts.protocols.tls1_2),
    ])
}

fn ticketbleed(facts: &TlsFacts, probe: Option<&TicketbleedProbe>) -> Verdict {
    let Some(probe) = probe else {
        return without_probe(
            facts,
            false,
            NO_TLS1_2,
            "the Ticketbleed test did not run (it needs TLS 1.2)",
        );
    };
    let mut lines = vec![format!(
        "ticketbleed probe: TLS 1.2 hello asking for a ticket got {}",
        describe_hello(&probe.server_hello)
    )];
    lines.extend(
        probe
            .ticket_length
            .map(|n| format!("NewSessionTicket with a {n}-byte ticket")),
    );
    if let (Some(sent), Some(echo)) = (probe.session_id_sent, &probe.echo) {
        lines.push(format!(
            "resumption with a {sent}-byte session id got a {}-byte session id {} ours",
            echo.length,
            if echo.starts_with_sent {
                "starting with"
            } else {
                "not starting with"
            }
        ));
    }
    if let Some(reply) = &probe.reply {
        lines.push(format!("resumption: {}", describe_reply(reply)));
    }
    let verdict = match (&probe.server_hello, probe.ticket_length, &probe.echo) {
        (TlsReply::ServerHello(info), _, _) if !info.has_extension(35) => probed(
            NotVulnerable,
            "no session tickets: the server does not acknowledge the session_ticket extension",
        ),
        (_, Some(0), _) => probed(
            NotVulnerable,
            "no session tickets: the server acknowledged the extension but issued none",
        ),
        (_, _, Some(echo)) => {
            let sent = probe.session_id_sent.unwrap_or(32);
            if echo.starts_with_sent && echo.length == 32 && sent < 32 {
                probed(
                    Vulnerable,
                    format!(
                        "the server echoed our {sent}-byte session id padded to 32 bytes with bytes we never sent: it leaks memory (Ticketbleed, CVE-2016-9244)"
                    ),
                )
            } else if echo.starts_with_sent && echo.length == sent {
                probed(
                    NotVulnerable,
                    "the ticket was accepted and our session id echoed exactly",
                )
            } else if !echo.starts_with_sent {
                probed(
                    NotVulnerable,
                    "the server answered the ticket with a session id of its own (a full handshake): nothing of ours echoed",
                )
            } else {
                probed(
                    Inconclusive,
                    format!(
                        "the echoed session id starts with ours but is {} bytes long, neither ours nor 32",
                        echo.length
                    ),
                )
            }
        }
        _ => probed(
            Inconclusive,
            probe
                .skipped
                .clone()
                .or_else(|| {
                    probe
                        .reply
                        .as_ref()
                        .map(|r| format!("the resumption got {}", describe_reply(r)))
                })
                .unwrap_or_else(|| "the resumption was not observed".to_string()),
        ),
    };
    verdict.with(lines)
}

fn client_renegotiation(facts: &TlsFacts, probe: Option<&RenegotiationProbe>) -> Verdict {
    let Some(probe) = probe else {
        return without_probe(
            facts,
            false,
            NO_TLS1_2,
            "the client-initiated renegotiation test did not run (it needs TLS 1.2)",
        );
    };
    let mut lines = vec![format!(
        "client_renegotiation probe: TLS 1.2 hello got {}",
        describe_hello(&probe.server_hello)
    )];
    if let Some(reply) = &probe.reply {
        lines.push(format!(
            "encrypted ClientHello after the handshake got {}{}",
            describe_reply(reply),
            probe
                .handshake_type
                .map(|t| format!(" (handshake message {t})"))
                .unwrap_or_default()
        ));
    }
    if let Some(reason) = &probe.skipped {
        return probed(Inconclusive, reason.clone()).with(lines);
    }
    let verdict = match (&probe.reply, probe.handshake_type) {
        (
            Some(RecordReply::Record {
                content_type: 22, ..
            }),
            Some(2),
        ) => probed(
            Vulnerable,
            "the server accepts client-initiated renegotiation: it answered a ClientHello inside the session with a ServerHello, so a client can make it repeat full handshakes (denial of service)",
        ),
        (
            Some(RecordReply::Alert {
                description: 100, ..
            }),
            _,
        ) => probed(
            NotVulnerable,
            "the server refuses client-initiated renegotiation (no_renegotiation alert)",
        ),
        (Some(RecordReply::Alert { name, .. }), _) => probed(
            NotVulnerable,
            format!("the server refuses client-initiated renegotiation (alert {name})"),
        ),
        (Some(RecordReply::Closed | RecordReply::Reset), _) => probed(
            NotVulnerable,
            "the server closed the connection at the renegotiation ClientHello",
        ),
        (Some(RecordReply::Timeout), _) => probed(
            NotVulnerable,
            "the server ignored the renegotiation ClientHello (no answer in time)",
        ),
        (Some(reply), _) => probed(
            Inconclusive,
            format!(
                "the renegotiation ClientHello got {}",
                describe_reply(reply)
            ),
        ),
        (None, _) => probed(Inconclusive, "no renegotiation ClientHello was sent"),
    };
    verdict.with(lines)
}

fn uniform(replies: &[RecordReply]) -> bool {
    replies.windows(2).all(|pair| pair[0] == pair[1])
}

/// A verdict decided by one boolean fact at `path`: `affected_when` is the value that means
/// vulnerable; the reasons say why for each outcome, and unobserved is inconclusive.
fn by_flag(
    path: &str,
    value: Option<bool>,
    affected_when: bool,
    [vulnerable, fine, unknown]: [&str; 3],
) -> Verdict {
    match value {
        Some(v) if v == affected_when => derived(Vulnerable, vulnerable),
        Some(_) => derived(NotVulnerable, fine),
        None => derived(Inconclusive, unknown),
    }
    .with([fact(path, &value)])
}

fn insecure_renegotiation(facts: &TlsFacts) -> Verdict {
    by_flag(
        "tls.protections.secure_renegotiation",
        facts.protections.secure_renegotiation,
        false,
        [
            "RFC 5746 renegotiation_info is not supported: a renegotiation cannot be told from a prefix injection (CVE-2009-3555)",
            "RFC 5746 secure renegotiation is supported (or only TLS 1.3 is served)",
            "secure renegotiation was not observed",
        ],
    )
}

fn crime(facts: &TlsFacts) -> Verdict {
    by_flag(
        "tls.protections.compression",
        facts.protections.compression,
        true,
        [
            "TLS compression (DEFLATE) is accepted: compressed lengths leak secrets (CRIME)",
            "TLS compression is refused",
            "TLS compression was not observed",
        ],
    )
}

fn poodle(facts: &TlsFacts) -> Verdict {
    let line = fact("tls.protocols.ssl3", &facts.protocols.ssl3);
    match (facts.protocols.ssl3, &facts.suites.ssl3) {
        (Some(false), _) => derived(NotVulnerable, "SSLv3 is refused").with([line]),
        (Some(true), Some(suites)) => {
            let cbc: Vec<String> = suites.iter().filter(|s| s.cbc).map(suite_line).collect();
            if cbc.is_empty() {
                derived(NotVulnerable, "SSLv3 is accepted, but with no CBC suite").with([line])
            } else {
                derived(
                    Vulnerable,
                    "SSLv3 with CBC suites is accepted: its padding is not checked (CVE-2014-3566)",
                )
                .with(std::iter::once(line).chain(cbc))
            }
        }
        (Some(true), None) => {
            derived(Inconclusive, "the SSLv3 suites are not all known").with([line])
        }
        (None, _) => derived(Inconclusive, "whether SSLv3 is accepted was not observed"),
    }
}

fn logjam(facts: &TlsFacts, evidence: &TlsEvidence) -> Verdict {
    let Some(suites) = &facts.accepted_suites else {
        return derived(
            Inconclusive,
            "the accepted cipher suites are not all known (tls.accepted_suites not observed)",
        );
    };
    let export: Vec<String> = suites
        .iter()
        .filter(|s| s.export && s.key_exchange == "dhe")
        .map(suite_line)
        .collect();
    if !export.is_empty() {
        return derived(
            Vulnerable,
            "a DHE EXPORT suite is accepted: a man in the middle can force 512-bit DH (Logjam, CVE-2015-4000)",
        )
        .with(export);
    }
    let dhe = suites.iter().any(|s| s.key_exchange == "dhe");
    let bits = fact("tls.dhe_prime_bits", &facts.dhe_prime_bits);
    let common = common_dhe_prime(evidence);
    let mut lines = vec![bits];
    lines.extend(common.map(|p| format!("the DHE prime is {} ({} bits)", p.name, p.bits)));
    match (dhe, facts.dhe_prime_bits, common) {
        (false, _, _) => derived(NotVulnerable, "no DHE suite is accepted"),
        (true, Some(b), Some(prime)) if b < 2048 => derived(
            Vulnerable,
            format!("DHE uses a {b}-bit common prime: {} — one precomputation breaks every server that shares it (Logjam)", prime.name),
        )
        .with(lines),
        (true, Some(b), None) if b < 2048 => derived(
            Vulnerable,
            format!("DHE uses a {b}-bit prime: under 2048 bits, within reach of precomputation for widely shared primes (Logjam)"),
        )
        .with(lines),
        (true, Some(_), Some(prime)) => derived(
            NotVulnerable,
            format!("DHE primes have at least 2048 bits (the well-known {})", prime.name),
        )
        .with(lines),
        (true, Some(_), None) => derived(NotVulnerable, "DHE primes have at least 2048 bits").with(lines),
        (true, None, _) => derived(Inconclusive, "DHE is accepted but its prime size was not observed")
            .with(lines),
    }
}

/// The well-known prime of the smallest DHE prime any hello read, if it is one.
fn common_dhe_prime(evidence: &TlsEvidence) -> Option<&'static super::dh_primes::KnownPrime> {
    let (_, hash) = evidence.smallest_dhe_prime()?;
    super::dh_primes::known_prime(hash?)
}

fn drown(facts: &TlsFacts) -> Verdict {
    by_flag(
        "tls.protocols.ssl2",
        facts.protocols.ssl2,
        true,
        [
            "SSLv2 is accepted: its RSA decryption breaks TLS sessions that share the key (DROWN, CVE-2016-0800)",
            "SSLv2 is refused here (another host serving SSLv2 with the same key would still expose it; only this endpoint was scanned)",
            "whether SSLv2 is accepted was not observed",
        ],
    )
}

fn beast(facts: &TlsFacts) -> Verdict {
    let p = &facts.protocols;
    let lines = vec![
        fact("tls.protocols.ssl3", &p.ssl3),
        fact("tls.protocols.tls1_0", &p.tls1_0),
    ];
    let mut cbc = Vec::new();
    for (accepted, suites) in [
        (p.ssl3, &facts.suites.ssl3),
        (p.tls1_0, &facts.suites.tls1_0),
    ] {
        match (accepted, suites) {
            (Some(false), _) => {}
            (Some(true), Some(list)) => cbc.extend(list.iter().filter(|s| s.cbc).map(suite_line)),
            _ => {
                return derived(
                    Inconclusive,
                    "the SSLv3 / TLS 1.0 support or suites were not observed",
                )
                .with(lines);
            }
        }
    }
    if cbc.is_empty() {
        derived(
            NotVulnerable,
            "no CBC suite is accepted with SSLv3 or TLS 1.0",
        )
        .with(lines)
    } else {
        derived(
            Vulnerable,
            "CBC suites are accepted with SSLv3 or TLS 1.0 (BEAST, CVE-2011-3389; mitigated in current browsers by record splitting)",
        )
        .with(lines.into_iter().chain(cbc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::tls::KeyExchangeInfo;
    use crate::tls_registry::Protocol;

    fn alert(description: u8) -> RecordReply {
        RecordReply::Alert {
            level: 2,
            description,
            name: crate::tls_registry::alert_name(description).to_string(),
        }
    }

    fn robot_probe(rounds: Vec<Vec<RecordReply>>) -> RobotProbe {
        RobotProbe {
            protocol: Protocol::Tls1_2,
            offered_suites: vec![0x002f],
            server_hello: TlsReply::Closed,
            modulus_bits: Some(2048),
            skipped: None,
            rounds,
        }
    }

    fn judge(rounds: Vec<Vec<RecordReply>>) -> Verdict {
        let facts = TlsFacts::derive(&TlsEvidence {
            endpoint: "127.0.0.1:443".into(),
            sni: None,
            error: None,
            attempts: Vec::new(),
            handshakes: Vec::new(),
            certificate_check: None,
            vulnerabilities: Default::default(),
        })
        .facts;
        robot(&facts, Some(&robot_probe(rounds)))
    }

    #[test]
    fn robot_needs_the_same_difference_in_every_round() {
        // robot-detect's classification: the oracle is weak when the three malformed blocks
        // answer alike (only a fully conforming block stands out), strong otherwise.
        let strong = vec![alert(20), alert(51), alert(40), alert(40), alert(20)];
        let verdict = judge(vec![strong.clone(), strong.clone(), strong]);
        assert_eq!(verdict.status, Vulnerable);
        assert!(verdict.reason.contains("strong"), "{}", verdict.reason);
        assert_eq!(verdict.evidence.len(), 5, "hello, modulus, three rounds");

        let weak = vec![alert(20), alert(51), alert(51), alert(51), alert(20)];
        let verdict = judge(vec![weak.clone(), weak.clone(), weak]);
        assert_eq!(verdict.status, Vulnerable);
        assert!(verdict.reason.contains("weak"), "{}", verdict.reason);

        assert_eq!(judge(vec![vec![alert(20); 5]]).status, NotVulnerable);
        assert_eq!(
            judge(vec![vec![RecordReply::Timeout; 5]]).status,
            NotVulnerable,
            "a server that answers nothing to every variant has no oracle"
        );
    }

    #[test]
    fn robot_noise_is_never_an_oracle() {
        let first = vec![
            alert(20),
            RecordReply::Closed,
            alert(20),
            alert(20),
            alert(20),
        ];
        let second = vec![
            alert(20),
            alert(20),
            RecordReply::Closed,
            alert(20),
            alert(20),
        ];
        for rounds in [
            vec![first.clone(), second.clone(), first.clone()],
            vec![first.clone(), first.clone(), second],
            vec![first.clone()],
            vec![first.clone(), vec![alert(20); 5], vec![alert(20); 5]],
        ] {
            let verdict = judge(rounds);
            assert_eq!(verdict.status, Inconclusive, "{verdict:?}");
            assert_eq!(verdict.vulnerable, None);
        }
        let failed = vec![
            alert(20),
            RecordReply::NotSent {
                reason: "no ServerHello".into(),
            },
            alert(20),
            alert(20),
            alert(20),
        ];
        assert_eq!(
            judge(vec![failed.clone(), failed.clone(), failed]).status,
            Inconclusive,
            "a connection that never sent its key exchange decides nothing"
        );
    }

    fn empty_facts() -> TlsFacts {
        TlsFacts::derive(&TlsEvidence {
            endpoint: "127.0.0.1:443".into(),
            sni: None,
            error: None,
            attempts: Vec::new(),
            handshakes: Vec::new(),
            certificate_check: None,
            vulnerabilities: Default::default(),
        })
        .facts
    }

    fn hello(extensions: Vec<u16>) -> TlsReply {
        TlsReply::ServerHello(crate::evidence::tls::ServerHelloInfo {
            version: 0x0303,
            suite: 0xc02f,
            extensions,
            ..Default::default()
        })
    }

    fn ticketbleed_probe(ticket_length: Option<u32>, echo: Option<(u8, bool)>) -> TicketbleedProbe {
        TicketbleedProbe {
            server_hello: hello(vec![35, 0xff01]),
            ticket_length,
            skipped: None,
            session_id_sent: echo.map(|_| 16),
            echo: echo.map(
                |(length, starts_with_sent)| crate::evidence::vuln::SessionIdEcho {
                    length,
                    starts_with_sent,
                },
            ),
            reply: None,
        }
    }

    #[test]
    fn ticketbleed_needs_a_32_byte_echo_that_starts_with_ours() {
        let facts = empty_facts();
        let judge = |probe: TicketbleedProbe| ticketbleed(&facts, Some(&probe));
        let bleeding = judge(ticketbleed_probe(Some(160), Some((32, true))));
        assert_eq!(bleeding.status, Vulnerable, "{bleeding:?}");
        assert_eq!(
            judge(ticketbleed_probe(Some(160), Some((16, true)))).status,
            NotVulnerable
        );
        assert_eq!(
            judge(ticketbleed_probe(Some(160), Some((32, false)))).status,
            NotVulnerable,
            "a fresh id of the server's own"
        );
        assert_eq!(
            judge(ticketbleed_probe(Some(160), Some((0, false)))).status,
            NotVulnerable
        );
        assert_eq!(
            judge(ticketbleed_probe(Some(160), Some((20, true)))).status,
            Inconclusive,
            "neither ours nor 32 bytes"
        );
        let none_issued = judge(ticketbleed_probe(Some(0), None));
        assert_eq!(none_issued.status, NotVulnerable);
        assert!(none_issued.reason.starts_with("no session tickets"));
        let mut unacknowledged = ticketbleed_probe(None, None);
        unacknowledged.server_hello = hello(vec![0xff01]);
        let verdict = judge(unacknowledged);
        assert_eq!(verdict.status, NotVulnerable);
        assert!(verdict.reason.starts_with("no session tickets"));
        let mut failed = ticketbleed_probe(None, None);
        failed.skipped = Some("the key exchange got alert decrypt_error".into());
        let verdict = judge(failed);
        assert_eq!(verdict.status, Inconclusive);
        assert_eq!(verdict.reason, "the key exchange got alert decrypt_error");
        let mut reset = ticketbleed_probe(Some(160), None);
        reset.reply = Some(RecordReply::Reset);
        assert_eq!(judge(reset).status, Inconclusive);
        assert_eq!(
            ticketbleed(&facts, None).status,
            Inconclusive,
            "not run, TLS 1.2 not known refused"
        );
    }

    #[test]
    fn client_renegotiation_is_vulnerable_only_on_a_server_hello() {
        let facts = empty_facts();
        let judge = |reply: Option<RecordReply>, handshake_type: Option<u8>| {
            client_renegotiation(
                &facts,
                Some(&RenegotiationProbe {
                    server_hello: hello(vec![0xff01]),
                    skipped: None,
                    reply,
                    handshake_type,
                }),
            )
            .status
        };
        let record = |content_type| RecordReply::Record {
            content_type,
            length: 100,
        };
        assert_eq!(judge(Some(record(22)), Some(2)), Vulnerable);
        assert_eq!(judge(Some(record(22)), Some(0)), Inconclusive);
        assert_eq!(judge(Some(record(23)), None), Inconclusive);
        let warning = RecordReply::Alert {
            level: 1,
            description: 100,
            name: "no_renegotiation".into(),
        };
        assert_eq!(judge(Some(warning), None), NotVulnerable);
        assert_eq!(judge(Some(alert(40)), None), NotVulnerable);
        assert_eq!(judge(Some(RecordReply::Closed), None), NotVulnerable);
        assert_eq!(judge(Some(RecordReply::Timeout), None), NotVulnerable);
        assert_eq!(judge(None, None), Inconclusive);
        let skipped = client_renegotiation(
            &facts,
            Some(&RenegotiationProbe {
                server_hello: TlsReply::Closed,
                skipped: Some("no suite our TLS 1.2 client speaks".into()),
                reply: None,
                handshake_type: None,
            }),
        );
        assert_eq!(skipped.status, Inconclusive);
        assert!(skipped.reason.contains("no suite"));
    }

    #[test]
    fn the_smallest_dhe_prime_is_looked_up_by_its_hash() {
        let group2 = super::super::dh_primes::KNOWN_PRIMES[1];
        let attempt = |bits: u32, hash: Option<&str>| crate::evidence::tls::TlsAttempt {
            purpose: "dhe".into(),
            protocol: Protocol::Tls1_2,
            offered_suites: vec![0x009e],
            offered_groups: Vec::new(),
            fallback_scsv: false,
            compression: Vec::new(),
            reply: TlsReply::ServerHello(crate::evidence::tls::ServerHelloInfo {
                version: 0x0303,
                suite: 0x009e,
                key_exchange: Some(KeyExchangeInfo::Dhe {
                    prime_bits: bits,
                    prime_sha256: hash.map(str::to_string),
                }),
                ..Default::default()
            }),
        };
        let mut evidence = TlsEvidence {
            endpoint: "127.0.0.1:443".into(),
            sni: None,
            error: None,
            attempts: vec![attempt(1024, Some(group2.sha256)), attempt(2048, None)],
            handshakes: Vec::new(),
            certificate_check: None,
            vulnerabilities: Default::default(),
        };
        assert_eq!(common_dhe_prime(&evidence), Some(&group2));
        evidence.attempts[0] = attempt(1024, Some(&"ab".repeat(32)));
        assert_eq!(common_dhe_prime(&evidence), None);
        evidence.attempts[0] = attempt(1024, None);
        assert_eq!(common_dhe_prime(&evidence), None, "old evidence: no hash");
    }

    #[test]
    fn inconclusive_verdicts_are_explained_in_unobserved() {
        let derived = TlsFacts::derive(&TlsEvidence {
            endpoint: "127.0.0.1:443".into(),
            sni: None,
            error: None,
            attempts: Vec::new(),
            handshakes: Vec::new(),
            certificate_check: None,
            vulnerabilities: Default::default(),
        });
        let v = &derived.facts.vulnerabilities;
        assert_eq!(v.heartbleed.as_ref().map(|v| v.status), Some(Inconclusive));
        assert!(
            derived
                .unobserved
                .iter()
                .any(|(path, _)| path == "tls.vulnerabilities.heartbleed.vulnerable")
        );
        let json = serde_json::to_value(v.heartbleed.as_ref().unwrap()).unwrap();
        assert_eq!(json["status"], "inconclusive");
        assert!(json.get("vulnerable").is_none());
    }
}
