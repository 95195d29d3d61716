//! Escaping strings that came from the target for a terminal.
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
