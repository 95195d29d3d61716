//! DKIM key records (RFC 6376 section 3.6.1, RFC 8463 for Ed25519): the tags, and the key type
//! and size read from the key itself.
//!
//! An RSA key (`k=rsa`, the default) is a base64 SubjectPublicKeyInfo; its size is the modulus
//! length. An Ed25519 key is the raw 32-byte public key. An empty `p=` means the key was revoked.

use super::tags;

/// What a key record says about its key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DkimKey {
    /// `k`: `rsa` (default) or `ed25519`, as written.
    pub key_type: String,
    /// Key size in bits (RSA modulus, 256 for Ed25519); absent when the key could not be read.
    pub key_bits: Option<u32>,
    /// `p=` is empty: the key is revoked.
    pub revoked: bool,
    /// `t=y`: the domain is testing DKIM.
    pub testing: bool,
    /// `t=s`: the identity must match the domain exactly (no subdomains).
    pub strict: bool,
    /// `h`: hash algorithms the key may be used with (empty: any).
    pub hash_algorithms: Vec<String>,
    /// `s`: service types (default `*`).
    pub service_types: Vec<String>,
    /// Syntax errors and unreadable keys.
    pub errors: Vec<String>,
}

/// Whether TXT text could be a DKIM key record: it starts with `v=DKIM1` or, since `v` is
/// optional, holds a `p=` tag.
pub fn is_key_record(text: &str) -> bool {
    let list = tags::parse(text);
    match list.tags.first() {
        Some(tag) if tag.name == "v" => tag.value == "DKIM1",
        _ => list.get("p").is_some(),
    }
}

/// Parses a key record's text.
pub fn parse(text: &str) -> DkimKey {
    let list = tags::parse(text);
    let mut key = DkimKey {
        key_type: "rsa".into(),
        service_types: vec!["*".into()],
        errors: list.errors.clone(),
        ..DkimKey::default()
    };
    for name in &list.duplicates {
        key.errors
            .push(format!("tag `{name}` appears more than once"));
    }
    if let Some(position) = list.tags.iter().position(|t| t.name == "v") {
        if position != 0 {
            key.errors.push("`v` must be the first tag".into());
        }
        if list.tags[position].value != "DKIM1" {
            key.errors.push(format!(
                "`v={}`: the only version is DKIM1",
                list.tags[position].value
            ));
        }
    }
    if let Some(k) = list.get("k") {
        key.key_type = k.to_ascii_lowercase();
    }
    if let Some(h) = list.get("h") {
        key.hash_algorithms = colon_list(h);
        if let Some(bad) = key
            .hash_algorithms
            .iter()
            .find(|h| !matches!(h.as_str(), "sha1" | "sha256"))
        {
            key.errors
                .push(format!("`h`: unknown hash algorithm `{bad}`"));
        }
    }
    if let Some(s) = list.get("s") {
        key.service_types = colon_list(s);
    }
    if let Some(t) = list.get("t") {
        let flags = colon_list(t);
        key.testing = flags.iter().any(|f| f == "y");
        key.strict = flags.iter().any(|f| f == "s");
    }
    match list.get("p") {
        None => key.errors.push("the required tag `p` is missing".into()),
        Some(p) => {
            let compact: String = p.chars().filter(|c| !c.is_whitespace()).collect();
            if compact.is_empty() {
                key.revoked = true;
            } else {
                match decode(&compact) {
                    None => key.errors.push("`p` is not valid base64".into()),
                    Some(bytes) => match key_bits(&key.key_type, &bytes) {
                        Ok(bits) => key.key_bits = Some(bits),
                        Err(message) => key.errors.push(message),
                    },
                }
            }
        }
    }
    key
}

fn colon_list(value: &str) -> Vec<String> {
    value
        .split(':')
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

fn decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// The key size of `bytes` for key type `key_type`.
fn key_bits(key_type: &str, bytes: &[u8]) -> Result<u32, String> {
    match key_type {
        "ed25519" => {
            if bytes.len() == 32 {
                Ok(256)
            } else {
                Err(format!(
                    "an Ed25519 key is 32 bytes, `p` holds {}",
                    bytes.len()
                ))
            }
        }
        "rsa" => {
            use x509_parser::prelude::FromDer;
            use x509_parser::public_key::PublicKey;
            let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(bytes)
                .map_err(|_| "`p` is not a DER SubjectPublicKeyInfo".to_string())?;
            match spki.parsed() {
                Ok(PublicKey::RSA(rsa)) => Ok(modulus_bits(rsa.modulus)),
                _ => Err("`p` is not an RSA public key".to_string()),
            }
        }
        other => Err(format!("unknown key type `k={other}`")),
    }
}

/// Bits of a big-endian unsigned integer, leading zero bytes ignored.
fn modulus_bits(modulus: &[u8]) -> u32 {
    let significant: &[u8] = match modulus.iter().position(|b| *b != 0) {
        Some(index) => &modulus[index..],
        None => &[],
    };
    match significant.first() {
        Some(first) => {
            u32::try_from(significant.len() * 8).unwrap_or(u32::MAX) - first.leading_zeros()
        }
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spki_b64(der: &[u8]) -> String {
        crate::evidence::encode_bytes(der)
    }

    #[test]
    fn reads_rsa_and_ed25519_keys() {
        let rsa = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let key = parse(&format!(
            "v=DKIM1; k=rsa; p={}",
            spki_b64(&rcgen::PublicKeyData::subject_public_key_info(&rsa))
        ));
        assert_eq!(key.key_bits, Some(2048), "{:?}", key.errors);
        assert!(key.errors.is_empty() && !key.revoked && !key.testing);
        let ed = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let key = parse(&format!(
            "v=DKIM1; k=ed25519; t=y:s; h=sha256; p={}",
            spki_b64(ed.public_key_raw())
        ));
        assert_eq!(key.key_type, "ed25519");
        assert_eq!(key.key_bits, Some(256));
        assert!(key.testing && key.strict);
        assert_eq!(key.hash_algorithms, ["sha256"]);
    }

    #[test]
    fn revoked_and_broken_keys() {
        let revoked = parse("v=DKIM1; p=");
        assert!(revoked.revoked && revoked.errors.is_empty());
        assert!(parse("v=DKIM1; k=rsa").errors[0].contains("`p` is missing"));
        assert!(parse("v=DKIM1; p=!!!").errors[0].contains("base64"));
        assert!(parse("v=DKIM1; p=AAAA").errors[0].contains("SubjectPublicKeyInfo"));
        assert!(parse("v=DKIM1; k=ed25519; p=AAAA").errors[0].contains("32 bytes"));
        assert!(parse("v=DKIM1; k=dsa; p=AAAA").errors[0].contains("unknown key type"));
        assert!(parse("v=DKIM2; p=").errors[0].contains("DKIM1"));
        assert!(parse("p=; v=DKIM1").errors[0].contains("first tag"));
        assert!(parse("v=DKIM1; h=md5; p=").errors[0].contains("md5"));
    }

    #[test]
    fn recognises_key_records() {
        assert!(is_key_record("v=DKIM1; p=abc"));
        assert!(is_key_record("k=rsa; p=abc"));
        assert!(!is_key_record("v=spf1 -all"));
        assert!(!is_key_record("v=DKIM2; p=abc"));
        assert_eq!(modulus_bits(&[0, 0x80, 0]), 16);
        assert_eq!(modulus_bits(&[0x01, 0]), 9);
        assert_eq!(modulus_bits(&[]), 0);
    }
}
