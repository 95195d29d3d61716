//! JSON output: one pretty-printed report object per target (a JSON stream for several targets).

use std::io::{self, Write};

use super::Report;

/// Writes one report as pretty JSON followed by a newline.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Writes one report as a single line of compact JSON (JSON Lines), for streaming bulk audits.
pub fn render_line(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, report).map_err(io::Error::other)?;
    out.write_all(b"\n")
}
