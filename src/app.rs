//! The application: turns parsed arguments into real objects (resolver, trust anchors, packs),
//! runs the command, and decides the exit code. The only place that writes to stdout/stderr.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use tokio::sync::Semaphore;

use crate::cli::{
    AuditArgs, Cli, Command, DemoArgs, EvaluateArgs, Format, GateArgs, OutputArgs, RulesCommand,
    SchemaKind, SeverityArg,
};
use crate::evidence::Evidence;
use crate::facts::Catalogue;
use crate::net::{Resolver, TrustAnchors};
use crate::policy::diag;
use crate::policy::{self, Pack, PolicyError, RuleOutcome, Severity};
use crate::probe::{self, Limits, ProbeConfig};
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
    policy::load_packs(&names, &Catalogue::build()).map_err(policy_error)
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
    let packs = load_packs(&args.policies)?;
    let targets: Vec<Target> = args
        .targets
        .iter()
        .map(|t| Target::parse(t).map_err(|e| usage(format!("error: {e}"))))
        .collect::<Result<_>>()?;
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
        },
    };
    let ct_logs = load_ct_logs(&args.ct)?;
    let evidence = probe_all(&targets, &config).await;
    if let Some(path) = &args.save_evidence {
        save_evidence(path, &evidence)?;
    }
    let reports: Vec<Report> = evidence
        .iter()
        .map(|e| report::build_with(e, &packs, ct_logs.as_ref()))
        .collect();
    finish(&reports, &args.output, &args.gate)
}

/// Probes targets concurrently (at most 8 at once), keeping the command-line order.
async fn probe_all(targets: &[Target], config: &ProbeConfig) -> Vec<Evidence> {
    let permits = Arc::new(Semaphore::new(8));
    let tasks: Vec<_> = targets
        .iter()
        .cloned()
        .map(|target| {
            let config = config.clone();
            let permits = Arc::clone(&permits);
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await;
                probe::probe_target(&target, &config).await
            })
        })
        .collect();
    let mut evidence = Vec::with_capacity(tasks.len());
    for task in tasks {
        if let Ok(item) = task.await {
            evidence.push(item);
        }
    }
    evidence
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
    let packs = load_packs(&args.policies)?;
    let text = std::fs::read_to_string(&args.evidence)
        .with_context(|| format!("cannot read evidence file {}", args.evidence.display()))
        .map_err(|e| usage(format!("error: {e:#}")))?;
    let evidence = Evidence::from_json(&text)
        .map_err(|e| usage(format!("error: {}: {e}", args.evidence.display())))?;
    let ct_logs = load_ct_logs(&args.ct)?;
    let reports: Vec<Report> = evidence
        .iter()
        .map(|e| report::build_with(e, &packs, ct_logs.as_ref()))
        .collect();
    finish(&reports, &args.output, &args.gate)
}

