//! BIMI records (draft-brand-indicators-for-message-identification):
//! `v=BIMI1; l=https://…/logo.svg; a=https://…/vmc.pem` at `default._bimi.DOMAIN`. An empty
//! `l=` with no `a=` declines to publish a logo.

use super::tags;

/// A parsed BIMI record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BimiRecord {
    /// `l`: the logo URL (empty: declined).
    pub location: Option<String>,
    /// `a`: the mark certificate URL.
    pub authority: Option<String>,
    /// Syntax errors.
    pub errors: Vec<String>,
}

/// Whether TXT text is a BIMI record (starts with `v=BIMI1`).
pub fn is_record(text: &str) -> bool {
    tags::parse(text)
        .tags
        .first()
        .is_some_and(|t| t.name == "v" && t.value == "BIMI1")
}

/// Parses a BIMI record: `l` and `a`, when not empty, must be `https:` URLs.
pub fn parse(text: &str) -> BimiRecord {
    let list = tags::parse(text);
    let mut record = BimiRecord {
        errors: list.errors.clone(),
        ..BimiRecord::default()
    };
    record.errors.extend(
        list.duplicates
            .iter()
            .map(|d| format!("tag `{d}` appears more than once")),
    );
    for (name, slot) in [("l", &mut record.location), ("a", &mut record.authority)] {
        if let Some(value) = list.get(name) {
            if !value.is_empty() && !url::Url::parse(value).is_ok_and(|u| u.scheme() == "https") {
                record
                    .errors
                    .push(format!("`{name}={value}` is not an https: URL"));
            }
            *slot = Some(value.to_string());
        }
    }
    if record.location.is_none() {
        record.errors.push("the required tag `l` is missing".into());
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records() {
        let record =
            parse("v=BIMI1; l=https://example.com/logo.svg; a=https://example.com/vmc.pem");
        assert!(record.errors.is_empty(), "{:?}", record.errors);
        assert_eq!(
            record.location.as_deref(),
            Some("https://example.com/logo.svg")
        );
        assert!(parse("v=BIMI1; l=;").errors.is_empty());
        assert!(
            !parse("v=BIMI1; l=http://example.com/logo.svg")
                .errors
                .is_empty()
        );
        assert!(!parse("v=BIMI1;").errors.is_empty());
        assert!(is_record("v=BIMI1; l="));
        assert!(!is_record("v=BIMI2; l="));
    }
}
