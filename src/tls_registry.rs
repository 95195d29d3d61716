//! TLS registry data shared by the TLS probe and the TLS facts: protocol versions, named groups,
//! alert descriptions, and the cipher-suite list (names and parameters from tls-parser's copy of
//! the IANA registry).
//!
//! Data only: no I/O, no judgement.

use serde::{Deserialize, Serialize};

/// Protocol versions secaudit tests for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// SSL 2.0 (its own record format).
    Ssl2,
    /// SSL 3.0.
    Ssl3,
    /// TLS 1.0.
    #[serde(rename = "tls1_0")]
    Tls1_0,
    /// TLS 1.1.
    #[serde(rename = "tls1_1")]
    Tls1_1,
    /// TLS 1.2.
    #[serde(rename = "tls1_2")]
    Tls1_2,
    /// TLS 1.3.
    #[serde(rename = "tls1_3")]
    Tls1_3,
}

impl Protocol {
    /// Oldest first.
    pub const ALL: [Protocol; 6] = [
        Self::Ssl2,
        Self::Ssl3,
        Self::Tls1_0,
        Self::Tls1_1,
        Self::Tls1_2,
        Self::Tls1_3,
    ];

    /// The version number on the wire.
    pub fn code(self) -> u16 {
        match self {
            Self::Ssl2 => 0x0002,
            Self::Ssl3 => 0x0300,
            Self::Tls1_0 => 0x0301,
            Self::Tls1_1 => 0x0302,
            Self::Tls1_2 => 0x0303,
            Self::Tls1_3 => 0x0304,
        }
    }

    /// The version for a wire number.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    /// Fact key: `ssl2`, `ssl3`, `tls1_0`, … `tls1_3`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Ssl2 => "ssl2",
            Self::Ssl3 => "ssl3",
            Self::Tls1_0 => "tls1_0",
            Self::Tls1_1 => "tls1_1",
            Self::Tls1_2 => "tls1_2",
            Self::Tls1_3 => "tls1_3",
        }
    }

    /// Display name: `SSLv2`, `TLS 1.2`, …
    pub fn name(self) -> &'static str {
        match self {
            Self::Ssl2 => "SSLv2",
            Self::Ssl3 => "SSLv3",
            Self::Tls1_0 => "TLS 1.0",
            Self::Tls1_1 => "TLS 1.1",
            Self::Tls1_2 => "TLS 1.2",
            Self::Tls1_3 => "TLS 1.3",
        }
    }
}

/// Named groups (RFC 8446 / 8422 / 7919, and the ML-KEM hybrids) probed for, with their names.
pub const GROUPS: [(u16, &str); 18] = [
    (0x0017, "secp256r1"),
    (0x0018, "secp384r1"),
    (0x0019, "secp521r1"),
    (0x001a, "brainpoolP256r1"),
    (0x001b, "brainpoolP384r1"),
    (0x001c, "brainpoolP512r1"),
    (0x001d, "x25519"),
    (0x001e, "x448"),
    (0x001f, "brainpoolP256r1tls13"),
    (0x0020, "brainpoolP384r1tls13"),
    (0x0021, "brainpoolP512r1tls13"),
    (0x0100, "ffdhe2048"),
    (0x0101, "ffdhe3072"),
    (0x0102, "ffdhe4096"),
    (0x0103, "ffdhe6144"),
    (0x11eb, "SecP256r1MLKEM768"),
    (0x11ec, "X25519MLKEM768"),
    (0x11ed, "SecP384r1MLKEM1024"),
];

/// Groups usable in TLS 1.3 (the brainpool curves have separate TLS 1.3 code points).
pub fn tls13_groups() -> impl Iterator<Item = u16> {
    GROUPS
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !matches!(id, 0x001a..=0x001c))
}

/// Groups usable for ECDHE in TLS 1.2 (elliptic curves only).
pub fn tls12_groups() -> impl Iterator<Item = u16> {
    GROUPS
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| matches!(id, 0x0017..=0x001e))
}

/// A group's name, or its number in hex.
pub fn group_name(id: u16) -> String {
    GROUPS
        .iter()
        .find(|(code, _)| *code == id)
        .map_or_else(|| format!("0x{id:04x}"), |(_, name)| (*name).to_string())
}

/// The TLS alert description's name (RFC 8446 section 6, plus the older ones).
pub fn alert_name(description: u8) -> &'static str {
    match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown_alert",
    }
}

/// `TLS_FALLBACK_SCSV` (RFC 7507).
pub const FALLBACK_SCSV: u16 = 0x5600;
/// `TLS_EMPTY_RENEGOTIATION_INFO_SCSV` (RFC 5746).
pub const RENEGOTIATION_SCSV: u16 = 0x00ff;

