//! `secaudit demo`: a deliberately imperfect local site, audited with the built-in packs.
//!
//! The site (see [`demo_site`]) redirects HTTP to HTTPS but sends a HSTS header shorter than a year, no
//! Content-Security-Policy, a version-revealing `Server` header and one insecure session cookie,
//! and serves TLS 1.2 only. A second, legacy endpoint ([`legacy_endpoint`]) still speaks TLS 1.0
//! with CBC, 3DES and RC4 suites — so the report shows passes, failures and the reasons side by
//! side.

use crate::lab::certs::LabSct;
use crate::lab::legacy::LegacyConfig;
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
