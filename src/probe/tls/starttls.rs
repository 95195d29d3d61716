//! The STARTTLS preamble: the plaintext conversation that turns an SMTP, IMAP, POP3 or FTP
//! connection into a TLS one, spoken before every hello of a scan that goes through STARTTLS.
//!
//! - SMTP (RFC 3207, RFC 5321): greeting `220`, `EHLO`, `250` with the `STARTTLS` keyword,
//!   `STARTTLS`, `220`.
//! - IMAP (RFC 3501): greeting `* OK`, `CAPABILITY` with `STARTTLS`, `STARTTLS`, tagged `OK`.
//! - POP3 (RFC 2449, RFC 2595): greeting `+OK`, `CAPA` with `STLS`, `STLS`, `+OK`.
//! - FTP (RFC 2389, RFC 4217): greeting `220`, `FEAT` with `AUTH TLS`, `AUTH TLS`, `234`.
//!
//! A server without the capability is asked nothing more (`NotOffered`). A POP3 server without
//! `CAPA` or an FTP server without `FEAT` is sent the command anyway: those listings are
//! optional. Every read is bounded by the deadline and a byte cap, and lines are parsed by the
//! pure functions below, so a stalling, flooding or babbling server ends as `Failed`, never a
//! hang. The conversation is recorded as [`StarttlsEvidence`]; nothing here judges it.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::evidence::{
    FailureKind, ProbeError, StarttlsEvidence, StarttlsOutcome, StarttlsProtocol,
};

/// The name sent with `EHLO`: a reserved name (RFC 2606) that says who is asking.
pub const EHLO_NAME: &str = "secaudit.invalid";

/// Longest line accepted from the server.
pub const MAX_LINE: usize = 4096;

/// Most lines of one multi-line reply.
const MAX_REPLY_LINES: usize = 256;

/// Most capabilities kept in evidence.
const MAX_CAPABILITIES: usize = 64;

/// Longest greeting or reply kept in evidence, in characters.
const MAX_SHOWN: usize = 256;

/// Speaks the preamble of `protocol` on a connected `stream`, reading at most `max_bytes` in all
/// and stopping at `deadline`. On `Ready`, the stream is positioned for the TLS handshake.
pub async fn negotiate(
    stream: &mut TcpStream,
    protocol: StarttlsProtocol,
    deadline: Instant,
    max_bytes: usize,
) -> StarttlsEvidence {
    let mut conversation = Conversation {
        stream,
        buffer: Vec::new(),
        read_total: 0,
        max_bytes,
        deadline,
        evidence: StarttlsEvidence {
            protocol,
            greeting: None,
            capabilities: Vec::new(),
            outcome: StarttlsOutcome::NotOffered,
        },
    };
    let outcome = match protocol {
        StarttlsProtocol::Smtp => smtp(&mut conversation).await,
        StarttlsProtocol::Imap => imap(&mut conversation).await,
        StarttlsProtocol::Pop3 => pop3(&mut conversation).await,
        StarttlsProtocol::Ftp => ftp(&mut conversation).await,
    };
    let mut evidence = conversation.evidence;
    evidence.outcome = match outcome {
        Ok(outcome) | Err(outcome) => outcome,
    };
    evidence
}

/// A preamble step's result: `Err` ends the conversation with that outcome.
type Step<T> = Result<T, StarttlsOutcome>;

struct Conversation<'a> {
    stream: &'a mut TcpStream,
    buffer: Vec<u8>,
    read_total: usize,
    max_bytes: usize,
    deadline: Instant,
    evidence: StarttlsEvidence,
}

