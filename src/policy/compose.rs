//! Pack composition: a pack that `extends` another starts from the other's rules (recursively),
//! applies its `overrides` (another severity, or disabled), adds its own rules, and keeps its own
//! grading when it gives one. Built-in and user packs compose alike.
//!
//! Every problem becomes a diagnostic with file and position: a base that cannot be loaded, a
//! cycle, an override of a rule the base does not have, a rule id the base already uses.

use std::path::Path;

use super::diag::{Diagnostic, codes};
use super::load;
use super::model::{Extends, Pack};
use super::{BUILTIN, PolicyError, read_pack_source};
use crate::facts::Catalogue;

/// Deepest chain of `extends` followed.
const MAX_DEPTH: usize = 8;

fn problem(
    code: &'static str,
    file: &str,
    span: super::yaml::Span,
    message: String,
    label: &str,
    help: Option<String>,
) -> Diagnostic {
    Diagnostic {
        code,
        message,
        file: file.to_string(),
        span: Some(span),
        label: label.to_string(),
        help,
    }
}

/// Where `extends: NAME` in `file` points: a built-in pack, or a path relative to `file`'s
/// directory (built-in packs may only extend built-in packs).
fn locate(name: &str, file: &str) -> String {
    if BUILTIN.iter().any(|(n, _)| *n == name) || file.starts_with("builtin:") {
        return name.to_string();
    }
    let relative = Path::new(file)
        .parent()
        .map(|dir| dir.join(name))
        .filter(|p| p.exists());
    relative.map_or_else(|| name.to_string(), |p| p.display().to_string())
}

/// Composes `pack` (loaded from `file`) with the packs it extends. `sources` collects the text of
/// every file read, for rendering diagnostics; `chain` holds the files on the way here.
pub fn resolve(
    mut pack: Pack,
    file: &str,
    catalogue: &Catalogue,
    sources: &mut Vec<(String, String)>,
    chain: &mut Vec<String>,
) -> Result<Pack, Vec<Diagnostic>> {
    let Some(Extends { name, span }) = pack.extends.take() else {
        return Ok(pack);
    };
    let target = locate(&name, file);
    let (base_file, base_text) = match read_pack_source(&target) {
        Ok(found) => found,
        Err(PolicyError::NotFound { builtin, .. }) => {
            return Err(vec![problem(
                codes::EXTENDS,
                file,
                span,
                format!("`extends: {name}` names no built-in pack and no readable file"),
                "unknown pack",
                Some(format!(
                    "built-in packs: {builtin}; a file is found relative to this one"
                )),
            )]);
        }
        Err(PolicyError::Invalid(diagnostics, _)) => return Err(diagnostics),
    };
    if chain.contains(&base_file) || chain.len() >= MAX_DEPTH {
        return Err(vec![problem(
            codes::EXTENDS,
            file,
            span,
            format!(
                "`extends: {name}` makes a cycle or a chain deeper than {MAX_DEPTH}: {} → {base_file}",
                chain.join(" → ")
            ),
            "extends itself",
            None,
        )]);
    }
    let loaded = load::load_pack(&base_file, &base_text, catalogue);
    sources.push((base_file.clone(), base_text));
    let base = loaded?;
    chain.push(base_file.clone());
    let base = resolve(base, &base_file, catalogue, sources, chain)?;
    chain.pop();
    apply(pack, base, file)
}

