//! Grading: turning rule outcomes into a score and a grade, per pack and per category.
//!
//! Each pack declares its scheme (base score, severity penalties, per-rule or per-outcome score
//! modifiers, grade bands, grade caps), so schemes like the Observatory's modifiers or SSL Labs'
//! caps are data. Inconclusive rules cost nothing and earn nothing; the grade says how many rules
//! it rests on. A scheme with `bonus_min` scores in two rounds, as the Observatory does: every
//! penalty first, then the bonuses, only if the score still reaches `bonus_min`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::policy::model::{Category, Check, Grading, Pack};
use crate::policy::{Evaluation, RuleOutcome};

/// A computed grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GradeResult {
    /// The grade, e.g. `A+`.
    pub grade: String,
    /// Score after modifiers (before caps).
    pub score: i64,
    /// The caps that lowered the grade, as `RULE-ID: GRADE`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capped_by: Vec<String>,
    /// Rules that passed or failed (the ones the grade rests on).
    pub decided: usize,
    /// Rules that could not be decided.
    pub inconclusive: usize,
}

/// The score modifier and cap one evaluated rule contributes.
pub fn contribution(pack: &Pack, index: usize, evaluation: &Evaluation) -> (i64, Option<String>) {
    let rule = &pack.rules[index];
    let penalty = -pack.grading.penalty(rule.severity);
    match (&rule.check, evaluation.matched) {
        (Check::Outcomes(outcomes), Some(matched)) => {
            let outcome = &outcomes[matched];
            let default = if evaluation.outcome == RuleOutcome::Fail {
                penalty
            } else {
                0
            };
            (outcome.score.unwrap_or(default), outcome.cap.clone())
        }
        _ if evaluation.outcome == RuleOutcome::Fail => {
            (rule.score.unwrap_or(penalty), rule.cap.clone())
        }
        _ => (0, None),
    }
}

