//! Well-known finite-field Diffie-Hellman primes, identified by the SHA-256 of the prime a
//! server sent in its ServerKeyExchange (`evidence::tls::KeyExchangeInfo::Dhe::prime_sha256`).
//!
//! Logjam's precomputation attack pays off against primes many servers share: one computation
//! per prime breaks every connection that uses it, and a 1024-bit prime is within reach of a
//! state-level budget (Adrian et al., "Imperfect Forward Secrecy", 2015). Knowing that a prime
//! is a published one lets the Logjam verdict say so by name; a well-known prime of 2048 bits or
//! more (RFC 3526, RFC 7919) is fine and only named.
//!
//! The table holds hashes, not primes. The unit tests re-derive every RFC 2409, RFC 3526 and
//! RFC 7919 prime from its defining formula (the RFCs give them as `2^n - 2^(n-64) - 1 +
//! 2^64 * (floor(2^(n-130) * pi) + k)` and the `e` variant) and check the hashes; the RFC 5114
//! groups are checked against OpenSSL's built-in named groups by an integration test. This module
//! only looks values up: `facts::vulns` judges.

/// One published prime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownPrime {
    /// Where it is published, e.g. `RFC 3526 group 14 (2048-bit MODP)`.
    pub name: &'static str,
    /// Size in bits.
    pub bits: u32,
    /// SHA-256 of the prime's big-endian bytes (no leading zero byte), lower-case hex.
    pub sha256: &'static str,
}

const fn prime(name: &'static str, bits: u32, sha256: &'static str) -> KnownPrime {
    KnownPrime { name, bits, sha256 }
}

/// Every prime the table knows, smallest first within each source.
pub const KNOWN_PRIMES: [KnownPrime; 18] = [
    prime(
        "RFC 2409 Oakley group 1 (768-bit MODP)",
        768,
        "b52ba6a3026520a6c49d37e4587601801bee500123b3259b6bf03e7cecc3e63d",
    ),
    prime(
        "RFC 2409 Oakley group 2 (1024-bit MODP)",
        1024,
        "3f35a3f5f6c4376a744acad409bb22f8d897f949d2311d885adaa890981b67a0",
    ),
    prime(
        "RFC 3526 group 5 (1536-bit MODP)",
        1536,
        "64fcc83ec403930bf18393dbc883ccaa1fbb08ac876f77f7aa99748ca945019b",
    ),
    prime(
        "RFC 3526 group 14 (2048-bit MODP)",
        2048,
        "d66436f79bbd6b2e38c0ffbd079be904d2641415e2e67140e09448be9a60890e",
    ),
    prime(
        "RFC 3526 group 15 (3072-bit MODP)",
        3072,
        "48cf8b092fbce4359d9871abf74f98e25b6163379eaa15cd9087e800c6d1c55c",
    ),
    prime(
        "RFC 3526 group 16 (4096-bit MODP)",
        4096,
        "4ee95187682bcb230ad26a95205f6920e84708f6251b3894329b09ec23919e33",
    ),
    prime(
        "RFC 3526 group 17 (6144-bit MODP)",
        6144,
        "d1bfe6d0925ce7e4da262b62861514a7755e35831e429f343e7b864848657efd",
    ),
    prime(
        "RFC 3526 group 18 (8192-bit MODP)",
        8192,
        "39ab4feab950a3128fb71accb9fc3965d857012e081998a85996e3ea8b3c3bcf",
    ),
    prime(
        "RFC 5114 1024-bit MODP group with 160-bit prime order subgroup",
        1024,
        "44c55cfee5c075927cf682da5b681bdecbd5c3eb0784c14f5dce7610f0ef133d",
    ),
    prime(
        "RFC 5114 2048-bit MODP group with 224-bit prime order subgroup",
        2048,
        "bfe545862ca102ad1eeddb5fbfa5bf855ac4995c56a8b408ce3fe099dce93a9d",
    ),
    prime(
        "RFC 5114 2048-bit MODP group with 256-bit prime order subgroup",
        2048,
        "0b7835722cb619827610c2549fdda5587421686c4409a13865e76225522ddcc9",
    ),
    prime(
        "RFC 7919 ffdhe2048",
        2048,
        "9cd3b7f336872f46c09428d1bbc19877a4d440512cda8d1c1cf0cd6e33698966",
    ),
    prime(
        "RFC 7919 ffdhe3072",
        3072,
        "0eaf67db3a839156d5013494a5318a772b5697d270d721f37f092efc69ea5a17",
    ),
    prime(
        "RFC 7919 ffdhe4096",
        4096,
        "4648414224ac881b3d0dc59b466f96d06a558278776807797ecf1f66ff397b3e",
    ),
    prime(
        "RFC 7919 ffdhe6144",
        6144,
        "227ac9066b3ddd9e193670cda2388fa884f65ba0cf98b742d1fe77a6687c79c7",
    ),
    prime(
        "RFC 7919 ffdhe8192",
        8192,
        "770b14efaf6f049929c523113b3fa99a8d11dab1b18af3609590122075d19833",
    ),
    // The 1024-bit defaults compiled into servers, used when no DH parameters were configured:
    // Apache httpd 2.2 mod_ssl (`ssl_engine_dh.c`, `dh1024_p`) and nginx before 1.11.0
    // (`ngx_event_openssl.c`, `dh1024_p`; also carried by forks such as Tengine and Swoole).
    prime(
        "Apache httpd 2.2 mod_ssl built-in 1024-bit group",
        1024,
        "bf910d9df4e0b2e76cda7443f592aa118e33ba2c224ebc27fb8978d873c8c2e3",
    ),
    prime(
        "nginx (before 1.11) built-in 1024-bit group",
        1024,
        "8ae47dca3d24e9b64640062686da234dcabada26b0da6f090c5449c1338d9a11",
    ),
];

