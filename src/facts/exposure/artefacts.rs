//! Exposed artefacts: whether each probed path served what its name promises. A hit needs the
//! body (or status and headers) to match the artefact's signature — `ref: refs/` for
//! `.git/HEAD`, `[core]` for `.git/config`, `Bud1` for `.DS_Store`, a password field for an
//! admin page — and the canary path must not match the same signature, so a site that answers
//! every path with one page (a catch-all 200) is never a finding.

use std::sync::LazyLock;

use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::evidence::HttpHop;
use crate::evidence::exposure::PathsEvidence;

/// What an artefact gives away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArtefactKind {
    /// Version-control metadata (source code and history can be downloaded).
    Vcs,
    /// A configuration file with secrets (`.env`).
    Secrets,
    /// File-system metadata (`.DS_Store` lists file names).
    Metadata,
    /// A debug or status page (`phpinfo()`, Apache `server-status`).
    Debug,
    /// An administration login or panel.
    Admin,
}

/// One probed path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ArtefactFacts {
    /// The path, for reports.
    pub name: String,
    /// The path requested.
    pub path: String,
    /// What the artefact is.
    pub kind: ArtefactKind,
    /// The response matched the artefact's signature (and the canary's did not); absent when
    /// the request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<bool>,
    /// HTTP status of the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What matched, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

type Matcher = fn(&HttpHop, &str) -> Option<&'static str>;

/// Signature per path: the kind and the test.
const SIGNATURES: [(&str, ArtefactKind, Matcher); 15] = [
    ("/.git/HEAD", ArtefactKind::Vcs, git_head),
    ("/.git/config", ArtefactKind::Vcs, git_config),
    ("/.svn/entries", ArtefactKind::Vcs, svn_entries),
    ("/.hg/requires", ArtefactKind::Vcs, hg_requires),
    ("/.env", ArtefactKind::Secrets, dotenv),
    ("/.DS_Store", ArtefactKind::Metadata, ds_store),
    ("/server-status", ArtefactKind::Debug, server_status),
    ("/phpinfo.php", ArtefactKind::Debug, phpinfo),
    ("/admin/", ArtefactKind::Admin, admin),
    ("/administrator/", ArtefactKind::Admin, admin),
    ("/wp-admin/", ArtefactKind::Admin, admin),
    ("/wp-login.php", ArtefactKind::Admin, admin),
    ("/phpmyadmin/", ArtefactKind::Admin, admin),
    ("/adminer.php", ArtefactKind::Admin, admin),
    ("/manager/html", ArtefactKind::Admin, admin),
];

/// Facts of every probed path, plus the paths whose request failed.
pub fn derive(paths: &PathsEvidence) -> (Vec<ArtefactFacts>, Vec<String>) {
    let mut failed = Vec::new();
    let canary = paths.canary.response.as_ref();
    let facts = paths
        .artefacts
        .iter()
        .filter_map(|fetch| {
            let (_, kind, matcher) = SIGNATURES.iter().find(|(p, _, _)| *p == fetch.path)?;
            let mut facts = ArtefactFacts {
                name: fetch.path.clone(),
                path: fetch.path.clone(),
                kind: *kind,
                found: None,
                status: None,
                signature: None,
            };
            match &fetch.response {
                Some(hop) => {
                    facts.status = Some(hop.status);
                    let hit = matcher(hop, body(hop));
                    let catch_all = canary.and_then(|c| matcher(c, body(c))).is_some();
                    facts.found = Some(hit.is_some() && !catch_all);
                    if facts.found == Some(true) {
                        facts.signature = hit.map(str::to_string);
                    }
                }
                None => failed.push(match &fetch.error {
                    Some(error) => format!("{}: {error}", fetch.path),
                    None => format!("{}: no response", fetch.path),
                }),
            }
            Some(facts)
        })
        .collect();
    (facts, failed)
}

fn body(hop: &HttpHop) -> &str {
    hop.body.text.as_deref().unwrap_or("")
}

