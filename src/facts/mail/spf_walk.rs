//! SPF lookup counting (RFC 7208 section 4.6.4): the record of a domain and everything its
//! `include`s and `redirect`s pull in, evaluated over DNS answers supplied by the caller.
//!
//! The same walk serves the probe and the facts layer. The probe calls [`walk`] over the answers
//! recorded so far, looks up whatever [`SpfWalk::missing`] lists, and repeats until nothing is
//! missing; the facts layer calls it once over the saved evidence. Both therefore count the same
//! terms from the same answers, and `secaudit evaluate` gives the numbers the audit gave.
//!
//! Without a sender address nothing is matched: every DNS-querying term up to the first `all` is
//! counted, as a receiver would when no earlier term matches (the worst case, which is what the
//! limit of ten is about). Terms whose domain holds a macro count but cannot be looked up.
//! The walk is bounded ([`MAX_DEPTH`], [`MAX_QUERIES`]) so a hostile zone cannot make it run on.

use std::collections::BTreeSet;

use super::{spf, txt_texts};
use crate::evidence::DnsOutcome;

/// Receivers stop with `permerror` past this many DNS-querying terms.
pub const LOOKUP_LIMIT: u32 = 10;
/// Receivers stop with `permerror` past this many void lookups.
pub const VOID_LIMIT: u32 = 2;
/// Deepest chain of `include`/`redirect` followed.
pub const MAX_DEPTH: usize = 10;
/// Most distinct DNS questions one walk asks.
pub const MAX_QUERIES: usize = 30;

/// Answers by (name, record type): `None` when that lookup was not made.
pub type Answers<'a> = &'a dyn Fn(&str, &str) -> Option<DnsOutcome>;

/// What the walk found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpfWalk {
    /// DNS-querying terms (`include`, `a`, `mx`, `ptr`, `exists`, `redirect`) over the whole tree.
    pub dns_lookup_count: u32,
    /// Lookups that returned no records (NOERROR without answers, or NXDOMAIN).
    pub void_lookup_count: u32,
    /// A `ptr` mechanism is used somewhere in the tree.
    pub uses_ptr: bool,
    /// An `include` or `redirect` leads back to a domain already being evaluated.
    pub loop_found: bool,
    /// Domains reached through `include` or `redirect`, in evaluation order.
    pub includes: Vec<String>,
    /// The effective `all` qualifier: the top record's, or its redirect target's.
    pub all: Option<spf::Qualifier>,
    /// Reasons a receiver would return `permerror` beyond the top record's own syntax.
    pub errors: Vec<String>,
    /// Lookups that failed (a receiver's `temperror`); the counts may then be low.
    pub failed: Vec<String>,
    /// Lookups the walk needs but the answers do not hold yet: (name, type).
    pub missing: Vec<(String, String)>,
    /// The walk stopped at [`MAX_DEPTH`] or [`MAX_QUERIES`]; the counts are lower bounds.
    pub bound_reached: bool,
}

/// Walks the SPF tree of `domain`, whose own SPF record text is `record`.
pub fn walk(domain: &str, record: &spf::SpfRecord, answers: Answers<'_>) -> SpfWalk {
    let mut walker = Walker {
        answers,
        asked: BTreeSet::new(),
        out: SpfWalk::default(),
    };
    let domain = normalise(domain);
    let mut path = vec![domain.clone()];
    walker.out.all = walker.record(&domain, record, &mut path);
    walker.out
}

struct Walker<'a> {
    answers: Answers<'a>,
    asked: BTreeSet<(String, String)>,
    out: SpfWalk,
}

