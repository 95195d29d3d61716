//! The validated rule model: what a policy pack means once its file has been checked.
//!
//! Nothing here can be invalid: fact paths exist in the catalogue, operator values have the fact's
//! type, regexes compile, grades name a band of the pack. See `load` for how files become this.

use std::fmt;

use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A rule id, e.g. `BASE-HDR-03`: public API, never reused.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct RuleId(pub String);

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A dotted fact path such as `http.hsts.max_age` (relative inside `every`/`some`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FactPath(pub String);

impl fmt::Display for FactPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How bad a failed rule is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational; never penalised by default.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 5] = [
        Self::Info,
        Self::Low,
        Self::Medium,
        Self::High,
        Self::Critical,
    ];

    /// The lower-case name used in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// Parses a lower-case name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The area a rule belongs to; every category is graded separately.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Protocols and cipher suites.
    Tls,
    /// Certificates and certificate transparency.
    Certificate,
    /// HTTP redirects and headers.
    Http,
    /// Cookies.
    Cookies,
    /// Mail authentication and transport.
    Mail,
    /// DNS records.
    Dns,
    /// Exposed files, ports and banners.
    Exposure,
    /// Organisational claims only an auditor can check.
    Organisational,
}

impl Category {
    /// All categories in report order.
    pub const ALL: [Category; 8] = [
        Self::Tls,
        Self::Certificate,
        Self::Http,
        Self::Cookies,
        Self::Mail,
        Self::Dns,
        Self::Exposure,
        Self::Organisational,
    ];

    /// The lower-case name used in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::Certificate => "certificate",
            Self::Http => "http",
            Self::Cookies => "cookies",
            Self::Mail => "mail",
            Self::Dns => "dns",
            Self::Exposure => "exposure",
            Self::Organisational => "organisational",
        }
    }

    /// Parses a lower-case name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// A loaded, validated policy pack.
#[derive(Debug, Clone)]
pub struct Pack {
    /// Pack id, e.g. `baseline`.
    pub id: String,
    /// Human title.
    pub title: String,
    /// What the pack is for.
    pub description: String,
    /// Where it came from: `builtin:NAME` or a file path.
    pub origin: String,
    /// How the pack is graded.
    pub grading: Grading,
    /// The file gave its own `grading` (an extending pack otherwise inherits its base's).
    pub grading_given: bool,
    /// The rules, in file order (after composition: the base's rules first).
    pub rules: Vec<Rule>,
    /// The pack this one builds on (`pack.extends`), until composed.
    pub extends: Option<Extends>,
    /// Changes to the extended pack's rules, until composed.
    pub overrides: Vec<Override>,
}

/// `pack.extends`: a built-in pack name or a rule file (relative to the extending file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extends {
    /// As written.
    pub name: String,
    /// Where, for diagnostics.
    pub span: super::yaml::Span,
}

/// One entry of `overrides`: a rule of the extended pack given another severity, or disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The rule id.
    pub rule: String,
    /// Where, for diagnostics.
    pub span: super::yaml::Span,
    /// The new severity.
    pub severity: Option<Severity>,
    /// Drop the rule.
    pub disabled: bool,
}

/// A pack's grading scheme.
#[derive(Debug, Clone, PartialEq)]
pub struct Grading {
    /// Score before any modifier.
    pub base: i64,
    /// Points a failed rule costs by severity, unless the rule sets its own `score`.
    pub penalties: [i64; 5],
    /// Grade bands, best first: the first whose `min` the score reaches.
    pub bands: Vec<Band>,
    /// When set, positive modifiers (bonuses) count only if the score after every negative
    /// modifier reaches this value — the Observatory's "extra credit" round.
    pub bonus_min: Option<i64>,
}

impl Grading {
    /// The penalty for a failed rule of `severity`.
    pub fn penalty(&self, severity: Severity) -> i64 {
        self.penalties[severity as usize]
    }

    /// Index of a grade among the bands (0 is best).
    pub fn rank(&self, grade: &str) -> Option<usize> {
        self.bands.iter().position(|band| band.grade == grade)
    }
}

impl Default for Grading {
    fn default() -> Self {
        let band = |grade: &str, min: i64| Band {
            grade: grade.to_string(),
            min,
        };
        Self {
            base: 100,
            penalties: [0, 5, 10, 20, 40],
            bands: vec![
                band("A+", 100),
                band("A", 90),
                band("B", 80),
                band("C", 70),
                band("D", 60),
                band("E", 50),
                band("F", i64::MIN),
            ],
            bonus_min: None,
        }
    }
}

/// One grade band.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    /// The grade's name, e.g. `A+`.
    pub grade: String,
    /// Lowest score that earns it.
    pub min: i64,
}

