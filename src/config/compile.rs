//! Turns the operator's [`RawConfig`] into the runtime form, checking what serde cannot:
//! addresses, route templates and overlaps, limits, referenced files.

use super::error::ConfigError;
use super::locate::{self, Step};
use super::schema::{self, Action, AuditOutput, LogFormat, MethodOverridePolicy, RawConfig};
use crate::lookups::{
    build_approval, build_identity, ApprovalRegistry, BuildContext, IdentitySource,
    LookupConfigError,
};
use imgate_core::classify::Classifier;
use imgate_core::envelope::EnvelopeSpec;
use imgate_core::mark::MarkRule;
use imgate_core::publish::PublishRule;
use imgate_core::register::{BodyKind, RegisterContext, RegisterRule};
use imgate_core::route::{Methods, RouteTable};
use sha2::{Digest, Sha256};
use std::net::ToSocketAddrs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The largest body the gateway can inspect and then replay upstream: pingora's HTTP/1
/// retry buffer is a fixed 64 KiB, and a larger body would be forwarded truncated.
pub const MAX_INSPECTABLE_BODY: u64 = 64 * 1024;

/// Largest `[listen] write_buffer`: it is allocated for every client connection.
pub const MAX_WRITE_BUFFER: u64 = 1024 * 1024;

/// Everything a configuration file produces.
#[derive(Debug)]
pub struct Config {
    pub server: ServerSettings,
    pub policy: Policy,
}

/// Settings bound at start; changing them needs a restart (or pingora's graceful upgrade).
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    pub listen: String,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub h2c: bool,
    /// Bytes of the per-connection write buffer towards clients.
    pub write_buffer: usize,
    /// Idle time after which a kept-alive client connection is closed (whole seconds:
    /// pingora's keep-alive timeouts are).
    pub client_idle_timeout: Duration,
    pub upstream: UpstreamSettings,
    pub threads: usize,
    pub grace_period: Duration,
    pub upgrade_sock: PathBuf,
    pub mark_exchange: schema::MarkExchange,
    pub logging: LoggingSettings,
    pub admin: AdminSettings,
    pub reload: ReloadSettings,
    pub audit: AuditSettings,
}

/// The admin listener: `None` address turns it off.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminSettings {
    pub address: Option<String>,
    pub token: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReloadSettings {
    pub watch: bool,
    pub interval: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditSettings {
    pub output: AuditOutput,
    pub path: Option<PathBuf>,
    pub max_size: u64,
    pub keep: usize,
}

#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone, PartialEq)]
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
    /// Other files the policy was built from (lexicons, models, keys), for reload watching.
    pub files: Vec<PathBuf>,
}

/// The compiled, immutable policy snapshot. Requests hold an `Arc<Policy>` for their
/// whole life, so a reload never changes the rules under a request in flight.
#[derive(Debug)]
pub struct Policy {
    pub source: PolicySource,
    pub routes: RouteTable<RouteRules>,
    pub default_action: Action,
    pub max_body: usize,
    /// Deadline for receiving a whole inspected body (a trickled body ties up a
    /// connection and a task per client otherwise: pingora only times single reads).
    pub body_timeout: Duration,
    pub method_override: MethodOverridePolicy,
    pub envelope: EnvelopeSpec,
    /// The restricted-category classifier (empty when no category is defined).
    pub classifier: Arc<Classifier>,
    /// Who is calling; present when a route needs it.
    pub identity: Option<Arc<dyn IdentitySource>>,
    /// Approved publishers; present when a route needs it.
    pub approval: Option<Arc<dyn ApprovalRegistry>>,
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
    /// A label for metrics: `pass`, `deny`, or the rules the route carries.
    pub fn kind(&self) -> &'static str {
        match self {
            RouteAction::Pass => "pass",
            RouteAction::Deny => "deny",
            RouteAction::Enforce(rules) => match (&rules.register, &rules.publish, &rules.mark) {
                (Some(_), _, Some(_)) => "register+mark",
                (Some(_), _, None) => "register",
                (None, Some(_), Some(_)) => "publish+mark",
                (None, Some(_), None) => "publish",
                (None, None, _) => "mark",
            },
        }
    }

    /// Enforced routes get the strict path, method and body checks.
    pub fn is_enforced(&self) -> bool {
        !matches!(self, RouteAction::Pass)
    }
}

