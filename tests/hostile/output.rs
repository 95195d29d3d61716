//! Output safety: what a target sends must not reach the reader's terminal as control
//! characters, nor run as script in the HTML report.

/// Asserts `text` holds no control character but newline and tab (C0, DEL, C1) and no bidi
/// override.
pub fn assert_terminal_safe(text: &str, what: &str) {
    if let Some((at, c)) = text.char_indices().find(|(_, c)| {
        (c.is_control() && *c != '\n' && *c != '\t')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }) {
        let start = text[..at].char_indices().rev().nth(40).map_or(0, |(i, _)| i);
        panic!(
            "{what}: control character U+{:04X} at byte {at}: {:?}",
            u32::from(c),
            &text[start..at]
        );
    }
}

/// A string that tries everything at once: an OSC window title, clear screen, a C1 CSI, a NUL, a
/// bidi override, HTML and script, attribute breaking quotes, Markdown links and table pipes.
const PAYLOAD: &str = "x\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{0}\u{202e}<script>alert(1)</script>\
                       <img src=x onerror=alert(2)>\"'&`|*_[y](javascript:alert(3))\r\nz";

/// Rules that put target strings into findings: each fails with the hostile value observed.
const PACK: &str = r#"
pack: { id: hostile, title: "Strings from the target" }
rules:
  - id: HOSTILE-01
    title: Server header
    category: http
    severity: high
    require: { fact: http.server.raw, is: nginx }
    remediation: none
  - id: HOSTILE-02
    title: Referrer policy
    category: http
    severity: high
    require: { fact: http.referrer_policy.value, is: no-referrer }
    remediation: none
  - id: HOSTILE-03
    title: Cookie names
    category: cookies
    severity: high
    applies_when: { fact: http.cookie_count, gt: 0 }
    require: { fact: cookies, every: { fact: name, is: session } }
    remediation: none
"#;

/// Evidence of a site whose every string is hostile.
fn hostile_evidence() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/evidence/observatory/03-csp-unsafe-inline.json");
    let mut evidence: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("fixture JSON");
    evidence["target"]["input"] = PAYLOAD.into();
    for chain in ["plain", "secure"] {
        for hop in evidence["http"][chain]["hops"]
            .as_array_mut()
            .expect("hops")
        {
            let headers = hop["headers"].as_array_mut().expect("headers");
            for header in headers.iter_mut() {
                if header["name"] != "location" && header["name"] != "content-type" {
                    let value = format!("{}{PAYLOAD}", header["value"].as_str().unwrap_or(""));
                    header["value"] = value.into();
                }
            }
            for (name, value) in [
                ("server", PAYLOAD.to_string()),
                ("x-powered-by", PAYLOAD.to_string()),
                ("set-cookie", format!("{PAYLOAD}=1; Secure; Path=/")),
                ("set-cookie", format!("sid=1; Domain={PAYLOAD}")),
            ] {
                headers.push(serde_json::json!({ "name": name, "value": value }));
            }
            hop["body"]["text"] = format!("<title>{PAYLOAD}</title>").into();
        }
    }
    evidence
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_never_reach_the_terminal_or_run_in_html() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evidence = dir.path().join("evidence.json");
    std::fs::write(&evidence, hostile_evidence().to_string()).expect("write evidence");
    let pack = dir.path().join("hostile.yaml");
    std::fs::write(&pack, PACK).expect("write pack");
    let file = |name: &str| dir.path().join(name).display().to_string();
    let mut args: Vec<String> = [
        "evaluate",
        "--evidence",
        &evidence.display().to_string(),
        "--policy",
        "baseline",
        "--policy",
        "observatory",
        "--policy",
        &pack.display().to_string(),
        "--format",
        "table",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    let formats = [
        ("json", "report.json"),
        ("jsonl", "report.jsonl"),
        ("sarif", "report.sarif"),
        ("junit", "report.xml"),
        ("markdown", "report.md"),
        ("html", "report.html"),
    ];
    for (format, name) in formats {
        args.push("--format".into());
        args.push(format!("{format}={}", file(name)));
    }
    let run = super::run(args).await;
    assert!(
        matches!(run.code, Some(0 | 1)),
        "exit {:?}: {}",
        run.code,
        run.stderr
    );
    let table = String::from_utf8(run.stdout.clone()).expect("UTF-8 table");
    assert!(table.contains("HOSTILE-01"), "{table}");
    assert!(table.contains("\\u{1b}"), "the escape is shown, visibly");
    assert_terminal_safe(&table, "table on stdout");
    assert_terminal_safe(&run.stderr, "stderr");
    for (format, name) in formats {
        let text = std::fs::read_to_string(dir.path().join(name)).expect(name);
        assert_terminal_safe(&text, format);
        assert!(
            text.contains("HOSTILE-01"),
            "{format}: the hostile rule is reported"
        );
    }
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect("report");
    // The machine formats still parse, and keep the value (escaped, not lost).
    let json: serde_json::Value = serde_json::from_str(&read("report.json")).expect("JSON");
    assert_eq!(json["facts"]["http"]["server"]["raw"], PAYLOAD);
    serde_json::from_str::<serde_json::Value>(&read("report.sarif")).expect("SARIF");
    roxmltree::Document::parse(&read("report.xml")).expect("JUnit XML");
    // Markdown renders raw HTML and links: neither may survive.
    let markdown = read("report.md");
    for needle in ["<script", "<img", "](javascript:"] {
        assert!(!markdown.contains(needle), "markdown holds {needle}");
    }
    // HTML: no element, attribute or URL from the target.
    let html = read("report.html");
    for needle in [
        "<script",
        "<img",
        "onerror=alert(2)>",
        "href=\"javascript",
        "\"'&`",
    ] {
        assert!(!html.contains(needle), "HTML holds {needle}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)"), "shown as text");
}
