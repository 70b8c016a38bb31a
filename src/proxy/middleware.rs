//! [`Imgate`]: the gateway's request and response hooks as a value any pingora
//! `ProxyHttp` can call from its own phases (the shipped [`super::Gateway`] does).
//!
//! This layer is a thin adapter: it reads what pingora gives it, asks the pure policy
//! core for a decision, and writes the answer. Each request pins one policy snapshot
//! in its [`ImgateCtx`], so a reload never changes the rules under a request in flight.

use super::events::{EventSink, NoEvents, RequestEvent};
use super::exchange::{self, BodyError, UpstreamExchange};
use super::inspect::{self, Inspection};
use super::marking::{self, Framing, MarkState};
use super::respond;
use crate::config::schema::{Action, MethodOverridePolicy};
use crate::config::{EnforcedRules, Policy, RouteAction};
use arc_swap::ArcSwap;
use bytes::Bytes;
use http::HeaderName;
use imgate_core::decision::Rejection;
use imgate_core::path::{canonicalize, PathError};
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::Session;
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorSource, ErrorType, Result};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Headers some frameworks honour to turn one method into another (a POST that the
/// upstream treats as PUT, or a GET it treats as POST): they would let a request reach
/// an enforced handler under an un-enforced method.
/// Names are pre-parsed: looking a `&str` up parses it on every request.
pub const METHOD_OVERRIDE_HEADERS: [HeaderName; 3] = [
    HeaderName::from_static("x-http-method-override"),
    HeaderName::from_static("x-method-override"),
    HeaderName::from_static("x-http-method"),
];

/// The correlation header: kept from the client when plain, made otherwise, sent upstream
/// and back.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The embeddable gateway: holds the live policy and applies it.
#[derive(Clone)]
pub struct Imgate {
    policy: Arc<ArcSwap<Policy>>,
    tls_listener: bool,
    access_log: bool,
    events: Arc<dyn EventSink>,
    exchange: Option<Arc<UpstreamExchange>>,
}

/// How the gateway handled a request, for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Forwarded without rules (a `pass` route or the default).
    Passed,
    /// Forwarded after the route's rules allowed it.
    Allowed,
    /// Answered by the gateway with a JSON error carrying this reason code.
    Rejected(Cow<'static, str>),
}

impl Outcome {
    pub fn label(&self) -> &str {
        match self {
            Outcome::Passed => "pass",
            Outcome::Allowed => "allow",
            Outcome::Rejected(code) => code,
        }
    }
}

/// Per-request state of the gateway; embedders keep one in their own `CTX`.
pub struct ImgateCtx {
    policy: Option<Arc<Policy>>,
    request_id: String,
    route: Option<usize>,
    outcome: Outcome,
    started: Instant,
    upstream_started: Option<Instant>,
    upstream_time: Option<Duration>,
    inspection: Inspection,
    /// The path parameter a mark rule reads the account id from.
    mark_param: Option<String>,
    mark: MarkState,
    route_kind: &'static str,
    marked: Option<(usize, usize)>,
    upstream_error: Option<&'static str>,
}

impl ImgateCtx {
    pub fn request_id(&self) -> &str {
        &self.request_id
    }
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }
    /// The name of the matched route, if any.
    pub fn route_name(&self) -> Option<&str> {
        let policy = self.policy.as_ref()?;
        policy
            .routes
            .routes()
            .get(self.route?)
            .map(|r| r.name.as_str())
    }
}

impl Imgate {
    /// `policy` is shared with whoever reloads it; `tls_listener` sets `X-Forwarded-Proto`.
    pub fn new(policy: Arc<ArcSwap<Policy>>, tls_listener: bool, access_log: bool) -> Self {
        Imgate {
            policy,
            tls_listener,
            access_log,
            events: Arc::new(NoEvents),
            exchange: None,
        }
    }

