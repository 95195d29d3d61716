//! The terminal renderer: a grade line per pack, category grades, and a findings table.
//!
//! Colour is used only when asked for (the caller decides from `NO_COLOR` and whether the output
//! is a terminal). Every string that came from the target is passed through
//! [`escape::for_terminal`](super::escape::for_terminal).

use std::io::{self, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};

use super::escape::for_terminal;
use super::{Finding, PackReport, Report};
use crate::policy::RuleOutcome;

/// Rendering options.
#[derive(Debug, Clone, Copy)]
pub struct TableOptions {
    /// Use ANSI colours.
    pub colour: bool,
    /// Table width in columns when it cannot be detected.
    pub width: u16,
}

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            colour: false,
            width: 120,
        }
    }
}

/// Writes the report for one target.
pub fn render(report: &Report, options: TableOptions, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{} · target {} (https port {}, http port {}) · evidence collected {} by {}",
        report.tool,
        for_terminal(&report.target.host),
        report.target.https_port,
        report.target.http_port,
        for_terminal(&report.evidence.started_at),
        for_terminal(&report.evidence.tool),
    )?;
    if let Some(reason) = &report.unauditable {
        writeln!(out, "target could not be audited: {}", for_terminal(reason))?;
    }
    if let Some(ct) = report.facts.pointer("/cert/ct") {
        match ct.get("log_list_timestamp").and_then(|t| t.as_str()) {
            Some(date) => writeln!(
                out,
                "SCTs verified against the CT log list of {}",
                for_terminal(date)
            )?,
            None => writeln!(
                out,
                "no CT log list: SCTs were not verified (run `secaudit ct update` or pass --ct-log-list)"
            )?,
        }
    }
    for pack in &report.packs {
        writeln!(out)?;
        render_pack(pack, options, out)?;
    }
    Ok(())
}

fn render_pack(pack: &PackReport, options: TableOptions, out: &mut dyn Write) -> io::Result<()> {
    let grade = &pack.grade;
    let total = grade.decided + grade.inconclusive;
    writeln!(
        out,
        "{} — {}: grade {} (score {}; {} of {} rules decided{})",
        pack.id,
        pack.title,
        paint(&grade.grade, grade_colour(&grade.grade), options.colour),
        grade.score,
        grade.decided,
        total,
        if grade.capped_by.is_empty() {
            String::new()
        } else {
            format!("; capped by {}", grade.capped_by.join(", "))
        },
    )?;
    let categories: Vec<String> = pack
        .categories
        .iter()
        .map(|c| {
            if c.grade.decided == 0 {
                // Nothing decided (e.g. an area left out with `--only`): a grade would mislead.
                format!("{} undecided", c.category.as_str())
            } else {
                format!(
                    "{} {} ({})",
                    c.category.as_str(),
                    c.grade.grade,
                    c.grade.score
                )
            }
        })
        .collect();
    writeln!(out, "categories: {}", categories.join(" · "))?;
    writeln!(
        out,
        "{} pass · {} fail · {} inconclusive · {} not applicable · {} manual",
        pack.counts.pass,
        pack.counts.fail,
        pack.counts.inconclusive,
        pack.counts.not_applicable,
        pack.counts.manual
    )?;
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    if options.colour {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(options.width)
        .set_header(["Result", "Severity", "Rule", "Title", "Observed"]);
    for finding in &pack.findings {
        let mut result = Cell::new(finding.result_label());
        if options.colour {
            result = result.fg(outcome_colour(finding.outcome));
        }
        table.add_row(vec![
            result,
            Cell::new(finding.severity.as_str()),
            Cell::new(for_terminal(&finding.rule_id)),
            Cell::new(for_terminal(&finding.title)),
            Cell::new(for_terminal(&finding.message)),
        ]);
    }
    writeln!(out, "{table}")?;
    let failed: Vec<&Finding> = pack
        .findings
        .iter()
        .filter(|f| f.outcome == RuleOutcome::Fail && !f.remediation.is_empty())
        .collect();
    if !failed.is_empty() {
        writeln!(out, "To fix:")?;
        for finding in failed {
            writeln!(
                out,
                "  {} — {}",
                for_terminal(&finding.rule_id),
                for_terminal(finding.remediation.trim())
            )?;
        }
    }
    Ok(())
}

fn outcome_colour(outcome: RuleOutcome) -> Color {
    match outcome {
        RuleOutcome::Pass => Color::Green,
        RuleOutcome::Fail => Color::Red,
        RuleOutcome::Inconclusive => Color::Yellow,
        RuleOutcome::NotApplicable => Color::DarkGrey,
        RuleOutcome::Manual => Color::Cyan,
    }
}

fn grade_colour(grade: &str) -> &'static str {
    match grade.chars().next() {
        Some('A') => "32",
        Some('B' | 'C') => "33",
        _ => "31",
    }
}

fn paint(text: &str, sgr: &str, colour: bool) -> String {
    if colour {
        format!("\u{1b}[1;{sgr}m{text}\u{1b}[0m")
    } else {
        text.to_string()
    }
}

/// Writes the closing summary of a bulk audit: one row per target with each pack's grade and
/// the number of failed and inconclusive rules.
pub fn render_summary(reports: &[Report], out: &mut dyn Write) -> io::Result<()> {
    let mut packs: Vec<&str> = Vec::new();
    for pack in reports.iter().flat_map(|r| &r.packs) {
        if !packs.contains(&pack.id.as_str()) {
            packs.push(&pack.id);
        }
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).force_no_tty();
    let mut header = vec!["Target".to_string()];
    header.extend(packs.iter().map(|p| (*p).to_string()));
    header.extend(["Failed".to_string(), "Inconclusive".to_string()]);
    table.set_header(header);
    for report in reports {
        let mut row = vec![for_terminal(&report.target.input)];
        for id in &packs {
            row.push(match report.packs.iter().find(|p| p.id == *id) {
                _ if report.unauditable.is_some() => "unauditable".to_string(),
                Some(pack) => format!("{} ({})", pack.grade.grade, pack.grade.score),
                None => "-".to_string(),
            });
        }
        let failed: usize = report.packs.iter().map(|p| p.counts.fail).sum();
        let inconclusive: usize = report.packs.iter().map(|p| p.counts.inconclusive).sum();
        row.extend([failed.to_string(), inconclusive.to_string()]);
        table.add_row(row);
    }
    writeln!(out, "summary of {} targets", reports.len())?;
    writeln!(out, "{table}")
}
