//! Assembles and runs the pingora server: listener, gateway service, health checks.

use super::admin::{self, Admin};
use super::audit::{AuditLog, QueueGauges, RotatingFile};
use super::metrics::Metrics;
use super::reload::Reloader;
use super::telemetry::Telemetry;
use crate::config::schema::AuditOutput;
use crate::config::{self, Config, ConfigError, LoadOptions, ServerSettings};
use crate::proxy::{FirstBytes, Gateway, Imgate, Refusals, Upstreams};
use arc_swap::ArcSwap;
use pingora::apps::HttpServerOptions;
use pingora::listeners::tls::TlsSettings;
use pingora::listeners::{L4BufferSettings, ListenerConfig};
use pingora::server::configuration::ServerConf;
use pingora::server::{RunArgs, Server};
use pingora::services::listening::Service;
use std::path::{Path, PathBuf};
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
    pub admin_listen: Option<String>,
    pub log_format: Option<config::schema::LogFormat>,
    /// Take the listening sockets over from a running imgate (pingora graceful upgrade).
    pub upgrade: bool,
}

impl Overrides {
    fn load_options(&self) -> LoadOptions {
        LoadOptions {
            listen: self.listen.clone(),
            upstream: self.upstream.clone(),
            admin_listen: self.admin_listen.clone(),
        }
    }
}

/// Loads `config_path`, applies `overrides`, and serves until the process is told to stop
/// (SIGTERM: graceful, SIGINT: at once). SIGHUP reloads the policy.
pub fn run(config_path: &Path, overrides: Overrides) -> Result<(), StartError> {
    let options = overrides.load_options();
    let mut config = config::load_with(config_path, &options)?;
    if let Some(format) = overrides.log_format {
        config.server.logging.format = format;
    }
    let logging = &config.server.logging;
    super::logging::init(logging.format, &logging.level);
    if let Some(approval) = &config.policy.approval {
        let ready = crate::runtime::background()
            .block_on(approval.wait_ready(std::time::Duration::from_secs(10)));
        if !ready {
            tracing::warn!(
                "the approval list is not synced yet; marking shows nobody approved until it is"
            );
        }
    }
    let Built { server, telemetry } =
        build(config, config_path.to_owned(), options, overrides.upgrade)?;
    tracing::info!("imgate started");
    // Returns once every request has finished (or the grace period is over).
    server.run(RunArgs::default());
    // The audit lines still queued are written before the process ends.
    telemetry.audit.close();
    tracing::info!("imgate stopped");
    std::process::exit(0)
}

/// The pingora server of [`build`], and what must outlive it.
pub struct Built {
    pub server: Server,
    /// Metrics and the audit log; close the audit log once the server has stopped.
    pub telemetry: Arc<Telemetry>,
}

