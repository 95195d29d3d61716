//! A YAML document as a tree of nodes that each know where they were written.
//!
//! Rule files are read in two stages (STYLE point 3): first into this unvalidated, spanned tree,
//! then validated into the rule model while collecting *every* problem with its line and column.
//! serde-saphyr does the parsing (with its budgets against alias bombs); this module only keeps
//! the positions it reports.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Where a node was written: 1-based line and column, and its byte range when known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// Byte offset of the node's start, when the parser reported one.
    pub offset: Option<usize>,
    /// Byte length of the node's text, when the parser reported one.
    pub len: Option<usize>,
}

impl Span {
    fn from_location(location: &serde_saphyr::Location) -> Self {
        let span = location.span();
        Self {
            line: location.line(),
            column: location.column(),
            offset: span.byte_offset().and_then(|o| usize::try_from(o).ok()),
            len: span.byte_len().and_then(|l| usize::try_from(l).ok()),
        }
    }
}

/// A YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: NodeValue,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of YAML value a rule file can contain.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// `~`, `null` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// Text.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, keys in written order.
    Map(Vec<(Node, Node)>),
}

impl NodeValue {
    /// A word for the kind of value, for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "a boolean",
            Self::Int(_) => "an integer",
            Self::Float(_) => "a number",
            Self::Str(_) => "a string",
            Self::Seq(_) => "a list",
            Self::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The string, if this node is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The mapping entries, if this node is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            NodeValue::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value as JSON (keys stringified), for comparing with fact values.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Int(i) => Value::from(*i),
            NodeValue::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            NodeValue::Str(s) => Value::String(s.clone()),
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str()
                                .map_or_else(|| format!("{:?}", k.value), str::to_string),
                            v.to_json(),
                        )
                    })
                    .collect(),
            ),
        }
    }
}

/// A YAML syntax (or budget) error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What the parser said, without its own snippet.
    pub message: String,
    /// Where, when known.
    pub span: Option<Span>,
}

/// Deepest nesting of YAML collections accepted in a rule file, block or flow style. The deepest
/// built-in rule nests about a dozen levels; the tree is built (and later validated) recursively,
/// so a file nested hundreds of levels deep could otherwise exhaust a thread's stack (a debug
/// build needs tens of KiB per level: 24 levels fit in a 2 MiB thread).
pub const MAX_DEPTH: usize = 24;

/// Most nodes (scalars, lists, mappings — alias expansions included) accepted in a rule file.
/// The largest built-in pack has under 3,000; serde-saphyr's default (250,000) let an alias bomb
/// of a few hundred bytes cost a quarter of a second and tens of MiB before it was refused.
pub const MAX_NODES: usize = 20_000;

/// Most events that aliases (`*name`) may replay in a rule file, over all of them: enough to
/// share a `source:` or a condition among many rules, and it stops an alias bomb early.
pub const MAX_ALIAS_EVENTS: usize = 10_000;

