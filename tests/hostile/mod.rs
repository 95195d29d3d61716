//! The hostile-server zoo: servers that lie, stall and attack, each on 127.0.0.1, each audited by
//! the real `secaudit` binary with a short `--timeout`.
//!
//! Every behaviour asserts three things: the audit ends within its deadline (plus a fixed margin
//! for start-up and rendering — a correctness bound, not a benchmark), it does not crash (an exit
//! code from the documented set, a JSON report on stdout), and the report names the problem — an
//! `inconclusive` finding or unobserved fact with its reason, or a failing finding. Each child's
//! peak resident set is read with `wait4` and bounded too. The families run their behaviours
//! concurrently, so the whole zoo takes about as long as its slowest case; each prints one line
//! per behaviour (`cargo test hostile -- --nocapture` shows them).

mod dns;
mod http;
mod output;
pub mod responder;
mod tls;

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The per-target deadline given to every audit of the zoo (`--timeout`).
pub const TIMEOUT: f64 = 1.5;

/// Start-up, evaluation and rendering on top of the deadline; the probes' own hard stop is two
/// seconds past it, so an audit that exceeds this has a bound that does not hold.
const MARGIN: Duration = Duration::from_millis(3500);

/// Most memory one audit of a hostile server may use (peak resident set).
const MAX_RSS_KIB: i64 = 256 * 1024;

/// One run of the binary.
pub struct Run {
    /// Exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error, lossily decoded.
    pub stderr: String,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
    /// Peak resident set of the child (its sampled `VmHWM`), KiB.
    pub rss_kib: i64,
    /// The `--timeout` it was given, seconds.
    pub timeout: f64,
    /// CPU time of the child (user and system).
    pub cpu: Duration,
}

impl Run {
    /// The JSON report on stdout.
    pub fn report(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON report ({e}); exit {:?}; stderr: {}",
                self.code, self.stderr
            )
        })
    }
}

/// Runs `secaudit ARGS` on a blocking thread, measuring its wall time and peak RSS.
pub async fn run(args: Vec<String>) -> Run {
    tokio::task::spawn_blocking(move || run_blocking(&args))
        .await
        .expect("join")
}

/// Most audits of the zoo running at once, over all families: the servers live in the test
/// process, and a machine with two cores shared by every test must still answer them promptly.
const MAX_RUNNING: usize = 8;

static RUNNING: (std::sync::Mutex<usize>, std::sync::Condvar) =
    (std::sync::Mutex::new(0), std::sync::Condvar::new());

/// A slot among the [`MAX_RUNNING`]; released when dropped.
struct Slot;

impl Slot {
    fn acquire() -> Self {
        let (count, freed) = &RUNNING;
        let mut running = count.lock().unwrap_or_else(|p| p.into_inner());
        while *running >= MAX_RUNNING {
            running = freed.wait(running).unwrap_or_else(|p| p.into_inner());
        }
        *running += 1;
        Self
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let (count, freed) = &RUNNING;
        *count.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
        freed.notify_one();
    }
}

// The child is reaped by `wait4` below (which also gives its CPU time), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_blocking(args: &[String]) -> Run {
    let _slot = Slot::acquire();
    let timeout = args
        .iter()
        .position(|a| a == "--timeout")
        .and_then(|i| args.get(i + 1))
        .and_then(|t| t.parse().ok())
        .unwrap_or(20.0);
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_secaudit"))
        .args(args)
        .env("NO_COLOR", "1")
        .env(
            "XDG_CACHE_HOME",
            std::env::temp_dir().join("secaudit-tests-no-cache"),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn secaudit");
    let pid = child.id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = std::sync::Arc::clone(&done);
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(high_water_kib(pid).unwrap_or(0));
                std::thread::sleep(Duration::from_millis(10));
            }
            peak
        })
    };
    let mut err = child.stderr.take().expect("stderr");
    let errors = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = err.read_to_end(&mut text);
        text
    });
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_end(&mut stdout)
        .expect("read stdout");
    let stderr = String::from_utf8_lossy(&errors.join().expect("stderr thread")).into_owned();
    let pid = libc::pid_t::try_from(pid).expect("pid");
    let mut status = 0;
    // SAFETY: wait4 writes only into the status and the zeroed rusage it is given; the child is
    // ours and not waited for elsewhere.
    let (waited, usage) = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        (libc::wait4(pid, &mut status, 0, &mut usage), usage)
    };
    assert_eq!(waited, pid, "wait4 failed");
    let elapsed = start.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let sampled = sampler.join().expect("sampler");
    // ru_maxrss of a child also counts the parent's resident set at the exec (Linux keeps the
    // old high-water mark), so it is only an upper bound; the child's own VmHWM, sampled every
    // 10 ms while it runs, is the measure.
    let _ = usage.ru_maxrss;
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Run {
        code,
        stdout,
        stderr,
        elapsed,
        rss_kib: sampled,
        timeout,
        cpu: cpu_time(&usage),
    }
}

