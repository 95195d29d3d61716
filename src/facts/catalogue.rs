//! The facts catalogue: every fact path with its type and documentation, generated from the
//! JSON Schema of [`Facts`](super::Facts) so it can never drift from the code.
//!
//! Rule files are validated against it at load time: an unknown path gets a did-you-mean, and an
//! operator value of the wrong type is rejected before any audit runs.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use serde_json::{Map, Value};

/// The type of value found at a fact path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactKind {
    /// `true` / `false`.
    Boolean,
    /// Whole number.
    Integer,
    /// Any number.
    Number,
    /// Text (possibly limited to documented values).
    String,
    /// A list; see [`FactInfo::element`].
    List,
    /// A nested object with its own paths.
    Object,
    /// A free-form map (not addressable by rules).
    Map,
}

impl fmt::Display for FactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::String => "string",
            Self::List => "list",
            Self::Object => "object",
            Self::Map => "map",
        })
    }
}

/// What the catalogue knows about one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactInfo {
    /// Value type.
    pub kind: FactKind,
    /// For lists: the element type.
    pub element: Option<FactKind>,
    /// For strings with a fixed vocabulary: the allowed values.
    pub values: Vec<String>,
    /// The doc comment of the field.
    pub description: String,
}

/// Every fact path. List elements are addressed as `list[].field`.
#[derive(Debug, Clone)]
pub struct Catalogue {
    entries: BTreeMap<String, FactInfo>,
}

impl Catalogue {
    /// The catalogue of this build's fact tree, built once per process: it never changes, and
    /// building it (generating the JSON Schema and walking it) costs milliseconds.
    pub fn shared() -> &'static Self {
        static SHARED: LazyLock<Catalogue> = LazyLock::new(Catalogue::build);
        &SHARED
    }

    /// The catalogue of this build's fact tree, built afresh (see [`Catalogue::shared`]).
    pub fn build() -> Self {
        let schema = schema_value();
        let defs = schema
            .get("$defs")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut entries = BTreeMap::new();
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                walk(property, &defs, name.clone(), &mut entries);
            }
        }
        Self { entries }
    }

    /// Information about `path`, if it exists.
    pub fn get(&self, path: &str) -> Option<&FactInfo> {
        self.entries.get(path)
    }

    /// All paths and their information, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FactInfo)> {
        self.entries
            .iter()
            .map(|(path, info)| (path.as_str(), info))
    }

    /// The catalogue as a Markdown table (path, type, meaning): the generated section of
    /// `docs/rules.md`, kept current by a test.
    pub fn to_markdown(&self) -> String {
        let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
        let mut out = String::from("| fact path | type | meaning |\n|---|---|---|\n");
        for (path, info) in self.iter() {
            let kind = match (info.element, info.values.is_empty()) {
                (Some(element), _) => format!("list of {element}"),
                (None, false) => format!("{}: {}", info.kind, info.values.join(", ")),
                (None, true) => info.kind.to_string(),
            };
            out.push_str(&format!(
                "| `{path}` | {} | {} |\n",
                cell(&kind),
                cell(&info.description)
            ));
        }
        out
    }

    /// The closest known path to a misspelled one, if any is close enough.
    pub fn suggest(&self, path: &str) -> Option<&str> {
        self.suggest_among(path, |_| true)
    }

    /// The closest known path accepted by `filter`.
    pub fn suggest_among(&self, path: &str, filter: impl Fn(&str) -> bool) -> Option<&str> {
        closest(
            path,
            self.entries
                .keys()
                .map(String::as_str)
                .filter(|candidate| filter(candidate)),
            0.85,
        )
    }
}

/// The choice most similar to `word` (Jaro-Winkler) scoring above `threshold`; of equally
/// similar choices, the last.
///
/// The result is that of scoring every choice, but most are never scored: a choice's score is
/// bounded by the lengths of the two words and their common prefix, and choices are scored in
/// the order of that bound until it falls below the best score found. A misspelt fact path is
/// compared with the whole catalogue, so this is the difference between about a millisecond and
/// a few microseconds for every unknown path in a rule file.
pub fn closest<'c>(
    word: &str,
    choices: impl Iterator<Item = &'c str>,
    threshold: f64,
) -> Option<&'c str> {
    // Rounding in the bound and in strsim's score: never prune a choice that could tie.
    const SLACK: f64 = 1e-9;
    let word_len = word.chars().count();
    let mut bounded: Vec<(f64, usize, &str)> = choices
        .enumerate()
        .map(|(index, choice)| (similarity_bound(word, word_len, choice), index, choice))
        .filter(|(bound, _, _)| *bound + SLACK > threshold)
        .collect();
    bounded.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut best: Option<(f64, usize, &str)> = None;
    for (bound, index, choice) in bounded {
        if best.is_some_and(|(score, _, _)| bound + SLACK < score) {
            break;
        }
        let score = strsim::jaro_winkler(word, choice);
        let better = match best {
            None => score > threshold,
            Some((best_score, best_index, _)) => {
                score > best_score || (score == best_score && index > best_index)
            }
        };
        if better {
            best = Some((score, index, choice));
        }
    }
    best.map(|(_, _, choice)| choice)
}