    /// Lets the gateway answer marking routes through its own upstream exchange (see
    /// [`Imgate::owns_exchange`]): one send per marked response instead of three, and
    /// keep-alive for HTTP/1.0 clients. The embedder's upstream hooks do not run for
    /// those requests.
    pub fn with_own_exchange(mut self) -> Self {
        self.exchange = Some(Arc::new(UpstreamExchange::default()));
        self
    }

    /// Sends every finished request's [`RequestEvent`] to `events` (metrics, audit log).
    pub fn with_events(mut self, events: Arc<dyn EventSink>) -> Self {
        self.events = events;
        self
    }

    /// The live policy handle (for reloads and admin views).
    pub fn policy(&self) -> &Arc<ArcSwap<Policy>> {
        &self.policy
    }

    pub fn new_ctx(&self) -> ImgateCtx {
        ImgateCtx {
            policy: None,
            request_id: String::new(),
            route: None,
            outcome: Outcome::Passed,
            started: Instant::now(),
            upstream_started: None,
            upstream_time: None,
            inspection: Inspection::default(),
            mark_param: None,
            mark: MarkState::Off,
            route_kind: "default",
            marked: None,
            upstream_error: None,
        }
    }

    /// Decides the request. Returns `Ok(true)` when the gateway has answered it (a
    /// rejection), `Ok(false)` when it may go upstream.
    pub async fn request_filter(&self, session: &mut Session, ctx: &mut ImgateCtx) -> Result<bool> {
        let policy = self.policy.load_full();
        ctx.request_id = request_id(session.req_header());
        ctx.policy = Some(policy.clone());
        let verdict = match self.decide(session, ctx, &policy) {
            Ok(Some(rules)) => {
                // Boxed: the inspection's future (body read, lookups) is large, and every
                // request's `request_filter` future would otherwise be built at its size
                // and copied, passthrough requests included.
                let inspected = Box::pin(inspect::inspect_request(
                    session,
                    &policy,
                    rules,
                    &mut ctx.inspection,
                ))
                .await;
                if inspected.is_ok() {
                    ctx.outcome = Outcome::Allowed;
                }
                inspected
            }
            other => other.map(|_| ()),
        };
        match verdict {
            Ok(()) => Ok(false),
            Err(rejection) => {
                ctx.outcome = Outcome::Rejected(rejection.code.clone());
                respond::send_rejection(session, &policy.envelope, &rejection, &ctx.request_id)
                    .await?;
                Ok(true)
            }
        }
    }

    /// After [`Imgate::request_filter`] let the request through: whether the gateway
    /// should answer it with [`Imgate::exchange`] (a marking route, own exchanges
    /// enabled, an HTTP/1.x request whose body is inspected or absent) instead of
    /// pingora's proxy path.
    pub fn owns_exchange(&self, session: &Session, ctx: &ImgateCtx) -> bool {
        self.exchange.is_some()
            && Self::rules(ctx).is_some_and(|r| r.mark.is_some())
            && exchange::eligible(session, ctx.inspection.forward_body.is_some())
    }

    /// Sends the request to `peer` and answers the client with the marked response,
    /// header and body in one write; failures become the same JSON errors as on the
    /// proxy path. Returns `Ok(())` once the client has its answer.
    pub async fn exchange(
        &self,
        session: &mut Session,
        ctx: &mut ImgateCtx,
        peer: Result<Box<HttpPeer>>,
    ) -> Result<()> {
        let Some(own) = self.exchange.clone() else {
            return Err(Error::explain(
                ErrorType::InternalError,
                "the gateway's own exchange is not enabled",
            ));
        };
        // Boxed for the same reason as the inspection: callers' futures stay small.
        match Box::pin(self.try_exchange(&own, session, ctx, peer)).await {
            Ok(()) => Ok(()),
            Err(e) => {
                if session.response_written().is_some() {
                    // The header is out: the client can only see the connection close.
                    session.set_keepalive(None);
                    return Err(e);
                }
                self.fail_to_proxy(session, &e, ctx).await;
                Ok(())
            }
        }
    }

