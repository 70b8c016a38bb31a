//! The gateway's own upstream exchange on marking routes.
//!
//! Through pingora's streaming proxy path a rewritten body has to go out chunked: its
//! length is unknown when the response header leaves. pingora 0.9 flushes a header
//! without `Content-Length` at once, then each chunk and the terminator separately, so a
//! marked response costs three sends where a passthrough costs one or two. Here the
//! gateway sends the already inspected request on a pooled upstream connection itself,
//! reads the whole response, marks it and answers with a `Content-Length`: header and
//! body leave together. Two more things follow from owning the exchange: an HTTP/1.0
//! client keeps its connection on marked routes, and a body that turns out to be over the
//! limit or not JSON becomes a clean JSON error, because nothing has been sent yet.
//!
//! Only HTTP/1.x requests whose body is already known (inspected by the route's rules,
//! or absent) and that ask for no protocol upgrade come here (see [`eligible`]); any
//! other request on a marking route keeps pingora's path, which marks with chunked
//! framing.

pub(crate) mod request;

use bytes::{Bytes, BytesMut};
use pingora::connectors::http::v1::Connector;
use pingora::http::ResponseHeader;
use pingora::protocols::http::v1::client::HttpSession;
use pingora::proxy::Session;
use pingora::upstreams::peer::HttpPeer;
use pingora::{ErrorType, Result};

/// A stale pooled connection (the upstream closed it while idle) fails on first use; an
/// idempotent request that failed that way is sent again (see [`may_retry`]).
const MAX_ATTEMPTS: usize = 3;

/// Whether a request that failed before any answer may be sent again: only on a reused
/// connection (a fresh one failing is a real failure), at most [`MAX_ATTEMPTS`] times,
/// and only for an idempotent method, as pingora's default retry policy and RFC 9110
/// (9.2.2) have it. A failed read cannot tell "closed while idle" from "applied the
/// request, then died", and sending a POST (a new post) twice is worse than a 502.
fn may_retry(reused: bool, attempt: usize, method: &http::Method) -> bool {
    reused && attempt < MAX_ATTEMPTS && method.is_idempotent()
}

/// The connection pool of the gateway's own exchanges.
pub struct UpstreamExchange {
    connector: Connector,
}

impl Default for UpstreamExchange {
    fn default() -> Self {
        UpstreamExchange {
            connector: Connector::new(None),
        }
    }
}

/// Whether the request may take the gateway's own exchange. `body_known` says the
/// route's rules read the whole body (it is in the inspection).
pub(crate) fn eligible(session: &Session, body_known: bool) -> bool {
    let header = session.req_header();
    if session.is_http2() || header.version == http::Version::HTTP_2 {
        return false;
    }
    if header.headers.contains_key(http::header::UPGRADE) {
        return false;
    }
    body_known || is_bodyless(session)
}

/// A request that declares no body at all (no length, or length 0, and not chunked).
fn is_bodyless(session: &Session) -> bool {
    let headers = &session.req_header().headers;
    if headers.contains_key(http::header::TRANSFER_ENCODING) {
        return false;
    }
    match headers.get(http::header::CONTENT_LENGTH) {
        None => true,
        Some(v) => v.as_bytes().trim_ascii() == b"0",
    }
}

/// An upstream response whose header has been read.
pub(crate) struct Opened {
    session: HttpSession,
}

/// How reading a whole upstream body ended, when it did not end well for the body.
pub(crate) enum BodyError {
    /// More than the limit: the connection is dropped, not drained.
    TooLarge,
    /// The upstream failed mid-body.
    Failed(Box<pingora::Error>),
}

