//! Loading rule files: YAML → spanned tree → validated [`Pack`], collecting every problem.
//!
//! Validation never stops at the first problem: unknown keys, missing keys, wrong types, unknown
//! fact paths and bad operator values are all reported together, each with file, line and column.

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::Value;

use super::diag::{Diagnostic, codes};
use super::model::{
    Attestation, AttestedStatus, Band, Category, Check, Condition, Extends, FactPath, Grading,
    Leaf, Operator, Outcome, OutcomeResult, Override, Pack, PolicySource, Rule, RuleId, Severity,
};
use super::yaml::{self, Node, NodeValue, Span};
use crate::facts::{Catalogue, FactInfo, FactKind};

const PACK_KEYS: [&str; 4] = ["pack", "grading", "rules", "overrides"];
const PACK_META_KEYS: [&str; 4] = ["id", "title", "description", "extends"];
const OVERRIDE_KEYS: [&str; 3] = ["rule", "severity", "disabled"];
const ATTESTATION_FILE_KEYS: [&str; 1] = ["attestations"];
const ATTESTATION_KEYS: [&str; 4] = ["status", "evidence", "reviewed", "by"];
const GRADING_KEYS: [&str; 4] = ["base", "penalties", "bands", "bonus_min"];
const BAND_KEYS: [&str; 2] = ["grade", "min"];
const RULE_KEYS: [&str; 14] = [
    "id",
    "title",
    "category",
    "severity",
    "source",
    "applies_when",
    "require",
    "outcomes",
    "manual",
    "remediation",
    "references",
    "score",
    "cap",
    "note",
];
const SOURCE_KEYS: [&str; 4] = ["doc", "section", "quote", "url"];
const OUTCOME_KEYS: [&str; 6] = ["when", "result", "code", "score", "cap", "message"];
const MANUAL_KEYS: [&str; 1] = ["evidence"];
const COMBINATORS: [&str; 3] = ["all", "any", "not"];
const RESERVED_EXPR: &str = "expr";

/// Parses and validates one rule file. `file` is the name used in diagnostics.
pub fn load_pack(file: &str, text: &str, catalogue: &Catalogue) -> Result<Pack, Vec<Diagnostic>> {
    validate(file, text, catalogue, |validator, root| {
        validator.pack(root)
    })?
    .ok_or_else(Vec::new)
}

/// Parses `text` as YAML and runs `check` over it with a fresh validator: `Err` with every
/// diagnostic when the YAML is invalid or `check` reported any problem.
fn validate<T>(
    file: &str,
    text: &str,
    catalogue: &Catalogue,
    check: impl FnOnce(&mut Validator<'_>, &Node) -> T,
) -> Result<T, Vec<Diagnostic>> {
    let root = match yaml::parse(text) {
        Ok(root) => root,
        Err(error) => {
            return Err(vec![Diagnostic {
                code: codes::SYNTAX,
                message: format!("invalid YAML: {}", error.message),
                file: file.to_string(),
                span: error.span,
                label: "the parser stopped here".to_string(),
                help: None,
            }]);
        }
    };
    let mut validator = Validator {
        file,
        catalogue,
        diagnostics: Vec::new(),
    };
    let result = check(&mut validator, &root);
    if validator.diagnostics.is_empty() {
        Ok(result)
    } else {
        Err(validator.diagnostics)
    }
}

/// Parses and validates an attestations file: `attestations:` mapping rule ids to
/// `{status: pass|fail, evidence, reviewed: YYYY-MM-DD, by}`. Returns each attestation with the
/// position of its rule id (for checking the ids against the packs).
pub fn load_attestations(
    file: &str,
    text: &str,
    catalogue: &Catalogue,
) -> Result<Vec<(Attestation, Span)>, Vec<Diagnostic>> {
    validate(file, text, catalogue, |validator, root| {
        validator.attestations(root)
    })
}

/// The string keys of a mapping, after unknown keys have been reported.
struct Fields<'n> {
    entries: Vec<(&'n str, &'n Node)>,
    span: Span,
    /// Allowed keys that an unknown key was taken to be a misspelling of; their absence is not
    /// reported again.
    misspelled: Vec<String>,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }
}

