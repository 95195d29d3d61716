//! A strict SPF record parser (RFC 7208 section 4.6 and 7, the ABNF of section 12).
//!
//! It reads one record's text (the TXT strings already joined) and returns every term it
//! understood together with every syntax error, each with the column it starts at, so a report can
//! point at `inclde:` rather than just say "invalid". It never resolves anything: the recursive
//! lookup counting lives in [`super::spf_walk`]. It never panics, whatever the input.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A result qualifier (RFC 7208 section 4.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    /// `+` (the default).
    Pass,
    /// `-`.
    Fail,
    /// `~`.
    SoftFail,
    /// `?`.
    Neutral,
}

impl Qualifier {
    /// The qualifier as written before `all` (`+all`, `-all`, `~all`, `?all`).
    pub fn with_all(self) -> &'static str {
        match self {
            Self::Pass => "+all",
            Self::Fail => "-all",
            Self::SoftFail => "~all",
            Self::Neutral => "?all",
        }
    }
}

/// A mechanism with its arguments (RFC 7208 section 5). Domain specs are kept as written; they
/// may hold macros, which only a receiver with a sender address can expand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    /// `all`.
    All,
    /// `include:domain-spec`.
    Include(String),
    /// `a[:domain-spec][/cidr][//cidr6]`.
    A(Option<String>),
    /// `mx[:domain-spec][/cidr][//cidr6]`.
    Mx(Option<String>),
    /// `ptr[:domain-spec]` (deprecated by RFC 7208 section 5.5).
    Ptr(Option<String>),
    /// `ip4:network[/cidr]`.
    Ip4(String),
    /// `ip6:network[/cidr]`.
    Ip6(String),
    /// `exists:domain-spec`.
    Exists(String),
}

impl Mechanism {
    /// Whether evaluating this mechanism costs one of the ten DNS-querying terms (section 4.6.4).
    pub fn queries_dns(&self) -> bool {
        matches!(
            self,
            Self::Include(_) | Self::A(_) | Self::Mx(_) | Self::Ptr(_) | Self::Exists(_)
        )
    }
}

/// A qualifier and a mechanism.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The qualifier (`+` when none was written).
    pub qualifier: Qualifier,
    /// The mechanism.
    pub mechanism: Mechanism,
}

/// A syntax error and the 1-based column (in characters) of the term it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Column of the offending term in the record.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

/// One parsed record: what was understood, and every problem found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpfRecord {
    /// The directives, in order.
    pub directives: Vec<Directive>,
    /// The `redirect=` domain spec.
    pub redirect: Option<String>,
    /// The `exp=` domain spec.
    pub exp: Option<String>,
    /// Names of modifiers this parser does not know (allowed and ignored by receivers).
    pub unknown_modifiers: Vec<String>,
    /// Syntax errors; any one makes a receiver return `permerror`.
    pub errors: Vec<SyntaxError>,
    /// Legal but pointless constructs (terms after `all`, `redirect` next to `all`).
    pub warnings: Vec<String>,
}

impl SpfRecord {
    /// The `all` directive's qualifier, if the record has one.
    pub fn all(&self) -> Option<Qualifier> {
        self.directives
            .iter()
            .find(|d| d.mechanism == Mechanism::All)
            .map(|d| d.qualifier)
    }
}

/// Whether a TXT record's text is an SPF record: `v=spf1` alone or followed by a space
/// (section 4.5; `v=spf10` is not one). Case-insensitive.
pub fn is_spf(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 6
        && bytes[..6].eq_ignore_ascii_case(b"v=spf1")
        && (bytes.len() == 6 || bytes[6] == b' ')
}

/// Whether a domain spec holds a macro (`%{…}`), which only a receiver can expand.
pub fn has_macro(spec: &str) -> bool {
    spec.contains("%{")
}