/// Grades the rules of `pack` selected by `include` (all of them, or one category's).
pub fn grade(
    pack: &Pack,
    evaluations: &[Evaluation],
    include: impl Fn(Category) -> bool,
) -> GradeResult {
    let grading: &Grading = &pack.grading;
    let mut score = grading.base;
    let mut bonus: i64 = 0;
    let mut caps: Vec<(usize, String)> = Vec::new();
    let mut decided = 0;
    let mut inconclusive = 0;
    for (index, evaluation) in evaluations.iter().enumerate() {
        let rule = &pack.rules[index];
        if !include(rule.category) {
            continue;
        }
        match evaluation.outcome {
            RuleOutcome::Pass | RuleOutcome::Fail => decided += 1,
            RuleOutcome::Inconclusive => inconclusive += 1,
            RuleOutcome::NotApplicable | RuleOutcome::Manual => {}
        }
        let (modifier, cap) = contribution(pack, index, evaluation);
        if grading.bonus_min.is_some() && modifier > 0 {
            bonus = bonus.saturating_add(modifier);
        } else {
            score = score.saturating_add(modifier);
        }
        if let Some((cap, rank)) = cap.and_then(|cap| grading.rank(&cap).map(|rank| (cap, rank))) {
            caps.push((rank, format!("{}: {cap}", rule.id)));
        }
    }
    // With `bonus_min`, bonuses are a second round: they count only for a score that reached it.
    if grading.bonus_min.is_some_and(|min| score >= min) {
        score = score.saturating_add(bonus);
    }
    // Scores do not go below zero, however many rules fail.
    score = score.max(0);
    let by_score = grading
        .bands
        .iter()
        .position(|band| score >= band.min)
        .unwrap_or(grading.bands.len().saturating_sub(1));
    let worst_cap = caps.iter().map(|(rank, _)| *rank).max();
    let rank = worst_cap.map_or(by_score, |cap| cap.max(by_score));
    let capped_by = caps
        .into_iter()
        .filter(|(cap_rank, _)| *cap_rank > by_score)
        .map(|(_, text)| text)
        .collect();
    GradeResult {
        grade: grading
            .bands
            .get(rank)
            .map_or_else(|| "?".to_string(), |band| band.grade.clone()),
        score,
        capped_by,
        decided,
        inconclusive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Catalogue;
    use crate::policy::evaluate_pack;
    use crate::policy::load::load_pack;
    use serde_json::json;

    const PACK: &str = "pack: { id: t, title: T }
grading:
  base: 100
  penalties: { high: 20, low: 5 }
  bands: [ { grade: A, min: 90 }, { grade: B, min: 70 }, { grade: F, min: 0 } ]
rules:
  - id: R-HIGH
    title: high
    category: http
    severity: high
    remediation: x
    require: { fact: http.hsts.present, is: true }
  - id: R-LOW
    title: low
    category: cookies
    severity: low
    remediation: x
    require: { fact: http.cookie_count, is: 0 }
  - id: R-CAP
    title: capped
    category: http
    severity: info
    cap: B
    remediation: x
    require: { fact: http.hsts.preload, is: true }
  - id: R-UNKNOWN
    title: unknown
    category: http
    severity: high
    remediation: x
    require: { fact: http.csp.present, is: true }
  - id: R-OUT
    title: outcomes
    category: http
    severity: high
    remediation: x
    outcomes:
      - { when: { fact: http.hsts.max_age, lt: 100 }, result: fail, score: -3 }
      - { result: pass, score: 5 }
";

    fn run(facts: serde_json::Value) -> (Pack, Vec<Evaluation>) {
        let pack = load_pack("t.yaml", PACK, Catalogue::shared()).unwrap();
        let evaluations = evaluate_pack(&pack, &facts);
        (pack, evaluations)
    }

    fn facts(present: bool, preload: bool, cookies: u32, max_age: u64) -> serde_json::Value {
        json!({ "http": { "hsts": { "present": present, "preload": preload, "max_age": max_age }, "cookie_count": cookies },
                "unobserved": { "http.csp": "not reachable" } })
    }

    #[test]
    fn penalties_bonuses_and_bands() {
        let (pack, evaluations) = run(facts(true, true, 0, 1000));
        let result = grade(&pack, &evaluations, |_| true);
        assert_eq!((result.score, result.grade.as_str()), (105, "A"));
        assert_eq!((result.decided, result.inconclusive), (4, 1));
        let (pack, evaluations) = run(facts(false, true, 3, 10));
        let result = grade(&pack, &evaluations, |_| true);
        assert_eq!(result.score, 100 - 20 - 5 - 3);
        assert_eq!(result.grade, "B");
    }

    #[test]
    fn caps_lower_the_grade() {
        let (pack, evaluations) = run(facts(true, false, 0, 1000));
        let result = grade(&pack, &evaluations, |_| true);
        assert_eq!(result.score, 105);
        assert_eq!(result.grade, "B");
        assert_eq!(result.capped_by, ["R-CAP: B"]);
    }

    #[test]
    fn categories_are_graded_separately() {
        let (pack, evaluations) = run(facts(true, true, 3, 1000));
        let cookies = grade(&pack, &evaluations, |c| c == Category::Cookies);
        assert_eq!((cookies.score, cookies.grade.as_str()), (95, "A"));
        let http = grade(&pack, &evaluations, |c| c == Category::Http);
        assert_eq!(http.score, 105);
    }

    const BONUS_PACK: &str = "pack: { id: t, title: T }
grading:
  base: 100
  bonus_min: 90
  bands: [ { grade: A+, min: 100 }, { grade: A, min: 90 }, { grade: B, min: 70 }, { grade: F, min: 0 } ]
rules:
  - id: R-PENALTY
    title: penalty
    category: http
    severity: low
    remediation: x
    outcomes:
      - { when: { fact: http.hsts.max_age, lt: 100 }, result: fail, score: -15 }
      - { when: { fact: http.hsts.max_age, lt: 1000 }, result: fail, score: -10 }
      - { result: pass, score: 0 }
  - id: R-BONUS
    title: bonus
    category: http
    severity: low
    remediation: x
    outcomes:
      - { when: { fact: http.hsts.preload, is: true }, result: pass, score: 5 }
      - { result: pass, score: 0 }
";

    fn bonus_grade(max_age: u64) -> GradeResult {
        let pack = load_pack("t.yaml", BONUS_PACK, Catalogue::shared()).unwrap();
        let evaluations = evaluate_pack(&pack, &facts(true, true, 0, max_age));
        grade(&pack, &evaluations, |_| true)
    }

    #[test]
    fn bonuses_count_only_above_bonus_min() {
        // 100 − 10 = 90 ≥ 90, so the +5 bonus counts: 95 (A).
        assert_eq!(bonus_grade(500).score, 95);
        // 100 − 15 = 85 < 90: no bonus, 85 (B) — not 90 (A) as a one-round sum would give.
        let result = bonus_grade(50);
        assert_eq!((result.score, result.grade.as_str()), (85, "B"));
        // No penalty: 100 + 5 = 105 (A+).
        assert_eq!(bonus_grade(5000).score, 105);
    }

    #[test]
    fn same_input_same_grade() {
        let (pack, evaluations) = run(facts(false, false, 1, 1));
        assert_eq!(
            grade(&pack, &evaluations, |_| true),
            grade(&pack, &evaluations, |_| true)
        );
    }
}
