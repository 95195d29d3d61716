//! Bulk audits: many names pointed at one lab site, read from a targets file, audited
//! concurrently, streamed as JSON Lines, and summed up in the table's closing summary.

use secaudit::lab::{Lab, LabCert, LabSite, LabTls, Reply};
use serde_json::Value;

use crate::util::{args, secaudit, stderr, stdout};

/// A lab answering for `*.bulk.secaudit.test`, and the audit arguments for `count` names under it.
async fn bulk_lab(count: usize, dir: &std::path::Path) -> (Lab, Vec<String>) {
    let lab = Lab::start(LabSite {
        host: "bulk.secaudit.test".into(),
        https: Reply::page("ok").header("strict-transport-security", "max-age=63072000"),
        http: Reply::redirect("https://bulk.secaudit.test/"),
        tls: LabTls {
            cert: LabCert {
                names: vec!["*.bulk.secaudit.test".into()],
                ..LabCert::default()
            },
            ..LabTls::default()
        },
    })
    .await
    .expect("lab");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &lab.ca_pem).unwrap();
    let mut file = String::from("# bulk targets\n\n");
    let mut cli = args(&["--no-dns", "--ca-file", &ca.display().to_string()]);
    for i in 0..count {
        let host = format!("t{i}.bulk.secaudit.test");
        file.push_str(&format!("{host}   # target {i}\n"));
        cli.push("--connect".into());
        cli.push(format!("{host}:443={}", lab.https_addr));
        cli.push("--connect".into());
        cli.push(format!("{host}:80={}", lab.http_addr));
    }
    let targets = dir.join("targets.txt");
    std::fs::write(&targets, file).unwrap();
    cli.push("--targets-file".into());
    cli.push(targets.display().to_string());
    (lab, cli)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_file_streams_json_lines_and_summarises() {
    let dir = tempfile::tempdir().unwrap();
    let (_lab, lab_args) = bulk_lab(20, dir.path()).await;
    let table = dir.path().join("summary.txt");
    let mut cli = args(&["audit", "--concurrency", "5", "--format", "jsonl"]);
    cli.push("--format".into());
    cli.push(format!("table={}", table.display()));
    cli.extend(lab_args);
    let output = secaudit(cli).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one report per line"))
        .collect();
    assert_eq!(lines.len(), 20);
    let mut hosts: Vec<String> = lines
        .iter()
        .map(|r| r["target"]["host"].as_str().unwrap().to_string())
        .collect();
    hosts.sort();
    hosts.dedup();
    assert_eq!(hosts.len(), 20, "every target exactly once");
    assert!(
        lines
            .iter()
            .all(|r| r["facts"]["http"]["https"]["certificate_valid"] == true),
        "the wildcard certificate is valid for every name"
    );
    let summary = std::fs::read_to_string(table).unwrap();
    assert!(summary.contains("summary of 20 targets"), "{summary}");
    assert!(summary.contains("t19.bulk.secaudit.test"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_targets_file_names_every_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.txt");
    std::fs::write(&file, "ok.test\ngopher://x.test\n# fine\nhttps://\n").unwrap();
    let output = secaudit(args(&[
        "audit",
        "--no-dns",
        "--targets-file",
        &file.display().to_string(),
    ]))
    .await;
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("targets.txt:2: "), "{err}");
    assert!(err.contains("targets.txt:4: "), "{err}");
}
