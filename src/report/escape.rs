//! Escaping strings that came from the target for a terminal (and for JSON that may be printed
//! on one).
//!
//! A server can put escape sequences in a header to rewrite the auditor's screen, or bidi
//! controls to make text read differently than it is. Every such character is replaced by a
//! visible `\u{..}` escape before it reaches the terminal.

/// Makes `text` safe to print on a terminal: control characters (C0, DEL, C1) and bidirectional
/// formatting characters become visible escapes; everything else is kept.
pub fn for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_dangerous(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Makes `text` safe inside Markdown (a table cell or a paragraph): controls made visible as for
/// the terminal, line breaks flattened, HTML's `<`, `>` and `&` as entities (Markdown renders raw
/// HTML), and every other character with a Markdown meaning backslash-escaped.
pub fn for_markdown(text: &str) -> String {
    let visible = for_terminal(text);
    let mut out = String::with_capacity(visible.len() + 8);
    for c in visible.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '!' | '|' | '~' | '"' => {
                out.push('\\');
                out.push(c);
            }
            other => out.push(other),
        }
    }
    out
}

/// Writes `value` as JSON through [`TerminalSafeJson`]: pretty when `pretty`, else on one line.
pub fn write_json<T: serde::Serialize + ?Sized>(
    out: &mut dyn std::io::Write,
    value: &T,
    pretty: bool,
) -> std::io::Result<()> {
    use serde_json::ser::{CompactFormatter, PrettyFormatter, Serializer};
    let result = if pretty {
        value.serialize(&mut Serializer::with_formatter(
            &mut *out,
            TerminalSafeJson(PrettyFormatter::new()),
        ))
    } else {
        value.serialize(&mut Serializer::with_formatter(
            &mut *out,
            TerminalSafeJson(CompactFormatter),
        ))
    };
    result.map_err(std::io::Error::other)
}

/// A JSON formatter that also writes DEL, the C1 controls and the bidi formatting characters as
/// `\uXXXX` escapes. JSON allows them raw, and a terminal that prints the report would obey
/// them (U+009B is a complete CSI); the escaped string has the same value for every parser.
pub struct TerminalSafeJson<F>(pub F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for TerminalSafeJson<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if is_dangerous(c) {
                self.0.write_string_fragment(writer, &fragment[start..at])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = at + c.len_utf8();
            }
        }
        self.0.write_string_fragment(writer, &fragment[start..])
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_key(w)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_attacks() {
        assert_eq!(for_terminal("nginx\u{1b}[2J"), "nginx\\u{1b}[2J");
        assert_eq!(for_terminal("a\u{9b}31m"), "a\\u{9b}31m");
        assert_eq!(for_terminal("x\u{202e}txt.exe"), "x\\u{202e}txt.exe");
        assert_eq!(for_terminal("line\nbreak\r"), "line\\u{a}break\\u{d}");
        assert_eq!(for_terminal("ünïcödé ok"), "ünïcödé ok");
    }

    #[test]
    fn json_escapes_what_json_allows_raw() {
        let value = serde_json::json!({ "a": ["x\u{9b}2J\u{7f}\u{202e}\u{1b}ü"] });
        for pretty in [false, true] {
            let mut out = Vec::new();
            write_json(&mut out, &value, pretty).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains(r"x\u009b2J\u007f\u202e\u001bü"), "{text}");
            assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text}");
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, value);
        }
        let mut pretty = Vec::new();
        write_json(&mut pretty, &value, true).unwrap();
        assert_eq!(
            String::from_utf8(pretty).unwrap(),
            serde_json::to_string_pretty(&value)
                .unwrap()
                .replace('\u{9b}', r"\u009b")
                .replace('\u{7f}', r"\u007f")
                .replace('\u{202e}', r"\u202e")
        );
    }

    #[test]
    fn escapes_markdown_and_html() {
        assert_eq!(
            for_markdown("<script>alert(1)</script>"),
            "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"
        );
        assert_eq!(for_markdown("a|b\n[x](y)"), "a\\|b\\\\u{a}\\[x\\]\\(y\\)");
        assert_eq!(
            for_markdown("**bold** `code`"),
            "\\*\\*bold\\*\\* \\`code\\`"
        );
    }
}
