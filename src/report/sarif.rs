//! SARIF 2.1.0 output, for code-scanning dashboards (GitHub, GitLab, Azure DevOps).
//!
//! One run for the whole invocation: the rules of every pack as the driver's rule metadata (help
//! text, default level, `security-severity`), and one result per failed or inconclusive rule per
//! target, located at the target's URL. A hand-written subset of the format, checked against the
//! official schema in a test.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value, json};

use super::{Finding, Report};
use crate::policy::RuleOutcome;
use crate::policy::model::Severity;

/// The schema URI SARIF consumers expect.
const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
struct Run {
    tool: Value,
    results: Vec<Value>,
    invocations: Vec<Value>,
}

/// SARIF `level` for a failed rule of `severity`.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (0.0–10.0, CVSS-like bands) for a severity.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn rule_metadata(finding: &Finding) -> Value {
    let mut help = String::new();
    if !finding.remediation.is_empty() {
        help.push_str(&finding.remediation);
    }
    if let Some(quote) = finding.source.as_ref().and_then(|s| s.quote.as_deref()) {
        if !help.is_empty() {
            help.push_str("\n\n");
        }
        help.push_str(&format!("Policy: \"{quote}\""));
    }
    if help.is_empty() {
        help = finding.title.clone();
    }
    let mut rule = json!({
        "id": finding.rule_id,
        "name": finding.rule_id,
        "shortDescription": { "text": finding.title },
        "fullDescription": { "text": finding.title },
        "help": { "text": help },
        "defaultConfiguration": { "level": level(finding.severity) },
        "properties": {
            "tags": ["security", finding.category.as_str()],
            "security-severity": security_severity(finding.severity),
            "severity": finding.severity.as_str(),
        },
    });
    if let Some(uri) = finding.references.first() {
        rule["helpUri"] = json!(uri);
    }
    rule
}

/// Writes one SARIF log for all `reports`.
pub fn render(reports: &[Report], out: &mut dyn Write) -> io::Result<()> {
    // Rule metadata by id (ids are public and unique; the first pack that has one describes it).
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    for finding in reports
        .iter()
        .flat_map(|r| &r.packs)
        .flat_map(|p| &p.findings)
    {
        rules
            .entry(finding.rule_id.clone())
            .or_insert_with(|| rule_metadata(finding));
    }
    let index: BTreeMap<&str, usize> = rules
        .keys()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut results = Vec::new();
    for report in reports {
        let uri = report.target_url();
        for pack in &report.packs {
            for finding in &pack.findings {
                let (kind, level) = match finding.outcome {
                    RuleOutcome::Fail => ("fail", level(finding.severity)),
                    RuleOutcome::Inconclusive => ("review", "none"),
                    _ => continue,
                };
                results.push(json!({
                    "ruleId": finding.rule_id,
                    "ruleIndex": index.get(finding.rule_id.as_str()).copied().unwrap_or(0),
                    "kind": kind,
                    "level": level,
                    "message": { "text": format!("{}: {}", finding.title, finding.message) },
                    "locations": [{
                        "physicalLocation": { "artifactLocation": { "uri": uri } },
                        "logicalLocations": [{ "name": report.target.host, "kind": "host" }],
                    }],
                    "partialFingerprints": {
                        "secauditTarget/v1": format!("{}|{}|{}", report.target.host, pack.id, finding.rule_id),
                    },
                    "properties": {
                        "pack": pack.id,
                        "outcome": finding.outcome.as_str(),
                        "severity": finding.severity.as_str(),
                        "category": finding.category.as_str(),
                        "observations": finding.observations,
                    },
                }));
            }
        }
    }
    let started = reports.iter().map(|r| r.evidence.started_at.as_str()).min();
    let mut invocation = json!({ "executionSuccessful": true });
    if let Some(started) = started {
        invocation["startTimeUtc"] = json!(started);
    }
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: json!({
                "driver": {
                    "name": "secaudit",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules.into_values().collect::<Vec<_>>(),
                }
            }),
            results,
            invocations: vec![invocation],
        }],
    };
    super::escape::write_json(out, &log, true)?;
    writeln!(out)
}
