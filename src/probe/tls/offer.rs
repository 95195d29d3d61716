//! Checking a server's first reply against the ClientHello it answers.
//!
//! A ServerHello may only pick what the hello offered: a suite from its list, a version no
//! higher than the highest offered, a compression method it listed. A HelloRetryRequest only
//! answers a TLS 1.3 hello, with an offered suite, and must ask for an offered group the hello
//! did not already send a key share for (RFC 8446 section 4.1.4: otherwise retrying could never
//! succeed — a loop). A reply that breaks these rules says nothing about what the server
//! supports, so it is recorded as malformed, which leaves the version undecided instead of
//! counting a suite that was never offered as accepted.

use super::hello::ClientHelloSpec;
use crate::evidence::tls::TlsReply;

/// `reply`, or `Malformed` with the reason when it picks something `spec` did not offer.
pub fn check(reply: TlsReply, spec: &ClientHelloSpec) -> TlsReply {
    match violation(&reply, spec) {
        Some(reason) => TlsReply::Malformed { reason },
        None => reply,
    }
}

fn violation(reply: &TlsReply, spec: &ClientHelloSpec) -> Option<String> {
    let highest = spec.protocol.code();
    match reply {
        TlsReply::ServerHello(info) => {
            let version = info.negotiated();
            if version > highest {
                return Some(format!(
                    "ServerHello chose version 0x{version:04x}, which was not offered (highest 0x{highest:04x})"
                ));
            }
            if !spec.suites.contains(&info.suite) {
                return Some(format!(
                    "ServerHello chose suite 0x{:04x}, which was not offered",
                    info.suite
                ));
            }
            if info.compression != 0 && !spec.compression.contains(&info.compression) {
                return Some(format!(
                    "ServerHello chose compression method {}, which was not offered",
                    info.compression
                ));
            }
            None
        }
        TlsReply::HelloRetryRequest {
            suite,
            selected_group,
        } => {
            if spec.protocol != crate::tls_registry::Protocol::Tls1_3 {
                return Some("HelloRetryRequest to a hello that did not offer TLS 1.3".into());
            }
            if !spec.suites.contains(suite) {
                return Some(format!(
                    "HelloRetryRequest chose suite 0x{suite:04x}, which was not offered"
                ));
            }
            let group = (*selected_group)?;
            if !spec.groups.contains(&group) {
                return Some(format!(
                    "HelloRetryRequest asked for group 0x{group:04x}, which was not offered"
                ));
            }
            if spec.key_shares.iter().any(|(shared, _)| *shared == group) {
                return Some(format!(
                    "HelloRetryRequest asked again for group 0x{group:04x}, whose key share was sent (a retry loop)"
                ));
            }
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::tls::ServerHelloInfo;
    use crate::tls_registry::Protocol;

    fn hello(version: u16, selected: Option<u16>, suite: u16) -> TlsReply {
        TlsReply::ServerHello(ServerHelloInfo {
            version,
            selected_version: selected,
            suite,
            ..ServerHelloInfo::default()
        })
    }

    fn is_malformed(reply: &TlsReply, needle: &str) -> bool {
        matches!(reply, TlsReply::Malformed { reason } if reason.contains(needle))
    }

    #[test]
    fn server_hello_must_pick_from_the_offer() {
        let spec = ClientHelloSpec::new(Protocol::Tls1_2, vec![0xc02f, 0x009c], None);
        assert_eq!(
            check(hello(0x0303, None, 0xc02f), &spec),
            hello(0x0303, None, 0xc02f)
        );
        // A lower version is a refusal of this one, not a lie.
        assert!(!is_malformed(
            &check(hello(0x0301, None, 0x009c), &spec),
            ""
        ));
        assert!(is_malformed(
            &check(hello(0x0303, None, 0x1337), &spec),
            "suite 0x1337"
        ));
        assert!(is_malformed(
            &check(hello(0x0303, Some(0x0304), 0xc02f), &spec),
            "version 0x0304"
        ));
        let mut compressed = hello(0x0303, None, 0xc02f);
        if let TlsReply::ServerHello(info) = &mut compressed {
            info.compression = 1;
        }
        assert!(is_malformed(&check(compressed, &spec), "compression"));
    }

    #[test]
    fn hello_retry_request_must_change_the_hello() {
        let tls13 = ClientHelloSpec::new(Protocol::Tls1_3, vec![0x1301], None);
        let hrr = |group| TlsReply::HelloRetryRequest {
            suite: 0x1301,
            selected_group: Some(group),
        };
        assert_eq!(check(hrr(0x0017), &tls13), hrr(0x0017));
        assert!(is_malformed(&check(hrr(0x001d), &tls13), "retry loop"));
        assert!(is_malformed(&check(hrr(0x4242), &tls13), "not offered"));
        let tls12 = ClientHelloSpec::new(Protocol::Tls1_2, vec![0x1301], None);
        assert!(is_malformed(
            &check(hrr(0x0017), &tls12),
            "did not offer TLS 1.3"
        ));
    }
}
