//! pingora's own error responses, answered as the gateway's JSON errors instead.
//!
//! pingora answers a few requests before any hook of the gateway runs, with a bare error and no body: a request
//! head it cannot parse (bad syntax, an unknown HTTP version, an invalid or repeated `Content-Length`, two
//! `Host` headers) gets `400 Bad Request`, and `CONNECT` gets `405`; then it closes the connection. Such a head
//! carries `Server: Pingora` and `Content-Length: 0`, and never `X-Request-Id`, which the gateway puts on every
//! response that went through its hooks (the upstream's answers and its own errors alike). That is how
//! [`recognise`] tells pingora's answers from an upstream's bare error, even an upstream that is itself a
//! pingora proxy. The connection wrapper ([`super::preface::Replayed`]) swaps such a head, as it is written,
//! for [`response`]: the same status and `Date`, and a JSON error in the live policy's envelope, so a client
//! that sent a broken request learns what to fix like every other rejected client.

use std::sync::Arc;

use imgate_core::decision::Rejection;

use super::events::{EventSink, RequestEvent};

/// Renders a rejection's JSON body with its request id.
type RenderBody = dyn Fn(&Rejection, &str) -> Vec<u8> + Send + Sync;

/// How the gateway answers a request refused before any hook ran: the live policy's envelope renders the JSON
/// body, and the event sink counts it (`/metrics`) like every other answered request.
#[derive(Clone)]
pub struct Refusals {
    render: Arc<RenderBody>,
    events: Arc<dyn EventSink>,
}

impl Refusals {
    /// `render` gives a rejection's JSON body with its request id (the live policy's error envelope).
    pub fn new(
        render: impl Fn(&Rejection, &str) -> Vec<u8> + Send + Sync + 'static,
        events: Arc<dyn EventSink>,
    ) -> Self {
        Refusals {
            render: Arc::new(render),
            events,
        }
    }

    /// The whole JSON error response for `rejection`, written in place of `canned` (status line and `Date`),
    /// with a fresh request id. Logged under `imgate::access` as `what` and counted as a finished request of
    /// `seconds` (no route, no method or path: the head was never understood).
    pub fn answer(
        &self,
        canned: &Canned<'_>,
        rejection: &Rejection,
        what: &str,
        seconds: f64,
    ) -> Vec<u8> {
        let request_id = super::middleware::new_request_id();
        tracing::info!(
            target: "imgate::access",
            status = canned.status,
            decision = %rejection.code,
            request_id = %request_id,
            "{what}"
        );
        self.events.request_finished(&RequestEvent {
            request_id: &request_id,
            method: "-",
            path: "-",
            route: "-",
            route_kind: "default",
            enforced: false,
            status: canned.status,
            decision: &rejection.code,
            account: None,
            categories: &[],
            masked_fields: &[],
            body_bytes: None,
            marked: None,
            upstream_error: None,
            total_seconds: seconds,
            upstream_seconds: None,
        });
        response(canned, &(self.render)(rejection, &request_id), &request_id)
    }
}

/// A pingora error response found in a write.
#[derive(Debug, PartialEq, Eq)]
pub struct Canned<'a> {
    pub status: u16,
    pub reason: &'a str,
    pub date: Option<&'a [u8]>,
}

/// The longest head [`recognise`] reads: pingora's are about 170 bytes.
const MAX_HEAD: usize = 512;

/// Whether `written` is exactly one pingora error response head (and nothing else): an error status, `Server:
/// Pingora`, `Content-Length: 0`, no `X-Request-Id`, and no headers besides `Date`, `Cache-Control` and
/// `Connection`. Everything the gateway writes passes here, so the common case returns at the first bytes.
pub fn recognise(written: &[u8]) -> Option<Canned<'_>> {
    if written.len() > MAX_HEAD
        || !written.starts_with(b"HTTP/1.")
        || !written.ends_with(b"\r\n\r\n")
        || !matches!(written.get(9), Some(b'4' | b'5'))
    {
        return None;
    }
    let mut headers = [httparse::EMPTY_HEADER; 8];
    let mut head = httparse::Response::new(&mut headers);
    match head.parse(written) {
        Ok(httparse::Status::Complete(n)) if n == written.len() => {}
        _ => return None,
    }
    let status = head.code.filter(|s| (400..600).contains(s))?;
    let (mut pingora, mut empty, mut date) = (false, false, None);
    for h in head.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("server") {
            pingora = h.value == b"Pingora";
        } else if name.eq_ignore_ascii_case("content-length") {
            empty = h.value == b"0";
        } else if name.eq_ignore_ascii_case("date") {
            date = Some(h.value);
        } else if !(name.eq_ignore_ascii_case("cache-control")
            || name.eq_ignore_ascii_case("connection"))
        {
            return None;
        }
    }
    (pingora && empty).then(|| Canned {
        status,
        reason: head.reason.unwrap_or(""),
        date,
    })
}

/// What the client is told instead of pingora's bare status.
pub fn rejection(status: u16) -> Rejection {
    match status {
        400 => Rejection::new(
            400,
            "request.malformed",
            "The request head is not valid HTTP/1.1: check the request line and its HTTP version, the header \
             names and values, and that Content-Length and Host appear once, with valid values.",
        ),
        405 => Rejection::new(
            405,
            "request.method_not_allowed",
            "CONNECT is not served by this gateway: send the request itself (GET, POST, ...) to it.",
        ),
        s if s >= 500 => Rejection::new(
            s,
            "gateway.internal",
            "The gateway failed to handle the request; retry later.",
        ),
        s => Rejection::new(
            s,
            "request.refused",
            "The gateway refused the request before reading it; check that it is a valid HTTP request.",
        ),
    }
}

