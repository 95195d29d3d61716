//! Markdown output: a report to paste into a ticket, a wiki page or a pull-request comment.
//!
//! Per target and pack: the grade, the category grades, every finding with what was observed, and
//! for each failure the remediation and the policy text it enforces. Every string that came from
//! the target (or a rule file) is escaped for Markdown and HTML.

use std::io::{self, Write};

use super::escape::for_markdown as md;
use super::{Finding, PackReport, Report};
use crate::policy::RuleOutcome;

/// Writes the Markdown report for all `reports`.
pub fn render(reports: &[Report], out: &mut dyn Write) -> io::Result<()> {
    for (index, report) in reports.iter().enumerate() {
        if index > 0 {
            writeln!(out, "\n---\n")?;
        }
        writeln!(out, "# Security audit of {}\n", md(&report.target.host))?;
        writeln!(
            out,
            "Target `{}` · evidence collected {} by {} · judged by {}\n",
            report.target_url().replace('`', "'"),
            md(&report.evidence.started_at),
            md(&report.evidence.tool),
            md(&report.tool),
        )?;
        if let Some(reason) = &report.unauditable {
            writeln!(out, "**The target could not be audited:** {}\n", md(reason))?;
        }
        for pack in &report.packs {
            render_pack(pack, out)?;
        }
    }
    Ok(())
}

fn render_pack(pack: &PackReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "## {} — grade **{}** (score {})\n",
        md(&pack.title),
        md(&pack.grade.grade),
        pack.grade.score
    )?;
    let c = &pack.counts;
    writeln!(
        out,
        "Pack `{}`: {} pass · {} fail · {} inconclusive · {} not applicable · {} manual; the grade \
         rests on {} decided rules.{}\n",
        pack.id.replace('`', "'"),
        c.pass,
        c.fail,
        c.inconclusive,
        c.not_applicable,
        c.manual,
        pack.grade.decided,
        if pack.grade.capped_by.is_empty() {
            String::new()
        } else {
            format!(" Capped by {}.", md(&pack.grade.capped_by.join(", ")))
        }
    )?;
    writeln!(out, "| Category | Grade | Score |\n|---|---|---:|")?;
    for category in &pack.categories {
        writeln!(
            out,
            "| {} | {} | {} |",
            category.category.as_str(),
            md(&category.grade.grade),
            category.grade.score
        )?;
    }
    writeln!(
        out,
        "\n| Result | Severity | Rule | Title | Observed |\n|---|---|---|---|---|"
    )?;
    for finding in &pack.findings {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            result_label(finding),
            finding.severity.as_str(),
            md(&finding.rule_id),
            md(&finding.title),
            md(&finding.message)
        )?;
    }
    let failures: Vec<&Finding> = pack
        .findings
        .iter()
        .filter(|f| f.outcome == RuleOutcome::Fail)
        .collect();
    if !failures.is_empty() {
        writeln!(out, "\n### What to fix\n")?;
        for finding in failures {
            writeln!(
                out,
                "- **{}** {} — {}",
                md(&finding.rule_id),
                md(&finding.title),
                md(&finding.remediation)
            )?;
            if let Some(source) = &finding.source {
                let quote = source.quote.as_deref().unwrap_or("");
                writeln!(
                    out,
                    "  > {}{} ({}{})",
                    if quote.is_empty() { "" } else { "“" },
                    md(quote) + if quote.is_empty() { "" } else { "”" },
                    md(&source.doc),
                    source
                        .section
                        .as_deref()
                        .map(|s| format!(", {}", md(s)))
                        .unwrap_or_default()
                )?;
            }
            if let Some(note) = &finding.note {
                writeln!(out, "  *Note:* {}", md(note))?;
            }
        }
    }
    writeln!(out)
}

/// The result column, with a symbol so the table scans quickly.
fn result_label(finding: &Finding) -> String {
    let symbol = match (finding.outcome, &finding.attestation) {
        (_, Some(_)) => "🖊",
        (RuleOutcome::Pass, _) => "✅",
        (RuleOutcome::Fail, _) => "❌",
        (RuleOutcome::Inconclusive, _) => "❔",
        (RuleOutcome::NotApplicable, _) => "➖",
        (RuleOutcome::Manual, _) => "📝",
    };
    format!("{symbol} {}", finding.result_label())
}
