//! Evaluating rules against a fact tree: pure and deterministic.
//!
//! A condition is three-valued. A fact whose subtree was never observed makes its leaf
//! `Inconclusive` (never a pass); a field missing from an observed object is "absent", which
//! `exists`/`absent` test and the comparisons treat as not matching. Every leaf records what it
//! expected and what it observed, so findings can say "expected max_age ≥ 31536000, observed 300".

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{Check, Condition, Leaf, Operator, OutcomeResult, Pack, Rule};

/// Three-valued result of a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Holds.
    Pass,
    /// Does not hold.
    Fail,
    /// Could not be decided: a fact it needs was not observed.
    Inconclusive,
}

/// The result of one rule.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RuleOutcome {
    /// The requirement holds.
    Pass,
    /// It does not.
    Fail,
    /// A fact it needs was not observed; never counted as a pass.
    Inconclusive,
    /// Its `applies_when` is false.
    NotApplicable,
    /// Only an auditor can decide it.
    Manual,
}

impl RuleOutcome {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Inconclusive => "inconclusive",
            Self::NotApplicable => "not_applicable",
            Self::Manual => "manual",
        }
    }
}

/// What one leaf compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Observation {
    /// The fact path (list elements shown with their index, e.g. `cookies[1].secure`).
    pub fact: String,
    /// The operator.
    pub operator: String,
    /// The value the rule expects.
    pub expected: Value,
    /// What was observed; absent when the fact is absent or unobserved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Value>,
    /// This leaf's verdict: `pass`, `fail` or `inconclusive`.
    pub verdict: String,
    /// Why the fact was not observed, when inconclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a list element: its `name` field, so a finding can say which cookie failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// A rule's evaluation before grading.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The outcome.
    pub outcome: RuleOutcome,
    /// Index of the matching `outcomes` entry, for outcome-based rules.
    pub matched: Option<usize>,
    /// Every leaf compared (the decisive ones first for failures).
    pub observations: Vec<Observation>,
}

/// Where a path leads in the fact tree.
enum Lookup<'v> {
    Found(&'v Value),
    /// The parent object was observed but has no such field.
    Missing,
    /// Some ancestor was never observed.
    Unobserved(String),
}

/// The fact tree with its unobserved-reasons map, as rules see it.
pub struct FactView<'v> {
    root: &'v Value,
}

impl<'v> FactView<'v> {
    /// Wraps a fact tree produced by [`crate::facts::Facts::to_value`].
    pub fn new(root: &'v Value) -> Self {
        Self { root }
    }

    fn reason(&self, path: &str) -> String {
        let unobserved = self.root.get("unobserved").and_then(Value::as_object);
        let mut prefix = path;
        loop {
            if let Some(reason) = unobserved
                .and_then(|u| u.get(prefix))
                .and_then(Value::as_str)
            {
                return reason.to_string();
            }
            match prefix.rsplit_once('.') {
                Some((parent, _)) => prefix = parent,
                None => return format!("`{path}` was not observed"),
            }
        }
    }

