//! A real RSA key for the scripted legacy responder's RSA key exchange: raw decryption and a
//! PKCS#1 v1.5 padding check, so the ROBOT tests face an honest padding oracle (or an honest
//! absence of one), not a responder that recognises the probe's bytes.

use num_bigint::BigUint;
use x509_parser::der_parser::ber::BerObject;
use x509_parser::der_parser::parse_der;

use super::LabError;

/// An RSA private key with a self-signed certificate for it.
#[derive(Debug, Clone)]
pub struct LabRsaKey {
    n: BigUint,
    d: BigUint,
    /// The certificate, DER, for the names it was generated for.
    pub certificate: Vec<u8>,
}

impl LabRsaKey {
    /// Generates a 2048-bit key and a self-signed certificate for `host`.
    pub fn generate(host: &str) -> Result<Self, LabError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)?;
        let certificate = rcgen::CertificateParams::new(vec![host.to_string()])?
            .self_signed(&key)?
            .der()
            .to_vec();
        let (n, d) = rsa_private_numbers(&key.serialize_der())
            .ok_or_else(|| LabError::Rsa("cannot read the generated PKCS#8 key".into()))?;
        Ok(Self { n, d, certificate })
    }

    /// Size of the modulus in bytes.
    pub fn len(&self) -> usize {
        usize::try_from(self.n.bits().div_ceil(8)).unwrap_or(usize::MAX)
    }

    /// Whether the modulus is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Raw RSA decryption `c^d mod n`, left-padded to the modulus length.
    pub fn decrypt_raw(&self, ciphertext: &[u8]) -> Vec<u8> {
        let m = BigUint::from_bytes_be(ciphertext).modpow(&self.d, &self.n);
        let bytes = m.to_bytes_be();
        let mut out = vec![0; self.len().saturating_sub(bytes.len())];
        out.extend_from_slice(&bytes);
        out
    }
}

/// The premaster secret of a PKCS#1 v1.5 encryption block (RFC 8017 section 7.2.2 plus the
/// 48-byte length TLS requires), or `None` when the block does not conform.
pub fn premaster_secret(block: &[u8]) -> Option<&[u8]> {
    let rest = block.strip_prefix(&[0x00, 0x02])?;
    let separator = rest.iter().position(|b| *b == 0)?;
    let secret = &rest[separator + 1..];
    (separator >= 8 && secret.len() == 48).then_some(secret)
}

/// `(n, d)` of a PKCS#8 RSA private key (RFC 5208 `PrivateKeyInfo` around RFC 8017
/// `RSAPrivateKey`).
fn rsa_private_numbers(pkcs8: &[u8]) -> Option<(BigUint, BigUint)> {
    let (_, info) = parse_der(pkcs8).ok()?;
    let inner = info.as_sequence().ok()?.get(2)?.as_slice().ok()?;
    let (_, key) = parse_der(inner).ok()?;
    let fields = key.as_sequence().ok()?;
    let integer = |field: &BerObject<'_>| field.as_slice().ok().map(BigUint::from_bytes_be);
    Some((integer(fields.get(1)?)?, integer(fields.get(3)?)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::tls::robot::{RsaPublicKey, padded_blocks};

    #[test]
    fn the_probes_blocks_decrypt_to_what_was_padded() {
        let key = LabRsaKey::generate("robot.test").unwrap();
        let public = RsaPublicKey::from_certificate(&key.certificate).unwrap();
        assert_eq!(public.len(), key.len());
        let blocks = padded_blocks(key.len(), 0x0303).unwrap();
        let conforming: Vec<bool> = blocks
            .iter()
            .map(|block| {
                let decrypted = key.decrypt_raw(&public.encrypt_raw(block));
                assert_eq!(&decrypted, block);
                premaster_secret(&decrypted).is_some()
            })
            .collect();
        // Only the correct block and the one with a wrong version inside conform to PKCS#1.
        assert_eq!(conforming, [true, false, false, false, true]);
    }

    #[test]
    fn padding_check() {
        let mut block = vec![0, 2];
        block.extend([9; 8]);
        block.push(0);
        block.extend([1; 48]);
        assert_eq!(premaster_secret(&block).map(<[u8]>::len), Some(48));
        block[5] = 0; // separator after only three padding bytes
        assert_eq!(premaster_secret(&block), None);
        assert_eq!(premaster_secret(&[0, 2]), None);
        assert_eq!(premaster_secret(&[]), None);
    }
}
