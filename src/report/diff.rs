//! What changed between two JSON reports of the same targets — "did our posture change since
//! last week?" in CI. Regressions (a worse grade, a rule that passed and now fails or can no
//! longer be decided) come first, then improvements, then what appeared or disappeared.

use std::io::{self, Write};

use serde::Serialize;

use super::Report;
use super::escape::for_terminal;
use crate::policy::RuleOutcome;

/// Reading a report file failed.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct ReportFileError {
    /// The file.
    pub file: String,
    /// Why.
    pub reason: String,
}

/// Reads every report in `text`: one JSON object, a stream of them, or JSON Lines.
pub fn parse_reports(text: &str, file: &str) -> Result<Vec<Report>, ReportFileError> {
    let mut reports = Vec::new();
    for item in serde_json::Deserializer::from_str(text).into_iter::<Report>() {
        reports.push(item.map_err(|e| ReportFileError {
            file: file.to_string(),
            reason: format!("not a secaudit JSON report: {e}"),
        })?);
    }
    if reports.is_empty() {
        return Err(ReportFileError {
            file: file.to_string(),
            reason: "no report in the file".to_string(),
        });
    }
    Ok(reports)
}

/// The kind of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Worse than before.
    Regression,
    /// Better than before.
    Improvement,
    /// Neither: a rule, pack or target that appeared or disappeared, or moved between
    /// not-applicable and manual.
    Other,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Regression, improvement or other.
    pub kind: ChangeKind,
    /// The target (`host:port/path`).
    pub target: String,
    /// The pack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pack: Option<String>,
    /// The rule, for a rule's change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Before.
    pub before: String,
    /// After.
    pub after: String,
}

fn key(report: &Report) -> String {
    format!(
        "{}:{}{}",
        report.target.host, report.target.https_port, report.target.path
    )
}

/// How good an outcome is, for ordering: fail < inconclusive < pass.
fn rank(outcome: RuleOutcome) -> Option<u8> {
    match outcome {
        RuleOutcome::Fail => Some(0),
        RuleOutcome::Inconclusive => Some(1),
        RuleOutcome::Pass => Some(2),
        RuleOutcome::NotApplicable | RuleOutcome::Manual => None,
    }
}

/// Every change from `old` to `new`, regressions first.
pub fn diff(old: &[Report], new: &[Report]) -> Vec<Change> {
    let mut changes = Vec::new();
    let change =
        |kind, target: &str, pack: Option<&str>, rule: Option<&str>, before, after| Change {
            kind,
            target: target.to_string(),
            pack: pack.map(str::to_string),
            rule: rule.map(str::to_string),
            before,
            after,
        };
    for before in old {
        let target = key(before);
        let Some(after) = new.iter().find(|r| key(r) == target) else {
            changes.push(change(
                ChangeKind::Other,
                &target,
                None,
                None,
                "audited".into(),
                "absent".into(),
            ));
            continue;
        };
        for old_pack in &before.packs {
            let Some(new_pack) = after.packs.iter().find(|p| p.id == old_pack.id) else {
                changes.push(change(
                    ChangeKind::Other,
                    &target,
                    Some(&old_pack.id),
                    None,
                    "evaluated".into(),
                    "absent".into(),
                ));
                continue;
            };
            let grade_rank =
                |pack: &super::PackReport, grade: &str| pack.grades.iter().position(|g| g == grade);
            if old_pack.grade.grade != new_pack.grade.grade
                || old_pack.grade.score != new_pack.grade.score
            {
                let kind = match (
                    grade_rank(new_pack, &old_pack.grade.grade),
                    grade_rank(new_pack, &new_pack.grade.grade),
                ) {
                    (Some(o), Some(n)) if n > o => ChangeKind::Regression,
                    (Some(o), Some(n)) if n < o => ChangeKind::Improvement,
                    _ if new_pack.grade.score < old_pack.grade.score => ChangeKind::Regression,
                    _ if new_pack.grade.score > old_pack.grade.score => ChangeKind::Improvement,
                    _ => ChangeKind::Other,
                };
                changes.push(change(
                    kind,
                    &target,
                    Some(&old_pack.id),
                    None,
                    format!("grade {} ({})", old_pack.grade.grade, old_pack.grade.score),
                    format!("grade {} ({})", new_pack.grade.grade, new_pack.grade.score),
                ));
            }
            for old_finding in &old_pack.findings {
                let id = old_finding.rule_id.as_str();
                let Some(new_finding) = new_pack.findings.iter().find(|f| f.rule_id == id) else {
                    changes.push(change(
                        ChangeKind::Other,
                        &target,
                        Some(&old_pack.id),
                        Some(id),
                        old_finding.outcome.as_str().into(),
                        "absent".into(),
                    ));
                    continue;
                };
                if old_finding.outcome == new_finding.outcome {
                    continue;
                }
                let kind = match (rank(old_finding.outcome), rank(new_finding.outcome)) {
                    (Some(o), Some(n)) if n < o => ChangeKind::Regression,
                    (Some(o), Some(n)) if n > o => ChangeKind::Improvement,
                    (_, Some(0)) => ChangeKind::Regression,
                    (Some(0), _) => ChangeKind::Improvement,
                    _ => ChangeKind::Other,
                };
                changes.push(change(
                    kind,
                    &target,
                    Some(&old_pack.id),
                    Some(id),
                    old_finding.outcome.as_str().into(),
                    format!("{}: {}", new_finding.outcome.as_str(), new_finding.message),
                ));
            }
            for new_finding in &new_pack.findings {
                if !old_pack
                    .findings
                    .iter()
                    .any(|f| f.rule_id == new_finding.rule_id)
                {
                    let kind = if new_finding.outcome == RuleOutcome::Fail {
                        ChangeKind::Regression
                    } else {
                        ChangeKind::Other
                    };
                    changes.push(change(
                        kind,
                        &target,
                        Some(&new_pack.id),
                        Some(&new_finding.rule_id),
                        "absent".into(),
                        new_finding.outcome.as_str().into(),
                    ));
                }
            }
        }
        for new_pack in &after.packs {
            if !before.packs.iter().any(|p| p.id == new_pack.id) {
                changes.push(change(
                    ChangeKind::Other,
                    &target,
                    Some(&new_pack.id),
                    None,
                    "absent".into(),
                    format!("grade {}", new_pack.grade.grade),
                ));
            }
        }
    }
    for after in new {
        if !old.iter().any(|r| key(r) == key(after)) {
            changes.push(change(
                ChangeKind::Other,
                &key(after),
                None,
                None,
                "absent".into(),
                "audited".into(),
            ));
        }
    }
    changes.sort_by_key(|c| c.kind);
    changes
}

