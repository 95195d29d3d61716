//! Command-line definitions (clap). This layer only describes and syntax-checks what the user
//! typed; building resolvers, loading packs and every other effect happens in `app`.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::net::ConnectOverride;

const EXIT_CODES: &str = "\
Exit codes:
  0  the audit ran and every gate passed
  1  the audit ran and a gate failed (--fail-under, --fail-on)
  2  usage error or invalid rule file
  3  a target could not be audited at all (e.g. its name does not resolve)";

/// Observe a domain from outside, judge it against policy packs, print a graded report.
#[derive(Debug, Parser)]
#[command(name = "secaudit", version, about, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The clap command tree, for completions and the man page.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Subcommands.
// Parsed once per run: the size of the largest variant (`audit`'s options) does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe targets and report.
    #[command(after_help = EXIT_CODES)]
    Audit(AuditArgs),
    /// Judge saved evidence again, offline (no network).
    #[command(after_help = EXIT_CODES)]
    Evaluate(EvaluateArgs),
    /// List, check and document rule packs.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Print a JSON Schema: of the fact tree, the JSON report, or the evidence file.
    Schema {
        /// Which schema.
        #[arg(value_enum)]
        which: SchemaKind,
    },
    /// Start a deliberately imperfect local HTTPS site and audit it (no internet needed).
    Demo(DemoArgs),
    /// Certificate transparency data.
    #[command(subcommand)]
    Ct(CtCommand),
    /// What changed between two JSON reports (regressions first). Exits 1 when anything regressed.
    Diff(DiffArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

/// `secaudit diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier report (`--format json` or `jsonl` output).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The later report.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Print the changes as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `secaudit ct …`.
#[derive(Debug, Subcommand)]
pub enum CtCommand {
    /// Download the public CT log list (v3 JSON) to the cache, for SCT verification.
    Update(CtUpdateArgs),
}

/// `secaudit ct update`.
#[derive(Debug, Args)]
pub struct CtUpdateArgs {
    /// Where to download the list from.
    #[arg(
        long,
        default_value = "https://www.gstatic.com/ct/log_list/v3/log_list.json"
    )]
    pub url: url::Url,
    /// Where to write it (default: `$XDG_CACHE_HOME/secaudit/log_list.json`, or `~/.cache/…`).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Trust only the CA certificates in this PEM file instead of the bundled Mozilla roots.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Connect to IP:PORT whenever HOST:PORT is requested. Repeatable.
    #[arg(long = "connect", value_name = "HOST:PORT=IP:PORT")]
    pub connects: Vec<ConnectOverride>,
}

/// `secaudit audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Host name, host:port (the port is HTTPS's) or URL; `smtp://`, `imap://`, `pop3://` and
    /// `ftp://` URLs audit that STARTTLS endpoint's TLS (no HTTP).
    #[arg(required_unless_present = "targets_file", value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Treat every target as an endpoint of this STARTTLS protocol (smtp, imap, pop3, ftp):
    /// `host` or `host:port` (default port 25, 143, 110, 21); its TLS is scanned through the
    /// protocol's preamble and no HTTP request is made.
    #[arg(long, value_name = "PROTOCOL")]
    pub starttls: Option<crate::evidence::StarttlsProtocol>,
    /// Read more targets from FILE: one per line, `#` starts a comment.
    #[arg(long, value_name = "FILE")]
    pub targets_file: Option<PathBuf>,
    /// Most targets audited at the same time.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
    /// Policy pack: a built-in name (see `rules list`) or a YAML file. Repeatable.
    #[arg(long = "policy", value_name = "PACK_OR_FILE")]
    pub policies: Vec<String>,
    #[command(flatten)]
    pub ct: CtArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Also write the raw evidence (JSON) here, for `secaudit evaluate`.
    #[arg(long, value_name = "FILE")]
    pub save_evidence: Option<PathBuf>,
    /// Connect to IP:PORT whenever HOST:PORT is requested (like curl's --connect-to). Repeatable.
    #[arg(long = "connect", value_name = "HOST:PORT=IP:PORT")]
    pub connects: Vec<ConnectOverride>,
    /// DNS server for every lookup, the target's own address included. Repeatable; default: the system's.
    #[arg(long = "resolver", value_name = "IP[:PORT]", value_parser = crate::net::resolve::parse_resolver_addr)]
    pub resolvers: Vec<std::net::SocketAddr>,
    /// Send no DNS query at all: names resolve only through --connect, and DNS facts (CAA,
    /// DNSSEC, mail) are inconclusive. For air-gapped audits of a lab.
    #[arg(long, conflicts_with = "resolvers")]
    pub no_dns: bool,
    /// Validate DNSSEC from the DNSKEY records in this file (zone-file presentation format, e.g.
    /// unbound's root.key, or `zone. IN DNSKEY 257 3 13 …` for a lab zone) instead of the
    /// bundled IANA root keys.
    #[arg(long, value_name = "FILE", conflicts_with = "no_dns")]
    pub trust_anchor: Option<PathBuf>,
    /// Trust only the CA certificates in this PEM file instead of the bundled Mozilla roots.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub scan: ScanArgs,
    /// Probe only these areas (comma-separated: tls, http, dns, mail, exposure); the rules
    /// over the others are inconclusive ("not probed"). E.g. `--only tls` for a TLS scan alone.
    #[arg(long, value_name = "AREAS", value_delimiter = ',')]
    pub only: Vec<crate::evidence::ProbeArea>,
    /// Most simultaneous connections to one host during the TLS scan.
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = parse_connections)]
    pub max_connections_per_host: usize,
    /// Deadline for all probes of one target, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 20.0, value_parser = parse_timeout)]
    pub timeout: f64,
}

