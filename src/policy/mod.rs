//! Policy packs: the rule-file model, loading with located diagnostics, and evaluation.
//!
//! Built-in packs are YAML files under `rules/`, embedded in the binary; `--policy` also accepts a
//! path to a pack file of the user's own.

pub mod compose;
pub mod diag;
pub mod eval;
pub mod load;
pub mod model;
pub mod yaml;

use std::path::Path;

pub use diag::Diagnostic;
pub use eval::{Evaluation, Observation, RuleOutcome, evaluate_pack};
pub use model::{Category, Pack, Rule, RuleId, Severity};

use crate::facts::Catalogue;

/// Built-in packs: name and file text.
pub const BUILTIN: [(&str, &str); 15] = [
    ("baseline", include_str!("../../rules/baseline.yaml")),
    (
        "mozilla-intermediate",
        include_str!("../../rules/mozilla-intermediate.yaml"),
    ),
    (
        "mozilla-modern",
        include_str!("../../rules/mozilla-modern.yaml"),
    ),
    (
        "bsi-tr-02102-2",
        include_str!("../../rules/bsi-tr-02102-2.yaml"),
    ),
    ("observatory", include_str!("../../rules/observatory.yaml")),
    (
        "securityheaders",
        include_str!("../../rules/securityheaders.yaml"),
    ),
    (
        "internet-nl-mail",
        include_str!("../../rules/internet-nl-mail.yaml"),
    ),
    (
        "internet-nl-web",
        include_str!("../../rules/internet-nl-web.yaml"),
    ),
    ("ncsc-nl-tls", include_str!("../../rules/ncsc-nl-tls.yaml")),
    (
        "vendor-unitedcrowd",
        include_str!("../../rules/vendors/unitedcrowd.yaml"),
    ),
    (
        "vendor-flowhunt",
        include_str!("../../rules/vendors/flowhunt.yaml"),
    ),
    (
        "vendor-proxyclick",
        include_str!("../../rules/vendors/proxyclick.yaml"),
    ),
    (
        "vendor-netstock",
        include_str!("../../rules/vendors/netstock.yaml"),
    ),
    (
        "vendor-netatoo",
        include_str!("../../rules/vendors/netatoo.yaml"),
    ),
    ("ssllabs", include_str!("../../rules/ssllabs.yaml")),
];

/// The pack used when no `--policy` is given.
pub const DEFAULT_PACK: &str = "baseline";

/// Why `--policy` could not be honoured.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Neither a built-in pack nor a readable file.
    #[error("no built-in pack or readable file named `{name}` (built-in packs: {builtin})")]
    NotFound {
        /// What the user gave.
        name: String,
        /// Built-in names.
        builtin: String,
    },
    /// The pack has errors.
    #[error("{} problem(s) in rule files", .0.len())]
    Invalid(Vec<Diagnostic>, Vec<(String, String)>),
}

/// The text of a pack named on the command line: a built-in name or a file path.
///
/// Returns the name to show in diagnostics and the text.
pub fn read_pack_source(name: &str) -> Result<(String, String), PolicyError> {
    if let Some((builtin, text)) = BUILTIN.iter().find(|(n, _)| *n == name) {
        return Ok((format!("builtin:{builtin}"), (*text).to_string()));
    }
    let path = Path::new(name);
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((name.to_string(), text)),
        Err(_) if !path.exists() => Err(PolicyError::NotFound {
            name: name.to_string(),
            builtin: BUILTIN.map(|(n, _)| n).join(", "),
        }),
        Err(error) => Err(PolicyError::Invalid(
            vec![Diagnostic {
                code: diag::codes::IO,
                message: format!("cannot read rule file: {error}"),
                file: name.to_string(),
                span: None,
                label: String::new(),
                help: None,
            }],
            Vec::new(),
        )),
    }
}