/// The peak resident set (`VmHWM`) of a running process, KiB.
fn high_water_kib(pid: u32) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn cpu_time(usage: &libc::rusage) -> Duration {
    let micros = |t: libc::timeval| {
        u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000 + u64::try_from(t.tv_usec).unwrap_or(0)
    };
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// `audit HOST` with `HOST:443` and `HOST:80` sent to local servers, no DNS (unless `extra` names
/// a `--resolver`), the zoo's deadline (unless `extra` gives a `--timeout`), a JSON report;
/// `extra` is appended.
pub fn audit_args(host: &str, https: SocketAddr, http: SocketAddr, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "audit",
        host,
        "--connect",
        &format!("{host}:443={https}"),
        "--connect",
        &format!("{host}:80={http}"),
        "--format",
        "json",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    if !extra.contains(&"--timeout") {
        args.extend(["--timeout".to_string(), TIMEOUT.to_string()]);
    }
    if !extra.contains(&"--resolver") {
        args.push("--no-dns".into());
    }
    args.extend(extra.iter().map(|s| (*s).to_string()));
    args
}

/// Asserts the run ended in time, within the memory bound and with a documented exit code.
pub fn assert_bounded(name: &str, run: &Run) {
    let limit = Duration::from_secs_f64(run.timeout) + MARGIN;
    assert!(
        run.elapsed < limit,
        "{name}: took {:?}, more than the deadline {}s + {MARGIN:?}",
        run.elapsed,
        run.timeout
    );
    assert!(
        matches!(run.code, Some(0 | 1 | 3)),
        "{name}: exit {:?} (a crash or a usage error); stderr: {}",
        run.code,
        run.stderr
    );
    assert!(
        !run.stderr.contains("panicked"),
        "{name}: panicked: {}",
        run.stderr
    );
    assert!(
        run.rss_kib < MAX_RSS_KIB,
        "{name}: peak RSS {} KiB over {MAX_RSS_KIB} KiB",
        run.rss_kib
    );
}

/// The fact at a dotted path of the report's fact tree (`tls.protocols.tls1_2`); path segments
/// are object keys, or indexes into lists.
pub fn fact<'a>(report: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(&report["facts"], |value, key| match value {
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            other => other.get(key),
        })
}

/// Why the fact at `path` was not observed, if it was not.
pub fn unobserved<'a>(report: &'a Value, path: &str) -> Option<&'a str> {
    report["facts"]["unobserved"][path].as_str()
}

/// The outcome and message of rule `id` in the first pack that has it.
pub fn finding(report: &Value, id: &str) -> (String, String) {
    report["packs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|pack| pack["findings"].as_array().into_iter().flatten())
        .find(|f| f["rule_id"] == id)
        .map(|f| {
            (
                f["outcome"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .unwrap_or_else(|| panic!("no finding for {id}"))
}

/// One line of the zoo's summary: the behaviour, what the report said, the time and memory.
pub struct Line {
    /// The behaviour.
    pub behaviour: &'static str,
    /// The finding or fact it produced.
    pub finding: String,
    /// Wall time of the audit.
    pub elapsed: Duration,
    /// Peak RSS, KiB.
    pub rss_kib: i64,
    /// The deadline it had, seconds.
    pub timeout: f64,
    /// CPU time of the audit.
    pub cpu: Duration,
}

impl Line {
    /// A summary line for `run`, after checking its bounds.
    pub fn new(behaviour: &'static str, run: &Run, finding: String) -> Self {
        assert_bounded(behaviour, run);
        Self {
            behaviour,
            finding,
            elapsed: run.elapsed,
            rss_kib: run.rss_kib,
            timeout: run.timeout,
            cpu: run.cpu,
        }
    }
}

/// Prints the family's summary to the test log and appends it to
/// `CARGO_TARGET_TMPDIR/hostile-zoo.txt`; returns the family's peak RSS.
#[allow(clippy::disallowed_macros)] // the summary goes to the test log
pub fn summarise(family: &str, lines: &[Line]) -> i64 {
    use std::io::Write;
    let mut text = String::new();
    for line in lines {
        text.push_str(&format!(
            "{family:<5} | {:<56} | {:>4.1} s | {:>5} ms | cpu {:>4} ms | {:>6} KiB | {}\n",
            line.behaviour,
            line.timeout,
            line.elapsed.as_millis(),
            line.cpu.as_millis(),
            line.rss_kib,
            line.finding
        ));
    }
    let peak = lines.iter().map(|l| l.rss_kib).max().unwrap_or(0);
    text.push_str(&format!(
        "{family:<5} | {} behaviours, slowest {} ms, peak RSS {peak} KiB\n",
        lines.len(),
        lines
            .iter()
            .map(|l| l.elapsed.as_millis())
            .max()
            .unwrap_or(0)
    ));
    eprint!("{text}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-zoo.txt");
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = file.write_all(text.as_bytes());
    }
    peak
}