/// Writes the changes as text, one line each, regressions first.
pub fn render_text(changes: &[Change], out: &mut dyn Write) -> io::Result<()> {
    if changes.is_empty() {
        return writeln!(out, "no changes");
    }
    let count = |kind| changes.iter().filter(|c| c.kind == kind).count();
    writeln!(
        out,
        "{} regressions · {} improvements · {} other changes",
        count(ChangeKind::Regression),
        count(ChangeKind::Improvement),
        count(ChangeKind::Other)
    )?;
    for c in changes {
        let what = match (&c.pack, &c.rule) {
            (Some(pack), Some(rule)) => format!("{pack} {rule}"),
            (Some(pack), None) => pack.clone(),
            _ => "target".to_string(),
        };
        let label = match c.kind {
            ChangeKind::Regression => "regression ",
            ChangeKind::Improvement => "improvement",
            ChangeKind::Other => "change     ",
        };
        writeln!(
            out,
            "{label} {} {}: {} → {}",
            for_terminal(&c.target),
            for_terminal(&what),
            for_terminal(&c.before),
            for_terminal(&c.after)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(grade: &str, score: i64, outcomes: &[(&str, &str)]) -> Report {
        let findings: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|(id, outcome)| {
                serde_json::json!({
                    "rule_id": id, "title": id, "category": "http", "severity": "high",
                    "outcome": outcome, "message": format!("{id} {outcome}"),
                    "score_modifier": 0, "observations": []
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "report_version": 1, "tool": "secaudit", "facts": {},
            "target": { "input": "a.test", "host": "a.test", "https_port": 443, "http_port": 80, "path": "/" },
            "evidence": { "tool": "secaudit", "started_at": "2026-11-30T00:00:00Z", "version": 1 },
            "packs": [{
                "id": "baseline", "title": "Baseline", "origin": "builtin:baseline",
                "grades": ["A+", "A", "B", "C", "D", "E", "F"],
                "grade": { "grade": grade, "score": score, "decided": 2, "inconclusive": 0 },
                "categories": [],
                "counts": { "pass": 0, "fail": 0, "inconclusive": 0, "not_applicable": 0, "manual": 0 },
                "findings": findings
            }]
        }))
        .unwrap()
    }

    #[test]
    fn regressions_come_first() {
        let old = [report(
            "A",
            95,
            &[("R1", "pass"), ("R2", "fail"), ("R3", "pass")],
        )];
        let new = [report(
            "B",
            85,
            &[("R1", "fail"), ("R2", "pass"), ("R4", "fail")],
        )];
        let changes = diff(&old, &new);
        let summary: Vec<(ChangeKind, Option<&str>)> = changes
            .iter()
            .map(|c| (c.kind, c.rule.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                (ChangeKind::Regression, None),
                (ChangeKind::Regression, Some("R1")),
                (ChangeKind::Regression, Some("R4")),
                (ChangeKind::Improvement, Some("R2")),
                (ChangeKind::Other, Some("R3")),
            ]
        );
        assert_eq!(changes[0].before, "grade A (95)");
        let mut text = Vec::new();
        render_text(&changes, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.starts_with("3 regressions · 1 improvements · 1 other changes"),
            "{text}"
        );
    }

    #[test]
    fn same_reports_do_not_differ_and_streams_parse() {
        let one = report("A", 95, &[("R1", "pass")]);
        let same = std::slice::from_ref(&one);
        assert!(diff(same, same).is_empty());
        let text = format!(
            "{}\n{}\n",
            serde_json::to_string(&one).unwrap(),
            serde_json::to_string_pretty(&one).unwrap()
        );
        assert_eq!(parse_reports(&text, "r.json").unwrap().len(), 2);
        assert!(parse_reports("", "r.json").is_err());
        assert!(parse_reports("{\"x\": 1}", "r.json").is_err());
    }
}