impl Walker<'_> {
    /// The answer for (name, type), noting it as missing or the bound as reached when there is
    /// none.
    fn ask(&mut self, name: &str, record_type: &str) -> Option<DnsOutcome> {
        let key = (name.to_string(), record_type.to_string());
        if !self.asked.contains(&key) {
            if self.asked.len() >= MAX_QUERIES {
                self.out.bound_reached = true;
                return None;
            }
            self.asked.insert(key.clone());
        }
        match (self.answers)(name, record_type) {
            Some(DnsOutcome::Failed { error }) => {
                self.out
                    .failed
                    .push(format!("{record_type} lookup of {name} failed: {error}"));
                None
            }
            Some(outcome) => Some(outcome),
            None => {
                if !self.out.missing.contains(&key) {
                    self.out.missing.push(key);
                }
                None
            }
        }
    }

    /// Counts a lookup of (name, type) as void when it returned no records.
    fn void_check(&mut self, name: &str, record_types: &[&str]) {
        let outcomes: Vec<Option<DnsOutcome>> =
            record_types.iter().map(|t| self.ask(name, t)).collect();
        if outcomes.iter().all(|o| is_void(o.as_ref())) {
            self.out.void_lookup_count += 1;
        }
    }

    /// Evaluates one record; returns its effective `all`.
    fn record(
        &mut self,
        domain: &str,
        record: &spf::SpfRecord,
        path: &mut Vec<String>,
    ) -> Option<spf::Qualifier> {
        for directive in &record.directives {
            let mechanism = &directive.mechanism;
            if mechanism.queries_dns() {
                self.out.dns_lookup_count += 1;
            }
            let target = |spec: &Option<String>| {
                spec.as_deref()
                    .map_or_else(|| domain.to_string(), normalise)
            };
            match mechanism {
                spf::Mechanism::All => return Some(directive.qualifier),
                spf::Mechanism::Include(spec) => {
                    if !spf::has_macro(spec) {
                        self.follow(&normalise(spec), path, "include");
                    }
                }
                spf::Mechanism::A(spec) => {
                    let name = target(spec);
                    if !spf::has_macro(&name) {
                        self.void_check(&name, &["A", "AAAA"]);
                    }
                }
                spf::Mechanism::Mx(spec) => {
                    let name = target(spec);
                    if !spf::has_macro(&name) {
                        self.void_check(&name, &["MX"]);
                    }
                }
                spf::Mechanism::Exists(spec) => {
                    if !spf::has_macro(spec) {
                        self.void_check(&normalise(spec), &["A"]);
                    }
                }
                spf::Mechanism::Ptr(_) => self.out.uses_ptr = true,
                spf::Mechanism::Ip4(_) | spf::Mechanism::Ip6(_) => {}
            }
        }
        let redirect = record.redirect.as_deref()?;
        self.out.dns_lookup_count += 1;
        if spf::has_macro(redirect) {
            return None;
        }
        self.follow(&normalise(redirect), path, "redirect")
    }

    /// Follows an `include` or `redirect` to `domain`; returns the target's effective `all`.
    fn follow(
        &mut self,
        domain: &str,
        path: &mut Vec<String>,
        how: &str,
    ) -> Option<spf::Qualifier> {
        if path.iter().any(|p| p == domain) {
            self.out.loop_found = true;
            self.out.errors.push(format!(
                "{how}:{domain} loops back ({} → {domain})",
                path.join(" → ")
            ));
            return None;
        }
        if path.len() > MAX_DEPTH {
            self.out.bound_reached = true;
            return None;
        }
        self.out.includes.push(domain.to_string());
        let outcome = self.ask(domain, "TXT")?;
        if is_void(Some(&outcome)) {
            self.out.void_lookup_count += 1;
        }
        let records: Vec<String> = txt_texts(&outcome)
            .into_iter()
            .filter(|t| spf::is_spf(t))
            .collect();
        match records.as_slice() {
            [] => {
                self.out
                    .errors
                    .push(format!("{how}:{domain} has no SPF record"));
                None
            }
            [text] => {
                let record = spf::parse(text);
                if let Some(first) = record.errors.first() {
                    self.out
                        .errors
                        .push(format!("{how}:{domain} has a syntax error: {first}"));
                }
                path.push(domain.to_string());
                let all = self.record(domain, &record, path);
                path.pop();
                all
            }
            many => {
                self.out
                    .errors
                    .push(format!("{how}:{domain} has {} SPF records", many.len()));
                None
            }
        }
    }
}

/// Whether an outcome is a void lookup (RFC 7208 section 4.6.4).
fn is_void(outcome: Option<&DnsOutcome>) -> bool {
    match outcome {
        Some(DnsOutcome::NoRecords { .. }) => true,
        Some(DnsOutcome::Answer { records }) => records.is_empty(),
        _ => false,
    }
}

