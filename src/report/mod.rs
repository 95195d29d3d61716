//! The report model and its renderers. Renderers only format this model; they never probe,
//! evaluate or grade.
//!
//! The model is also the JSON wire format (versioned by [`REPORT_VERSION`], schema in
//! `docs/report.schema.json`): every finding with its observed and expected values, and the whole
//! derived fact tree under `facts`.

pub mod diff;
pub mod escape;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod table;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::evidence::{Evidence, TargetEvidence};
use crate::facts::Facts;
use crate::grade::{self, GradeResult};
use crate::policy::model::{Category, Check, Pack, PolicySource, Severity};
use crate::policy::{Evaluation, Observation, RuleOutcome, evaluate_pack};

/// Version of the JSON report format.
pub const REPORT_VERSION: u32 = 1;

/// The report for one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// Format version, [`REPORT_VERSION`].
    pub report_version: u32,
    /// The tool that judged the evidence.
    pub tool: String,
    /// The target audited.
    pub target: TargetEvidence,
    /// When and by what the evidence was collected.
    pub evidence: EvidenceInfo,
    /// Why the target could not be audited at all, if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unauditable: Option<String>,
    /// One entry per policy pack.
    pub packs: Vec<PackReport>,
    /// The whole derived fact tree (see `docs/facts.schema.json`).
    pub facts: Value,
}

impl Report {
    /// The audited URL, `https://HOST[:PORT]/PATH`: where findings are located.
    pub fn target_url(&self) -> String {
        let target = &self.target;
        let host = if target.host.contains(':') {
            format!("[{}]", target.host)
        } else {
            target.host.clone()
        };
        let port = if target.https_port == 443 {
            String::new()
        } else {
            format!(":{}", target.https_port)
        };
        format!("https://{host}{port}{}", target.path)
    }
}

/// Provenance of the evidence a report judges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceInfo {
    /// Tool that collected it.
    pub tool: String,
    /// When probing started.
    pub started_at: String,
    /// Evidence format version.
    pub version: u32,
}

/// One pack's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PackReport {
    /// Pack id.
    pub id: String,
    /// Pack title.
    pub title: String,
    /// `builtin:NAME` or the file it was loaded from.
    pub origin: String,
    /// The pack's grades, best first (what `--fail-under` compares against).
    pub grades: Vec<String>,
    /// Overall grade.
    pub grade: GradeResult,
    /// Grade of each category that has rules.
    pub categories: Vec<CategoryReport>,
    /// Outcome counts.
    pub counts: Counts,
    /// One finding per rule, in pack order.
    pub findings: Vec<Finding>,
}

/// A category's grade within a pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CategoryReport {
    /// The category.
    pub category: Category,
    /// Its grade.
    pub grade: GradeResult,
}

/// How many rules ended how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    /// Passed.
    pub pass: usize,
    /// Failed.
    pub fail: usize,
    /// Could not be decided.
    pub inconclusive: usize,
    /// Did not apply.
    pub not_applicable: usize,
    /// Need an auditor.
    pub manual: usize,
    /// Manual rules an auditor attested as met (`--attestations`).
    #[serde(default)]
    pub attested_pass: usize,
    /// Manual rules an auditor attested as not met.
    #[serde(default)]
    pub attested_fail: usize,
}

/// One rule's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Rule id.
    pub rule_id: String,
    /// Rule title.
    pub title: String,
    /// Category.
    pub category: Category,
    /// Severity.
    pub severity: Severity,
    /// Outcome.
    pub outcome: RuleOutcome,
    /// The matching outcome's result code, for outcome-based rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// One line saying what was seen.
    pub message: String,
    /// Points this finding added to or removed from the score.
    pub score_modifier: i64,
    /// The grade this finding caps the pack at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<String>,
    /// Every comparison made.
    pub observations: Vec<Observation>,
    /// The policy text enforced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PolicySource>,
    /// What to do about a failure.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remediation: String,
    /// The rule's note on how it reads its source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// An auditor's answer for a manual rule (`--attestations`): attested, not observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<crate::policy::model::Attestation>,
    /// Evidence an auditor should ask for (manual rules).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_requested: Vec<String>,
    /// Further reading.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
}

