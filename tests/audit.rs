//! `secaudit audit` and `secaudit evaluate` end to end against in-process servers.

use std::net::Ipv4Addr;

use secaudit::lab::{LabSite, Reply};
use serde_json::Value;

use crate::util::{
    LAB_HOST, args, dns_server, dns_zone, secaudit, site, start_lab, stderr, stdout,
};

/// A site with a short HSTS, a CSP without frame-ancestors, no X-Frame-Options, one insecure
/// session cookie and one correct `__Host-` cookie.
fn imperfect_site() -> LabSite {
    site(
        Reply::page("<h1>shop</h1>")
            .header(
                "strict-transport-security",
                "max-age=300; includeSubDomains",
            )
            .header("content-security-policy", "default-src 'self'")
            .header("x-content-type-options", "nosniff")
            .header("referrer-policy", "no-referrer")
            .header("set-cookie", "sid=1; Path=/")
            .header(
                "set-cookie",
                "__Host-pref=1; Secure; HttpOnly; Path=/; SameSite=Lax",
            ),
    )
}

fn finding<'a>(report: &'a Value, rule: &str) -> &'a Value {
    report["packs"][0]["findings"]
        .as_array()
        .and_then(|findings| findings.iter().find(|f| f["rule_id"] == rule))
        .unwrap_or_else(|| panic!("no finding {rule} in {report:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_hsts_header_and_cookie_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (_lab, lab_args) = start_lab(imperfect_site(), dir.path()).await;
    let mut cli = args(&["audit", LAB_HOST, "--format", "json"]);
    cli.extend(lab_args);
    let output = secaudit(cli).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();

    let facts = &report["facts"];
    assert_eq!(facts["http"]["https"]["reachable"], true);
    assert_eq!(facts["http"]["https"]["certificate_valid"], true);
    assert_eq!(facts["http"]["redirects"]["ends_on_https"], true);
    assert_eq!(facts["http"]["hsts"]["max_age"], 300);
    assert_eq!(facts["http"]["hsts"]["include_subdomains"], true);
    assert_eq!(facts["http"]["csp"]["raw"], "default-src 'self'");
    assert_eq!(facts["http"]["x_frame_options"]["present"], false);
    assert_eq!(
        facts["cookies"].as_array().map(Vec::len),
        Some(2),
        "{facts:#}"
    );

    let outcome = |rule: &str| {
        finding(&report, rule)["outcome"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(outcome("BASE-HTTPS-01"), "pass");
    assert_eq!(outcome("BASE-REDIR-01"), "pass");
    assert_eq!(outcome("BASE-HSTS-01"), "fail");
    assert_eq!(finding(&report, "BASE-HSTS-01")["code"], "hsts-short");
    assert_eq!(outcome("BASE-HSTS-02"), "pass");
    assert_eq!(outcome("BASE-HDR-01"), "pass");
    assert_eq!(outcome("BASE-HDR-02"), "fail");
    assert_eq!(outcome("BASE-HDR-03"), "pass");
    assert_eq!(outcome("BASE-HDR-04"), "pass");
    assert_eq!(outcome("BASE-COOK-01"), "fail");
    assert_eq!(outcome("BASE-COOK-04"), "pass");
    assert_eq!(outcome("BASE-COOK-05"), "pass");
    let cookie = finding(&report, "BASE-COOK-01");
    assert_eq!(cookie["observations"][0]["subject"], "sid");
    assert_eq!(cookie["observations"][0]["observed"], false);
    assert!(cookie["message"].as_str().unwrap().contains("\"sid\""));
    let hsts = finding(&report, "BASE-HSTS-01");
    assert_eq!(hsts["observations"][0]["observed"], 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_evidence_reevaluates_to_the_identical_report() {
    let dir = tempfile::tempdir().unwrap();
    let (_lab, lab_args) = start_lab(imperfect_site(), dir.path()).await;
    let evidence = dir.path().join("evidence.json");
    let mut cli = args(&["audit", LAB_HOST, "--format", "json", "--save-evidence"]);
    cli.push(evidence.display().to_string());
    cli.extend(lab_args);
    let audited = secaudit(cli).await;
    assert_eq!(audited.status.code(), Some(0), "{}", stderr(&audited));

    let evaluated = secaudit(vec![
        "evaluate".into(),
        "--evidence".into(),
        evidence.display().to_string(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    assert_eq!(evaluated.status.code(), Some(0), "{}", stderr(&evaluated));
    assert_eq!(
        stdout(&audited),
        stdout(&evaluated),
        "evaluate must reproduce the audit's report"
    );

    let report: Value = serde_json::from_str(&stdout(&audited)).unwrap();
    insta::assert_json_snapshot!("imperfect_site_report", report, {
        ".evidence.started_at" => "[started_at]",
        ".facts.target.addresses" => "[addresses]",
        ".facts.tls.endpoint" => "[endpoint]",
        ".facts.cert.not_before" => "[not_before]",
        ".facts.cert.not_after" => "[not_after]",
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificate_is_recorded_and_the_site_still_observed() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, _) = start_lab(imperfect_site(), dir.path()).await;
    // No --ca-file: the bundled Mozilla roots do not know the lab CA.
    let mut cli = args(&["audit", LAB_HOST, "--format", "json"]);
    cli.extend(lab.connect_args());
    cli.push("--no-dns".into());
    let output = secaudit(cli).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let https = &report["facts"]["http"]["https"];
    assert_eq!(https["reachable"], true, "{https:#}");
    assert_eq!(https["certificate_valid"], false);
    let reason = https["certificate_error"].as_str().unwrap().to_lowercase();
    assert!(
        reason.contains("unknown") && reason.contains("issuer"),
        "{reason}"
    );
    assert_eq!(report["facts"]["http"]["hsts"]["max_age"], 300);
    assert_eq!(finding(&report, "BASE-HTTPS-02")["outcome"], "fail");
    assert_eq!(
        report["packs"][0]["grade"]["grade"], "F",
        "capped by the untrusted certificate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_with_nothing_listening_exits_3() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let output = secaudit(args(&[
        "audit",
        LAB_HOST,
        "--connect",
        &format!("{LAB_HOST}:443={closed}"),
        "--connect",
        &format!("{LAB_HOST}:80={closed}"),
        "--timeout",
        "5",
    ]))
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("could not be audited"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).contains("refused"), "{}", stdout(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gates_set_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let (_lab, lab_args) = start_lab(imperfect_site(), dir.path()).await;
    let run = |extra: &[&str]| {
        let mut cli = args(&["audit", LAB_HOST]);
        cli.extend(lab_args.clone());
        cli.extend(args(extra));
        secaudit(cli)
    };
    let high = run(&["--fail-on", "high"]).await;
    assert_eq!(high.status.code(), Some(1));
    assert!(
        stderr(&high).contains("gate failed: lab.secaudit.test: BASE-HSTS-01 failed"),
        "{}",
        stderr(&high)
    );
    assert_eq!(run(&["--fail-on", "critical"]).await.status.code(), Some(0));
    assert_eq!(run(&["--fail-under", "F"]).await.status.code(), Some(0));
    assert_eq!(run(&["--fail-under", "A"]).await.status.code(), Some(1));
    let unknown = run(&["--fail-under", "Z"]).await;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("has no such grade"));
    // Per pack: the lab fails mozilla-modern (TLS 1.2 only), and baseline is graded apart.
    let two_packs = ["--policy", "baseline", "--policy", "mozilla-modern"];
    let per_pack = |gate: &'static str| {
        let mut extra = two_packs.to_vec();
        extra.extend(["--fail-under", gate]);
        run(&extra)
    };
    assert_eq!(per_pack("mozilla-modern=F").await.status.code(), Some(0));
    let modern = per_pack("mozilla-modern=A").await;
    assert_eq!(modern.status.code(), Some(1));
    assert!(
        stderr(&modern).contains("pack mozilla-modern graded"),
        "{}",
        stderr(&modern)
    );
    assert!(!stderr(&modern).contains("pack baseline"));
    assert_eq!(per_pack("nosuchpack=A").await.status.code(), Some(2));
    // Without DNS the CAA rules are inconclusive: a gate can refuse that.
    let undecided = run(&["--fail-on-inconclusive"]).await;
    assert_eq!(undecided.status.code(), Some(1));
    assert!(
        stderr(&undecided).contains("BASE-DNS-02 could not be decided (high severity)"),
        "{}",
        stderr(&undecided)
    );
    assert_eq!(
        run(&["--fail-on", "critical", "--fail-on-inconclusive"])
            .await
            .status
            .code(),
        Some(0),
        "no critical rule is undecided"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolver_is_used_for_the_target_name() {
    let dir = tempfile::tempdir().unwrap();
    let lab = secaudit::lab::Lab::start(LabSite {
        host: "shop.example.test".into(),
        ..imperfect_site()
    })
    .await
    .unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &lab.ca_pem).unwrap();
    use hickory_proto::rr::rdata::CAA;
    let apex = hickory_proto::rr::Name::from_ascii("example.test.").unwrap();
    let caa = |data: CAA| {
        hickory_proto::rr::Record::from_rdata(apex.clone(), 60, hickory_proto::rr::RData::CAA(data))
    };
    let dns = dns_zone(
        "example.test.",
        &[("shop.example.test.", Ipv4Addr::LOCALHOST)],
        vec![
            caa(CAA::new_issue(
                false,
                Some(hickory_proto::rr::Name::from_ascii("letsencrypt.org").unwrap()),
                Vec::new(),
            )),
            caa(CAA::new_iodef(
                false,
                url::Url::parse("mailto:security@example.test").unwrap(),
            )),
        ],
    )
    .await;
    let target = format!("shop.example.test:{}", lab.https_addr.port());
    let output = secaudit(args(&[
        "audit",
        &target,
        "--resolver",
        &dns.addr.to_string(),
        "--ca-file",
        &ca.display().to_string(),
        "--format",
        "json",
        "--timeout",
        "8",
    ]))
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["facts"]["target"]["addresses"][0], "127.0.0.1");
    assert_eq!(report["facts"]["http"]["https"]["reachable"], true);
    assert_eq!(report["facts"]["http"]["https"]["certificate_valid"], true);
    assert_eq!(report["facts"]["http"]["hsts"]["max_age"], 300);
    // CAA: nothing at shop.example.test, the set at example.test applies.
    let caa = &report["facts"]["dns"]["caa"];
    assert_eq!(caa["present"], true, "{caa}");
    assert_eq!(caa["found_at"], "example.test");
    assert_eq!(caa["issue"], serde_json::json!(["letsencrypt.org"]));
    assert_eq!(
        caa["iodef"],
        serde_json::json!(["mailto:security@example.test"])
    );
    assert!(
        caa.get("issuer_allowed").is_none(),
        "the lab CA has no CAA identifier: {caa}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_name_cannot_be_audited() {
    let dns = dns_server("example.test.", &[]).await;
    let output = secaudit(args(&[
        "audit",
        "missing.example.test",
        "--resolver",
        &dns.addr.to_string(),
        "--timeout",
        "8",
    ]))
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(stderr(&output).contains("dns"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_from_the_target_cannot_attack_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = site(
        Reply::page("x")
            .header("server", "nginx/1.0\u{9b}2J\u{202e}gnp.exe")
            .header("set-cookie", "sid\u{202e}=1; Path=/"),
    );
    let (_lab, lab_args) = start_lab(hostile, dir.path()).await;
    let mut cli = args(&["audit", LAB_HOST]);
    cli.extend(lab_args);
    let output = secaudit(cli).await;
    let table = stdout(&output);
    assert!(
        !table.contains('\u{9b}') && !table.contains('\u{202e}'),
        "{table}"
    );
    assert!(table.contains("\\u{202e}"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_override_moves_an_explicit_port() {
    let dir = tempfile::tempdir().unwrap();
    let (lab, mut lab_args) = start_lab(imperfect_site(), dir.path()).await;
    lab_args.push("--connect".into());
    lab_args.push(format!("{LAB_HOST}:8443={}", lab.https_addr));
    let mut cli = args(&[
        "audit",
        &format!("https://{LAB_HOST}:8443/"),
        "--format",
        "json",
    ]);
    cli.extend(lab_args);
    let output = secaudit(cli).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        report["facts"]["http"]["https"]["reachable"], true,
        "{:#}",
        report["facts"]
    );
    assert_eq!(report["target"]["https_port"], 8443);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_times_out_instead_of_hanging() {
    // Accepts connections and holds them open without a byte of reply.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let started = std::time::Instant::now();
    let output = secaudit(args(&[
        "audit",
        LAB_HOST,
        "--connect",
        &format!("{LAB_HOST}:443={addr}"),
        "--connect",
        &format!("{LAB_HOST}:80={addr}"),
        "--timeout",
        "2",
        "--format",
        "json",
    ]))
    .await;
    holder.abort();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let error = report["facts"]["http"]["https"]["error"].as_str().unwrap();
    assert!(error.starts_with("timeout"), "{error}");
    // Not a timing assertion on the code under test's speed: only that the deadline bounded it.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_read_only_up_to_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(2 * 1024 * 1024);
    let (_lab, lab_args) = start_lab(site(Reply::page(&huge)), dir.path()).await;
    let evidence = dir.path().join("evidence.json");
    let mut cli = args(&["audit", LAB_HOST, "--save-evidence"]);
    cli.push(evidence.display().to_string());
    cli.extend(lab_args);
    let output = secaudit(cli).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&evidence).unwrap()).unwrap();
    let body = &saved["http"]["secure"]["hops"][0]["body"];
    assert_eq!(body["truncated"], true);
    assert_eq!(body["bytes_read"], 256 * 1024);
    assert_eq!(body["text"].as_str().map(str::len), Some(64 * 1024));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_tls_scans_tls_alone_and_leaves_the_other_rules_undecided() {
    let dir = tempfile::tempdir().unwrap();
    let (_lab, lab_args) = start_lab(imperfect_site(), dir.path()).await;
    let evidence_path = dir.path().join("evidence.json");
    let mut cli = args(&["audit", LAB_HOST, "--format", "json", "--only", "tls"]);
    cli.extend(lab_args);
    cli.extend(args(&[
        "--save-evidence",
        &evidence_path.display().to_string(),
    ]));
    let output = secaudit(cli).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let evidence: Value =
        serde_json::from_str(&std::fs::read_to_string(&evidence_path).unwrap()).unwrap();
    assert_eq!(
        evidence["not_probed"],
        serde_json::json!(["vulns", "http", "dns", "mail", "exposure"])
    );
    let heartbleed = &report["facts"]["tls"]["vulnerabilities"]["heartbleed"];
    assert!(heartbleed["vulnerable"].is_null(), "{heartbleed:#}");
    assert!(
        report["facts"]["unobserved"]["tls.vulnerabilities.heartbleed.vulnerable"]
            .as_str()
            .is_some_and(|why| why.contains("not probed")),
        "{:#}",
        report["facts"]["unobserved"]
    );
    assert!(
        evidence["http"]["secure"].is_null(),
        "no HTTP request was made"
    );
    assert!(
        evidence["tls"]["attempts"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert_eq!(finding(&report, "BASE-TLS-01")["outcome"], "pass");
    // The lab's short HSTS would fail BASE-HSTS-01; unprobed, it is not judged at all.
    let hsts = finding(&report, "BASE-HSTS-01");
    assert_eq!(hsts["outcome"], "inconclusive", "{hsts:#}");
    assert!(hsts.to_string().contains("not probed"), "{hsts:#}");
}
