//! Bulk audits: targets read from a file, probed concurrently under a limit, with a progress bar
//! on stderr, and each target's evidence handed over the moment it is complete — so JSON Lines
//! output streams while the rest are still being probed.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::evidence::Evidence;
use crate::probe::{self, ProbeConfig};
use crate::target::Target;

/// Largest targets file read.
pub const MAX_TARGETS_FILE: u64 = 16 * 1024 * 1024;

/// A line of a targets file that is not a target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct TargetsFileError {
    /// The file.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Parses a targets file: one target per line; blank lines and everything from a `#` that starts
/// a line or follows whitespace are ignored. Every bad line is reported, not just the first.
pub fn parse_targets_file(text: &str, file: &str) -> Result<Vec<Target>, Vec<TargetsFileError>> {
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        match Target::parse(line) {
            Ok(target) => targets.push(target),
            Err(e) => errors.push(TargetsFileError {
                file: file.to_string(),
                line: index + 1,
                reason: e.to_string(),
            }),
        }
    }
    if errors.is_empty() {
        Ok(targets)
    } else {
        Err(errors)
    }
}

/// The line without its comment (`#` at the start or after whitespace; a `#` inside a URL
/// fragment is not a comment).
fn strip_comment(line: &str) -> &str {
    let mut previous_is_space = true;
    for (at, c) in line.char_indices() {
        if c == '#' && previous_is_space {
            return &line[..at];
        }
        previous_is_space = c.is_whitespace();
    }
    line
}

/// Probes `targets`, at most `concurrency` at once, calling `on_done(index, &evidence)` as each
/// finishes (in completion order), and returns all evidence in the targets' order. Shows a
/// progress bar on stderr when it is a terminal and there is more than one target.
pub async fn probe_all(
    targets: &[Target],
    config: &ProbeConfig,
    concurrency: usize,
    mut on_done: impl FnMut(usize, &Evidence),
) -> Vec<Evidence> {
    let progress = if targets.len() > 1 && std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(targets.len() as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40.cyan/blue} {pos}/{len} targets · {elapsed_precise} · eta {eta} · {wide_msg}",
    ) {
        progress.set_style(style);
    }
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for (index, target) in targets.iter().cloned().enumerate() {
        let config = config.clone();
        let permits = Arc::clone(&permits);
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (index, probe::probe_target(&target, &config).await)
        });
    }
    let mut done: Vec<Option<Evidence>> = vec![None; targets.len()];
    while let Some(joined) = tasks.join_next().await {
        let Ok((index, evidence)) = joined else {
            continue;
        };
        progress.inc(1);
        progress.set_message(crate::report::escape::for_terminal(&evidence.target.host));
        on_done(index, &evidence);
        if let Some(slot) = done.get_mut(index) {
            *slot = Some(evidence);
        }
    }
    progress.finish_and_clear();
    done.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_file_lines_and_comments() {
        let text = "# production\nexample.test\n\n  shop.example.test:8443   # the shop\nhttps://a.example.test/login#top\n";
        let targets = parse_targets_file(text, "t.txt").unwrap();
        let hosts: Vec<&str> = targets.iter().map(|t| t.host.as_str()).collect();
        assert_eq!(
            hosts,
            ["example.test", "shop.example.test", "a.example.test"]
        );
        assert_eq!(targets[1].https_port, 8443);
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let errors =
            parse_targets_file("ok.test\nhttp://\n\ngopher://x.test\n", "t.txt").unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 4]);
        assert!(errors[0].to_string().starts_with("t.txt:2: "));
    }
}
