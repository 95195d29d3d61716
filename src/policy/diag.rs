//! Located diagnostics for rule files, rendered with a source line and a caret.
//!
//! Diagnostic codes are public API (documented in the README, never reused); a test checks they
//! are unique.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::yaml::Span;

/// Stable diagnostic codes.
pub mod codes {
    /// The file is not valid YAML.
    pub const SYNTAX: &str = "E001";
    /// A mapping has a key the rule language does not define.
    pub const UNKNOWN_KEY: &str = "E002";
    /// A required key is missing.
    pub const MISSING_KEY: &str = "E003";
    /// A value has the wrong YAML type (e.g. a list where text is expected).
    pub const WRONG_TYPE: &str = "E004";
    /// A condition names a fact path that is not in the catalogue.
    pub const UNKNOWN_FACT: &str = "E005";
    /// An operator's value does not fit the fact's type.
    pub const VALUE_TYPE: &str = "E006";
    /// A value is not one of the allowed ones (severity, category, grade, regex, …).
    pub const INVALID_VALUE: &str = "E007";
    /// Two rules share an id.
    pub const DUPLICATE_ID: &str = "E008";
    /// The reserved `expr:` key was used.
    pub const RESERVED: &str = "E009";
    /// A condition is not shaped as a leaf or a combinator.
    pub const CONDITION_SHAPE: &str = "E010";
    /// The file could not be read.
    pub const IO: &str = "E011";
    /// An override names a rule the extended pack does not have.
    pub const UNKNOWN_RULE: &str = "E012";
    /// `extends` names a pack that cannot be loaded, or packs extend each other in a cycle.
    pub const EXTENDS: &str = "E013";

    /// Every code, for the uniqueness test and the documentation.
    pub const ALL: [&str; 13] = [
        SYNTAX,
        UNKNOWN_KEY,
        MISSING_KEY,
        WRONG_TYPE,
        UNKNOWN_FACT,
        VALUE_TYPE,
        INVALID_VALUE,
        DUPLICATE_ID,
        RESERVED,
        CONDITION_SHAPE,
        IO,
        UNKNOWN_RULE,
        EXTENDS,
    ];
}

/// One problem in a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code from [`codes`].
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// The file, as the user named it.
    pub file: String,
    /// Where in it.
    pub span: Option<Span>,
    /// Short text under the caret.
    pub label: String,
    /// A suggestion (did-you-mean, expected values).
    pub help: Option<String>,
}

impl Diagnostic {
    /// `file:line:column`.
    pub fn location(&self) -> String {
        match self.span {
            Some(span) => format!("{}:{}:{}", self.file, span.line, span.column),
            None => self.file.clone(),
        }
    }
}

/// Renders diagnostics against their source text, followed by a count line.
pub fn render(
    diagnostics: &[Diagnostic],
    source_of: impl Fn(&str) -> Option<String>,
    colour: bool,
) -> String {
    let renderer = if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for diagnostic in diagnostics {
        let source = source_of(&diagnostic.file);
        let line = diagnostic
            .span
            .zip(source.as_deref())
            .and_then(|(span, text)| source_line(text, span));
        let title = Level::ERROR
            .primary_title(diagnostic.message.as_str())
            .id(diagnostic.code);
        let mut groups = Vec::new();
        let location = diagnostic.location();
        match &line {
            Some((text, line_no, range)) => {
                groups.push(
                    title.element(
                        Snippet::source(text.as_str())
                            .line_start(*line_no)
                            .path(diagnostic.file.as_str())
                            .annotation(
                                AnnotationKind::Primary
                                    .span(range.clone())
                                    .label(diagnostic.label.as_str()),
                            ),
                    ),
                );
            }
            None => groups.push(title.element(Level::NOTE.message(location.as_str()))),
        }
        if let Some(help) = &diagnostic.help {
            groups.push(Group::with_title(
                Level::HELP.secondary_title(help.as_str()),
            ));
        }
        out.push_str(&renderer.render(&groups));
        out.push_str("\n\n");
    }
    let files: std::collections::BTreeSet<&str> =
        diagnostics.iter().map(|d| d.file.as_str()).collect();
    out.push_str(&format!(
        "error: {} problem{} in {} rule file{}\n",
        diagnostics.len(),
        if diagnostics.len() == 1 { "" } else { "s" },
        files.len(),
        if files.len() == 1 { "" } else { "s" },
    ));
    out
}

/// The line holding `span`, its 1-based number, and the caret range within it.
fn source_line(text: &str, span: Span) -> Option<(String, usize, std::ops::Range<usize>)> {
    let line_no = usize::try_from(span.line).ok()?;
    let line = text.lines().nth(line_no.checked_sub(1)?)?;
    let column = usize::try_from(span.column).ok()?.saturating_sub(1);
    // Columns count characters; convert to a byte index within the line.
    let start = line
        .char_indices()
        .nth(column)
        .map_or(line.len(), |(index, _)| index);
    let width = span
        .len
        .filter(|len| *len > 0)
        .unwrap_or_else(|| token_width(&line[start..]));
    let end = (start + width.max(1)).min(line.len().max(start + 1));
    let shown = if end > line.len() {
        format!("{line} ")
    } else {
        line.to_string()
    };
    let end = end.min(shown.len());
    Some((shown, line_no, start..end))
}

/// Width of the token at the start of `rest`: up to a YAML flow delimiter or the line end.
fn token_width(rest: &str) -> usize {
    rest.find([',', '}', ']', '#'])
        .unwrap_or(rest.len())
        .max(1)
        .min(rest.trim_end().len().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for code in codes::ALL {
            assert!(seen.insert(code), "duplicate diagnostic code {code}");
        }
    }

    #[test]
    fn renders_caret_under_the_span() {
        let diagnostic = Diagnostic {
            code: codes::UNKNOWN_FACT,
            message: "unknown fact path `http.hsts.maxage`".into(),
            file: "r.yaml".into(),
            span: Some(Span {
                line: 2,
                column: 9,
                offset: None,
                len: Some(16),
            }),
            label: "not in the facts catalogue".into(),
            help: Some("did you mean `http.hsts.max_age`?".into()),
        };
        let text = "require:\n  fact: http.hsts.maxage\n";
        let out = render(&[diagnostic], |_| Some(text.to_string()), false);
        assert!(out.contains("error[E005]: unknown fact path"), "{out}");
        assert!(out.contains("r.yaml:2:9"), "{out}");
        assert!(
            out.contains("^^^^^^^^^^^^^^^^ not in the facts catalogue"),
            "{out}"
        );
        assert!(out.contains("help: did you mean"), "{out}");
        assert!(out.ends_with("error: 1 problem in 1 rule file\n"), "{out}");
    }
}