async fn demo(args: DemoArgs) -> Result<Exit> {
    let packs = load_packs(&args.policies)?;
    let lab = crate::lab::Lab::start(crate::demo::demo_site())
        .await
        .context("cannot start the demo site")?;
    let legacy = crate::lab::legacy::LegacyServer::start(crate::demo::legacy_endpoint())
        .await
        .context("cannot start the demo's legacy endpoint")?;
    let mut overrides = lab.connect_overrides();
    overrides.push(crate::net::ConnectOverride {
        host: crate::demo::LEGACY_HOST.to_string(),
        port: 443,
        addr: legacy.addr,
    });
    // The demo's own DNS server answers the mail and CAA lookups; addresses still come from the
    // overrides, and no query leaves the machine.
    let dkim_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
        .context("cannot generate the demo DKIM key")?;
    let zone = crate::demo::demo_zone(&rcgen::PublicKeyData::subject_public_key_info(&dkim_key))
        .context("cannot build the demo zone")?;
    let dns = crate::lab::dns::LabDns::start(vec![zone])
        .await
        .context("cannot start the demo DNS server")?;
    let resolver = Resolver::new(&[dns.addr], overrides, Duration::from_secs(2))
        .map_err(|e| usage(format!("error: {e}")))?;
    let config = ProbeConfig {
        resolver,
        trust: lab.trust(),
        timeout: Duration::from_secs(10),
        limits: Limits::default(),
        tls: crate::probe::tls::TlsLimits::default(),
        mail: crate::probe::MailOptions::default(),
    };
    let targets = [lab.host.as_str(), crate::demo::LEGACY_HOST]
        .iter()
        .map(|host| Target::parse(host).map_err(|e| usage(format!("error: {e}"))))
        .collect::<Result<Vec<_>>>()?;
    // The demo's own test logs join whatever CT log list is available.
    let mut ct_logs = load_ct_logs(&args.ct)?.unwrap_or_else(|| lab.ct_logs.clone());
    ct_logs.logs.extend(lab.ct_logs.logs.clone());
    let evidence = probe_all(&targets, &config).await;
    let reports: Vec<Report> = evidence
        .iter()
        .map(|e| report::build_with(e, &packs, Some(&ct_logs)))
        .collect();
    write_reports(&reports, &args.output)?;
    Ok(Exit::Success)
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

/// Writes the reports and applies the gates.
fn finish(reports: &[Report], output: &OutputArgs, gate: &GateArgs) -> Result<Exit> {
    write_reports(reports, output)?;
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
    if let Some(threshold) = &gate.fail_under {
        for pack in &report.packs {
            let bands = &pack.grades;
            let rank = |grade: &str| bands.iter().position(|g| g == grade);
            let Some(limit) = rank(threshold) else {
                return Err(usage(format!(
                    "error: --fail-under {threshold}: pack `{}` has no such grade (grades: {})",
                    pack.id,
                    bands.join(", ")
                )));
            };
            if rank(&pack.grade.grade).is_some_and(|r| r > limit) {
                failures.push(format!(
                    "{target}: pack {} graded {} (worse than {threshold})",
                    pack.id, pack.grade.grade
                ));
            }
        }
    }
    if let Some(level) = gate.fail_on {
        let minimum = severity_of(level);
        for pack in &report.packs {
            for finding in &pack.findings {
                if finding.outcome == RuleOutcome::Fail && finding.severity >= minimum {
                    failures.push(format!(
                        "{target}: {} failed ({} severity)",
                        finding.rule_id,
                        finding.severity.as_str()
                    ));
                }
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

fn write_reports(reports: &[Report], output: &OutputArgs) -> Result<()> {
    let (mut sink, colour): (Box<dyn Write>, bool) = match &output.output {
        Some(path) => (
            Box::new(io::BufWriter::new(
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
            )),
            false,
        ),
        None => {
            let stdout = io::stdout();
            let colour = colour_for(stdout.is_terminal());
            (Box::new(io::BufWriter::new(stdout.lock())), colour)
        }
    };
    for (index, report) in reports.iter().enumerate() {
        match output.format {
            Format::Json => report::json::render(report, sink.as_mut())?,
            Format::Table => {
                if index > 0 {
                    writeln!(sink)?;
                }
                let options = TableOptions {
                    colour,
                    ..TableOptions::default()
                };
                report::table::render(report, options, sink.as_mut())?;
            }
        }
    }
    sink.flush()?;
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
            let packs = policy::load_packs(&names, &Catalogue::build()).map_err(policy_error)?;
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
                        "  {:<16} {:<8} {:<14} {}",
                        rule.id.0,
                        rule.severity.as_str(),
                        rule.category.as_str(),
                        rule.title
                    )?;
                }
            }
            Ok(Exit::Success)
        }
        RulesCommand::Check { files } => {
            let packs = policy::load_packs(&files, &Catalogue::build()).map_err(policy_error)?;
            for pack in packs {
                writeln!(out, "{}: ok ({} rules)", pack.origin, pack.rules.len())?;
            }
            Ok(Exit::Success)
        }
        RulesCommand::Facts => {
            let catalogue = Catalogue::build();
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
