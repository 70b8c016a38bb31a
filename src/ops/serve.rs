//! Assembles and runs the pingora server: listener, gateway service, health checks.

use crate::config::{self, Config, ConfigError};
use crate::proxy::{Gateway, Imgate, Upstreams};
use arc_swap::ArcSwap;
use pingora::apps::HttpServerOptions;
use pingora::listeners::tls::TlsSettings;
use pingora::server::configuration::ServerConf;
use pingora::server::Server;
use std::path::Path;
use std::sync::Arc;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("cannot start the gateway: {0}")]
    Pingora(String),
}

/// Settings given on the command line that win over the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub upstream: Option<String>,
    pub log_format: Option<config::schema::LogFormat>,
}

/// Loads `config_path`, applies `overrides`, and serves until the process is told to stop.
pub fn run(config_path: &Path, overrides: Overrides) -> Result<(), StartError> {
    let mut config = config::load(config_path)?;
    apply(&mut config, &overrides);
    let logging = &config.server.logging;
    super::logging::init(logging.format, &logging.level);
    let server = build(config)?;
    tracing::info!("imgate started");
    server.run_forever();
}

fn apply(config: &mut Config, overrides: &Overrides) {
    if let Some(listen) = &overrides.listen {
        config.server.listen = listen.clone();
    }
    if let Some(upstream) = &overrides.upstream {
        config.server.upstream.addresses = vec![upstream.clone()];
    }
    if let Some(format) = overrides.log_format {
        config.server.logging.format = format;
    }
}

/// Builds the pingora server for `config` (bootstrapped, services added, not yet running).
pub fn build(config: Config) -> Result<Server, StartError> {
    let Config {
        server: settings,
        policy,
    } = config;
    let threads = if settings.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        settings.threads
    };
    let conf = ServerConf {
        threads,
        grace_period_seconds: Some(settings.grace_period.as_secs()),
        graceful_shutdown_timeout_seconds: Some(settings.grace_period.as_secs().max(1)),
        upstream_keepalive_pool_size: settings.upstream.keepalive_pool,
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();

    let (upstreams, health) =
        Upstreams::new(&settings.upstream).map_err(|e| StartError::Pingora(e.to_string()))?;
    let policy = Arc::new(ArcSwap::from_pointee(policy));
    let imgate = Imgate::new(policy, settings.tls.is_some(), settings.logging.access_log);
    let mut service = pingora::proxy::http_proxy_service_with_name(
        &server.configuration,
        Gateway { imgate, upstreams },
        "imgate",
    );
    if settings.h2c {
        let mut options = HttpServerOptions::default();
        options.h2c = true;
        if let Some(app) = service.app_logic_mut() {
            app.server_options = Some(options);
        }
    }
    match &settings.tls {
        Some((cert, key)) => {
            let mut tls =
                TlsSettings::intermediate(&cert.to_string_lossy(), &key.to_string_lossy())
                    .map_err(|e| StartError::Pingora(format!("TLS setup failed: {e}")))?;
            tls.enable_h2();
            service.add_tls_with_settings(&settings.listen, None, tls);
        }
        None => service.add_tcp(&settings.listen),
    }
    server.add_service(service);
    if let Some(health) = health {
        server.add_service(health);
    }
    Ok(server)
}