/// Loads packs by name, collecting every diagnostic of every file, and composes packs that
/// `extends` another.
///
/// On failure the error carries the diagnostics and the sources, for rendering.
pub fn load_packs(names: &[String], catalogue: &Catalogue) -> Result<Vec<Pack>, PolicyError> {
    let mut packs = Vec::new();
    let mut diagnostics = Vec::new();
    let mut sources = Vec::new();
    for name in names {
        let (shown, text) = match read_pack_source(name) {
            Ok(found) => found,
            Err(PolicyError::Invalid(mut more, _)) => {
                diagnostics.append(&mut more);
                continue;
            }
            Err(other) => return Err(other),
        };
        match load::load_pack(&shown, &text, catalogue) {
            Ok(pack) => {
                let mut chain = vec![shown.clone()];
                match compose::resolve(pack, &shown, catalogue, &mut sources, &mut chain) {
                    Ok(pack) => packs.push(pack),
                    Err(mut more) => diagnostics.append(&mut more),
                }
            }
            Err(mut more) => diagnostics.append(&mut more),
        }
        sources.push((shown, text));
    }
    if diagnostics.is_empty() {
        Ok(packs)
    } else {
        Err(PolicyError::Invalid(diagnostics, sources))
    }
}

/// Loads an `--attestations` file and checks every attested rule against `packs`: it must exist
/// and be a `manual` rule (observed rules are never overridden by an attestation).
pub fn load_attestations(
    path: &Path,
    packs: &[Pack],
    catalogue: &Catalogue,
) -> Result<Vec<model::Attestation>, PolicyError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| {
        PolicyError::Invalid(
            vec![Diagnostic {
                code: diag::codes::IO,
                message: format!("cannot read attestations file: {error}"),
                file: shown.clone(),
                span: None,
                label: String::new(),
                help: None,
            }],
            Vec::new(),
        )
    })?;
    let sources = vec![(shown.clone(), text.clone())];
    let loaded = load::load_attestations(&shown, &text, catalogue)
        .map_err(|d| PolicyError::Invalid(d, sources.clone()))?;
    let mut diagnostics = Vec::new();
    let mut attestations = Vec::new();
    for (attestation, span) in loaded {
        let rule = packs
            .iter()
            .flat_map(|p| &p.rules)
            .find(|r| r.id.0 == attestation.rule);
        let problem = match rule {
            None => Some((
                diag::codes::UNKNOWN_RULE,
                format!("no loaded pack has a rule `{}`", attestation.rule),
            )),
            Some(rule) if !matches!(rule.check, model::Check::Manual { .. }) => Some((
                diag::codes::INVALID_VALUE,
                format!(
                    "rule `{}` is decided by observation; only `manual` rules take an attestation",
                    attestation.rule
                ),
            )),
            Some(_) => None,
        };
        match problem {
            Some((code, message)) => diagnostics.push(Diagnostic {
                code,
                message,
                file: shown.clone(),
                span: Some(span),
                label: "this rule".to_string(),
                help: None,
            }),
            None => attestations.push(attestation),
        }
    }
    if diagnostics.is_empty() {
        Ok(attestations)
    } else {
        Err(PolicyError::Invalid(diagnostics, sources))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_packs_load_cleanly() {
        let catalogue = Catalogue::shared();
        for (name, text) in BUILTIN {
            let result = load::load_pack(name, text, catalogue);
            assert!(result.is_ok(), "{name}: {:#?}", result.err());
        }
    }

    #[test]
    fn builtin_rule_ids_are_unique_across_packs() {
        let catalogue = Catalogue::shared();
        let mut seen = std::collections::BTreeSet::new();
        for (name, text) in BUILTIN {
            let pack = load::load_pack(name, text, catalogue).unwrap();
            for rule in pack.rules {
                assert!(
                    seen.insert(rule.id.0.clone()),
                    "duplicate rule id {}",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn unknown_pack_name_is_reported() {
        let err = read_pack_source("no-such-pack-or-file").unwrap_err();
        assert!(err.to_string().contains("built-in packs: baseline"));
    }
}
