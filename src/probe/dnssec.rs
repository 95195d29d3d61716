//! The DNSSEC probe: validates the record sets that say whether the audited name and its mail
//! domain are signed, through the [`Validator`] (a lookup path of its own, so the other probes'
//! answers stay as a non-validating client sees them).
//!
//! Asked, each validated and recorded with its verdict: the target name's SOA and A sets; for
//! the mail domain, its SOA (when it is another name) and MX sets, then the A set of each MX
//! host named in the validated MX answer (at most [`MAX_MX_HOSTS`]). Probes never judge: the
//! summary is made in `facts::dnssec`.

use hickory_resolver::proto::rr::RecordType;

use crate::evidence::DnssecOutcome;
use crate::facts::dnssec::mx_hosts;
use crate::net::Validator;

/// Most MX hosts whose address sets are validated.
pub const MAX_MX_HOSTS: usize = 8;

/// Validates the record sets of `host` and, when given, of the mail domain `mail_domain` and its
/// MX hosts. The verdicts land in the validator's log.
pub async fn probe(validator: &Validator, host: &str, mail_domain: Option<&str>) {
    let target = async {
        tokio::join!(
            validator.validate(host, RecordType::SOA),
            validator.validate(host, RecordType::A)
        );
    };
    let mail = async {
        let Some(domain) = mail_domain else {
            return;
        };
        let (_, mx) = tokio::join!(
            validator.validate(domain, RecordType::SOA),
            validator.validate(domain, RecordType::MX)
        );
        if let DnssecOutcome::Validated { records, .. } = mx {
            let hosts = mx_hosts(&records);
            futures_util::future::join_all(
                hosts
                    .iter()
                    .take(MAX_MX_HOSTS)
                    .map(|mx| validator.validate(mx, RecordType::A)),
            )
            .await;
        }
    };
    tokio::join!(target, mail);
}