    fn lookup(&self, base: &'v Value, base_path: &str, path: &str) -> Lookup<'v> {
        if path.is_empty() {
            // A leaf inside `every`/`some` over plain values tests the element itself.
            return Lookup::Found(base);
        }
        // A whole area that was not observed (e.g. left out with `--only`) holds only
        // placeholder values: nothing under it may be judged.
        let root = if base_path.is_empty() {
            path
        } else {
            base_path
        };
        let top = root.split('.').next().unwrap_or(root);
        if let Some(reason) = self
            .root
            .get("unobserved")
            .and_then(|u| u.get(top))
            .and_then(Value::as_str)
        {
            return Lookup::Unobserved(reason.to_string());
        }
        let mut current = base;
        let segments: Vec<&str> = path.split('.').collect();
        for (index, segment) in segments.iter().enumerate() {
            match current.get(segment) {
                Some(Value::Null) | None => {
                    let is_last = index + 1 == segments.len();
                    let full = if base_path.is_empty() {
                        path.to_string()
                    } else {
                        format!("{base_path}.{path}")
                    };
                    // A field of an observed object is absent, unless the derivation said why
                    // it could not be observed (e.g. `mail.null_mx` when the MX lookup failed).
                    let explained = self
                        .root
                        .get("unobserved")
                        .and_then(|u| u.get(full.as_str()))
                        .is_some();
                    return if is_last && current.is_object() && !explained {
                        Lookup::Missing
                    } else {
                        Lookup::Unobserved(self.reason(&full))
                    };
                }
                Some(next) => current = next,
            }
        }
        Lookup::Found(current)
    }
}

/// Evaluates one rule.
pub fn evaluate_rule(rule: &Rule, facts: &FactView<'_>) -> Evaluation {
    let mut observations = Vec::new();
    if let Check::Manual { .. } = rule.check {
        return Evaluation {
            outcome: RuleOutcome::Manual,
            matched: None,
            observations,
        };
    }
    if let Some(condition) = &rule.applies_when {
        let mut scratch = Vec::new();
        match eval(condition, facts, facts.root, "", &mut scratch) {
            Verdict::Pass => {}
            Verdict::Fail => {
                return Evaluation {
                    outcome: RuleOutcome::NotApplicable,
                    matched: None,
                    observations: scratch,
                };
            }
            Verdict::Inconclusive => {
                return Evaluation {
                    outcome: RuleOutcome::Inconclusive,
                    matched: None,
                    observations: scratch,
                };
            }
        }
    }
    let (outcome, matched) = match &rule.check {
        Check::Require(condition) => (
            match eval(condition, facts, facts.root, "", &mut observations) {
                Verdict::Pass => RuleOutcome::Pass,
                Verdict::Fail => RuleOutcome::Fail,
                Verdict::Inconclusive => RuleOutcome::Inconclusive,
            },
            None,
        ),
        Check::Outcomes(outcomes) => {
            let mut decided = (RuleOutcome::Inconclusive, None);
            for (index, outcome) in outcomes.iter().enumerate() {
                let verdict = match &outcome.when {
                    None => Verdict::Pass,
                    Some(condition) => {
                        let mut leaf_observations = Vec::new();
                        let verdict =
                            eval(condition, facts, facts.root, "", &mut leaf_observations);
                        if verdict != Verdict::Fail {
                            observations = leaf_observations;
                        }
                        verdict
                    }
                };
                match verdict {
                    Verdict::Pass => {
                        let result = match outcome.result {
                            OutcomeResult::Pass => RuleOutcome::Pass,
                            OutcomeResult::Fail => RuleOutcome::Fail,
                        };
                        decided = (result, Some(index));
                        break;
                    }
                    Verdict::Fail => continue,
                    Verdict::Inconclusive => break,
                }
            }
            decided
        }
        Check::Manual { .. } => (RuleOutcome::Manual, None),
    };
    if outcome == RuleOutcome::Fail {
        // Show the failing comparisons first.
        observations.sort_by_key(|o| o.verdict != "fail");
    }
    Evaluation {
        outcome,
        matched,
        observations,
    }
}

/// Evaluates every rule of a pack, in order.
pub fn evaluate_pack(pack: &Pack, facts: &Value) -> Vec<Evaluation> {
    let view = FactView::new(facts);
    pack.rules
        .iter()
        .map(|rule| evaluate_rule(rule, &view))
        .collect()
}

fn eval(
    condition: &Condition,
    facts: &FactView<'_>,
    base: &Value,
    base_path: &str,
    observations: &mut Vec<Observation>,
) -> Verdict {
    match condition {
        Condition::Leaf(leaf) => eval_leaf(leaf, facts, base, base_path, observations),
        // Every child is evaluated (no short-circuit) so every comparison is recorded.
        Condition::All(children) => Verdict::all(
            &children
                .iter()
                .map(|c| eval(c, facts, base, base_path, observations))
                .collect::<Vec<_>>(),
        ),
        Condition::Any(children) => Verdict::any(
            &children
                .iter()
                .map(|c| eval(c, facts, base, base_path, observations))
                .collect::<Vec<_>>(),
        ),
        Condition::Not(child) => match eval(child, facts, base, base_path, observations) {
            Verdict::Pass => Verdict::Fail,
            Verdict::Fail => Verdict::Pass,
            Verdict::Inconclusive => Verdict::Inconclusive,
        },
    }
}

/// How many failing list elements are shown per `every`/`some` leaf.
const MAX_ELEMENT_OBSERVATIONS: usize = 5;

fn eval_leaf(
    leaf: &Leaf,
    facts: &FactView<'_>,
    base: &Value,
    base_path: &str,
    observations: &mut Vec<Observation>,
) -> Verdict {
    let shown_path = if base_path.is_empty() {
        leaf.fact.0.clone()
    } else if leaf.fact.0.is_empty() {
        base_path.to_string()
    } else {
        format!("{base_path}.{}", leaf.fact.0)
    };
    let found = facts.lookup(base, base_path, &leaf.fact.0);
    let subject = if base_path.is_empty() {
        None
    } else {
        base.get("name").and_then(Value::as_str).map(str::to_string)
    };
    let record = |observations: &mut Vec<Observation>,
                  verdict: Verdict,
                  observed: Option<&Value>,
                  reason: Option<String>| {
        observations.push(Observation {
            fact: shown_path.clone(),
            operator: leaf.op.name().to_string(),
            expected: expected_value(&leaf.op),
            observed: observed.cloned(),
            verdict: match verdict {
                Verdict::Pass => "pass",
                Verdict::Fail => "fail",
                Verdict::Inconclusive => "inconclusive",
            }
            .to_string(),
            reason,
            subject: subject.clone(),
        });
        verdict
    };
    let value = match found {
        Lookup::Unobserved(reason) => {
            return record(observations, Verdict::Inconclusive, None, Some(reason));
        }
        Lookup::Missing => None,
        Lookup::Found(value) => Some(value),
    };
    let verdict = match (&leaf.op, value) {
        (Operator::Exists(want), v) => Verdict::from_bool(v.is_some() == *want),
        (Operator::Absent(want), v) => Verdict::from_bool(v.is_none() == *want),
        (Operator::Ne(expected), Some(v)) => Verdict::from_bool(!equal(v, expected)),
        (Operator::Ne(_), None) | (Operator::NotIn(_), None) => Verdict::Pass,
        (_, None) => Verdict::Fail,
        (Operator::Is(expected), Some(v)) => Verdict::from_bool(equal(v, expected)),
        (Operator::Lt(n), Some(v)) => compare(v, |x| x < *n),
        (Operator::Lte(n), Some(v)) => compare(v, |x| x <= *n),
        (Operator::Gt(n), Some(v)) => compare(v, |x| x > *n),
        (Operator::Gte(n), Some(v)) => compare(v, |x| x >= *n),
        (Operator::In(options), Some(v)) => Verdict::from_bool(options.iter().any(|o| equal(v, o))),
        (Operator::NotIn(options), Some(v)) => {
            Verdict::from_bool(!options.iter().any(|o| equal(v, o)))
        }
        (Operator::Contains(needle), Some(v)) => Verdict::from_bool(match (v, needle) {
            (Value::String(haystack), Value::String(needle)) => haystack.contains(needle.as_str()),
            (Value::Array(items), needle) => items.iter().any(|item| equal(item, needle)),
            _ => false,
        }),
        (Operator::Matches(regex), Some(v)) => {
            Verdict::from_bool(v.as_str().is_some_and(|s| regex.is_match(s)))
        }
        (Operator::Every(inner) | Operator::Some(inner), Some(v)) => {
            let Some(items) = v.as_array() else {
                return record(observations, Verdict::Fail, Some(v), None);
            };
            let every = matches!(leaf.op, Operator::Every(_));
            let mut element_observations = Vec::new();
            let mut verdicts = Vec::new();
            for (index, item) in items.iter().enumerate() {
                let mut scratch = Vec::new();
                let element_path = format!("{shown_path}[{index}]");
                let verdict = eval(inner, facts, item, &element_path, &mut scratch);
                let interesting = if every {
                    verdict != Verdict::Pass
                } else {
                    verdict == Verdict::Pass
                };
                if interesting && element_observations.len() < MAX_ELEMENT_OBSERVATIONS {
                    element_observations.extend(scratch);
                }
                verdicts.push(verdict);
            }
            let verdict = if every {
                Verdict::all(&verdicts)
            } else {
                Verdict::any(&verdicts)
            };
            // Element observations first: they say which element failed.
            observations.extend(element_observations);
            return record(observations, verdict, Some(&Value::from(items.len())), None);
        }
    };
    record(observations, verdict, value, None)
}

impl Verdict {
    fn from_bool(holds: bool) -> Self {
        if holds { Self::Pass } else { Self::Fail }
    }

