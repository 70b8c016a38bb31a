//! Response plumbing: the body type, JSON and error responses, and small header helpers.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use hyper::body::{Body, Frame, SizeHint};

/// Frame size used when a response is sent chunked, so a large body really arrives as several
/// chunks (what a gateway's re-framing code must cope with).
const CHUNK_SIZE: usize = 4096;

/// `application/json`, the only content type the JSON API produces.
pub fn application_json() -> HeaderValue {
    HeaderValue::from_static("application/json")
}

/// The response type of every handler.
pub type Resp = Response<DemoBody>;

/// An in-memory response body that is sent either with `Content-Length` (one frame, exact size
/// hint) or, on request, with chunked transfer encoding (unknown size, several frames).
#[derive(Debug, Default)]
pub struct DemoBody {
    data: Bytes,
    chunked: bool,
}

impl DemoBody {
    pub fn new(data: Bytes) -> Self {
        DemoBody {
            data,
            chunked: false,
        }
    }

    /// Hides the length from hyper, which then frames an HTTP/1.1 response as chunked.
    pub fn into_chunked(self) -> Self {
        DemoBody {
            chunked: true,
            ..self
        }
    }
}

impl Body for DemoBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.data.is_empty() {
            return Poll::Ready(None);
        }
        let n = if this.chunked {
            CHUNK_SIZE.min(this.data.len())
        } else {
            this.data.len()
        };
        Poll::Ready(Some(Ok(Frame::data(this.data.split_to(n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        if self.chunked {
            SizeHint::default()
        } else {
            SizeHint::with_exact(self.data.len() as u64)
        }
    }
}

/// A JSON response.
pub fn json(status: StatusCode, body: impl Into<Bytes>) -> Resp {
    let mut resp = Response::new(DemoBody::new(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, application_json());
    resp
}

/// A JSON response rendered from a value.
pub fn json_value(status: StatusCode, value: &impl serde::Serialize) -> Resp {
    match serde_json::to_vec(value) {
        Ok(body) => json(status, body),
        Err(err) => error(StatusCode::INTERNAL_SERVER_ERROR, &err.to_string()),
    }
}

/// The demo's error shape: `{"error": "<message>"}`.
pub fn error(status: StatusCode, message: &str) -> Resp {
    json_value(status, &serde_json::json!({ "error": message }))
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The value of a query parameter (percent-decoded), last occurrence winning.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .filter(|(key, _)| key == name)
        .last()
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert("authorization", HeaderValue::from_static("bearer  tok-1 "));
        assert_eq!(bearer_token(&headers), Some("tok-1"));
        headers.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), None);
        headers.insert("authorization", HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&headers), None);
    }

    #[test]
    fn query() {
        assert_eq!(
            query_param(Some("a=1&limit=5"), "limit").as_deref(),
            Some("5")
        );
        assert_eq!(
            query_param(Some("limit=1&limit=%32"), "limit").as_deref(),
            Some("2")
        );
        assert_eq!(query_param(None, "limit"), None);
    }
}