struct Validator<'a> {
    file: &'a str,
    catalogue: &'a Catalogue,
    diagnostics: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn report(
        &mut self,
        code: &'static str,
        span: Span,
        message: String,
        label: &str,
        help: Option<String>,
    ) {
        self.diagnostics.push(Diagnostic {
            code,
            message,
            file: self.file.to_string(),
            span: Some(span),
            label: label.to_string(),
            help,
        });
    }

    fn wrong_type(&mut self, node: &Node, what: &str, expected: &str) {
        self.report(
            codes::WRONG_TYPE,
            node.span,
            format!("{what} must be {expected}, found {}", node.value.kind()),
            &format!("expected {expected}"),
            None,
        );
    }

    /// Checks that `node` is a mapping with only `allowed` keys.
    fn fields<'n>(&mut self, node: &'n Node, what: &str, allowed: &[&str]) -> Option<Fields<'n>> {
        let Some(entries) = node.as_map() else {
            self.wrong_type(node, what, "a mapping");
            return None;
        };
        let mut fields = Fields {
            entries: Vec::new(),
            span: node.span,
            misspelled: Vec::new(),
        };
        let mut seen = BTreeSet::new();
        for (key, value) in entries {
            let Some(name) = key.as_str() else {
                self.wrong_type(key, &format!("a key of {what}"), "text");
                continue;
            };
            if name == RESERVED_EXPR {
                self.report(
                    codes::RESERVED,
                    key.span,
                    "`expr:` is reserved for a future expression language".to_string(),
                    "not supported yet",
                    Some("write the condition with `fact:` and an operator, combined with `all`, `any` and `not`".to_string()),
                );
                continue;
            }
            if !allowed.contains(&name) {
                let suggestion = suggest(name, allowed.iter().copied());
                if let Some(allowed_key) = suggestion {
                    fields.misspelled.push(allowed_key.to_string());
                }
                let help = suggestion.map_or_else(
                    || Some(format!("expected one of: {}", allowed.join(", "))),
                    |s| Some(format!("did you mean `{s}`?")),
                );
                self.report(
                    codes::UNKNOWN_KEY,
                    key.span,
                    format!("unknown key `{name}` in {what}"),
                    "unknown key",
                    help,
                );
                continue;
            }
            if !seen.insert(name) {
                self.report(
                    codes::UNKNOWN_KEY,
                    key.span,
                    format!("key `{name}` appears twice in {what}"),
                    "duplicate key",
                    None,
                );
                continue;
            }
            fields.entries.push((name, value));
        }
        Some(fields)
    }

    fn required<'n>(&mut self, fields: &Fields<'n>, key: &str, what: &str) -> Option<&'n Node> {
        let node = fields.get(key);
        if node.is_none() && !fields.misspelled.iter().any(|m| m == key) {
            self.report(
                codes::MISSING_KEY,
                fields.span,
                format!("{what} lacks the required key `{key}`"),
                &format!("`{key}` missing here"),
                None,
            );
        }
        node
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            NodeValue::Str(s) if !s.trim().is_empty() => Some(s.clone()),
            NodeValue::Str(_) => {
                self.report(
                    codes::INVALID_VALUE,
                    node.span,
                    format!("{what} must not be empty"),
                    "empty",
                    None,
                );
                None
            }
            _ => {
                self.wrong_type(node, what, "text");
                None
            }
        }
    }

    fn integer(&mut self, node: &Node, what: &str) -> Option<i64> {
        match node.value {
            NodeValue::Int(i) => Some(i),
            _ => {
                self.wrong_type(node, what, "an integer");
                None
            }
        }
    }

    fn string_list(&mut self, node: &Node, what: &str) -> Vec<String> {
        match &node.value {
            NodeValue::Seq(items) => items
                .iter()
                .filter_map(|item| self.string(item, &format!("an entry of {what}")))
                .collect(),
            NodeValue::Str(s) => vec![s.clone()],
            _ => {
                self.wrong_type(node, what, "a list of text");
                Vec::new()
            }
        }
    }

    fn optional_string(&mut self, fields: &Fields<'_>, key: &str, what: &str) -> Option<String> {
        fields.get(key).and_then(|node| self.string(node, what))
    }

    fn pack(&mut self, root: &Node) -> Option<Pack> {
        let top = self.fields(root, "the rule file", &PACK_KEYS)?;
        let meta = self
            .required(&top, "pack", "the rule file")
            .and_then(|node| self.fields(node, "`pack`", &PACK_META_KEYS));
        let (id, title, description) = match &meta {
            Some(meta) => (
                self.required(meta, "id", "`pack`")
                    .and_then(|n| self.string(n, "the pack id")),
                self.required(meta, "title", "`pack`")
                    .and_then(|n| self.string(n, "the pack title")),
                self.optional_string(meta, "description", "the pack description"),
            ),
            None => (None, None, None),
        };
        let extends = meta.as_ref().and_then(|meta| {
            let node = meta.get("extends")?;
            let name = self.string(node, "`extends`")?;
            Some(Extends {
                name,
                span: node.span,
            })
        });
        let grading = match top.get("grading") {
            Some(node) => self.grading(node),
            None => Grading::default(),
        };
        let overrides = match top.get("overrides") {
            Some(node) if extends.is_none() => {
                self.report(
                    codes::MISSING_KEY,
                    node.span,
                    "`overrides` change the rules of an extended pack, but this pack extends none"
                        .to_string(),
                    "nothing to override",
                    Some("add `extends: PACK` under `pack:`".to_string()),
                );
                Vec::new()
            }
            Some(node) => self.overrides(node),
            None => Vec::new(),
        };
        let mut rules = Vec::new();
        let mut ids: BTreeSet<String> = BTreeSet::new();
        let rules_node = if extends.is_some() {
            top.get("rules")
        } else {
            self.required(&top, "rules", "the rule file")
        };
        match rules_node.map(|n| &n.value) {
            Some(NodeValue::Seq(items)) => {
                for item in items {
                    if let Some(rule) = self.rule(item, &grading) {
                        if !ids.insert(rule.id.0.clone()) {
                            let span = item
                                .as_map()
                                .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some("id")))
                                .map_or(item.span, |(_, v)| v.span);
                            self.report(
                                codes::DUPLICATE_ID,
                                span,
                                format!("rule id `{}` is used twice", rule.id),
                                "duplicate id",
                                Some(
                                    "rule ids are public API: give every rule its own".to_string(),
                                ),
                            );
                        }
                        rules.push(rule);
                    }
                }
            }
            Some(_) => {
                if let Some(node) = top.get("rules") {
                    self.wrong_type(node, "`rules`", "a list of rules");
                }
            }
            None => {}
        }
        Some(Pack {
            id: id?,
            title: title?,
            description: description.unwrap_or_default(),
            origin: self.file.to_string(),
            grading_given: top.get("grading").is_some(),
            grading,
            rules,
            extends,
            overrides,
        })
    }

    fn attestations(&mut self, root: &Node) -> Vec<(Attestation, Span)> {
        let Some(top) = self.fields(root, "the attestations file", &ATTESTATION_FILE_KEYS) else {
            return Vec::new();
        };
        let Some(node) = self.required(&top, "attestations", "the attestations file") else {
            return Vec::new();
        };
        let Some(entries) = node.as_map() else {
            self.wrong_type(
                node,
                "`attestations`",
                "a mapping of rule ids to attestations",
            );
            return Vec::new();
        };
        let mut found: Vec<(Attestation, Span)> = Vec::new();
        for (key, value) in entries {
            let Some(rule) = self.string(key, "a rule id") else {
                continue;
            };
            if found.iter().any(|(a, _)| a.rule == rule) {
                self.report(
                    codes::DUPLICATE_ID,
                    key.span,
                    format!("rule `{rule}` is attested twice"),
                    "second attestation",
                    None,
                );
                continue;
            }
            let what = format!("the attestation of `{rule}`");
            let Some(fields) = self.fields(value, &what, &ATTESTATION_KEYS) else {
                continue;
            };
            let status = self.required(&fields, "status", &what).and_then(|n| {
                let text = self.string(n, "`status`")?;
                match text.as_str() {
                    "pass" => Some(AttestedStatus::Pass),
                    "fail" => Some(AttestedStatus::Fail),
                    other => {
                        self.invalid_choice(n, "status", other, &["pass", "fail"]);
                        None
                    }
                }
            });
            let evidence = self
                .required(&fields, "evidence", &what)
                .and_then(|n| self.string(n, "`evidence`"));
            let by = self
                .required(&fields, "by", &what)
                .and_then(|n| self.string(n, "`by`"));
            let reviewed = self.required(&fields, "reviewed", &what).and_then(|n| {
                let text = self.string(n, "`reviewed`")?;
                let valid = text.len() == 10
                    && humantime::parse_rfc3339(&format!("{text}T00:00:00Z")).is_ok();
                if !valid {
                    self.report(
                        codes::INVALID_VALUE,
                        n.span,
                        format!("`reviewed: {text}` is not a date"),
                        "not YYYY-MM-DD",
                        Some("write the review date as YYYY-MM-DD".to_string()),
                    );
                    return None;
                }
                Some(text)
            });
            if let (Some(status), Some(evidence), Some(reviewed), Some(by)) =
                (status, evidence, reviewed, by)
            {
                found.push((
                    Attestation {
                        rule,
                        status,
                        evidence,
                        reviewed,
                        by,
                    },
                    key.span,
                ));
            }
        }
        found
    }

    fn overrides(&mut self, node: &Node) -> Vec<Override> {
        let NodeValue::Seq(items) = &node.value else {
            self.wrong_type(
                node,
                "`overrides`",
                "a list of `{ rule: ID, severity: … }` entries",
            );
            return Vec::new();
        };
        let mut overrides = Vec::new();
        for item in items {
            let Some(fields) = self.fields(item, "an override", &OVERRIDE_KEYS) else {
                continue;
            };
            let Some(rule) = self
                .required(&fields, "rule", "an override")
                .and_then(|n| self.string(n, "the rule id"))
            else {
                continue;
            };
            let severity = fields.get("severity").and_then(|n| self.severity(n));
            let disabled = match fields.get("disabled").map(|n| &n.value) {
                None => false,
                Some(NodeValue::Bool(flag)) => *flag,
                Some(_) => {
                    if let Some(n) = fields.get("disabled") {
                        self.wrong_type(n, "`disabled`", "true or false");
                    }
                    false
                }
            };
            if severity.is_none() && !disabled {
                self.report(
                    codes::MISSING_KEY,
                    fields.span,
                    format!("the override of `{rule}` changes nothing"),
                    "override without effect",
                    Some("give `severity: …` or `disabled: true`".to_string()),
                );
            }
            overrides.push(Override {
                rule,
                span: fields.span,
                severity,
                disabled,
            });
        }
        overrides
    }

    fn grading(&mut self, node: &Node) -> Grading {
        let mut grading = Grading::default();
        let Some(fields) = self.fields(node, "`grading`", &GRADING_KEYS) else {
            return grading;
        };
        if let Some(base) = fields.get("base").and_then(|n| self.integer(n, "`base`")) {
            grading.base = base;
        }
        if let Some(node) = fields.get("bonus_min") {
            grading.bonus_min = self.integer(node, "`bonus_min`");
        }
        if let Some(penalties) = fields.get("penalties") {
            let names: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
            if let Some(entries) = self.fields(penalties, "`penalties`", &names) {
                for (name, value) in entries.entries {
                    if let (Some(severity), Some(points)) =
                        (Severity::parse(name), self.integer(value, "a penalty"))
                    {
                        grading.penalties[severity as usize] = points;
                    }
                }
            }
        }
        if let Some(bands_node) = fields.get("bands") {
            match &bands_node.value {
                NodeValue::Seq(items) if !items.is_empty() => {
                    let mut bands = Vec::new();
                    for item in items {
                        let Some(band) = self.fields(item, "a grade band", &BAND_KEYS) else {
                            continue;
                        };
                        let grade = self
                            .required(&band, "grade", "a grade band")
                            .and_then(|n| self.string(n, "`grade`"));
                        let min = self
                            .required(&band, "min", "a grade band")
                            .and_then(|n| self.integer(n, "`min`"));
                        if let (Some(grade), Some(min)) = (grade, min) {
                            if bands.last().is_some_and(|prev: &Band| prev.min <= min) {
                                self.report(
                                    codes::INVALID_VALUE,
                                    item.span,
                                    format!("band `{grade}` must have a lower `min` than the band before it"),
                                    "bands go from best to worst",
                                    None,
                                );
                            }
                            bands.push(Band { grade, min });
                        }
                    }
                    if let Some(last) = bands.last_mut() {
                        // The worst band catches every score below it.
                        last.min = i64::MIN;
                    }
                    grading.bands = bands;
                }
                _ => self.wrong_type(bands_node, "`bands`", "a non-empty list of bands"),
            }
        }
        grading
    }

    fn grade_cap(&mut self, node: &Node, grading: &Grading) -> Option<String> {
        let grade = self.string(node, "`cap`")?;
        if grading.rank(&grade).is_none() {
            let names: Vec<&str> = grading.bands.iter().map(|b| b.grade.as_str()).collect();
            self.report(
                codes::INVALID_VALUE,
                node.span,
                format!("`cap` names grade `{grade}`, which is not a band of this pack"),
                "unknown grade",
                Some(format!("grades of this pack: {}", names.join(", "))),
            );
            return None;
        }
        Some(grade)
    }

    fn rule(&mut self, node: &Node, grading: &Grading) -> Option<Rule> {
        let fields = self.fields(node, "a rule", &RULE_KEYS)?;
        let id = self
            .required(&fields, "id", "a rule")
            .and_then(|n| self.rule_id(n));
        let what = id
            .as_deref()
            .map_or_else(|| "a rule".to_string(), |id| format!("rule `{id}`"));
        let title = self
            .required(&fields, "title", &what)
            .and_then(|n| self.string(n, "`title`"));
        let category = self
            .required(&fields, "category", &what)
            .and_then(|n| self.category(n));
        let severity = self
            .required(&fields, "severity", &what)
            .and_then(|n| self.severity(n));
        let source = fields.get("source").and_then(|n| self.source(n));
        let applies_when = fields
            .get("applies_when")
            .and_then(|n| self.condition(n, None));
        let remediation = self.optional_string(&fields, "remediation", "`remediation`");
        let note = self.optional_string(&fields, "note", "`note`");
        let references = fields
            .get("references")
            .map(|n| self.string_list(n, "`references`"))
            .unwrap_or_default();
        let score = fields.get("score").and_then(|n| self.integer(n, "`score`"));
        let cap = fields.get("cap").and_then(|n| self.grade_cap(n, grading));
        let checks: Vec<&str> = ["require", "outcomes", "manual"]
            .into_iter()
            .filter(|k| fields.get(k).is_some())
            .collect();
        let check = match checks.as_slice() {
            ["require"] => fields
                .get("require")
                .and_then(|n| self.condition(n, None))
                .map(Check::Require),
            ["outcomes"] => fields
                .get("outcomes")
                .and_then(|n| self.outcomes(n, grading)),
            ["manual"] => fields.get("manual").and_then(|n| self.manual(n)),
            [] => {
                self.report(
                    codes::MISSING_KEY,
                    fields.span,
                    format!("{what} needs one of `require`, `outcomes` or `manual`"),
                    "no check here",
                    None,
                );
                None
            }
            _ => {
                self.report(
                    codes::CONDITION_SHAPE,
                    fields.span,
                    format!("{what} has more than one of `require`, `outcomes`, `manual`"),
                    "choose one",
                    None,
                );
                None
            }
        };
        let is_manual = matches!(check, Some(Check::Manual { .. }));
        if remediation.is_none()
            && !is_manual
            && fields.get("remediation").is_none()
            && !fields.misspelled.iter().any(|m| m == "remediation")
        {
            self.report(
                codes::MISSING_KEY,
                fields.span,
                format!("{what} lacks the required key `remediation`"),
                "`remediation` missing here",
                Some("say what to change when the rule fails".to_string()),
            );
        }
        Some(Rule {
            id: RuleId(id?),
            title: title?,
            category: category?,
            severity: severity?,
            source,
            applies_when,
            check: check?,
            remediation: remediation.unwrap_or_default(),
            note,
            references,
            score,
            cap,
        })
    }

    fn rule_id(&mut self, node: &Node) -> Option<String> {
        let id = self.string(node, "the rule id")?;
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            self.report(
                codes::INVALID_VALUE,
                node.span,
                format!("rule id `{id}` may use only letters, digits, `-`, `_` and `.`"),
                "invalid id",
                None,
            );
            return None;
        }
        Some(id)
    }

    fn category(&mut self, node: &Node) -> Option<Category> {
        let text = self.string(node, "`category`")?;
        let found = Category::parse(&text);
        if found.is_none() {
            let names = Category::ALL.map(Category::as_str);
            self.invalid_choice(node, "category", &text, &names);
        }
        found
    }

    fn severity(&mut self, node: &Node) -> Option<Severity> {
        let text = self.string(node, "`severity`")?;
        let found = Severity::parse(&text);
        if found.is_none() {
            let names = Severity::ALL.map(Severity::as_str);
            self.invalid_choice(node, "severity", &text, &names);
        }
        found
    }

    fn invalid_choice(&mut self, node: &Node, what: &str, text: &str, choices: &[&str]) {
        let help = suggest(text, choices.iter().copied()).map_or_else(
            || format!("expected one of: {}", choices.join(", ")),
            |s| format!("did you mean `{s}`?"),
        );
        self.report(
            codes::INVALID_VALUE,
            node.span,
            format!("`{text}` is not a {what}"),
            &format!("unknown {what}"),
            Some(help),
        );
    }

    fn source(&mut self, node: &Node) -> Option<PolicySource> {
        let fields = self.fields(node, "`source`", &SOURCE_KEYS)?;
        let doc = self
            .required(&fields, "doc", "`source`")
            .and_then(|n| self.string(n, "`doc`"));
        Some(PolicySource {
            doc: doc?,
            section: self.optional_string(&fields, "section", "`section`"),
            quote: self.optional_string(&fields, "quote", "`quote`"),
            url: self.optional_string(&fields, "url", "`url`"),
        })
    }

    fn manual(&mut self, node: &Node) -> Option<Check> {
        let fields = self.fields(node, "`manual`", &MANUAL_KEYS)?;
        let evidence = self
            .required(&fields, "evidence", "`manual`")
            .map(|n| self.string_list(n, "`evidence`"))?;
        Some(Check::Manual { evidence })
    }

    fn outcomes(&mut self, node: &Node, grading: &Grading) -> Option<Check> {
        let NodeValue::Seq(items) = &node.value else {
            self.wrong_type(node, "`outcomes`", "a list of outcomes");
            return None;
        };
        let mut outcomes = Vec::new();
        let mut complete = true;
        for item in items {
            let Some(fields) = self.fields(item, "an outcome", &OUTCOME_KEYS) else {
                complete = false;
                continue;
            };
            let when = match fields.get("when") {
                Some(n) => match self.condition(n, None) {
                    Some(c) => Some(c),
                    None => {
                        complete = false;
                        continue;
                    }
                },
                None => None,
            };
            let result = self
                .required(&fields, "result", "an outcome")
                .and_then(|n| {
                    let text = self.string(n, "`result`")?;
                    match text.as_str() {
                        "pass" => Some(OutcomeResult::Pass),
                        "fail" => Some(OutcomeResult::Fail),
                        _ => {
                            self.invalid_choice(n, "result", &text, &["pass", "fail"]);
                            None
                        }
                    }
                });
            let Some(result) = result else {
                complete = false;
                continue;
            };
            outcomes.push(Outcome {
                when,
                result,
                code: self.optional_string(&fields, "code", "`code`"),
                score: fields.get("score").and_then(|n| self.integer(n, "`score`")),
                cap: fields.get("cap").and_then(|n| self.grade_cap(n, grading)),
                message: self.optional_string(&fields, "message", "`message`"),
            });
        }
        if complete && outcomes.last().is_none_or(|o| o.when.is_some()) {
            self.report(
                codes::MISSING_KEY,
                node.span,
                "the last outcome must have no `when`, so every case has a result".to_string(),
                "no catch-all outcome",
                None,
            );
            return None;
        }
        complete.then_some(Check::Outcomes(outcomes))
    }

    /// Validates a condition. `list` is the list path when inside `every`/`some`.
    fn condition(&mut self, node: &Node, list: Option<&str>) -> Option<Condition> {
        let mut allowed: Vec<&str> = vec!["fact"];
        allowed.extend(COMBINATORS);
        allowed.extend(Operator::NAMES);
        let fields = self.fields(node, "a condition", &allowed)?;
        let combinators: Vec<&str> = COMBINATORS
            .into_iter()
            .filter(|k| fields.get(k).is_some())
            .collect();
        let operators: Vec<&str> = Operator::NAMES
            .into_iter()
            .filter(|k| fields.get(k).is_some())
            .collect();
        let fact = fields.get("fact");
        // Inside `every`/`some` over a list of plain values, a leaf tests the value itself.
        let element_kind = list
            .and_then(|l| self.catalogue.get(l))
            .and_then(|info| info.element)
            .filter(|kind| *kind != FactKind::Object);
        match (combinators.as_slice(), fact, operators.as_slice()) {
            ([], None, [operator]) if element_kind.is_some() => {
                let value = fields.get(operator)?;
                let list = list.unwrap_or_default();
                let info = FactInfo {
                    kind: element_kind.unwrap_or(FactKind::String),
                    element: None,
                    values: Vec::new(),
                    description: format!("an element of {list}"),
                };
                let op = self.operator(operator, value, &format!("{list}[]"), list, &info)?;
                Some(Condition::Leaf(Leaf {
                    fact: FactPath(String::new()),
                    op,
                }))
            }
            ([], Some(fact), [_]) if element_kind.is_some() => {
                self.report(
                    codes::CONDITION_SHAPE,
                    fact.span,
                    format!(
                        "`{}` is a list of values: inside `every`/`some` leave out `fact`",
                        list.unwrap_or_default()
                    ),
                    "not a field",
                    Some("write e.g. `every: { in: [a, b] }`".to_string()),
                );
                None
            }
            ([combinator], None, []) => {
                let child = fields.get(combinator)?;
                match *combinator {
                    "not" => self
                        .condition(child, list)
                        .map(|c| Condition::Not(Box::new(c))),
                    _ => {
                        let NodeValue::Seq(items) = &child.value else {
                            self.wrong_type(
                                child,
                                &format!("`{combinator}`"),
                                "a list of conditions",
                            );
                            return None;
                        };
                        if items.is_empty() {
                            self.report(
                                codes::CONDITION_SHAPE,
                                child.span,
                                format!("`{combinator}` needs at least one condition"),
                                "empty",
                                None,
                            );
                            return None;
                        }
                        let children: Vec<Option<Condition>> = items
                            .iter()
                            .map(|item| self.condition(item, list))
                            .collect();
                        let children: Option<Vec<Condition>> = children.into_iter().collect();
                        let children = children?;
                        Some(if *combinator == "all" {
                            Condition::All(children)
                        } else {
                            Condition::Any(children)
                        })
                    }
                }
            }
            ([], Some(fact), [operator]) => {
                let value = fields.get(operator)?;
                self.leaf(fact, operator, value, list).map(Condition::Leaf)
            }
            ([], Some(_), []) => {
                self.report(
                    codes::CONDITION_SHAPE,
                    fields.span,
                    "this condition names a fact but no operator".to_string(),
                    "operator missing",
                    Some(format!("add one of: {}", Operator::NAMES.join(", "))),
                );
                None
            }
            ([], None, [_, ..]) => {
                self.report(
                    codes::MISSING_KEY,
                    fields.span,
                    "this condition has an operator but no `fact`".to_string(),
                    "`fact` missing here",
                    None,
                );
                None
            }
            ([], None, []) => {
                self.report(
                    codes::CONDITION_SHAPE,
                    fields.span,
                    "empty condition".to_string(),
                    "expected `fact:` with an operator, or `all`/`any`/`not`",
                    None,
                );
                None
            }
            _ => {
                self.report(
                    codes::CONDITION_SHAPE,
                    fields.span,
                    "a condition is either one `fact` with one operator, or one of `all`, `any`, `not`".to_string(),
                    "mixed or repeated operators",
                    Some("nest several checks inside `all:` or `any:`".to_string()),
                );
                None
            }
        }
    }

    fn leaf(
        &mut self,
        fact: &Node,
        operator: &str,
        value: &Node,
        list: Option<&str>,
    ) -> Option<Leaf> {
        let path = self.string(fact, "`fact`")?;
        let full = match list {
            Some(list) => format!("{list}[].{path}"),
            None => path.clone(),
        };
        let Some(info) = self.catalogue.get(&full).cloned() else {
            let prefix = list.map(|l| format!("{l}[]."));
            let suggestion = self
                .catalogue
                .suggest_among(&full, |candidate| {
                    prefix.as_deref().is_none_or(|p| candidate.starts_with(p))
                        && (prefix.is_some() || !candidate.contains("[]"))
                })
                .map(|s| {
                    prefix
                        .as_deref()
                        .map_or(s, |p| s.trim_start_matches(p))
                        .to_string()
                });
            let (message, label) = match list {
                Some(list) => (
                    format!("unknown fact `{path}` in the elements of `{list}`"),
                    "not a field of the list's elements",
                ),
                None => (
                    format!("unknown fact path `{path}`"),
                    "not in the facts catalogue",
                ),
            };
            let help = suggestion.map_or_else(
                || Some("`secaudit rules facts` lists every fact path".to_string()),
                |s| Some(format!("did you mean `{s}`?")),
            );
            self.report(codes::UNKNOWN_FACT, fact.span, message, label, help);
            return None;
        };
        let op = self.operator(operator, value, &path, &full, &info)?;
        Some(Leaf {
            fact: FactPath(path),
            op,
        })
    }

    fn value_mismatch(
        &mut self,
        value: &Node,
        operator: &str,
        path: &str,
        info: &FactInfo,
        expected: &str,
    ) {
        self.report(
            codes::VALUE_TYPE,
            value.span,
            format!(
                "`{operator}` on `{path}` ({}) expects {expected}, found {}",
                info.kind,
                value.value.kind()
            ),
            &format!("expected {expected}"),
            None,
        );
    }

    /// Checks a scalar against a fact of `kind` (with its allowed `values`).
    fn scalar(
        &mut self,
        value: &Node,
        operator: &str,
        path: &str,
        info: &FactInfo,
        kind: FactKind,
    ) -> Option<Value> {
        let ok = matches!(
            (kind, &value.value),
            (FactKind::Boolean, NodeValue::Bool(_))
                | (FactKind::Integer, NodeValue::Int(_))
                | (FactKind::Number, NodeValue::Int(_) | NodeValue::Float(_))
                | (FactKind::String, NodeValue::Str(_))
        );
        if !ok {
            let expected = match kind {
                FactKind::Boolean => "true or false",
                FactKind::Integer => "an integer",
                FactKind::Number => "a number",
                FactKind::String => "text",
                _ => "a single value",
            };
            self.value_mismatch(value, operator, path, info, expected);
            return None;
        }
        if let (NodeValue::Str(text), false) = (&value.value, info.values.is_empty())
            && !info.values.iter().any(|v| v == text)
        {
            let help = suggest(text, info.values.iter().map(String::as_str)).map_or_else(
                || format!("expected one of: {}", info.values.join(", ")),
                |s| format!("did you mean `{s}`?"),
            );
            self.report(
                codes::VALUE_TYPE,
                value.span,
                format!("`{text}` is never a value of `{path}`"),
                "not a possible value",
                Some(help),
            );
            return None;
        }
        Some(value.to_json())
    }

    fn operator(
        &mut self,
        operator: &str,
        value: &Node,
        path: &str,
        full: &str,
        info: &FactInfo,
    ) -> Option<Operator> {
        let scalar_kind = matches!(
            info.kind,
            FactKind::Boolean | FactKind::Integer | FactKind::Number | FactKind::String
        );
        match operator {
            "exists" | "absent" => match value.value {
                NodeValue::Bool(b) => Some(if operator == "exists" {
                    Operator::Exists(b)
                } else {
                    Operator::Absent(b)
                }),
                _ => {
                    self.value_mismatch(value, operator, path, info, "true or false");
                    None
                }
            },
            "is" | "ne" => {
                if !scalar_kind {
                    self.value_mismatch(
                        value,
                        operator,
                        path,
                        info,
                        "a fact with a single value (use every/some/contains on lists)",
                    );
                    return None;
                }
                let v = self.scalar(value, operator, path, info, info.kind)?;
                Some(if operator == "is" {
                    Operator::Is(v)
                } else {
                    Operator::Ne(v)
                })
            }
            "lt" | "lte" | "gt" | "gte" => {
                if !matches!(info.kind, FactKind::Integer | FactKind::Number) {
                    self.value_mismatch(value, operator, path, info, "a numeric fact");
                    return None;
                }
                let number = match value.value {
                    NodeValue::Int(i) => i as f64,
                    NodeValue::Float(f) => f,
                    _ => {
                        self.value_mismatch(value, operator, path, info, "a number");
                        return None;
                    }
                };
                Some(match operator {
                    "lt" => Operator::Lt(number),
                    "lte" => Operator::Lte(number),
                    "gt" => Operator::Gt(number),
                    _ => Operator::Gte(number),
                })
            }
            "in" | "not_in" => {
                if !scalar_kind {
                    self.value_mismatch(value, operator, path, info, "a fact with a single value");
                    return None;
                }
                let NodeValue::Seq(items) = &value.value else {
                    self.value_mismatch(value, operator, path, info, "a list of values");
                    return None;
                };
                let values: Vec<Option<Value>> = items
                    .iter()
                    .map(|item| self.scalar(item, operator, path, info, info.kind))
                    .collect();
                let values: Vec<Value> = values.into_iter().collect::<Option<_>>()?;
                Some(if operator == "in" {
                    Operator::In(values)
                } else {
                    Operator::NotIn(values)
                })
            }
            "contains" => match (info.kind, info.element) {
                (FactKind::String, _) => self
                    .scalar(value, operator, path, info, FactKind::String)
                    .map(Operator::Contains),
                (FactKind::List, Some(element)) if element != FactKind::Object => self
                    .scalar(value, operator, path, info, element)
                    .map(Operator::Contains),
                _ => {
                    self.value_mismatch(
                        value,
                        operator,
                        path,
                        info,
                        "a text or list-of-values fact",
                    );
                    None
                }
            },
            "matches" => {
                if info.kind != FactKind::String {
                    self.value_mismatch(value, operator, path, info, "a text fact");
                    return None;
                }
                let pattern = self.scalar(value, operator, path, info, FactKind::String)?;
                let pattern = pattern.as_str().unwrap_or_default();
                match Regex::new(pattern) {
                    Ok(regex) => Some(Operator::Matches(regex)),
                    Err(error) => {
                        self.report(
                            codes::INVALID_VALUE,
                            value.span,
                            format!(
                                "invalid regular expression: {}",
                                error.to_string().lines().last().unwrap_or("syntax error")
                            ),
                            "does not compile",
                            None,
                        );
                        None
                    }
                }
            }
            _ => {
                // every / some
                if info.kind != FactKind::List || info.element.is_none() {
                    self.value_mismatch(value, operator, path, info, "a list");
                    return None;
                }
                let inner = self.condition(value, Some(full))?;
                Some(if operator == "every" {
                    Operator::Every(Box::new(inner))
                } else {
                    Operator::Some(Box::new(inner))
                })
            }
        }
    }
}

