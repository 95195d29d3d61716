//! CSP analyser tests. Each expectation is derived from CSP Level 3
//! (<https://www.w3.org/TR/CSP3/>, sections cited per case) and, for what the Mozilla HTTP
//! Observatory calls broad or unsafe, from its scoring documentation.

use super::*;

/// Every boolean judgement, by name.
fn flags(f: &CspFacts) -> Vec<(&'static str, bool)> {
    vec![
        ("present", f.present),
        ("meta", f.meta),
        ("enforced", f.enforced),
        ("report_only", f.report_only),
        ("unsafe_inline", f.unsafe_inline),
        ("unsafe_eval", f.unsafe_eval),
        ("unsafe_hashes", f.unsafe_hashes),
        ("script_wildcard", f.script_wildcard),
        ("object_unrestricted", f.object_unrestricted),
        ("object_src_none", f.object_src_none),
        ("object_src_missing", f.object_src_missing),
        ("style_unsafe", f.style_unsafe),
        ("strict_dynamic", f.strict_dynamic),
        (
            "strict_dynamic_without_nonce",
            f.strict_dynamic_without_nonce,
        ),
        ("default_src_none", f.default_src_none),
        ("base_uri_restricted", f.base_uri_restricted),
        ("frame_ancestors_restricted", f.frame_ancestors_restricted),
        ("form_action_restricted", f.form_action_restricted),
        ("insecure_active", f.insecure_active),
        ("insecure_passive", f.insecure_passive),
    ]
}

fn header(policy: &str) -> CspFacts {
    CspFacts::analyse(CspInput {
        headers: &[policy],
        meta: &[],
        report_only: false,
        https: true,
    })
}

/// Checks that exactly the flags in `expected_true` are set.
fn check(case: &str, facts: &CspFacts, expected_true: &[&str]) {
    for (name, value) in flags(facts) {
        assert_eq!(
            value,
            expected_true.contains(&name),
            "case `{case}`: flag `{name}` (errors: {:?})",
            facts.syntax_errors
        );
    }
}