    async fn try_exchange(
        &self,
        own: &UpstreamExchange,
        session: &mut Session,
        ctx: &mut ImgateCtx,
        peer: Result<Box<HttpPeer>>,
    ) -> Result<()> {
        let peer = peer?;
        let mut request = session.req_header().clone();
        exchange::request::sanitize(&mut request)?;
        self.upstream_request_filter(session, &mut request, ctx)
            .await?;
        let body = match ctx.inspection.replacement.take() {
            Some(replacement) => Some(replacement),
            None => ctx.inspection.forward_body.take(),
        };
        let declared = session
            .req_header()
            .headers
            .contains_key(http::header::CONTENT_LENGTH);
        let length = match &body {
            Some(b) => Some(b.len()),
            None => declared.then_some(0),
        };
        exchange::request::frame(&mut request, length)?;

        let mut opened = own.open(&peer, request, body.as_ref()).await?;
        let Some(upstream_header) = opened.header() else {
            return Err(Error::explain(
                ErrorType::InvalidHTTPHeader,
                "no upstream response header",
            )
            .into_up());
        };
        let mut response = upstream_header.clone();
        self.prepare_response(session, &mut response, ctx, Framing::Length)?;

        match std::mem::take(&mut ctx.mark) {
            MarkState::Buffering { limit, body } => {
                let received = match opened.read_whole(limit, body.capacity()).await {
                    Ok(received) => received,
                    Err(BodyError::Failed(e)) => return Err(e),
                    Err(BodyError::TooLarge) => {
                        return self
                            .reject_response(session, ctx, marking::too_large())
                            .await
                    }
                };
                own.release(opened, &peer).await;
                let (marked, counts) = match self.mark_body(ctx, received) {
                    Ok(done) => done,
                    Err(rejection) => return self.reject_response(session, ctx, rejection).await,
                };
                ctx.marked = Some(counts);
                response.insert_header(http::header::CONTENT_LENGTH, marked.len().to_string())?;
                session
                    .write_response_header(Box::new(response), false)
                    .await?;
                session.write_response_body(Some(marked), true).await
            }
            MarkState::Replaced {
                body: error_body, ..
            } => {
                // The upstream's body is not read: its connection is dropped.
                session
                    .write_response_header(Box::new(response), false)
                    .await?;
                session.write_response_body(Some(error_body), true).await
            }
            MarkState::Off => {
                self.relay(own, session, opened, &peer, Box::new(response))
                    .await
            }
        }
    }

    /// Passes an unmarked response (not JSON, or without a body) through as it arrives.
    async fn relay(
        &self,
        own: &UpstreamExchange,
        session: &mut Session,
        mut opened: exchange::Opened,
        peer: &HttpPeer,
        mut response: Box<ResponseHeader>,
    ) -> Result<()> {
        let is_head = session.req_header().method == http::Method::HEAD;
        let status = response.status.as_u16();
        let no_body = is_head || matches!(status, 204 | 304);
        let framed = response.headers.contains_key(http::header::CONTENT_LENGTH)
            || response
                .headers
                .contains_key(http::header::TRANSFER_ENCODING);
        if !no_body && !framed {
            // Close-delimited upstream body: chunk it for HTTP/1.1 clients (as pingora
            // does), close after it for HTTP/1.0 ones.
            if session.req_header().version == http::Version::HTTP_10 {
                session.set_keepalive(None);
            } else {
                response.set_version(http::Version::HTTP_11);
                response.insert_header(http::header::TRANSFER_ENCODING, "chunked")?;
            }
        }
        let ends_here = no_body || opened.body_done();
        session.write_response_header(response, ends_here).await?;
        if !ends_here {
            while let Some(chunk) = opened.next_chunk().await? {
                session.write_response_body(Some(chunk), false).await?;
            }
        }
        session.write_response_body(None, true).await?;
        if opened.body_done() {
            own.release(opened, peer).await;
        }
        Ok(())
    }