/// Parses one YAML document into a spanned tree.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_nodes = MAX_NODES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = MAX_ALIAS_EVENTS;
    match serde_saphyr::from_str_with_options::<Node>(text, options) {
        Ok(node) => Ok(node),
        Err(error) => {
            let span = error.location().map(|l| Span::from_location(&l));
            let message = error.without_snippet().to_string();
            // The message may repeat the position; keep the first line only.
            let message = message.lines().next().unwrap_or("invalid YAML");
            // The position is shown by the diagnostic itself.
            let message = match message.find(" at line ") {
                Some(at) if span.is_some() => &message[..at],
                _ => message,
            }
            .to_string();
            Err(SyntaxError { message, span })
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<NodeValue>::deserialize(deserializer)?;
        Ok(Node {
            span: Span::from_location(&spanned.referenced),
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for NodeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = NodeValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<NodeValue, E> {
        Ok(NodeValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<NodeValue, E> {
        Ok(NodeValue::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NodeValue, E> {
        Ok(i64::try_from(v).map_or(NodeValue::Float(v as f64), NodeValue::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<NodeValue, E> {
        Ok(NodeValue::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<NodeValue, E> {
        Ok(NodeValue::Str(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<NodeValue, E> {
        Ok(NodeValue::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<NodeValue, D::Error> {
        NodeValue::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(NodeValue::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeValue, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<Node, Node>()? {
            entries.push((key, value));
        }
        Ok(NodeValue::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_know_their_lines_and_columns() {
        let doc = parse("rules:\n  - id: X-1\n    severity: high\n").unwrap();
        let map = doc.as_map().unwrap();
        assert_eq!(map[0].0.as_str(), Some("rules"));
        let NodeValue::Seq(rules) = &map[0].1.value else {
            panic!("expected a list")
        };
        let rule = rules[0].as_map().unwrap();
        assert_eq!(rule[1].0.as_str(), Some("severity"));
        assert_eq!((rule[1].0.span.line, rule[1].0.span.column), (3, 5));
        assert_eq!((rule[1].1.span.line, rule[1].1.span.column), (3, 15));
    }

    #[test]
    fn deep_nesting_is_refused_before_it_exhausts_the_stack() {
        // 200 levels once overflowed an 8 MiB stack (a debug build) while the tree was built;
        // the limit must hold in a 2 MiB thread (tokio's workers, the test harness).
        let run = |text: String| {
            std::thread::Builder::new()
                .stack_size(2 * 1024 * 1024)
                .spawn(move || parse(&text).map(|_| ()).map_err(|e| e.message))
                .unwrap()
                .join()
                .expect("no stack overflow")
        };
        for depth in [MAX_DEPTH + 1, 200, 3000] {
            let flow = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            assert!(run(flow).is_err(), "flow {depth}");
            let maps = format!("{}x{}", "{ not: ".repeat(depth), " }".repeat(depth));
            assert!(run(maps).is_err(), "flow maps {depth}");
            let block: String = (0..depth)
                .map(|i| format!("{}k:\n", "  ".repeat(i)))
                .collect();
            assert!(run(block).is_err(), "block {depth}");
        }
        let fine = format!("{}{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert!(run(fine).is_ok());
    }

    #[test]
    fn alias_bombs_are_refused_early_and_modest_aliases_load() {
        // Ten levels of nine aliases each: 9^9 scalars if expanded.
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (prev, cur) in ('a'..='i').zip('b'..='j') {
            let list = vec![format!("*{prev}"); 9].join(", ");
            bomb.push_str(&format!("{cur}: &{cur} [{list}]\n"));
        }
        let err = parse(&bomb).unwrap_err();
        assert!(
            err.message.contains("budget") || err.message.contains("alias"),
            "{err:?}"
        );
        // One shared source block, replayed by 90 rules (from 100 aliases on, serde-saphyr also
        // wants at least one anchor per ten aliases).
        let mut shared = String::from("defs: &src { doc: d.txt, section: s, quote: q }\nrules:\n");
        for i in 0..90 {
            shared.push_str(&format!("  - {{ id: R-{i}, source: *src }}\n"));
        }
        let parsed = parse(&shared);
        assert!(parsed.is_ok(), "{parsed:?}");
    }

    #[test]
    fn scalars_keep_their_types() {
        let doc = parse("[1, 2.5, true, ~, text, \"42\"]").unwrap();
        let NodeValue::Seq(items) = doc.value else {
            panic!("expected a list")
        };
        let kinds: Vec<&str> = items.iter().map(|n| n.value.kind()).collect();
        assert_eq!(
            kinds,
            [
                "an integer",
                "a number",
                "a boolean",
                "null",
                "a string",
                "a string"
            ]
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = parse("rules:\n  - id: [unclosed\n").unwrap_err();
        assert!(err.span.is_some(), "{err:?}");
        assert!(!err.message.is_empty());
    }
}
