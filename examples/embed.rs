//! Embedding imgate in your own pingora proxy.
//!
//! `MyProxy` keeps an [`ImgateCtx`] in its own context and calls the [`Imgate`] hooks from
//! its phases; everything else (upstream choice, extra headers, logging) stays yours.
//!
//! Run: `cargo run --example embed -- conf/imgate.toml 127.0.0.1:8081` (then send requests
//! to 127.0.0.1:6190).

use arc_swap::ArcSwap;
use async_trait::async_trait;
use bytes::Bytes;
use imgate::proxy::{Imgate, ImgateCtx};
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::{ProxyHttp, Session};
use pingora::server::Server;
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, Result};
use std::sync::Arc;
use std::time::Duration;

struct MyProxy {
    imgate: Imgate,
    upstream: String,
}

/// Your per-request state, with imgate's inside.
struct MyCtx {
    imgate: ImgateCtx,
    tenant: Option<String>,
}

#[async_trait]
impl ProxyHttp for MyProxy {
    type CTX = MyCtx;

    fn new_ctx(&self) -> MyCtx {
        MyCtx {
            imgate: self.imgate.new_ctx(),
            tenant: None,
        }
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut MyCtx) -> Result<bool> {
        if self.imgate.request_filter(session, &mut ctx.imgate).await? {
            return Ok(true); // imgate answered the request (a JSON rejection)
        }
        ctx.tenant = session
            .get_header("x-tenant")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(false)
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        _ctx: &mut MyCtx,
    ) -> Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(
            self.upstream.as_str(),
            false,
            String::new(),
        )))
    }

    async fn upstream_request_filter(
        &self,
        session: &mut Session,
        request: &mut RequestHeader,
        ctx: &mut MyCtx,
    ) -> Result<()> {
        self.imgate
            .upstream_request_filter(session, request, &mut ctx.imgate)
            .await
    }

    async fn request_body_filter(
        &self,
        session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut MyCtx,
    ) -> Result<()> {
        self.imgate
            .request_body_filter(session, body, end_of_stream, &mut ctx.imgate)
            .await
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        response: &mut ResponseHeader,
        ctx: &mut MyCtx,
    ) -> Result<()> {
        self.imgate
            .response_filter(session, response, &mut ctx.imgate)
            .await
    }

    fn response_body_filter(
        &self,
        session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut MyCtx,
    ) -> Result<Option<Duration>> {
        self.imgate
            .response_body_filter(session, body, end_of_stream, &mut ctx.imgate)
    }

    async fn logging(&self, session: &mut Session, e: Option<&Error>, ctx: &mut MyCtx) {
        self.imgate.log_access(session, e, &ctx.imgate);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let config_path = args.next().unwrap_or_else(|| "conf/imgate.toml".to_owned());
    let upstream = args.next().unwrap_or_else(|| "127.0.0.1:8081".to_owned());
    let config = match imgate::config::load(config_path.as_ref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let policy = Arc::new(ArcSwap::from_pointee(config.policy));
    let imgate = Imgate::new(policy, false, true);

    let mut server = Server::new(None).unwrap_or_else(|e| {
        eprintln!("cannot create the server: {e}");
        std::process::exit(1)
    });
    server.bootstrap();
    let mut service =
        pingora::proxy::http_proxy_service(&server.configuration, MyProxy { imgate, upstream });
    service.add_tcp("127.0.0.1:6190");
    server.add_service(service);
    server.run_forever();
}
