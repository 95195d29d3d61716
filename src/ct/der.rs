//! Just enough DER to rebuild a precertificate's TBSCertificate: walk the top-level elements,
//! drop one extension, re-encode the lengths. Every read is bounds checked.

/// One DER element: tag byte, and the byte ranges of header and content within the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    /// The tag byte (single-byte tags only, as in X.509).
    pub tag: u8,
    /// The whole element, header included.
    pub raw: &'a [u8],
    /// The content.
    pub content: &'a [u8],
}

/// Malformed DER.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed DER: {0}")]
pub struct DerError(pub &'static str);

/// Reads the element at the start of `input`; returns it and the rest.
pub fn element(input: &[u8]) -> Result<(Element<'_>, &[u8]), DerError> {
    let (&tag, rest) = input.split_first().ok_or(DerError("empty input"))?;
    if tag & 0x1f == 0x1f {
        return Err(DerError("multi-byte tags are not used in certificates"));
    }
    let (&first, rest) = rest.split_first().ok_or(DerError("missing length"))?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return Err(DerError("bad length encoding"));
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (length, &rest[count..])
    };
    if rest.len() < length {
        return Err(DerError("content runs past the end"));
    }
    let header = input.len() - rest.len();
    Ok((
        Element {
            tag,
            raw: &input[..header + length],
            content: &rest[..length],
        },
        &rest[length..],
    ))
}

/// All elements in `input`, in order.
pub fn elements(mut input: &[u8]) -> Result<Vec<Element<'_>>, DerError> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (item, rest) = element(input)?;
        out.push(item);
        input = rest;
    }
    Ok(out)
}

/// Encodes `content` under `tag` with a minimal DER length.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The TBSCertificate `tbs` with every extension whose OID (DER content bytes) is `oid` removed.
pub fn remove_extension(tbs: &[u8], oid: &[u8]) -> Result<Vec<u8>, DerError> {
    let (sequence, _) = element(tbs)?;
    if sequence.tag != 0x30 {
        return Err(DerError("TBSCertificate is not a SEQUENCE"));
    }
    let mut content = Vec::with_capacity(tbs.len());
    for field in elements(sequence.content)? {
        if field.tag != 0xa3 {
            content.extend_from_slice(field.raw);
            continue;
        }
        let (list, _) = element(field.content)?;
        let mut kept = Vec::new();
        for extension in elements(list.content)? {
            let (extension_oid, _) = element(extension.content)?;
            if extension_oid.content != oid {
                kept.extend_from_slice(extension.raw);
            }
        }
        content.extend(encode(0xa3, &encode(0x30, &kept)));
    }
    Ok(encode(0x30, &content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_long_lengths() {
        assert_eq!(encode(0x04, &[1, 2]), [0x04, 2, 1, 2]);
        let long = encode(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let (parsed, rest) = element(&long).unwrap();
        assert_eq!((parsed.content.len(), rest.len()), (300, 0));
    }

    #[test]
    fn removes_one_extension() {
        let ext = |oid: &[u8]| encode(0x30, &[encode(0x06, oid), encode(0x04, &[9])].concat());
        let extensions = encode(0xa3, &encode(0x30, &[ext(&[1, 2]), ext(&[3, 4])].concat()));
        let tbs = encode(0x30, &[encode(0x02, &[5]), extensions].concat());
        let stripped = remove_extension(&tbs, &[3, 4]).unwrap();
        let expected = encode(
            0x30,
            &[
                encode(0x02, &[5]),
                encode(0xa3, &encode(0x30, &ext(&[1, 2]))),
            ]
            .concat(),
        );
        assert_eq!(stripped, expected);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x05, 1],
            &[0x1f, 0],
        ] {
            assert!(remove_extension(bytes, &[1]).is_err(), "{bytes:?}");
        }
    }
}