/// The TLS 1.3 cipher suites.
pub const TLS13_SUITES: [u16; 5] = [0x1301, 0x1302, 0x1303, 0x1304, 0x1305];

/// Every registered suite that can be offered for `protocol`, by number.
///
/// TLS 1.3 has its own five suites; for the older versions every registered suite except the
/// TLS 1.3 ones and the signalling values is offered, so the server alone decides.
pub fn suites_for(protocol: Protocol) -> Vec<u16> {
    if protocol == Protocol::Tls1_3 {
        return TLS13_SUITES.to_vec();
    }
    let mut ids: Vec<u16> = tls_parser::CIPHERS
        .values()
        .filter(|suite| suite.kx != tls_parser::TlsCipherKx::Tls13)
        .map(|suite| suite.id.0)
        .filter(|id| *id != FALLBACK_SCSV && *id != RENEGOTIATION_SCSV)
        .collect();
    ids.sort_unstable();
    ids
}

/// Whether a suite can be negotiated with `protocol`: AEAD suites and suites with SHA-256/384
/// MACs exist only from TLS 1.2 on, the TLS 1.3 suites only in TLS 1.3.
pub fn suite_usable_with(id: u16, protocol: Protocol) -> bool {
    use tls_parser::{TlsCipherEncMode, TlsCipherKx, TlsCipherMac};
    let Some(suite) = tls_parser::TlsCipherSuite::from_id(id) else {
        return false;
    };
    let tls13_only = suite.kx == TlsCipherKx::Tls13;
    let tls12_only = matches!(
        suite.mac,
        TlsCipherMac::Aead
            | TlsCipherMac::HmacSha256
            | TlsCipherMac::HmacSha384
            | TlsCipherMac::HmacSha512
    ) || matches!(
        suite.enc_mode,
        TlsCipherEncMode::Gcm | TlsCipherEncMode::Ccm
    );
    match protocol {
        Protocol::Tls1_3 => tls13_only,
        Protocol::Tls1_2 => !tls13_only,
        _ => !tls13_only && !tls12_only,
    }
}

/// The IANA name of a suite, or its number in hex.
pub fn suite_name(id: u16) -> String {
    tls_parser::TlsCipherSuite::from_id(id)
        .map_or_else(|| format!("0x{id:04x}"), |suite| suite.name.to_string())
}

/// SSLv2 cipher kinds (three bytes each) and their names.
pub const SSL2_CIPHERS: [(u32, &str); 7] = [
    (0x010080, "SSL_CK_RC4_128_WITH_MD5"),
    (0x020080, "SSL_CK_RC4_128_EXPORT40_WITH_MD5"),
    (0x030080, "SSL_CK_RC2_128_CBC_WITH_MD5"),
    (0x040080, "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5"),
    (0x050080, "SSL_CK_IDEA_128_CBC_WITH_MD5"),
    (0x060040, "SSL_CK_DES_64_CBC_WITH_MD5"),
    (0x0700c0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_lists_exclude_signalling_values() {
        let legacy = suites_for(Protocol::Tls1_2);
        assert!(legacy.len() > 300, "{}", legacy.len());
        assert!(!legacy.contains(&FALLBACK_SCSV) && !legacy.contains(&RENEGOTIATION_SCSV));
        assert!(!legacy.contains(&0x1301));
        assert!(legacy.contains(&0xc02f) && legacy.contains(&0x0005));
        assert_eq!(suites_for(Protocol::Tls1_3), TLS13_SUITES);
    }

    #[test]
    fn suite_versions() {
        assert!(suite_usable_with(0xc02f, Protocol::Tls1_2));
        assert!(!suite_usable_with(0xc02f, Protocol::Tls1_0));
        assert!(
            !suite_usable_with(0x003c, Protocol::Tls1_1),
            "AES_128_CBC_SHA256 is TLS 1.2 only"
        );
        assert!(suite_usable_with(0xc013, Protocol::Ssl3));
        assert!(suite_usable_with(0x1301, Protocol::Tls1_3));
        assert!(!suite_usable_with(0x1301, Protocol::Tls1_2));
    }

    #[test]
    fn names() {
        assert_eq!(suite_name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(suite_name(0xfefe), "0xfefe");
        assert_eq!(group_name(0x11ec), "X25519MLKEM768");
        assert_eq!(alert_name(86), "inappropriate_fallback");
        assert_eq!(Protocol::from_code(0x0303), Some(Protocol::Tls1_2));
    }
}
