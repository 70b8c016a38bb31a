//! The request header the gateway sends upstream when it owns the exchange: the client's
//! header with the hop-by-hop fields removed and the framing of the body it forwards.
//!
//! This mirrors what pingora's proxy path does with its default
//! `HttpUpstreamRequestPolicy` (strip the standard hop-by-hop fields and the fields the
//! `Connection` header nominates, refuse nominations that are not tokens or that name a
//! forwarding header), so a request reaches the upstream the same way on both paths.

use http::header::{self, HeaderName};
use http::Version;
use pingora::http::RequestHeader;

use crate::proxy::headers::present;
use pingora::{Error, ErrorType, Result};

/// Hop-by-hop fields (RFC 9110 section 7.6.1) and their legacy relatives: they describe
/// the client's connection to the gateway, not the request.
const HOP_BY_HOP: [HeaderName; 10] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    HeaderName::from_static("http2-settings"),
];

/// Fields a `Connection` nomination may not remove: the upstream relies on them to know
/// which host was asked for and who asked.
const PROTECTED: [&str; 4] = [
    "host",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
];

/// More nominations than this is an attack on the parser, not a real client.
const MAX_NOMINATIONS: usize = 32;

/// Removes what must not travel upstream and sets HTTP/1.1. Errors are the client's
/// (a malformed `Connection` header), tagged as downstream errors.
pub fn sanitize(request: &mut RequestHeader) -> Result<()> {
    let nominated = nominations(request)?;
    for name in nominated {
        request.remove_header(&name);
    }
    for name in present(&request.headers, &HOP_BY_HOP) {
        request.remove_header(&name);
    }
    request.set_version(Version::HTTP_11);
    Ok(())
}

/// Frames the forwarded body: its exact length, or none for a request without a body.
/// Called after every other header change, as pingora frames after its filters.
pub fn frame(request: &mut RequestHeader, body: Option<usize>) -> Result<()> {
    request.remove_header(&header::TRANSFER_ENCODING);
    match body {
        Some(len) => {
            request.insert_header(header::CONTENT_LENGTH, len.to_string())?;
        }
        None => {
            request.remove_header(&header::CONTENT_LENGTH);
        }
    }
    Ok(())
}

fn nominations(request: &RequestHeader) -> Result<Vec<HeaderName>> {
    let mut names = Vec::new();
    let tokens = request
        .headers
        .get_all(header::CONNECTION)
        .iter()
        .flat_map(|value| value.as_bytes().split(|b| *b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|token| !token.is_empty());
    for token in tokens {
        if names.len() >= MAX_NOMINATIONS {
            return invalid("too many Connection header nominations");
        }
        if !token.iter().all(|b| is_tchar(*b)) {
            return invalid("invalid token nominated by the Connection header");
        }
        let Ok(name) = HeaderName::from_bytes(token) else {
            return invalid("invalid token nominated by the Connection header");
        };
        if PROTECTED.contains(&name.as_str()) {
            return invalid("protected header cannot be nominated by the Connection header");
        }
        names.push(name);
    }
    Ok(names)
}

fn invalid<T>(why: &'static str) -> Result<T> {
    Err(Error::explain(ErrorType::InvalidHTTPHeader, why).into_down())
}

/// RFC 9110 section 5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> RequestHeader {
        let mut r = RequestHeader::build("POST", b"/api/v1/posts", None).expect("request");
        r.set_version(Version::HTTP_10);
        for (k, v) in headers {
            r.append_header(k.to_string(), *v).expect("header");
        }
        r
    }

    #[test]
    fn hop_by_hop_fields_are_removed_and_the_version_is_1_1() {
        let mut r = request(&[
            ("host", "im.example"),
            ("connection", "keep-alive"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("proxy-authorization", "Basic eA=="),
            ("authorization", "Bearer t"),
        ]);
        sanitize(&mut r).expect("sanitize");
        for gone in [
            "connection",
            "keep-alive",
            "te",
            "transfer-encoding",
            "proxy-authorization",
        ] {
            assert!(!r.headers.contains_key(gone), "{gone} kept");
        }
        assert_eq!(
            r.headers.get("authorization").map(|v| v.as_bytes()),
            Some(&b"Bearer t"[..])
        );
        assert_eq!(
            r.headers.get("host").map(|v| v.as_bytes()),
            Some(&b"im.example"[..])
        );
        assert_eq!(r.version, Version::HTTP_11);
    }

    #[test]
    fn nominated_fields_are_removed() {
        let mut r = request(&[
            ("connection", "close, X-Secret"),
            ("connection", "x-other"),
            ("x-secret", "1"),
            ("x-other", "2"),
            ("x-kept", "3"),
        ]);
        sanitize(&mut r).expect("sanitize");
        assert!(!r.headers.contains_key("x-secret"));
        assert!(!r.headers.contains_key("x-other"));
        assert!(r.headers.contains_key("x-kept"));
    }

    #[test]
    fn malformed_or_protected_nominations_are_refused() {
        for value in [
            "\"x-forwarded-for\"",
            "host",
            "X-Forwarded-Proto",
            "a b",
            ":authority",
        ] {
            let mut r = request(&[("connection", value)]);
            let e = sanitize(&mut r).expect_err(value);
            assert_eq!(e.etype(), &ErrorType::InvalidHTTPHeader, "{value}");
        }
        let many = vec!["x"; MAX_NOMINATIONS + 1].join(",");
        assert!(sanitize(&mut request(&[("connection", many.as_str())])).is_err());
    }

    #[test]
    fn framing_is_the_forwarded_length() {
        let mut r = request(&[("transfer-encoding", "chunked")]);
        frame(&mut r, Some(12)).expect("frame");
        assert_eq!(
            r.headers.get("content-length").map(|v| v.as_bytes()),
            Some(&b"12"[..])
        );
        assert!(!r.headers.contains_key("transfer-encoding"));
        let mut r = request(&[("content-length", "0")]);
        frame(&mut r, None).expect("frame");
        assert!(!r.headers.contains_key("content-length"));
    }
}
