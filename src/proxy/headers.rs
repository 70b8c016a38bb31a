//! Header-set helpers shared by the request and response edits.

use http::header::HeaderName;

/// The headers of `names` that `headers` holds. One pass over the few headers a message has,
/// comparing names (no hashing), instead of a removal per listed name: each removal parses and
/// hashes the name, and almost all of them find nothing.
pub(crate) fn present(headers: &http::HeaderMap, names: &[HeaderName]) -> Vec<HeaderName> {
    headers
        .keys()
        .filter(|k| names.contains(k))
        .cloned()
        .collect()
}

/// The tokens of every `Connection` field line, trimmed (RFC 9110 §7.6.1: the field's value is
/// the combination of all its lines).
pub(crate) fn connection_tokens(headers: &http::HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers
        .get_all(http::header::CONNECTION)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .map(<[u8]>::trim_ascii)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header;

    #[test]
    fn lists_each_present_name_once_per_value() {
        let mut h = http::HeaderMap::new();
        h.insert(header::ETAG, "x".parse().unwrap());
        h.append(header::RANGE, "a".parse().unwrap());
        h.append(header::RANGE, "b".parse().unwrap());
        h.insert(header::HOST, "h".parse().unwrap());
        let custom = HeaderName::from_static("digest");
        h.insert(custom.clone(), "d".parse().unwrap());
        let got = present(
            &h,
            &[header::RANGE, header::ETAG, custom.clone(), header::TE],
        );
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            got.contains(&header::RANGE) && got.contains(&header::ETAG) && got.contains(&custom)
        );
        assert!(present(&h, &[header::TE]).is_empty());
    }

    #[test]
    fn connection_tokens_come_from_every_line() {
        let mut h = http::HeaderMap::new();
        h.append(header::CONNECTION, "keep-alive, x-foo".parse().unwrap());
        h.append(header::CONNECTION, " close ".parse().unwrap());
        let got: Vec<&[u8]> = connection_tokens(&h).collect();
        assert_eq!(got, [&b"keep-alive"[..], b"x-foo", b"close"]);
    }
}