/// Parses one record. The text must start with `v=spf1` ([`is_spf`]); otherwise the result
/// holds one error.
pub fn parse(text: &str) -> SpfRecord {
    let mut record = SpfRecord::default();
    if !is_spf(text) {
        record.errors.push(SyntaxError {
            column: 1,
            message: "the record does not start with `v=spf1`".into(),
        });
        return record;
    }
    let mut seen_all = false;
    for (column, term) in terms(text).skip(1) {
        let mut error = |message: String| record.errors.push(SyntaxError { column, message });
        if let Some(bad) = term.chars().find(|c| !matches!(c, '\x21'..='\x7e')) {
            error(format!(
                "`{}` holds the character {bad:?}",
                term.escape_debug()
            ));
            continue;
        }
        if seen_all {
            record.warnings.push(format!(
                "column {column}: `{term}` comes after `all` and is never used"
            ));
        }
        match modifier_name(term) {
            Some((name, value)) => match name.to_ascii_lowercase().as_str() {
                "redirect" | "exp" => {
                    let lower = name.to_ascii_lowercase();
                    if let Err(message) = check_domain_spec(value) {
                        error(format!("`{lower}=`: {message}"));
                        continue;
                    }
                    let slot = if lower == "redirect" {
                        &mut record.redirect
                    } else {
                        &mut record.exp
                    };
                    if slot.is_some() {
                        error(format!("`{lower}=` appears more than once"));
                    } else {
                        *slot = Some(value.to_string());
                    }
                }
                _ => match check_macro_string(value) {
                    Ok(()) => record.unknown_modifiers.push(name.to_string()),
                    Err(message) => error(format!("modifier `{name}=`: {message}")),
                },
            },
            None => match parse_directive(term) {
                Ok(directive) => {
                    seen_all |= directive.mechanism == Mechanism::All;
                    record.directives.push(directive);
                }
                Err(message) => error(message),
            },
        }
    }
    if record.redirect.is_some() && record.all().is_some() {
        record
            .warnings
            .push("`redirect=` is ignored because the record has `all`".into());
    }
    record
}

/// The space-separated terms with their 1-based columns (the version first).
fn terms(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut column = 0;
    text.split(' ').filter_map(move |term| {
        let start = column;
        column += term.chars().count() + 1;
        (!term.is_empty()).then_some((start + 1, term))
    })
}

/// `name=value` when the term is a modifier (a name, then `=`).
fn modifier_name(term: &str) -> Option<(&str, &str)> {
    let (name, value) = term.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    .then_some((name, value))
}

fn parse_directive(term: &str) -> Result<Directive, String> {
    let (qualifier, rest) = match term.as_bytes().first() {
        Some(b'+') => (Qualifier::Pass, &term[1..]),
        Some(b'-') => (Qualifier::Fail, &term[1..]),
        Some(b'~') => (Qualifier::SoftFail, &term[1..]),
        Some(b'?') => (Qualifier::Neutral, &term[1..]),
        _ => (Qualifier::Pass, term),
    };
    let name_end = rest.find([':', '/']).unwrap_or(rest.len());
    let (name, args) = rest.split_at(name_end);
    let lower = name.to_ascii_lowercase();
    let mechanism = match lower.as_str() {
        "all" => {
            if !args.is_empty() {
                return Err(format!("`all` takes no argument (`{term}`)"));
            }
            Mechanism::All
        }
        "include" | "exists" => {
            let spec = args
                .strip_prefix(':')
                .ok_or_else(|| format!("`{lower}` needs `:domain` (`{term}`)"))?;
            check_domain_spec(spec).map_err(|m| format!("`{lower}:`: {m}"))?;
            if lower == "include" {
                Mechanism::Include(spec.to_string())
            } else {
                Mechanism::Exists(spec.to_string())
            }
        }
        "a" | "mx" => {
            let spec = split_dual_cidr(args).map_err(|m| format!("`{lower}`: {m}"))?;
            let domain = optional_spec(spec, &lower)?;
            if lower == "a" {
                Mechanism::A(domain)
            } else {
                Mechanism::Mx(domain)
            }
        }
        "ptr" => Mechanism::Ptr(optional_spec(args, "ptr")?),
        "ip4" => {
            let network = args
                .strip_prefix(':')
                .ok_or_else(|| format!("`ip4` needs `:address` (`{term}`)"))?;
            let (address, prefix) = split_prefix(network);
            address
                .parse::<Ipv4Addr>()
                .map_err(|_| format!("`{address}` is not an IPv4 address"))?;
            if let Some(prefix) = prefix {
                check_cidr(prefix, 32)?;
            }
            Mechanism::Ip4(network.to_string())
        }
        "ip6" => {
            let network = args
                .strip_prefix(':')
                .ok_or_else(|| format!("`ip6` needs `:address` (`{term}`)"))?;
            let (address, prefix) = split_prefix(network);
            address
                .parse::<Ipv6Addr>()
                .map_err(|_| format!("`{address}` is not an IPv6 address"))?;
            if let Some(prefix) = prefix {
                check_cidr(prefix, 128)?;
            }
            Mechanism::Ip6(network.to_string())
        }
        "" => return Err(format!("`{term}` has no mechanism")),
        other => return Err(format!("unknown mechanism `{other}`")),
    };
    Ok(Directive {
        qualifier,
        mechanism,
    })
}

