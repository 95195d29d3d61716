//! Certificate-transparency facts: every embedded SCT verified against the CT log list, and the
//! Chrome and Apple CT policies evaluated on the result.
//!
//! Without a log list nothing is verified: the counts are absent (inconclusive), never zero.

use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ct::{LogList, SctCheck, SctStatus};

/// CT facts of the leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CtFacts {
    /// SCTs embedded in the certificate.
    pub sct_count: u32,
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
    /// The valid SCTs satisfy the Chrome CT policy (2 SCTs for certificates valid up to 180 days,
    /// 3 beyond, from at least two operators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chrome_policy_compliant: Option<bool>,
    /// The valid SCTs satisfy the Apple CT policy (same counts and operator diversity).
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
    let required = if validity_days <= 180 { 2 } else { 3 };
    let compliant = valid >= required && operator_count >= 2;
    CtFacts {
        sct_count: u32::try_from(checks.len()).unwrap_or(u32::MAX),
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
                    log_id: base64::engine::general_purpose::STANDARD.encode(check.log_id),
                    log: check.log.clone(),
                    operator: check.operator.clone(),
                    timestamp: humantime::format_rfc3339_millis(
                        std::time::UNIX_EPOCH
                            + std::time::Duration::from_millis(check.timestamp_ms),
                    )
                    .to_string(),
                    status: status.to_string(),
                    reason,
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(operator: &str, status: SctStatus, timestamp_ms: u64) -> SctCheck {
        SctCheck {
            log_id: [1; 32],
            log: Some("log".into()),
            operator: Some(operator.into()),
            timestamp_ms,
            status,
        }
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
