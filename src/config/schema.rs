//! The TOML schema of `imgate.toml`, exactly as written by the operator.
//!
//! Every table denies unknown keys, so a typo is an error at its line and column
//! rather than a silently ignored setting. `compile` turns this into the runtime form.

use super::units::{ByteSize, HumanDuration};
use imgate_core::envelope::EnvelopeSpec;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub listen: ListenSection,
    pub upstream: UpstreamSection,
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub gateway: GatewaySection,
    #[serde(default)]
    pub errors: EnvelopeSpec,
    #[serde(default)]
    pub logging: LoggingSection,
    #[serde(default)]
    pub admin: AdminSection,
    #[serde(default)]
    pub reload: ReloadSection,
    #[serde(default)]
    pub audit: AuditSection,
    #[serde(default)]
    pub pii: PiiSection,
    /// Who is calling (needed by `publish` routes).
    pub identity: Option<Spanned<crate::lookups::IdentitySpec>>,
    /// Which accounts are approved publishers (needed by `publish` and `mark` routes).
    pub approval: Option<Spanned<crate::lookups::ApprovalSpec>>,
    /// Restricted content categories, by name (see `imgate_core::classify::CategorySpec`).
    #[serde(default = "defaults::no_categories")]
    pub categories:
        Spanned<std::collections::BTreeMap<String, Spanned<imgate_core::classify::CategorySpec>>>,
    #[serde(default, rename = "route")]
    pub routes: Vec<RouteSection>,
}

/// Where the key for `pii = "hmac"` registration fields comes from (one of the two).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiiSection {
    /// A file holding the key (its bytes, trailing newline removed).
    pub hmac_key_file: Option<Spanned<PathBuf>>,
    /// An environment variable holding the key.
    pub hmac_key_env: Option<Spanned<String>>,
}

/// The client-facing listener (changing it needs a restart).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenSection {
    pub address: Spanned<String>,
    pub tls: Option<TlsSection>,
    /// Accept HTTP/2 over plaintext (h2c, prior knowledge). With TLS, HTTP/2 is offered via ALPN.
    #[serde(default)]
    pub h2c: bool,
    /// Per-connection write buffer towards clients. A response whose header and body fit
    /// leaves in one send; pingora's default is one packet (1460 bytes).
    #[serde(default = "defaults::write_buffer")]
    pub write_buffer: Spanned<ByteSize>,
    /// How long an idle client connection is kept open between requests.
    #[serde(default = "defaults::client_idle_timeout")]
    pub idle_timeout: Spanned<HumanDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    pub cert: Spanned<PathBuf>,
    pub key: Spanned<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSection {
    /// One or more `host:port`; several are load-balanced round-robin with health checks.
    pub addresses: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub tls: bool,
    /// SNI and certificate name for TLS upstreams (default: the host of the first address).
    #[serde(default)]
    pub sni: Option<String>,
    #[serde(default = "defaults::connect_timeout")]
    pub connect_timeout: HumanDuration,
    #[serde(default = "defaults::read_timeout")]
    pub read_timeout: HumanDuration,
    #[serde(default = "defaults::read_timeout")]
    pub write_timeout: HumanDuration,
    #[serde(default = "defaults::idle_timeout")]
    pub idle_timeout: HumanDuration,
    #[serde(default = "defaults::keepalive_pool")]
    pub keepalive_pool: usize,
    #[serde(default = "defaults::health_check_interval")]
    pub health_check_interval: HumanDuration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Worker threads (0 = one per CPU core).
    #[serde(default)]
    pub threads: usize,
    /// How long a graceful shutdown (SIGTERM) waits for in-flight requests.
    #[serde(default = "defaults::grace_period")]
    pub grace_period: HumanDuration,
    /// The Unix socket pingora hands listening sockets over on a graceful upgrade
    /// (`imgate run --upgrade`, then SIGQUIT to the old process).
    #[serde(default = "defaults::upgrade_sock")]
    pub upgrade_sock: PathBuf,
    /// Who talks to the upstream on marking routes.
    #[serde(default)]
    pub mark_exchange: MarkExchange,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            threads: 0,
            grace_period: defaults::grace_period(),
            upgrade_sock: defaults::upgrade_sock(),
            mark_exchange: MarkExchange::default(),
        }
    }
}