/// `[:domain-spec]` of `a`, `mx` and `ptr`.
fn optional_spec(args: &str, name: &str) -> Result<Option<String>, String> {
    if args.is_empty() {
        return Ok(None);
    }
    let spec = args
        .strip_prefix(':')
        .ok_or_else(|| format!("`{name}` is followed by `{args}`, not `:domain`"))?;
    check_domain_spec(spec).map_err(|m| format!("`{name}:`: {m}"))?;
    Ok(Some(spec.to_string()))
}

/// Checks the CIDR suffix of `[:domain-spec][/cidr4][//cidr6]` and returns the domain part.
fn split_dual_cidr(args: &str) -> Result<&str, String> {
    let mut rest = args;
    if let Some(index) = rest.rfind("//") {
        let digits = &rest[index + 2..];
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            check_cidr(digits, 128)?;
            rest = &rest[..index];
        }
    }
    if let Some(index) = rest.rfind('/') {
        let digits = &rest[index + 1..];
        if digits.bytes().all(|b| b.is_ascii_digit()) && !rest[..index].ends_with('/') {
            check_cidr(digits, 32)?;
            rest = &rest[..index];
        }
    }
    if rest.contains('/') && !has_macro(rest) {
        return Err(format!("`{args}` has a malformed CIDR length"));
    }
    Ok(rest)
}

fn split_prefix(network: &str) -> (&str, Option<&str>) {
    match network.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (network, None),
    }
}

/// A CIDR length: `0` or digits without a leading zero, at most `max`.
fn check_cidr(digits: &str, max: u32) -> Result<(), String> {
    let ok = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && digits.len() <= 3
        && digits.parse::<u32>().is_ok_and(|n| n <= max);
    if ok {
        Ok(())
    } else {
        Err(format!("`/{digits}` is not a CIDR length from 0 to {max}"))
    }
}

/// `domain-spec = macro-string domain-end` (section 7.1 and 12).
fn check_domain_spec(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("empty domain".into());
    }
    check_macro_string(spec)?;
    if spec.ends_with('}') {
        return Ok(()); // domain-end is a macro-expand
    }
    let trimmed = spec.strip_suffix('.').unwrap_or(spec);
    let Some((before, top)) = trimmed.rsplit_once('.') else {
        return Err(format!("`{spec}` is not a fully qualified domain name"));
    };
    if !is_toplabel(top) {
        return Err(format!(
            "`{top}` is not a valid top-level label in `{spec}`"
        ));
    }
    if !has_macro(before) {
        if before.split('.').any(str::is_empty) {
            return Err(format!("`{spec}` has an empty label"));
        }
        if let Some(long) = before.split('.').find(|l| l.len() > 63) {
            return Err(format!("label `{long}` is longer than 63 characters"));
        }
    }
    Ok(())
}

/// `toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )`.
fn is_toplabel(label: &str) -> bool {
    let bytes = label.as_bytes();
    if bytes.is_empty() || bytes.len() > 63 {
        return false;
    }
    if bytes.iter().all(u8::is_ascii_alphanumeric) {
        return bytes.iter().any(u8::is_ascii_alphabetic);
    }
    bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

/// `macro-string = *( macro-expand / macro-literal )`; `c`, `r` and `t` are only allowed in
/// explanation strings, never in a record (section 7.2).
fn check_macro_string(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => match bytes.get(i + 1) {
                Some(b'%' | b'_' | b'-') => i += 2,
                Some(b'{') => {
                    let close = text[i..]
                        .find('}')
                        .ok_or_else(|| format!("unterminated macro in `{text}`"))?;
                    let inner = &text[i + 2..i + close];
                    check_macro_expand(inner).map_err(|m| format!("macro `%{{{inner}}}`: {m}"))?;
                    i += close + 1;
                }
                _ => return Err(format!("stray `%` in `{text}` (write `%%`)")),
            },
            0x21..=0x7e => i += 1,
            other => return Err(format!("byte 0x{other:02x} is not allowed in `{text}`")),
        }
    }
    Ok(())
}

