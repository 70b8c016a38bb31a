//! Lookups: the only I/O besides proxying — who is the caller, and may that account
//! publish in a restricted category.
//!
//! Each question sits behind one small trait ([`IdentitySource`], [`ApprovalRegistry`]),
//! with implementations chosen per deployment in `imgate.toml` (`[identity]` and
//! `[approval]`, deserialised as [`IdentitySpec`] and [`ApprovalSpec`] and turned into
//! sources by [`build_identity`] and [`build_approval`]).
//!
//! Shared rules:
//! - answers from remote services are cached in `moka` (TTL, size bound, request
//!   coalescing: concurrent misses for one key make one upstream request);
//! - every source says what happens when it is down: serve a stale answer for a bounded
//!   time, then fail closed (503) — never fail open;
//! - background work (file polling, list sync) runs on [`BuildContext::runtime`] and stops
//!   when the source is dropped, so a hot reload that builds new sources leaks nothing;
//! - credentials are never logged and never kept as cache keys (SHA-256 of them is);
//! - every source counts what it does in atomics ([`LookupStats`]) for the metrics layer.

pub mod approval;
mod cache;
mod duration;
mod http_client;
pub mod identity;
mod stats;
mod task;

pub use approval::{Approval, ApprovalError, ApprovalRegistry, ApprovalSpec, OnUnavailable};
pub use identity::{
    Identity, IdentityError, IdentityErrorKind, IdentitySource, IdentitySpec, JwtAlgorithm,
};
pub use stats::LookupStats;

use std::path::Path;
use std::sync::Arc;

/// What building a source needs from the surrounding configuration and process.
#[derive(Debug, Clone)]
pub struct BuildContext<'a> {
    /// The folder of the configuration file: relative paths in specs resolve against it.
    pub base_dir: &'a Path,
    /// The upstream's base URL, e.g. `"http://127.0.0.1:8081"`: URLs in specs that start
    /// with `/` are relative to it, so the shipped config need not repeat the address.
    pub upstream_base: String,
    /// Where background tasks (file polling, list sync) run. Request-path lookups run on
    /// whatever runtime awaits them.
    pub runtime: tokio::runtime::Handle,
}

impl BuildContext<'_> {
    /// `path` as written in the config, resolved against the config file's folder.
    pub fn resolve_path(&self, path: &Path) -> std::path::PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.base_dir.join(path)
        }
    }
}

/// A spec that deserialised but cannot be built (bad URL, unreadable key file, ...).
///
/// `key` names the offending key relative to the spec's table (e.g. `"keys[0].file"`);
/// the config layer reports it at the table's `file:line:column`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct LookupConfigError {
    pub key: String,
    pub message: String,
    /// When the problem is inside a file the spec names (a publishers list): that file, line and column,
    /// which the config layer reports first.
    pub in_file: Option<(std::path::PathBuf, usize, usize)>,
}

impl LookupConfigError {
    pub(crate) fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        LookupConfigError {
            key: key.into(),
            message: message.into(),
            in_file: None,
        }
    }
}

/// Builds the identity source a spec describes.
pub fn build_identity(
    spec: &IdentitySpec,
    ctx: &BuildContext,
) -> Result<Arc<dyn IdentitySource>, LookupConfigError> {
    identity::build(spec, ctx)
}

/// Builds the approval registry a spec describes. Sources with background work (file
/// polling, list sync) start it on `ctx.runtime` before returning.
pub fn build_approval(
    spec: &ApprovalSpec,
    ctx: &BuildContext,
) -> Result<Arc<dyn ApprovalRegistry>, LookupConfigError> {
    approval::build(spec, ctx)
}