fn ok(hop: &HttpHop) -> bool {
    hop.status == 200
}

fn looks_like_html(body: &str) -> bool {
    let start = body.trim_start().get(..15).unwrap_or(body.trim_start());
    start.starts_with('<') || start.to_ascii_lowercase().contains("<!doctype")
}

fn git_head(hop: &HttpHop, body: &str) -> Option<&'static str> {
    let first = body.lines().next().unwrap_or("").trim();
    let hash = first.len() == 40 && first.bytes().all(|b| b.is_ascii_hexdigit());
    (ok(hop) && (first.starts_with("ref: refs/") || hash)).then_some("a Git HEAD (`ref: refs/…`)")
}

fn git_config(hop: &HttpHop, body: &str) -> Option<&'static str> {
    (ok(hop) && body.contains("[core]") && body.contains("repositoryformatversion"))
        .then_some("a Git config (`[core]`, `repositoryformatversion`)")
}

fn svn_entries(hop: &HttpHop, body: &str) -> Option<&'static str> {
    let first = body.lines().next().unwrap_or("").trim();
    let format = !first.is_empty() && first.len() <= 3 && first.bytes().all(|b| b.is_ascii_digit());
    (ok(hop) && (format || body.contains("<wc-entries"))).then_some("a Subversion entries file")
}

fn hg_requires(hop: &HttpHop, body: &str) -> Option<&'static str> {
    let known = ["revlogv1", "store", "fncache", "dotencode", "generaldelta"];
    let lines: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let all_words = lines
        .iter()
        .all(|l| l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    (ok(hop) && all_words && lines.iter().any(|l| known.contains(l)))
        .then_some("a Mercurial requires file")
}

static ENV_LINE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?m)^(export\s+)?[A-Z][A-Z0-9_]*=").ok());

fn dotenv(hop: &HttpHop, body: &str) -> Option<&'static str> {
    let assigns = ENV_LINE.as_ref().is_some_and(|re| re.is_match(body));
    (ok(hop) && !looks_like_html(body) && assigns).then_some("`NAME=value` lines")
}

fn ds_store(hop: &HttpHop, body: &str) -> Option<&'static str> {
    (ok(hop) && body.as_bytes().get(4..8) == Some(b"Bud1".as_slice()))
        .then_some("the `.DS_Store` magic (`Bud1`)")
}

fn server_status(hop: &HttpHop, body: &str) -> Option<&'static str> {
    let apache = body.contains("Apache Server Status");
    let nginx = body.contains("Active connections:") && body.contains("server accepts handled");
    (ok(hop) && (apache || nginx)).then_some("a server status page")
}

fn phpinfo(hop: &HttpHop, body: &str) -> Option<&'static str> {
    (ok(hop) && (body.contains("phpinfo()") || body.contains("PHP License")))
        .then_some("phpinfo() output")
}

static PASSWORD_FIELD: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"(?i)<input[^>]*\btype\s*=\s*["']?password"#).ok());

