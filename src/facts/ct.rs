//! Certificate-transparency facts: every SCT — embedded in the certificate, sent in the TLS
//! extension, or carried by the stapled OCSP response — verified against the CT log list, and the
//! Chrome and Apple CT policies evaluated on the result.
//!
//! Without a log list nothing is verified: the counts are absent (inconclusive), never zero.

use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ct::{LogList, SctCheck, SctSource, SctStatus};

/// CT facts of the leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CtFacts {
    /// SCTs seen, whichever way they were delivered.
    pub sct_count: u32,
    /// SCTs embedded in the certificate.
    pub embedded_count: u32,
    /// SCTs sent in the TLS `signed_certificate_timestamp` extension.
    pub tls_extension_count: u32,
    /// SCTs in the stapled OCSP response.
    pub ocsp_count: u32,
    /// SCTs whose log signature verifies (absent without a log list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_count: Option<u32>,
    /// SCTs whose signature does not verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_count: Option<u32>,
    /// SCTs from logs that are not in the log list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_log_count: Option<u32>,
    /// Distinct operators among the logs of valid SCTs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_count: Option<u32>,
    /// SCTs dated after the audit.
    pub future_timestamp_count: u32,
    /// The valid SCTs satisfy the Chrome CT policy: embedded, 2 SCTs for certificates valid up to
    /// 180 days and 3 beyond; delivered by TLS or OCSP, 2 — in both cases from logs that are or
    /// were qualified (usable, qualified, read-only, retired), at least one of them still
    /// usable, qualified or read-only, and from at least two operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chrome_policy_compliant: Option<bool>,
    /// The valid SCTs satisfy the Apple CT policy (the same counts, log states and operator
    /// diversity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apple_policy_compliant: Option<bool>,
    /// `log_list_timestamp` of the log list used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_list_timestamp: Option<String>,
    /// Each SCT with its verdict.
    pub scts: Vec<SctFacts>,
}

/// One SCT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SctFacts {
    /// How it was delivered: `embedded`, `tls_extension` or `ocsp`.
    pub source: String,
    /// The log id, base64.
    pub log_id: String,
    /// The log's description, when the list knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// The log's operator, when the list knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// When the log issued it, RFC 3339.
    pub timestamp: String,
    /// `valid`, `invalid_signature`, `unknown_log` or `unverifiable`.
    pub status: String,
    /// Why it could not be verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Builds CT facts from checked SCTs. `validity_days` is the certificate's lifetime, `now_ms` the
/// audit time.
pub fn derive(
    checks: &[SctCheck],
    logs: Option<&LogList>,
    validity_days: i64,
    now_ms: u64,
) -> CtFacts {
    let count = |status: &SctStatus| {
        u32::try_from(checks.iter().filter(|c| &c.status == status).count()).unwrap_or(u32::MAX)
    };
    let verified = logs.is_some();
    let valid = count(&SctStatus::Valid);
    let mut operators: Vec<&str> = checks
        .iter()
        .filter(|c| c.status == SctStatus::Valid)
        .filter_map(|c| c.operator.as_deref())
        .collect();
    operators.sort_unstable();
    operators.dedup();
    let operator_count = u32::try_from(operators.len()).unwrap_or(u32::MAX);
    let compliant = policy_compliant(checks, validity_days);
    let from = |source: SctSource| {
        u32::try_from(checks.iter().filter(|c| c.source == source).count()).unwrap_or(u32::MAX)
    };
    CtFacts {
        sct_count: u32::try_from(checks.len()).unwrap_or(u32::MAX),
        embedded_count: from(SctSource::Embedded),
        tls_extension_count: from(SctSource::TlsExtension),
        ocsp_count: from(SctSource::Ocsp),
        valid_count: verified.then_some(valid),
        invalid_count: verified.then(|| count(&SctStatus::InvalidSignature)),
        unknown_log_count: verified.then(|| count(&SctStatus::UnknownLog)),
        operator_count: verified.then_some(operator_count),
        future_timestamp_count: u32::try_from(
            checks.iter().filter(|c| c.timestamp_ms > now_ms).count(),
        )
        .unwrap_or(u32::MAX),
        chrome_policy_compliant: verified.then_some(compliant),
        apple_policy_compliant: verified.then_some(compliant),
        log_list_timestamp: logs.map(|l| l.timestamp.clone()),
        scts: checks
            .iter()
            .map(|check| {
                let (status, reason) = match &check.status {
                    SctStatus::Valid => ("valid", None),
                    SctStatus::InvalidSignature => ("invalid_signature", None),
                    SctStatus::UnknownLog => ("unknown_log", None),
                    SctStatus::Unverifiable(reason) => ("unverifiable", Some(reason.clone())),
                };
                SctFacts {
                    source: check.source.as_str().to_string(),
                    log_id: base64::engine::general_purpose::STANDARD.encode(check.log_id),
                    log: check.log.clone(),
                    operator: check.operator.clone(),
                    timestamp: sct_time(check.timestamp_ms),
                    status: status.to_string(),
                    reason,
                }
            })
            .collect(),
    }
}

