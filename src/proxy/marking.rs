//! Response marking on `mark` routes: buffer the upstream's JSON, let the policy core set
//! the verified-publisher marker on every selected account, and send the result with
//! truthful framing.
//!
//! Safe behaviour when marking is impossible (documented in conf/imgate.toml):
//! - a compressed body (the upstream ignored our `Accept-Encoding: identity`) or a
//!   declared `Content-Length` over the limit: the response is replaced by a 502 JSON error;
//! - a body that grows over the limit, or does not parse as JSON: through the gateway's own
//!   exchange ([`Framing::Length`], see `super::exchange`) nothing has been sent yet, so
//!   the client gets a 502 JSON error; on pingora's streaming path ([`Framing::Chunked`])
//!   the response header has already gone out, so the response is aborted (the client
//!   sees a truncated, invalid response, never un-marked accounts).
//!
//! Non-JSON responses, HEAD, 1xx, 204 and 304 are passed through (HEAD and 304 lose their
//! length and validators, which would describe the un-marked body).

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderName};
use imgate_core::decision::Rejection;
use imgate_core::envelope::EnvelopeSpec;
use imgate_core::mark::{MarkError, MarkRule, MarkedBody};
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::{Error, ErrorType, Result};
use std::borrow::Cow;

use super::headers::present;

/// Request headers that would let the upstream answer with something other than the
/// full, uncompressed representation the gateway must rewrite.
const UNMARKABLE_REQUEST_HEADERS: [HeaderName; 6] = [
    header::ACCEPT_ENCODING,
    header::RANGE,
    header::IF_RANGE,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::IF_MATCH,
];

/// Response headers that describe the upstream's bytes, not the marked ones.
const STALE_RESPONSE_HEADERS: [HeaderName; 6] = [
    header::CONTENT_LENGTH,
    header::ETAG,
    header::LAST_MODIFIED,
    header::ACCEPT_RANGES,
    HeaderName::from_static("content-md5"),
    HeaderName::from_static("digest"),
];

/// How a marked body goes to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Streamed by pingora's proxy path, whose header leaves before the body is read:
    /// chunked (close-delimited for HTTP/1.0).
    Chunked,
    /// Sent whole by the gateway's own exchange, with a `Content-Length` the caller sets
    /// once the body is marked.
    Length,
}

/// Where a marked response is.
#[derive(Debug, Default)]
pub enum MarkState {
    /// Not marking this response.
    #[default]
    Off,
    /// Collecting the upstream body.
    Buffering { body: BytesMut, limit: usize },
    /// The response was replaced by this error body, of the rejection with this code (what the access log,
    /// the audit log and the metrics record: the code the client received).
    Replaced {
        body: Bytes,
        code: Cow<'static, str>,
    },
}

/// Asks the upstream for the whole, uncompressed, unconditional representation.
pub fn prepare_upstream_request(request: &mut RequestHeader) -> Result<()> {
    for name in present(&request.headers, &UNMARKABLE_REQUEST_HEADERS) {
        request.remove_header(&name);
    }
    request.insert_header("accept-encoding", "identity")?;
    Ok(())
}

/// What a replaced response needs to say and how it is framed.
pub struct Answer<'a> {
    pub envelope: &'a EnvelopeSpec,
    pub request_id: &'a str,
    pub framing: Framing,
}