/// The base's rules with the overrides applied, then the pack's own rules.
fn apply(pack: Pack, base: Pack, file: &str) -> Result<Pack, Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let mut rules = base.rules;
    for change in &pack.overrides {
        let Some(index) = rules.iter().position(|r| r.id.0 == change.rule) else {
            let ids: Vec<&str> = rules.iter().map(|r| r.id.0.as_str()).collect();
            let near = ids
                .iter()
                .copied()
                .min_by_key(|id| strsim::levenshtein(id, &change.rule))
                .filter(|id| strsim::levenshtein(id, &change.rule) <= 3);
            diagnostics.push(problem(
                codes::UNKNOWN_RULE,
                file,
                change.span,
                format!(
                    "pack `{}` has no rule `{}` to override",
                    base.id, change.rule
                ),
                "unknown rule",
                near.map(|id| format!("did you mean `{id}`?")),
            ));
            continue;
        };
        if change.disabled {
            rules.remove(index);
        } else if let Some(severity) = change.severity {
            rules[index].severity = severity;
        }
    }
    for rule in pack.rules {
        if rules.iter().any(|r| r.id == rule.id) {
            diagnostics.push(Diagnostic {
                code: codes::DUPLICATE_ID,
                message: format!(
                    "rule id `{}` is already used by the extended pack `{}`",
                    rule.id, base.id
                ),
                file: file.to_string(),
                span: None,
                label: String::new(),
                help: Some("override the base rule instead, or give this rule its own id".into()),
            });
            continue;
        }
        rules.push(rule);
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    Ok(Pack {
        grading: if pack.grading_given {
            pack.grading
        } else {
            base.grading
        },
        grading_given: pack.grading_given || base.grading_given,
        rules,
        extends: None,
        overrides: Vec::new(),
        ..pack
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::Severity;

    fn load(files: &[(&str, &str)], name: &str) -> Result<Vec<Pack>, Vec<Diagnostic>> {
        let dir = tempfile::tempdir().unwrap();
        for (file, text) in files {
            std::fs::write(dir.path().join(file), text).unwrap();
        }
        let path = dir.path().join(name).display().to_string();
        match crate::policy::load_packs(&[path], Catalogue::shared()) {
            Ok(packs) => Ok(packs),
            Err(PolicyError::Invalid(diagnostics, _)) => Err(diagnostics),
            Err(other) => panic!("{other}"),
        }
    }

    const OWN_RULE: &str = "
rules:
  - id: SHOP-01
    title: HSTS is sent
    category: http
    severity: high
    require: { fact: http.hsts.present, is: true }
    remediation: Send HSTS.
";

    #[test]
    fn extends_a_builtin_with_overrides_and_own_rules() {
        let text = format!(
            "pack: {{ id: shop, title: Shop, extends: baseline }}
overrides:
  - {{ rule: BASE-TLS-04, disabled: true }}
  - {{ rule: BASE-HDR-05, severity: info }}
{OWN_RULE}"
        );
        let packs = load(&[("shop.yaml", &text)], "shop.yaml").unwrap();
        let shop = &packs[0];
        let catalogue = Catalogue::shared();
        let (_, baseline_text) = BUILTIN[0];
        let baseline = load::load_pack("baseline", baseline_text, catalogue).unwrap();
        assert_eq!(shop.id, "shop");
        assert_eq!(shop.rules.len(), baseline.rules.len());
        assert!(!shop.rules.iter().any(|r| r.id.0 == "BASE-TLS-04"));
        let hdr = shop.rules.iter().find(|r| r.id.0 == "BASE-HDR-05").unwrap();
        assert_eq!(hdr.severity, Severity::Info);
        assert_eq!(shop.rules.last().unwrap().id.0, "SHOP-01");
        assert_eq!(shop.grading, baseline.grading, "inherited grading");
    }

    #[test]
    fn extends_a_file_that_extends_a_builtin() {
        let middle = "pack: { id: middle, title: M, extends: mozilla-modern }\noverrides:\n  - { rule: MOZ-MOD-09, severity: low }\n";
        let top = format!(
            "pack: {{ id: top, title: T, extends: middle.yaml }}\ngrading: {{ base: 50 }}\n{OWN_RULE}"
        );
        let packs = load(&[("middle.yaml", middle), ("top.yaml", &top)], "top.yaml").unwrap();
        let pack = &packs[0];
        assert!(pack.rules.iter().any(|r| r.id.0 == "MOZ-MOD-01"));
        let moved = pack.rules.iter().find(|r| r.id.0 == "MOZ-MOD-09").unwrap();
        assert_eq!(moved.severity, Severity::Low);
        assert_eq!(pack.grading.base, 50, "own grading wins");
    }

    #[test]
    fn problems_are_diagnosed_with_codes() {
        let unknown_rule = "pack: { id: a, title: A, extends: baseline }\noverrides:\n  - { rule: BASE-TLS-4, disabled: true }\n";
        let errors = load(&[("a.yaml", unknown_rule)], "a.yaml").unwrap_err();
        assert_eq!(errors[0].code, codes::UNKNOWN_RULE);
        assert_eq!(
            errors[0].help.as_deref(),
            Some("did you mean `BASE-TLS-04`?")
        );
        assert_eq!(errors[0].span.map(|s| s.line), Some(3));

        let unknown_pack = "pack: { id: a, title: A, extends: basline }\n";
        let errors = load(&[("a.yaml", unknown_pack)], "a.yaml").unwrap_err();
        assert_eq!(errors[0].code, codes::EXTENDS);

        let a = "pack: { id: a, title: A, extends: b.yaml }\n";
        let b = "pack: { id: b, title: B, extends: a.yaml }\n";
        let errors = load(&[("a.yaml", a), ("b.yaml", b)], "a.yaml").unwrap_err();
        assert_eq!(errors[0].code, codes::EXTENDS);
        assert!(errors[0].message.contains("cycle"), "{}", errors[0].message);

        let duplicate = format!(
            "pack: {{ id: a, title: A, extends: baseline }}\n{}",
            OWN_RULE.replace("SHOP-01", "BASE-TLS-01")
        );
        let errors = load(&[("a.yaml", &duplicate)], "a.yaml").unwrap_err();
        assert_eq!(errors[0].code, codes::DUPLICATE_ID);

        let stray = "pack: { id: a, title: A }\noverrides: []\nrules: []\n";
        let errors = load(&[("a.yaml", stray)], "a.yaml").unwrap_err();
        assert_eq!(errors[0].code, codes::MISSING_KEY);
    }
}
