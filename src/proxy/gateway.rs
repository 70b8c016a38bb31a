//! [`Gateway`]: the shipped `ProxyHttp`, which is [`Imgate`] plus upstream selection.
//! It is also the reference for embedding: each phase just calls the middleware.

use super::middleware::{Imgate, ImgateCtx};
use super::upstream::Upstreams;
use async_trait::async_trait;
use bytes::Bytes;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, Result};
use std::time::Duration;

pub struct Gateway {
    pub imgate: Imgate,
    pub upstreams: Upstreams,
    /// Seconds an idle HTTP/1.1 client connection is kept between requests.
    pub client_idle_secs: u64,
}

impl Gateway {
    /// Connection handling of the shipped server, set on each HTTP/1 request before the
    /// policy runs (an embedder decides these for its own server).
    ///
    /// - Pipelining: a client may send its next requests before this one is answered (RFC
    ///   9112 §9.3.2). pingora answers them in order when asked to; otherwise it answers
    ///   this one and closes the connection, dropping what the client already sent.
    /// - Idle keep-alive: pingora keeps an HTTP/1.1 connection open for as long as the
    ///   client likes (each holds a socket, a task and its write buffer); a client's own
    ///   `Keep-Alive: timeout=` may only shorten the configured time.
    /// - `Connection: close` counts in any `Connection` field line: pingora reads only the
    ///   first, so `Connection: x-foo` followed by `Connection: close` kept the connection.
    fn manage_connection(&self, session: &mut Session) {
        let close = asks_to_close(session.req_header());
        let downstream = session.as_downstream_mut();
        downstream.set_pipelining_enabled(true);
        if close {
            downstream.set_keepalive(None);
            return;
        }
        match downstream.get_keepalive() {
            // Some(0) is pingora's "no timeout"; None means the connection closes anyway.
            Some(secs) if secs == 0 || secs > self.client_idle_secs => {
                downstream.set_keepalive(Some(self.client_idle_secs));
            }
            _ => {}
        }
    }
}

/// Whether any `Connection` field line of `request` lists `close` (RFC 9110 §7.6.1: the
/// field's value is the combination of all its lines).
fn asks_to_close(request: &RequestHeader) -> bool {
    super::headers::connection_tokens(&request.headers).any(|t| t.eq_ignore_ascii_case(b"close"))
}

#[async_trait]
impl ProxyHttp for Gateway {
    type CTX = ImgateCtx;

    fn new_ctx(&self) -> ImgateCtx {
        self.imgate.new_ctx()
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut ImgateCtx) -> Result<bool> {
        self.manage_connection(session);
        if self.imgate.request_filter(session, ctx).await? {
            return Ok(true);
        }
        if self.imgate.owns_exchange(session, ctx) {
            // Marking routes: the gateway forwards and answers itself (one send per
            // marked response, see `Imgate::with_own_exchange`).
            let peer = self.upstreams.peer();
            self.imgate.exchange(session, ctx, peer).await?;
            return Ok(true);
        }
        Ok(false)
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        _ctx: &mut ImgateCtx,
    ) -> Result<Box<HttpPeer>> {
        self.upstreams.peer()
    }

    async fn upstream_request_filter(
        &self,
        session: &mut Session,
        upstream_request: &mut RequestHeader,
        ctx: &mut ImgateCtx,
    ) -> Result<()> {
        self.imgate
            .upstream_request_filter(session, upstream_request, ctx)
            .await
    }

    async fn request_body_filter(
        &self,
        session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut ImgateCtx,
    ) -> Result<()> {
        self.imgate
            .request_body_filter(session, body, end_of_stream, ctx)
            .await
    }

    fn response_body_filter(
        &self,
        session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut ImgateCtx,
    ) -> Result<Option<Duration>> {
        self.imgate
            .response_body_filter(session, body, end_of_stream, ctx)
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        upstream_response: &mut ResponseHeader,
        ctx: &mut ImgateCtx,
    ) -> Result<()> {
        self.imgate
            .response_filter(session, upstream_response, ctx)
            .await
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &Error,
        ctx: &mut ImgateCtx,
    ) -> FailToProxy {
        let error_code = self.imgate.fail_to_proxy(session, e, ctx).await;
        FailToProxy {
            error_code,
            can_reuse_downstream: false,
        }
    }

    /// pingora's error logs name the request with this; mask personal numbers in it.
    fn request_summary(&self, session: &Session, _ctx: &ImgateCtx) -> String {
        imgate_core::mask::mask_digits_in(&session.as_ref().request_summary()).into_owned()
    }

    /// A client that went away is no error of the gateway's: pingora would log it at ERROR level with the
    /// status 0 it was "answered" with. The access log still records it (status 0, the `error` field).
    fn suppress_error_log(&self, _session: &Session, _ctx: &ImgateCtx, error: &Error) -> bool {
        crate::proxy::middleware::client_went_away(error)
    }

    async fn logging(&self, session: &mut Session, e: Option<&Error>, ctx: &mut ImgateCtx) {
        self.imgate.log_access(session, e, ctx);
    }
}
