//! JSON output: one pretty-printed report object per target (a JSON stream for several targets).
//! Control and bidi characters from the target are `\u` escapes, never raw bytes.

use std::io::{self, Write};

use super::Report;

/// Writes one report as pretty JSON followed by a newline.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    super::escape::write_json(out, report, true)?;
    out.write_all(b"\n")
}

/// Writes one report as a single line of compact JSON (JSON Lines), for streaming bulk audits.
pub fn render_line(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    super::escape::write_json(out, report, false)?;
    out.write_all(b"\n")
}