    /// Marks a whole upstream body; a body that cannot be marked is a 502 for the client.
    fn mark_body(
        &self,
        ctx: &ImgateCtx,
        received: Bytes,
    ) -> Result<(Bytes, (usize, usize)), Rejection> {
        let gone = || Rejection::new(500, "gateway.internal", "the marking rule is gone");
        let policy = ctx.policy.as_deref().ok_or_else(gone)?;
        let rule = mark_rule(policy, ctx.route).ok_or_else(gone)?;
        marking::mark_whole(rule, received, ctx.mark_param.as_deref(), &approver(policy))
            .map_err(marking::unmarkable)
    }

    /// Answers with `rejection` instead of the upstream's response.
    async fn reject_response(
        &self,
        session: &mut Session,
        ctx: &mut ImgateCtx,
        rejection: Rejection,
    ) -> Result<()> {
        ctx.outcome = Outcome::Rejected(rejection.code.clone());
        let envelope = self.envelope(ctx);
        respond::send_rejection(session, &envelope, &rejection, &ctx.request_id).await
    }

    /// The error envelope of the request's policy snapshot (the live one before it has one).
    fn envelope(&self, ctx: &ImgateCtx) -> imgate_core::envelope::EnvelopeSpec {
        match &ctx.policy {
            Some(p) => p.envelope.clone(),
            None => self.policy.load().envelope.clone(),
        }
    }

