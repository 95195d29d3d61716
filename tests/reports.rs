//! The report formats end to end: one audit of a lab site with hostile strings, written as every
//! format at once (`--format X=FILE`), then each file checked by an independent reader — the
//! official SARIF 2.1.0 schema, an XML parser, and headless Chromium for the HTML page.

use std::path::{Path, PathBuf};
use std::process::Command;

use secaudit::lab::Reply;
use serde_json::Value;

use crate::util::{LAB_HOST, args, secaudit, site, start_lab, stderr, stdout};

/// A cookie whose name tries to inject markup and reverse the text around it.
const HOSTILE_COOKIE: &str = "<script>alert(1)</script>\u{202e}x";

struct Outputs {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    report: Value,
}

impl Outputs {
    fn text(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).expect(name)
    }
}

/// Audits a lab whose cookie name is hostile, writing every format.
async fn audit_all_formats() -> Outputs {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let hostile = site(
        Reply::page("<html><body>shop</body></html>")
            .header("set-cookie", &format!("{HOSTILE_COOKIE}=1; Path=/"))
            .header("x-powered-by", "PHP/8.1 <img src=x onerror=alert(2)>"),
    );
    let (_lab, lab_args) = start_lab(hostile, dir.path()).await;
    let file = |name: &str| path.join(name).display().to_string();
    let mut cli = args(&["audit", LAB_HOST, "--format", "json"]);
    for (format, name) in [
        ("sarif", "report.sarif"),
        ("junit", "report.xml"),
        ("markdown", "report.md"),
        ("html", "report.html"),
        ("jsonl", "report.jsonl"),
    ] {
        cli.push("--format".into());
        cli.push(format!("{format}={}", file(name)));
    }
    cli.extend(lab_args);
    let output = secaudit(cli).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).expect("json on stdout");
    Outputs {
        _dir: dir,
        dir: path,
        report,
    }
}

/// Findings of every pack in the JSON report with `outcome`.
fn count(report: &Value, outcomes: &[&str]) -> usize {
    report["packs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["findings"].as_array().unwrap())
        .filter(|f| outcomes.contains(&f["outcome"].as_str().unwrap()))
        .count()
}

fn shared(path: &str) -> Option<PathBuf> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(path);
    full.exists().then_some(full)
}

#[allow(clippy::disallowed_macros)] // skip notices go to the test log
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_in_one_run() {
    let out = audit_all_formats().await;
    let report = &out.report;

    // JSON Lines: the same report, one line.
    let jsonl = out.text("report.jsonl");
    assert_eq!(jsonl.lines().count(), 1);
    let line: Value = serde_json::from_str(jsonl.trim()).unwrap();
    assert_eq!(line["packs"], report["packs"]);

    // SARIF: valid against the official schema; one result per failed or inconclusive rule.
    let sarif: Value = serde_json::from_str(&out.text("report.sarif")).unwrap();
    match shared("sarif/sarif-schema-2.1.0.json") {
        Some(schema) => {
            let schema: Value =
                serde_json::from_str(&std::fs::read_to_string(schema).unwrap()).unwrap();
            let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
            let errors: Vec<String> = validator
                .iter_errors(&sarif)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "SARIF schema violations: {errors:#?}");
        }
        None => eprintln!("skipped: ../shared/data/sarif is not present"),
    }
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), count(report, &["fail", "inconclusive"]));
    assert!(
        results
            .iter()
            .any(|r| r["level"] == "error" && r["kind"] == "fail")
    );
    assert!(results.iter().all(
        |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == format!("https://{LAB_HOST}/")
    ));
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }

    // JUnit: well-formed XML, one test case per rule, a failure per failed rule.
    let xml = out.text("report.xml");
    let doc = roxmltree::Document::parse(&xml).expect("JUnit XML parses");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let cases = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    let failures = root
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    let skipped = root
        .descendants()
        .filter(|n| n.has_tag_name("skipped"))
        .count();
    assert_eq!(
        cases,
        count(
            report,
            &["pass", "fail", "inconclusive", "not_applicable", "manual"]
        )
    );
    assert_eq!(failures, count(report, &["fail"]));
    assert_eq!(
        skipped,
        count(report, &["inconclusive", "not_applicable", "manual"])
    );
    assert_eq!(
        root.attribute("failures"),
        Some(failures.to_string().as_str())
    );

    // Markdown and HTML: the hostile cookie name appears, escaped.
    let markdown = out.text("report.md");
    assert!(markdown.contains("&lt;script&gt;"), "{markdown}");
    assert!(!markdown.contains("<script") && !markdown.contains('\u{202e}'));
    let html = out.text("report.html");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "escaped in the page"
    );
    assert!(!html.contains("<script") && !html.contains('\u{202e}'));
    assert!(!html.contains("<img"));
    render_in_chromium(&out.dir.join("report.html"));
}