fn admin(hop: &HttpHop, body: &str) -> Option<&'static str> {
    if hop.status == 401 && hop.header_values("www-authenticate").next().is_some() {
        return Some("an HTTP authentication prompt (401)");
    }
    if hop.is_redirect()
        && hop
            .header_values("location")
            .next()
            .is_some_and(|l| l.contains("wp-login.php"))
    {
        return Some("a redirect to wp-login.php");
    }
    if !ok(hop) {
        return None;
    }
    const PANELS: [&str; 5] = [
        "phpMyAdmin",
        "Adminer",
        "wp-login.php",
        "Joomla! Administration",
        "Tomcat Web Application Manager",
    ];
    if PANELS.iter().any(|p| body.contains(p)) {
        return Some("an administration panel");
    }
    PASSWORD_FIELD
        .as_ref()
        .is_some_and(|re| re.is_match(body))
        .then_some("a login form with a password field")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::exposure::PathFetch;
    use crate::evidence::{BodySample, HeaderLine};

    fn hop(status: u16, headers: &[(&str, &str)], body: &str) -> HttpHop {
        HttpHop {
            url: "https://a.test/x".into(),
            peer: None,
            status,
            http_version: "HTTP/1.1".into(),
            headers: headers
                .iter()
                .map(|(n, v)| HeaderLine {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            certificate_error: None,
            body: BodySample {
                bytes_read: body.len() as u64,
                truncated: false,
                text: Some(body.into()),
            },
        }
    }

    fn evidence(canary: HttpHop, artefacts: Vec<(&str, HttpHop)>) -> PathsEvidence {
        PathsEvidence {
            origin: "https://a.test".into(),
            security_txt: Vec::new(),
            canary: PathFetch {
                path: "/canary".into(),
                response: Some(canary),
                error: None,
            },
            artefacts: artefacts
                .into_iter()
                .map(|(path, hop)| PathFetch {
                    path: path.into(),
                    response: Some(hop),
                    error: None,
                })
                .collect(),
        }
    }

    #[test]
    fn every_probed_path_has_a_signature() {
        for path in crate::probe::exposure::ARTEFACT_PATHS {
            assert!(SIGNATURES.iter().any(|(p, _, _)| *p == path), "{path}");
        }
    }

    #[test]
    fn signatures_match_real_artefacts_only() {
        let not_found = hop(404, &[], "not found");
        let paths = evidence(
            not_found.clone(),
            vec![
                ("/.git/HEAD", hop(200, &[], "ref: refs/heads/main\n")),
                (
                    "/.git/config",
                    hop(200, &[], "[core]\n\trepositoryformatversion = 0\n"),
                ),
                (
                    "/.env",
                    hop(200, &[], "APP_KEY=base64:abc\nDB_PASSWORD=secret\n"),
                ),
                ("/.DS_Store", hop(200, &[], "\0\0\0\u{1}Bud1\0\0")),
                (
                    "/wp-admin/",
                    hop(302, &[("location", "/wp-login.php?redirect_to=x")], ""),
                ),
                (
                    "/manager/html",
                    hop(401, &[("www-authenticate", "Basic realm=\"Tomcat\"")], ""),
                ),
                ("/admin/", hop(403, &[], "forbidden")),
                ("/.svn/entries", not_found.clone()),
            ],
        );
        let (facts, failed) = derive(&paths);
        assert!(failed.is_empty());
        let found: Vec<(&str, Option<bool>)> =
            facts.iter().map(|f| (f.path.as_str(), f.found)).collect();
        assert_eq!(
            found,
            [
                ("/.git/HEAD", Some(true)),
                ("/.git/config", Some(true)),
                ("/.env", Some(true)),
                ("/.DS_Store", Some(true)),
                ("/wp-admin/", Some(true)),
                ("/manager/html", Some(true)),
                ("/admin/", Some(false)),
                ("/.svn/entries", Some(false)),
            ]
        );
    }

    #[test]
    fn a_catch_all_page_is_not_a_finding() {
        let page =
            "<!doctype html><html><form><input type=password name=p></form>ref: refs/</html>";
        let paths = evidence(
            hop(200, &[], page),
            vec![
                ("/.git/HEAD", hop(200, &[], page)),
                ("/.env", hop(200, &[], page)),
                ("/admin/", hop(200, &[], page)),
            ],
        );
        let (facts, _) = derive(&paths);
        assert!(facts.iter().all(|f| f.found == Some(false)), "{facts:?}");
    }

    #[test]
    fn failed_requests_are_unobserved() {
        let mut paths = evidence(hop(404, &[], ""), Vec::new());
        paths.artefacts.push(PathFetch {
            path: "/.env".into(),
            response: None,
            error: Some(crate::evidence::ProbeError::new(
                crate::evidence::FailureKind::Timeout,
                "slow",
            )),
        });
        let (facts, failed) = derive(&paths);
        assert_eq!(facts[0].found, None);
        assert_eq!(failed, ["/.env: timeout: slow"]);
    }
}
