//! Fuzz entry points: one plain function per parser that reads target-controlled bytes.
//!
//! Each takes arbitrary bytes and must return without panicking, in bounded time and memory,
//! whatever they are. They are driven three ways, all through these same functions: the unit
//! test below runs every input of the seed corpora (`fuzz/corpus/<target>/`); the mutation
//! driver `cargo bench --bench fuzz` (stable Rust, no coverage feedback) mutates the corpora for
//! millions of executions per target; and `fuzz/` holds cargo-fuzz (libFuzzer) targets for
//! machines with a nightly toolchain. Inputs that once crashed a target stay in its corpus.
//!
//! Nothing here touches the network or the file system.

use crate::evidence::encode_bytes;
use crate::evidence::tls::{HandshakeOutcome, HandshakeRecord, TlsEvidence};
use crate::facts::catalogue::Catalogue;
use crate::facts::csp::{CspFacts, CspInput};
use crate::probe::tls::reply::{Want, parse_flight, parse_server_hello};

/// `count` deterministic pseudo-random byte strings of up to `max_len` bytes (xorshift from
/// `seed`), for the unit tests that feed a reader garbage without a corpus.
pub fn random_inputs(seed: u64, count: usize, max_len: u64) -> impl Iterator<Item = Vec<u8>> {
    let mut state = seed.max(1);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count).map(move |_| {
        let len = next() % (max_len + 1);
        (0..len).map(|_| next() as u8).collect()
    })
}

/// A fuzz target: its name (the corpus directory) and its entry point.
pub type Target = (&'static str, fn(&[u8]));

/// Every target.
pub const TARGETS: &[Target] = &[
    ("server_hello", server_hello),
    ("sslv2_reply", sslv2_reply),
    ("certificate", certificate),
    ("hsts", hsts),
    ("csp", csp),
    ("cookie", cookie),
    ("spf", spf),
    ("dmarc", dmarc),
    ("dkim", dkim),
    ("mta_sts", mta_sts),
    ("rules", rules),
];

/// A server's first flight after a ClientHello: ServerHello, HelloRetryRequest, alerts,
/// Certificate, ServerKeyExchange, as complete or partial input.
pub fn server_hello(data: &[u8]) {
    for want in [
        Want::default(),
        Want {
            key_exchange: true,
            certificates: true,
        },
    ] {
        let _ = parse_flight(data, want, false);
        let _ = parse_flight(data, want, true);
    }
    let _ = parse_server_hello(data);
}

/// An SSLv2 reply (SERVER-HELLO or ERROR): the input with the SSLv2 header bit set.
pub fn sslv2_reply(data: &[u8]) {
    let mut record = data.to_vec();
    if let Some(first) = record.first_mut() {
        *first |= 0x80;
    }
    let _ = parse_flight(&record, Want::default(), false);
    let _ = parse_flight(&record, Want::default(), true);
}

/// A DER certificate: the certificate facts (as the served leaf, and as a chain of two), the
/// embedded SCTs, and the input read as an SCT list delivered by TLS.
pub fn certificate(data: &[u8]) {
    let half = data.len() / 2;
    for chain in [vec![data], vec![&data[..half], &data[half..]]] {
        let certificates = chain.iter().map(|der| encode_bytes(der)).collect();
        let _ = crate::facts::x509::derive(&completed(certificates), 1_700_000_000, None);
    }
    let _ = crate::ct::sct::check_embedded_scts(data, Some(data), None);
    let _ = crate::ct::sct::check_delivered_scts(
        data,
        crate::ct::sct::SctSource::TlsExtension,
        data,
        None,
    );
}

/// `Strict-Transport-Security` values (each line one header).
pub fn hsts(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::facts::hsts::HstsFacts::from_values(text.lines());
    let _ = crate::facts::hsts::HstsFacts::from_values([text.as_ref()]);
}

/// A Content-Security-Policy header, and the same bytes as an HTML page with meta policies.
pub fn csp(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let meta = crate::facts::csp::meta_policies(&text);
    let meta: Vec<&str> = meta.iter().map(String::as_str).collect();
    let headers: Vec<&str> = text.lines().collect();
    for https in [false, true] {
        let _ = CspFacts::analyse(CspInput {
            headers: &headers,
            meta: &meta,
            report_only: false,
            https,
        });
    }
}

/// A `Set-Cookie` line.
pub fn cookie(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for over_http in [false, true] {
        let _ = crate::facts::cookie::CookieFacts::from_line(&text, "www.example.test", over_http);
    }
}

/// An SPF record.
pub fn spf(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::facts::mail::spf::is_spf(&text);
    let _ = crate::facts::mail::spf::parse(&text);
}

/// A DMARC record, and its report URIs.
pub fn dmarc(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::facts::mail::dmarc::is_dmarc(&text);
    let _ = crate::facts::mail::dmarc::parse(&text);
    for part in text.split([',', ';']) {
        let _ = crate::facts::mail::dmarc::report_domain(part.trim());
    }
}

/// A DKIM key record.
pub fn dkim(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::facts::mail::dkim::is_key_record(&text);
    let _ = crate::facts::mail::dkim::parse(&text);
}

/// An MTA-STS policy file, the `_mta-sts` record, and its `mx` patterns against a host.
pub fn mta_sts(data: &[u8]) {
    use crate::facts::mail::mta_sts;
    let text = String::from_utf8_lossy(data);
    let policy = mta_sts::parse_policy(&text);
    let _ = mta_sts::parse_record(&text);
    for line in text.lines().take(64) {
        let _ = mta_sts::matches(line, "mx1.example.test");
        let _ = mta_sts::matches("*.example.test", line);
    }
    let _ = policy;
}

/// A rule file (YAML): the whole loader, with its alias and nesting budgets.
pub fn rules(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::policy::load::load_pack("fuzz.yaml", &text, Catalogue::shared());
}

/// A scan whose main handshake completed with `certificates`.
fn completed(certificates: Vec<String>) -> TlsEvidence {
    TlsEvidence {
        endpoint: "127.0.0.1:443".into(),
        sni: Some("www.example.test".into()),
        error: None,
        attempts: Vec::new(),
        handshakes: vec![HandshakeRecord {
            alpn_offered: Vec::new(),
            outcome: HandshakeOutcome::Completed {
                version: "TLSv1_3".into(),
                suite: "TLS13_AES_128_GCM_SHA256".into(),
                group: None,
                alpn: None,
                certificates,
                ocsp_response_len: 0,
                ocsp_response: None,
                certificate_error: None,
                certificate_error_code: None,
            },
        }],
        certificate_check: None,
        vulnerabilities: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every seed (and every input that once crashed) of every target, through its entry point.
    #[test]
    fn every_corpus_input_runs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        for (name, target) in TARGETS {
            let dir = root.join(name);
            let mut count = 0;
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                target(&data);
                count += 1;
            }
            assert!(count >= 3, "{name}: only {count} seeds");
        }
    }

    #[test]
    fn every_target_has_a_corpus_and_nothing_else_does() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let mut dirs: Vec<String> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        dirs.sort();
        let mut names: Vec<String> = TARGETS.iter().map(|(n, _)| (*n).to_string()).collect();
        names.sort();
        assert_eq!(dirs, names);
    }
}
