//! `imgate baseline-proxy`: a plain pingora reverse proxy with no policy, built from the
//! same pingora version and server settings as the gateway. The load bench measures the
//! gateway against it, so the ratio shows imgate's own cost.

use async_trait::async_trait;
use pingora::listeners::{L4BufferSettings, ListenerConfig};
use pingora::proxy::{ProxyHttp, Session};
use pingora::server::configuration::ServerConf;
use pingora::server::Server;
use pingora::upstreams::peer::HttpPeer;
use pingora::Result;
use std::net::SocketAddr;

struct Passthrough {
    upstream: SocketAddr,
}

#[async_trait]
impl ProxyHttp for Passthrough {
    type CTX = ();

    fn new_ctx(&self) {}

    async fn upstream_peer(&self, _session: &mut Session, _ctx: &mut ()) -> Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(self.upstream, false, String::new())))
    }
}

/// Serves a passthrough proxy on `listen` to `upstream` until the process is stopped;
/// `write_buffer` bytes of write buffer per client connection.
pub fn run(listen: SocketAddr, upstream: SocketAddr, threads: usize, write_buffer: usize) -> ! {
    let conf = ServerConf {
        threads: threads.max(1),
        upstream_keepalive_pool_size: 128,
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut service = pingora::proxy::http_proxy_service_with_name(
        &server.configuration,
        Passthrough { upstream },
        "baseline",
    );
    service.add_listener(
        ListenerConfig::tcp(listen.to_string())
            .l4_buffer(L4BufferSettings::default().write(write_buffer.max(1))),
    );
    server.add_service(service);
    server.run_forever()
}