/// One rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Stable id.
    pub id: RuleId,
    /// One-line title.
    pub title: String,
    /// Area graded.
    pub category: Category,
    /// Severity when it fails.
    pub severity: Severity,
    /// The policy text it enforces.
    pub source: Option<PolicySource>,
    /// When false, the rule does not apply (`not_applicable`).
    pub applies_when: Option<Condition>,
    /// How the outcome is decided.
    pub check: Check,
    /// What to do when it fails.
    pub remediation: String,
    /// How the rule reads its source where the text leaves room (an interpretation, a caveat).
    pub note: Option<String>,
    /// Further reading.
    pub references: Vec<String>,
    /// Score modifier on failure (replaces the severity penalty).
    pub score: Option<i64>,
    /// Grade cap on failure.
    pub cap: Option<String>,
}

/// Where a rule's requirement is written down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PolicySource {
    /// Document name (a seed file, a guideline).
    pub doc: String,
    /// Section within it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// The exact words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Link, if public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// How a rule is decided.
#[derive(Debug, Clone)]
pub enum Check {
    /// Pass when the condition holds, fail when it does not.
    Require(Condition),
    /// Ordered outcomes, first match wins.
    Outcomes(Vec<Outcome>),
    /// Not observable from outside: listed with the evidence an auditor should ask for.
    Manual {
        /// What to ask for.
        evidence: Vec<String>,
    },
}

/// A result a rule can end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeResult {
    /// The requirement holds.
    Pass,
    /// It does not.
    Fail,
}

/// One entry of a rule's ordered `outcomes`.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Matches when this holds; `None` matches always (the catch-all).
    pub when: Option<Condition>,
    /// The result it gives.
    pub result: OutcomeResult,
    /// A short result code, e.g. `csp-unsafe-inline`.
    pub code: Option<String>,
    /// Score modifier (defaults to the severity penalty for `fail`, 0 for `pass`).
    pub score: Option<i64>,
    /// Grade cap.
    pub cap: Option<String>,
    /// Text shown with the finding.
    pub message: Option<String>,
}

/// A condition over facts.
#[derive(Debug, Clone)]
pub enum Condition {
    /// A single comparison.
    Leaf(Leaf),
    /// Every child holds.
    All(Vec<Condition>),
    /// At least one child holds.
    Any(Vec<Condition>),
    /// The child does not hold.
    Not(Box<Condition>),
}

/// `{ fact: PATH, OPERATOR: VALUE }`.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// The fact compared.
    pub fact: FactPath,
    /// The comparison.
    pub op: Operator,
}

/// Comparison operators.
#[derive(Debug, Clone)]
pub enum Operator {
    /// Equal.
    Is(serde_json::Value),
    /// Not equal.
    Ne(serde_json::Value),
    /// Less than.
    Lt(f64),
    /// Less than or equal.
    Lte(f64),
    /// Greater than.
    Gt(f64),
    /// Greater than or equal.
    Gte(f64),
    /// One of.
    In(Vec<serde_json::Value>),
    /// None of.
    NotIn(Vec<serde_json::Value>),
    /// String contains substring, or list contains element.
    Contains(serde_json::Value),
    /// String matches a regular expression.
    Matches(Regex),
    /// Fact observed and present (`true`) or not (`false`).
    Exists(bool),
    /// Fact observed and not there (`true`) or there (`false`).
    Absent(bool),
    /// Every element of a list satisfies the condition.
    Every(Box<Condition>),
    /// Some element of a list satisfies the condition.
    Some(Box<Condition>),
}

impl Operator {
    /// The operator's name as written in rule files.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Is(_) => "is",
            Self::Ne(_) => "ne",
            Self::Lt(_) => "lt",
            Self::Lte(_) => "lte",
            Self::Gt(_) => "gt",
            Self::Gte(_) => "gte",
            Self::In(_) => "in",
            Self::NotIn(_) => "not_in",
            Self::Contains(_) => "contains",
            Self::Matches(_) => "matches",
            Self::Exists(_) => "exists",
            Self::Absent(_) => "absent",
            Self::Every(_) => "every",
            Self::Some(_) => "some",
        }
    }

    /// Every operator name, for did-you-mean.
    pub const NAMES: [&'static str; 14] = [
        "is", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "matches", "exists",
        "absent", "every", "some",
    ];
}

/// An auditor's answer for a `manual` rule, from an `--attestations` file. Reported as
/// "attested", never as observed or verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Attestation {
    /// The rule it answers.
    pub rule: String,
    /// `pass` or `fail`.
    pub status: AttestedStatus,
    /// What was seen (document, version, sample).
    pub evidence: String,
    /// When it was reviewed, `YYYY-MM-DD`.
    pub reviewed: String,
    /// Who reviewed it.
    pub by: String,
}

/// The attested result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttestedStatus {
    /// The evidence meets the rule.
    Pass,
    /// It does not.
    Fail,
}

impl AttestedStatus {
    /// `pass` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
        }
    }
}
