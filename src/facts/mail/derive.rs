//! Derivation of [`MailFacts`] from recorded answers, and the list of lookups the derivation
//! still lacks (which is how the probe knows what to ask next).

use std::collections::BTreeMap;

use super::{
    BimiFacts, COMMON_SELECTORS, DkimFacts, DkimSelectorFacts, DmarcFacts, MailFacts, MtaStsFacts,
    MxFacts, SpfFacts, TlsRptFacts, bimi, dkim, dmarc, mta_sts, organizational_domain, spf,
    spf_walk, tls_rpt, txt_texts,
};
use crate::evidence::{ChainEnd, DnsOutcome, FetchChain};

/// Answers by (name, type), as in [`spf_walk::Answers`].
pub type Answers<'a> = spf_walk::Answers<'a>;

/// The derivation's state: where answers come from, what is missing, what is unobserved.
struct Ctx<'a> {
    answers: Answers<'a>,
    missing: Vec<(String, String)>,
    unobserved: BTreeMap<String, String>,
}

impl Ctx<'_> {
    /// The outcome of (name, type); when absent or failed, records why under `path` and returns
    /// `None`.
    fn outcome(&mut self, name: &str, record_type: &str, path: &str) -> Option<DnsOutcome> {
        match (self.answers)(name, record_type) {
            None => {
                let key = (name.to_string(), record_type.to_string());
                if !self.missing.contains(&key) {
                    self.missing.push(key);
                }
                self.unobserved.insert(
                    path.to_string(),
                    format!("{record_type} of {name} was not looked up"),
                );
                None
            }
            Some(DnsOutcome::Failed { error }) => {
                self.unobserved.insert(
                    path.to_string(),
                    format!("{record_type} lookup of {name} failed: {error}"),
                );
                None
            }
            Some(outcome) => Some(outcome),
        }
    }

    /// The TXT texts at `name` that `select` accepts.
    fn records(&mut self, name: &str, path: &str, select: fn(&str) -> bool) -> Option<Vec<String>> {
        let outcome = self.outcome(name, "TXT", path)?;
        Some(
            txt_texts(&outcome)
                .into_iter()
                .filter(|t| select(t))
                .collect(),
        )
    }
}

/// Derives the mail facts of `domain`. `selectors` are the declared DKIM selectors and `policy`
/// the MTA-STS policy fetch. Reasons for absent facts are added to `unobserved`.
pub fn derive(
    domain: &str,
    selectors: &[String],
    policy: Option<&FetchChain>,
    answers: Answers<'_>,
    unobserved: &mut BTreeMap<String, String>,
) -> MailFacts {
    let mut ctx = Ctx {
        answers,
        missing: Vec::new(),
        unobserved: BTreeMap::new(),
    };
    let facts = derive_in(&mut ctx, domain, selectors, policy);
    unobserved.extend(ctx.unobserved);
    facts
}

/// The lookups the derivation of `domain`'s mail facts needs and `answers` does not hold yet.
pub fn missing_lookups(
    domain: &str,
    selectors: &[String],
    answers: Answers<'_>,
) -> Vec<(String, String)> {
    let mut ctx = Ctx {
        answers,
        missing: Vec::new(),
        unobserved: BTreeMap::new(),
    };
    derive_in(&mut ctx, domain, selectors, None);
    ctx.missing
}