impl Conversation<'_> {
    /// Sends one command line (CRLF appended).
    async fn send(&mut self, stage: &str, line: &str) -> Step<()> {
        let bytes = format!("{line}\r\n");
        match tokio::time::timeout_at(self.deadline, self.stream.write_all(bytes.as_bytes())).await
        {
            Err(_) => Err(failed(stage, FailureKind::Timeout, "sending timed out")),
            Ok(Err(error)) => Err(failed(stage, io_kind(&error), error.to_string())),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// The next line, without its line ending.
    async fn line(&mut self, stage: &str) -> Step<String> {
        let mut chunk = [0u8; 2048];
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.buffer.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(shown(&line));
            }
            if self.buffer.len() >= MAX_LINE {
                return Err(failed(
                    stage,
                    FailureKind::Malformed,
                    format!("a line longer than {MAX_LINE} bytes"),
                ));
            }
            if self.read_total >= self.max_bytes {
                return Err(failed(
                    stage,
                    FailureKind::Malformed,
                    format!("more than {} bytes before TLS", self.max_bytes),
                ));
            }
            let room = chunk
                .len()
                .min(self.max_bytes - self.read_total)
                .min(MAX_LINE - self.buffer.len());
            let Some(window) = chunk.get_mut(..room) else {
                return Err(failed(stage, FailureKind::Other, "no room to read"));
            };
            match tokio::time::timeout_at(self.deadline, self.stream.read(window)).await {
                Err(_) => {
                    return Err(failed(stage, FailureKind::Timeout, "no reply in time"));
                }
                Ok(Err(error)) => return Err(failed(stage, io_kind(&error), error.to_string())),
                Ok(Ok(0)) => {
                    return Err(failed(
                        stage,
                        FailureKind::Reset,
                        "the server closed the connection",
                    ));
                }
                Ok(Ok(n)) => {
                    self.read_total += n;
                    self.buffer.extend_from_slice(&window[..n]);
                }
            }
        }
    }

    /// A whole SMTP or FTP reply: its code and its lines. Every SMTP line carries the code
    /// (RFC 5321 section 4.2.1); an FTP reply's inner lines may be free text, and it ends at the
    /// line that starts with the first line's code and a space (RFC 959 section 4.2).
    async fn coded_reply(&mut self, stage: &str) -> Step<(u16, Vec<String>)> {
        let free_text = self.evidence.protocol == StarttlsProtocol::Ftp;
        let mut lines: Vec<String> = Vec::new();
        let mut first_code = None;
        loop {
            let line = self.line(stage).await?;
            let parsed = coded_line(&line);
            let done = match (parsed, first_code) {
                (Some((code, last)), None) => {
                    first_code = Some(code);
                    last
                }
                (Some((code, last)), Some(first)) if !free_text || code == first => last,
                (_, Some(_)) if free_text => false,
                _ => {
                    return Err(failed(
                        stage,
                        FailureKind::Malformed,
                        format!("`{line}` is not a reply line"),
                    ));
                }
            };
            lines.push(line);
            if done {
                let code = parsed.map_or(0, |(code, _)| code);
                return Ok((code, lines));
            }
            if lines.len() >= MAX_REPLY_LINES {
                return Err(failed(
                    stage,
                    FailureKind::Malformed,
                    format!("a reply of more than {MAX_REPLY_LINES} lines"),
                ));
            }
        }
    }

    fn keep_capabilities(&mut self, capabilities: impl IntoIterator<Item = String>) {
        for capability in capabilities {
            if self.evidence.capabilities.len() >= MAX_CAPABILITIES {
                break;
            }
            if !self.evidence.capabilities.contains(&capability) {
                self.evidence.capabilities.push(capability);
            }
        }
    }

    /// The STARTTLS capability is listed.
    fn lists(&self, capability: &str) -> bool {
        self.evidence.capabilities.iter().any(|c| c == capability)
    }
}