/// The rules of an enforced route, each compiled once per policy snapshot.
#[derive(Debug)]
pub struct EnforcedRules {
    pub register: Option<RegisterRule>,
    pub publish: Option<PublishRule>,
    pub mark: Option<MarkRule>,
    /// Limits for compressed request bodies; `None` refuses them.
    pub decode: Option<DecodeLimits>,
    /// Top-level names of the body fields the request-side rules read: a query parameter rooted at one is
    /// refused (`imgate_core::query`).
    pub query_roots: Vec<String>,
}

/// How far a compressed request body may be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    pub max_size: usize,
    pub max_ratio: u32,
}

impl EnforcedRules {
    /// How the request body must be encoded, when a request-side rule reads it.
    pub fn request_body(&self) -> Option<BodyKind> {
        match (&self.register, &self.publish) {
            (Some(register), _) => Some(register.body_kind()),
            (None, Some(_)) => Some(BodyKind::Json),
            (None, None) => None,
        }
    }
}

pub(super) fn compile(
    path: &Path,
    text: &str,
    raw: RawConfig,
    options: &super::LoadOptions,
) -> Result<Config, ConfigError> {
    let at = |span: std::ops::Range<usize>, message: String| {
        ConfigError::at_offset(path, text, span.start, message)
    };
    // At the key the message names (`prefix` + key path) under the table at `section`, when it can be found;
    // else at `fallback` (the table).
    let at_key =
        |section: &[Step], fallback: std::ops::Range<usize>, prefix: &str, message: String| {
            let tail = locate::leading_key_path(&message, prefix);
            let span = (!tail.is_empty())
                .then(|| {
                    let steps: Vec<Step> = section.iter().cloned().chain(tail).collect();
                    locate::key_span(text, &steps)
                })
                .flatten();
            at(span.unwrap_or(fallback), message)
        };
    let base = path.parent().unwrap_or(Path::new("."));

    // Listener.
    let listen = options
        .listen
        .clone()
        .unwrap_or_else(|| raw.listen.address.get_ref().clone());
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
        if options.upstream.is_some() {
            break;
        }
        if address
            .get_ref()
            .to_socket_addrs()
            .is_ok_and(|mut addrs| addrs.any(|a| a.port() == 0))
        {
            return Err(at(
                address.span(),
                format!(
                    "`{}`: port 0 is no upstream port; write the port the upstream listens on",
                    address.get_ref()
                ),
            ));
        }
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
    if let Some(upstream) = &options.upstream {
        addresses.push(upstream.clone());
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

    let body_timeout = raw.gateway.body_timeout.get_ref().0;
    if body_timeout.is_zero() {
        return Err(at(
            raw.gateway.body_timeout.span(),
            "`body_timeout` must be longer than zero".to_owned(),
        ));
    }

    let write_buffer = raw.listen.write_buffer.get_ref().0;
    if !(1..=MAX_WRITE_BUFFER).contains(&write_buffer) {
        return Err(at(
            raw.listen.write_buffer.span(),
            format!(
                "`write_buffer` must be between 1 byte and 1MiB (it is allocated for every client connection); got {write_buffer} bytes"
            ),
        ));
    }

    let client_idle_timeout = raw.listen.idle_timeout.get_ref().0;
    if client_idle_timeout < Duration::from_secs(1) || client_idle_timeout.subsec_nanos() != 0 {
        return Err(at(
            raw.listen.idle_timeout.span(),
            format!(
                "`idle_timeout` must be a whole number of seconds, at least 1s (pingora's keep-alive timeouts count seconds); got {}",
                humantime::format_duration(client_idle_timeout)
            ),
        ));
    }

    // Keys and shared data for the rules.
    let register_context = RegisterContext {
        hmac_key: load_hmac_key(&raw.pii, base, &at)?,
        divisions: None,
    };

    let mut files = Vec::new();
    let classifier = Arc::new(compile_categories(
        path,
        text,
        base,
        &raw.categories,
        &mut files,
    )?);
    if let Some(file) = &raw.pii.hmac_key_file {
        files.push(schema::resolve(base, file.get_ref()));
    }

    // Lookups: identity and approval sources.
    let scheme = if upstream.tls { "https" } else { "http" };
    let lookup_context = BuildContext {
        base_dir: base,
        upstream_base: format!("{scheme}://{}", upstream.addresses[0]),
        runtime: crate::runtime::background().clone(),
    };
    // A lookup section's error (`key: message`) at its key.
    let at_section_key = |section: &str, span: std::ops::Range<usize>, e: LookupConfigError| {
        match &e.in_file {
            // Inside a file the section names: at that file's line and column.
            Some((file, line, column)) => ConfigError::at_line(
                file,
                *line,
                *column,
                format!("{} (read through `{section}.{}`)", e.message, e.key),
            ),
            None => at_key(
                &[key(section)],
                span,
                &format!("{section}."),
                format!("{section}.{e}"),
            ),
        }
    };
    let identity = match &raw.identity {
        Some(spec) => Some(
            build_identity(spec.get_ref(), &lookup_context)
                .map_err(|e| at_section_key("identity", spec.span(), e))?,
        ),
        None => None,
    };
    let approval = match &raw.approval {
        Some(spec) => Some(
            build_approval(spec.get_ref(), &lookup_context)
                .map_err(|e| at_section_key("approval", spec.span(), e))?,
        ),
        None => None,
    };
    let category_names: Vec<&str> = classifier.categories().collect();
    if let (Some(registry), Some(spec)) = (&approval, &raw.approval) {
        let unknown: Vec<String> = registry
            .granted_categories()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| !category_names.contains(&c.as_str()))
            .collect();
        if !unknown.is_empty() {
            let span =
                locate::key_span(text, &[key("approval"), key("path")]).unwrap_or(spec.span());
            return Err(at(
                span,
                format!(
                    "approval: the list grants {unknown:?}, which no [categories] table defines (defined: {category_names:?}); a misspelt category approves nobody"
                ),
            ));
        }
    }

    // Routes.
    let mut routes = RouteTable::new();
    let mut route_names: std::collections::HashMap<String, usize> =
        std::collections::HashMap::new();
    for (index, route) in raw.routes.iter().enumerate() {
        let methods =
            compile_methods(route.methods.get_ref()).map_err(|m| at(route.methods.span(), m))?;
        let template = route.path.get_ref();
        let name = route
            .name
            .clone()
            .unwrap_or_else(|| format!("{} {}", route.methods.get_ref().join(","), template));
        let section = [key("route"), Step::Index(index)];
        // Names label metrics and audit lines: two routes with one name could not be told apart.
        // (Unnamed routes are named after their methods and path, which overlapping routes share: that
        // error is reported below, more precisely.)
        let explicit = route.name.is_some();
        if let Some(first) = route_names.insert(name.clone(), index).filter(|_| explicit) {
            let span = locate::key_span(text, &[key("route"), Step::Index(index), key("name")])
                .unwrap_or_else(|| route.path.span());
            return Err(at(
                span,
                format!(
                    "route name `{name}` is already used by route {} (routes are counted from 1)",
                    first + 1
                ),
            ));
        }
        let at_rule_key =
            |rule: &str, fallback: std::ops::Range<usize>, prefix: &str, message: String| {
                let mut steps = section.to_vec();
                steps.push(key(rule));
                at_key(&steps, fallback, prefix, message)
            };
        let action =
            compile_route_rules(route, &register_context, &category_names, &at, &at_rule_key)?;
        if let RouteAction::Enforce(rules) = &action {
            if rules.publish.is_some() && (identity.is_none() || approval.is_none()) {
                return Err(at(
                    route.path.span(),
                    "a `publish` route needs an [identity] and an [approval] section".to_owned(),
                ));
            }
            if rules.mark.is_some() && approval.is_none() {
                return Err(at(
                    route.path.span(),
                    "a `mark` route needs an [approval] section".to_owned(),
                ));
            }
        }
        routes
            .insert(methods, template, RouteRules { name, action })
            .map_err(|e| at(route.path.span(), e.to_string()))?;
    }

    if raw.server.upgrade_sock.as_os_str().is_empty() {
        let span = locate::key_span(text, &[key("server"), key("upgrade_sock")]).unwrap_or(0..0);
        return Err(at(
            span,
            "`server.upgrade_sock` must be a socket path (graceful upgrades hand the listeners over through it)"
                .to_owned(),
        ));
    }
    if raw.errors.code_field.is_empty() {
        let span = locate::key_span(text, &[key("errors"), key("code_field")]).unwrap_or(0..0);
        return Err(at(
            span,
            "`errors.code_field` must not be empty: the code is what clients act on".to_owned(),
        ));
    }
    // The whole policy: this file and every file it references (lexicons, models, lists), so that the hash
    // `check` prints and `/admin/policy` shows changes with any of them.
    let mut digest = Sha256::new();
    digest.update(text.as_bytes());
    for file in &files {
        digest.update(file.to_string_lossy().as_bytes());
        digest.update(std::fs::read(file).unwrap_or_default());
    }
    let policy = Policy {
        source: PolicySource {
            path: path.to_owned(),
            sha256: hex::encode(digest.finalize()),
            loaded_at: SystemTime::now(),
            files,
        },
        routes,
        default_action: raw.gateway.default_action,
        max_body: max_body as usize,
        body_timeout,
        method_override: raw.gateway.method_override,
        envelope: raw.errors,
        classifier,
        identity,
        approval,
    };
    let server = ServerSettings {
        listen,
        tls,
        h2c: raw.listen.h2c,
        write_buffer: write_buffer as usize,
        client_idle_timeout,
        upstream,
        threads: raw.server.threads,
        grace_period: raw.server.grace_period.0,
        upgrade_sock: schema::resolve(base, &raw.server.upgrade_sock),
        mark_exchange: raw.server.mark_exchange,
        logging: LoggingSettings {
            format: raw.logging.format,
            level: raw.logging.level,
            access_log: raw.logging.access_log,
        },
        admin: compile_admin(&raw.admin, options, base, &at)?,
        reload: ReloadSettings {
            watch: raw.reload.watch,
            interval: raw.reload.interval.0,
        },
        audit: compile_audit(&raw.audit, base, &at)?,
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
    categories: &[&str],
    at: &impl Fn(std::ops::Range<usize>, String) -> ConfigError,
    at_rule_key: &impl Fn(&str, std::ops::Range<usize>, &str, String) -> ConfigError,
) -> Result<RouteAction, ConfigError> {
    let register = match &route.register {
        Some(spec) => Some(
            RegisterRule::compile(spec.get_ref(), register_context)
                .map_err(|e| at_rule_key("register", spec.span(), "register.", e.to_string()))?,
        ),
        None => None,
    };
    let publish = match &route.publish {
        Some(spec) => {
            if let Some(register) = &route.register {
                return Err(at(
                    register.span(),
                    "a route cannot both `register` and `publish`; split it".to_owned(),
                ));
            }
            Some(
                PublishRule::compile(spec.get_ref(), categories)
                    .map_err(|e| at_rule_key("publish", spec.span(), "publish.", e.to_string()))?,
            )
        }
        None => None,
    };
    let mark = match &route.mark {
        Some(spec) => {
            let core_spec = spec.get_ref().clone().map_max_body(|size| size.0);
            let rule = MarkRule::compile(&core_spec)
                .map_err(|e| at_rule_key("mark", spec.span(), "mark: ", format!("mark: {e}")))?;
            if rule.header().is_some() && rule.path_param().is_none() {
                return Err(at(
                    spec.span(),
                    "mark: `header` needs `id_from_path`: response headers go out before the body names its accounts".to_owned(),
                ));
            }
            if let Some(param) = rule.path_param() {
                if !route.path.get_ref().contains(&format!("{{{param}}}")) {
                    return Err(at(
                        spec.span(),
                        format!("mark: `id_from_path = \"{param}\"` but the route path has no `{{{param}}}`"),
                    ));
                }
            }
            Some(rule)
        }
        None => None,
    };
    let has_rules = register.is_some() || publish.is_some() || mark.is_some();
    match route.action.as_ref() {
        Some(action) if has_rules => Err(at(
            action.span(),
            "a route with rules cannot also have an `action`; remove it".to_owned(),
        )),
        Some(action) => Ok(match action.get_ref() {
            Action::Deny => RouteAction::Deny,
            Action::Pass => RouteAction::Pass,
        }),
        None if has_rules => {
            let decode = match &route.decode {
                Some(d) if register.is_none() && publish.is_none() => {
                    return Err(at(
                        d.span(),
                        "`decode` only applies to routes with a `register` or `publish` rule"
                            .to_owned(),
                    ))
                }
                Some(d) => Some(DecodeLimits {
                    max_size: usize::try_from(d.get_ref().max_size.0).unwrap_or(usize::MAX),
                    max_ratio: d.get_ref().max_ratio.max(1),
                }),
                None => None,
            };
            let mut query_roots: Vec<String> = register
                .iter()
                .flat_map(RegisterRule::checked_roots)
                .chain(publish.iter().flat_map(PublishRule::checked_roots))
                .collect();
            query_roots.sort();
            query_roots.dedup();
            Ok(RouteAction::Enforce(Box::new(EnforcedRules {
                register,
                publish,
                mark,
                decode,
                query_roots,
            })))
        }
        None => Ok(RouteAction::Pass),
    }
}

/// Builds the classifier from `[categories.*]`, reading lexicon, model and domain files
/// relative to the config folder. Errors inside those files point into them.
fn compile_categories(
    path: &Path,
    text: &str,
    base: &Path,
    categories: &toml::Spanned<
        std::collections::BTreeMap<String, toml::Spanned<imgate_core::classify::CategorySpec>>,
    >,
    files: &mut Vec<PathBuf>,
) -> Result<Classifier, ConfigError> {
    let specs: Vec<(String, imgate_core::classify::CategorySpec)> = categories
        .get_ref()
        .iter()
        .map(|(name, spec)| (name.clone(), spec.get_ref().clone()))
        .collect();
    let mut read = |relative: &str| -> Result<String, String> {
        let file = schema::resolve(base, Path::new(relative));
        let text = super::error::read_utf8(&file).map_err(|e| e.located(&file));
        files.push(file);
        text
    };
    Classifier::build(&specs, &mut read).map_err(|e| {
        use imgate_core::classify::BuildError;
        let span_of = |category: &str| {
            categories
                .get_ref()
                .get(category)
                .map(|s| s.span())
                .unwrap_or_else(|| categories.span())
        };
        match e {
            BuildError::Syntax {
                file,
                line,
                column,
                message,
            } => ConfigError::at_line(
                &schema::resolve(base, Path::new(&file)),
                line,
                column,
                message,
            ),
            BuildError::Read {
                ref category,
                ref file,
                ..
            } => {
                // At the file name that cannot be read.
                let table = [key("categories"), key(category)];
                let span =
                    locate::string_span(text, &table, file).unwrap_or_else(|| span_of(category));
                ConfigError::at_offset(path, text, span.start, e.to_string())
            }
            BuildError::Invalid { ref category, .. }
            | BuildError::Automaton { ref category, .. } => {
                ConfigError::at_offset(path, text, span_of(category).start, e.to_string())
            }
        }
    })
}

/// A key step of a [`locate`] path.
fn key(name: &str) -> Step {
    Step::Key(name.to_owned())
}

fn compile_admin(
    admin: &schema::AdminSection,
    options: &super::LoadOptions,
    base: &Path,
    at: &impl Fn(std::ops::Range<usize>, String) -> ConfigError,
) -> Result<AdminSettings, ConfigError> {
    let address = options
        .admin_listen
        .clone()
        .unwrap_or_else(|| admin.address.get_ref().clone());
    let address = if address.is_empty() {
        None
    } else {
        if address.to_socket_addrs().is_err() {
            return Err(at(
                admin.address.span(),
                format!("`{address}` is not a valid admin address; write `HOST:PORT` or \"\" to turn it off"),
            ));
        }
        Some(address)
    };
    let token = match (&admin.token_file, &admin.token_env) {
        (Some(_), Some(env)) => {
            return Err(at(
                env.span(),
                "set either `token_file` or `token_env`, not both".to_owned(),
            ))
        }
        (Some(file), None) => {
            let path = schema::resolve(base, file.get_ref());
            let token = std::fs::read_to_string(&path).map_err(|e| {
                at(
                    file.span(),
                    format!("cannot read the admin token file `{}`: {e}", path.display()),
                )
            })?;
            Some(token.trim().to_owned())
        }
        (None, Some(env)) => Some(std::env::var(env.get_ref()).map_err(|_| {
            at(
                env.span(),
                format!("the environment variable `{}` is not set", env.get_ref()),
            )
        })?),
        (None, None) => None,
    };
    if token.as_ref().is_some_and(|t| t.len() < 16) {
        let span = admin
            .token_file
            .as_ref()
            .map(|f| f.span())
            .or_else(|| admin.token_env.as_ref().map(|e| e.span()))
            .unwrap_or(0..0);
        return Err(at(
            span,
            "the admin token must be at least 16 characters".to_owned(),
        ));
    }
    Ok(AdminSettings { address, token })
}

fn compile_audit(
    audit: &schema::AuditSection,
    base: &Path,
    at: &impl Fn(std::ops::Range<usize>, String) -> ConfigError,
) -> Result<AuditSettings, ConfigError> {
    let path = audit
        .path
        .as_ref()
        .map(|p| schema::resolve(base, p.get_ref()));
    if *audit.output.get_ref() == AuditOutput::File && path.is_none() {
        return Err(at(
            audit.output.span(),
            "`output = \"file\"` needs a `path` for the audit log".to_owned(),
        ));
    }
    Ok(AuditSettings {
        output: *audit.output.get_ref(),
        path,
        max_size: audit.max_size.0,
        keep: audit.keep,
    })
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