/// Which mail domain to audit and how.
#[derive(Debug, Args)]
pub struct MailArgs {
    /// Audit the mail records (SPF, DMARC, DKIM, MTA-STS, …) of this domain instead of the
    /// target host. The host is used as is by default: `www.example.com` is not shortened.
    #[arg(long, value_name = "DOMAIN", value_parser = parse_domain)]
    pub mail_domain: Option<String>,
    /// DKIM selector to look up (`SELECTOR._domainkey.DOMAIN`) besides the common ones.
    /// Repeatable.
    #[arg(long = "dkim-selector", value_name = "SELECTOR", value_parser = parse_selector)]
    pub dkim_selectors: Vec<String>,
    /// Most MX hosts (by preference) whose STARTTLS, TLS and DANE are probed on port 25, all
    /// at once, each with its own --max-connections-per-host; 0 probes none.
    #[arg(long, value_name = "N", default_value_t = crate::probe::mx::DEFAULT_MAX_MX, value_parser = parse_max_mx)]
    pub max_mx: usize,
}

/// The port scan: off unless asked for, because it connects to ports the target's owner may not
/// expect to be tried.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Scan the target's addresses for open TCP ports (the documented default set: remote
    /// administration, cleartext, mail, database, cache and file-sharing ports) and ask SSH
    /// servers for their authentication methods. Allowed: the target's HTTP and HTTPS ports.
    #[arg(long)]
    pub port_scan: bool,
    /// Ports allowed to be open, comma-separated (e.g. `22,80,443`); implies --port-scan, and
    /// these ports are scanned too.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_port)]
    pub ports: Vec<u16>,
    /// Scan these ports instead of the default set (comma-separated); implies --port-scan.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_port)]
    pub scan_ports: Vec<u16>,
    /// Most connection attempts per second during the port scan.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub scan_rate: u32,
}

impl ScanArgs {
    /// Whether any option asked for the scan.
    pub fn requested(&self) -> bool {
        self.port_scan || !self.ports.is_empty() || !self.scan_ports.is_empty()
    }
}

/// `secaudit evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Evidence file written by `audit --save-evidence`.
    #[arg(long, value_name = "FILE")]
    pub evidence: PathBuf,
    /// Policy pack: a built-in name or a YAML file. Repeatable.
    #[arg(long = "policy", value_name = "PACK_OR_FILE")]
    pub policies: Vec<String>,
    #[command(flatten)]
    pub ct: CtArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub gate: GateArgs,
}

/// `secaudit demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Policy pack: a built-in name or a YAML file. Repeatable.
    #[arg(long = "policy", value_name = "PACK_OR_FILE")]
    pub policies: Vec<String>,
    #[command(flatten)]
    pub ct: CtArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Where the CT log list comes from.
