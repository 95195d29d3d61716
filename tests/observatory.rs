//! `secaudit evaluate --policy observatory` against evidence fixtures, checked against the
//! Mozilla HTTP Observatory's published scoring (MDN "Tests & Scoring").
//!
//! Each fixture (`fixtures/evidence/observatory/*.json`) varies one or two things from a site
//! that passes every test. The expected score is worked out by hand from the published table:
//! base 100, penalties first, bonuses only when the score after penalties is 90 or more, never
//! below 0; grade chart A+ ≥ 100, A ≥ 90, A- ≥ 85, B+ ≥ 80, B ≥ 70, B- ≥ 65, C+ ≥ 60, C ≥ 50,
//! C- ≥ 45, D+ ≥ 40, D ≥ 30, D- ≥ 25, F. The reference site earns three bonuses:
//! csp-implemented-with-no-unsafe-default-src-none +10, x-frame-options-implemented-via-csp +5
//! (frame-ancestors 'none'), referrer-policy-private +5; every other test scores 0 on it.

use serde_json::Value;

use crate::util::{secaudit, stderr, stdout};

/// (fixture, expected score, expected grade, result codes with a non-zero modifier).
const CASES: &[(&str, i64, &str, &[&str])] = &[
    // No penalty; bonuses 10 + 5 + 5 → 100 + 20 = 120.
    (
        "01-perfect",
        120,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // 100 − 25 (csp-not-implemented) − 20 (hsts-not-implemented) − 5 (xcto-not-implemented)
    // − 20 (xfo-not-implemented) = 30 < 90, so corp-not-implemented's +5 is not added → 30 D.
    (
        "02-bare",
        30,
        "D",
        &[
            "csp-not-implemented",
            "hsts-not-implemented",
            "x-content-type-options-not-implemented",
            "x-frame-options-not-implemented",
            "corp-not-implemented",
        ],
    ),
    // 100 − 20 (csp-implemented-with-unsafe-inline) = 80 < 90: no bonus → 80 B+.
    (
        "03-csp-unsafe-inline",
        80,
        "B+",
        &[
            "csp-implemented-with-unsafe-inline",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // 'unsafe-inline' beside a nonce is ignored: csp-implemented-with-no-unsafe +5;
    // 100 + 5 + 5 (xfo via csp) + 5 (referrer) = 115.
    (
        "04-csp-unsafe-inline-with-nonce",
        115,
        "A+",
        &[
            "csp-implemented-with-no-unsafe",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // Nonce + 'strict-dynamic' neutralise https: and 'unsafe-inline'; styles unrestricted →
    // csp-implemented-with-unsafe-inline-in-style-src-only 0; 100 + 5 + 5 = 110.
    (
        "05-csp-strict-dynamic",
        110,
        "A+",
        &[
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // 'strict-dynamic' without nonce/hash → csp-header-invalid −25; 75 < 90: no bonus → 75 B.
    (
        "06-csp-strict-dynamic-without-nonce",
        75,
        "B",
        &[
            "csp-header-invalid",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // 100 − 10 (unsafe-eval) = 90 ≥ 90, bonuses apply: 90 + 5 + 5 = 100 → A+.
    (
        "07-csp-unsafe-eval",
        100,
        "A+",
        &[
            "csp-implemented-with-unsafe-eval",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // Report-Only enforces nothing → −25; XFO DENY 0; 75 < 90: no bonus → 75 B.
    (
        "08-csp-report-only",
        75,
        "B",
        &["csp-not-implemented", "referrer-policy-private"],
    ),
    // <meta> CSP default-src 'none' counts (+10); frame-ancestors cannot come from meta, XFO
    // DENY scores 0; 100 + 10 + 5 = 115.
    (
        "09-csp-meta",
        115,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-private",
        ],
    ),
    // max-age=86400 < 15768000 → −10; 90 ≥ 90: 90 + 10 + 5 + 5 = 110.
    (
        "10-hsts-short",
        110,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-private",
            "hsts-implemented-max-age-less-than-six-months",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // hsts-not-implemented −20 → 80 < 90: no bonus → 80 B+.
    (
        "11-hsts-missing",
        80,
        "B+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-private",
            "hsts-not-implemented",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // hsts-header-invalid −20 → 80 B+.
    (
        "12-hsts-invalid",
        80,
        "B+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-private",
            "hsts-header-invalid",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // referrer-policy-unsafe −5 → 95 ≥ 90: 95 + 10 + 5 = 110.
    (
        "13-referrer-unsafe-url",
        110,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-unsafe",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // −5 (referrer invalid) − 10 (hsts short) = 85 < 90: no bonus → 85 A-.
    (
        "14-referrer-invalid-and-hsts-short",
        85,
        "A-",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-header-invalid",
            "hsts-implemented-max-age-less-than-six-months",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // No frame-ancestors, no XFO → −20 → 80 < 90: no bonus → 80 B+.
    (
        "15-xfo-missing",
        80,
        "B+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-private",
            "x-frame-options-not-implemented",
        ],
    ),
    // ALLOW-FROM → x-frame-options-allow-from-origin 0; 100 + 10 + 5 = 115.
    (
        "16-xfo-allow-from",
        115,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-private",
        ],
    ),
    // X-Content-Type-Options: sniff → −5 → 95: 95 + 20 = 115.
    (
        "17-xcto-invalid",
        115,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-private",
            "x-content-type-options-header-invalid",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // Secure + HttpOnly session + SameSite on all → +5; 100 + 10 + 5 + 5 + 5 = 125.
    (
        "18-cookies-all-good",
        125,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "cookies-secure-with-httponly-sessions-and-samesite",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // Session cookie without Secure and no HSTS → −40, hsts-not-implemented −20 → 40 D+.
    (
        "19-session-cookie-insecure-no-hsts",
        40,
        "D+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "cookies-session-without-secure-flag",
            "referrer-policy-private",
            "hsts-not-implemented",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // Same cookie, HSTS two years → −10 → 90 ≥ 90: 90 + 20 = 110.
    (
        "20-session-cookie-insecure-with-hsts",
        110,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "cookies-session-without-secure-flag-but-protected-by-hsts",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // Session cookie without HttpOnly → −30 → 70 B.
    (
        "21-session-cookie-without-httponly",
        70,
        "B",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "cookies-session-without-httponly-flag",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // Anti-CSRF cookie without SameSite → −20 → 80 B+.
    (
        "22-csrf-cookie-without-samesite",
        80,
        "B+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "cookies-anticsrf-without-samesite-flag",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // SameSite=None is neither Strict nor Lax → −20 → 80 B+.
    (
        "23-samesite-none",
        80,
        "B+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "cookies-samesite-flag-invalid",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // Non-session cookie without Secure, HSTS present → −5 → 95: 95 + 20 = 115.
    (
        "24-cookie-insecure-with-hsts",
        115,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "cookies-without-secure-flag-but-protected-by-hsts",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // http:// → https://www.… (other host) → −5 → 95: 95 + 20 = 115.
    (
        "25-redirect-off-host",
        115,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "redirection-off-host-from-http",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // Plain HTTP serves the page → redirection-missing −20 → 80 B+.
    (
        "26-no-redirect",
        80,
        "B+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "redirection-missing",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // First redirect to another http:// URL, then HTTPS → −10 → 90: 90 + 20 = 110.
    (
        "27-redirect-via-http",
        110,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "redirection-not-to-https-on-initial-redirection",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // Foreign Origin echoed with credentials → −50 → 50 C.
    (
        "28-cors-universal",
        50,
        "C",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "cross-origin-resource-sharing-implemented-with-universal-access",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // External HTTPS script without integrity → −5 → 95: 95 + 20 = 115.
    (
        "29-sri-external-without-integrity",
        115,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-private",
            "sri-not-implemented-but-external-scripts-loaded-securely",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // External script with integrity → +5: 100 + 25 = 125.
    (
        "30-sri-external-with-integrity",
        125,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-private",
            "sri-implemented-and-external-scripts-loaded-securely",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // External script over http:, no integrity → −50 → 50 C.
    (
        "31-sri-external-over-http",
        50,
        "C",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-private",
            "sri-not-implemented-and-external-scripts-not-loaded-securely",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // CORP cross-origin → −20 (published table) → 80 B+.
    (
        "32-corp-cross-origin",
        80,
        "B+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
            "corp-implemented-with-cross-origin",
        ],
    ),
    // No CORP → corp-not-implemented +5 (published table): 100 + 25 = 125.
    (
        "33-corp-missing",
        125,
        "A+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
            "corp-not-implemented",
        ],
    ),
    // http: source for scripts (default-src) on an HTTPS page → −20 → 80 B+.
    (
        "34-csp-insecure-scheme",
        80,
        "B+",
        &[
            "csp-implemented-with-insecure-scheme",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // http: only in img-src → −10 → 90: 90 + 5 + 5 = 100 A+.
    (
        "35-csp-insecure-passive",
        100,
        "A+",
        &[
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
            "referrer-policy-private",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // Untrusted certificate → hsts-invalid-cert −20, redirection-invalid-cert −20 → 60 C+.
    (
        "36-invalid-certificate",
        60,
        "C+",
        &[
            "csp-implemented-with-no-unsafe-default-src-none",
            "redirection-invalid-cert",
            "referrer-policy-private",
            "hsts-invalid-cert",
            "x-frame-options-implemented-via-csp",
        ],
    ),
    // −25 − 40 − 50 − 20 − 20 − 50 − 5 − 20 = −230 → 100 − 230 < 0 → 0 F.
    (
        "37-disaster",
        0,
        "F",
        &[
            "csp-not-implemented",
            "cookies-session-without-secure-flag",
            "cross-origin-resource-sharing-implemented-with-universal-access",
            "redirection-missing",
            "hsts-not-implemented",
            "sri-not-implemented-and-external-scripts-not-loaded-securely",
            "x-content-type-options-not-implemented",
            "x-frame-options-not-implemented",
        ],
    ),
    // A header without one recognised directive cannot be parsed → csp-header-invalid −25;
    // XFO DENY 0; 75 < 90: no bonus → 75 B.
    (
        "38-csp-unparseable",
        75,
        "B",
        &["csp-header-invalid", "referrer-policy-private"],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_fixtures_score_as_the_published_observatory_rules() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/evidence/observatory");
    let on_disk = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(on_disk, CASES.len(), "every fixture has an expected score");
    assert!(CASES.len() >= 25);
    let mut wrong = Vec::new();
    for (name, score, grade, codes) in CASES {
        let path = dir.join(format!("{name}.json"));
        let output = secaudit(vec![
            "evaluate".into(),
            "--evidence".into(),
            path.display().to_string(),
            "--policy".into(),
            "observatory".into(),
            "--format".into(),
            "json".into(),
        ])
        .await;
        assert!(
            output.status.code().is_some_and(|c| c <= 1),
            "{name}: {}",
            stderr(&output)
        );
        let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
        let pack = &report["packs"][0];
        let got_score = pack["grade"]["score"].as_i64().unwrap();
        let got_grade = pack["grade"]["grade"].as_str().unwrap();
        let mut got_codes: Vec<&str> = pack["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["score_modifier"].as_i64() != Some(0))
            .filter_map(|f| f["code"].as_str())
            .collect();
        let mut want_codes = codes.to_vec();
        got_codes.sort_unstable();
        want_codes.sort_unstable();
        assert_eq!(
            pack["counts"]["inconclusive"], 0,
            "{name}: every test decided"
        );
        if (got_score, got_grade, &got_codes) != (*score, *grade, &want_codes) {
            wrong.push(format!(
                "{name}: expected {score} {grade} {want_codes:?}, got {got_score} {got_grade} {got_codes:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