impl UpstreamExchange {
    /// Sends `request` (and `body`) to `peer` and reads the final response header,
    /// retrying an idempotent request on a pooled connection that turned out to be stale.
    /// The header is copied only when a retry is possible.
    pub(crate) async fn open(
        &self,
        peer: &HttpPeer,
        request: pingora::http::RequestHeader,
        body: Option<&Bytes>,
    ) -> Result<Opened> {
        let method = request.method.clone();
        let mut request = Some(request);
        let mut attempt = 0;
        loop {
            attempt += 1;
            // A pooled connection first. Connecting (TCP, maybe TLS) is a future of
            // several KiB: boxed and built only when the pool is empty, so the common
            // path does not build and copy it.
            let (mut upstream, reused) = match self.connector.reused_http_session(peer).await {
                Some(pooled) => (pooled, true),
                None => Box::pin(self.connector.get_http_session(peer))
                    .await
                    .map_err(|e| e.into_up())?,
            };
            upstream.read_timeout = peer.options.read_timeout;
            upstream.write_timeout = peer.options.write_timeout;
            let retry_possible = may_retry(reused, attempt, &method);
            let header = match (retry_possible, request.take()) {
                (true, Some(r)) => {
                    let copy = r.clone();
                    request = Some(r);
                    copy
                }
                (false, Some(r)) => r,
                (_, None) => {
                    return Err(pingora::Error::explain(
                        ErrorType::InternalError,
                        "the upstream request was already sent",
                    ))
                }
            };
            match send(&mut upstream, header, body).await {
                Ok(()) => return Ok(Opened { session: upstream }),
                Err(e) if retry_possible && is_stale(&e) => {
                    tracing::debug!(error = %e, "stale pooled upstream connection; sending again");
                }
                Err(e) => return Err(e.into_up()),
            }
        }
    }

    /// Returns a finished connection to the pool (or closes it if it cannot be reused).
    pub(crate) async fn release(&self, opened: Opened, peer: &HttpPeer) {
        self.connector
            .release_http_session(opened.session, peer, peer.options.idle_timeout)
            .await;
    }
}

impl Opened {
    /// The final (non-1xx) response header.
    pub(crate) fn header(&self) -> Option<&ResponseHeader> {
        self.session.resp_header()
    }

    /// Reads the rest of the body, at most `limit` bytes; `capacity` sizes the buffer.
    pub(crate) async fn read_whole(
        &mut self,
        limit: usize,
        capacity: usize,
    ) -> std::result::Result<Bytes, BodyError> {
        let mut body = BytesMut::with_capacity(capacity.min(limit));
        loop {
            match self.session.read_body_ref().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        return Err(BodyError::TooLarge);
                    }
                    body.extend_from_slice(chunk);
                }
                Ok(None) => return Ok(body.freeze()),
                Err(e) => return Err(BodyError::Failed(e.into_up())),
            }
        }
    }

    /// The next chunk of the body as it arrives, `None` at its end.
    pub(crate) async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        self.session
            .read_body_bytes()
            .await
            .map_err(|e| e.into_up())
    }

    /// Whether the whole body was read (the connection can go back to the pool).
    pub(crate) fn body_done(&mut self) -> bool {
        self.session.is_body_done()
    }
}

async fn send(
    upstream: &mut HttpSession,
    request: pingora::http::RequestHeader,
    body: Option<&Bytes>,
) -> Result<()> {
    upstream.write_request_header(Box::new(request)).await?;
    if let Some(body) = body.filter(|b| !b.is_empty()) {
        upstream.write_body(body).await?;
    }
    upstream.finish_body().await?;
    loop {
        upstream.read_response().await?;
        let status = upstream.resp_header().map(|h| h.status);
        match status {
            // No upgrade was asked for (see `eligible`): a 101 is a broken upstream.
            Some(http::StatusCode::SWITCHING_PROTOCOLS) => {
                return Err(pingora::Error::explain(
                    ErrorType::InvalidHTTPHeader,
                    "the upstream switched protocols without being asked to",
                ))
            }
            Some(s) if s.is_informational() => continue,
            _ => return Ok(()),
        }
    }
}

/// A failure that a connection closed by the upstream while idle produces on first use.
fn is_stale(e: &pingora::Error) -> bool {
    matches!(
        e.etype(),
        ErrorType::ConnectionClosed | ErrorType::ReadError | ErrorType::WriteError
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn only_idempotent_requests_on_reused_connections_are_sent_again() {
        for method in [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            assert!(may_retry(true, 1, &method), "{method}");
            assert!(may_retry(true, MAX_ATTEMPTS - 1, &method), "{method}");
            assert!(!may_retry(true, MAX_ATTEMPTS, &method), "{method}");
            assert!(!may_retry(false, 1, &method), "{method}");
        }
        for method in [
            Method::POST,
            Method::PATCH,
            Method::from_bytes(b"LOCK").unwrap(),
        ] {
            assert!(!may_retry(true, 1, &method), "{method}");
        }
    }
}
