//! Cipher-suite classification: IANA parameters (via tls-parser's registry) mapped to the
//! properties rules test, and our own strength table.
//!
//! Strength: `insecure` (NULL, anonymous, EXPORT, RC4, RC2, single DES, under 112 bits — broken or
//! trivially breakable), `weak` (3DES, CBC modes, IDEA/SEED, no forward secrecy, MD5 MACs — the
//! classes Mozilla, BSI and SSL Labs retire), `strong` (AEAD with forward secrecy).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tls_parser::{
    TlsCipherAu, TlsCipherEnc, TlsCipherEncMode, TlsCipherKx, TlsCipherMac, TlsCipherSuite,
};

use crate::tls_registry::{Protocol, SSL2_CIPHERS};

/// How strong a suite is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// Broken or trivially breakable.
    Insecure,
    /// Deprecated by current guidelines.
    Weak,
    /// AEAD with forward secrecy.
    Strong,
}

/// One accepted cipher suite and its properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SuiteFacts {
    /// IANA name (or OpenSSL-style SSLv2 name).
    pub name: String,
    /// Number, e.g. `0xc02f`.
    pub code: String,
    /// Protocol version it was accepted with: `ssl2` … `tls1_3`.
    pub protocol: String,
    /// Key exchange: `ecdhe`, `dhe`, `rsa`, `dh`, `ecdh`, `psk`, `tls13`, `null`, `srp`, `krb5`, …
    pub key_exchange: String,
    /// Authentication: `rsa`, `ecdsa`, `dss`, `anon`, `psk`, `tls13`, …
    pub authentication: String,
    /// Bulk cipher: `aes`, `chacha20_poly1305`, `3des`, `des`, `rc4`, `rc2`, `camellia`, `aria`, …
    pub encryption: String,
    /// Cipher mode: `gcm`, `ccm`, `cbc`, `stream` or `none`.
    pub mode: String,
    /// Key size of the bulk cipher in bits.
    pub bits: u16,
    /// MAC: `aead`, `sha1`, `sha256`, `sha384`, `md5` or `null`.
    pub mac: String,
    /// Authenticated encryption (GCM, CCM, ChaCha20-Poly1305).
    pub aead: bool,
    /// A CBC-mode cipher.
    pub cbc: bool,
    /// Ephemeral key exchange (DHE, ECDHE, TLS 1.3).
    pub forward_secrecy: bool,
    /// No server authentication.
    pub anonymous: bool,
    /// An EXPORT-grade suite.
    pub export: bool,
    /// No encryption at all.
    pub null_cipher: bool,
    /// RC4.
    pub rc4: bool,
    /// Single DES (56 or 40 bits).
    pub des: bool,
    /// Triple DES (SWEET32).
    pub triple_des: bool,
    /// Overall verdict: `insecure`, `weak` or `strong`.
    pub strength: Strength,
}