    /// Routes the request. `Ok(Some(rules))` when an enforced route's rules must run.
    fn decide<'p>(
        &self,
        session: &Session,
        ctx: &mut ImgateCtx,
        policy: &'p Policy,
    ) -> Result<Option<&'p EnforcedRules>, Rejection> {
        let header = session.req_header();
        let method = header.method.as_str();
        // Route on the bytes the upstream will receive (pingora forwards the raw request
        // target), not on the parsed URI, which normalises some spellings away.
        let raw_target = header.raw_path();
        // Absolute form (`http://host/path`) only with a scheme: a target such as
        // `api/v1/posts` parses as a URI whose path is `/`, and must be refused, not routed
        // as `/` and forwarded as it came.
        let absolute_form = has_http_scheme(raw_target) && header.uri.path().starts_with('/');
        let raw_path = if absolute_form {
            header.uri.path().as_bytes()
        } else {
            let end = raw_target
                .iter()
                .position(|b| *b == b'?')
                .unwrap_or(raw_target.len());
            &raw_target[..end]
        };
        let (path, valid_utf8) = match std::str::from_utf8(raw_path) {
            Ok(path) => (Cow::Borrowed(path), true),
            Err(_) => (String::from_utf8_lossy(raw_path), false),
        };
        let canonical = canonicalize(&path).map_err(|e| match e {
            PathError::Nul => {
                Rejection::new(400, "path.invalid", "the request path contains a NUL byte")
            }
            PathError::NotAbsolute => {
                Rejection::new(400, "path.invalid", "the request path must start with `/`")
            }
        })?;

        if policy.method_override == MethodOverridePolicy::Reject {
            if let Some(name) = METHOD_OVERRIDE_HEADERS
                .iter()
                .find(|h| header.headers.contains_key(*h))
            {
                return Err(Rejection::new(
                    400,
                    "request.method_override",
                    format!("the `{name}` header is not accepted: send the request with its real method"),
                ));
            }
        }

        let Some(found) = policy.routes.find(method, &canonical) else {
            return match policy.default_action {
                Action::Pass => Ok(None),
                Action::Deny => Err(denied()),
            };
        };
        ctx.route = Some(found.index);
        let rules = found.route;
        ctx.route_kind = rules.action.kind();
        let enforced = match &rules.action {
            RouteAction::Pass => return Ok(None),
            RouteAction::Deny => return Err(denied()),
            RouteAction::Enforce(enforced) => enforced,
        };
        if let Some(variant) = canonical.variant {
            return Err(non_canonical(&canonical.path, variant.describe()));
        }
        if !found.exact_case {
            let spelled = found.spelled(&canonical.path);
            return Err(non_canonical(
                spelled.as_deref().unwrap_or(found.template),
                "different letter case",
            ));
        }
        if absolute_form {
            return Err(non_canonical(
                &canonical.path,
                "an absolute-form request target",
            ));
        }
        if !valid_utf8 {
            return Err(non_canonical(&canonical.path, "bytes that are not UTF-8"));
        }
        if let Some(param) = enforced.mark.as_ref().and_then(|m| m.path_param()) {
            ctx.mark_param = found.param(param).map(str::to_owned);
        }
        Ok(Some(enforced))
    }

    /// The enforced rules of the request's route, if any.
    fn rules(ctx: &ImgateCtx) -> Option<&EnforcedRules> {
        let policy = ctx.policy.as_ref()?;
        match &policy.routes.routes().get(ctx.route?)?.action {
            RouteAction::Enforce(rules) => Some(rules),
            _ => None,
        }
    }

    /// Adjusts the request sent upstream: request id, forwarding headers, stripped headers.
    pub async fn upstream_request_filter(
        &self,
        session: &mut Session,
        upstream_request: &mut RequestHeader,
        ctx: &mut ImgateCtx,
    ) -> Result<()> {
        upstream_request.insert_header("x-request-id", ctx.request_id.as_str())?;
        if let Some(addr) = session.client_addr().and_then(|a| a.as_inet()) {
            let ip = ip_text(addr.ip());
            let forwarded = match upstream_request.headers.get(X_FORWARDED_FOR) {
                Some(existing) => format!("{}, {ip}", String::from_utf8_lossy(existing.as_bytes())),
                None => ip,
            };
            upstream_request.insert_header("x-forwarded-for", forwarded)?;
        }
        let proto = if self.tls_listener { "https" } else { "http" };
        upstream_request.insert_header("x-forwarded-proto", proto)?;
        if let Some(policy) = &ctx.policy {
            if policy.method_override == MethodOverridePolicy::Strip {
                for name in &METHOD_OVERRIDE_HEADERS {
                    upstream_request.remove_header(name);
                }
            }
            // A trusted-header identity is only believed from trusted peers; from anyone
            // else it must not reach the upstream either, which may trust it blindly.
            if let Some(identity) = &policy.identity {
                let peer = session
                    .client_addr()
                    .and_then(|a| a.as_inet())
                    .map(|a| a.ip());
                for name in identity.strip_headers(peer) {
                    upstream_request.remove_header(name);
                }
            }
        }
        if Self::rules(ctx).is_some_and(|r| r.mark.is_some()) {
            marking::prepare_upstream_request(upstream_request)?;
        }
        if let (false, Some(replacement)) = (ctx.inspection.replaced, &ctx.inspection.replacement) {
            upstream_request.remove_header("transfer-encoding");
            if ctx.inspection.decoded {
                // The replacement is the decoded body, rewritten.
                upstream_request.remove_header("content-encoding");
            }
            upstream_request.insert_header("content-length", replacement.len().to_string())?;
        }
        ctx.upstream_started = Some(Instant::now());
        Ok(())
    }

    /// Swaps in a rewritten request body (PII stripped or hashed). pingora replays the
    /// inspected body from its retry buffer through this filter; every other body is
    /// forwarded untouched.
    pub async fn request_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        _end_of_stream: bool,
        ctx: &mut ImgateCtx,
    ) -> Result<()> {
        if let Some(replacement) = ctx.inspection.replacement.take() {
            *body = Some(replacement);
            ctx.inspection.replaced = true;
        } else if ctx.inspection.replaced {
            *body = None;
        }
        Ok(())
    }

    /// Buffers and marks the response body on `mark` routes.
    pub fn response_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut ImgateCtx,
    ) -> Result<Option<Duration>> {
        if matches!(ctx.mark, MarkState::Off) {
            return Ok(None);
        }
        let Some(policy) = ctx.policy.clone() else {
            return Ok(None);
        };
        let Some(rule) = mark_rule(&policy, ctx.route) else {
            return Ok(None);
        };
        let approved = approver(&policy);
        let param = ctx.mark_param.clone();
        if let Some(counts) = marking::on_body_chunk(
            &mut ctx.mark,
            rule,
            body,
            end_of_stream,
            param.as_deref(),
            &approved,
        )? {
            ctx.marked = Some(counts);
        }
        Ok(None)
    }

    /// Adjusts the response header sent to the client.
    pub async fn response_filter(
        &self,
        session: &mut Session,
        response: &mut ResponseHeader,
        ctx: &mut ImgateCtx,
    ) -> Result<()> {
        self.prepare_response(session, response, ctx, Framing::Chunked)
    }

    /// The response header's changes, and whether and how its body is marked.
    fn prepare_response(
        &self,
        session: &mut Session,
        response: &mut ResponseHeader,
        ctx: &mut ImgateCtx,
        framing: Framing,
    ) -> Result<()> {
        if let Some(started) = ctx.upstream_started {
            ctx.upstream_time = Some(started.elapsed());
        }
        response.insert_header("x-request-id", ctx.request_id.as_str())?;
        let Some(policy) = ctx.policy.clone() else {
            return Ok(());
        };
        let Some(rule) = mark_rule(&policy, ctx.route) else {
            return Ok(());
        };
        let approved = approver(&policy);
        ctx.mark = marking::on_response_header(
            rule,
            response,
            session.req_header(),
            ctx.mark_param.as_deref(),
            &approved,
            marking::Answer {
                envelope: &policy.envelope,
                request_id: &ctx.request_id,
                framing,
            },
        )?;
        if let MarkState::Replaced { code, .. } = &ctx.mark {
            ctx.outcome = Outcome::Rejected(code.clone());
        }
        if framing == Framing::Chunked
            && session.req_header().version == http::Version::HTTP_10
            && matches!(
                ctx.mark,
                MarkState::Buffering { .. } | MarkState::Replaced { .. }
            )
        {
            // No chunked framing for HTTP/1.0: the body ends when the connection closes.
            session.set_keepalive(None);
        }
        Ok(())
    }

    /// Answers a request that failed upstream with a JSON error (502, or 504 on timeouts).
    /// Returns the status sent, or 0 when the client is gone.
    pub async fn fail_to_proxy(
        &self,
        session: &mut Session,
        error: &Error,
        ctx: &mut ImgateCtx,
    ) -> u16 {
        let rejection = upstream_rejection(error);
        let Some(rejection) = rejection else { return 0 };
        if ctx.request_id.is_empty() {
            ctx.request_id = request_id(session.req_header());
        }
        ctx.outcome = Outcome::Rejected(rejection.code.clone());
        if matches!(rejection.status, 502 | 504) {
            ctx.upstream_error = Some(if rejection.status == 504 {
                "timeout"
            } else {
                "unavailable"
            });
        }
        let envelope = self.envelope(ctx);
        if session.response_written().is_some() {
            // Too late for a clean error: the client sees the connection close.
            return rejection.status;
        }
        if let Err(e) =
            respond::send_rejection(session, &envelope, &rejection, &ctx.request_id).await
        {
            tracing::debug!(error = %e, "could not send the upstream error response");
        }
        rejection.status
    }

    /// Reports a finished request: the access-log line, and the event for metrics and
    /// the audit log.
    pub fn log_access(&self, session: &Session, error: Option<&Error>, ctx: &ImgateCtx) {
        let header = session.req_header();
        let status = session
            .response_written()
            .map(|r| r.status.as_u16())
            .unwrap_or(0);
        // Both come from the client: a number can hide in a path or in a made-up method.
        let path = imgate_core::mask::mask_digits_in(header.uri.path());
        let method = imgate_core::mask::mask_digits_in(header.method.as_str());
        let upstream_seconds = ctx.upstream_time.map(|d| d.as_secs_f64());
        let total_seconds = ctx.started.elapsed().as_secs_f64();
        if self.access_log {
            tracing::info!(
                target: "imgate::access",
                method = %method,
                path = %path,
                route = ctx.route_name().unwrap_or("-"),
                status,
                decision = ctx.outcome.label(),
                upstream_ms = upstream_seconds.map(milliseconds),
                total_ms = milliseconds(total_seconds),
                request_id = %ctx.request_id,
                error = error.map(|e| e.etype().as_str()),
                "request"
            );
        }
        self.events.request_finished(&RequestEvent {
            request_id: &ctx.request_id,
            method: &method,
            path: &path,
            route: ctx.route_name().unwrap_or("-"),
            route_kind: ctx.route_kind,
            enforced: Self::rules(ctx).is_some(),
            status,
            decision: ctx.outcome.label(),
            account: ctx.inspection.account.as_deref(),
            categories: &ctx.inspection.scores,
            masked_fields: &ctx.inspection.masked,
            body_bytes: ctx.inspection.body_bytes,
            marked: ctx.marked,
            upstream_error: ctx.upstream_error,
            total_seconds,
            upstream_seconds,
        });
    }
}