async fn smtp(c: &mut Conversation<'_>) -> Step<StarttlsOutcome> {
    let (code, lines) = c.coded_reply("greeting").await?;
    c.evidence.greeting = lines.last().cloned();
    if code != 220 {
        return Err(refused("greeting", &lines));
    }
    c.send("capabilities", &format!("EHLO {EHLO_NAME}")).await?;
    let (code, lines) = c.coded_reply("capabilities").await?;
    if code != 250 {
        return Err(refused("capabilities", &lines));
    }
    // The first line names the server; the others are one keyword (and parameters) each.
    c.keep_capabilities(lines.iter().skip(1).filter_map(|l| keyword(l.get(4..)?)));
    if !c.lists("STARTTLS") {
        return Ok(StarttlsOutcome::NotOffered);
    }
    c.send("starttls", "STARTTLS").await?;
    let (code, lines) = c.coded_reply("starttls").await?;
    if code == 220 {
        Ok(StarttlsOutcome::Ready {
            reply: joined(&lines),
        })
    } else {
        Err(refused("starttls", &lines))
    }
}

async fn ftp(c: &mut Conversation<'_>) -> Step<StarttlsOutcome> {
    let (code, lines) = c.coded_reply("greeting").await?;
    c.evidence.greeting = lines.last().cloned();
    if code != 220 {
        return Err(refused("greeting", &lines));
    }
    c.send("capabilities", "FEAT").await?;
    let (code, lines) = c.coded_reply("capabilities").await?;
    // FEAT is optional (RFC 2389): without it, AUTH TLS is tried anyway.
    let listed = code == 211;
    if listed {
        // Feature lines start with a space; the first and last lines are the reply's frame.
        c.keep_capabilities(
            lines
                .iter()
                .filter(|l| l.starts_with(' '))
                .map(|l| l.trim().to_ascii_uppercase()),
        );
        if !c.lists("AUTH TLS")
            && !c
                .evidence
                .capabilities
                .iter()
                .any(|f| f.starts_with("AUTH ") && f.contains("TLS"))
        {
            return Ok(StarttlsOutcome::NotOffered);
        }
    }
    c.send("starttls", "AUTH TLS").await?;
    let (code, lines) = c.coded_reply("starttls").await?;
    if code == 234 {
        Ok(StarttlsOutcome::Ready {
            reply: joined(&lines),
        })
    } else if !listed && (500..=504).contains(&code) {
        Ok(StarttlsOutcome::NotOffered)
    } else {
        Err(refused("starttls", &lines))
    }
}

async fn imap(c: &mut Conversation<'_>) -> Step<StarttlsOutcome> {
    let greeting = c.line("greeting").await?;
    c.evidence.greeting = Some(greeting.clone());
    if !greeting.to_ascii_uppercase().starts_with("* OK") {
        return Err(refused("greeting", &[greeting]));
    }
    c.send("capabilities", "a1 CAPABILITY").await?;
    let (status, lines) = imap_tagged(c, "a1", "capabilities").await?;
    if status != "OK" {
        return Err(refused("capabilities", &lines));
    }
    for line in &lines {
        if let Some(rest) = strip_prefix_ci(line, "* CAPABILITY ") {
            let words: Vec<String> = rest
                .split_ascii_whitespace()
                .map(str::to_ascii_uppercase)
                .collect();
            c.keep_capabilities(words);
        }
    }
    if !c.lists("STARTTLS") {
        return Ok(StarttlsOutcome::NotOffered);
    }
    c.send("starttls", "a2 STARTTLS").await?;
    let (status, lines) = imap_tagged(c, "a2", "starttls").await?;
    if status == "OK" {
        Ok(StarttlsOutcome::Ready {
            reply: joined(&lines),
        })
    } else {
        Err(refused("starttls", &lines))
    }
}

/// Reads IMAP lines up to the tagged completion of `tag`: its status (`OK`, `NO`, `BAD`) and
/// every line read.
async fn imap_tagged(
    c: &mut Conversation<'_>,
    tag: &str,
    stage: &str,
) -> Step<(String, Vec<String>)> {
    let mut lines = Vec::new();
    loop {
        let line = c.line(stage).await?;
        let status = imap_status(&line, tag);
        lines.push(line);
        if let Some(status) = status {
            return Ok((status, lines));
        }
        if lines.len() >= MAX_REPLY_LINES {
            return Err(failed(
                stage,
                FailureKind::Malformed,
                format!("no completion of `{tag}` within {MAX_REPLY_LINES} lines"),
            ));
        }
    }
}

