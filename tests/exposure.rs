//! The exposure checks end to end: lab sites that serve (or do not serve) artefacts and a
//! `security.txt`, loopback listeners for the port scan, and lab SSH servers offering password
//! or key-only authentication — all observed by `secaudit audit` and judged by the baseline.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secaudit::lab::Reply;
use secaudit::lab::ssh::{LabSsh, LabSshConfig};
use secaudit::probe::ports::{PortScanOptions, scan};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::util::{LAB_HOST, args, secaudit, site, start_lab, stderr, stdout};

const VALID_TXT: &str = "Contact: mailto:security@lab.secaudit.test\nExpires: 2099-01-01T00:00:00Z\nPolicy: https://lab.secaudit.test/disclosure\n";

/// Audits `reply` (served on HTTPS for every path) with the baseline plus `extra` arguments.
async fn audit(reply: Reply, extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let (_lab, lab_args) = start_lab(site(reply), dir.path()).await;
    let mut cli = args(&[
        "audit", LAB_HOST, "--format", "json", "--policy", "baseline",
    ]);
    cli.extend(lab_args);
    cli.extend(extra.iter().map(|s| (*s).to_string()));
    let output = secaudit(cli).await;
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&output)
    );
    serde_json::from_str(&stdout(&output)).unwrap()
}

fn finding<'a>(report: &'a Value, rule: &str) -> &'a Value {
    report["packs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no finding {rule}"))
}

fn outcome(report: &Value, rule: &str) -> String {
    finding(report, rule)["outcome"]
        .as_str()
        .unwrap()
        .to_string()
}