/// `macro-letter transformers *delimiter`.
fn check_macro_expand(inner: &str) -> Result<(), String> {
    let mut chars = inner.chars();
    let letter = chars.next().ok_or("no macro letter")?;
    match letter.to_ascii_lowercase() {
        's' | 'l' | 'o' | 'd' | 'i' | 'p' | 'h' | 'v' => {}
        'c' | 'r' | 't' => return Err(format!("`{letter}` is only allowed in explanation text")),
        other => return Err(format!("`{other}` is not a macro letter")),
    }
    let rest = chars.as_str();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0
        && rest[..digits]
            .parse::<u32>()
            .map_or(true, |n| n == 0 || n > 128)
    {
        return Err("the label count must be from 1 to 128".into());
    }
    let mut rest = &rest[digits..];
    if let Some(stripped) = rest.strip_prefix(['r', 'R']) {
        rest = stripped;
    }
    match rest
        .chars()
        .find(|c| !matches!(c, '.' | '-' | '+' | ',' | '/' | '_' | '='))
    {
        Some(bad) => Err(format!("`{bad}` is not a delimiter")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> SpfRecord {
        let record = parse(text);
        assert!(record.errors.is_empty(), "{text}: {:?}", record.errors);
        record
    }

    fn bad(text: &str) -> Vec<SyntaxError> {
        let record = parse(text);
        assert!(!record.errors.is_empty(), "{text} should not parse");
        record.errors
    }

    // Records from RFC 7208 (sections 1, 5, 7.4, 8, appendix A and D) and common real-world forms.
    const VALID: &[&str] = &[
        "v=spf1",
        "v=spf1 -all",
        "v=spf1 +all",
        "v=spf1 ?all",
        "v=spf1 ~all",
        "V=SPF1 MX -ALL",
        "v=spf1 mx -all",
        "v=spf1 -ptr +all",
        "v=spf1 a mx -all",
        "v=spf1 a -all",
        "v=spf1 a:example.org -all",
        "v=spf1 mx:example.org -all",
        "v=spf1 mx/30 mx:example.org/30 -all",
        "v=spf1 ptr -all",
        "v=spf1 ip4:192.0.2.128/28 -all",
        "v=spf1 ip4:192.0.2.1 ip6:2001:db8::/32 -all",
        "v=spf1 ip6:2001:db8::1 -all",
        "v=spf1 ip6:::1/128 -all",
        "v=spf1 a/24 a:offsite.example/24 -all",
        "v=spf1 a//64 mx/24//64 -all",
        "v=spf1 include:example.com include:example.net -all",
        "v=spf1 include:_spf.google.com ~all",
        "v=spf1 include:spf.protection.outlook.com -all",
        "v=spf1 redirect=_spf.example.com",
        "v=spf1 mx -all exp=explain._spf.%{d}",
        "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
        "v=spf1 exists:%{i}._spf.%{d} -all",
        "v=spf1 include:%{ir}.%{v}.%{d}.spf.example.com -all",
        "v=spf1 mx:%{d}/24 -all",
        "v=spf1 a:%{d} -all",
        "v=spf1 -include:ip4._spf.%{d} -include:ptr._spf.%{d} +all",
        "v=spf1 exists:%{l1r+}.%{d}",
        "v=spf1 exists:%{i}.%{h}._spf.example.test",
        "v=spf1 ip4:10.0.0.0/8 ip4:172.16.0.0/12 ip4:192.168.0.0/16 -all",
        "v=spf1 ip4:0.0.0.0/0 -all",
        "v=spf1 a:mail.example.com. -all",
        "v=spf1 include:spf-1.example.com -all",
        "v=spf1 include:example.123-4 -all",
        "v=spf1 moo.cow=foo -all",
        "v=spf1 foo=%{d} -all",
        "v=spf1   mx   -all   ",
        "v=spf1 ?include:example.com ~mx +a -all",
        "v=spf1 ip4:192.0.2.0/24 include:_spf.example.net redirect=_spf.example.org",
        "v=spf1 exists:%%.%_.%-.example.com -all",
    ];

    const INVALID: &[(&str, &str)] = &[
        (
            "v=spf1 inclde:example.com -all",
            "unknown mechanism `inclde`",
        ),
        ("v=spf1 include -all", "needs `:domain`"),
        ("v=spf1 include: -all", "empty domain"),
        ("v=spf1 include:localhost -all", "fully qualified"),
        ("v=spf1 include:example.123 -all", "top-level label"),
        ("v=spf1 include:example..com -all", "empty label"),
        ("v=spf1 ip4:192.0.2.256 -all", "not an IPv4"),
        ("v=spf1 ip4:192.0.2.0/33 -all", "0 to 32"),
        ("v=spf1 ip4:192.0.2.0/024 -all", "0 to 32"),
        ("v=spf1 ip4 -all", "needs `:address`"),
        ("v=spf1 ip6:2001:db8::/129 -all", "0 to 128"),
        ("v=spf1 ip6:192.0.2.1 -all", "not an IPv6"),
        ("v=spf1 a/33 -all", "0 to 32"),
        ("v=spf1 mx//129 -all", "0 to 128"),
        ("v=spf1 all:example.com", "takes no argument"),
        ("v=spf1 -all/24", "takes no argument"),
        (
            "v=spf1 redirect=a.example redirect=b.example",
            "more than once",
        ),
        ("v=spf1 exp=a.example exp=b.example -all", "more than once"),
        ("v=spf1 exists:%{x}.example.com -all", "not a macro letter"),
        ("v=spf1 exists:%{c}.example.com -all", "explanation"),
        ("v=spf1 exists:%{i0}.example.com -all", "label count"),
        ("v=spf1 exists:%{i}.example.com% -all", "stray `%`"),
        ("v=spf1 exists:%{i.example.com -all", "unterminated"),
        ("v=spf1 exists:%{d1!}.example.com -all", "not a delimiter"),
        ("v=spf1 +-all", "unknown mechanism `-all`"),
        ("v=spf1 1a -all", "unknown mechanism `1a`"),
        ("v=spf1 a:exa\u{e9}mple.com -all", "character"),
        ("v=spf1 \t-all", "character"),
        ("v=spf1 ptr:example.com/24 -all", "top-level label"),
        ("v=spf10 -all", "does not start"),
        ("spf1 -all", "does not start"),
        ("v=spf1 foo=%z -all", "stray `%`"),
        ("v=spf1 + -all", "no mechanism"),
    ];

    #[test]
    fn rfc_and_real_world_records_parse() {
        for text in VALID {
            ok(text);
        }
    }

    #[test]
    fn malformed_records_name_the_problem() {
        for (text, expected) in INVALID {
            let errors = bad(text);
            assert!(
                errors.iter().any(|e| e.message.contains(expected)),
                "{text}: expected `{expected}` in {errors:?}"
            );
        }
    }

    #[test]
    fn errors_carry_the_column_of_the_term() {
        let errors = bad("v=spf1 mx inclde:example.com ip4:1.2.3.999 -all");
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].column, 11);
        assert_eq!(errors[1].column, 30);
        assert_eq!(
            errors[0].to_string(),
            "column 11: unknown mechanism `inclde`"
        );
    }

    #[test]
    fn terms_are_understood() {
        let record = ok(
            "v=spf1 ~a:mail.example.com/24 mx ip4:192.0.2.0/24 include:_spf.example.net ?ptr -all redirect=x.example.org exp=why.example.org foo=bar",
        );
        assert_eq!(record.directives.len(), 6);
        assert_eq!(record.directives[0].qualifier, Qualifier::SoftFail);
        assert_eq!(
            record.directives[0].mechanism,
            Mechanism::A(Some("mail.example.com".into()))
        );
        assert_eq!(record.directives[1].mechanism, Mechanism::Mx(None));
        assert_eq!(
            record.directives[3].mechanism,
            Mechanism::Include("_spf.example.net".into())
        );
        assert_eq!(record.directives[4].mechanism, Mechanism::Ptr(None));
        assert_eq!(record.all(), Some(Qualifier::Fail));
        assert_eq!(record.redirect.as_deref(), Some("x.example.org"));
        assert_eq!(record.exp.as_deref(), Some("why.example.org"));
        assert_eq!(record.unknown_modifiers, ["foo"]);
        assert_eq!(record.warnings.len(), 4, "{:?}", record.warnings);
        assert_eq!(
            record
                .directives
                .iter()
                .filter(|d| d.mechanism.queries_dns())
                .count(),
            4
        );
    }

    #[test]
    fn recognises_spf_records() {
        assert!(is_spf("v=spf1"));
        assert!(is_spf("V=Spf1 -all"));
        assert!(!is_spf("v=spf10"));
        assert!(!is_spf("v=spf1-all"));
        assert!(!is_spf(" v=spf1 -all"));
        assert!(!is_spf("v=DMARC1; p=none"));
        assert_eq!(Qualifier::SoftFail.with_all(), "~all");
    }

    #[test]
    fn random_input_never_panics() {
        let alphabet = "v=spf1 %{}:/.-+~?_ailnmxpdr0123456789é\t\"=ABC"
            .chars()
            .collect::<Vec<_>>();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 60) as usize;
            let mut text = String::from(if state.is_multiple_of(3) {
                ""
            } else {
                "v=spf1 "
            });
            let mut s = state;
            for _ in 0..len {
                s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                text.push(alphabet[(s >> 33) as usize % alphabet.len()]);
            }
            let _ = parse(&text);
        }
    }
}