/// The whole response that replaces `canned`: its status line and `Date`, a JSON `body`, and `Connection:
/// close` (pingora closes the connection after its error either way).
pub fn response(canned: &Canned<'_>, body: &[u8], request_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(itoa::Buffer::new().format(canned.status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(canned.reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    if let Some(date) = canned.date {
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(date);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Type: application/json\r\nContent-Length: ");
    out.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
    out.extend_from_slice(b"\r\nCache-Control: no-store\r\nX-Request-Id: ");
    out.extend_from_slice(request_id.as_bytes());
    out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A head as pingora writes it for `respond_error(status)` on a connection it then closes.
    fn pingora_head(status: u16) -> Vec<u8> {
        let mut resp = pingora::protocols::http::error_resp::gen_error_response(status);
        resp.insert_header("connection", "close").expect("header");
        let mut buf = Vec::new();
        resp.header_to_h1_wire(&mut buf);
        let mut wire = format!("HTTP/1.1 {}\r\n", resp.status).into_bytes();
        wire.extend_from_slice(&buf);
        wire.extend_from_slice(b"\r\n");
        wire
    }

    #[test]
    fn pingoras_own_error_heads_are_recognised() {
        for status in [400, 405, 500] {
            let head = pingora_head(status);
            let canned = recognise(&head)
                .unwrap_or_else(|| panic!("not recognised: {}", String::from_utf8_lossy(&head)));
            assert_eq!(canned.status, status);
            assert_eq!(
                canned.date,
                Some(&b"Sun, 06 Nov 1994 08:49:37 GMT"[..]),
                "{}",
                String::from_utf8_lossy(&head)
            );
        }
        let seen = b"HTTP/1.1 400 Bad Request\r\nServer: Pingora\r\nDate: Sun, 06 Dec 2026 14:31:31 GMT\r\n\
                     Content-Length: 0\r\nCache-Control: private, no-store\r\nConnection: close\r\n\r\n";
        let canned = recognise(seen).expect("the head seen on the wire");
        assert_eq!((canned.status, canned.reason), (400, "Bad Request"));
    }

    #[test]
    fn every_other_head_is_left_alone() {
        let base = "HTTP/1.1 400 Bad Request\r\nServer: Pingora\r\nContent-Length: 0\r\n\r\n";
        assert!(recognise(base.as_bytes()).is_some());
        let others = [
            // a response that went through the gateway's hooks
            "HTTP/1.1 400 Bad Request\r\nServer: Pingora\r\nContent-Length: 0\r\nX-Request-Id: r1\r\n\r\n",
            // the upstream's own error, with a body or other headers
            "HTTP/1.1 400 Bad Request\r\nServer: Pingora\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\nServer: Pingora\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
            // not an error, not a whole head, or a head with a body after it
            "HTTP/1.1 200 OK\r\nServer: Pingora\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\nServer: Pingora\r\nContent-Length: 0\r\n",
            "HTTP/1.1 400 Bad Request\r\nServer: Pingora\r\nContent-Length: 0\r\n\r\n\r\n\r\n",
            "{\"HTTP/1.1 400\"}",
            "",
        ];
        for head in others {
            assert!(recognise(head.as_bytes()).is_none(), "{head:?}");
        }
        let long = format!(
            "HTTP/1.1 400 Bad Request\r\nServer: Pingora\r\nContent-Length: 0\r\nConnection: {}\r\n\r\n",
            "x".repeat(MAX_HEAD)
        );
        assert!(recognise(long.as_bytes()).is_none());
    }

    #[test]
    fn the_replacement_is_a_framed_json_error_with_the_same_status_and_date() {
        let head = pingora_head(400);
        let canned = recognise(&head).expect("recognised");
        let body = br#"{"error":{"code":"request.malformed"}}"#;
        let out = response(&canned, body, "req-1");
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut parsed = httparse::Response::new(&mut headers);
        let Ok(httparse::Status::Complete(n)) = parsed.parse(&out) else {
            panic!("not a whole head: {}", String::from_utf8_lossy(&out));
        };
        assert_eq!(
            (parsed.code, parsed.reason),
            (Some(400), Some("Bad Request"))
        );
        let get = |name: &str| {
            parsed
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.value.to_vec())
        };
        assert_eq!(
            get("content-length"),
            Some(body.len().to_string().into_bytes())
        );
        assert_eq!(get("content-type"), Some(b"application/json".to_vec()));
        assert_eq!(get("x-request-id"), Some(b"req-1".to_vec()));
        assert_eq!(get("connection"), Some(b"close".to_vec()));
        assert_eq!(get("date"), Some(b"Sun, 06 Nov 1994 08:49:37 GMT".to_vec()));
        assert_eq!(get("server"), None);
        assert_eq!(out.get(n..), Some(&body[..]));
        // It is never taken for pingora's again.
        assert!(recognise(&out).is_none());
    }

    #[test]
    fn every_status_gets_a_stable_code_and_a_message() {
        assert_eq!(rejection(400).code, "request.malformed");
        assert_eq!(rejection(405).code, "request.method_not_allowed");
        assert_eq!(rejection(502).code, "gateway.internal");
        assert_eq!(rejection(431).code, "request.refused");
        for s in [400, 405, 431, 500] {
            assert_eq!(rejection(s).status, s);
            assert!(!rejection(s).message.is_empty());
        }
    }
}