/// Decides, from the response header, whether and how to mark; fixes the header.
pub fn on_response_header(
    rule: &MarkRule,
    response: &mut ResponseHeader,
    request: &RequestHeader,
    path_param: Option<&str>,
    approved: &dyn Fn(&str) -> bool,
    answer: Answer<'_>,
) -> Result<MarkState> {
    let Answer {
        envelope,
        request_id,
        framing,
    } = answer;
    if let Some(name) = rule.header() {
        // Only the gateway may say who is verified.
        response.remove_header(name);
    }
    let status = response.status.as_u16();
    let is_head = request.method == http::Method::HEAD;
    if (100..200).contains(&status) {
        return Ok(MarkState::Off);
    }
    if is_head || status == 204 || status == 304 {
        for name in present(&response.headers, &STALE_RESPONSE_HEADERS) {
            if name != header::CONTENT_LENGTH || is_head {
                response.remove_header(&name);
            }
        }
        return Ok(MarkState::Off);
    }
    if !is_json(response) {
        return Ok(MarkState::Off);
    }
    let limit = usize::try_from(rule.max_body()).unwrap_or(usize::MAX);
    let encoded = response
        .headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .any(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
    let declared = response
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let failure = if encoded {
        Some(Rejection::new(
            502,
            "mark.encoded_response",
            "the upstream sent a compressed response that the gateway must not pass un-marked; try again later",
        ))
    } else if declared.is_some_and(|len| len > limit) {
        Some(too_large())
    } else {
        None
    };
    let http10 = request.version == http::Version::HTTP_10;
    for name in present(&response.headers, &STALE_RESPONSE_HEADERS) {
        response.remove_header(&name);
    }
    response.remove_header("transfer-encoding");
    if framing == Framing::Chunked && !http10 {
        response.insert_header("transfer-encoding", "chunked")?;
    }
    if let Some(rejection) = failure {
        let body = envelope.render(&rejection, Some(request_id));
        response.set_status(rejection.status)?;
        response.remove_header("content-encoding");
        response.insert_header("content-type", "application/json")?;
        response.insert_header("cache-control", "no-store")?;
        if framing == Framing::Length {
            response.insert_header("content-length", body.len().to_string())?;
        }
        tracing::warn!(code = %rejection.code, "replaced an unmarkable upstream response");
        return Ok(MarkState::Replaced {
            body: Bytes::from(body),
            code: rejection.code,
        });
    }
    if let (Some(name), Some(id)) = (rule.header(), path_param) {
        let value = if approved(id) { "true" } else { "false" };
        response.insert_header(name.to_owned(), value)?;
    }
    Ok(MarkState::Buffering {
        body: BytesMut::with_capacity(declared.unwrap_or(16 * 1024).min(limit)),
        limit,
    })
}

/// Handles one chunk of the upstream body: nothing goes out until the end, then the
/// marked document, returning (approved, total) marked accounts. An error aborts the
/// response.
pub fn on_body_chunk(
    state: &mut MarkState,
    rule: &MarkRule,
    chunk: &mut Option<Bytes>,
    end_of_stream: bool,
    path_param: Option<&str>,
    approved: &dyn Fn(&str) -> bool,
) -> Result<Option<(usize, usize)>> {
    match state {
        MarkState::Off => Ok(None),
        MarkState::Replaced { body, .. } => {
            *chunk = end_of_stream.then(|| body.clone());
            Ok(None)
        }
        MarkState::Buffering { body, limit } => {
            if let Some(data) = chunk.take() {
                if body.len() + data.len() > *limit {
                    return Err(abort(
                        "mark.response_too_large: the upstream body grew over the marking limit",
                    ));
                }
                body.extend_from_slice(&data);
            }
            if !end_of_stream {
                return Ok(None);
            }
            let original = std::mem::take(body).freeze();
            let (marked, counts) = mark_whole(rule, original, path_param, approved)
                .map_err(|e| abort(&format!("{}: cannot mark the upstream JSON: {e}", e.code())))?;
            *chunk = Some(marked);
            *state = MarkState::Off;
            Ok(Some(counts))
        }
    }
}

/// Marks a whole upstream body: the marked bytes (the original ones, not a copy, when
/// nothing changed) and (approved, total) marked accounts.
pub fn mark_whole(
    rule: &MarkRule,
    original: Bytes,
    path_param: Option<&str>,
    approved: &dyn Fn(&str) -> bool,
) -> std::result::Result<(Bytes, (usize, usize)), MarkError> {
    let mut ask = |id: &str| approved(id);
    let marked = rule.apply(&original, path_param, &mut ask)?;
    let counts = (marked.approved, marked.marked);
    let body = match marked.body {
        MarkedBody::Unchanged => original,
        MarkedBody::Rewritten(bytes) => Bytes::from(bytes),
    };
    Ok((body, counts))
}

/// The client's answer when the whole upstream body is over the marking limit.
pub fn too_large() -> Rejection {
    Rejection::new(
        502,
        "mark.response_too_large",
        "the upstream response is too large to mark; request fewer items",
    )
}

/// The client's answer when the upstream body cannot be marked (not JSON, too deep, ...).
pub fn unmarkable(e: MarkError) -> Rejection {
    tracing::warn!(code = e.code(), error = %e, "refused an unmarkable upstream response");
    Rejection::new(
        502,
        e.code(),
        "the upstream response could not be marked, so it is not shown; try again later",
    )
}

fn abort(why: &str) -> Box<Error> {
    tracing::warn!(reason = why, "aborting an unmarkable response");
    Error::explain(ErrorType::HTTPStatus(502), why.to_owned())
}

fn is_json(response: &ResponseHeader) -> bool {
    let Some(value) = response.headers.get(http::header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}
