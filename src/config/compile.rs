//! Turns the operator's [`RawConfig`] into the runtime form, checking what serde cannot:
//! addresses, route templates and overlaps, limits, referenced files.

use super::error::ConfigError;
use super::schema::{self, Action, LogFormat, MethodOverridePolicy, RawConfig};
use imgate_core::envelope::EnvelopeSpec;
use imgate_core::register::{BodyKind, RegisterContext, RegisterRule};
use imgate_core::route::{Methods, RouteTable};
use sha2::{Digest, Sha256};
use std::net::ToSocketAddrs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The largest body the gateway can inspect and then replay upstream: pingora's HTTP/1
/// retry buffer is a fixed 64 KiB, and a larger body would be forwarded truncated.
pub const MAX_INSPECTABLE_BODY: u64 = 64 * 1024;

/// Everything a configuration file produces.
#[derive(Debug)]
pub struct Config {
    pub server: ServerSettings,
    pub policy: Policy,
}

/// Settings bound at start; changing them needs a restart (or pingora's graceful upgrade).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: String,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub h2c: bool,
    pub upstream: UpstreamSettings,
    pub threads: usize,
    pub grace_period: Duration,
    pub logging: LoggingSettings,
}

#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    pub addresses: Vec<String>,
    pub tls: bool,
    pub sni: String,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub write_timeout: Duration,
    pub idle_timeout: Duration,
    pub keepalive_pool: usize,
    pub health_check_interval: Duration,
}

#[derive(Debug, Clone)]
pub struct LoggingSettings {
    pub format: LogFormat,
    pub level: String,
    pub access_log: bool,
}

/// Identifies the configuration a policy was built from.
#[derive(Debug, Clone)]
pub struct PolicySource {
    pub path: PathBuf,
    /// SHA-256 of the configuration text, hex.
    pub sha256: String,
    pub loaded_at: SystemTime,
}

/// The compiled, immutable policy snapshot. Requests hold an `Arc<Policy>` for their
/// whole life, so a reload never changes the rules under a request in flight.
#[derive(Debug)]
pub struct Policy {
    pub source: PolicySource,
    pub routes: RouteTable<RouteRules>,
    pub default_action: Action,
    pub max_body: usize,
    pub method_override: MethodOverridePolicy,
    pub envelope: EnvelopeSpec,
}

/// What a matched route does.
#[derive(Debug)]
pub struct RouteRules {
    pub name: String,
    pub action: RouteAction,
}

#[derive(Debug)]
pub enum RouteAction {
    Pass,
    Deny,
    Enforce(Box<EnforcedRules>),
}

impl RouteAction {
    /// Enforced routes get the strict path, method and body checks.
    pub fn is_enforced(&self) -> bool {
        !matches!(self, RouteAction::Pass)
    }
}

/// The rules of an enforced route, each compiled once per policy snapshot.
#[derive(Debug)]
pub struct EnforcedRules {
    pub register: Option<RegisterRule>,
}

impl EnforcedRules {
    /// How the request body must be encoded, when a request-side rule reads it.
    pub fn request_body(&self) -> Option<BodyKind> {
        self.register.as_ref().map(RegisterRule::body_kind)
    }
}

