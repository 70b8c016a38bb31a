//! Configuration: the TOML schema, its validation, and the compiled, immutable snapshot.
//!
//! `load` reads `imgate.toml`, checks every value (reporting `file:line:column`), and
//! returns the settings that need a restart (listeners, upstream pool) apart from the
//! [`Policy`], which is swapped atomically on reload.

mod compile;
pub mod error;
mod locate;
pub mod schema;
pub mod units;

pub use compile::{
    AdminSettings, AuditSettings, Config, DecodeLimits, EnforcedRules, LoggingSettings, Policy,
    PolicySource, ReloadSettings, RouteAction, RouteRules, ServerSettings, UpstreamSettings,
};
pub use error::ConfigError;

use std::path::Path;

/// Command-line settings that win over the file (applied before anything is built, so
/// lookups that default to the upstream see the overridden address).
#[derive(Debug, Default, Clone)]
pub struct LoadOptions {
    pub listen: Option<String>,
    pub upstream: Option<String>,
    pub admin_listen: Option<String>,
}

/// Reads, validates and compiles the configuration file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with(path, &LoadOptions::default())
}

/// Like [`load`], with command-line overrides.
pub fn load_with(path: &Path, options: &LoadOptions) -> Result<Config, ConfigError> {
    let text = error::read_utf8(path).map_err(|e| match e {
        error::ReadError::NotUtf8 { line, column, .. } => {
            ConfigError::at_line(path, line, column, e.to_string())
        }
        error::ReadError::Io(io) => {
            ConfigError::whole_file(path, format!("cannot read the configuration file: {io}"))
        }
    })?;
    load_from_str_with(path, &text, options)
}

/// Validates and compiles configuration `text`, as if read from `path` (which names the
/// file in errors and anchors relative paths).
pub fn load_from_str(path: &Path, text: &str) -> Result<Config, ConfigError> {
    load_from_str_with(path, text, &LoadOptions::default())
}

/// Like [`load_from_str`], with command-line overrides.
pub fn load_from_str_with(
    path: &Path,
    text: &str,
    options: &LoadOptions,
) -> Result<Config, ConfigError> {
    let raw: schema::RawConfig = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        ConfigError::at_offset(path, text, offset, e.message().trim_end().to_owned())
    })?;
    compile::compile(path, text, raw, options)
}
