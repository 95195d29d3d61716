//! Exposure facts (`exposure.*`): the security contact file, artefacts a site should never
//! serve, open ports against the allowlist, what SSH servers accept, and disclosed product
//! versions judged against a vendored end-of-life table.
//!
//! Derived from the exposure evidence and the HTTP evidence only; every part that could not be
//! observed (the port scan was not asked for, a request failed) is absent with its reason in
//! `unobserved`.

pub mod artefacts;
pub mod banners;
pub mod eol;
pub mod ports;
pub mod security_txt;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use artefacts::{ArtefactFacts, ArtefactKind};
pub use banners::BannerFacts;
pub use ports::PortFacts;
pub use security_txt::SecurityTxtFacts;

use crate::evidence::exposure::SshEvidence;
use crate::evidence::{ChainEnd, Evidence, FetchChain, HttpHop};

/// Everything the exposure probes showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExposureFacts {
    /// `security.txt` (RFC 9116).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_txt: Option<SecurityTxtFacts>,
    /// Every artefact path probed (VCS metadata, `.env`, debug pages, admin panels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artefacts: Option<Vec<ArtefactFacts>>,
    /// Number of artefacts found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artefact_found_count: Option<u32>,
    /// Every scanned port of every address (only with `--port-scan` or `--ports`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<PortFacts>>,
    /// Number of open ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_port_count: Option<u32>,
    /// Number of open ports outside the allowlist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unexpected_open_port_count: Option<u32>,
    /// SSH servers found by the port scan and the authentication methods they offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshFacts>,
    /// Products and versions disclosed by headers, the HTML generator tag and greetings.
    pub banners: Vec<BannerFacts>,
    /// Number of disclosed versions whose series had left support on the audit date; absent
    /// when no disclosed version could be judged (nothing disclosed, or not in the table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_life_count: Option<u32>,
    /// The date of the vendored end-of-life table the versions were judged with.
    pub eol_table_date: String,
}

/// SSH as seen by the port scan: every endpoint that sent an SSH identification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SshFacts {
    /// A port of the target answered with an SSH identification string.
    pub reachable: bool,
    /// Number of SSH endpoints (address and port).
    pub endpoint_count: u32,
    /// The first endpoint's identification string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
    /// Its software (`openssh`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Its version (`9.6p1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Every method offered by any endpoint, sorted.
    pub methods: Vec<String>,
    /// Some endpoint offers `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_auth: Option<bool>,
    /// Some endpoint offers `keyboard-interactive` (which usually asks for a password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyboard_interactive_auth: Option<bool>,
    /// Every endpoint offers `publickey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publickey_auth: Option<bool>,
    /// Some endpoint lets a client in without authentication (`none` accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_auth: Option<bool>,
}