async fn pop3(c: &mut Conversation<'_>) -> Step<StarttlsOutcome> {
    let greeting = c.line("greeting").await?;
    c.evidence.greeting = Some(greeting.clone());
    if !greeting.starts_with("+OK") {
        return Err(refused("greeting", &[greeting]));
    }
    c.send("capabilities", "CAPA").await?;
    let status = c.line("capabilities").await?;
    // CAPA is optional (RFC 2449): without it, STLS is tried anyway.
    let listed = status.starts_with("+OK");
    if listed {
        let mut count = 0;
        loop {
            let line = c.line("capabilities").await?;
            if line == "." {
                break;
            }
            count += 1;
            if count > MAX_REPLY_LINES {
                return Err(failed(
                    "capabilities",
                    FailureKind::Malformed,
                    format!("a CAPA list of more than {MAX_REPLY_LINES} lines"),
                ));
            }
            if let Some(word) = keyword(&line) {
                c.keep_capabilities([word]);
            }
        }
        if !c.lists("STLS") {
            return Ok(StarttlsOutcome::NotOffered);
        }
    }
    c.send("starttls", "STLS").await?;
    let reply = c.line("starttls").await?;
    if reply.starts_with("+OK") {
        Ok(StarttlsOutcome::Ready { reply })
    } else if !listed {
        Ok(StarttlsOutcome::NotOffered)
    } else {
        Err(refused("starttls", &[reply]))
    }
}

/// An SMTP or FTP reply line: its code and whether it is the last line (`250 x` or `250`
/// rather than `250-x`). `None` when the line does not start with three digits.
pub fn coded_line(line: &str) -> Option<(u16, bool)> {
    let digits = line.get(..3)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code = digits.parse().ok()?;
    match line.as_bytes().get(3) {
        None | Some(b' ') => Some((code, true)),
        Some(b'-') => Some((code, false)),
        Some(_) => None,
    }
}

/// The status of the IMAP tagged response `line` to `tag` (`OK`, `NO`, `BAD`, upper-case), or
/// `None` for an untagged or other line.
pub fn imap_status(line: &str, tag: &str) -> Option<String> {
    let rest = line.strip_prefix(tag)?.strip_prefix(' ')?;
    let status = rest.split_ascii_whitespace().next()?.to_ascii_uppercase();
    Some(status)
}

/// The keyword of a capability line, upper-case (`STARTTLS`, `SIZE` of `SIZE 35882577`).
pub fn keyword(line: &str) -> Option<String> {
    line.split_ascii_whitespace()
        .next()
        .map(str::to_ascii_uppercase)
}

fn strip_prefix_ci<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let head = line.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| line.get(prefix.len()..))
        .flatten()
}

/// Bytes as text: printable ASCII kept, others as `\xNN`, cut at [`MAX_SHOWN`] characters.
fn shown(bytes: &[u8]) -> String {
    let mut text = String::new();
    for (count, b) in bytes.iter().enumerate() {
        if count >= MAX_SHOWN {
            text.push('…');
            break;
        }
        if b.is_ascii_graphic() || *b == b' ' {
            text.push(char::from(*b));
        } else {
            text.push_str(&format!("\\x{b:02x}"));
        }
    }
    text
}

fn joined(lines: &[String]) -> String {
    let text = lines.join(" | ");
    if text.chars().count() > MAX_SHOWN {
        text.chars().take(MAX_SHOWN).chain(['…']).collect()
    } else {
        text
    }
}

fn refused(stage: &str, lines: &[String]) -> StarttlsOutcome {
    StarttlsOutcome::Refused {
        stage: stage.to_string(),
        reply: joined(lines),
    }
}