/// Judges evidence against packs and builds the report. Pure: same input, same report.
pub fn build(evidence: &Evidence, packs: &[Pack]) -> Report {
    build_with(evidence, packs, None)
}

/// [`build`], verifying certificate transparency against `ct_logs`.
pub fn build_with(
    evidence: &Evidence,
    packs: &[Pack],
    ct_logs: Option<&crate::ct::LogList>,
) -> Report {
    let facts = Facts::derive_with(evidence, ct_logs);
    let fact_tree = facts.to_value();
    Report {
        report_version: REPORT_VERSION,
        tool: crate::probe::tool_name(),
        target: evidence.target.clone(),
        evidence: EvidenceInfo {
            tool: evidence.tool.clone(),
            started_at: evidence.started_at.clone(),
            version: evidence.version,
        },
        unauditable: crate::probe::unauditable_reason(evidence),
        packs: packs
            .iter()
            .map(|pack| pack_report(pack, &evaluate_pack(pack, &fact_tree)))
            .collect(),
        facts: fact_tree,
    }
}

fn pack_report(pack: &Pack, evaluations: &[Evaluation]) -> PackReport {
    let mut counts = Counts::default();
    for evaluation in evaluations {
        match evaluation.outcome {
            RuleOutcome::Pass => counts.pass += 1,
            RuleOutcome::Fail => counts.fail += 1,
            RuleOutcome::Inconclusive => counts.inconclusive += 1,
            RuleOutcome::NotApplicable => counts.not_applicable += 1,
            RuleOutcome::Manual => counts.manual += 1,
        }
    }
    let categories = Category::ALL
        .into_iter()
        .filter(|category| pack.rules.iter().any(|rule| rule.category == *category))
        .map(|category| CategoryReport {
            category,
            grade: grade::grade(pack, evaluations, |c| c == category),
        })
        .collect();
    PackReport {
        id: pack.id.clone(),
        title: pack.title.clone(),
        origin: pack.origin.clone(),
        grades: pack.grading.bands.iter().map(|b| b.grade.clone()).collect(),
        grade: grade::grade(pack, evaluations, |_| true),
        categories,
        counts,
        findings: evaluations
            .iter()
            .enumerate()
            .map(|(index, evaluation)| finding(pack, index, evaluation))
            .collect(),
    }
}

fn finding(pack: &Pack, index: usize, evaluation: &Evaluation) -> Finding {
    let rule = &pack.rules[index];
    let matched = match (&rule.check, evaluation.matched) {
        (Check::Outcomes(outcomes), Some(i)) => outcomes.get(i),
        _ => None,
    };
    let (score_modifier, cap) = grade::contribution(pack, index, evaluation);
    let evidence_requested = match &rule.check {
        Check::Manual { evidence } => evidence.clone(),
        _ => Vec::new(),
    };
    let message = matched
        .and_then(|o| o.message.clone())
        .or_else(|| matched.and_then(|o| describe_matched(evaluation, o.code.as_deref())))
        .unwrap_or_else(|| describe(evaluation, &evidence_requested));
    Finding {
        rule_id: rule.id.0.clone(),
        title: rule.title.clone(),
        category: rule.category,
        severity: rule.severity,
        outcome: evaluation.outcome,
        code: matched.and_then(|o| o.code.clone()),
        message,
        score_modifier,
        cap,
        observations: evaluation.observations.clone(),
        source: rule.source.clone(),
        remediation: rule.remediation.clone(),
        note: rule.note.clone(),
        attestation: None,
        evidence_requested,
        references: rule.references.clone(),
    }
}

/// A one-line account of a failed outcome-based rule: the `when` condition that matched is what
/// was found (not what was expected), so it is stated as a finding.
fn describe_matched(evaluation: &Evaluation, code: Option<&str>) -> Option<String> {
    if evaluation.outcome != RuleOutcome::Fail {
        return None;
    }
    let o = evaluation
        .observations
        .iter()
        .find(|o| o.verdict == "fail")
        .or(evaluation.observations.first())?;
    let condition = if matches!(o.operator.as_str(), "exists" | "absent") {
        format!("{} {}", o.fact, o.operator)
    } else {
        format!(
            "{} {} {}",
            o.fact,
            operator_symbol(&o.operator),
            compact(&o.expected)
        )
    };
    Some(format!(
        "{}{condition} (observed {})",
        code.map(|c| format!("{c}: ")).unwrap_or_default(),
        shown(o.observed.as_ref())
    ))
}