/// Whether a request target starts with `http://` or `https://` (any case).
fn has_http_scheme(target: &[u8]) -> bool {
    let starts = |prefix: &[u8]| {
        target
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    starts(b"http://") || starts(b"https://")
}

/// Seconds as milliseconds to the microsecond, so the access log prints `0.171`, not
/// `0.17072600000000002`.
fn milliseconds(seconds: f64) -> f64 {
    (seconds * 1_000_000.0).round() / 1000.0
}

/// Whether an account is approved, from the approval cache only: marking runs in
/// synchronous body filters and must not wait on a lookup.
fn approver(policy: &Policy) -> impl Fn(&str) -> bool + '_ {
    |id: &str| {
        policy
            .approval
            .as_ref()
            .is_some_and(|a| a.is_approved_cached(id))
    }
}

/// The mark rule of route `index` in `policy`, if it has one.
fn mark_rule(policy: &Policy, index: Option<usize>) -> Option<&imgate_core::mark::MarkRule> {
    match &policy.routes.routes().get(index?)?.action {
        RouteAction::Enforce(rules) => rules.mark.as_ref(),
        _ => None,
    }
}

fn denied() -> Rejection {
    Rejection::new(
        403,
        "route.denied",
        "this path is not served through the gateway",
    )
}

fn non_canonical(path: &str, what: &str) -> Rejection {
    Rejection::new(
        400,
        "path.non_canonical",
        format!(
            "the request path uses {what}; send it in canonical form, exactly `{}`",
            imgate_core::mask::mask_digits_in(path)
        ),
    )
}

