//! `secaudit demo`: a deliberately imperfect local site, audited with the built-in packs.
//!
//! The site (see [`demo_site`]) redirects HTTP to HTTPS but sends a HSTS header shorter than a year, no
//! Content-Security-Policy, a version-revealing `Server` header and one insecure session cookie,
//! and serves TLS 1.2 only. A second, legacy endpoint ([`legacy_endpoint`]) still speaks TLS 1.0
//! with CBC, 3DES and RC4 suites — so the report shows passes, failures and the reasons side by
//! side. An in-process DNS server ([`demo_zone`]) answers for `.test`, so the mail records are
//! judged too: the site's domain has SPF with `~all`, DMARC at `p=none` with an unauthorised
//! external report address, a 2048-bit DKIM key at the `default` selector and a TLS-RPT record;
//! the legacy host is a correctly parked domain (null MX, `v=spf1 -all`, DMARC `p=reject`).
//! The site's MX host ([`mx_endpoint`]) speaks SMTP with STARTTLS (TLS 1.2 and 1.3) and has a
//! DANE-EE TLSA record in the signed zone ([`demo_tlsa`]), so the mail servers' TLS is judged as
//! well.

use crate::lab::LabError;
use crate::lab::certs::LabSct;
use crate::lab::dns::LabZone;
use crate::lab::legacy::LegacyConfig;
use crate::lab::starttls::{Backend, StarttlsSite, Upgrade};
use crate::lab::{LabCert, LabSite, LabTls, Reply};
use crate::tls_registry::Protocol;

/// Host name the demo site answers as (never resolved: `--connect` overrides point it at 127.0.0.1).
pub const DEMO_HOST: &str = "demo.secaudit.test";

/// The demo site's configuration.
pub fn demo_site() -> LabSite {
    LabSite {
        host: DEMO_HOST.to_string(),
        http: Reply::redirect(&format!("https://{DEMO_HOST}/")),
        https: Reply::page(
            "<!doctype html><title>Demo shop</title><h1>Demo shop</h1><p>Deliberately imperfect.</p>",
        )
        .header("strict-transport-security", "max-age=15768000; includeSubDomains")
        .header("x-frame-options", "SAMEORIGIN")
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "strict-origin-when-cross-origin")
        .header("server", "nginx/1.18.0")
        .header("set-cookie", "sessionid=8f2c1e; Path=/")
        .header("set-cookie", "__Host-csrf=71ab; Path=/; Secure; HttpOnly; SameSite=Strict"),
        tls: LabTls {
            versions: vec![Protocol::Tls1_2],
            // Real embedded SCTs from two demo logs, which the demo adds to its CT log list.
            cert: LabCert {
                scts: vec![LabSct::valid("Demo CT operator A"), LabSct::valid("Demo CT operator B")],
                ocsp: Some(crate::lab::certs::LabOcsp::default()),
                ..LabCert::default()
            },
            ..LabTls::default()
        },
    }
}

/// Host name of the demo's legacy TLS endpoint.
pub const LEGACY_HOST: &str = "legacy.secaudit.test";

/// The legacy endpoint: TLS 1.0 to 1.2 with CBC, 3DES and RC4 suites, as an old appliance would
/// serve them (it speaks no HTTP: only its TLS is judged).
pub fn legacy_endpoint() -> LegacyConfig {
    LegacyConfig {
        versions: vec![Protocol::Tls1_0, Protocol::Tls1_1, Protocol::Tls1_2],
        suites: vec![0xc02f, 0xc013, 0x0035, 0x002f, 0x000a, 0x0005],
        honours_fallback_scsv: false,
        ..LegacyConfig::default()
    }
}

/// The demo site's MX host (never resolved: a `--connect` override points its port 25 at the
/// lab).
pub const DEMO_MX: &str = "mx1.secaudit.test";

/// The demo's MX host: SMTP with STARTTLS, then rustls with TLS 1.2 and 1.3.
pub fn mx_endpoint() -> StarttlsSite {
    StarttlsSite {
        protocol: crate::evidence::StarttlsProtocol::Smtp,
        host: DEMO_MX.to_string(),
        upgrade: Upgrade::Offers,
        backend: Backend::Rustls(LabTls::default()),
    }
}

/// Adds the DANE-EE TLSA record (`3 1 1`, the SHA-256 of the key) of the MX host's certificate
/// `leaf` (DER) to `zone`.
pub fn demo_tlsa(zone: LabZone, leaf: &[u8]) -> Result<LabZone, LabError> {
    let data = crate::facts::mail::dane::association(leaf, 1, 1)
        .ok_or_else(|| LabError::Dns("the MX certificate does not parse".to_string()))?;
    zone.tlsa(&format!("_25._tcp.{DEMO_MX}."), 3, 1, 1, data)
}

/// Origin of the demo's DNS zone.
pub const DEMO_ZONE: &str = "test.";

/// The demo's DNS zone (`test.`): the mail records of [`DEMO_HOST`] and [`LEGACY_HOST`].
/// `dkim_key` is the DER SubjectPublicKeyInfo published at the `default` selector.
pub fn demo_zone(dkim_key: &[u8]) -> Result<LabZone, LabError> {
    LabZone::new(DEMO_ZONE)?
        .mx(&format!("{DEMO_HOST}."), 10, "mx1.secaudit.test.")?
        .a("mx1.secaudit.test.", std::net::Ipv4Addr::new(192, 0, 2, 25))?
        .txt(
            &format!("{DEMO_HOST}."),
            "v=spf1 mx include:_spf.secaudit.test ~all",
        )?
        .txt("_spf.secaudit.test.", "v=spf1 ip4:192.0.2.0/24 -all")?
        .txt(
            &format!("_dmarc.{DEMO_HOST}."),
            "v=DMARC1; p=none; rua=mailto:dmarc@reports.example.test",
        )?
        .txt(
            &format!("default._domainkey.{DEMO_HOST}."),
            &format!(
                "v=DKIM1; k=rsa; p={}",
                crate::evidence::encode_bytes(dkim_key)
            ),
        )?
        .txt(
            &format!("_smtp._tls.{DEMO_HOST}."),
            "v=TLSRPTv1; rua=mailto:tls-reports@secaudit.test",
        )?
        .mx(&format!("{LEGACY_HOST}."), 0, ".")?
        .txt(&format!("{LEGACY_HOST}."), "v=spf1 -all")?
        .txt(&format!("_dmarc.{LEGACY_HOST}."), "v=DMARC1; p=reject")
}
