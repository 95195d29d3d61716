//! Product and version disclosures: the `Server`, `X-Powered-By` and `X-AspNet-Version` headers,
//! the HTML generator meta tag, and the SSH, SMTP and FTP greetings of the port scan, each parsed
//! into product + version and judged against the end-of-life table.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::eol;

/// One disclosed product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BannerFacts {
    /// `product version`, for reports.
    pub name: String,
    /// Where it was seen: `http.server`, `http.x_powered_by`, `http.x_aspnet_version`,
    /// `html.generator`, `ssh`, `smtp`, `ftp`.
    pub source: String,
    /// The text it was read from, as received (one line).
    pub raw: String,
    /// Product, lower-case as written in the banner (`nginx`, `apache`, `php`, `openssh`,
    /// `microsoft-iis`, `openssl`, `wordpress`, `exim`, …).
    pub product: String,
    /// The version as written (`1.18.0`, `8.1.2`, `9.6p1`); absent when none is disclosed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The version's release series had left security support on the audit date (per the
    /// vendored end-of-life table); absent when the product or series is not in the table, or
    /// no version is disclosed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_life: Option<bool>,
    /// When the series' support ended or ends (ISO date), when the table has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eol_date: Option<String>,
}

/// A product token: `name[/version]`, or `name version` for greetings.
fn banner(
    source: &str,
    raw: &str,
    product: &str,
    version: Option<&str>,
    today: &str,
) -> BannerFacts {
    let product = product.to_ascii_lowercase();
    let version = version
        .map(|v| v.trim_matches(|c: char| c == '(' || c == ')' || c == ','))
        .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(str::to_string);
    let verdict = version
        .as_deref()
        .and_then(|v| eol::judge(&product, v, today));
    BannerFacts {
        name: match &version {
            Some(v) => format!("{product} {v}"),
            None => product.clone(),
        },
        source: source.to_string(),
        raw: first_line(raw),
        product,
        version,
        end_of_life: verdict.as_ref().map(|v| v.end_of_life),
        eol_date: verdict.and_then(|v| v.eol_date),
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    line.chars().take(200).collect()
}

/// Products of a `Server` or `X-Powered-By` value: `Apache/2.4.6 (CentOS) OpenSSL/1.0.2k-fips
/// PHP/5.4.16` gives three; comments in parentheses are skipped.
pub fn from_header(source: &str, value: &str, today: &str) -> Vec<BannerFacts> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    for token in value.split([' ', ',', ';']).filter(|t| !t.is_empty()) {
        let opens = token.matches('(').count();
        let closes = token.matches(')').count();
        let inside = depth > 0 || token.starts_with('(');
        depth = (depth + opens).saturating_sub(closes);
        if inside {
            continue;
        }
        let (product, version) = match token.split_once('/') {
            Some((p, v)) => (p, Some(v)),
            None => (token, None),
        };
        if product.is_empty() || !product.chars().next().is_some_and(char::is_alphabetic) {
            continue;
        }
        out.push(banner(source, value, product, version, today));
        if out.len() >= 8 {
            break;
        }
    }
    out
}

/// `X-AspNet-Version: 4.0.30319`.
pub fn from_aspnet(value: &str, today: &str) -> BannerFacts {
    banner(
        "http.x_aspnet_version",
        value,
        "asp.net",
        Some(value.trim()),
        today,
    )
}

/// `<meta name="generator" content="WordPress 6.4.2">`: the first word is the product, a
/// following word starting with a digit its version.
pub fn from_generator(content: &str, today: &str) -> Option<BannerFacts> {
    let mut words = content.split_whitespace();
    let product = words.next()?;
    let version = words.next();
    Some(banner("html.generator", content, product, version, today))
}

/// The SSH identification string: `SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13`.
pub fn from_ssh(identification: &str, today: &str) -> Option<BannerFacts> {
    let software = identification
        .strip_prefix("SSH-")?
        .split_once('-')?
        .1
        .split_whitespace()
        .next()?;
    let (product, version) = match software.split_once('_') {
        Some((p, v)) => (p, Some(v)),
        None => (software, None),
    };
    Some(banner("ssh", identification, product, version, today))
}

/// Known products in SMTP and FTP greetings (`220 mx.test ESMTP Exim 4.94.2 …`, `220 ProFTPD
/// 1.3.5 Server`, `220 (vsFTPd 3.0.3)`).
pub fn from_greeting(source: &str, greeting: &str, today: &str) -> Option<BannerFacts> {
    const KNOWN: [&str; 8] = [
        "exim",
        "postfix",
        "sendmail",
        "proftpd",
        "vsftpd",
        "pure-ftpd",
        "filezilla",
        "microsoft",
    ];
    let line = first_line(greeting);
    let words: Vec<&str> = line.split_whitespace().collect();
    let (index, product) = words.iter().enumerate().find_map(|(i, w)| {
        let clean = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
        KNOWN
            .iter()
            .any(|k| clean.eq_ignore_ascii_case(k))
            .then_some((i, clean))
    })?;
    let version = words.get(index + 1).copied();
    Some(banner(source, greeting, product, version, today))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: &str = "2026-01-15";

    #[test]
    fn server_header_with_several_products() {
        let found = from_header(
            "http.server",
            "Apache/2.4.6 (CentOS) OpenSSL/1.0.2k-fips PHP/5.4.16",
            TODAY,
        );
        let names: Vec<&str> = found.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["apache 2.4.6", "openssl 1.0.2k-fips", "php 5.4.16"]);
        assert_eq!(found[0].end_of_life, Some(false));
        assert_eq!(found[1].end_of_life, Some(true));
        assert_eq!(found[2].eol_date.as_deref(), Some("2015-09-03"));
    }

    #[test]
    fn product_without_version_is_not_judged() {
        let found = from_header("http.server", "cloudflare", TODAY);
        assert_eq!(found[0].product, "cloudflare");
        assert_eq!(found[0].version, None);
        assert_eq!(found[0].end_of_life, None);
        assert!(from_header("http.server", "(none) 1.2", TODAY).is_empty());
    }

    #[test]
    fn ssh_and_greetings() {
        let ssh = from_ssh("SSH-2.0-OpenSSH_7.4 Debian", TODAY).unwrap();
        assert_eq!(
            (ssh.product.as_str(), ssh.version.as_deref()),
            ("openssh", Some("7.4"))
        );
        assert_eq!(ssh.end_of_life, Some(true));
        assert!(from_ssh("HTTP/1.1 400", TODAY).is_none());
        let smtp = from_greeting("smtp", "220 mx.test ESMTP Exim 4.94.2 Mon\r\n", TODAY).unwrap();
        assert_eq!(smtp.name, "exim 4.94.2");
        let ftp = from_greeting("ftp", "220 (vsFTPd 3.0.3)", TODAY).unwrap();
        assert_eq!(ftp.name, "vsftpd 3.0.3");
        assert!(from_greeting("smtp", "220 mx.test ESMTP", TODAY).is_none());
        let generator = from_generator("WordPress 6.4.2", TODAY).unwrap();
        assert_eq!(generator.name, "wordpress 6.4.2");
        assert_eq!(generator.end_of_life, None);
    }
}