pub(super) fn compile(path: &Path, text: &str, raw: RawConfig) -> Result<Config, ConfigError> {
    let at = |span: std::ops::Range<usize>, message: String| {
        ConfigError::at_offset(path, text, span.start, message)
    };
    let base = path.parent().unwrap_or(Path::new("."));

    // Listener.
    let listen = raw.listen.address.get_ref().clone();
    if listen.to_socket_addrs().is_err() {
        return Err(at(
            raw.listen.address.span(),
            format!("`{listen}` is not a valid listen address; write `HOST:PORT`, e.g. \"127.0.0.1:8080\""),
        ));
    }
    let tls = match &raw.listen.tls {
        Some(tls) => {
            let mut files = Vec::new();
            for (what, file) in [("certificate", &tls.cert), ("private key", &tls.key)] {
                let resolved = schema::resolve(base, file.get_ref());
                if !resolved.is_file() {
                    return Err(at(
                        file.span(),
                        format!("TLS {what} file `{}` does not exist", resolved.display()),
                    ));
                }
                files.push(resolved);
            }
            let key = files.pop().unwrap_or_default();
            let cert = files.pop().unwrap_or_default();
            Some((cert, key))
        }
        None => None,
    };

    // Upstream.
    let up = &raw.upstream;
    if up.addresses.get_ref().is_empty() {
        return Err(at(
            up.addresses.span(),
            "`upstream.addresses` needs at least one `HOST:PORT`".to_owned(),
        ));
    }
    let mut addresses = Vec::new();
    for address in up.addresses.get_ref() {
        if address.get_ref().to_socket_addrs().is_err() {
            return Err(at(
                address.span(),
                format!(
                    "`{}` is not a reachable upstream address; write `HOST:PORT`",
                    address.get_ref()
                ),
            ));
        }
        addresses.push(address.get_ref().clone());
    }
    let sni = up.sni.clone().unwrap_or_else(|| {
        addresses[0]
            .rsplit_once(':')
            .map(|(h, _)| h.to_owned())
            .unwrap_or_default()
    });
    let upstream = UpstreamSettings {
        addresses,
        tls: up.tls,
        sni,
        connect_timeout: up.connect_timeout.0,
        read_timeout: up.read_timeout.0,
        write_timeout: up.write_timeout.0,
        idle_timeout: up.idle_timeout.0,
        keepalive_pool: up.keepalive_pool,
        health_check_interval: up.health_check_interval.0,
    };

    // Gateway limits.
    let max_body = raw.gateway.max_body.get_ref().0;
    if max_body > MAX_INSPECTABLE_BODY || max_body == 0 {
        return Err(at(
            raw.gateway.max_body.span(),
            format!(
                "`max_body` must be between 1 byte and 64KiB (pingora replays at most 64KiB of an inspected body); got {max_body} bytes"
            ),
        ));
    }

    // Keys and shared data for the rules.
    let register_context = RegisterContext {
        hmac_key: load_hmac_key(&raw.pii, base, &at)?,
        divisions: None,
    };

    // Routes.
    let mut routes = RouteTable::new();
    for route in &raw.routes {
        let methods =
            compile_methods(route.methods.get_ref()).map_err(|m| at(route.methods.span(), m))?;
        let template = route.path.get_ref();
        let name = route
            .name
            .clone()
            .unwrap_or_else(|| format!("{} {}", route.methods.get_ref().join(","), template));
        let action = compile_route_rules(route, &register_context, &at)?;
        routes
            .insert(methods, template, RouteRules { name, action })
            .map_err(|e| at(route.path.span(), e.to_string()))?;
    }

    let policy = Policy {
        source: PolicySource {
            path: path.to_owned(),
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
            loaded_at: SystemTime::now(),
        },
        routes,
        default_action: raw.gateway.default_action,
        max_body: max_body as usize,
        method_override: raw.gateway.method_override,
        envelope: raw.errors,
    };
    let server = ServerSettings {
        listen,
        tls,
        h2c: raw.listen.h2c,
        upstream,
        threads: raw.server.threads,
        grace_period: raw.server.grace_period.0,
        logging: LoggingSettings {
            format: raw.logging.format,
            level: raw.logging.level,
            access_log: raw.logging.access_log,
        },
    };
    Ok(Config { server, policy })
}

fn compile_methods(list: &[String]) -> Result<Methods, String> {
    if list.is_empty() {
        return Err("`methods` must list at least one method, or `\"*\"` for any".to_owned());
    }
    if list.iter().any(|m| m == "*") {
        return Ok(Methods::Any);
    }
    let mut out = Vec::new();
    for m in list {
        let valid = !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase());
        if !valid {
            return Err(format!(
                "`{m}` is not an HTTP method; write it in upper case, e.g. \"POST\""
            ));
        }
        out.push(m.clone());
    }
    Ok(Methods::Only(out))
}

fn compile_route_rules(
    route: &schema::RouteSection,
    register_context: &RegisterContext,
    at: &impl Fn(std::ops::Range<usize>, String) -> ConfigError,
) -> Result<RouteAction, ConfigError> {
    for (rule, table) in [("publish", &route.publish), ("mark", &route.mark)] {
        if let Some(table) = table {
            return Err(at(
                table.span(),
                format!(
                    "the `{rule}` rule is not supported by this build of imgate yet; remove it"
                ),
            ));
        }
    }
    let register = match &route.register {
        Some(spec) => Some(
            RegisterRule::compile(spec.get_ref(), register_context)
                .map_err(|e| at(spec.span(), e.to_string()))?,
        ),
        None => None,
    };
    let has_rules = register.is_some();
    match route.action.as_ref() {
        Some(action) if has_rules => Err(at(
            action.span(),
            "a route with rules cannot also have an `action`; remove it".to_owned(),
        )),
        Some(action) => Ok(match action.get_ref() {
            Action::Deny => RouteAction::Deny,
            Action::Pass => RouteAction::Pass,
        }),
        None if has_rules => Ok(RouteAction::Enforce(Box::new(EnforcedRules { register }))),
        None => Ok(RouteAction::Pass),
    }
}

/// Reads the HMAC key for `pii = "hmac"` fields from a file or the environment.
fn load_hmac_key(
    pii: &schema::PiiSection,
    base: &Path,
    at: &impl Fn(std::ops::Range<usize>, String) -> ConfigError,
) -> Result<Option<Vec<u8>>, ConfigError> {
    match (&pii.hmac_key_file, &pii.hmac_key_env) {
        (Some(_), Some(env)) => Err(at(
            env.span(),
            "set either `hmac_key_file` or `hmac_key_env`, not both".to_owned(),
        )),
        (Some(file), None) => {
            let path = schema::resolve(base, file.get_ref());
            let mut key = std::fs::read(&path).map_err(|e| {
                at(
                    file.span(),
                    format!("cannot read the HMAC key file `{}`: {e}", path.display()),
                )
            })?;
            while key.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                key.pop();
            }
            Ok(Some(key))
        }
        (None, Some(env)) => match std::env::var_os(env.get_ref()) {
            Some(value) => Ok(Some(value.into_encoded_bytes())),
            None => Err(at(
                env.span(),
                format!("the environment variable `{}` is not set", env.get_ref()),
            )),
        },
        (None, None) => Ok(None),
    }
}