    /// Conjunction: any failure fails, else any unknown is unknown, else pass (also when empty).
    fn all(verdicts: &[Verdict]) -> Self {
        if verdicts.contains(&Self::Fail) {
            Self::Fail
        } else if verdicts.contains(&Self::Inconclusive) {
            Self::Inconclusive
        } else {
            Self::Pass
        }
    }

    /// Disjunction: any pass passes, else any unknown is unknown, else fail (also when empty).
    fn any(verdicts: &[Verdict]) -> Self {
        if verdicts.contains(&Self::Pass) {
            Self::Pass
        } else if verdicts.contains(&Self::Inconclusive) {
            Self::Inconclusive
        } else {
            Self::Fail
        }
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn compare(value: &Value, test: impl Fn(f64) -> bool) -> Verdict {
    Verdict::from_bool(value.as_f64().is_some_and(test))
}

fn expected_value(op: &Operator) -> Value {
    match op {
        Operator::Is(v) | Operator::Ne(v) | Operator::Contains(v) => v.clone(),
        Operator::Lt(n) | Operator::Lte(n) | Operator::Gt(n) | Operator::Gte(n) => number(*n),
        Operator::In(vs) | Operator::NotIn(vs) => Value::Array(vs.clone()),
        Operator::Matches(regex) => Value::String(regex.as_str().to_string()),
        Operator::Exists(b) | Operator::Absent(b) => Value::Bool(*b),
        Operator::Every(_) | Operator::Some(_) => {
            Value::String("(condition on each element)".to_string())
        }
    }
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Catalogue;
    use crate::policy::load::load_pack;
    use serde_json::json;

    fn outcome_of(require: &str, facts: Value) -> (RuleOutcome, Vec<Observation>) {
        let text = format!(
            "pack: {{ id: t, title: T }}\nrules:\n  - id: T-1\n    title: X\n    category: http\n    severity: low\n    remediation: x\n    {require}\n"
        );
        let pack = load_pack("t.yaml", &text, Catalogue::shared()).unwrap();
        let view = FactView::new(&facts);
        let evaluation = evaluate_rule(&pack.rules[0], &view);
        (evaluation.outcome, evaluation.observations)
    }

    fn facts() -> Value {
        json!({
            "target": { "host": "a.test", "addresses": ["127.0.0.1"] },
            "http": {
                "hsts": { "present": true, "valid": true, "max_age": 300, "include_subdomains": false,
                          "preload": false, "header_count": 1, "errors": [] },
                "cookie_count": 2,
            },
            "cookies": [
                { "name": "a", "secure": true, "same_site": "lax" },
                { "name": "b", "secure": false },
            ],
            "unobserved": { "http.csp": "HTTPS not reachable: timeout" },
        })
    }

    #[test]
    fn comparison_records_expected_and_observed() {
        let (outcome, observations) = outcome_of(
            "require: { fact: http.hsts.max_age, gte: 31536000 }",
            facts(),
        );
        assert_eq!(outcome, RuleOutcome::Fail);
        assert_eq!(observations[0].observed, Some(json!(300)));
        assert_eq!(observations[0].expected, json!(31536000));
    }

    #[test]
    fn unobserved_fact_is_inconclusive_with_reason() {
        let (outcome, observations) =
            outcome_of("require: { fact: http.csp.present, is: true }", facts());
        assert_eq!(outcome, RuleOutcome::Inconclusive);
        assert_eq!(
            observations[0].reason.as_deref(),
            Some("HTTPS not reachable: timeout")
        );
        // Even a negated or `absent` test of an unobserved fact stays inconclusive.
        let (outcome, _) = outcome_of(
            "require: { not: { fact: http.csp.present, is: true } }",
            facts(),
        );
        assert_eq!(outcome, RuleOutcome::Inconclusive);
        let (outcome, _) = outcome_of("require: { fact: http.csp.raw, absent: true }", facts());
        assert_eq!(outcome, RuleOutcome::Inconclusive);
    }

    #[test]
    fn missing_field_of_observed_object_is_absent() {
        let mut f = facts();
        f["http"]["hsts"].as_object_mut().unwrap().remove("max_age");
        let (outcome, _) = outcome_of("require: { fact: http.hsts.max_age, gte: 1 }", f.clone());
        assert_eq!(outcome, RuleOutcome::Fail);
        let (outcome, _) = outcome_of("require: { fact: http.hsts.max_age, absent: true }", f);
        assert_eq!(outcome, RuleOutcome::Pass);
    }

    #[test]
    fn combinators_are_three_valued() {
        let fail_and_unknown = "require: { all: [ { fact: http.hsts.max_age, gte: 99999999 }, { fact: http.csp.present, is: true } ] }";
        assert_eq!(outcome_of(fail_and_unknown, facts()).0, RuleOutcome::Fail);
        let pass_or_unknown = "require: { any: [ { fact: http.hsts.present, is: true }, { fact: http.csp.present, is: true } ] }";
        assert_eq!(outcome_of(pass_or_unknown, facts()).0, RuleOutcome::Pass);
        let pass_and_unknown = "require: { all: [ { fact: http.hsts.present, is: true }, { fact: http.csp.present, is: true } ] }";
        assert_eq!(
            outcome_of(pass_and_unknown, facts()).0,
            RuleOutcome::Inconclusive
        );
    }

    #[test]
    fn every_and_some_over_lists() {
        let (outcome, observations) = outcome_of(
            "require: { fact: cookies, every: { fact: secure, is: true } }",
            facts(),
        );
        assert_eq!(outcome, RuleOutcome::Fail);
        assert!(observations.iter().any(|o| o.fact == "cookies[1].secure"));
        let (outcome, _) = outcome_of(
            "require: { fact: cookies, some: { fact: same_site, is: lax } }",
            facts(),
        );
        assert_eq!(outcome, RuleOutcome::Pass);
        let mut empty = facts();
        empty["cookies"] = json!([]);
        let (outcome, _) = outcome_of(
            "require: { fact: cookies, every: { fact: secure, is: true } }",
            empty,
        );
        assert_eq!(
            outcome,
            RuleOutcome::Pass,
            "vacuous: rule authors use applies_when"
        );
    }

    #[test]
    fn applies_when_false_is_not_applicable() {
        let (outcome, _) = outcome_of(
            "applies_when: { fact: http.cookie_count, gt: 5 }\n    require: { fact: cookies, every: { fact: secure, is: true } }",
            facts(),
        );
        assert_eq!(outcome, RuleOutcome::NotApplicable);
    }

    #[test]
    fn first_matching_outcome_wins() {
        let rule = "outcomes:\n      - { when: { fact: http.hsts.max_age, lt: 15552000 }, result: fail, code: short }\n      - { when: { fact: http.hsts.max_age, lt: 31536000 }, result: fail, code: medium }\n      - { result: pass }";
        let text = format!(
            "pack: {{ id: t, title: T }}\nrules:\n  - id: T-1\n    title: X\n    category: http\n    severity: low\n    remediation: x\n    {rule}\n"
        );
        let pack = load_pack("t.yaml", &text, Catalogue::shared()).unwrap();
        let f = facts();
        let evaluation = evaluate_rule(&pack.rules[0], &FactView::new(&f));
        assert_eq!(evaluation.outcome, RuleOutcome::Fail);
        assert_eq!(evaluation.matched, Some(0));
    }

    #[test]
    fn operators() {
        for (require, expected) in [
            (
                "{ fact: target.host, in: [a.test, b.test] }",
                RuleOutcome::Pass,
            ),
            ("{ fact: target.host, not_in: [a.test] }", RuleOutcome::Fail),
            (
                "{ fact: target.host, matches: \"^a\\\\.\" }",
                RuleOutcome::Pass,
            ),
            (
                "{ fact: target.host, contains: \".te\" }",
                RuleOutcome::Pass,
            ),
            (
                "{ fact: target.addresses, contains: \"127.0.0.1\" }",
                RuleOutcome::Pass,
            ),
            ("{ fact: http.hsts.max_age, ne: 300 }", RuleOutcome::Fail),
            ("{ fact: http.hsts.max_age, lt: 301 }", RuleOutcome::Pass),
            ("{ fact: http.hsts.max_age, gt: 300 }", RuleOutcome::Fail),
            ("{ fact: http.hsts.max_age, lte: 300 }", RuleOutcome::Pass),
            ("{ fact: http.hsts.raw, exists: false }", RuleOutcome::Pass),
            (
                "{ fact: target.addresses, every: { in: [\"127.0.0.1\"] } }",
                RuleOutcome::Pass,
            ),
            (
                "{ fact: target.addresses, some: { ne: \"127.0.0.1\" } }",
                RuleOutcome::Fail,
            ),
        ] {
            assert_eq!(
                outcome_of(&format!("require: {require}"), facts()).0,
                expected,
                "{require}"
            );
        }
    }
}