#[derive(Debug, Args)]
pub struct CtArgs {
    /// CT log list (v3 JSON) to verify SCTs against. Default: the file `secaudit ct update`
    /// writes, `$XDG_CACHE_HOME/secaudit/log_list.json` (or `~/.cache/secaudit/log_list.json`).
    #[arg(long, value_name = "FILE")]
    pub ct_log_list: Option<PathBuf>,
}

/// Output options shared by commands that print a report.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Report format: table, json, jsonl, sarif, junit, markdown or html; `FORMAT=FILE` writes
    /// that format to FILE. Repeatable (e.g. `--format table --format sarif=out.sarif`).
    #[arg(long = "format", value_name = "FORMAT[=FILE]", default_value = "table")]
    pub formats: Vec<FormatSpec>,
    /// Write the report to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Auditors' answers for manual rules (YAML: rule id → status, evidence, reviewed, by);
    /// reported as attested, never as observed.
    #[arg(long, value_name = "FILE")]
    pub attestations: Option<PathBuf>,
}

/// CI gates.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// Exit 1 when a pack's grade is worse than GRADE: `B` for every pack, `PACK=B` for one.
    /// Repeatable.
    #[arg(long, value_name = "[PACK=]GRADE")]
    pub fail_under: Vec<String>,
    /// Exit 1 when a rule of this severity or higher fails.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
    /// Exit 1 when a rule could not be decided (at or above --fail-on's severity when given).
    #[arg(long)]
    pub fail_on_inconclusive: bool,
}

/// `secaudit rules …`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List packs (all built-in packs by default) with their rule counts and sources.
    List {
        /// Packs to list: built-in names or files.
        #[arg(long = "policy", value_name = "PACK_OR_FILE")]
        policies: Vec<String>,
    },
    /// Print the rules of packs: severity, category, title, source quote, note, evidence asked.
    Show {
        /// Packs to show: built-in names or files.
        #[arg(required = true, value_name = "PACK_OR_FILE")]
        packs: Vec<String>,
    },
    /// Validate rule files and report every problem with its location.
    Check {
        /// Rule files to check.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
    },
    /// List every fact path rules can use, with its type and meaning.
    Facts {
        /// As a Markdown table (the catalogue section of docs/rules.md).
        #[arg(long)]
        markdown: bool,
    },
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A graded table for the terminal.
    Table,
    /// The versioned JSON report (one object per target).
    Json,
    /// One compact JSON report per line, written as each target finishes.
    Jsonl,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
    /// Markdown, for tickets and pull requests.
    Markdown,
    /// A self-contained HTML page, for clients.
    Html,
}

/// A `--format` value: a format, and optionally the file it goes to (`html=report.html`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatSpec {
    /// The format.
    pub format: Format,
    /// Where to write it (absent: `--output`, or standard output).
    pub path: Option<PathBuf>,
}

impl std::str::FromStr for FormatSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, path) = match text.split_once('=') {
            Some((name, path)) if !path.is_empty() => (name, Some(PathBuf::from(path))),
            Some((name, _)) => return Err(format!("`{name}=` needs a file name after `=`")),
            None => (text, None),
        };
        let format = Format::from_str(name, true).map_err(|_| {
            let names: Vec<String> = Format::value_variants()
                .iter()
                .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
                .collect();
            format!("`{name}` is not a format (one of: {})", names.join(", "))
        })?;
        Ok(Self { format, path })
    }
}

/// Schemas `secaudit schema` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// The fact tree rules are written against.
    Facts,
    /// The JSON report.
    Report,
    /// The evidence file.
    Evidence,
}

/// Severities for `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    /// Informational and above.
    Info,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

fn parse_domain(text: &str) -> Result<String, String> {
    let domain = text.trim_end_matches('.').to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if valid {
        Ok(domain)
    } else {
        Err(format!("`{text}` is not a domain name"))
    }
}

fn parse_selector(text: &str) -> Result<String, String> {
    parse_domain(text).map_err(|_| format!("`{text}` is not a DKIM selector"))
}

fn parse_port(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!("`{text}` is not a TCP port (1-65535)")),
    }
}

fn parse_connections(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n @ 1..=64) => Ok(n),
        _ => Err("expected a number of connections from 1 to 64".to_string()),
    }
}