fn failed(stage: &str, kind: FailureKind, message: impl Into<String>) -> StarttlsOutcome {
    StarttlsOutcome::Failed {
        stage: stage.to_string(),
        error: ProbeError::new(kind, message),
    }
}

fn io_kind(error: &std::io::Error) -> FailureKind {
    use std::io::ErrorKind as K;
    match error.kind() {
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
            FailureKind::Reset
        }
        K::TimedOut => FailureKind::Timeout,
        K::ConnectionRefused => FailureKind::Refused,
        _ => FailureKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncBufReadExt, BufReader};
    use tokio::net::TcpListener;

    use super::*;

    #[test]
    fn reply_lines_give_code_and_continuation() {
        assert_eq!(coded_line("250-mx.example.test Hello"), Some((250, false)));
        assert_eq!(coded_line("250 STARTTLS"), Some((250, true)));
        assert_eq!(coded_line("220"), Some((220, true)));
        assert_eq!(coded_line("22"), None);
        assert_eq!(coded_line("abc def"), None);
        assert_eq!(coded_line("250_x"), None);
        assert_eq!(coded_line("2é0 x"), None);
    }

    #[test]
    fn imap_tagged_status() {
        assert_eq!(imap_status("a1 OK done", "a1").as_deref(), Some("OK"));
        assert_eq!(imap_status("a2 bad what", "a2").as_deref(), Some("BAD"));
        assert_eq!(imap_status("* CAPABILITY IMAP4rev1", "a1"), None);
        assert_eq!(imap_status("a10 OK", "a1"), None);
    }

    #[test]
    fn shows_control_bytes_and_cuts_long_lines() {
        assert_eq!(shown(b"220 hi\x1b[2J"), "220 hi\\x1b[2J");
        let long = shown(&[b'a'; 1000]);
        assert_eq!(long.chars().count(), MAX_SHOWN + 1);
    }

    /// A scripted server: for each expected client line (None: none), the bytes to send.
    async fn scripted(script: Vec<(Option<&'static str>, &'static [u8])>) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            for (expect, send) in script {
                if let Some(expect) = expect {
                    let got = lines.next_line().await.unwrap().unwrap_or_default();
                    assert_eq!(got, expect);
                }
                write.write_all(send).await.unwrap();
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        });
        addr
    }

    async fn run(addr: std::net::SocketAddr, protocol: StarttlsProtocol) -> StarttlsEvidence {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(1);
        negotiate(&mut stream, protocol, deadline, 16 * 1024).await
    }

    #[tokio::test]
    async fn smtp_ready_not_offered_and_refused() {
        let addr = scripted(vec![
            (None, b"220-mx.test ESMTP\r\n220 mx.test\r\n"),
            (
                Some("EHLO secaudit.invalid"),
                b"250-mx.test\r\n250-SIZE 100\r\n250 starttls\r\n",
            ),
            (Some("STARTTLS"), b"220 2.0.0 go ahead\r\n"),
        ])
        .await;
        let evidence = run(addr, StarttlsProtocol::Smtp).await;
        assert_eq!(evidence.greeting.as_deref(), Some("220 mx.test"));
        assert_eq!(evidence.capabilities, ["SIZE", "STARTTLS"]);
        assert_eq!(
            evidence.outcome,
            StarttlsOutcome::Ready {
                reply: "220 2.0.0 go ahead".into()
            }
        );

        let addr = scripted(vec![
            (None, b"220 mx.test\n"),
            (
                Some("EHLO secaudit.invalid"),
                b"250-mx.test\n250 8BITMIME\n",
            ),
        ])
        .await;
        assert_eq!(
            run(addr, StarttlsProtocol::Smtp).await.outcome,
            StarttlsOutcome::NotOffered
        );

        let addr = scripted(vec![
            (None, b"220 mx.test\r\n"),
            (
                Some("EHLO secaudit.invalid"),
                b"250-mx.test\r\n250 STARTTLS\r\n",
            ),
            (Some("STARTTLS"), b"454 4.7.0 TLS not available\r\n"),
        ])
        .await;
        assert_eq!(
            run(addr, StarttlsProtocol::Smtp).await.outcome,
            StarttlsOutcome::Refused {
                stage: "starttls".into(),
                reply: "454 4.7.0 TLS not available".into()
            }
        );

        let addr = scripted(vec![(None, b"554 go away\r\n")]).await;
        assert!(matches!(
            run(addr, StarttlsProtocol::Smtp).await.outcome,
            StarttlsOutcome::Refused { stage, .. } if stage == "greeting"
        ));
    }

    #[tokio::test]
    async fn silent_flooding_and_garbage_servers_fail_in_bounds() {
        let addr = scripted(vec![]).await;
        assert!(matches!(
            run(addr, StarttlsProtocol::Smtp).await.outcome,
            StarttlsOutcome::Failed { error, .. } if error.kind == FailureKind::Timeout
        ));
        let flood: &'static [u8] = Box::leak(vec![b'2'; 64 * 1024].into_boxed_slice());
        let addr = scripted(vec![(None, flood)]).await;
        assert!(matches!(
            run(addr, StarttlsProtocol::Smtp).await.outcome,
            StarttlsOutcome::Failed { error, .. } if error.kind == FailureKind::Malformed
        ));
        let addr = scripted(vec![(None, b"HTTP/1.1 400 Bad Request\r\n")]).await;
        assert!(matches!(
            run(addr, StarttlsProtocol::Smtp).await.outcome,
            StarttlsOutcome::Failed { stage, error } if stage == "greeting" && error.kind == FailureKind::Malformed
        ));
    }

    #[tokio::test]
    async fn imap_pop3_and_ftp() {
        let addr = scripted(vec![
            (None, b"* OK IMAP ready\r\n"),
            (
                Some("a1 CAPABILITY"),
                b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na1 OK done\r\n",
            ),
            (Some("a2 STARTTLS"), b"a2 OK Begin TLS\r\n"),
        ])
        .await;
        let evidence = run(addr, StarttlsProtocol::Imap).await;
        assert_eq!(
            evidence.capabilities,
            ["IMAP4REV1", "STARTTLS", "LOGINDISABLED"]
        );
        assert!(matches!(evidence.outcome, StarttlsOutcome::Ready { .. }));

        let addr = scripted(vec![
            (None, b"+OK POP3 ready\r\n"),
            (Some("CAPA"), b"+OK\r\nUSER\r\nSTLS\r\n.\r\n"),
            (Some("STLS"), b"+OK Begin TLS\r\n"),
        ])
        .await;
        let evidence = run(addr, StarttlsProtocol::Pop3).await;
        assert_eq!(evidence.capabilities, ["USER", "STLS"]);
        assert!(matches!(evidence.outcome, StarttlsOutcome::Ready { .. }));

        let addr = scripted(vec![
            (None, b"+OK POP3 ready\r\n"),
            (Some("CAPA"), b"+OK\r\nUSER\r\n.\r\n"),
        ])
        .await;
        assert_eq!(
            run(addr, StarttlsProtocol::Pop3).await.outcome,
            StarttlsOutcome::NotOffered
        );

        let addr = scripted(vec![
            (None, b"220 FTP ready\r\n"),
            (
                Some("FEAT"),
                b"211-Features:\r\n AUTH TLS\r\n PBSZ\r\n211 End\r\n",
            ),
            (Some("AUTH TLS"), b"234 AUTH TLS OK.\r\n"),
        ])
        .await;
        let evidence = run(addr, StarttlsProtocol::Ftp).await;
        assert_eq!(evidence.capabilities, ["AUTH TLS", "PBSZ"]);
        assert!(matches!(evidence.outcome, StarttlsOutcome::Ready { .. }));
    }
}