/// Builds the pingora server for `config` (bootstrapped, services added, not yet
/// running), with reload, admin listener, metrics and audit log around it.
pub fn build(
    config: Config,
    config_path: PathBuf,
    options: LoadOptions,
    upgrade: bool,
) -> Result<Built, StartError> {
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
        upgrade_sock: settings.upgrade_sock.to_string_lossy().into_owned(),
        ..ServerConf::default()
    };
    let opt = pingora::server::configuration::Opt {
        upgrade,
        ..Default::default()
    };
    let mut server = Server::new_with_opt_and_conf(Some(opt), conf);
    server.bootstrap();

    let (upstreams, health) =
        Upstreams::new(&settings.upstream).map_err(|e| StartError::Pingora(e.to_string()))?;
    let policy = Arc::new(ArcSwap::from_pointee(policy));
    let metrics = Metrics::new().map_err(|e| StartError::Pingora(format!("metrics: {e}")))?;
    let audit = open_audit(&settings, metrics.audit_queue())?;
    let telemetry = Arc::new(Telemetry {
        metrics: metrics.clone(),
        audit,
    });
    let mut imgate = Imgate::new(
        policy.clone(),
        settings.tls.is_some(),
        settings.logging.access_log,
    )
    .with_events(telemetry.clone());
    if settings.mark_exchange == crate::config::schema::MarkExchange::Gateway {
        imgate = imgate.with_own_exchange();
    }

    let envelope_of = policy.clone();
    let runtime = crate::runtime::background();
    let reloader = Arc::new(Reloader::new(
        config_path,
        options,
        policy,
        settings.clone(),
        metrics.clone(),
    ));
    reloader
        .watch_sighup(runtime)
        .map_err(|e| StartError::Pingora(format!("cannot watch SIGHUP: {e}")))?;
    if settings.reload.watch {
        reloader.watch_files(runtime, settings.reload.interval);
    }
    if let Some(address) = &settings.admin.address {
        let admin = Admin {
            reloader: Arc::clone(&reloader),
            metrics,
            token: settings.admin.token.clone(),
            upstreams: settings.upstream.addresses.clone(),
        };
        admin::start(admin, address, runtime).map_err(|e| {
            StartError::Pingora(format!("cannot listen for admin on {address}: {e}"))
        })?;
    }
    let mut proxy = pingora::proxy::http_proxy(
        &server.configuration,
        Gateway {
            imgate,
            upstreams,
            client_idle_secs: settings.client_idle_timeout.as_secs(),
        },
    );
    let mut options = HttpServerOptions::default();
    options.h2c = settings.h2c;
    // HTTP/2 connections (h2c, or TLS with ALPN) idle out like HTTP/1.1 ones.
    options.h2_idle_timeout = Some(settings.client_idle_timeout);
    proxy.server_options = Some(options);
    // A new connection shows its first bytes within the idle timeout, or is closed (pingora's own h2c sniffing
    // waits for 24 bytes forever; see `proxy::preface`).
    // pingora's own bare errors (a request head it cannot parse, CONNECT) go out as JSON errors in the live
    // policy's envelope, like the gateway's, and are counted in the metrics (see `proxy::canned`).
    let refusals = Refusals::new(
        move |rejection, request_id| {
            envelope_of
                .load()
                .envelope
                .render(rejection, Some(request_id))
        },
        telemetry.clone(),
    );
    let app = FirstBytes::new(proxy, settings.client_idle_timeout).with_refusals(refusals);
    let mut service = Service::new("imgate".to_string(), app);
    // The write buffer lets a response's header and body leave in one send (marked
    // responses are answered whole, with a Content-Length).
    let buffers = L4BufferSettings::default().write(settings.write_buffer);
    let listener = ListenerConfig::tcp(settings.listen.clone()).l4_buffer(buffers);
    let listener = match &settings.tls {
        Some((cert, key)) => {
            let mut tls =
                TlsSettings::intermediate(&cert.to_string_lossy(), &key.to_string_lossy())
                    .map_err(|e| StartError::Pingora(format!("TLS setup failed: {e}")))?;
            tls.enable_h2();
            listener.tls(tls)
        }
        None => listener,
    };
    service.add_listener(listener);
    server.add_service(service);
    if let Some(health) = health {
        server.add_service(health);
    }
    Ok(Built { server, telemetry })
}

fn open_audit(settings: &ServerSettings, gauges: QueueGauges) -> Result<AuditLog, StartError> {
    let cannot = |what: &str, e: std::io::Error| {
        StartError::Pingora(format!("cannot open the audit log {what}: {e}"))
    };
    match (settings.audit.output, &settings.audit.path) {
        (AuditOutput::Off, _) => Ok(AuditLog::off()),
        (AuditOutput::Stdout, _) => AuditLog::stdout(gauges).map_err(|e| cannot("on stdout", e)),
        (AuditOutput::File, Some(path)) => {
            RotatingFile::open(path, settings.audit.max_size, settings.audit.keep)
                .and_then(|file| AuditLog::file(file, gauges))
                .map_err(|e| cannot(&path.display().to_string(), e))
        }
        (AuditOutput::File, None) => {
            Err(StartError::Pingora("the audit log needs a path".to_owned()))
        }
    }
}
