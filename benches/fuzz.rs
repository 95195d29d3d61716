//! A coverage-less mutation fuzzer for stable Rust: `cargo bench --bench fuzz -- [OPTIONS]`.
//!
//! It drives the same entry points as the corpus test and the cargo-fuzz targets
//! (`secaudit::fuzz::TARGETS`): starting from `fuzz/corpus/<target>/`, each execution takes a
//! seed and applies one to four deterministic xorshift mutations — bit flips, interesting bytes
//! (0, 0x7f, 0x80, 0xff), truncation, insertion and deletion of runs, duplication of a slice
//! (nesting, repeated fields), splicing with another seed, and length-field lies (a big-endian
//! u8/u16/u24 overwritten with 0, 1, 0x3fff, 0x4000, 0xffff, the remaining length ± 1). There
//! is no coverage feedback, so it finds shallow bugs quickly and deep ones only by luck; a
//! libFuzzer run (`fuzz/`, nightly) goes deeper.
//!
//! A panic stops the target: the input is written to `fuzz/corpus/<target>/crash-<hash>` (where
//! the corpus test then runs it forever) and the driver exits 1. The slowest single execution is
//! reported, because a slow input is a hang in waiting.
//!
//! Options: `--runs N` executions per target (default 100000, or unlimited with `--seconds`),
//! `--seconds S` to stop each target after S seconds of wall time (whichever of the two comes
//! first), `--target NAME` (repeatable; default all), `--seed S`. A long run prints its progress
//! to stderr once a minute. Examples:
//! `cargo bench --bench fuzz -- --runs 10000000 --target spf`,
//! `cargo bench --bench fuzz -- --seconds 1800 --target rules`.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest input the mutator builds.
const MAX_LEN: usize = 256 * 1024;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        match rng.below(10) {
            0 if len > 0 => {
                let at = rng.below(len);
                input[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                input[at] = [0, 0x7f, 0x80, 0xff, b'"', b'[', b'{', b';'][rng.below(8)];
            }
            2 => input.truncate(rng.below(len + 1)),
            3 => {
                let at = rng.below(len + 1);
                let run: Vec<u8> = (0..=rng.below(16)).map(|_| rng.next() as u8).collect();
                input.splice(at..at, run);
            }
            4 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(64)).min(len);
                input.drain(at..end);
            }
            5 if len > 0 => {
                // Duplicate a slice, possibly many times (deep nesting, repeated fields).
                let at = rng.below(len);
                let end = (at + 1 + rng.below(32)).min(len);
                let slice = input[at..end].to_vec();
                let many = rng.below(8) == 0;
                let times = 1 + rng.below(if many { 2000 } else { 4 });
                let insert_at = rng.below(len + 1);
                input.splice(insert_at..insert_at, slice.repeat(times));
            }
            6 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let take = rng.below(other.len() - from + 1);
                    let at = rng.below(len + 1);
                    input.truncate(at);
                    input.extend_from_slice(&other[from..from + take]);
                }
            }
            7 if len >= 3 => {
                // A length field that lies.
                let at = rng.below(len - 2);
                let rest = (len - at) as u32;
                let value =
                    [0, 1, 0x3fff, 0x4000, 0xffff, rest.wrapping_sub(1), rest + 1][rng.below(7)];
                match rng.below(3) {
                    0 => input[at] = value as u8,
                    1 => input[at..at + 2].copy_from_slice(&(value as u16).to_be_bytes()),
                    _ => input[at..at + 3].copy_from_slice(&value.to_be_bytes()[1..]),
                }
            }
            8 if len > 0 => {
                let at = rng.below(len);
                input[at] = input[at].wrapping_add(1 + rng.below(3) as u8);
            }
            _ => {
                let at = rng.below(len + 1);
                input.insert(at, rng.next() as u8);
            }
        }
    }
    input.truncate(MAX_LEN);
}

fn corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .collect()
}

struct Outcome {
    runs: u64,
    elapsed: Duration,
    slowest: Duration,
    crash: Option<PathBuf>,
}

/// When to stop a target: after `runs` executions or `time`, whichever comes first.
#[derive(Clone, Copy)]
struct Limit {
    runs: u64,
    time: Option<Duration>,
}

/// How often a long run reports its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(60);

#[allow(clippy::disallowed_macros)] // progress of a bench binary, on stderr
fn fuzz(name: &str, target: fn(&[u8]), limit: Limit, seed: u64, dir: &Path) -> Outcome {
    let seeds = corpus(dir);
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    let mut rng = Rng(seed
        ^ name.bytes().fold(0x9e37_79b9_7f4a_7c15_u64, |h, b| {
            h.rotate_left(5) ^ u64::from(b)
        }));
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut input = Vec::with_capacity(MAX_LEN);
    let mut next_report = PROGRESS_EVERY;
    let mut runs = limit.runs;
    for run in 0..limit.runs {
        let elapsed = started.elapsed();
        if limit.time.is_some_and(|time| elapsed >= time) {
            runs = run;
            break;
        }
        if elapsed >= next_report {
            next_report += PROGRESS_EVERY;
            eprintln!(
                "{name}: {run} executions in {:.0} s ({:.0}/s), slowest {:.1} ms",
                elapsed.as_secs_f64(),
                run as f64 / elapsed.as_secs_f64(),
                slowest.as_secs_f64() * 1000.0
            );
        }
        input.clear();
        input.extend_from_slice(&seeds[rng.below(seeds.len())]);
        mutate(&mut rng, &seeds, &mut input);
        let one = Instant::now();
        if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
            let mut hasher = DefaultHasher::new();
            input.hash(&mut hasher);
            let path = dir.join(format!("crash-{:016x}", hasher.finish()));
            let _ = std::fs::write(&path, &input);
            return Outcome {
                runs: run + 1,
                elapsed: started.elapsed(),
                slowest,
                crash: Some(path),
            };
        }
        slowest = slowest.max(one.elapsed());
    }
    Outcome {
        runs,
        elapsed: started.elapsed(),
        slowest,
        crash: None,
    }
}

#[allow(clippy::disallowed_macros)] // a bench binary reports on stdout
fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let time = value("--seconds")
        .and_then(|v| v.parse().ok())
        .map(Duration::from_secs);
    let runs: u64 = value("--runs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(if time.is_some() { u64::MAX } else { 100_000 });
    let limit = Limit { runs, time };
    let seed: u64 = value("--seed")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5ec_a0d1);
    let chosen: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, _)| *i > 0 && args[i - 1] == "--target")
        .map(|(_, a)| a)
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    // Panics are expected to be caught and reported once, not printed per execution.
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    let mut failed = false;
    println!("target        executions   seconds    exec/s   slowest");
    for (name, target) in secaudit::fuzz::TARGETS {
        if !chosen.is_empty() && !chosen.iter().any(|c| c.as_str() == *name) {
            continue;
        }
        let outcome = fuzz(name, *target, limit, seed, &root.join(name));
        let secs = outcome.elapsed.as_secs_f64();
        println!(
            "{name:<12} {:>11} {:>9.1} {:>9.0} {:>6.1} ms{}",
            outcome.runs,
            secs,
            outcome.runs as f64 / secs.max(1e-9),
            outcome.slowest.as_secs_f64() * 1000.0,
            outcome
                .crash
                .as_ref()
                .map(|p| format!("   CRASH: {}", p.display()))
                .unwrap_or_default()
        );
        failed |= outcome.crash.is_some();
    }
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
