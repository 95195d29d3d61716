//! The application: turns parsed arguments into real objects (resolver, trust anchors, packs),
//! runs the command, and decides the exit code. The only place that writes to stdout/stderr.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;

use crate::cli::{
    AuditArgs, Cli, Command, DemoArgs, EvaluateArgs, Format, GateArgs, OutputArgs, RulesCommand,
    SchemaKind, SeverityArg,
};
use crate::evidence::{Evidence, ProbeArea};
use crate::facts::Catalogue;
use crate::net::{DnssecAnchors, Resolver, TrustAnchors, Validator};
use crate::policy::diag;
use crate::policy::{self, Pack, PolicyError, RuleOutcome, Severity};
use crate::probe::{Limits, ProbeConfig};
use crate::report::{self, Report, table::TableOptions};
use crate::target::Target;

/// Documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// The audit ran and every gate passed.
    Success = 0,
    /// The audit ran and a gate failed.
    GateFailed = 1,
    /// Usage error or invalid rule file.
    Usage = 2,
    /// A target could not be audited at all.
    Unauditable = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// A failure that ends the run with a given exit code after its message is printed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Fatal {
    /// Exit code to use.
    pub exit: Exit,
    /// What to print (already rendered; may span lines).
    pub message: String,
}

fn usage(message: impl Into<String>) -> anyhow::Error {
    Fatal {
        exit: Exit::Usage,
        message: message.into(),
    }
    .into()
}

/// Parses the command line, runs, prints errors once, and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(exit) => exit.into(),
        Err(error) => {
            if let Some(fatal) = error.downcast_ref::<Fatal>() {
                let _ = write!(io::stderr(), "{}", ensure_newline(&fatal.message));
                return fatal.exit.into();
            }
            if is_broken_pipe(&error) {
                return Exit::Success.into();
            }
            let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
            let _ = writeln!(io::stderr(), "error: {}", chain.join(": "));
            Exit::Usage.into()
        }
    }
}

