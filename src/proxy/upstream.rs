//! Upstream selection: pingora's round-robin load balancer, with TCP health checks when
//! there is more than one address, and the peer options (timeouts, TLS) from the config.

use crate::config::UpstreamSettings;
use pingora::lb::selection::RoundRobin;
use pingora::lb::{health_check::TcpHealthCheck, Backend, LoadBalancer};
use pingora::services::background::{background_service, GenBackgroundService};
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType, Result};
use std::sync::Arc;

/// The background service that runs health checks; add it to the pingora server.
pub type HealthCheckService = GenBackgroundService<LoadBalancer<RoundRobin>>;

/// The upstream pool and how to connect to it.
pub struct Upstreams {
    balancer: Arc<LoadBalancer<RoundRobin>>,
    /// The only upstream, when there is one: no selection (and no health check) to do.
    single: Option<Backend>,
    settings: UpstreamSettings,
}

impl Upstreams {
    /// Builds the pool. With several addresses it also returns the health-check service,
    /// which the caller must add to the server so unhealthy upstreams are skipped.
    pub fn new(settings: &UpstreamSettings) -> Result<(Self, Option<HealthCheckService>)> {
        let mut balancer = LoadBalancer::try_from_iter(
            settings.addresses.iter().map(String::as_str),
        )
        .map_err(|e| Error::because(ErrorType::InternalError, "invalid upstream addresses", e))?;
        let (balancer, service) = if settings.addresses.len() > 1 {
            balancer.set_health_check(TcpHealthCheck::new());
            balancer.health_check_frequency = Some(settings.health_check_interval);
            let service = background_service("upstream health check", balancer);
            (service.task(), Some(service))
        } else {
            (Arc::new(balancer), None)
        };
        let single = match balancer.backends().get_backend().iter().collect::<Vec<_>>()[..] {
            [only] if settings.addresses.len() == 1 => Some(only.clone()),
            _ => None,
        };
        let upstreams = Upstreams {
            balancer,
            single,
            settings: settings.clone(),
        };
        Ok((upstreams, service))
    }

    /// Picks a healthy upstream and describes how to reach it.
    pub fn peer(&self) -> Result<Box<HttpPeer>> {
        let backend = match &self.single {
            Some(only) => only.clone(),
            None => self
                .balancer
                .select(b"", 256)
                .ok_or_else(|| Error::explain(ErrorType::ConnectNoRoute, "no healthy upstream"))?,
        };
        let mut peer = HttpPeer::new(backend, self.settings.tls, self.settings.sni.clone());
        let options = &mut peer.options;
        options.connection_timeout = Some(self.settings.connect_timeout);
        options.total_connection_timeout = Some(self.settings.connect_timeout);
        options.read_timeout = Some(self.settings.read_timeout);
        options.write_timeout = Some(self.settings.write_timeout);
        options.idle_timeout = Some(self.settings.idle_timeout);
        Ok(Box::new(peer))
    }
}