fn derive_in(
    ctx: &mut Ctx<'_>,
    domain: &str,
    selectors: &[String],
    policy: Option<&FetchChain>,
) -> MailFacts {
    let domain = spf_walk::normalise(domain);
    let mx = mx_hosts(ctx, &domain);
    let spf = spf_facts(ctx, &domain);
    let null_mx = mx
        .as_ref()
        .map(|hosts| hosts.len() == 1 && hosts[0].host == ".");
    let parked = null_mx.zip(spf.as_ref()).map(|(null, spf)| {
        null && spf
            .record
            .as_deref()
            .is_some_and(|r| r.split_whitespace().collect::<Vec<_>>() == ["v=spf1", "-all"])
    });
    if parked.is_none() {
        let reason = if mx.is_none() {
            "the MX records were not observed"
        } else {
            "the SPF record was not observed"
        };
        if mx.is_none() {
            ctx.unobserved.insert("mail.null_mx".into(), reason.into());
        }
        ctx.unobserved.insert("mail.parked".into(), reason.into());
    }
    MailFacts {
        domain: Some(domain.clone()),
        dmarc: dmarc_facts(ctx, &domain),
        dkim: dkim_facts(ctx, &domain, selectors),
        mta_sts: mta_sts_facts(ctx, &domain, policy, mx.as_deref()),
        tls_rpt: tls_rpt_facts(ctx, &domain),
        bimi: bimi_facts(ctx, &domain),
        spf,
        null_mx,
        parked,
        mx,
        dnssec: None,
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn mx_hosts(ctx: &mut Ctx<'_>, domain: &str) -> Option<Vec<MxFacts>> {
    let outcome = ctx.outcome(domain, "MX", "mail.mx")?;
    let records = match &outcome {
        DnsOutcome::Answer { records } => records.as_slice(),
        _ => &[],
    };
    Some(super::parse_mx(records))
}

fn spf_facts(ctx: &mut Ctx<'_>, domain: &str) -> Option<SpfFacts> {
    let records = ctx.records(domain, "mail.spf", spf::is_spf)?;
    let mut facts = SpfFacts {
        present: !records.is_empty(),
        record_count: count(records.len()),
        ..SpfFacts::default()
    };
    if records.len() > 1 {
        facts
            .permerror_reasons
            .push(format!("{domain} has {} SPF records", records.len()));
        facts.permerror = Some(true);
        return Some(facts);
    }
    let Some(text) = records.first() else {
        return Some(facts);
    };
    let record = spf::parse(text);
    facts.record = Some(text.clone());
    facts.record_length = Some(count(text.len()));
    facts.syntax_errors = record.errors.iter().map(ToString::to_string).collect();
    facts.warnings.clone_from(&record.warnings);
    facts.valid = record.errors.is_empty();
    let answers = ctx.answers;
    let walk = spf_walk::walk(domain, &record, answers);
    for key in &walk.missing {
        if !ctx.missing.contains(key) {
            ctx.missing.push(key.clone());
        }
    }
    facts.dns_lookup_count = Some(walk.dns_lookup_count);
    facts.void_lookup_count = Some(walk.void_lookup_count);
    facts.all_qualifier = walk.all.map(|q| q.with_all().to_string());
    facts.uses_ptr = walk.uses_ptr;
    facts.loop_found = walk.loop_found;
    facts.includes = walk.includes;
    facts.lookups_complete =
        walk.missing.is_empty() && walk.failed.is_empty() && !walk.bound_reached;
    let mut reasons = Vec::new();
    if !record.errors.is_empty() {
        reasons.push(format!("{} syntax error(s)", record.errors.len()));
    }
    if walk.dns_lookup_count > spf_walk::LOOKUP_LIMIT {
        reasons.push(format!(
            "{} DNS-querying terms (limit {})",
            walk.dns_lookup_count,
            spf_walk::LOOKUP_LIMIT
        ));
    }
    if walk.void_lookup_count > spf_walk::VOID_LIMIT {
        reasons.push(format!(
            "{} void lookups (limit {})",
            walk.void_lookup_count,
            spf_walk::VOID_LIMIT
        ));
    }
    reasons.extend(walk.errors);
    let definite = !reasons.is_empty();
    facts.permerror_reasons = reasons;
    if facts.lookups_complete {
        facts.permerror = Some(definite);
    } else {
        let mut why: Vec<String> = walk.failed;
        if !walk.missing.is_empty() {
            why.push(format!(
                "{} lookup(s) of the include tree were not made",
                walk.missing.len()
            ));
        }
        if walk.bound_reached {
            why.push(format!(
                "the walk stopped at {} levels or {} queries",
                spf_walk::MAX_DEPTH,
                spf_walk::MAX_QUERIES
            ));
        }
        let why = format!(
            "the include tree was not fully observed: {}",
            why.join("; ")
        );
        // A count over the limit is a definite result even when part of the tree is unknown;
        // one under it is only a lower bound.
        if walk.dns_lookup_count <= spf_walk::LOOKUP_LIMIT {
            facts.dns_lookup_count = None;
            ctx.unobserved
                .insert("mail.spf.dns_lookup_count".into(), why.clone());
        }
        if walk.void_lookup_count <= spf_walk::VOID_LIMIT {
            facts.void_lookup_count = None;
            ctx.unobserved
                .insert("mail.spf.void_lookup_count".into(), why.clone());
        }
        if definite {
            facts.permerror = Some(true);
        } else {
            ctx.unobserved.insert("mail.spf.permerror".into(), why);
        }
    }
    Some(facts)
}

fn dmarc_facts(ctx: &mut Ctx<'_>, domain: &str) -> Option<DmarcFacts> {
    let own = format!("_dmarc.{domain}");
    let mut found_at = own.clone();
    let mut records = ctx.records(&own, "mail.dmarc", dmarc::is_dmarc)?;
    let organizational = organizational_domain(domain);
    let mut fallback = false;
    if records.is_empty() && organizational != domain {
        found_at = format!("_dmarc.{organizational}");
        records = ctx.records(&found_at, "mail.dmarc", dmarc::is_dmarc)?;
        fallback = true;
    }
    let mut facts = DmarcFacts {
        present: records.len() == 1,
        record_count: count(records.len()),
        ..DmarcFacts::default()
    };
    let [text] = records.as_slice() else {
        if records.len() > 1 {
            facts.syntax_errors.push(format!(
                "{found_at} has {} DMARC records: receivers apply none",
                records.len()
            ));
        }
        return Some(facts);
    };
    let record = dmarc::parse(text);
    let policy_domain = found_at.trim_start_matches("_dmarc.").to_string();
    facts.found_at = Some(found_at);
    facts.organizational_fallback = fallback;
    facts.record = Some(text.clone());
    facts.valid = record.errors.is_empty();
    facts.syntax_errors = record.errors.clone();
    facts.subdomain_policy = record.subdomain_policy.clone().or(record.policy.clone());
    facts.non_existent_subdomain_policy = record
        .non_existent_policy
        .clone()
        .or(facts.subdomain_policy.clone());
    facts.policy = record.policy.clone();
    facts.pct = Some(record.pct);
    facts.adkim = Some(record.adkim.clone());
    facts.aspf = Some(record.aspf.clone());
    facts.fo.clone_from(&record.fo);
    facts.ri = Some(record.ri);
    facts.psd = Some(record.psd.clone());
    facts.testing = record.testing;
    facts.duplicate_tags.clone_from(&record.duplicate_tags);
    facts.unknown_tags.clone_from(&record.unknown_tags);
    facts.ruf.clone_from(&record.ruf);
    facts.rua.clone_from(&record.rua);
    let own_org = organizational_domain(&policy_domain);
    for uri in &record.rua {
        if let Some(dest) = dmarc::report_domain(uri)
            && organizational_domain(&dest) != own_org
            && !facts.external_rua_domains.contains(&dest)
        {
            facts.external_rua_domains.push(dest);
        }
    }
    let mut authorised = Some(true);
    for dest in facts.external_rua_domains.clone() {
        let name = format!("{policy_domain}._report._dmarc.{dest}");
        match ctx.records(&name, "mail.dmarc.external_rua_authorised", dmarc::is_dmarc) {
            Some(found) if found.is_empty() => facts.unauthorised_rua_domains.push(dest),
            Some(_) => {}
            None => authorised = None,
        }
    }
    facts.external_rua_authorised = authorised.map(|_| facts.unauthorised_rua_domains.is_empty());
    Some(facts)
}

fn dkim_facts(ctx: &mut Ctx<'_>, domain: &str, declared: &[String]) -> Option<DkimFacts> {
    let mut facts = DkimFacts::default();
    let mut tried = Vec::new();
    let mut failed = None;
    let mut names: Vec<(&str, bool)> = declared.iter().map(|s| (s.as_str(), true)).collect();
    names.extend(
        COMMON_SELECTORS
            .iter()
            .filter(|s| !declared.iter().any(|d| d == *s))
            .map(|s| (*s, false)),
    );
    for (selector, is_declared) in names {
        let name = format!("{selector}._domainkey.{domain}");
        tried.push(selector);
        let Some(outcome) = ctx.outcome(&name, "TXT", "mail.dkim") else {
            failed = ctx.unobserved.remove("mail.dkim").or(failed);
            continue;
        };
        let key = txt_texts(&outcome)
            .into_iter()
            .find(|t| dkim::is_key_record(t));
        let mut entry = DkimSelectorFacts {
            selector: selector.to_string(),
            declared: is_declared,
            found: key.is_some(),
            ..DkimSelectorFacts::default()
        };
        if let Some(text) = key {
            let parsed = dkim::parse(&text);
            entry.valid = Some(parsed.errors.is_empty());
            entry.key_type = Some(parsed.key_type);
            entry.key_bits = parsed.key_bits;
            entry.revoked = parsed.revoked;
            entry.testing = parsed.testing;
            entry.syntax_errors = parsed.errors;
        } else if !is_declared {
            continue;
        }
        facts.selectors.push(entry);
    }
    facts.found_count = count(facts.selectors.iter().filter(|s| s.found).count());
    if let Some(reason) = failed {
        ctx.unobserved.insert("mail.dkim".into(), reason);
        return None;
    }
    if facts.selectors.is_empty() {
        ctx.unobserved.insert(
            "mail.dkim".into(),
            format!(
                "no DKIM key at the {} common selectors; name the domain's selectors with --dkim-selector",
                tried.len()
            ),
        );
        return None;
    }
    Some(facts)
}

fn mta_sts_facts(
    ctx: &mut Ctx<'_>,
    domain: &str,
    policy: Option<&FetchChain>,
    mx: Option<&[MxFacts]>,
) -> Option<MtaStsFacts> {
    let records = ctx.records(
        &format!("_mta-sts.{domain}"),
        "mail.mta_sts",
        mta_sts::is_record,
    )?;
    let mut facts = MtaStsFacts {
        present: !records.is_empty(),
        record_count: count(records.len()),
        ..MtaStsFacts::default()
    };
    if let [text] = records.as_slice() {
        match mta_sts::parse_record(text) {
            Ok(id) => {
                facts.id = Some(id);
                facts.record_valid = true;
            }
            Err(errors) => facts.policy_errors.extend(errors),
        }
    }
    if !facts.present {
        return Some(facts);
    }
    let Some(chain) = policy else {
        ctx.unobserved.insert(
            "mail.mta_sts.policy_fetched".into(),
            "the MTA-STS policy was not fetched".into(),
        );
        return Some(facts);
    };
    let body = match policy_body(chain) {
        Ok(body) => body,
        Err(error) => {
            facts.policy_fetched = Some(false);
            facts.policy_error = Some(error);
            return Some(facts);
        }
    };
    facts.policy_fetched = Some(true);
    let parsed = mta_sts::parse_policy(body);
    facts.policy_valid = Some(parsed.errors.is_empty());
    facts.policy_errors.extend(parsed.errors);
    facts.mode = parsed.mode;
    facts.max_age = parsed.max_age;
    facts.mx = parsed.mx;
    match mx {
        Some(hosts) => {
            facts.uncovered_mx = hosts
                .iter()
                .filter(|h| h.host != ".")
                .filter(|h| !facts.mx.iter().any(|p| mta_sts::matches(p, &h.host)))
                .map(|h| h.host.clone())
                .collect();
            facts.mx_covered = Some(facts.uncovered_mx.is_empty());
        }
        None => {
            ctx.unobserved.insert(
                "mail.mta_sts.mx_covered".into(),
                "the MX records were not observed".into(),
            );
        }
    }
    Some(facts)
}

/// The policy text of a fetch, or why there is none (RFC 8461 section 3.3: HTTPS with a valid
/// certificate, status 200, no redirects, `text/plain`).
fn policy_body(chain: &FetchChain) -> Result<&str, String> {
    let Some(hop) = chain.hops.first() else {
        return Err(match &chain.end {
            ChainEnd::Failed { error, .. } => error.to_string(),
            _ => "no response".into(),
        });
    };
    if let Some(error) = &hop.certificate_error {
        return Err(format!("certificate not valid: {error}"));
    }
    if hop.status != 200 {
        return Err(format!(
            "HTTP status {} (redirects are not followed)",
            hop.status
        ));
    }
    let content_type = hop.header_values("content-type").next().unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("text/plain") {
        return Err(format!("content type `{content_type}` is not text/plain"));
    }
    hop.body
        .text
        .as_deref()
        .ok_or_else(|| "the policy body was not kept".to_string())
}

fn tls_rpt_facts(ctx: &mut Ctx<'_>, domain: &str) -> Option<TlsRptFacts> {
    let records = ctx.records(
        &format!("_smtp._tls.{domain}"),
        "mail.tls_rpt",
        tls_rpt::is_record,
    )?;
    let mut facts = TlsRptFacts {
        present: !records.is_empty(),
        record_count: count(records.len()),
        ..TlsRptFacts::default()
    };
    if let [text] = records.as_slice() {
        match tls_rpt::parse(text) {
            Ok(rua) => {
                facts.rua = rua;
                facts.valid = true;
            }
            Err(errors) => facts.syntax_errors = errors,
        }
    }
    Some(facts)
}

fn bimi_facts(ctx: &mut Ctx<'_>, domain: &str) -> Option<BimiFacts> {
    let records = ctx.records(
        &format!("default._bimi.{domain}"),
        "mail.bimi",
        bimi::is_record,
    )?;
    let mut facts = BimiFacts {
        present: !records.is_empty(),
        record_count: count(records.len()),
        ..BimiFacts::default()
    };
    if let [text] = records.as_slice() {
        let record = bimi::parse(text);
        facts.valid = record.errors.is_empty();
        facts.location = record.location;
        facts.authority = record.authority;
        facts.syntax_errors = record.errors;
    }
    Some(facts)
}