fn parse_max_mx(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n @ 0..=20) => Ok(n),
        _ => Err("expected a number of MX hosts from 0 to 20".to_string()),
    }
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if secs.is_finite() && secs > 0.0 && secs <= 3600.0 {
        Ok(secs)
    } else {
        Err("the timeout must be between 0 and 3600 seconds".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_audit_flags() {
        let cli = Cli::try_parse_from([
            "secaudit",
            "audit",
            "shop.example.test",
            "--resolver",
            "127.0.0.1:5353",
            "--connect",
            "shop.example.test:443=127.0.0.1:8443",
            "--timeout",
            "5",
            "--format",
            "json",
            "--format",
            "html=out.html",
            "--fail-on",
            "high",
            "--mail-domain",
            "Example.test.",
            "--dkim-selector",
            "s2024",
            "--dkim-selector",
            "google",
            "--max-mx",
            "3",
        ])
        .unwrap();
        let Command::Audit(args) = cli.command else {
            panic!("expected audit")
        };
        assert_eq!(args.resolvers, ["127.0.0.1:5353".parse().unwrap()]);
        assert_eq!(args.connects[0].port, 443);
        assert_eq!(
            args.output.formats,
            [
                FormatSpec {
                    format: Format::Json,
                    path: None
                },
                FormatSpec {
                    format: Format::Html,
                    path: Some("out.html".into())
                }
            ]
        );
        assert_eq!(args.gate.fail_on, Some(SeverityArg::High));
        assert_eq!(args.mail.mail_domain.as_deref(), Some("example.test"));
        assert_eq!(args.mail.dkim_selectors, ["s2024", "google"]);
        assert_eq!(args.mail.max_mx, 3);
        assert_eq!(args.starttls, None);
        let cli =
            Cli::try_parse_from(["secaudit", "audit", "mx.example.test", "--starttls", "SMTP"])
                .unwrap();
        let Command::Audit(args) = cli.command else {
            panic!("expected audit")
        };
        assert_eq!(args.starttls, Some(crate::evidence::StarttlsProtocol::Smtp));
        assert_eq!(args.mail.max_mx, 5);
    }

    #[test]
    fn rejects_bad_values() {
        assert!(Cli::try_parse_from(["secaudit", "audit", "x", "--timeout", "-1"]).is_err());
        assert!(Cli::try_parse_from(["secaudit", "audit", "x", "--connect", "nonsense"]).is_err());
        assert!(Cli::try_parse_from(["secaudit", "audit"]).is_err());
        assert!(Cli::try_parse_from(["secaudit", "audit", "x", "--format", "pdf"]).is_err());
        assert!(Cli::try_parse_from(["secaudit", "audit", "x", "--format", "html="]).is_err());
        assert!(Cli::try_parse_from(["secaudit", "audit", "x", "--mail-domain", "a..b"]).is_err());
        assert!(Cli::try_parse_from(["secaudit", "audit", "x", "--dkim-selector", "a b"]).is_err());
        assert!(Cli::try_parse_from(["secaudit", "audit", "x", "--ports", "22,0"]).is_err());
        assert!(Cli::try_parse_from(["secaudit", "audit", "x", "--ports", "70000"]).is_err());
        assert!(Cli::try_parse_from(["secaudit", "audit", "x", "--scan-rate", "0"]).is_err());
        assert!(Cli::try_parse_from(["secaudit", "audit", "x", "--max-mx", "99"]).is_err());
        assert!(Cli::try_parse_from(["secaudit", "audit", "x", "--starttls", "http"]).is_err());
    }

    #[test]
    fn port_scan_is_opt_in() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["secaudit", "audit", "x"];
            argv.extend_from_slice(extra);
            match Cli::try_parse_from(argv).unwrap().command {
                Command::Audit(args) => args.scan,
                _ => panic!("expected audit"),
            }
        };
        assert!(!parse(&[]).requested());
        assert!(parse(&["--port-scan"]).requested());
        let scan = parse(&["--ports", "22,443", "--scan-rate", "5"]);
        assert!(scan.requested());
        assert_eq!(scan.ports, [22, 443]);
        assert_eq!(scan.scan_rate, 5);
    }
}
