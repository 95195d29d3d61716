//! The vendored end-of-life table: for a few server products, each release series with the
//! date its security support ended (or ends). Versions are judged against the audit's own date,
//! so re-evaluating old evidence gives the same answer.
//!
//! The table is data, dated [`EOL_TABLE_DATE`]: a series it lists as supported may have ended
//! since. Sources: the vendors' release and support pages (nginx.org, httpd.apache.org,
//! php.net/supported-versions, openssl-library.org/policies/releasestrat, Microsoft's
//! lifecycle pages for the Windows Server release that ships each IIS version, nodejs.org's
//! release schedule) as collected by endoflife.date. OpenSSH has no support policy of its own
//! and distributions patch it without changing its version: a series counts as ended when the
//! last major distribution release shipping it (RHEL 5, 6, 7) left standard support.

/// When the table was compiled (ISO date).
pub const EOL_TABLE_DATE: &str = "2025-06-01";

/// One release series: its version prefix and when its support ended (`None`: supported when
/// the table was compiled).
type Cycle = (&'static str, Option<&'static str>);

/// Products by the lower-case name they carry in banners (`nginx/1.18.0` → `nginx`).
const TABLE: &[(&str, &[Cycle])] = &[
    (
        "nginx",
        &[
            ("1.29", None),
            ("1.28", None),
            ("1.27", Some("2025-04-23")),
            ("1.26", Some("2025-04-23")),
            ("1.25", Some("2024-04-23")),
            ("1.24", Some("2024-04-23")),
            ("1.23", Some("2023-04-11")),
            ("1.22", Some("2023-04-11")),
            ("1.21", Some("2022-05-24")),
            ("1.20", Some("2022-05-24")),
            ("1.19", Some("2021-05-25")),
            ("1.18", Some("2021-05-25")),
            ("1.17", Some("2020-04-21")),
            ("1.16", Some("2020-04-21")),
            ("1.15", Some("2019-04-23")),
            ("1.14", Some("2019-04-23")),
        ],
    ),
    (
        "apache",
        &[
            ("2.4", None),
            ("2.2", Some("2017-07-11")),
            ("2.0", Some("2013-07-10")),
            ("1.3", Some("2010-02-03")),
        ],
    ),
    (
        "php",
        &[
            ("8.4", Some("2028-12-31")),
            ("8.3", Some("2027-12-31")),
            ("8.2", Some("2026-12-31")),
            ("8.1", Some("2025-12-31")),
            ("8.0", Some("2023-11-26")),
            ("7.4", Some("2022-11-28")),
            ("7.3", Some("2021-12-06")),
            ("7.2", Some("2020-11-30")),
            ("7.1", Some("2019-12-01")),
            ("7.0", Some("2019-01-10")),
            ("5.6", Some("2018-12-31")),
            ("5.5", Some("2016-07-21")),
            ("5.4", Some("2015-09-03")),
            ("5.3", Some("2014-08-14")),
        ],
    ),
    (
        "openssl",
        &[
            ("3.5", Some("2030-04-08")),
            ("3.4", Some("2026-10-22")),
            ("3.3", Some("2026-04-09")),
            ("3.2", Some("2025-11-23")),
            ("3.1", Some("2025-03-14")),
            ("3.0", Some("2026-09-07")),
            ("1.1.1", Some("2023-09-11")),
            ("1.1.0", Some("2019-09-11")),
            ("1.0.2", Some("2019-12-31")),
            ("1.0.1", Some("2016-12-31")),
            ("1.0.0", Some("2015-12-31")),
            ("0.9.8", Some("2015-12-31")),
        ],
    ),
    (
        "microsoft-iis",
        &[
            ("10.0", None),
            ("8.5", Some("2023-10-10")),
            ("8.0", Some("2023-10-10")),
            ("7.5", Some("2020-01-14")),
            ("7.0", Some("2020-01-14")),
            ("6.0", Some("2015-07-14")),
        ],
    ),
    (
        "openssh",
        &[
            ("10", None),
            ("9", None),
            ("8", None),
            ("7", Some("2024-06-30")),
            ("6", Some("2020-11-30")),
            ("5", Some("2017-03-31")),
        ],
    ),
    (
        "node",
        &[
            ("24", Some("2028-04-30")),
            ("23", Some("2025-06-01")),
            ("22", Some("2027-04-30")),
            ("21", Some("2024-06-01")),
            ("20", Some("2026-04-30")),
            ("19", Some("2023-06-01")),
            ("18", Some("2025-04-30")),
            ("16", Some("2023-09-11")),
            ("14", Some("2023-04-30")),
            ("12", Some("2022-04-30")),
            ("10", Some("2021-04-30")),
        ],
    ),
];

