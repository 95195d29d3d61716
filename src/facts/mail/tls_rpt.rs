//! SMTP TLS Reporting records (RFC 8460 section 3): `v=TLSRPTv1; rua=URI[,URI]` at
//! `_smtp._tls.DOMAIN`, where each URI is `mailto:` or `https:`.

use super::tags;

/// Whether TXT text is a TLS-RPT record (starts with `v=TLSRPTv1`).
pub fn is_record(text: &str) -> bool {
    tags::parse(text)
        .tags
        .first()
        .is_some_and(|t| t.name == "v" && t.value == "TLSRPTv1")
}

/// The reporting URIs of a valid record, or the syntax errors.
pub fn parse(text: &str) -> Result<Vec<String>, Vec<String>> {
    let list = tags::parse(text);
    let mut errors = list.errors.clone();
    errors.extend(
        list.duplicates
            .iter()
            .map(|d| format!("tag `{d}` appears more than once")),
    );
    let mut rua = Vec::new();
    match list.get("rua") {
        None => errors.push("the required tag `rua` is missing".into()),
        Some(value) => {
            for uri in value.split(',').map(str::trim) {
                match url::Url::parse(uri) {
                    Ok(parsed) if matches!(parsed.scheme(), "mailto" | "https") => {
                        rua.push(uri.to_string());
                    }
                    _ => errors.push(format!("`{uri}` is not a mailto: or https: URI")),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(rua)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_examples() {
        assert!(is_record("v=TLSRPTv1; rua=mailto:reports@example.com"));
        assert_eq!(
            parse("v=TLSRPTv1; rua=mailto:reports@example.com").unwrap(),
            ["mailto:reports@example.com"]
        );
        assert_eq!(
            parse("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt,mailto:r@example.com")
                .unwrap()
                .len(),
            2
        );
        assert!(parse("v=TLSRPTv1;").is_err());
        assert!(parse("v=TLSRPTv1; rua=http://insecure.example.com/").is_err());
        assert!(!is_record("v=TLSRPTv2; rua=mailto:a@b.example"));
    }
}
