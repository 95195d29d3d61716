//! The `securityheaders` pack and the header, cookie and redirect rules of `vendor-netatoo`
//! judged through `secaudit evaluate`, on the Observatory reference site
//! (`fixtures/evidence/observatory/01-perfect.json`) with its headers changed one case at a time.

use serde_json::Value;

use crate::util::evaluate_pack;

fn reference() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/evidence/observatory/01-perfect.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The reference evidence with headers of the final HTTPS response replaced (`None` removes).
fn with_headers(changes: &[Change<'_>]) -> Value {
    let mut evidence = reference();
    let headers = evidence["http"]["secure"]["hops"][0]["headers"]
        .as_array_mut()
        .unwrap();
    for (name, value) in changes {
        headers.retain(|h| h["name"] != *name);
        if let Some(value) = value {
            headers.push(serde_json::json!({ "name": name, "value": value }));
        }
    }
    evidence
}

/// Evaluates `evidence` with `pack`; returns the pack report.
async fn evaluate(evidence: &Value, pack: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.json");
    std::fs::write(&path, serde_json::to_string(evidence).unwrap()).unwrap();
    evaluate_pack(&path, pack).await
}

fn outcome<'a>(pack: &'a Value, rule: &str) -> (&'a str, Option<&'a str>) {
    let finding = pack["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == rule)
        .unwrap();
    (
        finding["outcome"].as_str().unwrap(),
        finding["code"].as_str(),
    )
}

/// A header change: name, and the new value (`None` removes the header).
type Change<'a> = (&'a str, Option<&'a str>);

const PERMISSIONS: Change<'static> = ("permissions-policy", Some("camera=(), microphone=()"));

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn securityheaders_grades_six_headers_and_caps_warnings_at_a() {
    let cases: &[(&[Change<'_>], i64, &str)] = &[
        // All six effective, nothing to warn about: 100, A+.
        (&[PERMISSIONS], 100, "A+"),
        // The reference site lacks Permissions-Policy: five of six, 100 − 15 = 85, B.
        (&[], 85, "B"),
        // All six, but 'unsafe-inline' in script-src: 100, held at A by SH-WARN-01.
        (
            &[
                PERMISSIONS,
                (
                    "content-security-policy",
                    Some(
                        "default-src 'self'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
                    ),
                ),
            ],
            100,
            "A",
        ),
        // Report-Only does not count, nor does a Feature-Policy-style value: 100 − 30 = 70, C.
        (
            &[
                ("content-security-policy", None),
                (
                    "content-security-policy-report-only",
                    Some("default-src 'self'"),
                ),
                ("x-frame-options", Some("DENY")),
                ("permissions-policy", Some("camera 'none'")),
            ],
            70,
            "C",
        ),
        // Nothing at all: 100 − 6 × 15 = 10, F.
        (
            &[
                ("content-security-policy", None),
                ("strict-transport-security", None),
                ("x-content-type-options", None),
                ("referrer-policy", None),
            ],
            10,
            "F",
        ),
    ];
    for (changes, score, grade) in cases {
        let pack = evaluate(&with_headers(changes), "securityheaders").await;
        assert_eq!(
            (
                pack["grade"]["score"].as_i64().unwrap(),
                pack["grade"]["grade"].as_str().unwrap()
            ),
            (*score, *grade),
            "{changes:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netatoo_claims_are_judged_from_headers_cookies_and_redirects() {
    let mut evidence = with_headers(&[
        ("x-xss-protection", Some("1; mode=block")),
        ("expect-ct", Some("max-age=86400, enforce")),
        ("referrer-policy", Some("no-referrer-when-downgrade")),
        ("strict-transport-security", Some("max-age=20000000")),
        (
            "set-cookie",
            Some("PHPSESSID=abc; Secure; HttpOnly; Path=/"),
        ),
    ]);
    let pack = evaluate(&evidence, "vendor-netatoo").await;
    assert_eq!(outcome(&pack, "NETATOO-TLS-01"), ("pass", None));
    assert_eq!(outcome(&pack, "NETATOO-HDR-01"), ("pass", None));
    assert_eq!(outcome(&pack, "NETATOO-HDR-02"), ("pass", None));
    assert_eq!(
        outcome(&pack, "NETATOO-HDR-03"),
        ("fail", Some("hsts-under-one-year-warn"))
    );
    // The Observatory reference evidence has no TLS scan: the SCTs behind the claim are unobserved.
    assert_eq!(outcome(&pack, "NETATOO-HDR-04"), ("inconclusive", None));
    assert_eq!(outcome(&pack, "NETATOO-HDR-05"), ("pass", None));
    assert_eq!(outcome(&pack, "NETATOO-COOK-01"), ("pass", None));
    assert_eq!(outcome(&pack, "NETATOO-COOK-02"), ("pass", None));

    let hop = &mut evidence["http"]["secure"]["hops"][0]["headers"];
    let headers = hop.as_array_mut().unwrap();
    headers.retain(|h| {
        !matches!(
            h["name"].as_str(),
            Some("x-xss-protection" | "set-cookie" | "content-security-policy")
        )
    });
    headers.push(serde_json::json!({ "name": "x-xss-protection", "value": "1" }));
    headers.push(serde_json::json!({ "name": "content-security-policy", "value": "default-src 'self' 'unsafe-inline'; frame-ancestors 'self'" }));
    headers.push(serde_json::json!({ "name": "set-cookie", "value": "csrf_token=x; Secure; Domain=other.test" }));
    let pack = evaluate(&evidence, "vendor-netatoo").await;
    assert_eq!(
        outcome(&pack, "NETATOO-HDR-01"),
        ("fail", Some("xxss-without-block-warn"))
    );
    assert_eq!(
        outcome(&pack, "NETATOO-HDR-02"),
        ("fail", Some("csp-not-strict-warn"))
    );
    assert_eq!(outcome(&pack, "NETATOO-COOK-01").0, "fail");
    assert_eq!(outcome(&pack, "NETATOO-COOK-02").0, "fail");
}
