//! A self-contained HTML report for clients: one file, inline CSS and SVG, no script and no
//! external request (its own Content-Security-Policy forbids both), printable.
//!
//! Per target and pack: a grade badge, a bar chart of the category scores, and the findings
//! grouped by category with the observed value, the expected value, the policy quote and the
//! remediation. Rendered with minijinja, whose HTML auto-escaping covers every string; strings
//! from the target have their control characters made visible first.

use std::io::{self, Write};

use minijinja::{Environment, context};
use serde::Serialize;

use super::escape::for_terminal;
use super::{Finding, PackReport, Report};
use crate::policy::RuleOutcome;
use crate::policy::model::Category;

const TEMPLATE: &str = include_str!("templates/report.html");

/// One target in the page.
#[derive(Serialize)]
struct TargetView {
    host: String,
    url: String,
    started_at: String,
    collected_by: String,
    unauditable: Option<String>,
    packs: Vec<PackView>,
}

#[derive(Serialize)]
struct PackView {
    id: String,
    title: String,
    grade: String,
    grade_class: &'static str,
    score: i64,
    decided: usize,
    capped_by: Vec<String>,
    counts: super::Counts,
    chart: ChartView,
    groups: Vec<GroupView>,
}

/// The SVG bar chart of category scores.
#[derive(Serialize)]
struct ChartView {
    height: usize,
    bars: Vec<BarView>,
}

#[derive(Serialize)]
struct BarView {
    label: String,
    grade: String,
    score: i64,
    y: usize,
    width: i64,
    grade_class: &'static str,
}

#[derive(Serialize)]
struct GroupView {
    category: &'static str,
    findings: Vec<FindingView>,
}

#[derive(Serialize)]
struct FindingView {
    outcome: &'static str,
    result: String,
    severity: &'static str,
    rule_id: String,
    title: String,
    message: String,
    expected: Vec<String>,
    observed: Vec<String>,
    quote: Option<String>,
    quote_source: Option<String>,
    note: Option<String>,
    remediation: String,
}

/// Writes one HTML page for all `reports`.
pub fn render(reports: &[Report], out: &mut dyn Write) -> io::Result<()> {
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(io::Error::other)?;
    let template = env.get_template("report.html").map_err(io::Error::other)?;
    let targets: Vec<TargetView> = reports.iter().map(target_view).collect();
    let page = template
        .render(context! {
            targets => minijinja::Value::from(minijinja::value::Serde(&targets)),
            tool => format!("secaudit {}", env!("CARGO_PKG_VERSION")),
        })
        .map_err(io::Error::other)?;
    out.write_all(page.as_bytes())
}

fn target_view(report: &Report) -> TargetView {
    TargetView {
        host: for_terminal(&report.target.host),
        url: for_terminal(&report.target_url()),
        started_at: for_terminal(&report.evidence.started_at),
        collected_by: for_terminal(&report.evidence.tool),
        unauditable: report.unauditable.as_deref().map(for_terminal),
        packs: report.packs.iter().map(pack_view).collect(),
    }
}

/// A category's heading.
fn category_title(category: Category) -> &'static str {
    match category {
        Category::Tls => "TLS",
        Category::Certificate => "Certificate",
        Category::Http => "HTTP",
        Category::Cookies => "Cookies",
        Category::Mail => "Mail",
        Category::Dns => "DNS",
        Category::Exposure => "Exposure",
        Category::Organisational => "Organisational",
    }
}

/// A CSS class per grade letter, for the badge colour.
fn grade_class(grade: &str) -> &'static str {
    match grade.chars().next() {
        Some('A') => "grade-a",
        Some('B') => "grade-b",
        Some('C') => "grade-c",
        Some('D') | Some('E') => "grade-d",
        _ => "grade-f",
    }
}

fn pack_view(pack: &PackReport) -> PackView {
    const BAR: usize = 26;
    let bars: Vec<BarView> = pack
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| BarView {
            label: c.category.as_str().to_string(),
            grade: c.grade.grade.clone(),
            score: c.grade.score,
            y: i * BAR,
            width: c.grade.score.clamp(0, 100) * 3,
            grade_class: grade_class(&c.grade.grade),
        })
        .collect();
    let groups = Category::ALL
        .into_iter()
        .filter_map(|category| {
            let findings: Vec<FindingView> = pack
                .findings
                .iter()
                .filter(|f| f.category == category)
                .map(finding_view)
                .collect();
            (!findings.is_empty()).then_some(GroupView {
                category: category_title(category),
                findings,
            })
        })
        .collect();
    PackView {
        id: pack.id.clone(),
        title: pack.title.clone(),
        grade: pack.grade.grade.clone(),
        grade_class: grade_class(&pack.grade.grade),
        score: pack.grade.score,
        decided: pack.grade.decided,
        capped_by: pack.grade.capped_by.clone(),
        counts: pack.counts,
        chart: ChartView {
            height: bars.len() * BAR,
            bars,
        },
        groups,
    }
}

fn finding_view(finding: &Finding) -> FindingView {
    let shown = |value: &serde_json::Value| match value {
        serde_json::Value::String(s) => for_terminal(s),
        other => for_terminal(&other.to_string()),
    };
    let decisive: Vec<&crate::policy::Observation> = match finding.outcome {
        RuleOutcome::Fail => finding
            .observations
            .iter()
            .filter(|o| o.verdict == "fail")
            .take(3)
            .collect(),
        _ => finding.observations.iter().take(3).collect(),
    };
    FindingView {
        outcome: finding.outcome.as_str(),
        result: finding.result_label(),
        severity: finding.severity.as_str(),
        rule_id: finding.rule_id.clone(),
        title: finding.title.clone(),
        message: for_terminal(&finding.message),
        expected: decisive
            .iter()
            .map(|o| format!("{} {} {}", o.fact, o.operator, shown(&o.expected)))
            .collect(),
        observed: decisive
            .iter()
            .map(|o| {
                o.observed
                    .as_ref()
                    .map_or_else(|| "absent".to_string(), shown)
            })
            .collect(),
        quote: finding.source.as_ref().and_then(|s| s.quote.clone()),
        quote_source: finding.source.as_ref().map(|s| match &s.section {
            Some(section) => format!("{}, {section}", s.doc),
            None => s.doc.clone(),
        }),
        note: finding.note.clone(),
        remediation: finding.remediation.clone(),
    }
}