/// Derives the exposure facts; `today` is the audit date (ISO), `now` its Unix time.
pub fn derive(
    evidence: &Evidence,
    today: &str,
    now: i64,
    unobserved: &mut BTreeMap<String, String>,
) -> ExposureFacts {
    let mut facts = ExposureFacts {
        eol_table_date: eol::EOL_TABLE_DATE.to_string(),
        ..ExposureFacts::default()
    };
    let exposure = evidence.exposure.as_ref();
    let no_paths = match exposure {
        None => Some("the exposure probes did not run (older evidence)".to_string()),
        Some(e) if e.paths.is_none() => Some(format!(
            "the paths were not requested: {}",
            e.paths_skipped.as_deref().unwrap_or("no reason recorded")
        )),
        Some(_) => None,
    };
    match exposure.and_then(|e| e.paths.as_ref()) {
        Some(paths) => {
            match security_txt::derive(&paths.security_txt, now) {
                Ok(found) => facts.security_txt = Some(found),
                Err(reason) => {
                    unobserved.insert("exposure.security_txt".into(), reason);
                }
            }
            let (list, failed) = artefacts::derive(paths);
            if failed.is_empty() {
                facts.artefact_found_count = Some(count(&list, |a| a.found == Some(true)));
            } else {
                let reason = format!("some artefact requests failed: {}", failed.join("; "));
                unobserved.insert("exposure.artefacts.found".into(), reason.clone());
                let found = count(&list, |a| a.found == Some(true));
                if found > 0 {
                    facts.artefact_found_count = Some(found);
                } else {
                    unobserved.insert("exposure.artefact_found_count".into(), reason);
                }
            }
            facts.artefacts = Some(list);
        }
        None => {
            let reason = no_paths.unwrap_or_default();
            for path in ["security_txt", "artefacts", "artefact_found_count"] {
                unobserved.insert(format!("exposure.{path}"), reason.clone());
            }
        }
    }
    derive_ports(exposure, &mut facts, unobserved, today);
    facts.banners.extend(http_banners(evidence, today));
    let judged: Vec<&BannerFacts> = facts
        .banners
        .iter()
        .filter(|b| b.end_of_life.is_some())
        .collect();
    if judged.is_empty() {
        unobserved.insert(
            "exposure.end_of_life_count".into(),
            "no disclosed product version is in the end-of-life table".into(),
        );
    } else {
        facts.end_of_life_count = Some(count(&judged, |b| b.end_of_life == Some(true)));
    }
    facts
}

fn count<T>(items: &[T], test: impl Fn(&T) -> bool) -> u32 {
    u32::try_from(items.iter().filter(|i| test(i)).count()).unwrap_or(u32::MAX)
}

fn derive_ports(
    exposure: Option<&crate::evidence::ExposureEvidence>,
    facts: &mut ExposureFacts,
    unobserved: &mut BTreeMap<String, String>,
    today: &str,
) {
    const PORT_FACTS: [&str; 4] = [
        "ports",
        "open_port_count",
        "unexpected_open_port_count",
        "ssh",
    ];
    let Some(scan) = exposure.and_then(|e| e.port_scan.as_ref()) else {
        for path in PORT_FACTS {
            unobserved.insert(
                format!("exposure.{path}"),
                "the port scan was not requested (--port-scan or --ports)".into(),
            );
        }
        return;
    };
    if let Some(error) = &scan.error {
        for path in PORT_FACTS {
            unobserved.insert(
                format!("exposure.{path}"),
                format!("the port scan could not start: {error}"),
            );
        }
        return;
    }
    let list = ports::derive(scan);
    let open = count(&list, |p| p.open == Some(true));
    let unexpected = count(&list, |p| p.open == Some(true) && !p.allowed);
    let failed: Vec<String> = scan
        .results
        .iter()
        .filter(|r| r.error.is_some() || r.state == crate::evidence::exposure::PortState::Error)
        .map(|r| {
            format!(
                "{}:{}: {}",
                r.address,
                r.port,
                r.error.as_deref().unwrap_or("error")
            )
        })
        .collect();
    if failed.is_empty() {
        facts.open_port_count = Some(open);
        facts.unexpected_open_port_count = Some(unexpected);
    } else {
        let reason = format!("some connection attempts failed: {}", failed.join("; "));
        unobserved.insert("exposure.ports.open".into(), reason.clone());
        // A count above zero is already a finding; zero cannot be proven.
        for (path, value) in [
            ("open_port_count", open),
            ("unexpected_open_port_count", unexpected),
        ] {
            if value > 0 {
                match path {
                    "open_port_count" => facts.open_port_count = Some(value),
                    _ => facts.unexpected_open_port_count = Some(value),
                }
            } else {
                unobserved.insert(format!("exposure.{path}"), reason.clone());
            }
        }
    }
    let ssh = exposure.map(|e| e.ssh.as_slice()).unwrap_or_default();
    facts.ssh = Some(ssh_facts(ssh, unobserved, today));
    for port in &list {
        let Some(banner) = &port.banner else { continue };
        let source = match port.service.as_str() {
            "smtp" | "submission" => "smtp",
            "ftp" => "ftp",
            _ => continue,
        };
        facts
            .banners
            .extend(banners::from_greeting(source, banner, today));
    }
    for endpoint in ssh {
        if let Some(found) = endpoint
            .identification
            .as_deref()
            .and_then(|id| banners::from_ssh(id, today))
        {
            facts.banners.push(found);
        }
    }
    facts.ports = Some(list);
}