/// Header policies and the judgements that must be true (every other one must be false).
/// "unrestricted" below means the directive and its fallbacks are absent, which per CSP3 §6.8.3
/// ("get the effective directive") leaves that fetch or inline kind unrestricted.
const HEADER_CASES: &[(&str, &[&str])] = &[
    // 1. default-src 'self' covers scripts, objects and styles (§6.8.3 fallback to default-src).
    ("default-src 'self'", &["present", "enforced"]),
    // 2. default-src 'none' alone: Observatory's best case; objects fall back to 'none'.
    (
        "default-src 'none'",
        &["present", "enforced", "default_src_none", "object_src_none"],
    ),
    // 3. 'unsafe-inline' without nonce/hash allows inline scripts (§8.2); no object-src/default-src.
    (
        "script-src 'self' 'unsafe-inline'",
        &[
            "present",
            "enforced",
            "unsafe_inline",
            "object_unrestricted",
            "object_src_missing",
            "style_unsafe",
        ],
    ),
    // 4. A nonce makes 'unsafe-inline' ignored (§8.2 "does a source list allow all inline behavior").
    (
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'nonce-r4nd0mN0nc3VaLuE'",
        &["present", "enforced"],
    ),
    // 5. So does a hash.
    (
        "default-src 'self'; script-src 'unsafe-inline' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        &["present", "enforced"],
    ),
    // 6. 'strict-dynamic' with a nonce: host/scheme sources and 'unsafe-inline' are ignored (§8.2, §8.3).
    (
        "object-src 'none'; script-src 'strict-dynamic' 'nonce-r4nd0mN0nc3VaLuE' 'unsafe-inline' https:",
        &[
            "present",
            "enforced",
            "object_src_none",
            "strict_dynamic",
            "style_unsafe",
        ],
    ),
    // 7. 'strict-dynamic' without nonce/hash: nothing can load; flagged, not counted as inline.
    (
        "default-src 'self'; script-src 'strict-dynamic' https:",
        &["present", "enforced", "strict_dynamic_without_nonce"],
    ),
    // 8. 'unsafe-eval' allows eval (§8.4 "EnsureCSPDoesNotBlockStringCompilation").
    (
        "default-src 'self'; script-src 'self' 'unsafe-eval'",
        &["present", "enforced", "unsafe_eval"],
    ),
    // 9. `*` in script-src: any host (Observatory "dangerously broad").
    (
        "default-src 'self'; script-src *",
        &["present", "enforced", "script_wildcard"],
    ),
    // 10. Scheme-only `https:` matches every HTTPS origin (§6.7.2.8 scheme-source).
    (
        "default-src 'self'; script-src https:",
        &["present", "enforced", "script_wildcard"],
    ),
    // 11. `data:` in script-src lets an attacker inject data: URL scripts (Observatory: unsafe).
    (
        "default-src 'self'; script-src 'self' data:",
        &["present", "enforced", "script_wildcard"],
    ),
    // 12. `http://*` is a host wildcard over plain HTTP: broad, and insecure on an HTTPS page.
    (
        "default-src 'self'; script-src http://*",
        &["present", "enforced", "script_wildcard", "insecure_active"],
    ),
    // 13. Named HTTPS hosts are neither broad nor insecure.
    (
        "default-src 'self'; script-src 'self' https://cdn.example.test",
        &["present", "enforced"],
    ),
    // 14. object-src 'none' with script-src 'self' (styles unrestricted: no style-src/default-src).
    (
        "object-src 'none'; script-src 'self'",
        &["present", "enforced", "object_src_none", "style_unsafe"],
    ),
    // 15. object-src * leaves plugins broad.
    (
        "default-src 'self'; object-src *",
        &["present", "enforced", "object_unrestricted"],
    ),
    // 16. script-src overrides default-src entirely (no merging, §6.8.3).
    (
        "default-src 'self'; script-src 'unsafe-inline'",
        &["present", "enforced", "unsafe_inline"],
    ),
    // 17. 'unsafe-inline' in default-src reaches scripts and styles through the fallback.
    (
        "default-src 'self' 'unsafe-inline'",
        &["present", "enforced", "unsafe_inline", "style_unsafe"],
    ),
    // 18. -elem and -attr override script-src for elements and attributes (§6.8.3): no inline.
    (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; script-src-elem 'self'; script-src-attr 'none'",
        &["present", "enforced"],
    ),
    // 19. script-src-attr 'unsafe-inline' allows inline event handlers.
    (
        "default-src 'self'; script-src 'self'; script-src-attr 'unsafe-inline'",
        &["present", "enforced", "unsafe_inline"],
    ),
    // 20. 'unsafe-hashes' with a hash: handlers matching the hash only (§8.2); not unsafe-inline.
    (
        "default-src 'self'; script-src 'self' 'unsafe-hashes' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        &["present", "enforced", "unsafe_hashes"],
    ),
    // 21. 'unsafe-inline' in style-src only: styles unsafe, scripts fine.
    (
        "default-src 'self'; style-src 'self' 'unsafe-inline'",
        &["present", "enforced", "style_unsafe"],
    ),
    // 22. A nonce neutralises 'unsafe-inline' for styles too.
    (
        "default-src 'self'; style-src 'nonce-r4nd0mN0nc3VaLuE' 'unsafe-inline'",
        &["present", "enforced"],
    ),
    // 23. base-uri 'none' restricts <base>.
    (
        "default-src 'self'; base-uri 'none'",
        &["present", "enforced", "base_uri_restricted"],
    ),
    // 24. base-uri * restricts nothing.
    ("default-src 'self'; base-uri *", &["present", "enforced"]),
    // 25. frame-ancestors 'none' in a header blocks framing (§6.4.2).
    (
        "default-src 'self'; frame-ancestors 'none'",
        &["present", "enforced", "frame_ancestors_restricted"],
    ),
    // 26. frame-ancestors https: allows framing by any HTTPS site.
    (
        "default-src 'self'; frame-ancestors https:",
        &["present", "enforced"],
    ),
    // 27. form-action 'self' restricts form targets (§6.4.1).
    (
        "default-src 'self'; form-action 'self'",
        &["present", "enforced", "form_action_restricted"],
    ),
    // 28. http: source for scripts on an HTTPS page: mixed active content.
    (
        "default-src 'self' http://cdn.example.test",
        &["present", "enforced", "insecure_active"],
    ),
    // 29. http: only for images: passive mixed content.
    (
        "default-src 'self'; img-src 'self' http://img.example.test",
        &["present", "enforced", "insecure_passive"],
    ),
    // 30. Several policies in one header are all enforced; a script runs only if each allows it.
    (
        "script-src 'self' 'unsafe-inline' 'unsafe-eval', default-src 'self'",
        &["present", "enforced"],
    ),
    // 31. Both policies allow inline script: the intersection still does.
    (
        "script-src 'unsafe-inline'; object-src 'none', script-src 'self' 'unsafe-inline'",
        &[
            "present",
            "enforced",
            "unsafe_inline",
            "object_src_none",
            "style_unsafe",
        ],
    ),
    // 32. Keywords are case-insensitive (§2.3.1 source grammar is ASCII case-insensitive).
    (
        "DEFAULT-SRC 'SELF'; SCRIPT-SRC 'Self' 'UNSAFE-INLINE'",
        &["present", "enforced", "unsafe_inline"],
    ),
    // 33. No script restriction at all (only img-src): inline, eval and any host are allowed.
    (
        "img-src 'self'",
        &[
            "present",
            "enforced",
            "unsafe_inline",
            "unsafe_eval",
            "script_wildcard",
            "object_unrestricted",
            "object_src_missing",
            "style_unsafe",
        ],
    ),
    // 34. default-src 'none' with script-src-elem 'self': elements and attributes are covered.
    (
        "default-src 'none'; script-src-elem 'self'",
        &["present", "enforced", "default_src_none", "object_src_none"],
    ),
    // 35. 'wasm-unsafe-eval' allows WebAssembly compilation only, not eval().
    (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'",
        &["present", "enforced"],
    ),
    // 36. Keywords written without quotes are host names (`self` is a host): not unsafe-inline.
    (
        "default-src 'self'; script-src self unsafe-inline",
        &["present", "enforced"],
    ),
    // 37. Duplicate directive: the first wins (§2.2.1 step 2.5), the permissive second is ignored.
    (
        "default-src 'self'; script-src 'self'; script-src 'unsafe-inline'",
        &["present", "enforced"],
    ),
    // 38. A header with only separators and whitespace holds no directive: nothing is enforced.
    (";;;   ; ", &["present"]),
    // 39. Unknown directives are ignored (§2.2.1): only the known ones count.
    (
        "foo-src 'self'; default-src 'self'",
        &["present", "enforced"],
    ),
    // 40. 'none' mixed with sources is ignored: script-src 'none' 'unsafe-inline' allows inline.
    (
        "default-src 'self'; script-src 'none' 'unsafe-inline'",
        &["present", "enforced", "unsafe_inline"],
    ),
    // 41. upgrade-insecure-requests takes no sources and does not make http: sources secure here.
    (
        "default-src 'self'; upgrade-insecure-requests; object-src 'none'; base-uri 'self'",
        &[
            "present",
            "enforced",
            "object_src_none",
            "base_uri_restricted",
        ],
    ),
    // 42. strict CSP as recommended by web.dev: nonce + strict-dynamic, object-src and base-uri none.
    (
        "script-src 'nonce-r4nd0mN0nc3VaLuE' 'strict-dynamic' 'unsafe-inline' https: http:; object-src 'none'; base-uri 'none'",
        &[
            "present",
            "enforced",
            "strict_dynamic",
            "object_src_none",
            "base_uri_restricted",
            "style_unsafe",
        ],
    ),
    // 43. A hash plus 'strict-dynamic' also counts as backed.
    (
        "default-src 'self'; script-src 'sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb' 'strict-dynamic'",
        &["present", "enforced", "strict_dynamic"],
    ),
    // 44. https://* is a host wildcard: broad.
    (
        "default-src 'self'; object-src https://*",
        &["present", "enforced", "object_unrestricted"],
    ),
];

