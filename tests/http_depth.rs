//! The HTTP depth facts end to end: a lab site whose CSP, headers, scripts and CORS answer are
//! observed by `secaudit audit` and judged by the built-in packs.

use secaudit::lab::Reply;
use serde_json::Value;

use crate::util::{LAB_HOST, args, secaudit, site, start_lab, stderr, stdout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csp_headers_scripts_and_cors_are_observed_and_judged() {
    let html = concat!(
        "<html><head>",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"object-src 'none'\">",
        "<script src=\"https://cdn.example.test/lib.js\"></script>",
        "<script src=\"/app.js\" integrity=\"sha384-x\"></script>",
        "</head><body>shop</body></html>"
    );
    let reply = Reply::page(html)
        .header(
            "content-security-policy",
            "script-src 'self' 'unsafe-inline' 'nonce-R4nd0mN0nc3V4lu3'; frame-ancestors 'none'",
        )
        .header(
            "strict-transport-security",
            "max-age=63072000; includeSubDomains; preload",
        )
        .header(
            "x-frame-options",
            "ALLOW-FROM https://partner.example.test/",
        )
        .header("x-xss-protection", "1; mode=block")
        .header("referrer-policy", "unsafe-url")
        .header("permissions-policy", "camera=(), geolocation=(self)")
        .echoing_origin();
    let dir = tempfile::tempdir().unwrap();
    let (_lab, lab_args) = start_lab(site(reply), dir.path()).await;
    let mut cli = args(&[
        "audit",
        LAB_HOST,
        "--format",
        "json",
        "--policy",
        "baseline",
        "--policy",
        "observatory",
    ]);
    cli.extend(lab_args);
    let output = secaudit(cli).await;
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&output)
    );
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let http = &report["facts"]["http"];

    // CSP: the nonce neutralises 'unsafe-inline'; the meta policy adds object-src 'none'.
    let csp = &http["csp"];
    assert_eq!(csp["enforced"], true);
    assert_eq!(csp["meta"], true);
    assert_eq!(csp["policy_count"], 2);
    assert_eq!(csp["unsafe_inline"], false, "{csp:#}");
    assert_eq!(csp["object_src_none"], true);
    assert_eq!(csp["frame_ancestors_restricted"], true);
    assert_eq!(csp["nonce_min_length"], 16);
    // Headers judged on their values.
    assert_eq!(http["x_frame_options"]["status"], "allow_from");
    assert_eq!(http["x_xss_protection"]["status"], "block");
    assert_eq!(http["referrer_policy"]["status"], "unsafe");
    assert_eq!(http["permissions_policy"]["valid"], true);
    assert_eq!(http["permissions_policy"]["disabled_count"], 1);
    // The lab redirects http:// to https:// on the same host and its certificate is trusted.
    assert_eq!(http["hsts"]["preload_eligible"], true, "{:#}", http["hsts"]);
    // SRI: one external script without integrity.
    assert_eq!(http["sri"]["external_count"], 1);
    assert_eq!(http["sri"]["all_external_with_integrity"], false);
    // CORS: the foreign Origin sent by the probe was echoed with credentials.
    assert_eq!(http["cors"]["probe"]["any_origin_with_credentials"], true);
    assert_eq!(
        http["cors"]["probe"]["origin"],
        "https://cors-probe.secaudit.invalid"
    );

    let outcome = |pack: usize, rule: &str| {
        report["packs"][pack]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == rule)
            .map(|f| {
                (
                    f["outcome"].as_str().unwrap().to_string(),
                    f["code"].as_str().map(str::to_string),
                )
            })
            .unwrap()
    };
    assert_eq!(outcome(0, "BASE-HDR-07").0, "pass");
    assert_eq!(outcome(0, "BASE-CORS-01").0, "fail");
    assert_eq!(outcome(0, "BASE-SRI-01").0, "fail");
    assert_eq!(outcome(0, "BASE-HDR-09").0, "fail");
    assert_eq!(
        outcome(1, "OBS-CORS-01").1.as_deref(),
        Some("cross-origin-resource-sharing-implemented-with-universal-access")
    );
    assert_eq!(
        outcome(1, "OBS-XFO-01").1.as_deref(),
        Some("x-frame-options-implemented-via-csp")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_pages_with_cookies_are_a_breach_precondition() {
    let run = |reply: Reply| async move {
        let dir = tempfile::tempdir().unwrap();
        let (_lab, lab_args) = start_lab(site(reply), dir.path()).await;
        let mut cli = args(&["audit", LAB_HOST, "--format", "json"]);
        cli.extend(lab_args);
        let output = secaudit(cli).await;
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
        report["facts"].clone()
    };
    let compressed = run(Reply::page("x")
        .header("content-encoding", "gzip")
        .header("set-cookie", "sid=1; Secure; HttpOnly"))
    .await;
    assert_eq!(compressed["http"]["compression"]["compressed"], true);
    assert_eq!(
        compressed["http"]["compression"]["accept_encoding"],
        "gzip, deflate, br, zstd"
    );
    let breach = &compressed["tls"]["vulnerabilities"]["breach"];
    assert_eq!(breach["status"], "vulnerable", "{breach:#}");
    assert_eq!(breach["method"], "derived");
    let plain = run(Reply::page("x").header("set-cookie", "sid=1; Secure; HttpOnly")).await;
    assert_eq!(plain["http"]["compression"]["compressed"], false);
    assert_eq!(
        plain["tls"]["vulnerabilities"]["breach"]["status"],
        "not_vulnerable"
    );
}