fn ssh_facts(
    endpoints: &[SshEvidence],
    unobserved: &mut BTreeMap<String, String>,
    today: &str,
) -> SshFacts {
    let mut facts = SshFacts {
        reachable: !endpoints.is_empty(),
        endpoint_count: u32::try_from(endpoints.len()).unwrap_or(u32::MAX),
        ..SshFacts::default()
    };
    let Some(first) = endpoints.first() else {
        return facts;
    };
    facts.banner = first.identification.clone();
    if let Some(parsed) = first
        .identification
        .as_deref()
        .and_then(|id| banners::from_ssh(id, today))
    {
        facts.product = Some(parsed.product);
        facts.version = parsed.version;
    }
    let failed: Vec<String> = endpoints
        .iter()
        .filter(|e| e.auth_methods.is_none())
        .map(|e| match &e.error {
            Some(error) => format!("{}: {error}", e.endpoint),
            None => format!("{}: no answer to the none request", e.endpoint),
        })
        .collect();
    if !failed.is_empty() {
        let reason = format!(
            "the SSH authentication methods could not be read: {}",
            failed.join("; ")
        );
        for path in [
            "password_auth",
            "keyboard_interactive_auth",
            "publickey_auth",
            "no_auth",
        ] {
            unobserved.insert(format!("exposure.ssh.{path}"), reason.clone());
        }
        return facts;
    }
    let offers = |method: &'static str| -> Vec<bool> {
        endpoints
            .iter()
            .map(|e| {
                e.auth_methods
                    .as_ref()
                    .is_some_and(|m| m.iter().any(|x| x == method))
            })
            .collect()
    };
    let mut methods: Vec<String> = endpoints
        .iter()
        .flat_map(|e| e.auth_methods.clone().unwrap_or_default())
        .collect();
    methods.sort();
    methods.dedup();
    facts.methods = methods;
    facts.password_auth = Some(offers("password").contains(&true));
    facts.keyboard_interactive_auth = Some(offers("keyboard-interactive").contains(&true));
    facts.publickey_auth = Some(!offers("publickey").contains(&false));
    facts.no_auth = Some(endpoints.iter().any(|e| e.none_accepted));
    facts
}

/// The final response of the HTTPS chain, else of the plain one.
fn final_hop(evidence: &Evidence) -> Option<&HttpHop> {
    last_of(evidence.http.secure.as_ref()).or_else(|| last_of(evidence.http.plain.as_ref()))
}

fn last_of(chain: Option<&FetchChain>) -> Option<&HttpHop> {
    chain
        .filter(|c| matches!(c.end, ChainEnd::Final))
        .and_then(|c| c.hops.last())
}

fn http_banners(evidence: &Evidence, today: &str) -> Vec<BannerFacts> {
    let Some(hop) = final_hop(evidence) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for value in hop.header_values("server") {
        out.extend(banners::from_header("http.server", value, today));
    }
    for value in hop.header_values("x-powered-by") {
        out.extend(banners::from_header("http.x_powered_by", value, today));
    }
    for value in hop.header_values("x-aspnet-version") {
        out.push(banners::from_aspnet(value, today));
    }
    if let Some(html) = &hop.body.text {
        for tag in crate::facts::html::tags(html, "meta").take(64) {
            let is_generator = tag
                .attribute("name")
                .is_some_and(|n| n.trim().eq_ignore_ascii_case("generator"));
            if let (true, Some(content)) = (is_generator, tag.attribute("content")) {
                out.extend(banners::from_generator(&content, today));
                break;
            }
        }
    }
    out
}