/// Lower-case, no trailing dot: the form lookups are recorded under.
pub fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A zone as (name, type) → TXT texts or other records; anything not listed is NXDOMAIN.
    struct Zone(BTreeMap<(String, String), DnsOutcome>);

    impl Zone {
        fn new(entries: &[(&str, &str, &[&str])]) -> Self {
            let mut map = BTreeMap::new();
            for (name, record_type, records) in entries {
                let records = records
                    .iter()
                    .map(|r| {
                        if *record_type == "TXT" {
                            crate::evidence::txt::quote([r.as_bytes()])
                        } else {
                            (*r).to_string()
                        }
                    })
                    .collect();
                map.insert(
                    ((*name).to_string(), (*record_type).to_string()),
                    DnsOutcome::Answer { records },
                );
            }
            Self(map)
        }

        fn walk(&self, domain: &str) -> SpfWalk {
            let lookup = |name: &str, record_type: &str| {
                Some(
                    self.0
                        .get(&(name.to_string(), record_type.to_string()))
                        .cloned()
                        .unwrap_or(DnsOutcome::NoRecords {
                            rcode: "NXDOMAIN".into(),
                        }),
                )
            };
            let texts = txt_texts(&lookup(domain, "TXT").unwrap());
            let text = texts.iter().find(|t| spf::is_spf(t)).unwrap();
            walk(domain, &spf::parse(text), &lookup)
        }
    }

    #[test]
    fn counts_nested_includes_and_follows_redirect_for_all() {
        let zone = Zone::new(&[
            (
                "d.test",
                "TXT",
                &["v=spf1 mx a include:one.test redirect=r.test"],
            ),
            ("d.test", "MX", &["10 mx.d.test."]),
            ("d.test", "A", &["192.0.2.1"]),
            (
                "one.test",
                "TXT",
                &["v=spf1 include:two.test ip4:192.0.2.0/24 ?all"],
            ),
            ("two.test", "TXT", &["v=spf1 exists:x.two.test ptr ~all"]),
            ("x.two.test", "A", &["127.0.0.2"]),
            ("r.test", "TXT", &["v=spf1 -all"]),
        ]);
        let walk = zone.walk("d.test");
        assert_eq!(walk.dns_lookup_count, 7, "{walk:?}");
        assert_eq!(walk.void_lookup_count, 0);
        assert!(walk.uses_ptr && !walk.loop_found);
        assert_eq!(walk.includes, ["one.test", "two.test", "r.test"]);
        assert_eq!(walk.all, Some(spf::Qualifier::Fail));
        assert!(walk.errors.is_empty() && walk.missing.is_empty());
    }

    #[test]
    fn voids_loops_and_missing_records() {
        let zone = Zone::new(&[
            (
                "d.test",
                "TXT",
                &[
                    "v=spf1 a:gone1.test mx:gone2.test exists:gone3.test include:loop.test include:none.test -all",
                ],
            ),
            ("loop.test", "TXT", &["v=spf1 include:d.test -all"]),
            ("none.test", "TXT", &["just text"]),
        ]);
        let walk = zone.walk("d.test");
        assert_eq!(walk.void_lookup_count, 3);
        assert!(walk.loop_found);
        assert_eq!(walk.dns_lookup_count, 6);
        assert!(
            walk.errors
                .iter()
                .any(|e| e.contains("none.test has no SPF record"))
        );
        assert!(
            walk.errors
                .iter()
                .any(|e| e.contains("d.test → loop.test → d.test"))
        );
    }

    #[test]
    fn reports_missing_answers_and_stops_at_the_bound() {
        let empty = |_: &str, _: &str| None;
        let record = spf::parse("v=spf1 include:a.test mx -all");
        let walk = walk("d.test", &record, &empty);
        assert_eq!(
            walk.missing,
            [
                ("a.test".to_string(), "TXT".to_string()),
                ("d.test".to_string(), "MX".to_string())
            ]
        );
        // A chain of 40 includes: the walk stops at the depth bound.
        let mut entries: Vec<(String, String, Vec<String>)> = Vec::new();
        for i in 0..40 {
            entries.push((
                format!("n{i}.test"),
                "TXT".into(),
                vec![format!("v=spf1 include:n{}.test -all", i + 1)],
            ));
        }
        let borrowed: Vec<(&str, &str, Vec<&str>)> = entries
            .iter()
            .map(|(n, t, r)| {
                (
                    n.as_str(),
                    t.as_str(),
                    r.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        let slices: Vec<(&str, &str, &[&str])> = borrowed
            .iter()
            .map(|(n, t, r)| (*n, *t, r.as_slice()))
            .collect();
        let walk = Zone::new(&slices).walk("n0.test");
        assert!(walk.bound_reached);
        assert!(walk.dns_lookup_count > LOOKUP_LIMIT);
        assert!(walk.includes.len() <= MAX_DEPTH + 1);
    }

    #[test]
    fn macros_count_but_are_not_looked_up() {
        let empty = |_: &str, _: &str| None;
        let record = spf::parse("v=spf1 exists:%{i}._spf.%{d} include:%{d}.x.test -all");
        let walk = walk("d.test", &record, &empty);
        assert_eq!(walk.dns_lookup_count, 2);
        assert!(walk.missing.is_empty());
    }
}
