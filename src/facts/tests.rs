//! Fact derivation from whole evidence records: hostile responses stay bounded and never panic.

use super::*;
use crate::evidence::{
    BodySample, ChainEnd, CorsEvidence, FetchChain, HeaderLine, HttpEvidence, HttpHop,
    TargetEvidence,
};

fn evidence(headers: Vec<(String, String)>, html: String) -> Evidence {
    let url = "https://hostile.example.test/".to_string();
    let hop = HttpHop {
        url: url.clone(),
        peer: None,
        status: 200,
        http_version: "HTTP/1.1".into(),
        headers: headers
            .into_iter()
            .map(|(name, value)| HeaderLine { name, value })
            .collect(),
        certificate_error: None,
        body: BodySample {
            bytes_read: html.len() as u64,
            truncated: true,
            text: Some(html),
        },
    };
    Evidence {
        version: crate::evidence::EVIDENCE_VERSION,
        tool: "test".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        exposure: None,
        target: TargetEvidence {
            input: "hostile.example.test".into(),
            host: "hostile.example.test".into(),
            https_port: 443,
            http_port: 80,
            path: "/".into(),
            starttls: None,
        },
        dns: Vec::new(),
        http: HttpEvidence {
            plain: None,
            secure: Some(FetchChain {
                start_url: url.clone(),
                hops: vec![hop.clone()],
                end: ChainEnd::Final,
            }),
            cors: Some(CorsEvidence {
                origin: "https://cors-probe.secaudit.invalid".into(),
                url,
                response: Some(hop),
                error: None,
            }),
            compression: None,
        },
        tls: None,
        mail: None,
        dnssec: None,
        starttls: None,
        deadline_exceeded: Vec::new(),
        not_probed: Vec::new(),
    }
}

#[test]
fn hostile_headers_and_bodies_are_bounded() {
    let megabyte = "default-src 'self' ".repeat(60_000);
    let thousands: String = (0..20_000).map(|i| format!("d{i}-src *;")).collect();
    let lossy =
        String::from_utf8_lossy(b"\xff\xfe\x00\x1b]0;pwned\x07 'unsafe-inline'").into_owned();
    let mut headers = vec![("content-type".to_string(), "text/html".to_string())];
    for name in [
        "content-security-policy",
        "content-security-policy-report-only",
        "referrer-policy",
        "x-frame-options",
        "x-content-type-options",
        "permissions-policy",
        "x-xss-protection",
        "expect-ct",
        "cross-origin-opener-policy",
        "cross-origin-embedder-policy",
        "cross-origin-resource-policy",
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "set-cookie",
        "content-type",
    ] {
        for value in [&megabyte, &thousands, &lossy] {
            headers.push((name.to_string(), value.clone()));
        }
    }
    let html = format!(
        "{}{}{}",
        "<meta http-equiv=Content-Security-Policy content=\"script-src *\">".repeat(5_000),
        "<script src=//evil.example.test/x.js>".repeat(5_000),
        "<".repeat(100_000)
    );
    let facts = Facts::derive(&evidence(headers, html));
    let csp = facts.http.csp.as_ref().unwrap();
    assert!(csp.truncated);
    assert!(csp.policy_count as usize <= csp::MAX_POLICIES);
    assert!(csp.syntax_errors.len() <= csp::MAX_FINDINGS);
    assert!(csp.unknown_directives.len() <= csp::MAX_FINDINGS);
    assert!(csp.directives.len() <= csp::MAX_POLICIES * csp::MAX_DIRECTIVES);
    let sri = facts.http.sri.as_ref().unwrap();
    assert!(sri.html && sri.truncated && sri.scripts.len() <= 64);
    assert_eq!(sri.script_count, 5_000);
    assert!(csp.meta);
    let xfo = facts.http.x_frame_options.as_ref().unwrap();
    assert_eq!(
        xfo.status,
        Some(security_headers::FrameOptionsStatus::Invalid)
    );
    // The whole tree still serialises.
    assert!(facts.to_value().is_object());
}
