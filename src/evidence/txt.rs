//! How TXT record data is written in evidence: RFC 1035 presentation format, one quoted
//! character-string after another (`"v=spf1 ip4:192.0.2.0/24 " "-all"`).
//!
//! Keeping the strings apart (rather than joined, as hickory's `Display` does) lets the facts
//! layer check the per-string limits of SPF and DKIM offline. Inside quotes, `"` and `\` are
//! escaped with a backslash and bytes outside printable ASCII as `\DDD` (decimal), so any byte
//! string round-trips exactly.

/// Writes character-strings in presentation format.
pub fn quote<'a>(strings: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut out = String::new();
    for (index, bytes) in strings.into_iter().enumerate() {
        if index > 0 {
            out.push(' ');
        }
        out.push('"');
        for &byte in bytes {
            match byte {
                b'"' | b'\\' => {
                    out.push('\\');
                    out.push(char::from(byte));
                }
                0x20..=0x7e => out.push(char::from(byte)),
                other => out.push_str(&format!("\\{other:03}")),
            }
        }
        out.push('"');
    }
    out
}

/// Reads character-strings written by [`quote`] (or by hand in a fixture). `None` when the text is
/// not a sequence of quoted strings.
pub fn unquote(text: &str) -> Option<Vec<Vec<u8>>> {
    let bytes = text.as_bytes();
    let mut strings = Vec::new();
    let mut i = 0;
    loop {
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        if bytes[i] != b'"' {
            return None;
        }
        i += 1;
        let mut current = Vec::new();
        loop {
            match *bytes.get(i)? {
                b'"' => {
                    i += 1;
                    break;
                }
                b'\\' => {
                    let next = *bytes.get(i + 1)?;
                    if next.is_ascii_digit() {
                        let digits = bytes.get(i + 1..i + 4)?;
                        let text = std::str::from_utf8(digits).ok()?;
                        current.push(text.parse::<u8>().ok()?);
                        i += 4;
                    } else {
                        current.push(next);
                        i += 2;
                    }
                }
                other => {
                    current.push(other);
                    i += 1;
                }
            }
        }
        strings.push(current);
    }
    (!strings.is_empty()).then_some(strings)
}

/// The strings of a recorded TXT record joined into one text (lossy for invalid UTF-8), as SPF,
/// DMARC, DKIM, MTA-STS, TLS-RPT and BIMI read them. `None` when the record is not in
/// presentation format.
pub fn joined(record: &str) -> Option<String> {
    let strings = unquote(record)?;
    let bytes: Vec<u8> = strings.concat();
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_any_bytes() {
        let strings: Vec<&[u8]> = vec![b"v=spf1 ", b"a \"quoted\" \\ back", &[0, 9, 200, 255], b""];
        let text = quote(strings.iter().copied());
        assert_eq!(
            text,
            r#""v=spf1 " "a \"quoted\" \\ back" "\000\009\200\255" """#
        );
        let back = unquote(&text).unwrap();
        assert_eq!(back, strings.iter().map(|s| s.to_vec()).collect::<Vec<_>>());
        assert_eq!(joined(r#""v=spf1 " "-all""#).unwrap(), "v=spf1 -all");
    }

    #[test]
    fn rejects_what_is_not_quoted() {
        for text in [
            "",
            "v=spf1",
            "\"open",
            "\"a\" b",
            "\"\\",
            "\"\\12\"",
            "\"\\999\"",
        ] {
            assert_eq!(unquote(text), None, "{text}");
        }
    }
}