#[test]
fn header_policies() {
    assert!(HEADER_CASES.len() >= 40);
    for (policy, expected) in HEADER_CASES {
        let facts = header(policy);
        check(policy, &facts, expected);
    }
}

#[test]
fn sources_are_reported_per_directive_and_effective() {
    let facts = header(
        "default-src 'self'; script-src 'self' https://cdn.example.test; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    assert_eq!(
        facts.script_sources.as_deref(),
        Some(&["'self'".to_string(), "https://cdn.example.test".to_string()][..])
    );
    assert_eq!(
        facts.object_sources.as_deref(),
        Some(&["'self'".to_string()][..])
    );
    assert_eq!(
        facts.style_sources.as_deref(),
        Some(&["'self'".to_string()][..])
    );
    assert_eq!(facts.base_uri.as_deref(), Some(&["'none'".to_string()][..]));
    assert_eq!(
        facts.frame_ancestors.as_deref(),
        Some(&["'none'".to_string()][..])
    );
    assert_eq!(facts.directive_count, 5);
    assert_eq!(facts.directives[1].name, "script-src");
    assert_eq!(facts.policy_count, 1);
    assert_eq!(
        facts.raw.as_deref(),
        Some(
            "default-src 'self'; script-src 'self' https://cdn.example.test; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )
    );
    assert!(facts.syntax_errors.is_empty(), "{:?}", facts.syntax_errors);
}

#[test]
fn report_only_alone_enforces_nothing() {
    let facts = CspFacts::analyse(CspInput {
        headers: &[],
        meta: &[],
        report_only: true,
        https: true,
    });
    check("report-only", &facts, &["report_only"]);
    assert_eq!(facts.policy_count, 0);
}

#[test]
fn meta_policy_is_enforced_but_cannot_set_frame_ancestors() {
    let facts = CspFacts::analyse(CspInput {
        headers: &[],
        meta: &["default-src 'self'; frame-ancestors 'none'"],
        report_only: false,
        https: true,
    });
    // CSP3 §3.3: frame-ancestors, report-uri and sandbox are not supported in <meta>.
    check("meta", &facts, &["meta", "enforced"]);
    assert_eq!(facts.frame_ancestors, None);
    assert!(facts.syntax_errors[0].contains("frame-ancestors"));
}

#[test]
fn header_and_meta_policies_are_intersected() {
    let facts = CspFacts::analyse(CspInput {
        headers: &["script-src 'self' 'unsafe-inline'"],
        meta: &["script-src 'self'; object-src 'none'"],
        report_only: false,
        https: true,
    });
    assert!(
        !facts.unsafe_inline,
        "the meta policy forbids inline script"
    );
    assert!(facts.object_src_none && !facts.object_unrestricted);
    assert_eq!(facts.policy_count, 2);
    assert_eq!(facts.policies[1].delivery, CspDelivery::Meta);
    assert!(facts.policies[0].unsafe_inline && !facts.policies[1].unsafe_inline);
}

#[test]
fn insecure_sources_only_matter_on_https_pages() {
    let policy = "default-src 'self' http://cdn.example.test; img-src http:";
    let facts = CspFacts::analyse(CspInput {
        headers: &[policy],
        meta: &[],
        report_only: false,
        https: false,
    });
    assert!(!facts.insecure_active && !facts.insecure_passive);
    let facts = header(policy);
    assert!(facts.insecure_active && facts.insecure_passive);
    assert_eq!(facts.insecure_sources, ["http://cdn.example.test", "http:"]);
}

#[test]
fn nonce_length_is_the_shortest() {
    let facts = header("script-src 'nonce-abc' 'nonce-abcdefghijklmnopqrstuv'; default-src 'self'");
    assert_eq!(facts.nonce_min_length, Some(3));
    assert_eq!(header("default-src 'self'").nonce_min_length, None);
}

#[test]
fn syntax_problems_are_reported() {
    let cases = [
        ("script-src self", "without its single quotes"),
        ("script-src 'unsafe-inlin'", "not a known keyword"),
        ("script-src 'nonce-***'", "not a valid nonce"),
        ("script-src 'sha256-'", "not a valid hash"),
        ("script-src 'none' 'self'", "'none' is combined"),
        ("script-src 'self'; script-src 'none'", "repeated"),
        ("script-src https://a.test/path?query", "not a valid source"),
        ("scr!pt-src 'self'", "not a directive name"),
        ("script-src 'self' caf\u{e9}.test", "non-ASCII"),
        ("img-src https://a.test:port", "not a valid source"),
    ];
    for (policy, needle) in cases {
        let facts = header(policy);
        assert!(
            facts.syntax_errors.iter().any(|e| e.contains(needle)),
            "{policy}: {:?}",
            facts.syntax_errors
        );
    }
    let facts = header("foo-src 'self'; bar 1; default-src 'self'");
    assert_eq!(facts.unknown_directives, ["foo-src", "bar"]);
}

#[test]
fn hostile_input_is_bounded() {
    // A megabyte header: read up to the cap, flagged, no panic.
    let huge = format!("default-src 'self' {}", "https://a.test ".repeat(80_000));
    let facts = header(&huge);
    assert!(facts.truncated && facts.enforced);
    assert!(facts.directives[0].sources.len() <= MAX_SOURCES);
    // Thousands of directives.
    let many: String = (0..5000).map(|i| format!("x{i}-src 'self'; ")).collect();
    let facts = header(&(many + "default-src 'none'"));
    assert!(facts.unknown_directives.len() <= MAX_FINDINGS);
    assert!(facts.truncated);
    // Thousands of policies.
    let policies = "default-src 'self',".repeat(5000);
    let facts = header(&policies);
    assert_eq!(facts.policy_count as usize, MAX_POLICIES);
    // Control characters, bidi overrides, replacement characters from invalid UTF-8.
    let lossy = String::from_utf8_lossy(b"default-src 'self' \xff\xfe; script-src \x1b[31m \x00");
    let facts = header(&lossy);
    assert!(facts.enforced && !facts.syntax_errors.is_empty());
    let facts = header("default-src 'self' \u{202e}evil.test\u{202c}");
    assert!(!facts.syntax_errors.is_empty());
    // A single enormous source expression is shortened in the findings.
    let long = format!("script-src '{}'", "x".repeat(100_000));
    let facts = header(&long);
    assert!(facts.syntax_errors.iter().all(|e| e.len() < 1024));
    // Errors are capped.
    let errors = "script-src 'self'; ".repeat(500);
    let facts = header(&errors);
    assert!(facts.syntax_errors.len() <= MAX_FINDINGS);
}

#[test]
fn meta_policies_are_found_in_html() {
    let html = r#"<html><head>
        <meta http-equiv="content-security-policy" content="default-src 'self'">
        <meta name="viewport" content="width=device-width">
        <META HTTP-EQUIV='Content-Security-Policy' CONTENT="script-src 'none'">
        </head><body></body></html>"#;
    assert_eq!(
        meta_policies(html),
        ["default-src 'self'", "script-src 'none'"]
    );
    assert!(meta_policies("<p>no policy</p>").is_empty());
    let many =
        "<meta http-equiv=content-security-policy content=\"default-src 'self'\">".repeat(1000);
    assert_eq!(meta_policies(&many).len(), MAX_POLICIES);
}
