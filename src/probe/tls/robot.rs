//! The ROBOT test's messages: the server's RSA public key from its leaf certificate, the five
//! PKCS#1 v1.5 premaster-secret blocks of the standard test (Böck, Somorovsky, Young, "Return Of
//! Bleichenbacher's Oracle Threat", 2018, and its `robot-detect` script), raw RSA encryption, and
//! the ClientKeyExchange + ChangeCipherSpec + garbage Finished records sent after each.
//!
//! Detection only: five blocks, a few repetitions to rule out noise, never the adaptive
//! chosen-ciphertext search of the attack itself.

use num_bigint::BigUint;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use super::wire::Writer;

/// An RSA public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    /// The modulus.
    pub n: BigUint,
    /// The public exponent.
    pub e: BigUint,
}

impl RsaPublicKey {
    /// The RSA key of a DER certificate, if it has one.
    pub fn from_certificate(der: &[u8]) -> Option<Self> {
        let (_, certificate) = X509Certificate::from_der(der).ok()?;
        match certificate.public_key().parsed().ok()? {
            PublicKey::RSA(key) => Some(Self {
                n: BigUint::from_bytes_be(key.modulus),
                e: BigUint::from_bytes_be(key.exponent),
            }),
            _ => None,
        }
    }

    /// Size of the modulus in bits.
    pub fn bits(&self) -> u32 {
        u32::try_from(self.n.bits()).unwrap_or(u32::MAX)
    }

    /// Size of the modulus in bytes.
    pub fn len(&self) -> usize {
        usize::try_from(self.n.bits().div_ceil(8)).unwrap_or(usize::MAX)
    }

    /// Whether the modulus is zero (an unusable key).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Raw RSA: `block^e mod n`, big-endian, left-padded to the modulus length.
    pub fn encrypt_raw(&self, block: &[u8]) -> Vec<u8> {
        let c = BigUint::from_bytes_be(block).modpow(&self.e, &self.n);
        let bytes = c.to_bytes_be();
        let mut out = vec![0; self.len().saturating_sub(bytes.len())];
        out.extend_from_slice(&bytes);
        out
    }
}

/// Smallest modulus, in bytes, that holds a 48-byte premaster secret with eight padding bytes
/// and the three framing bytes (RFC 8017 section 7.2.1).
pub const MIN_MODULUS_BYTES: usize = 48 + 3 + 8;

/// The five premaster-secret blocks (see [`crate::evidence::vuln::ROBOT_VARIANTS`]) for a
/// `k`-byte modulus, with `version` as the premaster secret's client version.
///
/// Returns `None` when `k` is below [`MIN_MODULUS_BYTES`].
pub fn padded_blocks(k: usize, version: u16) -> Option<[Vec<u8>; 5]> {
    if k < MIN_MODULUS_BYTES {
        return None;
    }
    // Non-zero padding and a fixed 46-byte secret: nothing here needs to be unpredictable.
    let padding: Vec<u8> = (0..k - 51)
        .map(|i| if i % 2 == 0 { 0xab } else { 0xcd })
        .collect();
    let secret = [0x5c; 46];
    let [major, minor] = version.to_be_bytes();
    let block = |parts: &[&[u8]]| parts.concat();
    Some([
        block(&[&[0x00, 0x02], &padding, &[0x00, major, minor], &secret]),
        block(&[&[0x41, 0x17], &padding, &[0x00, major, minor], &secret]),
        block(&[&[0x00, 0x02], &padding, &[0x11], &secret, &[0x00, 0x11]]),
        block(&[&[0x00, 0x02], &padding, &[0x11, 0x11, 0x11], &secret]),
        block(&[&[0x00, 0x02], &padding, &[0x00, 0x02, 0x02], &secret]),
    ])
}

/// The records sent after the first flight: ClientKeyExchange carrying `encrypted`, then
/// ChangeCipherSpec and a Finished record of garbage (the server cannot decrypt it whatever
/// the premaster secret was, so a server without an oracle answers every variant alike).
pub fn key_exchange_flight(version: u16, encrypted: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(22).u16(version).prefixed_u16(|w| {
        w.u8(16).prefixed_u24(|w| {
            w.prefixed_u16(|w| {
                w.bytes(encrypted);
            });
        });
    });
    w.bytes(&change_cipher_spec(version));
    w.u8(22).u16(version).prefixed_u16(|w| {
        w.bytes(&[0x5a; 64]);
    });
    w.into_bytes()
}

/// One ChangeCipherSpec record.
pub fn change_cipher_spec(version: u16) -> [u8; 6] {
    let [major, minor] = version.to_be_bytes();
    [20, major, minor, 0, 1, 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_have_the_modulus_length_and_the_standard_shapes() {
        let blocks = padded_blocks(256, 0x0303).unwrap();
        for block in &blocks {
            assert_eq!(block.len(), 256);
        }
        let [correct, first, zero, missing, version] = &blocks;
        assert_eq!(&correct[..2], &[0, 2]);
        assert_eq!(
            &correct[207..210],
            &[0, 3, 3],
            "separator, then the version"
        );
        assert!(correct[2..207].iter().all(|b| *b != 0));
        assert_eq!(&first[..2], &[0x41, 0x17]);
        assert_eq!(&zero[254..], &[0, 0x11]);
        assert!(zero[2..254].iter().all(|b| *b != 0));
        assert!(missing[2..].iter().all(|b| *b != 0));
        assert_eq!(&version[207..210], &[0, 2, 2]);
        assert!(padded_blocks(MIN_MODULUS_BYTES - 1, 0x0303).is_none());
    }

    #[test]
    fn raw_rsa_matches_a_tiny_textbook_key() {
        // n = 61 * 53 = 3233, e = 17: 65^17 mod 3233 = 2790.
        let key = RsaPublicKey {
            n: BigUint::from(3233u32),
            e: BigUint::from(17u32),
        };
        assert_eq!(key.len(), 2);
        assert_eq!(key.encrypt_raw(&[65]), vec![0x0a, 0xe6]);
    }

    #[test]
    fn key_exchange_flight_parses_with_tls_parser() {
        let flight = key_exchange_flight(0x0303, &[7; 128]);
        let (rest, first) = tls_parser::parse_tls_plaintext(&flight).unwrap();
        let [
            tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientKeyExchange(
                tls_parser::TlsClientKeyExchangeContents::Unknown(body),
            )),
        ] = first.msg.as_slice()
        else {
            panic!("{:?}", first.msg)
        };
        assert_eq!(body.len(), 130);
        let (rest, ccs) = tls_parser::parse_tls_plaintext(rest).unwrap();
        assert!(matches!(
            ccs.msg.as_slice(),
            [tls_parser::TlsMessage::ChangeCipherSpec]
        ));
        let (rest, finished) = tls_parser::parse_tls_raw_record(rest).unwrap();
        assert_eq!(finished.data.len(), 64);
        assert!(rest.is_empty());
    }

    #[test]
    fn rsa_key_is_read_from_a_certificate() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["robot.test".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let public = RsaPublicKey::from_certificate(cert.der()).unwrap();
        assert_eq!(public.bits(), 2048);
        assert_eq!(public.e, BigUint::from(65537u32));
        let ec = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["robot.test".to_string()])
            .unwrap()
            .self_signed(&ec)
            .unwrap();
        assert_eq!(RsaPublicKey::from_certificate(cert.der()), None);
    }
}