/// An upper bound of `strsim::jaro_winkler(word, choice)`: at most as many characters as the
/// shorter word has can match, none transposed, and the prefix bonus of the common prefix.
fn similarity_bound(word: &str, word_len: usize, choice: &str) -> f64 {
    let choice_len = choice.chars().count();
    if word_len == 0 || choice_len == 0 {
        return if word_len == choice_len { 1.0 } else { 0.0 };
    }
    let matches = word_len.min(choice_len) as f64;
    let jaro = (matches / word_len as f64 + matches / choice_len as f64 + 1.0) / 3.0;
    let prefix = word
        .chars()
        .zip(choice.chars())
        .take(4)
        .take_while(|(a, b)| a == b)
        .count();
    jaro + 0.1 * prefix as f64 * (1.0 - jaro)
}

/// The JSON Schema of the fact tree, as published in `docs/facts.schema.json`.
pub fn schema_value() -> Value {
    serde_json::to_value(schemars::schema_for!(super::Facts)).unwrap_or(Value::Null)
}

fn resolve<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .rsplit('/')
            .next()
            .and_then(|name| defs.get(name))
            .unwrap_or(schema),
        None => schema,
    }
}

fn description(schema: &Value, defs: &Map<String, Value>) -> String {
    schema
        .get("description")
        .or_else(|| resolve(schema, defs).get("description"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The alternatives of an `anyOf`/`oneOf`, without the `null` one.
fn non_null_alternatives(schema: &Value) -> Option<Vec<&Value>> {
    let alternatives = schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))?
        .as_array()?;
    Some(
        alternatives
            .iter()
            .filter(|alt| alt.get("type").and_then(Value::as_str) != Some("null"))
            .collect(),
    )
}

/// `(kind, allowed string values)` of a schema after resolving references and nullability.
fn classify(schema: &Value, defs: &Map<String, Value>) -> (FactKind, Vec<String>) {
    let schema = resolve(schema, defs);
    if let Some(alternatives) = non_null_alternatives(schema) {
        let constants: Vec<String> = alternatives
            .iter()
            .flat_map(|alt| {
                let alt = resolve(alt, defs);
                let mut values = enum_strings(alt);
                values.extend(alt.get("const").and_then(Value::as_str).map(str::to_string));
                values
            })
            .collect();
        if !constants.is_empty() {
            return (FactKind::String, constants);
        }
        if let [only] = alternatives.as_slice() {
            return classify(only, defs);
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let kind = match types.iter().find(|t| **t != "null").copied() {
        Some("boolean") => FactKind::Boolean,
        Some("integer") => FactKind::Integer,
        Some("number") => FactKind::Number,
        Some("string") => FactKind::String,
        Some("array") => FactKind::List,
        Some("object") if schema.get("properties").is_some() => FactKind::Object,
        _ => FactKind::Map,
    };
    (kind, enum_strings(schema))
}

/// The string members of a schema's `enum`.
fn enum_strings(schema: &Value) -> Vec<String> {
    schema
        .get("enum")
        .and_then(Value::as_array)
        .map(|e| {
            e.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The schema that carries `properties` or `items` for a (possibly nullable) reference.
fn structural<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    let resolved = resolve(schema, defs);
    match non_null_alternatives(resolved).as_deref() {
        Some([only]) => structural(only, defs),
        _ => resolved,
    }
}

fn walk(
    schema: &Value,
    defs: &Map<String, Value>,
    path: String,
    out: &mut BTreeMap<String, FactInfo>,
) {
    let (kind, values) = classify(schema, defs);
    let description = description(schema, defs);
    let body = structural(schema, defs);
    let mut element = None;
    match kind {
        FactKind::Object => {
            if let Some(properties) = body.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    walk(property, defs, format!("{path}.{name}"), out);
                }
            }
        }
        FactKind::List => {
            if let Some(items) = body.get("items") {
                let (item_kind, _) = classify(items, defs);
                element = Some(item_kind);
                if item_kind == FactKind::Object {
                    let item_body = structural(items, defs);
                    if let Some(properties) = item_body.get("properties").and_then(Value::as_object)
                    {
                        for (name, property) in properties {
                            walk(property, defs, format!("{path}[].{name}"), out);
                        }
                    }
                }
            }
        }
        _ => {}
    }
    out.insert(
        path,
        FactInfo {
            kind,
            element,
            values,
            description,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_core_paths_with_types() {
        let catalogue = Catalogue::build();
        let kind = |p: &str| catalogue.get(p).map(|i| i.kind);
        assert_eq!(kind("http.hsts.max_age"), Some(FactKind::Integer));
        assert_eq!(kind("http.hsts.present"), Some(FactKind::Boolean));
        assert_eq!(kind("http.hsts"), Some(FactKind::Object));
        assert_eq!(kind("http.csp.raw"), Some(FactKind::String));
        assert_eq!(kind("target.addresses"), Some(FactKind::List));
        assert_eq!(kind("cookies"), Some(FactKind::List));
        assert_eq!(
            catalogue.get("cookies").and_then(|i| i.element),
            Some(FactKind::Object)
        );
        assert_eq!(kind("cookies[].secure"), Some(FactKind::Boolean));
        assert_eq!(kind("unobserved"), Some(FactKind::Map));
        assert_eq!(kind("http.nope"), None);
    }

    #[test]
    fn enumerations_carry_their_values() {
        let catalogue = Catalogue::build();
        let same_site = catalogue.get("cookies[].same_site").unwrap();
        assert_eq!(same_site.kind, FactKind::String);
        assert_eq!(same_site.values, ["strict", "lax", "none"]);
    }

    #[test]
    fn every_path_is_documented() {
        let catalogue = Catalogue::build();
        let undocumented: Vec<&str> = catalogue
            .iter()
            .filter(|(_, info)| info.description.is_empty())
            .map(|(path, _)| path)
            .collect();
        assert!(undocumented.is_empty(), "undocumented: {undocumented:?}");
    }

    #[test]
    fn suggests_near_misses() {
        let catalogue = Catalogue::build();
        assert_eq!(
            catalogue.suggest("http.hsts.maxage"),
            Some("http.hsts.max_age")
        );
        assert_eq!(catalogue.suggest("zzz"), None);
    }

    /// `closest` prunes by a bound; it must still pick what scoring every choice picks.
    #[test]
    fn closest_matches_scoring_every_choice() {
        fn every<'c>(word: &str, choices: &[&'c str], threshold: f64) -> Option<&'c str> {
            choices
                .iter()
                .map(|choice| (strsim::jaro_winkler(word, choice), *choice))
                .filter(|(score, _)| *score > threshold)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, choice)| choice)
        }
        let catalogue = Catalogue::shared();
        let paths: Vec<&str> = catalogue.iter().map(|(path, _)| path).collect();
        let mut words = vec![String::new(), "x".into(), "zzz".into(), "ä.ö".into()];
        for path in paths.iter().step_by(7) {
            let chars: Vec<char> = path.chars().collect();
            let middle = chars.len() / 2;
            let without = |at: usize| chars.iter().enumerate().filter(move |(i, _)| *i != at);
            words.push(without(middle).map(|(_, c)| c).collect());
            words.push(without(0).map(|(_, c)| c).collect());
            words.push(chars[..middle].iter().collect());
            words.push(format!("{path}s"));
            words.push(path.replace('.', "_"));
            words.push(path.to_string());
        }
        let keys = [
            "all", "any", "not", "fact", "every", "some", "severity", "score",
        ];
        for threshold in [0.8, 0.85] {
            for word in &words {
                assert_eq!(
                    closest(word, paths.iter().copied(), threshold),
                    every(word, &paths, threshold),
                    "{word}"
                );
            }
            for word in ["al", "anyy", "nto", "fcat", "", "some", "sevrity", "scroe"] {
                assert_eq!(
                    closest(word, keys.iter().copied(), threshold),
                    every(word, &keys, threshold),
                    "{word}"
                );
            }
        }
    }

    #[test]
    fn rules_doc_catalogue_is_current() {
        const BEGIN: &str = "<!-- facts:begin (generated: scripts/update-rules-doc.sh) -->\n";
        const END: &str = "<!-- facts:end -->";
        let doc = include_str!("../../docs/rules.md");
        let section = doc
            .split_once(BEGIN)
            .and_then(|(_, rest)| rest.split_once(END))
            .map(|(section, _)| section);
        assert!(
            section == Some(Catalogue::build().to_markdown().as_str()),
            "the fact catalogue in docs/rules.md is stale: run scripts/update-rules-doc.sh"
        );
    }

    #[test]
    fn published_schema_is_current() {
        let published = include_str!("../../docs/facts.schema.json");
        let current = serde_json::to_string_pretty(&schema_value()).unwrap() + "\n";
        assert!(
            published == current,
            "docs/facts.schema.json is stale: run `cargo run -- schema facts > docs/facts.schema.json`"
        );
    }
}