/// Log states whose SCTs count: the log is or was qualified.
const ONCE_QUALIFIED: [&str; 4] = ["usable", "qualified", "readonly", "retired"];
/// Log states of a log that is still qualified.
const STILL_QUALIFIED: [&str; 3] = ["usable", "qualified", "readonly"];

/// The Chrome (and Apple) CT policy: enough valid SCTs from qualifying logs of at least two
/// operators, either embedded (2 up to 180 days of validity, 3 beyond) or delivered by TLS/OCSP
/// (2), with at least one from a log that is still qualified.
fn policy_compliant(checks: &[SctCheck], validity_days: i64) -> bool {
    let counted = |embedded: bool| -> Vec<&SctCheck> {
        checks
            .iter()
            .filter(|c| (c.source == SctSource::Embedded) == embedded)
            .filter(|c| c.status == SctStatus::Valid)
            .filter(|c| {
                c.log_state
                    .as_deref()
                    .is_some_and(|s| ONCE_QUALIFIED.contains(&s))
            })
            .collect()
    };
    let satisfies = |set: &[&SctCheck], required: usize| {
        let mut operators: Vec<&str> = set.iter().filter_map(|c| c.operator.as_deref()).collect();
        operators.sort_unstable();
        operators.dedup();
        set.len() >= required
            && operators.len() >= 2
            && set.iter().any(|c| {
                c.log_state
                    .as_deref()
                    .is_some_and(|s| STILL_QUALIFIED.contains(&s))
            })
    };
    let embedded_required = if validity_days <= 180 { 2 } else { 3 };
    satisfies(&counted(true), embedded_required) || satisfies(&counted(false), 2)
}