impl SuiteFacts {
    /// Classifies suite `id` accepted with `protocol`.
    pub fn classify(id: u16, protocol: Protocol) -> Self {
        let code = format!("0x{id:04x}");
        let Some(suite) = TlsCipherSuite::from_id(id) else {
            return Self::unknown(code, protocol);
        };
        let key_exchange = match suite.kx {
            TlsCipherKx::Null => "null",
            TlsCipherKx::Psk => "psk",
            TlsCipherKx::Krb5 => "krb5",
            TlsCipherKx::Srp => "srp",
            TlsCipherKx::Rsa => "rsa",
            TlsCipherKx::Dh => "dh",
            TlsCipherKx::Dhe => "dhe",
            TlsCipherKx::Ecdh => "ecdh",
            TlsCipherKx::Ecdhe => "ecdhe",
            TlsCipherKx::Aecdh => "ecdh",
            TlsCipherKx::Eccpwd => "eccpwd",
            TlsCipherKx::Tls13 => "tls13",
        };
        let name = suite.name.to_string();
        let anonymous = suite.au == TlsCipherAu::Null && suite.kx != TlsCipherKx::Psk
            || name.contains("_anon_");
        let authentication = match suite.au {
            _ if anonymous => "anon",
            TlsCipherAu::Null => "null",
            TlsCipherAu::Psk => "psk",
            TlsCipherAu::Krb5 => "krb5",
            TlsCipherAu::Srp | TlsCipherAu::Srp_Dss | TlsCipherAu::Srp_Rsa => "srp",
            TlsCipherAu::Dss => "dss",
            TlsCipherAu::Rsa => "rsa",
            TlsCipherAu::Dhe => "dhe",
            TlsCipherAu::Ecdsa => "ecdsa",
            TlsCipherAu::Eccpwd => "eccpwd",
            TlsCipherAu::Tls13 => "tls13",
        };
        let encryption = match suite.enc {
            TlsCipherEnc::Null => "null",
            TlsCipherEnc::Des => "des",
            TlsCipherEnc::TripleDes => "3des",
            TlsCipherEnc::Rc2 => "rc2",
            TlsCipherEnc::Rc4 => "rc4",
            TlsCipherEnc::Aria => "aria",
            TlsCipherEnc::Idea => "idea",
            TlsCipherEnc::Seed => "seed",
            TlsCipherEnc::Aes => "aes",
            TlsCipherEnc::Camellia => "camellia",
            TlsCipherEnc::Chacha20_Poly1305 => "chacha20_poly1305",
            TlsCipherEnc::Sm4 => "sm4",
            TlsCipherEnc::Aegis => "aegis",
        };
        let aead = matches!(suite.mac, TlsCipherMac::Aead)
            || matches!(
                suite.enc_mode,
                TlsCipherEncMode::Gcm | TlsCipherEncMode::Ccm
            );
        let mode = match (suite.enc_mode, suite.enc) {
            (TlsCipherEncMode::Gcm, _) => "gcm",
            (TlsCipherEncMode::Ccm, _) => "ccm",
            (TlsCipherEncMode::Cbc, _) => "cbc",
            (_, TlsCipherEnc::Null) => "none",
            _ => "stream",
        };
        let mac = match suite.mac {
            TlsCipherMac::Null => "null",
            TlsCipherMac::HmacMd5 => "md5",
            TlsCipherMac::HmacSha1 => "sha1",
            TlsCipherMac::HmacSha256 => "sha256",
            TlsCipherMac::HmacSha384 => "sha384",
            TlsCipherMac::HmacSha512 => "sha512",
            TlsCipherMac::Aead => "aead",
        };
        // The registry lists ChaCha20-Poly1305 with its 128-bit security level; the key is 256 bits.
        let bits = if suite.enc == TlsCipherEnc::Chacha20_Poly1305 {
            256
        } else {
            suite.enc_size
        };
        let export = name.contains("EXPORT");
        let null_cipher = suite.enc == TlsCipherEnc::Null;
        let forward_secrecy = matches!(
            suite.kx,
            TlsCipherKx::Dhe | TlsCipherKx::Ecdhe | TlsCipherKx::Tls13
        );
        let rc4 = suite.enc == TlsCipherEnc::Rc4;
        let des = suite.enc == TlsCipherEnc::Des;
        let triple_des = suite.enc == TlsCipherEnc::TripleDes;
        let cbc = mode == "cbc";
        let strength = if null_cipher
            || anonymous
            || export
            || rc4
            || des
            || suite.enc == TlsCipherEnc::Rc2
            || bits < 112
        {
            Strength::Insecure
        } else if triple_des
            || cbc
            || !forward_secrecy
            || mac == "md5"
            || matches!(suite.enc, TlsCipherEnc::Idea | TlsCipherEnc::Seed)
            || !aead
        {
            Strength::Weak
        } else {
            Strength::Strong
        };
        Self {
            name,
            code,
            protocol: protocol.key().to_string(),
            key_exchange: key_exchange.to_string(),
            authentication: authentication.to_string(),
            encryption: encryption.to_string(),
            mode: mode.to_string(),
            bits,
            mac: mac.to_string(),
            aead,
            cbc,
            forward_secrecy,
            anonymous,
            export,
            null_cipher,
            rc4,
            des,
            triple_des,
            strength,
        }
    }

