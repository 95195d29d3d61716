//! What the mail probe observed beyond DNS answers (those are in [`super::Evidence::dns`] like
//! every other lookup): which domain was treated as the mail domain, the DKIM selectors the user
//! declared, the MTA-STS policy fetch, and the STARTTLS and TLS scan of each MX host.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::FetchChain;
use super::starttls::StarttlsEvidence;
use super::tls::{ChainCheck, TlsEvidence};

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
    /// The MX hosts probed on port 25 (by preference, at most `--max-mx`); empty when none was
    /// probed (no MX, a null MX, or evidence from before MX probing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mx: Vec<MxEvidence>,
}

/// What was observed on one MX host's SMTP port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MxEvidence {
    /// The MX host name (lower-case, no trailing dot).
    pub host: String,
    /// The MX preference.
    pub preference: u16,
    /// The STARTTLS conversation on port 25; absent when the host's address could not be
    /// resolved (the TLS scan's `error` says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls: Option<StarttlsEvidence>,
    /// The TLS scan through STARTTLS; absent when STARTTLS did not get as far as TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsEvidence>,
    /// The served chain validated with each served CA certificate as the only trust anchor,
    /// for DANE-TA (RFC 7672 section 3.1.1): one entry per certificate after the leaf.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ta_checks: Vec<TaCheck>,
}

/// The served chain validated up to one of its own certificates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaCheck {
    /// Position of the anchor in the served chain (1 is the certificate after the leaf).
    pub position: u32,
    /// The verdict for the MX host name.
    pub check: ChainCheck,
}