/// An SCT timestamp (set by whoever signed the SCT, any u64) as RFC 3339, or as raw milliseconds
/// past the year 9999, which RFC 3339 cannot write.
fn sct_time(ms: u64) -> String {
    /// 9999-12-31T23:59:59.999Z.
    const LAST_RFC3339_MS: u64 = 253_402_300_799_999;
    if ms > LAST_RFC3339_MS {
        return format!("{ms} ms after 1970 (past the year 9999)");
    }
    humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_past_the_year_9999_do_not_panic() {
        assert_eq!(sct_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(sct_time(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert!(sct_time(253_402_300_800_000).contains("past the year 9999"));
        assert!(sct_time(u64::MAX).starts_with("18446744073709551615 ms"));
    }

    fn check(operator: &str, status: SctStatus, timestamp_ms: u64) -> SctCheck {
        SctCheck {
            source: SctSource::Embedded,
            log_id: [1; 32],
            log: Some("log".into()),
            operator: Some(operator.into()),
            log_state: Some("usable".into()),
            timestamp_ms,
            status,
        }
    }

    fn delivered(operator: &str, state: &str) -> SctCheck {
        SctCheck {
            source: SctSource::TlsExtension,
            log_state: Some(state.into()),
            ..check(operator, SctStatus::Valid, 0)
        }
    }

    #[test]
    fn delivered_scts_need_two_whatever_the_lifetime() {
        let two = [delivered("A", "usable"), delivered("B", "qualified")];
        let facts = derive(&two, Some(&list()), 398, 10);
        assert_eq!(facts.chrome_policy_compliant, Some(true));
        assert_eq!((facts.tls_extension_count, facts.embedded_count), (2, 0));
        assert_eq!(facts.scts[0].source, "tls_extension");
        // Embedded SCTs of a one-year certificate need three; two delivered ones do not add up
        // with one embedded one into a compliant set.
        let mixed = [
            check("A", SctStatus::Valid, 0),
            check("B", SctStatus::Valid, 0),
            delivered("C", "usable"),
        ];
        assert_eq!(
            derive(&mixed, Some(&list()), 365, 10).chrome_policy_compliant,
            Some(false)
        );
    }

    #[test]
    fn log_states_decide_what_counts() {
        let rejected = [delivered("A", "usable"), delivered("B", "rejected")];
        assert_eq!(
            derive(&rejected, Some(&list()), 90, 10).chrome_policy_compliant,
            Some(false),
            "a rejected log never counts"
        );
        let retired_only = [delivered("A", "retired"), delivered("B", "retired")];
        assert_eq!(
            derive(&retired_only, Some(&list()), 90, 10).chrome_policy_compliant,
            Some(false),
            "one SCT must come from a log that is still qualified"
        );
        let one_retired = [delivered("A", "retired"), delivered("B", "readonly")];
        assert_eq!(
            derive(&one_retired, Some(&list()), 90, 10).chrome_policy_compliant,
            Some(true)
        );
    }

    fn list() -> LogList {
        LogList {
            version: "1".into(),
            timestamp: "2026-01-02T12:57:01Z".into(),
            logs: Default::default(),
        }
    }

    #[test]
    fn policies_need_counts_and_two_operators() {
        let two_ops = [
            check("A", SctStatus::Valid, 0),
            check("B", SctStatus::Valid, 0),
        ];
        let facts = derive(&two_ops, Some(&list()), 90, 10);
        assert_eq!(
            (facts.valid_count, facts.operator_count),
            (Some(2), Some(2))
        );
        assert_eq!(facts.chrome_policy_compliant, Some(true));
        assert_eq!(
            derive(&two_ops, Some(&list()), 365, 10).chrome_policy_compliant,
            Some(false),
            "a year needs 3"
        );
        let one_op = [
            check("A", SctStatus::Valid, 0),
            check("A", SctStatus::Valid, 0),
        ];
        assert_eq!(
            derive(&one_op, Some(&list()), 90, 10).apple_policy_compliant,
            Some(false)
        );
        let bad = [
            check("A", SctStatus::Valid, 0),
            check("B", SctStatus::InvalidSignature, 0),
        ];
        let facts = derive(&bad, Some(&list()), 90, 10);
        assert_eq!((facts.valid_count, facts.invalid_count), (Some(1), Some(1)));
        assert_eq!(facts.chrome_policy_compliant, Some(false));
    }

    #[test]
    fn without_a_list_nothing_is_counted_as_verified() {
        let facts = derive(
            &[check(
                "A",
                SctStatus::Unverifiable("no CT log list".into()),
                20,
            )],
            None,
            90,
            10,
        );
        assert_eq!(
            (
                facts.sct_count,
                facts.valid_count,
                facts.chrome_policy_compliant
            ),
            (1, None, None)
        );
        assert_eq!(facts.future_timestamp_count, 1);
        assert_eq!(facts.scts[0].status, "unverifiable");
    }
}
