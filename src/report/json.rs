//! JSON output: one pretty-printed report object per target (a JSON stream for several targets).

use std::io::{self, Write};

use super::Report;

/// Writes one report as pretty JSON followed by a newline.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
    out.write_all(b"\n")
}