    /// Classifies an SSLv2 cipher kind: every SSLv2 suite is insecure.
    pub fn classify_ssl2(kind: u32) -> Self {
        let name = SSL2_CIPHERS.iter().find(|(id, _)| *id == kind).map_or_else(
            || format!("SSL2_0x{kind:06x}"),
            |(_, name)| (*name).to_string(),
        );
        let encryption = if name.contains("RC4") {
            "rc4"
        } else if name.contains("RC2") {
            "rc2"
        } else if name.contains("EDE3") {
            "3des"
        } else if name.contains("DES") {
            "des"
        } else {
            "idea"
        };
        Self {
            code: format!("0x{kind:06x}"),
            protocol: Protocol::Ssl2.key().to_string(),
            key_exchange: "rsa".to_string(),
            authentication: "rsa".to_string(),
            encryption: encryption.to_string(),
            mode: if encryption == "rc4" { "stream" } else { "cbc" }.to_string(),
            bits: if name.contains("EXPORT40") {
                40
            } else if encryption == "des" {
                56
            } else {
                128
            },
            mac: "md5".to_string(),
            aead: false,
            cbc: encryption != "rc4",
            forward_secrecy: false,
            anonymous: false,
            export: name.contains("EXPORT"),
            null_cipher: false,
            rc4: encryption == "rc4",
            des: encryption == "des",
            triple_des: encryption == "3des",
            strength: Strength::Insecure,
            name,
        }
    }

    fn unknown(code: String, protocol: Protocol) -> Self {
        Self {
            name: code.clone(),
            code,
            protocol: protocol.key().to_string(),
            key_exchange: "unknown".to_string(),
            authentication: "unknown".to_string(),
            encryption: "unknown".to_string(),
            mode: "unknown".to_string(),
            bits: 0,
            mac: "unknown".to_string(),
            aead: false,
            cbc: false,
            forward_secrecy: false,
            anonymous: false,
            export: false,
            null_cipher: false,
            rc4: false,
            des: false,
            triple_des: false,
            strength: Strength::Weak,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strength(id: u16) -> Strength {
        SuiteFacts::classify(id, Protocol::Tls1_2).strength
    }

    #[test]
    fn strong_suites() {
        for id in [0xc02f, 0xc02b, 0xcca8, 0x009e, 0x1301, 0x1303] {
            assert_eq!(strength(id), Strength::Strong, "{id:#x}");
        }
        let chacha = SuiteFacts::classify(0xcca8, Protocol::Tls1_2);
        assert_eq!(
            (chacha.bits, chacha.mode.as_str(), chacha.aead),
            (256, "stream", true)
        );
    }

    #[test]
    fn weak_suites() {
        // CBC with FS, RSA key exchange, 3DES.
        for id in [0xc013, 0x009c, 0x002f, 0x000a] {
            assert_eq!(strength(id), Strength::Weak, "{id:#x}");
        }
        let rsa_gcm = SuiteFacts::classify(0x009c, Protocol::Tls1_2);
        assert!(!rsa_gcm.forward_secrecy && rsa_gcm.aead);
        assert!(SuiteFacts::classify(0x000a, Protocol::Tls1_0).triple_des);
    }

    #[test]
    fn insecure_suites() {
        for id in [
            0x0000, 0x0001, 0x0003, 0x0005, 0x0009, 0x0018, 0xc016, 0x0034,
        ] {
            assert_eq!(strength(id), Strength::Insecure, "{id:#x}");
        }
        assert!(SuiteFacts::classify(0x0005, Protocol::Tls1_0).rc4);
        assert!(SuiteFacts::classify(0x0003, Protocol::Tls1_0).export);
        assert!(SuiteFacts::classify(0x0034, Protocol::Tls1_0).anonymous);
        assert!(SuiteFacts::classify(0x0001, Protocol::Tls1_0).null_cipher);
        assert!(SuiteFacts::classify(0x0009, Protocol::Tls1_0).des);
    }

    #[test]
    fn ssl2_and_unknown() {
        let ssl2 = SuiteFacts::classify_ssl2(0x0700c0);
        assert_eq!(ssl2.name, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5");
        assert!(ssl2.triple_des);
        assert_eq!(ssl2.strength, Strength::Insecure);
        assert_eq!(
            SuiteFacts::classify(0xfafa, Protocol::Tls1_2).name,
            "0xfafa"
        );
    }
}