fn ensure_newline(text: &str) -> String {
    if text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Audit(args) => runtime()?.block_on(audit(args)),
        Command::Evaluate(args) => evaluate(args),
        Command::Rules(command) => rules(command),
        Command::Schema { which } => {
            let schema = match which {
                SchemaKind::Facts => crate::facts::catalogue::schema_value(),
                SchemaKind::Report => report::schema_value(),
                SchemaKind::Evidence => crate::evidence::schema_value(),
            };
            let mut out = io::stdout().lock();
            writeln!(out, "{}", serde_json::to_string_pretty(&schema)?)?;
            Ok(Exit::Success)
        }
        Command::Demo(args) => runtime()?.block_on(demo(args)),
        Command::Ct(crate::cli::CtCommand::Update(args)) => runtime()?.block_on(ct_update(args)),
        Command::Diff(args) => diff(&args),
        Command::Completions { shell } => {
            let mut command = crate::cli::command();
            clap_complete::generate(shell, &mut command, "secaudit", &mut io::stdout().lock());
            Ok(Exit::Success)
        }
        Command::Man => {
            clap_mangen::Man::new(crate::cli::command()).render(&mut io::stdout().lock())?;
            Ok(Exit::Success)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Loads the packs named by `--policy` (the default pack when none), rendering diagnostics.
fn load_packs(names: &[String]) -> Result<Vec<Pack>> {
    let names: Vec<String> = if names.is_empty() {
        vec![policy::DEFAULT_PACK.to_string()]
    } else {
        names.to_vec()
    };
    policy::load_packs(&names, Catalogue::shared()).map_err(policy_error)
}

/// The `--attestations` file, checked against the loaded packs (none: no attestations).
fn load_attestations(
    output: &OutputArgs,
    packs: &[Pack],
) -> Result<Vec<crate::policy::model::Attestation>> {
    match &output.attestations {
        Some(path) => {
            policy::load_attestations(path, packs, Catalogue::shared()).map_err(policy_error)
        }
        None => Ok(Vec::new()),
    }
}

fn policy_error(error: PolicyError) -> anyhow::Error {
    match error {
        PolicyError::Invalid(diagnostics, sources) => {
            let colour = colour_for(io::stderr().is_terminal());
            let rendered = diag::render(
                &diagnostics,
                |file| {
                    sources
                        .iter()
                        .find(|(name, _)| name == file)
                        .map(|(_, text)| text.clone())
                },
                colour,
            );
            usage(rendered)
        }
        other => usage(format!("error: {other}")),
    }
}

/// The CT log list: `--ct-log-list`, else the default cache file when it exists, else none
/// (SCT verification is then inconclusive, with a hint).
fn load_ct_logs(args: &crate::cli::CtArgs) -> Result<Option<crate::ct::LogList>> {
    let path = match &args.ct_log_list {
        Some(path) => path.clone(),
        None => match crate::ct::loglist::default_path().filter(|p| p.exists()) {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    crate::ct::LogList::load(&path)
        .map(Some)
        .map_err(|e| usage(format!("error: {e}")))
}

fn colour_for(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

async fn audit(args: AuditArgs) -> Result<Exit> {
    check_output(&args.output)?;
    let packs = load_packs(&args.policies)?;
    let attestations = load_attestations(&args.output, &packs)?;
    let mut targets: Vec<Target> = args
        .targets
        .iter()
        .map(|t| Target::parse_as(t, args.starttls).map_err(|e| usage(format!("error: {e}"))))
        .collect::<Result<_>>()?;
    if let Some(path) = &args.targets_file {
        for target in read_targets_file(path)? {
            // `--starttls` applies to the file's `host` and `host:port` lines too.
            targets.push(match (args.starttls, target.starttls) {
                (Some(protocol), None) => Target::parse_as(&target.input, Some(protocol))
                    .map_err(|e| usage(format!("error: {e}")))?,
                _ => target,
            });
        }
    }
    if targets.is_empty() {
        return Err(usage("error: no targets (the targets file has none)"));
    }
    let trust = match &args.ca_file {
        Some(path) => {
            TrustAnchors::from_pem_file(path).map_err(|e| usage(format!("error: {e}")))?
        }
        None => TrustAnchors::Bundled,
    };
    let resolver = if args.no_dns {
        Resolver::offline(args.connects.clone())
    } else {
        Resolver::new(
            &args.resolvers,
            args.connects.clone(),
            Duration::from_secs(3),
        )
    }
    .map_err(|e| usage(format!("error: {e}")))?;
    let dnssec = if args.no_dns {
        None
    } else {
        let anchors = match &args.trust_anchor {
            Some(path) => {
                DnssecAnchors::from_file(path).map_err(|e| usage(format!("error: {e}")))?
            }
            None => DnssecAnchors::bundled(),
        };
        Some(
            Validator::new(&args.resolvers, anchors, Duration::from_secs(3))
                .map_err(|e| usage(format!("error: {e}")))?
                .trust_anchored_key_sets()
                .await,
        )
    };
    let config = ProbeConfig {
        resolver,
        trust,
        timeout: Duration::from_secs_f64(args.timeout),
        limits: Limits::default(),
        tls: crate::probe::tls::TlsLimits {
            max_connections: args.max_connections_per_host,
            ..Default::default()
        },
        mail: crate::probe::MailOptions {
            domain: args.mail.mail_domain.clone(),
            dkim_selectors: args.mail.dkim_selectors.clone(),
            max_mx: args.mail.max_mx,
        },
        dnssec,
        port_scan: None,
        areas: if args.only.is_empty() {
            ProbeArea::ALL.to_vec()
        } else {
            args.only.clone()
        },
    };
    let ct_logs = load_ct_logs(&args.ct)?;
    let config = ProbeConfig {
        port_scan: port_scan_options(&args.scan),
        ..config
    };
    // JSON Lines is written as each target finishes; the other formats once all are done.
    let mut streams = open_sinks(&args.output, |f| f == Format::Jsonl)?;
    let mut built: Vec<Option<Report>> = vec![None; targets.len()];
    let mut stream_error = None;
    let evidence = crate::bulk::probe_all(
        &targets,
        &config,
        usize::from(args.concurrency),
        |index, evidence| {
            let mut report = report::build_with(evidence, &packs, ct_logs.as_ref());
            report::attest(&mut report, &attestations);
            for (sink, _) in &mut streams {
                if let Err(e) =
                    report::json::render_line(&report, sink.as_mut()).and_then(|()| sink.flush())
                {
                    stream_error.get_or_insert(e);
                }
            }
            if let Some(slot) = built.get_mut(index) {
                *slot = Some(report);
            }
        },
    )
    .await;
    if let Some(error) = stream_error {
        return Err(error.into());
    }
    if let Some(path) = &args.save_evidence {
        save_evidence(path, &evidence)?;
    }
    let reports: Vec<Report> = built.into_iter().flatten().collect();
    finish(&reports, &args.output, &args.gate, &[Format::Jsonl])
}

/// The port scan asked for on the command line: the scanned set is `--scan-ports` (or the
/// default set) plus the allowlist; the allowlist is `--ports`, else the web ports.
fn port_scan_options(args: &crate::cli::ScanArgs) -> Option<crate::probe::ports::PortScanOptions> {
    use crate::probe::ports;
    if !args.requested() {
        return None;
    }
    let mut allowlist = if args.ports.is_empty() {
        vec![80, 443]
    } else {
        args.ports.clone()
    };
    allowlist.sort_unstable();
    allowlist.dedup();
    let mut scanned = if args.scan_ports.is_empty() {
        ports::DEFAULT_PORTS.to_vec()
    } else {
        args.scan_ports.clone()
    };
    scanned.extend_from_slice(&allowlist);
    scanned.sort_unstable();
    scanned.dedup();
    Some(ports::PortScanOptions {
        ports: scanned,
        rate_per_second: args.scan_rate,
        ..ports::PortScanOptions::with_allowlist(allowlist)
    })
}

/// Reads and parses a `--targets-file`, reporting every bad line.
fn read_targets_file(path: &Path) -> Result<Vec<Target>> {
    let shown = path.display().to_string();
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read targets file {shown}"))
        .map_err(|e| usage(format!("error: {e:#}")))?
        .len();
    if size > crate::bulk::MAX_TARGETS_FILE {
        return Err(usage(format!(
            "error: targets file {shown} is {size} bytes, more than {}",
            crate::bulk::MAX_TARGETS_FILE
        )));
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read targets file {shown}"))
        .map_err(|e| usage(format!("error: {e:#}")))?;
    crate::bulk::parse_targets_file(&text, &shown).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| format!("error: {e}")).collect();
        usage(lines.join("\n"))
    })
}

fn save_evidence(path: &Path, evidence: &[Evidence]) -> Result<()> {
    let text = match evidence {
        [single] => serde_json::to_string_pretty(single)?,
        many => serde_json::to_string_pretty(many)?,
    };
    std::fs::write(path, text + "\n")
        .with_context(|| format!("cannot write evidence to {}", path.display()))
}

fn evaluate(args: EvaluateArgs) -> Result<Exit> {
    check_output(&args.output)?;
    let packs = load_packs(&args.policies)?;
    let attestations = load_attestations(&args.output, &packs)?;
    let text = std::fs::read_to_string(&args.evidence)
        .with_context(|| format!("cannot read evidence file {}", args.evidence.display()))
        .map_err(|e| usage(format!("error: {e:#}")))?;
    let evidence = Evidence::from_json(&text)
        .map_err(|e| usage(format!("error: {}: {e}", args.evidence.display())))?;
    let ct_logs = load_ct_logs(&args.ct)?;
    let reports: Vec<Report> = evidence
        .iter()
        .map(|e| {
            let mut report = report::build_with(e, &packs, ct_logs.as_ref());
            report::attest(&mut report, &attestations);
            report
        })
        .collect();
    finish(&reports, &args.output, &args.gate, &[])
}

async fn demo(args: DemoArgs) -> Result<Exit> {
    check_output(&args.output)?;
    let packs = load_packs(&args.policies)?;
    let lab = crate::lab::Lab::start(crate::demo::demo_site())
        .await
        .context("cannot start the demo site")?;
    let legacy = crate::lab::legacy::LegacyServer::start(crate::demo::legacy_endpoint())
        .await
        .context("cannot start the demo's legacy endpoint")?;
    let mx = crate::lab::starttls::StarttlsServer::start(crate::demo::mx_endpoint())
        .await
        .context("cannot start the demo's MX host")?;
    let mut overrides = lab.connect_overrides();
    overrides.push(crate::net::ConnectOverride {
        host: crate::demo::LEGACY_HOST.to_string(),
        port: 443,
        addr: legacy.addr,
    });
    overrides.push(crate::net::ConnectOverride {
        host: crate::demo::DEMO_MX.to_string(),
        port: crate::probe::mx::SMTP_PORT,
        addr: mx.addr,
    });
    // The demo's own DNS server answers the mail and CAA lookups; addresses still come from the
    // overrides, and no query leaves the machine.
    let dkim_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
        .context("cannot generate the demo DKIM key")?;
    // The zone is DNSSEC-signed with a key made now, which is also the DNSSEC trust anchor.
    let zone_key =
        crate::lab::dns::LabDnssecKey::generate().context("cannot make the demo DNSSEC key")?;
    let anchor = zone_key
        .trust_anchor(crate::demo::DEMO_ZONE)
        .context("cannot make the demo DNSSEC key")?;
    let anchors = DnssecAnchors::parse(&anchor, "the demo zone's key")
        .context("cannot make the demo DNSSEC key")?;
    let zone = crate::demo::demo_zone(&rcgen::PublicKeyData::subject_public_key_info(&dkim_key))
        .and_then(|zone| crate::demo::demo_tlsa(zone, mx.served.first().map_or(&[], Vec::as_slice)))
        .context("cannot build the demo zone")?
        .signed(zone_key);
    let dns = crate::lab::dns::LabDns::start(vec![zone])
        .await
        .context("cannot start the demo DNS server")?;
    let resolver = Resolver::new(&[dns.addr], overrides, Duration::from_secs(2))
        .map_err(|e| usage(format!("error: {e}")))?;
    let validator = Validator::new(&[dns.addr], anchors, Duration::from_secs(2))
        .map_err(|e| usage(format!("error: {e}")))?;
    // The lab site's CA and the MX host's.
    let trust = match lab.trust() {
        TrustAnchors::Custom(mut roots) => {
            roots.extend(mx.ca_der.clone());
            TrustAnchors::Custom(roots)
        }
        other => other,
    };
    let config = ProbeConfig {
        resolver,
        trust,
        timeout: Duration::from_secs(10),
        limits: Limits::default(),
        tls: crate::probe::tls::TlsLimits::default(),
        mail: crate::probe::MailOptions::default(),
        dnssec: Some(validator),
        port_scan: None,
        areas: ProbeArea::ALL.to_vec(),
    };
    let targets = [lab.host.as_str(), crate::demo::LEGACY_HOST]
        .iter()
        .map(|host| Target::parse(host).map_err(|e| usage(format!("error: {e}"))))
        .collect::<Result<Vec<_>>>()?;
    // The demo's own test logs join whatever CT log list is available.
    let mut ct_logs = load_ct_logs(&args.ct)?.unwrap_or_else(|| lab.ct_logs.clone());
    ct_logs.logs.extend(lab.ct_logs.logs.clone());
    let evidence = crate::bulk::probe_all(&targets, &config, 8, |_, _| {}).await;
    let reports: Vec<Report> = evidence
        .iter()
        .map(|e| report::build_with(e, &packs, Some(&ct_logs)))
        .collect();
    write_reports(&reports, &args.output, &[])?;
    Ok(Exit::Success)
}

/// Largest report file `diff` reads.
const MAX_REPORT_FILE: u64 = 256 * 1024 * 1024;

/// `secaudit diff OLD NEW`: exit 1 when anything regressed.
fn diff(args: &crate::cli::DiffArgs) -> Result<Exit> {
    let read = |path: &Path| -> Result<Vec<Report>> {
        let shown = path.display().to_string();
        let size = std::fs::metadata(path)
            .with_context(|| format!("cannot read {shown}"))
            .map_err(|e| usage(format!("error: {e:#}")))?
            .len();
        if size > MAX_REPORT_FILE {
            return Err(usage(format!(
                "error: {shown} is larger than {MAX_REPORT_FILE} bytes"
            )));
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {shown}"))
            .map_err(|e| usage(format!("error: {e:#}")))?;
        report::diff::parse_reports(&text, &shown).map_err(|e| usage(format!("error: {e}")))
    };
    let changes = report::diff::diff(&read(&args.old)?, &read(&args.new)?);
    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &changes)?;
        writeln!(out)?;
    } else {
        report::diff::render_text(&changes, &mut out)?;
    }
    out.flush()?;
    let regressed = changes
        .iter()
        .any(|c| c.kind == report::diff::ChangeKind::Regression);
    Ok(if regressed {
        Exit::GateFailed
    } else {
        Exit::Success
    })
}

/// Most bytes accepted for a CT log list.
const MAX_LOG_LIST_BYTES: usize = 16 * 1024 * 1024;

/// Downloads the CT log list, checks that it parses, and writes it atomically.
async fn ct_update(args: crate::cli::CtUpdateArgs) -> Result<Exit> {
    let target = args
        .output
        .clone()
        .or_else(crate::ct::loglist::default_path)
        .ok_or_else(|| {
            usage("error: no --output given and neither XDG_CACHE_HOME nor HOME is set")
        })?;
    let trust = match &args.ca_file {
        Some(path) => {
            TrustAnchors::from_pem_file(path).map_err(|e| usage(format!("error: {e}")))?
        }
        None => TrustAnchors::Bundled,
    };
    let tls = trust
        .verifying_config(&[b"http/1.1"])
        .map_err(|e| usage(format!("error: {e}")))?;
    let mut builder = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("secaudit/", env!("CARGO_PKG_VERSION")));
    for o in &args.connects {
        builder = builder.resolve(&o.host, o.addr);
    }
    let client = builder.build().context("cannot set up the HTTP client")?;
    let mut response = client
        .get(args.url.clone())
        .send()
        .await
        .with_context(|| format!("cannot fetch {}", args.url))?
        .error_for_status()
        .with_context(|| format!("cannot fetch {}", args.url))?;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.context("download interrupted")? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_LOG_LIST_BYTES {
            anyhow::bail!("{} is larger than {MAX_LOG_LIST_BYTES} bytes", args.url);
        }
    }
    let text = String::from_utf8(body).context("the log list is not UTF-8")?;
    let list = crate::ct::LogList::parse(&text, args.url.as_str())?;
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let partial = target.with_extension("json.partial");
    std::fs::write(&partial, &text)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, &target)
        .with_context(|| format!("cannot write {}", target.display()))?;
    writeln!(
        io::stdout().lock(),
        "wrote {} logs (list version {}, {}) to {}",
        list.logs.len(),
        list.version,
        list.timestamp,
        target.display()
    )?;
    Ok(Exit::Success)
}