/// Accepts a client's `X-Request-Id` when it is short and plain, or makes a new one. An
/// id that holds something shaped like an ID or phone number is replaced too: the id is
/// logged, audited and echoed as it is.
fn request_id(header: &RequestHeader) -> String {
    if let Some(value) = header.headers.get(X_REQUEST_ID) {
        let bytes = value.as_bytes();
        let plain = bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if plain && !bytes.is_empty() && bytes.len() <= 128 {
            let text = String::from_utf8_lossy(bytes);
            if imgate_core::mask::holds_no_number(&text) {
                return text.into_owned();
            }
        }
    }
    new_request_id()
}

/// A fresh request id (UUID v4, lower-case hyphenated), for requests that bring none and for answers given
/// before a request was understood (`proxy::canned`).
pub(crate) fn new_request_id() -> String {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid::Uuid::new_v4()
        .hyphenated()
        .encode_lower(&mut text)
        .to_owned()
}

/// An IP address as text; IPv4 without the formatting machinery (once per request).
fn ip_text(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let mut text = String::with_capacity(15);
            let mut buf = itoa::Buffer::new();
            for (i, octet) in v4.octets().iter().enumerate() {
                if i > 0 {
                    text.push('.');
                }
                text.push_str(buf.format(*octet));
            }
            text
        }
        std::net::IpAddr::V6(_) => ip.to_string(),
    }
}

