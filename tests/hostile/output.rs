//! Output safety: what a target sends must not reach the reader's terminal as control
//! characters, nor run as script in the HTML report.

/// Asserts `text` holds no control character but newline and tab (C0, DEL, C1) and no bidi
/// override.
pub fn assert_terminal_safe(text: &str, what: &str) {
    if let Some((at, c)) = text.char_indices().find(|(_, c)| {
        (c.is_control() && *c != '\n' && *c != '\t')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }) {
        let start = text[..at].char_indices().rev().nth(40).map_or(0, |(i, _)| i);
        panic!(
            "{what}: control character U+{:04X} at byte {at}: {:?}",
            u32::from(c),
            &text[start..at]
        );
    }
}
