//! What the mail probe observed beyond DNS answers (those are in [`super::Evidence::dns`] like
//! every other lookup): which domain was treated as the mail domain, the DKIM selectors the user
//! declared, and the MTA-STS policy fetch.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::FetchChain;

/// The mail probe's own observations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MailEvidence {
    /// The domain whose mail records were looked up (the target host, or `--mail-domain`).
    pub domain: String,
    /// DKIM selectors named with `--dkim-selector`, in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dkim_selectors: Vec<String>,
    /// `GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt` (one request: redirects are not
    /// followed, RFC 8461 section 3.3); absent when there is no MTA-STS TXT record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mta_sts_policy: Option<FetchChain>,
}