fn found(report: &Value, path: &str) -> Value {
    report["facts"]["exposure"]["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"] == path)
        .unwrap_or_else(|| panic!("no artefact {path}"))["found"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaky_site_is_found_out_and_a_clean_one_is_not() {
    let leaky = Reply::status(404)
        .route("/", Reply::page("<html>shop</html>"))
        .route(
            "/.git/HEAD",
            Reply::typed("application/octet-stream", "ref: refs/heads/main\n"),
        )
        .route(
            "/.env",
            Reply::typed("text/plain", "APP_KEY=x\nDB_PASSWORD=hunter2\n"),
        )
        .route(
            "/wp-admin/",
            Reply::redirect("https://lab.secaudit.test/wp-login.php?redirect_to=x"),
        )
        .route(
            "/.well-known/security.txt",
            Reply::typed("text/plain", VALID_TXT),
        );
    let report = audit(leaky, &[]).await;
    let exposure = &report["facts"]["exposure"];
    assert_eq!(found(&report, "/.git/HEAD"), true);
    assert_eq!(found(&report, "/.env"), true);
    assert_eq!(found(&report, "/wp-admin/"), true);
    assert_eq!(found(&report, "/.git/config"), false);
    assert_eq!(exposure["artefact_found_count"], 3);
    assert_eq!(outcome(&report, "BASE-EXP-02"), "fail");
    assert_eq!(outcome(&report, "BASE-EXP-04"), "fail");
    assert_eq!(outcome(&report, "BASE-EXP-03"), "pass");
    assert_eq!(exposure["security_txt"]["valid"], true, "{exposure:#}");
    assert_eq!(exposure["security_txt"]["location"], "well_known");
    assert_eq!(outcome(&report, "BASE-EXP-01"), "pass");
    // The port scan was not asked for: its rules are undecided, not passed.
    assert_eq!(outcome(&report, "BASE-EXP-05"), "inconclusive");
    assert!(
        report["facts"]["unobserved"]["exposure.ports"]
            .as_str()
            .unwrap()
            .contains("--port-scan")
    );

    let clean = Reply::status(404).route("/", Reply::page("<html>shop</html>"));
    let report = audit(clean, &[]).await;
    assert_eq!(report["facts"]["exposure"]["artefact_found_count"], 0);
    assert_eq!(outcome(&report, "BASE-EXP-02"), "pass");
    assert_eq!(outcome(&report, "BASE-EXP-04"), "pass");
    assert_eq!(
        report["facts"]["exposure"]["security_txt"]["present"],
        false
    );
    assert_eq!(
        finding(&report, "BASE-EXP-01")["code"],
        "security-txt-missing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catch_all_200_site_produces_no_finding() {
    // Every path gets the same page, with a login form and text that looks like artefacts.
    let page = "<!doctype html><html><body><form><input type=\"password\" name=\"p\"></form>\
                phpinfo() Apache Server Status APP_KEY=x</body></html>";
    let report = audit(Reply::page(page), &[]).await;
    let exposure = &report["facts"]["exposure"];
    assert_eq!(exposure["artefact_found_count"], 0, "{exposure:#}");
    for rule in ["BASE-EXP-02", "BASE-EXP-03", "BASE-EXP-04"] {
        assert_eq!(outcome(&report, rule), "pass", "{rule}");
    }
    assert_eq!(exposure["security_txt"]["present"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_txt_valid_expired_and_malformed() {
    let with = |text: &str, path: &str| {
        Reply::page("<html>shop</html>")
            .route(path, Reply::typed("text/plain; charset=utf-8", text))
    };
    let legacy = audit(with(VALID_TXT, "/security.txt"), &[]).await;
    let txt = &legacy["facts"]["exposure"]["security_txt"];
    assert_eq!(
        (txt["valid"].clone(), txt["location"].clone()),
        (true.into(), "legacy".into())
    );
    assert_eq!(txt["contact"][0], "mailto:security@lab.secaudit.test");

    let expired = audit(
        with(
            "Contact: mailto:s@lab.secaudit.test\nExpires: 2020-01-01T00:00:00Z\n",
            "/.well-known/security.txt",
        ),
        &[],
    )
    .await;
    let txt = &expired["facts"]["exposure"]["security_txt"];
    assert_eq!(txt["expired"], true);
    assert_eq!(txt["valid"], false);
    assert_eq!(
        finding(&expired, "BASE-EXP-01")["code"],
        "security-txt-expired"
    );

    let malformed = audit(
        with(
            "Policy: https://lab.secaudit.test/p\nExpires: next year\nthis is not a field\n",
            "/.well-known/security.txt",
        ),
        &[],
    )
    .await;
    let txt = &malformed["facts"]["exposure"]["security_txt"];
    assert_eq!(txt["present"], true);
    assert_eq!(txt["valid"], false);
    let errors: Vec<&str> = txt["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(errors.contains(&"no Contact field"), "{errors:?}");
    assert!(
        errors.iter().any(|e| e.contains("not an RFC 3339")),
        "{errors:?}"
    );
    assert_eq!(
        finding(&malformed, "BASE-EXP-01")["code"],
        "security-txt-invalid"
    );
}

/// Binds `n` loopback listeners that record when each connection arrives.
async fn listeners(
    n: usize,
) -> (
    Vec<u16>,
    Arc<Mutex<Vec<Instant>>>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let mut ports = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..n {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        ports.push(listener.local_addr().unwrap().port());
        let arrivals = Arc::clone(&arrivals);
        tasks.push(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                arrivals.lock().unwrap().push(Instant::now());
                drop(stream);
            }
        }));
    }
    (ports, arrivals, tasks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::disallowed_macros)] // the measured wall time goes to the test log
async fn port_scan_of_30_loopback_ports_keeps_its_rate() {
    let (ports, arrivals, tasks) = listeners(30).await;
    let rate = 20;
    let options = PortScanOptions {
        ports: ports.clone(),
        allowlist: Vec::new(),
        rate_per_second: rate,
        connect_timeout: Duration::from_secs(2),
    };
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let results = scan(&[IpAddr::V4(Ipv4Addr::LOCALHOST)], &options, deadline).await;
    let elapsed = started.elapsed();
    eprintln!(
        "port scan: 30 loopback ports at {rate}/s took {:.3} s",
        elapsed.as_secs_f64()
    );
    assert_eq!(results.len(), 30);
    assert!(
        results
            .iter()
            .all(|r| r.state == secaudit::evidence::exposure::PortState::Open)
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut times = arrivals.lock().unwrap().clone();
    times.sort();
    assert_eq!(times.len(), 30);
    // Never more than `rate` connections in one second: the (rate+1)-th connection after any
    // other comes at least a second later (less 10 % for scheduling jitter at the listener).
    let rate = rate as usize;
    for i in 0..times.len() - rate {
        let span = times[i + rate] - times[i];
        assert!(
            span >= Duration::from_millis(900),
            "connections {i}..={}: {span:?}",
            i + rate
        );
    }
    for task in tasks {
        task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_ports_outside_the_allowlist_and_ssh_auth_methods() {
    let (open, _, tasks) = listeners(2).await;
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let password = LabSsh::start(LabSshConfig::offering(
        "SSH-2.0-OpenSSH_7.4",
        &["publickey", "password"],
    ))
    .await
    .unwrap();
    let scan_ports = format!(
        "{},{},{},{}",
        open[0],
        open[1],
        closed,
        password.addr.port()
    );
    let allowed = open[0].to_string();
    let report = audit(
        Reply::page("<html>shop</html>"),
        &[
            "--scan-ports",
            &scan_ports,
            "--ports",
            &allowed,
            "--scan-rate",
            "50",
        ],
    )
    .await;
    let exposure = &report["facts"]["exposure"];
    let port = |p: u16| {
        exposure["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["port"] == p)
            .unwrap_or_else(|| panic!("port {p} not scanned: {exposure:#}"))
            .clone()
    };
    assert_eq!(
        (
            port(open[0])["open"].clone(),
            port(open[0])["allowed"].clone()
        ),
        (true.into(), true.into())
    );
    assert_eq!(
        (
            port(open[1])["open"].clone(),
            port(open[1])["allowed"].clone()
        ),
        (true.into(), false.into())
    );
    assert_eq!(port(closed)["state"], "closed");
    // The second listener and the SSH server are open and not allowed.
    assert_eq!(exposure["unexpected_open_port_count"], 2);
    assert_eq!(outcome(&report, "BASE-EXP-05"), "fail");
    let ssh = &exposure["ssh"];
    assert_eq!(ssh["reachable"], true);
    assert_eq!(ssh["password_auth"], true);
    assert_eq!(ssh["product"], "openssh");
    assert_eq!(outcome(&report, "BASE-EXP-07"), "fail");
    // OpenSSH 7.x: the last distribution shipping it left support in 2024.
    assert_eq!(exposure["end_of_life_count"], 1);
    assert_eq!(outcome(&report, "BASE-EXP-08"), "fail");

    let key_only = LabSsh::start(LabSshConfig::offering(
        "SSH-2.0-OpenSSH_9.6",
        &["publickey"],
    ))
    .await
    .unwrap();
    let scan_ports = format!("{},{}", open[0], key_only.addr.port());
    let report = audit(
        Reply::page("<html>shop</html>"),
        &["--scan-ports", &scan_ports, "--ports", &scan_ports],
    )
    .await;
    let exposure = &report["facts"]["exposure"];
    assert_eq!(exposure["unexpected_open_port_count"], 0);
    assert_eq!(outcome(&report, "BASE-EXP-05"), "pass");
    assert_eq!(exposure["ssh"]["password_auth"], false);
    assert_eq!(exposure["ssh"]["publickey_auth"], true);
    assert_eq!(exposure["ssh"]["methods"], serde_json::json!(["publickey"]));
    assert_eq!(outcome(&report, "BASE-EXP-07"), "pass");
    for task in tasks {
        task.abort();
    }
}