/// Writes the reports (but not the formats in `streamed`, already written) and applies the
/// gates.
fn finish(
    reports: &[Report],
    output: &OutputArgs,
    gate: &GateArgs,
    streamed: &[Format],
) -> Result<Exit> {
    write_reports(reports, output, streamed)?;
    for report in reports {
        if let Some(reason) = &report.unauditable {
            let _ = writeln!(
                io::stderr(),
                "error: {} could not be audited: {reason}",
                crate::report::escape::for_terminal(&report.target.input)
            );
        }
    }
    if reports.iter().any(|r| r.unauditable.is_some()) {
        return Ok(Exit::Unauditable);
    }
    let mut failed = Vec::new();
    for report in reports {
        failed.extend(gate_failures(report, gate)?);
    }
    for failure in &failed {
        let _ = writeln!(io::stderr(), "gate failed: {failure}");
    }
    Ok(if failed.is_empty() {
        Exit::Success
    } else {
        Exit::GateFailed
    })
}

fn gate_failures(report: &Report, gate: &GateArgs) -> Result<Vec<String>> {
    let mut failures = Vec::new();
    let target = crate::report::escape::for_terminal(&report.target.host);
    for threshold in &gate.fail_under {
        let (only, grade) = match threshold.split_once('=') {
            Some((pack, grade)) => (Some(pack), grade),
            None => (None, threshold.as_str()),
        };
        if let Some(id) = only
            && !report.packs.iter().any(|p| p.id == id)
        {
            return Err(usage(format!(
                "error: --fail-under {threshold}: no pack `{id}` was evaluated (packs: {})",
                report
                    .packs
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        for pack in report
            .packs
            .iter()
            .filter(|p| only.is_none_or(|id| p.id == id))
        {
            let bands = &pack.grades;
            let rank = |g: &str| bands.iter().position(|b| b == g);
            let Some(limit) = rank(grade) else {
                return Err(usage(format!(
                    "error: --fail-under {threshold}: pack `{}` has no such grade (grades: {})",
                    pack.id,
                    bands.join(", ")
                )));
            };
            if rank(&pack.grade.grade).is_some_and(|r| r > limit) {
                failures.push(format!(
                    "{target}: pack {} graded {} (worse than {grade})",
                    pack.id, pack.grade.grade
                ));
            }
        }
    }
    let minimum = gate.fail_on.map(severity_of);
    for pack in &report.packs {
        for finding in &pack.findings {
            let severe = minimum.is_none_or(|m| finding.severity >= m);
            let failed = minimum.is_some() && finding.outcome == RuleOutcome::Fail && severe;
            let undecided =
                gate.fail_on_inconclusive && finding.outcome == RuleOutcome::Inconclusive && severe;
            if failed || undecided {
                failures.push(format!(
                    "{target}: {} {} ({} severity)",
                    finding.rule_id,
                    if failed {
                        "failed"
                    } else {
                        "could not be decided"
                    },
                    finding.severity.as_str()
                ));
            }
        }
    }
    Ok(failures)
}

fn severity_of(level: SeverityArg) -> Severity {
    match level {
        SeverityArg::Info => Severity::Info,
        SeverityArg::Low => Severity::Low,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::High => Severity::High,
        SeverityArg::Critical => Severity::Critical,
    }
}

/// Checks the output options before any work: at most one format without a file of its own.
fn check_output(output: &OutputArgs) -> Result<()> {
    let unnamed = output.formats.iter().filter(|f| f.path.is_none()).count();
    if unnamed > 1 {
        return Err(usage(
            "error: more than one --format without a file: give the others one, as FORMAT=FILE",
        ));
    }
    Ok(())
}

/// Opens the sink of every requested format that `select` picks: its own file, or `--output`,
/// or standard output (the one format without a file). Returns each with its colour setting.
fn open_sinks(
    output: &OutputArgs,
    select: impl Fn(Format) -> bool,
) -> Result<Vec<(Box<dyn Write>, bool)>> {
    let mut sinks = Vec::new();
    for spec in output.formats.iter().filter(|s| select(s.format)) {
        let path = spec.path.as_ref().or(output.output.as_ref());
        sinks.push(match path {
            Some(path) => (
                Box::new(io::BufWriter::new(
                    File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                )) as Box<dyn Write>,
                false,
            ),
            None => {
                let stdout = io::stdout();
                let colour = colour_for(stdout.is_terminal());
                (
                    Box::new(io::BufWriter::new(stdout)) as Box<dyn Write>,
                    colour,
                )
            }
        });
    }
    Ok(sinks)
}

/// Writes every requested format except those in `streamed`.
fn write_reports(reports: &[Report], output: &OutputArgs, streamed: &[Format]) -> Result<()> {
    let formats: Vec<Format> = output
        .formats
        .iter()
        .map(|s| s.format)
        .filter(|f| !streamed.contains(f))
        .collect();
    let sinks = open_sinks(output, |f| !streamed.contains(&f))?;
    for (format, (mut sink, colour)) in formats.into_iter().zip(sinks) {
        render(format, reports, colour, sink.as_mut())?;
        sink.flush()?;
    }
    Ok(())
}

/// Renders `reports` in `format`.
fn render(format: Format, reports: &[Report], colour: bool, sink: &mut dyn Write) -> Result<()> {
    match format {
        Format::Json => {
            for report in reports {
                report::json::render(report, sink)?;
            }
        }
        Format::Jsonl => {
            for report in reports {
                report::json::render_line(report, sink)?;
            }
        }
        Format::Table => {
            for (index, report) in reports.iter().enumerate() {
                if index > 0 {
                    writeln!(sink)?;
                }
                let options = TableOptions {
                    colour,
                    ..TableOptions::default()
                };
                report::table::render(report, options, sink)?;
            }
            if reports.len() > 1 {
                writeln!(sink)?;
                report::table::render_summary(reports, sink)?;
            }
        }
        Format::Sarif => report::sarif::render(reports, sink)?,
        Format::Junit => report::junit::render(reports, sink)?,
        Format::Markdown => report::markdown::render(reports, sink)?,
        Format::Html => report::html::render(reports, sink)?,
    }
    Ok(())
}

fn rules(command: RulesCommand) -> Result<Exit> {
    let mut out = io::stdout().lock();
    match command {
        RulesCommand::List { policies } => {
            let names: Vec<String> = if policies.is_empty() {
                policy::BUILTIN
                    .iter()
                    .map(|(n, _)| (*n).to_string())
                    .collect()
            } else {
                policies
            };
            let packs = policy::load_packs(&names, Catalogue::shared()).map_err(policy_error)?;
            for pack in packs {
                let manual = pack
                    .rules
                    .iter()
                    .filter(|r| matches!(r.check, crate::policy::model::Check::Manual { .. }))
                    .count();
                let mut docs: Vec<&str> = pack
                    .rules
                    .iter()
                    .filter_map(|r| r.source.as_ref().map(|s| s.doc.as_str()))
                    .collect();
                docs.sort_unstable();
                docs.dedup();
                writeln!(
                    out,
                    "{:<22} {:>3} rules ({} checked, {} manual)  {}  [{}]",
                    pack.id,
                    pack.rules.len(),
                    pack.rules.len() - manual,
                    manual,
                    pack.title,
                    pack.origin
                )?;
                if !docs.is_empty() {
                    writeln!(out, "{:<22} sources: {}", "", docs.join(", "))?;
                }
            }
            Ok(Exit::Success)
        }
        RulesCommand::Show { packs } => {
            let packs = policy::load_packs(&packs, Catalogue::shared()).map_err(policy_error)?;
            for pack in packs {
                writeln!(
                    out,
                    "{} — {} ({} rules, {})",
                    pack.id,
                    pack.title,
                    pack.rules.len(),
                    pack.origin
                )?;
                for rule in &pack.rules {
                    writeln!(
                        out,
                        "  {:<22} {:<8} {:<14} {}",
                        rule.id.0,
                        rule.severity.as_str(),
                        rule.category.as_str(),
                        rule.title
                    )?;
                    if let Some(source) = &rule.source {
                        let section = source
                            .section
                            .as_deref()
                            .map(|s| format!(" § {s}"))
                            .unwrap_or_default();
                        let quote = source
                            .quote
                            .as_deref()
                            .map(|q| format!(": “{q}”"))
                            .unwrap_or_default();
                        writeln!(out, "      source: {}{section}{quote}", source.doc)?;
                    }
                    if let Some(note) = &rule.note {
                        writeln!(out, "      note: {note}")?;
                    }
                    if let crate::policy::model::Check::Manual { evidence } = &rule.check {
                        writeln!(out, "      ask for: {}", evidence.join("; "))?;
                    }
                }
            }
            Ok(Exit::Success)
        }
        RulesCommand::Check { files } => {
            let packs = policy::load_packs(&files, Catalogue::shared()).map_err(policy_error)?;
            for pack in packs {
                writeln!(out, "{}: ok ({} rules)", pack.origin, pack.rules.len())?;
            }
            Ok(Exit::Success)
        }
        RulesCommand::Facts { markdown } => {
            let catalogue = Catalogue::shared();
            if markdown {
                write!(out, "{}", catalogue.to_markdown())?;
                return Ok(Exit::Success);
            }
            for (path, info) in catalogue.iter() {
                let kind = match (info.element, info.values.is_empty()) {
                    (Some(element), _) => format!("list of {element}"),
                    (None, false) => format!("{} ({})", info.kind, info.values.join("|")),
                    (None, true) => info.kind.to_string(),
                };
                writeln!(
                    out,
                    "{path:<44} {kind:<28} {}",
                    info.description.replace('\n', " ")
                )?;
            }
            Ok(Exit::Success)
        }
    }
}