/// Whether `error` means the client went away (reset, closed, or stopped reading), rather than a failure of
/// the gateway or the upstream. pingora marks the downstream's IO errors `Downstream` on HTTP/1.1, but leaves
/// some HTTP/2 ones unset (`while writing h2 response to downstream`); upstream IO errors are always marked
/// `Upstream`, and the gateway's own errors are explained ones of other types.
pub(crate) fn client_went_away(error: &Error) -> bool {
    use ErrorType::*;
    matches!(error.etype(), WriteError | ReadError | ConnectionClosed)
        && matches!(
            error.esource(),
            ErrorSource::Downstream | ErrorSource::Internal | ErrorSource::Unset
        )
}

/// Maps a proxying failure to the JSON error the client gets; `None` when the client
/// itself went away (nothing to answer).
fn upstream_rejection(error: &Error) -> Option<Rejection> {
    use ErrorType::*;
    if client_went_away(error) {
        return None;
    }
    if let HTTPStatus(code) = error.etype() {
        return Some(Rejection::new(
            *code,
            "request.invalid",
            "the request could not be processed",
        ));
    }
    match error.esource() {
        ErrorSource::Upstream => {}
        ErrorSource::Downstream => {
            return match error.etype() {
                ReadTimedout => Some(Rejection::new(
                    408,
                    "request.timeout",
                    "the request was not received in time",
                )),
                _ => Some(Rejection::new(
                    400,
                    "request.invalid",
                    "the request could not be read",
                )),
            }
        }
        ErrorSource::Internal | ErrorSource::Unset => {
            if !matches!(
                error.etype(),
                ConnectTimedout | ConnectRefused | ConnectError | ConnectNoRoute
            ) {
                return Some(Rejection::new(
                    500,
                    "gateway.internal",
                    "the gateway failed to process the request",
                ));
            }
        }
    }
    Some(match error.etype() {
        ConnectTimedout | ReadTimedout | WriteTimedout | TLSHandshakeTimedout => Rejection::new(
            504,
            "upstream.timeout",
            "the upstream server did not answer in time; try again later",
        ),
        _ => Rejection::new(
            502,
            "upstream.unavailable",
            "the upstream server could not be reached or sent an invalid response; try again later",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    #[test]
    fn ip_text_writes_addresses_as_std_does() {
        let mut addresses: Vec<IpAddr> = vec![
            Ipv4Addr::new(0, 0, 0, 0).into(),
            Ipv4Addr::new(127, 0, 0, 1).into(),
            Ipv4Addr::new(255, 255, 255, 255).into(),
            Ipv6Addr::LOCALHOST.into(),
            "2001:db8::8a2e:370:7334".parse().expect("v6"),
            "::ffff:10.1.2.3".parse().expect("mapped"),
        ];
        addresses.extend((0..=255u8).map(|o| IpAddr::from([o, 255 - o, o / 3, 9])));
        for ip in addresses {
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }

    #[test]
    fn request_ids_are_kept_when_plain_and_made_otherwise() {
        let with = |value: &str| {
            let mut h = RequestHeader::build("GET", b"/", None).expect("header");
            h.insert_header("x-request-id", value).expect("value");
            request_id(&h)
        };
        assert_eq!(with("abc-123_x.y:z"), "abc-123_x.y:z");
        // A uuid or a trace id keeps its digits; a phone or ID number inside is refused.
        assert_eq!(
            with("0af7651916cd43dd8448eb211c80319c"),
            "0af7651916cd43dd8448eb211c80319c"
        );
        for refused in [
            "has space",
            "quote\"",
            &"a".repeat(129),
            "id-11010519491231002X",
            "req-13800138000",
            "138-0013-8000",
        ] {
            let made = with(refused);
            assert_ne!(made, refused);
            assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");
        }
        let h = RequestHeader::build("GET", b"/", None).expect("header");
        let made = request_id(&h);
        assert_eq!(made.len(), 36);
        assert_eq!(
            uuid::Uuid::parse_str(&made).map(|u| u.get_version_num()),
            Ok(4)
        );
        assert_eq!(made, made.to_lowercase());
    }
}