/// How marking routes reach the upstream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkExchange {
    /// The gateway sends the inspected request itself, reads the whole response and
    /// answers with a `Content-Length`: header and body leave in one write.
    #[default]
    Gateway,
    /// pingora's streaming proxy path: the marked body goes out chunked (three sends).
    Proxy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Pass,
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodOverridePolicy {
    /// Refuse requests that carry a method-override header (400).
    Reject,
    /// Remove the headers before forwarding.
    Strip,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    /// What happens to a request no route matches.
    #[serde(default = "defaults::default_action")]
    pub default_action: Action,
    /// Largest request body inspected on enforced routes (at most 64KiB, pingora's replay buffer).
    #[serde(default = "defaults::max_body")]
    pub max_body: Spanned<ByteSize>,
    #[serde(default = "defaults::method_override")]
    pub method_override: MethodOverridePolicy,
    /// Longest time to receive a whole inspected body, from the end of the request head.
    #[serde(default = "defaults::body_timeout")]
    pub body_timeout: Spanned<HumanDuration>,
}

impl Default for GatewaySection {
    fn default() -> Self {
        GatewaySection {
            default_action: defaults::default_action(),
            max_body: defaults::max_body(),
            method_override: defaults::method_override(),
            body_timeout: defaults::body_timeout(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingSection {
    #[serde(default)]
    pub format: LogFormat,
    /// A tracing filter such as `info` or `imgate=debug,pingora=warn`.
    #[serde(default = "defaults::log_level")]
    pub level: String,
    /// One line per request on target `imgate::access`.
    #[serde(default = "defaults::yes")]
    pub access_log: bool,
}

impl Default for LoggingSection {
    fn default() -> Self {
        LoggingSection {
            format: LogFormat::Text,
            level: defaults::log_level(),
            access_log: true,
        }
    }
}

/// The admin listener (health, metrics, reload); restart to change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    /// `HOST:PORT`; an empty string turns the admin listener off.
    #[serde(default = "defaults::admin_address")]
    pub address: Spanned<String>,
    /// A file holding the bearer token the admin endpoints require (none: no token).
    pub token_file: Option<Spanned<PathBuf>>,
    /// An environment variable holding the token.
    pub token_env: Option<Spanned<String>>,
}

impl Default for AdminSection {
    fn default() -> Self {
        AdminSection {
            address: defaults::admin_address(),
            token_file: None,
            token_env: None,
        }
    }
}

/// Hot reload triggers besides SIGHUP and `POST /admin/reload`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReloadSection {
    /// Reload when this file or a file it references changes.
    #[serde(default = "defaults::yes")]
    pub watch: bool,
    /// How often watched files are checked.
    #[serde(default = "defaults::watch_interval")]
    pub interval: HumanDuration,
}

impl Default for ReloadSection {
    fn default() -> Self {
        ReloadSection {
            watch: true,
            interval: defaults::watch_interval(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutput {
    #[default]
    Stdout,
    File,
    Off,
}

/// The audit log: one JSON line per enforced decision; restart to change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// `"stdout"` (default), `"file"` or `"off"`.
    #[serde(default = "defaults::audit_output")]
    pub output: Spanned<AuditOutput>,
    /// The file, for `output = "file"`.
    pub path: Option<Spanned<PathBuf>>,
    /// Rotate past this size.
    #[serde(default = "defaults::audit_max_size")]
    pub max_size: ByteSize,
    /// How many rotated files to keep (`audit.log.1` ...).
    #[serde(default = "defaults::audit_keep")]
    pub keep: usize,
}

impl Default for AuditSection {
    fn default() -> Self {
        AuditSection {
            output: defaults::audit_output(),
            path: None,
            max_size: defaults::audit_max_size(),
            keep: defaults::audit_keep(),
        }
    }
}

/// Bounds for decoding compressed request bodies.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecodeSection {
    /// Largest decoded body inspected (larger: 413).
    #[serde(default = "defaults::decode_max_size")]
    pub max_size: ByteSize,
    /// Largest decoded/encoded size ratio (larger: 413, a likely decompression bomb).
    #[serde(default = "defaults::decode_max_ratio")]
    pub max_ratio: u32,
}

/// One `[[route]]`: a method set and a path template, with the rules that apply.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSection {
    /// A name for logs and metrics (default: `METHODS path`).
    pub name: Option<String>,
    /// Methods the route applies to; `["*"]` (the default) means any.
    #[serde(default = "defaults::any_method")]
    pub methods: Spanned<Vec<String>>,
    pub path: Spanned<String>,
    /// `pass` (default when no rule is given) or `deny`.
    pub action: Option<Spanned<Action>>,
    /// Accept gzip/deflate request bodies on this enforced route (decoded for inspection,
    /// forwarded as received); without it a `Content-Encoding` is refused with 415.
    pub decode: Option<Spanned<DecodeSection>>,
    /// Real-name registration rule (see `imgate_core::register`).
    pub register: Option<Spanned<imgate_core::register::RegisterSpec>>,
    /// Publishing rule (see `imgate_core::publish`).
    pub publish: Option<Spanned<imgate_core::publish::PublishSpec>>,
    /// Response marking rule (see `imgate_core::mark`).
    pub mark: Option<Spanned<imgate_core::mark::MarkSpec<ByteSize>>>,
}

mod defaults {
    use super::*;

    pub fn connect_timeout() -> HumanDuration {
        HumanDuration(Duration::from_secs(2))
    }
    pub fn read_timeout() -> HumanDuration {
        HumanDuration(Duration::from_secs(30))
    }
    pub fn idle_timeout() -> HumanDuration {
        HumanDuration(Duration::from_secs(60))
    }
    pub fn keepalive_pool() -> usize {
        128
    }
    pub fn health_check_interval() -> HumanDuration {
        HumanDuration(Duration::from_secs(5))
    }
    pub fn grace_period() -> HumanDuration {
        HumanDuration(Duration::from_secs(5))
    }
    pub fn decode_max_size() -> ByteSize {
        ByteSize(256 * 1024)
    }
    pub fn decode_max_ratio() -> u32 {
        50
    }
    pub fn upgrade_sock() -> PathBuf {
        PathBuf::from("/tmp/imgate_upgrade.sock")
    }
    pub fn default_action() -> Action {
        Action::Pass
    }
    pub fn write_buffer() -> Spanned<ByteSize> {
        Spanned::new(0..0, ByteSize(1460))
    }
    pub fn max_body() -> Spanned<ByteSize> {
        Spanned::new(0..0, ByteSize(64 * 1024))
    }
    pub fn client_idle_timeout() -> Spanned<HumanDuration> {
        Spanned::new(0..0, HumanDuration(Duration::from_secs(60)))
    }
    pub fn body_timeout() -> Spanned<HumanDuration> {
        Spanned::new(0..0, HumanDuration(Duration::from_secs(15)))
    }
    pub fn method_override() -> MethodOverridePolicy {
        MethodOverridePolicy::Reject
    }
    pub fn admin_address() -> Spanned<String> {
        Spanned::new(0..0, "127.0.0.1:9090".to_owned())
    }
    pub fn watch_interval() -> HumanDuration {
        HumanDuration(Duration::from_secs(2))
    }
    pub fn audit_max_size() -> ByteSize {
        ByteSize(64 * 1024 * 1024)
    }
    pub fn audit_output() -> Spanned<AuditOutput> {
        Spanned::new(0..0, AuditOutput::Stdout)
    }
    pub fn audit_keep() -> usize {
        5
    }
    pub fn log_level() -> String {
        "info".to_owned()
    }
    pub fn yes() -> bool {
        true
    }
    pub fn no_categories(
    ) -> Spanned<std::collections::BTreeMap<String, Spanned<imgate_core::classify::CategorySpec>>>
    {
        Spanned::new(0..0, Default::default())
    }
    pub fn any_method() -> Spanned<Vec<String>> {
        Spanned::new(0..0, vec!["*".to_owned()])
    }
}

/// Where relative paths in the config resolve: the config file's folder.
pub fn resolve(base: &std::path::Path, path: &std::path::Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        base.join(path)
    }
}
