//! Cacheable reads, served the way an old web server serves them: `ETag` and `Last-Modified`,
//! `If-None-Match` / `If-Modified-Since` (304), a single `Range` (206 / 416, guarded by
//! `If-Range`), and gzip on `Accept-Encoding`.
//!
//! These are exactly the behaviours that make a rewriting gateway leak un-rewritten bytes when it
//! forgets to drop the conditional headers, which is why the demo has them.
//!
//! Each encoding is its own representation with its own strong validator (`"<hash>"` or
//! `"<hash>-gzip"`), and a range is taken from the selected representation's bytes.

use std::ops::Range;
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{
    HeaderMap, HeaderValue, ACCEPT_ENCODING, ACCEPT_RANGES, CONTENT_ENCODING, CONTENT_RANGE,
    CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, LAST_MODIFIED, RANGE, VARY,
};
use http::{Method, Response, StatusCode};

use crate::doc::Doc;
use crate::http::{application_json, DemoBody, Resp};

/// Serves `doc` for a GET or HEAD with the request's `headers`.
pub fn serve(doc: &Doc, method: &Method, headers: &HeaderMap) -> Resp {
    let gzip = if accepts_gzip(headers) {
        doc.gzip()
    } else {
        None
    };
    let (body, etag) = match gzip {
        Some(gz) => (gz.clone(), format!("\"{:016x}-gzip\"", doc.hash())),
        None => (doc.body().clone(), format!("\"{:016x}\"", doc.hash())),
    };
    let last_modified = httpdate::fmt_http_date(doc.modified());

    let mut resp = Response::new(DemoBody::default());
    {
        let h = resp.headers_mut();
        // Both are built from hex digits and an HTTP date: always valid header values.
        if let Ok(value) = HeaderValue::from_str(&etag) {
            h.insert(ETAG, value);
        }
        if let Ok(value) = HeaderValue::from_str(&last_modified) {
            h.insert(LAST_MODIFIED, value);
        }
        h.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    }

    if not_modified(headers, &etag, doc.modified()) {
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        return resp;
    }

    {
        let h = resp.headers_mut();
        h.insert(CONTENT_TYPE, application_json());
        h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        if gzip.is_some() {
            h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
    }

    let range = if *method == Method::GET && if_range_holds(headers, &etag, doc.modified()) {
        headers
            .get(RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_range(v, body.len() as u64))
    } else {
        None
    };
    match range {
        None => {
            *resp.body_mut() = DemoBody::new(body);
        }
        Some(Ok(range)) => {
            *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
            let content_range = format!(
                "bytes {}-{}/{}",
                range.start,
                range.end.saturating_sub(1),
                body.len()
            );
            if let Ok(value) = HeaderValue::from_str(&content_range) {
                resp.headers_mut().insert(CONTENT_RANGE, value);
            }
            *resp.body_mut() = DemoBody::new(slice(&body, range));
        }
        Some(Err(Unsatisfiable)) => {
            *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            let content_range = format!("bytes */{}", body.len());
            let h = resp.headers_mut();
            h.remove(CONTENT_ENCODING);
            h.remove(CONTENT_TYPE);
            if let Ok(value) = HeaderValue::from_str(&content_range) {
                h.insert(CONTENT_RANGE, value);
            }
        }
    }
    resp
}

fn slice(body: &Bytes, range: Range<u64>) -> Bytes {
    // parse_range only yields ranges inside the body.
    let start = usize::try_from(range.start).unwrap_or(body.len());
    let end = usize::try_from(range.end).unwrap_or(body.len());
    body.slice(start.min(body.len())..end.min(body.len()))
}

/// Whether the client accepts gzip: an explicit `gzip`/`x-gzip` decides, else `*`; `q=0`
/// refuses.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut wildcard = None;
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q_ok = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .all(|q| q.trim().parse::<f32>().is_ok_and(|q| q > 0.0));
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                return q_ok;
            }
            if coding == "*" {
                wildcard = Some(q_ok);
            }
        }
    }
    wildcard.unwrap_or(false)
}

/// RFC 9110 §13.2.2: `If-None-Match` (weak comparison) decides when present; otherwise
/// `If-Modified-Since`.
fn not_modified(headers: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    if let Some(inm) = headers.get(IF_NONE_MATCH) {
        let Ok(inm) = inm.to_str() else { return false };
        return inm
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag);
    }
    headers
        .get(IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .is_some_and(|since| modified <= since)
}

/// `If-Range`: the range applies only if the client's copy is current (strong comparison for
/// an entity tag, exact match for a date).
fn if_range_holds(headers: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    let Some(value) = headers.get(IF_RANGE) else {
        return true;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let value = value.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        value == etag
    } else {
        httpdate::parse_http_date(value).is_ok_and(|date| date == modified)
    }
}

/// The range cannot be served from a body of this length (answer 416).
#[derive(Debug, PartialEq, Eq)]
struct Unsatisfiable;

/// Parses a single `bytes=` range against a body of `len` bytes. `None` means "ignore the
/// header and send everything" (another unit, several ranges, or a syntax error), as servers
/// may.
fn parse_range(value: &str, len: u64) -> Option<Result<Range<u64>, Unsatisfiable>> {
    let (unit, spec) = value.trim().split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return None;
    }
    let (first, last) = spec.trim().split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    if first.is_empty() {
        // Suffix range: the last n bytes.
        let n = number(last)?;
        if n == 0 || len == 0 {
            return Some(Err(Unsatisfiable));
        }
        return Some(Ok(len.saturating_sub(n)..len));
    }
    let start = number(first)?;
    let end = if last.is_empty() {
        None
    } else {
        Some(number(last)?)
    };
    if end.is_some_and(|end| end < start) {
        return None;
    }
    if start >= len {
        return Some(Err(Unsatisfiable));
    }
    let end = end.map_or(len, |end| end.saturating_add(1).min(len));
    Some(Ok(start..end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-4", 10), Some(Ok(0..5)));
        assert_eq!(parse_range("bytes=5-", 10), Some(Ok(5..10)));
        assert_eq!(parse_range("bytes=-3", 10), Some(Ok(7..10)));
        assert_eq!(parse_range("bytes=-30", 10), Some(Ok(0..10)));
        assert_eq!(parse_range("bytes=8-100", 10), Some(Ok(8..10)));
        assert_eq!(parse_range("bytes=10-", 10), Some(Err(Unsatisfiable)));
        assert_eq!(parse_range("bytes=-0", 10), Some(Err(Unsatisfiable)));
        assert_eq!(parse_range("bytes=5-4", 10), None);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), None);
        assert_eq!(parse_range("items=0-1", 10), None);
        assert_eq!(parse_range("bytes=a-1", 10), None);
        assert_eq!(parse_range("bytes=+1-2", 10), None);
    }

    #[test]
    fn gzip_negotiation() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT_ENCODING, HeaderValue::from_static(v));
            accepts_gzip(&h)
        };
        assert!(!accepts_gzip(&HeaderMap::new()));
        assert!(with("gzip"));
        assert!(with("br, GZIP;q=0.5"));
        assert!(!with("gzip;q=0"));
        assert!(!with("identity"));
        assert!(with("*"));
        assert!(!with("*, gzip;q=0"));
        assert!(!with("deflate, *;q=0"));
    }
}