/// The verdict for one product version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EolVerdict {
    /// Support had ended on the audit date.
    pub end_of_life: bool,
    /// The series' end-of-support date, when the table has one.
    pub eol_date: Option<String>,
    /// The series matched (`1.18`), or `None` when the version is older than every listed one.
    pub cycle: Option<String>,
}

/// The numeric components at the start of a version (`1.0.2k-fips` → `[1, 0, 2]`,
/// `9.6p1` → `[9, 6]`).
pub fn components(version: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in version.split('.') {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        match digits.parse() {
            Ok(n) => out.push(n),
            Err(_) => break,
        }
        if digits.len() != part.len() {
            break;
        }
    }
    out
}

/// Judges `version` of `product` on `today` (ISO date); `None` when the product is not in the
/// table, the version has no number, or it falls between listed series.
pub fn judge(product: &str, version: &str, today: &str) -> Option<EolVerdict> {
    let cycles = TABLE.iter().find(|(name, _)| *name == product)?.1;
    let have = components(version);
    if have.is_empty() {
        return None;
    }
    let matched = cycles
        .iter()
        .filter(|(cycle, _)| {
            let want = components(cycle);
            have.len() >= want.len() && have[..want.len()] == want[..]
        })
        .max_by_key(|(cycle, _)| components(cycle).len());
    if let Some((cycle, eol)) = matched {
        return Some(EolVerdict {
            end_of_life: eol.is_some_and(|date| date <= today),
            eol_date: eol.map(str::to_string),
            cycle: Some((*cycle).to_string()),
        });
    }
    let oldest = cycles.iter().map(|(c, _)| components(c)).min()?;
    let newest = cycles.iter().map(|(c, _)| components(c)).max()?;
    if have < oldest {
        Some(EolVerdict {
            end_of_life: true,
            eol_date: None,
            cycle: None,
        })
    } else if have > newest {
        Some(EolVerdict {
            end_of_life: false,
            eol_date: None,
            cycle: None,
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_judged_on_the_audit_date() {
        let old = judge("nginx", "1.14.0", "2026-01-15").unwrap();
        assert!(old.end_of_life);
        assert_eq!(old.eol_date.as_deref(), Some("2019-04-23"));
        assert!(!judge("nginx", "1.28.0", "2026-01-15").unwrap().end_of_life);
        // PHP 8.1 ended on 2025-12-31: supported the day before, not after.
        assert!(!judge("php", "8.1.2", "2025-12-30").unwrap().end_of_life);
        assert!(judge("php", "8.1.2", "2026-01-15").unwrap().end_of_life);
        assert!(
            judge("openssl", "1.0.2k-fips", "2026-01-15")
                .unwrap()
                .end_of_life
        );
        assert!(!judge("openssh", "9.6p1", "2026-01-15").unwrap().end_of_life);
    }

    #[test]
    fn older_than_the_table_is_ended_newer_is_not_unknown_is_none() {
        let ancient = judge("nginx", "0.7.65", "2026-01-15").unwrap();
        assert!(ancient.end_of_life && ancient.cycle.is_none());
        assert!(!judge("php", "9.0.0", "2026-01-15").unwrap().end_of_life);
        assert_eq!(judge("varnish", "6.0", "2026-01-15"), None);
        assert_eq!(judge("nginx", "", "2026-01-15"), None);
        assert_eq!(judge("apache", "2.3.1", "2026-01-15"), None);
    }

    #[test]
    fn table_is_sorted_newest_first_with_iso_dates() {
        for (product, cycles) in TABLE {
            for pair in cycles.windows(2) {
                let (a, b) = (components(pair[0].0), components(pair[1].0));
                // OpenSSL 3.x series are listed by release; the rest newest first.
                if *product != "openssl" {
                    assert!(a > b, "{product}: {} before {}", pair[0].0, pair[1].0);
                }
            }
            for (_, date) in cycles.iter() {
                if let Some(date) = date {
                    assert!(humantime::parse_rfc3339(&format!("{date}T00:00:00Z")).is_ok());
                }
            }
        }
        assert_eq!(components("1.0.2k-fips"), [1, 0, 2]);
        assert_eq!(components("9.6p1"), [9, 6]);
    }
}