/// Opens the page in headless Chromium: it must render without console messages (a CSP
/// violation or script error would log one), its DOM must hold no injected element, and a
/// screenshot is taken.
#[allow(clippy::disallowed_macros)] // skip notices go to the test log
fn render_in_chromium(page: &Path) {
    let Some(browser) = ["chromium", "chromium-browser"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        eprintln!("skipped: chromium is not installed (.ci/run installs it)");
        return;
    };
    let url = format!("file://{}", page.display());
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let dom = Command::new(browser)
        .args(common)
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    let log = String::from_utf8_lossy(&dom.stderr);
    assert!(
        dom_text.contains("Security audit"),
        "the page rendered: {dom_text:.300}"
    );
    assert!(
        !dom_text.contains("<script") && !dom_text.contains("<img"),
        "no injected element"
    );
    assert!(
        dom_text.contains("&lt;script&gt;alert(1)"),
        "the hostile name shows as text"
    );
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let shot = page.with_extension("png");
    let screenshot = Command::new(browser)
        .args(common)
        .args(["--hide-scrollbars", "--window-size=1280,2000"])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(screenshot.status.success());
    let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "a screenshot of {size} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_lists_regressions_first_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/evidence/observatory")
            .join(name)
            .display()
            .to_string()
    };
    let mut files = Vec::new();
    for (name, out) in [
        ("01-perfect.json", "old.json"),
        ("02-bare.json", "new.json"),
    ] {
        let path = dir.path().join(out);
        let output = secaudit(args(&[
            "evaluate",
            "--evidence",
            &fixture(name),
            "--policy",
            "observatory",
            "--format",
            &format!("json={}", path.display()),
        ]))
        .await;
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        files.push(path.display().to_string());
    }
    let worse = secaudit(args(&["diff", &files[0], &files[1]])).await;
    assert_eq!(worse.status.code(), Some(1), "regressions exit 1");
    let text = stdout(&worse);
    let first = text.lines().nth(1).unwrap_or_default();
    assert!(
        first.starts_with("regression  obs.example.test:443/ observatory: grade A+"),
        "{text}"
    );
    let better = secaudit(args(&["diff", &files[1], &files[0], "--json"])).await;
    assert_eq!(better.status.code(), Some(0));
    let changes: Value = serde_json::from_str(&stdout(&better)).unwrap();
    assert!(
        changes
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["kind"] == "improvement")
    );
    let same = secaudit(args(&["diff", &files[0], &files[0]])).await;
    assert_eq!(
        (same.status.code(), stdout(&same).trim()),
        (Some(0), "no changes")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_and_man_page() {
    let bash = secaudit(args(&["completions", "bash"])).await;
    assert!(stdout(&bash).contains("--targets-file"));
    let man = secaudit(args(&["man"])).await;
    assert!(stdout(&man).starts_with(".ie"), "roff");
    assert!(stdout(&man).contains("secaudit"));
}
