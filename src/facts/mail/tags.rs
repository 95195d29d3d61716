//! The `tag=value; tag=value` lists that DMARC, DKIM, MTA-STS, TLS-RPT and BIMI records share
//! (RFC 6376 section 3.2, RFC 7489 section 6.4). Strict: a tag without `=`, an empty or malformed
//! tag name and a repeated tag are all reported, each with its column.

/// One `name=value` pair as written (the name lower-cased, the value trimmed of spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Tag name, lower-case.
    pub name: String,
    /// Value with surrounding whitespace removed.
    pub value: String,
    /// 1-based column (in characters) where the tag starts.
    pub column: usize,
}

/// A parsed tag list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagList {
    /// Tags in order; a repeated tag appears once, with its first value.
    pub tags: Vec<Tag>,
    /// Names of tags that appear more than once.
    pub duplicates: Vec<String>,
    /// Syntax errors as `column N: message`.
    pub errors: Vec<String>,
}

impl TagList {
    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.value.as_str())
    }
}

/// Parses `text` as a tag list. Whitespace (space, tab, CR, LF) around names, values and `;` is
/// allowed; an empty final element (a trailing `;`) is too.
pub fn parse(text: &str) -> TagList {
    let mut list = TagList::default();
    let mut column = 1;
    let parts: Vec<&str> = text.split(';').collect();
    let last = parts.len().saturating_sub(1);
    for (index, part) in parts.iter().enumerate() {
        let start = column;
        column += part.chars().count() + 1;
        let trimmed = part.trim_matches(is_wsp);
        if trimmed.is_empty() {
            if index != last {
                list.errors.push(format!("column {start}: empty tag"));
            }
            continue;
        }
        let offset = part.chars().take_while(|c| is_wsp(*c)).count();
        let tag_column = start + offset;
        let Some((name, value)) = trimmed.split_once('=') else {
            list.errors
                .push(format!("column {tag_column}: `{trimmed}` is not tag=value"));
            continue;
        };
        let name = name.trim_matches(is_wsp);
        let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            list.errors
                .push(format!("column {tag_column}: `{name}` is not a tag name"));
            continue;
        }
        let name = name.to_ascii_lowercase();
        if list.tags.iter().any(|t| t.name == name) {
            if !list.duplicates.contains(&name) {
                list.duplicates.push(name);
            }
            continue;
        }
        list.tags.push(Tag {
            name,
            value: value.trim_matches(is_wsp).to_string(),
            column: tag_column,
        });
    }
    list
}

fn is_wsp(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_with_whitespace_and_trailing_separator() {
        let list = parse("v=DMARC1 ;  p = reject;\trua=mailto:a@example.test;");
        assert!(list.errors.is_empty(), "{:?}", list.errors);
        assert_eq!(list.get("p"), Some("reject"));
        assert_eq!(list.get("rua"), Some("mailto:a@example.test"));
        assert_eq!(list.tags[1].column, 13);
    }

    #[test]
    fn reports_duplicates_and_garbage() {
        let list = parse("v=DMARC1; p=none; p=reject; junk; ;1x=y; =z");
        assert_eq!(list.get("p"), Some("none"));
        assert_eq!(list.duplicates, ["p"]);
        assert_eq!(list.errors.len(), 4, "{:?}", list.errors);
        assert!(list.errors[0].starts_with("column 29:"));
    }
}