/// The closest of `choices` to `word`, if any is close.
fn suggest<'c>(word: &str, choices: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    crate::facts::catalogue::closest(word, choices, 0.8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Pack, Vec<Diagnostic>> {
        load_pack("t.yaml", text, Catalogue::shared())
    }

    const HEADER: &str = "pack: { id: t, title: T }\nrules:\n";

    #[test]
    fn loads_a_valid_rule() {
        let pack = load(&format!(
            "{HEADER}  - id: T-1\n    title: HSTS\n    category: http\n    severity: high\n    remediation: Send it.\n    require:\n      all:\n        - {{ fact: http.hsts.present, is: true }}\n        - {{ fact: http.hsts.max_age, gte: 31536000 }}\n"
        ))
        .unwrap();
        assert_eq!(pack.rules.len(), 1);
        assert_eq!(pack.grading, Grading::default());
    }

    #[test]
    fn collects_every_problem() {
        let errors = load(&format!(
            "{HEADER}  - id: T-1\n    title: X\n    category: htp\n    severity: urgent\n    remedy: x\n    require: {{ fact: http.hsts.maxage, gte: 1 }}\n"
        ))
        .unwrap_err();
        let codes: Vec<&str> = errors.iter().map(|d| d.code).collect();
        assert!(codes.contains(&codes::UNKNOWN_KEY), "{errors:#?}");
        assert!(codes.contains(&codes::INVALID_VALUE), "{errors:#?}");
        assert!(codes.contains(&codes::UNKNOWN_FACT), "{errors:#?}");
        let unknown = errors
            .iter()
            .find(|d| d.code == codes::UNKNOWN_FACT)
            .unwrap();
        assert_eq!(
            unknown.help.as_deref(),
            Some("did you mean `http.hsts.max_age`?")
        );
        assert_eq!(unknown.span.map(|s| s.line), Some(8));
    }

    #[test]
    fn a_misspelled_required_key_is_reported_once() {
        let errors = load(&format!(
            "{HEADER}  - id: T-1\n    titel: X\n    category: http\n    severity: low\n    remediation: x\n    require: {{ fact: http.csp.present, is: true }}\n"
        ))
        .unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert_eq!(errors[0].help.as_deref(), Some("did you mean `title`?"));
    }

    #[test]
    fn rejects_wrong_value_types() {
        for (condition, needle) in [
            (
                "{ fact: http.hsts.max_age, gte: \"long\" }",
                "expects a number",
            ),
            (
                "{ fact: http.hsts.present, is: 1 }",
                "expects true or false",
            ),
            ("{ fact: cookies, is: true }", "single value"),
            ("{ fact: http.csp.raw, gt: 3 }", "numeric fact"),
            (
                "{ fact: cookies, every: { fact: same_site, is: strikt } }",
                "never a value",
            ),
            (
                "{ fact: http.csp.raw, matches: \"(\" }",
                "invalid regular expression",
            ),
        ] {
            let errors = load(&format!(
                "{HEADER}  - id: T-1\n    title: X\n    category: http\n    severity: low\n    remediation: x\n    require: {condition}\n"
            ))
            .unwrap_err();
            assert!(
                errors.iter().any(|d| d.message.contains(needle)),
                "{condition}: {errors:#?}"
            );
        }
    }

    #[test]
    fn relative_paths_inside_every() {
        let ok = load(&format!(
            "{HEADER}  - id: T-1\n    title: X\n    category: cookies\n    severity: low\n    remediation: x\n    require: {{ fact: cookies, every: {{ fact: secure, is: true }} }}\n"
        ));
        assert!(ok.is_ok(), "{ok:?}");
        let errors = load(&format!(
            "{HEADER}  - id: T-1\n    title: X\n    category: cookies\n    severity: low\n    remediation: x\n    require: {{ fact: cookies, every: {{ fact: secur, is: true }} }}\n"
        ))
        .unwrap_err();
        assert_eq!(errors[0].help.as_deref(), Some("did you mean `secure`?"));
    }

    #[test]
    fn every_over_a_list_of_values_tests_each_value() {
        let rule = |condition: &str| {
            load(&format!(
                "{HEADER}  - id: T-1\n    title: X\n    category: tls\n    severity: low\n    remediation: x\n    require: {condition}\n"
            ))
        };
        assert!(rule("{ fact: target.addresses, every: { matches: \"^127\\\\.\" } }").is_ok());
        let errors = rule("{ fact: target.addresses, every: { fact: name, is: x } }").unwrap_err();
        assert!(
            errors[0].message.contains("leave out `fact`"),
            "{errors:#?}"
        );
        let errors = rule("{ fact: target.addresses, every: { gt: 3 } }").unwrap_err();
        assert!(errors[0].message.contains("numeric fact"), "{errors:#?}");
    }

    #[test]
    fn expr_is_reserved() {
        let errors = load(&format!(
            "{HEADER}  - id: T-1\n    title: X\n    category: http\n    severity: low\n    remediation: x\n    require: {{ expr: \"a > b\" }}\n"
        ))
        .unwrap_err();
        assert!(errors.iter().any(|d| d.code == codes::RESERVED));
    }

    #[test]
    fn outcomes_need_a_catch_all_and_known_caps() {
        let errors = load(&format!(
            "{HEADER}  - id: T-1\n    title: X\n    category: http\n    severity: low\n    remediation: x\n    outcomes:\n      - {{ when: {{ fact: http.csp.present, is: false }}, result: fail, cap: Z }}\n"
        ))
        .unwrap_err();
        assert!(
            errors.iter().any(|d| d.message.contains("not a band")),
            "{errors:#?}"
        );
        let errors = load(&format!(
            "{HEADER}  - id: T-1\n    title: X\n    category: http\n    severity: low\n    remediation: x\n    outcomes:\n      - {{ when: {{ fact: http.csp.present, is: false }}, result: fail }}\n"
        ))
        .unwrap_err();
        assert!(
            errors.iter().any(|d| d.message.contains("last outcome")),
            "{errors:#?}"
        );
    }

    #[test]
    fn duplicate_ids_and_bad_shapes() {
        let rule = "  - id: T-1\n    title: X\n    category: http\n    severity: low\n    remediation: x\n    require: { fact: http.csp.present, is: true, exists: true }\n";
        let errors = load(&format!("{HEADER}{rule}{rule}")).unwrap_err();
        assert!(errors.iter().any(|d| d.code == codes::CONDITION_SHAPE));
        let rule = "  - id: T-1\n    title: X\n    category: http\n    severity: low\n    remediation: x\n    require: { fact: http.csp.present, is: true }\n";
        let errors = load(&format!("{HEADER}{rule}{rule}")).unwrap_err();
        assert_eq!(errors[0].code, codes::DUPLICATE_ID);
    }

    #[test]
    fn manual_rules_need_no_remediation() {
        let pack = load(&format!(
            "{HEADER}  - id: T-1\n    title: Background checks\n    category: organisational\n    severity: medium\n    manual:\n      evidence: [HR policy, sample of signed checks]\n"
        ))
        .unwrap();
        assert!(matches!(pack.rules[0].check, Check::Manual { .. }));
    }

    #[test]
    fn custom_grading() {
        let pack = load("pack: { id: t, title: T }\ngrading:\n  base: 50\n  penalties: { high: 7 }\n  bands: [ { grade: PASS, min: 40 }, { grade: FAIL, min: 0 } ]\nrules: []\n").unwrap();
        assert_eq!(pack.grading.base, 50);
        assert_eq!(pack.grading.penalty(Severity::High), 7);
        assert_eq!(pack.grading.bands[1].min, i64::MIN);
    }
}