/// The published prime with this SHA-256 (lower-case hex, as evidence records it), if any.
pub fn known_prime(sha256: &str) -> Option<&'static KnownPrime> {
    KNOWN_PRIMES
        .iter()
        .find(|p| p.sha256.eq_ignore_ascii_case(sha256))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::tls::dh_prime_sha256 as prime_sha256;
    use num_bigint::BigUint;

    /// `floor(x * 2^bits)` for x = pi (Machin's formula) or e (sum of 1/k!), with 64 guard bits.
    fn pi_fixed(bits: u32) -> BigUint {
        let one = BigUint::from(1u8) << (bits + 64);
        let arctan_inverse = |x: u32| {
            let (mut sum, mut negative) = (BigUint::from(0u8), BigUint::from(0u8));
            let mut term = &one / x;
            let mut n = 1u32;
            while term > BigUint::from(0u8) {
                if n % 4 == 1 {
                    sum += &term / n;
                } else {
                    negative += &term / n;
                }
                term /= x * x;
                n += 2;
            }
            sum - negative
        };
        (arctan_inverse(5) * 16u32 - arctan_inverse(239) * 4u32) >> 64
    }

    fn e_fixed(bits: u32) -> BigUint {
        let mut term = BigUint::from(1u8) << (bits + 64);
        let mut sum = BigUint::from(0u8);
        let mut k = 1u32;
        while term > BigUint::from(0u8) {
            sum += &term;
            term /= k;
            k += 1;
        }
        sum >> 64
    }

    fn two_to(n: u32) -> BigUint {
        BigUint::from(1u8) << n
    }

    /// RFC 2409 section 6 / RFC 3526: 2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) pi) + k).
    fn modp(n: u32, k: u32) -> BigUint {
        two_to(n) - two_to(n - 64) - 1u8 + two_to(64) * (pi_fixed(n - 130) + k)
    }

    /// RFC 7919 appendix A: 2^b - 2^(b-64) + (floor(2^(b-130) e) + X) * 2^64 - 1.
    fn ffdhe(b: u32, x: u32) -> BigUint {
        two_to(b) - two_to(b - 64) + (e_fixed(b - 130) + x) * two_to(64) - 1u8
    }

    fn check(name: &str, prime: &BigUint) {
        let hash = prime_sha256(&prime.to_bytes_be());
        let known = known_prime(&hash).unwrap_or_else(|| panic!("{name}: {hash} not in table"));
        assert_eq!(u64::from(known.bits), prime.bits(), "{name}");
        assert!(known.name.contains(name), "{name} is {}", known.name);
    }

    #[test]
    fn rfc_primes_derived_from_their_formulas_are_in_the_table() {
        // The k of RFC 2409 section 6.1/6.2 and RFC 3526 sections 2-7; X of RFC 7919 A.1-A.5.
        for (name, n, k) in [
            ("group 1 ", 768, 149_686),
            ("group 2 ", 1024, 129_093),
            ("group 5 ", 1536, 741_804),
            ("group 14 ", 2048, 124_476),
            ("group 15 ", 3072, 1_690_314),
            ("group 16 ", 4096, 240_904),
            ("group 17 ", 6144, 929_484),
            ("group 18 ", 8192, 4_743_158),
        ] {
            check(name, &modp(n, k));
        }
        for (name, b, x) in [
            ("ffdhe2048", 2048, 560_316),
            ("ffdhe3072", 3072, 2_625_351),
            ("ffdhe4096", 4096, 5_736_041),
            ("ffdhe6144", 6144, 15_705_020),
            ("ffdhe8192", 8192, 10_965_728),
        ] {
            check(name, &ffdhe(b, x));
        }
    }

    #[test]
    fn server_defaults_are_safe_primes_in_the_table() {
        // The `dh1024_p` arrays of Apache httpd 2.2 mod_ssl and of nginx before 1.11.
        for (name, hex) in [
            (
                "Apache",
                "D67DE440CBBBDC1936D693D34AFD0AD50C84D239A45F520BB88174CB98BCE951849F912E639C72FB13B4B4D7177E16D55AC179BA420B2A29FE324A467A635E81FF5901377BEDDCFD33168A461AAD3B72DAE8860078045B07A7DBCA7874087D1510EA9FCC9DDD330507DD62DB88AEAA747DE0F4D6E2BD68B0E7393E0F24218EB3",
            ),
            (
                "nginx",
                "BBBC2DCAD84674907C43FCF580E9CFDBD958A3F568B42D4B08EED4EB0FB3504C6C030276E710800C5CCBBAA8922614C5BEECA565A5FDF1D287A2BC049BE6778060E91A92A757E3048F68B076F7D36CC8F29BA5DF81DC2CA725ECE66270CC9A5035D8CECEEF9EA0274A63AB1E58FAFD4988D0F65D146757DA071DF045CFE16B9B",
            ),
        ] {
            let p = BigUint::parse_bytes(hex.as_bytes(), 16).unwrap();
            // Fermat tests of p and (p-1)/2 with base 2: a typo in the digits would fail them.
            let one = BigUint::from(1u8);
            let q = (&p - &one) >> 1;
            assert_eq!(BigUint::from(2u8).modpow(&(&p - &one), &p), one, "{name}");
            assert_eq!(BigUint::from(2u8).modpow(&(&q - &one), &q), one, "{name}");
            check(name, &p);
        }
    }

    #[test]
    fn leading_zero_bytes_do_not_change_the_hash() {
        assert_eq!(prime_sha256(&[0, 0, 0xab, 1]), prime_sha256(&[0xab, 1]));
        assert!(known_prime(&"0".repeat(64)).is_none());
        let hashes: std::collections::BTreeSet<&str> =
            KNOWN_PRIMES.iter().map(|p| p.sha256).collect();
        assert_eq!(hashes.len(), KNOWN_PRIMES.len(), "no prime listed twice");
    }
}
