//! A tolerant, bounded scanner for start tags in an HTML sample (`<meta>`, `<script>`).
//!
//! This is not an HTML parser: it finds start tags of one name outside comments and reads their
//! attributes (double-, single- or un-quoted; names case-insensitive; the common character
//! references decoded). It runs in time linear in the sample, which the HTTP probe already
//! bounds, and never fails. Used for meta-tag CSP and Subresource Integrity facts.

/// Attributes kept per tag.
const MAX_ATTRIBUTES: usize = 32;

/// One start tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    attributes: Vec<(String, String)>,
}

impl Tag {
    /// The value of attribute `name` (case-insensitive), character references decoded; an
    /// attribute without a value gives an empty string. The first occurrence wins, as in HTML.
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.attributes
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| decode(v))
    }
}

/// Every start tag named `name` in `html`, in order.
pub fn tags<'a>(html: &'a str, name: &'a str) -> impl Iterator<Item = Tag> + 'a {
    let bytes = html.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some(offset) = html.get(at..).and_then(|rest| rest.find('<')) {
            let start = at + offset;
            if html[start..].starts_with("<!--") {
                at = html[start + 4..]
                    .find("-->")
                    .map_or(html.len(), |end| start + 4 + end + 3);
                continue;
            }
            let name_end = start + 1 + name.len();
            let matches_name = html
                .get(start + 1..name_end)
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
                && bytes
                    .get(name_end)
                    .is_none_or(|b| b.is_ascii_whitespace() || *b == b'/' || *b == b'>');
            if !matches_name {
                at = start + 1;
                continue;
            }
            let (tag, end) = read_attributes(html, name_end);
            at = end;
            return Some(tag);
        }
        at = html.len();
        None
    })
}

/// Reads attributes from `from` up to the closing `>`; returns the tag and the index after it.
fn read_attributes(html: &str, from: usize) -> (Tag, usize) {
    let bytes = html.as_bytes();
    let mut i = from;
    let mut attributes = Vec::new();
    let skip_ws = |i: &mut usize| {
        while bytes
            .get(*i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        match bytes.get(i) {
            None => return (Tag { attributes }, html.len()),
            Some(b'>') => return (Tag { attributes }, i + 1),
            Some(_) => {}
        }
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        let name = &html[name_start..i];
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let mut value = "";
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            match bytes.get(i) {
                Some(quote @ (b'"' | b'\'')) => {
                    let open = i + 1;
                    let close = html[open..]
                        .find(*quote as char)
                        .map_or(html.len(), |end| open + end);
                    value = &html[open..close];
                    i = (close + 1).min(html.len());
                }
                _ => {
                    let open = i;
                    while bytes
                        .get(i)
                        .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                    {
                        i += 1;
                    }
                    value = &html[open..i];
                }
            }
        }
        if name.is_empty() {
            // A stray `=` (and any value after it): step over one whole character so the scan
            // always advances and stays on a character boundary.
            i += html
                .get(i..)
                .and_then(|rest| rest.chars().next())
                .map_or(1, char::len_utf8);
        } else if attributes.len() < MAX_ATTRIBUTES {
            attributes.push((name.to_string(), value.to_string()));
        }
    }
}

fn decode(value: &str) -> String {
    if !value.contains('&') {
        return value.to_string();
    }
    value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stray_value_before_multibyte_text_stays_on_a_char_boundary() {
        // Found by the fuzzer (fuzz/corpus/csp/crash-8a7363264d416774).
        let html = "<meta =\"default-src 'none'\"\u{fffd}></head>";
        assert_eq!(tags(html, "meta").count(), 1);
        let html = "<meta =\"x\"\u{e9}\u{e9}=\"y\"\u{1f600} a=b>";
        assert_eq!(tags(html, "meta").count(), 1);
    }

    #[test]
    fn finds_tags_and_attributes() {
        let html = r#"<html><HEAD><Meta HTTP-EQUIV="Content-Security-Policy" content='default-src &apos;self&apos;'>
            <meta charset=utf-8><script src=/a.js integrity="sha384-x" async></script></head>"#;
        let metas: Vec<Tag> = tags(html, "meta").collect();
        assert_eq!(metas.len(), 2);
        assert_eq!(
            metas[0].attribute("http-equiv").as_deref(),
            Some("Content-Security-Policy")
        );
        assert_eq!(
            metas[0].attribute("content").as_deref(),
            Some("default-src 'self'")
        );
        assert_eq!(metas[1].attribute("charset").as_deref(), Some("utf-8"));
        let scripts: Vec<Tag> = tags(html, "script").collect();
        assert_eq!(scripts.len(), 1);
        assert_eq!(scripts[0].attribute("src").as_deref(), Some("/a.js"));
        assert_eq!(scripts[0].attribute("async").as_deref(), Some(""));
    }

    #[test]
    fn comments_and_longer_names_are_skipped() {
        let html = "<!-- <script src=x> --><scripts></scripts><script\tsrc=y>";
        let scripts: Vec<Tag> = tags(html, "script").collect();
        assert_eq!(scripts.len(), 1);
        assert_eq!(scripts[0].attribute("src").as_deref(), Some("y"));
    }

    #[test]
    fn broken_markup_terminates() {
        for html in [
            "<script",
            "<script src=\"unterminated",
            "<meta = = = >",
            "<!--",
            "<<<<script>>>",
            "<script \u{0}\u{1b}=\u{7f}>",
        ] {
            let _ = tags(html, "script").count();
            let _ = tags(html, "meta").count();
        }
        let big = "<meta a=b ".repeat(20_000);
        assert!(tags(&big, "meta").count() > 0);
    }
}