/// A one-line account of an evaluation.
fn describe(evaluation: &Evaluation, evidence_requested: &[String]) -> String {
    let decisive = |verdict: &str| {
        evaluation
            .observations
            .iter()
            .find(|o| o.verdict == verdict)
            .or(evaluation.observations.first())
    };
    match evaluation.outcome {
        RuleOutcome::Pass => match decisive("pass") {
            Some(o) if o.operator == "every" => {
                format!(
                    "all {} of {} meet the requirement",
                    shown(o.observed.as_ref()),
                    o.fact
                )
            }
            Some(o) if o.operator == "some" => {
                format!(
                    "at least one of {} {} meets the requirement",
                    shown(o.observed.as_ref()),
                    o.fact
                )
            }
            Some(o) => format!("{} is {}", o.fact, shown(o.observed.as_ref())),
            None => "requirement met".to_string(),
        },
        RuleOutcome::Fail => match decisive("fail") {
            Some(o) => format!(
                "expected {} {} {}, observed {}{}",
                o.fact,
                operator_symbol(&o.operator),
                compact(&o.expected),
                shown(o.observed.as_ref()),
                o.subject
                    .as_ref()
                    .map(|name| format!(" (\"{name}\")"))
                    .unwrap_or_default()
            ),
            None => "requirement not met".to_string(),
        },
        RuleOutcome::Inconclusive => {
            match decisive("inconclusive").and_then(|o| o.reason.clone()) {
                Some(reason) => format!("could not be decided: {reason}"),
                None => "could not be decided".to_string(),
            }
        }
        RuleOutcome::NotApplicable => "does not apply to this target".to_string(),
        RuleOutcome::Manual => format!(
            "needs an auditor; ask for: {}",
            evidence_requested.join("; ")
        ),
    }
}

fn operator_symbol(operator: &str) -> &str {
    match operator {
        "is" => "=",
        "ne" => "≠",
        "lt" => "<",
        "lte" => "≤",
        "gt" => ">",
        "gte" => "≥",
        "not_in" => "not in",
        other => other,
    }
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "absent".to_string(), compact)
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

impl Finding {
    /// The result as shown to people: the outcome, or `attested pass`/`attested fail` for a
    /// manual rule an auditor answered (kept apart from observed results).
    pub fn result_label(&self) -> String {
        match &self.attestation {
            Some(a) => format!("attested {}", a.status.as_str()),
            None => self.outcome.as_str().replace('_', " "),
        }
    }
}

/// Attaches auditors' attestations to the manual findings they answer, and counts them. The
/// outcome stays `manual` and the grade is untouched: the grade rests on observations only.
pub fn attest(report: &mut Report, attestations: &[crate::policy::model::Attestation]) {
    use crate::policy::model::AttestedStatus;
    for pack in &mut report.packs {
        for finding in &mut pack.findings {
            if finding.outcome != RuleOutcome::Manual {
                continue;
            }
            let Some(attestation) = attestations.iter().find(|a| a.rule == finding.rule_id) else {
                continue;
            };
            match attestation.status {
                AttestedStatus::Pass => pack.counts.attested_pass += 1,
                AttestedStatus::Fail => pack.counts.attested_fail += 1,
            }
            finding.message = format!(
                "attested {} by {} on {}: {}",
                attestation.status.as_str(),
                attestation.by,
                attestation.reviewed,
                attestation.evidence
            );
            finding.attestation = Some(attestation.clone());
        }
    }
}

/// JSON Schema of the report format, as published in `docs/report.schema.json`.
pub fn schema_value() -> Value {
    serde_json::to_value(schemars::schema_for!(Report)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    #[test]
    fn published_schema_is_current() {
        let published = include_str!("../../docs/report.schema.json");
        let current = serde_json::to_string_pretty(&super::schema_value()).unwrap() + "\n";
        assert!(
            published == current,
            "docs/report.schema.json is stale: run `cargo run -- schema report > docs/report.schema.json`"
        );
    }
}
