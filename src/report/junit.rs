//! JUnit XML output, for CI test tabs (GitLab, Jenkins, Azure DevOps).
//!
//! One test suite per target and pack, one test case per rule: a failed rule is a failure whose
//! message says what was observed against what was expected; inconclusive, not-applicable and
//! manual rules are skipped with the reason. Written with quick-junit, which also drops characters
//! XML cannot carry; terminal escapes from the target are made visible first.

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use super::escape::for_terminal;
use crate::policy::RuleOutcome;

/// Writes one JUnit document for all `reports`.
pub fn render(reports: &[Report], out: &mut dyn Write) -> io::Result<()> {
    let mut junit = quick_junit::Report::new("secaudit");
    for report in reports {
        let host = for_terminal(&report.target.host);
        for pack in &report.packs {
            let mut suite = TestSuite::new(format!("{host} · {}", pack.id));
            suite.add_property(("grade", pack.grade.grade.as_str()));
            suite.add_property(("score", pack.grade.score.to_string().as_str()));
            suite.add_property(("evidence_collected", report.evidence.started_at.as_str()));
            for finding in &pack.findings {
                let message = for_terminal(&finding.message);
                let attested = finding.attestation.as_ref().map(|a| a.status);
                let status = match finding.outcome {
                    RuleOutcome::Manual
                        if attested == Some(crate::policy::model::AttestedStatus::Pass) =>
                    {
                        TestCaseStatus::success()
                    }
                    RuleOutcome::Manual
                        if attested == Some(crate::policy::model::AttestedStatus::Fail) =>
                    {
                        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        status.set_type("attested").set_message(message.as_str());
                        status
                    }
                    RuleOutcome::Pass => TestCaseStatus::success(),
                    RuleOutcome::Fail => {
                        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        status
                            .set_type(finding.severity.as_str())
                            .set_message(message.as_str());
                        if !finding.remediation.is_empty() {
                            status.set_description(format!(
                                "{message}\nseverity: {}\nremediation: {}",
                                finding.severity.as_str(),
                                finding.remediation
                            ));
                        }
                        status
                    }
                    RuleOutcome::Inconclusive
                    | RuleOutcome::NotApplicable
                    | RuleOutcome::Manual => {
                        let mut status = TestCaseStatus::skipped();
                        status
                            .set_type(finding.outcome.as_str())
                            .set_message(message.as_str());
                        status
                    }
                };
                let mut case =
                    TestCase::new(format!("{} {}", finding.rule_id, finding.title), status);
                case.set_classname(format!("{host}.{}.{}", pack.id, finding.category.as_str()));
                suite.add_test_case(case);
            }
            junit.add_test_suite(suite);
        }
    }
    junit.serialize(&mut *out).map_err(io::Error::other)?;
    writeln!(out)
}
